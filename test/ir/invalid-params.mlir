// RUN: dlc-opt %s -split-input-file -verify-diagnostics
// Errors of the parameter ops: symbols, types, attributes.

func.func @unknown_symbol() -> tensor<3xf32> {
  // expected-error @+1 {{'dl.param' op refers to an unknown parameter @missing}}
  %0 = dl.param @missing : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @g() { return }
func.func @not_a_parameter() -> tensor<3xf32> {
  // expected-error @+1 {{'dl.param' op @g is not a 'dl.parameter'}}
  %0 = dl.param @g : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

dl.parameter @w : tensor<4xf32> {init = "zeros", fan_in = 4 : i64, fan_out = 4 : i64, trainable = true}
func.func @type_mismatch() -> tensor<3xf32> {
  // expected-error @+1 {{'dl.param' op has type 'tensor<3xf32>' but parameter @w has type 'tensor<4xf32>'}}
  %0 = dl.param @w : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// expected-error @+1 {{'dl.parameter' op attribute 'type' failed to satisfy constraint: type attribute of statically shaped tensor of any type values}}
dl.parameter @w : tensor<?xf32> {init = "zeros", fan_in = 4 : i64, fan_out = 4 : i64, trainable = true}

// -----

// expected-error @+1 {{'dl.parameter' op fan_in and fan_out must not be negative}}
dl.parameter @w : tensor<4xf32> {init = "zeros", fan_in = -1 : i64, fan_out = 4 : i64, trainable = true}

// -----

// expected-error @+1 {{'dl.parameter' op needs an initializer name}}
dl.parameter @w : tensor<4xf32> {init = "", fan_in = 4 : i64, fan_out = 4 : i64, trainable = true}

// -----

// expected-note @+1 {{see existing symbol definition here}}
dl.parameter @w : tensor<4xf32> {init = "zeros", fan_in = 4 : i64, fan_out = 4 : i64, trainable = true}
// expected-error @+1 {{redefinition of symbol named 'w'}}
dl.parameter @w : tensor<4xf32> {init = "zeros", fan_in = 4 : i64, fan_out = 4 : i64, trainable = true}

// -----

func.func @dynamic_read() -> tensor<?xf32> {
  // expected-error @+1 {{'dl.param' op result #0 must be statically shaped tensor of any type values, but got 'tensor<?xf32>'}}
  %0 = dl.param @w : tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// expected-error @+1 {{'dl.parameter' op requires attribute 'trainable'}}
dl.parameter @w : tensor<4xf32> {init = "zeros", fan_in = 4 : i64, fan_out = 4 : i64}
