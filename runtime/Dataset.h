//===- Dataset.h - loaded examples and shared loader helpers -------------===//
//
// Every data source of a train section (`idx(dir)`, `csv(path)`,
// `npy(dir)`) loads into the same in-memory form: a Dataset of features and
// int32 class labels, split into a training and an optional test part.
// CSV and NPY features are held as float; IDX images stay the unsigned bytes
// they came in (a quarter of the memory) inside the decompressed file's own
// buffer, and become float only when a batch is gathered
// (Dataset::copyExample): float(byte) / 255, exactly the value a float copy
// would have held.
//
// Loaders report failures as `false` plus a message that names the file,
// says what is wrong and what was expected, e.g.
//
//   /data/train-images-idx3-ubyte.gz: truncated: header says 60000 images of
//   28x28 (47040000 bytes) but the file has 1024 bytes of pixel data
//
// The helpers below are shared by all loaders: bounded file reading (with
// transparent gzip decompression), checked element counts and the message
// format. Everything read from a file is untrusted; nothing here asserts.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_DATASET_H
#define DLC_RUNTIME_DATASET_H

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dlc::rt {

/// Features held as unsigned bytes: a window of a shared buffer (the
/// decompressed file, header included), so that splitting off validation
/// examples or copying a Dataset never copies the bytes. Byte b stands for
/// the feature `values[b]` = float(b) / divisor.
struct ByteFeatures {
  std::shared_ptr<const std::vector<uint8_t>> buffer;
  /// The first feature byte inside `buffer`, and the number of feature bytes.
  size_t offset = 0;
  size_t size = 0;
  /// float(b) / divisor for every byte value b.
  std::array<float, 256> values{};

  /// The feature bytes (null when there is no buffer).
  const uint8_t *data() const {
    return buffer ? buffer->data() + offset : nullptr;
  }
};

/// Wraps `bytes` (moved, not copied) as the byte features
/// bytes[offset, offset + size), each standing for float(b) / divisor.
/// The window is clamped to the buffer.
ByteFeatures makeByteFeatures(std::vector<uint8_t> &&bytes, size_t offset,
                              size_t size, float divisor);

/// A set of labeled examples.
struct Dataset {
  /// The shape of one example, e.g. {28, 28, 1}.
  std::vector<int64_t> exampleShape;
  /// count * prod(exampleShape) values, row-major, already scaled; empty when
  /// the features are held as bytes.
  std::vector<float> features;
  /// The features as bytes (IDX images) instead of `features`: used when its
  /// buffer is set.
  ByteFeatures bytes;
  /// One class id (or 0/1) per example; never negative.
  std::vector<int32_t> labels;
  /// The number of examples.
  int64_t count = 0;
  /// The file the features came from, for messages.
  std::string source;

  /// True when the features are held as bytes.
  bool holdsBytes() const { return bytes.buffer != nullptr; }
  /// The number of feature values held (either form).
  uint64_t featureCount() const {
    return holdsBytes() ? uint64_t(bytes.size) : uint64_t(features.size());
  }
  /// Feature `i` as float (0 <= i < featureCount()).
  float feature(uint64_t i) const {
    return holdsBytes() ? bytes.values[bytes.data()[i]] : features[i];
  }
  /// Writes the `exampleSize` features of example `index` as float to `out`
  /// (the caller checked the layout, e.g. with checkDatasetLayout).
  void copyExample(int64_t index, int64_t exampleSize, float *out) const;
};

/// A data source's training examples and, when it has them, its test ones.
struct Split {
  Dataset train;
  Dataset test;
  bool hasTest = false;
};

/// Which parts of a data source a loader reads. `TestOnly` reads the test
/// split alone (a training run scores it after training, once the training
/// examples are freed); its absence is then not an error (`hasTest` false).
enum class SplitParts { TrainAndTest, TestOnly };

/// The most bytes a loader reads from one file, after decompression (4 GiB).
/// Caps what a corrupt header or a gzip bomb can make a loader allocate.
constexpr uint64_t kMaxDataFileBytes = uint64_t(4) << 30;

/// Formats a loader error: "<file>: <what>", then "; <hint>" when a hint is
/// given.
std::string formatLoadError(std::string_view file, std::string_view what,
                            std::string_view hint = {});

/// Sets `error` to formatLoadError(file, what, hint) and returns false, so a
/// loader can `return failLoad(error, path, "...", "...");`.
bool failLoad(std::string &error, std::string_view file, std::string_view what,
              std::string_view hint = {});

/// Multiplies `dims` (each must be >= 0) into `count`; false when a dimension
/// is negative or the product exceeds `limit`. Never overflows.
bool checkedElementCount(const std::vector<int64_t> &dims, uint64_t limit,
                         uint64_t &count);

/// `a * b` into `out`; false (and `out` unchanged) when it exceeds `limit`.
bool checkedMul(uint64_t a, uint64_t b, uint64_t limit, uint64_t &out);

/// Joins dims as "28x28" (used in messages).
std::string joinDims(const std::vector<int64_t> &dims, std::string_view sep);

/// `dir` + "/" + `name` (no doubled slash).
std::string joinPath(const std::string &dir, const std::string &name);

/// True when something (file, folder, ...) exists at `path`.
bool pathExists(const std::string &path);
/// True when `path` names an existing regular file (not a folder or device).
bool isRegularFile(const std::string &path);
/// True when `path` names an existing folder.
bool isDirectory(const std::string &path);

/// Reads the whole regular file `path` into `bytes`. A file whose name ends in
/// ".gz" is decompressed (several concatenated gzip members are allowed). Fails
/// with a message naming the file when it cannot be opened, is not a regular
/// file, is corrupt, or holds more than `maxBytes` bytes (after
/// decompression).
bool readDataFile(const std::string &path, uint64_t maxBytes,
                  std::vector<uint8_t> &bytes, std::string &error);

/// Quotes `text` for a message, cut to at most 40 characters ("..." marks a
/// cut) with control characters shown as '?'.
std::string quoteForMessage(std::string_view text);

/// Checks that every feature of `data` is finite; otherwise names the first
/// bad one (example number and position inside the example) and fails.
bool checkFinite(const Dataset &data, std::string &error);

/// Checks that `train` and `test` have the same example shape; otherwise fails
/// naming both files and both shapes.
bool checkSameExampleShape(const Dataset &train, const Dataset &test,
                           std::string &error);

} // namespace dlc::rt

#endif // DLC_RUNTIME_DATASET_H
