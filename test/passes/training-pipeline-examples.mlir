// Every spec example through -dl-training-pipeline: the module ends with
// @M (inference, no dropout), @M_eval (inference: no dropout, no
// batchnorm_train, no updates), @M_grad (no updates) and @M_train_step
// (updates, returning loss and outputs), @M_loss is gone, and the result
// parses and verifies again.
// RUN: dlc compile --emit=ir %spec_examples/denoise_ae.dl > %t.denoise_ae.mlir
// RUN: dlc-opt -dl-training-pipeline %t.denoise_ae.mlir > %t.denoise_ae.out.mlir
// RUN: dlc-opt %t.denoise_ae.out.mlir | FileCheck %s --check-prefix=ALL
// RUN: dlc compile --emit=ir %spec_examples/fashion_cnn.dl > %t.fashion_cnn.mlir
// RUN: dlc-opt -dl-training-pipeline %t.fashion_cnn.mlir > %t.fashion_cnn.out.mlir
// RUN: dlc-opt %t.fashion_cnn.out.mlir | FileCheck %s --check-prefix=ALL
// RUN: dlc compile --emit=ir %spec_examples/fashion_lstm.dl > %t.fashion_lstm.mlir
// RUN: dlc-opt -dl-training-pipeline %t.fashion_lstm.mlir > %t.fashion_lstm.out.mlir
// RUN: dlc-opt %t.fashion_lstm.out.mlir | FileCheck %s --check-prefix=ALL
// RUN: dlc compile --emit=ir %spec_examples/fashion_mlp.dl > %t.fashion_mlp.mlir
// RUN: dlc-opt -dl-training-pipeline %t.fashion_mlp.mlir > %t.fashion_mlp.out.mlir
// RUN: dlc-opt %t.fashion_mlp.out.mlir | FileCheck %s --check-prefix=ALL
// RUN: dlc compile --emit=ir %spec_examples/mobilenet_tiny.dl > %t.mobilenet_tiny.mlir
// RUN: dlc-opt -dl-training-pipeline %t.mobilenet_tiny.mlir > %t.mobilenet_tiny.out.mlir
// RUN: dlc-opt %t.mobilenet_tiny.out.mlir | FileCheck %s --check-prefix=ALL
// RUN: dlc compile --emit=ir %spec_examples/multitask.dl > %t.multitask.mlir
// RUN: dlc-opt -dl-training-pipeline %t.multitask.mlir > %t.multitask.out.mlir
// RUN: dlc-opt %t.multitask.out.mlir | FileCheck %s --check-prefix=ALL
// RUN: dlc compile --emit=ir %spec_examples/resnet_mini.dl > %t.resnet_mini.mlir
// RUN: dlc-opt -dl-training-pipeline %t.resnet_mini.mlir > %t.resnet_mini.out.mlir
// RUN: dlc-opt %t.resnet_mini.out.mlir | FileCheck %s --check-prefix=ALL
// RUN: dlc compile --emit=ir %spec_examples/siamese.dl > %t.siamese.mlir
// RUN: dlc-opt -dl-training-pipeline %t.siamese.mlir > %t.siamese.out.mlir
// RUN: dlc-opt %t.siamese.out.mlir | FileCheck %s --check-prefix=ALL
// RUN: FileCheck %s --check-prefix=CNN < %t.fashion_cnn.out.mlir
// RUN: FileCheck %s --check-prefix=MOBILE < %t.mobilenet_tiny.out.mlir
// RUN: FileCheck %s --check-prefix=MULTI < %t.multitask.out.mlir
// RUN: FileCheck %s --check-prefix=SIAMESE < %t.siamese.out.mlir

// ALL-NOT: _loss(
// ALL: func.func @[[M:[a-z_]+]](%arg0{{.*}} attributes {{{.*}}dl.model}
// ALL-NOT: dl.dropout
// ALL: func.func @[[M]]_eval({{.*}} attributes {dl.eval, dl.input_names = {{.*}}, dl.target_inputs = {{.*}}}
// ALL-NOT: dl.dropout
// ALL-NOT: dl.batchnorm_train
// ALL-NOT: _update
// ALL: func.func @[[M]]_grad({{.*}} attributes {dl.grad_params = [{{.*}}], dl.gradients, dl.input_names = {{.*}}, dl.target_inputs = {{.*}}}
// ALL-NOT: _update
// ALL: func.func @[[M]]_train_step({{.*}} attributes {dl.input_names = {{.*}}, dl.target_inputs = {{.*}}, dl.train_step}
// ALL: _update
// ALL: return
// ALL-NOT: func.func

// fashion_cnn: adam, two batchnorms (four moving averages), one dropout
// kept in the training functions only. -dl-schedule-updates runs each
// batchnorm's moving averages right after it, in the forward, and each
// adam update right after its gradient.
// CNN-COUNT-2: dl.parameter @batchnorm{{(_1)?}}.gamma.adam_m
// CNN-LABEL: func.func @fashion_cnn_grad(
// CNN: dl.dropout {{.*}}seed_offset
// CNN-LABEL: func.func @fashion_cnn_train_step(
// CNN: dl.batchnorm_relu_maxpool_train
// CNN-NEXT: dl.moving_average_update
// CNN-NEXT: dl.moving_average_update
// CNN: dl.batchnorm_relu_maxpool_train
// CNN-NEXT: dl.moving_average_update
// CNN-NEXT: dl.moving_average_update
// CNN: dl.dropout {{.*}}seed_offset
// CNN-NOT: dl.clip_norm
// CNN: %{{.*}}, %[[DK:.*]], %[[DB:.*]] = dl.dense_grad
// CNN-COUNT-2: dl.param
// CNN-NEXT: dl.adam_update %{{.*}}, %[[DK]],
// CNN-NOT: dl.moving_average_update
// CNN: dl.batchnorm_relu_maxpool_train_grad
// CNN: dl.conv2d_grad
// CNN: dl.batchnorm_relu_maxpool_train_grad
// CNN: dl.conv2d_grad
// CNN-COUNT-2: dl.param
// CNN-NEXT: dl.adam_update
// CNN-NEXT: return

// mobilenet_tiny: rmsprop without momentum: one slot <param>.rms each.
// MOBILE-NOT: rms_momentum
// MOBILE: dl.parameter @{{.*}}.rms : {{.*}}dl.optimizer_state
// MOBILE-NOT: rms_momentum
// MOBILE-LABEL: func.func @mobilenet_tiny_train_step(
// MOBILE: dl.rmsprop_update %{{[0-9]+}}, %{{[a-z_0-9]+}}, %{{[0-9]+}} {epsilon

// multitask: two outputs, returned in model order by every function.
// MULTI: func.func @multitask_eval({{.*}} -> (tensor<f32>, tensor<?x10xf32>, tensor<?x28x28x1xf32>)
// MULTI: %[[SUM:.*]] = dl.weighted_sum %[[L1:[0-9]+]], %[[L2:[0-9]+]]
// MULTI: return %[[SUM]], %{{.*}}, %{{.*}} : tensor<f32>, tensor<?x10xf32>, tensor<?x28x28x1xf32>
// MULTI: func.func @multitask_train_step({{.*}} -> (tensor<f32>, tensor<?x10xf32>, tensor<?x28x28x1xf32>)

// siamese: the shared encoder's weights get one update each.
// SIAMESE-LABEL: func.func @siamese_train_step(
// SIAMESE-COUNT-1: dl.adam_update %{{.*}} : tensor<3x3x1x
// SIAMESE-NOT: dl.adam_update %{{.*}} : tensor<3x3x1x
