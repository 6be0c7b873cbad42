//===- DLOps.td - the ops of the `dl` dialect --------------*- tablegen -*-===//
//
// Parameters (`dl.parameter`, `dl.param`) and one op per entry of the
// shape-rule catalog in ir/ShapeRules.h, in the catalog's order. Shapes,
// formulas and parameter layouts are documented there, not repeated here.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_IR_DLOPS_TD
#define DLC_IR_DLOPS_TD

include "DLDialect.td"

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

def DL_ParameterOp : DL_Op<"parameter", [Symbol]> {
  let summary = "a named, trainable or frozen parameter tensor";
  let description = [{
    A module-level parameter. Its symbol name is stable across compiles and
    is its key in checkpoints:

      dl.parameter @conv2d.kernel : tensor<3x3x1x32xf32>
          {fan_in = 9 : i64, fan_out = 288 : i64, init = "glorot_uniform",
           trainable = true}
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                   TypeAttrOf<AnyStaticShapeTensor>:$type, StrAttr:$init,
                   I64Attr:$fan_in, I64Attr:$fan_out, BoolAttr:$trainable);
  let assemblyFormat = "$sym_name `:` $type attr-dict";
  let hasVerifier = 1;
}

def DL_ParamOp : DL_Op<"param",
    [Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "reads a parameter inside a function";
  let description = [{
      %w = dl.param @conv2d.kernel : tensor<3x3x1x32xf32>

    The symbol must name a `dl.parameter` of the same type.
  }];
  let arguments = (ins FlatSymbolRefAttr:$parameter);
  let results = (outs DL_Param:$output);
  let assemblyFormat = "$parameter attr-dict `:` type($output)";
}

//===----------------------------------------------------------------------===//
// Convolutions
//===----------------------------------------------------------------------===//

def DL_Conv1DOp : DL_CatalogOp<"conv1d", 1, 1, 1> {
  let summary = "1-D convolution over x[L, C]";
  let arguments = (ins DL_Tensor:$x, DL_Param:$kernel,
                   Optional<DL_Param>:$bias, I64Attr:$filters,
                   DenseI64ArrayAttr:$kernel_size, DenseI64ArrayAttr:$strides,
                   DenseI64ArrayAttr:$dilation, DL_DefaultI64<"1">:$groups,
                   DenseI64ArrayAttr:$pad);
}

def DL_Conv2DOp : DL_CatalogOp<"conv2d", 1, 1, 1> {
  let summary = "2-D convolution over x[H, W, C]";
  let arguments = (ins DL_Tensor:$x, DL_Param:$kernel,
                   Optional<DL_Param>:$bias, I64Attr:$filters,
                   DenseI64ArrayAttr:$kernel_size, DenseI64ArrayAttr:$strides,
                   DenseI64ArrayAttr:$dilation, DL_DefaultI64<"1">:$groups,
                   DenseI64ArrayAttr:$pad);
}

def DL_DepthwiseConv2DOp : DL_CatalogOp<"depthwise_conv2d", 1, 1, 1> {
  let summary = "depthwise 2-D convolution over x[H, W, C]";
  let arguments = (ins DL_Tensor:$x, DL_Param:$depthwise_kernel,
                   Optional<DL_Param>:$bias, DenseI64ArrayAttr:$kernel_size,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$dilation,
                   DL_DefaultI64<"1">:$depth_multiplier,
                   DenseI64ArrayAttr:$pad);
}

def DL_SeparableConv2DOp : DL_CatalogOp<"separable_conv2d", 1, 2, 1> {
  let summary = "depthwise then pointwise 2-D convolution over x[H, W, C]";
  let arguments = (ins DL_Tensor:$x, DL_Param:$depthwise_kernel,
                   DL_Param:$pointwise_kernel, Optional<DL_Param>:$bias,
                   I64Attr:$filters, DenseI64ArrayAttr:$kernel_size,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$dilation,
                   DL_DefaultI64<"1">:$depth_multiplier,
                   DenseI64ArrayAttr:$pad);
}

def DL_Conv2DTransposeOp : DL_CatalogOp<"conv2d_transpose", 1, 1, 1> {
  let summary = "transposed 2-D convolution over x[H, W, C]";
  let arguments = (ins DL_Tensor:$x, DL_Param:$kernel,
                   Optional<DL_Param>:$bias, I64Attr:$filters,
                   DenseI64ArrayAttr:$kernel_size, DenseI64ArrayAttr:$strides,
                   DenseI64ArrayAttr:$dilation, DenseI64ArrayAttr:$pad,
                   DenseI64ArrayAttr:$output_padding);
}

//===----------------------------------------------------------------------===//
// Dense
//===----------------------------------------------------------------------===//

def DL_DenseOp : DL_CatalogOp<"dense", 1, 1, 1> {
  let summary = "x[..., D] times kernel[D, units], plus bias";
  let arguments = (ins DL_Tensor:$x, DL_Param:$kernel,
                   Optional<DL_Param>:$bias, I64Attr:$units);
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

def DL_MaxPool2DOp : DL_CatalogOp<"maxpool2d", 1> {
  let summary = "2-D max pooling over x[H, W, C]";
  let arguments = (ins DL_Tensor:$x, DenseI64ArrayAttr:$pool_size,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pad);
}

def DL_AvgPool2DOp : DL_CatalogOp<"avgpool2d", 1> {
  let summary = "2-D average pooling over the cells inside x[H, W, C]";
  let arguments = (ins DL_Tensor:$x, DenseI64ArrayAttr:$pool_size,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pad);
}

def DL_GlobalAvgPool2DOp : DL_UnaryOp<"global_avgpool2d"> {
  let summary = "mean over H and W of x[H, W, C]";
}

def DL_GlobalMaxPool2DOp : DL_UnaryOp<"global_maxpool2d"> {
  let summary = "max over H and W of x[H, W, C]";
}

//===----------------------------------------------------------------------===//
// Normalization and dropout
//===----------------------------------------------------------------------===//

def DL_BatchNormOp : DL_CatalogOp<"batchnorm", 1, 4> {
  let summary = "batch normalization over the last axis";
  let arguments = (ins DL_Tensor:$x, DL_Param:$gamma, DL_Param:$beta,
                   DL_Param:$moving_mean, DL_Param:$moving_variance,
                   F64Attr:$momentum, F64Attr:$epsilon);
}

def DL_LayerNormOp : DL_CatalogOp<"layernorm", 1, 2> {
  let summary = "layer normalization over the last axis";
  let arguments = (ins DL_Tensor:$x, DL_Param:$gamma, DL_Param:$beta,
                   F64Attr:$epsilon);
}

def DL_DropoutOp : DL_CatalogOp<"dropout", 1, 0, 0,
                                [MemoryEffects<[MemRead<DL_RandomResource>]>]> {
  let summary = "zeroes a `rate` fraction of x at random while training";
  let description = [{
    Reads the random stream numbered `seed_offset` (one per dropout in a
    model), so it is not Pure: dropouts of different streams are never
    merged, and an unused one may still be erased. `-dl-strip-dropout`
    removes every dropout for inference.
  }];
  let arguments = (ins DL_Tensor:$x, F64Attr:$rate, I64Attr:$seed_offset);
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

def DL_ReluOp : DL_UnaryOp<"relu"> { let summary = "max(x, 0)"; }
def DL_SigmoidOp : DL_UnaryOp<"sigmoid"> { let summary = "1 / (1 + e^-x)"; }
def DL_TanhOp : DL_UnaryOp<"tanh"> { let summary = "tanh(x)"; }
def DL_AbsOp : DL_UnaryOp<"abs"> { let summary = "|x|"; }

def DL_LeakyReluOp : DL_CatalogOp<"leaky_relu", 1> {
  let summary = "x if x > 0, else alpha * x";
  let arguments = (ins DL_Tensor:$x, F64Attr:$alpha);
}

def DL_EluOp : DL_CatalogOp<"elu", 1> {
  let summary = "x if x > 0, else alpha * (e^x - 1)";
  let arguments = (ins DL_Tensor:$x, F64Attr:$alpha);
}

def DL_SoftmaxOp : DL_CatalogOp<"softmax", 1> {
  let summary = "softmax along a per-example axis";
  let arguments = (ins DL_Tensor:$x, DL_DefaultI64<"-1">:$axis);
}

//===----------------------------------------------------------------------===//
// Merges and reshapes
//===----------------------------------------------------------------------===//

def DL_AddOp : DL_BinaryOp<"add"> { let summary = "a + b"; }
def DL_SubtractOp : DL_BinaryOp<"subtract"> { let summary = "a - b"; }
def DL_MultiplyOp : DL_BinaryOp<"multiply"> { let summary = "a * b"; }

def DL_ConcatOp : DL_CatalogOp<"concat", -1> {
  let summary = "concatenation along a per-example axis";
  let arguments = (ins Variadic<DL_Tensor>:$inputs,
                   DL_DefaultI64<"-1">:$axis);
}

def DL_ReshapeOp : DL_CatalogOp<"reshape", 1> {
  let summary = "the same elements in a new per-example shape";
  let arguments = (ins DL_Tensor:$x, DenseI64ArrayAttr:$shape);
}

def DL_ZeroPadding2DOp : DL_CatalogOp<"zero_padding2d", 1> {
  let summary = "zero padding of H and W: pad = [top, bottom, left, right]";
  let arguments = (ins DL_Tensor:$x, DenseI64ArrayAttr:$pad);
}

def DL_UpSampling2DOp : DL_CatalogOp<"upsampling2d", 1> {
  let summary = "nearest-neighbour upsampling of H and W by `size`";
  let arguments = (ins DL_Tensor:$x, DenseI64ArrayAttr:$size);
}

//===----------------------------------------------------------------------===//
// Embedding and recurrent layers
//===----------------------------------------------------------------------===//

def DL_EmbeddingOp : DL_CatalogOp<"embedding", 1, 1> {
  let summary = "rows of `embeddings` selected by i32 ids";
  let arguments = (ins DL_Tensor:$ids, DL_Param:$embeddings,
                   I64Attr:$input_dim, I64Attr:$output_dim);
}

def DL_LstmOp : DL_CatalogOp<"lstm", 1, 2, 1> {
  let summary = "LSTM over x[T, D] (Keras gate order i, f, c, o)";
  let arguments = (ins DL_Tensor:$x, DL_Param:$kernel,
                   DL_Param:$recurrent_kernel, Optional<DL_Param>:$bias,
                   I64Attr:$units, DL_DefaultFalse:$return_sequences);
}

def DL_GruOp : DL_CatalogOp<"gru", 1, 2, 1> {
  let summary = "GRU over x[T, D] (Keras reset_after, gate order z, r, h)";
  let arguments = (ins DL_Tensor:$x, DL_Param:$kernel,
                   DL_Param:$recurrent_kernel, Optional<DL_Param>:$bias,
                   I64Attr:$units, DL_DefaultFalse:$return_sequences);
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

def DL_MseOp : DL_LossOp<"mse"> { let summary = "mean squared error"; }
def DL_MaeOp : DL_LossOp<"mae"> { let summary = "mean absolute error"; }

def DL_BinaryCrossentropyOp : DL_LogitsLossOp<"binary_crossentropy"> {
  let summary = "binary cross-entropy";
}

def DL_CategoricalCrossentropyOp
    : DL_LogitsLossOp<"categorical_crossentropy"> {
  let summary = "cross-entropy against one-hot targets";
}

def DL_SparseCategoricalCrossentropyOp
    : DL_LogitsLossOp<"sparse_categorical_crossentropy"> {
  let summary = "cross-entropy against i32 class labels";
}

def DL_WeightedSumOp : DL_CatalogOp<"weighted_sum", -1> {
  let summary = "sum of scalar losses times their weights";
  let arguments = (ins Variadic<DL_Tensor>:$inputs,
                   DenseF64ArrayAttr:$weights);
}

include "DLGradientOps.td"
include "DLOptimizerOps.td"
include "DLFusedElementwiseOps.td"
include "DLFusedLayerOps.td"
include "DLFusedNormOps.td"
include "DLFusedNormAddOps.td"
include "DLMemoryOps.td"
include "DLFusedNormPoolOps.td"

#endif // DLC_IR_DLOPS_TD
