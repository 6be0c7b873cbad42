//===- FusedLayerKernelTest.cpp - fused layers and the batchnorm fold -----===//
//
// The kernels of ir/DLFusedLayerOps.td against float64 references composed
// from test/reference (the catalog layer, then the activation; backward:
// the activation's gradient, then the layer's), on random shapes, every
// activation, with and without a bias, T = float (1e-5 of the largest
// reference magnitude) and double (1e-12). The emitter
// (codegen/cpu/FusedLayerKernels.cpp) builds each call for a hand-made
// KernelProgram: its statement is checked as text, its descriptor read
// back from the declaration and its workspace size used as is (guard bytes
// after it must stay untouched). Also: a linear fused layer is
// bit-identical to the plain layer, a relu one to the plain layer + relu,
// and the batchnorm fold equals batchnorm after the layer.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/CpuKernel.h"
#include "codegen/cpu/kernels/Activations.h"
#include "codegen/cpu/kernels/Convolution.h"
#include "ir/FusedActivation.h"
#include "ir/ShapeRules.h"
#include "test/reference/ReferenceOps.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <regex>
#include <string>
#include <type_traits>
#include <vector>

using namespace dlc;
using namespace dlc::codegen;
using dlc::ref::RefTensor;

namespace {

using Tensors = std::vector<RefTensor>;

const CpuKernelRegistry &registry() {
  static const CpuKernelRegistry r = [] {
    CpuKernelRegistry all;
    registerConvolutionKernels(all);
    registerFusedLayerKernels(all);
    return all;
  }();
  return r;
}

int64_t pick(std::mt19937 &rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

const std::vector<std::string> &activations() {
  static const std::vector<std::string> names = {
      "linear", "relu", "sigmoid", "tanh", "leaky_relu", "elu"};
  return names;
}

/// One fused layer application.
struct Case {
  std::string layer; ///< conv2d, depthwise_conv2d, dense
  std::string activation;
  double alpha = 0;
  Shape x;
  Attrs attrs; ///< the layer's, with use_bias
  int64_t n = 1, maxBatch = 1;
};

/// A random valid case of `layer` with `activation`.
Case randomCase(const std::string &layer, const std::string &activation,
                std::mt19937 &rng) {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    Case c;
    c.layer = layer;
    c.activation = activation;
    c.alpha = activation == "leaky_relu" ? 0.3 : 1.0;
    c.maxBatch = pick(rng, 1, 4);
    c.n = pick(rng, 1, c.maxBatch);
    Attrs &a = c.attrs;
    auto two = [&](int64_t lo, int64_t hi) {
      return Shape{pick(rng, lo, hi), pick(rng, lo, hi)};
    };
    auto pads = [&] {
      return Shape{pick(rng, 0, 2), pick(rng, 0, 2), pick(rng, 0, 2),
                   pick(rng, 0, 2)};
    };
    if (layer == "conv2d") {
      int64_t groups = pick(rng, 1, 4) == 4 ? 2 : 1;
      c.x = {pick(rng, 1, 9), pick(rng, 1, 9), groups * pick(rng, 1, 4)};
      a["filters"] = groups * pick(rng, 1, 20);
      a["groups"] = groups;
      bool pointwise = pick(rng, 0, 3) == 0;
      a["kernel_size"] = pointwise ? Shape{1, 1} : two(1, 3);
      a["strides"] = pointwise ? Shape{1, 1} : two(1, 2);
      a["dilation"] = pointwise ? Shape{1, 1} : two(1, 2);
      a["pad"] = pointwise ? Shape{0, 0, 0, 0} : pads();
    } else if (layer == "depthwise_conv2d") {
      c.x = {pick(rng, 1, 8), pick(rng, 1, 8), pick(rng, 1, 6)};
      a["depth_multiplier"] = pick(rng, 1, 2);
      a["kernel_size"] = two(1, 3);
      a["strides"] = two(1, 2);
      a["dilation"] = two(1, 2);
      a["pad"] = pads();
    } else {
      c.x.clear();
      if (pick(rng, 0, 2) == 0)
        c.x.push_back(pick(rng, 1, 3));
      c.x.push_back(pick(rng, 1, 300));
      a["units"] = pick(rng, 1, 40);
    }
    a["use_bias"] = pick(rng, 0, 2) != 0;
    TensorInfo info;
    info.shape = c.x;
    if (inferShapes(layer, {info}, a).ok())
      return c;
  }
  ADD_FAILURE() << "no valid random case for " << layer;
  return Case{};
}

//===----------------------------------------------------------------------===//
// References
//===----------------------------------------------------------------------===//

const ref::RefOp &refOp(const std::string &name) {
  return ref::referenceOps().at(name);
}

RefTensor randomTensor(const Shape &shape, std::mt19937 &rng, double lo = -1,
                       double hi = 1) {
  RefTensor t(shape);
  std::uniform_real_distribution<double> u(lo, hi);
  for (double &v : t.data)
    v = u(rng);
  return t;
}

/// Rounds every element to T, so that the reference sees the kernel's
/// inputs exactly.
template <typename T> void roundTo(RefTensor &t) {
  for (double &v : t.data)
    v = double(T(v));
}

Attrs activationAttrs(const Case &c) {
  Attrs attrs;
  if (activationHasAlpha(c.activation))
    attrs["alpha"] = c.alpha;
  return attrs;
}

/// The reference forward: z = layer(x, params), y = activation(z).
void referenceForward(const Case &c, const RefTensor &x, const Tensors &params,
                      RefTensor &z, RefTensor &y) {
  std::string error;
  Tensors out;
  ASSERT_TRUE(refOp(c.layer).forward({x}, params, c.attrs, out, error))
      << error;
  z = out.at(0);
  if (c.activation == "linear") {
    y = z;
    return;
  }
  Tensors act;
  ASSERT_TRUE(
      refOp(c.activation).forward({z}, {}, activationAttrs(c), act, error))
      << error;
  y = act.at(0);
}

/// The reference backward: dx, then the parameter gradients.
void referenceBackward(const Case &c, const RefTensor &x, const Tensors &params,
                       const RefTensor &z, const RefTensor &y,
                       const RefTensor &dy, Tensors &grads) {
  std::string error;
  RefTensor dz = dy;
  if (c.activation != "linear") {
    Tensors inGrads, paramGrads;
    ASSERT_TRUE(refOp(c.activation)
                    .backward({z}, {}, activationAttrs(c), {y}, {dy}, inGrads,
                              paramGrads, error))
        << error;
    dz = inGrads.at(0);
  }
  Tensors inGrads, paramGrads;
  ASSERT_TRUE(refOp(c.layer).backward({x}, params, c.attrs, {z}, {dz}, inGrads,
                                      paramGrads, error))
      << error;
  grads = {inGrads.at(0)};
  grads.insert(grads.end(), paramGrads.begin(), paramGrads.end());
}

//===----------------------------------------------------------------------===//
// The emitted calls
//===----------------------------------------------------------------------===//

/// The program of one case: x, kernel, [bias], y, dy, dx, dkernel, [dbias],
/// a fused_<layer> call and a fused_<layer>_grad call.
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
  b.y = inferShapes(c.layer, {info}, c.attrs).results.at(0).shape;
  for (const ParamSpec &spec : paramSpecs(c.layer, {info}, c.attrs))
    b.params.push_back(spec.shape);
  b.program.modelName = "m";
  b.program.maxBatch = c.maxBatch;
  auto add = [&](const Shape &shape, bool batched, const std::string &name) {
    KernelValue v;
    v.type.shape = shape;
    v.type.batched = batched;
    v.name = name;
    b.program.values.push_back(v);
    return int(b.program.values.size() - 1);
  };
  int x = add(c.x, true, "x");
  std::vector<int> params, dparams;
  for (size_t i = 0; i < b.params.size(); ++i)
    params.push_back(add(b.params[i], false, "p" + std::to_string(i)));
  int y = add(b.y, true, "y");
  int dy = add(b.y, true, "dy");
  int dx = add(c.x, true, "dx");
  for (size_t i = 0; i < b.params.size(); ++i)
    dparams.push_back(add(b.params[i], false, "dp" + std::to_string(i)));
  Attrs attrs = c.attrs;
  attrs.erase("use_bias");
  attrs["activation"] = c.activation;
  if (activationHasAlpha(c.activation))
    attrs["alpha"] = c.alpha;
  b.forward.op = "fused_" + c.layer;
  b.forward.attrs = attrs;
  b.forward.operands = {x};
  b.forward.operands.insert(b.forward.operands.end(), params.begin(),
                            params.end());
  b.forward.results = {y};
  b.gradient.op = b.forward.op + "_grad";
  b.gradient.attrs = attrs;
  b.gradient.operands = b.forward.operands;
  b.gradient.operands.push_back(y);
  b.gradient.operands.push_back(dy);
  b.gradient.results = {dx};
  b.gradient.results.insert(b.gradient.results.end(), dparams.begin(),
                            dparams.end());
  return b;
}

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
  std::string body = text.substr(brace);
  std::regex number(R"(-?\d+)");
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

/// The statement the emitter should give for `call` of case `c`.
std::string expectedStatement(const Case &c, const Built &b,
                              const KernelCall &call, bool grad) {
  std::string s = "dlk::" + call.op + "<T, " +
                  activationEnumerator(c.activation) + ">(n, k1_dims, ";
  s += activationHasAlpha(c.activation)
           ? (c.activation == "leaky_relu" ? "0.29999999999999999" : "1.0")
           : "0.0";
  s += ", x, p0";
  bool bias = b.params.size() == 2;
  s += bias ? ", p1" : ", nullptr";
  if (grad) {
    s += ", y, dy, dx, dp0";
    s += bias ? ", dp1" : ", nullptr";
    s += ", ws";
  } else {
    s += ", y"; // the forward takes no workspace
  }
  return s + ");";
}

//===----------------------------------------------------------------------===//
// Running the kernels
//===----------------------------------------------------------------------===//

constexpr double kMarker = 4242.5;
constexpr unsigned char kGuard = 0xA5;
constexpr size_t kGuardBytes = 256;

/// A buffer of `total` elements whose first `used` come from `t` (or are
/// the marker, for results); the rest keep the marker.
template <typename T> struct Buffer {
  std::vector<T> data;
  int64_t used = 0;
  T *ptr() { return data.data(); }
};

template <typename T>
Buffer<T> filled(const RefTensor *t, int64_t used, int64_t total) {
  Buffer<T> b;
  b.data.assign(size_t(total + 1), T(kMarker));
  b.used = used;
  if (t)
    for (int64_t i = 0; i < used; ++i)
      b.data[size_t(i)] = T(t->data[size_t(i)]);
  return b;
}

/// Checks `got` against `ref` relative to the largest reference magnitude
/// (at least 1), and that nothing past it was written.
template <typename T>
void expectClose(const Buffer<T> &got, const RefTensor &ref,
                 const std::string &what) {
  const double tolerance = std::is_same<T, double>::value ? 1e-12 : 1e-5;
  double scale = 1.0;
  for (double v : ref.data)
    scale = std::max(scale, std::fabs(v));
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

/// A 64-byte aligned workspace of `bytes` followed by guard bytes.
struct Workspace {
  explicit Workspace(int64_t bytes) : bytes(size_t(bytes)) {
    size_t total = (this->bytes + kGuardBytes + 63) / 64 * 64;
    data = static_cast<unsigned char *>(std::aligned_alloc(64, total));
    std::memset(data, kGuard, total);
  }
  ~Workspace() { std::free(data); }
  Workspace(const Workspace &) = delete;
  Workspace &operator=(const Workspace &) = delete;
  bool guardIntact() const {
    for (size_t i = bytes; i < bytes + kGuardBytes; ++i)
      if (data[i] != kGuard)
        return false;
    return true;
  }
  size_t bytes;
  unsigned char *data;
};

/// Calls `f` with the dlk::Activation of `name` as a compile-time constant.
template <typename F> void withActivation(const std::string &name, F f) {
  using A = dlk::Activation;
  if (name == "relu")
    f(std::integral_constant<A, A::Relu>{});
  else if (name == "sigmoid")
    f(std::integral_constant<A, A::Sigmoid>{});
  else if (name == "tanh")
    f(std::integral_constant<A, A::Tanh>{});
  else if (name == "leaky_relu")
    f(std::integral_constant<A, A::LeakyRelu>{});
  else if (name == "elu")
    f(std::integral_constant<A, A::Elu>{});
  else
    f(std::integral_constant<A, A::Linear>{});
}

/// Pointers of one call.
template <typename T> struct Pointers {
  const T *x = nullptr, *kernel = nullptr, *bias = nullptr;
  T *y = nullptr;
  const T *dy = nullptr;
  T *dx = nullptr, *dkernel = nullptr, *dbias = nullptr;
  unsigned char *ws = nullptr;
};

template <typename T>
void runFused(const Case &c, bool grad, const std::vector<int64_t> &dims,
              const Pointers<T> &p) {
  const double alpha = c.alpha;
  withActivation(c.activation, [&](auto tag) {
    constexpr dlk::Activation A = decltype(tag)::value;
    if (c.layer == "conv2d") {
      auto d = toDims<dlk::Conv2dDims>(dims);
      if (grad)
        dlk::fused_conv2d_grad<T, A>(c.n, d, alpha, p.x, p.kernel, p.bias, p.y,
                                     p.dy, p.dx, p.dkernel, p.dbias, p.ws);
      else
        dlk::fused_conv2d<T, A>(c.n, d, alpha, p.x, p.kernel, p.bias, p.y);
    } else if (c.layer == "depthwise_conv2d") {
      auto d = toDims<dlk::DepthwiseConv2dDims>(dims);
      if (grad)
        dlk::fused_depthwise_conv2d_grad<T, A>(c.n, d, alpha, p.x, p.kernel,
                                               p.bias, p.y, p.dy, p.dx,
                                               p.dkernel, p.dbias, p.ws);
      else
        dlk::fused_depthwise_conv2d<T, A>(c.n, d, alpha, p.x, p.kernel, p.bias,
                                          p.y);
    } else {
      auto d = toDims<dlk::DenseDims>(dims);
      if (grad)
        dlk::fused_dense_grad<T, A>(c.n, d, alpha, p.x, p.kernel, p.bias, p.y,
                                    p.dy, p.dx, p.dkernel, p.dbias, p.ws);
      else
        dlk::fused_dense<T, A>(c.n, d, alpha, p.x, p.kernel, p.bias, p.y);
    }
  });
}

/// Runs one case forward and backward in T against the reference;
/// `skip` drops gradient results (bit 0: dx, bit 1: dkernel, bit 2: dbias).
template <typename T>
void checkCase(const Case &c, std::mt19937 &rng, unsigned skip) {
  const std::string what = c.layer + "/" + c.activation + " x" +
                           formatShape(c.x) +
                           (getBool(c.attrs, "use_bias", false) ? " bias" : "");
  SCOPED_TRACE(what);
  Built b = build(c);
  const CpuKernel &forwardKernel = registry().at(b.forward.op);
  const CpuKernel &gradientKernel = registry().at(b.gradient.op);
  CpuKernelCode fcode = forwardKernel.emit(argsFor(b.program, b.forward, "k1"));
  CpuKernelCode gcode =
      gradientKernel.emit(argsFor(b.program, b.gradient, "k1"));
  const int64_t fbytes =
      forwardKernel.workspaceBytes
          ? forwardKernel.workspaceBytes(b.program, b.forward, sizeof(T))
          : 0;
  const int64_t gbytes =
      gradientKernel.workspaceBytes
          ? gradientKernel.workspaceBytes(b.program, b.gradient, sizeof(T))
          : 0;
  EXPECT_EQ(fcode.statement, expectedStatement(c, b, b.forward, false));
  EXPECT_EQ(gcode.statement, expectedStatement(c, b, b.gradient, true));
  EXPECT_EQ(fcode.declarations, gcode.declarations);
  std::vector<int64_t> dims = parseDims(fcode.declarations);

  // Inputs, rounded to T; dy of the batch.
  RefTensor x = randomTensor(
      [&] {
        Shape s{c.n};
        s.insert(s.end(), c.x.begin(), c.x.end());
        return s;
      }(),
      rng);
  roundTo<T>(x);
  Tensors params;
  for (const Shape &shape : b.params) {
    params.push_back(randomTensor(shape, rng, -0.5, 0.5));
    roundTo<T>(params.back());
  }
  RefTensor z, y;
  referenceForward(c, x, params, z, y);
  RefTensor dy = randomTensor(y.shape, rng);
  roundTo<T>(dy);

  const int64_t perExampleIn = x.size() / c.n, perExampleOut = y.size() / c.n;
  auto xb = filled<T>(&x, x.size(), c.maxBatch * perExampleIn);
  auto kb = filled<T>(&params[0], params[0].size(), params[0].size());
  Buffer<T> biasb;
  if (params.size() == 2)
    biasb = filled<T>(&params[1], params[1].size(), params[1].size());
  auto yb = filled<T>(nullptr, y.size(), c.maxBatch * perExampleOut);

  Workspace fws(fbytes);
  Pointers<T> p;
  p.x = xb.ptr();
  p.kernel = kb.ptr();
  p.bias = params.size() == 2 ? biasb.ptr() : nullptr;
  p.y = yb.ptr();
  p.ws = fbytes > 0 ? fws.data : nullptr;
  runFused<T>(c, false, dims, p);
  expectClose(yb, y, "y");
  EXPECT_TRUE(fws.guardIntact()) << "forward workspace overrun";

  // The backward reads the reference y (rounded to T), as the kernel would
  // read the fused forward's output.
  RefTensor yT = y;
  roundTo<T>(yT);
  Tensors grads;
  referenceBackward(c, x, params, z, yT, dy, grads);
  auto yin = filled<T>(&yT, yT.size(), c.maxBatch * perExampleOut);
  auto dyb = filled<T>(&dy, dy.size(), c.maxBatch * perExampleOut);
  auto dxb = filled<T>(nullptr, x.size(), c.maxBatch * perExampleIn);
  auto dkb = filled<T>(nullptr, params[0].size(), params[0].size());
  Buffer<T> dbb;
  if (params.size() == 2)
    dbb = filled<T>(nullptr, params[1].size(), params[1].size());
  Workspace gws(gbytes);
  Pointers<T> g;
  g.x = xb.ptr();
  g.kernel = kb.ptr();
  g.bias = p.bias;
  g.y = yin.ptr();
  g.dy = dyb.ptr();
  g.dx = (skip & 1) ? nullptr : dxb.ptr();
  g.dkernel = (skip & 2) ? nullptr : dkb.ptr();
  g.dbias = (params.size() == 2 && !(skip & 4)) ? dbb.ptr() : nullptr;
  g.ws = gbytes > 0 ? gws.data : nullptr;
  runFused<T>(c, true, dims, g);
  EXPECT_TRUE(gws.guardIntact()) << "gradient workspace overrun";
  if (g.dx)
    expectClose(dxb, grads[0], "dx");
  else
    EXPECT_EQ(dxb.data[0], T(kMarker)) << "skipped dx was written";
  if (g.dkernel)
    expectClose(dkb, grads[1], "dkernel");
  else
    EXPECT_EQ(dkb.data[0], T(kMarker)) << "skipped dkernel was written";
  if (g.dbias)
    expectClose(dbb, grads[2], "dbias");
}

//===----------------------------------------------------------------------===//
// Tests
//===----------------------------------------------------------------------===//

TEST(FusedLayerKernels, RegisteredInTheCpuRegistry) {
  for (const char *op :
       {"fused_conv2d", "fused_conv2d_grad", "fused_depthwise_conv2d",
        "fused_depthwise_conv2d_grad", "fused_dense", "fused_dense_grad",
        "fold_batchnorm"})
    EXPECT_TRUE(cpuKernels().count(op)) << op;
}

TEST(FusedLayerKernels, RandomShapesMatchReference) {
  std::mt19937 rng(1234);
  for (const char *layer : {"conv2d", "depthwise_conv2d", "dense"})
    for (const std::string &activation : activations())
      for (int i = 0; i < 4; ++i) {
        Case c = randomCase(layer, activation, rng);
        unsigned skip = i == 3 ? unsigned(pick(rng, 1, 6)) : 0;
        checkCase<double>(c, rng, skip);
        checkCase<float>(c, rng, skip);
      }
}

TEST(FusedLayerKernels, LargerShapesMatchReference) {
  std::mt19937 rng(99);
  Case conv;
  conv.layer = "conv2d";
  conv.x = {14, 14, 32};
  conv.attrs = {{"filters", int64_t(64)},
                {"groups", int64_t(1)},
                {"kernel_size", Shape{3, 3}},
                {"strides", Shape{1, 1}},
                {"dilation", Shape{1, 1}},
                {"pad", Shape{1, 1, 1, 1}},
                {"use_bias", true}};
  conv.n = conv.maxBatch = 3;
  Case dense;
  dense.layer = "dense";
  dense.x = {700};
  dense.attrs = {{"units", int64_t(130)}, {"use_bias", true}};
  dense.n = 37;
  dense.maxBatch = 40;
  for (Case c : {conv, dense})
    for (const char *activation : {"relu", "sigmoid"}) {
      c.activation = activation;
      checkCase<float>(c, rng, 0);
      checkCase<double>(c, rng, 0);
    }
}

/// A linear fused layer is bit-identical to the plain layer, and a relu
/// one to the plain layer followed by the relu kernel.
template <typename T> void checkBitIdentical() {
  std::mt19937 rng(7);
  const int64_t n = 9;
  const dlk::DenseDims d{1, 300, 70};
  std::vector<T> x(size_t(n * d.d)), k(size_t(d.d * d.units)),
      bias(size_t(d.units));
  std::uniform_real_distribution<double> u(-1, 1);
  for (auto *v : {&x, &k, &bias})
    for (T &e : *v)
      e = T(u(rng));
  const size_t out = size_t(n * d.units);
  std::vector<T> plain(out), relu(out), fused(out);
  dlk::dense<T>(n, d, x.data(), k.data(), bias.data(), plain.data());
  dlk::fused_dense<T, dlk::Activation::Linear>(n, d, 0.0, x.data(), k.data(),
                                               bias.data(), fused.data());
  EXPECT_EQ(0, std::memcmp(plain.data(), fused.data(), out * sizeof(T)));
  dlk::relu<T>(n, dlk::ElementwiseDims{d.units, 0.0}, plain.data(),
               relu.data());
  dlk::fused_dense<T, dlk::Activation::Relu>(n, d, 0.0, x.data(), k.data(),
                                             bias.data(), fused.data());
  EXPECT_EQ(0, std::memcmp(relu.data(), fused.data(), out * sizeof(T)));

  const dlk::Conv2dDims c{8, 8, 5, 8, 8, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2};
  const size_t inSize = 8 * 8 * 5, outSize = 8 * 8 * 12;
  std::vector<T> cx(size_t(n) * inSize), ck(3 * 3 * 5 * 12), cb(12);
  for (auto *v : {&cx, &ck, &cb})
    for (T &e : *v)
      e = T(u(rng));
  std::vector<T> cplain(size_t(n) * outSize), cfused(size_t(n) * outSize),
      crelu(size_t(n) * outSize);
  dlk::conv2d<T>(n, c, cx.data(), ck.data(), cb.data(), cplain.data());
  dlk::fused_conv2d<T, dlk::Activation::Linear>(n, c, 0.0, cx.data(), ck.data(),
                                                cb.data(), cfused.data());
  EXPECT_EQ(
      0, std::memcmp(cplain.data(), cfused.data(), cplain.size() * sizeof(T)));
  dlk::relu<T>(n, dlk::ElementwiseDims{int64_t(outSize), 0.0}, cplain.data(),
               crelu.data());
  dlk::fused_conv2d<T, dlk::Activation::Relu>(n, c, 0.0, cx.data(), ck.data(),
                                              cb.data(), cfused.data());
  EXPECT_EQ(0,
            std::memcmp(crelu.data(), cfused.data(), crelu.size() * sizeof(T)));
}

TEST(FusedLayerKernels, LinearAndReluAreBitIdenticalToTheUnfusedOps) {
  checkBitIdentical<float>();
  checkBitIdentical<double>();
}

/// fold_batchnorm: layer(x, k2, b2) equals batchnorm(layer(x, k, b)) in
/// inference mode, for the three layers' kernel layouts.
template <typename T> void checkFold(const Case &c, std::mt19937 &rng) {
  SCOPED_TRACE(c.layer + " x" + formatShape(c.x));
  TensorInfo info;
  info.shape = c.x;
  std::vector<ParamSpec> specs = paramSpecs(c.layer, {info}, c.attrs);
  Shape yShape = inferShapes(c.layer, {info}, c.attrs).results.at(0).shape;
  const int64_t channels = yShape.back();
  Shape xShape{c.n};
  xShape.insert(xShape.end(), c.x.begin(), c.x.end());
  RefTensor x = randomTensor(xShape, rng);
  Tensors params;
  for (const ParamSpec &spec : specs)
    params.push_back(randomTensor(spec.shape, rng, -0.5, 0.5));
  RefTensor gamma = randomTensor({channels}, rng, 0.5, 1.5);
  RefTensor beta = randomTensor({channels}, rng);
  RefTensor mean = randomTensor({channels}, rng, -0.3, 0.3);
  RefTensor var = randomTensor({channels}, rng, 0.2, 2.0);
  for (RefTensor *t : {&x, &gamma, &beta, &mean, &var})
    roundTo<T>(*t);
  for (RefTensor &t : params)
    roundTo<T>(t);
  const double epsilon = 1e-3;

  // The reference: batchnorm after the layer.
  std::string error;
  Tensors z, y;
  ASSERT_TRUE(refOp(c.layer).forward({x}, params, c.attrs, z, error)) << error;
  Attrs bn{{"epsilon", epsilon}, {"momentum", 0.99}};
  ASSERT_TRUE(refOp("batchnorm")
                  .forward({z[0]}, {gamma, beta, mean, var}, bn, y, error))
      << error;

  // The fold in T, then the layer with the folded kernel and bias.
  const RefTensor &kernel = params[0];
  const bool bias = params.size() == 2;
  std::vector<T> k(kernel.data.begin(), kernel.data.end());
  std::vector<T> b =
      bias ? std::vector<T>(params[1].data.begin(), params[1].data.end())
           : std::vector<T>();
  auto toT = [](const RefTensor &t) {
    return std::vector<T>(t.data.begin(), t.data.end());
  };
  std::vector<T> g = toT(gamma), be = toT(beta), m = toT(mean), v = toT(var);
  std::vector<T> k2(k.size(), T(kMarker));
  std::vector<T> b2(static_cast<size_t>(channels), T(kMarker));
  dlk::FoldBatchNormDims d{kernel.size() / channels, channels, epsilon};
  dlk::fold_batchnorm<T>(d, k.data(), g.data(), be.data(), m.data(), v.data(),
                         bias ? b.data() : nullptr, k2.data(), b2.data());
  RefTensor fk(kernel.shape), fb({channels});
  fk.data.assign(k2.begin(), k2.end());
  fb.data.assign(b2.begin(), b2.end());
  Attrs withBias = c.attrs;
  withBias["use_bias"] = true;
  Tensors folded;
  ASSERT_TRUE(refOp(c.layer).forward({x}, {fk, fb}, withBias, folded, error))
      << error;
  Buffer<T> got;
  got.data.assign(folded[0].data.begin(), folded[0].data.end());
  got.used = folded[0].size();
  expectClose(got, y[0], "folded layer");
}

TEST(FusedLayerKernels, FoldBatchNormEqualsBatchNormAfterTheLayer) {
  std::mt19937 rng(4321);
  for (const char *layer : {"conv2d", "depthwise_conv2d", "dense"})
    for (int i = 0; i < 5; ++i) {
      Case c = randomCase(layer, "linear", rng);
      checkFold<double>(c, rng);
      checkFold<float>(c, rng);
    }
}

TEST(FusedLayerKernels, FoldBatchNormEmitsItsCall) {
  KernelProgram program;
  program.maxBatch = 4;
  auto add = [&](const Shape &shape, const std::string &name) {
    KernelValue v;
    v.type.shape = shape;
    v.type.batched = false;
    v.name = name;
    program.values.push_back(v);
    return int(program.values.size() - 1);
  };
  KernelCall call;
  call.op = "fold_batchnorm";
  call.attrs["epsilon"] = 1e-3;
  call.operands = {add({3, 3, 2, 6}, "k"), add({6}, "g"), add({6}, "b"),
                   add({6}, "m"), add({6}, "v")};
  call.results = {add({3, 3, 2, 6}, "k2"), add({6}, "b2")};
  const CpuKernel &kernel = registry().at("fold_batchnorm");
  CpuKernelCode code = kernel.emit(argsFor(program, call, "k4"));
  EXPECT_EQ(code.declarations,
            "static constexpr dlk::FoldBatchNormDims k4_dims{/*rows=*/18, "
            "/*channels=*/6, /*epsilon=*/0.001};\n");
  EXPECT_EQ(code.statement,
            "dlk::fold_batchnorm<T>(k4_dims, k, g, b, m, v, nullptr, k2, b2);");
  // With the layer's bias; a kernel whose channels do not fit is refused.
  call.operands.push_back(add({6}, "bias"));
  code = kernel.emit(argsFor(program, call, "k4"));
  EXPECT_EQ(code.statement,
            "dlk::fold_batchnorm<T>(k4_dims, k, g, b, m, v, bias, k2, b2);");
  call.operands[0] = add({3, 3, 2, 5}, "bad");
  code = kernel.emit(argsFor(program, call, "k4"));
  EXPECT_NE(code.statement.find("static_assert"), std::string::npos);
}

TEST(FusedLayerKernels, MalformedCallsEmitACompileError) {
  std::mt19937 rng(5);
  Case c = randomCase("dense", "relu", rng);
  Built b = build(c);
  b.forward.attrs["activation"] = std::string("softmax");
  CpuKernelCode code =
      registry().at("fused_dense").emit(argsFor(b.program, b.forward, "k1"));
  EXPECT_NE(code.statement.find("static_assert"), std::string::npos);
  EXPECT_NE(code.statement.find("unknown activation"), std::string::npos);
  b.gradient.operands.pop_back();
  code = registry()
             .at("fused_dense_grad")
             .emit(argsFor(b.program, b.gradient, "k1"));
  EXPECT_NE(code.statement.find("static_assert"), std::string::npos);
}

/// The gradient reads y only for a non-linear activation, x only for
/// dkernel, the kernel only for dx, never the bias.
TEST(FusedLayerKernels, GradientReadsOnlyWhatItNeeds) {
  std::mt19937 rng(11);
  Case c = randomCase("dense", "relu", rng);
  c.attrs["use_bias"] = true;
  Built b = build(c);
  const CpuKernel &kernel = registry().at("fused_dense_grad");
  ASSERT_NE(kernel.readsOperand, nullptr);
  // operands: x, kernel, bias, y, dy; results: dx, dkernel, dbias
  std::vector<bool> all{true, true, true}, onlyDx{true, false, false};
  EXPECT_TRUE(kernel.readsOperand(b.gradient, 0, all));
  EXPECT_FALSE(kernel.readsOperand(b.gradient, 0, onlyDx));
  EXPECT_TRUE(kernel.readsOperand(b.gradient, 1, onlyDx));
  EXPECT_FALSE(kernel.readsOperand(b.gradient, 2, all));
  EXPECT_TRUE(kernel.readsOperand(b.gradient, 3, all));
  EXPECT_TRUE(kernel.readsOperand(b.gradient, 4, all));
  b.gradient.attrs["activation"] = std::string("linear");
  EXPECT_FALSE(kernel.readsOperand(b.gradient, 3, all));
}

} // namespace
