//===- Metrics.h - per-epoch metric accumulators as Keras computes them ---===//
//
// A metric of one output is computed per batch as the sum over the batch's
// examples of each example's value (Keras's MeanMetricWrapper: the value
// averaged over every non-batch axis), and accumulated over an epoch by a
// MeanMetric (total / examples), so each batch counts by its examples:
//
//   MeanMetric acc;
//   acc.add(metricBatchSum(spec, shape, logits, nullptr, labels), batch);
//   acc.result();
//
// The loss mean is a MeanMetric fed with the batch's mean loss
// (addMean(loss, batch)), as Keras's loss tracker weights it by the batch
// size. The functions are pure, read the buffers once and allocate nothing.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_METRICS_H
#define DLC_RUNTIME_METRICS_H

#include <cstdint>
#include <string_view>

namespace dlc::rt {

/// The metrics of a train section. `accuracy` becomes one of the three
/// accuracies (accuracyKindFor); `top_k_accuracy(k)` is Keras's sparse one.
enum class MetricKind {
  BinaryAccuracy,            ///< target == (prediction > threshold)
  CategoricalAccuracy,       ///< argmax(target) == argmax(prediction)
  SparseCategoricalAccuracy, ///< label == argmax(prediction)
  MeanSquaredError,          ///< mean((target - prediction)^2)
  MeanAbsoluteError,         ///< mean(|target - prediction|)
  SparseTopKAccuracy,        ///< label among the k highest predictions
};

/// One metric and its arguments.
struct MetricSpec {
  MetricKind kind = MetricKind::SparseCategoricalAccuracy;
  int64_t k = 5; ///< SparseTopKAccuracy
  /// BinaryAccuracy: Keras's 0.5 for probabilities; use
  /// binaryAccuracyThreshold(true) (0) for a logit output, since
  /// sigmoid(z) > 0.5 exactly when z > 0 (Keras compares raw logits with
  /// 0.5, which is not what the model means).
  double threshold = 0.5;
};

/// The threshold of binary accuracy on probabilities (0.5) or logits (0).
double binaryAccuracyThreshold(bool fromLogits);

/// Keras 3's choice for `metrics = [accuracy]` (compile_utils.get_metric)
/// given the output's last axis `outputUnits` and the loss, which fixes the
/// labels' layout: binary accuracy when the output has one unit (e.g.
/// binary_crossentropy on a sigmoid unit), sparse categorical accuracy for
/// "sparse_categorical_crossentropy" (labels are class ids), else
/// categorical accuracy (labels have the output's shape, e.g.
/// categorical_crossentropy).
MetricKind accuracyKindFor(std::string_view lossName, int64_t outputUnits);

/// The layout of one batch of one output: `examples` examples of
/// `positions` x `units` values (`units` is the output's last axis,
/// `positions` the product of the others, 1 for a vector output). Sparse
/// labels are `examples` x `positions` class ids; dense targets have the
/// output's layout.
struct MetricBatchShape {
  int64_t examples = 0;
  int64_t positions = 1;
  int64_t units = 1;
};

/// The sum over the batch's examples of each example's metric value (its
/// mean over positions and, for mse/mae, units). `target` is read by the
/// dense metrics, `labels` by the sparse ones (the other may be null).
/// Argmax takes the first maximum, and the first NaN when there is one (as
/// numpy); a label outside [0, units) never matches. Top-k counts ties in
/// the label's favour (rank = 1 + the number of strictly greater
/// predictions, Keras's in_top_k; a NaN at the label ranks last). Returns
/// NaN when the shape is invalid (a count below 0 or 1, a size that
/// overflows, k < 1) or a needed buffer is null.
double metricBatchSum(const MetricSpec &spec, const MetricBatchShape &shape,
                      const float *prediction, const float *target,
                      const int32_t *labels);
double metricBatchSum(const MetricSpec &spec, const MetricBatchShape &shape,
                      const double *prediction, const double *target,
                      const int32_t *labels);

/// A running mean over an epoch, weighted by examples (Keras's Mean metric
/// with divide_no_nan: 0 before anything was added). Its two numbers are
/// exposed for checkpoints.
class MeanMetric {
public:
  /// Adds a batch whose per-example values sum to `sum`.
  void add(double sum, int64_t examples) {
    total_ += sum;
    count_ += double(examples > 0 ? examples : 0);
  }
  /// Adds a batch whose per-example values average `mean` (a batch's loss).
  void addMean(double mean, int64_t examples) {
    if (examples > 0)
      add(mean * double(examples), examples);
  }
  double result() const { return count_ > 0 ? total_ / count_ : 0.0; }
  void reset() { total_ = count_ = 0; }
  double total() const { return total_; }
  double count() const { return count_; }
  /// Restores total() and count() saved from another MeanMetric.
  void restore(double total, double count) {
    total_ = total;
    count_ = count;
  }

private:
  double total_ = 0;
  double count_ = 0;
};

} // namespace dlc::rt

#endif // DLC_RUNTIME_METRICS_H
