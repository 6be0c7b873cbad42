//===- IdxLoader.cpp - the MNIST (IDX) data source
//--------------------------===//

#include "runtime/IdxLoader.h"

#include <cstdio>
#include <utility>

namespace dlc::rt {

namespace {

constexpr uint32_t kImageMagic = 0x00000803; // unsigned bytes, 3 dimensions
constexpr uint32_t kLabelMagic = 0x00000801; // unsigned bytes, 1 dimension
constexpr const char *kAllNames =
    "idx() reads train-images-idx3-ubyte, train-labels-idx1-ubyte, "
    "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each optionally "
    "ending in .gz";

uint32_t readBigEndian32(const uint8_t *bytes) {
  return uint32_t(bytes[0]) << 24 | uint32_t(bytes[1]) << 16 |
         uint32_t(bytes[2]) << 8 | uint32_t(bytes[3]);
}

std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof(text), "0x%08x", value);
  return text;
}

/// What a wrong magic number suggests the file is.
std::string magicHint(uint32_t found, uint32_t expected) {
  if (found == kLabelMagic)
    return "this is an IDX label file; are the image and label files swapped?";
  if (found == kImageMagic)
    return "this is an IDX image file; are the image and label files "
           "swapped?";
  if ((found >> 16) != 0)
    return "this does not look like an IDX file at all";
  unsigned type = (found >> 8) & 0xff, dims = found & 0xff;
  if (type != 0x08)
    return "its element type is 0x" + hex32(type).substr(8) +
           ", but only unsigned bytes (0x08) are supported";
  return "it has " + std::to_string(dims) + " dimensions, expected " +
         std::to_string(expected & 0xff);
}

/// The file's bytes after checking its magic number and that it is long
/// enough for a header of `headerBytes`.
bool checkHeader(const std::string &path, const std::vector<uint8_t> &bytes,
                 uint32_t expectedMagic, size_t headerBytes, const char *kind,
                 std::string &error) {
  if (bytes.size() < 4)
    return failLoad(error, path,
                    "truncated: the file has " + std::to_string(bytes.size()) +
                        " bytes but an IDX " + kind + " header needs " +
                        std::to_string(headerBytes),
                    "the file may be damaged or incompletely downloaded");
  uint32_t magic = readBigEndian32(bytes.data());
  if (magic != expectedMagic)
    return failLoad(error, path,
                    "not an IDX " + std::string(kind) + " file: magic number " +
                        hex32(magic) + ", expected " + hex32(expectedMagic),
                    magicHint(magic, expectedMagic));
  if (bytes.size() < headerBytes)
    return failLoad(error, path,
                    "truncated: the file has " + std::to_string(bytes.size()) +
                        " bytes but an IDX " + kind + " header needs " +
                        std::to_string(headerBytes),
                    "the file may be damaged or incompletely downloaded");
  return true;
}

/// Checks that `bytes` holds exactly `expected` bytes of data after a header
/// of `headerBytes`; `declared` describes the header's claim for messages.
bool checkPayloadSize(const std::string &path,
                      const std::vector<uint8_t> &bytes, size_t headerBytes,
                      bool fits, uint64_t expected, const std::string &declared,
                      const char *payload, std::string &error) {
  uint64_t available = bytes.size() - headerBytes;
  if (!fits || available < expected)
    return failLoad(error, path,
                    "truncated: header says " + declared + " (" +
                        (fits ? std::to_string(expected) + " bytes"
                              : std::string("more than 4 GiB")) +
                        ") but the file has " + std::to_string(available) +
                        " bytes of " + payload,
                    "the file may be damaged or incompletely downloaded");
  if (available > expected)
    return failLoad(error, path,
                    "unexpected data: " + std::to_string(available - expected) +
                        " bytes follow the " + declared +
                        " the header declares",
                    "is it the right file?");
  return true;
}

/// Parses an IDX image file into `out` (features and shape; count set). The
/// pixels stay in `bytes`, which `out` takes over (no copy).
bool parseImages(const std::string &path, std::vector<uint8_t> &&bytes,
                 Dataset &out, std::string &error) {
  constexpr size_t kHeader = 16;
  if (!checkHeader(path, bytes, kImageMagic, kHeader, "image", error))
    return false;
  uint32_t count = readBigEndian32(bytes.data() + 4);
  uint32_t rows = readBigEndian32(bytes.data() + 8);
  uint32_t cols = readBigEndian32(bytes.data() + 12);
  if (count == 0)
    return failLoad(error, path, "header says the file holds 0 images",
                    "a data source needs at least one example");
  if (rows == 0 || cols == 0)
    return failLoad(error, path,
                    "header says the images are " + std::to_string(rows) + "x" +
                        std::to_string(cols) + " pixels",
                    "images need at least one row and one column");
  std::string declared = std::to_string(count) + " images of " +
                         std::to_string(rows) + "x" + std::to_string(cols);
  uint64_t pixels = 0, perImage = 0;
  bool fits = checkedMul(rows, cols, kMaxDataFileBytes, perImage) &&
              checkedMul(perImage, count, kMaxDataFileBytes, pixels);
  if (!checkPayloadSize(path, bytes, kHeader, fits, pixels, declared,
                        "pixel data", error))
    return false;

  out.exampleShape = {int64_t(rows), int64_t(cols), 1};
  out.count = int64_t(count);
  out.source = path;
  out.features.clear();
  out.bytes =
      makeByteFeatures(std::move(bytes), kHeader, size_t(pixels), 255.0f);
  return true;
}

/// Parses an IDX label file into `labels`.
bool parseLabels(const std::string &path, const std::vector<uint8_t> &bytes,
                 std::vector<int32_t> &labels, std::string &error) {
  constexpr size_t kHeader = 8;
  if (!checkHeader(path, bytes, kLabelMagic, kHeader, "label", error))
    return false;
  uint32_t count = readBigEndian32(bytes.data() + 4);
  if (!checkPayloadSize(path, bytes, kHeader, true, count,
                        std::to_string(count) + " labels", "label data", error))
    return false;
  labels.assign(bytes.begin() + kHeader, bytes.end());
  return true;
}

/// Finds `dir/name`, else `dir/name.gz`; false when neither exists.
bool findIdxFile(const std::string &dir, const std::string &name,
                 std::string &path) {
  path = joinPath(dir, name);
  if (pathExists(path))
    return true;
  path += ".gz";
  return pathExists(path);
}

std::string missingMessage(const std::string &name) {
  return "missing " + name + " (" + name + ".gz is also accepted)";
}

/// Loads one image file and its label file into `out`.
bool loadPair(const std::string &imagesPath, const std::string &labelsPath,
              Dataset &out, std::string &error) {
  std::vector<uint8_t> bytes;
  if (!readDataFile(imagesPath, kMaxDataFileBytes, bytes, error) ||
      !parseImages(imagesPath, std::move(bytes), out, error))
    return false;
  if (!readDataFile(labelsPath, kMaxDataFileBytes, bytes, error) ||
      !parseLabels(labelsPath, bytes, out.labels, error))
    return false;
  if (int64_t(out.labels.size()) != out.count)
    return failLoad(error, labelsPath,
                    "holds " + std::to_string(out.labels.size()) +
                        " labels but " + imagesPath + " holds " +
                        std::to_string(out.count) + " images",
                    "the image and label files must come from the same "
                    "split");
  return true;
}

/// loadIdx without clearing `out` on failure.
bool loadIdxFiles(const std::string &dir, Split &out, std::string &error,
                  SplitParts parts) {
  if (!isDirectory(dir))
    return failLoad(error, dir,
                    pathExists(dir) ? "is not a folder" : "no such folder",
                    kAllNames);
  std::string trainImages, trainLabels, testImages, testLabels;
  if (!findIdxFile(dir, "train-images-idx3-ubyte", trainImages))
    return failLoad(error, dir, missingMessage("train-images-idx3-ubyte"),
                    kAllNames);
  if (!findIdxFile(dir, "train-labels-idx1-ubyte", trainLabels))
    return failLoad(error, dir, missingMessage("train-labels-idx1-ubyte"),
                    kAllNames);
  bool haveTestImages = findIdxFile(dir, "t10k-images-idx3-ubyte", testImages);
  bool haveTestLabels = findIdxFile(dir, "t10k-labels-idx1-ubyte", testLabels);
  if (haveTestImages && !haveTestLabels)
    return failLoad(error, dir, missingMessage("t10k-labels-idx1-ubyte"),
                    "the test split needs both t10k files, or neither");
  if (!haveTestImages && haveTestLabels)
    return failLoad(error, dir, missingMessage("t10k-images-idx3-ubyte"),
                    "the test split needs both t10k files, or neither");

  bool testOnly = parts == SplitParts::TestOnly;
  if (!testOnly && !loadPair(trainImages, trainLabels, out.train, error))
    return false;
  if (haveTestImages) {
    if (!loadPair(testImages, testLabels, out.test, error) ||
        (!testOnly && !checkSameExampleShape(out.train, out.test, error)))
      return false;
    out.hasTest = true;
  }
  return true;
}

} // namespace

bool loadIdx(const std::string &dir, Split &out, std::string &error,
             SplitParts parts) {
  out = Split();
  if (loadIdxFiles(dir, out, error, parts))
    return true;
  out = Split();
  return false;
}

} // namespace dlc::rt
