//===- FusedNormAddKernels.cpp - emitters of batchnorm + add + relu -------===//
//
// The CpuKernels of the residual-block tail ops (ir/DLFusedNormAddOps.td;
// templates in kernels/FusedNormAdd.h):
//
//   batchnorm_add_relu_train(x, gamma, beta, r) -> (a, mean, var)
//   batchnorm_add_batchnorm_relu_train(x, gamma, beta, x2, gamma2, beta2)
//       -> (a, mean, var, mean2, var2)
//   batchnorm_add_relu_train_grad(x, gamma, beta, mean, var, a, da...)
//       -> (dx, dgamma, dbeta, dr)
//   batchnorm_add_batchnorm_relu_train_grad(x, gamma, beta, mean, var,
//       x2, gamma2, beta2, mean2, var2, a, da...)
//       -> (dx, dgamma, dbeta, dx2, dgamma2, dbeta2)
//
// Each takes a dlk::NormAddDims (rows per example, channels, the epsilons,
// the number of output gradients) and fusedNormAddWorkspaceBytes(channels)
// of scratch. The output gradients go through a local pointer array. a may
// overwrite x, dx may overwrite the first output gradient (each element is
// read before it is written). A call whose operands do not fit emits
// malformedCall.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpu/CpuKernel.h"

#include "codegen/cpu/kernels/FusedNormAdd.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace dlc::codegen {

namespace {

/// One op's operand layout ('x': x's shape, 'c': [C]); `variadicGrads`:
/// one or more output gradients of x's shape follow.
struct NormAddLayout {
  const char *operands;
  bool variadicGrads;
  size_t results;
  bool twoEpsilons;
};

/// The layout of `op`; false for an op this file does not know.
bool layoutOf(const std::string &op, NormAddLayout &layout) {
  if (op == "batchnorm_add_relu_train")
    layout = {"xccx", false, 3, false};
  else if (op == "batchnorm_add_batchnorm_relu_train")
    layout = {"xccxcc", false, 5, true};
  else if (op == "batchnorm_add_relu_train_grad")
    layout = {"xccccx", true, 4, false};
  else if (op == "batchnorm_add_batchnorm_relu_train_grad")
    layout = {"xccccxccccx", true, 6, true};
  else
    return false;
  return true;
}

/// Checks the call's operand and result counts and shapes; fills the
/// per-example rows, channels and number of output gradients, or says
/// what is wrong.
bool checkShapes(const CpuKernelArgs &args, const NormAddLayout &layout,
                 int64_t &rows, int64_t &channels, int64_t &gradients,
                 std::string &why) {
  const KernelCall &call = args.call;
  const size_t fixed = std::strlen(layout.operands);
  const size_t operands = call.operands.size();
  if ((layout.variadicGrads ? operands < fixed + 1 : operands != fixed) ||
      args.operands.size() != operands ||
      call.results.size() != layout.results ||
      args.results.size() != layout.results) {
    why = "expects " + std::to_string(fixed) +
          (layout.variadicGrads ? "+ operands and " : " operands and ") +
          std::to_string(layout.results) + " results";
    return false;
  }
  gradients = static_cast<int64_t>(operands - fixed);
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
  for (size_t i = 1; i < operands; ++i) {
    const TensorInfo *operand = kernelValueType(args.program, call.operands[i]);
    bool perChannel = i < fixed && layout.operands[i] == 'c';
    if (!operand || operand->elementType != x->elementType ||
        (perChannel ? operand->shape != Shape{channels} || operand->batched
                    : operand->shape != x->shape || !operand->batched)) {
      why = perChannel ? "expects per-channel operands of shape [C]"
                       : "expects per-example operands of x's shape";
      return false;
    }
  }
  return true;
}

/// The attribute `name` if finite and > 0, else -1.
double epsilonAttr(const KernelCall &call, const char *name) {
  double epsilon = getFloat(call.attrs, name, -1.0);
  return epsilon > 0 && std::isfinite(epsilon) ? epsilon : -1.0;
}

CpuKernelCode emitFusedNormAdd(const CpuKernelArgs &args) {
  NormAddLayout layout;
  if (!layoutOf(args.call.op, layout))
    return malformedCall(args, "not a batchnorm + add kernel");
  int64_t rows = 0, channels = 0, gradients = 0;
  std::string why;
  if (!checkShapes(args, layout, rows, channels, gradients, why))
    return malformedCall(args, why);
  double epsilon = epsilonAttr(args.call, "epsilon");
  double epsilon2 =
      layout.twoEpsilons ? epsilonAttr(args.call, "epsilon2") : epsilon;
  if (epsilon < 0 || epsilon2 < 0)
    return malformedCall(args, "expects finite epsilons > 0");
  // The fixed operands, then (variadic form) the output gradients' array.
  const size_t fixed = std::strlen(layout.operands);
  std::vector<std::string> pointers(args.operands.begin(),
                                    args.operands.begin() + fixed);
  if (layout.variadicGrads)
    pointers.push_back(args.id + "_da");
  CpuKernelCode code;
  std::string call = dimsKernelCall(args, pointers);
  if (call.empty())
    return code; // nobody reads it: no call
  code.declarations =
      "static constexpr dlk::NormAddDims " + args.id + "_dims{" +
      std::to_string(rows) + ", " + std::to_string(channels) + ", " +
      cppDoubleLiteral(epsilon) + ", " + cppDoubleLiteral(epsilon2) + ", " +
      std::to_string(layout.variadicGrads ? gradients : 0) + "};\n";
  if (!layout.variadicGrads) {
    code.statement = call;
    return code;
  }
  std::string gradientList;
  for (size_t i = fixed; i < args.operands.size(); ++i)
    gradientList += (i > fixed ? ", " : "") + args.operands[i];
  code.statement = "{\n  const T *const " + args.id + "_da[] = {" +
                   gradientList + "};\n  " + call + "\n}";
  return code;
}

int64_t fusedNormAddWorkspace(const KernelProgram &program,
                              const KernelCall &call, int) {
  int64_t channels = firstOperandChannels(program, call);
  return channels > 0 ? dlk::fusedNormAddWorkspaceBytes(channels) : 0;
}

} // namespace

void registerFusedNormAddKernels(CpuKernelRegistry &registry) {
  CpuKernel kernel;
  kernel.emit = emitFusedNormAdd;
  kernel.workspaceBytes = fusedNormAddWorkspace;
  kernel.inPlaceOperand = 0; // a over x
  registry["batchnorm_add_relu_train"] = kernel;
  registry["batchnorm_add_batchnorm_relu_train"] = kernel;
  kernel.inPlaceOperand = 6; // dx over the first output gradient
  registry["batchnorm_add_relu_train_grad"] = kernel;
  kernel.inPlaceOperand = 11; // dx over the first output gradient
  registry["batchnorm_add_batchnorm_relu_train_grad"] = kernel;
}

} // namespace dlc::codegen
