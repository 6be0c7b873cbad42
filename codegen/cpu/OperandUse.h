//===- OperandUse.h - which operands a CPU kernel reads -------------------===//
//
// Predicates for CpuKernel::readsOperand, shared by the kernels files. A
// gradient op's operands are the forward's operands, then the forward's
// results, then dy (ir/DLGradientOps.td); many gradient kernels need only
// some of them, and an operand a kernel does not read is passed as nullptr
// so that the memory planner may let its value die earlier. Each predicate
// states what the kernel templates in codegen/cpu/kernels/ actually read.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_OPERANDUSE_H
#define DLC_CODEGEN_CPU_OPERANDUSE_H

#include "codegen/KernelProgram.h"

#include <cstddef>
#include <vector>

namespace dlc::codegen::operand_use {

/// Whether result `result` gets a buffer (true when unknown).
inline bool passed(const std::vector<bool> &resultPassed, size_t result) {
  return result >= resultPassed.size() || resultPassed[result];
}

/// Reads every operand except those listed (indices from the front).
template <size_t... Unread>
bool allBut(const KernelCall &, size_t operand, const std::vector<bool> &) {
  return ((operand != Unread) && ...);
}

/// Reads only the last operand (dy): the gradients of shape ops, dropout,
/// subtract, average pools, concat and weighted_sum.
inline bool onlyLast(const KernelCall &call, size_t operand,
                     const std::vector<bool> &) {
  return operand + 1 >= call.operands.size();
}

/// Reads every operand except the forward's result, the one before dy
/// (recurrent gradients, maxpool2d_grad).
inline bool allButForwardResult(const KernelCall &call, size_t operand,
                                const std::vector<bool> &) {
  return call.operands.size() < 2 || operand + 2 != call.operands.size();
}

/// (x, kernel, [bias], y, dy) -> (dx, dkernel, [dbias]): x only for dkernel,
/// the kernel only for dx, dy always; never bias or y (conv1d/2d,
/// conv2d_transpose, depthwise_conv2d, dense).
inline bool weightedGradient(const KernelCall &call, size_t operand,
                             const std::vector<bool> &resultPassed) {
  const size_t count = call.operands.size();
  if (count < 2 || operand + 1 >= count)
    return true; // dy (or a malformed call: claim everything)
  if (operand == 0)
    return passed(resultPassed, 1);
  if (operand == 1)
    return passed(resultPassed, 0);
  return false; // bias, y
}

/// (x, depthwise, pointwise, [bias], y, dy): everything but bias and y.
inline bool separableGradient(const KernelCall &call, size_t operand,
                              const std::vector<bool> &) {
  const size_t count = call.operands.size();
  return count < 2 || operand < 3 || operand + 1 >= count;
}

/// (a, b, y, dy) -> (da, db): da = dy * b, db = dy * a.
inline bool multiplyGradient(const KernelCall &call, size_t operand,
                             const std::vector<bool> &resultPassed) {
  if (call.operands.size() != 4)
    return true;
  if (operand == 0)
    return passed(resultPassed, 1);
  if (operand == 1)
    return passed(resultPassed, 0);
  return operand == 3;
}

/// batchnorm_grad (x, gamma, beta, mm, mv, y, dy) -> (dx, dgamma, dbeta,
/// dmm, dmv): x for dgamma/dbeta, gamma for dx; never beta or y.
inline bool batchnormGradient(const KernelCall &call, size_t operand,
                              const std::vector<bool> &resultPassed) {
  if (call.operands.size() != 7)
    return true;
  switch (operand) {
  case 0:
    return passed(resultPassed, 1) || passed(resultPassed, 2);
  case 1:
    return passed(resultPassed, 0);
  case 2:
  case 5:
    return false;
  default:
    return true;
  }
}

/// batchnorm_train_grad (x, gamma, beta, mm, mv, y, mean, var, dy): x, the
/// batch statistics and dy; gamma for dx only; never beta, the moving
/// statistics or y.
inline bool batchnormTrainGradient(const KernelCall &call, size_t operand,
                                   const std::vector<bool> &resultPassed) {
  if (call.operands.size() != 9)
    return true;
  switch (operand) {
  case 1:
    return passed(resultPassed, 0);
  case 2:
  case 3:
  case 4:
  case 5:
    return false;
  default:
    return true;
  }
}

/// layernorm_grad (x, gamma, beta, y, dy): x and dy; gamma for dx only.
inline bool layernormGradient(const KernelCall &call, size_t operand,
                              const std::vector<bool> &resultPassed) {
  if (call.operands.size() != 5)
    return true;
  if (operand == 1)
    return passed(resultPassed, 0);
  return operand != 2 && operand != 3;
}

} // namespace dlc::codegen::operand_use

#endif // DLC_CODEGEN_CPU_OPERANDUSE_H
