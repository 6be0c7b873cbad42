//===- ConvProducts.h - the three matrix products of a convolution --------===//
//
// Header-only C++17, namespace dlk. A convolution's forward product, input
// gradient and kernel gradient (no bias), over Im2col.h's column matrix:
// the forward directly (DirectConv.h) or as a GEMM reading the columns from
// x, the kernel gradient as a GEMM reading them from x, the input gradient
// as a GEMM storing columns that col2im adds back.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_KERNELS_CONVPRODUCTS_H
#define DLC_CODEGEN_CPU_KERNELS_CONVPRODUCTS_H

#include "codegen/cpu/kernels/DirectConv.h"
#include "codegen/cpu/kernels/Im2col.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace dlk {
namespace conv_detail {

/// y = conv(x, kernel) for n examples: directly (DirectConv.h) where the
/// kernel panel fits, else the GEMM reading its columns straight from x
/// (ConvColumnsOperand); no workspace either way. `epi` (Epilogue.h)
/// finishes each output tile as the GEMM stores it.
template <typename T, typename Epilogue = NoEpilogue>
void convForwardData(int64_t n, const Conv2dDims &d, const T *x,
                     const T *kernel, T *y, const Epilogue &epi = Epilogue()) {
  const int64_t pixels = d.oh * d.ow;
  if (isPointwise(d)) {
    gemm<T>(false, false, n * pixels, d.f, d.c, x, d.c, kernel, d.f, y, d.f,
            false, epi);
    return;
  }
  if (directForwardFits<T>(d)) {
    directConvForward(n, d, x, kernel, y, epi);
    return;
  }
  const int64_t fg = d.f / d.groups, cols = im2colColumns(d);
  for (int64_t g = 0; g < d.groups; ++g)
    gemmWithA(ConvColumnsOperand<T>{d, x, g}, false, n * pixels, fg, cols,
              kernel + g * fg, d.f, y + g * fg, d.f, false,
              epi.shifted(g * fg));
}

/// The flipped, transposed kernel of a direct input gradient (one per
/// thread, grown as needed).
template <typename T> std::vector<T> &flippedKernelBuffer() {
  static thread_local std::vector<T> buffer;
  return buffer;
}

/// dx = the input gradient of conv for output gradient dy: directly where
/// directInputGradient(d) holds, else columns dy * kernel^T, chunks of the
/// batch at a time in `col` (convWorkspaceElements(d)), added back with
/// col2im.
template <typename T>
void convBackwardData(int64_t n, const Conv2dDims &d, const T *dy,
                      const T *kernel, T *dx, T *col) {
  const int64_t pixels = d.oh * d.ow, inSize = d.h * d.w * d.c;
  if (isPointwise(d)) {
    gemm<T>(false, true, n * pixels, d.c, d.f, dy, d.f, kernel, d.f, dx, d.c,
            false);
    return;
  }
  if (directInputGradient(d)) {
    // dx[ih, iw, cc] = sum over taps (i, j) and filters of dy[ih + padTop -
    // i*dh, ...] * kernel[i, j, cc, :]: the convolution of dy (C = F input
    // channels) with the kernel flipped and transposed, [kh-1-i, kw-1-j, f,
    // cc], and padding dh*(kh-1) - padTop (negative padding crops).
    const Conv2dDims flipped{d.oh,
                             d.ow,
                             d.f,
                             d.h,
                             d.w,
                             d.c,
                             d.kh,
                             d.kw,
                             1,
                             1,
                             d.dh,
                             d.dw,
                             d.dh * (d.kh - 1) - d.padTop,
                             d.dw * (d.kw - 1) - d.padLeft,
                             1,
                             d.chunk};
    std::vector<T> &transposed = flippedKernelBuffer<T>();
    transposed.resize(size_t(d.kh * d.kw * d.f * d.c));
    for (int64_t i = 0; i < d.kh; ++i)
      for (int64_t j = 0; j < d.kw; ++j)
        for (int64_t cc = 0; cc < d.c; ++cc)
          for (int64_t f = 0; f < d.f; ++f)
            transposed[size_t(((i * d.kw + j) * d.f + f) * d.c + cc)] =
                kernel[(((d.kh - 1 - i) * d.kw + (d.kw - 1 - j)) * d.c + cc) *
                           d.f +
                       f];
    convForwardData(n, flipped, dy, transposed.data(), dx);
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
/// dy, summed over the n examples in order, the GEMM reading the columns
/// straight from x (ConvColumnsTransposedOperand): no workspace.
template <typename T>
void convBackwardFilter(int64_t n, const Conv2dDims &d, const T *x, const T *dy,
                        T *dkernel) {
  const int64_t pixels = d.oh * d.ow;
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
  if (directFilterFits<T>(d)) {
    directConvBackwardFilter(n, d, x, dy, dkernel);
    return;
  }
  for (int64_t g = 0; g < d.groups; ++g)
    gemmWithA(ConvColumnsTransposedOperand<T>{{d, x, g}}, false, cols, fg,
              n * pixels, dy + g * fg, d.f, dkernel + g * fg, d.f, false);
}

} // namespace conv_detail
} // namespace dlk

#endif // DLC_CODEGEN_CPU_KERNELS_CONVPRODUCTS_H
