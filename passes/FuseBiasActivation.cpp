//===- FuseBiasActivation.cpp - activations into the layer's epilogue -----===//
//
// `-dl-fuse-bias-activation`, on every function:
//
//   %z = dl.dense %x, %k, %b                 (or conv2d, depthwise_conv2d)
//   %a = dl.relu %z                          (or sigmoid, tanh, leaky_relu,
//                                             elu)
// becomes `%a = dl.fused_dense %x, %k, %b {..., activation = "relu"}`: the
// bias and the activation are applied as the GEMM stores each tile, and
// the pre-activation %z never reaches memory. In a training function the
// backward
//   %dz = dl.relu_grad %z, %a, %da
//   %dx, %dk, %db = dl.dense_grad %x, %k, %b, %z, %dz
// becomes `%dx, %dk, %db = dl.fused_dense_grad %x, %k, %b, %a, %da`, which
// computes the activation's derivative from its output %a (relu: a > 0,
// sigmoid: a(1 - a), tanh: 1 - a^2, leaky_relu: a > 0 or alpha), so
// nothing reads %z. A layer is fused only when every user of %z is the
// activation, its gradient or the layer's gradient as above; each layer
// whose output feeds an activation gets a remark.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "ir/DLOps.h"
#include "ir/FusedActivation.h"
#include "passes/FusedLayerRewrite.h"
#include "passes/FusionRemarks.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace dlc {

#define GEN_PASS_DEF_FUSEBIASACTIVATION
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;

/// The ops of one candidate: the layer, its activation and, in a training
/// function, their gradient ops.
struct Candidate {
  Operation *layer = nullptr;
  Operation *activation = nullptr;
  FusedActivation kind;
  Operation *activationGrad = nullptr; ///< dl.<act>_grad %z, %a, %da
  Operation *layerGrad = nullptr;      ///< dl.<layer>_grad ..., %z, %dz
};

/// Whether `op` is `activation`'s gradient op reading z and a.
bool isActivationGrad(Operation *op, Operation *activation, Value z) {
  return op->getName().getStringRef() ==
             (activation->getName().getStringRef() + "_grad").str() &&
         op->getNumOperands() == 3 && op->getNumResults() == 1 &&
         op->getOperand(0) == z &&
         op->getOperand(1) == activation->getResult(0) &&
         op->getAttrDictionary() == activation->getAttrDictionary();
}

/// Whether `op` is `layer`'s gradient op: the layer's operands, then z.
bool isLayerGrad(Operation *op, Operation *layer, Value z) {
  unsigned forward = layer->getNumOperands();
  if (op->getName().getStringRef() !=
          (layer->getName().getStringRef() + "_grad").str() ||
      op->getNumOperands() != forward + 2 || op->getOperand(forward) != z ||
      op->getAttrDictionary() != layer->getAttrDictionary())
    return false;
  for (unsigned i = 0; i < forward; ++i)
    if (op->getOperand(i) != layer->getOperand(i))
      return false;
  return true;
}

/// Fills `c` for `layer`, whose output feeds an activation. Returns why it
/// cannot be fused, or "" when it can.
std::string matchCandidate(Operation *layer, bool training, Candidate &c) {
  c.layer = layer;
  Value z = layer->getResult(0);
  const std::string name = layerName(layer);
  for (Operation *user : z.getUsers()) {
    if (std::optional<FusedActivation> kind = activationOf(user)) {
      if (c.activation && c.activation != user)
        return "the " + name + " output feeds more than one activation";
      c.activation = user;
      c.kind = *kind;
    }
  }
  for (Operation *user : z.getUsers()) {
    if (user == c.activation)
      continue;
    if (isActivationGrad(user, c.activation, z) && !c.activationGrad) {
      c.activationGrad = user;
      continue;
    }
    if (isLayerGrad(user, layer, z) && !c.layerGrad) {
      c.layerGrad = user;
      continue;
    }
    return "the " + name + " output has another user (" +
           user->getName().getStringRef().str() + ")";
  }
  if (c.activationGrad || c.layerGrad || training) {
    std::string problem =
        gradientFromOutputProblem(c.kind.name, c.kind.alpha.value_or(0.0));
    if (!problem.empty())
      return problem;
  }
  if (c.layerGrad) {
    if (!c.activationGrad ||
        c.layerGrad->getOperand(c.layer->getNumOperands() + 1) !=
            c.activationGrad->getResult(0))
      return "the " + name + "_grad output gradient is not the " + c.kind.name +
             "_grad result";
    if (!c.activationGrad->getResult(0).hasOneUse())
      return "the " + c.kind.name + "_grad result has another user";
  } else if (c.activationGrad && !c.activationGrad->use_empty()) {
    return "the " + c.kind.name + "_grad result is used without a " + name +
           "_grad";
  }
  return "";
}

/// Rewrites a matched candidate into the fused layer (and gradient).
void fuse(const Candidate &c) {
  OpBuilder builder(c.activation);
  Operation *fused =
      buildFusedLayer(builder, c.layer, c.layer->getOperands(), c.kind);
  c.activation->getResult(0).replaceAllUsesWith(fused->getResult(0));
  if (c.layerGrad) {
    builder.setInsertionPoint(c.layerGrad);
    Operation *grad =
        buildFusedLayerGrad(builder, c.layer, c.layerGrad, fused->getResult(0),
                            c.activationGrad->getOperand(2), c.kind);
    c.layerGrad->replaceAllUsesWith(grad->getResults());
    c.layerGrad->erase();
  }
  if (c.activationGrad)
    c.activationGrad->erase();
  c.activation->erase();
  c.layer->erase();
}

/// Whether `function` is a training function (its backward is inside).
bool isTrainingFunction(func::FuncOp function) {
  return function->hasAttr("dl.gradients") ||
         function->hasAttr("dl.train_step");
}

struct FuseBiasActivationPass
    : public impl::FuseBiasActivationBase<FuseBiasActivationPass> {
  void runOnOperation() override {
    for (auto function : getOperation().getOps<func::FuncOp>()) {
      const bool training = isTrainingFunction(function);
      SmallVector<Operation *> layers;
      function.walk([&](Operation *op) {
        if (isFusableLayer(op) &&
            llvm::any_of(op->getResult(0).getUsers(), [](Operation *user) {
              return activationOf(user).has_value();
            }))
          layers.push_back(op);
      });
      for (Operation *layer : layers) {
        Candidate candidate;
        std::string problem = matchCandidate(layer, training, candidate);
        if (!problem.empty()) {
          remarkNotFused(layer, problem);
          continue;
        }
        remarkFused(layer,
                    "bias and " + candidate.kind.name + " in the " +
                        layerName(layer) + " epilogue" +
                        (candidate.layerGrad
                             ? "; the backward reads the activation output"
                             : ""));
        fuse(candidate);
      }
    }
  }
};

} // namespace

std::unique_ptr<Pass> createFuseBiasActivationPass() {
  return std::make_unique<FuseBiasActivationPass>();
}

} // namespace dlc
