//===- DataLoaderTest.cpp - the IDX, NPY and CSV data sources
//---------------===//
//
// Round trips for every format and dtype, every error message, and
// robustness: truncated files at every cut point and seeded random garbage
// must fail cleanly, never crash or hang.
//
//===----------------------------------------------------------------------===//

#include "runtime/CsvLoader.h"
#include "runtime/Dataset.h"
#include "runtime/IdxLoader.h"
#include "runtime/NpyLoader.h"

#include "test/unit/TempDirTest.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

using namespace dlc::rt;
namespace fs = std::filesystem;

namespace {

using namespace dlc::testing;

using Bytes = std::vector<uint8_t>;

//===----------------------------------------------------------------------===//
// File builders
//===----------------------------------------------------------------------===//

void appendBigEndian32(Bytes &bytes, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    bytes.push_back(uint8_t(value >> shift));
}

Bytes idxImages(uint32_t count, uint32_t rows, uint32_t cols,
                const Bytes &pixels) {
  Bytes bytes;
  appendBigEndian32(bytes, 0x00000803);
  appendBigEndian32(bytes, count);
  appendBigEndian32(bytes, rows);
  appendBigEndian32(bytes, cols);
  bytes.insert(bytes.end(), pixels.begin(), pixels.end());
  return bytes;
}

Bytes idxLabels(const Bytes &labels) {
  Bytes bytes;
  appendBigEndian32(bytes, 0x00000801);
  appendBigEndian32(bytes, uint32_t(labels.size()));
  bytes.insert(bytes.end(), labels.begin(), labels.end());
  return bytes;
}

/// Pixels 0, 1, 2, ... (mod 256).
Bytes rampPixels(size_t count, uint8_t start = 0) {
  Bytes pixels(count);
  for (size_t i = 0; i < count; ++i)
    pixels[i] = uint8_t(start + i * 37);
  return pixels;
}

/// An NPY file: magic, version, header (padded to 64 bytes), data.
Bytes npyFile(const std::string &descr, const std::string &shape,
              const Bytes &data, int major = 1, bool fortran = false) {
  std::string header = "{'descr': '" + descr +
                       "', 'fortran_order': " + (fortran ? "True" : "False") +
                       ", 'shape': " + shape + ", }";
  size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64 != 0)
    header += ' ';
  header += '\n';
  Bytes bytes = {0x93, 'N', 'U', 'M', 'P', 'Y', uint8_t(major), 0};
  uint32_t length = uint32_t(header.size());
  bytes.push_back(uint8_t(length));
  bytes.push_back(uint8_t(length >> 8));
  if (major != 1) {
    bytes.push_back(uint8_t(length >> 16));
    bytes.push_back(uint8_t(length >> 24));
  }
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

/// An NPY file with a hand-written header (for malformed-header tests).
Bytes npyRawHeader(const std::string &header, const Bytes &data = {}) {
  Bytes bytes = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  bytes.push_back(uint8_t(header.size()));
  bytes.push_back(uint8_t(header.size() >> 8));
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

/// The little-endian bytes of `values` (the host is little-endian).
template <typename T> Bytes rawBytes(const std::vector<T> &values) {
  Bytes bytes(values.size() * sizeof(T));
  if (!values.empty())
    std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

Bytes textBytes(const std::string &text) {
  return Bytes(text.begin(), text.end());
}

/// A fresh temporary folder per test (TempDirTest), and a file writer.
class DataLoaderTest : public dlc::testing::TempDirTest {
public:
  std::string write(const std::string &name, const Bytes &bytes) const {
    std::string file = path(name);
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char *>(bytes.data()),
              std::streamsize(bytes.size()));
    EXPECT_TRUE(out.good()) << file;
    return file;
  }
  std::string write(const std::string &name, const std::string &text) const {
    return write(name, textBytes(text));
  }
  /// Writes `bytes` gzip-compressed through zlib's gzopen.
  std::string writeGz(const std::string &name, const Bytes &bytes) const {
    std::string file = path(name);
    gzFile out = gzopen(file.c_str(), "wb9");
    EXPECT_NE(out, nullptr);
    if (!out)
      return file;
    if (!bytes.empty()) {
      EXPECT_EQ(gzwrite(out, bytes.data(), unsigned(bytes.size())),
                int(bytes.size()));
    }
    EXPECT_EQ(gzclose(out), Z_OK);
    return file;
  }
  Bytes read(const std::string &name) const {
    std::ifstream in(path(name), std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in),
                 std::istreambuf_iterator<char>());
  }
  void remove(const std::string &name) const { fs::remove(path(name)); }

  /// The four IDX files: 3 training images of 2x3, 2 test images.
  void writeIdxSet(bool gz) const {
    auto put = [&](const std::string &name, const Bytes &bytes) {
      if (gz)
        writeGz(name + ".gz", bytes);
      else
        write(name, bytes);
    };
    put("train-images-idx3-ubyte", idxImages(3, 2, 3, rampPixels(18)));
    put("train-labels-idx1-ubyte", idxLabels({7, 0, 255}));
    put("t10k-images-idx3-ubyte", idxImages(2, 2, 3, rampPixels(12, 5)));
    put("t10k-labels-idx1-ubyte", idxLabels({1, 2}));
  }
};

/// Checks the invariants every successful load must keep.
void expectConsistent(const Dataset &data) {
  uint64_t perExample = 1;
  for (int64_t dim : data.exampleShape) {
    ASSERT_GT(dim, 0);
    perExample *= uint64_t(dim);
  }
  EXPECT_GT(data.count, 0);
  EXPECT_EQ(data.labels.size(), size_t(data.count));
  EXPECT_EQ(data.featureCount(), size_t(data.count) * perExample);
  for (int32_t label : data.labels)
    EXPECT_GE(label, 0);
}

void expectConsistent(const Split &split) {
  expectConsistent(split.train);
  if (split.hasTest)
    expectConsistent(split.test);
}

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

TEST(DatasetHelpersTest, CheckedElementCountRejectsOverflowAndNegatives) {
  uint64_t count = 0;
  EXPECT_TRUE(checkedElementCount({28, 28, 1}, 1000, count));
  EXPECT_EQ(count, 784u);
  EXPECT_FALSE(checkedElementCount({28, 28, 2}, 1000, count));
  EXPECT_EQ(count, 784u);
  EXPECT_FALSE(checkedElementCount({-1, 5}, 1000, count));
  int64_t big = std::numeric_limits<int64_t>::max();
  EXPECT_FALSE(checkedElementCount({big, big, big}, UINT64_MAX, count));
  EXPECT_TRUE(checkedElementCount({0, big, big}, 10, count));
  EXPECT_EQ(count, 0u);
  EXPECT_TRUE(checkedElementCount({}, 10, count));
  EXPECT_EQ(count, 1u);
  uint64_t product = 0;
  EXPECT_FALSE(checkedMul(UINT64_MAX, 2, UINT64_MAX, product));
  EXPECT_TRUE(checkedMul(1u << 16, 1u << 16, uint64_t(1) << 32, product));
  EXPECT_EQ(product, uint64_t(1) << 32);
}

TEST(DatasetHelpersTest, MessagesNameTheFileAndTheHint) {
  EXPECT_EQ(formatLoadError("/d/x.npy", "bad", "fix it"),
            "/d/x.npy: bad; fix it");
  EXPECT_EQ(formatLoadError("/d/x.npy", "bad"), "/d/x.npy: bad");
  std::string error;
  EXPECT_FALSE(failLoad(error, "f", "what"));
  EXPECT_EQ(error, "f: what");
  EXPECT_EQ(quoteForMessage("abc"), "'abc'");
  EXPECT_EQ(quoteForMessage(std::string(50, 'x')),
            "'" + std::string(40, 'x') + "...'");
  EXPECT_EQ(quoteForMessage("a\nb"), "'a?b'");
}

TEST_F(DataLoaderTest, ReadDataFileCapsDecompressedSize) {
  // A tiny gzip file that expands to 1 MiB: a small-scale gzip bomb.
  writeGz("bomb.gz", Bytes(1 << 20, 0));
  EXPECT_LT(read("bomb.gz").size(), 10000u);
  Bytes bytes;
  std::string error;
  EXPECT_FALSE(readDataFile(path("bomb.gz"), 65536, bytes, error));
  EXPECT_NE(error.find("bomb.gz: holds more than 65536 bytes (after "
                       "decompression)"),
            std::string::npos)
      << error;
  EXPECT_TRUE(bytes.empty());
  ASSERT_TRUE(readDataFile(path("bomb.gz"), 1 << 20, bytes, error)) << error;
  EXPECT_EQ(bytes.size(), size_t(1) << 20);

  write("plain", Bytes(1000, 7));
  EXPECT_FALSE(readDataFile(path("plain"), 999, bytes, error));
  ASSERT_TRUE(readDataFile(path("plain"), 1000, bytes, error)) << error;
  EXPECT_EQ(bytes, Bytes(1000, 7));
}

TEST_F(DataLoaderTest, ReadDataFileReportsMissingFoldersAndCorruptGzip) {
  Bytes bytes;
  std::string error;
  EXPECT_FALSE(readDataFile(path("nothing"), 100, bytes, error));
  EXPECT_NE(error.find("nothing: cannot open: No such file"), std::string::npos)
      << error;
  EXPECT_FALSE(readDataFile(dir_, 100, bytes, error));
  EXPECT_NE(error.find("is a folder, not a file"), std::string::npos) << error;

  writeGz("full.gz", rampPixels(5000));
  Bytes gz = read("full.gz");
  write("cut.gz", Bytes(gz.begin(), gz.begin() + gz.size() / 2));
  EXPECT_FALSE(readDataFile(path("cut.gz"), 1 << 20, bytes, error));
  EXPECT_NE(error.find("cut.gz: corrupt gzip data (unexpected end of file)"),
            std::string::npos)
      << error;

  // Two concatenated gzip members read as one stream.
  writeGz("a.gz", textBytes("hello "));
  writeGz("b.gz", textBytes("world"));
  Bytes both = read("a.gz"), second = read("b.gz");
  both.insert(both.end(), second.begin(), second.end());
  write("both.gz", both);
  ASSERT_TRUE(readDataFile(path("both.gz"), 100, bytes, error)) << error;
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "hello world");
}

//===----------------------------------------------------------------------===//
// IDX
//===----------------------------------------------------------------------===//

void expectIdxSet(const Split &split) {
  ASSERT_TRUE(split.hasTest);
  EXPECT_EQ(split.train.count, 3);
  EXPECT_EQ(split.train.exampleShape, (std::vector<int64_t>{2, 3, 1}));
  EXPECT_EQ(split.train.labels, (std::vector<int32_t>{7, 0, 255}));
  Bytes pixels = rampPixels(18);
  // IDX images stay bytes (no float copy) and read as float(byte) / 255.
  ASSERT_TRUE(split.train.holdsBytes());
  EXPECT_TRUE(split.train.features.empty());
  ASSERT_EQ(split.train.featureCount(), 18u);
  for (size_t i = 0; i < 18; ++i) {
    EXPECT_EQ(split.train.bytes.data()[i], pixels[i]) << i;
    EXPECT_EQ(split.train.feature(i), float(pixels[i]) / 255.0f) << i;
  }
  // The bytes are the decompressed file itself: pixel data after the
  // 16-byte header, in a buffer of exactly the file's size.
  EXPECT_EQ(split.train.bytes.offset, 16u);
  EXPECT_EQ(split.train.bytes.buffer->size(), 16u + 18u);
  std::vector<float> example(6);
  split.train.copyExample(2, 6, example.data());
  for (size_t i = 0; i < 6; ++i)
    EXPECT_EQ(example[i], float(pixels[12 + i]) / 255.0f) << i;
  EXPECT_EQ(split.test.count, 2);
  EXPECT_EQ(split.test.exampleShape, (std::vector<int64_t>{2, 3, 1}));
  EXPECT_EQ(split.test.labels, (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(split.test.feature(0), 5.0f / 255.0f);
  expectConsistent(split);
}

TEST_F(DataLoaderTest, IdxRoundTripPlain) {
  writeIdxSet(false);
  Split split;
  std::string error;
  ASSERT_TRUE(loadIdx(dir_, split, error)) << error;
  expectIdxSet(split);
  EXPECT_EQ(split.train.source, path("train-images-idx3-ubyte"));
}

TEST_F(DataLoaderTest, IdxRoundTripGzip) {
  writeIdxSet(true);
  Split split;
  std::string error;
  ASSERT_TRUE(loadIdx(dir_ + "/", split, error)) << error;
  expectIdxSet(split);
  EXPECT_EQ(split.train.source, path("train-images-idx3-ubyte.gz"));
}

TEST_F(DataLoaderTest, IdxPrefersThePlainFileOverGz) {
  writeIdxSet(true);
  write("train-labels-idx1-ubyte", idxLabels({1, 1, 1}));
  Split split;
  std::string error;
  ASSERT_TRUE(loadIdx(dir_, split, error)) << error;
  EXPECT_EQ(split.train.labels, (std::vector<int32_t>{1, 1, 1}));
}

TEST_F(DataLoaderTest, IdxWithoutTestFilesHasNoTestSplit) {
  writeIdxSet(false);
  remove("t10k-images-idx3-ubyte");
  remove("t10k-labels-idx1-ubyte");
  Split split;
  std::string error;
  ASSERT_TRUE(loadIdx(dir_, split, error)) << error;
  EXPECT_FALSE(split.hasTest);
  EXPECT_EQ(split.test.count, 0);
  EXPECT_EQ(split.train.count, 3);
}

TEST_F(DataLoaderTest, IdxMissingFilesAreNamed) {
  Split split;
  std::string error;
  writeIdxSet(false);
  remove("train-labels-idx1-ubyte");
  EXPECT_FALSE(loadIdx(dir_, split, error));
  EXPECT_EQ(error.rfind(dir_ + ": missing train-labels-idx1-ubyte "
                               "(train-labels-idx1-ubyte.gz is also accepted)",
                        0),
            0u)
      << error;
  EXPECT_EQ(split.train.count, 0);

  writeIdxSet(false);
  remove("train-images-idx3-ubyte");
  EXPECT_FALSE(loadIdx(dir_, split, error));
  EXPECT_NE(error.find("missing train-images-idx3-ubyte"), std::string::npos)
      << error;

  writeIdxSet(false);
  remove("t10k-labels-idx1-ubyte");
  EXPECT_FALSE(loadIdx(dir_, split, error));
  EXPECT_NE(error.find("missing t10k-labels-idx1-ubyte"), std::string::npos)
      << error;
  EXPECT_NE(error.find("both t10k files, or neither"), std::string::npos);

  writeIdxSet(false);
  remove("t10k-images-idx3-ubyte");
  EXPECT_FALSE(loadIdx(dir_, split, error));
  EXPECT_NE(error.find("missing t10k-images-idx3-ubyte"), std::string::npos)
      << error;

  EXPECT_FALSE(loadIdx(path("absent"), split, error));
  EXPECT_NE(error.find("absent: no such folder"), std::string::npos) << error;
  EXPECT_FALSE(loadIdx(path("train-images-idx3-ubyte"), split, error));
  EXPECT_NE(error.find("is not a folder"), std::string::npos) << error;
}

TEST_F(DataLoaderTest, IdxTruncatedPixelsNameBothSizes) {
  writeIdxSet(true);
  writeGz("train-images-idx3-ubyte.gz",
          idxImages(60000, 28, 28, Bytes(1024, 3)));
  Split split;
  std::string error;
  EXPECT_FALSE(loadIdx(dir_, split, error));
  EXPECT_EQ(error, path("train-images-idx3-ubyte.gz") +
                       ": truncated: header says 60000 images of 28x28 "
                       "(47040000 bytes) but the file has 1024 bytes of pixel "
                       "data; the file may be damaged or incompletely "
                       "downloaded");
}

TEST_F(DataLoaderTest, IdxWrongMagicSaysWhichWasFound) {
  writeIdxSet(false);
  write("train-images-idx3-ubyte", idxLabels({1, 2, 3}));
  Split split;
  std::string error;
  EXPECT_FALSE(loadIdx(dir_, split, error));
  EXPECT_NE(error.find("train-images-idx3-ubyte: not an IDX image file: "
                       "magic number 0x00000801, expected 0x00000803; this is "
                       "an IDX label file"),
            std::string::npos)
      << error;

  writeIdxSet(false);
  write("train-labels-idx1-ubyte", textBytes("PK\x03\x04 a zip file"));
  EXPECT_FALSE(loadIdx(dir_, split, error));
  EXPECT_NE(error.find("not an IDX label file: magic number 0x504b0304, "
                       "expected 0x00000801; this does not look like an IDX "
                       "file at all"),
            std::string::npos)
      << error;

  writeIdxSet(false);
  Bytes fourDims = idxImages(3, 2, 3, rampPixels(18));
  fourDims[3] = 4;
  write("train-images-idx3-ubyte", fourDims);
  EXPECT_FALSE(loadIdx(dir_, split, error));
  EXPECT_NE(error.find("magic number 0x00000804, expected 0x00000803; it has "
                       "4 dimensions, expected 3"),
            std::string::npos)
      << error;

  writeIdxSet(false);
  Bytes floats = idxImages(3, 2, 3, rampPixels(18));
  floats[2] = 0x0d;
  write("train-images-idx3-ubyte", floats);
  EXPECT_FALSE(loadIdx(dir_, split, error));
  EXPECT_NE(error.find("its element type is 0x0d, but only unsigned bytes"),
            std::string::npos)
      << error;
}

TEST_F(DataLoaderTest, IdxHeaderProblems) {
  Split split;
  std::string error;
  writeIdxSet(false);
  Bytes shortHeader = idxImages(3, 2, 3, {});
  shortHeader.resize(10);
  write("train-images-idx3-ubyte", shortHeader);
  EXPECT_FALSE(loadIdx(dir_, split, error));
  EXPECT_NE(error.find("train-images-idx3-ubyte: truncated: the file has 10 "
                       "bytes but an IDX image header needs 16"),
            std::string::npos)
      << error;

  write("train-images-idx3-ubyte", Bytes{0, 0});
  EXPECT_FALSE(loadIdx(dir_, split, error));
  EXPECT_NE(error.find("the file has 2 bytes"), std::string::npos) << error;

  write("train-images-idx3-ubyte", Bytes{});
  EXPECT_FALSE(loadIdx(dir_, split, error));
  EXPECT_NE(error.find("the file has 0 bytes"), std::string::npos) << error;

  write("train-images-idx3-ubyte", idxImages(0, 2, 3, {}));
  EXPECT_FALSE(loadIdx(dir_, split, error));
  EXPECT_NE(error.find("header says the file holds 0 images"),
            std::string::npos)
      << error;

  write("train-images-idx3-ubyte", idxImages(3, 0, 3, {}));
  EXPECT_FALSE(loadIdx(dir_, split, error));
  EXPECT_NE(error.find("header says the images are 0x3 pixels"),
            std::string::npos)
      << error;

  // Dimensions whose product overflows 64 bits.
  write("train-images-idx3-ubyte",
        idxImages(0xffffffff, 0xffffffff, 0xffffffff, Bytes(100, 1)));
  EXPECT_FALSE(loadIdx(dir_, split, error));
  EXPECT_NE(error.find("truncated: header says 4294967295 images of "
                       "4294967295x4294967295 (more than 4 GiB) but the file "
                       "has 100 bytes of pixel data"),
            std::string::npos)
      << error;

  Bytes labels = idxLabels({1, 2, 3});
  labels.resize(labels.size() - 1);
  writeIdxSet(false);
  write("train-labels-idx1-ubyte", labels);
  EXPECT_FALSE(loadIdx(dir_, split, error));
  EXPECT_NE(error.find("train-labels-idx1-ubyte: truncated: header says 3 "
                       "labels (3 bytes) but the file has 2 bytes of label "
                       "data"),
            std::string::npos)
      << error;
}

TEST_F(DataLoaderTest, IdxTrailingGarbageIsAnError) {
  writeIdxSet(false);
  Bytes images = idxImages(3, 2, 3, rampPixels(23));
  write("train-images-idx3-ubyte", images);
  Split split;
  std::string error;
  EXPECT_FALSE(loadIdx(dir_, split, error));
  EXPECT_NE(error.find("train-images-idx3-ubyte: unexpected data: 5 bytes "
                       "follow the 3 images of 2x3 the header declares; is it "
                       "the right file?"),
            std::string::npos)
      << error;

  writeIdxSet(false);
  Bytes labels = idxLabels({1, 2});
  labels.push_back(9);
  write("t10k-labels-idx1-ubyte", labels);
  EXPECT_FALSE(loadIdx(dir_, split, error));
  EXPECT_NE(error.find("unexpected data: 1 bytes follow the 2 labels"),
            std::string::npos)
      << error;
}

TEST_F(DataLoaderTest, IdxCountAndShapeMismatches) {
  writeIdxSet(false);
  write("train-labels-idx1-ubyte", idxLabels({1, 2}));
  Split split;
  std::string error;
  EXPECT_FALSE(loadIdx(dir_, split, error));
  EXPECT_EQ(error.rfind(path("train-labels-idx1-ubyte") +
                            ": holds 2 labels but " +
                            path("train-images-idx3-ubyte") + " holds 3 images",
                        0),
            0u)
      << error;

  writeIdxSet(false);
  write("t10k-images-idx3-ubyte", idxImages(2, 3, 2, rampPixels(12)));
  EXPECT_FALSE(loadIdx(dir_, split, error));
  EXPECT_NE(error.find("t10k-images-idx3-ubyte: test examples have shape "
                       "[3, 2, 1] but the training examples in"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("have shape [2, 3, 1]"), std::string::npos) << error;
}

TEST_F(DataLoaderTest, IdxCorruptGzipIsAnError) {
  writeIdxSet(true);
  Bytes gz = read("train-images-idx3-ubyte.gz");
  gz[gz.size() / 2] ^= 0xff; // Damage the deflate stream or its checksum.
  gz[gz.size() - 6] ^= 0xff;
  write("train-images-idx3-ubyte.gz", gz);
  Split split;
  std::string error;
  EXPECT_FALSE(loadIdx(dir_, split, error));
  EXPECT_NE(error.find("train-images-idx3-ubyte.gz: corrupt gzip data"),
            std::string::npos)
      << error;
}

TEST_F(DataLoaderTest, IdxTruncatedAtEveryCutPointFails) {
  for (bool gz : {false, true}) {
    for (const auto &entry : fs::directory_iterator(dir_))
      fs::remove(entry.path());
    writeIdxSet(gz);
    std::string name =
        std::string("train-images-idx3-ubyte") + (gz ? ".gz" : "");
    Bytes full = read(name);
    for (size_t cut = 0; cut < full.size(); ++cut) {
      write(name, Bytes(full.begin(), full.begin() + cut));
      Split split;
      std::string error;
      EXPECT_FALSE(loadIdx(dir_, split, error)) << "cut " << cut;
      EXPECT_NE(error.find(name), std::string::npos) << error;
      EXPECT_EQ(split.train.count, 0);
    }
  }
}

TEST_F(DataLoaderTest, IdxRandomGarbageNeverCrashes) {
  std::mt19937 rng(12345);
  Bytes valid = idxImages(3, 2, 3, rampPixels(18));
  int loaded = 0;
  for (int round = 0; round < 600; ++round) {
    writeIdxSet(false);
    Bytes bytes = valid;
    if (round % 3 == 0) {
      // Random bytes of a random length.
      bytes.resize(rng() % 64);
      for (uint8_t &b : bytes)
        b = uint8_t(rng());
    } else {
      // A valid file with a few header bytes changed.
      int edits = 1 + int(rng() % 4);
      for (int e = 0; e < edits; ++e)
        bytes[rng() % 16] = uint8_t(rng() % 3 == 0 ? rng() : rng() % 4);
      if (round % 5 == 0)
        bytes.resize(rng() % (bytes.size() + 8), 0);
    }
    write(round % 2 ? "train-images-idx3-ubyte" : "train-labels-idx1-ubyte",
          bytes);
    Split split;
    std::string error;
    if (loadIdx(dir_, split, error)) {
      ++loaded;
      expectConsistent(split);
    } else {
      EXPECT_FALSE(error.empty());
    }
  }
  EXPECT_LT(loaded, 600); // Most garbage must be rejected.
}

TEST_F(DataLoaderTest, IdxLoadsFashionMnistWhenPresent) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!isDirectory(dir))
    GTEST_SKIP() << dir << " is not installed";
  Split split;
  std::string error;
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(loadIdx(dir, split, error)) << error;
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf("[ timing   ] Fashion-MNIST loaded in %.3f s\n", seconds);
  RecordProperty("fashion_mnist_load_ms", int(seconds * 1000));
  ASSERT_TRUE(split.hasTest);
  EXPECT_EQ(split.train.count, 60000);
  EXPECT_EQ(split.test.count, 10000);
  EXPECT_EQ(split.train.exampleShape, (std::vector<int64_t>{28, 28, 1}));
  EXPECT_EQ(split.train.labels[0], 9); // An ankle boot.
  EXPECT_EQ(split.test.labels[0], 9);
  expectConsistent(split);
  float lo = 1, hi = 0;
  for (uint64_t i = 0; i < split.train.featureCount(); ++i) {
    lo = std::min(lo, split.train.feature(i));
    hi = std::max(hi, split.train.feature(i));
  }
  EXPECT_EQ(lo, 0.0f);
  EXPECT_EQ(hi, 1.0f);
  std::vector<int> perClass(10, 0);
  for (int32_t label : split.train.labels) {
    ASSERT_LT(label, 10);
    ++perClass[label];
  }
  for (int n : perClass)
    EXPECT_EQ(n, 6000);
}

//===----------------------------------------------------------------------===//
// NPY
//===----------------------------------------------------------------------===//

class NpyTest : public DataLoaderTest {
public:
  /// Writes a valid x_train (3 examples of 2 float32) and y_train.
  void writeValidNpy() const {
    write("x_train.npy",
          npyFile("<f4", "(3, 2)", rawBytes<float>({1, 2, 3, 4, 5, 6})));
    write("y_train.npy", npyFile("<i8", "(3,)", rawBytes<int64_t>({0, 1, 2})));
  }

  /// Writes x_train of dtype `descr` holding `values` (shape (3, 2)) and
  /// int64 labels, loads them with scale 0.5 and checks every value.
  template <typename T>
  void expectFeatureRoundTrip(const std::string &descr,
                              const std::vector<T> &values) const {
    write("x_train.npy", npyFile(descr, "(3, 2)", rawBytes(values)));
    write("y_train.npy", npyFile("<i8", "(3,)", rawBytes<int64_t>({4, 0, 2})));
    Split split;
    std::string error;
    ASSERT_TRUE(loadNpy(dir_, 0.5, split, error)) << descr << ": " << error;
    EXPECT_FALSE(split.hasTest);
    EXPECT_EQ(split.train.count, 3);
    EXPECT_EQ(split.train.exampleShape, (std::vector<int64_t>{2}));
    EXPECT_EQ(split.train.labels, (std::vector<int32_t>{4, 0, 2}));
    ASSERT_EQ(split.train.features.size(), 6u);
    for (size_t i = 0; i < 6; ++i)
      EXPECT_EQ(split.train.features[i], float(double(values[i]) * 0.5))
          << descr << " element " << i;
  }
};

TEST_F(NpyTest, RoundTripEveryFeatureDtype) {
  expectFeatureRoundTrip<uint8_t>("|u1", {0, 1, 127, 128, 254, 255});
  expectFeatureRoundTrip<uint8_t>("<u1", {9, 8, 7, 6, 5, 4});
  expectFeatureRoundTrip<int8_t>("|i1", {-128, -1, 0, 1, 100, 127});
  expectFeatureRoundTrip<uint8_t>("|b1", {0, 1, 1, 0, 0, 1});
  expectFeatureRoundTrip<int16_t>("<i2", {-32768, -5, 0, 5, 1000, 32767});
  expectFeatureRoundTrip<uint16_t>("<u2", {0, 1, 2, 3, 60000, 65535});
  expectFeatureRoundTrip<int32_t>("<i4",
                                  {INT32_MIN, -7, 0, 7, 1 << 20, INT32_MAX});
  expectFeatureRoundTrip<uint32_t>("<u4", {0, 1, 2, 3, 4, 4000000000u});
  expectFeatureRoundTrip<int64_t>("<i8", {-(int64_t(1) << 40), -1, 0, 1, 3, 9});
  expectFeatureRoundTrip<uint64_t>("<u8", {0, 1, 2, 3, 4, uint64_t(1) << 50});
  expectFeatureRoundTrip<float>("<f4",
                                {-1.5f, 0.0f, 0.25f, 3.0e30f, -2e-30f, 7});
  expectFeatureRoundTrip<double>("<f8", {-1.5, 0.0, 0.1, 3.0e30, -2e-30, 7});
  expectFeatureRoundTrip<float>("=f4", {1, 2, 3, 4, 5, 6});
}

TEST_F(NpyTest, RoundTripWithTestSplitVersionsAndLabelDtypes) {
  std::vector<float> x(2 * 4 * 3);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = float(i) - 5;
  write("x_train.npy", npyFile("<f4", "(2, 4, 3)", rawBytes(x), 2));
  write("y_train.npy", npyFile("|u1", "(2, 1)", Bytes{3, 1}, 3));
  write("x_test.npy",
        npyFile("<f4", "(1, 4, 3)", rawBytes(std::vector<float>(12, 1.0f))));
  write("y_test.npy", npyFile("<f8", "(1,)", rawBytes<double>({2.0})));
  Split split;
  std::string error;
  ASSERT_TRUE(loadNpy(dir_, 1.0, split, error)) << error;
  ASSERT_TRUE(split.hasTest);
  EXPECT_EQ(split.train.exampleShape, (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(split.train.features, x);
  EXPECT_EQ(split.train.labels, (std::vector<int32_t>{3, 1}));
  EXPECT_EQ(split.train.source, path("x_train.npy"));
  EXPECT_EQ(split.test.count, 1);
  EXPECT_EQ(split.test.labels, (std::vector<int32_t>{2}));
  EXPECT_EQ(split.test.features, std::vector<float>(12, 1.0f));
  expectConsistent(split);

  // Labels in every integer dtype.
  for (const char *descr : {"|i1", "<i2", "<u2", "<i4", "<u4", "<u8"}) {
    size_t size = size_t(descr[2] - '0');
    Bytes labels(2 * size, 0);
    labels[0] = 5;
    labels[size] = 6;
    write("y_train.npy", npyFile(descr, "(2,)", labels));
    ASSERT_TRUE(loadNpy(dir_, 1.0, split, error)) << descr << ": " << error;
    EXPECT_EQ(split.train.labels, (std::vector<int32_t>{5, 6})) << descr;
  }

  // A 1-D x gives examples of shape [1].
  write("x_train.npy", npyFile("<f8", "(2,)", rawBytes<double>({0.5, 1.5})));
  write("y_train.npy", npyFile("<i4", "(2,)", rawBytes<int32_t>({0, 1})));
  remove("x_test.npy");
  remove("y_test.npy");
  ASSERT_TRUE(loadNpy(dir_, 2.0, split, error)) << error;
  EXPECT_EQ(split.train.exampleShape, (std::vector<int64_t>{1}));
  EXPECT_EQ(split.train.features, (std::vector<float>{1.0f, 3.0f}));
}

/// Loads `dir` and expects failure with `expected` in the message.
void expectNpyError(const std::string &dir, const std::string &expected,
                    double scale = 1.0) {
  Split split;
  std::string error;
  EXPECT_FALSE(loadNpy(dir, scale, split, error)) << expected;
  EXPECT_NE(error.find(expected), std::string::npos)
      << "expected: " << expected << "\n     got: " << error;
  EXPECT_EQ(split.train.count, 0);
}

TEST_F(NpyTest, MissingFiles) {
  expectNpyError(dir_, dir_ + ": missing x_train.npy; npy() reads "
                              "x_train.npy and y_train.npy");
  writeValidNpy();
  remove("y_train.npy");
  expectNpyError(dir_, dir_ + ": missing y_train.npy");
  writeValidNpy();
  write("x_test.npy", read("x_train.npy"));
  expectNpyError(dir_, dir_ + ": missing y_test.npy; the test split needs "
                              "both x_test.npy and y_test.npy, or neither");
  expectNpyError(path("x_train.npy"), "x_train.npy: is not a folder");
  expectNpyError(path("nowhere"), "nowhere: no such folder");
  remove("x_test.npy");
  expectNpyError(dir_, dir_ + ": scale must be a finite number", NAN);
}

TEST_F(NpyTest, DtypeAndLayoutErrors) {
  writeValidNpy();
  write("x_train.npy",
        npyFile(">f4", "(3, 2)", rawBytes<float>({1, 2, 3, 4, 5, 6})));
  expectNpyError(dir_, "x_train.npy: dtype '>f4' is big-endian; only "
                       "little-endian data is supported");
  write("x_train.npy",
        npyFile("<f4", "(3, 2)", rawBytes<float>({1, 2, 3, 4, 5, 6}), 1, true));
  expectNpyError(dir_, "x_train.npy: the array is stored in Fortran order "
                       "(fortran_order=True); only C order is supported");
  write("x_train.npy", npyFile("<c8", "(3, 2)", Bytes(48, 0)));
  expectNpyError(dir_, "x_train.npy: dtype '<c8' is not supported; supported "
                       "dtypes: uint8");
  write("x_train.npy", npyFile("<U5", "(3, 2)", Bytes(120, 0)));
  expectNpyError(dir_, "dtype '<U5' is not supported");
  write("x_train.npy", npyFile("|f4", "(3, 2)", Bytes(24, 0)));
  expectNpyError(dir_, "dtype '|f4' has no byte order but 4-byte elements");
  write("x_train.npy",
        npyRawHeader("{'descr': [('a', '<f4')], 'fortran_order': False, "
                     "'shape': (3,), }\n",
                     Bytes(12, 0)));
  expectNpyError(dir_, "structured dtypes (a list in 'descr') are not "
                       "supported");
  write("x_train.npy", npyFile("<f4", "()", Bytes(4, 0)));
  expectNpyError(dir_, "x_train.npy: holds a scalar, not an array of "
                       "examples");
  write("x_train.npy", npyFile("<f4", "(0, 2)", {}));
  expectNpyError(dir_, "x_train.npy: holds 0 examples");
  write("x_train.npy", npyFile("<f4", "(3, 0)", {}));
  expectNpyError(dir_, "x_train.npy: examples of shape (3, 0) hold no values");
}

TEST_F(NpyTest, HeaderErrors) {
  writeValidNpy();
  write("x_train.npy", textBytes("\x93NUMPZ\x01\x00"));
  expectNpyError(dir_, "x_train.npy: not a .npy file: it does not start with "
                       "\"\\x93NUMPY\"; write it with numpy.save()");
  write("x_train.npy", textBytes("not numpy at all"));
  expectNpyError(dir_, "x_train.npy: not a .npy file");
  Bytes future = npyFile("<f4", "(3, 2)", Bytes(24, 0));
  future[6] = 4;
  write("x_train.npy", future);
  expectNpyError(dir_, "x_train.npy: NPY format version 4.0 is not "
                       "supported; versions 1.0, 2.0 and 3.0 are");
  write("x_train.npy",
        npyRawHeader("{'descr': '<f4', 'shape': (3, 2), }\n", Bytes(24, 0)));
  expectNpyError(dir_, "x_train.npy: the header lacks 'fortran_order'");
  write("x_train.npy",
        npyRawHeader("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (3, "
                     "2), }\n"));
  expectNpyError(dir_, "x_train.npy: bad header: expected True or False for "
                       "'fortran_order' at offset 34 of");
  write("x_train.npy",
        npyRawHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (3, "
                     "-2), }\n"));
  expectNpyError(dir_, "bad header: expected a dimension");
  write("x_train.npy",
        npyRawHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (3, "
                     "2), 'extra': 1}\n"));
  expectNpyError(dir_, "bad header: unexpected key 'extra'");
  write("x_train.npy",
        npyRawHeader("{'descr': '<f4', 'fortran_order': False, 'shape': "
                     "(99999999999999999999,), }\n"));
  expectNpyError(dir_, "bad header: dimension too large");
  write("x_train.npy",
        npyRawHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (3, "
                     "2), } trailing\n"));
  expectNpyError(dir_, "bad header: unexpected text after the header's '}'");
  Bytes longHeader = npyFile("<f4", "(3, 2)", Bytes(24, 0));
  longHeader[8] = 0xff;
  longHeader[9] = 0xff;
  write("x_train.npy", longHeader);
  expectNpyError(dir_, "x_train.npy: truncated: header length 65535 but the "
                       "file has");
}

TEST_F(NpyTest, SizeErrors) {
  writeValidNpy();
  write("x_train.npy",
        npyFile("<f4", "(3, 2)", rawBytes<float>({1, 2, 3, 4, 5})));
  expectNpyError(dir_, "x_train.npy: truncated: header says shape (3, 2) of "
                       "<f4 (24 bytes) but the file has 20 bytes of data");
  write("x_train.npy",
        npyFile("<f4", "(3, 2)", rawBytes<float>({1, 2, 3, 4, 5, 6, 7})));
  expectNpyError(dir_, "x_train.npy: unexpected data: 4 bytes follow the "
                       "shape (3, 2) of <f4 the header declares");
  write("x_train.npy",
        npyFile("<f8", "(1099511627776, 1099511627776, 1099511627776)",
                Bytes(8, 0)));
  expectNpyError(dir_, "(more than 4 GiB) but the file has 8 bytes of data");
}

TEST_F(NpyTest, NonFiniteFeaturesNameTheFirstBadElement) {
  writeValidNpy();
  float nan = std::numeric_limits<float>::quiet_NaN();
  float inf = std::numeric_limits<float>::infinity();
  write("x_train.npy", npyFile("<f4", "(2, 2, 2)",
                               rawBytes<float>({1, 2, 3, 4, 5, 6, nan, inf})));
  write("y_train.npy", npyFile("<i8", "(2,)", rawBytes<int64_t>({0, 1})));
  expectNpyError(dir_, "x_train.npy: feature 6 (example 1, position [1, 0]) "
                       "is NaN after scaling; features must be finite");
  write("x_train.npy",
        npyFile("<f8", "(2, 1)", rawBytes<double>({1.0, -INFINITY})));
  expectNpyError(dir_, "x_train.npy: feature 1 (example 1, position [0]) is "
                       "infinite");
  // Finite in float64 but beyond float32 after scaling.
  write("x_train.npy", npyFile("<f8", "(2, 1)", rawBytes<double>({1.0, 1e38})));
  expectNpyError(dir_, "feature 1 (example 1, position [0]) is infinite", 10.0);
}

TEST_F(NpyTest, LabelErrors) {
  writeValidNpy();
  write("y_train.npy", npyFile("<i8", "(2,)", rawBytes<int64_t>({0, 1})));
  expectNpyError(dir_, "y_train.npy: holds 2 labels but " +
                           path("x_train.npy") + " holds 3 examples");
  write("y_train.npy", npyFile("<f4", "(3, 10)", Bytes(120, 0)));
  expectNpyError(dir_, "y_train.npy: labels have shape (3, 10), expected "
                       "(N,) or (N, 1) integer class ids; for one-hot labels "
                       "save y.argmax(axis=1)");
  write("y_train.npy",
        npyFile("<f8", "(3,)", rawBytes<double>({1.0, 2.5, 0.0})));
  expectNpyError(dir_, "y_train.npy: label 1 is 2.5, not a class id");
  write("y_train.npy", npyFile("<i4", "(3,)", rawBytes<int32_t>({1, 2, -1})));
  expectNpyError(dir_, "y_train.npy: label 2 is -1, not a class id; labels "
                       "must be integers from 0 to 2147483647");
  write("y_train.npy",
        npyFile("<u8", "(3,)", rawBytes<uint64_t>({1, 2, uint64_t(1) << 40})));
  expectNpyError(dir_, "label 2 is 1099511627776, not a class id");
  write("y_train.npy", npyFile("<f4", "(3,)", rawBytes<float>({NAN, 2, 1})));
  expectNpyError(dir_, "label 0 is nan, not a class id");
}

TEST_F(NpyTest, TestSplitShapeMismatch) {
  writeValidNpy();
  write("x_test.npy", npyFile("<f4", "(1, 3)", rawBytes<float>({1, 2, 3})));
  write("y_test.npy", npyFile("<i8", "(1,)", rawBytes<int64_t>({0})));
  expectNpyError(dir_, "x_test.npy: test examples have shape [3] but the "
                       "training examples in " +
                           path("x_train.npy") + " have shape [2]");
}

TEST_F(NpyTest, TruncatedAtEveryCutPointFails) {
  writeValidNpy();
  for (const char *name : {"x_train.npy", "y_train.npy"}) {
    Bytes full = read(name);
    for (size_t cut = 0; cut < full.size(); ++cut) {
      write(name, Bytes(full.begin(), full.begin() + cut));
      Split split;
      std::string error;
      EXPECT_FALSE(loadNpy(dir_, 1.0, split, error)) << name << " " << cut;
      EXPECT_NE(error.find(name), std::string::npos) << error;
    }
    write(name, full);
  }
}

TEST_F(NpyTest, RandomGarbageHeadersNeverCrash) {
  std::mt19937 rng(2024);
  const std::string alphabet = "{}()[]:,' \"TrueFalsdcp_ohn0123456789<>|uifbL";
  Bytes valid = npyFile("<f4", "(3, 2)", rawBytes<float>({1, 2, 3, 4, 5, 6}));
  int loaded = 0;
  for (int round = 0; round < 1500; ++round) {
    writeValidNpy();
    Bytes bytes = valid;
    switch (round % 3) {
    case 0: { // A random header made of the characters headers use.
      std::string header;
      size_t length = rng() % 80;
      for (size_t i = 0; i < length; ++i)
        header += alphabet[rng() % alphabet.size()];
      Bytes data(rng() % 64);
      bytes = npyRawHeader(header, data);
      break;
    }
    case 1: { // A valid file with a few bytes changed.
      int edits = 1 + int(rng() % 3);
      for (int e = 0; e < edits; ++e) {
        size_t at = rng() % bytes.size();
        bytes[at] = rng() % 2 ? uint8_t(rng())
                              : uint8_t(alphabet[rng() % alphabet.size()]);
      }
      break;
    }
    default: { // Random bytes after the magic.
      bytes = {0x93, 'N', 'U', 'M', 'P', 'Y'};
      size_t length = rng() % 100;
      for (size_t i = 0; i < length; ++i)
        bytes.push_back(uint8_t(rng()));
      break;
    }
    }
    write(round % 2 ? "x_train.npy" : "y_train.npy", bytes);
    Split split;
    std::string error;
    if (loadNpy(dir_, 1.0, split, error)) {
      ++loaded;
      expectConsistent(split);
    } else {
      EXPECT_FALSE(error.empty());
    }
  }
  EXPECT_LT(loaded, 1500);
}

//===----------------------------------------------------------------------===//
// CSV
//===----------------------------------------------------------------------===//

/// Loads `path` and expects failure with `expected` in the message.
void expectCsvError(const std::string &path, const std::string &expected,
                    int64_t labelColumn = 0, bool header = true) {
  Split split;
  std::string error;
  EXPECT_FALSE(loadCsv(path, labelColumn, header, 1.0, split, error))
      << expected;
  EXPECT_NE(error.find(expected), std::string::npos)
      << "expected: " << expected << "\n     got: " << error;
  EXPECT_EQ(split.train.count, 0);
}

TEST_F(DataLoaderTest, CsvRoundTripFolderWithTestSplit) {
  write("train.csv", "label,a,b,c\n3,0,127.5,255\n1,1e2,-2,+4\n");
  write("test.csv", "label,a,b,c\n0,255,0,0\n");
  Split split;
  std::string error;
  ASSERT_TRUE(loadCsv(dir_, 0, true, 1.0 / 255, split, error)) << error;
  ASSERT_TRUE(split.hasTest);
  EXPECT_EQ(split.train.count, 2);
  EXPECT_EQ(split.train.exampleShape, (std::vector<int64_t>{3}));
  EXPECT_EQ(split.train.labels, (std::vector<int32_t>{3, 1}));
  std::vector<float> expected = {0.0f,
                                 float(127.5 / 255),
                                 1.0f,
                                 float(100.0 / 255),
                                 float(-2.0 / 255),
                                 float(4.0 / 255)};
  EXPECT_EQ(split.train.features, expected);
  EXPECT_EQ(split.train.source, path("train.csv"));
  EXPECT_EQ(split.test.count, 1);
  EXPECT_EQ(split.test.labels, (std::vector<int32_t>{0}));
  EXPECT_EQ(split.test.features, (std::vector<float>{1.0f, 0.0f, 0.0f}));
  expectConsistent(split);
}

TEST_F(DataLoaderTest, CsvSingleFileLastLabelColumnNoHeader) {
  std::string file = write("data.csv", "0.5,1.5,7\n2.5,3.5,8");
  Split split;
  std::string error;
  ASSERT_TRUE(loadCsv(file, -1, false, 2.0, split, error)) << error;
  EXPECT_FALSE(split.hasTest);
  EXPECT_EQ(split.train.labels, (std::vector<int32_t>{7, 8}));
  EXPECT_EQ(split.train.features, (std::vector<float>{1, 3, 5, 7}));
  EXPECT_EQ(split.train.exampleShape, (std::vector<int64_t>{2}));

  // A middle label column.
  file = write("middle.csv", "0.5,1,7\n2.5,3,8\n");
  ASSERT_TRUE(loadCsv(file, 1, false, 1.0, split, error)) << error;
  EXPECT_EQ(split.train.labels, (std::vector<int32_t>{1, 3})) << error;
  EXPECT_EQ(split.train.features, (std::vector<float>{0.5f, 7, 2.5f, 8}));

  // Gzip-compressed CSV is read too.
  std::string gz = writeGz("data.csv.gz", textBytes("1,2\n0,3\n"));
  ASSERT_TRUE(loadCsv(gz, 0, false, 1.0, split, error)) << error;
  EXPECT_EQ(split.train.labels, (std::vector<int32_t>{1, 0}));
}

TEST_F(DataLoaderTest, CsvQuotesLineEndingsAndBlankLines) {
  std::string file = write(
      "q.csv", "\xEF\xBB\xBF\"label\",\"x, the first\",\"say \"\"y\"\"\"\r\n"
               "\r\n"
               " \"2\" , 1 ,\"2.5\"\r\n"
               "\n"
               "4,\t3,4\r\n"
               "\r\n"
               "\n");
  Split split;
  std::string error;
  ASSERT_TRUE(loadCsv(file, 0, true, 1.0, split, error)) << error;
  EXPECT_EQ(split.train.labels, (std::vector<int32_t>{2, 4}));
  EXPECT_EQ(split.train.features, (std::vector<float>{1, 2.5f, 3, 4}));

  // A quoted header cell may hold a line break; line numbers still count it.
  file = write("multi.csv", "label,\"two\nlines\"\n1,2\n1,x\n");
  expectCsvError(file, "multi.csv:4: 'x' in column 2 is not a number");

  // Integral float labels are class ids.
  file = write("floatlabels.csv", "3.0,1\n1e0,2\n");
  ASSERT_TRUE(loadCsv(file, 0, false, 1.0, split, error)) << error;
  EXPECT_EQ(split.train.labels, (std::vector<int32_t>{3, 1}));
}

TEST_F(DataLoaderTest, CsvErrorsNameFileAndLine) {
  std::string file = write("cols.csv", "label,a,b,c\n1,2,3,4\n\n1,2,3\n");
  expectCsvError(file, "cols.csv:4: row has 3 columns but the header has 4; "
                       "every row needs the same number of columns");
  file = write("cols2.csv", "1,2,3\n1,2,3,4\n");
  expectCsvError(file,
                 "cols2.csv:2: row has 4 columns but the first row has "
                 "3",
                 0, false);
  file = write("word.csv", "label,a,b\n1,2,3\n1,two,3\n");
  expectCsvError(file, "word.csv:3: 'two' in column 2 is not a number; every "
                       "column but the label must hold a number");
  file = write("long.csv", "label,a\n1," + std::string(100, 'z') + "\n");
  expectCsvError(file, "long.csv:2: '" + std::string(40, 'z') +
                           "...' in column 2 is not a number");
  file = write("empty-cell.csv", "label,a,b\n1,,3\n");
  expectCsvError(file, "empty-cell.csv:2: empty cell in column 2");
  file = write("nan.csv", "label,a,b\n1,2,3\n0,nan,3\n");
  expectCsvError(file, "nan.csv:3: 'nan' in column 2 is NaN; features must "
                       "be finite numbers");
  file = write("inf.csv", "label,a,b\n1,2,-inf\n");
  expectCsvError(file, "inf.csv:2: '-inf' in column 3 is infinite or too "
                       "large");
  file = write("huge.csv", "label,a,b\n1,2,1e999\n");
  expectCsvError(file, "huge.csv:2: '1e999' in column 3 is infinite or too "
                       "large");
  file = write("toobig.csv", "label,a\n1,1e39\n");
  expectCsvError(file, "toobig.csv:2: '1e39' in column 2 is infinite");
  file = write("empty.csv", "");
  expectCsvError(file, "empty.csv: empty file");
  file = write("blank.csv", "\n \r\n\n");
  expectCsvError(file, "blank.csv: empty file");
  file = write("header-only.csv", "label,a,b\n");
  expectCsvError(file, "header-only.csv: no data rows after the header");
  file = write("label.csv", "label,a\n2.5,1\n");
  expectCsvError(file, "label.csv:2: label '2.5' in column 1 is not an "
                       "integer class id");
  file = write("catlabel.csv", "a,label\n1,cat\n");
  expectCsvError(file,
                 "catlabel.csv:2: label 'cat' in column 2 is not an "
                 "integer class id",
                 -1);
  file = write("negative.csv", "label,a\n-1,1\n");
  expectCsvError(file, "negative.csv:2: label '-1' in column 1 is out of "
                       "range; class ids go from 0 to 2147483647");
  file = write("hugelabel.csv", "label,a\n3000000000,1\n");
  expectCsvError(file, "label '3000000000' in column 1 is out of range");
  file = write("range.csv", "label,a\n1,2\n");
  expectCsvError(file,
                 "range.csv: label_column=2 is out of range: the header (line "
                 "1) has 2 columns; use 0 to 1, or -1 for the last column",
                 2);
  expectCsvError(file, "label_column=-3 is out of range", -3);
  file = write("one.csv", "label\n1\n");
  expectCsvError(file, "one.csv: rows have only the label column, no "
                       "features");
  file = write("quote.csv", "label,a\n1,\"2\n3,4\n");
  expectCsvError(file, "quote.csv:2: a quoted cell is never closed");
  file = write("after.csv", "label,a\n1,\"2\"x\n");
  expectCsvError(file, "after.csv:2: unexpected text after a quoted cell");
  file = write("plusminus.csv", "label,a\n1,+-2\n");
  expectCsvError(file, "'+-2' in column 2 is not a number");
  expectCsvError(path("nothing.csv"), "nothing.csv: no such file or folder");
  fs::create_directory(path("sub"));
  expectCsvError(path("sub"), "sub: missing train.csv; csv() takes a .csv "
                              "file, or a folder holding train.csv");
  write("sub/train.csv", "label,a,b\n1,2,3\n");
  write("sub/test.csv", "label,a\n1,2\n");
  expectCsvError(path("sub"), "test.csv: test examples have shape [1] but "
                              "the training examples in");
}

TEST_F(DataLoaderTest, CsvTruncatedAndGarbageNeverCrash) {
  std::string full = "label,\"a,1\",b\r\n1,2,3\r\n\"4\",5.5e1,-6\r\n0,7,8\r\n";
  for (size_t cut = 0; cut <= full.size(); ++cut) {
    std::string file = write("cut.csv", full.substr(0, cut));
    Split split;
    std::string error;
    if (loadCsv(file, 0, true, 1.0, split, error))
      expectConsistent(split);
    else
      EXPECT_NE(error.find("cut.csv"), std::string::npos) << error;
  }
  std::mt19937 rng(7);
  const std::string alphabet = "0123456789,,,\"\"\n\r -+.eEnaifx\t";
  int loaded = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    size_t length = rng() % 60;
    for (size_t i = 0; i < length; ++i)
      text += round % 10 == 0 ? char(rng()) : alphabet[rng() % alphabet.size()];
    std::string file = write("garbage.csv", text);
    Split split;
    std::string error;
    int64_t labelColumn = int64_t(rng() % 5) - 2;
    if (loadCsv(file, labelColumn, round % 2 == 0, 0.5, split, error)) {
      ++loaded;
      expectConsistent(split);
    } else {
      EXPECT_NE(error.find("garbage.csv"), std::string::npos) << error;
    }
  }
  EXPECT_LT(loaded, 2000);
}

} // namespace
