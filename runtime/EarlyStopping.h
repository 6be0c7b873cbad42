//===- EarlyStopping.h - the early_stopping callback, as Keras's ----------===//
//
// keras.callbacks.EarlyStopping (Keras 3, no baseline, start_from_epoch 0):
// at the end of each (0-based) epoch the monitored value is compared with
// the best so far. The first value is always an improvement; later, in min
// mode `value + min_delta < best`, in max mode `value - min_delta > best`.
// The wait counter grows by one every epoch and returns to 0 on an
// improvement; without one, training stops when wait >= patience (never on
// epoch 0). With restore_best the caller restores the weights saved at the
// best epoch when training ends, whether it stopped early or not (Keras
// does the same). A NaN never improves on a value, and a NaN first value
// stays the best (both as Keras's comparisons behave).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_EARLYSTOPPING_H
#define DLC_RUNTIME_EARLYSTOPPING_H

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace dlc::rt {

/// Whether lower or higher values of the monitored quantity are better.
enum class MonitorMode { Min, Max };

/// Keras's "auto" mode for a monitor name, with or without "val_": Min for
/// loss, mse and mae; Max for accuracy and top_k_accuracy; nothing for other
/// names (Keras refuses those too).
std::optional<MonitorMode> monitorModeFor(std::string_view monitor);

/// The arguments of early_stopping(...).
struct EarlyStoppingOptions {
  int64_t patience = 3;
  MonitorMode mode = MonitorMode::Min; ///< from monitorModeFor("val_loss")
  double minDelta = 0;                 ///< its absolute value is used
  bool restoreBest = false;
};

/// The callback's state between epochs.
class EarlyStopping {
public:
  /// The state as numbers, for a checkpoint: wait, best, bestEpoch,
  /// stoppedEpoch, hasBest (0 or 1).
  using State = std::array<double, 5>;

  explicit EarlyStopping(EarlyStoppingOptions options) : options_(options) {}

  /// Records the monitored value at the end of 0-based `epoch`; returns
  /// true when training must stop now.
  bool onEpochEnd(int64_t epoch, double value);

  /// Whether the caller should save the weights of the epoch just recorded
  /// (restore_best, and that epoch is the new best).
  bool shouldSaveWeights() const { return saveNow_; }
  /// Whether the weights saved at bestEpoch() must be put back at the end.
  bool shouldRestoreBest() const { return options_.restoreBest && hasBest_; }

  bool hasBest() const { return hasBest_; }
  double best() const { return best_; }
  /// The 0-based epoch of best() (0 before any).
  int64_t bestEpoch() const { return bestEpoch_; }
  /// The 0-based epoch that stopped training; 0 if none did (as Keras).
  int64_t stoppedEpoch() const { return stoppedEpoch_; }
  int64_t wait() const { return wait_; }

  State state() const;
  /// Restores a state(); false (and nothing changed) when it is not one:
  /// counts that are not whole numbers in [0, 2^53], hasBest not 0 or 1.
  bool restore(const State &state);

private:
  bool isImprovement(double value) const;

  EarlyStoppingOptions options_;
  int64_t wait_ = 0;
  double best_ = 0;
  int64_t bestEpoch_ = 0;
  int64_t stoppedEpoch_ = 0;
  bool hasBest_ = false;
  bool saveNow_ = false;
};

} // namespace dlc::rt

#endif // DLC_RUNTIME_EARLYSTOPPING_H
