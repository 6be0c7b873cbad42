//===- DLMemoryOps.td - ops that save memory in training -----*- tablegen -*-===//
//
// Ops that `-dl-save-pool-indices` (passes/SavePoolIndices.cpp) puts in the
// training functions so that the backward keeps less of the forward alive.
// They exist only after autodiff (no gradient rule, no shape-rule catalog
// entry); types and verifiers are in ir/DLMemoryOps.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_IR_DLMEMORYOPS_TD
#define DLC_IR_DLMEMORYOPS_TD

include "DLDialect.td"

def DL_MaxPool2DIndicesOp : DL_Op<"maxpool2d_indices",
    [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "max pooling that also returns where each maximum was";
  let description = [{
      %y, %indices = dl.maxpool2d_indices %x
          {pad = array<i64: 0, 0, 0, 0>, pool_size = array<i64: 2, 2>,
           strides = array<i64: 2, 2>}
          : (tensor<?x28x28x32xf32>)
          -> (tensor<?x14x14x32xf32>, tensor<?x14x14x32xi32>)

    `y` is dl.maxpool2d's result with the same attributes. `indices` has y's
    shape: for each output element, the row-major position of its maximum
    among the cells of its window that lie inside x (the first maximal
    cell, as the gradient's tie rule), or 0 for a window with no cell.
    With it, the backward (dl.maxpool2d_grad_indices) no longer needs x.
    Indices are i32: the kernel-level form has no narrower integer type.
  }];
  let arguments = (ins DL_Tensor:$x, DenseI64ArrayAttr:$pool_size,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pad);
  let results = (outs DL_Tensor:$output, DL_Tensor:$indices);
  let assemblyFormat =
      "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def DL_MaxPool2DGradIndicesOp : DL_Op<"maxpool2d_grad_indices", [Pure]> {
  let summary = "gradient of max pooling from the saved indices";
  let description = [{
      %dx = dl.maxpool2d_grad_indices %indices, %dy
          {pad = array<i64: 0, 0, 0, 0>, pool_size = array<i64: 2, 2>,
           strides = array<i64: 2, 2>}
          : (tensor<?x14x14x32xi32>, tensor<?x14x14x32xf32>)
          -> tensor<?x28x28x32xf32>

    dx is zero except that each dy element is added to the cell its index
    names in its window: dl.maxpool2d_grad's result without reading x. The
    result type is x's (dl.maxpool2d of it with these attributes has dy's
    type).
  }];
  let arguments = (ins DL_Tensor:$indices, DL_Tensor:$output_grad,
                   DenseI64ArrayAttr:$pool_size, DenseI64ArrayAttr:$strides,
                   DenseI64ArrayAttr:$pad);
  let results = (outs DL_Tensor:$x_grad);
  let assemblyFormat =
      "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // DLC_IR_DLMEMORYOPS_TD
