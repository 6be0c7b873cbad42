//===- DLFusedNormPoolOps.cpp - types of batchnorm + relu + max-pool ------===//
//
// Type inference and verifiers of dl.batchnorm_relu_maxpool_train and its
// gradient (ir/DLFusedNormPoolOps.td): x is a batched float
// tensor<?xHxWxC> with static, positive per-example dimensions; gamma,
// beta, mean and variance are tensor<Cx(x's element type)>; epsilon is
// positive and finite; pool_size, strides and pad are dl.maxpool2d's and
// its shape rule gives the pooled type (the forward's output, the
// gradient's output_grad); windows must not overlap (strides >= pool_size
// in both dimensions), which the kernels rely on.
//
//===----------------------------------------------------------------------===//
#include "ir/DLOps.h"
#include "ir/TypeRuleVerification.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"

#include <cmath>
#include <string>

using namespace mlir;

namespace dlc {
namespace dl {

namespace {

/// What the verifier and type inference derive from the operands and
/// attributes; `error` is empty when they are valid.
struct NormPoolTypes {
  std::string error;
  Type channelType; ///< tensor<C x element>
  Type pooledType;  ///< dl.maxpool2d's result for x
};

/// Checks x and the per-channel operands [1, 1 + channelOperands).
std::string checkOperands(ValueRange operands, size_t channelOperands,
                          Type &channelType) {
  auto x = dyn_cast<RankedTensorType>(operands[0].getType());
  if (!x || x.getRank() != 4 || !x.isDynamicDim(0) ||
      !isa<FloatType>(x.getElementType()))
    return "expects x to be a batched float tensor<?xHxWxC>, got " +
           typeText(operands[0].getType());
  for (int64_t d = 1; d < 4; ++d)
    if (x.isDynamicDim(d) || x.getDimSize(d) <= 0)
      return "expects x's per-example dimensions to be static and positive, "
             "got " +
             typeText(x);
  channelType = RankedTensorType::get({x.getDimSize(3)}, x.getElementType());
  static const char *const names[] = {"gamma", "beta", "mean", "variance"};
  for (size_t i = 0; i < channelOperands; ++i)
    if (operands[1 + i].getType() != channelType)
      return std::string("expects ") + names[i] + " of type " +
             typeText(channelType) + ", got " +
             typeText(operands[1 + i].getType());
  return "";
}

/// Checks epsilon and the pool attributes (windows must not overlap);
/// fills `poolAttributes` with pool_size, strides and pad only.
std::string checkAttributes(MLIRContext *context, DictionaryAttr attributes,
                            DictionaryAttr &poolAttributes) {
  auto epsilon =
      attributes ? attributes.getAs<FloatAttr>("epsilon") : FloatAttr();
  if (!epsilon)
    return "expects an f64 attribute 'epsilon'";
  double value = epsilon.getValueAsDouble();
  if (!(value > 0) || !std::isfinite(value))
    return "expects 'epsilon' to be finite and > 0, got " +
           std::to_string(value);
  auto pool = attributes.getAs<DenseI64ArrayAttr>("pool_size");
  auto strides = attributes.getAs<DenseI64ArrayAttr>("strides");
  auto pad = attributes.getAs<DenseI64ArrayAttr>("pad");
  if (!pool || !strides || !pad || pool.size() != 2 || strides.size() != 2 ||
      pad.size() != 4)
    return "expects 'pool_size' and 'strides' of 2 and 'pad' of 4 integers";
  for (int i = 0; i < 2; ++i)
    if (pool[i] > 0 && strides[i] < pool[i])
      return "expects windows that do not overlap (strides >= pool_size), "
             "got pool_size " +
             std::to_string(pool[0]) + "x" + std::to_string(pool[1]) +
             " with strides " + std::to_string(strides[0]) + "x" +
             std::to_string(strides[1]);
  Builder builder(context);
  poolAttributes =
      builder.getDictionaryAttr({builder.getNamedAttr("pool_size", pool),
                                 builder.getNamedAttr("strides", strides),
                                 builder.getNamedAttr("pad", pad)});
  return "";
}

/// Checks the operands (x, then `channelOperands` per-channel ones, then
/// `trailing` more) and attributes; derives the channel and pooled types.
/// Errors of the maxpool2d shape rule go to `location` when given.
NormPoolTypes derive(std::optional<Location> location, ValueRange operands,
                     DictionaryAttr attributes, size_t channelOperands,
                     size_t trailing) {
  NormPoolTypes out;
  size_t expected = 1 + channelOperands + trailing;
  if (operands.size() != expected) {
    out.error = "expects " + std::to_string(expected) + " operands, got " +
                std::to_string(operands.size());
    return out;
  }
  out.error = checkOperands(operands, channelOperands, out.channelType);
  if (!out.error.empty())
    return out;
  DictionaryAttr poolAttributes;
  out.error =
      checkAttributes(operands[0].getContext(), attributes, poolAttributes);
  if (!out.error.empty())
    return out;
  SmallVector<Type> pooled;
  if (failed(inferShapeRuleTypes("maxpool2d", OperandLayout{1, 0, false},
                                 location, ValueRange(operands[0]),
                                 poolAttributes, pooled)) ||
      pooled.size() != 1) {
    out.error = "does not fit dl.maxpool2d's shape rule";
    return out;
  }
  out.pooledType = pooled.front();
  return out;
}

/// The forward's result types: pooled, then the channel type twice.
NormPoolTypes forwardTypes(std::optional<Location> location,
                           ValueRange operands, DictionaryAttr attributes,
                           SmallVectorImpl<Type> &types) {
  NormPoolTypes t = derive(location, operands, attributes, 2, 0);
  if (t.error.empty())
    types.append({t.pooledType, t.channelType, t.channelType});
  return t;
}

/// The gradient's result types: those of x, gamma and beta.
NormPoolTypes gradientTypes(std::optional<Location> location,
                            ValueRange operands, DictionaryAttr attributes,
                            SmallVectorImpl<Type> &types) {
  NormPoolTypes t = derive(location, operands, attributes, 4, 1);
  if (!t.error.empty())
    return t;
  if (operands[5].getType() != t.pooledType) {
    t.error = "expects output_grad of the pooled type " +
              typeText(t.pooledType) + ", got " +
              typeText(operands[5].getType());
    return t;
  }
  types.append({operands[0].getType(), t.channelType, t.channelType});
  return t;
}

using NormPoolRule = NormPoolTypes (*)(std::optional<Location>, ValueRange,
                                       DictionaryAttr, SmallVectorImpl<Type> &);

/// Infers with `rule` (ir/TypeRuleVerification.h).
LogicalResult inferWith(NormPoolRule rule, StringRef opName,
                        std::optional<Location> location, ValueRange operands,
                        DictionaryAttr attributes,
                        SmallVectorImpl<Type> &inferred) {
  return inferTypesWithRule(
      [&](SmallVectorImpl<Type> &types) {
        return rule(location, operands, attributes, types).error;
      },
      opName, location, inferred);
}

/// Verifies with `rule` (ir/TypeRuleVerification.h).
LogicalResult verifyWith(Operation *op, NormPoolRule rule) {
  return verifyTypesWithRule(op, [&](SmallVectorImpl<Type> &types) {
    return rule(op->getLoc(), op->getOperands(), op->getAttrDictionary(), types)
        .error;
  });
}

} // namespace

LogicalResult BatchNormReluMaxPoolTrainOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties, RegionRange,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  return inferWith(forwardTypes, getOperationName(), location, operands,
                   attributes, inferredReturnTypes);
}

LogicalResult BatchNormReluMaxPoolTrainOp::verify() {
  return verifyWith(*this, forwardTypes);
}

LogicalResult BatchNormReluMaxPoolTrainGradOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties, RegionRange,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  return inferWith(gradientTypes, getOperationName(), location, operands,
                   attributes, inferredReturnTypes);
}

LogicalResult BatchNormReluMaxPoolTrainGradOp::verify() {
  return verifyWith(*this, gradientTypes);
}

} // namespace dl
} // namespace dlc
