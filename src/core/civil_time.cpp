#include "core/civil_time.h"

#include "core/error.h"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

#include <charconv>
#include <chrono>

namespace sc {
namespace {

using Seconds = std::chrono::duration<std::int64_t>;
using SysSeconds = std::chrono::time_point<std::chrono::system_clock, Seconds>;

date::year_month_day to_ymd(CivilDate day) {
    return date::year{day.year} / date::month{day.month} / date::day{day.day};
}

CivilDate from_ymd(date::year_month_day ymd) {
    return CivilDate{static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day())};
}

// Reads exactly `width` digits at `pos`; nothing when they are not all digits.
std::optional<int> read_digits(std::string_view text, std::size_t pos, std::size_t width) {
    if (pos + width > text.size()) {
        return std::nullopt;
    }
    int value = 0;
    for (std::size_t i = pos; i < pos + width; ++i) {
        if (text[i] < '0' || text[i] > '9') {
            return std::nullopt;
        }
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

std::optional<std::int64_t> parse_utc_offset_seconds(std::string_view zone) {
    if (zone == "Z" || zone == "z") {
        return 0;
    }
    if (zone.size() < 3 || (zone[0] != '+' && zone[0] != '-')) {
        return std::nullopt;
    }
    const auto hours = read_digits(zone, 1, 2);
    const std::size_t minutes_at = zone.size() == 6 && zone[3] == ':' ? 4 : 3;
    const auto minutes =
        zone.size() == 3 ? std::optional<int>(0) : read_digits(zone, minutes_at, 2);
    if (!hours || !minutes || *hours > 23 || *minutes > 59 ||
        (zone.size() != 3 && minutes_at + 2 != zone.size())) {
        return std::nullopt;
    }
    const std::int64_t offset = *hours * 3600 + *minutes * 60;
    return zone[0] == '-' ? -offset : offset;
}

} // namespace

std::string to_iso_utc(std::int64_t unix_seconds) {
    return date::format("%FT%TZ", date::sys_seconds{std::chrono::seconds{unix_seconds}});
}

std::string to_iso(CivilDate day) {
    return fmt::format("{:04}-{:02}-{:02}", day.year, day.month, day.day);
}

std::optional<CivilDate> parse_iso_date(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
        return std::nullopt;
    }
    const auto year = read_digits(text, 0, 4);
    const auto month = read_digits(text, 5, 2);
    const auto day = read_digits(text, 8, 2);
    if (!year || !month || !day) {
        return std::nullopt;
    }
    const CivilDate parsed{*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day)};
    if (!to_ymd(parsed).ok()) {
        return std::nullopt;
    }
    return parsed;
}

CivilDate next_day(CivilDate day) {
    return from_ymd(date::year_month_day{date::sys_days{to_ymd(day)} + date::days{1}});
}

TimeZone TimeZone::locate(std::string_view name) {
    try {
        std::string owned(name);
        const auto* zone = date::locate_zone(owned);
        return TimeZone(std::move(owned), zone);
    } catch (const std::exception&) {
        throw Error(ExitStatus::config, fmt::format("unknown time zone '{}'", name),
                    "use an IANA name such as Europe/Paris (the tzdata package provides them)");
    }
}

CivilDate TimeZone::day_of(std::int64_t unix_seconds) const {
    const date::zoned_time<Seconds> zoned{m_zone, SysSeconds{Seconds{unix_seconds}}};
    return from_ymd(date::year_month_day{date::floor<date::days>(zoned.get_local_time())});
}

std::int64_t TimeZone::start_of(CivilDate day) const {
    const date::local_days midnight{to_ymd(day)};
    // A day starts at its first instant: when midnight falls in a gap, the first one after it.
    const auto info = m_zone->get_info(midnight);
    const auto start = info.result == date::local_info::nonexistent
                           ? info.second.begin
                           : date::sys_seconds{midnight.time_since_epoch() - info.first.offset};
    return std::chrono::duration_cast<Seconds>(start.time_since_epoch()).count();
}

std::optional<std::int64_t> parse_timestamp(std::string_view text) {
    std::int64_t seconds = 0;
    const auto* end = text.data() + text.size();
    if (const auto [ptr, ec] = std::from_chars(text.data(), end, seconds);
        !text.empty() && ec == std::errc{} && ptr == end) {
        return seconds >= 0 ? std::optional(seconds) : std::nullopt;
    }
    const auto day = parse_iso_date(text.substr(0, 10));
    if (!day || text.size() < 20 || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
        text[13] != ':' || text[16] != ':') {
        return std::nullopt;
    }
    const auto hour = read_digits(text, 11, 2);
    const auto minute = read_digits(text, 14, 2);
    const auto second = read_digits(text, 17, 2);
    if (!hour || !minute || !second || *hour > 23 || *minute > 59 || *second > 60) {
        return std::nullopt;
    }
    std::size_t zone_at = 19;
    if (text[zone_at] == '.' || text[zone_at] == ',') {
        ++zone_at;
        while (zone_at < text.size() && text[zone_at] >= '0' && text[zone_at] <= '9') {
            ++zone_at;
        }
    }
    const auto offset = parse_utc_offset_seconds(text.substr(zone_at));
    if (!offset) {
        return std::nullopt;
    }
    const auto days = date::sys_days{to_ymd(*day)}.time_since_epoch();
    const std::int64_t local =
        std::chrono::duration_cast<Seconds>(days).count() + *hour * 3600 + *minute * 60 + *second;
    return local - *offset;
}

} // namespace sc
