//===- ElementwiseRef.cpp - float64 reference of the other ops ------------===//
//
// Activations, merges, reshaping, dropout, normalization, embedding and the
// losses, forward and backward, as plain loops in double precision. Every
// op first types its inputs with dlc::inferShapes (and checks its
// parameters against dlc::paramSpecs), so a malformed input is an error,
// never a crash. The math follows Keras literally (clipping of
// probabilities, sum_over_batch_size reduction of the losses).
//
//===----------------------------------------------------------------------===//
#include "test/reference/ReferenceOps.h"

#include "ir/ShapeRules.h"
#include "runtime/Philox.h"

#include <algorithm>
#include <cmath>

namespace dlc::ref {

namespace {

using Tensors = std::vector<RefTensor>;

/// Keras's backend epsilon, used to clip probabilities in the losses.
constexpr double kProbabilityEpsilon = 1e-7;

//===----------------------------------------------------------------------===//
// Typing and validation
//===----------------------------------------------------------------------===//

/// Whether `t`'s data has the size its shape says.
bool consistent(const RefTensor &t) {
  int64_t n = checkedElementCount(t.shape);
  return n >= 0 && n == t.size();
}

/// The result of typing an op's inputs: the (batched) output tensor shape
/// and the catalog parameter specs.
struct Typed {
  std::vector<int64_t> outputShape;
  std::vector<ParamSpec> params;
  int64_t batch = 0;
};

/// Types `inputs` as the catalog does (per-example shapes, the batch in
/// front; `intInputs` are i32 ids; `unbatched` marks ops taking scalar
/// losses), runs the shape rule of `op` and checks `params` against the
/// catalog's parameter shapes.
bool typeOp(const std::string &op, const Tensors &inputs, const Tensors &params,
            const Attrs &attrs, const std::vector<size_t> &intInputs,
            bool unbatched, Typed &typed, std::string &error) {
  std::vector<TensorInfo> infos;
  int64_t batch = -1;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const RefTensor &t = inputs[i];
    if (!consistent(t)) {
      error = "input " + std::to_string(i) + " has inconsistent data size";
      return false;
    }
    TensorInfo info;
    info.elementType =
        std::find(intInputs.begin(), intInputs.end(), i) != intInputs.end()
            ? ElementType::I32
            : ElementType::F64;
    if (unbatched) {
      info.batched = false;
      info.shape = t.shape;
    } else {
      if (t.shape.empty()) {
        error = "input " + std::to_string(i) + " has no batch dimension";
        return false;
      }
      if (batch >= 0 && t.shape[0] != batch) {
        error = "inputs have different batch sizes";
        return false;
      }
      batch = t.shape[0];
      if (batch < 1) {
        error = "empty batch";
        return false;
      }
      info.shape.assign(t.shape.begin() + 1, t.shape.end());
    }
    infos.push_back(info);
  }
  ShapeResult shapes = inferShapes(op, infos, attrs);
  if (!shapes.ok()) {
    error = op + " " + shapes.error;
    return false;
  }
  if (shapes.results.size() != 1) {
    error = op + ": expected one result";
    return false;
  }
  const TensorInfo &result = shapes.results[0];
  typed.outputShape.clear();
  if (result.batched)
    typed.outputShape.push_back(batch);
  typed.outputShape.insert(typed.outputShape.end(), result.shape.begin(),
                           result.shape.end());
  if (checkedElementCount(typed.outputShape) < 0) {
    error = op + ": output too large";
    return false;
  }
  typed.batch = batch;
  typed.params = paramSpecs(op, infos, attrs);
  if (params.size() != typed.params.size()) {
    error = op + " expects " + std::to_string(typed.params.size()) +
            " parameters, got " + std::to_string(params.size());
    return false;
  }
  for (size_t p = 0; p < params.size(); ++p)
    if (!consistent(params[p]) || params[p].shape != typed.params[p].shape) {
      error = op + ": parameter " + typed.params[p].role + " should be " +
              formatShape(typed.params[p].shape) + ", got " +
              formatShape(params[p].shape);
      return false;
    }
  return true;
}

/// Checks that a backward got one output gradient shaped like the output.
bool checkOutputGrad(const Tensors &outputs, const Tensors &outputGrads,
                     std::string &error) {
  if (outputs.size() != 1 || outputGrads.size() != 1 ||
      outputGrads[0].shape != outputs[0].shape ||
      outputGrads[0].size() != outputs[0].size()) {
    error = "backward expects one output gradient shaped like the output";
    return false;
  }
  return true;
}

/// Zero gradients shaped like `tensors`.
Tensors zerosLike(const Tensors &tensors) {
  Tensors out;
  for (const RefTensor &t : tensors)
    out.emplace_back(t.shape);
  return out;
}

/// The tensor axis (batch included) of a per-example `axis` attribute of a
/// tensor of `rank` (batch included); inferShapes has validated it.
size_t tensorAxis(const Attrs &attrs, size_t rank) {
  int64_t perExample = static_cast<int64_t>(rank) - 1;
  int64_t axis = getInt(attrs, "axis", -1);
  if (axis < 0)
    axis += perExample;
  return static_cast<size_t>(axis + 1);
}

/// Product of shape[from, to).
int64_t product(const std::vector<int64_t> &shape, size_t from, size_t to) {
  int64_t n = 1;
  for (size_t i = from; i < to; ++i)
    n *= shape[i];
  return n;
}

/// A RefOp from a forward and a backward that both start from typing.
struct OpParts {
  std::vector<size_t> intInputs;
  bool unbatched = false;
  /// Computes outputs[0] (already shaped).
  std::function<bool(const Tensors &, const Tensors &, const Attrs &,
                     RefTensor &, std::string &)>
      forward;
  /// Fills inputGrads/paramGrads (already zero and shaped; i32 inputs
  /// empty).
  std::function<bool(const Tensors &, const Tensors &, const Attrs &,
                     const RefTensor &, const RefTensor &, Tensors &, Tensors &,
                     std::string &)>
      backward;
};

RefOp makeOp(const std::string &name, OpParts parts) {
  RefOp op;
  op.forward = [name, parts](const Tensors &inputs, const Tensors &params,
                             const Attrs &attrs, Tensors &outputs,
                             std::string &error) {
    Typed typed;
    if (!typeOp(name, inputs, params, attrs, parts.intInputs, parts.unbatched,
                typed, error))
      return false;
    outputs.assign(1, RefTensor(typed.outputShape));
    return parts.forward(inputs, params, attrs, outputs[0], error);
  };
  op.backward = [name, parts](const Tensors &inputs, const Tensors &params,
                              const Attrs &attrs, const Tensors &outputs,
                              const Tensors &outputGrads, Tensors &inputGrads,
                              Tensors &paramGrads, std::string &error) {
    Typed typed;
    if (!typeOp(name, inputs, params, attrs, parts.intInputs, parts.unbatched,
                typed, error) ||
        !checkOutputGrad(outputs, outputGrads, error))
      return false;
    if (outputs[0].shape != typed.outputShape) {
      error = name + ": output does not match the inputs";
      return false;
    }
    inputGrads = zerosLike(inputs);
    for (size_t i : parts.intInputs)
      inputGrads[i] = RefTensor();
    paramGrads = zerosLike(params);
    return parts.backward(inputs, params, attrs, outputs[0], outputGrads[0],
                          inputGrads, paramGrads, error);
  };
  return op;
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

/// An elementwise activation y = f(x) with dy/dx = df(x, y).
RefOp unaryOp(const std::string &name,
              std::function<double(double, const Attrs &)> f,
              std::function<double(double, double, const Attrs &)> df) {
  OpParts parts;
  parts.forward = [f](const Tensors &in, const Tensors &, const Attrs &attrs,
                      RefTensor &out, std::string &) {
    for (int64_t i = 0; i < out.size(); ++i)
      out.data[i] = f(in[0].data[i], attrs);
    return true;
  };
  parts.backward = [df](const Tensors &in, const Tensors &, const Attrs &attrs,
                        const RefTensor &out, const RefTensor &g,
                        Tensors &inGrads, Tensors &, std::string &) {
    for (int64_t i = 0; i < out.size(); ++i)
      inGrads[0].data[i] = g.data[i] * df(in[0].data[i], out.data[i], attrs);
    return true;
  };
  return makeOp(name, parts);
}

void registerActivations(RefRegistry &r) {
  r["relu"] = unaryOp(
      "relu", [](double x, const Attrs &) { return x > 0 ? x : 0.0; },
      [](double x, double, const Attrs &) { return x > 0 ? 1.0 : 0.0; });
  r["leaky_relu"] = unaryOp(
      "leaky_relu",
      [](double x, const Attrs &a) {
        return x > 0 ? x : getFloat(a, "alpha", 0.3) * x;
      },
      [](double x, double, const Attrs &a) {
        return x > 0 ? 1.0 : getFloat(a, "alpha", 0.3);
      });
  r["elu"] = unaryOp(
      "elu",
      [](double x, const Attrs &a) {
        return x > 0 ? x : getFloat(a, "alpha", 1.0) * (std::exp(x) - 1);
      },
      [](double x, double, const Attrs &a) {
        return x > 0 ? 1.0 : getFloat(a, "alpha", 1.0) * std::exp(x);
      });
  r["sigmoid"] = unaryOp(
      "sigmoid", [](double x, const Attrs &) { return 1 / (1 + std::exp(-x)); },
      [](double, double y, const Attrs &) { return y * (1 - y); });
  r["tanh"] = unaryOp(
      "tanh", [](double x, const Attrs &) { return std::tanh(x); },
      [](double, double y, const Attrs &) { return 1 - y * y; });
  r["abs"] = unaryOp(
      "abs", [](double x, const Attrs &) { return std::fabs(x); },
      [](double x, double, const Attrs &) {
        return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0);
      });

  OpParts softmax;
  softmax.forward = [](const Tensors &in, const Tensors &, const Attrs &attrs,
                       RefTensor &out, std::string &) {
    const std::vector<int64_t> &shape = in[0].shape;
    size_t axis = tensorAxis(attrs, shape.size());
    int64_t outer = product(shape, 0, axis), len = shape[axis],
            inner = product(shape, axis + 1, shape.size());
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        auto at = [&](int64_t k) { return (o * len + k) * inner + i; };
        double maxValue = -INFINITY;
        for (int64_t k = 0; k < len; ++k)
          maxValue = std::max(maxValue, in[0].data[at(k)]);
        double sum = 0;
        for (int64_t k = 0; k < len; ++k)
          sum += out.data[at(k)] = std::exp(in[0].data[at(k)] - maxValue);
        for (int64_t k = 0; k < len; ++k)
          out.data[at(k)] /= sum;
      }
    return true;
  };
  softmax.backward = [](const Tensors &in, const Tensors &, const Attrs &attrs,
                        const RefTensor &out, const RefTensor &g,
                        Tensors &inGrads, Tensors &, std::string &) {
    const std::vector<int64_t> &shape = in[0].shape;
    size_t axis = tensorAxis(attrs, shape.size());
    int64_t outer = product(shape, 0, axis), len = shape[axis],
            inner = product(shape, axis + 1, shape.size());
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        auto at = [&](int64_t k) { return (o * len + k) * inner + i; };
        double dot = 0;
        for (int64_t k = 0; k < len; ++k)
          dot += g.data[at(k)] * out.data[at(k)];
        for (int64_t k = 0; k < len; ++k)
          inGrads[0].data[at(k)] = out.data[at(k)] * (g.data[at(k)] - dot);
      }
    return true;
  };
  r["softmax"] = makeOp("softmax", softmax);
}

//===----------------------------------------------------------------------===//
// Merges, reshaping, dropout
//===----------------------------------------------------------------------===//

void registerMerges(RefRegistry &r) {
  OpParts add;
  add.forward = [](const Tensors &in, const Tensors &, const Attrs &,
                   RefTensor &out, std::string &) {
    for (int64_t i = 0; i < out.size(); ++i)
      out.data[i] = in[0].data[i] + in[1].data[i];
    return true;
  };
  add.backward = [](const Tensors &, const Tensors &, const Attrs &,
                    const RefTensor &, const RefTensor &g, Tensors &inGrads,
                    Tensors &, std::string &) {
    inGrads[0].data = g.data;
    inGrads[1].data = g.data;
    return true;
  };
  r["add"] = makeOp("add", add);

  OpParts subtract;
  subtract.forward = [](const Tensors &in, const Tensors &, const Attrs &,
                        RefTensor &out, std::string &) {
    for (int64_t i = 0; i < out.size(); ++i)
      out.data[i] = in[0].data[i] - in[1].data[i];
    return true;
  };
  subtract.backward = [](const Tensors &, const Tensors &, const Attrs &,
                         const RefTensor &, const RefTensor &g,
                         Tensors &inGrads, Tensors &, std::string &) {
    for (int64_t i = 0; i < g.size(); ++i) {
      inGrads[0].data[i] = g.data[i];
      inGrads[1].data[i] = -g.data[i];
    }
    return true;
  };
  r["subtract"] = makeOp("subtract", subtract);

  OpParts multiply;
  multiply.forward = [](const Tensors &in, const Tensors &, const Attrs &,
                        RefTensor &out, std::string &) {
    for (int64_t i = 0; i < out.size(); ++i)
      out.data[i] = in[0].data[i] * in[1].data[i];
    return true;
  };
  multiply.backward = [](const Tensors &in, const Tensors &, const Attrs &,
                         const RefTensor &, const RefTensor &g,
                         Tensors &inGrads, Tensors &, std::string &) {
    for (int64_t i = 0; i < g.size(); ++i) {
      inGrads[0].data[i] = g.data[i] * in[1].data[i];
      inGrads[1].data[i] = g.data[i] * in[0].data[i];
    }
    return true;
  };
  r["multiply"] = makeOp("multiply", multiply);

  // concat: each input contributes a contiguous chunk of len_j * inner
  // elements per outer index.
  OpParts concat;
  concat.forward = [](const Tensors &in, const Tensors &, const Attrs &attrs,
                      RefTensor &out, std::string &) {
    size_t axis = tensorAxis(attrs, out.shape.size());
    int64_t outer = product(out.shape, 0, axis);
    int64_t position = 0;
    for (int64_t o = 0; o < outer; ++o)
      for (const RefTensor &t : in) {
        int64_t chunk = product(t.shape, axis, t.shape.size());
        for (int64_t e = 0; e < chunk; ++e)
          out.data[position++] = t.data[o * chunk + e];
      }
    return true;
  };
  concat.backward = [](const Tensors &in, const Tensors &, const Attrs &attrs,
                       const RefTensor &out, const RefTensor &g,
                       Tensors &inGrads, Tensors &, std::string &) {
    size_t axis = tensorAxis(attrs, out.shape.size());
    int64_t outer = product(out.shape, 0, axis);
    int64_t position = 0;
    for (int64_t o = 0; o < outer; ++o)
      for (size_t j = 0; j < in.size(); ++j) {
        int64_t chunk = product(in[j].shape, axis, in[j].shape.size());
        for (int64_t e = 0; e < chunk; ++e)
          inGrads[j].data[o * chunk + e] = g.data[position++];
      }
    return true;
  };
  r["concat"] = makeOp("concat", concat);

  OpParts reshape;
  reshape.forward = [](const Tensors &in, const Tensors &, const Attrs &,
                       RefTensor &out, std::string &) {
    out.data = in[0].data;
    return true;
  };
  reshape.backward = [](const Tensors &, const Tensors &, const Attrs &,
                        const RefTensor &, const RefTensor &g, Tensors &inGrads,
                        Tensors &, std::string &) {
    inGrads[0].data = g.data;
    return true;
  };
  r["reshape"] = makeOp("reshape", reshape);

  // dropout: element i of the batch is dropped when the Philox uniform of
  // (seed, seed_offset) at i is below `rate`; kept ones scale by
  // 1 / (1 - rate). The output is `factor(i) * x[i]` either way.
  auto dropoutFactor = [](const Attrs &attrs, int64_t i) {
    if (!getBool(attrs, "training", false))
      return 1.0;
    double rate = getFloat(attrs, "rate", 0.0);
    rt::PhiloxStream rng(
        static_cast<uint64_t>(getInt(attrs, "seed", 0)),
        static_cast<uint64_t>(getInt(attrs, "seed_offset", 0)));
    if (rng.uniformAt(static_cast<uint64_t>(i)) < rate)
      return 0.0;
    return 1.0 / (1.0 - rate);
  };
  OpParts dropout;
  dropout.forward = [dropoutFactor](const Tensors &in, const Tensors &,
                                    const Attrs &attrs, RefTensor &out,
                                    std::string &) {
    for (int64_t i = 0; i < out.size(); ++i)
      out.data[i] = dropoutFactor(attrs, i) * in[0].data[i];
    return true;
  };
  dropout.backward = [dropoutFactor](const Tensors &, const Tensors &,
                                     const Attrs &attrs, const RefTensor &,
                                     const RefTensor &g, Tensors &inGrads,
                                     Tensors &, std::string &) {
    for (int64_t i = 0; i < g.size(); ++i)
      inGrads[0].data[i] = dropoutFactor(attrs, i) * g.data[i];
    return true;
  };
  r["dropout"] = makeOp("dropout", dropout);
}

//===----------------------------------------------------------------------===//
// Normalization and embedding
//===----------------------------------------------------------------------===//

/// batchnorm: per channel c (last axis), y = gamma (x - mean) / sqrt(var +
/// eps) + beta with the batch's mean and biased variance over every other
/// axis (training) or the moving statistics (inference). The moving-average
/// update of training is a side effect outside this op.
void registerBatchnorm(RefRegistry &r) {
  // Statistics of channel c: mean and 1 / sqrt(var + eps).
  struct Stats {
    std::vector<double> mean, invStd;
  };
  auto stats = [](const RefTensor &x, const Tensors &params,
                  const Attrs &attrs) {
    int64_t channels = x.shape.back();
    int64_t rows = x.size() / channels;
    double eps = getFloat(attrs, "epsilon", 1e-3);
    Stats s;
    s.mean.assign(channels, 0.0);
    s.invStd.assign(channels, 0.0);
    bool training = getBool(attrs, "training", false);
    for (int64_t c = 0; c < channels; ++c) {
      double mean = 0, var = 0;
      if (training) {
        for (int64_t row = 0; row < rows; ++row)
          mean += x.data[row * channels + c];
        mean /= rows;
        for (int64_t row = 0; row < rows; ++row) {
          double d = x.data[row * channels + c] - mean;
          var += d * d;
        }
        var /= rows;
      } else {
        mean = params[2].data[c];
        var = params[3].data[c];
      }
      s.mean[c] = mean;
      s.invStd[c] = 1.0 / std::sqrt(var + eps);
    }
    return s;
  };
  OpParts bn;
  bn.forward = [stats](const Tensors &in, const Tensors &params,
                       const Attrs &attrs, RefTensor &out, std::string &error) {
    const RefTensor &x = in[0];
    int64_t channels = x.shape.back();
    Stats s = stats(x, params, attrs);
    for (int64_t c = 0; c < channels; ++c)
      if (!std::isfinite(s.invStd[c])) {
        error = "batchnorm: negative variance";
        return false;
      }
    for (int64_t i = 0; i < x.size(); ++i) {
      int64_t c = i % channels;
      out.data[i] = params[0].data[c] * (x.data[i] - s.mean[c]) * s.invStd[c] +
                    params[1].data[c];
    }
    return true;
  };
  bn.backward = [stats](const Tensors &in, const Tensors &params,
                        const Attrs &attrs, const RefTensor &,
                        const RefTensor &g, Tensors &inGrads,
                        Tensors &paramGrads, std::string &) {
    const RefTensor &x = in[0];
    int64_t channels = x.shape.back();
    int64_t rows = x.size() / channels;
    bool training = getBool(attrs, "training", false);
    Stats s = stats(x, params, attrs);
    for (int64_t c = 0; c < channels; ++c) {
      // sum of g and of g * xhat over the channel.
      double sumG = 0, sumGXhat = 0;
      for (int64_t row = 0; row < rows; ++row) {
        int64_t i = row * channels + c;
        double xhat = (x.data[i] - s.mean[c]) * s.invStd[c];
        sumG += g.data[i];
        sumGXhat += g.data[i] * xhat;
      }
      paramGrads[0].data[c] = sumGXhat;
      paramGrads[1].data[c] = sumG;
      double gamma = params[0].data[c];
      for (int64_t row = 0; row < rows; ++row) {
        int64_t i = row * channels + c;
        if (!training) {
          inGrads[0].data[i] = g.data[i] * gamma * s.invStd[c];
          continue;
        }
        double xhat = (x.data[i] - s.mean[c]) * s.invStd[c];
        inGrads[0].data[i] = gamma * s.invStd[c] / rows *
                             (rows * g.data[i] - sumG - xhat * sumGXhat);
      }
    }
    // The moving statistics get no gradient (paramGrads[2], [3] stay 0).
    return true;
  };
  r["batchnorm"] = makeOp("batchnorm", bn);
}

/// layernorm over the last axis: y = gamma (x - mean) / sqrt(var + eps) +
/// beta, with each row's mean and biased variance.
void registerLayernorm(RefRegistry &r) {
  OpParts ln;
  // Calls `body(rowStart, mean, invStd)` for each row.
  auto forEachRow =
      [](const RefTensor &x, const Attrs &attrs,
         const std::function<void(int64_t, double, double)> &body) {
        int64_t channels = x.shape.back();
        double eps = getFloat(attrs, "epsilon", 1e-3);
        for (int64_t start = 0; start < x.size(); start += channels) {
          double mean = 0, var = 0;
          for (int64_t c = 0; c < channels; ++c)
            mean += x.data[start + c];
          mean /= channels;
          for (int64_t c = 0; c < channels; ++c) {
            double d = x.data[start + c] - mean;
            var += d * d;
          }
          var /= channels;
          body(start, mean, 1.0 / std::sqrt(var + eps));
        }
      };
  ln.forward = [forEachRow](const Tensors &in, const Tensors &params,
                            const Attrs &attrs, RefTensor &out, std::string &) {
    const RefTensor &x = in[0];
    int64_t channels = x.shape.back();
    forEachRow(x, attrs, [&](int64_t start, double mean, double invStd) {
      for (int64_t c = 0; c < channels; ++c)
        out.data[start + c] =
            params[0].data[c] * (x.data[start + c] - mean) * invStd +
            params[1].data[c];
    });
    return true;
  };
  ln.backward = [forEachRow](const Tensors &in, const Tensors &params,
                             const Attrs &attrs, const RefTensor &,
                             const RefTensor &g, Tensors &inGrads,
                             Tensors &paramGrads, std::string &) {
    const RefTensor &x = in[0];
    int64_t channels = x.shape.back();
    forEachRow(x, attrs, [&](int64_t start, double mean, double invStd) {
      // dxhat = g * gamma; dx = invStd / C (C dxhat - sum dxhat - xhat sum
      // dxhat xhat).
      double sumD = 0, sumDXhat = 0;
      for (int64_t c = 0; c < channels; ++c) {
        double xhat = (x.data[start + c] - mean) * invStd;
        double d = g.data[start + c] * params[0].data[c];
        sumD += d;
        sumDXhat += d * xhat;
        paramGrads[0].data[c] += g.data[start + c] * xhat;
        paramGrads[1].data[c] += g.data[start + c];
      }
      for (int64_t c = 0; c < channels; ++c) {
        double xhat = (x.data[start + c] - mean) * invStd;
        double d = g.data[start + c] * params[0].data[c];
        inGrads[0].data[start + c] =
            invStd / channels * (channels * d - sumD - xhat * sumDXhat);
      }
    });
    return true;
  };
  r["layernorm"] = makeOp("layernorm", ln);
}

/// Whether `v` is an integer in [0, limit); stores it in `id`.
bool validId(double v, int64_t limit, int64_t &id) {
  if (!(v >= 0) || !(v < static_cast<double>(limit)) || v != std::floor(v))
    return false;
  id = static_cast<int64_t>(v);
  return true;
}

/// embedding: out[..., :] = embeddings[ids[...], :]; the table's gradient
/// is the scatter-add of the output gradient, the ids get none.
void registerEmbedding(RefRegistry &r) {
  OpParts emb;
  emb.intInputs = {0};
  emb.forward = [](const Tensors &in, const Tensors &params, const Attrs &,
                   RefTensor &out, std::string &error) {
    const RefTensor &table = params[0];
    int64_t rows = table.shape[0], width = table.shape[1];
    for (int64_t n = 0; n < in[0].size(); ++n) {
      int64_t id = 0;
      if (!validId(in[0].data[n], rows, id)) {
        error = "embedding: id " + std::to_string(in[0].data[n]) +
                " outside [0, " + std::to_string(rows) + ")";
        return false;
      }
      for (int64_t k = 0; k < width; ++k)
        out.data[n * width + k] = table.data[id * width + k];
    }
    return true;
  };
  emb.backward = [](const Tensors &in, const Tensors &params, const Attrs &,
                    const RefTensor &, const RefTensor &g, Tensors &,
                    Tensors &paramGrads, std::string &error) {
    int64_t rows = params[0].shape[0], width = params[0].shape[1];
    for (int64_t n = 0; n < in[0].size(); ++n) {
      int64_t id = 0;
      if (!validId(in[0].data[n], rows, id)) {
        error = "embedding: id outside the table";
        return false;
      }
      for (int64_t k = 0; k < width; ++k)
        paramGrads[0].data[id * width + k] += g.data[n * width + k];
    }
    return true;
  };
  r["embedding"] = makeOp("embedding", emb);
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// A loss that is the mean over every element of sum-free terms
/// term(p, t): mse, mae, binary_crossentropy. `grad` returns dterm/dp and
/// dterm/dt.
RefOp elementLoss(
    const std::string &name,
    std::function<double(double, double, const Attrs &)> term,
    std::function<void(double, double, const Attrs &, double &, double &)>
        grad) {
  OpParts parts;
  parts.forward = [term](const Tensors &in, const Tensors &, const Attrs &attrs,
                         RefTensor &out, std::string &) {
    double sum = 0;
    for (int64_t i = 0; i < in[0].size(); ++i)
      sum += term(in[0].data[i], in[1].data[i], attrs);
    out.data[0] = sum / static_cast<double>(in[0].size());
    return true;
  };
  parts.backward = [grad](const Tensors &in, const Tensors &,
                          const Attrs &attrs, const RefTensor &,
                          const RefTensor &g, Tensors &inGrads, Tensors &,
                          std::string &) {
    double scale = g.data[0] / static_cast<double>(in[0].size());
    for (int64_t i = 0; i < in[0].size(); ++i) {
      double dp = 0, dt = 0;
      grad(in[0].data[i], in[1].data[i], attrs, dp, dt);
      inGrads[0].data[i] = scale * dp;
      inGrads[1].data[i] = scale * dt;
    }
    return true;
  };
  return makeOp(name, parts);
}

double sign(double v) { return v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0); }

void registerElementLosses(RefRegistry &r) {
  r["mse"] = elementLoss(
      "mse",
      [](double p, double t, const Attrs &) { return (p - t) * (p - t); },
      [](double p, double t, const Attrs &, double &dp, double &dt) {
        dp = 2 * (p - t);
        dt = -dp;
      });
  r["mae"] = elementLoss(
      "mae", [](double p, double t, const Attrs &) { return std::fabs(p - t); },
      [](double p, double t, const Attrs &, double &dp, double &dt) {
        dp = sign(p - t);
        dt = -dp;
      });
  // From logits x: max(x, 0) - x t + log(1 + exp(-|x|)) (TensorFlow's
  // sigmoid_cross_entropy_with_logits). From probabilities: p clipped to
  // [eps, 1 - eps], -(t log p + (1 - t) log(1 - p)).
  r["binary_crossentropy"] = elementLoss(
      "binary_crossentropy",
      [](double p, double t, const Attrs &attrs) {
        if (getBool(attrs, "from_logits", false))
          return std::max(p, 0.0) - p * t + std::log1p(std::exp(-std::fabs(p)));
        double c =
            std::clamp(p, kProbabilityEpsilon, 1.0 - kProbabilityEpsilon);
        return -(t * std::log(c) + (1 - t) * std::log(1 - c));
      },
      [](double p, double t, const Attrs &attrs, double &dp, double &dt) {
        if (getBool(attrs, "from_logits", false)) {
          dp = 1 / (1 + std::exp(-p)) - t;
          dt = -p;
          return;
        }
        double c =
            std::clamp(p, kProbabilityEpsilon, 1.0 - kProbabilityEpsilon);
        bool clipped = c != p;
        dp = clipped ? 0.0 : -(t / c - (1 - t) / (1 - c));
        dt = -(std::log(c) - std::log(1 - c));
      });
}

/// The log-probabilities of one row of K predictions: log_softmax for
/// logits; for probabilities Keras's log(clip(p / sum(p), eps, 1 - eps)).
/// Also returns the normalized q = p / sum(p) and sum(p) for the backward.
void rowLogProbabilities(const double *pred, int64_t k, bool fromLogits,
                         std::vector<double> &logProb, std::vector<double> &q,
                         double &sum) {
  logProb.assign(k, 0.0);
  q.assign(k, 0.0);
  if (fromLogits) {
    double maxValue = -INFINITY;
    for (int64_t j = 0; j < k; ++j)
      maxValue = std::max(maxValue, pred[j]);
    double total = 0;
    for (int64_t j = 0; j < k; ++j)
      total += std::exp(pred[j] - maxValue);
    double logSum = maxValue + std::log(total);
    for (int64_t j = 0; j < k; ++j) {
      logProb[j] = pred[j] - logSum;
      q[j] = std::exp(logProb[j]);
    }
    sum = 1;
    return;
  }
  sum = 0;
  for (int64_t j = 0; j < k; ++j)
    sum += pred[j];
  for (int64_t j = 0; j < k; ++j) {
    q[j] = pred[j] / sum;
    logProb[j] = std::log(
        std::clamp(q[j], kProbabilityEpsilon, 1.0 - kProbabilityEpsilon));
  }
}

/// Given dL/dlogProb (`a`) of one row, the gradient with respect to the
/// predictions, written to `out`.
void rowLogProbabilityGrad(int64_t k, bool fromLogits,
                           const std::vector<double> &q, double sum,
                           const std::vector<double> &a, double *out) {
  if (fromLogits) {
    // logProb_j = x_j - logsumexp(x): d/dx_i = a_i - softmax_i sum_j a_j.
    double total = 0;
    for (int64_t j = 0; j < k; ++j)
      total += a[j];
    for (int64_t i = 0; i < k; ++i)
      out[i] = a[i] - q[i] * total;
    return;
  }
  // logProb_j = log(clip(q_j)); dq_j/dp_i = (delta_ij - q_j) / sum.
  std::vector<double> dq(k, 0.0);
  for (int64_t j = 0; j < k; ++j) {
    double c = std::clamp(q[j], kProbabilityEpsilon, 1.0 - kProbabilityEpsilon);
    dq[j] = c == q[j] ? a[j] / c : 0.0;
  }
  double dot = 0;
  for (int64_t j = 0; j < k; ++j)
    dot += dq[j] * q[j];
  for (int64_t i = 0; i < k; ++i)
    out[i] = (dq[i] - dot) / sum;
}

/// categorical_crossentropy: mean over rows (last axis K) of
/// -sum_j t_j logProb_j.
void registerCategorical(RefRegistry &r) {
  OpParts cce;
  cce.forward = [](const Tensors &in, const Tensors &, const Attrs &attrs,
                   RefTensor &out, std::string &) {
    int64_t k = in[0].shape.back();
    int64_t rows = in[0].size() / k;
    bool fromLogits = getBool(attrs, "from_logits", false);
    std::vector<double> logProb, q;
    double sum = 0, total = 0;
    for (int64_t row = 0; row < rows; ++row) {
      rowLogProbabilities(&in[0].data[row * k], k, fromLogits, logProb, q, sum);
      for (int64_t j = 0; j < k; ++j)
        total -= in[1].data[row * k + j] * logProb[j];
    }
    out.data[0] = total / static_cast<double>(rows);
    return true;
  };
  cce.backward = [](const Tensors &in, const Tensors &, const Attrs &attrs,
                    const RefTensor &, const RefTensor &g, Tensors &inGrads,
                    Tensors &, std::string &) {
    int64_t k = in[0].shape.back();
    int64_t rows = in[0].size() / k;
    bool fromLogits = getBool(attrs, "from_logits", false);
    double scale = g.data[0] / static_cast<double>(rows);
    std::vector<double> logProb, q, a(k);
    double sum = 0;
    for (int64_t row = 0; row < rows; ++row) {
      const double *pred = &in[0].data[row * k];
      rowLogProbabilities(pred, k, fromLogits, logProb, q, sum);
      for (int64_t j = 0; j < k; ++j) {
        a[j] = -scale * in[1].data[row * k + j];
        inGrads[1].data[row * k + j] = -scale * logProb[j];
      }
      rowLogProbabilityGrad(k, fromLogits, q, sum, a,
                            &inGrads[0].data[row * k]);
    }
    return true;
  };
  r["categorical_crossentropy"] = makeOp("categorical_crossentropy", cce);

  // sparse: the target holds class ids; -logProb[id] per row.
  OpParts scce;
  scce.intInputs = {1};
  scce.forward = [](const Tensors &in, const Tensors &, const Attrs &attrs,
                    RefTensor &out, std::string &error) {
    int64_t k = in[0].shape.back();
    int64_t rows = in[0].size() / k;
    bool fromLogits = getBool(attrs, "from_logits", false);
    std::vector<double> logProb, q;
    double sum = 0, total = 0;
    for (int64_t row = 0; row < rows; ++row) {
      int64_t id = 0;
      if (!validId(in[1].data[row], k, id)) {
        error = "sparse_categorical_crossentropy: class id " +
                std::to_string(in[1].data[row]) + " outside [0, " +
                std::to_string(k) + ")";
        return false;
      }
      rowLogProbabilities(&in[0].data[row * k], k, fromLogits, logProb, q, sum);
      total -= logProb[id];
    }
    out.data[0] = total / static_cast<double>(rows);
    return true;
  };
  scce.backward = [](const Tensors &in, const Tensors &, const Attrs &attrs,
                     const RefTensor &, const RefTensor &g, Tensors &inGrads,
                     Tensors &, std::string &error) {
    int64_t k = in[0].shape.back();
    int64_t rows = in[0].size() / k;
    bool fromLogits = getBool(attrs, "from_logits", false);
    double scale = g.data[0] / static_cast<double>(rows);
    std::vector<double> logProb, q, a(k);
    double sum = 0;
    for (int64_t row = 0; row < rows; ++row) {
      int64_t id = 0;
      if (!validId(in[1].data[row], k, id)) {
        error = "sparse_categorical_crossentropy: class id outside [0, K)";
        return false;
      }
      const double *pred = &in[0].data[row * k];
      rowLogProbabilities(pred, k, fromLogits, logProb, q, sum);
      std::fill(a.begin(), a.end(), 0.0);
      a[id] = -scale;
      rowLogProbabilityGrad(k, fromLogits, q, sum, a,
                            &inGrads[0].data[row * k]);
    }
    return true;
  };
  r["sparse_categorical_crossentropy"] =
      makeOp("sparse_categorical_crossentropy", scce);
}

/// The `weights` attribute of weighted_sum as doubles (inferShapes has
/// checked that it is a list of one finite number per loss).
std::vector<double> lossWeights(const Attrs &attrs) {
  auto it = attrs.find("weights");
  if (it == attrs.end())
    return {};
  if (const auto *d = std::get_if<std::vector<double>>(&it->second))
    return *d;
  if (const auto *i = std::get_if<std::vector<int64_t>>(&it->second))
    return std::vector<double>(i->begin(), i->end());
  return {};
}

void registerWeightedSum(RefRegistry &r) {
  OpParts ws;
  ws.unbatched = true;
  ws.forward = [](const Tensors &in, const Tensors &, const Attrs &attrs,
                  RefTensor &out, std::string &) {
    std::vector<double> w = lossWeights(attrs);
    double sum = 0;
    for (size_t i = 0; i < in.size(); ++i)
      sum += w[i] * in[i].data[0];
    out.data[0] = sum;
    return true;
  };
  ws.backward = [](const Tensors &in, const Tensors &, const Attrs &attrs,
                   const RefTensor &, const RefTensor &g, Tensors &inGrads,
                   Tensors &, std::string &) {
    std::vector<double> w = lossWeights(attrs);
    for (size_t i = 0; i < in.size(); ++i)
      inGrads[i].data[0] = w[i] * g.data[0];
    return true;
  };
  r["weighted_sum"] = makeOp("weighted_sum", ws);
}

} // namespace

void registerElementwiseOps(RefRegistry &r) {
  registerActivations(r);
  registerMerges(r);
  registerBatchnorm(r);
  registerLayernorm(r);
  registerEmbedding(r);
  registerElementLosses(r);
  registerCategorical(r);
  registerWeightedSum(r);
}

} // namespace dlc::ref
