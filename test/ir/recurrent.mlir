// RUN: dlc-opt %s | dlc-opt | FileCheck %s
// Round trip of embedding and the recurrent layers: embedding, lstm, gru.

// CHECK-LABEL: func.func @sequence
func.func @sequence(%ids: tensor<?x20xi32>, %e: tensor<1000x64xf32>, %k: tensor<64x128xf32>, %r: tensor<32x128xf32>, %b: tensor<128xf32>, %gk: tensor<64x48xf32>, %gr: tensor<16x48xf32>, %gb: tensor<2x48xf32>) -> (tensor<?x20x32xf32>, tensor<?x16xf32>, tensor<?x32xf32>) {
  // i32 ids in, float rows out.
  // CHECK: %[[E:.*]] = dl.embedding %arg0, %arg1 {input_dim = 1000 : i64, output_dim = 64 : i64} : (tensor<?x20xi32>, tensor<1000x64xf32>) -> tensor<?x20x64xf32>
  %0 = dl.embedding %ids, %e {input_dim = 1000 : i64, output_dim = 64 : i64} : (tensor<?x20xi32>, tensor<1000x64xf32>) -> tensor<?x20x64xf32>
  // CHECK: dl.lstm %[[E]], %arg2, %arg3, %arg4 {return_sequences = true, units = 32 : i64} : (tensor<?x20x64xf32>, tensor<64x128xf32>, tensor<32x128xf32>, tensor<128xf32>) -> tensor<?x20x32xf32>
  %1 = dl.lstm %0, %k, %r, %b {units = 32 : i64, return_sequences = true} : (tensor<?x20x64xf32>, tensor<64x128xf32>, tensor<32x128xf32>, tensor<128xf32>) -> tensor<?x20x32xf32>
  // return_sequences = false is the default, and elided.
  // CHECK: dl.gru %[[E]], %arg5, %arg6, %arg7 {units = 16 : i64} : (tensor<?x20x64xf32>, tensor<64x48xf32>, tensor<16x48xf32>, tensor<2x48xf32>) -> tensor<?x16xf32>
  %2 = dl.gru %0, %gk, %gr, %gb {units = 16 : i64, return_sequences = false} : (tensor<?x20x64xf32>, tensor<64x48xf32>, tensor<16x48xf32>, tensor<2x48xf32>) -> tensor<?x16xf32>
  // An lstm without bias.
  // CHECK: dl.lstm %[[E]], %arg2, %arg3 {units = 32 : i64} : (tensor<?x20x64xf32>, tensor<64x128xf32>, tensor<32x128xf32>) -> tensor<?x32xf32>
  %3 = dl.lstm %0, %k, %r {units = 32 : i64} : (tensor<?x20x64xf32>, tensor<64x128xf32>, tensor<32x128xf32>) -> tensor<?x32xf32>
  return %1, %2, %3 : tensor<?x20x32xf32>, tensor<?x16xf32>, tensor<?x32xf32>
}
