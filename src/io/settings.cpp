#include "io/settings.h"

#include "core/error.h"
#include "core/redact.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace sc {
namespace {

// Where a value came from, to name it when it is wrong.
struct Origin {
    std::string name;   ///< for error messages: `--vat-rate`, `ledger.vat_rate in FILE`
    std::string source; ///< for `check`: `flag --vat-rate`, `config file FILE`
    ExitStatus status;  ///< the status of an error in a value from there
};

// One setting's value with its origin, by precedence.
struct Found {
    std::string value;
    Origin origin;
};

bool is_secret_key(std::string_view key) {
    return key.ends_with("api_key") || key.ends_with("webhook_secret");
}

// Finds each setting by precedence and records where it came from.
class Resolver {
  public:
    Resolver(const Environment& environment, const ConfigFile* config,
             std::vector<SettingOrigin>& origins)
        : m_environment(environment), m_config(config), m_origins(origins) {}

    std::optional<Found> find(const std::optional<std::string>& flag, std::string_view flag_name,
                              std::string_view variable, std::string_view key,
                              std::string_view fallback = {}) {
        auto found = lookup(flag, flag_name, variable, key);
        const bool secret = is_secret_key(key);
        if (found) {
            record(key, secret ? redact(found->value) : found->value, found->origin.source);
        } else {
            record(key, fallback.empty() ? "(not set)" : std::string(fallback), "default");
        }
        return found;
    }

    std::optional<std::string> value(const std::optional<std::string>& flag,
                                     std::string_view flag_name, std::string_view variable,
                                     std::string_view key, std::string_view fallback = {}) {
        auto found = find(flag, flag_name, variable, key, fallback);
        return found ? std::optional(found->value) : std::nullopt;
    }

    std::vector<std::string> secrets(const std::vector<std::string>& flags) {
        std::vector<std::string> secrets = flags;
        std::string source = "flag --webhook-secret";
        if (secrets.empty()) {
            if (auto value = m_environment.get("STRIPE_WEBHOOK_SECRET")) {
                secrets = split_secrets(*value);
                source = "environment STRIPE_WEBHOOK_SECRET";
            } else if (m_config != nullptr) {
                secrets = m_config->get_all("stripe.webhook_secret");
                source = "config file " + m_config->path.string();
            }
        }
        std::string shown;
        for (const auto& secret : secrets) {
            shown += fmt::format("{}{}", shown.empty() ? "" : ", ", redact(secret));
        }
        record("stripe.webhook_secret", secrets.empty() ? "(not set)" : shown,
               secrets.empty() ? "default" : source);
        return secrets;
    }

  private:
    std::optional<Found> lookup(const std::optional<std::string>& flag, std::string_view flag_name,
                                std::string_view variable, std::string_view key) const {
        if (flag) {
            return Found{
                *flag,
                {std::string(flag_name), fmt::format("flag {}", flag_name), ExitStatus::usage}};
        }
        if (!variable.empty()) {
            if (auto value = m_environment.get(variable)) {
                return Found{*value,
                             {std::string(variable), fmt::format("environment {}", variable),
                              ExitStatus::config}};
            }
        }
        if (m_config != nullptr) {
            if (auto value = m_config->get(key)) {
                return Found{*value,
                             {fmt::format("{} in {}", key, m_config->path.string()),
                              fmt::format("config file {}", m_config->path.string()),
                              ExitStatus::config}};
            }
        }
        return std::nullopt;
    }

    void record(std::string_view key, std::string value, std::string source) {
        m_origins.push_back(SettingOrigin{std::string(key), std::move(value), std::move(source)});
    }

    const Environment& m_environment;
    const ConfigFile* m_config;
    std::vector<SettingOrigin>& m_origins;
};

void check_code(const Found& code) {
    const bool valid =
        !code.value.empty() && std::all_of(code.value.begin(), code.value.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) != 0;
        });
    if (!valid) {
        throw Error(code.origin.status,
                    fmt::format("{}: '{}' is not an account or journal code (letters and digits)",
                                code.origin.name, code.value));
    }
}

LedgerSettings resolve_ledger(const SettingFlags& flags, Resolver& resolver) {
    LedgerSettings ledger;
    const std::pair<std::string*, std::string_view> codes[] = {
        {&ledger.journal, "ledger.journal"},
        {&ledger.customer_account, "ledger.customer_account"},
        {&ledger.sales_account, "ledger.sales_account"},
        {&ledger.vat_account, "ledger.vat_account"},
        {&ledger.fees_journal, "ledger.fees_journal"},
        {&ledger.fees_account, "ledger.fees_account"},
        {&ledger.stripe_account, "ledger.stripe_account"}};
    for (const auto& [field, key] : codes) {
        if (auto code = resolver.find(std::nullopt, {}, {}, key, *field)) {
            check_code(*code);
            *field = code->value;
        }
    }
    if (auto rate = resolver.find(flags.vat_rate, "--vat-rate", {}, "ledger.vat_rate",
                                  to_string(ledger.vat_rate))) {
        const auto parsed = parse_vat_rate(rate->value);
        if (!parsed) {
            throw Error(rate->origin.status,
                        fmt::format("{}: '{}' is not a VAT rate in percent (0 to 100, at most two "
                                    "decimals, such as 20 or 5.5)",
                                    rate->origin.name, rate->value));
        }
        ledger.vat_rate = *parsed;
    }
    if (auto fees =
            resolver.find(flags.with_fees ? std::optional<std::string>("true") : std::nullopt,
                          "--with-fees", {}, "ledger.book_fees", "false")) {
        if (fees->value != "true" && fees->value != "false") {
            throw Error(fees->origin.status, fmt::format("{}: '{}' is not true or false",
                                                         fees->origin.name, fees->value));
        }
        ledger.book_fees = fees->value == "true";
    }
    if (auto zone = resolver.find(flags.time_zone, "--timezone", {}, "ledger.timezone",
                                  ledger.time_zone.name())) {
        try {
            ledger.time_zone = TimeZone::locate(zone->value);
        } catch (const Error& error) {
            throw Error(zone->origin.status, fmt::format("{}: {}", zone->origin.name, error.what()),
                        error.hint());
        }
    }
    return ledger;
}

} // namespace

std::vector<std::string> split_secrets(std::string_view value) {
    std::vector<std::string> secrets;
    const bool several = value.find(',') != std::string_view::npos;
    while (true) {
        const auto comma = value.find(',');
        std::string_view item = value.substr(0, comma);
        if (several) {
            while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
                item.remove_prefix(1);
            }
            while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
                item.remove_suffix(1);
            }
        }
        if (!item.empty()) {
            secrets.emplace_back(item);
        }
        if (comma == std::string_view::npos) {
            return secrets;
        }
        value.remove_prefix(comma + 1);
    }
}

std::optional<std::filesystem::path> find_config_file(const SettingFlags& flags,
                                                      const Environment& environment) {
    if (flags.config_path) {
        return flags.config_path;
    }
    if (auto path = environment.get("STRIPE_COMPTENTRA_CONFIG")) {
        return std::filesystem::path(*path);
    }
    auto path = default_config_path(environment);
    std::error_code ignored;
    return path && std::filesystem::is_regular_file(*path, ignored) ? path : std::nullopt;
}

std::optional<std::filesystem::path> default_config_path(const Environment& environment) {
    std::filesystem::path base;
    if (auto xdg = environment.get("XDG_CONFIG_HOME")) {
        base = *xdg;
    } else if (auto home = environment.get("HOME")) {
        base = std::filesystem::path(*home) / ".config";
    } else {
        return std::nullopt;
    }
    return base / "stripe-comptentra" / "config.toml";
}

Settings resolve_settings(const SettingFlags& flags, const Environment& environment) {
    Settings settings;
    std::optional<ConfigFile> config;
    if (auto path = find_config_file(flags, environment)) {
        std::error_code error;
        if (!std::filesystem::is_regular_file(*path, error)) {
            throw Error(
                ExitStatus::config,
                fmt::format("config file {} does not exist or is not a file", path->string()),
                "pass --config with an existing file, or unset STRIPE_COMPTENTRA_CONFIG");
        }
        config = load_config_file(*path);
        settings.config_path = *path;
        if (auto exposed = exposed_secrets_warning(*config)) {
            settings.warnings.push_back(std::move(*exposed));
        }
    }
    settings.origins.push_back(SettingOrigin{
        "config file", settings.config_path ? settings.config_path->string() : "(none)",
        flags.config_path                             ? "flag --config"
        : environment.get("STRIPE_COMPTENTRA_CONFIG") ? "environment STRIPE_COMPTENTRA_CONFIG"
                                                      : "default"});
    Resolver resolver(environment, config ? &*config : nullptr, settings.origins);
    settings.webhook_secrets = resolver.secrets(flags.webhook_secrets);
    settings.stripe_key =
        resolver.value(flags.stripe_key, "--stripe-key", "STRIPE_API_KEY", "stripe.api_key");
    if (auto url = resolver.value(flags.stripe_url, "--stripe-url", "STRIPE_API_BASE",
                                  "stripe.api_base", settings.stripe_url)) {
        settings.stripe_url = *url;
    }
    settings.comptentra_key = resolver.value(flags.comptentra_key, "--comptentra-key",
                                             "COMPTENTRA_API_KEY", "comptentra.api_key");
    if (auto url = resolver.value(flags.comptentra_url, "--comptentra-url", "COMPTENTRA_URL",
                                  "comptentra.url", settings.comptentra_url)) {
        settings.comptentra_url = *url;
    }
    settings.ledger = resolve_ledger(flags, resolver);
    return settings;
}

} // namespace sc
