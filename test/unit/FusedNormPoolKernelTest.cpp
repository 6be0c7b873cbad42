//===- FusedNormPoolKernelTest.cpp - batchnorm + relu + max-pool kernels --===//
//
// dlk::batchnorm_relu_maxpool_train and its gradient
// (kernels/FusedNormPool.h) on random shapes (odd sizes, valid and same
// padding, pools 2 and 3 with strides equal to the pool or larger, so that
// some positions are in no window, channel counts 1 to 32), with a batch n
// below the buffers' maxBatch (rows past n must stay untouched):
//   - against a float64 oracle made of the unfused dlk kernels in double
//     (batchnorm_relu_train + maxpool2d; maxpool2d_grad +
//     batchnorm_relu_train_grad): T = double to 1e-9, T = float to 1e-4
//     (normwise relative);
//   - against the unfused T kernels the pipeline ran before
//     (batchnorm_relu_train + maxpool2d_indices; maxpool2d_grad_indices +
//     batchnorm_relu_train_grad), inputs on a coarse grid included, whose
//     windows have ties: the forward bit for bit, the backward to rounding
//     (the same arg-max choices and terms, summed in another order);
//   - dx bit for bit against a plain search of each window's arg-max (the
//     kernel finds them once and keeps winner codes in its workspace), a
//     dead relu channel and windows too large for byte codes included, the
//     workspace's end untouched;
//   - dx over x (in place), null results;
// and the emitters of codegen/cpu/FusedNormPoolKernels.cpp.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpu/CpuKernel.h"
#include "codegen/cpu/kernels/FusedNormPool.h"
#include "codegen/cpu/kernels/FusedNormalization.h"
#include "ir/ShapeRules.h"
#include "test/unit/AlignedWorkspace.h"
#include "test/unit/KernelEmitterHarness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace dlc;

namespace {

/// Written into result buffers first: rows past n must keep it.
constexpr double kSentinel = 12345.0;

constexpr unsigned kSeeds[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

template <typename T> constexpr double tolerance() {
  return sizeof(T) == sizeof(double) ? 1e-9 : 1e-4;
}

int64_t pick(std::mt19937 &rng, int64_t low, int64_t high) {
  return std::uniform_int_distribution<int64_t>(low, high)(rng);
}

using dlc::testing::AlignedWorkspace;

/// One random problem: shapes per example, the pool, the batch, the data
/// (in double, each value exactly representable in float).
struct Case {
  Shape x, y; // per example [h, w, c] and the pooled [oh, ow, c]
  dlk::NormPool2dDims dims{};
  int64_t n = 1, maxBatch = 1;
  double epsilon = 1e-3;
  std::vector<double> z, gamma, beta, dp;
  std::string what;

  int64_t xSize() const { return x[0] * x[1] * x[2]; }
  int64_t ySize() const { return y[0] * y[1] * y[2]; }
  int64_t channels() const { return x[2]; }
};

/// `same`: the pad that keeps ceil(size / stride) outputs, split with the
/// extra cell at the end (as the IR builder does); otherwise none.
Shape padFor(const Shape &size, const Shape &pool, const Shape &strides,
             bool same) {
  Shape pad(4, 0);
  if (!same)
    return pad;
  for (int i = 0; i < 2; ++i) {
    int64_t out = (size[i] + strides[i] - 1) / strides[i];
    int64_t total =
        std::max<int64_t>((out - 1) * strides[i] + pool[i] - size[i], 0);
    pad[2 * i] = total / 2;
    pad[2 * i + 1] = total - total / 2;
  }
  return pad;
}

/// A random case, pools of minPool to maxPool cells a side, x of up to
/// maxSize rows and columns.
Case randomCase(unsigned seed, bool coarse, int64_t minPool = 2,
                int64_t maxPool = 3, int64_t maxSize = 13) {
  std::mt19937 rng(seed);
  static const int64_t kChannels[] = {1, 3, 8, 17, 32};
  for (;;) {
    Case c;
    int64_t p = pick(rng, minPool, maxPool);
    Shape pool{p, p};
    // Mostly stride = pool; sometimes larger (positions in no window).
    Shape strides{p + (pick(rng, 0, 3) == 0), p + (pick(rng, 0, 3) == 0)};
    c.x = {pick(rng, 2, maxSize) | 1, pick(rng, 2, maxSize) | 1,
           kChannels[pick(rng, 0, 4)]};
    if (seed % 4 == 0)
      c.x[0] = pick(rng, 1, 2) * 2; // even sizes too
    bool same = pick(rng, 0, 1) == 1;
    Shape pad = padFor({c.x[0], c.x[1]}, pool, strides, same);
    Attrs attrs{{"pool_size", pool}, {"strides", strides}, {"pad", pad}};
    TensorInfo info;
    info.shape = c.x;
    ShapeResult result = inferShapes("maxpool2d", {info}, attrs);
    if (!result.ok())
      continue;
    c.y = result.results.front().shape;
    c.maxBatch = pick(rng, 2, 5);
    c.n = pick(rng, 1, c.maxBatch - 1);
    c.epsilon = std::uniform_real_distribution<double>(1e-4, 1e-2)(rng);
    c.dims = dlk::NormPool2dDims{
        dlk::Pool2dDims{c.x[0], c.x[1], c.x[2], c.y[0], c.y[1], pool[0],
                        pool[1], strides[0], strides[1], pad[0], pad[2]},
        c.epsilon};
    auto values = [&](int64_t count, double low, double high) {
      std::vector<double> v(static_cast<size_t>(count));
      std::uniform_real_distribution<double> real(low, high);
      for (double &e : v)
        e = coarse ? static_cast<double>(pick(rng, -2, 2))
                   : static_cast<double>(static_cast<float>(real(rng)));
      return v;
    };
    // An offset makes |mean| large against the spread in some cases.
    double offset = seed % 3 == 0 ? 20.0 : 0.0;
    c.z = values(c.n * c.xSize(), offset - 3, offset + 3);
    if (coarse)
      for (double &v : c.z)
        v += offset;
    c.gamma = values(c.channels(), 0.5, 2);
    c.beta = values(c.channels(), -1, 1);
    if (coarse) // beta = 0: many relu inputs exactly 0
      std::fill(c.beta.begin(), c.beta.end(), 0.0);
    if (coarse)
      for (double &g : c.gamma)
        g = std::fabs(g) + 1;
    std::uniform_real_distribution<double> unit(-1, 1);
    c.dp.resize(static_cast<size_t>(c.n * c.ySize()));
    for (double &v : c.dp)
      v = static_cast<double>(static_cast<float>(unit(rng)));
    c.what = "seed " + std::to_string(seed) + " x " + std::to_string(c.x[0]) +
             "x" + std::to_string(c.x[1]) + "x" + std::to_string(c.x[2]) +
             " pool " + std::to_string(p) + " strides " +
             std::to_string(strides[0]) + "x" + std::to_string(strides[1]) +
             (same ? " same" : " valid") + " n " + std::to_string(c.n);
    return c;
  }
}

/// `values` in T in a buffer of `capacity` elements, the rest the
/// sentinel.
template <typename T>
std::vector<T> buffer(const std::vector<double> &values, int64_t capacity) {
  std::vector<T> b(static_cast<size_t>(capacity), static_cast<T>(kSentinel));
  std::copy(values.begin(), values.end(), b.begin());
  return b;
}

/// What the forward and backward return.
template <typename T> struct Results {
  std::vector<T> y, mean, var, dx, dgamma, dbeta;
};

/// The fused kernels on `c`, buffers of maxBatch rows.
/// `c`'s inputs in T, in buffers of maxBatch rows.
template <typename T> struct Inputs {
  std::vector<T> z, gamma, beta, dp;
  explicit Inputs(const Case &c)
      : z(buffer<T>(c.z, c.maxBatch * c.xSize())),
        gamma(buffer<T>(c.gamma, c.channels())),
        beta(buffer<T>(c.beta, c.channels())),
        dp(buffer<T>(c.dp, c.maxBatch * c.ySize())) {}
};

template <typename T> Results<T> runFused(const Case &c) {
  const int64_t channels = c.channels();
  Results<T> r;
  Inputs<T> in(c);
  r.y = buffer<T>({}, c.maxBatch * c.ySize());
  r.mean = buffer<T>({}, channels);
  r.var = buffer<T>({}, channels);
  AlignedWorkspace forward(dlk::normPoolWorkspaceBytes(channels));
  dlk::batchnorm_relu_maxpool_train<T>(
      c.n, c.dims, in.z.data(), in.gamma.data(), in.beta.data(), r.y.data(),
      r.mean.data(), r.var.data(), forward.data());
  r.dx = buffer<T>({}, c.maxBatch * c.xSize());
  r.dgamma = buffer<T>({}, channels);
  r.dbeta = buffer<T>({}, channels);
  AlignedWorkspace backward(
      dlk::normPoolGradWorkspaceBytes(c.dims.pool, sizeof(T), c.maxBatch));
  dlk::batchnorm_relu_maxpool_train_grad<T>(
      c.n, c.dims, in.z.data(), in.gamma.data(), in.beta.data(), r.mean.data(),
      r.var.data(), in.dp.data(), r.dx.data(), r.dgamma.data(), r.dbeta.data(),
      backward.data());
  return r;
}

/// The unfused kernels on `c`: batchnorm_relu_train, then max pooling with
/// indices (or without: maxpool2d and maxpool2d_grad) and its gradient,
/// then batchnorm_relu_train_grad.
template <typename T> Results<T> runUnfused(const Case &c, bool withIndices) {
  const int64_t channels = c.channels();
  Results<T> r;
  Inputs<T> in(c);
  dlk::NormalizationDims norm{c.x[0] * c.x[1], channels, c.epsilon};
  AlignedWorkspace ws(dlk::normalizationWorkspaceBytes(channels));
  std::vector<T> a(static_cast<size_t>(c.maxBatch * c.xSize()));
  r.mean = buffer<T>({}, channels);
  r.var = buffer<T>({}, channels);
  dlk::batchnorm_relu_train<T>(c.n, norm, in.z.data(), in.gamma.data(),
                               in.beta.data(), a.data(), r.mean.data(),
                               r.var.data(), ws.data());
  r.y = buffer<T>({}, c.maxBatch * c.ySize());
  std::vector<T> da(a.size());
  if (withIndices) {
    std::vector<int32_t> indices(r.y.size());
    dlk::maxpool2d_indices<T>(c.n, c.dims.pool, a.data(), r.y.data(),
                              indices.data());
    dlk::maxpool2d_grad_indices<T>(c.n, c.dims.pool, indices.data(),
                                   in.dp.data(), da.data());
  } else {
    dlk::maxpool2d<T>(c.n, c.dims.pool, a.data(), r.y.data());
    dlk::maxpool2d_grad<T>(c.n, c.dims.pool, a.data(), r.y.data(), in.dp.data(),
                           da.data());
  }
  r.dx = buffer<T>({}, c.maxBatch * c.xSize());
  r.dgamma = buffer<T>({}, channels);
  r.dbeta = buffer<T>({}, channels);
  dlk::batchnorm_relu_train_grad<T>(c.n, norm, in.z.data(), in.gamma.data(),
                                    in.beta.data(), r.mean.data(), r.var.data(),
                                    da.data(), r.dx.data(), r.dgamma.data(),
                                    r.dbeta.data(), ws.data());
  return r;
}

/// Compares `got` with the float64 `want` normwise over the first `count`
/// elements, and checks that the rest kept the sentinel.
template <typename T>
void checkClose(const std::vector<T> &got, const std::vector<double> &want,
                int64_t count, const std::string &what,
                double relative = tolerance<T>()) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 1e-6;
  for (int64_t i = 0; i < count; ++i)
    scale = std::max(scale, std::fabs(want[size_t(i)]));
  double worst = 0;
  int64_t worstAt = 0;
  for (int64_t i = 0; i < count; ++i) {
    double err =
        std::fabs(static_cast<double>(got[size_t(i)]) - want[size_t(i)]);
    if (!(err <= worst)) {
      worst = err;
      worstAt = i;
    }
  }
  EXPECT_LE(worst, relative * scale)
      << what << ": element " << worstAt << " is " << got[size_t(worstAt)]
      << ", want " << want[size_t(worstAt)];
  for (size_t i = size_t(count); i < got.size(); ++i)
    if (got[i] != static_cast<T>(kSentinel)) {
      ADD_FAILURE() << what << ": wrote past the batch at " << i;
      break;
    }
}

template <typename T> class FusedNormPoolKernel : public ::testing::Test {};
using ElementTypes = ::testing::Types<double, float>;
TYPED_TEST_SUITE(FusedNormPoolKernel, ElementTypes);

TYPED_TEST(FusedNormPoolKernel, MatchesTheUnfusedKernelsInDouble) {
  using T = TypeParam;
  for (unsigned seed : kSeeds) {
    Case c = randomCase(seed, /*coarse=*/false);
    Results<T> got = runFused<T>(c);
    Results<double> want = runUnfused<double>(c, /*withIndices=*/false);
    const int64_t xCount = c.n * c.xSize(), yCount = c.n * c.ySize();
    const int64_t channels = c.channels();
    checkClose(got.y, want.y, yCount, c.what + " y");
    checkClose(got.mean, want.mean, channels, c.what + " mean");
    checkClose(got.var, want.var, channels, c.what + " var");
    checkClose(got.dx, want.dx, xCount, c.what + " dx");
    checkClose(got.dgamma, want.dgamma, channels, c.what + " dgamma");
    checkClose(got.dbeta, want.dbeta, channels, c.what + " dbeta");
  }
}

/// The fused forward computes what the unfused T kernels compute, bit for
/// bit: the same statistics and maxima. The backward makes the same
/// arg-max choices (ties included) and the same terms; it adds them in
/// another order (window by window), so it agrees to rounding: 1e-12 in
/// double, 1e-6 in float (normwise relative). A wrong choice would be off
/// by about |dy|.
TYPED_TEST(FusedNormPoolKernel, SameResultsAsTheUnfusedKernels) {
  using T = TypeParam;
  const double close = sizeof(T) == sizeof(double) ? 1e-12 : 1e-6;
  auto toDouble = [](const std::vector<T> &v) {
    return std::vector<double>(v.begin(), v.end());
  };
  for (unsigned seed : kSeeds)
    for (bool coarse : {false, true}) {
      Case c = randomCase(seed, coarse);
      std::string what = c.what + (coarse ? " coarse" : "");
      Results<T> got = runFused<T>(c);
      const int64_t xCount = c.n * c.xSize(), channels = c.channels();
      for (bool withIndices : {true, false}) {
        Results<T> want = runUnfused<T>(c, withIndices);
        EXPECT_EQ(got.y, want.y) << what << " y";
        EXPECT_EQ(got.mean, want.mean) << what << " mean";
        EXPECT_EQ(got.var, want.var) << what << " var";
        checkClose(got.dx, toDouble(want.dx), xCount, what + " dx", close);
        checkClose(got.dgamma, toDouble(want.dgamma), channels,
                   what + " dgamma", close);
        checkClose(got.dbeta, toDouble(want.dbeta), channels, what + " dbeta",
                   close);
      }
    }
}

/// dx of `c` as the backward defines it, plainly: from the forward's mean
/// and var and the backward's own dgamma, dbeta (the sums it rescales),
/// each window's arg-max searched in row-major order (the first strictly
/// larger relu output wins), g = (0 + dy) * (max > 0) there and 0
/// elsewhere, then batchnorm_train_grad's expression.
template <typename T>
std::vector<T> plainInputGradient(const Case &c, const std::vector<T> &mean,
                                  const std::vector<T> &var,
                                  const std::vector<T> &dgamma,
                                  const std::vector<T> &dbeta) {
  const dlk::Pool2dDims &p = c.dims.pool;
  const int64_t channels = c.channels(), plane = p.h * p.w;
  const dlk::conv_detail::PoolWindows win(p);
  const T count = static_cast<T>(c.n * plane);
  std::vector<T> g(static_cast<size_t>(c.n * c.xSize()), T(0));
  std::vector<T> invStd(static_cast<size_t>(channels));
  for (int64_t ch = 0; ch < channels; ++ch)
    invStd[size_t(ch)] = dlk::ew::inverseStd(var[size_t(ch)], c.epsilon);
  auto at = [&](int64_t e, int64_t ih, int64_t iw, int64_t ch) {
    return size_t(((e * p.h + ih) * p.w + iw) * channels + ch);
  };
  for (int64_t e = 0; e < c.n; ++e)
    for (int64_t r = 0; r < p.oh; ++r)
      for (int64_t q = 0; q < p.ow; ++q)
        for (int64_t ch = 0; ch < channels; ++ch) {
          T best = T(0);
          size_t winner = 0;
          bool first = true;
          for (int64_t ih = win.rowBegin[size_t(r)]; ih < win.rowEnd[size_t(r)];
               ++ih)
            for (int64_t iw = win.colBegin[size_t(q)];
                 iw < win.colEnd[size_t(q)]; ++iw) {
              const T v = dlk::normpool_detail::reluNormalized(
                  static_cast<T>(c.z[at(e, ih, iw, ch)]), mean[size_t(ch)],
                  invStd[size_t(ch)], static_cast<T>(c.gamma[size_t(ch)]),
                  static_cast<T>(c.beta[size_t(ch)]));
              if (first || v > best) {
                best = v;
                winner = at(e, ih, iw, ch);
                first = false;
              }
            }
          if (first)
            continue; // an empty window
          const T dy = static_cast<T>(
              c.dp[size_t(((e * p.oh + r) * p.ow + q) * channels + ch)]);
          g[winner] = (T(0) + dy) * (best > T(0) ? T(1) : T(0));
        }
  std::vector<T> dx(g.size());
  for (size_t i = 0; i < dx.size(); ++i) {
    const size_t ch = i % size_t(channels);
    const T scale = static_cast<T>(c.gamma[ch]) * invStd[ch] / count;
    const T xhat = (static_cast<T>(c.z[i]) - mean[ch]) * invStd[ch];
    dx[i] = scale * (count * g[i] - dbeta[ch] - xhat * dgamma[ch]);
  }
  return dx;
}

/// dx is, bit for bit (signed zeros included), what a plain search of every
/// window gives: the winner codes the first pass records keep its arg-max
/// and relu mask. Channel 0 is dead (beta = -100: every window's maximum 0,
/// g = (0 + dy) * 0, -0 where dy < 0), and pools of 12 x 12 or 13 x 13 cells
/// take wide codes. The workspace, sized for n, is not written past its end.
TYPED_TEST(FusedNormPoolKernel, DxMatchesAPlainArgMaxSearchBitForBit) {
  using T = TypeParam;
  for (unsigned seed : kSeeds)
    for (int variant = 0; variant < 3; ++variant) {
      const bool coarse = variant == 1, wide = variant == 2;
      Case c = wide ? randomCase(seed + 300, false, 12, 13, 40)
                    : randomCase(seed + 300, coarse);
      c.beta[0] = -100;
      const int64_t channels = c.channels();
      std::vector<T> gamma = buffer<T>(c.gamma, channels),
                     beta = buffer<T>(c.beta, channels),
                     dp = buffer<T>(c.dp, c.n * c.ySize()),
                     z = buffer<T>(c.z, c.n * c.xSize());
      std::vector<T> y(dp.size()), mean(static_cast<size_t>(channels)),
          var(static_cast<size_t>(channels));
      AlignedWorkspace forward(dlk::normPoolWorkspaceBytes(channels));
      dlk::batchnorm_relu_maxpool_train<T>(c.n, c.dims, z.data(), gamma.data(),
                                           beta.data(), y.data(), mean.data(),
                                           var.data(), forward.data());
      const int64_t bytes =
          dlk::normPoolGradWorkspaceBytes(c.dims.pool, sizeof(T), c.n);
      constexpr int64_t kGuard = 64;
      AlignedWorkspace backward(bytes + kGuard);
      std::fill(backward.data(), backward.data() + bytes + kGuard, 0xA5);
      std::vector<T> dx(z.size()), dgamma(static_cast<size_t>(channels)),
          dbeta(static_cast<size_t>(channels));
      dlk::batchnorm_relu_maxpool_train_grad<T>(
          c.n, c.dims, z.data(), gamma.data(), beta.data(), mean.data(),
          var.data(), dp.data(), dx.data(), dgamma.data(), dbeta.data(),
          backward.data());
      const std::string what = c.what + (coarse ? " coarse" : "");
      EXPECT_EQ(dbeta[0], T(0)) << what << " dead channel";
      std::vector<T> want = plainInputGradient(c, mean, var, dgamma, dbeta);
      ASSERT_EQ(dx.size(), want.size());
      for (size_t i = 0; i < dx.size(); ++i)
        if (std::memcmp(&dx[i], &want[i], sizeof(T)) != 0) {
          ADD_FAILURE() << what << ": dx element " << i << " is " << dx[i]
                        << ", want " << want[i]
                        << (std::signbit(dx[i]) ? " (negative)" : "");
          break;
        }
      for (int64_t i = bytes; i < bytes + kGuard; ++i)
        if (backward.data()[i] != 0xA5) {
          ADD_FAILURE() << what << ": workspace written past its end at "
                        << i - bytes;
          break;
        }
    }
}

/// dx over x, and null results: the same bits as the full run.
TYPED_TEST(FusedNormPoolKernel, InPlaceAndNullResults) {
  using T = TypeParam;
  for (unsigned seed : kSeeds)
    for (bool coarse : {false, true}) {
      Case c = randomCase(seed + 100, coarse);
      const int64_t channels = c.channels();
      Results<T> full = runFused<T>(c);
      std::vector<T> gamma = buffer<T>(c.gamma, channels),
                     beta = buffer<T>(c.beta, channels),
                     dp = buffer<T>(c.dp, c.maxBatch * c.ySize());

      // The statistics alone (y null).
      std::vector<T> z = buffer<T>(c.z, c.maxBatch * c.xSize());
      std::vector<T> mean = buffer<T>({}, channels);
      AlignedWorkspace forward(dlk::normPoolWorkspaceBytes(channels));
      dlk::batchnorm_relu_maxpool_train<T>(
          c.n, c.dims, z.data(), gamma.data(), beta.data(),
          static_cast<T *>(nullptr), mean.data(), nullptr, forward.data());
      EXPECT_EQ(mean, full.mean) << c.what << " mean alone";

      // dx over z, dgamma skipped.
      AlignedWorkspace backward(
          dlk::normPoolGradWorkspaceBytes(c.dims.pool, sizeof(T), c.maxBatch));
      std::vector<T> dbeta = buffer<T>({}, channels);
      dlk::batchnorm_relu_maxpool_train_grad<T>(
          c.n, c.dims, z.data(), gamma.data(), beta.data(), full.mean.data(),
          full.var.data(), dp.data(), z.data(), nullptr, dbeta.data(),
          backward.data());
      std::vector<T> wantDx = full.dx;
      // Past the batch, z keeps its own contents.
      std::vector<T> original = buffer<T>(c.z, c.maxBatch * c.xSize());
      std::copy(original.begin() + c.n * c.xSize(), original.end(),
                wantDx.begin() + c.n * c.xSize());
      EXPECT_EQ(z, wantDx) << c.what << " dx in place";
      EXPECT_EQ(dbeta, full.dbeta) << c.what << " dbeta with dx in place";

      // The parameter gradients alone (dx null).
      std::vector<T> z2 = buffer<T>(c.z, c.maxBatch * c.xSize());
      std::vector<T> dgamma = buffer<T>({}, channels);
      dlk::batchnorm_relu_maxpool_train_grad<T>(
          c.n, c.dims, z2.data(), gamma.data(), beta.data(), full.mean.data(),
          full.var.data(), dp.data(), static_cast<T *>(nullptr), dgamma.data(),
          nullptr, backward.data());
      EXPECT_EQ(dgamma, full.dgamma) << c.what << " dgamma alone";
      EXPECT_EQ(z2, original) << c.what << " x untouched";
    }
}

/// With dp = 1, dbeta counts, per channel, the windows whose maximum is
/// positive: the backward's arg-max and mask are the forward's.
TYPED_TEST(FusedNormPoolKernel, BackwardFindsTheForwardsMaxima) {
  using T = TypeParam;
  for (unsigned seed : kSeeds) {
    Case c = randomCase(seed + 200, /*coarse=*/true);
    std::fill(c.dp.begin(), c.dp.end(), 1.0);
    Results<T> r = runFused<T>(c);
    const int64_t channels = c.channels(), windows = c.n * c.y[0] * c.y[1];
    for (int64_t ch = 0; ch < channels; ++ch) {
      int64_t positive = 0;
      for (int64_t i = 0; i < windows; ++i)
        positive += r.y[size_t(i * channels + ch)] > T(0);
      EXPECT_EQ(static_cast<double>(r.dbeta[size_t(ch)]),
                static_cast<double>(positive))
          << c.what << " channel " << ch;
    }
  }
}

//===----------------------------------------------------------------------===//
// Emitters
//===----------------------------------------------------------------------===//

using codegen::CpuKernel;
using codegen::CpuKernelCode;
using codegen::KernelCall;
using codegen::KernelProgram;

using dlc::testing::isMalformedCall;

/// The emitter harness with this file's kernels.
struct ProgramBuilder : dlc::testing::KernelEmitterHarness {
  ProgramBuilder()
      : KernelEmitterHarness(codegen::registerFusedNormPoolKernels) {}
};

Attrs poolAttrs(int64_t pool, int64_t stride) {
  return Attrs{{"pool_size", Shape{pool, pool}},
               {"strides", Shape{stride, stride}},
               {"pad", Shape{0, 1, 0, 1}},
               {"epsilon", 0.001}};
}

TEST(FusedNormPoolEmitter, Registry) {
  ProgramBuilder b;
  const CpuKernel &fwd = b.registry.at("batchnorm_relu_maxpool_train");
  const CpuKernel &bwd = b.registry.at("batchnorm_relu_maxpool_train_grad");
  EXPECT_EQ(fwd.inPlaceOperand, -1);
  EXPECT_EQ(bwd.inPlaceOperand, 0); // dx over x
  EXPECT_FALSE(fwd.aliasesOperand);
  int x = b.value({5, 5, 6}), g = b.value({6}, false), be = b.value({6}, false);
  int p = b.value({3, 3, 6}), mean = b.value({6}, false),
      var = b.value({6}, false);
  KernelCall forward{"batchnorm_relu_maxpool_train",
                     poolAttrs(2, 2),
                     {x, g, be},
                     {p, mean, var},
                     ""};
  KernelCall backward{"batchnorm_relu_maxpool_train_grad",
                      poolAttrs(2, 2),
                      {x, g, be, mean, var, p},
                      {x, g, be},
                      ""};
  EXPECT_EQ(fwd.workspaceBytes(b.program, forward, 4),
            dlk::normalizationWorkspaceBytes(6));
  dlk::Pool2dDims pool{5, 5, 6, 3, 3, 2, 2, 2, 2, 0, 0};
  EXPECT_EQ(bwd.workspaceBytes(b.program, backward, 8),
            dlk::normPoolGradWorkspaceBytes(pool, 8, b.program.maxBatch));
  dlk::Pool2dDims wide{5, 5, 32, 3, 3, 2, 2, 2, 2, 0, 0};
  EXPECT_GT(dlk::normPoolGradWorkspaceBytes(wide, 8, 8),
            dlk::normPoolGradWorkspaceBytes(wide, 4, 8));
  // A winner code per pooled element at maxBatch: a byte each for pools of
  // up to 128 cells, wider for larger ones.
  EXPECT_EQ(dlk::normPoolGradWorkspaceBytes(wide, 4, 64) -
                dlk::normPoolGradWorkspaceBytes(wide, 4, 32),
            32 * 3 * 3 * 32);
  dlk::Pool2dDims huge{24, 24, 2, 2, 2, 12, 12, 12, 12, 0, 0};
  EXPECT_EQ(dlk::normPoolGradWorkspaceBytes(huge, 8, 64) -
                dlk::normPoolGradWorkspaceBytes(huge, 8, 32),
            32 * 2 * 2 * 2 * 8);
  // Too large a batch makes the planner reject the call.
  KernelProgram big = b.program;
  big.maxBatch = std::numeric_limits<int64_t>::max() / 2;
  EXPECT_EQ(bwd.workspaceBytes(big, backward, 4),
            std::numeric_limits<int64_t>::max());
  // A call its emitter rejects (overlapping windows) asks for none.
  KernelCall overlapping = backward;
  overlapping.attrs = poolAttrs(3, 2);
  EXPECT_EQ(bwd.workspaceBytes(b.program, overlapping, 4), 0);
  // What the kernels read: everything, nothing when no result is passed,
  // only x for the statistics alone.
  EXPECT_TRUE(bwd.readsOperand(backward, 5, {true, false, false}));
  EXPECT_FALSE(bwd.readsOperand(backward, 0, {false, false, false}));
  EXPECT_TRUE(fwd.readsOperand(forward, 0, {false, true, false}));
  EXPECT_FALSE(fwd.readsOperand(forward, 1, {false, true, false}));
  EXPECT_TRUE(fwd.readsOperand(forward, 2, {true, true, true}));
}

TEST(FusedNormPoolEmitter, Text) {
  ProgramBuilder b;
  int x = b.value({5, 5, 6}), g = b.value({6}, false), be = b.value({6}, false);
  int p = b.value({3, 3, 6}), mean = b.value({6}, false),
      var = b.value({6}, false);
  CpuKernelCode fwd = b.emit("batchnorm_relu_maxpool_train", {x, g, be},
                             {p, mean, var}, poolAttrs(2, 2));
  EXPECT_EQ(fwd.declarations,
            "static constexpr dlk::NormPool2dDims k1_dims{{/*h=*/5, /*w=*/5, "
            "/*c=*/6, /*oh=*/3, /*ow=*/3, /*ph=*/2, /*pw=*/2, /*sh=*/2, "
            "/*sw=*/2, /*padTop=*/0, /*padLeft=*/0}, 0.001};\n");
  EXPECT_EQ(fwd.statement,
            "dlk::batchnorm_relu_maxpool_train<T>(n, k1_dims, " +
                b.pointer(x, false) + ", " + b.pointer(g, false) + ", " +
                b.pointer(be, false) + ", " + b.pointer(p, true) + ", " +
                b.pointer(mean, true) + ", " + b.pointer(var, true) + ", ws);");
  int dx = b.value({5, 5, 6}), dg = b.value({6}, false),
      db = b.value({6}, false);
  CpuKernelCode bwd =
      b.emit("batchnorm_relu_maxpool_train_grad", {x, g, be, mean, var, p},
             {dx, dg, db}, poolAttrs(2, 2), {false, true, false});
  EXPECT_EQ(bwd.statement,
            "dlk::batchnorm_relu_maxpool_train_grad<T>(n, k2_dims, " +
                b.pointer(x, false) + ", " + b.pointer(g, false) + ", " +
                b.pointer(be, false) + ", " + b.pointer(mean, false) + ", " +
                b.pointer(var, false) + ", " + b.pointer(p, false) + ", " +
                b.pointer(dx, true) + ", nullptr, " + b.pointer(db, true) +
                ", ws);");
  // No result read: no call.
  CpuKernelCode none =
      b.emit("batchnorm_relu_maxpool_train_grad", {x, g, be, mean, var, p},
             {dx, dg, db}, poolAttrs(2, 2), {true, true, true});
  EXPECT_EQ(none.statement, "");
}

TEST(FusedNormPoolEmitter, MalformedCallsStopTheHostCompiler) {
  ProgramBuilder b;
  int x = b.value({5, 5, 6}), g = b.value({6}, false), be = b.value({6}, false);
  int wrong = b.value({5}, false), p = b.value({3, 3, 6});
  int mean = b.value({6}, false), var = b.value({6}, false);
  int flat = b.value({150});
  const std::string fwd = "batchnorm_relu_maxpool_train";
  const std::string bwd = "batchnorm_relu_maxpool_train_grad";
  // Overlapping windows.
  EXPECT_TRUE(isMalformedCall(
      b.emit(fwd, {x, g, be}, {p, mean, var}, poolAttrs(3, 2))));
  EXPECT_TRUE(isMalformedCall(
      b.emit(bwd, {x, g, be, mean, var, p}, {x, g, be}, poolAttrs(3, 2))));
  EXPECT_TRUE(isMalformedCall(
      b.emit(fwd, {x, wrong, be}, {p, mean, var}, poolAttrs(2, 2))));
  EXPECT_TRUE(
      isMalformedCall(b.emit(fwd, {x, g}, {p, mean, var}, poolAttrs(2, 2))));
  EXPECT_TRUE(isMalformedCall(
      b.emit(fwd, {flat, g, be}, {p, mean, var}, poolAttrs(2, 2))));
  Attrs badEpsilon = poolAttrs(2, 2);
  badEpsilon["epsilon"] = -1.0;
  EXPECT_TRUE(
      isMalformedCall(b.emit(fwd, {x, g, be}, {p, mean, var}, badEpsilon)));
  EXPECT_TRUE(isMalformedCall(
      b.emit(bwd, {x, g, be, mean, wrong, p}, {x, g, be}, poolAttrs(2, 2))));
  EXPECT_TRUE(isMalformedCall(
      b.emit(bwd, {x, g, be, mean, var, x}, {x, g, be}, poolAttrs(2, 2))));
}

} // namespace
