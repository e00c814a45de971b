#include "core/money.h"
#include "core/redact.h"
#include "io/settings.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "temp_dir.h"

namespace sc {
namespace {

using testing::TempDir;
using Variables = std::map<std::string, std::string, std::less<>>;

constexpr std::string_view k_stripe_key = "sk_test_51StripeSECRETvalueQQ9876";
constexpr std::string_view k_comptentra_key = "ct_live_ComptentraSECRETvalue4321";
constexpr std::string_view k_webhook_one = "whsec_WebhookSECRETnumberONE1111";
constexpr std::string_view k_webhook_two = "whsec_WebhookSECRETnumberTWO2222";
// Parts of the secrets that a redacted form never shows.
constexpr std::string_view k_hidden_parts[] = {"StripeSECRETvalue", "ComptentraSECRETvalue",
                                               "WebhookSECRETnumberONE", "WebhookSECRETnumberTWO"};

const std::vector<std::string>& expected_keys() {
    static const std::vector<std::string> keys = {
        "config file",           "stripe.webhook_secret",   "stripe.api_key",
        "stripe.api_base",       "comptentra.api_key",      "comptentra.url",
        "ledger.journal",        "ledger.customer_account", "ledger.sales_account",
        "ledger.vat_account",    "ledger.fees_journal",     "ledger.fees_account",
        "ledger.stripe_account", "ledger.vat_rate",         "ledger.book_fees",
        "ledger.timezone"};
    return keys;
}

std::string full_config() {
    return "[stripe]\n"
           "webhook_secret = [\"" +
           std::string(k_webhook_one) + "\", \"" + std::string(k_webhook_two) +
           "\"]\n"
           "api_key = \"" +
           std::string(k_stripe_key) +
           "\"\n"
           "api_base = \"http://127.0.0.1:12111\"\n"
           "[comptentra]\n"
           "api_key = \"" +
           std::string(k_comptentra_key) +
           "\"\n"
           "url = \"http://127.0.0.1:8787/api/v1\"\n"
           "[ledger]\n"
           "journal = \"VT\"\n"
           "customer_account = \"411STRIPE\"\n"
           "sales_account = \"706100\"\n"
           "vat_account = \"445710\"\n"
           "vat_rate = 5.5\n"
           "timezone = \"America/New_York\"\n"
           "book_fees = true\n"
           "fees_journal = \"BNQ\"\n"
           "fees_account = \"627000\"\n"
           "stripe_account = \"512STR\"\n";
}

Settings resolve(const SettingFlags& flags, Variables variables = {}) {
    return resolve_settings(flags, MapEnvironment(std::move(variables)));
}

SettingFlags with_config(const std::filesystem::path& path) {
    SettingFlags flags;
    flags.config_path = path;
    return flags;
}

// The origin of `key`, which must be listed exactly once.
SettingOrigin origin(const Settings& settings, std::string_view key) {
    std::vector<SettingOrigin> found;
    for (const auto& entry : settings.origins) {
        if (entry.key == key) {
            found.push_back(entry);
        }
    }
    EXPECT_EQ(found.size(), 1U) << key;
    return found.empty() ? SettingOrigin{std::string(key), "(missing)", "(missing)"} : found[0];
}

std::vector<std::string> keys_of(const Settings& settings) {
    std::vector<std::string> keys;
    for (const auto& entry : settings.origins) {
        keys.push_back(entry.key);
    }
    return keys;
}

// No origin shows a secret in full, or its hidden part.
void expect_secrets_hidden(const Settings& settings) {
    for (const auto& entry : settings.origins) {
        for (const auto secret : {k_stripe_key, k_comptentra_key, k_webhook_one, k_webhook_two}) {
            EXPECT_EQ(entry.value.find(secret), std::string::npos)
                << entry.key << ": " << entry.value;
            EXPECT_EQ(entry.source.find(secret), std::string::npos)
                << entry.key << ": " << entry.source;
        }
        for (const auto part : k_hidden_parts) {
            EXPECT_EQ(entry.value.find(part), std::string::npos)
                << entry.key << ": " << entry.value;
        }
    }
}

void expect_secret_values_redacted(const Settings& settings) {
    EXPECT_EQ(origin(settings, "stripe.api_key").value, redact(k_stripe_key));
    EXPECT_EQ(origin(settings, "comptentra.api_key").value, redact(k_comptentra_key));
    EXPECT_EQ(origin(settings, "stripe.webhook_secret").value,
              redact(k_webhook_one) + ", " + redact(k_webhook_two));
    expect_secrets_hidden(settings);
}

TEST(SettingsOrigin, ListsEverySettingOnceInAStableOrder) {
    EXPECT_EQ(keys_of(resolve({})), expected_keys());
    const TempDir dir;
    const auto config = dir.write("config.toml", full_config());
    EXPECT_EQ(keys_of(resolve(with_config(config))), expected_keys());
    EXPECT_EQ(keys_of(resolve({}, {{"STRIPE_API_KEY", std::string(k_stripe_key)}})),
              expected_keys());
}

TEST(SettingsOrigin, ReportsDefaults) {
    const Settings settings = resolve({});
    for (const auto& entry : settings.origins) {
        EXPECT_EQ(entry.source, "default") << entry.key;
    }
    EXPECT_EQ(origin(settings, "config file").value, "(none)");
    EXPECT_EQ(origin(settings, "stripe.webhook_secret").value, "(not set)");
    EXPECT_EQ(origin(settings, "stripe.api_key").value, "(not set)");
    EXPECT_EQ(origin(settings, "comptentra.api_key").value, "(not set)");
    EXPECT_EQ(origin(settings, "stripe.api_base").value, "https://api.stripe.com");
    EXPECT_EQ(origin(settings, "comptentra.url").value,
              "https://app.comptentra.servolution.fr/api/v1");
    EXPECT_EQ(origin(settings, "ledger.journal").value, "VTE");
    EXPECT_EQ(origin(settings, "ledger.customer_account").value, "411000");
    EXPECT_EQ(origin(settings, "ledger.sales_account").value, "707000");
    EXPECT_EQ(origin(settings, "ledger.vat_account").value, "445712");
    EXPECT_EQ(origin(settings, "ledger.vat_rate").value, to_string(VatRate{2000}));
    EXPECT_EQ(origin(settings, "ledger.timezone").value, "Europe/Paris");
}

TEST(SettingsOrigin, NamesTheFlag) {
    SettingFlags flags;
    flags.webhook_secrets = {std::string(k_webhook_one), std::string(k_webhook_two)};
    flags.stripe_key = k_stripe_key;
    flags.stripe_url = "http://127.0.0.1:1";
    flags.comptentra_key = k_comptentra_key;
    flags.comptentra_url = "http://127.0.0.1:2/api/v1";
    flags.vat_rate = "5.5";
    flags.time_zone = "UTC";
    const Settings settings =
        resolve(flags, {{"STRIPE_API_KEY", "sk_test_env"}, {"COMPTENTRA_URL", "https://env"}});
    const std::pair<std::string_view, std::string_view> sources[] = {
        {"stripe.webhook_secret", "flag --webhook-secret"},
        {"stripe.api_key", "flag --stripe-key"},
        {"stripe.api_base", "flag --stripe-url"},
        {"comptentra.api_key", "flag --comptentra-key"},
        {"comptentra.url", "flag --comptentra-url"},
        {"ledger.vat_rate", "flag --vat-rate"},
        {"ledger.timezone", "flag --timezone"}};
    for (const auto& [key, source] : sources) {
        EXPECT_EQ(origin(settings, key).source, source) << key;
    }
    EXPECT_EQ(origin(settings, "stripe.api_base").value, "http://127.0.0.1:1");
    EXPECT_EQ(origin(settings, "comptentra.url").value, "http://127.0.0.1:2/api/v1");
    EXPECT_EQ(origin(settings, "ledger.vat_rate").value, "5.5");
    EXPECT_EQ(origin(settings, "ledger.timezone").value, "UTC");
    EXPECT_EQ(origin(settings, "ledger.journal").source, "default");
    expect_secret_values_redacted(settings);
}

TEST(SettingsOrigin, NamesTheEnvironmentVariable) {
    const Settings settings = resolve(
        {},
        {{"STRIPE_WEBHOOK_SECRET", std::string(k_webhook_one) + "," + std::string(k_webhook_two)},
         {"STRIPE_API_KEY", std::string(k_stripe_key)},
         {"STRIPE_API_BASE", "http://localhost:12111"},
         {"COMPTENTRA_API_KEY", std::string(k_comptentra_key)},
         {"COMPTENTRA_URL", "http://localhost:8787/api/v1"}});
    const std::pair<std::string_view, std::string_view> sources[] = {
        {"stripe.webhook_secret", "environment STRIPE_WEBHOOK_SECRET"},
        {"stripe.api_key", "environment STRIPE_API_KEY"},
        {"stripe.api_base", "environment STRIPE_API_BASE"},
        {"comptentra.api_key", "environment COMPTENTRA_API_KEY"},
        {"comptentra.url", "environment COMPTENTRA_URL"}};
    for (const auto& [key, source] : sources) {
        EXPECT_EQ(origin(settings, key).source, source) << key;
    }
    EXPECT_EQ(origin(settings, "stripe.api_base").value, "http://localhost:12111");
    EXPECT_EQ(origin(settings, "comptentra.url").value, "http://localhost:8787/api/v1");
    expect_secret_values_redacted(settings);
}

TEST(SettingsOrigin, NamesTheConfigFile) {
    const TempDir dir;
    const auto config = dir.write("config.toml", full_config());
    const Settings settings = resolve(with_config(config));
    const std::string source = "config file " + config.string();
    for (const auto& key : expected_keys()) {
        if (key != "config file") {
            EXPECT_EQ(origin(settings, key).source, source) << key;
        }
    }
    EXPECT_EQ(origin(settings, "config file").value, config.string());
    EXPECT_EQ(origin(settings, "config file").source, "flag --config");
    EXPECT_EQ(origin(settings, "stripe.api_base").value, "http://127.0.0.1:12111");
    EXPECT_EQ(origin(settings, "ledger.journal").value, "VT");
    EXPECT_EQ(origin(settings, "ledger.customer_account").value, "411STRIPE");
    EXPECT_EQ(origin(settings, "ledger.timezone").value, "America/New_York");
    EXPECT_EQ(origin(settings, "ledger.book_fees").value, "true");
    EXPECT_TRUE(settings.ledger.book_fees);
    EXPECT_EQ(settings.ledger.fees_journal, "BNQ");
    EXPECT_EQ(settings.ledger.fees_account, "627000");
    EXPECT_EQ(settings.ledger.stripe_account, "512STR");
    expect_secret_values_redacted(settings);
}

TEST(SettingsOrigin, NamesHowTheConfigFileWasFound) {
    const TempDir dir;
    const auto named = dir.write("named.toml", "[ledger]\njournal = \"VT\"\n");
    const Settings by_variable = resolve({}, {{"STRIPE_COMPTENTRA_CONFIG", named.string()}});
    EXPECT_EQ(origin(by_variable, "config file").value, named.string());
    EXPECT_EQ(origin(by_variable, "config file").source, "environment STRIPE_COMPTENTRA_CONFIG");
    EXPECT_EQ(origin(by_variable, "ledger.journal").source, "config file " + named.string());

    const auto found =
        dir.write("xdg/stripe-comptentra/config.toml", "[ledger]\njournal = \"VT\"\n");
    const Settings by_default = resolve({}, {{"XDG_CONFIG_HOME", (dir.path() / "xdg").string()}});
    EXPECT_EQ(origin(by_default, "config file").value, found.string());
    EXPECT_EQ(origin(by_default, "config file").source, "default");
    EXPECT_EQ(origin(by_default, "ledger.journal").source, "config file " + found.string());
}

TEST(SettingsOrigin, FollowsPrecedenceForEachSetting) {
    const TempDir dir;
    const auto config = dir.write("config.toml", full_config());
    SettingFlags flags = with_config(config);
    flags.stripe_url = "http://127.0.0.1:1";
    const Settings settings =
        resolve(flags, {{"COMPTENTRA_API_KEY", "ct_env_value_long_enough_9999"},
                        {"STRIPE_API_BASE", "http://127.0.0.1:2"}});
    EXPECT_EQ(origin(settings, "stripe.api_base").source, "flag --stripe-url");
    EXPECT_EQ(origin(settings, "stripe.api_base").value, "http://127.0.0.1:1");
    EXPECT_EQ(origin(settings, "comptentra.api_key").source, "environment COMPTENTRA_API_KEY");
    EXPECT_EQ(origin(settings, "comptentra.api_key").value,
              redact("ct_env_value_long_enough_9999"));
    EXPECT_EQ(origin(settings, "stripe.api_key").source, "config file " + config.string());
    EXPECT_EQ(origin(settings, "ledger.sales_account").source, "config file " + config.string());
    EXPECT_EQ(settings.stripe_url, "http://127.0.0.1:1");
    expect_secrets_hidden(settings);
}

TEST(SettingsOrigin, HidesShortSecretsEntirely) {
    SettingFlags flags;
    flags.stripe_key = "sk_test_ab";
    flags.comptentra_key = "ct_x";
    flags.webhook_secrets = {"whsec_z"};
    const Settings settings = resolve(flags);
    EXPECT_EQ(origin(settings, "stripe.api_key").value.find("ab"), std::string::npos);
    EXPECT_EQ(origin(settings, "comptentra.api_key").value.find("ct_x"), std::string::npos);
    EXPECT_EQ(origin(settings, "stripe.webhook_secret").value.find("whsec_z"), std::string::npos);
}

} // namespace
} // namespace sc
