//===- FuseBatchNormReluMaxPool.cpp - batchnorm + relu + max-pool fusion --===//
//
// `-dl-fuse-batchnorm-relu-maxpool`, on the training functions
// (`dl.gradients`, `dl.train_step`), after -dl-fuse-conv-bn-relu. For each
// dl.batchnorm_relu_train whose output a feeds only a dl.maxpool2d with
// windows that do not overlap (strides >= pool_size), and that pool's
// gradient (reading a as its x), whose result feeds only the batchnorm's
// fused gradient,
//
//   %a, %mean, %var = dl.batchnorm_relu_train %z, %g, %b
//   %p = dl.maxpool2d %a {pool}
//   ...
//   %da = dl.maxpool2d_grad %a, %p, %dp {pool}
//   %dz, %dg, %db = dl.batchnorm_relu_train_grad %z, %g, %b, %mean, %var, %da
//
// becomes (ir/DLFusedNormPoolOps.td)
//
//   %p, %mean, %var = dl.batchnorm_relu_maxpool_train %z, %g, %b {pool, eps}
//   ...
//   %dz, %dg, %db = dl.batchnorm_relu_maxpool_train_grad
//       %z, %g, %b, %mean, %var, %dp {pool, eps}
//
// so neither a nor da is ever stored and no arg-max indices are kept: the
// backward finds each window's maximum again from z and the statistics.
// A function whose pool gets no gradient gets the fused forward only. Each
// dl.batchnorm_relu_train gets a remark: fused, or why not. It runs before
// -dl-save-pool-indices, which then no longer sees the fused pools.
//
//===----------------------------------------------------------------------===//
#include "passes/FusionRemarks.h"
#include "passes/Passes.h"

#include "ir/DLOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace dlc {

#define GEN_PASS_DEF_FUSEBATCHNORMRELUMAXPOOL
#include "passes/Passes.h.inc"

namespace {

/// The ops of one fusable batchnorm + relu + max-pool; the backward pair is
/// null when the function has none.
struct NormPoolGroup {
  dl::BatchNormReluTrainOp norm;
  dl::MaxPool2DOp pool;
  dl::MaxPool2DGradOp poolGrad;
  dl::BatchNormReluTrainGradOp normGrad;
};

/// "conv2d" for an op "dl.conv2d", "func.return" for one of another dialect.
std::string opName(mlir::Operation *op) {
  llvm::StringRef name = op->getName().getStringRef();
  name.consume_front("dl.");
  return name.str();
}

/// The pool's pool_size, strides (default: pool_size) and pad (default:
/// none), as the kernels and the fused ops take them; false when they are
/// malformed.
bool poolAttributes(dl::MaxPool2DOp pool, llvm::SmallVector<int64_t> &size,
                    llvm::SmallVector<int64_t> &strides,
                    llvm::SmallVector<int64_t> &pad) {
  auto sizeAttr = pool->getAttrOfType<mlir::DenseI64ArrayAttr>("pool_size");
  auto stridesAttr = pool->getAttrOfType<mlir::DenseI64ArrayAttr>("strides");
  auto padAttr = pool->getAttrOfType<mlir::DenseI64ArrayAttr>("pad");
  if (!sizeAttr || sizeAttr.size() != 2)
    return false;
  size.assign(sizeAttr.asArrayRef().begin(), sizeAttr.asArrayRef().end());
  strides = size;
  if (stridesAttr)
    strides.assign(stridesAttr.asArrayRef().begin(),
                   stridesAttr.asArrayRef().end());
  pad.assign(4, 0);
  if (padAttr)
    pad.assign(padAttr.asArrayRef().begin(), padAttr.asArrayRef().end());
  return strides.size() == 2 && pad.size() == 4;
}

/// Whether `grad` (x, y, dy) is the gradient of `pool`: the same input,
/// output and attributes.
bool isGradientOf(dl::MaxPool2DGradOp grad, dl::MaxPool2DOp pool) {
  return grad->getNumOperands() == 3 &&
         grad->getOperand(0) == pool->getOperand(0) &&
         grad->getOperand(1) == pool->getResult(0) &&
         grad->getAttrDictionary() == pool->getAttrDictionary();
}

/// Whether `grad` is the gradient of `norm`: the same x, gamma, beta,
/// statistics and epsilon.
bool isGradientOf(dl::BatchNormReluTrainGradOp grad,
                  dl::BatchNormReluTrainOp norm) {
  return grad.getX() == norm.getX() && grad.getGamma() == norm.getGamma() &&
         grad.getBeta() == norm.getBeta() && grad.getMean() == norm.getMean() &&
         grad.getVariance() == norm.getVariance() &&
         grad.getEpsilonAttr() == norm.getEpsilonAttr();
}

/// Fills `group` for `norm`; returns why it cannot be fused, or "".
std::string match(dl::BatchNormReluTrainOp norm, NormPoolGroup &group) {
  group.norm = norm;
  mlir::Value a = norm.getOutput();
  for (mlir::Operation *user : a.getUsers()) {
    if (auto pool = llvm::dyn_cast<dl::MaxPool2DOp>(user)) {
      if (group.pool && group.pool != pool)
        return "relu output feeds two maxpool2d";
      group.pool = pool;
    } else if (auto grad = llvm::dyn_cast<dl::MaxPool2DGradOp>(user)) {
      if (group.poolGrad && group.poolGrad != grad)
        return "relu output has two maxpool2d gradients";
      group.poolGrad = grad;
    } else {
      return "relu output feeds " + opName(user) + ", not only maxpool2d";
    }
  }
  if (!group.pool)
    return "relu output feeds no maxpool2d";
  llvm::SmallVector<int64_t> size, strides, pad;
  if (!poolAttributes(group.pool, size, strides, pad))
    return "maxpool2d has malformed attributes";
  if (strides[0] < size[0] || strides[1] < size[1])
    return "pooling windows overlap (strides < pool_size)";
  if (!group.poolGrad)
    return ""; // no backward: the forward alone
  if (!isGradientOf(group.poolGrad, group.pool))
    return "a maxpool2d gradient reads the relu output with another output "
           "or attributes";
  mlir::Value da = group.poolGrad->getResult(0);
  if (!da.hasOneUse())
    return "maxpool2d gradient feeds more than the batchnorm gradient";
  group.normGrad =
      llvm::dyn_cast<dl::BatchNormReluTrainGradOp>(*da.getUsers().begin());
  if (!group.normGrad || group.normGrad.getOutputGrad() != da)
    return "maxpool2d gradient does not feed the fused batchnorm gradient";
  if (!isGradientOf(group.normGrad, norm))
    return "batchnorm gradient is not of this batchnorm";
  return "";
}

/// The fused ops' attributes: the pool's (defaults made explicit) and
/// epsilon.
llvm::SmallVector<mlir::NamedAttribute> fusedAttributes(NormPoolGroup &group) {
  llvm::SmallVector<int64_t> size, strides, pad;
  poolAttributes(group.pool, size, strides, pad);
  mlir::Builder builder(group.norm.getContext());
  return {
      builder.getNamedAttr("pool_size", builder.getDenseI64ArrayAttr(size)),
      builder.getNamedAttr("strides", builder.getDenseI64ArrayAttr(strides)),
      builder.getNamedAttr("pad", builder.getDenseI64ArrayAttr(pad)),
      builder.getNamedAttr("epsilon", group.norm.getEpsilonAttr())};
}

/// Replaces the group with the fused ops.
void rewrite(NormPoolGroup &group) {
  dl::BatchNormReluTrainOp norm = group.norm;
  llvm::SmallVector<mlir::NamedAttribute> attributes = fusedAttributes(group);
  mlir::OpBuilder builder(norm);
  auto fused = builder.create<dl::BatchNormReluMaxPoolTrainOp>(
      norm.getLoc(),
      mlir::ValueRange{norm.getX(), norm.getGamma(), norm.getBeta()},
      attributes);
  group.pool->getResult(0).replaceAllUsesWith(fused.getOutput());
  norm.getMean().replaceAllUsesWith(fused.getMean());
  norm.getVariance().replaceAllUsesWith(fused.getVariance());
  if (dl::BatchNormReluTrainGradOp normGrad = group.normGrad) {
    builder.setInsertionPoint(normGrad);
    auto fusedGrad = builder.create<dl::BatchNormReluMaxPoolTrainGradOp>(
        normGrad.getLoc(),
        mlir::ValueRange{norm.getX(), norm.getGamma(), norm.getBeta(),
                         fused.getMean(), fused.getVariance(),
                         group.poolGrad->getOperand(2)},
        attributes);
    normGrad.getXGrad().replaceAllUsesWith(fusedGrad.getXGrad());
    normGrad.getGammaGrad().replaceAllUsesWith(fusedGrad.getGammaGrad());
    normGrad.getBetaGrad().replaceAllUsesWith(fusedGrad.getBetaGrad());
    normGrad.erase();
    group.poolGrad.erase();
  }
  group.pool.erase();
  norm.erase();
}

struct FuseBatchNormReluMaxPoolPass
    : public impl::FuseBatchNormReluMaxPoolBase<FuseBatchNormReluMaxPoolPass> {
  void runOnOperation() override {
    for (auto function : getOperation().getOps<mlir::func::FuncOp>()) {
      if (!function->hasAttr("dl.gradients") &&
          !function->hasAttr("dl.train_step"))
        continue;
      llvm::SmallVector<dl::BatchNormReluTrainOp> candidates;
      function.walk(
          [&](dl::BatchNormReluTrainOp norm) { candidates.push_back(norm); });
      for (dl::BatchNormReluTrainOp norm : candidates) {
        NormPoolGroup group;
        std::string why = match(norm, group);
        if (!why.empty()) {
          remarkNotFusedAs(norm, "batchnorm + relu + maxpool2d", why);
          continue;
        }
        remarkFused(norm,
                    std::string("batchnorm + relu + maxpool2d (training): "
                                "statistics pass, then relu and the window "
                                "maxima in one pass; ") +
                        (group.normGrad ? "argmax recomputed in the backward, "
                                          "no indices kept"
                                        : "no backward"));
        rewrite(group);
      }
    }
  }
};

} // namespace

std::unique_ptr<mlir::Pass> createFuseBatchNormReluMaxPoolPass() {
  return std::make_unique<FuseBatchNormReluMaxPoolPass>();
}

} // namespace dlc
