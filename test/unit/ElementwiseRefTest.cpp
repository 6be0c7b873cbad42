//===- ElementwiseRefTest.cpp - activations, merges, norms, losses -------===//
//
// Every op of ElementwiseRef.cpp: its output shape agrees with
// dlc::inferShapes, its backward agrees with central differences of its
// forward, and at least one forward value is checked against a number
// computed by hand.
//
//===----------------------------------------------------------------------===//
#include "ir/ShapeRules.h"
#include "runtime/Philox.h"
#include "test/reference/GradCheck.h"
#include "test/reference/ReferenceOps.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace dlc;
using namespace dlc::ref;

namespace {

constexpr double kGradTolerance = 1e-6;

const RefOp &op(const std::string &name) {
  const RefRegistry &ops = referenceOps();
  auto it = ops.find(name);
  static const RefOp missing;
  if (it == ops.end()) {
    ADD_FAILURE() << "no reference op " << name;
    return missing;
  }
  return it->second;
}

RefTensor tensor(std::vector<int64_t> shape, std::vector<double> data) {
  RefTensor t(std::move(shape));
  t.data = std::move(data);
  return t;
}

/// Runs the forward; fails the test on an error.
RefTensor run(const std::string &name, const std::vector<RefTensor> &inputs,
              const std::vector<RefTensor> &params, const Attrs &attrs) {
  std::vector<RefTensor> outputs;
  std::string error;
  if (!op(name).forward ||
      !op(name).forward(inputs, params, attrs, outputs, error)) {
    ADD_FAILURE() << name << ": " << error;
    return RefTensor();
  }
  EXPECT_EQ(outputs.size(), 1u);
  return outputs.empty() ? RefTensor() : outputs[0];
}

/// The batched output shape inferShapes gives for `inputs` (batch first;
/// `intInputs` are i32; `unbatched` for scalar-loss inputs).
std::vector<int64_t> expectedShape(const std::string &name,
                                   const std::vector<RefTensor> &inputs,
                                   const Attrs &attrs,
                                   const std::vector<size_t> &intInputs = {},
                                   bool unbatched = false) {
  std::vector<TensorInfo> infos;
  for (size_t i = 0; i < inputs.size(); ++i) {
    TensorInfo info;
    info.elementType = ElementType::F64;
    for (size_t j : intInputs)
      if (j == i)
        info.elementType = ElementType::I32;
    if (unbatched) {
      info.batched = false;
      info.shape = inputs[i].shape;
    } else {
      info.shape.assign(inputs[i].shape.begin() + 1, inputs[i].shape.end());
    }
    infos.push_back(info);
  }
  ShapeResult result = inferShapes(name, infos, attrs);
  EXPECT_TRUE(result.ok()) << result.error;
  if (!result.ok() || result.results.empty())
    return {};
  std::vector<int64_t> shape;
  if (result.results[0].batched)
    shape.push_back(inputs[0].shape[0]);
  shape.insert(shape.end(), result.results[0].shape.begin(),
               result.results[0].shape.end());
  return shape;
}

/// Output shape == inferShapes and backward == finite differences.
void checkOp(const std::string &name, const std::vector<RefTensor> &inputs,
             const std::vector<RefTensor> &params, const Attrs &attrs,
             const std::vector<size_t> &intInputs = {},
             bool unbatched = false) {
  SCOPED_TRACE(name);
  RefTensor out = run(name, inputs, params, attrs);
  EXPECT_EQ(out.shape,
            expectedShape(name, inputs, attrs, intInputs, unbatched));
  EXPECT_EQ(out.size(), checkedElementCount(out.shape));
  std::vector<int> skip(intInputs.begin(), intInputs.end());
  GradCheckResult check = gradCheck(op(name), inputs, params, attrs, skip);
  ASSERT_TRUE(check.ok) << check.error;
  EXPECT_LT(check.worst, kGradTolerance) << check.where;
}

/// A random tensor with values of magnitude in [0.1, 1] and random sign:
/// away from the kinks of relu, abs and mae.
RefTensor awayFromZero(std::vector<int64_t> shape, uint32_t seed) {
  RefTensor t = randomTensor(shape, seed, 0.1, 1.0);
  RefTensor signs = randomTensor(shape, seed + 7, -1.0, 1.0);
  for (int64_t i = 0; i < t.size(); ++i)
    if (signs.data[i] < 0)
      t.data[i] = -t.data[i];
  return t;
}

void expectNear(const RefTensor &t, const std::vector<double> &expected,
                double tolerance = 1e-9) {
  ASSERT_EQ(t.data.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(t.data[i], expected[i], tolerance) << "element " << i;
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

TEST(ElementwiseRef, ActivationsMatchFiniteDifferences) {
  RefTensor x = awayFromZero({3, 4, 5}, 11);
  for (const char *name : {"relu", "sigmoid", "tanh", "abs"})
    checkOp(name, {x}, {}, {});
  checkOp("leaky_relu", {x}, {}, {{"alpha", 0.2}});
  checkOp("elu", {x}, {}, {{"alpha", 1.5}});
}

TEST(ElementwiseRef, ActivationValues) {
  RefTensor x = tensor({1, 4}, {-2, -0.5, 0, 3});
  expectNear(run("relu", {x}, {}, {}), {0, 0, 0, 3});
  expectNear(run("leaky_relu", {x}, {}, {{"alpha", 0.1}}), {-0.2, -0.05, 0, 3});
  expectNear(run("leaky_relu", {x}, {}, {}), {-0.6, -0.15, 0, 3});
  expectNear(run("elu", {x}, {}, {{"alpha", 1.0}}),
             {-0.8646647167633873, -0.3934693402873666, 0, 3});
  expectNear(run("abs", {x}, {}, {}), {2, 0.5, 0, 3});
  RefTensor y = tensor({1, 3}, {0, std::log(3.0), -std::log(3.0)});
  expectNear(run("sigmoid", {y}, {}, {}), {0.5, 0.75, 0.25});
  expectNear(run("tanh", {y}, {}, {}), {0, 0.8, -0.8});
}

TEST(ElementwiseRef, KinksHaveZeroGradient) {
  RefTensor x = tensor({1, 2}, {0, 0});
  RefTensor g = tensor({1, 2}, {1, 1});
  for (const char *name : {"relu", "abs"}) {
    std::vector<RefTensor> outs = {run(name, {x}, {}, {})}, inGrads, pGrads;
    std::string error;
    ASSERT_TRUE(
        op(name).backward({x}, {}, {}, outs, {g}, inGrads, pGrads, error))
        << error;
    expectNear(inGrads[0], {0, 0});
  }
}

TEST(ElementwiseRef, Softmax) {
  expectNear(run("softmax", {tensor({1, 3}, {1, 2, 3})}, {}, {}),
             {0.09003057317038046, 0.24472847105479767, 0.6652409557748219});
  // Per-example axis 0 of [3, 2] is tensor axis 1: columns sum to one.
  RefTensor x = tensor({1, 3, 2}, {1, 5, 2, 5, 3, 5});
  RefTensor y = run("softmax", {x}, {}, {{"axis", int64_t(0)}});
  expectNear(y, {0.09003057317038046, 1.0 / 3, 0.24472847105479767, 1.0 / 3,
                 0.6652409557748219, 1.0 / 3});
  expectNear(run("softmax", {x}, {}, {{"axis", int64_t(-2)}}), y.data);
  RefTensor r = randomTensor({2, 3, 4}, 5, -2, 2);
  checkOp("softmax", {r}, {}, {});
  checkOp("softmax", {r}, {}, {{"axis", int64_t(0)}});
}

//===----------------------------------------------------------------------===//
// Merges and reshaping
//===----------------------------------------------------------------------===//

TEST(ElementwiseRef, Merges) {
  RefTensor a = tensor({1, 2}, {1, 2}), b = tensor({1, 2}, {3, 5});
  expectNear(run("add", {a, b}, {}, {}), {4, 7});
  expectNear(run("subtract", {a, b}, {}, {}), {-2, -3});
  expectNear(run("multiply", {a, b}, {}, {}), {3, 10});
  RefTensor x = randomTensor({2, 3, 4}, 21), y = randomTensor({2, 3, 4}, 22);
  for (const char *name : {"add", "subtract", "multiply"})
    checkOp(name, {x, y}, {}, {});
}

TEST(ElementwiseRef, Concat) {
  RefTensor a = tensor({1, 2, 2}, {1, 2, 3, 4});
  RefTensor b = tensor({1, 2, 1}, {5, 6});
  expectNear(run("concat", {a, b}, {}, {}), {1, 2, 5, 3, 4, 6});
  RefTensor c = tensor({1, 1, 2}, {7, 8});
  expectNear(run("concat", {a, c}, {}, {{"axis", int64_t(0)}}),
             {1, 2, 3, 4, 7, 8});
  checkOp("concat",
          {randomTensor({2, 3, 2}, 1), randomTensor({2, 3, 4}, 2),
           randomTensor({2, 3, 1}, 3)},
          {}, {{"axis", int64_t(-1)}});
  checkOp("concat", {randomTensor({2, 1, 2}, 4), randomTensor({2, 3, 2}, 5)},
          {}, {{"axis", int64_t(0)}});
  checkOp("concat", {randomTensor({2, 5}, 6)}, {}, {});
}

TEST(ElementwiseRef, Reshape) {
  Attrs attrs{{"shape", std::vector<int64_t>{3, 2}}};
  RefTensor y =
      run("reshape", {tensor({1, 2, 3}, {1, 2, 3, 4, 5, 6})}, {}, attrs);
  EXPECT_EQ(y.shape, (std::vector<int64_t>{1, 3, 2}));
  expectNear(y, {1, 2, 3, 4, 5, 6});
  checkOp("reshape", {randomTensor({2, 2, 3}, 9)}, {},
          {{"shape", std::vector<int64_t>{6}}});
}

//===----------------------------------------------------------------------===//
// Dropout
//===----------------------------------------------------------------------===//

Attrs dropoutAttrs(double rate, int64_t seed, int64_t offset, bool training) {
  return {{"rate", rate},
          {"seed", seed},
          {"seed_offset", offset},
          {"training", training}};
}

TEST(ElementwiseRef, DropoutDropsAboutRate) {
  RefTensor x = randomTensor({8, 1000}, 3, 0.5, 1.0); // never zero
  RefTensor y = run("dropout", {x}, {}, dropoutAttrs(0.3, 42, 1, true));
  ASSERT_EQ(y.shape, x.shape);
  rt::PhiloxStream rng(42, 1);
  int64_t dropped = 0;
  for (int64_t i = 0; i < x.size(); ++i) {
    bool drop = rng.uniformAt(static_cast<uint64_t>(i)) < 0.3;
    if (y.data[i] == 0)
      ++dropped;
    EXPECT_EQ(y.data[i] == 0, drop) << i;
    if (!drop) {
      EXPECT_NEAR(y.data[i], x.data[i] / 0.7, 1e-12);
    }
  }
  double fraction = double(dropped) / double(x.size());
  EXPECT_NEAR(fraction, 0.3, 0.02);
}

TEST(ElementwiseRef, DropoutMaskDependsOnSeedAndOffset) {
  RefTensor x = randomTensor({4, 64}, 8, 0.5, 1.0);
  RefTensor a = run("dropout", {x}, {}, dropoutAttrs(0.5, 7, 3, true));
  RefTensor b = run("dropout", {x}, {}, dropoutAttrs(0.5, 7, 3, true));
  RefTensor c = run("dropout", {x}, {}, dropoutAttrs(0.5, 7, 4, true));
  RefTensor d = run("dropout", {x}, {}, dropoutAttrs(0.5, 8, 3, true));
  EXPECT_EQ(a.data, b.data);
  EXPECT_NE(a.data, c.data);
  EXPECT_NE(a.data, d.data);
}

TEST(ElementwiseRef, DropoutIsIdentityInInference) {
  RefTensor x = randomTensor({4, 16}, 9);
  EXPECT_EQ(run("dropout", {x}, {}, dropoutAttrs(0.5, 7, 3, false)).data,
            x.data);
  EXPECT_EQ(run("dropout", {x}, {}, {{"rate", 0.5}}).data, x.data);
  checkOp("dropout", {x}, {}, dropoutAttrs(0.5, 7, 3, false));
  checkOp("dropout", {x}, {}, dropoutAttrs(0.4, 7, 3, true));
}

//===----------------------------------------------------------------------===//
// Normalization and embedding
//===----------------------------------------------------------------------===//

TEST(ElementwiseRef, BatchnormTrainingUsesBatchStatistics) {
  // Channel 0: {1, 3} -> mean 2, variance 1; channel 1: {0, 4} -> mean 2,
  // variance 4.
  RefTensor x = tensor({2, 2}, {1, 0, 3, 4});
  std::vector<RefTensor> params = {tensor({2}, {1, 2}), tensor({2}, {0, 1}),
                                   tensor({2}, {9, 9}), tensor({2}, {9, 9})};
  Attrs attrs{{"epsilon", 1e-3}, {"training", true}};
  double s0 = 1 / std::sqrt(1.001), s1 = 2 / std::sqrt(4.001);
  expectNear(run("batchnorm", {x}, params, attrs),
             {-s0, 1 - 2 * s1, s0, 1 + 2 * s1});

  std::vector<RefTensor> random = {randomTensor({3}, 31, 0.5, 1.5),
                                   randomTensor({3}, 32), randomTensor({3}, 33),
                                   randomTensor({3}, 34, 0.5, 1.5)};
  checkOp("batchnorm", {randomTensor({4, 2, 3}, 30, -2, 2)}, random, attrs);
  // The moving statistics get zero gradients.
  RefTensor in = randomTensor({4, 3}, 35);
  std::vector<RefTensor> outs = {run("batchnorm", {in}, random, attrs)};
  std::vector<RefTensor> inGrads, pGrads;
  std::string error;
  ASSERT_TRUE(op("batchnorm")
                  .backward({in}, random, attrs, outs,
                            {randomTensor({4, 3}, 36)}, inGrads, pGrads, error))
      << error;
  ASSERT_EQ(pGrads.size(), 4u);
  expectNear(pGrads[2], {0, 0, 0});
  expectNear(pGrads[3], {0, 0, 0});
}

TEST(ElementwiseRef, BatchnormInferenceUsesMovingStatistics) {
  RefTensor x = tensor({2, 1}, {1, 5});
  std::vector<RefTensor> params = {tensor({1}, {2}), tensor({1}, {1}),
                                   tensor({1}, {1}), tensor({1}, {4})};
  double s = 2 / std::sqrt(4.001);
  expectNear(run("batchnorm", {x}, params, {{"epsilon", 1e-3}}),
             {1, 1 + 4 * s});

  // Gradients of x, gamma and beta with the moving statistics held fixed
  // (they get none).
  std::vector<RefTensor> moving = {randomTensor({3}, 41),
                                   randomTensor({3}, 42, 0.5, 2)};
  const RefOp &bn = op("batchnorm");
  RefOp fixed;
  fixed.forward = [&](const std::vector<RefTensor> &in,
                      const std::vector<RefTensor> &ps, const Attrs &a,
                      std::vector<RefTensor> &out, std::string &err) {
    return bn.forward(in, {ps[0], ps[1], moving[0], moving[1]}, a, out, err);
  };
  fixed.backward =
      [&](const std::vector<RefTensor> &in, const std::vector<RefTensor> &ps,
          const Attrs &a, const std::vector<RefTensor> &out,
          const std::vector<RefTensor> &g, std::vector<RefTensor> &inGrads,
          std::vector<RefTensor> &pGrads, std::string &err) {
        bool ok = bn.backward(in, {ps[0], ps[1], moving[0], moving[1]}, a, out,
                              g, inGrads, pGrads, err);
        if (ok) {
          EXPECT_EQ(pGrads.size(), 4u);
          pGrads.resize(2);
        }
        return ok;
      };
  GradCheckResult check = gradCheck(
      fixed, {randomTensor({5, 3}, 43)},
      {randomTensor({3}, 44), randomTensor({3}, 45)}, {{"epsilon", 1e-2}});
  ASSERT_TRUE(check.ok) << check.error;
  EXPECT_LT(check.worst, kGradTolerance) << check.where;
}

TEST(ElementwiseRef, Layernorm) {
  RefTensor x = tensor({1, 3}, {1, 2, 3});
  std::vector<RefTensor> params = {tensor({3}, {1, 1, 2}),
                                   tensor({3}, {0, 0, 1})};
  double s = 1 / std::sqrt(2.0 / 3 + 1e-3);
  expectNear(run("layernorm", {x}, params, {}), {-s, 0, 1 + 2 * s});
  checkOp("layernorm", {randomTensor({3, 2, 4}, 51, -2, 2)},
          {randomTensor({4}, 52), randomTensor({4}, 53)}, {{"epsilon", 1e-3}});
}

TEST(ElementwiseRef, Embedding) {
  Attrs attrs{{"input_dim", int64_t(3)}, {"output_dim", int64_t(2)}};
  RefTensor table = tensor({3, 2}, {0, 1, 2, 3, 4, 5});
  RefTensor ids = tensor({2, 1}, {2, 0});
  RefTensor y = run("embedding", {ids}, {table}, attrs);
  EXPECT_EQ(y.shape, (std::vector<int64_t>{2, 1, 2}));
  expectNear(y, {4, 5, 0, 1});

  // Scatter-add: id 1 twice, id 0 once; the ids get an empty gradient.
  RefTensor many = tensor({3}, {1, 0, 1});
  std::vector<RefTensor> outs = {run("embedding", {many}, {table}, attrs)};
  RefTensor g = tensor({3, 2}, {1, 2, 3, 4, 5, 6});
  std::vector<RefTensor> inGrads, pGrads;
  std::string error;
  ASSERT_TRUE(
      op("embedding")
          .backward({many}, {table}, attrs, outs, {g}, inGrads, pGrads, error))
      << error;
  ASSERT_EQ(inGrads.size(), 1u);
  EXPECT_EQ(inGrads[0].size(), 0);
  expectNear(pGrads[0], {3, 4, 6, 8, 0, 0});

  checkOp("embedding", {tensor({2, 3}, {0, 4, 2, 2, 1, 4})},
          {randomTensor({5, 3}, 61)},
          {{"input_dim", int64_t(5)}, {"output_dim", int64_t(3)}}, {0});
}

TEST(ElementwiseRef, BadInputsAreErrors) {
  Attrs attrs{{"input_dim", int64_t(3)}, {"output_dim", int64_t(2)}};
  RefTensor table = tensor({3, 2}, {0, 1, 2, 3, 4, 5});
  std::vector<RefTensor> outs;
  std::string error;
  for (double id : {3.0, -1.0, 0.5, double(NAN)}) {
    error.clear();
    EXPECT_FALSE(
        op("embedding")
            .forward({tensor({1, 1}, {id})}, {table}, attrs, outs, error));
    EXPECT_FALSE(error.empty());
  }
  // Wrong parameter shape, mismatched batch, missing batch, bad data size.
  EXPECT_FALSE(op("layernorm")
                   .forward({randomTensor({2, 4}, 1)},
                            {randomTensor({3}, 2), randomTensor({3}, 3)}, {},
                            outs, error));
  EXPECT_FALSE(op("add").forward(
      {randomTensor({2, 4}, 1), randomTensor({3, 4}, 2)}, {}, {}, outs, error));
  EXPECT_FALSE(op("relu").forward({tensor({}, {1})}, {}, {}, outs, error));
  EXPECT_FALSE(op("relu").forward({tensor({2, 2}, {1})}, {}, {}, outs, error));
  EXPECT_FALSE(op("sparse_categorical_crossentropy")
                   .forward({randomTensor({1, 3}, 1), tensor({1}, {3})}, {}, {},
                            outs, error));
  // Backward with a gradient of the wrong shape.
  RefTensor x = randomTensor({2, 3}, 4);
  std::vector<RefTensor> y = {run("tanh", {x}, {}, {})}, inGrads, pGrads;
  EXPECT_FALSE(op("tanh").backward({x}, {}, {}, y, {randomTensor({2, 2}, 5)},
                                   inGrads, pGrads, error));
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

TEST(ElementwiseRef, MseAndMae) {
  RefTensor p = tensor({2, 1}, {1, 2}), t = tensor({2, 1}, {0, 0});
  expectNear(run("mse", {p, t}, {}, {}), {2.5});
  expectNear(run("mae", {p, t}, {}, {}), {1.5});
  RefTensor p2 = tensor({2, 2}, {1, 2, 3, 4}),
            t2 = tensor({2, 2}, {1, 0, 0, 0});
  expectNear(run("mse", {p2, t2}, {}, {}), {(4 + 9 + 16) / 4.0});
  // mae: p - t kept away from zero.
  RefTensor target = randomTensor({3, 2, 2}, 71);
  RefTensor diff = awayFromZero({3, 2, 2}, 72);
  RefTensor pred = target;
  for (int64_t i = 0; i < pred.size(); ++i)
    pred.data[i] += diff.data[i];
  checkOp("mse", {pred, target}, {}, {});
  checkOp("mae", {pred, target}, {}, {});
  // Per-example scalars: pred [N].
  checkOp("mse", {randomTensor({4}, 73), randomTensor({4}, 74)}, {}, {});
}

TEST(ElementwiseRef, BinaryCrossentropy) {
  expectNear(run("binary_crossentropy",
                 {tensor({2, 1}, {0.8, 0.4}), tensor({2, 1}, {1, 0})}, {}, {}),
             {-(std::log(0.8) + std::log(0.6)) / 2});
  expectNear(run("binary_crossentropy",
                 {tensor({1, 2}, {0, 2}), tensor({1, 2}, {1, 0})}, {},
                 {{"from_logits", true}}),
             {(std::log(2.0) + 2 + std::log1p(std::exp(-2.0))) / 2});
  // Clipping: p = 0 with target 1 costs -log(1e-7).
  expectNear(
      run("binary_crossentropy", {tensor({1}, {0}), tensor({1}, {1})}, {}, {}),
      {-std::log(1e-7)}, 1e-6);
  RefTensor p = randomTensor({3, 4}, 81, 0.05, 0.95);
  RefTensor t = randomTensor({3, 4}, 82, 0, 1);
  checkOp("binary_crossentropy", {p, t}, {}, {});
  checkOp("binary_crossentropy", {randomTensor({3, 4}, 83, -3, 3), t}, {},
          {{"from_logits", true}});
}

TEST(ElementwiseRef, CategoricalCrossentropy) {
  RefTensor target = tensor({1, 3}, {0, 0, 1});
  expectNear(run("categorical_crossentropy",
                 {tensor({1, 3}, {0.2, 0.3, 0.5}), target}, {}, {}),
             {-std::log(0.5)});
  // Keras normalizes the probabilities by their sum.
  expectNear(run("categorical_crossentropy",
                 {tensor({1, 3}, {0.4, 0.6, 1.0}), target}, {}, {}),
             {-std::log(0.5)});
  expectNear(run("categorical_crossentropy",
                 {tensor({1, 3}, {1, 2, 3}), target}, {},
                 {{"from_logits", true}}),
             {-std::log(0.6652409557748219)});
  RefTensor p = randomTensor({3, 2, 4}, 91, 0.05, 0.95);
  RefTensor t = randomTensor({3, 2, 4}, 92, 0, 1);
  checkOp("categorical_crossentropy", {p, t}, {}, {});
  checkOp("categorical_crossentropy", {randomTensor({3, 2, 4}, 93, -3, 3), t},
          {}, {{"from_logits", true}});
}

TEST(ElementwiseRef, SparseCategoricalCrossentropy) {
  // Mean over the batch of -log p[id].
  expectNear(
      run("sparse_categorical_crossentropy",
          {tensor({2, 3}, {0.2, 0.3, 0.5, 0.1, 0.6, 0.3}), tensor({2}, {2, 1})},
          {}, {}),
      {-(std::log(0.5) + std::log(0.6)) / 2});
  expectNear(run("sparse_categorical_crossentropy",
                 {tensor({1, 3}, {1, 2, 3}), tensor({1}, {2})}, {},
                 {{"from_logits", true}}),
             {-std::log(0.6652409557748219)});
  RefTensor ids = tensor({3, 2}, {0, 3, 2, 1, 1, 0});
  checkOp("sparse_categorical_crossentropy",
          {randomTensor({3, 2, 4}, 101, 0.05, 0.95), ids}, {}, {}, {1});
  checkOp("sparse_categorical_crossentropy",
          {randomTensor({3, 2, 4}, 102, -3, 3), ids}, {},
          {{"from_logits", true}}, {1});
  // The target gets an empty gradient.
  std::vector<RefTensor> in = {randomTensor({3, 2, 4}, 103, 0.05, 0.95), ids};
  std::vector<RefTensor> outs = {
      run("sparse_categorical_crossentropy", in, {}, {})};
  std::vector<RefTensor> inGrads, pGrads;
  std::string error;
  ASSERT_TRUE(op("sparse_categorical_crossentropy")
                  .backward(in, {}, {}, outs, {tensor({}, {1})}, inGrads,
                            pGrads, error))
      << error;
  ASSERT_EQ(inGrads.size(), 2u);
  EXPECT_EQ(inGrads[1].size(), 0);
}

TEST(ElementwiseRef, WeightedSum) {
  Attrs attrs{{"weights", std::vector<double>{0.5, 2}}};
  RefTensor a = tensor({}, {2}), b = tensor({}, {3});
  RefTensor y = run("weighted_sum", {a, b}, {}, attrs);
  EXPECT_TRUE(y.shape.empty());
  expectNear(y, {7});
  expectNear(run("weighted_sum", {a, b}, {},
                 {{"weights", std::vector<int64_t>{1, 3}}}),
             {11});
  checkOp("weighted_sum", {a, b}, {}, attrs, {}, /*unbatched=*/true);
}

TEST(ElementwiseRef, RegistersEveryOpOfItsShare) {
  for (const char *name : {"relu",
                           "leaky_relu",
                           "elu",
                           "sigmoid",
                           "tanh",
                           "softmax",
                           "abs",
                           "add",
                           "subtract",
                           "multiply",
                           "concat",
                           "reshape",
                           "dropout",
                           "batchnorm",
                           "layernorm",
                           "embedding",
                           "mse",
                           "mae",
                           "binary_crossentropy",
                           "categorical_crossentropy",
                           "sparse_categorical_crossentropy",
                           "weighted_sum"}) {
    EXPECT_TRUE(isKnownOp(name)) << name;
    EXPECT_TRUE(referenceOps().count(name)) << name;
  }
}

} // namespace
