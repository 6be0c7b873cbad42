//===- FusionRemarks.h - what each fusion pass did, and why not -----------===//
//
// Every fusion pass reports each candidate it looked at as an MLIR remark on
// the candidate's first op: "fused: <what>" when it fused it, "not fused:
// <why>" when it did not. `dlc compile --remarks` prints them with the .dl
// location; otherwise they are dropped. dlc-opt prints them as any remark
// (lit tests check them with -verify-diagnostics or FileCheck on stderr).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_PASSES_FUSIONREMARKS_H
#define DLC_PASSES_FUSIONREMARKS_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/Twine.h"

namespace dlc {

/// Remark "fused: <what>" on `op`.
void remarkFused(mlir::Operation *op, const llvm::Twine &what);

/// Remark "not fused: <why>" on `op`.
void remarkNotFused(mlir::Operation *op, const llvm::Twine &why);

/// Remark "not fused as <fusion>: <why>" on `op`: for a candidate that
/// another pass may still fuse otherwise (a batchnorm that feeds an add is
/// not a batchnorm + relu, but may be a batchnorm + add + relu).
void remarkNotFusedAs(mlir::Operation *op, const llvm::Twine &fusion,
                      const llvm::Twine &why);

} // namespace dlc

#endif // DLC_PASSES_FUSIONREMARKS_H
