//===- ConvolutionRefTest.cpp - the convolution family's reference ops ----===//
//
// For each op: hand-computed forward values that pin its semantics, random
// shapes whose output shape must equal the shape rule's and whose backward
// must match central finite differences, and for conv2d_transpose the
// adjoint identity <conv2d(x), y> == <x, conv2d_transpose(y)>.
//
//===----------------------------------------------------------------------===//

#include "test/reference/GradCheck.h"
#include "test/reference/ReferenceOps.h"

#include "ir/ShapeRules.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace dlc;
using namespace dlc::ref;

namespace {

using Tensors = std::vector<RefTensor>;

AttrValue i64(int64_t v) { return AttrValue(v); }

const RefOp &op(const std::string &name) {
  static const RefOp missing;
  auto it = referenceOps().find(name);
  return it == referenceOps().end() ? missing : it->second;
}

/// A tensor of `shape` holding `values` row-major.
RefTensor tensor(Shape shape, std::vector<double> values) {
  RefTensor t(std::move(shape));
  EXPECT_EQ(t.data.size(), values.size());
  t.data = std::move(values);
  return t;
}

/// A tensor of `shape` holding 1, 2, 3, ...
RefTensor iota(Shape shape) {
  RefTensor t(std::move(shape));
  for (size_t i = 0; i < t.data.size(); ++i)
    t.data[i] = static_cast<double>(i + 1);
  return t;
}

/// Runs the forward of `name`; fails the test if it refuses.
RefTensor forward(const std::string &name, const RefTensor &x,
                  const Tensors &params, const Attrs &attrs) {
  Tensors outputs;
  std::string error;
  bool ok =
      op(name).forward && op(name).forward({x}, params, attrs, outputs, error);
  EXPECT_TRUE(ok) << name << ": " << error;
  if (!ok || outputs.size() != 1)
    return RefTensor();
  return outputs[0];
}

/// Runs the backward of `name` for output gradient `dy`.
void backward(const std::string &name, const RefTensor &x,
              const Tensors &params, const Attrs &attrs, const RefTensor &dy,
              Tensors &inputGrads, Tensors &paramGrads) {
  Tensors outputs{forward(name, x, params, attrs)};
  std::string error;
  EXPECT_TRUE(op(name).backward({x}, params, attrs, outputs, {dy}, inputGrads,
                                paramGrads, error))
      << name << ": " << error;
}

void expectValues(const RefTensor &t, Shape shape,
                  const std::vector<double> &values) {
  ASSERT_EQ(t.shape, shape);
  ASSERT_EQ(t.data.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i)
    EXPECT_NEAR(t.data[i], values[i], 1e-12) << "element " << i;
}

/// One random case of `name`: the forward's shape is the shape rule's, and
/// the backward matches finite differences for the input and every
/// parameter. Returns false (without failing) when the shape rule rejects
/// the case, so generators may propose invalid ones.
bool checkCase(const std::string &name, const Shape &batchedInput,
               const Attrs &attrs, uint32_t seed) {
  TensorInfo info;
  info.elementType = ElementType::F64;
  info.shape.assign(batchedInput.begin() + 1, batchedInput.end());
  ShapeResult rule = inferShapes(name, {info}, attrs);
  if (!rule.ok())
    return false;
  Tensors params;
  uint32_t s = seed;
  for (const ParamSpec &spec : paramSpecs(name, {info}, attrs))
    params.push_back(randomTensor(spec.shape, ++s));
  RefTensor x = randomTensor(batchedInput, seed * 7 + 3);
  RefTensor y = forward(name, x, params, attrs);
  Shape expected{batchedInput[0]};
  expected.insert(expected.end(), rule.results[0].shape.begin(),
                  rule.results[0].shape.end());
  EXPECT_EQ(y.shape, expected) << name << " seed " << seed;
  GradCheckResult g = gradCheck(op(name), {x}, params, attrs);
  EXPECT_TRUE(g.ok) << name << ": " << g.error;
  EXPECT_LT(g.worst, 1e-6) << name << " seed " << seed << " at " << g.where;
  return true;
}

/// Runs `propose(rng, shape, attrs)` until `want` cases were accepted by
/// the shape rule (at most 50 tries), checking each.
template <typename Propose>
void randomCases(const std::string &name, int want, Propose propose) {
  std::mt19937 rng(12345);
  int accepted = 0;
  for (int trial = 0; trial < 50 && accepted < want; ++trial) {
    Shape shape;
    Attrs attrs;
    propose(rng, shape, attrs);
    if (checkCase(name, shape, attrs, 1000 + trial))
      ++accepted;
  }
  EXPECT_EQ(accepted, want) << name << ": too few valid random cases";
}

int64_t pick(std::mt19937 &rng, int64_t low, int64_t high) {
  return std::uniform_int_distribution<int64_t>(low, high)(rng);
}

//===----------------------------------------------------------------------===//
// Registry and operand checks
//===----------------------------------------------------------------------===//

TEST(ConvolutionRef, RegistersEveryOpOfTheFamily) {
  for (const char *name :
       {"conv1d", "conv2d", "depthwise_conv2d", "separable_conv2d",
        "conv2d_transpose", "dense", "maxpool2d", "avgpool2d",
        "global_avgpool2d", "global_maxpool2d", "zero_padding2d",
        "upsampling2d"}) {
    EXPECT_TRUE(isKnownOp(name)) << name;
    EXPECT_TRUE(op(name).forward && op(name).backward) << name;
  }
}

TEST(ConvolutionRef, RejectsBadOperandsWithAnError) {
  Attrs attrs{{"filters", i64(2)}, {"kernel_size", Shape{2, 2}}};
  RefTensor x = iota({1, 3, 3, 1});
  Tensors outputs;
  std::string error;
  // Kernel of the wrong shape.
  EXPECT_FALSE(op("conv2d").forward(
      {x}, {RefTensor({2, 2, 1, 3}), RefTensor({2})}, attrs, outputs, error));
  EXPECT_NE(error.find("kernel"), std::string::npos) << error;
  // Missing bias.
  error.clear();
  EXPECT_FALSE(op("conv2d").forward({x}, {RefTensor({2, 2, 1, 2})}, attrs,
                                    outputs, error));
  EXPECT_FALSE(error.empty());
  // Input that the shape rule rejects (rank 3 for conv2d).
  error.clear();
  EXPECT_FALSE(op("conv2d").forward({iota({3, 3, 1})},
                                    {RefTensor({2, 2, 1, 2}), RefTensor({2})},
                                    attrs, outputs, error));
  EXPECT_FALSE(error.empty());
  // Data that does not match the shape.
  RefTensor broken = iota({1, 3, 3, 1});
  broken.data.pop_back();
  error.clear();
  EXPECT_FALSE(
      op("maxpool2d")
          .forward({broken}, {}, {{"pool_size", Shape{2, 2}}}, outputs, error));
  EXPECT_FALSE(error.empty());
  // An output gradient of the wrong shape.
  Tensors inputGrads, paramGrads;
  error.clear();
  EXPECT_FALSE(op("maxpool2d")
                   .backward({x}, {}, {{"pool_size", Shape{2, 2}}}, {},
                             {RefTensor({1, 2, 2, 1})}, inputGrads, paramGrads,
                             error));
  EXPECT_FALSE(error.empty());
}

//===----------------------------------------------------------------------===//
// Hand-computed forward values
//===----------------------------------------------------------------------===//

TEST(ConvolutionRef, Conv2dValidWithBias) {
  // x = [[1,2,3],[4,5,6],[7,8,9]], kernel [[1,2],[3,4]], bias 0.5.
  Attrs attrs{{"filters", i64(1)}, {"kernel_size", Shape{2, 2}}};
  RefTensor y =
      forward("conv2d", iota({1, 3, 3, 1}),
              {tensor({2, 2, 1, 1}, {1, 2, 3, 4}), tensor({1}, {0.5})}, attrs);
  expectValues(y, {1, 2, 2, 1}, {37.5, 47.5, 67.5, 77.5});
}

TEST(ConvolutionRef, Conv2dStridedPadded) {
  // A 3x3 box of ones, pad 1 all round, stride 2: sums of 2x2 corners.
  Attrs attrs{{"filters", i64(1)},
              {"kernel_size", Shape{3, 3}},
              {"strides", Shape{2, 2}},
              {"pad", Shape{1, 1, 1, 1}},
              {"use_bias", false}};
  RefTensor y =
      forward("conv2d", iota({1, 3, 3, 1}),
              {tensor({3, 3, 1, 1}, std::vector<double>(9, 1.0))}, attrs);
  expectValues(y, {1, 2, 2, 1}, {12, 16, 24, 28});
}

TEST(ConvolutionRef, Conv2dDilatedAndAsymmetricPad) {
  // Dilation 2 reads the four corners of the 3x3 input.
  Attrs attrs{{"filters", i64(1)},
              {"kernel_size", Shape{2, 2}},
              {"dilation", Shape{2, 2}},
              {"use_bias", false}};
  RefTensor k = tensor({2, 2, 1, 1}, {1, 2, 3, 4});
  expectValues(forward("conv2d", iota({1, 3, 3, 1}), {k}, attrs), {1, 1, 1, 1},
               {1 * 1 + 3 * 2 + 7 * 3 + 9 * 4});
  // pad [top 1, bottom 0, left 0, right 0]: the first row sees zeros above.
  Attrs padded{{"filters", i64(1)},
               {"kernel_size", Shape{2, 2}},
               {"pad", Shape{1, 0, 0, 0}},
               {"use_bias", false}};
  expectValues(forward("conv2d", iota({1, 3, 3, 1}), {k}, padded), {1, 3, 2, 1},
               {3 * 1 + 4 * 2, 3 * 2 + 4 * 3, 37, 47, 67, 77});
}

TEST(ConvolutionRef, Conv2dGroups) {
  // Two groups of one channel each: filter 0 sees channel 0, filter 1
  // channel 1. kernel[0, 0, 0, f] (C/G = 1) = 2 for filter 0, 5 for 1.
  Attrs attrs{{"filters", i64(2)},
              {"kernel_size", Shape{1, 1}},
              {"groups", i64(2)},
              {"use_bias", false}};
  RefTensor y = forward("conv2d", tensor({1, 1, 1, 2}, {10, 100}),
                        {tensor({1, 1, 1, 2}, {2, 5})}, attrs);
  expectValues(y, {1, 1, 1, 2}, {20, 500});
}

TEST(ConvolutionRef, Conv1d) {
  // y[l] = 2 x[l - 1] + x[l] with x = 1, 2, 3, 4 and pad [1, 0].
  Attrs attrs{{"filters", i64(1)},
              {"kernel_size", Shape{2}},
              {"pad", Shape{1, 0}},
              {"use_bias", false}};
  RefTensor y =
      forward("conv1d", iota({1, 4, 1}), {tensor({2, 1, 1}, {2, 1})}, attrs);
  expectValues(y, {1, 4, 1}, {1, 4, 7, 10});
  // Stride 2, two channels into two filters: kernel[0, c, f].
  Attrs strided{{"filters", i64(2)},
                {"kernel_size", Shape{1}},
                {"strides", Shape{2}},
                {"use_bias", false}};
  RefTensor y2 = forward("conv1d", iota({1, 3, 2}),
                         {tensor({1, 2, 2}, {1, 10, 100, 1000})}, strided);
  // x = [[1,2],[3,4],[5,6]]: positions 0 and 2.
  expectValues(y2, {1, 2, 2}, {1 + 200, 10 + 2000, 5 + 600, 50 + 6000});
}

TEST(ConvolutionRef, DepthwiseChannelOrder) {
  // Output channel c*M + m = x[c] * k[c, m].
  Attrs attrs{{"kernel_size", Shape{1, 1}},
              {"depth_multiplier", i64(2)},
              {"use_bias", false}};
  RefTensor y = forward("depthwise_conv2d", tensor({1, 1, 1, 2}, {2, 3}),
                        {tensor({1, 1, 2, 2}, {1, 10, 100, 1000})}, attrs);
  expectValues(y, {1, 1, 1, 4}, {2, 20, 300, 3000});
  // Spatially it is a per-channel conv2d.
  Attrs spatial{{"kernel_size", Shape{2, 2}}};
  RefTensor y2 = forward(
      "depthwise_conv2d", iota({1, 3, 3, 1}),
      {tensor({2, 2, 1, 1}, {1, 2, 3, 4}), tensor({1}, {0.5})}, spatial);
  expectValues(y2, {1, 2, 2, 1}, {37.5, 47.5, 67.5, 77.5});
}

TEST(ConvolutionRef, SeparableIsDepthwiseThenPointwise) {
  Attrs attrs{{"filters", i64(2)},
              {"kernel_size", Shape{1, 1}},
              {"depth_multiplier", i64(2)}};
  RefTensor y = forward("separable_conv2d", tensor({1, 1, 1, 2}, {2, 3}),
                        {tensor({1, 1, 2, 2}, {1, 10, 100, 1000}),
                         tensor({1, 1, 4, 2}, {1, 0, 1, 0, 1, 0, 1, 1}),
                         tensor({2}, {0.5, -1})},
                        attrs);
  // z = 2, 20, 300, 3000; filter 0 sums all, filter 1 takes z[3].
  expectValues(y, {1, 1, 1, 2}, {3322.5, 2999});
}

TEST(ConvolutionRef, Conv2dTransposeScatters) {
  RefTensor k = tensor({2, 2, 1, 1}, {1, 2, 3, 4});
  RefTensor x = iota({1, 2, 2, 1});
  // Stride 2: each input cell writes x * k into its own 2x2 block.
  Attrs strided{{"filters", i64(1)},
                {"kernel_size", Shape{2, 2}},
                {"strides", Shape{2, 2}},
                {"use_bias", false}};
  expectValues(forward("conv2d_transpose", x, {k}, strided), {1, 4, 4, 1},
               {1, 2, 2, 4, 3, 4, 6, 8, 3, 6, 4, 8, 9, 12, 12, 16});
  // pad [1, 0, 1, 0] crops the first row and column.
  Attrs padded = strided;
  padded["pad"] = Shape{1, 0, 1, 0};
  expectValues(forward("conv2d_transpose", x, {k}, padded), {1, 3, 3, 1},
               {4, 6, 8, 6, 4, 8, 12, 12, 16});
  // output_padding adds a row and column that only the bias reaches.
  Attrs extra = strided;
  extra["output_padding"] = Shape{1, 1};
  extra["use_bias"] = true;
  RefTensor y = forward("conv2d_transpose", x, {k, tensor({1}, {0.5})}, extra);
  ASSERT_EQ(y.shape, (Shape{1, 5, 5, 1}));
  EXPECT_EQ(y.data[0], 1.5);
  EXPECT_EQ(y.data[3 * 5 + 3], 16.5);
  EXPECT_EQ(y.data[4 * 5 + 2], 0.5);
  EXPECT_EQ(y.data[2 * 5 + 4], 0.5);
  // Stride 1 overlaps; dilation 2 spreads the kernel.
  Attrs overlap{
      {"filters", i64(1)}, {"kernel_size", Shape{2, 2}}, {"use_bias", false}};
  expectValues(forward("conv2d_transpose", tensor({1, 2, 2, 1}, {1, 1, 1, 1}),
                       {tensor({2, 2, 1, 1}, {1, 1, 1, 1})}, overlap),
               {1, 3, 3, 1}, {1, 2, 1, 2, 4, 2, 1, 2, 1});
  Attrs dilated = overlap;
  dilated["dilation"] = Shape{2, 2};
  expectValues(
      forward("conv2d_transpose", tensor({1, 1, 1, 1}, {1}), {k}, dilated),
      {1, 3, 3, 1}, {1, 0, 2, 0, 0, 0, 3, 0, 4});
  // kernel[kh, kw, filters, C]: two input channels into one filter.
  Attrs channels{
      {"filters", i64(1)}, {"kernel_size", Shape{1, 1}}, {"use_bias", false}};
  expectValues(forward("conv2d_transpose", tensor({1, 1, 1, 2}, {2, 3}),
                       {tensor({1, 1, 1, 2}, {10, 100})}, channels),
               {1, 1, 1, 1}, {320});
}

TEST(ConvolutionRef, DenseOnTheLastAxis) {
  Attrs attrs{{"units", i64(3)}};
  RefTensor y = forward(
      "dense", tensor({1, 2, 2}, {1, 2, 3, 4}),
      {tensor({2, 3}, {1, 0, 1, 0, 1, 1}), tensor({3}, {0, 0, 10})}, attrs);
  expectValues(y, {1, 2, 3}, {1, 2, 13, 3, 4, 17});
}

TEST(ConvolutionRef, MaxpoolValuesTiesAndPadding) {
  Attrs attrs{{"pool_size", Shape{2, 2}}, {"strides", Shape{1, 1}}};
  expectValues(forward("maxpool2d", iota({1, 3, 3, 1}), {}, attrs),
               {1, 2, 2, 1}, {5, 6, 8, 9});
  // Strides default to pool_size.
  expectValues(forward("maxpool2d", iota({1, 4, 4, 1}), {},
                       {{"pool_size", Shape{2, 2}}}),
               {1, 2, 2, 1}, {6, 8, 14, 16});
  // Padded cells never win, even over negative values.
  Attrs padded{{"pool_size", Shape{2, 2}}, {"pad", Shape{1, 1, 1, 1}}};
  RefTensor negative = tensor({1, 2, 2, 1}, {-1, -2, -3, -4});
  expectValues(forward("maxpool2d", negative, {}, padded), {1, 2, 2, 1},
               {-1, -2, -3, -4});
  // Ties: the first maximum in row-major window order gets the gradient.
  Tensors inputGrads, paramGrads;
  backward("maxpool2d", tensor({1, 2, 2, 1}, {7, 7, 7, 7}), {},
           {{"pool_size", Shape{2, 2}}}, tensor({1, 1, 1, 1}, {5}), inputGrads,
           paramGrads);
  ASSERT_EQ(inputGrads.size(), 1u);
  expectValues(inputGrads[0], {1, 2, 2, 1}, {5, 0, 0, 0});
  backward("maxpool2d", tensor({1, 2, 2, 1}, {1, 7, 3, 7}), {},
           {{"pool_size", Shape{2, 2}}}, tensor({1, 1, 1, 1}, {5}), inputGrads,
           paramGrads);
  expectValues(inputGrads[0], {1, 2, 2, 1}, {0, 5, 0, 0});
}

TEST(ConvolutionRef, AvgpoolCountsOnlyCellsInside) {
  Attrs attrs{{"pool_size", Shape{2, 2}}, {"pad", Shape{0, 1, 0, 1}}};
  expectValues(forward("avgpool2d", iota({1, 3, 3, 1}), {}, attrs),
               {1, 2, 2, 1}, {3, 4.5, 7.5, 9});
  Tensors inputGrads, paramGrads;
  backward("avgpool2d", iota({1, 3, 3, 1}), {}, attrs,
           tensor({1, 2, 2, 1}, {4, 2, 2, 1}), inputGrads, paramGrads);
  ASSERT_EQ(inputGrads.size(), 1u);
  expectValues(inputGrads[0], {1, 3, 3, 1}, {1, 1, 1, 1, 1, 1, 1, 1, 1});
}

TEST(ConvolutionRef, GlobalPools) {
  // x[h, w, c] with channel 0 = 1, 3, 5, 7 and channel 1 = 2, 4, 6, 8.
  RefTensor x = iota({1, 2, 2, 2});
  expectValues(forward("global_avgpool2d", x, {}, {}), {1, 2}, {4, 5});
  expectValues(forward("global_maxpool2d", x, {}, {}), {1, 2}, {7, 8});
  Tensors inputGrads, paramGrads;
  backward("global_maxpool2d", tensor({1, 1, 2, 1}, {3, 3}), {}, {},
           tensor({1, 1}, {2}), inputGrads, paramGrads);
  ASSERT_EQ(inputGrads.size(), 1u);
  expectValues(inputGrads[0], {1, 1, 2, 1}, {2, 0});
}

TEST(ConvolutionRef, ZeroPaddingAndUpsampling) {
  expectValues(forward("zero_padding2d", tensor({1, 1, 1, 1}, {5}), {},
                       {{"pad", Shape{1, 0, 0, 2}}}),
               {1, 2, 3, 1}, {0, 0, 0, 5, 0, 0});
  // The default pads one cell all round.
  expectValues(forward("zero_padding2d", tensor({1, 1, 1, 1}, {5}), {}, {}),
               {1, 3, 3, 1}, {0, 0, 0, 0, 5, 0, 0, 0, 0});
  expectValues(forward("upsampling2d", tensor({1, 2, 1, 1}, {1, 2}), {},
                       {{"size", Shape{2, 3}}}),
               {1, 4, 3, 1}, {1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2});
}

//===----------------------------------------------------------------------===//
// conv2d_transpose is the adjoint of conv2d
//===----------------------------------------------------------------------===//

TEST(ConvolutionRef, Conv2dTransposeIsTheAdjointOfConv2d) {
  std::mt19937 rng(7);
  int checked = 0;
  for (int trial = 0; trial < 20; ++trial) {
    int64_t kh = pick(rng, 1, 3), kw = pick(rng, 1, 3);
    int64_t sh = pick(rng, 1, 3), sw = pick(rng, 1, 3);
    int64_t dh = pick(rng, 1, 2), dw = pick(rng, 1, 2);
    Shape pad{pick(rng, 0, 2), pick(rng, 0, 2), pick(rng, 0, 2),
              pick(rng, 0, 2)};
    int64_t h = pick(rng, 2, 6), w = pick(rng, 2, 6);
    int64_t c = pick(rng, 1, 3), f = pick(rng, 1, 3);
    int64_t extentH = (kh - 1) * dh + 1, extentW = (kw - 1) * dw + 1;
    if (h + pad[0] + pad[1] < extentH || w + pad[2] + pad[3] < extentW)
      continue;
    Attrs conv{{"filters", i64(f)},
               {"kernel_size", Shape{kh, kw}},
               {"strides", Shape{sh, sw}},
               {"dilation", Shape{dh, dw}},
               {"pad", pad},
               {"use_bias", false}};
    RefTensor x = randomTensor({2, h, w, c}, 100 + trial);
    RefTensor k = randomTensor({kh, kw, c, f}, 200 + trial);
    RefTensor y = forward("conv2d", x, {k}, conv);
    ASSERT_EQ(y.shape.size(), 4u);
    // The transpose maps y's [OH, OW, F] back to [H, W, C] with the same
    // kernel read as [kh, kw, filters = C, F].
    Attrs transpose = conv;
    transpose["filters"] = i64(c);
    transpose["output_padding"] = Shape{(h + pad[0] + pad[1] - extentH) % sh,
                                        (w + pad[2] + pad[3] - extentW) % sw};
    RefTensor u = randomTensor(y.shape, 300 + trial);
    RefTensor v = forward("conv2d_transpose", u, {k}, transpose);
    ASSERT_EQ(v.shape, x.shape) << "trial " << trial;
    double lhs = 0, rhs = 0, scale = 0;
    for (size_t i = 0; i < y.data.size(); ++i) {
      lhs += y.data[i] * u.data[i];
      scale += std::fabs(y.data[i] * u.data[i]);
    }
    for (size_t i = 0; i < x.data.size(); ++i)
      rhs += x.data[i] * v.data[i];
    EXPECT_NEAR(lhs, rhs, 1e-12 * std::max(1.0, scale)) << "trial " << trial;
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

//===----------------------------------------------------------------------===//
// Random shapes: shape rule agreement and finite differences
//===----------------------------------------------------------------------===//

TEST(ConvolutionRef, Conv2dRandom) {
  randomCases("conv2d", 5, [](std::mt19937 &rng, Shape &shape, Attrs &a) {
    int64_t groups = pick(rng, 1, 2);
    int64_t c = groups * pick(rng, 1, 2), f = groups * pick(rng, 1, 2);
    int64_t kh = pick(rng, 1, 3), kw = pick(rng, 1, 3);
    int64_t dh = pick(rng, 1, 2), dw = pick(rng, 1, 2);
    shape = {2, (kh - 1) * dh + pick(rng, 1, 3),
             (kw - 1) * dw + pick(rng, 1, 3), c};
    a = {{"filters", i64(f)},
         {"kernel_size", Shape{kh, kw}},
         {"strides", Shape{pick(rng, 1, 2), pick(rng, 1, 2)}},
         {"dilation", Shape{dh, dw}},
         {"groups", i64(groups)},
         {"pad", Shape{pick(rng, 0, 2), pick(rng, 0, 2), pick(rng, 0, 2),
                       pick(rng, 0, 2)}},
         {"use_bias", pick(rng, 0, 1) == 1}};
  });
}

TEST(ConvolutionRef, Conv1dRandom) {
  randomCases("conv1d", 4, [](std::mt19937 &rng, Shape &shape, Attrs &a) {
    int64_t groups = pick(rng, 1, 2);
    int64_t k = pick(rng, 1, 3), d = pick(rng, 1, 2);
    shape = {2, (k - 1) * d + pick(rng, 1, 4), groups * pick(rng, 1, 2)};
    a = {{"filters", i64(groups * pick(rng, 1, 2))},
         {"kernel_size", Shape{k}},
         {"strides", Shape{pick(rng, 1, 2)}},
         {"dilation", Shape{d}},
         {"groups", i64(groups)},
         {"pad", Shape{pick(rng, 0, 2), pick(rng, 0, 2)}},
         {"use_bias", pick(rng, 0, 1) == 1}};
  });
}

/// kernel_size, strides, dilation and pad of a random 2-D window, and an
/// input [2, H, W, c] it fits.
void randomWindow(std::mt19937 &rng, int64_t c, Shape &shape, Attrs &a) {
  int64_t kh = pick(rng, 1, 3), kw = pick(rng, 1, 3);
  int64_t dh = pick(rng, 1, 2), dw = pick(rng, 1, 2);
  shape = {2, (kh - 1) * dh + pick(rng, 1, 3), (kw - 1) * dw + pick(rng, 1, 3),
           c};
  a["kernel_size"] = Shape{kh, kw};
  a["strides"] = Shape{pick(rng, 1, 2), pick(rng, 1, 2)};
  a["dilation"] = Shape{dh, dw};
  a["pad"] =
      Shape{pick(rng, 0, 1), pick(rng, 0, 1), pick(rng, 0, 1), pick(rng, 0, 1)};
  a["use_bias"] = pick(rng, 0, 1) == 1;
}

TEST(ConvolutionRef, DepthwiseConv2dRandom) {
  randomCases("depthwise_conv2d", 4,
              [](std::mt19937 &rng, Shape &shape, Attrs &a) {
                randomWindow(rng, pick(rng, 1, 3), shape, a);
                a["depth_multiplier"] = i64(pick(rng, 1, 2));
              });
}

TEST(ConvolutionRef, SeparableConv2dRandom) {
  randomCases("separable_conv2d", 4,
              [](std::mt19937 &rng, Shape &shape, Attrs &a) {
                randomWindow(rng, pick(rng, 1, 3), shape, a);
                a["depth_multiplier"] = i64(pick(rng, 1, 2));
                a["filters"] = i64(pick(rng, 1, 3));
              });
}

TEST(ConvolutionRef, Conv2dTransposeRandom) {
  randomCases("conv2d_transpose", 5,
              [](std::mt19937 &rng, Shape &shape, Attrs &a) {
                int64_t sh = pick(rng, 1, 3), sw = pick(rng, 1, 3);
                shape = {2, pick(rng, 1, 3), pick(rng, 1, 3), pick(rng, 1, 3)};
                a = {{"filters", i64(pick(rng, 1, 3))},
                     {"kernel_size", Shape{pick(rng, 1, 3), pick(rng, 1, 3)}},
                     {"strides", Shape{sh, sw}},
                     {"dilation", Shape{pick(rng, 1, 2), pick(rng, 1, 2)}},
                     {"pad", Shape{pick(rng, 0, 1), pick(rng, 0, 1),
                                   pick(rng, 0, 1), pick(rng, 0, 1)}},
                     {"output_padding",
                      Shape{pick(rng, 0, sh - 1), pick(rng, 0, sw - 1)}},
                     {"use_bias", pick(rng, 0, 1) == 1}};
              });
}

TEST(ConvolutionRef, DenseRandom) {
  randomCases("dense", 4, [](std::mt19937 &rng, Shape &shape, Attrs &a) {
    shape = {2};
    int64_t rank = pick(rng, 1, 3);
    for (int64_t i = 0; i < rank; ++i)
      shape.push_back(pick(rng, 1, 3));
    a = {{"units", i64(pick(rng, 1, 4))}, {"use_bias", pick(rng, 0, 1) == 1}};
  });
}

/// A random pool window with pads smaller than the pool (as "same" gives).
void randomPool(std::mt19937 &rng, Shape &shape, Attrs &a) {
  int64_t ph = pick(rng, 1, 3), pw = pick(rng, 1, 3);
  shape = {2, ph + pick(rng, 0, 3), pw + pick(rng, 0, 3), pick(rng, 1, 2)};
  a = {{"pool_size", Shape{ph, pw}},
       {"strides", Shape{pick(rng, 1, 3), pick(rng, 1, 3)}},
       {"pad", Shape{pick(rng, 0, ph - 1), pick(rng, 0, ph - 1),
                     pick(rng, 0, pw - 1), pick(rng, 0, pw - 1)}}};
}

TEST(ConvolutionRef, MaxpoolRandom) { randomCases("maxpool2d", 5, randomPool); }

TEST(ConvolutionRef, AvgpoolRandom) { randomCases("avgpool2d", 5, randomPool); }

TEST(ConvolutionRef, GlobalPoolsRandom) {
  auto propose = [](std::mt19937 &rng, Shape &shape, Attrs &) {
    shape = {2, pick(rng, 1, 4), pick(rng, 1, 4), pick(rng, 1, 3)};
  };
  randomCases("global_avgpool2d", 3, propose);
  randomCases("global_maxpool2d", 3, propose);
}

TEST(ConvolutionRef, ZeroPaddingRandom) {
  randomCases("zero_padding2d", 3,
              [](std::mt19937 &rng, Shape &shape, Attrs &a) {
                shape = {2, pick(rng, 1, 3), pick(rng, 1, 3), pick(rng, 1, 2)};
                a = {{"pad", Shape{pick(rng, 0, 2), pick(rng, 0, 2),
                                   pick(rng, 0, 2), pick(rng, 0, 2)}}};
              });
}

TEST(ConvolutionRef, UpsamplingRandom) {
  randomCases("upsampling2d", 3, [](std::mt19937 &rng, Shape &shape, Attrs &a) {
    shape = {2, pick(rng, 1, 3), pick(rng, 1, 3), pick(rng, 1, 2)};
    a = {{"size", Shape{pick(rng, 1, 3), pick(rng, 1, 3)}}};
  });
}

} // namespace
