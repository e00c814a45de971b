#pragma once

#include "core/money.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sc {

/// The money a charge actually moved, in the settlement currency.
struct BalanceTransaction {
    std::string id;
    Cents amount = 0;     ///< gross amount, in minor units of `currency`
    Cents fee = 0;        ///< Stripe's fee, in minor units of `currency`
    std::string currency; ///< settlement currency, lowercase
};

/// What a refund's entry needs of the charge it refunds.
struct RefundedCharge {
    std::optional<std::string> tva_rate; ///< metadata `tva_rate`, as written
    std::optional<std::string> email;    ///< `receipt_email`, else `billing_details.email`
};

/// The fields of a Stripe Refund that the books need, validated.
struct Refund {
    std::string id;
    Cents amount = 0; ///< in minor units of `currency`
    std::string currency;
    std::int64_t created = 0;
    std::string status;                   ///< `succeeded`, `pending`, `failed`, `canceled`, ...
    std::string charge_id;                ///< empty for a refund of something else
    std::optional<RefundedCharge> charge; ///< when the charge came with the refund
    std::optional<BalanceTransaction> balance_transaction; ///< when expanded
    std::optional<std::string> balance_transaction_id;     ///< when given as an id only
};

/// The fields of a Stripe Charge that the books need, validated.
struct Charge {
    std::string id;
    Cents amount = 0;
    Cents amount_captured = 0;
    std::string currency; ///< presentment currency, lowercase
    std::int64_t created = 0;
    std::string status; ///< `succeeded`, `pending`, `failed` or a future value
    bool captured = false;
    bool livemode = false;
    std::optional<std::string> receipt_email;
    std::optional<std::string> billing_email;
    std::optional<std::string> tva_rate;                   ///< metadata `tva_rate`, as written
    std::optional<BalanceTransaction> balance_transaction; ///< when expanded
    std::optional<std::string> balance_transaction_id;     ///< when given as an id only
    /// The charge's refunds when it lists all of them (`refunds` expanded, no `has_more`).
    std::optional<std::vector<Refund>> refunds;
};

/// A Stripe Event: its envelope, and the object it carries when it may book something: the
/// charge of a sale event (`charge.succeeded`, `charge.captured`) or of `charge.refunded`, the
/// refund of `refund.created`, `refund.updated` and `charge.refund.updated`.
struct Event {
    std::string id;
    std::string type;
    std::string object_type; ///< `data.object.object`
    std::optional<Charge> charge;
    std::optional<Refund> refund = std::nullopt;
};

/// What an input holds.
using StripeObject = std::variant<Event, Charge, Refund>;

/// Parses an event, a charge or a refund. Throws Error (bad input data) naming `input` and the
/// field that is missing or of the wrong type, or the unsupported object.
StripeObject parse_stripe_object(const nlohmann::json& document, std::string_view input);

/// Parses a Stripe BalanceTransaction object; throws Error (bad input data) naming `input`.
BalanceTransaction parse_balance_transaction(const nlohmann::json& document,
                                             std::string_view input);

/// What a refund's entry needs of a charge: its `tva_rate` and its customer's email, the
/// `receipt_email`, else the `billing_details.email` (an empty one does not count).
RefundedCharge refunded_charge(const Charge& charge);

/// The charge an event or a charge carries, if any.
Charge* charge_of(StripeObject& object);

/// The refund an event or a refund carries, if any.
Refund* refund_of(StripeObject& object);

/// Parses a Stripe Refund object; throws Error (bad input data) naming `input`.
Refund parse_refund(const nlohmann::json& document, std::string_view input);

/// Parses JSON text and then the object it holds. Throws Error (bad input data) naming `input`
/// for malformed JSON as for a bad object.
StripeObject parse_stripe_json(std::string_view text, std::string_view input);

/// Checks that the text is one well-formed JSON object without building it; the bytes inside
/// strings are not required to be valid UTF-8. Throws Error (bad input data) naming `input`
/// and the problem otherwise.
void check_json_object(std::string_view text, std::string_view input);

/// The top-level `id` of a JSON object, read without parsing the rest of the document;
/// nothing when the text is not a JSON object with a string `id`.
std::optional<std::string> peek_object_id(std::string_view text);

/// The id of an event, a charge or a refund.
const std::string& object_id(const StripeObject& object);

} // namespace sc
