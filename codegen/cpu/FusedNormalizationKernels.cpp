//===- FusedNormalizationKernels.cpp - emitters of fused batchnorm + relu -===//
//
// The CpuKernels of dl.batchnorm_relu_train, dl.batchnorm_relu_apply and
// dl.batchnorm_relu_train_grad (ir/DLFusedNormOps.td; templates in
// kernels/FusedNormalization.h):
//
//   batchnorm_relu_train(x, gamma, beta) -> (y, mean, var)
//   batchnorm_relu_apply(x, gamma, beta, mean, var) -> y
//   batchnorm_relu_train_grad(x, gamma, beta, mean, var, dy)
//       -> (dx, dgamma, dbeta)
//
// Both take Normalization.h's descriptor (rows per example, channels,
// epsilon) and normalizationWorkspaceBytes(channels) of scratch. y may
// overwrite x (in both forwards), dx may overwrite dy (each element is read
// before it is written). A call whose operands do not fit emits malformedCall.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpu/CpuKernel.h"

#include "codegen/cpu/kernels/FusedNormalization.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace dlc::codegen {

namespace {

/// The operands and results of one fused op.
struct FusedNormArity {
  size_t operands;
  size_t results;
};

FusedNormArity arityOf(const std::string &op) {
  if (op == "batchnorm_relu_train_grad")
    return {6, 3};
  if (op == "batchnorm_relu_apply")
    return {5, 1};
  return {3, 3};
}

/// Checks the call's shapes; fills the per-example rows and channels, or
/// says what is wrong.
bool checkShapes(const CpuKernelArgs &args, int64_t &rows, int64_t &channels,
                 std::string &why) {
  const KernelCall &call = args.call;
  FusedNormArity arity = arityOf(call.op);
  if (call.operands.size() != arity.operands ||
      args.operands.size() != arity.operands ||
      call.results.size() != arity.results ||
      args.results.size() != arity.results) {
    why = "expects " + std::to_string(arity.operands) + " operands and " +
          std::to_string(arity.results) + " results";
    return false;
  }
  const TensorInfo *x = kernelValueType(args.program, call.operands[0]);
  channels = firstOperandChannels(args.program, call);
  int64_t count = x ? checkedElementCount(x->shape) : -1;
  if (!x || !x->batched || channels <= 0 || count <= 0 ||
      x->elementType == ElementType::I32) {
    why = "expects a batched float x[..., C]";
    return false;
  }
  for (int64_t dim : x->shape)
    if (dim <= 0) {
      why = "expects positive dimensions";
      return false;
    }
  rows = count / channels;
  // gamma, beta (and mean, var for the gradient) are [C]; dy is x's type.
  for (size_t i = 1; i < arity.operands; ++i) {
    const TensorInfo *operand = kernelValueType(args.program, call.operands[i]);
    bool perExample = i == 5;
    if (!operand || operand->elementType != x->elementType ||
        (perExample ? operand->shape != x->shape || !operand->batched
                    : operand->shape != Shape{channels} || operand->batched)) {
      why = perExample ? "expects dy of x's shape"
                       : "expects per-channel operands of shape [C]";
      return false;
    }
  }
  return true;
}

CpuKernelCode emitFusedNormalization(const CpuKernelArgs &args) {
  int64_t rows = 0, channels = 0;
  std::string why;
  if (!checkShapes(args, rows, channels, why))
    return malformedCall(args, why);
  double epsilon = getFloat(args.call.attrs, "epsilon", -1.0);
  if (!(epsilon > 0) || !std::isfinite(epsilon))
    return malformedCall(args, "expects a finite epsilon > 0");
  CpuKernelCode code;
  code.statement = dimsKernelCall(args, args.operands);
  if (code.statement.empty())
    return code; // nobody reads it: no call
  code.declarations = "static constexpr dlk::NormalizationDims " + args.id +
                      "_dims{" + std::to_string(rows) + ", " +
                      std::to_string(channels) + ", " +
                      cppDoubleLiteral(epsilon) + "};\n";
  return code;
}

int64_t fusedNormalizationWorkspace(const KernelProgram &program,
                                    const KernelCall &call, int) {
  int64_t channels = firstOperandChannels(program, call);
  return channels > 0 ? dlk::normalizationWorkspaceBytes(channels) : 0;
}

} // namespace

void registerFusedNormalizationKernels(CpuKernelRegistry &registry) {
  CpuKernel kernel;
  kernel.emit = emitFusedNormalization;
  kernel.workspaceBytes = fusedNormalizationWorkspace;
  kernel.inPlaceOperand = 0; // y over x
  registry["batchnorm_relu_train"] = kernel;
  registry["batchnorm_relu_apply"] = kernel;
  kernel.inPlaceOperand = 5; // dx over dy
  registry["batchnorm_relu_train_grad"] = kernel;
}

} // namespace dlc::codegen
