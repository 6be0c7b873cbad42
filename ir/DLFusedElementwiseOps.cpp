//===- DLFusedElementwiseOps.cpp - verifier of dl.fused_elementwise -------===//
//
// Checks the structure the kernel-level form relies on: one block whose
// arguments match the operands, ops of the dl dialect only (no nested
// regions), a yield of the result types, and every body value a tensor of
// the chain's shape or 0-d. Which ops a fused loop can compute is the CPU
// emitter's table (codegen/cpu/FusedElementwiseKernels.h), checked by the
// fusion pass that builds these ops and by the emitter.
//
//===----------------------------------------------------------------------===//
#include "ir/DLOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"

using namespace mlir;

namespace dlc {
namespace dl {

/// Whether `type` is a 0-d tensor.
static bool isZeroD(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.getRank() == 0;
}

LogicalResult FusedElementwiseOp::verify() {
  Block &block = getBody().front();
  if (block.getNumArguments() != getInputs().size())
    return emitOpError() << "has " << block.getNumArguments()
                         << " block arguments for " << getInputs().size()
                         << " operands";
  for (auto [argument, input] : llvm::zip(block.getArguments(), getInputs()))
    if (argument.getType() != input.getType())
      return emitOpError() << "block argument #" << argument.getArgNumber()
                           << " has type " << argument.getType()
                           << " but its operand has type " << input.getType();
  auto yield = dyn_cast<ElementwiseYieldOp>(block.getTerminator());
  if (!yield)
    return emitOpError() << "must end with dl.elementwise_yield";
  if (yield.getValues().getTypes() != getOutputs().getTypes())
    return emitOpError() << "yields types that differ from its results";
  // The chain's shape: the first tensor value of the body that is not 0-d.
  Type shape;
  auto check = [&](Value value) -> LogicalResult {
    if (isZeroD(value.getType()))
      return success();
    auto tensor = dyn_cast<RankedTensorType>(value.getType());
    if (!tensor)
      return emitOpError() << "holds a value of type " << value.getType()
                           << ", not a tensor";
    if (!shape)
      shape = RankedTensorType::get(tensor.getShape(), tensor.getElementType());
    if (tensor.getShape() != cast<RankedTensorType>(shape).getShape())
      return emitOpError() << "holds values of shapes " << shape << " and "
                           << value.getType()
                           << "; a fused elementwise chain has one shape";
    return success();
  };
  for (BlockArgument argument : block.getArguments())
    if (failed(check(argument)))
      return failure();
  bool computes = false;
  for (Operation &op : block.without_terminator()) {
    if (op.getDialect() != (*this)->getDialect() || op.getNumRegions() != 0)
      return emitOpError() << "may hold only dl ops without regions, not '"
                           << op.getName() << "'";
    if (!isa<ParamOp>(op))
      computes = true;
    for (Value result : op.getResults())
      if (failed(check(result)))
        return failure();
  }
  if (!computes)
    return emitOpError() << "holds no op to compute";
  return success();
}

} // namespace dl
} // namespace dlc
