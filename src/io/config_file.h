#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sc {

/// The settings of a TOML configuration file, by dotted key (`ledger.vat_rate`). Every value is
/// kept as text; a key that takes a list (`stripe.webhook_secret`) may hold several.
struct ConfigFile {
    std::filesystem::path path;
    std::map<std::string, std::vector<std::string>, std::less<>> values;

    /// The single value of a key; nothing when the file does not set it.
    std::optional<std::string> get(std::string_view key) const;
    /// Every value of a key, in file order.
    std::vector<std::string> get_all(std::string_view key) const;
};

/// The keys a configuration file may set.
const std::vector<std::string>& known_config_keys();

/// A warning when the file holds a secret (an API key or a webhook secret) and other users
/// may read or change it; nothing otherwise.
std::optional<std::string> exposed_secrets_warning(const ConfigFile& config);

/// A configuration file that sets nothing: every key, commented out, with what it does and
/// its default.
std::string config_template();

/// Writes config_template() to a new file readable by its owner alone (mode 0600), creating
/// missing directories (mode 0700). Throws Error (configuration) when the file exists: it is
/// never overwritten.
void create_config_file(const std::filesystem::path& path);

/// Reads and checks a configuration file. Throws Error (configuration) naming the file, and
/// the line when there is one, for a syntax error, an unknown key or a value of the wrong type.
ConfigFile load_config_file(const std::filesystem::path& path);

} // namespace sc
