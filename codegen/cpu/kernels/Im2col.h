//===- Im2col.h - convolution geometry, im2col/col2im and bias helpers ----===//
//
// Header-only C++17, namespace dlk. A 2-D convolution x[N, H, W, C] *
// kernel[KH, KW, C/G, F] -> y[N, OH, OW, F] becomes, per group g, a matrix
// product: the "column" matrix col[N*OH*OW, KH*KW*C/G] holds, for each
// output cell, the input cells its window reads (zero outside the input),
// so that y[:, g*F/G ...] = col * kernel[:, :, :, g*F/G ...]. col2im is the
// transpose: it adds each column row back onto the input cells it came from.
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
/// and columns ow*sw + j*dw - padLeft. `chunk`: how many examples one
/// im2col pass of the workspace holds (see convChunk()).
struct Conv2dDims {
  int64_t h, w, c, oh, ow, f, kh, kw, sh, sw, dh, dw, padTop, padLeft, groups,
      chunk;
};

/// Elements of one workspace im2col pass at most (1 MiB of float: small
/// passes stay in the caches).
constexpr int64_t kIm2colElements = int64_t(1) << 18;

/// Examples per im2col pass: as many as fit kIm2colElements, at least one,
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

/// Workspace elements a conv2d (or its gradient) needs: one im2col pass.
constexpr int64_t convWorkspaceElements(const Conv2dDims &d) {
  return isPointwise(d) ? 0 : d.chunk * d.oh * d.ow * im2colColumns(d);
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

/// col[r, (i*KW + j)*Cg + cc] for the `nb` examples at `x` and group
/// `group`: r = (e*OH + oh)*OW + ow.
template <typename T>
void im2col(const Conv2dDims &d, const T *x, int64_t nb, int64_t group,
            T *col) {
  const int64_t cg = d.c / d.groups, cols = im2colColumns(d);
  const int64_t lines = nb * d.oh;
  DLK_GEMM_OMP(parallel for schedule(static))
  for (int64_t line = 0; line < lines; ++line) {
    const int64_t e = line / d.oh, oh = line % d.oh;
    const T *xe = x + e * d.h * d.w * d.c + group * cg;
    for (int64_t ow = 0; ow < d.ow; ++ow) {
      T *dst = col + (line * d.ow + ow) * cols;
      for (int64_t i = 0; i < d.kh; ++i) {
        const int64_t ih = oh * d.sh + i * d.dh - d.padTop;
        T *dstRow = dst + i * d.kw * cg;
        if (ih < 0 || ih >= d.h) {
          std::fill(dstRow, dstRow + d.kw * cg, T(0));
          continue;
        }
        for (int64_t j = 0; j < d.kw; ++j) {
          const int64_t iw = ow * d.sw + j * d.dw - d.padLeft;
          T *cell = dstRow + j * cg;
          if (iw < 0 || iw >= d.w) {
            std::fill(cell, cell + cg, T(0));
            continue;
          }
          const T *src = xe + (ih * d.w + iw) * d.c;
          for (int64_t cc = 0; cc < cg; ++cc)
            cell[cc] = src[cc];
        }
      }
    }
  }
}

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

//===----------------------------------------------------------------------===//
// The three products of a convolution (no bias)
//===----------------------------------------------------------------------===//

/// y = conv(x, kernel) for n examples; `col` holds convWorkspaceElements.
/// `epi` (Epilogue.h) finishes each output tile as the GEMM stores it.
template <typename T, typename Epilogue = NoEpilogue>
void convForwardData(int64_t n, const Conv2dDims &d, const T *x,
                     const T *kernel, T *y, T *col,
                     const Epilogue &epi = Epilogue()) {
  const int64_t pixels = d.oh * d.ow, inSize = d.h * d.w * d.c;
  if (isPointwise(d)) {
    gemm<T>(false, false, n * pixels, d.f, d.c, x, d.c, kernel, d.f, y, d.f,
            false, epi);
    return;
  }
  const int64_t fg = d.f / d.groups, cols = im2colColumns(d);
  const int64_t chunk = d.chunk > 0 ? d.chunk : n;
  for (int64_t n0 = 0; n0 < n; n0 += chunk) {
    const int64_t nb = std::min(chunk, n - n0);
    for (int64_t g = 0; g < d.groups; ++g) {
      im2col(d, x + n0 * inSize, nb, g, col);
      gemm<T>(false, false, nb * pixels, fg, cols, col, cols, kernel + g * fg,
              d.f, y + n0 * pixels * d.f + g * fg, d.f, false,
              epi.shifted(g * fg));
    }
  }
}

/// dx = the input gradient of conv for output gradient dy.
template <typename T>
void convBackwardData(int64_t n, const Conv2dDims &d, const T *dy,
                      const T *kernel, T *dx, T *col) {
  const int64_t pixels = d.oh * d.ow, inSize = d.h * d.w * d.c;
  if (isPointwise(d)) {
    gemm<T>(false, true, n * pixels, d.c, d.f, dy, d.f, kernel, d.f, dx, d.c,
            false);
    return;
  }
  zeroFill(n * inSize, dx);
  const int64_t fg = d.f / d.groups, cols = im2colColumns(d);
  const int64_t chunk = d.chunk > 0 ? d.chunk : n;
  for (int64_t n0 = 0; n0 < n; n0 += chunk) {
    const int64_t nb = std::min(chunk, n - n0);
    for (int64_t g = 0; g < d.groups; ++g) {
      gemm<T>(false, true, nb * pixels, cols, fg,
              dy + n0 * pixels * d.f + g * fg, d.f, kernel + g * fg, d.f, col,
              cols, false);
      col2im(d, col, nb, g, dx + n0 * inSize);
    }
  }
}

/// dkernel = the kernel gradient of conv for input x and output gradient
/// dy, summed over the n examples (chunks in order).
template <typename T>
void convBackwardFilter(int64_t n, const Conv2dDims &d, const T *x, const T *dy,
                        T *dkernel, T *col) {
  const int64_t pixels = d.oh * d.ow, inSize = d.h * d.w * d.c;
  const int64_t fg = d.f / d.groups, cols = im2colColumns(d);
  if (n <= 0) {
    std::fill(dkernel, dkernel + cols * d.f, T(0));
    return;
  }
  if (isPointwise(d)) {
    gemm<T>(true, false, d.c, d.f, n * pixels, x, d.c, dy, d.f, dkernel, d.f,
            false);
    return;
  }
  const int64_t chunk = d.chunk > 0 ? d.chunk : n;
  for (int64_t n0 = 0; n0 < n; n0 += chunk) {
    const int64_t nb = std::min(chunk, n - n0);
    for (int64_t g = 0; g < d.groups; ++g) {
      im2col(d, x + n0 * inSize, nb, g, col);
      gemm<T>(true, false, cols, fg, nb * pixels, col, cols,
              dy + n0 * pixels * d.f + g * fg, d.f, dkernel + g * fg, d.f,
              n0 > 0);
    }
  }
}

} // namespace conv_detail
} // namespace dlk

#endif // DLC_CODEGEN_CPU_KERNELS_IM2COL_H
