#pragma once

#include <chrono>
#include <optional>
#include <random>
#include <string_view>

namespace sc {

using Milliseconds = std::chrono::milliseconds;

/// How often and how long a request is retried.
struct RetryPolicy {
    int max_attempts = 6;           ///< attempts in all, the first included
    Milliseconds first_delay{250};  ///< the wait before the second attempt, before jitter
    Milliseconds max_delay{8000};   ///< the longest wait between two attempts
    Milliseconds max_total{60'000}; ///< no new attempt starts after this much time
};

/// Waiting and the passing of time, so that tests need not wait.
class Waiter {
  public:
    virtual ~Waiter() = default;
    /// Blocks for `duration`.
    virtual void wait(Milliseconds duration) = 0;
    /// A monotonic time.
    virtual std::chrono::steady_clock::time_point now() = 0;
};

/// The real clock. A wait throws Error (130) once the run is interrupted (see interrupt.h).
class SteadyWaiter final : public Waiter {
  public:
    void wait(Milliseconds duration) override;
    std::chrono::steady_clock::time_point now() override;
};

/// The wait before attempt number `attempt` (2 for the first retry): exponential, capped at
/// max_delay, with jitter drawn between half and all of it so that clients spread out.
Milliseconds backoff_delay(int attempt, const RetryPolicy& policy, std::mt19937_64& random);

/// The delay a `Retry-After` header asks for, when it is a number of seconds; nothing
/// otherwise.
std::optional<Milliseconds> parse_retry_after(std::string_view value);

/// Counts attempts and time against a policy.
class RetryBudget {
  public:
    RetryBudget(const RetryPolicy& policy, Waiter& waiter);

    /// Waits before the next attempt (the server's delay when it gave one, else backoff) and
    /// returns true; returns false, without waiting, when attempts or time are used up.
    bool wait_for_next(std::optional<Milliseconds> server_delay = std::nullopt);

    /// Attempts made so far, the first included.
    int attempts() const { return m_attempts; }

  private:
    const RetryPolicy& m_policy;
    Waiter& m_waiter;
    std::chrono::steady_clock::time_point m_start;
    int m_attempts = 1;
    std::mt19937_64 m_random;
};

} // namespace sc
