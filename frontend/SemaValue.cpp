//===- SemaValue.cpp ------------------------------------------------------===//
#include "frontend/SemaValue.h"

#include "frontend/AST.h"

#include <cmath>

#include <sstream>

namespace dlc {

static std::string formatNumber(double value) {
  std::ostringstream os;
  os << value;
  return os.str();
}

std::optional<SemaValue> literalValue(const Expr &expr) {
  switch (expr.kind) {
  case Expr::Kind::Number:
    if (expr.isInteger && std::fabs(expr.number) <= 9.0e15)
      return SemaValue::ofInt(static_cast<int64_t>(expr.number), expr.loc);
    return SemaValue::ofFloat(expr.number, expr.loc);
  case Expr::Kind::String:
    return SemaValue::ofText(SemaValue::Kind::String, expr.text, expr.loc);
  case Expr::Kind::Bool:
    return SemaValue::ofBool(expr.boolean, expr.loc);
  default:
    return std::nullopt;
  }
}

std::string describeValue(const SemaValue &value, const Graph &graph) {
  switch (value.kind) {
  case SemaValue::Kind::None:
    return "nothing";
  case SemaValue::Kind::Int:
    return "integer " + std::to_string(value.intValue);
  case SemaValue::Kind::Float:
    return "number " + formatNumber(value.floatValue);
  case SemaValue::Kind::Bool:
    return value.boolValue ? "true" : "false";
  case SemaValue::Kind::String:
    return "string \"" + value.text + "\"";
  case SemaValue::Kind::Word:
    return "'" + value.text + "'";
  case SemaValue::Kind::List:
    return "a list of " + std::to_string(value.items.size()) +
           (value.items.size() == 1 ? " item" : " items");
  case SemaValue::Kind::Tensor:
    if (value.tensor >= 0 &&
        static_cast<size_t>(value.tensor) < graph.values.size())
      return "a tensor " + formatTensor(graph.values[value.tensor].type);
    return "a tensor";
  case SemaValue::Kind::Tuple:
    return "a tuple of " + std::to_string(value.items.size()) + " tensors";
  case SemaValue::Kind::Layer:
    return "a layer (" + value.layer->type + ")";
  case SemaValue::Kind::Callable:
    return "'" + value.text + "' (not called)";
  }
  return "a value";
}

} // namespace dlc
