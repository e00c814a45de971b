#include "cli/app.h"

#include "cli/commands.h"
#include "core/error.h"

#include <fmt/ostream.h>

#include <ostream>

namespace sc::cli {
namespace {

using AddCommand = CommandRunner (*)(CLI::App&, Context&);

// Every command, in the order of the help.
constexpr AddCommand k_commands[] = {
    add_verify_command, add_sign_command,     add_entry_command,
    add_post_command,   add_backfill_command, add_reconcile_command,
    add_check_command,  add_listen_command,   add_config_command};

void add_global_options(CLI::App& app, Context& context) {
    app.set_version_flag("--version", std::string(SC_VERSION), "print the version and exit");
    app.add_flag("--json", context.json, "results as JSON Lines, then a summary object");
    app.add_flag("-v,--verbose", context.verbose, "trace each API request on stderr");
    app.add_option("--timeout", context.timeout, "seconds allowed for one HTTP request")
        ->type_name("SECONDS")
        ->capture_default_str();
    app.add_option_function<std::string>(
           "--config", [&context](const std::string& path) { context.flags.config_path = path; },
           "config file [env: STRIPE_COMPTENTRA_CONFIG] "
           "(default: $XDG_CONFIG_HOME/stripe-comptentra/config.toml)")
        ->type_name("FILE");
    app.fallthrough();
    app.require_subcommand(1);
    app.get_formatter()->label("SUBCOMMAND", "COMMAND");
    app.get_formatter()->label("SUBCOMMANDS", "COMMANDS");
    app.footer("Run 'stripe-comptentra COMMAND --help' for a command's options and examples.");
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// The message for a word that is not a command, with the nearest command when one is close.
std::string unknown_command(const CLI::App& app, const std::string& word) {
    std::string message = fmt::format("unknown command '{}'", word);
    constexpr std::size_t k_max_typos = 2;
    std::size_t best = k_max_typos + 1;
    for (const auto* command : app.get_subcommands({})) {
        const std::size_t distance = edit_distance(word, command->get_name());
        if (distance < best) {
            best = distance;
            message =
                fmt::format("unknown command '{}'; did you mean '{}'?", word, command->get_name());
        }
    }
    return message;
}

int run_parsed(const std::vector<std::pair<CLI::App*, CommandRunner>>& runners) {
    for (const auto& [command, runner] : runners) {
        if (command->parsed()) {
            return runner();
        }
    }
    throw Error(ExitStatus::usage, "no command given", "run 'stripe-comptentra --help'");
}

} // namespace

int run_app(int argc, const char* const* argv, const Environment& environment, std::istream& in,
            std::ostream& out, std::ostream& err) {
    Context context{false, false, "30", {}, environment, in, out, err};
    CLI::App app("Move Stripe payments into Comptentra, the French accounting service: one VTE "
                 "sales entry per captured payment, exactly once.",
                 "stripe-comptentra");
    add_global_options(app, context);
    std::vector<std::pair<CLI::App*, CommandRunner>> runners;
    for (const auto add : k_commands) {
        CommandRunner runner = add(app, context);
        runners.emplace_back(app.get_subcommands({}).back(), std::move(runner));
    }
    try {
        try {
            app.parse(argc, argv);
        } catch (const CLI::ParseError& error) {
            if (error.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
                return app.exit(error, out, err);
            }
            const auto parsed = app.get_subcommands();
            const auto extra = app.remaining();
            const bool unknown =
                parsed.empty() && !extra.empty() && !extra.front().starts_with('-');
            const std::string command = parsed.empty() ? "" : parsed.front()->get_name() + " ";
            print_error(err, unknown ? unknown_command(app, extra.front()) : error.what(),
                        fmt::format("run 'stripe-comptentra {}--help' for the usage", command));
            return to_int(ExitStatus::usage);
        }
        return run_parsed(runners);
    } catch (const Error& error) {
        print_error(err, error.what(), error.hint());
        return to_int(error.status());
    } catch (const std::exception& error) {
        print_error(err, fmt::format("internal error: {}", error.what()),
                    "this is a bug: please report it with the command line that caused it");
        return to_int(ExitStatus::internal);
    }
}

} // namespace sc::cli
