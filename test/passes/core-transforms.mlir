// RUN: dlc-opt %s -cse | FileCheck %s --check-prefix=CSE
// RUN: dlc-opt %s -canonicalize | FileCheck %s --check-prefix=CANON
// The effects the dl ops declare, as MLIR's core transforms see them: catalog
// ops and dl.param are Pure (merged by CSE, erased when unused); dl.dropout
// reads the random stream (two with different streams are never merged).

dl.parameter @w : tensor<4x4xf32> {init = "glorot_uniform", fan_in = 4 : i64, fan_out = 4 : i64, trainable = true}

// CSE-LABEL: func.func @merge
// CSE-NEXT: %[[W:.*]] = dl.param @w
// CSE-NEXT: %[[D:.*]] = dl.dense %arg0, %[[W]] {units = 4 : i64}
// CSE-NEXT: %[[A:.*]] = dl.dropout %[[D]] {rate = 5.000000e-01 : f64, seed_offset = 0 : i64}
// CSE-NEXT: %[[B:.*]] = dl.dropout %[[D]] {rate = 5.000000e-01 : f64, seed_offset = 1 : i64}
// CSE-NEXT: %[[S:.*]] = dl.add %[[A]], %[[B]]
// CSE-NEXT: %[[T:.*]] = dl.add %[[S]], %[[D]]
// CSE-NEXT: return %[[T]]
// CANON-LABEL: func.func @merge
// CANON-NOT: dl.relu
// CANON: return
func.func @merge(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %w1 = dl.param @w : tensor<4x4xf32>
  %w2 = dl.param @w : tensor<4x4xf32>
  %d1 = dl.dense %x, %w1 {units = 4 : i64} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
  %d2 = dl.dense %x, %w2 {units = 4 : i64} : (tensor<?x4xf32>, tensor<4x4xf32>) -> tensor<?x4xf32>
  %a = dl.dropout %d1 {rate = 0.5 : f64, seed_offset = 0 : i64} : (tensor<?x4xf32>) -> tensor<?x4xf32>
  %b = dl.dropout %d2 {rate = 0.5 : f64, seed_offset = 1 : i64} : (tensor<?x4xf32>) -> tensor<?x4xf32>
  %unused = dl.relu %d1 : (tensor<?x4xf32>) -> tensor<?x4xf32>
  %s = dl.add %a, %b : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %t = dl.add %s, %d2 : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  return %t : tensor<?x4xf32>
}
