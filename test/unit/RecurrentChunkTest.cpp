//===- RecurrentChunkTest.cpp - lstm_grad/gru_grad in chunks of examples --===//
//
// The recurrent gradient kernels work through the batch in chunks so that
// their workspace stays within the forward's. Every chunk size must give
// the same results, bit for bit, as one chunk of the whole batch (the
// weight gradients keep accumulating in the same order), and the chosen
// chunk must keep the workspace plus the parameter gradients within the
// forward's workspace.
//
//===----------------------------------------------------------------------===//
#include "codegen/cpu/kernels/Recurrent.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

namespace {

struct Case {
  int64_t n, steps, features, units;
  bool useBias, sequences;
};

std::vector<float> random(size_t count, std::mt19937 &rng, float scale) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> values(count);
  for (float &v : values)
    v = dist(rng);
  return values;
}

/// Every gradient of one call, in one vector.
struct Grads {
  std::vector<float> dx, dw, drw, db;
  bool operator==(const Grads &o) const {
    auto same = [](const std::vector<float> &a, const std::vector<float> &b) {
      return a.size() == b.size() &&
             std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
    };
    return same(dx, o.dx) && same(dw, o.dw) && same(drw, o.drw) &&
           same(db, o.db);
  }
};

/// lstm_grad (gates 4) or gru_grad (gates 3) of `c` with `chunk` examples
/// at a time (0: the kernel's own choice).
Grads runGrad(const Case &c, int gates, int64_t chunk, unsigned seed) {
  std::mt19937 rng(seed);
  dlk::RecurrentDims d{c.steps, c.features, c.units, c.useBias, c.sequences};
  const int64_t width = gates * c.units;
  const int64_t biasRows = gates == 4 ? 1 : 2;
  std::vector<float> x = random(size_t(c.n * c.steps * c.features), rng, 1);
  std::vector<float> w = random(size_t(c.features * width), rng, 0.5f);
  std::vector<float> rw = random(size_t(c.units * width), rng, 0.5f);
  std::vector<float> b = random(size_t(biasRows * width), rng, 0.2f);
  std::vector<float> dy =
      random(size_t(c.n * (c.sequences ? c.steps : 1) * c.units), rng, 1);
  Grads g;
  g.dx.assign(x.size(), -1);
  g.dw.assign(w.size(), -1);
  g.drw.assign(rw.size(), -1);
  g.db.assign(b.size(), -1);
  // Room for one chunk of the whole batch, whatever `chunk` is.
  int64_t elements = gates == 4
                         ? dlk::recurrent_detail::lstmGradChunkElements(c.n, d)
                         : dlk::recurrent_detail::gruGradChunkElements(c.n, d);
  std::vector<unsigned char> workspace(size_t(elements) * sizeof(float) + 64);
  if (gates == 4)
    dlk::lstm_grad(c.n, d, x.data(), w.data(), rw.data(), b.data(),
                   static_cast<const float *>(nullptr), dy.data(), g.dx.data(),
                   g.dw.data(), g.drw.data(), g.db.data(), workspace.data(),
                   chunk);
  else
    dlk::gru_grad(c.n, d, x.data(), w.data(), rw.data(), b.data(),
                  static_cast<const float *>(nullptr), dy.data(), g.dx.data(),
                  g.dw.data(), g.drw.data(), g.db.data(), workspace.data(),
                  chunk);
  return g;
}

const Case kCases[] = {{13, 5, 3, 4, true, false},
                       {20, 4, 6, 8, true, true},
                       {9, 3, 2, 5, false, false},
                       {17, 2, 4, 3, false, true},
                       {64, 28, 28, 16, true, false}};

TEST(RecurrentChunkTest, EveryChunkSizeGivesTheSameBits) {
  for (int gates : {4, 3}) {
    for (const Case &c : kCases) {
      SCOPED_TRACE((gates == 4 ? "lstm_grad n=" : "gru_grad n=") +
                   std::to_string(c.n) + " T=" + std::to_string(c.steps));
      Grads whole = runGrad(c, gates, c.n, 7);
      for (int64_t chunk :
           {int64_t(0), int64_t(1), int64_t(3), int64_t(8), c.n - 1, c.n + 5}) {
        EXPECT_TRUE(runGrad(c, gates, chunk, 7) == whole) << "chunk " << chunk;
      }
    }
  }
}

TEST(RecurrentChunkTest, BackwardStaysWithinTheForwardsWorkspace) {
  // fashion_lstm: lstm(128) over 28 steps of 28 features, batch 64.
  dlk::RecurrentDims lstm{28, 28, 128, true, false};
  const int64_t n = 64;
  int64_t chunk = dlk::lstmGradChunk(n, lstm);
  EXPECT_GE(chunk, 1);
  EXPECT_LT(chunk, n);
  const int64_t params = (28 + 128 + 1) * 4 * 128;
  EXPECT_LE(dlk::lstmGradWorkspaceElements(n, lstm) + params,
            dlk::lstmWorkspaceElements(n, lstm));
  // One more example per chunk would not fit.
  EXPECT_GT(dlk::recurrent_detail::lstmGradChunkElements(chunk + 1, lstm) +
                params,
            dlk::lstmWorkspaceElements(n, lstm));

  dlk::RecurrentDims gru{28, 28, 64, true, true};
  chunk = dlk::gruGradChunk(n, gru);
  EXPECT_GE(chunk, 1);
  EXPECT_LE(dlk::gruGradWorkspaceElements(n, gru) + (28 + 64 + 2) * 3 * 64,
            dlk::gruWorkspaceElements(n, gru));

  // A batch of one is one chunk; a smaller batch never needs a larger
  // chunk (the workspace is planned for the largest batch).
  EXPECT_EQ(dlk::lstmGradChunk(1, lstm), 1);
  for (int64_t m = 1; m < n; ++m)
    EXPECT_LE(dlk::lstmGradWorkspaceElements(m, lstm),
              dlk::lstmGradWorkspaceElements(n, lstm))
        << m;
}

} // namespace
