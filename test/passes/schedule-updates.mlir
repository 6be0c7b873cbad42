// RUN: dlc-opt %s -dl-schedule-updates | FileCheck %s
//
// -dl-schedule-updates: in a train step each update (and the clip_norm it
// reads) moves up to just after the last op it must follow: its operands'
// definitions and the last earlier op reading or writing one of its
// parameters. The weight gradient then dies when it is applied. dl.param
// reads of optimizer slots move along. Functions that are not train steps
// are left alone.

dl.parameter @k1 : tensor<4x4xf32> {fan_in = 4 : i64, fan_out = 4 : i64, init = "glorot_uniform", trainable = true}
dl.parameter @k2 : tensor<4x3xf32> {fan_in = 4 : i64, fan_out = 3 : i64, init = "glorot_uniform", trainable = true}
dl.parameter @k1.momentum : tensor<4x4xf32> {fan_in = 4 : i64, fan_out = 4 : i64, init = "zeros", trainable = false}
dl.parameter @k2.momentum : tensor<4x3xf32> {fan_in = 4 : i64, fan_out = 3 : i64, init = "zeros", trainable = false}

// The second layer's update runs right after its gradient, before the first
// layer's backward, which does not read k2; k1's update stays after k1's
// gradient, and the clip_norm comes along with it.
// CHECK-LABEL: func.func @step(
// CHECK: %[[K1:.*]] = dl.param @k1
// CHECK: %[[K2:.*]] = dl.param @k2
// CHECK: %[[DH:.*]], %[[DK2:.*]] = dl.dense_grad %[[H:.*]], %[[K2]],
// CHECK-NEXT: %[[V2:.*]] = dl.param @k2.momentum
// CHECK-NEXT: dl.sgd_update %[[K2]], %[[DK2]] velocity(%[[V2]])
// CHECK-NEXT: %[[DR:.*]] = dl.relu_grad
// CHECK-NEXT: %{{.*}}, %[[DK1:.*]] = dl.dense_grad %arg0, %[[K1]],
// CHECK-NEXT: %[[C1:.*]] = dl.clip_norm %[[DK1]]
// CHECK-NEXT: %[[V1:.*]] = dl.param @k1.momentum
// CHECK-NEXT: dl.sgd_update %[[K1]], %[[C1]] velocity(%[[V1]])
// CHECK-NEXT: return
func.func @step(%x: tensor<?x4xf32>, %dy: tensor<?x3xf32>) -> tensor<?x3xf32> attributes {dl.train_step} {
  %k1 = dl.param @k1 : tensor<4x4xf32>
  %h = dl.dense %x, %k1 {units = 4 : i64} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
  %r = dl.relu %h : (tensor<?x4xf32>) -> tensor<?x4xf32>
  %k2 = dl.param @k2 : tensor<4x3xf32>
  %o = dl.dense %r, %k2 {units = 3 : i64} : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %dr, %dk2 = dl.dense_grad %r, %k2, %o, %dy {units = 3 : i64} : (tensor<?x4xf32>, tensor<4x3xf32>, tensor<?x3xf32>, tensor<?x3xf32>) -> (tensor<?x4xf32>, tensor<4x3xf32>)
  %dh = dl.relu_grad %h, %r, %dr : (tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %dx, %dk1 = dl.dense_grad %x, %k1, %h, %dh {units = 4 : i64} : (tensor<?x4xf32>, tensor<4x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<4x4xf32>)
  %c1 = dl.clip_norm %dk1 {clip_norm = 1.000000e+00 : f64} : tensor<4x4xf32>
  %v1 = dl.param @k1.momentum : tensor<4x4xf32>
  dl.sgd_update %k1, %c1 velocity(%v1) {momentum = 9.000000e-01 : f64, nesterov = false} : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>
  %v2 = dl.param @k2.momentum : tensor<4x3xf32>
  dl.sgd_update %k2, %dk2 velocity(%v2) {momentum = 9.000000e-01 : f64, nesterov = false} : tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>
  return %o : tensor<?x3xf32>
}

// An op reading k2 after the backward (here a second forward through it)
// holds k2's update back: it stays after that reader.
// CHECK-LABEL: func.func @reader_after(
// CHECK: dl.dense_grad
// CHECK-NEXT: %[[P:.*]] = dl.dense %{{.*}}, %[[K2:[0-9a-z_]+]]
// CHECK-NEXT: dl.param @k2.momentum
// CHECK-NEXT: dl.sgd_update %[[K2]],
// CHECK-NEXT: return
func.func @reader_after(%x: tensor<?x4xf32>, %dy: tensor<?x3xf32>) -> tensor<?x3xf32> attributes {dl.train_step} {
  %k2 = dl.param @k2 : tensor<4x3xf32>
  %o = dl.dense %x, %k2 {units = 3 : i64} : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %dx, %dk2 = dl.dense_grad %x, %k2, %o, %dy {units = 3 : i64} : (tensor<?x4xf32>, tensor<4x3xf32>, tensor<?x3xf32>, tensor<?x3xf32>) -> (tensor<?x4xf32>, tensor<4x3xf32>)
  %p = dl.dense %dx, %k2 {units = 3 : i64} : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %v2 = dl.param @k2.momentum : tensor<4x3xf32>
  dl.sgd_update %k2, %dk2 velocity(%v2) {momentum = 9.000000e-01 : f64, nesterov = false} : tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>
  return %p : tensor<?x3xf32>
}

// Not a train step: unchanged.
// CHECK-LABEL: func.func @grads(
// CHECK: dl.dense_grad
// CHECK-NEXT: dl.relu
// CHECK-NEXT: dl.param
// CHECK-NEXT: dl.moving_average_update
func.func @grads(%x: tensor<?x4xf32>, %dy: tensor<?x3xf32>, %m: tensor<4x3xf32>) -> tensor<?x4xf32> attributes {dl.gradients} {
  %k2 = dl.param @k2 : tensor<4x3xf32>
  %o = dl.dense %x, %k2 {units = 3 : i64} : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %dx, %dk2 = dl.dense_grad %x, %k2, %o, %dy {units = 3 : i64} : (tensor<?x4xf32>, tensor<4x3xf32>, tensor<?x3xf32>, tensor<?x3xf32>) -> (tensor<?x4xf32>, tensor<4x3xf32>)
  %r = dl.relu %dx : (tensor<?x4xf32>) -> tensor<?x4xf32>
  %mm = dl.param @k2.momentum : tensor<4x3xf32>
  dl.moving_average_update %mm, %dk2 {momentum = 0.99 : f64} : tensor<4x3xf32>, tensor<4x3xf32>
  return %r : tensor<?x4xf32>
}
