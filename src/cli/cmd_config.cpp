#include "cli/commands.h"
#include "io/config_file.h"

#include <fmt/ostream.h>

#include <memory>

namespace sc::cli {
namespace {

int run_show(const Context& context) {
    print_origins(context.settings(), context);
    return to_int(ExitStatus::ok);
}

int run_init(const std::optional<std::string>& given, const Context& context) {
    const auto path = given ? std::optional<std::filesystem::path>(*given)
                            : default_config_path(context.environment);
    if (!path) {
        throw Error(ExitStatus::config, "no place for the config file: HOME is not set",
                    "give a PATH: stripe-comptentra config init PATH");
    }
    create_config_file(*path);
    fmt::print(context.out, "{}\n", path->string());
    fmt::print(context.err,
               "stripe-comptentra: wrote a commented template (mode 0600): uncomment the keys "
               "you set\n");
    return to_int(ExitStatus::ok);
}

} // namespace

CommandRunner add_config_command(CLI::App& app, Context& context) {
    CLI::App* command = app.add_subcommand(
        "config", "show the effective settings and where each comes from; 'config init' "
                  "writes a template");
    add_webhook_secret_option(*command, context.flags, "a webhook secret to show as set");
    add_stripe_options(*command, context.flags);
    add_comptentra_options(*command, context.flags);
    add_ledger_options(*command, context.flags);
    command->require_subcommand(0, 1);
    auto path = std::make_shared<std::optional<std::string>>();
    CLI::App* init = command->add_subcommand(
        "init", "write a commented config file template, readable by you alone; never "
                "overwrites a file");
    add_optional(*init, "PATH", *path,
                 "where to write it (default: $XDG_CONFIG_HOME/stripe-comptentra/config.toml)");
    command->footer("Examples:\n"
                    "  stripe-comptentra config\n"
                    "  stripe-comptentra --json config --vat-rate 5.5\n"
                    "  stripe-comptentra config init");
    return [&context, init, path] {
        return init->parsed() ? run_init(*path, context) : run_show(context);
    };
}

} // namespace sc::cli
