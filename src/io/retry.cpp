#include "io/retry.h"

#include "io/interrupt.h"

#include <algorithm>
#include <charconv>
#include <thread>

namespace sc {

void SteadyWaiter::wait(Milliseconds duration) {
    // In slices, so that an interrupted run does not sit out a long backoff.
    constexpr Milliseconds k_slice{100};
    const auto end = std::chrono::steady_clock::now() + duration;
    for (auto now = std::chrono::steady_clock::now(); now < end;
         now = std::chrono::steady_clock::now()) {
        stop_if_interrupted("while waiting to retry");
        std::this_thread::sleep_for(
            std::min<Milliseconds>(k_slice, std::chrono::duration_cast<Milliseconds>(end - now)));
    }
}

std::chrono::steady_clock::time_point SteadyWaiter::now() {
    return std::chrono::steady_clock::now();
}

Milliseconds backoff_delay(int attempt, const RetryPolicy& policy, std::mt19937_64& random) {
    const int doublings = std::clamp(attempt - 2, 0, 20);
    const auto full =
        std::min(policy.first_delay * (std::int64_t{1} << doublings), policy.max_delay);
    std::uniform_int_distribution<std::int64_t> jitter(full.count() / 2, full.count());
    return Milliseconds(jitter(random));
}

std::optional<Milliseconds> parse_retry_after(std::string_view value) {
    constexpr std::int64_t k_max_seconds = 3600;
    if (value.empty() || value.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
    }
    std::int64_t seconds = 0;
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc::result_out_of_range) {
        seconds = k_max_seconds;
    }
    return Milliseconds(std::min(seconds, k_max_seconds) * 1000);
}

RetryBudget::RetryBudget(const RetryPolicy& policy, Waiter& waiter)
    : m_policy(policy), m_waiter(waiter), m_start(waiter.now()), m_random(std::random_device{}()) {}

bool RetryBudget::wait_for_next(std::optional<Milliseconds> server_delay) {
    if (m_attempts >= m_policy.max_attempts) {
        return false;
    }
    const Milliseconds delay =
        server_delay ? *server_delay : backoff_delay(m_attempts + 1, m_policy, m_random);
    const auto elapsed = std::chrono::duration_cast<Milliseconds>(m_waiter.now() - m_start);
    if (elapsed + delay > m_policy.max_total) {
        return false;
    }
    m_waiter.wait(delay);
    ++m_attempts;
    return true;
}

} // namespace sc
