#include "core/money.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string_view>

namespace sc {
namespace {

// --- parse_vat_rate and to_string ------------------------------------------------------------

struct RateCase {
    std::string_view text;
    std::int64_t basis_points;
    std::string_view written; ///< to_string of the parsed rate
};

constexpr RateCase k_valid_rates[] = {
    {"20", 2000, "20"},      {"5.5", 550, "5.5"},      {"5,5", 550, "5.5"},
    {"2.1", 210, "2.1"},     {"2.10", 210, "2.1"},     {"0", 0, "0"},
    {"100", 10000, "100"},   {"8.5", 850, "8.5"},      {"10", 1000, "10"},
    {"0.05", 5, "0.05"},     {"19.6", 1960, "19.6"},   {"12.34", 1234, "12.34"},
    {"100.0", 10000, "100"}, {"100.00", 10000, "100"}, {"0,01", 1, "0.01"},
};

TEST(ParseVatRate, AcceptsPercentagesWithUpToTwoDecimals) {
    for (const auto& rate : k_valid_rates) {
        const auto parsed = parse_vat_rate(rate.text);
        ASSERT_TRUE(parsed.has_value()) << rate.text;
        EXPECT_EQ(parsed->basis_points, rate.basis_points) << rate.text;
    }
}

TEST(ParseVatRate, RejectsAnythingElse) {
    for (const std::string_view text :
         {"",    "abc", "5.",   ".5",    "5.555", "100.01", "101", "-5", "+5",   "1e2",  "20%",
          " 20", "20 ", "5..5", "5.5.5", "5,5,5", "1000",   ",",   ".",  "5 .5", "0x10", "2O"}) {
        EXPECT_FALSE(parse_vat_rate(text).has_value()) << "'" << text << "'";
    }
}

TEST(VatRateToString, WritesTheShortestExactDecimals) {
    for (const auto& rate : k_valid_rates) {
        EXPECT_EQ(to_string(VatRate{rate.basis_points}), rate.written) << rate.text;
    }
}

TEST(VatRateToString, RoundTripsThroughParse) {
    for (std::int64_t basis_points = 0; basis_points <= 10000; ++basis_points) {
        const VatRate rate{basis_points};
        const auto parsed = parse_vat_rate(to_string(rate));
        ASSERT_TRUE(parsed.has_value()) << to_string(rate);
        EXPECT_EQ(*parsed, rate) << to_string(rate);
    }
}

// --- split_vat ---------------------------------------------------------------------------------

struct SplitCase {
    Cents gross;
    std::int64_t basis_points;
    Cents vat; ///< computed by hand: gross × r / (100 + r) exactly, then half up
};

// Each case gives the exact quotient in its comment.
constexpr SplitCase k_splits[] = {
    {1000, 2000, 167},   // 166.666…
    {999, 2000, 167},    // 166.5 exactly: half up
    {12000, 2000, 2000}, // 2000 exactly
    {3, 2000, 1},        // 0.5 exactly
    {9, 2000, 2},        // 1.5 exactly
    {2, 2000, 0},        // 0.333…
    {1, 2000, 0},        // 0.1666…
    {1005, 2000, 168},   // 167.5 exactly
    {1055, 550, 55},     // 55 exactly (1055 = 5 × 211, rate 11/211)
    {48, 550, 3},        // 2.50237
    {163, 550, 8},       // 8.49763
    {259, 550, 14},      // 13.50237
    {5, 1000, 0},        // 0.4545…
    {6, 1000, 1},        // 0.5454…
    {16, 1000, 1},       // 1.4545…
    {17, 1000, 2},       // 1.5454…
    {1100, 1000, 100},   // 100 exactly
    {316, 210, 6},       // 6.49951
    {705, 210, 15},      // 14.50049
    {1021, 210, 21},     // 21 exactly (rate 21/1021)
    {83, 850, 7},        // 6.5023
    {134, 850, 10},      // 10.4977
    {217, 850, 17},      // 17 exactly (rate 17/217)
    {1, 10000, 1},       // 0.5 exactly
    {3, 10000, 2},       // 1.5 exactly
    {4, 6000, 2},        // 1.5 exactly
    {12, 6000, 5},       // 4.5 exactly
};

TEST(SplitVat, RoundsHalfUpToTheCent) {
    for (const auto& split : k_splits) {
        const auto result = split_vat(split.gross, VatRate{split.basis_points});
        EXPECT_EQ(result.vat, split.vat) << split.gross << " at " << split.basis_points << " bp";
        EXPECT_EQ(result.net, split.gross - split.vat)
            << split.gross << " at " << split.basis_points << " bp";
    }
}

TEST(SplitVat, SplitsTheDocumentedExamples) {
    EXPECT_EQ(split_vat(1000, VatRate{2000}).vat, 167);
    EXPECT_EQ(split_vat(1000, VatRate{2000}).net, 833);
    EXPECT_EQ(split_vat(999, VatRate{2000}).vat, 167);
    EXPECT_EQ(split_vat(999, VatRate{2000}).net, 832);
}

TEST(SplitVat, ZeroRateGivesNoVat) {
    for (const Cents gross : {Cents{0}, Cents{1}, Cents{999}, k_max_cents}) {
        const auto result = split_vat(gross, VatRate{0});
        EXPECT_EQ(result.vat, 0);
        EXPECT_EQ(result.net, gross);
    }
}

TEST(SplitVat, ZeroAmountGivesZeroParts) {
    for (const std::int64_t basis_points : {0, 210, 550, 2000, 10000}) {
        const auto result = split_vat(0, VatRate{basis_points});
        EXPECT_EQ(result.vat, 0);
        EXPECT_EQ(result.net, 0);
    }
}

TEST(SplitVat, HandlesTheLargestAmountWithoutOverflow) {
    // Exact quotients: 1e14/6 = 16666666666666.67; 1e14×11/211 = 5213270142180.09;
    // 1e14/2 = 5e13; 1e14×9999/19999 = 49997499874993.75.
    EXPECT_EQ(split_vat(k_max_cents, VatRate{2000}).vat, 16'666'666'666'667);
    EXPECT_EQ(split_vat(k_max_cents, VatRate{550}).vat, 5'213'270'142'180);
    EXPECT_EQ(split_vat(k_max_cents, VatRate{10000}).vat, 50'000'000'000'000);
    EXPECT_EQ(split_vat(k_max_cents, VatRate{9999}).vat, 49'997'499'874'994);
    EXPECT_EQ(split_vat(k_max_cents, VatRate{9999}).net, k_max_cents - 49'997'499'874'994);
}

TEST(SplitVat, AgreesWithExactDivisionOverManyAmountsAndRates) {
    for (const std::int64_t basis_points : {1, 210, 550, 850, 1000, 1960, 2000, 3333, 10000}) {
        const std::int64_t denominator = 10000 + basis_points;
        for (Cents gross = 0; gross <= 20000; ++gross) {
            const std::int64_t numerator = gross * basis_points;
            const Cents expected =
                numerator / denominator + (2 * (numerator % denominator) >= denominator ? 1 : 0);
            const auto result = split_vat(gross, VatRate{basis_points});
            ASSERT_EQ(result.vat, expected) << gross << " at " << basis_points << " bp";
            ASSERT_EQ(result.net + result.vat, gross);
        }
    }
}

TEST(SplitVat, ThrowsOutsideItsRange) {
    EXPECT_THROW(split_vat(-1, VatRate{2000}), std::out_of_range);
    EXPECT_THROW(split_vat(k_max_cents + 1, VatRate{2000}), std::out_of_range);
    EXPECT_THROW(split_vat(1000, VatRate{-1}), std::out_of_range);
    EXPECT_THROW(split_vat(1000, VatRate{10001}), std::out_of_range);
    EXPECT_NO_THROW(split_vat(k_max_cents, VatRate{10000}));
}

} // namespace
} // namespace sc
