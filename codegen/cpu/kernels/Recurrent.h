//===- Recurrent.h - CPU kernels of lstm, gru and their gradients ---------===//
//
// Keras 3 semantics (as test/reference/RecurrentRef.cpp): activation tanh,
// recurrent activation sigmoid, zero initial states; LSTM gate order
// i, f, c, o; GRU with reset_after=true, gate order z, r, h, bias[2, 3u]
// (row 0 input bias, row 1 recurrent bias). x is [n, T, D], the output
// [n, T, u] (return_sequences) or [n, u].
//
// Every kernel first computes x.W (+ bias) for all n*T rows as one GEMM,
// then runs the recurrence over blocks of examples (OpenMP over blocks), the
// recurrent product of a block being a small GEMM per step. The gradient
// kernels recompute the forward into their workspace, keep the gate
// gradients of every step and then form the weight gradients as GEMMs whose
// summation order is fixed: results do not depend on the thread count.
//
// The gradient kernels work through the batch in chunks of examples
// (lstmGradChunk, gruGradChunk), sized so that their workspace plus the
// parameter gradients they write stay within the forward's workspace: the
// backward of a recurrent layer then never needs more memory than its
// forward. The weight gradients keep accumulating from chunk to chunk in
// the same order, so every result is bit for bit what one chunk of the
// whole batch gives.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_KERNELS_RECURRENT_H
#define DLC_CODEGEN_CPU_KERNELS_RECURRENT_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace dlk {

/// Compile-time sizes of one lstm/gru call (per example; the batch is n).
struct RecurrentDims {
  int64_t steps;    ///< T
  int64_t features; ///< D
  int64_t units;    ///< u
  bool useBias;
  bool returnSequences;
};

namespace recurrent_detail {

/// Workspace parts are rounded to 16 elements (64 bytes for float), so each
/// part stays 64-byte aligned.
constexpr int64_t roundUp(int64_t elements) {
  return (elements + 15) / 16 * 16;
}

/// Takes `count` elements of T from the front of `ws`.
template <typename T> T *carve(unsigned char *&ws, int64_t count) {
  T *part = reinterpret_cast<T *>(ws);
  ws += roundUp(count) * static_cast<int64_t>(sizeof(T));
  return part;
}

/// Examples per block of the recurrence: one OpenMP work item.
constexpr int64_t kBlockRows = 8;

template <typename T> inline T mulAdd(T a, T b, T c) {
#ifdef __FMA__
  return std::fma(a, b, c);
#else
  return a * b + c;
#endif
}

/// The bit layout of T for expOf.
template <typename T> struct FloatBits;
template <> struct FloatBits<float> {
  using Int = int32_t;
  static constexpr int kMantissa = 23;
  static constexpr Int kBias = 127;
  static constexpr float kLow = -87.0f, kHigh = 88.0f;
  static constexpr float kMagic = 12582912.0f; // 1.5 * 2^23
  static constexpr Int kMagicBits = 0x4B400000;
};
template <> struct FloatBits<double> {
  using Int = int64_t;
  static constexpr int kMantissa = 52;
  static constexpr Int kBias = 1023;
  static constexpr double kLow = -707.0, kHigh = 709.0;
  static constexpr double kMagic = 6755399441055744.0; // 1.5 * 2^52
  static constexpr Int kMagicBits = 0x4338000000000000;
};

/// exp(v) without a library call, so that loops over it vectorize: v =
/// k ln2 + r with |r| <= ln2/2, exp(r) by its Taylor series (degree 7 for
/// float, 13 for double: truncation below the rounding error), times 2^k
/// built in the exponent bits. Arguments are clamped to the finite range
/// (exp(-87) ~ 1.6e-38 for float is as good as 0 here); NaN stays NaN.
template <typename T> inline T expOf(T v) {
  using Bits = FloatBits<T>;
  using Int = typename Bits::Int;
  T x = v > Bits::kLow ? v : Bits::kLow; // also maps NaN to kLow
  x = x < Bits::kHigh ? x : Bits::kHigh;
  // k = round(x / ln2): adding 1.5 * 2^mantissa rounds to an integer that
  // then sits in the low mantissa bits.
  const T shifted = x * T(1.4426950408889634) + Bits::kMagic;
  const T k = shifted - Bits::kMagic;
  Int shiftedBits;
  std::memcpy(&shiftedBits, &shifted, sizeof(T));
  const T r = (x - k * T(0.693145751953125)) - k * T(1.4286068203094173e-06);
  // exp(r) = 1 + r (1 + r/2 (1 + r/3 (...))).
  constexpr int kDegree = sizeof(T) == 4 ? 7 : 13;
  T p = T(1);
  for (int i = kDegree; i >= 1; --i)
    p = T(1) + p * (r * (T(1) / T(i)));
  const Int bits = (shiftedBits - Bits::kMagicBits + Bits::kBias)
                   << Bits::kMantissa;
  T scale;
  std::memcpy(&scale, &bits, sizeof(T));
  const T result = p * scale;
  return v == v ? result : v;
}

template <typename T> inline T sigmoid(T v) {
  return T(1) / (T(1) + expOf(-v));
}

/// tanh(v) = sign(v) (1 - e) / (1 + e) with e = exp(-2|v|) <= 1: accurate to
/// a few ulps of 1 (absolute), which is what the gates need.
template <typename T> inline T tanhOf(T v) {
  const T e = expOf(T(-2) * std::abs(v));
  const T magnitude = (T(1) - e) / (T(1) + e);
  return v < T(0) ? -magnitude : magnitude;
}

/// c[i*ldc + j] += sum_p a[i*aRow + p*aCol] * b[p*ldb + j] for i < m,
/// j < cols, p < k. Serial; every element sums p in ascending order, so the
/// result does not depend on how callers split the rows.
template <typename T>
inline void gemmAcc(int64_t m, int64_t cols, int64_t k, const T *__restrict a,
                    int64_t aRow, int64_t aCol, const T *__restrict b,
                    int64_t ldb, T *__restrict c, int64_t ldc) {
  constexpr int64_t MR = 4;
  constexpr int64_t NR = 128 / static_cast<int64_t>(sizeof(T));
  for (int64_t j0 = 0; j0 < cols; j0 += NR) {
    const int64_t nr = std::min(NR, cols - j0);
    for (int64_t i0 = 0; i0 < m; i0 += MR) {
      const int64_t mr = std::min(MR, m - i0);
      const T *ai = a + i0 * aRow;
      T *ci = c + i0 * ldc + j0;
      if (mr == MR && nr == NR) {
        T acc[MR][NR];
        for (int64_t r = 0; r < MR; ++r)
          for (int64_t j = 0; j < NR; ++j)
            acc[r][j] = ci[r * ldc + j];
        for (int64_t p = 0; p < k; ++p) {
          const T *bp = b + p * ldb + j0;
          T av[MR];
          for (int64_t r = 0; r < MR; ++r)
            av[r] = ai[r * aRow + p * aCol];
          for (int64_t r = 0; r < MR; ++r)
            for (int64_t j = 0; j < NR; ++j)
              acc[r][j] = mulAdd(av[r], bp[j], acc[r][j]);
        }
        for (int64_t r = 0; r < MR; ++r)
          for (int64_t j = 0; j < NR; ++j)
            ci[r * ldc + j] = acc[r][j];
      } else {
        for (int64_t r = 0; r < mr; ++r) {
          T acc[NR];
          T *cr = ci + r * ldc;
          for (int64_t j = 0; j < nr; ++j)
            acc[j] = cr[j];
          for (int64_t p = 0; p < k; ++p) {
            const T *bp = b + p * ldb + j0;
            const T av = ai[r * aRow + p * aCol];
            for (int64_t j = 0; j < nr; ++j)
              acc[j] = mulAdd(av, bp[j], acc[j]);
          }
          for (int64_t j = 0; j < nr; ++j)
            cr[j] = acc[j];
        }
      }
    }
  }
}

/// out[j * rows + i] = in[i * cols + j].
template <typename T>
inline void transpose(const T *__restrict in, int64_t rows, int64_t cols,
                      T *__restrict out) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      out[j * rows + i] = in[i * cols + j];
}

/// g[m, :] = bias (or 0) + x[m, :] . w for the rows m < rows, as a GEMM
/// split over blocks of rows.
template <typename T>
inline void inputProjection(int64_t rows, int64_t features, int64_t width,
                            const T *x, const T *w, const T *bias, T *g) {
  constexpr int64_t kRowsPerTask = 32;
  const int64_t tasks = (rows + kRowsPerTask - 1) / kRowsPerTask;
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
  for (int64_t task = 0; task < tasks; ++task) {
    const int64_t r0 = task * kRowsPerTask;
    const int64_t count = std::min(kRowsPerTask, rows - r0);
    T *gt = g + r0 * width;
    for (int64_t r = 0; r < count; ++r)
      for (int64_t j = 0; j < width; ++j)
        gt[r * width + j] = bias ? bias[j] : T(0);
    gemmAcc(count, width, features, x + r0 * features, features, int64_t(1), w,
            width, gt, width);
  }
}

/// dx[m, :] = dg[m, :] . wT for every row m < rows (wT is [width, D]).
template <typename T>
inline void inputGradient(int64_t rows, int64_t features, int64_t width,
                          const T *dg, const T *wT, T *dx) {
  constexpr int64_t kRowsPerTask = 32;
  const int64_t tasks = (rows + kRowsPerTask - 1) / kRowsPerTask;
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
  for (int64_t task = 0; task < tasks; ++task) {
    const int64_t r0 = task * kRowsPerTask;
    const int64_t count = std::min(kRowsPerTask, rows - r0);
    std::fill(dx + r0 * features, dx + (r0 + count) * features, T(0));
    gemmAcc(count, features, width, dg + r0 * width, width, int64_t(1), wT,
            features, dx + r0 * features, features);
  }
}

/// dw[k, :] = sum over rows m of x[m, k] * dg[m, :]: the kernel gradient,
/// split over blocks of k (each output element sums m in order). With
/// `accumulate`, the sum continues from dw (the rows of a later chunk).
template <typename T>
inline void kernelGradient(int64_t rows, int64_t features, int64_t width,
                           const T *x, const T *dg, T *dw, bool accumulate) {
  constexpr int64_t kOutRowsPerTask = 16;
  const int64_t tasks = (features + kOutRowsPerTask - 1) / kOutRowsPerTask;
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
  for (int64_t task = 0; task < tasks; ++task) {
    const int64_t k0 = task * kOutRowsPerTask;
    const int64_t count = std::min(kOutRowsPerTask, features - k0);
    if (!accumulate)
      std::fill(dw + k0 * width, dw + (k0 + count) * width, T(0));
    gemmAcc(count, width, rows, x + k0, int64_t(1), features, dg, width,
            dw + k0 * width, width);
  }
}

/// drw[k, :] = sum over examples b < n and steps t >= 1 of
/// h[b, t-1, k] * dg[b, t, :]: the recurrent kernel gradient (h is
/// [n, T, u], dg [n, T, width]; h before step 0 is zero). With
/// `accumulate`, the sum continues from drw.
template <typename T>
inline void recurrentKernelGradient(int64_t n, int64_t steps, int64_t units,
                                    int64_t width, const T *h, const T *dg,
                                    T *drw, bool accumulate) {
  constexpr int64_t kOutRowsPerTask = 16;
  const int64_t tasks = (units + kOutRowsPerTask - 1) / kOutRowsPerTask;
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
  for (int64_t task = 0; task < tasks; ++task) {
    const int64_t k0 = task * kOutRowsPerTask;
    const int64_t count = std::min(kOutRowsPerTask, units - k0);
    if (!accumulate)
      std::fill(drw + k0 * width, drw + (k0 + count) * width, T(0));
    for (int64_t b = 0; b < n; ++b)
      gemmAcc(count, width, steps - 1, h + b * steps * units + k0, int64_t(1),
              units, dg + (b * steps + 1) * width, width, drw + k0 * width,
              width);
  }
}

/// db[j] = sum over rows m of dg[m, j], split over blocks of columns. With
/// `accumulate`, the sum continues from db.
template <typename T>
inline void biasGradient(int64_t rows, int64_t width, const T *dg, T *db,
                         bool accumulate) {
  constexpr int64_t kColsPerTask = 64;
  const int64_t tasks = (width + kColsPerTask - 1) / kColsPerTask;
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
  for (int64_t task = 0; task < tasks; ++task) {
    const int64_t j0 = task * kColsPerTask;
    const int64_t count = std::min(kColsPerTask, width - j0);
    T acc[kColsPerTask];
    for (int64_t j = 0; j < count; ++j)
      acc[j] = accumulate ? db[j0 + j] : T(0);
    for (int64_t m = 0; m < rows; ++m)
      for (int64_t j = 0; j < count; ++j)
        acc[j] += dg[m * width + j0 + j];
    for (int64_t j = 0; j < count; ++j)
      db[j0 + j] = acc[j];
  }
}

/// Adds dy's gradient of h_t of example b to dh (u values).
template <typename T>
inline void addOutputGrad(const RecurrentDims &d, const T *dy, int64_t b,
                          int64_t t, T *__restrict dh) {
  const int64_t u = d.units;
  const T *src = nullptr;
  if (d.returnSequences)
    src = dy + (b * d.steps + t) * u;
  else if (t == d.steps - 1)
    src = dy + b * u;
  if (src)
    for (int64_t k = 0; k < u; ++k)
      dh[k] += src[k];
}

/// Writes h_t of example b to y when it is part of the output.
template <typename T>
inline void storeOutput(const RecurrentDims &d, const T *__restrict h,
                        int64_t b, int64_t t, T *__restrict y) {
  const int64_t u = d.units;
  if (d.returnSequences)
    std::memcpy(y + (b * d.steps + t) * u, h, sizeof(T) * u);
  else if (t == d.steps - 1)
    std::memcpy(y + b * u, h, sizeof(T) * u);
}

} // namespace recurrent_detail

//===----------------------------------------------------------------------===//
// Workspace sizes (elements of T; the emitter multiplies by sizeof(T))
//===----------------------------------------------------------------------===//

inline int64_t lstmWorkspaceElements(int64_t n, const RecurrentDims &d) {
  using recurrent_detail::roundUp;
  const int64_t u = d.units;
  return roundUp(n * d.steps * 4 * u) + 2 * roundUp(n * u);
}

namespace recurrent_detail {

/// The workspace of lstm_grad working through `chunk` examples at a time.
inline int64_t lstmGradChunkElements(int64_t chunk, const RecurrentDims &d) {
  const int64_t u = d.units, rows = chunk * d.steps;
  return roundUp(rows * 4 * u) + 2 * roundUp(rows * u) +
         3 * roundUp(chunk * u) + roundUp(4 * u * u) +
         roundUp(4 * u * d.features);
}

/// The elements of a layer's parameter gradients (kernel, recurrent kernel,
/// bias of `biasRows` rows) with `gates` gates.
inline int64_t parameterGradElements(const RecurrentDims &d, int64_t gates,
                                     int64_t biasRows) {
  const int64_t width = gates * d.units;
  return width * (d.features + d.units + (d.useBias ? biasRows : 0));
}

/// The most examples per chunk, at least 1 and at most n, whose workspace
/// `elements(chunk)` plus `extra` fits in `budget` (1 when none does).
template <typename Elements>
inline int64_t largestChunk(int64_t n, int64_t budget, int64_t extra,
                            Elements elements) {
  if (n <= 1)
    return 1;
  int64_t lo = 1, hi = n; // elements() grows with the chunk
  if (elements(hi) + extra <= budget)
    return n;
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (elements(mid) + extra <= budget)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

} // namespace recurrent_detail

/// Examples per chunk of lstm_grad for a batch of n: as many as keep its
/// workspace plus its parameter gradients within lstm's workspace.
inline int64_t lstmGradChunk(int64_t n, const RecurrentDims &d) {
  using namespace recurrent_detail;
  return largestChunk(
      n, lstmWorkspaceElements(n, d), parameterGradElements(d, 4, 1),
      [&](int64_t chunk) { return lstmGradChunkElements(chunk, d); });
}

inline int64_t lstmGradWorkspaceElements(int64_t n, const RecurrentDims &d) {
  return recurrent_detail::lstmGradChunkElements(lstmGradChunk(n, d), d);
}

inline int64_t gruWorkspaceElements(int64_t n, const RecurrentDims &d) {
  using recurrent_detail::roundUp;
  const int64_t u = d.units;
  return roundUp(n * d.steps * 3 * u) + roundUp(n * 3 * u) + roundUp(n * u);
}

namespace recurrent_detail {

/// The workspace of gru_grad working through `chunk` examples at a time.
inline int64_t gruGradChunkElements(int64_t chunk, const RecurrentDims &d) {
  const int64_t u = d.units, rows = chunk * d.steps;
  return 2 * roundUp(rows * 3 * u) + 2 * roundUp(rows * u) +
         roundUp(chunk * 3 * u) + 2 * roundUp(chunk * u) + roundUp(3 * u * u) +
         roundUp(3 * u * d.features);
}

} // namespace recurrent_detail

/// Examples per chunk of gru_grad for a batch of n (as lstmGradChunk).
inline int64_t gruGradChunk(int64_t n, const RecurrentDims &d) {
  using namespace recurrent_detail;
  return largestChunk(
      n, gruWorkspaceElements(n, d), parameterGradElements(d, 3, 2),
      [&](int64_t chunk) { return gruGradChunkElements(chunk, d); });
}

inline int64_t gruGradWorkspaceElements(int64_t n, const RecurrentDims &d) {
  return recurrent_detail::gruGradChunkElements(gruGradChunk(n, d), d);
}

//===----------------------------------------------------------------------===//
// LSTM
//===----------------------------------------------------------------------===//

namespace recurrent_detail {

/// The LSTM forward over examples [0, n). g holds x.W + b for every step
/// ([n, T, 4u]) and is turned into the gate activations i, f, g, o.
/// Trace (gradient): states are kept per step, hs/cs [n, T, u]. Otherwise
/// hs/cs are [n, u] (the latest state) and h_t goes to y.
template <bool Trace, typename T>
inline void lstmRecurrence(int64_t n, const RecurrentDims &d, const T *rw, T *g,
                           T *hs, T *cs, T *y) {
  const int64_t steps = d.steps, u = d.units, width = 4 * u;
  const int64_t stateStride = Trace ? steps * u : u;
  const int64_t blocks = (n + kBlockRows - 1) / kBlockRows;
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const int64_t b0 = blk * kBlockRows;
    const int64_t rowsHere = std::min(kBlockRows, n - b0);
    for (int64_t t = 0; t < steps; ++t) {
      T *gt = g + (b0 * steps + t) * width;
      const int64_t stateAt = Trace ? t * u : 0;
      const int64_t prevAt = Trace ? (t - 1) * u : 0;
      if (t > 0)
        gemmAcc(rowsHere, width, u, hs + b0 * stateStride + prevAt, stateStride,
                int64_t(1), rw, width, gt, steps * width);
      for (int64_t r = 0; r < rowsHere; ++r) {
        const int64_t b = b0 + r;
        T *__restrict gr = gt + r * steps * width;
        // Without Trace, c and cPrev (h and hPrev) are the same buffer.
        T *c = cs + b * stateStride + stateAt;
        T *h = hs + b * stateStride + stateAt;
        const T *cPrev = cs + b * stateStride + (t > 0 ? prevAt : stateAt);
        for (int64_t k = 0; k < u; ++k) {
          const T i = sigmoid(gr[k]);
          const T f = sigmoid(gr[u + k]);
          const T cand = tanhOf(gr[2 * u + k]);
          const T o = sigmoid(gr[3 * u + k]);
          const T cNew = t > 0 ? f * cPrev[k] + i * cand : i * cand;
          c[k] = cNew;
          h[k] = o * tanhOf(cNew);
          if (Trace) {
            gr[k] = i;
            gr[u + k] = f;
            gr[2 * u + k] = cand;
            gr[3 * u + k] = o;
          }
        }
        if (!Trace)
          storeOutput(d, h, b, t, y);
      }
    }
  }
}

} // namespace recurrent_detail

/// y = LSTM(x) with kernel w[D, 4u], recurrent_kernel rw[u, 4u] and bias
/// b[4u] (nullptr when !useBias).
template <typename T>
void lstm(int64_t n, const RecurrentDims &d, const T *x, const T *w,
          const T *rw, const T *b, T *y, unsigned char *workspace) {
  using namespace recurrent_detail;
  if (n <= 0)
    return;
  const int64_t u = d.units;
  unsigned char *ws = workspace;
  T *g = carve<T>(ws, n * d.steps * 4 * u);
  T *hs = carve<T>(ws, n * u);
  T *cs = carve<T>(ws, n * u);
  inputProjection(n * d.steps, d.features, 4 * u, x, w, d.useBias ? b : nullptr,
                  g);
  lstmRecurrence<false>(n, d, rw, g, hs, cs, y);
}

namespace recurrent_detail {

/// lstm_grad of examples [0, n) of a chunk (x, dy, dx point at its first
/// example); the parameter gradients continue from earlier chunks when
/// `accumulate`. rwT and wT (when dx) are the transposed kernels.
template <typename T>
void lstmGradChunkStep(int64_t n, const RecurrentDims &d, const T *x,
                       const T *w, const T *rw, const T *b, const T *dy, T *dx,
                       T *dw, T *drw, T *db, bool accumulate, T *g, T *cs,
                       T *hs, T *dhAll, T *dcAll, T *dhNextAll, const T *rwT,
                       const T *wT) {
  const int64_t steps = d.steps, u = d.units, width = 4 * u;
  const int64_t rows = n * steps;
  inputProjection(rows, d.features, width, x, w, d.useBias ? b : nullptr, g);
  lstmRecurrence<true>(n, d, rw, g, hs, cs, static_cast<T *>(nullptr));

  // Backpropagation through time, per block of examples.
  const int64_t blocks = (n + kBlockRows - 1) / kBlockRows;
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const int64_t b0 = blk * kBlockRows;
    const int64_t rowsHere = std::min(kBlockRows, n - b0);
    std::fill(dhAll + b0 * u, dhAll + (b0 + rowsHere) * u, T(0));
    std::fill(dcAll + b0 * u, dcAll + (b0 + rowsHere) * u, T(0));
    for (int64_t t = steps - 1; t >= 0; --t) {
      for (int64_t r = 0; r < rowsHere; ++r) {
        const int64_t bIdx = b0 + r;
        T *__restrict dh = dhAll + bIdx * u;
        T *__restrict dc = dcAll + bIdx * u;
        addOutputGrad(d, dy, bIdx, t, dh);
        T *__restrict gr = g + (bIdx * steps + t) * width;
        const T *c = cs + (bIdx * steps + t) * u;
        const T *cPrev = t > 0 ? c - u : c;
        for (int64_t k = 0; k < u; ++k) {
          const T i = gr[k], f = gr[u + k], cand = gr[2 * u + k],
                  o = gr[3 * u + k];
          const T tc = tanhOf(c[k]);
          const T dcTotal = dc[k] + dh[k] * o * (T(1) - tc * tc);
          const T cp = t > 0 ? cPrev[k] : T(0);
          gr[k] = dcTotal * cand * i * (T(1) - i);
          gr[u + k] = dcTotal * cp * f * (T(1) - f);
          gr[2 * u + k] = dcTotal * i * (T(1) - cand * cand);
          gr[3 * u + k] = dh[k] * tc * o * (T(1) - o);
          dc[k] = dcTotal * f;
        }
      }
      if (t == 0)
        break;
      // dh_{t-1} = dz_t . rw^T for the block.
      T *dhNext = dhNextAll + b0 * u;
      std::fill(dhNext, dhNext + rowsHere * u, T(0));
      gemmAcc(rowsHere, u, width, g + (b0 * steps + t) * width, steps * width,
              int64_t(1), rwT, u, dhNext, u);
      std::copy(dhNext, dhNext + rowsHere * u, dhAll + b0 * u);
    }
  }

  if (dx)
    inputGradient(rows, d.features, width, g, wT, dx);
  if (dw)
    kernelGradient(rows, d.features, width, x, g, dw, accumulate);
  if (drw)
    recurrentKernelGradient(n, steps, u, width, hs, g, drw, accumulate);
  if (db && d.useBias)
    biasGradient(rows, width, g, db, accumulate);
}

} // namespace recurrent_detail

/// Gradients of the LSTM: dx [n, T, D], dw, drw, db (each may be nullptr and
/// is then skipped) from dy, the gradient of y. The forward is recomputed,
/// `chunk` examples at a time (0: lstmGradChunk(n); the workspace must hold
/// lstmGradChunkElements of the chunk). Every chunk size gives the same
/// results, bit for bit.
template <typename T>
void lstm_grad(int64_t n, const RecurrentDims &d, const T *x, const T *w,
               const T *rw, const T *b, const T * /*y*/, const T *dy, T *dx,
               T *dw, T *drw, T *db, unsigned char *workspace,
               int64_t chunk = 0) {
  using namespace recurrent_detail;
  if (n <= 0) {
    // No examples: the parameter gradients are zero.
    if (dw)
      std::fill(dw, dw + d.features * 4 * d.units, T(0));
    if (drw)
      std::fill(drw, drw + d.units * 4 * d.units, T(0));
    if (db && d.useBias)
      std::fill(db, db + 4 * d.units, T(0));
    return;
  }
  const int64_t steps = d.steps, u = d.units, width = 4 * u;
  const int64_t chunkSize =
      chunk > 0 ? std::min(chunk, n) : lstmGradChunk(n, d);
  const int64_t chunkRows = chunkSize * steps;
  unsigned char *ws = workspace;
  T *g = carve<T>(ws, chunkRows * width); // gates, then their gradients
  T *cs = carve<T>(ws, chunkRows * u);
  T *hs = carve<T>(ws, chunkRows * u);
  T *dhAll = carve<T>(ws, chunkSize * u);
  T *dcAll = carve<T>(ws, chunkSize * u);
  T *dhNextAll = carve<T>(ws, chunkSize * u);
  T *rwT = carve<T>(ws, width * u);
  T *wT = carve<T>(ws, width * d.features);
  transpose(rw, u, width, rwT);
  if (dx)
    transpose(w, d.features, width, wT);
  for (int64_t c0 = 0; c0 < n; c0 += chunkSize) {
    const int64_t count = std::min(chunkSize, n - c0);
    lstmGradChunkStep(count, d, x + c0 * steps * d.features, w, rw, b,
                      dy + c0 * (d.returnSequences ? steps * u : u),
                      dx ? dx + c0 * steps * d.features : dx, dw, drw, db,
                      c0 > 0, g, cs, hs, dhAll, dcAll, dhNextAll, rwT, wT);
  }
}

//===----------------------------------------------------------------------===//
// GRU (reset_after = true)
//===----------------------------------------------------------------------===//

namespace recurrent_detail {

/// The GRU forward over examples [0, n). g holds x.W + b_in for every step
/// ([n, T, 3u]); hz is scratch [n, 3u]. Trace (gradient): g becomes the
/// activations z, r, hh per step, hzh [n, T, u] keeps (h.U + b_rec)_h and hs
/// [n, T, u] the states. Otherwise hs is [n, u] and h_t goes to y.
template <bool Trace, typename T>
inline void gruRecurrence(int64_t n, const RecurrentDims &d, const T *rw,
                          const T *recurrentBias, T *g, T *hz, T *hzh, T *hs,
                          T *y) {
  const int64_t steps = d.steps, u = d.units, width = 3 * u;
  const int64_t stateStride = Trace ? steps * u : u;
  const int64_t blocks = (n + kBlockRows - 1) / kBlockRows;
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const int64_t b0 = blk * kBlockRows;
    const int64_t rowsHere = std::min(kBlockRows, n - b0);
    T *hzBlock = hz + b0 * width;
    for (int64_t t = 0; t < steps; ++t) {
      const int64_t stateAt = Trace ? t * u : 0;
      const int64_t prevAt = Trace ? (t - 1) * u : 0;
      for (int64_t r = 0; r < rowsHere; ++r)
        for (int64_t j = 0; j < width; ++j)
          hzBlock[r * width + j] = recurrentBias ? recurrentBias[j] : T(0);
      if (t > 0)
        gemmAcc(rowsHere, width, u, hs + b0 * stateStride + prevAt, stateStride,
                int64_t(1), rw, width, hzBlock, width);
      for (int64_t r = 0; r < rowsHere; ++r) {
        const int64_t b = b0 + r;
        T *__restrict gr = g + (b * steps + t) * width;
        const T *__restrict hzr = hzBlock + r * width;
        // Without Trace, h and hPrev are the same buffer.
        T *h = hs + b * stateStride + stateAt;
        const T *hPrev = hs + b * stateStride + (t > 0 ? prevAt : stateAt);
        for (int64_t k = 0; k < u; ++k) {
          const T z = sigmoid(gr[k] + hzr[k]);
          const T rr = sigmoid(gr[u + k] + hzr[u + k]);
          const T hh = tanhOf(gr[2 * u + k] + rr * hzr[2 * u + k]);
          const T hp = t > 0 ? hPrev[k] : T(0);
          h[k] = z * hp + (T(1) - z) * hh;
          if (Trace) {
            gr[k] = z;
            gr[u + k] = rr;
            gr[2 * u + k] = hh;
            hzh[(b * steps + t) * u + k] = hzr[2 * u + k];
          }
        }
        if (!Trace)
          storeOutput(d, h, b, t, y);
      }
    }
  }
}

} // namespace recurrent_detail

/// y = GRU(x) with kernel w[D, 3u], recurrent_kernel rw[u, 3u] and bias
/// b[2, 3u] (nullptr when !useBias).
template <typename T>
void gru(int64_t n, const RecurrentDims &d, const T *x, const T *w, const T *rw,
         const T *b, T *y, unsigned char *workspace) {
  using namespace recurrent_detail;
  if (n <= 0)
    return;
  const int64_t u = d.units, width = 3 * u;
  unsigned char *ws = workspace;
  T *g = carve<T>(ws, n * d.steps * width);
  T *hz = carve<T>(ws, n * width);
  T *hs = carve<T>(ws, n * u);
  const T *bias = d.useBias ? b : nullptr;
  inputProjection(n * d.steps, d.features, width, x, w, bias, g);
  gruRecurrence<false>(n, d, rw, bias ? bias + width : bias, g, hz,
                       static_cast<T *>(nullptr), hs, y);
}

namespace recurrent_detail {

/// gru_grad of examples [0, n) of a chunk (x, dy, dx point at its first
/// example); the parameter gradients continue from earlier chunks when
/// `accumulate`. rwT and wT (when dx) are the transposed kernels.
template <typename T>
void gruGradChunkStep(int64_t n, const RecurrentDims &d, const T *x, const T *w,
                      const T *rw, const T *b, const T *dy, T *dx, T *dw,
                      T *drw, T *db, bool accumulate, T *g, T *dhz, T *hzh,
                      T *hs, T *hz, T *dhAll, T *dhNextAll, const T *rwT,
                      const T *wT) {
  const int64_t steps = d.steps, u = d.units, width = 3 * u;
  const int64_t rows = n * steps;
  const T *bias = d.useBias ? b : nullptr;
  inputProjection(rows, d.features, width, x, w, bias, g);
  gruRecurrence<true>(n, d, rw, bias ? bias + width : bias, g, hz, hzh, hs,
                      static_cast<T *>(nullptr));

  const int64_t blocks = (n + kBlockRows - 1) / kBlockRows;
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const int64_t b0 = blk * kBlockRows;
    const int64_t rowsHere = std::min(kBlockRows, n - b0);
    std::fill(dhAll + b0 * u, dhAll + (b0 + rowsHere) * u, T(0));
    for (int64_t t = steps - 1; t >= 0; --t) {
      T *dhNext = dhNextAll + b0 * u;
      for (int64_t r = 0; r < rowsHere; ++r) {
        const int64_t bIdx = b0 + r;
        const int64_t at = bIdx * steps + t;
        T *__restrict dh = dhAll + bIdx * u;
        addOutputGrad(d, dy, bIdx, t, dh);
        T *__restrict gr = g + at * width;
        T *__restrict dhzr = dhz + at * width;
        const T *hzhr = hzh + at * u;
        const T *hPrev = hs + (t > 0 ? at - 1 : at) * u;
        T *__restrict dhn = dhNext + r * u;
        for (int64_t k = 0; k < u; ++k) {
          const T z = gr[k], rr = gr[u + k], hh = gr[2 * u + k];
          const T hp = t > 0 ? hPrev[k] : T(0);
          const T dCand = dh[k] * (T(1) - z) * (T(1) - hh * hh);
          const T dUpdate = dh[k] * (hp - hh) * z * (T(1) - z);
          const T dReset = dCand * hzhr[k] * rr * (T(1) - rr);
          gr[k] = dhzr[k] = dUpdate;
          gr[u + k] = dhzr[u + k] = dReset;
          gr[2 * u + k] = dCand;
          dhzr[2 * u + k] = dCand * rr;
          dhn[k] = dh[k] * z;
        }
      }
      if (t == 0)
        break;
      gemmAcc(rowsHere, u, width, dhz + (b0 * steps + t) * width, steps * width,
              int64_t(1), rwT, u, dhNext, u);
      std::copy(dhNext, dhNext + rowsHere * u, dhAll + b0 * u);
    }
  }

  if (dx)
    inputGradient(rows, d.features, width, g, wT, dx);
  if (dw)
    kernelGradient(rows, d.features, width, x, g, dw, accumulate);
  if (drw)
    recurrentKernelGradient(n, steps, u, width, hs, dhz, drw, accumulate);
  if (db && d.useBias) {
    biasGradient(rows, width, g, db, accumulate);
    biasGradient(rows, width, dhz, db + width, accumulate);
  }
}

} // namespace recurrent_detail

/// Gradients of the GRU: dx, dw, drw, db[2, 3u] (each may be nullptr and
/// is then skipped) from dy. The forward is recomputed, `chunk` examples
/// at a time (0: gruGradChunk(n); the workspace must hold
/// gruGradChunkElements of the chunk). Every chunk size gives the same
/// results, bit for bit.
template <typename T>
void gru_grad(int64_t n, const RecurrentDims &d, const T *x, const T *w,
              const T *rw, const T *b, const T * /*y*/, const T *dy, T *dx,
              T *dw, T *drw, T *db, unsigned char *workspace,
              int64_t chunk = 0) {
  using namespace recurrent_detail;
  if (n <= 0) {
    if (dw)
      std::fill(dw, dw + d.features * 3 * d.units, T(0));
    if (drw)
      std::fill(drw, drw + d.units * 3 * d.units, T(0));
    if (db && d.useBias)
      std::fill(db, db + 6 * d.units, T(0));
    return;
  }
  const int64_t steps = d.steps, u = d.units, width = 3 * u;
  const int64_t chunkSize = chunk > 0 ? std::min(chunk, n) : gruGradChunk(n, d);
  const int64_t chunkRows = chunkSize * steps;
  unsigned char *ws = workspace;
  T *g = carve<T>(ws, chunkRows * width);   // activations, then d(x.W + b_in)
  T *dhz = carve<T>(ws, chunkRows * width); // d(h.U + b_rec) per step
  T *hzh = carve<T>(ws, chunkRows * u);
  T *hs = carve<T>(ws, chunkRows * u);
  T *hz = carve<T>(ws, chunkSize * width);
  T *dhAll = carve<T>(ws, chunkSize * u);
  T *dhNextAll = carve<T>(ws, chunkSize * u);
  T *rwT = carve<T>(ws, width * u);
  T *wT = carve<T>(ws, width * d.features);
  transpose(rw, u, width, rwT);
  if (dx)
    transpose(w, d.features, width, wT);
  for (int64_t c0 = 0; c0 < n; c0 += chunkSize) {
    const int64_t count = std::min(chunkSize, n - c0);
    gruGradChunkStep(count, d, x + c0 * steps * d.features, w, rw, b,
                     dy + c0 * (d.returnSequences ? steps * u : u),
                     dx ? dx + c0 * steps * d.features : dx, dw, drw, db,
                     c0 > 0, g, dhz, hzh, hs, hz, dhAll, dhNextAll, rwT, wT);
  }
}

} // namespace dlk

#endif // DLC_CODEGEN_CPU_KERNELS_RECURRENT_H
