//===- ProgressBar.cpp - Keras-style training progress --------------------===//
//
// Follows keras.utils.Progbar (verbose=1): the bar is 30 characters wide,
// the step count is right-aligned to the width of the total, the time per
// step leaves out the first step (which carries one-time start-up costs),
// and a shorter line is padded with spaces to erase the previous one.
//
//===----------------------------------------------------------------------===//
#include "runtime/ProgressBar.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

namespace dlc::rt {

namespace {

constexpr int kBarWidth = 30;

/// Whole seconds of a duration, clamped to [0, 10^15] (NaN counts as 0).
int64_t wholeSeconds(double seconds) {
  if (!(seconds > 0))
    return 0;
  return static_cast<int64_t>(std::min(seconds, 1e15));
}

std::string printf1(const char *format, double value) {
  char buffer[64];
  snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

/// Non-negative finite seconds for printing ("%.0f" of up to 10^15).
double printableSeconds(double seconds) {
  if (!(seconds > 0))
    return 0;
  return std::min(seconds, 1e15);
}

} // namespace

std::string formatMetricValue(double value) {
  return printf1(std::fabs(value) > 1e-3 ? "%.4f" : "%.4e", value);
}

std::string formatMetricLine(std::string_view prefix,
                             const std::vector<NamedValue> &values) {
  std::string line;
  for (const NamedValue &v : values) {
    if (!line.empty())
      line += " - ";
    if (!prefix.empty()) {
      line += prefix;
      line += ' ';
    }
    line += v.name + ": " + formatMetricValue(v.value);
  }
  return line;
}

std::string formatEta(double seconds) {
  // Keras compares the unrounded ETA: 3600.5 s is "1:00:00", 60.5 s "1:00".
  double eta = printableSeconds(seconds);
  int64_t s = wholeSeconds(eta);
  char buffer[64];
  if (eta > 3600)
    snprintf(buffer, sizeof(buffer), "%lld:%02lld:%02lld",
             static_cast<long long>(s / 3600),
             static_cast<long long>(s % 3600 / 60),
             static_cast<long long>(s % 60));
  else if (eta > 60)
    snprintf(buffer, sizeof(buffer), "%lld:%02lld",
             static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  else
    snprintf(buffer, sizeof(buffer), "%llds", static_cast<long long>(s));
  return buffer;
}

std::string formatStepTime(double seconds) {
  double s = printableSeconds(seconds);
  if (s >= 1 || s == 0)
    return printf1("%.0fs/step", s);
  if (s >= 1e-3)
    return printf1("%.0fms/step", s * 1e3);
  return printf1("%.0fus/step", s * 1e6);
}

ProgressBar::ProgressBar(std::vector<std::string> metricNames,
                         std::ostream &out, bool isTty, Clock clock)
    : names_(std::move(metricNames)), sums_(names_.size(), 0.0), out_(&out),
      isTty_(isTty), clock_(std::move(clock)) {}

ProgressBar ProgressBar::forStdout(std::vector<std::string> metricNames) {
  return ProgressBar(std::move(metricNames), std::cout,
                     isatty(STDOUT_FILENO) != 0);
}

double ProgressBar::now() const {
  if (clock_)
    return clock_();
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void ProgressBar::beginEpoch(int64_t epoch, int64_t epochs, int64_t steps) {
  if (lastWidth_ > 0)
    *out_ << '\n'; // the previous epoch's bar was left unfinished
  lastWidth_ = 0;
  *out_ << "Epoch " << epoch << '/' << epochs << '\n';
  out_->flush();
  std::fill(sums_.begin(), sums_.end(), 0.0);
  weight_ = 0;
  target_ = std::max<int64_t>(steps, 0);
  current_ = 0;
  start_ = now();
  afterFirstStep_ = start_;
  lastStep_ = start_;
  drawn_ = false;
}

std::vector<NamedValue> ProgressBar::means() const {
  std::vector<NamedValue> result;
  for (size_t i = 0; i < names_.size(); ++i)
    result.push_back({names_[i], weight_ > 0 ? sums_[i] / weight_ : 0.0});
  return result;
}

std::string ProgressBar::barText() const {
  char buffer[96];
  if (target_ <= 0) {
    snprintf(buffer, sizeof(buffer), "%7lld/Unknown",
             static_cast<long long>(current_));
    return buffer;
  }
  int digits = snprintf(nullptr, 0, "%lld", static_cast<long long>(target_));
  snprintf(buffer, sizeof(buffer), "%*lld/%lld [", digits,
           static_cast<long long>(current_), static_cast<long long>(target_));
  std::string text = buffer;
  int64_t done = std::min(current_, target_);
  int filled = static_cast<int>(
      done <= INT64_MAX / kBarWidth
          ? done * kBarWidth / target_
          : static_cast<int64_t>(double(done) / double(target_) * kBarWidth));
  filled = std::clamp(filled, 0, kBarWidth);
  if (filled > 0) {
    text.append(size_t(filled - 1), '=');
    text += current_ < target_ ? '>' : '=';
  }
  text.append(size_t(kBarWidth - filled), '.');
  text += ']';
  return text;
}

std::string ProgressBar::metricsText() const {
  std::string text;
  for (const NamedValue &v : means())
    text += " - " + v.name + ": " + formatMetricValue(v.value);
  return text;
}

void ProgressBar::draw(const std::string &line, bool final) {
  if (!isTty_) {
    if (final) {
      *out_ << line << '\n';
      out_->flush();
    }
    return;
  }
  *out_ << '\r' << line;
  if (lastWidth_ > line.size())
    *out_ << std::string(lastWidth_ - line.size(), ' ');
  lastWidth_ = final ? 0 : line.size();
  if (final)
    *out_ << '\n';
  out_->flush();
}

void ProgressBar::addStep(const std::vector<double> &values, int64_t examples) {
  double weight = static_cast<double>(std::max<int64_t>(examples, 1));
  for (size_t i = 0; i < sums_.size(); ++i)
    sums_[i] += weight * (i < values.size() ? values[i] : 0.0);
  weight_ += weight;
  ++current_;
  double t = now();
  lastStep_ = t;
  if (current_ == 1)
    afterFirstStep_ = t;
  if (!isTty_)
    return;
  if (drawn_ && t - lastDraw_ < minInterval_)
    return;
  drawn_ = true;
  lastDraw_ = t;
  // Keras: the time per step leaves out the first one once there are more.
  double perStep = current_ > 1 ? (t - afterFirstStep_) / double(current_ - 1)
                                : (t - start_);
  std::string line = barText();
  if (target_ > 0)
    line +=
        " - ETA: " +
        formatEta(perStep * double(std::max<int64_t>(target_ - current_, 0)));
  else
    line += " - " + formatStepTime(perStep);
  draw(line + metricsText(), /*final=*/false);
}

void ProgressBar::endEpoch(const std::vector<NamedValue> &extra) {
  double t = now();
  double perStep = 0;
  if (current_ > 1)
    perStep = (lastStep_ - afterFirstStep_) / double(current_ - 1);
  else if (current_ == 1)
    perStep = lastStep_ - start_;
  std::string line = barText() + " - " +
                     printf1("%.0fs", printableSeconds(t - start_)) + " " +
                     formatStepTime(perStep) + metricsText();
  for (const NamedValue &v : extra)
    line += " - " + v.name + ": " + formatMetricValue(v.value);
  draw(line, /*final=*/true);
}

} // namespace dlc::rt
