//===- Pooling.h - max/average pooling, global pools and gradients --------===//
//
// Header-only C++17, namespace dlk. Windows count only the cells inside the
// input (padding cells are neither maxima nor averaged); a window with no
// cell gives 0. A max gradient goes to the first maximal cell of its window
// in row-major order (the reference's tie rule). Everything runs in
// parallel over examples (or output lines), each summed in a fixed order.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_KERNELS_POOLING_H
#define DLC_CODEGEN_CPU_KERNELS_POOLING_H

#include "codegen/cpu/kernels/Im2col.h"

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace dlk {

/// maxpool2d / avgpool2d x[h, w, c] -> y[oh, ow, c] with pool [ph, pw]:
/// output (oh, ow) covers input rows oh*sh - padTop + [0, ph), columns
/// ow*sw - padLeft + [0, pw).
struct Pool2dDims {
  int64_t h, w, c, oh, ow, ph, pw, sh, sw, padTop, padLeft;
};

/// global_maxpool2d / global_avgpool2d x[h, w, c] -> y[c].
struct GlobalPool2dDims {
  int64_t h, w, c;
};

namespace conv_detail {

/// The pool of global dims: one window over the whole plane.
constexpr Pool2dDims poolOf(const GlobalPool2dDims &d) {
  return Pool2dDims{d.h, d.w, d.c, 1, 1, d.h, d.w, 1, 1, 0, 0};
}

/// The input cells of every window: rows [rowBegin[oh], rowEnd[oh]) and
/// columns [colBegin[ow], colEnd[ow]), computed once per call.
struct PoolWindows {
  std::vector<int64_t> rowBegin, rowEnd, colBegin, colEnd;

  explicit PoolWindows(const Pool2dDims &d)
      : rowBegin(size_t(d.oh)), rowEnd(size_t(d.oh)), colBegin(size_t(d.ow)),
        colEnd(size_t(d.ow)) {
    for (int64_t oh = 0; oh < d.oh; ++oh) {
      int64_t i0, i1;
      windowRange(oh, d.sh, 1, d.padTop, d.ph, d.h, i0, i1);
      rowBegin[size_t(oh)] = oh * d.sh - d.padTop + i0;
      rowEnd[size_t(oh)] = oh * d.sh - d.padTop + i1;
    }
    for (int64_t ow = 0; ow < d.ow; ++ow) {
      int64_t j0, j1;
      windowRange(ow, d.sw, 1, d.padLeft, d.pw, d.w, j0, j1);
      colBegin[size_t(ow)] = ow * d.sw - d.padLeft + j0;
      colEnd[size_t(ow)] = ow * d.sw - d.padLeft + j1;
    }
  }
};

template <typename T>
void maxPoolForward(int64_t n, const Pool2dDims &d, const T *x, T *y) {
  const PoolWindows win(d);
  const int64_t c = d.c, w = d.w, oh = d.oh, ow = d.ow, inSize = d.h * w * c;
  const int64_t lines = n * oh;
  DLK_GEMM_OMP(parallel for schedule(static))
  for (int64_t line = 0; line < lines; ++line) {
    const int64_t e = line / oh, r = line % oh;
    const T *xe = x + e * inSize;
    const int64_t ih0 = win.rowBegin[size_t(r)], ih1 = win.rowEnd[size_t(r)];
    for (int64_t q = 0; q < ow; ++q) {
      T *__restrict out = y + (line * ow + q) * c;
      const int64_t iw0 = win.colBegin[size_t(q)], iw1 = win.colEnd[size_t(q)];
      if (ih0 >= ih1 || iw0 >= iw1) {
        std::fill(out, out + c, T(0));
        continue;
      }
      const T *__restrict first = xe + (ih0 * w + iw0) * c;
      for (int64_t ci = 0; ci < c; ++ci)
        out[ci] = first[ci];
      for (int64_t ih = ih0; ih < ih1; ++ih)
        for (int64_t iw = ih == ih0 ? iw0 + 1 : iw0; iw < iw1; ++iw) {
          const T *__restrict in = xe + (ih * w + iw) * c;
          for (int64_t ci = 0; ci < c; ++ci)
            out[ci] = in[ci] > out[ci] ? in[ci] : out[ci];
        }
    }
  }
}

/// The index type of a window cell as wide as T, so that the arg-max
/// loop vectorizes.
template <typename T>
using CellIndex =
    typename std::conditional<sizeof(T) == 4, int32_t, int64_t>::type;

/// Per channel, the maximum over the window rows [ih0, ih1) x columns
/// [iw0, iw1) of example xe (row width w, c channels), and `where`: the
/// window's row-major cell holding it. The first strictly larger value
/// wins, so ties keep the earliest cell. The window must not be empty.
template <typename T, typename I>
void windowArgMax(const T *xe, int64_t w, int64_t c, int64_t ih0, int64_t ih1,
                  int64_t iw0, int64_t iw1, T *__restrict best,
                  I *__restrict where) {
  const T *__restrict first = xe + (ih0 * w + iw0) * c;
  for (int64_t ci = 0; ci < c; ++ci) {
    best[ci] = first[ci];
    where[ci] = 0;
  }
  I cell = 0;
  for (int64_t ih = ih0; ih < ih1; ++ih)
    for (int64_t iw = iw0; iw < iw1; ++iw, ++cell) {
      if (cell == 0)
        continue;
      const T *__restrict in = xe + (ih * w + iw) * c;
      for (int64_t ci = 0; ci < c; ++ci) {
        const bool larger = in[ci] > best[ci];
        best[ci] = larger ? in[ci] : best[ci];
        where[ci] = larger ? cell : where[ci];
      }
    }
}

/// The offset in an example of cell `cell` of a window starting at (ih0,
/// iw0) with `width` columns, channel 0.
inline int64_t windowCellOffset(int64_t cell, int64_t width, int64_t ih0,
                                int64_t iw0, int64_t w, int64_t c) {
  return ((ih0 + cell / width) * w + iw0 + cell % width) * c;
}

template <typename T>
void maxPoolBackward(int64_t n, const Pool2dDims &d, const T *x, const T *dy,
                     T *dx) {
  const PoolWindows win(d);
  const int64_t c = d.c, w = d.w, oh = d.oh, ow = d.ow, inSize = d.h * w * c;
  DLK_GEMM_OMP(parallel for schedule(static))
  for (int64_t e = 0; e < n; ++e) {
    std::vector<T> bestBuffer(static_cast<size_t>(c));
    std::vector<CellIndex<T>> whereBuffer(static_cast<size_t>(c));
    T *__restrict best = bestBuffer.data();
    CellIndex<T> *__restrict where = whereBuffer.data();
    const T *xe = x + e * inSize;
    T *dxe = dx + e * inSize;
    std::fill(dxe, dxe + inSize, T(0));
    for (int64_t r = 0; r < oh; ++r) {
      const int64_t ih0 = win.rowBegin[size_t(r)], ih1 = win.rowEnd[size_t(r)];
      for (int64_t q = 0; q < ow; ++q) {
        const int64_t iw0 = win.colBegin[size_t(q)],
                      iw1 = win.colEnd[size_t(q)];
        if (ih0 >= ih1 || iw0 >= iw1)
          continue;
        windowArgMax(xe, w, c, ih0, ih1, iw0, iw1, best, where);
        const T *__restrict g = dy + ((e * oh + r) * ow + q) * c;
        for (int64_t ci = 0; ci < c; ++ci)
          dxe[windowCellOffset(where[ci], iw1 - iw0, ih0, iw0, w, c) + ci] +=
              g[ci];
      }
    }
  }
}

/// maxPoolForward that also writes, per output element, the row-major
/// position of its maximum among the window's cells inside x: the first
/// strictly larger value wins, as in maxPoolBackward, so the gradient from
/// these indices is maxPoolBackward's. A window with no cell gets 0 (and
/// y = 0).
template <typename T>
void maxPoolIndicesForward(int64_t n, const Pool2dDims &d, const T *x, T *y,
                           int32_t *indices) {
  const PoolWindows win(d);
  const int64_t c = d.c, w = d.w, oh = d.oh, ow = d.ow, inSize = d.h * w * c;
  const int64_t lines = n * oh;
  DLK_GEMM_OMP(parallel for schedule(static))
  for (int64_t line = 0; line < lines; ++line) {
    const int64_t e = line / oh, r = line % oh;
    const T *xe = x + e * inSize;
    const int64_t ih0 = win.rowBegin[size_t(r)], ih1 = win.rowEnd[size_t(r)];
    for (int64_t q = 0; q < ow; ++q) {
      T *__restrict out = y + (line * ow + q) * c;
      int32_t *__restrict where = indices + (line * ow + q) * c;
      const int64_t iw0 = win.colBegin[size_t(q)], iw1 = win.colEnd[size_t(q)];
      if (ih0 >= ih1 || iw0 >= iw1) {
        std::fill(out, out + c, T(0));
        std::fill(where, where + c, int32_t(0));
        continue;
      }
      windowArgMax(xe, w, c, ih0, ih1, iw0, iw1, out, where);
    }
  }
}

/// dx = 0, then each dy element added to the cell its index names in its
/// window, in maxPoolBackward's order (examples in parallel, windows in
/// row-major order within each): the same sums, bit for bit. Indices
/// outside the window are ignored.
template <typename T>
void maxPoolIndicesBackward(int64_t n, const Pool2dDims &d,
                            const int32_t *indices, const T *dy, T *dx) {
  const PoolWindows win(d);
  const int64_t c = d.c, w = d.w, oh = d.oh, ow = d.ow, inSize = d.h * w * c;
  DLK_GEMM_OMP(parallel for schedule(static))
  for (int64_t e = 0; e < n; ++e) {
    T *dxe = dx + e * inSize;
    std::fill(dxe, dxe + inSize, T(0));
    for (int64_t r = 0; r < oh; ++r) {
      const int64_t ih0 = win.rowBegin[size_t(r)], ih1 = win.rowEnd[size_t(r)];
      for (int64_t q = 0; q < ow; ++q) {
        const int64_t iw0 = win.colBegin[size_t(q)],
                      iw1 = win.colEnd[size_t(q)];
        if (ih0 >= ih1 || iw0 >= iw1)
          continue;
        const int64_t width = iw1 - iw0, cells = (ih1 - ih0) * width;
        const int64_t base = ((e * oh + r) * ow + q) * c;
        const T *__restrict g = dy + base;
        const int32_t *__restrict where = indices + base;
        for (int64_t ci = 0; ci < c; ++ci) {
          const int64_t cell = where[ci];
          if (cell < 0 || cell >= cells)
            continue;
          dxe[windowCellOffset(cell, width, ih0, iw0, w, c) + ci] += g[ci];
        }
      }
    }
  }
}

template <typename T>
void avgPoolForward(int64_t n, const Pool2dDims &d, const T *x, T *y) {
  const PoolWindows win(d);
  const int64_t c = d.c, w = d.w, oh = d.oh, ow = d.ow, inSize = d.h * w * c;
  const int64_t lines = n * oh;
  DLK_GEMM_OMP(parallel for schedule(static))
  for (int64_t line = 0; line < lines; ++line) {
    const int64_t e = line / oh, r = line % oh;
    const T *xe = x + e * inSize;
    const int64_t ih0 = win.rowBegin[size_t(r)], ih1 = win.rowEnd[size_t(r)];
    for (int64_t q = 0; q < ow; ++q) {
      T *__restrict out = y + (line * ow + q) * c;
      const int64_t iw0 = win.colBegin[size_t(q)], iw1 = win.colEnd[size_t(q)];
      std::fill(out, out + c, T(0));
      const int64_t count = (ih1 - ih0) * (iw1 - iw0);
      if (count <= 0)
        continue;
      for (int64_t ih = ih0; ih < ih1; ++ih)
        for (int64_t iw = iw0; iw < iw1; ++iw) {
          const T *__restrict in = xe + (ih * w + iw) * c;
          for (int64_t ci = 0; ci < c; ++ci)
            out[ci] += in[ci];
        }
      const T scale = T(count);
      for (int64_t ci = 0; ci < c; ++ci)
        out[ci] /= scale;
    }
  }
}

template <typename T>
void avgPoolBackward(int64_t n, const Pool2dDims &d, const T *dy, T *dx) {
  const PoolWindows win(d);
  const int64_t c = d.c, w = d.w, oh = d.oh, ow = d.ow, inSize = d.h * w * c;
  DLK_GEMM_OMP(parallel for schedule(static))
  for (int64_t e = 0; e < n; ++e) {
    T *dxe = dx + e * inSize;
    std::fill(dxe, dxe + inSize, T(0));
    for (int64_t r = 0; r < oh; ++r) {
      const int64_t ih0 = win.rowBegin[size_t(r)], ih1 = win.rowEnd[size_t(r)];
      for (int64_t q = 0; q < ow; ++q) {
        const int64_t iw0 = win.colBegin[size_t(q)],
                      iw1 = win.colEnd[size_t(q)];
        const int64_t count = (ih1 - ih0) * (iw1 - iw0);
        if (count <= 0)
          continue;
        const T *__restrict g = dy + ((e * oh + r) * ow + q) * c;
        const T scale = T(count);
        for (int64_t ih = ih0; ih < ih1; ++ih)
          for (int64_t iw = iw0; iw < iw1; ++iw) {
            T *__restrict out = dxe + (ih * w + iw) * c;
            for (int64_t ci = 0; ci < c; ++ci)
              out[ci] += g[ci] / scale;
          }
      }
    }
  }
}

} // namespace conv_detail

template <typename T>
void maxpool2d(int64_t n, const Pool2dDims &d, const T *x, T *y) {
  conv_detail::maxPoolForward(n, d, x, y);
}

/// dx of maxpool2d (skipped when null). `y` is not read.
template <typename T>
void maxpool2d_grad(int64_t n, const Pool2dDims &d, const T *x, const T *y,
                    const T *dy, T *dx) {
  (void)y;
  if (dx)
    conv_detail::maxPoolBackward(n, d, x, dy, dx);
}

/// maxpool2d that also saves where each maximum was (see
/// maxPoolIndicesForward); either result may be null and is then skipped.
template <typename T>
void maxpool2d_indices(int64_t n, const Pool2dDims &d, const T *x, T *y,
                       int32_t *indices) {
  if (y && indices)
    conv_detail::maxPoolIndicesForward(n, d, x, y, indices);
  else if (y)
    conv_detail::maxPoolForward(n, d, x, y);
  else if (indices) {
    std::vector<T> scratch(static_cast<size_t>(n * d.oh * d.ow * d.c));
    conv_detail::maxPoolIndicesForward(n, d, x, scratch.data(), indices);
  }
}

/// dx of maxpool2d from maxpool2d_indices' indices (skipped when null):
/// maxpool2d_grad's result without reading x.
template <typename T>
void maxpool2d_grad_indices(int64_t n, const Pool2dDims &d,
                            const int32_t *indices, const T *dy, T *dx) {
  if (dx)
    conv_detail::maxPoolIndicesBackward(n, d, indices, dy, dx);
}

template <typename T>
void avgpool2d(int64_t n, const Pool2dDims &d, const T *x, T *y) {
  conv_detail::avgPoolForward(n, d, x, y);
}

template <typename T>
void avgpool2d_grad(int64_t n, const Pool2dDims &d, const T *x, const T *y,
                    const T *dy, T *dx) {
  (void)x; // not read: the gradient needs only dy
  (void)y;
  if (dx)
    conv_detail::avgPoolBackward(n, d, dy, dx);
}

template <typename T>
void global_maxpool2d(int64_t n, const GlobalPool2dDims &d, const T *x, T *y) {
  conv_detail::maxPoolForward(n, conv_detail::poolOf(d), x, y);
}

template <typename T>
void global_maxpool2d_grad(int64_t n, const GlobalPool2dDims &d, const T *x,
                           const T *y, const T *dy, T *dx) {
  (void)y;
  if (dx)
    conv_detail::maxPoolBackward(n, conv_detail::poolOf(d), x, dy, dx);
}

template <typename T>
void global_avgpool2d(int64_t n, const GlobalPool2dDims &d, const T *x, T *y) {
  conv_detail::avgPoolForward(n, conv_detail::poolOf(d), x, y);
}

template <typename T>
void global_avgpool2d_grad(int64_t n, const GlobalPool2dDims &d, const T *x,
                           const T *y, const T *dy, T *dx) {
  (void)x; // not read: the gradient needs only dy
  (void)y;
  if (dx)
    conv_detail::avgPoolBackward(n, conv_detail::poolOf(d), dy, dx);
}

namespace conv_detail {

/// maxPoolForward's window maximum over computed values: per channel ci,
/// the maximum of value(offset, ci) over the window rows [ih0, ih1) x
/// columns [iw0, iw1), offset = (ih * w + iw) * c the cell's offset in its
/// example, compared in maxPoolForward's order, so that on value(offset,
/// ci) = xe[offset + ci] both agree. The window must not be empty.
template <typename T, typename Value>
void windowMaxOf(int64_t w, int64_t c, int64_t ih0, int64_t ih1, int64_t iw0,
                 int64_t iw1, Value value, T *__restrict best) {
  const int64_t first = (ih0 * w + iw0) * c;
  for (int64_t ci = 0; ci < c; ++ci)
    best[ci] = value(first, ci);
  for (int64_t ih = ih0; ih < ih1; ++ih)
    for (int64_t iw = ih == ih0 ? iw0 + 1 : iw0; iw < iw1; ++iw) {
      const int64_t offset = (ih * w + iw) * c;
      for (int64_t ci = 0; ci < c; ++ci) {
        const T v = value(offset, ci);
        best[ci] = v > best[ci] ? v : best[ci];
      }
    }
}

} // namespace conv_detail

} // namespace dlk

#endif // DLC_CODEGEN_CPU_KERNELS_POOLING_H
