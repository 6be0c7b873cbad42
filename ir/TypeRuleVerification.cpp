//===- TypeRuleVerification.cpp - infer and verify with one type rule -----===//

#include "ir/TypeRuleVerification.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/TypeRange.h"
#include "llvm/Support/raw_ostream.h"

namespace dlc {

std::string typeText(mlir::Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << type;
  return text;
}

mlir::LogicalResult
inferTypesWithRule(TypeRule rule, llvm::StringRef opName,
                   std::optional<mlir::Location> location,
                   llvm::SmallVectorImpl<mlir::Type> &types) {
  std::string error = rule(types);
  if (error.empty())
    return mlir::success();
  if (location)
    mlir::emitError(*location) << "'" << opName << "' op " << error;
  return mlir::failure();
}

mlir::LogicalResult verifyTypesWithRule(mlir::Operation *op, TypeRule rule) {
  llvm::SmallVector<mlir::Type> types;
  std::string error = rule(types);
  if (!error.empty())
    return op->emitOpError(error);
  if (mlir::TypeRange(op->getResultTypes()) != mlir::TypeRange(types))
    return op->emitOpError("result types do not match the operands");
  return mlir::success();
}

} // namespace dlc
