//===- Safetensors.h - checkpoints in the safetensors format --------------===//
//
// The Hugging Face safetensors layout, byte-compatible with the reference
// implementation:
//
//   8 bytes    N, the header length, unsigned little-endian
//   N bytes    JSON: {"__metadata__": {"k": "v"},
//                     "name": {"dtype": "F32", "shape": [2, 3],
//                              "data_offsets": [begin, end]}, ...}
//              padded with spaces so the data starts 8-byte aligned
//   the rest   tensor data, little-endian, row-major; data_offsets are
//              relative to the start of this section
//
// The writer is atomic (AtomicFile). The reader is strict: it validates the
// whole header against the file before handing out any tensor, so a
// truncated, corrupt or hostile file yields an error message, never a crash.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_SAFETENSORS_H
#define DLC_RUNTIME_SAFETENSORS_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dlc {
namespace rt {

/// Bytes per element of a safetensors dtype name ("F32" -> 4), or 0 if the
/// name is not one of BOOL U8 I8 F8_E5M2 F8_E4M3 I16 U16 F16 BF16 I32 U32
/// F32 F64 I64 U64.
size_t safetensorsDtypeSize(const std::string &dtype);

/// "F32[3, 3, 1, 16]".
std::string formatTensorType(const std::string &dtype,
                             const std::vector<int64_t> &shape);

/// A tensor to write: the caller keeps `data` alive during the call.
struct TensorView {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  const void *data = nullptr;
  size_t bytes = 0;
};

/// Writes `tensors` and `metadata` to `path` atomically. Like the reference
/// implementation, tensors are ordered by dtype alignment (largest first) and
/// then by name, in the header and in the data. Fails (without touching an
/// existing file) on duplicate or empty names, unknown dtypes, a byte count
/// that does not match the shape, or an I/O error.
bool writeSafetensors(const std::string &path,
                      const std::vector<TensorView> &tensors,
                      const std::map<std::string, std::string> &metadata,
                      std::string &error);

/// One tensor's entry in a validated header.
struct TensorInfo {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0; ///< Offset in the data section.
  uint64_t end = 0;   ///< One past the last byte in the data section.
  uint64_t bytes() const { return end - begin; }
};

/// What a model expects to find in a checkpoint.
struct TensorSpec {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
};

/// A safetensors file opened for reading. Move-only; keeps the file open.
class SafetensorsFile {
public:
  SafetensorsFile() = default;
  ~SafetensorsFile();
  SafetensorsFile(SafetensorsFile &&other) noexcept;
  SafetensorsFile &operator=(SafetensorsFile &&other) noexcept;
  SafetensorsFile(const SafetensorsFile &) = delete;
  SafetensorsFile &operator=(const SafetensorsFile &) = delete;

  /// Opens `path` and validates its header and layout. On failure returns
  /// false with a message naming the file, the problem and a hint.
  bool open(const std::string &path, std::string &error);

  /// The entry named `name`, or nullptr.
  const TensorInfo *find(const std::string &name) const;
  /// All tensor names, sorted.
  std::vector<std::string> names() const;
  /// All entries, sorted by name.
  const std::vector<TensorInfo> &tensors() const { return tensors_; }
  /// The "__metadata__" map (empty if the file has none).
  const std::map<std::string, std::string> &metadata() const {
    return metadata_;
  }
  const std::string &path() const { return path_; }

  /// Copies tensor `name`'s data into `dst`, which holds `bytes` bytes; fails
  /// if the name is unknown, `bytes` differs from the tensor's size, or the
  /// file cannot be read (e.g. it shrank since open).
  bool read(const std::string &name, void *dst, size_t bytes,
            std::string &error) const;

private:
  void close();

  int fd_ = -1;
  std::string path_;
  uint64_t dataStart_ = 0; ///< File offset of the data section.
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

/// Checks that `file` holds exactly the tensors in `expected`, with the same
/// dtypes and shapes. Otherwise the error lists every missing name, every
/// unexpected name and every dtype/shape mismatch, e.g.
///   conv2d.kernel: checkpoint has F32[3, 3, 1, 16], the model needs
///   F32[3, 3, 1, 32]
/// (at most 20 lines, then "... and N more").
bool checkCompatible(const SafetensorsFile &file,
                     const std::vector<TensorSpec> &expected,
                     std::string &error);

} // namespace rt
} // namespace dlc

#endif // DLC_RUNTIME_SAFETENSORS_H
