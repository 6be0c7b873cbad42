//===- ProcessMemoryTest.cpp - the peak resident set from /proc -----------===//

#include "runtime/ProcessMemory.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

using namespace dlc::rt;

TEST(ProcessMemory, ParsesVmHWM) {
  EXPECT_EQ(parsePeakResident("Name:\tprog\nVmPeak:\t  9000 kB\nVmHWM:\t    "
                              "1234 kB\nVmRSS:\t 1000 kB\n"),
            1234 * 1024);
  EXPECT_EQ(parsePeakResident("VmHWM: 0 kB"), 0);
  EXPECT_EQ(parsePeakResident(""), -1);
  EXPECT_EQ(parsePeakResident("VmRSS: 12 kB\n"), -1);
  EXPECT_EQ(parsePeakResident("VmHWM: -3 kB\n"), -1);
  EXPECT_EQ(parsePeakResident("VmHWM: 12 MB\n"), -1);
  EXPECT_EQ(parsePeakResident("VmHWM: lots kB\n"), -1);
  EXPECT_EQ(parsePeakResident("VmHWM: 99999999999999999999 kB\n"), -1);
}

TEST(ProcessMemory, PeakGrowsWithTouchedMemory) {
  int64_t before = peakResidentBytes();
  ASSERT_GT(before, 0) << "Linux reports VmHWM in /proc/self/status";
  const size_t bytes = 64 << 20;
  std::unique_ptr<char[]> block(new char[bytes]);
  std::memset(block.get(), 1, bytes);
  int64_t after = peakResidentBytes();
  EXPECT_GE(after, before);
  EXPECT_GE(after, static_cast<int64_t>(bytes));
  EXPECT_EQ(block[bytes - 1], 1);
}
