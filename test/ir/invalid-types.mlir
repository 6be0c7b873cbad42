// RUN: dlc-opt %s -split-input-file -verify-diagnostics
// Errors common to every op (operand types, operand counts) and errors of
// the dialect attributes dl.model, dl.loss, dl.input_names, dl.train.

func.func @static_batch(%x: tensor<4x10xf32>) -> tensor<?x10xf32> {
  // expected-error @+1 {{'dl.relu' op operand #0 must have a dynamic leading batch dimension, got 'tensor<4x10xf32>'}}
  %0 = dl.relu %x : (tensor<4x10xf32>) -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

func.func @dynamic_inner(%x: tensor<?x?xf32>) -> tensor<?x?xf32> {
  // expected-error @+1 {{'dl.relu' op operand #0 must be static except for the batch dimension, got 'tensor<?x?xf32>'}}
  %0 = dl.relu %x : (tensor<?x?xf32>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

func.func @element_type(%x: tensor<?x10xf16>) -> tensor<?x10xf16> {
  // expected-error @+1 {{'dl.relu' op operand #0 must have element type f32, f64 or i32, got 'tensor<?x10xf16>'}}
  %0 = dl.relu %x : (tensor<?x10xf16>) -> tensor<?x10xf16>
  return %0 : tensor<?x10xf16>
}

// -----

func.func @two_biases(%x: tensor<?x784xf32>, %k: tensor<784x10xf32>, %b: tensor<10xf32>, %c: tensor<10xf32>) -> tensor<?x10xf32> {
  // expected-error @+1 {{'dl.dense' op operand group starting at #2 requires 0 or 1 element, but found 2}}
  %0 = dl.dense %x, %k, %b, %c {units = 10 : i64} : (tensor<?x784xf32>, tensor<784x10xf32>, tensor<10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

func.func @dynamic_param(%x: tensor<?x784xf32>, %k: tensor<?x10xf32>) -> tensor<?x10xf32> {
  // expected-error @+1 {{'dl.dense' op operand #1 must be statically shaped tensor of any type values, but got 'tensor<?x10xf32>'}}
  %0 = dl.dense %x, %k {units = 10 : i64} : (tensor<?x784xf32>, tensor<?x10xf32>) -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

// expected-error @+1 {{'dl.model' must be a unit attribute}}
func.func @model_not_unit(%x: tensor<?x10xf32>) -> tensor<?x10xf32> attributes {dl.model = 1 : i64} {
  return %x : tensor<?x10xf32>
}

// -----

// expected-error @+1 {{'dl.input_names' has 2 names for 1 arguments}}
func.func @input_names_count(%x: tensor<?x10xf32>) -> tensor<?x10xf32> attributes {dl.input_names = ["a", "b"]} {
  return %x : tensor<?x10xf32>
}

// -----

// expected-error @+1 {{'dl.input_names' must be an array of strings}}
func.func @input_names_type(%x: tensor<?x10xf32>) -> tensor<?x10xf32> attributes {dl.input_names = [1]} {
  return %x : tensor<?x10xf32>
}

// -----

// expected-error @+1 {{'dl.train' must be on a module}}
func.func @train_on_function(%x: tensor<?x10xf32>) -> tensor<?x10xf32> attributes {dl.train = {}} {
  return %x : tensor<?x10xf32>
}

// -----

// expected-error @+1 {{'dl.train' must be a dictionary}}
module attributes {dl.train = [1]} {}

// -----

// expected-error @+1 {{'dl.loss' must be on a function}}
module attributes {dl.loss} {}
