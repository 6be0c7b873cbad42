//===- FuseConvBnRelu.cpp - training conv + batchnorm + relu fusion -------===//
//
// `-dl-fuse-conv-bn-relu`, on the training functions (`dl.gradients`,
// `dl.train_step`). For each dl.batchnorm_train whose output's only forward
// user is a dl.relu, and whose backward is the pair autodiff emits,
//
//   %y, %mean, %var = dl.batchnorm_train %z, %g, %b, %mm, %mv
//   %a = dl.relu %y
//   ...
//   %dy = dl.relu_grad %y, %a, %da
//   %dz, %dg, %db, %dmm, %dmv = dl.batchnorm_train_grad
//       %z, %g, %b, %mm, %mv, %y, %mean, %var, %dy
//
// becomes (ir/DLFusedNormOps.td)
//
//   %a, %mean, %var = dl.batchnorm_relu_train %z, %g, %b
//   ...
//   %dz, %dg, %db = dl.batchnorm_relu_train_grad %z, %g, %b, %mean, %var, %da
//
// so y and the relu gradient are never materialized, and the backward no
// longer reads y or a: a dies after its forward users. The producer of %z
// (conv2d, depthwise_conv2d, dense, ...) is unchanged and keeps reading z in
// its own gradient. A function without the backward pair (no gradient flows
// into the batchnorm) gets the fused forward only. Each dl.batchnorm_train
// gets a remark: fused, or why not.
//
//===----------------------------------------------------------------------===//
#include "passes/FusionRemarks.h"
#include "passes/Passes.h"

#include "ir/DLOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include "llvm/ADT/SetVector.h"

#include <string>

namespace dlc {

#define GEN_PASS_DEF_FUSECONVBNRELU
#include "passes/Passes.h.inc"

namespace {

/// The ops of one fusable batchnorm + relu; the backward pair is null when
/// the function has none.
struct BnReluGroup {
  dl::BatchNormTrainOp batchnorm;
  dl::ReluOp relu;
  dl::ReluGradOp reluGrad;
  dl::BatchNormTrainGradOp batchnormGrad;
};

/// "conv2d" for an op "dl.conv2d", "func.return" for one of another dialect.
std::string opName(mlir::Operation *op) {
  llvm::StringRef name = op->getName().getStringRef();
  name.consume_front("dl.");
  return name.str();
}

/// The name of the op defining `value`, "input" for a block argument.
std::string producerName(mlir::Value value) {
  mlir::Operation *op = value.getDefiningOp();
  return op ? opName(op) : "input";
}

/// Whether `grad` is the batchnorm_train_grad of `bn`: the same forward
/// operands, results and epsilon.
bool isGradientOf(dl::BatchNormTrainGradOp grad, dl::BatchNormTrainOp bn) {
  for (unsigned i = 0; i < 5; ++i)
    if (grad->getOperand(i) != bn->getOperand(i))
      return false;
  return grad.getY() == bn.getOutput() && grad.getMean() == bn.getMean() &&
         grad.getVariance() == bn.getVariance() &&
         grad.getEpsilonAttr() == bn.getEpsilonAttr();
}

/// Fills `group` for `bn`; returns why it cannot be fused, or "".
std::string match(dl::BatchNormTrainOp bn, BnReluGroup &group) {
  group.batchnorm = bn;
  mlir::Value y = bn.getOutput();
  for (mlir::Operation *user : y.getUsers()) {
    if (auto relu = llvm::dyn_cast<dl::ReluOp>(user)) {
      if (group.relu)
        return "batchnorm output feeds two relus";
      group.relu = relu;
    } else if (auto grad = llvm::dyn_cast<dl::ReluGradOp>(user)) {
      if (group.reluGrad && group.reluGrad != grad)
        return "batchnorm output has two relu gradients";
      group.reluGrad = grad;
    } else if (auto grad = llvm::dyn_cast<dl::BatchNormTrainGradOp>(user)) {
      if (group.batchnormGrad && group.batchnormGrad != grad)
        return "batchnorm has two gradients";
      group.batchnormGrad = grad;
    } else {
      return "batchnorm output feeds " + opName(user) + ", not relu";
    }
  }
  if (!group.relu)
    return "batchnorm output feeds no relu";
  dl::ReluGradOp reluGrad = group.reluGrad;
  dl::BatchNormTrainGradOp bnGrad = group.batchnormGrad;
  if (!reluGrad && !bnGrad)
    return ""; // no backward: the forward alone
  if (!reluGrad || !bnGrad)
    return "backward is not relu_grad + batchnorm_train_grad";
  if (reluGrad.getX() != y || reluGrad.getY() != group.relu.getOutput() ||
      reluGrad.getDy() == y)
    return "relu gradient does not read the relu's input and output";
  if (!isGradientOf(bnGrad, bn))
    return "batchnorm gradient is not of this batchnorm";
  if (bnGrad.getDy() != reluGrad.getDx() || !reluGrad.getDx().hasOneUse())
    return "relu gradient feeds more than the batchnorm gradient";
  if (!bnGrad.getDmovingMean().use_empty() ||
      !bnGrad.getDmovingVariance().use_empty())
    return "moving-statistics gradients are used";
  // The relu output's other gradient users must not be relu_grads of y.
  for (mlir::Operation *user : group.relu.getOutput().getUsers())
    if (auto other = llvm::dyn_cast<dl::ReluGradOp>(user))
      if (other != reluGrad)
        return "relu output has two relu gradients";
  return "";
}

/// Replaces the group with the fused ops.
void rewrite(BnReluGroup &group) {
  dl::BatchNormTrainOp bn = group.batchnorm;
  mlir::OpBuilder builder(bn);
  auto fused = builder.create<dl::BatchNormReluTrainOp>(
      bn.getLoc(), bn.getX(), bn.getGamma(), bn.getBeta(), bn.getEpsilonAttr());
  group.relu.getOutput().replaceAllUsesWith(fused.getOutput());
  bn.getMean().replaceAllUsesWith(fused.getMean());
  bn.getVariance().replaceAllUsesWith(fused.getVariance());
  if (dl::BatchNormTrainGradOp bnGrad = group.batchnormGrad) {
    builder.setInsertionPoint(bnGrad);
    auto fusedGrad = builder.create<dl::BatchNormReluTrainGradOp>(
        bnGrad.getLoc(), bn.getX(), bn.getGamma(), bn.getBeta(),
        fused.getMean(), fused.getVariance(), group.reluGrad.getDy(),
        bn.getEpsilonAttr());
    bnGrad.getDx().replaceAllUsesWith(fusedGrad.getXGrad());
    bnGrad.getDgamma().replaceAllUsesWith(fusedGrad.getGammaGrad());
    bnGrad.getDbeta().replaceAllUsesWith(fusedGrad.getBetaGrad());
    bnGrad.erase();
    group.reluGrad.erase();
  }
  llvm::SmallSetVector<mlir::Operation *, 2> reads;
  for (mlir::Value moving : {bn.getMovingMean(), bn.getMovingVariance()})
    if (auto param = moving.getDefiningOp<dl::ParamOp>())
      reads.insert(param);
  group.relu.erase();
  bn.erase();
  // The moving statistics' reads may now be dead (in @M_grad).
  for (mlir::Operation *read : reads)
    if (read->use_empty())
      read->erase();
}

struct FuseConvBnReluPass
    : public impl::FuseConvBnReluBase<FuseConvBnReluPass> {
  void runOnOperation() override {
    for (auto function : getOperation().getOps<mlir::func::FuncOp>()) {
      if (!function->hasAttr("dl.gradients") &&
          !function->hasAttr("dl.train_step"))
        continue;
      llvm::SmallVector<dl::BatchNormTrainOp> candidates;
      function.walk([&](dl::BatchNormTrainOp bn) { candidates.push_back(bn); });
      for (dl::BatchNormTrainOp bn : candidates) {
        BnReluGroup group;
        std::string why = match(bn, group);
        if (!why.empty()) {
          remarkNotFusedAs(bn, "batchnorm + relu", why);
          continue;
        }
        remarkFused(
            bn, producerName(bn.getX()) +
                    " + batchnorm + relu (training): statistics "
                    "pass, normalize+relu in one pass, " +
                    (group.batchnormGrad ? "fused backward" : "no backward"));
        rewrite(group);
      }
    }
  }
};

} // namespace

std::unique_ptr<mlir::Pass> createFuseConvBnReluPass() {
  return std::make_unique<FuseConvBnReluPass>();
}

} // namespace dlc
