//===- Elaborator.h - evaluate a .dl model into a typed Graph -------------===//
//
// Sema. Elaboration runs a definition's body at compile time: hyper-
// parameters and shape queries are evaluated, `if` picks a branch, blocks
// and nested models are expanded in place (their layers named under the
// instance's name), shared layer instances share parameters, and every op
// is typed by the shape rules. Problems are reported with the .dl location
// and elaboration goes on where that is safe, so one run reports them all.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_FRONTEND_ELABORATOR_H
#define DLC_FRONTEND_ELABORATOR_H

#include "frontend/Graph.h"
#include "frontend/Program.h"

#include <optional>
#include <string>

namespace dlc {

/// Elaborates the sequential or model `modelName` of `program` (with its
/// train section, if any) into a Graph. Returns nothing if any error was
/// reported.
std::optional<Graph> elaborateModel(const Program &program,
                                    const std::string &modelName,
                                    DiagnosticEngine &diags);

} // namespace dlc

#endif // DLC_FRONTEND_ELABORATOR_H
