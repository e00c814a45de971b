#include "core/delivery.h"

#include "core/error.h"
#include "core/stripe_objects.h"

#include <algorithm>

namespace sc {
namespace {

bool names_a_file(std::string_view id) {
    return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

DeliveryVerdict refused(std::string reason) {
    return DeliveryVerdict{false, {}, reason, reason};
}

} // namespace

DeliveryVerdict check_delivery(std::string_view body, std::optional<std::string_view> signature,
                               const VerifyPolicy& policy) {
    const VerifyResult verdict = verify_signature(body, signature, policy);
    if (verdict.status != VerifyStatus::valid) {
        const std::string_view reason = verdict.reason;
        return DeliveryVerdict{false,
                               {},
                               std::string(reason.substr(0, reason.find(k_hints_separator))),
                               verdict.reason};
    }
    try {
        check_json_object(body, "the body");
    } catch (const Error& error) {
        return refused(error.what());
    }
    const auto id = peek_object_id(body);
    if (!id) {
        return refused("the body has no string \"id\"");
    }
    if (!names_a_file(*id)) {
        return refused("the body's \"id\" is not a Stripe id");
    }
    return DeliveryVerdict{true, *id, {}, {}};
}

} // namespace sc
