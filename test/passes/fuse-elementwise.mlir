// RUN: dlc-opt %s -dl-fuse-elementwise 2>/dev/null | FileCheck %s
// RUN: dlc-opt %s -dl-fuse-elementwise 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARKS
// RUN: dlc-opt %s -dl-fuse-elementwise 2>/dev/null | dlc-opt | FileCheck %s
// RUN: dlc compile %spec_examples/multitask.dl --emit=ir-opt --remarks 2>&1 >/dev/null | FileCheck %s --check-prefix=MULTITASK
// RUN: dlc compile %spec_examples/resnet_mini.dl --emit=ir-opt --remarks 2>&1 >/dev/null | FileCheck %s --check-prefix=RESNET
// RUN: dlc compile %spec_examples/siamese.dl --emit=ir-opt --remarks 2>&1 >/dev/null | FileCheck %s --check-prefix=SIAMESE
// RUN: dlc compile %spec_examples/resnet_mini.dl --emit=ir-opt --no-fusion | FileCheck %s --check-prefix=UNFUSED
//
// -dl-fuse-elementwise: greedy producer-consumer fusion of same-shape
// elementwise ops (gradients, elementwise loss gradients and optimizer
// updates included) into dl.fused_elementwise, whose region holds the
// original ops. A value read after the chain becomes an extra result; one
// read by another op before the chain's last op stops the fusion. Every
// candidate pair gets a remark. (The printed form parses back: RUN 3.)
// Every relu_grad(x, y, dy) first becomes relu_grad(y, y, dy): the same
// function (its mask is y > 0), so the pre-activation is not kept.

dl.parameter @w : tensor<3x4xf32> {fan_in = 3 : i64, fan_out = 4 : i64, init = "glorot_uniform", trainable = true}
dl.parameter @w.momentum : tensor<3x4xf32> {dl.optimizer_state, fan_in = 3 : i64, fan_out = 4 : i64, init = "zeros", trainable = false}
dl.parameter @w.adam_m : tensor<3x4xf32> {dl.optimizer_state, fan_in = 3 : i64, fan_out = 4 : i64, init = "zeros", trainable = false}
dl.parameter @w.adam_v : tensor<3x4xf32> {dl.optimizer_state, fan_in = 3 : i64, fan_out = 4 : i64, init = "zeros", trainable = false}

// dropout_grad -> relu_grad (fashion_cnn's dense + dropout backward).
// CHECK-LABEL: func.func @backward
// CHECK-NEXT: %[[F:.*]] = dl.fused_elementwise %arg1, %arg2, %arg3 : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32> {
// CHECK-NEXT: ^bb0(%[[R:.*]]: tensor<?x8xf32>, %[[D:.*]]: tensor<?x8xf32>, %[[DY:.*]]: tensor<?x8xf32>):
// CHECK-NEXT: %[[G:.*]] = dl.dropout_grad %[[R]], %[[D]], %[[DY]] {rate = 5.000000e-01 : f64, seed_offset = 0 : i64}
// CHECK-NEXT: %[[DZ:.*]] = dl.relu_grad %[[R]], %[[R]], %[[G]]
// CHECK-NEXT: dl.elementwise_yield %[[DZ]] : tensor<?x8xf32>
// CHECK-NEXT: {{^ +\}$}}
// CHECK-NEXT: return %[[F]]
// REMARKS: remark: fused: dropout_grad + relu_grad into one kernel
func.func @backward(%z: tensor<?x8xf32>, %r: tensor<?x8xf32>, %d: tensor<?x8xf32>, %dy: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = dl.dropout_grad %r, %d, %dy {rate = 5.000000e-01 : f64, seed_offset = 0 : i64} : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %1 = dl.relu_grad %z, %r, %0 : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return %1 : tensor<?x8xf32>
}

// add -> relu -> tanh, the add's result also returned: an extra result.
// CHECK-LABEL: func.func @residual
// CHECK-NEXT: %[[F:.*]]:2 = dl.fused_elementwise %arg0, %arg1
// CHECK-NEXT: ^bb0
// CHECK-NEXT: %[[S:.*]] = dl.add
// CHECK-NEXT: %[[A:.*]] = dl.relu %[[S]]
// CHECK-NEXT: %[[T:.*]] = dl.tanh %[[A]]
// CHECK-NEXT: dl.elementwise_yield %[[S]], %[[T]]
// CHECK-NEXT: {{^ +\}$}}
// CHECK-NEXT: return %[[F]]#1, %[[F]]#0
// REMARKS: remark: fused: add + relu + tanh into one kernel; dl.add's result is also stored for later readers
func.func @residual(%a: tensor<?x8xf32>, %b: tensor<?x8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %0 = dl.add %a, %b : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %1 = dl.relu %0 : (tensor<?x8xf32>) -> tensor<?x8xf32>
  %2 = dl.tanh %1 : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return %2, %0 : tensor<?x8xf32>, tensor<?x8xf32>
}

// Negative: the relu's result is read by the dense before the add.
// CHECK-LABEL: func.func @two_users
// CHECK-NOT: dl.fused_elementwise
// CHECK: dl.relu
// CHECK-NEXT: dl.dense
// CHECK-NEXT: dl.add
// REMARKS: remark: not fused: dl.relu into dl.add: the result of dl.relu is also read by dl.dense before dl.add
func.func @two_users(%a: tensor<?x8xf32>, %k: tensor<8x8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %0 = dl.relu %a : (tensor<?x8xf32>) -> tensor<?x8xf32>
  %1 = dl.dense %0, %k {units = 8 : i64} : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %2 = dl.add %1, %0 : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return %2, %1 : tensor<?x8xf32>, tensor<?x8xf32>
}

// l2_loss_grad + add_n + sgd_update: one kernel per parameter tensor. The
// updated parameter and slot are read inside the region; the 0-d loss and
// seed enter as operands (read once).
// CHECK-LABEL: func.func @sgd_step
// CHECK: %[[L:.*]] = dl.l2_loss
// CHECK-NEXT: %[[SEED:.*]] = dl.fill
// CHECK-NEXT: dl.fused_elementwise %[[L]], %[[SEED]], %arg0 : (tensor<f32>, tensor<f32>, tensor<3x4xf32>) -> () {
// CHECK-NEXT: ^bb0(%[[BL:.*]]: tensor<f32>, %[[BS:.*]]: tensor<f32>, %[[DK:.*]]: tensor<3x4xf32>):
// CHECK-NEXT: %[[W:.*]] = dl.param @w
// CHECK-NEXT: %[[V:.*]] = dl.param @w.momentum
// CHECK-NEXT: %[[G:.*]] = dl.l2_loss_grad %[[W]], %[[BL]], %[[BS]]
// CHECK-NEXT: %[[SUM:.*]] = dl.add_n %[[G]], %[[DK]]
// CHECK-NEXT: dl.sgd_update %[[W]], %[[SUM]] velocity(%[[V]])
// CHECK-NEXT: {{^ +\}$}}
// CHECK-NEXT: return
// REMARKS: remark: fused: l2_loss_grad + add_n + sgd_update into one kernel (one kernel per parameter tensor)
func.func @sgd_step(%dk: tensor<3x4xf32>) {
  %w = dl.param @w : tensor<3x4xf32>
  %loss = dl.l2_loss %w {l2 = 1.000000e-04 : f64} : (tensor<3x4xf32>) -> tensor<f32>
  %seed = dl.fill {value = 1.000000e+00 : f64} : tensor<f32>
  %0 = dl.l2_loss_grad %w, %loss, %seed {l2 = 1.000000e-04 : f64} : (tensor<3x4xf32>, tensor<f32>, tensor<f32>) -> tensor<3x4xf32>
  %1 = dl.add_n %0, %dk : tensor<3x4xf32>
  %v = dl.param @w.momentum : tensor<3x4xf32>
  dl.sgd_update %w, %1 velocity(%v) {momentum = 9.000000e-01 : f64, nesterov = false} : tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>
  return
}

// add_n (a shared parameter's gradient sum) + adam_update.
// CHECK-LABEL: func.func @adam_step
// CHECK-NOT: dl.param
// CHECK: dl.fused_elementwise %arg0, %arg1 : (tensor<3x4xf32>, tensor<3x4xf32>) -> () {
// CHECK: dl.add_n
// CHECK-NEXT: dl.adam_update
// REMARKS: remark: fused: add_n + adam_update into one kernel (one kernel per parameter tensor)
func.func @adam_step(%g1: tensor<3x4xf32>, %g2: tensor<3x4xf32>) {
  %w = dl.param @w : tensor<3x4xf32>
  %0 = dl.add_n %g1, %g2 : tensor<3x4xf32>
  %m = dl.param @w.adam_m : tensor<3x4xf32>
  %v = dl.param @w.adam_v : tensor<3x4xf32>
  dl.adam_update %w, %0, %m, %v {beta_1 = 9.000000e-01 : f64, beta_2 = 9.990000e-01 : f64, epsilon = 1.000000e-07 : f64} : tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>
  return
}

// Negative: fusing would move the read of @w past its update.
// CHECK-LABEL: func.func @read_past_update
// CHECK-NOT: dl.fused_elementwise
// CHECK: dl.l2_loss_grad
// CHECK-NEXT: dl.sgd_update
// CHECK-NEXT: dl.add_n
// REMARKS: remark: not fused: dl.l2_loss_grad into dl.add_n: it would move a read of @w past its update
func.func @read_past_update(%x: tensor<3x4xf32>, %y: tensor<3x4xf32>, %seed: tensor<f32>, %loss: tensor<f32>) -> tensor<3x4xf32> {
  %w = dl.param @w : tensor<3x4xf32>
  %0 = dl.l2_loss_grad %w, %loss, %seed {l2 = 1.000000e-04 : f64} : (tensor<3x4xf32>, tensor<f32>, tensor<f32>) -> tensor<3x4xf32>
  dl.sgd_update %w, %x {momentum = 0.000000e+00 : f64, nesterov = false} : tensor<3x4xf32>, tensor<3x4xf32>
  %1 = dl.add_n %0, %y : tensor<3x4xf32>
  return %1 : tensor<3x4xf32>
}

// The loss reduces (not fused); its gradient and sigmoid_grad are fused.
// The sigmoid's result is read by the loss before the gradient (not fused).
// CHECK-LABEL: func.func @bce
// CHECK-NEXT: %[[Y:.*]] = dl.sigmoid %arg0
// CHECK-NEXT: %[[L:.*]] = dl.binary_crossentropy %[[Y]], %arg1
// CHECK-NEXT: %[[F:.*]] = dl.fused_elementwise %[[Y]], %arg1, %[[L]], %arg2, %arg0
// CHECK-NEXT: ^bb0
// CHECK-NEXT: %[[DP:.*]], %{{.*}} = dl.binary_crossentropy_grad
// CHECK-NEXT: dl.sigmoid_grad %{{.*}}, %{{.*}}, %[[DP]]
// CHECK: return %[[L]], %[[F]]
// REMARKS: remark: not fused: dl.sigmoid into dl.binary_crossentropy: the loss reduces its input to a scalar
// REMARKS: remark: not fused: dl.sigmoid into dl.binary_crossentropy_grad: the result of dl.sigmoid is also read by dl.binary_crossentropy before dl.binary_crossentropy_grad
// REMARKS: remark: not fused: dl.sigmoid into dl.sigmoid_grad
// REMARKS: remark: fused: binary_crossentropy_grad + sigmoid_grad into one kernel
func.func @bce(%x: tensor<?x1xf32>, %t: tensor<?x1xf32>, %seed: tensor<f32>) -> (tensor<f32>, tensor<?x1xf32>) {
  %0 = dl.sigmoid %x : (tensor<?x1xf32>) -> tensor<?x1xf32>
  %1 = dl.binary_crossentropy %0, %t : (tensor<?x1xf32>, tensor<?x1xf32>) -> tensor<f32>
  %dp, %dt = dl.binary_crossentropy_grad %0, %t, %1, %seed : (tensor<?x1xf32>, tensor<?x1xf32>, tensor<f32>, tensor<f32>) -> (tensor<?x1xf32>, tensor<?x1xf32>)
  %2 = dl.sigmoid_grad %x, %0, %dp : (tensor<?x1xf32>, tensor<?x1xf32>, tensor<?x1xf32>) -> tensor<?x1xf32>
  return %1, %2 : tensor<f32>, tensor<?x1xf32>
}

// Forward and backward of |a - b| in one loop; subtract_grad's two results.
// CHECK-LABEL: func.func @subtract_abs
// CHECK-NEXT: %[[F:.*]]:3 = dl.fused_elementwise %arg0, %arg1, %arg2
// CHECK: dl.elementwise_yield
// CHECK-NEXT: {{^ +\}$}}
// CHECK-NEXT: return %[[F]]#0, %[[F]]#1, %[[F]]#2
// REMARKS: remark: fused: subtract + abs + abs_grad + subtract_grad into one kernel; dl.abs's result is also stored for later readers
func.func @subtract_abs(%a: tensor<?x4xf32>, %b: tensor<?x4xf32>, %dy: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>) {
  %0 = dl.subtract %a, %b : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %1 = dl.abs %0 : (tensor<?x4xf32>) -> tensor<?x4xf32>
  %2 = dl.abs_grad %0, %1, %dy : (tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %da, %db = dl.subtract_grad %a, %b, %0, %2 : (tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>)
  return %1, %da, %db : tensor<?x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>
}

// The spec examples (after the conv+bn+relu, batchnorm+add+relu, folding
// and epilogue passes, which take the layers' activations). resnet_mini:
// add + relu of each residual block in the inference functions (in the
// training ones -dl-fuse-batchnorm-add-relu already took the add, the relu,
// and the add_n + relu_grad where the skip gradients meet), and
// l2_loss_grad + add_n + sgd_update for every regularized kernel.
// RESNET-DAG: {{.*}}resnet_mini.dl:11:15: remark: residual.add: fused: add + relu into one kernel{{$}}
// RESNET-DAG: remark: {{([a-z_0-9.]+: )?}}fused: l2_loss_grad + add_n + sgd_update into one kernel (one kernel per parameter tensor)
// RESNET-NOT: also stored for later readers
// siamese: |a - b| forward and backward, the shared encoder's gradient
// sums with their Adam updates.
// SIAMESE-DAG: remark: {{([a-z_0-9.]+: )?}}fused: subtract + abs into one kernel
// SIAMESE-DAG: remark: {{([a-z_0-9.]+: )?}}fused: abs_grad + subtract_grad into one kernel
// SIAMESE-DAG: remark: {{([a-z_0-9.]+: )?}}fused: add_n + adam_update into one kernel (one kernel per parameter tensor)
// multitask: the binary cross-entropy's gradient with the sigmoid's; the
// loss itself reduces.
// MULTITASK-DAG: remark: {{([a-z_0-9.]+: )?}}fused: binary_crossentropy_grad + sigmoid_grad into one kernel
// MULTITASK-DAG: remark: {{([a-z_0-9.]+: )?}}not fused: dl.sigmoid into dl.binary_crossentropy: the loss reduces its input to a scalar
// UNFUSED-NOT: dl.fused_elementwise
