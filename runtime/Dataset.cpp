//===- Dataset.cpp - helpers shared by the data loaders
//---------------------===//

#include "runtime/Dataset.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>
#include <utility>

namespace dlc::rt {

ByteFeatures makeByteFeatures(std::vector<uint8_t> &&bytes, size_t offset,
                              size_t size, float divisor) {
  ByteFeatures out;
  out.offset = offset < bytes.size() ? offset : bytes.size();
  out.size =
      size < bytes.size() - out.offset ? size : bytes.size() - out.offset;
  out.buffer = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  for (unsigned b = 0; b < 256; ++b)
    out.values[b] = float(b) / divisor;
  return out;
}

void Dataset::copyExample(int64_t index, int64_t exampleSize,
                          float *out) const {
  if (exampleSize <= 0)
    return;
  size_t first = size_t(index) * size_t(exampleSize);
  if (!holdsBytes()) {
    std::memcpy(out, features.data() + first,
                size_t(exampleSize) * sizeof(float));
    return;
  }
  const uint8_t *in = bytes.data() + first;
  const float *values = bytes.values.data();
  for (int64_t i = 0; i < exampleSize; ++i)
    out[i] = values[in[i]];
}

std::string formatLoadError(std::string_view file, std::string_view what,
                            std::string_view hint) {
  std::string message;
  message.reserve(file.size() + what.size() + hint.size() + 4);
  message.append(file).append(": ").append(what);
  if (!hint.empty())
    message.append("; ").append(hint);
  return message;
}

bool failLoad(std::string &error, std::string_view file, std::string_view what,
              std::string_view hint) {
  error = formatLoadError(file, what, hint);
  return false;
}

bool checkedMul(uint64_t a, uint64_t b, uint64_t limit, uint64_t &out) {
  if (a != 0 && b > limit / a)
    return false;
  out = a * b;
  return true;
}

bool checkedElementCount(const std::vector<int64_t> &dims, uint64_t limit,
                         uint64_t &count) {
  uint64_t product = 1;
  for (int64_t dim : dims) {
    if (dim < 0 || !checkedMul(product, uint64_t(dim), limit, product))
      return false;
  }
  if (product > limit)
    return false;
  count = product;
  return true;
}

std::string joinDims(const std::vector<int64_t> &dims, std::string_view sep) {
  std::string text;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i)
      text.append(sep);
    text += std::to_string(dims[i]);
  }
  return text;
}

std::string joinPath(const std::string &dir, const std::string &name) {
  if (dir.empty())
    return name;
  if (dir.back() == '/')
    return dir + name;
  return dir + "/" + name;
}

bool pathExists(const std::string &path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

bool isRegularFile(const std::string &path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

bool isDirectory(const std::string &path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

/// "4 GiB", "512 MiB" or "1000 bytes", for the size cap in messages.
static std::string formatByteCount(uint64_t bytes) {
  if (bytes >= (uint64_t(1) << 30) && bytes % (uint64_t(1) << 30) == 0)
    return std::to_string(bytes >> 30) + " GiB";
  if (bytes >= (uint64_t(1) << 20) && bytes % (uint64_t(1) << 20) == 0)
    return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}

namespace {
/// Closes a zlib file on every path out of readDataFile.
struct GzFileCloser {
  gzFile file;
  ~GzFileCloser() {
    if (file)
      gzclose_r(file);
  }
};
} // namespace

/// The decompressed size a gzip file's last member declares (its trailer's
/// ISIZE, the size modulo 2^32), or 0 when the file is not gzip or the claim
/// is beyond what deflate can expand `fileSize` bytes to (about 1032:1), so
/// a corrupt trailer cannot make the reader allocate much.
static uint64_t gzipSizeHint(const std::string &path, off_t fileSize) {
  if (fileSize < 18)
    return 0;
  std::FILE *file = std::fopen(path.c_str(), "rb");
  if (!file)
    return 0;
  unsigned char magic[2] = {0, 0}, trailer[4] = {0, 0, 0, 0};
  bool ok = std::fread(magic, 1, 2, file) == 2 && magic[0] == 0x1f &&
            magic[1] == 0x8b && std::fseek(file, -4, SEEK_END) == 0 &&
            std::fread(trailer, 1, 4, file) == 4;
  std::fclose(file);
  if (!ok)
    return 0;
  uint64_t declared = uint64_t(trailer[0]) | uint64_t(trailer[1]) << 8 |
                      uint64_t(trailer[2]) << 16 | uint64_t(trailer[3]) << 24;
  return declared <= uint64_t(fileSize) * 1032 ? declared : 0;
}

bool readDataFile(const std::string &path, uint64_t maxBytes,
                  std::vector<uint8_t> &bytes, std::string &error) {
  bytes.clear();
  struct stat info;
  if (::stat(path.c_str(), &info) != 0)
    return failLoad(error, path,
                    std::string("cannot open: ") + std::strerror(errno));
  if (!S_ISREG(info.st_mode))
    return failLoad(error, path,
                    S_ISDIR(info.st_mode) ? "is a folder, not a file"
                                          : "is not a regular file");

  // zlib reads plain files as they are and decompresses gzip ones (found by
  // their content, so a compressed file without ".gz" also works).
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file)
    return failLoad(error, path,
                    std::string("cannot open: ") +
                        (errno ? std::strerror(errno) : "out of memory"));
  GzFileCloser closer{file};
  // zlib allocates this much for compressed input and twice as much for
  // output. Kept small: glibc serves later, smaller requests from the heap
  // once a freed mmap raised its threshold, and the heap keeps them after
  // the load, so MiB-sized buffers would stay in the process's memory.
  gzbuffer(file, 128u << 10);

  // Start with the file's size (exact for plain files), or for a gzip file
  // the size its trailer declares, so that the buffer is allocated once and
  // never copied while growing; grow geometrically when the guess is short.
  // Read one byte past the cap so a file that exceeds it is noticed.
  const uint64_t hardLimit = maxBytes + 1;
  uint64_t capacity =
      std::max(uint64_t(info.st_size), gzipSizeHint(path, info.st_size)) + 1;
  if (capacity < (uint64_t(1) << 16))
    capacity = uint64_t(1) << 16;
  if (capacity > hardLimit)
    capacity = hardLimit;
  uint64_t size = 0;
  for (;;) {
    if (size == capacity) {
      if (capacity == hardLimit)
        break;
      capacity = capacity > hardLimit / 2 ? hardLimit : capacity * 2;
    }
    if (bytes.size() < capacity)
      bytes.resize(capacity);
    uint64_t want = capacity - size;
    if (want > (uint64_t(1) << 30))
      want = uint64_t(1) << 30;
    int got = gzread(file, bytes.data() + size, unsigned(want));
    if (got < 0)
      break; // The error is read below.
    if (got == 0)
      break;
    size += uint64_t(got);
  }
  int status = Z_OK;
  const char *zmessage = gzerror(file, &status);
  if (status != Z_OK) {
    bytes.clear();
    if (status == Z_ERRNO)
      return failLoad(error, path,
                      std::string("read error: ") + std::strerror(errno));
    // zlib's messages start with the path, which the error names already.
    std::string_view detail = zmessage ? zmessage : "unknown error";
    if (detail.substr(0, path.size()) == path &&
        detail.substr(path.size(), 2) == ": ")
      detail.remove_prefix(path.size() + 2);
    return failLoad(error, path,
                    "corrupt gzip data (" + std::string(detail) + ")",
                    "the file may be damaged or incompletely downloaded");
  }
  if (size > maxBytes) {
    bytes.clear();
    return failLoad(error, path,
                    "holds more than " + formatByteCount(maxBytes) +
                        " (after decompression), the most a data file may "
                        "have",
                    "is it the right file?");
  }
  bytes.resize(size);
  return true;
}

std::string quoteForMessage(std::string_view text) {
  constexpr size_t kMaxShown = 40;
  std::string quoted = "'";
  size_t shown = text.size() < kMaxShown ? text.size() : kMaxShown;
  for (size_t i = 0; i < shown; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    quoted += (c < 0x20 || c == 0x7f) ? '?' : char(c);
  }
  if (text.size() > kMaxShown)
    quoted += "...";
  quoted += "'";
  return quoted;
}

/// Writes flat offset `offset` inside an example of shape `shape` as
/// "[i, j, k]".
static std::string formatPosition(const std::vector<int64_t> &shape,
                                  uint64_t offset) {
  std::vector<int64_t> index(shape.size(), 0);
  for (size_t d = shape.size(); d-- > 0;) {
    if (shape[d] <= 0)
      continue;
    index[d] = int64_t(offset % uint64_t(shape[d]));
    offset /= uint64_t(shape[d]);
  }
  return "[" + joinDims(index, ", ") + "]";
}

bool checkFinite(const Dataset &data, std::string &error) {
  if (data.holdsBytes()) {
    bool allFinite = true;
    for (float value : data.bytes.values)
      allFinite = allFinite && std::isfinite(value);
    if (allFinite)
      return true;
  }
  uint64_t total = data.featureCount();
  for (uint64_t i = 0; i < total; ++i) {
    float value = data.feature(i);
    if (std::isfinite(value))
      continue;
    uint64_t perExample = 1;
    if (!checkedElementCount(data.exampleShape, UINT64_MAX, perExample) ||
        perExample == 0)
      perExample = 1;
    uint64_t example = i / perExample;
    std::string what = std::isnan(value) ? "NaN" : "infinite";
    return failLoad(
        error, data.source,
        "feature " + std::to_string(i) + " (example " +
            std::to_string(example) + ", position " +
            formatPosition(data.exampleShape, i % perExample) + ") is " + what +
            " after scaling",
        "features must be finite numbers; clean the data or pick a smaller "
        "scale");
  }
  return true;
}

bool checkSameExampleShape(const Dataset &train, const Dataset &test,
                           std::string &error) {
  if (train.exampleShape == test.exampleShape)
    return true;
  return failLoad(
      error, test.source,
      "test examples have shape [" + joinDims(test.exampleShape, ", ") +
          "] but the training examples in " + train.source + " have shape [" +
          joinDims(train.exampleShape, ", ") + "]",
      "both splits must hold examples of the same shape");
}

} // namespace dlc::rt
