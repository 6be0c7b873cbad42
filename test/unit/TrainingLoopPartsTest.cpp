//===- TrainingLoopPartsTest.cpp - schedules, metrics, early stopping -----===//
//
// The expected values marked "Keras" were produced with Keras 3.15.1 on the
// JAX backend (a scratch virtual environment, not needed here):
//   - schedules: keras.optimizers.schedules.{InverseTimeDecay,
//     ExponentialDecay, CosineDecay} called at each step, with
//     JAX_ENABLE_X64=1 and keras.config.set_floatx("float64") (CosineDecay
//     still rounds its cosine through float32, hence a tolerance of 1e-6
//     of the value plus 1e-7 of the initial rate);
//   - metrics: keras.metrics.* update_state on the batches below, then
//     result();
//   - early stopping: keras.callbacks.EarlyStopping with on_train_begin and
//     on_epoch_end(epoch, {monitor: value}) per value until the model's
//     stop_training was set.
//
//===----------------------------------------------------------------------===//
#include "runtime/EarlyStopping.h"
#include "runtime/LearningRate.h"
#include "runtime/Metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

using namespace dlc::rt;

namespace {

//===----------------------------------------------------------------------===//
// Learning-rate schedules
//===----------------------------------------------------------------------===//

using StepTable = std::vector<std::pair<int64_t, double>>;

void expectSchedule(const Schedule &schedule, double lr,
                    const StepTable &table) {
  for (auto [step, expected] : table)
    EXPECT_NEAR(learningRate(schedule, lr, step, /*epoch=*/0), expected,
                1e-6 * std::fabs(expected) + 1e-7 * lr)
        << "step " << step;
}

Schedule makeSchedule(Schedule::Kind kind, int64_t decaySteps) {
  Schedule schedule = Schedule::defaults(kind);
  schedule.decaySteps = decaySteps;
  return schedule;
}

TEST(LearningRateTest, ConstantIgnoresStepAndEpoch) {
  Schedule schedule;
  EXPECT_EQ(learningRate(schedule, 0.01, 0, 0), 0.01);
  EXPECT_EQ(learningRate(schedule, 0.01, 123456, 99), 0.01);
}

TEST(LearningRateTest, DefaultsFollowTheLanguage) {
  EXPECT_EQ(Schedule::defaults(Schedule::InverseTimeDecay).decayRate, 1.0);
  EXPECT_EQ(Schedule::defaults(Schedule::ExponentialDecay).decayRate, 0.96);
  Schedule step = Schedule::defaults(Schedule::StepDecay);
  EXPECT_EQ(step.factor, 0.1);
  EXPECT_EQ(step.every, 10);
  Schedule cosine = Schedule::defaults(Schedule::CosineDecay);
  EXPECT_EQ(cosine.alpha, 0.0);
  EXPECT_EQ(cosine.warmupSteps, 0);
  EXPECT_EQ(cosine.decaySteps, kAutoDecaySteps);
  EXPECT_FALSE(cosine.staircase);
}

// Keras: InverseTimeDecay(0.1, decay_steps=100, decay_rate=1.0).
TEST(LearningRateTest, InverseTimeDecayMatchesKeras) {
  expectSchedule(makeSchedule(Schedule::InverseTimeDecay, 100), 0.1,
                 {{0, 0.10000000000000001},
                  {1, 0.099009900990099015},
                  {5, 0.095238095238095233},
                  {6, 0.094339622641509441},
                  {7, 0.093457943925233641},
                  {9, 0.091743119266055051},
                  {10, 0.090909090909090912},
                  {11, 0.090090090090090086},
                  {14, 0.08771929824561403},
                  {50, 0.066666666666666666},
                  {99, 0.050251256281407038},
                  {100, 0.050000000000000003},
                  {109, 0.047846889952153117},
                  {110, 0.047619047619047616},
                  {111, 0.047393364928909949},
                  {250, 0.028571428571428574}});
}

// Keras: InverseTimeDecay(0.01, decay_steps=7, decay_rate=0.5,
// staircase=True).
TEST(LearningRateTest, InverseTimeDecayStaircaseMatchesKeras) {
  Schedule schedule = makeSchedule(Schedule::InverseTimeDecay, 7);
  schedule.decayRate = 0.5;
  schedule.staircase = true;
  expectSchedule(schedule, 0.01,
                 {{0, 0.01},
                  {1, 0.01},
                  {5, 0.01},
                  {6, 0.01},
                  {7, 0.0066666666666666671},
                  {9, 0.0066666666666666671},
                  {10, 0.0066666666666666671},
                  {11, 0.0066666666666666671},
                  {14, 0.0050000000000000001},
                  {50, 0.0022222222222222222},
                  {99, 0.00125},
                  {100, 0.00125},
                  {109, 0.0011764705882352942},
                  {110, 0.0011764705882352942},
                  {111, 0.0011764705882352942},
                  {250, 0.00054054054054054055}});
}

// Keras: ExponentialDecay(0.1, decay_steps=100, decay_rate=0.96).
TEST(LearningRateTest, ExponentialDecayMatchesKeras) {
  expectSchedule(makeSchedule(Schedule::ExponentialDecay, 100), 0.1,
                 {{0, 0.10000000000000001},
                  {1, 0.09995918633652226},
                  {5, 0.099796098190152241},
                  {6, 0.099755367746472992},
                  {7, 0.099714653926379959},
                  {9, 0.099633276129816539},
                  {10, 0.099592612139785069},
                  {11, 0.099551964746217636},
                  {14, 0.099430122076577226},
                  {50, 0.097979589711327128},
                  {99, 0.096039197114717131},
                  {100, 0.096000000000000002},
                  {109, 0.095647945084623875},
                  {110, 0.095608907654193664},
                  {111, 0.095569886156368924},
                  {250, 0.090297989877959076}});
}

// Keras: ExponentialDecay(0.001, decay_steps=10, decay_rate=0.5,
// staircase=True).
TEST(LearningRateTest, ExponentialDecayStaircaseMatchesKeras) {
  Schedule schedule = makeSchedule(Schedule::ExponentialDecay, 10);
  schedule.decayRate = 0.5;
  schedule.staircase = true;
  expectSchedule(schedule, 0.001,
                 {{0, 0.001},
                  {1, 0.001},
                  {5, 0.001},
                  {6, 0.001},
                  {7, 0.001},
                  {9, 0.001},
                  {10, 0.00050000000000000001},
                  {11, 0.00050000000000000001},
                  {14, 0.00050000000000000001},
                  {50, 3.1250000000000001e-05},
                  {99, 1.953125e-06},
                  {100, 9.7656250000000002e-07},
                  {109, 9.7656250000000002e-07},
                  {110, 4.8828125000000001e-07},
                  {111, 4.8828125000000001e-07},
                  {250, 2.9802322387695313e-11}});
}

// Keras: CosineDecay(0.1, decay_steps=100).
TEST(LearningRateTest, CosineDecayMatchesKeras) {
  expectSchedule(makeSchedule(Schedule::CosineDecay, 100), 0.1,
                 {{0, 0.10000000149011612},
                  {1, 0.099975325167179108},
                  {5, 0.099384419620037079},
                  {6, 0.099114358425140381},
                  {7, 0.09879583865404129},
                  {9, 0.098014689981937408},
                  {10, 0.0975528284907341},
                  {11, 0.097044043242931366},
                  {14, 0.095241360366344452},
                  {50, 0.049999997019767761},
                  {99, 2.4673343432368711e-05},
                  {100, 0},
                  {109, 0},
                  {110, 0},
                  {111, 0},
                  {250, 0}});
}

// Keras: CosineDecay(0.1, decay_steps=100, alpha=0.2).
TEST(LearningRateTest, CosineDecayWithAlphaMatchesKeras) {
  Schedule schedule = makeSchedule(Schedule::CosineDecay, 100);
  schedule.alpha = 0.2;
  expectSchedule(schedule, 0.1,
                 {{0, 0.10000000149011612},
                  {1, 0.099980257451534271},
                  {5, 0.099507533013820648},
                  {6, 0.099291488528251648},
                  {7, 0.099036671221256256},
                  {9, 0.09841175377368927},
                  {10, 0.098042264580726624},
                  {11, 0.097635231912136078},
                  {14, 0.096193090081214905},
                  {50, 0.059999998658895493},
                  {99, 0.020019738003611565},
                  {100, 0.020000001415610313},
                  {109, 0.020000001415610313},
                  {110, 0.020000001415610313},
                  {111, 0.020000001415610313},
                  {250, 0.020000001415610313}});
}

// Keras: CosineDecay(initial_learning_rate=0.0, decay_steps=100, alpha=0.1,
// warmup_target=0.1, warmup_steps=10).
TEST(LearningRateTest, CosineDecayWithWarmupMatchesKeras) {
  Schedule schedule = makeSchedule(Schedule::CosineDecay, 100);
  schedule.alpha = 0.1;
  schedule.warmupSteps = 10;
  expectSchedule(schedule, 0.1,
                 {{0, 0},
                  {1, 0.010000000000000002},
                  {5, 0.050000000000000003},
                  {6, 0.059999999999999998},
                  {7, 0.069999999999999993},
                  {9, 0.090000000000000011},
                  {10, 0.10000000000000001},
                  {11, 0.099977791309356689},
                  {14, 0.099645161628723153},
                  {50, 0.068905758857727054},
                  {99, 0.01266036480665207},
                  {100, 0.012202458828687668},
                  {109, 0.010022205859422685},
                  {110, 0.010000000149011612},
                  {111, 0.010000000149011612},
                  {250, 0.010000000149011612}});
}

TEST(LearningRateTest, StepDecayDropsEveryFewEpochs) {
  Schedule schedule = Schedule::defaults(Schedule::StepDecay);
  schedule.factor = 0.5;
  schedule.every = 3;
  // The step does not matter, only the 0-based epoch.
  EXPECT_DOUBLE_EQ(learningRate(schedule, 0.8, 1000, 0), 0.8);
  EXPECT_DOUBLE_EQ(learningRate(schedule, 0.8, 0, 2), 0.8);
  EXPECT_DOUBLE_EQ(learningRate(schedule, 0.8, 0, 3), 0.4);
  EXPECT_DOUBLE_EQ(learningRate(schedule, 0.8, 0, 5), 0.4);
  EXPECT_DOUBLE_EQ(learningRate(schedule, 0.8, 0, 6), 0.2);
  EXPECT_DOUBLE_EQ(learningRate(schedule, 0.8, 0, 10), 0.8 * 0.125);
  // Defaults: a tenth every 10 epochs.
  Schedule byDefault = Schedule::defaults(Schedule::StepDecay);
  EXPECT_DOUBLE_EQ(learningRate(byDefault, 1.0, 0, 9), 1.0);
  EXPECT_DOUBLE_EQ(learningRate(byDefault, 1.0, 0, 10), 0.1);
  EXPECT_NEAR(learningRate(byDefault, 1.0, 0, 25), 0.01, 1e-15);
}

TEST(LearningRateTest, ResolvesAutoDecaySteps) {
  // One epoch's steps for the time and exponential decays.
  Schedule inverse = resolveSchedule(
      Schedule::defaults(Schedule::InverseTimeDecay), 469, 4690);
  EXPECT_EQ(inverse.decaySteps, 469);
  EXPECT_DOUBLE_EQ(learningRate(inverse, 1e-3, 469, 1), 1e-3 / 2);
  Schedule exponential = resolveSchedule(
      Schedule::defaults(Schedule::ExponentialDecay), 100, 1000);
  EXPECT_EQ(exponential.decaySteps, 100);
  // The whole run less the warmup for cosine decay: it ends with the run.
  Schedule cosine = Schedule::defaults(Schedule::CosineDecay);
  EXPECT_EQ(resolveSchedule(cosine, 100, 1000).decaySteps, 1000);
  cosine.warmupSteps = 10;
  Schedule warm = resolveSchedule(cosine, 11, 110);
  EXPECT_EQ(warm.decaySteps, 100);
  EXPECT_NEAR(learningRate(warm, 0.1, 109, 9),
              0.1 * 0.5 * (1 + std::cos(3.14159265358979323846 * 99 / 100)),
              1e-15);
  // An explicit value is kept.
  Schedule given = Schedule::defaults(Schedule::ExponentialDecay);
  given.decaySteps = 7;
  EXPECT_EQ(resolveSchedule(given, 100, 1000).decaySteps, 7);
}

TEST(LearningRateTest, DegenerateCountsStayFinite) {
  // No steps at all, a warmup longer than the run, bad every.
  Schedule cosine = Schedule::defaults(Schedule::CosineDecay);
  cosine.warmupSteps = 500;
  Schedule resolved = resolveSchedule(cosine, 0, 100);
  EXPECT_EQ(resolved.decaySteps, 1);
  Schedule inverse =
      resolveSchedule(Schedule::defaults(Schedule::InverseTimeDecay), 0, 0);
  EXPECT_EQ(inverse.decaySteps, 1);
  Schedule step = Schedule::defaults(Schedule::StepDecay);
  step.every = 0;
  EXPECT_EQ(resolveSchedule(step, 10, 10).every, 1);
  // Unresolved schedules and negative counts are evaluated safely too.
  Schedule raw;
  for (Schedule::Kind kind : {Schedule::Constant, Schedule::InverseTimeDecay,
                              Schedule::ExponentialDecay, Schedule::StepDecay,
                              Schedule::CosineDecay}) {
    raw = Schedule::defaults(kind);
    raw.decaySteps = -5;
    raw.every = -1;
    raw.warmupSteps = -3;
    for (int64_t step : {int64_t(-7), int64_t(0), int64_t(1),
                         std::numeric_limits<int64_t>::max()}) {
      double lr = learningRate(raw, 0.1, step, step);
      EXPECT_TRUE(std::isfinite(lr)) << kind << " " << step;
      EXPECT_GE(lr, 0.0);
      EXPECT_LE(lr, 0.1);
    }
  }
  // A negative step counts as step 0.
  Schedule exp = makeSchedule(Schedule::ExponentialDecay, 10);
  EXPECT_EQ(learningRate(exp, 0.1, -3, 0), 0.1);
}

//===----------------------------------------------------------------------===//
// Metrics
//===----------------------------------------------------------------------===//

// Two batches (3 and 2 examples) of 4 classes, with ties.
const float kPred1[] = {0.1f, 0.4f, 0.4f, 0.1f, 2.f, -1.f,
                        0.5f, 2.f,  0.f,  0.f,  0.f, 0.f};
const int32_t kLabels1[] = {2, 0, 3};
const float kPred2[] = {0.3f, 0.2f, 0.25f, 0.25f, -1.f, -2.f, -0.5f, -3.f};
const int32_t kLabels2[] = {1, 2};

double accumulate(const MetricSpec &spec, int64_t units) {
  MeanMetric mean;
  mean.add(metricBatchSum(spec, {3, 1, units}, kPred1, nullptr, kLabels1), 3);
  mean.add(metricBatchSum(spec, {2, 1, units}, kPred2, nullptr, kLabels2), 2);
  return mean.result();
}

// Keras: SparseCategoricalAccuracy gives 0.333333343 after the first batch
// and 0.400000006 after both (argmax takes the first of tied maxima).
TEST(MetricsTest, SparseAccuracyMatchesKeras) {
  MetricSpec spec{MetricKind::SparseCategoricalAccuracy};
  EXPECT_NEAR(metricBatchSum(spec, {3, 1, 4}, kPred1, nullptr, kLabels1) / 3,
              0.333333343, 1e-7);
  EXPECT_NEAR(accumulate(spec, 4), 0.400000006, 1e-7);
}

// Keras: SparseTopKCategoricalAccuracy(k) gives 1 after the first batch and
// 0.800000012 after both for k = 1, 2, 3 (ties count in the label's
// favour; the first example of batch two ranks 4th).
TEST(MetricsTest, TopKAccuracyMatchesKeras) {
  for (int64_t k : {1, 2, 3}) {
    MetricSpec spec{MetricKind::SparseTopKAccuracy, k};
    EXPECT_EQ(metricBatchSum(spec, {3, 1, 4}, kPred1, nullptr, kLabels1), 3.0)
        << k;
    EXPECT_NEAR(accumulate(spec, 4), 0.800000012, 1e-7) << k;
  }
  MetricSpec four{MetricKind::SparseTopKAccuracy, 4};
  EXPECT_EQ(accumulate(four, 4), 1.0);
  // k beyond the classes: every valid label is in.
  MetricSpec many{MetricKind::SparseTopKAccuracy, 100};
  EXPECT_EQ(accumulate(many, 4), 1.0);
}

// Keras: CategoricalAccuracy on the one-hot labels gives 0.400000006.
TEST(MetricsTest, CategoricalAccuracyMatchesKeras) {
  std::vector<float> oneHot1(12, 0.f), oneHot2(8, 0.f);
  for (int i = 0; i < 3; ++i)
    oneHot1[size_t(i * 4 + kLabels1[i])] = 1.f;
  for (int i = 0; i < 2; ++i)
    oneHot2[size_t(i * 4 + kLabels2[i])] = 1.f;
  MetricSpec spec{MetricKind::CategoricalAccuracy};
  MeanMetric mean;
  mean.add(metricBatchSum(spec, {3, 1, 4}, kPred1, oneHot1.data(), nullptr), 3);
  mean.add(metricBatchSum(spec, {2, 1, 4}, kPred2, oneHot2.data(), nullptr), 2);
  EXPECT_NEAR(mean.result(), 0.400000006, 1e-7);
}

// Keras: BinaryAccuracy gives 0.714285731 (0.5 itself is not above the
// threshold).
TEST(MetricsTest, BinaryAccuracyMatchesKeras) {
  const float pred1[] = {0.98f, 1.f, 0.f, 0.6f, 0.5f};
  const float true1[] = {1.f, 1.f, 0.f, 0.f, 1.f};
  const float pred2[] = {0.2f, 0.51f};
  const float true2[] = {0.f, 1.f};
  MetricSpec spec{MetricKind::BinaryAccuracy};
  MeanMetric mean;
  mean.add(metricBatchSum(spec, {5, 1, 1}, pred1, true1, nullptr), 5);
  mean.add(metricBatchSum(spec, {2, 1, 1}, pred2, true2, nullptr), 2);
  EXPECT_NEAR(mean.result(), 0.714285731, 1e-7);
}

TEST(MetricsTest, BinaryAccuracyOnLogitsAndImages) {
  // Logits: sigmoid(z) > 0.5 exactly when z > 0.
  EXPECT_EQ(binaryAccuracyThreshold(false), 0.5);
  EXPECT_EQ(binaryAccuracyThreshold(true), 0.0);
  const float logits[] = {-2.f, 0.3f, 0.f, 4.f};
  const float labels[] = {0.f, 1.f, 1.f, 0.f};
  MetricSpec spec{MetricKind::BinaryAccuracy, 5, binaryAccuracyThreshold(true)};
  EXPECT_EQ(metricBatchSum(spec, {4, 1, 1}, logits, labels, nullptr), 2.0);
  // An autoencoder's [2, 2, 1] image output: per-example means over pixels.
  const float image[] = {0.9f, 0.1f, 0.7f, 0.2f, /**/ 0.6f, 0.6f, 0.6f, 0.6f};
  const float clean[] = {1.f, 0.f, 0.f, 0.f, /**/ 1.f, 1.f, 1.f, 0.f};
  MetricSpec probabilities{MetricKind::BinaryAccuracy};
  EXPECT_DOUBLE_EQ(
      metricBatchSum(probabilities, {2, 4, 1}, image, clean, nullptr),
      0.75 + 0.75);
}

// Keras: MeanSquaredError 1.5805043 and MeanAbsoluteError 1.0318352 over a
// batch of 2 and one of 1 example, each [2, 3].
TEST(MetricsTest, MseAndMaeMatchKeras) {
  const float pred1[] = {0.00123015337f, 0.298745543f,  -0.274137855f,
                         -0.89059186f,   -0.454670787f, -0.991646528f,
                         0.0601436011f,  1.34021521f,   -0.492206514f,
                         -0.620474875f,  0.489842057f,  0.356887013f};
  const float true1[] = {0.105414249f,  -0.930468023f, -0.0292518232f,
                         0.695303202f,  -1.34421456f,  -0.457615763f,
                         -1.90122271f,  -1.28953779f,  -1.84173501f,
                         -0.235091135f, -1.26744652f,  0.271264344f};
  const float pred2[] = {0.156751081f,  -0.18693094f,   -2.51675963f,
                         -0.538692892f, -0.0485009439f, 0.113308989f};
  const float true2[] = {-1.53013575f,  -0.477753282f, -0.978519082f,
                         -0.808837235f, 1.06089866f,   -0.807534695f};
  for (auto [kind, expected] :
       {std::pair{MetricKind::MeanSquaredError, 1.5805043},
        std::pair{MetricKind::MeanAbsoluteError, 1.0318352}}) {
    MetricSpec spec{kind};
    MeanMetric mean;
    mean.add(metricBatchSum(spec, {2, 2, 3}, pred1, true1, nullptr), 2);
    mean.add(metricBatchSum(spec, {1, 2, 3}, pred2, true2, nullptr), 1);
    EXPECT_NEAR(mean.result(), expected, 1e-6);
  }
}

TEST(MetricsTest, MseAndMaeByHand) {
  const double pred[] = {1, 2, 3, 4};
  const double target[] = {1, 0, 0, 4};
  // Two examples of 2 units: (0 + 4) / 2 + (9 + 0) / 2.
  EXPECT_EQ(metricBatchSum({MetricKind::MeanSquaredError}, {2, 1, 2}, pred,
                           target, nullptr),
            6.5);
  EXPECT_EQ(metricBatchSum({MetricKind::MeanAbsoluteError}, {2, 1, 2}, pred,
                           target, nullptr),
            2.5);
  // One example of 4 values.
  EXPECT_EQ(metricBatchSum({MetricKind::MeanSquaredError}, {1, 2, 2}, pred,
                           target, nullptr),
            13.0 / 4);
}

// Keras: SparseCategoricalAccuracy over [B, 4] labels of [B, 4, 5] outputs
// (batches of 2 and 1) gives 0.583333313.
TEST(MetricsTest, SequenceSparseAccuracyMatchesKeras) {
  const float pred[] = {
      -0.0325217061f, 0.884389877f,   -0.583600461f,   -0.11170195f,
      0.110464141f,   0.0637817755f,  -1.22505581f,    0.0761402324f,
      1.35882342f,    -1.54714465f,   0.859382689f,    0.119354025f,
      -0.641470373f,  2.00041652f,    0.762259722f,    -1.19928885f,
      0.0745162293f,  0.576689601f,   -0.188782126f,   0.682910264f,
      -0.0665173233f, 0.667247534f,   1.43852258f,     -0.675662279f,
      0.203138605f,   -0.463307589f,  0.127268419f,    -1.18719459f,
      -0.579301596f,  -0.196195975f,  0.898763895f,    1.14522195f,
      -1.32352781f,   -0.794642389f,  0.646903396f,    -1.99241984f,
      -0.463169873f,  -0.0972869247f, 1.25701499f,     0.689403892f,
      -0.327213407f,  -0.368575901f,  -0.250195414f,   1.52352941f,
      -0.428024948f,  -0.30368039f,   0.352589071f,    -0.120770447f,
      -0.197284222f,  -1.1140672f,    -0.0115214679f,  -0.443581223f,
      1.1661278f,     0.65308851f,    -0.0241436139f,  0.668381035f,
      -0.339869559f,  1.05212641f,    -0.00539956056f, 0.583382368f};
  const int32_t labels[] = {1, 3, 3, 4, 2, 1, 2, 4, 0, 3, 3, 2};
  MetricSpec spec{MetricKind::SparseCategoricalAccuracy};
  MeanMetric mean;
  mean.add(metricBatchSum(spec, {2, 4, 5}, pred, nullptr, labels), 2);
  mean.add(metricBatchSum(spec, {1, 4, 5}, pred + 40, nullptr, labels + 8), 1);
  EXPECT_NEAR(mean.result(), 0.583333313, 1e-7);
}

TEST(MetricsTest, NanAndOutOfRangeLabels) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // numpy's argmax returns the first NaN.
  const double pred[] = {5.0, nan, 7.0, /**/ 1.0, 2.0, 3.0};
  const int32_t hitNan[] = {1, 2};
  MetricSpec accuracy{MetricKind::SparseCategoricalAccuracy};
  EXPECT_EQ(metricBatchSum(accuracy, {2, 1, 3}, pred, nullptr, hitNan), 2.0);
  // Top-1: the NaN is never greater, so label 2 (7.0) ranks first; a NaN at
  // the label ranks last.
  MetricSpec top1{MetricKind::SparseTopKAccuracy, 1};
  const int32_t seven[] = {2, 2};
  EXPECT_EQ(metricBatchSum(top1, {2, 1, 3}, pred, nullptr, seven), 2.0);
  const int32_t atNan[] = {1, 0};
  MetricSpec top2{MetricKind::SparseTopKAccuracy, 2};
  EXPECT_EQ(metricBatchSum(top2, {1, 1, 3}, pred, nullptr, atNan), 0.0);
  MetricSpec top3{MetricKind::SparseTopKAccuracy, 3};
  EXPECT_EQ(metricBatchSum(top3, {1, 1, 3}, pred, nullptr, atNan), 1.0);
  // Labels outside [0, units) never match.
  const int32_t bad[] = {-1, 3};
  EXPECT_EQ(metricBatchSum(accuracy, {2, 1, 3}, pred, nullptr, bad), 0.0);
  EXPECT_EQ(metricBatchSum(top3, {2, 1, 3}, pred, nullptr, bad), 0.0);
}

TEST(MetricsTest, InvalidArgumentsGiveNan) {
  const float pred[] = {1.f, 2.f};
  const int32_t labels[] = {1};
  MetricSpec accuracy{MetricKind::SparseCategoricalAccuracy};
  MetricSpec mse{MetricKind::MeanSquaredError};
  EXPECT_TRUE(
      std::isnan(metricBatchSum(accuracy, {1, 1, 2}, pred, nullptr, nullptr)));
  EXPECT_TRUE(
      std::isnan(metricBatchSum(mse, {1, 1, 2}, pred, nullptr, labels)));
  EXPECT_TRUE(std::isnan(metricBatchSum(accuracy, {1, 1, 2},
                                        static_cast<const float *>(nullptr),
                                        nullptr, labels)));
  EXPECT_TRUE(
      std::isnan(metricBatchSum(accuracy, {-1, 1, 2}, pred, nullptr, labels)));
  EXPECT_TRUE(
      std::isnan(metricBatchSum(accuracy, {1, 0, 2}, pred, nullptr, labels)));
  EXPECT_TRUE(
      std::isnan(metricBatchSum(accuracy, {1, 1, 0}, pred, nullptr, labels)));
  const int64_t huge = std::numeric_limits<int64_t>::max() / 2;
  EXPECT_TRUE(std::isnan(
      metricBatchSum(accuracy, {huge, huge, 2}, pred, nullptr, labels)));
  MetricSpec top0{MetricKind::SparseTopKAccuracy, 0};
  EXPECT_TRUE(
      std::isnan(metricBatchSum(top0, {1, 1, 2}, pred, nullptr, labels)));
  // An empty batch adds nothing.
  EXPECT_EQ(metricBatchSum(accuracy, {0, 1, 2}, pred, nullptr, labels), 0.0);
}

TEST(MetricsTest, AccuracyKindFollowsKeras) {
  EXPECT_EQ(accuracyKindFor("binary_crossentropy", 1),
            MetricKind::BinaryAccuracy);
  EXPECT_EQ(accuracyKindFor("mse", 1), MetricKind::BinaryAccuracy);
  EXPECT_EQ(accuracyKindFor("sparse_categorical_crossentropy", 10),
            MetricKind::SparseCategoricalAccuracy);
  EXPECT_EQ(accuracyKindFor("categorical_crossentropy", 10),
            MetricKind::CategoricalAccuracy);
  EXPECT_EQ(accuracyKindFor("mse", 10), MetricKind::CategoricalAccuracy);
}

// Keras: Mean with update_state(0.5, sample_weight=64) and (0.25,
// sample_weight=16) gives 0.449999988, as the loss tracker weights it.
TEST(MetricsTest, MeanMetricWeightsByExamples) {
  MeanMetric loss;
  EXPECT_EQ(loss.result(), 0.0);
  loss.addMean(0.5, 64);
  loss.addMean(0.25, 16);
  loss.addMean(123.0, 0); // an empty batch adds nothing
  EXPECT_NEAR(loss.result(), 0.449999988, 1e-7);
  MeanMetric copy;
  copy.restore(loss.total(), loss.count());
  EXPECT_EQ(copy.result(), loss.result());
  loss.reset();
  EXPECT_EQ(loss.result(), 0.0);
  EXPECT_EQ(loss.count(), 0.0);
}

//===----------------------------------------------------------------------===//
// Early stopping
//===----------------------------------------------------------------------===//

struct StopCase {
  const char *monitor;
  EarlyStoppingOptions options;
  std::vector<double> values;
  int64_t stopEpoch; ///< -1: never stops
  int64_t bestEpoch;
  double best;
  int64_t wait;
};

/// Runs `c` through an EarlyStopping until it stops.
EarlyStopping runCase(const StopCase &c, int64_t &stoppedAt) {
  EarlyStopping callback(c.options);
  stoppedAt = -1;
  for (size_t e = 0; e < c.values.size(); ++e)
    if (callback.onEpochEnd(int64_t(e), c.values[e])) {
      stoppedAt = int64_t(e);
      break;
    }
  return callback;
}

EarlyStoppingOptions options(int64_t patience, MonitorMode mode,
                             double minDelta = 0, bool restoreBest = false) {
  return {patience, mode, minDelta, restoreBest};
}

// Each row as Keras's EarlyStopping ends it (stop epoch, best_epoch, best,
// wait).
TEST(EarlyStoppingTest, MatchesKeras) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const MonitorMode min = MonitorMode::Min, max = MonitorMode::Max;
  const std::vector<StopCase> cases = {
      {"val_loss",
       options(3, min),
       {1.0, 0.9, 0.95, 0.91, 0.92, 0.5},
       4,
       1,
       0.9,
       3},
      {"val_loss",
       options(3, min),
       {1.0, 0.9, 0.95, 0.91, 0.89, 0.9, 0.9, 0.9, 0.1},
       7,
       4,
       0.89,
       3},
      {"val_loss", options(0, min), {1.0, 1.0, 0.5}, 1, 0, 1.0, 1},
      {"val_loss",
       options(1, min, 0.1),
       {1.0, 0.95, 0.85, 0.8, 0.79},
       1,
       0,
       1.0,
       1},
      // A negative min_delta counts by its absolute value.
      {"val_loss",
       options(2, min, -0.1),
       {1.0, 0.95, 0.92, 0.91, 0.9},
       2,
       0,
       1.0,
       2},
      {"val_accuracy",
       options(2, max, 0, true),
       {0.5, 0.7, 0.69, 0.71, 0.70, 0.70, 0.9},
       5,
       3,
       0.71,
       2},
      {"accuracy",
       options(2, max, 0.05),
       {0.5, 0.54, 0.56, 0.57, 0.6},
       4,
       2,
       0.56,
       2},
      {"loss", options(2, min), {1.0, nan, nan, 0.3}, 2, 0, 1.0, 2},
      {"val_loss", options(5, min, 0, true), {3, 2, 1, 2, 3}, -1, 2, 1, 2},
  };
  for (const StopCase &c : cases) {
    ASSERT_EQ(monitorModeFor(c.monitor), c.options.mode) << c.monitor;
    int64_t stoppedAt = 0;
    EarlyStopping callback = runCase(c, stoppedAt);
    EXPECT_EQ(stoppedAt, c.stopEpoch) << c.values.size() << " " << c.wait;
    EXPECT_EQ(callback.stoppedEpoch(), c.stopEpoch < 0 ? 0 : c.stopEpoch);
    EXPECT_EQ(callback.bestEpoch(), c.bestEpoch);
    EXPECT_EQ(callback.best(), c.best);
    EXPECT_EQ(callback.wait(), c.wait);
    EXPECT_EQ(callback.shouldRestoreBest(), c.options.restoreBest);
  }
}

// Keras: a NaN first value becomes the best and nothing improves on it
// (stops at epoch 2 with patience 2, best_epoch 0).
TEST(EarlyStoppingTest, NanFirstValueStaysBest) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EarlyStopping callback(options(2, MonitorMode::Min));
  EXPECT_FALSE(callback.onEpochEnd(0, nan));
  EXPECT_FALSE(callback.onEpochEnd(1, 0.5));
  EXPECT_TRUE(callback.onEpochEnd(2, 0.4));
  EXPECT_TRUE(std::isnan(callback.best()));
  EXPECT_EQ(callback.bestEpoch(), 0);
}

TEST(EarlyStoppingTest, SaysWhenToSaveWeights) {
  EarlyStopping callback(options(3, MonitorMode::Max, 0, true));
  const double values[] = {0.5, 0.6, 0.55, 0.7, 0.7};
  const bool save[] = {true, true, false, true, false};
  for (int e = 0; e < 5; ++e) {
    callback.onEpochEnd(e, values[e]);
    EXPECT_EQ(callback.shouldSaveWeights(), save[e]) << e;
  }
  EarlyStopping noRestore(options(3, MonitorMode::Max));
  noRestore.onEpochEnd(0, 0.5);
  EXPECT_FALSE(noRestore.shouldSaveWeights());
  EXPECT_FALSE(noRestore.shouldRestoreBest());
  EarlyStopping fresh(options(3, MonitorMode::Max, 0, true));
  EXPECT_FALSE(fresh.shouldRestoreBest());
}

TEST(EarlyStoppingTest, MonitorModes) {
  EXPECT_EQ(monitorModeFor("val_loss"), MonitorMode::Min);
  EXPECT_EQ(monitorModeFor("loss"), MonitorMode::Min);
  EXPECT_EQ(monitorModeFor("val_mse"), MonitorMode::Min);
  EXPECT_EQ(monitorModeFor("mae"), MonitorMode::Min);
  EXPECT_EQ(monitorModeFor("accuracy"), MonitorMode::Max);
  EXPECT_EQ(monitorModeFor("val_accuracy"), MonitorMode::Max);
  EXPECT_EQ(monitorModeFor("val_top_k_accuracy"), MonitorMode::Max);
  EXPECT_EQ(monitorModeFor("val_"), std::nullopt);
  EXPECT_EQ(monitorModeFor("lossy"), std::nullopt);
  EXPECT_EQ(monitorModeFor(""), std::nullopt);
}

// Interrupted after every epoch and resumed from state(): the same stop as
// an uninterrupted run.
TEST(EarlyStoppingTest, ResumesFromState) {
  const std::vector<double> values = {1.0, 0.9, 0.95, 0.91, 0.89,
                                      0.9, 0.9, 0.9,  0.1};
  EarlyStoppingOptions opts = options(3, MonitorMode::Min, 0, true);
  EarlyStopping::State state = EarlyStopping(opts).state();
  int64_t stoppedAt = -1;
  for (size_t e = 0; e < values.size(); ++e) {
    EarlyStopping callback(opts);
    ASSERT_TRUE(callback.restore(state));
    bool stop = callback.onEpochEnd(int64_t(e), values[e]);
    state = callback.state();
    if (stop) {
      stoppedAt = int64_t(e);
      EXPECT_EQ(callback.bestEpoch(), 4);
      EXPECT_EQ(callback.best(), 0.89);
      break;
    }
  }
  EXPECT_EQ(stoppedAt, 7);
}

TEST(EarlyStoppingTest, RejectsBadState) {
  EarlyStopping callback(options(3, MonitorMode::Min));
  callback.onEpochEnd(0, 1.0);
  callback.onEpochEnd(1, 2.0);
  EarlyStopping::State good = callback.state();
  EXPECT_EQ(good[0], 1.0);
  EXPECT_EQ(good[4], 1.0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (auto [index, value] :
       {std::pair{0, -1.0}, std::pair{0, 1.5}, std::pair{0, nan},
        std::pair{2, 1e300}, std::pair{3, -2.0}, std::pair{4, 0.5},
        std::pair{4, 2.0}}) {
    EarlyStopping::State bad = good;
    bad[size_t(index)] = value;
    EarlyStopping target(options(3, MonitorMode::Min));
    EXPECT_FALSE(target.restore(bad)) << index << " " << value;
    EXPECT_FALSE(target.hasBest());
    EXPECT_EQ(target.wait(), 0);
  }
  EarlyStopping target(options(3, MonitorMode::Min));
  EXPECT_TRUE(target.restore(good));
  EXPECT_EQ(target.state(), good);
}

} // namespace
