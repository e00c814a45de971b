#include "cli/commands.h"
#include "cli/report.h"
#include "cli/signature_options.h"
#include "io/inputs.h"

#include <fmt/format.h>

namespace sc::cli {
namespace {

struct VerifyOptions {
    std::vector<std::string> paths;
    SignatureOptions signature;
};

int run_verify(const VerifyOptions& options, const Context& context) {
    const VerifyPolicy policy = make_verify_policy(options.signature, context.settings());
    Reporter reporter(context.out, context.err, context.json);
    read_inputs(
        options.paths, context.in,
        [&](InputItem& item) {
            const ItemResult result = check_signature(item, options.signature, policy);
            if (result.exit > ExitStatus::negative) {
                return reporter.problem(
                    result.input,
                    Error(result.exit, fmt::format("{}: {}", result.input, result.reason)));
            }
            reporter.item(result);
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
    add_signature_options(*command, options->signature, context.flags);
    command->footer(
        "Examples:\n"
        "  stripe-comptentra verify --webhook-secret whsec_... captures/\n"
        "  stripe-comptentra verify --signature 't=1700000000,v1=...' --tolerance 0 body.json\n"
        "  stripe-comptentra --json verify --received-at 2026-11-30T14:05:00Z delivery.http");
    return [options, &context] { return run_verify(*options, context); };
}

} // namespace sc::cli
