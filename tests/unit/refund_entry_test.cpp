#include "core/entry.h"
#include "core/error.h"
#include "core/stripe_objects.h"
#include "parse_checks.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace sc {
namespace {

using testing::event_of;
using testing::expect_data_error;

using nlohmann::json;

// 2026-11-30T14:05:00Z, 15:05 in Paris
constexpr std::int64_t k_created = 1796047500;

// --- JSON documents as Stripe sends them
// ----------------------------------------------------------

json a_refund_document() {
    return json{{"id", "re_1"},
                {"object", "refund"},
                {"amount", 1000},
                {"currency", "eur"},
                {"created", k_created},
                {"status", "succeeded"},
                {"charge", "ch_1"},
                {"payment_intent", "pi_1"},
                {"reason", "requested_by_customer"},
                {"metadata", json::object()},
                {"balance_transaction", "txn_r1"}};
}

json a_charge_document() {
    return json{{"id", "ch_1"},
                {"object", "charge"},
                {"amount", 2200},
                {"amount_captured", 2200},
                {"currency", "eur"},
                {"created", k_created - 3600},
                {"status", "succeeded"},
                {"captured", true},
                {"refunded", false},
                {"receipt_email", "client@example.fr"},
                {"billing_details", {{"email", "billing@example.fr"}}},
                {"metadata", {{"tva_rate", "10"}}},
                {"balance_transaction", "txn_1"}};
}

json a_refund_list(std::vector<json> refunds, bool has_more = false) {
    return json{{"object", "list"},
                {"data", std::move(refunds)},
                {"has_more", has_more},
                {"total_count", 3},
                {"url", "/v1/charges/ch_1/refunds"}};
}

json a_listed_refund(std::string_view id, Cents amount, std::string_view status = "succeeded") {
    auto refund = a_refund_document();
    refund["id"] = id;
    refund["amount"] = amount;
    refund["status"] = status;
    return refund;
}

json an_event(const json& object, std::string_view type) {
    return json{{"id", "evt_1"},
                {"object", "event"},
                {"type", type},
                {"created", k_created + 1},
                {"data", {{"object", object}}}};
}

Refund refund_of_document(const json& document) {
    return std::get<Refund>(parse_stripe_object(document, "in.json"));
}



// --- parsing a refund object --------------------------------------------------------------------

TEST(ParseRefund, ReadsEveryFieldTheBooksNeed) {
    const auto object = parse_stripe_object(a_refund_document(), "in.json");
    ASSERT_TRUE(std::holds_alternative<Refund>(object));
    const Refund& refund = std::get<Refund>(object);
    EXPECT_EQ(refund.id, "re_1");
    EXPECT_EQ(refund.amount, 1000);
    EXPECT_EQ(refund.currency, "eur");
    EXPECT_EQ(refund.created, k_created);
    EXPECT_EQ(refund.status, "succeeded");
    EXPECT_EQ(refund.charge_id, "ch_1");
    EXPECT_FALSE(refund.charge.has_value());
    EXPECT_FALSE(refund.balance_transaction.has_value());
    EXPECT_EQ(refund.balance_transaction_id, "txn_r1");
    EXPECT_EQ(object_id(object), "re_1");
}

TEST(ParseRefund, KeepsAChargeGivenAsAnIdWithoutItsFacts) {
    const Refund refund = refund_of_document(a_refund_document());
    EXPECT_EQ(refund.charge_id, "ch_1");
    EXPECT_FALSE(refund.charge.has_value());
}

TEST(ParseRefund, ReadsTheRateAndReceiptEmailOfAnExpandedCharge) {
    auto document = a_refund_document();
    document["charge"] = a_charge_document();
    const Refund refund = refund_of_document(document);
    EXPECT_EQ(refund.charge_id, "ch_1");
    ASSERT_TRUE(refund.charge.has_value());
    EXPECT_EQ(refund.charge->tva_rate, "10");
    EXPECT_EQ(refund.charge->email, "client@example.fr");
}

TEST(ParseRefund, TakesTheBillingEmailOfAnExpandedChargeWithoutReceiptEmail) {
    for (const json& receipt : {json(nullptr), json("")}) {
        auto document = a_refund_document();
        document["charge"] = a_charge_document();
        document["charge"]["receipt_email"] = receipt;
        const Refund refund = refund_of_document(document);
        ASSERT_TRUE(refund.charge.has_value()) << receipt.dump();
        EXPECT_EQ(refund.charge->email, "billing@example.fr") << receipt.dump();
    }
}

TEST(ParseRefund, ReadsAnExpandedChargeWithoutRateNorEmail) {
    auto document = a_refund_document();
    document["charge"] = a_charge_document();
    document["charge"]["receipt_email"] = nullptr;
    document["charge"]["billing_details"] = {{"email", nullptr}};
    document["charge"]["metadata"] = json::object();
    const Refund refund = refund_of_document(document);
    ASSERT_TRUE(refund.charge.has_value());
    EXPECT_FALSE(refund.charge->tva_rate.has_value());
    EXPECT_FALSE(refund.charge->email.has_value());
}

TEST(ParseRefund, ReadsAnExpandedBalanceTransactionWithANegativeAmount) {
    auto document = a_refund_document();
    document["currency"] = "usd";
    document["amount"] = 1300;
    document["balance_transaction"] = {{"id", "txn_r1"},    {"object", "balance_transaction"},
                                       {"amount", -1200},   {"fee", 0},
                                       {"currency", "eur"}, {"type", "refund"}};
    const Refund refund = refund_of_document(document);
    ASSERT_TRUE(refund.balance_transaction.has_value());
    EXPECT_EQ(refund.balance_transaction->id, "txn_r1");
    EXPECT_EQ(refund.balance_transaction->amount, -1200);
    EXPECT_EQ(refund.balance_transaction->fee, 0);
    EXPECT_EQ(refund.balance_transaction->currency, "eur");
    EXPECT_FALSE(refund.balance_transaction_id.has_value());
    EXPECT_EQ(refund.amount, 1300);
    EXPECT_EQ(refund.currency, "usd");
}

TEST(ParseRefund, NamesAMissingAmount) {
    auto document = a_refund_document();
    document.erase("amount");
    expect_data_error(document, {"'amount'", "missing"});
}

TEST(ParseRefund, RejectsANegativeAmount) {
    auto document = a_refund_document();
    document["amount"] = -1000;
    expect_data_error(document, {"'amount'", "negative"});
}

TEST(ParseRefund, RejectsAStatusThatIsNotAString) {
    for (const json& status : {json(5), json(nullptr), json::array()}) {
        auto document = a_refund_document();
        document["status"] = status;
        expect_data_error(document, {"'status'", "string"});
    }
}

TEST(ParseRefund, NamesEachMissingRequiredField) {
    for (const std::string field : {"id", "amount", "currency", "created", "status"}) {
        auto document = a_refund_document();
        document.erase(field);
        expect_data_error(document, {"'" + field + "'", "missing"});
    }
}

TEST(ParseRefund, NamesAFieldOfTheExpandedChargeByItsPath) {
    auto document = a_refund_document();
    document["charge"] = a_charge_document();
    document["charge"].erase("id");
    expect_data_error(document, {"'charge.id'", "missing"});
}

TEST(RefundOf, FindsTheRefundOfARefundObject) {
    StripeObject object = parse_stripe_object(a_refund_document(), "in.json");
    ASSERT_NE(refund_of(object), nullptr);
    EXPECT_EQ(refund_of(object)->id, "re_1");
    EXPECT_EQ(charge_of(object), nullptr);
}

// --- parsing refund events
// ------------------------------------------------------------------------

TEST(ParseRefundEvent, ReadsTheRefundOfEachRefundEventType) {
    for (const std::string type : {"refund.created", "refund.updated", "charge.refund.updated"}) {
        const Event event = event_of(an_event(a_refund_document(), type));
        EXPECT_EQ(event.id, "evt_1");
        EXPECT_EQ(event.type, type);
        EXPECT_EQ(event.object_type, "refund");
        EXPECT_FALSE(event.charge.has_value()) << type;
        ASSERT_TRUE(event.refund.has_value()) << type;
        EXPECT_EQ(event.refund->id, "re_1");
        EXPECT_EQ(event.refund->amount, 1000);
        EXPECT_EQ(event.refund->charge_id, "ch_1");
    }
}

TEST(ParseRefundEvent, FindsTheRefundOfTheEvent) {
    StripeObject object =
        parse_stripe_object(an_event(a_refund_document(), "refund.created"), "in");
    ASSERT_NE(refund_of(object), nullptr);
    EXPECT_EQ(refund_of(object)->id, "re_1");
    EXPECT_EQ(charge_of(object), nullptr);
    EXPECT_EQ(object_id(object), "evt_1");
}

TEST(ParseRefundEvent, RejectsARefundEventThatCarriesACharge) {
    for (const std::string type : {"refund.created", "refund.updated", "charge.refund.updated"}) {
        expect_data_error(an_event(a_charge_document(), type),
                          {"'data.object.object'", "'charge'", type, "refund"});
    }
}

TEST(ParseRefundEvent, RejectsAChargeRefundedEventThatCarriesARefund) {
    expect_data_error(an_event(a_refund_document(), "charge.refunded"),
                      {"'data.object.object'", "'refund'", "charge.refunded"});
}

TEST(ParseRefundEvent, NamesAMissingRefundFieldByItsFullPath) {
    auto refund = a_refund_document();
    refund.erase("amount");
    expect_data_error(an_event(refund, "refund.created"), {"'data.object.amount'", "missing"});
}

// --- parsing charge.refunded events -------------------------------------------------------------

TEST(ParseChargeRefunded, ReadsACompleteListOfRefunds) {
    auto charge = a_charge_document();
    charge["refunds"] =
        a_refund_list({a_listed_refund("re_1", 1100), a_listed_refund("re_2", 550)});
    const Event event = event_of(an_event(charge, "charge.refunded"));
    ASSERT_TRUE(event.charge.has_value());
    EXPECT_FALSE(event.refund.has_value());
    ASSERT_TRUE(event.charge->refunds.has_value());
    const auto& refunds = *event.charge->refunds;
    ASSERT_EQ(refunds.size(), 2U);
    EXPECT_EQ(refunds[0].id, "re_1");
    EXPECT_EQ(refunds[0].amount, 1100);
    EXPECT_EQ(refunds[1].id, "re_2");
    EXPECT_EQ(refunds[1].amount, 550);
    for (const Refund& refund : refunds) {
        EXPECT_EQ(refund.charge_id, "ch_1");
        ASSERT_TRUE(refund.charge.has_value()) << refund.id;
        EXPECT_EQ(refund.charge->tva_rate, "10") << refund.id;
        EXPECT_EQ(refund.charge->email, "client@example.fr") << refund.id;
    }
}

TEST(ParseChargeRefunded, GivesListedRefundsTheBillingEmailWithoutReceiptEmail) {
    auto charge = a_charge_document();
    charge["receipt_email"] = nullptr;
    charge["metadata"]["tva_rate"] = "5,5";
    charge["refunds"] = a_refund_list({a_listed_refund("re_1", 1100)});
    const Event event = event_of(an_event(charge, "charge.refunded"));
    ASSERT_TRUE(event.charge.has_value());
    ASSERT_TRUE(event.charge->refunds.has_value());
    ASSERT_EQ(event.charge->refunds->size(), 1U);
    const auto& facts = event.charge->refunds->front().charge;
    ASSERT_TRUE(facts.has_value());
    EXPECT_EQ(facts->tva_rate, "5,5");
    EXPECT_EQ(facts->email, "billing@example.fr");
}

TEST(ParseChargeRefunded, LeavesTheRefundsUnsetWhenTheListHasMore) {
    auto charge = a_charge_document();
    charge["refunds"] = a_refund_list({a_listed_refund("re_1", 1100)}, true);
    const Event event = event_of(an_event(charge, "charge.refunded"));
    ASSERT_TRUE(event.charge.has_value());
    EXPECT_FALSE(event.charge->refunds.has_value());
}

TEST(ParseChargeRefunded, LeavesTheRefundsUnsetWithoutAList) {
    const Event event = event_of(an_event(a_charge_document(), "charge.refunded"));
    ASSERT_TRUE(event.charge.has_value());
    EXPECT_EQ(event.charge->id, "ch_1");
    EXPECT_FALSE(event.charge->refunds.has_value());
    auto charge = a_charge_document();
    charge["refunds"] = nullptr;
    EXPECT_FALSE(event_of(an_event(charge, "charge.refunded")).charge->refunds.has_value());
}

TEST(ParseChargeRefunded, ReadsAnEmptyCompleteListAsNoRefund) {
    auto charge = a_charge_document();
    charge["refunds"] = a_refund_list({});
    const Event event = event_of(an_event(charge, "charge.refunded"));
    ASSERT_TRUE(event.charge.has_value());
    ASSERT_TRUE(event.charge->refunds.has_value());
    EXPECT_TRUE(event.charge->refunds->empty());
}

TEST(ParseChargeRefunded, NamesABadListedRefundByItsFullPath) {
    auto charge = a_charge_document();
    auto bad = a_listed_refund("re_2", 550);
    bad.erase("amount");
    charge["refunds"] = a_refund_list({a_listed_refund("re_1", 1100), bad});
    expect_data_error(an_event(charge, "charge.refunded"),
                      {"'data.object.refunds.data[1].amount'", "missing"});
}

// --- decide_refund
// ---------------------------------------------------------------------------------

const LedgerSettings& default_ledger() {
    static const LedgerSettings ledger;
    return ledger;
}

// A succeeded EUR refund of ch_1, whose charge came with it (no rate metadata, an email).
Refund a_refund(Cents amount = 1000, std::optional<std::string> tva_rate = "20") {
    Refund refund;
    refund.id = "re_1";
    refund.amount = amount;
    refund.currency = "eur";
    refund.created = k_created;
    refund.status = "succeeded";
    refund.charge_id = "ch_1";
    refund.charge = RefundedCharge{std::move(tva_rate), "client@example.fr"};
    return refund;
}

EntryLine line(std::string account, Cents debit, Cents credit,
               std::optional<std::string> email = std::nullopt,
               std::optional<Cents> foreign = std::nullopt) {
    return EntryLine{std::move(account), std::move(email), debit, credit, foreign};
}

// The lines of a credit note: sales and VAT debited, then the customer credited.
std::vector<EntryLine> credit_lines(Cents ttc, Cents ht, Cents tva,
                                    std::optional<std::string> email = "client@example.fr") {
    std::vector<EntryLine> result{line("707000", ht, 0)};
    if (tva != 0) {
        result.push_back(line("445712", tva, 0));
    }
    result.push_back(line("411000", 0, ttc, std::move(email)));
    return result;
}

Entry booked(const Refund& refund, const LedgerSettings& ledger = default_ledger()) {
    const auto decision = decide_refund(refund, ledger);
    EXPECT_EQ(decision.disposition, Disposition::book) << decision.reason;
    EXPECT_TRUE(decision.reason.empty()) << decision.reason;
    EXPECT_TRUE(decision.entry.has_value());
    return decision.entry.value_or(Entry{});
}

void expect_invalid(const EntryDecision& decision, std::string_view words) {
    EXPECT_EQ(decision.disposition, Disposition::invalid);
    EXPECT_FALSE(decision.entry.has_value());
    EXPECT_EQ(decision.object_id, "re_1");
    EXPECT_NE(decision.reason.find(words), std::string::npos) << decision.reason;
}

TEST(DecideRefund, BooksAFullRefundAsTheSaleReversed) {
    const auto decision = decide_refund(a_refund(1000), default_ledger());
    EXPECT_EQ(decision.disposition, Disposition::book);
    EXPECT_EQ(decision.object_id, "re_1");
    EXPECT_EQ(decision.idempotency_key, "stripe-comptentra-refund-re_1");
    EXPECT_EQ(decision.reason, "");
    EXPECT_EQ(decision.note, "");
    ASSERT_TRUE(decision.entry.has_value());
    const Entry expected{CivilDate{2026, 11, 30}, "VTE", "Remboursement Stripe re_1 (ch_1)",
                         std::vector<EntryLine>{line("707000", 833, 0), line("445712", 167, 0),
                                                line("411000", 0, 1000, "client@example.fr")},
                         std::nullopt};
    EXPECT_EQ(*decision.entry, expected);
}

TEST(DecideRefund, BooksPartialRefundsAtEachFrenchRate) {
    struct Case {
        std::string rate;
        Cents ttc;
        Cents ht;
        Cents tva;
    };
    const Case cases[] = {
        {"5.5", 500, 474, 26},   {"5,5", 1055, 1000, 55}, {"10", 250, 227, 23},
        {"10", 1100, 1000, 100}, {"2.1", 510, 500, 10},   {"2.1", 1021, 1000, 21},
    };
    for (const auto& [rate, ttc, ht, tva] : cases) {
        EXPECT_EQ(booked(a_refund(ttc, rate)).lines, credit_lines(ttc, ht, tva))
            << ttc << " at " << rate;
    }
}

TEST(DecideRefund, OmitsTheVatLineAtRateZero) {
    const Entry entry = booked(a_refund(700, "0"));
    ASSERT_EQ(entry.lines.size(), 2U);
    EXPECT_EQ(entry.lines, (std::vector<EntryLine>{line("707000", 700, 0),
                                                   line("411000", 0, 700, "client@example.fr")}));
}

TEST(DecideRefund, RoundsTheVatHalfUpToTheCent) {
    EXPECT_EQ(booked(a_refund(999)).lines, credit_lines(999, 832, 167)); // 166.5 → 167
    EXPECT_EQ(booked(a_refund(3)).lines, credit_lines(3, 2, 1));         // 0.5 → 1
    EXPECT_EQ(booked(a_refund(2)).lines, credit_lines(2, 2, 0));         // 0.33 → 0
}

TEST(DecideRefund, TakesTheRateOfTheRefundedChargeOverTheConfiguredRate) {
    LedgerSettings ledger;
    ledger.vat_rate = VatRate{2000};
    const auto decision = decide_refund(a_refund(1100, "10"), ledger);
    ASSERT_TRUE(decision.entry.has_value());
    EXPECT_EQ(decision.entry->lines, credit_lines(1100, 1000, 100));
    EXPECT_EQ(decision.note, "");
}

TEST(DecideRefund, UsesTheConfiguredRateWithoutNoteForAKnownChargeWithoutRate) {
    LedgerSettings ledger;
    ledger.vat_rate = VatRate{1000};
    const auto decision = decide_refund(a_refund(1100, std::nullopt), ledger);
    ASSERT_TRUE(decision.entry.has_value());
    EXPECT_EQ(decision.entry->lines, credit_lines(1100, 1000, 100));
    EXPECT_EQ(decision.note, "");
}

TEST(DecideRefund, UsesTheConfiguredRateAndSaysSoWhenTheChargeIsUnknown) {
    Refund refund = a_refund(1000);
    refund.charge.reset();
    const auto decision = decide_refund(refund, default_ledger());
    EXPECT_EQ(decision.disposition, Disposition::book);
    ASSERT_TRUE(decision.entry.has_value());
    EXPECT_EQ(decision.entry->lines, credit_lines(1000, 833, 167, std::nullopt));
    EXPECT_EQ(decision.note, "VAT at the configured rate of 20 %: the refunded charge ch_1 was "
                             "not looked up (no Stripe key)");
}

TEST(DecideRefund, WritesTheConfiguredRateInTheNote) {
    LedgerSettings ledger;
    ledger.vat_rate = VatRate{550};
    Refund refund = a_refund(1055);
    refund.charge.reset();
    refund.charge_id = "ch_9";
    const auto decision = decide_refund(refund, ledger);
    ASSERT_TRUE(decision.entry.has_value());
    EXPECT_EQ(decision.entry->lines, credit_lines(1055, 1000, 55, std::nullopt));
    EXPECT_EQ(decision.note, "VAT at the configured rate of 5.5 %: the refunded charge ch_9 was "
                             "not looked up (no Stripe key)");
}

TEST(DecideRefund, IsInvalidForABadRateOnTheRefundedCharge) {
    expect_invalid(decide_refund(a_refund(1000, "20%"), default_ledger()), "tva_rate");
}

TEST(DecideRefund, CreditsTheCustomerWithTheRefundedChargesEmailOnly) {
    const Entry entry = booked(a_refund(1000));
    ASSERT_EQ(entry.lines.size(), 3U);
    EXPECT_FALSE(entry.lines[0].tiers_email.has_value());
    EXPECT_FALSE(entry.lines[1].tiers_email.has_value());
    EXPECT_EQ(entry.lines[2].tiers_email, "client@example.fr");
    Refund without_email = a_refund(1000);
    without_email.charge->email.reset();
    EXPECT_EQ(booked(without_email).lines, credit_lines(1000, 833, 167, std::nullopt));
}

TEST(DecideRefund, SkipsARefundThatDidNotSucceedAndSaysWhy) {
    for (const std::string status : {"pending", "failed", "canceled", "requires_action"}) {
        Refund refund = a_refund(1000);
        refund.status = status;
        const auto decision = decide_refund(refund, default_ledger());
        EXPECT_EQ(decision.disposition, Disposition::skip) << status;
        EXPECT_EQ(decision.object_id, "re_1");
        EXPECT_FALSE(decision.entry.has_value());
        EXPECT_EQ(decision.reason, "the refund is " + status);
        EXPECT_EQ(decision.idempotency_key, "");
    }
}

TEST(DecideRefund, IsInvalidForAZeroAmount) {
    expect_invalid(decide_refund(a_refund(0), default_ledger()), "not positive");
}

TEST(DecideRefund, BooksAForeignRefundAtItsEuroSettlementAmount) {
    Refund refund = a_refund(1300);
    refund.currency = "usd";
    refund.balance_transaction = BalanceTransaction{"txn_r1", -1200, 0, "eur"};
    const Entry entry = booked(refund);
    EXPECT_EQ(entry.foreign_currency, "usd");
    EXPECT_EQ(entry.lines, (std::vector<EntryLine>{
                               line("707000", 1000, 0, std::nullopt, 1083),
                               line("445712", 200, 0, std::nullopt, 217),
                               line("411000", 0, 1200, "client@example.fr", 1300),
                           }));
}

TEST(DecideRefund, BooksAEuroRefundAtItsOwnAmountWithoutForeignAmounts) {
    Refund refund = a_refund(1000);
    refund.balance_transaction = BalanceTransaction{"txn_r1", -990, 0, "eur"};
    const Entry entry = booked(refund);
    EXPECT_EQ(entry.lines, credit_lines(1000, 833, 167));
    EXPECT_FALSE(entry.foreign_currency.has_value());
}

TEST(DecideRefund, IsInvalidForAForeignRefundWithoutItsBalanceTransaction) {
    Refund refund = a_refund(1300);
    refund.currency = "usd";
    refund.balance_transaction_id = "txn_r1";
    const auto decision = decide_refund(refund, default_ledger());
    expect_invalid(decision, "usd");
    EXPECT_NE(decision.reason.find("balance transaction"), std::string::npos) << decision.reason;
}

TEST(DecideRefund, IsInvalidForARefundSettledInAnotherCurrency) {
    Refund refund = a_refund(1300);
    refund.currency = "usd";
    refund.balance_transaction = BalanceTransaction{"txn_r1", -1300, 0, "usd"};
    expect_invalid(decide_refund(refund, default_ledger()), "settled in usd");
}

TEST(DecideRefund, NamesTheRefundAndItsChargeInTheLibelle) {
    Refund refund = a_refund(1000);
    refund.id = "re_3Qz";
    refund.charge_id = "ch_3Qx";
    const auto decision = decide_refund(refund, default_ledger());
    ASSERT_TRUE(decision.entry.has_value());
    EXPECT_EQ(decision.entry->libelle, "Remboursement Stripe re_3Qz (ch_3Qx)");
    EXPECT_EQ(decision.idempotency_key, "stripe-comptentra-refund-re_3Qz");
    EXPECT_EQ(decision.object_id, "re_3Qz");
    EXPECT_EQ(refund_libelle("re_3Qz", "ch_3Qx"), "Remboursement Stripe re_3Qz (ch_3Qx)");
}

TEST(DecideRefund, DatesTheCreditNoteInParisAcrossMidnight) {
    Refund refund = a_refund(1000);
    refund.created = 1796081400; // 2026-11-30T23:30:00Z, 00:30 on 1 December in Paris
    EXPECT_EQ(booked(refund).date, (CivilDate{2026, 12, 1}));
    refund.created = 1796079599; // 2026-11-30T22:59:59Z, 23:59:59 in Paris
    EXPECT_EQ(booked(refund).date, (CivilDate{2026, 11, 30}));
}

TEST(DecideRefund, DatesTheCreditNoteInTheConfiguredZone) {
    LedgerSettings ledger;
    ledger.time_zone = TimeZone::locate("UTC");
    Refund refund = a_refund(1000);
    refund.created = 1796081400; // 2026-11-30T23:30:00Z
    EXPECT_EQ(booked(refund, ledger).date, (CivilDate{2026, 11, 30}));
}

TEST(DecideRefund, UsesTheConfiguredJournalAndAccounts) {
    LedgerSettings ledger;
    ledger.journal = "VT";
    ledger.customer_account = "411STRIPE";
    ledger.sales_account = "706100";
    ledger.vat_account = "445710";
    const Entry entry = booked(a_refund(1000), ledger);
    EXPECT_EQ(entry.journal, "VT");
    ASSERT_EQ(entry.lines.size(), 3U);
    EXPECT_EQ(entry.lines[0].account, "706100");
    EXPECT_EQ(entry.lines[1].account, "445710");
    EXPECT_EQ(entry.lines[2].account, "411STRIPE");
}

TEST(DecideRefund, BalancesDebitsAndCreditsForEveryAmountAndRate) {
    for (const std::string_view rate : {"0", "2.1", "5.5", "10", "20", "8.5"}) {
        for (Cents amount = 1; amount <= 2000; ++amount) {
            const auto decision =
                decide_refund(a_refund(amount, std::string(rate)), default_ledger());
            ASSERT_EQ(decision.disposition, Disposition::book) << amount << " at " << rate;
            Cents debits = 0;
            Cents credits = 0;
            for (const auto& entry_line : decision.entry->lines) {
                ASSERT_TRUE((entry_line.debit == 0) != (entry_line.credit == 0))
                    << amount << " at " << rate;
                debits += entry_line.debit;
                credits += entry_line.credit;
            }
            ASSERT_EQ(debits, amount) << amount << " at " << rate;
            ASSERT_EQ(credits, amount) << amount << " at " << rate;
        }
    }
}

// --- decide_entries of refunds
// --------------------------------------------------------------------

TEST(DecideRefundEntries, BooksOneCreditNotePerListedRefundAndSkipsThePendingOne) {
    auto charge = a_charge_document();
    charge["refunds"] =
        a_refund_list({a_listed_refund("re_1", 1100), a_listed_refund("re_2", 550, "pending"),
                       a_listed_refund("re_3", 550)});
    const auto object = parse_stripe_object(an_event(charge, "charge.refunded"), "in.json");
    const auto decisions = decide_entries(object, default_ledger());
    ASSERT_EQ(decisions.size(), 3U);

    EXPECT_EQ(decisions[0].disposition, Disposition::book);
    EXPECT_EQ(decisions[0].object_id, "re_1");
    EXPECT_EQ(decisions[0].idempotency_key, "stripe-comptentra-refund-re_1");
    EXPECT_EQ(decisions[0].note, "");
    ASSERT_TRUE(decisions[0].entry.has_value());
    EXPECT_EQ(decisions[0].entry->libelle, "Remboursement Stripe re_1 (ch_1)");
    EXPECT_EQ(decisions[0].entry->lines, credit_lines(1100, 1000, 100)); // the charge's 10 %

    EXPECT_EQ(decisions[1].disposition, Disposition::skip);
    EXPECT_EQ(decisions[1].object_id, "re_2");
    EXPECT_EQ(decisions[1].reason, "the refund is pending");
    EXPECT_FALSE(decisions[1].entry.has_value());

    EXPECT_EQ(decisions[2].disposition, Disposition::book);
    EXPECT_EQ(decisions[2].object_id, "re_3");
    ASSERT_TRUE(decisions[2].entry.has_value());
    EXPECT_EQ(decisions[2].entry->lines, credit_lines(550, 500, 50));

    const auto first = decide_entry(object, default_ledger());
    EXPECT_EQ(first.object_id, "re_1");
}

TEST(DecideRefundEntries, BooksNoFeeForAChargeRefundedEvent) {
    auto charge = a_charge_document();
    charge["refunds"] = a_refund_list({a_listed_refund("re_1", 1100)});
    charge["balance_transaction"] = {
        {"id", "txn_1"}, {"amount", 2200}, {"fee", 58}, {"currency", "eur"}};
    LedgerSettings ledger;
    ledger.book_fees = true;
    const auto decisions =
        decide_entries(parse_stripe_object(an_event(charge, "charge.refunded"), "in"), ledger);
    ASSERT_EQ(decisions.size(), 1U);
    EXPECT_EQ(decisions[0].object_id, "re_1");
    EXPECT_EQ(decisions[0].disposition, Disposition::book);
}

TEST(DecideRefundEntries, IsInvalidForAChargeRefundedEventWithoutACompleteList) {
    for (const bool listed : {false, true}) {
        auto charge = a_charge_document();
        if (listed) {
            charge["refunds"] = a_refund_list({a_listed_refund("re_1", 1100)}, true);
        }
        const auto decisions = decide_entries(
            parse_stripe_object(an_event(charge, "charge.refunded"), "in"), default_ledger());
        ASSERT_EQ(decisions.size(), 1U);
        EXPECT_EQ(decisions[0].disposition, Disposition::invalid);
        EXPECT_EQ(decisions[0].object_id, "ch_1");
        EXPECT_EQ(decisions[0].reason, "the event does not list all the charge's refunds (with a "
                                       "Stripe key set, they are looked up)");
        EXPECT_FALSE(decisions[0].entry.has_value());
    }
}

TEST(DecideRefundEntries, SkipsAChargeRefundedEventWithAnEmptyList) {
    auto charge = a_charge_document();
    charge["refunds"] = a_refund_list({});
    const auto decisions = decide_entries(
        parse_stripe_object(an_event(charge, "charge.refunded"), "in"), default_ledger());
    ASSERT_EQ(decisions.size(), 1U);
    EXPECT_EQ(decisions[0].disposition, Disposition::skip);
    EXPECT_EQ(decisions[0].object_id, "ch_1");
    EXPECT_FALSE(decisions[0].reason.empty());
}

TEST(DecideRefundEntries, BooksTheCreditNoteOfEachRefundEvent) {
    LedgerSettings ledger;
    ledger.book_fees = true; // a refund books no fee
    for (const std::string type : {"refund.created", "refund.updated", "charge.refund.updated"}) {
        auto refund = a_refund_document();
        refund["charge"] = a_charge_document();
        const auto decisions =
            decide_entries(parse_stripe_object(an_event(refund, type), "in"), ledger);
        ASSERT_EQ(decisions.size(), 1U) << type;
        EXPECT_EQ(decisions[0].disposition, Disposition::book) << type;
        EXPECT_EQ(decisions[0].object_id, "re_1");
        EXPECT_EQ(decisions[0].idempotency_key, "stripe-comptentra-refund-re_1");
        ASSERT_TRUE(decisions[0].entry.has_value());
        EXPECT_EQ(decisions[0].entry->lines, credit_lines(1000, 909, 91)); // at the charge's 10 %
    }
}

TEST(DecideRefundEntries, BooksTheCreditNoteOfARefundObject) {
    const auto object = parse_stripe_object(a_refund_document(), "in");
    const auto decisions = decide_entries(object, default_ledger());
    ASSERT_EQ(decisions.size(), 1U);
    EXPECT_EQ(decisions[0].disposition, Disposition::book);
    EXPECT_EQ(decisions[0].object_id, "re_1");
    ASSERT_TRUE(decisions[0].entry.has_value());
    EXPECT_EQ(decisions[0].entry->lines, credit_lines(1000, 833, 167, std::nullopt));
    EXPECT_EQ(decisions[0].note, "VAT at the configured rate of 20 %: the refunded charge ch_1 "
                                 "was not looked up (no Stripe key)");
    EXPECT_EQ(decide_entry(object, default_ledger()).object_id, "re_1");
}

TEST(DecideRefundEntries, SkipsAPendingRefundEvent) {
    auto refund = a_refund_document();
    refund["status"] = "pending";
    const auto decisions = decide_entries(
        parse_stripe_object(an_event(refund, "refund.created"), "in"), default_ledger());
    ASSERT_EQ(decisions.size(), 1U);
    EXPECT_EQ(decisions[0].disposition, Disposition::skip);
    EXPECT_EQ(decisions[0].reason, "the refund is pending");
}

} // namespace
} // namespace sc
