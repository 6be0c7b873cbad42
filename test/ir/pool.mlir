// RUN: dlc-opt %s | dlc-opt | FileCheck %s
// Round trip of pooling, padding and upsampling: maxpool2d, avgpool2d,
// global_avgpool2d, global_maxpool2d, zero_padding2d, upsampling2d.

// CHECK-LABEL: func.func @pools
func.func @pools(%x: tensor<?x28x28x32xf32>) -> (tensor<?x14x14x32xf32>, tensor<?x14x14x32xf32>) {
  // CHECK: dl.maxpool2d %{{.*}} {pad = array<i64: 0, 0, 0, 0>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<?x28x28x32xf32>) -> tensor<?x14x14x32xf32>
  %0 = dl.maxpool2d %x {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : (tensor<?x28x28x32xf32>) -> tensor<?x14x14x32xf32>
  // (28 + 1 - 3) / 2 + 1 = 14
  // CHECK: dl.avgpool2d %{{.*}} {pad = array<i64: 0, 1, 0, 1>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<?x28x28x32xf32>) -> tensor<?x14x14x32xf32>
  %1 = dl.avgpool2d %x {pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>, pad = array<i64: 0, 1, 0, 1>} : (tensor<?x28x28x32xf32>) -> tensor<?x14x14x32xf32>
  return %0, %1 : tensor<?x14x14x32xf32>, tensor<?x14x14x32xf32>
}

// CHECK-LABEL: func.func @global_pools
func.func @global_pools(%x: tensor<?x7x7x64xf64>) -> (tensor<?x64xf64>, tensor<?x64xf64>) {
  // CHECK: dl.global_avgpool2d %{{.*}} : (tensor<?x7x7x64xf64>) -> tensor<?x64xf64>
  %0 = dl.global_avgpool2d %x : (tensor<?x7x7x64xf64>) -> tensor<?x64xf64>
  // CHECK: dl.global_maxpool2d %{{.*}} : (tensor<?x7x7x64xf64>) -> tensor<?x64xf64>
  %1 = dl.global_maxpool2d %x : (tensor<?x7x7x64xf64>) -> tensor<?x64xf64>
  return %0, %1 : tensor<?x64xf64>, tensor<?x64xf64>
}

// CHECK-LABEL: func.func @pad_and_upsample
func.func @pad_and_upsample(%x: tensor<?x28x28x1xf32>, %y: tensor<?x7x7x16xf32>) -> (tensor<?x32x30x1xf32>, tensor<?x14x21x16xf32>) {
  // pad = [top, bottom, left, right]
  // CHECK: dl.zero_padding2d %{{.*}} {pad = array<i64: 2, 2, 1, 1>} : (tensor<?x28x28x1xf32>) -> tensor<?x32x30x1xf32>
  %0 = dl.zero_padding2d %x {pad = array<i64: 2, 2, 1, 1>} : (tensor<?x28x28x1xf32>) -> tensor<?x32x30x1xf32>
  // CHECK: dl.upsampling2d %{{.*}} {size = array<i64: 2, 3>} : (tensor<?x7x7x16xf32>) -> tensor<?x14x21x16xf32>
  %1 = dl.upsampling2d %y {size = array<i64: 2, 3>} : (tensor<?x7x7x16xf32>) -> tensor<?x14x21x16xf32>
  return %0, %1 : tensor<?x32x30x1xf32>, tensor<?x14x21x16xf32>
}
