//===- Im2col.h - convolution geometry, im2col/col2im and bias helpers ----===//
//
// Header-only C++17, namespace dlk. A 2-D convolution x[N, H, W, C] *
// kernel[KH, KW, C/G, F] -> y[N, OH, OW, F] becomes, per group g, a matrix
// product: the "column" matrix col[N*OH*OW, KH*KW*C/G] holds, for each
// output cell, the input cells its window reads (zero outside the input),
// so that y[:, g*F/G ...] = col * kernel[:, :, :, g*F/G ...]. The forward
// product and the kernel gradient never store col: their GEMM's A operand
// (ConvColumnsOperand, ConvColumnsTransposedOperand) reads x's cells as it
// packs its panels. The input gradient stores dy * kernel^T as columns in a
// workspace, chunks of the batch at a time, and col2im (the transpose) adds
// each column row back onto the input cells it came from.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_KERNELS_IM2COL_H
#define DLC_CODEGEN_CPU_KERNELS_IM2COL_H

#include "codegen/cpu/kernels/Gemm.h"

#include <algorithm>
#include <cstdint>

namespace dlk {

/// A 2-D convolution x[n, h, w, c] * kernel[kh, kw, c/groups, f] ->
/// y[n, oh, ow, f]: output (oh, ow) reads input rows oh*sh + i*dh - padTop
/// and columns ow*sw + j*dw - padLeft. `chunk`: how many examples' columns
/// the input gradient's workspace holds at a time (see convChunk()).
struct Conv2dDims {
  int64_t h, w, c, oh, ow, f, kh, kw, sh, sw, dh, dw, padTop, padLeft, groups,
      chunk;
};

/// Elements of one chunk of stored columns at most (1 MiB of float: small
/// chunks stay in the caches).
constexpr int64_t kIm2colElements = int64_t(1) << 18;

/// Examples per chunk of columns: as many as fit kIm2colElements, at least one,
/// at most maxBatch. `rowElements` = OH*OW*KH*KW*C/G of one example.
constexpr int64_t convChunk(int64_t rowElements, int64_t maxBatch) {
  int64_t fit = rowElements > 0 ? kIm2colElements / rowElements : maxBatch;
  return std::max<int64_t>(1, std::min<int64_t>(fit, maxBatch));
}

/// Whether the convolution is a plain matrix product over the channels
/// (1x1 kernel, unit strides, no padding, one group): col would be x.
constexpr bool isPointwise(const Conv2dDims &d) {
  return d.kh == 1 && d.kw == 1 && d.sh == 1 && d.sw == 1 && d.padTop == 0 &&
         d.padLeft == 0 && d.groups == 1 && d.oh == d.h && d.ow == d.w;
}

/// Columns of col for one group: KH*KW*C/G.
constexpr int64_t im2colColumns(const Conv2dDims &d) {
  return d.kh * d.kw * (d.groups > 0 ? d.c / d.groups : 0);
}

/// The most columns (KH*KW*C/G) the direct kernels (DirectConv.h) take:
/// their packed kernel panel, k x 2 vectors, must stay in L2 (256 KiB of
/// float with AVX-512). A bound on the shape alone, so that the compiler
/// (planning workspaces) and the generated program agree on it.
constexpr int64_t kDirectMaxColumns = 2048;

/// Whether the input gradient of `d` is the direct forward product of a
/// convolution of dy with the flipped kernel (ConvProducts.h): unit
/// strides, one group, a window, few enough columns, and at least 8 input
/// channels (the flipped convolution's filters: fewer would leave most
/// vector lanes idle).
constexpr bool directInputGradient(const Conv2dDims &d) {
  return !isPointwise(d) && d.groups == 1 && d.sh == 1 && d.sw == 1 &&
         d.c >= 8 && d.kh * d.kw * d.f <= kDirectMaxColumns;
}

/// Workspace elements of an input gradient (conv2d_grad's dx, and so
/// conv2d_transpose's forward): one chunk of columns, or none where the
/// product is a plain GEMM or direct.
constexpr int64_t convWorkspaceElements(const Conv2dDims &d) {
  return isPointwise(d) || directInputGradient(d)
             ? 0
             : d.chunk * d.oh * d.ow * im2colColumns(d);
}

namespace conv_detail {

/// The taps [begin, end) of a window of k taps (dilation dil) at output o
/// whose input index o*s + i*dil - pad lies inside [0, in).
inline void windowRange(int64_t o, int64_t s, int64_t dil, int64_t pad,
                        int64_t k, int64_t in, int64_t &begin, int64_t &end) {
  const int64_t start = o * s - pad;
  begin = 0;
  if (start < 0)
    begin = (-start + dil - 1) / dil;
  end = k;
  // start + (end - 1) * dil < in  <=>  end <= (in - 1 - start) / dil + 1
  if (start + (k - 1) * dil >= in)
    end = in - 1 - start < 0 ? 0 : (in - 1 - start) / dil + 1;
  if (end < begin)
    end = begin;
}

/// The output cell of row r of the column matrix: example e, row oh and
/// column ow of the output.
struct OutputCell {
  int64_t e, oh, ow;

  OutputCell(const Conv2dDims &d, int64_t r) {
    const int64_t pixels = d.oh * d.ow;
    e = r / pixels;
    oh = r % pixels / d.ow;
    ow = r % d.ow;
  }

  /// The next row's cell.
  void advance(const Conv2dDims &d) {
    if (++ow == d.ow) {
      ow = 0;
      if (++oh == d.oh) {
        oh = 0;
        ++e;
      }
    }
  }
};

/// op(A) = the column matrix col[r, (i*KW + j)*Cg + cc] of group `group`
/// (rows r over the examples at x, see im2col), read from x while it is
/// packed: no column matrix is ever stored. A GEMM operand (see
/// MatrixOperandA in Gemm.h): C = op(A) * kernel is the convolution.
template <typename T> struct ConvColumnsOperand {
  const Conv2dDims &d;
  const T *x;
  int64_t group;

  /// x's cell for output cell `cell` and tap `tap` (i*KW + j), at the
  /// group's first channel, or nullptr where the window is padding.
  const T *tapInput(const OutputCell &cell, int64_t tap) const {
    const int64_t ih = cell.oh * d.sh + tap / d.kw * d.dh - d.padTop;
    const int64_t iw = cell.ow * d.sw + tap % d.kw * d.dw - d.padLeft;
    if (ih < 0 || ih >= d.h || iw < 0 || iw >= d.w)
      return nullptr;
    return x + ((cell.e * d.h + ih) * d.w + iw) * d.c +
           group * (d.c / d.groups);
  }

  T at(int64_t r, int64_t p) const {
    const int64_t cg = d.c / d.groups;
    const T *src = tapInput(OutputCell(d, r), p / cg);
    return src ? src[p % cg] : T(0);
  }

  template <int MR>
  void pack(int64_t ic, int64_t pc, int64_t mc, int64_t kc,
            T *__restrict out) const {
    const int64_t cg = d.c / d.groups;
    for (int64_t ir = 0; ir < mc; ir += MR) {
      const int64_t mr = std::min<int64_t>(MR, mc - ir);
      T *panel = out + ir * kc;
      OutputCell cell(d, ic + ir);
      for (int64_t i = 0; i < mr; ++i, cell.advance(d)) {
        int64_t k = 0, tap = pc / cg, cc = pc % cg;
        while (k < kc) {
          const int64_t run = std::min(cg - cc, kc - k);
          const T *src = tapInput(cell, tap);
          T *dst = panel + k * MR + i;
          if (src)
            for (int64_t q = 0; q < run; ++q)
              dst[q * MR] = src[cc + q];
          else
            for (int64_t q = 0; q < run; ++q)
              dst[q * MR] = T(0);
          k += run;
          ++tap;
          cc = 0;
        }
      }
      for (int64_t i = mr; i < MR; ++i)
        for (int64_t k = 0; k < kc; ++k)
          panel[k * MR + i] = T(0);
    }
  }
};

/// op(A) = col^T, the transposed column matrix (rows: the columns
/// (i*KW + j)*Cg + cc; k: the rows r over the examples at x), read from x
/// while it is packed. C = op(A) * dy is the kernel gradient.
template <typename T> struct ConvColumnsTransposedOperand {
  ConvColumnsOperand<T> columns;

  T at(int64_t i, int64_t p) const { return columns.at(p, i); }

  template <int MR>
  void pack(int64_t ic, int64_t pc, int64_t mc, int64_t kc,
            T *__restrict out) const {
    const Conv2dDims &d = columns.d;
    const int64_t cg = d.c / d.groups;
    for (int64_t ir = 0; ir < mc; ir += MR) {
      const int64_t mr = std::min<int64_t>(MR, mc - ir);
      T *panel = out + ir * kc;
      const int64_t first = ic + ir, lastTap = (first + mr - 1) / cg;
      OutputCell cell(d, pc);
      for (int64_t k = 0; k < kc; ++k, cell.advance(d)) {
        T *dst = panel + k * MR;
        // The panel's rows span one tap or a few: copy each tap's run of
        // channels from x's cell.
        int64_t i = 0;
        for (int64_t tap = first / cg; tap <= lastTap; ++tap) {
          const int64_t cc = tap == first / cg ? first % cg : 0;
          const int64_t run = std::min(cg - cc, mr - i);
          const T *src = columns.tapInput(cell, tap);
          if (src)
            for (int64_t q = 0; q < run; ++q)
              dst[i + q] = src[cc + q];
          else
            for (int64_t q = 0; q < run; ++q)
              dst[i + q] = T(0);
          i += run;
        }
        for (; i < MR; ++i)
          dst[i] = T(0);
      }
    }
  }
};

/// dx[e, ih, iw, group*Cg + cc] += col[r, (i*KW + j)*Cg + cc] for every
/// product of the `nb` examples at `dx` (the transpose of im2col). Each
/// example is summed by one thread in a fixed order.
template <typename T>
void col2im(const Conv2dDims &d, const T *col, int64_t nb, int64_t group,
            T *dx) {
  const int64_t cg = d.c / d.groups, cols = im2colColumns(d);
  DLK_GEMM_OMP(parallel for schedule(static))
  for (int64_t e = 0; e < nb; ++e) {
    T *dxe = dx + e * d.h * d.w * d.c + group * cg;
    for (int64_t oh = 0; oh < d.oh; ++oh)
      for (int64_t ow = 0; ow < d.ow; ++ow) {
        const T *src = col + ((e * d.oh + oh) * d.ow + ow) * cols;
        for (int64_t i = 0; i < d.kh; ++i) {
          const int64_t ih = oh * d.sh + i * d.dh - d.padTop;
          if (ih < 0 || ih >= d.h)
            continue;
          for (int64_t j = 0; j < d.kw; ++j) {
            const int64_t iw = ow * d.sw + j * d.dw - d.padLeft;
            if (iw < 0 || iw >= d.w)
              continue;
            T *dst = dxe + (ih * d.w + iw) * d.c;
            const T *cell = src + (i * d.kw + j) * cg;
            for (int64_t cc = 0; cc < cg; ++cc)
              dst[cc] += cell[cc];
          }
        }
      }
  }
}

/// y[r, f] += bias[f] for `rows` rows of `f` channels.
template <typename T>
void addBias(int64_t rows, int64_t f, const T *bias, T *y) {
  DLK_GEMM_OMP(parallel for schedule(static))
  for (int64_t r = 0; r < rows; ++r) {
    T *row = y + r * f;
    for (int64_t j = 0; j < f; ++j)
      row[j] += bias[j];
  }
}

/// dbias[f] = sum over the rows of dy[r, f], rows ascending.
template <typename T>
void biasGradient(int64_t rows, int64_t f, const T *dy, T *dbias) {
  std::fill(dbias, dbias + f, T(0));
  for (int64_t r = 0; r < rows; ++r) {
    const T *row = dy + r * f;
    for (int64_t j = 0; j < f; ++j)
      dbias[j] += row[j];
  }
}

/// x[0, count) = 0, in parallel.
template <typename T> void zeroFill(int64_t count, T *x) {
  constexpr int64_t kBlock = 1 << 14;
  const int64_t blocks = (count + kBlock - 1) / kBlock;
  DLK_GEMM_OMP(parallel for schedule(static))
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t begin = b * kBlock;
    std::fill(x + begin, x + std::min(count, begin + kBlock), T(0));
  }
}

} // namespace conv_detail
} // namespace dlk

#endif // DLC_CODEGEN_CPU_KERNELS_IM2COL_H
