//===- FusedNormalizationKernelTest.cpp - fused batchnorm + relu kernels --===//
//
// dlk::batchnorm_relu_train, its gradient and dlk::batchnorm_relu_apply
// (kernels/FusedNormalization.h)
// against the float64 composition of the reference ops batchnorm (training)
// then relu, on random shapes for several seeds, with a batch n smaller than
// the buffers' maxBatch (rows past n must stay untouched): T = double to
// 1e-12 and T = float to 1e-5 (normwise relative); and bit for bit against
// the unfused T kernels (batchnorm_train, relu; relu_grad,
// batchnorm_train_grad). Also: the statistics against a direct computation
// (data with |mean| >> stddev included), the backward's relu mask equal to
// the forward's bit for bit, null results, in-place runs, and the emitters'
// text.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpu/CpuKernel.h"
#include "codegen/cpu/kernels/Elementwise.h"
#include "codegen/cpu/kernels/FusedNormalization.h"
#include "test/reference/ReferenceOps.h"
#include "test/unit/AlignedWorkspace.h"
#include "test/unit/KernelEmitterHarness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

using namespace dlc;
using dlc::ref::RefTensor;

namespace {

using Tensors = std::vector<RefTensor>;

template <typename T> constexpr double tolerance() {
  return sizeof(T) == sizeof(double) ? 1e-12 : 1e-5;
}

/// Written into result buffers first: rows past n must keep it.
constexpr double kSentinel = 12345.0;

constexpr unsigned kSeeds[] = {1, 2, 3, 4, 5, 6, 7, 8};

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

/// The float64 oracle: batchnorm (training) then relu, and the backward of
/// the composition. `grads` are dx, dgamma, dbeta.
struct Reference {
  RefTensor output, mean, var;
  Tensors grads;
};

Reference reference(const RefTensor &x, const Tensors &params, double epsilon,
                    const RefTensor &da) {
  Attrs attrs{{"epsilon", epsilon}, {"momentum", 0.9}, {"training", true}};
  Reference r;
  Tensors bn = forward("batchnorm", {x}, params, attrs);
  Tensors relu = forward("relu", {bn[0]}, {}, {});
  r.output = relu[0];
  Tensors dy = backward("relu", {bn[0]}, {}, {}, relu, da);
  Tensors grads = backward("batchnorm", {x}, params, attrs, bn, dy[0]);
  r.grads = {grads[0], grads[1], grads[2]};
  // The statistics, computed directly in double.
  int64_t channels = params[0].size(), rows = x.size() / channels;
  r.mean = RefTensor({channels});
  r.var = RefTensor({channels});
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t i = 0; i < rows; ++i)
      r.mean.data[c] += x.data[i * channels + c];
    r.mean.data[c] /= static_cast<double>(rows);
    for (int64_t i = 0; i < rows; ++i) {
      double d = x.data[i * channels + c] - r.mean.data[c];
      r.var.data[c] += d * d;
    }
    r.var.data[c] /= static_cast<double>(rows);
  }
  return r;
}

using dlc::testing::AlignedWorkspace;

template <typename T> struct Harness {
  std::mt19937 rng;
  int64_t maxBatch;
  int64_t n;
  Shape shape; ///< per example, channels last
  int64_t channels;

  explicit Harness(unsigned seed) : rng(seed) {
    maxBatch = pick(2, 6);
    n = pick(1, maxBatch - 1);
    // Small shapes, and every third seed one with more rows than the
    // reductions have chunks.
    bool large = seed % 3 == 0;
    shape = Shape(pick(1, 3));
    for (int64_t &d : shape)
      d = pick(1, large ? 12 : 5);
    if (large)
      shape.front() = pick(20, 40);
    channels = shape.back();
  }

  int64_t pick(int64_t low, int64_t high) {
    return std::uniform_int_distribution<int64_t>(low, high)(rng);
  }
  double uniform(double low, double high) {
    return std::uniform_real_distribution<double>(low, high)(rng);
  }
  int64_t perExample() const { return checkedElementCount(shape); }

  /// A tensor of `perExample` shape (batch first if `batched`) of values in
  /// [low, high], each exactly representable in T.
  RefTensor random(const Shape &perExampleShape, double low, double high,
                   bool batched = true) {
    Shape full = perExampleShape;
    if (batched)
      full.insert(full.begin(), n);
    RefTensor t(full);
    for (double &v : t.data)
      v = static_cast<double>(static_cast<T>(uniform(low, high)));
    return t;
  }

  /// A kernel buffer holding `t`; a batched one takes maxBatch rows, those
  /// past n holding the sentinel.
  std::vector<T> buffer(const RefTensor &t, bool batched = true) {
    int64_t capacity = batched ? t.size() / n * maxBatch : t.size();
    std::vector<T> b(capacity, static_cast<T>(kSentinel));
    for (int64_t i = 0; i < t.size(); ++i)
      b[i] = static_cast<T>(t.data[i]);
    return b;
  }

  std::vector<T> result(int64_t elements, bool batched = true) {
    return std::vector<T>(batched ? elements * maxBatch : elements,
                          static_cast<T>(kSentinel));
  }

  /// Compares `got` with `want` normwise, and checks the rows past n.
  void check(const std::vector<T> &got, const RefTensor &want,
             const std::string &what) {
    ASSERT_GE(static_cast<int64_t>(got.size()), want.size()) << what;
    double scale = 1e-6;
    for (double w : want.data)
      scale = std::max(scale, std::fabs(w));
    double worst = 0;
    int64_t worstAt = 0;
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

template <typename T>
class FusedNormalizationKernel : public ::testing::Test {};
using ElementTypes = ::testing::Types<double, float>;
TYPED_TEST_SUITE(FusedNormalizationKernel, ElementTypes);

TYPED_TEST(FusedNormalizationKernel, MatchesBatchnormThenRelu) {
  using T = TypeParam;
  for (unsigned seed : kSeeds) {
    Harness<T> h(seed);
    const int64_t channels = h.channels;
    double eps = h.uniform(1e-4, 1e-2);
    // Offsets make |mean| large against the spread in some channels.
    double offset = seed % 2 ? 0.0 : 40.0;
    RefTensor x = h.random(h.shape, offset - 3, offset + 3);
    Tensors params = {h.random({channels}, 0.5, 2, false),
                      h.random({channels}, -1, 1, false),
                      h.random({channels}, -1, 1, false),
                      h.random({channels}, 0.2, 3, false)};
    RefTensor da = h.random(h.shape, -1, 1);
    Reference want = reference(x, params, eps, da);
    std::string what = "seed " + std::to_string(seed);

    dlk::NormalizationDims dims{h.perExample() / channels, channels, eps};
    AlignedWorkspace ws(dlk::normalizationWorkspaceBytes(channels));
    std::vector<T> xb = h.buffer(x), gamma = h.buffer(params[0], false),
                   beta = h.buffer(params[1], false);
    std::vector<T> y = h.result(h.perExample());
    std::vector<T> mean = h.result(channels, false),
                   var = h.result(channels, false);
    dlk::batchnorm_relu_train<T>(h.n, dims, xb.data(), gamma.data(),
                                 beta.data(), y.data(), mean.data(), var.data(),
                                 ws.data());
    h.check(y, want.output, what + " output");
    h.check(mean, want.mean, what + " mean");
    h.check(var, want.var, what + " var");

    std::vector<T> dab = h.buffer(da), dx = h.result(h.perExample());
    std::vector<T> dgamma = h.result(channels, false),
                   dbeta = h.result(channels, false);
    dlk::batchnorm_relu_train_grad<T>(h.n, dims, xb.data(), gamma.data(),
                                      beta.data(), mean.data(), var.data(),
                                      dab.data(), dx.data(), dgamma.data(),
                                      dbeta.data(), ws.data());
    h.check(dx, want.grads[0], what + " dx");
    h.check(dgamma, want.grads[1], what + " dgamma");
    h.check(dbeta, want.grads[2], what + " dbeta");

    // Null statistics and y over x; dx over da with dgamma skipped; only
    // the parameter gradients.
    std::vector<T> x2 = h.buffer(x);
    dlk::batchnorm_relu_train<T>(h.n, dims, x2.data(), gamma.data(),
                                 beta.data(), x2.data(), nullptr, nullptr,
                                 ws.data());
    EXPECT_EQ(x2, y) << what << " in place";
    std::vector<T> da2 = h.buffer(da), dbeta2 = h.result(channels, false);
    dlk::batchnorm_relu_train_grad<T>(
        h.n, dims, xb.data(), gamma.data(), beta.data(), mean.data(),
        var.data(), da2.data(), da2.data(), nullptr, dbeta2.data(), ws.data());
    EXPECT_EQ(da2, dx) << what << " dx in place";
    EXPECT_EQ(dbeta2, dbeta) << what << " dbeta with dx in place";
    std::vector<T> dgamma3 = h.result(channels, false);
    dlk::batchnorm_relu_train_grad<T>(
        h.n, dims, xb.data(), gamma.data(), beta.data(), mean.data(),
        var.data(), dab.data(), nullptr, dgamma3.data(), nullptr, ws.data());
    EXPECT_EQ(dgamma3, dgamma) << what << " dgamma alone";
  }
}

/// The fused kernels compute what the unfused sequence computes, bit for
/// bit: batchnorm_train then relu; relu_grad then batchnorm_train_grad.
TYPED_TEST(FusedNormalizationKernel, SameBitsAsTheUnfusedKernels) {
  using T = TypeParam;
  for (unsigned seed : kSeeds) {
    Harness<T> h(seed);
    const int64_t channels = h.channels, size = h.perExample();
    double eps = h.uniform(1e-4, 1e-2);
    RefTensor x = h.random(h.shape, -3, 3);
    RefTensor gamma = h.random({channels}, 0.5, 2, false);
    RefTensor beta = h.random({channels}, -1, 1, false);
    RefTensor da = h.random(h.shape, -1, 1);
    dlk::NormalizationDims dims{size / channels, channels, eps};
    dlk::ElementwiseDims flat{size, 0.0};
    AlignedWorkspace ws(dlk::normalizationWorkspaceBytes(channels));
    std::vector<T> xb = h.buffer(x), g = h.buffer(gamma, false),
                   b = h.buffer(beta, false), dab = h.buffer(da);
    std::vector<T> moving(channels, T(1));
    std::string what = "seed " + std::to_string(seed);

    // Unfused.
    std::vector<T> y = h.result(size), a = h.result(size),
                   mean = h.result(channels, false),
                   var = h.result(channels, false);
    dlk::batchnorm_train<T>(h.n, dims, xb.data(), g.data(), b.data(),
                            moving.data(), moving.data(), y.data(), mean.data(),
                            var.data(), ws.data());
    dlk::relu<T>(h.n, flat, y.data(), a.data());
    std::vector<T> dy = h.result(size), dx = h.result(size),
                   dg = h.result(channels, false),
                   db = h.result(channels, false);
    dlk::relu_grad<T>(h.n, flat, y.data(), a.data(), dab.data(), dy.data());
    dlk::batchnorm_train_grad<T>(
        h.n, dims, xb.data(), g.data(), b.data(), moving.data(), moving.data(),
        y.data(), mean.data(), var.data(), dy.data(), dx.data(), dg.data(),
        db.data(), nullptr, nullptr, ws.data());

    // Fused.
    std::vector<T> fa = h.result(size), fmean = h.result(channels, false),
                   fvar = h.result(channels, false);
    dlk::batchnorm_relu_train<T>(h.n, dims, xb.data(), g.data(), b.data(),
                                 fa.data(), fmean.data(), fvar.data(),
                                 ws.data());
    std::vector<T> fdx = h.result(size), fdg = h.result(channels, false),
                   fdb = h.result(channels, false);
    dlk::batchnorm_relu_train_grad<T>(
        h.n, dims, xb.data(), g.data(), b.data(), fmean.data(), fvar.data(),
        dab.data(), fdx.data(), fdg.data(), fdb.data(), ws.data());
    EXPECT_EQ(fa, a) << what << " output";
    EXPECT_EQ(fmean, mean) << what << " mean";
    EXPECT_EQ(fvar, var) << what << " var";
    EXPECT_EQ(fdx, dx) << what << " dx";
    EXPECT_EQ(fdg, dg) << what << " dgamma";
    EXPECT_EQ(fdb, db) << what << " dbeta";

    // batchnorm_relu_apply from the returned statistics: the forward's
    // output bit for bit, also over x.
    std::vector<T> applied = h.result(size);
    dlk::batchnorm_relu_apply<T>(h.n, dims, xb.data(), g.data(), b.data(),
                                 fmean.data(), fvar.data(), applied.data(),
                                 ws.data());
    EXPECT_EQ(applied, fa) << what << " apply";
    std::vector<T> over = h.buffer(x);
    dlk::batchnorm_relu_apply<T>(h.n, dims, over.data(), g.data(), b.data(),
                                 fmean.data(), fvar.data(), over.data(),
                                 ws.data());
    EXPECT_EQ(over, fa) << what << " apply in place";
  }
}

/// The backward recomputes the relu mask; with da = 1, dbeta counts the
/// positions it lets through, which must be exactly those the forward's
/// output is positive at. Inputs on a coarse grid put many relu inputs at
/// or next to 0.
TYPED_TEST(FusedNormalizationKernel, BackwardMaskIsTheForwards) {
  using T = TypeParam;
  for (unsigned seed : kSeeds) {
    Harness<T> h(seed);
    const int64_t channels = h.channels;
    const int64_t rows = h.n * h.perExample() / channels;
    RefTensor x = h.random(h.shape, 0, 1);
    for (double &v : x.data)
      v = std::floor(v * 5) - 2; // -2..2
    RefTensor gamma = h.random({channels}, 0.5, 2, false);
    RefTensor beta = h.random({channels}, -0.05, 0.05, false);
    if (seed % 2)
      std::fill(beta.data.begin(), beta.data.end(), 0.0);
    dlk::NormalizationDims dims{h.perExample() / channels, channels, 1e-3};
    AlignedWorkspace ws(dlk::normalizationWorkspaceBytes(channels));
    std::vector<T> xb = h.buffer(x), g = h.buffer(gamma, false),
                   b = h.buffer(beta, false);
    std::vector<T> y = h.result(h.perExample());
    std::vector<T> mean = h.result(channels, false),
                   var = h.result(channels, false);
    dlk::batchnorm_relu_train<T>(h.n, dims, xb.data(), g.data(), b.data(),
                                 y.data(), mean.data(), var.data(), ws.data());
    std::vector<T> ones(y.size(), T(1)), dbeta = h.result(channels, false);
    dlk::batchnorm_relu_train_grad<T>(
        h.n, dims, xb.data(), g.data(), b.data(), mean.data(), var.data(),
        ones.data(), nullptr, nullptr, dbeta.data(), ws.data());
    for (int64_t c = 0; c < channels; ++c) {
      int64_t positive = 0;
      for (int64_t r = 0; r < rows; ++r)
        positive += y[r * channels + c] > T(0);
      EXPECT_EQ(static_cast<double>(dbeta[c]), static_cast<double>(positive))
          << "seed " << seed << " channel " << c;
    }
  }
}

//===----------------------------------------------------------------------===//
// Emitters
//===----------------------------------------------------------------------===//

using codegen::CpuKernel;
using codegen::CpuKernelCode;
using codegen::KernelCall;

using dlc::testing::isMalformedCall;

/// The emitter harness with this file's kernels.
struct ProgramBuilder : dlc::testing::KernelEmitterHarness {
  ProgramBuilder()
      : KernelEmitterHarness(codegen::registerFusedNormalizationKernels) {}
};

TEST(FusedNormalizationEmitter, Registry) {
  ProgramBuilder b;
  const CpuKernel &fwd = b.registry.at("batchnorm_relu_train");
  const CpuKernel &bwd = b.registry.at("batchnorm_relu_train_grad");
  EXPECT_EQ(fwd.inPlaceOperand, 0);
  EXPECT_EQ(bwd.inPlaceOperand, 5);
  EXPECT_FALSE(fwd.aliasesOperand);
  int x = b.value({3, 3, 6});
  KernelCall call{"batchnorm_relu_train", {}, {x}, {}, ""};
  EXPECT_EQ(fwd.workspaceBytes(b.program, call, 4),
            dlk::normalizationWorkspaceBytes(6));
  EXPECT_EQ(bwd.workspaceBytes(b.program, call, 8),
            dlk::normalizationWorkspaceBytes(6));
}

TEST(FusedNormalizationEmitter, Text) {
  ProgramBuilder b;
  int x = b.value({3, 3, 6}), g = b.value({6}, false), be = b.value({6}, false);
  int y = b.value({3, 3, 6}), mean = b.value({6}, false),
      var = b.value({6}, false);
  CpuKernelCode fwd = b.emit("batchnorm_relu_train", {x, g, be}, {y, mean, var},
                             {{"epsilon", 0.001}});
  EXPECT_EQ(fwd.declarations, "static constexpr dlk::NormalizationDims "
                              "k1_dims{9, 6, 0.001};\n");
  EXPECT_EQ(fwd.statement,
            "dlk::batchnorm_relu_train<T>(n, k1_dims, " + b.pointer(x, false) +
                ", " + b.pointer(g, false) + ", " + b.pointer(be, false) +
                ", " + b.pointer(y, true) + ", " + b.pointer(mean, true) +
                ", " + b.pointer(var, true) + ", ws);");

  int da = b.value({3, 3, 6}), dx = b.value({3, 3, 6}),
      dg = b.value({6}, false), db = b.value({6}, false);
  CpuKernelCode bwd =
      b.emit("batchnorm_relu_train_grad", {x, g, be, mean, var, da},
             {dx, dg, db}, {{"epsilon", 0.001}}, {false, true, false});
  EXPECT_EQ(bwd.statement,
            "dlk::batchnorm_relu_train_grad<T>(n, k2_dims, " +
                b.pointer(x, false) + ", " + b.pointer(g, false) + ", " +
                b.pointer(be, false) + ", " + b.pointer(mean, false) + ", " +
                b.pointer(var, false) + ", " + b.pointer(da, false) + ", " +
                b.pointer(dx, true) + ", nullptr, " + b.pointer(db, true) +
                ", ws);");
  CpuKernelCode apply = b.emit("batchnorm_relu_apply", {x, g, be, mean, var},
                               {y}, {{"epsilon", 0.001}});
  EXPECT_EQ(apply.statement,
            "dlk::batchnorm_relu_apply<T>(n, k3_dims, " + b.pointer(x, false) +
                ", " + b.pointer(g, false) + ", " + b.pointer(be, false) +
                ", " + b.pointer(mean, false) + ", " + b.pointer(var, false) +
                ", " + b.pointer(y, true) + ", ws);");
  EXPECT_EQ(b.registry.at("batchnorm_relu_apply").inPlaceOperand, 0);
  // No result read: no call.
  CpuKernelCode none =
      b.emit("batchnorm_relu_train_grad", {x, g, be, mean, var, da},
             {dx, dg, db}, {{"epsilon", 0.001}}, {true, true, true});
  EXPECT_EQ(none.statement, "");
}

TEST(FusedNormalizationEmitter, MalformedCallsStopTheHostCompiler) {
  ProgramBuilder b;
  int x = b.value({3, 3, 6}), g = b.value({6}, false), be = b.value({6}, false);
  int wrong = b.value({5}, false), y = b.value({3, 3, 6});
  int mean = b.value({6}, false), var = b.value({6}, false);
  EXPECT_TRUE(isMalformedCall(b.emit("batchnorm_relu_train", {x, wrong, be},
                                     {y, mean, var}, {{"epsilon", 0.001}})));
  EXPECT_TRUE(isMalformedCall(b.emit("batchnorm_relu_train", {x, g},
                                     {y, mean, var}, {{"epsilon", 0.001}})));
  EXPECT_TRUE(isMalformedCall(b.emit("batchnorm_relu_train", {x, g, be},
                                     {y, mean, var}, {{"epsilon", -1.0}})));
  EXPECT_TRUE(isMalformedCall(b.emit("batchnorm_relu_train_grad",
                                     {x, g, be, mean, var, wrong}, {y, g, be},
                                     {{"epsilon", 0.001}})));
  EXPECT_TRUE(isMalformedCall(b.emit("batchnorm_relu_train", {g, g, be},
                                     {y, mean, var}, {{"epsilon", 0.001}})));
  EXPECT_TRUE(isMalformedCall(b.emit("batchnorm_relu_apply", {x, g, be, mean},
                                     {y}, {{"epsilon", 0.001}})));
  EXPECT_TRUE(
      isMalformedCall(b.emit("batchnorm_relu_apply", {x, g, be, mean, wrong},
                             {y}, {{"epsilon", 0.001}})));
}

} // namespace
