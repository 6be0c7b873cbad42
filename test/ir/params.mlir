// RUN: dlc-opt %s | dlc-opt | FileCheck %s
// Round trip of parameters (dl.parameter, dl.param) and of a whole module as
// the IR builder emits it: the model, its loss function, the train settings.

// CHECK: module attributes {dl.train = {batch_size = 64 : i64, epochs = 10 : i64, loss = {from_logits = true, kind = "sparse_categorical_crossentropy"}, metrics = ["accuracy"], shuffle = true, validation = 1.000000e-01 : f64}}
module attributes {dl.train = {batch_size = 64 : i64, epochs = 10 : i64, loss = {kind = "sparse_categorical_crossentropy", from_logits = true}, metrics = ["accuracy"], shuffle = true, validation = 0.1 : f64}} {
  // CHECK-NEXT: dl.parameter @dense.kernel : tensor<784x10xf32> {fan_in = 784 : i64, fan_out = 10 : i64, init = "glorot_uniform", trainable = true}
  dl.parameter @dense.kernel : tensor<784x10xf32> {init = "glorot_uniform", fan_in = 784 : i64, fan_out = 10 : i64, trainable = true}
  // CHECK-NEXT: dl.parameter @dense.bias : tensor<10xf32> {fan_in = 10 : i64, fan_out = 10 : i64, init = "zeros", trainable = false}
  dl.parameter @dense.bias : tensor<10xf32> {init = "zeros", fan_in = 10 : i64, fan_out = 10 : i64, trainable = false}
  // Names that are not bare identifiers are quoted.
  // CHECK-NEXT: dl.parameter @"1st.scale" : tensor<f32> {fan_in = 0 : i64, fan_out = 0 : i64, init = "ones", trainable = true}
  dl.parameter @"1st.scale" : tensor<f32> {init = "ones", fan_in = 0 : i64, fan_out = 0 : i64, trainable = true}

  // CHECK-LABEL: func.func @mlp(%arg0: tensor<?x784xf32>) -> tensor<?x10xf32> attributes {dl.input_names = ["image"], dl.model} {
  func.func @mlp(%image: tensor<?x784xf32>) -> tensor<?x10xf32> attributes {dl.model, dl.input_names = ["image"]} {
    // CHECK-NEXT: %[[K:.*]] = dl.param @dense.kernel : tensor<784x10xf32>
    %k = dl.param @dense.kernel : tensor<784x10xf32>
    // CHECK-NEXT: %[[B:.*]] = dl.param @dense.bias : tensor<10xf32>
    %b = dl.param @dense.bias : tensor<10xf32>
    // CHECK-NEXT: %[[D:.*]] = dl.dense %arg0, %[[K]], %[[B]] {units = 10 : i64}
    %0 = dl.dense %image, %k, %b {units = 10 : i64} : (tensor<?x784xf32>, tensor<784x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
    // CHECK-NEXT: return %[[D]] : tensor<?x10xf32>
    return %0 : tensor<?x10xf32>
  }

  // CHECK-LABEL: func.func @mlp_loss(%arg0: tensor<?x784xf32>, %arg1: tensor<?xi32>) -> tensor<f32> attributes {dl.input_names = ["image", "label"], dl.loss} {
  func.func @mlp_loss(%image: tensor<?x784xf32>, %label: tensor<?xi32>) -> tensor<f32> attributes {dl.loss, dl.input_names = ["image", "label"]} {
    // CHECK-NEXT: %[[P:.*]] = call @mlp(%arg0) : (tensor<?x784xf32>) -> tensor<?x10xf32>
    %0 = func.call @mlp(%image) : (tensor<?x784xf32>) -> tensor<?x10xf32>
    // CHECK-NEXT: %[[L:.*]] = dl.sparse_categorical_crossentropy %[[P]], %arg1 {from_logits = true}
    %1 = dl.sparse_categorical_crossentropy %0, %label {from_logits = true} : (tensor<?x10xf32>, tensor<?xi32>) -> tensor<f32>
    // CHECK-NEXT: return %[[L]] : tensor<f32>
    return %1 : tensor<f32>
  }
}
