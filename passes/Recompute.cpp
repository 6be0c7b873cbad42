//===- Recompute.cpp - recompute forward ops in the backward --------------===//
//
// `-dl-recompute` (see passes/Recompute.h). In a training function the ops
// before the first gradient op are the forward, the rest the backward. A
// forward op F is recomputed by cloning it right before the first backward
// op that reads one of its results and making every later backward use
// read the clone:
//
//   %z = dl.conv2d %x, %k                   %z = dl.conv2d %x, %k
//   %y, %m, %v = dl.batchnorm_relu_train %z, ...   (same)
//   ...                                     ...
//                                           %z2 = dl.conv2d %x, %k
//   dl.batchnorm_relu_train_grad %z, ...    dl.batchnorm_relu_train_grad %z2,
//   ...
//
// so %z dies after the forward batchnorm. Whether a backward op reads an
// operand is the CPU kernel's own answer (CpuKernel::readsOperand): a use
// that is passed as nullptr keeps nothing alive and is not rewritten when
// it comes before the clone.
//
//===----------------------------------------------------------------------===//
#include "passes/Recompute.h"

#include "passes/Passes.h"

#include "codegen/cpu/CpuKernel.h"
#include "ir/AttrConversion.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringSet.h"

#include <algorithm>
#include <climits>
#include <numeric>

namespace dlc {

#define GEN_PASS_DEF_RECOMPUTE
#include "passes/Passes.h.inc"

bool isTrainingFunction(mlir::func::FuncOp function) {
  return function->hasAttr("dl.gradients") ||
         function->hasAttr("dl.train_step");
}

namespace {

/// The op's name without the dialect prefix ("conv2d_grad"), as kernels
/// are registered.
std::string kernelName(mlir::Operation *op) {
  llvm::StringRef name = op->getName().getStringRef();
  name.consume_front("dl.");
  return name.str();
}

/// Forward ops that may run twice: pure, deterministic, one kernel each.
bool isRecomputable(mlir::Operation *op) {
  static const llvm::StringSet<> kinds = {
      // Activations and elementwise ops.
      "dl.relu", "dl.sigmoid", "dl.tanh", "dl.abs", "dl.leaky_relu", "dl.elu",
      "dl.softmax", "dl.add", "dl.subtract", "dl.multiply",
      "dl.fused_elementwise", "dl.dropout",
      // Normalization: statistics and normalize (+ relu) again.
      "dl.batchnorm_train", "dl.batchnorm_relu_train",
      "dl.batchnorm_relu_maxpool_train", "dl.batchnorm_add_relu_train",
      "dl.batchnorm_add_batchnorm_relu_train", "dl.layernorm",
      // Pooling.
      "dl.maxpool2d", "dl.maxpool2d_indices", "dl.avgpool2d",
      "dl.global_avgpool2d", "dl.global_maxpool2d",
      // Layers with weights: the most expensive, chosen last.
      "dl.conv2d", "dl.fused_conv2d", "dl.depthwise_conv2d",
      "dl.fused_depthwise_conv2d", "dl.dense", "dl.fused_dense"};
  if (!kinds.contains(op->getName().getStringRef()) ||
      op->getNumResults() == 0 || op->getNumRegions() != 0)
    return false;
  return llvm::all_of(op->getResultTypes(), [](mlir::Type type) {
    return mlir::isa<mlir::RankedTensorType>(type);
  });
}

/// The elements of one example of `type`: the static dimensions' product (a
/// dynamic dimension is the batch and counts as 1).
int64_t exampleElements(mlir::Type type) {
  auto tensor = mlir::dyn_cast<mlir::RankedTensorType>(type);
  if (!tensor)
    return 0;
  int64_t elements = 1;
  for (int64_t dim : tensor.getShape())
    if (!mlir::ShapedType::isDynamic(dim))
      elements *= dim;
  return elements;
}

/// The bytes of one example of `type` (f32 and i32: 4 per element); 0 for
/// a tensor without a batch dimension (batch statistics, scalars), whose
/// few bytes do not grow with the batch.
int64_t exampleBytes(mlir::Type type) {
  auto tensor = mlir::dyn_cast<mlir::RankedTensorType>(type);
  if (!tensor || tensor.hasStaticShape())
    return 0;
  int64_t bits = tensor.getElementType().isIntOrFloat()
                     ? tensor.getElementType().getIntOrFloatBitWidth()
                     : 32;
  return exampleElements(type) * ((bits + 7) / 8);
}

/// Dimension `d` of `value`'s static shape, or 1.
int64_t staticDim(mlir::Value value, unsigned d) {
  auto tensor = mlir::dyn_cast<mlir::RankedTensorType>(value.getType());
  if (!tensor || d >= tensor.getRank() || tensor.isDynamicDim(d))
    return 1;
  return tensor.getDimSize(d);
}

/// The work of one recomputation of `op`, per example.
int64_t recomputeCost(mlir::Operation *op) {
  llvm::StringRef name = op->getName().getStringRef();
  int64_t out = 0;
  for (mlir::Type type : op->getResultTypes())
    out += exampleElements(type);
  int64_t in =
      op->getNumOperands() ? exampleElements(op->getOperand(0).getType()) : 0;
  int64_t cost = out;
  if (name == "dl.conv2d" || name == "dl.fused_conv2d") {
    // kernel [kh, kw, cin, cout]
    mlir::Value k = op->getOperand(1);
    cost = out * staticDim(k, 0) * staticDim(k, 1) * staticDim(k, 2);
  } else if (name == "dl.depthwise_conv2d" ||
             name == "dl.fused_depthwise_conv2d") {
    mlir::Value k = op->getOperand(1);
    cost = out * staticDim(k, 0) * staticDim(k, 1);
  } else if (name == "dl.dense" || name == "dl.fused_dense") {
    cost = out * staticDim(op->getOperand(1), 0);
  } else if (name == "dl.batchnorm_relu_train") {
    cost = 2 * in; // normalize + relu with the saved statistics
  } else if (name.contains("batchnorm") || name == "dl.layernorm") {
    cost = 4 * in; // statistics, then normalize
  } else if (name.contains("pool")) {
    cost = in;
  } else if (name == "dl.dropout") {
    cost = 4 * out; // a random number per element
  } else if (name == "dl.fused_elementwise") {
    cost = 2 * out;
  }
  return std::max<int64_t>(cost, 1);
}

/// Whether `user` reads `value` through any of its operands, as its CPU
/// kernel says (a result nobody uses gets no buffer, which may make an
/// operand unread). Ops without a kernel read everything.
bool readsValue(mlir::Operation *user, mlir::Value value) {
  const codegen::CpuKernelRegistry &kernels = codegen::cpuKernels();
  auto kernel = kernels.find(kernelName(user));
  if (!user->getName().getStringRef().starts_with("dl.") ||
      kernel == kernels.end() || !kernel->second.readsOperand)
    return llvm::is_contained(user->getOperands(), value);
  codegen::KernelCall call;
  call.op = kernel->first;
  call.attrs = toPlainAttrs(user->getAttrDictionary());
  call.operands.resize(user->getNumOperands());
  std::iota(call.operands.begin(), call.operands.end(), 0);
  call.results.resize(user->getNumResults());
  std::vector<bool> passed(user->getNumResults());
  for (unsigned r = 0; r < user->getNumResults(); ++r)
    passed[r] = !user->getResult(r).use_empty();
  for (unsigned i = 0; i < user->getNumOperands(); ++i)
    if (user->getOperand(i) == value &&
        kernel->second.readsOperand(call, i, passed))
      return true;
  return false;
}

/// Values that stay in memory whatever the backward does: the function's
/// arguments (model inputs and targets) and parameters.
bool isAlwaysAlive(mlir::Value value) {
  if (mlir::isa<mlir::BlockArgument>(value))
    return true;
  mlir::Operation *def = value.getDefiningOp();
  return def && def->getName().getStringRef() == "dl.param";
}

/// The first gradient op of `body`, where the backward starts; null when
/// there is none.
mlir::Operation *backwardStart(mlir::Block &body) {
  for (mlir::Operation &op : body)
    if (op.getName().getStringRef().starts_with("dl.") &&
        op.getName().getStringRef().ends_with("_grad"))
      return &op;
  return nullptr;
}

/// The op that recomputes `op` at `builder`'s point: a clone, or for a
/// training batchnorm+relu, dl.batchnorm_relu_apply reading the statistics
/// `op` returned (one pass instead of two; the same output bit for bit).
/// `replaced` is set to how many of `op`'s results the copy stands for
/// (its first ones).
mlir::Operation *recomputation(mlir::OpBuilder &builder, mlir::Operation *op,
                               unsigned &replaced) {
  replaced = op->getNumResults();
  if (op->getName().getStringRef() != "dl.batchnorm_relu_train" ||
      op->getNumOperands() != 3 || op->getNumResults() != 3)
    return builder.clone(*op);
  mlir::OperationState state(op->getLoc(), "dl.batchnorm_relu_apply");
  state.addOperands(op->getOperands());
  state.addOperands({op->getResult(1), op->getResult(2)});
  state.addAttributes(op->getAttrs());
  state.addTypes(op->getResult(0).getType());
  replaced = 1;
  return builder.create(state);
}

/// Remark "recompute: <what>" on `op` (printed by `dlc compile --remarks`).
void remarkRecompute(mlir::Operation *op, const llvm::Twine &what) {
  op->emitRemark() << "recompute: " << what.str();
}

struct RecomputePass : public impl::RecomputeBase<RecomputePass> {
  using RecomputeBase::RecomputeBase;

  void runOnOperation() override {
    getOperation()->walk([&](mlir::func::FuncOp function) {
      std::vector<mlir::Operation *> ops;
      if (all && isTrainingFunction(function)) {
        for (const RecomputeCandidate &candidate :
             findRecomputeCandidates(function))
          ops.push_back(candidate.op);
      }
      function.walk([&](mlir::Operation *op) {
        if (!op->hasAttr(kRecomputeAttr))
          return;
        op->removeAttr(kRecomputeAttr);
        if (!isTrainingFunction(function)) {
          remarkRecompute(op, "not recomputed: not in a training function");
          return;
        }
        if (!llvm::is_contained(ops, op))
          ops.push_back(op);
      });
      recomputeOps(function, ops);
    });
  }
};

} // namespace

std::vector<RecomputeCandidate>
findRecomputeCandidates(mlir::func::FuncOp function) {
  std::vector<RecomputeCandidate> candidates;
  if (!isTrainingFunction(function) || function.getBody().empty())
    return candidates;
  mlir::Block &body = function.getBody().front();
  mlir::Operation *start = backwardStart(body);
  if (!start)
    return candidates;
  llvm::DenseMap<mlir::Operation *, int> position;
  int next = 0;
  for (mlir::Operation &op : body)
    position[&op] = next++;
  const int backward = position[start];
  auto positionOf = [&](mlir::Operation *op) {
    auto it = position.find(op);
    return it == position.end() ? INT_MAX : it->second;
  };

  for (mlir::Operation &op : body) {
    if (&op == start)
      break;
    if (!isRecomputable(&op))
      continue;
    // The results the backward reads, and where it first reads one.
    int first = INT_MAX;
    int64_t kept = 0;
    bool returned = false;
    for (mlir::Value result : op.getResults()) {
      bool read = false;
      for (mlir::Operation *user : result.getUsers()) {
        if (mlir::isa<mlir::func::ReturnOp>(user))
          returned = true;
        else if (positionOf(user) >= backward && readsValue(user, result)) {
          first = std::min(first, positionOf(user));
          read = true;
        }
      }
      if (read)
        kept += exampleBytes(result.getType());
    }
    if (returned || first == INT_MAX)
      continue;
    // Operands that would have to live until the recomputation.
    int64_t extended = 0;
    llvm::SmallVector<mlir::Value, 4> seen;
    for (mlir::Value operand : op.getOperands()) {
      if (llvm::is_contained(seen, operand) || isAlwaysAlive(operand))
        continue;
      seen.push_back(operand);
      bool alive = llvm::any_of(operand.getUsers(), [&](mlir::Operation *u) {
        return u != &op && positionOf(u) >= first && readsValue(u, operand);
      });
      if (!alive)
        extended += exampleBytes(operand.getType());
    }
    if (kept - extended <= 0)
      continue;
    candidates.push_back({&op, kept - extended, recomputeCost(&op)});
  }
  return candidates;
}

int recomputeOps(mlir::func::FuncOp function,
                 llvm::ArrayRef<mlir::Operation *> ops) {
  if (ops.empty() || function.getBody().empty())
    return 0;
  mlir::Block &body = function.getBody().front();
  mlir::Operation *start = backwardStart(body);
  std::vector<mlir::Operation *> order(ops.begin(), ops.end());
  for (mlir::Operation *op : order)
    op->removeAttr(kRecomputeAttr);
  if (!start) {
    for (mlir::Operation *op : order)
      remarkRecompute(op, "not recomputed: the function has no backward");
    return 0;
  }
  // Last forward op first: an op recomputed later in this loop then sees
  // the clones of the ops that read it as backward readers, and they read
  // its clone.
  llvm::sort(order, [](mlir::Operation *a, mlir::Operation *b) {
    return b->isBeforeInBlock(a);
  });
  llvm::SmallPtrSet<mlir::Operation *, 16> clones;
  auto isBackward = [&](mlir::Operation *user) {
    return clones.contains(user) || !user->isBeforeInBlock(start);
  };

  int recomputed = 0;
  for (mlir::Operation *op : order) {
    if (op->getBlock() != &body || isBackward(op)) {
      remarkRecompute(op, "not recomputed: not a forward op");
      continue;
    }
    if (!isRecomputable(op)) {
      remarkRecompute(op, "not recomputed: '" + op->getName().getStringRef() +
                              "' is not an op the backward may run again");
      continue;
    }
    mlir::Operation *first = nullptr;
    bool returned = false;
    for (mlir::Value result : op->getResults())
      for (mlir::Operation *user : result.getUsers()) {
        if (mlir::isa<mlir::func::ReturnOp>(user))
          returned = true;
        else if (isBackward(user) && readsValue(user, result) &&
                 (!first || user->isBeforeInBlock(first)))
          first = user;
      }
    if (returned) {
      remarkRecompute(op, "not recomputed: the function returns its result");
      continue;
    }
    if (!first) {
      remarkRecompute(op, "not recomputed: the backward does not read it");
      continue;
    }
    mlir::OpBuilder builder(first);
    unsigned replaced = op->getNumResults();
    mlir::Operation *copy = recomputation(builder, op, replaced);
    clones.insert(copy);
    for (unsigned r = 0; r < replaced; ++r)
      for (mlir::OpOperand &use :
           llvm::make_early_inc_range(op->getResult(r).getUses())) {
        mlir::Operation *user = use.getOwner();
        // Backward uses from the first reader on; an unread use before it
        // keeps the original (it is passed as nullptr).
        if (user == copy || !isBackward(user) ||
            (user != first && user->isBeforeInBlock(first)))
          continue;
        use.set(copy->getResult(r));
      }
    remarkRecompute(op, "recomputed before " + first->getName().getStringRef() +
                            (replaced < op->getNumResults()
                                 ? " from its input and saved statistics (one "
                                   "pass); its output dies after the forward"
                                 : "; its result dies after the forward"));
    ++recomputed;
  }
  return recomputed;
}

std::unique_ptr<mlir::Pass> createRecomputePass() {
  return std::make_unique<RecomputePass>();
}

std::unique_ptr<mlir::Pass> createRecomputePass(bool all) {
  RecomputeOptions options;
  options.all = all;
  return std::make_unique<RecomputePass>(options);
}

} // namespace dlc
