//===- GraphBuilder.h - add typed ops and parameters to a Graph -----------===//
//
// Every op sema creates goes through addOp: it runs the op's shape rule
// (reporting a failure at the layer's .dl line), creates the op's
// parameters or finds them again when a layer is shared, and records the
// node and its result values.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_FRONTEND_GRAPHBUILDER_H
#define DLC_FRONTEND_GRAPHBUILDER_H

#include "frontend/Graph.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dlc {

/// Who an op belongs to and how its parameters are made.
struct OpOwner {
  std::string layerPath;   // parameter prefix: "conv2d_1"; "" = no params
  std::string displayName; // how errors name it: "conv2d", "block 'res'"
  bool trainable = true;
  std::string kernelInit; // overrides for roles ending in "kernel"
  std::string biasInit;   // and "bias" (Keras kernel/bias initializers)
};

class GraphBuilder {
public:
  GraphBuilder(Graph &graph, DiagnosticEngine &diags)
      : graph_(graph), diags_(diags) {}

  Graph &graph() { return graph_; }
  const TensorInfo &type(int value) const { return graph_.values[value].type; }

  int addInput(const std::string &name, const TensorInfo &type);

  /// Adds `op` applied to `inputs`; returns its result value ids, or
  /// nothing after reporting an error at `loc`.
  std::optional<std::vector<int>> addOp(const std::string &op,
                                        const std::vector<int> &inputs,
                                        const Attrs &attrs,
                                        const OpOwner &owner, SourceLoc loc);

  /// The next dropout's stream number (each dropout draws its own numbers).
  int64_t nextDropoutStream() { return dropoutStreams_++; }

  /// Whether `value` is used by any node.
  bool isUsed(int value) const;

  /// Where a value comes from, for messages: "dense_1", "input 'image'".
  std::string describeSource(int value) const;

private:
  /// Adds " from <layer>" after each input's type in a shape error.
  std::string nameSources(const std::string &error,
                          const std::vector<int> &inputs) const;
  int findOrCreateParam(const ParamSpec &spec, const OpOwner &owner,
                        SourceLoc loc, bool &ok);

  Graph &graph_;
  DiagnosticEngine &diags_;
  std::map<std::string, int> paramIndex_;
  std::vector<bool> used_; // per value id: consumed by some node
  int64_t dropoutStreams_ = 0;
};

} // namespace dlc

#endif // DLC_FRONTEND_GRAPHBUILDER_H
