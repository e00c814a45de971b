#include "core/stripe_objects.h"

#include "core/error.h"
#include "core/json_text.h"
#include "core/redact.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace sc {
namespace {

using nlohmann::json;

std::string_view type_name(const json& value) {
    switch (value.type()) {
    case json::value_t::null:
        return "null";
    case json::value_t::boolean:
        return "a boolean";
    case json::value_t::string:
        return "a string";
    case json::value_t::object:
        return "an object";
    case json::value_t::array:
        return "an array";
    case json::value_t::number_float:
        return "a number with a fraction, an exponent or more than 64 bits";
    default:
        return "a number";
    }
}

// Reads typed fields of one JSON object, naming each by its full path in errors.
class FieldReader {
  public:
    FieldReader(const json& object, std::string path, std::string_view input)
        : m_object(object), m_path(std::move(path)), m_input(input) {}

    const json* find(std::string_view key) const {
        const auto it = m_object.find(key);
        return it == m_object.end() ? nullptr : &*it;
    }

    const json& required(std::string_view key) const {
        const json* value = find(key);
        if (value == nullptr) {
            throw fail(key, "is missing");
        }
        return *value;
    }

    std::string string(std::string_view key) const {
        const json& value = required(key);
        if (!value.is_string()) {
            throw wrong_type(key, value, "a string");
        }
        return value.get<std::string>();
    }

    std::optional<std::string> optional_string(std::string_view key) const {
        const json* value = find(key);
        if (value == nullptr || value->is_null()) {
            return std::nullopt;
        }
        if (!value->is_string()) {
            throw wrong_type(key, *value, "a string or null");
        }
        return value->get<std::string>();
    }

    std::int64_t integer(std::string_view key) const { return integer_value(key, required(key)); }

    /// An integer that may be negative (a balance transaction of a refund).
    std::int64_t signed_integer(std::string_view key) const {
        const json& value = required(key);
        if (value.is_number_integer() && !value.is_number_unsigned() &&
            value.get<std::int64_t>() < 0) {
            if (value.get<std::int64_t>() < -k_max_cents) {
                throw fail(key, "is out of range");
            }
            return value.get<std::int64_t>();
        }
        return integer_value(key, value);
    }

    std::int64_t optional_integer(std::string_view key, std::int64_t fallback) const {
        const json* value = find(key);
        return value == nullptr || value->is_null() ? fallback : integer_value(key, *value);
    }

    bool boolean(std::string_view key) const {
        const json& value = required(key);
        if (!value.is_boolean()) {
            throw wrong_type(key, value, "true or false");
        }
        return value.get<bool>();
    }

    /// A nested object; nothing when absent or null.
    std::optional<FieldReader> optional_object(std::string_view key) const {
        const json* value = find(key);
        if (value == nullptr || value->is_null()) {
            return std::nullopt;
        }
        if (!value->is_object()) {
            throw wrong_type(key, *value, "an object");
        }
        return FieldReader(*value, path_of(key), m_input);
    }

    FieldReader object(std::string_view key) const {
        auto nested = optional_object(key);
        if (!nested) {
            throw fail(key, "is missing");
        }
        return *nested;
    }

    std::string_view input() const { return m_input; }

    std::string path_of(std::string_view key) const {
        return m_path.empty() ? std::string(key) : fmt::format("{}.{}", m_path, key);
    }

    Error fail(std::string_view key, std::string_view problem) const {
        return Error(ExitStatus::data_error,
                     fmt::format("{}: field '{}' {}", m_input, path_of(key), problem));
    }

    Error wrong_type(std::string_view key, const json& value, std::string_view expected) const {
        return fail(key, fmt::format("must be {}, not {}", expected, type_name(value)));
    }

  private:
    std::int64_t integer_value(std::string_view key, const json& value) const {
        if (value.is_number_unsigned() && value.get<std::uint64_t>() > k_max_cents) {
            throw fail(key, "is out of range");
        }
        if (!value.is_number_integer()) {
            throw wrong_type(key, value, "an integer");
        }
        const auto number = value.get<std::int64_t>();
        if (number < 0) {
            throw fail(key, "must not be negative");
        }
        if (number > k_max_cents) {
            throw fail(key, "is out of range");
        }
        return number;
    }

    const json& m_object;
    std::string m_path;
    std::string_view m_input;
};

std::optional<std::string> read_tva_rate(const FieldReader& charge) {
    const auto metadata = charge.optional_object("metadata");
    if (!metadata) {
        return std::nullopt;
    }
    const json* rate = metadata->find("tva_rate");
    if (rate == nullptr || rate->is_null()) {
        return std::nullopt;
    }
    if (rate->is_string()) {
        return rate->get<std::string>();
    }
    if (rate->is_number()) {
        return rate->dump();
    }
    throw metadata->wrong_type("tva_rate", *rate, "a string");
}

BalanceTransaction read_transaction_fields(const FieldReader& fields) {
    BalanceTransaction transaction;
    transaction.id = fields.string("id");
    transaction.currency = fields.string("currency");
    transaction.fee = fields.optional_integer("fee", 0);
    transaction.amount = fields.signed_integer("amount");
    return transaction;
}

std::optional<BalanceTransaction> read_balance_transaction(const FieldReader& charge) {
    const json* value = charge.find("balance_transaction");
    if (value == nullptr || value->is_null() || value->is_string()) {
        return std::nullopt;
    }
    return read_transaction_fields(*charge.optional_object("balance_transaction"));
}

std::string read_id(const FieldReader& fields) {
    std::string id = fields.string("id");
    if (id.empty()) {
        throw fields.fail("id", "is empty");
    }
    return id;
}

std::int64_t read_created(const FieldReader& fields) {
    const std::int64_t created = fields.integer("created");
    // The last second that is still in the year 9999 in every time zone (UTC+14 at most), so
    // that an entry's date always has four digits.
    constexpr std::int64_t k_last_second_of_9999 = 253'402'300'799 - 14 * 3600;
    if (created > k_last_second_of_9999) {
        throw fields.fail("created", "is not a plausible unix time");
    }
    return created;
}

std::optional<std::string> read_email(const FieldReader& charge) {
    if (auto email = charge.optional_string("receipt_email"); email && !email->empty()) {
        return email;
    }
    if (const auto billing = charge.optional_object("billing_details")) {
        if (auto email = billing->optional_string("email"); email && !email->empty()) {
            return email;
        }
    }
    return std::nullopt;
}

Refund read_refund(const FieldReader& fields) {
    Refund refund;
    refund.id = read_id(fields);
    refund.amount = fields.integer("amount");
    refund.currency = fields.string("currency");
    refund.created = read_created(fields);
    refund.status = fields.string("status");
    if (const json* charge = fields.find("charge"); charge != nullptr && charge->is_string()) {
        refund.charge_id = charge->get<std::string>();
    } else if (const auto expanded = fields.optional_object("charge")) {
        refund.charge_id = expanded->string("id");
        refund.charge = RefundedCharge{read_tva_rate(*expanded), read_email(*expanded)};
    }
    refund.balance_transaction = read_balance_transaction(fields);
    if (const json* id = fields.find("balance_transaction"); id != nullptr && id->is_string()) {
        refund.balance_transaction_id = id->get<std::string>();
    }
    return refund;
}

// The refunds a charge lists, when the list is there and complete.
std::optional<std::vector<Refund>> read_listed_refunds(const FieldReader& charge,
                                                       const RefundedCharge& facts) {
    const auto list = charge.optional_object("refunds");
    if (!list) {
        return std::nullopt;
    }
    const json* more = list->find("has_more");
    if (more != nullptr && more->is_boolean() && more->get<bool>()) {
        return std::nullopt;
    }
    const json& data = list->required("data");
    if (!data.is_array()) {
        throw list->wrong_type("data", data, "an array");
    }
    std::vector<Refund> refunds;
    for (std::size_t i = 0; i < data.size(); ++i) {
        if (!data[i].is_object()) {
            throw list->wrong_type(fmt::format("data[{}]", i), data[i], "an object");
        }
        Refund refund = read_refund(
            FieldReader(data[i], list->path_of(fmt::format("data[{}]", i)), list->input()));
        refund.charge = facts;
        refunds.push_back(std::move(refund));
    }
    return refunds;
}

Charge read_charge(const FieldReader& fields) {
    Charge charge;
    charge.id = read_id(fields);
    charge.amount = fields.integer("amount");
    charge.amount_captured = fields.optional_integer("amount_captured", 0);
    charge.currency = fields.string("currency");
    charge.created = read_created(fields);
    charge.status = fields.string("status");
    charge.captured = fields.boolean("captured");
    const json* livemode = fields.find("livemode");
    charge.livemode = livemode != nullptr && livemode->is_boolean() && livemode->get<bool>();
    charge.receipt_email = fields.optional_string("receipt_email");
    if (const auto billing = fields.optional_object("billing_details")) {
        charge.billing_email = billing->optional_string("email");
    }
    charge.tva_rate = read_tva_rate(fields);
    charge.balance_transaction = read_balance_transaction(fields);
    if (const json* id = fields.find("balance_transaction"); id != nullptr && id->is_string()) {
        charge.balance_transaction_id = id->get<std::string>();
    }
    charge.refunds = read_listed_refunds(fields, refunded_charge(charge));
    return charge;
}

bool carries_a_charge(std::string_view event_type) {
    return event_type == "charge.succeeded" || event_type == "charge.captured" ||
           event_type == "charge.refunded";
}

bool carries_a_refund(std::string_view event_type) {
    return event_type == "refund.created" || event_type == "refund.updated" ||
           event_type == "charge.refund.updated";
}

// Checks that an event of `type` carries an object of `expected` kind.
void expect_object(const FieldReader& object, std::string_view kind, std::string_view expected,
                   std::string_view type) {
    if (kind != expected) {
        throw object.fail(
            "object", fmt::format("is '{}', but a {} event carries a {}", kind, type, expected));
    }
}

Event read_event(const FieldReader& fields) {
    Event event;
    event.id = fields.string("id");
    event.type = fields.string("type");
    const FieldReader object = fields.object("data").object("object");
    event.object_type = object.string("object");
    if (carries_a_charge(event.type)) {
        expect_object(object, event.object_type, "charge", event.type);
        event.charge = read_charge(object);
    } else if (carries_a_refund(event.type)) {
        expect_object(object, event.object_type, "refund", event.type);
        event.refund = read_refund(object);
    }
    return event;
}

// Stops the SAX parse at the top-level "id" so that the rest of the document is never read.
class IdPeeker final : public nlohmann::json_sax<json> {
  public:
    std::optional<std::string> id() const { return m_id; }

    bool null() override { return true; }
    bool boolean(bool /*value*/) override { return true; }
    bool number_integer(number_integer_t /*value*/) override { return true; }
    bool number_unsigned(number_unsigned_t /*value*/) override { return true; }
    bool number_float(number_float_t /*value*/, const string_t& /*text*/) override { return true; }
    bool string(string_t& value) override {
        if (m_depth == 1 && m_key_is_id) {
            m_id = value;
            return false;
        }
        return true;
    }
    bool binary(binary_t& /*value*/) override { return true; }
    bool start_object(std::size_t /*size*/) override { return enter(); }
    bool key(string_t& value) override {
        m_key_is_id = m_depth == 1 && value == "id";
        return true;
    }
    bool end_object() override { return leave(); }
    bool start_array(std::size_t /*size*/) override { return m_depth > 0 && enter(); }
    bool end_array() override { return leave(); }
    bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                     const nlohmann::detail::exception& /*error*/) override {
        return false;
    }

  private:
    bool enter() {
        ++m_depth;
        m_key_is_id = false;
        return true;
    }
    bool leave() {
        --m_depth;
        m_key_is_id = false;
        return m_depth > 0;
    }

    int m_depth = 0;
    bool m_key_is_id = false;
    std::optional<std::string> m_id;
};

} // namespace

StripeObject parse_stripe_object(const nlohmann::json& document, std::string_view input) {
    if (!document.is_object()) {
        throw Error(ExitStatus::data_error,
                    fmt::format("{}: expected a Stripe event or charge (a JSON object), got {}",
                                input, type_name(document)));
    }
    const FieldReader fields(document, "", input);
    const std::string kind = fields.string("object");
    if (kind == "event") {
        return read_event(fields);
    }
    if (kind == "charge") {
        return read_charge(fields);
    }
    if (kind == "refund") {
        return read_refund(fields);
    }
    throw Error(ExitStatus::data_error,
                fmt::format("{}: unsupported object '{}': expected an event, a charge or a refund",
                            input, kind));
}

StripeObject parse_stripe_json(std::string_view text, std::string_view input) {
    return parse_stripe_object(parse_json_text(text, input), input);
}

void check_json_object(std::string_view text, std::string_view input) {
    constexpr std::string_view k_bom = "\xEF\xBB\xBF";
    if (text.starts_with(k_bom)) {
        text.remove_prefix(k_bom.size());
    }
    // Strings are signed as they stand, so their bytes need not be valid UTF-8: judge the
    // structure alone, and let the parser name the problem.
    if (!is_json_text(text)) {
        std::string masked(text);
        std::replace_if(
            masked.begin(), masked.end(),
            [](char c) { return static_cast<unsigned char>(c) >= 0x80; }, 'x');
        static_cast<void>(parse_json_text(masked, input)); // throws the parser's message
        throw Error(ExitStatus::data_error, fmt::format("{}: malformed JSON", input));
    }
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || text[first] != '{') {
        throw Error(ExitStatus::data_error,
                    fmt::format("{}: expected a Stripe event or charge (a JSON object)", input));
    }
}

std::optional<std::string> peek_object_id(std::string_view text) {
    IdPeeker peeker;
    json::sax_parse(text, &peeker, json::input_format_t::json, false);
    return peeker.id();
}

BalanceTransaction parse_balance_transaction(const nlohmann::json& document,
                                             std::string_view input) {
    if (!document.is_object()) {
        throw Error(ExitStatus::data_error,
                    fmt::format("{}: expected a balance transaction object", input));
    }
    return read_transaction_fields(FieldReader(document, "", input));
}

Charge* charge_of(StripeObject& object) {
    if (auto* charge = std::get_if<Charge>(&object)) {
        return charge;
    }
    auto* event = std::get_if<Event>(&object);
    return event != nullptr && event->charge ? &*event->charge : nullptr;
}

RefundedCharge refunded_charge(const Charge& charge) {
    for (const auto& email : {charge.receipt_email, charge.billing_email}) {
        if (email && !email->empty()) {
            return RefundedCharge{charge.tva_rate, email};
        }
    }
    return RefundedCharge{charge.tva_rate, std::nullopt};
}

Refund* refund_of(StripeObject& object) {
    if (auto* refund = std::get_if<Refund>(&object)) {
        return refund;
    }
    auto* event = std::get_if<Event>(&object);
    return event != nullptr && event->refund ? &*event->refund : nullptr;
}

Refund parse_refund(const nlohmann::json& document, std::string_view input) {
    if (!document.is_object()) {
        throw Error(ExitStatus::data_error, fmt::format("{}: expected a refund object", input));
    }
    return read_refund(FieldReader(document, "", input));
}

const std::string& object_id(const StripeObject& object) {
    return std::visit([](const auto& value) -> const std::string& { return value.id; }, object);
}

} // namespace sc
