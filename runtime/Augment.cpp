//===- Augment.cpp - random image augmentation and input noise ------------===//
//
// Geometric augmentations (flip, translate, crop) all map an output pixel to
// at most one input pixel through an affine map with slope +-1 per axis, and
// zero outside a rectangle. A run of them therefore composes into one map per
// example and axis, applied in a single gather pass. Noise is a separate,
// elementwise pass whose normals come from Philox blocks generated in chunks
// with branch-free, vectorizable arithmetic.
//
//===----------------------------------------------------------------------===//
#include "runtime/Augment.h"

#include "runtime/Philox.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace dlc::rt {

Augmentation Augmentation::randomFlip(FlipMode mode) {
  Augmentation a;
  a.kind = Kind::RandomFlip;
  a.flipMode = mode;
  return a;
}

Augmentation Augmentation::randomTranslate(int64_t pixels) {
  Augmentation a;
  a.kind = Kind::RandomTranslate;
  a.pixels = pixels;
  return a;
}

Augmentation Augmentation::randomCrop(int64_t height, int64_t width,
                                      int64_t padding) {
  Augmentation a;
  a.kind = Kind::RandomCrop;
  a.cropHeight = height;
  a.cropWidth = width;
  a.padding = padding;
  return a;
}

Augmentation Augmentation::gaussianNoise(float stddev) {
  Augmentation a;
  a.kind = Kind::GaussianNoise;
  a.stddev = stddev;
  return a;
}

std::string describeAugmentation(const Augmentation &a) {
  switch (a.kind) {
  case Augmentation::Kind::RandomFlip:
    switch (a.flipMode) {
    case FlipMode::Horizontal:
      return "random_flip(horizontal)";
    case FlipMode::Vertical:
      return "random_flip(vertical)";
    case FlipMode::HorizontalAndVertical:
      return "random_flip(horizontal_and_vertical)";
    }
    return "random_flip(?)";
  case Augmentation::Kind::RandomTranslate:
    return "random_translate(" + std::to_string(a.pixels) + ")";
  case Augmentation::Kind::RandomCrop:
    return "random_crop(size=[" + std::to_string(a.cropHeight) + ", " +
           std::to_string(a.cropWidth) +
           "], padding=" + std::to_string(a.padding) + ")";
  case Augmentation::Kind::GaussianNoise: {
    char buffer[64];
    snprintf(buffer, sizeof(buffer), "gaussian_noise(%g)",
             static_cast<double>(a.stddev));
    return buffer;
  }
  }
  return "unknown augmentation";
}

//===----------------------------------------------------------------------===//
// Normals
//===----------------------------------------------------------------------===//

namespace {

// The normal generator is the hot loop of noise: with GCC on x86-64 Linux it
// gets an AVX2 clone beside the baseline one, picked at load time (ifunc).
// Neither enables FMA, and contraction into FMA is switched off, so every
// build gives bit-identical normals for a seed (a test checks a fixed hash).
#if defined(__x86_64__) && defined(__linux__) && !defined(__clang__)
#define DLC_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DLC_VECTOR_CLONES
#endif
#if defined(__clang__)
#define DLC_NO_FP_CONTRACT _Pragma("clang fp contract(off)")
#define DLC_NO_FP_CONTRACT_ATTRIBUTE
#elif defined(__GNUC__)
#define DLC_NO_FP_CONTRACT
#define DLC_NO_FP_CONTRACT_ATTRIBUTE                                           \
  __attribute__((optimize("fp-contract=off")))
#else
#define DLC_NO_FP_CONTRACT
#define DLC_NO_FP_CONTRACT_ATTRIBUTE
#endif

/// Philox blocks generated (and turned into normals) per inner loop.
constexpr int kChunkBlocks = 64;

/// One Philox round on four lanes (the same arithmetic as Philox.h, written
/// on scalars so that a loop over blocks vectorizes).
inline void philoxRound(uint32_t &c0, uint32_t &c1, uint32_t &c2, uint32_t &c3,
                        uint32_t k0, uint32_t k1) {
  uint64_t p0 = uint64_t(philox_detail::kMultiplier0) * c0;
  uint64_t p1 = uint64_t(philox_detail::kMultiplier1) * c2;
  uint32_t out0 = uint32_t(p1 >> 32) ^ c1 ^ k0;
  uint32_t out2 = uint32_t(p0 >> 32) ^ c3 ^ k1;
  c0 = out0;
  c1 = uint32_t(p1);
  c2 = out2;
  c3 = uint32_t(p0);
}

/// Philox4x32-10 of counters (firstBlock + i, stream) for i < n, i.e. the
/// same words as PhiloxStream(seed, stream).block(firstBlock + i).
DLC_VECTOR_CLONES void philoxChunk(uint32_t k0, uint32_t k1, uint32_t s0,
                                   uint32_t s1, uint64_t firstBlock, int n,
                                   uint32_t *w0, uint32_t *w1, uint32_t *w2,
                                   uint32_t *w3) {
  uint32_t ka[10], kb[10];
  ka[0] = k0;
  kb[0] = k1;
  for (int r = 1; r < 10; ++r) {
    ka[r] = ka[r - 1] + philox_detail::kWeyl0;
    kb[r] = kb[r - 1] + philox_detail::kWeyl1;
  }
  for (int i = 0; i < n; ++i) {
    uint64_t counter = firstBlock + uint64_t(i);
    uint32_t c0 = uint32_t(counter), c1 = uint32_t(counter >> 32), c2 = s0,
             c3 = s1;
    philoxRound(c0, c1, c2, c3, ka[0], kb[0]);
    philoxRound(c0, c1, c2, c3, ka[1], kb[1]);
    philoxRound(c0, c1, c2, c3, ka[2], kb[2]);
    philoxRound(c0, c1, c2, c3, ka[3], kb[3]);
    philoxRound(c0, c1, c2, c3, ka[4], kb[4]);
    philoxRound(c0, c1, c2, c3, ka[5], kb[5]);
    philoxRound(c0, c1, c2, c3, ka[6], kb[6]);
    philoxRound(c0, c1, c2, c3, ka[7], kb[7]);
    philoxRound(c0, c1, c2, c3, ka[8], kb[8]);
    philoxRound(c0, c1, c2, c3, ka[9], kb[9]);
    w0[i] = c0;
    w1[i] = c1;
    w2[i] = c2;
    w3[i] = c3;
  }
}

inline float bitsToFloat(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

inline uint32_t floatToBits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  return bits;
}

/// sqrt(x) for x >= 0 without a libm call (whose errno path would keep the
/// loop from vectorizing): the classic reciprocal square root estimate and
/// three Newton steps (relative error near float precision), times x.
DLC_NO_FP_CONTRACT_ATTRIBUTE inline float sqrtNonNegative(float x) {
  DLC_NO_FP_CONTRACT
  float y = bitsToFloat(0x5F3759DFu - (floatToBits(x) >> 1));
  float half = 0.5f * x;
  y = y * (1.5f - half * y * y);
  y = y * (1.5f - half * y * y);
  y = y * (1.5f - half * y * y);
  return x * y;
}

/// Box-Muller on word pairs: z0 = r cos(theta), z1 = r sin(theta) with
/// r = sqrt(-2 ln u), u = ((a >> 8) + 1) / 2^24 in (0, 1], and theta uniform
/// on the circle: quadrant from the top 2 bits of b, offset in
/// [-pi/4, pi/4) from its next 24. The logarithm and the sine and cosine
/// are Cephes's single-precision polynomials (about 1 ulp on these ranges),
/// written without branches or calls so the loop vectorizes.
DLC_VECTOR_CLONES DLC_NO_FP_CONTRACT_ATTRIBUTE void
boxMuller(const uint32_t *a, const uint32_t *b, float *z0, float *z1, int n) {
  DLC_NO_FP_CONTRACT
  const float ln2 = 0.693147180559945309f;
  const float quarterTurnPerUnit = 1.57079632679489662f / 16777216.0f;
  for (int i = 0; i < n; ++i) {
    // ln m for m = (a >> 8) + 1 in [1, 2^24], exact as a float.
    float m = static_cast<float>(static_cast<int32_t>((a[i] >> 8) + 1u));
    uint32_t bits = floatToBits(m);
    int32_t exponent = static_cast<int32_t>(bits >> 23) - 127;
    // m = 2^exponent * x with x in [sqrt(1/2), sqrt(2)).
    uint32_t mantissa = bits & 0x007FFFFFu;
    uint32_t high = mantissa > 0x003504F3u ? 1u : 0u; // 1.mantissa > sqrt(2)
    exponent += static_cast<int32_t>(high);
    float x = bitsToFloat(mantissa | (0x3F800000u - (high << 23)));
    float f = x - 1.0f;
    float f2 = f * f;
    float p = 7.0376836292e-2f;
    p = p * f - 1.1514610310e-1f;
    p = p * f + 1.1676998740e-1f;
    p = p * f - 1.2420140846e-1f;
    p = p * f + 1.4249322787e-1f;
    p = p * f - 1.6668057665e-1f;
    p = p * f + 2.0000714765e-1f;
    p = p * f - 2.4999993993e-1f;
    p = p * f + 3.3333331174e-1f;
    float lnX = f - 0.5f * f2 + f * f2 * p;
    // -ln u = 24 ln 2 - ln m >= 0: zero for m = 2^24 (exponent 24, f = 0),
    // else at least ln 2 - ln sqrt(2) (exponent <= 23) or ln 2^0 - ln x with
    // x < 1 (high), so no clamp is needed.
    float minusLnU = static_cast<float>(24 - exponent) * ln2 - lnX;
    float radius = sqrtNonNegative(2.0f * minusLnU);

    uint32_t quadrant = b[i] >> 30;
    float t =
        (static_cast<float>(static_cast<int32_t>((b[i] >> 6) & 0x00FFFFFFu)) -
         8388608.0f) *
        quarterTurnPerUnit; // [-pi/4, pi/4)
    float t2 = t * t;
    float sinT =
        ((-1.9515295891e-4f * t2 + 8.3321608736e-3f) * t2 - 1.6666654611e-1f) *
            t2 * t +
        t;
    float cosT = ((2.443315711809948e-5f * t2 - 1.388731625493765e-3f) * t2 +
                  4.166664568298827e-2f) *
                     t2 * t2 -
                 0.5f * t2 + 1.0f;
    // Rotate by quadrant * pi/2.
    // (cos, sin) of the angle: odd quadrants swap them, and the signs
    // follow the quadrant (bit operations keep the loop free of branches).
    uint32_t swap = 0u - (quadrant & 1u);
    uint32_t cosBits = floatToBits(cosT), sinBits = floatToBits(sinT);
    uint32_t c = (cosBits & ~swap) | (sinBits & swap);
    uint32_t s = (sinBits & ~swap) | (cosBits & swap);
    c ^= ((quadrant + 1u) & 2u) << 30;
    s ^= (quadrant & 2u) << 30;
    z0[i] = radius * bitsToFloat(c);
    z1[i] = radius * bitsToFloat(s);
  }
}

/// Normals for blocks [firstBlock, firstBlock + n), n <= kChunkBlocks, in
/// element order (block i lane l is out[4 i + l]).
void normalChunk(uint32_t k0, uint32_t k1, uint32_t s0, uint32_t s1,
                 uint64_t firstBlock, int n, float *out) {
  uint32_t w[4][kChunkBlocks] = {};
  float z[4][kChunkBlocks];
  philoxChunk(k0, k1, s0, s1, firstBlock, n, w[0], w[1], w[2], w[3]);
  boxMuller(w[0], w[1], z[0], z[1], n);
  boxMuller(w[2], w[3], z[2], z[3], n);
  for (int i = 0; i < n; ++i)
    for (int lane = 0; lane < 4; ++lane)
      out[4 * i + lane] = z[lane][i];
}

/// dst[i] = src[i] + stddev * normal(firstBlock * 4 + i) for i < count.
void addNoiseAligned(const float *src, float *dst, int64_t count, float stddev,
                     uint32_t k0, uint32_t k1, uint32_t s0, uint32_t s1,
                     uint64_t firstBlock) {
  float normals[4 * kChunkBlocks];
  for (int64_t done = 0; done < count; done += 4 * kChunkBlocks) {
    int64_t chunk = std::min<int64_t>(count - done, 4 * kChunkBlocks);
    int blocks = static_cast<int>((chunk + 3) / 4);
    normalChunk(k0, k1, s0, s1, firstBlock + uint64_t(done / 4), blocks,
                normals);
    for (int64_t i = 0; i < chunk; ++i)
      dst[done + i] = src[done + i] + stddev * normals[i];
  }
}

/// The values of one example and the 4-element blocks it spans.
uint64_t blocksFor(int64_t elements) {
  return (static_cast<uint64_t>(elements) + 3) / 4;
}

void addExampleNoise(const float *src, float *dst, int64_t elements,
                     float stddev, uint64_t seed, uint64_t stream,
                     uint64_t index) {
  addNoiseAligned(src, dst, elements, stddev, uint32_t(seed),
                  uint32_t(seed >> 32), uint32_t(stream),
                  uint32_t(stream >> 32), index * blocksFor(elements));
}

} // namespace

void fillStandardNormals(uint64_t seed, uint64_t stream, uint64_t firstElement,
                         int64_t count, float *out) {
  if (count <= 0 || !out)
    return;
  float normals[4 * kChunkBlocks];
  uint64_t block = firstElement / 4;
  unsigned skip = static_cast<unsigned>(firstElement % 4);
  int64_t done = 0;
  while (done < count) {
    int64_t wanted = std::min<int64_t>(count - done, 4 * kChunkBlocks - skip);
    int blocks = static_cast<int>((wanted + skip + 3) / 4);
    normalChunk(uint32_t(seed), uint32_t(seed >> 32), uint32_t(stream),
                uint32_t(stream >> 32), block, blocks, normals);
    std::memcpy(out + done, normals + skip, sizeof(float) * size_t(wanted));
    done += wanted;
    block += uint64_t(blocks);
    skip = 0;
  }
}

void applyGaussianNoise(const float *clean, float *noisy, int64_t count,
                        int64_t exampleElements, float stddev,
                        const AugmentKey &key, uint32_t slot) {
  if (count <= 0 || exampleElements <= 0 ||
      exampleElements > kMaxAugmentElements || !clean || !noisy)
    return;
  uint64_t stream = augmentStream(slot, key.epoch);
  for (int64_t j = 0; j < count; ++j)
    addExampleNoise(clean + j * exampleElements, noisy + j * exampleElements,
                    exampleElements, stddev, key.seed, stream, key.indexOf(j));
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

namespace {

bool isGeometric(const Augmentation &a) {
  return a.kind != Augmentation::Kind::GaussianNoise;
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

/// Checks one augmentation's own arguments.
bool checkArguments(const Augmentation &a, std::string &error) {
  std::string name = describeAugmentation(a);
  switch (a.kind) {
  case Augmentation::Kind::RandomFlip:
    if (a.flipMode != FlipMode::Horizontal &&
        a.flipMode != FlipMode::Vertical &&
        a.flipMode != FlipMode::HorizontalAndVertical) {
      error = "random_flip: unknown mode; expected horizontal, vertical or "
              "horizontal_and_vertical";
      return false;
    }
    return true;
  case Augmentation::Kind::RandomTranslate:
    if (a.pixels < 0 || a.pixels > kMaxAugmentExtent) {
      error = name + ": pixels must be in [0, " +
              std::to_string(kMaxAugmentExtent) + "]";
      return false;
    }
    return true;
  case Augmentation::Kind::RandomCrop:
    if (a.cropHeight < 1 || a.cropWidth < 1 ||
        a.cropHeight > kMaxAugmentExtent || a.cropWidth > kMaxAugmentExtent) {
      error = name + ": size must be positive";
      return false;
    }
    if (a.padding < 0 || a.padding > kMaxAugmentExtent) {
      error = name + ": padding must be in [0, " +
              std::to_string(kMaxAugmentExtent) + "]";
      return false;
    }
    return true;
  case Augmentation::Kind::GaussianNoise:
    if (!(a.stddev >= 0.0f) || !std::isfinite(a.stddev)) {
      error = name + ": stddev must be a finite number >= 0";
      return false;
    }
    return true;
  }
  error = "unknown augmentation kind";
  return false;
}

} // namespace

bool augmentedShape(const std::vector<Augmentation> &list,
                    const std::vector<int64_t> &exampleShape,
                    std::vector<int64_t> &out, std::string &error) {
  if (list.size() > kMaxAugmentations) {
    error = "augment: at most " + std::to_string(kMaxAugmentations) +
            " augmentations, got " + std::to_string(list.size());
    return false;
  }
  int64_t elements = 1;
  for (int64_t d : exampleShape) {
    if (d < 1 || d > kMaxAugmentExtent || elements > kMaxAugmentElements / d) {
      error = "augment: unsupported example shape " + shapeText(exampleShape) +
              "; every dimension must be positive and an example at most " +
              std::to_string(kMaxAugmentElements) + " values";
      return false;
    }
    elements *= d;
  }
  std::vector<int64_t> shape = exampleShape;
  for (const Augmentation &a : list) {
    if (!checkArguments(a, error))
      return false;
    if (!isGeometric(a))
      continue;
    if (shape.size() != 2 && shape.size() != 3) {
      error = describeAugmentation(a) +
              " needs image examples [H, W, C] or [H, W], got " +
              shapeText(shape);
      return false;
    }
    if (a.kind != Augmentation::Kind::RandomCrop)
      continue;
    int64_t paddedH = shape[0] + 2 * a.padding;
    int64_t paddedW = shape[1] + 2 * a.padding;
    if (a.cropHeight > paddedH || a.cropWidth > paddedW) {
      error = describeAugmentation(a) + ": the window " +
              std::to_string(a.cropHeight) + "x" + std::to_string(a.cropWidth) +
              " is larger than the image " + std::to_string(shape[0]) + "x" +
              std::to_string(shape[1]) + " padded to " +
              std::to_string(paddedH) + "x" + std::to_string(paddedW) +
              "; use a smaller size or more padding";
      return false;
    }
    shape[0] = a.cropHeight;
    shape[1] = a.cropWidth;
    int64_t size = shape[0] * shape[1];
    int64_t channels = shape.size() == 3 ? shape[2] : 1;
    if (size > kMaxAugmentElements / channels) {
      error = describeAugmentation(a) + ": the output " + shapeText(shape) +
              " is too large";
      return false;
    }
  }
  out = shape;
  return true;
}

//===----------------------------------------------------------------------===//
// Augmenter
//===----------------------------------------------------------------------===//

namespace {

/// Output coordinate o maps to source coordinate slope * o + offset, valid
/// for o in [lo, hi).
struct AxisMap {
  int64_t slope = 1, offset = 0, lo = 0, hi = 0;
};

/// Precomposes the stage map source = slope * c + offset (c: the stage's
/// output coordinate, valid when the source lies in [0, sourceSize)).
void compose(AxisMap &m, int64_t slope, int64_t offset, int64_t sourceSize) {
  int64_t newSlope = slope * m.slope;
  int64_t newOffset = slope * m.offset + offset;
  int64_t lo, hi;
  if (newSlope > 0) {
    lo = -newOffset;
    hi = sourceSize - newOffset;
  } else {
    lo = newOffset - sourceSize + 1;
    hi = newOffset + 1;
  }
  m.lo = std::max(m.lo, lo);
  m.hi = std::min(m.hi, hi);
  m.slope = newSlope;
  m.offset = newOffset;
}

/// An integer uniform in [0, n) from a random word (multiply-shift; the bias
/// is below n / 2^32).
int64_t uniformBelow(uint32_t word, uint64_t n) {
  return static_cast<int64_t>((uint64_t(word) * n) >> 32);
}

} // namespace

bool Augmenter::init(const std::vector<Augmentation> &list,
                     const std::vector<int64_t> &exampleShape,
                     std::string &error) {
  *this = Augmenter();
  std::vector<int64_t> outShape;
  if (!augmentedShape(list, exampleShape, outShape, error))
    return false;
  inputShape_ = exampleShape;
  outputShape_ = outShape;
  inputElements_ = 1;
  for (int64_t d : exampleShape)
    inputElements_ *= d;
  outputElements_ = 1;
  for (int64_t d : outShape)
    outputElements_ *= d;
  // Geometric stages need rank 2 or 3 (checked); noise-only lists treat the
  // example as one row of values.
  bool image = exampleShape.size() == 2 || exampleShape.size() == 3;
  channels_ = exampleShape.size() == 3 ? exampleShape[2] : 1;
  int64_t h = image ? exampleShape[0] : 1;
  int64_t w = image ? exampleShape[1] : inputElements_;
  size_t scratchSize = size_t(inputElements_);
  for (size_t i = 0; i < list.size(); ++i) {
    Stage stage;
    stage.augmentation = list[i];
    stage.slot = static_cast<uint32_t>(i);
    stage.inH = h;
    stage.inW = w;
    if (list[i].kind == Augmentation::Kind::RandomCrop) {
      h = list[i].cropHeight;
      w = list[i].cropWidth;
    }
    stage.outH = h;
    stage.outW = w;
    scratchSize = std::max(scratchSize, size_t(h * w * channels_));
    bool geometric = isGeometric(list[i]);
    if (!geometric || segments_.empty() || segments_.back().noise) {
      Segment segment;
      segment.noise = !geometric;
      segment.first = i;
      segment.inH = stage.inH;
      segment.inW = stage.inW;
      segments_.push_back(segment);
    }
    segments_.back().last = i + 1;
    segments_.back().outH = stage.outH;
    segments_.back().outW = stage.outW;
    stages_.push_back(stage);
  }
  if (!stages_.empty()) {
    scratch_[0].assign(scratchSize, 0.0f);
    scratch_[1].assign(scratchSize, 0.0f);
  }
  return true;
}

void Augmenter::gatherSegment(const Segment &segment, const float *src,
                              float *dst, uint64_t seed, uint64_t epoch,
                              uint64_t index, bool inference) const {
  AxisMap ys, xs;
  ys.hi = segment.outH;
  xs.hi = segment.outW;
  // Walk back from the last stage: each maps its output to its input.
  for (size_t s = segment.last; s-- > segment.first;) {
    const Stage &stage = stages_[s];
    const Augmentation &a = stage.augmentation;
    PhiloxBlock r = {{0, 0, 0, 0}};
    if (!inference)
      r = PhiloxStream(seed, augmentStream(stage.slot, epoch)).block(index);
    switch (a.kind) {
    case Augmentation::Kind::RandomFlip: {
      bool flipX = a.flipMode != FlipMode::Vertical && !inference &&
                   r.v[0] < 0x80000000u;
      bool flipY = a.flipMode != FlipMode::Horizontal && !inference &&
                   r.v[1] < 0x80000000u;
      compose(ys, flipY ? -1 : 1, flipY ? stage.inH - 1 : 0, stage.inH);
      compose(xs, flipX ? -1 : 1, flipX ? stage.inW - 1 : 0, stage.inW);
      break;
    }
    case Augmentation::Kind::RandomTranslate: {
      // Content moves by (dy, dx): out(y, x) = in(y - dy, x - dx), zero fill.
      uint64_t range = uint64_t(2 * a.pixels + 1);
      int64_t dy = inference ? 0 : uniformBelow(r.v[0], range) - a.pixels;
      int64_t dx = inference ? 0 : uniformBelow(r.v[1], range) - a.pixels;
      compose(ys, 1, -dy, stage.inH);
      compose(xs, 1, -dx, stage.inW);
      break;
    }
    case Augmentation::Kind::RandomCrop: {
      // A window at (oy, ox) of the padded image: in = out + o - padding.
      uint64_t rangeY = uint64_t(stage.inH + 2 * a.padding - stage.outH + 1);
      uint64_t rangeX = uint64_t(stage.inW + 2 * a.padding - stage.outW + 1);
      int64_t oy =
          inference ? int64_t(rangeY - 1) / 2 : uniformBelow(r.v[0], rangeY);
      int64_t ox =
          inference ? int64_t(rangeX - 1) / 2 : uniformBelow(r.v[1], rangeX);
      compose(ys, 1, oy - a.padding, stage.inH);
      compose(xs, 1, ox - a.padding, stage.inW);
      break;
    }
    case Augmentation::Kind::GaussianNoise:
      break;
    }
  }
  const int64_t c = channels_;
  const int64_t outRow = segment.outW * c;
  const int64_t inRow = segment.inW * c;
  int64_t xlo = std::clamp<int64_t>(xs.lo, 0, segment.outW);
  int64_t xhi = std::clamp<int64_t>(xs.hi, xlo, segment.outW);
  for (int64_t y = 0; y < segment.outH; ++y) {
    float *d = dst + y * outRow;
    if (y < ys.lo || y >= ys.hi || xlo == xhi) {
      std::fill(d, d + outRow, 0.0f);
      continue;
    }
    const float *row = src + (ys.slope * y + ys.offset) * inRow;
    std::fill(d, d + xlo * c, 0.0f);
    std::fill(d + xhi * c, d + outRow, 0.0f);
    if (xs.slope > 0) {
      std::memcpy(d + xlo * c, row + (xlo + xs.offset) * c,
                  sizeof(float) * size_t((xhi - xlo) * c));
    } else if (c == 1) {
      const float *s = row + xs.offset;
      for (int64_t x = xlo; x < xhi; ++x)
        d[x] = s[-x];
    } else {
      for (int64_t x = xlo; x < xhi; ++x) {
        const float *s = row + (xs.offset - x) * c;
        for (int64_t k = 0; k < c; ++k)
          d[x * c + k] = s[k];
      }
    }
  }
}

void Augmenter::run(const float *in, float *out, int64_t count,
                    const AugmentKey &key, bool inference) {
  if (count <= 0 || !in || !out)
    return;
  for (int64_t j = 0; j < count; ++j) {
    const float *src = in + j * inputElements_;
    float *dst = out + j * outputElements_;
    uint64_t index = key.indexOf(j);
    const float *current = src;
    int which = 0;
    for (size_t s = 0; s < segments_.size(); ++s) {
      const Segment &segment = segments_[s];
      bool lastSegment = s + 1 == segments_.size();
      int64_t elements = segment.outH * segment.outW * channels_;
      float *target = lastSegment ? dst : scratch_[which].data();
      if (segment.noise) {
        const Augmentation &a = stages_[segment.first].augmentation;
        if (!inference)
          addExampleNoise(current, target, elements, a.stddev, key.seed,
                          augmentStream(stages_[segment.first].slot, key.epoch),
                          index);
        else if (target != current)
          std::memcpy(target, current, sizeof(float) * size_t(elements));
      } else if (target == current) {
        // In place (in == out): gather through scratch.
        float *tmp = scratch_[which].data();
        gatherSegment(segment, current, tmp, key.seed, key.epoch, index,
                      inference);
        std::memcpy(target, tmp, sizeof(float) * size_t(elements));
      } else {
        gatherSegment(segment, current, target, key.seed, key.epoch, index,
                      inference);
      }
      if (target == scratch_[which].data())
        which ^= 1;
      current = target;
    }
    if (segments_.empty() && dst != src)
      std::memcpy(dst, src, sizeof(float) * size_t(inputElements_));
  }
}

void Augmenter::apply(const float *in, float *out, int64_t count,
                      const AugmentKey &key) {
  run(in, out, count, key, /*inference=*/false);
}

void Augmenter::applyInference(const float *in, float *out, int64_t count) {
  run(in, out, count, AugmentKey(), /*inference=*/true);
}

} // namespace dlc::rt
