#include "core/error.h"
#include "core/stripe_objects.h"
#include "parse_checks.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace sc {
namespace {

using testing::event_of;
using testing::expect_data_error;

using nlohmann::json;

json a_charge() {
    return json{{"id", "ch_1"},
                {"object", "charge"},
                {"amount", 12000},
                {"amount_captured", 12000},
                {"currency", "eur"},
                {"created", 1764511500},
                {"status", "succeeded"},
                {"captured", true},
                {"livemode", false},
                {"receipt_email", "client@example.fr"},
                {"billing_details", {{"email", "billing@example.fr"}, {"name", "Client"}}},
                {"metadata", json::object()},
                {"balance_transaction", "txn_1"}};
}

json an_event(const json& object, std::string_view type = "charge.succeeded") {
    return json{{"id", "evt_1"},
                {"object", "event"},
                {"type", type},
                {"created", 1764511501},
                {"data", {{"object", object}}}};
}

Charge charge_of(const json& document) {
    return std::get<Charge>(parse_stripe_object(document, "in.json"));
}



void expect_json_error(std::string_view text, std::initializer_list<std::string_view> parts) {
    try {
        parse_stripe_json(text, "payload.jsonl:3");
        ADD_FAILURE() << "no error for " << text;
    } catch (const Error& error) {
        const std::string_view message = error.what();
        EXPECT_EQ(error.status(), ExitStatus::data_error) << message;
        EXPECT_TRUE(message.starts_with("payload.jsonl:3")) << message;
        for (const auto part : parts) {
            EXPECT_NE(message.find(part), std::string_view::npos)
                << "'" << part << "' not in: " << message;
        }
    }
}

// --- a valid charge and event ----------------------------------------------------------------

TEST(ParseCharge, ReadsEveryFieldTheBooksNeed) {
    const Charge charge = charge_of(a_charge());
    EXPECT_EQ(charge.id, "ch_1");
    EXPECT_EQ(charge.amount, 12000);
    EXPECT_EQ(charge.amount_captured, 12000);
    EXPECT_EQ(charge.currency, "eur");
    EXPECT_EQ(charge.created, 1764511500);
    EXPECT_EQ(charge.status, "succeeded");
    EXPECT_TRUE(charge.captured);
    EXPECT_FALSE(charge.livemode);
    EXPECT_EQ(charge.receipt_email, "client@example.fr");
    EXPECT_EQ(charge.billing_email, "billing@example.fr");
    EXPECT_FALSE(charge.tva_rate.has_value());
    EXPECT_FALSE(charge.balance_transaction.has_value());
}

TEST(ParseCharge, ReadsLivemode) {
    auto document = a_charge();
    document["livemode"] = true;
    EXPECT_TRUE(charge_of(document).livemode);
}

TEST(ParseCharge, TreatsOptionalFieldsAsAbsentWhenNullOrMissing) {
    auto document = a_charge();
    document["receipt_email"] = nullptr;
    document["billing_details"] = nullptr;
    document["metadata"] = nullptr;
    document["balance_transaction"] = nullptr;
    document.erase("amount_captured");
    document.erase("livemode");
    const Charge charge = charge_of(document);
    EXPECT_FALSE(charge.receipt_email.has_value());
    EXPECT_FALSE(charge.billing_email.has_value());
    EXPECT_FALSE(charge.tva_rate.has_value());
    EXPECT_FALSE(charge.balance_transaction.has_value());
    EXPECT_EQ(charge.amount_captured, 0);
    EXPECT_FALSE(charge.livemode);
}

TEST(ParseCharge, ReadsABillingEmailThatIsNull) {
    auto document = a_charge();
    document["billing_details"]["email"] = nullptr;
    EXPECT_FALSE(charge_of(document).billing_email.has_value());
}

TEST(ParseCharge, ReadsTvaRateMetadataWrittenAsAString) {
    auto document = a_charge();
    document["metadata"]["tva_rate"] = "5,5";
    EXPECT_EQ(charge_of(document).tva_rate, "5,5");
}

TEST(ParseCharge, ReadsTvaRateMetadataWrittenAsANumber) {
    auto document = a_charge();
    document["metadata"]["tva_rate"] = 20;
    EXPECT_EQ(charge_of(document).tva_rate, "20");
    document["metadata"]["tva_rate"] = 5.5;
    EXPECT_EQ(charge_of(document).tva_rate, "5.5");
}

TEST(ParseCharge, ReadsTvaRateMetadataFromText) {
    std::string text = a_charge().dump();
    text.replace(text.find("\"metadata\":{}"), 13, R"("metadata":{"tva_rate":2.1,"order":"A1"})");
    EXPECT_EQ(std::get<Charge>(parse_stripe_json(text, "in.json")).tva_rate, "2.1");
}

TEST(ParseCharge, RejectsTvaRateMetadataOfAnotherType) {
    auto document = a_charge();
    document["metadata"]["tva_rate"] = true;
    expect_data_error(document, {"metadata.tva_rate"});
}

TEST(ParseCharge, LeavesAnUnexpandedBalanceTransactionAbsent) {
    auto document = a_charge();
    document["balance_transaction"] = "txn_123";
    EXPECT_FALSE(charge_of(document).balance_transaction.has_value());
    document["balance_transaction"] = nullptr;
    EXPECT_FALSE(charge_of(document).balance_transaction.has_value());
}

TEST(ParseCharge, ReadsAnExpandedBalanceTransaction) {
    auto document = a_charge();
    document["currency"] = "usd";
    document["balance_transaction"] = {{"id", "txn_1"},
                                       {"object", "balance_transaction"},
                                       {"amount", 11050},
                                       {"fee", 350},
                                       {"currency", "eur"}};
    const auto transaction = charge_of(document).balance_transaction;
    ASSERT_TRUE(transaction.has_value());
    EXPECT_EQ(transaction->id, "txn_1");
    EXPECT_EQ(transaction->amount, 11050);
    EXPECT_EQ(transaction->fee, 350);
    EXPECT_EQ(transaction->currency, "eur");
}

TEST(ParseCharge, RejectsAnExpandedBalanceTransactionWithoutAmount) {
    auto document = a_charge();
    document["balance_transaction"] = {{"id", "txn_1"}, {"currency", "eur"}};
    expect_data_error(document, {"'balance_transaction.amount'", "missing"});
}

TEST(ParseCharge, RejectsABalanceTransactionOfAnotherType) {
    auto document = a_charge();
    document["balance_transaction"] = 5;
    expect_data_error(document, {"balance_transaction"});
}

TEST(ParseEvent, ReadsTheEnvelopeAndItsCharge) {
    const Event event = event_of(an_event(a_charge()));
    EXPECT_EQ(event.id, "evt_1");
    EXPECT_EQ(event.type, "charge.succeeded");
    EXPECT_EQ(event.object_type, "charge");
    ASSERT_TRUE(event.charge.has_value());
    EXPECT_EQ(event.charge->id, "ch_1");
    EXPECT_EQ(event.charge->amount, 12000);
}

TEST(ParseEvent, ReadsTheChargeOfAChargeCapturedEvent) {
    const Event event = event_of(an_event(a_charge(), "charge.captured"));
    ASSERT_TRUE(event.charge.has_value());
    EXPECT_EQ(event.charge->id, "ch_1");
}

TEST(ParseEvent, DoesNotReadTheObjectOfOtherEventTypes) {
    const json customer = {{"id", "cus_1"}, {"object", "customer"}, {"email", "x@example.fr"}};
    const Event event = event_of(an_event(customer, "customer.created"));
    EXPECT_EQ(event.id, "evt_1");
    EXPECT_EQ(event.type, "customer.created");
    EXPECT_EQ(event.object_type, "customer");
    EXPECT_FALSE(event.charge.has_value());
}

TEST(ParseEvent, DoesNotCheckTheChargeOfAChargeEventThatBooksNothing) {
    auto charge = a_charge();
    charge.erase("amount");
    const Event event = event_of(an_event(charge, "charge.failed"));
    EXPECT_EQ(event.object_type, "charge");
    EXPECT_FALSE(event.charge.has_value());
}

TEST(ParseEvent, RejectsASaleEventThatCarriesSomethingElse) {
    const json intent = {{"id", "pi_1"}, {"object", "payment_intent"}};
    expect_data_error(an_event(intent), {"data.object.object", "payment_intent"});
}

TEST(ParseEvent, ParsesFromRawText) {
    const std::string text = an_event(a_charge()).dump(2);
    const auto object = parse_stripe_json(text, "in.json");
    ASSERT_TRUE(std::holds_alternative<Event>(object));
    EXPECT_EQ(object_id(object), "evt_1");
}

TEST(ObjectId, IsTheIdOfAnEventOrACharge) {
    EXPECT_EQ(object_id(parse_stripe_object(a_charge(), "in")), "ch_1");
    EXPECT_EQ(object_id(parse_stripe_object(an_event(a_charge()), "in")), "evt_1");
}

// --- errors ------------------------------------------------------------------------------------

constexpr std::string_view k_required_charge_fields[] = {"id",      "amount", "currency",
                                                         "created", "status", "captured"};

TEST(ParseCharge, NamesEachMissingRequiredField) {
    for (const auto field : k_required_charge_fields) {
        auto document = a_charge();
        document.erase(std::string(field));
        expect_data_error(document, {"'" + std::string(field) + "'", "missing"});
    }
}

TEST(ParseEvent, NamesEachMissingChargeFieldByItsFullPath) {
    for (const auto field : k_required_charge_fields) {
        auto charge = a_charge();
        charge.erase(std::string(field));
        expect_data_error(an_event(charge),
                          {"'data.object." + std::string(field) + "'", "missing"});
    }
}

TEST(ParseEvent, NamesMissingEnvelopeFields) {
    for (const std::string field : {"id", "type", "data"}) {
        auto event = an_event(a_charge());
        event.erase(field);
        expect_data_error(event, {"'" + field + "'", "missing"});
    }
    auto event = an_event(a_charge());
    event["data"].erase("object");
    expect_data_error(event, {"'data.object'", "missing"});
    event = an_event(a_charge());
    event["data"]["object"].erase("object");
    expect_data_error(event, {"'data.object.object'", "missing"});
}

TEST(ParseEvent, RejectsADataObjectThatIsNotAnObject) {
    auto event = an_event(a_charge());
    event["data"]["object"] = "ch_1";
    expect_data_error(event, {"'data.object'"});
}

TEST(ParseCharge, RejectsAnEmptyId) {
    auto document = a_charge();
    document["id"] = "";
    expect_data_error(document, {"'id'", "empty"});
}

struct WrongValue {
    std::string_view field;
    json value;
    std::string_view expected_words;
};

TEST(ParseEvent, RejectsFieldsOfTheWrongType) {
    const WrongValue cases[] = {
        {"amount", "12000", "integer"},
        {"amount", 10.5, "integer"},
        {"amount", 120.0, "integer"},
        {"amount", true, "integer"},
        {"amount", nullptr, "integer"},
        {"amount", -100, "negative"},
        {"amount_captured", "12000", "integer"},
        {"amount_captured", -1, "negative"},
        {"created", "1764511500", "integer"},
        {"captured", "true", "true or false"},
        {"captured", 1, "true or false"},
        {"id", 42, "string"},
        {"currency", nullptr, "string"},
        {"status", json::array(), "string"},
        {"receipt_email", 5, "string"},
        {"billing_details", "someone", "object"},
        {"metadata", json::array(), "object"},
    };
    for (const auto& [field, value, words] : cases) {
        auto charge = a_charge();
        charge[std::string(field)] = value;
        expect_data_error(an_event(charge), {"'data.object." + std::string(field) + "'", words});
    }
}

TEST(ParseCharge, RejectsAmountsBeyondSixtyFourBitsOrTheLedgerMaximum) {
    for (const std::string_view amount :
         {"123456789012345678901234567890", "18446744073709551615", "9223372036854775808",
          "100000000000000001", "-9223372036854775809"}) {
        std::string text = a_charge().dump();
        text.replace(text.find("12000"), 5, amount);
        expect_json_error(text, {"'amount'"});
    }
}

TEST(ParseCharge, RejectsAnAmountAboveTheLedgerMaximumHoweverTheJsonWasBuilt) {
    auto document = a_charge();
    document["amount"] = std::int64_t{k_max_cents + 1}; // a signed JSON integer
    document["amount_captured"] = 0;
    expect_data_error(document, {"'amount'"});
}

TEST(ParseCharge, AcceptsTheLedgerMaximum) {
    auto document = a_charge();
    document["amount"] = k_max_cents;
    EXPECT_EQ(charge_of(document).amount, k_max_cents);
}

TEST(ParseStripeJson, RejectsAKeyGivenTwiceAtAnyDepth) {
    for (const std::string text :
         {R"({"id": "ch_1", "object": "charge", "amount": 100, "amount": 200})",
          R"({"id": "evt_1", "object": "event", "data": {"object": {"a": 1, "a": 1}}})"}) {
        try {
            parse_stripe_json(text, "in.json");
            ADD_FAILURE() << "no error for " << text;
        } catch (const Error& error) {
            EXPECT_EQ(error.status(), ExitStatus::data_error);
            EXPECT_NE(std::string_view(error.what()).find("appears twice"), std::string_view::npos)
                << error.what();
        }
    }
}

TEST(ParseStripeJson, AcceptsTheSameKeyInSeparateObjects) {
    const std::string text = R"({"id": "evt_1", "object": "event", "type": "customer.created",
        "data": {"object": {"object": "customer", "id": "cus_1",
                            "address": {"id": "x"}, "shipping": {"id": "y"}}}})";
    EXPECT_NO_THROW(parse_stripe_json(text, "in.json"));
}

TEST(ParseStripeJson, ChecksAnObjectWithManyKeysQuickly) {
    std::string text = R"({"id": "evt_1", "object": "event", "type": "x", "data": {"object": {)";
    constexpr int k_keys = 100'000;
    for (int i = 0; i < k_keys; ++i) {
        text += "\"k" + std::to_string(i) + "\": 1,";
    }
    text += R"("object": "customer", "k7": 2}}})";
    try {
        parse_stripe_json(text, "in.json");
        ADD_FAILURE() << "no error";
    } catch (const Error& error) {
        EXPECT_NE(std::string_view(error.what()).find("'k7' appears twice"), std::string_view::npos)
            << error.what();
    }
}

TEST(ParseStripeObject, RejectsUnsupportedObjects) {
    for (const std::string kind : {"dispute", "customer", "payment_intent", ""}) {
        auto document = a_charge();
        document["object"] = kind;
        expect_data_error(document, {"unsupported", "'" + kind + "'"});
    }
}

TEST(ParseStripeObject, RejectsADocumentWithoutObjectKind) {
    auto document = a_charge();
    document.erase("object");
    expect_data_error(document, {"'object'", "missing"});
}

TEST(ParseStripeObject, RejectsJsonThatIsNotAnObject) {
    for (const json& document :
         {json::array({a_charge()}), json("charge"), json(5), json(nullptr)}) {
        expect_data_error(document, {"JSON object"});
    }
}

TEST(ParseStripeJson, NamesTheInputOfMalformedJson) {
    for (const std::string_view text :
         {"", "{", R"({"id":"ch_1",})", "not json", R"({"id":"ch_1"} trailing)", "\xEF\xBB"}) {
        expect_json_error(text, {"malformed JSON"});
    }
}

TEST(ParseStripeJson, NamesTheInputAndFieldOfABadObject) {
    std::string text = an_event(a_charge()).dump();
    text.replace(text.find("\"amount\":12000"), 14, R"("amount":"12000")");
    expect_json_error(text, {"'data.object.amount'"});
}

TEST(ParseStripeJson, RejectsJsonThatIsNotAnObject) {
    expect_json_error("[1,2]", {"array"});
}

// --- peek_object_id ------------------------------------------------------------------------------

TEST(PeekObjectId, FindsTheTopLevelId) {
    EXPECT_EQ(peek_object_id(R"({"id":"evt_1","object":"event"})"), "evt_1");
    EXPECT_EQ(peek_object_id(" \n{ \"object\" : \"charge\", \"id\" : \"ch_9\" }\n"), "ch_9");
}

TEST(PeekObjectId, SkipsIdsOfNestedObjectsThatComeFirst) {
    EXPECT_EQ(peek_object_id(R"({"data":{"object":{"id":"ch_1"}},"id":"evt_1"})"), "evt_1");
    EXPECT_EQ(peek_object_id(R"({"list":[{"id":"x"},["id"]],"meta":{"id":5},"id":"evt_2"})"),
              "evt_2");
}

TEST(PeekObjectId, FindsTheIdBeforeMalformedRest) {
    EXPECT_EQ(peek_object_id(R"({"id":"evt_1","data":)"), "evt_1");
}

TEST(PeekObjectId, IsNothingWithoutATopLevelStringId) {
    for (const std::string_view text :
         {"", "[]", R"(["id","evt_1"])", R"([{"id":"evt_1"}])", R"("id")", "5", "{}",
          R"({"data":{"id":"ch_1"}})", R"({"id":5})", R"({"id":null})", R"({"id":{"id":"x"}})",
          R"({"ID":"evt_1"})", "{not json", R"({"idx":"evt_1"})"}) {
        EXPECT_FALSE(peek_object_id(text).has_value()) << text;
    }
}

TEST(PeekObjectId, IgnoresAnIdValueThatIsNotAStringAndFindsNoLaterOne) {
    EXPECT_FALSE(peek_object_id(R"({"id":5,"name":"x"})").has_value());
}

} // namespace
} // namespace sc

namespace sc {
namespace {

TEST(ParseChargeExtras, KeepsTheIdOfABalanceTransactionGivenAsAnId) {
    const auto object = parse_stripe_json(
        R"({"object":"charge","id":"ch_1","amount":100,"currency":"usd","created":1,)"
        R"("status":"succeeded","captured":true,"balance_transaction":"txn_1"})",
        "in.json");
    const Charge& charge = std::get<Charge>(object);
    EXPECT_EQ(charge.balance_transaction_id, "txn_1");
    EXPECT_FALSE(charge.balance_transaction);
}

TEST(ParseChargeExtras, RejectsACreationTimeBeyondTheYear9999) {
    try {
        parse_stripe_json(R"({"object":"charge","id":"ch_1","amount":100,"currency":"eur",)"
                          R"("created":2100000000000,"status":"succeeded","captured":true})",
                          "in.json");
        ADD_FAILURE() << "accepted";
    } catch (const Error& error) {
        EXPECT_EQ(error.status(), ExitStatus::data_error);
        EXPECT_NE(std::string(error.what()).find("created"), std::string::npos);
    }
}

TEST(ParseBalanceTransaction, ReadsAmountFeeAndCurrency) {
    const auto transaction = parse_balance_transaction(
        nlohmann::json{{"id", "txn_1"}, {"amount", 9204}, {"fee", 163}, {"currency", "eur"}},
        "txn");
    EXPECT_EQ(transaction.amount, 9204);
    EXPECT_EQ(transaction.fee, 163);
    EXPECT_EQ(transaction.currency, "eur");
}

TEST(ChargeOf, FindsTheChargeOfAnEventOrACharge) {
    StripeObject event = Event{"evt_1", "customer.created", "customer", std::nullopt};
    EXPECT_EQ(charge_of(event), nullptr);
    Charge charge;
    charge.id = "ch_1";
    StripeObject bare = charge;
    ASSERT_NE(charge_of(bare), nullptr);
    EXPECT_EQ(charge_of(bare)->id, "ch_1");
}

} // namespace
} // namespace sc
