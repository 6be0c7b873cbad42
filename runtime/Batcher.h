//===- Batcher.h - shuffled mini-batches, validation split, prefetching ---===//
//
// Turns a Dataset into the mini-batches of one epoch:
//
//   Batcher batcher;
//   if (!batcher.init(train, /*batchSize=*/64, seed, /*shuffle=*/true, error))
//     ...;
//   for (uint64_t epoch = startEpoch; epoch < epochs; ++epoch) {
//     batcher.setEpoch(epoch);
//     Prefetcher<Batcher> batches(batcher, epoch == startEpoch ? startStep : 0,
//                                 augment);
//     while (Batch *batch = batches.next())
//       trainStep(batch->features.data(), batch->labels.data(), batch->size);
//   }
//
// Everything random is a pure function of (seed, epoch, position) through
// Philox: the order of epoch e does not depend on earlier epochs, on timing
// or on the thread count, so resuming at (epoch, step) yields exactly the
// batches an uninterrupted run would have seen.
//
// Philox streams used here (key = seed): kShuffleStreamDomain | epoch for the
// epoch order; PairSampler.h uses kPairStreamDomain | epoch. Other users of
// the seed should pick streams outside these two domains.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_BATCHER_H
#define DLC_RUNTIME_BATCHER_H

#include "runtime/Dataset.h"

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dlc::rt {

/// The Philox stream domain of the epoch order (top 16 bits of the stream id;
/// the low 48 bits hold the epoch).
constexpr uint64_t kShuffleStreamDomain = uint64_t(0x5348) << 48; // "SH"
/// The low bits of a stream id that hold the epoch.
constexpr uint64_t kStreamEpochMask = (uint64_t(1) << 48) - 1;

/// A uniform integer in [0, bound) from 64 random bits: the high half of
/// bits * bound (Lemire). Bias at most bound / 2^64; 0 when bound is 0.
inline uint64_t uniformBelow(uint64_t bits, uint64_t bound) {
  uint64_t aLo = bits & 0xffffffffu, aHi = bits >> 32;
  uint64_t bLo = bound & 0xffffffffu, bHi = bound >> 32;
  uint64_t p0 = aLo * bLo, p1 = aLo * bHi, p2 = aHi * bLo, p3 = aHi * bHi;
  uint64_t middle = (p0 >> 32) + (p1 & 0xffffffffu) + (p2 & 0xffffffffu);
  return p3 + (p1 >> 32) + (p2 >> 32) + (middle >> 32);
}

/// The number of batches of `batchSize` (>= 1) in `count` examples: the last
/// partial batch counts, as in Keras.
inline int64_t stepsPerEpoch(int64_t count, int64_t batchSize) {
  return count <= 0 ? 0 : count / batchSize + (count % batchSize != 0 ? 1 : 0);
}

/// The size of batch `step` of `count` examples: `batchSize`, less for the
/// last batch, 0 outside [0, stepsPerEpoch).
inline int64_t batchSizeAt(int64_t count, int64_t batchSize, int64_t step) {
  if (step < 0 || step >= stepsPerEpoch(count, batchSize))
    return 0;
  int64_t left = count - step * batchSize;
  return left < batchSize ? left : batchSize;
}

/// Moves the last `fraction` of `train` into `validation`, like Keras's
/// `validation_split`: the split is taken before any shuffling, at
/// floor(count * (1 - fraction)); `train` keeps the head (truncated in place,
/// no copy). Fails, leaving both unchanged, when `fraction` is not in (0, 1),
/// when either side would be empty, or when `train` is inconsistent.
bool splitValidation(Dataset &train, double fraction, Dataset &validation,
                     std::string &error);

/// The example order of one epoch: a permutation of [0, count) that is a pure
/// function of (count, seed, epoch), or the identity without shuffling.
/// Fisher-Yates driven by PhiloxStream(seed, kShuffleStreamDomain | epoch).
class EpochOrder {
public:
  /// Recomputes the order; reuses the buffer when `count` does not grow.
  /// A negative `count` is treated as 0.
  void assign(int64_t count, uint64_t seed, uint64_t epoch, bool shuffle);

  int64_t size() const { return static_cast<int64_t>(order_.size()); }
  /// The example shown at `position` (0 <= position < size()).
  int64_t operator[](int64_t position) const { return order_[position]; }
  const std::vector<int64_t> &indices() const { return order_; }

private:
  std::vector<int64_t> order_;
};

/// One mini-batch in owned, reusable buffers. The vectors keep the capacity
/// of a full batch; the first `size` examples are valid.
struct Batch {
  uint64_t epoch = 0;
  int64_t step = 0;
  /// The position of the first example in the epoch order (step * batch size);
  /// example r of the batch is at position offset + r, a stable key for
  /// per-example randomness such as augmentation.
  int64_t offset = 0;
  /// Examples in this batch: the batch size, or less for the last batch.
  int64_t size = 0;
  /// size * exampleSize features, row-major.
  std::vector<float> features;
  /// size class labels; empty when the dataset has no labels.
  std::vector<int32_t> labels;
  /// A spare buffer of this batch slot, never touched by the Batcher: for a
  /// Prefetcher callback that needs a second buffer, e.g. a crop that changes
  /// the example shape can write into `work` and swap it with `features`
  /// (reused from batch to batch, so no steady-state allocation).
  std::vector<float> work;
};

/// The mini-batches of a Dataset, one epoch at a time. `get` is const and
/// thread-safe; `setEpoch` must not run while a Prefetcher reads the batcher.
class Batcher {
public:
  using BatchType = Batch;

  /// Checks `data` (features and labels match `count` and the example shape)
  /// and `batchSize` (>= 1), then sets epoch 0. `data` must outlive the
  /// batcher. Without `shuffle` every epoch uses the dataset's order.
  bool init(const Dataset &data, int64_t batchSize, uint64_t seed, bool shuffle,
            std::string &error);

  /// Selects the order of `epoch`.
  void setEpoch(uint64_t epoch);
  uint64_t epoch() const { return epoch_; }

  /// Batches per epoch: ceil(count / batchSize); the last one may be partial.
  int64_t steps() const;
  /// Examples in batch `step` (0 when out of range).
  int64_t batchSizeAt(int64_t step) const;
  int64_t batchSize() const { return batchSize_; }
  /// Floats per example.
  int64_t exampleSize() const { return exampleSize_; }
  int64_t count() const { return data_ ? data_->count : 0; }
  const EpochOrder &order() const { return order_; }

  /// Gives `batch` the buffers of a full batch (allocates only when smaller).
  void allocate(Batch &batch) const;
  /// Fills `batch` with batch `step` of the current epoch; an out-of-range
  /// step gives an empty batch. Allocation-free once `batch` has capacity.
  void get(int64_t step, Batch &batch) const;
  /// Gathers batch `step` into caller-provided buffers of at least
  /// batchSizeAt(step) * exampleSize() floats and batchSizeAt(step) labels
  /// (`labels` may be null, and is ignored without labels); returns the size.
  int64_t fill(int64_t step, float *features, int32_t *labels) const;
  /// As fill, but copies the examples' bytes as they are held (the dataset
  /// must hold bytes; otherwise nothing is written and 0 returned).
  int64_t fillBytes(int64_t step, uint8_t *features, int32_t *labels) const;

private:
  const Dataset *data_ = nullptr;
  int64_t batchSize_ = 1;
  int64_t exampleSize_ = 0;
  uint64_t seed_ = 0;
  uint64_t epoch_ = 0;
  bool shuffle_ = false;
  bool hasLabels_ = false;
  EpochOrder order_;
};

/// Checks the sizes of `data`: features == count * prod(exampleShape) and
/// labels == count (or, when `allowNoLabels`, no labels). Sets
/// `exampleSize`; used by Batcher and PairSampler.
bool checkDatasetLayout(const Dataset &data, bool allowNoLabels,
                        int64_t &exampleSize, std::string &error);

/// checkDatasetLayout, then checks `batchSize` (>= 1, and a batch buffer of
/// at most 2^40 values); used by Batcher::init and PairSampler::init.
bool checkBatchSource(const Dataset &data, int64_t batchSize,
                      bool allowNoLabels, int64_t &exampleSize,
                      std::string &error);

/// The thread behind Prefetcher: calls `produce(step, slot)` for steps
/// [first, end) on a background thread, at most one step ahead of the
/// consumer, alternating between two slots. Waits with condition variables;
/// falls back to producing on the caller's thread if no thread can start.
class PrefetchThread {
public:
  using Produce = std::function<void(int64_t step, int slot)>;

  PrefetchThread() = default;
  PrefetchThread(const PrefetchThread &) = delete;
  PrefetchThread &operator=(const PrefetchThread &) = delete;
  ~PrefetchThread() { stop(); }

  /// Starts producing steps [first, end). Call once.
  void start(int64_t first, int64_t end, Produce produce);
  /// Releases the slot returned by the previous call, then waits for the next
  /// step. False once every step was returned (or after stop()).
  bool next(int64_t &step, int &slot);
  /// Stops the thread (it finishes the step it is producing) and joins it.
  void stop();

private:
  void run();

  std::mutex mutex_;
  std::condition_variable produced_;
  std::condition_variable released_;
  Produce produce_;
  int64_t first_ = 0;
  int64_t total_ = 0;
  /// Steps (counted from first_) filled by the producer.
  int64_t producedCount_ = 0;
  /// Steps handed to the consumer.
  int64_t handedOut_ = 0;
  /// Steps the consumer is done with; the slot of step k is free for step
  /// k + 2 once k < releasedCount_.
  int64_t releasedCount_ = 0;
  bool stopping_ = false;
  bool synchronous_ = false;
  std::thread thread_;
};

/// Double-buffered batches of one epoch of a Batcher or PairSampler
/// (`Source` has BatchType, steps(), allocate() and a const, thread-safe
/// get()): while the caller trains on step s, a background thread prepares
/// step s + 1 and applies `callback` (augmentation) to it. The batches, and
/// their order, are exactly the source's whatever the timing. The source
/// must outlive the prefetcher and keep its epoch meanwhile. Destroying it
/// mid-epoch stops and joins the thread.
template <class Source> class Prefetcher {
public:
  using BatchType = typename Source::BatchType;
  using Callback = std::function<void(BatchType &)>;

  /// Prefetches steps [firstStep, source.steps()) (firstStep is clamped).
  Prefetcher(const Source &source, int64_t firstStep, Callback callback = {})
      : source_(source), callback_(std::move(callback)) {
    for (BatchType &slot : slots_)
      source_.allocate(slot);
    int64_t end = source_.steps();
    int64_t first = firstStep < 0 ? 0 : (firstStep > end ? end : firstStep);
    thread_.start(first, end, [this](int64_t step, int slot) {
      source_.get(step, slots_[slot]);
      if (callback_)
        callback_(slots_[slot]);
    });
  }

  /// The next batch, or null after the last. It stays valid (and the caller
  /// may modify it) until the next call or the prefetcher's destruction.
  BatchType *next() {
    int64_t step;
    int slot;
    if (!thread_.next(step, slot))
      return nullptr;
    return &slots_[slot];
  }

private:
  const Source &source_;
  Callback callback_;
  BatchType slots_[2];
  // Last: destroyed (joined) first, while the slots still exist.
  PrefetchThread thread_;
};

} // namespace dlc::rt

#endif // DLC_RUNTIME_BATCHER_H
