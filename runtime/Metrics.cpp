//===- Metrics.cpp - per-epoch metric accumulators as Keras computes them -===//

#include "runtime/Metrics.h"

#include <cmath>
#include <limits>

namespace dlc::rt {

double binaryAccuracyThreshold(bool fromLogits) {
  return fromLogits ? 0.0 : 0.5;
}

MetricKind accuracyKindFor(std::string_view lossName, int64_t outputUnits) {
  if (outputUnits == 1)
    return MetricKind::BinaryAccuracy;
  if (lossName == "sparse_categorical_crossentropy")
    return MetricKind::SparseCategoricalAccuracy;
  return MetricKind::CategoricalAccuracy;
}

namespace {

/// numpy's argmax: the first maximum, or the first NaN if there is one.
template <typename T> int64_t argmax(const T *row, int64_t units) {
  int64_t best = 0;
  for (int64_t i = 0; i < units; ++i) {
    if (std::isnan(row[i]))
      return i;
    if (row[i] > row[best])
      best = i;
  }
  return best;
}

/// Keras's in_top_k (JAX backend): 1 + the number of predictions strictly
/// greater than the label's (a NaN there counts as -inf) is at most k.
template <typename T>
bool inTopK(const T *row, int64_t units, int32_t label, int64_t k) {
  if (label < 0 || label >= units)
    return false;
  double atLabel = double(row[label]);
  if (std::isnan(atLabel))
    atLabel = -std::numeric_limits<double>::infinity();
  int64_t greater = 0;
  for (int64_t i = 0; i < units; ++i)
    if (double(row[i]) > atLabel)
      ++greater;
  return greater < k;
}

/// One position's value of a dense metric (summed over its units).
template <typename T>
double denseValue(const MetricSpec &spec, const T *pred, const T *target,
                  int64_t units) {
  switch (spec.kind) {
  case MetricKind::BinaryAccuracy: {
    double matches = 0;
    for (int64_t i = 0; i < units; ++i) {
      double predicted = double(pred[i]) > spec.threshold ? 1.0 : 0.0;
      matches += double(target[i]) == predicted ? 1.0 : 0.0;
    }
    return matches;
  }
  case MetricKind::CategoricalAccuracy:
    return argmax(target, units) == argmax(pred, units) ? 1.0 : 0.0;
  case MetricKind::MeanSquaredError: {
    double sum = 0;
    for (int64_t i = 0; i < units; ++i) {
      double d = double(target[i]) - double(pred[i]);
      sum += d * d;
    }
    return sum;
  }
  case MetricKind::MeanAbsoluteError: {
    double sum = 0;
    for (int64_t i = 0; i < units; ++i)
      sum += std::fabs(double(target[i]) - double(pred[i]));
    return sum;
  }
  default:
    return 0;
  }
}

template <typename T>
double batchSum(const MetricSpec &spec, const MetricBatchShape &shape,
                const T *pred, const T *target, const int32_t *labels) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // The whole batch's size must fit, so every offset below does too.
  int64_t exampleSize = 0, batchSize = 0;
  if (shape.examples < 0 || shape.positions < 1 || shape.units < 1 ||
      __builtin_mul_overflow(shape.positions, shape.units, &exampleSize) ||
      __builtin_mul_overflow(exampleSize, shape.examples, &batchSize) || !pred)
    return nan;
  bool sparse = spec.kind == MetricKind::SparseCategoricalAccuracy ||
                spec.kind == MetricKind::SparseTopKAccuracy;
  if (sparse ? !labels : !target)
    return nan;
  if (spec.kind == MetricKind::SparseTopKAccuracy && spec.k < 1)
    return nan;
  // Each position's value is summed over its units for mse/mae, averaged
  // (over units, then positions) by dividing once per example.
  bool perUnit = spec.kind == MetricKind::MeanSquaredError ||
                 spec.kind == MetricKind::MeanAbsoluteError ||
                 spec.kind == MetricKind::BinaryAccuracy;
  double divisor = perUnit ? double(exampleSize) : double(shape.positions);
  double sum = 0;
  for (int64_t e = 0; e < shape.examples; ++e) {
    double exampleSum = 0;
    for (int64_t p = 0; p < shape.positions; ++p) {
      int64_t row = e * shape.positions + p;
      const T *predRow = pred + row * shape.units;
      if (spec.kind == MetricKind::SparseCategoricalAccuracy)
        exampleSum += argmax(predRow, shape.units) == labels[row] ? 1.0 : 0.0;
      else if (spec.kind == MetricKind::SparseTopKAccuracy)
        exampleSum += inTopK(predRow, shape.units, labels[row], spec.k);
      else
        exampleSum +=
            denseValue(spec, predRow, target + row * shape.units, shape.units);
    }
    sum += exampleSum / divisor;
  }
  return sum;
}

} // namespace

double metricBatchSum(const MetricSpec &spec, const MetricBatchShape &shape,
                      const float *prediction, const float *target,
                      const int32_t *labels) {
  return batchSum(spec, shape, prediction, target, labels);
}

double metricBatchSum(const MetricSpec &spec, const MetricBatchShape &shape,
                      const double *prediction, const double *target,
                      const int32_t *labels) {
  return batchSum(spec, shape, prediction, target, labels);
}

} // namespace dlc::rt
