//===- Passes.td - the passes over the `dl` dialect --------*- tablegen -*-===//
//
// One pass per file in passes/; each has lit tests in test/passes/.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_PASSES_PASSES_TD
#define DLC_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def StripDropout : Pass<"dl-strip-dropout"> {
  let summary = "Replace every dl.dropout by its input";
  let description = [{
    Dropout only acts while training. The inference graphs (eval, predict)
    run this pass so that they draw no random numbers:

      %1 = dl.dropout %0 {rate = 5.0e-01 : f64, seed_offset = 0 : i64} ...
      %2 = dl.relu %1 ...

    becomes `%2 = dl.relu %0 ...`.
  }];
  let constructor = "::dlc::createStripDropoutPass()";
  let dependentDialects = ["::dlc::dl::DLDialect"];
}

#endif // DLC_PASSES_PASSES_TD
