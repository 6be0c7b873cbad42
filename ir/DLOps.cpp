//===- DLOps.cpp - the ops of the `dl` dialect ----------------------------===//
//
// The generic shape-rule path behind every catalog op (type and attribute
// conversion to the plain C++ of ir/ShapeRules.h), and the verifiers of the
// parameter ops.
//
//===----------------------------------------------------------------------===//
#include "ir/DLOps.h"

#include "ir/ShapeRules.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"

#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace dlc {
namespace dl {

namespace {

/// A catalog op's operands and attributes in shape-rule terms.
struct ShapeRuleCall {
  std::string op; // catalog name: "conv2d"
  std::vector<TensorInfo> inputs;
  Attrs attrs;
  ValueRange params; // the parameter operands, bias included
};

} // namespace

static std::string typeToString(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "'" << type << "'";
  return text;
}

/// The shape-rule element type of `type`, if the shape rules know it.
static std::optional<ElementType> toElementType(Type type) {
  if (type.isF32())
    return ElementType::F32;
  if (type.isF64())
    return ElementType::F64;
  if (type.isSignlessInteger(32))
    return ElementType::I32;
  return std::nullopt;
}

static Type fromElementType(MLIRContext *context, ElementType type) {
  switch (type) {
  case ElementType::F32:
    return Float32Type::get(context);
  case ElementType::F64:
    return Float64Type::get(context);
  case ElementType::I32:
    return IntegerType::get(context, 32);
  }
  return Type();
}

/// Converts the type of data operand #`index`: tensor<?xD1x...xT> is a
/// batched [D1, ...], tensor<T> an unbatched scalar. Returns an error
/// message, or "" on success.
static std::string toTensorInfo(Type type, unsigned index, TensorInfo &info) {
  std::string operand = "operand #" + std::to_string(index);
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return operand + " must be a ranked tensor, got " + typeToString(type);
  std::optional<ElementType> element = toElementType(tensor.getElementType());
  if (!element)
    return operand + " must have element type f32, f64 or i32, got " +
           typeToString(type);
  info.elementType = *element;
  info.shape.clear();
  if (tensor.getRank() == 0) {
    info.batched = false;
    return "";
  }
  ArrayRef<int64_t> dims = tensor.getShape();
  if (!ShapedType::isDynamic(dims.front()))
    return operand + " must have a dynamic leading batch dimension, got " +
           typeToString(type);
  for (int64_t dim : dims.drop_front()) {
    if (ShapedType::isDynamic(dim))
      return operand + " must be static except for the batch dimension, got " +
             typeToString(type);
  }
  info.batched = true;
  info.shape.assign(dims.begin() + 1, dims.end());
  return "";
}

/// The tensor type of a shape-rule result, or null if its shape is invalid.
static RankedTensorType fromTensorInfo(MLIRContext *context,
                                       const TensorInfo &info) {
  SmallVector<int64_t> dims;
  if (info.batched)
    dims.push_back(ShapedType::kDynamic);
  for (int64_t dim : info.shape) {
    if (dim < 0)
      return nullptr;
    dims.push_back(dim);
  }
  return RankedTensorType::get(dims,
                               fromElementType(context, info.elementType));
}

/// Converts an attribute dictionary to shape-rule attributes. BoolAttr is
/// tested before IntegerAttr, which it is a kind of. Attributes of other
/// kinds have no shape-rule meaning and are skipped.
static Attrs toAttrs(DictionaryAttr attributes) {
  Attrs attrs;
  if (!attributes)
    return attrs;
  for (NamedAttribute named : attributes) {
    std::string key = named.getName().str();
    Attribute value = named.getValue();
    if (auto boolAttr = dyn_cast<BoolAttr>(value)) {
      attrs[key] = boolAttr.getValue();
    } else if (auto intAttr = dyn_cast<IntegerAttr>(value)) {
      const APInt &v = intAttr.getValue();
      if (v.getSignificantBits() <= 64)
        attrs[key] = static_cast<int64_t>(v.getSExtValue());
    } else if (auto floatAttr = dyn_cast<FloatAttr>(value)) {
      attrs[key] = floatAttr.getValueAsDouble();
    } else if (auto stringAttr = dyn_cast<StringAttr>(value)) {
      attrs[key] = stringAttr.str();
    } else if (auto ints = dyn_cast<DenseI64ArrayAttr>(value)) {
      attrs[key] = std::vector<int64_t>(ints.asArrayRef().begin(),
                                        ints.asArrayRef().end());
    } else if (auto floats = dyn_cast<DenseF64ArrayAttr>(value)) {
      attrs[key] = std::vector<double>(floats.asArrayRef().begin(),
                                       floats.asArrayRef().end());
    }
  }
  return attrs;
}

/// Splits `operands` by `layout` and converts them and `attributes`.
/// Returns an error message, or "" on success.
static std::string prepareCall(StringRef opName, OperandLayout layout,
                               ValueRange operands, DictionaryAttr attributes,
                               ShapeRuleCall &call) {
  call.op =
      opName.starts_with("dl.") ? opName.drop_front(3).str() : opName.str();
  size_t numOperands = operands.size();
  size_t numInputs = numOperands;
  bool hasBias = false;
  if (layout.numInputs >= 0) {
    size_t required = size_t(layout.numInputs) + size_t(layout.numParams);
    size_t maximum = required + (layout.optionalBias ? 1 : 0);
    if (numOperands < required || numOperands > maximum)
      return "expects " + std::to_string(required) +
             (maximum > required ? " or " + std::to_string(maximum) : "") +
             " operands, got " + std::to_string(numOperands);
    numInputs = size_t(layout.numInputs);
    hasBias = numOperands == maximum && layout.optionalBias;
  }
  call.inputs.assign(numInputs, TensorInfo());
  for (size_t i = 0; i < numInputs; ++i) {
    std::string error = toTensorInfo(operands[i].getType(), i, call.inputs[i]);
    if (!error.empty())
      return error;
  }
  call.params = operands.drop_front(numInputs);
  call.attrs = toAttrs(attributes);
  if (layout.optionalBias)
    call.attrs["use_bias"] = hasBias;
  return "";
}

LogicalResult inferShapeRuleTypes(StringRef opName, OperandLayout layout,
                                  std::optional<Location> location,
                                  ValueRange operands,
                                  DictionaryAttr attributes,
                                  SmallVectorImpl<Type> &inferredReturnTypes) {
  auto fail = [&](const std::string &error, const std::string &hint) {
    if (location) {
      InFlightDiagnostic diag = emitError(*location)
                                << "'" << opName << "' op " << error;
      if (!hint.empty())
        diag.attachNote() << hint;
    }
    return failure();
  };
  ShapeRuleCall call;
  std::string error = prepareCall(opName, layout, operands, attributes, call);
  if (!error.empty())
    return fail(error, "");
  ShapeResult result = inferShapes(call.op, call.inputs, call.attrs);
  if (!result.ok())
    return fail(result.error, result.hint);
  MLIRContext *context = attributes ? attributes.getContext() : nullptr;
  if (!context && !operands.empty())
    context = operands.front().getContext();
  if (!context)
    return fail("has no operands and no attributes to infer types from", "");
  for (const TensorInfo &info : result.results) {
    RankedTensorType type = fromTensorInfo(context, info);
    if (!type)
      return fail("shape rule produced an invalid shape " +
                      formatShape(info.shape),
                  "");
    inferredReturnTypes.push_back(type);
  }
  return success();
}

LogicalResult verifyShapeRuleOp(Operation *op, OperandLayout layout) {
  ShapeRuleCall call;
  std::string error =
      prepareCall(op->getName().getStringRef(), layout, op->getOperands(),
                  op->getAttrDictionary(), call);
  if (!error.empty())
    return op->emitOpError(error);
  ShapeResult result = inferShapes(call.op, call.inputs, call.attrs);
  if (!result.ok()) {
    InFlightDiagnostic diag = op->emitOpError(result.error);
    if (!result.hint.empty())
      diag.attachNote() << result.hint;
    return diag;
  }
  if (result.results.empty())
    return op->emitOpError("shape rule produced no result");
  // Parameters take the element type of the op's result (for an embedding
  // the ids are i32 but the table is float).
  Type elementType =
      fromElementType(op->getContext(), result.results.front().elementType);
  std::vector<ParamSpec> specs = paramSpecs(call.op, call.inputs, call.attrs);
  if (specs.size() != call.params.size()) {
    std::string roles;
    for (const ParamSpec &spec : specs)
      roles += (roles.empty() ? "" : ", ") + spec.role;
    return op->emitOpError()
           << "expects " << specs.size() << " parameter operand(s) (" << roles
           << "), got " << call.params.size();
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    const ParamSpec &spec = specs[i];
    if (llvm::any_of(spec.shape, [](int64_t dim) { return dim < 0; }))
      return op->emitOpError() << "shape rule produced an invalid shape "
                               << formatShape(spec.shape) << " for parameter '"
                               << spec.role << "'";
    Type expected = RankedTensorType::get(spec.shape, elementType);
    Type actual = call.params[i].getType();
    if (actual != expected)
      return op->emitOpError() << "parameter '" << spec.role << "' (operand #"
                               << call.inputs.size() + i << ") must be "
                               << expected << ", got " << actual;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// ParameterOp
//===----------------------------------------------------------------------===//

LogicalResult ParameterOp::verify() {
  if (getInit().empty())
    return emitOpError("needs an initializer name");
  if (getFanInAttr().getInt() < 0 || getFanOutAttr().getInt() < 0)
    return emitOpError("fan_in and fan_out must not be negative");
  return success();
}

//===----------------------------------------------------------------------===//
// ParamOp
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  Operation *symbol =
      symbolTable.lookupNearestSymbolFrom(*this, getParameterAttr());
  if (!symbol)
    return emitOpError() << "refers to an unknown parameter "
                         << getParameterAttr();
  auto parameter = dyn_cast<ParameterOp>(symbol);
  if (!parameter)
    return emitOpError() << getParameterAttr() << " is not a 'dl.parameter'";
  if (parameter.getType() != getType())
    return emitOpError() << "has type " << getType() << " but parameter "
                         << getParameterAttr() << " has type "
                         << parameter.getType();
  return success();
}

} // namespace dl
} // namespace dlc

#define GET_OP_CLASSES
#include "ir/DLOps.cpp.inc"
