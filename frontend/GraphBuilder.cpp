//===- GraphBuilder.cpp ---------------------------------------------------===//
#include "frontend/GraphBuilder.h"

namespace dlc {

int GraphBuilder::addInput(const std::string &name, const TensorInfo &type) {
  Value value;
  value.type = type;
  value.name = name;
  graph_.values.push_back(value);
  used_.push_back(false);
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

std::string GraphBuilder::describeSource(int value) const {
  const Value &v = graph_.values[value];
  if (v.producer < 0)
    return "input '" + v.name + "'";
  const Node &node = graph_.nodes[v.producer];
  return node.layer.empty() ? node.op : node.layer;
}

std::string GraphBuilder::nameSources(const std::string &error,
                                      const std::vector<int> &inputs) const {
  if (inputs.size() < 2)
    return error;
  // "got f32[16] and f32[8]" -> "got f32[16] from dense and f32[8] from
  // dense_1": each input's type, in order, gets the layer it comes from.
  std::string out = error;
  size_t from = out.find("got ");
  if (from == std::string::npos)
    return error;
  for (int input : inputs) {
    std::string type = formatTensor(graph_.values[input].type);
    size_t at = out.find(type, from);
    if (at == std::string::npos)
      continue;
    std::string note = " from " + describeSource(input);
    out.insert(at + type.size(), note);
    from = at + type.size() + note.size();
  }
  return out;
}

std::optional<std::vector<int>>
GraphBuilder::addOp(const std::string &op, const std::vector<int> &inputs,
                    const Attrs &attrs, const OpOwner &owner, SourceLoc loc) {
  std::vector<TensorInfo> inputTypes;
  for (int value : inputs)
    inputTypes.push_back(type(value));
  ShapeResult shapes = inferShapes(op, inputTypes, attrs);
  if (!shapes.ok()) {
    diags_.error(loc,
                 owner.displayName + " " + nameSources(shapes.error, inputs),
                 shapes.hint);
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
  for (int input : inputs)
    used_[input] = true;
  for (const TensorInfo &result : shapes.results) {
    Value value;
    value.type = result;
    value.producer = nodeIndex;
    graph_.values.push_back(value);
    used_.push_back(false);
    node.results.push_back(static_cast<int>(graph_.values.size()) - 1);
  }
  graph_.nodes.push_back(std::move(node));
  return graph_.nodes.back().results;
}

bool GraphBuilder::isUsed(int value) const {
  return value >= 0 && static_cast<size_t>(value) < used_.size() &&
         used_[value];
}

} // namespace dlc
