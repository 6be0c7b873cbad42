// RUN: dlc-opt %s -split-input-file -verify-diagnostics
// The verifiers of dl.fused_conv2d, dl.fused_depthwise_conv2d,
// dl.fused_dense, their gradients and dl.fold_batchnorm
// (ir/DLFusedLayerOps.td).

func.func @unknown_activation(%x: tensor<?x4xf32>, %k: tensor<4x3xf32>) -> tensor<?x3xf32> {
  // expected-error @below {{expects 'activation' to be one of linear, relu, sigmoid, tanh, leaky_relu, elu}}
  %0 = dl.fused_dense %x, %k {activation = "softmax", units = 3 : i64} : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

// -----

func.func @missing_alpha(%x: tensor<?x4xf32>, %k: tensor<4x3xf32>) -> tensor<?x3xf32> {
  // expected-error @below {{expects an 'alpha' attribute exactly when the activation is leaky_relu or elu}}
  %0 = dl.fused_dense %x, %k {activation = "elu", units = 3 : i64} : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

// -----

func.func @wrong_kernel(%x: tensor<?x4xf32>, %k: tensor<5x3xf32>) -> tensor<?x3xf32> {
  // expected-error @below {{parameter 'kernel' (operand #1) must be 'tensor<4x3xf32>', got 'tensor<5x3xf32>'}}
  %0 = dl.fused_dense %x, %k {activation = "relu", units = 3 : i64} : (tensor<?x4xf32>, tensor<5x3xf32>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

// -----

func.func @wrong_result(%x: tensor<?x8x8x3xf32>, %k: tensor<3x3x3x4xf32>) -> tensor<?x8x8x4xf32> {
  // expected-error @below {{inferred type(s) 'tensor<?x6x6x4xf32>' are incompatible with return type(s) of operation 'tensor<?x8x8x4xf32>'}}
  // expected-error @below {{failed to infer returned types}}
  %0 = dl.fused_conv2d %x, %k {activation = "relu", dilation = array<i64: 1, 1>, filters = 4 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<?x8x8x3xf32>, tensor<3x3x3x4xf32>) -> tensor<?x8x8x4xf32>
  return %0 : tensor<?x8x8x4xf32>
}

// -----

func.func @grad_wrong_y(%x: tensor<?x4xf32>, %k: tensor<4x3xf32>, %y: tensor<?x4xf32>, %dy: tensor<?x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{y must be 'tensor<?x3xf32>', got 'tensor<?x4xf32>'}}
  %dx, %dk = dl.fused_dense_grad %x, %k, %y, %dy {activation = "relu", units = 3 : i64} : (tensor<?x4xf32>, tensor<4x3xf32>, tensor<?x4xf32>, tensor<?x3xf32>) -> (tensor<?x4xf32>, tensor<4x3xf32>)
  return %dk : tensor<4x3xf32>
}

// -----

func.func @grad_too_few(%x: tensor<?x4xf32>, %k: tensor<4x3xf32>, %dy: tensor<?x3xf32>) -> tensor<?x4xf32> {
  // expected-error @below {{expected 4 or more operands, but found 3}}
  %dx, %dk = dl.fused_dense_grad %x, %k, %dy {activation = "relu", units = 3 : i64} : (tensor<?x4xf32>, tensor<4x3xf32>, tensor<?x3xf32>) -> (tensor<?x4xf32>, tensor<4x3xf32>)
  return %dx : tensor<?x4xf32>
}

// -----

func.func @fold_channels(%k: tensor<3x3x2x6xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{expects the kernel's trailing axes to hold the 4 channels of gamma}}
  %k2, %b2 = dl.fold_batchnorm %k, %g, %g, %g, %g {epsilon = 1.0e-03 : f64} : (tensor<3x3x2x6xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<3x3x2x6xf32>, tensor<4xf32>)
  return %b2 : tensor<4xf32>
}

// -----

func.func @fold_epsilon(%k: tensor<3x4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{expects a finite epsilon >= 0}}
  %k2, %b2 = dl.fold_batchnorm %k, %g, %g, %g, %g {epsilon = -1.0 : f64} : (tensor<3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<3x4xf32>, tensor<4xf32>)
  return %b2 : tensor<4xf32>
}

// -----

func.func @fold_mixed_types(%k: tensor<3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf64>) -> tensor<4xf32> {
  // expected-error @below {{expects beta, the moving statistics and the bias to have gamma's type}}
  %k2, %b2 = dl.fold_batchnorm %k, %g, %b, %g, %g {epsilon = 1.0e-03 : f64} : (tensor<3x4xf32>, tensor<4xf32>, tensor<4xf64>, tensor<4xf32>, tensor<4xf32>) -> (tensor<3x4xf32>, tensor<4xf32>)
  return %b2 : tensor<4xf32>
}
