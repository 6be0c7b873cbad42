//===- Dataset.h - loaded examples and shared loader helpers -------------===//
//
// Every data source of a train section (`idx(dir)`, `csv(path)`,
// `npy(dir)`) loads into the same in-memory form: a Dataset of float features
// and int32 class labels, split into a training and an optional test part.
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

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dlc::rt {

/// A set of labeled examples.
struct Dataset {
  /// The shape of one example, e.g. {28, 28, 1}.
  std::vector<int64_t> exampleShape;
  /// count * prod(exampleShape) values, row-major, already scaled.
  std::vector<float> features;
  /// One class id (or 0/1) per example; never negative.
  std::vector<int32_t> labels;
  /// The number of examples.
  int64_t count = 0;
  /// The file the features came from, for messages.
  std::string source;
};

/// A data source's training examples and, when it has them, its test ones.
struct Split {
  Dataset train;
  Dataset test;
  bool hasTest = false;
};

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
