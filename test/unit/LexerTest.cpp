//===- LexerTest.cpp - tokens, numbers, strings, newlines, bad bytes ------===//
//
// Every token kind, number and string forms with their errors, how newlines
// are kept or dropped inside brackets, locations, and random bytes.
//
//===----------------------------------------------------------------------===//
#include "frontend/Lexer.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace dlc;
using K = Token::Kind;

namespace {

/// Lexes `text` to the end; the diagnostics go to `diagText`.
struct Lexed {
  std::vector<Token> tokens;
  std::string diagText;
  unsigned errors = 0;

  std::vector<K> kinds() const {
    std::vector<K> result;
    for (const Token &token : tokens)
      result.push_back(token.kind);
    return result;
  }
};

class LexerTest : public ::testing::Test {
protected:
  Lexed lex(const std::string &text) {
    const SourceFile *file = sources.add("t.dl", text);
    std::ostringstream os;
    DiagnosticEngine diags(os, 1000);
    Lexer lexer(*file, diags);
    Lexed result;
    // Every token consumes input, so this many calls must reach Eof.
    for (size_t i = 0; i <= text.size() + 1; ++i) {
      result.tokens.push_back(lexer.next());
      if (result.tokens.back().is(K::Eof))
        break;
    }
    result.diagText = os.str();
    result.errors = diags.errorCount();
    return result;
  }

  SourceManager sources;
};

TEST_F(LexerTest, EmptyInputIsEof) {
  Lexed l = lex("");
  ASSERT_EQ(l.tokens.size(), 1u);
  EXPECT_EQ(l.tokens[0].kind, K::Eof);
  EXPECT_EQ(l.errors, 0u);
}

TEST_F(LexerTest, EofRepeats) {
  const SourceFile *file = sources.add("t.dl", "x");
  std::ostringstream os;
  DiagnosticEngine diags(os);
  Lexer lexer(*file, diags);
  EXPECT_EQ(lexer.next().kind, K::Identifier);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(lexer.next().kind, K::Eof);
}

TEST_F(LexerTest, Punctuation) {
  Lexed l = lex("( ) [ ] { } , : ; = == != < <= > >= + - * / %");
  std::vector<K> expected = {
      K::LParen,       K::RParen,   K::LBracket, K::RBracket,  K::LBrace,
      K::RBrace,       K::Comma,    K::Colon,    K::Semicolon, K::Assign,
      K::Equal,        K::NotEqual, K::Less,     K::LessEqual, K::Greater,
      K::GreaterEqual, K::Plus,     K::Minus,    K::Star,      K::Slash,
      K::Percent,      K::Eof};
  EXPECT_EQ(l.kinds(), expected);
  EXPECT_EQ(l.errors, 0u) << l.diagText;
  EXPECT_EQ(l.tokens[11].text, "!=");
  EXPECT_EQ(l.tokens[11].length, 2u);
}

TEST_F(LexerTest, OperatorsWithoutSpaces) {
  Lexed l = lex("a<=b>=c==d!=e=f<g>h");
  std::vector<K> expected = {
      K::Identifier, K::LessEqual, K::Identifier, K::GreaterEqual,
      K::Identifier, K::Equal,     K::Identifier, K::NotEqual,
      K::Identifier, K::Assign,    K::Identifier, K::Less,
      K::Identifier, K::Greater,   K::Identifier, K::Eof};
  EXPECT_EQ(l.kinds(), expected);
}

TEST_F(LexerTest, KeywordsAndIdentifiers) {
  Lexed l = lex("sequential model block train import if else return true "
                "false and or not");
  std::vector<K> expected = {
      K::KwSequential, K::KwModel, K::KwBlock,  K::KwTrain, K::KwImport,
      K::KwIf,         K::KwElse,  K::KwReturn, K::KwTrue,  K::KwFalse,
      K::KwAnd,        K::KwOr,    K::KwNot,    K::Eof};
  EXPECT_EQ(l.kinds(), expected);

  Lexed ids = lex("_x x1 conv2d Model sequentialx IF __ a_b_9");
  ASSERT_EQ(ids.tokens.size(), 9u);
  std::vector<std::string> names = {"_x",          "x1", "conv2d", "Model",
                                    "sequentialx", "IF", "__",     "a_b_9"};
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(ids.tokens[i].kind, K::Identifier) << names[i];
    EXPECT_EQ(ids.tokens[i].text, names[i]);
  }
}

TEST_F(LexerTest, IntegersAndFloats) {
  Lexed l = lex("12 0.5 1e-3 1E+5 2e3 1. 007 0 3.25e2");
  EXPECT_EQ(l.errors, 0u) << l.diagText;
  ASSERT_EQ(l.tokens.size(), 10u);
  struct Expect {
    double value;
    bool isInteger;
  } expected[] = {{12, true},   {0.5, false},  {1e-3, false},
                  {1e5, false}, {2000, false}, {1.0, false},
                  {7, true},    {0, true},     {325, false}};
  for (size_t i = 0; i < 9; ++i) {
    EXPECT_EQ(l.tokens[i].kind, K::Number) << i;
    EXPECT_DOUBLE_EQ(l.tokens[i].number, expected[i].value) << i;
    EXPECT_EQ(l.tokens[i].isInteger, expected[i].isInteger) << i;
  }
  EXPECT_EQ(l.tokens[2].text, "1e-3");
}

TEST_F(LexerTest, MinusIsItsOwnToken) {
  Lexed l = lex("-2 x-1");
  std::vector<K> expected = {K::Minus, K::Number, K::Identifier,
                             K::Minus, K::Number, K::Eof};
  EXPECT_EQ(l.kinds(), expected);
  EXPECT_DOUBLE_EQ(l.tokens[1].number, 2);
}

TEST_F(LexerTest, NumberOutOfRange) {
  Lexed big = lex("1e999");
  EXPECT_EQ(big.errors, 1u);
  EXPECT_NE(big.diagText.find("t.dl:1:1: error: number out of range"),
            std::string::npos)
      << big.diagText;
  ASSERT_EQ(big.tokens[0].kind, K::Number);
  EXPECT_EQ(big.tokens[0].number, 0);

  Lexed tiny = lex("x = 1e-999");
  EXPECT_EQ(tiny.errors, 1u);
  EXPECT_NE(tiny.diagText.find("t.dl:1:5: error: number out of range"),
            std::string::npos)
      << tiny.diagText;

  // Integers must be exact in a double, with room to spare.
  EXPECT_EQ(lex("9007199254740991").errors, 0u);
  EXPECT_EQ(lex("9007199254740992.0").errors, 0u);
  Lexed inexact = lex("9007199254740992");
  EXPECT_EQ(inexact.errors, 1u);
  EXPECT_NE(inexact.diagText.find("number out of range"), std::string::npos);

  // Absurdly long numbers, even with a representable value.
  Lexed longOne = lex("0." + std::string(500, '0') + "1");
  EXPECT_EQ(longOne.errors, 1u);
  EXPECT_NE(longOne.diagText.find("number out of range"), std::string::npos);
  EXPECT_EQ(longOne.tokens.size(), 2u);

  // Zeros alone are fine however they are written.
  EXPECT_EQ(lex("0.0 0e5 000").errors, 0u);
}

TEST_F(LexerTest, MalformedNumbers) {
  for (const char *text : {"3x", "1e", "1.2.3", "2_000", "1.5e3e"}) {
    Lexed l = lex(text);
    EXPECT_EQ(l.errors, 1u) << text << "\n" << l.diagText;
    EXPECT_NE(
        l.diagText.find("error: invalid number '" + std::string(text) + "'"),
        std::string::npos)
        << l.diagText;
    ASSERT_EQ(l.tokens.size(), 2u) << text;
    EXPECT_EQ(l.tokens[0].kind, K::Number);
  }
  // A sign with no digits after it is not part of the number.
  Lexed sign = lex("1e+");
  EXPECT_NE(sign.diagText.find("error: invalid number '1e'"),
            std::string::npos);
  EXPECT_EQ(sign.tokens[1].kind, K::Plus);
}

TEST_F(LexerTest, LeadingPointIsNotANumber) {
  Lexed l = lex(".5");
  EXPECT_EQ(l.errors, 1u);
  EXPECT_NE(l.diagText.find("t.dl:1:1: error: unexpected character '.'"),
            std::string::npos)
      << l.diagText;
  EXPECT_NE(l.diagText.find("note: write a digit before the point: 0.5"),
            std::string::npos);
  std::vector<K> expected = {K::Number, K::Eof};
  EXPECT_EQ(l.kinds(), expected);
}

TEST_F(LexerTest, Strings) {
  Lexed l = lex(R"("abc" "" "a\"b" "back\\slash" "n\nt\t" )"
                "\"caf\xc3\xa9\"");
  EXPECT_EQ(l.errors, 0u) << l.diagText;
  ASSERT_EQ(l.tokens.size(), 7u);
  EXPECT_EQ(l.tokens[0].text, "abc");
  EXPECT_EQ(l.tokens[1].text, "");
  EXPECT_EQ(l.tokens[2].text, "a\"b");
  EXPECT_EQ(l.tokens[3].text, "back\\slash");
  EXPECT_EQ(l.tokens[4].text, "n\nt\t");
  EXPECT_EQ(l.tokens[5].text, "caf\xc3\xa9");
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(l.tokens[i].kind, K::String);
  EXPECT_EQ(l.tokens[2].length, 6u);
  EXPECT_EQ(l.tokens[1].loc.col, 7u);
}

TEST_F(LexerTest, UnknownEscape) {
  Lexed l = lex(R"(x = "a\qb")");
  EXPECT_EQ(l.errors, 1u);
  EXPECT_NE(l.diagText.find("t.dl:1:7: error: unknown escape sequence '\\q' in "
                            "string"),
            std::string::npos)
      << l.diagText;
  ASSERT_EQ(l.tokens[2].kind, K::String);
  EXPECT_EQ(l.tokens[2].text, "ab");
  EXPECT_EQ(l.tokens[3].kind, K::Eof);
}

TEST_F(LexerTest, UnterminatedString) {
  Lexed atNewline = lex("x = \"abc\ny");
  EXPECT_EQ(atNewline.errors, 1u);
  EXPECT_NE(atNewline.diagText.find("t.dl:1:5: error: unterminated string"),
            std::string::npos)
      << atNewline.diagText;
  // The newline is still a token and the next line lexes normally.
  std::vector<K> expected = {K::Identifier, K::Assign,     K::String,
                             K::Newline,    K::Identifier, K::Eof};
  EXPECT_EQ(atNewline.kinds(), expected);
  EXPECT_EQ(atNewline.tokens[2].text, "abc");

  Lexed atEof = lex("\"abc");
  EXPECT_EQ(atEof.errors, 1u);
  EXPECT_NE(atEof.diagText.find("unterminated string"), std::string::npos);

  Lexed backslashAtEof = lex("\"abc\\");
  EXPECT_EQ(backslashAtEof.errors, 1u);
  EXPECT_NE(backslashAtEof.diagText.find("unterminated string"),
            std::string::npos);
}

TEST_F(LexerTest, SingleQuotedStringIsOneError) {
  Lexed l = lex("f(name='conv1', x='y\\'s')");
  EXPECT_EQ(l.errors, 2u) << l.diagText;
  EXPECT_NE(l.diagText.find("t.dl:1:8: error: strings are written in double "
                            "quotes\n"),
            std::string::npos)
      << l.diagText;
  ASSERT_EQ(l.tokens.size(), 11u);
  EXPECT_EQ(l.tokens[4].kind, K::String);
  EXPECT_EQ(l.tokens[4].text, "conv1");
  EXPECT_EQ(l.tokens[8].text, "y's");
  // An unmatched quote is just a bad character.
  Lexed lone = lex("a ' b\n'");
  EXPECT_EQ(lone.errors, 2u);
  EXPECT_NE(lone.diagText.find("unexpected character '''"), std::string::npos)
      << lone.diagText;
}

TEST_F(LexerTest, ControlCharactersInStrings) {
  Lexed l = lex(std::string("\"a\x01"
                            "b\tc\"") +
                " \"d\r\n");
  EXPECT_EQ(l.errors, 2u) << l.diagText;
  EXPECT_NE(l.diagText.find("t.dl:1:3: error: control character '\\x01' in "
                            "string"),
            std::string::npos)
      << l.diagText;
  // A CRLF line end ends an unterminated string like a newline does.
  EXPECT_NE(l.diagText.find("t.dl:1:9: error: unterminated string"),
            std::string::npos);
  EXPECT_EQ(l.tokens[0].text, "ab\tc");
  EXPECT_EQ(l.tokens[2].kind, K::Newline);
}

TEST_F(LexerTest, ByteOrderMarkIsSkipped) {
  Lexed l = lex("\xef\xbb\xbfmodel m");
  EXPECT_EQ(l.errors, 0u) << l.diagText;
  std::vector<K> expected = {K::KwModel, K::Identifier, K::Eof};
  EXPECT_EQ(l.kinds(), expected);
  // Elsewhere it is an unexpected character.
  EXPECT_EQ(lex("a \xef\xbb\xbf").errors, 1u);
}

TEST_F(LexerTest, Comments) {
  Lexed l = lex("# header\nx = 1 # trailing ( [ {\n# only\ny");
  std::vector<K> expected = {K::Newline,    K::Identifier, K::Assign,
                             K::Number,     K::Newline,    K::Newline,
                             K::Identifier, K::Eof};
  EXPECT_EQ(l.kinds(), expected);
  EXPECT_EQ(l.errors, 0u);
  EXPECT_EQ(l.tokens[6].loc.line, 4u);
}

TEST_F(LexerTest, NewlinesIgnoredInParenthesesAndBrackets) {
  Lexed l = lex("f(a,\n b)\n[1,\n2]\n");
  std::vector<K> expected = {
      K::Identifier, K::LParen,   K::Identifier, K::Comma,  K::Identifier,
      K::RParen,     K::Newline,  K::LBracket,   K::Number, K::Comma,
      K::Number,     K::RBracket, K::Newline,    K::Eof};
  EXPECT_EQ(l.kinds(), expected);
}

TEST_F(LexerTest, NewlinesSignificantInBracesInsideParentheses) {
  Lexed l = lex("f(sequential {\n a()\n b()\n}, [x,\n y])\nz");
  std::vector<K> expected = {
      K::Identifier, K::LParen,     K::KwSequential, K::LBrace,
      K::Newline,    K::Identifier, K::LParen,       K::RParen,
      K::Newline,    K::Identifier, K::LParen,       K::RParen,
      K::Newline,    K::RBrace,     K::Comma,        K::LBracket,
      K::Identifier, K::Comma,      K::Identifier,   K::RBracket,
      K::RParen,     K::Newline,    K::Identifier,   K::Eof};
  EXPECT_EQ(l.kinds(), expected);
}

TEST_F(LexerTest, ParenthesesInsideBracesInsideParentheses) {
  // ( { ( newline ) newline } newline ) newline
  Lexed l = lex("({(\n)\n}\n)\n");
  std::vector<K> expected = {K::LParen, K::LBrace,  K::LParen,
                             K::RParen, K::Newline, K::RBrace,
                             K::RParen, K::Newline, K::Eof};
  EXPECT_EQ(l.kinds(), expected);
}

TEST_F(LexerTest, MismatchedClosers) {
  const SourceFile *file = sources.add("t.dl", "{ f(a }\nx ) ]\ny");
  std::ostringstream os;
  DiagnosticEngine diags(os);
  Lexer lexer(*file, diags);
  std::vector<K> kinds;
  std::vector<size_t> depths;
  for (Token t = lexer.next();; t = lexer.next()) {
    kinds.push_back(t.kind);
    depths.push_back(lexer.depth());
    if (t.is(K::Eof))
      break;
  }
  // '}' closes the '(' it skips over; stray ')' and ']' change nothing.
  std::vector<K> expected = {K::LBrace,     K::Identifier, K::LParen,
                             K::Identifier, K::RBrace,     K::Newline,
                             K::Identifier, K::RParen,     K::RBracket,
                             K::Newline,    K::Identifier, K::Eof};
  EXPECT_EQ(kinds, expected);
  std::vector<size_t> expectedDepths = {1, 1, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(depths, expectedDepths);
}

TEST_F(LexerTest, DiscardBracketsMakesNewlinesSignificant) {
  const SourceFile *file = sources.add("t.dl", "{ f( [\na\nb");
  std::ostringstream os;
  DiagnosticEngine diags(os);
  Lexer lexer(*file, diags);
  for (int i = 0; i < 4; ++i)
    lexer.next(); // { f ( [
  EXPECT_EQ(lexer.depth(), 3u);
  EXPECT_EQ(lexer.next().kind, K::Identifier); // a, newline skipped
  lexer.discardBrackets(1, 3);
  EXPECT_EQ(lexer.depth(), 1u);
  EXPECT_EQ(lexer.next().kind, K::Newline);
  EXPECT_EQ(lexer.next().kind, K::Identifier);
  // Out-of-range requests are clamped.
  lexer.discardBrackets(0, 100);
  EXPECT_EQ(lexer.depth(), 0u);
  lexer.discardBrackets(5, 2);
  EXPECT_EQ(lexer.depth(), 0u);
}

TEST_F(LexerTest, BadBytes) {
  Lexed l = lex(std::string("a $ b\x01 c\xc3\xa9 d\xff e") + '\0' + "f ! g");
  EXPECT_EQ(l.errors, 6u) << l.diagText;
  EXPECT_NE(l.diagText.find("t.dl:1:3: error: unexpected character '$'"),
            std::string::npos)
      << l.diagText;
  EXPECT_NE(l.diagText.find("t.dl:1:6: error: unexpected character '\\x01'"),
            std::string::npos);
  // A UTF-8 character is one error with all its bytes shown.
  EXPECT_NE(
      l.diagText.find("t.dl:1:9: error: unexpected character '\\xc3\\xa9'"),
      std::string::npos);
  EXPECT_NE(l.diagText.find("t.dl:1:13: error: unexpected character '\\xff'"),
            std::string::npos);
  EXPECT_NE(l.diagText.find("t.dl:1:16: error: unexpected character '\\x00'"),
            std::string::npos);
  EXPECT_NE(l.diagText.find("unexpected character '!'"), std::string::npos);
  EXPECT_NE(l.diagText.find("note: use 'not' for negation"), std::string::npos);
  // Everything else still lexes.
  std::vector<std::string> names;
  for (const Token &t : l.tokens)
    if (t.is(K::Identifier))
      names.push_back(t.text);
  EXPECT_EQ(names,
            (std::vector<std::string>{"a", "b", "c", "d", "e", "f", "g"}));
  // The messages themselves (not the quoted source lines) are plain ASCII.
  std::istringstream lines(l.diagText);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("error:") == std::string::npos)
      continue;
    for (char c : line) {
      unsigned char byte = static_cast<unsigned char>(c);
      EXPECT_TRUE(byte >= 0x20 && byte < 0x7f) << "byte " << int(byte);
    }
  }
}

TEST_F(LexerTest, Locations) {
  Lexed l = lex("ab  cd\n\tx = 12\r\n  \"s\"");
  ASSERT_GE(l.tokens.size(), 8u);
  auto at = [&](size_t i, unsigned line, unsigned col) {
    EXPECT_EQ(l.tokens[i].loc.line, line) << i;
    EXPECT_EQ(l.tokens[i].loc.col, col) << i;
  };
  at(0, 1, 1); // ab
  at(1, 1, 5); // cd
  at(2, 1, 7); // newline
  at(3, 2, 2); // x: a tab is one column
  at(4, 2, 4); // =
  at(5, 2, 6); // 12
  at(6, 2, 9); // newline after \r
  at(7, 3, 3); // "s"
  EXPECT_EQ(l.tokens[0].length, 2u);
  EXPECT_EQ(l.tokens[5].length, 2u);
  EXPECT_EQ(l.errors, 0u) << l.diagText;
}

TEST_F(LexerTest, AtLineStart) {
  Lexed l = lex("a b\n  c (\n d)");
  // a b NL c ( d ) Eof
  ASSERT_EQ(l.tokens.size(), 8u);
  EXPECT_TRUE(l.tokens[0].atLineStart);
  EXPECT_FALSE(l.tokens[1].atLineStart);
  EXPECT_TRUE(l.tokens[3].atLineStart);
  EXPECT_FALSE(l.tokens[4].atLineStart);
  // Also after a newline dropped inside parentheses.
  EXPECT_EQ(l.tokens[5].text, "d");
  EXPECT_TRUE(l.tokens[5].atLineStart);
  EXPECT_FALSE(l.tokens[6].atLineStart);
}

TEST_F(LexerTest, DescribeToken) {
  Lexed l = lex("foo 12 \"s\" ( \n");
  EXPECT_EQ(describeToken(l.tokens[0]), "'foo'");
  EXPECT_EQ(describeToken(l.tokens[1]), "'12'");
  EXPECT_EQ(describeToken(l.tokens[2]), "a string");
  EXPECT_EQ(describeToken(l.tokens[3]), "'('");
  Lexed n = lex("x\n");
  EXPECT_EQ(describeToken(n.tokens[1]), "newline");
  EXPECT_EQ(describeToken(n.tokens[2]), "end of file");
  Lexed longName = lex(std::string(1000, 'a'));
  EXPECT_LT(describeToken(longName.tokens[0]).size(), 50u);
}

TEST_F(LexerTest, LongInputsAreLinear) {
  // One huge identifier and many parentheses: no quadratic work.
  std::string text = std::string(1 << 18, 'a') + " " +
                     std::string(1 << 18, '(') + std::string(1 << 18, ']');
  Lexed l = lex(text);
  EXPECT_EQ(l.tokens.front().text.size(), size_t(1) << 18);
  EXPECT_EQ(l.tokens.size(), 2 + (size_t(2) << 18));
}

TEST_F(LexerTest, RandomBytesNeverCrash) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 300; ++round) {
    size_t size = rng() % 400;
    std::string text;
    for (size_t i = 0; i < size; ++i)
      text.push_back(static_cast<char>(rng() & 0xff));
    Lexed l = lex(text);
    ASSERT_FALSE(l.tokens.empty());
    EXPECT_EQ(l.tokens.back().kind, K::Eof);
  }
}

TEST_F(LexerTest, RandomSourceLikeText) {
  // Fragments of real syntax glued at random: every token's text must be
  // found at its location in the source.
  const char *pieces[] = {"(", ")",   "[",  "]",     "{",  "}",   ",",  "\n",
                          "x", "1.5", "2",  "=",     "==", "\"s", "\"", "#",
                          " ", "\t",  "e3", "model", "!",  "\\"};
  std::mt19937 rng(99);
  for (int round = 0; round < 300; ++round) {
    std::string text;
    for (int i = 0; i < 60; ++i)
      text += pieces[rng() % (sizeof(pieces) / sizeof(pieces[0]))];
    const SourceFile *file = sources.add("r.dl", text);
    std::ostringstream os;
    DiagnosticEngine diags(os);
    Lexer lexer(*file, diags);
    for (size_t i = 0; i <= text.size() + 1; ++i) {
      Token t = lexer.next();
      if (t.is(K::Eof))
        break;
      ASSERT_TRUE(t.loc.valid());
      std::string_view line = file->lineText(t.loc.line);
      ASSERT_LE(t.loc.col - 1 + t.length, line.size() + 1) << text;
      if (t.is(K::Identifier) || t.is(K::Number)) {
        EXPECT_EQ(line.substr(t.loc.col - 1, t.length), t.text);
      }
    }
  }
}

} // namespace
