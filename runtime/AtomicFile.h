//===- AtomicFile.h - crash-safe whole-file writes ------------------------===//
//
// writeFileAtomically replaces a file so that a reader (or a process resumed
// after kill -9 or a power cut) sees either the complete old contents or the
// complete new contents, never a mix: the bytes go to a temporary file in the
// same directory, which is fsync'ed, renamed over the target, and the
// directory is fsync'ed so the rename itself is durable.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_ATOMICFILE_H
#define DLC_RUNTIME_ATOMICFILE_H

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace dlc {
namespace rt {

/// One piece of the file's contents: a pointer and a byte count. The pointer
/// may be null when the count is zero.
using ByteChunk = std::pair<const void *, size_t>;

/// Writes the concatenation of `chunks` to `path` atomically. On failure
/// returns false with a message in `error` (naming the file, the cause and a
/// hint), removes the temporary file, and leaves any existing `path`
/// untouched.
bool writeFileAtomically(const std::string &path,
                         const std::vector<ByteChunk> &chunks,
                         std::string &error);

/// Removes the temporary files that writeFileAtomically calls for `path`
/// left behind when their process was killed (kill -9, power cut): those
/// named ".<name>.tmp.<pid>.<n>" next to `path` whose process no longer
/// exists. Returns how many were removed. Call it before writing a new
/// checkpoint; it never touches `path` itself or files of live processes.
size_t removeStaleTemporaries(const std::string &path);

} // namespace rt
} // namespace dlc

#endif // DLC_RUNTIME_ATOMICFILE_H
