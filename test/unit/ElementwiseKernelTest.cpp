//===- ElementwiseKernelTest.cpp - elementwise-family CPU kernels ---------===//
//
// Every kernel of codegen/cpu/kernels/Elementwise.h, forward and backward,
// against the float64 reference ops (test/reference) on random shapes and
// attributes for several seeds, with a batch n smaller than the buffers'
// maxBatch (the rows past n must stay untouched): T = double to 1e-9 and
// T = float to 1e-4 (normwise relative). Also: batchnorm_train's statistics
// against a direct computation, the dropout mask at steps 0 and 1, null
// results skipped, in-place runs, out-of-range ids and labels, and the
// emitters' text on a hand-built KernelProgram (which must compile).
//
//===----------------------------------------------------------------------===//
#include "codegen/cpu/CpuKernel.h"
#include "codegen/cpu/kernels/Elementwise.h"
#include "codegen/cpu/kernels/StepContext.h"
#include "runtime/Philox.h"
#include "test/reference/ReferenceOps.h"
#include "test/unit/KernelEmitterHarness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using namespace dlc;
using dlc::ref::RefTensor;

namespace {

using Tensors = std::vector<RefTensor>;

//===----------------------------------------------------------------------===//
// Harness
//===----------------------------------------------------------------------===//

template <typename T> constexpr double tolerance() {
  return sizeof(T) == sizeof(double) ? 1e-9 : 1e-4;
}

/// Written into result buffers first: rows past n must keep it.
constexpr double kSentinel = 12345.0;

const ref::RefOp &refOp(const std::string &name) {
  return ref::referenceOps().at(name);
}

Tensors forward(const std::string &name, const Tensors &inputs,
                const Tensors &params, const Attrs &attrs) {
  Tensors outputs;
  std::string error;
  EXPECT_TRUE(refOp(name).forward(inputs, params, attrs, outputs, error))
      << name << ": " << error;
  return outputs;
}

/// The reference backward: input grads then param grads, concatenated.
Tensors backward(const std::string &name, const Tensors &inputs,
                 const Tensors &params, const Attrs &attrs,
                 const Tensors &outputs, const RefTensor &dy) {
  Tensors inputGrads, paramGrads;
  std::string error;
  EXPECT_TRUE(refOp(name).backward(inputs, params, attrs, outputs, {dy},
                                   inputGrads, paramGrads, error))
      << name << ": " << error;
  inputGrads.insert(inputGrads.end(), paramGrads.begin(), paramGrads.end());
  return inputGrads;
}

int64_t product(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

template <typename T> struct Harness {
  std::mt19937 rng;
  int64_t maxBatch;
  int64_t n;

  explicit Harness(unsigned seed) : rng(seed) {
    maxBatch = pick(2, 5);
    n = pick(1, maxBatch - 1);
  }

  int64_t pick(int64_t low, int64_t high) {
    return std::uniform_int_distribution<int64_t>(low, high)(rng);
  }
  double uniform(double low, double high) {
    return std::uniform_real_distribution<double>(low, high)(rng);
  }

  /// A random per-example shape of rank in [minRank, maxRank].
  Shape shape(size_t minRank, size_t maxRank, int64_t maxDim = 5) {
    Shape s(pick(minRank, maxRank));
    for (int64_t &d : s)
      d = pick(1, maxDim);
    return s;
  }

  /// A tensor of `shape` (batch included if `batched`) of values in
  /// [low, high], each exactly representable in T.
  RefTensor random(const Shape &perExample, double low, double high,
                   bool batched = true) {
    Shape full = perExample;
    if (batched)
      full.insert(full.begin(), n);
    RefTensor t(full);
    for (double &v : t.data)
      v = static_cast<double>(static_cast<T>(uniform(low, high)));
    return t;
  }

  /// A kernel buffer holding `t` (a batched tensor takes maxBatch rows; the
  /// rows past n hold the sentinel).
  std::vector<T> buffer(const RefTensor &t, bool batched = true) {
    int64_t capacity = batched ? t.size() / n * maxBatch : t.size();
    std::vector<T> b(capacity, static_cast<T>(kSentinel));
    for (int64_t i = 0; i < t.size(); ++i)
      b[i] = static_cast<T>(t.data[i]);
    return b;
  }

  /// A result buffer for a value of `perExample` elements.
  std::vector<T> result(int64_t perExample, bool batched = true) {
    return std::vector<T>(batched ? perExample * maxBatch : perExample,
                          static_cast<T>(kSentinel));
  }

  /// Compares `got` with `want` normwise, and checks the rows past n.
  void check(const std::vector<T> &got, const RefTensor &want,
             const std::string &what) {
    ASSERT_GE(static_cast<int64_t>(got.size()), want.size()) << what;
    double scale = 1e-6; // the floor when every wanted value is ~0
    for (double w : want.data)
      scale = std::max(scale, std::fabs(w));
    double worst = 0;
    int64_t worstAt = -1;
    for (int64_t i = 0; i < want.size(); ++i) {
      double err = std::fabs(static_cast<double>(got[i]) - want.data[i]);
      if (!(err <= worst)) {
        worst = err;
        worstAt = i;
      }
    }
    EXPECT_LE(worst, tolerance<T>() * scale)
        << what << ": element " << worstAt << " is " << got[worstAt]
        << ", want " << want.data[worstAt];
    for (size_t i = want.size(); i < got.size(); ++i)
      if (got[i] != static_cast<T>(kSentinel)) {
        ADD_FAILURE() << what << ": wrote past the batch at " << i;
        break;
      }
  }
};

template <typename T> class ElementwiseKernel : public ::testing::Test {};
using ElementTypes = ::testing::Types<double, float>;
TYPED_TEST_SUITE(ElementwiseKernel, ElementTypes);

constexpr unsigned kSeeds[] = {1, 2, 3, 4, 5, 6};

/// Drop some optional results in odd seeds.
bool dropOptional(unsigned seed) { return seed % 2 == 1; }

template <typename T> T *orNull(std::vector<T> &b, bool keep) {
  return keep ? b.data() : nullptr;
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

template <typename T> struct UnaryKernel {
  const char *name;
  void (*forward)(int64_t, const dlk::ElementwiseDims &, const T *, T *);
  void (*backward)(int64_t, const dlk::ElementwiseDims &, const T *, const T *,
                   const T *, T *);
};

template <typename T> std::vector<UnaryKernel<T>> unaryKernels() {
  return {{"relu", dlk::relu<T>, dlk::relu_grad<T>},
          {"sigmoid", dlk::sigmoid<T>, dlk::sigmoid_grad<T>},
          {"tanh", dlk::tanh<T>, dlk::tanh_grad<T>},
          {"abs", dlk::abs<T>, dlk::abs_grad<T>},
          {"leaky_relu", dlk::leaky_relu<T>, dlk::leaky_relu_grad<T>},
          {"elu", dlk::elu<T>, dlk::elu_grad<T>}};
}

TYPED_TEST(ElementwiseKernel, Activations) {
  using T = TypeParam;
  for (const UnaryKernel<T> &k : unaryKernels<T>())
    for (unsigned seed : kSeeds) {
      Harness<T> h(seed);
      Shape shape = h.shape(1, 3);
      Attrs attrs;
      double alpha = h.uniform(0.05, 1.5);
      attrs["alpha"] = alpha;
      dlk::ElementwiseDims dims{product(shape), alpha};
      RefTensor x = h.random(shape, -4, 4);
      Tensors out = forward(k.name, {x}, {}, attrs);
      RefTensor dy = h.random(shape, -1, 1);
      Tensors grads = backward(k.name, {x}, {}, attrs, out, dy);
      std::string what = std::string(k.name) + " seed " + std::to_string(seed);

      std::vector<T> xb = h.buffer(x), y = h.result(dims.size);
      k.forward(h.n, dims, xb.data(), y.data());
      h.check(y, out[0], what + " forward");
      std::vector<T> dyb = h.buffer(dy), dx = h.result(dims.size);
      k.backward(h.n, dims, xb.data(), y.data(), dyb.data(), dx.data());
      h.check(dx, grads[0], what + " backward");

      // In place: y over x, dx over dy.
      k.forward(h.n, dims, xb.data(), xb.data());
      h.check(xb, out[0], what + " forward in place");
      std::vector<T> x2 = h.buffer(x);
      k.backward(h.n, dims, x2.data(), y.data(), dyb.data(), dyb.data());
      h.check(dyb, grads[0], what + " backward in place");
      k.backward(h.n, dims, x2.data(), y.data(), dyb.data(), nullptr);
    }
}

TYPED_TEST(ElementwiseKernel, Softmax) {
  using T = TypeParam;
  for (unsigned seed : kSeeds) {
    Harness<T> h(seed);
    Shape shape = h.shape(1, 3);
    int64_t rank = static_cast<int64_t>(shape.size());
    int64_t axis = h.pick(-rank, rank - 1);
    Attrs attrs{{"axis", axis}};
    size_t a = static_cast<size_t>(axis < 0 ? axis + rank : axis);
    dlk::SoftmaxDims dims{1, shape[a], 1};
    for (size_t i = 0; i < shape.size(); ++i)
      (i < a ? dims.outer : dims.inner) *= i == a ? 1 : shape[i];
    RefTensor x = h.random(shape, -5, 5);
    Tensors out = forward("softmax", {x}, {}, attrs);
    RefTensor dy = h.random(shape, -1, 1);
    Tensors grads = backward("softmax", {x}, {}, attrs, out, dy);
    std::string what = "softmax seed " + std::to_string(seed);

    std::vector<T> xb = h.buffer(x), y = h.result(product(shape));
    dlk::softmax<T>(h.n, dims, xb.data(), y.data());
    h.check(y, out[0], what);
    std::vector<T> dyb = h.buffer(dy), dx = h.result(product(shape));
    dlk::softmax_grad<T>(h.n, dims, xb.data(), y.data(), dyb.data(), dx.data());
    h.check(dx, grads[0], what + " grad");
    dlk::softmax<T>(h.n, dims, xb.data(), xb.data());
    h.check(xb, out[0], what + " in place");
    dlk::softmax_grad<T>(h.n, dims, xb.data(), y.data(), dyb.data(),
                         dyb.data());
    h.check(dyb, grads[0], what + " grad in place");
  }
}

//===----------------------------------------------------------------------===//
// Merges and shape ops
//===----------------------------------------------------------------------===//

TYPED_TEST(ElementwiseKernel, BinaryMerges) {
  using T = TypeParam;
  using Forward = void (*)(int64_t, const dlk::ElementwiseDims &, const T *,
                           const T *, T *);
  using Backward = void (*)(int64_t, const dlk::ElementwiseDims &, const T *,
                            const T *, const T *, const T *, T *, T *);
  struct Case {
    const char *name;
    Forward forward;
    Backward backward; // null for add (its gradient is routing)
  };
  const Case cases[] = {{"add", dlk::add<T>, nullptr},
                        {"subtract", dlk::subtract<T>, dlk::subtract_grad<T>},
                        {"multiply", dlk::multiply<T>, dlk::multiply_grad<T>}};
  for (const Case &k : cases)
    for (unsigned seed : kSeeds) {
      Harness<T> h(seed);
      Shape shape = h.shape(1, 3);
      dlk::ElementwiseDims dims{product(shape), 0};
      RefTensor a = h.random(shape, -3, 3), b = h.random(shape, -3, 3);
      Tensors out = forward(k.name, {a, b}, {}, {});
      RefTensor dy = h.random(shape, -1, 1);
      Tensors grads = backward(k.name, {a, b}, {}, {}, out, dy);
      std::string what = std::string(k.name) + " seed " + std::to_string(seed);
      std::vector<T> ab = h.buffer(a), bb = h.buffer(b);
      std::vector<T> y = h.result(dims.size);
      k.forward(h.n, dims, ab.data(), bb.data(), y.data());
      h.check(y, out[0], what);
      if (!k.backward) {
        k.forward(h.n, dims, ab.data(), bb.data(), ab.data());
        h.check(ab, out[0], what + " in place");
        continue;
      }
      std::vector<T> dyb = h.buffer(dy);
      std::vector<T> da = h.result(dims.size), db = h.result(dims.size);
      bool keepA = !dropOptional(seed);
      k.backward(h.n, dims, ab.data(), bb.data(), y.data(), dyb.data(),
                 orNull(da, keepA), db.data());
      if (keepA)
        h.check(da, grads[0], what + " da");
      h.check(db, grads[1], what + " db");
      // da over dy.
      k.backward(h.n, dims, ab.data(), bb.data(), y.data(), dyb.data(),
                 dyb.data(), db.data());
      h.check(dyb, grads[0], what + " da in place");
      h.check(db, grads[1], what + " db with da in place");
    }
}

TYPED_TEST(ElementwiseKernel, Concat) {
  using T = TypeParam;
  for (unsigned seed : kSeeds) {
    Harness<T> h(seed);
    Shape shape = h.shape(1, 3);
    int64_t rank = static_cast<int64_t>(shape.size());
    int64_t axis = h.pick(-rank, rank - 1);
    size_t a = static_cast<size_t>(axis < 0 ? axis + rank : axis);
    int64_t count = h.pick(1, 3);
    Tensors inputs;
    std::vector<int64_t> chunks;
    int64_t outer = 1, inner = 1, total = 0;
    for (size_t i = 0; i < a; ++i)
      outer *= shape[i];
    for (size_t i = a + 1; i < shape.size(); ++i)
      inner *= shape[i];
    for (int64_t j = 0; j < count; ++j) {
      Shape s = shape;
      s[a] = h.pick(1, 4);
      inputs.push_back(h.random(s, -2, 2));
      chunks.push_back(s[a] * inner);
      total += s[a] * inner;
    }
    Attrs attrs{{"axis", axis}};
    Tensors out = forward("concat", inputs, {}, attrs);
    Shape outShape(out[0].shape.begin() + 1, out[0].shape.end());
    RefTensor dy = h.random(outShape, -1, 1);
    Tensors grads = backward("concat", inputs, {}, attrs, out, dy);
    std::string what = "concat seed " + std::to_string(seed);

    dlk::ConcatDims dims{count, outer, total, chunks.data()};
    std::vector<std::vector<T>> buffers, gradBuffers;
    std::vector<const T *> in;
    std::vector<T *> gradPointers;
    for (int64_t j = 0; j < count; ++j) {
      buffers.push_back(h.buffer(inputs[j]));
      gradBuffers.push_back(h.result(inputs[j].size() / h.n));
    }
    for (int64_t j = 0; j < count; ++j) {
      in.push_back(buffers[j].data());
      bool keep = j > 0 || !dropOptional(seed);
      gradPointers.push_back(orNull(gradBuffers[j], keep));
    }
    std::vector<T> y = h.result(product(outShape));
    dlk::concat<T>(h.n, dims, in.data(), y.data());
    h.check(y, out[0], what);
    std::vector<T> dyb = h.buffer(dy);
    dlk::concat_grad<T>(h.n, dims, in.data(), y.data(), dyb.data(),
                        gradPointers.data());
    for (int64_t j = 0; j < count; ++j)
      if (gradPointers[j])
        h.check(gradBuffers[j], grads[j], what + " grad " + std::to_string(j));
  }
}

TYPED_TEST(ElementwiseKernel, ZeroPaddingAndUpsampling) {
  using T = TypeParam;
  for (unsigned seed : kSeeds) {
    Harness<T> h(seed);
    Shape shape = h.shape(3, 3, 4);
    std::vector<int64_t> pad = {h.pick(0, 2), h.pick(0, 2), h.pick(0, 2),
                                h.pick(0, 2)};
    std::vector<int64_t> size = {h.pick(1, 3), h.pick(1, 3)};
    std::string what = "seed " + std::to_string(seed);
    RefTensor x = h.random(shape, -2, 2);
    std::vector<T> xb = h.buffer(x);

    Attrs padAttrs{{"pad", pad}};
    Tensors out = forward("zero_padding2d", {x}, {}, padAttrs);
    RefTensor dy =
        h.random(Shape(out[0].shape.begin() + 1, out[0].shape.end()), -1, 1);
    Tensors grads = backward("zero_padding2d", {x}, {}, padAttrs, out, dy);
    dlk::ZeroPadding2dDims pd{shape[0], shape[1], shape[2], pad[0],
                              pad[1],   pad[2],   pad[3]};
    std::vector<T> y = h.result(out[0].size() / h.n);
    dlk::zero_padding2d<T>(h.n, pd, xb.data(), y.data());
    h.check(y, out[0], "zero_padding2d " + what);
    std::vector<T> dyb = h.buffer(dy), dx = h.result(product(shape));
    dlk::zero_padding2d_grad<T>(h.n, pd, xb.data(), y.data(), dyb.data(),
                                dx.data());
    h.check(dx, grads[0], "zero_padding2d_grad " + what);
    dlk::zero_padding2d_grad<T>(h.n, pd, xb.data(), y.data(), dyb.data(),
                                static_cast<T *>(nullptr));

    Attrs upAttrs{{"size", size}};
    out = forward("upsampling2d", {x}, {}, upAttrs);
    dy = h.random(Shape(out[0].shape.begin() + 1, out[0].shape.end()), -1, 1);
    grads = backward("upsampling2d", {x}, {}, upAttrs, out, dy);
    dlk::Upsampling2dDims ud{shape[0], shape[1], shape[2], size[0], size[1]};
    y = h.result(out[0].size() / h.n);
    dlk::upsampling2d<T>(h.n, ud, xb.data(), y.data());
    h.check(y, out[0], "upsampling2d " + what);
    dyb = h.buffer(dy);
    dx = h.result(product(shape));
    dlk::upsampling2d_grad<T>(h.n, ud, xb.data(), y.data(), dyb.data(),
                              dx.data());
    h.check(dx, grads[0], "upsampling2d_grad " + what);
  }
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

/// A 64-byte aligned workspace for a normalization kernel.
struct Workspace {
  std::vector<double> storage;
  explicit Workspace(int64_t channels)
      : storage(dlk::normalizationWorkspaceBytes(channels) / sizeof(double) +
                8) {}
  unsigned char *data() {
    auto address = reinterpret_cast<uintptr_t>(storage.data());
    return reinterpret_cast<unsigned char *>((address + 63) / 64 * 64);
  }
};

TYPED_TEST(ElementwiseKernel, BatchnormInference) {
  using T = TypeParam;
  for (unsigned seed : kSeeds) {
    Harness<T> h(seed);
    Shape shape = h.shape(1, 3);
    int64_t channels = shape.back();
    double eps = h.uniform(1e-4, 1e-2);
    Attrs attrs{{"epsilon", eps}, {"momentum", 0.99}};
    RefTensor x = h.random(shape, -3, 3);
    Tensors params = {h.random({channels}, 0.5, 2, false),
                      h.random({channels}, -1, 1, false),
                      h.random({channels}, -1, 1, false),
                      h.random({channels}, 0.2, 3, false)};
    Tensors out = forward("batchnorm", {x}, params, attrs);
    RefTensor dy = h.random(shape, -1, 1);
    Tensors grads = backward("batchnorm", {x}, params, attrs, out, dy);
    std::string what = "batchnorm seed " + std::to_string(seed);

    dlk::NormalizationDims dims{product(shape) / channels, channels, eps};
    Workspace ws(channels);
    std::vector<T> xb = h.buffer(x), y = h.result(product(shape));
    std::vector<std::vector<T>> p;
    for (const RefTensor &t : params)
      p.push_back(h.buffer(t, false));
    dlk::batchnorm<T>(h.n, dims, xb.data(), p[0].data(), p[1].data(),
                      p[2].data(), p[3].data(), y.data(), ws.data());
    h.check(y, out[0], what);

    std::vector<T> dyb = h.buffer(dy), dx = h.result(product(shape));
    std::vector<std::vector<T>> dp(4, h.result(channels, false));
    bool keep = !dropOptional(seed);
    dlk::batchnorm_grad<T>(h.n, dims, xb.data(), p[0].data(), p[1].data(),
                           p[2].data(), p[3].data(), y.data(), dyb.data(),
                           dx.data(), dp[0].data(), orNull(dp[1], keep),
                           orNull(dp[2], keep), dp[3].data(), ws.data());
    h.check(dx, grads[0], what + " dx");
    h.check(dp[0], grads[1], what + " dgamma");
    if (keep) {
      h.check(dp[1], grads[2], what + " dbeta");
      h.check(dp[2], grads[3], what + " dmoving_mean");
    }
    h.check(dp[3], grads[4], what + " dmoving_variance");
    // dx over dy, after the parameter sums.
    dlk::batchnorm_grad<T>(h.n, dims, xb.data(), p[0].data(), p[1].data(),
                           p[2].data(), p[3].data(), y.data(), dyb.data(),
                           dyb.data(), dp[0].data(), dp[1].data(), nullptr,
                           nullptr, ws.data());
    h.check(dyb, grads[0], what + " dx in place");
    h.check(dp[0], grads[1], what + " dgamma with dx in place");
    h.check(dp[1], grads[2], what + " dbeta with dx in place");
  }
}

TYPED_TEST(ElementwiseKernel, BatchnormTraining) {
  using T = TypeParam;
  for (unsigned seed : kSeeds) {
    Harness<T> h(seed);
    Shape shape = h.shape(1, 3);
    int64_t channels = shape.back();
    double eps = h.uniform(1e-4, 1e-2);
    Attrs attrs{{"epsilon", eps}, {"momentum", 0.9}, {"training", true}};
    RefTensor x = h.random(shape, -3, 3);
    Tensors params = {h.random({channels}, 0.5, 2, false),
                      h.random({channels}, -1, 1, false),
                      h.random({channels}, -1, 1, false),
                      h.random({channels}, 0.2, 3, false)};
    Tensors out = forward("batchnorm", {x}, params, attrs);
    RefTensor dy = h.random(shape, -1, 1);
    Tensors grads = backward("batchnorm", {x}, params, attrs, out, dy);
    std::string what = "batchnorm_train seed " + std::to_string(seed);

    // The statistics, computed directly.
    int64_t rows = x.size() / channels;
    RefTensor wantMean({channels}), wantVar({channels});
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t r = 0; r < rows; ++r)
        wantMean.data[c] += x.data[r * channels + c];
      wantMean.data[c] /= rows;
      for (int64_t r = 0; r < rows; ++r) {
        double d = x.data[r * channels + c] - wantMean.data[c];
        wantVar.data[c] += d * d;
      }
      wantVar.data[c] /= rows;
    }

    dlk::NormalizationDims dims{product(shape) / channels, channels, eps};
    Workspace ws(channels);
    std::vector<T> xb = h.buffer(x), y = h.result(product(shape));
    std::vector<T> mean = h.result(channels, false);
    std::vector<T> var = h.result(channels, false);
    std::vector<std::vector<T>> p;
    for (const RefTensor &t : params)
      p.push_back(h.buffer(t, false));
    dlk::batchnorm_train<T>(h.n, dims, xb.data(), p[0].data(), p[1].data(),
                            p[2].data(), p[3].data(), y.data(), mean.data(),
                            var.data(), ws.data());
    h.check(y, out[0], what);
    h.check(mean, wantMean, what + " mean");
    h.check(var, wantVar, what + " var");

    std::vector<T> dyb = h.buffer(dy), dx = h.result(product(shape));
    std::vector<std::vector<T>> dp(4, h.result(channels, false));
    bool keep = !dropOptional(seed);
    dlk::batchnorm_train_grad<T>(h.n, dims, xb.data(), p[0].data(), p[1].data(),
                                 p[2].data(), p[3].data(), y.data(),
                                 mean.data(), var.data(), dyb.data(), dx.data(),
                                 orNull(dp[0], keep), dp[1].data(),
                                 dp[2].data(), orNull(dp[3], keep), ws.data());
    h.check(dx, grads[0], what + " dx");
    if (keep)
      h.check(dp[0], grads[1], what + " dgamma");
    h.check(dp[1], grads[2], what + " dbeta");
    h.check(dp[2], grads[3], what + " dmoving_mean");

    // Null statistics, y in place of x; dx in place of dy.
    std::vector<T> x2 = h.buffer(x);
    dlk::batchnorm_train<T>(h.n, dims, x2.data(), p[0].data(), p[1].data(),
                            p[2].data(), p[3].data(), x2.data(), nullptr,
                            nullptr, ws.data());
    h.check(x2, out[0], what + " in place");
    dlk::batchnorm_train_grad<T>(
        h.n, dims, xb.data(), p[0].data(), p[1].data(), p[2].data(),
        p[3].data(), y.data(), mean.data(), var.data(), dyb.data(), dyb.data(),
        dp[0].data(), nullptr, nullptr, nullptr, ws.data());
    h.check(dyb, grads[0], what + " dx in place");
    h.check(dp[0], grads[1], what + " dgamma with dx in place");
  }
}

TYPED_TEST(ElementwiseKernel, Layernorm) {
  using T = TypeParam;
  for (unsigned seed : kSeeds) {
    Harness<T> h(seed);
    Shape shape = h.shape(1, 3, 6);
    int64_t channels = shape.back();
    double eps = h.uniform(1e-4, 1e-2);
    Attrs attrs{{"epsilon", eps}};
    RefTensor x = h.random(shape, -3, 3);
    Tensors params = {h.random({channels}, 0.5, 2, false),
                      h.random({channels}, -1, 1, false)};
    Tensors out = forward("layernorm", {x}, params, attrs);
    RefTensor dy = h.random(shape, -1, 1);
    Tensors grads = backward("layernorm", {x}, params, attrs, out, dy);
    std::string what = "layernorm seed " + std::to_string(seed);

    dlk::NormalizationDims dims{product(shape) / channels, channels, eps};
    Workspace ws(channels);
    std::vector<T> xb = h.buffer(x), y = h.result(product(shape));
    std::vector<T> gamma = h.buffer(params[0], false);
    std::vector<T> beta = h.buffer(params[1], false);
    dlk::layernorm<T>(h.n, dims, xb.data(), gamma.data(), beta.data(),
                      y.data());
    h.check(y, out[0], what);
    std::vector<T> dyb = h.buffer(dy), dx = h.result(product(shape));
    std::vector<T> dg = h.result(channels, false);
    std::vector<T> db = h.result(channels, false);
    bool keep = !dropOptional(seed);
    dlk::layernorm_grad<T>(h.n, dims, xb.data(), gamma.data(), beta.data(),
                           y.data(), dyb.data(), dx.data(), dg.data(),
                           orNull(db, keep), ws.data());
    h.check(dx, grads[0], what + " dx");
    h.check(dg, grads[1], what + " dgamma");
    if (keep)
      h.check(db, grads[2], what + " dbeta");
    dlk::layernorm_grad<T>(h.n, dims, xb.data(), gamma.data(), beta.data(),
                           y.data(), dyb.data(), dyb.data(), dg.data(),
                           db.data(), ws.data());
    h.check(dyb, grads[0], what + " dx in place");
    h.check(db, grads[2], what + " dbeta with dx in place");
    dlk::layernorm<T>(h.n, dims, xb.data(), gamma.data(), beta.data(),
                      xb.data());
    h.check(xb, out[0], what + " in place");
  }
}

//===----------------------------------------------------------------------===//
// Dropout and embedding
//===----------------------------------------------------------------------===//

TYPED_TEST(ElementwiseKernel, Dropout) {
  using T = TypeParam;
  for (unsigned seed : kSeeds) {
    Harness<T> h(seed);
    Shape shape = {h.pick(4, 8), h.pick(4, 8)};
    double rate = h.uniform(0.2, 0.7);
    int64_t offset = h.pick(0, 5);
    dlk::StepContext ctx;
    ctx.seed = 0x1234567800ull + seed;
    Attrs attrs{{"rate", rate},
                {"seed_offset", offset},
                {"training", true},
                {"seed", static_cast<int64_t>(ctx.seed)}};
    RefTensor x = h.random(shape, 0.5, 2); // never zero: zeros are drops
    Tensors out = forward("dropout", {x}, {}, attrs);
    RefTensor dy = h.random(shape, -1, 1);
    Tensors grads = backward("dropout", {x}, {}, attrs, out, dy);
    std::string what = "dropout seed " + std::to_string(seed);

    dlk::DropoutDims dims{product(shape), rate, offset};
    std::vector<T> xb = h.buffer(x), y = h.result(product(shape));
    dlk::dropout<T>(h.n, dims, ctx, xb.data(), y.data());
    h.check(y, out[0], what + " step 0");
    std::vector<T> dyb = h.buffer(dy), dx = h.result(product(shape));
    dlk::dropout_grad<T>(h.n, dims, ctx, xb.data(), y.data(), dyb.data(),
                         dx.data());
    h.check(dx, grads[0], what + " grad step 0");

    // Step 1: another mask, which the gradient reproduces.
    ctx.step = 1;
    std::vector<T> y1 = h.result(product(shape));
    dlk::dropout<T>(h.n, dims, ctx, xb.data(), y1.data());
    int64_t differ = 0, total = x.size();
    for (int64_t i = 0; i < total; ++i)
      differ += (y1[i] == T(0)) != (y[i] == T(0));
    EXPECT_GT(differ, 0) << what;
    dlk::dropout_grad<T>(h.n, dims, ctx, xb.data(), y1.data(), dyb.data(),
                         dyb.data());
    for (int64_t i = 0; i < total; ++i) {
      T factor = y1[i] / xb[i];
      ASSERT_NEAR(dyb[i], factor * static_cast<T>(dy.data[i]), tolerance<T>())
          << what << " step 1 at " << i;
    }
    dlk::dropout_grad<T>(h.n, dims, ctx, xb.data(), y1.data(), dyb.data(),
                         static_cast<T *>(nullptr));
  }
}

TYPED_TEST(ElementwiseKernel, Embedding) {
  using T = TypeParam;
  for (unsigned seed : kSeeds) {
    Harness<T> h(seed);
    Shape shape = h.shape(1, 2);
    int64_t rows = h.pick(1, 7), width = h.pick(1, 5);
    Attrs attrs{{"input_dim", rows}, {"output_dim", width}};
    RefTensor ids({h.n});
    ids.shape.insert(ids.shape.end(), shape.begin(), shape.end());
    ids.data.resize(product(ids.shape));
    for (double &v : ids.data)
      v = static_cast<double>(h.pick(0, rows - 1));
    RefTensor table = h.random({rows, width}, -1, 1, false);
    Tensors out = forward("embedding", {ids}, {table}, attrs);
    Shape outShape = shape;
    outShape.push_back(width);
    RefTensor dy = h.random(outShape, -1, 1);
    Tensors grads = backward("embedding", {ids}, {table}, attrs, out, dy);
    std::string what = "embedding seed " + std::to_string(seed);

    dlk::EmbeddingDims dims{product(shape), rows, width};
    std::vector<int32_t> idb(product(shape) * h.maxBatch, 0);
    for (int64_t i = 0; i < ids.size(); ++i)
      idb[i] = static_cast<int32_t>(ids.data[i]);
    std::vector<T> tb = h.buffer(table, false);
    std::vector<T> y = h.result(product(outShape));
    dlk::embedding<T>(h.n, dims, idb.data(), tb.data(), y.data());
    h.check(y, out[0], what);
    std::vector<T> dyb = h.buffer(dy), dt = h.result(rows * width, false);
    dlk::embedding_grad<T>(h.n, dims, idb.data(), tb.data(), y.data(),
                           dyb.data(), dt.data());
    h.check(dt, grads[1], what + " grad");

    // Out-of-range ids read nothing: a zero row, no gradient.
    idb[0] = -1;
    idb[ids.size() - 1] = static_cast<int32_t>(rows);
    dlk::embedding<T>(h.n, dims, idb.data(), tb.data(), y.data());
    for (int64_t k = 0; k < width; ++k) {
      EXPECT_EQ(y[k], T(0)) << what;
      EXPECT_EQ(y[(ids.size() - 1) * width + k], T(0)) << what;
    }
    dlk::embedding_grad<T>(h.n, dims, idb.data(), tb.data(), y.data(),
                           dyb.data(), dt.data());
    for (T v : dt)
      EXPECT_TRUE(std::isfinite(v)) << what;
    dlk::embedding_grad<T>(h.n, dims, idb.data(), tb.data(), y.data(),
                           dyb.data(), static_cast<T *>(nullptr));
  }
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

template <typename T> struct LossKernel {
  const char *name;
  bool fromLogits;
  void (*forward)(int64_t, const dlk::LossDims &, const T *, const T *, T *);
  void (*backward)(int64_t, const dlk::LossDims &, const T *, const T *,
                   const T *, const T *, T *, T *);
};

TYPED_TEST(ElementwiseKernel, DenseLosses) {
  using T = TypeParam;
  const LossKernel<T> kernels[] = {
      {"mse", false, dlk::mse<T>, dlk::mse_grad<T>},
      {"mae", false, dlk::mae<T>, dlk::mae_grad<T>},
      {"binary_crossentropy", false, dlk::binary_crossentropy<T>,
       dlk::binary_crossentropy_grad<T>},
      {"binary_crossentropy", true, dlk::binary_crossentropy<T>,
       dlk::binary_crossentropy_grad<T>},
      {"categorical_crossentropy", false, dlk::categorical_crossentropy<T>,
       dlk::categorical_crossentropy_grad<T>},
      {"categorical_crossentropy", true, dlk::categorical_crossentropy<T>,
       dlk::categorical_crossentropy_grad<T>}};
  for (const LossKernel<T> &k : kernels)
    for (unsigned seed : kSeeds) {
      Harness<T> h(seed);
      Shape shape = h.shape(1, 3);
      std::string name = k.name;
      bool probabilities = !k.fromLogits && name != "mse" && name != "mae";
      RefTensor pred =
          probabilities ? h.random(shape, 0.01, 0.99) : h.random(shape, -3, 3);
      RefTensor target = h.random(shape, 0, 1);
      if (probabilities && name == "binary_crossentropy") {
        // Clipped probabilities: no gradient.
        pred.data[0] = 0;
        pred.data[pred.size() - 1] = 1;
      }
      Attrs attrs{{"from_logits", k.fromLogits}};
      Tensors out = forward(name, {pred, target}, {}, attrs);
      RefTensor dloss = h.random({}, 0.5, 2, false);
      Tensors grads = backward(name, {pred, target}, {}, attrs, out, dloss);
      std::string what = name + (k.fromLogits ? " (logits)" : "") + " seed " +
                         std::to_string(seed);

      dlk::LossDims dims{product(shape), shape.back(), k.fromLogits};
      std::vector<T> pb = h.buffer(pred), tb = h.buffer(target);
      std::vector<T> loss = h.result(1, false);
      k.forward(h.n, dims, pb.data(), tb.data(), loss.data());
      h.check(loss, out[0], what);
      std::vector<T> db = h.buffer(dloss, false);
      std::vector<T> dp = h.result(product(shape));
      std::vector<T> dt = h.result(product(shape));
      bool keep = !dropOptional(seed);
      k.backward(h.n, dims, pb.data(), tb.data(), loss.data(), db.data(),
                 dp.data(), orNull(dt, keep));
      h.check(dp, grads[0], what + " dpred");
      if (keep)
        h.check(dt, grads[1], what + " dtarget");
      k.backward(h.n, dims, pb.data(), tb.data(), loss.data(), db.data(),
                 nullptr, dt.data());
      h.check(dt, grads[1], what + " dtarget alone");
    }
}

TYPED_TEST(ElementwiseKernel, SparseCategoricalCrossentropy) {
  using T = TypeParam;
  for (bool fromLogits : {false, true})
    for (unsigned seed : kSeeds) {
      Harness<T> h(seed);
      Shape shape = h.shape(1, 3);
      shape.back() = h.pick(2, 6);
      int64_t classes = shape.back();
      Shape labelShape(shape.begin(), shape.end() - 1);
      RefTensor pred =
          fromLogits ? h.random(shape, -3, 3) : h.random(shape, 0.01, 1);
      RefTensor labels({h.n});
      labels.shape.insert(labels.shape.end(), labelShape.begin(),
                          labelShape.end());
      labels.data.resize(product(labels.shape));
      for (double &v : labels.data)
        v = static_cast<double>(h.pick(0, classes - 1));
      Attrs attrs{{"from_logits", fromLogits}};
      const std::string name = "sparse_categorical_crossentropy";
      Tensors out = forward(name, {pred, labels}, {}, attrs);
      RefTensor dloss = h.random({}, 0.5, 2, false);
      Tensors grads = backward(name, {pred, labels}, {}, attrs, out, dloss);
      std::string what = name + (fromLogits ? " (logits)" : "") + " seed " +
                         std::to_string(seed);

      dlk::LossDims dims{product(shape), classes, fromLogits};
      std::vector<T> pb = h.buffer(pred);
      std::vector<int32_t> lb(product(labelShape) * h.maxBatch, 0);
      for (int64_t i = 0; i < labels.size(); ++i)
        lb[i] = static_cast<int32_t>(labels.data[i]);
      std::vector<T> loss = h.result(1, false);
      dlk::sparse_categorical_crossentropy<T>(h.n, dims, pb.data(), lb.data(),
                                              loss.data());
      h.check(loss, out[0], what);
      std::vector<T> db = h.buffer(dloss, false);
      std::vector<T> dp = h.result(product(shape));
      dlk::sparse_categorical_crossentropy_grad<T>(
          h.n, dims, pb.data(), lb.data(), loss.data(), db.data(), dp.data());
      h.check(dp, grads[0], what + " dpred");

      // Out-of-range labels add nothing and get a zero gradient.
      lb[0] = -3;
      dlk::sparse_categorical_crossentropy<T>(h.n, dims, pb.data(), lb.data(),
                                              loss.data());
      EXPECT_TRUE(std::isfinite(loss[0])) << what;
      lb[0] = static_cast<int32_t>(classes);
      dlk::sparse_categorical_crossentropy_grad<T>(
          h.n, dims, pb.data(), lb.data(), loss.data(), db.data(), dp.data());
      for (int64_t j = 0; j < classes; ++j)
        EXPECT_EQ(dp[j], T(0)) << what;
      dlk::sparse_categorical_crossentropy_grad<T>(
          h.n, dims, pb.data(), lb.data(), loss.data(), db.data(),
          static_cast<T *>(nullptr));
    }
}

TYPED_TEST(ElementwiseKernel, WeightedSum) {
  using T = TypeParam;
  for (unsigned seed : kSeeds) {
    Harness<T> h(seed);
    int64_t count = h.pick(1, 4);
    Tensors losses;
    std::vector<double> weights;
    for (int64_t i = 0; i < count; ++i) {
      losses.push_back(h.random({}, 0, 3, false));
      weights.push_back(h.uniform(0.1, 2));
    }
    Attrs attrs{{"weights", weights}};
    Tensors out = forward("weighted_sum", losses, {}, attrs);
    RefTensor dy = h.random({}, 0.5, 2, false);
    Tensors grads = backward("weighted_sum", losses, {}, attrs, out, dy);
    std::string what = "weighted_sum seed " + std::to_string(seed);

    dlk::WeightedSumDims dims{count, weights.data()};
    std::vector<std::vector<T>> lb, gb;
    std::vector<const T *> in;
    std::vector<T *> gp;
    for (int64_t i = 0; i < count; ++i) {
      lb.push_back(h.buffer(losses[i], false));
      gb.push_back(h.result(1, false));
    }
    for (int64_t i = 0; i < count; ++i) {
      in.push_back(lb[i].data());
      gp.push_back(orNull(gb[i], i > 0 || !dropOptional(seed)));
    }
    std::vector<T> y = h.result(1, false);
    dlk::weighted_sum<T>(h.n, dims, in.data(), y.data());
    h.check(y, out[0], what);
    std::vector<T> dyb = h.buffer(dy, false);
    dlk::weighted_sum_grad<T>(h.n, dims, in.data(), y.data(), dyb.data(),
                              gp.data());
    for (int64_t i = 0; i < count; ++i)
      if (gp[i])
        h.check(gb[i], grads[i], what + " grad " + std::to_string(i));
  }
}

/// Sizes past the OpenMP thresholds and the 64 reduction chunks: the
/// chunked statistics and loss sums still match the reference.
TYPED_TEST(ElementwiseKernel, LargeShapes) {
  using T = TypeParam;
  Harness<T> h(11);
  Shape shape = {40, 30, 12};
  int64_t channels = 12, size = product(shape);
  std::string what = "large";
  RefTensor x = h.random(shape, -3, 3);
  RefTensor dy = h.random(shape, -1, 1);
  std::vector<T> xb = h.buffer(x), dyb = h.buffer(dy);

  Attrs bnAttrs{{"epsilon", 1e-3}, {"training", true}};
  Tensors params = {
      h.random({channels}, 0.5, 2, false), h.random({channels}, -1, 1, false),
      h.random({channels}, -1, 1, false), h.random({channels}, 0.2, 3, false)};
  Tensors out = forward("batchnorm", {x}, params, bnAttrs);
  Tensors grads = backward("batchnorm", {x}, params, bnAttrs, out, dy);
  dlk::NormalizationDims dims{size / channels, channels, 1e-3};
  Workspace ws(channels);
  std::vector<std::vector<T>> p;
  for (const RefTensor &t : params)
    p.push_back(h.buffer(t, false));
  std::vector<T> y = h.result(size), dx = h.result(size);
  std::vector<T> mean = h.result(channels, false);
  std::vector<T> var = h.result(channels, false);
  std::vector<T> dg = h.result(channels, false);
  std::vector<T> db = h.result(channels, false);
  dlk::batchnorm_train<T>(h.n, dims, xb.data(), p[0].data(), p[1].data(),
                          p[2].data(), p[3].data(), y.data(), mean.data(),
                          var.data(), ws.data());
  h.check(y, out[0], what + " batchnorm_train");
  dlk::batchnorm_train_grad<T>(h.n, dims, xb.data(), p[0].data(), p[1].data(),
                               p[2].data(), p[3].data(), y.data(), mean.data(),
                               var.data(), dyb.data(), dx.data(), dg.data(),
                               db.data(), nullptr, nullptr, ws.data());
  h.check(dx, grads[0], what + " batchnorm_train_grad dx");
  h.check(dg, grads[1], what + " batchnorm_train_grad dgamma");
  h.check(db, grads[2], what + " batchnorm_train_grad dbeta");

  Attrs lnAttrs{{"epsilon", 1e-3}};
  Tensors lnParams = {params[0], params[1]};
  out = forward("layernorm", {x}, lnParams, lnAttrs);
  grads = backward("layernorm", {x}, lnParams, lnAttrs, out, dy);
  dlk::layernorm_grad<T>(h.n, dims, xb.data(), p[0].data(), p[1].data(),
                         y.data(), dyb.data(), dx.data(), dg.data(), db.data(),
                         ws.data());
  h.check(dx, grads[0], what + " layernorm_grad dx");
  h.check(dg, grads[1], what + " layernorm_grad dgamma");
  h.check(db, grads[2], what + " layernorm_grad dbeta");

  RefTensor target = h.random(shape, 0, 1);
  std::vector<T> tb = h.buffer(target), loss = h.result(1, false);
  Attrs logits{{"from_logits", true}};
  out = forward("categorical_crossentropy", {x, target}, {}, logits);
  dlk::LossDims lossDims{size, channels, true};
  dlk::categorical_crossentropy<T>(h.n, lossDims, xb.data(), tb.data(),
                                   loss.data());
  h.check(loss, out[0], what + " categorical_crossentropy");
  out = forward("mse", {x, target}, {}, {});
  dlk::mse<T>(h.n, lossDims, xb.data(), tb.data(), loss.data());
  h.check(loss, out[0], what + " mse");
}

//===----------------------------------------------------------------------===//
// Emitters
//===----------------------------------------------------------------------===//

using codegen::CpuKernel;
using codegen::CpuKernelCode;
using codegen::CpuKernelRegistry;
using codegen::KernelCall;

/// The emitter harness with this file's kernels.
struct ProgramBuilder : dlc::testing::KernelEmitterHarness {
  ProgramBuilder()
      : KernelEmitterHarness(
            codegen::registerElementwiseKernels,
            "reinterpret_cast<unsigned char *>(arena + 1048576)") {}
};

TEST(ElementwiseEmitter, RegistersEveryOp) {
  CpuKernelRegistry registry;
  codegen::registerElementwiseKernels(registry);
  for (const char *op : {"relu",
                         "sigmoid",
                         "tanh",
                         "abs",
                         "leaky_relu",
                         "elu",
                         "softmax",
                         "subtract",
                         "multiply",
                         "zero_padding2d",
                         "upsampling2d",
                         "concat",
                         "batchnorm",
                         "batchnorm_train",
                         "layernorm",
                         "dropout",
                         "embedding",
                         "mse",
                         "mae",
                         "binary_crossentropy",
                         "categorical_crossentropy",
                         "sparse_categorical_crossentropy",
                         "weighted_sum"}) {
    EXPECT_TRUE(registry.count(op)) << op;
    EXPECT_TRUE(registry.count(std::string(op) + "_grad")) << op;
  }
  EXPECT_TRUE(registry.count("add"));
  EXPECT_EQ(registry.count("add_grad"), 0u);
  ASSERT_TRUE(registry.count("reshape"));
  EXPECT_TRUE(registry.at("reshape").aliasesOperand);
  EXPECT_EQ(registry.at("relu").inPlaceOperand, 0);
  EXPECT_EQ(registry.at("relu_grad").inPlaceOperand, 2);
  EXPECT_EQ(registry.at("multiply_grad").inPlaceOperand, 3);
  EXPECT_EQ(registry.at("batchnorm_grad").inPlaceOperand, 6);
  EXPECT_EQ(registry.at("batchnorm_train_grad").inPlaceOperand, 8);
  EXPECT_EQ(registry.at("layernorm_grad").inPlaceOperand, 4);
  EXPECT_EQ(registry.at("mse_grad").inPlaceOperand, -1);
  EXPECT_EQ(registry.at("concat").inPlaceOperand, -1);
}

TEST(ElementwiseEmitter, Text) {
  ProgramBuilder b;
  int x = b.value({4, 5});
  int y = b.value({4, 5});
  CpuKernelCode relu = b.emit("leaky_relu", {x}, {y}, {{"alpha", 0.25}});
  EXPECT_EQ(relu.declarations,
            "static constexpr dlk::ElementwiseDims k1_dims{20, 0.25};\n");
  EXPECT_EQ(relu.statement, "dlk::leaky_relu<T>(n, k1_dims, " +
                                b.pointer(x, false) + ", " +
                                b.pointer(y, true) + ");");

  int s = b.value({2, 3, 4});
  int sy = b.value({2, 3, 4});
  CpuKernelCode softmax = b.emit("softmax", {s}, {sy}, {{"axis", int64_t(1)}});
  EXPECT_EQ(softmax.declarations,
            "static constexpr dlk::SoftmaxDims k2_dims{2, 3, 4};\n");

  int c = b.value({4, 2});
  int cy = b.value({4, 7});
  CpuKernelCode concat =
      b.emit("concat", {x, c}, {cy}, {{"axis", int64_t(-1)}});
  EXPECT_NE(concat.declarations.find(
                "static constexpr int64_t k3_chunks[] = {5, 2};"),
            std::string::npos)
      << concat.declarations;
  EXPECT_NE(
      concat.declarations.find("dlk::ConcatDims k3_dims{2, 4, 7, k3_chunks};"),
      std::string::npos)
      << concat.declarations;
  EXPECT_NE(concat.statement.find("std::array<const T *, 2>{"),
            std::string::npos);

  // batchnorm_train: three results and a workspace.
  int bx = b.value({3, 3, 6});
  std::vector<int> params;
  for (int i = 0; i < 4; ++i)
    params.push_back(b.value({6}, false));
  int by = b.value({3, 3, 6}), mean = b.value({6}, false),
      var = b.value({6}, false);
  CpuKernelCode bn = b.emit("batchnorm_train",
                            {bx, params[0], params[1], params[2], params[3]},
                            {by, mean, var}, {{"epsilon", 0.001}});
  EXPECT_EQ(bn.declarations, "static constexpr dlk::NormalizationDims "
                             "k4_dims{9, 6, 0.001};\n");
  EXPECT_NE(bn.statement.find("arena + 1048576"), std::string::npos);
  const CpuKernel &bnKernel = b.registry.at("batchnorm_train");
  KernelCall bnCall{"batchnorm_train", {}, {bx}, {}, ""};
  EXPECT_EQ(bnKernel.workspaceBytes(b.program, bnCall, 4),
            dlk::normalizationWorkspaceBytes(6));

  // dropout takes the step context.
  CpuKernelCode dropout =
      b.emit("dropout", {x}, {y}, {{"rate", 0.5}, {"seed_offset", int64_t(3)}});
  EXPECT_EQ(dropout.declarations,
            "static constexpr dlk::DropoutDims k5_dims{20, 0.5, 3};\n");
  EXPECT_NE(dropout.statement.find("(n, k5_dims, ctx, "), std::string::npos);

  // An unused dtarget is passed as nullptr; with no result used, no call.
  int loss = b.value({}, false), dloss = b.value({}, false);
  int dpred = b.value({4, 5}), dtarget = b.value({4, 5});
  CpuKernelCode mseGrad = b.emit("mse_grad", {x, y, loss, dloss},
                                 {dpred, dtarget}, {}, {false, true});
  EXPECT_NE(mseGrad.statement.find(", nullptr);"), std::string::npos);
  CpuKernelCode none = b.emit("mse_grad", {x, y, loss, dloss}, {dpred, dtarget},
                              {}, {true, true});
  EXPECT_EQ(none.statement, "");

  // Sparse labels, embedding ids, weighted sums.
  int logits = b.value({3, 10});
  int labels = b.value({3}, true, ElementType::I32);
  b.emit("sparse_categorical_crossentropy", {logits, labels}, {loss},
         {{"from_logits", true}});
  b.emit("sparse_categorical_crossentropy_grad", {logits, labels, loss, dloss},
         {dpred});
  int table = b.value({11, 4}, false);
  int ey = b.value({3, 4});
  b.emit("embedding", {labels, table}, {ey},
         {{"input_dim", int64_t(11)}, {"output_dim", int64_t(4)}});
  int total = b.value({}, false);
  CpuKernelCode ws = b.emit("weighted_sum", {loss, dloss}, {total},
                            {{"weights", std::vector<double>{0.5, 1.5}}});
  EXPECT_NE(ws.declarations.find("k11_weights[] = {0.5, 1.5};"),
            std::string::npos)
      << ws.declarations;

  // reshape: nothing runs.
  EXPECT_EQ(b.emit("reshape", {s}, {b.value({24})}).statement, "");
}

TEST(ElementwiseEmitter, MalformedCallsStopTheHostCompiler) {
  ProgramBuilder b;
  int x = b.value({4, 5});
  int other = b.value({4, 6});
  int y = b.value({4, 5});
  EXPECT_NE(b.emit("add", {x, other}, {y}).statement.find("static_assert"),
            std::string::npos);
  EXPECT_NE(b.emit("relu", {x}, {}).statement.find("static_assert"),
            std::string::npos);
  EXPECT_NE(b.emit("softmax", {x}, {y}, {{"axis", int64_t(7)}})
                .statement.find("static_assert"),
            std::string::npos);
  EXPECT_NE(b.emit("weighted_sum", {x}, {y}).statement.find("static_assert"),
            std::string::npos);
  EXPECT_NE(b.emit("relu", {99}, {y}).statement.find("static_assert"),
            std::string::npos);
}

/// Emits one call of every kernel and compiles the result with the host
/// compiler, for T = float and double.
TEST(ElementwiseEmitter, EmittedCodeCompiles) {
  ProgramBuilder b;
  int x = b.value({4, 6}), x2 = b.value({4, 6}), y = b.value({4, 6});
  int dy = b.value({4, 6}), dx = b.value({4, 6}), dx2 = b.value({4, 6});
  for (const char *op : {"relu", "sigmoid", "tanh", "abs", "leaky_relu", "elu",
                         "softmax", "dropout"}) {
    b.emit(op, {x}, {y}, {{"alpha", 0.2}, {"rate", 0.3}});
    b.emit(std::string(op) + "_grad", {x, y, dy}, {dx},
           {{"alpha", 0.2}, {"rate", 0.3}});
  }
  for (const char *op : {"add", "subtract", "multiply"})
    b.emit(op, {x, x2}, {y});
  b.emit("subtract_grad", {x, x2, y, dy}, {dx, dx2});
  b.emit("multiply_grad", {x, x2, y, dy}, {dx, dx2}, {}, {true, false});
  int cy = b.value({4, 12});
  b.emit("concat", {x, x2}, {cy});
  b.emit("concat_grad", {x, x2, cy, cy}, {dx, dx2}, {}, {false, true});
  int img = b.value({3, 4, 2}), padded = b.value({5, 7, 2}),
      up = b.value({6, 8, 2}), dimg = b.value({3, 4, 2});
  Attrs pad{{"pad", std::vector<int64_t>{1, 1, 2, 1}}};
  b.emit("zero_padding2d", {img}, {padded}, pad);
  b.emit("zero_padding2d_grad", {img, padded, padded}, {dimg}, pad);
  b.emit("upsampling2d", {img}, {up});
  b.emit("upsampling2d_grad", {img, up, up}, {dimg});
  std::vector<int> p;
  for (int i = 0; i < 4; ++i)
    p.push_back(b.value({6}, false));
  std::vector<int> dp;
  for (int i = 0; i < 4; ++i)
    dp.push_back(b.value({6}, false));
  int mean = b.value({6}, false), var = b.value({6}, false);
  b.emit("batchnorm", {x, p[0], p[1], p[2], p[3]}, {y});
  b.emit("batchnorm_grad", {x, p[0], p[1], p[2], p[3], y, dy},
         {dx, dp[0], dp[1], dp[2], dp[3]}, {}, {false, false, false, true});
  b.emit("batchnorm_train", {x, p[0], p[1], p[2], p[3]}, {y, mean, var});
  b.emit("batchnorm_train_grad", {x, p[0], p[1], p[2], p[3], y, mean, var, dy},
         {dx, dp[0], dp[1], dp[2], dp[3]});
  b.emit("layernorm", {x, p[0], p[1]}, {y});
  b.emit("layernorm_grad", {x, p[0], p[1], y, dy}, {dx, dp[0], dp[1]});
  int ids = b.value({4}, true, ElementType::I32);
  int table = b.value({10, 3}, false), dtable = b.value({10, 3}, false);
  int ey = b.value({4, 3});
  b.emit("embedding", {ids, table}, {ey});
  b.emit("embedding_grad", {ids, table, ey, ey}, {dtable});
  int loss = b.value({}, false), dloss = b.value({}, false),
      total = b.value({}, false);
  for (const char *op :
       {"mse", "mae", "binary_crossentropy", "categorical_crossentropy"}) {
    b.emit(op, {x, x2}, {loss});
    b.emit(std::string(op) + "_grad", {x, x2, loss, dloss}, {dx, dx2});
  }
  b.emit("sparse_categorical_crossentropy", {y, ids}, {loss},
         {{"from_logits", true}});
  b.emit("sparse_categorical_crossentropy_grad", {y, ids, loss, dloss}, {dx},
         {{"from_logits", true}});
  Attrs weights{{"weights", std::vector<double>{1.0, 0.25}}};
  b.emit("weighted_sum", {loss, dloss}, {total}, weights);
  b.emit("weighted_sum_grad", {loss, dloss, total, total}, {dp[0], dp[1]},
         weights);
  ASSERT_EQ(b.statements.find("static_assert"), std::string::npos)
      << b.statements;

  std::string dir = ::testing::TempDir();
  for (const char *type : {"float", "double"}) {
    std::string path = dir + "/elementwise_emitted_" + type + ".cpp";
    std::ofstream out(path);
    out << "#include \"codegen/cpu/kernels/Elementwise.h\"\n"
        << "#include \"codegen/cpu/kernels/StepContext.h\"\n"
        << "#include <array>\n#include <cstdint>\n"
        << "using T = " << type << ";\n"
        << b.declarations << "void step(int64_t n, const dlk::StepContext "
        << "&ctx, unsigned char *arena) {\n"
        << b.statements << "}\n";
    out.close();
    std::string command = "c++ -std=c++17 -fsyntax-only -Wall -Wextra "
                          "-Wno-unused-parameter -Werror -I" +
                          std::string(DLC_SOURCE_DIR) + " " + path;
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
  }
}

} // namespace
