//===- CpuKernel.h - how each op becomes C++ in a generated program -------===//
//
// Every kernel op (a dl op or its gradient; see codegen/KernelProgram.h) has
// one CpuKernel: a function emitting the C++ statement that calls its kernel
// template (the templates live in codegen/cpu/kernels/, header-only, namespace
// `dlk`, included by every generated program), and the scratch bytes it
// needs, which the memory planner places in the arena like any buffer.
//
// Emitted code sees:
//   using T = float;              // or double for an f64 program
//   const int64_t n;              // this call's batch size, 1..maxBatch
//   const dlk::StepContext &ctx;  // seed, step, lr (kernels/StepContext.h)
// and pointer expressions for operands and results, already cast to
// `const T *`/`T *` (or `const int32_t *` for i32 values). A result nobody
// reads is passed as `nullptr`, and the kernel must skip computing it (the
// gradient of a model input, of a frozen parameter, of a label).
//
// Each kernels file registers its ops with a register function listed in
// CpuKernels.cpp, like the reference ops do.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_CPUKERNEL_H
#define DLC_CODEGEN_CPU_CPUKERNEL_H

#include "codegen/KernelProgram.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dlc::codegen {

/// What an emitter gets for one call.
struct CpuKernelArgs {
  const KernelProgram &program;
  const KernelCall &call;
  /// One C++ expression per operand / result, e.g.
  /// "reinterpret_cast<const T *>(arena + 4096)", or "nullptr" for a
  /// result nobody reads.
  std::vector<std::string> operands;
  std::vector<std::string> results;
  /// "reinterpret_cast<unsigned char *>(arena + 8192)", or "nullptr" when
  /// workspaceBytes() was 0. 64-byte aligned.
  std::string workspace;
  /// A unique C++ identifier for this call ("k17"), for constants the
  /// emitter declares (e.g. `static constexpr dlk::Conv2dDims k17_dims{...}`
  /// in `declarations`).
  std::string id;
};

struct CpuKernelCode {
  /// Namespace-scope C++ emitted before the step functions (constants).
  std::string declarations;
  /// The statement(s) in the step function, ending with ';'.
  std::string statement;
};

struct CpuKernel {
  /// The C++ that calls the kernel.
  CpuKernelCode (*emit)(const CpuKernelArgs &args) = nullptr;
  /// Scratch bytes for a call at the program's maxBatch with T of
  /// `elementBytes`; null means none.
  int64_t (*workspaceBytes)(const KernelProgram &program,
                            const KernelCall &call, int elementBytes) = nullptr;
  /// >= 0: result 0 may share the buffer of this operand (the kernel reads
  /// each element before writing it, elementwise); -1: never.
  int inPlaceOperand = -1;
  /// Result 0 is operand 0's bytes reinterpreted (reshape): no kernel runs
  /// and the planner aliases the two values.
  bool aliasesOperand = false;
  /// Whether the kernel reads operand `operand` of `call` when
  /// `resultPassed[r]` says which results get a buffer (false: nullptr); null
  /// means it reads every operand. An operand it does not read is passed as
  /// nullptr, so its value may die before the call.
  bool (*readsOperand)(const KernelCall &call, size_t operand,
                       const std::vector<bool> &resultPassed) = nullptr;
};

using CpuKernelRegistry = std::map<std::string, CpuKernel>;

/// `text` as a C++ string literal, quotes included.
std::string cppStringLiteral(const std::string &text);

/// `value` as a C++ double literal that reads back exactly ("0.5",
/// "1.0e-07", "__builtin_inf()", "__builtin_nan(\"\")").
std::string cppDoubleLiteral(double value);

/// The type of value `id` of `program`, or null when there is no such value.
const TensorInfo *kernelValueType(const KernelProgram &program, int id);

/// The channel count C of the call's first operand x[..., C], or 0 when it
/// has none (no operands, no shape, a non-positive last dimension).
int64_t firstOperandChannels(const KernelProgram &program,
                             const KernelCall &call);

/// The code of a call its emitter cannot make (shapes or operand counts
/// that do not fit the op): a static_assert that stops the host compiler
/// with "dlc: <op> (<location>) <id>: <why>" instead of a wrong program.
CpuKernelCode malformedCall(const CpuKernelArgs &args, const std::string &why);

/// `dlk::<op><T>(n, <id>_dims, <pointers>..., <results>..., <workspace>);`:
/// the call of a kernel that takes the dims constant its emitter declares,
/// then `pointers` (usually args.operands), every result and the workspace;
/// "" when every result is nullptr (nobody reads one: no call).
inline std::string dimsKernelCall(const CpuKernelArgs &args,
                                  const std::vector<std::string> &pointers) {
  bool anyResult = false;
  for (const std::string &result : args.results)
    anyResult = anyResult || result != "nullptr";
  if (!anyResult)
    return "";
  std::string call = "dlk::" + args.call.op + "<T>(n, " + args.id + "_dims";
  for (const std::string &pointer : pointers)
    call += ", " + pointer;
  for (const std::string &result : args.results)
    call += ", " + result;
  return call + ", " + args.workspace + ");";
}

// One register function per kernels file (codegen/cpu/*.cpp).
void registerConvolutionKernels(CpuKernelRegistry &registry);
void registerElementwiseKernels(CpuKernelRegistry &registry);
void registerFusedElementwiseKernels(CpuKernelRegistry &registry);
void registerFusedLayerKernels(CpuKernelRegistry &registry);
void registerFusedNormalizationKernels(CpuKernelRegistry &registry);
void registerFusedNormPoolKernels(CpuKernelRegistry &registry);
void registerFusedNormAddKernels(CpuKernelRegistry &registry);
void registerPoolIndicesKernels(CpuKernelRegistry &registry);
void registerRecurrentKernels(CpuKernelRegistry &registry);
void registerTrainingKernels(CpuKernelRegistry &registry);

/// Every op with a CPU kernel.
const CpuKernelRegistry &cpuKernels();

} // namespace dlc::codegen

#endif // DLC_CODEGEN_CPU_CPUKERNEL_H
