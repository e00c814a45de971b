#pragma once

#include "core/entry.h"
#include "io/config_file.h"
#include "io/environment.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sc {

/// Settings given on the command line; empty when the flag was not given.
struct SettingFlags {
    std::optional<std::filesystem::path> config_path;
    std::vector<std::string> webhook_secrets;
    std::optional<std::string> stripe_key;
    std::optional<std::string> stripe_url;
    std::optional<std::string> comptentra_key;
    std::optional<std::string> comptentra_url;
    std::optional<std::string> vat_rate;
    std::optional<std::string> time_zone;
    bool with_fees = false; ///< --with-fees
};

/// Where one setting's value came from, for `check`; secrets are redacted.
struct SettingOrigin {
    std::string key;    ///< the config key, e.g. `stripe.api_key`
    std::string value;  ///< the value as shown
    std::string source; ///< `flag --x`, `environment X`, `config file PATH` or `default`
};

/// The effective settings of a run: flag, then environment, then config file, then default.
struct Settings {
    std::vector<std::string> webhook_secrets;
    std::optional<std::string> stripe_key;
    std::string stripe_url = "https://api.stripe.com";
    std::optional<std::string> comptentra_key;
    std::string comptentra_url = "https://app.comptentra.servolution.fr/api/v1";
    LedgerSettings ledger;
    std::optional<std::filesystem::path> config_path; ///< the file that was read, if any
    std::vector<SettingOrigin> origins;               ///< every setting, in a stable order
    std::vector<std::string> warnings; ///< what the user should fix, e.g. an exposed secret
};

/// Resolves every setting. A bad flag value throws Error (usage); a bad value from the
/// environment or the config file, or a config file that cannot be read, throws Error
/// (configuration), naming where the value came from.
Settings resolve_settings(const SettingFlags& flags, const Environment& environment);

/// The config file to read: `--config`, else STRIPE_COMPTENTRA_CONFIG, else
/// `$XDG_CONFIG_HOME/stripe-comptentra/config.toml` (XDG_CONFIG_HOME defaults to ~/.config)
/// when it exists. Nothing when no file applies.
std::optional<std::filesystem::path> find_config_file(const SettingFlags& flags,
                                                      const Environment& environment);

/// `$XDG_CONFIG_HOME/stripe-comptentra/config.toml` (XDG_CONFIG_HOME defaults to ~/.config),
/// whether it exists or not; nothing when neither variable is set.
std::optional<std::filesystem::path> default_config_path(const Environment& environment);

/// Splits a list of webhook secrets given as one value (`whsec_a,whsec_b`).
std::vector<std::string> split_secrets(std::string_view value);

} // namespace sc
