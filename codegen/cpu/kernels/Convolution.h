//===- Convolution.h - the convolution, dense and pooling CPU kernels -----===//
//
// Header-only C++17 templates over T (float or double), namespace dlk, for
// generated programs (through Kernels.h) and the kernel tests: conv1d,
// conv2d, conv2d_transpose (Conv2d.h), depthwise_conv2d, separable_conv2d
// (Depthwise.h), dense (Dense.h), the pools (Pooling.h), forward and `_grad`.
// Arguments follow the op's operands then results (codegen/cpu/CpuKernel.h):
//   dlk::conv2d<T>(n, dims, x, kernel, bias, y);
//   dlk::conv2d_grad<T>(n, dims, x, kernel, bias, y, dy, dx, dkernel, dbias,
//                       workspace);
// with a null bias (and dbias) for use_bias = false and a null result for a
// gradient nobody reads. The fused layers (fused_conv2d, ...; their bias
// and activation in the epilogue, Epilogue.h) live beside their plain
// layers; fold_batchnorm in FoldBatchNorm.h.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_KERNELS_CONVOLUTION_H
#define DLC_CODEGEN_CPU_KERNELS_CONVOLUTION_H

#include "codegen/cpu/kernels/Conv2d.h"
#include "codegen/cpu/kernels/Dense.h"
#include "codegen/cpu/kernels/Depthwise.h"
#include "codegen/cpu/kernels/FoldBatchNorm.h"
#include "codegen/cpu/kernels/Pooling.h"

#endif // DLC_CODEGEN_CPU_KERNELS_CONVOLUTION_H
