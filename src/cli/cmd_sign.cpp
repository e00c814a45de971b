#include "cli/commands.h"
#include "core/civil_time.h"
#include "core/signature.h"
#include "io/inputs.h"

#include <fmt/ostream.h>

namespace sc::cli {
namespace {

struct SignOptions {
    std::string payload;
    std::optional<std::string> timestamp;
};

int run_sign(const SignOptions& options, const Context& context) {
    const Settings settings = context.settings();
    const std::string secret = require_webhook_secrets(settings).front();
    const std::int64_t timestamp = time_option(options.timestamp, "--timestamp");
    const std::string body = read_raw_input(options.payload, context.in);
    fmt::print(context.out, "{}\n", make_signature_header(secret, timestamp, body));
    return to_int(ExitStatus::ok);
}

} // namespace

CommandRunner add_sign_command(CLI::App& app, Context& context) {
    auto options = std::make_shared<SignOptions>();
    CLI::App* command =
        app.add_subcommand("sign", "sign a payload as Stripe does (fixtures, CI smoke tests)");
    command
        ->add_option("PAYLOAD", options->payload,
                     "file whose exact bytes are signed, or - for stdin")
        ->required();
    add_optional(*command, "--timestamp", options->timestamp,
                 "signing time, unix seconds or ISO 8601 with an offset (default: now)")
        ->type_name("T");
    add_webhook_secret_option(*command, context.flags,
                              "webhook signing secret (whsec_...); the first one signs "
                              "[env: STRIPE_WEBHOOK_SECRET]");
    command->footer(
        "Examples:\n"
        "  stripe-comptentra sign --webhook-secret whsec_... event.json\n"
        "  printf '%s' '{\"id\":\"evt_1\"}' | stripe-comptentra sign --timestamp 1700000000 -");
    return [options, &context] { return run_sign(*options, context); };
}

} // namespace sc::cli
