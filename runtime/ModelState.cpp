//===- ModelState.cpp - a compiled model's arena and persistent tensors ---===//

#include "runtime/ModelState.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

namespace dlc::rt {

namespace {

constexpr int64_t kMaxExampleElements = int64_t(1) << 40;
constexpr size_t kArenaAlignment = 64;

/// "[3, 3, 1, 16]".
std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

/// FNV-1a over `text`, continuing from `hash`.
uint64_t fnv1a(uint64_t hash, const std::string &text) {
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

bool checkDataSpecs(const std::vector<DataSpec> &specs, const char *what,
                    std::string &error) {
  for (const DataSpec &data : specs) {
    int64_t elements = 0;
    if (!exampleElements(data.shape, elements) || elements < 1) {
      error = std::string("the compiled model's ") + what + " '" + data.name +
              "' has an invalid shape " + shapeText(data.shape);
      return false;
    }
  }
  return true;
}

} // namespace

size_t elementSize(DType dtype, int elementBytes) {
  return dtype == DType::I32 ? 4 : size_t(elementBytes);
}

const char *safetensorsDtypeOf(DType dtype, int elementBytes) {
  if (dtype == DType::I32)
    return "I32";
  return elementBytes == 8 ? "F64" : "F32";
}

bool exampleElements(const std::vector<int64_t> &shape, int64_t &elements) {
  int64_t product = 1;
  for (int64_t dim : shape) {
    if (dim < 0 || (dim > 0 && product > kMaxExampleElements / dim))
      return false;
    product *= dim;
  }
  elements = product;
  return true;
}

bool checkModelSpec(const ModelSpec &spec, std::string &error) {
  const std::string prefix = "the compiled model '" + spec.modelName + "' ";
  if (spec.elementBytes != 4 && spec.elementBytes != 8) {
    error = prefix + "reports " + std::to_string(spec.elementBytes) +
            "-byte elements; expected 4 (f32) or 8 (f64)";
    return false;
  }
  if (spec.maxBatch < 1) {
    error = prefix + "reports a maximum batch of " +
            std::to_string(spec.maxBatch) + "; expected at least 1";
    return false;
  }
  if (spec.persistentBytes > spec.arenaBytes) {
    error = prefix + "reports " + std::to_string(spec.persistentBytes) +
            " persistent bytes in an arena of " +
            std::to_string(spec.arenaBytes);
    return false;
  }
  if (!checkDataSpecs(spec.inputs, "input", error) ||
      !checkDataSpecs(spec.outputs, "output", error))
    return false;
  for (const TargetSpec &target : spec.targets) {
    if (!checkDataSpecs({target.data}, "target", error))
      return false;
    if (target.copiesInput >= int64_t(spec.inputs.size())) {
      error = prefix + "has a target copying input " +
              std::to_string(target.copiesInput) + " of " +
              std::to_string(spec.inputs.size());
      return false;
    }
  }
  std::set<std::string> names;
  for (const ParameterSpec &p : spec.parameters) {
    int64_t elements = 0;
    if (p.name.empty() || !names.insert(p.name).second) {
      error =
          prefix + "has an empty or repeated parameter name '" + p.name + "'";
      return false;
    }
    if (!exampleElements(p.shape, elements)) {
      error = prefix + "has parameter '" + p.name + "' of invalid shape " +
              shapeText(p.shape);
      return false;
    }
    size_t bytes = size_t(elements) * elementSize(p.dtype, spec.elementBytes);
    if (p.offset > spec.arenaBytes || bytes > spec.arenaBytes - p.offset) {
      error = prefix + "places parameter '" + p.name + "' (" +
              std::to_string(bytes) + " bytes at offset " +
              std::to_string(p.offset) + ") outside its arena of " +
              std::to_string(spec.arenaBytes) + " bytes";
      return false;
    }
  }
  return true;
}

void ModelState::FreeDeleter::operator()(unsigned char *p) const {
  std::free(p);
}

bool ModelState::init(CompiledModel &model, std::string &error) {
  const ModelSpec &spec = model.spec();
  if (!checkModelSpec(spec, error))
    return false;
  // aligned_alloc needs a size that is a multiple of the alignment.
  size_t bytes = spec.arenaBytes == 0 ? kArenaAlignment : spec.arenaBytes;
  if (bytes > SIZE_MAX - kArenaAlignment) {
    error = "the compiled model's arena of " + std::to_string(bytes) +
            " bytes is too large";
    return false;
  }
  bytes = (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
  auto *memory =
      static_cast<unsigned char *>(std::aligned_alloc(kArenaAlignment, bytes));
  if (!memory) {
    error = "cannot allocate the model's arena of " + std::to_string(bytes) +
            " bytes (out of memory)";
    return false;
  }
  std::memset(memory, 0, bytes);
  arena_.reset(memory);
  arenaAllocated_ = bytes;
  model_ = &model;
  model.bind(arena_.get());
  return true;
}

void *ModelState::parameterData(size_t i) {
  return arena_.get() + spec().parameters[i].offset;
}

const void *ModelState::parameterData(size_t i) const {
  return arena_.get() + spec().parameters[i].offset;
}

size_t ModelState::parameterBytes(size_t i) const {
  const ParameterSpec &p = spec().parameters[i];
  int64_t elements = 0;
  exampleElements(p.shape, elements); // checked by init
  return size_t(elements) * elementSize(p.dtype, spec().elementBytes);
}

const char *ModelState::parameterDtype(size_t i) const {
  return safetensorsDtypeOf(spec().parameters[i].dtype, spec().elementBytes);
}

std::vector<NamedTensor> ModelState::checkpointTensors() {
  std::vector<NamedTensor> tensors;
  const ModelSpec &s = spec();
  for (size_t i = 0; i < s.parameters.size(); ++i)
    tensors.push_back({s.parameters[i].name, parameterDtype(i),
                       s.parameters[i].shape, parameterData(i),
                       parameterBytes(i)});
  return tensors;
}

std::string ModelState::signature() const {
  const ModelSpec &s = spec();
  uint64_t hash = fnv1a(14695981039346656037ull, s.modelName);
  for (size_t i = 0; i < s.parameters.size(); ++i)
    hash = fnv1a(hash, "|" + s.parameters[i].name + ":" + parameterDtype(i) +
                           shapeText(s.parameters[i].shape));
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx",
                static_cast<unsigned long long>(hash));
  return text;
}

std::vector<unsigned char> ModelState::snapshot() const {
  std::vector<unsigned char> bytes;
  for (size_t i = 0; i < spec().parameters.size(); ++i) {
    const auto *data = static_cast<const unsigned char *>(parameterData(i));
    bytes.insert(bytes.end(), data, data + parameterBytes(i));
  }
  return bytes;
}

void ModelState::restore(const std::vector<unsigned char> &snapshot) {
  size_t total = 0;
  for (size_t i = 0; i < spec().parameters.size(); ++i)
    total += parameterBytes(i);
  if (total != snapshot.size())
    return;
  size_t at = 0;
  for (size_t i = 0; i < spec().parameters.size(); ++i) {
    std::memcpy(parameterData(i), snapshot.data() + at, parameterBytes(i));
    at += parameterBytes(i);
  }
}

} // namespace dlc::rt
