//===- NpyLoader.cpp - the NumPy (.npy) data source
//-------------------------===//

#include "runtime/NpyLoader.h"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace dlc::rt {

namespace {

constexpr const char *kAllNames =
    "npy() reads x_train.npy and y_train.npy, and optionally x_test.npy and "
    "y_test.npy";
constexpr const char *kSupportedTypes =
    "supported dtypes: uint8, int8, bool, uint16, int16, uint32, int32, "
    "uint64, int64, float32, float64 (little-endian)";
/// The largest dimension a header may state (no real array comes close).
constexpr int64_t kMaxDim = int64_t(1) << 40;

/// The element type of an array.
struct NpyType {
  char kind = 0; // 'u', 'i', 'b' or 'f'
  unsigned size = 0;
};

/// One parsed .npy file: its type, shape and where its data lie in `bytes`.
struct NpyArray {
  NpyType type;
  std::vector<int64_t> shape;
  uint64_t elements = 0;
  const uint8_t *data = nullptr;
};

/// Parses the Python-literal dict of an NPY header, e.g.
///   {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }
/// Only strings, True/False and tuples of integers are values.
class HeaderParser {
public:
  explicit HeaderParser(std::string_view text) : text_(text) {}

  /// Parses the dict; false with `problem` describing the first error.
  bool parse(std::string &descr, bool &fortranOrder,
             std::vector<int64_t> &shape, std::string &problem) {
    bool sawDescr = false, sawOrder = false, sawShape = false;
    skipSpace();
    if (!consume('{'))
      return failAt("expected '{'", problem);
    for (;;) {
      skipSpace();
      if (consume('}'))
        break;
      std::string key;
      if (!parseString(key))
        return failAt("expected a quoted key", problem);
      skipSpace();
      if (!consume(':'))
        return failAt("expected ':' after '" + key + "'", problem);
      skipSpace();
      if (key == "descr") {
        if (peek() == '[')
          return failAt("structured dtypes (a list in 'descr') are not "
                        "supported",
                        problem);
        if (!parseString(descr))
          return failAt("expected a string for 'descr'", problem);
        sawDescr = true;
      } else if (key == "fortran_order") {
        if (!parseBool(fortranOrder))
          return failAt("expected True or False for 'fortran_order'", problem);
        sawOrder = true;
      } else if (key == "shape") {
        if (!parseShape(shape, problem))
          return false;
        sawShape = true;
      } else {
        return failAt("unexpected key '" + key + "'", problem);
      }
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume('}'))
        break;
      return failAt("expected ',' or '}'", problem);
    }
    skipSpace();
    if (pos_ != text_.size())
      return failAt("unexpected text after the header's '}'", problem);
    if (!sawDescr || !sawOrder || !sawShape) {
      problem = std::string("the header lacks '") +
                (!sawDescr   ? "descr"
                 : !sawOrder ? "fortran_order"
                             : "shape") +
                "'";
      return false;
    }
    return true;
  }

private:
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool consume(char c) {
    if (peek() != c || pos_ >= text_.size())
      return false;
    ++pos_;
    return true;
  }
  bool consumeWord(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word)
      return false;
    pos_ += word.size();
    return true;
  }
  void skipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool failAt(const std::string &what, std::string &problem) const {
    problem = "bad header: " + what + " at offset " + std::to_string(pos_) +
              " of " + quoteForMessage(text_);
    return false;
  }
  /// A '...' or "..." string without escapes (NumPy writes none).
  bool parseString(std::string &out) {
    char quote = peek();
    if (quote != '\'' && quote != '"')
      return false;
    size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string_view::npos)
      return false;
    out = std::string(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return true;
  }
  bool parseBool(bool &out) {
    if (consumeWord("True")) {
      out = true;
      return true;
    }
    if (consumeWord("False")) {
      out = false;
      return true;
    }
    return false;
  }
  /// A tuple of non-negative integers: "()", "(3,)", "(2, 3)".
  bool parseShape(std::vector<int64_t> &shape, std::string &problem) {
    shape.clear();
    if (!consume('('))
      return failAt("expected '(' for 'shape'", problem);
    for (;;) {
      skipSpace();
      if (consume(')'))
        return true;
      if (peek() < '0' || peek() > '9')
        return failAt("expected a dimension", problem);
      int64_t value = 0;
      while (peek() >= '0' && peek() <= '9') {
        value = value * 10 + (peek() - '0');
        if (value > kMaxDim)
          return failAt("dimension too large", problem);
        ++pos_;
      }
      consume('L'); // Python 2 long literals.
      if (shape.size() >= 32)
        return failAt("more than 32 dimensions", problem);
      shape.push_back(value);
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume(')'))
        return true;
      return failAt("expected ',' or ')' in 'shape'", problem);
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

/// Maps a 'descr' string to a supported element type.
bool parseType(const std::string &path, const std::string &descr, NpyType &type,
               std::string &error) {
  std::string quoted = quoteForMessage(descr);
  if (descr.size() < 3)
    return failLoad(error, path, "dtype " + quoted + " is not supported",
                    kSupportedTypes);
  char order = descr[0];
  type.kind = descr[1];
  std::string sizeText = descr.substr(2);
  type.size = sizeText == "1"   ? 1
              : sizeText == "2" ? 2
              : sizeText == "4" ? 4
              : sizeText == "8" ? 8
                                : 0;
  bool known = (type.kind == 'u' || type.kind == 'i') ? type.size != 0
               : type.kind == 'b'                     ? type.size == 1
               : type.kind == 'f' ? (type.size == 4 || type.size == 8)
                                  : false;
  if (!known || (order != '<' && order != '>' && order != '|' && order != '='))
    return failLoad(error, path, "dtype " + quoted + " is not supported",
                    kSupportedTypes);
  if (type.size > 1 && order == '>')
    return failLoad(error, path,
                    "dtype " + quoted +
                        " is big-endian; only little-endian "
                        "data is supported",
                    "save it with arr.astype(arr.dtype.newbyteorder('<'))");
  if (type.size > 1 && order == '|')
    return failLoad(error, path,
                    "dtype " + quoted + " has no byte order but " +
                        std::to_string(type.size) + "-byte elements",
                    kSupportedTypes);
  return true;
}

/// Parses the .npy file in `bytes` (which must outlive `array`).
bool parseNpy(const std::string &path, const std::vector<uint8_t> &bytes,
              NpyArray &array, std::string &error) {
  static const uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  const char *damaged = "the file may be damaged or incompletely written";
  if (bytes.size() < 6 || std::memcmp(bytes.data(), kMagic, 6) != 0)
    return failLoad(error, path,
                    "not a .npy file: it does not start with \"\\x93NUMPY\"",
                    "write it with numpy.save()");
  if (bytes.size() < 10)
    return failLoad(error, path, "truncated: the file ends inside its header",
                    damaged);
  unsigned major = bytes[6];
  uint64_t headerLength = 0, headerStart = 0;
  if (major == 1) {
    headerLength = uint64_t(bytes[8]) | uint64_t(bytes[9]) << 8;
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return failLoad(error, path, "truncated: the file ends inside its header",
                      damaged);
    headerLength = uint64_t(bytes[8]) | uint64_t(bytes[9]) << 8 |
                   uint64_t(bytes[10]) << 16 | uint64_t(bytes[11]) << 24;
    headerStart = 12;
  } else {
    return failLoad(error, path,
                    "NPY format version " + std::to_string(major) + "." +
                        std::to_string(bytes[7]) + " is not supported",
                    "versions 1.0, 2.0 and 3.0 are");
  }
  if (headerLength > bytes.size() - headerStart)
    return failLoad(error, path,
                    "truncated: header length " + std::to_string(headerLength) +
                        " but the file has " +
                        std::to_string(bytes.size() - headerStart) +
                        " bytes after it",
                    damaged);
  std::string_view header(reinterpret_cast<const char *>(bytes.data()) +
                              headerStart,
                          size_t(headerLength));
  std::string descr, problem;
  bool fortranOrder = false;
  if (!HeaderParser(header).parse(descr, fortranOrder, array.shape, problem))
    return failLoad(error, path, problem, "write it with numpy.save()");
  if (!parseType(path, descr, array.type, error))
    return false;
  if (fortranOrder && array.shape.size() > 1)
    return failLoad(error, path,
                    "the array is stored in Fortran order "
                    "(fortran_order=True); only C order is supported",
                    "save numpy.ascontiguousarray(arr) instead");

  uint64_t dataOffset = headerStart + headerLength;
  uint64_t available = bytes.size() - dataOffset, dataBytes = 0;
  bool fits =
      checkedElementCount(array.shape, kMaxDataFileBytes, array.elements) &&
      checkedMul(array.elements, array.type.size, kMaxDataFileBytes, dataBytes);
  std::string declared =
      "shape (" + joinDims(array.shape, ", ") + ") of " + descr;
  if (!fits || available < dataBytes)
    return failLoad(error, path,
                    "truncated: header says " + declared + " (" +
                        (fits ? std::to_string(dataBytes) + " bytes"
                              : std::string("more than 4 GiB")) +
                        ") but the file has " + std::to_string(available) +
                        " bytes of data",
                    damaged);
  if (available > dataBytes)
    return failLoad(
        error, path,
        "unexpected data: " + std::to_string(available - dataBytes) +
            " bytes follow the " + declared + " the header declares",
        "is it the right file?");
  array.data = bytes.data() + dataOffset;
  return true;
}

template <typename T> T loadElement(const uint8_t *data, uint64_t index) {
  T value;
  std::memcpy(&value, data + index * sizeof(T), sizeof(T));
  return value;
}

/// Calls `fn(i, value)` for each element of `array` as a double.
template <typename Fn> void forEachValue(const NpyArray &array, Fn fn) {
  const uint8_t *data = array.data;
  uint64_t n = array.elements;
  switch (array.type.kind) {
  case 'f':
    if (array.type.size == 4)
      for (uint64_t i = 0; i < n; ++i)
        fn(i, double(loadElement<float>(data, i)));
    else
      for (uint64_t i = 0; i < n; ++i)
        fn(i, loadElement<double>(data, i));
    return;
  case 'i':
    switch (array.type.size) {
    case 1:
      for (uint64_t i = 0; i < n; ++i)
        fn(i, double(loadElement<int8_t>(data, i)));
      return;
    case 2:
      for (uint64_t i = 0; i < n; ++i)
        fn(i, double(loadElement<int16_t>(data, i)));
      return;
    case 4:
      for (uint64_t i = 0; i < n; ++i)
        fn(i, double(loadElement<int32_t>(data, i)));
      return;
    default:
      for (uint64_t i = 0; i < n; ++i)
        fn(i, double(loadElement<int64_t>(data, i)));
      return;
    }
  default: // 'u' and 'b'
    switch (array.type.size) {
    case 1:
      for (uint64_t i = 0; i < n; ++i)
        fn(i, double(data[i]));
      return;
    case 2:
      for (uint64_t i = 0; i < n; ++i)
        fn(i, double(loadElement<uint16_t>(data, i)));
      return;
    case 4:
      for (uint64_t i = 0; i < n; ++i)
        fn(i, double(loadElement<uint32_t>(data, i)));
      return;
    default:
      for (uint64_t i = 0; i < n; ++i)
        fn(i, double(loadElement<uint64_t>(data, i)));
      return;
    }
  }
}

/// Reads the features file `path` into `out` (shape, count, features).
bool loadFeatures(const std::string &path, double scale, Dataset &out,
                  std::string &error) {
  std::vector<uint8_t> bytes;
  NpyArray array;
  if (!readDataFile(path, kMaxDataFileBytes, bytes, error) ||
      !parseNpy(path, bytes, array, error))
    return false;
  if (array.shape.empty())
    return failLoad(error, path, "holds a scalar, not an array of examples",
                    "features need shape [N, ...]");
  if (array.shape[0] == 0)
    return failLoad(error, path, "holds 0 examples",
                    "a data source needs at least one example");
  if (array.elements == 0)
    return failLoad(error, path,
                    "examples of shape (" + joinDims(array.shape, ", ") +
                        ") hold no values",
                    "every dimension must be at least 1");
  out.source = path;
  out.count = array.shape[0];
  out.exampleShape.assign(array.shape.begin() + 1, array.shape.end());
  if (out.exampleShape.empty())
    out.exampleShape = {1};
  out.features.resize(array.elements);
  float *dst = out.features.data();
  if (array.type.kind == 'u' && array.type.size == 1) {
    const uint8_t *src = array.data;
    for (uint64_t i = 0; i < array.elements; ++i)
      dst[i] = float(double(src[i]) * scale);
  } else if (array.type.kind == 'f' && array.type.size == 4 && scale == 1.0) {
    std::memcpy(dst, array.data, array.elements * sizeof(float));
  } else {
    forEachValue(array,
                 [&](uint64_t i, double v) { dst[i] = float(v * scale); });
  }
  return checkFinite(out, error);
}

/// Reads the labels file `path` into `out.labels`; `out` already holds the
/// features from `featuresPath`.
bool loadLabels(const std::string &path, const std::string &featuresPath,
                Dataset &out, std::string &error) {
  std::vector<uint8_t> bytes;
  NpyArray array;
  if (!readDataFile(path, kMaxDataFileBytes, bytes, error) ||
      !parseNpy(path, bytes, array, error))
    return false;
  bool column = array.shape.size() == 2 && array.shape[1] == 1;
  if (array.shape.size() != 1 && !column)
    return failLoad(error, path,
                    "labels have shape (" + joinDims(array.shape, ", ") +
                        "), expected (N,) or (N, 1) integer class ids",
                    array.shape.size() == 2
                        ? "for one-hot labels save y.argmax(axis=1)"
                        : "save one class id per example");
  if (array.shape[0] != out.count)
    return failLoad(error, path,
                    "holds " + std::to_string(array.shape[0]) + " labels but " +
                        featuresPath + " holds " + std::to_string(out.count) +
                        " examples",
                    "x and y must have the same first dimension");
  out.labels.resize(size_t(out.count));
  int32_t *labels = out.labels.data();
  uint64_t bad = UINT64_MAX;
  double badValue = 0;
  forEachValue(array, [&](uint64_t i, double v) {
    if (bad != UINT64_MAX)
      return;
    if (!(v >= 0 && v <= 2147483647.0 && v == std::floor(v))) {
      bad = i;
      badValue = v;
      return;
    }
    labels[i] = int32_t(v);
  });
  if (bad != UINT64_MAX) {
    char shown[32];
    std::snprintf(shown, sizeof(shown), "%.17g", badValue);
    return failLoad(error, path,
                    "label " + std::to_string(bad) + " is " + shown +
                        ", not a class id",
                    "labels must be integers from 0 to 2147483647");
  }
  return true;
}

bool loadNpyFiles(const std::string &dir, double scale, Split &out,
                  std::string &error, SplitParts parts) {
  if (!std::isfinite(scale))
    return failLoad(error, dir, "scale must be a finite number");
  if (!isDirectory(dir))
    return failLoad(error, dir,
                    pathExists(dir) ? "is not a folder" : "no such folder",
                    kAllNames);
  std::string xTrain = joinPath(dir, "x_train.npy");
  std::string yTrain = joinPath(dir, "y_train.npy");
  std::string xTest = joinPath(dir, "x_test.npy");
  std::string yTest = joinPath(dir, "y_test.npy");
  if (!pathExists(xTrain))
    return failLoad(error, dir, "missing x_train.npy", kAllNames);
  if (!pathExists(yTrain))
    return failLoad(error, dir, "missing y_train.npy", kAllNames);
  bool haveXTest = pathExists(xTest), haveYTest = pathExists(yTest);
  if (haveXTest != haveYTest)
    return failLoad(error, dir,
                    haveXTest ? "missing y_test.npy" : "missing x_test.npy",
                    "the test split needs both x_test.npy and y_test.npy, or "
                    "neither");
  bool testOnly = parts == SplitParts::TestOnly;
  if (!testOnly && (!loadFeatures(xTrain, scale, out.train, error) ||
                    !loadLabels(yTrain, xTrain, out.train, error)))
    return false;
  if (haveXTest) {
    if (!loadFeatures(xTest, scale, out.test, error) ||
        !loadLabels(yTest, xTest, out.test, error) ||
        (!testOnly && !checkSameExampleShape(out.train, out.test, error)))
      return false;
    out.hasTest = true;
  }
  return true;
}

} // namespace

bool loadNpy(const std::string &dir, double scale, Split &out,
             std::string &error, SplitParts parts) {
  out = Split();
  if (loadNpyFiles(dir, scale, out, error, parts))
    return true;
  out = Split();
  return false;
}

} // namespace dlc::rt
