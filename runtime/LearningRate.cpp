//===- LearningRate.cpp - learning-rate schedules of the train section ----===//

#include "runtime/LearningRate.h"

#include <algorithm>
#include <cmath>

namespace dlc::rt {

Schedule Schedule::defaults(Kind kind) {
  Schedule schedule;
  schedule.kind = kind;
  schedule.decayRate = kind == ExponentialDecay ? 0.96 : 1.0;
  return schedule;
}

Schedule resolveSchedule(Schedule schedule, int64_t stepsPerEpoch,
                         int64_t totalSteps) {
  if (schedule.decaySteps <= kAutoDecaySteps) {
    if (schedule.kind == Schedule::CosineDecay)
      schedule.decaySteps = std::max<int64_t>(totalSteps, 0) -
                            std::min(std::max<int64_t>(schedule.warmupSteps, 0),
                                     std::max<int64_t>(totalSteps, 0));
    else
      schedule.decaySteps = stepsPerEpoch;
  }
  schedule.decaySteps = std::max<int64_t>(schedule.decaySteps, 1);
  schedule.every = std::max<int64_t>(schedule.every, 1);
  schedule.warmupSteps = std::max<int64_t>(schedule.warmupSteps, 0);
  return schedule;
}

/// Keras's p: step / decay_steps, floored when staircase.
static double decayProgress(const Schedule &schedule, double step) {
  double p = step / double(std::max<int64_t>(schedule.decaySteps, 1));
  return schedule.staircase ? std::floor(p) : p;
}

/// Keras CosineDecay._decay_function with `step` already clamped.
static double cosineDecayed(double fromLr, double step, double decaySteps,
                            double alpha) {
  const double pi = 3.14159265358979323846;
  double cosine = 0.5 * (1.0 + std::cos(pi * (step / decaySteps)));
  return fromLr * ((1.0 - alpha) * cosine + alpha);
}

double learningRate(const Schedule &schedule, double initialLr, int64_t step,
                    int64_t epoch) {
  double s = double(std::max<int64_t>(step, 0));
  switch (schedule.kind) {
  case Schedule::Constant:
    return initialLr;
  case Schedule::InverseTimeDecay:
    return initialLr / (1.0 + schedule.decayRate * decayProgress(schedule, s));
  case Schedule::ExponentialDecay:
    return initialLr * std::pow(schedule.decayRate, decayProgress(schedule, s));
  case Schedule::StepDecay: {
    int64_t every = std::max<int64_t>(schedule.every, 1);
    int64_t drops = std::max<int64_t>(epoch, 0) / every;
    return initialLr * std::pow(schedule.factor, double(drops));
  }
  case Schedule::CosineDecay: {
    double decaySteps = double(std::max<int64_t>(schedule.decaySteps, 1));
    double warmup = double(std::max<int64_t>(schedule.warmupSteps, 0));
    if (warmup <= 0)
      return cosineDecayed(initialLr, std::min(s, decaySteps), decaySteps,
                           schedule.alpha);
    // Keras with warmup_target = lr and initial_learning_rate = 0: a linear
    // ramp from 0, then the cosine decay from lr.
    s = std::min(s, decaySteps + warmup);
    if (s < warmup)
      return initialLr * (s / warmup);
    return cosineDecayed(initialLr, s - warmup, decaySteps, schedule.alpha);
  }
  }
  return initialLr;
}

} // namespace dlc::rt
