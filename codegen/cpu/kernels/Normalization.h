//===- Normalization.h - batch and layer normalization kernels ------------===//
//
// Channels are the last axis; `rows` counts the per-example positions (the
// product of every other per-example axis), so a batch has n * rows rows of
// `channels` values. Statistics are computed in double with the chunked,
// fixed-order reductions of ElementwiseSupport.h, so they are bit-identical
// for any thread count. Every kernel here takes a workspace of
// normalizationWorkspaceBytes(channels) bytes (64-byte aligned).
//
//   batchnorm            inference: the moving statistics
//   batchnorm_grad       its gradient (frozen BN); the moving statistics get
//                        a zero gradient, as in the reference
//   batchnorm_train      batch mean and biased variance (one pass of shifted
//                        sums); results y, mean, var
//   batchnorm_train_grad its gradient through the batch statistics
//   layernorm(_grad)     statistics of each row
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_KERNELS_NORMALIZATION_H
#define DLC_CODEGEN_CPU_KERNELS_NORMALIZATION_H

#include "codegen/cpu/kernels/ElementwiseSupport.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace dlk {

/// batchnorm, batchnorm_train and layernorm: `rows` positions per example
/// of `channels` channels.
struct NormalizationDims {
  int64_t rows;
  int64_t channels;
  double epsilon;
};

/// Scratch bytes of every normalization kernel.
constexpr int64_t normalizationWorkspaceBytes(int64_t channels) {
  return (2 * ew::kReductionChunks + 4) * channels *
         static_cast<int64_t>(sizeof(double));
}

namespace ew {
/// The workspace's parts: chunk partials of two sums, the two sums, and
/// per-channel mean and 1/sqrt(var + eps) in T.
template <typename T> struct NormalizationScratch {
  double *partials;
  double *sums; ///< 2 * channels
  T *mean;
  T *invStd;
  NormalizationScratch(unsigned char *workspace, int64_t channels) {
    partials = reinterpret_cast<double *>(workspace);
    sums = partials + 2 * kReductionChunks * channels;
    mean = reinterpret_cast<T *>(sums + 2 * channels);
    invStd = mean + channels;
  }
};

/// Mean and 1/sqrt(biased variance + eps) of one row, in double.
template <typename T>
void rowStatistics(const T *__restrict row, int64_t channels, double epsilon,
                   double &mean, double &invStd) {
  double sum = 0;
  for (int64_t c = 0; c < channels; ++c)
    sum += row[c];
  mean = sum / static_cast<double>(channels);
  double var = 0;
  for (int64_t c = 0; c < channels; ++c) {
    const double dev = row[c] - mean;
    var += dev * dev;
  }
  invStd = 1.0 / std::sqrt(var / static_cast<double>(channels) + epsilon);
}

/// gamma * (x - mean) * invStd + beta: the one expression of every
/// batchnorm output, so that fused kernels (FusedNormalization.h) round as
/// these do.
template <typename T>
inline T normalizedValue(T x, T mean, T invStd, T gamma, T beta) {
  return gamma * (x - mean) * invStd + beta;
}

/// 1/sqrt(var + eps) in T from a variance as stored in T: the forward and
/// every gradient derive it alike.
template <typename T> inline T inverseStd(T var, double epsilon) {
  return static_cast<T>(1.0 / std::sqrt(static_cast<double>(var) + epsilon));
}

/// y = gamma * (x - mean) * invStd + beta, per channel; safe in place.
template <typename T>
void normalizeRows(int64_t rows, int64_t channels, const T *x,
                   const T *__restrict gamma, const T *__restrict beta,
                   const T *__restrict mean, const T *__restrict invStd, T *y) {
  DLK_EW_PARALLEL_FOR(rows * channels)
  for (int64_t r = 0; r < rows; ++r) {
    const T *xr = x + r * channels;
    T *yr = y + r * channels;
    for (int64_t c = 0; c < channels; ++c)
      yr[c] = normalizedValue(xr[c], mean[c], invStd[c], gamma[c], beta[c]);
  }
}

/// The batch statistics of training, in one pass over x: per channel the
/// sums of d = x - shift and d^2 in double (shift = the channel's value in
/// row 0, which keeps E[d^2] - E[d]^2 free of cancellation when |mean| >>
/// stddev), chunked and deterministic. Writes the mean and biased variance
/// rounded to T (either output may be null) and s.mean, s.invStd from those
/// rounded values.
template <typename T>
void batchStatistics(int64_t rows, int64_t channels, const T *x, double epsilon,
                     NormalizationScratch<T> &s, T *mean, T *var) {
  T *shift = s.mean; // each shift[c] is read before s.mean[c] is written
  for (int64_t c = 0; c < channels; ++c)
    shift[c] = rows > 0 ? x[c] : T(0);
  channelSums(rows, 2 * channels, s.partials, s.sums,
              [&](int64_t r, double *__restrict acc) {
                const T *xr = x + r * channels;
                for (int64_t c = 0; c < channels; ++c) {
                  const double d = static_cast<double>(xr[c]) -
                                   static_cast<double>(shift[c]);
                  acc[c] += d;
                  acc[channels + c] += d * d;
                }
              });
  const double count = static_cast<double>(rows > 0 ? rows : 1);
  for (int64_t c = 0; c < channels; ++c) {
    const double m = s.sums[c] / count;
    const T meanT = static_cast<T>(static_cast<double>(shift[c]) + m);
    const T varT =
        static_cast<T>(std::max(0.0, s.sums[channels + c] / count - m * m));
    if (mean)
      mean[c] = meanT;
    if (var)
      var[c] = varT;
    s.mean[c] = meanT;
    s.invStd[c] = inverseStd(varT, epsilon);
  }
}

/// s.mean and s.invStd from statistics in T (the moving ones, or the batch
/// statistics a gradient gets), as batchStatistics derives them.
template <typename T>
void batchConstants(int64_t channels, const T *mean, const T *var,
                    double epsilon, NormalizationScratch<T> &s) {
  for (int64_t c = 0; c < channels; ++c) {
    s.mean[c] = mean[c];
    s.invStd[c] = inverseStd(var[c], epsilon);
  }
}

/// dy, or with ReluMask dy times the derivative of relu at the batchnorm
/// output gamma * xhat + beta (recomputed), as relu_grad computes it: a
/// product, not a branch, so that the loops below stay vectorized.
template <bool ReluMask, typename T>
inline T upstreamGradient(T dy, T x, T mean, T invStd, T gamma, T beta) {
  if constexpr (ReluMask)
    return dy *
           (normalizedValue(x, mean, invStd, gamma, beta) > T(0) ? T(1) : T(0));
  else
    return dy;
}

/// Sums of g and of g * xhat per channel into sums[0, C) and [C, 2C), g =
/// upstreamGradient<ReluMask>(dy, ...); gamma and beta are read only with
/// ReluMask (else they may be null).
template <bool ReluMask, typename T>
void gradientSums(int64_t rows, int64_t channels, const T *x, const T *dy,
                  const T *gamma, const T *beta, NormalizationScratch<T> &s) {
  const T *mean = s.mean, *invStd = s.invStd;
  channelSums(rows, 2 * channels, s.partials, s.sums,
              [&](int64_t r, double *__restrict acc) {
                const T *xr = x + r * channels;
                const T *gr = dy + r * channels;
                for (int64_t c = 0; c < channels; ++c) {
                  const double g = upstreamGradient<ReluMask>(
                      gr[c], xr[c], mean[c], invStd[c],
                      ReluMask ? gamma[c] : T(0), ReluMask ? beta[c] : T(0));
                  acc[c] += g;
                  acc[channels + c] +=
                      g * (static_cast<double>(xr[c] - mean[c]) * invStd[c]);
                }
              });
}

/// Sums of dy and of dy * xhat per channel into sums[0, C) and [C, 2C).
template <typename T>
void gradientSums(int64_t rows, int64_t channels, const T *x, const T *dy,
                  NormalizationScratch<T> &s) {
  gradientSums<false>(rows, channels, x, dy, static_cast<const T *>(nullptr),
                      static_cast<const T *>(nullptr), s);
}

/// The input gradient of training batchnorm from gradientSums's sums:
/// dx = gamma * invStd / R * (R g - sum(g) - xhat * sum(g * xhat)), g =
/// upstreamGradient<ReluMask>(dy, ...); dx[i] is written after dy[i] is
/// read, so dx may share dy's buffer. Overwrites the scratch's partials.
template <bool ReluMask, typename T>
void trainInputGradient(int64_t rows, int64_t channels, const T *x,
                        const T *gamma, const T *beta, const T *dy,
                        NormalizationScratch<T> &s, T *dx) {
  // Per channel: scale = gamma * invStd / R, and the two sums in T.
  T *scale = reinterpret_cast<T *>(s.partials);
  T *sumG = scale + channels, *sumGXhat = sumG + channels;
  const T count = static_cast<T>(rows);
  for (int64_t c = 0; c < channels; ++c) {
    scale[c] = gamma[c] * s.invStd[c] / count;
    sumG[c] = static_cast<T>(s.sums[c]);
    sumGXhat[c] = static_cast<T>(s.sums[channels + c]);
  }
  const T *meanT = s.mean, *invStd = s.invStd;
  DLK_EW_PARALLEL_FOR(rows * channels)
  for (int64_t r = 0; r < rows; ++r) {
    const T *xr = x + r * channels;
    const T *gr = dy + r * channels;
    T *dxr = dx + r * channels;
    for (int64_t c = 0; c < channels; ++c) {
      const T g =
          upstreamGradient<ReluMask>(gr[c], xr[c], meanT[c], invStd[c],
                                     gamma[c], ReluMask ? beta[c] : T(0));
      const T xhat = (xr[c] - meanT[c]) * invStd[c];
      dxr[c] = scale[c] * (count * g - sumG[c] - xhat * sumGXhat[c]);
    }
  }
}

/// Writes dgamma = sum(dy * xhat), dbeta = sum(dy), and zero gradients of
/// the moving statistics; each may be null.
template <typename T>
void parameterGradients(int64_t channels, const double *sums, T *dgamma,
                        T *dbeta, T *dmm, T *dmv) {
  for (int64_t c = 0; c < channels; ++c) {
    if (dgamma)
      dgamma[c] = static_cast<T>(sums[channels + c]);
    if (dbeta)
      dbeta[c] = static_cast<T>(sums[c]);
    if (dmm)
      dmm[c] = T(0);
    if (dmv)
      dmv[c] = T(0);
  }
}
} // namespace ew

template <typename T>
void batchnorm(int64_t n, const NormalizationDims &d, const T *x,
               const T *gamma, const T *beta, const T *movingMean,
               const T *movingVar, T *y, unsigned char *workspace) {
  ew::NormalizationScratch<T> s(workspace, d.channels);
  ew::batchConstants(d.channels, movingMean, movingVar, d.epsilon, s);
  ew::normalizeRows(n * d.rows, d.channels, x, gamma, beta, s.mean, s.invStd,
                    y);
}

/// Gradient of inference-mode batchnorm: dx = dy * gamma * invStd; dx may
/// share dy's buffer.
template <typename T>
void batchnorm_grad(int64_t n, const NormalizationDims &d, const T *x,
                    const T *gamma, const T *beta, const T *movingMean,
                    const T *movingVar, const T *y, const T *dy, T *dx,
                    T *dgamma, T *dbeta, T *dmm, T *dmv,
                    unsigned char *workspace) {
  const int64_t rows = n * d.rows, channels = d.channels;
  ew::NormalizationScratch<T> s(workspace, channels);
  ew::batchConstants(channels, movingMean, movingVar, d.epsilon, s);
  if (dgamma || dbeta)
    ew::gradientSums(rows, channels, x, dy, s);
  ew::parameterGradients(channels, s.sums, dgamma, dbeta, dmm, dmv);
  if (!dx)
    return;
  const T *invStd = s.invStd;
  DLK_EW_PARALLEL_FOR(rows * channels)
  for (int64_t r = 0; r < rows; ++r) {
    const T *gr = dy + r * channels;
    T *dxr = dx + r * channels;
    for (int64_t c = 0; c < channels; ++c)
      dxr[c] = gr[c] * gamma[c] * invStd[c];
  }
}

/// Training batchnorm: y with the batch's statistics, and those statistics
/// (mean, biased variance; either may be null) for the moving averages.
template <typename T>
void batchnorm_train(int64_t n, const NormalizationDims &d, const T *x,
                     const T *gamma, const T *beta, const T *movingMean,
                     const T *movingVar, T *y, T *mean, T *var,
                     unsigned char *workspace) {
  const int64_t rows = n * d.rows, channels = d.channels;
  ew::NormalizationScratch<T> s(workspace, channels);
  ew::batchStatistics(rows, channels, x, d.epsilon, s, mean, var);
  if (y)
    ew::normalizeRows(rows, channels, x, gamma, beta, s.mean, s.invStd, y);
}

/// Gradient of training batchnorm through the batch statistics:
/// dx = gamma * invStd / R * (R dy - sum(dy) - xhat * sum(dy * xhat));
/// dx may share dy's buffer.
template <typename T>
void batchnorm_train_grad(int64_t n, const NormalizationDims &d, const T *x,
                          const T *gamma, const T *beta, const T *movingMean,
                          const T *movingVar, const T *y, const T *mean,
                          const T *var, const T *dy, T *dx, T *dgamma, T *dbeta,
                          T *dmm, T *dmv, unsigned char *workspace) {
  const int64_t rows = n * d.rows, channels = d.channels;
  ew::NormalizationScratch<T> s(workspace, channels);
  ew::batchConstants(channels, mean, var, d.epsilon, s);
  ew::gradientSums(rows, channels, x, dy, s);
  ew::parameterGradients(channels, s.sums, dgamma, dbeta, dmm, dmv);
  if (dx)
    ew::trainInputGradient<false>(rows, channels, x, gamma,
                                  static_cast<const T *>(nullptr), dy, s, dx);
}

/// layernorm over the last axis of each row; safe in place.
template <typename T>
void layernorm(int64_t n, const NormalizationDims &d, const T *x,
               const T *__restrict gamma, const T *__restrict beta, T *y) {
  const int64_t rows = n * d.rows, channels = d.channels;
  DLK_EW_PARALLEL_FOR(rows * channels)
  for (int64_t r = 0; r < rows; ++r) {
    const T *xr = x + r * channels;
    T *yr = y + r * channels;
    double mean = 0, invStd = 0;
    ew::rowStatistics(xr, channels, d.epsilon, mean, invStd);
    const T m = static_cast<T>(mean), is = static_cast<T>(invStd);
    for (int64_t c = 0; c < channels; ++c)
      yr[c] = gamma[c] * (xr[c] - m) * is + beta[c];
  }
}

/// layernorm's gradient: per row dx = invStd / C (C d - sum d - xhat sum(d
/// xhat)) with d = dy * gamma; dgamma, dbeta summed over rows first, so dx
/// may share dy's buffer.
template <typename T>
void layernorm_grad(int64_t n, const NormalizationDims &d, const T *x,
                    const T *gamma, const T *beta, const T *y, const T *dy,
                    T *dx, T *dgamma, T *dbeta, unsigned char *workspace) {
  const int64_t rows = n * d.rows, channels = d.channels;
  ew::NormalizationScratch<T> s(workspace, channels);
  if (dgamma || dbeta) {
    ew::channelSums(rows, 2 * channels, s.partials, s.sums,
                    [&](int64_t r, double *__restrict acc) {
                      const T *xr = x + r * channels;
                      const T *gr = dy + r * channels;
                      double mean = 0, invStd = 0;
                      ew::rowStatistics(xr, channels, d.epsilon, mean, invStd);
                      for (int64_t c = 0; c < channels; ++c) {
                        const double g = gr[c];
                        acc[c] += g;
                        acc[channels + c] += g * ((xr[c] - mean) * invStd);
                      }
                    });
    ew::parameterGradients<T>(channels, s.sums, dgamma, dbeta, nullptr,
                              nullptr);
  }
  if (!dx)
    return;
  const double width = static_cast<double>(channels);
  DLK_EW_PARALLEL_FOR(rows * channels)
  for (int64_t r = 0; r < rows; ++r) {
    const T *xr = x + r * channels;
    const T *gr = dy + r * channels;
    T *dxr = dx + r * channels;
    double mean = 0, invStd = 0;
    ew::rowStatistics(xr, channels, d.epsilon, mean, invStd);
    double sumD = 0, sumDXhat = 0;
    for (int64_t c = 0; c < channels; ++c) {
      const double dd = static_cast<double>(gr[c]) * gamma[c];
      sumD += dd;
      sumDXhat += dd * ((xr[c] - mean) * invStd);
    }
    const double scale = invStd / width;
    for (int64_t c = 0; c < channels; ++c) {
      const double xhat = (xr[c] - mean) * invStd;
      const double dd = static_cast<double>(gr[c]) * gamma[c];
      dxr[c] = static_cast<T>(scale * (width * dd - sumD - xhat * sumDXhat));
    }
  }
}

} // namespace dlk

#endif // DLC_CODEGEN_CPU_KERNELS_NORMALIZATION_H
