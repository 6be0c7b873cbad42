//===- Epilogue.h - bias and activation applied as a kernel stores --------===//
//
// Header-only C++17, namespace dlk. An epilogue is what a layer kernel does
// to each finished segment of its output while it is still in registers or
// L1: `epi(c, col, count)` updates c[0, count), the output's columns
// [col, col + count) of one row. The GEMM (Gemm.h) calls it on each
// micro-tile row after its last k block, the depthwise convolution on each
// output pixel. NoEpilogue (Gemm.h; kActive = false) compiles to nothing,
// so the plain layers are unchanged; BiasActivation adds the bias and applies
// the activation of a fused layer (ir/DLFusedLayerOps.td) with the same
// arithmetic as the separate bias pass and activation kernels
// (Activations.h), so fused and unfused results are bit-identical.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_KERNELS_EPILOGUE_H
#define DLC_CODEGEN_CPU_KERNELS_EPILOGUE_H

#include "codegen/cpu/kernels/Gemm.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace dlk {

/// The activation of a fused layer (dlc::activationEnumerator names them).
enum class Activation { Linear, Relu, Sigmoid, Tanh, LeakyRelu, Elu };

/// activation(v); `alpha` is leaky_relu's and elu's.
template <Activation A, typename T> inline T activate(T v, T alpha) {
  (void)alpha;
  if constexpr (A == Activation::Relu)
    return v > T(0) ? v : T(0);
  else if constexpr (A == Activation::Sigmoid)
    return T(1) / (T(1) + std::exp(-v));
  else if constexpr (A == Activation::Tanh)
    return std::tanh(v);
  else if constexpr (A == Activation::LeakyRelu)
    return v > T(0) ? v : alpha * v;
  else if constexpr (A == Activation::Elu)
    return v > T(0) ? v : alpha * (std::exp(v) - T(1));
  else
    return v;
}

/// d activation / d input at the input whose activation is `y`, from `y`
/// alone: exact for linear, relu, sigmoid, tanh and leaky_relu with
/// alpha >= 0 (whose output keeps the input's sign); elu's y + alpha is
/// alpha * e^x up to rounding.
template <Activation A, typename T>
inline T activationDerivativeFromOutput(T y, T alpha) {
  (void)alpha;
  if constexpr (A == Activation::Relu)
    return y > T(0) ? T(1) : T(0);
  else if constexpr (A == Activation::Sigmoid)
    return y * (T(1) - y);
  else if constexpr (A == Activation::Tanh)
    return T(1) - y * y;
  else if constexpr (A == Activation::LeakyRelu)
    return y > T(0) ? T(1) : alpha;
  else if constexpr (A == Activation::Elu)
    return y > T(0) ? T(1) : y + alpha;
  else
    return T(1);
}

/// c = activation(c + bias[col]) (no bias when null).
template <typename T, Activation A> struct BiasActivation {
  static constexpr bool kActive = true;
  const T *bias;
  T alpha;

  void operator()(T *c, int64_t col, int64_t count) const {
    if (bias) {
      const T *b = bias + col;
      for (int64_t j = 0; j < count; ++j)
        c[j] = activate<A>(c[j] + b[j], alpha);
    } else if constexpr (A != Activation::Linear) {
      for (int64_t j = 0; j < count; ++j)
        c[j] = activate<A>(c[j], alpha);
    }
  }

  /// The epilogue of a product whose column 0 is this one's column `shift`
  /// (one group of a grouped convolution).
  BiasActivation shifted(int64_t shift) const {
    return {bias ? bias + shift : nullptr, alpha};
  }
};

namespace conv_detail {

/// dz = dy * activation'(y), from the activation's output y, over `count`
/// elements in parallel blocks.
template <Activation A, typename T>
void activationGradFromOutput(int64_t count, T alpha, const T *y, const T *dy,
                              T *dz) {
  constexpr int64_t kBlock = 1 << 14;
  const int64_t blocks = (count + kBlock - 1) / kBlock;
  DLK_GEMM_OMP(parallel for schedule(static))
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t end = std::min(count, (b + 1) * kBlock);
    for (int64_t i = b * kBlock; i < end; ++i)
      dz[i] = dy[i] * activationDerivativeFromOutput<A>(y[i], alpha);
  }
}

} // namespace conv_detail
} // namespace dlk

#endif // DLC_CODEGEN_CPU_KERNELS_EPILOGUE_H
