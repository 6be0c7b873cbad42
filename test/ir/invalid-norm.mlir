// RUN: dlc-opt %s -split-input-file -verify-diagnostics
// Shape-rule and parameter errors of dense, the normalizations and dropout.

func.func @dense_kernel(%x: tensor<?x784xf32>, %k: tensor<784x64xf32>, %b: tensor<128xf32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{'dl.dense' op parameter 'kernel' (operand #1) must be 'tensor<784x128xf32>', got 'tensor<784x64xf32>'}}
  %0 = dl.dense %x, %k, %b {units = 128 : i64} : (tensor<?x784xf32>, tensor<784x64xf32>, tensor<128xf32>) -> tensor<?x128xf32>
  return %0 : tensor<?x128xf32>
}

// -----

func.func @dense_units(%x: tensor<?x784xf32>, %k: tensor<784x128xf32>) -> tensor<?x128xf32> {
  // expected-error @+1 {{'dl.dense' op expects units >= 1, got 0}}
  %0 = dl.dense %x, %k {units = 0 : i64} : (tensor<?x784xf32>, tensor<784x128xf32>) -> tensor<?x128xf32>
  return %0 : tensor<?x128xf32>
}

// -----

func.func @batchnorm_operands(%x: tensor<?x8x32xf32>, %g: tensor<32xf32>, %b: tensor<32xf32>, %m: tensor<32xf32>) -> tensor<?x8x32xf32> {
  // expected-error @+1 {{'dl.batchnorm' op expected 5 operands, but found 4}}
  %0 = dl.batchnorm %x, %g, %b, %m {momentum = 0.99 : f64, epsilon = 1.0e-3 : f64} : (tensor<?x8x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<?x8x32xf32>
  return %0 : tensor<?x8x32xf32>
}

// -----

func.func @batchnorm_variance(%x: tensor<?x8x32xf32>, %g: tensor<32xf32>, %b: tensor<32xf32>, %m: tensor<32xf32>, %v: tensor<8xf32>) -> tensor<?x8x32xf32> {
  // expected-error @+1 {{'dl.batchnorm' op parameter 'moving_variance' (operand #4) must be 'tensor<32xf32>', got 'tensor<8xf32>'}}
  %0 = dl.batchnorm %x, %g, %b, %m, %v {momentum = 0.99 : f64, epsilon = 1.0e-3 : f64} : (tensor<?x8x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<8xf32>) -> tensor<?x8x32xf32>
  return %0 : tensor<?x8x32xf32>
}

// -----

func.func @layernorm_epsilon(%x: tensor<?x8x32xf32>, %g: tensor<32xf32>, %b: tensor<32xf32>) -> tensor<?x8x32xf32> {
  // expected-error @+1 {{'dl.layernorm' op expects epsilon > 0, got 0}}
  %0 = dl.layernorm %x, %g, %b {epsilon = 0.0 : f64} : (tensor<?x8x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<?x8x32xf32>
  return %0 : tensor<?x8x32xf32>
}

// -----

func.func @dropout_rate(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'dl.dropout' op expects rate in [0, 1), got 1}}
  %0 = dl.dropout %x {rate = 1.0 : f64, seed_offset = 0 : i64} : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

func.func @dropout_stream(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'dl.dropout' op requires attribute 'seed_offset'}}
  %0 = dl.dropout %x {rate = 0.5 : f64} : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}
