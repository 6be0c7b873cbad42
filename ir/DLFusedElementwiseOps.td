//===- DLFusedElementwiseOps.td - chains of elementwise ops -*- tablegen -*-===//
//
// `-dl-fuse-elementwise` (passes/FuseElementwise.cpp) moves a chain of
// elementwise ops of one shape (activations, merges, dropout, their
// gradients, elementwise loss gradients, the optimizer updates) into the
// region of one `dl.fused_elementwise`, which the CPU emitter turns into
// one loop computing the whole chain per element
// (codegen/cpu/FusedElementwiseKernels.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef DLC_IR_DLFUSEDELEMENTWISEOPS_TD
#define DLC_IR_DLFUSEDELEMENTWISEOPS_TD

include "DLDialect.td"

def DL_FusedElementwiseOp : DL_Op<"fused_elementwise",
    [IsolatedFromAbove, RecursiveMemoryEffects,
     SingleBlockImplicitTerminator<"ElementwiseYieldOp">]> {
  let summary = "a chain of elementwise ops run as one kernel";
  let description = [{
    The region holds the original dl ops, unchanged. Its block arguments
    are the operands (the chain's inputs, one per distinct value); the
    terminator yields the chain's values that are read outside it, which
    are the results. A parameter or optimizer slot that an update op in the
    chain writes is read inside the region by its own `dl.param` (the
    update ops need their state to come from one); the op then has the
    update's memory effects (RecursiveMemoryEffects), otherwise it is pure.

      %r = dl.fused_elementwise %dy, %x, %t
          : (tensor<?x128xf32>, tensor<?x128xf32>, tensor<?x128xf32>)
          -> tensor<?x128xf32> {
      ^bb0(%a: tensor<?x128xf32>, %b: tensor<?x128xf32>, %c: tensor<?x128xf32>):
        %0 = dl.dropout_grad %c, %b, %a {rate = 5.0e-01 : f64, ...} : ...
        %1 = dl.relu_grad %b, %c, %0 : ...
        dl.elementwise_yield %1 : tensor<?x128xf32>
      }

    Every value of the body is a tensor of the chain's shape, or 0-d (a
    loss gradient's seed, read once).
  }];
  let arguments = (ins Variadic<DL_Tensor>:$inputs);
  let results = (outs Variadic<DL_Tensor>:$outputs);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $inputs attr-dict `:` functional-type($inputs, $outputs) $body
  }];
  let hasVerifier = 1;
}

def DL_ElementwiseYieldOp : DL_Op<"elementwise_yield",
    [Pure, Terminator, HasParent<"FusedElementwiseOp">]> {
  let summary = "the values a dl.fused_elementwise returns";
  let arguments = (ins Variadic<DL_Tensor>:$values);
  let builders = [OpBuilder<(ins), [{ build($_builder, $_state, ::mlir::ValueRange()); }]>];
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

#endif // DLC_IR_DLFUSEDELEMENTWISEOPS_TD
