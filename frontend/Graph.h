//===- Graph.h - an elaborated model: ops, values, parameters, train config
//===//
//
// Sema (Elaborator) evaluates a .dl definition into a Graph: blocks are
// expanded, nested models inlined, shared layers resolved to shared
// parameters, every value typed by the shape rules. The IR builder turns a
// Graph into the `dl` dialect; `dlc summary` prints it as a table.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_FRONTEND_GRAPH_H
#define DLC_FRONTEND_GRAPH_H

#include "frontend/Diagnostics.h"
#include "ir/ShapeRules.h"

#include <map>
#include <string>
#include <vector>

namespace dlc {

/// A named, shaped parameter tensor. `name` is stable across compiles and is
/// the key in checkpoints: "<layer path>.<role>", e.g. "conv2d_1.kernel",
/// "residual_2.batchnorm.gamma".
struct Parameter {
  std::string name;
  Shape shape;
  std::string init;
  bool trainable = true;
  int64_t fanIn = 0;
  int64_t fanOut = 0;
  std::string layer; // the layer path that owns it ("conv2d_1")
  SourceLoc loc;     // where that layer is constructed
};

/// One application of an op. Operands are value ids (data inputs) followed
/// by parameter ids, in the catalog's operand order.
struct Node {
  std::string op; // catalog name: "conv2d", "relu", ...
  std::vector<int> inputs;
  std::vector<int> params;
  Attrs attrs;
  std::vector<int> results; // value ids
  std::string layer;        // layer path ("conv2d_1"), "" for bare ops
  SourceLoc loc;            // the .dl line that created it
};

/// An SSA value: a graph input or a node result.
struct Value {
  TensorInfo type;
  int producer = -1; // node index, or -1 for a graph input
  std::string name;  // input name for graph inputs
};

/// One row of the model summary: a top-level layer (a nested model or block
/// counts as one row holding all of its parameters).
struct SummaryRow {
  std::string name;
  std::string type;
  std::vector<TensorInfo> outputs; // of its first application
  int64_t params = 0;
};

/// A normalized train-section value: every setting's defaults filled in
/// (Keras's), enum values as Ident, calls as Call with keyword arguments.
struct ConfigValue {
  enum class Kind { Int, Float, Bool, String, Ident, List, Call };
  Kind kind = Kind::Int;
  int64_t intValue = 0;
  double floatValue = 0;
  bool boolValue = false;
  std::string text;                          // String, Ident, Call name
  std::vector<ConfigValue> items;            // List
  std::map<std::string, ConfigValue> kwargs; // Call
};

/// What one model output is trained against.
struct LossTerm {
  int output = 0; // index into Graph::outputs
  std::string op; // catalog loss op: "sparse_categorical_crossentropy", ...
  Attrs attrs;    // e.g. from_logits
  double weight = 1.0;
  /// The target: a new graph argument of `targetType` (labels from the data
  /// source), or, when targetInput >= 0, that model input itself
  /// (`target = input`, autoencoders).
  int targetInput = -1;
  TensorInfo targetType;
  std::string targetName; // argument name: "label", "label_1", ...
};

struct TrainConfig {
  bool present = false;
  SourceLoc loc;
  std::map<std::string, ConfigValue> settings;
  std::vector<LossTerm> losses; // one per trained output
};

struct Graph {
  std::string name; // the model's name
  SourceLoc loc;
  std::vector<int> inputs;  // value ids, in declaration order
  std::vector<int> outputs; // value ids, in return order
  std::vector<Value> values;
  std::vector<Node> nodes; // in a valid topological order
  std::vector<Parameter> params;
  std::vector<SummaryRow> summary;
  TrainConfig train;
};

} // namespace dlc

#endif // DLC_FRONTEND_GRAPH_H
