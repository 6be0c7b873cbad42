//===- Program.cpp --------------------------------------------------------===//
#include "frontend/Program.h"

#include "frontend/Parser.h"

#include <set>

namespace dlc {

namespace {

class ProgramLoader {
public:
  ProgramLoader(SourceManager &sources, DiagnosticEngine &diags,
                Program &program)
      : sources_(sources), diags_(diags), program_(program) {}

  void loadFile(const SourceFile &file, int depth) {
    std::unique_ptr<Module> module = parseModule(file, diags_);
    Module *raw = module.get();
    program_.modules.push_back(std::move(module));
    active_.insert(file.path());
    for (const auto &decl : raw->decls) {
      if (diags_.tooManyErrors())
        break;
      if (decl->kind == Decl::Kind::Import)
        loadImport(*decl, file, depth);
      else
        declare(*decl);
    }
    active_.erase(file.path());
  }

private:
  void loadImport(const Decl &decl, const SourceFile &from, int depth) {
    std::string path = decl.name;
    if (!path.empty() && path[0] != '/') {
      size_t slash = from.path().rfind('/');
      if (slash != std::string::npos)
        path = from.path().substr(0, slash + 1) + path;
    }
    if (active_.count(path)) {
      diags_.error(decl.nameLoc,
                   "import cycle: '" + decl.name +
                       "' is already being imported",
                   "remove one of the imports that lead back here");
      return;
    }
    if (loaded_.count(path))
      return;
    if (depth >= 32) {
      diags_.error(decl.nameLoc, "imports nested more than 32 deep");
      return;
    }
    std::string error;
    const SourceFile *file = sources_.load(path, error);
    if (!file) {
      diags_.error(decl.nameLoc, error,
                   "import paths are relative to the importing file");
      return;
    }
    loaded_.insert(path);
    loadFile(*file, depth + 1);
  }

  void declare(const Decl &decl) {
    if (decl.kind == Decl::Kind::Train) {
      auto [it, inserted] = program_.trainSections.emplace(decl.name, &decl);
      if (!inserted) {
        diags_.error(decl.nameLoc,
                     "a second train section for '" + decl.name + "'",
                     "a model has one train section; merge them");
        diags_.note(it->second->nameLoc, "the first one is here");
      }
      return;
    }
    auto [it, inserted] = program_.definitions.emplace(decl.name, &decl);
    if (!inserted) {
      diags_.error(decl.nameLoc, "'" + decl.name + "' is defined twice",
                   "rename one of the definitions");
      diags_.note(it->second->nameLoc, "first defined here");
    }
  }

  SourceManager &sources_;
  DiagnosticEngine &diags_;
  Program &program_;
  std::set<std::string> active_;
  std::set<std::string> loaded_;
};

} // namespace

bool loadProgramFromText(const std::string &path, const std::string &text,
                         SourceManager &sources, DiagnosticEngine &diags,
                         Program &program) {
  const SourceFile *file = sources.add(path, text);
  program.mainFile = file;
  ProgramLoader(sources, diags, program).loadFile(*file, 0);
  return !diags.hasErrors();
}

bool loadProgram(const std::string &path, SourceManager &sources,
                 DiagnosticEngine &diags, Program &program) {
  std::string error;
  const SourceFile *file = sources.load(path, error);
  if (!file) {
    diags.error({}, error, "check the path; dlc reads one .dl file");
    return false;
  }
  program.mainFile = file;
  ProgramLoader(sources, diags, program).loadFile(*file, 0);
  return !diags.hasErrors();
}

std::string defaultModelName(const Program &program) {
  if (program.modules.empty())
    return "";
  const Module &main = *program.modules.front();
  std::vector<std::string> trained;
  std::string last;
  for (const auto &decl : main.decls) {
    if (decl->kind == Decl::Kind::Train)
      trained.push_back(decl->name);
    if (decl->kind == Decl::Kind::Sequential || decl->kind == Decl::Kind::Model)
      last = decl->name;
  }
  if (trained.size() == 1)
    return trained.front();
  return last;
}

} // namespace dlc
