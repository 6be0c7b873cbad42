// RUN: dlc-opt %s -dl-fuse-conv-bn-relu -verify-diagnostics | FileCheck %s
// RUN: dlc-opt %s -dl-fuse-conv-bn-relu 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARKS
// RUN: dlc compile %spec_examples/fashion_cnn.dl --emit=ir-opt | FileCheck %s --check-prefix=CNN
// RUN: dlc compile %spec_examples/resnet_mini.dl --emit=ir-opt --remarks 2>&1 >/dev/null | FileCheck %s --check-prefix=RESNET
// RUN: dlc compile %spec_examples/fashion_cnn.dl --emit=ir-opt --no-fusion | FileCheck %s --check-prefix=UNFUSED
//
// -dl-fuse-conv-bn-relu: in the training functions, a dl.batchnorm_train
// whose output only a dl.relu reads (forward), with the backward pair
// dl.relu_grad + dl.batchnorm_train_grad, becomes dl.batchnorm_relu_train
// and dl.batchnorm_relu_train_grad. The moving statistics are no operands;
// the moving-average updates read the fused op's mean and variance. Every
// dl.batchnorm_train gets a remark.

dl.parameter @k : tensor<3x3x1x4xf32> {fan_in = 9 : i64, fan_out = 36 : i64, init = "glorot_uniform", trainable = true}
dl.parameter @g : tensor<4xf32> {fan_in = 4 : i64, fan_out = 4 : i64, init = "ones", trainable = true}
dl.parameter @b : tensor<4xf32> {fan_in = 4 : i64, fan_out = 4 : i64, init = "zeros", trainable = true}
dl.parameter @mm : tensor<4xf32> {fan_in = 4 : i64, fan_out = 4 : i64, init = "zeros", trainable = false}
dl.parameter @mv : tensor<4xf32> {fan_in = 4 : i64, fan_out = 4 : i64, init = "ones", trainable = false}
dl.parameter @mm6 : tensor<6xf32> {fan_in = 6 : i64, fan_out = 6 : i64, init = "zeros", trainable = false}
dl.parameter @mv6 : tensor<6xf32> {fan_in = 6 : i64, fan_out = 6 : i64, init = "ones", trainable = false}

// conv2d + batchnorm + relu with its backward and the moving averages (the
// train step's form). The relu output still feeds the max-pool and its
// gradient; nothing reads y or the relu gradient any more.
// CHECK-LABEL: func.func @train_step
// CHECK-NOT: dl.batchnorm_train
// CHECK-NOT: dl.relu
// CHECK: %[[K:.*]] = dl.param @k
// CHECK: %[[Z:.*]] = dl.conv2d %arg0, %[[K]]
// CHECK: %[[G:.*]] = dl.param @g
// CHECK: %[[B:.*]] = dl.param @b
// CHECK: %[[MM:.*]] = dl.param @mm
// CHECK: %[[MV:.*]] = dl.param @mv
// CHECK: %[[A:.*]], %[[MEAN:.*]], %[[VAR:.*]] = dl.batchnorm_relu_train %[[Z]], %[[G]], %[[B]] {epsilon = 1.000000e-03 : f64} : (tensor<?x8x8x4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<?x8x8x4xf32>, tensor<4xf32>, tensor<4xf32>)
// CHECK-NEXT: %[[P:.*]] = dl.maxpool2d %[[A]]
// CHECK: %[[DA:.*]] = dl.maxpool2d_grad %[[A]], %[[P]], %arg1
// CHECK-NEXT: %[[DZ:.*]], %[[DG:.*]], %[[DB:.*]] = dl.batchnorm_relu_train_grad %[[Z]], %[[G]], %[[B]], %[[MEAN]], %[[VAR]], %[[DA]] {epsilon = 1.000000e-03 : f64}
// CHECK-NEXT: %{{.*}}, %[[DK:.*]] = dl.conv2d_grad %arg0, %[[K]], %[[Z]], %[[DZ]]
// CHECK-NEXT: dl.moving_average_update %[[MM]], %[[MEAN]]
// CHECK-NEXT: dl.moving_average_update %[[MV]], %[[VAR]]
// CHECK-NEXT: return %[[P]], %[[DK]], %[[DG]], %[[DB]]
func.func @train_step(%x: tensor<?x8x8x1xf32>, %dp: tensor<?x4x4x4xf32>) -> (tensor<?x4x4x4xf32>, tensor<3x3x1x4xf32>, tensor<4xf32>, tensor<4xf32>) attributes {dl.train_step} {
  %k = dl.param @k : tensor<3x3x1x4xf32>
  %z = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, filters = 4 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x8x8x4xf32>
  %g = dl.param @g : tensor<4xf32>
  %b = dl.param @b : tensor<4xf32>
  %mm = dl.param @mm : tensor<4xf32>
  %mv = dl.param @mv : tensor<4xf32>
  // expected-remark @below {{fused: conv2d + batchnorm + relu (training): statistics pass, normalize+relu in one pass, fused backward}}
  %y, %mean, %var = dl.batchnorm_train %z, %g, %b, %mm, %mv {epsilon = 1.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x8x8x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<?x8x8x4xf32>, tensor<4xf32>, tensor<4xf32>)
  %a = dl.relu %y : (tensor<?x8x8x4xf32>) -> tensor<?x8x8x4xf32>
  %p = dl.maxpool2d %a {pad = array<i64: 0, 0, 0, 0>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x8x8x4xf32>) -> tensor<?x4x4x4xf32>
  %da = dl.maxpool2d_grad %a, %p, %dp {pad = array<i64: 0, 0, 0, 0>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x8x8x4xf32>, tensor<?x4x4x4xf32>, tensor<?x4x4x4xf32>) -> tensor<?x8x8x4xf32>
  %dy = dl.relu_grad %y, %a, %da : (tensor<?x8x8x4xf32>, tensor<?x8x8x4xf32>, tensor<?x8x8x4xf32>) -> tensor<?x8x8x4xf32>
  %dz, %dg, %db, %dmm, %dmv = dl.batchnorm_train_grad %z, %g, %b, %mm, %mv, %y, %mean, %var, %dy {epsilon = 1.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x8x8x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<?x8x8x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<?x8x8x4xf32>) -> (tensor<?x8x8x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  %dx, %dk = dl.conv2d_grad %x, %k, %z, %dz {dilation = array<i64: 1, 1>, filters = 4 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x8x8x1xf32>, tensor<3x3x1x4xf32>, tensor<?x8x8x4xf32>, tensor<?x8x8x4xf32>) -> (tensor<?x8x8x1xf32>, tensor<3x3x1x4xf32>)
  dl.moving_average_update %mm, %mean {momentum = 9.900000e-01 : f64} : tensor<4xf32>, tensor<4xf32>
  dl.moving_average_update %mv, %var {momentum = 9.900000e-01 : f64} : tensor<4xf32>, tensor<4xf32>
  return %p, %dk, %dg, %db : tensor<?x4x4x4xf32>, tensor<3x3x1x4xf32>, tensor<4xf32>, tensor<4xf32>
}

// The gradients function (no moving averages): the moving statistics' reads
// die with the batchnorm and are erased. A dense producer fuses the same
// way.
// CHECK-LABEL: func.func @dense_grad
// CHECK-NOT: dl.param @mm6
// CHECK-NOT: dl.param @mv6
// CHECK: %[[Z:.*]] = dl.dense %arg0, %arg1
// CHECK-NEXT: %[[A:.*]], %[[MEAN:.*]], %[[VAR:.*]] = dl.batchnorm_relu_train %[[Z]], %arg2, %arg3 {epsilon = 1.000000e-02 : f64} : (tensor<?x6xf32>, tensor<6xf32>, tensor<6xf32>) -> (tensor<?x6xf32>, tensor<6xf32>, tensor<6xf32>)
// CHECK-NEXT: %[[DZ:.*]], %[[DG:.*]], %[[DB:.*]] = dl.batchnorm_relu_train_grad %[[Z]], %arg2, %arg3, %[[MEAN]], %[[VAR]], %arg4
// CHECK-NEXT: %{{.*}}, %[[DW:.*]] = dl.dense_grad %arg0, %arg1, %[[Z]], %[[DZ]]
// CHECK-NEXT: return %[[A]], %[[DW]], %[[DG]], %[[DB]]
func.func @dense_grad(%x: tensor<?x3xf32>, %w: tensor<3x6xf32>, %g: tensor<6xf32>, %b: tensor<6xf32>, %da: tensor<?x6xf32>) -> (tensor<?x6xf32>, tensor<3x6xf32>, tensor<6xf32>, tensor<6xf32>) attributes {dl.gradients} {
  %z = dl.dense %x, %w {units = 6 : i64} : (tensor<?x3xf32>, tensor<3x6xf32>) -> tensor<?x6xf32>
  %mm = dl.param @mm6 : tensor<6xf32>
  %mv = dl.param @mv6 : tensor<6xf32>
  // expected-remark @below {{fused: dense + batchnorm + relu (training): statistics pass, normalize+relu in one pass, fused backward}}
  %y, %mean, %var = dl.batchnorm_train %z, %g, %b, %mm, %mv {epsilon = 1.000000e-02 : f64, momentum = 9.000000e-01 : f64} : (tensor<?x6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>) -> (tensor<?x6xf32>, tensor<6xf32>, tensor<6xf32>)
  %a = dl.relu %y : (tensor<?x6xf32>) -> tensor<?x6xf32>
  %dy = dl.relu_grad %y, %a, %da : (tensor<?x6xf32>, tensor<?x6xf32>, tensor<?x6xf32>) -> tensor<?x6xf32>
  %dz, %dg, %db, %dmm, %dmv = dl.batchnorm_train_grad %z, %g, %b, %mm, %mv, %y, %mean, %var, %dy {epsilon = 1.000000e-02 : f64, momentum = 9.000000e-01 : f64} : (tensor<?x6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<?x6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<?x6xf32>) -> (tensor<?x6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>)
  %dx, %dw = dl.dense_grad %x, %w, %z, %dz {units = 6 : i64} : (tensor<?x3xf32>, tensor<3x6xf32>, tensor<?x6xf32>, tensor<?x6xf32>) -> (tensor<?x3xf32>, tensor<3x6xf32>)
  return %a, %dw, %dg, %db : tensor<?x6xf32>, tensor<3x6xf32>, tensor<6xf32>, tensor<6xf32>
}

// No backward reaches the batchnorm (frozen layers below and above): the
// forward fuses alone. The producer is a function argument.
// CHECK-LABEL: func.func @forward_only
// CHECK-NEXT: %[[A:.*]], %{{.*}}, %{{.*}} = dl.batchnorm_relu_train %arg0, %arg1, %arg2
// CHECK-NEXT: return %[[A]]
func.func @forward_only(%z: tensor<?x2x5xf64>, %g: tensor<5xf64>, %b: tensor<5xf64>, %mm: tensor<5xf64>, %mv: tensor<5xf64>) -> tensor<?x2x5xf64> attributes {dl.gradients} {
  // expected-remark @below {{fused: input + batchnorm + relu (training): statistics pass, normalize+relu in one pass, no backward}}
  %y, %mean, %var = dl.batchnorm_train %z, %g, %b, %mm, %mv {epsilon = 1.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x2x5xf64>, tensor<5xf64>, tensor<5xf64>, tensor<5xf64>, tensor<5xf64>) -> (tensor<?x2x5xf64>, tensor<5xf64>, tensor<5xf64>)
  %a = dl.relu %y : (tensor<?x2x5xf64>) -> tensor<?x2x5xf64>
  return %a : tensor<?x2x5xf64>
}

// Negative cases: each batchnorm stays, with its reason.
// CHECK-LABEL: func.func @not_fused
// CHECK-NOT: dl.batchnorm_relu_train
// CHECK-COUNT-4: dl.batchnorm_train %
// CHECK-NOT: dl.batchnorm_relu_train
// CHECK: return
func.func @not_fused(%z: tensor<?x5xf32>, %g: tensor<5xf32>, %b: tensor<5xf32>, %mm: tensor<5xf32>, %mv: tensor<5xf32>, %s: tensor<?x5xf32>, %da: tensor<?x5xf32>) -> (tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<5xf32>) attributes {dl.gradients} {
  // A residual block: batchnorm, then add.
  // expected-remark @below {{not fused as batchnorm + relu: batchnorm output feeds add, not relu}}
  %y1, %m1, %v1 = dl.batchnorm_train %z, %g, %b, %mm, %mv {epsilon = 1.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>) -> (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>)
  %sum = dl.add %y1, %s : (tensor<?x5xf32>, tensor<?x5xf32>) -> tensor<?x5xf32>
  %a1 = dl.relu %sum : (tensor<?x5xf32>) -> tensor<?x5xf32>
  // The batchnorm output is also returned.
  // expected-remark @below {{not fused as batchnorm + relu: batchnorm output feeds func.return, not relu}}
  %y2, %m2, %v2 = dl.batchnorm_train %z, %g, %b, %mm, %mv {epsilon = 2.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>) -> (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>)
  %a2 = dl.relu %y2 : (tensor<?x5xf32>) -> tensor<?x5xf32>
  // The relu gradient has a second user.
  // expected-remark @below {{not fused as batchnorm + relu: relu gradient feeds more than the batchnorm gradient}}
  %y3, %m3, %v3 = dl.batchnorm_train %z, %g, %b, %mm, %mv {epsilon = 3.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>) -> (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>)
  %a3 = dl.relu %y3 : (tensor<?x5xf32>) -> tensor<?x5xf32>
  %dy3 = dl.relu_grad %y3, %a3, %da : (tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>) -> tensor<?x5xf32>
  %dz3, %dg3, %db3, %dmm3, %dmv3 = dl.batchnorm_train_grad %z, %g, %b, %mm, %mv, %y3, %m3, %v3, %dy3 {epsilon = 3.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<?x5xf32>) -> (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>)
  // A sigmoid, not a relu.
  // expected-remark @below {{not fused as batchnorm + relu: batchnorm output feeds sigmoid, not relu}}
  %y4, %m4, %v4 = dl.batchnorm_train %z, %g, %b, %mm, %mv {epsilon = 4.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>) -> (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>)
  %a4 = dl.sigmoid %y4 : (tensor<?x5xf32>) -> tensor<?x5xf32>
  return %a1, %a2, %y2, %dy3, %a4, %dg3 : tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<5xf32>
}

// Not a training function: left alone, no remark.
// CHECK-LABEL: func.func @inference
// CHECK-NEXT: dl.batchnorm_train
// CHECK-NEXT: dl.relu
func.func @inference(%z: tensor<?x5xf32>, %g: tensor<5xf32>, %b: tensor<5xf32>, %mm: tensor<5xf32>, %mv: tensor<5xf32>) -> tensor<?x5xf32> {
  %y, %mean, %var = dl.batchnorm_train %z, %g, %b, %mm, %mv {epsilon = 1.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>) -> (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>)
  %a = dl.relu %y : (tensor<?x5xf32>) -> tensor<?x5xf32>
  return %a : tensor<?x5xf32>
}

// REMARKS: remark: fused: conv2d + batchnorm + relu (training)
// REMARKS: remark: fused: dense + batchnorm + relu (training)
// REMARKS: remark: fused: input + batchnorm + relu (training): statistics pass, normalize+relu in one pass, no backward
// REMARKS: remark: not fused as batchnorm + relu: batchnorm output feeds add, not relu
// REMARKS: remark: not fused as batchnorm + relu: batchnorm output feeds func.return, not relu
// REMARKS: remark: not fused as batchnorm + relu: relu gradient feeds more than the batchnorm gradient
// REMARKS: remark: not fused as batchnorm + relu: batchnorm output feeds sigmoid, not relu
// REMARKS-NOT: remark:

// The spec's fashion_cnn: both conv-batchnorm-relu stages fuse in @M_grad
// and @M_train_step; the inference functions keep dl.batchnorm.
// CNN-LABEL: func.func @fashion_cnn(
// CNN-NOT: batchnorm_relu
// CNN-LABEL: func.func @fashion_cnn_eval(
// CNN-NOT: batchnorm_relu
// CNN-LABEL: func.func @fashion_cnn_grad(
// CNN-NOT: dl.batchnorm_train
// CNN-COUNT-2: dl.batchnorm_relu_maxpool_train %
// CNN-NOT: dl.relu_grad %output
// CNN-COUNT-2: dl.batchnorm_relu_maxpool_train_grad
// CNN-LABEL: func.func @fashion_cnn_train_step(
// CNN: dl.batchnorm_relu_maxpool_train %
// CNN-COUNT-2: dl.moving_average_update
// CNN: dl.batchnorm_relu_maxpool_train %
// CNN-COUNT-2: dl.moving_average_update
// CNN-COUNT-2: dl.batchnorm_relu_maxpool_train_grad

// UNFUSED-NOT: batchnorm_relu

// resnet_mini: the stem and each block's first batchnorm fuse; the ones that
// feed the residual add do not (-dl-fuse-batchnorm-add-relu fuses those).
// RESNET-DAG: /{{.*}}resnet_mini.dl:16:12: remark: batchnorm: fused: conv2d + batchnorm + relu (training)
// RESNET-DAG: /{{.*}}resnet_mini.dl:4:12: remark: residual.batchnorm: fused: conv2d + batchnorm + relu (training)
// RESNET-DAG: /{{.*}}resnet_mini.dl:6:7: remark: residual.batchnorm_1: not fused as batchnorm + relu: batchnorm output feeds add, not relu
