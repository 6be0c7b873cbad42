//===- ModelState.h - a compiled model's arena and persistent tensors -----===//
//
// The runtime's side of CompiledModel memory: one 64-byte-aligned block of
// spec().arenaBytes, checked against the spec, zeroed and bound to the model,
// and named views of its parameters and optimizer slots (what checkpoints and
// weight files hold).
//
//   ModelState state;
//   if (!state.init(model, error)) ...        // allocates and binds
//   state.checkpointTensors();                // every persistent tensor
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_MODELSTATE_H
#define DLC_RUNTIME_MODELSTATE_H

#include "runtime/CheckpointManager.h"
#include "runtime/CompiledModel.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dlc::rt {

/// Bytes of one element of `dtype` in a program whose T has `elementBytes`
/// bytes: float types are T, i32 is 4.
size_t elementSize(DType dtype, int elementBytes);

/// The safetensors dtype of `dtype` in such a program ("F32", "F64", "I32").
const char *safetensorsDtypeOf(DType dtype, int elementBytes);

/// The elements of one example of `shape` (1 for a scalar); false when a
/// dimension is negative or the product exceeds 2^40.
bool exampleElements(const std::vector<int64_t> &shape, int64_t &elements);

/// Checks the spec a generated program reports: element size 4 or 8, a
/// maximum batch of at least 1, every parameter inside the persistent part of
/// the arena, positive shapes, unique names. False with a message otherwise.
bool checkModelSpec(const ModelSpec &spec, std::string &error);

/// The arena of one CompiledModel and views of its persistent tensors.
class ModelState {
public:
  ModelState() = default;
  ModelState(const ModelState &) = delete;
  ModelState &operator=(const ModelState &) = delete;

  /// Checks the spec, allocates the arena (zeroed) and binds it. False with a
  /// message when the spec is inconsistent or the memory is not available.
  bool init(CompiledModel &model, std::string &error);

  CompiledModel &model() { return *model_; }
  const ModelSpec &spec() const { return model_->spec(); }
  unsigned char *arena() { return arena_.get(); }
  /// The bytes init() allocated for the arena (spec().arenaBytes rounded up
  /// to the alignment; at least one alignment unit).
  size_t arenaAllocatedBytes() const { return arenaAllocated_; }

  /// Parameter `i`'s storage and its size in bytes.
  void *parameterData(size_t i);
  const void *parameterData(size_t i) const;
  size_t parameterBytes(size_t i) const;
  /// Its safetensors dtype.
  const char *parameterDtype(size_t i) const;

  /// Every parameter and optimizer slot, named as in the spec (a training
  /// checkpoint's tensors).
  std::vector<NamedTensor> checkpointTensors();

  /// A layout hash of the model: its name and every persistent tensor's
  /// name, dtype and shape (16 hex digits). Checkpoints carry it.
  std::string signature() const;

  /// The persistent part of the arena (parameters and optimizer state),
  /// e.g. to keep the best epoch's weights.
  std::vector<unsigned char> snapshot() const;
  /// Puts back a snapshot(); ignored when its size does not match.
  void restore(const std::vector<unsigned char> &snapshot);

private:
  struct FreeDeleter {
    void operator()(unsigned char *p) const;
  };
  CompiledModel *model_ = nullptr;
  std::unique_ptr<unsigned char, FreeDeleter> arena_;
  size_t arenaAllocated_ = 0;
};

} // namespace dlc::rt

#endif // DLC_RUNTIME_MODELSTATE_H
