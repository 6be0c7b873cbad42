//===- CheckpointManagerTest.cpp - training checkpoints in a directory ----===//
//
// Bit-exact round trips, pruning, skipping damaged files, refusing another
// model's checkpoint, failed saves that keep the earlier checkpoints, and
// processes killed with SIGKILL in the middle of saving.
//
//===----------------------------------------------------------------------===//
#include "runtime/CheckpointManager.h"

#include "test/unit/TempDirTest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

using namespace dlc::rt;
namespace fs = std::filesystem;

namespace {

using namespace dlc::testing;

class CheckpointManagerTest : public dlc::testing::TempDirTest {};

float floatFromBits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

double doubleFromBits(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}

uint64_t bitsOf(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  return bits;
}

/// A small model: a dense layer with Adam slots and a step counter.
struct TinyModel {
  std::vector<float> kernel = std::vector<float>(12),
                     bias = std::vector<float>(3);
  std::vector<float> kernelM = std::vector<float>(12),
                     kernelV = std::vector<float>(12);
  std::vector<int64_t> counter = std::vector<int64_t>(1);

  std::vector<NamedTensor> tensors() {
    return {{"dense.kernel", "F32", {4, 3}, kernel.data(), 48},
            {"dense.bias", "F32", {3}, bias.data(), 12},
            {"dense.kernel/adam.m", "F32", {4, 3}, kernelM.data(), 48},
            {"dense.kernel/adam.v", "F32", {4, 3}, kernelV.data(), 48},
            {"optimizer/iterations", "I64", {1}, counter.data(), 8}};
  }
  /// Fills every buffer with values derived from `seed`.
  void fill(float seed) {
    for (size_t i = 0; i < kernel.size(); ++i) {
      kernel[i] = seed + float(i) * 0.25f;
      kernelM[i] = -seed * float(i);
      kernelV[i] = seed / float(i + 1);
    }
    for (size_t i = 0; i < bias.size(); ++i)
      bias[i] = seed * 3 - float(i);
    counter[0] = int64_t(seed) * 7;
  }
};

bool sameBits(const std::vector<float> &a, const std::vector<float> &b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TrainState stateAt(int64_t epoch, int64_t step) {
  TrainState s;
  s.epoch = epoch;
  s.stepInEpoch = step;
  s.globalStep = epoch * 100 + step;
  s.seed = 1234;
  return s;
}

//===----------------------------------------------------------------------===//
// Round trip, naming and pruning
//===----------------------------------------------------------------------===//

TEST_F(CheckpointManagerTest, RoundTripIsBitExactIncludingNaNPayloads) {
  CheckpointManager mgr;
  std::string error;
  ASSERT_TRUE(mgr.open(path("run/ckpts"), "mlp", "sig-1", error)) << error;
  EXPECT_TRUE(fs::is_directory(path("run/ckpts"))); // Created with parents.

  TinyModel saved;
  saved.fill(1.5f);
  saved.kernel[0] = floatFromBits(0x7fc00001u); // Quiet NaN, payload 1.
  saved.kernel[1] = floatFromBits(0xffa12345u); // Signalling, negative.
  saved.kernel[2] = floatFromBits(0x80000000u); // -0.
  saved.kernel[3] = floatFromBits(0x00000001u); // Smallest denormal.
  saved.bias[0] = std::numeric_limits<float>::infinity();
  saved.counter[0] = INT64_MIN;

  TrainState state;
  state.epoch = 3;
  state.stepInEpoch = 117;
  state.globalStep = 1992;
  state.seed = UINT64_MAX;
  state.earlyStopping = {2, doubleFromBits(0x7ff8dead0000beefull), 1, 0, 1};
  state.metrics["loss"] = {123.456789012345678, 1024};
  state.metrics["val accuracy \"x\""] = {doubleFromBits(0xfff0000000000001ull),
                                         0.1 + 0.2};
  state.values["lr.plateau_best"] = -0.0;
  ASSERT_TRUE(mgr.save(state, saved.tensors(), error)) << error;
  EXPECT_EQ(listDir(), std::vector<std::string>{"run"});
  EXPECT_TRUE(fs::exists(path("run/ckpts/ckpt-000003-00000117.safetensors")));

  std::string latest;
  std::vector<std::string> warnings;
  ASSERT_TRUE(mgr.findLatest(latest, warnings, error)) << error;
  EXPECT_EQ(latest, path("run/ckpts/ckpt-000003-00000117.safetensors"));
  EXPECT_TRUE(warnings.empty());

  TinyModel loaded;
  TrainState got;
  ASSERT_TRUE(mgr.load(latest, got, loaded.tensors(), error)) << error;
  EXPECT_TRUE(sameBits(loaded.kernel, saved.kernel));
  EXPECT_TRUE(sameBits(loaded.bias, saved.bias));
  EXPECT_TRUE(sameBits(loaded.kernelM, saved.kernelM));
  EXPECT_TRUE(sameBits(loaded.kernelV, saved.kernelV));
  EXPECT_EQ(loaded.counter, saved.counter);
  EXPECT_EQ(got.epoch, 3);
  EXPECT_EQ(got.stepInEpoch, 117);
  EXPECT_EQ(got.globalStep, 1992);
  EXPECT_EQ(got.seed, UINT64_MAX);
  for (size_t i = 0; i < state.earlyStopping.size(); ++i)
    EXPECT_EQ(bitsOf(got.earlyStopping[i]), bitsOf(state.earlyStopping[i]))
        << i;
  ASSERT_EQ(got.metrics.size(), 2u);
  for (const auto &[name, totals] : state.metrics) {
    ASSERT_TRUE(got.metrics.count(name)) << name;
    EXPECT_EQ(bitsOf(got.metrics[name].total), bitsOf(totals.total)) << name;
    EXPECT_EQ(bitsOf(got.metrics[name].count), bitsOf(totals.count)) << name;
  }
  ASSERT_EQ(got.values.size(), 1u);
  EXPECT_EQ(bitsOf(got.values["lr.plateau_best"]), bitsOf(-0.0));
}

TEST_F(CheckpointManagerTest, FileNamesSortByEpochThenStep) {
  EXPECT_EQ(CheckpointManager::fileName(0, 0),
            "ckpt-000000-00000000.safetensors");
  EXPECT_EQ(CheckpointManager::fileName(12, 3456),
            "ckpt-000012-00003456.safetensors");
  EXPECT_LT(CheckpointManager::fileName(2, 99999),
            CheckpointManager::fileName(10, 0));
}

TEST_F(CheckpointManagerTest, KeepsTheLastTwoAndNeverTheOneJustWritten) {
  CheckpointManager mgr; // keep_last = 2
  std::string error;
  ASSERT_TRUE(mgr.open(dir_, "mlp", "sig", error)) << error;
  TinyModel model;
  // Steps sort numerically, not as text: 9 < 10 < 100.
  for (int64_t step : {0, 9, 10, 100}) {
    model.fill(float(step));
    ASSERT_TRUE(mgr.save(stateAt(1, step), model.tensors(), error)) << error;
  }
  EXPECT_EQ(listDir(),
            (std::vector<std::string>{CheckpointManager::fileName(1, 10),
                                      CheckpointManager::fileName(1, 100)}));
  // A later epoch pushes out the oldest.
  ASSERT_TRUE(mgr.save(stateAt(2, 0), model.tensors(), error)) << error;
  EXPECT_EQ(listDir(),
            (std::vector<std::string>{CheckpointManager::fileName(1, 100),
                                      CheckpointManager::fileName(2, 0)}));
  // Saving an earlier point (a run resumed from an older checkpoint) removes
  // the abandoned newer ones: the file just written becomes the latest.
  ASSERT_TRUE(mgr.save(stateAt(1, 50), model.tensors(), error)) << error;
  std::string latest;
  std::vector<std::string> warnings;
  ASSERT_TRUE(mgr.findLatest(latest, warnings, error)) << error;
  EXPECT_EQ(latest, path(CheckpointManager::fileName(1, 50)));
  EXPECT_EQ(listDir(),
            std::vector<std::string>{CheckpointManager::fileName(1, 50)});

  CheckpointManager keepOne(1), keepAll(0);
  ASSERT_TRUE(keepOne.open(path("one"), "mlp", "sig", error)) << error;
  ASSERT_TRUE(keepAll.open(path("all"), "mlp", "sig", error)) << error;
  for (int64_t step = 0; step < 4; ++step) {
    ASSERT_TRUE(keepOne.save(stateAt(0, step), model.tensors(), error));
    ASSERT_TRUE(keepAll.save(stateAt(0, step), model.tensors(), error));
  }
  auto namesIn = [](const std::string &dir) {
    std::vector<std::string> out;
    for (const auto &entry : fs::directory_iterator(dir))
      out.push_back(entry.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(namesIn(path("one")),
            std::vector<std::string>{CheckpointManager::fileName(0, 3)});
  EXPECT_EQ(namesIn(path("all")).size(), 4u);
}

TEST_F(CheckpointManagerTest, PruningIgnoresOtherFiles) {
  CheckpointManager mgr(1);
  std::string error;
  ASSERT_TRUE(mgr.open(dir_, "mlp", "sig", error)) << error;
  for (const char *name : {"notes.txt", "ckpt-1.safetensors",
                           "ckpt-000001-0000000x.safetensors", "ckpt--.bin"})
    std::ofstream(path(name)) << "keep me";
  TinyModel model;
  ASSERT_TRUE(mgr.save(stateAt(0, 1), model.tensors(), error)) << error;
  ASSERT_TRUE(mgr.save(stateAt(0, 2), model.tensors(), error)) << error;
  EXPECT_EQ(listDir(), (std::vector<std::string>{
                           "ckpt--.bin", "ckpt-000000-00000002.safetensors",
                           "ckpt-000001-0000000x.safetensors",
                           "ckpt-1.safetensors", "notes.txt"}));
}

//===----------------------------------------------------------------------===//
// Damaged files and other models
//===----------------------------------------------------------------------===//

TEST_F(CheckpointManagerTest, FindLatestSkipsATruncatedNewestFile) {
  CheckpointManager mgr;
  std::string error;
  ASSERT_TRUE(mgr.open(dir_, "mlp", "sig", error)) << error;
  TinyModel model;
  model.fill(1);
  ASSERT_TRUE(mgr.save(stateAt(0, 10), model.tensors(), error)) << error;
  model.fill(2);
  ASSERT_TRUE(mgr.save(stateAt(0, 20), model.tensors(), error)) << error;
  std::string newest = path(CheckpointManager::fileName(0, 20));
  std::string bytes = readFile(newest);
  ASSERT_EQ(::truncate(newest.c_str(), off_t(bytes.size() - 5)), 0);

  std::string latest;
  std::vector<std::string> warnings;
  ASSERT_TRUE(mgr.findLatest(latest, warnings, error)) << error;
  EXPECT_EQ(latest, path(CheckpointManager::fileName(0, 10)));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find(newest), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("skipping"), std::string::npos) << warnings[0];

  TinyModel loaded;
  TrainState state;
  ASSERT_TRUE(mgr.load(latest, state, loaded.tensors(), error)) << error;
  model.fill(1);
  EXPECT_TRUE(sameBits(loaded.kernel, model.kernel));
  EXPECT_EQ(state.stepInEpoch, 10);

  // The damaged file itself is refused by load, naming it.
  EXPECT_FALSE(mgr.load(newest, state, loaded.tensors(), error));
  EXPECT_NE(error.find(newest), std::string::npos) << error;
  EXPECT_EQ(state.stepInEpoch, 10); // Unchanged.

  // When every file is damaged, the error lists each one.
  std::string older = path(CheckpointManager::fileName(0, 10));
  ASSERT_EQ(::truncate(older.c_str(), 7), 0);
  warnings.clear();
  EXPECT_FALSE(mgr.findLatest(latest, warnings, error));
  EXPECT_NE(error.find("no complete checkpoint in '" + dir_ + "'"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find(newest), std::string::npos) << error;
  EXPECT_NE(error.find(older), std::string::npos) << error;
}

TEST_F(CheckpointManagerTest, FindLatestSkipsFilesWithoutATrainingState) {
  CheckpointManager mgr;
  std::string error;
  ASSERT_TRUE(mgr.open(dir_, "mlp", "sig", error)) << error;
  TinyModel model;
  ASSERT_TRUE(mgr.save(stateAt(0, 1), model.tensors(), error)) << error;
  // A valid safetensors file (weights only) under a newer checkpoint name,
  // and one whose name disagrees with its contents.
  fs::copy_file(path(CheckpointManager::fileName(0, 1)),
                path(CheckpointManager::fileName(5, 0)));
  std::string latest;
  std::vector<std::string> warnings;
  ASSERT_TRUE(mgr.findLatest(latest, warnings, error)) << error;
  EXPECT_EQ(latest, path(CheckpointManager::fileName(0, 1)));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("its name says epoch 5"), std::string::npos)
      << warnings[0];
}

TEST_F(CheckpointManagerTest, NoCheckpointIsAClearError) {
  CheckpointManager mgr;
  std::string error, latest;
  std::vector<std::string> warnings;
  EXPECT_FALSE(mgr.findLatest(latest, warnings, error));
  EXPECT_NE(error.find("no checkpoint directory was opened"),
            std::string::npos);
  ASSERT_TRUE(mgr.open(dir_, "mlp", "sig", error)) << error;
  EXPECT_FALSE(mgr.findLatest(latest, warnings, error));
  EXPECT_NE(error.find("no checkpoint in '" + dir_ + "'"), std::string::npos)
      << error;
  std::ofstream(path("file")) << "x";
  EXPECT_FALSE(mgr.open(path("file"), "mlp", "sig", error));
  EXPECT_NE(error.find("not a directory"), std::string::npos) << error;
  EXPECT_FALSE(mgr.open(path("file/sub"), "mlp", "sig", error));
  EXPECT_NE(error.find("cannot create the checkpoint directory"),
            std::string::npos)
      << error;
}

TEST_F(CheckpointManagerTest, RefusesAnotherModelsCheckpointListingChanges) {
  CheckpointManager mlp;
  std::string error;
  ASSERT_TRUE(mlp.open(dir_, "fashion_mlp", "aaaa1111", error)) << error;
  TinyModel model;
  ASSERT_TRUE(mlp.save(stateAt(0, 5), model.tensors(), error)) << error;
  std::string file = path(CheckpointManager::fileName(0, 5));
  std::string before = readFile(file);

  CheckpointManager cnn;
  ASSERT_TRUE(cnn.open(dir_, "fashion_cnn", "bbbb2222", error)) << error;
  std::vector<float> conv(3 * 3 * 1 * 16), bias(3), kernel(4 * 5);
  std::vector<NamedTensor> cnnTensors = {
      {"conv2d.kernel", "F32", {3, 3, 1, 16}, conv.data(), conv.size() * 4},
      {"dense.bias", "F32", {3}, bias.data(), 12},
      {"dense.kernel", "F32", {4, 5}, kernel.data(), kernel.size() * 4}};
  TrainState state = stateAt(9, 9);
  EXPECT_FALSE(cnn.load(file, state, cnnTensors, error));
  for (const char *part :
       {"belongs to model 'fashion_mlp' (signature aaaa1111)",
        "not to this model 'fashion_cnn' (signature bbbb2222)",
        "dense.kernel: checkpoint has F32[4, 3], the model needs F32[4, 5]",
        "missing: conv2d.kernel", "unexpected: dense.kernel/adam.m",
        "unexpected: optimizer/iterations"})
    EXPECT_NE(error.find(part), std::string::npos) << part << "\n" << error;
  EXPECT_NE(error.find(file), std::string::npos) << error;
  EXPECT_EQ(state.epoch, 9); // Unchanged.
  EXPECT_EQ(readFile(file), before);

  // Same model name and signature but a different layout: still listed.
  CheckpointManager changed;
  ASSERT_TRUE(changed.open(dir_, "fashion_mlp", "aaaa1111", error)) << error;
  std::vector<NamedTensor> fewer = model.tensors();
  fewer.pop_back();
  EXPECT_FALSE(changed.load(file, state, fewer, error));
  EXPECT_NE(error.find("does not match this model"), std::string::npos)
      << error;
  EXPECT_NE(error.find("unexpected: optimizer/iterations"), std::string::npos)
      << error;
}

TEST_F(CheckpointManagerTest, RefusesAWrongSignatureEvenWhenTensorsMatch) {
  CheckpointManager v1, v2;
  std::string error;
  ASSERT_TRUE(v1.open(dir_, "mlp", "sig-v1", error)) << error;
  ASSERT_TRUE(v2.open(dir_, "mlp", "sig-v2", error)) << error;
  TinyModel model;
  ASSERT_TRUE(v1.save(stateAt(0, 1), model.tensors(), error)) << error;
  std::string file = path(CheckpointManager::fileName(0, 1));
  TrainState state;
  EXPECT_FALSE(v2.load(file, state, model.tensors(), error));
  EXPECT_NE(error.find("signature sig-v1"), std::string::npos) << error;
  EXPECT_NE(error.find("signature sig-v2"), std::string::npos) << error;
  EXPECT_NE(error.find("its tensors match"), std::string::npos) << error;
  EXPECT_TRUE(v1.load(file, state, model.tensors(), error)) << error;
}

TEST_F(CheckpointManagerTest, RefusesAPlainSafetensorsFile) {
  CheckpointManager mgr;
  std::string error;
  ASSERT_TRUE(mgr.open(dir_, "mlp", "sig", error)) << error;
  std::string file = path("weights.safetensors");
  // A 2-element F32 tensor with no metadata, as Keras would export it.
  std::string header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],"
                       "\"data_offsets\":[0,8]}}";
  while ((8 + header.size()) % 8)
    header += ' ';
  std::string bytes;
  for (int i = 0; i < 8; ++i)
    bytes += char((header.size() >> (8 * i)) & 0xFF);
  bytes += header + std::string(8, '\0');
  std::ofstream(file, std::ios::binary) << bytes;
  std::vector<float> w(2);
  TrainState state;
  EXPECT_FALSE(mgr.load(file, state, {{"w", "F32", {2}, w.data(), 8}}, error));
  EXPECT_NE(error.find(file + ": not a dlc training checkpoint"),
            std::string::npos)
      << error;
}

TEST_F(CheckpointManagerTest, SaveRejectsBadInputsAndKeepsEarlierFiles) {
  CheckpointManager mgr;
  std::string error;
  TinyModel model;
  EXPECT_FALSE(mgr.save(stateAt(0, 0), model.tensors(), error));
  EXPECT_NE(error.find("no checkpoint directory was opened"),
            std::string::npos);
  ASSERT_TRUE(mgr.open(dir_, "mlp", "sig", error)) << error;
  ASSERT_TRUE(mgr.save(stateAt(0, 1), model.tensors(), error)) << error;
  EXPECT_FALSE(mgr.save(stateAt(-1, 0), model.tensors(), error));
  EXPECT_NE(error.find("negative epoch"), std::string::npos) << error;
  std::vector<NamedTensor> bad = model.tensors();
  bad[0].bytes = 4; // Does not match F32[4, 3].
  EXPECT_FALSE(mgr.save(stateAt(0, 2), bad, error));
  EXPECT_NE(error.find("earlier checkpoints in '" + dir_ + "' are untouched"),
            std::string::npos)
      << error;
  EXPECT_EQ(listDir(),
            std::vector<std::string>{CheckpointManager::fileName(0, 1)});
}

//===----------------------------------------------------------------------===//
// Failed writes and crashes
//===----------------------------------------------------------------------===//

/// In a child process: saves into a directory it cannot write to; exits 0
/// if the save failed with a message naming the file and the cause.
void saveToReadOnlyDirectoryAndExit(const std::string &dir) {
  dropRootPrivileges();
  CheckpointManager mgr;
  std::string error;
  if (!mgr.open(dir, "mlp", "sig", error)) {
    std::fprintf(stderr, "open failed: %s\n", error.c_str());
    std::_Exit(4);
  }
  TinyModel model;
  model.fill(9);
  if (mgr.save(stateAt(0, 2), model.tensors(), error)) {
    std::fprintf(stderr, "the save succeeded\n");
    std::_Exit(1);
  }
  std::string file = dir + "/" + CheckpointManager::fileName(0, 2);
  if (error.find("cannot write '" + file + "'") == std::string::npos ||
      error.find("read-only or not writable: " + dir) == std::string::npos ||
      error.find("are untouched") == std::string::npos) {
    std::fprintf(stderr, "unexpected message: %s\n", error.c_str());
    std::_Exit(2);
  }
  std::fprintf(stderr, "%s\n", error.c_str());
  std::_Exit(0);
}

TEST_F(CheckpointManagerTest, ReadOnlyDirectoryKeepsEarlierCheckpoints) {
  CheckpointManager mgr;
  std::string error;
  ASSERT_TRUE(mgr.open(dir_, "mlp", "sig", error)) << error;
  TinyModel model;
  model.fill(4);
  ASSERT_TRUE(mgr.save(stateAt(0, 1), model.tensors(), error)) << error;
  std::string file = path(CheckpointManager::fileName(0, 1));
  std::string before = readFile(file);
  ASSERT_EQ(::chmod(dir_.c_str(), 0555), 0);
  EXPECT_EXIT(saveToReadOnlyDirectoryAndExit(dir_),
              ::testing::ExitedWithCode(0), "read-only or not writable");
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  EXPECT_EQ(readFile(file), before);
  EXPECT_EQ(listDir(),
            std::vector<std::string>{CheckpointManager::fileName(0, 1)});
  TinyModel loaded;
  TrainState state;
  ASSERT_TRUE(mgr.load(file, state, loaded.tensors(), error)) << error;
  EXPECT_TRUE(sameBits(loaded.kernel, model.kernel));
}

/// In a child process: mounts a 64 KiB tmpfs on `dir` in a private mount
/// namespace, saves a small checkpoint, then one too big to fit. Returns 0
/// if the failure said "disk full" and the small one still loads; 77 if
/// mounting is not permitted.
int fillSmallDiskInChild(const std::string &dir) {
  if (!mountPrivateTmpfs(dir, "64k"))
    return 77;
  CheckpointManager mgr;
  std::string error;
  if (!mgr.open(dir, "mlp", "sig", error))
    return 1;
  TinyModel model;
  model.fill(3);
  if (!mgr.save(stateAt(0, 1), model.tensors(), error))
    return 1;
  std::vector<float> big(1 << 16, 2.0f);
  std::vector<NamedTensor> tensors = model.tensors();
  tensors.push_back({"huge", "F32", {1 << 16}, big.data(), big.size() * 4});
  if (mgr.save(stateAt(0, 2), tensors, error))
    return 2;
  std::fprintf(stderr, "%s\n", error.c_str());
  if (error.find("disk full") == std::string::npos ||
      error.find(CheckpointManager::fileName(0, 2)) == std::string::npos)
    return 3;
  std::string latest;
  std::vector<std::string> warnings;
  TinyModel loaded;
  TrainState state;
  if (!mgr.findLatest(latest, warnings, error) ||
      latest != dir + "/" + CheckpointManager::fileName(0, 1) ||
      !mgr.load(latest, state, loaded.tensors(), error) ||
      !sameBits(loaded.kernel, model.kernel))
    return 4;
  size_t entries = 0;
  for (const auto &entry : fs::directory_iterator(dir))
    (void)entry, ++entries;
  return entries == 1 ? 0 : 5;
}

TEST_F(CheckpointManagerTest, FullDiskKeepsEarlierCheckpoints) {
  int status = exitStatusOfChild([&] { return fillSmallDiskInChild(dir_); });
  ASSERT_GE(status, 0);
  if (status == 77)
    GTEST_SKIP() << "cannot mount a small tmpfs here (needs CAP_SYS_ADMIN)";
  EXPECT_EQ(status, 0)
      << "1: first save, 2: no error, 3: wrong message, 4: earlier "
         "checkpoint lost, 5: temporary file left";
}

/// A checkpoint whose every element says which save wrote it, so a reader
/// can tell a complete file from a mix of two.
struct MarkedCheckpoint {
  std::vector<float> weights = std::vector<float>(1 << 20); // 4 MiB
  std::vector<float> slot = std::vector<float>(1 << 18);
  std::vector<NamedTensor> tensors() {
    return {{"w",
             "F32",
             {int64_t(weights.size())},
             weights.data(),
             weights.size() * 4},
            {"w/adam.m",
             "F32",
             {int64_t(slot.size())},
             slot.data(),
             slot.size() * 4}};
  }
  void mark(int64_t step) {
    std::fill(weights.begin(), weights.end(), float(step));
    std::fill(slot.begin(), slot.end(), -float(step));
  }
  /// Whether every element carries the mark of `step`.
  bool markedWith(int64_t step) const {
    for (float v : weights)
      if (v != float(step))
        return false;
    for (float v : slot)
      if (v != -float(step))
        return false;
    return true;
  }
};

/// In a child process: saves checkpoint after checkpoint until killed.
[[noreturn]] void saveForeverInChild(const std::string &dir,
                                     int64_t firstStep) {
  CheckpointManager mgr;
  std::string error;
  if (!mgr.open(dir, "big", "sig", error))
    std::_Exit(1);
  MarkedCheckpoint ckpt;
  for (int64_t step = firstStep;; ++step) {
    ckpt.mark(step);
    TrainState state = stateAt(0, step);
    state.globalStep = step;
    if (!mgr.save(state, ckpt.tensors(), error))
      std::_Exit(2);
  }
}

TEST_F(CheckpointManagerTest, SurvivesSigkillAtRandomMomentsDuringSaves) {
  const int trials = 50;
  {
    CheckpointManager mgr;
    std::string error;
    ASSERT_TRUE(mgr.open(dir_, "big", "sig", error)) << error;
    MarkedCheckpoint ckpt;
    ckpt.mark(0);
    TrainState state = stateAt(0, 0);
    state.globalStep = 0;
    ASSERT_TRUE(mgr.save(state, ckpt.tensors(), error)) << error;
  }
  unsigned seed = 12345;
  int64_t nextStep = 1, killedMidWrite = 0, lastStep = 0;
  for (int trial = 0; trial < trials; ++trial) {
    // Delays from 0 to ~60 ms: some land before the first save completes,
    // most in the middle of one (writing, fsync, rename or pruning).
    seed = seed * 1103515245u + 12345u;
    long delayUs = long((seed >> 8) % 60000);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0)
      saveForeverInChild(dir_, nextStep);
    struct timespec pause = {0, delayUs * 1000};
    ::nanosleep(&pause, nullptr);
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid); // Reaped: pid now dead.
    ASSERT_TRUE(WIFSIGNALED(status))
        << "trial " << trial << ": child exited with " << WEXITSTATUS(status);

    bool hadTemporary = false;
    for (const std::string &name : listDir())
      hadTemporary |= name.find(".tmp.") != std::string::npos;
    killedMidWrite += hadTemporary;

    CheckpointManager mgr;
    std::string error, latest;
    ASSERT_TRUE(mgr.open(dir_, "big", "sig", error)) << error;
    for (const std::string &name : listDir())
      EXPECT_EQ(name.find(".tmp."), std::string::npos)
          << "trial " << trial << ": temporary left after open(): " << name;
    std::vector<std::string> warnings;
    ASSERT_TRUE(mgr.findLatest(latest, warnings, error))
        << "trial " << trial << ": " << error;
    EXPECT_TRUE(warnings.empty()) << "trial " << trial << ": " << warnings[0];
    MarkedCheckpoint loaded;
    TrainState state;
    ASSERT_TRUE(mgr.load(latest, state, loaded.tensors(), error))
        << "trial " << trial << ": " << error;
    EXPECT_TRUE(loaded.markedWith(state.globalStep))
        << "trial " << trial << ": " << latest << " mixes two saves";
    EXPECT_GE(state.stepInEpoch, lastStep) << "trial " << trial;
    lastStep = state.stepInEpoch;
    // The next child continues after what this one finished, as --resume.
    nextStep = state.stepInEpoch + 1;
  }
  std::printf("%lld of %d kills interrupted a write; resumed up to step "
              "%lld\n",
              static_cast<long long>(killedMidWrite), trials,
              static_cast<long long>(lastStep));
  // The kills must have hit saves in progress, or the test proves nothing.
  // (Typically 27-38 of 50 do; only "at least one" is required, so that a
  // loaded machine cannot make the test flaky.)
  EXPECT_GT(killedMidWrite, 0) << "only " << killedMidWrite << " of " << trials
                               << " kills interrupted a write";
  EXPECT_GT(lastStep, 0);
  // Kills between a rename and its pruning may leave extra checkpoints; the
  // next completed save prunes back to keep_last.
  CheckpointManager mgr;
  std::string error;
  ASSERT_TRUE(mgr.open(dir_, "big", "sig", error)) << error;
  MarkedCheckpoint ckpt;
  ckpt.mark(lastStep + 1);
  TrainState state = stateAt(0, lastStep + 1);
  state.globalStep = lastStep + 1;
  ASSERT_TRUE(mgr.save(state, ckpt.tensors(), error)) << error;
  EXPECT_EQ(listDir().size(), 2u);
}

} // namespace
