#include "cli/common_options.h"

#include "core/civil_time.h"
#include "core/error.h"

#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <ostream>

namespace sc::cli {

CLI::Option* add_optional(CLI::App& command, const std::string& name,
                          std::optional<std::string>& target, const std::string& description) {
    return command.add_option_function<std::string>(
        name, [&target](const std::string& value) { target = value; }, description);
}

void add_webhook_secret_option(CLI::App& command, SettingFlags& flags,
                               const std::string& description) {
    command
        .add_option_function<std::vector<std::string>>(
            "--webhook-secret",
            [&flags](const std::vector<std::string>& secrets) { flags.webhook_secrets = secrets; },
            description)
        ->type_name("SECRET")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->allow_extra_args(false);
}

void add_ledger_options(CLI::App& command, SettingFlags& flags) {
    add_optional(command, "--vat-rate", flags.vat_rate,
                 "VAT rate in percent for charges without tva_rate metadata (default 20)")
        ->type_name("RATE");
    add_optional(command, "--timezone", flags.time_zone,
                 "IANA time zone that dates the entries (default Europe/Paris)")
        ->type_name("TZ");
    command.add_flag("--with-fees", flags.with_fees,
                     "also book Stripe's fee of each sale in the fees journal (ledger.book_fees)");
}

HttpTimeouts http_timeouts(const Context& context) {
    constexpr std::chrono::milliseconds k_max_connect{10000};
    constexpr std::int64_t k_max_seconds = 86'400;
    const auto seconds = parse_seconds(context.timeout);
    if (!seconds || *seconds == 0 || *seconds > k_max_seconds) {
        throw Error(ExitStatus::usage, fmt::format("--timeout: '{}' is not a number of seconds "
                                                   "from 1 to 86400",
                                                   context.timeout));
    }
    const std::chrono::milliseconds total{*seconds * 1000};
    return HttpTimeouts{std::min(total, k_max_connect), total};
}

void add_stripe_options(CLI::App& command, SettingFlags& flags) {
    add_optional(command, "--stripe-key", flags.stripe_key,
                 "Stripe secret or restricted key [env: STRIPE_API_KEY]")
        ->type_name("KEY");
    add_optional(command, "--stripe-url", flags.stripe_url,
                 "Stripe API base URL [env: STRIPE_API_BASE]")
        ->type_name("URL");
}

void add_stripe_listing_options(CLI::App& command, SettingFlags& flags,
                                std::optional<std::string>& account, double& max_rps) {
    add_stripe_options(command, flags);
    add_optional(command, "--stripe-account", account,
                 "connected account to read (Stripe-Account header, for Connect platforms)")
        ->type_name("ACCOUNT");
    command
        .add_option("--max-rps", max_rps,
                    "Stripe requests per second at most (default 20 with a test key, 80 live)")
        ->type_name("N")
        ->check(CLI::Range(0.01, 10'000.0).description(""));
}

void add_comptentra_options(CLI::App& command, SettingFlags& flags) {
    add_optional(command, "--comptentra-key", flags.comptentra_key,
                 "Comptentra API key [env: COMPTENTRA_API_KEY]")
        ->type_name("KEY");
    add_optional(command, "--comptentra-url", flags.comptentra_url,
                 "Comptentra API base URL [env: COMPTENTRA_URL]")
        ->type_name("URL");
}

std::vector<std::string> require_webhook_secrets(const Settings& settings) {
    if (settings.webhook_secrets.empty()) {
        throw Error(ExitStatus::config, "no webhook secret is configured",
                    "set STRIPE_WEBHOOK_SECRET or pass --webhook-secret whsec_...");
    }
    return settings.webhook_secrets;
}

std::optional<std::int64_t> parse_seconds(std::string_view text) {
    std::int64_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || text.front() == '-' || ec != std::errc{} || ptr != end) {
        return std::nullopt;
    }
    return value;
}

std::int64_t time_option(const std::optional<std::string>& value, std::string_view option) {
    if (!value) {
        return unix_now();
    }
    const auto parsed = parse_timestamp(*value);
    if (!parsed) {
        throw Error(ExitStatus::usage,
                    fmt::format("{}: '{}' is neither unix seconds nor an ISO 8601 time with an "
                                "offset",
                                option, *value),
                    fmt::format("for example {0} 1700000000 or {0} 2026-11-30T14:05:00Z", option));
    }
    return *parsed;
}

Error unreadable_answer(const std::string& stripe_url, const Error& error) {
    std::string_view reason = error.what();
    if (reason.starts_with("stripe: ")) {
        reason.remove_prefix(std::string_view("stripe: ").size());
    }
    return Error(ExitStatus::refused,
                 fmt::format("Stripe {} listed an object that cannot be read: {}",
                             url_origin(stripe_url), reason),
                 "check that the Stripe API version of the account is one this tool reads");
}

Settings Context::settings() const {
    Settings settings = resolve_settings(flags, environment);
    for (const auto& warning : settings.warnings) {
        fmt::print(err, "stripe-comptentra: warning: {}\n", warning);
    }
    return settings;
}

void print_origins(const Settings& settings, const Context& context) {
    for (const auto& origin : settings.origins) {
        if (context.json) {
            nlohmann::ordered_json line;
            line["setting"] = origin.key;
            line["value"] = origin.value;
            line["source"] = origin.source;
            context.out << line.dump() << '\n';
        } else {
            fmt::print(context.out, "{:<26} {:<44} {}\n", origin.key, origin.value, origin.source);
        }
    }
}

void print_error(std::ostream& err, const std::string& message, const std::string& hint) {
    fmt::print(err, "stripe-comptentra: error: {}\n", message);
    if (!hint.empty()) {
        fmt::print(err, "stripe-comptentra: hint: {}\n", hint);
    }
}

} // namespace sc::cli
