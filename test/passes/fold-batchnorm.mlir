// RUN: dlc-opt %s -dl-fold-batchnorm -verify-diagnostics | FileCheck %s
// -dl-fold-batchnorm folds each inference dl.batchnorm into the conv2d,
// depthwise_conv2d or dense before it (dl.fold_batchnorm computes the
// folded kernel and bias at run time) and moves the batchnorm output's
// activation, when it is its only user, into the fused layer's epilogue.
// Only the inference functions (dl.model, dl.eval) change; every
// batchnorm there gets a remark.

// conv2d without bias -> batchnorm -> relu: one fused conv.
// CHECK-LABEL: func.func @conv_bn_relu
// CHECK-SAME: %[[X:[^:]*]]: tensor<?x8x8x3xf32>, %[[K:[^:]*]]: tensor<3x3x3x4xf32>, %[[G:[^:]*]]: tensor<4xf32>, %[[B:[^:]*]]: tensor<4xf32>, %[[M:[^:]*]]: tensor<4xf32>, %[[V:[^:]*]]: tensor<4xf32>
// CHECK-NEXT: %[[FK:[^,]*]], %[[FB:[^ ]*]] = dl.fold_batchnorm %[[K]], %[[G]], %[[B]], %[[M]], %[[V]] {epsilon = 1.000000e-03 : f64} : (tensor<3x3x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<3x3x3x4xf32>, tensor<4xf32>)
// CHECK-NEXT: %[[Y:.*]] = dl.fused_conv2d %[[X]], %[[FK]], %[[FB]] {activation = "relu", dilation = array<i64: 1, 1>, filters = 4 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x8x8x3xf32>, tensor<3x3x3x4xf32>, tensor<4xf32>) -> tensor<?x8x8x4xf32>
// CHECK-NEXT: return %[[Y]]
func.func @conv_bn_relu(%x: tensor<?x8x8x3xf32>, %k: tensor<3x3x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>) -> tensor<?x8x8x4xf32> attributes {dl.model} {
  %0 = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, filters = 4 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x8x8x3xf32>, tensor<3x3x3x4xf32>) -> tensor<?x8x8x4xf32>
  // expected-remark @below {{fused: batchnorm folded into the conv2d kernel and bias (relu in the epilogue)}}
  %1 = dl.batchnorm %0, %g, %b, %m, %v {epsilon = 1.0e-03 : f64, momentum = 0.99 : f64} : (tensor<?x8x8x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x8x8x4xf32>
  %2 = dl.relu %1 : (tensor<?x8x8x4xf32>) -> tensor<?x8x8x4xf32>
  return %2 : tensor<?x8x8x4xf32>
}

// dense with a bias -> batchnorm, no activation; in an eval function.
// CHECK-LABEL: func.func @dense_bias_bn
// CHECK-SAME: %[[X:[^:]*]]: tensor<?x6xf64>, %[[K:[^:]*]]: tensor<6x5xf64>, %[[BIAS:[^:]*]]: tensor<5xf64>, %[[G:[^:]*]]: tensor<5xf64>, %[[B:[^:]*]]: tensor<5xf64>, %[[M:[^:]*]]: tensor<5xf64>, %[[V:[^:]*]]: tensor<5xf64>
// CHECK-NEXT: %[[FK:[^,]*]], %[[FB:[^ ]*]] = dl.fold_batchnorm %[[K]], %[[G]], %[[B]], %[[M]], %[[V]], %[[BIAS]] {epsilon = 1.000000e-02 : f64}
// CHECK-NEXT: %[[Y:.*]] = dl.fused_dense %[[X]], %[[FK]], %[[FB]] {activation = "linear", units = 5 : i64}
// CHECK-NEXT: %[[S:.*]] = dl.mse %[[Y]], %{{.*}}
// CHECK-NEXT: return %[[S]], %[[Y]]
func.func @dense_bias_bn(%x: tensor<?x6xf64>, %k: tensor<6x5xf64>, %bias: tensor<5xf64>, %g: tensor<5xf64>, %b: tensor<5xf64>, %m: tensor<5xf64>, %v: tensor<5xf64>, %t: tensor<?x5xf64>) -> (tensor<f64>, tensor<?x5xf64>) attributes {dl.eval} {
  %0 = dl.dense %x, %k, %bias {units = 5 : i64} : (tensor<?x6xf64>, tensor<6x5xf64>, tensor<5xf64>) -> tensor<?x5xf64>
  // expected-remark @below {{fused: batchnorm folded into the dense kernel and bias}}
  %1 = dl.batchnorm %0, %g, %b, %m, %v {epsilon = 1.0e-02 : f64, momentum = 0.9 : f64} : (tensor<?x5xf64>, tensor<5xf64>, tensor<5xf64>, tensor<5xf64>, tensor<5xf64>) -> tensor<?x5xf64>
  %2 = dl.mse %1, %t : (tensor<?x5xf64>, tensor<?x5xf64>) -> tensor<f64>
  return %2, %1 : tensor<f64>, tensor<?x5xf64>
}

// depthwise_conv2d (multiplier 2: 6 output channels) -> batchnorm ->
// sigmoid.
// CHECK-LABEL: func.func @depthwise_bn_sigmoid
// CHECK-NEXT: %[[FK:[^,]*]], %[[FB:[^ ]*]] = dl.fold_batchnorm %arg1, %arg2, %arg3, %arg4, %arg5 {epsilon = 1.000000e-03 : f64} : (tensor<3x3x3x2xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>) -> (tensor<3x3x3x2xf32>, tensor<6xf32>)
// CHECK-NEXT: %[[Y:.*]] = dl.fused_depthwise_conv2d %arg0, %[[FK]], %[[FB]] {activation = "sigmoid", depth_multiplier = 2 : i64
// CHECK-NEXT: return %[[Y]]
func.func @depthwise_bn_sigmoid(%x: tensor<?x8x8x3xf32>, %k: tensor<3x3x3x2xf32>, %g: tensor<6xf32>, %b: tensor<6xf32>, %m: tensor<6xf32>, %v: tensor<6xf32>) -> tensor<?x6x6x6xf32> attributes {dl.model} {
  %0 = dl.depthwise_conv2d %x, %k {depth_multiplier = 2 : i64, dilation = array<i64: 1, 1>, kernel_size = array<i64: 3, 3>, pad = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<?x8x8x3xf32>, tensor<3x3x3x2xf32>) -> tensor<?x6x6x6xf32>
  // expected-remark @below {{fused: batchnorm folded into the depthwise_conv2d kernel and bias (sigmoid in the epilogue)}}
  %1 = dl.batchnorm %0, %g, %b, %m, %v {epsilon = 1.0e-03 : f64, momentum = 0.99 : f64} : (tensor<?x6x6x6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>) -> tensor<?x6x6x6xf32>
  %2 = dl.sigmoid %1 : (tensor<?x6x6x6xf32>) -> tensor<?x6x6x6xf32>
  return %2 : tensor<?x6x6x6xf32>
}

// The batchnorm output has two users: folded, the relu stays separate.
// CHECK-LABEL: func.func @bn_two_users
// CHECK-NEXT: %[[FK:[^,]*]], %[[FB:[^ ]*]] = dl.fold_batchnorm
// CHECK-NEXT: %[[Y:.*]] = dl.fused_dense %arg0, %[[FK]], %[[FB]] {activation = "linear", units = 4 : i64}
// CHECK-NEXT: %[[R:.*]] = dl.relu %[[Y]]
// CHECK-NEXT: %[[A:.*]] = dl.add %[[R]], %[[Y]]
func.func @bn_two_users(%x: tensor<?x4xf32>, %k: tensor<4x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>) -> tensor<?x4xf32> attributes {dl.model} {
  %0 = dl.dense %x, %k {units = 4 : i64} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
  // expected-remark @below {{fused: batchnorm folded into the dense kernel and bias}}
  %1 = dl.batchnorm %0, %g, %b, %m, %v {epsilon = 1.0e-03 : f64, momentum = 0.99 : f64} : (tensor<?x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %2 = dl.relu %1 : (tensor<?x4xf32>) -> tensor<?x4xf32>
  %3 = dl.add %2, %1 : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  return %3 : tensor<?x4xf32>
}

// Not folded: the conv output has another user, or the batchnorm's input
// is not a layer.
// CHECK-LABEL: func.func @not_folded
// CHECK: dl.conv2d
// CHECK: dl.batchnorm
// CHECK: dl.batchnorm
// CHECK-NOT: dl.fold_batchnorm
// CHECK: return
func.func @not_folded(%x: tensor<?x8x8x3xf32>, %k: tensor<3x3x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>, %g3: tensor<3xf32>, %b3: tensor<3xf32>, %m3: tensor<3xf32>, %v3: tensor<3xf32>) -> (tensor<?x8x8x4xf32>, tensor<?x8x8x4xf32>, tensor<?x8x8x3xf32>) attributes {dl.model} {
  %0 = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, filters = 4 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x8x8x3xf32>, tensor<3x3x3x4xf32>) -> tensor<?x8x8x4xf32>
  // expected-remark @below {{not fused: the conv2d output has another user}}
  %1 = dl.batchnorm %0, %g, %b, %m, %v {epsilon = 1.0e-03 : f64, momentum = 0.99 : f64} : (tensor<?x8x8x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x8x8x4xf32>
  // expected-remark @below {{not fused: its input is not a conv2d, depthwise_conv2d or dense}}
  %2 = dl.batchnorm %x, %g3, %b3, %m3, %v3 {epsilon = 1.0e-03 : f64, momentum = 0.99 : f64} : (tensor<?x8x8x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<?x8x8x3xf32>
  return %1, %0, %2 : tensor<?x8x8x4xf32>, tensor<?x8x8x4xf32>, tensor<?x8x8x3xf32>
}

// A training function is left alone (no remark).
// CHECK-LABEL: func.func @training
// CHECK-NEXT: dl.dense
// CHECK-NEXT: dl.batchnorm
func.func @training(%x: tensor<?x4xf32>, %k: tensor<4x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>) -> tensor<?x4xf32> attributes {dl.gradients} {
  %0 = dl.dense %x, %k {units = 4 : i64} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
  %1 = dl.batchnorm %0, %g, %b, %m, %v {epsilon = 1.0e-03 : f64, momentum = 0.99 : f64} : (tensor<?x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %1 : tensor<?x4xf32>
}
