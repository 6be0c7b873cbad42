// RUN: dlc-opt %s | dlc-opt | FileCheck %s
// Round trip of the convolutions: conv1d, conv2d, depthwise_conv2d,
// separable_conv2d, conv2d_transpose; with and without bias.

// CHECK-LABEL: func.func @conv1d
func.func @conv1d(%x: tensor<?x100x8xf32>, %k: tensor<5x8x16xf32>, %b: tensor<16xf32>, %kg: tensor<3x4x16xf32>) -> (tensor<?x48x16xf32>, tensor<?x100x16xf32>) {
  // CHECK: dl.conv1d %{{.*}}, %{{.*}}, %{{.*}} {dilation = array<i64: 1>, filters = 16 : i64, kernel_size = array<i64: 5>, pad = array<i64: 0, 0>, strides = array<i64: 2>} : (tensor<?x100x8xf32>, tensor<5x8x16xf32>, tensor<16xf32>) -> tensor<?x48x16xf32>
  %0 = dl.conv1d %x, %k, %b {filters = 16 : i64, kernel_size = array<i64: 5>, strides = array<i64: 2>, dilation = array<i64: 1>, pad = array<i64: 0, 0>} : (tensor<?x100x8xf32>, tensor<5x8x16xf32>, tensor<16xf32>) -> tensor<?x48x16xf32>
  // Two groups: the kernel sees C/groups = 4 channels.
  // CHECK: dl.conv1d %{{.*}}, %{{.*}} {dilation = array<i64: 1>, filters = 16 : i64, groups = 2 : i64, kernel_size = array<i64: 3>, pad = array<i64: 1, 1>, strides = array<i64: 1>} : (tensor<?x100x8xf32>, tensor<3x4x16xf32>) -> tensor<?x100x16xf32>
  %1 = dl.conv1d %x, %kg {filters = 16 : i64, groups = 2 : i64, kernel_size = array<i64: 3>, strides = array<i64: 1>, dilation = array<i64: 1>, pad = array<i64: 1, 1>} : (tensor<?x100x8xf32>, tensor<3x4x16xf32>) -> tensor<?x100x16xf32>
  return %0, %1 : tensor<?x48x16xf32>, tensor<?x100x16xf32>
}

// CHECK-LABEL: func.func @conv2d
func.func @conv2d(%x: tensor<?x28x28x1xf32>, %k: tensor<3x3x1x32xf32>, %b: tensor<32xf32>, %y: tensor<?x32x32x3xf32>, %k2: tensor<3x3x3x8xf32>) -> (tensor<?x28x28x32xf32>, tensor<?x14x14x8xf32>) {
  // CHECK: dl.conv2d %{{.*}}, %{{.*}}, %{{.*}} {dilation = array<i64: 1, 1>, filters = 32 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x32xf32>, tensor<32xf32>) -> tensor<?x28x28x32xf32>
  %0 = dl.conv2d %x, %k, %b {filters = 32 : i64, kernel_size = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>} : (tensor<?x28x28x1xf32>, tensor<3x3x1x32xf32>, tensor<32xf32>) -> tensor<?x28x28x32xf32>
  // Dilation 2 makes the 3x3 kernel span 5: (32 - 5) / 2 + 1 = 14. groups
  // equal to its default is elided.
  // CHECK: dl.conv2d %{{.*}}, %{{.*}} {dilation = array<i64: 2, 2>, filters = 8 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<?x32x32x3xf32>, tensor<3x3x3x8xf32>) -> tensor<?x14x14x8xf32>
  %1 = dl.conv2d %y, %k2 {filters = 8 : i64, groups = 1 : i64, kernel_size = array<i64: 3, 3>, strides = array<i64: 2, 2>, dilation = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>} : (tensor<?x32x32x3xf32>, tensor<3x3x3x8xf32>) -> tensor<?x14x14x8xf32>
  return %0, %1 : tensor<?x28x28x32xf32>, tensor<?x14x14x8xf32>
}

// CHECK-LABEL: func.func @depthwise_and_separable
func.func @depthwise_and_separable(%x: tensor<?x16x16x8xf32>, %dk: tensor<3x3x8x2xf32>, %db: tensor<16xf32>, %sk: tensor<3x3x8x1xf32>, %pk: tensor<1x1x8x32xf32>, %sb: tensor<32xf32>) -> (tensor<?x16x16x16xf32>, tensor<?x14x14x32xf32>, tensor<?x8x8x8xf32>) {
  // CHECK: dl.depthwise_conv2d %{{.*}}, %{{.*}}, %{{.*}} {depth_multiplier = 2 : i64, dilation = array<i64: 1, 1>, kernel_size = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<?x16x16x8xf32>, tensor<3x3x8x2xf32>, tensor<16xf32>) -> tensor<?x16x16x16xf32>
  %0 = dl.depthwise_conv2d %x, %dk, %db {depth_multiplier = 2 : i64, kernel_size = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>} : (tensor<?x16x16x8xf32>, tensor<3x3x8x2xf32>, tensor<16xf32>) -> tensor<?x16x16x16xf32>
  // CHECK: dl.separable_conv2d %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {dilation = array<i64: 1, 1>, filters = 32 : i64, kernel_size = array<i64: 3, 3>, pad = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<?x16x16x8xf32>, tensor<3x3x8x1xf32>, tensor<1x1x8x32xf32>, tensor<32xf32>) -> tensor<?x14x14x32xf32>
  %1 = dl.separable_conv2d %x, %sk, %pk, %sb {filters = 32 : i64, depth_multiplier = 1 : i64, kernel_size = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>} : (tensor<?x16x16x8xf32>, tensor<3x3x8x1xf32>, tensor<1x1x8x32xf32>, tensor<32xf32>) -> tensor<?x14x14x32xf32>
  // Without bias, depth_multiplier defaulted; stride 2 with "same" padding.
  // CHECK: dl.depthwise_conv2d %{{.*}}, %{{.*}} {dilation = array<i64: 1, 1>, kernel_size = array<i64: 3, 3>, pad = array<i64: 0, 1, 0, 1>, strides = array<i64: 2, 2>} : (tensor<?x16x16x8xf32>, tensor<3x3x8x1xf32>) -> tensor<?x8x8x8xf32>
  %2 = dl.depthwise_conv2d %x, %sk {kernel_size = array<i64: 3, 3>, strides = array<i64: 2, 2>, dilation = array<i64: 1, 1>, pad = array<i64: 0, 1, 0, 1>} : (tensor<?x16x16x8xf32>, tensor<3x3x8x1xf32>) -> tensor<?x8x8x8xf32>
  return %0, %1, %2 : tensor<?x16x16x16xf32>, tensor<?x14x14x32xf32>, tensor<?x8x8x8xf32>
}

// CHECK-LABEL: func.func @conv2d_transpose
func.func @conv2d_transpose(%x: tensor<?x7x7x64xf32>, %k: tensor<3x3x32x64xf32>, %b: tensor<32xf32>) -> tensor<?x14x14x32xf32> {
  // (7 - 1) * 2 + (3 - 1) + 1 - 1 - 1 + 1 = 14; the kernel is [kh, kw, filters, C].
  // CHECK: dl.conv2d_transpose %{{.*}}, %{{.*}}, %{{.*}} {dilation = array<i64: 1, 1>, filters = 32 : i64, kernel_size = array<i64: 3, 3>, output_padding = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<?x7x7x64xf32>, tensor<3x3x32x64xf32>, tensor<32xf32>) -> tensor<?x14x14x32xf32>
  %0 = dl.conv2d_transpose %x, %k, %b {filters = 32 : i64, kernel_size = array<i64: 3, 3>, strides = array<i64: 2, 2>, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, output_padding = array<i64: 1, 1>} : (tensor<?x7x7x64xf32>, tensor<3x3x32x64xf32>, tensor<32xf32>) -> tensor<?x14x14x32xf32>
  return %0 : tensor<?x14x14x32xf32>
}
