// RUN: dlc-opt %s -split-input-file -verify-diagnostics
// Shape-rule errors of the losses.

func.func @mse_target(%p: tensor<?x10xf32>, %t: tensor<?x9xf32>) -> tensor<f32> {
  // expected-error @+1 {{'dl.mse' op expects a target like the prediction f32[10], got f32[9]}}
  %0 = dl.mse %p, %t : (tensor<?x10xf32>, tensor<?x9xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @mae_result(%p: tensor<?x10xf32>, %t: tensor<?x10xf32>) -> tensor<?xf32> {
  // expected-error @+2 {{'dl.mae' op inferred type(s) 'tensor<f32>' are incompatible with return type(s) of operation 'tensor<?xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dl.mae %p, %t : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

func.func @sparse_target(%p: tensor<?x10xf32>, %t: tensor<?xf32>) -> tensor<f32> {
  // expected-error @+1 {{'dl.sparse_categorical_crossentropy' op expects a target i32[] of class ids for the prediction f32[10], got f32[]}}
  %0 = dl.sparse_categorical_crossentropy %p, %t : (tensor<?x10xf32>, tensor<?xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @categorical_target(%p: tensor<?x10xf32>, %t: tensor<?x10xi32>) -> tensor<f32> {
  // expected-error @+1 {{'dl.categorical_crossentropy' op expects a target like the prediction f32[10], got i32[10]}}
  %0 = dl.categorical_crossentropy %p, %t : (tensor<?x10xf32>, tensor<?x10xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @from_logits_type(%p: tensor<?x1xf32>, %t: tensor<?x1xf32>) -> tensor<f32> {
  // expected-error @+1 {{'dl.binary_crossentropy' op attribute 'from_logits' failed to satisfy constraint: bool attribute}}
  %0 = dl.binary_crossentropy %p, %t {from_logits = 1 : i64} : (tensor<?x1xf32>, tensor<?x1xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @weights_count(%a: tensor<f32>, %b: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'dl.weighted_sum' op expects one weight per loss: 2 losses, got 1 weights}}
  %0 = dl.weighted_sum %a, %b {weights = array<f64: 1.0>} : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @weights_scalars(%a: tensor<f32>, %b: tensor<?x10xf32>) -> tensor<f32> {
  // expected-error @+1 {{'dl.weighted_sum' op expects scalar losses, got a per-example f32[10]}}
  %0 = dl.weighted_sum %a, %b {weights = array<f64: 1.0, 2.0>} : (tensor<f32>, tensor<?x10xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @weights_finite(%a: tensor<f32>, %b: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'dl.weighted_sum' op expects finite weights, got inf}}
  %0 = dl.weighted_sum %a, %b {weights = array<f64: 1.0, 0x7FF0000000000000>} : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}
