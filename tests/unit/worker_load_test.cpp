#include "core/worker_load.h"

#include <gtest/gtest.h>

namespace vmq {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

WorkerSample sample(unsigned cpu, int tid, std::chrono::nanoseconds cpu_time, std::uint64_t frames) {
  return {cpu, tid, 1, cpu_time, frames};
}

TEST(WorkerLoadMeter, ALoadNeedsTwoSamplesOfTheSameWorker) {
  WorkerLoadMeter meter;
  const auto t0 = Clock::now();
  meter.update({sample(0, 100, 5ms, 1000)}, t0);
  ASSERT_EQ(meter.loads().size(), 1u);
  EXPECT_FALSE(meter.loads()[0].busy_share);
  EXPECT_FALSE(meter.loads()[0].ns_per_frame);
  EXPECT_EQ(meter.loads()[0].totals.frames, 1000u);
}

TEST(WorkerLoadMeter, BusyShareAndTimePerFrameAreOverTheInterval) {
  WorkerLoadMeter meter;
  const auto t0 = Clock::now();
  meter.update({sample(0, 100, 5ms, 1000), sample(1, 101, 0ms, 0)}, t0);
  // CPU 0: 250 ms of CPU in one second for 500,000 frames; CPU 1: idle.
  meter.update({sample(0, 100, 255ms, 501000), sample(1, 101, 0ms, 0)}, t0 + 1s);
  ASSERT_EQ(meter.loads().size(), 2u);
  EXPECT_DOUBLE_EQ(*meter.loads()[0].busy_share, 0.25);
  EXPECT_DOUBLE_EQ(*meter.loads()[0].ns_per_frame, 500.0);
  EXPECT_DOUBLE_EQ(*meter.loads()[1].busy_share, 0.0);
  EXPECT_FALSE(meter.loads()[1].ns_per_frame) << "no frames: no time per frame";
}

TEST(WorkerLoadMeter, ARestartedWorkerStartsOver) {
  WorkerLoadMeter meter;
  const auto t0 = Clock::now();
  meter.update({sample(0, 100, 500ms, 10000)}, t0);
  meter.update({sample(0, 200, 1ms, 10)}, t0 + 1s);  // another thread on CPU 0, counters from zero
  EXPECT_FALSE(meter.loads()[0].busy_share);
  meter.update({sample(0, 200, 101ms, 1010)}, t0 + 2s);
  EXPECT_DOUBLE_EQ(*meter.loads()[0].busy_share, 0.1);
}

TEST(WorkerLoadMeter, AWorkerThatStoppedIsForgotten) {
  WorkerLoadMeter meter;
  const auto t0 = Clock::now();
  meter.update({sample(0, 100, 1ms, 1), sample(1, 101, 1ms, 1)}, t0);
  meter.update({sample(1, 101, 2ms, 2)}, t0 + 1s);
  ASSERT_EQ(meter.loads().size(), 1u);
  EXPECT_EQ(meter.loads()[0].totals.cpu, 1u);
  meter.update({sample(0, 102, 1ms, 1), sample(1, 101, 3ms, 3)}, t0 + 2s);
  EXPECT_FALSE(meter.loads()[0].busy_share) << "CPU 0's new worker has no previous sample";
}

}  // namespace
}  // namespace vmq
