//===- LowerToKernels.h - from a dl module to the kernel-level form -------===//
//
// Reads a module after the training pipeline (passes/TrainingPipeline.cpp)
// and builds its KernelProgram: one value per parameter (persistent), one
// per model input and target (shared by every function, so the runtime
// writes a batch once whichever function it then calls), one per op result,
// and one function per entry point:
//   @M_train_step (dl.train_step) -> "train_step"
//   @M_grad       (dl.gradients)  -> "gradients"
//   @M_eval       (dl.eval)       -> "evaluate"
//   @M            (dl.model)      -> "predict"
// A module without a train section has only "predict".
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_LOWERTOKERNELS_H
#define DLC_CODEGEN_LOWERTOKERNELS_H

#include "codegen/KernelProgram.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace dlc::codegen {

/// Builds the kernel-level form of `module` for batches of up to
/// `maxBatch`. Returns false with `error` when the module is not in the
/// pipeline's output form (a call left, an unknown op, a missing function).
bool lowerToKernels(mlir::ModuleOp module, int64_t maxBatch,
                    KernelProgram &program, std::string &error);

/// Where an op comes from in the .dl source: the layer of the NameLoc the
/// IR builder sets (inlined ops: the callee's) and "file:line:col"; either
/// may be empty.
struct SourcePlace {
  std::string layer;
  std::string position;
};
SourcePlace sourcePlace(mlir::Location loc);

/// "conv2d_1 (fashion_cnn.dl:9:3)"; "file:line:col" without a layer.
std::string describeLocation(mlir::Location loc);

} // namespace dlc::codegen

#endif // DLC_CODEGEN_LOWERTOKERNELS_H
