//===- Activations.h - activation and merge kernels -----------------------===//
//
// relu, sigmoid, tanh, abs, leaky_relu, elu, softmax, add, subtract,
// multiply and their gradients, over the flat batch (n * size elements).
// The elementwise kernels may run in place (result 0 sharing the buffer of
// an operand, see CpuKernel::inPlaceOperand), so their pointers are not
// `restrict`: each element is read before it is written.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_KERNELS_ACTIVATIONS_H
#define DLC_CODEGEN_CPU_KERNELS_ACTIVATIONS_H

#include "codegen/cpu/kernels/ElementwiseSupport.h"

#include <cmath>
#include <cstdint>

namespace dlk {

/// An elementwise op on `size` elements per example; `alpha` for
/// leaky_relu and elu.
struct ElementwiseDims {
  int64_t size;
  double alpha;
};

/// softmax along one per-example axis: each example is outer x len x inner
/// (row-major), the axis being `len`.
struct SoftmaxDims {
  int64_t outer;
  int64_t len;
  int64_t inner;
};

namespace ew {
/// y[i] = f(x[i]) over the flat batch.
template <typename T, typename F>
void unary(int64_t n, const ElementwiseDims &d, const T *x, T *y, F f) {
  const int64_t total = n * d.size;
  DLK_EW_PARALLEL_FOR(total)
  for (int64_t i = 0; i < total; ++i)
    y[i] = f(x[i]);
}

/// dx[i] = dy[i] * df(v[i]) over the flat batch, where v is whichever of
/// the forward's input x or result y the derivative needs: the gradient
/// kernels read only that one (codegen/cpu/OperandUse.h), so the other may
/// be null.
template <typename T, typename F>
void unaryGrad(int64_t n, const ElementwiseDims &d, const T *v, const T *dy,
               T *dx, F df) {
  if (!dx)
    return;
  const int64_t total = n * d.size;
  DLK_EW_PARALLEL_FOR(total)
  for (int64_t i = 0; i < total; ++i)
    dx[i] = dy[i] * df(v[i]);
}
} // namespace ew

template <typename T>
void relu(int64_t n, const ElementwiseDims &d, const T *x, T *y) {
  ew::unary(n, d, x, y, [](T v) { return v > T(0) ? v : T(0); });
}
template <typename T>
void relu_grad(int64_t n, const ElementwiseDims &d, const T *x, const T *y,
               const T *dy, T *dx) {
  // relu(x) > 0 exactly when x > 0: y alone gives the mask.
  (void)x;
  ew::unaryGrad(n, d, y, dy, dx, [](T v) { return v > T(0) ? T(1) : T(0); });
}

template <typename T>
void sigmoid(int64_t n, const ElementwiseDims &d, const T *x, T *y) {
  ew::unary(n, d, x, y, [](T v) { return T(1) / (T(1) + std::exp(-v)); });
}
template <typename T>
void sigmoid_grad(int64_t n, const ElementwiseDims &d, const T *x, const T *y,
                  const T *dy, T *dx) {
  (void)x;
  ew::unaryGrad(n, d, y, dy, dx, [](T v) { return v * (T(1) - v); });
}

template <typename T>
void tanh(int64_t n, const ElementwiseDims &d, const T *x, T *y) {
  ew::unary(n, d, x, y, [](T v) { return std::tanh(v); });
}
template <typename T>
void tanh_grad(int64_t n, const ElementwiseDims &d, const T *x, const T *y,
               const T *dy, T *dx) {
  (void)x;
  ew::unaryGrad(n, d, y, dy, dx, [](T v) { return T(1) - v * v; });
}

template <typename T>
void abs(int64_t n, const ElementwiseDims &d, const T *x, T *y) {
  ew::unary(n, d, x, y, [](T v) { return std::fabs(v); });
}
template <typename T>
void abs_grad(int64_t n, const ElementwiseDims &d, const T *x, const T *y,
              const T *dy, T *dx) {
  (void)y;
  ew::unaryGrad(n, d, x, dy, dx, [](T v) {
    return v > T(0) ? T(1) : (v < T(0) ? T(-1) : T(0));
  });
}

template <typename T>
void leaky_relu(int64_t n, const ElementwiseDims &d, const T *x, T *y) {
  const T alpha = T(d.alpha);
  ew::unary(n, d, x, y, [alpha](T v) { return v > T(0) ? v : alpha * v; });
}
template <typename T>
void leaky_relu_grad(int64_t n, const ElementwiseDims &d, const T *x,
                     const T *y, const T *dy, T *dx) {
  const T alpha = T(d.alpha);
  (void)y;
  ew::unaryGrad(n, d, x, dy, dx,
                [alpha](T v) { return v > T(0) ? T(1) : alpha; });
}

template <typename T>
void elu(int64_t n, const ElementwiseDims &d, const T *x, T *y) {
  const T alpha = T(d.alpha);
  ew::unary(n, d, x, y, [alpha](T v) {
    return v > T(0) ? v : alpha * (std::exp(v) - T(1));
  });
}
template <typename T>
void elu_grad(int64_t n, const ElementwiseDims &d, const T *x, const T *y,
              const T *dy, T *dx) {
  const T alpha = T(d.alpha);
  (void)y;
  ew::unaryGrad(n, d, x, dy, dx,
                [alpha](T v) { return v > T(0) ? T(1) : alpha * std::exp(v); });
}

/// Softmax of each (example, outer, inner) line of `len` elements; safe in
/// place (each line is read before it is written).
template <typename T>
void softmax(int64_t n, const SoftmaxDims &d, const T *x, T *y) {
  const int64_t lines = n * d.outer;
  const int64_t len = d.len, inner = d.inner;
  DLK_EW_PARALLEL_FOR(lines * len * inner)
  for (int64_t o = 0; o < lines; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const T *xl = x + o * len * inner + i;
      T *yl = y + o * len * inner + i;
      T maxValue = xl[0];
      for (int64_t k = 1; k < len; ++k)
        maxValue = std::max(maxValue, xl[k * inner]);
      T sum = 0;
      for (int64_t k = 0; k < len; ++k) {
        const T e = std::exp(xl[k * inner] - maxValue);
        yl[k * inner] = e;
        sum += e;
      }
      const T scale = T(1) / sum;
      for (int64_t k = 0; k < len; ++k)
        yl[k * inner] *= scale;
    }
}

/// dx = y * (dy - sum(dy * y)) along each line; dx may share dy's buffer.
template <typename T>
void softmax_grad(int64_t n, const SoftmaxDims &d, const T *x, const T *y,
                  const T *dy, T *dx) {
  if (!dx)
    return;
  const int64_t lines = n * d.outer;
  const int64_t len = d.len, inner = d.inner;
  DLK_EW_PARALLEL_FOR(lines * len * inner)
  for (int64_t o = 0; o < lines; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * len * inner + i;
      T dot = 0;
      for (int64_t k = 0; k < len; ++k)
        dot += dy[base + k * inner] * y[base + k * inner];
      for (int64_t k = 0; k < len; ++k)
        dx[base + k * inner] =
            y[base + k * inner] * (dy[base + k * inner] - dot);
    }
}

template <typename T>
void add(int64_t n, const ElementwiseDims &d, const T *a, const T *b, T *y) {
  const int64_t total = n * d.size;
  DLK_EW_PARALLEL_FOR(total)
  for (int64_t i = 0; i < total; ++i)
    y[i] = a[i] + b[i];
}

template <typename T>
void subtract(int64_t n, const ElementwiseDims &d, const T *a, const T *b,
              T *y) {
  const int64_t total = n * d.size;
  DLK_EW_PARALLEL_FOR(total)
  for (int64_t i = 0; i < total; ++i)
    y[i] = a[i] - b[i];
}

/// da = dy, db = -dy; da may share dy's buffer.
template <typename T>
void subtract_grad(int64_t n, const ElementwiseDims &d, const T *a, const T *b,
                   const T *y, const T *dy, T *da, T *db) {
  const int64_t total = n * d.size;
  if (db) {
    DLK_EW_PARALLEL_FOR(total)
    for (int64_t i = 0; i < total; ++i)
      db[i] = -dy[i];
  }
  if (da && da != dy) {
    DLK_EW_PARALLEL_FOR(total)
    for (int64_t i = 0; i < total; ++i)
      da[i] = dy[i];
  }
}

template <typename T>
void multiply(int64_t n, const ElementwiseDims &d, const T *a, const T *b,
              T *y) {
  const int64_t total = n * d.size;
  DLK_EW_PARALLEL_FOR(total)
  for (int64_t i = 0; i < total; ++i)
    y[i] = a[i] * b[i];
}

/// da = dy * b, db = dy * a; da may share dy's buffer.
template <typename T>
void multiply_grad(int64_t n, const ElementwiseDims &d, const T *a, const T *b,
                   const T *y, const T *dy, T *da, T *db) {
  const int64_t total = n * d.size;
  if (db) {
    DLK_EW_PARALLEL_FOR(total)
    for (int64_t i = 0; i < total; ++i)
      db[i] = dy[i] * a[i];
  }
  if (da) {
    DLK_EW_PARALLEL_FOR(total)
    for (int64_t i = 0; i < total; ++i)
      da[i] = dy[i] * b[i];
  }
}

} // namespace dlk

#endif // DLC_CODEGEN_CPU_KERNELS_ACTIVATIONS_H
