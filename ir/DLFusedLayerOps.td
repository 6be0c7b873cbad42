//===- DLFusedLayerOps.td - layers with fused epilogues ----*- tablegen -*-===//
//
// The ops the fusion passes emit for conv2d, depthwise_conv2d and dense:
//
//   dl.fused_X       the catalog op dl.X with its activation applied in the
//                    kernel's epilogue (while the output tile is in cache),
//                    so that the pre-activation never reaches memory;
//   dl.fused_X_grad  its gradient, computed from the activation's OUTPUT:
//                    operands = dl.fused_X's operands ++ its result ++ dy,
//                    results = one gradient per float operand (the
//                    convention of ir/DLGradientOps.td);
//   dl.fold_batchnorm  an inference batchnorm folded into the kernel and
//                    bias of the layer before it, at run time.
//
// `-dl-fuse-bias-activation` (passes/FuseBiasActivation.cpp) and
// `-dl-fold-batchnorm` (passes/FoldBatchNorm.cpp) emit them. The result
// types are the catalog op's (ir/ShapeRules.h); the C++ lives in
// ir/DLFusedLayerOps.cpp.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_IR_DLFUSEDLAYEROPS_TD
#define DLC_IR_DLFUSEDLAYEROPS_TD

include "DLDialect.td"

/// The activation of a fused layer: "linear" (none), "relu", "sigmoid",
/// "tanh", "leaky_relu" or "elu" (the .dl language's names, softmax
/// excepted: it is not elementwise). `alpha` is leaky_relu's and elu's.
defvar DL_FusedActivationArgs = (ins StrAttr:$activation,
                                 OptionalAttr<F64Attr>:$alpha);

/// dl.fused_<catalog op>: the catalog op `catalog`'s operands and
/// attributes plus the activation.
class DL_FusedLayerOp<DL_Op catalog>
    : DL_Op<"fused_" # catalog.opName,
            [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "dl." # catalog.opName # " with bias and activation fused";
  let arguments = !con(catalog.arguments, DL_FusedActivationArgs);
  let results = (outs DL_Tensor:$output);
  let assemblyFormat =
      "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

/// dl.fused_<catalog op>_grad: the gradient of DL_FusedLayerOp<catalog>,
/// reading the activation's output `y`, never the pre-activation.
class DL_FusedLayerGradOp<DL_Op catalog, dag gradients>
    : DL_Op<"fused_" # catalog.opName # "_grad",
            [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "gradient of dl.fused_" # catalog.opName;
  let arguments = !con(catalog.arguments, DL_FusedActivationArgs,
                       (ins DL_Tensor:$y, DL_Tensor:$dy));
  let results = gradients;
  let assemblyFormat =
      "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def DL_FusedConv2DOp : DL_FusedLayerOp<DL_Conv2DOp> {
  let description = [{
      %y = dl.fused_conv2d %x, %kernel, %bias {activation = "relu",
          dilation = array<i64: 1, 1>, filters = 32 : i64, ...}
          : (tensor<?x28x28x1xf32>, tensor<3x3x1x32xf32>, tensor<32xf32>)
          -> tensor<?x28x28x32xf32>

    y = activation(conv2d(x, kernel) + bias), the bias and the activation
    applied to each output tile as the convolution's GEMM stores it.
  }];
}

def DL_FusedDepthwiseConv2DOp : DL_FusedLayerOp<DL_DepthwiseConv2DOp> {
  let description = [{
    y = activation(depthwise_conv2d(x, kernel) + bias), applied to each
    output pixel as it is computed.
  }];
}

def DL_FusedDenseOp : DL_FusedLayerOp<DL_DenseOp> {
  let description = [{
      %y = dl.fused_dense %x, %kernel, %bias {activation = "relu",
          units = 128 : i64} : (tensor<?x3136xf32>, tensor<3136x128xf32>,
          tensor<128xf32>) -> tensor<?x128xf32>

    y = activation(x * kernel + bias), applied in the GEMM's epilogue.
  }];
}

def DL_FusedConv2DGradOp : DL_FusedLayerGradOp<DL_Conv2DOp,
    (outs DL_Tensor:$dx, DL_Param:$dkernel, Optional<DL_Param>:$dbias)>;
def DL_FusedDepthwiseConv2DGradOp
    : DL_FusedLayerGradOp<DL_DepthwiseConv2DOp,
          (outs DL_Tensor:$dx, DL_Param:$ddepthwise_kernel,
                Optional<DL_Param>:$dbias)>;
def DL_FusedDenseGradOp : DL_FusedLayerGradOp<DL_DenseOp,
    (outs DL_Tensor:$dx, DL_Param:$dkernel, Optional<DL_Param>:$dbias)>;

def DL_FoldBatchNormOp : DL_Op<"fold_batchnorm",
    [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "inference batchnorm folded into a layer's kernel and bias";
  let description = [{
      %k2, %b2 = dl.fold_batchnorm %kernel, %gamma, %beta, %mm, %mv[, %bias]
          {epsilon = 1.0e-03 : f64}
          : (tensor<3x3x1x32xf32>, tensor<32xf32>, tensor<32xf32>,
             tensor<32xf32>, tensor<32xf32>)
          -> (tensor<3x3x1x32xf32>, tensor<32xf32>)

    The kernel's output channels are its trailing axes (C = gamma's size:
    [.., F] for conv2d and dense, [.., C, M] for depthwise_conv2d), so the
    kernel is a [K, C] matrix. With s = gamma / sqrt(mv + epsilon):
      k2[i, c] = kernel[i, c] * s[c]
      b2[c]    = (bias[c] - mm[c]) * s[c] + beta[c]   (bias 0 when absent)
    so that layer(x, k2, b2) = batchnorm(layer(x, kernel, bias)) in
    inference mode. It reads the parameters at run time: eval and predict
    after training see the trained values.
  }];
  let arguments = (ins DL_Param:$kernel, DL_Param:$gamma, DL_Param:$beta,
                   DL_Param:$moving_mean, DL_Param:$moving_variance,
                   Optional<DL_Param>:$bias, F64Attr:$epsilon);
  let results = (outs DL_Param:$folded_kernel, DL_Param:$folded_bias);
  let assemblyFormat =
      "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // DLC_IR_DLFUSEDLAYEROPS_TD
