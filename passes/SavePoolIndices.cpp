//===- SavePoolIndices.cpp - max pooling keeps indices for its backward ---===//
//
// `-dl-save-pool-indices`, on the training functions (`dl.gradients`,
// `dl.train_step`). dl.maxpool2d_grad reads the pooled input x (4 times the
// output for a 2x2 pool) to find each window's maximum again, so x stays
// alive from the forward to the backward. This pass makes the forward save
// where each maximum was instead (ir/DLMemoryOps.td):
//
//   %p = dl.maxpool2d %a {...}
//   ...
//   %da = dl.maxpool2d_grad %a, %p, %dp {...}
//
// becomes
//
//   %p, %idx = dl.maxpool2d_indices %a {...}
//   ...
//   %da = dl.maxpool2d_grad_indices %idx, %dp {...} : ... -> type(%a)
//
// so %a dies after its forward users, and the backward keeps %idx (i32, the
// size of %p). The results are the same, bit for bit: the indices follow
// the gradient's tie rule (the first maximal cell). Each dl.maxpool2d of a
// training function gets a remark: rewritten, or why not.
//
//===----------------------------------------------------------------------===//
#include "passes/FusionRemarks.h"
#include "passes/Passes.h"

#include "ir/DLOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace dlc {

#define GEN_PASS_DEF_SAVEPOOLINDICES
#include "passes/Passes.h.inc"

namespace {

bool isTrainingFunction(mlir::func::FuncOp function) {
  return function->hasAttr("dl.gradients") ||
         function->hasAttr("dl.train_step");
}

/// Whether `grad` (x, y, dy) is the gradient of `pool`: the same input,
/// output and attributes.
bool isGradientOf(dl::MaxPool2DGradOp grad, dl::MaxPool2DOp pool) {
  return grad->getNumOperands() == 3 &&
         grad->getOperand(0) == pool->getOperand(0) &&
         grad->getOperand(1) == pool->getResult(0) &&
         grad->getAttrDictionary() == pool->getAttrDictionary();
}

/// Rewrites `pool` and its gradients `grads`.
void rewrite(dl::MaxPool2DOp pool, llvm::ArrayRef<dl::MaxPool2DGradOp> grads) {
  mlir::OpBuilder builder(pool);
  auto forward = builder.create<dl::MaxPool2DIndicesOp>(
      pool.getLoc(), pool->getOperands(), pool->getAttrs());
  pool->getResult(0).replaceAllUsesWith(forward.getOutput());
  for (dl::MaxPool2DGradOp grad : grads) {
    builder.setInsertionPoint(grad);
    auto backward = builder.create<dl::MaxPool2DGradIndicesOp>(
        grad.getLoc(), grad->getResultTypes(),
        mlir::ValueRange{forward.getIndices(), grad->getOperand(2)},
        grad->getAttrs());
    grad->getResult(0).replaceAllUsesWith(backward.getXGrad());
    grad->erase();
  }
  pool->erase();
}

struct SavePoolIndicesPass
    : public impl::SavePoolIndicesBase<SavePoolIndicesPass> {
  void runOnOperation() override {
    getOperation()->walk([](mlir::func::FuncOp function) {
      if (!isTrainingFunction(function))
        return;
      llvm::SmallVector<dl::MaxPool2DOp> pools;
      function.walk([&](dl::MaxPool2DOp pool) { pools.push_back(pool); });
      for (dl::MaxPool2DOp pool : pools) {
        // Every user of the input that reads it again for the gradient
        // must be one of this pool's gradients.
        llvm::SmallVector<dl::MaxPool2DGradOp> grads;
        bool otherGradient = false;
        for (mlir::Operation *user : pool->getResult(0).getUsers()) {
          auto grad = llvm::dyn_cast<dl::MaxPool2DGradOp>(user);
          if (!grad)
            continue;
          if (isGradientOf(grad, pool))
            grads.push_back(grad);
          else
            otherGradient = true;
        }
        if (otherGradient) {
          remarkNotFused(pool, "a dl.maxpool2d_grad reads its output with "
                               "another input or attributes");
          continue;
        }
        if (grads.empty()) {
          remarkNotFused(pool, "no gradient flows through it: nothing to "
                               "save");
          continue;
        }
        remarkFused(pool, "maxpool2d saves its indices; the backward reads "
                          "them instead of the input");
        rewrite(pool, grads);
      }
    });
  }
};

} // namespace

std::unique_ptr<mlir::Pass> createSavePoolIndicesPass() {
  return std::make_unique<SavePoolIndicesPass>();
}

} // namespace dlc
