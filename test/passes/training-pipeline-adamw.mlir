// RUN: dlc-opt %s -dl-training-pipeline-unfused | FileCheck %s
// RUN: dlc-opt %s -dl-training-pipeline | dlc-opt > /dev/null
// -dl-training-pipeline (checked without its fusion passes, which
// test/passes/fuse-*.mlir pin) on the IR builder's form (@net, @net_loss
// calling it): @net and @net_eval in inference mode without dropout,
// @net_grad and @net_train_step in training mode with it; a batchnorm with a frozen gamma
// stays in inference mode and gets no moving average. adamw with amsgrad and
// clip_norm: three slots per trainable parameter, each gradient clipped.
// After cse each parameter is read once per function, and the updates
// write the value the forward read.

// CHECK: dl.parameter @fbn.moving_variance
// CHECK-NEXT: dl.parameter @dense.kernel.adam_m : tensor<4x3xf32> {dl.optimizer_state
// CHECK-NEXT: dl.parameter @dense.kernel.adam_v : tensor<4x3xf32> {dl.optimizer_state
// CHECK-NEXT: dl.parameter @dense.kernel.adam_vhat : tensor<4x3xf32> {dl.optimizer_state
// CHECK-NEXT: dl.parameter @dense.bias.adam_m
// CHECK-NEXT: dl.parameter @dense.bias.adam_v
// CHECK-NEXT: dl.parameter @dense.bias.adam_vhat
// CHECK-NEXT: dl.parameter @bn.gamma.adam_m
// CHECK-NEXT: dl.parameter @bn.gamma.adam_v
// CHECK-NEXT: dl.parameter @bn.gamma.adam_vhat
// CHECK-NEXT: dl.parameter @bn.beta.adam_m
// CHECK-NEXT: dl.parameter @bn.beta.adam_v
// CHECK-NEXT: dl.parameter @bn.beta.adam_vhat
// CHECK-NOT: dl.parameter

// CHECK-LABEL: func.func @net(%arg0: tensor<?x4xf32>) -> tensor<?x3xf32> attributes {dl.input_names = ["x"], dl.model} {
// CHECK-NOT: dl.dropout
// CHECK: %[[R:.*]] = dl.relu
// CHECK-NOT: dl.dropout
// CHECK: dl.batchnorm %[[R]],
// CHECK-NOT: dl.dropout

// CHECK-LABEL: func.func @net_eval(%arg0: tensor<?x4xf32>, %arg1: tensor<?xi32>) -> (tensor<f32>, tensor<?x3xf32>) attributes {dl.eval, dl.input_names = ["x", "label"], dl.target_inputs = array<i64: -1>} {
// CHECK-NOT: dl.dropout
// CHECK-NOT: dl.batchnorm_train
// CHECK: %[[Z:.*]] = dl.batchnorm %{{.*}} {epsilon = 1.000000e-03 : f64, momentum = 9.000000e-01 : f64}
// CHECK-NEXT: %[[L:.*]] = dl.sparse_categorical_crossentropy %[[Z]], %arg1
// CHECK-NEXT: return %[[L]], %[[Z]] : tensor<f32>, tensor<?x3xf32>

// CHECK-LABEL: func.func @net_grad(%arg0: tensor<?x4xf32>, %arg1: tensor<?xi32>) -> (tensor<f32>, tensor<?x3xf32>, tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) attributes {dl.grad_params = [@dense.kernel, @dense.bias, @bn.gamma, @bn.beta], dl.gradients
// CHECK: dl.batchnorm_train
// CHECK: dl.dropout
// CHECK-NOT: _update
// CHECK: return

// CHECK-LABEL: func.func @net_train_step(%arg0: tensor<?x4xf32>, %arg1: tensor<?xi32>) -> (tensor<f32>, tensor<?x3xf32>) attributes {dl.input_names = ["x", "label"], dl.target_inputs = array<i64: -1>, dl.train_step} {
// CHECK-NEXT: %[[K:.*]] = dl.param @dense.kernel
// CHECK-NEXT: %[[B:.*]] = dl.param @dense.bias
// CHECK-NEXT: dl.dense
// CHECK-NEXT: %[[G:.*]] = dl.param @bn.gamma
// CHECK-NEXT: %[[BE:.*]] = dl.param @bn.beta
// CHECK-NEXT: %[[MM:.*]] = dl.param @bn.moving_mean
// CHECK-NEXT: %[[MV:.*]] = dl.param @bn.moving_variance
// CHECK-NEXT: %{{.*}}, %[[MEAN:.*]], %[[VAR:.*]] = dl.batchnorm_train
// CHECK-NEXT: dl.relu
// CHECK-NEXT: dl.dropout
// CHECK: %[[Z:.*]] = dl.batchnorm %{{.*}} {epsilon = 1.000000e-03 : f64, momentum = 9.000000e-01 : f64}
// CHECK-NEXT: %[[L:.*]] = dl.sparse_categorical_crossentropy %[[Z]]
// -dl-schedule-updates: each update (and its clip_norm) right after the
// last op it must follow, in order.
// CHECK: %{{.*}}, %[[DG:.*]], %[[DBE:.*]], %{{.*}}, %{{.*}} = dl.batchnorm_train_grad
// CHECK-NEXT: dl.moving_average_update %[[MM]], %[[MEAN]] {momentum = 0.98999999999999999 : f64}
// CHECK-NEXT: dl.moving_average_update %[[MV]], %[[VAR]] {momentum = 0.98999999999999999 : f64}
// CHECK-NEXT: %[[CG:.*]] = dl.clip_norm %[[DG]]
// CHECK-NEXT: %[[CBE:.*]] = dl.clip_norm %[[DBE]]
// CHECK-COUNT-3: dl.param
// CHECK-NEXT: dl.adamw_update %[[G]], %[[CG]],
// CHECK-COUNT-3: dl.param
// CHECK-NEXT: dl.adamw_update %[[BE]], %[[CBE]],
// CHECK-NEXT: %{{.*}}, %[[DK:.*]], %[[DB:.*]] = dl.dense_grad
// CHECK-NEXT: %[[CK:.*]] = dl.clip_norm %[[DK]] {clip_norm = 1.000000e+00 : f64} : tensor<4x3xf32>
// CHECK-NEXT: %[[CB:.*]] = dl.clip_norm %[[DB]]
// CHECK-NEXT: %[[KM:.*]] = dl.param @dense.kernel.adam_m
// CHECK-NEXT: %[[KV:.*]] = dl.param @dense.kernel.adam_v
// CHECK-NEXT: %[[KVH:.*]] = dl.param @dense.kernel.adam_vhat
// CHECK-NEXT: dl.adamw_update %[[K]], %[[CK]], %[[KM]], %[[KV]] vhat(%[[KVH]]) {amsgrad = true, beta_1 = 9.000000e-01 : f64, beta_2 = 0.99899999999999999 : f64, epsilon = 9.9999999999999995E-8 : f64, weight_decay = 1.000000e-02 : f64} : tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>
// CHECK-COUNT-3: dl.param
// CHECK-NEXT: dl.adamw_update %[[B]], %[[CB]],
// CHECK-NEXT: return %[[L]], %[[Z]] : tensor<f32>, tensor<?x3xf32>
// CHECK-NEXT: }
// CHECK-NOT: func.func

module attributes {dl.train = {clip_norm = 1.0 : f64, optimizer = {kind = "adamw", lr = 1.0e-3 : f64, weight_decay = 0.01 : f64, amsgrad = true}}} {
  dl.parameter @dense.kernel : tensor<4x3xf32> {fan_in = 4 : i64, fan_out = 3 : i64, init = "glorot_uniform", trainable = true}
  dl.parameter @dense.bias : tensor<3xf32> {fan_in = 3 : i64, fan_out = 3 : i64, init = "zeros", trainable = true}
  dl.parameter @bn.gamma : tensor<3xf32> {fan_in = 3 : i64, fan_out = 3 : i64, init = "ones", trainable = true}
  dl.parameter @bn.beta : tensor<3xf32> {fan_in = 3 : i64, fan_out = 3 : i64, init = "zeros", trainable = true}
  dl.parameter @bn.moving_mean : tensor<3xf32> {fan_in = 3 : i64, fan_out = 3 : i64, init = "zeros", trainable = false}
  dl.parameter @bn.moving_variance : tensor<3xf32> {fan_in = 3 : i64, fan_out = 3 : i64, init = "ones", trainable = false}
  dl.parameter @fbn.gamma : tensor<3xf32> {fan_in = 3 : i64, fan_out = 3 : i64, init = "ones", trainable = false}
  dl.parameter @fbn.beta : tensor<3xf32> {fan_in = 3 : i64, fan_out = 3 : i64, init = "zeros", trainable = false}
  dl.parameter @fbn.moving_mean : tensor<3xf32> {fan_in = 3 : i64, fan_out = 3 : i64, init = "zeros", trainable = false}
  dl.parameter @fbn.moving_variance : tensor<3xf32> {fan_in = 3 : i64, fan_out = 3 : i64, init = "ones", trainable = false}
  func.func @net(%x: tensor<?x4xf32>) -> tensor<?x3xf32> attributes {dl.input_names = ["x"], dl.model} {
    %k = dl.param @dense.kernel : tensor<4x3xf32>
    %b = dl.param @dense.bias : tensor<3xf32>
    %d = dl.dense %x, %k, %b {units = 3 : i64} : (tensor<?x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
    %g = dl.param @bn.gamma : tensor<3xf32>
    %be = dl.param @bn.beta : tensor<3xf32>
    %mm = dl.param @bn.moving_mean : tensor<3xf32>
    %mv = dl.param @bn.moving_variance : tensor<3xf32>
    %y = dl.batchnorm %d, %g, %be, %mm, %mv {epsilon = 1.0e-3 : f64, momentum = 0.99 : f64} : (tensor<?x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
    %r = dl.relu %y : (tensor<?x3xf32>) -> tensor<?x3xf32>
    %drop = dl.dropout %r {rate = 0.5 : f64, seed_offset = 0 : i64} : (tensor<?x3xf32>) -> tensor<?x3xf32>
    %fg = dl.param @fbn.gamma : tensor<3xf32>
    %fbe = dl.param @fbn.beta : tensor<3xf32>
    %fmm = dl.param @fbn.moving_mean : tensor<3xf32>
    %fmv = dl.param @fbn.moving_variance : tensor<3xf32>
    %z = dl.batchnorm %drop, %fg, %fbe, %fmm, %fmv {epsilon = 1.0e-3 : f64, momentum = 0.9 : f64} : (tensor<?x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
    return %z : tensor<?x3xf32>
  }
  func.func @net_loss(%x: tensor<?x4xf32>, %label: tensor<?xi32>) -> tensor<f32> attributes {dl.input_names = ["x", "label"], dl.loss, dl.target_inputs = array<i64: -1>} {
    %0 = call @net(%x) : (tensor<?x4xf32>) -> tensor<?x3xf32>
    %1 = dl.sparse_categorical_crossentropy %0, %label {from_logits = true} : (tensor<?x3xf32>, tensor<?xi32>) -> tensor<f32>
    return %1 : tensor<f32>
  }
}
