// RUN: dlc-opt %s -split-input-file -verify-diagnostics
// Shape-rule errors of the activations.

func.func @integer_input(%x: tensor<?x10xi32>) -> tensor<?x10xi32> {
  // expected-error @+2 {{'dl.relu' op expects a float input (f32 or f64), got i32[10]}}
  // expected-note @+1 {{integer tensors are only embedding ids and sparse_categorical_crossentropy targets}}
  %0 = dl.relu %x : (tensor<?x10xi32>) -> tensor<?x10xi32>
  return %0 : tensor<?x10xi32>
}

// -----

func.func @result_element_type(%x: tensor<?x10xf32>) -> tensor<?x10xf32> {
  // expected-error @+2 {{'dl.sigmoid' op inferred type(s) 'tensor<?x10xf32>' are incompatible with return type(s) of operation 'tensor<?x10xf64>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dl.sigmoid %x : (tensor<?x10xf32>) -> tensor<?x10xf64>
  return %x : tensor<?x10xf32>
}

// -----

func.func @softmax_axis(%x: tensor<?x10xf32>) -> tensor<?x10xf32> {
  // The axis is per-example: f32[10] has only axis 0 (or -1).
  // expected-error @+1 {{'dl.softmax' op expects axis in [-1, 0] for f32[10], got 1}}
  %0 = dl.softmax %x {axis = 1 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

func.func @leaky_relu_alpha(%x: tensor<?x10xf32>) -> tensor<?x10xf32> {
  // expected-error @+1 {{'dl.leaky_relu' op expects alpha >= 0, got -1}}
  %0 = dl.leaky_relu %x {alpha = -1.0 : f64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

func.func @elu_alpha_type(%x: tensor<?x10xf32>) -> tensor<?x10xf32> {
  // expected-error @+1 {{'dl.elu' op attribute 'alpha' failed to satisfy constraint: 64-bit float attribute}}
  %0 = dl.elu %x {alpha = 1 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

func.func @tanh_scalar(%x: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'dl.tanh' op expects a per-example tensor, got the scalar loss}}
  %0 = dl.tanh %x : (tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @abs_operand_count(%x: tensor<?x10xf32>) -> tensor<?x10xf32> {
  // expected-error @+1 {{'dl.abs' op requires a single operand}}
  %0 = dl.abs %x, %x : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}
