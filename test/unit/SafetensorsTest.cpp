//===- SafetensorsTest.cpp - checkpoints and atomic writes ----------------===//
//
// The writer's bytes against the reference implementation's, the strict
// reader against every cut and corruption of a file, the compatibility
// message, and writeFileAtomically's guarantees on failure.
//
//===----------------------------------------------------------------------===//
#include "runtime/Safetensors.h"
#include "runtime/AtomicFile.h"

#include "test/unit/TempDirTest.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace dlc::rt;
namespace fs = std::filesystem;

namespace {

using namespace dlc::testing;

class SafetensorsTest : public dlc::testing::TempDirTest {};

void writeRaw(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// 8-byte little-endian length + header + data.
std::string makeFile(const std::string &header, const std::string &data) {
  std::string out;
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    out += static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + header + data;
}

std::string bytesOf(std::initializer_list<int> values) {
  std::string out;
  for (int v : values)
    out += static_cast<char>(v);
  return out;
}

std::string floatBytes(std::initializer_list<float> values) {
  std::string out;
  for (float v : values) {
    char buf[4];
    std::memcpy(buf, &v, 4);
    out.append(buf, 4);
  }
  return out;
}

/// Opens `bytes` written to `file` and returns the error ("" on success).
std::string openError(const std::string &file, const std::string &bytes) {
  writeRaw(file, bytes);
  SafetensorsFile st;
  std::string error;
  if (st.open(file, error))
    return "";
  return error.empty() ? "<failed without a message>" : error;
}

//===----------------------------------------------------------------------===//
// Round trip and exact bytes
//===----------------------------------------------------------------------===//

TEST_F(SafetensorsTest, RoundTripSeveralDtypesShapesAndMetadata) {
  std::vector<float> f32 = {1.5f, -2.0f, 3.25f, 0.0f, 1e-30f, 7.0f};
  std::vector<double> f64 = {3.141592653589793, -1e300, 0.5, 2.0};
  std::vector<int32_t> i32 = {-7};
  std::vector<int64_t> i64 = {1ll << 40, -3, 5};
  std::vector<uint8_t> u8 = {0, 255, 17, 42, 9};
  std::vector<TensorView> tensors = {
      {"dense.kernel", "F32", {2, 3}, f32.data(), f32.size() * 4},
      {"f64", "F64", {4}, f64.data(), f64.size() * 8},
      {"scalar", "I32", {}, i32.data(), 4},
      {"step", "I64", {3}, i64.data(), 24},
      {"bytes", "U8", {5, 1}, u8.data(), 5},
      {"empty", "F32", {2, 0, 3}, nullptr, 0},
      {"empty.u8", "U8", {0}, nullptr, 0},
  };
  std::map<std::string, std::string> metadata = {
      {"format", "dlc"},
      {"epoch", "3"},
      {"tricky", "quote\" backslash\\ newline\n tab\t ctl\x01 utf8 \xc3\xa9"},
      {"", "empty key"}};
  std::string error;
  ASSERT_TRUE(
      writeSafetensors(path("ckpt.safetensors"), tensors, metadata, error))
      << error;

  SafetensorsFile st;
  ASSERT_TRUE(st.open(path("ckpt.safetensors"), error)) << error;
  EXPECT_EQ(st.metadata(), metadata);
  std::vector<std::string> expectedNames = {
      "bytes", "dense.kernel", "empty", "empty.u8", "f64", "scalar", "step"};
  EXPECT_EQ(st.names(), expectedNames);
  for (const TensorView &t : tensors) {
    const TensorInfo *info = st.find(t.name);
    ASSERT_NE(info, nullptr) << t.name;
    EXPECT_EQ(info->dtype, t.dtype);
    EXPECT_EQ(info->shape, t.shape);
    EXPECT_EQ(info->bytes(), t.bytes);
    std::vector<char> got(t.bytes + 1, 'x');
    ASSERT_TRUE(st.read(t.name, got.data(), t.bytes, error)) << error;
    if (t.bytes) {
      EXPECT_EQ(std::memcmp(got.data(), t.data, t.bytes), 0) << t.name;
    }
  }
  EXPECT_EQ(st.find("nope"), nullptr);

  // The data section starts 8-byte aligned; 8-byte dtypes come first, in
  // the reference's dtype order (I64 before F64).
  std::string raw = readFile(path("ckpt.safetensors"));
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | static_cast<unsigned char>(raw[i]);
  EXPECT_EQ((8 + n) % 8, 0u);
  EXPECT_EQ(std::memcmp(raw.data() + 8 + n, i64.data(), 24), 0); // I64 first
  EXPECT_EQ(std::memcmp(raw.data() + 8 + n + 24, f64.data(), 32), 0);
  EXPECT_EQ(listDir(), std::vector<std::string>{"ckpt.safetensors"});
}

TEST_F(SafetensorsTest, BytesMatchTheReferenceImplementation) {
  // The expected bytes are the reference implementation's own test vectors
  // (safetensors/src/tensor.rs: test_serialization and
  // test_serialization_forced_alignement).
  std::vector<float> data = {0, 1, 2, 3, 4, 5};
  std::string error;
  ASSERT_TRUE(writeSafetensors(path("a.safetensors"),
                               {{"attn.0", "F32", {1, 2, 3}, data.data(), 24}},
                               {}, error))
      << error;
  std::string header = "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],"
                       "\"data_offsets\":[0,24]}}";
  ASSERT_EQ(header.size(), 64u);
  EXPECT_EQ(readFile(path("a.safetensors")),
            makeFile(header, floatBytes({0, 1, 2, 3, 4, 5})));

  ASSERT_TRUE(writeSafetensors(
      path("b.safetensors"), {{"attn0", "F32", {1, 1, 2, 3}, data.data(), 24}},
      {}, error))
      << error;
  std::string padded = "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],"
                       "\"data_offsets\":[0,24]}}       ";
  ASSERT_EQ(padded.size(), 72u);
  EXPECT_EQ(readFile(path("b.safetensors")),
            makeFile(padded, floatBytes({0, 1, 2, 3, 4, 5})));

  // test_empty: no tensors, then metadata only.
  ASSERT_TRUE(writeSafetensors(path("c.safetensors"), {}, {}, error)) << error;
  EXPECT_EQ(readFile(path("c.safetensors")),
            bytesOf({8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ',
                     ' '}));
  ASSERT_TRUE(
      writeSafetensors(path("d.safetensors"), {}, {{"framework", "pt"}}, error))
      << error;
  EXPECT_EQ(readFile(path("d.safetensors")),
            makeFile("{\"__metadata__\":{\"framework\":\"pt\"}}     ", ""));
}

TEST_F(SafetensorsTest, OrderIsAlignmentThenNameAndEscapesAreSerdes) {
  uint8_t a = 7;
  double b = 1.0;
  float c = 2.0f, d = 3.0f;
  std::string error;
  ASSERT_TRUE(writeSafetensors(path("o.safetensors"),
                               {{"a", "U8", {1}, &a, 1},
                                {"d", "F32", {}, &d, 4},
                                {"b", "F64", {1}, &b, 8},
                                {"c\"\n\x02", "F32", {1}, &c, 4}},
                               {{"k", "v"}}, error))
      << error;
  std::string header =
      "{\"__metadata__\":{\"k\":\"v\"},"
      "\"b\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},"
      "\"c\\\"\\n\\u0002\":{\"dtype\":\"F32\",\"shape\":[1],"
      "\"data_offsets\":[8,12]},"
      "\"d\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[12,16]},"
      "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[16,17]}}";
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string data(reinterpret_cast<const char *>(&b), 8);
  data += std::string(reinterpret_cast<const char *>(&c), 4);
  data += std::string(reinterpret_cast<const char *>(&d), 4);
  data += static_cast<char>(a);
  EXPECT_EQ(readFile(path("o.safetensors")), makeFile(header, data));

  SafetensorsFile st;
  ASSERT_TRUE(st.open(path("o.safetensors"), error)) << error;
  EXPECT_NE(st.find("c\"\n\x02"), nullptr);
}

TEST_F(SafetensorsTest, ReadsFilesInThePythonReferenceLayout) {
  // From the reference's documentation: an unpadded 60-byte header.
  std::string doc = "<" + std::string(7, '\0') +
                    "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],"
                    "\"data_offsets\":[0,16]}}" +
                    std::string(16, '\0');
  writeRaw(path("doc.safetensors"), doc);
  SafetensorsFile st;
  std::string error;
  ASSERT_TRUE(st.open(path("doc.safetensors"), error)) << error;
  ASSERT_NE(st.find("test"), nullptr);
  EXPECT_EQ(st.find("test")->shape, (std::vector<int64_t>{2, 2}));
  int32_t ints[4] = {1, 1, 1, 1};
  ASSERT_TRUE(st.read("test", ints, sizeof(ints), error)) << error;
  EXPECT_EQ(ints[0] | ints[1] | ints[2] | ints[3], 0);

  // What Python's json.dumps would write (spaces after ':' and ','), keys in
  // no particular order, tensors not in offset order, metadata last, a
  // \u escape with a surrogate pair, and trailing whitespace.
  std::string header =
      "{\"w\": {\"shape\": [2], \"dtype\": \"F32\", \"data_offsets\": [8, "
      "16]},\n \"b\": {\"data_offsets\": [0, 8], \"dtype\": \"F64\", "
      "\"shape\": []}, \"__metadata__\": {\"format\": \"pt\", \"emoji\": "
      "\"\\ud83d\\ude00\\u00e9\\/\"}}  \t\n ";
  double bias = -0.25;
  std::string data(reinterpret_cast<const char *>(&bias), 8);
  data += floatBytes({1.5f, -2.5f});
  writeRaw(path("py.safetensors"), makeFile(header, data));
  ASSERT_TRUE(st.open(path("py.safetensors"), error)) << error;
  EXPECT_EQ(st.names(), (std::vector<std::string>{"b", "w"}));
  EXPECT_EQ(st.metadata().at("format"), "pt");
  EXPECT_EQ(st.metadata().at("emoji"), "\xF0\x9F\x98\x80\xC3\xA9/");
  float w[2];
  double b;
  ASSERT_TRUE(st.read("w", w, sizeof(w), error)) << error;
  ASSERT_TRUE(st.read("b", &b, sizeof(b), error)) << error;
  EXPECT_EQ(w[0], 1.5f);
  EXPECT_EQ(w[1], -2.5f);
  EXPECT_EQ(b, -0.25);
  EXPECT_TRUE(st.find("b")->shape.empty());
}

//===----------------------------------------------------------------------===//
// Strict reader
//===----------------------------------------------------------------------===//

/// A valid file with metadata, three tensors and an empty one.
std::string sampleFile() {
  std::string header =
      "{\"__metadata__\":{\"epoch\":\"2\"},"
      "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[8,11]},"
      "\"e\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[11,11]},"
      "\"c\":{\"dtype\":\"I64\",\"shape\":[1,1],\"data_offsets\":[11,19]}}";
  return makeFile(header, floatBytes({1, 2}) + "xyz" + std::string(8, '\1'));
}

TEST_F(SafetensorsTest, SampleFileIsValid) {
  EXPECT_EQ(openError(path("s"), sampleFile()), "");
}

TEST_F(SafetensorsTest, EveryTruncationIsRejectedWithoutCrashing) {
  std::string full = sampleFile();
  for (size_t cut = 0; cut < full.size(); ++cut) {
    std::string error = openError(path("cut"), full.substr(0, cut));
    ASSERT_NE(error, "") << "a file cut to " << cut << " bytes was accepted";
    EXPECT_NE(error.find(path("cut")), std::string::npos) << error;
    EXPECT_NE(error.find("hint:"), std::string::npos) << error;
  }
  // Cut inside the data: the message says how much is missing.
  std::string error = openError(path("cut"), full.substr(0, full.size() - 5));
  EXPECT_NE(error.find("truncated: header says 19 bytes of tensor data, the "
                       "file has 14"),
            std::string::npos)
      << error;
  error = openError(path("cut"), full.substr(0, 4));
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
  error = openError(path("cut"), full.substr(0, 30));
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
}

TEST_F(SafetensorsTest, CorruptBytesNeverCrash) {
  std::string full = sampleFile();
  const unsigned char replacements[] = {0x00, '"', '{',  '}',  '[', ']',
                                        ',',  ':', '\\', 0xff, '9', '-',
                                        ' ',  'u', 0x80, '0',  '.', 0xc3};
  int accepted = 0;
  for (size_t pos = 0; pos < full.size(); ++pos) {
    for (unsigned char r : replacements) {
      std::string bytes = full;
      if (static_cast<unsigned char>(bytes[pos]) == r)
        continue;
      bytes[pos] = static_cast<char>(r);
      writeRaw(path("bad"), bytes);
      SafetensorsFile st;
      std::string error;
      if (!st.open(path("bad"), error)) {
        EXPECT_FALSE(error.empty());
        continue;
      }
      ++accepted; // Changing a name or a data byte can be harmless.
      for (const TensorInfo &t : st.tensors()) {
        std::vector<char> buffer(t.bytes());
        EXPECT_TRUE(st.read(t.name, buffer.data(), buffer.size(), error))
            << error;
      }
    }
  }
  EXPECT_GT(accepted, 0);
}

TEST_F(SafetensorsTest, GarbageHeadersNeverCrash) {
  // Deterministic pseudo-random headers built from JSON-ish tokens.
  const char *tokens[] = {"{",
                          "}",
                          "[",
                          "]",
                          ",",
                          ":",
                          "\"a\"",
                          "\"dtype\"",
                          "\"F32\"",
                          "\"shape\"",
                          "\"data_offsets\"",
                          "0",
                          "8",
                          "18446744073709551615",
                          "18446744073709551616",
                          "-1",
                          "1.5",
                          "\"__metadata__\"",
                          " ",
                          "\"\\u",
                          "\"\\ud800",
                          "true",
                          "null",
                          "[[[[[[[[[[[[",
                          "\xff"};
  const size_t count = sizeof(tokens) / sizeof(tokens[0]);
  uint64_t state = 0x9E3779B97F4A7C15ull;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string header = "{";
    int length = 1 + static_cast<int>(state % 24);
    for (int i = 0; i < length; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      header += tokens[(state >> 33) % count];
    }
    std::string error = openError(path("g"), makeFile(header, "01234567"));
    (void)error; // Accepting is allowed; crashing is not.
  }
}

TEST_F(SafetensorsTest, RejectsInvalidLayouts) {
  struct Case {
    const char *header;
    std::string data;
    const char *message;
  };
  auto t = [](const char *dtype, const char *shape, const char *offsets) {
    return std::string("{\"dtype\":\"") + dtype + "\",\"shape\":" + shape +
           ",\"data_offsets\":" + offsets + "}";
  };
  std::string eight(8, '\0');
  std::vector<std::pair<std::string, std::string>> cases = {
      // Overlap, gap, out of range, reversed, size mismatch.
      {"{\"a\":" + t("F32", "[2]", "[0,8]") +
           ",\"b\":" + t("F32", "[1]", "[4,8]") + "}",
       "overlap"},
      {"{\"a\":" + t("F32", "[1]", "[0,4]") + ",\"b\":" +
           t("F32", "[1]", "[4,8]") + ",\"c\":" + t("U8", "[0]", "[2,2]") + "}",
       "overlap"},
      {"{\"a\":" + t("F32", "[1]", "[4,8]") + "}", "belong to no tensor"},
      {"{\"a\":" + t("F32", "[1]", "[0,4]") + "}", "4 bytes after the last"},
      {"{\"a\":" + t("F64", "[2]", "[0,16]") + "}",
       "truncated: header says 16 bytes of tensor data, the file has 8"},
      {"{\"a\":" + t("U8", "[0]", "[9,8]") + "}", "end before they begin"},
      {"{\"a\":" + t("F32", "[3]", "[0,8]") + "}", "needs 12 bytes"},
      {"{\"a\":" +
           t("U8", "[18446744073709551615]", "[0,18446744073709551615]") + "}",
       "too large"},
      {"{\"a\":" + t("F32", "[4294967296,4294967296,16]", "[0,8]") + "}",
       "overflows"},
      {"{\"a\":" + t("F32", "[2]", "[0,18446744073709551616]") + "}",
       "too large"},
      // Types and syntax.
      {"{\"a\":" + t("F31", "[2]", "[0,8]") + "}", "unknown dtype \"F31\""},
      {"{\"a\":" + t("F32", "[2]", "[0,8]") +
           ",\"a\":" + t("F32", "[0]", "[8,8]") + "}",
       "duplicate tensor name \"a\""},
      {"{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"},\"a\":" +
           t("F32", "[2]", "[0,8]") + "}",
       "duplicate __metadata__ key"},
      {"{\"__metadata__\":{},\"__metadata__\":{},\"a\":" +
           t("F32", "[2]", "[0,8]") + "}",
       "duplicate key \"__metadata__\""},
      {"{\"__metadata__\":{\"k\":1},\"a\":" + t("F32", "[2]", "[0,8]") + "}",
       "a __metadata__ value (a string)"},
      {"{\"__metadata__\":{\"k\":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]}}",
       "a __metadata__ value"},
      {"{\"a\":" + t("F32", "[2.0]", "[0,8]") + "}", "must be an integer"},
      {"{\"a\":" + t("F32", "[-2]", "[0,8]") + "}", "must not be negative"},
      {"{\"a\":" + t("F32", "[02]", "[0,8]") + "}", "leading zero"},
      {"{\"a\":" + t("F32", "[2]", "[0,8,9]") + "}", "after the two data"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],"
       "\"x\":1}}",
       "unknown field \"x\""},
      {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", "lacks \"shape\""},
      {"{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],"
       "\"data_offsets\":[0,8]}}",
       "two \"dtype\""},
      {"{\"a\":" + t("F32", "[2]", "[0,8]") + "} x", "unexpected bytes after"},
      {"{\"a\":" + t("F32", "[2]", "[0,8]") + "}}", "unexpected bytes after"},
      {" {\"a\":" + t("F32", "[2]", "[0,8]") + "}", "must start with '{'"},
      {"{\"a\":" + t("F32", "[2]", "[0,8]"), "header ends"},
      {"{\"\xff\":" + t("F32", "[2]", "[0,8]") + "}", "not valid UTF-8"},
      {"{\"\xc0\x80\":" + t("F32", "[2]", "[0,8]") + "}", "not valid UTF-8"},
      {"{\"\\ud800\":" + t("F32", "[2]", "[0,8]") + "}", "unpaired high"},
      {"{\"\\udc00\":" + t("F32", "[2]", "[0,8]") + "}", "unpaired low"},
      {"{\"\\x\":" + t("F32", "[2]", "[0,8]") + "}", "invalid escape"},
      {"{\"a\nb\":" + t("F32", "[2]", "[0,8]") + "}", "control character"},
      {"{\"a\":" + t("F32", "[2]", "[0,8]") + ",}", "expected a tensor name"},
      {"{}", "8 bytes after the last tensor"},
      {"{\"a\":true}", "expected '{'"},
  };
  for (const auto &c : cases) {
    std::string error = openError(path("x"), makeFile(c.first, eight));
    EXPECT_NE(error.find(c.second), std::string::npos)
        << "header: " << c.first << "\nerror: " << error;
    EXPECT_NE(error.find(path("x")), std::string::npos) << error;
  }
}

TEST_F(SafetensorsTest, RejectsBadHeaderLengths) {
  std::string huge = bytesOf({0x01, 0xe1, 0xf5, 0x05, 0, 0, 0, 0}) + "{}";
  EXPECT_NE(openError(path("h"), huge).find("exceeds the format's limit"),
            std::string::npos);
  std::string all = std::string(8, '\xff') + "{}";
  EXPECT_NE(openError(path("h"), all).find("exceeds"), std::string::npos);
  std::string beyond = makeFile("{}", "").substr(0, 8);
  beyond[0] = 100;
  beyond += "{}";
  EXPECT_NE(openError(path("h"), beyond).find("truncated"), std::string::npos);
  EXPECT_NE(openError(path("h"), makeFile("", "")).find("too small"),
            std::string::npos);
  // A text file is not a checkpoint.
  EXPECT_NE(openError(path("h"), "hello, world, this is text").find("exceeds"),
            std::string::npos);
  // Neither is a directory or a missing file.
  SafetensorsFile st;
  std::string error;
  EXPECT_FALSE(st.open(dir_, error));
  EXPECT_NE(error.find("not a regular file"), std::string::npos) << error;
  EXPECT_FALSE(st.open(path("missing.safetensors"), error));
  EXPECT_NE(error.find("No such file"), std::string::npos) << error;
  // A FIFO must not block open() waiting for a writer.
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  EXPECT_FALSE(st.open(path("fifo"), error));
  EXPECT_NE(error.find("not a regular file"), std::string::npos) << error;
}

TEST_F(SafetensorsTest, ReadChecksNameAndSize) {
  writeRaw(path("s"), sampleFile());
  SafetensorsFile st;
  std::string error;
  float a[2];
  EXPECT_FALSE(st.read("a", a, 8, error));
  EXPECT_NE(error.find("not open"), std::string::npos) << error;
  ASSERT_TRUE(st.open(path("s"), error)) << error;
  EXPECT_FALSE(st.read("zz", a, 8, error));
  EXPECT_NE(error.find("no tensor named \"zz\""), std::string::npos) << error;
  EXPECT_FALSE(st.read("a", a, 4, error));
  EXPECT_NE(error.find("F32[2] (8 bytes) but 4 bytes"), std::string::npos)
      << error;
  ASSERT_TRUE(st.read("a", a, 8, error)) << error;
  EXPECT_EQ(a[1], 2.0f);

  // The file shrinks after open: read reports it instead of returning junk.
  SafetensorsFile moved = std::move(st);
  ASSERT_EQ(::truncate(path("s").c_str(), 20), 0);
  int64_t c;
  EXPECT_FALSE(moved.read("c", &c, 8, error));
  EXPECT_NE(error.find("ended early"), std::string::npos) << error;
}

//===----------------------------------------------------------------------===//
// Compatibility with the model
//===----------------------------------------------------------------------===//

TEST_F(SafetensorsTest, CheckCompatibleListsEveryDifference) {
  std::vector<float> k(3 * 3 * 16), bias(10), extra(1);
  std::string error;
  ASSERT_TRUE(writeSafetensors(
      path("other.safetensors"),
      {{"conv2d.kernel", "F32", {3, 3, 1, 16}, k.data(), k.size() * 4},
       {"dense.bias", "F32", {10}, bias.data(), 40},
       {"dense_1.bias", "F32", {1}, extra.data(), 4},
       {"step", "F32", {1}, extra.data(), 4}},
      {}, error))
      << error;
  SafetensorsFile st;
  ASSERT_TRUE(st.open(path("other.safetensors"), error)) << error;

  std::vector<TensorSpec> model = {{"conv2d.kernel", "F32", {3, 3, 1, 32}},
                                   {"dense.bias", "F32", {10}},
                                   {"dense.kernel", "F32", {128, 10}},
                                   {"step", "I64", {1}}};
  EXPECT_FALSE(checkCompatible(st, model, error));
  EXPECT_NE(error.find(path("other.safetensors")), std::string::npos);
  EXPECT_NE(error.find("1 missing, 1 unexpected, 2 mismatched"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("\n  conv2d.kernel: checkpoint has F32[3, 3, 1, 16], "
                       "the model needs F32[3, 3, 1, 32]"),
            std::string::npos)
      << error;
  EXPECT_NE(
      error.find("\n  step: checkpoint has F32[1], the model needs I64[1]"),
      std::string::npos)
      << error;
  EXPECT_NE(error.find("\n  missing: dense.kernel (the model needs "
                       "F32[128, 10])"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("\n  unexpected: dense_1.bias (F32[1]"),
            std::string::npos)
      << error;
  EXPECT_EQ(error.find("dense.bias"), std::string::npos) << error;
  EXPECT_NE(error.find("hint:"), std::string::npos);

  // The checkpoint's own layout is compatible, in any order.
  std::vector<TensorSpec> same = {{"step", "F32", {1}},
                                  {"dense_1.bias", "F32", {1}},
                                  {"dense.bias", "F32", {10}},
                                  {"conv2d.kernel", "F32", {3, 3, 1, 16}}};
  error.clear();
  EXPECT_TRUE(checkCompatible(st, same, error)) << error;
}

TEST_F(SafetensorsTest, CheckCompatibleCapsTheList) {
  std::string error;
  ASSERT_TRUE(writeSafetensors(path("empty.safetensors"), {}, {}, error));
  SafetensorsFile st;
  ASSERT_TRUE(st.open(path("empty.safetensors"), error)) << error;
  std::vector<TensorSpec> model;
  for (int i = 0; i < 35; ++i)
    model.push_back({"layer" + std::to_string(100 + i), "F32", {i}});
  EXPECT_FALSE(checkCompatible(st, model, error));
  EXPECT_NE(error.find("35 missing, 0 unexpected, 0 mismatched"),
            std::string::npos);
  EXPECT_NE(error.find("missing: layer119 "), std::string::npos) << error;
  EXPECT_EQ(error.find("missing: layer120 "), std::string::npos) << error;
  EXPECT_NE(error.find("\n  ... and 15 more\n"), std::string::npos) << error;
  size_t lines = std::count(error.begin(), error.end(), '\n');
  EXPECT_EQ(lines, 22u) << error; // Summary, 20 items, "... more", hint.
}

//===----------------------------------------------------------------------===//
// Writer validation and atomicity
//===----------------------------------------------------------------------===//

TEST_F(SafetensorsTest, WriterRejectsInconsistentTensors) {
  float data[4] = {1, 2, 3, 4};
  writeRaw(path("keep.safetensors"), "old contents");
  struct Case {
    std::vector<TensorView> tensors;
    const char *message;
  };
  std::vector<Case> cases = {
      {{{"a", "F32", {3}, data, 16}}, "needs 12 bytes but 16 were given"},
      {{{"a", "F32", {4}, data, 16}, {"a", "F32", {4}, data, 16}},
       "duplicate tensor name"},
      {{{"a", "F33", {4}, data, 16}}, "unknown dtype"},
      {{{"", "F32", {4}, data, 16}}, "invalid tensor name"},
      {{{"__metadata__", "F32", {4}, data, 16}}, "invalid tensor name"},
      {{{"a", "F32", {-4}, data, 16}}, "invalid shape"},
      {{{"a", "F32", {4}, nullptr, 16}}, "has no data"},
      {{{"\xff", "F32", {4}, data, 16}}, "not valid UTF-8"},
  };
  for (const Case &c : cases) {
    std::string error;
    EXPECT_FALSE(
        writeSafetensors(path("keep.safetensors"), c.tensors, {}, error));
    EXPECT_NE(error.find(c.message), std::string::npos) << error;
    EXPECT_NE(error.find(path("keep.safetensors")), std::string::npos);
  }
  EXPECT_EQ(readFile(path("keep.safetensors")), "old contents");
  EXPECT_EQ(listDir(), std::vector<std::string>{"keep.safetensors"});
}

TEST_F(SafetensorsTest, AtomicWriteReplacesAndLeavesNoTemporaries) {
  std::string error;
  std::string first = "first version";
  std::string second(100000, 'z');
  ASSERT_TRUE(
      writeFileAtomically(path("f"), {{first.data(), first.size()}}, error))
      << error;
  EXPECT_EQ(readFile(path("f")), first);
  ASSERT_TRUE(writeFileAtomically(
      path("f"),
      {{second.data(), 50000}, {nullptr, 0}, {second.data() + 50000, 50000}},
      error))
      << error;
  EXPECT_EQ(readFile(path("f")), second);
  ASSERT_TRUE(writeFileAtomically(path("empty"), {}, error)) << error;
  EXPECT_EQ(readFile(path("empty")), "");
  EXPECT_EQ(listDir(), (std::vector<std::string>{"empty", "f"}));
}

TEST_F(SafetensorsTest, AtomicWriteReportsAMissingDirectory) {
  std::string error;
  std::string target = path("no/such/dir/ckpt.safetensors");
  EXPECT_FALSE(writeSafetensors(target, {}, {}, error));
  EXPECT_NE(error.find("cannot write '" + target + "'"), std::string::npos)
      << error;
  EXPECT_NE(error.find("directory does not exist: " + path("no/such/dir")),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("hint: create it"), std::string::npos) << error;
  EXPECT_TRUE(listDir().empty());
}

TEST_F(SafetensorsTest, AtomicWriteRefusesADirectoryTarget) {
  ASSERT_TRUE(fs::create_directory(path("sub")));
  std::string error, data = "x";
  EXPECT_FALSE(writeFileAtomically(path("sub"), {{data.data(), 1}}, error));
  EXPECT_NE(error.find("is a directory"), std::string::npos) << error;
  EXPECT_FALSE(writeFileAtomically(dir_ + "/", {{data.data(), 1}}, error));
  EXPECT_NE(error.find("add a file name"), std::string::npos) << error;
  EXPECT_TRUE(fs::is_directory(path("sub")));
}

TEST_F(SafetensorsTest, RemovesTemporariesOfDeadProcessesOnly) {
  pid_t dead = ::fork();
  ASSERT_GE(dead, 0);
  if (dead == 0)
    std::_Exit(0);
  ASSERT_EQ(::waitpid(dead, nullptr, 0), dead); // Now no such process.
  std::string target = path("ckpt.safetensors");
  std::string deadTemp = ".ckpt.safetensors.tmp." + std::to_string(dead) + ".3";
  std::string liveTemp =
      ".ckpt.safetensors.tmp." + std::to_string(::getpid()) + ".0";
  std::vector<std::string> keep = {
      "ckpt.safetensors", ".ckpt.safetensors.tmp.x.1",
      ".other.tmp." + std::to_string(dead) + ".1",
      ".ckpt.safetensors.tmp." + std::to_string(dead), liveTemp};
  for (const std::string &name : keep)
    writeRaw(path(name), "x");
  writeRaw(path(deadTemp), "partial checkpoint");
  EXPECT_EQ(removeStaleTemporaries(target), 1u);
  std::sort(keep.begin(), keep.end());
  EXPECT_EQ(listDir(), keep);
  EXPECT_EQ(removeStaleTemporaries(path("missing/ckpt")), 0u);
}

/// In a child process: tries to overwrite `target` in a directory it cannot
/// write to and exits 0 if the attempt failed cleanly.
void writeToReadOnlyDirectoryAndExit(const std::string &dir,
                                     const std::string &target) {
  dropRootPrivileges();
  std::string error, data = "new contents";
  if (writeFileAtomically(target, {{data.data(), data.size()}}, error)) {
    std::fprintf(stderr, "the write succeeded\n");
    std::_Exit(1);
  }
  if (error.find("read-only or not writable: " + dir) == std::string::npos) {
    std::fprintf(stderr, "unexpected message: %s\n", error.c_str());
    std::_Exit(2);
  }
  std::fprintf(stderr, "%s\n", error.c_str());
  std::_Exit(0);
}

TEST_F(SafetensorsTest, AtomicWriteKeepsTheFileInAReadOnlyDirectory) {
  std::string target = path("ckpt.safetensors");
  writeRaw(target, "old contents");
  // Owner may read and enter the directory, nobody may write to it.
  ASSERT_EQ(::chmod(dir_.c_str(), 0555), 0);
  EXPECT_EXIT(writeToReadOnlyDirectoryAndExit(dir_, target),
              ::testing::ExitedWithCode(0), "read-only or not writable");
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  EXPECT_EQ(readFile(target), "old contents");
  EXPECT_EQ(listDir(), std::vector<std::string>{"ckpt.safetensors"});
}

/// In a child process: writes a checkpoint larger than the file size limit
/// and exits 0 if the write failed and left no trace.
void writePastFileSizeLimitAndExit(const std::string &target) {
  ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit limit = {4096, 4096};
  if (::setrlimit(RLIMIT_FSIZE, &limit) != 0)
    std::_Exit(3);
  std::vector<float> big(100000, 1.0f);
  std::string error;
  if (writeSafetensors(target, {{"w", "F32", {100000}, big.data(), 400000}}, {},
                       error)) {
    std::fprintf(stderr, "the write succeeded\n");
    std::_Exit(1);
  }
  std::fprintf(stderr, "%s\n", error.c_str());
  std::_Exit(error.find("file too large") != std::string::npos ? 0 : 2);
}

TEST_F(SafetensorsTest, AtomicWriteCleansUpAfterAFailedWrite) {
  std::string target = path("ckpt.safetensors");
  std::vector<float> small = {1, 2};
  std::string error;
  ASSERT_TRUE(
      writeSafetensors(target, {{"w", "F32", {2}, small.data(), 8}}, {}, error))
      << error;
  std::string before = readFile(target);
  EXPECT_EXIT(writePastFileSizeLimitAndExit(target),
              ::testing::ExitedWithCode(0),
              "cannot write '.*': file too large");
  EXPECT_EQ(readFile(target), before);
  EXPECT_EQ(listDir(), std::vector<std::string>{"ckpt.safetensors"});
  SafetensorsFile st;
  EXPECT_TRUE(st.open(target, error)) << error;
}

/// In a child process: mounts a 64 KiB tmpfs on `dir` (in a private mount
/// namespace, invisible to everyone else), fills it with a checkpoint too big
/// to fit, and returns 0 if the failure was reported as a full disk and left
/// the earlier checkpoint intact; 77 if mounting is not permitted.
int fillSmallDiskInChild(const std::string &dir) {
  if (!mountPrivateTmpfs(dir, "64k"))
    return 77;
  std::string target = dir + "/ckpt.safetensors";
  std::vector<float> small(100, 0.5f), big(1 << 16, 2.0f);
  std::string error;
  if (!writeSafetensors(target, {{"w", "F32", {100}, small.data(), 400}}, {},
                        error)) {
    std::fprintf(stderr, "first write failed: %s\n", error.c_str());
    return 1;
  }
  std::string before = readFile(target);
  if (writeSafetensors(target,
                       {{"w", "F32", {1 << 16}, big.data(), big.size() * 4}},
                       {}, error)) {
    std::fprintf(stderr, "a 256 KiB checkpoint fit in 64 KiB\n");
    return 2;
  }
  std::fprintf(stderr, "%s\n", error.c_str());
  if (error.find("cannot write '" + target + "': disk full") ==
      std::string::npos)
    return 3;
  if (readFile(target) != before)
    return 4;
  size_t entries = 0;
  for (const auto &entry : fs::directory_iterator(dir)) {
    (void)entry;
    ++entries;
  }
  return entries == 1 ? 0 : 5;
}

TEST_F(SafetensorsTest, AtomicWriteReportsAFullDisk) {
  int status = exitStatusOfChild([&] { return fillSmallDiskInChild(dir_); });
  ASSERT_GE(status, 0);
  if (status == 77)
    GTEST_SKIP() << "cannot mount a small tmpfs here (needs CAP_SYS_ADMIN)";
  EXPECT_EQ(status, 0)
      << "1: first write, 2: no error, 3: wrong message, 4: old file "
         "changed, 5: temporary file left";
  EXPECT_TRUE(listDir().empty()); // The tmpfs was the child's alone.
}

} // namespace
