//===- FusedActivation.h - the activations a fused layer applies ----------===//
//
// The `activation` attribute of dl.fused_conv2d, dl.fused_depthwise_conv2d
// and dl.fused_dense (ir/DLFusedLayerOps.td), shared by their verifiers, the
// fusion passes and the CPU emitters: the .dl language's activation names
// but softmax (which is not elementwise). Plain C++, header-only.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_IR_FUSEDACTIVATION_H
#define DLC_IR_FUSEDACTIVATION_H

#include <cmath>
#include <string>

namespace dlc {

/// Whether `name` is an activation a fused layer can apply: "linear" (none),
/// "relu", "sigmoid", "tanh", "leaky_relu", "elu".
inline bool isFusedActivation(const std::string &name) {
  return name == "linear" || name == "relu" || name == "sigmoid" ||
         name == "tanh" || name == "leaky_relu" || name == "elu";
}

/// Whether the activation takes the `alpha` attribute.
inline bool activationHasAlpha(const std::string &name) {
  return name == "leaky_relu" || name == "elu";
}

/// Why the gradient of `activation` (with `alpha`) cannot be computed from
/// its output alone, or "" when it can: relu, sigmoid, tanh, linear, and
/// leaky_relu with alpha >= 0 (whose output keeps the input's sign). elu's
/// derivative from the output (y + alpha) cancels for very negative inputs.
inline std::string gradientFromOutputProblem(const std::string &activation,
                                             double alpha) {
  if (activation == "leaky_relu" && !(alpha >= 0 && std::isfinite(alpha)))
    return "leaky_relu with a negative alpha loses the input's sign";
  if (activation == "elu")
    return "elu's gradient is not exact from its output";
  if (!isFusedActivation(activation))
    return "'" + activation + "' is not an activation a layer can fuse";
  return "";
}

/// The dlk::Activation enumerator of `name` (codegen/cpu/kernels/
/// FusedLayer.h), or "" for an unknown name.
inline std::string activationEnumerator(const std::string &name) {
  if (name == "linear")
    return "dlk::Activation::Linear";
  if (name == "relu")
    return "dlk::Activation::Relu";
  if (name == "sigmoid")
    return "dlk::Activation::Sigmoid";
  if (name == "tanh")
    return "dlk::Activation::Tanh";
  if (name == "leaky_relu")
    return "dlk::Activation::LeakyRelu";
  if (name == "elu")
    return "dlk::Activation::Elu";
  return "";
}

} // namespace dlc

#endif // DLC_IR_FUSEDACTIVATION_H
