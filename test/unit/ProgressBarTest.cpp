//===- ProgressBarTest.cpp - Keras-style progress output ------------------===//
//
// Scripted runs with a fake clock, checked character for character.
//
//===----------------------------------------------------------------------===//
#include "runtime/ProgressBar.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>

using namespace dlc::rt;

namespace {

/// A clock the test moves by hand.
struct FakeClock {
  double now = 0;
  ProgressBar::Clock clock() {
    return [this] { return now; };
  }
};

size_t countOf(const std::string &text, char c) {
  return size_t(std::count(text.begin(), text.end(), c));
}

/// Four steps of 32, 32, 32 and 16 examples, then validation.
std::string scriptedEpoch(bool isTty) {
  std::ostringstream out;
  FakeClock clock;
  ProgressBar bar({"loss", "accuracy"}, out, isTty, clock.clock());
  clock.now = 100.0;
  bar.beginEpoch(1, 3, 4);
  clock.now = 101.0;
  bar.addStep({0.8, 0.5}, 32);
  clock.now = 101.05; // within 0.1 s of the last redraw: not drawn
  bar.addStep({0.6, 0.7}, 32);
  clock.now = 102.0;
  bar.addStep({0.4, 0.9}, 32);
  clock.now = 102.5;
  bar.addStep({0.2, 1.0}, 16);
  clock.now = 103.0;
  bar.endEpoch({{"val_loss", 0.5}, {"val_accuracy", 0.75}});
  return out.str();
}

TEST(ProgressBarTest, TerminalRedrawsInPlace) {
  // Step 1: 1 s per step, 3 to go. Step 3: (102 - 101) / 2 = 0.5 s per
  // step. Means at step 4: loss (0.8*32 + 0.6*32 + 0.4*32 + 0.2*16) / 112.
  std::string expected =
      "Epoch 1/3\n"
      "\r1/4 [======>.......................] - ETA: 3s - loss: 0.8000 - "
      "accuracy: 0.5000"
      "\r3/4 [=====================>........] - ETA: 0s - loss: 0.6000 - "
      "accuracy: 0.7000"
      "\r4/4 [==============================] - ETA: 0s - loss: 0.5429 - "
      "accuracy: 0.7429"
      "\r4/4 [==============================] - 3s 500ms/step - loss: 0.5429 "
      "- accuracy: 0.7429 - val_loss: 0.5000 - val_accuracy: 0.7500\n";
  EXPECT_EQ(scriptedEpoch(true), expected);
}

TEST(ProgressBarTest, PipePrintsOnlyFinalLines) {
  std::string expected =
      "Epoch 1/3\n"
      "4/4 [==============================] - 3s 500ms/step - loss: 0.5429 - "
      "accuracy: 0.7429 - val_loss: 0.5000 - val_accuracy: 0.7500\n";
  EXPECT_EQ(scriptedEpoch(false), expected);
}

TEST(ProgressBarTest, ShorterLineErasesTheLongerOne) {
  std::ostringstream out;
  FakeClock clock;
  ProgressBar bar({"loss"}, out, true, clock.clock());
  bar.beginEpoch(2, 2, 100);
  clock.now = 2.0;
  bar.addStep({-1.5}); // ETA 99 * 2 s = 3:18
  clock.now = 3.0;
  bar.addStep({1.5}); // 1 s per step: ETA 1:38, loss 0.0000e+00
  clock.now = 3.5;
  bar.addStep({0.0}); // 0.75 s per step: ETA 72 s, loss 0.0
  std::string expected =
      "Epoch 2/2\n"
      "\r  1/100 [..............................] - ETA: 3:18 - loss: -1.5000"
      "\r  2/100 [..............................] - ETA: 1:38 - loss: "
      "0.0000e+00"
      "\r  3/100 [..............................] - ETA: 1:12 - loss: "
      "0.0000e+00";
  EXPECT_EQ(out.str(), expected);

  // A shorter line is padded with spaces over the previous one.
  clock.now = 5.0;
  bar.addStep({0.4}); // 3 s / 3 steps * 96: ETA 96 s = "1:36"
  EXPECT_EQ(out.str().substr(expected.size()),
            "\r  4/100 [>.............................] - ETA: 1:36 - loss: "
            "0.1000    ");
}

TEST(ProgressBarTest, RedrawsAtMostEveryInterval) {
  // 1024 steps of 1/1024 s (exact in binary) with a 1/8 s interval: a
  // redraw at step 1 and then every 128 steps, plus the final line.
  std::ostringstream out;
  FakeClock clock;
  ProgressBar bar({"loss"}, out, true, clock.clock());
  bar.setMinInterval(0.125);
  bar.beginEpoch(1, 1, 1024);
  for (int i = 1; i <= 1024; ++i) {
    clock.now = i / 1024.0;
    bar.addStep({1.0});
  }
  bar.endEpoch();
  EXPECT_EQ(countOf(out.str(), '\r'), 8u + 1u);
  EXPECT_NE(out.str().find("\r 129/1024 ["), std::string::npos);
  EXPECT_NE(out.str().find("\r 897/1024 ["), std::string::npos);
  EXPECT_EQ(out.str().find("\r 128/1024 ["), std::string::npos);

  // The default 0.1 s: 2 s of steps every millisecond draw about 20 times.
  std::ostringstream out2;
  ProgressBar bar2({"loss"}, out2, true, clock.clock());
  clock.now = 0;
  bar2.beginEpoch(1, 1, 2000);
  for (int i = 1; i <= 2000; ++i) {
    clock.now = i * 0.001;
    bar2.addStep({1.0});
  }
  EXPECT_GE(countOf(out2.str(), '\r'), 19u);
  EXPECT_LE(countOf(out2.str(), '\r'), 21u);
}

TEST(ProgressBarTest, FirstStepIsLeftOutOfTheStepTime) {
  // The first step takes 10 s (start-up), the next ones 20 ms.
  std::ostringstream out;
  FakeClock clock;
  ProgressBar bar({}, out, false, clock.clock());
  bar.beginEpoch(1, 1, 11);
  clock.now = 10.0;
  bar.addStep({});
  for (int i = 1; i <= 10; ++i) {
    clock.now = 10.0 + 0.02 * i;
    bar.addStep({});
  }
  clock.now = 11.0; // validation took the rest
  bar.endEpoch();
  EXPECT_EQ(out.str(), "Epoch 1/1\n"
                       "11/11 [==============================] - 11s "
                       "20ms/step\n");
}

TEST(ProgressBarTest, HoursLongRun) {
  // 10 s per step for 1000 steps: ETA 2:46:30 after the first one.
  std::ostringstream out;
  FakeClock clock;
  ProgressBar bar({"loss"}, out, true, clock.clock());
  bar.beginEpoch(1, 1, 1000);
  clock.now = 10;
  bar.addStep({2.5});
  EXPECT_EQ(out.str(), "Epoch 1/1\n"
                       "\r   1/1000 [..............................] - ETA: "
                       "2:46:30 - loss: 2.5000");
  for (int i = 2; i <= 1000; ++i) {
    clock.now = 10.0 * i;
    bar.addStep({2.5});
  }
  clock.now = 10000.4;
  bar.endEpoch();
  std::string text = out.str();
  std::string last = text.substr(text.rfind('\r'));
  EXPECT_EQ(last, "\r1000/1000 [==============================] - 10000s "
                  "10s/step - loss: 2.5000\n");
}

TEST(ProgressBarTest, EtaFormatting) {
  EXPECT_EQ(formatEta(0), "0s");
  EXPECT_EQ(formatEta(12.9), "12s");
  EXPECT_EQ(formatEta(60), "60s");
  EXPECT_EQ(formatEta(60.5), "1:00");
  EXPECT_EQ(formatEta(61), "1:01");
  EXPECT_EQ(formatEta(3599), "59:59");
  EXPECT_EQ(formatEta(3600), "60:00");
  EXPECT_EQ(formatEta(3600.5), "1:00:00");
  EXPECT_EQ(formatEta(2 * 3600 + 3 * 60 + 4), "2:03:04");
  EXPECT_EQ(formatEta(100 * 3600.0 + 5), "100:00:05");
  EXPECT_EQ(formatEta(-3), "0s");
  EXPECT_EQ(formatEta(NAN), "0s");
  EXPECT_EQ(formatEta(INFINITY), "277777777777:46:40"); // clamped to 1e15 s
}

TEST(ProgressBarTest, StepTimeAndValueFormatting) {
  EXPECT_EQ(formatStepTime(0.006), "6ms/step");
  EXPECT_EQ(formatStepTime(3.2), "3s/step");
  EXPECT_EQ(formatStepTime(0), "0s/step");
  EXPECT_EQ(formatStepTime(0.0005), "500us/step");
  EXPECT_EQ(formatStepTime(-1), "0s/step");
  EXPECT_EQ(formatMetricValue(0.41234), "0.4123");
  EXPECT_EQ(formatMetricValue(-1.5), "-1.5000");
  EXPECT_EQ(formatMetricValue(1234.5), "1234.5000");
  EXPECT_EQ(formatMetricValue(2.5e-4), "2.5000e-04");
  EXPECT_EQ(formatMetricValue(0), "0.0000e+00");
  EXPECT_EQ(formatMetricValue(NAN), "nan");
}

TEST(ProgressBarTest, SummaryLine) {
  EXPECT_EQ(formatMetricLine("test", {{"loss", 0.30121}, {"accuracy", 0.8921}}),
            "test loss: 0.3012 - test accuracy: 0.8921");
  EXPECT_EQ(formatMetricLine("", {{"loss", 0.5}}), "loss: 0.5000");
  EXPECT_EQ(formatMetricLine("test", {}), "");
}

TEST(ProgressBarTest, EpochsStartAfreshAndMeansAreWeighted) {
  std::ostringstream out;
  FakeClock clock;
  ProgressBar bar({"loss", "accuracy"}, out, false, clock.clock());
  bar.beginEpoch(1, 2, 2);
  bar.addStep({1.0, 0.0}, 30);
  bar.addStep({4.0, 1.0}, 10);
  std::vector<NamedValue> means = bar.means();
  ASSERT_EQ(means.size(), 2u);
  EXPECT_EQ(means[0].name, "loss");
  EXPECT_DOUBLE_EQ(means[0].value, (30.0 + 40.0) / 40.0);
  EXPECT_DOUBLE_EQ(means[1].value, 0.25);
  bar.endEpoch();
  bar.beginEpoch(2, 2, 2);
  EXPECT_EQ(bar.stepsDone(), 0);
  EXPECT_DOUBLE_EQ(bar.means()[0].value, 0.0);
  bar.addStep({0.5});              // a missing value counts as 0
  bar.addStep({0.5, 1.0, 7.0}, 0); // extra values ignored, 0 examples = 1
  EXPECT_DOUBLE_EQ(bar.means()[0].value, 0.5);
  EXPECT_DOUBLE_EQ(bar.means()[1].value, 0.5);
  bar.endEpoch();
  EXPECT_EQ(out.str(), "Epoch 1/2\n"
                       "2/2 [==============================] - 0s 0s/step - "
                       "loss: 1.7500 - accuracy: 0.2500\n"
                       "Epoch 2/2\n"
                       "2/2 [==============================] - 0s 0s/step - "
                       "loss: 0.5000 - accuracy: 0.5000\n");
}

TEST(ProgressBarTest, UnknownStepCountAndUnfinishedEpoch) {
  std::ostringstream out;
  FakeClock clock;
  ProgressBar bar({"loss"}, out, true, clock.clock());
  bar.beginEpoch(1, 2, 0);
  clock.now = 0.25;
  bar.addStep({1.0});
  // The next epoch starts on a fresh line even without endEpoch.
  bar.beginEpoch(2, 2, 0);
  EXPECT_EQ(out.str(), "Epoch 1/2\n"
                       "\r      1/Unknown - 250ms/step - loss: 1.0000\n"
                       "Epoch 2/2\n");
}

TEST(ProgressBarTest, MoreStepsThanAnnouncedKeepTheBarFull) {
  std::ostringstream out;
  FakeClock clock;
  ProgressBar bar({}, out, false, clock.clock());
  bar.beginEpoch(1, 1, 2);
  for (int i = 0; i < 3; ++i)
    bar.addStep({});
  bar.endEpoch();
  EXPECT_EQ(out.str(), "Epoch 1/1\n"
                       "3/2 [==============================] - 0s 0s/step\n");
}

} // namespace
