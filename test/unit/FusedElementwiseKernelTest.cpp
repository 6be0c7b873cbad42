//===- FusedElementwiseKernelTest.cpp - fused elementwise loops -----------===//
//
// The per-op scalar formulas of kernels/FusedElementwise.h against the
// float64 reference ops (test/reference) on random data, and bit for bit
// against the unfused float kernels they replace (same arithmetic, same
// order); the body encoding of codegen/FusedElementwiseBody.h; and the
// emitter (codegen/cpu/FusedElementwiseKernels.cpp): its text, its errors,
// and generated programs that run a fused chain and the unfused kernels on
// the same data and must agree exactly.
//
//===----------------------------------------------------------------------===//
#include "codegen/FusedElementwiseBody.h"
#include "codegen/cpu/CpuKernel.h"
#include "codegen/cpu/FusedElementwiseKernels.h"
#include "codegen/cpu/kernels/Elementwise.h"
#include "codegen/cpu/kernels/FusedElementwise.h"
#include "codegen/cpu/kernels/Training.h"
#include "test/reference/ReferenceOps.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

using namespace dlc;
using namespace dlc::codegen;
using dlc::ref::RefTensor;

namespace {

//===----------------------------------------------------------------------===//
// Harness
//===----------------------------------------------------------------------===//

std::vector<double> randomValues(size_t count, unsigned seed, double lo = -3,
                                 double hi = 3) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(count);
  for (double &x : v)
    x = dist(rng);
  return v;
}

RefTensor tensorOf(const std::vector<double> &data) {
  RefTensor t({1, static_cast<int64_t>(data.size())});
  t.data = data;
  return t;
}

RefTensor scalarOf(double value) {
  RefTensor t(std::vector<int64_t>{});
  t.data = {value};
  return t;
}

std::vector<RefTensor> refForward(const std::string &op,
                                  const std::vector<RefTensor> &inputs,
                                  const Attrs &attrs = {}) {
  std::vector<RefTensor> outputs;
  std::string error;
  EXPECT_TRUE(
      ref::referenceOps().at(op).forward(inputs, {}, attrs, outputs, error))
      << op << ": " << error;
  return outputs;
}

/// The reference input gradients of `op` for output gradient `dy`.
std::vector<RefTensor> refBackward(const std::string &op,
                                   const std::vector<RefTensor> &inputs,
                                   const RefTensor &dy,
                                   const Attrs &attrs = {}) {
  std::vector<RefTensor> outputs = refForward(op, inputs, attrs);
  std::vector<RefTensor> inputGrads, paramGrads;
  std::string error;
  EXPECT_TRUE(ref::referenceOps().at(op).backward(
      inputs, {}, attrs, outputs, {dy}, inputGrads, paramGrads, error))
      << op << ": " << error;
  return inputGrads;
}

constexpr size_t kCount = 203;

//===----------------------------------------------------------------------===//
// Scalar formulas against the float64 reference
//===----------------------------------------------------------------------===//

TEST(FusedElementwiseFormulas, ActivationsMatchTheReference) {
  using F = double (*)(double);
  const std::pair<const char *, F> forward[] = {
      {"relu", dlk::fused::relu<double>},
      {"sigmoid", dlk::fused::sigmoid<double>},
      {"tanh", dlk::fused::tanh<double>},
      {"abs", dlk::fused::abs<double>}};
  for (unsigned seed = 0; seed < 3; ++seed) {
    std::vector<double> x = randomValues(kCount, seed);
    std::vector<double> dy = randomValues(kCount, seed + 100);
    for (const auto &[name, f] : forward) {
      RefTensor y = refForward(name, {tensorOf(x)})[0];
      RefTensor dx = refBackward(name, {tensorOf(x)}, tensorOf(dy))[0];
      for (size_t i = 0; i < kCount; ++i) {
        EXPECT_NEAR(f(x[i]), y.data[i], 1e-12) << name << " at " << i;
        double grad = 0;
        std::string op = name;
        if (op == "relu")
          grad = dlk::fused::relu_grad(y.data[i], dy[i]);
        else if (op == "abs")
          grad = dlk::fused::abs_grad(x[i], dy[i]);
        else if (op == "sigmoid")
          grad = dlk::fused::sigmoid_grad(y.data[i], dy[i]);
        else
          grad = dlk::fused::tanh_grad(y.data[i], dy[i]);
        EXPECT_NEAR(grad, dx.data[i], 1e-12) << name << "_grad at " << i;
      }
    }
    Attrs alpha{{"alpha", 0.25}};
    RefTensor ly = refForward("leaky_relu", {tensorOf(x)}, alpha)[0];
    RefTensor ldx =
        refBackward("leaky_relu", {tensorOf(x)}, tensorOf(dy), alpha)[0];
    RefTensor ey = refForward("elu", {tensorOf(x)}, alpha)[0];
    RefTensor edx = refBackward("elu", {tensorOf(x)}, tensorOf(dy), alpha)[0];
    for (size_t i = 0; i < kCount; ++i) {
      EXPECT_NEAR(dlk::fused::leaky_relu(x[i], 0.25), ly.data[i], 1e-12);
      EXPECT_NEAR(dlk::fused::leaky_relu_grad(x[i], dy[i], 0.25), ldx.data[i],
                  1e-12);
      EXPECT_NEAR(dlk::fused::elu(x[i], 0.25), ey.data[i], 1e-12);
      EXPECT_NEAR(dlk::fused::elu_grad(x[i], dy[i], 0.25), edx.data[i], 1e-12);
    }
  }
}

TEST(FusedElementwiseFormulas, MergesMatchTheReference) {
  std::vector<double> a = randomValues(kCount, 1), b = randomValues(kCount, 2);
  std::vector<double> dy = randomValues(kCount, 3);
  RefTensor sum = refForward("add", {tensorOf(a), tensorOf(b)})[0];
  RefTensor diff = refForward("subtract", {tensorOf(a), tensorOf(b)})[0];
  RefTensor prod = refForward("multiply", {tensorOf(a), tensorOf(b)})[0];
  std::vector<RefTensor> dsub =
      refBackward("subtract", {tensorOf(a), tensorOf(b)}, tensorOf(dy));
  std::vector<RefTensor> dmul =
      refBackward("multiply", {tensorOf(a), tensorOf(b)}, tensorOf(dy));
  for (size_t i = 0; i < kCount; ++i) {
    EXPECT_DOUBLE_EQ(dlk::fused::add(a[i], b[i]), sum.data[i]);
    EXPECT_DOUBLE_EQ(dlk::fused::subtract(a[i], b[i]), diff.data[i]);
    EXPECT_DOUBLE_EQ(dlk::fused::multiply(a[i], b[i]), prod.data[i]);
    double da = 0, db = 0;
    dlk::fused::subtract_grad(dy[i], da, db);
    EXPECT_DOUBLE_EQ(da, dsub[0].data[i]);
    EXPECT_DOUBLE_EQ(db, dsub[1].data[i]);
    dlk::fused::multiply_grad(a[i], b[i], dy[i], da, db);
    EXPECT_NEAR(da, dmul[0].data[i], 1e-12);
    EXPECT_NEAR(db, dmul[1].data[i], 1e-12);
  }
}

TEST(FusedElementwiseFormulas, LossGradientsMatchTheReference) {
  std::vector<double> logits = randomValues(kCount, 4);
  std::vector<double> probs = randomValues(kCount, 5, 0.01, 0.99);
  std::vector<double> target = randomValues(kCount, 6, 0, 1);
  const double dloss = 0.75;
  struct Case {
    const char *op;
    bool fromLogits;
    const std::vector<double> &pred;
  };
  const Case cases[] = {{"binary_crossentropy", true, logits},
                        {"binary_crossentropy", false, probs},
                        {"mse", false, logits},
                        {"mae", false, logits}};
  for (const Case &c : cases) {
    Attrs attrs{{"from_logits", c.fromLogits}};
    std::vector<RefTensor> grads = refBackward(
        c.op, {tensorOf(c.pred), tensorOf(target)}, scalarOf(dloss), attrs);
    const double scale =
        dlk::fused::lossGradScale<double>(dloss, static_cast<int64_t>(kCount));
    for (size_t i = 0; i < kCount; ++i) {
      double dp = 0, dt = 0;
      std::string op = c.op;
      if (op == "binary_crossentropy")
        dlk::fused::binary_crossentropy_grad(scale, c.fromLogits, c.pred[i],
                                             target[i], dp, dt);
      else if (op == "mse")
        dlk::fused::mse_grad(scale, c.pred[i], target[i], dp, dt);
      else
        dlk::fused::mae_grad(scale, c.pred[i], target[i], dp, dt);
      EXPECT_NEAR(dp, grads[0].data[i], 1e-12) << op << " at " << i;
      EXPECT_NEAR(dt, grads[1].data[i], 1e-12) << op << " at " << i;
    }
  }
}

TEST(FusedElementwiseFormulas, DropoutMaskIsTheReferenceMask) {
  std::vector<double> x = randomValues(kCount, 7);
  for (double rate : {0.0, 0.3, 0.5, 0.9}) {
    Attrs attrs{{"rate", rate},
                {"seed_offset", int64_t{2}},
                {"training", true},
                {"seed", int64_t{11}}};
    RefTensor y = refForward("dropout", {tensorOf(x)}, attrs)[0];
    dlk::StepContext ctx;
    ctx.seed = 11;
    const auto scalars = dlk::fused::dropoutScalars<double>(ctx, rate, 2);
    for (size_t i = 0; i < kCount; ++i) {
      const dlc::rt::PhiloxBlock words =
          scalars.words(static_cast<int64_t>(i / 4));
      EXPECT_NEAR(dlk::fused::dropout(scalars, words.v[i % 4], x[i]), y.data[i],
                  1e-12)
          << "rate " << rate << " at " << i;
    }
  }
}

//===----------------------------------------------------------------------===//
// Bit for bit against the unfused float kernels
//===----------------------------------------------------------------------===//

std::vector<float> floats(size_t count, unsigned seed, double lo = -3,
                          double hi = 3) {
  std::vector<double> d = randomValues(count, seed, lo, hi);
  return std::vector<float>(d.begin(), d.end());
}

void expectSameBits(const std::vector<float> &a, const std::vector<float> &b,
                    const char *what) {
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0)
      << what;
}

TEST(FusedElementwiseFormulas, ActivationsAreBitIdenticalToTheKernels) {
  const int64_t n = 7, size = 29;
  const size_t total = n * size;
  std::vector<float> x = floats(total, 1), dy = floats(total, 2);
  std::vector<float> y(total), dx(total), fused(total);
  dlk::ElementwiseDims d{size, 0.2};
  dlk::sigmoid<float>(n, d, x.data(), y.data());
  for (size_t i = 0; i < total; ++i)
    fused[i] = dlk::fused::sigmoid(x[i]);
  expectSameBits(y, fused, "sigmoid");
  dlk::sigmoid_grad<float>(n, d, x.data(), y.data(), dy.data(), dx.data());
  for (size_t i = 0; i < total; ++i)
    fused[i] = dlk::fused::sigmoid_grad(y[i], dy[i]);
  expectSameBits(dx, fused, "sigmoid_grad");
  std::vector<float> r(total);
  dlk::relu<float>(n, d, x.data(), r.data());
  dlk::relu_grad<float>(n, d, x.data(), r.data(), dy.data(), dx.data());
  for (size_t i = 0; i < total; ++i)
    fused[i] = dlk::fused::relu_grad(r[i], dy[i]);
  expectSameBits(dx, fused, "relu_grad");
  dlk::elu_grad<float>(n, d, x.data(), y.data(), dy.data(), dx.data());
  for (size_t i = 0; i < total; ++i)
    fused[i] = dlk::fused::elu_grad(x[i], dy[i], 0.2f);
  expectSameBits(dx, fused, "elu_grad");
  for (int64_t step : {0, 3}) {
    dlk::StepContext ctx;
    ctx.seed = 5;
    ctx.step = step;
    dlk::DropoutDims dd{size, 0.4, 1};
    dlk::dropout_grad<float>(n, dd, ctx, x.data(), y.data(), dy.data(),
                             dx.data());
    const auto s = dlk::fused::dropoutScalars<float>(ctx, 0.4, 1);
    for (size_t i = 0; i < total; ++i)
      fused[i] = dlk::fused::dropout_grad(
          s, s.words(static_cast<int64_t>(i / 4)).v[i % 4], dy[i]);
    expectSameBits(dx, fused, "dropout_grad");
  }
  std::vector<float> t = floats(total, 3, 0, 1), dt(total), fusedDt(total);
  const float dloss = 1.5f;
  dlk::LossDims ld{size, size, true};
  dlk::binary_crossentropy_grad<float>(n, ld, x.data(), t.data(), nullptr,
                                       &dloss, dx.data(), dt.data());
  const double scale =
      dlk::fused::lossGradScale(dloss, static_cast<int64_t>(total));
  for (size_t i = 0; i < total; ++i)
    dlk::fused::binary_crossentropy_grad(scale, true, x[i], t[i], fused[i],
                                         fusedDt[i]);
  expectSameBits(dx, fused, "binary_crossentropy_grad dpred");
  expectSameBits(dt, fusedDt, "binary_crossentropy_grad dtarget");
}

TEST(FusedElementwiseFormulas, UpdatesAreBitIdenticalToTheKernels) {
  const size_t count = 157;
  dlk::StepContext ctx;
  ctx.step = 4;
  ctx.lr = 0.01;
  const std::vector<float> g = floats(count, 1);
  // Adam and AdamW, with and without amsgrad.
  for (double decay : {0.0, 0.004})
    for (bool amsgrad : {false, true}) {
      std::vector<float> p = floats(count, 2), m = floats(count, 3, -0.1, 0.1),
                         v = floats(count, 4, 0, 0.1),
                         vh = floats(count, 5, 0, 0.1);
      std::vector<float> p2 = p, m2 = m, v2 = v, vh2 = vh;
      dlk::AdamDims d{
          static_cast<int64_t>(count), false, 0.9, 0.999, 1e-7, amsgrad, decay};
      dlk::adamw_update<float>(1, d, ctx, p.data(), g.data(), m.data(),
                               v.data(), amsgrad ? vh.data() : nullptr);
      const auto s =
          dlk::fused::adamScalars<float>(ctx, 0.9, 0.999, 1e-7, decay);
      for (size_t i = 0; i < count; ++i) {
        if (amsgrad)
          dlk::fused::adam_update<float, true>(s, p2[i], g[i], m2[i], v2[i],
                                               vh2[i]);
        else
          dlk::fused::adam_update<float, false>(s, p2[i], g[i], m2[i], v2[i],
                                                vh2[i]);
      }
      expectSameBits(p, p2, "adam p");
      expectSameBits(m, m2, "adam m");
      expectSameBits(v, v2, "adam v");
      expectSameBits(vh, vh2, "adam vhat");
    }
  // SGD: plain, momentum, nesterov.
  for (int variant = 0; variant < 3; ++variant) {
    std::vector<float> p = floats(count, 6), v = floats(count, 7);
    std::vector<float> p2 = p, v2 = v;
    const double momentum = variant == 0 ? 0.0 : 0.9;
    dlk::SgdDims d{static_cast<int64_t>(count), false, momentum, variant == 2};
    dlk::sgd_update<float>(1, d, ctx, p.data(), g.data(),
                           variant == 0 ? nullptr : v.data());
    const auto s = dlk::fused::sgdScalars<float>(ctx, momentum);
    for (size_t i = 0; i < count; ++i) {
      if (variant == 0)
        dlk::fused::sgd_update(s, p2[i], g[i]);
      else if (variant == 1)
        dlk::fused::sgd_update<float, false>(s, p2[i], g[i], v2[i]);
      else
        dlk::fused::sgd_update<float, true>(s, p2[i], g[i], v2[i]);
    }
    expectSameBits(p, p2, "sgd p");
    expectSameBits(v, v2, "sgd velocity");
  }
  // RMSprop, centered with momentum.
  {
    std::vector<float> p = floats(count, 8), rms = floats(count, 9, 0, 1),
                       mom = floats(count, 10),
                       mean = floats(count, 11, -.1, .1);
    std::vector<float> p2 = p, rms2 = rms, mom2 = mom, mean2 = mean;
    dlk::RmspropDims d{
        static_cast<int64_t>(count), false, 0.9, 0.5, 1e-7, true};
    dlk::rmsprop_update<float>(1, d, ctx, p.data(), g.data(), rms.data(),
                               mom.data(), mean.data());
    const auto s = dlk::fused::rmspropScalars<float>(ctx, 0.9, 0.5, 1e-7);
    for (size_t i = 0; i < count; ++i)
      dlk::fused::rmsprop_update<float, true, true>(s, p2[i], g[i], rms2[i],
                                                    mom2[i], mean2[i]);
    expectSameBits(p, p2, "rmsprop p");
    expectSameBits(rms, rms2, "rmsprop rms");
    expectSameBits(mom, mom2, "rmsprop mom");
    expectSameBits(mean, mean2, "rmsprop mean");
  }
  // l2_loss_grad, add_n and the moving average.
  {
    std::vector<float> w = floats(count, 12), dw(count), fused(count);
    const float dy = 0.5f;
    dlk::L2LossDims d{static_cast<int64_t>(count), false, 1e-4};
    dlk::l2_loss_grad<float>(1, d, w.data(), nullptr, &dy, dw.data());
    const float scale = dlk::fused::l2LossGradScale(1e-4, dy);
    for (size_t i = 0; i < count; ++i)
      fused[i] = dlk::fused::l2_loss_grad(scale, w[i]);
    expectSameBits(dw, fused, "l2_loss_grad");
    const std::vector<float> c = floats(count, 13);
    const float *inputs[] = {w.data(), g.data(), c.data()};
    dlk::AddNDims ad{static_cast<int64_t>(count), false, 3};
    dlk::add_n<float>(1, ad, inputs, dw.data());
    for (size_t i = 0; i < count; ++i)
      fused[i] = dlk::fused::add(dlk::fused::add(w[i], g[i]), c[i]);
    expectSameBits(dw, fused, "add_n");
    std::vector<float> moving = w, moving2 = w;
    dlk::MovingAverageDims md{static_cast<int64_t>(count), false, 0.99};
    dlk::moving_average_update<float>(1, md, moving.data(), g.data());
    const auto ms = dlk::fused::movingAverageScalars<float>(0.99);
    for (size_t i = 0; i < count; ++i)
      dlk::fused::moving_average_update(ms, moving2[i], g[i]);
    expectSameBits(moving, moving2, "moving_average_update");
  }
}

//===----------------------------------------------------------------------===//
// The body encoding
//===----------------------------------------------------------------------===//

FusedBody dropoutReluBody() {
  FusedBody body;
  body.inputs = 4;
  body.ops.push_back({"dropout_grad",
                      {0, 1, 2},
                      {4},
                      {{"rate", 0.5}, {"seed_offset", int64_t{3}}}});
  body.ops.push_back({"relu_grad", {3, 0, 4}, {5}, {}});
  body.yields = {5};
  return body;
}

TEST(FusedElementwiseBody, RoundTrips) {
  FusedBody body = dropoutReluBody();
  Attrs attrs;
  encodeFusedBody(body, attrs);
  EXPECT_EQ(getString(attrs, "body", ""),
            "dropout_grad 0 1 2 -> 4\nrelu_grad 3 0 4 -> 5\nyield 5");
  EXPECT_EQ(getFloat(attrs, "0.rate", 0), 0.5);
  FusedBody decoded;
  std::string error;
  ASSERT_TRUE(decodeFusedBody(attrs, 4, decoded, error)) << error;
  ASSERT_EQ(decoded.ops.size(), 2u);
  EXPECT_EQ(decoded.ops[0].name, "dropout_grad");
  EXPECT_EQ(decoded.ops[0].operands, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(decoded.ops[1].results, (std::vector<int>{5}));
  EXPECT_EQ(getInt(decoded.ops[0].attrs, "seed_offset", 0), 3);
  EXPECT_TRUE(decoded.ops[1].attrs.empty());
  EXPECT_EQ(decoded.yields, (std::vector<int>{5}));
  EXPECT_EQ(decoded.valueCount(), 6);
}

TEST(FusedElementwiseBody, RejectsMalformedBodies) {
  const std::pair<std::string, std::string> cases[] = {
      {"relu 0 -> 2\nyield 2", "not numbered in order"},
      {"relu 3 -> 1\nyield 1", "used before it is defined"},
      {"relu 0 -> 1", "no yield"},
      {"yield 0", "no ops"},
      {"relu x -> 1\nyield 1", "bad operand"},
      {"relu 0\nyield 1", "bad results"},
      {"relu 0 -> 1\nyield 1\nrelu 1 -> 2", "after the yield"},
      {"relu 0 -> 1\nyield 7", "used before it is defined"},
      {"relu 99999999999999999999 -> 1\nyield 1", "bad operand"},
  };
  for (const auto &[text, why] : cases) {
    Attrs attrs{{"body", text}};
    FusedBody body;
    std::string error;
    EXPECT_FALSE(decodeFusedBody(attrs, 1, body, error)) << text;
    EXPECT_NE(error.find(why), std::string::npos) << text << ": " << error;
  }
  Attrs noBody;
  FusedBody body;
  std::string error;
  EXPECT_FALSE(decodeFusedBody(noBody, 1, body, error));
  Attrs stray{{"body", std::string("relu 0 -> 1\nyield 1")}, {"4.rate", 0.5}};
  EXPECT_FALSE(decodeFusedBody(stray, 1, body, error));
  EXPECT_NE(error.find("of no op"), std::string::npos);
}

//===----------------------------------------------------------------------===//
// The emitter
//===----------------------------------------------------------------------===//

TEST(FusedElementwiseTable, RolesComeFromTheTable) {
  std::vector<FusedRole> roles;
  const FusedScalarOp *relu = findFusedScalarOp("relu_grad");
  ASSERT_NE(relu, nullptr);
  ASSERT_TRUE(fusedOperandRoles(*relu, 3, roles));
  EXPECT_EQ(roles,
            (std::vector<FusedRole>{FusedRole::Unread, FusedRole::Element,
                                    FusedRole::Element}));
  EXPECT_FALSE(fusedOperandRoles(*relu, 2, roles));
  const FusedScalarOp *addN = findFusedScalarOp("add_n");
  ASSERT_TRUE(fusedOperandRoles(*addN, 5, roles));
  EXPECT_EQ(roles.size(), 5u);
  const FusedScalarOp *adam = findFusedScalarOp("adam_update");
  ASSERT_TRUE(fusedOperandRoles(*adam, 5, roles));
  EXPECT_EQ(roles[0], FusedRole::State);
  EXPECT_EQ(roles[1], FusedRole::Element);
  EXPECT_FALSE(fusedOperandRoles(*adam, 6, roles));
  EXPECT_EQ(findFusedScalarOp("conv2d"), nullptr);
  EXPECT_EQ(findFusedScalarOp("clip_norm"), nullptr);
}

KernelValue valueOf(Shape shape, bool batched,
                    KernelValue::Kind kind = KernelValue::Kind::Temporary) {
  KernelValue v;
  v.kind = kind;
  v.type.elementType = ElementType::F32;
  v.type.shape = std::move(shape);
  v.type.batched = batched;
  return v;
}

/// A program with one fused call: operands `ops`, results `results` (value
/// ids into `values`), the body `body`.
struct FusedCall {
  KernelProgram program;
  KernelCall call;

  FusedCall(std::vector<KernelValue> values, std::vector<int> operands,
            std::vector<int> results, const FusedBody &body) {
    program.modelName = "m";
    program.maxBatch = 8;
    program.values = std::move(values);
    call.op = "fused_elementwise";
    call.operands = std::move(operands);
    call.results = std::move(results);
    call.location = "m.dl:1:1";
    encodeFusedBody(body, call.attrs);
  }

  CpuKernelCode emit(std::vector<bool> unused = {}) const {
    CpuKernelArgs args{program, call, {}, {}, "nullptr", "k1"};
    for (int id : call.operands)
      args.operands.push_back("reinterpret_cast<const T *>(arena + " +
                              std::to_string(id * 4096) + ")");
    for (size_t r = 0; r < call.results.size(); ++r)
      args.results.push_back(r < unused.size() && unused[r]
                                 ? "nullptr"
                                 : "reinterpret_cast<T *>(arena + " +
                                       std::to_string(call.results[r] * 4096) +
                                       ")");
    return cpuKernels().at("fused_elementwise").emit(args);
  }
};

FusedCall dropoutReluCall() {
  std::vector<KernelValue> values(6, valueOf({5, 3}, true));
  return FusedCall(values, {0, 1, 2, 3}, {5}, dropoutReluBody());
}

bool isError(const CpuKernelCode &code, const std::string &why) {
  return code.statement.find("static_assert") != std::string::npos &&
         code.statement.find(why) != std::string::npos;
}

TEST(FusedElementwiseEmitter, EmitsOneBlockedLoopForADropoutChain) {
  const CpuKernel &kernel = cpuKernels().at("fused_elementwise");
  EXPECT_EQ(kernel.inPlaceOperand, 0);
  CpuKernelCode code = dropoutReluCall().emit();
  const std::string &s = code.statement;
  EXPECT_NE(s.find("const int64_t total = n * 15;"), std::string::npos) << s;
  EXPECT_NE(s.find("dlk::fused::dropoutScalars<T>(ctx, 0.5, 3)"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("for (int64_t b = 0; b < blocks; ++b)"), std::string::npos);
  EXPECT_NE(s.find("dlk::fused::relu_grad<T>(v0, v4)"), std::string::npos) << s;
  // dropout_grad reads neither x nor y, relu_grad not x: operands 1 and 3
  // are never loaded.
  EXPECT_EQ(s.find("in1"), std::string::npos) << s;
  EXPECT_EQ(s.find("in3"), std::string::npos) << s;
  EXPECT_NE(s.find("out0[i] = v5;"), std::string::npos);
  // The operands the loop never loads are not read (they may die earlier).
  const FusedCall call = dropoutReluCall();
  ASSERT_NE(kernel.readsOperand, nullptr);
  std::vector<bool> passed = {true};
  EXPECT_TRUE(kernel.readsOperand(call.call, 0, passed));
  EXPECT_FALSE(kernel.readsOperand(call.call, 1, passed));
  EXPECT_TRUE(kernel.readsOperand(call.call, 2, passed));
  EXPECT_FALSE(kernel.readsOperand(call.call, 3, passed));
  // Nobody reads the result: nothing runs.
  EXPECT_TRUE(dropoutReluCall().emit({true}).statement.empty());
}

TEST(FusedElementwiseEmitter, EmitsAFlatLoopWithScalarsAndStates) {
  // l2_loss_grad + add_n + sgd_update with momentum: the 0-d seed is read
  // once, the parameter and velocity are loaded, updated and stored.
  std::vector<KernelValue> values = {
      valueOf({}, false), valueOf({}, false), valueOf({3, 4}, false),
      valueOf({3, 4}, false, KernelValue::Kind::Persistent),
      valueOf({3, 4}, false, KernelValue::Kind::Persistent)};
  FusedBody body;
  body.inputs = 5;
  body.ops.push_back({"l2_loss_grad", {3, 0, 1}, {5}, {{"l2", 1e-4}}});
  body.ops.push_back({"add_n", {5, 2}, {6}, {}});
  body.ops.push_back(
      {"sgd_update", {3, 6, 4}, {}, {{"momentum", 0.9}, {"nesterov", false}}});
  FusedCall fused(values, {0, 1, 2, 3, 4}, {}, body);
  const std::string s = fused.emit().statement;
  EXPECT_NE(s.find("const int64_t total = 12;"), std::string::npos) << s;
  EXPECT_NE(s.find("const T v1 = (reinterpret_cast<const T *>(arena + "
                   "4096))[0];"),
            std::string::npos)
      << s;
  EXPECT_EQ(s.find("in0"), std::string::npos) << s; // the loss: unread
  EXPECT_NE(s.find("T v3 = in3[i];"), std::string::npos) << s;
  EXPECT_NE(s.find("in3[i] = v3;"), std::string::npos) << s;
  EXPECT_NE(s.find("in4[i] = v4;"), std::string::npos) << s;
  EXPECT_NE(s.find("dlk::fused::sgd_update<T, false>(k1_2_c, v3, v6, v4)"),
            std::string::npos)
      << s;
  EXPECT_EQ(s.find("blocks"), std::string::npos) << s;
}

TEST(FusedElementwiseEmitter, MalformedCallsBecomeCompileErrors) {
  // An op outside the table.
  {
    FusedCall c = dropoutReluCall();
    FusedBody body = dropoutReluBody();
    body.ops[1].name = "conv2d";
    c.call.attrs.clear();
    encodeFusedBody(body, c.call.attrs);
    EXPECT_TRUE(isError(c.emit(), "cannot run in a fused elementwise loop"));
  }
  // A wrong operand count.
  {
    FusedCall c = dropoutReluCall();
    FusedBody body = dropoutReluBody();
    body.ops[1].operands = {3, 4};
    c.call.attrs.clear();
    encodeFusedBody(body, c.call.attrs);
    EXPECT_TRUE(isError(c.emit(), "relu_grad with 2 operands"));
  }
  // Operands of different shapes.
  {
    FusedCall c = dropoutReluCall();
    c.program.values[0] = valueOf({5, 4}, true);
    EXPECT_TRUE(isError(c.emit(), "differs in shape"));
  }
  // A state that is not a parameter.
  {
    std::vector<KernelValue> values(3, valueOf({4}, false));
    FusedBody body;
    body.inputs = 2;
    body.ops.push_back({"moving_average_update", {0, 1}, {}, {}});
    body.ops.push_back({"relu", {1}, {2}, {}});
    body.yields = {2};
    FusedCall c(values, {0, 1}, {2}, body);
    EXPECT_TRUE(isError(c.emit(), "not a parameter"));
  }
  // A missing attribute, a bad rate, a yield count that does not match.
  {
    FusedCall c = dropoutReluCall();
    c.call.attrs.erase("0.rate");
    EXPECT_TRUE(isError(c.emit(), "needs the float attribute 'rate'"));
    c.call.attrs["0.rate"] = 1.5;
    EXPECT_TRUE(isError(c.emit(), "rate outside"));
    c.call.results.push_back(4);
    EXPECT_TRUE(isError(c.emit(), "yields 1 values for 2 results"));
  }
  // No body.
  {
    FusedCall c = dropoutReluCall();
    c.call.attrs.clear();
    EXPECT_TRUE(isError(c.emit(), "bad body"));
  }
}

//===----------------------------------------------------------------------===//
// Generated code, compiled and run: fused against unfused
//===----------------------------------------------------------------------===//

/// Compiles `source` with the host compiler and runs it; its exit status.
int compileAndRun(const std::string &source) {
  char dir[] = "/tmp/dlc-fused-elementwise-XXXXXX";
  if (!mkdtemp(dir))
    return -1;
  const std::string base(dir);
  std::ofstream(base + "/test.cpp") << source;
  const std::string command = "c++ -std=c++17 -O2 -Wall -Wextra "
                              "-Wno-unused-parameter -Werror -I" DLC_SOURCE_DIR
                              " " +
                              base + "/test.cpp -o " + base + "/test 2>" +
                              base + "/errors.txt && " + base + "/test";
  int status = std::system(command.c_str());
  if (status != 0) {
    std::ifstream errors(base + "/errors.txt");
    std::string line;
    while (std::getline(errors, line))
      ADD_FAILURE() << line;
  }
  if (std::system(("rm -rf " + base).c_str()) != 0)
    ADD_FAILURE() << "could not remove " << base;
  return status;
}

TEST(FusedElementwiseEmitter, GeneratedChainsMatchTheUnfusedKernels) {
  // Values: 0 z, 1 r, 2 d, 3 dy, 4 dropout_grad's dx, 5 the fused result
  // (dropout_grad + relu_grad); 6 a, 7 b, 8 sum, 9 relu (add + relu, the sum
  // kept); 10..13 the Adam parameter, slots and a second gradient.
  std::vector<KernelValue> values(10, valueOf({5, 3}, true));
  for (int i = 0; i < 4; ++i)
    values.push_back(valueOf({7}, false, KernelValue::Kind::Persistent));
  values[13].kind = KernelValue::Kind::Temporary;
  KernelProgram program;
  program.maxBatch = 8;
  program.values = values;
  std::string declarations, statements;
  auto add = [&](const KernelCall &call) {
    CpuKernelArgs args{program,   call,
                       {},        {},
                       "nullptr", "k" + std::to_string(statements.size())};
    for (int id : call.operands)
      args.operands.push_back("reinterpret_cast<const T *>(fused + " +
                              std::to_string(id * 4096) + ")");
    for (int id : call.results)
      args.results.push_back("reinterpret_cast<T *>(fused + " +
                             std::to_string(id * 4096) + ")");
    CpuKernelCode code = cpuKernels().at(call.op).emit(args);
    declarations += code.declarations;
    statements += "  " + code.statement + "\n";
  };
  KernelCall chain;
  chain.op = "fused_elementwise";
  chain.operands = {1, 2, 3, 0};
  chain.results = {5};
  {
    FusedBody body;
    body.inputs = 4;
    body.ops.push_back({"dropout_grad",
                        {0, 1, 2},
                        {4},
                        {{"rate", 0.3}, {"seed_offset", int64_t{1}}}});
    body.ops.push_back({"relu_grad", {3, 0, 4}, {5}, {}});
    body.yields = {5};
    encodeFusedBody(body, chain.attrs);
  }
  add(chain);
  KernelCall residual;
  residual.op = "fused_elementwise";
  residual.operands = {6, 7};
  residual.results = {8, 9};
  {
    FusedBody body;
    body.inputs = 2;
    body.ops.push_back({"add", {0, 1}, {2}, {}});
    body.ops.push_back({"relu", {2}, {3}, {}});
    body.yields = {2, 3};
    encodeFusedBody(body, residual.attrs);
  }
  add(residual);
  KernelCall adam;
  adam.op = "fused_elementwise";
  adam.operands = {13, 11, 10, 12};
  {
    FusedBody body;
    body.inputs = 4;
    // add_n(13, 11) then adam_update(p = 10, the sum, m = 12, v = 11): the
    // v slot is also read as a summand (every load precedes every store).
    body.ops.push_back({"add_n", {0, 1}, {4}, {}});
    body.ops.push_back({"adam_update",
                        {2, 4, 3, 1},
                        {},
                        {{"beta_1", 0.9},
                         {"beta_2", 0.999},
                         {"epsilon", 1e-7},
                         {"amsgrad", false}}});
    encodeFusedBody(body, adam.attrs);
  }
  add(adam);
  const std::string source = R"(#include "codegen/cpu/kernels/Kernels.h"
#include <cstdio>
#include <cstring>
#include <random>
using T = float;
)" + declarations + R"(
alignas(64) unsigned char fused[16 * 4096];
alignas(64) unsigned char plain[16 * 4096];
T *at(unsigned char *arena, int id) { return reinterpret_cast<T *>(arena + id * 4096); }
int main() {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-2, 2);
  for (int v = 0; v < 16; ++v)
    for (int i = 0; i < 1024; ++i)
      at(fused, v)[i] = dist(rng);
  std::memcpy(plain, fused, sizeof fused);
  const int64_t n = 6;
  dlk::StepContext ctx;
  ctx.seed = 9;
  ctx.step = 2;
  ctx.lr = 0.01;
)" + statements + R"(
  // The unfused kernels on the copy.
  const dlk::DropoutDims dd{15, 0.3, 1};
  const dlk::ElementwiseDims ed{15, 0};
  dlk::dropout_grad<T>(n, dd, ctx, at(plain, 1), at(plain, 2), at(plain, 3), at(plain, 4));
  dlk::relu_grad<T>(n, ed, at(plain, 0), at(plain, 1), at(plain, 4), at(plain, 5));
  dlk::add<T>(n, ed, at(plain, 6), at(plain, 7), at(plain, 8));
  dlk::relu<T>(n, ed, at(plain, 8), at(plain, 9));
  const T *inputs[] = {at(plain, 13), at(plain, 11)};
  const dlk::AddNDims ad{7, false, 2};
  dlk::add_n<T>(n, ad, inputs, at(plain, 15));
  const dlk::AdamDims adam{7, false, 0.9, 0.999, 1e-7, false, 0};
  dlk::adam_update<T>(n, adam, ctx, at(plain, 10), at(plain, 15), at(plain, 12), at(plain, 11), nullptr);
  int bad = 0;
  for (int v : {5, 8, 9})
    bad += std::memcmp(at(fused, v), at(plain, v), 90 * sizeof(T)) != 0;
  for (int v : {10, 11, 12})
    bad += std::memcmp(at(fused, v), at(plain, v), 7 * sizeof(T)) != 0;
  // Rows past n are untouched.
  bad += std::memcmp(at(fused, 5) + 90, at(plain, 5) + 90, 30 * sizeof(T)) != 0;
  if (bad)
    std::printf("%d buffers differ\n", bad);
  return bad;
}
)";
  EXPECT_EQ(compileAndRun(source), 0) << source;
}

} // namespace
