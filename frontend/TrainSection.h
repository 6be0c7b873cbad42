//===- TrainSection.h - validate a train section against its model --------===//
//
// Checks every setting of a `train` section (names, values, ranges, the
// calls it may contain: data sources, losses, optimizers, schedules,
// augmentations, callbacks), fills in Keras's defaults, and derives one
// LossTerm per model output with its target's type.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_FRONTEND_TRAINSECTION_H
#define DLC_FRONTEND_TRAINSECTION_H

#include "frontend/AST.h"
#include "frontend/Graph.h"

namespace dlc {

/// Fills `graph.train` from `section`. With `modelIsValid` false (the
/// model itself had errors) only the settings are checked, not the losses
/// against the model's outputs. Reports problems; returns false if there
/// were any.
bool elaborateTrainSection(const Decl &section, Graph &graph,
                           DiagnosticEngine &diags, bool modelIsValid = true);

} // namespace dlc

#endif // DLC_FRONTEND_TRAINSECTION_H
