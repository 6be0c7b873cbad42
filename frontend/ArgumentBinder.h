//===- ArgumentBinder.h - match call arguments against a signature --------===//
//
// Layer constructors, train-section calls (optimizers, losses, data
// sources, ...) and block hyper-parameters all take positional and keyword
// arguments. bindArguments checks them against a signature: unknown names
// (with "did you mean"), duplicates, missing required ones, types, allowed
// words; it fills in defaults.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_FRONTEND_ARGUMENTBINDER_H
#define DLC_FRONTEND_ARGUMENTBINDER_H

#include "frontend/SemaValue.h"

#include <optional>
#include <string>
#include <vector>

namespace dlc {

enum class ArgType {
  Any,
  Int,   // an integer (an integral float is accepted)
  Float, // any number
  Bool,
  String,  // "..." only
  Word,    // one of `words`, bare or quoted
  IntPair, // n or [a, b]
  IntList, // [a, b, ...]
  FloatList,
};

/// The interval a number (or every number of a list) must lie in.
struct ArgRange {
  double low;
  double high;
  bool lowOpen = false;  // (low, ... instead of [low, ...
  bool highOpen = false; // ..., high) instead of ..., high]
};

struct ArgSpec {
  std::string name;
  ArgType type = ArgType::Any;
  bool required = false;
  SemaValue defaultValue;           // used when not required and not given
  std::vector<std::string> words;   // ArgType::Word
  bool positional = true;           // may be given by position
  std::vector<std::string> aliases; // Keras spellings: kernel_size, ...
  std::optional<ArgRange> range;
};

/// An evaluated argument.
struct BoundArg {
  std::string name; // empty: positional
  SourceLoc loc;
  SemaValue value;
};

/// Binds `args` to `specs` into `out` (every spec gets a value: given,
/// default, or SemaValue::None for an optional argument without default).
/// Errors name `callee` and point at the offending argument or at
/// `calleeLoc`; a bare word where no word is expected is reported as an
/// undefined name, with a "did you mean" among `namesInScope`. Returns false
/// after reporting an error.
bool bindArguments(const std::string &callee, SourceLoc calleeLoc,
                   const std::vector<ArgSpec> &specs,
                   const std::vector<BoundArg> &args, const Graph &graph,
                   ConfigMap &out, DiagnosticEngine &diags,
                   const std::vector<std::string> &namesInScope = {});

/// Checks and converts one value to `spec`'s type (IntPair becomes a list
/// of two ints) and range. Reports and returns false when it does not fit.
bool convertArgument(const std::string &callee, const ArgSpec &spec,
                     SemaValue &value, const Graph &graph,
                     DiagnosticEngine &diags,
                     const std::vector<std::string> &namesInScope = {});

/// Convenience constructors for signatures.
ArgSpec required(std::string name, ArgType type);
ArgSpec optional(std::string name, ArgType type, SemaValue defaultValue);
ArgSpec word(std::string name, std::vector<std::string> words,
             std::string defaultWord);
ArgSpec inRange(ArgSpec spec, double low, double high, bool lowOpen = false,
                bool highOpen = false);

} // namespace dlc

#endif // DLC_FRONTEND_ARGUMENTBINDER_H
