//===- DirectConv.h - convolution forward without a column matrix --------===//
//
// Header-only C++17, namespace dlk. The forward product of a convolution
// (Im2col.h's geometry, channels last) computed as the GEMM col * kernel
// would compute it, but with no column matrix and no packing of it: the
// micro-kernel broadcasts each input value straight from x.
//
// A micro-tile is MR consecutive output cells (rows of col, which may span
// output rows and examples) by NR filters. For each tap (i, j) of the
// window, each cell's input cell is one pointer into x (a zero row where the
// window lies on padding), and the Cg channels behind it are contiguous, so
// the tile's sum over k = (tap, channel) runs tap by tap with MR pointers:
//
//   for tap: for cc < Cg: acc[r][:] += x_r[tap][cc] * packedKernel[k][:]
//
// The accumulators stay in registers for the whole sum (all of k), so each
// element of y is summed in one fixed order (taps ascending, channels
// ascending): the same result for any number of threads. The kernel is
// packed once per call into NR-wide, k-major panels (GemmBlocking).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_KERNELS_DIRECTCONV_H
#define DLC_CODEGEN_CPU_KERNELS_DIRECTCONV_H

#include "codegen/cpu/kernels/Im2col.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace dlk {
namespace conv_detail {

/// Whether the direct forward suits `d`: a windowed convolution (a
/// pointwise one is a plain GEMM already) whose kernel panel stays in L2
/// (kDirectMaxColumns); beyond it the blocked GEMM, which splits k, is the
/// better product.
template <typename T> constexpr bool directForwardFits(const Conv2dDims &d) {
  return !isPointwise(d) && d.groups >= 1 &&
         im2colColumns(d) <= kDirectMaxColumns;
}

/// One micro-tile: C[mr, nr] = sum over `taps` taps of the Cg channels at
/// rows[t * MR + r] (r < MR; rows past mr point at zeros) times the packed
/// panel `bp` (k-major, NR wide); `epi` then finishes each stored row,
/// whose first column is column `col` of C.
template <typename T, int NV, typename Epilogue>
inline void directTile(int64_t taps, int64_t cg, const T *const *rows,
                       const T *__restrict bp, T *__restrict c, int64_t ldc,
                       int64_t mr, int64_t nr, const Epilogue &epi,
                       int64_t col) {
  using B = GemmBlocking<T, NV>;
  constexpr int MR = B::kMR, NR = B::kNR;
  typedef T V __attribute__((vector_size(DLK_GEMM_VECTOR_BYTES)));
  V acc[MR][NV];
  clearTile(acc);
  for (int64_t t = 0; t < taps; ++t) {
    const T *p[MR];
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i)
      p[i] = rows[t * MR + i];
    for (int64_t cc = 0; cc < cg; ++cc) {
      V b[NV];
      loadVectors(b, bp);
      multiplyAdd(acc, b, [&p, cc](int i) { return p[i][cc]; });
      bp += NR;
    }
  }
  storeTile<T>(acc, c, ldc, mr, nr, false, epi, col, true);
}

/// Channels per group below which the direct forward packs each tile's
/// columns (k = taps * Cg values per cell, few) instead of keeping one
/// pointer per cell and tap: a pointer per value costs more than a copy.
constexpr int64_t kPointerTableChannels = 4;

/// Packs the columns of output cells [r0, r0 + mr) of group `group` into
/// one k-major panel of MR rows (panel[k * MR + i]; rows past mr zero), a
/// run of cells of one output row at a time: the panel the GEMM
/// micro-kernel (Gemm.h) multiplies.
template <typename T, int MR>
void packColumnTile(const Conv2dDims &d, const T *x, int64_t group,
                    const int64_t *tapRow, const int64_t *tapCol, int64_t r0,
                    int64_t mr, T *__restrict panel) {
  const int64_t cg = d.c / d.groups, k = d.kh * d.kw * cg;
  OutputCell cell(d, r0);
  for (int64_t i = 0; i < mr;) {
    const int64_t run = std::min(mr - i, d.ow - cell.ow);
    const T *base = x + cell.e * d.h * d.w * d.c + group * cg;
    for (int64_t ti = 0; ti < d.kh; ++ti) {
      const int64_t ih = cell.oh * d.sh + tapRow[ti];
      const bool rowInside = ih >= 0 && ih < d.h;
      for (int64_t tj = 0; tj < d.kw; ++tj)
        for (int64_t cc = 0; cc < cg; ++cc) {
          T *dst = panel + ((ti * d.kw + tj) * cg + cc) * MR + i;
          for (int64_t q = 0; q < run; ++q) {
            const int64_t iw = (cell.ow + q) * d.sw + tapCol[tj];
            dst[q] = rowInside && iw >= 0 && iw < d.w
                         ? base[(ih * d.w + iw) * d.c + cc]
                         : T(0);
          }
        }
    }
    i += run;
    cell.ow += run - 1;
    cell.advance(d);
  }
  for (int64_t kk = 0; kk < k; ++kk)
    for (int64_t i = mr; i < MR; ++i)
      panel[kk * MR + i] = T(0);
}

/// y[:, group's filters] = the group's columns of x times its kernel
/// columns, with micro-tiles NV vectors wide (see the file comment).
template <typename T, int NV, typename Epilogue>
void directForwardGroup(int64_t n, const Conv2dDims &d, const T *x,
                        const T *kernel, T *y, int64_t group,
                        const Epilogue &epi) {
  using B = GemmBlocking<T, NV>;
  constexpr int64_t MR = B::kMR, NR = B::kNR;
  const int64_t cg = d.c / d.groups, fg = d.f / d.groups;
  const int64_t taps = d.kh * d.kw, k = taps * cg;
  const int64_t panels = (fg + NR - 1) / NR;
  const int64_t m = n * d.oh * d.ow, tiles = (m + MR - 1) / MR;
  // The group's kernel columns, packed once: panel p holds k rows of NR.
  T *packed =
      static_cast<T *>(packBufferB().get(size_t(k * panels * NR) * sizeof(T)));
  if (!packed) {
    // No memory for the panels: the GEMM (which falls back to its own
    // unblocked product) computes the same sums.
    gemmWithA(ConvColumnsOperand<T>{d, x, group}, false, m, fg, k,
              kernel + group * fg, d.f, y + group * fg, d.f, false,
              epi.shifted(group * fg));
    return;
  }
  for (int64_t p = 0; p < panels; ++p)
    packBPanel<T, int(NR)>(kernel + group * fg, d.f, false, 0, p * NR, k,
                           std::min(NR, fg - p * NR), packed + p * k * NR);
  const std::vector<T> zeros(size_t(cg), T(0));
  const Epilogue shifted = epi.shifted(group * fg);
  // Where each window row and column lies relative to its output cell's
  // strided position.
  std::vector<int64_t> tapRow(size_t(d.kh)), tapCol(size_t(d.kw));
  for (int64_t i = 0; i < d.kh; ++i)
    tapRow[size_t(i)] = i * d.dh - d.padTop;
  for (int64_t j = 0; j < d.kw; ++j)
    tapCol[size_t(j)] = j * d.dw - d.padLeft;
  // Enough work to be worth a second thread: about 64k multiply-adds each.
  const int threads = int(
      std::min<int64_t>(gemmThreads(), std::max<int64_t>(1, m * fg * k >> 16)));
  (void)threads; // without OpenMP
  DLK_GEMM_OMP(parallel num_threads(threads)) {
    const ThreadShare share;
    // Each tile's input pointers (table[tap * MR + r]), or with few
    // channels its packed columns.
    const bool packTiles = cg < kPointerTableChannels;
    std::vector<const T *> table(packTiles ? 0 : size_t(taps * MR));
    std::vector<T> panel(packTiles ? size_t(k * MR) : 0);
    for (int64_t tile = share.begin(tiles); tile < share.end(tiles); ++tile) {
      const int64_t r0 = tile * MR, mr = std::min(MR, m - r0);
      T *y0 = y + r0 * d.f + group * fg;
      if (packTiles) {
        packColumnTile<T, int(MR)>(d, x, group, tapRow.data(), tapCol.data(),
                                   r0, mr, panel.data());
        for (int64_t p = 0; p < panels; ++p)
          microKernel<T, NV>(k, panel.data(), packed + p * k * NR, y0 + p * NR,
                             d.f, mr, std::min(NR, fg - p * NR), false, shifted,
                             p * NR, true);
        continue;
      }
      OutputCell cell(d, r0);
      for (int64_t i = 0; i < MR; ++i, cell.advance(d)) {
        const T *base = x + cell.e * d.h * d.w * d.c + group * cg;
        const int64_t ih0 = cell.oh * d.sh, iw0 = cell.ow * d.sw;
        for (int64_t ti = 0; ti < d.kh; ++ti) {
          const int64_t ih = ih0 + tapRow[size_t(ti)];
          const bool rowInside = i < mr && ih >= 0 && ih < d.h;
          const int64_t rowOffset = ih * d.w * d.c;
          for (int64_t tj = 0; tj < d.kw; ++tj) {
            const int64_t iw = iw0 + tapCol[size_t(tj)];
            const bool inside = rowInside && iw >= 0 && iw < d.w;
            table[size_t((ti * d.kw + tj) * MR + i)] =
                inside ? base + rowOffset + iw * d.c : zeros.data();
          }
        }
      }
      for (int64_t p = 0; p < panels; ++p)
        directTile<T, NV>(taps, cg, table.data(), packed + p * k * NR,
                          y0 + p * NR, d.f, mr, std::min(NR, fg - p * NR),
                          shifted, p * NR);
    }
  }
}

/// y = conv(x, kernel) for n examples, directly (directForwardFits(d)
/// must hold); `epi` finishes each output row of each tile.
template <typename T, typename Epilogue>
void directConvForward(int64_t n, const Conv2dDims &d, const T *x,
                       const T *kernel, T *y, const Epilogue &epi) {
  const int64_t fg = d.f / d.groups;
  for (int64_t g = 0; g < d.groups; ++g) {
    if (fg <= GemmBlocking<T, 1>::kNR)
      directForwardGroup<T, 1>(n, d, x, kernel, y, g, epi);
    else
      directForwardGroup<T, 2>(n, d, x, kernel, y, g, epi);
  }
}

/// Whether the direct kernel gradient suits `d`: a windowed convolution
/// of one group.
template <typename T> constexpr bool directFilterFits(const Conv2dDims &d) {
  return !isPointwise(d) && d.groups == 1;
}

/// The input values of a kernel-gradient tile's MC rows for one output
/// cell, `offset` elements past the run's first: MC contiguous channels of
/// one tap...
template <typename T> struct ChannelRows {
  const T *x;
  T operator()(int i, int64_t offset) const { return x[offset + i]; }
};

/// ...or rows of several taps, a pointer each.
template <typename T, int MC> struct PointerRows {
  const T *p[MC];
  T operator()(int i, int64_t offset) const { return p[i][offset]; }
};

/// Adds one run of `count` output cells to a kernel-gradient tile's sums
/// `sums` (MC rows x NV vectors): row i's value for cell q is
/// rows(i, q * step), and dy advances by dyStep. A separate function, so
/// that the sums live in registers while it runs. With `Full`, NV whole
/// vectors of dy are read; else only nr values (never past dy's row).
template <typename T, int MC, int NV, bool Full, typename Rows, typename V>
inline void addFilterRun(int64_t count, const Rows &rows, int64_t step,
                         const T *g, int64_t dyStep, int64_t nr,
                         V (&sums)[MC][NV]) {
  constexpr int L = GemmBlocking<T, NV>::kLanes;
  V acc[MC][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MC; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      acc[i][v] = sums[i][v];
  const Rows source = rows;
  for (int64_t q = 0; q < count; ++q, g += dyStep) {
    V b[NV];
    if constexpr (Full) {
      loadVectors(b, g);
    } else {
      alignas(64) T part[NV * L] = {};
      std::memcpy(part, g, size_t(nr) * sizeof(T));
      loadVectors(b, part);
    }
    const int64_t offset = q * step;
    multiplyAdd(acc, b, [&source, offset](int i) { return source(i, offset); });
  }
#pragma GCC unroll 32
  for (int i = 0; i < MC; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      sums[i][v] = acc[i][v];
}

/// Adds output rows [rowBegin, rowEnd) (row r: example r / OH, output row
/// r % OH) to one tile of the kernel gradient, dkernel[tap, cc0 + i,
/// f0 + j] for i < MC channels and j < nr <= NV vectors of filters: every
/// output cell whose window reads tap `tap` inside x (cells whose tap lies
/// on padding add nothing), cells ascending.
template <typename T, int MC, int NV, typename V>
void addFilterTileRows(const Conv2dDims &d, const T *x, const T *dy,
                       int64_t tap, int64_t cc0, int64_t f0, int64_t nr,
                       int64_t rowBegin, int64_t rowEnd, V (&sums)[MC][NV]) {
  constexpr int NR = NV * GemmBlocking<T, NV>::kLanes;
  const int64_t rowOffset = tap / d.kw * d.dh - d.padTop;
  const int64_t colOffset = tap % d.kw * d.dw - d.padLeft;
  // The output columns whose tap column lies inside x: iw = ow * sw +
  // colOffset in [0, w).
  const int64_t owBegin = colOffset >= 0 ? 0 : (-colOffset + d.sw - 1) / d.sw;
  const int64_t owEnd = std::min(
      d.ow, d.w - 1 - colOffset < 0 ? 0 : (d.w - 1 - colOffset) / d.sw + 1);
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    const int64_t e = r / d.oh, oh = r % d.oh;
    const int64_t ih = oh * d.sh + rowOffset;
    if (ih < 0 || ih >= d.h || owBegin >= owEnd)
      continue;
    const T *xp =
        x + ((e * d.h + ih) * d.w + owBegin * d.sw + colOffset) * d.c + cc0;
    const T *g = dy + (r * d.ow + owBegin) * d.f + f0;
    const ChannelRows<T> rows{xp};
    if (nr == NR)
      addFilterRun<T, MC, NV, true>(owEnd - owBegin, rows, d.sw * d.c, g, d.f,
                                    nr, sums);
    else
      addFilterRun<T, MC, NV, false>(owEnd - owBegin, rows, d.sw * d.c, g, d.f,
                                     nr, sums);
  }
}

/// Writes a finished tile's sums: dkernel[firstRow + i, f0 + j] for i < mc
/// kernel rows (k = tap * C + cc) and j < nr filters.
template <typename T, int MC, int NV, typename V>
void storeFilterTile(const V (&sums)[MC][NV], int64_t mc, int64_t firstRow,
                     int64_t f0, int64_t nr, int64_t filters, T *dkernel) {
  constexpr int L = GemmBlocking<T, NV>::kLanes;
  alignas(64) T row[NV * L];
  for (int64_t i = 0; i < mc; ++i) {
    for (int v = 0; v < NV; ++v)
      std::memcpy(row + v * L, &sums[i][v], sizeof(V));
    std::memcpy(dkernel + (firstRow + i) * filters + f0, row,
                size_t(nr) * sizeof(T));
  }
}

/// Adds output rows [rowBegin, rowEnd) to one tile of the kernel gradient
/// of a convolution with few channels: kernel rows [row0, row0 + MC) (k =
/// tap * C + cc, across taps; rows past k's end are zero rows) by filters
/// [f0, f0 + nr), output cells in order. Cells whose every row reads inside x
/// take the fast run; the few at the borders read each value with its bounds
/// check.
template <typename T, int MC, int NV, typename V>
void addFilterRowsTileRows(const Conv2dDims &d, const T *x, const T *dy,
                           int64_t row0, int64_t f0, int64_t nr, const T *zeros,
                           int64_t rowBegin, int64_t rowEnd,
                           V (&sums)[MC][NV]) {
  constexpr int L = GemmBlocking<T, NV>::kLanes, NR = NV * L;
  const int64_t k = d.kh * d.kw * d.c, mc = std::min<int64_t>(MC, k - row0);
  int64_t rowOff[MC], colOff[MC], channel[MC];
  int64_t owBegin = 0, owEnd = d.ow;
  for (int64_t i = 0; i < MC; ++i) {
    const int64_t row = std::min(row0 + i, k - 1), tap = row / d.c;
    rowOff[i] = tap / d.kw * d.dh - d.padTop;
    colOff[i] = tap % d.kw * d.dw - d.padLeft;
    channel[i] = row % d.c;
    // Cells whose column iw = ow * sw + colOff lies in [0, w).
    if (colOff[i] < 0)
      owBegin = std::max(owBegin, (-colOff[i] + d.sw - 1) / d.sw);
    owEnd = std::min(owEnd, d.w - 1 - colOff[i] < 0
                                ? int64_t(0)
                                : (d.w - 1 - colOff[i]) / d.sw + 1);
  }
  owEnd = std::max(owEnd, owBegin);
  const int64_t step = d.sw * d.c;
  alignas(64) T one[MC * NR];
  for (int64_t r = rowBegin; r < rowEnd; ++r) {
    const int64_t e = r / d.oh, oh = r % d.oh;
    const T *g = dy + r * d.ow * d.f + f0;
    // Where each row's values of this output row start (cell 0).
    const T *src[MC];
    bool inside[MC];
    for (int64_t i = 0; i < MC; ++i) {
      const int64_t ih = oh * d.sh + rowOff[i];
      inside[i] = i < mc && ih >= 0 && ih < d.h;
      src[i] = zeros;
      if (inside[i])
        src[i] = x + ((e * d.h + ih) * d.w) * d.c + channel[i];
    }
    for (int64_t ow = 0; ow < d.ow; ++ow) {
      if (ow == owBegin && owBegin < owEnd) {
        PointerRows<T, MC> rows;
        for (int64_t i = 0; i < MC; ++i)
          rows.p[i] =
              inside[i] ? src[i] + (ow * d.sw + colOff[i]) * d.c : zeros;
        if (nr == NR)
          addFilterRun<T, MC, NV, true>(owEnd - owBegin, rows, step,
                                        g + ow * d.f, d.f, nr, sums);
        else
          addFilterRun<T, MC, NV, false>(owEnd - owBegin, rows, step,
                                         g + ow * d.f, d.f, nr, sums);
        ow = owEnd - 1;
        continue;
      }
      // A border cell: each value checked (zero rows read zeros).
      for (int64_t i = 0; i < MC; ++i) {
        const int64_t iw = ow * d.sw + colOff[i];
        const T a = inside[i] && iw >= 0 && iw < d.w ? src[i][iw * d.c] : T(0);
        for (int64_t j = 0; j < nr; ++j)
          one[i * NR + j] = a * g[ow * d.f + j];
      }
      for (int64_t i = 0; i < MC; ++i)
        for (int v = 0; v < NV; ++v) {
          alignas(64) T lane[L];
          for (int j = 0; j < L; ++j)
            lane[j] = v * L + j < nr ? one[i * NR + v * L + j] : T(0);
          V add;
          std::memcpy(&add, lane, sizeof(V));
          sums[i][v] += add;
        }
    }
  }
}

/// Output rows per block of the kernel gradient's tiles: about 256 KiB of
/// dy and x, so that every tile re-reads a block from L2, not memory.
template <typename T> int64_t filterBlockRows(const Conv2dDims &d) {
  const int64_t bytes = (d.ow * d.f + d.sh * d.w * d.c) * int64_t(sizeof(T));
  return std::max<int64_t>(1,
                           (int64_t(256) << 10) / std::max<int64_t>(1, bytes));
}

/// The kernel gradient over `tiles` tiles of MC x NV vectors: each thread
/// owns a contiguous range of tiles and keeps their sums while it walks the
/// output rows a block at a time (filterBlockRows), adding each block to
/// each of its tiles: `add(tile, rowBegin, rowEnd, sums)`. Each tile's sums
/// take the rows in order whatever the blocks or threads. `store(tile,
/// sums)` then writes each tile.
template <typename T, int MC, int NV, typename Add, typename Store>
void filterTilesByRowBlocks(int64_t n, const Conv2dDims &d, int64_t tiles,
                            int64_t work, const Add &add, const Store &store) {
  typedef T V __attribute__((vector_size(DLK_GEMM_VECTOR_BYTES)));
  typedef V Sums[MC][NV];
  const int64_t rows = n * d.oh, block = filterBlockRows<T>(d);
  const int threads = int(std::min<int64_t>(
      gemmThreads(), std::min(tiles, std::max<int64_t>(1, work >> 16))));
  (void)threads; // without OpenMP
  DLK_GEMM_OMP(parallel num_threads(threads)) {
    const ThreadShare share;
    const int64_t t0 = share.begin(tiles), t1 = share.end(tiles);
    // The tiles' sums, 64-byte aligned (a std::vector would drop the
    // vector type's alignment).
    ScratchBuffer buffer;
    Sums *sums = static_cast<Sums *>(
        buffer.get(size_t(std::max<int64_t>(1, t1 - t0)) * sizeof(Sums)));
    if (sums) {
      for (int64_t tile = t0; tile < t1; ++tile)
        clearTile(sums[tile - t0]);
      for (int64_t r0 = 0; r0 < rows; r0 += block)
        for (int64_t tile = t0; tile < t1; ++tile)
          add(tile, r0, std::min(rows, r0 + block), sums[tile - t0]);
      for (int64_t tile = t0; tile < t1; ++tile)
        store(tile, sums[tile - t0]);
    } else { // no memory for the sums: one tile at a time, all rows
      for (int64_t tile = t0; tile < t1; ++tile) {
        Sums one;
        clearTile(one);
        add(tile, 0, rows, one);
        store(tile, one);
      }
    }
  }
}

/// dkernel for tiles of MC channels of one tap by NV vectors of filters.
template <typename T, int MC, int NV>
void directFilterTiles(int64_t n, const Conv2dDims &d, const T *x, const T *dy,
                       T *dkernel) {
  constexpr int64_t NR = GemmBlocking<T, NV>::kLanes * NV;
  const int64_t taps = d.kh * d.kw, channelTiles = d.c / MC;
  const int64_t filterTiles = (d.f + NR - 1) / NR;
  auto where = [=](int64_t tile, int64_t &tap, int64_t &cc0, int64_t &f0) {
    const int64_t ft = tile % filterTiles, rest = tile / filterTiles;
    tap = rest / channelTiles;
    cc0 = rest % channelTiles * MC;
    f0 = ft * NR;
  };
  filterTilesByRowBlocks<T, MC, NV>(
      n, d, taps * channelTiles * filterTiles,
      n * d.oh * d.ow * d.c * d.f * taps,
      [&](int64_t tile, int64_t r0, int64_t r1, auto &sums) {
        int64_t tap, cc0, f0;
        where(tile, tap, cc0, f0);
        addFilterTileRows<T, MC, NV>(d, x, dy, tap, cc0, f0,
                                     std::min(NR, d.f - f0), r0, r1, sums);
      },
      [&](int64_t tile, const auto &sums) {
        int64_t tap, cc0, f0;
        where(tile, tap, cc0, f0);
        storeFilterTile<T, MC, NV>(sums, MC, tap * d.c + cc0, f0,
                                   std::min(NR, d.f - f0), d.f, dkernel);
      });
}

/// dkernel for tiles of MC kernel rows (across taps) by NV vectors of
/// filters.
template <typename T, int MC, int NV>
void directFilterRowsTiles(int64_t n, const Conv2dDims &d, const T *x,
                           const T *dy, T *dkernel) {
  constexpr int64_t NR = GemmBlocking<T, NV>::kLanes * NV;
  const int64_t k = d.kh * d.kw * d.c, rowTiles = (k + MC - 1) / MC;
  const int64_t filterTiles = (d.f + NR - 1) / NR;
  // What zero rows read: as far as a run of cells steps.
  const std::vector<T> zeros(size_t(d.ow * d.sw * d.c + 1), T(0));
  filterTilesByRowBlocks<T, MC, NV>(
      n, d, rowTiles * filterTiles, n * d.oh * d.ow * k * d.f,
      [&](int64_t tile, int64_t r0, int64_t r1, auto &sums) {
        const int64_t f0 = tile % filterTiles * NR;
        addFilterRowsTileRows<T, MC, NV>(d, x, dy, tile / filterTiles * MC, f0,
                                         std::min(NR, d.f - f0), zeros.data(),
                                         r0, r1, sums);
      },
      [&](int64_t tile, const auto &sums) {
        const int64_t f0 = tile % filterTiles * NR,
                      row0 = tile / filterTiles * MC;
        storeFilterTile<T, MC, NV>(sums, std::min<int64_t>(MC, k - row0), row0,
                                   f0, std::min(NR, d.f - f0), d.f, dkernel);
      });
}

/// dkernel = the kernel gradient of conv for input x and output gradient
/// dy, directly (directFilterFits(d) must hold): tiles of channels of one
/// tap (or, with channels not a multiple of 4, of rows across taps) by
/// filters, each input value broadcast straight from x and each row of dy
/// read in place.
template <typename T>
void directConvBackwardFilter(int64_t n, const Conv2dDims &d, const T *x,
                              const T *dy, T *dkernel) {
  constexpr int64_t L = GemmBlocking<T, 1>::kLanes;
  if (d.c % 4 != 0) { // few channels: tiles of rows across taps
    if (d.f <= L)
      directFilterRowsTiles<T, 16, 1>(n, d, x, dy, dkernel);
    else
      directFilterRowsTiles<T, 8, 2>(n, d, x, dy, dkernel);
  } else if (d.f <= L) {
    if (d.c % 16 == 0)
      directFilterTiles<T, 16, 1>(n, d, x, dy, dkernel);
    else if (d.c % 8 == 0)
      directFilterTiles<T, 8, 1>(n, d, x, dy, dkernel);
    else
      directFilterTiles<T, 4, 1>(n, d, x, dy, dkernel);
  } else {
    if (d.c % 12 == 0)
      directFilterTiles<T, 12, 2>(n, d, x, dy, dkernel);
    else if (d.c % 8 == 0)
      directFilterTiles<T, 8, 2>(n, d, x, dy, dkernel);
    else
      directFilterTiles<T, 4, 2>(n, d, x, dy, dkernel);
  }
}

} // namespace conv_detail
} // namespace dlk

#endif // DLC_CODEGEN_CPU_KERNELS_DIRECTCONV_H
