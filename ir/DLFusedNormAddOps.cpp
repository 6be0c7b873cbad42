//===- DLFusedNormAddOps.cpp - types of the batchnorm + add + relu ops ----===//
//
// Type inference and verifiers of the ops of ir/DLFusedNormAddOps.td. Each
// op's operands are a list of slots: `x` slots are batched float tensors
// tensor<?x...xC> with static, positive per-example dimensions, all of the
// first x's type; `c` slots are tensor<C x (x's element type)>; a trailing
// variadic group of x-typed output gradients (at least one) ends the
// gradients' operands. Every epsilon attribute is positive and finite.
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

namespace {

/// One op's operand and result layout: 'x' an x-typed tensor, 'c' a
/// per-channel tensor; `variadicGrads` adds one or more x-typed operands.
struct NormAddLayout {
  const char *operands;
  const char *const *names;
  bool variadicGrads;
  const char *results;
  const char *const *epsilons;
};

/// Checks the epsilon attributes `names` (null-terminated).
std::string checkEpsilons(DictionaryAttr attributes, const char *const *names) {
  for (const char *const *name = names; *name; ++name) {
    auto epsilon =
        attributes ? attributes.getAs<FloatAttr>(*name) : FloatAttr();
    if (!epsilon)
      return std::string("expects an f64 attribute '") + *name + "'";
    double value = epsilon.getValueAsDouble();
    if (!(value > 0) || !std::isfinite(value))
      return std::string("expects '") + *name + "' to be finite and > 0, got " +
             std::to_string(value);
  }
  return "";
}

/// Checks `operands` against `layout`; fills the result types.
std::string inferLayout(const NormAddLayout &layout, ValueRange operands,
                        DictionaryAttr attributes,
                        SmallVectorImpl<Type> &types) {
  const size_t fixed = std::char_traits<char>::length(layout.operands);
  if (layout.variadicGrads ? operands.size() < fixed + 1
                           : operands.size() != fixed)
    return "expects " + std::to_string(fixed) +
           (layout.variadicGrads ? " operands and at least one output "
                                   "gradient"
                                 : " operands");
  Type xType = operands[0].getType();
  auto x = dyn_cast<RankedTensorType>(xType);
  if (!x || x.getRank() < 2 || !x.isDynamicDim(0) ||
      !isa<FloatType>(x.getElementType()))
    return "expects x to be a batched float tensor<?x...xC>, got " +
           typeText(xType);
  for (int64_t d = 1; d < x.getRank(); ++d)
    if (x.isDynamicDim(d) || x.getDimSize(d) <= 0)
      return "expects x's per-example dimensions to be static and positive, "
             "got " +
             typeText(x);
  Type channelType =
      RankedTensorType::get({x.getShape().back()}, x.getElementType());
  for (size_t i = 0; i < operands.size(); ++i) {
    bool perChannel = i < fixed && layout.operands[i] == 'c';
    Type want = perChannel ? channelType : xType;
    if (operands[i].getType() != want)
      return std::string("expects ") +
             (i < fixed ? layout.names[i] : "output_grad") + " of type " +
             typeText(want) + ", got " + typeText(operands[i].getType());
  }
  if (std::string error = checkEpsilons(attributes, layout.epsilons);
      !error.empty())
    return error;
  for (const char *r = layout.results; *r; ++r)
    types.push_back(*r == 'c' ? channelType : xType);
  return "";
}

const char *const kOneEpsilon[] = {"epsilon", nullptr};
const char *const kTwoEpsilons[] = {"epsilon", "epsilon2", nullptr};

const char *const kForwardNames[] = {"x", "gamma", "beta", "residual"};
const NormAddLayout kForward = {"xccx", kForwardNames, false, "xcc",
                                kOneEpsilon};

const char *const kForward2Names[] = {"x",  "gamma",  "beta",
                                      "x2", "gamma2", "beta2"};
const NormAddLayout kForward2 = {"xccxcc", kForward2Names, false, "xcccc",
                                 kTwoEpsilons};

const char *const kGradNames[] = {"x",    "gamma",    "beta",
                                  "mean", "variance", "output"};
const NormAddLayout kGrad = {"xccccx", kGradNames, true, "xccx", kOneEpsilon};

const char *const kGrad2Names[] = {"x",        "gamma",     "beta",   "mean",
                                   "variance", "x2",        "gamma2", "beta2",
                                   "mean2",    "variance2", "output"};
const NormAddLayout kGrad2 = {"xccccxccccx", kGrad2Names, true, "xccxcc",
                              kTwoEpsilons};

/// Infers with `layout` (ir/TypeRuleVerification.h).
LogicalResult inferWith(const NormAddLayout &layout, StringRef opName,
                        std::optional<Location> location, ValueRange operands,
                        DictionaryAttr attributes,
                        SmallVectorImpl<Type> &inferred) {
  return inferTypesWithRule(
      [&](SmallVectorImpl<Type> &types) {
        return inferLayout(layout, operands, attributes, types);
      },
      opName, location, inferred);
}

/// Verifies with `layout` (ir/TypeRuleVerification.h).
LogicalResult verifyWith(Operation *op, const NormAddLayout &layout) {
  return verifyTypesWithRule(op, [&](SmallVectorImpl<Type> &types) {
    return inferLayout(layout, op->getOperands(), op->getAttrDictionary(),
                       types);
  });
}

} // namespace

LogicalResult BatchNormAddReluTrainOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties, RegionRange,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  return inferWith(kForward, getOperationName(), location, operands, attributes,
                   inferredReturnTypes);
}

LogicalResult BatchNormAddReluTrainOp::verify() {
  return verifyWith(*this, kForward);
}

LogicalResult BatchNormAddBatchNormReluTrainOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties, RegionRange,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  return inferWith(kForward2, getOperationName(), location, operands,
                   attributes, inferredReturnTypes);
}

LogicalResult BatchNormAddBatchNormReluTrainOp::verify() {
  return verifyWith(*this, kForward2);
}

LogicalResult BatchNormAddReluTrainGradOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties, RegionRange,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  return inferWith(kGrad, getOperationName(), location, operands, attributes,
                   inferredReturnTypes);
}

LogicalResult BatchNormAddReluTrainGradOp::verify() {
  return verifyWith(*this, kGrad);
}

LogicalResult BatchNormAddBatchNormReluTrainGradOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties, RegionRange,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  return inferWith(kGrad2, getOperationName(), location, operands, attributes,
                   inferredReturnTypes);
}

LogicalResult BatchNormAddBatchNormReluTrainGradOp::verify() {
  return verifyWith(*this, kGrad2);
}

} // namespace dl
} // namespace dlc
