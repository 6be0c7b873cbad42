//===- dlc.cpp - the dlc driver -------------------------------------------===//
//
//   dlc compile FILE [--emit=ast|ir] [-o OUT] [--model NAME] [--locations]
//   dlc summary FILE [--model NAME]
//   dlc help [COMMAND] | dlc --help | dlc --version
//
// Exit status: 0 on success, 1 on any error (in the .dl file, a flag, a
// file that cannot be read or written).
//
//===----------------------------------------------------------------------===//
#include "frontend/ASTPrinter.h"
#include "frontend/Elaborator.h"
#include "frontend/IRBuilder.h"
#include "frontend/Program.h"
#include "frontend/Summary.h"
#include "passes/Passes.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/thread.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

const char *kVersion = DLC_VERSION;

struct Command {
  const char *name;
  const char *usage;
  const char *summary;
  const char *details;
  std::vector<std::string> flags; // accepted flags (with a value: "--x=")
};

const std::vector<Command> &commands() {
  static const std::vector<Command> table = {
      {"compile",
       "dlc compile FILE [--emit=ast|ir] [-o OUT] [--model NAME] "
       "[--locations]",
       "check a .dl model and print its syntax tree or its `dl` IR",
       "  --emit=ast     print the syntax tree of FILE (after parsing)\n"
       "  --emit=ir      print the model in the `dl` MLIR dialect, verified\n"
       "                 (the default: code generation is not built yet)\n"
       "  -o OUT         write to OUT instead of standard output (written\n"
       "                 to a temporary file, then renamed)\n"
       "  --model NAME   the model to compile (default: the one the file's\n"
       "                 train section trains, else its last model)\n"
       "  --locations    print each op's .dl location in the IR\n",
       {"--emit=", "-o=", "--model=", "--locations", "--help"}},
      {"summary",
       "dlc summary FILE [--model NAME]",
       "print a Keras-style table of layers, output shapes and parameters",
       "  --model NAME   the model to summarize (default as for compile)\n",
       {"--model=", "--help"}},
      {"help",
       "dlc help [COMMAND]",
       "show help for dlc or one command",
       "",
       {}},
  };
  return table;
}

void printMainHelp(std::ostream &os) {
  os << "dlc " << kVersion
     << " - a deep-learning compiler for .dl models\n\n"
        "usage: dlc COMMAND [ARGS]\n\ncommands:\n";
  for (const Command &c : commands()) {
    std::string name = c.name;
    name.resize(10, ' ');
    os << "  " << name << c.summary << "\n";
  }
  os << "\n  --help       show this help (or `dlc COMMAND --help`)\n"
        "  --version    print the version\n\n"
        "Errors are reported as FILE:LINE:COL with the source line and a "
        "hint;\nthe exit status is 1 on any error.\n";
}

void printCommandHelp(const Command &c, std::ostream &os) {
  os << "usage: " << c.usage << "\n\n" << c.summary << "\n";
  if (*c.details)
    os << "\noptions:\n" << c.details;
}

const Command *findCommand(const std::string &name) {
  for (const Command &c : commands())
    if (name == c.name)
      return &c;
  return nullptr;
}

std::vector<std::string> commandNames() {
  std::vector<std::string> names;
  for (const Command &c : commands())
    names.push_back(c.name);
  return names;
}

int usageError(const std::string &message, const std::string &hint) {
  std::cerr << "dlc: error: " << dlc::shortenForMessage(message) << "\n";
  if (!hint.empty())
    std::cerr << "note: " << hint << "\n";
  return 1;
}

/// The parsed command line of one subcommand.
struct Options {
  std::string file;
  std::map<std::string, std::string> values; // "--emit" -> "ir"
  bool has(const std::string &flag) const { return values.count(flag) > 0; }
  std::string get(const std::string &flag, const std::string &fallback) const {
    auto it = values.find(flag);
    return it == values.end() ? fallback : it->second;
  }
};

/// Parses `args` against the command's flags. Accepts `--flag=value` and
/// `--flag value` (and `-o OUT`). Returns false after printing an error.
bool parseOptions(const Command &command, const std::vector<std::string> &args,
                  Options &options) {
  std::vector<std::string> flagNames;
  for (const std::string &f : command.flags)
    flagNames.push_back(f.back() == '=' ? f.substr(0, f.size() - 1) : f);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &arg = args[i];
    if (arg.size() > 1 && arg[0] == '-') {
      std::string name = arg, value;
      size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
      }
      const std::string *spec = nullptr;
      for (const std::string &f : command.flags)
        if (f == name || f == name + "=")
          spec = &f;
      if (!spec) {
        std::string guess = dlc::closestMatch(name, flagNames);
        usageError(
            "unknown option '" + name + "' for `dlc " + command.name + "`",
            guess.empty() ? std::string("see `dlc ") + command.name + " --help`"
                          : "did you mean '" + guess + "'?");
        return false;
      }
      bool takesValue = spec->back() == '=';
      if (takesValue && eq == std::string::npos) {
        if (i + 1 >= args.size()) {
          usageError("option '" + name + "' needs a value",
                     std::string("e.g. ") + name + "=VALUE");
          return false;
        }
        value = args[++i];
      } else if (!takesValue && eq != std::string::npos) {
        usageError("option '" + name + "' takes no value", "");
        return false;
      }
      if (options.values.count(name)) {
        usageError("option '" + name + "' is given twice", "");
        return false;
      }
      options.values[name] = value;
      continue;
    }
    if (!options.file.empty()) {
      usageError("more than one input file ('" + options.file + "' and '" +
                     arg + "')",
                 "dlc reads one .dl file; it may import others");
      return false;
    }
    options.file = arg;
  }
  return true;
}

/// Writes `text` to `path` atomically (a temporary file renamed over it),
/// or to stdout for "-" or "".
bool writeOutput(const std::string &path, const std::string &text) {
  if (path.empty() || path == "-") {
    std::cout << text;
    std::cout.flush();
    return static_cast<bool>(std::cout);
  }
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      usageError("cannot write '" + path + "'",
                 "check that its folder exists and is writable");
      return false;
    }
    out << text;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      usageError("cannot write '" + path + "' (disk full?)", "");
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    usageError("cannot replace '" + path + "'", "");
    return false;
  }
  return true;
}

/// Loads, parses and elaborates; nullopt after printing errors.
std::optional<dlc::Graph> elaborate(const Options &options,
                                    dlc::SourceManager &sources,
                                    dlc::DiagnosticEngine &diags,
                                    dlc::Program &program) {
  if (!dlc::loadProgram(options.file, sources, diags, program))
    return std::nullopt;
  std::string model = options.get("--model", "");
  if (model.empty())
    model = dlc::defaultModelName(program);
  if (model.empty()) {
    diags.error({}, options.file + " defines no sequential or model",
                "define one with `sequential NAME(x: f32[...]) { ... }`");
    return std::nullopt;
  }
  return dlc::elaborateModel(program, model, diags);
}

int runSummary(const Options &options) {
  dlc::SourceManager sources;
  dlc::DiagnosticEngine diags(std::cerr);
  dlc::Program program;
  std::optional<dlc::Graph> graph = elaborate(options, sources, diags, program);
  if (!graph)
    return 1;
  dlc::printSummary(*graph, std::cout);
  return 0;
}

int runCompile(const Options &options) {
  std::string emit = options.get("--emit", "ir");
  if (emit != "ast" && emit != "ir") {
    std::string guess = dlc::closestMatch(emit, {"ast", "ir"});
    return usageError("--emit must be ast or ir, got '" + emit + "'",
                      guess.empty() ? "plan, cpp and cuda arrive with code "
                                      "generation"
                                    : "did you mean '" + guess + "'?");
  }
  dlc::SourceManager sources;
  dlc::DiagnosticEngine diags(std::cerr);
  std::string output = options.get("-o", "");

  if (emit == "ast") {
    dlc::Program program;
    if (!dlc::loadProgram(options.file, sources, diags, program))
      return 1;
    std::ostringstream text;
    dlc::printModule(*program.modules.front(), text);
    return writeOutput(output, text.str()) ? 0 : 1;
  }

  dlc::Program program;
  std::optional<dlc::Graph> graph = elaborate(options, sources, diags, program);
  if (!graph)
    return 1;

  mlir::DialectRegistry registry;
  dlc::registerDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  std::string mlirErrors;
  llvm::raw_string_ostream errorStream(mlirErrors);
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    errorStream << d.getLocation() << ": " << d << "\n";
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module = dlc::buildModule(context, *graph);
  if (!module || mlir::failed(mlir::verify(*module))) {
    errorStream.flush();
    std::cerr << "dlc: internal error: the IR built for '" << graph->name
              << "' does not verify:\n"
              << mlirErrors
              << "note: this is a bug in dlc, not in the model; please "
                 "report it with the .dl file\n";
    return 1;
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  mlir::OpPrintingFlags flags;
  if (options.has("--locations"))
    flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
  module->print(os, flags);
  os.flush();
  return writeOutput(output, text) ? 0 : 1;
}

int dispatch(const std::vector<std::string> &args) {
  if (args.empty()) {
    printMainHelp(std::cerr);
    return 1;
  }
  const std::string &first = args[0];
  if (first == "--help" || first == "-h") {
    printMainHelp(std::cout);
    return 0;
  }
  if (first == "--version") {
    std::cout << "dlc " << kVersion << "\n";
    return 0;
  }
  if (first == "help") {
    if (args.size() == 1) {
      printMainHelp(std::cout);
      return 0;
    }
    if (const Command *c = findCommand(args[1])) {
      printCommandHelp(*c, std::cout);
      return 0;
    }
    std::string guess = dlc::closestMatch(args[1], commandNames());
    return usageError("unknown command '" + args[1] + "'",
                      guess.empty() ? "see `dlc --help`"
                                    : "did you mean '" + guess + "'?");
  }
  const Command *command = findCommand(first);
  if (!command) {
    std::string guess = dlc::closestMatch(first, commandNames());
    return usageError("unknown command '" + first + "'",
                      guess.empty() ? "see `dlc --help`"
                                    : "did you mean '" + guess + "'?");
  }
  Options options;
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (!parseOptions(*command, rest, options))
    return 1;
  if (options.has("--help")) {
    printCommandHelp(*command, std::cout);
    return 0;
  }
  if (options.file.empty())
    return usageError(std::string("`dlc ") + command->name +
                          "` needs a .dl file",
                      std::string("usage: ") + command->usage);
  if (first == "compile")
    return runCompile(options);
  return runSummary(options);
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // Run on a thread with a large stack: deep (but bounded) recursion in the
  // parser and sema must never overflow the default 8 MiB.
  int status = 1;
  llvm::thread worker(std::optional<unsigned>(256u << 20),
                      [&] { status = dispatch(args); });
  worker.join();
  return status;
}
