//===- MemoryPlanner.h - one arena for every tensor of a program ----------===//
//
// A compiled program owns one byte arena. Persistent values (parameters and
// optimizer slots) come first, in value order, then the arguments (model
// inputs and targets: every function reads the same ones, so the runtime
// writes a batch once and may call any function). Every function then plans
// its temporaries and kernel workspaces in the region after them (from
// `stepBase`). Functions run one at a time, so they all share that region
// and the arena is stepBase + the largest function peak.
//
// Within a function, a value lives from the call that defines it to its
// last use; function results live to the last call (the runtime reads them
// afterwards). A workspace lives during its call only. Offsets come from
// best-fit over these intervals; every offset is 64-byte aligned.
//
// Sharing:
//  - an aliasing call (reshape) gives result 0 its operand's bytes; the
//    shared buffer lives until the last use of any value sharing it;
//  - an in-place call may write result 0 over operand `inPlaceOperand` when
//    that operand's buffer belongs to temporaries only (no argument or
//    persistent value shares it), has result 0's byte size, no other operand
//    of the call uses it, and the call is its last use.
//
// Operand use: a call may leave some operands unread (a gradient kernel
// that needs neither the forward's bias nor its result, a weight gradient
// that is skipped). An operand the call does not read does not keep its
// value alive there, and the emitter passes nullptr for it. Whether an
// operand is read may depend on which results get a buffer.
//
// A Temporary that no call lists as an operand and the function does not
// return gets no bytes: offsetOf() is -1 and the emitter passes nullptr. One
// that calls list but none reads lives during its own call only.
//
// The plan also reports, per function, the sum of every buffer's and
// workspace's bytes as if none shared memory, next to the peak and the
// lower bound.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_MEMORYPLANNER_H
#define DLC_CODEGEN_MEMORYPLANNER_H

#include "codegen/KernelProgram.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dlc::codegen {

/// Whether a call reads its operand `operand`, given which of its results
/// get a buffer (`resultPassed[r]`; false: passed as nullptr).
using OperandReadFn =
    std::function<bool(size_t operand, const std::vector<bool> &resultPassed)>;

/// What the planner needs to know about one call (from its CpuKernel).
struct CallMemory {
  int64_t workspaceBytes = 0;
  int inPlaceOperand = -1;
  bool aliasesOperand = false;
  /// Null: the call reads every operand.
  OperandReadFn readsOperand;
};

using CallMemoryFn =
    std::function<CallMemory(const KernelFunction &, const KernelCall &)>;

/// Where one Argument/Temporary value of a function lives.
struct BufferPlacement {
  int value = -1;
  /// Byte offset from MemoryPlan::stepBase; when `inPersistent`, the
  /// absolute offset of the persistent value it aliases.
  int64_t offset = 0;
  /// The value's own bytes (valueBytes); 0 when `unread`.
  int64_t bytes = 0;
  /// Live interval of the value itself, in call indices (inclusive).
  int firstCall = 0;
  int lastCall = 0;
  /// The value whose bytes it shares (reshape, in place), or -1.
  int aliasOf = -1;
  /// Result 0 of an in-place call that took its operand's buffer.
  bool inPlace = false;
  /// Aliases (through reshapes) a persistent value: `offset` is absolute.
  bool inPersistent = false;
  /// A result no call lists and the function does not return: no bytes,
  /// passed as nullptr.
  bool unread = false;
};

struct FunctionPlan {
  std::string function;
  /// Every Argument/Temporary value of the function: arguments in order,
  /// then call results in call order.
  std::vector<BufferPlacement> buffers;
  /// Per value id: index into `buffers`, or -1.
  std::vector<int> bufferIndex;
  std::vector<int64_t> workspaceOffset; ///< per call (-1: none)
  std::vector<int64_t> workspaceBytes;  ///< per call
  /// Per call, per operand: whether the call reads it (else the emitter
  /// passes nullptr).
  std::vector<std::vector<bool>> operandRead;
  int64_t peakBytes = 0;  ///< the step region's size (offsets from stepBase)
  int64_t lowerBound = 0; ///< max over calls of the bytes live at that call
  /// The bytes of every tensor of the step region as if none shared memory
  /// (in-place results count, views of another tensor do not; the model
  /// inputs and targets, at fixed offsets outside the step region, are not
  /// counted, as the peak does not count them), and of every workspace;
  /// their sum is what the peak is compared with.
  int64_t tensorBytes = 0;
  int64_t workspaceTotal = 0;
  int64_t sumBytes() const { return tensorBytes + workspaceTotal; }
};

struct MemoryPlan {
  int elementBytes = 4;
  /// Per value id: byte offset in the arena of a persistent value or an
  /// argument, or -1.
  std::vector<int64_t> persistentOffset;
  /// Parameters + optimizer slots, placed first in value order.
  int64_t persistentBytes = 0;
  /// The arguments (model inputs and targets), shared by every function,
  /// at fixed offsets after the persistent values (64-byte aligned each).
  int64_t argumentBytes = 0;
  /// Where the functions' own buffers start: after the persistent values
  /// and the arguments, 64-byte aligned.
  int64_t stepBase = 0;
  /// One per KernelProgram function, same order.
  std::vector<FunctionPlan> functions;
  /// stepBase + the largest peak: one arena serves every function.
  int64_t arenaBytes = 0;
  /// Empty on success; else why the program cannot be planned (a malformed
  /// program or a size past int64), and the other fields are unspecified.
  std::string error;

  bool ok() const { return error.empty(); }
  /// Absolute byte offset of `value` in `function`'s plan: a persistent
  /// value's or an argument's fixed offset (in every function), a
  /// temporary's step offset, or -1 for a temporary with no bytes there (an
  /// unread result, or one the function does not define).
  int64_t offsetOf(size_t function, int value) const;
  /// Whether call `call` of `function` reads its operand `operand` (true
  /// for indices the plan does not know).
  bool operandRead(size_t function, size_t call, size_t operand) const;
};

/// Plans `program` with f32 elements of `elementBytes` (4 or 8). A null
/// `callMemory` means no workspaces and no sharing.
MemoryPlan planMemory(const KernelProgram &program, int elementBytes,
                      const CallMemoryFn &callMemory);

/// The text of `dlc compile --emit=plan`.
std::string printPlan(const KernelProgram &program, const MemoryPlan &plan);

} // namespace dlc::codegen

#endif // DLC_CODEGEN_MEMORYPLANNER_H
