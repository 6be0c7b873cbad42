//===- Summary.cpp --------------------------------------------------------===//
#include "frontend/Summary.h"

#include <algorithm>
#include <cstdio>

namespace dlc {

std::string withThousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

/// Keras's size note: "(397.54 KB)" for f32 parameters.
static std::string bytesNote(int64_t params) {
  double bytes = static_cast<double>(params) * 4;
  const char *units[] = {"B", "KB", "MB", "GB", "TB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "(%.2f %s)", bytes, units[unit]);
  return buffer;
}

static std::string batchShape(const TensorInfo &info) {
  std::string out = "(None";
  for (int64_t d : info.shape)
    out += ", " + std::to_string(d);
  return out + ")";
}

static std::string pad(std::string text, size_t width) {
  if (text.size() < width)
    text.append(width - text.size(), ' ');
  return text;
}

void printSummary(const Graph &graph, std::ostream &os) {
  size_t nameWidth = 30, shapeWidth = 24;
  for (const SummaryRow &row : graph.summary) {
    nameWidth = std::max(nameWidth, row.name.size() + row.type.size() + 5);
    for (const TensorInfo &out : row.outputs)
      shapeWidth = std::max(shapeWidth, batchShape(out).size() + 2);
  }
  const std::string rule(nameWidth + shapeWidth + 12, '_');
  const std::string doubleRule(rule.size(), '=');
  os << "Model: \"" << graph.name << "\"\n" << rule << "\n";
  os << " " << pad("Layer (type)", nameWidth - 1)
     << pad("Output Shape", shapeWidth) << "Param #\n"
     << doubleRule << "\n";
  for (size_t i = 0; i < graph.summary.size(); ++i) {
    const SummaryRow &row = graph.summary[i];
    std::string label = row.name + " (" + row.type + ")";
    std::vector<std::string> shapes;
    for (const TensorInfo &out : row.outputs)
      shapes.push_back(batchShape(out));
    if (shapes.empty())
      shapes.push_back("");
    for (size_t s = 0; s < shapes.size(); ++s) {
      std::string first = s == 0 ? label : "";
      os << " " << pad(first, nameWidth - 1) << pad(shapes[s], shapeWidth);
      if (s == 0)
        os << withThousands(row.params);
      os << "\n";
    }
    if (i + 1 < graph.summary.size())
      os << "\n";
  }
  int64_t total = 0, trainable = 0;
  for (const Parameter &param : graph.params) {
    int64_t count = checkedElementCount(param.shape);
    total += count;
    if (param.trainable)
      trainable += count;
  }
  os << doubleRule << "\n";
  os << "Total params: " << withThousands(total) << " " << bytesNote(total)
     << "\n";
  os << "Trainable params: " << withThousands(trainable) << " "
     << bytesNote(trainable) << "\n";
  os << "Non-trainable params: " << withThousands(total - trainable) << " "
     << bytesNote(total - trainable) << "\n";
  os << rule << "\n";
}

} // namespace dlc
