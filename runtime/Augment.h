//===- Augment.h - random image augmentation and input noise --------------===//
//
// The train section's `augment = [...]` list and its `input_noise`, applied by
// the runtime to each training batch of channels-last images [N, H, W, C]:
//
//   random_flip(mode)          mirror left-right and/or top-bottom, each with
//                              probability 0.5 (Keras RandomFlip)
//   random_translate(pixels)   shift by integers dy, dx uniform in
//                              [-pixels, pixels], filling with zeros (Keras
//                              RandomTranslation, fill_mode="constant",
//                              fill_value=0, whole-pixel offsets)
//   random_crop(size, padding) zero-pad by `padding` on every side, then take
//                              a random size[0] x size[1] window (the usual
//                              CIFAR-style crop; the output is size[0] x
//                              size[1])
//   gaussian_noise(stddev)     add N(0, stddev^2) to every value
//
// Randomness is counter-based (Philox, runtime/Philox.h): each decision for
// one example is a pure function of (seed, the augmentation's position in the
// list, epoch, the example's global index within the epoch). A batch of 8
// gives the same images as two batches of 4 with the right indices, whatever
// the thread count, and a resumed run repeats an uninterrupted one.
//
//   dlc::rt::Augmenter aug;
//   if (!aug.init({Augmentation::randomFlip(FlipMode::Horizontal),
//                  Augmentation::randomCrop(28, 28, 2)}, {28, 28, 1}, error))
//     ...
//   aug.apply(batch, augmented, n, {seed, epoch, step * batchSize});
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_AUGMENT_H
#define DLC_RUNTIME_AUGMENT_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dlc::rt {

/// Which axes random_flip may mirror.
enum class FlipMode { Horizontal, Vertical, HorizontalAndVertical };

/// One augmentation as written in a train section; the generated program
/// fills it from the parsed `augment` list (or `input_noise`).
struct Augmentation {
  enum class Kind { RandomFlip, RandomTranslate, RandomCrop, GaussianNoise };
  Kind kind = Kind::GaussianNoise;
  /// random_flip: the axes.
  FlipMode flipMode = FlipMode::Horizontal;
  /// random_translate: the largest shift, in pixels, along each axis.
  int64_t pixels = 0;
  /// random_crop: the output size (size[0] x size[1]) and the zero padding
  /// added on each side before cropping.
  int64_t cropHeight = 0;
  int64_t cropWidth = 0;
  int64_t padding = 0;
  /// gaussian_noise: the standard deviation.
  float stddev = 0;

  static Augmentation randomFlip(FlipMode mode);
  static Augmentation randomTranslate(int64_t pixels);
  static Augmentation randomCrop(int64_t height, int64_t width,
                                 int64_t padding = 0);
  static Augmentation gaussianNoise(float stddev);
};

/// "random_crop(size=[24, 24], padding=2)", for messages.
std::string describeAugmentation(const Augmentation &augmentation);

/// Which random numbers a batch uses.
struct AugmentKey {
  /// The train section's seed (the Philox key).
  uint64_t seed = 0;
  /// The epoch, from 0 (only its low 32 bits matter).
  uint64_t epoch = 0;
  /// The global index, within the epoch, of the batch's first example
  /// (step * batch size); example j of the batch uses firstExample + j.
  uint64_t firstExample = 0;
  /// When set, example j uses exampleIndices[j] instead (count entries).
  const uint64_t *exampleIndices = nullptr;

  uint64_t indexOf(int64_t j) const {
    return exampleIndices ? exampleIndices[j]
                          : firstExample + static_cast<uint64_t>(j);
  }
};

/// Philox stream ids with these top 16 bits are reserved for augmentation;
/// other users of the seed (dropout) must pick stream ids outside the range.
constexpr uint64_t kAugmentStreamTag = uint64_t(0xA06D) << 48;
/// The slot of `input_noise`; augment list entries use their position.
constexpr uint32_t kInputNoiseSlot = 0xFFFF;
/// The most entries an augment list may have.
constexpr size_t kMaxAugmentations = 0xFFFF;
/// The largest image (values per example), dimension, shift or padding.
constexpr int64_t kMaxAugmentElements = int64_t(1) << 31;
constexpr int64_t kMaxAugmentExtent = int64_t(1) << 30;

/// The Philox stream of augmentation `slot` in `epoch`.
constexpr uint64_t augmentStream(uint32_t slot, uint64_t epoch) {
  return kAugmentStreamTag | (uint64_t(slot & 0xFFFF) << 32) |
         (epoch & 0xFFFFFFFFu);
}

/// The shape of one example after `list`, given its shape before, e.g.
/// [28, 28, 1] -> [24, 24, 1] for random_crop(size=[24, 24]). Flips,
/// translations and crops need images: [H, W, C] or [H, W]; noise takes any
/// shape. False with a message when the list cannot apply (a crop larger than
/// the padded image, a negative count, a non-finite stddev, ...).
bool augmentedShape(const std::vector<Augmentation> &list,
                    const std::vector<int64_t> &exampleShape,
                    std::vector<int64_t> &out, std::string &error);

/// Writes `count` standard normal floats for elements firstElement,
/// firstElement + 1, ... of Philox stream (seed, stream): element e comes
/// from block e / 4, lane e % 4 (two Box-Muller pairs per block). Uses its
/// own vectorizable log/sin/cos, so it is exact-repeatable and independent of
/// libm, but not bit-equal to PhiloxStream::normalAt.
void fillStandardNormals(uint64_t seed, uint64_t stream, uint64_t firstElement,
                         int64_t count, float *out);

/// noisy = clean + stddev * N(0, 1) for `count` examples of `exampleElements`
/// values each; example j draws from (key.seed, augmentStream(slot,
/// key.epoch)) at elements [index * E4, index * E4 + exampleElements), with
/// index = key.indexOf(j) and E4 = exampleElements rounded up to a multiple
/// of 4 (whole Philox blocks per example). `clean` is left untouched
/// (input_noise keeps the clean input as the target); `noisy` may equal
/// `clean`. Does nothing when a count is not positive or exampleElements
/// exceeds kMaxAugmentElements.
void applyGaussianNoise(const float *clean, float *noisy, int64_t count,
                        int64_t exampleElements, float stddev,
                        const AugmentKey &key, uint32_t slot = kInputNoiseSlot);

/// A validated augment list for one example shape, ready to apply to
/// batches. Keeps scratch memory: use one Augmenter per thread.
class Augmenter {
public:
  /// Validates `list` for examples of `exampleShape`; false with a message
  /// (see augmentedShape) otherwise, leaving the Augmenter empty.
  bool init(const std::vector<Augmentation> &list,
            const std::vector<int64_t> &exampleShape, std::string &error);

  /// True when there is nothing to do (an empty list).
  bool empty() const { return stages_.empty(); }
  const std::vector<int64_t> &inputShape() const { return inputShape_; }
  const std::vector<int64_t> &outputShape() const { return outputShape_; }
  int64_t inputElements() const { return inputElements_; }
  int64_t outputElements() const { return outputElements_; }

  /// Training: transforms `count` examples from `in` (inputShape each) into
  /// `out` (outputShape each), in list order. `in` and `out` may be the same
  /// buffer when the shapes are equal; otherwise they must not overlap.
  void apply(const float *in, float *out, int64_t count, const AugmentKey &key);

  /// Validation, test and predict: no randomness; only crops act, taking the
  /// centered window, so the model sees outputShape. Same aliasing rule.
  void applyInference(const float *in, float *out, int64_t count);

private:
  struct Stage {
    Augmentation augmentation;
    uint32_t slot = 0;
    int64_t inH = 0, inW = 0, outH = 0, outW = 0;
  };
  /// A run of geometric stages (one gather) or one noise stage.
  struct Segment {
    bool noise = false;
    size_t first = 0, last = 0; // stage range [first, last)
    int64_t inH = 0, inW = 0, outH = 0, outW = 0;
  };
  void run(const float *in, float *out, int64_t count, const AugmentKey &key,
           bool inference);
  void gatherSegment(const Segment &segment, const float *src, float *dst,
                     uint64_t seed, uint64_t epoch, uint64_t index,
                     bool inference) const;

  std::vector<Stage> stages_;
  std::vector<Segment> segments_;
  std::vector<int64_t> inputShape_, outputShape_;
  int64_t inputElements_ = 0, outputElements_ = 0;
  int64_t channels_ = 1;
  std::vector<float> scratch_[2];
};

} // namespace dlc::rt

#endif // DLC_RUNTIME_AUGMENT_H
