//===- Batcher.cpp - shuffled mini-batches, validation split, prefetching -===//

#include "runtime/Batcher.h"

#include "runtime/Philox.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <system_error>
#include <utility>

namespace dlc::rt {

namespace {
/// The most floats one batch buffer may hold (keeps byte sizes far from
/// overflow).
constexpr uint64_t kMaxBatchFloats = uint64_t(1) << 40;
} // namespace

bool checkDatasetLayout(const Dataset &data, bool allowNoLabels,
                        int64_t &exampleSize, std::string &error) {
  if (data.count < 0)
    return failLoad(error, data.source,
                    "negative example count " + std::to_string(data.count));
  uint64_t perExample = 0;
  if (!checkedElementCount(data.exampleShape, uint64_t(INT64_MAX), perExample))
    return failLoad(error, data.source,
                    "example shape " + joinDims(data.exampleShape, "x") +
                        " is negative or too large");
  uint64_t total = 0;
  if (!checkedMul(uint64_t(data.count), perExample, uint64_t(INT64_MAX),
                  total) ||
      total != data.featureCount())
    return failLoad(error, data.source,
                    "holds " + std::to_string(data.featureCount()) +
                        " feature values",
                    "expected " + std::to_string(data.count) + " examples of " +
                        joinDims(data.exampleShape, "x"));
  if (data.holdsBytes() &&
      data.bytes.offset + data.bytes.size > data.bytes.buffer->size())
    return failLoad(error, data.source,
                    "its feature bytes lie outside their buffer");
  bool labelsMatch = data.labels.size() == uint64_t(data.count);
  if (!labelsMatch && !(allowNoLabels && data.labels.empty()))
    return failLoad(error, data.source,
                    "holds " + std::to_string(data.labels.size()) + " labels",
                    "expected one per example (" + std::to_string(data.count) +
                        ")");
  exampleSize = static_cast<int64_t>(perExample);
  return true;
}

bool splitValidation(Dataset &train, double fraction, Dataset &validation,
                     std::string &error) {
  if (&train == &validation)
    return failLoad(error, train.source,
                    "validation split into the training set itself");
  int64_t exampleSize = 0;
  if (!checkDatasetLayout(train, /*allowNoLabels=*/true, exampleSize, error))
    return false;
  if (!(fraction > 0.0 && fraction < 1.0))
    return failLoad(error, train.source,
                    "validation fraction " + std::to_string(fraction) +
                        " is out of range",
                    "expected a number in (0, 1)");
  // Keras: split_at = floor(count * (1 - fraction)).
  double keepReal = std::floor(double(train.count) * (1.0 - fraction));
  int64_t keep =
      keepReal < double(train.count) ? int64_t(keepReal) : train.count;
  if (keep <= 0 || keep >= train.count)
    return failLoad(
        error, train.source,
        "validation = " + std::to_string(fraction) + " of " +
            std::to_string(train.count) + " examples leaves " +
            (keep <= 0 ? "no training examples" : "no validation examples"),
        "use more examples or another fraction");

  size_t cut = size_t(keep) * size_t(exampleSize);
  Dataset tail;
  tail.exampleShape = train.exampleShape;
  tail.source = train.source;
  tail.count = train.count - keep;
  if (train.holdsBytes()) {
    // Both halves keep the one byte buffer: no copy.
    tail.bytes = train.bytes;
    tail.bytes.offset += cut;
    tail.bytes.size -= cut;
    train.bytes.size = cut;
  } else {
    tail.features.assign(train.features.begin() + cut, train.features.end());
    train.features.resize(cut);
  }
  if (!train.labels.empty())
    tail.labels.assign(train.labels.begin() + keep, train.labels.end());
  validation = std::move(tail);

  if (!train.labels.empty())
    train.labels.resize(size_t(keep));
  train.count = keep;
  return true;
}

void EpochOrder::assign(int64_t count, uint64_t seed, uint64_t epoch,
                        bool shuffle) {
  uint64_t n = count > 0 ? uint64_t(count) : 0;
  order_.resize(n);
  std::iota(order_.begin(), order_.end(), int64_t(0));
  if (!shuffle || n < 2)
    return;
  // Fisher-Yates: draw k (two 32-bit words, 2k and 2k + 1) picks the partner
  // of position n - 1 - k.
  PhiloxStream rng(seed, kShuffleStreamDomain | (epoch & kStreamEpochMask));
  PhiloxBlock block = {};
  uint64_t k = 0;
  for (uint64_t i = n - 1; i > 0; --i, ++k) {
    if ((k & 1) == 0)
      block = rng.block(k >> 1);
    unsigned word = unsigned(k & 1) * 2;
    uint64_t bits = (uint64_t(block.v[word]) << 32) | block.v[word + 1];
    uint64_t j = uniformBelow(bits, i + 1);
    std::swap(order_[i], order_[j]);
  }
}

bool checkBatchSource(const Dataset &data, int64_t batchSize,
                      bool allowNoLabels, int64_t &exampleSize,
                      std::string &error) {
  if (!checkDatasetLayout(data, allowNoLabels, exampleSize, error))
    return false;
  uint64_t batchFloats = 0;
  if (batchSize < 1 || !checkedMul(uint64_t(batchSize), uint64_t(exampleSize),
                                   kMaxBatchFloats, batchFloats))
    return failLoad(error, data.source,
                    "batch size " + std::to_string(batchSize) +
                        " is out of range",
                    "expected at least 1 and a batch of at most 2^40 values");
  return true;
}

bool Batcher::init(const Dataset &data, int64_t batchSize, uint64_t seed,
                   bool shuffle, std::string &error) {
  int64_t exampleSize = 0;
  if (!checkBatchSource(data, batchSize, /*allowNoLabels=*/true, exampleSize,
                        error))
    return false;
  data_ = &data;
  batchSize_ = batchSize;
  exampleSize_ = exampleSize;
  seed_ = seed;
  shuffle_ = shuffle;
  hasLabels_ = !data.labels.empty();
  setEpoch(0);
  return true;
}

void Batcher::setEpoch(uint64_t epoch) {
  epoch_ = epoch;
  order_.assign(count(), seed_, epoch, shuffle_);
}

int64_t Batcher::steps() const { return stepsPerEpoch(count(), batchSize_); }

int64_t Batcher::batchSizeAt(int64_t step) const {
  return rt::batchSizeAt(count(), batchSize_, step);
}

void Batcher::allocate(Batch &batch) const {
  size_t features = size_t(batchSize_) * size_t(exampleSize_);
  if (batch.features.size() < features)
    batch.features.resize(features);
  size_t labels = hasLabels_ ? size_t(batchSize_) : 0;
  if (batch.labels.size() != labels)
    batch.labels.resize(labels);
}

int64_t Batcher::fill(int64_t step, float *features, int32_t *labels) const {
  int64_t size = batchSizeAt(step);
  if (size == 0)
    return 0;
  int64_t begin = step * batchSize_;
  for (int64_t r = 0; r < size; ++r)
    data_->copyExample(order_[begin + r], exampleSize_,
                       features + r * exampleSize_);
  if (hasLabels_ && labels) {
    for (int64_t r = 0; r < size; ++r)
      labels[r] = data_->labels[size_t(order_[begin + r])];
  }
  return size;
}

int64_t Batcher::fillBytes(int64_t step, uint8_t *features,
                           int32_t *labels) const {
  int64_t size = batchSizeAt(step);
  if (size == 0 || !data_->holdsBytes())
    return 0;
  int64_t begin = step * batchSize_;
  const uint8_t *source = data_->bytes.data();
  for (int64_t r = 0; r < size; ++r)
    std::copy_n(source + order_[begin + r] * exampleSize_, exampleSize_,
                features + r * exampleSize_);
  if (hasLabels_ && labels) {
    for (int64_t r = 0; r < size; ++r)
      labels[r] = data_->labels[size_t(order_[begin + r])];
  }
  return size;
}

void Batcher::get(int64_t step, Batch &batch) const {
  allocate(batch);
  batch.epoch = epoch_;
  batch.step = step;
  batch.offset = step >= 0 && step < steps() ? step * batchSize_ : 0;
  batch.size = fill(step, batch.features.data(),
                    hasLabels_ ? batch.labels.data() : nullptr);
}

void PrefetchThread::start(int64_t first, int64_t end, Produce produce) {
  std::lock_guard<std::mutex> lock(mutex_);
  produce_ = std::move(produce);
  first_ = first;
  total_ = end > first ? end - first : 0;
  if (total_ == 0 || thread_.joinable())
    return;
  try {
    thread_ = std::thread(&PrefetchThread::run, this);
  } catch (const std::system_error &) {
    synchronous_ = true; // No thread: produce each step inside next().
  }
}

void PrefetchThread::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    // The slot of step k last held step k - 2: wait until it is released.
    released_.wait(lock, [this] {
      return stopping_ || producedCount_ >= total_ ||
             producedCount_ < releasedCount_ + 2;
    });
    if (stopping_ || producedCount_ >= total_)
      return;
    int64_t k = producedCount_;
    lock.unlock();
    produce_(first_ + k, int(k % 2));
    lock.lock();
    ++producedCount_;
    produced_.notify_one();
  }
}

bool PrefetchThread::next(int64_t &step, int &slot) {
  std::unique_lock<std::mutex> lock(mutex_);
  releasedCount_ = handedOut_;
  released_.notify_one();
  if (stopping_ || handedOut_ >= total_)
    return false;
  if (synchronous_) {
    lock.unlock();
    produce_(first_ + handedOut_, int(handedOut_ % 2));
    lock.lock();
    producedCount_ = handedOut_ + 1;
  } else {
    produced_.wait(lock,
                   [this] { return stopping_ || producedCount_ > handedOut_; });
    if (producedCount_ <= handedOut_)
      return false;
  }
  step = first_ + handedOut_;
  slot = int(handedOut_ % 2);
  ++handedOut_;
  return true;
}

void PrefetchThread::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  released_.notify_all();
  produced_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

} // namespace dlc::rt
