//===- ConvolutionKernelTest.cpp - conv, dense and pool CPU kernels -------===//
//
// Every op of codegen/cpu/ConvolutionKernels.cpp on random shapes and
// attributes: the emitter's call for a hand-built KernelProgram is checked
// as text, its shape descriptor is read back from the emitted declaration,
// and the kernel template runs with that descriptor (T = double and float)
// against the float64 reference (test/reference), forward and backward,
// with n below maxBatch, null gradient results, and smaller im2col chunks.
// One test compiles an emitted snippet with the generated programs' flags
// and reports its GFLOP/s (never asserted).
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/CpuKernel.h"
#include "codegen/cpu/kernels/Convolution.h"
#include "ir/ShapeRules.h"
#include "test/reference/ReferenceOps.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <unistd.h>

using namespace dlc;
using namespace dlc::codegen;
using dlc::ref::RefTensor;

namespace {

const CpuKernelRegistry &registry() {
  static const CpuKernelRegistry r = [] {
    CpuKernelRegistry all;
    registerConvolutionKernels(all);
    return all;
  }();
  return r;
}

//===----------------------------------------------------------------------===//
// Random cases
//===----------------------------------------------------------------------===//

/// One op application: per-example input shape, attributes (with use_bias
/// as the reference and shape rules take it), batch and maxBatch.
struct Case {
  std::string op;
  Shape x;
  Attrs attrs;
  int64_t n = 1;
  int64_t maxBatch = 1;
  /// Draw inputs from {-1, 0, 1} so pooling windows have ties.
  bool coarse = false;
};

int64_t pick(std::mt19937 &rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

bool hasBiasParam(const std::string &op) {
  return op != "maxpool2d" && op != "avgpool2d" && op != "global_maxpool2d" &&
         op != "global_avgpool2d";
}

/// A random valid case of `op` (retries until the shape rule accepts it).
Case randomCase(const std::string &op, std::mt19937 &rng) {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    Case c;
    c.op = op;
    c.maxBatch = pick(rng, 1, 5);
    c.n = pick(rng, 1, c.maxBatch);
    Attrs &a = c.attrs;
    auto two = [&](int64_t lo, int64_t hi) {
      return Shape{pick(rng, lo, hi), pick(rng, lo, hi)};
    };
    if (op == "conv2d" || op == "conv1d") {
      int64_t groups = pick(rng, 1, 3) == 3 ? pick(rng, 2, 3) : 1;
      size_t spatial = op == "conv2d" ? 2 : 1;
      c.x = Shape(spatial, 0);
      for (int64_t &d : c.x)
        d = pick(rng, 1, 9);
      c.x.push_back(groups * pick(rng, 1, 3));
      a["filters"] = groups * pick(rng, 1, 3);
      a["groups"] = groups;
      Shape k, s, d, p;
      for (size_t i = 0; i < spatial; ++i) {
        k.push_back(pick(rng, 1, 3));
        s.push_back(pick(rng, 1, 2));
        d.push_back(pick(rng, 1, 2));
        p.push_back(pick(rng, 0, 2));
        p.push_back(pick(rng, 0, 2));
      }
      a["kernel_size"] = k;
      a["strides"] = s;
      a["dilation"] = d;
      a["pad"] = p;
    } else if (op == "conv2d_transpose") {
      c.x = {pick(rng, 1, 6), pick(rng, 1, 6), pick(rng, 1, 4)};
      a["filters"] = pick(rng, 1, 4);
      Shape s = two(1, 3);
      a["kernel_size"] = two(1, 3);
      a["strides"] = s;
      a["dilation"] = pick(rng, 0, 2) == 0 ? two(1, 2) : Shape{1, 1};
      a["pad"] = Shape{pick(rng, 0, 2), pick(rng, 0, 2), pick(rng, 0, 2),
                       pick(rng, 0, 2)};
      a["output_padding"] =
          Shape{pick(rng, 0, s[0] - 1), pick(rng, 0, s[1] - 1)};
    } else if (op == "depthwise_conv2d" || op == "separable_conv2d") {
      c.x = {pick(rng, 1, 8), pick(rng, 1, 8), pick(rng, 1, 5)};
      if (op == "separable_conv2d")
        a["filters"] = pick(rng, 1, 5);
      a["depth_multiplier"] = pick(rng, 1, 3) == 3 ? pick(rng, 2, 3) : 1;
      a["kernel_size"] = two(1, 3);
      a["strides"] = two(1, 2);
      a["dilation"] = two(1, 2);
      a["pad"] = Shape{pick(rng, 0, 2), pick(rng, 0, 2), pick(rng, 0, 2),
                       pick(rng, 0, 2)};
    } else if (op == "dense") {
      c.x.clear();
      for (int64_t r = pick(rng, 0, 2); r > 0; --r)
        c.x.push_back(pick(rng, 1, 4));
      c.x.push_back(pick(rng, 1, 40));
      a["units"] = pick(rng, 1, 40);
    } else if (op == "maxpool2d" || op == "avgpool2d") {
      c.x = {pick(rng, 1, 9), pick(rng, 1, 9), pick(rng, 1, 5)};
      Shape pool = two(1, 3);
      a["pool_size"] = pool;
      if (pick(rng, 0, 1))
        a["strides"] = two(1, 3);
      a["pad"] = Shape{pick(rng, 0, 2), pick(rng, 0, 2), pick(rng, 0, 2),
                       pick(rng, 0, 2)};
      c.coarse = pick(rng, 0, 1) == 1;
    } else { // global pools
      c.x = {pick(rng, 1, 6), pick(rng, 1, 6), pick(rng, 1, 7)};
      c.coarse = pick(rng, 0, 1) == 1;
    }
    if (hasBiasParam(op))
      a["use_bias"] = pick(rng, 0, 3) != 0;
    TensorInfo info;
    info.shape = c.x;
    if (inferShapes(op, {info}, a).ok())
      return c;
  }
  ADD_FAILURE() << "no valid random case for " << op;
  return Case{};
}

//===----------------------------------------------------------------------===//
// The emitted code and its descriptor
//===----------------------------------------------------------------------===//

/// The program and calls of one case: values x, params..., y, dy, dx,
/// dparams..., a forward call and a gradient call.
struct Built {
  KernelProgram program;
  KernelCall forward, gradient;
  Shape y;
  std::vector<Shape> params;
};

Built build(const Case &c) {
  Built b;
  TensorInfo info;
  info.shape = c.x;
  ShapeResult shapes = inferShapes(c.op, {info}, c.attrs);
  b.y = shapes.results.at(0).shape;
  for (const ParamSpec &spec : paramSpecs(c.op, {info}, c.attrs))
    b.params.push_back(spec.shape);
  b.program.modelName = "m";
  b.program.maxBatch = c.maxBatch;
  auto add = [&](KernelValue::Kind kind, const Shape &shape, bool batched,
                 const std::string &name) {
    KernelValue v;
    v.kind = kind;
    v.type.shape = shape;
    v.type.batched = batched;
    v.name = name;
    b.program.values.push_back(v);
    return int(b.program.values.size() - 1);
  };
  int x = add(KernelValue::Kind::Argument, c.x, true, "x");
  std::vector<int> params;
  for (size_t i = 0; i < b.params.size(); ++i)
    params.push_back(add(KernelValue::Kind::Persistent, b.params[i], false,
                         "p" + std::to_string(i)));
  int y = add(KernelValue::Kind::Temporary, b.y, true, "y");
  int dy = add(KernelValue::Kind::Temporary, b.y, true, "dy");
  int dx = add(KernelValue::Kind::Temporary, c.x, true, "dx");
  std::vector<int> dparams;
  for (size_t i = 0; i < b.params.size(); ++i)
    dparams.push_back(add(KernelValue::Kind::Temporary, b.params[i], false,
                          "dp" + std::to_string(i)));
  Attrs attrs = c.attrs;
  attrs.erase("use_bias"); // the IR says it by the bias operand
  b.forward.op = c.op;
  b.forward.attrs = attrs;
  b.forward.operands = {x};
  b.forward.operands.insert(b.forward.operands.end(), params.begin(),
                            params.end());
  b.forward.results = {y};
  b.forward.location = "layer (test.dl:1:1)";
  b.gradient.op = c.op + "_grad";
  b.gradient.attrs = attrs;
  b.gradient.operands = b.forward.operands;
  b.gradient.operands.push_back(y);
  b.gradient.operands.push_back(dy);
  b.gradient.results = {dx};
  b.gradient.results.insert(b.gradient.results.end(), dparams.begin(),
                            dparams.end());
  b.gradient.location = b.forward.location;
  return b;
}

/// The names the emitted code uses for each value of `call`.
CpuKernelArgs argsFor(const KernelProgram &program, const KernelCall &call,
                      const std::string &id) {
  CpuKernelArgs args{program, call, {}, {}, "ws", id};
  for (int v : call.operands)
    args.operands.push_back(program.values[size_t(v)].name);
  for (int v : call.results)
    args.results.push_back(program.values[size_t(v)].name);
  return args;
}

/// The integers of the descriptor initializer in `declarations`.
std::vector<int64_t> parseDims(const std::string &declarations) {
  std::string text =
      std::regex_replace(declarations, std::regex(R"(/\*[^*]*\*/)"), "");
  size_t brace = text.find('{');
  std::vector<int64_t> values;
  if (brace == std::string::npos)
    return values;
  std::regex number(R"(-?\d+)");
  std::string body = text.substr(brace);
  for (std::sregex_iterator it(body.begin(), body.end(), number), end;
       it != end; ++it)
    values.push_back(std::stoll(it->str()));
  return values;
}

template <typename Dims> Dims toDims(const std::vector<int64_t> &values) {
  static_assert(std::is_trivially_copyable<Dims>::value, "plain descriptor");
  Dims dims;
  std::memset(&dims, 0, sizeof(Dims));
  EXPECT_EQ(values.size() * sizeof(int64_t), sizeof(Dims));
  std::memcpy(&dims, values.data(),
              std::min(sizeof(Dims), values.size() * sizeof(int64_t)));
  return dims;
}

/// The statement the emitter should give for `call` (named by argsFor).
std::string expectedStatement(const Built &b, const KernelCall &call,
                              const std::string &id, bool workspace,
                              bool hasBias, bool optionalBias) {
  bool grad = call.op.size() > 5 &&
              call.op.compare(call.op.size() - 5, 5, "_grad") == 0;
  std::string s = "dlk::" + call.op + "<T>(n, " + id + "_dims";
  size_t forwardOperands = 1 + b.params.size();
  for (size_t i = 0; i < forwardOperands; ++i)
    s += ", " + b.program.values[size_t(call.operands[i])].name;
  if (optionalBias && !hasBias)
    s += ", nullptr";
  if (grad) {
    s += ", y, dy";
    for (int r : call.results)
      s += ", " + b.program.values[size_t(r)].name;
    if (optionalBias && !hasBias)
      s += ", nullptr";
  } else {
    s += ", y";
  }
  // The kernels that take a workspace: the input gradients' columns
  // (conv1d/conv2d gradient, conv2d_transpose forward) and
  // separable_conv2d's intermediate.
  const bool takesWorkspace =
      call.op == "conv2d_grad" || call.op == "conv1d_grad" ||
      call.op == "conv2d_transpose" || call.op.rfind("separable", 0) == 0;
  if (workspace)
    s += ", ws";
  else if (takesWorkspace)
    s += ", nullptr";
  return s + ");";
}

//===----------------------------------------------------------------------===//
// Running the kernels
//===----------------------------------------------------------------------===//

/// A batched buffer of maxBatch examples: the first n hold data, the rest
/// a sentinel (NaN for inputs, so reading them shows; a marker for results,
/// so writing them shows).
template <typename T> struct Buffer {
  std::vector<T> data;
  int64_t used = 0;
  T *ptr() { return data.empty() ? nullptr : data.data(); }
};

template <typename T>
Buffer<T> batchedInput(const RefTensor &t, int64_t maxBatch) {
  int64_t perExample =
      t.shape.empty() || t.shape[0] == 0 ? 0 : t.size() / t.shape[0];
  Buffer<T> b;
  b.data.assign(size_t(maxBatch * perExample + 1),
                std::numeric_limits<T>::quiet_NaN());
  for (int64_t i = 0; i < t.size(); ++i)
    b.data[size_t(i)] = T(t.data[size_t(i)]);
  b.used = t.size();
  return b;
}

constexpr double kMarker = 4242.5;

template <typename T> Buffer<T> resultBuffer(int64_t used, int64_t total) {
  Buffer<T> b;
  b.data.assign(size_t(total + 1), T(kMarker));
  b.used = used;
  return b;
}

template <typename T> Buffer<T> plain(const RefTensor &t) {
  Buffer<T> b;
  b.data.assign(size_t(t.size() + 1), T(0));
  for (int64_t i = 0; i < t.size(); ++i)
    b.data[size_t(i)] = T(t.data[size_t(i)]);
  b.used = t.size();
  return b;
}

/// Checks `got` (its first `ref.size()` elements) against `ref` relative to
/// the largest reference magnitude, and that the rest kept the marker.
template <typename T>
void expectClose(const Buffer<T> &got, const RefTensor &ref,
                 const std::string &what) {
  const double tolerance = std::is_same<T, double>::value ? 1e-9 : 1e-4;
  double scale = 1e-30;
  for (double v : ref.data)
    scale = std::max(scale, std::fabs(v));
  scale = std::max(scale, 1.0);
  ASSERT_EQ(got.used, ref.size()) << what;
  int64_t bad = 0;
  for (int64_t i = 0; i < ref.size(); ++i) {
    double diff = std::fabs(double(got.data[size_t(i)]) - ref.data[size_t(i)]);
    if (!(diff <= tolerance * scale) && bad++ < 3)
      ADD_FAILURE() << what << "[" << i << "] = " << got.data[size_t(i)]
                    << ", reference " << ref.data[size_t(i)];
  }
  EXPECT_EQ(bad, 0) << what;
  for (size_t i = size_t(ref.size()); i < got.data.size(); ++i)
    if (got.data[i] != T(kMarker)) {
      ADD_FAILURE() << what << " was written past its n examples at " << i;
      break;
    }
}

/// Pointers of one call: x, the params (null bias when absent), y, dy, the
/// gradients, and the workspace.
template <typename T> struct Pointers {
  const T *x = nullptr, *p0 = nullptr, *p1 = nullptr, *bias = nullptr;
  T *y = nullptr;
  const T *dy = nullptr;
  T *dx = nullptr, *dp0 = nullptr, *dp1 = nullptr, *dbias = nullptr;
  unsigned char *ws = nullptr;
};

template <typename T>
void runKernel(const std::string &op, bool grad, int64_t n,
               const std::vector<int64_t> &dims, const Pointers<T> &p) {
  if (op == "conv2d" || op == "conv1d") {
    auto d = toDims<dlk::Conv2dDims>(dims);
    if (grad && op == "conv2d")
      dlk::conv2d_grad<T>(n, d, p.x, p.p0, p.bias, p.y, p.dy, p.dx, p.dp0,
                          p.dbias, p.ws);
    else if (grad)
      dlk::conv1d_grad<T>(n, d, p.x, p.p0, p.bias, p.y, p.dy, p.dx, p.dp0,
                          p.dbias, p.ws);
    else if (op == "conv2d")
      dlk::conv2d<T>(n, d, p.x, p.p0, p.bias, p.y);
    else
      dlk::conv1d<T>(n, d, p.x, p.p0, p.bias, p.y);
  } else if (op == "conv2d_transpose") {
    auto d = toDims<dlk::Conv2dTransposeDims>(dims);
    if (grad)
      dlk::conv2d_transpose_grad<T>(n, d, p.x, p.p0, p.bias, p.y, p.dy, p.dx,
                                    p.dp0, p.dbias);
    else
      dlk::conv2d_transpose<T>(n, d, p.x, p.p0, p.bias, p.y, p.ws);
  } else if (op == "depthwise_conv2d") {
    auto d = toDims<dlk::DepthwiseConv2dDims>(dims);
    if (grad)
      dlk::depthwise_conv2d_grad<T>(n, d, p.x, p.p0, p.bias, p.y, p.dy, p.dx,
                                    p.dp0, p.dbias);
    else
      dlk::depthwise_conv2d<T>(n, d, p.x, p.p0, p.bias, p.y);
  } else if (op == "separable_conv2d") {
    auto d = toDims<dlk::SeparableConv2dDims>(dims);
    if (grad)
      dlk::separable_conv2d_grad<T>(n, d, p.x, p.p0, p.p1, p.bias, p.y, p.dy,
                                    p.dx, p.dp0, p.dp1, p.dbias, p.ws);
    else
      dlk::separable_conv2d<T>(n, d, p.x, p.p0, p.p1, p.bias, p.y, p.ws);
  } else if (op == "dense") {
    auto d = toDims<dlk::DenseDims>(dims);
    if (grad)
      dlk::dense_grad<T>(n, d, p.x, p.p0, p.bias, p.y, p.dy, p.dx, p.dp0,
                         p.dbias);
    else
      dlk::dense<T>(n, d, p.x, p.p0, p.bias, p.y);
  } else if (op == "maxpool2d" || op == "avgpool2d") {
    auto d = toDims<dlk::Pool2dDims>(dims);
    if (op == "maxpool2d")
      grad ? dlk::maxpool2d_grad<T>(n, d, p.x, p.y, p.dy, p.dx)
           : dlk::maxpool2d<T>(n, d, p.x, p.y);
    else
      grad ? dlk::avgpool2d_grad<T>(n, d, p.x, p.y, p.dy, p.dx)
           : dlk::avgpool2d<T>(n, d, p.x, p.y);
  } else if (op == "global_maxpool2d" || op == "global_avgpool2d") {
    auto d = toDims<dlk::GlobalPool2dDims>(dims);
    if (op == "global_maxpool2d")
      grad ? dlk::global_maxpool2d_grad<T>(n, d, p.x, p.y, p.dy, p.dx)
           : dlk::global_maxpool2d<T>(n, d, p.x, p.y);
    else
      grad ? dlk::global_avgpool2d_grad<T>(n, d, p.x, p.y, p.dy, p.dx)
           : dlk::global_avgpool2d<T>(n, d, p.x, p.y);
  } else {
    ADD_FAILURE() << "no kernel for " << op;
  }
}

RefTensor randomTensor(const Shape &shape, std::mt19937 &rng, bool coarse) {
  RefTensor t(shape);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (double &v : t.data)
    v = coarse ? double(pick(rng, -1, 1)) : u(rng);
  return t;
}

Shape batched(int64_t n, const Shape &shape) {
  Shape s{n};
  s.insert(s.end(), shape.begin(), shape.end());
  return s;
}

/// Which gradient results a run asks for.
struct Wanted {
  bool dx = true, dparams = true;
};

/// Runs `c` with T against the reference: forward, then the gradient once
/// per `wanted` (and once more with one-example im2col chunks).
template <typename T> void checkCase(const Case &c, std::mt19937 &rng) {
  SCOPED_TRACE(c.op + " x" + formatShape(c.x) + " n=" + std::to_string(c.n) +
               " maxBatch=" + std::to_string(c.maxBatch));
  Built b = build(c);
  const bool optionalBias = hasBiasParam(c.op);
  const bool hasBias = optionalBias && getBool(c.attrs, "use_bias", true);
  const size_t required = b.params.size() - (hasBias ? 1 : 0);

  // Reference.
  std::vector<RefTensor> inputs{randomTensor(batched(c.n, c.x), rng, c.coarse)};
  std::vector<RefTensor> params;
  for (const Shape &s : b.params)
    params.push_back(randomTensor(s, rng, false));
  const auto &refOp = ref::referenceOps().at(c.op);
  std::vector<RefTensor> outputs, inputGrads, paramGrads;
  std::string error;
  ASSERT_TRUE(refOp.forward(inputs, params, c.attrs, outputs, error)) << error;
  std::vector<RefTensor> dys{randomTensor(outputs[0].shape, rng, false)};
  ASSERT_TRUE(refOp.backward(inputs, params, c.attrs, outputs, dys, inputGrads,
                             paramGrads, error))
      << error;

  // Emitted code.
  const CpuKernel &fk = registry().at(c.op);
  const CpuKernel &gk = registry().at(c.op + "_grad");
  CpuKernelCode fcode = fk.emit(argsFor(b.program, b.forward, "k1"));
  CpuKernelCode gcode = gk.emit(argsFor(b.program, b.gradient, "k2"));
  int64_t fws = fk.workspaceBytes
                    ? fk.workspaceBytes(b.program, b.forward, int(sizeof(T)))
                    : 0;
  int64_t gws = gk.workspaceBytes
                    ? gk.workspaceBytes(b.program, b.gradient, int(sizeof(T)))
                    : 0;
  EXPECT_EQ(fcode.statement, expectedStatement(b, b.forward, "k1", fws > 0,
                                               hasBias, optionalBias));
  EXPECT_EQ(gcode.statement, expectedStatement(b, b.gradient, "k2", gws > 0,
                                               hasBias, optionalBias));
  EXPECT_EQ(fcode.declarations.rfind("static constexpr dlk::", 0), 0u)
      << fcode.declarations;
  EXPECT_NE(fcode.declarations.find("k1_dims{"), std::string::npos);
  std::vector<int64_t> fdims = parseDims(fcode.declarations);
  std::vector<int64_t> gdims = parseDims(gcode.declarations);
  EXPECT_EQ(fdims, gdims);
  if (c.op == "conv2d" || c.op == "conv1d") {
    EXPECT_EQ(fws, 0) << "the forward reads its columns straight from x";
  }
  if (c.op == "conv2d_transpose") {
    EXPECT_EQ(gws, 0) << "the gradient reads its columns straight from dy";
  }

  // Forward.
  Buffer<T> x = batchedInput<T>(inputs[0], c.maxBatch);
  std::vector<Buffer<T>> p;
  for (const RefTensor &t : params)
    p.push_back(plain<T>(t));
  const int64_t yPer = outputs[0].size() / c.n;
  const int64_t xPer = inputs[0].size() / c.n;
  std::vector<unsigned char> workspace(size_t(std::max(fws, gws)));
  Pointers<T> ptr;
  ptr.x = x.ptr();
  ptr.p0 = required > 0 ? p[0].ptr() : nullptr;
  ptr.p1 = required > 1 ? p[1].ptr() : nullptr;
  ptr.bias = hasBias ? p.back().ptr() : nullptr;
  ptr.ws = workspace.empty() ? nullptr : workspace.data();
  Buffer<T> y = resultBuffer<T>(outputs[0].size(), c.maxBatch * yPer);
  ptr.y = y.ptr();
  runKernel<T>(c.op, false, c.n, fdims, ptr);
  expectClose(y, outputs[0], "y");

  // Gradients: everything, then without dx, then without the parameters'.
  Buffer<T> dy = batchedInput<T>(dys[0], c.maxBatch);
  ptr.dy = dy.ptr();
  const bool conv =
      c.op == "conv2d" || c.op == "conv1d" || c.op == "conv2d_transpose";
  std::vector<std::pair<Wanted, int64_t>> runs{
      {{true, true}, 0}, {{false, true}, 0}, {{true, false}, 0}};
  if (conv)
    runs.push_back({{true, true}, 1}); // one example per im2col pass
  for (const auto &[wanted, chunk] : runs) {
    SCOPED_TRACE(std::string("dx ") + (wanted.dx ? "on" : "off") +
                 ", dparams " + (wanted.dparams ? "on" : "off") +
                 (chunk ? ", chunk 1" : ""));
    std::vector<int64_t> dims = gdims;
    if (chunk && !dims.empty())
      dims.back() = chunk;
    Buffer<T> dx = resultBuffer<T>(inputs[0].size(), c.maxBatch * xPer);
    std::vector<Buffer<T>> dp;
    for (const RefTensor &t : paramGrads)
      dp.push_back(resultBuffer<T>(t.size(), t.size()));
    ptr.dx = wanted.dx ? dx.ptr() : nullptr;
    ptr.dp0 = wanted.dparams && required > 0 ? dp[0].ptr() : nullptr;
    ptr.dp1 = wanted.dparams && required > 1 ? dp[1].ptr() : nullptr;
    ptr.dbias = wanted.dparams && hasBias ? dp.back().ptr() : nullptr;
    runKernel<T>(c.op, true, c.n, dims, ptr);
    if (wanted.dx)
      expectClose(dx, inputGrads[0], "dx");
    else
      EXPECT_TRUE(std::all_of(dx.data.begin(), dx.data.end(),
                              [](T v) { return v == T(kMarker); }));
    for (size_t i = 0; i < dp.size(); ++i)
      if (wanted.dparams)
        expectClose(dp[i], paramGrads[i], "dparam" + std::to_string(i));
  }
}

const std::vector<std::string> &allOps() {
  static const std::vector<std::string> ops{
      "conv1d",           "conv2d",           "conv2d_transpose",
      "depthwise_conv2d", "separable_conv2d", "dense",
      "maxpool2d",        "avgpool2d",        "global_maxpool2d",
      "global_avgpool2d"};
  return ops;
}

class RandomCases : public ::testing::TestWithParam<std::string> {};

TEST_P(RandomCases, DoubleMatchesReference) {
  for (unsigned seed = 1; seed <= 12; ++seed) {
    std::mt19937 rng(seed * 7919u + 17u);
    Case c = randomCase(GetParam(), rng);
    checkCase<double>(c, rng);
  }
}

TEST_P(RandomCases, FloatMatchesReference) {
  for (unsigned seed = 101; seed <= 106; ++seed) {
    std::mt19937 rng(seed);
    Case c = randomCase(GetParam(), rng);
    checkCase<float>(c, rng);
  }
}

INSTANTIATE_TEST_SUITE_P(ConvolutionKernels, RandomCases,
                         ::testing::ValuesIn(allOps()),
                         [](const ::testing::TestParamInfo<std::string> &i) {
                           return i.param;
                         });

//===----------------------------------------------------------------------===//
// Fixed cases
//===----------------------------------------------------------------------===//

TEST(ConvolutionKernels, RegisteredInTheCpuRegistry) {
  for (const std::string &op : allOps()) {
    ASSERT_TRUE(cpuKernels().count(op)) << op;
    ASSERT_TRUE(cpuKernels().count(op + "_grad")) << op;
    EXPECT_NE(cpuKernels().at(op).emit, nullptr);
  }
}

TEST(ConvolutionKernels, LargerShapesMatchReference) {
  std::mt19937 rng(5);
  // A fashion_cnn-like conv (same padding) with n < maxBatch; a dense layer
  // wider than one GEMM block in every dimension; a strided depthwise.
  Case conv{"conv2d", {14, 14, 8}, {}, 3, 4, false};
  conv.attrs = {{"filters", int64_t(20)},
                {"kernel_size", Shape{3, 3}},
                {"pad", Shape{1, 1, 1, 1}}};
  checkCase<double>(conv, rng);
  checkCase<float>(conv, rng);
  Case dense{"dense", {300}, {{"units", int64_t(70)}}, 130, 150, false};
  checkCase<double>(dense, rng);
  checkCase<float>(dense, rng);
  Case depthwise{"depthwise_conv2d", {11, 9, 70}, {}, 2, 2, false};
  depthwise.attrs = {{"kernel_size", Shape{3, 3}},
                     {"strides", Shape{2, 2}},
                     {"pad", Shape{1, 1, 1, 1}}};
  checkCase<double>(depthwise, rng);
}

TEST(ConvolutionKernels, DirectKernelsMatchReference) {
  // Shapes that take the direct forward and kernel-gradient kernels
  // (DirectConv.h) through each tile shape: channels a multiple of 16, 12,
  // 8 or 4, or fewer than 4; filters within one vector, a whole number of
  // vectors, or a partial last panel; strides, dilation, uneven padding, a
  // window of more than nine taps, groups, and n < maxBatch.
  struct Shape4 {
    Shape x;
    int64_t filters;
    Shape kernel, strides, dilation, pad;
    int64_t groups;
  };
  const std::vector<Shape4> shapes{
      {{7, 6, 16}, 16, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 1},
      {{6, 7, 12}, 20, {3, 3}, {2, 2}, {1, 1}, {0, 1, 1, 0}, 1},
      {{8, 8, 8}, 33, {3, 2}, {1, 2}, {2, 1}, {2, 2, 1, 1}, 1},
      {{6, 6, 4}, 5, {5, 5}, {1, 1}, {1, 1}, {2, 2, 2, 2}, 1},
      {{5, 6, 24}, 64, {3, 3}, {2, 1}, {1, 1}, {1, 0, 0, 1}, 1},
      {{6, 5, 8}, 12, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 2},
      // Few channels: packed column tiles forward, kernel-gradient tiles
      // of rows across taps (17 and 25 rows: a partial last tile).
      {{9, 9, 1}, 20, {5, 5}, {1, 1}, {1, 1}, {2, 2, 2, 2}, 1},
      {{7, 8, 3}, 33, {3, 3}, {2, 2}, {1, 2}, {1, 0, 2, 1}, 1},
      {{6, 6, 2}, 7, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, 1},
  };
  std::mt19937 rng(11);
  for (const Shape4 &s : shapes) {
    Case c{"conv2d", s.x, {}, 3, 4, false};
    c.attrs = {{"filters", s.filters}, {"kernel_size", s.kernel},
               {"strides", s.strides}, {"dilation", s.dilation},
               {"pad", s.pad},         {"groups", s.groups}};
    checkCase<double>(c, rng);
    checkCase<float>(c, rng);
  }
}

TEST(ConvolutionKernels, MaxPoolGradientGoesToTheFirstMaximum) {
  // One window of four equal cells: all of dy goes to the first.
  dlk::Pool2dDims d{2, 2, 1, 1, 1, 2, 2, 2, 2, 0, 0};
  double x[4] = {1, 1, 1, 1}, y = 0, dy = 5, dx[4];
  dlk::maxpool2d<double>(1, d, x, &y);
  dlk::maxpool2d_grad<double>(1, d, x, &y, &dy, dx);
  EXPECT_EQ(y, 1);
  EXPECT_EQ(dx[0], 5);
  EXPECT_EQ(dx[1] + dx[2] + dx[3], 0);
}

TEST(ConvolutionKernels, OnlyTheInputGradientOfAWindowedConvNeedsAWorkspace) {
  Case c{"conv2d", {5, 5, 4}, {}, 1, 8, false};
  c.attrs = {{"filters", int64_t(6)}, {"kernel_size", Shape{1, 1}}};
  Built b = build(c);
  // The forward never stores columns: it takes no workspace at all.
  EXPECT_FALSE(registry().at("conv2d").workspaceBytes);
  const CpuKernel &k = registry().at("conv2d_grad");
  EXPECT_EQ(k.workspaceBytes(b.program, b.gradient, 4), 0); // pointwise
  c.attrs["kernel_size"] = Shape{3, 3};
  Built b3 = build(c);
  // 8 examples * 3 * 3 output cells * 3 * 3 * 4 columns * 8 bytes.
  EXPECT_EQ(k.workspaceBytes(b3.program, b3.gradient, 8), 8 * 9 * 36 * 8);
  CpuKernelCode code = k.emit(argsFor(b3.program, b3.gradient, "k9"));
  EXPECT_NE(code.statement.find(", ws);"), std::string::npos) << code.statement;
  code = registry().at("conv2d").emit(argsFor(b3.program, b3.forward, "k8"));
  EXPECT_NE(code.statement.find(", y);"), std::string::npos) << code.statement;
}

TEST(ConvolutionKernels, MalformedCallsEmitACompileError) {
  Case c{"conv2d", {5, 5, 4}, {}, 1, 2, false};
  c.attrs = {{"filters", int64_t(6)}, {"kernel_size", Shape{3, 3}}};
  Built b = build(c);
  KernelCall bad = b.forward;
  bad.operands.resize(1); // no kernel
  CpuKernelCode code =
      registry().at("conv2d").emit(argsFor(b.program, bad, "k3"));
  EXPECT_EQ(
      code.statement.rfind("static_assert(sizeof(T) == 0, \"dlc: conv2d", 0),
      0u)
      << code.statement;
  EXPECT_EQ(registry().at("conv2d_grad").workspaceBytes(b.program, bad, 4), 0);
  // An operand id outside the program.
  KernelCall outOfRange = b.gradient;
  outOfRange.operands[0] = 1000;
  CpuKernelArgs names = argsFor(b.program, b.gradient, "k5");
  CpuKernelArgs outArgs{b.program,     outOfRange, names.operands,
                        names.results, "ws",       "k5"};
  code = registry().at("conv2d_grad").emit(outArgs);
  EXPECT_NE(code.statement.find("static_assert(sizeof(T) == 0"),
            std::string::npos);
  // The well-formed gradient emits a call.
  code = registry().at("conv2d_grad").emit(names);
  EXPECT_EQ(code.statement.rfind("dlk::conv2d_grad<T>(n, k5_dims", 0), 0u)
      << code.statement;
  // A kernel whose channels do not match the input.
  b.program.values[size_t(b.forward.operands[1])].type.shape = {3, 3, 5, 6};
  code = registry().at("conv2d").emit(argsFor(b.program, b.forward, "k4"));
  EXPECT_NE(code.statement.find("static_assert(sizeof(T) == 0"),
            std::string::npos);
}

//===----------------------------------------------------------------------===//
// An emitted snippet, compiled as generated programs are
//===----------------------------------------------------------------------===//

/// Emits forward and gradient of `c` (at n = maxBatch) as a timed block of
/// a C++ main: values are `T` arrays named v<id>.
std::string emitTimedBlock(const Case &c, const std::string &label,
                           double flopsForward, double flopsGradient,
                           std::string &declarations, const std::string &id) {
  Built b = build(c);
  std::ostringstream body;
  body << "  {\n";
  std::vector<std::string> names, vars;
  for (size_t v = 0; v < b.program.values.size(); ++v) {
    const KernelValue &value = b.program.values[v];
    int64_t count = value.type.batched ? c.maxBatch : 1;
    for (int64_t d : value.type.shape)
      count *= d;
    std::string name = "v" + id + "_" + std::to_string(v);
    body << "    std::vector<T> " << name << "(" << count << ");\n"
         << "    fill(" << name << ");\n";
    vars.push_back(name);
    names.push_back(name + ".data()");
  }
  auto emitOne = [&](const KernelCall &call, const std::string &kid) {
    const CpuKernel &k = cpuKernels().at(call.op);
    CpuKernelArgs args{b.program, call, {}, {}, "nullptr", kid};
    for (int v : call.operands)
      args.operands.push_back(names[size_t(v)]);
    for (int v : call.results)
      args.results.push_back(names[size_t(v)]);
    int64_t bytes = k.workspaceBytes ? k.workspaceBytes(b.program, call, 4) : 0;
    std::string ws = "ws" + kid;
    body << "    std::vector<unsigned char> " << ws << "(" << bytes + 1
         << ");\n";
    if (bytes > 0)
      args.workspace = ws + ".data()";
    CpuKernelCode code = k.emit(args);
    declarations += code.declarations;
    return code.statement;
  };
  std::string f = emitOne(b.forward, "k" + id + "f");
  std::string g = emitOne(b.gradient, "k" + id + "g");
  std::vector<std::string> results{vars[size_t(b.forward.results[0])]};
  for (int r : b.gradient.results)
    results.push_back(vars[size_t(r)]);
  body << "    " << f << "\n    " << g << "\n";
  if (flopsForward > 0)
    body << "    double tf = time([&] { " << f << " });\n"
         << "    double tg = time([&] { " << g << " });\n"
         << "    std::printf(\"" << label
         << ": forward %.1f GFLOP/s, gradient %.1f GFLOP/s\\n\", "
         << flopsForward << " / tf / 1e9, " << flopsGradient
         << " / tg / 1e9);\n";
  // The same results with one thread, bit for bit.
  body << "    std::vector<std::vector<T>> multi{";
  for (size_t i = 0; i < results.size(); ++i)
    body << (i ? ", " : "") << results[i];
  body << "};\n    omp_set_num_threads(1);\n    " << f << "\n    " << g
       << "\n    omp_set_num_threads(threads);\n";
  for (size_t i = 0; i < results.size(); ++i)
    body << "    if (!same(multi[" << i << "], " << results[i]
         << ")) { std::printf(\"" << label << ": result " << i
         << " depends on the thread count\\n\"); return 2; }\n";
  if (c.op == "dense") {
    // y[r, u] = bias[u] + sum_k x[r, k] * kernel[k, u], spot-checked.
    int64_t d = c.x.back(), units = getInt(c.attrs, "units", 1);
    body << "    for (int64_t r = 0; r < n; r += 7)\n"
         << "      for (int64_t u = 0; u < " << units << "; u += 5) {\n"
         << "        double sum = " << vars[2] << "[u];\n"
         << "        for (int64_t k = 0; k < " << d << "; ++k)\n"
         << "          sum += double(" << vars[0] << "[r * " << d << " + k]) * "
         << vars[1] << "[k * " << units << " + u];\n"
         << "        if (std::fabs(sum - " << vars[3] << "[r * " << units
         << " + u]) > 1e-3 * (1 + std::fabs(sum))) { std::printf(\"dense "
            "differs from a naive sum\\n\"); return 3; }\n"
         << "      }\n";
  }
  body << "  }\n";
  return body.str();
}

TEST(ConvolutionKernels, EmittedSnippetCompilesAndRuns) {
  const int64_t batch = 64;
  Case dense{"dense", {3136}, {{"units", int64_t(128)}}, batch, batch, false};
  Case conv{"conv2d", {14, 14, 32}, {}, batch, batch, false};
  conv.attrs = {{"filters", int64_t(64)},
                {"kernel_size", Shape{3, 3}},
                {"pad", Shape{1, 1, 1, 1}}};
  Case pool{"maxpool2d", {28, 28, 32}, {}, batch, batch, false};
  pool.attrs = {{"pool_size", Shape{2, 2}}};
  std::string declarations;
  double denseFlops = 2.0 * batch * 3136 * 128;
  double convFlops = 2.0 * batch * 14 * 14 * 288 * 64;
  std::string body =
      emitTimedBlock(dense, "dense 3136x128 batch 64", denseFlops,
                     2 * denseFlops, declarations, "1") +
      emitTimedBlock(conv, "conv2d 14x14x32->64 3x3 batch 64", convFlops,
                     2 * convFlops, declarations, "2") +
      emitTimedBlock(pool, "maxpool2d 28x28x32 batch 64",
                     double(batch) * 14 * 14 * 32 * 4,
                     double(batch) * 14 * 14 * 32 * 4, declarations, "3");
  // Odd shapes, checked for thread-count independence only.
  Case grouped{"conv2d", {13, 11, 6}, {}, batch, batch, false};
  grouped.attrs = {{"filters", int64_t(9)},   {"kernel_size", Shape{3, 2}},
                   {"groups", int64_t(3)},    {"strides", Shape{2, 1}},
                   {"dilation", Shape{1, 2}}, {"pad", Shape{1, 2, 0, 1}}};
  Case transpose{"conv2d_transpose", {7, 5, 12}, {}, batch, batch, false};
  transpose.attrs = {{"filters", int64_t(35)},
                     {"kernel_size", Shape{3, 3}},
                     {"strides", Shape{2, 2}},
                     {"pad", Shape{1, 1, 0, 1}},
                     {"output_padding", Shape{1, 0}}};
  Case separable{"separable_conv2d", {9, 10, 7}, {}, batch, batch, false};
  separable.attrs = {{"filters", int64_t(33)},
                     {"depth_multiplier", int64_t(2)},
                     {"kernel_size", Shape{3, 3}},
                     {"pad", Shape{1, 1, 1, 1}}};
  Case avg{"avgpool2d", {9, 9, 5}, {}, batch, batch, false};
  avg.attrs = {{"pool_size", Shape{3, 3}},
               {"strides", Shape{2, 2}},
               {"pad", Shape{1, 1, 1, 1}}};
  Case global{"global_maxpool2d", {5, 6, 17}, {}, batch, batch, false};
  for (const Case *odd : {&grouped, &transpose, &separable, &avg, &global})
    body += emitTimedBlock(*odd, odd->op, 0, 0, declarations, odd->op);
  std::string program =
      "#include \"codegen/cpu/kernels/Convolution.h\"\n"
      "#include <chrono>\n#include <cmath>\n#include <cstdio>\n"
      "#include <cstring>\n#include <omp.h>\n#include <vector>\n"
      "using T = float;\n" +
      declarations +
      "static void fill(std::vector<T> &v) {\n"
      "  unsigned s = 1;\n"
      "  for (T &x : v) { s = s * 1664525u + 1013904223u;\n"
      "    x = T(int(s >> 9) % 2001 - 1000) / T(1000); }\n"
      "}\n"
      "template <typename F> static double time(F f) {\n"
      "  auto t0 = std::chrono::steady_clock::now(); int reps = 0;\n"
      "  double s = 0;\n"
      "  do { f(); ++reps; s = std::chrono::duration<double>(\n"
      "      std::chrono::steady_clock::now() - t0).count(); }\n"
      "  while (s < 0.3 && reps < 50);\n"
      "  return s / reps;\n"
      "}\n"
      "static bool same(const std::vector<T> &a, const std::vector<T> &b) {\n"
      "  return a.size() == b.size() &&\n"
      "         std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;\n"
      "}\n"
      "int main() {\n"
      "  const int threads = omp_get_max_threads();\n"
      "  const int64_t n = " +
      std::to_string(batch) + ";\n" + body + "  return 0;\n}\n";
  // Named per process: the native build of this test may run beside it.
  std::string dir = ::testing::TempDir();
  std::string stem = dir + "/conv_snippet_" + std::to_string(::getpid());
  std::string source = stem + ".cpp", binary = stem;
  std::ofstream(source) << program;
  std::string compile = "g++ -std=c++17 -O3 -march=native -fopenmp -Wall "
                        "-Wextra -Werror -I" DLC_SOURCE_DIR " " +
                        source + " -o " + binary + " 2>&1";
  FILE *pipe = popen(compile.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char line[512];
  while (std::fgets(line, sizeof(line), pipe))
    output += line;
  ASSERT_EQ(pclose(pipe), 0) << output << "\n" << program;
  pipe = popen(("OMP_NUM_THREADS=2 " + binary + " 2>&1").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  output.clear();
  while (std::fgets(line, sizeof(line), pipe))
    output += line;
  EXPECT_EQ(pclose(pipe), 0) << output;
  std::printf("%s", output.c_str()); // timings: reported, never asserted
  EXPECT_NE(output.find("conv2d 14x14x32->64"), std::string::npos) << output;
  std::remove(source.c_str());
  std::remove(binary.c_str());
}

} // namespace
