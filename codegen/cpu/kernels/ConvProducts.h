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
