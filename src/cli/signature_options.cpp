#include "cli/signature_options.h"

#include "core/stripe_objects.h"

#include <fmt/format.h>

namespace sc::cli {

void add_signature_options(CLI::App& command, SignatureOptions& options, SettingFlags& flags) {
    add_optional(command, "--signature", options.signature,
                 "Stripe-Signature header value for raw body files (captures carry their own)")
        ->type_name("HEADER");
    add_webhook_secret_option(command, flags,
                              "webhook signing secret (whsec_...); repeat it while a secret is "
                              "rolled [env: STRIPE_WEBHOOK_SECRET]");
    command
        .add_option("--tolerance", options.tolerance,
                    "maximum age of the signature in seconds; 0 turns the age check off")
        ->type_name("SECONDS")
        ->capture_default_str();
    add_optional(command, "--received-at", options.received_at,
                 "measure the age from this time instead of now (unix seconds, or ISO 8601 "
                 "with an offset)")
        ->type_name("TIME");
}

VerifyPolicy make_verify_policy(const SignatureOptions& options, const Settings& settings) {
    const auto tolerance = parse_seconds(options.tolerance);
    if (!tolerance) {
        throw Error(ExitStatus::usage,
                    fmt::format("--tolerance: '{}' is not a whole number of seconds (0 or more)",
                                options.tolerance));
    }
    const std::int64_t now = time_option(options.received_at, "--received-at");
    return VerifyPolicy{require_webhook_secrets(settings), *tolerance, now};
}

ItemResult check_signature(const InputItem& item, const SignatureOptions& options,
                           const VerifyPolicy& policy) {
    const std::optional<std::string>& header =
        item.from_capture ? item.signature : options.signature;
    const VerifyResult verdict = verify_signature(item.body, header, policy);
    ItemResult result;
    result.input = item.label;
    result.id = peek_object_id(item.body).value_or("");
    result.status = std::string(to_string(verdict.status));
    result.reason = verdict.reason;
    if (verdict.failure == VerifyFailure::no_header) {
        result.reason += item.from_capture
                             ? " in the capture"
                             : " (pass --signature for a raw body, or give a capture)";
    }
    result.exit = verdict.status == VerifyStatus::valid ? ExitStatus::ok : ExitStatus::negative;
    if (result.exit == ExitStatus::ok) {
        try {
            check_json_object(item.body, item.label); // signed, but is it an object?
        } catch (const Error& error) {
            result.status = "invalid";
            result.reason = reason_for(item.label, error);
            result.exit = error.status();
        }
    }
    return result;
}

} // namespace sc::cli
