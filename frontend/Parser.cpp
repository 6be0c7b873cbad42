//===- Parser.cpp - .dl source to AST -------------------------------------===//
//
// Error handling: a parse function that fails reports one error and returns
// null; its callers return null at once without reporting more, up to the
// statement (or definition) being parsed, which then skips to where the next
// one starts. So each mistake gives one message.
//
//===----------------------------------------------------------------------===//
#include "frontend/Parser.h"

#include "frontend/Lexer.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dlc {

namespace {

using K = Token::Kind;

/// Most levels of brackets, braces and unary operators, combined.
constexpr unsigned kMaxDepth = 200;
/// Most levels of any expression tree (long operator chains nest too).
constexpr unsigned kMaxHeight = 1000;

/// An expression with the height of its tree (a leaf has height 1).
struct Parsed {
  ExprPtr expr;
  unsigned height = 0;
  explicit operator bool() const { return expr != nullptr; }
};

/// Where the statement being parsed began: the bracket depth and the column
/// of its first token. Used to find where it ends after an error.
struct StmtContext {
  size_t depth;
  unsigned col;
};

/// One entry of a parenthesized parameter list: `name`, `name: TYPE` or
/// `name=DEFAULT`; which forms are allowed depends on the definition.
struct ParamEntry {
  std::string name;
  SourceLoc loc;
  bool hasType = false;
  TypeExpr type;
  ExprPtr defaultValue;
};

std::string locText(SourceLoc loc) {
  return std::to_string(loc.line) + ":" + std::to_string(loc.col);
}

bool isDeclKeyword(K kind) {
  return kind == K::KwSequential || kind == K::KwModel || kind == K::KwBlock ||
         kind == K::KwTrain || kind == K::KwImport;
}

bool isCloser(K kind) {
  return kind == K::RParen || kind == K::RBracket || kind == K::RBrace;
}

const char *binaryOp(K kind) {
  switch (kind) {
  case K::Plus:
    return "+";
  case K::Minus:
    return "-";
  case K::Star:
    return "*";
  case K::Slash:
    return "/";
  case K::Percent:
    return "%";
  case K::Equal:
    return "==";
  case K::NotEqual:
    return "!=";
  case K::Less:
    return "<";
  case K::LessEqual:
    return "<=";
  case K::Greater:
    return ">";
  case K::GreaterEqual:
    return ">=";
  default:
    return nullptr;
  }
}

bool isComparison(K kind) {
  return kind == K::Equal || kind == K::NotEqual || kind == K::Less ||
         kind == K::LessEqual || kind == K::Greater || kind == K::GreaterEqual;
}

class Parser {
public:
  Parser(const SourceFile &file, DiagnosticEngine &diags)
      : file_(file), diags_(diags), lexer_(file, diags) {}

  std::unique_ptr<Module> parseModule();

private:
  /// Counts one level of nesting while alive; `ok()` is false (and an error
  /// was reported) when the limit is passed.
  class DepthGuard {
  public:
    DepthGuard(Parser &parser, SourceLoc loc) : parser_(parser) {
      if (parser_.depth_ >= kMaxDepth) {
        parser_.error(loc, "nesting too deep (more than " +
                               std::to_string(kMaxDepth) + " levels)");
        return;
      }
      ++parser_.depth_;
      ok_ = true;
    }
    ~DepthGuard() {
      if (ok_)
        --parser_.depth_;
    }
    DepthGuard(const DepthGuard &) = delete;
    DepthGuard &operator=(const DepthGuard &) = delete;
    bool ok() const { return ok_; }

  private:
    Parser &parser_;
    bool ok_ = false;
  };

  /// Makes `context` the current statement while alive.
  class StmtScope {
  public:
    StmtScope(Parser &parser, StmtContext &context)
        : parser_(parser), saved_(parser.stmt_) {
      parser_.stmt_ = &context;
    }
    ~StmtScope() { parser_.stmt_ = saved_; }
    StmtScope(const StmtScope &) = delete;
    StmtScope &operator=(const StmtScope &) = delete;

  private:
    Parser &parser_;
    StmtContext *saved_;
  };

  // Tokens.
  void advance();
  bool at(K kind) const { return tok_.kind == kind; }
  void skipSeparators();
  bool atStatementEnd() const;
  bool atTopLevelDecl() const;
  bool lineBreakEndsStatement() const;
  bool isPlainName(const Parsed &parsed, uint64_t start) const;
  void error(SourceLoc loc, const std::string &message,
             const std::string &hint = "") {
    diags_.error(loc, message, hint);
  }
  SourceLoc foundLoc() const;
  void errorExpected(const std::string &what, const std::string &hint = "");
  bool expectClose(K close, SourceLoc open, bool inList);
  void reportUnclosedBrace(SourceLoc open);
  void closeBracketsBelowCurrent(size_t keep);

  // Recovery.
  void syncStatement(const StmtContext &context);
  void syncDecl();

  // Definitions.
  std::unique_ptr<Decl> parseDecl();
  std::unique_ptr<Decl> parseNetwork();
  std::unique_ptr<Decl> parseBlock();
  std::unique_ptr<Decl> parseTrain();
  std::unique_ptr<Decl> parseImport();
  bool parseName(Decl &decl);
  bool parseParamList(std::vector<ParamEntry> &entries, bool typed,
                      const char *what);
  bool parseType(TypeExpr &type);

  // Statements.
  bool expectBodyStart(const std::string &owner);
  bool parseBody(std::vector<StmtPtr> &body, unsigned &height,
                 const std::string &owner);
  StmtPtr parseStatement(unsigned &height);
  StmtPtr parseIf(unsigned &height);

  // Expressions.
  Parsed finish(ExprPtr expr, unsigned height);
  Parsed parseExpr();
  Parsed parseOr();
  Parsed parseAnd();
  Parsed parseNot();
  Parsed parseComparison();
  Parsed parseAdditive();
  Parsed parseMultiplicative();
  Parsed parseUnary();
  Parsed parsePostfix();
  Parsed parseCallArgs(Parsed callee);
  Parsed parsePrimary();
  Parsed parseParenthesized();
  Parsed parseList();
  Parsed parseInlineSequential();
  Parsed makeBinary(const char *op, Parsed left, Parsed right);

  const SourceFile &file_;
  DiagnosticEngine &diags_;
  Lexer lexer_;
  Token tok_;
  /// Bracket depth of the lexer before and after `tok_`.
  size_t depthBefore_ = 0;
  size_t depthAfter_ = 0;
  /// Just past the end of the token before `tok_`.
  SourceLoc prevEnd_;
  /// Tokens consumed so far.
  uint64_t consumed_ = 0;
  unsigned depth_ = 0;
  StmtContext *stmt_ = nullptr;
  /// `consumed_` when an unclosed '{' was last reported.
  uint64_t unclosedReported_ = UINT64_MAX;
};

//===----------------------------------------------------------------------===//
// Tokens
//===----------------------------------------------------------------------===//

void Parser::advance() {
  if (!at(K::Eof) || consumed_ == 0) {
    if (consumed_ > 0) {
      unsigned end = tok_.loc.col;
      end = tok_.length > UINT_MAX - end ? UINT_MAX : end + tok_.length;
      prevEnd_ = SourceLoc{&file_, tok_.loc.line, end};
    }
    depthBefore_ = lexer_.depth();
    tok_ = lexer_.next();
    depthAfter_ = lexer_.depth();
  }
  ++consumed_;
}

void Parser::skipSeparators() {
  while (at(K::Newline) || at(K::Semicolon))
    advance();
}

bool Parser::atStatementEnd() const {
  return at(K::Newline) || at(K::Semicolon) || at(K::RBrace) || at(K::Eof) ||
         tok_.atLineStart;
}

/// A definition keyword in column 1 of a line: the start of the next
/// definition even when brackets before it were left open.
bool Parser::atTopLevelDecl() const {
  return isDeclKeyword(tok_.kind) && tok_.atLineStart && tok_.loc.col == 1;
}

/// True when `tok_` starts a line, inside brackets opened by the current
/// statement, no further right than the statement's start: then the
/// statement most likely lacks a closing bracket and this is the next one.
bool Parser::lineBreakEndsStatement() const {
  return stmt_ && tok_.atLineStart && depthBefore_ > stmt_->depth &&
         tok_.loc.col <= stmt_->col && !isCloser(tok_.kind);
}

/// True when `parsed` is a single identifier token consumed since `start`
/// (so `(x)` does not count as a name).
bool Parser::isPlainName(const Parsed &parsed, uint64_t start) const {
  return parsed.expr && parsed.expr->kind == Expr::Kind::Name &&
         consumed_ == start + 1;
}

/// Where to point at what was found: the token, or for the end of the file
/// just after the last token (not on an empty last line).
SourceLoc Parser::foundLoc() const {
  return at(K::Eof) && prevEnd_.valid() ? prevEnd_ : tok_.loc;
}

void Parser::errorExpected(const std::string &what, const std::string &hint) {
  error(foundLoc(), "expected " + what + ", got " + describeToken(tok_), hint);
}

/// Consumes the closer `close` of the bracket opened at `open`, or reports
/// what was found instead. `inList` says a ',' would also have been valid.
bool Parser::expectClose(K close, SourceLoc open, bool inList) {
  if (at(close)) {
    advance();
    return true;
  }
  std::string closeText = tokenKindName(close);
  std::string openText = close == K::RParen     ? "'('"
                         : close == K::RBracket ? "'['"
                                                : "'{'";
  std::string closes = "expected " + closeText + " to close " + openText +
                       " at " + locText(open) + ", got ";
  if (lineBreakEndsStatement()) {
    error(prevEnd_, closes + "newline");
    return false;
  }
  bool structural = at(K::Newline) || at(K::Semicolon) || at(K::Eof) ||
                    isCloser(tok_.kind) || atTopLevelDecl();
  if (inList && !structural)
    errorExpected("',' or " + closeText);
  else
    error(foundLoc(), closes + describeToken(tok_));
  return false;
}

void Parser::reportUnclosedBrace(SourceLoc open) {
  // Bodies nested in one another all end at the same token: report the
  // innermost only.
  if (unclosedReported_ == consumed_)
    return;
  unclosedReported_ = consumed_;
  std::string found = at(K::Eof)
                          ? std::string("end of file")
                          : describeToken(tok_) + " at " + locText(tok_.loc);
  error(open, "unclosed '{': expected '}' before " + found,
        "every '{' needs a matching '}'");
}

/// Forgets the brackets the lexer still holds open above depth `keep`,
/// apart from one `tok_` itself opened.
void Parser::closeBracketsBelowCurrent(size_t keep) {
  if (depthBefore_ <= keep)
    return;
  lexer_.discardBrackets(keep, depthBefore_);
  depthBefore_ = keep;
  depthAfter_ = lexer_.depth();
}

//===----------------------------------------------------------------------===//
// Recovery
//===----------------------------------------------------------------------===//

/// Skips the rest of a bad statement: up to a newline or ';' at its own
/// depth, the '}' closing its body, a line that looks like the next
/// statement, or the next definition.
void Parser::syncStatement(const StmtContext &context) {
  while (!at(K::Eof)) {
    if ((at(K::Newline) || at(K::Semicolon)) && depthBefore_ <= context.depth)
      return;
    if (at(K::RBrace) && depthAfter_ < context.depth)
      return;
    if (atTopLevelDecl())
      return;
    if (tok_.atLineStart && depthBefore_ > context.depth &&
        tok_.loc.col <= context.col && !isCloser(tok_.kind)) {
      closeBracketsBelowCurrent(context.depth);
      return;
    }
    advance();
  }
}

/// Skips to the next definition keyword at the top level (or in column 1).
void Parser::syncDecl() {
  while (!at(K::Eof)) {
    if (isDeclKeyword(tok_.kind) &&
        (depthBefore_ == 0 || (tok_.atLineStart && tok_.loc.col == 1))) {
      closeBracketsBelowCurrent(0);
      return;
    }
    advance();
  }
}

//===----------------------------------------------------------------------===//
// Definitions
//===----------------------------------------------------------------------===//

std::unique_ptr<Module> Parser::parseModule() {
  auto module = std::make_unique<Module>();
  module->file = &file_;
  advance();
  while (true) {
    skipSeparators();
    if (at(K::Eof) || diags_.tooManyErrors())
      break;
    uint64_t start = consumed_;
    std::unique_ptr<Decl> decl = parseDecl();
    if (!decl) {
      syncDecl();
    } else {
      std::string name = decl->name;
      bool isImport = decl->kind == Decl::Kind::Import;
      module->decls.push_back(std::move(decl));
      if (!atStatementEnd() && !diags_.tooManyErrors()) {
        errorExpected(isImport
                          ? std::string("a newline or ';' after the import")
                          : "a newline or ';' after the definition of '" +
                                name + "'",
                      "definitions end at a newline or ';'");
        syncDecl();
      }
    }
    if (consumed_ == start)
      advance();
  }
  // Stopped early: one more error makes the engine say so.
  if (!at(K::Eof))
    error(tok_.loc, "too many errors; parsing stopped");
  return module;
}

std::unique_ptr<Decl> Parser::parseDecl() {
  switch (tok_.kind) {
  case K::KwSequential:
  case K::KwModel:
    return parseNetwork();
  case K::KwBlock:
    return parseBlock();
  case K::KwTrain:
    return parseTrain();
  case K::KwImport:
    return parseImport();
  default:
    break;
  }
  std::string hint;
  if (at(K::Identifier)) {
    std::string match = closestMatch(
        tok_.text, {"sequential", "model", "block", "train", "import"});
    if (!match.empty())
      hint = "did you mean '" + match + "'?";
  }
  errorExpected("a definition (sequential, model, block, train or import)",
                hint);
  return nullptr;
}

/// The name after a definition keyword.
bool Parser::parseName(Decl &decl) {
  if (!at(K::Identifier)) {
    std::string hint;
    if (tok_.kind >= K::KwSequential && tok_.kind <= K::KwNot)
      hint = describeToken(tok_) + " is a keyword and cannot be a name";
    errorExpected(std::string("a name after '") + declKindName(decl.kind) + "'",
                  hint);
    if (hint.empty())
      return false;
    // A keyword used as the name: take it as the name and go on, so that
    // the rest of the definition is checked and not read as a new one.
  }
  decl.name = tok_.text;
  decl.nameLoc = tok_.loc;
  advance();
  return true;
}

std::unique_ptr<Decl> Parser::parseNetwork() {
  Decl::Kind kind =
      at(K::KwSequential) ? Decl::Kind::Sequential : Decl::Kind::Model;
  auto decl = std::make_unique<Decl>(kind, tok_.loc);
  advance();
  if (!parseName(*decl))
    return nullptr;
  if (!at(K::LParen)) {
    errorExpected("'(' and the inputs after '" + decl->name + "'",
                  std::string("write them like ") + declKindName(kind) + " " +
                      decl->name + "(image: f32[28, 28, 1]) { ... }");
    return nullptr;
  }
  std::vector<ParamEntry> entries;
  if (!parseParamList(entries, /*typed=*/true, "input"))
    return nullptr;
  for (ParamEntry &entry : entries) {
    if (entry.defaultValue)
      error(entry.defaultValue->loc, "an input cannot have a default value");
    InputDecl input;
    input.name = std::move(entry.name);
    input.loc = entry.loc;
    input.hasType = entry.hasType;
    input.type = std::move(entry.type);
    decl->inputs.push_back(std::move(input));
  }
  std::string owner = "'" + decl->name + "'";
  unsigned height = 0;
  if (!expectBodyStart(owner))
    return nullptr;
  parseBody(decl->body, height, owner);
  return decl;
}

std::unique_ptr<Decl> Parser::parseBlock() {
  auto decl = std::make_unique<Decl>(Decl::Kind::Block, tok_.loc);
  advance();
  if (!parseName(*decl))
    return nullptr;
  if (!at(K::LParen)) {
    errorExpected("'(' after block '" + decl->name + "'",
                  "write it like block " + decl->name +
                      "(filters, strides=1)(x) { ... }");
    return nullptr;
  }
  std::vector<ParamEntry> first, second;
  if (!parseParamList(first, /*typed=*/false, "parameter"))
    return nullptr;
  bool twoLists = at(K::LParen);
  if (twoLists && !parseParamList(second, /*typed=*/false, "input"))
    return nullptr;

  if (twoLists) {
    for (ParamEntry &entry : first) {
      if (entry.hasType)
        error(entry.type.loc, "a hyper-parameter has no type");
      HyperParam hyper;
      hyper.name = std::move(entry.name);
      hyper.loc = entry.loc;
      hyper.defaultValue = std::move(entry.defaultValue);
      decl->hyperParams.push_back(std::move(hyper));
    }
  }
  for (ParamEntry &entry : twoLists ? second : first) {
    if (entry.hasType)
      error(entry.type.loc, "a block input has no type",
            "its type comes from what the block is applied to");
    if (entry.defaultValue)
      error(entry.defaultValue->loc,
            "a block input cannot have a default value",
            "hyper-parameters go in a first list: block " + decl->name +
                "(HYPER=DEFAULT)(INPUT) { ... }");
    InputDecl input;
    input.name = std::move(entry.name);
    input.loc = entry.loc;
    decl->inputs.push_back(std::move(input));
  }
  std::string owner = "block '" + decl->name + "'";
  unsigned height = 0;
  if (!expectBodyStart(owner))
    return nullptr;
  parseBody(decl->body, height, owner);
  return decl;
}

/// `( entry, ... )`. With `typed`, entries need `: TYPE` (inputs of a
/// sequential or model); `what` names an entry in messages.
bool Parser::parseParamList(std::vector<ParamEntry> &entries, bool typed,
                            const char *what) {
  SourceLoc open = tok_.loc;
  DepthGuard guard(*this, open);
  if (!guard.ok())
    return false;
  advance();
  while (!at(K::RParen)) {
    if (!at(K::Identifier)) {
      errorExpected(std::string("the name of ") +
                    (what[0] == 'i' ? "an " : "a ") + what + " or ')'");
      return false;
    }
    ParamEntry entry;
    entry.name = tok_.text;
    entry.loc = tok_.loc;
    advance();
    if (at(K::Colon)) {
      advance();
      entry.hasType = true;
      if (!parseType(entry.type))
        return false;
    } else if (typed) {
      error(tok_.loc, "expected ':' and a type like f32[28, 28, 1] after " +
                          std::string(what) + " '" + entry.name + "'");
      // `x f32[1]`: the colon alone is missing; read the type anyway.
      if (at(K::Identifier)) {
        entry.hasType = true;
        if (!parseType(entry.type))
          return false;
      }
    }
    if (at(K::Assign)) {
      advance();
      Parsed value = parseExpr();
      if (!value)
        return false;
      entry.defaultValue = std::move(value.expr);
    }
    entries.push_back(std::move(entry));
    if (at(K::Comma)) {
      advance();
      continue;
    }
    if (!at(K::RParen))
      return expectClose(K::RParen, open, /*inList=*/true);
  }
  advance();
  return true;
}

/// `IDENT [ dim, ... ]`.
bool Parser::parseType(TypeExpr &type) {
  if (!at(K::Identifier)) {
    errorExpected("a type like f32[28, 28, 1]");
    return false;
  }
  type.dtype = tok_.text;
  type.loc = tok_.loc;
  advance();
  if (!at(K::LBracket)) {
    errorExpected("'[' and the dimensions after '" + type.dtype + "'",
                  "write the per-example shape, e.g. " + type.dtype +
                      "[28, 28, 1], or " + type.dtype +
                      "[] for one value per example");
    return false;
  }
  SourceLoc open = tok_.loc;
  DepthGuard guard(*this, open);
  if (!guard.ok())
    return false;
  advance();
  while (!at(K::RBracket)) {
    Parsed dim = parseExpr();
    if (!dim)
      return false;
    type.dims.push_back(std::move(dim.expr));
    if (at(K::Comma)) {
      advance();
      continue;
    }
    if (!at(K::RBracket))
      return expectClose(K::RBracket, open, /*inList=*/true);
  }
  advance();
  return true;
}

std::unique_ptr<Decl> Parser::parseTrain() {
  auto decl = std::make_unique<Decl>(Decl::Kind::Train, tok_.loc);
  advance();
  if (!parseName(*decl))
    return nullptr;
  if (!at(K::LBrace)) {
    errorExpected("'{' after 'train " + decl->name + "'",
                  "settings are written train " + decl->name +
                      " { epochs = 10 }");
    return nullptr;
  }
  SourceLoc open = tok_.loc;
  DepthGuard guard(*this, open);
  if (!guard.ok())
    return nullptr;
  advance();
  while (true) {
    skipSeparators();
    if (at(K::RBrace)) {
      advance();
      break;
    }
    if (at(K::Eof) || atTopLevelDecl()) {
      reportUnclosedBrace(open);
      closeBracketsBelowCurrent(0);
      break;
    }
    if (diags_.tooManyErrors())
      break;
    uint64_t start = consumed_;
    StmtContext context{depthBefore_, tok_.loc.col};
    StmtScope scope(*this, context);
    bool ok = false;
    if (!at(K::Identifier)) {
      errorExpected("a setting like 'epochs = 10'");
    } else {
      Setting setting;
      setting.name = tok_.text;
      setting.loc = tok_.loc;
      advance();
      if (!at(K::Assign)) {
        errorExpected("'=' after setting '" + setting.name + "'",
                      "settings are written name = value");
      } else {
        advance();
        Parsed value = parseExpr();
        if (value) {
          setting.value = std::move(value.expr);
          decl->settings.push_back(std::move(setting));
          ok = true;
          if (!atStatementEnd()) {
            errorExpected("a newline or ';' after the setting",
                          "settings end at a newline or ';'");
            ok = false;
          }
        }
      }
    }
    if (!ok)
      syncStatement(context);
    if (consumed_ == start)
      advance();
  }
  return decl;
}

std::unique_ptr<Decl> Parser::parseImport() {
  auto decl = std::make_unique<Decl>(Decl::Kind::Import, tok_.loc);
  advance();
  if (!at(K::String)) {
    errorExpected("a file name in double quotes after 'import'",
                  "write it like import \"layers.dl\"");
    return nullptr;
  }
  decl->name = tok_.text;
  decl->nameLoc = tok_.loc;
  advance();
  return decl;
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

/// Reports an error unless `tok_` is the '{' of a body of `owner`.
bool Parser::expectBodyStart(const std::string &owner) {
  if (at(K::LBrace))
    return true;
  errorExpected("'{' to start the body of " + owner,
                at(K::Newline) ? "the '{' goes on the same line as what it "
                                 "belongs to"
                               : "");
  return false;
}

/// `{ STMT* }`. Returns false when the body was not closed properly (the
/// error is reported); the statements read so far are kept. `height` is set
/// to the height of the tallest statement.
bool Parser::parseBody(std::vector<StmtPtr> &body, unsigned &height,
                       const std::string &owner) {
  height = 0;
  if (!expectBodyStart(owner))
    return false;
  SourceLoc open = tok_.loc;
  DepthGuard guard(*this, open);
  if (!guard.ok())
    return false;
  advance();
  while (true) {
    skipSeparators();
    if (at(K::RBrace)) {
      advance();
      return true;
    }
    if (at(K::Eof) || atTopLevelDecl()) {
      reportUnclosedBrace(open);
      // The next definition starts here: forget every open bracket.
      closeBracketsBelowCurrent(0);
      return false;
    }
    if (diags_.tooManyErrors())
      return false;
    uint64_t start = consumed_;
    StmtContext context{depthBefore_, tok_.loc.col};
    StmtScope scope(*this, context);
    unsigned stmtHeight = 0;
    StmtPtr stmt = parseStatement(stmtHeight);
    if (stmt) {
      body.push_back(std::move(stmt));
      height = std::max(height, stmtHeight);
      if (!atStatementEnd()) {
        errorExpected("a newline or ';' after the statement",
                      "statements end at a newline or ';'");
        syncStatement(context);
      }
    } else {
      syncStatement(context);
    }
    if (consumed_ == start)
      advance();
  }
}

StmtPtr Parser::parseStatement(unsigned &height) {
  if (at(K::KwIf))
    return parseIf(height);

  if (at(K::KwReturn)) {
    auto stmt = std::make_unique<Stmt>(Stmt::Kind::Return, tok_.loc);
    advance();
    if (atStatementEnd()) {
      errorExpected("a value after 'return'",
                    "a model or block returns its outputs: return a, b");
      return nullptr;
    }
    unsigned maxHeight = 0;
    while (true) {
      Parsed value = parseExpr();
      if (!value)
        return nullptr;
      maxHeight = std::max(maxHeight, value.height);
      stmt->values.push_back(std::move(value.expr));
      if (!at(K::Comma))
        break;
      advance();
    }
    height = maxHeight + 1;
    return stmt;
  }

  uint64_t start = consumed_;
  Parsed first = parseExpr();
  if (!first)
    return nullptr;
  if ((at(K::Comma) || at(K::Assign)) && isPlainName(first, start)) {
    auto stmt = std::make_unique<Stmt>(Stmt::Kind::Assign, first.expr->loc);
    stmt->targets.push_back(Target{first.expr->text, first.expr->loc});
    while (at(K::Comma)) {
      advance();
      if (!at(K::Identifier)) {
        errorExpected("a name after ',' in the assignment targets");
        return nullptr;
      }
      stmt->targets.push_back(Target{tok_.text, tok_.loc});
      advance();
    }
    if (!at(K::Assign)) {
      errorExpected("'=' after the names being assigned");
      return nullptr;
    }
    advance();
    Parsed value = parseExpr();
    if (!value)
      return nullptr;
    height = value.height + 1;
    stmt->value = std::move(value.expr);
    return stmt;
  }
  if (at(K::Assign)) {
    error(tok_.loc, "cannot assign to this expression",
          "the left side of '=' must be a name, or names separated by ','");
    return nullptr;
  }
  auto stmt = std::make_unique<Stmt>(Stmt::Kind::Expr, first.expr->loc);
  height = first.height + 1;
  stmt->value = std::move(first.expr);
  return stmt;
}

/// `if COND { ... } [else { ... } | else if ...]`. The `else` may be on the
/// line after the '}'.
StmtPtr Parser::parseIf(unsigned &height) {
  SourceLoc loc = tok_.loc;
  auto stmt = std::make_unique<Stmt>(Stmt::Kind::If, loc);
  advance();
  Parsed cond = parseExpr();
  if (!cond)
    return nullptr;
  stmt->value = std::move(cond.expr);
  if (!at(K::LBrace)) {
    errorExpected("'{' after the condition of 'if'",
                  at(K::Newline) ? "the '{' goes on the same line as the 'if'"
                                 : "");
    return nullptr;
  }
  unsigned thenHeight = 0, elseHeight = 0;
  if (!parseBody(stmt->thenBody, thenHeight, "'if'"))
    return nullptr;
  while (at(K::Newline))
    advance();
  if (at(K::KwElse)) {
    advance();
    if (at(K::KwIf)) {
      // Each `else if` nests one If deeper.
      DepthGuard guard(*this, tok_.loc);
      if (!guard.ok())
        return nullptr;
      StmtPtr nested = parseIf(elseHeight);
      if (!nested)
        return nullptr;
      stmt->elseBody.push_back(std::move(nested));
    } else if (at(K::LBrace)) {
      if (!parseBody(stmt->elseBody, elseHeight, "'else'"))
        return nullptr;
    } else {
      errorExpected("'{' or 'if' after 'else'");
      return nullptr;
    }
  }
  height = std::max({cond.height, thenHeight, elseHeight}) + 1;
  return stmt;
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

/// Checks the height of a new node.
Parsed Parser::finish(ExprPtr expr, unsigned height) {
  if (height > kMaxHeight) {
    error(expr->loc,
          "expression too complex (more than " + std::to_string(kMaxHeight) +
              " levels)",
          "split it into several statements");
    return {};
  }
  return Parsed{std::move(expr), height};
}

Parsed Parser::makeBinary(const char *op, Parsed left, Parsed right) {
  auto expr = std::make_unique<Expr>(Expr::Kind::Binary, left.expr->loc);
  expr->text = op;
  unsigned height = std::max(left.height, right.height) + 1;
  expr->operands.push_back(std::move(left.expr));
  expr->operands.push_back(std::move(right.expr));
  return finish(std::move(expr), height);
}

Parsed Parser::parseExpr() { return parseOr(); }

Parsed Parser::parseOr() {
  Parsed left = parseAnd();
  while (left && at(K::KwOr)) {
    advance();
    Parsed right = parseAnd();
    if (!right)
      return {};
    left = makeBinary("or", std::move(left), std::move(right));
  }
  return left;
}

Parsed Parser::parseAnd() {
  Parsed left = parseNot();
  while (left && at(K::KwAnd)) {
    advance();
    Parsed right = parseNot();
    if (!right)
      return {};
    left = makeBinary("and", std::move(left), std::move(right));
  }
  return left;
}

Parsed Parser::parseNot() {
  if (!at(K::KwNot))
    return parseComparison();
  SourceLoc loc = tok_.loc;
  DepthGuard guard(*this, loc);
  if (!guard.ok())
    return {};
  advance();
  Parsed operand = parseNot();
  if (!operand)
    return {};
  auto expr = std::make_unique<Expr>(Expr::Kind::Unary, loc);
  expr->text = "not";
  unsigned height = operand.height + 1;
  expr->operands.push_back(std::move(operand.expr));
  return finish(std::move(expr), height);
}

Parsed Parser::parseComparison() {
  Parsed left = parseAdditive();
  if (!left || !isComparison(tok_.kind))
    return left;
  const char *op = binaryOp(tok_.kind);
  advance();
  Parsed right = parseAdditive();
  if (!right)
    return {};
  if (isComparison(tok_.kind)) {
    error(tok_.loc, "comparisons cannot be chained",
          "combine them with 'and': a < b and b < c");
    return {};
  }
  return makeBinary(op, std::move(left), std::move(right));
}

Parsed Parser::parseAdditive() {
  Parsed left = parseMultiplicative();
  while (left && (at(K::Plus) || at(K::Minus))) {
    const char *op = binaryOp(tok_.kind);
    advance();
    Parsed right = parseMultiplicative();
    if (!right)
      return {};
    left = makeBinary(op, std::move(left), std::move(right));
  }
  return left;
}

Parsed Parser::parseMultiplicative() {
  Parsed left = parseUnary();
  while (left && (at(K::Star) || at(K::Slash) || at(K::Percent))) {
    const char *op = binaryOp(tok_.kind);
    advance();
    Parsed right = parseUnary();
    if (!right)
      return {};
    left = makeBinary(op, std::move(left), std::move(right));
  }
  return left;
}

Parsed Parser::parseUnary() {
  if (!at(K::Minus) && !at(K::Plus))
    return parsePostfix();
  SourceLoc loc = tok_.loc;
  DepthGuard guard(*this, loc);
  if (!guard.ok())
    return {};
  const char *op = at(K::Minus) ? "-" : "+";
  advance();
  Parsed operand = parseUnary();
  if (!operand)
    return {};
  auto expr = std::make_unique<Expr>(Expr::Kind::Unary, loc);
  expr->text = op;
  unsigned height = operand.height + 1;
  expr->operands.push_back(std::move(operand.expr));
  return finish(std::move(expr), height);
}

/// A primary followed by any number of calls `(...)` and indexings `[...]`.
Parsed Parser::parsePostfix() {
  Parsed base = parsePrimary();
  while (base) {
    if (at(K::LParen)) {
      base = parseCallArgs(std::move(base));
    } else if (at(K::LBracket)) {
      SourceLoc open = tok_.loc;
      DepthGuard guard(*this, open);
      if (!guard.ok())
        return {};
      advance();
      Parsed index = parseExpr();
      if (!index || !expectClose(K::RBracket, open, /*inList=*/false))
        return {};
      auto expr = std::make_unique<Expr>(Expr::Kind::Index, base.expr->loc);
      unsigned height = std::max(base.height, index.height) + 1;
      expr->operands.push_back(std::move(base.expr));
      expr->operands.push_back(std::move(index.expr));
      base = finish(std::move(expr), height);
    } else {
      break;
    }
  }
  return base;
}

/// `callee(arg, ..., name=value, ...)`; `tok_` is the '('.
Parsed Parser::parseCallArgs(Parsed callee) {
  SourceLoc open = tok_.loc;
  DepthGuard guard(*this, open);
  if (!guard.ok())
    return {};
  advance();
  auto call = std::make_unique<Expr>(Expr::Kind::Call, callee.expr->loc);
  unsigned height = callee.height;
  call->callee = std::move(callee.expr);
  std::string firstKeyword; // the first keyword argument's name
  while (!at(K::RParen)) {
    uint64_t start = consumed_;
    SourceLoc argLoc = tok_.loc;
    Parsed value = parseExpr();
    if (!value)
      return {};
    Argument arg;
    if (at(K::Assign)) {
      if (!isPlainName(value, start)) {
        error(tok_.loc, "expected an argument name before '='",
              "keyword arguments are written name=value");
        return {};
      }
      arg.name = value.expr->text;
      arg.loc = argLoc;
      advance();
      value = parseExpr();
      if (!value)
        return {};
      for (const Argument &other : call->args)
        if (other.name == arg.name) {
          error(arg.loc, "argument '" + arg.name + "' is given twice");
          diags_.note(other.loc, "first given here");
          break;
        }
    } else {
      arg.loc = value.expr->loc;
      if (!firstKeyword.empty())
        error(arg.loc,
              "positional argument after keyword argument '" + firstKeyword +
                  "'",
              "put positional arguments before keyword arguments like "
              "name=value");
    }
    if (firstKeyword.empty())
      firstKeyword = arg.name;
    height = std::max(height, value.height);
    arg.value = std::move(value.expr);
    call->args.push_back(std::move(arg));
    if (at(K::Comma)) {
      advance();
      continue;
    }
    if (!at(K::RParen)) {
      expectClose(K::RParen, open, /*inList=*/true);
      return {};
    }
  }
  advance();
  return finish(std::move(call), height + 1);
}

Parsed Parser::parsePrimary() {
  SourceLoc loc = tok_.loc;
  switch (tok_.kind) {
  case K::Number: {
    auto expr = std::make_unique<Expr>(Expr::Kind::Number, loc);
    expr->number = tok_.number;
    expr->isInteger = tok_.isInteger;
    advance();
    return Parsed{std::move(expr), 1};
  }
  case K::String: {
    auto expr = std::make_unique<Expr>(Expr::Kind::String, loc);
    expr->text = tok_.text;
    advance();
    return Parsed{std::move(expr), 1};
  }
  case K::KwTrue:
  case K::KwFalse: {
    auto expr = std::make_unique<Expr>(Expr::Kind::Bool, loc);
    expr->boolean = at(K::KwTrue);
    advance();
    return Parsed{std::move(expr), 1};
  }
  case K::Identifier: {
    auto expr = std::make_unique<Expr>(Expr::Kind::Name, loc);
    expr->text = tok_.text;
    advance();
    return Parsed{std::move(expr), 1};
  }
  case K::LParen:
    return parseParenthesized();
  case K::LBracket:
    return parseList();
  case K::KwSequential:
    return parseInlineSequential();
  default:
    break;
  }
  std::string hint;
  if (at(K::Newline))
    hint = "statements end at a newline or ';'";
  else if (at(K::KwElse))
    hint = "'else' goes after the '}' of an 'if'";
  errorExpected("an expression", hint);
  return {};
}

/// `( expr )` or a tuple `(a, b, ...)`.
Parsed Parser::parseParenthesized() {
  SourceLoc open = tok_.loc;
  DepthGuard guard(*this, open);
  if (!guard.ok())
    return {};
  advance();
  Parsed first = parseExpr();
  if (!first)
    return {};
  if (!at(K::Comma)) {
    if (!expectClose(K::RParen, open, /*inList=*/false))
      return {};
    return first;
  }
  auto tuple = std::make_unique<Expr>(Expr::Kind::Tuple, open);
  unsigned height = first.height;
  tuple->operands.push_back(std::move(first.expr));
  while (at(K::Comma)) {
    advance();
    if (at(K::RParen))
      break;
    Parsed element = parseExpr();
    if (!element)
      return {};
    height = std::max(height, element.height);
    tuple->operands.push_back(std::move(element.expr));
  }
  if (!expectClose(K::RParen, open, /*inList=*/true))
    return {};
  return finish(std::move(tuple), height + 1);
}

/// `[a, b, ...]`.
Parsed Parser::parseList() {
  SourceLoc open = tok_.loc;
  DepthGuard guard(*this, open);
  if (!guard.ok())
    return {};
  advance();
  auto list = std::make_unique<Expr>(Expr::Kind::List, open);
  unsigned height = 0;
  while (!at(K::RBracket)) {
    Parsed element = parseExpr();
    if (!element)
      return {};
    height = std::max(height, element.height);
    list->operands.push_back(std::move(element.expr));
    if (at(K::Comma)) {
      advance();
      continue;
    }
    if (!at(K::RBracket)) {
      expectClose(K::RBracket, open, /*inList=*/true);
      return {};
    }
  }
  advance();
  return finish(std::move(list), height + 1);
}

/// `sequential { LAYER* }` used as a value.
Parsed Parser::parseInlineSequential() {
  SourceLoc loc = tok_.loc;
  advance();
  if (!at(K::LBrace)) {
    errorExpected("'{' after 'sequential' in an expression",
                  "an inline sequential is written sequential { LAYER* }");
    return {};
  }
  auto expr = std::make_unique<Expr>(Expr::Kind::Sequential, loc);
  unsigned height = 0;
  if (!parseBody(expr->body, height, "'sequential'"))
    return {};
  return finish(std::move(expr), height + 1);
}

} // namespace

std::unique_ptr<Module> parseModule(const SourceFile &file,
                                    DiagnosticEngine &diags) {
  Parser parser(file, diags);
  return parser.parseModule();
}

} // namespace dlc
