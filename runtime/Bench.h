//===- Bench.h - `prog bench`: the time of a training step and a predict --===//
//
// Times CompiledModel::trainStep and CompiledModel::predict at the batch
// size on synthetic data (uniform inputs, valid class labels; no data files
// needed): `--warmup` untimed calls, then `--steps` timed ones, reporting
// the median (robust to a stray slow step):
//
//   bench fashion_cnn: batch 64, 100 steps after 10 warmup, 8 threads
//   train_step  median 12.345 ms/step  5184.2 examples/s
//   predict     median 3.210 ms/step  19937.7 examples/s
//   arena       1234567 bytes planned, 1234567 allocated (persistent 2345)
//   peak RSS    12.3 MiB (VmHWM 12595 kB)
//
// The arena is the one block ModelState allocated for every tensor (the
// memory plan's arenaBytes, rounded up to 64); the peak RSS is the
// process's high-water mark so far, data and runtime included.
//
// A model without a train section (or without targets) times predict only.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_BENCH_H
#define DLC_RUNTIME_BENCH_H

#include "runtime/ModelState.h"
#include "runtime/ProgramOptions.h"
#include "runtime/TrainSettings.h"
#include "runtime/TrainingLoop.h"

#include <string>
#include <vector>

namespace dlc::rt {

/// The timings of one bench run, in milliseconds per call.
struct BenchResult {
  int64_t batchSize = 0;
  bool timedTrain = false;
  double trainMedianMs = 0;
  double predictMedianMs = 0;
  /// The arena ModelState allocated, and the process's peak resident set
  /// (-1: unknown) after the timed calls.
  int64_t arenaAllocatedBytes = 0;
  int64_t peakResidentBytes = -1;
};

/// The median of `values` (0 when empty).
double medianOf(std::vector<double> values);

/// `prog bench` (see the file comment); `threads` is what the kernels use,
/// for the report line. False with a message on a bad batch size.
bool runBench(ModelState &state, const TrainSettings &settings,
              const ProgramOptions &options, int threads,
              const RunEnvironment &env, BenchResult &result,
              std::string &error);

} // namespace dlc::rt

#endif // DLC_RUNTIME_BENCH_H
