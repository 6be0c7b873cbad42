//===- FusedNormAdd.h - training batchnorm + residual add + relu ----------===//
//
// The kernels of the residual-block tail (ir/DLFusedNormAddOps.td), with
// Normalization.h's layout (channels last, n * rows rows of `channels`
// values) and helpers, so that they compute bit for bit what the unfused
// sequence computes (batchnorm_train, add, relu; relu_grad of the add_n of
// the output's gradients, batchnorm_train_grad), and are as deterministic:
//
//   batchnorm_add_relu_train     statistics of x (ew::batchStatistics), then
//                                ONE pass a = relu(bn(x) + r).
//   batchnorm_add_batchnorm_relu_train
//                                statistics of x1 and of x2, then ONE pass
//                                a = relu(bn1(x1) + bn2(x2)).
//   batchnorm_add_relu_train_grad
//                                ds = (da_0 + ... + da_k-1) * (a > 0), the
//                                batchnorm's sums (double, chunked) in one
//                                pass that also writes the residual gradient
//                                dr = ds when it is wanted, then one pass
//                                writing dx (from dr when written, else from
//                                a and da again: ds is never stored
//                                otherwise).
//   batchnorm_add_batchnorm_relu_train_grad
//                                both batchnorms' sums in ONE pass over ds
//                                (sum(ds) is shared), then ONE pass writing
//                                dx1 and dx2; ds is not stored.
//
// The relu mask is relu_grad's: the product dy * (a > 0 ? 1 : 0), not a
// branch. The output gradients are summed left to right, as add_n does.
// dx (dx1) may share da_0's buffer: each element of every da is read before
// dx's element is written.
//
// Workspace: fusedNormAddWorkspaceBytes(channels) bytes, 64-byte aligned.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_KERNELS_FUSEDNORMADD_H
#define DLC_CODEGEN_CPU_KERNELS_FUSEDNORMADD_H

#include "codegen/cpu/kernels/Normalization.h"

#include <cstdint>

/// Before an inner loop over channels whose stores may share a buffer with
/// its loads only at the same index (dx over da, a over x): no loop-carried
/// dependence, so the compiler vectorizes without runtime alias checks
/// (which would fail, and fall back to scalar code, exactly in place).
#if defined(__clang__)
#define DLK_NORMADD_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define DLK_NORMADD_IVDEP _Pragma("GCC ivdep")
#else
#define DLK_NORMADD_IVDEP
#endif

namespace dlk {

/// The fused batchnorm + add kernels' shape: `rows` positions per example
/// of `channels` channels; `epsilon` is the (first) batchnorm's, `epsilon2`
/// the shortcut batchnorm's (unused by the one-batchnorm kernels);
/// `gradients` the number of output gradients the backward sums (>= 1).
struct NormAddDims {
  int64_t rows;
  int64_t channels;
  double epsilon;
  double epsilon2;
  int64_t gradients;
};

/// Scratch bytes of every kernel here: two normalization scratches, then
/// the partials and totals of a reduction 3 * channels wide.
constexpr int64_t fusedNormAddWorkspaceBytes(int64_t channels) {
  return 2 * normalizationWorkspaceBytes(channels) +
         (3 * ew::kReductionChunks + 3) * channels *
             static_cast<int64_t>(sizeof(double));
}

namespace ew {

/// The workspace of the fused kernels: one normalization scratch per
/// batchnorm and a wide reduction (partials, then totals).
template <typename T> struct NormAddScratch {
  NormalizationScratch<T> first;
  NormalizationScratch<T> second;
  double *widePartials; ///< kReductionChunks * 3 * channels
  double *wideSums;     ///< 3 * channels
  NormAddScratch(unsigned char *workspace, int64_t channels)
      : first(workspace, channels),
        second(workspace + normalizationWorkspaceBytes(channels), channels) {
    widePartials = reinterpret_cast<double *>(
        workspace + 2 * normalizationWorkspaceBytes(channels));
    wideSums = widePartials + 3 * kReductionChunks * channels;
  }
};

/// The sum of the output gradients at element i, left to right as add_n
/// adds them: `Count` of them (0: `count`, known only at run time).
template <int Count, typename T> struct GradientSum {
  const T *const *da;
  int64_t count;
  T operator()(int64_t i) const {
    if constexpr (Count == 1) {
      return da[0][i];
    } else if constexpr (Count == 2) {
      return da[0][i] + da[1][i];
    } else {
      T sum = da[0][i];
      for (int64_t k = 1; k < count; ++k)
        sum += da[k][i];
      return sum;
    }
  }
};

/// Calls body(sum) with the GradientSum of `count` gradients, specialized
/// for one and two so that the loops stay vectorized.
template <typename T, typename Body>
void withGradientSum(const T *const *da, int64_t count, Body body) {
  if (count == 1)
    body(GradientSum<1, T>{da, count});
  else if (count == 2)
    body(GradientSum<2, T>{da, count});
  else
    body(GradientSum<0, T>{da, count});
}

/// relu_grad at one element: dy * (a > 0 ? 1 : 0).
template <typename T> inline T reluMasked(T dy, T a) {
  return dy * (a > T(0) ? T(1) : T(0));
}

/// a = relu(v), as relu computes it.
template <typename T> inline T reluOf(T v) { return v > T(0) ? v : T(0); }

/// The batchnorm's g * xhat term in double, as gradientSums computes it.
template <typename T> inline double xhatTerm(double g, T x, T mean, T invStd) {
  return g * (static_cast<double>(x - mean) * invStd);
}

/// Per channel: scale = gamma * invStd / R, and the sums in T, into
/// `scale`, `sumG`, `sumGXhat` (as trainInputGradient derives them).
template <typename T>
void inputGradientConstants(int64_t rows, int64_t channels, const T *gamma,
                            const T *invStd, const double *sumsG,
                            const double *sumsGXhat, T *scale, T *sumG,
                            T *sumGXhat) {
  const T count = static_cast<T>(rows);
  for (int64_t c = 0; c < channels; ++c) {
    scale[c] = gamma[c] * invStd[c] / count;
    sumG[c] = static_cast<T>(sumsG[c]);
    sumGXhat[c] = static_cast<T>(sumsGXhat[c]);
  }
}

/// One batchnorm's input gradient at one element from the masked gradient
/// g, as trainInputGradient computes it.
template <typename T>
inline T inputGradient(T g, T x, T mean, T invStd, T scale, T count, T sumG,
                       T sumGXhat) {
  const T xhat = (x - mean) * invStd;
  return scale * (count * g - sumG - xhat * sumGXhat);
}

} // namespace ew

/// Training batchnorm, residual add, relu: a = relu(gamma * (x - mean) *
/// invStd + beta + r) with the batch's mean and biased variance, which it
/// also returns (either may be null). a may share x's buffer.
template <typename T>
void batchnorm_add_relu_train(int64_t n, const NormAddDims &d, const T *x,
                              const T *gamma, const T *beta, const T *r, T *a,
                              T *mean, T *var, unsigned char *workspace) {
  const int64_t rows = n * d.rows, channels = d.channels;
  ew::NormAddScratch<T> s(workspace, channels);
  ew::batchStatistics(rows, channels, x, d.epsilon, s.first, mean, var);
  if (!a)
    return;
  const T *m = s.first.mean, *invStd = s.first.invStd;
  DLK_EW_PARALLEL_FOR(rows * channels)
  for (int64_t i = 0; i < rows; ++i) {
    const T *xr = x + i * channels;
    const T *rr = r + i * channels;
    T *ar = a + i * channels;
    DLK_NORMADD_IVDEP
    for (int64_t c = 0; c < channels; ++c) {
      const T y =
          ew::normalizedValue(xr[c], m[c], invStd[c], gamma[c], beta[c]);
      ar[c] = ew::reluOf(y + rr[c]);
    }
  }
}

/// Two training batchnorms added, then relu (a projection shortcut):
/// a = relu(bn1(x1) + bn2(x2)), each with its batch statistics, which it
/// returns (each may be null). a may share x1's buffer.
template <typename T>
void batchnorm_add_batchnorm_relu_train(int64_t n, const NormAddDims &d,
                                        const T *x1, const T *gamma1,
                                        const T *beta1, const T *x2,
                                        const T *gamma2, const T *beta2, T *a,
                                        T *mean1, T *var1, T *mean2, T *var2,
                                        unsigned char *workspace) {
  const int64_t rows = n * d.rows, channels = d.channels;
  ew::NormAddScratch<T> s(workspace, channels);
  ew::batchStatistics(rows, channels, x1, d.epsilon, s.first, mean1, var1);
  ew::batchStatistics(rows, channels, x2, d.epsilon2, s.second, mean2, var2);
  if (!a)
    return;
  const T *m1 = s.first.mean, *is1 = s.first.invStd;
  const T *m2 = s.second.mean, *is2 = s.second.invStd;
  DLK_EW_PARALLEL_FOR(rows * channels)
  for (int64_t i = 0; i < rows; ++i) {
    const T *x1r = x1 + i * channels;
    const T *x2r = x2 + i * channels;
    T *ar = a + i * channels;
    DLK_NORMADD_IVDEP
    for (int64_t c = 0; c < channels; ++c) {
      const T y1 =
          ew::normalizedValue(x1r[c], m1[c], is1[c], gamma1[c], beta1[c]);
      const T y2 =
          ew::normalizedValue(x2r[c], m2[c], is2[c], gamma2[c], beta2[c]);
      ar[c] = ew::reluOf(y1 + y2);
    }
  }
}

/// Gradient of batchnorm_add_relu_train from x, the statistics, the output
/// a and the output's gradients da[0..d.gradients): with ds = sum(da) *
/// (a > 0), dr = ds (the residual's gradient; null: not written),
/// dgamma = sum(ds * xhat), dbeta = sum(ds) (each may be null) and dx as
/// batchnorm_train_grad's from ds. dx may share da[0]'s buffer.
template <typename T>
void batchnorm_add_relu_train_grad(int64_t n, const NormAddDims &d, const T *x,
                                   const T *gamma, const T *beta, const T *mean,
                                   const T *var, const T *a, const T *const *da,
                                   T *dx, T *dgamma, T *dbeta, T *dr,
                                   unsigned char *workspace) {
  (void)beta;
  const int64_t rows = n * d.rows, channels = d.channels;
  ew::NormAddScratch<T> w(workspace, channels);
  ew::NormalizationScratch<T> &s = w.first;
  ew::batchConstants(channels, mean, var, d.epsilon, s);
  const T *m = s.mean, *invStd = s.invStd;
  ew::withGradientSum(da, d.gradients, [&](auto sumAt) {
    // One pass: the masked gradient, the residual's copy of it, the sums.
    ew::channelSums(rows, 2 * channels, s.partials, s.sums,
                    [&](int64_t i, double *__restrict acc) {
                      const T *xr = x + i * channels;
                      const T *ar = a + i * channels;
                      const int64_t base = i * channels;
                      if (dr) {
                        T *drr = dr + base;
                        DLK_NORMADD_IVDEP
                        for (int64_t c = 0; c < channels; ++c) {
                          const T g = ew::reluMasked(sumAt(base + c), ar[c]);
                          drr[c] = g;
                          acc[c] += static_cast<double>(g);
                          acc[channels + c] += ew::xhatTerm(
                              static_cast<double>(g), xr[c], m[c], invStd[c]);
                        }
                        return;
                      }
                      DLK_NORMADD_IVDEP
                      for (int64_t c = 0; c < channels; ++c) {
                        const T g = ew::reluMasked(sumAt(base + c), ar[c]);
                        acc[c] += static_cast<double>(g);
                        acc[channels + c] += ew::xhatTerm(
                            static_cast<double>(g), xr[c], m[c], invStd[c]);
                      }
                    });
    ew::parameterGradients<T>(channels, s.sums, dgamma, dbeta, nullptr,
                              nullptr);
    if (!dx)
      return;
    if (dr) {
      // ds is stored: the unfused batchnorm_train_grad's pass.
      ew::trainInputGradient<false>(rows, channels, x, gamma,
                                    static_cast<const T *>(nullptr), dr, s, dx);
      return;
    }
    T *scale = reinterpret_cast<T *>(s.partials);
    T *sumG = scale + channels, *sumGXhat = sumG + channels;
    ew::inputGradientConstants(rows, channels, gamma, invStd, s.sums,
                               s.sums + channels, scale, sumG, sumGXhat);
    const T count = static_cast<T>(rows);
    DLK_EW_PARALLEL_FOR(rows * channels)
    for (int64_t i = 0; i < rows; ++i) {
      const T *xr = x + i * channels;
      const T *ar = a + i * channels;
      const int64_t base = i * channels;
      T *dxr = dx + base;
      DLK_NORMADD_IVDEP
      for (int64_t c = 0; c < channels; ++c) {
        const T g = ew::reluMasked(sumAt(base + c), ar[c]);
        dxr[c] = ew::inputGradient(g, xr[c], m[c], invStd[c], scale[c], count,
                                   sumG[c], sumGXhat[c]);
      }
    }
  });
}

/// Gradient of batchnorm_add_batchnorm_relu_train: with ds = sum(da) *
/// (a > 0), each batchnorm's dgamma_k = sum(ds * xhat_k), dbeta_k =
/// sum(ds) and dx_k as batchnorm_train_grad's from ds (any may be null).
/// The sums of both come from one pass, dx1 and dx2 from one more; ds is
/// never stored. dx1 may share da[0]'s buffer.
template <typename T>
void batchnorm_add_batchnorm_relu_train_grad(
    int64_t n, const NormAddDims &d, const T *x1, const T *gamma1,
    const T *beta1, const T *mean1, const T *var1, const T *x2, const T *gamma2,
    const T *beta2, const T *mean2, const T *var2, const T *a,
    const T *const *da, T *dx1, T *dgamma1, T *dbeta1, T *dx2, T *dgamma2,
    T *dbeta2, unsigned char *workspace) {
  (void)beta1;
  (void)beta2;
  const int64_t rows = n * d.rows, channels = d.channels;
  ew::NormAddScratch<T> w(workspace, channels);
  ew::batchConstants(channels, mean1, var1, d.epsilon, w.first);
  ew::batchConstants(channels, mean2, var2, d.epsilon2, w.second);
  const T *m1 = w.first.mean, *is1 = w.first.invStd;
  const T *m2 = w.second.mean, *is2 = w.second.invStd;
  // Totals: sum(ds), sum(ds * xhat1), sum(ds * xhat2).
  const double *sumsG = w.wideSums;
  const double *sumsX1 = sumsG + channels, *sumsX2 = sumsX1 + channels;
  ew::withGradientSum(da, d.gradients, [&](auto sumAt) {
    ew::channelSums(
        rows, 3 * channels, w.widePartials, w.wideSums,
        [&](int64_t i, double *__restrict acc) {
          const T *x1r = x1 + i * channels;
          const T *x2r = x2 + i * channels;
          const T *ar = a + i * channels;
          const int64_t base = i * channels;
          DLK_NORMADD_IVDEP
          for (int64_t c = 0; c < channels; ++c) {
            const double g =
                static_cast<double>(ew::reluMasked(sumAt(base + c), ar[c]));
            acc[c] += g;
            acc[channels + c] += ew::xhatTerm(g, x1r[c], m1[c], is1[c]);
            acc[2 * channels + c] += ew::xhatTerm(g, x2r[c], m2[c], is2[c]);
          }
        });
    for (int64_t c = 0; c < channels; ++c) {
      if (dgamma1)
        dgamma1[c] = static_cast<T>(sumsX1[c]);
      if (dbeta1)
        dbeta1[c] = static_cast<T>(sumsG[c]);
      if (dgamma2)
        dgamma2[c] = static_cast<T>(sumsX2[c]);
      if (dbeta2)
        dbeta2[c] = static_cast<T>(sumsG[c]);
    }
    if (!dx1 && !dx2)
      return;
    T *scale1 = reinterpret_cast<T *>(w.first.partials);
    T *sumG = scale1 + channels, *sumGX1 = sumG + channels;
    T *scale2 = reinterpret_cast<T *>(w.second.partials);
    T *sumG2 = scale2 + channels, *sumGX2 = sumG2 + channels;
    ew::inputGradientConstants(rows, channels, gamma1, is1, sumsG, sumsX1,
                               scale1, sumG, sumGX1);
    ew::inputGradientConstants(rows, channels, gamma2, is2, sumsG, sumsX2,
                               scale2, sumG2, sumGX2);
    const T count = static_cast<T>(rows);
    if (dx1 && dx2) {
      DLK_EW_PARALLEL_FOR(rows * channels)
      for (int64_t i = 0; i < rows; ++i) {
        const T *x1r = x1 + i * channels;
        const T *x2r = x2 + i * channels;
        const T *ar = a + i * channels;
        const int64_t base = i * channels;
        T *dx1r = dx1 + base;
        T *dx2r = dx2 + base;
        DLK_NORMADD_IVDEP
        for (int64_t c = 0; c < channels; ++c) {
          const T g = ew::reluMasked(sumAt(base + c), ar[c]);
          dx1r[c] = ew::inputGradient(g, x1r[c], m1[c], is1[c], scale1[c],
                                      count, sumG[c], sumGX1[c]);
          dx2r[c] = ew::inputGradient(g, x2r[c], m2[c], is2[c], scale2[c],
                                      count, sumG2[c], sumGX2[c]);
        }
      }
      return;
    }
    // One of the two inputs needs no gradient.
    const bool first = dx1 != nullptr;
    const T *x = first ? x1 : x2;
    const T *m = first ? m1 : m2, *is = first ? is1 : is2;
    const T *scale = first ? scale1 : scale2;
    const T *sg = first ? sumG : sumG2, *sgx = first ? sumGX1 : sumGX2;
    T *dx = first ? dx1 : dx2;
    DLK_EW_PARALLEL_FOR(rows * channels)
    for (int64_t i = 0; i < rows; ++i) {
      const T *xr = x + i * channels;
      const T *ar = a + i * channels;
      const int64_t base = i * channels;
      T *dxr = dx + base;
      DLK_NORMADD_IVDEP
      for (int64_t c = 0; c < channels; ++c) {
        const T g = ew::reluMasked(sumAt(base + c), ar[c]);
        dxr[c] = ew::inputGradient(g, xr[c], m[c], is[c], scale[c], count,
                                   sg[c], sgx[c]);
      }
    }
  });
}

} // namespace dlk

#endif // DLC_CODEGEN_CPU_KERNELS_FUSEDNORMADD_H
