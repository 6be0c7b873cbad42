//===- DLFusedNormAddOps.td - batchnorm + residual add + relu -*- tablegen -*-===//
//
// The ops `-dl-fuse-batchnorm-add-relu` (passes/FuseBatchNormAddRelu.cpp)
// puts in place of a residual block's tail in training:
//
//   %y, %m, %v = dl.batchnorm_train %x, ...     (and %y2 of %x2 for a
//   %s = dl.add %y, %r                           projection shortcut)
//   %a = dl.relu %s
//   %ds = dl.relu_grad %s, %a, dl.add_n(%da...)
//   ... = dl.batchnorm_train_grad ..., %ds       (one per batchnorm)
//
// They exist only after autodiff (no gradient rule, no shape-rule catalog
// entry); verifiers and type inference are in ir/DLFusedNormAddOps.cpp.
// Operands are only what the kernels read: the moving statistics are not
// operands (the `dl.moving_average_update` ops read them and the batch
// statistics directly), and the backward reads the block's output a (the
// relu mask) instead of the batchnorm outputs or the sum.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_IR_DLFUSEDNORMADDOPS_TD
#define DLC_IR_DLFUSEDNORMADDOPS_TD

include "DLDialect.td"

def DL_BatchNormAddReluTrainOp : DL_Op<"batchnorm_add_relu_train",
    [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "training batchnorm, residual add, relu in one pass";
  let description = [{
      %a, %mean, %var = dl.batchnorm_add_relu_train %x, %gamma, %beta, %r
          {epsilon = 1.0e-03 : f64}
          : (tensor<?x28x28x16xf32>, tensor<16xf32>, tensor<16xf32>,
             tensor<?x28x28x16xf32>)
          -> (tensor<?x28x28x16xf32>, tensor<16xf32>, tensor<16xf32>)

    `mean` and `var` are the batch mean and biased variance of x over every
    axis but the last (C channels), as dl.batchnorm_train's; the output is
    relu(gamma * (x - mean) / sqrt(var + epsilon) + beta + r). One
    statistics pass over x, then one pass writing the output.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Param:$gamma, DL_Param:$beta,
                   DL_Tensor:$residual, F64Attr:$epsilon);
  let results = (outs DL_Tensor:$output, DL_Param:$mean, DL_Param:$variance);
  let assemblyFormat =
      "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def DL_BatchNormAddBatchNormReluTrainOp
    : DL_Op<"batchnorm_add_batchnorm_relu_train",
            [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "two training batchnorms added, then relu, in one pass";
  let description = [{
      %a, %mean, %var, %mean2, %var2 = dl.batchnorm_add_batchnorm_relu_train
          %x, %gamma, %beta, %x2, %gamma2, %beta2
          {epsilon = 1.0e-03 : f64, epsilon2 = 1.0e-03 : f64}
          : (tensor<?x14x14x32xf32>, tensor<32xf32>, tensor<32xf32>,
             tensor<?x14x14x32xf32>, tensor<32xf32>, tensor<32xf32>)
          -> (tensor<?x14x14x32xf32>, tensor<32xf32>, tensor<32xf32>,
              tensor<32xf32>, tensor<32xf32>)

    A residual block with a projection shortcut: the output is
    relu(bn(x) + bn2(x2)), each batchnorm with its own batch statistics
    (returned), parameters and epsilon. One statistics pass over each of x
    and x2, then one pass writing the output.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Param:$gamma, DL_Param:$beta,
                   DL_Tensor:$x2, DL_Param:$gamma2, DL_Param:$beta2,
                   F64Attr:$epsilon, F64Attr:$epsilon2);
  let results = (outs DL_Tensor:$output, DL_Param:$mean, DL_Param:$variance,
                      DL_Param:$mean2, DL_Param:$variance2);
  let assemblyFormat =
      "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def DL_BatchNormAddReluTrainGradOp : DL_Op<"batchnorm_add_relu_train_grad",
    [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "gradient of dl.batchnorm_add_relu_train";
  let description = [{
      %dx, %dgamma, %dbeta, %dr = dl.batchnorm_add_relu_train_grad
          %x, %gamma, %beta, %mean, %var, %a, %da0, %da1
          {epsilon = 1.0e-03 : f64}
          : (tensor<?x28x28x16xf32>, tensor<16xf32>, tensor<16xf32>,
             tensor<16xf32>, tensor<16xf32>, tensor<?x28x28x16xf32>,
             tensor<?x28x28x16xf32>, tensor<?x28x28x16xf32>)
          -> (tensor<?x28x28x16xf32>, tensor<16xf32>, tensor<16xf32>,
              tensor<?x28x28x16xf32>)

    `mean`, `var` are the forward's statistics, `a` its output and
    `output_grads` (one or more, summed left to right as dl.add_n sums)
    the output's gradient. With ds = sum(output_grads) * (a > 0 ? 1 : 0)
    (dl.relu_grad's mask): dr = ds is the residual's gradient,
    dgamma = sum(ds * xhat), dbeta = sum(ds) and
    dx = gamma / sqrt(var + eps) / R * (R ds - dbeta - xhat dgamma),
    R the number of rows.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Param:$gamma, DL_Param:$beta,
                   DL_Param:$mean, DL_Param:$variance, DL_Tensor:$output,
                   Variadic<DL_Tensor>:$output_grads, F64Attr:$epsilon);
  let results = (outs DL_Tensor:$x_grad, DL_Param:$gamma_grad,
                      DL_Param:$beta_grad, DL_Tensor:$residual_grad);
  let assemblyFormat =
      "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def DL_BatchNormAddBatchNormReluTrainGradOp
    : DL_Op<"batchnorm_add_batchnorm_relu_train_grad",
            [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "gradient of dl.batchnorm_add_batchnorm_relu_train";
  let description = [{
      %dx, %dgamma, %dbeta, %dx2, %dgamma2, %dbeta2 =
          dl.batchnorm_add_batchnorm_relu_train_grad
          %x, %gamma, %beta, %mean, %var,
          %x2, %gamma2, %beta2, %mean2, %var2, %a, %da
          {epsilon = 1.0e-03 : f64, epsilon2 = 1.0e-03 : f64}
          : (...) -> (...)

    With ds = sum(output_grads) * (a > 0 ? 1 : 0), each batchnorm's
    gradients from ds as dl.batchnorm_train_grad computes them. Both
    batchnorms' sums come from one pass over ds, both input gradients from
    one more; ds is never stored. Results have the types of x, gamma, beta,
    x2, gamma2, beta2.
  }];
  let arguments = (ins DL_Tensor:$x, DL_Param:$gamma, DL_Param:$beta,
                   DL_Param:$mean, DL_Param:$variance, DL_Tensor:$x2,
                   DL_Param:$gamma2, DL_Param:$beta2, DL_Param:$mean2,
                   DL_Param:$variance2, DL_Tensor:$output,
                   Variadic<DL_Tensor>:$output_grads, F64Attr:$epsilon,
                   F64Attr:$epsilon2);
  let results = (outs DL_Tensor:$x_grad, DL_Param:$gamma_grad,
                      DL_Param:$beta_grad, DL_Tensor:$x2_grad,
                      DL_Param:$gamma2_grad, DL_Param:$beta2_grad);
  let assemblyFormat =
      "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // DLC_IR_DLFUSEDNORMADDOPS_TD
