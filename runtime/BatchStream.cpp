//===- BatchStream.cpp - batches in the model's layout, prefetched --------===//

#include "runtime/BatchStream.h"

#include "runtime/ModelState.h"

#include <cmath>
#include <cstring>

namespace dlc::rt {

namespace {

/// "f32[28, 28, 1]" of a data spec.
std::string typeText(const DataSpec &data) {
  std::string text = data.dtype == DType::I32
                         ? "i32"
                         : (data.dtype == DType::F64 ? "f64" : "f32");
  return text + "[" + joinDims(data.shape, ", ") + "]";
}

std::string shapeText(const std::vector<int64_t> &shape) {
  return "[" + joinDims(shape, ", ") + "]";
}

/// The classes of a model output: its last dimension (1 for a scalar).
int64_t outputUnits(const DataSpec &output) {
  return output.shape.empty() ? 1 : output.shape.back();
}

/// Writes `value` as element `i` of a T buffer.
void storeReal(unsigned char *buffer, int elementBytes, int64_t i,
               double value) {
  if (elementBytes == 8) {
    std::memcpy(buffer + 8 * i, &value, 8);
  } else {
    float f = static_cast<float>(value);
    std::memcpy(buffer + 4 * i, &f, 4);
  }
}

} // namespace

bool makeBatchFormat(const ModelSpec &spec,
                     const std::vector<int64_t> &exampleShape, bool pairs,
                     const std::vector<Augmentation> &augment,
                     BatchFormat &format, std::string &error) {
  BatchFormat f;
  f.elementBytes = spec.elementBytes;
  f.pairs = pairs;
  f.inputs = pairs ? 2 : 1;
  f.sourceShape = exampleShape;
  if (!augmentedShape(augment, exampleShape, f.modelShape, error))
    return false;
  if (!exampleElements(f.sourceShape, f.sourceElements) ||
      !exampleElements(f.modelShape, f.modelElements)) {
    error = "the data's examples of shape " + shapeText(exampleShape) +
            " are too large";
    return false;
  }
  if (spec.inputs.size() != f.inputs) {
    error = pairs ? "pairs(...) gives two examples per pair (left, right), "
                    "but the model '" +
                        spec.modelName + "' has " +
                        std::to_string(spec.inputs.size()) + " input(s)"
                  : "the data source gives one example per step, but the "
                    "model '" +
                        spec.modelName + "' has " +
                        std::to_string(spec.inputs.size()) +
                        " inputs\nhint: a model of two inputs trains on "
                        "pairs(source)";
    return false;
  }
  for (const DataSpec &input : spec.inputs) {
    f.inputDtypes.push_back(input.dtype);
    int64_t elements = 0;
    exampleElements(input.shape, elements);
    if (elements != f.modelElements) {
      error = "the model's input '" + input.name + "' is " + typeText(input) +
              " (" + std::to_string(elements) +
              " values per example) but the data's examples are " +
              shapeText(f.modelShape) + " (" + std::to_string(f.modelElements) +
              " values)";
      if (f.modelShape != f.sourceShape)
        error += " after augmentation of " + shapeText(f.sourceShape);
      return false;
    }
  }
  for (size_t i = 0; i < spec.targets.size(); ++i) {
    const TargetSpec &t = spec.targets[i];
    BatchFormat::Target target;
    target.dtype = t.data.dtype;
    exampleElements(t.data.shape, target.elements);
    std::string name = "target " + std::to_string(i) + " ('" + t.data.name +
                       "', " + typeText(t.data) + ")";
    if (t.copiesInput >= 0) {
      target.fill = TargetFill::CopyInput;
      target.input = size_t(t.copiesInput);
      if (t.data.dtype == DType::I32 || target.elements != f.modelElements) {
        error = name + " copies input " + std::to_string(t.copiesInput) +
                " but does not have its " + std::to_string(f.modelElements) +
                " float values per example";
        return false;
      }
    } else if (t.data.dtype == DType::I32) {
      target.fill = TargetFill::Label;
      if (target.elements != 1) {
        error = name + " needs " + std::to_string(target.elements) +
                " integers per example, but the data gives one class label";
        return false;
      }
    } else if (target.elements == 1) {
      target.fill = TargetFill::FloatLabel;
    } else if (!pairs && t.data.shape.size() == 1) {
      target.fill = TargetFill::OneHot;
    } else {
      error = name + " needs " + std::to_string(target.elements) +
              " values per example, but the data gives one " +
              (pairs ? "pair label" : "class label");
      return false;
    }
    f.targets.push_back(target);
  }
  format = std::move(f);
  return true;
}

bool checkLabels(const Dataset &data, const BatchFormat &format,
                 const ModelSpec &spec, std::string &error) {
  if (format.pairs)
    return true; // pair labels are 0 or 1
  for (size_t t = 0; t < format.targets.size(); ++t) {
    const BatchFormat::Target &target = format.targets[t];
    int64_t classes = 0;
    if (target.fill == TargetFill::OneHot)
      classes = target.elements;
    else if (target.fill == TargetFill::Label && t < spec.outputs.size() &&
             outputUnits(spec.outputs[t]) > 1)
      classes = outputUnits(spec.outputs[t]);
    if (classes == 0)
      continue;
    for (size_t e = 0; e < data.labels.size(); ++e)
      if (data.labels[e] < 0 || data.labels[e] >= classes) {
        error = formatLoadError(
            data.source,
            "example " + std::to_string(e) + " has label " +
                std::to_string(data.labels[e]) + ", but the model's output " +
                (t < spec.outputs.size() ? "'" + spec.outputs[t].name + "' "
                                         : std::string()) +
                "has " + std::to_string(classes) + " classes",
            "labels must lie in 0.." + std::to_string(classes - 1));
        return false;
      }
  }
  return true;
}

size_t modelInputBytes(const ModelBatch &batch, size_t input) {
  if (input >= batch.inputs.size())
    return 0;
  bool compact = input < batch.byteValues.size() && batch.byteValues[input];
  return batch.inputs[input].size() * (compact ? sizeof(float) : 1);
}

void writeModelInput(const ModelBatch &batch, size_t input, void *out) {
  if (input >= batch.inputs.size())
    return;
  const std::vector<unsigned char> &in = batch.inputs[input];
  const float *values =
      input < batch.byteValues.size() ? batch.byteValues[input] : nullptr;
  if (!values) {
    if (!in.empty())
      std::memcpy(out, in.data(), in.size());
    return;
  }
  float *dst = static_cast<float *>(out);
  for (size_t i = 0; i < in.size(); ++i)
    dst[i] = values[in[i]];
}

void copyBatchToModel(const ModelBatch &batch, CompiledModel &model) {
  for (size_t i = 0; i < batch.inputs.size(); ++i)
    writeModelInput(batch, i, model.inputBuffer(i));
  for (size_t i = 0; i < batch.targets.size(); ++i)
    std::memcpy(model.targetBuffer(i), batch.targets[i].data(),
                batch.targets[i].size());
}

bool BatchStream::init(const Dataset &data, const BatchFormat &format,
                       const StreamOptions &options, std::string &error) {
  stop();
  data_ = &data;
  format_ = &format;
  options_ = options;
  bool shuffle = options.training;
  if (format.pairs) {
    if (!pairs_.init(data, options.batchSize, options.seed,
                     options.balancedPairs, shuffle, error))
      return false;
  } else if (!batcher_.init(data, options.batchSize, options.seed, shuffle,
                            error)) {
    return false;
  }
  if (!augmenter_.init(options.augment, format.sourceShape, error))
    return false;
  nextStep_ = 0;
  synchronousDone_ = true;
  return true;
}

int64_t BatchStream::steps() const {
  return format_ && format_->pairs ? pairs_.steps() : batcher_.steps();
}

int64_t BatchStream::count() const {
  return format_ && format_->pairs ? pairs_.count() : batcher_.count();
}

void BatchStream::start(uint64_t epoch, int64_t firstStep) {
  stop();
  epoch_ = epoch;
  if (format_->pairs)
    pairs_.setEpoch(epoch);
  else
    batcher_.setEpoch(epoch);
  int64_t end = steps();
  int64_t first = firstStep < 0 ? 0 : (firstStep > end ? end : firstStep);
  if (!options_.prefetch) {
    nextStep_ = first;
    synchronousDone_ = false;
    return;
  }
  thread_ = std::make_unique<PrefetchThread>();
  thread_->start(first, end, [this](int64_t step, int slot) {
    produce(step, slots_[slot]);
  });
}

const ModelBatch *BatchStream::next() {
  if (!thread_) {
    if (synchronousDone_ || nextStep_ >= steps()) {
      synchronousDone_ = true;
      return nullptr;
    }
    produce(nextStep_++, current_);
    return &current_;
  }
  int64_t step;
  int slot;
  if (!thread_->next(step, slot))
    return nullptr;
  return &slots_[slot];
}

void BatchStream::stop() {
  if (thread_) {
    thread_->stop();
    thread_.reset();
  }
  synchronousDone_ = true;
  releaseBuffers();
}

void BatchStream::releaseBuffers() {
  for (ModelBatch &slot : slots_)
    slot = ModelBatch();
  current_ = ModelBatch();
  for (std::vector<float> &buffer : raw_)
    std::vector<float>().swap(buffer);
  for (std::vector<float> &buffer : clean_)
    std::vector<float>().swap(buffer);
  std::vector<float>().swap(noisy_);
  std::vector<int32_t>().swap(labels_);
  std::vector<float>().swap(pairLabels_);
}

bool BatchStream::gathersBytes() const {
  if (!data_->holdsBytes() || format_->pairs || format_->inputs != 1 ||
      !gathersDirectly(0))
    return false;
  for (const BatchFormat::Target &target : format_->targets)
    if (target.fill == TargetFill::CopyInput)
      return false;
  return true;
}

bool BatchStream::gathersDirectly(size_t k) const {
  return format_->elementBytes == 4 && k < format_->inputDtypes.size() &&
         format_->inputDtypes[k] == DType::F32 && augmenter_.empty() &&
         !(options_.training && options_.inputNoise);
}

void BatchStream::convertInput(const float *values, int64_t count,
                               std::vector<unsigned char> &out,
                               DType dtype) const {
  if (dtype == DType::I32) {
    // Token ids from float features: rounded, clamped to int32.
    out.resize(size_t(count) * 4);
    for (int64_t i = 0; i < count; ++i) {
      double v = std::isfinite(values[i]) ? std::nearbyint(values[i]) : 0.0;
      v = v < -2147483648.0 ? -2147483648.0
                            : (v > 2147483647.0 ? 2147483647.0 : v);
      int32_t id = static_cast<int32_t>(v);
      std::memcpy(out.data() + 4 * i, &id, 4);
    }
    return;
  }
  out.resize(size_t(count) * size_t(format_->elementBytes));
  if (format_->elementBytes == 4) {
    std::memcpy(out.data(), values, size_t(count) * 4);
    return;
  }
  for (int64_t i = 0; i < count; ++i)
    storeReal(out.data(), 8, i, values[i]);
}

void BatchStream::produce(int64_t step, ModelBatch &batch) {
  const BatchFormat &f = *format_;
  int64_t n = f.pairs ? pairs_.batchSizeAt(step) : batcher_.batchSizeAt(step);
  batch.epoch = epoch_;
  batch.step = step;
  batch.size = n;
  batch.inputs.resize(f.inputs);
  batch.targets.resize(f.targets.size());
  size_t sourceValues = size_t(n) * size_t(f.sourceElements);
  size_t modelValues = size_t(n) * size_t(f.modelElements);
  labels_.resize(size_t(n));
  batch.byteValues.assign(f.inputs, nullptr);
  if (gathersBytes()) {
    // The examples' bytes as they are; writeModelInput makes them float.
    batch.inputs[0].resize(sourceValues);
    batcher_.fillBytes(step, batch.inputs[0].data(), labels_.data());
    batch.byteValues[0] = data_->bytes.values.data();
    fillTargets(n, labels_.data(), nullptr, nullptr, batch);
    return;
  }
  // Where each input's examples are gathered: straight into the batch when
  // nothing transforms them, else into float scratch first.
  float *gathered[2] = {nullptr, nullptr};
  for (size_t k = 0; k < f.inputs && k < 2; ++k) {
    if (gathersDirectly(k)) {
      batch.inputs[k].resize(sourceValues * sizeof(float));
      gathered[k] = reinterpret_cast<float *>(batch.inputs[k].data());
    } else {
      raw_[k].resize(sourceValues);
      gathered[k] = raw_[k].data();
    }
  }
  if (f.pairs) {
    pairLabels_.resize(size_t(n));
    pairs_.fill(step, gathered[0], gathered[1], pairLabels_.data());
    for (int64_t i = 0; i < n; ++i)
      labels_[i] = pairLabels_[i] > 0.5f ? 1 : 0;
  } else {
    batcher_.fill(step, gathered[0], labels_.data());
  }

  int64_t position = step * options_.batchSize;
  const float *clean[2] = {gathered[0], gathered[1]};
  for (size_t k = 0; k < f.inputs; ++k) {
    if (gathersDirectly(k))
      continue; // Already the model's input.
    AugmentKey key;
    key.seed = options_.seed;
    key.epoch = epoch_;
    // The right-hand examples of pairs draw from positions after the left.
    key.firstExample = uint64_t(position) + (k == 1 ? uint64_t(count()) : 0);
    if (!augmenter_.empty()) {
      clean_[k].resize(modelValues);
      if (options_.training)
        augmenter_.apply(gathered[k], clean_[k].data(), n, key);
      else
        augmenter_.applyInference(gathered[k], clean_[k].data(), n);
      clean[k] = clean_[k].data();
    }
    if (options_.training && options_.inputNoise) {
      noisy_.resize(modelValues);
      applyGaussianNoise(clean[k], noisy_.data(), n, f.modelElements,
                         options_.inputNoise->stddev, key);
      convertInput(noisy_.data(), int64_t(modelValues), batch.inputs[k],
                   f.inputDtypes[k]);
    } else {
      convertInput(clean[k], int64_t(modelValues), batch.inputs[k],
                   f.inputDtypes[k]);
    }
  }
  fillTargets(n, labels_.data(), f.pairs ? pairLabels_.data() : nullptr, clean,
              batch);
}

void BatchStream::fillTargets(int64_t n, const int32_t *labels,
                              const float *floatLabels,
                              const float *const *clean,
                              ModelBatch &batch) const {
  const BatchFormat &f = *format_;
  for (size_t t = 0; t < f.targets.size(); ++t) {
    const BatchFormat::Target &target = f.targets[t];
    std::vector<unsigned char> &out = batch.targets[t];
    switch (target.fill) {
    case TargetFill::Label:
      out.resize(size_t(n) * 4);
      std::memcpy(out.data(), labels, size_t(n) * 4);
      break;
    case TargetFill::FloatLabel:
      out.resize(size_t(n) * size_t(f.elementBytes));
      for (int64_t i = 0; i < n; ++i)
        storeReal(out.data(), f.elementBytes, i,
                  floatLabels ? double(floatLabels[i]) : double(labels[i]));
      break;
    case TargetFill::OneHot:
      out.assign(size_t(n) * size_t(target.elements) * size_t(f.elementBytes),
                 0);
      for (int64_t i = 0; i < n; ++i)
        if (labels[i] >= 0 && labels[i] < target.elements)
          storeReal(out.data(), f.elementBytes, i * target.elements + labels[i],
                    1.0);
      break;
    case TargetFill::CopyInput:
      if (!clean) { // never asked for: compact batches have no such target
        out.clear();
        break;
      }
      convertInput(clean[target.input < f.inputs ? target.input : 0],
                   n * f.modelElements, out, DType::F32);
      break;
    }
  }
}

} // namespace dlc::rt
