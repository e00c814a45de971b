#include "io/config_file.h"

#include "core/error.h"

#include <fmt/format.h>
#include <fmt/std.h>
#include <toml++/toml.h>

#include <algorithm>

namespace sc {
namespace {

constexpr std::string_view k_list_key = "stripe.webhook_secret";
constexpr std::string_view k_boolean_key = "ledger.book_fees";

Error config_error(const std::filesystem::path& path, const toml::source_region& where,
                   std::string_view problem) {
    return Error(ExitStatus::config,
                 fmt::format("{}:{}: {}", path.string(), where.begin.line, problem));
}

// The text of a scalar value: strings as they are, numbers as written in decimal.
std::optional<std::string> scalar_text(const toml::node& node) {
    if (const auto* text = node.as_string()) {
        return text->get();
    }
    if (const auto* integer = node.as_integer()) {
        return std::to_string(integer->get());
    }
    if (const auto* floating = node.as_floating_point()) {
        return fmt::format("{}", floating->get());
    }
    return std::nullopt;
}

void read_value(ConfigFile& config, const std::string& key, const toml::node& node) {
    if (const auto* list = node.as_array(); list != nullptr && key == k_list_key) {
        for (const auto& item : *list) {
            const auto* text = item.as_string();
            if (text == nullptr) {
                throw config_error(config.path, item.source(),
                                   fmt::format("'{}' must be a list of strings", key));
            }
            config.values[key].push_back(text->get());
        }
        return;
    }
    if (key == k_boolean_key) {
        const auto* boolean = node.as_boolean();
        if (boolean == nullptr) {
            throw config_error(config.path, node.source(),
                               fmt::format("'{}' must be true or false", key));
        }
        config.values[key].push_back(boolean->get() ? "true" : "false");
        return;
    }
    const auto text = scalar_text(node);
    if (!text) {
        throw config_error(config.path, node.source(),
                           fmt::format("'{}' must be a string or a number", key));
    }
    config.values[key].push_back(*text);
}

} // namespace

std::optional<std::string> ConfigFile::get(std::string_view key) const {
    const auto it = values.find(key);
    if (it == values.end() || it->second.empty()) {
        return std::nullopt;
    }
    return it->second.front();
}

std::vector<std::string> ConfigFile::get_all(std::string_view key) const {
    const auto it = values.find(key);
    return it == values.end() ? std::vector<std::string>{} : it->second;
}

const std::vector<std::string>& known_config_keys() {
    static const std::vector<std::string> k_keys = {
        "stripe.webhook_secret",   "stripe.api_key",       "stripe.api_base",
        "comptentra.api_key",      "comptentra.url",       "ledger.journal",
        "ledger.customer_account", "ledger.sales_account", "ledger.vat_account",
        "ledger.vat_rate",         "ledger.timezone",      "ledger.book_fees",
        "ledger.fees_journal",     "ledger.fees_account",  "ledger.stripe_account"};
    return k_keys;
}

ConfigFile load_config_file(const std::filesystem::path& path) {
    ConfigFile config{path, {}};
    toml::table root;
    try {
        root = toml::parse_file(path.string());
    } catch (const toml::parse_error& error) {
        const auto& where = error.source().begin;
        if (where.line == 0) {
            throw Error(ExitStatus::config, fmt::format("cannot read config file {}: {}",
                                                        path.string(), error.description()));
        }
        throw Error(ExitStatus::config,
                    fmt::format("{}:{}: {}", path.string(), where.line, error.description()));
    }
    const auto& keys = known_config_keys();
    for (const auto& [section, node] : root) {
        const auto* table = node.as_table();
        if (table == nullptr) {
            throw config_error(
                path, node.source(),
                fmt::format("'{}' must be a table such as [{}]", section.str(), section.str()));
        }
        for (const auto& [name, value] : *table) {
            const std::string key = fmt::format("{}.{}", section.str(), name.str());
            if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
                throw config_error(path, value.source(), fmt::format("unknown key '{}'", key));
            }
            read_value(config, key, value);
        }
    }
    return config;
}

} // namespace sc
