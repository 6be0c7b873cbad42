//===- FusedElementwiseBody.cpp - a fused chain's ops as call attributes --===//

#include "codegen/FusedElementwiseBody.h"

#include <sstream>

namespace dlc::codegen {

int FusedBody::valueCount() const {
  int count = inputs;
  for (const Op &op : ops)
    count += static_cast<int>(op.results.size());
  return count;
}

void encodeFusedBody(const FusedBody &body, Attrs &attrs) {
  std::string text;
  for (size_t k = 0; k < body.ops.size(); ++k) {
    const FusedBody::Op &op = body.ops[k];
    text += op.name;
    for (int id : op.operands)
      text += " " + std::to_string(id);
    text += " ->";
    for (int id : op.results)
      text += " " + std::to_string(id);
    text += "\n";
    for (const auto &[name, value] : op.attrs)
      attrs[std::to_string(k) + "." + name] = value;
  }
  text += "yield";
  for (int id : body.yields)
    text += " " + std::to_string(id);
  attrs["body"] = text;
}

namespace {

/// Reads the ids of `line` from `in` until "->" or the end; false on a
/// token that is not a non-negative id.
bool readIds(std::istringstream &in, std::vector<int> &ids, bool &arrow) {
  std::string token;
  arrow = false;
  while (in >> token) {
    if (token == "->") {
      arrow = true;
      return true;
    }
    if (token.empty() || token.size() > 9 ||
        token.find_first_not_of("0123456789") != std::string::npos)
      return false;
    ids.push_back(std::stoi(token));
  }
  return true;
}

} // namespace

bool decodeFusedBody(const Attrs &attrs, int inputs, FusedBody &body,
                     std::string &error) {
  body = FusedBody();
  body.inputs = inputs;
  auto found = attrs.find("body");
  const std::string *text =
      found == attrs.end() ? nullptr : std::get_if<std::string>(&found->second);
  if (!text) {
    error = "no \"body\" attribute";
    return false;
  }
  std::istringstream lines(*text);
  std::string line;
  int next = inputs;
  bool yielded = false;
  while (std::getline(lines, line)) {
    std::istringstream in(line);
    std::string name;
    if (!(in >> name))
      continue;
    if (yielded) {
      error = "ops after the yield";
      return false;
    }
    std::vector<int> operands, results;
    bool arrow = false;
    if (!readIds(in, operands, arrow)) {
      error = "bad operand in \"" + line + "\"";
      return false;
    }
    for (int id : operands)
      if (id >= next) {
        error = "value " + std::to_string(id) + " used before it is defined";
        return false;
      }
    if (name == "yield") {
      if (arrow) {
        error = "a yield has no results";
        return false;
      }
      body.yields = operands;
      yielded = true;
      continue;
    }
    bool again = false;
    if (!arrow || !readIds(in, results, again) || again) {
      error = "bad results in \"" + line + "\"";
      return false;
    }
    for (int id : results)
      if (id != next++) {
        error = "results of " + name + " are not numbered in order";
        return false;
      }
    FusedBody::Op op;
    op.name = name;
    op.operands = std::move(operands);
    op.results = std::move(results);
    body.ops.push_back(std::move(op));
  }
  if (!yielded || body.ops.empty()) {
    error = body.ops.empty() ? "no ops" : "no yield";
    return false;
  }
  for (const auto &[key, value] : attrs) {
    size_t dot = key.find('.');
    if (dot == std::string::npos || dot == 0 || dot > 9 ||
        key.find_first_not_of("0123456789") != dot)
      continue;
    size_t k = std::stoul(key.substr(0, dot));
    if (k >= body.ops.size()) {
      error = "attribute " + key + " of no op";
      return false;
    }
    body.ops[k].attrs[key.substr(dot + 1)] = value;
  }
  return true;
}

} // namespace dlc::codegen
