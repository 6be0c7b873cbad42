//===- ParserTest.cpp - the .dl grammar, its errors and its limits --------===//
//
// The spec's examples parse to the expected structure; precedence and
// locations; every statement and definition form; the error messages with
// their line:col; recovery that reports several errors in one file; deep
// nesting, long chains, huge and random inputs that must not crash.
//
//===----------------------------------------------------------------------===//
#include "frontend/Parser.h"
#include "frontend/ASTPrinter.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace dlc;

namespace {

/// A parse result with the diagnostics printed.
struct Parse {
  std::unique_ptr<Module> module;
  std::string diagText;
  unsigned errors = 0;

  const Decl &decl(size_t i) const { return *module->decls.at(i); }
};

/// `expr` as an s-expression: `(+ a (* b c))`, `(call f 1 k=2)`.
std::string sexpr(const Expr *expr);

std::string stmtText(const Stmt &stmt) {
  switch (stmt.kind) {
  case Stmt::Kind::Expr:
    return sexpr(stmt.value.get());
  case Stmt::Kind::Assign: {
    std::string text = "(=";
    for (const Target &target : stmt.targets)
      text += " " + target.name;
    return text + " " + sexpr(stmt.value.get()) + ")";
  }
  case Stmt::Kind::Return: {
    std::string text = "(return";
    for (const ExprPtr &value : stmt.values)
      text += " " + sexpr(value.get());
    return text + ")";
  }
  case Stmt::Kind::If: {
    std::string text = "(if " + sexpr(stmt.value.get()) + " {";
    for (const StmtPtr &s : stmt.thenBody)
      text += " " + stmtText(*s);
    text += " }";
    if (!stmt.elseBody.empty()) {
      text += " else {";
      for (const StmtPtr &s : stmt.elseBody)
        text += " " + stmtText(*s);
      text += " }";
    }
    return text + ")";
  }
  }
  return "?";
}

std::string sexpr(const Expr *expr) {
  if (!expr)
    return "<null>";
  switch (expr->kind) {
  case Expr::Kind::Number: {
    std::ostringstream os;
    os << expr->number << (expr->isInteger ? "" : "f");
    return os.str();
  }
  case Expr::Kind::String:
    return "\"" + expr->text + "\"";
  case Expr::Kind::Bool:
    return expr->boolean ? "true" : "false";
  case Expr::Kind::Name:
    return expr->text;
  case Expr::Kind::Call: {
    std::string text = "(call " + sexpr(expr->callee.get());
    for (const Argument &arg : expr->args)
      text += " " + (arg.name.empty() ? "" : arg.name + "=") +
              sexpr(arg.value.get());
    return text + ")";
  }
  case Expr::Kind::Index:
    return "(index " + sexpr(expr->operands.at(0).get()) + " " +
           sexpr(expr->operands.at(1).get()) + ")";
  case Expr::Kind::Unary:
  case Expr::Kind::Binary:
  case Expr::Kind::List:
  case Expr::Kind::Tuple: {
    std::string text = expr->kind == Expr::Kind::List    ? "(list"
                       : expr->kind == Expr::Kind::Tuple ? "(tuple"
                                                         : "(" + expr->text;
    for (const ExprPtr &operand : expr->operands)
      text += " " + sexpr(operand.get());
    return text + ")";
  }
  case Expr::Kind::Sequential: {
    std::string text = "(sequential";
    for (const StmtPtr &stmt : expr->body)
      text += " " + stmtText(*stmt);
    return text + ")";
  }
  }
  return "?";
}

/// Where the spec's examples are: beside the source tree.
std::string examplesDir() {
  std::vector<std::string> roots;
#ifdef DLC_SOURCE_DIR
  roots.push_back(DLC_SOURCE_DIR);
#endif
  // __FILE__ is <root>/test/unit/ParserTest.cpp.
  std::string file = __FILE__;
  for (int i = 0; i < 3; ++i) {
    size_t slash = file.find_last_of('/');
    file = slash == std::string::npos ? "." : file.substr(0, slash);
  }
  roots.push_back(file);
  for (const std::string &root : roots)
    for (const char *sub : {"/../shared/spec/examples", "/examples"}) {
      std::string dir = root + sub;
      if (std::ifstream(dir + "/fashion_cnn.dl").good())
        return dir;
    }
  return "";
}

class ParserTest : public ::testing::Test {
protected:
  Parse parse(const std::string &text, unsigned maxErrors = 20) {
    return parseFile(sources.add("t.dl", text), maxErrors);
  }

  Parse parseFile(const SourceFile *file, unsigned maxErrors = 20) {
    std::ostringstream os;
    DiagnosticEngine diags(os, maxErrors);
    Parse result;
    result.module = parseModule(*file, diags);
    result.diagText = os.str();
    result.errors = diags.errorCount();
    return result;
  }

  Parse parseExample(const std::string &name) {
    std::string dir = examplesDir();
    EXPECT_FALSE(dir.empty()) << "spec examples not found";
    std::string error;
    const SourceFile *file = sources.load(dir + "/" + name, error);
    EXPECT_TRUE(file) << error;
    if (!file)
      return Parse{std::make_unique<Module>(), error, 1};
    Parse result = parseFile(file);
    EXPECT_EQ(result.errors, 0u) << result.diagText;
    return result;
  }

  /// Parses `body` as the body of a model and returns its statements as
  /// s-expressions joined by "; ".
  std::string body(const std::string &text) {
    Parse p = parse("model m(x: f32[1]) {\n" + text + "\n}\n");
    EXPECT_EQ(p.errors, 0u) << p.diagText;
    if (p.module->decls.size() != 1)
      return "<no decl>";
    std::string result;
    for (const StmtPtr &stmt : p.decl(0).body)
      result += (result.empty() ? "" : "; ") + stmtText(*stmt);
    return result;
  }

  /// The s-expression of one expression.
  std::string expr(const std::string &text) { return body("_ = " + text); }

  /// Checks that `text` gives an error `message` at `line:col` of t.dl.
  void expectError(const std::string &text, unsigned line, unsigned col,
                   const std::string &message) {
    Parse p = parse(text);
    EXPECT_GE(p.errors, 1u) << text;
    std::string expected = "t.dl:" + std::to_string(line) + ":" +
                           std::to_string(col) + ": error: " + message + "\n";
    EXPECT_NE(p.diagText.find(expected), std::string::npos)
        << "wanted: " << expected << "got:\n"
        << p.diagText;
  }

  SourceManager sources;
};

std::vector<std::string> settingNames(const Decl &decl) {
  std::vector<std::string> names;
  for (const Setting &setting : decl.settings)
    names.push_back(setting.name);
  return names;
}

const Setting *findSetting(const Decl &decl, const std::string &name) {
  for (const Setting &setting : decl.settings)
    if (setting.name == name)
      return &setting;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// The spec's examples
//===----------------------------------------------------------------------===//

TEST_F(ParserTest, ExampleFashionMlp) {
  Parse p = parseExample("fashion_mlp.dl");
  ASSERT_EQ(p.module->decls.size(), 2u);
  const Decl &seq = p.decl(0);
  EXPECT_EQ(seq.kind, Decl::Kind::Sequential);
  EXPECT_EQ(seq.name, "fashion_mlp");
  EXPECT_EQ(seq.loc.line, 3u);
  EXPECT_EQ(seq.loc.col, 1u);
  EXPECT_EQ(seq.nameLoc.col, 12u);
  ASSERT_EQ(seq.inputs.size(), 1u);
  EXPECT_EQ(seq.inputs[0].name, "image");
  ASSERT_TRUE(seq.inputs[0].hasType);
  EXPECT_EQ(seq.inputs[0].type.dtype, "f32");
  ASSERT_EQ(seq.inputs[0].type.dims.size(), 2u);
  EXPECT_EQ(sexpr(seq.inputs[0].type.dims[1].get()), "28");
  ASSERT_EQ(seq.body.size(), 3u);
  EXPECT_EQ(stmtText(*seq.body[0]), "(call flatten)");
  EXPECT_EQ(stmtText(*seq.body[1]), "(call dense 128 activation=relu)");
  EXPECT_EQ(stmtText(*seq.body[2]), "(call dense 10)");

  const Decl &train = p.decl(1);
  EXPECT_EQ(train.kind, Decl::Kind::Train);
  EXPECT_EQ(train.name, "fashion_mlp");
  EXPECT_EQ(settingNames(train),
            (std::vector<std::string>{"data", "loss", "optimizer", "batch_size",
                                      "epochs", "metrics"}));
  EXPECT_EQ(sexpr(findSetting(train, "data")->value.get()),
            "(call idx \"/usr/share/datasets/fashion-mnist\")");
  EXPECT_EQ(sexpr(findSetting(train, "optimizer")->value.get()),
            "(call adam lr=0.001f)");
  EXPECT_EQ(sexpr(findSetting(train, "metrics")->value.get()),
            "(list accuracy)");
}

TEST_F(ParserTest, ExampleFashionCnn) {
  Parse p = parseExample("fashion_cnn.dl");
  ASSERT_EQ(p.module->decls.size(), 2u);
  const Decl &seq = p.decl(0);
  ASSERT_EQ(seq.body.size(), 12u);
  EXPECT_EQ(stmtText(*seq.body[0]),
            "(call conv2d 32 3 padding=same use_bias=false)");
  EXPECT_EQ(stmtText(*seq.body[10]), "(call dropout 0.5f)");
  EXPECT_EQ(sexpr(seq.inputs[0].type.dims[2].get()), "1");
  const Decl &train = p.decl(1);
  EXPECT_EQ(sexpr(findSetting(train, "callbacks")->value.get()),
            "(list (call checkpoint every=1))");
  EXPECT_EQ(sexpr(findSetting(train, "validation")->value.get()), "0.1f");
}

TEST_F(ParserTest, ExampleFashionLstm) {
  Parse p = parseExample("fashion_lstm.dl");
  ASSERT_EQ(p.module->decls.size(), 2u);
  EXPECT_EQ(p.decl(0).inputs[0].type.dims.size(), 2u);
  ASSERT_EQ(p.decl(0).body.size(), 2u);
  EXPECT_EQ(stmtText(*p.decl(0).body[0]), "(call lstm 128)");
}

TEST_F(ParserTest, ExampleDenoiseAe) {
  Parse p = parseExample("denoise_ae.dl");
  ASSERT_EQ(p.module->decls.size(), 2u);
  ASSERT_EQ(p.decl(0).body.size(), 5u);
  EXPECT_EQ(stmtText(*p.decl(0).body[2]),
            "(call conv2d_transpose 8 3 strides=2 padding=same "
            "activation=relu)");
  const Decl &train = p.decl(1);
  EXPECT_EQ(sexpr(findSetting(train, "target")->value.get()), "input");
  EXPECT_EQ(sexpr(findSetting(train, "input_noise")->value.get()),
            "(call gaussian_noise 0.2f)");
}

TEST_F(ParserTest, ExampleMobilenetTiny) {
  Parse p = parseExample("mobilenet_tiny.dl");
  ASSERT_EQ(p.module->decls.size(), 2u);
  const Decl &model = p.decl(0);
  EXPECT_EQ(model.kind, Decl::Kind::Model);
  ASSERT_EQ(model.body.size(), 10u);
  EXPECT_EQ(stmtText(*model.body[0]),
            "(= stem (sequential (call conv2d 16 3 padding=same "
            "use_bias=false) (call batchnorm) (call relu)))");
  EXPECT_EQ(model.body[0]->value->kind, Expr::Kind::Sequential);
  EXPECT_EQ(stmtText(*model.body[3]),
            "(= x (call relu (call (call batchnorm) x)))");
  EXPECT_EQ(stmtText(*model.body[9]), "(return (call (call dense 10) x))");
  EXPECT_EQ(sexpr(findSetting(p.decl(1), "optimizer")->value.get()),
            "(call rmsprop lr=0.001f)");
}

TEST_F(ParserTest, ExampleMultitask) {
  Parse p = parseExample("multitask.dl");
  ASSERT_EQ(p.module->decls.size(), 2u);
  const Decl &model = p.decl(0);
  ASSERT_EQ(model.body.size(), 8u);
  EXPECT_EQ(stmtText(*model.body[4]),
            "(= logits (call (call dense 10) (call flatten code)))");
  EXPECT_EQ(stmtText(*model.body[7]), "(return logits r)");
  const Decl &train = p.decl(1);
  EXPECT_EQ(sexpr(findSetting(train, "target")->value.get()),
            "(list label input)");
  EXPECT_EQ(sexpr(findSetting(train, "loss")->value.get()),
            "(list (call sparse_categorical_crossentropy from_logits=true) "
            "(call binary_crossentropy))");
  EXPECT_EQ(sexpr(findSetting(train, "loss_weights")->value.get()),
            "(list 1f 0.5f)");
  EXPECT_EQ(sexpr(findSetting(train, "metrics")->value.get()),
            "(list (list accuracy) (list))");
}

TEST_F(ParserTest, ExampleResnetMini) {
  Parse p = parseExample("resnet_mini.dl");
  ASSERT_EQ(p.module->decls.size(), 3u);
  const Decl &block = p.decl(0);
  EXPECT_EQ(block.kind, Decl::Kind::Block);
  EXPECT_EQ(block.name, "residual");
  ASSERT_EQ(block.hyperParams.size(), 2u);
  EXPECT_EQ(block.hyperParams[0].name, "filters");
  EXPECT_EQ(block.hyperParams[0].defaultValue, nullptr);
  EXPECT_EQ(block.hyperParams[1].name, "strides");
  EXPECT_EQ(sexpr(block.hyperParams[1].defaultValue.get()), "1");
  ASSERT_EQ(block.inputs.size(), 1u);
  EXPECT_EQ(block.inputs[0].name, "x");
  EXPECT_FALSE(block.inputs[0].hasType);
  ASSERT_EQ(block.body.size(), 7u);
  const Stmt &ifStmt = *block.body[5];
  ASSERT_EQ(ifStmt.kind, Stmt::Kind::If);
  EXPECT_EQ(sexpr(ifStmt.value.get()),
            "(or (!= strides 1) (!= (call channels x) filters))");
  ASSERT_EQ(ifStmt.thenBody.size(), 1u);
  EXPECT_TRUE(ifStmt.elseBody.empty());
  EXPECT_EQ(stmtText(*block.body[6]), "(return (call relu (call add h "
                                      "shortcut)))");
  const Decl &model = p.decl(1);
  EXPECT_EQ(stmtText(*model.body[3]),
            "(= x (call (call residual 32 strides=2) x))");
  EXPECT_EQ(sexpr(findSetting(p.decl(2), "regularizer")->value.get()),
            "(call l2 0.0001f)");
}

TEST_F(ParserTest, ExampleSiamese) {
  Parse p = parseExample("siamese.dl");
  ASSERT_EQ(p.module->decls.size(), 3u);
  EXPECT_EQ(p.decl(0).kind, Decl::Kind::Sequential);
  EXPECT_EQ(p.decl(0).inputs[0].name, "x");
  const Decl &model = p.decl(1);
  ASSERT_EQ(model.inputs.size(), 2u);
  EXPECT_EQ(model.inputs[1].name, "right");
  EXPECT_EQ(model.inputs[1].loc.line, 10u);
  EXPECT_EQ(model.inputs[1].loc.col, 37u);
  EXPECT_EQ(stmtText(*model.body[0]), "(= embed (call encoder))");
  EXPECT_EQ(stmtText(*model.body[3]),
            "(return (call (call dense 1 activation=sigmoid) (call abs (call "
            "subtract a b))))");
  EXPECT_EQ(sexpr(findSetting(p.decl(2), "data")->value.get()),
            "(call pairs (call idx \"/usr/share/datasets/fashion-mnist\"))");
}

TEST_F(ParserTest, PrintingIsDeterministic) {
  for (const char *name :
       {"denoise_ae.dl", "fashion_cnn.dl", "fashion_lstm.dl", "fashion_mlp.dl",
        "mobilenet_tiny.dl", "multitask.dl", "resnet_mini.dl", "siamese.dl"}) {
    Parse a = parseExample(name);
    Parse b = parseExample(name);
    std::ostringstream first, second;
    printModule(*a.module, first);
    printModule(*b.module, second);
    EXPECT_EQ(first.str(), second.str()) << name;
    EXPECT_GT(first.str().size(), 100u) << name;
  }
}

TEST_F(ParserTest, PrinterFormat) {
  Parse p = parse("block b(f=2)(x) {\n  a, c = g(x, k=-1.5, s=\"q\\\"\")[0]\n"
                  "  if not f { return [a] } else { return (a, c) }\n}\n"
                  "import \"lib.dl\"\n");
  ASSERT_EQ(p.errors, 0u) << p.diagText;
  std::ostringstream os;
  printModule(*p.module, os);
  EXPECT_EQ(os.str(), "module t.dl\n"
                      "  block b @1:1\n"
                      "    hyper f @1:9\n"
                      "      number 2 @1:11\n"
                      "    input x @1:14\n"
                      "    assign a @2:3, c @2:6\n"
                      "      index @2:10\n"
                      "        call @2:10\n"
                      "          name g @2:10\n"
                      "          arg @2:12\n"
                      "            name x @2:12\n"
                      "          arg k @2:15\n"
                      "            unary - @2:17\n"
                      "              number 1.5 @2:18\n"
                      "          arg s @2:23\n"
                      "            string \"q\\\"\" @2:25\n"
                      "        number 0 @2:32\n"
                      "    if @3:3\n"
                      "      unary not @3:6\n"
                      "        name f @3:10\n"
                      "      then\n"
                      "        return @3:14\n"
                      "          list @3:21\n"
                      "            name a @3:22\n"
                      "      else\n"
                      "        return @3:34\n"
                      "          tuple @3:41\n"
                      "            name a @3:42\n"
                      "            name c @3:45\n"
                      "  import \"lib.dl\" @5:1\n");
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

TEST_F(ParserTest, Precedence) {
  EXPECT_EQ(expr("a or b and c"), "(= _ (or a (and b c)))");
  EXPECT_EQ(expr("a and b or c"), "(= _ (or (and a b) c))");
  EXPECT_EQ(expr("not a == b"), "(= _ (not (== a b)))");
  EXPECT_EQ(expr("not a and b"), "(= _ (and (not a) b))");
  EXPECT_EQ(expr("not not a"), "(= _ (not (not a)))");
  EXPECT_EQ(expr("a + b * c - d"), "(= _ (- (+ a (* b c)) d))");
  EXPECT_EQ(expr("a - b - c"), "(= _ (- (- a b) c))");
  EXPECT_EQ(expr("a / b % c * d"), "(= _ (* (% (/ a b) c) d))");
  EXPECT_EQ(expr("-a * b"), "(= _ (* (- a) b))");
  EXPECT_EQ(expr("- -a + +b"), "(= _ (+ (- (- a)) (+ b)))");
  EXPECT_EQ(expr("-2"), "(= _ (- 2))");
  EXPECT_EQ(expr("a + b < c * d"), "(= _ (< (+ a b) (* c d)))");
  EXPECT_EQ(expr("x == 1 and y != 2 or not z"),
            "(= _ (or (and (== x 1) (!= y 2)) (not z)))");
  EXPECT_EQ(expr("a <= b"), "(= _ (<= a b))");
  EXPECT_EQ(expr("a >= b"), "(= _ (>= a b))");
  EXPECT_EQ(expr("a > b"), "(= _ (> a b))");
  EXPECT_EQ(expr("(a + b) * c"), "(= _ (* (+ a b) c))");
  EXPECT_EQ(expr("-f(x)[0]"), "(= _ (- (index (call f x) 0)))");
  EXPECT_EQ(expr("filters * 2"), "(= _ (* filters 2))");
}

TEST_F(ParserTest, PostfixChains) {
  EXPECT_EQ(expr("conv2d(32, 3)(x)"), "(= _ (call (call conv2d 32 3) x))");
  EXPECT_EQ(expr("shape(x)[0]"), "(= _ (index (call shape x) 0))");
  EXPECT_EQ(expr("a[0][1](b)"), "(= _ (call (index (index a 0) 1) b))");
  EXPECT_EQ(expr("f()"), "(= _ (call f))");
  EXPECT_EQ(expr("(f)(x)"), "(= _ (call f x))");
}

TEST_F(ParserTest, Primaries) {
  EXPECT_EQ(expr("12"), "(= _ 12)");
  EXPECT_EQ(expr("1e-3"), "(= _ 0.001f)");
  EXPECT_EQ(expr("\"s\""), "(= _ \"s\")");
  EXPECT_EQ(expr("true"), "(= _ true)");
  EXPECT_EQ(expr("false"), "(= _ false)");
  EXPECT_EQ(expr("(a)"), "(= _ a)");
  EXPECT_EQ(expr("(a, b)"), "(= _ (tuple a b))");
  EXPECT_EQ(expr("(a,)"), "(= _ (tuple a))");
  EXPECT_EQ(expr("(a, b,)"), "(= _ (tuple a b))");
  EXPECT_EQ(expr("[]"), "(= _ (list))");
  EXPECT_EQ(expr("[a, [b], 1,]"), "(= _ (list a (list b) 1))");
  EXPECT_EQ(expr("sequential { dense(1) }"),
            "(= _ (sequential (call dense 1)))");
  EXPECT_EQ(expr("sequential { }"), "(= _ (sequential))");
}

TEST_F(ParserTest, CallArguments) {
  EXPECT_EQ(expr("f(a, b=1,)"), "(= _ (call f a b=1))");
  EXPECT_EQ(expr("f(\n  a,\n  b = 2\n)"), "(= _ (call f a b=2))");
  EXPECT_EQ(expr("f(a == 1)"), "(= _ (call f (== a 1)))");
  EXPECT_EQ(expr("f(x=[1, 2], y=(1, 2))"),
            "(= _ (call f x=(list 1 2) y=(tuple 1 2)))");
}

TEST_F(ParserTest, InlineSequentialInsideParentheses) {
  // Braces make newlines significant again inside parentheses.
  EXPECT_EQ(body("y = f(sequential {\n a()\n b()\n}, [c,\n d])"),
            "(= y (call f (sequential (call a) (call b)) (list c d)))");
  EXPECT_EQ(body("y = f(sequential { a(); b(\n1) }\n)"),
            "(= y (call f (sequential (call a) (call b 1))))");
}

TEST_F(ParserTest, Locations) {
  Parse p = parse("model m(x: f32[1]) {\n  y = a + b * f(k=1)[2]\n"
                  "  if y {\n    return y\n  }\n}\n");
  ASSERT_EQ(p.errors, 0u) << p.diagText;
  const Decl &model = p.decl(0);
  EXPECT_EQ(model.nameLoc.col, 7u);
  EXPECT_EQ(model.inputs[0].loc.col, 9u);
  EXPECT_EQ(model.inputs[0].type.loc.col, 12u);
  EXPECT_EQ(model.inputs[0].type.dims[0]->loc.col, 16u);
  const Stmt &assign = *model.body[0];
  EXPECT_EQ(assign.loc.line, 2u);
  EXPECT_EQ(assign.loc.col, 3u);
  EXPECT_EQ(assign.targets[0].loc.col, 3u);
  const Expr &plus = *assign.value;
  EXPECT_EQ(plus.text, "+");
  EXPECT_EQ(plus.loc.col, 7u); // the left operand's start
  const Expr &times = *plus.operands[1];
  EXPECT_EQ(times.loc.col, 11u);
  const Expr &index = *times.operands[1];
  EXPECT_EQ(index.kind, Expr::Kind::Index);
  EXPECT_EQ(index.loc.col, 15u); // the callee's start
  const Expr &call = *index.operands[0];
  EXPECT_EQ(call.loc.col, 15u);
  EXPECT_EQ(call.args[0].name, "k");
  EXPECT_EQ(call.args[0].loc.col, 17u); // the keyword
  EXPECT_EQ(call.args[0].value->loc.col, 19u);
  const Stmt &ifStmt = *model.body[1];
  EXPECT_EQ(ifStmt.loc.line, 3u);
  EXPECT_EQ(ifStmt.loc.col, 3u);
  EXPECT_EQ(ifStmt.thenBody[0]->loc.line, 4u);
  EXPECT_EQ(ifStmt.thenBody[0]->loc.col, 5u);
}

//===----------------------------------------------------------------------===//
// Statements and definitions
//===----------------------------------------------------------------------===//

TEST_F(ParserTest, Statements) {
  EXPECT_EQ(body("a, b = f(x)"), "(= a b (call f x))");
  EXPECT_EQ(body("return a, b"), "(return a b)");
  EXPECT_EQ(body("a = 1; b = 2;; c"), "(= a 1); (= b 2); c");
  EXPECT_EQ(body("\n\n  dense(1)  # layer\n\n"), "(call dense 1)");
  EXPECT_EQ(body("if a { b } else if c { d } else { e }"),
            "(if a { b } else { (if c { d } else { e }) })");
  EXPECT_EQ(body("if a {\n  b\n}\nelse {\n  c\n}\nd"),
            "(if a { b } else { c }); d");
  EXPECT_EQ(body("if a { }\nb"), "(if a { }); b");
  EXPECT_EQ(body("if a { if b { c } }"), "(if a { (if b { c }) })");
}

TEST_F(ParserTest, Definitions) {
  Parse p = parse("import \"layers/a.dl\"; import \"b.dl\"\n"
                  "block one(x) { return x }\n"
                  "block two(a, b=2,)(x, y,) { return x }\n"
                  "block none()() { return 1 }\n"
                  "sequential s(a: f32[], b: i32[2, 3,],) { }\n"
                  "train s { epochs = 1; seed = 2 }\n");
  ASSERT_EQ(p.errors, 0u) << p.diagText;
  ASSERT_EQ(p.module->decls.size(), 7u);
  EXPECT_EQ(p.decl(0).kind, Decl::Kind::Import);
  EXPECT_EQ(p.decl(0).name, "layers/a.dl");
  EXPECT_EQ(p.decl(0).nameLoc.col, 8u);
  EXPECT_EQ(p.decl(1).name, "b.dl");
  // One list: the inputs.
  EXPECT_TRUE(p.decl(2).hyperParams.empty());
  ASSERT_EQ(p.decl(2).inputs.size(), 1u);
  EXPECT_EQ(p.decl(2).inputs[0].name, "x");
  // Two lists: hyper-parameters, then inputs.
  ASSERT_EQ(p.decl(3).hyperParams.size(), 2u);
  EXPECT_EQ(p.decl(3).inputs.size(), 2u);
  EXPECT_EQ(p.decl(4).hyperParams.size(), 0u);
  EXPECT_EQ(p.decl(4).inputs.size(), 0u);
  const Decl &seq = p.decl(5);
  ASSERT_EQ(seq.inputs.size(), 2u);
  EXPECT_EQ(seq.inputs[0].type.dims.size(), 0u);
  EXPECT_EQ(seq.inputs[1].type.dtype, "i32");
  EXPECT_EQ(seq.inputs[1].type.dims.size(), 2u);
  EXPECT_EQ(settingNames(p.decl(6)),
            (std::vector<std::string>{"epochs", "seed"}));
  EXPECT_STREQ(declKindName(Decl::Kind::Sequential), "sequential");
  EXPECT_STREQ(declKindName(Decl::Kind::Model), "model");
  EXPECT_STREQ(declKindName(Decl::Kind::Block), "block");
  EXPECT_STREQ(declKindName(Decl::Kind::Train), "train");
  EXPECT_STREQ(declKindName(Decl::Kind::Import), "import");
}

TEST_F(ParserTest, EmptyAndCommentOnlyFiles) {
  for (const char *text : {"", "\n\n", "# nothing\n", ";;\n", "  \t\r\n"}) {
    Parse p = parse(text);
    EXPECT_EQ(p.errors, 0u) << p.diagText;
    EXPECT_TRUE(p.module->decls.empty());
    EXPECT_NE(p.module->file, nullptr);
  }
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST_F(ParserTest, UnknownTopLevelWord) {
  Parse p = parse("sequental foo(x: f32[1]) {\n  dense(1)\n}\n"
                  "model m(x: f32[1]) { return x }\n");
  EXPECT_EQ(p.errors, 1u);
  EXPECT_NE(p.diagText.find("t.dl:1:1: error: expected a definition "
                            "(sequential, model, block, train or import), "
                            "got 'sequental'\n    sequental foo(x: f32[1]) "
                            "{\n    ^\nnote: did you mean 'sequential'?\n"),
            std::string::npos)
      << p.diagText;
  // The next definition is still parsed.
  ASSERT_EQ(p.module->decls.size(), 1u);
  EXPECT_EQ(p.decl(0).name, "m");

  Parse far = parse("banana\n");
  EXPECT_NE(far.diagText.find("got 'banana'\n"), std::string::npos);
  EXPECT_EQ(far.diagText.find("did you mean"), std::string::npos);
  expectError("42", 1, 1,
              "expected a definition (sequential, model, block, train or "
              "import), got '42'");
  expectError("x = 1", 1, 1,
              "expected a definition (sequential, model, block, train or "
              "import), got 'x'");
}

TEST_F(ParserTest, UnclosedParenthesisAtNewline) {
  Parse p =
      parse("model m(x: f32[1]) {\n  h = conv2d(32, 3\n  y = dense(10)(h)\n"
            "  return y\n}\n");
  EXPECT_EQ(p.errors, 1u) << p.diagText;
  EXPECT_NE(p.diagText.find("t.dl:2:19: error: expected ')' to close '(' at "
                            "2:13, got newline\n"),
            std::string::npos)
      << p.diagText;
  // Recovery resumes at the next line.
  ASSERT_EQ(p.module->decls.size(), 1u);
  ASSERT_EQ(p.decl(0).body.size(), 2u);
  EXPECT_EQ(stmtText(*p.decl(0).body[0]), "(= y (call (call dense 10) h))");
}

TEST_F(ParserTest, ExpectedExpression) {
  expectError("model m(x: f32[1]) { y = }", 1, 26,
              "expected an expression, got '}'");
  expectError("model m(x: f32[1]) {\n  y = \n}", 2, 7,
              "expected an expression, got newline");
  expectError("model m(x: f32[1]) { y = f(1, ,) }", 1, 31,
              "expected an expression, got ','");
  expectError("model m(x: f32[1]) { y = () }", 1, 27,
              "expected an expression, got ')'");
  expectError("model m(x: f32[1]) { else }", 1, 22,
              "expected an expression, got 'else'");
}

TEST_F(ParserTest, ClosingBrackets) {
  expectError("model m(x: f32[1]) { y = f(a b) }", 1, 30,
              "expected ',' or ')', got 'b'");
  expectError("model m(x: f32[1]) { y = f(a]) }", 1, 29,
              "expected ')' to close '(' at 1:27, got ']'");
  expectError("model m(x: f32[1]) { y = [a }", 1, 29,
              "expected ']' to close '[' at 1:26, got '}'");
  expectError("model m(x: f32[1]) { y = x[1, 2] }", 1, 29,
              "expected ']' to close '[' at 1:27, got ','");
  expectError("model m(x: f32[1]) { y = (a b) }", 1, 29,
              "expected ')' to close '(' at 1:26, got 'b'");
  expectError("model m(x: f32[1]) { y = f(a", 1, 29,
              "expected ')' to close '(' at 1:27, got end of file");
}

TEST_F(ParserTest, UnclosedBrace) {
  Parse p = parse("model m(x: f32[1]) {\n  y = f(x)\n");
  EXPECT_EQ(p.errors, 1u) << p.diagText;
  EXPECT_NE(p.diagText.find("t.dl:1:20: error: unclosed '{': expected '}' "
                            "before end of file\n"),
            std::string::npos)
      << p.diagText;
  ASSERT_EQ(p.module->decls.size(), 1u);
  EXPECT_EQ(p.decl(0).body.size(), 1u);

  // A definition keyword in column 1 ends the unclosed body.
  Parse next = parse("model m(x: f32[1]) {\n  y = f(x\n"
                     "model n(x: f32[1]) {\n  return x\n}\n");
  EXPECT_NE(next.diagText.find("t.dl:1:20: error: unclosed '{': expected '}' "
                               "before 'model' at 3:1\n"),
            std::string::npos)
      << next.diagText;
  ASSERT_EQ(next.module->decls.size(), 2u);
  EXPECT_EQ(next.decl(1).name, "n");
  EXPECT_EQ(next.decl(1).body.size(), 1u);

  expectError("train t {\n  epochs = 1\n", 1, 9,
              "unclosed '{': expected '}' before end of file");
  // Nested bodies left open: one message, for the innermost.
  Parse nested = parse("model m(x: f32[1]) {\n  if x {\n    if y {\n");
  EXPECT_EQ(nested.errors, 1u) << nested.diagText;
  EXPECT_NE(nested.diagText.find("t.dl:3:10: error: unclosed '{'"),
            std::string::npos)
      << nested.diagText;
}

TEST_F(ParserTest, StatementTerminators) {
  Parse p = parse("model m(x: f32[1]) {\n  y = f(x) g(x)\n  return y\n}\n");
  EXPECT_EQ(p.errors, 1u);
  EXPECT_NE(p.diagText.find("t.dl:2:12: error: expected a newline or ';' "
                            "after the statement, got 'g'\n    "
                            "  y = f(x) g(x)\n               ^\nnote: "
                            "statements end at a newline or ';'\n"),
            std::string::npos)
      << p.diagText;
  ASSERT_EQ(p.decl(0).body.size(), 2u);
  expectError("model m(x: f32[1]) { y = x } train m {}", 1, 30,
              "expected a newline or ';' after the definition of 'm', got "
              "'train'");
  expectError("model m(x: f32[1]) {\n  if x { y } z\n}", 2, 14,
              "expected a newline or ';' after the statement, got 'z'");
}

TEST_F(ParserTest, InputsAndParameters) {
  expectError("model m(x) { return x }", 1, 10,
              "expected ':' and a type like f32[28, 28, 1] after input 'x'");
  expectError("sequential s(x f32[1]) { }", 1, 16,
              "expected ':' and a type like f32[28, 28, 1] after input 'x'");
  expectError("sequential s(x: f32) { }", 1, 20,
              "expected '[' and the dimensions after 'f32', got ')'");
  expectError("sequential s(x: f32[1] = 2) { }", 1, 26,
              "an input cannot have a default value");
  expectError("sequential s(1) { }", 1, 14,
              "expected the name of an input or ')', got '1'");
  expectError("sequential s { }", 1, 14,
              "expected '(' and the inputs after 's', got '{'");
  expectError("sequential (x: f32[1]) { }", 1, 12,
              "expected a name after 'sequential', got '('");
  expectError("model train(x: f32[1]) { }", 1, 7,
              "expected a name after 'model', got 'train'");
  expectError("block b(x=1) { }", 1, 11,
              "a block input cannot have a default value");
  expectError("block b(f)(x: f32[1]) { }", 1, 15, "a block input has no type");
  expectError("block b(f: f32[1])(x) { }", 1, 12,
              "a hyper-parameter has no type");
  expectError("block b { }", 1, 9, "expected '(' after block 'b', got '{'");
  expectError("block b(1) { }", 1, 9,
              "expected the name of a parameter or ')', got '1'");
  // A body must open on the definition's line; one error, then recovery.
  Parse brace = parse("model m(x: f32[1])\n{\n  return x\n}\n"
                      "model n(x: f32[1]) { return x }\n");
  EXPECT_EQ(brace.errors, 1u) << brace.diagText;
  EXPECT_NE(brace.diagText.find(
                "t.dl:1:19: error: expected '{' to start the body of 'm', "
                "got newline\n"),
            std::string::npos)
      << brace.diagText;
  ASSERT_EQ(brace.module->decls.size(), 1u);
  EXPECT_EQ(brace.decl(0).name, "n");
  expectError("import foo", 1, 8,
              "expected a file name in double quotes after 'import', got "
              "'foo'");
  expectError("train t epochs = 1", 1, 9,
              "expected '{' after 'train t', got 'epochs'");
  expectError("train t { epochs 1 }", 1, 18,
              "expected '=' after setting 'epochs', got '1'");
  expectError("train t { 3 = 1 }", 1, 11,
              "expected a setting like 'epochs = 10', got '3'");
}

TEST_F(ParserTest, ArgumentErrors) {
  expectError("model m(x: f32[1]) { y = f(a=1, 2) }", 1, 33,
              "positional argument after keyword argument 'a'");
  expectError("model m(x: f32[1]) { y = f(a=1, a=2) }", 1, 33,
              "argument 'a' is given twice");
  expectError("model m(x: f32[1]) { y = f((a)=1) }", 1, 31,
              "expected an argument name before '='");
  expectError("model m(x: f32[1]) { y = f(a=b=1) }", 1, 31,
              "expected ',' or ')', got '='");
}

TEST_F(ParserTest, StatementErrors) {
  expectError("model m(x: f32[1]) { a < b < c }", 1, 28,
              "comparisons cannot be chained");
  expectError("model m(x: f32[1]) { f(x) = 1 }", 1, 27,
              "cannot assign to this expression");
  expectError("model m(x: f32[1]) { (a) = 1 }", 1, 26,
              "cannot assign to this expression");
  expectError("model m(x: f32[1]) { a, 1 = x }", 1, 25,
              "expected a name after ',' in the assignment targets, got '1'");
  expectError("model m(x: f32[1]) { a, b }", 1, 27,
              "expected '=' after the names being assigned, got '}'");
  expectError("model m(x: f32[1]) { return }", 1, 29,
              "expected a value after 'return', got '}'");
  expectError("model m(x: f32[1]) { if x y }", 1, 27,
              "expected '{' after the condition of 'if', got 'y'");
  expectError("model m(x: f32[1]) { if x { } else y }", 1, 36,
              "expected '{' or 'if' after 'else', got 'y'");
  expectError("model m(x: f32[1]) { y = sequential dense(1) }", 1, 37,
              "expected '{' after 'sequential' in an expression, got 'dense'");
}

TEST_F(ParserTest, LexerErrorsReachTheOutput) {
  Parse p = parse("model m(x: f32[1]) {\n  y = f(\"abc)\n  z = 1e999\n}\n");
  EXPECT_NE(p.diagText.find("t.dl:2:9: error: unterminated string"),
            std::string::npos)
      << p.diagText;
  EXPECT_NE(p.diagText.find("t.dl:3:7: error: number out of range"),
            std::string::npos)
      << p.diagText;
}

TEST_F(ParserTest, SeveralErrorsInOneFile) {
  Parse p = parse("model m(x: f32[1]) {\n"
                  "  a = f(1,\n"      // 2: unclosed
                  "  b = )\n"         // 3: (swallowed by line 2's recovery)
                  "  c = 1 2\n"       // 4: no terminator
                  "  d = g(x=1, 3)\n" // 5: positional after keyword
                  "  e = [1, 2\n"     // 6: unclosed list
                  "  return a\n"
                  "}\n"
                  "sequental s(x: f32[1]) { }\n" // 9: unknown word
                  "train m {\n"
                  "  epochs 3\n" // 11: missing '='
                  "  seed = 1\n"
                  "}\n"
                  "model ok(x: f32[1]) {\n  return x\n}\n");
  EXPECT_EQ(p.errors, 6u) << p.diagText;
  for (const char *where : {"t.dl:3:7:", "t.dl:4:9:", "t.dl:5:14:",
                            "t.dl:6:12:", "t.dl:9:1:", "t.dl:11:10:"})
    EXPECT_NE(p.diagText.find(where), std::string::npos) << where << "\n"
                                                         << p.diagText;
  ASSERT_EQ(p.module->decls.size(), 3u);
  EXPECT_EQ(p.decl(0).name, "m");
  EXPECT_EQ(p.decl(1).kind, Decl::Kind::Train);
  EXPECT_EQ(settingNames(p.decl(1)), (std::vector<std::string>{"seed"}));
  EXPECT_EQ(p.decl(2).name, "ok");
  EXPECT_EQ(p.decl(2).body.size(), 1u);
}

TEST_F(ParserTest, StopsAfterTooManyErrors) {
  std::string text = "model m(x: f32[1]) {\n";
  for (int i = 0; i < 10000; ++i)
    text += "  a = = 1\n";
  text += "}\n";
  Parse p = parse(text, 5);
  EXPECT_NE(p.diagText.find("too many errors (5)"), std::string::npos);
  // It stopped: not one reported error per line.
  EXPECT_LT(p.errors, 10u);
}

//===----------------------------------------------------------------------===//
// Limits and robustness
//===----------------------------------------------------------------------===//

TEST_F(ParserTest, ModerateNestingIsFine) {
  std::string deep = std::string(150, '(') + "x" + std::string(150, ')');
  EXPECT_EQ(expr(deep), "(= _ x)");
  std::string lists = std::string(150, '[') + std::string(150, ']');
  Parse p = parse("model m(x: f32[1]) { y = " + lists + " }");
  EXPECT_EQ(p.errors, 0u) << p.diagText;
}

TEST_F(ParserTest, DeepNestingIsAnError) {
  const std::string tooDeep = "nesting too deep (more than 200 levels)";
  struct Case {
    std::string open;
    std::string close;
  } cases[] = {{"(", ")"},      {"[", "]"},           {"-", ""},
               {"not ", ""},    {"f(", ")"},          {"x[", "]"},
               {"if x {", "}"}, {"sequential {", "}"}};
  for (const Case &c : cases) {
    std::string text = "model m(x: f32[1]) {\n  ";
    if (c.open[0] != 'i')
      text += "y = ";
    for (int i = 0; i < 100000; ++i)
      text += c.open;
    text += "1";
    for (int i = 0; i < 100000; ++i)
      text += c.close;
    text += "\n}\nmodel n(x: f32[1]) { return x }\n";
    Parse p = parse(text);
    EXPECT_NE(p.diagText.find(tooDeep), std::string::npos)
        << c.open << "\n"
        << p.diagText.substr(0, 2000);
    std::ostringstream os;
    printModule(*p.module, os);
  }
}

TEST_F(ParserTest, UnclosedParenthesesToEndOfFile) {
  Parse p = parse("model m(x: f32[1]) {\n  y = " + std::string(100000, '('));
  EXPECT_NE(p.diagText.find("nesting too deep (more than 200 levels)"),
            std::string::npos);
  EXPECT_GE(p.errors, 1u);
}

TEST_F(ParserTest, DeepElseIfChains) {
  std::string chain = "model m(x: f32[1]) {\n  if a { b }";
  for (int i = 0; i < 100000; ++i)
    chain += " else if a { b }";
  chain += "\n}\n";
  Parse p = parse(chain);
  EXPECT_NE(p.diagText.find("nesting too deep"), std::string::npos);

  std::string shortChain = "model m(x: f32[1]) {\n  if a { b }";
  for (int i = 0; i < 50; ++i)
    shortChain += " else if a { b }";
  shortChain += " else { c }\n}\n";
  Parse ok = parse(shortChain);
  EXPECT_EQ(ok.errors, 0u) << ok.diagText;
}

TEST_F(ParserTest, LongOperatorChainsAreBounded) {
  const std::string tooComplex = "expression too complex (more than 1000 "
                                 "levels)";
  for (const char *op : {" + 1", " * 1", " and a", " or a", "()", "[0]"}) {
    std::string text = "model m(x: f32[1]) {\n  y = a";
    for (int i = 0; i < 100000; ++i)
      text += op;
    text += "\n  return y\n}\n";
    Parse p = parse(text);
    EXPECT_NE(p.diagText.find(tooComplex), std::string::npos) << op;
    // Recovery goes on with the next statement.
    ASSERT_EQ(p.module->decls.size(), 1u);
    EXPECT_EQ(p.decl(0).body.size(), 1u) << op;
  }
  // 500 operators are fine.
  std::string text = "model m(x: f32[1]) {\n  y = a";
  for (int i = 0; i < 500; ++i)
    text += " + 1";
  text += "\n}\n";
  EXPECT_EQ(parse(text).errors, 0u);
}

TEST_F(ParserTest, HugeFilesParse) {
  // About 4 MB of statements and a flat list of 200k elements.
  std::string text = "model m(x: f32[1]) {\n";
  for (int i = 0; i < 200000; ++i)
    text += "  h = conv2d(32, 3, padding=same)(h)\n";
  text += "  y = [";
  for (int i = 0; i < 200000; ++i)
    text += "1, ";
  text += "]\n  return y\n}\n";
  Parse p = parse(text);
  EXPECT_EQ(p.errors, 0u) << p.diagText.substr(0, 1000);
  ASSERT_EQ(p.module->decls.size(), 1u);
  EXPECT_EQ(p.decl(0).body.size(), 200002u);
  EXPECT_EQ(p.decl(0).body[200000]->value->operands.size(), 200000u);
}

TEST_F(ParserTest, RandomBytesNeverCrash) {
  std::mt19937 rng(20240601);
  for (int round = 0; round < 300; ++round) {
    std::string text;
    size_t size = rng() % 600;
    for (size_t i = 0; i < size; ++i)
      text.push_back(static_cast<char>(rng() & 0xff));
    Parse p = parse(text);
    ASSERT_NE(p.module, nullptr);
    std::ostringstream os;
    printModule(*p.module, os);
  }
}

TEST_F(ParserTest, RandomTokenSoupNeverCrashes) {
  // Pieces of real syntax in random order reach much deeper into the parser
  // than random bytes.
  const char *pieces[] = {
      "model ",  "sequential ", "block ", "train ", "import ", "if ", "else ",
      "return ", "not ",        "and ",   "or ",    "true ",   "x ",  "f ",
      "12 ",     "0.5 ",        "\"s\" ", "(",      ")",       "[",   "]",
      "{",       "}",           ",",      ":",      ";",       "=",   "==",
      "<",       "+",           "-",      "*",      "\n",      "\n",  "f32[1]",
      "#c\n",    "\"",          "$"};
  const size_t count = sizeof(pieces) / sizeof(pieces[0]);
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    size_t size = rng() % 80;
    for (size_t i = 0; i < size; ++i)
      text += pieces[rng() % count];
    Parse p = parse(text);
    ASSERT_NE(p.module, nullptr);
    std::ostringstream os;
    printModule(*p.module, os);
  }
}

TEST_F(ParserTest, MutatedExamplesNeverCrash) {
  // Each example with bytes deleted, duplicated or replaced at random.
  std::string dir = examplesDir();
  ASSERT_FALSE(dir.empty());
  std::mt19937 rng(42);
  for (const char *name :
       {"resnet_mini.dl", "mobilenet_tiny.dl", "multitask.dl", "siamese.dl"}) {
    std::ifstream in(dir + "/" + name);
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string original = buffer.str();
    ASSERT_FALSE(original.empty());
    for (int round = 0; round < 200; ++round) {
      std::string text = original;
      for (int edits = 1 + rng() % 4; edits > 0 && !text.empty(); --edits) {
        size_t at = rng() % text.size();
        switch (rng() % 3) {
        case 0:
          text.erase(at, 1 + rng() % 8);
          break;
        case 1:
          text.insert(at, text.substr(rng() % text.size(), 1 + rng() % 8));
          break;
        default:
          text[at] = "(){}[],=\n\"#x1"[rng() % 14];
          break;
        }
      }
      Parse p = parse(text);
      std::ostringstream os;
      printModule(*p.module, os);
    }
  }
}

} // namespace
