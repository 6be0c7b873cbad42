//===- TrainingPipeline.cpp - the passes from @M, @M_loss to training -----===//
//
// `-dl-training-pipeline`: turns the IR builder's module (@M, @M_loss) into
// the four functions that codegen reads (@M, @M_eval, @M_grad,
// @M_train_step; see the contract in passes/Passes.td):
//   inline               the model call into @M_loss
//   dl-autodiff          @M_grad from @M_loss (training mode)
//   dl-lower-optimizer   @M_train_step from @M_grad
//   dl-build-eval        @M_eval from @M_loss (inference mode); erases @M_loss
//   dl-strip-dropout     from the inference functions (@M, @M_eval) only
//   cse                  one read per parameter, no duplicate computations
// then, unless options.fusion is off, the fusion passes:
//   (each fusion pass adds itself below, in the order it must run)
//   dl-fuse-conv-bn-relu training batchnorm + relu (+ backward) fused
//   dl-fuse-batchnorm-relu-maxpool  fused batchnorm + relu + max-pool
//                        (+ backward, arg-max recomputed)
//   dl-fuse-batchnorm-add-relu  residual-block batchnorm(s) + add + relu
//                        (+ backward)
//   dl-fold-batchnorm    inference batchnorm folded into conv/dense weights
//   dl-fuse-bias-activation  bias + activation in conv/dense epilogues
//   dl-fuse-elementwise  what elementwise chains remain, one kernel each (last)
//   cse
// and last, with or without fusion:
//   dl-schedule-updates  each parameter update right after the last op it
//                        must follow, so that its gradient dies early
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Transforms/Passes.h"

namespace dlc {

namespace {

/// The fusion section, in the order the passes must run.
void addFusionPasses(mlir::OpPassManager &pm,
                     const TrainingPipelineOptions &options) {
  pm.addPass(createFuseConvBnReluPass());
  pm.addPass(createFuseBatchNormReluMaxPoolPass());
  pm.addPass(createFuseBatchNormAddReluPass());
  pm.addPass(createFoldBatchNormPass());
  pm.addPass(createFuseBiasActivationPass());
  pm.addPass(createSavePoolIndicesPass());
  pm.addPass(createFuseElementwisePass());
  pm.addPass(mlir::createCSEPass());
}

} // namespace

void buildTrainingPipeline(mlir::OpPassManager &pm,
                           const TrainingPipelineOptions &options) {
  pm.addPass(mlir::createInlinerPass());
  pm.addPass(createAutodiffPass());
  pm.addPass(createLowerOptimizerPass());
  pm.addPass(createBuildEvalFunctionPass());
  pm.addPass(createStripDropoutPass());
  pm.addPass(mlir::createCSEPass());
  if (options.fusion)
    addFusionPasses(pm, options);
  pm.addPass(createScheduleUpdatesPass());
}

void registerTrainingPipeline() {
  mlir::PassPipelineRegistration<>(
      "dl-training-pipeline",
      "Build @M_eval, @M_grad and @M_train_step from @M and @M_loss",
      [](mlir::OpPassManager &pm) { buildTrainingPipeline(pm); });
  mlir::PassPipelineRegistration<>(
      "dl-training-pipeline-unfused",
      "The training pipeline without its fusion passes",
      [](mlir::OpPassManager &pm) {
        TrainingPipelineOptions options;
        options.fusion = false;
        buildTrainingPipeline(pm, options);
      });
}

} // namespace dlc
