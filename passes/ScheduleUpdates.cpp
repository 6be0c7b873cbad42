//===- ScheduleUpdates.cpp - run each parameter update as early as it may -===//
//
// `-dl-schedule-updates`. -dl-lower-optimizer appends the train step's
// updates (optimizer updates, moving averages; after -dl-fuse-elementwise
// also the fused_elementwise kernels that end in one) after the whole
// backward, so every weight gradient stays alive until the end of the step.
// This pass moves each update (and the gradient clipping it reads) up to
// just after the last op it must follow:
// the definitions of its operands and every earlier op that reads or writes
// one of the parameters it touches (a `dl.param` of the same name, at the
// top level or inside a fused region). The gradient then dies as soon as
// it is applied, while the backward goes on, and what the step computes is
// unchanged: no op that reads a parameter moves past the update that writes
// it.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "ir/DLOps.h"
#include "mlir/IR/BuiltinOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

namespace dlc {

#define GEN_PASS_DEF_SCHEDULEUPDATES
#include "passes/Passes.h.inc"

namespace {

/// The names of the parameters `op` touches: those of the `dl.param` ops
/// defining its operands, and of the `dl.param` ops nested in its regions.
llvm::SmallVector<llvm::StringRef, 4> parametersOf(mlir::Operation *op) {
  llvm::SmallVector<llvm::StringRef, 4> names;
  auto add = [&](dl::ParamOp param) {
    llvm::StringRef name = param.getParameter();
    if (!llvm::is_contained(names, name))
      names.push_back(name);
  };
  for (mlir::Value operand : op->getOperands())
    if (auto param = operand.getDefiningOp<dl::ParamOp>())
      add(param);
  for (mlir::Region &region : op->getRegions())
    region.walk([&](dl::ParamOp param) { add(param); });
  return names;
}

/// An op this pass moves: an update, a `dl` op without results in a train
/// step (optimizer updates and moving averages write their parameters in
/// place; a fused_elementwise without results ends in one), or the
/// gradient clipping an update reads (pure, it reads one gradient).
bool isMovable(mlir::Operation &op) {
  llvm::StringRef name = op.getName().getStringRef();
  if (name == "dl.clip_norm")
    return true;
  return op.getNumResults() == 0 && name.starts_with("dl.") &&
         !op.hasTrait<mlir::OpTrait::IsTerminator>();
}

struct ScheduleUpdatesPass
    : public impl::ScheduleUpdatesBase<ScheduleUpdatesPass> {
  void runOnOperation() override {
    getOperation()->walk([](mlir::func::FuncOp function) {
      if (!function->hasAttr("dl.train_step") || function.getBody().empty())
        return;
      schedule(function.getBody().front());
    });
  }

  static void schedule(mlir::Block &body) {
    // The last op so far (in the current order) touching each parameter.
    llvm::DenseMap<llvm::StringRef, mlir::Operation *> lastTouch;
    // The ops moved so far (updates and the dl.param reads they took).
    llvm::SmallPtrSet<mlir::Operation *, 32> moved;
    llvm::SmallVector<mlir::Operation *> ops;
    for (mlir::Operation &op : body)
      ops.push_back(&op);
    for (mlir::Operation *op : ops) {
      llvm::SmallVector<llvm::StringRef, 4> names = parametersOf(op);
      if (isMovable(*op)) {
        // The latest op it must follow; null: the start of the block.
        mlir::Operation *after = nullptr;
        auto later = [&](mlir::Operation *candidate) {
          if (candidate && candidate->getBlock() == &body &&
              (!after || after->isBeforeInBlock(candidate)))
            after = candidate;
        };
        // A dl.param read has no operands: it moves along, so it does not
        // hold the update back.
        for (mlir::Value operand : op->getOperands())
          if (!operand.getDefiningOp<dl::ParamOp>())
            later(operand.getDefiningOp());
        for (llvm::StringRef name : names)
          later(lastTouch.lookup(name));
        // After the ops moved to the same place before it: the moved ops
        // keep their order.
        while (after && after->getNextNode() != op &&
               moved.contains(after->getNextNode()))
          after = after->getNextNode();
        if (after && after->getNextNode() != op && after->isBeforeInBlock(op))
          op->moveAfter(after);
        else if (!after && &body.front() != op)
          op->moveBefore(&body.front());
        for (mlir::Value operand : op->getOperands())
          if (auto param = operand.getDefiningOp<dl::ParamOp>())
            if (param->getBlock() == &body && op->isBeforeInBlock(param)) {
              param->moveBefore(op);
              moved.insert(param);
            }
        moved.insert(op);
      }
      for (llvm::StringRef name : names) {
        mlir::Operation *&last = lastTouch[name];
        if (!last || last->isBeforeInBlock(op))
          last = op;
      }
    }
  }
};

} // namespace

std::unique_ptr<mlir::Pass> createScheduleUpdatesPass() {
  return std::make_unique<ScheduleUpdatesPass>();
}

} // namespace dlc
