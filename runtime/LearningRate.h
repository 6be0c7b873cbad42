//===- LearningRate.h - learning-rate schedules of the train section ------===//
//
// The schedules of a train section, with Keras 3's formulas
// (keras.optimizers.schedules), evaluated at the optimizer's 0-based global
// step (Keras's `optimizer.iterations`: 0 for the first update):
//
//   constant            lr
//   inverse_time_decay  lr / (1 + decay_rate * p)
//   exponential_decay   lr * decay_rate ^ p
//                       where p = step / decay_steps, floored if staircase
//   step_decay          lr * factor ^ floor(epoch / every)   (0-based epoch)
//   cosine_decay        keras CosineDecay(initial_learning_rate=0,
//                       warmup_target=lr, warmup_steps, decay_steps, alpha)
//                       when warmup_steps > 0, else CosineDecay(lr, ...):
//                       a linear warmup from 0 to lr over warmup_steps, then
//                       lr * ((1 - alpha) * 0.5 * (1 + cos(pi * t / decay))
//                       + alpha) with t = min(step - warmup, decay_steps).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_LEARNINGRATE_H
#define DLC_RUNTIME_LEARNINGRATE_H

#include <cstdint>

namespace dlc::rt {

/// `decay_steps = auto` before resolveSchedule.
constexpr int64_t kAutoDecaySteps = 0;

/// One schedule and its arguments. Fields a kind does not use are ignored.
struct Schedule {
  enum Kind {
    Constant,
    InverseTimeDecay,
    ExponentialDecay,
    StepDecay,
    CosineDecay
  };
  Kind kind = Constant;
  double decayRate = 1.0; ///< inverse_time_decay, exponential_decay
  double factor = 0.1;    ///< step_decay
  double alpha = 0.0;     ///< cosine_decay: the final fraction of lr
  /// Steps of one decay period (at least 1 once resolved; kAutoDecaySteps or
  /// less before).
  int64_t decaySteps = kAutoDecaySteps;
  int64_t every = 10;      ///< step_decay: epochs between two decays
  int64_t warmupSteps = 0; ///< cosine_decay
  bool staircase = false;  ///< inverse_time_decay, exponential_decay

  /// The language's defaults for `kind`: decay_rate 1.0 (inverse time) or
  /// 0.96 (exponential), factor 0.1, every 10, alpha 0, warmup 0, decay
  /// steps auto, no staircase.
  static Schedule defaults(Kind kind);
};

/// Replaces `decay_steps = auto` (kAutoDecaySteps or less): one epoch's
/// `stepsPerEpoch` for the inverse time and exponential decays; for cosine
/// decay the run's `totalSteps` less the warmup steps, so that the decay ends
/// with the run. Every count is clamped to at least 1 (decaySteps, every)
/// or 0 (warmupSteps), so the result is always safe to evaluate.
Schedule resolveSchedule(Schedule schedule, int64_t stepsPerEpoch,
                         int64_t totalSteps);

/// The learning rate of the update at 0-based global `step` in 0-based
/// `epoch` (negative counts as 0), starting from `initialLr`. Unresolved or
/// invalid counts are treated as 1 (decaySteps, every) or 0 (warmupSteps).
double learningRate(const Schedule &schedule, double initialLr, int64_t step,
                    int64_t epoch);

} // namespace dlc::rt

#endif // DLC_RUNTIME_LEARNINGRATE_H
