#include "core/civil_time.h"
#include "core/error.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string_view>

namespace sc {
namespace {

// Unix seconds of a UTC date and time, computed with the standard calendar (independent of
// the time-zone library under test and of the machine's TZ setting).
std::int64_t utc(int year, unsigned month, unsigned day, int hour = 0, int minute = 0,
                 int second = 0) {
    const std::chrono::sys_days days{std::chrono::year{year} / std::chrono::month{month} /
                                     std::chrono::day{day}};
    return days.time_since_epoch().count() * 86400 + hour * 3600 + minute * 60 + second;
}

const TimeZone& paris() {
    static const TimeZone zone = TimeZone::locate("Europe/Paris");
    return zone;
}

// --- CivilDate, parse_iso_date, next_day -----------------------------------------------------

TEST(CivilDate, WritesIsoWithZeroPadding) {
    EXPECT_EQ(to_iso(CivilDate{2026, 1, 5}), "2026-01-05");
    EXPECT_EQ(to_iso(CivilDate{2026, 11, 30}), "2026-11-30");
    EXPECT_EQ(to_iso(CivilDate{999, 12, 31}), "0999-12-31");
}

TEST(CivilDate, OrdersByYearThenMonthThenDay) {
    EXPECT_LT((CivilDate{2025, 12, 31}), (CivilDate{2026, 1, 1}));
    EXPECT_LT((CivilDate{2026, 1, 31}), (CivilDate{2026, 2, 1}));
    EXPECT_EQ((CivilDate{2026, 2, 3}), (CivilDate{2026, 2, 3}));
}

TEST(ParseIsoDate, AcceptsValidDays) {
    for (const auto& [text, expected] : {std::pair{"2026-01-01", CivilDate{2026, 1, 1}},
                                         std::pair{"2024-02-29", CivilDate{2024, 2, 29}},
                                         std::pair{"2000-02-29", CivilDate{2000, 2, 29}},
                                         std::pair{"2026-12-31", CivilDate{2026, 12, 31}},
                                         std::pair{"1970-01-01", CivilDate{1970, 1, 1}}}) {
        const auto parsed = parse_iso_date(text);
        ASSERT_TRUE(parsed.has_value()) << text;
        EXPECT_EQ(*parsed, expected) << text;
        EXPECT_EQ(to_iso(*parsed), text);
    }
}

TEST(ParseIsoDate, RejectsInvalidDaysAndOtherShapes) {
    for (const std::string_view text :
         {"",           "2026-02-29",  "1900-02-29",  "2026-02-30",
          "2026-04-31", "2026-13-01",  "2026-00-10",  "2026-01-00",
          "2026-01-32", "2026-1-01",   "2026-01-1",   "2026/01/01",
          "20260101",   "2026-01-011", " 2026-01-01", "2026-01-01T00:00:00Z",
          "abcd-ef-gh", "2026-0a-01",  "+026-01-01",  "2026--1-01"}) {
        EXPECT_FALSE(parse_iso_date(text).has_value()) << "'" << text << "'";
    }
}

TEST(NextDay, CrossesMonthsAndYears) {
    EXPECT_EQ(next_day(CivilDate{2026, 3, 14}), (CivilDate{2026, 3, 15}));
    EXPECT_EQ(next_day(CivilDate{2026, 1, 31}), (CivilDate{2026, 2, 1}));
    EXPECT_EQ(next_day(CivilDate{2026, 2, 28}), (CivilDate{2026, 3, 1}));
    EXPECT_EQ(next_day(CivilDate{2024, 2, 28}), (CivilDate{2024, 2, 29}));
    EXPECT_EQ(next_day(CivilDate{2024, 2, 29}), (CivilDate{2024, 3, 1}));
    EXPECT_EQ(next_day(CivilDate{2026, 4, 30}), (CivilDate{2026, 5, 1}));
    EXPECT_EQ(next_day(CivilDate{2025, 12, 31}), (CivilDate{2026, 1, 1}));
}

// --- TimeZone ----------------------------------------------------------------------------------

TEST(TimeZone, KeepsItsName) {
    EXPECT_EQ(paris().name(), "Europe/Paris");
    EXPECT_EQ(TimeZone::locate("UTC").name(), "UTC");
}

TEST(TimeZone, UnknownZoneIsAConfigurationError) {
    for (const std::string_view name : {"Mars/Olympus_Mons", "", "europe/paris ", "Paris"}) {
        try {
            TimeZone::locate(name);
            ADD_FAILURE() << "no error for '" << name << "'";
        } catch (const Error& error) {
            EXPECT_EQ(error.status(), ExitStatus::config) << name;
            EXPECT_NE(std::string_view(error.what()).find(name), std::string_view::npos)
                << error.what();
        }
    }
}

struct DayCase {
    std::int64_t instant;
    CivilDate day;
};

void expect_days(const TimeZone& zone, std::initializer_list<DayCase> cases) {
    for (const auto& [instant, day] : cases) {
        EXPECT_EQ(to_iso(zone.day_of(instant)), to_iso(day)) << zone.name() << " at " << instant;
    }
}

TEST(TimeZoneDayOf, UsesTheWinterOffsetAroundNewYear) {
    expect_days(paris(), {
                             {utc(2025, 12, 31, 23, 30), {2026, 1, 1}},
                             {utc(2025, 12, 31, 23, 0, 0), {2026, 1, 1}},
                             {utc(2025, 12, 31, 22, 59, 59), {2025, 12, 31}},
                             {utc(2025, 12, 31, 0, 0, 0), {2025, 12, 31}},
                         });
}

TEST(TimeZoneDayOf, UsesTheSummerOffsetAroundMidnight) {
    expect_days(paris(), {
                             {utc(2026, 6, 30, 22, 0, 0), {2026, 7, 1}},
                             {utc(2026, 6, 30, 21, 59, 59), {2026, 6, 30}},
                         });
}

TEST(TimeZoneDayOf, HandlesTheSpringForwardDay) {
    // 29 March 2026: 02:00 CET becomes 03:00 CEST at 01:00Z.
    expect_days(paris(), {
                             {utc(2026, 3, 28, 22, 59, 59), {2026, 3, 28}},
                             {utc(2026, 3, 28, 23, 0, 0), {2026, 3, 29}},
                             {utc(2026, 3, 29, 0, 59, 59), {2026, 3, 29}},
                             {utc(2026, 3, 29, 1, 0, 0), {2026, 3, 29}},
                             {utc(2026, 3, 29, 21, 59, 59), {2026, 3, 29}},
                             {utc(2026, 3, 29, 22, 0, 0), {2026, 3, 30}},
                         });
}

TEST(TimeZoneDayOf, HandlesTheFallBackDay) {
    // 25 October 2026: 03:00 CEST becomes 02:00 CET at 01:00Z.
    expect_days(paris(), {
                             {utc(2026, 10, 24, 21, 59, 59), {2026, 10, 24}},
                             {utc(2026, 10, 24, 22, 0, 0), {2026, 10, 25}},
                             {utc(2026, 10, 25, 0, 59, 59), {2026, 10, 25}},
                             {utc(2026, 10, 25, 1, 0, 0), {2026, 10, 25}},
                             {utc(2026, 10, 25, 22, 59, 59), {2026, 10, 25}},
                             {utc(2026, 10, 25, 23, 0, 0), {2026, 10, 26}},
                         });
}

TEST(TimeZoneDayOf, InUtcIsTheUtcDay) {
    const auto zone = TimeZone::locate("UTC");
    expect_days(zone, {
                          {utc(2025, 12, 31, 23, 59, 59), {2025, 12, 31}},
                          {utc(2026, 1, 1), {2026, 1, 1}},
                          {0, {1970, 1, 1}},
                      });
}

TEST(TimeZoneDayOf, WestOfGreenwichIsStillTheDayBefore) {
    const auto zone = TimeZone::locate("America/New_York");
    expect_days(zone, {
                          {utc(2026, 1, 1, 4, 59, 59), {2025, 12, 31}},
                          {utc(2026, 1, 1, 5, 0, 0), {2026, 1, 1}},
                      });
}

TEST(TimeZoneStartOf, IsLocalMidnightOnANormalDay) {
    EXPECT_EQ(paris().start_of(CivilDate{2026, 1, 16}), utc(2026, 1, 15, 23));
    EXPECT_EQ(paris().start_of(CivilDate{2026, 7, 1}), utc(2026, 6, 30, 22));
    EXPECT_EQ(TimeZone::locate("UTC").start_of(CivilDate{2026, 7, 1}), utc(2026, 7, 1));
}

TEST(TimeZoneStartOf, HandlesTheSpringForwardDay) {
    EXPECT_EQ(paris().start_of(CivilDate{2026, 3, 29}), utc(2026, 3, 28, 23));
    // That day lasts 23 hours.
    EXPECT_EQ(paris().start_of(CivilDate{2026, 3, 30}), utc(2026, 3, 29, 22));
}

TEST(TimeZoneStartOf, HandlesTheFallBackDay) {
    EXPECT_EQ(paris().start_of(CivilDate{2026, 10, 25}), utc(2026, 10, 24, 22));
    // That day lasts 25 hours.
    EXPECT_EQ(paris().start_of(CivilDate{2026, 10, 26}), utc(2026, 10, 25, 23));
}

TEST(TimeZoneStartOf, IsTheFirstInstantAfterAGapAtMidnight) {
    // Checked with the system tzdata: `TZ=America/Santiago date -d @1662868800` is
    // Sun Sep 11 01:00:00 -03 2022, and one second earlier is Sat Sep 10 23:59:59 -04.
    const auto santiago = TimeZone::locate("America/Santiago");
    EXPECT_EQ(santiago.start_of(CivilDate{2022, 9, 11}), utc(2022, 9, 11, 4));
    expect_days(santiago, {
                              {utc(2022, 9, 11, 3, 59, 59), {2022, 9, 10}},
                              {utc(2022, 9, 11, 4, 0, 0), {2022, 9, 11}},
                          });
    // `TZ=Asia/Beirut date -d @1648332000` is Sun Mar 27 01:00:00 EEST 2022.
    const auto beirut = TimeZone::locate("Asia/Beirut");
    EXPECT_EQ(beirut.start_of(CivilDate{2022, 3, 27}), utc(2022, 3, 26, 22));
}

TEST(TimeZoneStartOf, AgreesWithDayOfAroundTheStart) {
    for (CivilDate day{2026, 1, 1}; day < CivilDate{2027, 1, 1}; day = next_day(day)) {
        const std::int64_t start = paris().start_of(day);
        EXPECT_EQ(paris().day_of(start), day) << to_iso(day);
        EXPECT_LT(paris().day_of(start - 1), day) << to_iso(day);
    }
}

// --- parse_timestamp ----------------------------------------------------------------------------

TEST(ParseTimestamp, AcceptsUnixSeconds) {
    EXPECT_EQ(parse_timestamp("1700000000"), 1700000000);
    EXPECT_EQ(parse_timestamp("0"), 0);
}

TEST(ParseTimestamp, AcceptsIso8601WithAnOffset) {
    const std::int64_t expected = utc(2026, 11, 30, 14, 5, 0);
    for (const std::string_view text :
         {"2026-11-30T14:05:00Z", "2026-11-30T14:05:00z", "2026-11-30t14:05:00Z",
          "2026-11-30 14:05:00Z", "2026-11-30T15:05:00+01:00", "2026-11-30T15:05:00+0100",
          "2026-11-30T15:05:00+01", "2026-11-30T09:35:00-04:30", "2026-11-30T14:05:00+00:00",
          "2026-11-30T14:05:00.123Z", "2026-11-30T14:05:00,5Z",
          "2026-11-30T15:05:00.999999+01:00"}) {
        EXPECT_EQ(parse_timestamp(text), expected) << text;
    }
}

TEST(ParseTimestamp, CrossesTheDayWithTheOffset) {
    EXPECT_EQ(parse_timestamp("2026-01-01T00:30:00+01:00"), utc(2025, 12, 31, 23, 30));
}

TEST(ParseTimestamp, RejectsTextWithoutOffsetOrThatIsNotATime) {
    for (const std::string_view text : {"",
                                        "2026-11-30T14:05:00",
                                        "2026-11-30T14:05:00.123",
                                        "2026-11-30",
                                        "2026-11-30T14:05Z",
                                        "yesterday",
                                        "-5",
                                        "17e8",
                                        "1700000000 ",
                                        " 1700000000",
                                        "0x10",
                                        "2026-11-30T24:00:00Z",
                                        "2026-11-30T14:60:00Z",
                                        "2026-02-30T14:05:00Z",
                                        "2026-11-30T14:05:00+1:00",
                                        "2026-11-30T14:05:00+01:0",
                                        "2026-11-30T14:05:00+24:00",
                                        "2026-11-30T14:05:00+01:60",
                                        "2026-11-30T14:05:00Zjunk",
                                        "2026-11-30T14:05:00 Z",
                                        "2026-11-30X14:05:00Z",
                                        "2026-11-30T14:05:00UTC",
                                        "2026-11-30T14:05:00."}) {
        EXPECT_FALSE(parse_timestamp(text).has_value()) << "'" << text << "'";
    }
}

} // namespace
} // namespace sc
