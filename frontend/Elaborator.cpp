//===- Elaborator.cpp -----------------------------------------------------===//
#include "frontend/Elaborator.h"

#include "frontend/ArgumentBinder.h"
#include "frontend/GraphBuilder.h"
#include "frontend/LayerCatalog.h"
#include "frontend/TrainSection.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace dlc {

namespace {

constexpr int kMaxDepth = 64;        // nested definitions / blocks
constexpr size_t kMaxNodes = 100000; // ops in one graph
constexpr int kMaxExprDepth = 256;   // expression nesting

/// The built-in compile-time functions usable in blocks.
const std::vector<std::string> &builtinFunctions() {
  static const std::vector<std::string> names = {"channels", "shape", "len",
                                                 "min", "max"};
  return names;
}

/// One running body: a definition being elaborated.
struct Scope {
  std::string prefix; // parameter-name prefix: "" or "encoder."
  bool trainable = true;
  bool topLevel = false; // layers here get summary rows
  std::map<std::string, SemaValue> vars;
  std::map<std::string, int> counters;
  std::map<std::string, SourceLoc> claimed; // layer names used here
};

class Elaborator {
public:
  Elaborator(const Program &program, DiagnosticEngine &diags)
      : program_(program), diags_(diags), builder_(graph_, diags) {}

  std::optional<Graph> run(const std::string &modelName);

private:
  // Expressions.
  SemaValue eval(Scope &scope, const Expr &expr);
  SemaValue evalName(Scope &scope, const Expr &expr);
  SemaValue evalCall(Scope &scope, const Expr &expr);
  SemaValue evalIndex(Scope &scope, const Expr &expr);
  SemaValue evalUnary(Scope &scope, const Expr &expr);
  SemaValue evalBinary(Scope &scope, const Expr &expr);
  SemaValue callBuiltinFunction(const std::string &name, const Expr &expr,
                                const std::vector<BoundArg> &args);
  SemaValue constructLayer(Scope &scope, const std::string &type,
                           const Expr &call, std::vector<BoundArg> args);
  SemaValue constructDefinition(Scope &scope, const Decl &decl,
                                const Expr &call,
                                const std::vector<BoundArg> &args);

  // Layers.
  std::string claimName(Scope &scope, const std::string &base,
                        const SemaValue &explicitName, SourceLoc loc);
  bool collectTensors(const SemaValue &value, std::vector<int> &out);
  SemaValue applyLayer(Scope &scope, LayerInstance &layer,
                       const std::vector<int> &inputs, SourceLoc loc);
  std::optional<std::vector<int>> applyBuiltin(LayerInstance &layer,
                                               const std::vector<int> &inputs,
                                               SourceLoc loc);
  std::optional<std::vector<int>>
  applyDefinition(Scope &outer, LayerInstance &layer,
                  const std::vector<int> &inputs, SourceLoc loc);

  // Bodies.
  std::optional<std::vector<int>>
  runSequentialBody(Scope &scope, const std::vector<StmtPtr> &body, int input);
  std::optional<std::vector<int>>
  runStatements(Scope &scope, const std::vector<StmtPtr> &body,
                bool allowReturn, bool &returned);
  bool runStatement(Scope &scope, const Stmt &stmt, bool isLast,
                    bool allowReturn, std::optional<std::vector<int>> &result,
                    bool &returned);
  bool checkInputsUsed(const std::vector<int> &inputs,
                       const std::vector<InputDecl> &decls,
                       const std::string &owner);
  std::optional<TensorInfo> evalType(Scope &scope, const InputDecl &input);
  void warnDeadResults();

  SemaValue fail() { return SemaValue::none(); }
  std::vector<std::string> knownCallables(const Scope &scope) const;
  static std::vector<std::string> variableNames(const Scope &scope);

  const Program &program_;
  DiagnosticEngine &diags_;
  Graph graph_;
  GraphBuilder builder_;
  std::vector<const Decl *> active_; // definitions being elaborated
  int exprDepth_ = 0;
};

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

SemaValue Elaborator::eval(Scope &scope, const Expr &expr) {
  if (diags_.tooManyErrors())
    return fail();
  if (exprDepth_ >= kMaxExprDepth) {
    diags_.error(expr.loc, "expression nested too deeply");
    return fail();
  }
  struct DepthGuard {
    int &depth;
    explicit DepthGuard(int &d) : depth(d) { ++depth; }
    ~DepthGuard() { --depth; }
  } guard(exprDepth_);

  switch (expr.kind) {
  case Expr::Kind::Number:
  case Expr::Kind::String:
  case Expr::Kind::Bool:
    return *literalValue(expr);
  case Expr::Kind::Name:
    return evalName(scope, expr);
  case Expr::Kind::Call:
    return evalCall(scope, expr);
  case Expr::Kind::Index:
    return evalIndex(scope, expr);
  case Expr::Kind::Unary:
    return evalUnary(scope, expr);
  case Expr::Kind::Binary:
    return evalBinary(scope, expr);
  case Expr::Kind::List:
  case Expr::Kind::Tuple: {
    SemaValue list;
    list.kind = SemaValue::Kind::List;
    list.loc = expr.loc;
    for (const ExprPtr &item : expr.operands) {
      SemaValue v = eval(scope, *item);
      if (v.kind == SemaValue::Kind::None)
        return fail();
      list.items.push_back(v);
    }
    return list;
  }
  case Expr::Kind::Sequential: {
    auto layer = std::make_shared<LayerInstance>();
    layer->type = "sequential";
    layer->inlineBody = &expr;
    layer->loc = expr.loc;
    layer->trainable = scope.trainable;
    layer->config = std::make_shared<ConfigMap>();
    layer->path = claimName(scope, "sequential", {}, expr.loc);
    SemaValue v;
    v.kind = SemaValue::Kind::Layer;
    v.loc = expr.loc;
    v.layer = layer;
    return v;
  }
  }
  return fail();
}

std::vector<std::string> Elaborator::knownCallables(const Scope &scope) const {
  std::vector<std::string> names = layerNames();
  for (const auto &[name, decl] : program_.definitions)
    names.push_back(name);
  for (const std::string &name : builtinFunctions())
    names.push_back(name);
  for (const auto &[name, value] : scope.vars)
    names.push_back(name);
  return names;
}

std::vector<std::string> Elaborator::variableNames(const Scope &scope) {
  std::vector<std::string> names;
  for (const auto &[name, value] : scope.vars)
    names.push_back(name);
  return names;
}

SemaValue Elaborator::evalName(Scope &scope, const Expr &expr) {
  auto var = scope.vars.find(expr.text);
  if (var != scope.vars.end()) {
    SemaValue v = var->second;
    v.loc = expr.loc;
    return v;
  }
  bool callable = program_.definitions.count(expr.text) ||
                  findLayer(expr.text) ||
                  std::count(builtinFunctions().begin(),
                             builtinFunctions().end(), expr.text);
  return SemaValue::ofText(callable ? SemaValue::Kind::Callable
                                    : SemaValue::Kind::Word,
                           expr.text, expr.loc);
}

SemaValue Elaborator::evalIndex(Scope &scope, const Expr &expr) {
  SemaValue base = eval(scope, *expr.operands[0]);
  SemaValue index = eval(scope, *expr.operands[1]);
  if (base.kind == SemaValue::Kind::None || index.kind == SemaValue::Kind::None)
    return fail();
  if (base.kind != SemaValue::Kind::List &&
      base.kind != SemaValue::Kind::Tuple) {
    diags_.error(expr.loc, "cannot index " + describeValue(base, graph_),
                 "only lists such as shape(x) can be indexed");
    return fail();
  }
  if (index.kind != SemaValue::Kind::Int) {
    diags_.error(index.loc, "an index must be an integer, got " +
                                describeValue(index, graph_));
    return fail();
  }
  int64_t size = static_cast<int64_t>(base.items.size());
  int64_t i = index.intValue < 0 ? index.intValue + size : index.intValue;
  if (i < 0 || i >= size) {
    diags_.error(index.loc, "index " + std::to_string(index.intValue) +
                                " is out of range for a list of " +
                                std::to_string(size) +
                                (size == 1 ? " item" : " items"));
    return fail();
  }
  SemaValue item = base.items[i];
  item.loc = expr.loc;
  return item;
}

SemaValue Elaborator::evalUnary(Scope &scope, const Expr &expr) {
  SemaValue v = eval(scope, *expr.operands[0]);
  if (v.kind == SemaValue::Kind::None)
    return fail();
  if (expr.text == "not") {
    if (v.kind != SemaValue::Kind::Bool) {
      diags_.error(expr.loc, "'not' needs true or false, got " +
                                 describeValue(v, graph_));
      return fail();
    }
    return SemaValue::ofBool(!v.boolValue, expr.loc);
  }
  if (!v.isNumber()) {
    diags_.error(expr.loc, "'" + expr.text + "' needs a number, got " +
                               describeValue(v, graph_));
    return fail();
  }
  if (expr.text == "-") {
    if (v.kind == SemaValue::Kind::Int)
      return SemaValue::ofInt(-v.intValue, expr.loc);
    return SemaValue::ofFloat(-v.floatValue, expr.loc);
  }
  v.loc = expr.loc;
  return v;
}

static bool sameValue(const SemaValue &a, const SemaValue &b) {
  if (a.isNumber() && b.isNumber())
    return a.asDouble() == b.asDouble();
  if (a.kind != b.kind)
    return false;
  switch (a.kind) {
  case SemaValue::Kind::Bool:
    return a.boolValue == b.boolValue;
  case SemaValue::Kind::String:
  case SemaValue::Kind::Word:
    return a.text == b.text;
  case SemaValue::Kind::List:
    if (a.items.size() != b.items.size())
      return false;
    for (size_t i = 0; i < a.items.size(); ++i)
      if (!sameValue(a.items[i], b.items[i]))
        return false;
    return true;
  default:
    return false;
  }
}

SemaValue Elaborator::evalBinary(Scope &scope, const Expr &expr) {
  const std::string &op = expr.text;
  SemaValue lhs = eval(scope, *expr.operands[0]);
  if (lhs.kind == SemaValue::Kind::None)
    return fail();
  if (op == "and" || op == "or") {
    if (lhs.kind != SemaValue::Kind::Bool) {
      diags_.error(lhs.loc, "'" + op + "' needs true or false, got " +
                                describeValue(lhs, graph_));
      return fail();
    }
    if ((op == "and" && !lhs.boolValue) || (op == "or" && lhs.boolValue))
      return SemaValue::ofBool(lhs.boolValue, expr.loc);
    SemaValue rhs = eval(scope, *expr.operands[1]);
    if (rhs.kind == SemaValue::Kind::None)
      return fail();
    if (rhs.kind != SemaValue::Kind::Bool) {
      diags_.error(rhs.loc, "'" + op + "' needs true or false, got " +
                                describeValue(rhs, graph_));
      return fail();
    }
    return SemaValue::ofBool(rhs.boolValue, expr.loc);
  }
  SemaValue rhs = eval(scope, *expr.operands[1]);
  if (rhs.kind == SemaValue::Kind::None)
    return fail();
  if (op == "==" || op == "!=") {
    bool comparable =
        (lhs.isNumber() && rhs.isNumber()) ||
        (lhs.kind == rhs.kind && lhs.kind != SemaValue::Kind::Tensor &&
         lhs.kind != SemaValue::Kind::Layer &&
         lhs.kind != SemaValue::Kind::Callable);
    if (!comparable) {
      diags_.error(expr.loc,
                   "cannot compare " + describeValue(lhs, graph_) + " with " +
                       describeValue(rhs, graph_),
                   "compare numbers, words or lists, e.g. channels(x) != 64");
      return fail();
    }
    bool equal = sameValue(lhs, rhs);
    return SemaValue::ofBool(op == "==" ? equal : !equal, expr.loc);
  }
  if (!lhs.isNumber() || !rhs.isNumber()) {
    diags_.error(expr.loc, "'" + op + "' needs numbers, got " +
                               describeValue(lhs, graph_) + " and " +
                               describeValue(rhs, graph_));
    return fail();
  }
  double a = lhs.asDouble(), b = rhs.asDouble();
  if (op == "<")
    return SemaValue::ofBool(a < b, expr.loc);
  if (op == "<=")
    return SemaValue::ofBool(a <= b, expr.loc);
  if (op == ">")
    return SemaValue::ofBool(a > b, expr.loc);
  if (op == ">=")
    return SemaValue::ofBool(a >= b, expr.loc);
  bool ints =
      lhs.kind == SemaValue::Kind::Int && rhs.kind == SemaValue::Kind::Int;
  if ((op == "/" || op == "%") && b == 0) {
    diags_.error(expr.loc, "division by zero");
    return fail();
  }
  if (ints && op != "/") {
    int64_t x = lhs.intValue, y = rhs.intValue, r = 0;
    bool overflow = false;
    if (op == "+")
      overflow = __builtin_add_overflow(x, y, &r);
    else if (op == "-")
      overflow = __builtin_sub_overflow(x, y, &r);
    else if (op == "*")
      overflow = __builtin_mul_overflow(x, y, &r);
    else if (op == "%") {
      if (x == INT64_MIN && y == -1)
        overflow = true;
      else
        r = ((x % y) + y) % y;
    }
    if (overflow) {
      diags_.error(expr.loc, "integer overflow in '" + op + "'");
      return fail();
    }
    return SemaValue::ofInt(r, expr.loc);
  }
  double r = 0;
  if (op == "+")
    r = a + b;
  else if (op == "-")
    r = a - b;
  else if (op == "*")
    r = a * b;
  else if (op == "/")
    r = a / b;
  else if (op == "%")
    r = std::fmod(a, b);
  if (!std::isfinite(r)) {
    diags_.error(expr.loc, "the result of '" + op + "' is not finite");
    return fail();
  }
  return SemaValue::ofFloat(r, expr.loc);
}

SemaValue Elaborator::callBuiltinFunction(const std::string &name,
                                          const Expr &expr,
                                          const std::vector<BoundArg> &args) {
  for (const BoundArg &arg : args)
    if (!arg.name.empty()) {
      diags_.error(arg.loc, name + "() takes no keyword arguments");
      return fail();
    }
  if (name == "min" || name == "max") {
    if (args.empty()) {
      diags_.error(expr.loc, name + "() needs at least one number");
      return fail();
    }
    SemaValue best = args[0].value;
    for (const BoundArg &arg : args) {
      if (!arg.value.isNumber()) {
        diags_.error(arg.loc, name + "() needs numbers, got " +
                                  describeValue(arg.value, graph_));
        return fail();
      }
      if ((name == "min") == (arg.value.asDouble() < best.asDouble()))
        best = arg.value;
    }
    best.loc = expr.loc;
    return best;
  }
  if (args.size() != 1) {
    diags_.error(expr.loc, name + "() takes exactly one argument");
    return fail();
  }
  const SemaValue &arg = args[0].value;
  if (name == "len") {
    if (arg.kind != SemaValue::Kind::List &&
        arg.kind != SemaValue::Kind::Tuple) {
      diags_.error(args[0].loc,
                   "len() needs a list, got " + describeValue(arg, graph_));
      return fail();
    }
    return SemaValue::ofInt(static_cast<int64_t>(arg.items.size()), expr.loc);
  }
  if (arg.kind != SemaValue::Kind::Tensor) {
    diags_.error(args[0].loc,
                 name + "() needs a tensor, got " + describeValue(arg, graph_),
                 arg.kind == SemaValue::Kind::Word
                     ? "'" + arg.text + "' is not a defined name"
                     : "");
    return fail();
  }
  const Shape &shape = graph_.values[arg.tensor].type.shape;
  if (name == "channels") {
    if (shape.empty()) {
      diags_.error(args[0].loc, "channels() of a scalar-per-example tensor");
      return fail();
    }
    return SemaValue::ofInt(shape.back(), expr.loc);
  }
  SemaValue list;
  list.kind = SemaValue::Kind::List;
  list.loc = expr.loc;
  for (int64_t d : shape)
    list.items.push_back(SemaValue::ofInt(d, expr.loc));
  return list;
}

SemaValue Elaborator::evalCall(Scope &scope, const Expr &expr) {
  SemaValue callee = eval(scope, *expr.callee);
  if (callee.kind == SemaValue::Kind::None)
    return fail();
  std::vector<BoundArg> args;
  bool argsOk = true;
  for (const Argument &arg : expr.args) {
    BoundArg bound;
    bound.name = arg.name;
    bound.loc = arg.loc;
    bound.value = eval(scope, *arg.value);
    if (bound.value.kind == SemaValue::Kind::None)
      argsOk = false;
    args.push_back(std::move(bound));
  }
  if (!argsOk)
    return fail();

  switch (callee.kind) {
  case SemaValue::Kind::Callable: {
    const std::string &name = callee.text;
    if (std::count(builtinFunctions().begin(), builtinFunctions().end(),
                   name) &&
        !program_.definitions.count(name))
      return callBuiltinFunction(name, expr, args);
    auto def = program_.definitions.find(name);
    if (def != program_.definitions.end())
      return constructDefinition(scope, *def->second, expr, args);
    return constructLayer(scope, name, expr, std::move(args));
  }
  case SemaValue::Kind::Layer: {
    std::vector<int> inputs;
    for (const BoundArg &arg : args) {
      if (!arg.name.empty()) {
        diags_.error(arg.loc,
                     "applying a layer takes tensors only, got '" + arg.name +
                         "='",
                     "configure the layer where it is constructed: " +
                         callee.layer->type + "(" + arg.name + "=...)(x)");
        return fail();
      }
      if (!collectTensors(arg.value, inputs)) {
        diags_.error(arg.loc,
                     "a layer is applied to tensors, got " +
                         describeValue(arg.value, graph_),
                     arg.value.kind == SemaValue::Kind::Word
                         ? "'" + arg.value.text + "' is not defined"
                         : "");
        return fail();
      }
    }
    return applyLayer(scope, *callee.layer, inputs, expr.loc);
  }
  case SemaValue::Kind::Word: {
    std::string guess = closestMatch(callee.text, knownCallables(scope));
    diags_.error(expr.callee->loc,
                 "unknown layer or function '" + callee.text + "'",
                 guess.empty() ? "see the list of layers in the language "
                                 "reference"
                               : "did you mean '" + guess + "'?");
    return fail();
  }
  default:
    diags_.error(expr.loc, "cannot call " + describeValue(callee, graph_),
                 callee.kind == SemaValue::Kind::Tensor
                     ? "a tensor is not a layer; apply a layer to it instead"
                     : "");
    return fail();
  }
}

bool Elaborator::collectTensors(const SemaValue &value, std::vector<int> &out) {
  if (value.kind == SemaValue::Kind::Tensor) {
    out.push_back(value.tensor);
    return true;
  }
  if (value.kind == SemaValue::Kind::List ||
      value.kind == SemaValue::Kind::Tuple) {
    if (value.items.empty())
      return false;
    for (const SemaValue &item : value.items)
      if (!collectTensors(item, out))
        return false;
    return true;
  }
  return false;
}

static bool validLayerName(const std::string &name) {
  if (name.empty() || name.size() > 128)
    return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
      return false;
  return true;
}

std::string Elaborator::claimName(Scope &scope, const std::string &base,
                                  const SemaValue &explicitName,
                                  SourceLoc loc) {
  if (explicitName.kind == SemaValue::Kind::String) {
    const std::string &name = explicitName.text;
    if (!validLayerName(name)) {
      diags_.error(explicitName.loc, "layer name \"" + name + "\" is not valid",
                   "use letters, digits, '_' and '-' (at most 128)");
      return scope.prefix + "invalid";
    }
    auto [it, inserted] = scope.claimed.emplace(name, explicitName.loc);
    if (!inserted) {
      diags_.error(explicitName.loc, "two layers are named \"" + name + "\"",
                   "names are the keys of checkpoints and must be unique");
      diags_.note(it->second, "the name is first used here");
      // Keep going with a name no one else has, so the two layers do not
      // share weights and no further errors follow from this one.
      return scope.prefix + name + "#" + std::to_string(scope.claimed.size());
    }
    return scope.prefix + name;
  }
  int &counter = scope.counters[base];
  std::string name;
  do {
    name = counter == 0 ? base : base + "_" + std::to_string(counter);
    ++counter;
  } while (scope.claimed.count(name));
  scope.claimed.emplace(name, loc);
  return scope.prefix + name;
}

SemaValue Elaborator::constructLayer(Scope &scope, const std::string &type,
                                     const Expr &call,
                                     std::vector<BoundArg> args) {
  const LayerSchema *schema = findLayer(type);
  if (!schema)
    return fail();
  // A weightless layer applied directly: relu(x), add(a, b), concat([a, b]).
  std::vector<int> directInputs;
  bool direct = false;
  if (!schema->hasWeights && !args.empty() && args[0].name.empty()) {
    std::vector<int> first;
    if (collectTensors(args[0].value, first)) {
      direct = true;
      size_t i = 0;
      while (i < args.size() && args[i].name.empty() &&
             collectTensors(args[i].value, directInputs))
        ++i;
      args.erase(args.begin(), args.begin() + i);
    }
  }
  for (const BoundArg &arg : args)
    if (arg.value.kind == SemaValue::Kind::Tensor ||
        arg.value.kind == SemaValue::Kind::Tuple) {
      diags_.error(arg.loc,
                   type + " is constructed with its settings, then applied "
                          "to tensors",
                   "write " + type + "(settings)(x)" +
                       (schema->hasWeights
                            ? ""
                            : ", or " + type + "(x) without settings"));
      return fail();
    }
  auto layer = std::make_shared<LayerInstance>();
  layer->type = type;
  layer->schema = schema;
  layer->loc = call.loc;
  layer->config = std::make_shared<ConfigMap>();
  if (!bindArguments(type, call.loc, schema->args, args, graph_, *layer->config,
                     diags_, variableNames(scope)))
    return fail();
  layer->trainable = scope.trainable && (*layer->config)["trainable"].boolValue;
  layer->path = claimName(scope, type, (*layer->config)["name"], call.loc);
  if (direct)
    return applyLayer(scope, *layer, directInputs, call.loc);
  SemaValue v;
  v.kind = SemaValue::Kind::Layer;
  v.loc = call.loc;
  v.layer = layer;
  return v;
}

SemaValue Elaborator::constructDefinition(Scope &scope, const Decl &decl,
                                          const Expr &call,
                                          const std::vector<BoundArg> &args) {
  std::vector<ArgSpec> specs;
  for (const HyperParam &hyper : decl.hyperParams) {
    if (hyper.defaultValue) {
      Scope empty;
      SemaValue def = eval(empty, *hyper.defaultValue);
      if (def.kind == SemaValue::Kind::None)
        return fail();
      specs.push_back(optional(hyper.name, ArgType::Any, def));
    } else {
      specs.push_back(required(hyper.name, ArgType::Any));
    }
  }
  ArgSpec name = optional("name", ArgType::String, {});
  name.positional = false;
  ArgSpec trainable =
      optional("trainable", ArgType::Bool, SemaValue::ofBool(true));
  trainable.positional = false;
  specs.push_back(name);
  specs.push_back(trainable);
  for (const BoundArg &arg : args)
    if (arg.value.kind == SemaValue::Kind::Tensor ||
        arg.value.kind == SemaValue::Kind::Tuple) {
      diags_.error(arg.loc,
                   "'" + decl.name + "' is a " + declKindName(decl.kind) +
                       ": construct it first, then apply it to tensors",
                   "write " + decl.name + "(" +
                       (decl.hyperParams.empty() ? "" : "...") + ")(x)");
      return fail();
    }
  auto layer = std::make_shared<LayerInstance>();
  layer->type = decl.name;
  layer->decl = &decl;
  layer->loc = call.loc;
  layer->config = std::make_shared<ConfigMap>();
  if (!bindArguments(decl.name, call.loc, specs, args, graph_, *layer->config,
                     diags_, variableNames(scope)))
    return fail();
  layer->trainable = scope.trainable && (*layer->config)["trainable"].boolValue;
  layer->path = claimName(scope, decl.name, (*layer->config)["name"], call.loc);
  SemaValue v;
  v.kind = SemaValue::Kind::Layer;
  v.loc = call.loc;
  v.layer = layer;
  return v;
}

//===----------------------------------------------------------------------===//
// Applying layers
//===----------------------------------------------------------------------===//

SemaValue Elaborator::applyLayer(Scope &scope, LayerInstance &layer,
                                 const std::vector<int> &inputs,
                                 SourceLoc loc) {
  if (graph_.nodes.size() > kMaxNodes) {
    diags_.error(loc, "the model has more than " + std::to_string(kMaxNodes) +
                          " operations");
    return fail();
  }
  size_t paramsBefore = graph_.params.size();
  std::optional<std::vector<int>> outputs =
      layer.schema ? applyBuiltin(layer, inputs, loc)
                   : applyDefinition(scope, layer, inputs, loc);
  if (!outputs)
    return fail();
  if (layer.applications++ == 0)
    for (int input : inputs)
      layer.builtFor.push_back(graph_.values[input].type);

  if (scope.topLevel) {
    if (layer.summaryRow < 0) {
      SummaryRow row;
      row.name = layer.path;
      row.type =
          layer.schema || layer.inlineBody
              ? layer.type
              : std::string(declKindName(layer.decl->kind)) + " " + layer.type;
      for (int out : *outputs)
        row.outputs.push_back(graph_.values[out].type);
      layer.summaryRow = static_cast<int>(graph_.summary.size());
      graph_.summary.push_back(row);
    }
    SummaryRow &row = graph_.summary[layer.summaryRow];
    for (size_t i = paramsBefore; i < graph_.params.size(); ++i)
      row.params += checkedElementCount(graph_.params[i].shape);
  }
  if (outputs->size() == 1)
    return SemaValue::ofTensor(outputs->front(), loc);
  SemaValue tuple;
  tuple.kind = SemaValue::Kind::Tuple;
  tuple.loc = loc;
  for (int out : *outputs)
    tuple.items.push_back(SemaValue::ofTensor(out, loc));
  return tuple;
}

std::optional<std::vector<int>>
Elaborator::applyBuiltin(LayerInstance &layer, const std::vector<int> &inputs,
                         SourceLoc loc) {
  const LayerSchema &schema = *layer.schema;
  int count = static_cast<int>(inputs.size());
  if (count < schema.minInputs ||
      (schema.maxInputs >= 0 && count > schema.maxInputs)) {
    std::string expected =
        schema.minInputs == schema.maxInputs ? std::to_string(schema.minInputs)
        : schema.maxInputs < 0 ? "at least " + std::to_string(schema.minInputs)
                               : std::to_string(schema.minInputs) + " to " +
                                     std::to_string(schema.maxInputs);
    diags_.error(loc,
                 schema.name + " takes " + expected + " input" +
                     (expected == "1" ? "" : "s") + ", got " +
                     std::to_string(count),
                 schema.minInputs > 1 ? "e.g. " + schema.name + "(a, b)" : "");
    return std::nullopt;
  }
  OpOwner owner;
  owner.layerPath = layer.path;
  const ConfigMap &config = *layer.config;
  auto text = [&](const char *key) {
    auto it = config.find(key);
    return it == config.end() ? std::string() : it->second.text;
  };
  std::string explicitName = text("name");
  owner.displayName = explicitName.empty()
                          ? schema.name
                          : schema.name + " \"" + explicitName + "\"";
  owner.trainable = layer.trainable;
  owner.kernelInit = text("kernel_init");
  owner.biasInit = text("bias_init");
  LayerApplication application{builder_, diags_, config, inputs, owner, loc};
  return schema.lower(application);
}

std::optional<TensorInfo> Elaborator::evalType(Scope &scope,
                                               const InputDecl &input) {
  TensorInfo info;
  const std::string &dtype = input.type.dtype;
  if (dtype == "f32")
    info.elementType = ElementType::F32;
  else if (dtype == "f64")
    info.elementType = ElementType::F64;
  else if (dtype == "i32")
    info.elementType = ElementType::I32;
  else {
    std::string guess = closestMatch(dtype, {"f32", "f64", "i32"});
    diags_.error(input.type.loc, "unknown element type '" + dtype + "'",
                 guess.empty() ? "use f32 (images, features), f64 or i32 "
                                 "(labels, token ids)"
                               : "did you mean '" + guess + "'?");
    return std::nullopt;
  }
  for (const ExprPtr &dim : input.type.dims) {
    SemaValue v = eval(scope, *dim);
    if (v.kind == SemaValue::Kind::None)
      return std::nullopt;
    if (v.kind != SemaValue::Kind::Int || v.intValue < 1) {
      diags_.error(dim->loc,
                   "a dimension must be a positive integer, got " +
                       describeValue(v, graph_),
                   "the batch dimension is implicit and never written");
      return std::nullopt;
    }
    info.shape.push_back(v.intValue);
  }
  if (info.shape.size() > 8) {
    diags_.error(input.type.loc, "tensors have at most 8 dimensions");
    return std::nullopt;
  }
  if (checkedElementCount(info.shape) < 0) {
    diags_.error(input.type.loc,
                 "input '" + input.name + "' of type " + formatTensor(info) +
                     " is too large (more than 2^40 elements per example)");
    return std::nullopt;
  }
  return info;
}

bool Elaborator::checkInputsUsed(const std::vector<int> &inputs,
                                 const std::vector<InputDecl> &decls,
                                 const std::string &owner) {
  bool ok = true;
  for (size_t i = 0; i < inputs.size() && i < decls.size(); ++i) {
    bool used =
        builder_.isUsed(inputs[i]) ||
        std::count(graph_.outputs.begin(), graph_.outputs.end(), inputs[i]);
    if (!used) {
      diags_.error(decls[i].loc,
                   "input '" + decls[i].name + "' of " + owner +
                       " is never used",
                   "remove it, or use it in the body");
      ok = false;
    }
  }
  return ok;
}

/// Warns, once per source line, about ops whose result reaches no output:
/// a branch computed and then dropped (later passes remove it).
void Elaborator::warnDeadResults() {
  std::vector<bool> live(graph_.values.size(), false);
  for (int out : graph_.outputs)
    live[out] = true;
  std::set<std::pair<const SourceFile *, unsigned>> warned;
  for (size_t i = graph_.nodes.size(); i-- > 0;) {
    const Node &node = graph_.nodes[i];
    bool reaches = false;
    for (int result : node.results)
      reaches = reaches || live[result];
    if (reaches) {
      for (int input : node.inputs)
        live[input] = true;
      continue;
    }
    bool leaf = true; // the last op of a dead branch: report only there
    for (int result : node.results)
      leaf = leaf && !builder_.isUsed(result);
    if (leaf && warned.insert({node.loc.file, node.loc.line}).second)
      diags_.warning(node.loc,
                     "the result of " +
                         (node.layer.empty() ? node.op : node.layer) +
                         " never reaches an output of '" + graph_.name + "'",
                     "use it, return it, or remove it");
  }
}

std::optional<std::vector<int>>
Elaborator::applyDefinition(Scope &outer, LayerInstance &layer,
                            const std::vector<int> &inputs, SourceLoc loc) {
  const Decl *decl = layer.decl;
  const std::vector<StmtPtr> &body = decl ? decl->body : layer.inlineBody->body;
  std::string what =
      decl ? std::string(declKindName(decl->kind)) + " '" + decl->name + "'"
           : "inline sequential";
  if (decl && std::count(active_.begin(), active_.end(), decl)) {
    diags_.error(loc, what + " uses itself: definitions cannot form a cycle",
                 "a definition may only use definitions that do not lead "
                 "back to it");
    return std::nullopt;
  }
  if (active_.size() >= kMaxDepth) {
    diags_.error(loc, "definitions nested more than " +
                          std::to_string(kMaxDepth) + " deep");
    return std::nullopt;
  }
  size_t expected = decl ? decl->inputs.size() : 1;
  if (inputs.size() != expected) {
    diags_.error(loc, what + " takes " + std::to_string(expected) + " input" +
                          (expected == 1 ? "" : "s") + ", got " +
                          std::to_string(inputs.size()));
    return std::nullopt;
  }
  Scope scope;
  scope.prefix = layer.path + ".";
  scope.trainable = layer.trainable;
  for (const auto &[name, value] : *layer.config)
    if (name != "name" && name != "trainable")
      scope.vars[name] = value;
  if (decl) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      const InputDecl &input = decl->inputs[i];
      if (input.hasType) {
        std::optional<TensorInfo> type = evalType(scope, input);
        if (!type)
          return std::nullopt;
        const TensorInfo &actual = graph_.values[inputs[i]].type;
        if (type->shape != actual.shape ||
            type->elementType != actual.elementType) {
          diags_.error(loc, what + " expects its input '" + input.name +
                                "' to be " + formatTensor(*type) + ", got " +
                                formatTensor(actual));
          diags_.note(input.loc, "the input is declared here");
          return std::nullopt;
        }
      }
      scope.vars[input.name] = SemaValue::ofTensor(inputs[i], input.loc);
    }
  }

  active_.push_back(decl);
  std::optional<std::vector<int>> result;
  if (!decl || decl->kind == Decl::Kind::Sequential) {
    result = runSequentialBody(scope, body, inputs[0]);
  } else {
    bool returned = false;
    result = runStatements(scope, body, true, returned);
    if (result && !returned) {
      diags_.error(decl->loc, what + " has no return statement",
                   "end the body with `return x`");
      result.reset();
    }
  }
  active_.pop_back();
  if (result && decl && !checkInputsUsed(inputs, decl->inputs, what))
    return std::nullopt;
  return result;
}

//===----------------------------------------------------------------------===//
// Bodies
//===----------------------------------------------------------------------===//

std::optional<std::vector<int>>
Elaborator::runSequentialBody(Scope &scope, const std::vector<StmtPtr> &body,
                              int input) {
  int current = input;
  bool ok = true;
  for (const StmtPtr &stmt : body) {
    if (diags_.tooManyErrors())
      return std::nullopt;
    if (stmt->kind != Stmt::Kind::Expr) {
      diags_.error(stmt->loc, "a sequential body holds one layer per line",
                   "use `model` for assignments, branches and returns");
      ok = false;
      continue;
    }
    SemaValue value = eval(scope, *stmt->value);
    if (!ok)
      continue; // constructed (its arguments checked), but its input is
                // unknown after an earlier failure: not applied
    if (value.kind == SemaValue::Kind::None) {
      ok = false;
      continue;
    }
    if (value.kind == SemaValue::Kind::Callable &&
        (findLayer(value.text) || program_.definitions.count(value.text))) {
      diags_.error(stmt->loc,
                   "'" + value.text + "' must be called to make a layer",
                   "write " + value.text + "(...)");
      ok = false;
      continue;
    }
    if (value.kind != SemaValue::Kind::Layer) {
      diags_.error(stmt->loc,
                   "each line of a sequential body must be a layer, got " +
                       describeValue(value, graph_),
                   value.kind == SemaValue::Kind::Word
                       ? "'" + value.text + "' is not a layer"
                       : "");
      ok = false;
      continue;
    }
    SemaValue out = applyLayer(scope, *value.layer, {current}, stmt->loc);
    if (out.kind != SemaValue::Kind::Tensor) {
      if (out.kind == SemaValue::Kind::Tuple)
        diags_.error(stmt->loc, "a layer in a sequential body must have one "
                                "output, this one has " +
                                    std::to_string(out.items.size()));
      ok = false;
      continue;
    }
    current = out.tensor;
  }
  if (!ok)
    return std::nullopt;
  return std::vector<int>{current};
}

std::optional<std::vector<int>>
Elaborator::runStatements(Scope &scope, const std::vector<StmtPtr> &body,
                          bool allowReturn, bool &returned) {
  std::optional<std::vector<int>> result = std::vector<int>{};
  bool ok = true;
  for (size_t i = 0; i < body.size(); ++i) {
    if (diags_.tooManyErrors())
      return std::nullopt;
    if (returned) {
      diags_.error(body[i]->loc, "statement after return is unreachable",
                   "return must be the last statement of the body");
      return std::nullopt;
    }
    if (!runStatement(scope, *body[i], i + 1 == body.size(), allowReturn,
                      result, returned))
      ok = false;
  }
  if (!ok)
    return std::nullopt;
  return result;
}

bool Elaborator::runStatement(Scope &scope, const Stmt &stmt, bool isLast,
                              bool allowReturn,
                              std::optional<std::vector<int>> &result,
                              bool &returned) {
  switch (stmt.kind) {
  case Stmt::Kind::Expr: {
    SemaValue value = eval(scope, *stmt.value);
    if (value.kind == SemaValue::Kind::None)
      return false;
    if (value.kind == SemaValue::Kind::Tensor ||
        value.kind == SemaValue::Kind::Tuple)
      diags_.warning(stmt.loc, "the result of this expression is not used",
                     "assign it to a name: x = ...");
    return true;
  }
  case Stmt::Kind::Assign: {
    SemaValue value = eval(scope, *stmt.value);
    if (value.kind == SemaValue::Kind::None) {
      // Bind the names to nothing so later uses are not reported again.
      for (const Target &target : stmt.targets)
        scope.vars[target.name] = SemaValue::none();
      return false;
    }
    if (stmt.targets.size() == 1) {
      scope.vars[stmt.targets[0].name] = value;
      return true;
    }
    if ((value.kind != SemaValue::Kind::Tuple &&
         value.kind != SemaValue::Kind::List) ||
        value.items.size() != stmt.targets.size()) {
      diags_.error(stmt.loc,
                   "cannot unpack " + describeValue(value, graph_) + " into " +
                       std::to_string(stmt.targets.size()) + " names");
      for (const Target &target : stmt.targets)
        scope.vars[target.name] = SemaValue::none();
      return false;
    }
    for (size_t i = 0; i < stmt.targets.size(); ++i)
      scope.vars[stmt.targets[i].name] = value.items[i];
    return true;
  }
  case Stmt::Kind::If: {
    SemaValue cond = eval(scope, *stmt.value);
    if (cond.kind == SemaValue::Kind::None)
      return false;
    if (cond.kind != SemaValue::Kind::Bool) {
      diags_.error(stmt.value->loc,
                   "an if condition must be true or false, got " +
                       describeValue(cond, graph_),
                   "compare hyper-parameters or shapes, e.g. strides != 1");
      return false;
    }
    const std::vector<StmtPtr> &branch =
        cond.boolValue ? stmt.thenBody : stmt.elseBody;
    bool innerReturned = false;
    std::optional<std::vector<int>> inner =
        runStatements(scope, branch, false, innerReturned);
    return inner.has_value();
  }
  case Stmt::Kind::Return: {
    if (!allowReturn) {
      diags_.error(stmt.loc, "return inside an if is not supported",
                   "assign to a name in each branch and return it after the "
                   "if");
      return false;
    }
    if (!isLast) {
      diags_.error(stmt.loc, "return must be the last statement",
                   "the statements after it would never run");
      return false;
    }
    returned = true;
    std::vector<int> outputs;
    bool ok = true;
    for (const ExprPtr &value : stmt.values) {
      SemaValue v = eval(scope, *value);
      if (v.kind == SemaValue::Kind::None) {
        ok = false;
        continue;
      }
      if (!collectTensors(v, outputs)) {
        diags_.error(value->loc,
                     "a model returns tensors, got " + describeValue(v, graph_),
                     v.kind == SemaValue::Kind::Word
                         ? "'" + v.text + "' is not defined"
                     : v.kind == SemaValue::Kind::Layer
                         ? "apply the layer to a tensor: layer(x)"
                         : "");
        ok = false;
      }
    }
    if (stmt.values.empty()) {
      diags_.error(stmt.loc, "return needs at least one tensor");
      ok = false;
    }
    if (!ok) {
      result.reset();
      return false;
    }
    result = outputs;
    return true;
  }
  }
  return false;
}

std::optional<Graph> Elaborator::run(const std::string &modelName) {
  for (const auto &[name, section] : program_.trainSections) {
    auto def = program_.definitions.find(name);
    if (def == program_.definitions.end() ||
        def->second->kind == Decl::Kind::Block) {
      std::vector<std::string> models;
      for (const auto &[other, decl] : program_.definitions)
        if (decl->kind != Decl::Kind::Block)
          models.push_back(other);
      std::string guess = closestMatch(name, models);
      diags_.error(section->nameLoc,
                   "train section for '" + name +
                       "', but no sequential or model has that name",
                   guess.empty() ? "name the model it trains"
                                 : "did you mean '" + guess + "'?");
    }
  }
  if (diags_.hasErrors())
    return std::nullopt;
  auto it = program_.definitions.find(modelName);
  if (it == program_.definitions.end() ||
      it->second->kind == Decl::Kind::Block) {
    std::vector<std::string> models;
    for (const auto &[name, decl] : program_.definitions)
      if (decl->kind != Decl::Kind::Block)
        models.push_back(name);
    std::string guess = closestMatch(modelName, models);
    std::string list;
    for (const std::string &m : models)
      list += (list.empty() ? "" : ", ") + m;
    SourceLoc loc;
    auto train = program_.trainSections.find(modelName);
    if (train != program_.trainSections.end())
      loc = train->second->nameLoc;
    diags_.error(loc,
                 it == program_.definitions.end()
                     ? "no sequential or model named '" + modelName + "'"
                     : "'" + modelName + "' is a block, not a model",
                 !guess.empty() ? "did you mean '" + guess + "'?"
                 : list.empty() ? "define one with `sequential NAME(x: "
                                  "f32[...]) { ... }`"
                                : "models here: " + list);
    return std::nullopt;
  }
  const Decl &decl = *it->second;
  graph_.name = decl.name;
  graph_.loc = decl.nameLoc;
  Scope scope;
  scope.topLevel = true;
  if (decl.inputs.empty()) {
    diags_.error(decl.nameLoc, "'" + decl.name + "' has no inputs",
                 "declare one, e.g. (image: f32[28, 28, 1])");
    return std::nullopt;
  }
  if (decl.kind == Decl::Kind::Sequential && decl.inputs.size() != 1) {
    diags_.error(decl.nameLoc, "a sequential takes exactly one input",
                 "use `model` for several inputs");
    return std::nullopt;
  }
  std::set<std::string> seen;
  for (const InputDecl &input : decl.inputs) {
    if (!seen.insert(input.name).second) {
      diags_.error(input.loc, "input '" + input.name + "' is declared twice");
      return std::nullopt;
    }
    std::optional<TensorInfo> type = evalType(scope, input);
    if (!type)
      return std::nullopt;
    int id = builder_.addInput(input.name, *type);
    scope.vars[input.name] = SemaValue::ofTensor(id, input.loc);
    SummaryRow row;
    row.name = input.name;
    row.type = "input";
    row.outputs.push_back(*type);
    graph_.summary.push_back(row);
  }
  active_.push_back(&decl);
  std::optional<std::vector<int>> outputs;
  if (decl.kind == Decl::Kind::Sequential) {
    outputs = runSequentialBody(scope, decl.body, graph_.inputs[0]);
  } else {
    bool returned = false;
    outputs = runStatements(scope, decl.body, true, returned);
    if (outputs && !returned && !diags_.hasErrors()) {
      diags_.error(decl.loc, "model '" + decl.name + "' has no return",
                   "end the body with `return y` (or `return a, b`)");
      outputs.reset();
    }
  }
  active_.pop_back();
  auto train = program_.trainSections.find(decl.name);
  if (!outputs || diags_.hasErrors()) {
    // Still report the train section's own problems in this run.
    if (train != program_.trainSections.end() && !diags_.tooManyErrors())
      elaborateTrainSection(*train->second, graph_, diags_,
                            /*modelIsValid=*/false);
    return std::nullopt;
  }
  graph_.outputs = *outputs;
  if (!checkInputsUsed(graph_.inputs, decl.inputs,
                       std::string(declKindName(decl.kind)) + " '" + decl.name +
                           "'"))
    return std::nullopt;
  warnDeadResults();

  if (train != program_.trainSections.end() &&
      !elaborateTrainSection(*train->second, graph_, diags_))
    return std::nullopt;
  if (diags_.hasErrors())
    return std::nullopt;
  return std::move(graph_);
}

} // namespace

std::optional<Graph> elaborateModel(const Program &program,
                                    const std::string &modelName,
                                    DiagnosticEngine &diags) {
  return Elaborator(program, diags).run(modelName);
}

} // namespace dlc
