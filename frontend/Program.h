//===- Program.h - a .dl file with its imports, parsed --------------------===//
#ifndef DLC_FRONTEND_PROGRAM_H
#define DLC_FRONTEND_PROGRAM_H

#include "frontend/AST.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dlc {

/// Every definition visible from the main file: its own and those of the
/// files it imports (transitively). Names are unique across all of them.
struct Program {
  const SourceFile *mainFile = nullptr;
  std::vector<std::unique_ptr<Module>> modules; // modules[0] is the main file
  std::map<std::string, const Decl *> definitions;   // sequential/model/block
  std::map<std::string, const Decl *> trainSections; // by model name
};

/// Reads and parses `path` and everything it imports (relative to the
/// importing file; each file once; cycles and a depth over 32 are errors).
/// Reports every problem; returns false if there were errors.
bool loadProgram(const std::string &path, SourceManager &sources,
                 DiagnosticEngine &diags, Program &program);

/// Like loadProgram for text already in memory (tests).
bool loadProgramFromText(const std::string &path, const std::string &text,
                         SourceManager &sources, DiagnosticEngine &diags,
                         Program &program);

/// The model `dlc` compiles when none is named: the one the main file's
/// train section trains (if it has exactly one), else the last sequential
/// or model of the main file. "" if the main file defines none.
std::string defaultModelName(const Program &program);

} // namespace dlc

#endif // DLC_FRONTEND_PROGRAM_H
