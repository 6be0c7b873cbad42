//===- KernelEmitterHarness.h - run CPU kernel emitters on plain data -----===//
//
// Shared by the kernel tests that check emitters (codegen/cpu/*Kernels.cpp):
// a KernelProgram under construction, a registry filled by one register
// function, and emit() that makes a KernelCall and its CpuKernelArgs the way
// the C++ emitter does (value `id` at `arena + id * 4096`, unread results as
// nullptr), returns the emitted code and appends it to the program text.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_TEST_UNIT_KERNELEMITTERHARNESS_H
#define DLC_TEST_UNIT_KERNELEMITTERHARNESS_H

#include "codegen/cpu/CpuKernel.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace dlc::testing {

/// A program under construction (modelName "m", maxBatch 8), the kernels of
/// one register function, and the emitted code of its calls so far.
struct KernelEmitterHarness {
  codegen::KernelProgram program;
  codegen::CpuKernelRegistry registry;
  /// Every emitted call's declarations and statements ("  " + statement +
  /// "\n" each), in order.
  std::string declarations, statements;
  /// The workspace expression passed to calls whose kernel asks for one.
  std::string workspace;
  int calls = 0;

  explicit KernelEmitterHarness(
      void (*registerKernels)(codegen::CpuKernelRegistry &),
      std::string workspace = "ws")
      : workspace(std::move(workspace)) {
    program.modelName = "m";
    program.maxBatch = 8;
    registerKernels(registry);
  }

  /// Adds a temporary value; returns its id.
  int value(Shape shape, bool batched = true,
            ElementType type = ElementType::F32) {
    codegen::KernelValue v;
    v.type.elementType = type;
    v.type.shape = std::move(shape);
    v.type.batched = batched;
    v.name = "v" + std::to_string(program.values.size());
    program.values.push_back(v);
    return static_cast<int>(program.values.size()) - 1;
  }

  /// The C++ expression of value `id` as an operand or a result.
  std::string pointer(int id, bool result) const {
    bool i32 = id >= 0 && static_cast<size_t>(id) < program.values.size() &&
               program.values[id].type.elementType == ElementType::I32;
    std::string type = i32 ? "int32_t" : "T";
    return std::string("reinterpret_cast<") + (result ? "" : "const ") + type +
           " *>(arena + " + std::to_string(id * 4096) + ")";
  }

  /// Emits call k<calls + 1> of `op`; `unused[i]` passes result i as nullptr.
  codegen::CpuKernelCode emit(const std::string &op, std::vector<int> operands,
                              std::vector<int> results, Attrs attrs = {},
                              std::vector<bool> unused = {}) {
    codegen::KernelCall call;
    call.op = op;
    call.attrs = std::move(attrs);
    call.operands = std::move(operands);
    call.results = std::move(results);
    codegen::CpuKernelArgs args{
        program, call, {}, {}, "nullptr", "k" + std::to_string(++calls)};
    for (int id : call.operands)
      args.operands.push_back(pointer(id, false));
    for (size_t i = 0; i < call.results.size(); ++i)
      args.results.push_back(i < unused.size() && unused[i]
                                 ? "nullptr"
                                 : pointer(call.results[i], true));
    auto it = registry.find(op);
    if (it == registry.end()) {
      ADD_FAILURE() << "no kernel for " << op;
      return {};
    }
    if (it->second.workspaceBytes &&
        it->second.workspaceBytes(program, call, 4) > 0)
      args.workspace = workspace;
    codegen::CpuKernelCode code = it->second.emit(args);
    declarations += code.declarations;
    statements += "  " + code.statement + "\n";
    return code;
  }
};

/// Whether `code` is what malformedCall() emits: a static_assert that stops
/// the host compiler.
inline bool isMalformedCall(const codegen::CpuKernelCode &code) {
  return code.statement.find("static_assert(sizeof(T) == 0") !=
         std::string::npos;
}

} // namespace dlc::testing

#endif // DLC_TEST_UNIT_KERNELEMITTERHARNESS_H
