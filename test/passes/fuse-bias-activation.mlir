// RUN: dlc-opt %s -dl-fuse-bias-activation -verify-diagnostics | FileCheck %s
// -dl-fuse-bias-activation moves the activation after a conv2d,
// depthwise_conv2d or dense into the layer's epilogue (dl.fused_<layer>);
// in a training function the activation's gradient and the layer's
// gradient become dl.fused_<layer>_grad, which reads the activation's
// output, so nothing reads the pre-activation any more. Every layer whose
// output feeds an activation gets a remark.

// Inference: dense + relu, conv2d (no bias) + tanh, depthwise + elu.
// CHECK-LABEL: func.func @inference
// CHECK-NEXT: %[[D:.*]] = dl.fused_dense %arg0, %arg1, %arg2 {activation = "relu", units = 8 : i64} : (tensor<?x4xf32>, tensor<4x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
// CHECK-NEXT: %[[C:.*]] = dl.fused_conv2d %arg3, %arg4 {activation = "tanh", dilation = array<i64: 1, 1>, filters = 2 : i64, kernel_size = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<?x5x5x3xf32>, tensor<1x1x3x2xf32>) -> tensor<?x5x5x2xf32>
// CHECK-NEXT: %[[W:.*]] = dl.fused_depthwise_conv2d %[[C]], %arg5 {activation = "elu", alpha = 1.000000e+00 : f64, dilation = array<i64: 1, 1>
// CHECK-NEXT: return %[[D]], %[[W]]
func.func @inference(%x: tensor<?x4xf32>, %k: tensor<4x8xf32>, %b: tensor<8xf32>, %img: tensor<?x5x5x3xf32>, %ck: tensor<1x1x3x2xf32>, %dk: tensor<3x3x2x1xf32>) -> (tensor<?x8xf32>, tensor<?x3x3x2xf32>) attributes {dl.model} {
  // expected-remark @below {{fused: bias and relu in the dense epilogue}}
  %0 = dl.dense %x, %k, %b {units = 8 : i64} : (tensor<?x4xf32>, tensor<4x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %1 = dl.relu %0 : (tensor<?x8xf32>) -> tensor<?x8xf32>
  // expected-remark @below {{fused: bias and tanh in the conv2d epilogue}}
  %2 = dl.conv2d %img, %ck {dilation = array<i64: 1, 1>, filters = 2 : i64, kernel_size = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<?x5x5x3xf32>, tensor<1x1x3x2xf32>) -> tensor<?x5x5x2xf32>
  %3 = dl.tanh %2 : (tensor<?x5x5x2xf32>) -> tensor<?x5x5x2xf32>
  // expected-remark @below {{fused: bias and elu in the depthwise_conv2d epilogue}}
  %4 = dl.depthwise_conv2d %3, %dk {depth_multiplier = 1 : i64, dilation = array<i64: 1, 1>, kernel_size = array<i64: 3, 3>, pad = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<?x5x5x2xf32>, tensor<3x3x2x1xf32>) -> tensor<?x3x3x2xf32>
  %5 = dl.elu %4 {alpha = 1.0 : f64} : (tensor<?x3x3x2xf32>) -> tensor<?x3x3x2xf32>
  return %1, %5 : tensor<?x8xf32>, tensor<?x3x3x2xf32>
}

// Training (the fashion_mlp gradient function): the forward dense + relu
// and the backward relu_grad + dense_grad are fused; the last dense has no
// activation and stays.
// CHECK-LABEL: func.func @mlp_grad
// CHECK: %[[A:.*]] = dl.fused_dense %{{.*}}, %[[K1:.*]], %[[B1:.*]] {activation = "relu", units = 128 : i64}
// CHECK-NEXT: %[[K2:.*]] = dl.param @dense_1.kernel
// CHECK: %[[Y:.*]] = dl.dense %[[A]], %[[K2]]
// CHECK: %[[DX:.*]], %{{.*}}, %{{.*}} = dl.dense_grad %[[A]], %[[K2]], %{{.*}}, %[[Y]],
// CHECK-NOT: dl.relu_grad
// CHECK-NEXT: %{{.*}}, %[[DK:.*]], %[[DB:.*]] = dl.fused_dense_grad %{{.*}}, %[[K1]], %[[B1]], %[[A]], %[[DX]] {activation = "relu", units = 128 : i64} : (tensor<?x784xf32>, tensor<784x128xf32>, tensor<128xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> (tensor<?x784xf32>, tensor<784x128xf32>, tensor<128xf32>)
// CHECK-NEXT: return %{{.*}}, %{{.*}}, %[[DK]], %[[DB]]
  dl.parameter @dense.kernel : tensor<784x128xf32> {fan_in = 784 : i64, fan_out = 128 : i64, init = "glorot_uniform", trainable = true}
  dl.parameter @dense.bias : tensor<128xf32> {fan_in = 128 : i64, fan_out = 128 : i64, init = "zeros", trainable = true}
  dl.parameter @dense_1.kernel : tensor<128x10xf32> {fan_in = 128 : i64, fan_out = 10 : i64, init = "glorot_uniform", trainable = true}
  dl.parameter @dense_1.bias : tensor<10xf32> {fan_in = 10 : i64, fan_out = 10 : i64, init = "zeros", trainable = true}
  func.func @mlp_grad(%arg0: tensor<?x28x28xf32>, %arg1: tensor<?xi32>) -> (tensor<f32>, tensor<?x10xf32>, tensor<784x128xf32>, tensor<128xf32>, tensor<128x10xf32>, tensor<10xf32>) attributes {dl.gradients} {
    %0 = dl.reshape %arg0 {shape = array<i64: 784>} : (tensor<?x28x28xf32>) -> tensor<?x784xf32>
    %1 = dl.param @dense.kernel : tensor<784x128xf32>
    %2 = dl.param @dense.bias : tensor<128xf32>
    // expected-remark @below {{fused: bias and relu in the dense epilogue; the backward reads the activation output}}
    %3 = dl.dense %0, %1, %2 {units = 128 : i64} : (tensor<?x784xf32>, tensor<784x128xf32>, tensor<128xf32>) -> tensor<?x128xf32>
    %4 = dl.relu %3 : (tensor<?x128xf32>) -> tensor<?x128xf32>
    %5 = dl.param @dense_1.kernel : tensor<128x10xf32>
    %6 = dl.param @dense_1.bias : tensor<10xf32>
    %7 = dl.dense %4, %5, %6 {units = 10 : i64} : (tensor<?x128xf32>, tensor<128x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
    %8 = dl.sparse_categorical_crossentropy %7, %arg1 {from_logits = true} : (tensor<?x10xf32>, tensor<?xi32>) -> tensor<f32>
    %9 = dl.fill {value = 1.000000e+00 : f64} : tensor<f32>
    %10 = dl.sparse_categorical_crossentropy_grad %7, %arg1, %8, %9 {from_logits = true} : (tensor<?x10xf32>, tensor<?xi32>, tensor<f32>, tensor<f32>) -> tensor<?x10xf32>
    %dx, %dkernel, %dbias = dl.dense_grad %4, %5, %6, %7, %10 {units = 10 : i64} : (tensor<?x128xf32>, tensor<128x10xf32>, tensor<10xf32>, tensor<?x10xf32>, tensor<?x10xf32>) -> (tensor<?x128xf32>, tensor<128x10xf32>, tensor<10xf32>)
    %11 = dl.relu_grad %3, %4, %dx : (tensor<?x128xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x128xf32>
    %dx_0, %dkernel_1, %dbias_2 = dl.dense_grad %0, %1, %2, %3, %11 {units = 128 : i64} : (tensor<?x784xf32>, tensor<784x128xf32>, tensor<128xf32>, tensor<?x128xf32>, tensor<?x128xf32>) -> (tensor<?x784xf32>, tensor<784x128xf32>, tensor<128xf32>)
    return %8, %7, %dkernel_1, %dbias_2, %dkernel, %dbias : tensor<f32>, tensor<?x10xf32>, tensor<784x128xf32>, tensor<128xf32>, tensor<128x10xf32>, tensor<10xf32>
  }

// Training with sigmoid on a conv2d with a bias.
// CHECK-LABEL: func.func @conv_sigmoid_grad
// CHECK-NEXT: %[[A:.*]] = dl.fused_conv2d %arg0, %arg1, %arg2 {activation = "sigmoid"
// CHECK-NEXT: %{{[^,]*}}, %[[GK:[^,]*]], %[[GB:[^ ]*]] = dl.fused_conv2d_grad %arg0, %arg1, %arg2, %[[A]], %arg3 {activation = "sigmoid"
// CHECK-NEXT: return %[[A]], %[[GK]], %[[GB]]
func.func @conv_sigmoid_grad(%x: tensor<?x6x6x2xf64>, %k: tensor<3x3x2x4xf64>, %b: tensor<4xf64>, %da: tensor<?x6x6x4xf64>) -> (tensor<?x6x6x4xf64>, tensor<3x3x2x4xf64>, tensor<4xf64>) attributes {dl.train_step} {
  // expected-remark @below {{fused: bias and sigmoid in the conv2d epilogue; the backward reads the activation output}}
  %0 = dl.conv2d %x, %k, %b {dilation = array<i64: 1, 1>, filters = 4 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x6x6x2xf64>, tensor<3x3x2x4xf64>, tensor<4xf64>) -> tensor<?x6x6x4xf64>
  %1 = dl.sigmoid %0 : (tensor<?x6x6x4xf64>) -> tensor<?x6x6x4xf64>
  %2 = dl.sigmoid_grad %0, %1, %da : (tensor<?x6x6x4xf64>, tensor<?x6x6x4xf64>, tensor<?x6x6x4xf64>) -> tensor<?x6x6x4xf64>
  %dx, %dk, %db = dl.conv2d_grad %x, %k, %b, %0, %2 {dilation = array<i64: 1, 1>, filters = 4 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x6x6x2xf64>, tensor<3x3x2x4xf64>, tensor<4xf64>, tensor<?x6x6x4xf64>, tensor<?x6x6x4xf64>) -> (tensor<?x6x6x2xf64>, tensor<3x3x2x4xf64>, tensor<4xf64>)
  return %1, %dk, %db : tensor<?x6x6x4xf64>, tensor<3x3x2x4xf64>, tensor<4xf64>
}

// Not fused: the pre-activation has another user; elu in a training
// function; two activations of one layer; the activation's gradient has
// another user.
// CHECK-LABEL: func.func @not_fused
// CHECK-NOT: dl.fused_
// CHECK: return
func.func @not_fused(%x: tensor<?x4xf32>, %k: tensor<4x4xf32>, %da: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<4x4xf32>) attributes {dl.gradients} {
  // expected-remark @below {{not fused: the dense output has another user (dl.add)}}
  %0 = dl.dense %x, %k {units = 4 : i64} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
  %1 = dl.relu %0 : (tensor<?x4xf32>) -> tensor<?x4xf32>
  %2 = dl.add %0, %1 : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  // expected-remark @below {{not fused: elu's gradient is not exact from its output}}
  %3 = dl.dense %x, %k {units = 4 : i64} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
  %4 = dl.elu %3 {alpha = 1.0 : f64} : (tensor<?x4xf32>) -> tensor<?x4xf32>
  // expected-remark @below {{not fused: the dense output feeds more than one activation}}
  %5 = dl.dense %x, %k {units = 4 : i64} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
  %6 = dl.relu %5 : (tensor<?x4xf32>) -> tensor<?x4xf32>
  %7 = dl.tanh %5 : (tensor<?x4xf32>) -> tensor<?x4xf32>
  // The relu gradient is also returned, so the backward cannot fuse.
  // expected-remark @below {{not fused: the relu_grad result has another user}}
  %8 = dl.dense %x, %k {units = 4 : i64} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
  %9 = dl.relu %8 : (tensor<?x4xf32>) -> tensor<?x4xf32>
  %10 = dl.relu_grad %8, %9, %da : (tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %dx, %dk = dl.dense_grad %x, %k, %8, %10 {units = 4 : i64} : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<4x4xf32>)
  return %2, %4, %6, %7, %10, %dk : tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<4x4xf32>
}
