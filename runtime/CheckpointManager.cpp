//===- CheckpointManager.cpp - training checkpoints in a directory --------===//
//
// File naming, the training state as "__metadata__" strings, pruning, and
// the search for the newest complete checkpoint.
//
//===----------------------------------------------------------------------===//
#include "runtime/CheckpointManager.h"

#include "runtime/AtomicFile.h"
#include "runtime/Safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <system_error>
#include <tuple>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dlc::rt {
namespace {

const char *const kFormat = "dlc-checkpoint-1";
const char *const kPrefix = "ckpt-";
const char *const kSuffix = ".safetensors";

// Metadata keys.
const char *const kKeyFormat = "dlc.format";
const char *const kKeyModel = "dlc.model";
const char *const kKeySignature = "dlc.signature";
const char *const kKeyEpoch = "dlc.epoch";
const char *const kKeyStep = "dlc.step_in_epoch";
const char *const kKeyGlobalStep = "dlc.global_step";
const char *const kKeySeed = "dlc.seed";
const char *const kKeyEarlyStopping = "dlc.early_stopping";
const std::string kMetricPrefix = "dlc.metric.";
const std::string kValuePrefix = "dlc.value.";

bool startsWith(const std::string &s, const std::string &prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Parses 1 to `maxDigits` decimal digits (no sign) into `value`; the caller
/// picks maxDigits so that no overflow is possible except for uint64 (20
/// digits), which is checked.
bool parseUnsigned(const std::string &text, size_t maxDigits, uint64_t &value) {
  if (text.empty() || text.size() > maxDigits)
    return false;
  value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    uint64_t digit = uint64_t(c - '0');
    if (value > (UINT64_MAX - digit) / 10)
      return false;
    value = value * 10 + digit;
  }
  return true;
}

/// A non-negative int64 in decimal (at most 18 digits: cannot overflow).
bool parseCount(const std::string &text, int64_t &value) {
  uint64_t v;
  if (!parseUnsigned(text, 18, v))
    return false;
  value = int64_t(v);
  return true;
}

/// The 16 hex digits of a double's IEEE bits: exact, NaN payloads included.
std::string encodeDouble(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, bits);
  return buf;
}

bool decodeDouble(const std::string &text, double &value) {
  if (text.size() != 16)
    return false;
  uint64_t bits = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      digit = c - 'A' + 10;
    else
      return false;
    bits = (bits << 4) | uint64_t(digit);
  }
  std::memcpy(&value, &bits, sizeof value);
  return true;
}

/// Comma-separated encodeDouble()s.
std::string encodeDoubles(const double *values, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i)
    out += (i ? "," : "") + encodeDouble(values[i]);
  return out;
}

bool decodeDoubles(const std::string &text, double *values, size_t count) {
  size_t pos = 0;
  for (size_t i = 0; i < count; ++i) {
    size_t end = i + 1 < count ? text.find(',', pos) : text.size();
    if (end == std::string::npos ||
        !decodeDouble(text.substr(pos, end - pos), values[i]))
      return false;
    pos = end + 1;
  }
  return true;
}

/// Parses "ckpt-<epoch>-<step>.safetensors"; false for any other name.
bool parseFileName(const std::string &name, int64_t &epoch, int64_t &step) {
  if (!startsWith(name, kPrefix) || !endsWith(name, kSuffix))
    return false;
  size_t begin = std::strlen(kPrefix);
  size_t end = name.size() - std::strlen(kSuffix);
  if (end <= begin)
    return false;
  std::string middle = name.substr(begin, end - begin);
  size_t dash = middle.find('-');
  if (dash == std::string::npos)
    return false;
  return parseCount(middle.substr(0, dash), epoch) &&
         parseCount(middle.substr(dash + 1), step);
}

/// The training metadata of a checkpoint.
std::map<std::string, std::string> encodeState(const TrainState &state,
                                               const std::string &model,
                                               const std::string &signature) {
  std::map<std::string, std::string> meta;
  meta[kKeyFormat] = kFormat;
  meta[kKeyModel] = model;
  meta[kKeySignature] = signature;
  meta[kKeyEpoch] = std::to_string(state.epoch);
  meta[kKeyStep] = std::to_string(state.stepInEpoch);
  meta[kKeyGlobalStep] = std::to_string(state.globalStep);
  meta[kKeySeed] = std::to_string(state.seed);
  meta[kKeyEarlyStopping] =
      encodeDoubles(state.earlyStopping.data(), state.earlyStopping.size());
  for (const auto &[name, totals] : state.metrics) {
    double pair[2] = {totals.total, totals.count};
    meta[kMetricPrefix + name] = encodeDoubles(pair, 2);
  }
  for (const auto &[name, value] : state.values)
    meta[kValuePrefix + name] = encodeDouble(value);
  return meta;
}

/// Checks the format tag; false with what is wrong.
bool checkFormat(const std::map<std::string, std::string> &meta,
                 std::string &what) {
  auto it = meta.find(kKeyFormat);
  if (it == meta.end()) {
    what = "not a dlc training checkpoint (its metadata has no '" +
           std::string(kKeyFormat) + "')";
    return false;
  }
  if (it->second != kFormat) {
    what = "unsupported checkpoint format '" + it->second + "' (expected '" +
           kFormat + "')";
    return false;
  }
  return true;
}

/// Reads the training state from a checkpoint's metadata; false with what
/// is wrong.
bool decodeState(const std::map<std::string, std::string> &meta,
                 TrainState &state, std::string &what) {
  if (!checkFormat(meta, what))
    return false;
  auto field = [&](const char *key, std::string &out) {
    auto it = meta.find(key);
    if (it == meta.end()) {
      what = "the training state lacks '" + std::string(key) + "'";
      return false;
    }
    out = it->second;
    return true;
  };
  auto bad = [&](const char *key, const std::string &text) {
    what = "the training state has an invalid '" + std::string(key) + "': '" +
           text.substr(0, 64) + "'";
    return false;
  };
  TrainState out;
  std::string text;
  if (!field(kKeyEpoch, text))
    return false;
  if (!parseCount(text, out.epoch))
    return bad(kKeyEpoch, text);
  if (!field(kKeyStep, text))
    return false;
  if (!parseCount(text, out.stepInEpoch))
    return bad(kKeyStep, text);
  if (!field(kKeyGlobalStep, text))
    return false;
  if (!parseCount(text, out.globalStep))
    return bad(kKeyGlobalStep, text);
  if (!field(kKeySeed, text))
    return false;
  if (!parseUnsigned(text, 20, out.seed))
    return bad(kKeySeed, text);
  if (!field(kKeyEarlyStopping, text))
    return false;
  if (!decodeDoubles(text, out.earlyStopping.data(), out.earlyStopping.size()))
    return bad(kKeyEarlyStopping, text);
  for (const auto &[key, value] : meta) {
    if (startsWith(key, kMetricPrefix)) {
      double pair[2];
      if (!decodeDoubles(value, pair, 2))
        return bad(key.c_str(), value);
      out.metrics[key.substr(kMetricPrefix.size())] = {pair[0], pair[1]};
    } else if (startsWith(key, kValuePrefix)) {
      double v;
      if (!decodeDouble(value, v))
        return bad(key.c_str(), value);
      out.values[key.substr(kValuePrefix.size())] = v;
    }
  }
  state = std::move(out);
  return true;
}

std::string metaOr(const std::map<std::string, std::string> &meta,
                   const char *key) {
  auto it = meta.find(key);
  return it == meta.end() ? "<none>" : it->second;
}

} // namespace

std::string CheckpointManager::fileName(int64_t epoch, int64_t stepInEpoch) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s%06lld-%08lld%s", kPrefix,
                static_cast<long long>(epoch),
                static_cast<long long>(stepInEpoch), kSuffix);
  return buf;
}

bool CheckpointManager::open(const std::string &dir,
                             const std::string &modelName,
                             const std::string &signature, std::string &error) {
  if (dir.empty()) {
    error = "checkpoint directory: the path is empty; hint: pass a "
            "directory with --checkpoint-dir";
    return false;
  }
  std::string normalized = dir;
  while (normalized.size() > 1 && normalized.back() == '/')
    normalized.pop_back();

  struct stat st;
  if (::stat(normalized.c_str(), &st) != 0) {
    std::error_code ec;
    std::filesystem::create_directories(normalized, ec);
    if (ec) {
      error = "cannot create the checkpoint directory '" + normalized +
              "': " + ec.message() +
              "; hint: choose a writable location with --checkpoint-dir";
      return false;
    }
    if (::stat(normalized.c_str(), &st) != 0) {
      error = "cannot create the checkpoint directory '" + normalized +
              "': " + std::strerror(errno);
      return false;
    }
  }
  if (!S_ISDIR(st.st_mode)) {
    error = "the checkpoint directory '" + normalized +
            "' is not a directory; hint: choose another path with "
            "--checkpoint-dir";
    return false;
  }
  dir_ = normalized;
  modelName_ = modelName;
  signature_ = signature;

  // Remove ".<ckpt name>.tmp.<pid>.<n>" left by killed writers.
  std::set<std::string> targets;
  if (DIR *handle = ::opendir(dir_.c_str())) {
    const std::string marker = std::string(kSuffix) + ".tmp.";
    while (struct dirent *entry = ::readdir(handle)) {
      std::string name = entry->d_name;
      size_t at = name.find(marker);
      if (name.empty() || name[0] != '.' || at == std::string::npos)
        continue;
      std::string base = name.substr(1, at - 1 + std::strlen(kSuffix));
      int64_t epoch, step;
      if (parseFileName(base, epoch, step))
        targets.insert(base);
    }
    ::closedir(handle);
  }
  for (const std::string &base : targets)
    removeStaleTemporaries(dir_ + "/" + base);
  return true;
}

std::vector<std::string> CheckpointManager::listCheckpoints() const {
  std::vector<std::tuple<int64_t, int64_t, std::string>> found;
  if (DIR *handle = ::opendir(dir_.c_str())) {
    while (struct dirent *entry = ::readdir(handle)) {
      std::string name = entry->d_name;
      int64_t epoch, step;
      if (parseFileName(name, epoch, step))
        found.emplace_back(epoch, step, name);
    }
    ::closedir(handle);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> names;
  for (const auto &entry : found)
    names.push_back(std::get<2>(entry));
  return names;
}

void CheckpointManager::prune(const std::string &justWritten) const {
  std::vector<std::string> names = listCheckpoints();
  auto it = std::find(names.begin(), names.end(), justWritten);
  if (it == names.end())
    return; // Cannot happen after a successful save; delete nothing.
  size_t index = size_t(it - names.begin());
  std::vector<std::string> doomed(names.begin() + index + 1, names.end());
  if (keepLast_ > 0 && index + 1 > keepLast_)
    doomed.insert(doomed.end(), names.begin(),
                  names.begin() + (index + 1 - keepLast_));
  // Failures leave an extra file behind, which is harmless.
  for (const std::string &name : doomed)
    ::unlink((dir_ + "/" + name).c_str());
}

bool CheckpointManager::save(const TrainState &state,
                             const std::vector<NamedTensor> &tensors,
                             std::string &error) {
  if (dir_.empty()) {
    error = "cannot save a checkpoint: no checkpoint directory was opened";
    return false;
  }
  if (state.epoch < 0 || state.stepInEpoch < 0 || state.globalStep < 0) {
    error = "cannot save a checkpoint: negative epoch or step (epoch " +
            std::to_string(state.epoch) + ", step " +
            std::to_string(state.stepInEpoch) + ", global step " +
            std::to_string(state.globalStep) + ")";
    return false;
  }
  std::string name = fileName(state.epoch, state.stepInEpoch);
  std::string path = dir_ + "/" + name;
  std::vector<TensorView> views;
  views.reserve(tensors.size());
  for (const NamedTensor &t : tensors)
    views.push_back({t.name, t.dtype, t.shape, t.data, t.bytes});
  std::string why;
  if (!writeSafetensors(path, views, encodeState(state, modelName_, signature_),
                        why)) {
    error = why + " (no checkpoint was saved; the earlier checkpoints in '" +
            dir_ + "' are untouched)";
    return false;
  }
  prune(name);
  return true;
}

bool CheckpointManager::findLatest(std::string &path,
                                   std::vector<std::string> &warnings,
                                   std::string &error) const {
  if (dir_.empty()) {
    error = "cannot look for a checkpoint: no checkpoint directory was opened";
    return false;
  }
  std::vector<std::string> names = listCheckpoints();
  if (names.empty()) {
    error = "no checkpoint in '" + dir_ +
            "' (no ckpt-<epoch>-<step>.safetensors file); hint: train "
            "without --resume first, or pass the directory that holds them";
    return false;
  }
  std::vector<std::string> skipped;
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    std::string candidate = dir_ + "/" + *it;
    SafetensorsFile file;
    std::string why;
    TrainState state;
    int64_t epoch = 0, step = 0;
    parseFileName(*it, epoch, step);
    if (!file.open(candidate, why)) {
      // The message already names the file.
    } else if (!decodeState(file.metadata(), state, why)) {
      why = candidate + ": " + why;
    } else if (state.epoch != epoch || state.stepInEpoch != step) {
      why = candidate + ": its name says epoch " + std::to_string(epoch) +
            ", step " + std::to_string(step) + " but it holds epoch " +
            std::to_string(state.epoch) + ", step " +
            std::to_string(state.stepInEpoch);
    } else {
      path = candidate;
      for (const std::string &line : skipped)
        warnings.push_back("skipping a damaged checkpoint: " + line);
      return true;
    }
    skipped.push_back(why);
  }
  error = "no complete checkpoint in '" + dir_ + "': all " +
          std::to_string(names.size()) + " are damaged";
  for (const std::string &line : skipped)
    error += "\n  " + line;
  error += "\nhint: train without --resume to start over";
  return false;
}

bool CheckpointManager::load(const std::string &path, TrainState &state,
                             const std::vector<NamedTensor> &tensors,
                             std::string &error) const {
  SafetensorsFile file;
  if (!file.open(path, error))
    return false;
  const auto &meta = file.metadata();
  std::string what;
  if (!checkFormat(meta, what)) {
    error = path + ": " + what +
            "; hint: pass a checkpoint directory written by this program";
    return false;
  }

  std::vector<TensorSpec> specs;
  specs.reserve(tensors.size());
  std::set<std::string> seen;
  for (const NamedTensor &t : tensors) {
    if (!seen.insert(t.name).second) {
      error = "cannot load '" + path + "': the model lists tensor '" + t.name +
              "' twice";
      return false;
    }
    if (!t.data && t.bytes > 0) {
      error = "cannot load '" + path + "': tensor '" + t.name +
              "' has no buffer to read into";
      return false;
    }
    specs.push_back({t.name, t.dtype, t.shape});
  }
  std::string mismatch;
  bool compatible = checkCompatible(file, specs, mismatch);

  std::string model = metaOr(meta, kKeyModel);
  std::string signature = metaOr(meta, kKeySignature);
  if (model != modelName_ || signature != signature_) {
    error = path + ": the checkpoint belongs to model '" + model +
            "' (signature " + signature + "), not to this model '" +
            modelName_ + "' (signature " + signature_ + ")";
    if (!compatible)
      error += "\n" + mismatch;
    else
      error += "; its tensors match, but the model's graph or options "
               "differ\nhint: use a checkpoint of this model or start without "
               "--resume";
    return false;
  }
  if (!compatible) {
    error = mismatch;
    return false;
  }

  TrainState loaded;
  if (!decodeState(meta, loaded, what)) {
    error = path + ": " + what +
            "; hint: the file is damaged, resume from an earlier checkpoint";
    return false;
  }
  for (const NamedTensor &t : tensors)
    if (!file.read(t.name, t.data, t.bytes, error))
      return false;
  state = std::move(loaded);
  return true;
}

} // namespace dlc::rt
