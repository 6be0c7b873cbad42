//===- BatchStream.h - batches in the model's layout, prefetched ----------===//
//
// Turns a Dataset into what CompiledModel::inputBuffer/targetBuffer expect:
//
//   - model inputs: the examples (or, for pairs(...), the left and right
//     examples), augmented while training, as T (float or double);
//   - targets: per TargetSpec, the class label (i32), the label as a number
//     (a float target of one value: binary labels, pair labels), a one-hot
//     row (a float target with one value per class), or a clean copy of a
//     model input (`target = input`).
//
// While training, `augment` applies per batch keyed by (seed, epoch, example
// position) and `input_noise` corrupts only the model input; a target that
// copies the input gets the clean (augmented) one. Validation, test and
// predict use the inference form of the augmentations (centered crops) and
// no noise. A background thread prepares the next batch while the model
// runs the current one; the batches are a pure function of (data, seed,
// epoch, step), whatever the timing.
//
// Memory: examples become T only here, batch by batch (a Dataset may hold
// IDX images as bytes). Without augmentation or noise an f32 input is
// gathered straight into the batch, with no float scratch copy; every
// batch buffer is released by stop(), so a finished stream (validation,
// test) holds nothing while another one runs.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_BATCHSTREAM_H
#define DLC_RUNTIME_BATCHSTREAM_H

#include "runtime/Augment.h"
#include "runtime/Batcher.h"
#include "runtime/CompiledModel.h"
#include "runtime/PairSampler.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dlc::rt {

/// How one target of the model is filled from the data.
enum class TargetFill {
  Label,      ///< an i32 class id
  FloatLabel, ///< the label (or pair label) as one T value
  OneHot,     ///< T[units], 1 at the label
  CopyInput,  ///< a clean copy of model input `input`
};

/// The mapping of a data source onto the model's buffers.
struct BatchFormat {
  int elementBytes = 4;
  bool pairs = false;
  /// The example shape the source gives and the one the model sees (after
  /// augmentations such as random_crop).
  std::vector<int64_t> sourceShape;
  std::vector<int64_t> modelShape;
  int64_t sourceElements = 0;
  int64_t modelElements = 0;
  /// 1, or 2 for pairs (left, right), and their dtypes (an i32 input gets
  /// the features rounded to ids).
  size_t inputs = 1;
  std::vector<DType> inputDtypes;
  struct Target {
    TargetFill fill = TargetFill::Label;
    int64_t elements = 1; ///< per example
    size_t input = 0;     ///< CopyInput
    DType dtype = DType::I32;
  };
  std::vector<Target> targets;
};

/// Checks that the data fits the model and describes how it maps: one input
/// (two for pairs) whose shape has the augmented example's number of values
/// (a reshape is allowed: [784] data for an f32[28, 28, 1] input), and a
/// fill for every target. False with a message naming both shapes
/// otherwise.
bool makeBatchFormat(const ModelSpec &spec,
                     const std::vector<int64_t> &exampleShape, bool pairs,
                     const std::vector<Augmentation> &augment,
                     BatchFormat &format, std::string &error);

/// Checks that every label of `data` fits the targets: below the classes of
/// a one-hot target, and below the units of the model output a class-id
/// target belongs to (output i for target i). Names the file, the example
/// and the label otherwise.
bool checkLabels(const Dataset &data, const BatchFormat &format,
                 const ModelSpec &spec, std::string &error);

/// One batch in the model's layout: `size` examples of every input and
/// target, as raw bytes ready to copy, except for compact inputs.
struct ModelBatch {
  uint64_t epoch = 0;
  int64_t step = 0;
  int64_t size = 0;
  std::vector<std::vector<unsigned char>> inputs;
  std::vector<std::vector<unsigned char>> targets;
  /// Per input: null, or (an f32 input of a Dataset held as bytes, with
  /// nothing to transform) `inputs[i]` holds one byte per value, which
  /// stands for byteValues[i][byte]; it becomes float when copied into the
  /// model (writeModelInput), a quarter of the memory in between.
  std::vector<const float *> byteValues;
};

/// The bytes input `input` of `batch` takes in the model's buffer.
size_t modelInputBytes(const ModelBatch &batch, size_t input);
/// Writes input `input` of `batch` as the model takes it to `out` (at least
/// modelInputBytes bytes).
void writeModelInput(const ModelBatch &batch, size_t input, void *out);

/// Copies `batch` into the model's input and target buffers.
void copyBatchToModel(const ModelBatch &batch, CompiledModel &model);

/// How a stream draws its batches.
struct StreamOptions {
  int64_t batchSize = 32;
  uint64_t seed = 0;
  /// Shuffle per epoch, apply `augment` and `inputNoise` (else: the data's
  /// order, inference augmentation, no noise).
  bool training = false;
  bool balancedPairs = true;
  std::vector<Augmentation> augment;
  std::optional<Augmentation> inputNoise;
  /// Prepare the next batch on a background thread.
  bool prefetch = true;
};

/// The batches of one Dataset, one epoch at a time.
class BatchStream {
public:
  BatchStream() = default;
  BatchStream(const BatchStream &) = delete;
  BatchStream &operator=(const BatchStream &) = delete;
  ~BatchStream() { stop(); }

  /// `data` and `format` must outlive the stream. False with a message when
  /// the data cannot be batched (e.g. pairs of a single class).
  bool init(const Dataset &data, const BatchFormat &format,
            const StreamOptions &options, std::string &error);

  /// Batches per epoch (the last may be partial) and examples per epoch.
  int64_t steps() const;
  int64_t count() const;

  /// Starts epoch `epoch` at batch `firstStep` (stopping any earlier one).
  void start(uint64_t epoch, int64_t firstStep);
  /// The next batch of the epoch, or null after the last. Valid until the
  /// next call or stop().
  const ModelBatch *next();
  /// Stops the background thread and releases the batch buffers (the next
  /// start() allocates them again).
  void stop();

  /// Fills `batch` with batch `step` of the current epoch on the caller's
  /// thread (what the background thread runs).
  void produce(int64_t step, ModelBatch &batch);

private:
  /// Writes `count` values as T (float dtypes) or rounded int32 ids.
  void convertInput(const float *values, int64_t count,
                    std::vector<unsigned char> &out, DType dtype) const;
  /// Whether model input `k` can be gathered straight into the batch: an
  /// f32 program's float input, no augmentation, no noise in this mode.
  bool gathersDirectly(size_t k) const;
  /// Whether the input can even stay bytes until copied into the model
  /// (gathersDirectly, a byte Dataset, one input, no target copies it).
  bool gathersBytes() const;
  /// `clean[k]`: model input k's examples before noise.
  void fillTargets(int64_t n, const int32_t *labels, const float *floatLabels,
                   const float *const *clean, ModelBatch &batch) const;
  /// Frees every batch buffer.
  void releaseBuffers();

  const Dataset *data_ = nullptr;
  const BatchFormat *format_ = nullptr;
  StreamOptions options_;
  Batcher batcher_;
  PairSampler pairs_;
  Augmenter augmenter_;
  uint64_t epoch_ = 0;
  // Scratch of the producer (one producer runs at a time).
  std::vector<float> raw_[2];
  std::vector<float> clean_[2];
  std::vector<float> noisy_;
  std::vector<int32_t> labels_;
  std::vector<float> pairLabels_;
  ModelBatch slots_[2];
  std::unique_ptr<PrefetchThread> thread_;
  bool synchronousDone_ = true;
  int64_t nextStep_ = 0;
  ModelBatch current_;
};

} // namespace dlc::rt

#endif // DLC_RUNTIME_BATCHSTREAM_H
