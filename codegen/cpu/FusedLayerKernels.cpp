//===- FusedLayerKernels.cpp - emitters of the fused layers ---------------===//
//
// The CpuKernels of the ops of ir/DLFusedLayerOps.td:
//
//   fused_conv2d, fused_depthwise_conv2d, fused_dense and their `_grad`:
//     the catalog layer's descriptor (ConvolutionDescriptor.h), then
//       dlk::fused_conv2d<T, dlk::Activation::Relu>(n, k17_dims, alpha, x,
//                                                   kernel, bias, y, ws);
//     the activation a template argument, so the epilogue is inlined;
//   fold_batchnorm:
//       dlk::fold_batchnorm<T>(k17_dims, kernel, gamma, beta, mm, mv, bias,
//                              folded_kernel, folded_bias);
//
// A missing bias is passed as nullptr. A call that does not fit its op
// (which the verifiers rule out) emits a static_assert naming the problem.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/ConvolutionDescriptor.h"
#include "codegen/cpu/CpuKernel.h"

#include "ir/FusedActivation.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace dlc::codegen {
namespace {

/// Elements are capped well below int64 overflow.
constexpr int64_t kMaxBytes = int64_t(1) << 50;

/// a * b, or -1 when either is negative or the product exceeds kMaxBytes.
int64_t checkedMul(int64_t a, int64_t b) {
  if (a < 0 || b < 0)
    return -1;
  if (a != 0 && b > kMaxBytes / a)
    return -1;
  return a * b;
}

/// The catalog layer of fused layer `op` ("fused_conv2d_grad" -> "conv2d").
std::string catalogOf(std::string op) {
  const std::string prefix = "fused_", suffix = "_grad";
  if (op.compare(0, prefix.size(), prefix) == 0)
    op = op.substr(prefix.size());
  if (op.size() > suffix.size() &&
      op.compare(op.size() - suffix.size(), suffix.size(), suffix) == 0)
    op = op.substr(0, op.size() - suffix.size());
  return op;
}

/// A C++ double literal that reads back as `value`.
std::string doubleLiteral(double value) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  std::string text = buffer;
  if (text.find_first_of(".eEn") == std::string::npos)
    text += ".0";
  return text;
}

/// A fused layer call checked and described.
struct FusedCall {
  ConvolutionDescriptor desc;
  std::string activation; ///< "dlk::Activation::Relu"
  bool linear = false;
  double alpha = 0;
};

std::string describeFused(const KernelProgram &program, const KernelCall &call,
                          bool grad, FusedCall &fused) {
  std::string activation = getString(call.attrs, "activation", "");
  fused.activation = activationEnumerator(activation);
  if (fused.activation.empty())
    return "has an unknown activation '" + activation + "'";
  fused.linear = activation == "linear";
  fused.alpha = getFloat(call.attrs, "alpha", 0.0);
  if (activationHasAlpha(activation) && !std::isfinite(fused.alpha))
    return "has a non-finite alpha";
  return describeConvolutionCall(program, call, catalogOf(call.op), grad,
                                 fused.desc);
}

/// Workspace bytes of a fused layer call (forward or gradient) at the
/// program's maxBatch, or -1 when too large. The conv2d gradient keeps its
/// im2col columns first, as dlk::fusedConvGradOffset says.
int64_t fusedWorkspaceBytes(const KernelProgram &program, const FusedCall &f,
                            const std::string &catalog, bool grad,
                            int elementBytes) {
  const int64_t columns = checkedMul(f.desc.workspaceElements, elementBytes);
  if (columns < 0)
    return -1;
  if (!grad)
    return 0; // the forward GEMM reads the columns straight from x
  int64_t scratch = 0;
  if (!f.linear)
    scratch = checkedMul(checkedMul(program.maxBatch, f.desc.outputElements),
                         elementBytes);
  if (scratch < 0)
    return -1;
  if (catalog != "conv2d")
    return scratch;
  return (columns + 63) / 64 * 64 + scratch;
}

template <bool Grad> CpuKernelCode emitFused(const CpuKernelArgs &a) {
  FusedCall fused;
  std::string error = describeFused(a.program, a.call, Grad, fused);
  if (error.empty() && (a.operands.size() != a.call.operands.size() ||
                        a.results.size() != a.call.results.size()))
    error = "got argument expressions that do not match its values";
  const std::string catalog = catalogOf(a.call.op);
  if (error.empty() &&
      fusedWorkspaceBytes(a.program, fused, catalog, Grad, 8) < 0)
    error = "needs too large a workspace";
  if (!error.empty())
    return malformedCall(a, error);
  CpuKernelCode code;
  const std::string dims = a.id + "_dims";
  code.declarations = "static constexpr " + fused.desc.type + " " + dims +
                      fused.desc.init + ";\n";
  const size_t forwardOperands = fused.desc.hasBias ? 3 : 2;
  std::vector<std::string> args;
  for (size_t i = 0; i < forwardOperands; ++i)
    args.push_back(a.operands[i]);
  if (!fused.desc.hasBias)
    args.push_back("nullptr");
  if (Grad) {
    args.push_back(a.operands[forwardOperands]);     // y
    args.push_back(a.operands[forwardOperands + 1]); // dy
    for (const std::string &result : a.results)
      args.push_back(result);
    if (!fused.desc.hasBias)
      args.push_back("nullptr");
    args.push_back(a.workspace);
  } else {
    args.push_back(a.results[0]);
  }
  code.statement = "dlk::" + a.call.op + "<T, " + fused.activation + ">(n, " +
                   dims + ", " + doubleLiteral(fused.alpha);
  for (const std::string &arg : args)
    code.statement += ", " + arg;
  code.statement += ");";
  return code;
}

template <bool Grad>
int64_t fusedWorkspace(const KernelProgram &program, const KernelCall &call,
                       int elementBytes) {
  FusedCall fused;
  if (elementBytes <= 0 || !describeFused(program, call, Grad, fused).empty())
    return 0;
  int64_t bytes = fusedWorkspaceBytes(program, fused, catalogOf(call.op), Grad,
                                      elementBytes);
  return bytes < 0 ? 0 : bytes;
}

/// (x, kernel, [bias], y, dy) -> (dx, dkernel, [dbias]): x only for
/// dkernel, the kernel only for dx, y unless the activation is linear, dy
/// always, never the bias.
bool fusedGradReads(const KernelCall &call, size_t operand,
                    const std::vector<bool> &resultPassed) {
  const size_t count = call.operands.size();
  auto passed = [&](size_t result) {
    return result >= resultPassed.size() || resultPassed[result];
  };
  if (count < 4 || operand + 1 >= count)
    return true; // dy (or a malformed call: claim everything)
  if (operand + 2 == count)
    return getString(call.attrs, "activation", "") != "linear";
  if (operand == 0)
    return passed(1);
  if (operand == 1)
    return passed(0);
  return false; // bias
}

/// The shapes of dl.fold_batchnorm's call: kernel [rows, channels] and the
/// descriptor, or an error.
std::string describeFold(const KernelProgram &program, const KernelCall &call,
                         std::string &init) {
  if (call.operands.size() < 5 || call.operands.size() > 6 ||
      call.results.size() != 2)
    return "expects kernel, gamma, beta, moving_mean, moving_variance, an "
           "optional bias and two results";
  for (int id : call.operands)
    if (id < 0 || size_t(id) >= program.values.size())
      return "has an operand that is not a value";
  for (int id : call.results)
    if (id < 0 || size_t(id) >= program.values.size())
      return "has a result that is not a value";
  const Shape &kernel = program.values[size_t(call.operands[0])].type.shape;
  const Shape &gamma = program.values[size_t(call.operands[1])].type.shape;
  if (gamma.size() != 1 || gamma[0] <= 0)
    return "expects gamma of rank 1";
  for (size_t i = 1; i < call.operands.size(); ++i)
    if (program.values[size_t(call.operands[i])].type.shape != gamma)
      return "expects the statistics and the bias to have gamma's shape";
  const int64_t elements = checkedElementCount(kernel);
  if (elements <= 0 || elements % gamma[0] != 0)
    return "has kernel " + formatShape(kernel) + " that does not fit " +
           std::to_string(gamma[0]) + " channels";
  if (program.values[size_t(call.results[0])].type.shape != kernel ||
      program.values[size_t(call.results[1])].type.shape != gamma)
    return "has results that are not the kernel's and gamma's shapes";
  const double epsilon = getFloat(call.attrs, "epsilon", -1.0);
  if (!(epsilon >= 0) || !std::isfinite(epsilon))
    return "has a malformed epsilon";
  init = "{/*rows=*/" + std::to_string(elements / gamma[0]) +
         ", /*channels=*/" + std::to_string(gamma[0]) + ", /*epsilon=*/" +
         doubleLiteral(epsilon) + "}";
  return "";
}

CpuKernelCode emitFold(const CpuKernelArgs &a) {
  std::string init;
  std::string error = describeFold(a.program, a.call, init);
  if (error.empty() && (a.operands.size() != a.call.operands.size() ||
                        a.results.size() != a.call.results.size()))
    error = "got argument expressions that do not match its values";
  if (!error.empty())
    return malformedCall(a, error);
  CpuKernelCode code;
  const std::string dims = a.id + "_dims";
  code.declarations =
      "static constexpr dlk::FoldBatchNormDims " + dims + init + ";\n";
  code.statement = "dlk::fold_batchnorm<T>(" + dims;
  for (const std::string &operand : a.operands)
    code.statement += ", " + operand;
  if (a.operands.size() == 5)
    code.statement += ", nullptr";
  for (const std::string &result : a.results)
    code.statement += ", " + result;
  code.statement += ");";
  return code;
}

} // namespace

void registerFusedLayerKernels(CpuKernelRegistry &registry) {
  for (const char *layer : {"conv2d", "depthwise_conv2d", "dense"}) {
    CpuKernel forward;
    forward.emit = emitFused<false>;
    forward.workspaceBytes = fusedWorkspace<false>;
    CpuKernel gradient;
    gradient.emit = emitFused<true>;
    gradient.workspaceBytes = fusedWorkspace<true>;
    gradient.readsOperand = fusedGradReads;
    registry[std::string("fused_") + layer] = forward;
    registry[std::string("fused_") + layer + "_grad"] = gradient;
  }
  CpuKernel fold;
  fold.emit = emitFold;
  registry["fold_batchnorm"] = fold;
}

} // namespace dlc::codegen
