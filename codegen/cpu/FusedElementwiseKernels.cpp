//===- FusedElementwiseKernels.cpp - one loop for a chain of ops ----------===//
//
// The CpuKernel of `fused_elementwise` (ir/DLFusedElementwiseOps.td): its
// body (codegen/FusedElementwiseBody.h) becomes one loop over the elements
// of the chain's shape, OpenMP-parallel and vectorizable, computing every
// op of the body per element in registers from the table below. Operands
// read per element are loaded once, 0-d operands once before the loop,
// states (optimizer slots, parameters) are loaded, updated and stored back;
// only the yielded values that someone reads are stored. With a dropout in
// the body the loop runs over blocks of four elements, one Philox block
// each, as kernels/Dropout.h does.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpu/FusedElementwiseKernels.h"

#include "codegen/FusedElementwiseBody.h"
#include "codegen/cpu/CpuKernel.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

namespace dlc::codegen {
namespace {

//===----------------------------------------------------------------------===//
// Formulas
//===----------------------------------------------------------------------===//

/// "dlk::fused::<function><T>(a, b, ...)"
std::string call(const std::string &function,
                 const std::vector<std::string> &arguments,
                 const std::string &templateArguments = "T") {
  std::string text = "dlk::fused::" + function + "<" + templateArguments + ">(";
  for (size_t i = 0; i < arguments.size(); ++i)
    text += (i ? ", " : "") + arguments[i];
  return text + ")";
}

/// `const T <result 0> = <expression>;`
bool define(FusedOpCode &code, const std::string &expression) {
  code.element += "const T " + code.results[0] + " = " + expression + ";\n";
  return true;
}

/// `T r0, r1; <statement with r0, r1>;`
bool defineTwo(FusedOpCode &code, const std::string &function,
               std::vector<std::string> arguments,
               const std::string &templateArguments = "T") {
  code.element += "T " + code.results[0] + ", " + code.results[1] + ";\n";
  arguments.push_back(code.results[0]);
  arguments.push_back(code.results[1]);
  code.element += call(function, arguments, templateArguments) + ";\n";
  return true;
}

/// A float attribute, or an error naming it.
bool floatAttr(FusedOpCode &code, const std::string &name, double &value) {
  auto found = code.attrs.find(name);
  if (found != code.attrs.end()) {
    if (const auto *d = std::get_if<double>(&found->second)) {
      value = *d;
      return true;
    }
    if (const auto *i = std::get_if<int64_t>(&found->second)) {
      value = static_cast<double>(*i);
      return true;
    }
  }
  code.error = "needs the float attribute '" + name + "'";
  return false;
}

std::string constant(const FusedOpCode &code) { return code.prefix + "c"; }

/// relu, sigmoid, tanh, abs: y = f(x).
bool emitUnary(FusedOpCode &code, const char *function) {
  return define(code, call(function, {code.operands[0]}));
}

/// leaky_relu, elu and their gradients: alpha is a per-call constant.
bool emitAlpha(FusedOpCode &code, const char *function, bool grad,
               double fallback) {
  double alpha = getFloat(code.attrs, "alpha", fallback);
  code.setup += "const T " + constant(code) + " = static_cast<T>(" +
                cppDoubleLiteral(alpha) + ");\n";
  if (grad)
    return define(code, call(function, {code.operands[0], code.operands[2],
                                        constant(code)}));
  return define(code, call(function, {code.operands[0], constant(code)}));
}

/// abs_grad reads (x, dy); relu_grad, sigmoid_grad, tanh_grad (y, dy).
bool emitGradOfX(FusedOpCode &code, const char *function) {
  return define(code, call(function, {code.operands[0], code.operands[2]}));
}
bool emitGradOfY(FusedOpCode &code, const char *function) {
  return define(code, call(function, {code.operands[1], code.operands[2]}));
}

bool emitBinary(FusedOpCode &code, const char *function) {
  return define(code, call(function, {code.operands[0], code.operands[1]}));
}

/// add_n: left to right, as kernels/Training.h's add_n accumulates.
bool emitAddN(FusedOpCode &code) {
  std::string sum = code.operands[0];
  for (size_t i = 1; i < code.operands.size(); ++i)
    sum = call("add", {sum, code.operands[i]});
  return define(code, sum);
}

/// dropout (x) and dropout_grad (x, y, dy): the block's words, then factor
/// times the element.
bool emitDropout(FusedOpCode &code, bool grad) {
  double rate = 0;
  if (!floatAttr(code, "rate", rate))
    return false;
  if (!(rate >= 0.0 && rate <= 1.0)) {
    code.error = "dropout rate outside [0, 1]";
    return false;
  }
  int64_t seedOffset = getInt(code.attrs, "seed_offset", 0);
  const std::string c = constant(code), words = code.prefix + "words";
  code.setup += "const auto " + c + " = dlk::fused::dropoutScalars<T>(ctx, " +
                cppDoubleLiteral(rate) + ", " + std::to_string(seedOffset) +
                ");\n";
  code.block +=
      "const dlc::rt::PhiloxBlock " + words + " = " + c + ".words(b);\n";
  return define(code,
                call(grad ? "dropout_grad" : "dropout",
                     {c, words + ".v[lane]", code.operands[grad ? 2 : 0]}));
}

/// Elementwise loss gradients (pred, target, loss, dloss) -> dpred, dtarget.
bool emitLossGrad(FusedOpCode &code, const char *function, bool logits) {
  const std::string c = constant(code);
  code.setup += "const double " + c + " = " +
                call("lossGradScale", {code.operands[3], "total"}) + ";\n";
  std::vector<std::string> arguments = {c};
  if (logits)
    arguments.push_back(getBool(code.attrs, "from_logits", false) ? "true"
                                                                  : "false");
  arguments.push_back(code.operands[0]);
  arguments.push_back(code.operands[1]);
  return defineTwo(code, function, arguments);
}

/// l2_loss_grad (w, loss, dloss) -> dw.
bool emitL2LossGrad(FusedOpCode &code) {
  double l2 = 0;
  if (!floatAttr(code, "l2", l2))
    return false;
  const std::string c = constant(code);
  code.setup +=
      "const T " + c + " = " +
      call("l2LossGradScale", {cppDoubleLiteral(l2), code.operands[2]}) + ";\n";
  return define(code, call("l2_loss_grad", {c, code.operands[0]}));
}

bool emitMovingAverage(FusedOpCode &code) {
  double momentum = 0;
  if (!floatAttr(code, "momentum", momentum))
    return false;
  const std::string c = constant(code);
  code.setup += "const auto " + c + " = " +
                call("movingAverageScalars", {cppDoubleLiteral(momentum)}) +
                ";\n";
  code.element +=
      call("moving_average_update", {c, code.operands[0], code.operands[1]}) +
      ";\n";
  return true;
}

/// sgd_update (p, g [, velocity]); the slot is there iff momentum != 0.
bool emitSgd(FusedOpCode &code) {
  double momentum = 0;
  if (!floatAttr(code, "momentum", momentum))
    return false;
  const bool velocity = code.operands.size() == 3;
  if (velocity != (momentum != 0)) {
    code.error = "has a velocity slot iff momentum != 0";
    return false;
  }
  const std::string c = constant(code);
  code.setup += "const auto " + c + " = " +
                call("sgdScalars", {"ctx", cppDoubleLiteral(momentum)}) + ";\n";
  if (!velocity) {
    code.element +=
        call("sgd_update", {c, code.operands[0], code.operands[1]}) + ";\n";
    return true;
  }
  const bool nesterov = getBool(code.attrs, "nesterov", false);
  code.element +=
      call("sgd_update",
           {c, code.operands[0], code.operands[1], code.operands[2]},
           std::string("T, ") + (nesterov ? "true" : "false")) +
      ";\n";
  return true;
}

/// rmsprop_update (p, g, rms [, mom] [, mean]).
bool emitRmsprop(FusedOpCode &code) {
  double rho = 0, momentum = 0, epsilon = 0;
  if (!floatAttr(code, "rho", rho) || !floatAttr(code, "momentum", momentum) ||
      !floatAttr(code, "epsilon", epsilon))
    return false;
  const bool hasMomentum = momentum > 0;
  const bool centered = getBool(code.attrs, "centered", false);
  if (code.operands.size() !=
      3 + (hasMomentum ? 1u : 0u) + (centered ? 1u : 0u)) {
    code.error = "has the mom slot iff momentum > 0, mean iff centered";
    return false;
  }
  const std::string c = constant(code), unused = code.prefix + "unused";
  code.setup += "const auto " + c + " = " +
                call("rmspropScalars",
                     {"ctx", cppDoubleLiteral(rho), cppDoubleLiteral(momentum),
                      cppDoubleLiteral(epsilon)}) +
                ";\n";
  code.element += "T " + unused + " = T(0);\n";
  const std::string mom = hasMomentum ? code.operands[3] : unused;
  const std::string mean =
      centered ? code.operands[hasMomentum ? 4 : 3] : unused;
  code.element +=
      call("rmsprop_update",
           {c, code.operands[0], code.operands[1], code.operands[2], mom, mean},
           std::string("T, ") + (hasMomentum ? "true" : "false") + ", " +
               (centered ? "true" : "false")) +
      ";\n";
  return true;
}

/// adam_update, adamw_update (p, g, m, v [, vhat]); vhat iff amsgrad.
bool emitAdam(FusedOpCode &code, bool decoupledDecay) {
  double beta1 = 0, beta2 = 0, epsilon = 0, weightDecay = 0;
  if (!floatAttr(code, "beta_1", beta1) || !floatAttr(code, "beta_2", beta2) ||
      !floatAttr(code, "epsilon", epsilon) ||
      (decoupledDecay && !floatAttr(code, "weight_decay", weightDecay)))
    return false;
  const bool amsgrad = getBool(code.attrs, "amsgrad", false);
  if (code.operands.size() != (amsgrad ? 5u : 4u)) {
    code.error = "has the vhat slot iff amsgrad";
    return false;
  }
  const std::string c = constant(code), unused = code.prefix + "unused";
  code.setup +=
      "const auto " + c + " = " +
      call("adamScalars",
           {"ctx", cppDoubleLiteral(beta1), cppDoubleLiteral(beta2),
            cppDoubleLiteral(epsilon), cppDoubleLiteral(weightDecay)}) +
      ";\n";
  if (!amsgrad)
    code.element += "T " + unused + " = T(0);\n";
  code.element += call("adam_update",
                       {c, code.operands[0], code.operands[1], code.operands[2],
                        code.operands[3], amsgrad ? code.operands[4] : unused},
                       std::string("T, ") + (amsgrad ? "true" : "false")) +
                  ";\n";
  return true;
}

/// The table. Roles: 'e' Element, 's' Scalar, '-' Unread, 'w' State.
const FusedScalarOp kFusedOps[] = {
    {"relu", "e", 1, false, 1,
     [](FusedOpCode &c) { return emitUnary(c, "relu"); }},
    {"sigmoid", "e", 1, false, 1,
     [](FusedOpCode &c) { return emitUnary(c, "sigmoid"); }},
    {"tanh", "e", 1, false, 1,
     [](FusedOpCode &c) { return emitUnary(c, "tanh"); }},
    {"abs", "e", 1, false, 1,
     [](FusedOpCode &c) { return emitUnary(c, "abs"); }},
    {"leaky_relu", "e", 1, false, 1,
     [](FusedOpCode &c) { return emitAlpha(c, "leaky_relu", false, 0.3); }},
    {"elu", "e", 1, false, 1,
     [](FusedOpCode &c) { return emitAlpha(c, "elu", false, 1.0); }},
    {"relu_grad", "-ee", 3, false, 1,
     [](FusedOpCode &c) { return emitGradOfY(c, "relu_grad"); }},
    {"abs_grad", "e-e", 3, false, 1,
     [](FusedOpCode &c) { return emitGradOfX(c, "abs_grad"); }},
    {"sigmoid_grad", "-ee", 3, false, 1,
     [](FusedOpCode &c) { return emitGradOfY(c, "sigmoid_grad"); }},
    {"tanh_grad", "-ee", 3, false, 1,
     [](FusedOpCode &c) { return emitGradOfY(c, "tanh_grad"); }},
    {"leaky_relu_grad", "e-e", 3, false, 1,
     [](FusedOpCode &c) { return emitAlpha(c, "leaky_relu_grad", true, 0.3); }},
    {"elu_grad", "e-e", 3, false, 1,
     [](FusedOpCode &c) { return emitAlpha(c, "elu_grad", true, 1.0); }},
    {"add", "ee", 2, false, 1,
     [](FusedOpCode &c) { return emitBinary(c, "add"); }},
    {"subtract", "ee", 2, false, 1,
     [](FusedOpCode &c) { return emitBinary(c, "subtract"); }},
    {"multiply", "ee", 2, false, 1,
     [](FusedOpCode &c) { return emitBinary(c, "multiply"); }},
    {"subtract_grad", "---e", 4, false, 2,
     [](FusedOpCode &c) {
       return defineTwo(c, "subtract_grad", {c.operands[3]});
     }},
    {"multiply_grad", "ee-e", 4, false, 2,
     [](FusedOpCode &c) {
       return defineTwo(c, "multiply_grad",
                        {c.operands[0], c.operands[1], c.operands[3]});
     }},
    {"add_n", "e", 1, true, 1, emitAddN},
    {"dropout", "e", 1, false, 1,
     [](FusedOpCode &c) { return emitDropout(c, false); }},
    {"dropout_grad", "--e", 3, false, 1,
     [](FusedOpCode &c) { return emitDropout(c, true); }},
    {"binary_crossentropy_grad", "ee-s", 4, false, 2,
     [](FusedOpCode &c) {
       return emitLossGrad(c, "binary_crossentropy_grad", true);
     }},
    {"mse_grad", "ee-s", 4, false, 2,
     [](FusedOpCode &c) { return emitLossGrad(c, "mse_grad", false); }},
    {"mae_grad", "ee-s", 4, false, 2,
     [](FusedOpCode &c) { return emitLossGrad(c, "mae_grad", false); }},
    {"l2_loss_grad", "e-s", 3, false, 1, emitL2LossGrad},
    {"moving_average_update", "we", 2, false, 0, emitMovingAverage},
    {"sgd_update", "wew", 2, false, 0, emitSgd},
    {"rmsprop_update", "wewww", 3, false, 0, emitRmsprop},
    {"adam_update", "wewww", 4, false, 0,
     [](FusedOpCode &c) { return emitAdam(c, false); }},
    {"adamw_update", "wewww", 4, false, 0,
     [](FusedOpCode &c) { return emitAdam(c, true); }},
};

//===----------------------------------------------------------------------===//
// The loop
//===----------------------------------------------------------------------===//

/// How the loop reads one call operand.
struct InputUse {
  bool element = false; ///< read per element
  bool scalar = false;  ///< read once, element 0
  bool state = false;   ///< read and written per element
};

bool sameExtent(const TensorInfo &a, const TensorInfo &b) {
  return a.shape == b.shape && a.batched == b.batched;
}

bool isFloat(const TensorInfo &t) {
  return t.elementType == ElementType::F32 || t.elementType == ElementType::F64;
}

bool isZeroD(const TensorInfo &t) { return t.shape.empty() && !t.batched; }

std::string valueName(int id) { return "v" + std::to_string(id); }

/// The emitter of `fused_elementwise`.
class FusedLoopEmitter {
public:
  explicit FusedLoopEmitter(const CpuKernelArgs &args)
      : args(args), program(args.program), call(args.call) {}

  CpuKernelCode emit() {
    std::string error;
    if (call.operands.size() != args.operands.size() ||
        call.results.size() != args.results.size())
      return malformedCall(args, "operand or result expressions missing");
    for (int id : call.operands)
      if (!value(id))
        return malformedCall(args, "an operand is not a value");
    for (int id : call.results)
      if (!value(id))
        return malformedCall(args, "a result is not a value");
    if (!decodeFusedBody(call.attrs, static_cast<int>(call.operands.size()),
                         body, error))
      return malformedCall(args, "bad body: " + error);
    if (body.yields.size() != call.results.size())
      return malformedCall(
          args, "yields " + std::to_string(body.yields.size()) +
                    " values for " + std::to_string(call.results.size()) +
                    " results");
    if (!collectUses(error) || !chooseExtent(error) || !checkExtents(error))
      return malformedCall(args, error);
    std::string setup, block, element;
    bool writes = false;
    for (size_t k = 0; k < body.ops.size(); ++k) {
      const FusedBody::Op &op = body.ops[k];
      const FusedScalarOp *entry = findFusedScalarOp(op.name);
      FusedOpCode code{
          op.attrs, {}, {}, args.id + "_" + std::to_string(k) + "_",
          "",       "", "", ""};
      for (int id : op.operands)
        code.operands.push_back(valueName(id));
      for (int id : op.results)
        code.results.push_back(valueName(id));
      if (!entry->emit(code))
        return malformedCall(args, op.name + ": " + code.error);
      setup += code.setup;
      block += code.block;
      element += code.element;
      for (char role : std::string(entry->roles))
        writes = writes || role == 'w';
    }
    bool anyStore = writes;
    for (const std::string &result : args.results)
      anyStore = anyStore || result != "nullptr";
    if (!anyStore)
      return {};
    // The step emitter indents the first line only.
    std::string statement = indent(loop(setup, block, element), "  ");
    statement.pop_back();
    return {"", statement.substr(2)};
  }

private:
  const TensorInfo *value(int id) const {
    if (id < 0 || static_cast<size_t>(id) >= program.values.size())
      return nullptr;
    return &program.values[id].type;
  }

  /// The roles of every input, from the ops that read it; checks each op
  /// against the table.
  bool collectUses(std::string &error) {
    uses.assign(body.inputs, InputUse());
    for (const FusedBody::Op &op : body.ops) {
      const FusedScalarOp *entry = findFusedScalarOp(op.name);
      if (!entry) {
        error = "dl." + op.name + " cannot run in a fused elementwise loop";
        return false;
      }
      std::vector<FusedRole> roles;
      if (!fusedOperandRoles(*entry, op.operands.size(), roles) ||
          static_cast<int>(op.results.size()) != entry->results) {
        error = op.name + " with " + std::to_string(op.operands.size()) +
                " operands and " + std::to_string(op.results.size()) +
                " results";
        return false;
      }
      for (size_t j = 0; j < roles.size(); ++j) {
        int id = op.operands[j];
        bool input = id < body.inputs;
        switch (roles[j]) {
        case FusedRole::Element:
          if (input)
            uses[id].element = true;
          break;
        case FusedRole::Scalar:
          if (!input) {
            error = op.name + " reads a computed value as a scalar";
            return false;
          }
          uses[id].scalar = true;
          break;
        case FusedRole::State:
          if (!input || program.values[call.operands[id]].kind !=
                            KernelValue::Kind::Persistent) {
            error = op.name + " updates a value that is not a parameter";
            return false;
          }
          uses[id].state = true;
          break;
        case FusedRole::Unread:
          break;
        }
      }
    }
    for (int id : body.yields)
      if (id < body.inputs)
        uses[id].element = true;
    return true;
  }

  /// The loop's shape: the first result's, else the first per-element
  /// input's.
  bool chooseExtent(std::string &error) {
    for (int id : call.results) {
      extent = *value(id);
      return true;
    }
    for (int j = 0; j < body.inputs; ++j)
      if (uses[j].element || uses[j].state) {
        extent = *value(call.operands[j]);
        return true;
      }
    error = "nothing to compute per element";
    return false;
  }

  bool checkExtents(std::string &error) {
    for (int d : extent.shape)
      if (d <= 0) {
        error = "a dimension is not positive";
        return false;
      }
    for (int id : call.results)
      if (!sameExtent(*value(id), extent) || !isFloat(*value(id))) {
        error = "results of different shapes or not float";
        return false;
      }
    for (int j = 0; j < body.inputs; ++j) {
      const TensorInfo &t = *value(call.operands[j]);
      bool used = uses[j].element || uses[j].state || uses[j].scalar;
      if (used && !isFloat(t)) {
        error = "operand " + std::to_string(j) + " is not float";
        return false;
      }
      if ((uses[j].element || uses[j].state) && !sameExtent(t, extent)) {
        error = "operand " + std::to_string(j) + " differs in shape from " +
                "the loop";
        return false;
      }
      if (uses[j].scalar && !isZeroD(t)) {
        error = "operand " + std::to_string(j) + " is read as a scalar but " +
                "is not 0-d";
        return false;
      }
    }
    return true;
  }

  std::string loop(const std::string &setup, const std::string &block,
                   const std::string &element) {
    int64_t perExample = checkedElementCount(extent.shape);
    std::string out = "{\n";
    out += "  const int64_t total = " +
           (extent.batched ? "n * " + std::to_string(perExample)
                           : std::to_string(perExample)) +
           ";\n";
    std::string loads, stores;
    for (int j = 0; j < body.inputs; ++j) {
      const std::string v = valueName(j), p = "in" + std::to_string(j);
      if (uses[j].state) {
        out += "  T *const " + p + " = const_cast<T *>(" + args.operands[j] +
               ");\n";
        loads += "T " + v + " = " + p + "[i];\n";
        stores += p + "[i] = " + v + ";\n";
      } else if (uses[j].element) {
        out += "  const T *const " + p + " = " + args.operands[j] + ";\n";
        loads += "const T " + v + " = " + p + "[i];\n";
      } else if (uses[j].scalar) {
        out += "  const T " + v + " = (" + args.operands[j] + ")[0];\n";
      }
    }
    for (size_t k = 0; k < body.yields.size(); ++k) {
      if (args.results[k] == "nullptr")
        continue;
      const std::string p = "out" + std::to_string(k);
      out += "  T *const " + p + " = " + args.results[k] + ";\n";
      stores += p + "[i] = " + valueName(body.yields[k]) + ";\n";
    }
    out += indent(setup, "  ");
    const std::string work =
        "total * " + std::to_string(body.ops.size() + (block.empty() ? 0 : 8));
    const std::string perElement = loads + element + stores;
    if (block.empty()) {
      out += "  DLK_EW_PARALLEL_FOR(" + work + ")\n";
      out += "  for (int64_t i = 0; i < total; ++i) {\n";
      out += indent(perElement, "    ");
      out += "  }\n}";
      return out;
    }
    out += "  const int64_t blocks = (total + 3) / 4;\n";
    out += "  DLK_EW_PARALLEL_FOR(" + work + ")\n";
    out += "  for (int64_t b = 0; b < blocks; ++b) {\n";
    out += indent(block, "    ");
    out += "    const int64_t end = b * 4 + 4 < total ? b * 4 + 4 : total;\n";
    out += "    for (int64_t i = b * 4; i < end; ++i) {\n";
    out += "      const int64_t lane = i - b * 4;\n";
    out += indent(perElement, "      ");
    out += "    }\n  }\n}";
    return out;
  }

  static std::string indent(const std::string &lines,
                            const std::string &prefix) {
    std::string out;
    size_t start = 0;
    while (start < lines.size()) {
      size_t end = lines.find('\n', start);
      if (end == std::string::npos)
        end = lines.size();
      out += prefix + lines.substr(start, end - start) + "\n";
      start = end + 1;
    }
    return out;
  }

  const CpuKernelArgs &args;
  const KernelProgram &program;
  const KernelCall &call;
  FusedBody body;
  std::vector<InputUse> uses;
  TensorInfo extent;
};

CpuKernelCode emitFusedElementwise(const CpuKernelArgs &args) {
  return FusedLoopEmitter(args).emit();
}

/// Whether the loop loads operand `operand`: a body op reads it (not as an
/// Unread role) or it is yielded. A malformed body claims every operand.
bool fusedReadsOperand(const KernelCall &call, size_t operand,
                       const std::vector<bool> &) {
  FusedBody body;
  std::string error;
  if (!decodeFusedBody(call.attrs, static_cast<int>(call.operands.size()), body,
                       error))
    return true;
  const int id = static_cast<int>(operand);
  for (const FusedBody::Op &op : body.ops) {
    const FusedScalarOp *entry = findFusedScalarOp(op.name);
    std::vector<FusedRole> roles;
    if (!entry || !fusedOperandRoles(*entry, op.operands.size(), roles))
      return true;
    for (size_t j = 0; j < roles.size(); ++j)
      if (op.operands[j] == id && roles[j] != FusedRole::Unread)
        return true;
  }
  for (int yielded : body.yields)
    if (yielded == id)
      return true;
  return false;
}

} // namespace

const FusedScalarOp *findFusedScalarOp(const std::string &name) {
  for (const FusedScalarOp &op : kFusedOps)
    if (name == op.name)
      return &op;
  return nullptr;
}

bool fusedOperandRoles(const FusedScalarOp &op, size_t count,
                       std::vector<FusedRole> &roles) {
  const size_t letters = std::strlen(op.roles);
  if (count < static_cast<size_t>(op.minOperands) ||
      (!op.variadic && count > letters) || letters == 0)
    return false;
  roles.clear();
  for (size_t i = 0; i < count; ++i) {
    switch (op.roles[i < letters ? i : letters - 1]) {
    case 'e':
      roles.push_back(FusedRole::Element);
      break;
    case 's':
      roles.push_back(FusedRole::Scalar);
      break;
    case 'w':
      roles.push_back(FusedRole::State);
      break;
    default:
      roles.push_back(FusedRole::Unread);
    }
  }
  return true;
}

void registerFusedElementwiseKernels(CpuKernelRegistry &registry) {
  CpuKernel kernel;
  kernel.emit = emitFusedElementwise;
  // Every operand element is loaded before any result element is stored,
  // so result 0 may take the buffer of operand 0 (the fusion pass puts the
  // best candidate first).
  kernel.inPlaceOperand = 0;
  kernel.readsOperand = fusedReadsOperand;
  registry["fused_elementwise"] = kernel;
}

} // namespace dlc::codegen
