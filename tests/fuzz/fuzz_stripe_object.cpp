// Fuzz target: Stripe JSON as the commands read it: parse_stripe_json (JSON text, then an
// event, a charge or a refund), plus the two readers that look at the text without building
// it, check_json_object and peek_object_id.
#include "core/error.h"
#include "core/money.h"
#include "core/stripe_objects.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

namespace {

constexpr std::int64_t k_last_second_of_9999 = 253'402'300'799;

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

bool is_amount(sc::Cents amount) {
    return amount >= 0 && amount <= sc::k_max_cents;
}

void check_transaction(const std::optional<sc::BalanceTransaction>& transaction) {
    if (transaction) {
        check(transaction->amount >= -sc::k_max_cents && transaction->amount <= sc::k_max_cents);
        check(is_amount(transaction->fee));
    }
}

void check_refund(const sc::Refund& refund) {
    check(!refund.id.empty());
    check(is_amount(refund.amount));
    check(refund.created >= 0 && refund.created <= k_last_second_of_9999);
    check_transaction(refund.balance_transaction);
    check(!(refund.balance_transaction && refund.balance_transaction_id));
}

void check_charge(const sc::Charge& charge) {
    check(!charge.id.empty());
    check(is_amount(charge.amount) && is_amount(charge.amount_captured));
    check(charge.created >= 0 && charge.created <= k_last_second_of_9999);
    check_transaction(charge.balance_transaction);
    check(!(charge.balance_transaction && charge.balance_transaction_id));
    if (charge.refunds) {
        for (const sc::Refund& refund : *charge.refunds) {
            check_refund(refund);
            check(refund.charge.has_value());
        }
    }
}

void check_object(sc::StripeObject& object) {
    if (const auto* event = std::get_if<sc::Event>(&object)) {
        check(!(event->charge && event->refund));
    }
    if (const sc::Charge* charge = sc::charge_of(object)) {
        check_charge(*charge);
    }
    if (const sc::Refund* refund = sc::refund_of(object)) {
        check_refund(*refund);
    }
    static_cast<void>(sc::object_id(object));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    static_cast<void>(sc::peek_object_id(text));

    bool parsed = false;
    try {
        sc::StripeObject object = sc::parse_stripe_json(text, "fuzz.json");
        parsed = true;
        check_object(object);
    } catch (const sc::Error&) {
        // Expected: malformed JSON or an unsupported object.
    }

    try {
        sc::check_json_object(text, "fuzz.json");
    } catch (const sc::Error&) {
        // Text that parses as a Stripe object is one well-formed JSON object.
        check(!parsed);
    }
    return 0;
}
