//===- ShapeRules.cpp - the shape rule of every dl op ---------------------===//
//
// Every op of the catalog (see ShapeRules.h) has an entry in one table: a
// rule that checks the op's inputs and attributes and computes its result
// types, and, for ops with weights, a function that lists its parameters.
// The conv-like ops share one attribute reader and one sliding-window
// helper, so their checks and messages agree.
//
// Sizes are bounded: attributes and dimensions are at most 2^40, and all
// size arithmetic saturates at 2^62 (far above any accepted size), so no
// input can overflow a computation; a saturated size is reported as too
// large by the element-count check.
//
//===----------------------------------------------------------------------===//

#include "ir/ShapeRules.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

namespace dlc {
namespace {

/// The largest element count of any tensor (and the largest attribute).
constexpr int64_t kMaxElements = int64_t(1) << 40;
/// Where size arithmetic saturates.
constexpr int64_t kSaturated = int64_t(1) << 62;

/// a + b for sizes in [0, kSaturated], saturating.
int64_t satAdd(int64_t a, int64_t b) {
  return a >= kSaturated - b ? kSaturated : a + b;
}

/// a * b for sizes in [0, kSaturated], saturating.
int64_t satMul(int64_t a, int64_t b) {
  if (a == 0 || b == 0)
    return 0;
  return a > kSaturated / b ? kSaturated : a * b;
}

/// Ceiling division for a >= 0, b >= 1.
int64_t ceilDiv(int64_t a, int64_t b) { return a / b + (a % b != 0); }

/// The extent of a kernel of size k dilated by d: (k - 1) * d + 1.
int64_t dilatedExtent(int64_t k, int64_t d) {
  return satAdd(satMul(k - 1, d), 1);
}

std::string str(int64_t value) { return std::to_string(value); }
std::string str(size_t value) { return std::to_string(value); }

std::string formatNumber(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

/// "3x3" for a 2-D size, "5" for a 1-D one.
std::string joinX(const Shape &dims) {
  std::string out;
  for (size_t i = 0; i < dims.size(); ++i)
    out += (i ? "x" : "") + str(dims[i]);
  return out;
}

TensorInfo tensor(ElementType type, Shape shape, bool batched = true) {
  TensorInfo info;
  info.elementType = type;
  info.shape = std::move(shape);
  info.batched = batched;
  return info;
}

bool isFloat(ElementType type) {
  return type == ElementType::F32 || type == ElementType::F64;
}

/// Allowed values of a float attribute.
struct FloatRange {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool loOpen = false;
  bool hiOpen = false;

  bool contains(double v) const {
    if (!std::isfinite(v))
      return false;
    return (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi);
  }
  std::string describe() const {
    bool hasLo = std::isfinite(lo), hasHi = std::isfinite(hi);
    if (!hasLo && !hasHi)
      return "to be finite";
    if (!hasHi)
      return std::string(loOpen ? "> " : ">= ") + formatNumber(lo);
    if (!hasLo)
      return std::string(hiOpen ? "< " : "<= ") + formatNumber(hi);
    return std::string("in ") + (loOpen ? "(" : "[") + formatNumber(lo) + ", " +
           formatNumber(hi) + (hiOpen ? ")" : "]");
  }
};

const FloatRange kAnyFinite{};
const FloatRange kPositive{0, std::numeric_limits<double>::infinity(), true,
                           false};
const FloatRange kNonNegative{0, std::numeric_limits<double>::infinity(), false,
                              false};
const FloatRange kUnitClosed{0, 1, false, false};
const FloatRange kUnitHalfOpen{0, 1, false, true};

/// Marks a list attribute whose length is free.
constexpr size_t kAnyLength = static_cast<size_t>(-1);

/// What a rule reads (inputs, attributes) and where it reports (results or
/// the first error). Every check returns false once it has failed.
class RuleContext {
public:
  RuleContext(const std::vector<TensorInfo> &inputs, const Attrs &attrs)
      : inputs(inputs), attrs(attrs) {}

  const std::vector<TensorInfo> &inputs;
  const Attrs &attrs;
  ShapeResult result;

  bool fail(std::string error, std::string hint = {}) {
    if (result.error.empty()) {
      result.error = std::move(error);
      result.hint = std::move(hint);
    }
    return false;
  }

  bool produce(TensorInfo info) {
    result.results.push_back(std::move(info));
    return true;
  }

  //===--- inputs ---------------------------------------------------------===//

  bool expectInputs(size_t count, const char *names = nullptr) {
    if (inputs.size() == count)
      return true;
    std::string expected = str(count) + (count == 1 ? " input" : " inputs");
    if (names)
      expected += std::string(" (") + names + ")";
    return fail("expects " + expected + ", got " + str(inputs.size()));
  }

  bool expectAtLeastOneInput() {
    if (!inputs.empty())
      return true;
    return fail("expects at least 1 input, got 0");
  }

  bool expectFloat(const TensorInfo &t) {
    if (isFloat(t.elementType))
      return true;
    return fail("expects a float input (f32 or f64), got " + formatTensor(t),
                "integer tensors are only embedding ids and "
                "sparse_categorical_crossentropy targets");
  }

  /// A float input of exactly `rank` dimensions laid out as `layout`.
  bool expectFloatRank(const TensorInfo &t, size_t rank, const char *layout) {
    if (!expectFloat(t))
      return false;
    if (t.shape.size() == rank)
      return true;
    return fail("expects an input of rank " + str(rank) + " " + layout +
                    ", got " + formatTensor(t),
                rankHint(t, rank, layout));
  }

  /// A float input of at least `rank` dimensions laid out as `layout`.
  bool expectFloatMinRank(const TensorInfo &t, size_t rank,
                          const char *layout) {
    if (!expectFloat(t))
      return false;
    if (t.shape.size() >= rank)
      return true;
    return fail("expects an input of rank >= " + str(rank) + " " + layout +
                    ", got " + formatTensor(t),
                rankHint(t, rank, layout));
  }

  /// Every input float, of one element type.
  bool expectFloatsOfOneType() {
    for (const TensorInfo &t : inputs) {
      if (!expectFloat(t))
        return false;
      if (t.elementType != inputs[0].elementType)
        return fail("expects inputs of the same element type, got " +
                    formatTensor(inputs[0]) + " and " + formatTensor(t));
    }
    return true;
  }

  //===--- attributes -----------------------------------------------------===//

  /// An integer attribute in [min, max]; `fallback` when absent, an error
  /// when absent without a fallback.
  std::optional<int64_t> intAttr(const char *key,
                                 std::optional<int64_t> fallback,
                                 int64_t min = 1, int64_t max = kMaxElements) {
    auto it = attrs.find(key);
    if (it == attrs.end()) {
      if (!fallback)
        fail(std::string("is missing the attribute '") + key +
             "' (an integer)");
      return fallback;
    }
    const int64_t *value = std::get_if<int64_t>(&it->second);
    if (!value) {
      fail(std::string("expects '") + key + "' to be an integer");
      return std::nullopt;
    }
    if (*value < min) {
      fail(std::string("expects ") + key + " >= " + str(min) + ", got " +
           str(*value));
      return std::nullopt;
    }
    if (*value > max) {
      fail(std::string("expects ") + key + " <= " + str(max) + ", got " +
           str(*value));
      return std::nullopt;
    }
    return *value;
  }

  /// A list of `length` integers, each in [min, kMaxElements].
  std::optional<Shape> intListAttr(const char *key, size_t length,
                                   std::optional<Shape> fallback, int64_t min) {
    std::string what = length == kAnyLength
                           ? std::string("a list of integers")
                           : "a list of " + str(length) + " integers";
    auto it = attrs.find(key);
    if (it == attrs.end()) {
      if (!fallback)
        fail(std::string("is missing the attribute '") + key + "' (" + what +
             ")");
      return fallback;
    }
    const Shape *value = std::get_if<Shape>(&it->second);
    if (!value) {
      fail(std::string("expects '") + key + "' to be " + what);
      return std::nullopt;
    }
    if (length != kAnyLength && value->size() != length) {
      fail(std::string("expects '") + key + "' to be " + what + ", got " +
           formatShape(*value));
      return std::nullopt;
    }
    for (int64_t v : *value) {
      if (v < min || v > kMaxElements) {
        fail(std::string("expects ") + key +
             (v < min ? " >= " + str(min) : " <= " + str(kMaxElements)) +
             ", got " + formatShape(*value));
        return std::nullopt;
      }
    }
    return *value;
  }

  /// A number (an integer is accepted) in `range`.
  std::optional<double> floatAttr(const char *key,
                                  std::optional<double> fallback,
                                  const FloatRange &range) {
    auto it = attrs.find(key);
    if (it == attrs.end()) {
      if (!fallback)
        fail(std::string("is missing the attribute '") + key + "' (a number)");
      return fallback;
    }
    double value;
    if (const double *d = std::get_if<double>(&it->second))
      value = *d;
    else if (const int64_t *i = std::get_if<int64_t>(&it->second))
      value = static_cast<double>(*i);
    else {
      fail(std::string("expects '") + key + "' to be a number");
      return std::nullopt;
    }
    if (!range.contains(value)) {
      fail(std::string("expects ") + key + " " + range.describe() + ", got " +
           formatNumber(value));
      return std::nullopt;
    }
    return value;
  }

  std::optional<bool> boolAttr(const char *key, bool fallback) {
    auto it = attrs.find(key);
    if (it == attrs.end())
      return fallback;
    const bool *value = std::get_if<bool>(&it->second);
    if (!value) {
      fail(std::string("expects '") + key + "' to be true or false");
      return std::nullopt;
    }
    return *value;
  }

  /// A per-example axis of a rank-`rank` tensor; negative counts from the
  /// end. Returns it normalized to [0, rank).
  std::optional<size_t> axisAttr(const TensorInfo &t) {
    int64_t rank = static_cast<int64_t>(t.shape.size());
    std::optional<int64_t> axis =
        intAttr("axis", -1, std::numeric_limits<int64_t>::min(),
                std::numeric_limits<int64_t>::max());
    if (!axis)
      return std::nullopt;
    if (*axis < -rank || *axis >= rank) {
      fail("expects axis in [" + str(-rank) + ", " + str(rank - 1) + "] for " +
           formatTensor(t) + ", got " + str(*axis));
      return std::nullopt;
    }
    return static_cast<size_t>(*axis < 0 ? *axis + rank : *axis);
  }

private:
  /// How to turn `t` into a tensor of `rank` dimensions.
  static std::string rankHint(const TensorInfo &t, size_t rank,
                              const char *layout) {
    if (t.shape.size() + 1 == rank) {
      TensorInfo withAxis = t;
      withAxis.shape.push_back(1);
      return "declare the input as " + formatTensor(withAxis) +
             " or add reshape(" + formatShape(withAxis.shape) + ") before it";
    }
    if (t.shape.size() > rank)
      return std::string("the batch dimension is implicit: give the "
                         "per-example shape ") +
             layout + " or add reshape(" + layout + ") before it";
    return std::string("add reshape(") + layout + ") before it";
  }
};

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

/// A parameter with Keras's fans for `shape` (keras compute_fans).
ParamSpec param(std::string role, Shape shape, std::string init,
                bool trainable = true) {
  ParamSpec spec;
  spec.role = std::move(role);
  spec.init = std::move(init);
  spec.trainable = trainable;
  size_t rank = shape.size();
  if (rank == 1) {
    spec.fanIn = spec.fanOut = shape[0];
  } else if (rank == 2) {
    spec.fanIn = shape[0];
    spec.fanOut = shape[1];
  } else if (rank >= 3) {
    int64_t receptive = 1;
    for (size_t i = 0; i + 2 < rank; ++i)
      receptive = satMul(receptive, shape[i]);
    spec.fanIn = satMul(shape[rank - 2], receptive);
    spec.fanOut = satMul(shape[rank - 1], receptive);
  }
  spec.shape = std::move(shape);
  return spec;
}

void addBias(std::vector<ParamSpec> &params, bool useBias, int64_t size) {
  if (useBias)
    params.push_back(param("bias", {size}, "zeros"));
}

//===----------------------------------------------------------------------===//
// Conv-like ops: shared attributes and the sliding window
//===----------------------------------------------------------------------===//

/// Which attributes a conv-like op has beyond kernel_size, strides,
/// dilation, pad and use_bias.
enum WindowField : unsigned {
  kFilters = 1,
  kGroups = 2,
  kDepthMultiplier = 4,
  kOutputPadding = 8,
};

struct WindowAttrs {
  int64_t filters = 0;
  int64_t groups = 1;
  int64_t depthMultiplier = 1;
  Shape kernel, strides, dilation, pad, outputPadding;
  bool useBias = true;
};

std::optional<WindowAttrs> readWindowAttrs(RuleContext &cx, size_t spatial,
                                           unsigned fields) {
  WindowAttrs a;
  Shape ones(spatial, 1), zeros(2 * spatial, 0);
  if (fields & kFilters) {
    auto filters = cx.intAttr("filters", std::nullopt);
    if (!filters)
      return std::nullopt;
    a.filters = *filters;
  }
  auto kernel = cx.intListAttr("kernel_size", spatial, std::nullopt, 1);
  if (!kernel)
    return std::nullopt;
  auto strides = cx.intListAttr("strides", spatial, ones, 1);
  if (!strides)
    return std::nullopt;
  auto dilation = cx.intListAttr("dilation", spatial, ones, 1);
  if (!dilation)
    return std::nullopt;
  auto pad = cx.intListAttr("pad", 2 * spatial, zeros, 0);
  if (!pad)
    return std::nullopt;
  a.kernel = *kernel;
  a.strides = *strides;
  a.dilation = *dilation;
  a.pad = *pad;
  if (fields & kGroups) {
    auto groups = cx.intAttr("groups", 1);
    if (!groups)
      return std::nullopt;
    a.groups = *groups;
  }
  if (fields & kDepthMultiplier) {
    auto multiplier = cx.intAttr("depth_multiplier", 1);
    if (!multiplier)
      return std::nullopt;
    a.depthMultiplier = *multiplier;
  }
  if (fields & kOutputPadding) {
    auto outputPadding =
        cx.intListAttr("output_padding", spatial, Shape(spatial, 0), 0);
    if (!outputPadding)
      return std::nullopt;
    a.outputPadding = *outputPadding;
  }
  auto useBias = cx.boolAttr("use_bias", true);
  if (!useBias)
    return std::nullopt;
  a.useBias = *useBias;
  return a;
}

/// All but the last dimension: the spatial dimensions of a channels-last
/// tensor. `shape` is not empty.
Shape dropLast(const Shape &shape) {
  return Shape(shape.begin(), shape.end() - 1);
}

/// The output size of a window (`what`: "kernel" or "pool") sliding over
/// `in` padded by `pad` ([begin, end] per dimension), as Keras computes it:
/// (in + pad_begin + pad_end - ((k - 1) * d + 1)) / s + 1.
std::optional<Shape> slideWindow(RuleContext &cx, const char *what,
                                 const Shape &in, const Shape &kernel,
                                 const Shape &strides, const Shape &dilation,
                                 const Shape &pad) {
  size_t n = in.size();
  Shape padded(n), extent(n), out(n);
  bool tooLarge = false, dilated = false;
  for (size_t i = 0; i < n; ++i) {
    padded[i] = satAdd(in[i], satAdd(pad[2 * i], pad[2 * i + 1]));
    extent[i] = dilatedExtent(kernel[i], dilation[i]);
    tooLarge |= extent[i] > padded[i];
    dilated |= dilation[i] != 1;
  }
  if (tooLarge) {
    std::string error = std::string(what) + " " + joinX(kernel);
    if (dilated)
      error +=
          " dilated by " + joinX(dilation) + " spans " + joinX(extent) + ",";
    else
      error += " is";
    error += " larger than the padded input " + joinX(padded);
    cx.fail(error, std::string("use padding=same or a smaller ") + what);
    return std::nullopt;
  }
  for (size_t i = 0; i < n; ++i)
    out[i] = (padded[i] - extent[i]) / strides[i] + 1;
  return out;
}

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

const char *layoutFor(size_t spatial) {
  return spatial == 1 ? "[L, C]" : "[H, W, C]";
}

/// conv1d (spatial = 1) and conv2d (spatial = 2).
bool convRule(RuleContext &cx, size_t spatial) {
  if (!cx.expectInputs(1) ||
      !cx.expectFloatRank(cx.inputs[0], spatial + 1, layoutFor(spatial)))
    return false;
  const TensorInfo &x = cx.inputs[0];
  auto a = readWindowAttrs(cx, spatial, kFilters | kGroups);
  if (!a)
    return false;
  int64_t channels = x.shape.back();
  if (channels % a->groups != 0)
    return cx.fail("expects groups " + str(a->groups) +
                   " to divide the input channels " + str(channels) + " of " +
                   formatTensor(x));
  if (a->filters % a->groups != 0)
    return cx.fail("expects groups " + str(a->groups) + " to divide filters " +
                   str(a->filters));
  auto out = slideWindow(cx, "kernel", dropLast(x.shape), a->kernel, a->strides,
                         a->dilation, a->pad);
  if (!out)
    return false;
  out->push_back(a->filters);
  return cx.produce(tensor(x.elementType, *out));
}

std::vector<ParamSpec> convParams(RuleContext &cx, size_t spatial) {
  auto a = readWindowAttrs(cx, spatial, kFilters | kGroups);
  if (!a)
    return {};
  Shape kernel = a->kernel;
  kernel.push_back(cx.inputs[0].shape.back() / a->groups);
  kernel.push_back(a->filters);
  std::vector<ParamSpec> params{param("kernel", kernel, "glorot_uniform")};
  addBias(params, a->useBias, a->filters);
  return params;
}

/// depthwise_conv2d and separable_conv2d: the depthwise step.
std::optional<Shape> depthwiseOutput(RuleContext &cx, const WindowAttrs &a) {
  const TensorInfo &x = cx.inputs[0];
  auto out = slideWindow(cx, "kernel", dropLast(x.shape), a.kernel, a.strides,
                         a.dilation, a.pad);
  if (out)
    out->push_back(satMul(x.shape.back(), a.depthMultiplier));
  return out;
}

bool depthwiseRule(RuleContext &cx) {
  if (!cx.expectInputs(1) || !cx.expectFloatRank(cx.inputs[0], 3, "[H, W, C]"))
    return false;
  auto a = readWindowAttrs(cx, 2, kDepthMultiplier);
  if (!a)
    return false;
  auto out = depthwiseOutput(cx, *a);
  return out && cx.produce(tensor(cx.inputs[0].elementType, *out));
}

Shape depthwiseKernelShape(const WindowAttrs &a, int64_t channels) {
  return {a.kernel[0], a.kernel[1], channels, a.depthMultiplier};
}

std::vector<ParamSpec> depthwiseParams(RuleContext &cx) {
  auto a = readWindowAttrs(cx, 2, kDepthMultiplier);
  if (!a)
    return {};
  int64_t channels = cx.inputs[0].shape.back();
  std::vector<ParamSpec> params{param("depthwise_kernel",
                                      depthwiseKernelShape(*a, channels),
                                      "glorot_uniform")};
  addBias(params, a->useBias, satMul(channels, a->depthMultiplier));
  return params;
}

bool separableRule(RuleContext &cx) {
  if (!cx.expectInputs(1) || !cx.expectFloatRank(cx.inputs[0], 3, "[H, W, C]"))
    return false;
  auto a = readWindowAttrs(cx, 2, kFilters | kDepthMultiplier);
  if (!a)
    return false;
  auto out = depthwiseOutput(cx, *a);
  if (!out)
    return false;
  out->back() = a->filters;
  return cx.produce(tensor(cx.inputs[0].elementType, *out));
}

std::vector<ParamSpec> separableParams(RuleContext &cx) {
  auto a = readWindowAttrs(cx, 2, kFilters | kDepthMultiplier);
  if (!a)
    return {};
  int64_t channels = cx.inputs[0].shape.back();
  std::vector<ParamSpec> params{
      param("depthwise_kernel", depthwiseKernelShape(*a, channels),
            "glorot_uniform"),
      param("pointwise_kernel",
            {1, 1, satMul(channels, a->depthMultiplier), a->filters},
            "glorot_uniform")};
  addBias(params, a->useBias, a->filters);
  return params;
}

bool convTransposeRule(RuleContext &cx) {
  if (!cx.expectInputs(1) || !cx.expectFloatRank(cx.inputs[0], 3, "[H, W, C]"))
    return false;
  const TensorInfo &x = cx.inputs[0];
  auto a = readWindowAttrs(cx, 2, kFilters | kOutputPadding);
  if (!a)
    return false;
  static const char *const dimNames[] = {"height", "width"};
  Shape out(3);
  for (size_t i = 0; i < 2; ++i) {
    int64_t in = x.shape[i], s = a->strides[i], k = a->kernel[i],
            d = a->dilation[i], begin = a->pad[2 * i], end = a->pad[2 * i + 1],
            extra = a->outputPadding[i];
    if (extra >= s)
      return cx.fail("expects output_padding smaller than strides, got " +
                     formatShape(a->outputPadding) + " with strides " +
                     formatShape(a->strides));
    // (in - 1) * s + (k - 1) * d + 1 - begin - end + extra; the full size
    // is below kSaturated unless it saturated, and the rest is < 2^42.
    int64_t full = satAdd(satMul(in - 1, s), dilatedExtent(k, d));
    out[i] = full - begin - end + extra;
    if (out[i] < 1)
      return cx.fail("the output would be empty: " + std::string(dimNames[i]) +
                         " (" + str(in) + " - 1) * " + str(s) + " + (" +
                         str(k) + " - 1) * " + str(d) + " + 1 - " + str(begin) +
                         " - " + str(end) + " + " + str(extra) + " = " +
                         str(out[i]),
                     "use less padding or a larger input");
  }
  out[2] = a->filters;
  return cx.produce(tensor(x.elementType, out));
}

std::vector<ParamSpec> convTransposeParams(RuleContext &cx) {
  auto a = readWindowAttrs(cx, 2, kFilters | kOutputPadding);
  if (!a)
    return {};
  std::vector<ParamSpec> params{
      param("kernel",
            {a->kernel[0], a->kernel[1], a->filters, cx.inputs[0].shape.back()},
            "glorot_uniform")};
  addBias(params, a->useBias, a->filters);
  return params;
}

//===----------------------------------------------------------------------===//
// Pooling, padding, upsampling
//===----------------------------------------------------------------------===//

bool poolRule(RuleContext &cx) {
  if (!cx.expectInputs(1) || !cx.expectFloatRank(cx.inputs[0], 3, "[H, W, C]"))
    return false;
  const TensorInfo &x = cx.inputs[0];
  auto pool = cx.intListAttr("pool_size", 2, std::nullopt, 1);
  if (!pool)
    return false;
  auto strides = cx.intListAttr("strides", 2, *pool, 1);
  if (!strides)
    return false;
  auto pad = cx.intListAttr("pad", 4, Shape(4, 0), 0);
  if (!pad)
    return false;
  auto out =
      slideWindow(cx, "pool", dropLast(x.shape), *pool, *strides, {1, 1}, *pad);
  if (!out)
    return false;
  out->push_back(x.shape[2]);
  return cx.produce(tensor(x.elementType, *out));
}

bool globalPoolRule(RuleContext &cx) {
  if (!cx.expectInputs(1) || !cx.expectFloatRank(cx.inputs[0], 3, "[H, W, C]"))
    return false;
  return cx.produce(tensor(cx.inputs[0].elementType, {cx.inputs[0].shape[2]}));
}

bool zeroPaddingRule(RuleContext &cx) {
  if (!cx.expectInputs(1) || !cx.expectFloatRank(cx.inputs[0], 3, "[H, W, C]"))
    return false;
  const TensorInfo &x = cx.inputs[0];
  auto pad = cx.intListAttr("pad", 4, Shape(4, 1), 0);
  if (!pad)
    return false;
  Shape out{satAdd(x.shape[0], satAdd((*pad)[0], (*pad)[1])),
            satAdd(x.shape[1], satAdd((*pad)[2], (*pad)[3])), x.shape[2]};
  return cx.produce(tensor(x.elementType, out));
}

bool upsamplingRule(RuleContext &cx) {
  if (!cx.expectInputs(1) || !cx.expectFloatRank(cx.inputs[0], 3, "[H, W, C]"))
    return false;
  const TensorInfo &x = cx.inputs[0];
  auto size = cx.intListAttr("size", 2, Shape{2, 2}, 1);
  if (!size)
    return false;
  Shape out{satMul(x.shape[0], (*size)[0]), satMul(x.shape[1], (*size)[1]),
            x.shape[2]};
  return cx.produce(tensor(x.elementType, out));
}

//===----------------------------------------------------------------------===//
// Dense, normalization, elementwise
//===----------------------------------------------------------------------===//

bool denseRule(RuleContext &cx) {
  if (!cx.expectInputs(1) ||
      !cx.expectFloatMinRank(cx.inputs[0], 1, "[..., D]"))
    return false;
  auto units = cx.intAttr("units", std::nullopt);
  if (!units || !cx.boolAttr("use_bias", true))
    return false;
  Shape out = cx.inputs[0].shape;
  out.back() = *units;
  return cx.produce(tensor(cx.inputs[0].elementType, out));
}

std::vector<ParamSpec> denseParams(RuleContext &cx) {
  int64_t units = getInt(cx.attrs, "units", 1);
  std::vector<ParamSpec> params{
      param("kernel", {cx.inputs[0].shape.back(), units}, "glorot_uniform")};
  addBias(params, getBool(cx.attrs, "use_bias", true), units);
  return params;
}

bool batchnormRule(RuleContext &cx) {
  if (!cx.expectInputs(1) ||
      !cx.expectFloatMinRank(cx.inputs[0], 1, "[..., C]"))
    return false;
  if (!cx.floatAttr("momentum", 0.99, kUnitClosed) ||
      !cx.floatAttr("epsilon", 1e-3, kPositive))
    return false;
  return cx.produce(cx.inputs[0]);
}

std::vector<ParamSpec> batchnormParams(RuleContext &cx) {
  int64_t channels = cx.inputs[0].shape.back();
  return {param("gamma", {channels}, "ones"),
          param("beta", {channels}, "zeros"),
          param("moving_mean", {channels}, "zeros", /*trainable=*/false),
          param("moving_variance", {channels}, "ones", /*trainable=*/false)};
}

bool layernormRule(RuleContext &cx) {
  if (!cx.expectInputs(1) ||
      !cx.expectFloatMinRank(cx.inputs[0], 1, "[..., C]"))
    return false;
  if (!cx.floatAttr("epsilon", 1e-3, kPositive))
    return false;
  return cx.produce(cx.inputs[0]);
}

std::vector<ParamSpec> layernormParams(RuleContext &cx) {
  int64_t channels = cx.inputs[0].shape.back();
  return {param("gamma", {channels}, "ones"),
          param("beta", {channels}, "zeros")};
}

/// relu, sigmoid, tanh, abs: any float tensor, same shape.
bool elementwiseRule(RuleContext &cx) {
  if (!cx.expectInputs(1) || !cx.expectFloat(cx.inputs[0]))
    return false;
  return cx.produce(cx.inputs[0]);
}

bool leakyReluRule(RuleContext &cx) {
  return elementwiseRule(cx) && cx.floatAttr("alpha", 0.3, kNonNegative);
}

bool eluRule(RuleContext &cx) {
  return elementwiseRule(cx) && cx.floatAttr("alpha", 1.0, kAnyFinite);
}

bool dropoutRule(RuleContext &cx) {
  return elementwiseRule(cx) &&
         cx.floatAttr("rate", std::nullopt, kUnitHalfOpen);
}

bool softmaxRule(RuleContext &cx) {
  if (!cx.expectInputs(1) ||
      !cx.expectFloatMinRank(cx.inputs[0], 1, "[..., K]"))
    return false;
  return cx.axisAttr(cx.inputs[0]) && cx.produce(cx.inputs[0]);
}

//===----------------------------------------------------------------------===//
// Merges and reshaping
//===----------------------------------------------------------------------===//

/// add, subtract, multiply.
bool mergeRule(RuleContext &cx) {
  if (!cx.expectInputs(2, "a, b") || !cx.expectFloatsOfOneType())
    return false;
  const TensorInfo &a = cx.inputs[0], &b = cx.inputs[1];
  if (a.shape != b.shape)
    return cx.fail("expects inputs of the same shape, got " + formatTensor(a) +
                   " and " + formatTensor(b));
  return cx.produce(a);
}

bool concatRule(RuleContext &cx) {
  if (!cx.expectAtLeastOneInput() || !cx.expectFloatsOfOneType() ||
      !cx.expectFloatMinRank(cx.inputs[0], 1, "[..., C]"))
    return false;
  const TensorInfo &first = cx.inputs[0];
  auto axis = cx.axisAttr(first);
  if (!axis)
    return false;
  Shape out = first.shape;
  for (size_t n = 1; n < cx.inputs.size(); ++n) {
    const TensorInfo &t = cx.inputs[n];
    if (t.shape.size() != first.shape.size())
      return cx.fail("expects inputs of the same rank, got " +
                     formatTensor(first) + " and " + formatTensor(t));
    for (size_t i = 0; i < out.size(); ++i)
      if (i != *axis && t.shape[i] != first.shape[i])
        // Messages number axes as Keras does (the batch is axis 0).
        return cx.fail("expects inputs that differ only on axis " +
                           str(*axis + 1) + ", got " + formatTensor(first) +
                           " and " + formatTensor(t),
                       "concat joins tensors along one axis; the others "
                       "must match");
    out[*axis] = satAdd(out[*axis], t.shape[*axis]);
  }
  return cx.produce(tensor(first.elementType, out));
}

bool reshapeRule(RuleContext &cx) {
  if (!cx.expectInputs(1) || !cx.expectFloat(cx.inputs[0]))
    return false;
  const TensorInfo &x = cx.inputs[0];
  auto shape = cx.intListAttr("shape", kAnyLength, std::nullopt, 1);
  if (!shape)
    return false;
  int64_t from = checkedElementCount(x.shape);
  int64_t to = checkedElementCount(*shape);
  if (from != to)
    return cx.fail(
        "expects a shape of " + str(from) + " elements like the input " +
            formatTensor(x) + ", got " + formatShape(*shape) +
            (to < 0 ? std::string(" with more than 2^40") : " with " + str(to)),
        "the element count must not change");
  return cx.produce(tensor(x.elementType, *shape));
}

//===----------------------------------------------------------------------===//
// Embedding and recurrent layers
//===----------------------------------------------------------------------===//

bool embeddingRule(RuleContext &cx) {
  if (!cx.expectInputs(1))
    return false;
  const TensorInfo &ids = cx.inputs[0];
  if (ids.elementType != ElementType::I32) {
    TensorInfo asIds = tensor(ElementType::I32, ids.shape);
    return cx.fail("expects i32 ids, got " + formatTensor(ids),
                   "embedding maps integer ids to vectors: declare the input "
                   "as " +
                       formatTensor(asIds));
  }
  auto inputDim = cx.intAttr("input_dim", std::nullopt);
  auto outputDim =
      inputDim ? cx.intAttr("output_dim", std::nullopt) : std::nullopt;
  if (!outputDim)
    return false;
  Shape out = ids.shape;
  out.push_back(*outputDim);
  return cx.produce(tensor(ElementType::F32, out));
}

std::vector<ParamSpec> embeddingParams(RuleContext &cx) {
  return {param(
      "embeddings",
      {getInt(cx.attrs, "input_dim", 1), getInt(cx.attrs, "output_dim", 1)},
      "uniform")};
}

/// lstm and gru: x[T, D] -> [T, units] or [units].
bool recurrentRule(RuleContext &cx) {
  if (!cx.expectInputs(1) || !cx.expectFloatRank(cx.inputs[0], 2, "[T, D]"))
    return false;
  auto units = cx.intAttr("units", std::nullopt);
  if (!units)
    return false;
  auto sequences = cx.boolAttr("return_sequences", false);
  if (!sequences || !cx.boolAttr("use_bias", true))
    return false;
  Shape out = *sequences ? Shape{cx.inputs[0].shape[0], *units} : Shape{*units};
  return cx.produce(tensor(cx.inputs[0].elementType, out));
}

/// The parameters of an LSTM (gates = 4) or GRU (gates = 3).
std::vector<ParamSpec> recurrentParams(RuleContext &cx, int64_t gates) {
  int64_t units = getInt(cx.attrs, "units", 1);
  int64_t width = satMul(gates, units);
  std::vector<ParamSpec> params{
      param("kernel", {cx.inputs[0].shape[1], width}, "glorot_uniform"),
      param("recurrent_kernel", {units, width}, "orthogonal")};
  if (getBool(cx.attrs, "use_bias", true)) {
    if (gates == 4)
      params.push_back(param("bias", {width}, "lstm_bias"));
    else
      params.push_back(param("bias", {2, width}, "zeros"));
  }
  return params;
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// mse, mae, binary_crossentropy (minRank 0) and categorical_crossentropy
/// (minRank 1): a float target of the prediction's type.
bool lossRule(RuleContext &cx, size_t minRank) {
  if (!cx.expectInputs(2, "prediction, target"))
    return false;
  const TensorInfo &pred = cx.inputs[0], &target = cx.inputs[1];
  if (!cx.expectFloatMinRank(pred, minRank, "[..., K]") ||
      !cx.boolAttr("from_logits", false))
    return false;
  if (target.elementType != pred.elementType || target.shape != pred.shape)
    return cx.fail("expects a target like the prediction " +
                       formatTensor(pred) + ", got " + formatTensor(target),
                   target.elementType == ElementType::I32 && minRank == 1 &&
                           !pred.shape.empty() &&
                           target.shape.size() + 1 == pred.shape.size()
                       ? "for integer class ids use "
                         "sparse_categorical_crossentropy"
                       : "");
  return cx.produce(tensor(pred.elementType, {}, /*batched=*/false));
}

bool sparseCrossentropyRule(RuleContext &cx) {
  if (!cx.expectInputs(2, "prediction, target"))
    return false;
  const TensorInfo &pred = cx.inputs[0], &target = cx.inputs[1];
  if (!cx.expectFloatMinRank(pred, 1, "[..., K]") ||
      !cx.boolAttr("from_logits", false))
    return false;
  TensorInfo expected = tensor(ElementType::I32, dropLast(pred.shape));
  if (target.elementType != ElementType::I32 || target.shape != expected.shape)
    return cx.fail("expects a target " + formatTensor(expected) +
                       " of class ids for the prediction " +
                       formatTensor(pred) + ", got " + formatTensor(target),
                   target.shape == pred.shape
                       ? "for one-hot targets use categorical_crossentropy"
                       : "");
  return cx.produce(tensor(pred.elementType, {}, /*batched=*/false));
}

/// weighted_sum: n >= 1 losses (unbatched scalars), one weight each.
bool weightedSumRule(RuleContext &cx) {
  if (!cx.expectAtLeastOneInput() || !cx.expectFloatsOfOneType())
    return false;
  for (const TensorInfo &t : cx.inputs)
    if (t.batched || !t.shape.empty())
      return cx.fail("expects scalar losses, got a per-example " +
                     formatTensor(t));
  auto it = cx.attrs.find("weights");
  if (it == cx.attrs.end())
    return cx.fail("is missing the attribute 'weights' (a list of numbers)");
  std::vector<double> weights;
  if (const auto *d = std::get_if<std::vector<double>>(&it->second))
    weights = *d;
  else if (const auto *i = std::get_if<std::vector<int64_t>>(&it->second))
    weights.assign(i->begin(), i->end());
  else
    return cx.fail("expects 'weights' to be a list of numbers");
  if (weights.size() != cx.inputs.size())
    return cx.fail("expects one weight per loss: " + str(cx.inputs.size()) +
                   " losses, got " + str(weights.size()) + " weights");
  for (double w : weights)
    if (!std::isfinite(w))
      return cx.fail("expects finite weights, got " + formatNumber(w));
  return cx.produce(tensor(cx.inputs[0].elementType, {}, /*batched=*/false));
}

//===----------------------------------------------------------------------===//
// The op table
//===----------------------------------------------------------------------===//

using RuleFn = bool (*)(RuleContext &);
using ParamsFn = std::vector<ParamSpec> (*)(RuleContext &);

struct OpEntry {
  const char *name;
  RuleFn rule;
  ParamsFn params;          // null: the op has no parameters
  bool takesLosses = false; // inputs are unbatched scalars
};

bool conv1dRule(RuleContext &cx) { return convRule(cx, 1); }
bool conv2dRule(RuleContext &cx) { return convRule(cx, 2); }
std::vector<ParamSpec> conv1dParams(RuleContext &cx) {
  return convParams(cx, 1);
}
std::vector<ParamSpec> conv2dParams(RuleContext &cx) {
  return convParams(cx, 2);
}
std::vector<ParamSpec> lstmParams(RuleContext &cx) {
  return recurrentParams(cx, 4);
}
std::vector<ParamSpec> gruParams(RuleContext &cx) {
  return recurrentParams(cx, 3);
}
bool elementLossRule(RuleContext &cx) { return lossRule(cx, 0); }
bool categoricalLossRule(RuleContext &cx) { return lossRule(cx, 1); }

/// Sorted by name.
const OpEntry kOps[] = {
    {"abs", elementwiseRule, nullptr},
    {"add", mergeRule, nullptr},
    {"avgpool2d", poolRule, nullptr},
    {"batchnorm", batchnormRule, batchnormParams},
    {"binary_crossentropy", elementLossRule, nullptr},
    {"categorical_crossentropy", categoricalLossRule, nullptr},
    {"concat", concatRule, nullptr},
    {"conv1d", conv1dRule, conv1dParams},
    {"conv2d", conv2dRule, conv2dParams},
    {"conv2d_transpose", convTransposeRule, convTransposeParams},
    {"dense", denseRule, denseParams},
    {"depthwise_conv2d", depthwiseRule, depthwiseParams},
    {"dropout", dropoutRule, nullptr},
    {"elu", eluRule, nullptr},
    {"embedding", embeddingRule, embeddingParams},
    {"global_avgpool2d", globalPoolRule, nullptr},
    {"global_maxpool2d", globalPoolRule, nullptr},
    {"gru", recurrentRule, gruParams},
    {"layernorm", layernormRule, layernormParams},
    {"leaky_relu", leakyReluRule, nullptr},
    {"lstm", recurrentRule, lstmParams},
    {"mae", elementLossRule, nullptr},
    {"maxpool2d", poolRule, nullptr},
    {"mse", elementLossRule, nullptr},
    {"multiply", mergeRule, nullptr},
    {"relu", elementwiseRule, nullptr},
    {"reshape", reshapeRule, nullptr},
    {"separable_conv2d", separableRule, separableParams},
    {"sigmoid", elementwiseRule, nullptr},
    {"softmax", softmaxRule, nullptr},
    {"sparse_categorical_crossentropy", sparseCrossentropyRule, nullptr},
    {"subtract", mergeRule, nullptr},
    {"tanh", elementwiseRule, nullptr},
    {"upsampling2d", upsamplingRule, nullptr},
    {"weighted_sum", weightedSumRule, nullptr, /*takesLosses=*/true},
    {"zero_padding2d", zeroPaddingRule, nullptr},
};

const OpEntry *findOp(const std::string &name) {
  for (const OpEntry &entry : kOps)
    if (name == entry.name)
      return &entry;
  return nullptr;
}

/// Checks what every op asks of its inputs: positive dimensions, a bounded
/// element count, and per-example tensors (or scalar losses).
bool checkInputs(RuleContext &cx, const OpEntry &entry) {
  for (const TensorInfo &t : cx.inputs) {
    for (int64_t dim : t.shape)
      if (dim < 1)
        return cx.fail("expects inputs with positive dimensions, got " +
                       formatTensor(t));
    if (checkedElementCount(t.shape) < 0)
      return cx.fail("expects inputs of at most 2^40 elements, got " +
                     formatTensor(t));
    if (!entry.takesLosses && !t.batched)
      return cx.fail("expects a per-example tensor, got the scalar loss " +
                     formatTensor(t));
  }
  return true;
}

/// Checks that every result and parameter is non-empty and small enough.
bool checkOutputs(RuleContext &cx, const OpEntry &entry) {
  for (const TensorInfo &t : cx.result.results) {
    for (int64_t dim : t.shape)
      if (dim < 1)
        return cx.fail("the output would be empty: " + formatTensor(t));
    if (checkedElementCount(t.shape) < 0)
      return cx.fail("would produce " + formatTensor(t) +
                     " with more than 2^40 elements");
  }
  if (!entry.params)
    return true;
  for (const ParamSpec &p : entry.params(cx))
    if (checkedElementCount(p.shape) < 0)
      return cx.fail("would create a " + p.role + " " + formatShape(p.shape) +
                     " with more than 2^40 elements");
  return true;
}

} // namespace

//===----------------------------------------------------------------------===//
// Public interface
//===----------------------------------------------------------------------===//

const char *elementTypeName(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return "f32";
  case ElementType::F64:
    return "f64";
  case ElementType::I32:
    return "i32";
  }
  return "?";
}

bool isKnownOp(const std::string &op) { return findOp(op) != nullptr; }

const std::vector<std::string> &knownOps() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    for (const OpEntry &entry : kOps)
      all.push_back(entry.name);
    std::sort(all.begin(), all.end());
    return all;
  }();
  return names;
}

ShapeResult inferShapes(const std::string &op,
                        const std::vector<TensorInfo> &inputs,
                        const Attrs &attrs) {
  RuleContext cx(inputs, attrs);
  const OpEntry *entry = findOp(op);
  if (!entry) {
    cx.fail("is not a dl op");
    return cx.result;
  }
  if (checkInputs(cx, *entry) && entry->rule(cx))
    checkOutputs(cx, *entry);
  if (!cx.result.ok())
    cx.result.results.clear();
  return cx.result;
}

std::vector<ParamSpec> paramSpecs(const std::string &op,
                                  const std::vector<TensorInfo> &inputs,
                                  const Attrs &attrs) {
  const OpEntry *entry = findOp(op);
  if (!entry || !entry->params || !inferShapes(op, inputs, attrs).ok())
    return {};
  RuleContext cx(inputs, attrs);
  return entry->params(cx);
}

std::vector<int64_t> resolvePadding(const std::string &mode, int64_t in,
                                    int64_t kernel, int64_t stride,
                                    int64_t dilation) {
  if (mode != "same" || in < 1 || kernel < 1 || stride < 1 || dilation < 1 ||
      in > kMaxElements || kernel > kMaxElements || stride > kMaxElements ||
      dilation > kMaxElements)
    return {0, 0};
  int64_t needed = satAdd(satMul(ceilDiv(in, stride) - 1, stride),
                          dilatedExtent(kernel, dilation));
  int64_t total = std::max<int64_t>(needed - in, 0);
  return {total / 2, total - total / 2};
}

std::vector<int64_t> resolveTransposePadding(const std::string &mode,
                                             int64_t in, int64_t kernel,
                                             int64_t stride, int64_t dilation,
                                             int64_t outputPadding) {
  if (in < 1 || kernel < 1 || stride < 1 || dilation < 1 || in > kMaxElements ||
      kernel > kMaxElements || stride > kMaxElements ||
      dilation > kMaxElements || outputPadding > kMaxElements)
    return {0, 0, 0};
  // Keras's conv-transpose padding as its JAX backend computes it: padding
  // [left, right] of the stride-dilated input, with the kernel's extent
  // `extent`. Padding `left` there crops extent - 1 - left rows from the
  // start of the full output (in - 1) * s + extent; likewise at the end,
  // where a negative crop is output padding.
  int64_t extent = dilatedExtent(kernel, dilation);
  bool given = outputPadding >= 0;
  int64_t left, right;
  if (mode == "same") {
    // Keras: output length in * s, or (in - 1) * s + extent % 2 + p.
    int64_t total = given ? satAdd(extent + extent % 2 - 2, outputPadding)
                          : satAdd(stride, extent - 2);
    left = std::min(total / 2 + total % 2, extent - 1);
    right = total - left;
  } else {
    // Keras: output length (in - 1) * s + max(extent, s), or
    // (in - 1) * s + extent + p.
    int64_t extra = given ? outputPadding : std::max(extent, stride) - extent;
    left = extent - 1;
    right = satAdd(extent - 1, extra);
  }
  int64_t cropBegin = extent - 1 - left;
  int64_t cropEnd = extent - 1 - right;
  return {cropBegin, std::max<int64_t>(cropEnd, 0),
          std::max<int64_t>(-cropEnd, 0)};
}

int64_t checkedElementCount(const Shape &shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0 || dim > kMaxElements)
      return -1;
    count = satMul(count, dim);
    if (count > kMaxElements)
      return -1;
  }
  return count;
}

std::string formatTensor(const TensorInfo &info) {
  return elementTypeName(info.elementType) + formatShape(info.shape);
}

} // namespace dlc
