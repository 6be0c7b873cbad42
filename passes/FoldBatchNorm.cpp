//===- FoldBatchNorm.cpp - inference batchnorm into the layer before it ---===//
//
// `-dl-fold-batchnorm`, on the inference functions (`dl.model`, `dl.eval`):
//
//   %z = dl.conv2d %x, %k [, %b]            (or depthwise_conv2d, dense)
//   %y = dl.batchnorm %z, %g, %beta, %mm, %mv {epsilon}
//   %a = dl.relu %y                          (optional; any fusable one)
// becomes
//   %k2, %b2 = dl.fold_batchnorm %k, %g, %beta, %mm, %mv [, %b] {epsilon}
//   %a = dl.fused_conv2d %x, %k2, %b2 {..., activation = "relu"}
//
// The fold runs at run time on the current parameters (eval and predict
// after training see the trained values) and costs the kernel's size; the
// batchnorm pass and the activation pass over the output disappear. The
// activation joins only when it is the batchnorm output's single user.
// Every dl.batchnorm of an inference function gets a remark.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "ir/DLOps.h"
#include "passes/FusedLayerRewrite.h"
#include "passes/FusionRemarks.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace dlc {

#define GEN_PASS_DEF_FOLDBATCHNORM
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;

/// Whether `function` runs in inference mode (predict or eval).
bool isInferenceFunction(func::FuncOp function) {
  return function->hasAttr("dl.model") || function->hasAttr("dl.eval");
}

/// Folds `batchnorm` into the layer before it, or says why not.
void foldBatchNorm(dl::BatchNormOp batchnorm) {
  Value z = batchnorm.getX();
  Operation *layer = z.getDefiningOp();
  if (!layer || !isFusableLayer(layer)) {
    remarkNotFused(batchnorm, "its input is not a conv2d, depthwise_conv2d "
                              "or dense");
    return;
  }
  const std::string name = layerName(layer);
  if (!z.hasOneUse()) {
    remarkNotFused(batchnorm, "the " + name + " output has another user");
    return;
  }
  // The activation joins when it is the batchnorm output's only user.
  FusedActivation activation;
  Operation *activationOp = nullptr;
  Value y = batchnorm.getOutput();
  if (y.hasOneUse())
    if (std::optional<FusedActivation> found =
            activationOf(*y.getUsers().begin())) {
      activation = *found;
      activationOp = *y.getUsers().begin();
    }
  OpBuilder builder(batchnorm);
  Value bias = layer->getNumOperands() == 3 ? layer->getOperand(2) : Value();
  auto fold = builder.create<dl::FoldBatchNormOp>(
      batchnorm.getLoc(), layer->getOperand(1), batchnorm.getGamma(),
      batchnorm.getBeta(), batchnorm.getMovingMean(),
      batchnorm.getMovingVariance(), bias, batchnorm.getEpsilonAttr());
  Operation *fused = buildFusedLayer(
      builder, layer,
      {layer->getOperand(0), fold.getFoldedKernel(), fold.getFoldedBias()},
      activation);
  remarkFused(batchnorm, "batchnorm folded into the " + name +
                             " kernel and bias" + epilogueSuffix(activation));
  Operation *last = activationOp ? activationOp : batchnorm.getOperation();
  last->getResult(0).replaceAllUsesWith(fused->getResult(0));
  if (activationOp)
    activationOp->erase();
  batchnorm.erase();
  layer->erase();
}

struct FoldBatchNormPass : public impl::FoldBatchNormBase<FoldBatchNormPass> {
  void runOnOperation() override {
    for (auto function : getOperation().getOps<func::FuncOp>()) {
      if (!isInferenceFunction(function))
        continue;
      SmallVector<dl::BatchNormOp> batchnorms;
      function.walk([&](dl::BatchNormOp op) { batchnorms.push_back(op); });
      for (dl::BatchNormOp batchnorm : batchnorms)
        foldBatchNorm(batchnorm);
    }
  }
};

} // namespace

std::unique_ptr<Pass> createFoldBatchNormPass() {
  return std::make_unique<FoldBatchNormPass>();
}

} // namespace dlc
