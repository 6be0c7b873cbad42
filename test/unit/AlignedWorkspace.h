//===- AlignedWorkspace.h - a 64-byte aligned scratch buffer for kernels --===//
//
// The dlk kernels take their workspace 64-byte aligned (as the memory
// planner places it in the arena); the kernel tests that call them directly
// allocate it with this.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_TEST_UNIT_ALIGNEDWORKSPACE_H
#define DLC_TEST_UNIT_ALIGNEDWORKSPACE_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dlc::testing {

/// At least `bytes` of scratch starting at a 64-byte boundary.
class AlignedWorkspace {
public:
  explicit AlignedWorkspace(int64_t bytes)
      : storage(static_cast<size_t>(bytes > 0 ? bytes : 0) / sizeof(double) +
                64 / sizeof(double)) {}

  unsigned char *data() {
    auto address = reinterpret_cast<uintptr_t>(storage.data());
    return reinterpret_cast<unsigned char *>((address + 63) / 64 * 64);
  }

private:
  std::vector<double> storage;
};

} // namespace dlc::testing

#endif // DLC_TEST_UNIT_ALIGNEDWORKSPACE_H
