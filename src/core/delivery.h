#pragma once

#include "core/signature.h"

#include <optional>
#include <string>
#include <string_view>

namespace sc {

/// The verdict on one webhook call, reached before it is answered.
struct DeliveryVerdict {
    bool accepted = false;
    std::string object_id;  ///< the Stripe id that names its capture file, when accepted
    std::string reason;     ///< why it is refused, in one line, for the caller
    std::string log_reason; ///< the same with hints for the operator (secrets redacted)
};

/// Accepts a call whose body carries a valid Stripe-Signature under `policy` and is a JSON
/// object whose `id` can name a file: 1 to 128 ASCII letters, digits, `_` or `-`, as every
/// Stripe id is.
DeliveryVerdict check_delivery(std::string_view body, std::optional<std::string_view> signature,
                               const VerifyPolicy& policy);

} // namespace sc
