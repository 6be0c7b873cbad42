//===- ShapeRulesTest.cpp - the shape rules against Keras's numbers -------===//
//
// Every op of the catalog against shapes and parameter counts computed by
// hand from Keras's formulas, the error messages users see, Keras's padding
// rules, and a seeded random sweep over all ops that must never crash.
//
//===----------------------------------------------------------------------===//

#include "ir/ShapeRules.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

using namespace dlc;

namespace {

TensorInfo f32(Shape shape) { return {ElementType::F32, std::move(shape)}; }
TensorInfo f64(Shape shape) { return {ElementType::F64, std::move(shape)}; }
TensorInfo i32(Shape shape) { return {ElementType::I32, std::move(shape)}; }
TensorInfo loss(ElementType type = ElementType::F32) {
  return {type, {}, /*batched=*/false};
}

/// The single result of a successful rule, or a failure naming the error.
TensorInfo inferOne(const std::string &op, std::vector<TensorInfo> inputs,
                    const Attrs &attrs = {}) {
  ShapeResult result = inferShapes(op, inputs, attrs);
  EXPECT_TRUE(result.ok()) << op << ": " << result.error;
  EXPECT_EQ(result.results.size(), 1u) << op;
  if (result.results.size() != 1)
    return {};
  return result.results[0];
}

/// The error of a rule that must fail.
ShapeResult inferError(const std::string &op, std::vector<TensorInfo> inputs,
                       const Attrs &attrs = {}) {
  ShapeResult result = inferShapes(op, inputs, attrs);
  EXPECT_FALSE(result.ok())
      << op << " unexpectedly gave "
      << (result.results.empty() ? std::string("nothing")
                                 : formatTensor(result.results[0]));
  EXPECT_TRUE(result.results.empty());
  return result;
}

int64_t countParams(const std::vector<ParamSpec> &params,
                    bool onlyTrainable = false) {
  int64_t total = 0;
  for (const ParamSpec &p : params)
    if (p.trainable || !onlyTrainable)
      total += checkedElementCount(p.shape);
  return total;
}

const ParamSpec *findParam(const std::vector<ParamSpec> &params,
                           const std::string &role) {
  for (const ParamSpec &p : params)
    if (p.role == role)
      return &p;
  return nullptr;
}

/// Attributes of a 2-D conv-like op as sema builds them: `padding` resolved
/// by resolvePadding for input `in` ([H, W, C]).
Attrs convAttrs(const Shape &in, int64_t k, int64_t s,
                const std::string &padding, int64_t d = 1) {
  std::vector<int64_t> h = resolvePadding(padding, in[0], k, s, d);
  std::vector<int64_t> w = resolvePadding(padding, in[1], k, s, d);
  return {{"kernel_size", Shape{k, k}},
          {"strides", Shape{s, s}},
          {"dilation", Shape{d, d}},
          {"pad", Shape{h[0], h[1], w[0], w[1]}}};
}

Attrs conv2dAttrs(int64_t filters, const Shape &in, int64_t k, int64_t s,
                  const std::string &padding, int64_t d = 1) {
  Attrs attrs = convAttrs(in, k, s, padding, d);
  attrs["filters"] = filters;
  return attrs;
}

Attrs transposeAttrs(int64_t filters, const Shape &in, int64_t k, int64_t s,
                     const std::string &padding, int64_t outputPadding = -1) {
  std::vector<int64_t> h =
      resolveTransposePadding(padding, in[0], k, s, 1, outputPadding);
  std::vector<int64_t> w =
      resolveTransposePadding(padding, in[1], k, s, 1, outputPadding);
  return {{"filters", filters},
          {"kernel_size", Shape{k, k}},
          {"strides", Shape{s, s}},
          {"pad", Shape{h[0], h[1], w[0], w[1]}},
          {"output_padding", Shape{h[2], w[2]}}};
}

//===----------------------------------------------------------------------===//
// Catalog and formatting
//===----------------------------------------------------------------------===//

TEST(ShapeRulesTest, CatalogIsSortedAndComplete) {
  const std::vector<std::string> &ops = knownOps();
  EXPECT_TRUE(std::is_sorted(ops.begin(), ops.end()));
  EXPECT_EQ(ops.size(), 36u);
  for (const char *op : {"conv1d",
                         "conv2d",
                         "depthwise_conv2d",
                         "separable_conv2d",
                         "conv2d_transpose",
                         "dense",
                         "maxpool2d",
                         "avgpool2d",
                         "global_avgpool2d",
                         "global_maxpool2d",
                         "batchnorm",
                         "layernorm",
                         "dropout",
                         "relu",
                         "sigmoid",
                         "tanh",
                         "abs",
                         "leaky_relu",
                         "elu",
                         "softmax",
                         "add",
                         "subtract",
                         "multiply",
                         "concat",
                         "reshape",
                         "zero_padding2d",
                         "upsampling2d",
                         "embedding",
                         "lstm",
                         "gru",
                         "mse",
                         "mae",
                         "binary_crossentropy",
                         "categorical_crossentropy",
                         "sparse_categorical_crossentropy",
                         "weighted_sum"}) {
    EXPECT_TRUE(isKnownOp(op)) << op;
    EXPECT_TRUE(std::binary_search(ops.begin(), ops.end(), op)) << op;
  }
  EXPECT_FALSE(isKnownOp("flatten"));
  EXPECT_FALSE(isKnownOp(""));
}

TEST(ShapeRulesTest, UnknownOp) {
  ShapeResult result = inferShapes("conv3d", {f32({4, 4, 4, 1})}, {});
  EXPECT_EQ(result.error, "is not a dl op");
  EXPECT_TRUE(result.results.empty());
  EXPECT_TRUE(paramSpecs("conv3d", {f32({4, 4, 4, 1})}, {}).empty());
}

TEST(ShapeRulesTest, Formatting) {
  EXPECT_STREQ(elementTypeName(ElementType::F32), "f32");
  EXPECT_STREQ(elementTypeName(ElementType::F64), "f64");
  EXPECT_STREQ(elementTypeName(ElementType::I32), "i32");
  EXPECT_EQ(formatTensor(f32({28, 28, 1})), "f32[28, 28, 1]");
  EXPECT_EQ(formatTensor(i32({})), "i32[]");
  EXPECT_EQ(formatTensor(loss(ElementType::F64)), "f64[]");
}

TEST(ShapeRulesTest, CheckedElementCount) {
  EXPECT_EQ(checkedElementCount({}), 1);
  EXPECT_EQ(checkedElementCount({28, 28, 1}), 784);
  EXPECT_EQ(checkedElementCount({1 << 20, 1 << 20}), int64_t(1) << 40);
  EXPECT_EQ(checkedElementCount({(1 << 20) + 1, 1 << 20}), -1);
  EXPECT_EQ(checkedElementCount({int64_t(1) << 62, int64_t(1) << 62}), -1);
  EXPECT_EQ(checkedElementCount({INT64_MAX, INT64_MAX, INT64_MAX}), -1);
  EXPECT_EQ(checkedElementCount({3, -1}), -1);
}

//===----------------------------------------------------------------------===//
// Keras's padding
//===----------------------------------------------------------------------===//

TEST(ShapeRulesTest, ResolvePadding) {
  EXPECT_EQ(resolvePadding("valid", 28, 3, 1, 1), (Shape{0, 0}));
  EXPECT_EQ(resolvePadding("same", 28, 3, 1, 1), (Shape{1, 1}));
  // ceil(28/2) = 14: (14 - 1) * 2 + 3 - 28 = 1, the smaller half first.
  EXPECT_EQ(resolvePadding("same", 28, 3, 2, 1), (Shape{0, 1}));
  EXPECT_EQ(resolvePadding("same", 28, 4, 1, 1), (Shape{1, 2}));
  // Dilation 2 makes a 3-kernel span 5.
  EXPECT_EQ(resolvePadding("same", 10, 3, 1, 2), (Shape{2, 2}));
  // Pooling 2 with stride 2 on 7: (4 - 1) * 2 + 2 - 7 = 1.
  EXPECT_EQ(resolvePadding("same", 7, 2, 2, 1), (Shape{0, 1}));
  // A negative total is no padding.
  EXPECT_EQ(resolvePadding("same", 8, 1, 4, 1), (Shape{0, 0}));
  // Nonsense never divides by zero.
  EXPECT_EQ(resolvePadding("same", 8, 3, 0, 1), (Shape{0, 0}));
  EXPECT_EQ(resolvePadding("same", 0, 3, 1, 1), (Shape{0, 0}));
}

TEST(ShapeRulesTest, SamePaddingKeepsCeilInOverStride) {
  for (int64_t in = 1; in <= 40; ++in)
    for (int64_t k = 1; k <= 7; ++k)
      for (int64_t s = 1; s <= 4; ++s)
        for (int64_t d = 1; d <= 3; ++d) {
          std::vector<int64_t> pad = resolvePadding("same", in, k, s, d);
          ASSERT_EQ(pad.size(), 2u);
          EXPECT_GE(pad[0], 0);
          EXPECT_LE(pad[0], pad[1]);
          EXPECT_LE(pad[1] - pad[0], 1);
          Attrs attrs = {{"filters", int64_t(1)},
                         {"kernel_size", Shape{k}},
                         {"strides", Shape{s}},
                         {"dilation", Shape{d}},
                         {"pad", Shape{pad[0], pad[1]}}};
          TensorInfo out = inferOne("conv1d", {f32({in, 2})}, attrs);
          EXPECT_EQ(out.shape, (Shape{(in + s - 1) / s, 1}))
              << "in " << in << " k " << k << " s " << s << " d " << d;
          // Keras's valid: (in - extent + s) // s when it fits.
          int64_t extent = (k - 1) * d + 1;
          attrs["pad"] = Shape{0, 0};
          if (extent <= in) {
            EXPECT_EQ(inferOne("conv1d", {f32({in, 2})}, attrs).shape,
                      (Shape{(in - extent + s) / s, 1}));
          }
        }
}

TEST(ShapeRulesTest, ResolveTransposePadding) {
  // Keras same: in * s. k=3, s=2 as TensorFlow pads: total 1, begin 0.
  EXPECT_EQ(resolveTransposePadding("same", 7, 3, 2, 1, -1), (Shape{0, 1, 0}));
  // valid: in * s + max(k - s, 0) = 15.
  EXPECT_EQ(resolveTransposePadding("valid", 7, 3, 2, 1, -1), (Shape{0, 0, 0}));
  // valid with k < s: 14 needs one row of output padding.
  EXPECT_EQ(resolveTransposePadding("valid", 7, 1, 2, 1, -1), (Shape{0, 0, 1}));
  // same with k < s: (in - 1) * 3 + 1 + 2 = in * 3.
  EXPECT_EQ(resolveTransposePadding("same", 5, 1, 3, 1, -1), (Shape{0, 0, 2}));
  // same, k = 4, s = 2: total 2 split evenly.
  EXPECT_EQ(resolveTransposePadding("same", 7, 4, 2, 1, -1), (Shape{1, 1, 0}));
  // Explicit output_padding: valid keeps it.
  EXPECT_EQ(resolveTransposePadding("valid", 7, 3, 2, 1, 1), (Shape{0, 0, 1}));
  // same, p = 0: Keras pads k // 2 = 1 on each side.
  EXPECT_EQ(resolveTransposePadding("same", 7, 3, 2, 1, 0), (Shape{1, 1, 0}));
  // same, p = 1: length (7-1)*2 + 3 - 2 + 1 = 14, placed as TensorFlow
  // and JAX place it (nothing cropped at the start).
  EXPECT_EQ(resolveTransposePadding("same", 7, 3, 2, 1, 1), (Shape{0, 1, 0}));
}

/// Keras's deconv_output_length (padding valid|same).
int64_t kerasDeconvLength(int64_t in, int64_t k, int64_t s, int64_t d,
                          const std::string &padding, int64_t p) {
  int64_t extent = (k - 1) * d + 1;
  if (p < 0)
    return padding == "valid" ? in * s + std::max<int64_t>(extent - s, 0)
                              : in * s;
  int64_t pad = padding == "same" ? extent / 2 : 0;
  return (in - 1) * s + extent - 2 * pad + p;
}

TEST(ShapeRulesTest, TransposePaddingReproducesKerasLengths) {
  for (const char *padding : {"valid", "same"})
    for (int64_t in = 1; in <= 12; ++in)
      for (int64_t k = 1; k <= 6; ++k)
        for (int64_t s = 1; s <= 4; ++s)
          for (int64_t d = 1; d <= 2; ++d)
            for (int64_t p = -1; p < s; ++p) {
              std::vector<int64_t> r =
                  resolveTransposePadding(padding, in, k, s, d, p);
              ASSERT_EQ(r.size(), 3u);
              EXPECT_GE(r[0], 0);
              EXPECT_GE(r[1], 0);
              EXPECT_GE(r[2], 0);
              EXPECT_LT(r[2], s);
              int64_t extent = (k - 1) * d + 1;
              int64_t length = (in - 1) * s + extent - r[0] - r[1] + r[2];
              EXPECT_EQ(length, kerasDeconvLength(in, k, s, d, padding, p))
                  << padding << " in " << in << " k " << k << " s " << s
                  << " d " << d << " p " << p;
              // Without output_padding, same crops like TensorFlow: the
              // forward conv's padding begin, max(extent - s, 0) / 2.
              if (p < 0 && std::string(padding) == "same") {
                EXPECT_EQ(r[0], std::max<int64_t>(extent - s, 0) / 2);
              }
            }
}

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

TEST(ShapeRulesTest, Conv2dShapes) {
  Shape in{28, 28, 1};
  EXPECT_EQ(
      inferOne("conv2d", {f32(in)}, conv2dAttrs(32, in, 3, 2, "same")).shape,
      (Shape{14, 14, 32}));
  EXPECT_EQ(
      inferOne("conv2d", {f32(in)}, conv2dAttrs(32, in, 3, 1, "valid")).shape,
      (Shape{26, 26, 32}));
  EXPECT_EQ(
      inferOne("conv2d", {f32(in)}, conv2dAttrs(32, in, 3, 1, "same")).shape,
      (Shape{28, 28, 32}));
  // Dilation 2: a 3x3 kernel spans 5x5, 28 - 5 + 1 = 24.
  EXPECT_EQ(
      inferOne("conv2d", {f32(in)}, conv2dAttrs(8, in, 3, 1, "valid", /*d=*/2))
          .shape,
      (Shape{24, 24, 8}));
  // valid 3x3 stride 2 on 28: (28 - 3) / 2 + 1 = 13.
  EXPECT_EQ(
      inferOne("conv2d", {f32(in)}, conv2dAttrs(4, in, 3, 2, "valid")).shape,
      (Shape{13, 13, 4}));
  // Element type is kept.
  EXPECT_EQ(inferOne("conv2d", {f64(in)}, conv2dAttrs(4, in, 3, 1, "same"))
                .elementType,
            ElementType::F64);
  // Keras conv2d(32, 3) on [28, 28, 1]: 3*3*1*32 + 32 = 320 parameters.
  std::vector<ParamSpec> params =
      paramSpecs("conv2d", {f32(in)}, conv2dAttrs(32, in, 3, 1, "same"));
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].role, "kernel");
  EXPECT_EQ(params[0].shape, (Shape{3, 3, 1, 32}));
  EXPECT_EQ(params[0].init, "glorot_uniform");
  EXPECT_EQ(params[0].fanIn, 9);
  EXPECT_EQ(params[0].fanOut, 288);
  EXPECT_EQ(params[1].role, "bias");
  EXPECT_EQ(params[1].shape, (Shape{32}));
  EXPECT_EQ(params[1].init, "zeros");
  EXPECT_EQ(params[1].fanIn, 32);
  EXPECT_EQ(params[1].fanOut, 32);
  EXPECT_EQ(countParams(params), 320);
}

TEST(ShapeRulesTest, Conv2dGroupsAndNoBias) {
  Shape in{8, 8, 32};
  Attrs attrs = conv2dAttrs(64, in, 3, 1, "same");
  attrs["groups"] = int64_t(4);
  attrs["use_bias"] = false;
  EXPECT_EQ(inferOne("conv2d", {f32(in)}, attrs).shape, (Shape{8, 8, 64}));
  std::vector<ParamSpec> params = paramSpecs("conv2d", {f32(in)}, attrs);
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].shape, (Shape{3, 3, 8, 64}));
  EXPECT_EQ(countParams(params), 3 * 3 * 8 * 64);

  attrs["groups"] = int64_t(3);
  EXPECT_EQ(inferError("conv2d", {f32(in)}, attrs).error,
            "expects groups 3 to divide the input channels 32 of "
            "f32[8, 8, 32]");
  attrs["groups"] = int64_t(32);
  attrs["filters"] = int64_t(48);
  EXPECT_EQ(inferError("conv2d", {f32(in)}, attrs).error,
            "expects groups 32 to divide filters 48");
}

TEST(ShapeRulesTest, Conv1d) {
  Attrs attrs = {{"filters", int64_t(16)}, {"kernel_size", Shape{5}}};
  EXPECT_EQ(inferOne("conv1d", {f32({100, 8})}, attrs).shape, (Shape{96, 16}));
  std::vector<ParamSpec> params = paramSpecs("conv1d", {f32({100, 8})}, attrs);
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].shape, (Shape{5, 8, 16}));
  EXPECT_EQ(params[0].fanIn, 40);
  EXPECT_EQ(params[0].fanOut, 80);
  EXPECT_EQ(countParams(params), 5 * 8 * 16 + 16);
  ShapeResult error = inferError("conv1d", {f32({100})}, attrs);
  EXPECT_EQ(error.error, "expects an input of rank 2 [L, C], got f32[100]");
  EXPECT_EQ(error.hint,
            "declare the input as f32[100, 1] or add reshape([100, 1]) "
            "before it");
  EXPECT_EQ(inferError("conv1d", {f32({3, 8})}, attrs).error,
            "kernel 5 is larger than the padded input 3");
}

TEST(ShapeRulesTest, DepthwiseConv2d) {
  Shape in{28, 28, 16};
  Attrs attrs = convAttrs(in, 3, 1, "same");
  attrs["use_bias"] = false;
  EXPECT_EQ(inferOne("depthwise_conv2d", {f32(in)}, attrs).shape,
            (Shape{28, 28, 16}));
  std::vector<ParamSpec> params =
      paramSpecs("depthwise_conv2d", {f32(in)}, attrs);
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].role, "depthwise_kernel");
  EXPECT_EQ(params[0].shape, (Shape{3, 3, 16, 1}));
  EXPECT_EQ(params[0].fanIn, 144);
  EXPECT_EQ(params[0].fanOut, 9);
  EXPECT_EQ(countParams(params), 144);

  attrs = convAttrs(in, 3, 2, "valid");
  attrs["depth_multiplier"] = int64_t(2);
  EXPECT_EQ(inferOne("depthwise_conv2d", {f32(in)}, attrs).shape,
            (Shape{13, 13, 32}));
  params = paramSpecs("depthwise_conv2d", {f32(in)}, attrs);
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].shape, (Shape{3, 3, 16, 2}));
  EXPECT_EQ(params[1].shape, (Shape{32}));
}

TEST(ShapeRulesTest, SeparableConv2d) {
  // mobilenet_tiny: separable_conv2d(64, 3, strides=2, padding=same) on
  // [28, 28, 32]: 9*32 + 32*64 + 64 = 2400 parameters.
  Shape in{28, 28, 32};
  Attrs attrs = conv2dAttrs(64, in, 3, 2, "same");
  EXPECT_EQ(inferOne("separable_conv2d", {f32(in)}, attrs).shape,
            (Shape{14, 14, 64}));
  std::vector<ParamSpec> params =
      paramSpecs("separable_conv2d", {f32(in)}, attrs);
  ASSERT_EQ(params.size(), 3u);
  EXPECT_EQ(params[0].role, "depthwise_kernel");
  EXPECT_EQ(params[0].shape, (Shape{3, 3, 32, 1}));
  EXPECT_EQ(params[1].role, "pointwise_kernel");
  EXPECT_EQ(params[1].shape, (Shape{1, 1, 32, 64}));
  EXPECT_EQ(params[1].fanIn, 32);
  EXPECT_EQ(params[1].fanOut, 64);
  EXPECT_EQ(params[2].role, "bias");
  EXPECT_EQ(countParams(params), 9 * 32 + 32 * 64 + 64);
}

TEST(ShapeRulesTest, Conv2dTranspose) {
  Shape in{7, 7, 8};
  EXPECT_EQ(inferOne("conv2d_transpose", {f32(in)},
                     transposeAttrs(16, in, 3, 2, "same"))
                .shape,
            (Shape{14, 14, 16}));
  EXPECT_EQ(inferOne("conv2d_transpose", {f32(in)},
                     transposeAttrs(16, in, 3, 2, "valid"))
                .shape,
            (Shape{15, 15, 16}));
  // output_padding=1 with same: (7-1)*2 + 3 - 2*1 + 1 = 14.
  EXPECT_EQ(inferOne("conv2d_transpose", {f32(in)},
                     transposeAttrs(16, in, 3, 2, "same", 1))
                .shape,
            (Shape{14, 14, 16}));
  // output_padding=1 with valid: (7-1)*2 + 3 + 1 = 16.
  EXPECT_EQ(inferOne("conv2d_transpose", {f32(in)},
                     transposeAttrs(16, in, 3, 2, "valid", 1))
                .shape,
            (Shape{16, 16, 16}));
  // denoise_ae: 7 -> 14 -> 28.
  EXPECT_EQ(inferOne("conv2d_transpose", {f32({14, 14, 8})},
                     transposeAttrs(16, {14, 14, 8}, 3, 2, "same"))
                .shape,
            (Shape{28, 28, 16}));
  std::vector<ParamSpec> params = paramSpecs(
      "conv2d_transpose", {f32(in)}, transposeAttrs(16, in, 3, 2, "same"));
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].shape, (Shape{3, 3, 16, 8}));
  EXPECT_EQ(params[0].fanIn, 144);
  EXPECT_EQ(params[0].fanOut, 72);
  EXPECT_EQ(countParams(params), 3 * 3 * 16 * 8 + 16);
}

TEST(ShapeRulesTest, Conv2dTransposeErrors) {
  // (1 - 1) * 1 + 2 - 1 - 1 + 0 = 0 rows.
  Attrs attrs = {{"filters", int64_t(4)},
                 {"kernel_size", Shape{2, 2}},
                 {"pad", Shape{1, 1, 0, 0}}};
  ShapeResult error = inferError("conv2d_transpose", {f32({1, 5, 3})}, attrs);
  EXPECT_EQ(error.error, "the output would be empty: height (1 - 1) * 1 + "
                         "(2 - 1) * 1 + 1 - 1 - 1 + 0 = 0");
  attrs = transposeAttrs(4, {7, 7, 3}, 3, 2, "valid");
  attrs["output_padding"] = Shape{2, 0};
  EXPECT_EQ(inferError("conv2d_transpose", {f32({7, 7, 3})}, attrs).error,
            "expects output_padding smaller than strides, got [2, 0] with "
            "strides [2, 2]");
}

TEST(ShapeRulesTest, ConvErrors) {
  ShapeResult error = inferError("conv2d", {f32({28, 28})},
                                 conv2dAttrs(32, {28, 28}, 3, 1, "same"));
  EXPECT_EQ(error.error, "expects an input of rank 3 [H, W, C], got "
                         "f32[28, 28]");
  EXPECT_EQ(error.hint, "declare the input as f32[28, 28, 1] or add "
                        "reshape([28, 28, 1]) before it");

  error = inferError("conv2d", {f32({3, 3, 1})},
                     conv2dAttrs(8, {3, 3}, 5, 1, "valid"));
  EXPECT_EQ(error.error, "kernel 5x5 is larger than the padded input 3x3");
  EXPECT_NE(error.hint.find("padding=same"), std::string::npos);
  // With padding=same the same kernel fits.
  EXPECT_EQ(
      inferOne("conv2d", {f32({3, 3, 1})}, conv2dAttrs(8, {3, 3}, 5, 1, "same"))
          .shape,
      (Shape{3, 3, 8}));

  error = inferError("conv2d", {f32({4, 4, 1})},
                     conv2dAttrs(8, {4, 4}, 3, 1, "valid", /*d=*/2));
  EXPECT_EQ(error.error, "kernel 3x3 dilated by 2x2 spans 5x5, larger than "
                         "the padded input 4x4");

  Attrs attrs = conv2dAttrs(8, {8, 8}, 3, 1, "valid");
  attrs["filters"] = int64_t(0);
  EXPECT_EQ(inferError("conv2d", {f32({8, 8, 1})}, attrs).error,
            "expects filters >= 1, got 0");
  attrs.erase("filters");
  EXPECT_EQ(inferError("conv2d", {f32({8, 8, 1})}, attrs).error,
            "is missing the attribute 'filters' (an integer)");
  attrs["filters"] = 2.5;
  EXPECT_EQ(inferError("conv2d", {f32({8, 8, 1})}, attrs).error,
            "expects 'filters' to be an integer");
  attrs["filters"] = int64_t(8);
  attrs["strides"] = Shape{1, 0};
  EXPECT_EQ(inferError("conv2d", {f32({8, 8, 1})}, attrs).error,
            "expects strides >= 1, got [1, 0]");
  attrs["strides"] = Shape{1, 1, 1};
  EXPECT_EQ(inferError("conv2d", {f32({8, 8, 1})}, attrs).error,
            "expects 'strides' to be a list of 2 integers, got [1, 1, 1]");
  attrs["strides"] = Shape{1, 1};
  attrs["pad"] = Shape{0, 0, -1, 0};
  EXPECT_EQ(inferError("conv2d", {f32({8, 8, 1})}, attrs).error,
            "expects pad >= 0, got [0, 0, -1, 0]");

  error = inferError("conv2d", {i32({8, 8, 1})},
                     conv2dAttrs(8, {8, 8}, 3, 1, "same"));
  EXPECT_EQ(error.error, "expects a float input (f32 or f64), got "
                         "i32[8, 8, 1]");
  error = inferError("conv2d", {f32({1, 28, 28, 1})},
                     conv2dAttrs(8, {28, 28}, 3, 1, "same"));
  EXPECT_NE(error.hint.find("batch dimension is implicit"), std::string::npos);
  EXPECT_EQ(inferError("conv2d", {}, {}).error, "expects 1 input, got 0");
}

//===----------------------------------------------------------------------===//
// Pooling, padding, upsampling
//===----------------------------------------------------------------------===//

TEST(ShapeRulesTest, Pooling) {
  Attrs attrs = {{"pool_size", Shape{2, 2}}};
  for (const char *op : {"maxpool2d", "avgpool2d"}) {
    EXPECT_EQ(inferOne(op, {f32({28, 28, 32})}, attrs).shape,
              (Shape{14, 14, 32}));
    // valid on 7: (7 - 2) / 2 + 1 = 3.
    EXPECT_EQ(inferOne(op, {f32({7, 7, 64})}, attrs).shape, (Shape{3, 3, 64}));
    EXPECT_TRUE(paramSpecs(op, {f32({7, 7, 64})}, attrs).empty());
  }
  // same on 7: pad [0, 1] -> 4.
  Attrs same = {{"pool_size", Shape{2, 2}}, {"pad", Shape{0, 1, 0, 1}}};
  EXPECT_EQ(inferOne("maxpool2d", {f32({7, 7, 64})}, same).shape,
            (Shape{4, 4, 64}));
  Attrs strided = {{"pool_size", Shape{3, 3}}, {"strides", Shape{1, 2}}};
  EXPECT_EQ(inferOne("avgpool2d", {f32({7, 7, 1})}, strided).shape,
            (Shape{5, 3, 1}));
  ShapeResult error =
      inferError("maxpool2d", {f32({2, 2, 1})}, {{"pool_size", Shape{3, 3}}});
  EXPECT_EQ(error.error, "pool 3x3 is larger than the padded input 2x2");
  EXPECT_EQ(error.hint, "use padding=same or a smaller pool");
  EXPECT_EQ(inferError("maxpool2d", {f32({2, 2, 1})}, {}).error,
            "is missing the attribute 'pool_size' (a list of 2 integers)");
}

TEST(ShapeRulesTest, GlobalPooling) {
  for (const char *op : {"global_avgpool2d", "global_maxpool2d"}) {
    TensorInfo out = inferOne(op, {f64({7, 7, 64})});
    EXPECT_EQ(out.shape, (Shape{64}));
    EXPECT_EQ(out.elementType, ElementType::F64);
    EXPECT_EQ(inferError(op, {f32({64})}).error,
              "expects an input of rank 3 [H, W, C], got f32[64]");
  }
}

TEST(ShapeRulesTest, ZeroPaddingAndUpsampling) {
  EXPECT_EQ(inferOne("zero_padding2d", {f32({28, 28, 3})},
                     {{"pad", Shape{1, 2, 3, 4}}})
                .shape,
            (Shape{31, 35, 3}));
  // Keras's default padding is 1 on each side.
  EXPECT_EQ(inferOne("zero_padding2d", {f32({28, 28, 3})}).shape,
            (Shape{30, 30, 3}));
  EXPECT_EQ(
      inferOne("upsampling2d", {f32({7, 7, 3})}, {{"size", Shape{2, 3}}}).shape,
      (Shape{14, 21, 3}));
  EXPECT_EQ(inferOne("upsampling2d", {f32({7, 7, 3})}).shape,
            (Shape{14, 14, 3}));
  ShapeResult error = inferError("upsampling2d", {f32({1 << 20, 1 << 19, 1})},
                                 {{"size", Shape{4, 4}}});
  EXPECT_EQ(error.error,
            "would produce f32[4194304, 2097152, 1] with more than 2^40 "
            "elements");
}

//===----------------------------------------------------------------------===//
// Dense, normalization, activations
//===----------------------------------------------------------------------===//

TEST(ShapeRulesTest, Dense) {
  // fashion_mlp: dense(128) on 784 features: 784*128 + 128 = 100480.
  Attrs attrs = {{"units", int64_t(128)}};
  EXPECT_EQ(inferOne("dense", {f32({784})}, attrs).shape, (Shape{128}));
  std::vector<ParamSpec> params = paramSpecs("dense", {f32({784})}, attrs);
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].shape, (Shape{784, 128}));
  EXPECT_EQ(params[0].fanIn, 784);
  EXPECT_EQ(params[0].fanOut, 128);
  EXPECT_EQ(countParams(params), 100480);
  // On the last axis of a rank >= 1 input.
  EXPECT_EQ(inferOne("dense", {f32({28, 16})}, attrs).shape, (Shape{28, 128}));
  attrs["use_bias"] = false;
  EXPECT_EQ(countParams(paramSpecs("dense", {f32({784})}, attrs)), 784 * 128);
  ShapeResult error = inferError("dense", {f32({})}, attrs);
  EXPECT_EQ(error.error, "expects an input of rank >= 1 [..., D], got f32[]");
  EXPECT_EQ(error.hint,
            "declare the input as f32[1] or add reshape([1]) before it");
  EXPECT_EQ(
      inferError("dense", {f32({4})}, {{"units", int64_t(1) << 40}}).error,
      "would create a kernel [4, 1099511627776] with more than 2^40 "
      "elements");
  EXPECT_EQ(
      inferError("dense", {f32({4})}, {{"units", int64_t(1) << 41}}).error,
      "expects units <= 1099511627776, got 2199023255552");
}

TEST(ShapeRulesTest, Batchnorm) {
  TensorInfo out = inferOne("batchnorm", {f32({14, 14, 32})});
  EXPECT_EQ(out.shape, (Shape{14, 14, 32}));
  std::vector<ParamSpec> params =
      paramSpecs("batchnorm", {f32({14, 14, 32})}, {{"momentum", 0.9}});
  ASSERT_EQ(params.size(), 4u);
  EXPECT_EQ(countParams(params), 4 * 32);
  EXPECT_EQ(countParams(params, /*onlyTrainable=*/true), 2 * 32);
  const ParamSpec *gamma = findParam(params, "gamma");
  const ParamSpec *beta = findParam(params, "beta");
  const ParamSpec *mean = findParam(params, "moving_mean");
  const ParamSpec *variance = findParam(params, "moving_variance");
  ASSERT_TRUE(gamma && beta && mean && variance);
  EXPECT_EQ(gamma->init, "ones");
  EXPECT_TRUE(gamma->trainable);
  EXPECT_EQ(beta->init, "zeros");
  EXPECT_TRUE(beta->trainable);
  EXPECT_EQ(mean->init, "zeros");
  EXPECT_FALSE(mean->trainable);
  EXPECT_EQ(variance->init, "ones");
  EXPECT_FALSE(variance->trainable);
  EXPECT_EQ(inferError("batchnorm", {f32({4})}, {{"momentum", 1.5}}).error,
            "expects momentum in [0, 1], got 1.5");
  EXPECT_EQ(
      inferError("batchnorm", {f32({4})}, {{"epsilon", int64_t(0)}}).error,
      "expects epsilon > 0, got 0");
}

TEST(ShapeRulesTest, Layernorm) {
  EXPECT_EQ(inferOne("layernorm", {f32({10, 64})}).shape, (Shape{10, 64}));
  std::vector<ParamSpec> params = paramSpecs("layernorm", {f32({10, 64})}, {});
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].role, "gamma");
  EXPECT_EQ(params[0].init, "ones");
  EXPECT_EQ(params[1].role, "beta");
  EXPECT_EQ(params[1].init, "zeros");
  EXPECT_EQ(countParams(params), 128);
}

TEST(ShapeRulesTest, Activations) {
  for (const char *op :
       {"relu", "sigmoid", "tanh", "abs", "leaky_relu", "elu"}) {
    EXPECT_EQ(inferOne(op, {f32({3, 5})}).shape, (Shape{3, 5})) << op;
    EXPECT_EQ(inferOne(op, {f64({})}).elementType, ElementType::F64) << op;
    EXPECT_TRUE(paramSpecs(op, {f32({3})}, {}).empty());
    EXPECT_EQ(inferError(op, {f32({3}), f32({3})}).error,
              "expects 1 input, got 2");
  }
  EXPECT_EQ(inferError("leaky_relu", {f32({3})}, {{"alpha", -0.1}}).error,
            "expects alpha >= 0, got -0.1");
  EXPECT_TRUE(inferShapes("elu", {f32({3})}, {{"alpha", -0.5}}).ok());
  EXPECT_EQ(inferError("relu", {loss()}).error,
            "expects a per-example tensor, got the scalar loss f32[]");
  EXPECT_EQ(inferError("relu", {f32({0, 3})}).error,
            "expects inputs with positive dimensions, got f32[0, 3]");
}

TEST(ShapeRulesTest, Softmax) {
  EXPECT_EQ(inferOne("softmax", {f32({10})}).shape, (Shape{10}));
  EXPECT_EQ(inferOne("softmax", {f32({4, 10})}, {{"axis", int64_t(0)}}).shape,
            (Shape{4, 10}));
  EXPECT_EQ(inferError("softmax", {f32({4, 10})}, {{"axis", int64_t(2)}}).error,
            "expects axis in [-2, 1] for f32[4, 10], got 2");
  EXPECT_EQ(inferError("softmax", {f32({})}).error,
            "expects an input of rank >= 1 [..., K], got f32[]");
}

TEST(ShapeRulesTest, Dropout) {
  EXPECT_EQ(inferOne("dropout", {f32({128})}, {{"rate", 0.5}}).shape,
            (Shape{128}));
  EXPECT_TRUE(inferShapes("dropout", {f32({128})}, {{"rate", 0.0}}).ok());
  EXPECT_EQ(inferError("dropout", {f32({128})}, {{"rate", 1.0}}).error,
            "expects rate in [0, 1), got 1");
  EXPECT_EQ(inferError("dropout", {f32({128})}, {{"rate", -0.5}}).error,
            "expects rate in [0, 1), got -0.5");
  EXPECT_EQ(inferError("dropout", {f32({128})}).error,
            "is missing the attribute 'rate' (a number)");
}

//===----------------------------------------------------------------------===//
// Merges and reshaping
//===----------------------------------------------------------------------===//

TEST(ShapeRulesTest, Merges) {
  for (const char *op : {"add", "subtract", "multiply"}) {
    EXPECT_EQ(inferOne(op, {f32({14, 14, 32}), f32({14, 14, 32})}).shape,
              (Shape{14, 14, 32}));
    EXPECT_EQ(inferError(op, {f32({14, 14, 32}), f32({7, 7, 64})}).error,
              "expects inputs of the same shape, got f32[14, 14, 32] and "
              "f32[7, 7, 64]");
    EXPECT_EQ(inferError(op, {f32({3}), f64({3})}).error,
              "expects inputs of the same element type, got f32[3] and "
              "f64[3]");
    EXPECT_EQ(inferError(op, {f32({3})}).error,
              "expects 2 inputs (a, b), got 1");
  }
}

TEST(ShapeRulesTest, Concat) {
  EXPECT_EQ(inferOne("concat", {f32({7, 7, 16}), f32({7, 7, 32})}).shape,
            (Shape{7, 7, 48}));
  EXPECT_EQ(inferOne("concat", {f32({2, 5}), f32({3, 5}), f32({1, 5})},
                     {{"axis", int64_t(0)}})
                .shape,
            (Shape{6, 5}));
  EXPECT_EQ(inferOne("concat", {f32({4})}).shape, (Shape{4}));
  EXPECT_EQ(inferError("concat", {f32({14, 14, 32}), f32({7, 7, 64})}).error,
            "expects inputs that differ only on axis 3, got f32[14, 14, 32] "
            "and f32[7, 7, 64]");
  EXPECT_EQ(inferError("concat", {f32({4, 4}), f32({4})}).error,
            "expects inputs of the same rank, got f32[4, 4] and f32[4]");
  EXPECT_EQ(inferError("concat", {}).error, "expects at least 1 input, got 0");
  EXPECT_EQ(inferError("concat", {f32({4})}, {{"axis", int64_t(-2)}}).error,
            "expects axis in [-1, 0] for f32[4], got -2");
}

TEST(ShapeRulesTest, Reshape) {
  EXPECT_EQ(inferOne("reshape", {f32({28, 28})}, {{"shape", Shape{784}}}).shape,
            (Shape{784}));
  EXPECT_EQ(
      inferOne("reshape", {f32({784})}, {{"shape", Shape{28, 28, 1}}}).shape,
      (Shape{28, 28, 1}));
  EXPECT_EQ(inferOne("reshape", {f32({1})}, {{"shape", Shape{}}}).shape,
            (Shape{}));
  ShapeResult error =
      inferError("reshape", {f32({28, 28})}, {{"shape", Shape{28, 27}}});
  EXPECT_EQ(error.error, "expects a shape of 784 elements like the input "
                         "f32[28, 28], got [28, 27] with 756");
  EXPECT_EQ(
      inferError("reshape", {f32({28, 28})}, {{"shape", Shape{-1, 28}}}).error,
      "expects shape >= 1, got [-1, 28]");
}

//===----------------------------------------------------------------------===//
// Embedding and recurrent layers
//===----------------------------------------------------------------------===//

TEST(ShapeRulesTest, Embedding) {
  Attrs attrs = {{"input_dim", int64_t(1000)}, {"output_dim", int64_t(64)}};
  TensorInfo out = inferOne("embedding", {i32({10})}, attrs);
  EXPECT_EQ(out.shape, (Shape{10, 64}));
  EXPECT_EQ(out.elementType, ElementType::F32);
  EXPECT_EQ(inferOne("embedding", {i32({})}, attrs).shape, (Shape{64}));
  std::vector<ParamSpec> params = paramSpecs("embedding", {i32({10})}, attrs);
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].role, "embeddings");
  EXPECT_EQ(params[0].shape, (Shape{1000, 64}));
  EXPECT_EQ(params[0].init, "uniform");
  EXPECT_EQ(params[0].fanIn, 1000);
  EXPECT_EQ(params[0].fanOut, 64);
  ShapeResult error = inferError("embedding", {f32({10})}, attrs);
  EXPECT_EQ(error.error, "expects i32 ids, got f32[10]");
  EXPECT_NE(error.hint.find("i32[10]"), std::string::npos);
  EXPECT_EQ(
      inferError("embedding", {i32({10})}, {{"input_dim", int64_t(5)}}).error,
      "is missing the attribute 'output_dim' (an integer)");
}

TEST(ShapeRulesTest, Lstm) {
  // fashion_lstm: lstm(128) on [28, 28]: 4*128*(28 + 128 + 1) = 80384.
  Attrs attrs = {{"units", int64_t(128)}};
  EXPECT_EQ(inferOne("lstm", {f32({28, 28})}, attrs).shape, (Shape{128}));
  std::vector<ParamSpec> params = paramSpecs("lstm", {f32({28, 28})}, attrs);
  ASSERT_EQ(params.size(), 3u);
  EXPECT_EQ(params[0].role, "kernel");
  EXPECT_EQ(params[0].shape, (Shape{28, 512}));
  EXPECT_EQ(params[0].init, "glorot_uniform");
  EXPECT_EQ(params[0].fanIn, 28);
  EXPECT_EQ(params[0].fanOut, 512);
  EXPECT_EQ(params[1].role, "recurrent_kernel");
  EXPECT_EQ(params[1].shape, (Shape{128, 512}));
  EXPECT_EQ(params[1].init, "orthogonal");
  EXPECT_EQ(params[2].role, "bias");
  EXPECT_EQ(params[2].shape, (Shape{512}));
  EXPECT_EQ(params[2].init, "lstm_bias");
  EXPECT_EQ(countParams(params), 80384);
  attrs["return_sequences"] = true;
  EXPECT_EQ(inferOne("lstm", {f32({28, 28})}, attrs).shape, (Shape{28, 128}));
  ShapeResult error = inferError("lstm", {f32({28, 28, 1})}, attrs);
  EXPECT_EQ(error.error,
            "expects an input of rank 2 [T, D], got f32[28, 28, 1]");
}

TEST(ShapeRulesTest, Gru) {
  // Keras GRU(64) (reset_after) on [28, 28]:
  // 3*(28*64 + 64*64 + 2*64) = 18048.
  Attrs attrs = {{"units", int64_t(64)}, {"return_sequences", true}};
  EXPECT_EQ(inferOne("gru", {f32({28, 28})}, attrs).shape, (Shape{28, 64}));
  std::vector<ParamSpec> params = paramSpecs("gru", {f32({28, 28})}, attrs);
  ASSERT_EQ(params.size(), 3u);
  EXPECT_EQ(params[0].shape, (Shape{28, 192}));
  EXPECT_EQ(params[1].shape, (Shape{64, 192}));
  EXPECT_EQ(params[1].init, "orthogonal");
  EXPECT_EQ(params[2].shape, (Shape{2, 192}));
  EXPECT_EQ(params[2].init, "zeros");
  EXPECT_EQ(countParams(params), 3 * (28 * 64 + 64 * 64 + 2 * 64));
  EXPECT_EQ(countParams(params), 18048);
  EXPECT_EQ(inferError("gru", {f32({28, 28})}, {{"units", int64_t(0)}}).error,
            "expects units >= 1, got 0");
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

TEST(ShapeRulesTest, Losses) {
  for (const char *op :
       {"mse", "mae", "binary_crossentropy", "categorical_crossentropy"}) {
    TensorInfo out = inferOne(op, {f32({10}), f32({10})});
    EXPECT_TRUE(out.shape.empty()) << op;
    EXPECT_FALSE(out.batched) << op;
    EXPECT_EQ(out.elementType, ElementType::F32);
    EXPECT_EQ(inferOne(op, {f64({28, 28, 1}), f64({28, 28, 1})}).elementType,
              ElementType::F64);
    EXPECT_EQ(inferError(op, {f32({10}), f32({1})}).error,
              "expects a target like the prediction f32[10], got f32[1]");
    EXPECT_EQ(inferError(op, {f32({10})}).error,
              "expects 2 inputs (prediction, target), got 1");
  }
  EXPECT_TRUE(inferShapes("mse", {f32({}), f32({})}, {}).ok());
  EXPECT_FALSE(
      inferShapes("categorical_crossentropy", {f32({}), f32({})}, {}).ok());
  ShapeResult error =
      inferError("categorical_crossentropy", {f32({10}), i32({})});
  EXPECT_NE(error.hint.find("sparse_categorical_crossentropy"),
            std::string::npos);
}

TEST(ShapeRulesTest, SparseCategoricalCrossentropy) {
  Attrs attrs = {{"from_logits", true}};
  TensorInfo out =
      inferOne("sparse_categorical_crossentropy", {f32({10}), i32({})}, attrs);
  EXPECT_TRUE(out.shape.empty());
  EXPECT_FALSE(out.batched);
  EXPECT_TRUE(inferShapes("sparse_categorical_crossentropy",
                          {f32({28, 10}), i32({28})}, attrs)
                  .ok());
  ShapeResult error = inferError("sparse_categorical_crossentropy",
                                 {f32({10}), f32({10})}, attrs);
  EXPECT_EQ(error.error, "expects a target i32[] of class ids for the "
                         "prediction f32[10], got f32[10]");
  EXPECT_EQ(error.hint, "for one-hot targets use categorical_crossentropy");
  EXPECT_EQ(inferError("sparse_categorical_crossentropy", {f32({10}), i32({})},
                       {{"from_logits", int64_t(1)}})
                .error,
            "expects 'from_logits' to be true or false");
}

TEST(ShapeRulesTest, WeightedSum) {
  Attrs attrs = {{"weights", std::vector<double>{1.0, 0.5}}};
  TensorInfo out = inferOne("weighted_sum", {loss(), loss()}, attrs);
  EXPECT_TRUE(out.shape.empty());
  EXPECT_FALSE(out.batched);
  EXPECT_EQ(inferError("weighted_sum", {loss()}, attrs).error,
            "expects one weight per loss: 1 losses, got 2 weights");
  EXPECT_EQ(inferError("weighted_sum", {f32({}), loss()}, attrs).error,
            "expects scalar losses, got a per-example f32[]");
  EXPECT_EQ(inferError("weighted_sum", {loss(), loss()}).error,
            "is missing the attribute 'weights' (a list of numbers)");
  EXPECT_EQ(inferError("weighted_sum", {}, attrs).error,
            "expects at least 1 input, got 0");
}

//===----------------------------------------------------------------------===//
// The examples' models, end to end through the rules
//===----------------------------------------------------------------------===//

TEST(ShapeRulesTest, FashionCnnChain) {
  TensorInfo x = f32({28, 28, 1});
  int64_t params = 0;
  auto apply = [&](const std::string &op, const Attrs &attrs) {
    params += countParams(paramSpecs(op, {x}, attrs));
    x = inferOne(op, {x}, attrs);
  };
  Attrs conv1 = conv2dAttrs(32, x.shape, 3, 1, "same");
  conv1["use_bias"] = false;
  apply("conv2d", conv1);
  apply("batchnorm", {});
  apply("relu", {});
  apply("maxpool2d", {{"pool_size", Shape{2, 2}}});
  Attrs conv2 = conv2dAttrs(64, x.shape, 3, 1, "same");
  conv2["use_bias"] = false;
  apply("conv2d", conv2);
  apply("batchnorm", {});
  apply("relu", {});
  apply("maxpool2d", {{"pool_size", Shape{2, 2}}});
  EXPECT_EQ(x.shape, (Shape{7, 7, 64}));
  apply("reshape", {{"shape", Shape{7 * 7 * 64}}});
  apply("dense", {{"units", int64_t(128)}});
  apply("dropout", {{"rate", 0.5}});
  apply("dense", {{"units", int64_t(10)}});
  EXPECT_EQ(x.shape, (Shape{10}));
  // Keras: 288 + 128 + 18432 + 256 + 401536 + 1290.
  EXPECT_EQ(params, 288 + 128 + 18432 + 256 + 401536 + 1290);
}

//===----------------------------------------------------------------------===//
// Random sweep: no input crashes a rule, every success is well formed
//===----------------------------------------------------------------------===//

class RandomOpCalls {
public:
  explicit RandomOpCalls(uint64_t seed) : rng(seed) {}

  int64_t pick(std::initializer_list<int64_t> values) {
    std::vector<int64_t> v(values);
    return v[below(v.size())];
  }
  size_t below(size_t n) {
    return std::uniform_int_distribution<size_t>(0, n - 1)(rng);
  }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng); }

  /// A dimension: mostly small, sometimes huge or invalid.
  int64_t dim(bool wild) {
    if (wild && chance(0.2))
      return pick({0, -1, -(int64_t(1) << 62), int64_t(1) << 40,
                   (int64_t(1) << 40) + 1, INT64_MAX, INT64_MIN});
    return 1 + static_cast<int64_t>(below(wild && chance(0.1) ? 1 << 21 : 9));
  }

  Shape shape(size_t rank, bool wild) {
    Shape s;
    for (size_t i = 0; i < rank; ++i)
      s.push_back(dim(wild));
    return s;
  }

  TensorInfo input(bool wild) {
    TensorInfo t;
    t.elementType = chance(0.8)   ? ElementType::F32
                    : chance(0.5) ? ElementType::I32
                                  : ElementType::F64;
    if (chance(0.1)) {
      t.batched = false;
      return t;
    }
    t.shape = shape(below(5), wild);
    return t;
  }

  std::vector<TensorInfo> inputs(bool wild) {
    std::vector<TensorInfo> in;
    size_t count = chance(0.6) ? 1 : below(4);
    if (chance(0.15)) { // losses for weighted_sum
      for (size_t i = 0; i < count; ++i)
        in.push_back(loss());
      return in;
    }
    for (size_t i = 0; i < count; ++i) {
      if (i > 0 && chance(0.5)) { // a partner of the first input
        TensorInfo t = in[0];
        if (chance(0.5) && !t.shape.empty()) {
          t.shape.pop_back();
          t.elementType = ElementType::I32;
        }
        in.push_back(t);
        continue;
      }
      in.push_back(input(wild));
    }
    return in;
  }

  AttrValue intValue(bool wild) {
    if (wild && chance(0.3))
      return pick({0, -1, -5, int64_t(1) << 40, (int64_t(1) << 40) + 1,
                   INT64_MAX, INT64_MIN});
    return static_cast<int64_t>(1 + below(4));
  }

  AttrValue listValue(size_t length, int64_t min, bool wild) {
    Shape values;
    for (size_t i = 0; i < length; ++i) {
      if (wild && chance(0.2))
        values.push_back(pick(
            {-1, 0, int64_t(1) << 40, int64_t(1) << 41, INT64_MAX, INT64_MIN}));
      else
        values.push_back(min + static_cast<int64_t>(below(3)));
    }
    return values;
  }

  AttrValue anyValue() {
    switch (below(6)) {
    case 0:
      return intValue(true);
    case 1:
      return std::uniform_real_distribution<double>(-2, 2)(rng);
    case 2:
      return chance(0.5);
    case 3:
      return std::string("same");
    case 4:
      return listValue(below(5), -1, true);
    default:
      return std::vector<double>{0.5, 1.0};
    }
  }

  Attrs attrs(const std::vector<TensorInfo> &in, bool wild) {
    Attrs a;
    auto maybe = [&](const char *key, AttrValue value) {
      if (chance(0.6))
        a[key] = wild && chance(0.05) ? anyValue() : std::move(value);
    };
    size_t spatial = chance(0.5) ? 2 : 1;
    for (const char *key :
         {"filters", "units", "input_dim", "output_dim", "depth_multiplier"})
      maybe(key, intValue(wild));
    maybe("groups", chance(0.7) ? AttrValue(int64_t(1)) : intValue(wild));
    for (const char *key :
         {"kernel_size", "strides", "dilation", "pool_size", "size"})
      maybe(key, listValue(spatial, 1, wild));
    maybe("pad", listValue(2 * spatial, 0, wild));
    maybe("output_padding", listValue(spatial, 0, wild));
    maybe("rate", std::uniform_real_distribution<double>(-0.2, 1.2)(rng));
    maybe("alpha", std::uniform_real_distribution<double>(-1, 1)(rng));
    maybe("momentum", 0.99);
    maybe("epsilon", chance(0.9) ? 1e-3 : -1.0);
    maybe("axis", static_cast<int64_t>(below(7)) - 3);
    for (const char *key : {"use_bias", "return_sequences", "from_logits"})
      maybe(key, chance(0.5));
    if (!in.empty()) {
      Shape reversed = in[0].shape;
      std::reverse(reversed.begin(), reversed.end());
      maybe("shape",
            chance(0.5) ? AttrValue(reversed) : listValue(below(4), 1, wild));
    }
    std::vector<double> weights(chance(0.5) ? in.size() : below(4), 0.5);
    maybe("weights", weights);
    return a;
  }

private:
  std::mt19937_64 rng;
};

TEST(ShapeRulesTest, RandomCallsNeverCrashAndSucceedWellFormed) {
  RandomOpCalls random(20240611);
  std::map<std::string, int> successes;
  const std::set<std::string> lossOps = {"mse",
                                         "mae",
                                         "binary_crossentropy",
                                         "categorical_crossentropy",
                                         "sparse_categorical_crossentropy",
                                         "weighted_sum"};
  for (const std::string &op : knownOps()) {
    for (int iteration = 0; iteration < 8000; ++iteration) {
      bool wild = iteration % 4 == 0;
      std::vector<TensorInfo> inputs = random.inputs(wild);
      Attrs attrs = random.attrs(inputs, wild);
      ShapeResult result = inferShapes(op, inputs, attrs);
      std::vector<ParamSpec> params = paramSpecs(op, inputs, attrs);
      if (!result.ok()) {
        EXPECT_TRUE(result.results.empty()) << op;
        EXPECT_TRUE(params.empty()) << op;
        continue;
      }
      ++successes[op];
      ASSERT_FALSE(result.results.empty()) << op;
      for (const TensorInfo &t : result.results) {
        for (int64_t d : t.shape)
          ASSERT_GE(d, 1) << op << " gave " << formatTensor(t);
        ASSERT_GE(checkedElementCount(t.shape), 1) << op;
        // Losses are unbatched scalars; everything else is per-example.
        bool isLoss = lossOps.count(op) != 0;
        ASSERT_EQ(t.batched, !isLoss) << op;
        if (isLoss) {
          ASSERT_TRUE(t.shape.empty()) << op;
        }
      }
      for (const ParamSpec &p : params) {
        ASSERT_FALSE(p.shape.empty()) << op << " " << p.role;
        for (int64_t d : p.shape)
          ASSERT_GE(d, 1) << op << " " << p.role;
        ASSERT_GE(checkedElementCount(p.shape), 1) << op << " " << p.role;
        ASSERT_GE(p.fanIn, 1) << op << " " << p.role;
        ASSERT_GE(p.fanOut, 1) << op << " " << p.role;
        ASSERT_FALSE(p.init.empty()) << op << " " << p.role;
      }
    }
  }
  // The sweep reaches the success path of every op.
  for (const std::string &op : knownOps())
    EXPECT_GT(successes[op], 0) << op;
}

} // namespace
