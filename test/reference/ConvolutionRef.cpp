//===- ConvolutionRef.cpp - float64 reference of the convolution family ---===//
//
// Forward and backward of conv1d, conv2d, depthwise_conv2d,
// separable_conv2d, conv2d_transpose, dense, the pools, zero_padding2d and
// upsampling2d, as plain loops in double precision.
//
// Every op first checks its operands against the shape rules (inferShapes
// for the output, paramSpecs for the parameters), so the loops below can
// trust every shape. A convolution is written once as its connectivity: a
// visitor that lists each (output, input, kernel) index triple; the forward
// sums y += x * k over the triples and the backward accumulates the two
// products of the same triples, so forward and backward cannot disagree on
// which cells are connected.
//
//===----------------------------------------------------------------------===//

#include "test/reference/ReferenceOps.h"

#include "ir/ShapeRules.h"

#include <cstddef>

namespace dlc::ref {
namespace {

/// The largest tensor the reference builds (a test oracle, not a runtime).
constexpr int64_t kMaxReferenceElements = int64_t(1) << 28;

using Tensors = std::vector<RefTensor>;

/// Whether `t`'s data has exactly the number of elements its shape says.
bool wellFormed(const RefTensor &t) {
  int64_t n = checkedElementCount(t.shape);
  return n >= 0 && n == t.size();
}

/// Checks the operands of `op` against the shape rules and computes the
/// batched output shape.
bool checkOperands(const std::string &op, const Tensors &inputs,
                   const Tensors &params, const Attrs &attrs, Shape &outShape,
                   std::string &error) {
  if (inputs.size() != 1) {
    error = op + " expects 1 input, got " + std::to_string(inputs.size());
    return false;
  }
  const RefTensor &x = inputs[0];
  if (x.shape.empty() || !wellFormed(x)) {
    error = op + " expects a batched input with data matching its shape";
    return false;
  }
  TensorInfo info;
  info.elementType = ElementType::F64;
  info.shape.assign(x.shape.begin() + 1, x.shape.end());
  ShapeResult result = inferShapes(op, {info}, attrs);
  if (!result.ok()) {
    error = op + " " + result.error;
    return false;
  }
  if (result.results.size() != 1) {
    error = op + ": the shape rule gave no single result";
    return false;
  }
  std::vector<ParamSpec> specs = paramSpecs(op, {info}, attrs);
  if (params.size() != specs.size()) {
    error = op + " expects " + std::to_string(specs.size()) +
            " parameters, got " + std::to_string(params.size());
    return false;
  }
  for (size_t p = 0; p < specs.size(); ++p) {
    if (params[p].shape != specs[p].shape || !wellFormed(params[p])) {
      error = op + " expects " + specs[p].role + " of shape " +
              formatShape(specs[p].shape) + ", got " +
              formatShape(params[p].shape);
      return false;
    }
  }
  outShape = {x.shape[0]};
  for (int64_t d : result.results[0].shape)
    outShape.push_back(d);
  int64_t n = checkedElementCount(outShape);
  if (n < 0 || n > kMaxReferenceElements) {
    error = op + ": the output " + formatShape(outShape) +
            " is too large for the reference";
    return false;
  }
  return true;
}

/// The loops of one op once its operands are checked: `y` and the
/// gradients come allocated with their shapes and zeroed.
using ForwardLoops = void (*)(const RefTensor &x, const Tensors &params,
                              const Attrs &attrs, RefTensor &y);
using BackwardLoops = void (*)(const RefTensor &x, const Tensors &params,
                               const Attrs &attrs, const RefTensor &dy,
                               RefTensor &dx, Tensors &dparams);

/// Wraps the loops of `op` with the operand checks.
RefOp makeOp(const std::string &op, ForwardLoops forward,
             BackwardLoops backward) {
  RefOp result;
  result.forward = [op, forward](const Tensors &inputs, const Tensors &params,
                                 const Attrs &attrs, Tensors &outputs,
                                 std::string &error) {
    Shape outShape;
    if (!checkOperands(op, inputs, params, attrs, outShape, error))
      return false;
    outputs.assign(1, RefTensor(outShape));
    forward(inputs[0], params, attrs, outputs[0]);
    return true;
  };
  result.backward = [op, backward](const Tensors &inputs, const Tensors &params,
                                   const Attrs &attrs, const Tensors &,
                                   const Tensors &outputGrads,
                                   Tensors &inputGrads, Tensors &paramGrads,
                                   std::string &error) {
    Shape outShape;
    if (!checkOperands(op, inputs, params, attrs, outShape, error))
      return false;
    if (outputGrads.size() != 1 || outputGrads[0].shape != outShape ||
        !wellFormed(outputGrads[0])) {
      error =
          op + " expects one output gradient of shape " + formatShape(outShape);
      return false;
    }
    inputGrads.assign(1, RefTensor(inputs[0].shape));
    paramGrads.clear();
    for (const RefTensor &p : params)
      paramGrads.push_back(RefTensor(p.shape));
    backward(inputs[0], params, attrs, outputGrads[0], inputGrads[0],
             paramGrads);
    return true;
  };
  return result;
}

//===----------------------------------------------------------------------===//
// Convolution connectivity
//===----------------------------------------------------------------------===//

/// The sizes of a (possibly grouped) 2-D convolution, x[N, H, W, C] with
/// kernel[KH, KW, C/G, F] to y[N, OH, OW, F].
struct ConvGeometry {
  int64_t n, h, w, c, oh, ow, f, kh, kw, groups;
  int64_t sh, sw, dh, dw, padTop, padLeft;
};

/// Calls visit(yIndex, xIndex, kernelIndex) for every product of the
/// convolution: y[n, oh, ow, f] += x[n, oh*sh + i*dh - padTop,
/// ow*sw + j*dw - padLeft, g*C/G + c] * kernel[i, j, c, f] with g the group
/// of filter f; cells outside the input are zero padding.
template <typename Visit>
void forEachConvProduct(const ConvGeometry &g, Visit visit) {
  int64_t cPerGroup = g.c / g.groups, fPerGroup = g.f / g.groups;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oh = 0; oh < g.oh; ++oh)
      for (int64_t ow = 0; ow < g.ow; ++ow)
        for (int64_t f = 0; f < g.f; ++f) {
          int64_t group = f / fPerGroup;
          int64_t yi = ((n * g.oh + oh) * g.ow + ow) * g.f + f;
          for (int64_t i = 0; i < g.kh; ++i) {
            int64_t ih = oh * g.sh + i * g.dh - g.padTop;
            if (ih < 0 || ih >= g.h)
              continue;
            for (int64_t j = 0; j < g.kw; ++j) {
              int64_t iw = ow * g.sw + j * g.dw - g.padLeft;
              if (iw < 0 || iw >= g.w)
                continue;
              for (int64_t c = 0; c < cPerGroup; ++c) {
                int64_t xi =
                    ((n * g.h + ih) * g.w + iw) * g.c + group * cPerGroup + c;
                int64_t ki = ((i * g.kw + j) * cPerGroup + c) * g.f + f;
                visit(yi, xi, ki);
              }
            }
          }
        }
}

/// Calls visit(yIndex, xIndex, kernelIndex) for every product of the
/// transposed convolution x[N, H, W, C], kernel[KH, KW, F, C] to
/// y[N, OH, OW, F]: input cell (ih, iw) scatters to output
/// (ih*sh + i*dh - padTop, iw*sw + j*dw - padLeft); outputs outside
/// [0, OH) x [0, OW) are cropped.
template <typename Visit>
void forEachTransposeProduct(const ConvGeometry &g, Visit visit) {
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t ih = 0; ih < g.h; ++ih)
      for (int64_t iw = 0; iw < g.w; ++iw)
        for (int64_t i = 0; i < g.kh; ++i) {
          int64_t oh = ih * g.sh + i * g.dh - g.padTop;
          if (oh < 0 || oh >= g.oh)
            continue;
          for (int64_t j = 0; j < g.kw; ++j) {
            int64_t ow = iw * g.sw + j * g.dw - g.padLeft;
            if (ow < 0 || ow >= g.ow)
              continue;
            for (int64_t f = 0; f < g.f; ++f)
              for (int64_t c = 0; c < g.c; ++c) {
                int64_t yi = ((n * g.oh + oh) * g.ow + ow) * g.f + f;
                int64_t xi = ((n * g.h + ih) * g.w + iw) * g.c + c;
                int64_t ki = ((i * g.kw + j) * g.f + f) * g.c + c;
                visit(yi, xi, ki);
              }
          }
        }
}

/// y += x * kernel over the products of `g` (transposed or not).
void convForward(const ConvGeometry &g, bool transposed, const RefTensor &x,
                 const RefTensor &kernel, RefTensor &y) {
  auto visit = [&](int64_t yi, int64_t xi, int64_t ki) {
    y.data[yi] += x.data[xi] * kernel.data[ki];
  };
  if (transposed)
    forEachTransposeProduct(g, visit);
  else
    forEachConvProduct(g, visit);
}

/// dx += dy * kernel and dkernel += x * dy over the products of `g`.
void convBackward(const ConvGeometry &g, bool transposed, const RefTensor &x,
                  const RefTensor &kernel, const RefTensor &dy, RefTensor &dx,
                  RefTensor &dkernel) {
  auto visit = [&](int64_t yi, int64_t xi, int64_t ki) {
    dx.data[xi] += dy.data[yi] * kernel.data[ki];
    dkernel.data[ki] += x.data[xi] * dy.data[yi];
  };
  if (transposed)
    forEachTransposeProduct(g, visit);
  else
    forEachConvProduct(g, visit);
}

/// y[..., f] += bias[f] for a channels-last `y`.
void addBias(const RefTensor &bias, RefTensor &y) {
  int64_t f = bias.size();
  for (int64_t i = 0; i < y.size(); ++i)
    y.data[i] += bias.data[i % f];
}

/// dbias[f] += sum of dy[..., f].
void biasBackward(const RefTensor &dy, RefTensor &dbias) {
  int64_t f = dbias.size();
  for (int64_t i = 0; i < dy.size(); ++i)
    dbias.data[i % f] += dy.data[i];
}

/// The geometry of a 2-D op from its checked input, output and kernel
/// sizes and attributes.
ConvGeometry geometry2d(const Shape &x, const Shape &y, int64_t kh, int64_t kw,
                        int64_t groups, const Attrs &attrs) {
  Shape strides = getInts(attrs, "strides", {1, 1});
  Shape dilation = getInts(attrs, "dilation", {1, 1});
  Shape pad = getInts(attrs, "pad", {0, 0, 0, 0});
  return {x[0],        x[1],        x[2],   x[3],   y[1],       y[2],
          y[3],        kh,          kw,     groups, strides[0], strides[1],
          dilation[0], dilation[1], pad[0], pad[2]};
}

//===----------------------------------------------------------------------===//
// conv1d, conv2d, conv2d_transpose
//===----------------------------------------------------------------------===//

/// conv1d as a conv2d of height 1: x[N, L, C] is x[N, 1, L, C] and
/// kernel[k, C/G, F] is kernel[1, k, C/G, F] in memory.
ConvGeometry conv1dGeometry(const RefTensor &x, const Tensors &params,
                            const Attrs &attrs, const Shape &y) {
  Shape strides = getInts(attrs, "strides", {1});
  Shape dilation = getInts(attrs, "dilation", {1});
  Shape pad = getInts(attrs, "pad", {0, 0});
  return {x.shape[0],
          1,
          x.shape[1],
          x.shape[2],
          1,
          y[1],
          y[2],
          1,
          params[0].shape[0],
          getInt(attrs, "groups", 1),
          1,
          strides[0],
          1,
          dilation[0],
          0,
          pad[0]};
}

ConvGeometry conv2dGeometry(const RefTensor &x, const Tensors &params,
                            const Attrs &attrs, const Shape &y) {
  return geometry2d(x.shape, y, params[0].shape[0], params[0].shape[1],
                    getInt(attrs, "groups", 1), attrs);
}

/// kernel[KH, KW, F, C]; x[N, H, W, C] to y[N, OH, OW, F].
ConvGeometry transposeGeometry(const RefTensor &x, const Tensors &params,
                               const Attrs &attrs, const Shape &y) {
  return geometry2d(x.shape, y, params[0].shape[0], params[0].shape[1], 1,
                    attrs);
}

using GeometryFn = ConvGeometry (*)(const RefTensor &, const Tensors &,
                                    const Attrs &, const Shape &);

/// Forward of a conv with params {kernel, [bias]}.
template <GeometryFn Geometry, bool Transposed>
void convOpForward(const RefTensor &x, const Tensors &params,
                   const Attrs &attrs, RefTensor &y) {
  convForward(Geometry(x, params, attrs, y.shape), Transposed, x, params[0], y);
  if (params.size() > 1)
    addBias(params[1], y);
}

template <GeometryFn Geometry, bool Transposed>
void convOpBackward(const RefTensor &x, const Tensors &params,
                    const Attrs &attrs, const RefTensor &dy, RefTensor &dx,
                    Tensors &dparams) {
  convBackward(Geometry(x, params, attrs, dy.shape), Transposed, x, params[0],
               dy, dx, dparams[0]);
  if (params.size() > 1)
    biasBackward(dy, dparams[1]);
}

//===----------------------------------------------------------------------===//
// depthwise_conv2d, separable_conv2d
//===----------------------------------------------------------------------===//

/// The depthwise step as a grouped conv2d with one group per input channel:
/// depthwise_kernel[KH, KW, C, M] is kernel[KH, KW, 1, C*M] in memory, and
/// output channel c*M + m belongs to group c.
ConvGeometry depthwiseGeometry(const Shape &x, const Shape &kernel,
                               const Attrs &attrs, int64_t oh, int64_t ow) {
  Shape y{x[0], oh, ow, x[3] * kernel[3]};
  return geometry2d(x, y, kernel[0], kernel[1], x[3], attrs);
}

void depthwiseForward(const RefTensor &x, const Tensors &params,
                      const Attrs &attrs, RefTensor &y) {
  convForward(depthwiseGeometry(x.shape, params[0].shape, attrs, y.shape[1],
                                y.shape[2]),
              false, x, params[0], y);
  if (params.size() > 1)
    addBias(params[1], y);
}

void depthwiseBackward(const RefTensor &x, const Tensors &params,
                       const Attrs &attrs, const RefTensor &dy, RefTensor &dx,
                       Tensors &dparams) {
  convBackward(depthwiseGeometry(x.shape, params[0].shape, attrs, dy.shape[1],
                                 dy.shape[2]),
               false, x, params[0], dy, dx, dparams[0]);
  if (params.size() > 1)
    biasBackward(dy, dparams[1]);
}

/// The pointwise step: z[N, OH, OW, C*M] by kernel[1, 1, C*M, F].
ConvGeometry pointwiseGeometry(const Shape &z, int64_t filters) {
  return {z[0], z[1], z[2], z[3], z[1], z[2], filters, 1,
          1,    1,    1,    1,    1,    1,    0,       0};
}

void separableForward(const RefTensor &x, const Tensors &params,
                      const Attrs &attrs, RefTensor &y) {
  ConvGeometry depthwise = depthwiseGeometry(x.shape, params[0].shape, attrs,
                                             y.shape[1], y.shape[2]);
  RefTensor z({depthwise.n, depthwise.oh, depthwise.ow, depthwise.f});
  convForward(depthwise, false, x, params[0], z);
  convForward(pointwiseGeometry(z.shape, y.shape[3]), false, z, params[1], y);
  if (params.size() > 2)
    addBias(params[2], y);
}

void separableBackward(const RefTensor &x, const Tensors &params,
                       const Attrs &attrs, const RefTensor &dy, RefTensor &dx,
                       Tensors &dparams) {
  ConvGeometry depthwise = depthwiseGeometry(x.shape, params[0].shape, attrs,
                                             dy.shape[1], dy.shape[2]);
  RefTensor z({depthwise.n, depthwise.oh, depthwise.ow, depthwise.f});
  convForward(depthwise, false, x, params[0], z);
  RefTensor dz(z.shape);
  convBackward(pointwiseGeometry(z.shape, dy.shape[3]), false, z, params[1], dy,
               dz, dparams[1]);
  convBackward(depthwise, false, x, params[0], dz, dx, dparams[0]);
  if (params.size() > 2)
    biasBackward(dy, dparams[2]);
}

//===----------------------------------------------------------------------===//
// dense
//===----------------------------------------------------------------------===//

/// y[r, u] = sum_d x[r, d] * kernel[d, u] + bias[u] over the rows r of all
/// leading axes.
void denseForward(const RefTensor &x, const Tensors &params, const Attrs &,
                  RefTensor &y) {
  int64_t d = x.shape.back(), units = y.shape.back();
  int64_t rows = units == 0 ? 0 : y.size() / units;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t u = 0; u < units; ++u) {
      double sum = params.size() > 1 ? params[1].data[u] : 0.0;
      for (int64_t k = 0; k < d; ++k)
        sum += x.data[r * d + k] * params[0].data[k * units + u];
      y.data[r * units + u] = sum;
    }
}

void denseBackward(const RefTensor &x, const Tensors &params, const Attrs &,
                   const RefTensor &dy, RefTensor &dx, Tensors &dparams) {
  int64_t d = x.shape.back(), units = dy.shape.back();
  int64_t rows = units == 0 ? 0 : dy.size() / units;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t u = 0; u < units; ++u) {
      double g = dy.data[r * units + u];
      for (int64_t k = 0; k < d; ++k) {
        dx.data[r * d + k] += g * params[0].data[k * units + u];
        dparams[0].data[k * units + u] += x.data[r * d + k] * g;
      }
      if (params.size() > 1)
        dparams[1].data[u] += g;
    }
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

/// The window of output (n, oh, ow) of a pool: calls visit(xIndex without
/// the channel) for each cell inside the input, row-major.
struct PoolGeometry {
  int64_t n, h, w, c, oh, ow, ph, pw, sh, sw, padTop, padLeft;
};

PoolGeometry poolGeometry(const Shape &x, const Shape &y, const Attrs &attrs) {
  Shape pool = getInts(attrs, "pool_size", {1, 1});
  Shape strides = getInts(attrs, "strides", pool);
  Shape pad = getInts(attrs, "pad", {0, 0, 0, 0});
  return {x[0],    x[1],    x[2],       x[3],       y[1],   y[2],
          pool[0], pool[1], strides[0], strides[1], pad[0], pad[2]};
}

/// The input cell indices (channel 0) of one window, row-major; padded
/// cells are left out.
std::vector<int64_t> windowCells(const PoolGeometry &g, int64_t n, int64_t oh,
                                 int64_t ow) {
  std::vector<int64_t> cells;
  for (int64_t i = 0; i < g.ph; ++i) {
    int64_t ih = oh * g.sh + i - g.padTop;
    if (ih < 0 || ih >= g.h)
      continue;
    for (int64_t j = 0; j < g.pw; ++j) {
      int64_t iw = ow * g.sw + j - g.padLeft;
      if (iw >= 0 && iw < g.w)
        cells.push_back(((n * g.h + ih) * g.w + iw) * g.c);
    }
  }
  return cells;
}

/// The first cell of `cells` (offset by channel `c`) holding the largest
/// value, or -1 for an empty window.
int64_t argmaxCell(const RefTensor &x, const std::vector<int64_t> &cells,
                   int64_t c) {
  int64_t best = -1;
  for (int64_t cell : cells)
    if (best < 0 || x.data[cell + c] > x.data[best])
      best = cell + c;
  return best;
}

/// Max over the cells of each window inside the input (0 for a window with
/// none).
void maxpoolForward(const RefTensor &x, const Tensors &, const Attrs &attrs,
                    RefTensor &y) {
  PoolGeometry g = poolGeometry(x.shape, y.shape, attrs);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oh = 0; oh < g.oh; ++oh)
      for (int64_t ow = 0; ow < g.ow; ++ow) {
        std::vector<int64_t> cells = windowCells(g, n, oh, ow);
        for (int64_t c = 0; c < g.c; ++c) {
          int64_t best = argmaxCell(x, cells, c);
          y.data[((n * g.oh + oh) * g.ow + ow) * g.c + c] =
              best < 0 ? 0.0 : x.data[best];
        }
      }
}

/// The gradient goes to the first maximal cell of each window.
void maxpoolBackward(const RefTensor &x, const Tensors &, const Attrs &attrs,
                     const RefTensor &dy, RefTensor &dx, Tensors &) {
  PoolGeometry g = poolGeometry(x.shape, dy.shape, attrs);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oh = 0; oh < g.oh; ++oh)
      for (int64_t ow = 0; ow < g.ow; ++ow) {
        std::vector<int64_t> cells = windowCells(g, n, oh, ow);
        for (int64_t c = 0; c < g.c; ++c) {
          int64_t best = argmaxCell(x, cells, c);
          if (best >= 0)
            dx.data[best] += dy.data[((n * g.oh + oh) * g.ow + ow) * g.c + c];
        }
      }
}

/// Mean over the cells of each window inside the input (0 for a window
/// with none).
void avgpoolForward(const RefTensor &x, const Tensors &, const Attrs &attrs,
                    RefTensor &y) {
  PoolGeometry g = poolGeometry(x.shape, y.shape, attrs);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oh = 0; oh < g.oh; ++oh)
      for (int64_t ow = 0; ow < g.ow; ++ow) {
        std::vector<int64_t> cells = windowCells(g, n, oh, ow);
        if (cells.empty())
          continue;
        for (int64_t c = 0; c < g.c; ++c) {
          double sum = 0;
          for (int64_t cell : cells)
            sum += x.data[cell + c];
          y.data[((n * g.oh + oh) * g.ow + ow) * g.c + c] =
              sum / static_cast<double>(cells.size());
        }
      }
}

void avgpoolBackward(const RefTensor &x, const Tensors &, const Attrs &attrs,
                     const RefTensor &dy, RefTensor &dx, Tensors &) {
  PoolGeometry g = poolGeometry(x.shape, dy.shape, attrs);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oh = 0; oh < g.oh; ++oh)
      for (int64_t ow = 0; ow < g.ow; ++ow) {
        std::vector<int64_t> cells = windowCells(g, n, oh, ow);
        for (int64_t c = 0; c < g.c; ++c) {
          double share = dy.data[((n * g.oh + oh) * g.ow + ow) * g.c + c] /
                         static_cast<double>(cells.size());
          for (int64_t cell : cells)
            dx.data[cell + c] += share;
        }
      }
}

/// The pooling window of a global pool: the whole H x W plane.
PoolGeometry globalGeometry(const Shape &x) {
  return {x[0], x[1], x[2], x[3], 1, 1, x[1], x[2], 1, 1, 0, 0};
}

void globalAvgpoolForward(const RefTensor &x, const Tensors &, const Attrs &,
                          RefTensor &y) {
  PoolGeometry g = globalGeometry(x.shape);
  for (int64_t n = 0; n < g.n; ++n) {
    std::vector<int64_t> cells = windowCells(g, n, 0, 0);
    for (int64_t c = 0; c < g.c; ++c) {
      double sum = 0;
      for (int64_t cell : cells)
        sum += x.data[cell + c];
      y.data[n * g.c + c] =
          cells.empty() ? 0.0 : sum / static_cast<double>(cells.size());
    }
  }
}

void globalAvgpoolBackward(const RefTensor &x, const Tensors &, const Attrs &,
                           const RefTensor &dy, RefTensor &dx, Tensors &) {
  PoolGeometry g = globalGeometry(x.shape);
  for (int64_t n = 0; n < g.n; ++n) {
    std::vector<int64_t> cells = windowCells(g, n, 0, 0);
    for (int64_t c = 0; c < g.c; ++c)
      for (int64_t cell : cells)
        dx.data[cell + c] +=
            dy.data[n * g.c + c] / static_cast<double>(cells.size());
  }
}

void globalMaxpoolForward(const RefTensor &x, const Tensors &, const Attrs &,
                          RefTensor &y) {
  PoolGeometry g = globalGeometry(x.shape);
  for (int64_t n = 0; n < g.n; ++n) {
    std::vector<int64_t> cells = windowCells(g, n, 0, 0);
    for (int64_t c = 0; c < g.c; ++c) {
      int64_t best = argmaxCell(x, cells, c);
      y.data[n * g.c + c] = best < 0 ? 0.0 : x.data[best];
    }
  }
}

void globalMaxpoolBackward(const RefTensor &x, const Tensors &, const Attrs &,
                           const RefTensor &dy, RefTensor &dx, Tensors &) {
  PoolGeometry g = globalGeometry(x.shape);
  for (int64_t n = 0; n < g.n; ++n) {
    std::vector<int64_t> cells = windowCells(g, n, 0, 0);
    for (int64_t c = 0; c < g.c; ++c) {
      int64_t best = argmaxCell(x, cells, c);
      if (best >= 0)
        dx.data[best] += dy.data[n * g.c + c];
    }
  }
}

//===----------------------------------------------------------------------===//
// zero_padding2d, upsampling2d
//===----------------------------------------------------------------------===//

/// x[n, h, w, c] lands at y[n, h + top, w + left, c]; the rest is zero.
/// Calls visit(yIndex, xIndex) for each input cell.
template <typename Visit>
void forEachPaddedCell(const Shape &x, const Shape &y, const Attrs &attrs,
                       Visit visit) {
  Shape pad = getInts(attrs, "pad", {1, 1, 1, 1});
  for (int64_t n = 0; n < x[0]; ++n)
    for (int64_t h = 0; h < x[1]; ++h)
      for (int64_t w = 0; w < x[2]; ++w)
        for (int64_t c = 0; c < x[3]; ++c)
          visit(((n * y[1] + h + pad[0]) * y[2] + w + pad[2]) * y[3] + c,
                ((n * x[1] + h) * x[2] + w) * x[3] + c);
}

void zeroPaddingForward(const RefTensor &x, const Tensors &, const Attrs &attrs,
                        RefTensor &y) {
  forEachPaddedCell(x.shape, y.shape, attrs,
                    [&](int64_t yi, int64_t xi) { y.data[yi] = x.data[xi]; });
}

void zeroPaddingBackward(const RefTensor &x, const Tensors &,
                         const Attrs &attrs, const RefTensor &dy, RefTensor &dx,
                         Tensors &) {
  forEachPaddedCell(x.shape, dy.shape, attrs, [&](int64_t yi, int64_t xi) {
    dx.data[xi] += dy.data[yi];
  });
}

/// y[n, h, w, c] = x[n, h / sh, w / sw, c]. Calls visit(yIndex, xIndex)
/// for each output cell.
template <typename Visit>
void forEachUpsampledCell(const Shape &x, const Shape &y, const Attrs &attrs,
                          Visit visit) {
  Shape size = getInts(attrs, "size", {2, 2});
  for (int64_t n = 0; n < y[0]; ++n)
    for (int64_t h = 0; h < y[1]; ++h)
      for (int64_t w = 0; w < y[2]; ++w)
        for (int64_t c = 0; c < y[3]; ++c)
          visit(((n * y[1] + h) * y[2] + w) * y[3] + c,
                ((n * x[1] + h / size[0]) * x[2] + w / size[1]) * x[3] + c);
}

void upsamplingForward(const RefTensor &x, const Tensors &, const Attrs &attrs,
                       RefTensor &y) {
  forEachUpsampledCell(x.shape, y.shape, attrs, [&](int64_t yi, int64_t xi) {
    y.data[yi] = x.data[xi];
  });
}

void upsamplingBackward(const RefTensor &x, const Tensors &, const Attrs &attrs,
                        const RefTensor &dy, RefTensor &dx, Tensors &) {
  forEachUpsampledCell(x.shape, dy.shape, attrs, [&](int64_t yi, int64_t xi) {
    dx.data[xi] += dy.data[yi];
  });
}

} // namespace

void registerConvolutionOps(RefRegistry &r) {
  r["conv1d"] = makeOp("conv1d", convOpForward<conv1dGeometry, false>,
                       convOpBackward<conv1dGeometry, false>);
  r["conv2d"] = makeOp("conv2d", convOpForward<conv2dGeometry, false>,
                       convOpBackward<conv2dGeometry, false>);
  r["conv2d_transpose"] =
      makeOp("conv2d_transpose", convOpForward<transposeGeometry, true>,
             convOpBackward<transposeGeometry, true>);
  r["depthwise_conv2d"] =
      makeOp("depthwise_conv2d", depthwiseForward, depthwiseBackward);
  r["separable_conv2d"] =
      makeOp("separable_conv2d", separableForward, separableBackward);
  r["dense"] = makeOp("dense", denseForward, denseBackward);
  r["maxpool2d"] = makeOp("maxpool2d", maxpoolForward, maxpoolBackward);
  r["avgpool2d"] = makeOp("avgpool2d", avgpoolForward, avgpoolBackward);
  r["global_avgpool2d"] =
      makeOp("global_avgpool2d", globalAvgpoolForward, globalAvgpoolBackward);
  r["global_maxpool2d"] =
      makeOp("global_maxpool2d", globalMaxpoolForward, globalMaxpoolBackward);
  r["zero_padding2d"] =
      makeOp("zero_padding2d", zeroPaddingForward, zeroPaddingBackward);
  r["upsampling2d"] =
      makeOp("upsampling2d", upsamplingForward, upsamplingBackward);
}

} // namespace dlc::ref
