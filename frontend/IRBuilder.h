//===- IRBuilder.h - from an elaborated Graph to the `dl` dialect ---------===//
//
// Builds one MLIR module per model:
//
//   dl.parameter @conv2d.kernel : tensor<3x3x1x32xf32> {...}     (one each)
//   func.func @fashion_cnn(%arg0: tensor<?x28x28x1xf32>) -> tensor<?x10xf32>
//       attributes {dl.input_names = ["image"], dl.model}
//   func.func @fashion_cnn_loss(%arg0: ..., %arg1: tensor<?xi32>)
//       -> tensor<f32> attributes {dl.input_names = [...], dl.loss}
//
// with the train settings in the module attribute `dl.train`. The loss
// function exists when the train section names losses: it calls the model
// and applies each loss (then dl.weighted_sum when there are several, or one
// whose weight is not 1). Every op is located at its .dl line, named after
// its layer: loc("conv2d_1"("model.dl":7:3)).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_FRONTEND_IRBUILDER_H
#define DLC_FRONTEND_IRBUILDER_H

#include "frontend/Graph.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

namespace dlc {

/// Registers the dialects the built IR uses: dl and func.
void registerDialects(mlir::DialectRegistry &registry);

/// Builds the module of `graph`, loading the dialects it needs into
/// `context`. The module is not verified: the caller runs mlir::verify. A
/// graph that breaks its own invariants (an id out of range, a value used
/// before it is defined, an op that is not in the catalog) is reported as an
/// error through the context's diagnostic engine and yields null.
mlir::OwningOpRef<mlir::ModuleOp> buildModule(mlir::MLIRContext &context,
                                              const Graph &graph);

} // namespace dlc

#endif // DLC_FRONTEND_IRBUILDER_H
