//===- LowerToKernels.cpp - from a dl module to the kernel-level form -----===//

#include "codegen/LowerToKernels.h"

#include "codegen/FusedElementwiseBody.h"
#include "ir/AttrConversion.h"
#include "ir/DLOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace dlc::codegen {
namespace {

bool toTensorInfo(Type type, TensorInfo &info) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return false;
  Type element = tensor.getElementType();
  if (element.isF32())
    info.elementType = ElementType::F32;
  else if (element.isF64())
    info.elementType = ElementType::F64;
  else if (element.isInteger(32))
    info.elementType = ElementType::I32;
  else
    return false;
  ArrayRef<int64_t> dims = tensor.getShape();
  info.batched = !dims.empty() && ShapedType::isDynamic(dims.front());
  info.shape.assign(dims.begin() + (info.batched ? 1 : 0), dims.end());
  for (int64_t dim : info.shape)
    if (ShapedType::isDynamic(dim) || dim < 0)
      return false;
  return true;
}

//===----------------------------------------------------------------------===//
// dl.fused_elementwise: the region travels as attributes
//===----------------------------------------------------------------------===//

/// Encodes the body of `fused` into `call` (codegen/FusedElementwiseBody.h).
/// The call's operands are the op's, then one per dl.param read inside the
/// region (the persistent value from `parameters`).
bool encodeFusedElementwise(dl::FusedElementwiseOp fused,
                            const llvm::DenseMap<Attribute, int> &parameters,
                            KernelCall &call, std::string &error) {
  FusedBody body;
  llvm::DenseMap<Value, int> ids;
  Block &block = fused.getBody().front();
  for (BlockArgument argument : block.getArguments())
    ids[argument] = static_cast<int>(argument.getArgNumber());
  int next = static_cast<int>(block.getNumArguments());
  for (auto param : block.getOps<dl::ParamOp>()) {
    auto found = parameters.find(param.getParameterAttr().getAttr());
    if (found == parameters.end()) {
      error = "reads an unknown parameter @" + param.getParameter().str();
      return false;
    }
    call.operands.push_back(found->second);
    ids[param.getResult()] = next++;
  }
  body.inputs = next;
  for (Operation &op : block) {
    if (isa<dl::ParamOp>(op))
      continue;
    std::vector<int> operands;
    for (Value operand : op.getOperands()) {
      auto found = ids.find(operand);
      if (found == ids.end()) {
        error = "an operand in its body is not defined before it";
        return false;
      }
      operands.push_back(found->second);
    }
    if (isa<dl::ElementwiseYieldOp>(op)) {
      body.yields = std::move(operands);
      continue;
    }
    StringRef name = op.getName().getStringRef();
    if (!name.consume_front("dl.")) {
      error = "holds '" + name.str() + "'";
      return false;
    }
    FusedBody::Op inner;
    inner.name = name.str();
    inner.operands = std::move(operands);
    inner.attrs = toPlainAttrs(op.getAttrDictionary());
    for (Value result : op.getResults()) {
      inner.results.push_back(next);
      ids[result] = next++;
    }
    body.ops.push_back(std::move(inner));
  }
  encodeFusedBody(body, call.attrs);
  return true;
}

class Lowering {
public:
  Lowering(KernelProgram &program, std::string &error)
      : program(program), error(error) {}

  bool lower(ModuleOp module) {
    for (auto parameter : module.getOps<dl::ParameterOp>())
      if (!addParameter(parameter))
        return false;
    // Entry points in a fixed order; the model function comes last.
    static const char *const roles[][2] = {{"dl.train_step", "train_step"},
                                           {"dl.gradients", "gradients"},
                                           {"dl.eval", "evaluate"},
                                           {"dl.model", "predict"}};
    for (const auto &role : roles)
      for (auto function : module.getOps<func::FuncOp>())
        if (function->hasAttr(role[0]) && !lowerFunction(function, role[1]))
          return false;
    if (program.functions.empty() || program.functions.back().role != "predict")
      return fail("the module has no model function (dl.model)");
    program.numInputs =
        static_cast<int>(program.functions.back().arguments.size());
    for (auto function : module.getOps<func::FuncOp>())
      if (function->hasAttr("dl.train_step"))
        if (auto targets =
                function->getAttrOfType<DenseI64ArrayAttr>("dl.target_inputs"))
          program.targetInputs.assign(targets.asArrayRef().begin(),
                                      targets.asArrayRef().end());
    return true;
  }

private:
  bool fail(const std::string &message) {
    error = message;
    return false;
  }

  int addValue(KernelValue value) {
    program.values.push_back(std::move(value));
    return static_cast<int>(program.values.size() - 1);
  }

  bool addParameter(dl::ParameterOp parameter) {
    KernelValue value;
    value.kind = KernelValue::Kind::Persistent;
    value.name = parameter.getSymName().str();
    if (!toTensorInfo(parameter.getType(), value.type))
      return fail("parameter @" + value.name + " has an unsupported type");
    value.type.batched = false;
    value.init = parameter.getInit().str();
    value.fanIn = parameter.getFanIn();
    value.fanOut = parameter.getFanOut();
    value.trainable = parameter.getTrainable();
    value.optimizerState = parameter->hasAttr("dl.optimizer_state");
    parameters[parameter.getSymNameAttr()] = addValue(std::move(value));
    return true;
  }

  /// The shared value of function argument `index`: the model inputs and
  /// targets are the same buffers for every entry point.
  int argumentValue(size_t index, Type type, StringRef name) {
    if (index < arguments.size())
      return arguments[index];
    KernelValue value;
    value.kind = KernelValue::Kind::Argument;
    toTensorInfo(type, value.type);
    value.name = name.str();
    arguments.push_back(addValue(std::move(value)));
    return arguments.back();
  }

  bool lowerFunction(func::FuncOp function, const char *role) {
    KernelFunction kernels;
    kernels.name = function.getSymName().str();
    kernels.role = role;
    llvm::DenseMap<Value, int> ids;
    auto names = function->getAttrOfType<ArrayAttr>("dl.input_names");
    Block &body = function.getBody().front();
    for (BlockArgument argument : body.getArguments()) {
      TensorInfo info;
      if (!toTensorInfo(argument.getType(), info))
        return fail("@" + kernels.name + ": argument " +
                    std::to_string(argument.getArgNumber()) +
                    " has an unsupported type");
      StringRef name;
      if (names && argument.getArgNumber() < names.size())
        if (auto text = dyn_cast<StringAttr>(names[argument.getArgNumber()]))
          name = text.getValue();
      int id = argumentValue(argument.getArgNumber(), argument.getType(), name);
      if (program.values[id].type.shape != info.shape ||
          program.values[id].type.elementType != info.elementType)
        return fail("@" + kernels.name + ": argument " +
                    std::to_string(argument.getArgNumber()) +
                    " differs in type from the other functions'");
      ids[argument] = id;
      kernels.arguments.push_back(id);
    }
    for (Operation &op : body) {
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        for (Value value : ret.getOperands()) {
          auto found = ids.find(value);
          if (found == ids.end())
            return fail("@" + kernels.name + " returns an unknown value");
          kernels.results.push_back(found->second);
        }
        continue;
      }
      if (auto param = dyn_cast<dl::ParamOp>(op)) {
        auto found = parameters.find(param.getParameterAttr().getAttr());
        if (found == parameters.end())
          return fail("@" + kernels.name + " reads an unknown parameter @" +
                      param.getParameter().str());
        ids[param.getResult()] = found->second;
        continue;
      }
      StringRef opName = op.getName().getStringRef();
      if (!opName.consume_front("dl."))
        return fail("@" + kernels.name + " still holds '" +
                    op.getName().getStringRef().str() +
                    "'; run the training pipeline (calls inlined) first");
      KernelCall call;
      call.op = opName.str();
      call.attrs = toPlainAttrs(op.getAttrDictionary());
      call.location = describeLocation(op.getLoc());
      for (Value operand : op.getOperands()) {
        auto found = ids.find(operand);
        if (found == ids.end())
          return fail("@" + kernels.name + ": an operand of dl." + call.op +
                      " is not defined before it");
        call.operands.push_back(found->second);
      }
      if (auto fused = dyn_cast<dl::FusedElementwiseOp>(op)) {
        std::string why;
        if (!encodeFusedElementwise(fused, parameters, call, why))
          return fail("@" + kernels.name + ": dl.fused_elementwise " + why);
      }
      for (OpResult result : op.getResults()) {
        KernelValue value;
        value.kind = KernelValue::Kind::Temporary;
        if (!toTensorInfo(result.getType(), value.type))
          return fail("@" + kernels.name + ": dl." + call.op +
                      " has a result of unsupported type");
        value.name = "%" + std::to_string(program.values.size());
        int id = addValue(std::move(value));
        ids[result] = id;
        call.results.push_back(id);
      }
      kernels.calls.push_back(std::move(call));
    }
    if (auto gradParams =
            function->getAttrOfType<ArrayAttr>("dl.grad_params")) {
      for (Attribute symbol : gradParams) {
        auto ref = dyn_cast<FlatSymbolRefAttr>(symbol);
        auto found = ref ? parameters.find(ref.getAttr()) : parameters.end();
        if (found == parameters.end())
          return fail("@" + kernels.name +
                      ": dl.grad_params names an unknown parameter");
        kernels.gradientOf.push_back(found->second);
      }
    }
    program.functions.push_back(std::move(kernels));
    return true;
  }

  KernelProgram &program;
  std::string &error;
  llvm::DenseMap<Attribute, int> parameters;
  std::vector<int> arguments;
};

} // namespace

SourcePlace sourcePlace(Location loc) {
  // Inlined ops carry callsite(callee at caller): the callee is the layer.
  while (auto callSite = dyn_cast<CallSiteLoc>(loc))
    loc = callSite.getCallee();
  SourcePlace place;
  if (auto named = dyn_cast<NameLoc>(loc)) {
    place.layer = named.getName().str();
    loc = named.getChildLoc();
  }
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    place.position = file.getFilename().str() + ":" +
                     std::to_string(file.getLine()) + ":" +
                     std::to_string(file.getColumn());
  return place;
}

std::string describeLocation(Location loc) {
  SourcePlace place = sourcePlace(loc);
  if (place.layer.empty())
    return place.position;
  return place.position.empty() ? place.layer
                                : place.layer + " (" + place.position + ")";
}

bool lowerToKernels(ModuleOp module, int64_t maxBatch, KernelProgram &program,
                    std::string &error) {
  program = KernelProgram();
  program.maxBatch = maxBatch;
  for (auto function : module.getOps<func::FuncOp>())
    if (function->hasAttr("dl.model"))
      program.modelName = function.getSymName().str();
  return Lowering(program, error).lower(module);
}

} // namespace dlc::codegen
