//===- AST.h - the syntax tree of a .dl file ------------------------------===//
//
// The parser builds this tree; sema (Elaborator) evaluates it into a Graph.
// Nodes are plain structs with a Kind tag; every node carries the location
// of its first token.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_FRONTEND_AST_H
#define DLC_FRONTEND_AST_H

#include "frontend/Diagnostics.h"

#include <memory>
#include <string>
#include <vector>

namespace dlc {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;

/// One argument of a call: positional when `name` is empty, else `name=value`.
struct Argument {
  std::string name;
  SourceLoc loc; // of the name for keyword arguments, else of the value
  ExprPtr value;
};

struct Expr {
  enum class Kind {
    Number,     // 12, 0.5, 1e-3 (a leading '-' is a Unary "-")
    String,     // "..." (escapes resolved)
    Bool,       // true, false
    Name,       // an identifier: a variable, a layer, an enum value
    Call,       // callee(args): callee is any expression
    Index,      // base[index]: operands[0] = base, operands[1] = index
    Unary,      // op in {"-", "+", "not"}: operands[0]
    Binary,     // op in {"+","-","*","/","%","==","!=","<","<=",">",">=",
                //        "and","or"}: operands[0], operands[1]
    List,       // [a, b, c]: operands
    Tuple,      // (a, b) with at least one comma: operands
    Sequential, // inline `sequential { LAYER* }`: body
  };

  Kind kind;
  SourceLoc loc;

  double number = 0;          // Number
  bool isInteger = false;     // Number written without '.', 'e' or 'E'
  bool boolean = false;       // Bool
  std::string text;           // String value, Name identifier, Unary/Binary op
  ExprPtr callee;             // Call
  std::vector<Argument> args; // Call
  std::vector<ExprPtr> operands; // Index, Unary, Binary, List, Tuple
  std::vector<StmtPtr> body;     // Sequential

  Expr(Kind kind, SourceLoc loc) : kind(kind), loc(loc) {}
};

/// A name being bound, with where it is written.
struct Target {
  std::string name;
  SourceLoc loc;
};

struct Stmt {
  enum class Kind {
    Expr,   // a bare expression (a layer line in a sequential body)
    Assign, // a, b = value  (one or more targets)
    If,     // if cond { then } else { otherwise }; `else if` nests an If
    Return, // return a, b
  };

  Kind kind;
  SourceLoc loc;

  ExprPtr value;                 // Expr, Assign, If (the condition)
  std::vector<Target> targets;   // Assign
  std::vector<StmtPtr> thenBody; // If
  std::vector<StmtPtr> elseBody; // If (empty when there is no else)
  std::vector<ExprPtr> values;   // Return

  Stmt(Kind kind, SourceLoc loc) : kind(kind), loc(loc) {}
};

/// `f32[28, 28, 1]`, `i32[]`: a dtype and the per-example dimensions.
struct TypeExpr {
  std::string dtype; // as written: f32, f64, i32, ...
  SourceLoc loc;
  std::vector<ExprPtr> dims;
};

/// An input of a sequential/model (`image: f32[28, 28, 1]`) or of a block
/// (`x`, no type).
struct InputDecl {
  std::string name;
  SourceLoc loc;
  bool hasType = false;
  TypeExpr type;
};

/// A hyper-parameter of a block: `filters` or `strides=1`.
struct HyperParam {
  std::string name;
  SourceLoc loc;
  ExprPtr defaultValue; // null when it has none (then it is required)
};

/// `name = value` inside a train section.
struct Setting {
  std::string name;
  SourceLoc loc;
  ExprPtr value;
};

struct Decl {
  enum class Kind { Sequential, Model, Block, Train, Import };

  Kind kind;
  SourceLoc loc;     // of the keyword
  std::string name;  // definition name; for Import, the path as written
  SourceLoc nameLoc; // of the name (or the path string)

  std::vector<HyperParam> hyperParams; // Block
  std::vector<InputDecl> inputs;       // Sequential, Model, Block
  std::vector<StmtPtr> body;           // Sequential, Model, Block
  std::vector<Setting> settings;       // Train

  Decl(Kind kind, SourceLoc loc) : kind(kind), loc(loc) {}
};

/// One parsed file.
struct Module {
  const SourceFile *file = nullptr;
  std::vector<std::unique_ptr<Decl>> decls;
};

/// The keyword that introduces each kind of definition ("sequential", ...).
const char *declKindName(Decl::Kind kind);

} // namespace dlc

#endif // DLC_FRONTEND_AST_H
