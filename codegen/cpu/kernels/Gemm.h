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

namespace conv_detail {

/// Block sizes of the GEMM for element type T.
template <typename T> struct GemmBlocking {
  static constexpr int kLanes = DLK_GEMM_VECTOR_BYTES / int(sizeof(T));
  /// Columns of a micro-tile: two vectors.
  static constexpr int kNR = 2 * kLanes;
  /// Rows of a micro-tile: 2 * kMR accumulators stay in registers.
  static constexpr int kMR = DLK_GEMM_VECTOR_BYTES >= 64 ? 12 : 6;
  static constexpr int64_t kKC = 256;
  static constexpr int64_t kMC = int64_t(kMR) * 8;
  static constexpr int64_t kNC = int64_t(kNR) * 64;
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

/// Packs rows [ic, ic + mc) x columns [pc, pc + kc) of op(A) into panels of
/// kMR rows, k-major (panel p holds out[p*kMR*kc + k*kMR + i]); rows past
/// the end are zero.
template <typename T>
void packA(const T *a, int64_t lda, bool transA, int64_t ic, int64_t pc,
           int64_t mc, int64_t kc, T *__restrict out) {
  constexpr int MR = GemmBlocking<T>::kMR;
  for (int64_t ir = 0; ir < mc; ir += MR) {
    int64_t mr = std::min<int64_t>(MR, mc - ir);
    T *panel = out + ir * kc;
    if (!transA) {
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

/// Packs the kNR-column panel starting at column jc (nr <= kNR of them
/// real) of rows [pc, pc + kc) of op(B), k-major; missing columns are zero.
template <typename T>
void packBPanel(const T *b, int64_t ldb, bool transB, int64_t pc, int64_t jc,
                int64_t kc, int64_t nr, T *__restrict panel) {
  constexpr int NR = GemmBlocking<T>::kNR;
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

/// C[mr, nr] (=|+=) Ap * Bp over kc for one micro-tile of packed panels;
/// with `last` (the final k block) `epi` then runs on each of its rows,
/// whose first column is column `col` of C.
template <typename T, typename Epilogue = NoEpilogue>
inline void microKernel(int64_t kc, const T *__restrict ap,
                        const T *__restrict bp, T *__restrict c, int64_t ldc,
                        int64_t mr, int64_t nr, bool accumulate,
                        const Epilogue &epi = Epilogue(), int64_t col = 0,
                        bool last = false) {
  using B = GemmBlocking<T>;
  constexpr int MR = B::kMR, L = B::kLanes, NR = B::kNR;
  typedef T V __attribute__((vector_size(DLK_GEMM_VECTOR_BYTES)));
  V acc0[MR], acc1[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    acc0[i] = V{};
    acc1[i] = V{};
  }
  for (int64_t k = 0; k < kc; ++k) {
    V b0, b1;
    std::memcpy(&b0, bp, sizeof(V));
    std::memcpy(&b1, bp + L, sizeof(V));
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      V a = V{} + ap[i];
      acc0[i] += a * b0;
      acc1[i] += a * b1;
    }
    ap += MR;
    bp += NR;
  }
  if (mr == MR && nr == NR) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      T *row = c + i * ldc;
      if (accumulate) {
        V c0, c1;
        std::memcpy(&c0, row, sizeof(V));
        std::memcpy(&c1, row + L, sizeof(V));
        acc0[i] += c0;
        acc1[i] += c1;
      }
      std::memcpy(row, &acc0[i], sizeof(V));
      std::memcpy(row + L, &acc1[i], sizeof(V));
      if constexpr (Epilogue::kActive)
        if (last)
          epi(row, col, NR);
    }
    return;
  }
  alignas(64) T tile[MR * NR];
  for (int i = 0; i < MR; ++i) {
    std::memcpy(tile + i * NR, &acc0[i], sizeof(V));
    std::memcpy(tile + i * NR + L, &acc1[i], sizeof(V));
  }
  for (int64_t i = 0; i < mr; ++i) {
    for (int64_t j = 0; j < nr; ++j)
      c[i * ldc + j] =
          accumulate ? c[i * ldc + j] + tile[i * NR + j] : tile[i * NR + j];
    if constexpr (Epilogue::kActive)
      if (last)
        epi(c + i * ldc, col, nr);
  }
}

/// The unblocked product of one thread's part of C, for when its packing
/// buffers cannot be had (the same sums, in the same k order); `epi` runs
/// on each finished row, whose first column is column `col` of C.
template <typename T, typename Epilogue = NoEpilogue>
void gemmUnblocked(bool transA, bool transB, int64_t m, int64_t n, int64_t k,
                   const T *a, int64_t lda, const T *b, int64_t ldb, T *c,
                   int64_t ldc, bool accumulate,
                   const Epilogue &epi = Epilogue(), int64_t col = 0) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      T sum = accumulate ? c[i * ldc + j] : T(0);
      for (int64_t p = 0; p < k; ++p)
        sum += (transA ? a[p * lda + i] : a[i * lda + p]) *
               (transB ? b[j * ldb + p] : b[p * ldb + j]);
      c[i * ldc + j] = sum;
    }
    if constexpr (Epilogue::kActive)
      epi(c + i * ldc, col, n);
  }
}

/// One thread's part of C: rows [m0, m1) and columns [n0, n1), over all of
/// k, with its own packed panels of A and B; `epi` finishes each tile.
template <typename T, typename Epilogue = NoEpilogue>
void gemmPart(bool transA, bool transB, int64_t m0, int64_t m1, int64_t n0,
              int64_t n1, int64_t k, const T *a, int64_t lda, const T *b,
              int64_t ldb, T *c, int64_t ldc, bool accumulate,
              const Epilogue &epi = Epilogue()) {
  using B = GemmBlocking<T>;
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
    gemmUnblocked(transA, transB, m1 - m0, n1 - n0, k,
                  transA ? a + m0 : a + m0 * lda, lda,
                  transB ? b + n0 * ldb : b + n0, ldb, c + m0 * ldc + n0, ldc,
                  accumulate, epi, n0);
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
        packBPanel(b, ldb, transB, pc, jc + p * NR, kc,
                   std::min(NR, nc - p * NR), bp + p * kc * NR);
      for (int64_t ic = m0; ic < m1; ic += MC) {
        const int64_t mc = std::min(MC, m1 - ic);
        packA(a, lda, transA, ic, pc, mc, kc, ap);
        for (int64_t p = 0; p < panels; ++p)
          for (int64_t ir = 0; ir < mc; ir += MR)
            microKernel(kc, ap + ir * kc, bp + p * kc * NR,
                        c + (ic + ir) * ldc + jc + p * NR, ldc,
                        std::min(MR, mc - ir), std::min(NR, nc - p * NR), acc,
                        epi, jc + p * NR, last);
      }
    }
  }
}

} // namespace conv_detail

/// C (=|+=) op(A) * op(B): C is m x n (leading dimension ldc), op(A) m x k
/// (A stored k x m when transA), op(B) k x n (B stored n x k when transB).
/// C must not overlap A or B. `epi` (Epilogue.h) finishes each row of
/// each tile of C once its sum is complete (column 0 of C is its column 0).
///
/// One parallel region with no barrier inside: each thread owns a range of
/// row blocks of C (or, when there are fewer row blocks than threads, a
/// range of column panels) and packs its own panels, so a thread that the
/// OS deschedules holds up no one until the end of the call.
template <typename T, typename Epilogue = NoEpilogue>
void gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, const T *a,
          int64_t lda, const T *b, int64_t ldb, T *c, int64_t ldc,
          bool accumulate, const Epilogue &epi = Epilogue()) {
  using B = conv_detail::GemmBlocking<T>;
  constexpr int64_t NR = B::kNR, MC = B::kMC;
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
  const int64_t mBlocks = (m + MC - 1) / MC, panels = (n + NR - 1) / NR;
  // Enough work to be worth a second thread: about 64k multiply-adds each.
  const int64_t work = m * n * std::min<int64_t>(k, 1 << 20);
  const int64_t wanted = std::max<int64_t>(1, work >> 16);
  const int threads = int(std::min<int64_t>(gemmThreads(), wanted));
  if (threads <= 1) {
    conv_detail::gemmPart(transA, transB, 0, m, 0, n, k, a, lda, b, ldb, c, ldc,
                          accumulate, epi);
    return;
  }
  const bool splitRows = mBlocks >= threads;
  DLK_GEMM_OMP(parallel num_threads(threads)) {
    int64_t t = 0, count = 1;
#ifdef _OPENMP
    t = omp_get_thread_num();
    count = omp_get_num_threads();
#endif
    if (splitRows) {
      const int64_t b0 = mBlocks * t / count, b1 = mBlocks * (t + 1) / count;
      conv_detail::gemmPart(transA, transB, b0 * MC, std::min(m, b1 * MC), 0, n,
                            k, a, lda, b, ldb, c, ldc, accumulate, epi);
    } else {
      const int64_t p0 = panels * t / count, p1 = panels * (t + 1) / count;
      conv_detail::gemmPart(transA, transB, 0, m, p0 * NR, std::min(n, p1 * NR),
                            k, a, lda, b, ldb, c, ldc, accumulate, epi);
    }
  }
}

} // namespace dlk

#endif // DLC_CODEGEN_CPU_KERNELS_GEMM_H
