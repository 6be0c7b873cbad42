// RUN: dlc-opt %s | dlc-opt | FileCheck %s
// Round trip of dense, the normalizations and dropout: dense, batchnorm,
// layernorm, dropout.

// CHECK-LABEL: func.func @dense
func.func @dense(%x: tensor<?x784xf32>, %k: tensor<784x128xf32>, %b: tensor<128xf32>, %s: tensor<?x10x64xf64>, %k2: tensor<64x32xf64>) -> (tensor<?x128xf32>, tensor<?x10x32xf64>) {
  // CHECK: dl.dense %arg0, %arg1, %arg2 {units = 128 : i64} : (tensor<?x784xf32>, tensor<784x128xf32>, tensor<128xf32>) -> tensor<?x128xf32>
  %0 = dl.dense %x, %k, %b {units = 128 : i64} : (tensor<?x784xf32>, tensor<784x128xf32>, tensor<128xf32>) -> tensor<?x128xf32>
  // Applied to the last axis of [T, D], in f64, without bias.
  // CHECK: dl.dense %arg3, %arg4 {units = 32 : i64} : (tensor<?x10x64xf64>, tensor<64x32xf64>) -> tensor<?x10x32xf64>
  %1 = dl.dense %s, %k2 {units = 32 : i64} : (tensor<?x10x64xf64>, tensor<64x32xf64>) -> tensor<?x10x32xf64>
  return %0, %1 : tensor<?x128xf32>, tensor<?x10x32xf64>
}

// CHECK-LABEL: func.func @norms
func.func @norms(%x: tensor<?x28x28x32xf32>, %g: tensor<32xf32>, %b: tensor<32xf32>, %m: tensor<32xf32>, %v: tensor<32xf32>, %s: tensor<?x10x64xf32>, %lg: tensor<64xf32>, %lb: tensor<64xf32>) -> (tensor<?x28x28x32xf32>, tensor<?x10x64xf32>) {
  // CHECK: dl.batchnorm %arg0, %arg1, %arg2, %arg3, %arg4 {epsilon = 1.000000e-03 : f64, momentum = 0.98999999999999999 : f64} : (tensor<?x28x28x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<?x28x28x32xf32>
  %0 = dl.batchnorm %x, %g, %b, %m, %v {momentum = 0.99 : f64, epsilon = 1.0e-3 : f64} : (tensor<?x28x28x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<?x28x28x32xf32>
  // CHECK: dl.layernorm %arg5, %arg6, %arg7 {epsilon = 1.000000e-03 : f64} : (tensor<?x10x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<?x10x64xf32>
  %1 = dl.layernorm %s, %lg, %lb {epsilon = 1.0e-3 : f64} : (tensor<?x10x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<?x10x64xf32>
  return %0, %1 : tensor<?x28x28x32xf32>, tensor<?x10x64xf32>
}

// CHECK-LABEL: func.func @dropout
func.func @dropout(%x: tensor<?x128xf32>) -> (tensor<?x128xf32>, tensor<?x128xf32>) {
  // CHECK: dl.dropout %arg0 {rate = 5.000000e-01 : f64, seed_offset = 0 : i64} : (tensor<?x128xf32>) -> tensor<?x128xf32>
  %0 = dl.dropout %x {rate = 0.5 : f64, seed_offset = 0 : i64} : (tensor<?x128xf32>) -> tensor<?x128xf32>
  // CHECK: dl.dropout %arg0 {rate = 2.500000e-01 : f64, seed_offset = 1 : i64} : (tensor<?x128xf32>) -> tensor<?x128xf32>
  %1 = dl.dropout %x {rate = 0.25 : f64, seed_offset = 1 : i64} : (tensor<?x128xf32>) -> tensor<?x128xf32>
  return %0, %1 : tensor<?x128xf32>, tensor<?x128xf32>
}
