//===- ASTPrinter.cpp - the AST as indented text --------------------------===//
#include "frontend/ASTPrinter.h"

#include <charconv>
#include <cstdio>
#include <string>

namespace dlc {

namespace {

/// Writes one node per line; `depth` is the current indentation level.
class ASTPrinter {
public:
  explicit ASTPrinter(std::ostream &os) : os_(os) {}

  void printModule(const Module &module);

private:
  void line(unsigned depth, const std::string &text, SourceLoc loc);
  void printDecl(const Decl &decl, unsigned depth);
  void printType(const TypeExpr &type, unsigned depth);
  void printStmt(const Stmt &stmt, unsigned depth);
  void printBody(const std::vector<StmtPtr> &body, unsigned depth);
  void printExpr(const Expr *expr, unsigned depth);

  std::ostream &os_;
};

std::string locText(SourceLoc loc) {
  if (loc.line == 0)
    return "@?";
  return "@" + std::to_string(loc.line) + ":" + std::to_string(loc.col);
}

/// A double in its shortest round-trip form; floats always show a point or
/// an exponent so that they read differently from integers.
std::string numberText(double value, bool isInteger) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  std::string text(buffer, result.ec == std::errc() ? result.ptr : buffer);
  if (!isInteger && text.find_first_of(".en") == std::string::npos)
    text += ".0";
  return text;
}

/// A string as a quoted literal, with escapes for quotes, backslashes and
/// non-printable bytes.
std::string quote(const std::string &value) {
  std::string text = "\"";
  for (char c : value) {
    unsigned char byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      text += '\\';
      text += c;
    } else if (c == '\n') {
      text += "\\n";
    } else if (c == '\t') {
      text += "\\t";
    } else if (byte < 0x20 || byte >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", byte);
      text += hex;
    } else {
      text += c;
    }
  }
  return text + "\"";
}

const char *exprKindName(Expr::Kind kind) {
  switch (kind) {
  case Expr::Kind::Number:
    return "number";
  case Expr::Kind::String:
    return "string";
  case Expr::Kind::Bool:
    return "bool";
  case Expr::Kind::Name:
    return "name";
  case Expr::Kind::Call:
    return "call";
  case Expr::Kind::Index:
    return "index";
  case Expr::Kind::Unary:
    return "unary";
  case Expr::Kind::Binary:
    return "binary";
  case Expr::Kind::List:
    return "list";
  case Expr::Kind::Tuple:
    return "tuple";
  case Expr::Kind::Sequential:
    return "sequential";
  }
  return "expr";
}

void ASTPrinter::line(unsigned depth, const std::string &text, SourceLoc loc) {
  os_ << std::string(2 * static_cast<size_t>(depth), ' ') << text << ' '
      << locText(loc) << '\n';
}

void ASTPrinter::printModule(const Module &module) {
  os_ << "module " << (module.file ? module.file->path() : "<none>") << '\n';
  for (const auto &decl : module.decls)
    if (decl)
      printDecl(*decl, 1);
}

void ASTPrinter::printDecl(const Decl &decl, unsigned depth) {
  if (decl.kind == Decl::Kind::Import) {
    line(depth, std::string("import ") + quote(decl.name), decl.loc);
    return;
  }
  line(depth, std::string(declKindName(decl.kind)) + " " + decl.name, decl.loc);
  for (const HyperParam &hyper : decl.hyperParams) {
    line(depth + 1, "hyper " + hyper.name, hyper.loc);
    if (hyper.defaultValue)
      printExpr(hyper.defaultValue.get(), depth + 2);
  }
  for (const InputDecl &input : decl.inputs) {
    line(depth + 1, "input " + input.name, input.loc);
    if (input.hasType)
      printType(input.type, depth + 2);
  }
  printBody(decl.body, depth + 1);
  for (const Setting &setting : decl.settings) {
    line(depth + 1, "setting " + setting.name, setting.loc);
    printExpr(setting.value.get(), depth + 2);
  }
}

void ASTPrinter::printType(const TypeExpr &type, unsigned depth) {
  line(depth, "type " + type.dtype, type.loc);
  for (const ExprPtr &dim : type.dims)
    printExpr(dim.get(), depth + 1);
}

void ASTPrinter::printBody(const std::vector<StmtPtr> &body, unsigned depth) {
  for (const StmtPtr &stmt : body)
    if (stmt)
      printStmt(*stmt, depth);
}

void ASTPrinter::printStmt(const Stmt &stmt, unsigned depth) {
  switch (stmt.kind) {
  case Stmt::Kind::Expr:
    line(depth, "expr", stmt.loc);
    printExpr(stmt.value.get(), depth + 1);
    return;
  case Stmt::Kind::Assign: {
    std::string text = "assign";
    for (size_t i = 0; i < stmt.targets.size(); ++i)
      text += (i == 0 ? " " : ", ") + stmt.targets[i].name + " " +
              locText(stmt.targets[i].loc);
    os_ << std::string(2 * static_cast<size_t>(depth), ' ') << text << '\n';
    printExpr(stmt.value.get(), depth + 1);
    return;
  }
  case Stmt::Kind::Return:
    line(depth, "return", stmt.loc);
    for (const ExprPtr &value : stmt.values)
      printExpr(value.get(), depth + 1);
    return;
  case Stmt::Kind::If:
    line(depth, "if", stmt.loc);
    printExpr(stmt.value.get(), depth + 1);
    os_ << std::string(2 * static_cast<size_t>(depth + 1), ' ') << "then\n";
    printBody(stmt.thenBody, depth + 2);
    if (!stmt.elseBody.empty()) {
      os_ << std::string(2 * static_cast<size_t>(depth + 1), ' ') << "else\n";
      printBody(stmt.elseBody, depth + 2);
    }
    return;
  }
}

void ASTPrinter::printExpr(const Expr *expr, unsigned depth) {
  if (!expr) {
    os_ << std::string(2 * static_cast<size_t>(depth), ' ') << "<null>\n";
    return;
  }
  std::string text = exprKindName(expr->kind);
  switch (expr->kind) {
  case Expr::Kind::Number:
    text += " " + numberText(expr->number, expr->isInteger);
    break;
  case Expr::Kind::String:
    text += " " + quote(expr->text);
    break;
  case Expr::Kind::Bool:
    text += expr->boolean ? " true" : " false";
    break;
  case Expr::Kind::Name:
  case Expr::Kind::Unary:
  case Expr::Kind::Binary:
    text += " " + expr->text;
    break;
  default:
    break;
  }
  line(depth, text, expr->loc);
  if (expr->kind == Expr::Kind::Call) {
    printExpr(expr->callee.get(), depth + 1);
    for (const Argument &arg : expr->args) {
      line(depth + 1, arg.name.empty() ? "arg" : "arg " + arg.name, arg.loc);
      printExpr(arg.value.get(), depth + 2);
    }
  }
  for (const ExprPtr &operand : expr->operands)
    printExpr(operand.get(), depth + 1);
  printBody(expr->body, depth + 1);
}

} // namespace

void printModule(const Module &module, std::ostream &os) {
  ASTPrinter(os).printModule(module);
}

} // namespace dlc
