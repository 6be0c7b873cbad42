//===- ConvolutionDescriptor.h - a layer call's kernel shape descriptor ---===//
//
// The convolution emitters (ConvolutionKernels.cpp) turn each call into a
// constant shape descriptor of codegen/cpu/kernels/Convolution.h
// (dlk::Conv2dDims, dlk::DepthwiseConv2dDims, dlk::DenseDims). The fused
// layers (FusedLayerKernels.cpp) have the operands, results and attributes
// of their catalog op, so they describe their calls the same way.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_CODEGEN_CPU_CONVOLUTIONDESCRIPTOR_H
#define DLC_CODEGEN_CPU_CONVOLUTIONDESCRIPTOR_H

#include "codegen/KernelProgram.h"

#include <cstdint>
#include <string>

namespace dlc::codegen {

/// One call's descriptor as a C++ constant.
struct ConvolutionDescriptor {
  /// "dlk::Conv2dDims"
  std::string type;
  /// "{/*h=*/28, ...}"
  std::string init;
  /// Elements of T the catalog op's kernel needs as workspace (the im2col
  /// columns of a conv2d), 0 when none.
  int64_t workspaceElements = 0;
  /// Whether the call has a bias operand.
  bool hasBias = false;
  /// The per-example elements of the layer's output.
  int64_t outputElements = 0;
};

/// Describes `call`, whose operands and results are laid out as those of
/// catalog op `op` ("conv2d", "depthwise_conv2d" or "dense"; with `grad`,
/// as those of its `_grad`). Returns why it cannot, or "" on success.
std::string describeConvolutionCall(const KernelProgram &program,
                                    const KernelCall &call,
                                    const std::string &op, bool grad,
                                    ConvolutionDescriptor &descriptor);

} // namespace dlc::codegen

#endif // DLC_CODEGEN_CPU_CONVOLUTIONDESCRIPTOR_H
