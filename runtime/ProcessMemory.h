//===- ProcessMemory.h - the process's resident memory --------------------===//
//
// What the kernel reports about this process's memory: the peak resident
// set size (VmHWM in /proc/self/status on Linux), for `prog bench`.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_PROCESSMEMORY_H
#define DLC_RUNTIME_PROCESSMEMORY_H

#include <cstdint>
#include <string>

namespace dlc::rt {

/// The "VmHWM:" line of a /proc/<pid>/status text in bytes, or -1 when the
/// text has none (or a malformed one).
int64_t parsePeakResident(const std::string &status);

/// This process's peak resident set size in bytes, or -1 when the system
/// does not say (no /proc).
int64_t peakResidentBytes();

} // namespace dlc::rt

#endif // DLC_RUNTIME_PROCESSMEMORY_H
