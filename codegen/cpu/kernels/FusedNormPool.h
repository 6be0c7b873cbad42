//===- FusedNormPool.h - training batchnorm + relu + max-pool kernels -----===//
//
// The kernels of dl.batchnorm_relu_maxpool_train and its gradient
// (ir/DLFusedNormPoolOps.td): x[n, h, w, c] (channels last), a max pool whose
// windows do not overlap (strides >= pool size; Pooling.h's window and
// padding semantics), and batchnorm's statistics and helpers
// (Normalization.h), so that they compute what batchnorm_relu_train +
// maxpool2d and maxpool2d_grad + batchnorm_relu_train_grad compute (the
// forward bit for bit; the backward the same terms and arg-max choices,
// its sums added in another order) and are as deterministic: results
// depend on the thread count not at all.
//
//   batchnorm_relu_maxpool_train       one pass of batch statistics
//       (ew::batchStatistics), then one pass over the windows computing
//       relu(gamma * xhat + beta) of their cells and writing the maxima;
//       the relu output is never stored.
//   batchnorm_relu_maxpool_train_grad  no indices from the forward: band
//       by band (a band is one output row's input rows), each window's
//       arg-max is recomputed from x and the statistics with the forward's
//       arithmetic and maxpool2d_grad's tie rule (the first maximal cell),
//       and dy is routed to it (0 + dy, as the scatter into a zeroed buffer
//       gives; 0 elsewhere and at positions in no window) through the relu
//       mask (ew::upstreamGradient's value). The first pass reduces dgamma,
//       dbeta in double (ew::gradientSums's terms; only the arg-max cells,
//       the others' terms being 0, in fixed chunks of bands) and records
//       each pooled element's winner (its cell in the window and whether
//       the relu mask kills it) as a code in the workspace; the second
//       writes dx as ew::trainInputGradient does from those codes, without
//       searching the windows again. dx may be x's buffer: the reductions
//       end before any write, the codes are not in x, and the last pass
//       reads each x element before writing its dx.
//
// The backward keeps one window's arg-maxes and routed gradients in a
// per-chunk slot of its workspace, then the winner codes of the whole batch
// (normPoolGradWorkspaceBytes).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_KERNELS_FUSEDNORMPOOL_H
#define DLC_CODEGEN_CPU_KERNELS_FUSEDNORMPOOL_H

#include "codegen/cpu/kernels/Normalization.h"
#include "codegen/cpu/kernels/Pooling.h"

#include <cstdint>
#include <type_traits>
#include <vector>

namespace dlk {

/// The pool over x[h, w, c] (windows must not overlap) and batchnorm's
/// epsilon.
struct NormPool2dDims {
  Pool2dDims pool;
  double epsilon;
};

namespace normpool_detail {

/// The bytes of `count` elements of `elementBytes`, rounded up to 64.
constexpr int64_t alignedBytes(int64_t count, int64_t elementBytes) {
  return (count * elementBytes + 63) / 64 * 64;
}

/// Bytes of one window slot for T of `elementBytes`: a window's maxima, the
/// inputs at them, their cells (indices as wide as T) and the gradients
/// routed there, c of each.
constexpr int64_t slotBytes(const Pool2dDims &d, int64_t elementBytes) {
  return 4 * alignedBytes(d.c, elementBytes);
}

/// A winner code is 2 * cell + (relu mask kills it ? 1 : 0), the cell
/// row-major in its window: one byte when the windows have at most this
/// many cells.
constexpr int64_t kByteCodeCells = 128;

/// Whether the winner codes of pool `d` are bytes.
constexpr bool byteCodes(const Pool2dDims &d) {
  return d.ph * d.pw <= kByteCodeCells;
}

/// The bytes of one winner code: 1, or as wide as conv_detail::CellIndex of
/// T of `elementBytes` (which holds any cell of a window).
constexpr int64_t codeBytes(const Pool2dDims &d, int64_t elementBytes) {
  return byteCodes(d) ? 1 : elementBytes == 4 ? 4 : 8;
}

/// The wide winner code for T.
template <typename T>
using WideCode = std::make_unsigned_t<conv_detail::CellIndex<T>>;

} // namespace normpool_detail

/// Scratch bytes of batchnorm_relu_maxpool_train: batchnorm's.
constexpr int64_t normPoolWorkspaceBytes(int64_t channels) {
  return normalizationWorkspaceBytes(channels);
}

/// Where batchnorm_relu_maxpool_train_grad's winner codes start in its
/// workspace: after batchnorm's scratch and one window slot per chunk of the
/// work.
constexpr int64_t normPoolGradCodesOffset(const Pool2dDims &d,
                                          int64_t elementBytes) {
  return normalizationWorkspaceBytes(d.c) +
         ew::kReductionChunks * normpool_detail::slotBytes(d, elementBytes);
}

/// Scratch bytes of batchnorm_relu_maxpool_train_grad for the pool `d`, T of
/// `elementBytes` and batches up to `maxBatch`: the window slots, then one
/// winner code per pooled element (maxBatch * oh * ow * c).
constexpr int64_t normPoolGradWorkspaceBytes(const Pool2dDims &d,
                                             int64_t elementBytes,
                                             int64_t maxBatch) {
  return normPoolGradCodesOffset(d, elementBytes) +
         normpool_detail::alignedBytes(
             maxBatch * d.oh * d.ow * d.c,
             normpool_detail::codeBytes(d, elementBytes));
}

namespace normpool_detail {

/// relu(gamma * (x - mean) * invStd + beta) with batchnorm_relu_train's
/// expression.
template <typename T>
inline T reluNormalized(T x, T mean, T invStd, T gamma, T beta) {
  const T v = ew::normalizedValue(x, mean, invStd, gamma, beta);
  return v > T(0) ? v : T(0);
}

/// The windows of a pool whose windows do not overlap, and for each input
/// row (column) the output row (column) whose windows hold it, or -1.
struct DisjointWindows : conv_detail::PoolWindows {
  std::vector<int64_t> rowOwner, colOwner;

  explicit DisjointWindows(const Pool2dDims &d)
      : PoolWindows(d), rowOwner(size_t(d.h), -1), colOwner(size_t(d.w), -1) {
    for (int64_t r = 0; r < d.oh; ++r)
      for (int64_t ih = rowBegin[size_t(r)]; ih < rowEnd[size_t(r)]; ++ih)
        rowOwner[size_t(ih)] = r;
    for (int64_t q = 0; q < d.ow; ++q)
      for (int64_t iw = colBegin[size_t(q)]; iw < colEnd[size_t(q)]; ++iw)
        colOwner[size_t(iw)] = q;
  }
};

/// Per channel: the statistics' mean and 1/sqrt(var + eps) in T, gamma and
/// beta.
template <typename T> struct ChannelConstants {
  const T *mean, *invStd, *gamma, *beta;
};

/// One window slot in the workspace (see slotBytes).
template <typename T> struct WindowSlot {
  T *best;
  T *input;
  conv_detail::CellIndex<T> *where;
  T *grad;

  WindowSlot(unsigned char *workspace, const Pool2dDims &d, int64_t slot) {
    const int64_t part = alignedBytes(d.c, static_cast<int64_t>(sizeof(T)));
    unsigned char *base = workspace + normalizationWorkspaceBytes(d.c) +
                          slot * slotBytes(d, static_cast<int64_t>(sizeof(T)));
    best = reinterpret_cast<T *>(base);
    input = reinterpret_cast<T *>(base + part);
    where = reinterpret_cast<conv_detail::CellIndex<T> *>(base + 2 * part);
    grad = reinterpret_cast<T *>(base + 3 * part);
  }
};

/// For the window rows [ih0, ih1) x columns [iw0, iw1) of example xe (x's
/// example; dyWindow its pooled gradient), per channel: the maximum of the
/// relu output recomputed from x (batchnorm_relu_train's expression) into
/// best, x there into input, its row-major cell into where (windowArgMax's
/// order and tie rule: the first strictly larger value wins, as
/// maxpool2d_grad and maxpool2d_indices find it in that output), and the
/// gradient of the relu output's cell there, upstreamGradient<true>(0 +
/// dy) = (0 + dy) * (max > 0), into grad, and the winner code (see
/// kByteCodeCells) into code. The window must not be empty. (Pointers, not
/// a WindowSlot: GCC vectorizes the loops only so.)
template <typename T, typename Code>
void windowGradient(const T *xe, int64_t w, int64_t c, int64_t ih0, int64_t ih1,
                    int64_t iw0, int64_t iw1, const ChannelConstants<T> &k,
                    const T *dyWindow, T *__restrict best, T *__restrict input,
                    conv_detail::CellIndex<T> *__restrict where,
                    T *__restrict grad, Code *__restrict code) {
  const T *__restrict mean = k.mean, *__restrict invStd = k.invStd,
                      *__restrict gamma = k.gamma, *__restrict beta = k.beta;
  const T *first = xe + (ih0 * w + iw0) * c;
  for (int64_t ci = 0; ci < c; ++ci) {
    best[ci] =
        reluNormalized(first[ci], mean[ci], invStd[ci], gamma[ci], beta[ci]);
    input[ci] = first[ci];
    where[ci] = 0;
  }
  conv_detail::CellIndex<T> cell = 0;
  for (int64_t ih = ih0; ih < ih1; ++ih)
    for (int64_t iw = iw0; iw < iw1; ++iw, ++cell) {
      if (cell == 0)
        continue;
      const T *in = xe + (ih * w + iw) * c;
      for (int64_t ci = 0; ci < c; ++ci) {
        const T v =
            reluNormalized(in[ci], mean[ci], invStd[ci], gamma[ci], beta[ci]);
        // Loads, then plain stores of blends: no masked stores, which
        // GCC guards with a branch.
        const T b = best[ci], x = in[ci], i = input[ci];
        const conv_detail::CellIndex<T> at = where[ci];
        const bool larger = v > b;
        best[ci] = larger ? v : b;
        input[ci] = larger ? x : i;
        where[ci] = larger ? cell : at;
      }
    }
  const T *__restrict dy = dyWindow;
  for (int64_t ci = 0; ci < c; ++ci) {
    const bool live = best[ci] > T(0);
    grad[ci] = (T(0) + dy[ci]) * (live ? T(1) : T(0));
    code[ci] = static_cast<Code>(2 * where[ci] + (live ? 0 : 1));
  }
}

/// The inverse of windowGradient's last loop for one window: from its
/// winner codes and dy, the cells into where and the routed gradients into
/// grad (the same expression, so the same bits).
template <typename T, typename Code>
inline void decodeWindow(const Code *__restrict code, const T *__restrict dy,
                         int64_t c, conv_detail::CellIndex<T> *__restrict where,
                         T *__restrict grad) {
  for (int64_t ci = 0; ci < c; ++ci) {
    const Code at = code[ci];
    where[ci] = static_cast<conv_detail::CellIndex<T>>(at >> 1);
    grad[ci] = (T(0) + dy[ci]) * ((at & 1) == 0 ? T(1) : T(0));
  }
}

/// dx of `positions` positions from row xr (into dxr) whose relu output gets
/// no gradient: ew::trainInputGradient's expression with g = 0.
template <typename T>
inline void
ungradedInputGradient(const T *xr, T *dxr, int64_t positions, int64_t c,
                      const T *__restrict mean, const T *__restrict invStd,
                      const T *__restrict scale, const T *__restrict sumG,
                      const T *__restrict sumGXhat, T count) {
  for (int64_t i = 0; i < positions * c; i += c)
    for (int64_t ci = 0; ci < c; ++ci) {
      const T g = T(0);
      const T xhat = (xr[i + ci] - mean[ci]) * invStd[ci];
      dxr[i + ci] = scale[ci] * (count * g - sumG[ci] - xhat * sumGXhat[ci]);
    }
}

} // namespace normpool_detail

/// Training batchnorm, relu, then max pooling: y = maxpool2d(relu(gamma *
/// (x - mean) * invStd + beta)) with the batch's mean and biased variance,
/// which it also returns (either may be null). Null y: the statistics
/// only.
template <typename T>
void batchnorm_relu_maxpool_train(int64_t n, const NormPool2dDims &d,
                                  const T *x, const T *gamma, const T *beta,
                                  T *y, T *mean, T *var,
                                  unsigned char *workspace) {
  const Pool2dDims &p = d.pool;
  const int64_t c = p.c, w = p.w, oh = p.oh, ow = p.ow, inSize = p.h * w * c;
  ew::NormalizationScratch<T> s(workspace, c);
  ew::batchStatistics(n * p.h * w, c, x, d.epsilon, s, mean, var);
  if (!y)
    return;
  const conv_detail::PoolWindows win(p);
  const T *__restrict m = s.mean, *__restrict invStd = s.invStd;
  const int64_t lines = n * oh;
  DLK_EW_PARALLEL_FOR(n * inSize)
  for (int64_t line = 0; line < lines; ++line) {
    const int64_t e = line / oh, r = line % oh;
    const T *xe = x + e * inSize;
    const int64_t ih0 = win.rowBegin[size_t(r)], ih1 = win.rowEnd[size_t(r)];
    for (int64_t q = 0; q < ow; ++q) {
      T *out = y + (line * ow + q) * c;
      const int64_t iw0 = win.colBegin[size_t(q)], iw1 = win.colEnd[size_t(q)];
      if (ih0 >= ih1 || iw0 >= iw1) {
        std::fill(out, out + c, T(0));
        continue;
      }
      conv_detail::windowMaxOf(
          w, c, ih0, ih1, iw0, iw1,
          [&](int64_t offset, int64_t ci) {
            return normpool_detail::reluNormalized(
                xe[offset + ci], m[ci], invStd[ci], gamma[ci], beta[ci]);
          },
          out);
    }
  }
}

namespace normpool_detail {

/// batchnorm_relu_maxpool_train_grad with winner codes of type Code in
/// `codes` (one per pooled element of the batch, outside x and dx).
template <typename T, typename Code>
void trainGradient(int64_t n, const NormPool2dDims &d, const T *x,
                   const T *gamma, const T *beta, const T *mean, const T *var,
                   const T *dy, T *dx, T *dgamma, T *dbeta,
                   unsigned char *workspace, Code *codes) {
  const Pool2dDims &p = d.pool;
  const int64_t c = p.c, h = p.h, w = p.w, oh = p.oh, ow = p.ow;
  const int64_t inSize = h * w * c, rows = n * h * w;
  ew::NormalizationScratch<T> s(workspace, c);
  ew::batchConstants(c, mean, var, d.epsilon, s);
  const DisjointWindows win(p);
  const ChannelConstants<T> k{s.mean, s.invStd, gamma, beta};
  const T *__restrict m = s.mean, *__restrict invStd = s.invStd;

  // dgamma, dbeta: ew::gradientSums's terms at the arg-max cells (the
  // others' are 0), window by window in fixed chunks of bands, the chunk
  // partials added in chunk order; and each window's winner codes.
  const int64_t bands = n * oh, bandChunks = ew::chunkCount(bands);
  DLK_EW_PARALLEL_FOR(rows * c)
  for (int64_t chunk = 0; chunk < bandChunks; ++chunk) {
    const WindowSlot<T> slot(workspace, p, chunk);
    double *__restrict acc = s.partials + chunk * 2 * c;
    std::fill(acc, acc + 2 * c, 0.0);
    const int64_t end = ew::chunkBegin(chunk + 1, bandChunks, bands);
    for (int64_t band = ew::chunkBegin(chunk, bandChunks, bands); band < end;
         ++band) {
      const int64_t e = band / oh, r = band % oh;
      const int64_t ih0 = win.rowBegin[size_t(r)], ih1 = win.rowEnd[size_t(r)];
      for (int64_t q = 0; q < ow; ++q) {
        const int64_t iw0 = win.colBegin[size_t(q)],
                      iw1 = win.colEnd[size_t(q)];
        if (ih0 >= ih1 || iw0 >= iw1)
          continue;
        const int64_t at = (band * ow + q) * c;
        windowGradient(x + e * inSize, w, c, ih0, ih1, iw0, iw1, k, dy + at,
                       slot.best, slot.input, slot.where, slot.grad,
                       codes + at);
        const T *__restrict grad = slot.grad, *__restrict input = slot.input;
        for (int64_t ci = 0; ci < c; ++ci) {
          const double g = grad[ci];
          acc[ci] += g;
          acc[c + ci] +=
              g * (static_cast<double>(input[ci] - m[ci]) * invStd[ci]);
        }
      }
    }
  }
  std::fill(s.sums, s.sums + 2 * c, 0.0);
  for (int64_t chunk = 0; chunk < bandChunks; ++chunk)
    for (int64_t i = 0; i < 2 * c; ++i)
      s.sums[i] += s.partials[chunk * 2 * c + i];
  ew::parameterGradients<T>(c, s.sums, dgamma, dbeta, nullptr, nullptr);
  if (!dx)
    return;

  // dx, as ew::trainInputGradient: per example, a band's rows (window by
  // window from its winner codes, then the columns in no window) or a row in
  // no band, in fixed chunks.
  T *scale = reinterpret_cast<T *>(s.partials);
  T *sumG = scale + c, *sumGXhat = sumG + c;
  const T count = static_cast<T>(rows);
  for (int64_t ci = 0; ci < c; ++ci) {
    scale[ci] = gamma[ci] * s.invStd[ci] / count;
    sumG[ci] = static_cast<T>(s.sums[ci]);
    sumGXhat[ci] = static_cast<T>(s.sums[c + ci]);
  }
  std::vector<int64_t> groupBegin, freeColumns;
  for (int64_t ih = 0; ih < h; ++ih)
    if (ih == 0 || win.rowOwner[size_t(ih)] < 0 ||
        win.rowOwner[size_t(ih)] != win.rowOwner[size_t(ih - 1)])
      groupBegin.push_back(ih);
  const int64_t groups = static_cast<int64_t>(groupBegin.size());
  groupBegin.push_back(h);
  for (int64_t iw = 0; iw < w; ++iw)
    if (win.colOwner[size_t(iw)] < 0)
      freeColumns.push_back(iw);
  const int64_t units = n * groups, chunks = ew::chunkCount(units);
  DLK_EW_PARALLEL_FOR(rows * c)
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    const WindowSlot<T> slot(workspace, p, chunk);
    const int64_t end = ew::chunkBegin(chunk + 1, chunks, units);
    for (int64_t unit = ew::chunkBegin(chunk, chunks, units); unit < end;
         ++unit) {
      const int64_t e = unit / groups, group = unit % groups;
      const int64_t ih0 = groupBegin[size_t(group)],
                    ih1 = groupBegin[size_t(group) + 1];
      const int64_t r = win.rowOwner[size_t(ih0)];
      const T *xe = x + e * inSize;
      T *dxe = dx + e * inSize;
      if (r < 0) {
        for (int64_t ih = ih0; ih < ih1; ++ih)
          ungradedInputGradient(xe + ih * w * c, dxe + ih * w * c, w, c, m,
                                invStd, scale, sumG, sumGXhat, count);
        continue;
      }
      for (int64_t ih = ih0; ih < ih1; ++ih)
        for (int64_t iw : freeColumns)
          ungradedInputGradient(xe + (ih * w + iw) * c, dxe + (ih * w + iw) * c,
                                1, c, m, invStd, scale, sumG, sumGXhat, count);
      for (int64_t q = 0; q < ow; ++q) {
        const int64_t iw0 = win.colBegin[size_t(q)],
                      iw1 = win.colEnd[size_t(q)];
        if (iw0 >= iw1)
          continue;
        const int64_t at = ((e * oh + r) * ow + q) * c;
        decodeWindow(codes + at, dy + at, c, slot.where, slot.grad);
        const conv_detail::CellIndex<T> *__restrict where = slot.where;
        const T *__restrict grad = slot.grad;
        conv_detail::CellIndex<T> cell = 0;
        for (int64_t ih = ih0; ih < ih1; ++ih)
          for (int64_t iw = iw0; iw < iw1; ++iw, ++cell) {
            const T *xr = xe + (ih * w + iw) * c;
            T *dxr = dxe + (ih * w + iw) * c;
            for (int64_t ci = 0; ci < c; ++ci) {
              const T g = where[ci] == cell ? grad[ci] : T(0);
              const T xhat = (xr[ci] - m[ci]) * invStd[ci];
              dxr[ci] =
                  scale[ci] * (count * g - sumG[ci] - xhat * sumGXhat[ci]);
            }
          }
      }
    }
  }
}

} // namespace normpool_detail

/// Gradient of batchnorm_relu_maxpool_train from x, its statistics and the
/// pooled output's gradient dy: dgamma = sum(g * xhat), dbeta = sum(g)
/// (each may be null) and dx (may be null, may be x's buffer) as
/// batchnorm_train_grad's, g the relu-masked gradient routed to each
/// window's arg-max. The workspace holds normPoolGradWorkspaceBytes(d.pool,
/// sizeof(T), maxBatch) for n <= maxBatch.
template <typename T>
void batchnorm_relu_maxpool_train_grad(int64_t n, const NormPool2dDims &d,
                                       const T *x, const T *gamma,
                                       const T *beta, const T *mean,
                                       const T *var, const T *dy, T *dx,
                                       T *dgamma, T *dbeta,
                                       unsigned char *workspace) {
  unsigned char *codes =
      workspace +
      normPoolGradCodesOffset(d.pool, static_cast<int64_t>(sizeof(T)));
  if (normpool_detail::byteCodes(d.pool))
    normpool_detail::trainGradient(n, d, x, gamma, beta, mean, var, dy, dx,
                                   dgamma, dbeta, workspace,
                                   reinterpret_cast<uint8_t *>(codes));
  else
    normpool_detail::trainGradient(
        n, d, x, gamma, beta, mean, var, dy, dx, dgamma, dbeta, workspace,
        reinterpret_cast<normpool_detail::WideCode<T> *>(codes));
}

} // namespace dlk

#endif // DLC_CODEGEN_CPU_KERNELS_FUSEDNORMPOOL_H
