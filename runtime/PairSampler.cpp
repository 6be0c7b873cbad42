//===- PairSampler.cpp - example pairs for `pairs(source, balanced=true)` -===//

#include "runtime/PairSampler.h"

#include "runtime/Philox.h"

#include <algorithm>
#include <numeric>

namespace dlc::rt {

bool PairSampler::init(const Dataset &data, int64_t batchSize, uint64_t seed,
                       bool balanced, bool shuffle, std::string &error) {
  int64_t exampleSize = 0;
  if (!checkBatchSource(data, batchSize, /*allowNoLabels=*/false, exampleSize,
                        error))
    return false;
  if (data.count < 2)
    return failLoad(error, data.source,
                    "pairs() needs at least 2 examples, got " +
                        std::to_string(data.count));
  for (int64_t i = 0; i < data.count; ++i) {
    if (data.labels[size_t(i)] < 0)
      return failLoad(error, data.source,
                      "example " + std::to_string(i) + " has negative label " +
                          std::to_string(data.labels[size_t(i)]),
                      "pairs() needs class ids >= 0");
  }

  // Group the examples by class: ascending label, then index.
  std::vector<int64_t> byClass(size_t(data.count));
  std::iota(byClass.begin(), byClass.end(), int64_t(0));
  const std::vector<int32_t> &labels = data.labels;
  std::sort(byClass.begin(), byClass.end(), [&](int64_t a, int64_t b) {
    int32_t la = labels[size_t(a)], lb = labels[size_t(b)];
    return la != lb ? la < lb : a < b;
  });
  std::vector<int64_t> rank(byClass.size());
  std::vector<int32_t> groupOf(byClass.size());
  std::vector<int64_t> classStart, classSize;
  for (size_t p = 0; p < byClass.size(); ++p) {
    int64_t example = byClass[p];
    if (p == 0 || labels[size_t(example)] != labels[size_t(byClass[p - 1])]) {
      classStart.push_back(int64_t(p));
      classSize.push_back(0);
    }
    ++classSize.back();
    rank[size_t(example)] = int64_t(p);
    groupOf[size_t(example)] = int32_t(classStart.size() - 1);
  }

  if (balanced) {
    if (classStart.size() < 2)
      return failLoad(error, data.source,
                      "balanced pairs() needs at least 2 classes, but every "
                      "example has label " +
                          std::to_string(labels[0]),
                      "use pairs(source, balanced=false) or more classes");
    for (size_t g = 0; g < classStart.size(); ++g) {
      if (classSize[g] < 2)
        return failLoad(
            error, data.source,
            "balanced pairs() needs at least 2 examples of every class, but "
            "class " +
                std::to_string(labels[size_t(byClass[size_t(classStart[g])])]) +
                " has 1",
            "use pairs(source, balanced=false) or more examples");
    }
  }

  data_ = &data;
  batchSize_ = batchSize;
  exampleSize_ = exampleSize;
  seed_ = seed;
  balanced_ = balanced;
  shuffle_ = shuffle;
  byClass_ = std::move(byClass);
  rank_ = std::move(rank);
  groupOf_ = std::move(groupOf);
  classStart_ = std::move(classStart);
  classSize_ = std::move(classSize);
  setEpoch(0);
  return true;
}

void PairSampler::setEpoch(uint64_t epoch) {
  epoch_ = epoch;
  order_.assign(count(), seed_, epoch, shuffle_);
}

int64_t PairSampler::steps() const {
  return stepsPerEpoch(count(), batchSize_);
}

int64_t PairSampler::batchSizeAt(int64_t step) const {
  return rt::batchSizeAt(count(), batchSize_, step);
}

ExamplePair PairSampler::pairAt(int64_t position) const {
  ExamplePair pair;
  if (!data_ || position < 0 || position >= count())
    return pair;
  pair.left = order_[position];
  PhiloxStream rng(seed_, kPairStreamDomain | (epoch_ & kStreamEpochMask));
  PhiloxBlock block = rng.block(uint64_t(position));
  uint64_t bits = (uint64_t(block.v[0]) << 32) | block.v[1];
  const std::vector<int32_t> &labels = data_->labels;
  if (!balanced_) {
    // Any example but the left one.
    uint64_t j = uniformBelow(bits, uint64_t(count() - 1));
    pair.right = int64_t(j) >= pair.left ? int64_t(j) + 1 : int64_t(j);
  } else {
    size_t group = size_t(groupOf_[size_t(pair.left)]);
    int64_t start = classStart_[group], size = classSize_[group];
    if (position % 2 == 0) {
      // Another member of the class: skip the left example's own slot.
      int64_t own = rank_[size_t(pair.left)] - start;
      int64_t j = int64_t(uniformBelow(bits, uint64_t(size - 1)));
      pair.right = byClass_[size_t(start + (j >= own ? j + 1 : j))];
    } else {
      // Any example outside the class: byClass_ without [start, start+size).
      int64_t j = int64_t(uniformBelow(bits, uint64_t(count() - size)));
      pair.right = byClass_[size_t(j < start ? j : j + size)];
    }
  }
  pair.label =
      labels[size_t(pair.left)] == labels[size_t(pair.right)] ? 1.0f : 0.0f;
  return pair;
}

void PairSampler::allocate(PairBatch &batch) const {
  size_t features = size_t(batchSize_) * size_t(exampleSize_);
  if (batch.left.size() < features)
    batch.left.resize(features);
  if (batch.right.size() < features)
    batch.right.resize(features);
  if (batch.labels.size() < size_t(batchSize_))
    batch.labels.resize(size_t(batchSize_));
}

int64_t PairSampler::fill(int64_t step, float *left, float *right,
                          float *labels) const {
  int64_t size = batchSizeAt(step);
  if (size == 0)
    return 0;
  int64_t begin = step * batchSize_;
  for (int64_t r = 0; r < size; ++r) {
    ExamplePair pair = pairAt(begin + r);
    data_->copyExample(pair.left, exampleSize_, left + r * exampleSize_);
    data_->copyExample(pair.right, exampleSize_, right + r * exampleSize_);
    labels[r] = pair.label;
  }
  return size;
}

void PairSampler::get(int64_t step, PairBatch &batch) const {
  allocate(batch);
  batch.epoch = epoch_;
  batch.step = step;
  batch.offset = step >= 0 && step < steps() ? step * batchSize_ : 0;
  batch.size =
      fill(step, batch.left.data(), batch.right.data(), batch.labels.data());
}

} // namespace dlc::rt
