#pragma once

#include "io/diagnostics.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace sc::cli {

/// The one-line progress of a backfill on stderr, redrawn in place, shown only when stderr is a
/// terminal: listed, posted, already there, skipped, rate, and an estimate of the time left
/// from how far the listing has gone back through the period.
class Progress {
  public:
    /// The period listed is [from, until), unix seconds, walked newest first. The line goes
    /// through `diagnostics` so that it never mixes with a warning from another thread.
    Progress(Diagnostics& diagnostics, bool enabled, std::int64_t from, std::int64_t until);

    /// Notes a listed charge's creation time.
    void listed(std::int64_t created);
    /// Redraws the line from the results so far, at most a few times a second.
    void update(const std::map<std::string, int>& counts);
    /// Erases the line so that a result can be printed in its place.
    void clear();
    /// Erases the line for good.
    void finish();

  private:
    Diagnostics& m_diagnostics;
    bool m_enabled;
    bool m_shown = false;
    std::int64_t m_from;
    std::int64_t m_until;
    std::atomic<std::int64_t> m_oldest;
    std::atomic<int> m_listed = 0;
    std::chrono::steady_clock::time_point m_start;
    std::chrono::steady_clock::time_point m_last_draw;
};

} // namespace sc::cli
