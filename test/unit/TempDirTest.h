//===- TempDirTest.h - a scratch folder per test, and child-process helpers
//===//
//
// Shared by the tests that write real files (loaders, safetensors,
// checkpoints): a fresh folder per test, and the helpers the crash- and
// permission-tests run in forked children.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_TEST_UNIT_TEMPDIRTEST_H
#define DLC_TEST_UNIT_TEMPDIRTEST_H

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sched.h>
#include <sstream>
#include <string>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace dlc::testing {

/// A fixture with a fresh folder per test (`dir_`), removed afterwards even
/// when a test left it read-only.
class TempDirTest : public ::testing::Test {
protected:
  void SetUp() override {
    namespace fs = std::filesystem;
    // mkdtemp replaces the trailing six X's with a unique suffix.
    std::string pattern =
        (fs::temp_directory_path() / "dlc-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir_, ec);
  }

  std::string path(const std::string &name) const { return dir_ + "/" + name; }

  /// Every name in the folder, sorted (to spot leftover temporary files).
  std::vector<std::string> listDir() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto &entry : std::filesystem::directory_iterator(dir_, ec))
      out.push_back(entry.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string dir_;
};

/// The whole file as bytes ("" when it cannot be read).
inline std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// In a forked child running as root: become `nobody`, so that permission
/// bits apply. Exits the child with status 3 if that fails.
inline void dropRootPrivileges() {
  if (::geteuid() != 0)
    return;
  if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
    std::fprintf(stderr, "cannot drop privileges\n");
    std::_Exit(3);
  }
}

/// In a forked child: mounts a tmpfs of `size` (e.g. "64k") on `dir` in a
/// private mount namespace, invisible to everyone else. False when mounting
/// is not permitted (no CAP_SYS_ADMIN).
inline bool mountPrivateTmpfs(const std::string &dir, const char *size) {
  std::string options = std::string("size=") + size;
  return ::unshare(CLONE_NEWNS) == 0 &&
         ::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
         ::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) == 0;
}

/// Runs `body` in a forked child and returns its exit status; -1 if the
/// child could not be started or did not exit normally.
inline int exitStatusOfChild(const std::function<int()> &body) {
  pid_t pid = ::fork();
  if (pid < 0)
    return -1;
  if (pid == 0)
    std::_Exit(body());
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status);
}

} // namespace dlc::testing

#endif // DLC_TEST_UNIT_TEMPDIRTEST_H
