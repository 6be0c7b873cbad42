//===- Passes.h - the passes over the `dl` dialect ------------------------===//
//
// Declared in passes/Passes.td. Registering them makes them available to
// dlc-opt (`-dl-strip-dropout`, ...) and to textual pass pipelines.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_PASSES_PASSES_H
#define DLC_PASSES_PASSES_H

#include "ir/DLDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include <memory>

namespace dlc {

/// `-dl-strip-dropout`: replaces every dl.dropout by its input.
std::unique_ptr<mlir::Pass> createStripDropoutPass();

/// `-dl-autodiff`: builds @M_grad (loss, outputs and the gradient of every
/// trainable parameter, training mode) from each @M_loss.
std::unique_ptr<mlir::Pass> createAutodiffPass();

/// `-dl-lower-optimizer`: builds @M_train_step from @M_grad and the module's
/// dl.train optimizer, schedule-free (lr comes from the step context).
std::unique_ptr<mlir::Pass> createLowerOptimizerPass();

/// `-dl-build-eval`: builds @M_eval (inference-mode loss and outputs) from
/// each @M_loss and erases @M_loss.
std::unique_ptr<mlir::Pass> createBuildEvalFunctionPass();

/// `-dl-fuse-conv-bn-relu`: training batchnorm + relu and their backward
/// into dl.batchnorm_relu_train(_grad) (passes/FuseConvBnRelu.cpp).
std::unique_ptr<mlir::Pass> createFuseConvBnReluPass();

/// `-dl-fuse-batchnorm-add-relu`: a residual block's training batchnorm(s)
/// + add + relu and their backward into dl.batchnorm_add_relu_train(_grad)
/// or dl.batchnorm_add_batchnorm_relu_train(_grad)
/// (passes/FuseBatchNormAddRelu.cpp).
std::unique_ptr<mlir::Pass> createFuseBatchNormAddReluPass();

/// `-dl-fuse-batchnorm-relu-maxpool`: training batchnorm + relu + max-pool
/// (non-overlapping windows) and their backward into
/// dl.batchnorm_relu_maxpool_train(_grad), the arg-max recomputed in the
/// backward (passes/FuseBatchNormReluMaxPool.cpp).
std::unique_ptr<mlir::Pass> createFuseBatchNormReluMaxPoolPass();

/// `-dl-fold-batchnorm`: inference batchnorm folded into the conv/dense
/// before it, the activation in its epilogue (passes/FoldBatchNorm.cpp).
std::unique_ptr<mlir::Pass> createFoldBatchNormPass();

/// `-dl-fuse-bias-activation`: a layer's activation applied in its
/// epilogue, forward and backward (passes/FuseBiasActivation.cpp).
std::unique_ptr<mlir::Pass> createFuseBiasActivationPass();

/// `-dl-fuse-elementwise`: chains of same-shape elementwise ops (losses'
/// gradients and optimizer updates included) into dl.fused_elementwise.
std::unique_ptr<mlir::Pass> createFuseElementwisePass();

/// `-dl-save-pool-indices`: in the training functions, dl.maxpool2d saves
/// its arg-max indices and its gradient scatters by them, so the pooled
/// input dies after the forward (passes/SavePoolIndices.cpp).
std::unique_ptr<mlir::Pass> createSavePoolIndicesPass();

/// `-dl-recompute`: in the training functions, the forward ops marked
/// `dl.recompute` (every candidate with `all`) run again right before
/// their first backward reader, so their results die after the forward
/// (passes/Recompute.cpp).
std::unique_ptr<mlir::Pass> createScheduleUpdatesPass();
std::unique_ptr<mlir::Pass> createRecomputePass();
std::unique_ptr<mlir::Pass> createRecomputePass(bool all);

/// What the training pipeline does beyond building the four functions.
struct TrainingPipelineOptions {
  /// Run the fusion passes (conv+batchnorm+relu, batchnorm folding for
  /// inference, bias+activation epilogues, elementwise chains). Off:
  /// `dlc compile --no-fusion`, to compare.
  bool fusion = true;
};

/// The whole training pipeline (passes/TrainingPipeline.cpp): inline,
/// autodiff, optimizer lowering, eval function, dropout stripped from the
/// inference functions, then the fusion passes. Also registered as
/// `-dl-training-pipeline` (with fusion) and
/// `-dl-training-pipeline-unfused`.
void buildTrainingPipeline(mlir::OpPassManager &pm,
                           const TrainingPipelineOptions &options = {});
void registerTrainingPipeline();

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace dlc

#endif // DLC_PASSES_PASSES_H
