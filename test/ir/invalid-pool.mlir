// RUN: dlc-opt %s -split-input-file -verify-diagnostics
// Shape-rule errors of pooling, padding and upsampling.

func.func @rank(%x: tensor<?x28x28xf32>) -> tensor<?x14x14xf32> {
  // expected-error @+2 {{'dl.maxpool2d' op expects an input of rank 3 [H, W, C], got f32[28, 28]}}
  // expected-note @+1 {{declare the input as f32[28, 28, 1] or add reshape([28, 28, 1]) before it}}
  %0 = dl.maxpool2d %x {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : (tensor<?x28x28xf32>) -> tensor<?x14x14xf32>
  return %0 : tensor<?x14x14xf32>
}

// -----

func.func @pool_size(%x: tensor<?x28x28x3xf32>) -> tensor<?x14x14x3xf32> {
  // expected-error @+1 {{'dl.avgpool2d' op expects pool_size >= 1, got [2, 0]}}
  %0 = dl.avgpool2d %x {pool_size = array<i64: 2, 0>, strides = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : (tensor<?x28x28x3xf32>) -> tensor<?x14x14x3xf32>
  return %0 : tensor<?x14x14x3xf32>
}

// -----

func.func @global_result(%x: tensor<?x7x7x64xf32>) -> tensor<?x7x64xf32> {
  // expected-error @+2 {{'dl.global_avgpool2d' op inferred type(s) 'tensor<?x64xf32>' are incompatible with return type(s) of operation 'tensor<?x7x64xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = dl.global_avgpool2d %x : (tensor<?x7x7x64xf32>) -> tensor<?x7x64xf32>
  return %0 : tensor<?x7x64xf32>
}

// -----

func.func @global_rank(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  // expected-error @+2 {{'dl.global_maxpool2d' op expects an input of rank 3 [H, W, C], got f32[64]}}
  // expected-note @+1 {{add reshape([H, W, C]) before it}}
  %0 = dl.global_maxpool2d %x : (tensor<?x64xf32>) -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

func.func @pad_length(%x: tensor<?x28x28x1xf32>) -> tensor<?x32x32x1xf32> {
  // expected-error @+1 {{'dl.zero_padding2d' op expects 'pad' to be a list of 4 integers, got [2, 2]}}
  %0 = dl.zero_padding2d %x {pad = array<i64: 2, 2>} : (tensor<?x28x28x1xf32>) -> tensor<?x32x32x1xf32>
  return %0 : tensor<?x32x32x1xf32>
}

// -----

func.func @upsampling_size(%x: tensor<?x7x7x1xf32>) -> tensor<?x14x14x1xf32> {
  // expected-error @+1 {{'dl.upsampling2d' op expects size >= 1, got [0, 2]}}
  %0 = dl.upsampling2d %x {size = array<i64: 0, 2>} : (tensor<?x7x7x1xf32>) -> tensor<?x14x14x1xf32>
  return %0 : tensor<?x14x14x1xf32>
}
