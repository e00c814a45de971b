#include "cli/period.h"

#include "core/error.h"

#include <fmt/format.h>

#include <charconv>

namespace sc::cli {
namespace {

CivilDate parse_day(const std::string& text, std::string_view option) {
    const auto day = parse_iso_date(text);
    if (!day) {
        throw Error(ExitStatus::usage,
                    fmt::format("{}: '{}' is not a date such as 2026-11-30", option, text));
    }
    return *day;
}

// The first day of `--last N{d,h}` ending on `today`.
CivilDate first_day_of_last(const std::string& text, const TimeZone& zone, std::int64_t now) {
    constexpr int k_max_days = 3660;
    int count = 0;
    const char* end = text.data() + text.size();
    const auto [rest, error] = std::from_chars(text.data(), end, count);
    const bool well_formed = error == std::errc() && rest + 1 == end && count > 0 &&
                             (*rest == 'd' || *rest == 'h') &&
                             count <= (*rest == 'd' ? k_max_days : k_max_days * 24);
    if (!well_formed) {
        throw Error(ExitStatus::usage,
                    fmt::format("--last: '{}' is not a span such as 7d or 24h", text),
                    "give a number of days (d) or hours (h), at most 3660 days");
    }
    if (*rest == 'h') {
        return zone.day_of(now - std::int64_t{count} * 3600);
    }
    return shift_days(zone.day_of(now), 1 - count);
}

} // namespace

CivilDate shift_days(CivilDate day, int days) {
    const TimeZone utc = TimeZone::locate("UTC");
    return utc.day_of(utc.start_of(day) + std::int64_t{days} * 86'400);
}

Period period_of(const PeriodOptions& options, const TimeZone& zone, std::int64_t now) {
    if (options.last && (options.since || options.until)) {
        throw Error(ExitStatus::usage, "--last cannot be combined with --since or --until");
    }
    if (!options.last && !options.since) {
        throw Error(ExitStatus::usage, "the period is missing",
                    "pass --since DATE (and --until DATE), or --last 7d");
    }
    Period period;
    period.last = options.until ? parse_day(*options.until, "--until") : zone.day_of(now);
    period.first = options.last ? first_day_of_last(*options.last, zone, now)
                                : parse_day(*options.since, "--since");
    if (period.last < period.first) {
        throw Error(ExitStatus::usage, fmt::format("--until {} is before --since {}",
                                                   to_iso(period.last), to_iso(period.first)));
    }
    period.from = zone.start_of(period.first);
    period.until = zone.start_of(next_day(period.last));
    return period;
}

} // namespace sc::cli
