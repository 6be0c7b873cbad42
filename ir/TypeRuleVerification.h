//===- TypeRuleVerification.h - infer and verify with one type rule -------===//
//
// The fused ops (ir/DLFusedNormOps.cpp, DLFusedNormPoolOps.cpp,
// DLFusedNormAddOps.cpp) each derive their result types from their
// operands and attributes with one rule, which serves both type inference
// and the verifier. These helpers run such a rule: inference reports the
// rule's error at the op's location; verification also checks that the
// op's result types are the inferred ones.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_IR_TYPERULEVERIFICATION_H
#define DLC_IR_TYPERULEVERIFICATION_H

#include "mlir/IR/Location.h"
#include "mlir/IR/Operation.h"
#include "mlir/IR/Types.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace dlc {

/// A type rule: fills `types` with an op's result types and returns the
/// error, empty when the operands and attributes are valid.
using TypeRule =
    llvm::function_ref<std::string(llvm::SmallVectorImpl<mlir::Type> &types)>;

/// The text of `type`, e.g. "tensor<?x4xf32>", for messages.
std::string typeText(mlir::Type type);

/// Type inference with `rule`: its error, if any, goes to `location` as
/// "'<opName>' op <error>".
mlir::LogicalResult
inferTypesWithRule(TypeRule rule, llvm::StringRef opName,
                   std::optional<mlir::Location> location,
                   llvm::SmallVectorImpl<mlir::Type> &types);

/// Verification with `rule`: its error, or "result types do not match the
/// operands" when `op`'s result types are not the inferred ones.
mlir::LogicalResult verifyTypesWithRule(mlir::Operation *op, TypeRule rule);

} // namespace dlc

#endif // DLC_IR_TYPERULEVERIFICATION_H
