//===- FusedElementwiseKernels.h - the ops a fused elementwise loop runs --===//
//
// The one table of per-op scalar formulas behind `fused_elementwise`: for
// each op that can run inside a fused elementwise loop, how it reads each
// operand and the C++ it contributes (calls of the dlk::fused functions in
// kernels/FusedElementwise.h). The CPU emitter builds the fused kernel from
// it, and `-dl-fuse-elementwise` (passes/FuseElementwise.cpp) fuses only
// the ops it lists, reading the operand roles from it.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_FUSEDELEMENTWISEKERNELS_H
#define DLC_CODEGEN_CPU_FUSEDELEMENTWISEKERNELS_H

#include "ir/Attrs.h"

#include <string>
#include <vector>

namespace dlc::codegen {

/// How a fused op reads one operand.
enum class FusedRole {
  Element, ///< one element per iteration, of the loop's shape
  Scalar,  ///< a 0-d tensor, read once before the loop
  Unread,  ///< not read by the formula (a gradient op's forward result)
  State,   ///< a parameter or slot (dl.param), updated in place per element
};

/// The C++ of one op of a fused loop. Inputs: `attrs`, `operands` (one
/// C++ expression of type T per operand; a State operand is an lvalue),
/// `results` (names of the T locals the op must define), `prefix` (a
/// unique name prefix for the op's per-call constants). Outputs: `setup`
/// (statements before the loop; they may read `ctx`, `total` and the
/// Scalar operands), `block` (statements once per block of four elements,
/// index `b`, for dropout's random words), `element` (statements per
/// element; `lane` is the element's index in its block).
struct FusedOpCode {
  const Attrs &attrs;
  std::vector<std::string> operands;
  std::vector<std::string> results;
  std::string prefix;
  std::string setup;
  std::string block;
  std::string element;
  std::string error;
};

struct FusedScalarOp {
  const char *name;
  /// One letter per operand: 'e' Element, 's' Scalar, '-' Unread,
  /// 'w' State. With `variadic`, the last letter repeats.
  const char *roles;
  /// Operands it takes at least (the rest of `roles` are optional slots).
  int minOperands;
  bool variadic;
  int results;
  /// Fills code.setup/block/element, or code.error.
  bool (*emit)(FusedOpCode &code);
};

/// The table entry of `name` ("relu_grad"), or null if it cannot be fused.
const FusedScalarOp *findFusedScalarOp(const std::string &name);

/// The roles of `count` operands of `op`; false if `op` takes no such count.
bool fusedOperandRoles(const FusedScalarOp &op, size_t count,
                       std::vector<FusedRole> &roles);

} // namespace dlc::codegen

#endif // DLC_CODEGEN_CPU_FUSEDELEMENTWISEKERNELS_H
