//===- DLDialect.cpp - the `dl` dialect -----------------------------------===//
//
// Registers the ops and verifies the dialect's discardable attributes:
// `dl.model`, `dl.loss` (unit, on functions), `dl.input_names` (one string
// per function argument) and `dl.train` (a dictionary, on the module).
// Other `dl.*` attributes are left to the passes that add them.
//
//===----------------------------------------------------------------------===//
#include "ir/DLDialect.h"
#include "ir/DLOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;

#include "ir/DLDialect.cpp.inc"

namespace dlc {
namespace dl {

void DLDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ir/DLOps.cpp.inc"
      >();
}

LogicalResult DLDialect::verifyOperationAttribute(Operation *op,
                                                  NamedAttribute attribute) {
  StringRef name = attribute.getName().strref();
  Attribute value = attribute.getValue();
  if (name == "dl.model" || name == "dl.loss") {
    if (!isa<FunctionOpInterface>(op))
      return op->emitError() << "'" << name << "' must be on a function";
    if (!isa<UnitAttr>(value))
      return op->emitError() << "'" << name << "' must be a unit attribute";
    return success();
  }
  if (name == "dl.input_names") {
    auto function = dyn_cast<FunctionOpInterface>(op);
    if (!function)
      return op->emitError() << "'" << name << "' must be on a function";
    auto names = dyn_cast<ArrayAttr>(value);
    if (!names || !llvm::all_of(names, llvm::IsaPred<StringAttr>))
      return op->emitError() << "'" << name << "' must be an array of strings";
    if (names.size() != function.getNumArguments())
      return op->emitError()
             << "'" << name << "' has " << names.size() << " names for "
             << function.getNumArguments() << " arguments";
    return success();
  }
  if (name == "dl.train") {
    if (!isa<ModuleOp>(op))
      return op->emitError() << "'" << name << "' must be on a module";
    if (!isa<DictionaryAttr>(value))
      return op->emitError() << "'" << name << "' must be a dictionary";
    return success();
  }
  return success();
}

} // namespace dl
} // namespace dlc
