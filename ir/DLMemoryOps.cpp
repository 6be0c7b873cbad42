//===- DLMemoryOps.cpp - types of the memory-saving training ops ----------===//
//
// Type inference and verifiers of dl.maxpool2d_indices and
// dl.maxpool2d_grad_indices (ir/DLMemoryOps.td). Both follow dl.maxpool2d's
// shape rule (ir/ShapeRules.cpp): the forward's output is maxpool2d's, its
// indices the same shape in i32; the gradient's result is a type x whose
// maxpool2d is dy's type, with indices of dy's shape in i32.
//
//===----------------------------------------------------------------------===//
#include "ir/DLOps.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"

#include <string>

using namespace mlir;

namespace dlc {
namespace dl {

/// maxpool2d's operand layout: one data input, no parameters.
static constexpr OperandLayout kPoolLayout{1, 0, false};

/// "tensor<?x4xf32>"
static std::string typeText(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "'" << type << "'";
  return text;
}

/// `type`'s shape with i32 elements, or null when it is not a ranked
/// tensor.
static Type indicesTypeOf(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return Type();
  return RankedTensorType::get(tensor.getShape(),
                               IntegerType::get(type.getContext(), 32));
}

/// dl.maxpool2d's result type for `x` and `attributes`; errors go to
/// `location` when given.
static LogicalResult poolType(std::optional<Location> location, Value x,
                              DictionaryAttr attributes, Type &result) {
  SmallVector<Type> types;
  if (failed(inferShapeRuleTypes("maxpool2d", kPoolLayout, location,
                                 ValueRange(x), attributes, types)) ||
      types.size() != 1)
    return failure();
  result = types.front();
  return success();
}

LogicalResult MaxPool2DIndicesOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties, RegionRange,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  if (operands.size() != 1) {
    if (location)
      mlir::emitError(*location)
          << "'" << getOperationName() << "' op expects 1 operand, got "
          << operands.size();
    return failure();
  }
  Type output;
  if (failed(poolType(location, operands.front(), attributes, output)))
    return failure();
  inferredReturnTypes.push_back(output);
  inferredReturnTypes.push_back(indicesTypeOf(output));
  return success();
}

LogicalResult MaxPool2DIndicesOp::verify() {
  Type output;
  if (failed(poolType(getLoc(), getX(), (*this)->getAttrDictionary(), output)))
    return emitOpError("does not fit dl.maxpool2d's shape rule");
  if (getOutput().getType() != output ||
      getIndices().getType() != indicesTypeOf(output))
    return emitOpError("expects results ")
           << typeText(output) << " and " << typeText(indicesTypeOf(output))
           << ", got " << typeText(getOutput().getType()) << " and "
           << typeText(getIndices().getType());
  return success();
}

LogicalResult MaxPool2DGradIndicesOp::verify() {
  Type dy = getOutputGrad().getType();
  auto dyTensor = dyn_cast<RankedTensorType>(dy);
  if (!dyTensor || !isa<FloatType>(dyTensor.getElementType()))
    return emitOpError("expects a float output_grad, got ") << typeText(dy);
  if (getIndices().getType() != indicesTypeOf(dy))
    return emitOpError("expects indices of type ")
           << typeText(indicesTypeOf(dy)) << ", got "
           << typeText(getIndices().getType());
  auto dx = dyn_cast<RankedTensorType>(getXGrad().getType());
  if (!dx || dx.getElementType() != dyTensor.getElementType())
    return emitOpError("expects a result of output_grad's element type, got ")
           << typeText(getXGrad().getType());
  // The result is x's type: pooling it must give dy's type.
  Type pooled;
  if (failed(
          poolType(getLoc(), getXGrad(), (*this)->getAttrDictionary(), pooled)))
    return emitOpError("has a result that does not fit dl.maxpool2d's shape "
                       "rule");
  if (pooled != dy)
    return emitOpError("expects output_grad of type ")
           << typeText(pooled) << " (the pooled result type), got "
           << typeText(dy);
  return success();
}

} // namespace dl
} // namespace dlc
