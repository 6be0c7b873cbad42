//===- FoldBatchNorm.h - batchnorm folded into a layer's kernel and bias --===//
//
// Header-only C++17, namespace dlk. The kernel of dl.fold_batchnorm
// (ir/DLFusedLayerOps.td): with s = gamma / sqrt(moving_variance + epsilon)
// per output channel c,
//   foldedKernel[r, c] = kernel[r, c] * s[c]
//   foldedBias[c]      = (bias[c] - moving_mean[c]) * s[c] + beta[c]
// for a kernel seen as [rows, channels] (its output channels are its
// trailing axes), so that the layer with the folded kernel and bias equals
// the inference batchnorm of the layer. s and the products are computed in
// double; the work is the kernel's size, once per call.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_KERNELS_FOLDBATCHNORM_H
#define DLC_CODEGEN_CPU_KERNELS_FOLDBATCHNORM_H

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace dlk {

/// A kernel of rows x channels elements, channels innermost.
struct FoldBatchNormDims {
  int64_t rows, channels;
  double epsilon;
};

/// Folds the batchnorm into the kernel and bias (a null bias is zero); a
/// null result is skipped.
template <typename T>
void fold_batchnorm(const FoldBatchNormDims &d, const T *kernel, const T *gamma,
                    const T *beta, const T *movingMean, const T *movingVariance,
                    const T *bias, T *foldedKernel, T *foldedBias) {
  constexpr int64_t kBlock = 64;
  double scale[kBlock];
  for (int64_t c0 = 0; c0 < d.channels; c0 += kBlock) {
    const int64_t count = std::min(kBlock, d.channels - c0);
    for (int64_t j = 0; j < count; ++j) {
      const int64_t c = c0 + j;
      scale[j] = static_cast<double>(gamma[c]) /
                 std::sqrt(static_cast<double>(movingVariance[c]) + d.epsilon);
      if (foldedBias) {
        const double b = bias ? static_cast<double>(bias[c]) : 0.0;
        foldedBias[c] =
            static_cast<T>((b - static_cast<double>(movingMean[c])) * scale[j] +
                           static_cast<double>(beta[c]));
      }
    }
    if (!foldedKernel)
      continue;
    for (int64_t r = 0; r < d.rows; ++r) {
      const T *in = kernel + r * d.channels + c0;
      T *out = foldedKernel + r * d.channels + c0;
      for (int64_t j = 0; j < count; ++j)
        out[j] = static_cast<T>(static_cast<double>(in[j]) * scale[j]);
    }
  }
}

} // namespace dlk

#endif // DLC_CODEGEN_CPU_KERNELS_FOLDBATCHNORM_H
