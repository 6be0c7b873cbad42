// RUN: dlc-opt %s -dl-recompute | FileCheck %s
// RUN: dlc-opt %s -dl-recompute 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARKS
// RUN: dlc-opt %s -dl-recompute=all | FileCheck %s --check-prefix=ALL
// RUN: dlc compile %spec_examples/fashion_cnn.dl --emit=ir-opt --max-batch 256 --keep-activations --memory-budget 50000000 | FileCheck %s --check-prefix=CNN
// RUN: dlc compile %spec_examples/fashion_cnn.dl --emit=ir-opt --max-batch 256 | FileCheck %s --check-prefix=CNN
//
// -dl-recompute: in the training functions, a forward op marked
// `dl.recompute` is cloned right before the first backward op that reads
// one of its results, and the backward reads the clone from there on, so
// the forward result dies after its forward users. With `all`, every
// candidate (an op whose recomputation saves bytes: its inputs are alive
// in the backward anyway) is recomputed.

// The conv output %z is read by the batchnorm gradient: the conv runs again
// right before it, from the model input. The dropout output is read by the
// second conv's weight gradient: the dropout (same seed offset, so the same
// mask) runs again before it.
// CHECK-LABEL: func.func @train(
// CHECK: %[[Z:.*]] = dl.conv2d %arg0, %[[K:[0-9]+]] {dilation
// CHECK-NOT: dl.recompute
// CHECK: %[[Y:.*]], %[[M:.*]], %[[V:.*]] = dl.batchnorm_relu_train %[[Z]],
// CHECK: %[[D:.*]] = dl.dropout %[[Y]] {rate
// CHECK: %[[O:.*]] = dl.conv2d %[[D]], %[[K2:[0-9]+]]
// CHECK-NEXT: %[[D2:.*]] = dl.dropout %[[Y]] {rate = 5.000000e-01 : f64, seed_offset = 0 : i64}
// CHECK-NEXT: %[[DD:.*]], %{{.*}} = dl.conv2d_grad %[[D2]], %[[K2]], %[[O]], %arg1
// CHECK-NEXT: %[[DY:.*]] = dl.dropout_grad %[[Y]], %[[D2]], %[[DD]]
// CHECK-NEXT: %[[Z2:.*]] = dl.conv2d %arg0, %[[K]] {dilation
// CHECK-NEXT: %[[DZ:.*]], %{{.*}}, %{{.*}} = dl.batchnorm_relu_train_grad %[[Z2]], %{{.*}}, %{{.*}}, %[[M]], %[[V]], %[[DY]]
// CHECK-NEXT: dl.conv2d_grad %arg0, %[[K]], %[[Z2]], %[[DZ]]

// Unmarked ops are left alone.
// CHECK-LABEL: func.func @train_all(
// CHECK-COUNT-2: dl.conv2d %
// CHECK-NOT: dl.conv2d %
// CHECK: return

// ALL-LABEL: func.func @train_all(
// ALL: %[[Z:.*]] = dl.conv2d %arg0
// ALL: dl.batchnorm_relu_train %[[Z]]
// ALL: dl.dropout
// The dropout would keep its input alive instead of its output: no saving.
// ALL-NOT: dl.dropout %
// ALL: %[[Z2:.*]] = dl.conv2d %arg0
// ALL-NEXT: dl.batchnorm_relu_train_grad %[[Z2]]

// Marked ops that are not recomputed keep their place, without the mark.
// CHECK-LABEL: func.func @not_needed(
// CHECK-COUNT-1: dl.conv2d %
// CHECK-NOT: dl.conv2d %
// CHECK-NOT: dl.recompute
// CHECK-LABEL: func.func @predict(
// CHECK-NOT: dl.recompute
// CHECK: return

// REMARKS-DAG: remark: recompute: recomputed before dl.conv2d_grad; its result dies after the forward
// REMARKS-DAG: remark: recompute: recomputed before dl.batchnorm_relu_train_grad; its result dies after the forward
// REMARKS-DAG: remark: recompute: not recomputed: the function returns its result
// REMARKS-DAG: remark: recompute: not recomputed: the backward does not read it
// REMARKS-DAG: remark: recompute: not recomputed: not in a training function

// The spec's fashion_cnn at batch 256, by default (the first conv costs 9
// multiply-adds per output: cheap) or with --keep-activations under a 50 MB
// budget (60 MB without): the first conv runs again from the image before
// the first batchnorm's gradient in both training functions.
// CNN-LABEL: func.func @fashion_cnn_grad(
// CNN: dl.batchnorm_relu_maxpool_train_grad
// CNN: %[[C:.*]] = dl.conv2d %arg0
// CNN-NEXT: dl.batchnorm_relu_maxpool_train_grad %[[C]]
// CNN-LABEL: func.func @fashion_cnn_train_step(
// CNN: dl.batchnorm_relu_maxpool_train_grad
// CNN: %[[C:.*]] = dl.conv2d %arg0
// CNN-NEXT: dl.batchnorm_relu_maxpool_train_grad %[[C]]

// A batchnorm+relu is recomputed as dl.batchnorm_relu_apply from its kept
// input and the statistics it returned (one pass, no statistics again).
// CHECK-LABEL: func.func @apply(
// CHECK: %[[Z:.*]] = dl.conv2d %arg0
// CHECK-NEXT: %[[Y:.*]], %[[M:.*]], %[[V:.*]] = dl.batchnorm_relu_train %[[Z]], %[[G:[0-9]+]], %[[B:[0-9]+]] {epsilon
// CHECK-NEXT: %[[O:.*]] = dl.conv2d %[[Y]]
// CHECK-NEXT: %[[A:.*]] = dl.batchnorm_relu_apply %[[Z]], %[[G]], %[[B]], %[[M]], %[[V]] {epsilon = 1.000000e-03 : f64}
// CHECK-NEXT: %[[DA:.*]], %{{.*}} = dl.conv2d_grad %[[A]],
// CHECK-NEXT: dl.batchnorm_relu_train_grad %[[Z]], %[[G]], %[[B]], %[[M]], %[[V]], %[[DA]]
// REMARKS-DAG: remark: recompute: recomputed before dl.conv2d_grad from its input and saved statistics (one pass); its output dies after the forward

dl.parameter @k : tensor<3x3x1x4xf32> {fan_in = 9 : i64, fan_out = 36 : i64, init = "glorot_uniform", trainable = true}
dl.parameter @k2 : tensor<1x1x4x2xf32> {fan_in = 4 : i64, fan_out = 2 : i64, init = "glorot_uniform", trainable = true}
dl.parameter @g : tensor<4xf32> {fan_in = 4 : i64, fan_out = 4 : i64, init = "ones", trainable = true}
dl.parameter @b : tensor<4xf32> {fan_in = 4 : i64, fan_out = 4 : i64, init = "zeros", trainable = true}
func.func @train(%x: tensor<?x6x6x1xf32>, %do: tensor<?x6x6x2xf32>) -> (tensor<?x6x6x2xf32>, tensor<3x3x1x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1x1x4x2xf32>) attributes {dl.gradients} {
  %k = dl.param @k : tensor<3x3x1x4xf32>
  %k2 = dl.param @k2 : tensor<1x1x4x2xf32>
  %g = dl.param @g : tensor<4xf32>
  %b = dl.param @b : tensor<4xf32>
  %z = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, dl.recompute, filters = 4 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x6x6x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x6x6x4xf32>
  %y, %m, %v = dl.batchnorm_relu_train %z, %g, %b {epsilon = 1.000000e-03 : f64} : (tensor<?x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<?x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>)
  %d = dl.dropout %y {dl.recompute, rate = 5.000000e-01 : f64, seed_offset = 0 : i64} : (tensor<?x6x6x4xf32>) -> tensor<?x6x6x4xf32>
  %o = dl.conv2d %d, %k2 {dilation = array<i64: 1, 1>, filters = 2 : i64, kernel_size = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<?x6x6x4xf32>, tensor<1x1x4x2xf32>) -> tensor<?x6x6x2xf32>
  %dd, %dk2 = dl.conv2d_grad %d, %k2, %o, %do {dilation = array<i64: 1, 1>, filters = 2 : i64, kernel_size = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<?x6x6x4xf32>, tensor<1x1x4x2xf32>, tensor<?x6x6x2xf32>, tensor<?x6x6x2xf32>) -> (tensor<?x6x6x4xf32>, tensor<1x1x4x2xf32>)
  %dy = dl.dropout_grad %y, %d, %dd {rate = 5.000000e-01 : f64, seed_offset = 0 : i64} : (tensor<?x6x6x4xf32>, tensor<?x6x6x4xf32>, tensor<?x6x6x4xf32>) -> tensor<?x6x6x4xf32>
  %dz, %dg, %db = dl.batchnorm_relu_train_grad %z, %g, %b, %m, %v, %dy {epsilon = 1.000000e-03 : f64} : (tensor<?x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<?x6x6x4xf32>) -> (tensor<?x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>)
  %dx, %dk = dl.conv2d_grad %x, %k, %z, %dz {dilation = array<i64: 1, 1>, filters = 4 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x6x6x1xf32>, tensor<3x3x1x4xf32>, tensor<?x6x6x4xf32>, tensor<?x6x6x4xf32>) -> (tensor<?x6x6x1xf32>, tensor<3x3x1x4xf32>)
  return %o, %dk, %dg, %db, %dk2 : tensor<?x6x6x2xf32>, tensor<3x3x1x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1x1x4x2xf32>
}

func.func @train_all(%x: tensor<?x6x6x1xf32>, %do: tensor<?x6x6x2xf32>) -> (tensor<?x6x6x2xf32>, tensor<3x3x1x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1x1x4x2xf32>) attributes {dl.gradients} {
  %k = dl.param @k : tensor<3x3x1x4xf32>
  %k2 = dl.param @k2 : tensor<1x1x4x2xf32>
  %g = dl.param @g : tensor<4xf32>
  %b = dl.param @b : tensor<4xf32>
  %z = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, filters = 4 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x6x6x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x6x6x4xf32>
  %y, %m, %v = dl.batchnorm_relu_train %z, %g, %b {epsilon = 1.000000e-03 : f64} : (tensor<?x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<?x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>)
  %d = dl.dropout %y {rate = 5.000000e-01 : f64, seed_offset = 0 : i64} : (tensor<?x6x6x4xf32>) -> tensor<?x6x6x4xf32>
  %o = dl.conv2d %d, %k2 {dilation = array<i64: 1, 1>, filters = 2 : i64, kernel_size = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<?x6x6x4xf32>, tensor<1x1x4x2xf32>) -> tensor<?x6x6x2xf32>
  %dd, %dk2 = dl.conv2d_grad %d, %k2, %o, %do {dilation = array<i64: 1, 1>, filters = 2 : i64, kernel_size = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<?x6x6x4xf32>, tensor<1x1x4x2xf32>, tensor<?x6x6x2xf32>, tensor<?x6x6x2xf32>) -> (tensor<?x6x6x4xf32>, tensor<1x1x4x2xf32>)
  %dy = dl.dropout_grad %y, %d, %dd {rate = 5.000000e-01 : f64, seed_offset = 0 : i64} : (tensor<?x6x6x4xf32>, tensor<?x6x6x4xf32>, tensor<?x6x6x4xf32>) -> tensor<?x6x6x4xf32>
  %dz, %dg, %db = dl.batchnorm_relu_train_grad %z, %g, %b, %m, %v, %dy {epsilon = 1.000000e-03 : f64} : (tensor<?x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<?x6x6x4xf32>) -> (tensor<?x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>)
  %dx, %dk = dl.conv2d_grad %x, %k, %z, %dz {dilation = array<i64: 1, 1>, filters = 4 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x6x6x1xf32>, tensor<3x3x1x4xf32>, tensor<?x6x6x4xf32>, tensor<?x6x6x4xf32>) -> (tensor<?x6x6x1xf32>, tensor<3x3x1x4xf32>)
  return %o, %dk, %dg, %db, %dk2 : tensor<?x6x6x2xf32>, tensor<3x3x1x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1x1x4x2xf32>
}

func.func @not_needed(%x: tensor<?x6x6x1xf32>, %do: tensor<?x6x6x4xf32>) -> (tensor<?x6x6x4xf32>, tensor<3x3x1x4xf32>) attributes {dl.train_step} {
  %k = dl.param @k : tensor<3x3x1x4xf32>
  %z = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, dl.recompute, filters = 4 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x6x6x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x6x6x4xf32>
  %r = dl.relu %z {dl.recompute} : (tensor<?x6x6x4xf32>) -> tensor<?x6x6x4xf32>
  %dr = dl.relu_grad %z, %r, %do : (tensor<?x6x6x4xf32>, tensor<?x6x6x4xf32>, tensor<?x6x6x4xf32>) -> tensor<?x6x6x4xf32>
  %dx, %dk = dl.conv2d_grad %x, %k, %z, %dr {dilation = array<i64: 1, 1>, filters = 4 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x6x6x1xf32>, tensor<3x3x1x4xf32>, tensor<?x6x6x4xf32>, tensor<?x6x6x4xf32>) -> (tensor<?x6x6x1xf32>, tensor<3x3x1x4xf32>)
  return %r, %dk : tensor<?x6x6x4xf32>, tensor<3x3x1x4xf32>
}

func.func @predict(%x: tensor<?x6x6x1xf32>) -> tensor<?x6x6x4xf32> attributes {dl.model} {
  %k = dl.param @k : tensor<3x3x1x4xf32>
  %z = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, dl.recompute, filters = 4 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x6x6x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x6x6x4xf32>
  return %z : tensor<?x6x6x4xf32>
}

func.func @apply(%x: tensor<?x6x6x1xf32>, %do: tensor<?x6x6x2xf32>) -> (tensor<?x6x6x2xf32>, tensor<3x3x1x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1x1x4x2xf32>) attributes {dl.gradients} {
  %k = dl.param @k : tensor<3x3x1x4xf32>
  %k2 = dl.param @k2 : tensor<1x1x4x2xf32>
  %g = dl.param @g : tensor<4xf32>
  %b = dl.param @b : tensor<4xf32>
  %z = dl.conv2d %x, %k {dilation = array<i64: 1, 1>, filters = 4 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x6x6x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x6x6x4xf32>
  %y, %m, %v = dl.batchnorm_relu_train %z, %g, %b {dl.recompute, epsilon = 1.000000e-03 : f64} : (tensor<?x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<?x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>)
  %o = dl.conv2d %y, %k2 {dilation = array<i64: 1, 1>, filters = 2 : i64, kernel_size = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<?x6x6x4xf32>, tensor<1x1x4x2xf32>) -> tensor<?x6x6x2xf32>
  %dy, %dk2 = dl.conv2d_grad %y, %k2, %o, %do {dilation = array<i64: 1, 1>, filters = 2 : i64, kernel_size = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<?x6x6x4xf32>, tensor<1x1x4x2xf32>, tensor<?x6x6x2xf32>, tensor<?x6x6x2xf32>) -> (tensor<?x6x6x4xf32>, tensor<1x1x4x2xf32>)
  %dz, %dg, %db = dl.batchnorm_relu_train_grad %z, %g, %b, %m, %v, %dy {epsilon = 1.000000e-03 : f64} : (tensor<?x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<?x6x6x4xf32>) -> (tensor<?x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>)
  %dx, %dk = dl.conv2d_grad %x, %k, %z, %dz {dilation = array<i64: 1, 1>, filters = 4 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x6x6x1xf32>, tensor<3x3x1x4xf32>, tensor<?x6x6x4xf32>, tensor<?x6x6x4xf32>) -> (tensor<?x6x6x1xf32>, tensor<3x3x1x4xf32>)
  return %o, %dk, %dg, %db, %dk2 : tensor<?x6x6x2xf32>, tensor<3x3x1x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1x1x4x2xf32>
}
