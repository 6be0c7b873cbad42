//===- Gemm.h - a blocked, packed matrix multiply for the CPU kernels -----===//
//
// Header-only C++17, namespace dlk. C[m, n] = op(A)[m, k] * op(B)[k, n]
// (or += with `accumulate`), row-major, op() an optional transpose. The
// classic three-level blocking: B is packed into k-major panels of kNR
// columns (kKC x kNC per block, shared by all threads), A into panels of
// kMR rows (kMC x kKC, per thread), and a register-blocked kMR x kNR
// micro-kernel written with GCC/Clang vector extensions (one vector width
// per target: AVX-512, AVX or SSE) does the multiply-adds.
//
// OpenMP splits the C tiles of one block between threads; every element of
// C sums its products in one fixed order (k ascending), so the result does
// not depend on the number of threads at all.
//
// An optional epilogue (Epilogue.h: a fused layer's bias and activation)
// runs on each micro-tile row right after its last k block is stored, while
// the tile is still in L1; the default NoEpilogue compiles to nothing.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_KERNELS_GEMM_H
#define DLC_CODEGEN_CPU_KERNELS_GEMM_H

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#ifdef _OPENMP
#include <omp.h>
#endif

/// `DLK_GEMM_OMP(parallel for)` is `#pragma omp parallel for` when OpenMP is
/// on, and nothing otherwise (no unknown-pragma warnings).
#define DLK_GEMM_STRINGIFY(...) #__VA_ARGS__
#ifdef _OPENMP
#define DLK_GEMM_OMP(...) _Pragma(DLK_GEMM_STRINGIFY(omp __VA_ARGS__))
#else
#define DLK_GEMM_OMP(...)
#endif

#if defined(__AVX512F__)
#define DLK_GEMM_VECTOR_BYTES 64
#elif defined(__AVX__)
#define DLK_GEMM_VECTOR_BYTES 32
#else
#define DLK_GEMM_VECTOR_BYTES 16
#endif

namespace dlk {

/// The epilogue of a plain product: nothing (see Epilogue.h).
struct NoEpilogue {
  static constexpr bool kActive = false;
  template <typename T> void operator()(T *, int64_t, int64_t) const {}
  NoEpilogue shifted(int64_t) const { return *this; }
};

/// The number of threads OpenMP would use for a parallel region here.
inline int gemmThreads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

/// The calling thread's share of the enclosing OpenMP parallel region (the
/// whole of it outside one): items [begin(total), end(total)) of `total`,
/// contiguous and in order, so a region's split depends only on its thread
/// count.
struct ThreadShare {
  int64_t index = 0, count = 1;
  ThreadShare() {
#ifdef _OPENMP
    index = omp_get_thread_num();
    count = omp_get_num_threads();
#endif
  }
  int64_t begin(int64_t total) const { return total * index / count; }
  int64_t end(int64_t total) const { return total * (index + 1) / count; }
};

namespace conv_detail {

/// Block sizes of the GEMM for element type T with micro-tiles NV vectors
/// wide: two vectors for most products, one for a narrow C (n at most one
/// vector), where the micro-tile is twice as tall instead, so that no half
/// of each multiply-add is spent on zero padding.
template <typename T, int NV = 2> struct GemmBlocking {
  static_assert(NV == 1 || NV == 2, "micro-tiles are one or two vectors wide");
  static constexpr int kLanes = DLK_GEMM_VECTOR_BYTES / int(sizeof(T));
  /// Columns of a micro-tile.
  static constexpr int kNR = NV * kLanes;
  /// Rows of a micro-tile: MR * NV accumulators stay in registers.
  static constexpr int kMR = (DLK_GEMM_VECTOR_BYTES >= 64 ? 12 : 6) * (3 - NV);
  static constexpr int64_t kKC = 256;
  static constexpr int64_t kMC = int64_t(kMR) * 8;
  static constexpr int64_t kNC = int64_t(2 * kLanes) * 64;
};

/// A growing, 64-byte aligned scratch buffer (one per thread for packing).
class ScratchBuffer {
public:
  ScratchBuffer() = default;
  ScratchBuffer(const ScratchBuffer &) = delete;
  ScratchBuffer &operator=(const ScratchBuffer &) = delete;
  ~ScratchBuffer() { std::free(data_); }

  /// At least `bytes` bytes, or nullptr when memory runs out.
  void *get(size_t bytes) {
    if (bytes > size_) {
      std::free(data_);
      size_t rounded = (bytes + 63) / 64 * 64;
      data_ = std::aligned_alloc(64, rounded);
      size_ = data_ ? rounded : 0;
    }
    return data_;
  }

private:
  void *data_ = nullptr;
  size_t size_ = 0;
};

inline ScratchBuffer &packBufferA() {
  static thread_local ScratchBuffer buffer;
  return buffer;
}

inline ScratchBuffer &packBufferB() {
  static thread_local ScratchBuffer buffer;
  return buffer;
}

} // namespace conv_detail

/// The left operand op(A) of a product stored as a matrix: A itself
/// (row-major, leading dimension lda) or, with `trans`, A stored k x m.
/// An A operand packs its rows [ic, ic + mc) x columns [pc, pc + kc) into
/// panels of MR rows, k-major (panel p holds out[p*MR*kc + k*MR + i]; rows
/// past the end zero), and reads one element with at(i, p); Im2col.h has
/// operands that read a convolution's columns straight from its input.
template <typename T> struct MatrixOperandA {
  const T *a;
  int64_t lda;
  bool trans;

  T at(int64_t i, int64_t p) const {
    return trans ? a[p * lda + i] : a[i * lda + p];
  }

  template <int MR>
  void pack(int64_t ic, int64_t pc, int64_t mc, int64_t kc,
            T *__restrict out) const {
    for (int64_t ir = 0; ir < mc; ir += MR) {
      int64_t mr = std::min<int64_t>(MR, mc - ir);
      T *panel = out + ir * kc;
      if (!trans) {
        for (int64_t i = 0; i < mr; ++i) {
          const T *row = a + (ic + ir + i) * lda + pc;
          for (int64_t k = 0; k < kc; ++k)
            panel[k * MR + i] = row[k];
        }
        for (int64_t i = mr; i < MR; ++i)
          for (int64_t k = 0; k < kc; ++k)
            panel[k * MR + i] = T(0);
      } else {
        for (int64_t k = 0; k < kc; ++k) {
          const T *col = a + (pc + k) * lda + ic + ir;
          T *dst = panel + k * MR;
          for (int64_t i = 0; i < mr; ++i)
            dst[i] = col[i];
          for (int64_t i = mr; i < MR; ++i)
            dst[i] = T(0);
        }
      }
    }
  }
};

namespace conv_detail {

/// Packs the NR-column panel starting at column jc (nr <= NR of them
/// real) of rows [pc, pc + kc) of op(B), k-major; missing columns are zero.
template <typename T, int NR>
void packBPanel(const T *b, int64_t ldb, bool transB, int64_t pc, int64_t jc,
                int64_t kc, int64_t nr, T *__restrict panel) {
  if (!transB) {
    for (int64_t k = 0; k < kc; ++k) {
      const T *row = b + (pc + k) * ldb + jc;
      T *dst = panel + k * NR;
      for (int64_t j = 0; j < nr; ++j)
        dst[j] = row[j];
      for (int64_t j = nr; j < NR; ++j)
        dst[j] = T(0);
    }
  } else {
    for (int64_t j = 0; j < nr; ++j) {
      const T *col = b + (jc + j) * ldb + pc;
      for (int64_t k = 0; k < kc; ++k)
        panel[k * NR + j] = col[k];
    }
    for (int64_t j = nr; j < NR; ++j)
      for (int64_t k = 0; k < kc; ++k)
        panel[k * NR + j] = T(0);
  }
}

/// Clears a micro-tile's accumulators.
template <int MR, int NV, typename V> inline void clearTile(V (&acc)[MR][NV]) {
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      acc[i][v] = V{};
}

/// b[v] = the v-th vector at p (NV vectors, unaligned).
template <typename T, int NV, typename V>
inline void loadVectors(V (&b)[NV], const T *p) {
  constexpr int L = int(sizeof(V) / sizeof(T));
#pragma GCC unroll 2
  for (int v = 0; v < NV; ++v)
    std::memcpy(&b[v], p + v * L, sizeof(V));
}

/// The micro-kernels' one step: acc[i][:] += a(i) * b[:] for each of the
/// MR rows (a(i) broadcast to every lane).
template <int MR, int NV, typename V, typename RowValue>
inline void multiplyAdd(V (&acc)[MR][NV], const V (&b)[NV], const RowValue &a) {
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
    const V ai = V{} + a(i);
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      acc[i][v] += ai * b[v];
  }
}

/// Stores a micro-tile's sums `acc` into C[mr, nr] (=, or += with
/// `accumulate`); with `finish`, `epi` then runs on each stored row, whose
/// first column is column `col` of C.
template <typename T, int MR, int NV, typename V, typename Epilogue>
inline void storeTile(V (&acc)[MR][NV], T *__restrict c, int64_t ldc,
                      int64_t mr, int64_t nr, bool accumulate,
                      const Epilogue &epi, int64_t col, bool finish) {
  constexpr int L = int(sizeof(V) / sizeof(T)), NR = NV * L;
  if (mr == MR && nr == NR) {
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
      T *row = c + i * ldc;
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) {
        if (accumulate) {
          V old;
          std::memcpy(&old, row + v * L, sizeof(V));
          acc[i][v] += old;
        }
        std::memcpy(row + v * L, &acc[i][v], sizeof(V));
      }
      if constexpr (Epilogue::kActive)
        if (finish)
          epi(row, col, NR);
    }
    return;
  }
  alignas(64) T tile[MR * NR];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v)
      std::memcpy(tile + i * NR + v * L, &acc[i][v], sizeof(V));
  for (int64_t i = 0; i < mr; ++i) {
    for (int64_t j = 0; j < nr; ++j)
      c[i * ldc + j] =
          accumulate ? c[i * ldc + j] + tile[i * NR + j] : tile[i * NR + j];
    if constexpr (Epilogue::kActive)
      if (finish)
        epi(c + i * ldc, col, nr);
  }
}

/// C[mr, nr] (=|+=) Ap * Bp over kc for one micro-tile of packed panels;
/// with `last` (the final k block) `epi` then runs on each of its rows,
/// whose first column is column `col` of C.
template <typename T, int NV, typename Epilogue = NoEpilogue>
inline void microKernel(int64_t kc, const T *__restrict ap,
                        const T *__restrict bp, T *__restrict c, int64_t ldc,
                        int64_t mr, int64_t nr, bool accumulate,
                        const Epilogue &epi = Epilogue(), int64_t col = 0,
                        bool last = false) {
  using B = GemmBlocking<T, NV>;
  constexpr int MR = B::kMR, NR = B::kNR;
  typedef T V __attribute__((vector_size(DLK_GEMM_VECTOR_BYTES)));
  V acc[MR][NV];
  clearTile(acc);
  for (int64_t k = 0; k < kc; ++k) {
    V b[NV];
    loadVectors(b, bp);
    multiplyAdd(acc, b, [ap](int i) { return ap[i]; });
    ap += MR;
    bp += NR;
  }
  storeTile<T>(acc, c, ldc, mr, nr, accumulate, epi, col, last);
}

/// Rows [m0, m1) of op(A) * op(B) unblocked, for when a thread's packing
/// buffers cannot be had (the same sums, in the same k order); `epi` runs
/// on each finished row, whose first column is column `col` of C.
template <typename T, typename OperandA, typename Epilogue = NoEpilogue>
void gemmUnblocked(const OperandA &a, bool transB, int64_t m0, int64_t m1,
                   int64_t n, int64_t k, const T *b, int64_t ldb, T *c,
                   int64_t ldc, bool accumulate,
                   const Epilogue &epi = Epilogue(), int64_t col = 0) {
  for (int64_t i = m0; i < m1; ++i) {
    T *row = c + (i - m0) * ldc;
    for (int64_t j = 0; j < n; ++j) {
      T sum = accumulate ? row[j] : T(0);
      for (int64_t p = 0; p < k; ++p)
        sum += a.at(i, p) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
      row[j] = sum;
    }
    if constexpr (Epilogue::kActive)
      epi(row, col, n);
  }
}

/// One thread's part of C: rows [m0, m1) and columns [n0, n1), over all of
/// k, with its own packed panels of A and B; `epi` finishes each tile.
template <typename T, int NV, typename OperandA, typename Epilogue = NoEpilogue>
void gemmPart(const OperandA &a, bool transB, int64_t m0, int64_t m1,
              int64_t n0, int64_t n1, int64_t k, const T *b, int64_t ldb, T *c,
              int64_t ldc, bool accumulate, const Epilogue &epi = Epilogue()) {
  using B = GemmBlocking<T, NV>;
  constexpr int64_t MR = B::kMR, NR = B::kNR, KC = B::kKC, MC = B::kMC,
                    NC = B::kNC;
  if (m0 >= m1 || n0 >= n1)
    return;
  const int64_t kcMax = std::min(KC, k);
  const int64_t panelsMax = (std::min(NC, n1 - n0) + NR - 1) / NR;
  T *bp = static_cast<T *>(
      packBufferB().get(size_t(kcMax * panelsMax * NR) * sizeof(T)));
  T *ap = static_cast<T *>(packBufferA().get(size_t(MC * kcMax) * sizeof(T)));
  if (!ap || !bp) {
    gemmUnblocked(a, transB, m0, m1, n1 - n0, k, transB ? b + n0 * ldb : b + n0,
                  ldb, c + m0 * ldc + n0, ldc, accumulate, epi, n0);
    return;
  }
  for (int64_t jc = n0; jc < n1; jc += NC) {
    const int64_t nc = std::min(NC, n1 - jc);
    const int64_t panels = (nc + NR - 1) / NR;
    for (int64_t pc = 0; pc < k; pc += KC) {
      const int64_t kc = std::min(KC, k - pc);
      const bool acc = accumulate || pc > 0;
      const bool last = pc + kc >= k;
      for (int64_t p = 0; p < panels; ++p)
        packBPanel<T, NR>(b, ldb, transB, pc, jc + p * NR, kc,
                          std::min(NR, nc - p * NR), bp + p * kc * NR);
      for (int64_t ic = m0; ic < m1; ic += MC) {
        const int64_t mc = std::min(MC, m1 - ic);
        a.template pack<int(MR)>(ic, pc, mc, kc, ap);
        for (int64_t p = 0; p < panels; ++p)
          for (int64_t ir = 0; ir < mc; ir += MR)
            microKernel<T, NV>(kc, ap + ir * kc, bp + p * kc * NR,
                               c + (ic + ir) * ldc + jc + p * NR, ldc,
                               std::min(MR, mc - ir), std::min(NR, nc - p * NR),
                               acc, epi, jc + p * NR, last);
      }
    }
  }
}

/// gemmWithA with micro-tiles NV vectors wide.
template <typename T, int NV, typename OperandA, typename Epilogue>
void gemmBlocked(const OperandA &a, bool transB, int64_t m, int64_t n,
                 int64_t k, const T *b, int64_t ldb, T *c, int64_t ldc,
                 bool accumulate, const Epilogue &epi) {
  using B = GemmBlocking<T, NV>;
  constexpr int64_t NR = B::kNR, MC = B::kMC;
  const int64_t mBlocks = (m + MC - 1) / MC, panels = (n + NR - 1) / NR;
  // Enough work to be worth a second thread: about 64k multiply-adds each.
  const int64_t work = m * n * std::min<int64_t>(k, 1 << 20);
  const int64_t wanted = std::max<int64_t>(1, work >> 16);
  const int threads = int(std::min<int64_t>(gemmThreads(), wanted));
  if (threads <= 1) {
    gemmPart<T, NV>(a, transB, 0, m, 0, n, k, b, ldb, c, ldc, accumulate, epi);
    return;
  }
  const bool splitRows = mBlocks >= threads;
  DLK_GEMM_OMP(parallel num_threads(threads)) {
    const ThreadShare share;
    if (splitRows) {
      const int64_t b0 = share.begin(mBlocks), b1 = share.end(mBlocks);
      gemmPart<T, NV>(a, transB, b0 * MC, std::min(m, b1 * MC), 0, n, k, b, ldb,
                      c, ldc, accumulate, epi);
    } else {
      const int64_t p0 = share.begin(panels), p1 = share.end(panels);
      gemmPart<T, NV>(a, transB, 0, m, p0 * NR, std::min(n, p1 * NR), k, b, ldb,
                      c, ldc, accumulate, epi);
    }
  }
}

} // namespace conv_detail

/// C (=|+=) op(A) * op(B) for an A operand (MatrixOperandA, or one of
/// Im2col.h's): C is m x n (leading dimension ldc), op(A) m x k, op(B)
/// k x n (B stored n x k when transB). C must not overlap A or B. `epi`
/// (Epilogue.h) finishes each row of each tile of C once its sum is
/// complete (column 0 of C is its column 0).
///
/// One parallel region with no barrier inside: each thread owns a range of
/// row blocks of C (or, when there are fewer row blocks than threads, a
/// range of column panels) and packs its own panels, so a thread that the
/// OS deschedules holds up no one until the end of the call. A C at most
/// one vector wide gets the tall, one-vector micro-tile.
template <typename T, typename OperandA, typename Epilogue = NoEpilogue>
void gemmWithA(const OperandA &a, bool transB, int64_t m, int64_t n, int64_t k,
               const T *b, int64_t ldb, T *c, int64_t ldc, bool accumulate,
               const Epilogue &epi = Epilogue()) {
  if (m <= 0 || n <= 0)
    return;
  if (k <= 0) {
    for (int64_t i = 0; i < m; ++i) {
      if (!accumulate)
        std::fill(c + i * ldc, c + i * ldc + n, T(0));
      if constexpr (Epilogue::kActive)
        epi(c + i * ldc, 0, n);
    }
    return;
  }
  if (n <= conv_detail::GemmBlocking<T, 1>::kNR)
    conv_detail::gemmBlocked<T, 1>(a, transB, m, n, k, b, ldb, c, ldc,
                                   accumulate, epi);
  else
    conv_detail::gemmBlocked<T, 2>(a, transB, m, n, k, b, ldb, c, ldc,
                                   accumulate, epi);
}

/// C (=|+=) op(A) * op(B): C is m x n (leading dimension ldc), op(A) m x k
/// (A stored k x m when transA), op(B) k x n (B stored n x k when transB);
/// as gemmWithA.
template <typename T, typename Epilogue = NoEpilogue>
void gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const T *a,
          int64_t lda, const T *b, int64_t ldb, T *c, int64_t ldc,
          bool accumulate, const Epilogue &epi = Epilogue()) {
  gemmWithA(MatrixOperandA<T>{a, lda, transA}, transB, m, n, k, b, ldb, c, ldc,
            accumulate, epi);
}

} // namespace dlk

#endif // DLC_CODEGEN_CPU_KERNELS_GEMM_H
