//===- Passes.h - the passes over the `dl` dialect ------------------------===//
//
// Declared in passes/Passes.td. Registering them makes them available to
// dlc-opt (`-dl-strip-dropout`, ...) and to textual pass pipelines.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_PASSES_PASSES_H
#define DLC_PASSES_PASSES_H

#include "ir/DLDialect.h"

#include "mlir/Pass/Pass.h"

#include <memory>

namespace dlc {

/// `-dl-strip-dropout`: replaces every dl.dropout by its input.
std::unique_ptr<mlir::Pass> createStripDropoutPass();

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace dlc

#endif // DLC_PASSES_PASSES_H
