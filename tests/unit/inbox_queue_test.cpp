#include "io/capture_archive.h"
#include "io/inbox_queue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.h"

namespace sc {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

constexpr std::int64_t k_now = 1700000000;
constexpr auto k_patience = 5s;

// take() on another thread, so that a queue that never answers fails the test instead of
// hanging it. The future must be waited for before the queue goes.
std::future<std::optional<std::string>> take_async(InboxQueue& queue) {
    return std::async(std::launch::async, [&queue] { return queue.take(); });
}

// The next name, or nothing when take() did not answer within the patience.
std::optional<std::string> take_within(InboxQueue& queue, std::chrono::milliseconds patience) {
    auto taken = take_async(queue);
    if (taken.wait_for(patience) != std::future_status::ready) {
        queue.close(); // unblocks the taker so that the future can end
        taken.wait();
        return std::nullopt;
    }
    return taken.get();
}

std::optional<std::string> take_within(InboxQueue& queue) {
    return take_within(queue, std::chrono::duration_cast<std::chrono::milliseconds>(k_patience));
}

// The answer of a take() started earlier; closes the queue when it does not come in time.
std::optional<std::string> await(InboxQueue& queue,
                                 std::future<std::optional<std::string>>& taken) {
    if (taken.wait_for(k_patience) != std::future_status::ready) {
        ADD_FAILURE() << "take() did not answer";
        queue.close();
    }
    return taken.get();
}

// True when take() is still blocked after a short while; closes the queue to end it.
bool blocks(InboxQueue& queue) {
    auto taken = take_async(queue);
    const bool blocked = taken.wait_for(100ms) == std::future_status::timeout;
    queue.close();
    EXPECT_EQ(taken.wait_for(k_patience), std::future_status::ready);
    if (!blocked) {
        ADD_FAILURE() << "take() gave " << taken.get().value_or("nothing");
    }
    return blocked;
}

struct Fixture {
    TempDir temp;
    CaptureArchive archive{temp.path(), k_now};

    void store(const std::string& name) {
        ASSERT_EQ(archive.store(name, "capture " + name), CaptureArchive::Stored::added);
    }
};

TEST(InboxQueue, FirstHandsOutWhatTheInboxHeldInNameOrder) {
    Fixture fixture;
    for (const char* name : {"evt_c", "evt_a", "evt_b"}) {
        fixture.store(name);
    }
    InboxQueue queue(fixture.archive, 16);
    EXPECT_EQ(take_within(queue), "evt_a");
    EXPECT_EQ(take_within(queue), "evt_b");
    EXPECT_EQ(take_within(queue), "evt_c");
    EXPECT_TRUE(blocks(queue));
}

TEST(InboxQueue, HandsOutArrivals) {
    Fixture fixture;
    InboxQueue queue(fixture.archive, 16);
    fixture.store("evt_1");
    queue.arrived("evt_1");
    EXPECT_EQ(take_within(queue), "evt_1");
    fixture.store("evt_2");
    queue.arrived("evt_2");
    EXPECT_EQ(take_within(queue), "evt_2");
    EXPECT_TRUE(blocks(queue));
}

TEST(InboxQueue, WakesABlockedTakerOnArrival) {
    Fixture fixture;
    InboxQueue queue(fixture.archive, 16);
    auto taken = take_async(queue);
    EXPECT_EQ(taken.wait_for(50ms), std::future_status::timeout);
    fixture.store("evt_1");
    queue.arrived("evt_1");
    EXPECT_EQ(await(queue, taken), "evt_1");
    queue.close();
}

TEST(InboxQueue, NeverHandsANameToTwoTakersAtOnce) {
    Fixture fixture;
    fixture.store("evt_1");
    InboxQueue queue(fixture.archive, 16);
    ASSERT_EQ(take_within(queue), "evt_1");
    queue.arrived("evt_1"); // delivered again while a worker has it
    queue.arrived("evt_1");
    auto second = take_async(queue);
    EXPECT_EQ(second.wait_for(100ms), std::future_status::timeout);
    queue.release("evt_1"); // the worker is done: the second delivery is handed out now
    EXPECT_EQ(await(queue, second), "evt_1");
    EXPECT_TRUE(blocks(queue)); // once only
}

TEST(InboxQueue, HandsOutANameToRetryOnlyOnceItsDelayHasPassed) {
    Fixture fixture;
    fixture.store("evt_1");
    fixture.store("evt_2");
    InboxQueue queue(fixture.archive, 16);
    ASSERT_EQ(take_within(queue), "evt_1");
    const auto before = std::chrono::steady_clock::now();
    queue.retry_later("evt_1", 300ms);
    queue.arrived("evt_1"); // delivered again meanwhile: still not before its time
    EXPECT_EQ(take_within(queue), "evt_2");
    EXPECT_EQ(take_within(queue), "evt_1");
    EXPECT_GE(std::chrono::steady_clock::now() - before, 300ms);
    EXPECT_TRUE(blocks(queue)); // once only
}

TEST(InboxQueue, HandsARetryToOneOfSeveralWaitingTakers) {
    Fixture fixture;
    fixture.store("evt_1");
    InboxQueue queue(fixture.archive, 16);
    ASSERT_EQ(take_within(queue), "evt_1");
    queue.retry_later("evt_1", 100ms);
    std::vector<std::future<std::optional<std::string>>> takers;
    for (int i = 0; i < 4; ++i) {
        takers.push_back(take_async(queue)); // all wait for the same moment
    }
    std::this_thread::sleep_for(400ms);
    queue.close();
    int handed = 0;
    for (auto& taker : takers) {
        handed += await(queue, taker) == std::optional<std::string>("evt_1") ? 1 : 0;
    }
    EXPECT_EQ(handed, 1);
}

TEST(InboxQueue, ReleasingANameThatDidNotArriveAgainHandsOutNothing) {
    Fixture fixture;
    fixture.store("evt_1");
    InboxQueue queue(fixture.archive, 16);
    ASSERT_EQ(take_within(queue), "evt_1");
    fixture.archive.mark_done("evt_1");
    queue.release("evt_1");
    EXPECT_TRUE(blocks(queue));
}

TEST(InboxQueue, HandsOutEveryArrivalBeyondTheWindow) {
    Fixture fixture;
    InboxQueue fresh(fixture.archive, 2);
    const std::vector<std::string> names = {"evt_1", "evt_2", "evt_3", "evt_4", "evt_5"};
    for (const std::string& name : names) {
        fixture.store(name);
        fresh.arrived(name);
    }
    std::set<std::string> taken;
    for (std::size_t i = 0; i < names.size(); ++i) {
        const auto name = take_within(fresh);
        ASSERT_TRUE(name.has_value()) << "after " << taken.size() << " names";
        EXPECT_TRUE(taken.insert(*name).second) << *name << " handed out twice";
        fixture.archive.mark_done(*name);
        fresh.release(*name);
    }
    EXPECT_EQ(taken, std::set<std::string>(names.begin(), names.end()));
    EXPECT_TRUE(blocks(fresh));
}

TEST(InboxQueue, HandsOutEveryArrivalBeyondTheWindowWhileAllAreHeld) {
    Fixture fixture;
    InboxQueue queue(fixture.archive, 2);
    for (const char* name : {"evt_1", "evt_2", "evt_3", "evt_4", "evt_5"}) {
        fixture.store(name);
        queue.arrived(name);
    }
    std::set<std::string> taken;
    for (int i = 0; i < 5; ++i) { // no release: each worker still holds its name
        const auto name = take_within(queue);
        ASSERT_TRUE(name.has_value()) << "after " << taken.size() << " names";
        EXPECT_TRUE(taken.insert(*name).second) << *name << " handed out twice";
    }
    EXPECT_EQ(taken.size(), 5U);
    EXPECT_TRUE(blocks(queue));
}

TEST(InboxQueue, CloseEndsABlockedTake) {
    Fixture fixture;
    InboxQueue queue(fixture.archive, 16);
    auto taken = take_async(queue);
    EXPECT_EQ(taken.wait_for(50ms), std::future_status::timeout);
    queue.close();
    EXPECT_EQ(await(queue, taken), std::nullopt);
}

TEST(InboxQueue, TakesNothingOnceClosedEvenWithCapturesWaiting) {
    Fixture fixture;
    fixture.store("evt_1");
    InboxQueue queue(fixture.archive, 16);
    queue.close();
    queue.arrived("evt_2");
    EXPECT_EQ(take_within(queue, 1000ms), std::nullopt);
}

} // namespace
} // namespace sc
