//===- PairSampler.h - example pairs for `pairs(source, balanced=true)` ---===//
//
// Siamese training data: each example of an epoch is a pair (left, right)
// with label 1.0 when both share a class and 0.0 otherwise.
//
// An epoch has as many pairs as the source has examples. Pair p of epoch e:
//   left  = EpochOrder(count, seed, e)[p]   (each example once per epoch)
//   right = drawn with PhiloxStream(seed, kPairStreamDomain | e), block p:
//     balanced:   p even -> another example of left's class (label 1),
//                 p odd  -> an example of another class (label 0),
//                 so exactly half of the pairs (rounded up) are positive;
//     unbalanced: any other example; the label says whether classes match.
// A pair is thus a pure function of (source, seed, e, p): resumable and
// independent of timing and thread count.
//
//   PairSampler pairs;
//   if (!pairs.init(train, /*batchSize=*/64, seed, /*balanced=*/true,
//                   /*shuffle=*/true, error))
//     ...;
//   pairs.setEpoch(epoch);
//   Prefetcher<PairSampler> batches(pairs, startStep);
//   while (PairBatch *batch = batches.next())
//     trainStep(batch->left.data(), batch->right.data(),
//               batch->labels.data(), batch->size);
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_PAIRSAMPLER_H
#define DLC_RUNTIME_PAIRSAMPLER_H

#include "runtime/Batcher.h"
#include "runtime/Dataset.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dlc::rt {

/// The Philox stream domain of the right-hand picks (top 16 bits).
constexpr uint64_t kPairStreamDomain = uint64_t(0x5041) << 48; // "PA"

/// One pair: two example indices of the source and the target.
struct ExamplePair {
  int64_t left = 0;
  int64_t right = 0;
  /// 1.0 when both examples share a class, else 0.0.
  float label = 0.0f;
};

/// One mini-batch of pairs in owned, reusable buffers (capacity of a full
/// batch; the first `size` pairs are valid).
struct PairBatch {
  uint64_t epoch = 0;
  int64_t step = 0;
  /// The position of the first pair in the epoch (step * batch size).
  int64_t offset = 0;
  int64_t size = 0;
  /// size * exampleSize features of the left examples.
  std::vector<float> left;
  /// size * exampleSize features of the right examples.
  std::vector<float> right;
  /// size targets, 1.0 (same class) or 0.0.
  std::vector<float> labels;
};

/// The pair batches of a labeled Dataset, one epoch at a time. `get` is const
/// and thread-safe; `setEpoch` must not run while a Prefetcher reads it.
class PairSampler {
public:
  using BatchType = PairBatch;

  /// Groups `data` by class once. Fails when the layout is inconsistent, a
  /// label is negative, `batchSize` < 1, there are fewer than 2 examples, or,
  /// when `balanced`, there is only one class or some class has a single
  /// example. `data` must outlive the sampler. Sets epoch 0.
  bool init(const Dataset &data, int64_t batchSize, uint64_t seed,
            bool balanced, bool shuffle, std::string &error);

  /// Selects the pairs of `epoch`.
  void setEpoch(uint64_t epoch);
  uint64_t epoch() const { return epoch_; }

  /// Pairs per epoch: the source's example count.
  int64_t count() const { return data_ ? data_->count : 0; }
  /// Batches per epoch: ceil(count / batchSize).
  int64_t steps() const;
  /// Pairs in batch `step` (0 when out of range).
  int64_t batchSizeAt(int64_t step) const;
  int64_t batchSize() const { return batchSize_; }
  int64_t exampleSize() const { return exampleSize_; }
  /// The number of distinct classes in the source.
  int64_t classCount() const { return int64_t(classStart_.size()); }

  /// Pair `position` (0 <= position < count()) of the current epoch.
  ExamplePair pairAt(int64_t position) const;

  /// Gives `batch` the buffers of a full batch (allocates only when smaller).
  void allocate(PairBatch &batch) const;
  /// Fills `batch` with batch `step`; out of range gives an empty batch.
  void get(int64_t step, PairBatch &batch) const;
  /// Gathers batch `step` into caller-provided buffers (batchSizeAt(step)
  /// pairs); returns the size.
  int64_t fill(int64_t step, float *left, float *right, float *labels) const;

private:
  const Dataset *data_ = nullptr;
  int64_t batchSize_ = 1;
  int64_t exampleSize_ = 0;
  uint64_t seed_ = 0;
  uint64_t epoch_ = 0;
  bool balanced_ = true;
  bool shuffle_ = true;
  EpochOrder order_;
  /// Example indices grouped by class (ascending label, then index).
  std::vector<int64_t> byClass_;
  /// For each example, its position in byClass_.
  std::vector<int64_t> rank_;
  /// For each example, the number of its class group.
  std::vector<int32_t> groupOf_;
  /// Start and size of each class group in byClass_.
  std::vector<int64_t> classStart_;
  std::vector<int64_t> classSize_;
};

} // namespace dlc::rt

#endif // DLC_RUNTIME_PAIRSAMPLER_H
