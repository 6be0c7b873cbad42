// RUN: dlc-opt %s | dlc-opt | FileCheck %s
// Round trip of the losses: mse, mae, binary_crossentropy,
// categorical_crossentropy, sparse_categorical_crossentropy, weighted_sum.

// CHECK-LABEL: func.func @losses
func.func @losses(%p: tensor<?x10xf32>, %t: tensor<?x10xf32>, %labels: tensor<?xi32>, %p1: tensor<?x1xf32>, %t1: tensor<?x1xf32>) -> tensor<f32> {
  // CHECK: %[[A:.*]] = dl.mse %arg0, %arg1 : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<f32>
  %0 = dl.mse %p, %t : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<f32>
  // CHECK: %[[B:.*]] = dl.mae %arg0, %arg1 : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<f32>
  %1 = dl.mae %p, %t : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<f32>
  // CHECK: %[[C:.*]] = dl.binary_crossentropy %arg3, %arg4 {from_logits = true} : (tensor<?x1xf32>, tensor<?x1xf32>) -> tensor<f32>
  %2 = dl.binary_crossentropy %p1, %t1 {from_logits = true} : (tensor<?x1xf32>, tensor<?x1xf32>) -> tensor<f32>
  // from_logits = false is the default, and elided.
  // CHECK: %[[D:.*]] = dl.categorical_crossentropy %arg0, %arg1 : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<f32>
  %3 = dl.categorical_crossentropy %p, %t {from_logits = false} : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<f32>
  // CHECK: %[[E:.*]] = dl.sparse_categorical_crossentropy %arg0, %arg2 {from_logits = true} : (tensor<?x10xf32>, tensor<?xi32>) -> tensor<f32>
  %4 = dl.sparse_categorical_crossentropy %p, %labels {from_logits = true} : (tensor<?x10xf32>, tensor<?xi32>) -> tensor<f32>
  // CHECK: dl.weighted_sum %[[A]], %[[B]], %[[C]], %[[D]], %[[E]] {weights = array<f64: 1.000000e+00, 5.000000e-01, 2.000000e+00, 1.000000e+00, 2.500000e-01>} : (tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<f32>
  %5 = dl.weighted_sum %0, %1, %2, %3, %4 {weights = array<f64: 1.0, 0.5, 2.0, 1.0, 0.25>} : (tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<f32>
  return %5 : tensor<f32>
}
