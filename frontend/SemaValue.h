//===- SemaValue.h - the values sema computes with ------------------------===//
//
// Evaluating a .dl body yields compile-time numbers, words and lists
// (hyper-parameters, configuration), tensors (graph values), tuples of
// tensors (several outputs), constructed layers, and callables (a layer
// type, a definition or a built-in function not yet called).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_FRONTEND_SEMAVALUE_H
#define DLC_FRONTEND_SEMAVALUE_H

#include "frontend/Diagnostics.h"
#include "frontend/Graph.h"
#include "ir/ShapeRules.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dlc {

struct Decl;
struct Expr;
struct LayerSchema;

struct SemaValue;
using ConfigMap = std::map<std::string, SemaValue>;

/// A constructed layer: `conv2d(32, 3)`, `encoder()`, `residual(16)`.
/// Applying it more than once shares its weights.
struct LayerInstance {
  std::string type;                    // "conv2d", or the definition's name
  const LayerSchema *schema = nullptr; // built-in layers
  const Decl *decl = nullptr;          // sequential/model/block definitions
  const Expr *inlineBody = nullptr;    // inline `sequential { ... }`
  std::shared_ptr<ConfigMap> config;   // bound arguments / hyper-parameters
  std::string path;                    // "conv2d_1", "residual_2.conv2d"
  bool trainable = true;
  SourceLoc loc;
  int applications = 0;
  int summaryRow = -1;
  std::vector<TensorInfo> builtFor; // input types of the first application
};

struct SemaValue {
  enum class Kind {
    None, // no value (a failed evaluation: already reported)
    Int,
    Float,
    Bool,
    String,
    Word,     // a bare identifier used as an enum value: same, relu, ...
    List,     // [a, b]
    Tensor,   // a graph value
    Tuple,    // several tensors (a model with several outputs)
    Layer,    // a constructed layer
    Callable, // a layer type, definition or built-in function name
  };

  Kind kind = Kind::None;
  SourceLoc loc;
  int64_t intValue = 0;
  double floatValue = 0;
  bool boolValue = false;
  std::string text;             // String, Word, Callable
  std::vector<SemaValue> items; // List, Tuple
  int tensor = -1;              // Tensor: value id
  std::shared_ptr<LayerInstance> layer;

  static SemaValue none() { return {}; }
  static SemaValue ofInt(int64_t v, SourceLoc loc = {}) {
    SemaValue r;
    r.kind = Kind::Int;
    r.intValue = v;
    r.loc = loc;
    return r;
  }
  static SemaValue ofFloat(double v, SourceLoc loc = {}) {
    SemaValue r;
    r.kind = Kind::Float;
    r.floatValue = v;
    r.loc = loc;
    return r;
  }
  static SemaValue ofBool(bool v, SourceLoc loc = {}) {
    SemaValue r;
    r.kind = Kind::Bool;
    r.boolValue = v;
    r.loc = loc;
    return r;
  }
  static SemaValue ofText(Kind kind, std::string text, SourceLoc loc = {}) {
    SemaValue r;
    r.kind = kind;
    r.text = std::move(text);
    r.loc = loc;
    return r;
  }
  static SemaValue ofTensor(int id, SourceLoc loc = {}) {
    SemaValue r;
    r.kind = Kind::Tensor;
    r.tensor = id;
    r.loc = loc;
    return r;
  }

  bool isNumber() const { return kind == Kind::Int || kind == Kind::Float; }
  double asDouble() const {
    return kind == Kind::Int ? static_cast<double>(intValue) : floatValue;
  }
};

/// The value of a literal (number, string, true/false); nullopt for any
/// other expression. Integers written as such become Int (the parser keeps
/// them below 2^53), everything else Float.
std::optional<SemaValue> literalValue(const Expr &expr);

/// How a value reads in a message: "integer 3", "tensor f32[28, 28, 1]",
/// "word 'same'", "layer conv2d", ...
std::string describeValue(const SemaValue &value, const Graph &graph);

} // namespace dlc

#endif // DLC_FRONTEND_SEMAVALUE_H
