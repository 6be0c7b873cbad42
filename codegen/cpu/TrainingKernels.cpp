//===- TrainingKernels.cpp - CPU emitters of the training-only ops --------===//
//
// Operands (contract: ir/DLGradientOps.td, ir/DLOptimizerOps.td):
//   fill                                    -> y
//   add_n                  a1, ..., ak      -> y            (k >= 1)
//   l2_loss                w                -> loss
//   l2_loss_grad           w, loss, dloss   -> dw
//   clip_norm              g                -> y
//   moving_average_update  moving, stat                     (in place)
//   sgd_update             p, g [, velocity]                (in place)
//   rmsprop_update         p, g, rms [, mom] [, mean]       (in place)
//   adam_update,           p, g, m, v [, vhat]              (in place)
//   adamw_update
// Operands an update writes are passed through const_cast<T *> (the step
// emitter gives every operand as `const T *`). An optional slot is present
// exactly when its setting asks for it
// (sgd: momentum != 0; rmsprop: momentum > 0, centered; adam: amsgrad). The
// kernels are in kernels/Training.h. A call that does not fit its op
// becomes a static_assert naming it, so a bad program fails to compile.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpu/CpuKernel.h"
#include "codegen/cpu/OperandUse.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace dlc::codegen {
namespace {

const char *boolLiteral(bool value) { return value ? "true" : "false"; }

/// Builds the emitted code of one call, or records the first error.
class TrainingEmitter {
public:
  explicit TrainingEmitter(const CpuKernelArgs &args)
      : args(args), program(args.program), call(args.call) {}

  const TensorInfo *operand(size_t i) {
    return i < call.operands.size() ? value(call.operands[i]) : nullptr;
  }
  const TensorInfo *result(size_t i) {
    return i < call.results.size() ? value(call.results[i]) : nullptr;
  }

  bool fail(const std::string &message) {
    if (error.empty())
      error = message;
    return false;
  }

  bool expectCounts(size_t operands, size_t results) {
    if (call.operands.size() != operands || call.results.size() != results)
      return fail("expects " + std::to_string(operands) + " operands and " +
                  std::to_string(results) + " results, got " +
                  std::to_string(call.operands.size()) + " and " +
                  std::to_string(call.results.size()));
    return true;
  }

  /// Checks that every operand and result is a float value of one type
  /// (element count and batching) as `ref`.
  bool expectAllLike(const TensorInfo &ref, size_t firstOperand = 0) {
    for (size_t i = firstOperand; i < call.operands.size(); ++i)
      if (!operand(i) || !sameExtent(*operand(i), ref))
        return fail("expects operand " + std::to_string(i) + " of type " +
                    formatTensor(ref));
    for (size_t i = 0; i < call.results.size(); ++i)
      if (!result(i) || !sameExtent(*result(i), ref))
        return fail("expects result " + std::to_string(i) + " of type " +
                    formatTensor(ref));
    return true;
  }

  /// A required f64 attribute.
  bool attr(const char *key, double &out) {
    auto it = call.attrs.find(key);
    if (it == call.attrs.end() ||
        (!std::holds_alternative<double>(it->second) &&
         !std::holds_alternative<int64_t>(it->second)))
      return fail(std::string("needs the numeric attribute '") + key + "'");
    out = getFloat(call.attrs, key, 0.0);
    return true;
  }

  /// The extent fields every training descriptor starts with.
  bool extent(const TensorInfo *type, std::string &out) {
    if (!type)
      return fail("has an operand or result that is no value of the program");
    const int64_t elements = checkedElementCount(type->shape);
    if (elements < 0 || type->elementType == ElementType::I32)
      return fail("expects a float tensor of at most 2^40 elements, got " +
                  formatTensor(*type));
    out = "/*elements=*/" + std::to_string(elements) + ", /*batched=*/" +
          boolLiteral(type->batched);
    return true;
  }

  /// Emits `static constexpr dlk::<dims> <id>_dims{<fields>};` and the call
  /// `dlk::<function><T>(n, <id>_dims[, ctx], <pointers>);`.
  CpuKernelCode finish(const std::string &dimsType, const std::string &fields,
                       const std::string &function, bool usesContext,
                       const std::vector<std::string> &pointers) {
    if (!error.empty())
      return errorCode();
    const std::string dimsName = args.id + "_dims";
    CpuKernelCode code;
    code.declarations = "static constexpr dlk::" + dimsType + " " + dimsName +
                        "{" + fields + "};\n";
    code.statement = "dlk::" + function + "<T>(n, " + dimsName;
    if (usesContext)
      code.statement += ", ctx";
    for (const std::string &pointer : pointers)
      code.statement += ", " + pointer;
    code.statement += ");";
    return code;
  }

  CpuKernelCode errorCode() const { return malformedCall(args, error); }

  /// Operand expression i, or "nullptr" past the end.
  std::string operandText(size_t i) const {
    return i < args.operands.size() ? args.operands[i] : "nullptr";
  }
  /// Operand expression i for a kernel that writes it in place: the step
  /// emitter gives operands as `const T *`.
  std::string writtenOperandText(size_t i) const {
    return i < args.operands.size()
               ? "const_cast<T *>(" + args.operands[i] + ")"
               : "nullptr";
  }
  std::string resultText(size_t i) const {
    return i < args.results.size() ? args.results[i] : "nullptr";
  }
  bool expressionsMatch() {
    if (args.operands.size() != call.operands.size() ||
        args.results.size() != call.results.size())
      return fail("got mismatched operand expressions");
    return true;
  }

  const CpuKernelArgs &args;
  const KernelProgram &program;
  const KernelCall &call;
  std::string error;

private:
  const TensorInfo *value(int id) const {
    if (id < 0 || static_cast<size_t>(id) >= program.values.size())
      return nullptr;
    return &program.values[id].type;
  }
  static bool sameExtent(const TensorInfo &a, const TensorInfo &b) {
    return a.elementType != ElementType::I32 &&
           b.elementType != ElementType::I32 && a.batched == b.batched &&
           checkedElementCount(a.shape) == checkedElementCount(b.shape);
  }
};

/// A 0-d (or one-element) unbatched float: a loss or its gradient.
bool isScalar(const TensorInfo *type) {
  return type && !type->batched && type->elementType != ElementType::I32 &&
         checkedElementCount(type->shape) == 1;
}

CpuKernelCode emitFill(const CpuKernelArgs &args) {
  TrainingEmitter e(args);
  std::string fields;
  double value = 0;
  if (e.expectCounts(0, 1) && e.expressionsMatch() &&
      e.extent(e.result(0), fields) && e.attr("value", value))
    fields += ", /*value=*/" + cppDoubleLiteral(value);
  return e.finish("FillDims", fields, "fill", false, {e.resultText(0)});
}

CpuKernelCode emitAddN(const CpuKernelArgs &args) {
  TrainingEmitter e(args);
  std::string fields;
  const size_t count = args.call.operands.size();
  if (count < 1 || args.call.results.size() != 1)
    e.fail("expects at least one operand and one result");
  else if (e.expressionsMatch() && e.extent(e.result(0), fields) &&
           e.expectAllLike(*e.result(0)))
    fields += ", /*inputs=*/" + std::to_string(count);
  if (!e.error.empty())
    return e.errorCode();
  CpuKernelCode code = e.finish("AddNDims", fields, "add_n", false, {});
  // The summands go through a local array: any count >= 1.
  const std::string inputs = args.id + "_inputs";
  std::string list;
  for (size_t i = 0; i < count; ++i)
    list += (i ? ", " : "") + args.operands[i];
  code.statement = "{\n  const T *const " + inputs + "[] = {" + list +
                   "};\n  dlk::add_n<T>(n, " + args.id + "_dims, " + inputs +
                   ", " + args.results[0] + ");\n}";
  return code;
}

CpuKernelCode emitL2Loss(const CpuKernelArgs &args) {
  TrainingEmitter e(args);
  std::string fields;
  double l2 = 0;
  if (e.expectCounts(1, 1) && e.expressionsMatch() &&
      e.extent(e.operand(0), fields) && e.attr("l2", l2)) {
    if (!isScalar(e.result(0)))
      e.fail("expects a scalar result");
    fields += ", /*l2=*/" + cppDoubleLiteral(l2);
  }
  return e.finish("L2LossDims", fields, "l2_loss", false,
                  {e.operandText(0), e.resultText(0)});
}

CpuKernelCode emitL2LossGrad(const CpuKernelArgs &args) {
  TrainingEmitter e(args);
  std::string fields;
  double l2 = 0;
  if (e.expectCounts(3, 1) && e.expressionsMatch() &&
      e.extent(e.operand(0), fields) && e.attr("l2", l2)) {
    if (!isScalar(e.operand(1)) || !isScalar(e.operand(2)))
      e.fail("expects a scalar loss and loss gradient");
    else if (e.result(0) && e.result(0)->batched == e.operand(0)->batched &&
             checkedElementCount(e.result(0)->shape) ==
                 checkedElementCount(e.operand(0)->shape))
      fields += ", /*l2=*/" + cppDoubleLiteral(l2);
    else
      e.fail("expects a gradient shaped like w");
  }
  return e.finish(
      "L2LossDims", fields, "l2_loss_grad", false,
      {e.operandText(0), e.operandText(1), e.operandText(2), e.resultText(0)});
}

CpuKernelCode emitClipNorm(const CpuKernelArgs &args) {
  TrainingEmitter e(args);
  std::string fields;
  double clip = 0;
  if (e.expectCounts(1, 1) && e.expressionsMatch() &&
      e.extent(e.operand(0), fields) && e.expectAllLike(*e.operand(0)) &&
      e.attr("clip_norm", clip))
    fields += ", /*clipNorm=*/" + cppDoubleLiteral(clip);
  return e.finish("ClipNormDims", fields, "clip_norm", false,
                  {e.operandText(0), e.resultText(0)});
}

CpuKernelCode emitMovingAverage(const CpuKernelArgs &args) {
  TrainingEmitter e(args);
  std::string fields;
  double momentum = 0;
  if (e.expectCounts(2, 0) && e.expressionsMatch() &&
      e.extent(e.operand(0), fields) && e.expectAllLike(*e.operand(0)) &&
      e.attr("momentum", momentum))
    fields += ", /*momentum=*/" + cppDoubleLiteral(momentum);
  return e.finish("MovingAverageDims", fields, "moving_average_update", false,
                  {e.writtenOperandText(0), e.operandText(1)});
}

CpuKernelCode emitSgd(const CpuKernelArgs &args) {
  TrainingEmitter e(args);
  std::string fields;
  double momentum = 0;
  const size_t count = args.call.operands.size();
  if (count != 2 && count != 3)
    e.fail("expects 2 or 3 operands (p, g [, velocity])");
  else if (e.expectCounts(count, 0) && e.expressionsMatch() &&
           e.extent(e.operand(0), fields) && e.expectAllLike(*e.operand(0)) &&
           e.attr("momentum", momentum)) {
    if ((count == 3) != (momentum != 0))
      e.fail("has a velocity slot iff momentum != 0, got momentum " +
             cppDoubleLiteral(momentum) + " and " + std::to_string(count) +
             " operands");
    fields += ", /*momentum=*/" + cppDoubleLiteral(momentum) +
              ", /*nesterov=*/" +
              boolLiteral(getBool(args.call.attrs, "nesterov", false));
  }
  return e.finish("SgdDims", fields, "sgd_update", true,
                  {e.writtenOperandText(0), e.operandText(1),
                   count == 3 ? e.writtenOperandText(2) : "nullptr"});
}

CpuKernelCode emitRmsprop(const CpuKernelArgs &args) {
  TrainingEmitter e(args);
  std::string fields;
  double rho = 0, momentum = 0, epsilon = 0;
  const bool centered = getBool(args.call.attrs, "centered", false);
  bool hasMomentum = false;
  if (e.attr("rho", rho) && e.attr("momentum", momentum) &&
      e.attr("epsilon", epsilon)) {
    hasMomentum = momentum > 0;
    const size_t wanted = 3 + (hasMomentum ? 1 : 0) + (centered ? 1 : 0);
    if (e.expectCounts(wanted, 0) && e.expressionsMatch() &&
        e.extent(e.operand(0), fields) && e.expectAllLike(*e.operand(0)))
      fields += ", /*rho=*/" + cppDoubleLiteral(rho) + ", /*momentum=*/" +
                cppDoubleLiteral(momentum) + ", /*epsilon=*/" +
                cppDoubleLiteral(epsilon) + ", /*centered=*/" +
                boolLiteral(centered);
  }
  const size_t momAt = 3, meanAt = hasMomentum ? 4 : 3;
  return e.finish("RmspropDims", fields, "rmsprop_update", true,
                  {e.writtenOperandText(0), e.operandText(1),
                   e.writtenOperandText(2),
                   hasMomentum ? e.writtenOperandText(momAt) : "nullptr",
                   centered ? e.writtenOperandText(meanAt) : "nullptr"});
}

/// adam_update and adamw_update.
CpuKernelCode emitAdam(const CpuKernelArgs &args, bool decoupledDecay) {
  TrainingEmitter e(args);
  std::string fields;
  double beta1 = 0, beta2 = 0, epsilon = 0, weightDecay = 0;
  const bool amsgrad = getBool(args.call.attrs, "amsgrad", false);
  if (e.attr("beta_1", beta1) && e.attr("beta_2", beta2) &&
      e.attr("epsilon", epsilon) &&
      (!decoupledDecay || e.attr("weight_decay", weightDecay)) &&
      e.expectCounts(amsgrad ? 5 : 4, 0) && e.expressionsMatch() &&
      e.extent(e.operand(0), fields) && e.expectAllLike(*e.operand(0)))
    fields += ", /*beta1=*/" + cppDoubleLiteral(beta1) + ", /*beta2=*/" +
              cppDoubleLiteral(beta2) + ", /*epsilon=*/" +
              cppDoubleLiteral(epsilon) + ", /*amsgrad=*/" +
              boolLiteral(amsgrad) + ", /*weightDecay=*/" +
              cppDoubleLiteral(weightDecay);
  return e.finish(
      "AdamDims", fields, decoupledDecay ? "adamw_update" : "adam_update", true,
      {e.writtenOperandText(0), e.operandText(1), e.writtenOperandText(2),
       e.writtenOperandText(3), amsgrad ? e.writtenOperandText(4) : "nullptr"});
}

CpuKernelCode emitAdamUpdate(const CpuKernelArgs &args) {
  return emitAdam(args, false);
}
CpuKernelCode emitAdamwUpdate(const CpuKernelArgs &args) {
  return emitAdam(args, true);
}

CpuKernel kernelOf(CpuKernelCode (*emit)(const CpuKernelArgs &),
                   int inPlaceOperand = -1) {
  CpuKernel kernel;
  kernel.emit = emit;
  kernel.inPlaceOperand = inPlaceOperand;
  return kernel;
}

} // namespace

void registerTrainingKernels(CpuKernelRegistry &registry) {
  registry["fill"] = kernelOf(emitFill);
  // Both read every element of operand 0 before writing it.
  registry["add_n"] = kernelOf(emitAddN, 0);
  registry["clip_norm"] = kernelOf(emitClipNorm, 0);
  registry["l2_loss"] = kernelOf(emitL2Loss);
  registry["l2_loss_grad"] = kernelOf(emitL2LossGrad);
  registry["l2_loss_grad"].readsOperand = operand_use::allBut<1>; // w, dy
  registry["moving_average_update"] = kernelOf(emitMovingAverage);
  registry["sgd_update"] = kernelOf(emitSgd);
  registry["rmsprop_update"] = kernelOf(emitRmsprop);
  registry["adam_update"] = kernelOf(emitAdamUpdate);
  registry["adamw_update"] = kernelOf(emitAdamwUpdate);
}

} // namespace dlc::codegen
