//===- PhiloxTest.cpp - Philox4x32-10 and the random streams --------------===//
//
// Known-answer vectors from Random123's kat_vectors, plus statistical sanity
// checks of the uniform and normal transforms and of stream independence.
//
//===----------------------------------------------------------------------===//
#include "runtime/Philox.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <vector>

using namespace dlc::rt;

namespace {

void expectBlock(const uint32_t counter[4], const uint32_t key[2],
                 const uint32_t expected[4]) {
  PhiloxBlock out = philox4x32(counter, key);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(out.v[i], expected[i]) << "word " << i;
}

TEST(PhiloxTest, KnownAnswerZero) {
  const uint32_t counter[4] = {0, 0, 0, 0};
  const uint32_t key[2] = {0, 0};
  const uint32_t expected[4] = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};
  expectBlock(counter, key, expected);
}

TEST(PhiloxTest, KnownAnswerAllOnes) {
  const uint32_t counter[4] = {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff};
  const uint32_t key[2] = {0xffffffff, 0xffffffff};
  const uint32_t expected[4] = {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd};
  expectBlock(counter, key, expected);
}

TEST(PhiloxTest, KnownAnswerPi) {
  const uint32_t counter[4] = {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344};
  const uint32_t key[2] = {0xa4093822, 0x299f31d0};
  const uint32_t expected[4] = {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1};
  expectBlock(counter, key, expected);
}

TEST(PhiloxTest, IsAPureFunction) {
  // Same inputs, same outputs; the input arrays are not modified.
  uint32_t counter[4] = {1, 2, 3, 4};
  uint32_t key[2] = {5, 6};
  PhiloxBlock a = philox4x32(counter, key);
  PhiloxBlock b = philox4x32(counter, key);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(a.v[i], b.v[i]);
  EXPECT_EQ(counter[0], 1u);
  EXPECT_EQ(counter[3], 4u);
  EXPECT_EQ(key[1], 6u);
}

TEST(PhiloxTest, UniformFloatRangeAndExactness) {
  EXPECT_EQ(uniformFloat(0u), 0.0f);
  EXPECT_LT(uniformFloat(0xffffffffu), 1.0f);
  EXPECT_EQ(uniformFloat(0xffffffffu), 1.0f - 1.0f / 16777216.0f);
  EXPECT_EQ(uniformFloat(0x80000000u), 0.5f);
  // Only the top 24 bits matter.
  EXPECT_EQ(uniformFloat(0x123456ffu), uniformFloat(0x12345600u));
  EXPECT_GT(uniformFloatNonZero(0u), 0.0f);
  EXPECT_EQ(uniformFloatNonZero(0xffffffffu), 1.0f);
  EXPECT_EQ(uniformDouble(0, 0), 0.0);
  EXPECT_LT(uniformDouble(0xffffffffu, 0xffffffffu), 1.0);
  EXPECT_EQ(uniformDouble(0xffffffffu, 0xffffffffu),
            1.0 - 1.0 / 9007199254740992.0);
  EXPECT_EQ(uniformDouble(0x80000000u, 0), 0.5);
  // The low word contributes bits (53 = 32 + 21).
  EXPECT_NE(uniformDouble(0, 0x800u), 0.0);
  EXPECT_EQ(uniformDouble(0, 0x7ffu), 0.0);
}

TEST(PhiloxTest, UniformMeanAndVariance) {
  PhiloxStream rng(12345, 0);
  const int n = 1000000;
  double sum = 0, sumSq = 0, sumD = 0, sumDSq = 0;
  float minValue = 1, maxValue = 0;
  for (int i = 0; i < n; ++i) {
    float u = rng.uniformAt(static_cast<uint64_t>(i));
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    minValue = std::min(minValue, u);
    maxValue = std::max(maxValue, u);
    sum += u;
    sumSq += double(u) * u;
    PhiloxBlock b = rng.block(static_cast<uint64_t>(i));
    double d = uniformDouble(b.v[0], b.v[1]);
    ASSERT_GE(d, 0.0);
    ASSERT_LT(d, 1.0);
    sumD += d;
    sumDSq += d * d;
  }
  double mean = sum / n, var = sumSq / n - mean * mean;
  // Standard error of the mean is sqrt(1/12/n) ~ 2.9e-4; allow ~7 sigma.
  EXPECT_NEAR(mean, 0.5, 2e-3);
  EXPECT_NEAR(var, 1.0 / 12.0, 1e-3);
  EXPECT_LT(minValue, 1e-4f);
  EXPECT_GT(maxValue, 1.0f - 1e-4f);
  double meanD = sumD / n, varD = sumDSq / n - meanD * meanD;
  EXPECT_NEAR(meanD, 0.5, 2e-3);
  EXPECT_NEAR(varD, 1.0 / 12.0, 1e-3);
}

TEST(PhiloxTest, UniformBucketsAreFlat) {
  // Chi-square over 64 buckets: 63 degrees of freedom; the 99.99th
  // percentile is about 115.
  PhiloxStream rng(7, 3);
  const int n = 640000, buckets = 64;
  std::vector<int> counts(buckets, 0);
  for (int i = 0; i < n; ++i)
    ++counts[static_cast<int>(rng.uniformAt(static_cast<uint64_t>(i)) *
                              buckets)];
  double expected = double(n) / buckets, chi2 = 0;
  for (int c : counts)
    chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi2, 115.0);
}

TEST(PhiloxTest, NormalMeanAndStd) {
  PhiloxStream rng(2024, 9);
  const int n = 1000000;
  double sum = 0, sumSq = 0, sum4 = 0;
  int beyond3 = 0;
  for (int i = 0; i < n; ++i) {
    float z = rng.normalAt(static_cast<uint64_t>(i));
    ASSERT_TRUE(std::isfinite(z));
    sum += z;
    sumSq += double(z) * z;
    sum4 += double(z) * z * z * z;
    if (std::fabs(z) > 3)
      ++beyond3;
  }
  double mean = sum / n, var = sumSq / n - mean * mean;
  EXPECT_NEAR(mean, 0.0, 5e-3);
  EXPECT_NEAR(std::sqrt(var), 1.0, 5e-3);
  EXPECT_NEAR(sum4 / n, 3.0, 0.05); // Kurtosis of a normal.
  // P(|z| > 3) = 0.0027.
  EXPECT_NEAR(double(beyond3) / n, 0.0027, 0.0004);
}

TEST(PhiloxTest, NormalPairDoubleMoments) {
  PhiloxStream rng(99, 1);
  const int n = 500000;
  double sum = 0, sumSq = 0, cross = 0;
  for (int i = 0; i < n; ++i) {
    double z0, z1;
    normalPairDouble(rng.block(static_cast<uint64_t>(i)), z0, z1);
    ASSERT_TRUE(std::isfinite(z0) && std::isfinite(z1));
    sum += z0 + z1;
    sumSq += z0 * z0 + z1 * z1;
    cross += z0 * z1;
  }
  double mean = sum / (2.0 * n), var = sumSq / (2.0 * n) - mean * mean;
  EXPECT_NEAR(mean, 0.0, 5e-3);
  EXPECT_NEAR(var, 1.0, 1e-2);
  EXPECT_NEAR(cross / n, 0.0, 1e-2); // The pair is uncorrelated.
}

TEST(PhiloxTest, NormalExtremesAreFinite) {
  float z0, z1;
  normalPair(0u, 0u, z0, z1); // Smallest u: the largest radius.
  EXPECT_TRUE(std::isfinite(z0));
  EXPECT_GT(z0, 5.0f);
  normalPair(0xffffffffu, 0u, z0, z1); // u == 1: radius 0.
  EXPECT_EQ(z0, 0.0f);
}

TEST(PhiloxTest, StreamAtMatchesBlocks) {
  PhiloxStream rng(0x0123456789abcdefull, 0xfedcba9876543210ull);
  for (uint64_t block : {0ull, 1ull, 77ull, 0xffffffffull, 0x100000000ull}) {
    PhiloxBlock b = rng.block(block);
    for (uint64_t lane = 0; lane < 4; ++lane)
      EXPECT_EQ(rng.at(block * 4 + lane), b.v[lane]);
  }
  // The counter and key layout: (index lo, index hi, stream lo, stream hi),
  // key (seed lo, seed hi).
  uint32_t counter[4] = {5, 0, 0x76543210u, 0xfedcba98u};
  uint32_t key[2] = {0x89abcdefu, 0x01234567u};
  PhiloxBlock direct = philox4x32(counter, key);
  PhiloxBlock viaStream = rng.block(5);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(direct.v[i], viaStream.v[i]);
  EXPECT_EQ(rng.seed(), 0x0123456789abcdefull);
  EXPECT_EQ(rng.stream(), 0xfedcba9876543210ull);
}

TEST(PhiloxTest, RandomAccessIsOrderIndependent) {
  // A dropout mask computed in any order or split among workers is the same.
  PhiloxStream rng(42, 5);
  const int n = 1000;
  std::vector<uint32_t> forward(n), backward(n);
  for (int i = 0; i < n; ++i)
    forward[i] = rng.at(static_cast<uint64_t>(i));
  for (int i = n - 1; i >= 0; --i)
    backward[i] = PhiloxStream(42, 5).at(static_cast<uint64_t>(i));
  EXPECT_EQ(forward, backward);
}

TEST(PhiloxTest, StreamsAndSeedsAreIndependent) {
  const int n = 4096;
  auto words = [&](uint64_t seed, uint64_t stream) {
    std::vector<uint32_t> out(n);
    PhiloxStream rng(seed, stream);
    for (int i = 0; i < n; ++i)
      out[i] = rng.at(static_cast<uint64_t>(i));
    return out;
  };
  std::vector<uint32_t> base = words(1, 0);
  std::vector<std::vector<uint32_t>> others = {
      words(1, 1), words(2, 0), words(1ull << 32, 0), words(1, 1ull << 32)};
  for (const auto &other : others) {
    int equal = 0;
    for (int i = 0; i < n; ++i)
      equal += base[i] == other[i];
    EXPECT_LE(equal, 1); // Chance agreement is ~1e-6 per word.
  }
  // Within a stream, words are distinct (no short cycle).
  std::set<uint32_t> distinct(base.begin(), base.end());
  EXPECT_GE(distinct.size(), size_t(n - 2));

  // Correlation between the uniforms of two neighbouring streams is ~0.
  PhiloxStream a(11, 0), b(11, 1);
  const int m = 200000;
  double sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0;
  for (int i = 0; i < m; ++i) {
    double x = a.uniformAt(static_cast<uint64_t>(i));
    double y = b.uniformAt(static_cast<uint64_t>(i));
    sa += x;
    sb += y;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  double cov = sab / m - (sa / m) * (sb / m);
  double corr = cov / std::sqrt((saa / m - (sa / m) * (sa / m)) *
                                (sbb / m - (sb / m) * (sb / m)));
  EXPECT_LT(std::fabs(corr), 0.015);
}

TEST(PhiloxTest, DropoutKeepRateMatchesProbability) {
  PhiloxStream rng(5, 17);
  const int n = 200000;
  const float keep = 0.8f;
  int kept = 0;
  for (int i = 0; i < n; ++i)
    kept += rng.uniformAt(static_cast<uint64_t>(i)) < keep;
  EXPECT_NEAR(double(kept) / n, 0.8, 0.005);
}

} // namespace
