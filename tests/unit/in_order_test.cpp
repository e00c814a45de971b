#include "io/in_order.h"
#include "io/work_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

namespace sc {
namespace {

using namespace std::chrono_literals;

TEST(InOrder, EmitsInTheOrderOfTheSlotsWhateverTheOrderOfFilling) {
    InOrder in_order(8);
    std::vector<int> emitted;
    const std::size_t first = *in_order.reserve();
    const std::size_t second = *in_order.reserve();
    const std::size_t third = *in_order.reserve();
    in_order.fill(third, [&] { emitted.push_back(3); });
    in_order.fill(second, [&] { emitted.push_back(2); });
    EXPECT_TRUE(emitted.empty()) << "nothing before the first slot is filled";
    in_order.fill(first, [&] { emitted.push_back(1); });
    EXPECT_EQ(emitted, (std::vector<int>{1, 2, 3}));
}

TEST(InOrder, ManyWorkersFillingInAnyOrderGiveTheReadingOrder) {
    constexpr int k_items = 5'000;
    constexpr int k_batch = 8; // each batch is handed out last slot first
    InOrder in_order(2 * k_batch);
    WorkQueue<std::pair<std::size_t, int>> jobs(k_batch);
    std::vector<int> emitted;
    std::vector<std::thread> workers;
    for (int w = 0; w < 4; ++w) {
        workers.emplace_back([&] {
            while (auto job = jobs.pop()) {
                in_order.fill(job->first, [&emitted, value = job->second] {
                    emitted.push_back(value);
                });
            }
        });
    }
    for (int i = 0; i < k_items; i += k_batch) {
        std::vector<std::pair<std::size_t, int>> batch;
        for (int j = i; j < i + k_batch; ++j) {
            batch.emplace_back(*in_order.reserve(), j); // blocks while 16 slots wait
        }
        for (auto job = batch.rbegin(); job != batch.rend(); ++job) {
            jobs.push(*job);
        }
    }
    jobs.close();
    for (auto& worker : workers) {
        worker.join();
    }
    ASSERT_EQ(emitted.size(), static_cast<std::size_t>(k_items));
    EXPECT_TRUE(std::is_sorted(emitted.begin(), emitted.end()));
}

TEST(InOrder, ReserveWaitsForRoomThenGoesOn) {
    InOrder in_order(2);
    const std::size_t first = *in_order.reserve();
    ASSERT_TRUE(in_order.reserve());
    auto third = std::async(std::launch::async, [&] { return in_order.reserve(); });
    EXPECT_EQ(third.wait_for(100ms), std::future_status::timeout) << "two slots already wait";
    in_order.fill(first, [] {});
    ASSERT_EQ(third.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(third.get(), std::optional<std::size_t>(2));
}

TEST(InOrder, StopReleasesAWaitingReserveAndRefusesMore) {
    InOrder in_order(1);
    ASSERT_TRUE(in_order.reserve());
    auto waiting = std::async(std::launch::async, [&] { return in_order.reserve(); });
    EXPECT_EQ(waiting.wait_for(50ms), std::future_status::timeout);
    in_order.stop();
    ASSERT_EQ(waiting.wait_for(5s), std::future_status::ready);
    EXPECT_FALSE(waiting.get());
    EXPECT_FALSE(in_order.reserve());
}

TEST(InOrder, DrainEmitsWhatWasFilledAndPassesOverTheRest) {
    InOrder in_order(8);
    std::vector<int> emitted;
    const std::size_t dropped = *in_order.reserve();
    const std::size_t second = *in_order.reserve();
    const std::size_t also_dropped = *in_order.reserve();
    const std::size_t fourth = *in_order.reserve();
    in_order.fill(fourth, [&] { emitted.push_back(4); });
    in_order.fill(second, [&] { emitted.push_back(2); });
    EXPECT_TRUE(emitted.empty());
    in_order.drain();
    EXPECT_EQ(emitted, (std::vector<int>{2, 4}));
    (void)dropped;
    (void)also_dropped;
}

} // namespace
} // namespace sc
