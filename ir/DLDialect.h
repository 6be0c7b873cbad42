//===- DLDialect.h - the `dl` dialect -------------------------------------===//
//
// The graph-level dialect of dlc (C++ namespace dlc::dl). Ops are declared
// in ir/DLOps.h; the ODS definitions are in ir/DLDialect.td and ir/DLOps.td.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_IR_DLDIALECT_H
#define DLC_IR_DLDIALECT_H

#include "mlir/IR/Dialect.h"

#include "ir/DLDialect.h.inc"

#endif // DLC_IR_DLDIALECT_H
