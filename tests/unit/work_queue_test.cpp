#include "io/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace sc {
namespace {

TEST(WorkQueue, HandsEveryItemToExactlyOneWorkerThenEnds) {
    constexpr int k_items = 10'000;
    WorkQueue<int> queue(8);
    std::atomic<long> sum = 0;
    std::atomic<int> taken = 0;
    std::vector<std::thread> workers;
    for (int i = 0; i < 4; ++i) {
        workers.emplace_back([&] {
            while (auto item = queue.pop()) {
                sum += *item;
                ++taken;
            }
        });
    }
    for (int i = 1; i <= k_items; ++i) {
        EXPECT_TRUE(queue.push(i));
    }
    queue.close();
    for (auto& worker : workers) {
        worker.join();
    }
    EXPECT_EQ(taken, k_items);
    EXPECT_EQ(sum, static_cast<long>(k_items) * (k_items + 1) / 2);
}

TEST(WorkQueue, DrainsWhatIsQueuedAfterClose) {
    WorkQueue<int> queue(4);
    queue.push(1);
    queue.push(2);
    queue.close();
    EXPECT_FALSE(queue.push(3));
    EXPECT_EQ(queue.pop(), 1);
    EXPECT_EQ(queue.pop(), 2);
    EXPECT_EQ(queue.pop(), std::nullopt);
}

TEST(WorkQueue, AbandonDropsWhatIsQueuedAndReleasesABlockedProducer) {
    WorkQueue<int> queue(1);
    queue.push(1);
    std::atomic<bool> pushed_result = true;
    std::thread producer([&] { pushed_result = queue.push(2); }); // blocks: the queue is full
    queue.abandon();
    producer.join();
    EXPECT_FALSE(pushed_result);
    EXPECT_EQ(queue.pop(), std::nullopt);
}

} // namespace
} // namespace sc
