//===- ArgumentBinder.cpp -------------------------------------------------===//
#include "frontend/ArgumentBinder.h"

#include <cmath>

namespace dlc {

ArgSpec required(std::string name, ArgType type) {
  ArgSpec spec;
  spec.name = std::move(name);
  spec.type = type;
  spec.required = true;
  return spec;
}

ArgSpec optional(std::string name, ArgType type, SemaValue defaultValue) {
  ArgSpec spec;
  spec.name = std::move(name);
  spec.type = type;
  spec.defaultValue = std::move(defaultValue);
  return spec;
}

ArgSpec word(std::string name, std::vector<std::string> words,
             std::string defaultWord) {
  ArgSpec spec;
  spec.name = std::move(name);
  spec.type = ArgType::Word;
  spec.words = std::move(words);
  if (!defaultWord.empty())
    spec.defaultValue =
        SemaValue::ofText(SemaValue::Kind::Word, std::move(defaultWord));
  return spec;
}

ArgSpec inRange(ArgSpec spec, double low, double high, bool lowOpen,
                bool highOpen) {
  spec.range = ArgRange{low, high, lowOpen, highOpen};
  return spec;
}

static std::string formatNumber(double v) {
  if (std::fabs(v) < 1e15 && std::floor(v) == v)
    return std::to_string(static_cast<int64_t>(v));
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.')
    s.pop_back();
  return s;
}

/// Reports the first number of `value` outside `spec.range`.
static bool checkRange(const std::string &callee, const ArgSpec &spec,
                       const SemaValue &value, DiagnosticEngine &diags) {
  if (!spec.range)
    return true;
  const ArgRange &r = *spec.range;
  if (value.kind == SemaValue::Kind::List) {
    for (const SemaValue &item : value.items)
      if (!checkRange(callee, spec, item, diags))
        return false;
    return true;
  }
  if (!value.isNumber())
    return true;
  double v = value.asDouble();
  bool below = r.lowOpen ? v <= r.low : v < r.low;
  bool above = r.highOpen ? v >= r.high : v > r.high;
  if (!below && !above)
    return true;
  std::string interval = std::string(r.lowOpen ? "(" : "[") +
                         formatNumber(r.low) + ", " + formatNumber(r.high) +
                         (r.highOpen ? ")" : "]");
  diags.error(value.loc, callee + "'s argument '" + spec.name +
                             "' must be in " + interval + ", got " +
                             formatNumber(v));
  return false;
}

/// The note for a word that names nothing: "did you mean 'y'?" or a
/// reminder that names must be assigned before use.
static std::string undefinedHint(const std::string &word,
                                 const std::vector<std::string> &names) {
  std::string guess = closestMatch(word, names);
  return guess.empty() ? "assign it before its use: " + word + " = ..."
                       : "did you mean '" + guess + "'?";
}

static const char *typeName(ArgType type) {
  switch (type) {
  case ArgType::Any:
    return "a value";
  case ArgType::Int:
    return "an integer";
  case ArgType::Float:
    return "a number";
  case ArgType::Bool:
    return "true or false";
  case ArgType::String:
    return "a string";
  case ArgType::Word:
    return "one of";
  case ArgType::IntPair:
    return "an integer or a list of two integers";
  case ArgType::IntList:
    return "a list of integers";
  case ArgType::FloatList:
    return "a list of numbers";
  }
  return "a value";
}

/// Integral numbers within +-2^53 become Int; returns false otherwise.
static bool toInt(SemaValue &value) {
  if (value.kind == SemaValue::Kind::Int)
    return true;
  if (value.kind != SemaValue::Kind::Float)
    return false;
  double v = value.floatValue;
  if (!std::isfinite(v) || std::floor(v) != v || std::fabs(v) > 9.0e15)
    return false;
  value.kind = SemaValue::Kind::Int;
  value.intValue = static_cast<int64_t>(v);
  return true;
}

static std::string joinWords(const std::vector<std::string> &words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i)
      out += i + 1 == words.size() ? " or " : ", ";
    out += words[i];
  }
  return out;
}

static bool convertType(const std::string &callee, const ArgSpec &spec,
                        SemaValue &value, const Graph &graph,
                        DiagnosticEngine &diags,
                        const std::vector<std::string> &names) {
  auto fail = [&](std::string hint = "") {
    if (spec.type == ArgType::Bool && hint.empty())
      hint = "write true or false";
    if (value.kind == SemaValue::Kind::Word && hint.empty())
      hint = "'" + value.text + "' is not a defined name; " +
             undefinedHint(value.text, names);
    std::string expected = typeName(spec.type);
    if (spec.type == ArgType::Word)
      expected += " " + joinWords(spec.words);
    diags.error(value.loc,
                callee + "'s argument '" + spec.name + "' must be " + expected +
                    ", got " + describeValue(value, graph),
                hint);
    return false;
  };
  switch (spec.type) {
  case ArgType::Any:
    return true;
  case ArgType::Int:
    return toInt(value) || fail();
  case ArgType::Float:
    if (!value.isNumber() || !std::isfinite(value.asDouble()))
      return fail();
    return true;
  case ArgType::Bool:
    return value.kind == SemaValue::Kind::Bool || fail();
  case ArgType::String:
    return value.kind == SemaValue::Kind::String ||
           fail("write it in double quotes: \"" +
                (value.kind == SemaValue::Kind::Word ? value.text : "...") +
                "\"");
  case ArgType::Word: {
    // A word may also name a layer (activation=relu): it is still a word.
    if (value.kind != SemaValue::Kind::Word &&
        value.kind != SemaValue::Kind::String &&
        value.kind != SemaValue::Kind::Callable)
      return fail();
    for (const std::string &w : spec.words)
      if (w == value.text) {
        value.kind = SemaValue::Kind::Word;
        return true;
      }
    std::string guess = closestMatch(value.text, spec.words);
    diags.error(value.loc,
                callee + "'s argument '" + spec.name + "' must be one of " +
                    joinWords(spec.words) + ", got '" + value.text + "'",
                guess.empty() ? "" : "did you mean '" + guess + "'?");
    return false;
  }
  case ArgType::IntPair: {
    if (value.isNumber()) {
      if (!toInt(value))
        return fail();
      SemaValue list;
      list.kind = SemaValue::Kind::List;
      list.loc = value.loc;
      list.items = {value, value};
      value = list;
      return true;
    }
    if (value.kind != SemaValue::Kind::List || value.items.size() != 2)
      return fail();
    for (SemaValue &item : value.items)
      if (!toInt(item))
        return fail();
    return true;
  }
  case ArgType::IntList:
  case ArgType::FloatList: {
    if (value.kind != SemaValue::Kind::List)
      return fail();
    for (SemaValue &item : value.items) {
      bool ok = spec.type == ArgType::IntList
                    ? toInt(item)
                    : item.isNumber() && std::isfinite(item.asDouble());
      if (!ok)
        return fail();
    }
    return true;
  }
  }
  return true;
}

bool convertArgument(const std::string &callee, const ArgSpec &spec,
                     SemaValue &value, const Graph &graph,
                     DiagnosticEngine &diags,
                     const std::vector<std::string> &namesInScope) {
  return convertType(callee, spec, value, graph, diags, namesInScope) &&
         checkRange(callee, spec, value, diags);
}

bool bindArguments(const std::string &callee, SourceLoc calleeLoc,
                   const std::vector<ArgSpec> &specs,
                   const std::vector<BoundArg> &args, const Graph &graph,
                   ConfigMap &out, DiagnosticEngine &diags,
                   const std::vector<std::string> &namesInScope) {
  const std::vector<std::string> &names = namesInScope;
  bool ok = true;
  std::map<std::string, SourceLoc> given;
  size_t position = 0;
  for (const BoundArg &arg : args) {
    const ArgSpec *spec = nullptr;
    if (arg.name.empty()) {
      while (position < specs.size() && !specs[position].positional)
        ++position;
      if (position >= specs.size()) {
        size_t positional = 0;
        for (const ArgSpec &s : specs)
          positional += s.positional ? 1 : 0;
        if (arg.value.kind == SemaValue::Kind::Word)
          diags.error(arg.loc, "'" + arg.value.text + "' is not defined",
                      undefinedHint(arg.value.text, names));
        else if (positional == 0)
          diags.error(arg.loc, callee + " takes no positional arguments",
                      "remove the argument");
        else
          diags.error(arg.loc,
                      callee + " takes at most " + std::to_string(positional) +
                          " positional argument" +
                          (positional == 1 ? "" : "s") + ", got more",
                      "pass the remaining settings by name, e.g. name=value");
        ok = false;
        continue;
      }
      spec = &specs[position++];
    } else {
      for (const ArgSpec &s : specs) {
        if (s.name == arg.name)
          spec = &s;
        for (const std::string &alias : s.aliases)
          if (alias == arg.name)
            spec = &s;
      }
      if (!spec) {
        std::vector<std::string> argNames;
        for (const ArgSpec &s : specs)
          argNames.push_back(s.name);
        std::string guess = closestMatch(arg.name, argNames);
        std::string hint =
            guess.empty()
                ? (argNames.empty() ? callee + " takes no arguments"
                                    : "it takes " + joinWords(argNames))
                : "did you mean '" + guess + "'?";
        diags.error(arg.loc, callee + " has no argument '" + arg.name + "'",
                    hint);
        ok = false;
        continue;
      }
    }
    auto [it, inserted] = given.emplace(spec->name, arg.loc);
    if (!inserted) {
      diags.error(arg.loc,
                  callee + "'s argument '" + spec->name + "' is given twice");
      diags.note(it->second, "first given here");
      ok = false;
      continue;
    }
    SemaValue value = arg.value;
    if (value.kind == SemaValue::Kind::None) {
      ok = false; // already reported
      continue;
    }
    if (!value.loc.valid())
      value.loc = arg.loc;
    if (!convertArgument(callee, *spec, value, graph, diags, names)) {
      ok = false;
      continue;
    }
    out[spec->name] = value;
  }
  for (const ArgSpec &spec : specs) {
    if (out.count(spec.name) || given.count(spec.name))
      continue;
    if (spec.required) {
      diags.error(calleeLoc, callee + " needs its argument '" + spec.name + "'",
                  "e.g. " + callee + "(" + spec.name + "=...)");
      ok = false;
      continue;
    }
    SemaValue value = spec.defaultValue;
    if (value.kind != SemaValue::Kind::None &&
        !convertArgument(callee, spec, value, graph, diags))
      ok = false; // a default of the wrong type: a bug in a signature
    out[spec.name] = value;
  }
  return ok;
}

} // namespace dlc
