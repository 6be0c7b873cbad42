//===- ProgressBar.h - Keras-style training progress ----------------------===//
//
// What `prog train` prints, in the format of Keras's Progbar (verbose=1):
//
//   Epoch 1/3
//   123/469 [=======>......................] - ETA: 2s - loss: 0.5012 -
//   accuracy: 0.8123
//
// redrawn in place with a carriage return while the epoch runs (at most once
// per 0.1 s), then finished as
//
//   469/469 [==============================] - 3s 6ms/step - loss: 0.4123 -
//   accuracy: 0.8571 - val_loss: 0.3900 - val_accuracy: 0.8610
//
// The metrics are running means over the epoch, weighted by the examples of
// each step (as Keras's Mean metrics are). When the output is not a terminal
// only the "Epoch" line and each epoch's final line are printed. The clock,
// the stream and whether it is a terminal are injected, so tests can script
// a run exactly.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_PROGRESSBAR_H
#define DLC_RUNTIME_PROGRESSBAR_H

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace dlc::rt {

/// A metric's name and value, e.g. {"val_loss", 0.39}.
struct NamedValue {
  std::string name;
  double value = 0;
};

/// A metric value as Keras prints it: "%.4f" when |value| > 1e-3, else
/// "%.4e" ("0.4123", "2.5000e-04", "0.0000e+00", "nan").
std::string formatMetricValue(double value);

/// "name: value - name: value ..." with `prefix` and a space before every
/// name when it is not empty: formatMetricLine("test", {{"loss", 0.3012},
/// {"accuracy", 0.8921}}) is "test loss: 0.3012 - test accuracy: 0.8921".
std::string formatMetricLine(std::string_view prefix,
                             const std::vector<NamedValue> &values);

/// Keras's ETA: "12s", "1:05" above a minute, "2:03:04" above an hour
/// (truncated to whole seconds; negative or non-finite counts as 0).
std::string formatEta(double seconds);

/// The time per step: "3s/step" (>= 1 s or 0), "6ms/step", "512us/step".
std::string formatStepTime(double seconds);

/// One epoch at a time of Keras-style progress output.
class ProgressBar {
public:
  /// Seconds on a monotonic clock.
  using Clock = std::function<double()>;

  /// `metricNames` name the values given to addStep, in order (e.g. "loss",
  /// "accuracy"). `clock` defaults to std::chrono::steady_clock.
  ProgressBar(std::vector<std::string> metricNames, std::ostream &out,
              bool isTty, Clock clock = Clock());

  /// A bar on std::cout, redrawn when standard output is a terminal.
  static ProgressBar forStdout(std::vector<std::string> metricNames);

  /// The least time between two redraws on a terminal (0.1 s).
  void setMinInterval(double seconds) { minInterval_ = seconds; }

  /// Prints "Epoch <epoch>/<epochs>" (epoch counts from 1) and starts an
  /// epoch of `steps` steps (0 or less: unknown).
  void beginEpoch(int64_t epoch, int64_t epochs, int64_t steps);

  /// Records one finished step: `values` (one per metric name; missing ones
  /// count as 0, extra ones are ignored) are the step's means over its
  /// `examples` examples (at least 1 counts). Redraws on a terminal when the
  /// last redraw is at least the minimum interval ago.
  void addStep(const std::vector<double> &values, int64_t examples = 1);

  /// Prints the epoch's final line, with `extra` (validation metrics, named
  /// "val_loss" and so on) appended.
  void endEpoch(const std::vector<NamedValue> &extra = {});

  /// The running means of the current (or last) epoch, by metric name.
  std::vector<NamedValue> means() const;
  int64_t stepsDone() const { return current_; }

private:
  /// "123/469 [=====>....]" (or "    123/Unknown").
  std::string barText() const;
  /// " - loss: 0.4123 - accuracy: 0.8571".
  std::string metricsText() const;
  /// Writes `line` over the previous one (terminal) or as a new line.
  void draw(const std::string &line, bool final);
  double now() const;

  std::vector<std::string> names_;
  std::vector<double> sums_;
  double weight_ = 0;
  std::ostream *out_;
  bool isTty_;
  Clock clock_;
  double minInterval_ = 0.1;

  int64_t target_ = 0;
  int64_t current_ = 0;
  double start_ = 0;
  double afterFirstStep_ = 0;
  double lastStep_ = 0;
  double lastDraw_ = 0;
  bool drawn_ = false;
  size_t lastWidth_ = 0;
};

} // namespace dlc::rt

#endif // DLC_RUNTIME_PROGRESSBAR_H
