//===- CpuKernels.cpp - the registry of every op's CPU kernel -------------===//

#include "codegen/cpu/CpuKernel.h"

#include <cmath>
#include <cstdio>

namespace dlc::codegen {

const CpuKernelRegistry &cpuKernels() {
  static const CpuKernelRegistry registry = [] {
    CpuKernelRegistry all;
    registerConvolutionKernels(all);
    registerElementwiseKernels(all);
    registerFusedElementwiseKernels(all);
    registerFusedLayerKernels(all);
    registerFusedNormalizationKernels(all);
    registerFusedNormPoolKernels(all);
    registerFusedNormAddKernels(all);
    registerPoolIndicesKernels(all);
    registerRecurrentKernels(all);
    registerTrainingKernels(all);
    return all;
  }();
  return registry;
}

const TensorInfo *kernelValueType(const KernelProgram &program, int id) {
  if (id < 0 || static_cast<size_t>(id) >= program.values.size())
    return nullptr;
  return &program.values[id].type;
}

int64_t firstOperandChannels(const KernelProgram &program,
                             const KernelCall &call) {
  if (call.operands.empty())
    return 0;
  const TensorInfo *x = kernelValueType(program, call.operands[0]);
  if (!x || x->shape.empty() || x->shape.back() <= 0)
    return 0;
  return x->shape.back();
}

std::string cppDoubleLiteral(double value) {
  if (std::isnan(value))
    return "__builtin_nan(\"\")";
  if (std::isinf(value))
    return value > 0 ? "__builtin_inf()" : "-__builtin_inf()";
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  std::string text = buffer;
  if (text.find_first_of(".e") == std::string::npos)
    text += ".0";
  return text;
}

std::string cppStringLiteral(const std::string &text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    default:
      if (c < 0x20 || c == 0x7f || c == '?') {
        // Octal escapes: never merge with a following digit (3 digits),
        // and '?' avoids trigraphs.
        char buffer[8];
        std::snprintf(buffer, sizeof buffer, "\\%03o", c);
        out += buffer;
      } else {
        out += static_cast<char>(c);
      }
    }
  }
  return out + "\"";
}

CpuKernelCode malformedCall(const CpuKernelArgs &args, const std::string &why) {
  std::string message = "dlc: " + args.call.op;
  if (!args.call.location.empty())
    message += " (" + args.call.location + ")";
  message += " " + args.id + ": " + why;
  CpuKernelCode code;
  code.statement =
      "static_assert(sizeof(T) == 0, " + cppStringLiteral(message) + ");";
  return code;
}

} // namespace dlc::codegen
