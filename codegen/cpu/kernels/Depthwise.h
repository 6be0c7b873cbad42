//===- Depthwise.h - depthwise_conv2d, separable_conv2d and gradients -----===//
//
// Header-only C++17, namespace dlk. A depthwise convolution has too little
// work per channel for a GEMM, so it is direct loops vectorized over the
// channels: x[n, h, w, c] with kernel[kh, kw, c, m] -> y[n, oh, ow, c*m],
// y[.., q = ci*m + mi] = sum x[.., ih, iw, ci] * kernel[i, j, ci, mi].
// The forward and the input gradient run in parallel over examples; the
// kernel gradient in parallel over blocks of channels, each summing the
// batch in order (deterministic for any thread count).
//
// separable_conv2d is the depthwise step into the workspace followed by a
// pointwise (1x1) convolution, a GEMM over the channels.
//
// fused_depthwise_conv2d applies its bias and activation to each output
// pixel as it is computed (Epilogue.h); fused_depthwise_conv2d_grad computes
// the pre-activation gradient from the activation's output into its
// workspace.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_KERNELS_DEPTHWISE_H
#define DLC_CODEGEN_CPU_KERNELS_DEPTHWISE_H

#include "codegen/cpu/kernels/Epilogue.h"
#include "codegen/cpu/kernels/Im2col.h"

#include <algorithm>
#include <cstdint>

namespace dlk {

/// depthwise_conv2d x[h, w, c] -> y[oh, ow, c*m], kernel[kh, kw, c, m];
/// windows as Conv2dDims.
struct DepthwiseConv2dDims {
  int64_t h, w, c, oh, ow, m, kh, kw, sh, sw, dh, dw, padTop, padLeft;
};

namespace conv_detail {

/// z = depthwise(x, kernel) (+ bias when not null); `epi` then finishes
/// each output pixel.
template <typename T, typename Epilogue = NoEpilogue>
void depthwiseForward(int64_t n, const DepthwiseConv2dDims &d, const T *x,
                      const T *kernel, const T *bias, T *y,
                      const Epilogue &epi = Epilogue()) {
  const int64_t cm = d.c * d.m, lines = n * d.oh;
  DLK_GEMM_OMP(parallel for schedule(static))
  for (int64_t line = 0; line < lines; ++line) {
    const int64_t e = line / d.oh, oh = line % d.oh;
    const T *xe = x + e * d.h * d.w * d.c;
    int64_t i0, i1;
    windowRange(oh, d.sh, d.dh, d.padTop, d.kh, d.h, i0, i1);
    for (int64_t ow = 0; ow < d.ow; ++ow) {
      T *__restrict out = y + (line * d.ow + ow) * cm;
      std::fill(out, out + cm, T(0));
      int64_t j0, j1;
      windowRange(ow, d.sw, d.dw, d.padLeft, d.kw, d.w, j0, j1);
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t ih = oh * d.sh + i * d.dh - d.padTop;
        for (int64_t j = j0; j < j1; ++j) {
          const int64_t iw = ow * d.sw + j * d.dw - d.padLeft;
          const T *__restrict in = xe + (ih * d.w + iw) * d.c;
          const T *__restrict k = kernel + (i * d.kw + j) * cm;
          if (d.m == 1) {
            for (int64_t q = 0; q < cm; ++q)
              out[q] += in[q] * k[q];
          } else {
            for (int64_t ci = 0; ci < d.c; ++ci)
              for (int64_t mi = 0; mi < d.m; ++mi)
                out[ci * d.m + mi] += in[ci] * k[ci * d.m + mi];
          }
        }
      }
      if (bias)
        for (int64_t q = 0; q < cm; ++q)
          out[q] += bias[q];
      if constexpr (Epilogue::kActive)
        epi(out, 0, cm);
    }
  }
}

/// dx = the input gradient of the depthwise convolution for dy.
template <typename T>
void depthwiseBackwardData(int64_t n, const DepthwiseConv2dDims &d, const T *dy,
                           const T *kernel, T *dx) {
  const int64_t cm = d.c * d.m, inSize = d.h * d.w * d.c;
  DLK_GEMM_OMP(parallel for schedule(static))
  for (int64_t e = 0; e < n; ++e) {
    T *dxe = dx + e * inSize;
    std::fill(dxe, dxe + inSize, T(0));
    for (int64_t oh = 0; oh < d.oh; ++oh) {
      int64_t i0, i1;
      windowRange(oh, d.sh, d.dh, d.padTop, d.kh, d.h, i0, i1);
      for (int64_t ow = 0; ow < d.ow; ++ow) {
        const T *__restrict g = dy + ((e * d.oh + oh) * d.ow + ow) * cm;
        int64_t j0, j1;
        windowRange(ow, d.sw, d.dw, d.padLeft, d.kw, d.w, j0, j1);
        for (int64_t i = i0; i < i1; ++i) {
          const int64_t ih = oh * d.sh + i * d.dh - d.padTop;
          for (int64_t j = j0; j < j1; ++j) {
            const int64_t iw = ow * d.sw + j * d.dw - d.padLeft;
            T *__restrict out = dxe + (ih * d.w + iw) * d.c;
            const T *__restrict k = kernel + (i * d.kw + j) * cm;
            if (d.m == 1) {
              for (int64_t ci = 0; ci < d.c; ++ci)
                out[ci] += g[ci] * k[ci];
            } else {
              for (int64_t ci = 0; ci < d.c; ++ci) {
                T sum = T(0);
                for (int64_t mi = 0; mi < d.m; ++mi)
                  sum += g[ci * d.m + mi] * k[ci * d.m + mi];
                out[ci] += sum;
              }
            }
          }
        }
      }
    }
  }
}

/// dkernel = the kernel gradient of the depthwise convolution, summed over
/// the batch; each block of input channels is one thread's.
template <typename T>
void depthwiseBackwardFilter(int64_t n, const DepthwiseConv2dDims &d,
                             const T *x, const T *dy, T *dkernel) {
  constexpr int64_t kBlock = 64;
  const int64_t cm = d.c * d.m, blocks = (d.c + kBlock - 1) / kBlock;
  DLK_GEMM_OMP(parallel for schedule(static))
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t c0 = b * kBlock, c1 = std::min(d.c, c0 + kBlock);
    for (int64_t ij = 0; ij < d.kh * d.kw; ++ij)
      std::fill(dkernel + ij * cm + c0 * d.m, dkernel + ij * cm + c1 * d.m,
                T(0));
    for (int64_t e = 0; e < n; ++e) {
      const T *xe = x + e * d.h * d.w * d.c;
      for (int64_t oh = 0; oh < d.oh; ++oh) {
        int64_t i0, i1;
        windowRange(oh, d.sh, d.dh, d.padTop, d.kh, d.h, i0, i1);
        for (int64_t ow = 0; ow < d.ow; ++ow) {
          const T *__restrict g = dy + ((e * d.oh + oh) * d.ow + ow) * cm;
          int64_t j0, j1;
          windowRange(ow, d.sw, d.dw, d.padLeft, d.kw, d.w, j0, j1);
          for (int64_t i = i0; i < i1; ++i) {
            const int64_t ih = oh * d.sh + i * d.dh - d.padTop;
            for (int64_t j = j0; j < j1; ++j) {
              const int64_t iw = ow * d.sw + j * d.dw - d.padLeft;
              const T *__restrict in = xe + (ih * d.w + iw) * d.c;
              T *__restrict k = dkernel + (i * d.kw + j) * cm;
              if (d.m == 1) {
                for (int64_t ci = c0; ci < c1; ++ci)
                  k[ci] += in[ci] * g[ci];
              } else {
                for (int64_t ci = c0; ci < c1; ++ci)
                  for (int64_t mi = 0; mi < d.m; ++mi)
                    k[ci * d.m + mi] += in[ci] * g[ci * d.m + mi];
              }
            }
          }
        }
      }
    }
  }
}

} // namespace conv_detail

template <typename T>
void depthwise_conv2d(int64_t n, const DepthwiseConv2dDims &d, const T *x,
                      const T *kernel, const T *bias, T *y) {
  conv_detail::depthwiseForward(n, d, x, kernel, bias, y);
}

/// The gradients of depthwise_conv2d; null results are skipped.
template <typename T>
void depthwise_conv2d_grad(int64_t n, const DepthwiseConv2dDims &d, const T *x,
                           const T *kernel, const T *bias, const T *y,
                           const T *dy, T *dx, T *dkernel, T *dbias) {
  (void)bias; // not read: the gradients need neither bias nor y
  (void)y;
  if (dbias)
    conv_detail::biasGradient(n * d.oh * d.ow, d.c * d.m, dy, dbias);
  if (dkernel)
    conv_detail::depthwiseBackwardFilter(n, d, x, dy, dkernel);
  if (dx)
    conv_detail::depthwiseBackwardData(n, d, dy, kernel, dx);
}

/// y = activation(depthwise_conv2d(x, kernel) + bias), per output pixel.
template <typename T, Activation A>
void fused_depthwise_conv2d(int64_t n, const DepthwiseConv2dDims &d,
                            double alpha, const T *x, const T *kernel,
                            const T *bias, T *y) {
  conv_detail::depthwiseForward(n, d, x, kernel,
                                static_cast<const T *>(nullptr), y,
                                BiasActivation<T, A>{bias, T(alpha)});
}

/// Workspace bytes of fused_depthwise_conv2d_grad at `maxBatch`: the
/// pre-activation gradient, none for a linear activation.
constexpr int64_t fusedDepthwiseGradWorkspaceBytes(const DepthwiseConv2dDims &d,
                                                   int64_t maxBatch,
                                                   int64_t elementBytes,
                                                   bool linear) {
  return linear ? 0 : maxBatch * d.oh * d.ow * d.c * d.m * elementBytes;
}

/// The gradients of fused_depthwise_conv2d from its output y and output
/// gradient dy; null results are skipped. `bias` is not read.
template <typename T, Activation A>
void fused_depthwise_conv2d_grad(int64_t n, const DepthwiseConv2dDims &d,
                                 double alpha, const T *x, const T *kernel,
                                 const T *bias, const T *y, const T *dy, T *dx,
                                 T *dkernel, T *dbias,
                                 unsigned char *workspace) {
  if (!dx && !dkernel && !dbias)
    return;
  const T *dz = dy;
  if constexpr (A != Activation::Linear) {
    T *scratch = reinterpret_cast<T *>(workspace);
    conv_detail::activationGradFromOutput<A>(n * d.oh * d.ow * d.c * d.m,
                                             T(alpha), y, dy, scratch);
    dz = scratch;
  } else {
    (void)workspace;
  }
  depthwise_conv2d_grad(n, d, x, kernel, bias, y, dz, dx, dkernel, dbias);
}

/// separable_conv2d: the depthwise step (dims `depthwise`) to z[oh, ow, c*m]
/// and the pointwise kernel[1, 1, c*m, filters] to y[oh, ow, filters].
/// `maxBatch` sizes the workspace: z and its gradient, maxBatch examples
/// each (separableWorkspaceElements()).
struct SeparableConv2dDims {
  DepthwiseConv2dDims depthwise;
  int64_t filters;
};

/// Elements of T the separable kernels need at `maxBatch`.
constexpr int64_t separableWorkspaceElements(const SeparableConv2dDims &d,
                                             int64_t maxBatch) {
  return 2 * maxBatch * d.depthwise.oh * d.depthwise.ow * d.depthwise.c *
         d.depthwise.m;
}

template <typename T>
void separable_conv2d(int64_t n, const SeparableConv2dDims &d, const T *x,
                      const T *depthwiseKernel, const T *pointwiseKernel,
                      const T *bias, T *y, unsigned char *workspace) {
  const DepthwiseConv2dDims &dw = d.depthwise;
  const int64_t rows = n * dw.oh * dw.ow, cm = dw.c * dw.m;
  T *z = reinterpret_cast<T *>(workspace);
  conv_detail::depthwiseForward(n, dw, x, depthwiseKernel,
                                static_cast<T *>(nullptr), z);
  gemm<T>(false, false, rows, d.filters, cm, z, cm, pointwiseKernel, d.filters,
          y, d.filters, false);
  if (bias)
    conv_detail::addBias(rows, d.filters, bias, y);
}

/// The gradients of separable_conv2d (the depthwise output is recomputed);
/// null results are skipped.
template <typename T>
void separable_conv2d_grad(int64_t n, const SeparableConv2dDims &d, const T *x,
                           const T *depthwiseKernel, const T *pointwiseKernel,
                           const T *bias, const T *y, const T *dy, T *dx,
                           T *ddepthwise, T *dpointwise, T *dbias,
                           unsigned char *workspace) {
  (void)bias; // not read: the gradients need neither bias nor y
  (void)y;
  const DepthwiseConv2dDims &dw = d.depthwise;
  const int64_t rows = n * dw.oh * dw.ow, cm = dw.c * dw.m;
  T *z = reinterpret_cast<T *>(workspace);
  T *dz = z + rows * cm;
  if (dbias)
    conv_detail::biasGradient(rows, d.filters, dy, dbias);
  if (dpointwise) {
    conv_detail::depthwiseForward(n, dw, x, depthwiseKernel,
                                  static_cast<T *>(nullptr), z);
    gemm<T>(true, false, cm, d.filters, rows, z, cm, dy, d.filters, dpointwise,
            d.filters, false);
  }
  if (!dx && !ddepthwise)
    return;
  gemm<T>(false, true, rows, cm, d.filters, dy, d.filters, pointwiseKernel,
          d.filters, dz, cm, false);
  if (ddepthwise)
    conv_detail::depthwiseBackwardFilter(n, dw, x, dz, ddepthwise);
  if (dx)
    conv_detail::depthwiseBackwardData(n, dw, dz, depthwiseKernel, dx);
}

} // namespace dlk

#endif // DLC_CODEGEN_CPU_KERNELS_DEPTHWISE_H
