//===- DLFusedNormPoolOps.td - batchnorm+relu+maxpool --*- tablegen -*-===//
//
// The ops `-dl-fuse-batchnorm-relu-maxpool`
// (passes/FuseBatchNormReluMaxPool.cpp) puts in place of a training
// `dl.batchnorm_relu_train` whose output only feeds a `dl.maxpool2d` (and
// that pool's gradient), and of the backward pair `dl.maxpool2d_grad` +
// `dl.batchnorm_relu_train_grad`. The pooling windows never overlap
// (strides >= pool_size). They exist only after autodiff (no
// gradient rule, no shape-rule catalog entry); verifiers and type inference
// are in ir/DLFusedNormPoolOps.cpp.
//
// Neither the relu output (the pool's input) nor the pool's gradient scatter
// is ever stored, and no indices are kept: the backward finds each window's
// maximum again from x and the statistics.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_IR_DLFUSEDNORMPOOLOPS_TD
#define DLC_IR_DLFUSEDNORMPOOLOPS_TD

include "DLDialect.td"

def DL_BatchNormReluMaxPoolTrainOp : DL_Op<"batchnorm_relu_maxpool_train",
    [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "training batchnorm, relu and max pooling; relu never stored";
  let description = [{
      %p, %mean, %var = dl.batchnorm_relu_maxpool_train %x, %gamma, %beta
          {epsilon = 1.0e-03 : f64, pad = array<i64: 0, 0, 0, 0>,
           pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>}
          : (tensor<?x28x28x32xf32>, tensor<32xf32>, tensor<32xf32>)
          -> (tensor<?x14x14x32xf32>, tensor<32xf32>, tensor<32xf32>)

    `mean` and `var` are dl.batchnorm_relu_train's batch statistics of x;
    `p` is dl.maxpool2d (these pool attributes) of that op's output
    relu(gamma * (x - mean) / sqrt(var + epsilon) + beta), bit for bit.
    One statistics pass over x, then one pass computing each window's
    maximum. Windows must not overlap: strides >= pool_size.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Param:$gamma, DL_Param:$beta,
                   DenseI64ArrayAttr:$pool_size, DenseI64ArrayAttr:$strides,
                   DenseI64ArrayAttr:$pad, F64Attr:$epsilon);
  let results = (outs DL_Tensor:$output, DL_Param:$mean, DL_Param:$variance);
  let assemblyFormat =
      "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def DL_BatchNormReluMaxPoolTrainGradOp
    : DL_Op<"batchnorm_relu_maxpool_train_grad",
            [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "gradient of dl.batchnorm_relu_maxpool_train";
  let description = [{
      %dx, %dgamma, %dbeta = dl.batchnorm_relu_maxpool_train_grad %x, %gamma,
          %beta, %mean, %var, %dp
          {epsilon = 1.0e-03 : f64, pad = array<i64: 0, 0, 0, 0>,
           pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>}
          : (tensor<?x28x28x32xf32>, tensor<32xf32>, tensor<32xf32>,
             tensor<32xf32>, tensor<32xf32>, tensor<?x14x14x32xf32>)
          -> (tensor<?x28x28x32xf32>, tensor<32xf32>, tensor<32xf32>)

    `mean`, `var` are the forward's statistics and `dp` the gradient of the
    pooled output. Each window's arg-max is recomputed from x and the
    statistics with the forward's arithmetic and dl.maxpool2d_grad's tie
    rule (the first maximal cell), dp is routed to it (da: 0 elsewhere, and
    at positions in no window), and the result is
    dl.batchnorm_relu_train_grad of da: the same values as
    dl.maxpool2d_grad followed by it. Results have the types of x, gamma,
    beta.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Param:$gamma, DL_Param:$beta,
                   DL_Param:$mean, DL_Param:$variance, DL_Tensor:$output_grad,
                   DenseI64ArrayAttr:$pool_size, DenseI64ArrayAttr:$strides,
                   DenseI64ArrayAttr:$pad, F64Attr:$epsilon);
  let results = (outs DL_Tensor:$x_grad, DL_Param:$gamma_grad,
                      DL_Param:$beta_grad);
  let assemblyFormat =
      "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // DLC_IR_DLFUSEDNORMPOOLOPS_TD
