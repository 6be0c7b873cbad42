// RUN: dlc-opt %s | dlc-opt | FileCheck %s
// Round trip of the activations: relu, sigmoid, tanh, abs, leaky_relu, elu,
// softmax.

// CHECK-LABEL: func.func @activations
func.func @activations(%x: tensor<?x4x10xf32>) -> tensor<?x4x10xf32> {
  // CHECK-NEXT: %[[A:.*]] = dl.relu %arg0 : (tensor<?x4x10xf32>) -> tensor<?x4x10xf32>
  %0 = dl.relu %x : (tensor<?x4x10xf32>) -> tensor<?x4x10xf32>
  // CHECK-NEXT: %[[B:.*]] = dl.sigmoid %[[A]] : (tensor<?x4x10xf32>) -> tensor<?x4x10xf32>
  %1 = dl.sigmoid %0 : (tensor<?x4x10xf32>) -> tensor<?x4x10xf32>
  // CHECK-NEXT: %[[C:.*]] = dl.tanh %[[B]] : (tensor<?x4x10xf32>) -> tensor<?x4x10xf32>
  %2 = dl.tanh %1 : (tensor<?x4x10xf32>) -> tensor<?x4x10xf32>
  // CHECK-NEXT: %[[D:.*]] = dl.abs %[[C]] : (tensor<?x4x10xf32>) -> tensor<?x4x10xf32>
  %3 = dl.abs %2 : (tensor<?x4x10xf32>) -> tensor<?x4x10xf32>
  // CHECK-NEXT: %[[E:.*]] = dl.leaky_relu %[[D]] {alpha = 3.000000e-01 : f64} : (tensor<?x4x10xf32>) -> tensor<?x4x10xf32>
  %4 = dl.leaky_relu %3 {alpha = 0.3 : f64} : (tensor<?x4x10xf32>) -> tensor<?x4x10xf32>
  // CHECK-NEXT: %[[F:.*]] = dl.elu %[[E]] {alpha = 1.000000e+00 : f64} : (tensor<?x4x10xf32>) -> tensor<?x4x10xf32>
  %5 = dl.elu %4 {alpha = 1.0 : f64} : (tensor<?x4x10xf32>) -> tensor<?x4x10xf32>
  // CHECK-NEXT: %[[G:.*]] = dl.softmax %[[F]] {axis = 0 : i64} : (tensor<?x4x10xf32>) -> tensor<?x4x10xf32>
  %6 = dl.softmax %5 {axis = 0 : i64} : (tensor<?x4x10xf32>) -> tensor<?x4x10xf32>
  // The default axis, -1, is elided.
  // CHECK-NEXT: %[[H:.*]] = dl.softmax %[[G]] : (tensor<?x4x10xf32>) -> tensor<?x4x10xf32>
  %7 = dl.softmax %6 {axis = -1 : i64} : (tensor<?x4x10xf32>) -> tensor<?x4x10xf32>
  // CHECK-NEXT: return %[[H]]
  return %7 : tensor<?x4x10xf32>
}
