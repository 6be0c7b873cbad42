//===- FusedElementwiseBody.h - a fused chain's ops as call attributes ----===//
//
// The kernel-level form has no regions, so the body of a
// `dl.fused_elementwise` op (ir/DLFusedElementwiseOps.td) travels in its
// call's attributes (codegen/LowerToKernels.cpp encodes it, the CPU emitter
// in codegen/cpu/FusedElementwiseKernels.cpp decodes it):
//   "body"         one line per op, "<op> <operand ids> -> <result ids>",
//                  then "yield <ids>"; e.g.
//                    "dropout_grad 0 1 2 -> 4\nrelu_grad 3 4 -> 5\nyield 5"
//   "<k>.<name>"   attribute <name> of op k (0-based), e.g. "0.rate".
// Body values are numbered: 0 .. inputs-1 are the call's operands, in order;
// each op's results take the next numbers. The yielded values are the
// call's results, in order. Plain C++, no MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_FUSEDELEMENTWISEBODY_H
#define DLC_CODEGEN_FUSEDELEMENTWISEBODY_H

#include "ir/Attrs.h"

#include <string>
#include <vector>

namespace dlc::codegen {

struct FusedBody {
  struct Op {
    std::string name; ///< without "dl.": "relu_grad"
    std::vector<int> operands;
    std::vector<int> results;
    Attrs attrs;
  };
  int inputs = 0;
  std::vector<Op> ops;
  std::vector<int> yields;

  /// Number of values (inputs and op results).
  int valueCount() const;
};

/// Writes `body` into `attrs` ("body" and the "<k>.<name>" keys).
void encodeFusedBody(const FusedBody &body, Attrs &attrs);

/// Reads the body of a call with `inputs` operands; false with `error` when
/// it is malformed (a value used before it is defined, results not numbered
/// in order, no ops, ...).
bool decodeFusedBody(const Attrs &attrs, int inputs, FusedBody &body,
                     std::string &error);

} // namespace dlc::codegen

#endif // DLC_CODEGEN_FUSEDELEMENTWISEBODY_H
