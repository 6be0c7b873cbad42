// RUN: dlc-opt %s -split-input-file -verify-diagnostics
// Shape-rule errors of the merges and reshapes.

func.func @add_shapes(%x: tensor<?x10xf32>, %y: tensor<?x11xf32>) -> tensor<?x10xf32> {
  // expected-error @+1 {{'dl.add' op expects inputs of the same shape, got f32[10] and f32[11]}}
  %0 = dl.add %x, %y : (tensor<?x10xf32>, tensor<?x11xf32>) -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

func.func @multiply_element_types(%x: tensor<?x10xf32>, %y: tensor<?x10xf64>) -> tensor<?x10xf32> {
  // expected-error @+1 {{'dl.multiply' op expects inputs of the same element type, got f32[10] and f64[10]}}
  %0 = dl.multiply %x, %y : (tensor<?x10xf32>, tensor<?x10xf64>) -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

func.func @subtract_result(%x: tensor<?x8x16xf32>) -> tensor<?x8x16xf32> {
  // expected-error @+2 {{'dl.subtract' op inferred type(s) 'tensor<?x8x16xf32>' are incompatible with return type(s) of operation 'tensor<?x8x8xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dl.subtract %x, %x : (tensor<?x8x16xf32>, tensor<?x8x16xf32>) -> tensor<?x8x8xf32>
  return %x : tensor<?x8x16xf32>
}

// -----

func.func @concat_shapes(%x: tensor<?x8x16xf32>, %y: tensor<?x4x16xf32>) -> tensor<?x8x32xf32> {
  // expected-error @+2 {{'dl.concat' op expects inputs that differ only on axis 2, got f32[8, 16] and f32[4, 16]}}
  // expected-note @+1 {{concat joins tensors along one axis; the others must match}}
  %0 = dl.concat %x, %y : (tensor<?x8x16xf32>, tensor<?x4x16xf32>) -> tensor<?x8x32xf32>
  return %0 : tensor<?x8x32xf32>
}

// -----

func.func @concat_nothing() -> tensor<?x8x32xf32> {
  // expected-error @+1 {{'dl.concat' op expects at least 1 input, got 0}}
  %0 = dl.concat : () -> tensor<?x8x32xf32>
  return %0 : tensor<?x8x32xf32>
}

// -----

func.func @reshape_count(%x: tensor<?x28x28xf32>) -> tensor<?x785xf32> {
  // expected-error @+2 {{'dl.reshape' op expects a shape of 784 elements like the input f32[28, 28]}}
  // expected-note @+1 {{the element count must not change}}
  %0 = dl.reshape %x {shape = array<i64: 785>} : (tensor<?x28x28xf32>) -> tensor<?x785xf32>
  return %0 : tensor<?x785xf32>
}
