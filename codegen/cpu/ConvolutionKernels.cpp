//===- ConvolutionKernels.cpp - emitters of the convolution family --------===//
//
// The CpuKernels of conv1d, conv2d, conv2d_transpose, depthwise_conv2d,
// separable_conv2d, dense and the pools, forward and `_grad`. Each reads
// the shapes of its call's values and its attributes, declares the kernel's
// shape descriptor (codegen/cpu/kernels/Convolution.h) as a namespace-scope
// constant and calls the kernel template:
//
//   static constexpr dlk::Conv2dDims k17_dims{/*h=*/14, ...};
//   dlk::conv2d<T>(n, k17_dims, x, kernel, bias, y);
//
// A missing bias (use_bias = false: the forward op has one operand fewer,
// its gradient one result fewer) is passed as nullptr. A call whose shapes
// do not fit its op (which the verifier rules out) emits a static_assert
// naming the problem, so the generated program does not compile.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/ConvolutionDescriptor.h"
#include "codegen/cpu/CpuKernel.h"
#include "codegen/cpu/OperandUse.h"

#include "codegen/cpu/kernels/Convolution.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dlc::codegen {
namespace {

/// The ops of this file.
enum class ConvOp {
  Conv1d,
  Conv2d,
  Conv2dTranspose,
  DepthwiseConv2d,
  SeparableConv2d,
  Dense,
  MaxPool2d,
  AvgPool2d,
  GlobalMaxPool2d,
  GlobalAvgPool2d,
};

const char *opName(ConvOp op) {
  switch (op) {
  case ConvOp::Conv1d:
    return "conv1d";
  case ConvOp::Conv2d:
    return "conv2d";
  case ConvOp::Conv2dTranspose:
    return "conv2d_transpose";
  case ConvOp::DepthwiseConv2d:
    return "depthwise_conv2d";
  case ConvOp::SeparableConv2d:
    return "separable_conv2d";
  case ConvOp::Dense:
    return "dense";
  case ConvOp::MaxPool2d:
    return "maxpool2d";
  case ConvOp::AvgPool2d:
    return "avgpool2d";
  case ConvOp::GlobalMaxPool2d:
    return "global_maxpool2d";
  case ConvOp::GlobalAvgPool2d:
    return "global_avgpool2d";
  }
  return "";
}

/// Parameters before the optional bias.
int requiredParams(ConvOp op) {
  switch (op) {
  case ConvOp::SeparableConv2d:
    return 2;
  case ConvOp::MaxPool2d:
  case ConvOp::AvgPool2d:
  case ConvOp::GlobalMaxPool2d:
  case ConvOp::GlobalAvgPool2d:
    return 0;
  default:
    return 1;
  }
}

bool hasOptionalBias(ConvOp op) { return requiredParams(op) > 0; }

/// Elements are capped well below int64 overflow.
constexpr int64_t kMaxElements = int64_t(1) << 50;

/// a * b, or -1 when either is negative or the product exceeds kMaxElements.
int64_t checkedMul(int64_t a, int64_t b) {
  if (a < 0 || b < 0)
    return -1;
  if (a != 0 && b > kMaxElements / a)
    return -1;
  return a * b;
}

/// One call seen in forward terms: the shapes of x, the parameters and y.
struct CallShapes {
  Shape x, y;
  std::vector<Shape> params; ///< required params, then the bias if any
  bool hasBias = false;
  bool grad = false;
};

/// The shape of value `id`, or false when the id is out of range.
bool shapeOf(const KernelProgram &program, int id, Shape &shape) {
  if (id < 0 || size_t(id) >= program.values.size())
    return false;
  shape = program.values[size_t(id)].type.shape;
  return true;
}

/// Splits `call` into forward operands and checks the counts.
std::string readShapes(const KernelProgram &program, const KernelCall &call,
                       ConvOp op, bool grad, CallShapes &shapes) {
  const size_t required = 1 + size_t(requiredParams(op));
  const size_t maximum = required + (hasOptionalBias(op) ? 1 : 0);
  // Forward: operands = x, params; gradient: results = dx, dparams and
  // operands = x, params, y, dy.
  const size_t forwardOperands =
      grad ? call.results.size() : call.operands.size();
  if (forwardOperands < required || forwardOperands > maximum)
    return std::string("expects ") + std::to_string(required) +
           (maximum > required ? " or " + std::to_string(maximum) : "") +
           (grad ? " results" : " operands") + ", got " +
           std::to_string(forwardOperands);
  if (grad ? call.operands.size() != forwardOperands + 2
           : call.results.size() != 1)
    return grad ? "expects the forward operands, y and dy as operands"
                : "expects one result";
  shapes.grad = grad;
  shapes.hasBias = forwardOperands == maximum && hasOptionalBias(op);
  if (!shapeOf(program, call.operands[0], shapes.x))
    return "has an operand that is not a value";
  shapes.params.resize(forwardOperands - 1);
  for (size_t i = 1; i < forwardOperands; ++i)
    if (!shapeOf(program, call.operands[i], shapes.params[i - 1]))
      return "has an operand that is not a value";
  int yId = grad ? call.operands[forwardOperands] : call.results[0];
  if (!shapeOf(program, yId, shapes.y))
    return "has a result that is not a value";
  return "";
}

/// A descriptor's fields in declaration order, for the emitted initializer.
using Fields = std::vector<std::pair<const char *, int64_t>>;

std::string formatFields(const Fields &fields) {
  std::string text = "{";
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i)
      text += ", ";
    text += std::string("/*") + fields[i].first + "=*/" +
            std::to_string(fields[i].second);
  }
  return text + "}";
}

/// The fields a convolution and a transposed one share, in their
/// descriptors' order (Conv2dDims, Conv2dTransposeDims).
template <typename Dims> Fields geometryFields(const Dims &d) {
  return {{"h", d.h},           {"w", d.w},
          {"c", d.c},           {"oh", d.oh},
          {"ow", d.ow},         {"f", d.f},
          {"kh", d.kh},         {"kw", d.kw},
          {"sh", d.sh},         {"sw", d.sw},
          {"dh", d.dh},         {"dw", d.dw},
          {"padTop", d.padTop}, {"padLeft", d.padLeft}};
}

/// Whether every value is positive.
bool allPositive(const Shape &values) {
  for (int64_t v : values)
    if (v <= 0)
      return false;
  return true;
}

bool allNonNegative(const Shape &values) {
  for (int64_t v : values)
    if (v < 0)
      return false;
  return true;
}

/// A descriptor: its C++ type, initializer and workspace elements.
struct Descriptor {
  std::string type;
  std::string init;
  int64_t workspaceElements = 0;
};

std::string rankError(const char *what, const Shape &shape, size_t rank) {
  return std::string("expects ") + what + " of rank " + std::to_string(rank) +
         ", got " + formatShape(shape);
}

/// The window attributes of a 2-D (spatial = 2) or 1-D conv.
struct Window {
  Shape strides, dilation, pad;
};

std::string readWindow(const Attrs &attrs, size_t spatial, Window &window) {
  window.strides = getInts(attrs, "strides", Shape(spatial, 1));
  window.dilation = getInts(attrs, "dilation", Shape(spatial, 1));
  window.pad = getInts(attrs, "pad", Shape(2 * spatial, 0));
  if (window.strides.size() != spatial || window.dilation.size() != spatial ||
      window.pad.size() != 2 * spatial || !allPositive(window.strides) ||
      !allPositive(window.dilation) || !allNonNegative(window.pad))
    return "has malformed strides, dilation or pad";
  return "";
}

/// Fields of a Conv2dDims with its chunk for `maxBatch`.
std::string conv2dFields(const Shape &x, const Shape &k, const Shape &y,
                         const Window &wd, int64_t groups, int64_t maxBatch,
                         Descriptor &desc) {
  // x [h, w, c], kernel [kh, kw, c/g, f], y [oh, ow, f]
  if (groups <= 0 || x[2] % groups != 0 || k[2] * groups != x[2] ||
      k[3] != y[2] || y[2] % groups != 0)
    return "has kernel " + formatShape(k) + " that does not fit input " +
           formatShape(x) + ", output " + formatShape(y) + " and groups " +
           std::to_string(groups);
  if (!allPositive(x) || !allPositive(k) || !allPositive(y))
    return "has an empty dimension";
  dlk::Conv2dDims d{
      x[0],          x[1],          x[2],           y[0],
      y[1],          y[2],          k[0],           k[1],
      wd.strides[0], wd.strides[1], wd.dilation[0], wd.dilation[1],
      wd.pad[0],     wd.pad[2],     groups,         1};
  int64_t row = checkedMul(
      checkedMul(checkedMul(d.oh, d.ow), checkedMul(d.kh, d.kw)), k[2]);
  if (row < 0)
    return "is too large";
  d.chunk = dlk::convChunk(row, maxBatch);
  desc.type = "dlk::Conv2dDims";
  Fields fields = geometryFields(d);
  fields.push_back({"groups", d.groups});
  fields.push_back({"chunk", d.chunk});
  desc.init = formatFields(fields);
  desc.workspaceElements = dlk::isPointwise(d) ? 0 : checkedMul(d.chunk, row);
  return "";
}

/// Builds the descriptor of `op` for shapes `s`.
std::string describe(ConvOp op, const CallShapes &s, const Attrs &attrs,
                     int64_t maxBatch, Descriptor &desc) {
  const Shape &x = s.x, &y = s.y;
  switch (op) {
  case ConvOp::Conv1d: {
    if (x.size() != 2 || y.size() != 2 || s.params[0].size() != 3)
      return rankError("input [L, C], kernel [k, C/G, F] and output [OL, F]", x,
                       2);
    Window w1;
    std::string error = readWindow(attrs, 1, w1);
    if (!error.empty())
      return error;
    Window wd{
        {1, w1.strides[0]}, {1, w1.dilation[0]}, {0, 0, w1.pad[0], w1.pad[1]}};
    const Shape &k = s.params[0];
    return conv2dFields({1, x[0], x[1]}, {1, k[0], k[1], k[2]}, {1, y[0], y[1]},
                        wd, getInt(attrs, "groups", 1), maxBatch, desc);
  }
  case ConvOp::Conv2d: {
    if (x.size() != 3 || y.size() != 3 || s.params[0].size() != 4)
      return rankError("input, output [H, W, C] and kernel of rank 4", x, 3);
    Window wd;
    std::string error = readWindow(attrs, 2, wd);
    if (!error.empty())
      return error;
    return conv2dFields(x, s.params[0], y, wd, getInt(attrs, "groups", 1),
                        maxBatch, desc);
  }
  case ConvOp::Conv2dTranspose: {
    if (x.size() != 3 || y.size() != 3 || s.params[0].size() != 4)
      return rankError("input, output [H, W, C] and kernel of rank 4", x, 3);
    Window wd;
    std::string error = readWindow(attrs, 2, wd);
    if (!error.empty())
      return error;
    const Shape &k = s.params[0]; // [kh, kw, f, c]
    // The equivalent conv2d y -> x decides the chunk and the workspace.
    Descriptor conv;
    error = conv2dFields(y, k, x, wd, 1, maxBatch, conv);
    if (!error.empty())
      return error;
    dlk::Conv2dTransposeDims d{
        x[0],           x[1],           x[2],      y[0],          y[1],
        y[2],           k[0],           k[1],      wd.strides[0], wd.strides[1],
        wd.dilation[0], wd.dilation[1], wd.pad[0], wd.pad[2],     1};
    int64_t row = checkedMul(checkedMul(d.h, d.w), checkedMul(d.kh, d.kw));
    d.chunk = dlk::convChunk(checkedMul(row, d.f), maxBatch);
    desc.type = "dlk::Conv2dTransposeDims";
    Fields fields = geometryFields(d);
    fields.push_back({"chunk", d.chunk});
    desc.init = formatFields(fields);
    desc.workspaceElements = dlk::convWorkspaceElements(dlk::convOf(d));
    return "";
  }
  case ConvOp::DepthwiseConv2d:
  case ConvOp::SeparableConv2d: {
    const Shape &k = s.params[0]; // [kh, kw, c, m]
    if (x.size() != 3 || y.size() != 3 || k.size() != 4)
      return rankError("input, output [H, W, C] and kernel of rank 4", x, 3);
    Window wd;
    std::string error = readWindow(attrs, 2, wd);
    if (!error.empty())
      return error;
    if (!allPositive(x) || !allPositive(y) || !allPositive(k))
      return "has an empty dimension";
    const int64_t cm = checkedMul(k[2], k[3]);
    if (k[2] != x[2] || cm < 0)
      return "has depthwise kernel " + formatShape(k) +
             " that does not fit input " + formatShape(x);
    Fields fields{{"h", x[0]},
                  {"w", x[1]},
                  {"c", x[2]},
                  {"oh", y[0]},
                  {"ow", y[1]},
                  {"m", k[3]},
                  {"kh", k[0]},
                  {"kw", k[1]},
                  {"sh", wd.strides[0]},
                  {"sw", wd.strides[1]},
                  {"dh", wd.dilation[0]},
                  {"dw", wd.dilation[1]},
                  {"padTop", wd.pad[0]},
                  {"padLeft", wd.pad[2]}};
    if (op == ConvOp::DepthwiseConv2d) {
      if (y[2] != cm)
        return "has output " + formatShape(y) + " that does not fit kernel " +
               formatShape(k);
      desc.type = "dlk::DepthwiseConv2dDims";
      desc.init = formatFields(fields);
      return "";
    }
    const Shape &p = s.params[1]; // [1, 1, c*m, filters]
    if (p.size() != 4 || p[0] != 1 || p[1] != 1 || p[2] != cm || p[3] != y[2])
      return "has pointwise kernel " + formatShape(p) +
             " that does not fit output " + formatShape(y);
    desc.type = "dlk::SeparableConv2dDims";
    desc.init = "{" + formatFields(fields) + ", /*filters=*/" +
                std::to_string(y[2]) + "}";
    desc.workspaceElements = checkedMul(
        2, checkedMul(maxBatch, checkedMul(checkedMul(y[0], y[1]), cm)));
    return "";
  }
  case ConvOp::Dense: {
    const Shape &k = s.params[0]; // [d, units]
    if (x.empty() || y.size() != x.size() || k.size() != 2 ||
        k[0] != x.back() || k[1] != y.back())
      return "has kernel " + formatShape(k) + " that does not fit input " +
             formatShape(x) + " and output " + formatShape(y);
    int64_t rows = 1;
    for (size_t i = 0; i + 1 < x.size(); ++i)
      rows = checkedMul(rows, x[i]);
    if (rows < 0)
      return "has a malformed input " + formatShape(x);
    desc.type = "dlk::DenseDims";
    desc.init = formatFields({{"rows", rows}, {"d", k[0]}, {"units", k[1]}});
    return "";
  }
  case ConvOp::MaxPool2d:
  case ConvOp::AvgPool2d: {
    if (x.size() != 3 || y.size() != 3 || y[2] != x[2])
      return rankError("input and output [H, W, C] of equal channels", x, 3);
    Shape pool = getInts(attrs, "pool_size", {1, 1});
    Shape strides = getInts(attrs, "strides", pool);
    Shape pad = getInts(attrs, "pad", {0, 0, 0, 0});
    if (pool.size() != 2 || strides.size() != 2 || pad.size() != 4 ||
        !allPositive(pool) || !allPositive(strides) || !allNonNegative(pad) ||
        !allNonNegative(x) || !allNonNegative(y))
      return "has malformed pool_size, strides or pad";
    desc.type = "dlk::Pool2dDims";
    desc.init = formatFields({{"h", x[0]},
                              {"w", x[1]},
                              {"c", x[2]},
                              {"oh", y[0]},
                              {"ow", y[1]},
                              {"ph", pool[0]},
                              {"pw", pool[1]},
                              {"sh", strides[0]},
                              {"sw", strides[1]},
                              {"padTop", pad[0]},
                              {"padLeft", pad[2]}});
    return "";
  }
  case ConvOp::GlobalMaxPool2d:
  case ConvOp::GlobalAvgPool2d:
    if (x.size() != 3 || y.size() != 1 || y[0] != x[2] || !allNonNegative(x))
      return rankError("input [H, W, C] and output [C]", x, 3);
    desc.type = "dlk::GlobalPool2dDims";
    desc.init = formatFields({{"h", x[0]}, {"w", x[1]}, {"c", x[2]}});
    return "";
  }
  return "is not a convolution op";
}

/// Whether the kernel (the gradient with `grad`) takes a workspace: the
/// convolutions' input gradient stores its columns (conv2d_grad, and
/// conv2d_transpose's forward, which is that product); their forward
/// product and kernel gradient read the columns straight from the input.
bool usesWorkspace(ConvOp op, bool grad) {
  switch (op) {
  case ConvOp::Conv1d:
  case ConvOp::Conv2d:
    return grad;
  case ConvOp::Conv2dTranspose:
    return !grad;
  case ConvOp::SeparableConv2d:
    return true;
  default:
    return false;
  }
}

/// The descriptor of `call`, or an error.
std::string describeCall(const KernelProgram &program, const KernelCall &call,
                         ConvOp op, bool grad, CallShapes &shapes,
                         Descriptor &desc) {
  std::string error = readShapes(program, call, op, grad, shapes);
  if (error.empty())
    error = describe(op, shapes, call.attrs, program.maxBatch, desc);
  if (error.empty() && desc.workspaceElements < 0)
    error = "needs too large a workspace";
  return error;
}

template <ConvOp Op, bool Grad> CpuKernelCode emitCall(const CpuKernelArgs &a) {
  CpuKernelCode code;
  CallShapes shapes;
  Descriptor desc;
  std::string kernel = std::string(opName(Op)) + (Grad ? "_grad" : "");
  std::string error = describeCall(a.program, a.call, Op, Grad, shapes, desc);
  if (error.empty() && (a.operands.size() != a.call.operands.size() ||
                        a.results.size() != a.call.results.size()))
    error = "got argument expressions that do not match its values";
  if (!error.empty())
    return malformedCall(a, error);
  const std::string dims = a.id + "_dims";
  code.declarations =
      "static constexpr " + desc.type + " " + dims + desc.init + ";\n";
  // Forward operands (x, params, bias or nullptr), then for a gradient y,
  // dy and the results (with nullptr for a missing dbias), else y.
  const size_t forwardOperands = 1 + shapes.params.size();
  std::vector<std::string> args;
  for (size_t i = 0; i < forwardOperands; ++i)
    args.push_back(a.operands[i]);
  const bool optionalBias = hasOptionalBias(Op);
  if (optionalBias && !shapes.hasBias)
    args.push_back("nullptr");
  if (Grad) {
    args.push_back(a.operands[forwardOperands]);
    args.push_back(a.operands[forwardOperands + 1]);
    for (const std::string &result : a.results)
      args.push_back(result);
    if (optionalBias && !shapes.hasBias)
      args.push_back("nullptr");
  } else {
    args.push_back(a.results[0]);
  }
  if (usesWorkspace(Op, Grad))
    args.push_back(desc.workspaceElements > 0 ? a.workspace : "nullptr");
  code.statement = "dlk::" + kernel + "<T>(n, " + dims;
  for (const std::string &arg : args)
    code.statement += ", " + arg;
  code.statement += ");";
  return code;
}

template <ConvOp Op, bool Grad>
int64_t workspaceBytes(const KernelProgram &program, const KernelCall &call,
                       int elementBytes) {
  CallShapes shapes;
  Descriptor desc;
  if (!usesWorkspace(Op, Grad) ||
      !describeCall(program, call, Op, Grad, shapes, desc).empty() ||
      elementBytes <= 0)
    return 0;
  int64_t bytes = checkedMul(desc.workspaceElements, elementBytes);
  return bytes < 0 ? 0 : bytes;
}

template <ConvOp Op> void add(CpuKernelRegistry &registry) {
  CpuKernel forward;
  forward.emit = emitCall<Op, false>;
  CpuKernel gradient;
  gradient.emit = emitCall<Op, true>;
  if (usesWorkspace(Op, false))
    forward.workspaceBytes = workspaceBytes<Op, false>;
  if (usesWorkspace(Op, true))
    gradient.workspaceBytes = workspaceBytes<Op, true>;
  // What the gradient kernel reads (codegen/cpu/OperandUse.h).
  switch (Op) {
  case ConvOp::SeparableConv2d:
    gradient.readsOperand = operand_use::separableGradient;
    break;
  case ConvOp::MaxPool2d:
  case ConvOp::GlobalMaxPool2d:
    gradient.readsOperand = operand_use::allButForwardResult;
    break;
  case ConvOp::AvgPool2d:
  case ConvOp::GlobalAvgPool2d:
    gradient.readsOperand = operand_use::onlyLast;
    break;
  default:
    gradient.readsOperand = operand_use::weightedGradient;
  }
  registry[opName(Op)] = forward;
  registry[std::string(opName(Op)) + "_grad"] = gradient;
}

} // namespace

std::string describeConvolutionCall(const KernelProgram &program,
                                    const KernelCall &call,
                                    const std::string &op, bool grad,
                                    ConvolutionDescriptor &descriptor) {
  ConvOp convOp;
  if (op == opName(ConvOp::Conv2d))
    convOp = ConvOp::Conv2d;
  else if (op == opName(ConvOp::DepthwiseConv2d))
    convOp = ConvOp::DepthwiseConv2d;
  else if (op == opName(ConvOp::Dense))
    convOp = ConvOp::Dense;
  else
    return "is not a conv2d, depthwise_conv2d or dense";
  CallShapes shapes;
  Descriptor desc;
  std::string error = describeCall(program, call, convOp, grad, shapes, desc);
  if (!error.empty())
    return error;
  int64_t outputElements = checkedElementCount(shapes.y);
  if (outputElements < 0)
    return "is too large";
  descriptor.type = desc.type;
  descriptor.init = desc.init;
  descriptor.workspaceElements = desc.workspaceElements;
  descriptor.hasBias = shapes.hasBias;
  descriptor.outputElements = outputElements;
  return "";
}

void registerConvolutionKernels(CpuKernelRegistry &registry) {
  add<ConvOp::Conv1d>(registry);
  add<ConvOp::Conv2d>(registry);
  add<ConvOp::Conv2dTranspose>(registry);
  add<ConvOp::DepthwiseConv2d>(registry);
  add<ConvOp::SeparableConv2d>(registry);
  add<ConvOp::Dense>(registry);
  add<ConvOp::MaxPool2d>(registry);
  add<ConvOp::AvgPool2d>(registry);
  add<ConvOp::GlobalMaxPool2d>(registry);
  add<ConvOp::GlobalAvgPool2d>(registry);
}

} // namespace dlc::codegen
