//===- ElementwiseKernels.cpp - emitters of the elementwise-family ops ----===//
//
// The CpuKernels of activations, merges, softmax, shape ops, normalization,
// dropout, embedding and losses, forward and `_grad`. Each emitter derives
// the kernel's descriptor (codegen/cpu/kernels/Elementwise.h) from the
// per-example shapes of the call's values and the op's attributes, declares
// it `static constexpr` and calls the kernel template. A call whose operands
// do not fit the op (which LowerToKernels never builds) emits a
// static_assert naming the problem, so the host compiler reports it instead
// of the program misbehaving.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpu/CpuKernel.h"
#include "codegen/cpu/OperandUse.h"

#include "codegen/cpu/kernels/Normalization.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace dlc::codegen {

namespace {

//===----------------------------------------------------------------------===//
// Text helpers
//===----------------------------------------------------------------------===//

std::string formatInt(int64_t value) { return std::to_string(value); }

/// "a, b, c"
std::string joined(const std::vector<std::string> &items) {
  std::string text;
  for (size_t i = 0; i < items.size(); ++i)
    text += (i ? ", " : "") + items[i];
  return text;
}

/// A code fragment that stops the host compiler with `why`.
CpuKernelCode malformed(const CpuKernelArgs &args, const std::string &why) {
  return malformedCall(args, why);
}

/// `static constexpr dlk::<type> <id>_dims{<fields>};`
std::string dimsDeclaration(const CpuKernelArgs &args, const std::string &type,
                            const std::vector<std::string> &fields) {
  return "static constexpr dlk::" + type + " " + args.id + "_dims{" +
         joined(fields) + "};\n";
}

struct CallParts {
  bool context = false;   ///< pass `ctx` after the descriptor
  bool workspace = false; ///< pass the workspace last
};

/// `dlk::<op><T>(n, <id>_dims[, ctx], operands..., results...[, ws]);`
std::string kernelCall(const CpuKernelArgs &args, const std::string &kernel,
                       const std::vector<std::string> &pointers,
                       CallParts parts = {}) {
  std::vector<std::string> items = {"n", args.id + "_dims"};
  if (parts.context)
    items.push_back("ctx");
  items.insert(items.end(), pointers.begin(), pointers.end());
  if (parts.workspace)
    items.push_back(args.workspace);
  return "dlk::" + kernel + "<T>(" + joined(items) + ");";
}

/// Operands then results, as the kernels take them.
std::vector<std::string> allPointers(const CpuKernelArgs &args) {
  std::vector<std::string> pointers = args.operands;
  pointers.insert(pointers.end(), args.results.begin(), args.results.end());
  return pointers;
}

/// `std::array<T *, k>{...}.data()`, a pointer list alive for the call.
std::string pointerList(const std::string &elementType,
                        const std::vector<std::string> &pointers) {
  return "std::array<" + elementType + ", " + formatInt(pointers.size()) +
         ">{" + joined(pointers) + "}.data()";
}

/// Whether every result is unused (then the call is dropped).
bool allResultsUnused(const CpuKernelArgs &args) {
  for (const std::string &result : args.results)
    if (result != "nullptr")
      return false;
  return !args.results.empty();
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

/// The type of operand `i`, or null if there is no such value.
const TensorInfo *operandType(const CpuKernelArgs &args, size_t i) {
  if (i >= args.call.operands.size())
    return nullptr;
  return kernelValueType(args.program, args.call.operands[i]);
}

/// Elements of a per-example shape with positive dimensions; -1 otherwise.
int64_t positiveCount(const Shape &shape) {
  for (int64_t dim : shape)
    if (dim <= 0)
      return -1;
  return checkedElementCount(shape);
}

/// Checks operand/result counts (against the call and the argument
/// strings); `what` says what is wrong otherwise.
bool checkArity(const CpuKernelArgs &args, size_t operands, size_t results,
                std::string &what) {
  if (args.call.operands.size() != operands ||
      args.operands.size() != operands || args.call.results.size() != results ||
      args.results.size() != results) {
    what = "expects " + std::to_string(operands) + " operands and " +
           std::to_string(results) + " results";
    return false;
  }
  for (size_t i = 0; i < operands; ++i)
    if (!operandType(args, i)) {
      what = "operand " + std::to_string(i) + " is not a value";
      return false;
    }
  return true;
}

/// A per-example axis attribute (negative counts from the end) of a rank.
bool resolveAxis(const Attrs &attrs, size_t rank, size_t &axis) {
  int64_t value = getInt(attrs, "axis", -1);
  int64_t r = static_cast<int64_t>(rank);
  if (value < -r || value >= r)
    return false;
  axis = static_cast<size_t>(value < 0 ? value + r : value);
  return true;
}

int64_t product(const Shape &shape, size_t from, size_t to) {
  int64_t n = 1;
  for (size_t i = from; i < to; ++i)
    n *= shape[i];
  return n;
}

/// Forward or gradient arity of an op with `forwardOperands` operands and
/// `forwardResults` results, whose float operands number `gradResults`.
bool checkOpArity(const CpuKernelArgs &args, bool grad, size_t forwardOperands,
                  size_t forwardResults, size_t gradResults,
                  std::string &what) {
  if (!grad)
    return checkArity(args, forwardOperands, forwardResults, what);
  return checkArity(args, forwardOperands + forwardResults + 1, gradResults,
                    what);
}

bool isGrad(const CpuKernelArgs &args) {
  const std::string &op = args.call.op;
  return op.size() > 5 && op.compare(op.size() - 5, 5, "_grad") == 0;
}

/// The call's result statement, dropped if nobody reads a result.
CpuKernelCode finish(const CpuKernelArgs &args, std::string declarations,
                     std::string statement) {
  CpuKernelCode code;
  if (allResultsUnused(args))
    return code;
  code.declarations = std::move(declarations);
  code.statement = std::move(statement);
  return code;
}

//===----------------------------------------------------------------------===//
// Emitters
//===----------------------------------------------------------------------===//

/// relu, sigmoid, tanh, abs, leaky_relu, elu and their gradients.
CpuKernelCode emitActivation(const CpuKernelArgs &args) {
  std::string what;
  if (!checkOpArity(args, isGrad(args), 1, 1, 1, what))
    return malformed(args, what);
  int64_t size = positiveCount(operandType(args, 0)->shape);
  if (size < 0)
    return malformed(args, "bad input shape");
  std::string base = args.call.op.substr(0, args.call.op.find("_grad"));
  double alpha = 0;
  if (base == "leaky_relu")
    alpha = getFloat(args.call.attrs, "alpha", 0.3);
  else if (base == "elu")
    alpha = getFloat(args.call.attrs, "alpha", 1.0);
  return finish(args,
                dimsDeclaration(args, "ElementwiseDims",
                                {formatInt(size), cppDoubleLiteral(alpha)}),
                kernelCall(args, args.call.op, allPointers(args)));
}

CpuKernelCode emitSoftmax(const CpuKernelArgs &args) {
  std::string what;
  if (!checkOpArity(args, isGrad(args), 1, 1, 1, what))
    return malformed(args, what);
  const Shape &shape = operandType(args, 0)->shape;
  size_t axis = 0;
  if (positiveCount(shape) < 0 ||
      !resolveAxis(args.call.attrs, shape.size(), axis))
    return malformed(args, "bad input shape or axis");
  return finish(args,
                dimsDeclaration(
                    args, "SoftmaxDims",
                    {formatInt(product(shape, 0, axis)), formatInt(shape[axis]),
                     formatInt(product(shape, axis + 1, shape.size()))}),
                kernelCall(args, args.call.op, allPointers(args)));
}

/// add, subtract, multiply and the gradients of the last two.
CpuKernelCode emitBinary(const CpuKernelArgs &args) {
  std::string what;
  if (!checkOpArity(args, isGrad(args), 2, 1, 2, what))
    return malformed(args, what);
  const Shape &shape = operandType(args, 0)->shape;
  int64_t size = positiveCount(shape);
  if (size < 0 || operandType(args, 1)->shape != shape)
    return malformed(args, "operands of different shapes");
  return finish(args,
                dimsDeclaration(args, "ElementwiseDims",
                                {formatInt(size), cppDoubleLiteral(0)}),
                kernelCall(args, args.call.op, allPointers(args)));
}

/// concat(x1..xk) -> y; concat_grad(x1..xk, y, dy) -> (dx1..dxk).
CpuKernelCode emitConcat(const CpuKernelArgs &args) {
  bool grad = isGrad(args);
  size_t count =
      grad
          ? (args.call.operands.size() >= 2 ? args.call.operands.size() - 2 : 0)
          : args.call.operands.size();
  std::string what;
  if (count == 0 || !checkOpArity(args, grad, count, 1, count, what))
    return malformed(args, what.empty() ? "expects at least one input" : what);
  const TensorInfo *result =
      grad ? operandType(args, count)
           : kernelValueType(args.program, args.call.results[0]);
  if (!result)
    return malformed(args, "result is not a value");
  const Shape &shape = result->shape;
  size_t axis = 0;
  if (positiveCount(shape) < 0 ||
      !resolveAxis(args.call.attrs, shape.size(), axis))
    return malformed(args, "bad result shape or axis");
  int64_t inner = product(shape, axis + 1, shape.size());
  std::vector<std::string> chunks;
  int64_t total = 0;
  for (size_t j = 0; j < count; ++j) {
    const Shape &in = operandType(args, j)->shape;
    if (in.size() != shape.size() || positiveCount(in) < 0)
      return malformed(args, "input of another rank");
    for (size_t a = 0; a < in.size(); ++a)
      if (a != axis && in[a] != shape[a])
        return malformed(args, "inputs differ off the concat axis");
    chunks.push_back(formatInt(in[axis] * inner));
    total += in[axis] * inner;
  }
  if (total != shape[axis] * inner)
    return malformed(args, "input sizes do not sum to the result");
  std::string declarations =
      "static constexpr int64_t " + args.id + "_chunks[] = {" + joined(chunks) +
      "};\n" +
      dimsDeclaration(args, "ConcatDims",
                      {formatInt(count), formatInt(product(shape, 0, axis)),
                       formatInt(total), args.id + "_chunks"});
  std::vector<std::string> inputs(args.operands.begin(),
                                  args.operands.begin() + count);
  std::vector<std::string> pointers = {pointerList("const T *", inputs)};
  if (grad) {
    pointers.push_back(args.operands[count]);
    pointers.push_back(args.operands[count + 1]);
    pointers.push_back(pointerList("T *", args.results));
  } else {
    pointers.push_back(args.results[0]);
  }
  return finish(args, declarations, kernelCall(args, args.call.op, pointers));
}

/// A spatial op's x[H, W, C] and y, both rank 3 with positive dimensions.
bool spatialShapes(const CpuKernelArgs &args, bool grad, Shape &x, Shape &y) {
  const TensorInfo *out =
      grad ? operandType(args, 1)
           : kernelValueType(args.program, args.call.results[0]);
  if (!out)
    return false;
  x = operandType(args, 0)->shape;
  y = out->shape;
  return x.size() == 3 && y.size() == 3 && positiveCount(x) > 0 &&
         positiveCount(y) > 0;
}

CpuKernelCode emitZeroPadding(const CpuKernelArgs &args) {
  bool grad = isGrad(args);
  std::string what;
  if (!checkOpArity(args, grad, 1, 1, 1, what))
    return malformed(args, what);
  Shape x, y;
  std::vector<int64_t> pad = getInts(args.call.attrs, "pad", {1, 1, 1, 1});
  if (!spatialShapes(args, grad, x, y) || pad.size() != 4)
    return malformed(args, "expects x[H, W, C] and pad[4]");
  for (int64_t p : pad)
    if (p < 0 || p > (int64_t(1) << 40))
      return malformed(args, "bad padding");
  if (y[0] != x[0] + pad[0] + pad[1] || y[1] != x[1] + pad[2] + pad[3] ||
      y[2] != x[2])
    return malformed(args, "result shape does not match the padding");
  return finish(
      args,
      dimsDeclaration(args, "ZeroPadding2dDims",
                      {formatInt(x[0]), formatInt(x[1]), formatInt(x[2]),
                       formatInt(pad[0]), formatInt(pad[1]), formatInt(pad[2]),
                       formatInt(pad[3])}),
      kernelCall(args, args.call.op, allPointers(args)));
}

CpuKernelCode emitUpsampling(const CpuKernelArgs &args) {
  bool grad = isGrad(args);
  std::string what;
  if (!checkOpArity(args, grad, 1, 1, 1, what))
    return malformed(args, what);
  Shape x, y;
  std::vector<int64_t> size = getInts(args.call.attrs, "size", {2, 2});
  if (!spatialShapes(args, grad, x, y) || size.size() != 2 || size[0] <= 0 ||
      size[1] <= 0)
    return malformed(args, "expects x[H, W, C] and size[2]");
  if (y[0] / size[0] != x[0] || y[0] % size[0] != 0 || y[1] / size[1] != x[1] ||
      y[1] % size[1] != 0 || y[2] != x[2])
    return malformed(args, "result shape does not match the size");
  return finish(
      args,
      dimsDeclaration(args, "Upsampling2dDims",
                      {formatInt(x[0]), formatInt(x[1]), formatInt(x[2]),
                       formatInt(size[0]), formatInt(size[1])}),
      kernelCall(args, args.call.op, allPointers(args)));
}

/// The operand/result counts of the normalization ops: forward operands,
/// forward results.
struct NormalizationArity {
  size_t operands;
  size_t results;
};

NormalizationArity normalizationArity(const std::string &op) {
  if (op.rfind("layernorm", 0) == 0)
    return {3, 1};
  if (op.rfind("batchnorm_train", 0) == 0)
    return {5, 3};
  return {5, 1};
}

/// The channel count of a normalization call (0 if malformed).
int64_t normalizationChannels(const KernelProgram &program,
                              const KernelCall &call) {
  if (call.operands.empty() || call.operands[0] < 0 ||
      static_cast<size_t>(call.operands[0]) >= program.values.size())
    return 0;
  const Shape &shape = program.values[call.operands[0]].type.shape;
  if (shape.empty() || shape.back() <= 0)
    return 0;
  return shape.back();
}

CpuKernelCode emitNormalization(const CpuKernelArgs &args) {
  bool grad = isGrad(args);
  NormalizationArity arity = normalizationArity(args.call.op);
  std::string what;
  if (!checkOpArity(args, grad, arity.operands, arity.results, arity.operands,
                    what))
    return malformed(args, what);
  const Shape &shape = operandType(args, 0)->shape;
  int64_t count = positiveCount(shape);
  if (count < 0 || shape.empty())
    return malformed(args, "expects x[..., C]");
  int64_t channels = shape.back();
  for (size_t p = 1; p < arity.operands; ++p) {
    const TensorInfo *param = operandType(args, p);
    if (param->shape != Shape{channels})
      return malformed(args, "parameters must be [C]");
  }
  double epsilon = getFloat(args.call.attrs, "epsilon", 1e-3);
  bool workspace = args.call.op != "layernorm";
  return finish(
      args,
      dimsDeclaration(args, "NormalizationDims",
                      {formatInt(count / channels), formatInt(channels),
                       cppDoubleLiteral(epsilon)}),
      kernelCall(args, args.call.op, allPointers(args), {false, workspace}));
}

int64_t normalizationWorkspace(const KernelProgram &program,
                               const KernelCall &call, int) {
  if (call.op == "layernorm")
    return 0;
  return dlk::normalizationWorkspaceBytes(normalizationChannels(program, call));
}

CpuKernelCode emitDropout(const CpuKernelArgs &args) {
  std::string what;
  if (!checkOpArity(args, isGrad(args), 1, 1, 1, what))
    return malformed(args, what);
  int64_t size = positiveCount(operandType(args, 0)->shape);
  double rate = getFloat(args.call.attrs, "rate", 0.0);
  if (size < 0 || !(rate >= 0.0 && rate <= 1.0))
    return malformed(args, "bad input shape or rate");
  return finish(
      args,
      dimsDeclaration(args, "DropoutDims",
                      {formatInt(size), cppDoubleLiteral(rate),
                       formatInt(getInt(args.call.attrs, "seed_offset", 0))}),
      kernelCall(args, args.call.op, allPointers(args), {true, false}));
}

/// embedding(ids, table) -> y; embedding_grad(ids, table, y, dy) -> dtable.
CpuKernelCode emitEmbedding(const CpuKernelArgs &args) {
  bool grad = isGrad(args);
  std::string what;
  if (!checkArity(args, grad ? 4 : 2, 1, what))
    return malformed(args, what);
  const TensorInfo *ids = operandType(args, 0);
  const TensorInfo *table = operandType(args, 1);
  int64_t count = positiveCount(ids->shape);
  if (count < 0 || ids->elementType != ElementType::I32 ||
      table->shape.size() != 2 || positiveCount(table->shape) < 0)
    return malformed(args, "expects i32 ids and a [rows, width] table");
  return finish(args,
                dimsDeclaration(args, "EmbeddingDims",
                                {formatInt(count), formatInt(table->shape[0]),
                                 formatInt(table->shape[1])}),
                kernelCall(args, args.call.op, allPointers(args)));
}

/// The losses (pred, target) -> loss and their gradients.
CpuKernelCode emitLoss(const CpuKernelArgs &args) {
  bool grad = isGrad(args);
  bool sparse = args.call.op.rfind("sparse_", 0) == 0;
  std::string what;
  if (!checkOpArity(args, grad, 2, 1, sparse ? 1 : 2, what))
    return malformed(args, what);
  const Shape &pred = operandType(args, 0)->shape;
  const TensorInfo *target = operandType(args, 1);
  int64_t size = positiveCount(pred);
  if (size < 0)
    return malformed(args, "bad prediction shape");
  int64_t classes = pred.empty() ? 1 : pred.back();
  if (sparse) {
    Shape rows(pred.begin(), pred.end() - (pred.empty() ? 0 : 1));
    if (pred.empty() || target->elementType != ElementType::I32 ||
        target->shape != rows)
      return malformed(args, "expects pred[..., K] and i32 labels[...]");
  } else if (target->shape != pred) {
    return malformed(args, "prediction and target shapes differ");
  }
  bool fromLogits = getBool(args.call.attrs, "from_logits", false);
  return finish(args,
                dimsDeclaration(args, "LossDims",
                                {formatInt(size), formatInt(classes),
                                 fromLogits ? "true" : "false"}),
                kernelCall(args, args.call.op, allPointers(args)));
}

/// The `weights` attribute as doubles.
std::vector<double> lossWeights(const Attrs &attrs) {
  auto it = attrs.find("weights");
  if (it == attrs.end())
    return {};
  if (const auto *d = std::get_if<std::vector<double>>(&it->second))
    return *d;
  if (const auto *i = std::get_if<std::vector<int64_t>>(&it->second))
    return std::vector<double>(i->begin(), i->end());
  return {};
}

/// weighted_sum(l1..lk) -> y; weighted_sum_grad(l1..lk, y, dy) -> d1..dk.
CpuKernelCode emitWeightedSum(const CpuKernelArgs &args) {
  bool grad = isGrad(args);
  size_t count =
      grad
          ? (args.call.operands.size() >= 2 ? args.call.operands.size() - 2 : 0)
          : args.call.operands.size();
  std::string what;
  if (count == 0 || !checkOpArity(args, grad, count, 1, count, what))
    return malformed(args, what.empty() ? "expects at least one loss" : what);
  std::vector<double> weights = lossWeights(args.call.attrs);
  if (weights.size() != count)
    return malformed(args, "expects one weight per loss");
  std::vector<std::string> literals;
  for (double w : weights)
    literals.push_back(cppDoubleLiteral(w));
  std::string declarations =
      "static constexpr double " + args.id + "_weights[] = {" +
      joined(literals) + "};\n" +
      dimsDeclaration(args, "WeightedSumDims",
                      {formatInt(count), args.id + "_weights"});
  std::vector<std::string> losses(args.operands.begin(),
                                  args.operands.begin() + count);
  std::vector<std::string> pointers = {pointerList("const T *", losses)};
  if (grad) {
    pointers.push_back(args.operands[count]);
    pointers.push_back(args.operands[count + 1]);
    pointers.push_back(pointerList("T *", args.results));
  } else {
    pointers.push_back(args.results[0]);
  }
  return finish(args, declarations, kernelCall(args, args.call.op, pointers));
}

/// reshape aliases its operand: nothing runs.
CpuKernelCode emitNothing(const CpuKernelArgs &) { return {}; }

void add(CpuKernelRegistry &registry, const std::string &op,
         CpuKernelCode (*emit)(const CpuKernelArgs &), int inPlaceOperand,
         int64_t (*workspace)(const KernelProgram &, const KernelCall &,
                              int) = nullptr) {
  CpuKernel kernel;
  kernel.emit = emit;
  kernel.inPlaceOperand = inPlaceOperand;
  kernel.workspaceBytes = workspace;
  registry[op] = kernel;
}

} // namespace

void registerElementwiseKernels(CpuKernelRegistry &registry) {
  // Forward elementwise ops may write over their first operand; gradients
  // over dy (their last operand).
  for (const char *op :
       {"relu", "sigmoid", "tanh", "abs", "leaky_relu", "elu"}) {
    add(registry, op, emitActivation, 0);
    add(registry, std::string(op) + "_grad", emitActivation, 2);
  }
  add(registry, "softmax", emitSoftmax, 0);
  add(registry, "softmax_grad", emitSoftmax, 2);
  add(registry, "add", emitBinary, 0);
  add(registry, "subtract", emitBinary, 0);
  add(registry, "multiply", emitBinary, 0);
  add(registry, "subtract_grad", emitBinary, 3);
  add(registry, "multiply_grad", emitBinary, 3);
  add(registry, "concat", emitConcat, -1);
  add(registry, "concat_grad", emitConcat, -1);
  add(registry, "zero_padding2d", emitZeroPadding, -1);
  add(registry, "zero_padding2d_grad", emitZeroPadding, -1);
  add(registry, "upsampling2d", emitUpsampling, -1);
  add(registry, "upsampling2d_grad", emitUpsampling, -1);
  add(registry, "batchnorm", emitNormalization, 0, normalizationWorkspace);
  add(registry, "batchnorm_grad", emitNormalization, 6, normalizationWorkspace);
  add(registry, "batchnorm_train", emitNormalization, 0,
      normalizationWorkspace);
  add(registry, "batchnorm_train_grad", emitNormalization, 8,
      normalizationWorkspace);
  add(registry, "layernorm", emitNormalization, 0);
  add(registry, "layernorm_grad", emitNormalization, 4, normalizationWorkspace);
  add(registry, "dropout", emitDropout, 0);
  add(registry, "dropout_grad", emitDropout, 2);
  add(registry, "embedding", emitEmbedding, -1);
  add(registry, "embedding_grad", emitEmbedding, -1);
  for (const char *op :
       {"mse", "mae", "binary_crossentropy", "categorical_crossentropy",
        "sparse_categorical_crossentropy"}) {
    add(registry, op, emitLoss, -1);
    add(registry, std::string(op) + "_grad", emitLoss, -1);
  }
  add(registry, "weighted_sum", emitWeightedSum, -1);
  add(registry, "weighted_sum_grad", emitWeightedSum, -1);

  // What each gradient kernel reads (codegen/cpu/OperandUse.h).
  using namespace operand_use;
  for (const char *op :
       {"relu_grad", "sigmoid_grad", "tanh_grad", "softmax_grad"})
    registry[op].readsOperand = allBut<0>; // y and dy
  for (const char *op : {"abs_grad", "leaky_relu_grad", "elu_grad"})
    registry[op].readsOperand = allBut<1>; // x and dy
  for (const char *op :
       {"subtract_grad", "concat_grad", "zero_padding2d_grad",
        "upsampling2d_grad", "dropout_grad", "weighted_sum_grad"})
    registry[op].readsOperand = onlyLast;
  registry["multiply_grad"].readsOperand = multiplyGradient;
  registry["batchnorm_grad"].readsOperand = batchnormGradient;
  registry["batchnorm_train_grad"].readsOperand = batchnormTrainGradient;
  registry["layernorm_grad"].readsOperand = layernormGradient;
  registry["embedding_grad"].readsOperand = allBut<1, 2>; // ids and dy
  for (const char *op : {"mse_grad", "mae_grad", "binary_crossentropy_grad",
                         "categorical_crossentropy_grad",
                         "sparse_categorical_crossentropy_grad"})
    registry[op].readsOperand = allBut<2>; // not the loss

  CpuKernel reshape;
  reshape.emit = emitNothing;
  reshape.aliasesOperand = true;
  registry["reshape"] = reshape;
}

} // namespace dlc::codegen
