//===- FuseBatchNormAddRelu.cpp - residual-block tail fusion --------------===//
//
// `-dl-fuse-batchnorm-add-relu`, on the training functions (`dl.gradients`,
// `dl.train_step`). A residual block ends with
//
//   %y, %m, %v = dl.batchnorm_train %z, %g, %b, %mm, %mv
//   %s = dl.add %y, %r             (%r: the shortcut, any tensor)
//   %a = dl.relu %s
//   ...
//   %da = dl.add_n %da0, %da1      (optional: the output's gradients)
//   %ds = dl.relu_grad %s, %a, %da
//   %dz, %dg, %db, %dmm, %dmv = dl.batchnorm_train_grad
//       %z, %g, %b, %mm, %mv, %y, %m, %v, %ds
//   ... %ds also flows to the shortcut's gradient
//
// which becomes (ir/DLFusedNormAddOps.td)
//
//   %a, %m, %v = dl.batchnorm_add_relu_train %z, %g, %b, %r
//   ...
//   %dz, %dg, %db, %dr = dl.batchnorm_add_relu_train_grad
//       %z, %g, %b, %m, %v, %a, %da0, %da1
//
// with %dr in place of %ds for the shortcut's gradient. When the shortcut is
// a training batchnorm too (a projection, %r = %y2 of %z2), both fuse:
//
//   %a, %m, %v, %m2, %v2 = dl.batchnorm_add_batchnorm_relu_train
//       %z, %g, %b, %z2, %g2, %b2
//   %dz, %dg, %db, %dz2, %dg2, %db2 =
//       dl.batchnorm_add_batchnorm_relu_train_grad
//       %z, %g, %b, %m, %v, %z2, %g2, %b2, %m2, %v2, %a, %da
//
// (here the add_n of the output's gradients stays: folded in, its summands
// would be live beside both input gradients, one buffer more at the kernel,
// to save one write; in the one-batchnorm form folding saves a read and a
// write, and the summands die as dz and dr are written), so neither the
// batchnorm outputs, the sum, nor the relu gradient is materialized (the
// backward reads the block's output a for the relu mask, which the next layer's
// gradient keeps anyway). The moving-average updates read the fused op's
// statistics. A function without the backward (no gradient reaches the block)
// gets the fused forward only.
//
// Each dl.batchnorm_train whose output feeds a dl.add gets a remark: fused
// (the one-batchnorm or the projection form), or why not.
//
//===----------------------------------------------------------------------===//
#include "passes/FusionRemarks.h"
#include "passes/Passes.h"

#include "ir/DLOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <string>

namespace dlc {

#define GEN_PASS_DEF_FUSEBATCHNORMADDRELU
#include "passes/Passes.h.inc"

namespace {

/// One batchnorm feeding the add, with its gradient (null without a
/// backward).
struct NormBranch {
  dl::BatchNormTrainOp batchnorm;
  dl::BatchNormTrainGradOp grad;
  /// Moving-average updates of its statistics placed before the add: they
  /// move right after the fused op, which defines the statistics there.
  llvm::SmallVector<mlir::Operation *, 2> earlyUpdates;
};

/// The ops of one residual-block tail: the add, the relu after it, the
/// backward (null without one) and the batchnorms that fuse, in the add's
/// operand order.
struct ResidualTail {
  dl::AddOp add;
  dl::ReluOp relu;
  dl::ReluGradOp reluGrad;
  dl::AddNOp gradientSum; ///< folded into the fused gradient, or null
  llvm::SmallVector<NormBranch, 2> branches;
  mlir::Value residual; ///< the add's other operand (one batchnorm)
};

/// "conv2d" for an op "dl.conv2d", "func.return" for one of another dialect.
std::string shortName(mlir::Operation *op) {
  llvm::StringRef name = op->getName().getStringRef();
  name.consume_front("dl.");
  return name.str();
}

/// The name of the op defining `value`, "input" for a block argument.
std::string producerName(mlir::Value value) {
  mlir::Operation *op = value.getDefiningOp();
  return op ? shortName(op) : "input";
}

/// The training batchnorm whose output is `value`, or null.
dl::BatchNormTrainOp batchnormOf(mlir::Value value) {
  auto bn = value.getDefiningOp<dl::BatchNormTrainOp>();
  return bn && bn.getOutput() == value ? bn : dl::BatchNormTrainOp();
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

/// Whether `later` comes after `op` in op's block.
bool isAfter(mlir::Operation *later, mlir::Operation *op) {
  return later->getBlock() == op->getBlock() && op->isBeforeInBlock(later);
}

/// Fills the add, relu and relu gradient of `tail` from `add`; returns why
/// the add's tail cannot be fused, or "".
std::string matchTail(dl::AddOp add, ResidualTail &tail) {
  tail.add = add;
  mlir::Value sum = add.getOutput();
  if (add.getA() == add.getB())
    return "the add adds a value to itself";
  if (add.getA().getType() != sum.getType() ||
      add.getB().getType() != sum.getType())
    return "the add broadcasts";
  for (mlir::Operation *user : sum.getUsers()) {
    if (auto relu = llvm::dyn_cast<dl::ReluOp>(user)) {
      if (tail.relu)
        return "add output feeds two relus";
      tail.relu = relu;
    } else if (!llvm::isa<dl::ReluGradOp>(user)) {
      return "add output feeds " + shortName(user) + ", not relu";
    }
  }
  if (!tail.relu)
    return "add output feeds no relu";
  mlir::Value a = tail.relu.getOutput();
  // The relu gradient: relu_grad(s or a, a, da), the only one reading s.
  for (mlir::Operation *user : sum.getUsers()) {
    auto grad = llvm::dyn_cast<dl::ReluGradOp>(user);
    if (!grad)
      continue;
    if (grad.getX() != sum || grad.getY() != a || grad.getDy() == sum)
      return "relu gradient does not read the add's and relu's outputs";
    if (tail.reluGrad && tail.reluGrad != grad)
      return "add output has two relu gradients";
    tail.reluGrad = grad;
  }
  for (mlir::Operation *user : a.getUsers())
    if (auto grad = llvm::dyn_cast<dl::ReluGradOp>(user))
      if (grad != tail.reluGrad && grad.getX() == a && grad.getY() == a) {
        if (tail.reluGrad)
          return "relu output has two relu gradients";
        tail.reluGrad = grad;
      }
  if (dl::ReluGradOp grad = tail.reluGrad) {
    if (grad.getDy() == a)
      return "relu gradient reads the relu output as its gradient";
    if (grad->getBlock() != add->getBlock())
      return "relu gradient is in another block";
    auto sumOp = grad.getDy().getDefiningOp<dl::AddNOp>();
    if (sumOp && sumOp.getResult().hasOneUse() &&
        sumOp->getBlock() == grad->getBlock())
      tail.gradientSum = sumOp;
  }
  return "";
}

/// Finds `bn`'s gradient and checks that `bn` can fuse into `tail`;
/// returns why not, or "".
std::string matchBranch(dl::BatchNormTrainOp bn, ResidualTail &tail,
                        NormBranch &branch) {
  branch.batchnorm = bn;
  if (bn->getBlock() != tail.add->getBlock())
    return "batchnorm is in another block than the add";
  for (mlir::Operation *user : bn.getOutput().getUsers()) {
    if (user == tail.add.getOperation())
      continue;
    auto grad = llvm::dyn_cast<dl::BatchNormTrainGradOp>(user);
    if (!grad)
      return "batchnorm output also feeds " + shortName(user);
    if (!isGradientOf(grad, bn))
      return "batchnorm output feeds another batchnorm's gradient";
    if (branch.grad && branch.grad != grad)
      return "batchnorm has two gradients";
    branch.grad = grad;
  }
  dl::BatchNormTrainGradOp grad = branch.grad;
  if (!tail.reluGrad && grad)
    return "batchnorm gradient does not come from a relu gradient";
  if (tail.reluGrad && !grad)
    return "backward is not relu_grad + batchnorm_train_grad";
  if (grad) {
    if (grad.getDy() != tail.reluGrad.getDx())
      return "batchnorm gradient does not read the add's gradient";
    if (!grad.getDmovingMean().use_empty() ||
        !grad.getDmovingVariance().use_empty())
      return "moving-statistics gradients are used";
  }
  // The batch statistics' other readers must come after the add, where the
  // fused op defines them; a moving-average update of this batchnorm's own
  // moving statistic (read by nothing else) may move there.
  for (mlir::Value stat : {bn.getMean(), bn.getVariance()})
    for (mlir::Operation *user : stat.getUsers()) {
      if (user == grad.getOperation() || isAfter(user, tail.add))
        continue;
      auto update = llvm::dyn_cast<dl::MovingAverageUpdateOp>(user);
      if (!update || update->getBlock() != tail.add->getBlock() ||
          (update.getMoving() != bn.getMovingMean() &&
           update.getMoving() != bn.getMovingVariance()))
        return "batch statistics are read before the add";
      for (mlir::Operation *reader : update.getMoving().getUsers())
        if (reader != bn.getOperation() && reader != grad.getOperation() &&
            !llvm::isa<dl::MovingAverageUpdateOp>(reader))
          return "moving statistics are read before the add";
      branch.earlyUpdates.push_back(update);
    }
  return "";
}

/// Erases the moving statistics' reads of `bn` once dead (in @M_grad).
void collectParamReads(dl::BatchNormTrainOp bn,
                       llvm::SmallSetVector<mlir::Operation *, 4> &reads) {
  for (mlir::Value moving : {bn.getMovingMean(), bn.getMovingVariance()})
    if (auto param = moving.getDefiningOp<dl::ParamOp>())
      reads.insert(param);
}

/// The output gradients the fused backward sums.
llvm::SmallVector<mlir::Value> outputGradients(ResidualTail &tail) {
  if (tail.gradientSum)
    return llvm::SmallVector<mlir::Value>(tail.gradientSum->getOperands());
  return {tail.reluGrad.getDy()};
}

/// Moves the branches' early moving-average updates right after `fused`,
/// in their order.
void moveEarlyUpdates(ResidualTail &tail, mlir::Operation *fused) {
  mlir::Operation *after = fused;
  for (NormBranch &branch : tail.branches)
    for (mlir::Operation *update : branch.earlyUpdates) {
      update->moveAfter(after);
      after = update;
    }
}

/// Erases the unfused ops of `tail`, users first.
void eraseTail(ResidualTail &tail) {
  llvm::SmallSetVector<mlir::Operation *, 4> reads;
  for (NormBranch &branch : tail.branches)
    if (branch.grad)
      branch.grad.erase();
  if (tail.reluGrad)
    tail.reluGrad.erase();
  if (tail.gradientSum)
    tail.gradientSum.erase();
  tail.relu.erase();
  tail.add.erase();
  for (NormBranch &branch : tail.branches) {
    collectParamReads(branch.batchnorm, reads);
    branch.batchnorm.erase();
  }
  for (mlir::Operation *read : reads)
    if (read->use_empty())
      read->erase();
}

/// One batchnorm + add + relu: the fused forward and backward.
void rewriteOne(ResidualTail &tail) {
  NormBranch &branch = tail.branches.front();
  dl::BatchNormTrainOp bn = branch.batchnorm;
  mlir::OpBuilder builder(tail.add);
  auto fused = builder.create<dl::BatchNormAddReluTrainOp>(
      bn.getLoc(), bn.getX(), bn.getGamma(), bn.getBeta(), tail.residual,
      bn.getEpsilonAttr());
  moveEarlyUpdates(tail, fused);
  tail.relu.getOutput().replaceAllUsesWith(fused.getOutput());
  bn.getMean().replaceAllUsesWith(fused.getMean());
  bn.getVariance().replaceAllUsesWith(fused.getVariance());
  if (dl::BatchNormTrainGradOp bnGrad = branch.grad) {
    builder.setInsertionPoint(tail.reluGrad);
    auto fusedGrad = builder.create<dl::BatchNormAddReluTrainGradOp>(
        bnGrad.getLoc(), bn.getX(), bn.getGamma(), bn.getBeta(),
        fused.getMean(), fused.getVariance(), fused.getOutput(),
        outputGradients(tail), bn.getEpsilonAttr());
    bnGrad.getDx().replaceAllUsesWith(fusedGrad.getXGrad());
    bnGrad.getDgamma().replaceAllUsesWith(fusedGrad.getGammaGrad());
    bnGrad.getDbeta().replaceAllUsesWith(fusedGrad.getBetaGrad());
    bnGrad.erase();
    branch.grad = nullptr;
    // The shortcut's gradient: what else read the relu gradient.
    tail.reluGrad.getDx().replaceAllUsesWith(fusedGrad.getResidualGrad());
  }
  eraseTail(tail);
}

/// Two batchnorms added, then relu: the fused forward and backward.
void rewriteTwo(ResidualTail &tail) {
  dl::BatchNormTrainOp bn1 = tail.branches[0].batchnorm;
  dl::BatchNormTrainOp bn2 = tail.branches[1].batchnorm;
  mlir::OpBuilder builder(tail.add);
  auto fused = builder.create<dl::BatchNormAddBatchNormReluTrainOp>(
      bn1.getLoc(), bn1.getX(), bn1.getGamma(), bn1.getBeta(), bn2.getX(),
      bn2.getGamma(), bn2.getBeta(), bn1.getEpsilonAttr(),
      bn2.getEpsilonAttr());
  moveEarlyUpdates(tail, fused);
  tail.relu.getOutput().replaceAllUsesWith(fused.getOutput());
  bn1.getMean().replaceAllUsesWith(fused.getMean());
  bn1.getVariance().replaceAllUsesWith(fused.getVariance());
  bn2.getMean().replaceAllUsesWith(fused.getMean2());
  bn2.getVariance().replaceAllUsesWith(fused.getVariance2());
  if (tail.reluGrad) {
    dl::BatchNormTrainGradOp grad1 = tail.branches[0].grad;
    dl::BatchNormTrainGradOp grad2 = tail.branches[1].grad;
    builder.setInsertionPoint(tail.reluGrad);
    auto fusedGrad = builder.create<dl::BatchNormAddBatchNormReluTrainGradOp>(
        grad1.getLoc(), bn1.getX(), bn1.getGamma(), bn1.getBeta(),
        fused.getMean(), fused.getVariance(), bn2.getX(), bn2.getGamma(),
        bn2.getBeta(), fused.getMean2(), fused.getVariance2(),
        fused.getOutput(), outputGradients(tail), bn1.getEpsilonAttr(),
        bn2.getEpsilonAttr());
    grad1.getDx().replaceAllUsesWith(fusedGrad.getXGrad());
    grad1.getDgamma().replaceAllUsesWith(fusedGrad.getGammaGrad());
    grad1.getDbeta().replaceAllUsesWith(fusedGrad.getBetaGrad());
    grad2.getDx().replaceAllUsesWith(fusedGrad.getX2Grad());
    grad2.getDgamma().replaceAllUsesWith(fusedGrad.getGamma2Grad());
    grad2.getDbeta().replaceAllUsesWith(fusedGrad.getBeta2Grad());
  }
  eraseTail(tail);
}

/// " (summing N output gradients)" when an add_n was folded in.
std::string gradientSumNote(ResidualTail &tail) {
  if (!tail.gradientSum)
    return "";
  return ", summing its " + std::to_string(tail.gradientSum->getNumOperands()) +
         " output gradients";
}

struct FuseBatchNormAddReluPass
    : public impl::FuseBatchNormAddReluBase<FuseBatchNormAddReluPass> {
  /// Batchnorms already given a remark (one each).
  llvm::SmallPtrSet<mlir::Operation *, 16> remarked;

  void notFused(dl::BatchNormTrainOp bn, const std::string &why) {
    if (remarked.insert(bn).second)
      remarkNotFusedAs(bn, "batchnorm + add + relu", why);
  }

  void fuse(dl::AddOp add) {
    dl::BatchNormTrainOp bns[2] = {batchnormOf(add.getA()),
                                   batchnormOf(add.getB())};
    if (!bns[0] && !bns[1])
      return; // no batchnorm: not a candidate
    ResidualTail tail;
    std::string why = matchTail(add, tail);
    if (!why.empty()) {
      for (dl::BatchNormTrainOp bn : bns)
        if (bn)
          notFused(bn, why);
      return;
    }
    NormBranch branches[2];
    std::string whyNot[2];
    for (int i = 0; i < 2; ++i)
      if (bns[i])
        whyNot[i] = matchBranch(bns[i], tail, branches[i]);
    bool ok[2] = {bns[0] && whyNot[0].empty(), bns[1] && whyNot[1].empty()};
    if (ok[0] && ok[1] && tail.reluGrad) {
      // The projection form has no residual gradient: the relu gradient
      // may feed nothing but the two batchnorm gradients.
      for (mlir::Operation *user : tail.reluGrad.getDx().getUsers())
        if (user != branches[0].grad.getOperation() &&
            user != branches[1].grad.getOperation()) {
          ok[1] = false;
          whyNot[1] = "the add's gradient also feeds " + shortName(user);
          break;
        }
    }
    for (int i = 0; i < 2; ++i)
      if (bns[i] && !ok[i])
        notFused(bns[i], whyNot[i]);
    if (!ok[0] && !ok[1])
      return;
    auto backward = [&] {
      return tail.reluGrad ? "fused backward" + gradientSumNote(tail)
                           : std::string("no backward");
    };
    if (ok[0] && ok[1]) {
      // The output gradients' add_n stays: folded in, its operands would
      // be live beside both input gradients (one more buffer at the
      // kernel) to save one write. In the one-batchnorm form it saves a
      // read and a write and the summands die as the residual's gradient
      // is written.
      tail.gradientSum = nullptr;
      tail.branches = {branches[0], branches[1]};
      std::string what = producerName(bns[0].getX()) + " + batchnorm + " +
                         producerName(bns[1].getX()) +
                         " + batchnorm + add + relu (training, projection "
                         "shortcut): two statistics passes, "
                         "normalize+normalize+add+relu in one pass, " +
                         backward();
      for (dl::BatchNormTrainOp bn : bns)
        if (remarked.insert(bn).second)
          remarkFused(bn, what);
      rewriteTwo(tail);
      return;
    }
    int i = ok[0] ? 0 : 1;
    tail.branches = {branches[i]};
    tail.residual = add->getOperand(1 - i);
    if (remarked.insert(bns[i]).second)
      remarkFused(bns[i],
                  producerName(bns[i].getX()) +
                      " + batchnorm + add + relu (training, shortcut from " +
                      producerName(tail.residual) +
                      "): statistics pass, normalize+add+relu in one pass, " +
                      backward());
    rewriteOne(tail);
  }

  void runOnOperation() override {
    for (auto function : getOperation().getOps<mlir::func::FuncOp>()) {
      if (!function->hasAttr("dl.gradients") &&
          !function->hasAttr("dl.train_step"))
        continue;
      llvm::SmallVector<dl::AddOp> adds;
      function.walk([&](dl::AddOp add) { adds.push_back(add); });
      for (dl::AddOp add : adds)
        fuse(add);
    }
    remarked.clear();
  }
};

} // namespace

std::unique_ptr<mlir::Pass> createFuseBatchNormAddReluPass() {
  return std::make_unique<FuseBatchNormAddReluPass>();
}

} // namespace dlc
