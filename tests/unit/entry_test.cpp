#include "core/entry.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace sc {
namespace {

using nlohmann::json;

// 2026-11-30T14:05:00Z
constexpr std::int64_t k_created = 1796047500;

Charge a_charge(Cents amount = 12000) {
    Charge charge;
    charge.id = "ch_3QxY";
    charge.amount = amount;
    charge.amount_captured = amount;
    charge.currency = "eur";
    charge.created = k_created;
    charge.status = "succeeded";
    charge.captured = true;
    charge.receipt_email = "client@example.fr";
    return charge;
}

Event an_event(const Charge& charge, std::string type = "charge.succeeded") {
    return Event{"evt_1", std::move(type), "charge", charge};
}

const LedgerSettings& default_ledger() {
    static const LedgerSettings ledger;
    return ledger;
}

EntryDecision decide(const Charge& charge, const LedgerSettings& ledger = default_ledger()) {
    return decide_entry(StripeObject{charge}, ledger);
}

Entry booked(const Charge& charge, const LedgerSettings& ledger = default_ledger()) {
    const auto decision = decide(charge, ledger);
    EXPECT_EQ(decision.disposition, Disposition::book) << decision.reason;
    EXPECT_TRUE(decision.reason.empty()) << decision.reason;
    EXPECT_TRUE(decision.entry.has_value());
    return decision.entry.value_or(Entry{});
}

void expect_skip(const EntryDecision& decision) {
    EXPECT_EQ(decision.disposition, Disposition::skip);
    EXPECT_FALSE(decision.entry.has_value());
    EXPECT_FALSE(decision.reason.empty());
}

void expect_invalid(const EntryDecision& decision, std::string_view words) {
    EXPECT_EQ(decision.disposition, Disposition::invalid);
    EXPECT_FALSE(decision.entry.has_value());
    EXPECT_NE(decision.reason.find(words), std::string::npos) << decision.reason;
}

std::vector<EntryLine> lines(Cents ttc, Cents ht, Cents tva,
                             std::optional<std::string> email = "client@example.fr") {
    std::vector<EntryLine> result = {{"411000", std::move(email), ttc, 0}, {"707000", {}, 0, ht}};
    if (tva != 0) {
        result.push_back({"445712", {}, 0, tva});
    }
    return result;
}

// --- what is booked ------------------------------------------------------------------------------

TEST(DecideEntry, BooksACapturedSucceededCharge) {
    const auto decision = decide(a_charge());
    EXPECT_EQ(decision.disposition, Disposition::book);
    EXPECT_EQ(decision.object_id, "ch_3QxY");
    ASSERT_TRUE(decision.entry.has_value());
    const Entry expected{CivilDate{2026, 11, 30}, "VTE", "Paiement Stripe ch_3QxY",
                         lines(12000, 10000, 2000)};
    EXPECT_EQ(*decision.entry, expected);
}

TEST(DecideEntry, BooksTheDocumentedSplits) {
    EXPECT_EQ(booked(a_charge(1000)).lines, lines(1000, 833, 167));
    EXPECT_EQ(booked(a_charge(999)).lines, lines(999, 832, 167));
}

TEST(DecideEntry, BooksTheChargeOfAChargeSucceededEvent) {
    const auto decision = decide_entry(StripeObject{an_event(a_charge())}, default_ledger());
    EXPECT_EQ(decision.disposition, Disposition::book);
    EXPECT_EQ(decision.object_id, "ch_3QxY");
    ASSERT_TRUE(decision.entry.has_value());
    EXPECT_EQ(decision.entry->libelle, "Paiement Stripe ch_3QxY");
}

TEST(DecideEntry, BooksTheChargeOfAChargeCapturedEvent) {
    const auto decision =
        decide_entry(StripeObject{an_event(a_charge(), "charge.captured")}, default_ledger());
    EXPECT_EQ(decision.disposition, Disposition::book);
    ASSERT_TRUE(decision.entry.has_value());
    EXPECT_EQ(decision.entry->lines, lines(12000, 10000, 2000));
}

TEST(DecideEntry, BooksTheCapturedAmountOfAPartialCapture) {
    Charge charge = a_charge(12000);
    charge.amount_captured = 6000;
    EXPECT_EQ(booked(charge).lines, lines(6000, 5000, 1000));
}

TEST(DecideEntry, BooksTheAmountWhenNothingIsMarkedCaptured) {
    Charge charge = a_charge(12000);
    charge.amount_captured = 0;
    EXPECT_EQ(booked(charge).lines, lines(12000, 10000, 2000));
}

TEST(DecideEntry, IsInvalidForAZeroAmount) {
    expect_invalid(decide(a_charge(0)), "not positive");
}

// --- what is skipped
// -------------------------------------------------------------------------------

TEST(DecideEntry, SkipsChargesThatAreNotCapturedSales) {
    for (const std::string status : {"failed", "pending", "canceled", "requires_action", ""}) {
        Charge charge = a_charge();
        charge.status = status;
        const auto decision = decide(charge);
        expect_skip(decision);
        EXPECT_EQ(decision.object_id, "ch_3QxY");
    }
}

TEST(DecideEntry, SaysWhyAChargeIsSkipped) {
    Charge charge = a_charge();
    charge.status = "failed";
    EXPECT_NE(decide(charge).reason.find("failed"), std::string::npos);
    charge.status = "pending";
    EXPECT_NE(decide(charge).reason.find("pending"), std::string::npos);
    charge.status = "weird_new_status";
    EXPECT_NE(decide(charge).reason.find("weird_new_status"), std::string::npos);
}

TEST(DecideEntry, SkipsAnUncapturedAuthorisation) {
    Charge charge = a_charge();
    charge.captured = false;
    charge.amount_captured = 0;
    const auto decision = decide(charge);
    expect_skip(decision);
    EXPECT_NE(decision.reason.find("uncaptured"), std::string::npos) << decision.reason;
}

TEST(DecideEntry, SkipsAFailedChargeOfASaleEvent) {
    Charge charge = a_charge();
    charge.status = "failed";
    expect_skip(decide_entry(StripeObject{an_event(charge)}, default_ledger()));
}

TEST(DecideEntry, SkipsOtherEventTypes) {
    for (const std::string type :
         {"customer.created", "charge.failed", "charge.refunded", "payment_intent.succeeded"}) {
        const Event event{"evt_2", type, "customer", std::nullopt};
        const auto decision = decide_entry(StripeObject{event}, default_ledger());
        expect_skip(decision);
        EXPECT_NE(decision.reason.find(type), std::string::npos) << decision.reason;
    }
}

// --- VAT rate
// ----------------------------------------------------------------------------------------

TEST(DecideEntry, UsesTheTvaRateMetadata) {
    Charge charge = a_charge(1055);
    for (const std::string rate : {"5,5", "5.5", "5.50"}) {
        charge.tva_rate = rate;
        EXPECT_EQ(booked(charge).lines, lines(1055, 1000, 55)) << rate;
    }
}

TEST(DecideEntry, UsesTheLedgerRateWithoutMetadata) {
    LedgerSettings ledger;
    ledger.vat_rate = VatRate{1000};
    EXPECT_EQ(booked(a_charge(1100), ledger).lines, lines(1100, 1000, 100));
}

TEST(DecideEntry, MetadataRateWinsOverTheLedgerRate) {
    LedgerSettings ledger;
    ledger.vat_rate = VatRate{1000};
    Charge charge = a_charge(1021);
    charge.tva_rate = "2.1";
    EXPECT_EQ(booked(charge, ledger).lines, lines(1021, 1000, 21));
}

TEST(DecideEntry, IsInvalidForABadTvaRate) {
    for (const std::string rate : {"abc", "", "20%", "120", "5.555", "-5"}) {
        Charge charge = a_charge();
        charge.tva_rate = rate;
        const auto decision = decide(charge);
        expect_invalid(decision, "tva_rate");
        EXPECT_EQ(decision.object_id, "ch_3QxY");
    }
}

TEST(DecideEntry, OmitsTheVatLineAtRateZero) {
    Charge charge = a_charge(12000);
    charge.tva_rate = "0";
    const Entry entry = booked(charge);
    ASSERT_EQ(entry.lines.size(), 2U);
    EXPECT_EQ(entry.lines, lines(12000, 12000, 0));
}

TEST(DecideEntry, OmitsTheVatLineWhenTheVatRoundsToZero) {
    EXPECT_EQ(booked(a_charge(2)).lines, lines(2, 2, 0));
}

// --- customer email
// -----------------------------------------------------------------------------------

TEST(DecideEntry, TakesTheReceiptEmailFirst) {
    Charge charge = a_charge();
    charge.billing_email = "billing@example.fr";
    EXPECT_EQ(booked(charge).lines.front().tiers_email, "client@example.fr");
}

TEST(DecideEntry, FallsBackToTheBillingEmail) {
    Charge charge = a_charge();
    charge.billing_email = "billing@example.fr";
    for (const auto& receipt : {std::optional<std::string>{}, std::optional<std::string>{""}}) {
        charge.receipt_email = receipt;
        EXPECT_EQ(booked(charge).lines.front().tiers_email, "billing@example.fr");
    }
}

TEST(DecideEntry, HasNoTiersEmailWithoutAnyEmail) {
    struct Emails {
        std::optional<std::string> receipt;
        std::optional<std::string> billing;
    };
    const Emails cases[] = {
        {std::nullopt, std::nullopt}, {"", std::nullopt}, {std::nullopt, ""}, {"", ""}};
    Charge charge = a_charge();
    for (const auto& [receipt, billing] : cases) {
        charge.receipt_email = receipt;
        charge.billing_email = billing;
        const Entry entry = booked(charge);
        EXPECT_FALSE(entry.lines.front().tiers_email.has_value());
        EXPECT_FALSE(to_json(entry)["lignes"][0].contains("tiers_email"));
    }
}

TEST(DecideEntry, PutsTheEmailOnlyOnTheCustomerLine) {
    const Entry entry = booked(a_charge());
    ASSERT_EQ(entry.lines.size(), 3U);
    EXPECT_FALSE(entry.lines[1].tiers_email.has_value());
    EXPECT_FALSE(entry.lines[2].tiers_email.has_value());
}

// --- date
// -----------------------------------------------------------------------------------------

TEST(DecideEntry, DatesTheEntryInTheLedgerTimeZone) {
    Charge charge = a_charge();
    charge.created = 1767223800; // 2025-12-31T23:30:00Z, 00:30 in Paris
    EXPECT_EQ(booked(charge).date, (CivilDate{2026, 1, 1}));
    charge.created = 1767221999; // 2025-12-31T22:59:59Z, 23:59:59 in Paris
    EXPECT_EQ(booked(charge).date, (CivilDate{2025, 12, 31}));
}

TEST(DecideEntry, DatesTheEntryInAnotherConfiguredZone) {
    LedgerSettings ledger;
    ledger.time_zone = TimeZone::locate("UTC");
    Charge charge = a_charge();
    charge.created = 1767223800; // 2025-12-31T23:30:00Z
    EXPECT_EQ(booked(charge, ledger).date, (CivilDate{2025, 12, 31}));
}

// --- currencies
// ------------------------------------------------------------------------------------

TEST(DecideEntry, IsInvalidForAForeignChargeWithoutItsBalanceTransaction) {
    Charge charge = a_charge();
    charge.currency = "usd";
    const auto decision = decide(charge);
    expect_invalid(decision, "usd");
    EXPECT_EQ(decision.object_id, "ch_3QxY");
}

TEST(DecideEntry, BooksAForeignChargeAtItsEuroSettlementAmount) {
    Charge charge = a_charge(13000);
    charge.currency = "usd";
    charge.balance_transaction = BalanceTransaction{"txn_1", 12000, 380, "eur"};
    std::vector<EntryLine> expected = lines(12000, 10000, 2000);
    expected[0].foreign = 13000; // the amounts paid in dollars, split at the same rate
    expected[1].foreign = 10833;
    expected[2].foreign = 2167;
    const Entry entry = booked(charge);
    EXPECT_EQ(entry.lines, expected);
    EXPECT_EQ(entry.foreign_currency, "usd");
}

TEST(DecideEntry, IsInvalidForAChargeSettledInAnotherCurrency) {
    Charge charge = a_charge();
    charge.currency = "usd";
    charge.balance_transaction = BalanceTransaction{"txn_1", 12000, 380, "usd"};
    expect_invalid(decide(charge), "usd");
}

TEST(DecideEntry, BooksAEuroChargeAtItsOwnAmount) {
    Charge charge = a_charge(12000);
    charge.balance_transaction = BalanceTransaction{"txn_1", 11000, 380, "eur"};
    EXPECT_EQ(booked(charge).lines, lines(12000, 10000, 2000));
}

// --- ledger settings and libelle
// ------------------------------------------------------------------

TEST(DecideEntry, UsesTheConfiguredJournalAndAccounts) {
    LedgerSettings ledger;
    ledger.journal = "VT";
    ledger.customer_account = "411STRIPE";
    ledger.sales_account = "706100";
    ledger.vat_account = "445710";
    const Entry entry = booked(a_charge(), ledger);
    EXPECT_EQ(entry.journal, "VT");
    ASSERT_EQ(entry.lines.size(), 3U);
    EXPECT_EQ(entry.lines[0].account, "411STRIPE");
    EXPECT_EQ(entry.lines[1].account, "706100");
    EXPECT_EQ(entry.lines[2].account, "445710");
}

TEST(SaleLibelle, IsPaiementStripeAndTheChargeId) {
    EXPECT_EQ(sale_libelle("ch_3QxY"), "Paiement Stripe ch_3QxY");
}

// --- to_json
// ----------------------------------------------------------------------------------------

TEST(EntryToJson, WritesTheComptentraShapeInTheDocumentedKeyOrder) {
    EXPECT_EQ(to_json(booked(a_charge())).dump(),
              R"({"date":"2026-11-30","journal":"VTE","libelle":"Paiement Stripe ch_3QxY",)"
              R"("lignes":[)"
              R"({"compte":"411000","tiers_email":"client@example.fr",)"
              R"("debit_cents":12000,"credit_cents":0},)"
              R"({"compte":"707000","debit_cents":0,"credit_cents":10000},)"
              R"({"compte":"445712","debit_cents":0,"credit_cents":2000}]})");
}

TEST(EntryToJson, LeavesOutAnAbsentTiersEmail) {
    Charge charge = a_charge(1000);
    charge.receipt_email.reset();
    charge.tva_rate = "0";
    EXPECT_EQ(to_json(booked(charge)).dump(),
              R"({"date":"2026-11-30","journal":"VTE","libelle":"Paiement Stripe ch_3QxY",)"
              R"("lignes":[{"compte":"411000","debit_cents":1000,"credit_cents":0},)"
              R"({"compte":"707000","debit_cents":0,"credit_cents":1000}]})");
}

TEST(EntryToJson, EscapesTextAsJson) {
    Entry entry{CivilDate{2026, 1, 2}, "VTE", "Paiement \"Stripe\" é", {}};
    EXPECT_EQ(
        to_json(entry).dump(),
        R"({"date":"2026-01-02","journal":"VTE","libelle":"Paiement \"Stripe\" é","lignes":[]})");
}

// --- balance
// -----------------------------------------------------------------------------------------

TEST(DecideEntry, BalancesDebitsAndCreditsForEveryAmountAndRate) {
    for (const std::string_view rate : {"0", "2.1", "5.5", "10", "20", "8.5"}) {
        Charge charge = a_charge();
        charge.tva_rate = std::string(rate);
        for (Cents amount = 1; amount <= 3000; ++amount) {
            charge.amount = amount;
            charge.amount_captured = amount;
            const auto decision = decide(charge);
            ASSERT_EQ(decision.disposition, Disposition::book) << amount << " at " << rate;
            Cents debits = 0;
            Cents credits = 0;
            for (const auto& line : decision.entry->lines) {
                ASSERT_TRUE((line.debit == 0) != (line.credit == 0))
                    << "one of debit and credit is non-zero: " << amount << " at " << rate;
                ASSERT_GE(line.debit, 0);
                ASSERT_GE(line.credit, 0);
                debits += line.debit;
                credits += line.credit;
            }
            ASSERT_EQ(debits, amount) << amount << " at " << rate;
            ASSERT_EQ(credits, amount) << amount << " at " << rate;
        }
    }
}

TEST(DecideEntry, WritesNoLineWithBothSidesZeroEvenAtOneHundredPercent) {
    // At 100 %, 1 cent splits into 1 cent of VAT and nothing excluding VAT: the API refuses a
    // line whose debit and credit are both zero.
    Charge charge = a_charge(1);
    charge.tva_rate = "100";
    const Entry entry = booked(charge);
    Cents credits = 0;
    for (const auto& line : entry.lines) {
        EXPECT_TRUE((line.debit == 0) != (line.credit == 0)) << line.account;
        credits += line.credit;
    }
    EXPECT_EQ(credits, 1);
    EXPECT_GE(entry.lines.size(), 2U);
}

} // namespace
} // namespace sc
