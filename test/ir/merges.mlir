// RUN: dlc-opt %s | dlc-opt | FileCheck %s
// Round trip of the merges and reshapes: add, subtract, multiply, concat,
// reshape.

// CHECK-LABEL: func.func @merges
func.func @merges(%a: tensor<?x10xf32>, %b: tensor<?x10xf32>) -> tensor<?x10xf32> {
  // CHECK-NEXT: %[[S:.*]] = dl.add %arg0, %arg1 : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?x10xf32>
  %0 = dl.add %a, %b : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?x10xf32>
  // CHECK-NEXT: %[[D:.*]] = dl.subtract %[[S]], %arg1 : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?x10xf32>
  %1 = dl.subtract %0, %b : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?x10xf32>
  // CHECK-NEXT: %[[P:.*]] = dl.multiply %[[D]], %arg0 : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?x10xf32>
  %2 = dl.multiply %1, %a : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?x10xf32>
  return %2 : tensor<?x10xf32>
}

// CHECK-LABEL: func.func @concat
func.func @concat(%a: tensor<?x8x8x16xf32>, %b: tensor<?x8x8x32xf32>, %c: tensor<?x4x8x16xf32>) -> (tensor<?x8x8x48xf32>, tensor<?x12x8x16xf32>, tensor<?x8x8x16xf32>) {
  // CHECK: dl.concat %arg0, %arg1 : (tensor<?x8x8x16xf32>, tensor<?x8x8x32xf32>) -> tensor<?x8x8x48xf32>
  %0 = dl.concat %a, %b {axis = -1 : i64} : (tensor<?x8x8x16xf32>, tensor<?x8x8x32xf32>) -> tensor<?x8x8x48xf32>
  // CHECK: dl.concat %arg0, %arg2 {axis = 0 : i64} : (tensor<?x8x8x16xf32>, tensor<?x4x8x16xf32>) -> tensor<?x12x8x16xf32>
  %1 = dl.concat %a, %c {axis = 0 : i64} : (tensor<?x8x8x16xf32>, tensor<?x4x8x16xf32>) -> tensor<?x12x8x16xf32>
  // One input is allowed.
  // CHECK: dl.concat %arg0 : (tensor<?x8x8x16xf32>) -> tensor<?x8x8x16xf32>
  %2 = dl.concat %a : (tensor<?x8x8x16xf32>) -> tensor<?x8x8x16xf32>
  return %0, %1, %2 : tensor<?x8x8x48xf32>, tensor<?x12x8x16xf32>, tensor<?x8x8x16xf32>
}

// CHECK-LABEL: func.func @reshape
func.func @reshape(%x: tensor<?x28x28x1xf32>) -> tensor<?x7x112xf32> {
  // CHECK-NEXT: %[[F:.*]] = dl.reshape %arg0 {shape = array<i64: 784>} : (tensor<?x28x28x1xf32>) -> tensor<?x784xf32>
  %0 = dl.reshape %x {shape = array<i64: 784>} : (tensor<?x28x28x1xf32>) -> tensor<?x784xf32>
  // CHECK-NEXT: dl.reshape %[[F]] {shape = array<i64: 7, 112>} : (tensor<?x784xf32>) -> tensor<?x7x112xf32>
  %1 = dl.reshape %0 {shape = array<i64: 7, 112>} : (tensor<?x784xf32>) -> tensor<?x7x112xf32>
  return %1 : tensor<?x7x112xf32>
}
