#include "core/entry.h"
#include "core/error.h"
#include "core/stripe_objects.h"
#include "io/settings.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "temp_dir.h"

namespace sc {
namespace {

using nlohmann::json;

// 2026-11-30T14:05:00Z, 15:05 in Paris
constexpr std::int64_t k_created = 1796047500;

// A captured EUR sale of 120 € whose balance transaction came with it: Stripe kept 3.80 €.
Charge a_sale(Cents fee = 380) {
    Charge charge;
    charge.id = "ch_x";
    charge.amount = 12000;
    charge.amount_captured = 12000;
    charge.currency = "eur";
    charge.created = k_created;
    charge.status = "succeeded";
    charge.captured = true;
    charge.receipt_email = "client@example.fr";
    charge.balance_transaction = BalanceTransaction{"txn_1", 12000, fee, "eur"};
    return charge;
}

LedgerSettings fees_ledger() {
    LedgerSettings ledger;
    ledger.book_fees = true;
    return ledger;
}

Event an_event(const Charge& charge, std::string type) {
    return Event{.id = "evt_1",
                 .type = std::move(type),
                 .object_type = "charge",
                 .charge = charge,
                 .refund = std::nullopt};
}

EntryLine line(std::string account, Cents debit, Cents credit) {
    return EntryLine{std::move(account), std::nullopt, debit, credit, std::nullopt};
}

Entry fee_entry(Cents fee, CivilDate date = CivilDate{2026, 11, 30}) {
    return Entry{date, "BQ", "Frais Stripe ch_x",
                 std::vector<EntryLine>{line("627800", fee, 0), line("512700", 0, fee)},
                 std::nullopt};
}

// --- when a fee is booked
// ---------------------------------------------------------------------------

TEST(DecideFee, BooksNoFeeUnlessFeesAreBooked) {
    const LedgerSettings ledger;
    EXPECT_FALSE(ledger.book_fees);
    const auto decisions = decide_entries(StripeObject{a_sale()}, ledger);
    ASSERT_EQ(decisions.size(), 1U);
    EXPECT_EQ(decisions[0].object_id, "ch_x");
    EXPECT_EQ(decisions[0].idempotency_key, "stripe-comptentra-sale-ch_x");
    EXPECT_FALSE(decide_fee(a_sale(), ledger).has_value());
}

TEST(DecideFee, BooksTheFeeAfterTheSaleWhenFeesAreBooked) {
    const auto decisions = decide_entries(StripeObject{a_sale()}, fees_ledger());
    ASSERT_EQ(decisions.size(), 2U);
    EXPECT_EQ(decisions[0].disposition, Disposition::book);
    EXPECT_EQ(decisions[0].object_id, "ch_x");
    ASSERT_TRUE(decisions[0].entry.has_value());
    EXPECT_EQ(decisions[0].entry->libelle, "Paiement Stripe ch_x");

    const EntryDecision& fee = decisions[1];
    EXPECT_EQ(fee.disposition, Disposition::book);
    EXPECT_EQ(fee.object_id, "txn_1");
    EXPECT_EQ(fee.idempotency_key, "stripe-comptentra-fee-ch_x");
    EXPECT_EQ(fee.reason, "");
    EXPECT_EQ(fee.note, "");
    ASSERT_TRUE(fee.entry.has_value());
    EXPECT_EQ(*fee.entry, fee_entry(380));
}

TEST(DecideFee, BooksTheFeeOfEachSaleEvent) {
    for (const std::string type : {"charge.succeeded", "charge.captured"}) {
        const auto decisions =
            decide_entries(StripeObject{an_event(a_sale(), type)}, fees_ledger());
        ASSERT_EQ(decisions.size(), 2U) << type;
        EXPECT_EQ(decisions[0].object_id, "ch_x");
        EXPECT_EQ(decisions[1].object_id, "txn_1");
        ASSERT_TRUE(decisions[1].entry.has_value());
        EXPECT_EQ(*decisions[1].entry, fee_entry(380));
    }
}

TEST(DecideFee, KeepsTheSaleAsTheFirstDecision) {
    const auto decision = decide_entry(StripeObject{a_sale()}, fees_ledger());
    EXPECT_EQ(decision.object_id, "ch_x");
    EXPECT_EQ(decision.idempotency_key, "stripe-comptentra-sale-ch_x");
}

TEST(DecideFee, UsesTheConfiguredFeesJournalAndAccounts) {
    LedgerSettings ledger = fees_ledger();
    ledger.fees_journal = "OD";
    ledger.fees_account = "622780";
    ledger.stripe_account = "517000";
    const auto fee = decide_fee(a_sale(145), ledger);
    ASSERT_TRUE(fee.has_value());
    ASSERT_TRUE(fee->entry.has_value());
    EXPECT_EQ(*fee->entry,
              (Entry{CivilDate{2026, 11, 30}, "OD", "Frais Stripe ch_x",
                     std::vector<EntryLine>{line("622780", 145, 0), line("517000", 0, 145)},
                     std::nullopt}));
}

TEST(DecideFee, BooksNoFeeEntryForAZeroFee) {
    const auto decisions = decide_entries(StripeObject{a_sale(0)}, fees_ledger());
    ASSERT_EQ(decisions.size(), 1U);
    EXPECT_EQ(decisions[0].object_id, "ch_x");
    EXPECT_EQ(decisions[0].disposition, Disposition::book);
    EXPECT_FALSE(decide_fee(a_sale(0), fees_ledger()).has_value());
}

TEST(DecideFee, IsInvalidWithoutTheBalanceTransactionNamingItsId) {
    Charge charge = a_sale();
    charge.balance_transaction.reset();
    charge.balance_transaction_id = "txn_1";
    const auto decisions = decide_entries(StripeObject{charge}, fees_ledger());
    ASSERT_EQ(decisions.size(), 2U);
    EXPECT_EQ(decisions[0].disposition, Disposition::book); // a EUR sale needs no settlement
    EXPECT_EQ(decisions[1].disposition, Disposition::invalid);
    EXPECT_EQ(decisions[1].object_id, "txn_1");
    EXPECT_FALSE(decisions[1].entry.has_value());
    EXPECT_NE(decisions[1].reason.find("balance transaction"), std::string::npos)
        << decisions[1].reason;
    EXPECT_NE(decisions[1].reason.find("ch_x"), std::string::npos) << decisions[1].reason;
}

TEST(DecideFee, IsInvalidWithoutAnyBalanceTransactionNamingTheCharge) {
    Charge charge = a_sale();
    charge.balance_transaction.reset();
    const auto fee = decide_fee(charge, fees_ledger());
    ASSERT_TRUE(fee.has_value());
    EXPECT_EQ(fee->disposition, Disposition::invalid);
    EXPECT_EQ(fee->object_id, "ch_x");
}

TEST(DecideFee, IsInvalidForAFeeInAnotherCurrency) {
    Charge charge = a_sale();
    charge.balance_transaction = BalanceTransaction{"txn_1", 12000, 380, "usd"};
    const auto decisions = decide_entries(StripeObject{charge}, fees_ledger());
    ASSERT_EQ(decisions.size(), 2U);
    EXPECT_EQ(decisions[1].disposition, Disposition::invalid);
    EXPECT_EQ(decisions[1].object_id, "txn_1");
    EXPECT_FALSE(decisions[1].entry.has_value());
    EXPECT_NE(decisions[1].reason.find("usd"), std::string::npos) << decisions[1].reason;
}

TEST(DecideFee, BooksNoFeeForAnUncapturedCharge) {
    Charge charge = a_sale();
    charge.captured = false;
    charge.amount_captured = 0;
    const auto decisions = decide_entries(StripeObject{charge}, fees_ledger());
    ASSERT_EQ(decisions.size(), 1U);
    EXPECT_EQ(decisions[0].disposition, Disposition::skip);
    EXPECT_FALSE(decide_fee(charge, fees_ledger()).has_value());
}

TEST(DecideFee, BooksNoFeeForAChargeThatDidNotSucceed) {
    for (const std::string status : {"failed", "pending"}) {
        Charge charge = a_sale();
        charge.status = status;
        EXPECT_EQ(decide_entries(StripeObject{charge}, fees_ledger()).size(), 1U) << status;
    }
}

TEST(DecideFee, BooksTheEuroFeeOfAForeignSale) {
    Charge charge = a_sale();
    charge.amount = 13000;
    charge.amount_captured = 13000;
    charge.currency = "usd";
    charge.balance_transaction = BalanceTransaction{"txn_1", 12000, 380, "eur"};
    const auto decisions = decide_entries(StripeObject{charge}, fees_ledger());
    ASSERT_EQ(decisions.size(), 2U);
    ASSERT_TRUE(decisions[0].entry.has_value());
    EXPECT_EQ(decisions[0].entry->foreign_currency, "usd");
    ASSERT_TRUE(decisions[1].entry.has_value());
    EXPECT_EQ(*decisions[1].entry, fee_entry(380)); // in euros, no foreign amounts
}

TEST(DecideFee, DatesTheFeeOnTheChargesDayInParis) {
    Charge charge = a_sale();
    charge.created = 1796081400; // 2026-11-30T23:30:00Z, 00:30 on 1 December in Paris
    const auto fee = decide_fee(charge, fees_ledger());
    ASSERT_TRUE(fee.has_value());
    ASSERT_TRUE(fee->entry.has_value());
    EXPECT_EQ(fee->entry->date, (CivilDate{2026, 12, 1}));
}

TEST(DecideFee, BooksTheFeeOfAParsedChargeWithItsBalanceTransaction) {
    const json document = {{"id", "ch_x"},
                           {"object", "charge"},
                           {"amount", 12000},
                           {"amount_captured", 12000},
                           {"currency", "eur"},
                           {"created", k_created},
                           {"status", "succeeded"},
                           {"captured", true},
                           {"balance_transaction",
                            {{"id", "txn_1"},
                             {"object", "balance_transaction"},
                             {"amount", 12000},
                             {"fee", 380},
                             {"currency", "eur"}}}};
    const auto decisions = decide_entries(parse_stripe_object(document, "in"), fees_ledger());
    ASSERT_EQ(decisions.size(), 2U);
    ASSERT_TRUE(decisions[1].entry.has_value());
    EXPECT_EQ(*decisions[1].entry, fee_entry(380));
}

TEST(FeeLibelle, IsFraisStripeAndTheChargeId) {
    EXPECT_EQ(fee_libelle("ch_3QxY"), "Frais Stripe ch_3QxY");
}

// --- settings
// -----------------------------------------------------------------------------------------

using testing::TempDir;
using Variables = std::map<std::string, std::string, std::less<>>;

Settings resolve(const SettingFlags& flags, Variables variables = {}) {
    return resolve_settings(flags, MapEnvironment(std::move(variables)));
}

SettingFlags with_config(const std::filesystem::path& path) {
    SettingFlags flags;
    flags.config_path = path;
    return flags;
}

const SettingOrigin* origin_of(const Settings& settings, std::string_view key) {
    const auto it = std::find_if(settings.origins.begin(), settings.origins.end(),
                                 [key](const SettingOrigin& origin) { return origin.key == key; });
    return it == settings.origins.end() ? nullptr : &*it;
}

TEST(ResolveFeeSettings, BooksNoFeesByDefault) {
    const Settings settings = resolve({});
    EXPECT_FALSE(settings.ledger.book_fees);
    EXPECT_EQ(settings.ledger.fees_journal, "BQ");
    EXPECT_EQ(settings.ledger.fees_account, "627800");
    EXPECT_EQ(settings.ledger.stripe_account, "512700");
}

TEST(ResolveFeeSettings, BooksFeesWithTheWithFeesFlag) {
    SettingFlags flags;
    flags.with_fees = true;
    const Settings settings = resolve(flags);
    EXPECT_TRUE(settings.ledger.book_fees);
    const SettingOrigin* origin = origin_of(settings, "ledger.book_fees");
    ASSERT_NE(origin, nullptr);
    EXPECT_EQ(origin->value, "true");
    EXPECT_EQ(origin->source, "flag --with-fees");
}

TEST(ResolveFeeSettings, TakesBookFeesFromTheConfigFile) {
    const TempDir dir;
    const auto yes = dir.write("yes.toml", "[ledger]\nbook_fees = true\n");
    const auto no = dir.write("no.toml", "[ledger]\nbook_fees = false\n");
    EXPECT_TRUE(resolve(with_config(yes)).ledger.book_fees);
    EXPECT_FALSE(resolve(with_config(no)).ledger.book_fees);
}

TEST(ResolveFeeSettings, LetsTheFlagTurnFeesOnOverAConfigFileThatTurnsThemOff) {
    const TempDir dir;
    SettingFlags flags = with_config(dir.write("config.toml", "[ledger]\nbook_fees = false\n"));
    flags.with_fees = true;
    EXPECT_TRUE(resolve(flags).ledger.book_fees);
}

TEST(ResolveFeeSettings, RejectsABookFeesThatIsNotATomlBoolean) {
    for (const std::string_view value : {"\"yes\"", "\"true\"", "1"}) {
        const TempDir dir;
        const auto config =
            dir.write("config.toml", "[ledger]\nbook_fees = " + std::string(value) + "\n");
        try {
            resolve(with_config(config));
            ADD_FAILURE() << "accepted book_fees = " << value;
        } catch (const Error& error) {
            const std::string_view message = error.what();
            EXPECT_EQ(error.status(), ExitStatus::config) << message;
            EXPECT_EQ(static_cast<int>(error.status()), 78);
            EXPECT_NE(message.find("ledger.book_fees"), std::string_view::npos) << message;
            EXPECT_NE(message.find(config.string()), std::string_view::npos) << message;
        }
    }
}

TEST(ResolveFeeSettings, TakesTheFeesJournalAndAccountsFromTheConfigFile) {
    const TempDir dir;
    const auto config = dir.write("config.toml", "[ledger]\n"
                                                 "book_fees = true\n"
                                                 "fees_journal = \"OD\"\n"
                                                 "fees_account = 622780\n"
                                                 "stripe_account = \"517STRIPE\"\n");
    const Settings settings = resolve(with_config(config));
    EXPECT_TRUE(settings.ledger.book_fees);
    EXPECT_EQ(settings.ledger.fees_journal, "OD");
    EXPECT_EQ(settings.ledger.fees_account, "622780");
    EXPECT_EQ(settings.ledger.stripe_account, "517STRIPE");
}

TEST(ResolveFeeSettings, RejectsAFeesCodeThatIsNotLettersAndDigits) {
    for (const std::string key : {"fees_journal", "fees_account", "stripe_account"}) {
        const TempDir dir;
        const auto config = dir.write("config.toml", "[ledger]\n" + key + " = \"627 800\"\n");
        try {
            resolve(with_config(config));
            ADD_FAILURE() << "accepted " << key;
        } catch (const Error& error) {
            EXPECT_EQ(error.status(), ExitStatus::config) << error.what();
            EXPECT_NE(std::string_view(error.what()).find("ledger." + key), std::string_view::npos)
                << error.what();
        }
    }
}

} // namespace
} // namespace sc
