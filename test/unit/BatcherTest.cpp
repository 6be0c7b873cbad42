//===- BatcherTest.cpp - epoch order, batches, prefetching, pairs ---------===//
//
// Small generated datasets whose first feature of example i is i, so every
// gathered row can be traced back to the example it came from.
//
//===----------------------------------------------------------------------===//
#include "runtime/Batcher.h"
#include "runtime/BatchStream.h"
#include "runtime/PairSampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <numeric>
#include <set>
#include <thread>
#include <vector>

using namespace dlc::rt;

namespace {

/// `count` examples of shape {2, 3}: feature k of example i is i + k / 8;
/// label i % classes (no labels when classes == 0).
Dataset makeDataset(int64_t count, int32_t classes,
                    std::vector<int64_t> shape = {2, 3}) {
  Dataset data;
  data.exampleShape = shape;
  data.count = count;
  data.source = "generated";
  int64_t size = 1;
  for (int64_t dim : shape)
    size *= dim;
  data.features.resize(size_t(count * size));
  for (int64_t i = 0; i < count; ++i)
    for (int64_t k = 0; k < size; ++k)
      data.features[size_t(i * size + k)] = float(i) + float(k % 8) / 8.0f;
  if (classes > 0)
    for (int64_t i = 0; i < count; ++i)
      data.labels.push_back(int32_t(i % classes));
  return data;
}

/// The example a gathered row came from.
int64_t rowIndex(const float *row) { return int64_t(std::floor(row[0])); }

std::vector<int64_t> order(int64_t count, uint64_t seed, uint64_t epoch,
                           bool shuffle = true) {
  EpochOrder o;
  o.assign(count, seed, epoch, shuffle);
  return o.indices();
}

bool isPermutation(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] != int64_t(i))
      return false;
  return true;
}

/// Every batch of the current epoch, through Batcher::get.
std::vector<Batch> collect(const Batcher &batcher, int64_t firstStep = 0) {
  std::vector<Batch> batches;
  for (int64_t s = firstStep; s < batcher.steps(); ++s) {
    batches.emplace_back();
    batcher.get(s, batches.back());
  }
  return batches;
}

/// Every batch of the current epoch, through a Prefetcher.
std::vector<Batch> collectPrefetched(const Batcher &batcher,
                                     int64_t firstStep = 0) {
  std::vector<Batch> batches;
  Prefetcher<Batcher> prefetcher(batcher, firstStep);
  while (Batch *batch = prefetcher.next())
    batches.push_back(*batch);
  return batches;
}

void expectSameBatch(const Batch &a, const Batch &b, int64_t exampleSize) {
  ASSERT_EQ(a.size, b.size);
  EXPECT_EQ(a.step, b.step);
  EXPECT_EQ(a.epoch, b.epoch);
  EXPECT_EQ(a.offset, b.offset);
  for (int64_t i = 0; i < a.size * exampleSize; ++i)
    ASSERT_EQ(a.features[size_t(i)], b.features[size_t(i)]) << "value " << i;
  ASSERT_EQ(a.labels.size(), b.labels.size());
  for (int64_t i = 0; i < a.size && !a.labels.empty(); ++i)
    ASSERT_EQ(a.labels[size_t(i)], b.labels[size_t(i)]) << "label " << i;
}

void expectSameBatches(const std::vector<Batch> &a, const std::vector<Batch> &b,
                       int64_t exampleSize) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE("batch " + std::to_string(i));
    expectSameBatch(a[i], b[i], exampleSize);
  }
}

//===----------------------------------------------------------------------===//
// EpochOrder
//===----------------------------------------------------------------------===//

TEST(EpochOrderTest, IsAPermutation) {
  for (int64_t count : {0, 1, 2, 3, 5, 16, 64, 100, 1000, 4097})
    for (uint64_t seed : {uint64_t(0), uint64_t(1), uint64_t(42),
                          uint64_t(0xffffffffu), ~uint64_t(0)})
      for (uint64_t epoch : {0u, 1u, 7u, 1000000u}) {
        std::vector<int64_t> o = order(count, seed, epoch);
        ASSERT_EQ(int64_t(o.size()), count);
        EXPECT_TRUE(isPermutation(o))
            << "count " << count << " seed " << seed << " epoch " << epoch;
      }
}

TEST(EpochOrderTest, NegativeCountIsEmpty) {
  EXPECT_TRUE(order(-5, 1, 0).empty());
}

TEST(EpochOrderTest, NoShuffleIsIdentity) {
  std::vector<int64_t> o = order(50, 123, 4, /*shuffle=*/false);
  std::vector<int64_t> identity(50);
  std::iota(identity.begin(), identity.end(), int64_t(0));
  EXPECT_EQ(o, identity);
}

TEST(EpochOrderTest, ShuffleMovesExamples) {
  std::vector<int64_t> identity(1000);
  std::iota(identity.begin(), identity.end(), int64_t(0));
  EXPECT_NE(order(1000, 0, 0), identity);
}

TEST(EpochOrderTest, EpochsAndSeedsDiffer) {
  std::vector<int64_t> base = order(1000, 7, 0);
  EXPECT_NE(base, order(1000, 7, 1));
  EXPECT_NE(base, order(1000, 8, 0));
  EXPECT_NE(order(1000, 7, 1), order(1000, 7, 2));
  // A seed differing only in its high word is a different key.
  EXPECT_NE(base, order(1000, 7 | (uint64_t(1) << 32), 0));
}

TEST(EpochOrderTest, IsAPureFunctionOfSeedEpochCount) {
  EpochOrder reused;
  for (uint64_t epoch = 0; epoch < 5; ++epoch) {
    reused.assign(300, 99, epoch, true);
    EXPECT_EQ(reused.indices(), order(300, 99, epoch)) << "epoch " << epoch;
  }
  // Going back to an earlier epoch gives its order again.
  reused.assign(300, 99, 1, true);
  EXPECT_EQ(reused.indices(), order(300, 99, 1));
}

TEST(EpochOrderTest, ReassignReusesTheBuffer) {
  EpochOrder o;
  o.assign(1000, 1, 0, true);
  const int64_t *data = o.indices().data();
  for (uint64_t epoch = 1; epoch < 10; ++epoch) {
    o.assign(1000, 1, epoch, true);
    EXPECT_EQ(o.indices().data(), data);
  }
}

TEST(EpochOrderTest, KnownOrder) {
  // Pins the algorithm: changing it would break resuming old checkpoints.
  std::vector<int64_t> expected = {6, 1, 0, 5, 2, 3, 8, 9, 7, 4};
  EXPECT_EQ(order(10, 1, 0), expected);
}

TEST(EpochOrderTest, PositionsAreUniform) {
  // Where example 0 lands, over many epochs of a 5-example order, and which of
  // the 5! orders occur.
  const int kEpochs = 20000;
  std::vector<int> landed(5, 0);
  std::set<std::vector<int64_t>> seen;
  for (int epoch = 0; epoch < kEpochs; ++epoch) {
    std::vector<int64_t> o = order(5, 3, uint64_t(epoch));
    seen.insert(o);
    landed[size_t(std::find(o.begin(), o.end(), 0) - o.begin())]++;
  }
  EXPECT_EQ(seen.size(), 120u);
  double chi2 = 0.0, expected = kEpochs / 5.0;
  for (int n : landed)
    chi2 += (n - expected) * (n - expected) / expected;
  EXPECT_LT(chi2, 20.0); // 4 degrees of freedom: p < 0.001 above 18.5.
}

TEST(EpochOrderTest, UniformBelowRange) {
  EXPECT_EQ(uniformBelow(~uint64_t(0), 10), 9u);
  EXPECT_EQ(uniformBelow(0, 10), 0u);
  EXPECT_EQ(uniformBelow(uint64_t(1) << 63, 10), 5u);
  EXPECT_EQ(uniformBelow(12345, 0), 0u);
  EXPECT_EQ(uniformBelow(~uint64_t(0), ~uint64_t(0)), ~uint64_t(0) - 1);
  EXPECT_EQ(uniformBelow(uint64_t(1) << 32, uint64_t(1) << 32), 1u);
}

//===----------------------------------------------------------------------===//
// Batcher
//===----------------------------------------------------------------------===//

TEST(BatcherTest, StepsKeepTheLastPartialBatch) {
  struct Case {
    int64_t count, batchSize, steps, last;
  };
  for (Case c : {Case{10, 4, 3, 2}, Case{8, 4, 2, 4}, Case{0, 4, 0, 0},
                 Case{3, 64, 1, 3}, Case{1, 1, 1, 1}, Case{7, 1, 7, 1}}) {
    Dataset data = makeDataset(c.count, 3);
    Batcher batcher;
    std::string error;
    ASSERT_TRUE(batcher.init(data, c.batchSize, 5, true, error)) << error;
    EXPECT_EQ(batcher.steps(), c.steps) << c.count << "/" << c.batchSize;
    EXPECT_EQ(batcher.batchSizeAt(c.steps - 1), c.last);
    EXPECT_EQ(batcher.batchSizeAt(c.steps), 0);
    EXPECT_EQ(batcher.batchSizeAt(-1), 0);
    int64_t total = 0;
    for (const Batch &b : collect(batcher))
      total += b.size;
    EXPECT_EQ(total, c.count);
  }
}

TEST(BatcherTest, BatchesFollowTheEpochOrder) {
  Dataset data = makeDataset(23, 4);
  Batcher batcher;
  std::string error;
  ASSERT_TRUE(batcher.init(data, 5, 11, true, error)) << error;
  for (uint64_t epoch : {0u, 3u}) {
    batcher.setEpoch(epoch);
    std::vector<int64_t> expected = order(23, 11, epoch);
    std::vector<int64_t> seen;
    for (const Batch &b : collect(batcher)) {
      EXPECT_EQ(b.epoch, epoch);
      EXPECT_EQ(b.offset, b.step * 5);
      for (int64_t r = 0; r < b.size; ++r) {
        const float *row = b.features.data() + r * 6;
        int64_t index = rowIndex(row);
        seen.push_back(index);
        for (int k = 0; k < 6; ++k)
          EXPECT_EQ(row[k], data.features[size_t(index * 6 + k)]);
        EXPECT_EQ(b.labels[size_t(r)], data.labels[size_t(index)]);
      }
    }
    EXPECT_EQ(seen, expected);
  }
}

TEST(BatcherTest, NoShuffleKeepsTheDatasetOrder) {
  Dataset data = makeDataset(9, 2);
  Batcher batcher;
  std::string error;
  ASSERT_TRUE(batcher.init(data, 4, 77, /*shuffle=*/false, error)) << error;
  batcher.setEpoch(5);
  int64_t next = 0;
  for (const Batch &b : collect(batcher))
    for (int64_t r = 0; r < b.size; ++r)
      EXPECT_EQ(rowIndex(b.features.data() + r * 6), next++);
  EXPECT_EQ(next, 9);
}

TEST(BatcherTest, SameSeedSameBatchesDifferentSeedDiffers) {
  Dataset data = makeDataset(50, 5);
  Batcher a, b, c;
  std::string error;
  ASSERT_TRUE(a.init(data, 8, 1234, true, error)) << error;
  ASSERT_TRUE(b.init(data, 8, 1234, true, error)) << error;
  ASSERT_TRUE(c.init(data, 8, 1235, true, error)) << error;
  for (uint64_t epoch = 0; epoch < 3; ++epoch) {
    a.setEpoch(epoch);
    b.setEpoch(epoch);
    c.setEpoch(epoch);
    expectSameBatches(collect(a), collect(b), 6);
    EXPECT_NE(a.order().indices(), c.order().indices());
  }
}

TEST(BatcherTest, DatasetWithoutLabels) {
  Dataset data = makeDataset(10, 0);
  Batcher batcher;
  std::string error;
  ASSERT_TRUE(batcher.init(data, 4, 0, true, error)) << error;
  Batch b;
  batcher.get(2, b);
  EXPECT_EQ(b.size, 2);
  EXPECT_TRUE(b.labels.empty());
  std::vector<float> features(4 * 6);
  EXPECT_EQ(batcher.fill(0, features.data(), nullptr), 4);
}

TEST(BatcherTest, FillIntoCallerBuffers) {
  Dataset data = makeDataset(10, 3);
  Batcher batcher;
  std::string error;
  ASSERT_TRUE(batcher.init(data, 4, 9, true, error)) << error;
  Batch reference;
  batcher.get(1, reference);
  std::vector<float> features(4 * 6, -1.0f);
  std::vector<int32_t> labels(4, -1);
  ASSERT_EQ(batcher.fill(1, features.data(), labels.data()), 4);
  for (size_t i = 0; i < features.size(); ++i)
    EXPECT_EQ(features[i], reference.features[i]);
  for (size_t i = 0; i < labels.size(); ++i)
    EXPECT_EQ(labels[i], reference.labels[i]);
  EXPECT_EQ(batcher.fill(3, features.data(), labels.data()), 0);
  EXPECT_EQ(batcher.fill(-1, features.data(), labels.data()), 0);
}

TEST(BatcherTest, OutOfRangeStepIsEmpty) {
  Dataset data = makeDataset(10, 3);
  Batcher batcher;
  std::string error;
  ASSERT_TRUE(batcher.init(data, 4, 9, true, error)) << error;
  Batch b;
  batcher.get(99, b);
  EXPECT_EQ(b.size, 0);
  batcher.get(-3, b);
  EXPECT_EQ(b.size, 0);
  Batcher uninitialized;
  EXPECT_EQ(uninitialized.steps(), 0);
}

TEST(BatcherTest, GetDoesNotReallocate) {
  Dataset data = makeDataset(100, 3);
  Batcher batcher;
  std::string error;
  ASSERT_TRUE(batcher.init(data, 16, 9, true, error)) << error;
  Batch b;
  batcher.get(0, b);
  const float *features = b.features.data();
  const int32_t *labels = b.labels.data();
  for (uint64_t epoch = 0; epoch < 3; ++epoch) {
    batcher.setEpoch(epoch);
    for (int64_t s = 0; s < batcher.steps(); ++s) {
      batcher.get(s, b);
      EXPECT_EQ(b.features.data(), features);
      EXPECT_EQ(b.labels.data(), labels);
    }
  }
}

TEST(BatcherTest, InitErrors) {
  std::string error;
  Batcher batcher;
  Dataset data = makeDataset(10, 3);
  EXPECT_FALSE(batcher.init(data, 0, 0, true, error));
  EXPECT_NE(error.find("batch size 0"), std::string::npos) << error;
  EXPECT_FALSE(batcher.init(data, -4, 0, true, error));
  EXPECT_FALSE(
      batcher.init(data, std::numeric_limits<int64_t>::max(), 0, true, error));

  Dataset shortFeatures = makeDataset(10, 3);
  shortFeatures.features.pop_back();
  EXPECT_FALSE(batcher.init(shortFeatures, 4, 0, true, error));
  EXPECT_NE(error.find("generated: holds 59 feature values"), std::string::npos)
      << error;

  Dataset wrongLabels = makeDataset(10, 3);
  wrongLabels.labels.pop_back();
  EXPECT_FALSE(batcher.init(wrongLabels, 4, 0, true, error));
  EXPECT_NE(error.find("9 labels"), std::string::npos) << error;

  Dataset negativeShape = makeDataset(0, 3);
  negativeShape.exampleShape = {-1, 3};
  EXPECT_FALSE(batcher.init(negativeShape, 4, 0, true, error));

  Dataset hugeShape = makeDataset(0, 3);
  hugeShape.exampleShape = {int64_t(1) << 40, int64_t(1) << 40};
  EXPECT_FALSE(batcher.init(hugeShape, 4, 0, true, error));

  Dataset negativeCount = makeDataset(0, 3);
  negativeCount.count = -2;
  EXPECT_FALSE(batcher.init(negativeCount, 4, 0, true, error));
}

TEST(BatcherTest, ResumeEqualsUninterrupted) {
  Dataset data = makeDataset(37, 4);
  std::string error;
  const int64_t kBatch = 5;
  const uint64_t kSeed = 2024;

  // Uninterrupted: epochs 0, 1, 2 with prefetching.
  std::vector<Batch> uninterrupted;
  {
    Batcher batcher;
    ASSERT_TRUE(batcher.init(data, kBatch, kSeed, true, error)) << error;
    for (uint64_t epoch = 0; epoch < 3; ++epoch) {
      batcher.setEpoch(epoch);
      for (Batch &b : collectPrefetched(batcher))
        uninterrupted.push_back(b);
    }
  }
  // Killed after epoch 1 step 3, resumed by a fresh process at step 3.
  std::vector<Batch> resumed;
  {
    Batcher batcher;
    ASSERT_TRUE(batcher.init(data, kBatch, kSeed, true, error)) << error;
    batcher.setEpoch(1);
    for (Batch &b : collectPrefetched(batcher, 3))
      resumed.push_back(b);
    batcher.setEpoch(2);
    for (Batch &b : collect(batcher))
      resumed.push_back(b);
  }
  int64_t steps = 8; // ceil(37 / 5)
  std::vector<Batch> tail(uninterrupted.begin() + steps + 3,
                          uninterrupted.end());
  expectSameBatches(tail, resumed, 6);
}

//===----------------------------------------------------------------------===//
// splitValidation
//===----------------------------------------------------------------------===//

TEST(SplitValidationTest, TakesTheTail) {
  Dataset train = makeDataset(10, 3);
  Dataset validation;
  std::string error;
  ASSERT_TRUE(splitValidation(train, 0.2, validation, error)) << error;
  EXPECT_EQ(train.count, 8);
  EXPECT_EQ(validation.count, 2);
  EXPECT_EQ(train.features.size(), 8u * 6);
  EXPECT_EQ(train.labels.size(), 8u);
  EXPECT_EQ(validation.features.size(), 2u * 6);
  EXPECT_EQ(validation.exampleShape, train.exampleShape);
  EXPECT_EQ(validation.source, "generated");
  for (int64_t i = 0; i < 8; ++i)
    EXPECT_EQ(rowIndex(train.features.data() + i * 6), i);
  for (int64_t i = 0; i < 2; ++i) {
    EXPECT_EQ(rowIndex(validation.features.data() + i * 6), 8 + i);
    EXPECT_EQ(validation.labels[size_t(i)], int32_t((8 + i) % 3));
  }
}

TEST(SplitValidationTest, KerasRounding) {
  // split_at = floor(count * (1 - fraction)).
  struct Case {
    int64_t count;
    double fraction;
    int64_t keep;
  };
  for (Case c : {Case{10, 0.25, 7}, Case{60000, 0.1, 54000}, Case{3, 0.5, 1},
                 Case{7, 0.1, 6}, Case{100, 0.999, 0}}) {
    Dataset train = makeDataset(c.count, 2), validation;
    std::string error;
    bool ok = splitValidation(train, c.fraction, validation, error);
    if (c.keep == 0) {
      EXPECT_FALSE(ok);
      continue;
    }
    ASSERT_TRUE(ok) << error;
    EXPECT_EQ(train.count, c.keep) << c.count << " " << c.fraction;
    EXPECT_EQ(validation.count, c.count - c.keep);
  }
}

TEST(SplitValidationTest, WithoutLabels) {
  Dataset train = makeDataset(4, 0), validation;
  std::string error;
  ASSERT_TRUE(splitValidation(train, 0.5, validation, error)) << error;
  EXPECT_TRUE(validation.labels.empty());
  EXPECT_EQ(validation.count, 2);
}

TEST(SplitValidationTest, Errors) {
  std::string error;
  for (double fraction :
       {0.0, 1.0, -0.1, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
    Dataset train = makeDataset(10, 3), validation;
    EXPECT_FALSE(splitValidation(train, fraction, validation, error))
        << fraction;
    EXPECT_EQ(train.count, 10);
  }
  {
    // Leaves no training example.
    Dataset train = makeDataset(3, 3), validation;
    EXPECT_FALSE(splitValidation(train, 0.9, validation, error));
    EXPECT_NE(error.find("no training examples"), std::string::npos) << error;
    EXPECT_EQ(train.count, 3);
    EXPECT_EQ(train.features.size(), 18u);
    EXPECT_EQ(validation.count, 0);
  }
  {
    // Leaves no validation example.
    Dataset train = makeDataset(10, 3), validation;
    EXPECT_FALSE(splitValidation(train, 1e-20, validation, error));
    EXPECT_NE(error.find("no validation examples"), std::string::npos) << error;
  }
  {
    Dataset empty = makeDataset(0, 3), validation;
    EXPECT_FALSE(splitValidation(empty, 0.5, validation, error));
  }
  {
    Dataset broken = makeDataset(10, 3), validation;
    broken.labels.resize(3);
    EXPECT_FALSE(splitValidation(broken, 0.5, validation, error));
  }
  {
    Dataset train = makeDataset(10, 3);
    EXPECT_FALSE(splitValidation(train, 0.5, train, error));
    EXPECT_EQ(train.count, 10);
  }
}

//===----------------------------------------------------------------------===//
// Prefetcher
//===----------------------------------------------------------------------===//

TEST(PrefetcherTest, ProducesTheBatchersBatchesInOrder) {
  Dataset data = makeDataset(103, 7);
  Batcher batcher;
  std::string error;
  ASSERT_TRUE(batcher.init(data, 10, 5, true, error)) << error;
  for (uint64_t epoch : {0u, 1u}) {
    batcher.setEpoch(epoch);
    for (int64_t first : {int64_t(0), int64_t(1), int64_t(9), int64_t(10)}) {
      SCOPED_TRACE("first step " + std::to_string(first));
      expectSameBatches(collect(batcher, first),
                        collectPrefetched(batcher, first), 6);
    }
  }
}

TEST(PrefetcherTest, FirstStepOutOfRange) {
  Dataset data = makeDataset(20, 2);
  Batcher batcher;
  std::string error;
  ASSERT_TRUE(batcher.init(data, 8, 5, true, error)) << error;
  EXPECT_TRUE(collectPrefetched(batcher, 3).empty());
  EXPECT_TRUE(collectPrefetched(batcher, 1000).empty());
  expectSameBatches(collectPrefetched(batcher, -5), collect(batcher), 6);

  Dataset empty = makeDataset(0, 2);
  Batcher none;
  ASSERT_TRUE(none.init(empty, 8, 5, true, error)) << error;
  Prefetcher<Batcher> prefetcher(none, 0);
  EXPECT_EQ(prefetcher.next(), nullptr);
  EXPECT_EQ(prefetcher.next(), nullptr);
}

TEST(PrefetcherTest, UsesTwoBuffers) {
  Dataset data = makeDataset(100, 3);
  Batcher batcher;
  std::string error;
  ASSERT_TRUE(batcher.init(data, 4, 5, true, error)) << error;
  std::set<const float *> buffers;
  Prefetcher<Batcher> prefetcher(batcher, 0);
  while (Batch *b = prefetcher.next())
    buffers.insert(b->features.data());
  EXPECT_EQ(buffers.size(), 2u);
}

TEST(PrefetcherTest, CallbackRunsOncePerBatchInOrder) {
  Dataset data = makeDataset(30, 3);
  Batcher batcher;
  std::string error;
  ASSERT_TRUE(batcher.init(data, 4, 5, true, error)) << error;
  std::vector<int64_t> calls; // Only touched by the producer thread.
  std::vector<Batch> got;
  {
    Prefetcher<Batcher> prefetcher(batcher, 2, [&](Batch &b) {
      calls.push_back(b.step);
      for (int64_t i = 0; i < b.size * 6; ++i)
        b.features[size_t(i)] += 1000.0f;
    });
    while (Batch *b = prefetcher.next())
      got.push_back(*b);
  }
  std::vector<Batch> expected = collect(batcher, 2);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(calls[i], int64_t(i) + 2);
    for (int64_t k = 0; k < got[i].size * 6; ++k)
      ASSERT_EQ(got[i].features[size_t(k)],
                expected[i].features[size_t(k)] + 1000.0f);
  }
  EXPECT_EQ(calls.size(), got.size());
}

TEST(PrefetcherTest, CallbackCanChangeTheShapeThroughWork) {
  // A "crop" keeping the first 2 of 6 values per example, as augmentation
  // with random_crop does.
  Dataset data = makeDataset(30, 3);
  Batcher batcher;
  std::string error;
  ASSERT_TRUE(batcher.init(data, 4, 5, true, error)) << error;
  std::vector<Batch> expected = collect(batcher);
  std::set<const float *> buffers;
  Prefetcher<Batcher> prefetcher(batcher, 0, [](Batch &b) {
    b.work.resize(size_t(b.size) * 2);
    for (int64_t r = 0; r < b.size; ++r)
      for (int64_t k = 0; k < 2; ++k)
        b.work[size_t(r * 2 + k)] = b.features[size_t(r * 6 + k)];
    b.features.swap(b.work);
  });
  size_t i = 0;
  while (Batch *b = prefetcher.next()) {
    ASSERT_LT(i, expected.size());
    ASSERT_EQ(b->size, expected[i].size);
    for (int64_t r = 0; r < b->size; ++r)
      for (int64_t k = 0; k < 2; ++k)
        EXPECT_EQ(b->features[size_t(r * 2 + k)],
                  expected[i].features[size_t(r * 6 + k)]);
    buffers.insert(b->features.data());
    ++i;
  }
  EXPECT_EQ(i, expected.size());
  // Two slots, each alternating between its features and work buffers.
  EXPECT_LE(buffers.size(), 4u + 2u);
}

TEST(PrefetcherTest, SlowConsumerSeesUnchangedBatches) {
  // The producer must not overwrite the batch the consumer still holds.
  Dataset data = makeDataset(60, 3);
  Batcher batcher;
  std::string error;
  ASSERT_TRUE(batcher.init(data, 4, 8, true, error)) << error;
  std::vector<Batch> expected = collect(batcher);
  Prefetcher<Batcher> prefetcher(batcher, 0);
  size_t i = 0;
  while (Batch *b = prefetcher.next()) {
    Batch copy = *b;
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    ASSERT_LT(i, expected.size());
    expectSameBatch(*b, copy, 6);
    expectSameBatch(*b, expected[i], 6);
    ++i;
  }
  EXPECT_EQ(i, expected.size());
}

TEST(PrefetcherTest, SlowProducer) {
  Dataset data = makeDataset(40, 3);
  Batcher batcher;
  std::string error;
  ASSERT_TRUE(batcher.init(data, 4, 8, true, error)) << error;
  std::vector<Batch> got;
  {
    Prefetcher<Batcher> prefetcher(batcher, 0, [](Batch &) {
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    });
    while (Batch *b = prefetcher.next())
      got.push_back(*b);
  }
  expectSameBatches(collect(batcher), got, 6);
}

TEST(PrefetcherTest, RunsAtMostOneStepAhead) {
  Dataset data = makeDataset(80, 3);
  Batcher batcher;
  std::string error;
  ASSERT_TRUE(batcher.init(data, 4, 8, true, error)) << error;
  std::atomic<int64_t> calledNextFor{0}; // steps requested so far
  std::atomic<int64_t> worstLead{0};
  Prefetcher<Batcher> prefetcher(batcher, 0, [&](Batch &b) {
    // Step s may be produced once the consumer asked for step s - 1.
    int64_t lead = b.step - calledNextFor.load();
    if (lead > worstLead.load())
      worstLead.store(lead);
  });
  for (int64_t s = 0;; ++s) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    calledNextFor.store(s);
    if (!prefetcher.next())
      break;
  }
  EXPECT_LE(worstLead.load(), 1);
}

TEST(PrefetcherTest, DestroyedMidEpoch) {
  Dataset data = makeDataset(1000, 3);
  Batcher batcher;
  std::string error;
  ASSERT_TRUE(batcher.init(data, 4, 8, true, error)) << error;
  for (int taken : {0, 1, 2, 5}) {
    Prefetcher<Batcher> prefetcher(batcher, 0);
    for (int i = 0; i < taken; ++i)
      ASSERT_NE(prefetcher.next(), nullptr);
  }
  // While the producer is busy in a slow callback.
  std::atomic<int> calls{0};
  {
    Prefetcher<Batcher> prefetcher(batcher, 0, [&](Batch &) {
      ++calls;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    });
    ASSERT_NE(prefetcher.next(), nullptr);
  }
  // The first batch, the one prepared ahead, perhaps the one after: no more.
  EXPECT_GE(calls.load(), 1);
  EXPECT_LE(calls.load(), 3);
}

TEST(PrefetcherTest, ThreadStartsAndStopsRepeatedly) {
  Dataset data = makeDataset(9, 3);
  Batcher batcher;
  std::string error;
  ASSERT_TRUE(batcher.init(data, 2, 8, true, error)) << error;
  std::vector<Batch> expected = collect(batcher);
  for (int round = 0; round < 200; ++round) {
    std::vector<Batch> got = collectPrefetched(batcher);
    ASSERT_EQ(got.size(), expected.size());
    ASSERT_EQ(got.back().features[0], expected.back().features[0]);
  }
}

//===----------------------------------------------------------------------===//
// PairSampler
//===----------------------------------------------------------------------===//

/// Checks every pair of `batch` against the dataset and returns how many are
/// positive.
int64_t checkPairs(const PairSampler &sampler, const Dataset &data,
                   const PairBatch &batch) {
  int64_t size = sampler.exampleSize(), positives = 0;
  for (int64_t r = 0; r < batch.size; ++r) {
    int64_t left = rowIndex(batch.left.data() + r * size);
    int64_t right = rowIndex(batch.right.data() + r * size);
    EXPECT_NE(left, right);
    bool same = data.labels[size_t(left)] == data.labels[size_t(right)];
    EXPECT_EQ(batch.labels[size_t(r)], same ? 1.0f : 0.0f);
    for (int64_t k = 0; k < size; ++k) {
      EXPECT_EQ(batch.left[size_t(r * size + k)],
                data.features[size_t(left * size + k)]);
      EXPECT_EQ(batch.right[size_t(r * size + k)],
                data.features[size_t(right * size + k)]);
    }
    ExamplePair pair = sampler.pairAt(batch.offset + r);
    EXPECT_EQ(pair.left, left);
    EXPECT_EQ(pair.right, right);
    positives += same;
  }
  return positives;
}

TEST(PairSamplerTest, BalancedLabelsAreCorrectAndHalfPositive) {
  // Uneven classes: 0..4 with 3, 5, 7, 9, 11 examples.
  Dataset data = makeDataset(35, 1);
  int64_t i = 0;
  for (int32_t c = 0; c < 5; ++c)
    for (int n = 0; n < 3 + 2 * c; ++n)
      data.labels[size_t(i++)] = c;
  PairSampler sampler;
  std::string error;
  ASSERT_TRUE(sampler.init(data, 8, 3, /*balanced=*/true, true, error))
      << error;
  EXPECT_EQ(sampler.classCount(), 5);
  EXPECT_EQ(sampler.steps(), 5);
  EXPECT_EQ(sampler.batchSizeAt(4), 3);
  for (uint64_t epoch = 0; epoch < 20; ++epoch) {
    sampler.setEpoch(epoch);
    int64_t positives = 0, pairs = 0;
    std::vector<int64_t> lefts;
    for (int64_t s = 0; s < sampler.steps(); ++s) {
      PairBatch batch;
      sampler.get(s, batch);
      EXPECT_EQ(batch.offset, s * 8);
      positives += checkPairs(sampler, data, batch);
      pairs += batch.size;
      for (int64_t r = 0; r < batch.size; ++r)
        lefts.push_back(rowIndex(batch.left.data() + r * 6));
    }
    EXPECT_EQ(pairs, 35);
    EXPECT_EQ(positives, 18); // ceil(35 / 2)
    EXPECT_EQ(lefts, order(35, 3, epoch)) << "each example once as left";
  }
}

TEST(PairSamplerTest, BalancedPicksCoverTheClasses) {
  // Positives draw every other member of the class; negatives every example
  // of the other classes.
  Dataset data = makeDataset(12, 3);
  PairSampler sampler;
  std::string error;
  ASSERT_TRUE(sampler.init(data, 12, 17, true, true, error)) << error;
  std::set<std::pair<int64_t, int64_t>> positives, negatives;
  for (uint64_t epoch = 0; epoch < 400; ++epoch) {
    sampler.setEpoch(epoch);
    for (int64_t p = 0; p < 12; ++p) {
      ExamplePair pair = sampler.pairAt(p);
      (pair.label == 1.0f ? positives : negatives)
          .insert({pair.left, pair.right});
    }
  }
  // 12 examples, each with 3 same-class partners and 8 others.
  EXPECT_EQ(positives.size(), 12u * 3);
  EXPECT_EQ(negatives.size(), 12u * 8);
}

TEST(PairSamplerTest, BalanceOverManyPairs) {
  // Ten classes of unequal size; positives are half in every batch of 64.
  Dataset data = makeDataset(1000, 1);
  for (int64_t i = 0; i < 1000; ++i)
    data.labels[size_t(i)] = int32_t((i * i) % 10);
  PairSampler sampler;
  std::string error;
  ASSERT_TRUE(sampler.init(data, 64, 1, true, true, error)) << error;
  int64_t positives = 0, pairs = 0;
  for (uint64_t epoch = 0; epoch < 5; ++epoch) {
    sampler.setEpoch(epoch);
    for (int64_t s = 0; s < sampler.steps(); ++s) {
      PairBatch batch;
      sampler.get(s, batch);
      int64_t inBatch = checkPairs(sampler, data, batch);
      if (batch.size == 64) {
        EXPECT_EQ(inBatch, 32);
      }
      positives += inBatch;
      pairs += batch.size;
    }
  }
  EXPECT_NEAR(double(positives) / double(pairs), 0.5, 0.01);
}

TEST(PairSamplerTest, Unbalanced) {
  Dataset data = makeDataset(400, 4);
  PairSampler sampler;
  std::string error;
  ASSERT_TRUE(sampler.init(data, 32, 6, /*balanced=*/false, true, error))
      << error;
  int64_t positives = 0, pairs = 0;
  for (uint64_t epoch = 0; epoch < 10; ++epoch) {
    sampler.setEpoch(epoch);
    for (int64_t s = 0; s < sampler.steps(); ++s) {
      PairBatch batch;
      sampler.get(s, batch);
      positives += checkPairs(sampler, data, batch);
      pairs += batch.size;
    }
  }
  // Four equal classes: a random partner shares the class 99/399 of the time.
  EXPECT_NEAR(double(positives) / double(pairs), 99.0 / 399.0, 0.03);

  // One class is fine when unbalanced: every pair is positive.
  Dataset oneClass = makeDataset(5, 1);
  ASSERT_TRUE(sampler.init(oneClass, 2, 6, false, true, error)) << error;
  for (int64_t p = 0; p < 5; ++p)
    EXPECT_EQ(sampler.pairAt(p).label, 1.0f);
}

TEST(PairSamplerTest, DeterministicAndResumable) {
  Dataset data = makeDataset(50, 5);
  PairSampler a, b, c;
  std::string error;
  ASSERT_TRUE(a.init(data, 8, 42, true, true, error)) << error;
  ASSERT_TRUE(b.init(data, 8, 42, true, true, error)) << error;
  ASSERT_TRUE(c.init(data, 8, 43, true, true, error)) << error;
  // Compares the valid part (buffers keep a full batch's capacity).
  auto same = [](const PairBatch &x, const PairBatch &y) {
    size_t values = size_t(x.size) * 6;
    return x.size == y.size && x.step == y.step && x.epoch == y.epoch &&
           std::equal(x.left.begin(), x.left.begin() + values,
                      y.left.begin()) &&
           std::equal(x.right.begin(), x.right.begin() + values,
                      y.right.begin()) &&
           std::equal(x.labels.begin(), x.labels.begin() + x.size,
                      y.labels.begin());
  };
  for (uint64_t epoch : {0u, 1u, 9u}) {
    a.setEpoch(epoch);
    b.setEpoch(epoch);
    c.setEpoch(epoch);
    bool anyDiffers = false;
    // Resume at step 2 through a prefetcher on a fresh sampler.
    Prefetcher<PairSampler> resumed(b, 2);
    for (int64_t s = 0; s < a.steps(); ++s) {
      PairBatch x, z;
      a.get(s, x);
      c.get(s, z);
      anyDiffers |= !same(x, z);
      if (s >= 2) {
        PairBatch *y = resumed.next();
        ASSERT_NE(y, nullptr);
        EXPECT_TRUE(same(x, *y)) << "epoch " << epoch << " step " << s;
      }
    }
    EXPECT_EQ(resumed.next(), nullptr);
    EXPECT_TRUE(anyDiffers) << "seeds 42 and 43 gave the same pairs";
  }
  // Epochs differ.
  a.setEpoch(0);
  PairBatch e0, e1;
  a.get(0, e0);
  a.setEpoch(1);
  a.get(0, e1);
  EXPECT_FALSE(same(e0, e1));
}

TEST(PairSamplerTest, NoShuffleKeepsLeftOrder) {
  Dataset data = makeDataset(10, 2);
  PairSampler sampler;
  std::string error;
  ASSERT_TRUE(sampler.init(data, 4, 42, true, /*shuffle=*/false, error))
      << error;
  sampler.setEpoch(3);
  for (int64_t p = 0; p < 10; ++p)
    EXPECT_EQ(sampler.pairAt(p).left, p);
  EXPECT_EQ(sampler.pairAt(10).left, 0); // Out of range: a zero pair.
  EXPECT_EQ(sampler.pairAt(-1).right, 0);
}

TEST(PairSamplerTest, Errors) {
  PairSampler sampler;
  std::string error;
  {
    Dataset oneClass = makeDataset(10, 1);
    EXPECT_FALSE(sampler.init(oneClass, 4, 0, true, true, error));
    EXPECT_NE(error.find("at least 2 classes"), std::string::npos) << error;
  }
  {
    Dataset lonely = makeDataset(7, 3);
    lonely.labels[6] = 9; // Class 9 has a single example.
    EXPECT_FALSE(sampler.init(lonely, 4, 0, true, true, error));
    EXPECT_NE(error.find("class 9 has 1"), std::string::npos) << error;
    // Unbalanced pairs do not need positives for every class.
    EXPECT_TRUE(sampler.init(lonely, 4, 0, false, true, error)) << error;
  }
  {
    Dataset single = makeDataset(1, 1);
    EXPECT_FALSE(sampler.init(single, 4, 0, false, true, error));
    EXPECT_NE(error.find("at least 2 examples"), std::string::npos) << error;
    Dataset empty = makeDataset(0, 1);
    EXPECT_FALSE(sampler.init(empty, 4, 0, true, true, error));
  }
  {
    Dataset negative = makeDataset(6, 2);
    negative.labels[3] = -1;
    EXPECT_FALSE(sampler.init(negative, 4, 0, true, true, error));
    EXPECT_NE(error.find("negative label"), std::string::npos) << error;
  }
  {
    Dataset unlabeled = makeDataset(6, 0);
    EXPECT_FALSE(sampler.init(unlabeled, 4, 0, true, true, error));
  }
  {
    Dataset data = makeDataset(6, 2);
    EXPECT_FALSE(sampler.init(data, 0, 0, true, true, error));
  }
}

//===----------------------------------------------------------------------===//
// Features held as bytes (IDX images): every batch, split, pair and model
// batch is bit-identical to the one of a float copy of the same data.
//===----------------------------------------------------------------------===//

/// `count` examples of `shape` held as bytes (after a 16-byte header, as
/// IdxLoader keeps them) and, in `floatCopy`, the same data as float(b) / 255
/// the way a float loader would hold it.
Dataset makeByteDataset(int64_t count, int32_t classes,
                        std::vector<int64_t> shape, Dataset &floatCopy) {
  int64_t size = 1;
  for (int64_t dim : shape)
    size *= dim;
  std::vector<uint8_t> file(16 + size_t(count * size), 0xAB);
  for (int64_t i = 0; i < count * size; ++i)
    file[16 + size_t(i)] = uint8_t((i * 37 + i / 5) % 256);
  floatCopy = Dataset();
  floatCopy.exampleShape = shape;
  floatCopy.count = count;
  floatCopy.source = "generated";
  for (int64_t i = 0; i < count * size; ++i)
    floatCopy.features.push_back(float(file[16 + size_t(i)]) / 255.0f);
  if (classes > 0)
    for (int64_t i = 0; i < count; ++i)
      floatCopy.labels.push_back(int32_t((i * 7) % classes));
  Dataset data;
  data.exampleShape = shape;
  data.count = count;
  data.source = "generated";
  data.labels = floatCopy.labels;
  data.bytes =
      makeByteFeatures(std::move(file), 16, size_t(count * size), 255.0f);
  return data;
}

/// True when `a` and `b` hold the same bits.
bool sameBits(const float *a, const float *b, size_t count) {
  return std::memcmp(a, b, count * sizeof(float)) == 0;
}

TEST(ByteFeaturesTest, HoldsTheFileBufferWithoutCopy) {
  std::vector<uint8_t> file = {9, 9, 0, 1, 128, 255};
  const uint8_t *storage = file.data();
  ByteFeatures bytes = makeByteFeatures(std::move(file), 2, 4, 255.0f);
  ASSERT_NE(bytes.buffer, nullptr);
  EXPECT_EQ(bytes.buffer->data(), storage); // moved, not copied
  EXPECT_EQ(bytes.data(), storage + 2);
  EXPECT_EQ(bytes.size, 4u);
  for (unsigned b = 0; b < 256; ++b)
    EXPECT_EQ(bytes.values[b], float(b) / 255.0f) << b;
  // A window beyond the buffer is clamped.
  ByteFeatures clamped =
      makeByteFeatures(std::vector<uint8_t>(5, 1), 3, 100, 255.0f);
  EXPECT_EQ(clamped.offset, 3u);
  EXPECT_EQ(clamped.size, 2u);
  ByteFeatures past =
      makeByteFeatures(std::vector<uint8_t>(5, 1), 9, 100, 255.0f);
  EXPECT_EQ(past.offset, 5u);
  EXPECT_EQ(past.size, 0u);
}

TEST(ByteFeaturesTest, FeatureAndCopyExampleMatchTheFloatCopy) {
  Dataset floats;
  Dataset data = makeByteDataset(7, 3, {2, 3}, floats);
  ASSERT_TRUE(data.holdsBytes());
  EXPECT_FALSE(floats.holdsBytes());
  ASSERT_EQ(data.featureCount(), floats.featureCount());
  for (uint64_t i = 0; i < data.featureCount(); ++i)
    ASSERT_EQ(data.feature(i), floats.feature(i)) << i;
  float a[6], b[6];
  for (int64_t e = 0; e < 7; ++e) {
    data.copyExample(e, 6, a);
    floats.copyExample(e, 6, b);
    EXPECT_TRUE(sameBits(a, b, 6)) << e;
  }
  std::string error;
  EXPECT_TRUE(checkFinite(data, error)) << error;
}

TEST(ByteFeaturesTest, ShuffledBatchesAreBitIdentical) {
  Dataset floats;
  Dataset data = makeByteDataset(53, 4, {4, 5, 1}, floats);
  Batcher a, b;
  std::string error;
  ASSERT_TRUE(a.init(data, 8, 99, /*shuffle=*/true, error)) << error;
  ASSERT_TRUE(b.init(floats, 8, 99, /*shuffle=*/true, error)) << error;
  for (uint64_t epoch = 0; epoch < 3; ++epoch) {
    a.setEpoch(epoch);
    b.setEpoch(epoch);
    std::vector<Batch> fromBytes = collectPrefetched(a);
    std::vector<Batch> fromFloats = collect(b);
    ASSERT_EQ(fromBytes.size(), fromFloats.size());
    for (size_t i = 0; i < fromBytes.size(); ++i) {
      ASSERT_EQ(fromBytes[i].size, fromFloats[i].size);
      EXPECT_TRUE(sameBits(fromBytes[i].features.data(),
                           fromFloats[i].features.data(),
                           size_t(fromBytes[i].size * 20)))
          << "epoch " << epoch << " batch " << i;
      for (int64_t r = 0; r < fromBytes[i].size; ++r)
        EXPECT_EQ(fromBytes[i].labels[size_t(r)],
                  fromFloats[i].labels[size_t(r)]);
    }
  }
}

TEST(ByteFeaturesTest, ValidationSplitSharesTheBuffer) {
  Dataset floats, floatValidation, validation;
  Dataset train = makeByteDataset(10, 3, {2, 3}, floats);
  const std::vector<uint8_t> *buffer = train.bytes.buffer.get();
  std::string error;
  ASSERT_TRUE(splitValidation(train, 0.3, validation, error)) << error;
  ASSERT_TRUE(splitValidation(floats, 0.3, floatValidation, error)) << error;
  // No copy: both halves are windows of the one buffer.
  EXPECT_EQ(train.bytes.buffer.get(), buffer);
  EXPECT_EQ(validation.bytes.buffer.get(), buffer);
  EXPECT_EQ(train.bytes.offset, 16u);
  EXPECT_EQ(train.bytes.size, 7u * 6);
  EXPECT_EQ(validation.bytes.offset, 16u + 7 * 6);
  EXPECT_EQ(validation.bytes.size, 3u * 6);
  EXPECT_EQ(train.count, floats.count);
  EXPECT_EQ(validation.count, floatValidation.count);
  EXPECT_EQ(validation.labels, floatValidation.labels);
  for (uint64_t i = 0; i < train.featureCount(); ++i)
    ASSERT_EQ(train.feature(i), floats.feature(i)) << i;
  for (uint64_t i = 0; i < validation.featureCount(); ++i)
    ASSERT_EQ(validation.feature(i), floatValidation.feature(i)) << i;
  Batcher batcher;
  EXPECT_TRUE(batcher.init(validation, 2, 0, false, error)) << error;
}

TEST(ByteFeaturesTest, PairsAreBitIdentical) {
  Dataset floats;
  Dataset data = makeByteDataset(40, 5, {3, 3}, floats);
  PairSampler a, b;
  std::string error;
  ASSERT_TRUE(a.init(data, 6, 5, /*balanced=*/true, true, error)) << error;
  ASSERT_TRUE(b.init(floats, 6, 5, /*balanced=*/true, true, error)) << error;
  for (uint64_t epoch = 0; epoch < 2; ++epoch) {
    a.setEpoch(epoch);
    b.setEpoch(epoch);
    for (int64_t s = 0; s < a.steps(); ++s) {
      PairBatch x, y;
      a.get(s, x);
      b.get(s, y);
      ASSERT_EQ(x.size, y.size);
      EXPECT_TRUE(sameBits(x.left.data(), y.left.data(), size_t(x.size * 9)));
      EXPECT_TRUE(sameBits(x.right.data(), y.right.data(), size_t(x.size * 9)));
      EXPECT_TRUE(sameBits(x.labels.data(), y.labels.data(), size_t(x.size)));
    }
  }
}

TEST(ByteFeaturesTest, LayoutErrors) {
  Dataset floats;
  std::string error;
  int64_t exampleSize = 0;
  Dataset shortWindow = makeByteDataset(4, 2, {2, 2}, floats);
  shortWindow.bytes.size -= 1;
  EXPECT_FALSE(checkDatasetLayout(shortWindow, false, exampleSize, error));
  EXPECT_NE(error.find("holds 15 feature values"), std::string::npos) << error;
  Dataset outside = makeByteDataset(4, 2, {2, 2}, floats);
  outside.bytes.offset += 8;
  EXPECT_FALSE(checkDatasetLayout(outside, false, exampleSize, error));
  EXPECT_NE(error.find("outside their buffer"), std::string::npos) << error;
  Dataset fine = makeByteDataset(4, 2, {2, 2}, floats);
  EXPECT_TRUE(checkDatasetLayout(fine, false, exampleSize, error)) << error;
  EXPECT_EQ(exampleSize, 4);
}

/// Input `k` of `batch` as the model receives it.
std::vector<unsigned char> modelInput(const ModelBatch &batch, size_t k) {
  std::vector<unsigned char> bytes(modelInputBytes(batch, k));
  writeModelInput(batch, k, bytes.data());
  return bytes;
}

/// A model of one f32/f64 input of `shape` and, as its targets, the class
/// label and a clean copy of the input (as a denoising model has).
ModelSpec imageModel(std::vector<int64_t> shape, int elementBytes) {
  ModelSpec spec;
  spec.modelName = "m";
  spec.maxBatch = 8;
  spec.elementBytes = elementBytes;
  DType real = elementBytes == 8 ? DType::F64 : DType::F32;
  spec.inputs.push_back(DataSpec{"image", real, shape});
  spec.outputs.push_back(DataSpec{"logits", real, {4}});
  spec.outputs.push_back(DataSpec{"clean", real, shape});
  spec.targets.push_back(TargetSpec{DataSpec{"label", DType::I32, {}}, -1});
  spec.targets.push_back(TargetSpec{DataSpec{"clean", real, shape}, 0});
  return spec;
}

TEST(ByteFeaturesTest, ModelBatchesWithAugmentAndNoiseAreBitIdentical) {
  // f32 and f64 programs; with augmentations (through float scratch) and
  // without (an f32 input is gathered straight into the batch).
  for (int variant = 0; variant < 4; ++variant) {
    int elementBytes = variant % 2 ? 8 : 4;
    bool augmented = variant < 2;
    SCOPED_TRACE("element bytes " + std::to_string(elementBytes) +
                 (augmented ? ", augmented" : ", not augmented"));
    Dataset floats;
    Dataset data = makeByteDataset(37, 4, {6, 6, 1}, floats);
    std::vector<Augmentation> augment;
    if (augmented)
      augment = {Augmentation::randomFlip(FlipMode::Horizontal),
                 Augmentation::randomTranslate(1),
                 Augmentation::randomCrop(4, 4, 1)};
    ModelSpec spec = imageModel(augmented ? std::vector<int64_t>{4, 4, 1}
                                          : std::vector<int64_t>{6, 6, 1},
                                elementBytes);
    BatchFormat format;
    std::string error;
    ASSERT_TRUE(
        makeBatchFormat(spec, data.exampleShape, false, augment, format, error))
        << error;
    for (int mode = 0; mode < 3; ++mode) {
      bool training = mode < 2, noise = mode == 0;
      StreamOptions options;
      options.batchSize = 8;
      options.seed = 17;
      options.training = training;
      options.augment = augment;
      if (noise)
        options.inputNoise = Augmentation::gaussianNoise(0.25f);
      BatchStream a, b;
      ASSERT_TRUE(a.init(data, format, options, error)) << error;
      ASSERT_TRUE(b.init(floats, format, options, error)) << error;
      for (uint64_t epoch = 0; epoch < 2; ++epoch) {
        a.start(epoch, 0);
        b.start(epoch, 0);
        int64_t batches = 0;
        while (const ModelBatch *x = a.next()) {
          const ModelBatch *y = b.next();
          ASSERT_NE(y, nullptr);
          EXPECT_EQ(x->size, y->size);
          EXPECT_EQ(x->inputs, y->inputs) << "batch " << batches;
          EXPECT_EQ(modelInput(*x, 0), modelInput(*y, 0));
          EXPECT_EQ(x->targets, y->targets) << "batch " << batches;
          if (!augmented && !noise && elementBytes == 4) {
            // Gathered straight in: the input is the clean target and
            // float(b) / 255 of the examples in the epoch's order.
            EXPECT_EQ(x->inputs[0], x->targets[1]);
            ASSERT_EQ(x->inputs[0].size(), size_t(x->size) * 36 * 4);
          }
          ++batches;
        }
        EXPECT_EQ(b.next(), nullptr);
        EXPECT_EQ(batches, 5);
        a.stop();
        b.stop();
      }
    }
  }
}

TEST(ByteFeaturesTest, CompactModelBatchesBecomeTheSameFloats) {
  // A classifier of an f32 program without augmentation: the batch keeps
  // the examples' bytes (a quarter of the memory) and writeModelInput
  // gives the model exactly the floats the float copy gives.
  Dataset floats;
  Dataset data = makeByteDataset(21, 4, {3, 3, 1}, floats);
  ModelSpec spec;
  spec.modelName = "classifier";
  spec.maxBatch = 8;
  spec.inputs.push_back(DataSpec{"image", DType::F32, {3, 3, 1}});
  spec.outputs.push_back(DataSpec{"logits", DType::F32, {4}});
  spec.targets.push_back(TargetSpec{DataSpec{"label", DType::I32, {}}, -1});
  BatchFormat format;
  std::string error;
  ASSERT_TRUE(
      makeBatchFormat(spec, data.exampleShape, false, {}, format, error))
      << error;
  for (bool training : {true, false}) {
    StreamOptions options;
    options.batchSize = 8;
    options.seed = 5;
    options.training = training;
    BatchStream a, b;
    ASSERT_TRUE(a.init(data, format, options, error)) << error;
    ASSERT_TRUE(b.init(floats, format, options, error)) << error;
    a.start(1, 0);
    b.start(1, 0);
    int64_t batches = 0;
    while (const ModelBatch *x = a.next()) {
      const ModelBatch *y = b.next();
      ASSERT_NE(y, nullptr);
      ASSERT_EQ(x->byteValues.size(), 1u);
      EXPECT_NE(x->byteValues[0], nullptr);
      EXPECT_EQ(y->byteValues[0], nullptr);
      EXPECT_EQ(x->inputs[0].size(), size_t(x->size) * 9); // one byte each
      EXPECT_EQ(modelInputBytes(*x, 0), size_t(x->size) * 9 * 4);
      EXPECT_EQ(modelInput(*x, 0), modelInput(*y, 0)) << "batch " << batches;
      EXPECT_EQ(modelInput(*y, 0), y->inputs[0]);
      EXPECT_EQ(x->targets, y->targets);
      ++batches;
    }
    EXPECT_EQ(batches, 3);
    EXPECT_EQ(b.next(), nullptr);
  }
}

//===----------------------------------------------------------------------===//
// Speed: gathering a batch of 256 28x28 images must take microseconds.
//===----------------------------------------------------------------------===//

TEST(ByteFeaturesTest, GatheringAByteBatchIsFast) {
  Dataset floats;
  Dataset data = makeByteDataset(2048, 10, {28, 28, 1}, floats);
  Batcher batcher;
  std::string error;
  ASSERT_TRUE(batcher.init(data, 256, 1, true, error)) << error;
  Batch batch;
  batcher.allocate(batch);
  auto start = std::chrono::steady_clock::now();
  const int rounds = 50;
  for (int round = 0; round < rounds; ++round)
    batcher.get(round % batcher.steps(), batch);
  double micros = std::chrono::duration<double, std::micro>(
                      std::chrono::steady_clock::now() - start)
                      .count() /
                  rounds;
  std::printf("[ timing   ] 256 byte images gathered as float in %.1f us\n",
              micros);
  // A memcpy-speed gather takes ~100 us; anything near 20 ms is broken.
  EXPECT_LT(micros, 20000.0);
}

} // namespace
