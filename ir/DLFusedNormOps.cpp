//===- DLFusedNormOps.cpp - types of the fused batchnorm + relu ops -------===//
//
// Type inference and verifiers of dl.batchnorm_relu_train, its gradient and
// dl.batchnorm_relu_apply (ir/DLFusedNormOps.td): x is a batched float
// tensor<?x...xC> with static, positive per-example dimensions; gamma, beta,
// mean and variance are tensor<Cx(x's element type)>; the gradient of the
// output has x's type; the epsilon attribute is positive and finite, as
// batchnorm's shape rule wants.
//
//===----------------------------------------------------------------------===//
#include "ir/DLOps.h"
#include "ir/TypeRuleVerification.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"

#include <cmath>
#include <string>

using namespace mlir;

namespace dlc {
namespace dl {

/// Checks x (batched, channels last, float) and the per-channel operands
/// `channelOperands`; returns x's per-channel type through `channelType`.
/// An empty string means valid; otherwise the error.
static std::string checkOperands(ValueRange operands, size_t channelOperands,
                                 Type &channelType) {
  if (operands.size() < 1 + channelOperands)
    return "expects " + std::to_string(1 + channelOperands) + " operands";
  auto x = dyn_cast<RankedTensorType>(operands[0].getType());
  if (!x || x.getRank() < 2 || !x.isDynamicDim(0) ||
      !isa<FloatType>(x.getElementType()))
    return "expects x to be a batched float tensor<?x...xC>, got " +
           typeText(operands[0].getType());
  for (int64_t d = 1; d < x.getRank(); ++d)
    if (x.isDynamicDim(d) || x.getDimSize(d) <= 0)
      return "expects x's per-example dimensions to be static and positive, "
             "got " +
             typeText(x);
  channelType =
      RankedTensorType::get({x.getShape().back()}, x.getElementType());
  static const char *const names[] = {"gamma", "beta", "mean", "variance"};
  for (size_t i = 0; i < channelOperands; ++i)
    if (operands[1 + i].getType() != channelType)
      return std::string("expects ") + names[i] + " of type " +
             typeText(channelType) + ", got " +
             typeText(operands[1 + i].getType());
  return "";
}

/// Checks the epsilon attribute.
static std::string checkEpsilon(DictionaryAttr attributes) {
  auto epsilon =
      attributes ? attributes.getAs<FloatAttr>("epsilon") : FloatAttr();
  if (!epsilon)
    return "expects an f64 attribute 'epsilon'";
  double value = epsilon.getValueAsDouble();
  if (!(value > 0) || !std::isfinite(value))
    return "expects 'epsilon' to be finite and > 0, got " +
           std::to_string(value);
  return "";
}

/// The forward's result types: x's, then the per-channel type twice.
static std::string forwardTypes(ValueRange operands, DictionaryAttr attributes,
                                SmallVectorImpl<Type> &types) {
  Type channelType;
  std::string error = checkOperands(operands, 2, channelType);
  if (error.empty())
    error = checkEpsilon(attributes);
  if (!error.empty())
    return error;
  if (operands.size() != 3)
    return "expects 3 operands (x, gamma, beta)";
  types.push_back(operands[0].getType());
  types.push_back(channelType);
  types.push_back(channelType);
  return "";
}

/// The apply op's result type: x's.
static std::string applyTypes(ValueRange operands, DictionaryAttr attributes,
                              SmallVectorImpl<Type> &types) {
  Type channelType;
  std::string error = checkOperands(operands, 4, channelType);
  if (error.empty())
    error = checkEpsilon(attributes);
  if (!error.empty())
    return error;
  if (operands.size() != 5)
    return "expects 5 operands (x, gamma, beta, mean, variance)";
  types.push_back(operands[0].getType());
  return "";
}

/// The gradient's result types: those of x, gamma and beta.
static std::string gradientTypes(ValueRange operands, DictionaryAttr attributes,
                                 SmallVectorImpl<Type> &types) {
  Type channelType;
  std::string error = checkOperands(operands, 4, channelType);
  if (error.empty())
    error = checkEpsilon(attributes);
  if (!error.empty())
    return error;
  if (operands.size() != 6)
    return "expects 6 operands (x, gamma, beta, mean, variance, output_grad)";
  if (operands[5].getType() != operands[0].getType())
    return "expects output_grad of x's type " +
           typeText(operands[0].getType()) + ", got " +
           typeText(operands[5].getType());
  types.push_back(operands[0].getType());
  types.push_back(channelType);
  types.push_back(channelType);
  return "";
}

using OperandRule = std::string (*)(ValueRange, DictionaryAttr,
                                    SmallVectorImpl<Type> &);

/// Infers with `rule` (ir/TypeRuleVerification.h).
static LogicalResult inferWith(OperandRule rule, StringRef opName,
                               std::optional<Location> location,
                               ValueRange operands, DictionaryAttr attributes,
                               SmallVectorImpl<Type> &inferred) {
  return inferTypesWithRule(
      [&](SmallVectorImpl<Type> &types) {
        return rule(operands, attributes, types);
      },
      opName, location, inferred);
}

/// Verifies with `rule` (ir/TypeRuleVerification.h).
static LogicalResult verifyWith(Operation *op, OperandRule rule) {
  return verifyTypesWithRule(op, [&](SmallVectorImpl<Type> &types) {
    return rule(op->getOperands(), op->getAttrDictionary(), types);
  });
}

LogicalResult BatchNormReluTrainOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties, RegionRange,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  return inferWith(forwardTypes, getOperationName(), location, operands,
                   attributes, inferredReturnTypes);
}

LogicalResult BatchNormReluTrainOp::verify() {
  return verifyWith(*this, forwardTypes);
}

LogicalResult BatchNormReluApplyOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties, RegionRange,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  return inferWith(applyTypes, getOperationName(), location, operands,
                   attributes, inferredReturnTypes);
}

LogicalResult BatchNormReluApplyOp::verify() {
  return verifyWith(*this, applyTypes);
}

LogicalResult BatchNormReluTrainGradOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties, RegionRange,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  return inferWith(gradientTypes, getOperationName(), location, operands,
                   attributes, inferredReturnTypes);
}

LogicalResult BatchNormReluTrainGradOp::verify() {
  return verifyWith(*this, gradientTypes);
}

} // namespace dl
} // namespace dlc
