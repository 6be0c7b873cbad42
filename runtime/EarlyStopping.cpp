//===- EarlyStopping.cpp - the early_stopping callback, as Keras's --------===//

#include "runtime/EarlyStopping.h"

#include <cmath>

namespace dlc::rt {

std::optional<MonitorMode> monitorModeFor(std::string_view monitor) {
  if (monitor.substr(0, 4) == "val_")
    monitor.remove_prefix(4);
  if (monitor == "loss" || monitor == "mse" || monitor == "mae")
    return MonitorMode::Min;
  if (monitor == "accuracy" || monitor == "top_k_accuracy")
    return MonitorMode::Max;
  return std::nullopt;
}

bool EarlyStopping::isImprovement(double value) const {
  if (!hasBest_)
    return true;
  double delta = std::fabs(options_.minDelta);
  if (options_.mode == MonitorMode::Min)
    return value + delta < best_;
  return value - delta > best_;
}

bool EarlyStopping::onEpochEnd(int64_t epoch, double value) {
  saveNow_ = false;
  if (wait_ < INT64_MAX)
    ++wait_;
  if (isImprovement(value)) {
    best_ = value;
    bestEpoch_ = epoch;
    hasBest_ = true;
    saveNow_ = options_.restoreBest;
    wait_ = 0;
    return false;
  }
  if (wait_ >= options_.patience && epoch > 0) {
    stoppedEpoch_ = epoch;
    return true;
  }
  return false;
}

EarlyStopping::State EarlyStopping::state() const {
  return {double(wait_), best_, double(bestEpoch_), double(stoppedEpoch_),
          hasBest_ ? 1.0 : 0.0};
}

/// A whole number in [0, 2^53], exactly representable as a double.
static bool isCount(double value) {
  return value >= 0 && value <= 9007199254740992.0 &&
         std::floor(value) == value;
}

bool EarlyStopping::restore(const State &state) {
  if (!isCount(state[0]) || !isCount(state[2]) || !isCount(state[3]) ||
      (state[4] != 0 && state[4] != 1))
    return false;
  wait_ = int64_t(state[0]);
  best_ = state[1];
  bestEpoch_ = int64_t(state[2]);
  stoppedEpoch_ = int64_t(state[3]);
  hasBest_ = state[4] == 1;
  saveNow_ = false;
  return true;
}

} // namespace dlc::rt
