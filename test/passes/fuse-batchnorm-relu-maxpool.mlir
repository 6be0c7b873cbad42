// RUN: dlc-opt %s -dl-fuse-batchnorm-relu-maxpool -verify-diagnostics | FileCheck %s
// RUN: dlc-opt %s -dl-fuse-batchnorm-relu-maxpool 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARKS
// RUN: dlc compile %spec_examples/fashion_cnn.dl --emit=ir-opt | FileCheck %s --check-prefix=CNN
// RUN: dlc compile %spec_examples/fashion_cnn.dl --emit=ir-opt --remarks 2>&1 >/dev/null | FileCheck %s --check-prefix=CNN-REMARKS
// RUN: dlc compile %spec_examples/fashion_cnn.dl --emit=plan --max-batch 256 | FileCheck %s --check-prefix=PLAN
// RUN: dlc compile %spec_examples/fashion_cnn.dl --emit=ir-opt --no-fusion | FileCheck %s --check-prefix=UNFUSED
//
// -dl-fuse-batchnorm-relu-maxpool: in the training functions, a
// dl.batchnorm_relu_train whose output only a dl.maxpool2d with windows that
// do not overlap reads (and that pool's gradient, whose result only the
// batchnorm's gradient reads) becomes dl.batchnorm_relu_maxpool_train, and
// the backward pair dl.maxpool2d_grad + dl.batchnorm_relu_train_grad becomes
// dl.batchnorm_relu_maxpool_train_grad, which reads dp instead of the
// scatter and keeps no indices. Every dl.batchnorm_relu_train of a training
// function gets a remark; inference functions are left alone.

dl.parameter @mm : tensor<4xf32> {fan_in = 4 : i64, fan_out = 4 : i64, init = "zeros", trainable = false}
dl.parameter @mv : tensor<4xf32> {fan_in = 4 : i64, fan_out = 4 : i64, init = "ones", trainable = false}

// The train step's form: forward, backward, the moving averages.
// CHECK-LABEL: func.func @train_step
// CHECK-NOT: dl.batchnorm_relu_train %
// CHECK-NOT: dl.maxpool2d
// CHECK: %[[P:.*]], %[[MEAN:.*]], %[[VAR:.*]] = dl.batchnorm_relu_maxpool_train %arg0, %arg1, %arg2 {epsilon = 1.000000e-03 : f64, pad = array<i64: 0, 0, 0, 0>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x8x8x4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<?x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>)
// CHECK-NEXT: %[[R:.*]] = dl.relu %[[P]]
// CHECK-NEXT: %[[DR:.*]] = dl.relu_grad %[[P]], %[[R]], %arg3
// CHECK-NEXT: %[[DZ:.*]], %[[DG:.*]], %[[DB:.*]] = dl.batchnorm_relu_maxpool_train_grad %arg0, %arg1, %arg2, %[[MEAN]], %[[VAR]], %[[DR]] {epsilon = 1.000000e-03 : f64, pad = array<i64: 0, 0, 0, 0>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x8x8x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<?x4x4x4xf32>) -> (tensor<?x8x8x4xf32>, tensor<4xf32>, tensor<4xf32>)
// CHECK-NOT: dl.maxpool2d_grad
// CHECK-NOT: dl.batchnorm_relu_train_grad
// CHECK-NEXT: %[[MM:.*]] = dl.param @mm
// CHECK-NEXT: %[[MV:.*]] = dl.param @mv
// CHECK-NEXT: dl.moving_average_update %[[MM]], %[[MEAN]]
// CHECK-NEXT: dl.moving_average_update %[[MV]], %[[VAR]]
// CHECK-NEXT: return %[[R]], %[[DZ]], %[[DG]], %[[DB]]
func.func @train_step(%z: tensor<?x8x8x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %dr: tensor<?x4x4x4xf32>) -> (tensor<?x4x4x4xf32>, tensor<?x8x8x4xf32>, tensor<4xf32>, tensor<4xf32>) attributes {dl.train_step} {
  // expected-remark @below {{fused: batchnorm + relu + maxpool2d (training): statistics pass, then relu and the window maxima in one pass; argmax recomputed in the backward, no indices kept}}
  %a, %mean, %var = dl.batchnorm_relu_train %z, %g, %b {epsilon = 1.000000e-03 : f64} : (tensor<?x8x8x4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<?x8x8x4xf32>, tensor<4xf32>, tensor<4xf32>)
  %p = dl.maxpool2d %a {pad = array<i64: 0, 0, 0, 0>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x8x8x4xf32>) -> tensor<?x4x4x4xf32>
  %r = dl.relu %p : (tensor<?x4x4x4xf32>) -> tensor<?x4x4x4xf32>
  %dp = dl.relu_grad %p, %r, %dr : (tensor<?x4x4x4xf32>, tensor<?x4x4x4xf32>, tensor<?x4x4x4xf32>) -> tensor<?x4x4x4xf32>
  %da = dl.maxpool2d_grad %a, %p, %dp {pad = array<i64: 0, 0, 0, 0>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x8x8x4xf32>, tensor<?x4x4x4xf32>, tensor<?x4x4x4xf32>) -> tensor<?x8x8x4xf32>
  %dz, %dg, %db = dl.batchnorm_relu_train_grad %z, %g, %b, %mean, %var, %da {epsilon = 1.000000e-03 : f64} : (tensor<?x8x8x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<?x8x8x4xf32>) -> (tensor<?x8x8x4xf32>, tensor<4xf32>, tensor<4xf32>)
  %mm = dl.param @mm : tensor<4xf32>
  %mv = dl.param @mv : tensor<4xf32>
  dl.moving_average_update %mm, %mean {momentum = 9.900000e-01 : f64} : tensor<4xf32>, tensor<4xf32>
  dl.moving_average_update %mv, %var {momentum = 9.900000e-01 : f64} : tensor<4xf32>, tensor<4xf32>
  return %r, %dz, %dg, %db : tensor<?x4x4x4xf32>, tensor<?x8x8x4xf32>, tensor<4xf32>, tensor<4xf32>
}

// "same" padding on an odd size (partial windows at the edge), pool 3 with
// strides 3 x 4 (columns in no window): fused, the pool's attributes kept.
// CHECK-LABEL: func.func @same_padding
// CHECK: %[[P:.*]], %[[MEAN:.*]], %[[VAR:.*]] = dl.batchnorm_relu_maxpool_train %arg0, %arg1, %arg2 {epsilon = 5.000000e-03 : f64, pad = array<i64: 0, 1, 0, 1>, pool_size = array<i64: 3, 3>, strides = array<i64: 3, 4>} : (tensor<?x5x7x3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<?x2x2x3xf32>, tensor<3xf32>, tensor<3xf32>)
// CHECK-NEXT: %[[DZ:.*]], %{{.*}}, %{{.*}} = dl.batchnorm_relu_maxpool_train_grad %arg0, %arg1, %arg2, %[[MEAN]], %[[VAR]], %arg3 {epsilon = 5.000000e-03 : f64, pad = array<i64: 0, 1, 0, 1>, pool_size = array<i64: 3, 3>, strides = array<i64: 3, 4>}
// CHECK-NEXT: return %[[P]], %[[DZ]]
func.func @same_padding(%z: tensor<?x5x7x3xf32>, %g: tensor<3xf32>, %b: tensor<3xf32>, %dp: tensor<?x2x2x3xf32>) -> (tensor<?x2x2x3xf32>, tensor<?x5x7x3xf32>) attributes {dl.gradients} {
  // expected-remark @below {{fused: batchnorm + relu + maxpool2d (training)}}
  %a, %mean, %var = dl.batchnorm_relu_train %z, %g, %b {epsilon = 5.000000e-03 : f64} : (tensor<?x5x7x3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<?x5x7x3xf32>, tensor<3xf32>, tensor<3xf32>)
  %p = dl.maxpool2d %a {pad = array<i64: 0, 1, 0, 1>, pool_size = array<i64: 3, 3>, strides = array<i64: 3, 4>} : (tensor<?x5x7x3xf32>) -> tensor<?x2x2x3xf32>
  %da = dl.maxpool2d_grad %a, %p, %dp {pad = array<i64: 0, 1, 0, 1>, pool_size = array<i64: 3, 3>, strides = array<i64: 3, 4>} : (tensor<?x5x7x3xf32>, tensor<?x2x2x3xf32>, tensor<?x2x2x3xf32>) -> tensor<?x5x7x3xf32>
  %dz, %dg, %db = dl.batchnorm_relu_train_grad %z, %g, %b, %mean, %var, %da {epsilon = 5.000000e-03 : f64} : (tensor<?x5x7x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<?x5x7x3xf32>) -> (tensor<?x5x7x3xf32>, tensor<3xf32>, tensor<3xf32>)
  return %p, %dz : tensor<?x2x2x3xf32>, tensor<?x5x7x3xf32>
}

// No gradient flows through the pool: the fused forward alone.
// CHECK-LABEL: func.func @forward_only
// CHECK-NEXT: %[[P:.*]], %{{.*}}, %{{.*}} = dl.batchnorm_relu_maxpool_train %arg0
// CHECK-NEXT: return %[[P]]
func.func @forward_only(%z: tensor<?x4x4x2xf32>, %g: tensor<2xf32>, %b: tensor<2xf32>) -> tensor<?x2x2x2xf32> attributes {dl.train_step} {
  // expected-remark @below {{fused: batchnorm + relu + maxpool2d (training): statistics pass, then relu and the window maxima in one pass; no backward}}
  %a, %mean, %var = dl.batchnorm_relu_train %z, %g, %b {epsilon = 1.000000e-03 : f64} : (tensor<?x4x4x2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<?x4x4x2xf32>, tensor<2xf32>, tensor<2xf32>)
  %p = dl.maxpool2d %a {pad = array<i64: 0, 0, 0, 0>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x4x4x2xf32>) -> tensor<?x2x2x2xf32>
  return %p : tensor<?x2x2x2xf32>
}

// Overlapping windows (pool 3, strides 2): not fused.
// CHECK-LABEL: func.func @overlapping
// CHECK: dl.batchnorm_relu_train %arg0
// CHECK-NEXT: dl.maxpool2d %
// CHECK: dl.maxpool2d_grad %
// CHECK-NEXT: dl.batchnorm_relu_train_grad %arg0
// CHECK-NOT: batchnorm_relu_maxpool
func.func @overlapping(%z: tensor<?x7x7x2xf32>, %g: tensor<2xf32>, %b: tensor<2xf32>, %dp: tensor<?x3x3x2xf32>) -> (tensor<?x3x3x2xf32>, tensor<?x7x7x2xf32>) attributes {dl.gradients} {
  // expected-remark @below {{not fused as batchnorm + relu + maxpool2d: pooling windows overlap (strides < pool_size)}}
  %a, %mean, %var = dl.batchnorm_relu_train %z, %g, %b {epsilon = 1.000000e-03 : f64} : (tensor<?x7x7x2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<?x7x7x2xf32>, tensor<2xf32>, tensor<2xf32>)
  %p = dl.maxpool2d %a {pad = array<i64: 0, 0, 0, 0>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<?x7x7x2xf32>) -> tensor<?x3x3x2xf32>
  %da = dl.maxpool2d_grad %a, %p, %dp {pad = array<i64: 0, 0, 0, 0>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<?x7x7x2xf32>, tensor<?x3x3x2xf32>, tensor<?x3x3x2xf32>) -> tensor<?x7x7x2xf32>
  %dz, %dg, %db = dl.batchnorm_relu_train_grad %z, %g, %b, %mean, %var, %da {epsilon = 1.000000e-03 : f64} : (tensor<?x7x7x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<?x7x7x2xf32>) -> (tensor<?x7x7x2xf32>, tensor<2xf32>, tensor<2xf32>)
  return %p, %dz : tensor<?x3x3x2xf32>, tensor<?x7x7x2xf32>
}

// The relu output feeds more than the pool (a residual add): not fused.
// CHECK-LABEL: func.func @other_user
// CHECK: dl.batchnorm_relu_train %arg0
// CHECK-NOT: batchnorm_relu_maxpool
func.func @other_user(%z: tensor<?x4x4x2xf32>, %g: tensor<2xf32>, %b: tensor<2xf32>) -> (tensor<?x2x2x2xf32>, tensor<?x4x4x2xf32>) attributes {dl.gradients} {
  // expected-remark @below {{not fused as batchnorm + relu + maxpool2d: relu output feeds add, not only maxpool2d}}
  %a, %mean, %var = dl.batchnorm_relu_train %z, %g, %b {epsilon = 1.000000e-03 : f64} : (tensor<?x4x4x2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<?x4x4x2xf32>, tensor<2xf32>, tensor<2xf32>)
  %p = dl.maxpool2d %a {pad = array<i64: 0, 0, 0, 0>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x4x4x2xf32>) -> tensor<?x2x2x2xf32>
  %s = dl.add %a, %z : (tensor<?x4x4x2xf32>, tensor<?x4x4x2xf32>) -> tensor<?x4x4x2xf32>
  return %p, %s : tensor<?x2x2x2xf32>, tensor<?x4x4x2xf32>
}

// The pool gradient's result feeds more than the batchnorm gradient: not
// fused.
// CHECK-LABEL: func.func @scatter_used
// CHECK: dl.maxpool2d_grad %
// CHECK-NOT: batchnorm_relu_maxpool
func.func @scatter_used(%z: tensor<?x4x4x2xf32>, %g: tensor<2xf32>, %b: tensor<2xf32>, %dp: tensor<?x2x2x2xf32>) -> (tensor<?x2x2x2xf32>, tensor<?x4x4x2xf32>, tensor<?x4x4x2xf32>) attributes {dl.gradients} {
  // expected-remark @below {{not fused as batchnorm + relu + maxpool2d: maxpool2d gradient feeds more than the batchnorm gradient}}
  %a, %mean, %var = dl.batchnorm_relu_train %z, %g, %b {epsilon = 1.000000e-03 : f64} : (tensor<?x4x4x2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<?x4x4x2xf32>, tensor<2xf32>, tensor<2xf32>)
  %p = dl.maxpool2d %a {pad = array<i64: 0, 0, 0, 0>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x4x4x2xf32>) -> tensor<?x2x2x2xf32>
  %da = dl.maxpool2d_grad %a, %p, %dp {pad = array<i64: 0, 0, 0, 0>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x4x4x2xf32>, tensor<?x2x2x2xf32>, tensor<?x2x2x2xf32>) -> tensor<?x4x4x2xf32>
  %dz, %dg, %db = dl.batchnorm_relu_train_grad %z, %g, %b, %mean, %var, %da {epsilon = 1.000000e-03 : f64} : (tensor<?x4x4x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<?x4x4x2xf32>) -> (tensor<?x4x4x2xf32>, tensor<2xf32>, tensor<2xf32>)
  return %p, %dz, %da : tensor<?x2x2x2xf32>, tensor<?x4x4x2xf32>, tensor<?x4x4x2xf32>
}

// Inference functions are not rewritten (no remark either).
// CHECK-LABEL: func.func @predict
// CHECK: dl.batchnorm_relu_train %arg0
// CHECK-NEXT: dl.maxpool2d %
func.func @predict(%z: tensor<?x4x4x2xf32>, %g: tensor<2xf32>, %b: tensor<2xf32>) -> tensor<?x2x2x2xf32> attributes {dl.model} {
  %a, %mean, %var = dl.batchnorm_relu_train %z, %g, %b {epsilon = 1.000000e-03 : f64} : (tensor<?x4x4x2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<?x4x4x2xf32>, tensor<2xf32>, tensor<2xf32>)
  %p = dl.maxpool2d %a {pad = array<i64: 0, 0, 0, 0>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x4x4x2xf32>) -> tensor<?x2x2x2xf32>
  return %p : tensor<?x2x2x2xf32>
}

// REMARKS: remark: fused: batchnorm + relu + maxpool2d (training): statistics pass, then relu and the window maxima in one pass; argmax recomputed in the backward, no indices kept
// REMARKS: remark: fused: batchnorm + relu + maxpool2d (training)
// REMARKS: remark: fused: batchnorm + relu + maxpool2d (training): {{.*}}; no backward
// REMARKS: remark: not fused as batchnorm + relu + maxpool2d: pooling windows overlap (strides < pool_size)
// REMARKS: remark: not fused as batchnorm + relu + maxpool2d: relu output feeds add, not only maxpool2d
// REMARKS: remark: not fused as batchnorm + relu + maxpool2d: maxpool2d gradient feeds more than the batchnorm gradient
// REMARKS-NOT: remark:

// fashion_cnn: both conv-batchnorm-relu-maxpool stages fuse in the training
// functions; eval and predict keep their folded graph; no pool keeps
// indices.
// CNN-LABEL: func.func @fashion_cnn(
// CNN-NOT: batchnorm_relu_maxpool
// CNN-LABEL: func.func @fashion_cnn_eval(
// CNN-NOT: batchnorm_relu_maxpool
// CNN-LABEL: func.func @fashion_cnn_grad(
// CNN-NOT: dl.maxpool2d
// CNN-COUNT-2: dl.batchnorm_relu_maxpool_train %
// CNN-NOT: dl.maxpool2d
// CNN-COUNT-2: dl.batchnorm_relu_maxpool_train_grad %
// CNN-LABEL: func.func @fashion_cnn_train_step(
// CNN-NOT: dl.maxpool2d
// CNN-COUNT-2: dl.batchnorm_relu_maxpool_train %
// CNN-NOT: dl.maxpool2d
// CNN-COUNT-2: dl.batchnorm_relu_maxpool_train_grad %
// CNN-NOT: dl.maxpool2d

// CNN-REMARKS-DAG: fashion_cnn.dl:5:3: remark: batchnorm: fused: batchnorm + relu + maxpool2d (training): statistics pass, then relu and the window maxima in one pass; argmax recomputed in the backward, no indices kept
// CNN-REMARKS-DAG: fashion_cnn.dl:9:3: remark: batchnorm_1: fused: batchnorm + relu + maxpool2d (training)
// CNN-REMARKS-NOT: saves its indices

// The plan of the train step at batch 256: no i32 indices, and the
// backward writes dz over z (the same offset).
// PLAN: function fashion_cnn_train_step
// PLAN-NOT: i32[256, {{[0-9]+}}, {{[0-9]+}}, {{[0-9]+}}]
// PLAN: batchnorm_relu_maxpool_train_grad {{.*}}(%{{[0-9]+}}@[[Z1:[0-9]+]], {{.*}} -> (%{{[0-9]+}}@[[Z1]],
// PLAN-NOT: {{^}}function
// PLAN: batchnorm_relu_maxpool_train_grad {{.*}}(%{{[0-9]+}}@[[Z0:[0-9]+]], {{.*}} -> (%{{[0-9]+}}@[[Z0]],
// PLAN-NOT: {{^}}function
// PLAN: peak:

// UNFUSED-NOT: batchnorm_relu_maxpool
