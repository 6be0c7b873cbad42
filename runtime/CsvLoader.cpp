//===- CsvLoader.cpp - the CSV data source
//----------------------------------===//

#include "runtime/CsvLoader.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <deque>

namespace dlc::rt {

namespace {

constexpr const char *kFolderNames =
    "csv() takes a .csv file, or a folder holding train.csv and optionally "
    "test.csv";

/// Splits CSV text into rows of cells, tracking line numbers.
class CsvReader {
public:
  CsvReader(const std::string &path, std::string_view text)
      : path_(path), text_(text) {
    // A UTF-8 byte order mark is not part of the first cell.
    if (text_.substr(0, 3) == "\xEF\xBB\xBF")
      pos_ = 3;
  }

  /// Reads the next non-blank row into cells()[0, cellCount()); false at the
  /// end of the text or on a malformed row (then failed() is true and `error`
  /// is set).
  bool next(std::string &error) {
    skipBlankLines();
    if (pos_ >= text_.size())
      return false;
    rowLine_ = line_;
    cellCount_ = 0;
    unescaped_.clear();
    const char *data = text_.data();
    size_t size = text_.size();
    for (;;) {
      if (cellCount_ == cells_.size())
        cells_.emplace_back();
      std::string_view &cell = cells_[cellCount_++];
      skipSpaces();
      if (pos_ < size && data[pos_] == '"') {
        if (!readQuoted(cell, error)) {
          failed_ = true;
          return false;
        }
      } else {
        size_t end = pos_;
        while (end < size && data[end] != ',' && data[end] != '\n')
          ++end;
        cell = text_.substr(pos_, end - pos_);
        if (!cell.empty() && cell.back() == '\r')
          cell.remove_suffix(1);
        pos_ = end;
      }
      if (pos_ >= text_.size())
        return true;
      char c = text_[pos_++];
      if (c == '\n') {
        ++line_;
        return true;
      }
      // c == ','
    }
  }

  /// True after next() met a malformed row.
  bool failed() const { return failed_; }
  const std::vector<std::string_view> &cells() const { return cells_; }
  size_t cellCount() const { return cellCount_; }
  /// The line the current row starts on (1-based).
  uint64_t rowLine() const { return rowLine_; }
  /// "file:line" of the current row, for messages.
  std::string where() const { return path_ + ":" + std::to_string(rowLine_); }

private:
  void skipSpaces() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t'))
      ++pos_;
  }
  void skipBlankLines() {
    for (;;) {
      size_t scan = pos_;
      while (scan < text_.size() &&
             (text_[scan] == ' ' || text_[scan] == '\t' || text_[scan] == '\r'))
        ++scan;
      if (scan >= text_.size()) {
        pos_ = scan;
        return;
      }
      if (text_[scan] != '\n')
        return;
      pos_ = scan + 1;
      ++line_;
    }
  }
  /// A quoted cell: "..." with "" standing for one quote; may span lines.
  /// `cell` views the text, or a copy when quotes had to be unescaped.
  bool readQuoted(std::string_view &cell, std::string &error) {
    uint64_t startLine = line_;
    ++pos_;
    size_t start = pos_;
    std::string *copy = nullptr;
    for (;;) {
      size_t quote = text_.find('"', pos_);
      if (quote == std::string_view::npos)
        return failLoad(error, path_ + ":" + std::to_string(startLine),
                        "a quoted cell is never closed",
                        "a cell that starts with '\"' must end with '\"'");
      std::string_view part = text_.substr(pos_, quote - pos_);
      for (char c : part)
        if (c == '\n')
          ++line_;
      pos_ = quote + 1;
      if (pos_ < text_.size() && text_[pos_] == '"') {
        // An escaped quote: keep the text so far plus one quote in a copy.
        if (!copy)
          copy = &unescaped_.emplace_back();
        copy->append(part).push_back('"');
        ++pos_;
        continue;
      }
      if (copy) {
        copy->append(part);
        cell = *copy;
      } else {
        cell = text_.substr(start, quote - start);
      }
      break;
    }
    skipSpaces();
    if (pos_ < text_.size() && text_[pos_] == '\r')
      ++pos_;
    if (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n')
      return failLoad(error, path_ + ":" + std::to_string(line_),
                      "unexpected text after a quoted cell",
                      "put the whole cell in quotes and write a quote inside "
                      "it as \"\"");
    return true;
  }

  std::string path_;
  std::string_view text_;
  size_t pos_ = 0;
  uint64_t line_ = 1;
  uint64_t rowLine_ = 1;
  std::vector<std::string_view> cells_;
  /// Quoted cells of the current row that held "" (stable addresses).
  std::deque<std::string> unescaped_;
  size_t cellCount_ = 0;
  bool failed_ = false;
};

/// `cell` without surrounding spaces and a leading '+'.
std::string_view trimNumber(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  if (text.size() > 1 && text[0] == '+' && text[1] != '-' && text[1] != '+')
    text.remove_prefix(1);
  return text;
}

/// Parses the whole of `text` as a number; `outOfRange` is set for numbers
/// too large for a double.
bool parseNumber(std::string_view text, double &value, bool &outOfRange) {
  outOfRange = false;
  if (text.empty())
    return false;
  const char *end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ptr != end)
    return false;
  if (ec == std::errc::result_out_of_range) {
    // Too small numbers become 0 (or a subnormal), too large ones fail.
    value = std::strtod(std::string(text).c_str(), nullptr);
    outOfRange = std::isinf(value);
    return true;
  }
  return ec == std::errc();
}

/// Parses one label cell as a class id in [0, 2^31).
bool parseLabel(const CsvReader &reader, std::string_view cell, size_t column,
                int32_t &label, std::string &error) {
  std::string_view text = trimNumber(cell);
  const char *end = text.data() + text.size();
  int64_t integer = 0;
  auto [ptr, ec] = std::from_chars(text.data(), end, integer);
  double value = 0;
  bool outOfRange = false;
  bool isInteger = !text.empty() && ptr == end && ec == std::errc();
  if (!isInteger && parseNumber(text, value, outOfRange) && !outOfRange &&
      std::isfinite(value) && value == std::floor(value) &&
      std::fabs(value) < 9e18) {
    integer = int64_t(value); // "3.0" is the class 3.
    isInteger = true;
  }
  std::string columnText = "column " + std::to_string(column + 1);
  if (!isInteger)
    return failLoad(error, reader.where(),
                    "label " + quoteForMessage(cell) + " in " + columnText +
                        " is not an integer class id",
                    "check label_column and header");
  if (integer < 0 || integer > INT32_MAX)
    return failLoad(error, reader.where(),
                    "label " + quoteForMessage(cell) + " in " + columnText +
                        " is out of range",
                    "class ids go from 0 to 2147483647");
  label = int32_t(integer);
  return true;
}

/// Loads one CSV file into `out`.
bool loadCsvFile(const std::string &path, int64_t labelColumn, bool header,
                 double scale, Dataset &out, std::string &error) {
  std::vector<uint8_t> bytes;
  if (!readDataFile(path, kMaxDataFileBytes, bytes, error))
    return false;
  std::string_view text(reinterpret_cast<const char *>(bytes.data()),
                        bytes.size());
  CsvReader reader(path, text);
  if (!reader.next(error)) {
    if (reader.failed())
      return false;
    return failLoad(error, path, "empty file",
                    "a CSV data source needs one row per example" +
                        std::string(header ? " after a header row" : ""));
  }
  size_t columns = reader.cellCount();
  std::string columnsFrom = header ? "the header" : "the first row";
  uint64_t firstLine = reader.rowLine();
  int64_t resolved =
      labelColumn < 0 ? int64_t(columns) + labelColumn : labelColumn;
  if (resolved < 0 || resolved >= int64_t(columns))
    return failLoad(error, path,
                    "label_column=" + std::to_string(labelColumn) +
                        " is out of range: " + columnsFrom + " (line " +
                        std::to_string(firstLine) + ") has " +
                        std::to_string(columns) + " columns",
                    "use 0 to " + std::to_string(columns - 1) +
                        ", or -1 for the last column");
  if (columns < 2)
    return failLoad(error, path, "rows have only the label column, no features",
                    "is the separator a comma?");
  size_t labelIndex = size_t(resolved);
  size_t features = columns - 1;

  out.source = path;
  out.exampleShape = {int64_t(features)};
  bool haveRow = !header; // The first row is data when there is no header.
  for (;;) {
    if (!haveRow) {
      if (!reader.next(error)) {
        if (reader.failed())
          return false;
        break;
      }
    }
    haveRow = false;
    if (reader.cellCount() != columns)
      return failLoad(error, reader.where(),
                      "row has " + std::to_string(reader.cellCount()) +
                          " columns but " + columnsFrom + " has " +
                          std::to_string(columns),
                      "every row needs the same number of columns");
    constexpr uint64_t kMaxFeatures = kMaxDataFileBytes / sizeof(float);
    if (features > kMaxFeatures ||
        out.features.size() > kMaxFeatures - features)
      return failLoad(error, path, "holds more than 4 GiB of features");
    size_t base = out.features.size();
    out.features.resize(base + features);
    float *dst = out.features.data() + base;
    const std::vector<std::string_view> &cells = reader.cells();
    for (size_t c = 0; c < columns; ++c) {
      if (c == labelIndex)
        continue;
      double value = 0;
      bool outOfRange = false;
      std::string_view text = trimNumber(cells[c]);
      bool isNumber = parseNumber(text, value, outOfRange);
      float scaled = float(value * scale);
      if (isNumber && !outOfRange && std::isfinite(scaled)) {
        *dst++ = scaled;
        continue;
      }
      std::string columnText = "column " + std::to_string(c + 1);
      if (!isNumber)
        return failLoad(error, reader.where(),
                        text.empty() ? "empty cell in " + columnText
                                     : quoteForMessage(cells[c]) + " in " +
                                           columnText + " is not a number",
                        "every column but the label must hold a number");
      return failLoad(
          error, reader.where(),
          quoteForMessage(cells[c]) + " in " + columnText +
              (std::isnan(value) ? " is NaN" : " is infinite or too large"),
          "features must be finite numbers");
    }
    int32_t label = 0;
    if (!parseLabel(reader, cells[labelIndex], labelIndex, label, error))
      return false;
    out.labels.push_back(label);
  }
  out.count = int64_t(out.labels.size());
  if (out.count == 0)
    return failLoad(error, path, "no data rows after the header",
                    "a CSV data source needs one row per example");
  return true;
}

bool loadCsvFiles(const std::string &path, int64_t labelColumn, bool header,
                  double scale, Split &out, std::string &error,
                  SplitParts parts) {
  bool testOnly = parts == SplitParts::TestOnly;
  if (!std::isfinite(scale))
    return failLoad(error, path, "scale must be a finite number");
  if (!isDirectory(path)) {
    if (!pathExists(path))
      return failLoad(error, path, "no such file or folder", kFolderNames);
    return testOnly ||
           loadCsvFile(path, labelColumn, header, scale, out.train, error);
  }
  std::string train = joinPath(path, "train.csv");
  std::string test = joinPath(path, "test.csv");
  if (!pathExists(train))
    return failLoad(error, path, "missing train.csv", kFolderNames);
  if (!testOnly &&
      !loadCsvFile(train, labelColumn, header, scale, out.train, error))
    return false;
  if (pathExists(test)) {
    if (!loadCsvFile(test, labelColumn, header, scale, out.test, error) ||
        (!testOnly && !checkSameExampleShape(out.train, out.test, error)))
      return false;
    out.hasTest = true;
  }
  return true;
}

} // namespace

bool loadCsv(const std::string &path, int64_t labelColumn, bool header,
             double scale, Split &out, std::string &error, SplitParts parts) {
  out = Split();
  error.clear();
  if (loadCsvFiles(path, labelColumn, header, scale, out, error, parts))
    return true;
  out = Split();
  return false;
}

} // namespace dlc::rt
