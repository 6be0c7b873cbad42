//===- StripDropout.cpp - remove dropout from inference graphs ------------===//
//
// Dropout is the identity outside training. Eval and predict graphs run this
// pass so that they carry no dl.dropout (and draw no random numbers).
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "ir/DLOps.h"

namespace dlc {

#define GEN_PASS_DEF_STRIPDROPOUT
#include "passes/Passes.h.inc"

namespace {

struct StripDropoutPass : public impl::StripDropoutBase<StripDropoutPass> {
  void runOnOperation() override {
    getOperation()->walk([](dl::DropoutOp dropout) {
      dropout.getOutput().replaceAllUsesWith(dropout.getX());
      dropout.erase();
    });
  }
};

} // namespace

std::unique_ptr<mlir::Pass> createStripDropoutPass() {
  return std::make_unique<StripDropoutPass>();
}

} // namespace dlc
