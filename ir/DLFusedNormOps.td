//===- DLFusedNormOps.td - fused batchnorm + relu (training) -*- tablegen -*-===//
//
// The ops `-dl-fuse-conv-bn-relu` (passes/FuseConvBnRelu.cpp) puts in place
// of a training-mode `dl.batchnorm_train` followed by `dl.relu`, and of their
// backward pair `dl.relu_grad` + `dl.batchnorm_train_grad`. They exist only
// after autodiff (no gradient rule, no shape-rule catalog entry); verifiers
// and type inference are in ir/DLFusedNormOps.cpp.
//
// Operands are only what the kernels read: the moving statistics are not
// operands (the `dl.moving_average_update` ops read them and the batch
// statistics directly), and the backward reads neither the relu output nor
// the batchnorm output, so the planner need not keep them for it.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_IR_DLFUSEDNORMOPS_TD
#define DLC_IR_DLFUSEDNORMOPS_TD

include "DLDialect.td"

def DL_BatchNormReluTrainOp : DL_Op<"batchnorm_relu_train",
    [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "training batchnorm then relu, y never materialized";
  let description = [{
      %a, %mean, %var = dl.batchnorm_relu_train %x, %gamma, %beta
          {epsilon = 1.0e-03 : f64}
          : (tensor<?x28x28x32xf32>, tensor<32xf32>, tensor<32xf32>)
          -> (tensor<?x28x28x32xf32>, tensor<32xf32>, tensor<32xf32>)

    `mean` and `var` are the batch mean and biased variance of x over every
    axis but the last (C channels), as dl.batchnorm_train's; the output is
    relu(gamma * (x - mean) / sqrt(var + epsilon) + beta). One statistics
    pass over x, then one pass writing the output.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Param:$gamma, DL_Param:$beta,
                   F64Attr:$epsilon);
  let results = (outs DL_Tensor:$output, DL_Param:$mean, DL_Param:$variance);
  let assemblyFormat =
      "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def DL_BatchNormReluApplyOp : DL_Op<"batchnorm_relu_apply",
    [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "dl.batchnorm_relu_train's output from its saved statistics";
  let description = [{
      %a = dl.batchnorm_relu_apply %x, %gamma, %beta, %mean, %var
          {epsilon = 1.0e-03 : f64}
          : (tensor<?x28x28x32xf32>, tensor<32xf32>, tensor<32xf32>,
             tensor<32xf32>, tensor<32xf32>) -> tensor<?x28x28x32xf32>

    With `mean` and `var` the results of a dl.batchnorm_relu_train of the
    same x, gamma, beta and epsilon, the result is that op's output, bit for
    bit (the same constants and expression as its backward's relu mask), in
    one pass over x and no statistics pass. `-dl-recompute` puts it in the
    backward in place of a kept batchnorm+relu output.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Param:$gamma, DL_Param:$beta,
                   DL_Param:$mean, DL_Param:$variance, F64Attr:$epsilon);
  let results = (outs DL_Tensor:$output);
  let assemblyFormat =
      "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def DL_BatchNormReluTrainGradOp : DL_Op<"batchnorm_relu_train_grad",
    [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "gradient of dl.batchnorm_relu_train";
  let description = [{
      %dx, %dgamma, %dbeta = dl.batchnorm_relu_train_grad %x, %gamma, %beta,
          %mean, %var, %da {epsilon = 1.0e-03 : f64}
          : (tensor<?x28x28x32xf32>, tensor<32xf32>, tensor<32xf32>,
             tensor<32xf32>, tensor<32xf32>, tensor<?x28x28x32xf32>)
          -> (tensor<?x28x28x32xf32>, tensor<32xf32>, tensor<32xf32>)

    `mean`, `var` are the forward's statistics and `da` the gradient of its
    output. The relu mask is recomputed from x and the statistics with the
    forward's arithmetic; with dy = da where the mask is set, 0 elsewhere:
    dgamma = sum(dy * xhat), dbeta = sum(dy) and
    dx = gamma / sqrt(var + eps) / R * (R dy - dbeta - xhat dgamma),
    R the number of rows. Results have the types of x, gamma, beta.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Param:$gamma, DL_Param:$beta,
                   DL_Param:$mean, DL_Param:$variance, DL_Tensor:$output_grad,
                   F64Attr:$epsilon);
  let results = (outs DL_Tensor:$x_grad, DL_Param:$gamma_grad,
                      DL_Param:$beta_grad);
  let assemblyFormat =
      "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // DLC_IR_DLFUSEDNORMOPS_TD
