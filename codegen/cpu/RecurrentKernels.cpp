//===- RecurrentKernels.cpp - CPU emitters of lstm, gru and gradients -----===//
//
// lstm/gru:           x, kernel, recurrent_kernel [, bias] -> y
// lstm_grad/gru_grad: x, kernel, recurrent_kernel [, bias], y, dy
//                     -> dx, dkernel, drecurrent_kernel [, dbias]
// The kernels are in kernels/Recurrent.h; their workspace sizes come from
// the same header, so the emitter and the kernel agree on the layout. A call
// whose operands do not fit the op becomes a static_assert naming it, so a
// bad program fails to compile instead of running wrong.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpu/CpuKernel.h"
#include "codegen/cpu/OperandUse.h"
#include "codegen/cpu/kernels/Recurrent.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

namespace dlc::codegen {
namespace {

/// What one recurrent call is, read from its operands and attributes.
struct RecurrentCall {
  dlk::RecurrentDims dims{0, 0, 0, false, false};
  int64_t gates = 0;
  bool grad = false;
  std::string error; ///< empty when the call is well formed
};

bool isFloat(const TensorInfo &type) {
  return type.elementType != ElementType::I32;
}

/// Reads and checks a call of lstm, gru, lstm_grad or gru_grad.
RecurrentCall readCall(const KernelProgram &program, const KernelCall &call) {
  RecurrentCall rc;
  const std::string &op = call.op;
  rc.grad = op == "lstm_grad" || op == "gru_grad";
  rc.gates = (op == "lstm" || op == "lstm_grad") ? 4 : 3;
  const size_t extra = rc.grad ? 2 : 0; // y, dy
  const size_t operands = call.operands.size();
  if (operands != 3 + extra && operands != 4 + extra) {
    rc.error = "expects " + std::to_string(3 + extra) + " or " +
               std::to_string(4 + extra) + " operands, got " +
               std::to_string(operands);
    return rc;
  }
  const bool hasBias = operands == 4 + extra;
  const size_t results = rc.grad ? operands - 2 : 1;
  if (call.results.size() != results) {
    rc.error = "expects " + std::to_string(results) + " results, got " +
               std::to_string(call.results.size());
    return rc;
  }
  for (int id : call.operands)
    if (!kernelValueType(program, id) ||
        !isFloat(*kernelValueType(program, id))) {
      rc.error = "has an operand that is not a float value of the program";
      return rc;
    }
  for (int id : call.results)
    if (!kernelValueType(program, id) ||
        !isFloat(*kernelValueType(program, id))) {
      rc.error = "has a result that is not a float value of the program";
      return rc;
    }
  const TensorInfo &x = *kernelValueType(program, call.operands[0]);
  const TensorInfo &w = *kernelValueType(program, call.operands[1]);
  const TensorInfo &rw = *kernelValueType(program, call.operands[2]);
  if (!x.batched || x.shape.size() != 2 || x.shape[0] < 1 || x.shape[1] < 1) {
    rc.error = "expects x of per-example shape [T, D]";
    return rc;
  }
  if (rw.shape.size() != 2 || rw.shape[0] < 1 ||
      rw.shape[1] != rc.gates * rw.shape[0]) {
    rc.error = "expects recurrent_kernel[u, " + std::to_string(rc.gates) +
               "u], got " + formatShape(rw.shape);
    return rc;
  }
  const int64_t units = rw.shape[0];
  const int64_t width = rc.gates * units;
  if (getInt(call.attrs, "units", units) != units) {
    rc.error =
        "has units that do not match recurrent_kernel " + formatShape(rw.shape);
    return rc;
  }
  if (w.shape != Shape{x.shape[1], width}) {
    rc.error = "expects kernel" + formatShape(Shape{x.shape[1], width}) +
               ", got " + formatShape(w.shape);
    return rc;
  }
  if (getBool(call.attrs, "use_bias", hasBias) != hasBias) {
    rc.error = "has use_bias that does not match its operands";
    return rc;
  }
  if (hasBias) {
    Shape wanted = rc.gates == 4 ? Shape{width} : Shape{2, width};
    const TensorInfo &b = *kernelValueType(program, call.operands[3]);
    if (b.shape != wanted) {
      rc.error = "expects bias" + formatShape(wanted) + ", got " +
                 formatShape(b.shape);
      return rc;
    }
  }
  const bool sequences = getBool(call.attrs, "return_sequences", false);
  const Shape yShape = sequences ? Shape{x.shape[0], units} : Shape{units};
  // The forward's output: its result, or the grad's y and dy operands.
  std::vector<int> outputs;
  if (rc.grad)
    outputs = {call.operands[operands - 2], call.operands[operands - 1]};
  else
    outputs = {call.results[0]};
  for (int id : outputs) {
    const TensorInfo &y = *kernelValueType(program, id);
    if (!y.batched || y.shape != yShape) {
      rc.error = "expects an output of per-example shape " +
                 formatShape(yShape) + ", got " + formatShape(y.shape);
      return rc;
    }
  }
  if (rc.grad) {
    // Gradients have their operand's type.
    for (size_t i = 0; i < results; ++i) {
      const TensorInfo &r = *kernelValueType(program, call.results[i]);
      const TensorInfo &o = *kernelValueType(program, call.operands[i]);
      if (r.shape != o.shape || r.batched != o.batched) {
        rc.error = "has gradient " + std::to_string(i) +
                   " not shaped like its operand";
        return rc;
      }
    }
  }
  // Bound the sizes so that workspace arithmetic cannot overflow.
  const int64_t limit = int64_t(1) << 40;
  if (x.shape[0] > limit / x.shape[1] || width > limit / units ||
      width > limit / x.shape[1] || x.shape[0] > limit / width) {
    rc.error = "is too large";
    return rc;
  }
  rc.dims =
      dlk::RecurrentDims{x.shape[0], x.shape[1], units, hasBias, sequences};
  return rc;
}

CpuKernelCode emitRecurrent(const CpuKernelArgs &args) {
  const KernelCall &call = args.call;
  RecurrentCall rc = readCall(args.program, call);
  if (!rc.error.empty())
    return malformedCall(args, rc.error);
  if (args.operands.size() != call.operands.size() ||
      args.results.size() != call.results.size())
    return malformedCall(args, "got mismatched operand expressions");
  const dlk::RecurrentDims &d = rc.dims;
  const std::string dimsName = args.id + "_dims";
  CpuKernelCode code;
  code.declarations =
      "static constexpr dlk::RecurrentDims " + dimsName + "{/*steps=*/" +
      std::to_string(d.steps) + ", /*features=*/" + std::to_string(d.features) +
      ", /*units=*/" + std::to_string(d.units) + ", /*useBias=*/" +
      (d.useBias ? "true" : "false") + ", /*returnSequences=*/" +
      (d.returnSequences ? "true" : "false") + "};\n";
  std::string function = rc.gates == 4 ? "lstm" : "gru";
  if (rc.grad)
    function += "_grad";
  std::string text = "dlk::" + function + "<T>(n, " + dimsName;
  // x, kernel, recurrent_kernel, bias (or nullptr).
  for (size_t i = 0; i < 3; ++i)
    text += ", " + args.operands[i];
  text += ", " + (d.useBias ? args.operands[3] : std::string("nullptr"));
  if (rc.grad) {
    const size_t operands = args.operands.size();
    text +=
        ", " + args.operands[operands - 2] + ", " + args.operands[operands - 1];
    for (size_t i = 0; i < 3; ++i)
      text += ", " + args.results[i];
    text += ", " + (d.useBias ? args.results[3] : std::string("nullptr"));
  } else {
    text += ", " + args.results[0];
  }
  text += ", " + args.workspace + ");";
  code.statement = text;
  return code;
}

int64_t recurrentWorkspaceBytes(const KernelProgram &program,
                                const KernelCall &call, int elementBytes) {
  RecurrentCall rc = readCall(program, call);
  if (!rc.error.empty() || elementBytes <= 0)
    return 0;
  const int64_t batch = std::max<int64_t>(program.maxBatch, 1);
  // Every part is at most maxBatch * 2^40 * 4 elements; refuse what would
  // overflow instead of wrapping.
  const int64_t perExample = rc.gates == 4
                                 ? dlk::lstmGradWorkspaceElements(1, rc.dims)
                                 : dlk::gruGradWorkspaceElements(1, rc.dims);
  const int64_t cap = std::numeric_limits<int64_t>::max() / 64;
  if (perExample > cap / batch / elementBytes)
    return std::numeric_limits<int64_t>::max();
  int64_t elements = 0;
  if (rc.gates == 4)
    elements = rc.grad ? dlk::lstmGradWorkspaceElements(batch, rc.dims)
                       : dlk::lstmWorkspaceElements(batch, rc.dims);
  else
    elements = rc.grad ? dlk::gruGradWorkspaceElements(batch, rc.dims)
                       : dlk::gruWorkspaceElements(batch, rc.dims);
  return elements * elementBytes;
}

} // namespace

void registerRecurrentKernels(CpuKernelRegistry &registry) {
  CpuKernel kernel;
  kernel.emit = emitRecurrent;
  kernel.workspaceBytes = recurrentWorkspaceBytes;
  for (const char *op : {"lstm", "gru", "lstm_grad", "gru_grad"})
    registry[op] = kernel;
  // The gradients recompute the forward: they never read its result.
  for (const char *op : {"lstm_grad", "gru_grad"})
    registry[op].readsOperand = operand_use::allButForwardResult;
}

} // namespace dlc::codegen
