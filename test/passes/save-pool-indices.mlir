// RUN: dlc-opt %s -dl-save-pool-indices | FileCheck %s
// RUN: dlc-opt %s -dl-save-pool-indices 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARKS
// RUN: dlc compile %spec_examples/multitask.dl --emit=ir-opt | FileCheck %s --check-prefix=CNN
// RUN: dlc compile %spec_examples/multitask.dl --emit=ir-opt --no-fusion | FileCheck %s --check-prefix=UNFUSED
// RUN: dlc compile %spec_examples/multitask.dl --emit=plan | FileCheck %s --check-prefix=PLAN
//
// -dl-save-pool-indices: in the training functions, a dl.maxpool2d whose
// gradients are dl.maxpool2d_grad of the same input and attributes saves
// its arg-max indices (i32, the output's shape), and the gradients scatter
// dy by them without reading the pooled input. Inference functions are
// left alone. Every dl.maxpool2d of a training function gets a remark.

// CHECK-LABEL: func.func @train
// CHECK-NOT: dl.maxpool2d %
// CHECK: %[[P:.*]], %[[IDX:.*]] = dl.maxpool2d_indices %arg0 {pad = array<i64: 0, 1, 0, 1>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x5x5x3xf32>) -> (tensor<?x3x3x3xf32>, tensor<?x3x3x3xi32>)
// CHECK-NEXT: %[[R:.*]] = dl.relu %[[P]]
// CHECK-NEXT: %[[D:.*]] = dl.relu_grad %[[P]], %[[R]], %arg1
// CHECK-NEXT: %[[DX:.*]] = dl.maxpool2d_grad_indices %[[IDX]], %[[D]] {pad = array<i64: 0, 1, 0, 1>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x3x3x3xi32>, tensor<?x3x3x3xf32>) -> tensor<?x5x5x3xf32>
// CHECK-NOT: dl.maxpool2d_grad %
// CHECK: return %[[R]], %[[DX]]
func.func @train(%x: tensor<?x5x5x3xf32>, %dy: tensor<?x3x3x3xf32>) -> (tensor<?x3x3x3xf32>, tensor<?x5x5x3xf32>) attributes {dl.gradients} {
  %p = dl.maxpool2d %x {pad = array<i64: 0, 1, 0, 1>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x5x5x3xf32>) -> tensor<?x3x3x3xf32>
  %r = dl.relu %p : (tensor<?x3x3x3xf32>) -> tensor<?x3x3x3xf32>
  %d = dl.relu_grad %p, %r, %dy : (tensor<?x3x3x3xf32>, tensor<?x3x3x3xf32>, tensor<?x3x3x3xf32>) -> tensor<?x3x3x3xf32>
  %dx = dl.maxpool2d_grad %x, %p, %d {pad = array<i64: 0, 1, 0, 1>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x5x5x3xf32>, tensor<?x3x3x3xf32>, tensor<?x3x3x3xf32>) -> tensor<?x5x5x3xf32>
  return %r, %dx : tensor<?x3x3x3xf32>, tensor<?x5x5x3xf32>
}

// A train step whose pool gets no gradient (nothing trainable before it)
// keeps dl.maxpool2d.
// CHECK-LABEL: func.func @no_gradient
// CHECK: dl.maxpool2d %arg0
// CHECK-NOT: dl.maxpool2d_indices
func.func @no_gradient(%x: tensor<?x4x4x2xf32>) -> tensor<?x2x2x2xf32> attributes {dl.train_step} {
  %p = dl.maxpool2d %x {pad = array<i64: 0, 0, 0, 0>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x4x4x2xf32>) -> tensor<?x2x2x2xf32>
  return %p : tensor<?x2x2x2xf32>
}

// Inference functions are not rewritten (no remark either).
// CHECK-LABEL: func.func @predict
// CHECK: dl.maxpool2d %arg0
func.func @predict(%x: tensor<?x4x4x2xf32>) -> tensor<?x2x2x2xf32> attributes {dl.model} {
  %p = dl.maxpool2d %x {pad = array<i64: 0, 0, 0, 0>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x4x4x2xf32>) -> tensor<?x2x2x2xf32>
  return %p : tensor<?x2x2x2xf32>
}

// REMARKS: remark: fused: maxpool2d saves its indices; the backward reads them instead of the input
// REMARKS: remark: not fused: no gradient flows through it: nothing to save
// REMARKS-NOT: remark

// In the spec's multitask (pools after a plain relu; fashion_cnn's fuse into
// dl.batchnorm_relu_maxpool_train) both pools of the training functions
// save indices, the backward reads them; eval and predict keep
// dl.maxpool2d.
// CNN-LABEL: func.func @multitask_eval
// CNN: dl.maxpool2d %
// CNN-LABEL: func.func @multitask_grad
// CNN: dl.maxpool2d_indices
// CNN: dl.maxpool2d_indices
// CNN-NOT: dl.maxpool2d_grad %
// CNN: dl.maxpool2d_grad_indices
// CNN: dl.maxpool2d_grad_indices
// CNN-LABEL: func.func @multitask_train_step
// CNN: dl.maxpool2d_indices
// UNFUSED-NOT: dl.maxpool2d_indices

// The plan: the indices are i32 of the pooled shape; the backward reads
// them.
// PLAN: function multitask_train_step
// PLAN: i32[{{[0-9]+}}, 14, 14, 32]
// PLAN: maxpool2d_indices
// PLAN: maxpool2d_grad_indices
