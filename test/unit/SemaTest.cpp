//===- SemaTest.cpp - elaboration, shape rules in context, summaries ------===//
#include "frontend/Elaborator.h"
#include "frontend/Program.h"
#include "frontend/Summary.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace dlc;

namespace {

struct Result {
  std::optional<Graph> graph;
  std::string errors;
};

Result elaborateText(const std::string &text, const std::string &model = "") {
  SourceManager sources;
  std::ostringstream err;
  DiagnosticEngine diags(err);
  Program program;
  Result r;
  if (loadProgramFromText("test.dl", text, sources, diags, program)) {
    std::string name = model.empty() ? defaultModelName(program) : model;
    r.graph = elaborateModel(program, name, diags);
  }
  r.errors = err.str();
  return r;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int64_t countParams(const Graph &g, bool trainableOnly) {
  int64_t n = 0;
  for (const Parameter &p : g.params)
    if (!trainableOnly || p.trainable)
      n += checkedElementCount(p.shape);
  return n;
}

const Parameter *findParam(const Graph &g, const std::string &name) {
  for (const Parameter &p : g.params)
    if (p.name == name)
      return &p;
  return nullptr;
}

struct ExampleCount {
  const char *file;
  int64_t total;
  int64_t trainable;
};

// Hand-computed with Keras's formulas (conv: k*k*cin*cout + bias; batchnorm:
// 4*C of which 2*C trainable; LSTM 4*(in*u + u*u + u); ...); see the
// derivations in the comments of each example's test below.
class SpecExample : public ::testing::TestWithParam<ExampleCount> {};

TEST_P(SpecExample, ParameterCountsMatchKeras) {
  const ExampleCount &e = GetParam();
  std::string path = std::string(DLC_SOURCE_DIR) + "/examples/" + e.file;
  Result r = elaborateText(readFile(path));
  ASSERT_TRUE(r.graph.has_value()) << r.errors;
  EXPECT_EQ(countParams(*r.graph, false), e.total) << e.file;
  EXPECT_EQ(countParams(*r.graph, true), e.trainable) << e.file;
  EXPECT_TRUE(r.graph->train.present);
  EXPECT_FALSE(r.graph->train.losses.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Examples, SpecExample,
    ::testing::Values(
        // 784*128+128 + 128*10+10
        ExampleCount{"fashion_mlp.dl", 101770, 101770},
        // 288 + 128 + 18432 + 256 + 401536 + 1290; batchnorm moving stats
        // 64 + 128 are not trainable
        ExampleCount{"fashion_cnn.dl", 421930, 421738},
        // 4*(28*128 + 128*128 + 128) + 1290
        ExampleCount{"fashion_lstm.dl", 81674, 81674},
        // 160 + 1160 + 584 + 1168 + 145
        ExampleCount{"denoise_ae.dl", 3217, 3217},
        // 144+64 + 144+64 + 512+128 + (288+2048+64) + 650
        ExampleCount{"mobilenet_tiny.dl", 4106, 3978},
        // 320 + 18496 + 31370 + 18464 + 289
        ExampleCount{"multitask.dl", 68939, 68939},
        // 144+64 + 4736 + 14720 + 58112 + 650; 672 moving statistics
        ExampleCount{"resnet_mini.dl", 78426, 77754},
        // encoder 320 + 18496 + 4160, shared by both branches; + 65
        ExampleCount{"siamese.dl", 23041, 23041}));

TEST(Sema, SharedEncoderHasOneSetOfWeights) {
  Result r = elaborateText(
      readFile(std::string(DLC_SOURCE_DIR) + "/examples/siamese.dl"));
  ASSERT_TRUE(r.graph) << r.errors;
  int conv = 0;
  for (const Node &n : r.graph->nodes)
    conv += n.op == "conv2d";
  EXPECT_EQ(conv, 4); // two applications of two convolutions
  EXPECT_NE(findParam(*r.graph, "encoder.conv2d.kernel"), nullptr);
  EXPECT_NE(findParam(*r.graph, "encoder.conv2d_1.kernel"), nullptr);
  EXPECT_EQ(r.graph->params.size(), 8u);
}

TEST(Sema, ResidualBlockBranchesOnShapes) {
  Result r = elaborateText(
      readFile(std::string(DLC_SOURCE_DIR) + "/examples/resnet_mini.dl"));
  ASSERT_TRUE(r.graph) << r.errors;
  // residual(16) on 16 channels has no projection; the strided ones do.
  EXPECT_EQ(findParam(*r.graph, "residual.conv2d_2.kernel"), nullptr);
  ASSERT_NE(findParam(*r.graph, "residual_1.conv2d_2.kernel"), nullptr);
  EXPECT_EQ(findParam(*r.graph, "residual_2.conv2d_2.kernel")->shape,
            (Shape{1, 1, 32, 64}));
  const Value &out = r.graph->values[r.graph->outputs[0]];
  EXPECT_EQ(out.type.shape, (Shape{10}));
}

TEST(Sema, KerasNamesAndDefaults) {
  Result r = elaborateText(R"(
sequential m(x: f32[8, 8, 3]) {
  conv2d(4, 3, padding=same)
  batchnorm()
  conv2d(4, 3, kernel_init=he_normal, name="last")
}
)");
  ASSERT_TRUE(r.graph) << r.errors;
  const Parameter *k = findParam(*r.graph, "conv2d.kernel");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->init, "glorot_uniform");
  EXPECT_EQ(k->fanIn, 27);
  EXPECT_EQ(k->fanOut, 36);
  const Parameter *mean = findParam(*r.graph, "batchnorm.moving_mean");
  ASSERT_NE(mean, nullptr);
  EXPECT_FALSE(mean->trainable);
  EXPECT_EQ(findParam(*r.graph, "last.kernel")->init, "he_normal");
  for (const Node &n : r.graph->nodes)
    if (n.op == "batchnorm") {
      EXPECT_DOUBLE_EQ(getFloat(n.attrs, "momentum", 0), 0.99);
      EXPECT_DOUBLE_EQ(getFloat(n.attrs, "epsilon", 0), 1e-3);
    }
  EXPECT_EQ(r.graph->values[r.graph->outputs[0]].type.shape, (Shape{6, 6, 4}));
}

TEST(Sema, FrozenLayersAreNotTrainable) {
  Result r = elaborateText(R"(
sequential enc(x: f32[4]) {
  dense(3)
}
model m(x: f32[4]) {
  e = enc(trainable=false)
  return dense(2)(e(x))
}
)",
                           "m");
  ASSERT_TRUE(r.graph) << r.errors;
  EXPECT_FALSE(findParam(*r.graph, "enc.dense.kernel")->trainable);
  EXPECT_TRUE(findParam(*r.graph, "dense.kernel")->trainable);
}

TEST(Sema, InlineSequentialAndTupleUnpacking) {
  Result r = elaborateText(R"(
model two(x: f32[6]) {
  return dense(2)(x), dense(3)(x)
}
model m(x: f32[6]) {
  a, b = two()(x)
  s = sequential { dense(4)
    relu() }
  return concat(s(x), a, b)
}
)",
                           "m");
  ASSERT_TRUE(r.graph) << r.errors;
  EXPECT_EQ(r.graph->values[r.graph->outputs[0]].type.shape, (Shape{9}));
}

TEST(Sema, TrainSectionDefaultsAndLosses) {
  Result r = elaborateText(
      readFile(std::string(DLC_SOURCE_DIR) + "/examples/multitask.dl"));
  ASSERT_TRUE(r.graph) << r.errors;
  const TrainConfig &t = r.graph->train;
  ASSERT_EQ(t.losses.size(), 2u);
  EXPECT_EQ(t.losses[0].op, "sparse_categorical_crossentropy");
  EXPECT_EQ(t.losses[0].targetType.elementType, ElementType::I32);
  EXPECT_TRUE(t.losses[0].targetType.shape.empty());
  EXPECT_EQ(t.losses[1].targetInput, 0);
  EXPECT_DOUBLE_EQ(t.losses[1].weight, 0.5);
  const ConfigValue &opt = t.settings.at("optimizer");
  EXPECT_EQ(opt.text, "adam");
  EXPECT_DOUBLE_EQ(opt.kwargs.at("beta_2").floatValue, 0.999);
  EXPECT_DOUBLE_EQ(opt.kwargs.at("epsilon").floatValue, 1e-7);
}

struct BadCase {
  const char *name;
  const char *source;
  const char *expected; // a substring of the error output
};

class BadModel : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadModel, ReportsAClearError) {
  const BadCase &c = GetParam();
  Result r = elaborateText(c.source);
  EXPECT_FALSE(r.graph.has_value());
  EXPECT_NE(r.errors.find(c.expected), std::string::npos)
      << "expected '" << c.expected << "' in:\n"
      << r.errors;
  EXPECT_NE(r.errors.find("test.dl:"), std::string::npos) << r.errors;
}

INSTANTIATE_TEST_SUITE_P(
    Errors, BadModel,
    ::testing::Values(
        BadCase{"rank", "sequential m(x: f32[28, 28]) {\n  conv2d(8, 3)\n}\n",
                "test.dl:2:3: error: conv2d expects an input of rank 3"},
        BadCase{"unknown_layer",
                "sequential m(x: f32[4]) {\n  dense(3)\n  dropot(0.5)\n}\n",
                "did you mean 'dropout'?"},
        BadCase{"unknown_kwarg",
                "sequential m(x: f32[4]) {\n  dense(3, activaton=relu)\n}\n",
                "did you mean 'activation'?"},
        BadCase{"bad_activation",
                "sequential m(x: f32[4]) {\n  dense(3, activation=rleu)\n}\n",
                "did you mean 'relu'?"},
        BadCase{"cycle",
                "block a()(x) {\n  return b()(x)\n}\nblock b()(x) {\n  return "
                "a()(x)\n}\nmodel m(x: f32[4]) {\n  return a()(x)\n}\n",
                "cannot form a cycle"},
        BadCase{"unused_input",
                "model m(x: f32[4], y: f32[4]) {\n  return dense(2)(x)\n}\n",
                "input 'y' of model 'm' is never used"},
        BadCase{"merge_shapes",
                "model m(x: f32[4]) {\n  a = dense(2)(x)\n  b = dense(3)(x)\n "
                " return add(a, b)\n}\n",
                "f32[2]"},
        BadCase{"no_return", "model m(x: f32[4]) {\n  y = dense(2)(x)\n}\n",
                "has no return"},
        BadCase{"undefined_name",
                "model m(x: f32[4]) {\n  return dense(2)(xx)\n}\n",
                "'xx' is not defined"},
        BadCase{"duplicate_name",
                "sequential m(x: f32[4]) {\n  dense(3, name=\"a\")\n  "
                "dense(3, name=\"a\")\n}\n",
                "two layers are named \"a\""},
        BadCase{"shared_shape",
                "model m(x: f32[4], y: f32[5]) {\n  d = dense(2)\n  return "
                "add(d(x), d(y))\n}\n",
                "shares the weights"},
        BadCase{"train_unknown_setting",
                "sequential m(x: f32[4]) {\n  dense(3)\n}\ntrain m {\n  data "
                "= idx(\"d\")\n  loss = mse\n  epoch = 3\n}\n",
                "did you mean 'epochs'?"},
        BadCase{"train_unknown_optimizer",
                "sequential m(x: f32[4]) {\n  dense(3)\n}\ntrain m {\n  data "
                "= idx(\"d\")\n  loss = mse\n  optimizer = adma()\n}\n",
                "did you mean 'adam'?"},
        BadCase{"train_loss_count",
                "sequential m(x: f32[4]) {\n  dense(3)\n}\ntrain m {\n  data "
                "= idx(\"d\")\n  loss = [mse, mae]\n}\n",
                "loss has 2 entries but the model has 1 output"},
        BadCase{"train_unknown_model",
                "sequential m(x: f32[4]) {\n  dense(3)\n}\ntrain mm {\n  loss "
                "= mse\n}\n",
                "did you mean 'm'?"},
        BadCase{"pairs_needs_two_inputs",
                "sequential m(x: f32[4]) {\n  dense(1)\n}\ntrain m {\n  data "
                "= pairs(idx(\"d\"))\n  loss = mse\n}\n",
                "has 1 input"},
        BadCase{"if_not_bool",
                "block b(n=1)(x) {\n  if n {\n    x = relu(x)\n  }\n  return "
                "x\n}\nmodel m(x: f32[4]) {\n  return b()(x)\n}\n",
                "must be true or false"},
        BadCase{"huge_input",
                "sequential m(x: f32[100000000, 100000000]) {\n "
                " dense(2)\n}\n",
                "too large"}),
    [](const ::testing::TestParamInfo<BadCase> &info) {
      return info.param.name;
    });

TEST(Sema, SummaryShowsKerasTotals) {
  Result r = elaborateText(
      readFile(std::string(DLC_SOURCE_DIR) + "/examples/fashion_mlp.dl"));
  ASSERT_TRUE(r.graph) << r.errors;
  std::ostringstream os;
  printSummary(*r.graph, os);
  std::string text = os.str();
  EXPECT_NE(text.find("Total params: 101,770"), std::string::npos) << text;
  EXPECT_NE(text.find("(None, 784)"), std::string::npos) << text;
  EXPECT_NE(text.find("Non-trainable params: 0"), std::string::npos) << text;
}

} // namespace
