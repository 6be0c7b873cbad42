//===- Philox.h - counter-based random numbers for CPU and GPU ------------===//
//
// Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as
// easy as 1, 2, 3", SC'11), bit-identical to Random123's philox4x32_10.
// A counter-based generator has no sequential state: the random words for
// element i are a pure function of (seed, stream, i). Dropout masks and noise
// therefore do not depend on the thread count, the tiling, or whether the
// kernel runs on the CPU or a GPU.
//
// Header-only; every function is usable from CUDA device code
// (DLC_HOST_DEVICE) and uses no std:: facility on those paths.
//
//   dlc::rt::PhiloxStream rng(seed, /*stream=*/layerId);
//   bool keep = dlc::rt::uniformFloat(rng.at(i)) < keepProbability;
//
// Integer-to-float conversions (uniformFloat, uniformDouble) are exact, so
// they agree bit for bit across devices. The normal variates go through
// logf/sqrtf/cosf, which may differ by an ulp between libm and CUDA.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_PHILOX_H
#define DLC_RUNTIME_PHILOX_H

#include <math.h>
#include <stdint.h>

#if defined(__CUDACC__)
#define DLC_HOST_DEVICE __host__ __device__
#else
#define DLC_HOST_DEVICE
#endif

namespace dlc {
namespace rt {

/// Four 32-bit random words: one Philox block.
struct PhiloxBlock {
  uint32_t v[4];
};

namespace philox_detail {
constexpr uint32_t kMultiplier0 = 0xD2511F53u;
constexpr uint32_t kMultiplier1 = 0xCD9E8D57u;
constexpr uint32_t kWeyl0 = 0x9E3779B9u;
constexpr uint32_t kWeyl1 = 0xBB67AE85u;

/// The high and low halves of the 64-bit product a * b.
DLC_HOST_DEVICE inline void mulHiLo(uint32_t a, uint32_t b, uint32_t &hi,
                                    uint32_t &lo) {
  uint64_t product = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  hi = static_cast<uint32_t>(product >> 32);
  lo = static_cast<uint32_t>(product);
}

/// One Philox S-P round on counter `c` with round key (k0, k1).
DLC_HOST_DEVICE inline void philoxRound(uint32_t c[4], uint32_t k0,
                                        uint32_t k1) {
  uint32_t hi0, lo0, hi1, lo1;
  mulHiLo(kMultiplier0, c[0], hi0, lo0);
  mulHiLo(kMultiplier1, c[2], hi1, lo1);
  uint32_t out0 = hi1 ^ c[1] ^ k0;
  uint32_t out2 = hi0 ^ c[3] ^ k1;
  c[0] = out0;
  c[1] = lo1;
  c[2] = out2;
  c[3] = lo0;
}
} // namespace philox_detail

/// Philox4x32 with 10 rounds: encrypts `counter` under `key`.
DLC_HOST_DEVICE inline PhiloxBlock philox4x32(const uint32_t counter[4],
                                              const uint32_t key[2]) {
  uint32_t c[4] = {counter[0], counter[1], counter[2], counter[3]};
  uint32_t k0 = key[0], k1 = key[1];
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k0 += philox_detail::kWeyl0;
      k1 += philox_detail::kWeyl1;
    }
    philox_detail::philoxRound(c, k0, k1);
  }
  PhiloxBlock out;
  for (int i = 0; i < 4; ++i)
    out.v[i] = c[i];
  return out;
}

/// A uniform float in [0, 1) from the top 24 bits of `x`; exact multiples of
/// 2^-24, so the same word gives the same float on every device.
DLC_HOST_DEVICE inline float uniformFloat(uint32_t x) {
  return static_cast<float>(x >> 8) * (1.0f / 16777216.0f);
}

/// A uniform double in [0, 1) with 53 random bits taken from two words.
DLC_HOST_DEVICE inline double uniformDouble(uint32_t hi, uint32_t lo) {
  uint64_t bits = (static_cast<uint64_t>(hi) << 32) | lo;
  return static_cast<double>(bits >> 11) * (1.0 / 9007199254740992.0);
}

/// A uniform float in (0, 1]: never zero, safe to take the logarithm of.
DLC_HOST_DEVICE inline float uniformFloatNonZero(uint32_t x) {
  return static_cast<float>((x >> 8) + 1u) * (1.0f / 16777216.0f);
}

/// Two independent standard normal variates from two random words
/// (Box-Muller).
DLC_HOST_DEVICE inline void normalPair(uint32_t a, uint32_t b, float &z0,
                                       float &z1) {
  const float twoPi = 6.28318530717958647692f;
  float radius = sqrtf(-2.0f * logf(uniformFloatNonZero(a)));
  float angle = twoPi * uniformFloat(b);
  z0 = radius * cosf(angle);
  z1 = radius * sinf(angle);
}

/// Double-precision Box-Muller from four random words (53 bits each).
DLC_HOST_DEVICE inline void normalPairDouble(const PhiloxBlock &block,
                                             double &z0, double &z1) {
  const double twoPi = 6.28318530717958647692;
  // 1 - u maps [0, 1) onto (0, 1].
  double u = 1.0 - uniformDouble(block.v[0], block.v[1]);
  double radius = sqrt(-2.0 * log(u));
  double angle = twoPi * uniformDouble(block.v[2], block.v[3]);
  z0 = radius * cos(angle);
  z1 = radius * sin(angle);
}

/// An addressable random sequence: the 64-bit seed is the key, the stream id
/// and the element index form the counter. Different streams (say, one per
/// dropout layer and epoch) are independent; `at(i)` is the i-th word of the
/// stream, whatever thread asks for it.
class PhiloxStream {
public:
  DLC_HOST_DEVICE PhiloxStream(uint64_t seed, uint64_t stream)
      : key_{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)},
        stream_(stream) {}

  /// The block of four words with index `blockIndex`.
  DLC_HOST_DEVICE PhiloxBlock block(uint64_t blockIndex) const {
    uint32_t counter[4] = {static_cast<uint32_t>(blockIndex),
                           static_cast<uint32_t>(blockIndex >> 32),
                           static_cast<uint32_t>(stream_),
                           static_cast<uint32_t>(stream_ >> 32)};
    return philox4x32(counter, key_);
  }

  /// The random word for element `index` (word index % 4 of block index / 4).
  DLC_HOST_DEVICE uint32_t at(uint64_t index) const {
    return block(index >> 2).v[index & 3];
  }

  /// A uniform float in [0, 1) for element `index`.
  DLC_HOST_DEVICE float uniformAt(uint64_t index) const {
    return uniformFloat(at(index));
  }

  /// A standard normal float for element `index`: block index / 4 yields
  /// four normals (two Box-Muller pairs), of which this is number index % 4.
  DLC_HOST_DEVICE float normalAt(uint64_t index) const {
    PhiloxBlock b = block(index >> 2);
    unsigned lane = static_cast<unsigned>(index & 3);
    float z0, z1;
    normalPair(b.v[lane & 2u], b.v[(lane & 2u) + 1u], z0, z1);
    return (lane & 1u) ? z1 : z0;
  }

  DLC_HOST_DEVICE uint64_t seed() const {
    return static_cast<uint64_t>(key_[0]) |
           (static_cast<uint64_t>(key_[1]) << 32);
  }
  DLC_HOST_DEVICE uint64_t stream() const { return stream_; }

private:
  uint32_t key_[2];
  uint64_t stream_;
};

} // namespace rt
} // namespace dlc

#endif // DLC_RUNTIME_PHILOX_H
