//===- LayerCatalog.cpp ---------------------------------------------------===//
#include "frontend/LayerCatalog.h"

#include <algorithm>
#include <map>

namespace dlc {

const std::vector<std::string> &activationNames() {
  static const std::vector<std::string> names = {
      "linear", "relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax"};
  return names;
}

const std::vector<std::string> &initializerNames() {
  static const std::vector<std::string> names = {
      "glorot_uniform", "glorot_normal", "he_normal",      "he_uniform",
      "lecun_normal",   "lecun_uniform", "zeros",          "ones",
      "orthogonal",     "random_normal", "random_uniform", "truncated_normal"};
  return names;
}

//===----------------------------------------------------------------------===//
// Reading bound arguments
//===----------------------------------------------------------------------===//

static const SemaValue &arg(const LayerApplication &app,
                            const std::string &name) {
  static const SemaValue missing;
  auto it = app.config.find(name);
  return it == app.config.end() ? missing : it->second;
}

static bool given(const LayerApplication &app, const std::string &name) {
  return arg(app, name).kind != SemaValue::Kind::None;
}

static int64_t intArg(const LayerApplication &app, const std::string &name) {
  return arg(app, name).intValue;
}

static double floatArg(const LayerApplication &app, const std::string &name) {
  return arg(app, name).asDouble();
}

static std::vector<int64_t> intsArg(const LayerApplication &app,
                                    const std::string &name) {
  std::vector<int64_t> out;
  for (const SemaValue &item : arg(app, name).items)
    out.push_back(item.intValue);
  return out;
}

static const Shape &inputShape(const LayerApplication &app, size_t i = 0) {
  return app.builder.type(app.inputs[i]).shape;
}

static std::optional<std::vector<int>> addOp(LayerApplication &app,
                                             const std::string &op,
                                             const std::vector<int> &inputs,
                                             const Attrs &attrs) {
  return app.builder.addOp(op, inputs, attrs, app.owner, app.loc);
}

/// Appends the op for `activation=` (nothing for linear).
static std::optional<std::vector<int>>
applyActivation(LayerApplication &app, std::optional<std::vector<int>> in,
                const std::string &activation) {
  if (!in || activation.empty() || activation == "linear")
    return in;
  Attrs attrs;
  int rank = static_cast<int>(app.builder.type(in->front()).shape.size());
  if (activation == "leaky_relu")
    attrs["alpha"] = 0.3;
  else if (activation == "elu")
    attrs["alpha"] = 1.0;
  else if (activation == "softmax")
    attrs["axis"] = static_cast<int64_t>(std::max(rank - 1, 0));
  OpOwner owner = app.owner;
  owner.displayName += " (activation " + activation + ")";
  return app.builder.addOp(activation, {in->front()}, attrs, owner, app.loc);
}

static std::optional<std::vector<int>>
withActivation(LayerApplication &app, std::optional<std::vector<int>> in) {
  return applyActivation(app, std::move(in), arg(app, "activation").text);
}

/// Resolves `padding=` for each spatial dimension of the input into
/// [begin0, end0, begin1, end1, ...]. Leaves zeros when the input rank is
/// wrong: the shape rule reports that.
static std::vector<int64_t> resolvePads(const LayerApplication &app,
                                        const std::vector<int64_t> &kernel,
                                        const std::vector<int64_t> &strides,
                                        const std::vector<int64_t> &dilation) {
  size_t spatial = kernel.size();
  std::vector<int64_t> pads(2 * spatial, 0);
  const Shape &shape = inputShape(app);
  std::string mode = arg(app, "padding").text;
  if (shape.size() != spatial + 1)
    return pads;
  for (size_t i = 0; i < spatial; ++i) {
    std::vector<int64_t> p;
    if (mode == "causal")
      p = {(kernel[i] - 1) * dilation[i], 0};
    else
      p = resolvePadding(mode, shape[i], kernel[i], strides[i], dilation[i]);
    if (p.size() == 2) {
      pads[2 * i] = p[0];
      pads[2 * i + 1] = p[1];
    }
  }
  return pads;
}

/// Keras's axis counts the batch dimension: -1 is the last axis, 0 the
/// batch. Returns the per-example axis, or -1 after reporting an error.
static int64_t perExampleAxis(LayerApplication &app, int64_t axis,
                              size_t rank) {
  int64_t r = static_cast<int64_t>(rank);
  int64_t result = axis < 0 ? r + axis : axis - 1;
  if (axis == 0 || result < 0 || result >= r) {
    app.diags.error(
        app.loc,
        app.owner.displayName + "'s axis " + std::to_string(axis) +
            " is out of range for an input of rank " + std::to_string(r) +
            " (plus the batch)",
        axis == 0 ? "axis 0 is the batch dimension; use -1 for the last axis"
                  : "axes run from 1 to " + std::to_string(r) +
                        ", or -1 down to -" + std::to_string(r));
    return -1;
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Lowerings
//===----------------------------------------------------------------------===//

static void addBias(LayerApplication &app, Attrs &attrs) {
  attrs["use_bias"] = arg(app, "use_bias").boolValue;
}

static std::optional<std::vector<int>>
lowerConv(LayerApplication &app, const std::string &op, size_t spatial) {
  Attrs attrs;
  std::vector<int64_t> kernel, strides, dilation;
  if (spatial == 1) {
    kernel = {intArg(app, "kernel")};
    strides = {intArg(app, "strides")};
    dilation = {intArg(app, "dilation")};
  } else {
    kernel = intsArg(app, "kernel");
    strides = intsArg(app, "strides");
    dilation = intsArg(app, "dilation");
  }
  attrs["kernel_size"] = kernel;
  attrs["strides"] = strides;
  attrs["dilation"] = dilation;
  if (given(app, "filters"))
    attrs["filters"] = intArg(app, "filters");
  if (given(app, "groups"))
    attrs["groups"] = intArg(app, "groups");
  if (given(app, "depth_multiplier"))
    attrs["depth_multiplier"] = intArg(app, "depth_multiplier");
  addBias(app, attrs);

  if (op == "conv2d_transpose") {
    std::vector<int64_t> outputPadding = {-1, -1};
    if (given(app, "output_padding"))
      outputPadding = intsArg(app, "output_padding");
    std::vector<int64_t> pads(4, 0), extra(2, 0);
    const Shape &shape = inputShape(app);
    if (shape.size() == 3) {
      for (size_t i = 0; i < 2; ++i) {
        std::vector<int64_t> p = resolveTransposePadding(
            arg(app, "padding").text, shape[i], kernel[i], strides[i],
            dilation[i], outputPadding[i]);
        if (p.size() == 3) {
          pads[2 * i] = p[0];
          pads[2 * i + 1] = p[1];
          extra[i] = p[2];
        }
      }
    }
    attrs["pad"] = pads;
    attrs["output_padding"] = extra;
  } else {
    attrs["pad"] = resolvePads(app, kernel, strides, dilation);
  }
  return withActivation(app, addOp(app, op, app.inputs, attrs));
}

static std::optional<std::vector<int>> lowerConv1d(LayerApplication &app) {
  return lowerConv(app, "conv1d", 1);
}
static std::optional<std::vector<int>> lowerConv2d(LayerApplication &app) {
  return lowerConv(app, "conv2d", 2);
}
static std::optional<std::vector<int>> lowerDepthwise(LayerApplication &app) {
  return lowerConv(app, "depthwise_conv2d", 2);
}
static std::optional<std::vector<int>> lowerSeparable(LayerApplication &app) {
  return lowerConv(app, "separable_conv2d", 2);
}
static std::optional<std::vector<int>> lowerTranspose(LayerApplication &app) {
  return lowerConv(app, "conv2d_transpose", 2);
}

static std::optional<std::vector<int>> lowerDense(LayerApplication &app) {
  Attrs attrs;
  attrs["units"] = intArg(app, "units");
  addBias(app, attrs);
  return withActivation(app, addOp(app, "dense", app.inputs, attrs));
}

static std::optional<std::vector<int>> lowerPool(LayerApplication &app,
                                                 const std::string &op) {
  Attrs attrs;
  std::vector<int64_t> pool = intsArg(app, "pool");
  std::vector<int64_t> strides =
      given(app, "strides") ? intsArg(app, "strides") : pool;
  attrs["pool_size"] = pool;
  attrs["strides"] = strides;
  attrs["pad"] = resolvePads(app, pool, strides, {1, 1});
  return addOp(app, op, app.inputs, attrs);
}
static std::optional<std::vector<int>> lowerMaxPool(LayerApplication &app) {
  return lowerPool(app, "maxpool2d");
}
static std::optional<std::vector<int>> lowerAvgPool(LayerApplication &app) {
  return lowerPool(app, "avgpool2d");
}

static std::optional<std::vector<int>> lowerGlobalAvg(LayerApplication &app) {
  return addOp(app, "global_avgpool2d", app.inputs, {});
}
static std::optional<std::vector<int>> lowerGlobalMax(LayerApplication &app) {
  return addOp(app, "global_maxpool2d", app.inputs, {});
}

static std::optional<std::vector<int>> lowerBatchNorm(LayerApplication &app) {
  Attrs attrs;
  attrs["momentum"] = floatArg(app, "momentum");
  attrs["epsilon"] = floatArg(app, "epsilon");
  return addOp(app, "batchnorm", app.inputs, attrs);
}

static std::optional<std::vector<int>> lowerLayerNorm(LayerApplication &app) {
  Attrs attrs;
  attrs["epsilon"] = floatArg(app, "epsilon");
  return addOp(app, "layernorm", app.inputs, attrs);
}

static std::optional<std::vector<int>> lowerDropout(LayerApplication &app) {
  Attrs attrs;
  attrs["rate"] = floatArg(app, "rate");
  attrs["seed_offset"] = app.builder.nextDropoutStream();
  return addOp(app, "dropout", app.inputs, attrs);
}

static std::optional<std::vector<int>>
lowerActivationLayer(LayerApplication &app) {
  std::optional<std::vector<int>> in = app.inputs;
  std::string kind = arg(app, "kind").text;
  if (kind == "linear")
    return in;
  return applyActivation(app, in, kind);
}

static std::optional<std::vector<int>> lowerSimple(LayerApplication &app,
                                                   const std::string &op) {
  return addOp(app, op, app.inputs, {});
}
static std::optional<std::vector<int>> lowerRelu(LayerApplication &app) {
  return lowerSimple(app, "relu");
}
static std::optional<std::vector<int>> lowerSigmoid(LayerApplication &app) {
  return lowerSimple(app, "sigmoid");
}
static std::optional<std::vector<int>> lowerTanh(LayerApplication &app) {
  return lowerSimple(app, "tanh");
}
static std::optional<std::vector<int>> lowerAbs(LayerApplication &app) {
  return lowerSimple(app, "abs");
}

static std::optional<std::vector<int>> lowerLeakyRelu(LayerApplication &app) {
  Attrs attrs;
  attrs["alpha"] = floatArg(app, "alpha");
  return addOp(app, "leaky_relu", app.inputs, attrs);
}
static std::optional<std::vector<int>> lowerElu(LayerApplication &app) {
  Attrs attrs;
  attrs["alpha"] = floatArg(app, "alpha");
  return addOp(app, "elu", app.inputs, attrs);
}

static std::optional<std::vector<int>> lowerSoftmax(LayerApplication &app) {
  int64_t axis =
      perExampleAxis(app, intArg(app, "axis"), inputShape(app).size());
  if (axis < 0)
    return std::nullopt;
  Attrs attrs;
  attrs["axis"] = axis;
  return addOp(app, "softmax", app.inputs, attrs);
}

/// add and multiply take two or more inputs: a chain of binary ops.
static std::optional<std::vector<int>> lowerChain(LayerApplication &app,
                                                  const std::string &op) {
  std::optional<std::vector<int>> acc = std::vector<int>{app.inputs[0]};
  for (size_t i = 1; i < app.inputs.size() && acc; ++i)
    acc = addOp(app, op, {acc->front(), app.inputs[i]}, {});
  return acc;
}
static std::optional<std::vector<int>> lowerAdd(LayerApplication &app) {
  return lowerChain(app, "add");
}
static std::optional<std::vector<int>> lowerMultiply(LayerApplication &app) {
  return lowerChain(app, "multiply");
}
static std::optional<std::vector<int>> lowerSubtract(LayerApplication &app) {
  return addOp(app, "subtract", app.inputs, {});
}

static std::optional<std::vector<int>> lowerConcat(LayerApplication &app) {
  int64_t axis =
      perExampleAxis(app, intArg(app, "axis"), inputShape(app).size());
  if (axis < 0)
    return std::nullopt;
  Attrs attrs;
  attrs["axis"] = axis;
  return addOp(app, "concat", app.inputs, attrs);
}

static std::optional<std::vector<int>> lowerFlatten(LayerApplication &app) {
  int64_t count = checkedElementCount(inputShape(app));
  Attrs attrs;
  attrs["shape"] = std::vector<int64_t>{count};
  return addOp(app, "reshape", app.inputs, attrs);
}

static std::optional<std::vector<int>> lowerReshape(LayerApplication &app) {
  std::vector<int64_t> shape = intsArg(app, "shape");
  int64_t count = checkedElementCount(inputShape(app));
  int64_t known = 1;
  int inferred = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1 && inferred < 0) {
      inferred = static_cast<int>(i);
      continue;
    }
    if (shape[i] < 1 || known > (int64_t(1) << 40) / shape[i]) {
      app.diags.error(app.loc,
                      app.owner.displayName + "'s target shape " +
                          formatShape(shape) + " is not valid",
                      "use positive sizes and at most one -1; the batch "
                      "dimension is not written");
      return std::nullopt;
    }
    known *= shape[i];
  }
  if (inferred >= 0) {
    if (known == 0 || count % known != 0) {
      app.diags.error(app.loc,
                      app.owner.displayName + " cannot reshape " +
                          formatTensor(app.builder.type(app.inputs[0])) + " (" +
                          std::to_string(count) + " elements) to " +
                          formatShape(shape));
      return std::nullopt;
    }
    shape[inferred] = count / known;
  }
  Attrs attrs;
  attrs["shape"] = shape;
  return addOp(app, "reshape", app.inputs, attrs);
}

static std::optional<std::vector<int>> lowerZeroPadding(LayerApplication &app) {
  // pad: n, [h, w] or [[top, bottom], [left, right]].
  const SemaValue &value = arg(app, "pad");
  std::vector<int64_t> pads;
  auto isInt = [](const SemaValue &v) {
    return v.kind == SemaValue::Kind::Int ||
           (v.kind == SemaValue::Kind::Float &&
            v.floatValue == static_cast<double>(static_cast<int64_t>(std::min(
                                std::max(v.floatValue, -1e15), 1e15))));
  };
  auto toInt = [](const SemaValue &v) {
    return v.kind == SemaValue::Kind::Int ? v.intValue
                                          : static_cast<int64_t>(v.floatValue);
  };
  if (isInt(value)) {
    int64_t p = toInt(value);
    pads = {p, p, p, p};
  } else if (value.kind == SemaValue::Kind::List && value.items.size() == 2) {
    for (const SemaValue &item : value.items) {
      if (isInt(item)) {
        pads.push_back(toInt(item));
        pads.push_back(toInt(item));
      } else if (item.kind == SemaValue::Kind::List && item.items.size() == 2 &&
                 isInt(item.items[0]) && isInt(item.items[1])) {
        pads.push_back(toInt(item.items[0]));
        pads.push_back(toInt(item.items[1]));
      }
    }
  }
  if (pads.size() != 4) {
    app.diags.error(app.loc,
                    app.owner.displayName +
                        "'s pad must be n, [h, w] or [[top, bottom], [left, "
                        "right]]");
    return std::nullopt;
  }
  Attrs attrs;
  attrs["pad"] = pads;
  return addOp(app, "zero_padding2d", app.inputs, attrs);
}

static std::optional<std::vector<int>> lowerUpsampling(LayerApplication &app) {
  Attrs attrs;
  attrs["size"] = intsArg(app, "size");
  return addOp(app, "upsampling2d", app.inputs, attrs);
}

static std::optional<std::vector<int>> lowerEmbedding(LayerApplication &app) {
  Attrs attrs;
  attrs["input_dim"] = intArg(app, "input_dim");
  attrs["output_dim"] = intArg(app, "output_dim");
  return addOp(app, "embedding", app.inputs, attrs);
}

static std::optional<std::vector<int>> lowerRecurrent(LayerApplication &app,
                                                      const std::string &op) {
  Attrs attrs;
  attrs["units"] = intArg(app, "units");
  attrs["return_sequences"] = arg(app, "return_sequences").boolValue;
  return addOp(app, op, app.inputs, attrs);
}
static std::optional<std::vector<int>> lowerLstm(LayerApplication &app) {
  return lowerRecurrent(app, "lstm");
}
static std::optional<std::vector<int>> lowerGru(LayerApplication &app) {
  return lowerRecurrent(app, "gru");
}

//===----------------------------------------------------------------------===//
// The table
//===----------------------------------------------------------------------===//

static SemaValue intValue(int64_t v) { return SemaValue::ofInt(v); }
static SemaValue floatValue(double v) { return SemaValue::ofFloat(v); }
static SemaValue boolValue(bool v) { return SemaValue::ofBool(v); }

static ArgSpec withAliases(ArgSpec spec, std::vector<std::string> aliases) {
  spec.aliases = std::move(aliases);
  return spec;
}

static ArgSpec byName(ArgSpec spec) {
  spec.positional = false;
  return spec;
}

static std::vector<ArgSpec> convArgs(bool hasFilters, bool pair, bool transpose,
                                     bool depthwise) {
  ArgType spatial = pair ? ArgType::IntPair : ArgType::Int;
  std::vector<ArgSpec> args;
  if (hasFilters)
    args.push_back(required("filters", ArgType::Int));
  args.push_back(withAliases(required("kernel", spatial), {"kernel_size"}));
  args.push_back(optional("strides", spatial, intValue(1)));
  std::vector<std::string> paddings = {"valid", "same"};
  if (!pair)
    paddings.push_back("causal");
  args.push_back(word("padding", paddings, "valid"));
  if (transpose)
    args.push_back(optional("output_padding", ArgType::IntPair, {}));
  args.push_back(withAliases(optional("dilation", spatial, intValue(1)),
                             {"dilation_rate"}));
  if (depthwise)
    args.push_back(optional("depth_multiplier", ArgType::Int, intValue(1)));
  if (hasFilters && !transpose && !depthwise)
    args.push_back(optional("groups", ArgType::Int, intValue(1)));
  args.push_back(word("activation", activationNames(), "linear"));
  args.push_back(optional("use_bias", ArgType::Bool, boolValue(true)));
  args.push_back(withAliases(word("kernel_init", initializerNames(), ""),
                             {"kernel_initializer"}));
  args.push_back(withAliases(word("bias_init", initializerNames(), ""),
                             {"bias_initializer"}));
  return args;
}

/// The interval of each numeric layer argument, by name (the same for every
/// layer that takes it).
static std::optional<ArgRange> layerArgRange(const std::string &name) {
  static const std::map<std::string, ArgRange> ranges = {
      {"units", {1, 1e9}},
      {"filters", {1, 1e9}},
      {"kernel", {1, 1e9}},
      {"strides", {1, 1e9}},
      {"dilation", {1, 1e9}},
      {"groups", {1, 1e9}},
      {"depth_multiplier", {1, 1e9}},
      {"output_padding", {0, 1e9}},
      {"pool", {1, 1e9}},
      {"size", {1, 1e6}},
      {"input_dim", {1, 1e9}},
      {"output_dim", {1, 1e9}},
      {"rate", {0, 1, false, true}},
      {"momentum", {0, 1}},
      {"epsilon", {0, 1, true, false}},
      {"alpha", {-1e6, 1e6}},
  };
  auto it = ranges.find(name);
  if (it == ranges.end())
    return std::nullopt;
  return it->second;
}

static std::vector<LayerSchema> buildSchemas() {
  std::vector<LayerSchema> s;
  auto add = [&](std::string name, std::vector<ArgSpec> args, bool weights,
                 LayerLowering lower, int minInputs = 1, int maxInputs = 1) {
    LayerSchema schema;
    schema.name = std::move(name);
    schema.args = std::move(args);
    for (ArgSpec &spec : schema.args)
      spec.range = layerArgRange(spec.name);
    schema.args.push_back(byName(optional("name", ArgType::String, {})));
    schema.args.push_back(
        byName(optional("trainable", ArgType::Bool, boolValue(true))));
    schema.hasWeights = weights;
    schema.lower = lower;
    schema.minInputs = minInputs;
    schema.maxInputs = maxInputs;
    s.push_back(std::move(schema));
  };

  // Core.
  add("dense",
      {required("units", ArgType::Int),
       word("activation", activationNames(), "linear"),
       optional("use_bias", ArgType::Bool, boolValue(true)),
       withAliases(word("kernel_init", initializerNames(), ""),
                   {"kernel_initializer"}),
       withAliases(word("bias_init", initializerNames(), ""),
                   {"bias_initializer"})},
      true, lowerDense);
  add("flatten", {}, false, lowerFlatten);
  add("reshape",
      {withAliases(required("shape", ArgType::IntList), {"target_shape"})},
      false, lowerReshape);
  add("dropout", {required("rate", ArgType::Float)}, false, lowerDropout);
  ArgSpec kind = word("kind", activationNames(), "");
  kind.required = true;
  add("activation", {kind}, false, lowerActivationLayer);
  add("embedding",
      {required("input_dim", ArgType::Int),
       required("output_dim", ArgType::Int)},
      true, lowerEmbedding);

  // Activations.
  add("relu", {}, false, lowerRelu);
  add("leaky_relu",
      {withAliases(optional("alpha", ArgType::Float, floatValue(0.3)),
                   {"negative_slope"})},
      false, lowerLeakyRelu);
  add("elu", {optional("alpha", ArgType::Float, floatValue(1.0))}, false,
      lowerElu);
  add("sigmoid", {}, false, lowerSigmoid);
  add("tanh", {}, false, lowerTanh);
  add("softmax", {optional("axis", ArgType::Int, intValue(-1))}, false,
      lowerSoftmax);

  // Convolution.
  add("conv1d", convArgs(true, false, false, false), true, lowerConv1d);
  add("conv2d", convArgs(true, true, false, false), true, lowerConv2d);
  add("depthwise_conv2d", convArgs(false, true, false, true), true,
      lowerDepthwise);
  add("separable_conv2d", convArgs(true, true, false, true), true,
      lowerSeparable);
  add("conv2d_transpose", convArgs(true, true, true, false), true,
      lowerTranspose);
  add("upsampling2d", {optional("size", ArgType::IntPair, intValue(2))}, false,
      lowerUpsampling);
  add("zero_padding2d",
      {withAliases(optional("pad", ArgType::Any, intValue(1)), {"padding"})},
      false, lowerZeroPadding);

  // Pooling.
  for (const char *name : {"maxpool2d", "avgpool2d"})
    add(name,
        {withAliases(optional("pool", ArgType::IntPair, intValue(2)),
                     {"pool_size"}),
         optional("strides", ArgType::IntPair, {}),
         word("padding", {"valid", "same"}, "valid")},
        false, std::string(name) == "maxpool2d" ? lowerMaxPool : lowerAvgPool);
  add("global_avgpool2d", {}, false, lowerGlobalAvg);
  add("global_maxpool2d", {}, false, lowerGlobalMax);

  // Normalization.
  add("batchnorm",
      {optional("momentum", ArgType::Float, floatValue(0.99)),
       optional("epsilon", ArgType::Float, floatValue(1e-3))},
      true, lowerBatchNorm);
  add("layernorm", {optional("epsilon", ArgType::Float, floatValue(1e-3))},
      true, lowerLayerNorm);

  // Merge.
  add("add", {}, false, lowerAdd, 2, -1);
  add("subtract", {}, false, lowerSubtract, 2, 2);
  add("multiply", {}, false, lowerMultiply, 2, -1);
  add("concat", {optional("axis", ArgType::Int, intValue(-1))}, false,
      lowerConcat, 1, -1);
  add("abs", {}, false, lowerAbs);

  // Recurrent.
  for (const char *name : {"lstm", "gru"})
    add(name,
        {required("units", ArgType::Int),
         optional("return_sequences", ArgType::Bool, boolValue(false))},
        true, std::string(name) == "lstm" ? lowerLstm : lowerGru);

  std::sort(s.begin(), s.end(), [](const LayerSchema &a, const LayerSchema &b) {
    return a.name < b.name;
  });
  return s;
}

static const std::vector<LayerSchema> &schemas() {
  static const std::vector<LayerSchema> table = buildSchemas();
  return table;
}

const LayerSchema *findLayer(const std::string &name) {
  for (const LayerSchema &schema : schemas())
    if (schema.name == name)
      return &schema;
  return nullptr;
}

const std::vector<std::string> &layerNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const LayerSchema &schema : schemas())
      out.push_back(schema.name);
    return out;
  }();
  return names;
}

} // namespace dlc
