//===- Conv2d.h - conv1d, conv2d, conv2d_transpose and their gradients ----===//
//
// Header-only C++17, namespace dlk. Each is a GEMM over the convolution's
// column matrix (Im2col.h). The forward product and the kernel gradient
// read the columns straight from the input as the GEMM packs them (no
// workspace); the input gradient (of conv2d, and so the forward of
// conv2d_transpose) stores its columns, chunks of the batch at a time, in
// the caller's workspace (convWorkspaceElements(dims) elements of T; none
// for a pointwise conv) and adds them back with col2im.
//
// conv1d is conv2d of height 1 (kernel[k, C/G, F] is kernel[1, k, C/G, F]
// in memory). conv2d_transpose x[H, W, C] -> y[OH, OW, F] with kernel
// [KH, KW, F, C] is the input gradient of the conv2d y -> x with the same
// kernel, strides, dilation and padding (convOf() below), so its forward
// is convBackwardData and its input gradient convForwardData.
//
// fused_conv2d (ir/DLFusedLayerOps.td) is conv2d with its bias and
// activation in the GEMM's epilogue (Epilogue.h); fused_conv2d_grad turns
// dy into the pre-activation gradient from the activation's output y (in
// the workspace, after the im2col columns) and runs conv2d_grad on it.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_KERNELS_CONV2D_H
#define DLC_CODEGEN_CPU_KERNELS_CONV2D_H

#include "codegen/cpu/kernels/ConvProducts.h"
#include "codegen/cpu/kernels/Epilogue.h"

#include <cstdint>

namespace dlk {

/// y = conv2d(x, kernel) + bias (bias may be null: use_bias = false).
template <typename T>
void conv2d(int64_t n, const Conv2dDims &d, const T *x, const T *kernel,
            const T *bias, T *y) {
  conv_detail::convForwardData(n, d, x, kernel, y);
  if (bias)
    conv_detail::addBias(n * d.oh * d.ow, d.f, bias, y);
}

/// The gradients of conv2d for output gradient dy; null results (and a null
/// bias with its null dbias) are skipped. `bias` and `y` are not read.
template <typename T>
void conv2d_grad(int64_t n, const Conv2dDims &d, const T *x, const T *kernel,
                 const T *bias, const T *y, const T *dy, T *dx, T *dkernel,
                 T *dbias, unsigned char *workspace) {
  (void)bias; // not read: the gradients need neither bias nor y
  (void)y;
  T *col = reinterpret_cast<T *>(workspace);
  if (dbias)
    conv_detail::biasGradient(n * d.oh * d.ow, d.f, dy, dbias);
  if (dkernel)
    conv_detail::convBackwardFilter(n, d, x, dy, dkernel);
  if (dx)
    conv_detail::convBackwardData(n, d, dy, kernel, dx, col);
}

/// y = activation(conv2d(x, kernel) + bias), the bias and the activation
/// applied to each output tile as the GEMM stores it.
template <typename T, Activation A>
void fused_conv2d(int64_t n, const Conv2dDims &d, double alpha, const T *x,
                  const T *kernel, const T *bias, T *y) {
  conv_detail::convForwardData(n, d, x, kernel, y,
                               BiasActivation<T, A>{bias, T(alpha)});
}

/// Where fused_conv2d_grad's pre-activation gradient starts in its
/// workspace: after the im2col columns, 64-byte aligned.
constexpr int64_t fusedConvGradOffset(const Conv2dDims &d,
                                      int64_t elementBytes) {
  return (convWorkspaceElements(d) * elementBytes + 63) / 64 * 64;
}

/// Workspace bytes of fused_conv2d_grad at `maxBatch`: the columns, then
/// (unless the activation is linear) the pre-activation gradient.
constexpr int64_t fusedConvGradWorkspaceBytes(const Conv2dDims &d,
                                              int64_t maxBatch,
                                              int64_t elementBytes,
                                              bool linear) {
  return fusedConvGradOffset(d, elementBytes) +
         (linear ? 0 : maxBatch * d.oh * d.ow * d.f * elementBytes);
}

/// The gradients of fused_conv2d from its output y and output gradient dy;
/// null results are skipped. `bias` is not read.
template <typename T, Activation A>
void fused_conv2d_grad(int64_t n, const Conv2dDims &d, double alpha, const T *x,
                       const T *kernel, const T *bias, const T *y, const T *dy,
                       T *dx, T *dkernel, T *dbias, unsigned char *workspace) {
  if (!dx && !dkernel && !dbias)
    return;
  const T *dz = dy;
  if constexpr (A != Activation::Linear) {
    T *scratch = reinterpret_cast<T *>(
        workspace + fusedConvGradOffset(d, int64_t(sizeof(T))));
    conv_detail::activationGradFromOutput<A>(n * d.oh * d.ow * d.f, T(alpha), y,
                                             dy, scratch);
    dz = scratch;
  }
  conv2d_grad(n, d, x, kernel, bias, y, dz, dx, dkernel, dbias, workspace);
}

/// conv1d x[L, C] -> y[OL, F], as conv2d of height 1 (dims with h = oh =
/// kh = 1).
template <typename T>
void conv1d(int64_t n, const Conv2dDims &d, const T *x, const T *kernel,
            const T *bias, T *y) {
  conv2d(n, d, x, kernel, bias, y);
}

template <typename T>
void conv1d_grad(int64_t n, const Conv2dDims &d, const T *x, const T *kernel,
                 const T *bias, const T *y, const T *dy, T *dx, T *dkernel,
                 T *dbias, unsigned char *workspace) {
  conv2d_grad(n, d, x, kernel, bias, y, dy, dx, dkernel, dbias, workspace);
}

/// conv2d_transpose x[h, w, c] -> y[oh, ow, f] with kernel[kh, kw, f, c];
/// input cell (ih, iw) scatters to output (ih*sh + i*dh - padTop,
/// iw*sw + j*dw - padLeft), cropped to the output. `chunk` counts examples
/// of one im2col pass of the equivalent conv (see convOf()).
struct Conv2dTransposeDims {
  int64_t h, w, c, oh, ow, f, kh, kw, sh, sw, dh, dw, padTop, padLeft, chunk;
};

/// The conv2d y[oh, ow, f] -> x[h, w, c] whose input gradient is the
/// transposed convolution.
constexpr Conv2dDims convOf(const Conv2dTransposeDims &d) {
  return Conv2dDims{d.oh, d.ow, d.f,  d.h,  d.w,      d.c,       d.kh, d.kw,
                    d.sh, d.sw, d.dh, d.dw, d.padTop, d.padLeft, 1,    d.chunk};
}

template <typename T>
void conv2d_transpose(int64_t n, const Conv2dTransposeDims &d, const T *x,
                      const T *kernel, const T *bias, T *y,
                      unsigned char *workspace) {
  const Conv2dDims conv = convOf(d);
  conv_detail::convBackwardData(n, conv, x, kernel, y,
                                reinterpret_cast<T *>(workspace));
  if (bias)
    conv_detail::addBias(n * d.oh * d.ow, d.f, bias, y);
}

template <typename T>
void conv2d_transpose_grad(int64_t n, const Conv2dTransposeDims &d, const T *x,
                           const T *kernel, const T *bias, const T *y,
                           const T *dy, T *dx, T *dkernel, T *dbias) {
  (void)bias; // not read: the gradients need neither bias nor y
  (void)y;
  const Conv2dDims conv = convOf(d);
  if (dbias)
    conv_detail::biasGradient(n * d.oh * d.ow, d.f, dy, dbias);
  if (dkernel)
    conv_detail::convBackwardFilter(n, conv, dy, x, dkernel);
  if (dx)
    conv_detail::convForwardData(n, conv, dy, kernel, dx);
}

} // namespace dlk

#endif // DLC_CODEGEN_CPU_KERNELS_CONV2D_H
