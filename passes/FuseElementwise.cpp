//===- FuseElementwise.cpp - chains of elementwise ops into one kernel ----===//
//
// `-dl-fuse-elementwise`: greedy producer-consumer fusion of the elementwise
// ops of every function into `dl.fused_elementwise` ops
// (ir/DLFusedElementwiseOps.td), each of which becomes one loop computing
// its whole chain per element (codegen/cpu/FusedElementwiseKernels.cpp).
//
// The ops it fuses are those of the CPU emitter's formula table
// (codegen/cpu/FusedElementwiseKernels.h): activations, add/subtract/
// multiply/add_n, dropout, their gradients, the elementwise loss gradients,
// l2_loss_grad and the optimizer and moving-average updates. Walking each
// block in order, an op joins the group of the producer of each operand it
// reads per element when
//   - both have one shape (0-d operands, such as a loss seed, are read once
//     and never link groups);
//   - the fused op, placed at the consumer, still comes before every other
//     reader of the producer group's values (values read after it become
//     extra results: the producer's result is written once, in the same
//     loop, instead of being written and read again);
//   - the producer group contains no update (updates write in place and
//     never move), and moving it down does not move a read of a parameter
//     past an update of that parameter.
// Every candidate pair gets a remark: fused (on the chain's first op, once
// per chain) or not fused, and why (FusionRemarks.h). So do elementwise
// values that feed a loss, which reduces them to a scalar.
//
// First, every relu_grad(x, y, dy) becomes relu_grad(y, y, dy) (the same
// function: its mask is y > 0), so the pre-activation has no reader left in
// the backward and an add + relu chain stores only the relu.
//
// An update's parameter and slots are read inside the region by their own
// dl.param (the update ops require it); other values enter as block
// arguments. Operand 0 is the input most likely to be overwritten in place
// by result 0 (a temporary of the chain's type read only by the chain).
//
//===----------------------------------------------------------------------===//
#include "passes/FusionRemarks.h"
#include "passes/Passes.h"

#include "codegen/cpu/FusedElementwiseKernels.h"
#include "ir/DLOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

#include <memory>
#include <set>
#include <string>

namespace dlc {

#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "passes/Passes.h.inc"

namespace {

using codegen::FusedRole;

/// An op of the formula table, with its operand roles.
struct Fusable {
  const codegen::FusedScalarOp *entry = nullptr;
  std::vector<FusedRole> roles;
  /// The chain's shape: of its per-element operands and results.
  mlir::RankedTensorType shape;
  bool writes = false;
};

/// "relu_grad" for dl.relu_grad.
std::string shortName(mlir::Operation *op) {
  llvm::StringRef name = op->getName().getStringRef();
  name.consume_front("dl.");
  return name.str();
}

/// Whether `type` is a ranked float tensor.
mlir::RankedTensorType floatTensor(mlir::Type type) {
  auto tensor = llvm::dyn_cast<mlir::RankedTensorType>(type);
  if (!tensor || !llvm::isa<mlir::FloatType>(tensor.getElementType()))
    return {};
  return tensor;
}

/// The table entry and roles of `op`, if it can run in a fused loop: every
/// per-element operand and result a float tensor of one shape, scalars 0-d.
bool classify(mlir::Operation *op, Fusable &fusable) {
  if (!llvm::isa<dl::DLDialect>(op->getDialect()) || op->getNumRegions())
    return false;
  fusable.entry = codegen::findFusedScalarOp(shortName(op));
  if (!fusable.entry ||
      !codegen::fusedOperandRoles(*fusable.entry, op->getNumOperands(),
                                  fusable.roles) ||
      static_cast<int>(op->getNumResults()) != fusable.entry->results)
    return false;
  auto join = [&](mlir::Type type) {
    auto tensor = floatTensor(type);
    if (!tensor)
      return false;
    if (!fusable.shape)
      fusable.shape = tensor;
    return tensor.getShape() == fusable.shape.getShape();
  };
  for (auto [operand, role] : llvm::zip(op->getOperands(), fusable.roles)) {
    if (role == FusedRole::State)
      fusable.writes = true;
    if (role == FusedRole::Element || role == FusedRole::State) {
      if (!join(operand.getType()))
        return false;
    } else if (role == FusedRole::Scalar) {
      auto tensor = floatTensor(operand.getType());
      if (!tensor || tensor.getRank() != 0)
        return false;
    }
  }
  for (mlir::Value result : op->getResults())
    if (!join(result.getType()))
      return false;
  // State operands are parameters and slots read by dl.param.
  for (auto [operand, role] : llvm::zip(op->getOperands(), fusable.roles))
    if (role == FusedRole::State && !operand.getDefiningOp<dl::ParamOp>())
      return false;
  return static_cast<bool>(fusable.shape);
}

/// A chain being grown: ops of one block, in no particular order.
struct Group {
  llvm::SmallVector<mlir::Operation *> ops;
  mlir::RankedTensorType shape;
  bool writes = false;
  bool merged = false; ///< absorbed into another group
};

/// The parameter symbols whose storage `op` writes, or false if it writes
/// something else (or something unknown).
bool writtenParameters(mlir::Operation *op, std::set<std::string> &symbols) {
  std::optional<llvm::SmallVector<mlir::MemoryEffects::EffectInstance>>
      effects = mlir::getEffectsRecursively(op);
  if (!effects)
    return false;
  for (const auto &instance : *effects) {
    if (!llvm::isa<mlir::MemoryEffects::Write>(instance.getEffect()))
      continue;
    mlir::Value value = instance.getValue();
    auto param = value ? value.getDefiningOp<dl::ParamOp>() : dl::ParamOp();
    if (!param)
      return false;
    symbols.insert(param.getParameter().str());
  }
  return true;
}

class ElementwiseFuser {
public:
  void run(mlir::Block &block) {
    readReluMaskFromOutput(block);
    for (mlir::Operation &op : block) {
      Fusable fusable;
      if (!classify(&op, fusable)) {
        remarkReduction(&op);
        continue;
      }
      groups.push_back(std::make_unique<Group>());
      Group *group = groups.back().get();
      group->ops.push_back(&op);
      group->shape = fusable.shape;
      group->writes = fusable.writes;
      groupOf[&op] = group;
      for (auto [operand, role] : llvm::zip(op.getOperands(), fusable.roles)) {
        if (role != FusedRole::Element)
          continue;
        mlir::Operation *producer = operand.getDefiningOp();
        auto found = producer ? groupOf.find(producer) : groupOf.end();
        if (found == groupOf.end() || found->second == group)
          continue;
        std::string why;
        if (canMerge(*found->second, *group, &op, why))
          merge(*found->second, *group);
        else
          remarkNotFused(&op, "dl." + shortName(producer) + " into dl." +
                                  shortName(&op) + ": " + why);
      }
    }
    for (auto &group : groups)
      if (!group->merged && group->ops.size() > 1)
        materialize(*group);
  }

private:
  /// relu_grad(x, y, dy) depends on x only through x > 0, which is y > 0,
  /// and relu(y) = y: relu_grad(y, y, dy) is the same op. Its kernel reads
  /// only y, so the pre-activation x need not be kept for the backward (and
  /// a chain ending in the relu need not store it).
  static void readReluMaskFromOutput(mlir::Block &block) {
    for (auto grad : block.getOps<dl::ReluGradOp>())
      if (grad->getOperand(0) != grad->getOperand(1))
        grad->setOperand(0, grad->getOperand(1));
  }

  bool canMerge(const Group &producer, const Group &consumer,
                mlir::Operation *op, std::string &why) {
    if (producer.writes) {
      why = "the producer's chain updates a parameter in place";
      return false;
    }
    if (producer.shape.getShape() != consumer.shape.getShape()) {
      why = "different shapes";
      return false;
    }
    llvm::SmallPtrSet<mlir::Operation *, 8> members(producer.ops.begin(),
                                                    producer.ops.end());
    members.insert(consumer.ops.begin(), consumer.ops.end());
    mlir::Operation *first = producer.ops.front();
    for (mlir::Operation *member : producer.ops) {
      if (member->isBeforeInBlock(first))
        first = member;
      for (mlir::Operation *user : member->getUsers()) {
        if (members.count(user))
          continue;
        if (user->getBlock() != op->getBlock() || user->isBeforeInBlock(op)) {
          why = "the result of dl." + shortName(member) +
                " is also read by dl." + shortName(user) + " before dl." +
                shortName(op);
          return false;
        }
      }
    }
    // Moving the producer's ops down to `op` must not move a parameter read
    // past an update of that parameter.
    std::set<std::string> read;
    for (mlir::Operation *member : producer.ops)
      for (mlir::Value operand : member->getOperands())
        if (auto param = operand.getDefiningOp<dl::ParamOp>())
          read.insert(param.getParameter().str());
    if (read.empty())
      return true;
    for (mlir::Operation *between = first->getNextNode(); between != op;
         between = between->getNextNode()) {
      if (members.count(between))
        continue;
      std::set<std::string> written;
      if (!writtenParameters(between, written)) {
        why = "it would move a parameter read past dl." + shortName(between) +
              ", which writes memory";
        return false;
      }
      for (const std::string &symbol : written)
        if (read.count(symbol)) {
          why = "it would move a read of @" + symbol + " past its update";
          return false;
        }
    }
    return true;
  }

  void merge(Group &producer, Group &consumer) {
    for (mlir::Operation *member : producer.ops) {
      consumer.ops.push_back(member);
      groupOf[member] = &consumer;
    }
    producer.ops.clear();
    producer.merged = true;
  }

  /// A remark on an elementwise value that a loss reduces.
  void remarkReduction(mlir::Operation *op) {
    static const char *const losses[] = {
        "binary_crossentropy", "categorical_crossentropy", "mse", "mae",
        "sparse_categorical_crossentropy"};
    std::string name = shortName(op);
    if (!llvm::is_contained(losses, name))
      return;
    for (mlir::Value operand : op->getOperands()) {
      mlir::Operation *producer = operand.getDefiningOp();
      if (producer && groupOf.count(producer))
        remarkNotFused(op, "dl." + shortName(producer) + " into dl." + name +
                               ": the loss reduces its input to a scalar; "
                               "elementwise chains end before a reduction");
    }
  }

  void materialize(Group &group) {
    llvm::SmallVector<mlir::Operation *> ops = group.ops;
    llvm::sort(ops, [](mlir::Operation *a, mlir::Operation *b) {
      return a->isBeforeInBlock(b);
    });
    llvm::SmallPtrSet<mlir::Operation *, 8> members(ops.begin(), ops.end());
    mlir::Operation *last = ops.back();

    // Inputs (parameters are read inside) and the yielded values.
    llvm::SetVector<mlir::Value> inputs;
    llvm::SetVector<mlir::Operation *> params;
    for (mlir::Operation *op : ops)
      for (mlir::Value operand : op->getOperands()) {
        mlir::Operation *def = operand.getDefiningOp();
        if (def && members.count(def))
          continue;
        if (def && llvm::isa<dl::ParamOp>(def))
          params.insert(def);
        else
          inputs.insert(operand);
      }
    llvm::SmallVector<mlir::Value> yielded;
    for (mlir::Operation *op : ops)
      for (mlir::Value result : op->getResults())
        if (llvm::any_of(result.getUsers(), [&](mlir::Operation *user) {
              return !members.count(user);
            }))
          yielded.push_back(result);
    llvm::SmallVector<mlir::Value> ordered = inPlaceFirst(
        inputs.takeVector(),
        yielded.empty() ? mlir::Type() : yielded[0].getType(), members);

    mlir::OpBuilder builder(last);
    llvm::SmallVector<mlir::Type> resultTypes;
    for (mlir::Value value : yielded)
      resultTypes.push_back(value.getType());
    auto fused = builder.create<dl::FusedElementwiseOp>(ops.front()->getLoc(),
                                                        resultTypes, ordered);
    mlir::Block *body = new mlir::Block();
    fused.getBody().push_back(body);
    mlir::IRMapping mapping;
    for (mlir::Value input : ordered)
      mapping.map(input, body->addArgument(input.getType(), input.getLoc()));
    mlir::OpBuilder inner = mlir::OpBuilder::atBlockEnd(body);
    for (mlir::Operation *param : params)
      inner.clone(*param, mapping);
    for (mlir::Operation *op : ops)
      inner.clone(*op, mapping);
    llvm::SmallVector<mlir::Value> results;
    for (mlir::Value value : yielded)
      results.push_back(mapping.lookup(value));
    inner.create<dl::ElementwiseYieldOp>(last->getLoc(), results);

    remarkFused(ops.front(), describe(ops, yielded, last));
    for (auto [value, replacement] : llvm::zip(yielded, fused.getResults()))
      value.replaceUsesWithIf(replacement, [&](mlir::OpOperand &use) {
        return !members.count(use.getOwner());
      });
    for (mlir::Operation *op : llvm::reverse(ops))
      op->erase();
    for (mlir::Operation *param : params)
      if (param->use_empty())
        param->erase();
  }

  /// Whether a member reads `value` per element (not only as an operand the
  /// formula ignores, which the kernel never loads).
  static bool
  readPerElement(mlir::Value value,
                 const llvm::SmallPtrSetImpl<mlir::Operation *> &members) {
    for (mlir::OpOperand &use : value.getUses()) {
      Fusable fusable;
      if (members.count(use.getOwner()) && classify(use.getOwner(), fusable) &&
          fusable.roles[use.getOperandNumber()] == FusedRole::Element)
        return true;
    }
    return false;
  }

  /// `inputs` with the best in-place candidate for a result of `type`
  /// first: a temporary of that type that the chain reads per element and
  /// nothing outside the chain reads.
  static llvm::SmallVector<mlir::Value>
  inPlaceFirst(llvm::SmallVector<mlir::Value> inputs, mlir::Type type,
               const llvm::SmallPtrSetImpl<mlir::Operation *> &members) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      mlir::Value input = inputs[i];
      if (!type || input.getType() != type || !input.getDefiningOp() ||
          !readPerElement(input, members))
        continue;
      if (llvm::all_of(input.getUsers(), [&](mlir::Operation *user) {
            return members.count(user) != 0;
          })) {
        std::rotate(inputs.begin(), inputs.begin() + i, inputs.begin() + i + 1);
        break;
      }
    }
    return inputs;
  }

  /// "dropout_grad + relu_grad into one kernel", with what else it keeps.
  static std::string describe(llvm::ArrayRef<mlir::Operation *> ops,
                              llvm::ArrayRef<mlir::Value> yielded,
                              mlir::Operation *last) {
    std::string text;
    bool update = false;
    for (mlir::Operation *op : ops) {
      text += (text.empty() ? "" : " + ") + shortName(op);
      Fusable fusable;
      update = update || (classify(op, fusable) && fusable.writes);
    }
    text += " into one kernel";
    if (update)
      text += " (one kernel per parameter tensor)";
    for (mlir::Value value : yielded)
      if (value.getDefiningOp() != last)
        text += "; dl." + shortName(value.getDefiningOp()) +
                "'s result is also stored for later readers";
    return text;
  }

  std::vector<std::unique_ptr<Group>> groups;
  llvm::DenseMap<mlir::Operation *, Group *> groupOf;
};

struct FuseElementwisePass
    : public impl::FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    getOperation()->walk([](mlir::func::FuncOp function) {
      for (mlir::Block &block : function.getBody())
        ElementwiseFuser().run(block);
    });
  }
};

} // namespace

std::unique_ptr<mlir::Pass> createFuseElementwisePass() {
  return std::make_unique<FuseElementwisePass>();
}

} // namespace dlc
