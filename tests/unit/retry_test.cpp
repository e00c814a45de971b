#include "io/retry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <set>

#include "fake_http.h"

namespace sc {
namespace {

using namespace std::chrono_literals;
using testing::FakeWaiter;

constexpr int k_samples = 2000;

// The cap of the wait before `attempt` under the default policy: 250 ms doubling up to 8 s.
Milliseconds full_delay(int attempt) {
    const RetryPolicy policy;
    Milliseconds full = policy.first_delay;
    for (int i = 2; i < attempt && full < policy.max_delay; ++i) {
        full *= 2;
    }
    return std::min(full, policy.max_delay);
}

// --- backoff_delay
// ---------------------------------------------------------------------------------

TEST(RetryBackoff, StaysBetweenHalfAndAllOfTheExponentialDelay) {
    const RetryPolicy policy;
    std::mt19937_64 random(42);
    const std::pair<int, Milliseconds> expected[] = {{2, 250ms},  {3, 500ms},   {4, 1000ms},
                                                     {5, 2000ms}, {6, 4000ms},  {7, 8000ms},
                                                     {8, 8000ms}, {12, 8000ms}, {40, 8000ms}};
    for (const auto& [attempt, full] : expected) {
        ASSERT_EQ(full_delay(attempt), full) << attempt;
        for (int i = 0; i < k_samples; ++i) {
            const Milliseconds delay = backoff_delay(attempt, policy, random);
            ASSERT_GE(delay, full / 2) << "attempt " << attempt;
            ASSERT_LE(delay, full) << "attempt " << attempt;
        }
    }
}

TEST(RetryBackoff, GrowsWithEachAttemptUntilTheCap) {
    const RetryPolicy policy;
    std::mt19937_64 random(7);
    for (int i = 0; i < k_samples; ++i) {
        Milliseconds previous{0};
        // Attempt 6 is the first to reach the 8 s cap; after it the delays stop growing.
        for (int attempt = 2; attempt <= 6; ++attempt) {
            const Milliseconds delay = backoff_delay(attempt, policy, random);
            // The ranges [full/2, full] of two successive attempts meet but do not overlap.
            ASSERT_GE(delay, previous) << "attempt " << attempt;
            previous = delay;
        }
    }
}

TEST(RetryBackoff, NeverExceedsTheMaximumDelay) {
    RetryPolicy policy;
    policy.first_delay = 700ms;
    policy.max_delay = 3000ms;
    std::mt19937_64 random(1);
    for (int attempt = 1; attempt <= 70; ++attempt) {
        for (int i = 0; i < 200; ++i) {
            const Milliseconds delay = backoff_delay(attempt, policy, random);
            ASSERT_LE(delay, policy.max_delay) << attempt;
            ASSERT_GE(delay, policy.first_delay / 2) << attempt;
        }
    }
}

TEST(RetryBackoff, CapsAFirstDelayLongerThanTheMaximum) {
    RetryPolicy policy;
    policy.first_delay = 5000ms;
    policy.max_delay = 300ms;
    std::mt19937_64 random(3);
    for (int i = 0; i < k_samples; ++i) {
        const Milliseconds delay = backoff_delay(2, policy, random);
        ASSERT_GE(delay, 150ms);
        ASSERT_LE(delay, 300ms);
    }
}

TEST(RetryBackoff, SpreadsItsJitterOverTheWholeRange) {
    const RetryPolicy policy;
    std::mt19937_64 random(11);
    std::set<std::int64_t> seen;
    Milliseconds lowest = 1h;
    Milliseconds highest{0};
    for (int i = 0; i < k_samples; ++i) {
        const Milliseconds delay = backoff_delay(7, policy, random); // in [4000, 8000]
        seen.insert(delay.count());
        lowest = std::min(lowest, delay);
        highest = std::max(highest, delay);
    }
    EXPECT_GT(seen.size(), 100U);
    EXPECT_LT(lowest, 4500ms);
    EXPECT_GT(highest, 7500ms);
}

// --- parse_retry_after
// -----------------------------------------------------------------------------

TEST(RetryParseRetryAfter, ReadsWholeSeconds) {
    EXPECT_EQ(parse_retry_after("0"), Milliseconds(0));
    EXPECT_EQ(parse_retry_after("1"), Milliseconds(1000));
    EXPECT_EQ(parse_retry_after("5"), Milliseconds(5000));
    EXPECT_EQ(parse_retry_after("120"), Milliseconds(120'000));
    EXPECT_EQ(parse_retry_after("3600"), Milliseconds(3'600'000));
}

// The HTTP layer trims header values, so the parser accepts exactly the digits and nothing else.
TEST(RetryParseRetryAfter, RefusesSurroundingSpaces) {
    EXPECT_FALSE(parse_retry_after(" 5").has_value());
    EXPECT_FALSE(parse_retry_after("5 ").has_value());
    EXPECT_FALSE(parse_retry_after("\t5").has_value());
}

TEST(RetryParseRetryAfter, RefusesWhatIsNotANumberOfSeconds) {
    for (const auto* value :
         {"", "abc", "-1", "-0x5", "+5", "1.5", "5s", "0x10", "Wed, 21 Oct 2015 07:28:00 GMT"}) {
        EXPECT_FALSE(parse_retry_after(value).has_value()) << "'" << value << "'";
    }
}

TEST(RetryParseRetryAfter, CapsLargeValuesAtOneHour) {
    EXPECT_EQ(parse_retry_after("3601"), Milliseconds(3'600'000));
    EXPECT_EQ(parse_retry_after("86400"), Milliseconds(3'600'000));
    EXPECT_EQ(parse_retry_after("9223372036854775807"), Milliseconds(3'600'000));
}

// A delay too large for 64 bits is still a large delay, not a missing one: falling back to a
// short backoff would retry at once what the server asked to hold off.
TEST(RetryParseRetryAfter, CapsADelayTooLargeForSixtyFourBits) {
    EXPECT_EQ(parse_retry_after("99999999999999999999"), Milliseconds(3'600'000));
}

// --- RetryBudget
// -----------------------------------------------------------------------------------

TEST(RetryBudget, StartsAtTheFirstAttempt) {
    const RetryPolicy policy;
    FakeWaiter waiter;
    const RetryBudget budget(policy, waiter);
    EXPECT_EQ(budget.attempts(), 1);
    EXPECT_TRUE(waiter.waits().empty());
}

TEST(RetryBudget, StopsAtTheMaximumNumberOfAttemptsWithoutWaitingAgain) {
    RetryPolicy policy;
    policy.max_attempts = 4;
    FakeWaiter waiter;
    RetryBudget budget(policy, waiter);
    EXPECT_TRUE(budget.wait_for_next());
    EXPECT_TRUE(budget.wait_for_next());
    EXPECT_TRUE(budget.wait_for_next());
    EXPECT_EQ(budget.attempts(), 4);
    EXPECT_FALSE(budget.wait_for_next());
    EXPECT_FALSE(budget.wait_for_next(1s));
    EXPECT_EQ(budget.attempts(), 4);
    EXPECT_EQ(waiter.waits().size(), 3U);
}

TEST(RetryBudget, AllowsNoRetryWithASingleAttempt) {
    RetryPolicy policy;
    policy.max_attempts = 1;
    FakeWaiter waiter;
    RetryBudget budget(policy, waiter);
    EXPECT_FALSE(budget.wait_for_next());
    EXPECT_FALSE(budget.wait_for_next(0ms));
    EXPECT_TRUE(waiter.waits().empty());
    EXPECT_EQ(budget.attempts(), 1);
}

TEST(RetryBudget, WaitsAnExponentialBackoffWithoutAServerDelay) {
    RetryPolicy policy;
    policy.max_total = 10h;
    FakeWaiter waiter;
    RetryBudget budget(policy, waiter);
    while (budget.wait_for_next()) {
    }
    ASSERT_EQ(waiter.waits().size(), static_cast<std::size_t>(policy.max_attempts - 1));
    for (std::size_t i = 0; i < waiter.waits().size(); ++i) {
        const Milliseconds full = full_delay(static_cast<int>(i) + 2);
        EXPECT_GE(waiter.waits()[i], full / 2) << "wait " << i;
        EXPECT_LE(waiter.waits()[i], full) << "wait " << i;
    }
}

TEST(RetryBudget, WaitsExactlyTheServerDelayWhenGiven) {
    const RetryPolicy policy;
    FakeWaiter waiter;
    RetryBudget budget(policy, waiter);
    EXPECT_TRUE(budget.wait_for_next(2000ms));
    EXPECT_TRUE(budget.wait_for_next(0ms));
    EXPECT_TRUE(budget.wait_for_next(12'000ms)); // longer than max_delay: the server knows best
    EXPECT_EQ(waiter.waits(), (std::vector<Milliseconds>{2000ms, 0ms, 12'000ms}));
    EXPECT_EQ(budget.attempts(), 4);
}

TEST(RetryBudget, StopsWhenTheNextWaitWouldOutlastTheTotal) {
    RetryPolicy policy;
    policy.max_total = 5000ms;
    FakeWaiter waiter;
    RetryBudget budget(policy, waiter);
    waiter.advance(3000ms);                    // a slow first attempt
    EXPECT_TRUE(budget.wait_for_next(2000ms)); // the next attempt starts right at the limit
    waiter.advance(1ms);                       // and takes a little time
    EXPECT_FALSE(budget.wait_for_next(0ms));   // no time is left: not even an immediate retry
    EXPECT_EQ(waiter.waits(), std::vector<Milliseconds>{2000ms});
    EXPECT_EQ(budget.attempts(), 2);
}

TEST(RetryBudget, StopsWithoutWaitingWhenAServerDelayWouldOutlastTheTotal) {
    RetryPolicy policy;
    policy.max_total = 5000ms;
    FakeWaiter waiter;
    RetryBudget budget(policy, waiter);
    waiter.advance(1000ms);
    EXPECT_FALSE(budget.wait_for_next(4001ms));
    EXPECT_TRUE(waiter.waits().empty());
    EXPECT_EQ(budget.attempts(), 1);
}

// Retry-After: 3600 against a one-minute budget: waiting one minute and retrying would come
// back before the server allows it; the budget gives up at once instead.
TEST(RetryBudget, GivesUpAtOnceWhenTheServerAsksForLongerThanTheWholeBudget) {
    RetryPolicy policy;
    policy.max_total = 60s;
    FakeWaiter waiter;
    RetryBudget budget(policy, waiter);
    EXPECT_FALSE(budget.wait_for_next(3600s));
    EXPECT_TRUE(waiter.waits().empty());
}

TEST(RetryBudget, StopsBackingOffWhenTimeRunsOut) {
    RetryPolicy policy;
    policy.max_attempts = 100;
    policy.first_delay = 1000ms;
    policy.max_delay = 1000ms;
    policy.max_total = 10'000ms;
    FakeWaiter waiter;
    RetryBudget budget(policy, waiter);
    int retries = 0;
    while (budget.wait_for_next()) {
        ++retries;
        waiter.advance(500ms); // each attempt takes half a second
    }
    EXPECT_GT(retries, 5);
    EXPECT_LT(retries, 100);
    // The last wait ended within the budget, and no wait followed the refusal.
    Milliseconds elapsed{0};
    for (const auto wait : waiter.waits()) {
        elapsed += wait + 500ms;
    }
    EXPECT_LE(elapsed - 500ms, policy.max_total);
    EXPECT_EQ(waiter.waits().size(), static_cast<std::size_t>(retries));
}

TEST(RetryBudget, CountsTimeFromItsCreation) {
    RetryPolicy policy;
    policy.max_total = 5000ms;
    FakeWaiter waiter;
    waiter.advance(1h); // before the budget: not counted
    RetryBudget budget(policy, waiter);
    EXPECT_TRUE(budget.wait_for_next(5000ms));
}

} // namespace
} // namespace sc
