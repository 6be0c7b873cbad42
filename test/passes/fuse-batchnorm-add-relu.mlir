// RUN: dlc-opt %s -dl-fuse-batchnorm-add-relu -verify-diagnostics | FileCheck %s
// RUN: dlc-opt %s -dl-fuse-batchnorm-add-relu 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARKS
// RUN: dlc compile %spec_examples/resnet_mini.dl --emit=ir-opt --remarks 2>&1 >/dev/null | FileCheck %s --check-prefix=RESNET
// RUN: dlc compile %spec_examples/resnet_mini.dl --emit=ir-opt | FileCheck %s --check-prefix=RESNET-IR
// RUN: dlc compile %spec_examples/resnet_mini.dl --emit=ir-opt | FileCheck %s --check-prefix=MOVING
// RUN: dlc compile %spec_examples/resnet_mini.dl --emit=ir-opt --no-fusion | FileCheck %s --check-prefix=UNFUSED
//
// -dl-fuse-batchnorm-add-relu: in the training functions, a residual
// block's tail dl.batchnorm_train + dl.add + dl.relu, with the backward
// dl.relu_grad (of an optional dl.add_n of the output's gradients) +
// dl.batchnorm_train_grad, becomes dl.batchnorm_add_relu_train and
// dl.batchnorm_add_relu_train_grad (whose last result, the relu gradient,
// feeds the shortcut's gradient); two batchnorms added (a projection
// shortcut) become dl.batchnorm_add_batchnorm_relu_train(_grad). The moving
// statistics are no operands; the moving-average updates read the fused
// op's statistics. Every dl.batchnorm_train feeding a dl.add gets a remark.

dl.parameter @g : tensor<6xf32> {fan_in = 6 : i64, fan_out = 6 : i64, init = "ones", trainable = true}
dl.parameter @b : tensor<6xf32> {fan_in = 6 : i64, fan_out = 6 : i64, init = "zeros", trainable = true}
dl.parameter @mm : tensor<6xf32> {fan_in = 6 : i64, fan_out = 6 : i64, init = "zeros", trainable = false}
dl.parameter @mv : tensor<6xf32> {fan_in = 6 : i64, fan_out = 6 : i64, init = "ones", trainable = false}
dl.parameter @k1 : tensor<3x3x2x3xf32> {fan_in = 18 : i64, fan_out = 27 : i64, init = "glorot_uniform", trainable = true}
dl.parameter @k2 : tensor<1x1x2x3xf32> {fan_in = 2 : i64, fan_out = 3 : i64, init = "glorot_uniform", trainable = true}
dl.parameter @mm1 : tensor<3xf32> {fan_in = 3 : i64, fan_out = 3 : i64, init = "zeros", trainable = false}
dl.parameter @mv1 : tensor<3xf32> {fan_in = 3 : i64, fan_out = 3 : i64, init = "ones", trainable = false}
dl.parameter @mm2 : tensor<3xf32> {fan_in = 3 : i64, fan_out = 3 : i64, init = "zeros", trainable = false}
dl.parameter @mv2 : tensor<3xf32> {fan_in = 3 : i64, fan_out = 3 : i64, init = "ones", trainable = false}

// The identity shortcut (the train step's form): the output's two
// gradients are summed by the fused backward, whose relu gradient %dr takes
// the place of %ds in the shortcut's gradient sum.
// CHECK-LABEL: func.func @identity
// CHECK-NOT: dl.batchnorm_train
// CHECK: %[[G:.*]] = dl.param @g
// CHECK-NEXT: %[[B:.*]] = dl.param @b
// CHECK-NEXT: %[[MM:.*]] = dl.param @mm
// CHECK-NEXT: %[[MV:.*]] = dl.param @mv
// CHECK-NEXT: %[[A:.*]], %[[M:.*]], %[[V:.*]] = dl.batchnorm_add_relu_train %arg0, %[[G]], %[[B]], %arg1 {epsilon = 1.000000e-03 : f64} : (tensor<?x2x6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<?x2x6xf32>) -> (tensor<?x2x6xf32>, tensor<6xf32>, tensor<6xf32>)
// CHECK-NEXT: %[[DZ:.*]], %[[DG:.*]], %[[DB:.*]], %[[DR:.*]] = dl.batchnorm_add_relu_train_grad %arg0, %[[G]], %[[B]], %[[M]], %[[V]], %[[A]], %arg2, %arg3 {epsilon = 1.000000e-03 : f64} : (tensor<?x2x6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<?x2x6xf32>, tensor<?x2x6xf32>, tensor<?x2x6xf32>) -> (tensor<?x2x6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<?x2x6xf32>)
// CHECK-NEXT: %[[SKIP:.*]] = dl.add_n %[[DR]], %arg2
// CHECK-NEXT: dl.moving_average_update %[[MM]], %[[M]]
// CHECK-NEXT: dl.moving_average_update %[[MV]], %[[V]]
// CHECK-NEXT: return %[[A]], %[[DZ]], %[[SKIP]], %[[DG]], %[[DB]]
func.func @identity(%z: tensor<?x2x6xf32>, %r: tensor<?x2x6xf32>, %da0: tensor<?x2x6xf32>, %da1: tensor<?x2x6xf32>) -> (tensor<?x2x6xf32>, tensor<?x2x6xf32>, tensor<?x2x6xf32>, tensor<6xf32>, tensor<6xf32>) attributes {dl.train_step} {
  %g = dl.param @g : tensor<6xf32>
  %b = dl.param @b : tensor<6xf32>
  %mm = dl.param @mm : tensor<6xf32>
  %mv = dl.param @mv : tensor<6xf32>
  // expected-remark @below {{fused: input + batchnorm + add + relu (training, shortcut from input): statistics pass, normalize+add+relu in one pass, fused backward, summing its 2 output gradients}}
  %y, %m, %v = dl.batchnorm_train %z, %g, %b, %mm, %mv {epsilon = 1.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x2x6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>) -> (tensor<?x2x6xf32>, tensor<6xf32>, tensor<6xf32>)
  %s = dl.add %y, %r : (tensor<?x2x6xf32>, tensor<?x2x6xf32>) -> tensor<?x2x6xf32>
  %a = dl.relu %s : (tensor<?x2x6xf32>) -> tensor<?x2x6xf32>
  %da = dl.add_n %da0, %da1 : tensor<?x2x6xf32>
  %ds = dl.relu_grad %s, %a, %da : (tensor<?x2x6xf32>, tensor<?x2x6xf32>, tensor<?x2x6xf32>) -> tensor<?x2x6xf32>
  %dz, %dg, %db, %dmm, %dmv = dl.batchnorm_train_grad %z, %g, %b, %mm, %mv, %y, %m, %v, %ds {epsilon = 1.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x2x6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<?x2x6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<?x2x6xf32>) -> (tensor<?x2x6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>)
  %skip = dl.add_n %ds, %da0 : tensor<?x2x6xf32>
  dl.moving_average_update %mm, %m {momentum = 9.900000e-01 : f64} : tensor<6xf32>, tensor<6xf32>
  dl.moving_average_update %mv, %v {momentum = 9.900000e-01 : f64} : tensor<6xf32>, tensor<6xf32>
  return %a, %dz, %skip, %dg, %db : tensor<?x2x6xf32>, tensor<?x2x6xf32>, tensor<?x2x6xf32>, tensor<6xf32>, tensor<6xf32>
}

// The projection shortcut in @M_grad (no moving averages: their reads die
// and are erased): both batchnorms and both gradients fuse, each with its
// own epsilon; the add's operand order is kept.
// CHECK-LABEL: func.func @projection
// CHECK: %[[K1:.*]] = dl.param @k1
// CHECK-NEXT: %[[Z1:.*]] = dl.conv2d %arg0, %[[K1]]
// CHECK-NEXT: %[[K2:.*]] = dl.param @k2
// CHECK-NEXT: %[[Z2:.*]] = dl.conv2d %arg0, %[[K2]]
// CHECK-NEXT: %[[A:.*]], %[[M1:.*]], %[[V1:.*]], %[[M2:.*]], %[[V2:.*]] = dl.batchnorm_add_batchnorm_relu_train %[[Z2]], %arg4, %arg5, %[[Z1]], %arg2, %arg3 {epsilon = 2.000000e-03 : f64, epsilon2 = 1.000000e-03 : f64} : (tensor<?x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<?x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<?x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
// CHECK-NEXT: %[[DZ2:.*]], %[[DG2:.*]], %[[DB2:.*]], %[[DZ1:.*]], %[[DG1:.*]], %[[DB1:.*]] = dl.batchnorm_add_batchnorm_relu_train_grad %[[Z2]], %arg4, %arg5, %[[M1]], %[[V1]], %[[Z1]], %arg2, %arg3, %[[M2]], %[[V2]], %[[A]], %arg1 {epsilon = 2.000000e-03 : f64, epsilon2 = 1.000000e-03 : f64}
// CHECK-NEXT: %{{.*}}, %[[DK1:.*]] = dl.conv2d_grad %arg0, %[[K1]], %[[Z1]], %[[DZ1]]
// CHECK-NEXT: %{{.*}}, %[[DK2:.*]] = dl.conv2d_grad %arg0, %[[K2]], %[[Z2]], %[[DZ2]]
// CHECK-NEXT: return %[[A]], %[[DK1]], %[[DK2]], %[[DG1]], %[[DB1]], %[[DG2]], %[[DB2]]
func.func @projection(%x: tensor<?x4x4x2xf32>, %da: tensor<?x4x4x3xf32>, %g1: tensor<3xf32>, %b1: tensor<3xf32>, %g2: tensor<3xf32>, %b2: tensor<3xf32>) -> (tensor<?x4x4x3xf32>, tensor<3x3x2x3xf32>, tensor<1x1x2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) attributes {dl.gradients} {
  %k1 = dl.param @k1 : tensor<3x3x2x3xf32>
  %z1 = dl.conv2d %x, %k1 {dilation = array<i64: 1, 1>, filters = 3 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x4x4x2xf32>, tensor<3x3x2x3xf32>) -> tensor<?x4x4x3xf32>
  %k2 = dl.param @k2 : tensor<1x1x2x3xf32>
  %z2 = dl.conv2d %x, %k2 {dilation = array<i64: 1, 1>, filters = 3 : i64, kernel_size = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<?x4x4x2xf32>, tensor<1x1x2x3xf32>) -> tensor<?x4x4x3xf32>
  %mm1 = dl.param @mm1 : tensor<3xf32>
  %mv1 = dl.param @mv1 : tensor<3xf32>
  %mm2 = dl.param @mm2 : tensor<3xf32>
  %mv2 = dl.param @mv2 : tensor<3xf32>
  // expected-remark @below {{fused: conv2d + batchnorm + conv2d + batchnorm + add + relu (training, projection shortcut): two statistics passes, normalize+normalize+add+relu in one pass, fused backward}}
  %y1, %m1, %v1 = dl.batchnorm_train %z1, %g1, %b1, %mm1, %mv1 {epsilon = 1.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<?x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>)
  // expected-remark @below {{fused: conv2d + batchnorm + conv2d + batchnorm + add + relu (training, projection shortcut): two statistics passes, normalize+normalize+add+relu in one pass, fused backward}}
  %y2, %m2, %v2 = dl.batchnorm_train %z2, %g2, %b2, %mm2, %mv2 {epsilon = 2.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<?x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>)
  %s = dl.add %y2, %y1 : (tensor<?x4x4x3xf32>, tensor<?x4x4x3xf32>) -> tensor<?x4x4x3xf32>
  %a = dl.relu %s : (tensor<?x4x4x3xf32>) -> tensor<?x4x4x3xf32>
  %ds = dl.relu_grad %s, %a, %da : (tensor<?x4x4x3xf32>, tensor<?x4x4x3xf32>, tensor<?x4x4x3xf32>) -> tensor<?x4x4x3xf32>
  %dz1, %dg1, %db1, %dmm1, %dmv1 = dl.batchnorm_train_grad %z1, %g1, %b1, %mm1, %mv1, %y1, %m1, %v1, %ds {epsilon = 1.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<?x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<?x4x4x3xf32>) -> (tensor<?x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
  %dx1, %dk1 = dl.conv2d_grad %x, %k1, %z1, %dz1 {dilation = array<i64: 1, 1>, filters = 3 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x4x4x2xf32>, tensor<3x3x2x3xf32>, tensor<?x4x4x3xf32>, tensor<?x4x4x3xf32>) -> (tensor<?x4x4x2xf32>, tensor<3x3x2x3xf32>)
  %dz2, %dg2, %db2, %dmm2, %dmv2 = dl.batchnorm_train_grad %z2, %g2, %b2, %mm2, %mv2, %y2, %m2, %v2, %ds {epsilon = 2.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<?x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<?x4x4x3xf32>) -> (tensor<?x4x4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
  %dx2, %dk2 = dl.conv2d_grad %x, %k2, %z2, %dz2 {dilation = array<i64: 1, 1>, filters = 3 : i64, kernel_size = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<?x4x4x2xf32>, tensor<1x1x2x3xf32>, tensor<?x4x4x3xf32>, tensor<?x4x4x3xf32>) -> (tensor<?x4x4x2xf32>, tensor<1x1x2x3xf32>)
  return %a, %dk1, %dk2, %dg1, %db1, %dg2, %db2 : tensor<?x4x4x3xf32>, tensor<3x3x2x3xf32>, tensor<1x1x2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
}

// The moving averages scheduled right after the batchnorm, before the add:
// they move after the fused op, which now defines the statistics.
// CHECK-LABEL: func.func @early_moving_averages
// CHECK: %[[MM:.*]] = dl.param @mm
// CHECK-NEXT: %[[MV:.*]] = dl.param @mv
// CHECK-NEXT: %[[A:.*]], %[[M:.*]], %[[V:.*]] = dl.batchnorm_add_relu_train %arg0, %arg2, %arg3, %arg1
// CHECK-NEXT: dl.moving_average_update %[[MM]], %[[M]]
// CHECK-NEXT: dl.moving_average_update %[[MV]], %[[V]]
// CHECK-NEXT: return %[[A]]
func.func @early_moving_averages(%z: tensor<?x6xf32>, %r: tensor<?x6xf32>, %g: tensor<6xf32>, %b: tensor<6xf32>) -> tensor<?x6xf32> attributes {dl.train_step} {
  %mm = dl.param @mm : tensor<6xf32>
  %mv = dl.param @mv : tensor<6xf32>
  // expected-remark @below {{fused: input + batchnorm + add + relu (training, shortcut from input): statistics pass, normalize+add+relu in one pass, no backward}}
  %y, %m, %v = dl.batchnorm_train %z, %g, %b, %mm, %mv {epsilon = 1.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>, tensor<6xf32>) -> (tensor<?x6xf32>, tensor<6xf32>, tensor<6xf32>)
  dl.moving_average_update %mm, %m {momentum = 9.900000e-01 : f64} : tensor<6xf32>, tensor<6xf32>
  dl.moving_average_update %mv, %v {momentum = 9.900000e-01 : f64} : tensor<6xf32>, tensor<6xf32>
  %s = dl.add %y, %r : (tensor<?x6xf32>, tensor<?x6xf32>) -> tensor<?x6xf32>
  %a = dl.relu %s : (tensor<?x6xf32>) -> tensor<?x6xf32>
  return %a : tensor<?x6xf32>
}

// No backward reaches the block: the forward fuses alone; the batchnorm
// may be the add's second operand.
// CHECK-LABEL: func.func @forward_only
// CHECK-NEXT: %[[A:.*]], %{{.*}}, %{{.*}} = dl.batchnorm_add_relu_train %arg0, %arg1, %arg2, %arg5 {epsilon = 1.000000e-03 : f64}
// CHECK-NEXT: return %[[A]]
func.func @forward_only(%z: tensor<?x5xf64>, %g: tensor<5xf64>, %b: tensor<5xf64>, %mm: tensor<5xf64>, %mv: tensor<5xf64>, %r: tensor<?x5xf64>) -> tensor<?x5xf64> attributes {dl.gradients} {
  // expected-remark @below {{fused: input + batchnorm + add + relu (training, shortcut from input): statistics pass, normalize+add+relu in one pass, no backward}}
  %y, %mean, %var = dl.batchnorm_train %z, %g, %b, %mm, %mv {epsilon = 1.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x5xf64>, tensor<5xf64>, tensor<5xf64>, tensor<5xf64>, tensor<5xf64>) -> (tensor<?x5xf64>, tensor<5xf64>, tensor<5xf64>)
  %s = dl.add %r, %y : (tensor<?x5xf64>, tensor<?x5xf64>) -> tensor<?x5xf64>
  %a = dl.relu %s : (tensor<?x5xf64>) -> tensor<?x5xf64>
  return %a : tensor<?x5xf64>
}

// Two batchnorms whose add's gradient also feeds something else: the
// projection form has no residual gradient, so only the first batchnorm
// fuses, with the second's output as its shortcut (and %dr feeding the
// second's unfused gradient).
// CHECK-LABEL: func.func @projection_gradient_used
// CHECK: %[[Y2:[^,]*]], %{{.*}}, %{{.*}} = dl.batchnorm_train %arg1
// CHECK-NEXT: %[[A:.*]], %[[M:.*]], %[[V:.*]] = dl.batchnorm_add_relu_train %arg0, %arg2, %arg3, %[[Y2]]
// CHECK-NEXT: %{{.*}}, %{{.*}}, %{{.*}}, %[[DR:.*]] = dl.batchnorm_add_relu_train_grad %arg0, %arg2, %arg3, %[[M]], %[[V]], %[[A]], %arg6
// CHECK-NEXT: dl.batchnorm_train_grad %arg1, {{.*}}, %[[DR]]
// CHECK-NEXT: return %[[A]], %{{.*}}, %{{.*}}, %[[DR]]
func.func @projection_gradient_used(%z1: tensor<?x5xf32>, %z2: tensor<?x5xf32>, %g: tensor<5xf32>, %b: tensor<5xf32>, %mm: tensor<5xf32>, %mv: tensor<5xf32>, %da: tensor<?x5xf32>) -> (tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>) attributes {dl.gradients} {
  // expected-remark @below {{fused: input + batchnorm + add + relu (training, shortcut from batchnorm_train): statistics pass, normalize+add+relu in one pass, fused backward}}
  %y1, %m1, %v1 = dl.batchnorm_train %z1, %g, %b, %mm, %mv {epsilon = 1.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>) -> (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>)
  // expected-remark @below {{not fused as batchnorm + add + relu: the add's gradient also feeds func.return}}
  %y2, %m2, %v2 = dl.batchnorm_train %z2, %g, %b, %mm, %mv {epsilon = 1.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>) -> (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>)
  %s = dl.add %y1, %y2 : (tensor<?x5xf32>, tensor<?x5xf32>) -> tensor<?x5xf32>
  %a = dl.relu %s : (tensor<?x5xf32>) -> tensor<?x5xf32>
  %ds = dl.relu_grad %s, %a, %da : (tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>) -> tensor<?x5xf32>
  %dz1, %dg1, %db1, %dmm1, %dmv1 = dl.batchnorm_train_grad %z1, %g, %b, %mm, %mv, %y1, %m1, %v1, %ds {epsilon = 1.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<?x5xf32>) -> (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>)
  %dz2, %dg2, %db2, %dmm2, %dmv2 = dl.batchnorm_train_grad %z2, %g, %b, %mm, %mv, %y2, %m2, %v2, %ds {epsilon = 1.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<?x5xf32>) -> (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>)
  return %a, %dz1, %dz2, %ds : tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>
}

// Negative cases: each batchnorm stays, with its reason; an add without a
// batchnorm operand is no candidate (no remark).
// CHECK-LABEL: func.func @not_fused
// CHECK-NOT: dl.batchnorm_add
// CHECK-COUNT-3: dl.batchnorm_train %
// CHECK-NOT: dl.batchnorm_add
// CHECK: return
func.func @not_fused(%z: tensor<?x5xf32>, %g: tensor<5xf32>, %b: tensor<5xf32>, %mm: tensor<5xf32>, %mv: tensor<5xf32>, %r: tensor<?x5xf32>) -> (tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>) attributes {dl.gradients} {
  // The sum is also returned.
  // expected-remark @below {{not fused as batchnorm + add + relu: add output feeds func.return, not relu}}
  %y1, %m1, %v1 = dl.batchnorm_train %z, %g, %b, %mm, %mv {epsilon = 1.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>) -> (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>)
  %s1 = dl.add %y1, %r : (tensor<?x5xf32>, tensor<?x5xf32>) -> tensor<?x5xf32>
  %a1 = dl.relu %s1 : (tensor<?x5xf32>) -> tensor<?x5xf32>
  // The batchnorm output is also returned.
  // expected-remark @below {{not fused as batchnorm + add + relu: batchnorm output also feeds func.return}}
  %y2, %m2, %v2 = dl.batchnorm_train %z, %g, %b, %mm, %mv {epsilon = 2.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>) -> (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>)
  %s2 = dl.add %y2, %r : (tensor<?x5xf32>, tensor<?x5xf32>) -> tensor<?x5xf32>
  %a2 = dl.relu %s2 : (tensor<?x5xf32>) -> tensor<?x5xf32>
  // A sigmoid after the add, not a relu.
  // expected-remark @below {{not fused as batchnorm + add + relu: add output feeds sigmoid, not relu}}
  %y3, %m3, %v3 = dl.batchnorm_train %z, %g, %b, %mm, %mv {epsilon = 3.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>) -> (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>)
  %s3 = dl.add %y3, %r : (tensor<?x5xf32>, tensor<?x5xf32>) -> tensor<?x5xf32>
  %a3 = dl.sigmoid %s3 : (tensor<?x5xf32>) -> tensor<?x5xf32>
  // No batchnorm: no candidate.
  %s4 = dl.add %r, %z : (tensor<?x5xf32>, tensor<?x5xf32>) -> tensor<?x5xf32>
  %a4 = dl.relu %s4 : (tensor<?x5xf32>) -> tensor<?x5xf32>
  return %a1, %s1, %a2, %y2, %a3, %a4 : tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>, tensor<?x5xf32>
}

// Not a training function: left alone, no remark.
// CHECK-LABEL: func.func @inference
// CHECK-NEXT: dl.batchnorm_train
// CHECK-NEXT: dl.add
// CHECK-NEXT: dl.relu
func.func @inference(%z: tensor<?x5xf32>, %g: tensor<5xf32>, %b: tensor<5xf32>, %mm: tensor<5xf32>, %mv: tensor<5xf32>, %r: tensor<?x5xf32>) -> tensor<?x5xf32> {
  %y, %mean, %var = dl.batchnorm_train %z, %g, %b, %mm, %mv {epsilon = 1.000000e-03 : f64, momentum = 9.900000e-01 : f64} : (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>, tensor<5xf32>) -> (tensor<?x5xf32>, tensor<5xf32>, tensor<5xf32>)
  %s = dl.add %y, %r : (tensor<?x5xf32>, tensor<?x5xf32>) -> tensor<?x5xf32>
  %a = dl.relu %s : (tensor<?x5xf32>) -> tensor<?x5xf32>
  return %a : tensor<?x5xf32>
}

// REMARKS: remark: fused: input + batchnorm + add + relu (training, shortcut from input): statistics pass, normalize+add+relu in one pass, fused backward, summing its 2 output gradients
// REMARKS: remark: fused: conv2d + batchnorm + conv2d + batchnorm + add + relu (training, projection shortcut)
// REMARKS: remark: fused: conv2d + batchnorm + conv2d + batchnorm + add + relu (training, projection shortcut)
// REMARKS: remark: fused: input + batchnorm + add + relu (training, shortcut from input): statistics pass, normalize+add+relu in one pass, no backward
// REMARKS: remark: fused: input + batchnorm + add + relu (training, shortcut from input): statistics pass, normalize+add+relu in one pass, no backward
// REMARKS: remark: not fused as batchnorm + add + relu: the add's gradient also feeds func.return
// REMARKS: remark: fused: input + batchnorm + add + relu (training, shortcut from batchnorm_train)
// REMARKS: remark: not fused as batchnorm + add + relu: add output feeds func.return, not relu
// REMARKS: remark: not fused as batchnorm + add + relu: batchnorm output also feeds func.return
// REMARKS: remark: not fused as batchnorm + add + relu: add output feeds sigmoid, not relu
// REMARKS-NOT: remark:

// resnet_mini: the five batchnorms that feed the residual adds fuse (block
// 1's identity shortcut, blocks 2 and 3's projections), each reported.
// RESNET-DAG: /{{.*}}resnet_mini.dl:6:7: remark: residual.batchnorm_1: fused: conv2d + batchnorm + add + relu (training, shortcut from batchnorm_relu_train): statistics pass, normalize+add+relu in one pass, fused backward, summing its 2 output gradients
// RESNET-DAG: /{{.*}}resnet_mini.dl:6:7: remark: residual_1.batchnorm_1: fused: conv2d + batchnorm + conv2d + batchnorm + add + relu (training, projection shortcut)
// RESNET-DAG: /{{.*}}resnet_mini.dl:9:16: remark: residual_1.batchnorm_2: fused: conv2d + batchnorm + conv2d + batchnorm + add + relu (training, projection shortcut)
// RESNET-DAG: /{{.*}}resnet_mini.dl:6:7: remark: residual_2.batchnorm_1: fused: conv2d + batchnorm + conv2d + batchnorm + add + relu (training, projection shortcut)
// RESNET-DAG: /{{.*}}resnet_mini.dl:9:16: remark: residual_2.batchnorm_2: fused: conv2d + batchnorm + conv2d + batchnorm + add + relu (training, projection shortcut)

// In @M_grad and @M_train_step no training batchnorm, add or relu gradient
// is left; the inference functions keep theirs.
// RESNET-IR-LABEL: func.func @resnet_mini_grad(
// RESNET-IR-NOT: dl.batchnorm_train
// RESNET-IR: dl.batchnorm_add_relu_train %
// RESNET-IR-COUNT-2: dl.batchnorm_add_batchnorm_relu_train %
// RESNET-IR-NOT: dl.relu_grad
// RESNET-IR-COUNT-2: dl.batchnorm_add_batchnorm_relu_train_grad
// RESNET-IR-NOT: dl.relu_grad
// RESNET-IR: dl.batchnorm_add_relu_train_grad
// RESNET-IR-NOT: dl.relu_grad
// RESNET-IR-LABEL: func.func @resnet_mini_train_step(
// RESNET-IR-NOT: dl.batchnorm_train
// RESNET-IR: dl.batchnorm_add_relu_train %
// RESNET-IR-COUNT-2: dl.batchnorm_add_batchnorm_relu_train %
// RESNET-IR-COUNT-2: dl.batchnorm_add_batchnorm_relu_train_grad
// RESNET-IR: dl.batchnorm_add_relu_train_grad
// The moving averages of all nine batchnorms remain, wherever scheduled.
// MOVING-LABEL: func.func @resnet_mini_train_step(
// MOVING-COUNT-18: dl.moving_average_update

// UNFUSED-NOT: batchnorm_add
