//===- TrainingLoopTest.cpp - train, eval, predict and bench end to end ---===//
//
// Drives the generated program's commands through their library entry
// points (runTraining, runEvaluation, runPrediction, runBench) with a
// hand-written CompiledModel: softmax regression on 4x4 images in plain
// C++ (T = double or float), trained by SGD with momentum (one optimizer
// slot per weight, so checkpoints must carry optimizer state), on synthetic
// IDX/NPY files in a temporary folder.
//
//===----------------------------------------------------------------------===//
#include "runtime/TrainingLoop.h"
#include "runtime/BatchStream.h"
#include "runtime/Bench.h"
#include "runtime/Evaluation.h"
#include "runtime/ExampleFile.h"
#include "runtime/ModelState.h"
#include "runtime/Philox.h"
#include "runtime/Predict.h"
#include "runtime/Safetensors.h"
#include "runtime/WeightFile.h"

#include "TempDirTest.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <zlib.h>

using namespace dlc::rt;
using dlc::testing::TempDirTest;

namespace {

constexpr int64_t kSide = 4;
constexpr int64_t kFeatures = kSide * kSide;
constexpr int64_t kClasses = 3;

/// Softmax regression y = softmax(x W + b) with sparse crossentropy from
/// logits, and Keras SGD with momentum 0.9 (slots "<param>.momentum").
template <typename T> class SoftmaxModel : public CompiledModel {
public:
  explicit SoftmaxModel(int64_t maxBatch = 16) {
    spec_.modelName = "softmax";
    spec_.dlcVersion = "test";
    spec_.maxBatch = maxBatch;
    spec_.elementBytes = sizeof(T);
    DType real = sizeof(T) == 8 ? DType::F64 : DType::F32;
    spec_.inputs = {{"image", real, {kSide, kSide, 1}}};
    spec_.outputs = {{"logits", real, {kClasses}}};
    spec_.targets = {{{"label", DType::I32, {}}, -1}};
    size_t at = 0;
    auto add = [&](const std::string &name, std::vector<int64_t> shape,
                   const std::string &init, bool trainable, bool slot) {
      ParameterSpec p;
      p.name = name;
      p.dtype = real;
      p.shape = shape;
      p.init = init;
      p.fanIn = kFeatures;
      p.fanOut = kClasses;
      p.trainable = trainable;
      p.optimizerState = slot;
      p.offset = at;
      int64_t elements = 1;
      for (int64_t d : shape)
        elements *= d;
      at += size_t(elements) * sizeof(T);
      at = (at + 63) / 64 * 64;
      spec_.parameters.push_back(p);
    };
    add("dense.kernel", {kFeatures, kClasses}, "glorot_uniform", true, false);
    add("dense.bias", {kClasses}, "zeros", true, false);
    add("dense.kernel.momentum", {kFeatures, kClasses}, "zeros", false, true);
    add("dense.bias.momentum", {kClasses}, "zeros", false, true);
    spec_.persistentBytes = at;
    inputOffset_ = at;
    at += size_t(maxBatch * kFeatures) * sizeof(T);
    targetOffset_ = at;
    at += size_t(maxBatch) * 4;
    at = (at + 63) / 64 * 64;
    outputOffset_ = at;
    at += size_t(maxBatch * kClasses) * sizeof(T);
    gradOffset_ = at;
    at += size_t(kFeatures * kClasses + kClasses) * sizeof(T);
    spec_.arenaBytes = at;
  }

  const ModelSpec &spec() const override { return spec_; }
  void bind(unsigned char *arena) override { arena_ = arena; }
  void setThreads(int threads) override { threads_ = threads; }
  void *inputBuffer(size_t) override { return arena_ + inputOffset_; }
  void *targetBuffer(size_t) override { return arena_ + targetOffset_; }
  const void *outputBuffer(size_t) const override {
    return arena_ + outputOffset_;
  }
  const void *gradientBuffer(size_t p) const override {
    if (p == 0)
      return arena_ + gradOffset_;
    if (p == 1)
      return arena_ + gradOffset_ + kFeatures * kClasses * sizeof(T);
    return nullptr;
  }

  double trainStep(int64_t n, const StepContext &context) override {
    batchSizes.push_back(n);
    contexts.push_back(context);
    double loss = gradients(n, context);
    T *w = param(0), *b = param(1), *vw = param(2), *vb = param(3);
    const T *gw = grad(0), *gb = grad(1);
    T lr = T(context.lr), momentum = T(0.9);
    for (int64_t i = 0; i < kFeatures * kClasses; ++i) {
      vw[i] = momentum * vw[i] - lr * gw[i];
      w[i] += vw[i];
    }
    for (int64_t c = 0; c < kClasses; ++c) {
      vb[c] = momentum * vb[c] - lr * gb[c];
      b[c] += vb[c];
    }
    return loss;
  }

  double gradients(int64_t n, const StepContext &) override {
    double loss = forward(n);
    T *gw = grad(0), *gb = grad(1);
    std::fill(gw, gw + kFeatures * kClasses, T(0));
    std::fill(gb, gb + kClasses, T(0));
    const T *x = input();
    for (int64_t e = 0; e < n; ++e) {
      T probs[kClasses];
      softmax(output() + e * kClasses, probs);
      probs[label()[e]] -= T(1);
      for (int64_t c = 0; c < kClasses; ++c) {
        T d = probs[c] / T(n);
        gb[c] += d;
        for (int64_t f = 0; f < kFeatures; ++f)
          gw[f * kClasses + c] += x[e * kFeatures + f] * d;
      }
    }
    return loss;
  }

  double evaluate(int64_t n) override {
    ++evaluateCalls;
    return forward(n);
  }
  void predict(int64_t n) override { logits(n); }

  std::vector<int64_t> batchSizes;
  std::vector<StepContext> contexts;
  int evaluateCalls = 0;
  int threads_ = 0;

private:
  T *param(size_t i) {
    return reinterpret_cast<T *>(arena_ + spec_.parameters[i].offset);
  }
  T *grad(size_t i) {
    return reinterpret_cast<T *>(const_cast<void *>(gradientBuffer(i)));
  }
  T *input() { return reinterpret_cast<T *>(arena_ + inputOffset_); }
  int32_t *label() {
    return reinterpret_cast<int32_t *>(arena_ + targetOffset_);
  }
  T *output() { return reinterpret_cast<T *>(arena_ + outputOffset_); }

  static void softmax(const T *z, T *p) {
    T largest = z[0];
    for (int64_t c = 1; c < kClasses; ++c)
      largest = std::max(largest, z[c]);
    T sum = 0;
    for (int64_t c = 0; c < kClasses; ++c)
      sum += p[c] = std::exp(z[c] - largest);
    for (int64_t c = 0; c < kClasses; ++c)
      p[c] /= sum;
  }

  void logits(int64_t n) {
    const T *x = input(), *w = param(0), *b = param(1);
    T *y = output();
    for (int64_t e = 0; e < n; ++e)
      for (int64_t c = 0; c < kClasses; ++c) {
        T z = b[c];
        for (int64_t f = 0; f < kFeatures; ++f)
          z += x[e * kFeatures + f] * w[f * kClasses + c];
        y[e * kClasses + c] = z;
      }
  }

  double forward(int64_t n) {
    logits(n);
    double loss = 0;
    for (int64_t e = 0; e < n; ++e) {
      T probs[kClasses];
      softmax(output() + e * kClasses, probs);
      loss -= std::log(std::max(double(probs[label()[e]]), 1e-300));
    }
    return loss / double(n);
  }

  ModelSpec spec_;
  unsigned char *arena_ = nullptr;
  size_t inputOffset_ = 0, targetOffset_ = 0, outputOffset_ = 0,
         gradOffset_ = 0;
};

/// Image `i` of class `label`: a bright row (the class) over noise.
std::vector<uint8_t> syntheticImages(int64_t count, uint64_t seed,
                                     std::vector<uint8_t> &labels) {
  PhiloxStream random(seed, 7);
  std::vector<uint8_t> pixels(size_t(count * kFeatures));
  labels.resize(size_t(count));
  for (int64_t i = 0; i < count; ++i) {
    int label = int(random.at(uint64_t(i) * 100) % kClasses);
    labels[i] = uint8_t(label);
    for (int64_t p = 0; p < kFeatures; ++p) {
      uint32_t noise = random.at(uint64_t(i) * 100 + 1 + p) % 90;
      bool bright = p / kSide == label;
      pixels[i * kFeatures + p] = uint8_t(bright ? 160 + noise : noise);
    }
  }
  return pixels;
}

void putBigEndian(std::string &out, uint32_t v) {
  out += char(v >> 24);
  out += char(v >> 16);
  out += char(v >> 8);
  out += char(v);
}

void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream file(path, std::ios::binary);
  file.write(bytes.data(), std::streamsize(bytes.size()));
}

void writeGzip(const std::string &path, const std::string &bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  gzwrite(file, bytes.data(), unsigned(bytes.size()));
  gzclose(file);
}

/// Writes `prefix`-images-idx3-ubyte and -labels-idx1-ubyte (gzip when
/// asked) of `count` synthetic examples.
void writeIdxPair(const std::string &dir, const std::string &prefix,
                  int64_t count, uint64_t seed, bool gzip) {
  std::vector<uint8_t> labels;
  std::vector<uint8_t> pixels = syntheticImages(count, seed, labels);
  std::string images, labelBytes;
  putBigEndian(images, 0x803);
  putBigEndian(images, uint32_t(count));
  putBigEndian(images, kSide);
  putBigEndian(images, kSide);
  images.append(pixels.begin(), pixels.end());
  putBigEndian(labelBytes, 0x801);
  putBigEndian(labelBytes, uint32_t(count));
  labelBytes.append(labels.begin(), labels.end());
  std::string imagesPath = dir + "/" + prefix + "-images-idx3-ubyte";
  std::string labelsPath = dir + "/" + prefix + "-labels-idx1-ubyte";
  if (gzip) {
    writeGzip(imagesPath + ".gz", images);
    writeGzip(labelsPath + ".gz", labelBytes);
  } else {
    writeBytes(imagesPath, images);
    writeBytes(labelsPath, labelBytes);
  }
}

/// A .npy file of float32 values of `shape`.
void writeNpy(const std::string &path, const std::vector<int64_t> &shape,
              const std::vector<float> &values) {
  std::string shapeText = "(";
  for (int64_t d : shape)
    shapeText += std::to_string(d) + ", ";
  shapeText += ")";
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shapeText + ", }";
  while ((10 + header.size() + 1) % 64 != 0)
    header += ' ';
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += char(1);
  bytes += char(0);
  bytes += char(header.size() & 0xff);
  bytes += char(header.size() >> 8);
  bytes += header;
  bytes.append(reinterpret_cast<const char *>(values.data()),
               values.size() * sizeof(float));
  writeBytes(path, bytes);
}

class TrainingLoopTest : public TempDirTest {
protected:
  void SetUp() override {
    TempDirTest::SetUp();
    data_ = path("data");
    std::filesystem::create_directories(data_);
    writeIdxPair(data_, "train", 150, 1, /*gzip=*/true);
    writeIdxPair(data_, "t10k", 60, 2, /*gzip=*/false);

    settings_.present = true;
    settings_.data = DataSource();
    settings_.data->kind = DataSource::Kind::Idx;
    settings_.data->path = data_;
    settings_.epochs = 4;
    settings_.batchSize = 16;
    settings_.seed = 7;
    settings_.optimizer.kind = "sgd";
    settings_.optimizer.lr = 0.1;
    settings_.optimizer.momentum = 0.9;
    LossSettings loss;
    loss.name = "sparse_categorical_crossentropy";
    loss.fromLogits = true;
    settings_.losses = {loss};
    MetricSetting accuracy;
    accuracy.name = "accuracy";
    accuracy.spec.kind = MetricKind::SparseCategoricalAccuracy;
    settings_.metrics = {{accuracy}};

    options_.command = ProgramOptions::Command::Train;
    // Final weights go under the test's folder, never the working one.
    options_.checkpointDir = path("default");
    options_.epochs = 4;
    options_.batchSize = 16;
    options_.lr = 0.1;
    options_.seed = 7;
    options_.data = "";
    options_.threads = 1;
    options_.topK = 2;
    options_.benchSteps = 3;
    options_.benchWarmup = 1;

    env_.out = &out_;
    env_.err = &err_;
  }

  /// Trains a fresh model; returns its final parameters.
  std::vector<unsigned char> train(SoftmaxModel<double> &model,
                                   const ProgramOptions &options,
                                   TrainResult &result, bool expectOk = true) {
    ModelState state;
    std::string error;
    EXPECT_TRUE(state.init(model, error)) << error;
    bool ok = runTraining(state, settings_, options, env_, result, error);
    EXPECT_EQ(ok, expectOk) << error;
    lastError_ = error;
    return state.snapshot();
  }

  const NamedValue *value(const EpochRecord &record, const std::string &name) {
    for (const NamedValue &v : record.values)
      if (v.name == name)
        return &v;
    return nullptr;
  }

  std::string data_;
  TrainSettings settings_;
  ProgramOptions options_;
  RunEnvironment env_;
  std::ostringstream out_, err_;
  std::string lastError_;
};

TEST_F(TrainingLoopTest, LossFallsAndAccuracyRises) {
  SoftmaxModel<double> model;
  TrainResult result;
  options_.checkpointDir = path("ckpt");
  train(model, options_, result);
  ASSERT_EQ(result.history.size(), 4u);
  const NamedValue *firstLoss = value(result.history.front(), "loss");
  const NamedValue *lastLoss = value(result.history.back(), "loss");
  const NamedValue *firstAcc = value(result.history.front(), "accuracy");
  const NamedValue *lastAcc = value(result.history.back(), "accuracy");
  ASSERT_TRUE(firstLoss && lastLoss && firstAcc && lastAcc);
  EXPECT_LT(lastLoss->value, firstLoss->value * 0.5);
  EXPECT_GT(lastAcc->value, firstAcc->value);
  EXPECT_GT(lastAcc->value, 0.95);
  // The test split is evaluated at the end, and the weights written.
  ASSERT_TRUE(result.tested);
  EXPECT_EQ(result.test[0].name, "loss");
  EXPECT_GT(result.test[1].value, 0.9);
  EXPECT_EQ(result.weightsPath, path("ckpt") + "/final.safetensors");
  EXPECT_TRUE(isRegularFile(result.weightsPath));
  std::string printed = out_.str();
  EXPECT_NE(printed.find("Epoch 1/4"), std::string::npos) << printed;
  EXPECT_NE(printed.find("10/10"), std::string::npos) << printed;
  EXPECT_NE(printed.find("test loss: "), std::string::npos) << printed;
  EXPECT_NE(printed.find(" - test accuracy: "), std::string::npos);
  // Without `validation`, like Keras's fit(): no val_ metrics (the test
  // split is scored once, at the end).
  EXPECT_EQ(value(result.history.back(), "val_accuracy"), nullptr);
  EXPECT_EQ(printed.find("val_loss"), std::string::npos) << printed;
  // The step context: global step, seed, constant lr.
  ASSERT_EQ(model.contexts.size(), 40u);
  EXPECT_EQ(model.contexts[13].step, 13);
  EXPECT_EQ(model.contexts[13].seed, 7u);
  EXPECT_DOUBLE_EQ(model.contexts[13].lr, 0.1);
}

TEST_F(TrainingLoopTest, LastPartialBatchRunsWithFewerExamples) {
  SoftmaxModel<double> model;
  TrainResult result;
  options_.epochs = 1;
  train(model, options_, result);
  // 150 examples in batches of 16: 9 full batches and one of 6.
  ASSERT_EQ(model.batchSizes.size(), 10u);
  for (size_t i = 0; i < 9; ++i)
    EXPECT_EQ(model.batchSizes[i], 16);
  EXPECT_EQ(model.batchSizes[9], 6);
}

TEST_F(TrainingLoopTest, ValidationSplitHoldsOutTheTail) {
  settings_.validation.fraction = 0.2;
  SoftmaxModel<double> model;
  TrainResult result;
  options_.epochs = 2;
  train(model, options_, result);
  // 150 - 30 held out = 120 = 8 batches per epoch.
  EXPECT_EQ(model.batchSizes.size(), 16u);
  ASSERT_EQ(result.history.size(), 2u);
  EXPECT_NE(value(result.history[0], "val_loss"), nullptr);
  EXPECT_NE(value(result.history[0], "val_accuracy"), nullptr);
  EXPECT_NE(out_.str().find("val_loss: "), std::string::npos);
}

TEST_F(TrainingLoopTest, ResumeGivesBitIdenticalWeights) {
  options_.checkpointDir = path("full");
  SoftmaxModel<double> full;
  TrainResult fullResult;
  std::vector<unsigned char> expected = train(full, options_, fullResult);

  // Interrupted mid-epoch 2 (step 13 of 40), then resumed in a new process
  // (a new model and arena).
  ProgramOptions options = options_;
  options.checkpointDir = path("split");
  env_.stopAfterSteps = 13;
  SoftmaxModel<double> first;
  TrainResult firstResult;
  train(first, options, firstResult);
  EXPECT_TRUE(firstResult.interrupted);
  EXPECT_EQ(first.contexts.size(), 13u);
  EXPECT_NE(err_.str().find("train --resume"), std::string::npos);

  env_.stopAfterSteps = -1;
  options.resume = true;
  SoftmaxModel<double> second;
  TrainResult secondResult;
  std::vector<unsigned char> resumed = train(second, options, secondResult);
  EXPECT_FALSE(secondResult.interrupted);
  EXPECT_FALSE(secondResult.resumedFrom.empty());
  ASSERT_EQ(second.contexts.size(), 27u);
  EXPECT_EQ(second.contexts[0].step, 13);
  EXPECT_EQ(resumed, expected);
  EXPECT_EQ(dlc::testing::readFile(path("split/final.safetensors")),
            dlc::testing::readFile(path("full/final.safetensors")));
  // The epoch-end values agree too (history of the resumed epochs).
  ASSERT_EQ(secondResult.history.size(), 3u);
  const NamedValue *resumedLoss = value(secondResult.history.back(), "loss");
  const NamedValue *fullLoss = value(fullResult.history.back(), "loss");
  ASSERT_NE(resumedLoss, nullptr);
  ASSERT_NE(fullLoss, nullptr);
  EXPECT_EQ(resumedLoss->value, fullLoss->value);
}

TEST_F(TrainingLoopTest, ResumeWithoutPrefetchMatchesPrefetch) {
  SoftmaxModel<double> a, b;
  TrainResult ra, rb;
  options_.epochs = 2;
  std::vector<unsigned char> withThread = train(a, options_, ra);
  env_.prefetch = false;
  std::vector<unsigned char> without = train(b, options_, rb);
  EXPECT_EQ(withThread, without);
}

TEST_F(TrainingLoopTest, DifferentSeedsShuffleDifferently) {
  SoftmaxModel<double> a, b;
  TrainResult ra, rb;
  options_.epochs = 1;
  std::vector<unsigned char> one = train(a, options_, ra);
  options_.seed = 8;
  std::vector<unsigned char> two = train(b, options_, rb);
  EXPECT_NE(one, two);
}

TEST_F(TrainingLoopTest, EvalReadsTheFinalWeights) {
  options_.checkpointDir = path("ckpt");
  SoftmaxModel<double> model;
  TrainResult result;
  train(model, options_, result);
  ASSERT_TRUE(result.tested);

  SoftmaxModel<double> fresh;
  ModelState state;
  std::string error;
  ASSERT_TRUE(state.init(fresh, error)) << error;
  std::vector<NamedValue> values;
  out_.str("");
  ASSERT_TRUE(runEvaluation(state, settings_, options_, env_, values, error))
      << error;
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0].value, result.test[0].value);
  EXPECT_EQ(values[1].value, result.test[1].value);
  EXPECT_NE(out_.str().find("test accuracy: "), std::string::npos);
}

TEST_F(TrainingLoopTest, PredictPrintsTopClassesAsTextAndJson) {
  options_.checkpointDir = path("ckpt");
  SoftmaxModel<double> model;
  TrainResult result;
  train(model, options_, result);

  // Two images of class 2 and 0 (bright rows), one file of [2, 4, 4, 1]
  // and one single [4, 4] image.
  std::vector<float> images(2 * kFeatures, 0.1f);
  for (int64_t p = 0; p < kSide; ++p) {
    images[2 * kSide + p] = 0.9f;
    images[kFeatures + p] = 0.9f;
  }
  writeNpy(path("two.npy"), {2, kSide, kSide, 1}, images);
  writeNpy(path("one.npy"), {kSide, kSide},
           std::vector<float>(images.begin(), images.begin() + kFeatures));

  SoftmaxModel<double> fresh;
  ModelState state;
  std::string error;
  ASSERT_TRUE(state.init(fresh, error)) << error;
  options_.inputs = {path("two.npy"), path("one.npy")};
  out_.str("");
  ASSERT_TRUE(runPrediction(state, settings_, options_, env_, error)) << error;
  std::string text = out_.str();
  EXPECT_NE(text.find(path("two.npy") + "[0]: 2 (0."), std::string::npos)
      << text;
  EXPECT_NE(text.find(path("two.npy") + "[1]: 0 (0."), std::string::npos)
      << text;
  EXPECT_NE(text.find(path("one.npy") + "[0]: 2 (0."), std::string::npos)
      << text;
  // Two classes per line (--top 2), probabilities from softmax.
  size_t firstLine = text.find('\n');
  EXPECT_NE(text.substr(0, firstLine).find("), "), std::string::npos);

  options_.format = OutputFormat::Json;
  out_.str("");
  ASSERT_TRUE(runPrediction(state, settings_, options_, env_, error)) << error;
  std::string json = out_.str();
  EXPECT_NE(json.find("{\"file\": \"" + path("two.npy") +
                      "\", \"index\": 0, \"output\": \"logits\", \"top\": "
                      "[{\"class\": 2, \"probability\": 0."),
            std::string::npos)
      << json;
  EXPECT_EQ(std::count(json.begin(), json.end(), '\n'), 3);
}

TEST_F(TrainingLoopTest, TopClassesAppliesSoftmaxToLogits) {
  double logits[3] = {0.0, std::log(3.0), 0.0};
  std::vector<ClassScore> top = topClasses(logits, 3, true, 2);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].index, 1);
  EXPECT_NEAR(top[0].probability, 0.6, 1e-12);
  EXPECT_EQ(top[1].index, 0); // ties: the lower class first
  double probability = 0.25;
  top = topClasses(&probability, 1, false, 5);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].index, 0);
  EXPECT_DOUBLE_EQ(top[0].probability, 0.75);
}

TEST_F(TrainingLoopTest, PredictRejectsAWrongShape) {
  options_.checkpointDir = path("ckpt");
  SoftmaxModel<double> model;
  TrainResult result;
  options_.epochs = 1;
  train(model, options_, result);
  writeNpy(path("wrong.npy"), {3, 5, 5}, std::vector<float>(75, 0.5f));
  SoftmaxModel<double> fresh;
  ModelState state;
  std::string error;
  ASSERT_TRUE(state.init(fresh, error));
  options_.inputs = {path("wrong.npy")};
  EXPECT_FALSE(runPrediction(state, settings_, options_, env_, error));
  EXPECT_NE(error.find(path("wrong.npy")), std::string::npos) << error;
  EXPECT_NE(error.find("[3, 5, 5]"), std::string::npos) << error;
  EXPECT_NE(error.find("[4, 4, 1]"), std::string::npos) << error;

  writeBytes(path("garbage.npy"), "not numpy at all");
  options_.inputs = {path("garbage.npy")};
  EXPECT_FALSE(runPrediction(state, settings_, options_, env_, error));
  EXPECT_NE(error.find("garbage.npy"), std::string::npos) << error;
}

TEST_F(TrainingLoopTest, BenchTimesTrainStepAndPredict) {
  SoftmaxModel<float> model;
  ModelState state;
  std::string error;
  ASSERT_TRUE(state.init(model, error)) << error;
  BenchResult result;
  ASSERT_TRUE(runBench(state, settings_, options_, 1, env_, result, error))
      << error;
  EXPECT_TRUE(result.timedTrain);
  EXPECT_EQ(model.batchSizes.size(), 4u); // 1 warmup + 3 timed
  EXPECT_GE(result.trainMedianMs, 0.0);
  std::string printed = out_.str();
  EXPECT_NE(printed.find("train_step  median "), std::string::npos) << printed;
  EXPECT_NE(printed.find("predict     median "), std::string::npos);
  EXPECT_NE(printed.find("arena       " +
                         std::to_string(model.spec().arenaBytes) + " bytes"),
            std::string::npos);
  EXPECT_DOUBLE_EQ(medianOf({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(medianOf({4, 1, 2, 3}), 2.5);
}

TEST_F(TrainingLoopTest, FloatProgramsTrainToo) {
  SoftmaxModel<float> model;
  ModelState state;
  std::string error;
  ASSERT_TRUE(state.init(model, error)) << error;
  TrainResult result;
  options_.epochs = 3;
  ASSERT_TRUE(runTraining(state, settings_, options_, env_, result, error))
      << error;
  EXPECT_GT(result.test[1].value, 0.9);
}

//===----------------------------------------------------------------------===//
// Errors: clear messages, never a crash, checkpoints intact
//===----------------------------------------------------------------------===//

TEST_F(TrainingLoopTest, BatchSizeAboveTheCompiledMaximumIsAnError) {
  SoftmaxModel<double> model(/*maxBatch=*/8);
  TrainResult result;
  train(model, options_, result, /*expectOk=*/false);
  EXPECT_NE(lastError_.find("--batch-size 16 is outside 1..8"),
            std::string::npos)
      << lastError_;
  EXPECT_TRUE(model.batchSizes.empty());
}

TEST_F(TrainingLoopTest, MissingDataIsAnError) {
  options_.data = path("nowhere");
  SoftmaxModel<double> model;
  TrainResult result;
  train(model, options_, result, /*expectOk=*/false);
  EXPECT_NE(lastError_.find(path("nowhere")), std::string::npos) << lastError_;
}

TEST_F(TrainingLoopTest, LabelsBeyondTheOutputAreAnError) {
  std::string dir = path("wide");
  std::filesystem::create_directories(dir);
  std::string labels;
  putBigEndian(labels, 0x801);
  putBigEndian(labels, 2);
  labels += char(1);
  labels += char(9);
  std::string images;
  putBigEndian(images, 0x803);
  putBigEndian(images, 2);
  putBigEndian(images, kSide);
  putBigEndian(images, kSide);
  images += std::string(2 * kFeatures, '\0');
  writeBytes(dir + "/train-images-idx3-ubyte", images);
  writeBytes(dir + "/train-labels-idx1-ubyte", labels);
  options_.data = dir;
  SoftmaxModel<double> model;
  TrainResult result;
  train(model, options_, result, /*expectOk=*/false);
  EXPECT_NE(lastError_.find("example 1 has label 9"), std::string::npos)
      << lastError_;
  EXPECT_NE(lastError_.find("3 classes"), std::string::npos) << lastError_;
}

TEST_F(TrainingLoopTest, ImageShapeMismatchIsAnError) {
  std::string dir = path("big");
  std::filesystem::create_directories(dir);
  std::string images, labels;
  putBigEndian(images, 0x803);
  putBigEndian(images, 1);
  putBigEndian(images, 5);
  putBigEndian(images, 5);
  images += std::string(25, '\0');
  putBigEndian(labels, 0x801);
  putBigEndian(labels, 1);
  labels += char(0);
  writeBytes(dir + "/train-images-idx3-ubyte", images);
  writeBytes(dir + "/train-labels-idx1-ubyte", labels);
  options_.data = dir;
  SoftmaxModel<double> model;
  TrainResult result;
  train(model, options_, result, /*expectOk=*/false);
  EXPECT_NE(lastError_.find("'image' is f64[4, 4, 1]"), std::string::npos)
      << lastError_;
  EXPECT_NE(lastError_.find("[5, 5, 1]"), std::string::npos) << lastError_;
}

TEST_F(TrainingLoopTest, CorruptCheckpointIsSkippedOrRefused) {
  options_.checkpointDir = path("ckpt");
  options_.epochs = 2;
  SoftmaxModel<double> model;
  TrainResult result;
  train(model, options_, result);
  // A newer, truncated checkpoint: resume warns and uses the intact one.
  std::string good = path("ckpt/") + CheckpointManager::fileName(2, 0);
  ASSERT_TRUE(isRegularFile(good));
  std::string bytes = dlc::testing::readFile(good);
  writeBytes(path("ckpt/") + CheckpointManager::fileName(3, 0),
             bytes.substr(0, bytes.size() / 2));
  options_.resume = true;
  options_.epochs = 3;
  SoftmaxModel<double> resumed;
  TrainResult resumedResult;
  train(resumed, options_, resumedResult);
  EXPECT_EQ(resumedResult.resumedFrom, good);
  EXPECT_NE(err_.str().find("warning: "), std::string::npos);
  EXPECT_EQ(resumed.batchSizes.size(), 10u); // only epoch 3

  // Only corrupt checkpoints: a clear error, nothing trained.
  std::filesystem::remove_all(path("ckpt"));
  std::filesystem::create_directories(path("ckpt"));
  writeBytes(path("ckpt/") + CheckpointManager::fileName(1, 0), "garbage");
  SoftmaxModel<double> none;
  TrainResult noneResult;
  train(none, options_, noneResult, /*expectOk=*/false);
  EXPECT_NE(lastError_.find("train without --resume"), std::string::npos)
      << lastError_;
  EXPECT_TRUE(none.batchSizes.empty());
}

TEST_F(TrainingLoopTest, ResumeWithAnotherBatchSizeIsRefused) {
  options_.checkpointDir = path("ckpt");
  options_.epochs = 1;
  SoftmaxModel<double> model;
  TrainResult result;
  train(model, options_, result);
  options_.resume = true;
  options_.batchSize = 8;
  options_.epochs = 2;
  SoftmaxModel<double> other;
  TrainResult otherResult;
  train(other, options_, otherResult, /*expectOk=*/false);
  EXPECT_NE(lastError_.find("--batch-size 16"), std::string::npos)
      << lastError_;
}

TEST_F(TrainingLoopTest, UnusableCheckpointDirectoryIsAnError) {
  writeBytes(path("afile"), "x");
  options_.checkpointDir = path("afile/sub");
  SoftmaxModel<double> model;
  TrainResult result;
  train(model, options_, result, /*expectOk=*/false);
  EXPECT_NE(lastError_.find(path("afile")), std::string::npos) << lastError_;
  EXPECT_TRUE(model.batchSizes.empty());
}

TEST_F(TrainingLoopTest, MismatchedWeightsAreListed) {
  // A weights file of another shape for dense.kernel.
  std::vector<double> kernel(5 * kClasses, 0.0), bias(kClasses, 0.0);
  std::string error;
  ASSERT_TRUE(writeSafetensors(
      path("other.safetensors"),
      {{"dense.kernel", "F64", {5, kClasses}, kernel.data(), kernel.size() * 8},
       {"dense.bias", "F64", {kClasses}, bias.data(), bias.size() * 8},
       {"head.kernel", "F64", {kClasses}, bias.data(), bias.size() * 8}},
      {}, error))
      << error;
  SoftmaxModel<double> model;
  ModelState state;
  ASSERT_TRUE(state.init(model, error));
  std::vector<unsigned char> before = state.snapshot();
  std::string notes;
  EXPECT_FALSE(loadWeights(state, path("other.safetensors"), WeightMatch::All,
                           notes, error));
  EXPECT_NE(error.find("dense.kernel: the file has F64[5, 3], the model "
                       "needs F64[16, 3]"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("head.kernel"), std::string::npos) << error;
  EXPECT_EQ(state.snapshot(), before);

  // init = load(...): by name; a shape mismatch is still an error.
  settings_.initPath = path("other.safetensors");
  TrainResult result;
  SoftmaxModel<double> trained;
  train(trained, options_, result, /*expectOk=*/false);
  EXPECT_NE(lastError_.find("dense.kernel"), std::string::npos) << lastError_;
}

TEST_F(TrainingLoopTest, InitLoadsMatchingWeightsByName) {
  // Only the bias, in f32: converted, the kernel keeps its initializer.
  std::vector<float> bias = {0.5f, -0.25f, 0.125f};
  std::string error;
  ASSERT_TRUE(writeSafetensors(
      path("bias.safetensors"),
      {{"dense.bias", "F32", {kClasses}, bias.data(), bias.size() * 4}}, {},
      error));
  SoftmaxModel<double> model;
  ModelState state;
  ASSERT_TRUE(state.init(model, error));
  std::string notes;
  ASSERT_TRUE(loadWeights(state, path("bias.safetensors"), WeightMatch::ByName,
                          notes, error))
      << error;
  const double *loaded = static_cast<const double *>(state.parameterData(1));
  EXPECT_EQ(loaded[0], 0.5);
  EXPECT_EQ(loaded[1], -0.25);
  EXPECT_NE(notes.find("dense.kernel"), std::string::npos) << notes;
}

TEST_F(TrainingLoopTest, ModelWithoutTrainSectionCannotTrain) {
  settings_.present = false;
  SoftmaxModel<double> model;
  TrainResult result;
  train(model, options_, result, /*expectOk=*/false);
  EXPECT_NE(lastError_.find("has no train section"), std::string::npos);
}

TEST_F(TrainingLoopTest, EvalWithoutWeightsSaysWhereItLooked) {
  options_.checkpointDir = path("empty");
  std::filesystem::create_directories(path("empty"));
  SoftmaxModel<double> model;
  ModelState state;
  std::string error;
  ASSERT_TRUE(state.init(model, error));
  std::vector<NamedValue> values;
  EXPECT_FALSE(runEvaluation(state, settings_, options_, env_, values, error));
  EXPECT_NE(error.find(path("empty")), std::string::npos) << error;
  EXPECT_NE(error.find("run `train` first"), std::string::npos) << error;
}

//===----------------------------------------------------------------------===//
// Batches: noise corrupts only the model input
//===----------------------------------------------------------------------===//

TEST_F(TrainingLoopTest, InputNoiseLeavesTheCopiedTargetClean) {
  ModelSpec spec;
  spec.modelName = "ae";
  spec.maxBatch = 4;
  spec.elementBytes = 4;
  spec.inputs = {{"x", DType::F32, {2, 2, 1}}};
  spec.outputs = {{"y", DType::F32, {2, 2, 1}}};
  spec.targets = {{{"x_target", DType::F32, {2, 2, 1}}, 0}};
  Dataset data;
  data.exampleShape = {2, 2, 1};
  data.count = 5;
  for (int i = 0; i < 20; ++i)
    data.features.push_back(float(i) / 20);
  data.labels = {0, 1, 0, 1, 0};
  BatchFormat format;
  std::string error;
  ASSERT_TRUE(
      makeBatchFormat(spec, data.exampleShape, false, {}, format, error))
      << error;
  EXPECT_EQ(format.targets[0].fill, TargetFill::CopyInput);
  StreamOptions options;
  options.batchSize = 4;
  options.seed = 3;
  options.training = true;
  options.inputNoise = Augmentation::gaussianNoise(0.5f);
  options.prefetch = false;
  BatchStream stream;
  ASSERT_TRUE(stream.init(data, format, options, error)) << error;
  EXPECT_EQ(stream.steps(), 2);
  stream.start(0, 1);
  const ModelBatch *batch = stream.next();
  ASSERT_NE(batch, nullptr);
  EXPECT_EQ(batch->size, 1); // the last, partial batch
  const float *input = reinterpret_cast<const float *>(batch->inputs[0].data());
  const float *target =
      reinterpret_cast<const float *>(batch->targets[0].data());
  bool differs = false;
  for (int i = 0; i < 4; ++i) {
    differs |= input[i] != target[i];
    // The clean target is one of the dataset's examples.
    EXPECT_EQ(std::fmod(target[i] * 20, 1.0f), 0.0f);
  }
  EXPECT_TRUE(differs);
  EXPECT_EQ(stream.next(), nullptr);
}

TEST_F(TrainingLoopTest, OneHotTargetsFromClassLabels) {
  ModelSpec spec;
  spec.modelName = "onehot";
  spec.maxBatch = 4;
  spec.elementBytes = 8;
  spec.inputs = {{"x", DType::F64, {2}}};
  spec.outputs = {{"y", DType::F64, {3}}};
  spec.targets = {{{"y_target", DType::F64, {3}}, -1}};
  Dataset data;
  data.exampleShape = {2};
  data.count = 2;
  data.features = {1, 2, 3, 4};
  data.labels = {2, 0};
  BatchFormat format;
  std::string error;
  ASSERT_TRUE(
      makeBatchFormat(spec, data.exampleShape, false, {}, format, error));
  EXPECT_EQ(format.targets[0].fill, TargetFill::OneHot);
  StreamOptions options;
  options.batchSize = 2;
  BatchStream stream;
  ASSERT_TRUE(stream.init(data, format, options, error)) << error;
  stream.start(0, 0);
  const ModelBatch *batch = stream.next();
  ASSERT_NE(batch, nullptr);
  const double *target =
      reinterpret_cast<const double *>(batch->targets[0].data());
  std::vector<double> expected = {0, 0, 1, 1, 0, 0};
  EXPECT_EQ(std::vector<double>(target, target + 6), expected);
  const double *input =
      reinterpret_cast<const double *>(batch->inputs[0].data());
  EXPECT_EQ(std::vector<double>(input, input + 4),
            (std::vector<double>{1, 2, 3, 4}));
  data.labels = {3, 0};
  EXPECT_FALSE(checkLabels(data, format, spec, error));
}

} // namespace

namespace {

TEST_F(TrainingLoopTest, EarlyStoppingRestoresTheBestEpochAcrossResume) {
  // min_delta 100: no epoch after the first improves, so patience 1 stops
  // after epoch 2 and restore_best puts back epoch 1's weights.
  EarlyStoppingSettings early;
  early.monitor = "loss";
  early.options.patience = 1;
  early.options.minDelta = 100;
  early.options.restoreBest = true;
  settings_.earlyStopping = early;
  options_.checkpointDir = path("once");
  SoftmaxModel<double> oneEpoch;
  TrainResult oneResult;
  ProgramOptions single = options_;
  single.epochs = 1;
  single.checkpointDir = path("single");
  std::vector<unsigned char> afterEpoch1 = train(oneEpoch, single, oneResult);

  SoftmaxModel<double> model;
  TrainResult result;
  std::vector<unsigned char> stopped = train(model, options_, result);
  EXPECT_TRUE(result.stoppedEarly);
  EXPECT_EQ(result.history.size(), 2u);
  EXPECT_NE(out_.str().find("best epoch: 1"), std::string::npos);
  // Model weights (not the momentum slots) are epoch 1's.
  size_t weightBytes = (kFeatures * kClasses) * 8;
  EXPECT_EQ(std::vector<unsigned char>(stopped.begin(),
                                       stopped.begin() + weightBytes),
            std::vector<unsigned char>(afterEpoch1.begin(),
                                       afterEpoch1.begin() + weightBytes));

  // Its checkpoint (with optimizer slots and the best weights) is a valid
  // weights file for eval and predict.
  SoftmaxModel<double> reader;
  ModelState readerState;
  std::string error, notes;
  ASSERT_TRUE(readerState.init(reader, error));
  EXPECT_TRUE(loadWeights(readerState,
                          path("once/") + CheckpointManager::fileName(2, 0),
                          WeightMatch::All, notes, error))
      << error;

  // Interrupted in epoch 2 and resumed: the same outcome.
  ProgramOptions options = options_;
  options.checkpointDir = path("split");
  env_.stopAfterSteps = 15;
  SoftmaxModel<double> first;
  TrainResult firstResult;
  train(first, options, firstResult);
  ASSERT_TRUE(firstResult.interrupted);
  env_.stopAfterSteps = -1;
  options.resume = true;
  SoftmaxModel<double> second;
  TrainResult secondResult;
  EXPECT_EQ(train(second, options, secondResult), stopped);
  EXPECT_TRUE(secondResult.stoppedEarly);
}

TEST_F(TrainingLoopTest, PairsFeedTwoInputsAndAFloatLabel) {
  ModelSpec spec;
  spec.modelName = "siamese";
  spec.maxBatch = 8;
  spec.elementBytes = 4;
  spec.inputs = {{"left", DType::F32, {2}}, {"right", DType::F32, {2}}};
  spec.outputs = {{"same", DType::F32, {1}}};
  spec.targets = {{{"same_target", DType::F32, {1}}, -1}};
  Dataset data;
  data.exampleShape = {2};
  data.count = 6;
  for (int i = 0; i < 6; ++i) {
    data.features.push_back(float(i));
    data.features.push_back(float(i % 2)); // the class, visible
    data.labels.push_back(i % 2);
  }
  BatchFormat format;
  std::string error;
  ASSERT_TRUE(makeBatchFormat(spec, data.exampleShape, true, {}, format, error))
      << error;
  EXPECT_EQ(format.targets[0].fill, TargetFill::FloatLabel);
  StreamOptions options;
  options.batchSize = 6;
  options.seed = 5;
  options.training = true;
  BatchStream stream;
  ASSERT_TRUE(stream.init(data, format, options, error)) << error;
  stream.start(0, 0);
  const ModelBatch *batch = stream.next();
  ASSERT_NE(batch, nullptr);
  ASSERT_EQ(batch->size, 6);
  const float *left = reinterpret_cast<const float *>(batch->inputs[0].data());
  const float *right = reinterpret_cast<const float *>(batch->inputs[1].data());
  const float *label =
      reinterpret_cast<const float *>(batch->targets[0].data());
  int positives = 0;
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(label[i], left[2 * i + 1] == right[2 * i + 1] ? 1.0f : 0.0f);
    positives += label[i] == 1.0f;
  }
  EXPECT_EQ(positives, 3); // balanced
  // A one-input model cannot train on pairs.
  spec.inputs.pop_back();
  EXPECT_FALSE(
      makeBatchFormat(spec, data.exampleShape, true, {}, format, error));
  EXPECT_NE(error.find("pairs(...)"), std::string::npos) << error;
}

} // namespace
