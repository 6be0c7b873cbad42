//===- PoolIndicesKernelTest.cpp - max pooling with saved indices ---------===//
//
// dlk::maxpool2d_indices and dlk::maxpool2d_grad_indices (kernels/
// Pooling.h) on random shapes, pools, strides and paddings, with n below
// maxBatch and inputs with ties: the forward's output equals dl.maxpool2d's
// kernel bit for bit, the gradient from the indices equals
// dl.maxpool2d_grad's kernel bit for bit (same tie rule, same summation
// order) and the float64 reference within rounding; and the emitter of
// codegen/cpu/PoolIndicesKernels.cpp writes the call and descriptor.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/CpuKernel.h"
#include "codegen/cpu/kernels/Convolution.h"
#include "ir/ShapeRules.h"
#include "test/reference/ReferenceOps.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace dlc;
using namespace dlc::codegen;
using dlc::ref::RefTensor;

namespace {

int64_t pick(std::mt19937 &rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

struct Case {
  Shape x, y; // per example
  Attrs attrs;
  dlk::Pool2dDims dims{};
  int64_t n = 1;
  bool coarse = false; // values in {-1, 0, 1}: windows with ties
};

Case randomCase(std::mt19937 &rng) {
  for (;;) {
    Case c;
    c.x = {pick(rng, 1, 9), pick(rng, 1, 9), pick(rng, 1, 5)};
    Shape pool = {pick(rng, 1, 4), pick(rng, 1, 4)};
    Shape strides = {pick(rng, 1, 3), pick(rng, 1, 3)};
    Shape pad = {pick(rng, 0, 2), pick(rng, 0, 2), pick(rng, 0, 2),
                 pick(rng, 0, 2)};
    c.attrs["pool_size"] = pool;
    c.attrs["strides"] = strides;
    c.attrs["pad"] = pad;
    c.n = pick(rng, 1, 4);
    c.coarse = pick(rng, 0, 1) == 1;
    TensorInfo info;
    info.shape = c.x;
    ShapeResult result = inferShapes("maxpool2d", {info}, c.attrs);
    if (!result.ok())
      continue;
    c.y = result.results.front().shape;
    c.dims = dlk::Pool2dDims{c.x[0],     c.x[1],  c.x[2],  c.y[0],
                             c.y[1],     pool[0], pool[1], strides[0],
                             strides[1], pad[0],  pad[2]};
    return c;
  }
}

template <typename T>
std::vector<T> randomValues(std::mt19937 &rng, int64_t count, bool coarse) {
  std::vector<T> values(static_cast<size_t>(count));
  std::uniform_real_distribution<double> real(-2, 2);
  for (T &v : values)
    v = coarse ? static_cast<T>(pick(rng, -1, 1)) : static_cast<T>(real(rng));
  return values;
}

int64_t count(const Shape &shape, int64_t n) {
  int64_t total = n;
  for (int64_t d : shape)
    total *= d;
  return total;
}

template <typename T> void checkCase(const Case &c, std::mt19937 &rng) {
  const int64_t xCount = count(c.x, c.n), yCount = count(c.y, c.n);
  std::vector<T> x = randomValues<T>(rng, xCount, c.coarse);
  std::vector<T> dy = randomValues<T>(rng, yCount, false);

  // Forward: the same output as maxpool2d, and indices.
  std::vector<T> y(static_cast<size_t>(yCount)), yRef(y.size());
  std::vector<int32_t> indices(y.size(), -7);
  dlk::maxpool2d_indices<T>(c.n, c.dims, x.data(), y.data(), indices.data());
  dlk::maxpool2d<T>(c.n, c.dims, x.data(), yRef.data());
  ASSERT_EQ(0, std::memcmp(y.data(), yRef.data(), y.size() * sizeof(T)));
  for (int32_t index : indices)
    ASSERT_TRUE(index >= 0 && index < c.dims.ph * c.dims.pw) << index;

  // Only the indices (y null), or only y.
  std::vector<int32_t> indicesOnly(y.size(), -7);
  dlk::maxpool2d_indices<T>(c.n, c.dims, x.data(), static_cast<T *>(nullptr),
                            indicesOnly.data());
  EXPECT_EQ(indices, indicesOnly);
  std::vector<T> yOnly(y.size());
  dlk::maxpool2d_indices<T>(c.n, c.dims, x.data(), yOnly.data(), nullptr);
  EXPECT_EQ(0, std::memcmp(yOnly.data(), yRef.data(), y.size() * sizeof(T)));

  // Backward: bit for bit maxpool2d_grad's result, never reading x.
  std::vector<T> dx(static_cast<size_t>(xCount), T(5)), dxRef(dx.size());
  dlk::maxpool2d_grad_indices<T>(c.n, c.dims, indices.data(), dy.data(),
                                 dx.data());
  dlk::maxpool2d_grad<T>(c.n, c.dims, x.data(), static_cast<const T *>(nullptr),
                         dy.data(), dxRef.data());
  ASSERT_EQ(0, std::memcmp(dx.data(), dxRef.data(), dx.size() * sizeof(T)));
  dlk::maxpool2d_grad_indices<T>(c.n, c.dims, indices.data(), dy.data(),
                                 static_cast<T *>(nullptr)); // skipped

  // Against the float64 reference.
  const dlc::ref::RefOp &op = dlc::ref::referenceOps().at("maxpool2d");
  Shape xShape{c.n};
  xShape.insert(xShape.end(), c.x.begin(), c.x.end());
  Shape yShape{c.n};
  yShape.insert(yShape.end(), c.y.begin(), c.y.end());
  RefTensor rx(xShape), rdy(yShape);
  rx.data.assign(x.begin(), x.end());
  rdy.data.assign(dy.begin(), dy.end());
  std::vector<RefTensor> outputs, inputGrads, paramGrads;
  std::string error;
  ASSERT_TRUE(op.forward({rx}, {}, c.attrs, outputs, error)) << error;
  ASSERT_TRUE(op.backward({rx}, {}, c.attrs, outputs, {rdy}, inputGrads,
                          paramGrads, error))
      << error;
  const double tolerance = sizeof(T) == 4 ? 1e-5 : 1e-12;
  for (size_t i = 0; i < y.size(); ++i)
    ASSERT_NEAR(y[i], outputs[0].data[i], tolerance) << i;
  for (size_t i = 0; i < dx.size(); ++i)
    ASSERT_NEAR(dx[i], inputGrads[0].data[i],
                tolerance * (1 + std::fabs(inputGrads[0].data[i])))
        << i;
}

TEST(PoolIndicesKernel, MatchesMaxPoolAndItsGradient) {
  std::mt19937 rng(4242);
  for (int trial = 0; trial < 300; ++trial) {
    Case c = randomCase(rng);
    SCOPED_TRACE("trial " + std::to_string(trial) + ": x " + formatShape(c.x) +
                 " -> " + formatShape(c.y) + (c.coarse ? " (ties)" : ""));
    checkCase<float>(c, rng);
    checkCase<double>(c, rng);
    if (HasFailure())
      return;
  }
}

/// A program with maxpool2d_indices and maxpool2d_grad_indices calls.
KernelProgram poolProgram(Shape x, Shape y, const Attrs &attrs) {
  KernelProgram program;
  program.modelName = "m";
  program.maxBatch = 8;
  auto value = [&](Shape shape, ElementType type) {
    KernelValue v;
    v.type.shape = std::move(shape);
    v.type.batched = true;
    v.type.elementType = type;
    program.values.push_back(v);
    return static_cast<int>(program.values.size() - 1);
  };
  int vx = value(x, ElementType::F32), vy = value(y, ElementType::F32);
  int vi = value(y, ElementType::I32), vdy = value(y, ElementType::F32);
  int vdx = value(x, ElementType::F32);
  KernelFunction function;
  function.calls.push_back({"maxpool2d_indices", attrs, {vx}, {vy, vi}, ""});
  function.calls.push_back(
      {"maxpool2d_grad_indices", attrs, {vi, vdy}, {vdx}, ""});
  program.functions.push_back(function);
  return program;
}

CpuKernelCode emit(const KernelProgram &program, size_t call) {
  CpuKernelRegistry registry;
  registerPoolIndicesKernels(registry);
  const KernelCall &c = program.functions[0].calls[call];
  CpuKernelArgs args{program, c, {}, {}, "nullptr", "k" + std::to_string(call)};
  for (size_t i = 0; i < c.operands.size(); ++i)
    args.operands.push_back("op" + std::to_string(i));
  for (size_t i = 0; i < c.results.size(); ++i)
    args.results.push_back("res" + std::to_string(i));
  return registry.at(c.op).emit(args);
}

TEST(PoolIndicesKernel, EmitterWritesTheCallAndDescriptor) {
  Attrs attrs;
  attrs["pool_size"] = Shape{2, 2};
  attrs["strides"] = Shape{2, 2};
  attrs["pad"] = Shape{0, 1, 0, 1};
  KernelProgram program = poolProgram({5, 5, 3}, {3, 3, 3}, attrs);
  CpuKernelCode forward = emit(program, 0);
  EXPECT_EQ(forward.declarations,
            "static constexpr dlk::Pool2dDims k0_dims{/*h=*/5, /*w=*/5, "
            "/*c=*/3, /*oh=*/3, /*ow=*/3, /*ph=*/2, /*pw=*/2, /*sh=*/2, "
            "/*sw=*/2, /*padTop=*/0, /*padLeft=*/0};\n");
  EXPECT_EQ(forward.statement,
            "dlk::maxpool2d_indices<T>(n, k0_dims, op0, res0, res1);");
  CpuKernelCode backward = emit(program, 1);
  EXPECT_EQ(backward.statement,
            "dlk::maxpool2d_grad_indices<T>(n, k1_dims, op0, op1, res0);");

  // Malformed calls stop the host compiler instead of miscomputing.
  KernelProgram wrong = poolProgram({5, 5, 3}, {3, 3, 4}, attrs);
  EXPECT_NE(emit(wrong, 0).statement.find("static_assert"), std::string::npos);
  KernelProgram noIndices = program;
  noIndices.values[2].type.elementType = ElementType::F32;
  EXPECT_NE(emit(noIndices, 1).statement.find("static_assert"),
            std::string::npos);
  Attrs badPool = attrs;
  badPool["pool_size"] = Shape{0, 2};
  KernelProgram zeroPool = poolProgram({5, 5, 3}, {3, 3, 3}, badPool);
  EXPECT_NE(emit(zeroPool, 0).statement.find("static_assert"),
            std::string::npos);
  KernelProgram arity = program;
  arity.functions[0].calls[1].operands.pop_back();
  EXPECT_NE(emit(arity, 1).statement.find("static_assert"), std::string::npos);
}

} // namespace
