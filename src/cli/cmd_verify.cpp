#include "cli/commands.h"
#include "cli/report.h"
#include "core/civil_time.h"
#include "core/signature.h"
#include "core/stripe_objects.h"
#include "io/inputs.h"

#include <fmt/format.h>

namespace sc::cli {
namespace {

struct VerifyOptions {
    std::vector<std::string> paths;
    std::optional<std::string> signature;
    std::string tolerance = "300";
    std::optional<std::string> received_at;
};

ItemResult check_item(const InputItem& item, const VerifyOptions& options,
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
    return result;
}

std::int64_t tolerance_seconds(const VerifyOptions& options) {
    const auto seconds = parse_seconds(options.tolerance);
    if (!seconds) {
        throw Error(ExitStatus::usage,
                    fmt::format("--tolerance: '{}' is not a whole number of seconds (0 or more)",
                                options.tolerance));
    }
    return *seconds;
}

int run_verify(const VerifyOptions& options, const Context& context) {
    const std::int64_t tolerance = tolerance_seconds(options);
    const std::int64_t now = time_option(options.received_at, "--received-at");
    const VerifyPolicy policy{require_webhook_secrets(context.settings()), tolerance, now};
    Reporter reporter(context.out, context.err, context.json);
    read_inputs(
        options.paths, context.in,
        [&](InputItem& item) {
            const ItemResult result = check_item(item, options, policy);
            try {
                if (result.exit == ExitStatus::ok) {
                    check_json_object(item.body, item.label); // signed, but is it an object?
                }
                reporter.item(result);
            } catch (const Error& error) {
                reporter.problem(item.label, error);
            }
        },
        [&](const std::string& input, const Error& error) { reporter.problem(input, error); });
    return reporter.finish();
}

} // namespace

CommandRunner add_verify_command(CLI::App& app, Context& context) {
    auto options = std::make_shared<VerifyOptions>();
    CLI::App* command =
        app.add_subcommand("verify", "check the Stripe-Signature of saved webhook payloads");
    command
        ->add_option("PATH", options->paths,
                     "payload files, HTTP captures, directories, or - for stdin")
        ->required();
    add_optional(*command, "--signature", options->signature,
                 "Stripe-Signature header value for raw body files (captures carry their own)")
        ->type_name("HEADER");
    add_webhook_secret_option(*command, context.flags,
                              "webhook signing secret (whsec_...); repeat it while a secret is "
                              "rolled [env: STRIPE_WEBHOOK_SECRET]");
    command
        ->add_option("--tolerance", options->tolerance,
                     "maximum age of the signature in seconds; 0 turns the age check off")
        ->type_name("SECONDS")
        ->capture_default_str();
    add_optional(*command, "--received-at", options->received_at,
                 "measure the age from this time instead of now (unix seconds, or ISO 8601 "
                 "with an offset)")
        ->type_name("TIME");
    command->footer(
        "Examples:\n"
        "  stripe-comptentra verify --webhook-secret whsec_... captures/\n"
        "  stripe-comptentra verify --signature 't=1700000000,v1=...' --tolerance 0 body.json\n"
        "  stripe-comptentra --json verify --received-at 2026-11-30T14:05:00Z delivery.http");
    return [options, &context] { return run_verify(*options, context); };
}

} // namespace sc::cli
