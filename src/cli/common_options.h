#pragma once

#include "core/error.h"
#include "io/environment.h"
#include "io/http_client.h"
#include "io/settings.h"

#include <CLI/CLI.hpp>

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

namespace sc::cli {

/// What every command shares: global flags, the setting flags, and the process's streams.
struct Context {
    bool json = false;          ///< --json: results as JSON Lines
    bool verbose = false;       ///< --verbose: trace requests on stderr
    std::string timeout = "30"; ///< --timeout: seconds for one HTTP request
    SettingFlags flags;         ///< setting flags, filled by the parser
    const Environment& environment;
    std::istream& in;
    std::ostream& out;
    std::ostream& err;

    /// Resolves the settings from flags, environment and config file, and prints their
    /// warnings on stderr.
    Settings settings() const;
};

/// A parsed command, ready to run; it returns the process exit status.
using CommandRunner = std::function<int()>;

/// Adds an option that sets `target` when it is given and leaves it empty otherwise.
CLI::Option* add_optional(CLI::App& command, const std::string& name,
                          std::optional<std::string>& target, const std::string& description);

/// Adds the repeatable `--webhook-secret` with the command's own description.
void add_webhook_secret_option(CLI::App& command, SettingFlags& flags,
                               const std::string& description);

/// Adds `--vat-rate`, `--timezone` and `--with-fees`.
void add_ledger_options(CLI::App& command, SettingFlags& flags);

/// The HTTP time limits of --timeout; throws Error (usage) when it is not a positive number.
HttpTimeouts http_timeouts(const Context& context);

/// Adds `--stripe-key` and `--stripe-url`.
void add_stripe_options(CLI::App& command, SettingFlags& flags);

/// Adds the Stripe options and, for commands that list charges, `--stripe-account` and
/// `--max-rps`.
void add_stripe_listing_options(CLI::App& command, SettingFlags& flags,
                                std::optional<std::string>& account, double& max_rps);

/// Adds `--comptentra-key` and `--comptentra-url`.
void add_comptentra_options(CLI::App& command, SettingFlags& flags);

/// The configured webhook secrets; throws Error (configuration) with a hint when there is none.
std::vector<std::string> require_webhook_secrets(const Settings& settings);

/// A whole number of seconds, 0 or more, written in decimal digits only.
std::optional<std::int64_t> parse_seconds(std::string_view text);

/// The time given to a time option (unix seconds, or ISO 8601 with an offset), or now when the
/// option was not given. Throws Error (usage) naming the option when the text is not a time.
std::int64_t time_option(const std::optional<std::string>& value, std::string_view option);

/// The error for an object Stripe listed that cannot be read (`error`, named after the input
/// `stripe`): Stripe's answer is refused (69), naming Stripe, so that the run stops.
Error unreadable_answer(const std::string& stripe_url, const Error& error);

/// Prints each setting with its value (secrets redacted) and where it came from: a table, or
/// one JSON object a line with --json.
void print_origins(const Settings& settings, const Context& context);

/// Prints `stripe-comptentra: error: <message>` and the hint, if any, to `err`.
void print_error(std::ostream& err, const std::string& message, const std::string& hint = {});

} // namespace sc::cli
