#pragma once

#include "core/civil_time.h"

#include <cstdint>
#include <optional>
#include <string>

namespace sc::cli {

/// The whole days of a period, both included, and the unix times that bound it: [from, until).
struct Period {
    CivilDate first;
    CivilDate last;
    std::int64_t from = 0;
    std::int64_t until = 0;
};

/// How a command names its period: --since and --until, or --last.
struct PeriodOptions {
    std::optional<std::string> since;
    std::optional<std::string> until; ///< default: today
    std::optional<std::string> last;  ///< `7d`: the 7 days ending today; `24h`: the days those
                                      ///< hours touch
};

/// The period in the books' time zone at `now`. Throws Error (usage) naming the option at fault.
Period period_of(const PeriodOptions& options, const TimeZone& zone, std::int64_t now);

/// The day `days` days after (or before, when negative) `day`.
CivilDate shift_days(CivilDate day, int days);

} // namespace sc::cli
