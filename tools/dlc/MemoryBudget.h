//===- MemoryBudget.h - fit a program's arena into --memory-budget --------===//
//
// `dlc compile --memory-budget BYTES`: when the planned arena is larger than
// BYTES, forward ops of the training functions are recomputed in the
// backward (passes/Recompute.h) so that what the forward saves dies early.
// The candidates are taken greedily, the most bytes saved per unit of
// recompute cost first; after each one the module is lowered and planned
// again, until the arena fits. If even every candidate does not make it
// fit, the budget is impossible and the smallest arena seen is the least
// the program needs.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_TOOLS_DLC_MEMORYBUDGET_H
#define DLC_TOOLS_DLC_MEMORYBUDGET_H

#include "codegen/KernelProgram.h"
#include "codegen/MemoryPlanner.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <cstdint>
#include <string>

namespace dlc {

/// What fitting a budget did.
struct BudgetOutcome {
  int64_t budget = 0;
  /// The arena without recomputation, and the one chosen.
  int64_t unconstrainedArena = 0;
  int64_t arena = 0;
  /// When it does not fit: the smallest arena any choice reached.
  int64_t minimumArena = 0;
  /// Ops recomputed, out of the candidates (all training functions).
  int recomputed = 0;
  int candidates = 0;
  bool fits = false;
};

/// Fits the arena of `module` (after the training pipeline; `kernels` and
/// `plan` are its lowering and plan) into `budget` bytes. On success with
/// `outcome.fits`, `module`, `kernels` and `plan` are the recomputing
/// program's; without it they are unchanged and `outcome.minimumArena`
/// says what the least is. False (with `error`) only when a recomputed
/// module fails to lower or plan, which is a bug.
bool fitMemoryBudget(mlir::OwningOpRef<mlir::ModuleOp> &module,
                     int64_t maxBatch, int elementBytes, int64_t budget,
                     codegen::KernelProgram &kernels, codegen::MemoryPlan &plan,
                     BudgetOutcome &outcome, std::string &error);

/// How cheap a recomputation `dlc compile` makes by default: at most this
/// many operations (recomputeCost) per byte of forward result it frees.
/// Normalize+relu again (2 per element of 4 bytes) or a convolution of a
/// one-channel image (9 multiply-adds) is cheap; a convolution of 32
/// channels (288) is not.
constexpr double kCheapRecomputeOpsPerByte = 4.0;

/// `dlc compile` by default (not with --keep-activations): among the
/// recomputation candidates of `module` (after the training pipeline;
/// `kernels` and `plan` are its lowering and plan), the cheap ones (see
/// kCheapRecomputeOpsPerByte), best first, are each tried and kept when
/// they lower the planned peaks (their sum over the functions); the others
/// stay kept in memory. `module`, `kernels` and `plan` become the
/// recomputing program's; `recomputed` says how many ops were chosen. False
/// (with `error`) only when a recomputed module fails to lower or plan,
/// which is a bug.
bool recomputeCheapActivations(mlir::OwningOpRef<mlir::ModuleOp> &module,
                               int64_t maxBatch, int elementBytes,
                               codegen::KernelProgram &kernels,
                               codegen::MemoryPlan &plan, int &recomputed,
                               std::string &error);

/// The line `--emit=plan` adds under a budget, e.g. "memory budget:
/// 40000000 bytes: 3 of 12 candidate ops recomputed in the backward; arena
/// 67679680 -> 39911424 bytes".
std::string describeBudget(const BudgetOutcome &outcome);

} // namespace dlc

#endif // DLC_TOOLS_DLC_MEMORYBUDGET_H
