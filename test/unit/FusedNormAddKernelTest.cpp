//===- FusedNormAddKernelTest.cpp - batchnorm + add + relu kernels --------===//
//
// The kernels of kernels/FusedNormAdd.h against the UNFUSED dlk kernels they
// replace: batchnorm_train (one or two) + add + relu forward; add_n of the
// output gradients + relu_grad + batchnorm_train_grad (one or two) backward.
// The oracle is that composition run in double on the same (T-exact)
// inputs: T = double to 1e-9, T = float to 1e-4 (relative to the largest
// reference value). In float the fused forward must equal the unfused float
// composition bit for bit (so must the backward). Random shapes (rows past
// the batch n must stay untouched), one to three output gradients, both
// forms, the shortcut's gradient, null results, and the in-place runs the
// planner may choose (a over x, dx over the first output gradient). Also the
// emitters: registry, workspace, text, malformed calls.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpu/CpuKernel.h"
#include "codegen/cpu/kernels/Elementwise.h"
#include "codegen/cpu/kernels/FusedNormAdd.h"
#include "codegen/cpu/kernels/Training.h"
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
using namespace dlc::codegen;

namespace {

/// Written into result buffers first: rows past n must keep it.
constexpr double kSentinel = 12345.0;

constexpr unsigned kSeeds[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

template <typename T> constexpr double tolerance() {
  return sizeof(T) == sizeof(double) ? 1e-9 : 1e-4;
}

using dlc::testing::AlignedWorkspace;

/// One random problem: shapes and inputs as doubles exactly representable
/// in float, so the float and double runs see the same numbers.
struct Problem {
  int64_t maxBatch = 0, n = 0, rows = 0, channels = 0;
  double epsilon = 0, epsilon2 = 0;
  int gradients = 1;
  bool projection = false;
  // Batched: maxBatch * rows * channels (rows past n: kSentinel).
  std::vector<double> x1, x2, r;
  std::vector<std::vector<double>> da;
  // Per channel.
  std::vector<double> gamma1, beta1, gamma2, beta2, movingMean, movingVar;

  int64_t perExample() const { return rows * channels; }
  int64_t batchElements() const { return n * perExample(); }
  int64_t capacity() const { return maxBatch * perExample(); }

  Problem(unsigned seed, bool projectionForm) : projection(projectionForm) {
    std::mt19937 rng(seed * 7919u + (projectionForm ? 1u : 0u));
    auto pick = [&](int64_t low, int64_t high) {
      return std::uniform_int_distribution<int64_t>(low, high)(rng);
    };
    auto uniform = [&](double low, double high) {
      return static_cast<double>(static_cast<float>(
          std::uniform_real_distribution<double>(low, high)(rng)));
    };
    maxBatch = pick(2, 5);
    n = pick(1, maxBatch - 1);
    // Every third seed has more rows than the reductions have chunks.
    rows = seed % 3 == 0 ? pick(30, 90) : pick(4, 12);
    channels = pick(1, 24);
    epsilon = uniform(1e-4, 1e-2);
    epsilon2 = uniform(1e-4, 1e-2);
    gradients = static_cast<int>(seed % 3) + 1;
    // Offsets make |mean| large against the spread in some seeds.
    double offset = seed % 2 ? 0.0 : 20.0;
    auto batched = [&](double low, double high) {
      std::vector<double> v(capacity(), kSentinel);
      for (int64_t i = 0; i < batchElements(); ++i)
        v[i] = uniform(low, high);
      return v;
    };
    auto perChannel = [&](double low, double high) {
      std::vector<double> v(channels);
      for (double &e : v)
        e = uniform(low, high);
      return v;
    };
    x1 = batched(offset - 3, offset + 3);
    x2 = batched(-2, 2);
    r = batched(-1.5, 1.5);
    for (int k = 0; k < gradients; ++k)
      da.push_back(batched(-1, 1));
    gamma1 = perChannel(0.5, 2);
    beta1 = perChannel(-1, 1);
    gamma2 = perChannel(0.5, 2);
    beta2 = perChannel(-1, 1);
    movingMean = perChannel(-1, 1);
    movingVar = perChannel(0.2, 3);
  }
};

template <typename T> std::vector<T> as(const std::vector<double> &v) {
  return std::vector<T>(v.begin(), v.end());
}

/// Every result of the block, forward and backward, in T.
template <typename T> struct Results {
  std::vector<T> a, mean1, var1, mean2, var2;
  std::vector<T> dx1, dgamma1, dbeta1, dx2, dgamma2, dbeta2, dr;

  explicit Results(const Problem &p) {
    const T sentinel = static_cast<T>(kSentinel);
    for (std::vector<T> *t : {&a, &dx1, &dx2, &dr})
      t->assign(p.capacity(), sentinel);
    for (std::vector<T> *t :
         {&mean1, &var1, &mean2, &var2, &dgamma1, &dbeta1, &dgamma2, &dbeta2})
      t->assign(p.channels, sentinel);
  }
};

/// The inputs of one run, in T.
template <typename T> struct Inputs {
  std::vector<T> x1, x2, r, gamma1, beta1, gamma2, beta2, mm, mv;
  std::vector<std::vector<T>> da;
  std::vector<const T *> daPointers;

  explicit Inputs(const Problem &p)
      : x1(as<T>(p.x1)), x2(as<T>(p.x2)), r(as<T>(p.r)),
        gamma1(as<T>(p.gamma1)), beta1(as<T>(p.beta1)), gamma2(as<T>(p.gamma2)),
        beta2(as<T>(p.beta2)), mm(as<T>(p.movingMean)), mv(as<T>(p.movingVar)) {
    for (const std::vector<double> &g : p.da)
      da.push_back(as<T>(g));
    for (const std::vector<T> &g : da)
      daPointers.push_back(g.data());
  }
};

/// The unfused sequence with the dlk kernels in T.
template <typename T>
Results<T> unfused(const Problem &p, const Inputs<T> &in) {
  Results<T> out(p);
  const int64_t n = p.n, size = p.perExample(), cap = p.capacity();
  dlk::NormalizationDims nd1{p.rows, p.channels, p.epsilon};
  dlk::NormalizationDims nd2{p.rows, p.channels, p.epsilon2};
  dlk::ElementwiseDims ed{size, 0.0};
  AlignedWorkspace ws(dlk::normalizationWorkspaceBytes(p.channels));
  std::vector<T> y1(cap), y2(cap), s(cap), ds(cap), dsum(cap);
  dlk::batchnorm_train<T>(
      n, nd1, in.x1.data(), in.gamma1.data(), in.beta1.data(), in.mm.data(),
      in.mv.data(), y1.data(), out.mean1.data(), out.var1.data(), ws.data());
  const T *shortcut = in.r.data();
  if (p.projection) {
    dlk::batchnorm_train<T>(
        n, nd2, in.x2.data(), in.gamma2.data(), in.beta2.data(), in.mm.data(),
        in.mv.data(), y2.data(), out.mean2.data(), out.var2.data(), ws.data());
    shortcut = y2.data();
  }
  dlk::add<T>(n, ed, y1.data(), shortcut, s.data());
  dlk::relu<T>(n, ed, s.data(), out.a.data());
  // Backward.
  const T *da = in.da[0].data();
  if (p.gradients > 1) {
    dlk::AddNDims sumDims{size, true, p.gradients};
    dlk::add_n<T>(n, sumDims, in.daPointers.data(), dsum.data());
    da = dsum.data();
  }
  dlk::relu_grad<T>(n, ed, s.data(), out.a.data(), da, ds.data());
  std::vector<T> dmm(p.channels), dmv(p.channels);
  dlk::batchnorm_train_grad<T>(
      n, nd1, in.x1.data(), in.gamma1.data(), in.beta1.data(), in.mm.data(),
      in.mv.data(), y1.data(), out.mean1.data(), out.var1.data(), ds.data(),
      out.dx1.data(), out.dgamma1.data(), out.dbeta1.data(), dmm.data(),
      dmv.data(), ws.data());
  if (p.projection)
    dlk::batchnorm_train_grad<T>(
        n, nd2, in.x2.data(), in.gamma2.data(), in.beta2.data(), in.mm.data(),
        in.mv.data(), y2.data(), out.mean2.data(), out.var2.data(), ds.data(),
        out.dx2.data(), out.dgamma2.data(), out.dbeta2.data(), dmm.data(),
        dmv.data(), ws.data());
  else
    std::copy(ds.begin(), ds.begin() + n * size, out.dr.begin());
  return out;
}

/// Which results the fused backward gets (false: nullptr), and whether dx
/// overwrites the first output gradient and a overwrites x.
struct FusedOptions {
  bool dx1 = true, dx2 = true, dr = true, parameterGrads = true;
  bool inPlace = false;
};

/// The fused kernels in T.
template <typename T>
Results<T> fused(const Problem &p, Inputs<T> in, const FusedOptions &o = {}) {
  Results<T> out(p);
  in.daPointers.clear(); // into this copy's gradients
  for (const std::vector<T> &g : in.da)
    in.daPointers.push_back(g.data());
  const int64_t n = p.n;
  dlk::NormAddDims dims{p.rows, p.channels, p.epsilon, p.epsilon2, p.gradients};
  AlignedWorkspace ws(dlk::fusedNormAddWorkspaceBytes(p.channels));
  // In place: a over (a copy of) x1, dx1 over the first output gradient.
  std::vector<T> xCopy = in.x1;
  T *a = out.a.data();
  if (o.inPlace)
    a = xCopy.data();
  const T *x1 = o.inPlace ? xCopy.data() : in.x1.data();
  if (p.projection)
    dlk::batchnorm_add_batchnorm_relu_train<T>(
        n, dims, x1, in.gamma1.data(), in.beta1.data(), in.x2.data(),
        in.gamma2.data(), in.beta2.data(), a, out.mean1.data(), out.var1.data(),
        out.mean2.data(), out.var2.data(), ws.data());
  else
    dlk::batchnorm_add_relu_train<T>(
        n, dims, x1, in.gamma1.data(), in.beta1.data(), in.r.data(), a,
        out.mean1.data(), out.var1.data(), ws.data());
  if (o.inPlace)
    std::copy(xCopy.begin(), xCopy.end(), out.a.begin());
  T *dx1 = o.dx1 ? out.dx1.data() : nullptr;
  if (o.inPlace && o.dx1) {
    std::fill(in.da[0].begin() + n * p.perExample(), in.da[0].end(),
              static_cast<T>(kSentinel));
    dx1 = in.da[0].data();
  }
  T *dg1 = o.parameterGrads ? out.dgamma1.data() : nullptr;
  T *db1 = o.parameterGrads ? out.dbeta1.data() : nullptr;
  if (p.projection)
    dlk::batchnorm_add_batchnorm_relu_train_grad<T>(
        n, dims, in.x1.data(), in.gamma1.data(), in.beta1.data(),
        out.mean1.data(), out.var1.data(), in.x2.data(), in.gamma2.data(),
        in.beta2.data(), out.mean2.data(), out.var2.data(), out.a.data(),
        in.daPointers.data(), dx1, dg1, db1, o.dx2 ? out.dx2.data() : nullptr,
        o.parameterGrads ? out.dgamma2.data() : nullptr,
        o.parameterGrads ? out.dbeta2.data() : nullptr, ws.data());
  else
    dlk::batchnorm_add_relu_train_grad<T>(
        n, dims, in.x1.data(), in.gamma1.data(), in.beta1.data(),
        out.mean1.data(), out.var1.data(), out.a.data(), in.daPointers.data(),
        dx1, dg1, db1, o.dr ? out.dr.data() : nullptr, ws.data());
  if (o.inPlace && o.dx1)
    std::copy(in.da[0].begin(), in.da[0].end(), out.dx1.begin());
  return out;
}

/// `got` against the double reference `want` over `count` elements,
/// relative to want's largest magnitude; the rest must keep the sentinel.
template <typename T>
void expectClose(const std::vector<T> &got, const std::vector<double> &want,
                 int64_t count, const std::string &what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 1e-6, worst = 0;
  int64_t worstAt = 0;
  for (int64_t i = 0; i < count; ++i)
    scale = std::max(scale, std::fabs(want[i]));
  for (int64_t i = 0; i < count; ++i) {
    double err = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (!(err <= worst)) {
      worst = err;
      worstAt = i;
    }
  }
  EXPECT_LE(worst, tolerance<T>() * scale)
      << what << ": element " << worstAt << " is " << got[worstAt] << ", want "
      << want[worstAt];
  for (size_t i = count; i < got.size(); ++i)
    if (got[i] != static_cast<T>(kSentinel)) {
      ADD_FAILURE() << what << ": wrote past the batch at " << i;
      break;
    }
}

template <typename T>
void expectIdentical(const std::vector<T> &got, const std::vector<T> &want,
                     const std::string &what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(got[i] == want[i]) && !(std::isnan(got[i]) && std::isnan(want[i]))) {
      ADD_FAILURE() << what << ": element " << i << " is " << got[i]
                    << ", want " << want[i] << " exactly";
      return;
    }
}

/// The results a form computes, named, with their element counts.
template <typename T> struct Named {
  const char *name;
  const std::vector<T> *value;
  int64_t count;
};

template <typename T>
std::vector<Named<T>> resultsOf(const Problem &p, const Results<T> &r) {
  const int64_t e = p.batchElements(), c = p.channels;
  std::vector<Named<T>> all = {
      {"a", &r.a, e},     {"mean1", &r.mean1, c},     {"var1", &r.var1, c},
      {"dx1", &r.dx1, e}, {"dgamma1", &r.dgamma1, c}, {"dbeta1", &r.dbeta1, c}};
  if (p.projection) {
    all.push_back({"mean2", &r.mean2, c});
    all.push_back({"var2", &r.var2, c});
    all.push_back({"dx2", &r.dx2, e});
    all.push_back({"dgamma2", &r.dgamma2, c});
    all.push_back({"dbeta2", &r.dbeta2, c});
  } else {
    all.push_back({"dr", &r.dr, e});
  }
  return all;
}

std::string describe(unsigned seed, const Problem &p) {
  return std::string(p.projection ? "projection" : "identity") + " seed " +
         std::to_string(seed) + " (n " + std::to_string(p.n) + ", rows " +
         std::to_string(p.rows) + ", C " + std::to_string(p.channels) +
         ", gradients " + std::to_string(p.gradients) + ")";
}

template <typename T> class FusedNormAddKernel : public ::testing::Test {};
using ElementTypes = ::testing::Types<double, float>;
TYPED_TEST_SUITE(FusedNormAddKernel, ElementTypes);

TYPED_TEST(FusedNormAddKernel, MatchesTheUnfusedSequenceInDouble) {
  using T = TypeParam;
  for (bool projection : {false, true})
    for (unsigned seed : kSeeds) {
      Problem p(seed, projection);
      Results<double> want = unfused<double>(p, Inputs<double>(p));
      Results<T> got = fused<T>(p, Inputs<T>(p));
      std::vector<Named<double>> wants = resultsOf(p, want);
      std::vector<Named<T>> gots = resultsOf(p, got);
      for (size_t i = 0; i < gots.size(); ++i) {
        std::vector<double> reference(wants[i].value->begin(),
                                      wants[i].value->end());
        expectClose(*gots[i].value, reference, gots[i].count,
                    describe(seed, p) + " " + gots[i].name);
      }
    }
}

TEST(FusedNormAddKernel, FloatIsBitIdenticalToTheUnfusedFloatSequence) {
  for (bool projection : {false, true})
    for (unsigned seed : kSeeds) {
      Problem p(seed, projection);
      Inputs<float> in(p);
      Results<float> want = unfused<float>(p, in);
      Results<float> got = fused<float>(p, in);
      std::vector<Named<float>> wants = resultsOf(p, want);
      std::vector<Named<float>> gots = resultsOf(p, got);
      for (size_t i = 0; i < gots.size(); ++i)
        expectIdentical(*gots[i].value, *wants[i].value,
                        describe(seed, p) + " " + gots[i].name);
    }
}

TYPED_TEST(FusedNormAddKernel, InPlaceAndNullResults) {
  using T = TypeParam;
  for (bool projection : {false, true})
    for (unsigned seed : kSeeds) {
      Problem p(seed, projection);
      Inputs<T> in(p);
      Results<T> full = fused<T>(p, in);
      std::string what = describe(seed, p);
      // a over x, dx over the first output gradient: the same bits.
      FusedOptions inPlace;
      inPlace.inPlace = true;
      Results<T> same = fused<T>(p, in, inPlace);
      expectIdentical(same.a, full.a, what + " in-place a");
      expectIdentical(same.dx1, full.dx1, what + " in-place dx1");
      if (projection)
        expectIdentical(same.dx2, full.dx2, what + " in-place dx2");
      else
        expectIdentical(same.dr, full.dr, what + " in-place dr");
      // Without the residual's gradient (dx recomputed from a and da),
      // in place too: the same dx.
      if (!projection) {
        FusedOptions noResidual;
        noResidual.dr = false;
        Results<T> r1 = fused<T>(p, in, noResidual);
        expectIdentical(r1.dx1, full.dx1, what + " dx1 without dr");
        expectIdentical(r1.dgamma1, full.dgamma1, what + " dgamma without dr");
        noResidual.inPlace = true;
        Results<T> r2 = fused<T>(p, in, noResidual);
        expectIdentical(r2.dx1, full.dx1, what + " in-place dx1 without dr");
      }
      // Only one input gradient of the two, or none but the parameters'.
      FusedOptions one;
      one.dx2 = false;
      one.parameterGrads = false;
      Results<T> r3 = fused<T>(p, in, one);
      expectIdentical(r3.dx1, full.dx1, what + " dx1 alone");
      if (projection) {
        FusedOptions other;
        other.dx1 = false;
        Results<T> r4 = fused<T>(p, in, other);
        expectIdentical(r4.dx2, full.dx2, what + " dx2 alone");
        expectIdentical(r4.dgamma1, full.dgamma1, what + " dgamma1, no dx");
        for (T v : r4.dx1)
          if (v != static_cast<T>(kSentinel)) {
            ADD_FAILURE() << what << ": wrote dx1 without a buffer";
            break;
          }
      }
    }
}

//===----------------------------------------------------------------------===//
// Emitters
//===----------------------------------------------------------------------===//

using dlc::testing::isMalformedCall;

/// The emitter harness with this file's kernels.
struct ProgramBuilder : dlc::testing::KernelEmitterHarness {
  ProgramBuilder()
      : KernelEmitterHarness(codegen::registerFusedNormAddKernels) {}
};

TEST(FusedNormAddEmitter, Registry) {
  ProgramBuilder b;
  EXPECT_EQ(b.registry.at("batchnorm_add_relu_train").inPlaceOperand, 0);
  EXPECT_EQ(b.registry.at("batchnorm_add_batchnorm_relu_train").inPlaceOperand,
            0);
  EXPECT_EQ(b.registry.at("batchnorm_add_relu_train_grad").inPlaceOperand, 6);
  EXPECT_EQ(
      b.registry.at("batchnorm_add_batchnorm_relu_train_grad").inPlaceOperand,
      11);
  int x = b.value({3, 3, 6});
  KernelCall call{"batchnorm_add_relu_train", {}, {x}, {}, ""};
  for (const auto &[name, kernel] : b.registry)
    EXPECT_EQ(kernel.workspaceBytes(b.program, call, 4),
              dlk::fusedNormAddWorkspaceBytes(6))
        << name;
}

TEST(FusedNormAddEmitter, Text) {
  ProgramBuilder b;
  int x = b.value({3, 3, 6}), g = b.value({6}, false), be = b.value({6}, false);
  int r = b.value({3, 3, 6}), a = b.value({3, 3, 6});
  int mean = b.value({6}, false), var = b.value({6}, false);
  CpuKernelCode fwd = b.emit("batchnorm_add_relu_train", {x, g, be, r},
                             {a, mean, var}, {{"epsilon", 0.001}});
  EXPECT_EQ(fwd.declarations, "static constexpr dlk::NormAddDims "
                              "k1_dims{9, 6, 0.001, 0.001, 0};\n");
  EXPECT_EQ(fwd.statement,
            "dlk::batchnorm_add_relu_train<T>(n, k1_dims, " +
                b.pointer(x, false) + ", " + b.pointer(g, false) + ", " +
                b.pointer(be, false) + ", " + b.pointer(r, false) + ", " +
                b.pointer(a, true) + ", " + b.pointer(mean, true) + ", " +
                b.pointer(var, true) + ", ws);");

  int da0 = b.value({3, 3, 6}), da1 = b.value({3, 3, 6});
  int dx = b.value({3, 3, 6}), dg = b.value({6}, false),
      db = b.value({6}, false), dr = b.value({3, 3, 6});
  CpuKernelCode bwd = b.emit(
      "batchnorm_add_relu_train_grad", {x, g, be, mean, var, a, da0, da1},
      {dx, dg, db, dr}, {{"epsilon", 0.001}}, {false, false, false, true});
  EXPECT_EQ(bwd.declarations, "static constexpr dlk::NormAddDims "
                              "k2_dims{9, 6, 0.001, 0.001, 2};\n");
  EXPECT_EQ(bwd.statement,
            "{\n  const T *const k2_da[] = {" + b.pointer(da0, false) + ", " +
                b.pointer(da1, false) +
                "};\n  dlk::batchnorm_add_relu_train_grad<T>(n, k2_dims, " +
                b.pointer(x, false) + ", " + b.pointer(g, false) + ", " +
                b.pointer(be, false) + ", " + b.pointer(mean, false) + ", " +
                b.pointer(var, false) + ", " + b.pointer(a, false) +
                ", k2_da, " + b.pointer(dx, true) + ", " + b.pointer(dg, true) +
                ", " + b.pointer(db, true) + ", nullptr, ws);\n}");

  int x2 = b.value({3, 3, 6}), m2 = b.value({6}, false),
      v2 = b.value({6}, false);
  CpuKernelCode fwd2 =
      b.emit("batchnorm_add_batchnorm_relu_train", {x, g, be, x2, g, be},
             {a, mean, var, m2, v2}, {{"epsilon", 0.001}, {"epsilon2", 0.002}});
  EXPECT_EQ(fwd2.declarations, "static constexpr dlk::NormAddDims "
                               "k3_dims{9, 6, 0.001, 0.002, 0};\n");
  int dx2 = b.value({3, 3, 6});
  CpuKernelCode bwd2 = b.emit("batchnorm_add_batchnorm_relu_train_grad",
                              {x, g, be, mean, var, x2, g, be, m2, v2, a, da0},
                              {dx, dg, db, dx2, dg, db},
                              {{"epsilon", 0.001}, {"epsilon2", 0.002}});
  EXPECT_EQ(bwd2.declarations, "static constexpr dlk::NormAddDims "
                               "k4_dims{9, 6, 0.001, 0.002, 1};\n");
  EXPECT_NE(bwd2.statement.find("const T *const k4_da[] = {" +
                                b.pointer(da0, false) + "};"),
            std::string::npos);
  // No result read: no call.
  CpuKernelCode none =
      b.emit("batchnorm_add_relu_train_grad", {x, g, be, mean, var, a, da0},
             {dx, dg, db, dr}, {{"epsilon", 0.001}}, {true, true, true, true});
  EXPECT_EQ(none.statement, "");
}

TEST(FusedNormAddEmitter, MalformedCallsStopTheHostCompiler) {
  ProgramBuilder b;
  int x = b.value({3, 3, 6}), g = b.value({6}, false), be = b.value({6}, false);
  int wrong = b.value({5}, false), y = b.value({3, 3, 6});
  int other = b.value({3, 3, 5});
  int mean = b.value({6}, false), var = b.value({6}, false);
  Attrs eps{{"epsilon", 0.001}};
  EXPECT_TRUE(isMalformedCall(b.emit("batchnorm_add_relu_train",
                                     {x, wrong, be, y}, {y, mean, var}, eps)));
  EXPECT_TRUE(isMalformedCall(
      b.emit("batchnorm_add_relu_train", {x, g, be}, {y, mean, var}, eps)));
  EXPECT_TRUE(isMalformedCall(b.emit("batchnorm_add_relu_train",
                                     {x, g, be, other}, {y, mean, var}, eps)));
  EXPECT_TRUE(isMalformedCall(b.emit("batchnorm_add_relu_train", {x, g, be, y},
                                     {y, mean, var}, {{"epsilon", -1.0}})));
  // The projection form needs epsilon2.
  EXPECT_TRUE(isMalformedCall(b.emit("batchnorm_add_batchnorm_relu_train",
                                     {x, g, be, y, g, be},
                                     {y, mean, var, mean, var}, eps)));
  // A gradient without output gradients, or with one of another shape.
  EXPECT_TRUE(
      isMalformedCall(b.emit("batchnorm_add_relu_train_grad",
                             {x, g, be, mean, var, y}, {y, g, be, y}, eps)));
  EXPECT_TRUE(isMalformedCall(b.emit("batchnorm_add_relu_train_grad",
                                     {x, g, be, mean, var, y, other},
                                     {y, g, be, y}, eps)));
  EXPECT_TRUE(
      isMalformedCall(b.emit("batchnorm_add_relu_train_grad",
                             {g, g, be, mean, var, y, y}, {y, g, be, y}, eps)));
}

} // namespace
