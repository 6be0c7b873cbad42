//===- Dense.h - dense (fully connected) forward and gradient -------------===//
//
// Header-only C++17, namespace dlk. x[n, ..., d] * kernel[d, units] + bias
// -> y[n, ..., units]: the leading per-example axes flatten into rows, so
// each is one GEMM (Gemm.h). fused_dense applies its bias and activation in
// the GEMM's epilogue (Epilogue.h); fused_dense_grad computes the
// pre-activation gradient from the activation's output into its workspace.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_KERNELS_DENSE_H
#define DLC_CODEGEN_CPU_KERNELS_DENSE_H

#include "codegen/cpu/kernels/Epilogue.h"
#include "codegen/cpu/kernels/Im2col.h"

#include <cstdint>

namespace dlk {

/// rows: rows per example (the product of the per-example axes but the
/// last); d: input features; units: output features.
struct DenseDims {
  int64_t rows, d, units;
};

/// y = x * kernel (+ bias when not null).
template <typename T>
void dense(int64_t n, const DenseDims &s, const T *x, const T *kernel,
           const T *bias, T *y) {
  const int64_t rows = n * s.rows;
  gemm<T>(false, false, rows, s.units, s.d, x, s.d, kernel, s.units, y, s.units,
          false);
  if (bias)
    conv_detail::addBias(rows, s.units, bias, y);
}

/// dx = dy * kernel^T, dkernel = x^T * dy, dbias = column sums of dy; null
/// results are skipped. `bias` and `y` are not read.
template <typename T>
void dense_grad(int64_t n, const DenseDims &s, const T *x, const T *kernel,
                const T *bias, const T *y, const T *dy, T *dx, T *dkernel,
                T *dbias) {
  (void)bias; // not read: the gradients need neither bias nor y
  (void)y;
  const int64_t rows = n * s.rows;
  if (dbias)
    conv_detail::biasGradient(rows, s.units, dy, dbias);
  if (dkernel)
    gemm<T>(true, false, s.d, s.units, rows, x, s.d, dy, s.units, dkernel,
            s.units, false);
  if (dx)
    gemm<T>(false, true, rows, s.d, s.units, dy, s.units, kernel, s.units, dx,
            s.d, false);
}

/// y = activation(x * kernel + bias), applied to each tile of y as the GEMM
/// stores it.
template <typename T, Activation A>
void fused_dense(int64_t n, const DenseDims &s, double alpha, const T *x,
                 const T *kernel, const T *bias, T *y) {
  gemm<T>(false, false, n * s.rows, s.units, s.d, x, s.d, kernel, s.units, y,
          s.units, false, BiasActivation<T, A>{bias, T(alpha)});
}

/// Workspace bytes of fused_dense_grad at `maxBatch`: the pre-activation
/// gradient, none for a linear activation.
constexpr int64_t fusedDenseGradWorkspaceBytes(const DenseDims &s,
                                               int64_t maxBatch,
                                               int64_t elementBytes,
                                               bool linear) {
  return linear ? 0 : maxBatch * s.rows * s.units * elementBytes;
}

/// The gradients of fused_dense from its output y and output gradient dy;
/// null results are skipped. `bias` is not read.
template <typename T, Activation A>
void fused_dense_grad(int64_t n, const DenseDims &s, double alpha, const T *x,
                      const T *kernel, const T *bias, const T *y, const T *dy,
                      T *dx, T *dkernel, T *dbias, unsigned char *workspace) {
  if (!dx && !dkernel && !dbias)
    return;
  const T *dz = dy;
  if constexpr (A != Activation::Linear) {
    T *scratch = reinterpret_cast<T *>(workspace);
    conv_detail::activationGradFromOutput<A>(n * s.rows * s.units, T(alpha), y,
                                             dy, scratch);
    dz = scratch;
  } else {
    (void)workspace;
  }
  dense_grad(n, s, x, kernel, bias, y, dz, dx, dkernel, dbias);
}

} // namespace dlk

#endif // DLC_CODEGEN_CPU_KERNELS_DENSE_H
