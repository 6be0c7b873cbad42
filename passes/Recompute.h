//===- Recompute.h - recompute forward ops in the backward ----------------===//
//
// A training function keeps some forward results alive until the backward
// reads them (a conv output for its batchnorm's gradient, a relu output for
// the next conv's weight gradient). Recomputing such a result right before
// its first backward reader, from inputs that are alive there anyway, lets
// the saved tensor die after its forward users: less memory at the price of
// running the op twice. The recomputed op is the same kernel on the same
// inputs, so the results are bit for bit the same (dropout too: its mask is
// a function of the seed, the step and the element).
//
// `-dl-recompute` (passes/Recompute.cpp) recomputes the forward ops that
// carry the unit attribute `dl.recompute` (or, with `all`, every
// candidate). `dlc compile --memory-budget` chooses which
// (tools/dlc/MemoryBudget.cpp): candidates by bytes saved per unit of
// recompute cost, re-planning until the arena fits.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_PASSES_RECOMPUTE_H
#define DLC_PASSES_RECOMPUTE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <vector>

namespace dlc {

/// The unit attribute that asks -dl-recompute to recompute a forward op.
constexpr llvm::StringLiteral kRecomputeAttr = "dl.recompute";

/// A forward op whose recomputation would shorten what the backward keeps.
struct RecomputeCandidate {
  mlir::Operation *op = nullptr;
  /// Bytes per example no longer kept from the forward to the backward: the
  /// results the backward reads, less the operands that would have to stay
  /// alive longer for the recomputation.
  int64_t savedBytes = 0;
  /// Estimated work per example of one recomputation (multiply-adds or
  /// element operations), at least 1.
  int64_t cost = 1;
};

/// Whether `function` is a training function (`dl.gradients`,
/// `dl.train_step`): the only ones with a backward.
bool isTrainingFunction(mlir::func::FuncOp function);

/// The candidates of a training function, in forward order: recomputable
/// ops (activations, elementwise ops, dropout, batchnorm with or without a
/// fused relu, pooling, convolutions and dense layers) before the first
/// gradient op, some of whose results a gradient op reads, that save bytes.
/// Empty for other functions.
std::vector<RecomputeCandidate>
findRecomputeCandidates(mlir::func::FuncOp function);

/// Recomputes each op of `ops` (forward ops of `function`) right before the
/// first backward op that reads one of its results, and makes the backward
/// read the copy. Chains work: an op whose operand is also recomputed reads
/// that operand's copy. Removes `dl.recompute` from the ops and remarks on
/// each. Returns how many ops were recomputed.
int recomputeOps(mlir::func::FuncOp function,
                 llvm::ArrayRef<mlir::Operation *> ops);

} // namespace dlc

#endif // DLC_PASSES_RECOMPUTE_H
