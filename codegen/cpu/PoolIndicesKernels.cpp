//===- PoolIndicesKernels.cpp - max pooling with saved indices ------------===//
//
// The CPU kernels of dl.maxpool2d_indices and dl.maxpool2d_grad_indices
// (ir/DLMemoryOps.td; put in place by -dl-save-pool-indices): the templates
// dlk::maxpool2d_indices and dlk::maxpool2d_grad_indices of
// kernels/Pooling.h, with dlk::Pool2dDims built from the shapes as for
// dl.maxpool2d.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/CpuKernel.h"

#include <cstdint>
#include <limits>
#include <string>

namespace dlc::codegen {
namespace {

/// A batched [H, W, C] tensor of non-negative dimensions.
bool isImage(const TensorInfo *type) {
  if (!type || !type->batched || type->shape.size() != 3)
    return false;
  for (int64_t dim : type->shape)
    if (dim < 0)
      return false;
  return true;
}

/// The dlk::Pool2dDims initializer for input `x` and output `y` shapes, or
/// an error.
std::string poolDims(const Shape &x, const Shape &y, const Attrs &attrs,
                     std::string &init) {
  if (y[2] != x[2])
    return "expects input and output of equal channels";
  Shape pool = getInts(attrs, "pool_size", {1, 1});
  Shape strides = getInts(attrs, "strides", pool);
  Shape pad = getInts(attrs, "pad", {0, 0, 0, 0});
  if (pool.size() != 2 || strides.size() != 2 || pad.size() != 4)
    return "has malformed pool_size, strides or pad";
  for (int64_t v : pool)
    if (v <= 0 || v > 65535) // window positions fit in int32_t
      return "has a malformed pool_size";
  for (int64_t v : strides)
    if (v <= 0)
      return "has malformed strides";
  for (int64_t v : pad)
    if (v < 0)
      return "has a malformed pad";
  const std::pair<const char *, int64_t> fields[] = {
      {"h", x[0]},        {"w", x[1]},        {"c", x[2]},
      {"oh", y[0]},       {"ow", y[1]},       {"ph", pool[0]},
      {"pw", pool[1]},    {"sh", strides[0]}, {"sw", strides[1]},
      {"padTop", pad[0]}, {"padLeft", pad[2]}};
  init = "{";
  for (const auto &[name, value] : fields) {
    if (init.size() > 1)
      init += ", ";
    init += std::string("/*") + name + "=*/" + std::to_string(value);
  }
  init += "}";
  return "";
}

/// maxpool2d_indices(x) -> (y, indices) and
/// maxpool2d_grad_indices(indices, dy) -> dx.
CpuKernelCode emitPoolIndices(const CpuKernelArgs &args) {
  const KernelCall &call = args.call;
  const bool grad = call.op == "maxpool2d_grad_indices";
  const size_t operands = grad ? 2 : 1, results = grad ? 1 : 2;
  if (call.operands.size() != operands || call.results.size() != results ||
      args.operands.size() != operands || args.results.size() != results)
    return malformedCall(args, "expects " + std::to_string(operands) +
                                   " operand(s) and " +
                                   std::to_string(results) + " result(s)");
  const TensorInfo *x =
      kernelValueType(args.program, grad ? call.results[0] : call.operands[0]);
  const TensorInfo *y =
      kernelValueType(args.program, grad ? call.operands[1] : call.results[0]);
  const TensorInfo *indices =
      kernelValueType(args.program, grad ? call.operands[0] : call.results[1]);
  if (!isImage(x) || !isImage(y) || !isImage(indices) ||
      x->elementType == ElementType::I32 || y->elementType != x->elementType ||
      indices->elementType != ElementType::I32 || indices->shape != y->shape)
    return malformedCall(args, "expects float x and y of shape [H, W, C] "
                               "and i32 indices of y's shape");
  std::string init;
  std::string error = poolDims(x->shape, y->shape, call.attrs, init);
  if (!error.empty())
    return malformedCall(args, error);
  CpuKernelCode code;
  const std::string dims = args.id + "_dims";
  code.declarations = "static constexpr dlk::Pool2dDims " + dims + init + ";\n";
  code.statement = "dlk::" + call.op + "<T>(n, " + dims + ", " +
                   args.operands[0] + ", " +
                   (grad ? args.operands[1] : args.results[0]) + ", " +
                   (grad ? args.results[0] : args.results[1]) + ");";
  return code;
}

} // namespace

void registerPoolIndicesKernels(CpuKernelRegistry &registry) {
  CpuKernel kernel;
  kernel.emit = emitPoolIndices;
  registry["maxpool2d_indices"] = kernel;
  registry["maxpool2d_grad_indices"] = kernel;
}

} // namespace dlc::codegen
