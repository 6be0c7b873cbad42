//===- Diagnostics.cpp ----------------------------------------------------===//
#include "frontend/Diagnostics.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sys/stat.h>

namespace dlc {

SourceFile::SourceFile(std::string path, std::string text)
    : path_(std::move(path)), text_(std::move(text)) {
  lineStarts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n' && i + 1 <= text_.size())
      lineStarts_.push_back(i + 1);
}

std::string_view SourceFile::lineText(unsigned line) const {
  if (line == 0 || line > lineStarts_.size())
    return {};
  size_t begin = lineStarts_[line - 1];
  size_t end = text_.find('\n', begin);
  if (end == std::string::npos)
    end = text_.size();
  std::string_view view(text_);
  view = view.substr(begin, end - begin);
  if (!view.empty() && view.back() == '\r')
    view.remove_suffix(1);
  return view;
}

const SourceFile *SourceManager::load(const std::string &path,
                                      std::string &error) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) {
    error = "cannot open file '" + path + "': " + std::strerror(errno);
    return nullptr;
  }
  if (!S_ISREG(info.st_mode)) {
    error = "cannot read '" + path + "': " +
            (S_ISDIR(info.st_mode) ? "it is a folder" : "it is not a file");
    return nullptr;
  }
  if (info.st_size > kMaxSourceBytes) {
    error = "cannot read '" + path + "': it is " +
            std::to_string(info.st_size >> 20) + " MiB, more than the " +
            std::to_string(kMaxSourceBytes >> 20) + " MiB a .dl file may have";
    return nullptr;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open file '" + path + "': " + std::strerror(errno);
    return nullptr;
  }
  // Read at most the limit even if the file grew since stat().
  std::string text(static_cast<size_t>(info.st_size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (in.bad()) {
    error = "cannot read file '" + path + "'";
    return nullptr;
  }
  return add(path, std::move(text));
}

const SourceFile *SourceManager::add(std::string path, std::string text) {
  files_.push_back(
      std::make_unique<SourceFile>(std::move(path), std::move(text)));
  return files_.back().get();
}

std::string shortenForMessage(const std::string &text) {
  const size_t limit = 600;
  if (text.size() <= limit)
    return text;
  return text.substr(0, limit) + "... (" + std::to_string(text.size() - limit) +
         " more characters)";
}

static const char *severityName(Severity severity) {
  switch (severity) {
  case Severity::Error:
    return "error";
  case Severity::Warning:
    return "warning";
  case Severity::Note:
    return "note";
  }
  return "error";
}

/// Prints the source line with tabs kept (so the caret lines up) and
/// non-printable bytes shown as '?'; very long lines are cut around the
/// column.
static void printSourceLine(std::ostream &os, SourceLoc loc) {
  std::string_view line = loc.file->lineText(loc.line);
  size_t col = loc.col > 0 ? loc.col - 1 : 0;
  size_t begin = 0;
  const size_t maxWidth = 160;
  if (line.size() > maxWidth && col > maxWidth / 2)
    begin = std::min(col - maxWidth / 2, line.size());
  std::string_view shown = line.substr(begin, maxWidth);
  std::string text(shown);
  for (char &c : text)
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
      c = '?';
  os << "    " << text << "\n    ";
  // One space per character: UTF-8 continuation bytes take no column.
  for (size_t i = begin; i < col && i < begin + shown.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(shown[i - begin]);
    if ((c & 0xC0) == 0x80)
      continue;
    os << (c == '\t' ? '\t' : ' ');
  }
  os << "^\n";
}

void DiagnosticEngine::report(Severity severity, SourceLoc loc,
                              const std::string &message,
                              const std::string &hint) {
  if (severity == Severity::Error) {
    if (errors_ >= maxErrors_) {
      if (!limitAnnounced_) {
        os_ << "error: too many errors (" << maxErrors_ << "), stopping here\n";
        limitAnnounced_ = true;
      }
      ++errors_;
      return;
    }
    ++errors_;
  } else if (errors_ >= maxErrors_) {
    return;
  }
  if (loc.valid())
    os_ << loc.file->path() << ":" << loc.line << ":" << loc.col << ": ";
  os_ << severityName(severity) << ": " << shortenForMessage(message) << "\n";
  if (loc.valid())
    printSourceLine(os_, loc);
  if (!hint.empty())
    os_ << "note: " << shortenForMessage(hint) << "\n";
}

void DiagnosticEngine::error(SourceLoc loc, const std::string &message,
                             const std::string &hint) {
  report(Severity::Error, loc, message, hint);
}

void DiagnosticEngine::warning(SourceLoc loc, const std::string &message,
                               const std::string &hint) {
  report(Severity::Warning, loc, message, hint);
}

void DiagnosticEngine::note(SourceLoc loc, const std::string &message) {
  if (errors_ > maxErrors_)
    return;
  if (loc.valid())
    os_ << loc.file->path() << ":" << loc.line << ":" << loc.col << ": ";
  os_ << "note: " << shortenForMessage(message) << "\n";
}

/// Edit distance counting an adjacent transposition as one edit (optimal
/// string alignment), so "rleu" is one typo away from "relu".
static size_t editDistance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  std::vector<size_t> d((n + 1) * (m + 1));
  auto at = [&](size_t i, size_t j) -> size_t & { return d[i * (m + 1) + j]; };
  for (size_t i = 0; i <= n; ++i)
    at(i, 0) = i;
  for (size_t j = 0; j <= m; ++j)
    at(0, j) = j;
  for (size_t i = 1; i <= n; ++i)
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      at(i, j) = std::min(
          {at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        at(i, j) = std::min(at(i, j), at(i - 2, j - 2) + 1);
    }
  return at(n, m);
}

std::string closestMatch(std::string_view word,
                         const std::vector<std::string> &candidates) {
  if (word.size() > 64)
    return "";
  std::string best;
  size_t bestDistance = ~size_t(0);
  for (const std::string &candidate : candidates) {
    if (candidate.size() > 128)
      continue;
    size_t d = editDistance(word, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  // Allow about one typo per three characters, at least one.
  size_t allowed = std::max<size_t>(1, word.size() / 3);
  if (best.empty() || bestDistance > allowed || bestDistance == 0)
    return bestDistance == 0 ? best : "";
  return best;
}

} // namespace dlc
