#include "core/entry.h"
#include "core/money.h"
#include "core/stripe_objects.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace sc {
namespace {

using nlohmann::json;

// 2026-11-30T14:05:00Z
constexpr std::int64_t k_created = 1796047500;

// --- currency_exponent
// -------------------------------------------------------------------------------

TEST(CurrencyExponent, IsZeroForZeroDecimalCurrencies) {
    for (const std::string_view currency : {"jpy", "krw", "xof", "xaf", "clp", "vnd"}) {
        EXPECT_EQ(currency_exponent(currency), 0) << currency;
    }
}

TEST(CurrencyExponent, IsThreeForThreeDecimalCurrencies) {
    for (const std::string_view currency : {"kwd", "bhd", "tnd", "jod", "omr"}) {
        EXPECT_EQ(currency_exponent(currency), 3) << currency;
    }
}

TEST(CurrencyExponent, IsTwoForOtherCurrencies) {
    for (const std::string_view currency : {"eur", "usd", "isk", "gbp", "chf"}) {
        EXPECT_EQ(currency_exponent(currency), 2) << currency;
    }
}

// --- foreign amounts on the lines
// ----------------------------------------------------------------------

const LedgerSettings& default_ledger() {
    static const LedgerSettings ledger;
    return ledger;
}

Charge a_foreign_sale(std::string currency, Cents amount, Cents euros,
                      std::optional<std::string> tva_rate = std::nullopt) {
    Charge charge;
    charge.id = "ch_1";
    charge.amount = amount;
    charge.amount_captured = amount;
    charge.currency = std::move(currency);
    charge.created = k_created;
    charge.status = "succeeded";
    charge.captured = true;
    charge.receipt_email = "client@example.fr";
    charge.tva_rate = std::move(tva_rate);
    charge.balance_transaction = BalanceTransaction{"txn_1", euros, 0, "eur"};
    return charge;
}

EntryLine line(std::string account, Cents debit, Cents credit, std::optional<Cents> foreign,
               std::optional<std::string> email = std::nullopt) {
    return EntryLine{std::move(account), std::move(email), debit, credit, foreign};
}

Entry booked_sale(const Charge& charge) {
    const auto decision = decide_sale(charge, default_ledger());
    EXPECT_EQ(decision.disposition, Disposition::book) << decision.reason;
    EXPECT_TRUE(decision.entry.has_value());
    return decision.entry.value_or(Entry{});
}

TEST(ForeignAmounts, BookAYenSaleAtItsEuroAmountAndKeepTheYenOnEachLine) {
    const Entry entry = booked_sale(a_foreign_sale("jpy", 1500, 912));
    EXPECT_EQ(entry.foreign_currency, "jpy");
    EXPECT_EQ(entry.lines, (std::vector<EntryLine>{
                               line("411000", 912, 0, 1500, "client@example.fr"),
                               line("707000", 0, 760, 1250),
                               line("445712", 0, 152, 250),
                           }));
}

TEST(ForeignAmounts, SplitTheForeignAmountAtTheSaleRate) {
    const Entry entry = booked_sale(a_foreign_sale("usd", 1650, 1500, "10"));
    EXPECT_EQ(entry.foreign_currency, "usd");
    EXPECT_EQ(entry.lines, (std::vector<EntryLine>{
                               line("411000", 1500, 0, 1650, "client@example.fr"),
                               line("707000", 0, 1364, 1500),
                               line("445712", 0, 136, 150),
                           }));
}

TEST(ForeignAmounts, KeepThreeDecimalAmountsInTheirMinorUnits) {
    // 12.345 KWD settled as 34.00 €
    const Entry entry = booked_sale(a_foreign_sale("kwd", 12345, 3400));
    EXPECT_EQ(entry.foreign_currency, "kwd");
    EXPECT_EQ(entry.lines, (std::vector<EntryLine>{
                               line("411000", 3400, 0, 12345, "client@example.fr"),
                               line("707000", 0, 2833, 10287),
                               line("445712", 0, 567, 2058),
                           }));
}

TEST(ForeignAmounts, AreAbsentFromAEuroSale) {
    Charge charge = a_foreign_sale("eur", 1000, 1000);
    const Entry entry = booked_sale(charge);
    EXPECT_FALSE(entry.foreign_currency.has_value());
    for (const auto& entry_line : entry.lines) {
        EXPECT_FALSE(entry_line.foreign.has_value()) << entry_line.account;
    }
}

TEST(ForeignAmounts, OmitTheVatLineAtRateZero) {
    const Entry entry = booked_sale(a_foreign_sale("jpy", 1500, 912, "0"));
    EXPECT_EQ(entry.lines, (std::vector<EntryLine>{
                               line("411000", 912, 0, 1500, "client@example.fr"),
                               line("707000", 0, 912, 1500),
                           }));
}

// The foreign amounts of the lines other than the customer's, which must add up to its own.
Cents foreign_sum(const std::vector<EntryLine>& lines, std::string_view customer_account) {
    Cents sum = 0;
    for (const auto& entry_line : lines) {
        if (entry_line.account != customer_account) {
            sum += entry_line.foreign.value_or(0);
        }
    }
    return sum;
}

TEST(ForeignAmounts, SumTheForeignCreditsOfAYenSaleToItsForeignDebit) {
    const Entry entry = booked_sale(a_foreign_sale("jpy", 1500, 912));
    ASSERT_EQ(entry.lines.size(), 3U);
    EXPECT_EQ(entry.lines[0].foreign, 1500);
    EXPECT_EQ(entry.lines[1].foreign.value_or(0) + entry.lines[2].foreign.value_or(0), 1500);
}

TEST(ForeignAmounts, KeepEveryForeignUnitWhenTheEuroVatRoundsToZero) {
    // 25 JPY at 2.1 %: 24 + 1 JPY; settled 0.16 EUR: 0.16 + 0.00 EUR.
    const Entry entry = booked_sale(a_foreign_sale("jpy", 25, 16, "2.1"));
    ASSERT_FALSE(entry.lines.empty());
    EXPECT_EQ(entry.lines.front().foreign, 25);
    EXPECT_EQ(foreign_sum(entry.lines, "411000"), 25);
}

TEST(ForeignAmounts, KeepEveryForeignUnitOfACreditNoteWhenTheEuroVatRoundsToZero) {
    Refund refund;
    refund.id = "re_1";
    refund.amount = 25;
    refund.currency = "jpy";
    refund.created = k_created;
    refund.status = "succeeded";
    refund.charge_id = "ch_1";
    refund.charge = RefundedCharge{"2.1", "client@example.fr"};
    refund.balance_transaction = BalanceTransaction{"txn_r1", -16, 0, "eur"};
    const auto decision = decide_refund(refund, default_ledger());
    ASSERT_TRUE(decision.entry.has_value()) << decision.reason;
    ASSERT_FALSE(decision.entry->lines.empty());
    EXPECT_EQ(decision.entry->lines.back().foreign, 25);
    EXPECT_EQ(foreign_sum(decision.entry->lines, "411000"), 25);
}

TEST(ForeignAmounts, BalanceForEveryAmountAndRate) {
    for (const std::string_view rate : {"0", "2.1", "5.5", "10", "20", "100"}) {
        for (Cents amount = 1; amount <= 2000; ++amount) {
            const Entry entry =
                booked_sale(a_foreign_sale("jpy", amount, amount * 3 / 5 + 1, std::string(rate)));
            ASSERT_FALSE(entry.lines.empty());
            ASSERT_EQ(entry.lines.front().foreign, amount) << amount << " at " << rate;
            ASSERT_EQ(foreign_sum(entry.lines, "411000"), amount) << amount << " at " << rate;
        }
    }
}

TEST(ForeignAmounts, SumTheForeignCreditsOfACreditNoteToItsForeignDebits) {
    Refund refund;
    refund.id = "re_1";
    refund.amount = 500;
    refund.currency = "jpy";
    refund.created = k_created;
    refund.status = "succeeded";
    refund.charge_id = "ch_1";
    refund.charge = RefundedCharge{"10", "client@example.fr"};
    refund.balance_transaction = BalanceTransaction{"txn_r1", -304, 0, "eur"};
    const auto decision = decide_refund(refund, default_ledger());
    ASSERT_TRUE(decision.entry.has_value()) << decision.reason;
    EXPECT_EQ(decision.entry->foreign_currency, "jpy");
    EXPECT_EQ(decision.entry->lines, (std::vector<EntryLine>{
                                         line("707000", 276, 0, 455),
                                         line("445712", 28, 0, 45),
                                         line("411000", 0, 304, 500, "client@example.fr"),
                                     }));
}

TEST(ForeignAmounts, AreNotSentToComptentra) {
    const Entry entry = booked_sale(a_foreign_sale("jpy", 1500, 912));
    EXPECT_EQ(to_json(entry).dump(),
              R"({"date":"2026-11-30","journal":"VTE","libelle":"Paiement Stripe ch_1",)"
              R"("lignes":[)"
              R"({"compte":"411000","tiers_email":"client@example.fr",)"
              R"("debit_cents":912,"credit_cents":0},)"
              R"({"compte":"707000","debit_cents":0,"credit_cents":760},)"
              R"({"compte":"445712","debit_cents":0,"credit_cents":152}]})");
}

TEST(ForeignAmounts, ComeFromAParsedYenChargeWithItsBalanceTransaction) {
    const json document = {{"id", "ch_1"},
                           {"object", "charge"},
                           {"amount", 1500},
                           {"amount_captured", 1500},
                           {"currency", "jpy"},
                           {"created", k_created},
                           {"status", "succeeded"},
                           {"captured", true},
                           {"receipt_email", "client@example.fr"},
                           {"balance_transaction",
                            {{"id", "txn_1"},
                             {"object", "balance_transaction"},
                             {"amount", 912},
                             {"fee", 57},
                             {"currency", "eur"}}}};
    const auto decision = decide_entry(parse_stripe_object(document, "in"), default_ledger());
    ASSERT_TRUE(decision.entry.has_value()) << decision.reason;
    EXPECT_EQ(decision.entry->foreign_currency, "jpy");
    ASSERT_EQ(decision.entry->lines.size(), 3U);
    EXPECT_EQ(decision.entry->lines[0].foreign, 1500);
    EXPECT_EQ(decision.entry->lines[1].foreign, 1250);
    EXPECT_EQ(decision.entry->lines[2].foreign, 250);
}

} // namespace
} // namespace sc
