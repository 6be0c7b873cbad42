//===- ProcessMemory.cpp - the process's resident memory ------------------===//

#include "runtime/ProcessMemory.h"

#include <fstream>
#include <limits>
#include <sstream>

namespace dlc::rt {

int64_t parsePeakResident(const std::string &status) {
  std::istringstream lines(status);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("VmHWM:", 0) != 0)
      continue;
    std::istringstream fields(line.substr(6));
    int64_t kilobytes = -1;
    std::string unit;
    if (!(fields >> kilobytes >> unit) || kilobytes < 0 || unit != "kB" ||
        kilobytes > std::numeric_limits<int64_t>::max() / 1024)
      return -1;
    return kilobytes * 1024;
  }
  return -1;
}

int64_t peakResidentBytes() {
  std::ifstream file("/proc/self/status");
  if (!file)
    return -1;
  std::ostringstream text;
  text << file.rdbuf();
  return parsePeakResident(text.str());
}

} // namespace dlc::rt
