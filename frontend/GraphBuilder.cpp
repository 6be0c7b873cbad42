//===- GraphBuilder.cpp ---------------------------------------------------===//
#include "frontend/GraphBuilder.h"

namespace dlc {

int GraphBuilder::addInput(const std::string &name, const TensorInfo &type) {
  Value value;
  value.type = type;
  value.name = name;
  graph_.values.push_back(value);
  int id = static_cast<int>(graph_.values.size()) - 1;
  graph_.inputs.push_back(id);
  return id;
}

static bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int GraphBuilder::findOrCreateParam(const ParamSpec &spec, const OpOwner &owner,
                                    SourceLoc loc, bool &ok) {
  std::string name = owner.layerPath + "." + spec.role;
  auto it = paramIndex_.find(name);
  if (it != paramIndex_.end()) {
    const Parameter &existing = graph_.params[it->second];
    if (existing.shape != spec.shape) {
      diags_.error(loc,
                   owner.displayName + " shares the weights of layer '" +
                       owner.layerPath + "', whose " + spec.role +
                       " has shape " + formatShape(existing.shape) +
                       ", but this application needs " +
                       formatShape(spec.shape),
                   "a shared layer must be applied to inputs of the same "
                   "shape; construct a new layer for this input");
      diags_.note(existing.loc, "the layer was first applied here");
      ok = false;
    }
    return it->second;
  }
  Parameter param;
  param.name = name;
  param.shape = spec.shape;
  param.init = spec.init;
  if (endsWith(spec.role, "kernel") && spec.role != "recurrent_kernel" &&
      !owner.kernelInit.empty())
    param.init = owner.kernelInit;
  if (endsWith(spec.role, "bias") && !owner.biasInit.empty())
    param.init = owner.biasInit;
  param.trainable = spec.trainable && owner.trainable;
  param.fanIn = spec.fanIn;
  param.fanOut = spec.fanOut;
  param.layer = owner.layerPath;
  param.loc = loc;
  graph_.params.push_back(param);
  int id = static_cast<int>(graph_.params.size()) - 1;
  paramIndex_[name] = id;
  return id;
}

std::optional<std::vector<int>>
GraphBuilder::addOp(const std::string &op, const std::vector<int> &inputs,
                    const Attrs &attrs, const OpOwner &owner, SourceLoc loc) {
  std::vector<TensorInfo> inputTypes;
  for (int value : inputs)
    inputTypes.push_back(type(value));
  ShapeResult shapes = inferShapes(op, inputTypes, attrs);
  if (!shapes.ok()) {
    diags_.error(loc, owner.displayName + " " + shapes.error, shapes.hint);
    return std::nullopt;
  }
  Node node;
  node.op = op;
  node.inputs = inputs;
  node.attrs = attrs;
  node.layer = owner.layerPath;
  node.loc = loc;
  bool ok = true;
  for (const ParamSpec &spec : paramSpecs(op, inputTypes, attrs)) {
    if (owner.layerPath.empty()) {
      diags_.error(loc, owner.displayName + " has weights and needs a name");
      return std::nullopt;
    }
    node.params.push_back(findOrCreateParam(spec, owner, loc, ok));
  }
  if (!ok)
    return std::nullopt;
  int nodeIndex = static_cast<int>(graph_.nodes.size());
  for (const TensorInfo &result : shapes.results) {
    Value value;
    value.type = result;
    value.producer = nodeIndex;
    graph_.values.push_back(value);
    node.results.push_back(static_cast<int>(graph_.values.size()) - 1);
  }
  graph_.nodes.push_back(std::move(node));
  return graph_.nodes.back().results;
}

bool GraphBuilder::isUsed(int value) const {
  for (const Node &node : graph_.nodes)
    for (int input : node.inputs)
      if (input == value)
        return true;
  return false;
}

} // namespace dlc
