#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace date {
class time_zone;
}

namespace sc {

/// A calendar day, as the books date an operation.
struct CivilDate {
    int year = 1970;
    unsigned month = 1;
    unsigned day = 1;

    friend auto operator<=>(const CivilDate&, const CivilDate&) = default;
};

/// `YYYY-MM-DD`.
std::string to_iso(CivilDate day);

/// A unix time as `YYYY-MM-DDTHH:MM:SSZ`.
std::string to_iso_utc(std::int64_t unix_seconds);

/// Parses a valid `YYYY-MM-DD` day; nothing otherwise.
std::optional<CivilDate> parse_iso_date(std::string_view text);

/// The day after `day`.
CivilDate next_day(CivilDate day);

/// A named IANA time zone of the system's time-zone database.
class TimeZone {
  public:
    /// Looks the zone up, e.g. `Europe/Paris`; throws Error (configuration) when it is unknown.
    static TimeZone locate(std::string_view name);

    /// The zone's IANA name.
    const std::string& name() const { return m_name; }

    /// The day in this zone at a unix time: 2025-12-31T23:30Z is 2026-01-01 in Europe/Paris.
    CivilDate day_of(std::int64_t unix_seconds) const;

    /// The unix time at which `day` starts in this zone (its first instant, DST included).
    std::int64_t start_of(CivilDate day) const;

  private:
    TimeZone(std::string name, const date::time_zone* zone)
        : m_name(std::move(name)), m_zone(zone) {}

    std::string m_name;
    const date::time_zone* m_zone;
};

/// Parses a point in time: unix seconds, or ISO 8601 with an offset
/// (`2026-11-30T14:05:00Z`, `2026-11-30T15:05:00+01:00`, fractions of a second ignored).
/// Returns nothing when the text is neither, or when an ISO time has no offset.
std::optional<std::int64_t> parse_timestamp(std::string_view text);

} // namespace sc
