#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sc {

/// The items of a Stripe-Signature header that matter: the timestamp and the v1 signatures.
struct SignatureHeader {
    std::optional<std::int64_t> timestamp; ///< `t`, unix seconds; empty when absent or not a number
    std::vector<std::string> v1;           ///< every `v1` value, in header order
};

/// Parses `t=<unix seconds>,v1=<hex>[,v1=...]`. Items are separated by commas, spaces around
/// them are tolerated, `v0` and unknown items are ignored, and a later `t` replaces an earlier one.
SignatureHeader parse_signature_header(std::string_view header);

/// The lowercase hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the whole secret.
std::string compute_signature(std::string_view secret, std::int64_t timestamp,
                              std::string_view body);

/// A header value `t=<timestamp>,v1=<hex>` signing `body` with `secret`, as Stripe sends it.
std::string make_signature_header(std::string_view secret, std::int64_t timestamp,
                                  std::string_view body);

/// What a signature check is measured against.
struct VerifyPolicy {
    std::vector<std::string> secrets;     ///< any of them may have signed (secrets are rolled)
    std::int64_t tolerance_seconds = 300; ///< maximum age; 0 turns the age check off
    std::int64_t now = 0;                 ///< the reference time for the age, unix seconds
};

/// What separates the reason of a mismatch from its hints: causes common when payloads are
/// saved by hand, some of which name a secret in its redacted form.
inline constexpr std::string_view k_hints_separator = "; hint: ";

/// The verdict on one payload.
enum class VerifyStatus { valid, invalid, too_old };

/// Why a payload is not valid (none when it is).
enum class VerifyFailure { none, no_header, no_timestamp, no_v1, no_match, too_old };

/// The outcome of a signature check: a value, never an exception.
struct VerifyResult {
    VerifyStatus status = VerifyStatus::invalid;
    VerifyFailure failure = VerifyFailure::none;
    std::string reason;                    ///< one line for a person; empty when valid
    std::optional<std::int64_t> timestamp; ///< the header's timestamp when it had one
};

/// The name used in output for a status: `valid`, `invalid` or `too_old`.
std::string_view to_string(VerifyStatus status);

/// Checks a raw body against its Stripe-Signature header (absent when the input had none).
/// The HMAC is computed over the bytes as given; the comparison is constant-time.
VerifyResult verify_signature(std::string_view body, std::optional<std::string_view> header,
                              const VerifyPolicy& policy);

} // namespace sc
