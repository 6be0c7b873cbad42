//===- Lexer.cpp - tokens of a .dl file -----------------------------------===//
#include "frontend/Lexer.h"

#include <charconv>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <system_error>

namespace dlc {

namespace {

/// Numbers longer than this are rejected outright.
constexpr size_t kMaxNumberLength = 128;
/// Integers must stay below 2^53, so that every one is exact in a double
/// and so are its neighbours.
constexpr double kIntegerLimit = 9007199254740992.0;

struct Keyword {
  const char *spelling;
  Token::Kind kind;
};

constexpr Keyword kKeywords[] = {
    {"sequential", Token::Kind::KwSequential},
    {"model", Token::Kind::KwModel},
    {"block", Token::Kind::KwBlock},
    {"train", Token::Kind::KwTrain},
    {"import", Token::Kind::KwImport},
    {"if", Token::Kind::KwIf},
    {"else", Token::Kind::KwElse},
    {"return", Token::Kind::KwReturn},
    {"true", Token::Kind::KwTrue},
    {"false", Token::Kind::KwFalse},
    {"and", Token::Kind::KwAnd},
    {"or", Token::Kind::KwOr},
    {"not", Token::Kind::KwNot},
};

bool isDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool isIdentStart(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool isIdentChar(unsigned char c) { return isIdentStart(c) || isDigit(c); }

/// A byte as it may be shown in a message: printable ASCII as itself,
/// anything else as \xHH.
std::string showByte(unsigned char c) {
  if (c >= 0x20 && c < 0x7f)
    return std::string(1, static_cast<char>(c));
  char buffer[8];
  std::snprintf(buffer, sizeof(buffer), "\\x%02x", c);
  return buffer;
}

/// `text` cut to `limit` bytes with "..." appended when longer.
std::string cut(std::string_view text, size_t limit = 40) {
  if (text.size() <= limit)
    return std::string(text);
  return std::string(text.substr(0, limit)) + "...";
}

} // namespace

const char *tokenKindName(Token::Kind kind) {
  using K = Token::Kind;
  switch (kind) {
  case K::Eof:
    return "end of file";
  case K::Newline:
    return "newline";
  case K::Identifier:
    return "identifier";
  case K::Number:
    return "number";
  case K::String:
    return "string";
  case K::KwSequential:
    return "'sequential'";
  case K::KwModel:
    return "'model'";
  case K::KwBlock:
    return "'block'";
  case K::KwTrain:
    return "'train'";
  case K::KwImport:
    return "'import'";
  case K::KwIf:
    return "'if'";
  case K::KwElse:
    return "'else'";
  case K::KwReturn:
    return "'return'";
  case K::KwTrue:
    return "'true'";
  case K::KwFalse:
    return "'false'";
  case K::KwAnd:
    return "'and'";
  case K::KwOr:
    return "'or'";
  case K::KwNot:
    return "'not'";
  case K::LParen:
    return "'('";
  case K::RParen:
    return "')'";
  case K::LBracket:
    return "'['";
  case K::RBracket:
    return "']'";
  case K::LBrace:
    return "'{'";
  case K::RBrace:
    return "'}'";
  case K::Comma:
    return "','";
  case K::Colon:
    return "':'";
  case K::Semicolon:
    return "';'";
  case K::Assign:
    return "'='";
  case K::Equal:
    return "'=='";
  case K::NotEqual:
    return "'!='";
  case K::Less:
    return "'<'";
  case K::LessEqual:
    return "'<='";
  case K::Greater:
    return "'>'";
  case K::GreaterEqual:
    return "'>='";
  case K::Plus:
    return "'+'";
  case K::Minus:
    return "'-'";
  case K::Star:
    return "'*'";
  case K::Slash:
    return "'/'";
  case K::Percent:
    return "'%'";
  }
  return "token";
}

std::string describeToken(const Token &token) {
  switch (token.kind) {
  case Token::Kind::Identifier:
  case Token::Kind::Number:
    return "'" + cut(token.text) + "'";
  case Token::Kind::String:
    return "a string";
  default:
    return tokenKindName(token.kind);
  }
}

Lexer::Lexer(const SourceFile &file, DiagnosticEngine &diags)
    : file_(file), text_(file.text()), diags_(diags) {
  // A UTF-8 byte order mark, as some editors write, is not an error.
  if (text_.compare(0, 3, "\xef\xbb\xbf") == 0)
    for (int i = 0; i < 3; ++i)
      advance();
}

unsigned char Lexer::peekByte(size_t ahead) const {
  size_t at = pos_ + ahead;
  // `at` cannot wrap: `ahead` is a small constant and pos_ <= size().
  return at < text_.size() ? static_cast<unsigned char>(text_[at]) : 0;
}

void Lexer::advance() {
  if (atEnd())
    return;
  if (text_[pos_] == '\n') {
    if (line_ != UINT_MAX)
      ++line_;
    col_ = 1;
  } else if (col_ != UINT_MAX) {
    ++col_;
  }
  ++pos_;
}

Token Lexer::make(Token::Kind kind, size_t begin, SourceLoc loc) {
  Token token;
  token.kind = kind;
  token.loc = loc;
  size_t length = pos_ - begin;
  token.text = text_.substr(begin, length);
  token.length = length > UINT_MAX ? UINT_MAX : static_cast<unsigned>(length);
  return token;
}

bool Lexer::newlineIsSignificant() const {
  return stack_.empty() || stack_.back() == '{';
}

static int bracketIndex(char bracket) {
  switch (bracket) {
  case '(':
  case ')':
    return 0;
  case '[':
  case ']':
    return 1;
  default:
    return 2;
  }
}

void Lexer::open(char bracket) {
  stack_.push_back(bracket);
  ++openCount_[bracketIndex(bracket)];
}

void Lexer::close(char bracket) {
  // A closer with no matching opener is left for the parser to report. One
  // that skips over other openers closes them too ("f(a }" closes both):
  // each opener is popped once, so this stays linear.
  int index = bracketIndex(bracket);
  if (openCount_[index] == 0)
    return;
  while (!stack_.empty()) {
    char top = stack_.back();
    stack_.pop_back();
    int topIndex = bracketIndex(top);
    --openCount_[topIndex];
    if (topIndex == index)
      return;
  }
}

void Lexer::discardBrackets(size_t from, size_t to) {
  if (to > stack_.size())
    to = stack_.size();
  if (from >= to)
    return;
  for (size_t i = from; i < to; ++i)
    --openCount_[bracketIndex(stack_[i])];
  stack_.erase(stack_.begin() + from, stack_.begin() + to);
}

Token Lexer::next() {
  while (true) {
    // Spaces, tabs, carriage returns and comments.
    while (!atEnd()) {
      unsigned char c = peekByte();
      if (c == ' ' || c == '\t' || c == '\r') {
        advance();
      } else if (c == '#') {
        while (!atEnd() && peekByte() != '\n')
          advance();
      } else {
        break;
      }
    }
    if (atEnd()) {
      Token eof;
      eof.kind = Token::Kind::Eof;
      eof.loc = here();
      eof.atLineStart = atLineStart_;
      return eof;
    }

    SourceLoc loc = here();
    size_t begin = pos_;
    unsigned char c = peekByte();
    if (c == '\n') {
      advance();
      bool significant = newlineIsSignificant();
      bool first = atLineStart_;
      atLineStart_ = true;
      if (!significant)
        continue;
      Token token = make(Token::Kind::Newline, begin, loc);
      token.atLineStart = first;
      return token;
    }

    bool first = atLineStart_;
    Token token;
    if (isIdentStart(c)) {
      token = lexIdentifier(begin, loc);
    } else if (isDigit(c)) {
      token = lexNumber(begin, loc);
    } else if (c == '"') {
      token = lexString(begin, loc, '"');
    } else if (c == '\'' && singleQuoteClosesOnLine()) {
      // 'abc': read as a string so that one message covers the mistake.
      diags_.error(loc, "strings are written in double quotes",
                   "write \"...\" instead of '...'");
      token = lexString(begin, loc, '\'');
    } else {
      using K = Token::Kind;
      K kind;
      unsigned char n = peekByte(1);
      size_t size = 1;
      switch (c) {
      case '(':
        kind = K::LParen;
        break;
      case ')':
        kind = K::RParen;
        break;
      case '[':
        kind = K::LBracket;
        break;
      case ']':
        kind = K::RBracket;
        break;
      case '{':
        kind = K::LBrace;
        break;
      case '}':
        kind = K::RBrace;
        break;
      case ',':
        kind = K::Comma;
        break;
      case ':':
        kind = K::Colon;
        break;
      case ';':
        kind = K::Semicolon;
        break;
      case '+':
        kind = K::Plus;
        break;
      case '-':
        kind = K::Minus;
        break;
      case '*':
        kind = K::Star;
        break;
      case '/':
        kind = K::Slash;
        break;
      case '%':
        kind = K::Percent;
        break;
      case '=':
        kind = n == '=' ? K::Equal : K::Assign;
        size = n == '=' ? 2 : 1;
        break;
      case '<':
        kind = n == '=' ? K::LessEqual : K::Less;
        size = n == '=' ? 2 : 1;
        break;
      case '>':
        kind = n == '=' ? K::GreaterEqual : K::Greater;
        size = n == '=' ? 2 : 1;
        break;
      case '!':
        if (n == '=') {
          kind = K::NotEqual;
          size = 2;
          break;
        }
        [[fallthrough]];
      default:
        lexBadBytes(loc);
        continue;
      }
      for (size_t i = 0; i < size; ++i)
        advance();
      token = make(kind, begin, loc);
      if (c == '(' || c == '[' || c == '{')
        open(static_cast<char>(c));
      else if (c == ')' || c == ']' || c == '}')
        close(static_cast<char>(c));
    }
    token.atLineStart = first;
    atLineStart_ = false;
    return token;
  }
}

Token Lexer::lexIdentifier(size_t begin, SourceLoc loc) {
  while (!atEnd() && isIdentChar(peekByte()))
    advance();
  Token token = make(Token::Kind::Identifier, begin, loc);
  for (const Keyword &keyword : kKeywords)
    if (token.text == keyword.spelling) {
      token.kind = keyword.kind;
      break;
    }
  return token;
}

Token Lexer::lexNumber(size_t begin, SourceLoc loc) {
  bool isInteger = true;
  while (isDigit(peekByte()))
    advance();
  if (peekByte() == '.') {
    isInteger = false;
    advance();
    while (isDigit(peekByte()))
      advance();
  }
  unsigned char e = peekByte();
  if (e == 'e' || e == 'E') {
    unsigned char n = peekByte(1);
    if (isDigit(n) || ((n == '+' || n == '-') && isDigit(peekByte(2)))) {
      isInteger = false;
      advance();
      if (!isDigit(n))
        advance();
      while (isDigit(peekByte()))
        advance();
    }
  }

  // A number glued to letters or to another point ("3x", "1e", "1.2.3") is
  // one bad token, not two good ones.
  unsigned char after = peekByte();
  if (isIdentChar(after) || (after == '.' && isDigit(peekByte(1)))) {
    while (isIdentChar(peekByte()) || peekByte() == '.')
      advance();
    Token token = make(Token::Kind::Number, begin, loc);
    token.isInteger = true;
    diags_.error(loc, "invalid number '" + cut(token.text) + "'",
                 "numbers look like 12, 0.5 or 1e-3");
    return token;
  }

  Token token = make(Token::Kind::Number, begin, loc);
  token.isInteger = isInteger;
  const std::string &text = token.text;
  bool outOfRange = text.size() > kMaxNumberLength;
  double value = 0;
  if (!outOfRange) {
    auto [ptr, ec] =
        std::from_chars(text.data(), text.data() + text.size(), value);
    bool nonzero = text.find_first_of("123456789") <
                   std::min(text.find_first_of("eE"), text.size());
    outOfRange = ec != std::errc() || ptr != text.data() + text.size() ||
                 !std::isfinite(value) || (nonzero && value == 0) ||
                 (isInteger && value >= kIntegerLimit);
  }
  if (outOfRange) {
    diags_.error(loc, "number out of range '" + cut(text) + "'",
                 isInteger
                     ? "integers must be less than 2^53 = 9007199254740992"
                     : "numbers must fit in a 64-bit float");
    value = 0;
  }
  token.number = value;
  return token;
}

bool Lexer::singleQuoteClosesOnLine() const {
  // Looks no further than the next quote, so that lexing stays linear.
  size_t close = text_.find('\'', pos_ + 1);
  return close != std::string::npos &&
         std::memchr(text_.data() + pos_, '\n', close - pos_) == nullptr;
}

Token Lexer::lexString(size_t begin, SourceLoc loc, char quote) {
  advance(); // the opening quote
  std::string value;
  bool closed = false;
  while (!atEnd()) {
    unsigned char c = peekByte();
    if (c == '\n' || (c == '\r' && peekByte(1) == '\n'))
      break;
    if (c == static_cast<unsigned char>(quote)) {
      advance();
      closed = true;
      break;
    }
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      diags_.error(here(), "control character '" + showByte(c) + "' in string",
                   "write \\n for a newline and \\t for a tab");
      advance();
      continue;
    }
    if (c != '\\') {
      value.push_back(static_cast<char>(c));
      advance();
      continue;
    }
    SourceLoc escapeLoc = here();
    advance();
    if (atEnd() || peekByte() == '\n')
      break;
    unsigned char e = peekByte();
    if (e == static_cast<unsigned char>(quote)) {
      value.push_back(quote);
      advance();
      continue;
    }
    switch (e) {
    case '"':
      value.push_back('"');
      break;
    case '\\':
      value.push_back('\\');
      break;
    case 'n':
      value.push_back('\n');
      break;
    case 't':
      value.push_back('\t');
      break;
    default:
      diags_.error(escapeLoc,
                   "unknown escape sequence '\\" + showByte(e) + "' in string",
                   "strings accept the escapes \\\" \\\\ \\n and \\t");
      break;
    }
    advance();
  }
  if (!closed)
    diags_.error(loc, "unterminated string",
                 "a string ends with '\"' on the same line");
  Token token = make(Token::Kind::String, begin, loc);
  token.text = std::move(value);
  return token;
}

void Lexer::lexBadBytes(SourceLoc loc) {
  unsigned char c = peekByte();
  std::string shown = showByte(c);
  advance();
  // Keep a UTF-8 sequence together: one message per character.
  if (c >= 0xc0 && c < 0xf8)
    for (int i = 0; i < 3 && peekByte() >= 0x80 && peekByte() < 0xc0; ++i) {
      shown += showByte(peekByte());
      advance();
    }
  std::string hint;
  switch (c) {
  case '!':
    hint = "use 'not' for negation and '!=' for inequality";
    break;
  case '&':
    hint = "use 'and'";
    break;
  case '|':
    hint = "use 'or'";
    break;
  case '\'':
    hint = "strings are written in double quotes: \"...\"";
    break;
  case '.':
    if (isDigit(peekByte()))
      hint = "write a digit before the point: 0.5";
    break;
  default:
    if (c >= 0x80)
      hint = "identifiers and operators are ASCII; other characters may "
             "appear only in strings and comments";
    break;
  }
  diags_.error(loc, "unexpected character '" + shown + "'", hint);
}

} // namespace dlc
