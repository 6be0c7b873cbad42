//===- FusionRemarks.cpp - what each fusion pass did, and why not ---------===//

#include "passes/FusionRemarks.h"

#include "mlir/IR/Diagnostics.h"

namespace dlc {

void remarkFused(mlir::Operation *op, const llvm::Twine &what) {
  op->emitRemark() << "fused: " << what.str();
}

void remarkNotFused(mlir::Operation *op, const llvm::Twine &why) {
  op->emitRemark() << "not fused: " << why.str();
}

void remarkNotFusedAs(mlir::Operation *op, const llvm::Twine &fusion,
                      const llvm::Twine &why) {
  op->emitRemark() << "not fused as " << fusion.str() << ": " << why.str();
}

} // namespace dlc
