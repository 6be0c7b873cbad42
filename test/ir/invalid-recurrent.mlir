// RUN: dlc-opt %s -split-input-file -verify-diagnostics
// Shape-rule and parameter errors of embedding and the recurrent layers.

func.func @embedding_ids(%ids: tensor<?x20xf32>, %e: tensor<1000x64xf32>) -> tensor<?x20x64xf32> {
  // expected-error @+2 {{'dl.embedding' op expects i32 ids, got f32[20]}}
  // expected-note @+1 {{embedding maps integer ids to vectors: declare the input as i32[20]}}
  %0 = dl.embedding %ids, %e {input_dim = 1000 : i64, output_dim = 64 : i64} : (tensor<?x20xf32>, tensor<1000x64xf32>) -> tensor<?x20x64xf32>
  return %0 : tensor<?x20x64xf32>
}

// -----

func.func @embedding_table_type(%ids: tensor<?x20xi32>, %e: tensor<1000x64xi32>) -> tensor<?x20x64xf32> {
  // The table has the element type of the result, not of the ids.
  // expected-error @+1 {{'dl.embedding' op parameter 'embeddings' (operand #1) must be 'tensor<1000x64xf32>', got 'tensor<1000x64xi32>'}}
  %0 = dl.embedding %ids, %e {input_dim = 1000 : i64, output_dim = 64 : i64} : (tensor<?x20xi32>, tensor<1000x64xi32>) -> tensor<?x20x64xf32>
  return %0 : tensor<?x20x64xf32>
}

// -----

func.func @lstm_rank(%x: tensor<?x64xf32>, %k: tensor<64x128xf32>, %r: tensor<32x128xf32>, %b: tensor<128xf32>) -> tensor<?x32xf32> {
  // expected-error @+2 {{'dl.lstm' op expects an input of rank 2 [T, D], got f32[64]}}
  // expected-note @+1 {{declare the input as f32[64, 1] or add reshape([64, 1]) before it}}
  %0 = dl.lstm %x, %k, %r, %b {units = 32 : i64} : (tensor<?x64xf32>, tensor<64x128xf32>, tensor<32x128xf32>, tensor<128xf32>) -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

func.func @gru_bias(%x: tensor<?x20x64xf32>, %k: tensor<64x48xf32>, %r: tensor<16x48xf32>, %b: tensor<48xf32>) -> tensor<?x16xf32> {
  // Keras's reset_after GRU has two bias rows.
  // expected-error @+1 {{'dl.gru' op parameter 'bias' (operand #3) must be 'tensor<2x48xf32>', got 'tensor<48xf32>'}}
  %0 = dl.gru %x, %k, %r, %b {units = 16 : i64} : (tensor<?x20x64xf32>, tensor<64x48xf32>, tensor<16x48xf32>, tensor<48xf32>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}

// -----

func.func @lstm_sequences(%x: tensor<?x20x64xf32>, %k: tensor<64x128xf32>, %r: tensor<32x128xf32>, %b: tensor<128xf32>) -> tensor<?x32xf32> {
  // expected-error @+2 {{'dl.lstm' op inferred type(s) 'tensor<?x20x32xf32>' are incompatible with return type(s) of operation 'tensor<?x32xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dl.lstm %x, %k, %r, %b {units = 32 : i64, return_sequences = true} : (tensor<?x20x64xf32>, tensor<64x128xf32>, tensor<32x128xf32>, tensor<128xf32>) -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}
