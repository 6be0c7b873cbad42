//===- DLFusedLayerOps.cpp - types and verifiers of the fused layers ------===//
//
// The ops of ir/DLFusedLayerOps.td. A fused layer dl.fused_X has the result
// type the catalog op dl.X's shape rule gives for its operands, and the
// parameter operands dlc::paramSpecs gives; its gradient dl.fused_X_grad
// returns one gradient per operand of the forward op. dl.fold_batchnorm
// returns the kernel's type and the statistics' type.
//
//===----------------------------------------------------------------------===//
#include "ir/DLOps.h"

#include "ir/AttrConversion.h"
#include "ir/FusedActivation.h"
#include "ir/ShapeRules.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"

#include <cmath>

using namespace mlir;

namespace dlc {
namespace dl {

/// The operand layout of conv2d, depthwise_conv2d and dense: x, the
/// kernel, an optional bias.
static constexpr OperandLayout kLayerLayout{1, 1, true};

/// "dl.conv2d" for "dl.fused_conv2d" and "dl.fused_conv2d_grad".
static std::string catalogOpName(StringRef opName) {
  opName.consume_front("dl.");
  opName.consume_front("fused_");
  opName.consume_back("_grad");
  return ("dl." + opName).str();
}

/// Reports `message` at `location` (when given) for op `opName`.
static LogicalResult inferError(std::optional<Location> location,
                                StringRef opName, const Twine &message) {
  if (location)
    mlir::emitError(*location) << "'" << opName << "' op " << message;
  return failure();
}

/// The result type of the forward layer of `opName` on `forwardOperands`.
static LogicalResult layerType(StringRef opName,
                               std::optional<Location> location,
                               ValueRange forwardOperands,
                               DictionaryAttr attributes, Type &result) {
  SmallVector<Type> types;
  if (failed(inferShapeRuleTypes(catalogOpName(opName), kLayerLayout, location,
                                 forwardOperands, attributes, types)))
    return failure();
  if (types.size() != 1)
    return inferError(location, opName, "expects one forward result");
  result = types.front();
  return success();
}

/// The shape-rule tensor of data operand `type`, or false.
static bool toBatchedInfo(Type type, TensorInfo &info) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || tensor.getRank() == 0 ||
      !ShapedType::isDynamic(tensor.getDimSize(0)))
    return false;
  Type element = tensor.getElementType();
  if (element.isF32())
    info.elementType = ElementType::F32;
  else if (element.isF64())
    info.elementType = ElementType::F64;
  else
    return false;
  info.batched = true;
  info.shape.assign(tensor.getShape().begin() + 1, tensor.getShape().end());
  return llvm::none_of(info.shape, ShapedType::isDynamic);
}

/// Checks the activation attributes and the parameters of a fused layer
/// (or of its gradient) whose forward operands are `forward`.
static LogicalResult verifyLayer(Operation *op, ValueRange forward) {
  auto activation = op->getAttrOfType<StringAttr>("activation");
  if (!activation || !isFusedActivation(activation.str()))
    return op->emitOpError("expects 'activation' to be one of linear, relu, "
                           "sigmoid, tanh, leaky_relu, elu");
  auto alpha = op->getAttrOfType<FloatAttr>("alpha");
  if (activationHasAlpha(activation.str()) != static_cast<bool>(alpha))
    return op->emitOpError() << "expects an 'alpha' attribute exactly when "
                                "the activation is leaky_relu or elu";
  if (alpha && !std::isfinite(alpha.getValueAsDouble()))
    return op->emitOpError("expects a finite 'alpha'");
  Type result;
  if (failed(layerType(op->getName().getStringRef(), op->getLoc(), forward,
                       op->getAttrDictionary(), result)))
    return failure();
  TensorInfo x;
  if (!toBatchedInfo(forward[0].getType(), x))
    return op->emitOpError("expects a batched f32 or f64 input");
  Attrs attrs = toPlainAttrs(op->getAttrDictionary());
  attrs["use_bias"] = forward.size() == 3;
  std::string catalog = catalogOpName(op->getName().getStringRef()).substr(3);
  std::vector<ParamSpec> specs = paramSpecs(catalog, {x}, attrs);
  if (specs.size() + 1 != forward.size())
    return op->emitOpError()
           << "expects " << specs.size() << " parameter operand(s), got "
           << forward.size() - 1;
  Type element = cast<RankedTensorType>(result).getElementType();
  for (auto [i, spec] : llvm::enumerate(specs)) {
    Type expected = RankedTensorType::get(spec.shape, element);
    if (forward[i + 1].getType() != expected)
      return op->emitOpError() << "parameter '" << spec.role << "' (operand #"
                               << i + 1 << ") must be " << expected << ", got "
                               << forward[i + 1].getType();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Fused layers
//===----------------------------------------------------------------------===//

/// The forward operands of a fused layer's gradient: all but y and dy.
static ValueRange gradForwardOperands(ValueRange operands) {
  return operands.size() < 2 ? operands.take_front(0) : operands.drop_back(2);
}

static LogicalResult inferLayer(StringRef opName,
                                std::optional<Location> location,
                                ValueRange operands, DictionaryAttr attributes,
                                SmallVectorImpl<Type> &types) {
  Type result;
  if (failed(layerType(opName, location, operands, attributes, result)))
    return failure();
  types.push_back(result);
  return success();
}

static LogicalResult inferLayerGrad(StringRef opName,
                                    std::optional<Location> location,
                                    ValueRange operands,
                                    SmallVectorImpl<Type> &types) {
  if (operands.size() < 4 || operands.size() > 5)
    return inferError(location, opName,
                      "expects x, kernel, an optional bias, y and dy");
  for (Value operand : gradForwardOperands(operands))
    types.push_back(operand.getType());
  return success();
}

/// A fused layer's gradient: its forward operands fit the layer, y and dy
/// have the layer's result type, and the results are the forward operands'
/// types.
static LogicalResult verifyLayerGrad(Operation *op) {
  ValueRange operands = op->getOperands();
  if (operands.size() < 4 || operands.size() > 5)
    return op->emitOpError("expects x, kernel, an optional bias, y and dy");
  ValueRange forward = gradForwardOperands(operands);
  if (failed(verifyLayer(op, forward)))
    return failure();
  Type result;
  if (failed(layerType(op->getName().getStringRef(), op->getLoc(), forward,
                       op->getAttrDictionary(), result)))
    return failure();
  for (unsigned i : {0u, 1u}) {
    Value operand = operands[forward.size() + i];
    if (operand.getType() != result)
      return op->emitOpError() << (i == 0 ? "y" : "dy") << " must be " << result
                               << ", got " << operand.getType();
  }
  if (op->getNumResults() != forward.size())
    return op->emitOpError()
           << "expects " << forward.size() << " gradient results, got "
           << op->getNumResults();
  for (auto [value, gradient] : llvm::zip(forward, op->getResults()))
    if (value.getType() != gradient.getType())
      return op->emitOpError()
             << "gradient " << gradient.getType()
             << " does not match its operand's type " << value.getType();
  return success();
}

#define DLC_FUSED_LAYER_OP(Op)                                                 \
  LogicalResult Op::inferReturnTypes(                                          \
      MLIRContext *, std::optional<Location> location, ValueRange operands,    \
      DictionaryAttr attributes, OpaqueProperties, RegionRange,                \
      SmallVectorImpl<Type> &inferredReturnTypes) {                            \
    return inferLayer(getOperationName(), location, operands, attributes,      \
                      inferredReturnTypes);                                    \
  }                                                                            \
  LogicalResult Op::verify() {                                                 \
    return verifyLayer(getOperation(), getOperation()->getOperands());         \
  }

#define DLC_FUSED_LAYER_GRAD_OP(Op)                                            \
  LogicalResult Op::inferReturnTypes(                                          \
      MLIRContext *, std::optional<Location> location, ValueRange operands,    \
      DictionaryAttr, OpaqueProperties, RegionRange,                           \
      SmallVectorImpl<Type> &inferredReturnTypes) {                            \
    return inferLayerGrad(getOperationName(), location, operands,              \
                          inferredReturnTypes);                                \
  }                                                                            \
  LogicalResult Op::verify() { return verifyLayerGrad(getOperation()); }

DLC_FUSED_LAYER_OP(FusedConv2DOp)
DLC_FUSED_LAYER_OP(FusedDepthwiseConv2DOp)
DLC_FUSED_LAYER_OP(FusedDenseOp)
DLC_FUSED_LAYER_GRAD_OP(FusedConv2DGradOp)
DLC_FUSED_LAYER_GRAD_OP(FusedDepthwiseConv2DGradOp)
DLC_FUSED_LAYER_GRAD_OP(FusedDenseGradOp)

#undef DLC_FUSED_LAYER_OP
#undef DLC_FUSED_LAYER_GRAD_OP

//===----------------------------------------------------------------------===//
// FoldBatchNormOp
//===----------------------------------------------------------------------===//

/// Checks dl.fold_batchnorm's operands; fills its result types. Returns an
/// error message, or "" on success.
static std::string foldBatchNormTypes(ValueRange operands,
                                      SmallVectorImpl<Type> &types) {
  if (operands.size() < 5 || operands.size() > 6)
    return "expects kernel, gamma, beta, moving_mean, moving_variance and "
           "an optional bias";
  auto kernel = dyn_cast<RankedTensorType>(operands[0].getType());
  auto gamma = dyn_cast<RankedTensorType>(operands[1].getType());
  if (!kernel || !kernel.hasStaticShape() ||
      !isa<FloatType>(kernel.getElementType()) || kernel.getRank() < 1)
    return "expects a statically shaped float kernel";
  if (!gamma || gamma.getRank() != 1 ||
      gamma.getElementType() != kernel.getElementType())
    return "expects gamma of rank 1 with the kernel's element type";
  for (Value operand : operands.drop_front(2))
    if (operand.getType() != gamma)
      return "expects beta, the moving statistics and the bias to have "
             "gamma's type";
  // The output channels are the kernel's trailing axes.
  int64_t channels = gamma.getDimSize(0), trailing = 1;
  ArrayRef<int64_t> dims = kernel.getShape();
  for (size_t i = dims.size(); i > 0 && trailing < channels; --i)
    trailing *= dims[i - 1];
  if (channels <= 0 || trailing != channels)
    return "expects the kernel's trailing axes to hold the " +
           std::to_string(channels) + " channels of gamma";
  types.push_back(kernel);
  types.push_back(gamma);
  return "";
}

LogicalResult FoldBatchNormOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, ValueRange operands,
    DictionaryAttr, OpaqueProperties, RegionRange,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  std::string error = foldBatchNormTypes(operands, inferredReturnTypes);
  if (error.empty())
    return success();
  return inferError(location, getOperationName(), error);
}

LogicalResult FoldBatchNormOp::verify() {
  SmallVector<Type> types;
  std::string error = foldBatchNormTypes(getOperation()->getOperands(), types);
  if (!error.empty())
    return emitOpError(error);
  double epsilon = getEpsilon().convertToDouble();
  if (!(epsilon >= 0) || !std::isfinite(epsilon))
    return emitOpError("expects a finite epsilon >= 0");
  return success();
}

} // namespace dl
} // namespace dlc
