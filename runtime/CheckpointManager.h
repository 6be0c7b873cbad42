//===- CheckpointManager.h - training checkpoints in a directory ----------===//
//
// A training checkpoint is one safetensors file in a checkpoint directory,
// "ckpt-<epoch>-<step>.safetensors" (zero-padded so the names sort), written
// atomically (writeSafetensors). It holds every parameter and optimizer slot
// the caller names ("conv2d.kernel", "conv2d.kernel/adam.m", ...) and, in
// "__metadata__", the training state: a format tag, the model's name and
// signature, epoch, step in the epoch, global step, seed, the early-stopping
// state and the running metric totals of the partial epoch. Doubles are
// stored as the 16 hex digits of their IEEE bits, so a resumed run continues
// bit for bit.
//
// Crash safety: a checkpoint is complete or absent (atomic rename); older
// checkpoints are pruned only after the new one is durable, and never the
// one just written; a failed save (read-only or full directory) leaves every
// earlier checkpoint untouched; open() removes the temporary files of
// processes that were killed while writing.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_CHECKPOINTMANAGER_H
#define DLC_RUNTIME_CHECKPOINTMANAGER_H

#include "runtime/EarlyStopping.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dlc::rt {

/// A MeanMetric's two numbers (MeanMetric::total() and count()).
struct MetricTotals {
  double total = 0;
  double count = 0;
};

/// Where training stands, as a checkpoint records it.
struct TrainState {
  int64_t epoch = 0;       ///< 0-based epoch in progress (or next to run).
  int64_t stepInEpoch = 0; ///< Batches of `epoch` already done.
  int64_t globalStep = 0;  ///< Optimizer steps done since the start.
  uint64_t seed = 0;       ///< The run's seed.
  /// EarlyStopping::state() (all zeros when the model has none).
  EarlyStopping::State earlyStopping{};
  /// Running totals of the partial epoch, by metric name ("loss", ...).
  std::map<std::string, MetricTotals> metrics;
  /// Any other number the caller needs back (e.g. a schedule's state).
  std::map<std::string, double> values;
};

/// A tensor of a checkpoint: the caller owns the buffer, which save() reads
/// and load() fills. `bytes` must be the dtype's size times the elements.
struct NamedTensor {
  std::string name;  ///< Stable name: "dense.kernel", "dense.kernel/adam.m".
  std::string dtype; ///< A safetensors dtype: "F32", "F64", "I64", ...
  std::vector<int64_t> shape;
  void *data = nullptr;
  size_t bytes = 0;
};

/// The checkpoints of one model in one directory.
class CheckpointManager {
public:
  /// Keeps the newest `keepLast` checkpoints after each save (0: keep all).
  explicit CheckpointManager(size_t keepLast = 2) : keepLast_(keepLast) {}

  /// Uses `dir` (created, with its parents, if missing) for the checkpoints
  /// of model `modelName` whose layout hash is `signature`, and removes the
  /// temporary files of killed writers. False with a message if `dir`
  /// cannot be created or is not a directory.
  bool open(const std::string &dir, const std::string &modelName,
            const std::string &signature, std::string &error);

  /// Writes `state` and `tensors` as the checkpoint for (state.epoch,
  /// state.stepInEpoch), then deletes the checkpoints that sort after it
  /// (an abandoned run's) and the oldest beyond keepLast. On failure returns
  /// false with a message naming the file and the cause (read-only or full
  /// directory, ...) and leaves every earlier checkpoint intact.
  bool save(const TrainState &state, const std::vector<NamedTensor> &tensors,
            std::string &error);

  /// The newest checkpoint in the directory that opens and carries a valid
  /// training state. Newer files that are truncated or corrupt are skipped,
  /// each with a line in `warnings`. False with a message if there is none.
  /// (Whether it belongs to this model is load()'s check.)
  bool findLatest(std::string &path, std::vector<std::string> &warnings,
                  std::string &error) const;

  /// Reads checkpoint `path` into `state` and the caller's buffers of
  /// `tensors`, after checking that it is this model's (name and signature)
  /// and holds exactly these names, dtypes and shapes; another model's
  /// checkpoint is refused with the list of differences. On failure `state`
  /// is unchanged and the buffers' contents are unspecified.
  bool load(const std::string &path, TrainState &state,
            const std::vector<NamedTensor> &tensors, std::string &error) const;

  /// The file name of the checkpoint for (epoch, stepInEpoch), e.g.
  /// "ckpt-000003-00000120.safetensors".
  static std::string fileName(int64_t epoch, int64_t stepInEpoch);

  const std::string &directory() const { return dir_; }

private:
  /// The checkpoint files in the directory, oldest first.
  std::vector<std::string> listCheckpoints() const;
  void prune(const std::string &justWritten) const;

  size_t keepLast_;
  std::string dir_;
  std::string modelName_;
  std::string signature_;
};

} // namespace dlc::rt

#endif // DLC_RUNTIME_CHECKPOINTMANAGER_H
