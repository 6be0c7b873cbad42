//===- RecurrentRefTest.cpp - the lstm and gru reference ------------------===//
//
// Output shapes against the shape rules, the BPTT backward against finite
// differences, and the forward against numbers produced by Keras 3 itself.
//
//===----------------------------------------------------------------------===//
#include "test/reference/GradCheck.h"
#include "test/reference/ReferenceOps.h"

#include "ir/ShapeRules.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace dlc;
using namespace dlc::ref;

namespace {

const RefOp &op(const std::string &name) { return referenceOps().at(name); }

/// The parameters of `name` as paramSpecs lists them for x[T, D], random.
std::vector<RefTensor> randomParams(const std::string &name, int64_t steps,
                                    int64_t features, const Attrs &attrs,
                                    uint32_t seed) {
  std::vector<RefTensor> params;
  for (const ParamSpec &spec : paramSpecs(
           name, {TensorInfo{ElementType::F64, {steps, features}}}, attrs))
    params.push_back(randomTensor(spec.shape, seed++));
  return params;
}

struct Case {
  std::string op;
  int64_t steps, units;
  bool sequences, useBias;
};

std::string caseName(const Case &c) {
  return c.op + " T=" + std::to_string(c.steps) +
         " u=" + std::to_string(c.units) +
         (c.sequences ? " sequences" : " last") +
         (c.useBias ? " bias" : " no-bias");
}

std::vector<Case> allCases() {
  std::vector<Case> cases;
  for (const char *name : {"lstm", "gru"})
    for (int64_t steps : {3, 4})
      for (int64_t units : {2, 3})
        for (bool sequences : {false, true})
          for (bool useBias : {true, false})
            cases.push_back({name, steps, units, sequences, useBias});
  return cases;
}

Attrs caseAttrs(const Case &c) {
  return {{"units", c.units},
          {"return_sequences", c.sequences},
          {"use_bias", c.useBias}};
}

TEST(RecurrentRef, OutputShapesFollowTheShapeRules) {
  const int64_t batch = 2, features = 3;
  for (const Case &c : allCases()) {
    SCOPED_TRACE(caseName(c));
    Attrs attrs = caseAttrs(c);
    ShapeResult shapes = inferShapes(
        c.op, {TensorInfo{ElementType::F64, {c.steps, features}}}, attrs);
    ASSERT_TRUE(shapes.ok()) << shapes.error;
    Shape expected = shapes.results[0].shape;
    expected.insert(expected.begin(), batch);
    std::vector<RefTensor> outputs;
    std::string error;
    ASSERT_TRUE(
        op(c.op).forward({randomTensor({batch, c.steps, features}, 7)},
                         randomParams(c.op, c.steps, features, attrs, 11),
                         attrs, outputs, error))
        << error;
    ASSERT_EQ(outputs.size(), 1u);
    EXPECT_EQ(outputs[0].shape, expected);
    EXPECT_EQ(outputs[0].size(), checkedElementCount(expected));
  }
}

TEST(RecurrentRef, BackwardMatchesFiniteDifferences) {
  const int64_t batch = 2, features = 3;
  uint32_t seed = 100;
  for (const Case &c : allCases()) {
    SCOPED_TRACE(caseName(c));
    Attrs attrs = caseAttrs(c);
    std::vector<RefTensor> params =
        randomParams(c.op, c.steps, features, attrs, seed);
    // Every element of x, kernel, recurrent_kernel and bias is perturbed.
    GradCheckResult result = gradCheck(
        op(c.op), {randomTensor({batch, c.steps, features}, seed + 50)}, params,
        attrs, {}, 1e-6, /*maxElements=*/1000, seed + 77);
    seed += 10;
    ASSERT_TRUE(result.ok) << result.error;
    EXPECT_LT(result.worst, 1e-6) << "at " << result.where;
  }
}

TEST(RecurrentRef, BackwardGradientsHaveOperandShapes) {
  for (const char *name : {"lstm", "gru"}) {
    Attrs attrs{{"units", int64_t{2}}, {"return_sequences", true}};
    RefTensor x = randomTensor({2, 3, 3}, 1);
    std::vector<RefTensor> params = randomParams(name, 3, 3, attrs, 2);
    std::vector<RefTensor> outputs, inputGrads, paramGrads;
    std::string error;
    ASSERT_TRUE(op(name).forward({x}, params, attrs, outputs, error)) << error;
    ASSERT_TRUE(op(name).backward({x}, params, attrs, outputs, outputs,
                                  inputGrads, paramGrads, error))
        << error;
    ASSERT_EQ(inputGrads.size(), 1u);
    EXPECT_EQ(inputGrads[0].shape, x.shape);
    ASSERT_EQ(paramGrads.size(), params.size());
    for (size_t i = 0; i < params.size(); ++i)
      EXPECT_EQ(paramGrads[i].shape, params[i].shape);
  }
}

TEST(RecurrentRef, RejectsMalformedOperands) {
  Attrs attrs{{"units", int64_t{2}}};
  RefTensor x = randomTensor({2, 3, 3}, 1);
  std::vector<RefTensor> params = randomParams("lstm", 3, 3, attrs, 2);
  std::vector<RefTensor> outputs;
  std::string error;
  // Wrong input rank.
  EXPECT_FALSE(op("lstm").forward({randomTensor({2, 3}, 1)}, params, attrs,
                                  outputs, error));
  EXPECT_FALSE(error.empty());
  // GRU parameters given to an LSTM.
  error.clear();
  EXPECT_FALSE(op("lstm").forward({x}, randomParams("gru", 3, 3, attrs, 2),
                                  attrs, outputs, error));
  EXPECT_FALSE(error.empty());
  // A bias that use_bias=false says is absent.
  error.clear();
  Attrs noBias = attrs;
  noBias["use_bias"] = false;
  EXPECT_FALSE(op("lstm").forward({x}, params, noBias, outputs, error));
  EXPECT_FALSE(error.empty());
  // Units that do not match the kernels, and no units at all.
  error.clear();
  Attrs wrongUnits{{"units", int64_t{3}}};
  EXPECT_FALSE(op("lstm").forward({x}, params, wrongUnits, outputs, error));
  EXPECT_FALSE(error.empty());
  error.clear();
  EXPECT_FALSE(op("gru").forward({x}, randomParams("gru", 3, 3, attrs, 2), {},
                                 outputs, error));
  EXPECT_FALSE(error.empty());
  // Data that does not match its shape.
  error.clear();
  RefTensor broken = x;
  broken.data.pop_back();
  EXPECT_FALSE(op("lstm").forward({broken}, params, attrs, outputs, error));
  EXPECT_FALSE(error.empty());
  // An output gradient of the wrong shape.
  error.clear();
  ASSERT_TRUE(op("lstm").forward({x}, params, attrs, outputs, error));
  std::vector<RefTensor> inputGrads, paramGrads;
  EXPECT_FALSE(op("lstm").backward({x}, params, attrs, outputs,
                                   {RefTensor({2, 3, 2})}, inputGrads,
                                   paramGrads, error));
  EXPECT_FALSE(error.empty());
}

//===----------------------------------------------------------------------===//
// Keras fixtures. Made with Keras 3.x on the JAX backend (float32):
//   np.random.seed(0); r = lambda *s: np.round(np.random.uniform(-1, 1, s), 3)
//   x = r(2, 3, 3); then for LSTM (gates 4) and GRU (gates 3), units 2:
//   K = r(3, g*2); U = r(2, g*2); b = r(8) (LSTM) or r(2, 6) (GRU);
//   layer = keras.layers.LSTM/GRU(2, return_sequences=seq);
//   layer.build((2, 3, 3)); layer.set_weights([K, U, b]);
//   print(np.asarray(layer(x.astype("float32"))))   # printed with %.7f
//===----------------------------------------------------------------------===//

const std::vector<double> kFixtureX{
    0.098,  0.43,  0.206, 0.09,  -0.153, 0.292,  -0.125, 0.784, 0.927,
    -0.233, 0.583, 0.058, 0.136, 0.851,  -0.858, -0.826, -0.96, 0.665};

struct Fixture {
  const char *op;
  std::vector<int64_t> kernelShape, recurrentShape, biasShape;
  std::vector<double> kernel, recurrent, bias;
  std::vector<double> last, sequences;
};

std::vector<Fixture> kerasFixtures() {
  return {
      {"lstm",
       {3, 8},
       {2, 8},
       {8},
       {0.556,  0.74,  0.957, 0.598,  -0.077, 0.561, -0.763, 0.28,
        -0.713, 0.889, 0.044, -0.171, -0.471, 0.548, -0.088, 0.137,
        -0.962, 0.235, 0.224, 0.234,  0.887,  0.364, -0.281, -0.126},
       {0.395, -0.88, 0.334, 0.341, -0.579, -0.742, -0.369, -0.273, 0.14,
        -0.123, 0.977, -0.796, -0.582, -0.677, 0.306, -0.493},
       {-0.067, -0.511, -0.682, -0.779, 0.313, -0.724, -0.607, -0.263},
       {0.0613637, -0.0438356, 0.1277346, -0.0749822},
       {0.0325891, -0.0762282, 0.0915511, -0.1132341, 0.0613637, -0.0438356,
        0.0137616, -0.0939478, -0.1243118, -0.1403620, 0.1277346, -0.0749822}},
      {"gru",
       {3, 6},
       {2, 6},
       {2, 6},
       {0.642, -0.806, 0.676, -0.808, 0.953, -0.063, 0.954, 0.21, 0.479, -0.922,
        -0.434, -0.76, -0.408, -0.763, -0.364, -0.171, -0.872, 0.385},
       {0.133, -0.469, 0.046, -0.812, 0.152, 0.859, -0.363, 0.335, -0.736,
        0.433, -0.421, -0.634},
       {0.173, -0.96, 0.658, -0.991, 0.356, -0.46, 0.47, 0.924, -0.502, 0.152,
        0.184, 0.145},
       {-0.0317839, -0.4363501, -0.2806970, 0.1876425},
       {0.0496272, -0.3239277, 0.1820203, -0.2038134, -0.0317839, -0.4363501,
        -0.0173657, -0.3018705, 0.0802080, -0.5090253, -0.2806970, 0.1876425}},
  };
}

RefTensor tensorOf(std::vector<int64_t> shape, const std::vector<double> &v) {
  RefTensor t(std::move(shape));
  t.data = v;
  return t;
}

TEST(RecurrentRef, ForwardMatchesKeras) {
  for (const Fixture &f : kerasFixtures()) {
    for (bool sequences : {false, true}) {
      SCOPED_TRACE(std::string(f.op) + (sequences ? " sequences" : " last"));
      Attrs attrs{{"units", int64_t{2}}, {"return_sequences", sequences}};
      std::vector<RefTensor> params{tensorOf(f.kernelShape, f.kernel),
                                    tensorOf(f.recurrentShape, f.recurrent),
                                    tensorOf(f.biasShape, f.bias)};
      std::vector<RefTensor> outputs;
      std::string error;
      ASSERT_TRUE(op(f.op).forward({tensorOf({2, 3, 3}, kFixtureX)}, params,
                                   attrs, outputs, error))
          << error;
      ASSERT_EQ(outputs.size(), 1u);
      const std::vector<double> &expected = sequences ? f.sequences : f.last;
      ASSERT_EQ(outputs[0].data.size(), expected.size());
      for (size_t i = 0; i < expected.size(); ++i)
        EXPECT_NEAR(outputs[0].data[i], expected[i], 1e-5) << "element " << i;
    }
  }
}

} // namespace
