//===- FusedNormalization.h - training batchnorm + relu in fused kernels --===//
//
// The kernels of dl.batchnorm_relu_train and its gradient
// (ir/DLFusedNormOps.td), with Normalization.h's layout (channels last,
// n * rows rows of `channels` values), workspace
// (normalizationWorkspaceBytes(channels)) and helpers, so that they compute
// bit for bit what batchnorm_train + relu and relu_grad +
// batchnorm_train_grad compute, and are as deterministic:
//
//   batchnorm_relu_train       one pass of batch statistics (shifted sums in
//                              double), then one pass writing
//                              relu(gamma * xhat + beta); the batchnorm
//                              output is never stored.
//   batchnorm_relu_apply       batchnorm_relu_train's output from its saved
//                              statistics: one pass, with the constants of
//                              the backward's mask (bit for bit the
//                              forward's output).
//   batchnorm_relu_train_grad  one pass reducing dgamma and dbeta over the
//                              masked gradient, one pass writing dx. The relu
//                              mask is recomputed from x and the statistics
//                              with the forward's expression and constants
//                              (ew::upstreamGradient, ew::batchConstants), so
//                              it is the forward's bit for bit. It reads
//                              neither the relu output nor y.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_KERNELS_FUSEDNORMALIZATION_H
#define DLC_CODEGEN_CPU_KERNELS_FUSEDNORMALIZATION_H

#include "codegen/cpu/kernels/Normalization.h"

#include <cstdint>

namespace dlk {

/// Training batchnorm then relu: y = relu(gamma * (x - mean) * invStd +
/// beta) with the batch's mean and biased variance, which it also returns
/// (either may be null) for the moving averages and the backward. y may
/// share x's buffer.
template <typename T>
void batchnorm_relu_train(int64_t n, const NormalizationDims &d, const T *x,
                          const T *gamma, const T *beta, T *y, T *mean, T *var,
                          unsigned char *workspace) {
  const int64_t rows = n * d.rows, channels = d.channels;
  ew::NormalizationScratch<T> s(workspace, channels);
  ew::batchStatistics(rows, channels, x, d.epsilon, s, mean, var);
  if (!y)
    return;
  const T *m = s.mean, *invStd = s.invStd;
  DLK_EW_PARALLEL_FOR(rows * channels)
  for (int64_t r = 0; r < rows; ++r) {
    const T *xr = x + r * channels;
    T *yr = y + r * channels;
    for (int64_t c = 0; c < channels; ++c) {
      const T v =
          ew::normalizedValue(xr[c], m[c], invStd[c], gamma[c], beta[c]);
      yr[c] = v > T(0) ? v : T(0);
    }
  }
}

/// batchnorm_relu_train's output y from x and the statistics it returned
/// (mean, var): ew::batchConstants then the forward's expression, so y is
/// the forward's bit for bit. y may share x's buffer.
template <typename T>
void batchnorm_relu_apply(int64_t n, const NormalizationDims &d, const T *x,
                          const T *gamma, const T *beta, const T *mean,
                          const T *var, T *y, unsigned char *workspace) {
  const int64_t rows = n * d.rows, channels = d.channels;
  ew::NormalizationScratch<T> s(workspace, channels);
  ew::batchConstants(channels, mean, var, d.epsilon, s);
  const T *m = s.mean, *invStd = s.invStd;
  DLK_EW_PARALLEL_FOR(rows * channels)
  for (int64_t r = 0; r < rows; ++r) {
    const T *xr = x + r * channels;
    T *yr = y + r * channels;
    for (int64_t c = 0; c < channels; ++c) {
      const T v =
          ew::normalizedValue(xr[c], m[c], invStd[c], gamma[c], beta[c]);
      yr[c] = v > T(0) ? v : T(0);
    }
  }
}

/// Gradient of batchnorm_relu_train from x, its statistics and the output's
/// gradient da: dy = da where the recomputed relu input is > 0, else 0;
/// dgamma = sum(dy * xhat), dbeta = sum(dy) (each may be null), and dx as
/// batchnorm_train_grad's. dx may share da's buffer.
template <typename T>
void batchnorm_relu_train_grad(int64_t n, const NormalizationDims &d,
                               const T *x, const T *gamma, const T *beta,
                               const T *mean, const T *var, const T *da, T *dx,
                               T *dgamma, T *dbeta, unsigned char *workspace) {
  const int64_t rows = n * d.rows, channels = d.channels;
  ew::NormalizationScratch<T> s(workspace, channels);
  ew::batchConstants(channels, mean, var, d.epsilon, s);
  ew::gradientSums<true>(rows, channels, x, da, gamma, beta, s);
  ew::parameterGradients<T>(channels, s.sums, dgamma, dbeta, nullptr, nullptr);
  if (dx)
    ew::trainInputGradient<true>(rows, channels, x, gamma, beta, da, s, dx);
}

} // namespace dlk

#endif // DLC_CODEGEN_CPU_KERNELS_FUSEDNORMALIZATION_H
