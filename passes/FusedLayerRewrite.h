//===- FusedLayerRewrite.h - matching layers and building fused ones ------===//
//
// What -dl-fold-batchnorm and -dl-fuse-bias-activation share: recognizing
// the layers that have a fused form (dl.conv2d, dl.depthwise_conv2d,
// dl.dense) and the elementwise activations a fused layer can apply, and
// building dl.fused_X / dl.fused_X_grad (ir/DLFusedLayerOps.td) with the
// layer's attributes plus the activation.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_PASSES_FUSEDLAYERREWRITE_H
#define DLC_PASSES_FUSEDLAYERREWRITE_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Operation.h"

#include <optional>
#include <string>

namespace dlc {

/// Whether `op` is a layer with a fused form: dl.conv2d,
/// dl.depthwise_conv2d or dl.dense.
bool isFusableLayer(mlir::Operation *op);

/// "conv2d" for dl.conv2d.
std::string layerName(mlir::Operation *op);

/// An activation a fused layer applies: its name (ir/FusedActivation.h)
/// and alpha (leaky_relu, elu).
struct FusedActivation {
  std::string name = "linear";
  std::optional<double> alpha;
};

/// The activation `op` computes (dl.relu, dl.sigmoid, dl.tanh,
/// dl.leaky_relu, dl.elu), or none.
std::optional<FusedActivation> activationOf(mlir::Operation *op);

/// dl.fused_<layer> of `layer`'s attributes and `activation` on `operands`
/// (x, kernel, optional bias), at the builder's insertion point.
mlir::Operation *buildFusedLayer(mlir::OpBuilder &builder,
                                 mlir::Operation *layer,
                                 mlir::ValueRange operands,
                                 const FusedActivation &activation);

/// dl.fused_<layer>_grad on (`forwardOperands`, y, dy) with the result
/// types of the layer's gradient op `layerGrad`.
mlir::Operation *buildFusedLayerGrad(mlir::OpBuilder &builder,
                                     mlir::Operation *layer,
                                     mlir::Operation *layerGrad, mlir::Value y,
                                     mlir::Value dy,
                                     const FusedActivation &activation);

/// " (relu in the epilogue)", or "" for linear: for remarks.
std::string epilogueSuffix(const FusedActivation &activation);

} // namespace dlc

#endif // DLC_PASSES_FUSEDLAYERREWRITE_H
