//===- Diagnostics.h - source files, locations and error reporting --------===//
//
// Every message dlc prints about a .dl file goes through DiagnosticEngine:
//
//   model.dl:7:3: error: conv2d expects an input of rank 3 [H, W, C], got ...
//       conv2d(32, 3, padding=same)
//       ^
//   note: declare the input as f32[28, 28, 1] or add reshape(...) before it
//
//===----------------------------------------------------------------------===//
#ifndef DLC_FRONTEND_DIAGNOSTICS_H
#define DLC_FRONTEND_DIAGNOSTICS_H

#include <cstddef>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace dlc {

/// One loaded source file. Owned by a SourceManager; pointers stay valid.
class SourceFile {
public:
  SourceFile(std::string path, std::string text);
  const std::string &path() const { return path_; }
  const std::string &text() const { return text_; }
  /// The text of 1-based line `line`, without its newline ("" if out of range).
  std::string_view lineText(unsigned line) const;
  unsigned lineCount() const { return lineStarts_.size(); }

private:
  std::string path_;
  std::string text_;
  std::vector<size_t> lineStarts_;
};

/// A position in a source file; line and column are 1-based. A default
/// location (file == nullptr) prints without file:line:col.
struct SourceLoc {
  const SourceFile *file = nullptr;
  unsigned line = 0;
  unsigned col = 0;
  bool valid() const { return file != nullptr && line > 0; }
};

/// Owns every file read during one compile (the main file and its imports).
class SourceManager {
public:
  /// The largest .dl file read (64 MiB).
  static constexpr long long kMaxSourceBytes = 64ll << 20;

  /// Reads the regular file `path` (not a folder or device, at most
  /// kMaxSourceBytes); returns nullptr and sets `error` when it cannot.
  const SourceFile *load(const std::string &path, std::string &error);
  /// Adds an in-memory file (tests, stdin).
  const SourceFile *add(std::string path, std::string text);

private:
  std::vector<std::unique_ptr<SourceFile>> files_;
};

enum class Severity { Error, Warning, Note };

/// Prints diagnostics as they are reported and counts them. After
/// `maxErrors` errors further ones are dropped and one line says so.
class DiagnosticEngine {
public:
  explicit DiagnosticEngine(std::ostream &os, unsigned maxErrors = 20)
      : os_(os), maxErrors_(maxErrors) {}

  /// Reports an error at `loc`. `hint`, when not empty, is printed as a
  /// `note:` line under the caret.
  void error(SourceLoc loc, const std::string &message,
             const std::string &hint = "");
  void warning(SourceLoc loc, const std::string &message,
               const std::string &hint = "");
  /// A note that points at another place (e.g. "first defined here").
  void note(SourceLoc loc, const std::string &message);

  unsigned errorCount() const { return errors_; }
  bool hasErrors() const { return errors_ > 0; }
  /// True once the error limit is reached: callers should stop early.
  bool tooManyErrors() const { return errors_ >= maxErrors_; }

private:
  void report(Severity severity, SourceLoc loc, const std::string &message,
              const std::string &hint);
  std::ostream &os_;
  unsigned maxErrors_;
  unsigned errors_ = 0;
  bool limitAnnounced_ = false;
};

/// `text` cut to 600 characters with a note of how much was cut: messages
/// quote user text (names, values, arguments), and a huge one must not
/// swamp the error.
std::string shortenForMessage(const std::string &text);

/// The closest candidate to `word` by edit distance, or "" if none is close
/// enough to be a plausible typo. Used for "did you mean" hints.
std::string closestMatch(std::string_view word,
                         const std::vector<std::string> &candidates);

} // namespace dlc

#endif // DLC_FRONTEND_DIAGNOSTICS_H
