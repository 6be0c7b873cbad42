//===- Lexer.h - tokens of a .dl file ---------------------------*- C++ -*-===//
//
// Splits a SourceFile into tokens. Comments and spaces are dropped; a newline
// becomes a Newline token except inside `(...)` and `[...]`, where it is
// ignored. Braces make newlines significant again, even when they sit inside
// parentheses (`f(sequential {\n a()\n})`), so the lexer keeps a stack of the
// open brackets.
//
// Malformed input (a bad byte, an unterminated string, a number out of
// range) is reported to the DiagnosticEngine and lexing goes on: the lexer
// never fails and always ends with an Eof token.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_FRONTEND_LEXER_H
#define DLC_FRONTEND_LEXER_H

#include "frontend/Diagnostics.h"

#include <cstddef>
#include <string>
#include <vector>

namespace dlc {

struct Token {
  enum class Kind {
    Eof,
    Newline,
    Identifier,
    Number,
    String,
    // Keywords.
    KwSequential,
    KwModel,
    KwBlock,
    KwTrain,
    KwImport,
    KwIf,
    KwElse,
    KwReturn,
    KwTrue,
    KwFalse,
    KwAnd,
    KwOr,
    KwNot,
    // Punctuation.
    LParen,       // (
    RParen,       // )
    LBracket,     // [
    RBracket,     // ]
    LBrace,       // {
    RBrace,       // }
    Comma,        // ,
    Colon,        // :
    Semicolon,    // ;
    Assign,       // =
    Equal,        // ==
    NotEqual,     // !=
    Less,         // <
    LessEqual,    // <=
    Greater,      // >
    GreaterEqual, // >=
    Plus,         // +
    Minus,        // -
    Star,         // *
    Slash,        // /
    Percent,      // %
  };

  Kind kind = Kind::Eof;
  /// Identifier name, keyword or punctuation spelling, number as written, or
  /// the string's value with escapes resolved. "\n" for Newline, "" for Eof.
  std::string text;
  SourceLoc loc;
  /// Number: its value (0 when it was out of range).
  double number = 0;
  /// Number: written without '.', 'e' or 'E'.
  bool isInteger = false;
  /// Bytes the token spans in the source (0 for Eof).
  unsigned length = 0;
  /// True when the token is the first one on its line, whether or not the
  /// newline before it was a Newline token.
  bool atLineStart = false;

  bool is(Kind k) const { return kind == k; }
};

/// The spelling of a token kind for messages: "'('", "identifier", ...
const char *tokenKindName(Token::Kind kind);

/// A short description of a token for "got ..." in messages: "'foo'",
/// "newline", "end of file", "a string". Long texts are cut.
std::string describeToken(const Token &token);

class Lexer {
public:
  Lexer(const SourceFile &file, DiagnosticEngine &diags);

  /// The next token; Eof forever once the text is exhausted.
  Token next();

  /// The number of brackets currently open.
  size_t depth() const { return stack_.size(); }

  /// Forgets the open brackets at stack positions [from, to), as if they had
  /// been closed. The parser calls this when it recovers from an unclosed
  /// bracket, so that newlines become significant again.
  void discardBrackets(size_t from, size_t to);

private:
  bool atEnd() const { return pos_ >= text_.size(); }
  unsigned char peekByte(size_t ahead = 0) const;
  void advance();
  SourceLoc here() const { return SourceLoc{&file_, line_, col_}; }
  Token make(Token::Kind kind, size_t begin, SourceLoc loc);
  Token lexIdentifier(size_t begin, SourceLoc loc);
  Token lexNumber(size_t begin, SourceLoc loc);
  /// Reads a string closed by `quote` ('"', or '\'' after an error).
  Token lexString(size_t begin, SourceLoc loc, char quote);
  bool singleQuoteClosesOnLine() const;
  void lexBadBytes(SourceLoc loc);
  void open(char bracket);
  void close(char bracket);
  /// True when a newline at this point separates statements.
  bool newlineIsSignificant() const;

  const SourceFile &file_;
  const std::string &text_;
  DiagnosticEngine &diags_;
  size_t pos_ = 0;
  unsigned line_ = 1;
  unsigned col_ = 1;
  bool atLineStart_ = true;
  /// Open brackets, innermost last: '(', '[' or '{'.
  std::vector<char> stack_;
  /// How many of each bracket kind `stack_` holds: ( [ {.
  size_t openCount_[3] = {0, 0, 0};
};

} // namespace dlc

#endif // DLC_FRONTEND_LEXER_H
