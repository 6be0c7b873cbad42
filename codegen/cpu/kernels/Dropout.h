//===- Dropout.h - training-mode dropout and its gradient -----------------===//
//
// Element i of the flat batch is dropped when
//   PhiloxStream(ctx.seed, seedOffset).uniformAt((step << 32) + i) < rate
// and kept elements are scaled by 1 / (1 - rate). The mask is a pure
// function of (seed, seedOffset, step, i): the gradient regenerates it
// instead of storing it, and it does not depend on the thread count. At
// step 0 it is the reference's mask for `seed` = ctx.seed.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_KERNELS_DROPOUT_H
#define DLC_CODEGEN_CPU_KERNELS_DROPOUT_H

#include "codegen/cpu/kernels/ElementwiseSupport.h"
#include "codegen/cpu/kernels/StepContext.h"
#include "runtime/Philox.h"

#include <cstdint>

namespace dlk {

/// `size` elements per example; the drop probability and the random stream.
struct DropoutDims {
  int64_t size;
  double rate;
  int64_t seedOffset;
};

/// The dropout mask of one call: element i of the flat batch is word i % 4
/// of Philox block firstBlock + i / 4 of stream (ctx.seed, seedOffset), with
/// firstBlock = (ctx.step << 32) / 4 ((step << 32) is a multiple of 4); it
/// is dropped when uniformFloat(word) < rate, else scaled by 1 / (1 - rate).
/// The fused elementwise kernels (FusedElementwise.h) use the same mask.
template <typename T> struct DropoutMask {
  dlc::rt::PhiloxStream stream;
  uint64_t firstBlock;
  double rate;
  T keepScale;

  /// The four words of elements 4 * block .. 4 * block + 3.
  dlc::rt::PhiloxBlock words(int64_t block) const {
    return stream.block(firstBlock + static_cast<uint64_t>(block));
  }
  /// The factor of an element whose random word is `word`: 0 or keepScale.
  T factor(uint32_t word) const {
    return dlc::rt::uniformFloat(word) < rate ? T(0) : keepScale;
  }
};

template <typename T>
DropoutMask<T> dropoutMask(const StepContext &ctx, double rate,
                           int64_t seedOffset) {
  return DropoutMask<T>{
      dlc::rt::PhiloxStream(ctx.seed, static_cast<uint64_t>(seedOffset)),
      (static_cast<uint64_t>(ctx.step) << 32) >> 2, rate,
      rate < 1.0 ? static_cast<T>(1.0 / (1.0 - rate)) : T(0)};
}

namespace ew {
/// out[i] = factor(i) * in[i] with the dropout mask of `ctx`; safe in place.
template <typename T>
void applyDropoutMask(int64_t n, const DropoutDims &d, const StepContext &ctx,
                      const T *in, T *out) {
  const int64_t total = n * d.size;
  const DropoutMask<T> mask = dropoutMask<T>(ctx, d.rate, d.seedOffset);
  const int64_t blocks = (total + 3) / 4;
  DLK_EW_PARALLEL_FOR(total * 8)
  for (int64_t b = 0; b < blocks; ++b) {
    const dlc::rt::PhiloxBlock words = mask.words(b);
    const int64_t begin = b * 4;
    const int64_t end = begin + 4 < total ? begin + 4 : total;
    for (int64_t i = begin; i < end; ++i)
      out[i] = mask.factor(words.v[i - begin]) * in[i];
  }
}
} // namespace ew

template <typename T>
void dropout(int64_t n, const DropoutDims &d, const StepContext &ctx,
             const T *x, T *y) {
  ew::applyDropoutMask(n, d, ctx, x, y);
}

/// dx = mask * dy with the forward's mask at the same ctx.step; dx may share
/// dy's buffer.
template <typename T>
void dropout_grad(int64_t n, const DropoutDims &d, const StepContext &ctx,
                  const T *x, const T *y, const T *dy, T *dx) {
  if (dx)
    ew::applyDropoutMask(n, d, ctx, dy, dx);
}

} // namespace dlk

#endif // DLC_CODEGEN_CPU_KERNELS_DROPOUT_H
