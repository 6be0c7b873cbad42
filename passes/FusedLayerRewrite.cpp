//===- FusedLayerRewrite.cpp - matching layers and building fused ones ----===//

#include "passes/FusedLayerRewrite.h"

#include "ir/DLOps.h"

#include "mlir/IR/OperationSupport.h"

using namespace mlir;

namespace dlc {

bool isFusableLayer(Operation *op) {
  return isa<dl::Conv2DOp, dl::DepthwiseConv2DOp, dl::DenseOp>(op);
}

std::string layerName(Operation *op) {
  StringRef name = op->getName().getStringRef();
  name.consume_front("dl.");
  return name.str();
}

std::optional<FusedActivation> activationOf(Operation *op) {
  FusedActivation activation;
  if (isa<dl::ReluOp>(op))
    activation.name = "relu";
  else if (isa<dl::SigmoidOp>(op))
    activation.name = "sigmoid";
  else if (isa<dl::TanhOp>(op))
    activation.name = "tanh";
  else if (auto leaky = dyn_cast<dl::LeakyReluOp>(op)) {
    activation.name = "leaky_relu";
    activation.alpha = leaky.getAlpha().convertToDouble();
  } else if (auto elu = dyn_cast<dl::EluOp>(op)) {
    activation.name = "elu";
    activation.alpha = elu.getAlpha().convertToDouble();
  } else {
    return std::nullopt;
  }
  return activation;
}

/// The layer's attributes plus the activation's.
static NamedAttrList fusedAttributes(Builder &builder, Operation *layer,
                                     const FusedActivation &activation) {
  NamedAttrList attributes(layer->getAttrDictionary());
  attributes.set("activation", builder.getStringAttr(activation.name));
  if (activation.alpha)
    attributes.set("alpha", builder.getF64FloatAttr(*activation.alpha));
  else
    attributes.erase("alpha");
  return attributes;
}

Operation *buildFusedLayer(OpBuilder &builder, Operation *layer,
                           ValueRange operands,
                           const FusedActivation &activation) {
  OperationState state(layer->getLoc(), "dl.fused_" + layerName(layer));
  state.addOperands(operands);
  state.addAttributes(fusedAttributes(builder, layer, activation));
  state.addTypes(layer->getResultTypes());
  return builder.create(state);
}

Operation *buildFusedLayerGrad(OpBuilder &builder, Operation *layer,
                               Operation *layerGrad, Value y, Value dy,
                               const FusedActivation &activation) {
  OperationState state(layerGrad->getLoc(),
                       "dl.fused_" + layerName(layer) + "_grad");
  state.addOperands(layer->getOperands());
  state.addOperands({y, dy});
  state.addAttributes(fusedAttributes(builder, layer, activation));
  state.addTypes(layerGrad->getResultTypes());
  return builder.create(state);
}

std::string epilogueSuffix(const FusedActivation &activation) {
  if (activation.name == "linear")
    return "";
  return " (" + activation.name + " in the epilogue)";
}

} // namespace dlc
