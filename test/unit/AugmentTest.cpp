//===- AugmentTest.cpp - random flips, shifts, crops and noise ------------===//
//
// Each geometric augmentation is checked exactly: every output must equal one
// of the allowed transforms of its input (found by search), and over many
// examples every allowed transform must occur about as often as it should.
// Noise is checked by its moments and against a double-precision reference
// built from PhiloxStream. Randomness must not depend on batch boundaries.
//
//===----------------------------------------------------------------------===//
#include "runtime/Augment.h"

#include "runtime/Philox.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <numeric>
#include <vector>

using namespace dlc::rt;

namespace {

/// `count` images of h x w x c with distinct, non-zero values.
std::vector<float> makeImages(int64_t count, int64_t h, int64_t w, int64_t c) {
  std::vector<float> images(size_t(count * h * w * c));
  for (size_t i = 0; i < images.size(); ++i)
    images[i] = 1.0f + float(i);
  return images;
}

/// Pixel (y, x, k) of image `n`, or 0 outside the image.
float at(const std::vector<float> &images, int64_t n, int64_t h, int64_t w,
         int64_t c, int64_t y, int64_t x, int64_t k) {
  if (y < 0 || y >= h || x < 0 || x >= w)
    return 0.0f;
  return images[size_t(((n * h + y) * w + x) * c + k)];
}

/// True when output image n (oh x ow x c) equals input image n (h x w x c)
/// under out(y, x) = in(sy * y + by, sx * x + bx), zero outside.
bool matches(const std::vector<float> &in, const std::vector<float> &out,
             int64_t n, int64_t h, int64_t w, int64_t oh, int64_t ow, int64_t c,
             int64_t sy, int64_t by, int64_t sx, int64_t bx) {
  for (int64_t y = 0; y < oh; ++y)
    for (int64_t x = 0; x < ow; ++x)
      for (int64_t k = 0; k < c; ++k)
        if (out[size_t(((n * oh + y) * ow + x) * c + k)] !=
            at(in, n, h, w, c, sy * y + by, sx * x + bx, k))
          return false;
  return true;
}

Augmenter makeAugmenter(const std::vector<Augmentation> &list,
                        const std::vector<int64_t> &shape) {
  Augmenter aug;
  std::string error;
  EXPECT_TRUE(aug.init(list, shape, error)) << error;
  return aug;
}

TEST(AugmentTest, HorizontalFlipMirrorsAboutHalfTheImages) {
  for (int64_t c : {1, 3}) {
    const int64_t n = 400, h = 5, w = 7;
    std::vector<float> in = makeImages(n, h, w, c), out(in.size());
    Augmenter aug = makeAugmenter(
        {Augmentation::randomFlip(FlipMode::Horizontal)}, {h, w, c});
    aug.apply(in.data(), out.data(), n, {42, 0, 0});
    int flipped = 0;
    for (int64_t i = 0; i < n; ++i) {
      bool same = matches(in, out, i, h, w, h, w, c, 1, 0, 1, 0);
      bool mirror = matches(in, out, i, h, w, h, w, c, 1, 0, -1, w - 1);
      ASSERT_TRUE(same || mirror) << "image " << i << ", " << c << " channels";
      flipped += mirror;
    }
    // Binomial(400, 0.5): mean 200, sd 10.
    EXPECT_GT(flipped, 150);
    EXPECT_LT(flipped, 250);
  }
}

TEST(AugmentTest, VerticalFlipMirrorsRows) {
  const int64_t n = 400, h = 6, w = 4, c = 1;
  std::vector<float> in = makeImages(n, h, w, c), out(in.size());
  Augmenter aug =
      makeAugmenter({Augmentation::randomFlip(FlipMode::Vertical)}, {h, w, c});
  aug.apply(in.data(), out.data(), n, {7, 3, 1000});
  int flipped = 0;
  for (int64_t i = 0; i < n; ++i) {
    bool same = matches(in, out, i, h, w, h, w, c, 1, 0, 1, 0);
    bool mirror = matches(in, out, i, h, w, h, w, c, -1, h - 1, 1, 0);
    ASSERT_TRUE(same || mirror) << "image " << i;
    flipped += mirror;
  }
  EXPECT_GT(flipped, 150);
  EXPECT_LT(flipped, 250);
}

TEST(AugmentTest, BothFlipsAreIndependent) {
  const int64_t n = 800, h = 3, w = 5, c = 2;
  std::vector<float> in = makeImages(n, h, w, c), out(in.size());
  Augmenter aug = makeAugmenter(
      {Augmentation::randomFlip(FlipMode::HorizontalAndVertical)}, {h, w, c});
  aug.apply(in.data(), out.data(), n, {1, 0, 0});
  int counts[4] = {0, 0, 0, 0};
  for (int64_t i = 0; i < n; ++i) {
    int found = -1;
    for (int v = 0; v < 4 && found < 0; ++v) {
      bool fy = v & 1, fx = v & 2;
      if (matches(in, out, i, h, w, h, w, c, fy ? -1 : 1, fy ? h - 1 : 0,
                  fx ? -1 : 1, fx ? w - 1 : 0))
        found = v;
    }
    ASSERT_GE(found, 0) << "image " << i;
    ++counts[found];
  }
  // Each of the four outcomes has probability 1/4: mean 200, sd ~12.
  for (int v = 0; v < 4; ++v) {
    EXPECT_GT(counts[v], 140) << "outcome " << v;
    EXPECT_LT(counts[v], 260) << "outcome " << v;
  }
}

TEST(AugmentTest, TranslateMovesContentAndFillsZeros) {
  const int64_t n = 600, h = 6, w = 5, c = 2, p = 2;
  std::vector<float> in = makeImages(n, h, w, c), out(in.size());
  Augmenter aug = makeAugmenter({Augmentation::randomTranslate(p)}, {h, w, c});
  aug.apply(in.data(), out.data(), n, {5, 1, 0});
  std::map<std::pair<int, int>, int> shifts;
  for (int64_t i = 0; i < n; ++i) {
    int matched = 0;
    for (int64_t dy = -p; dy <= p; ++dy)
      for (int64_t dx = -p; dx <= p; ++dx)
        if (matches(in, out, i, h, w, h, w, c, 1, -dy, 1, -dx)) {
          ++matched;
          ++shifts[{int(dy), int(dx)}];
        }
    ASSERT_EQ(matched, 1) << "image " << i;
  }
  // All 25 shifts occur, each about 24 times.
  EXPECT_EQ(shifts.size(), 25u);
  for (const auto &[shift, count] : shifts) {
    EXPECT_GT(count, 6) << shift.first << "," << shift.second;
    EXPECT_LT(count, 50) << shift.first << "," << shift.second;
  }
}

TEST(AugmentTest, TranslateLargerThanImageGivesZeros) {
  const int64_t n = 50, h = 2, w = 2, c = 1;
  std::vector<float> in = makeImages(n, h, w, c), out(in.size());
  Augmenter aug = makeAugmenter({Augmentation::randomTranslate(100)}, {h, w});
  aug.apply(in.data(), out.data(), n, {3, 0, 0});
  int zeros = 0;
  for (int64_t i = 0; i < n; ++i) {
    bool allZero = true;
    for (int64_t k = 0; k < h * w; ++k)
      allZero &= out[size_t(i * h * w + k)] == 0.0f;
    zeros += allZero;
  }
  // A shift of at least 2 along either axis (most of 201^2) leaves nothing.
  EXPECT_GT(zeros, 40);
}

TEST(AugmentTest, CropIsAWindowOfThePaddedImage) {
  const int64_t n = 500, h = 5, w = 6, c = 3, pad = 2, ch = 4, cw = 7;
  std::vector<float> in = makeImages(n, h, w, c);
  Augmenter aug =
      makeAugmenter({Augmentation::randomCrop(ch, cw, pad)}, {h, w, c});
  ASSERT_EQ(aug.outputShape(), (std::vector<int64_t>{ch, cw, c}));
  ASSERT_EQ(aug.outputElements(), ch * cw * c);
  std::vector<float> out(size_t(n * ch * cw * c), -1.0f);
  aug.apply(in.data(), out.data(), n, {11, 0, 0});
  std::map<std::pair<int, int>, int> offsets;
  const int64_t rangeY = h + 2 * pad - ch + 1, rangeX = w + 2 * pad - cw + 1;
  for (int64_t i = 0; i < n; ++i) {
    int matched = 0;
    // Window at (oy, ox) of the padded image: out(y, x) = in(y + oy - pad, ..)
    for (int64_t oy = 0; oy < rangeY; ++oy)
      for (int64_t ox = 0; ox < rangeX; ++ox)
        if (matches(in, out, i, h, w, ch, cw, c, 1, oy - pad, 1, ox - pad)) {
          ++matched;
          ++offsets[{int(oy), int(ox)}];
        }
    ASSERT_EQ(matched, 1) << "image " << i;
  }
  EXPECT_EQ(offsets.size(), size_t(rangeY * rangeX));
}

TEST(AugmentTest, CropInferenceTakesTheCenter) {
  const int64_t n = 3, h = 8, w = 8, c = 1;
  std::vector<float> in = makeImages(n, h, w, c);
  Augmenter aug = makeAugmenter({Augmentation::randomFlip(FlipMode::Horizontal),
                                 Augmentation::randomTranslate(3),
                                 Augmentation::randomCrop(4, 6, 0),
                                 Augmentation::gaussianNoise(1.0f)},
                                {h, w, c});
  std::vector<float> out(size_t(n * 4 * 6));
  aug.applyInference(in.data(), out.data(), n);
  for (int64_t i = 0; i < n; ++i)
    EXPECT_TRUE(matches(in, out, i, h, w, 4, 6, c, 1, 2, 1, 1)) << i;
}

TEST(AugmentTest, ComposedGeometryMatchesStepByStep) {
  // flip, translate, crop in one pass equals applying them one at a time.
  const int64_t n = 64, h = 7, w = 9, c = 2;
  std::vector<Augmentation> list = {
      Augmentation::randomFlip(FlipMode::HorizontalAndVertical),
      Augmentation::randomTranslate(2), Augmentation::randomCrop(6, 8, 1),
      Augmentation::randomFlip(FlipMode::Horizontal),
      Augmentation::randomCrop(5, 5, 3)};
  std::vector<float> in = makeImages(n, h, w, c);
  Augmenter all = makeAugmenter(list, {h, w, c});
  std::vector<float> fused(size_t(n * all.outputElements()));
  AugmentKey key{99, 4, 17};
  all.apply(in.data(), fused.data(), n, key);

  // Stage k alone draws from slot k: put k zero-noise entries (which leave
  // the values unchanged) before it.
  std::vector<float> current = in;
  std::vector<int64_t> shape = {h, w, c};
  for (size_t k = 0; k < list.size(); ++k) {
    std::vector<Augmentation> single(k, Augmentation::gaussianNoise(0.0f));
    single.push_back(list[k]);
    Augmenter stage = makeAugmenter(single, shape);
    std::vector<float> next(size_t(n * stage.outputElements()));
    stage.apply(current.data(), next.data(), n, key);
    current.swap(next);
    shape = stage.outputShape();
  }
  EXPECT_EQ(current, fused);
}

TEST(AugmentTest, NoiseHasTheRightMoments) {
  const int64_t n = 256, elements = 1000;
  const float stddev = 0.5f;
  std::vector<float> clean(size_t(n * elements), 0.25f), noisy(clean.size());
  applyGaussianNoise(clean.data(), noisy.data(), n, elements, stddev,
                     {123, 2, 0});
  for (float v : clean)
    ASSERT_EQ(v, 0.25f); // the clean input stays the target
  double sum = 0, sumSq = 0, sum4 = 0;
  int64_t within = 0;
  for (float v : noisy) {
    double d = double(v) - 0.25;
    sum += d;
    sumSq += d * d;
    sum4 += d * d * d * d;
    within += std::fabs(d) < stddev;
  }
  double count = double(noisy.size());
  double mean = sum / count, var = sumSq / count - mean * mean;
  // 256000 samples: the mean's sd is 0.001, the std's about 0.0007.
  EXPECT_NEAR(mean, 0.0, 0.005);
  EXPECT_NEAR(std::sqrt(var), stddev, 0.005);
  EXPECT_NEAR(sum4 / count / (var * var), 3.0, 0.05); // kurtosis
  EXPECT_NEAR(double(within) / count, 0.6827, 0.005);
}

TEST(AugmentTest, NoiseInPlaceEqualsOutOfPlace) {
  const int64_t n = 5, elements = 37;
  std::vector<float> clean = makeImages(n, 1, elements, 1), noisy(clean.size());
  AugmentKey key{8, 1, 40};
  applyGaussianNoise(clean.data(), noisy.data(), n, elements, 0.3f, key);
  std::vector<float> inPlace = clean;
  applyGaussianNoise(inPlace.data(), inPlace.data(), n, elements, 0.3f, key);
  EXPECT_EQ(inPlace, noisy);
  EXPECT_NE(noisy, clean);
}

TEST(AugmentTest, NormalsMatchADoublePrecisionReference) {
  const uint64_t seed = 0x1234567890ULL, stream = augmentStream(3, 9);
  const int64_t count = 4096;
  std::vector<float> z(count);
  fillStandardNormals(seed, stream, 0, count, z.data());
  PhiloxStream rng(seed, stream);
  const double pi = 3.14159265358979323846;
  double worst = 0;
  for (int64_t e = 0; e < count; ++e) {
    PhiloxBlock b = rng.block(uint64_t(e) / 4);
    int lane = int(e % 4);
    uint32_t a = b.v[lane & 2], w = b.v[(lane & 2) + 1];
    double u = double((a >> 8) + 1) / 16777216.0;
    double theta = double(w >> 30) * pi / 2 +
                   (double((w >> 6) & 0xFFFFFF) / 16777216.0 - 0.5) * pi / 2;
    double r = std::sqrt(-2.0 * std::log(u));
    double expected = (lane & 1) ? r * std::sin(theta) : r * std::cos(theta);
    worst = std::max(worst, std::fabs(double(z[size_t(e)]) - expected));
  }
  EXPECT_LT(worst, 1e-5);
}

TEST(AugmentTest, NormalsAreBitIdenticalAcrossBuilds) {
  // A fixed hash: the generator avoids libm and FMA contraction, so any
  // compiler, optimization level or vector width gives these exact bits.
  std::vector<float> z(size_t(1) << 20);
  fillStandardNormals(5, 6, 3, int64_t(z.size()), z.data());
  uint64_t hash = 1469598103934665603ULL; // FNV-1a over the float bits
  for (float f : z) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof(bits));
    hash = (hash ^ bits) * 1099511628211ULL;
  }
  EXPECT_EQ(hash, 0x4254c4b15288cd2fULL);
}

TEST(AugmentTest, NormalsDoNotDependOnTheStartingElement) {
  const uint64_t seed = 77, stream = 5;
  std::vector<float> all(1000), part(600);
  fillStandardNormals(seed, stream, 0, 1000, all.data());
  fillStandardNormals(seed, stream, 301, 600, part.data());
  for (size_t i = 0; i < part.size(); ++i)
    ASSERT_EQ(part[i], all[301 + i]) << i;
}

std::vector<Augmentation> allFour() {
  return {Augmentation::randomFlip(FlipMode::Horizontal),
          Augmentation::randomTranslate(3), Augmentation::randomCrop(28, 28, 4),
          Augmentation::gaussianNoise(0.1f)};
}

TEST(AugmentTest, SameSeedSameImagesOtherSeedOrEpochOthers) {
  const int64_t n = 16;
  std::vector<float> in = makeImages(n, 28, 28, 1);
  Augmenter aug = makeAugmenter(allFour(), {28, 28, 1});
  std::vector<float> a(in.size()), b(in.size()), c(in.size()), d(in.size());
  aug.apply(in.data(), a.data(), n, {42, 0, 0});
  aug.apply(in.data(), b.data(), n, {42, 0, 0});
  aug.apply(in.data(), c.data(), n, {43, 0, 0});
  aug.apply(in.data(), d.data(), n, {42, 1, 0});
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, d);
}

TEST(AugmentTest, BatchBoundariesDoNotMatter) {
  const int64_t n = 8, h = 28, w = 28, e = h * w;
  std::vector<float> in = makeImages(n, h, w, 1);
  Augmenter aug = makeAugmenter(allFour(), {h, w, 1});
  const uint64_t first = 1000; // step 125 of batch size 8
  std::vector<float> whole(in.size()), halves(in.size());
  aug.apply(in.data(), whole.data(), n, {42, 3, first});
  aug.apply(in.data(), halves.data(), 4, {42, 3, first});
  aug.apply(in.data() + 4 * e, halves.data() + 4 * e, 4, {42, 3, first + 4});
  EXPECT_EQ(whole, halves);

  // Explicit per-example indices (here reversed) give the same images.
  std::vector<float> reversedIn(in.size()), reversedOut(in.size());
  std::vector<uint64_t> indices(n);
  for (int64_t j = 0; j < n; ++j) {
    std::copy(in.begin() + (n - 1 - j) * e, in.begin() + (n - j) * e,
              reversedIn.begin() + j * e);
    indices[size_t(j)] = first + uint64_t(n - 1 - j);
  }
  AugmentKey key{42, 3, 0, indices.data()};
  aug.apply(reversedIn.data(), reversedOut.data(), n, key);
  for (int64_t j = 0; j < n; ++j)
    EXPECT_TRUE(std::equal(reversedOut.begin() + j * e,
                           reversedOut.begin() + (j + 1) * e,
                           whole.begin() + (n - 1 - j) * e))
        << j;
}

TEST(AugmentTest, InPlaceEqualsOutOfPlace) {
  const int64_t n = 6;
  std::vector<float> in = makeImages(n, 28, 28, 1), out(in.size());
  Augmenter aug = makeAugmenter(allFour(), {28, 28, 1});
  aug.apply(in.data(), out.data(), n, {1, 2, 3});
  aug.apply(in.data(), in.data(), n, {1, 2, 3});
  EXPECT_EQ(in, out);
}

TEST(AugmentTest, NoiseBeforeGeometryIsMovedWithTheImage) {
  // gaussian_noise then random_flip: the output is the flipped noisy image.
  const int64_t n = 32, h = 4, w = 5;
  std::vector<float> in = makeImages(n, h, w, 1), noisy(in.size()),
                     out(in.size());
  Augmenter aug =
      makeAugmenter({Augmentation::gaussianNoise(0.2f),
                     Augmentation::randomFlip(FlipMode::Horizontal)},
                    {h, w, 1});
  AugmentKey key{6, 0, 0};
  aug.apply(in.data(), out.data(), n, key);
  applyGaussianNoise(in.data(), noisy.data(), n, h * w, 0.2f, key, 0);
  for (int64_t i = 0; i < n; ++i)
    EXPECT_TRUE(matches(noisy, out, i, h, w, h, w, 1, 1, 0, 1, 0) ||
                matches(noisy, out, i, h, w, h, w, 1, 1, 0, -1, w - 1))
        << i;
}

TEST(AugmentTest, ShapesAndErrors) {
  std::vector<int64_t> shape;
  std::string error;
  EXPECT_TRUE(augmentedShape({Augmentation::randomCrop(24, 20, 0)}, {28, 28, 1},
                             shape, error));
  EXPECT_EQ(shape, (std::vector<int64_t>{24, 20, 1}));
  EXPECT_TRUE(augmentedShape({Augmentation::randomCrop(32, 32, 2)}, {28, 28},
                             shape, error));
  EXPECT_EQ(shape, (std::vector<int64_t>{32, 32}));

  EXPECT_FALSE(augmentedShape({Augmentation::randomCrop(33, 32, 2)},
                              {28, 28, 1}, shape, error));
  EXPECT_EQ(error, "random_crop(size=[33, 32], padding=2): the window 33x32 "
                   "is larger than the image 28x28 padded to 32x32; use a "
                   "smaller size or more padding");
  // The second crop sees the first one's output.
  EXPECT_FALSE(augmentedShape({Augmentation::randomCrop(20, 20, 0),
                               Augmentation::randomCrop(24, 24, 1)},
                              {28, 28, 1}, shape, error));
  EXPECT_NE(error.find("larger than the image 20x20 padded to 22x22"),
            std::string::npos)
      << error;
  EXPECT_FALSE(augmentedShape({Augmentation::randomCrop(0, 5, 0)}, {28, 28, 1},
                              shape, error));
  EXPECT_NE(error.find("size must be positive"), std::string::npos) << error;
  EXPECT_FALSE(augmentedShape({Augmentation::randomCrop(5, 5, -1)}, {28, 28, 1},
                              shape, error));
  EXPECT_NE(error.find("padding"), std::string::npos) << error;
  EXPECT_FALSE(augmentedShape({Augmentation::randomTranslate(-1)}, {28, 28, 1},
                              shape, error));
  EXPECT_FALSE(augmentedShape({Augmentation::gaussianNoise(-0.1f)}, {28, 28, 1},
                              shape, error));
  EXPECT_FALSE(augmentedShape({Augmentation::gaussianNoise(NAN)}, {28, 28, 1},
                              shape, error));
  Augmentation badMode = Augmentation::randomFlip(FlipMode::Horizontal);
  badMode.flipMode = static_cast<FlipMode>(7);
  EXPECT_FALSE(augmentedShape({badMode}, {28, 28, 1}, shape, error));

  // Geometry needs images; noise takes any shape.
  EXPECT_FALSE(augmentedShape({Augmentation::randomFlip(FlipMode::Vertical)},
                              {784}, shape, error));
  EXPECT_EQ(error, "random_flip(vertical) needs image examples [H, W, C] or "
                   "[H, W], got [784]");
  EXPECT_TRUE(
      augmentedShape({Augmentation::gaussianNoise(0.2f)}, {784}, shape, error));
  EXPECT_FALSE(augmentedShape({}, {28, 0, 1}, shape, error));
  EXPECT_FALSE(
      augmentedShape({}, {int64_t(1) << 20, int64_t(1) << 20}, shape, error));

  // A failed init leaves an empty Augmenter.
  Augmenter aug;
  EXPECT_FALSE(
      aug.init({Augmentation::randomCrop(40, 40, 0)}, {28, 28, 1}, error));
  EXPECT_TRUE(aug.empty());
}

TEST(AugmentTest, NoiseOnlyListOnFlatExamples) {
  const int64_t n = 4, e = 10;
  std::vector<float> in = makeImages(n, 1, e, 1), out(in.size());
  Augmenter aug = makeAugmenter({Augmentation::gaussianNoise(0.5f)}, {e});
  AugmentKey key{2, 0, 0};
  aug.apply(in.data(), out.data(), n, key);
  std::vector<float> expected(in.size());
  applyGaussianNoise(in.data(), expected.data(), n, e, 0.5f, key, 0);
  EXPECT_EQ(out, expected);
  EXPECT_NE(out, in);
}

TEST(AugmentTest, EmptyListCopies) {
  std::vector<float> in = makeImages(3, 2, 2, 1), out(in.size());
  Augmenter aug = makeAugmenter({}, {2, 2, 1});
  EXPECT_TRUE(aug.empty());
  aug.apply(in.data(), out.data(), 3, {});
  EXPECT_EQ(in, out);
}

} // namespace
