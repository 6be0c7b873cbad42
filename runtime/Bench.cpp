//===- Bench.cpp - `prog bench`: the time of a training step and a predict ===//

#include "runtime/Bench.h"

#include "runtime/ParameterInit.h"
#include "runtime/Philox.h"
#include "runtime/ProcessMemory.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>

namespace dlc::rt {

namespace {

/// The Philox stream of bench's synthetic data ("BE" in the top bits).
constexpr uint64_t kBenchStream = uint64_t(0x4245) << 48;

/// Fills `count` elements of a `dtype` buffer: uniform [0, 1) values, or class
/// ids below `classes` for i32.
void fillSynthetic(void *buffer, DType dtype, int elementBytes, int64_t count,
                   int64_t classes, const PhiloxStream &random,
                   uint64_t &position) {
  auto *out = static_cast<unsigned char *>(buffer);
  for (int64_t i = 0; i < count; ++i, ++position) {
    if (dtype == DType::I32) {
      int32_t id = int32_t(random.at(position) %
                           uint32_t(std::max<int64_t>(classes, 1)));
      std::memcpy(out + 4 * i, &id, 4);
    } else if (elementBytes == 8) {
      double v = random.uniformAt(position);
      std::memcpy(out + 8 * i, &v, 8);
    } else {
      float v = random.uniformAt(position);
      std::memcpy(out + 4 * i, &v, 4);
    }
  }
}

double nowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

} // namespace

double medianOf(std::vector<double> values) {
  if (values.empty())
    return 0;
  size_t middle = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + middle, values.end());
  double upper = values[middle];
  if (values.size() % 2 == 1)
    return upper;
  double lower = *std::max_element(values.begin(), values.begin() + middle);
  return (lower + upper) / 2;
}

bool runBench(ModelState &state, const TrainSettings &settings,
              const ProgramOptions &options, int threads,
              const RunEnvironment &env, BenchResult &result,
              std::string &error) {
  std::ostream &out = env.out ? *env.out : std::cout;
  const ModelSpec &spec = state.spec();
  int64_t n = options.batchSize;
  if (n < 1 || n > spec.maxBatch) {
    error = "--batch-size " + std::to_string(n) + " is outside 1.." +
            std::to_string(spec.maxBatch) +
            " (the model was compiled for batches of at most " +
            std::to_string(spec.maxBatch) + ")";
    return false;
  }
  if (options.benchSteps < 1 || options.benchWarmup < 0) {
    error = "bench needs --steps of at least 1 and --warmup of at least 0";
    return false;
  }
  if (!initializeParameters(spec, state.arena(), options.seed, error))
    return false;
  CompiledModel &model = state.model();
  PhiloxStream random(options.seed, kBenchStream);
  uint64_t position = 0;
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    int64_t elements = 0;
    exampleElements(spec.inputs[i].shape, elements);
    int64_t vocabulary = 1; // i32 inputs (token ids): id 0, always valid
    fillSynthetic(model.inputBuffer(i), spec.inputs[i].dtype, spec.elementBytes,
                  n * elements, vocabulary, random, position);
  }
  for (size_t t = 0; t < spec.targets.size(); ++t) {
    const TargetSpec &target = spec.targets[t];
    int64_t elements = 0;
    exampleElements(target.data.shape, elements);
    int64_t classes = 1;
    if (t < spec.outputs.size() && !spec.outputs[t].shape.empty())
      classes = spec.outputs[t].shape.back();
    fillSynthetic(model.targetBuffer(t), target.data.dtype, spec.elementBytes,
                  n * elements, classes, random, position);
  }

  result = BenchResult();
  result.batchSize = n;
  result.timedTrain = settings.present && !spec.targets.empty();
  std::vector<double> train, predict;
  StepContext context;
  context.seed = options.seed;
  context.lr = options.lr;
  int64_t total = options.benchWarmup + options.benchSteps;
  if (result.timedTrain)
    for (int64_t s = 0; s < total; ++s) {
      context.step = s;
      double start = nowMs();
      model.trainStep(n, context);
      if (s >= options.benchWarmup)
        train.push_back(nowMs() - start);
    }
  for (int64_t s = 0; s < total; ++s) {
    double start = nowMs();
    model.predict(n);
    if (s >= options.benchWarmup)
      predict.push_back(nowMs() - start);
  }
  result.trainMedianMs = medianOf(train);
  result.predictMedianMs = medianOf(predict);

  auto line = [&](const char *name, double ms) {
    char buffer[160];
    double perSecond = ms > 0 ? double(n) * 1000.0 / ms : 0.0;
    std::snprintf(buffer, sizeof(buffer),
                  "%-11s median %.3f ms/step  %.1f examples/s\n", name, ms,
                  perSecond);
    out << buffer;
  };
  out << "bench " << spec.modelName << ": batch " << n << ", "
      << options.benchSteps << " steps after " << options.benchWarmup
      << " warmup, " << threads << " thread" << (threads == 1 ? "" : "s")
      << "\n";
  if (result.timedTrain)
    line("train_step", result.trainMedianMs);
  line("predict", result.predictMedianMs);
  result.arenaAllocatedBytes =
      static_cast<int64_t>(state.arenaAllocatedBytes());
  result.peakResidentBytes = peakResidentBytes();
  out << "arena       " << spec.arenaBytes << " bytes planned, "
      << result.arenaAllocatedBytes << " allocated (persistent "
      << spec.persistentBytes << ")\n";
  if (result.peakResidentBytes >= 0) {
    char buffer[96];
    std::snprintf(buffer, sizeof(buffer),
                  "peak RSS    %.1f MiB (VmHWM %lld kB)\n",
                  double(result.peakResidentBytes) / (1024.0 * 1024.0),
                  static_cast<long long>(result.peakResidentBytes / 1024));
    out << buffer;
  }
  out.flush();
  return true;
}

} // namespace dlc::rt
