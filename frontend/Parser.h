//===- Parser.h - .dl source to AST -----------------------------*- C++ -*-===//
//
// A recursive-descent parser over the Lexer's tokens. It reports every
// syntax error to the DiagnosticEngine, recovers (skipping the rest of a bad
// statement or definition) and goes on, so that one run shows all the errors
// of a file, up to the engine's limit.
//
// Robustness: nesting of brackets, braces and unary operators is capped at
// 200 levels and the height of any expression tree at 1000, so that neither
// the parser nor later passes that walk the tree recursively can overflow
// the stack; every loop consumes a token, so parsing is linear in the size
// of the input.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_FRONTEND_PARSER_H
#define DLC_FRONTEND_PARSER_H

#include "frontend/AST.h"
#include "frontend/Diagnostics.h"

#include <memory>

namespace dlc {

/// Parses one file. Always returns a Module, partial when there were errors;
/// the caller checks `diags.hasErrors()`.
std::unique_ptr<Module> parseModule(const SourceFile &file,
                                    DiagnosticEngine &diags);

} // namespace dlc

#endif // DLC_FRONTEND_PARSER_H
