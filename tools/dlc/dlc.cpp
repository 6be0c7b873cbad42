//===- dlc.cpp - the dlc driver -------------------------------------------===//
//
//   dlc compile FILE [-o OUT] [--emit=KIND] [--model NAME] [--dtype f32|f64]
//                    [--max-batch N] [--target-cpu CPU] [--locations]
//   dlc train FILE [--model NAME] [--max-batch N] [PROGRAM FLAGS...]
//   dlc gradcheck FILE [--model NAME] [PROGRAM FLAGS...]
//   dlc summary FILE [--model NAME]
//   dlc help [COMMAND] | dlc --help | dlc --version
//
// Exit status: 0 on success, 1 on any error (in the .dl file, a flag, a
// file that cannot be read or written).
//
//===----------------------------------------------------------------------===//
#include "MemoryBudget.h"

#include "codegen/HostCompiler.h"
#include "codegen/LowerToKernels.h"
#include "codegen/MemoryPlanner.h"
#include "codegen/TrainJson.h"
#include "codegen/cpu/CppEmitter.h"
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
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/thread.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

const char *kVersion = DLC_VERSION;

/// The largest --max-batch: keeps every planned size far from overflow.
constexpr int64_t kMaxBatchLimit = 1 << 20;

struct Command {
  const char *name;
  const char *usage;
  const char *summary;
  const char *details;
  std::vector<std::string> flags; // accepted flags (with a value: "--x=")
  /// FILE comes first and flags dlc does not know go to the program.
  bool passThrough = false;
};

const std::vector<Command> &commands() {
  static const std::vector<Command> table = {
      {"compile",
       "dlc compile FILE [-o OUT] [--emit=KIND] [--model NAME] "
       "[--dtype f32|f64] [--max-batch N] [--target-cpu CPU] [--locations] "
       "[--no-fusion] [--keep-activations] [--remarks] "
       "[--memory-budget BYTES]",
       "compile a .dl model into a program that trains, evaluates and "
       "predicts",
       "  -o OUT           where to write (default: the program is named\n"
       "                   after the model; text goes to standard output);\n"
       "                   written under a temporary name, then renamed\n"
       "  --emit=KIND      what to produce:\n"
       "                     program  the executable (the default)\n"
       "                     ast      the syntax tree after parsing\n"
       "                     ir       the model in the `dl` dialect, verified\n"
       "                     ir-opt   the IR after the training pipeline\n"
       "                              (gradients, optimizer, eval function)\n"
       "                     plan     every buffer's lifetime and offset in\n"
       "                              the arena, and the peak\n"
       "                     cpp      the program's generated C++ source\n"
       "  --model NAME     the model to compile (default: the one the file's\n"
       "                   train section trains, else its last model)\n"
       "  --dtype T        f32 (default) or f64: the element type of every\n"
       "                   tensor in the program (f64 for gradient checks)\n"
       "  --max-batch N    the largest batch the program runs (default: the\n"
       "                   train section's batch_size, else 32); memory is\n"
       "                   planned for it\n"
       "  --target-cpu CPU the CPU to generate code for, as -march= takes it\n"
       "                   (default: native, the machine compiling)\n"
       "  --locations      print each op's .dl location in the IR\n"
       "  --no-fusion      skip the fusion passes (to compare; the program\n"
       "                   computes the same thing, slower)\n"
       "  --keep-activations\n"
       "                   keep every forward result the backward reads; by\n"
       "                   default the cheap ones (at most 4 operations per\n"
       "                   byte freed: normalize+relu, a convolution of few\n"
       "                   channels) are recomputed in the backward where\n"
       "                   that lowers the planned peak (the same results,\n"
       "                   bit for bit)\n"
       "  --remarks        print, for each fusion candidate, what was fused\n"
       "                   or why not, with its .dl location\n"
       "  --memory-budget BYTES\n"
       "                   the most bytes the program's arena may take: when\n"
       "                   the plan needs more, cheap forward results are\n"
       "                   recomputed in the backward instead of kept (the\n"
       "                   same results, bit for bit); an error says the\n"
       "                   least possible when even that does not fit\n",
       {"--emit=", "-o=", "--model=", "--dtype=", "--max-batch=",
        "--target-cpu=", "--locations", "--no-fusion", "--keep-activations",
        "--remarks", "--memory-budget=", "--help"}},
      {"train",
       "dlc train FILE [--model NAME] [--max-batch N] [--no-fusion] "
       "[--keep-activations] [--memory-budget BYTES] [PROGRAM FLAGS...]",
       "compile (cached by content) and train in one step",
       "  --model NAME     as for compile\n"
       "  --max-batch N    as for compile (default: the batch size)\n"
       "  --no-fusion      as for compile\n"
       "  --keep-activations  as for compile\n"
       "  --memory-budget BYTES  as for compile\n"
       "  any other flag goes to the program's `train` command:\n"
       "  --epochs N --batch-size N --lr X --data DIR --seed N\n"
       "  --checkpoint-dir DIR --resume --threads N (see `PROGRAM train\n"
       "  --help`). Programs are cached in $DLC_CACHE_DIR, else\n"
       "  $XDG_CACHE_HOME/dlc, else ~/.cache/dlc.\n",
       {"--model=", "--max-batch=", "--no-fusion", "--keep-activations",
        "--memory-budget=", "--help"},
       true},
      {"gradcheck",
       "dlc gradcheck FILE [--model NAME] [PROGRAM FLAGS...]",
       "compare analytic gradients with central differences, in f64",
       "  compiles the model with --dtype f64 and runs the program's\n"
       "  `gradcheck` command: for every trainable parameter, sampled\n"
       "  elements' analytic gradients against central differences on\n"
       "  random data, printing the worst relative error per parameter.\n"
       "  --model NAME     as for compile\n"
       "  any other flag goes to the program's `gradcheck` command\n"
       "  (--samples K --batch-size N --seed N --tolerance X).\n",
       {"--model=", "--help"},
       true},
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
  std::vector<std::string> programArgs;      // passThrough: for the program
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
  size_t start = 0;
  if (command.passThrough && !args.empty() && !args[0].empty() &&
      args[0][0] != '-') {
    options.file = args[0];
    start = 1;
  }
  for (size_t i = start; i < args.size(); ++i) {
    const std::string &arg = args[i];
    if (command.passThrough) {
      std::string name = arg.substr(0, arg.find('='));
      bool known = false;
      for (const std::string &f : command.flags)
        known = known || f == name || f == name + "=";
      if (!known) {
        options.programArgs.push_back(arg);
        continue;
      }
    }
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

/// What `dlc compile` (and train, gradcheck) are asked for.
struct CompileRequest {
  std::string emit = "program";
  int elementBytes = 4;
  int64_t maxBatch = 0; ///< 0: the train section's batch size, else 32
  dlc::codegen::HostCompileOptions host;
  bool locations = false;
  bool fusion = true;         ///< --no-fusion turns it off
  bool recomputeCheap = true; ///< --keep-activations turns it off
  bool remarks = false;       ///< --remarks
  int64_t memoryBudget = 0;   ///< --memory-budget BYTES (0: none)
};

/// Reads --dtype, --max-batch, --target-cpu, --emit and --locations.
bool parseCompileRequest(const Options &options, CompileRequest &request) {
  static const std::vector<std::string> emits = {"program", "ast",  "ir",
                                                 "ir-opt",  "plan", "cpp"};
  request.emit = options.get("--emit", "program");
  if (std::find(emits.begin(), emits.end(), request.emit) == emits.end()) {
    std::string guess = dlc::closestMatch(request.emit, emits);
    usageError("--emit must be program, ast, ir, ir-opt, plan or cpp, got '" +
                   request.emit + "'",
               guess.empty() ? (request.emit == "cuda"
                                    ? "the CUDA backend is not built yet"
                                    : "see `dlc compile --help`")
                             : "did you mean '" + guess + "'?");
    return false;
  }
  std::string dtype = options.get("--dtype", "f32");
  if (dtype != "f32" && dtype != "f64") {
    usageError("--dtype must be f32 or f64, got '" + dtype + "'", "");
    return false;
  }
  request.elementBytes = dtype == "f64" ? 8 : 4;
  if (options.has("--max-batch")) {
    std::string text = options.get("--max-batch", "");
    char *end = nullptr;
    errno = 0;
    long long value = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno != 0 || value < 1 ||
        value > kMaxBatchLimit) {
      usageError("--max-batch must be a whole number from 1 to " +
                     std::to_string(kMaxBatchLimit) + ", got '" + text + "'",
                 "");
      return false;
    }
    request.maxBatch = value;
  }
  request.host.targetCpu = options.get("--target-cpu", "native");
  if (request.host.targetCpu.empty() ||
      request.host.targetCpu.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyz0123456789-_.") != std::string::npos) {
    usageError("--target-cpu must be a CPU name as -march= takes it, got '" +
                   request.host.targetCpu + "'",
               "e.g. native, x86-64-v3, skylake-avx512");
    return false;
  }
  if (options.has("--memory-budget")) {
    std::string text = options.get("--memory-budget", "");
    char *end = nullptr;
    errno = 0;
    long long value = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno != 0 || value < 1) {
      usageError("--memory-budget must be a whole number of bytes, at least "
                 "1, got '" +
                     text + "'",
                 "e.g. --memory-budget 50000000 for 50 MB");
      return false;
    }
    request.memoryBudget = value;
  }
  request.locations = options.has("--locations");
  request.fusion = !options.has("--no-fusion");
  request.recomputeCheap = !options.has("--keep-activations");
  request.remarks = options.has("--remarks");
  return true;
}

/// Prints MLIR's diagnostics as an internal error: a model that got past
/// sema must always lower.
int internalError(const std::string &what, const std::string &details) {
  std::cerr << "dlc: internal error: " << what << "\n"
            << details
            << "note: this is a bug in dlc, not in the model; please report "
               "it with the .dl file\n";
  return 1;
}

/// "fashion_cnn.dl:5:3: remark: batchnorm: fused: ..." for a remark on an
/// op the IR builder located (inlined ops: the layer inside the block).
std::string remarkLine(mlir::Location loc, const std::string &message) {
  dlc::codegen::SourcePlace place = dlc::codegen::sourcePlace(loc);
  return (place.position.empty() ? "<unknown>" : place.position) +
         ": remark: " + (place.layer.empty() ? "" : place.layer + ": ") +
         message;
}

/// The compiled result of one request: text to print or a program's source.
struct Compiled {
  std::string text;      ///< ast, ir, ir-opt, plan, cpp
  std::string source;    ///< program: the C++ to build
  std::string modelName; ///< the program's default file name
};

int compileModel(const Options &options, const CompileRequest &request,
                 Compiled &compiled) {
  dlc::SourceManager sources;
  dlc::DiagnosticEngine diags(std::cerr);
  if (request.emit == "ast") {
    dlc::Program program;
    if (!dlc::loadProgram(options.file, sources, diags, program))
      return 1;
    std::ostringstream text;
    dlc::printModule(*program.modules.front(), text);
    compiled.text = text.str();
    return 0;
  }

  dlc::Program program;
  std::optional<dlc::Graph> graph = elaborate(options, sources, diags, program);
  if (!graph)
    return 1;
  compiled.modelName = graph->name;

  mlir::DialectRegistry registry;
  dlc::registerDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  std::string mlirErrors;
  llvm::raw_string_ostream errorStream(mlirErrors);
  std::set<std::string> printedRemarks;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    if (d.getSeverity() == mlir::DiagnosticSeverity::Remark) {
      // Fusion remarks (passes/FusionRemarks.h): printed on --remarks,
      // once per layer and message (@M_grad and @M_train_step, @M and
      // @M_eval hold the same candidates).
      std::string line = remarkLine(d.getLocation(), d.str());
      if (request.remarks && printedRemarks.insert(line).second)
        std::cerr << line << "\n";
      return mlir::success();
    }
    errorStream << d.getLocation() << ": " << d << "\n";
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module = dlc::buildModule(context, *graph);
  if (!module || mlir::failed(mlir::verify(*module)))
    return internalError("the IR built for '" + graph->name +
                             "' does not verify:",
                         errorStream.str());
  mlir::OpPrintingFlags flags;
  if (request.locations)
    flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
  auto print = [&] {
    llvm::raw_string_ostream os(compiled.text);
    module->print(os, flags);
  };
  if (request.emit == "ir") {
    print();
    return 0;
  }

  mlir::PassManager pm(&context);
  dlc::TrainingPipelineOptions pipelineOptions;
  pipelineOptions.fusion = request.fusion;
  dlc::buildTrainingPipeline(pm, pipelineOptions);
  if (mlir::failed(pm.run(*module)) || mlir::failed(mlir::verify(*module)))
    return internalError("the training pipeline failed on '" + graph->name +
                             "':",
                         errorStream.str());
  int64_t maxBatch = request.maxBatch;
  if (maxBatch == 0) {
    maxBatch = 32;
    auto batch = graph->train.settings.find("batch_size");
    if (graph->train.present && batch != graph->train.settings.end() &&
        batch->second.kind == dlc::ConfigValue::Kind::Int &&
        batch->second.intValue >= 1)
      maxBatch = std::min<int64_t>(batch->second.intValue, kMaxBatchLimit);
  }
  dlc::codegen::KernelProgram kernels;
  std::string error;
  if (!dlc::codegen::lowerToKernels(*module, maxBatch, kernels, error))
    return internalError("lowering '" + graph->name + "' to kernels:",
                         error + "\n");
  dlc::codegen::MemoryPlan plan = dlc::codegen::planMemory(
      kernels, request.elementBytes,
      dlc::codegen::cpuCallMemory(kernels, request.elementBytes));
  if (!plan.ok())
    return usageError("cannot plan the memory of '" + graph->name +
                          "': " + plan.error,
                      "try a smaller --max-batch");
  if (request.recomputeCheap) {
    int recomputed = 0;
    if (!dlc::recomputeCheapActivations(module, maxBatch, request.elementBytes,
                                        kernels, plan, recomputed, error))
      return internalError("recomputing cheap activations of '" + graph->name +
                               "':",
                           error + "\n");
  }
  std::string budgetNote;
  if (request.memoryBudget > 0) {
    dlc::BudgetOutcome outcome;
    if (!dlc::fitMemoryBudget(module, maxBatch, request.elementBytes,
                              request.memoryBudget, kernels, plan, outcome,
                              error))
      return internalError("recomputing '" + graph->name +
                               "' to fit --memory-budget:",
                           error + "\n");
    if (!outcome.fits)
      return usageError(
          "the memory budget of " + std::to_string(request.memoryBudget) +
              " bytes is impossible for " + graph->name +
              ": the least this program needs is " +
              std::to_string(outcome.minimumArena) + " bytes",
          "recomputing every candidate activation in the backward (" +
              std::to_string(outcome.candidates) +
              " ops) still needs that much (the plan without recomputation "
              "needs " +
              std::to_string(outcome.unconstrainedArena) +
              " bytes); give --memory-budget " +
              std::to_string(outcome.minimumArena) +
              " or more, or a smaller --max-batch");
    budgetNote = dlc::describeBudget(outcome);
  }
  if (request.emit == "ir-opt") {
    print();
    return 0;
  }
  if (request.emit == "plan") {
    compiled.text = dlc::codegen::printPlan(kernels, plan) + budgetNote;
    return 0;
  }

  dlc::codegen::CppEmitOptions emitOptions;
  emitOptions.elementBytes = request.elementBytes;
  emitOptions.sourceName = llvm::sys::path::filename(options.file).str();
  emitOptions.dlcVersion = kVersion;
  if (auto train = (*module)->getAttr("dl.train"))
    emitOptions.trainJson = dlc::codegen::toJson(train);
  std::string source;
  if (!dlc::codegen::emitCpp(kernels, plan, emitOptions, source, error))
    return internalError("generating C++ for '" + graph->name + "':",
                         error + "\n");
  if (request.emit == "cpp")
    compiled.text = std::move(source);
  else
    compiled.source = std::move(source);
  return 0;
}

int runCompile(const Options &options) {
  CompileRequest request;
  if (!parseCompileRequest(options, request))
    return 1;
  Compiled compiled;
  if (int status = compileModel(options, request, compiled))
    return status;
  std::string output = options.get("-o", "");
  if (request.emit != "program")
    return writeOutput(output, compiled.text) ? 0 : 1;
  if (output.empty())
    output = compiled.modelName;
  std::string error;
  if (!dlc::codegen::compileProgram(compiled.source, request.host, output,
                                    error)) {
    std::cerr << "dlc: error: " << error << "\n";
    return 1;
  }
  return 0;
}

/// `dlc train` and `dlc gradcheck`: compile into the cache (unless the same
/// program is there) and run its `programCommand`.
int runProgram(const Options &options, const char *programCommand,
               int elementBytes) {
  CompileRequest request;
  if (!parseCompileRequest(options, request))
    return 1;
  request.elementBytes = elementBytes;
  Compiled compiled;
  if (int status = compileModel(options, request, compiled))
    return status;
  std::string program =
      dlc::codegen::cachedProgramPath(compiled.source, request.host);
  if (!llvm::sys::fs::can_execute(program)) {
    std::string directory = llvm::sys::path::parent_path(program).str();
    if (std::error_code ec = llvm::sys::fs::create_directories(directory)) {
      std::cerr << "dlc: error: cannot create the program cache '" << directory
                << "': " << ec.message()
                << "\nnote: set DLC_CACHE_DIR to a writable folder\n";
      return 1;
    }
    std::cerr << "dlc: compiling " << compiled.modelName << " ...\n";
    std::string error;
    if (!dlc::codegen::compileProgram(compiled.source, request.host, program,
                                      error)) {
      std::cerr << "dlc: error: " << error << "\n";
      return 1;
    }
  }
  std::vector<std::string> argv = {program, programCommand};
  argv.insert(argv.end(), options.programArgs.begin(),
              options.programArgs.end());
  std::vector<llvm::StringRef> refs(argv.begin(), argv.end());
  std::cout.flush();
  std::string message;
  int status = llvm::sys::ExecuteAndWait(program, refs, std::nullopt, {}, 0, 0,
                                         &message);
  if (status < 0) {
    std::cerr << "dlc: error: running '" << program << "' failed: " << message
              << "\n";
    return 1;
  }
  return status;
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
  if (first == "train")
    return runProgram(options, "train", 4);
  if (first == "gradcheck")
    return runProgram(options, "gradcheck", 8);
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
