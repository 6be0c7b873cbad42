//===- AtomicFile.cpp - crash-safe whole-file writes ----------------------===//
//
// Temporary file + fsync + rename + directory fsync (POSIX).
//
//===----------------------------------------------------------------------===//
#include "runtime/AtomicFile.h"

#include <atomic>
#include <cerrno>
#include <cstring>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dlc {
namespace rt {
namespace {

/// The directory part of `path` ("." when it has none).
std::string directoryOf(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

/// The file-name part of `path`.
std::string baseNameOf(const std::string &path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// "cannot write '<path>': <what>; hint: <hint>" for an errno value.
std::string describeFailure(const std::string &path, const std::string &dir,
                            const char *step, int err) {
  std::string sys = std::strerror(err);
  std::string what, hint;
  switch (err) {
  case ENOSPC:
#ifdef EDQUOT
  case EDQUOT:
#endif
    what = "disk full (" + sys + ") while " + step;
    hint = "free some space on the disk holding '" + dir +
           "' or choose another directory";
    break;
  case EACCES:
  case EPERM:
  case EROFS:
    what = "read-only or not writable: " + dir + " (" + sys + ")";
    hint = "make the directory writable or choose another directory";
    break;
  case ENOENT:
  case ENOTDIR: {
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) {
      what = "directory does not exist: " + dir + " (" + sys + ")";
      hint = "create it (mkdir -p '" + dir + "') or choose another directory";
    } else if (!S_ISDIR(st.st_mode)) {
      what = "not a directory: " + dir;
      hint = "choose a path inside a directory";
    } else { // E.g. /proc: the directory exists but takes no new files.
      what = "cannot create files in " + dir + " (" + sys + ")";
      hint = "choose another directory";
    }
    break;
  }
  case EFBIG:
    what = "file too large (" + sys + ") while " + step;
    hint = "raise the file size limit (ulimit -f) or write less data";
    break;
  case EISDIR:
    what = "the path is a directory (" + sys + ")";
    hint = "name a file inside that directory instead";
    break;
  case ENAMETOOLONG:
    what = "file name too long (" + sys + ")";
    hint = "choose a shorter path";
    break;
  default:
    what = sys + " while " + step;
    hint = "check the disk and the directory '" + dir + "'";
    break;
  }
  return "cannot write '" + path + "': " + what + "; hint: " + hint;
}

/// Writes all `size` bytes, retrying on EINTR and short writes.
bool writeAll(int fd, const char *data, size_t size, int &err) {
  const size_t maxPerCall = size_t(1) << 30;
  while (size > 0) {
    size_t request = size < maxPerCall ? size : maxPerCall;
    ssize_t written = ::write(fd, data, request);
    if (written < 0) {
      if (errno == EINTR)
        continue;
      err = errno;
      return false;
    }
    if (written == 0) { // No progress and no error: treat as a full disk.
      err = ENOSPC;
      return false;
    }
    data += written;
    size -= static_cast<size_t>(written);
  }
  return true;
}

/// fsync, retrying on EINTR.
bool syncFd(int fd, int &err) {
  while (::fsync(fd) != 0) {
    if (errno == EINTR)
      continue;
    err = errno;
    return false;
  }
  return true;
}

/// The start of every temporary name for `base`: ".<base>.tmp.", with the
/// base shortened to keep the whole name under NAME_MAX (255).
std::string temporaryPrefix(const std::string &base) {
  return "." + (base.size() > 200 ? base.substr(0, 200) : base) + ".tmp.";
}

/// A fresh temporary name next to the target: ".<base>.tmp.<pid>.<n>".
std::string temporaryName(const std::string &dir, const std::string &base) {
  static std::atomic<unsigned long> counter{0};
  std::string prefix = dir == "/" ? "/" : dir + "/";
  return prefix + temporaryPrefix(base) + std::to_string(::getpid()) + "." +
         std::to_string(counter.fetch_add(1));
}

/// Parses "<pid>.<n>" (decimal digits only); false if `text` is not that.
bool parsePidSuffix(const std::string &text, long &pid) {
  size_t dot = text.find('.');
  if (dot == 0 || dot == std::string::npos || dot + 1 == text.size() || dot > 9)
    return false;
  for (size_t i = 0; i < text.size(); ++i)
    if (i != dot && (text[i] < '0' || text[i] > '9'))
      return false;
  pid = 0;
  for (size_t i = 0; i < dot; ++i) // At most 9 digits: no overflow.
    pid = pid * 10 + (text[i] - '0');
  return pid > 0;
}

} // namespace

size_t removeStaleTemporaries(const std::string &path) {
  std::string dir = directoryOf(path);
  std::string prefix = temporaryPrefix(baseNameOf(path));
  DIR *handle = ::opendir(dir.c_str());
  if (!handle)
    return 0;
  std::vector<std::string> stale;
  while (struct dirent *entry = ::readdir(handle)) {
    std::string name = entry->d_name;
    long pid;
    if (name.compare(0, prefix.size(), prefix) != 0 ||
        !parsePidSuffix(name.substr(prefix.size()), pid))
      continue;
    // ESRCH: no such process. EPERM means it exists (another user's).
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
      stale.push_back(name);
  }
  ::closedir(handle);
  std::string dirPrefix = dir == "/" ? "/" : dir + "/";
  size_t removed = 0;
  for (const std::string &name : stale)
    if (::unlink((dirPrefix + name).c_str()) == 0)
      ++removed;
  return removed;
}

bool writeFileAtomically(const std::string &path,
                         const std::vector<ByteChunk> &chunks,
                         std::string &error) {
  std::string dir = directoryOf(path);
  std::string base = baseNameOf(path);
  if (base.empty() || base == "." || base == "..") {
    error = "cannot write '" + path +
            "': the path names a directory, not a file; hint: add a file "
            "name";
    return false;
  }
  struct stat existing;
  if (::stat(path.c_str(), &existing) == 0 && S_ISDIR(existing.st_mode)) {
    error = describeFailure(path, dir, "checking the target", EISDIR);
    return false;
  }

  // Create the temporary file; retry a few names if one is taken.
  std::string tempPath;
  int fd = -1;
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    tempPath = temporaryName(dir, base);
    do {
      fd = ::open(tempPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                  0666);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0 && errno != EEXIST) {
      error = describeFailure(path, dir, "creating a temporary file", errno);
      return false;
    }
  }
  if (fd < 0) {
    error = describeFailure(path, dir, "creating a temporary file", EEXIST);
    return false;
  }

  int err = 0;
  const char *step = nullptr;
  for (const ByteChunk &chunk : chunks) {
    if (chunk.second == 0)
      continue;
    if (!chunk.first) {
      step = "writing (a data chunk has no memory)";
      err = EINVAL;
      break;
    }
    if (!writeAll(fd, static_cast<const char *>(chunk.first), chunk.second,
                  err)) {
      step = "writing the data";
      break;
    }
  }
  if (!step && !syncFd(fd, err))
    step = "flushing the data to disk";
  // Linux releases the descriptor even when close fails; never retry it.
  if (::close(fd) != 0 && !step && errno != EINTR) {
    err = errno;
    step = "closing the temporary file";
  }
  if (!step && ::rename(tempPath.c_str(), path.c_str()) != 0) {
    err = errno;
    step = "renaming the temporary file over the target";
  }
  if (step) {
    ::unlink(tempPath.c_str());
    error = describeFailure(path, dir, step, err);
    return false;
  }

  // Make the rename durable. Some file systems cannot fsync a directory
  // (EINVAL); the rename is as durable as they allow, so that is not an error.
  int dirFd;
  do {
    dirFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } while (dirFd < 0 && errno == EINTR);
  if (dirFd < 0)
    return true; // Unreadable directory: nothing more can be done.
  bool synced = syncFd(dirFd, err) || err == EINVAL || err == ENOTSUP;
  ::close(dirFd);
  if (!synced) {
    error = describeFailure(path, dir, "syncing the directory", err) +
            " (the new file is in place but may not survive a power cut)";
    return false;
  }
  return true;
}

} // namespace rt
} // namespace dlc
