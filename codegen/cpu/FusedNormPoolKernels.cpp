//===- FusedNormPoolKernels.cpp - emitters of batchnorm + relu + max-pool -===//
//
// The CpuKernels of dl.batchnorm_relu_maxpool_train and its gradient
// (ir/DLFusedNormPoolOps.td; templates in kernels/FusedNormPool.h):
//
//   batchnorm_relu_maxpool_train(x, gamma, beta) -> (y, mean, var)
//   batchnorm_relu_maxpool_train_grad(x, gamma, beta, mean, var, dy)
//       -> (dx, dgamma, dbeta)
//
// Both take a dlk::NormPool2dDims (the pool's geometry as for dl.maxpool2d,
// and epsilon) and their workspace (normPoolWorkspaceBytes,
// normPoolGradWorkspaceBytes at the program's maxBatch: the gradient keeps a
// winner code per pooled element there). dx may overwrite x (the kernel
// reads each element of x before writing its dx). A call whose operands do not
// fit, or whose windows overlap, emits malformedCall.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpu/CpuKernel.h"

#include "codegen/cpu/kernels/FusedNormPool.h"
#include "ir/ShapeRules.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace dlc::codegen {

namespace {

bool isGradient(const KernelCall &call) {
  return call.op == "batchnorm_relu_maxpool_train_grad";
}

/// A batched float [H, W, C] tensor of positive dimensions.
bool isImage(const TensorInfo *type) {
  if (!type || !type->batched || type->shape.size() != 3 ||
      type->elementType == ElementType::I32)
    return false;
  for (int64_t dim : type->shape)
    if (dim <= 0)
      return false;
  return true;
}

/// The pooled tensor of a call: the forward's y, the gradient's dy.
const TensorInfo *pooledOf(const KernelProgram &program,
                           const KernelCall &call) {
  if (isGradient(call))
    return call.operands.size() == 6
               ? kernelValueType(program, call.operands[5])
               : nullptr;
  return call.results.empty() ? nullptr
                              : kernelValueType(program, call.results[0]);
}

/// Checks the call's operands, results and attributes; fills `dims`, or
/// says what is wrong.
std::string checkCall(const KernelProgram &program, const KernelCall &call,
                      dlk::NormPool2dDims &dims) {
  const bool grad = isGradient(call);
  const size_t operands = grad ? 6 : 3;
  if (call.operands.size() != operands || call.results.size() != 3)
    return "expects " + std::to_string(operands) + " operands and 3 results";
  const TensorInfo *x = kernelValueType(program, call.operands[0]);
  const TensorInfo *y = pooledOf(program, call);
  if (!isImage(x) || !isImage(y) || y->elementType != x->elementType ||
      y->shape[2] != x->shape[2])
    return "expects a float x[H, W, C] and a pooled tensor of its channels";
  const int64_t channels = x->shape[2];
  for (size_t i = 1; i < (grad ? 5u : 3u); ++i) {
    const TensorInfo *param = kernelValueType(program, call.operands[i]);
    if (!param || param->batched || param->shape != Shape{channels} ||
        param->elementType != x->elementType)
      return "expects per-channel operands of shape [C]";
  }
  double epsilon = getFloat(call.attrs, "epsilon", -1.0);
  if (!(epsilon > 0) || !std::isfinite(epsilon))
    return "expects a finite epsilon > 0";
  Shape pool = getInts(call.attrs, "pool_size", {});
  Shape strides = getInts(call.attrs, "strides", pool);
  Shape pad = getInts(call.attrs, "pad", {0, 0, 0, 0});
  if (pool.size() != 2 || strides.size() != 2 || pad.size() != 4)
    return "has malformed pool_size, strides or pad";
  for (size_t i = 0; i < 2; ++i) {
    if (pool[i] <= 0 || pool[i] > 65535) // window cells fit in int32_t
      return "has a malformed pool_size";
    if (strides[i] < pool[i])
      return "expects windows that do not overlap (strides >= pool_size)";
  }
  for (int64_t v : pad)
    if (v < 0)
      return "has a malformed pad";
  // The pooled tensor is dl.maxpool2d's result for x.
  TensorInfo perExample;
  perExample.shape = x->shape;
  perExample.elementType = x->elementType;
  ShapeResult pooled = inferShapes(
      "maxpool2d", {perExample},
      Attrs{{"pool_size", pool}, {"strides", strides}, {"pad", pad}});
  if (!pooled.ok() || pooled.results.size() != 1 ||
      pooled.results.front().shape != y->shape)
    return "expects the pooled tensor of dl.maxpool2d's shape for x";
  dims = dlk::NormPool2dDims{dlk::Pool2dDims{x->shape[0], x->shape[1], channels,
                                             y->shape[0], y->shape[1], pool[0],
                                             pool[1], strides[0], strides[1],
                                             pad[0], pad[2]},
                             epsilon};
  return "";
}

/// `dims` as a C++ initializer: "{{/*h=*/28, ...}, 0.001}".
std::string initializer(const dlk::NormPool2dDims &dims) {
  const dlk::Pool2dDims &p = dims.pool;
  const std::pair<const char *, int64_t> fields[] = {{"h", p.h},
                                                     {"w", p.w},
                                                     {"c", p.c},
                                                     {"oh", p.oh},
                                                     {"ow", p.ow},
                                                     {"ph", p.ph},
                                                     {"pw", p.pw},
                                                     {"sh", p.sh},
                                                     {"sw", p.sw},
                                                     {"padTop", p.padTop},
                                                     {"padLeft", p.padLeft}};
  std::string init = "{{";
  for (const auto &[name, value] : fields) {
    if (init.size() > 2)
      init += ", ";
    init += std::string("/*") + name + "=*/" + std::to_string(value);
  }
  return init + "}, " + cppDoubleLiteral(dims.epsilon) + "}";
}

CpuKernelCode emitFusedNormPool(const CpuKernelArgs &args) {
  dlk::NormPool2dDims dims{};
  std::string error = checkCall(args.program, args.call, dims);
  if (error.empty() && (args.operands.size() != args.call.operands.size() ||
                        args.results.size() != args.call.results.size()))
    error = "expects a pointer per operand and result";
  if (!error.empty())
    return malformedCall(args, error);
  CpuKernelCode code;
  code.statement = dimsKernelCall(args, args.operands);
  if (code.statement.empty())
    return code; // nobody reads it: no call
  code.declarations = "static constexpr dlk::NormPool2dDims " + args.id +
                      "_dims" + initializer(dims) + ";\n";
  return code;
}

int64_t fusedNormPoolWorkspace(const KernelProgram &program,
                               const KernelCall &call, int elementBytes) {
  dlk::NormPool2dDims dims{};
  if (!checkCall(program, call, dims).empty() || elementBytes <= 0)
    return 0; // the emitter reports it
  if (!isGradient(call))
    return dlk::normPoolWorkspaceBytes(dims.pool.c);
  // The gradient's winner codes: one per pooled element at maxBatch, as
  // many as dy's elements, so this fits when dy does; a size past int64
  // makes the planner reject the call.
  const dlk::Pool2dDims &p = dims.pool;
  int64_t codes = 0;
  if (program.maxBatch <= 0 ||
      __builtin_mul_overflow(program.maxBatch, p.oh, &codes) ||
      __builtin_mul_overflow(codes, p.ow, &codes) ||
      __builtin_mul_overflow(codes, p.c, &codes) ||
      codes > std::numeric_limits<int64_t>::max() / 16)
    return std::numeric_limits<int64_t>::max();
  return dlk::normPoolGradWorkspaceBytes(p, elementBytes, program.maxBatch);
}

/// A call that computes nothing reads nothing; the forward without y reads
/// only x (the statistics).
bool readsOperand(const KernelCall &call, size_t operand,
                  const std::vector<bool> &resultPassed) {
  bool any = false;
  for (bool passed : resultPassed)
    any = any || passed;
  if (!any)
    return false;
  if (isGradient(call) || operand == 0)
    return true;
  return !resultPassed.empty() && resultPassed[0];
}

} // namespace

void registerFusedNormPoolKernels(CpuKernelRegistry &registry) {
  CpuKernel kernel;
  kernel.emit = emitFusedNormPool;
  kernel.workspaceBytes = fusedNormPoolWorkspace;
  kernel.readsOperand = readsOperand;
  registry["batchnorm_relu_maxpool_train"] = kernel;
  kernel.inPlaceOperand = 0; // dx over x
  registry["batchnorm_relu_maxpool_train_grad"] = kernel;
}

} // namespace dlc::codegen
