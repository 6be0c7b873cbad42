// RUN: dlc-opt %s -split-input-file -verify-diagnostics
// Shape-rule and parameter errors of the convolutions.

func.func @rank(%x: tensor<?x28x28xf32>, %k: tensor<3x3x1x32xf32>) -> tensor<?x28x28x32xf32> {
  // expected-error @+2 {{'dl.conv2d' op expects an input of rank 3 [H, W, C], got f32[28, 28]}}
  // expected-note @+1 {{declare the input as f32[28, 28, 1] or add reshape([28, 28, 1]) before it}}
  %0 = dl.conv2d %x, %k {filters = 32 : i64, kernel_size = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>} : (tensor<?x28x28xf32>, tensor<3x3x1x32xf32>) -> tensor<?x28x28x32xf32>
  return %0 : tensor<?x28x28x32xf32>
}

// -----

func.func @result_shape(%x: tensor<?x28x28x1xf32>, %k: tensor<3x3x1x32xf32>) -> tensor<?x28x28x32xf32> {
  // Valid padding: 28 - 3 + 1 = 26.
  // expected-error @+2 {{'dl.conv2d' op inferred type(s) 'tensor<?x26x26x32xf32>' are incompatible with return type(s) of operation 'tensor<?x28x28x32xf32>'}}
  // expected-error @+1 {{'dl.conv2d' op failed to infer returned types}}
  %0 = dl.conv2d %x, %k {filters = 32 : i64, kernel_size = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x32xf32>) -> tensor<?x28x28x32xf32>
  return %0 : tensor<?x28x28x32xf32>
}

// -----

func.func @bias_shape(%x: tensor<?x28x28x1xf32>, %k: tensor<3x3x1x32xf32>, %b: tensor<16xf32>) -> tensor<?x28x28x32xf32> {
  // expected-error @+1 {{'dl.conv2d' op parameter 'bias' (operand #2) must be 'tensor<32xf32>', got 'tensor<16xf32>'}}
  %0 = dl.conv2d %x, %k, %b {filters = 32 : i64, kernel_size = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x32xf32>, tensor<16xf32>) -> tensor<?x28x28x32xf32>
  return %0 : tensor<?x28x28x32xf32>
}

// -----

func.func @param_element_type(%x: tensor<?x28x28x1xf32>, %k: tensor<3x3x1x32xf64>) -> tensor<?x28x28x32xf32> {
  // expected-error @+1 {{'dl.conv2d' op parameter 'kernel' (operand #1) must be 'tensor<3x3x1x32xf32>', got 'tensor<3x3x1x32xf64>'}}
  %0 = dl.conv2d %x, %k {filters = 32 : i64, kernel_size = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x32xf64>) -> tensor<?x28x28x32xf32>
  return %0 : tensor<?x28x28x32xf32>
}

// -----

func.func @kernel_size_length(%x: tensor<?x28x28x1xf32>, %k: tensor<3x3x1x32xf32>) -> tensor<?x28x28x32xf32> {
  // expected-error @+1 {{'dl.conv2d' op expects 'kernel_size' to be a list of 2 integers, got [3]}}
  %0 = dl.conv2d %x, %k {filters = 32 : i64, kernel_size = array<i64: 3>, strides = array<i64: 1, 1>, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x32xf32>) -> tensor<?x28x28x32xf32>
  return %0 : tensor<?x28x28x32xf32>
}

// -----

func.func @missing_attribute(%x: tensor<?x28x28x1xf32>, %k: tensor<3x3x1x32xf32>) -> tensor<?x28x28x32xf32> {
  // expected-error @+1 {{'dl.conv2d' op requires attribute 'filters'}}
  %0 = dl.conv2d %x, %k {kernel_size = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x32xf32>) -> tensor<?x28x28x32xf32>
  return %0 : tensor<?x28x28x32xf32>
}

// -----

func.func @groups(%x: tensor<?x100x8xf32>, %k: tensor<3x8x16xf32>) -> tensor<?x100x16xf32> {
  // expected-error @+1 {{'dl.conv1d' op expects groups 3 to divide the input channels 8 of f32[100, 8]}}
  %0 = dl.conv1d %x, %k {filters = 16 : i64, groups = 3 : i64, kernel_size = array<i64: 3>, strides = array<i64: 1>, dilation = array<i64: 1>, pad = array<i64: 1, 1>} : (tensor<?x100x8xf32>, tensor<3x8x16xf32>) -> tensor<?x100x16xf32>
  return %0 : tensor<?x100x16xf32>
}

// -----

func.func @kernel_too_large(%x: tensor<?x2x2x1xf32>, %k: tensor<3x3x1x4xf32>) -> tensor<?x1x1x4xf32> {
  // expected-error @+2 {{'dl.conv2d' op kernel 3x3 is larger than the padded input 2x2}}
  // expected-note @+1 {{use padding=same or a smaller kernel}}
  %0 = dl.conv2d %x, %k {filters = 4 : i64, kernel_size = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>} : (tensor<?x2x2x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x1x1x4xf32>
  return %0 : tensor<?x1x1x4xf32>
}

// -----

func.func @transpose_kernel_layout(%x: tensor<?x7x7x64xf32>, %k: tensor<3x3x64x32xf32>) -> tensor<?x14x14x32xf32> {
  // The transposed kernel is [kh, kw, filters, C].
  // expected-error @+1 {{'dl.conv2d_transpose' op parameter 'kernel' (operand #1) must be 'tensor<3x3x32x64xf32>', got 'tensor<3x3x64x32xf32>'}}
  %0 = dl.conv2d_transpose %x, %k {filters = 32 : i64, kernel_size = array<i64: 3, 3>, strides = array<i64: 2, 2>, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, output_padding = array<i64: 1, 1>} : (tensor<?x7x7x64xf32>, tensor<3x3x64x32xf32>) -> tensor<?x14x14x32xf32>
  return %0 : tensor<?x14x14x32xf32>
}

// -----

func.func @pointwise_kernel(%x: tensor<?x16x16x8xf32>, %dk: tensor<3x3x8x1xf32>, %pk: tensor<1x1x4x32xf32>) -> tensor<?x14x14x32xf32> {
  // expected-error @+1 {{'dl.separable_conv2d' op parameter 'pointwise_kernel' (operand #2) must be 'tensor<1x1x8x32xf32>', got 'tensor<1x1x4x32xf32>'}}
  %0 = dl.separable_conv2d %x, %dk, %pk {filters = 32 : i64, kernel_size = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>} : (tensor<?x16x16x8xf32>, tensor<3x3x8x1xf32>, tensor<1x1x4x32xf32>) -> tensor<?x14x14x32xf32>
  return %0 : tensor<?x14x14x32xf32>
}

// -----

func.func @depth_multiplier(%x: tensor<?x16x16x8xf32>, %dk: tensor<3x3x8x1xf32>) -> tensor<?x16x16x8xf32> {
  // expected-error @+1 {{'dl.depthwise_conv2d' op expects depth_multiplier >= 1, got 0}}
  %0 = dl.depthwise_conv2d %x, %dk {depth_multiplier = 0 : i64, kernel_size = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>} : (tensor<?x16x16x8xf32>, tensor<3x3x8x1xf32>) -> tensor<?x16x16x8xf32>
  return %0 : tensor<?x16x16x8xf32>
}
