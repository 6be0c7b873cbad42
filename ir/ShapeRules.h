//===- ShapeRules.h - the shape rule of every dl op
//------------------------===//
//
// One place computes the shapes of every op: sema calls these rules to type
// the graph (and turns an error into a diagnostic at the layer's line), and
// the dialect calls the same rules to infer and verify result types. They
// know nothing of MLIR.
//
// Shapes are per-example: the batch dimension is implicit and leading, and
// never appears here. Scalars that are not per-example (a loss) are marked
// `batched = false`.
//
// THE OP CATALOG (op name: data inputs; attributes; parameters in operand
// order). Conventions: 2-D spatial attrs are [h, w]; `pad` for 2-D is
// [top, bottom, left, right] and for 1-D [begin, end], already resolved from
// Keras's same/valid by resolvePadding(); every output-shape formula is
// Keras's. `use_bias` (bool, default true) says whether a `bias` parameter
// follows. Parameter shapes follow Keras's layouts (channels last).
//
//   conv1d            x[L, C]   filters, kernel_size[1], strides[1],
//                     dilation[1], groups, pad[2], use_bias
//                     kernel[k, C/groups, filters], bias[filters]
//   conv2d            x[H, W, C] filters, kernel_size[2], strides[2],
//                     dilation[2], groups, pad[4], use_bias
//                     kernel[kh, kw, C/groups, filters], bias[filters]
//   depthwise_conv2d  x[H, W, C] kernel_size, strides, dilation,
//                     depth_multiplier, pad, use_bias
//                     depthwise_kernel[kh, kw, C, M], bias[C*M]
//   separable_conv2d  x[H, W, C] filters, kernel_size, strides, dilation,
//                     depth_multiplier, pad, use_bias
//                     depthwise_kernel[kh, kw, C, M],
//                     pointwise_kernel[1, 1, C*M, filters], bias[filters]
//   conv2d_transpose  x[H, W, C] filters, kernel_size, strides, dilation,
//                     pad, output_padding[2], use_bias
//                     kernel[kh, kw, filters, C], bias[filters]
//                     out = (in-1)*s + (k-1)*d + 1 - pad_begin - pad_end
//                           + output_padding
//   dense             x[..., D] units, use_bias
//                     kernel[D, units], bias[units]        -> [..., units]
//   maxpool2d,        x[H, W, C] pool_size[2], strides[2], pad[4]
//   avgpool2d         (avgpool2d averages over the cells inside the input)
//   global_avgpool2d, x[H, W, C] -> [C]
//   global_maxpool2d
//   batchnorm         x[..., C] momentum, epsilon
//                     gamma[C], beta[C], moving_mean[C], moving_variance[C]
//   layernorm         x[..., C] epsilon; gamma[C], beta[C]
//   dropout           x; rate                               -> same shape
//   relu, sigmoid, tanh, abs              x -> same shape
//   leaky_relu (alpha), elu (alpha)       x -> same shape
//   softmax (axis, a per-example axis)    x -> same shape
//   add, subtract, multiply   a, b of equal shapes          -> same shape
//   concat            x1..xn (n >= 1); axis (per-example)   -> sizes summed
//   reshape           x; shape (per-example, no -1)         -> shape
//   zero_padding2d    x[H, W, C]; pad[4]                    -> padded
//   upsampling2d      x[H, W, C]; size[2] (nearest)         -> [H*sh, W*sw, C]
//   embedding         ids[...] (i32); input_dim, output_dim
//                     embeddings[input_dim, output_dim]     -> [...,
//                     output_dim]
//   lstm              x[T, D]; units, return_sequences
//                     kernel[D, 4u], recurrent_kernel[u, 4u], bias[4u]
//                     -> [T, u] or [u]   (gate order i, f, c, o as Keras)
//   gru               x[T, D]; units, return_sequences
//                     kernel[D, 3u], recurrent_kernel[u, 3u], bias[2, 3u]
//                     -> [T, u] or [u]   (Keras reset_after=true, order z,r,h)
//   mse, mae          pred, target of equal shapes          -> scalar
//   binary_crossentropy (from_logits)     pred, target equal -> scalar
//   categorical_crossentropy (from_logits) pred, target equal -> scalar
//   sparse_categorical_crossentropy (from_logits)
//                     pred[..., K], target[...] (i32)       -> scalar
//   weighted_sum      n >= 1 scalars; weights (n floats)    -> scalar
//
// Losses reduce to the mean over the batch (and over the elements of each
// example for mse/mae/binary_crossentropy), like Keras's default
// "sum_over_batch_size".
//
//===----------------------------------------------------------------------===//
#ifndef DLC_IR_SHAPERULES_H
#define DLC_IR_SHAPERULES_H

#include "ir/Attrs.h"

#include <string>
#include <vector>

namespace dlc {

enum class ElementType { F32, F64, I32 };

/// "f32", "f64", "i32"
const char *elementTypeName(ElementType type);

/// A per-example tensor type: element type and per-example shape. A loss
/// result has batched == false and an empty shape.
struct TensorInfo {
  ElementType elementType = ElementType::F32;
  Shape shape;
  bool batched = true;
};

/// The outcome of a shape rule: the result types, or an error that reads as
/// the middle of a sentence: "expects an input of rank 3 [H, W, C], got
/// f32[28, 28]" (the caller puts the op or layer name in front) and a hint.
struct ShapeResult {
  std::vector<TensorInfo> results;
  std::string error;
  std::string hint;
  bool ok() const { return error.empty(); }
};

/// A parameter an op needs: its role ("kernel", "bias", "gamma", ...),
/// shape, and Keras's default initializer and trainability for the role.
/// fan_in/fan_out are the values Keras's variance-scaling initializers use.
struct ParamSpec {
  std::string role;
  Shape shape;
  std::string init; // glorot_uniform, zeros, ones, orthogonal, uniform, ...
  bool trainable = true;
  int64_t fanIn = 0;
  int64_t fanOut = 0;
};

/// Whether `op` is in the catalog above.
bool isKnownOp(const std::string &op);

/// All op names of the catalog, sorted.
const std::vector<std::string> &knownOps();

/// The result types of `op` applied to `inputs` (the data inputs, not the
/// parameters) with `attrs`.
ShapeResult inferShapes(const std::string &op,
                        const std::vector<TensorInfo> &inputs,
                        const Attrs &attrs);

/// The parameters `op` creates for `inputs` and `attrs`, in operand order.
/// Assumes inferShapes succeeded for the same arguments.
std::vector<ParamSpec> paramSpecs(const std::string &op,
                                  const std::vector<TensorInfo> &inputs,
                                  const Attrs &attrs);

/// Keras's padding for one spatial dimension: for "valid" {0, 0}; for "same"
/// the total max((ceil(in/s) - 1) * s + (k - 1) * d + 1 - in, 0) split with
/// the smaller half first.
std::vector<int64_t> resolvePadding(const std::string &mode, int64_t in,
                                    int64_t kernel, int64_t stride,
                                    int64_t dilation);

/// Keras's conv-transpose padding and output padding for one dimension:
/// returns {pad_begin, pad_end, output_padding} such that the catalog's
/// formula gives Keras's deconv_output_length (with `outputPadding` < 0
/// meaning "not given").
std::vector<int64_t> resolveTransposePadding(const std::string &mode,
                                             int64_t in, int64_t kernel,
                                             int64_t stride, int64_t dilation,
                                             int64_t outputPadding);

/// Product of dimensions, or -1 if it would exceed 2^40 elements.
int64_t checkedElementCount(const Shape &shape);

/// "f32[28, 28, 1]"
std::string formatTensor(const TensorInfo &info);

} // namespace dlc

#endif // DLC_IR_SHAPERULES_H
