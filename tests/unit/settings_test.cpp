#include "core/error.h"
#include "io/settings.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace sc {
namespace {

using testing::TempDir;
using Variables = std::map<std::string, std::string, std::less<>>;

Settings resolve(const SettingFlags& flags, Variables variables = {}) {
    return resolve_settings(flags, MapEnvironment(std::move(variables)));
}

SettingFlags with_config(const std::filesystem::path& path) {
    SettingFlags flags;
    flags.config_path = path;
    return flags;
}

// Expects resolve_settings to throw an Error of `status` whose message contains every part.
void expect_error(const SettingFlags& flags, const Variables& variables, ExitStatus status,
                  std::initializer_list<std::string_view> parts) {
    try {
        resolve(flags, variables);
        ADD_FAILURE() << "no error";
    } catch (const Error& error) {
        const std::string_view message = error.what();
        EXPECT_EQ(error.status(), status) << message;
        for (const auto part : parts) {
            EXPECT_NE(message.find(part), std::string_view::npos)
                << "'" << part << "' not in: " << message;
        }
    }
}

constexpr std::string_view k_full_config = R"(
[stripe]
webhook_secret = "whsec_from_config"
api_key = "sk_test_from_config"
api_base = "http://127.0.0.1:12111"

[comptentra]
api_key = "ct_from_config"
url = "http://127.0.0.1:8787/api/v1"

[ledger]
vat_rate = 5.5
timezone = "America/New_York"
)";

// --- defaults
// -------------------------------------------------------------------------------------

TEST(ResolveSettings, UsesTheDefaultsWithoutFlagsEnvironmentOrConfig) {
    const Settings settings = resolve({});
    EXPECT_TRUE(settings.webhook_secrets.empty());
    EXPECT_FALSE(settings.stripe_key.has_value());
    EXPECT_FALSE(settings.comptentra_key.has_value());
    EXPECT_EQ(settings.stripe_url, "https://api.stripe.com");
    EXPECT_EQ(settings.comptentra_url, "https://app.comptentra.servolution.fr/api/v1");
    EXPECT_EQ(settings.ledger.journal, "VTE");
    EXPECT_EQ(settings.ledger.customer_account, "411000");
    EXPECT_EQ(settings.ledger.sales_account, "707000");
    EXPECT_EQ(settings.ledger.vat_account, "445712");
    EXPECT_EQ(settings.ledger.vat_rate, VatRate{2000});
    EXPECT_EQ(settings.ledger.time_zone.name(), "Europe/Paris");
    EXPECT_FALSE(settings.config_path.has_value());
}

// --- precedence: flag > environment > config file > default
// ---------------------------------------

struct StringSetting {
    std::string_view name;
    std::optional<std::string> SettingFlags::*flag;
    std::string_view variable;
    std::string_view from_config;
    std::string_view fallback; ///< empty when the setting has no default
    std::function<std::optional<std::string>(const Settings&)> value;
};

const std::vector<StringSetting>& string_settings() {
    static const std::vector<StringSetting> settings = {
        {"stripe key", &SettingFlags::stripe_key, "STRIPE_API_KEY", "sk_test_from_config", "",
         [](const Settings& s) { return s.stripe_key; }},
        {"stripe url", &SettingFlags::stripe_url, "STRIPE_API_BASE", "http://127.0.0.1:12111",
         "https://api.stripe.com", [](const Settings& s) { return std::optional(s.stripe_url); }},
        {"comptentra key", &SettingFlags::comptentra_key, "COMPTENTRA_API_KEY", "ct_from_config",
         "", [](const Settings& s) { return s.comptentra_key; }},
        {"comptentra url", &SettingFlags::comptentra_url, "COMPTENTRA_URL",
         "http://127.0.0.1:8787/api/v1", "https://app.comptentra.servolution.fr/api/v1",
         [](const Settings& s) { return std::optional(s.comptentra_url); }},
    };
    return settings;
}

TEST(ResolveSettings, TakesStringSettingsFromTheConfigFile) {
    const TempDir dir;
    const auto config = dir.write("config.toml", k_full_config);
    const Settings settings = resolve(with_config(config));
    for (const auto& setting : string_settings()) {
        EXPECT_EQ(setting.value(settings), std::string(setting.from_config)) << setting.name;
    }
    EXPECT_EQ(settings.config_path, config);
}

TEST(ResolveSettings, PrefersTheEnvironmentToTheConfigFile) {
    const TempDir dir;
    const auto config = dir.write("config.toml", k_full_config);
    for (const auto& setting : string_settings()) {
        const Settings settings =
            resolve(with_config(config), {{std::string(setting.variable), "from_env"}});
        EXPECT_EQ(setting.value(settings), "from_env") << setting.name;
    }
}

TEST(ResolveSettings, PrefersTheFlagToTheEnvironment) {
    const TempDir dir;
    const auto config = dir.write("config.toml", k_full_config);
    for (const auto& setting : string_settings()) {
        SettingFlags flags = with_config(config);
        flags.*setting.flag = "from_flag";
        const Settings settings = resolve(flags, {{std::string(setting.variable), "from_env"}});
        EXPECT_EQ(setting.value(settings), "from_flag") << setting.name;
    }
}

TEST(ResolveSettings, TreatsAnEmptyVariableAsUnset) {
    const TempDir dir;
    const auto config = dir.write("config.toml", k_full_config);
    for (const auto& setting : string_settings()) {
        const Settings settings =
            resolve(with_config(config), {{std::string(setting.variable), ""}});
        EXPECT_EQ(setting.value(settings), std::string(setting.from_config)) << setting.name;
    }
}

TEST(ResolveSettings, TakesTheEnvironmentWithoutConfigFile) {
    for (const auto& setting : string_settings()) {
        const Settings settings = resolve({}, {{std::string(setting.variable), "from_env"}});
        EXPECT_EQ(setting.value(settings), "from_env") << setting.name;
    }
}

TEST(ResolveSettings, UsesTheDefaultWhenNothingSetsAString) {
    for (const auto& setting : string_settings()) {
        const auto resolved = setting.value(resolve({}));
        if (setting.fallback.empty()) {
            EXPECT_FALSE(resolved.has_value()) << setting.name;
        } else {
            EXPECT_EQ(resolved, std::string(setting.fallback)) << setting.name;
        }
    }
}

// --- webhook secrets
// -------------------------------------------------------------------------------

TEST(ResolveSettings, TakesWebhookSecretsByPrecedence) {
    const TempDir dir;
    const auto config = dir.write("config.toml", k_full_config);
    using Secrets = std::vector<std::string>;
    EXPECT_EQ(resolve(with_config(config)).webhook_secrets, Secrets{"whsec_from_config"});
    const Variables env = {{"STRIPE_WEBHOOK_SECRET", "whsec_env"}};
    EXPECT_EQ(resolve(with_config(config), env).webhook_secrets, Secrets{"whsec_env"});
    SettingFlags flags = with_config(config);
    flags.webhook_secrets = {"whsec_flag_1", "whsec_flag_2"};
    EXPECT_EQ(resolve(flags, env).webhook_secrets, (Secrets{"whsec_flag_1", "whsec_flag_2"}));
}

TEST(ResolveSettings, SplitsTheWebhookSecretVariableOnCommas) {
    const auto settings = resolve({}, {{"STRIPE_WEBHOOK_SECRET", "whsec_a,whsec_b"}});
    EXPECT_EQ(settings.webhook_secrets, (std::vector<std::string>{"whsec_a", "whsec_b"}));
}

TEST(ResolveSettings, KeepsASingleWebhookSecretAsItIs) {
    const auto settings = resolve({}, {{"STRIPE_WEBHOOK_SECRET", " whsec_a\n"}});
    EXPECT_EQ(settings.webhook_secrets, (std::vector<std::string>{" whsec_a\n"}));
}

TEST(ResolveSettings, TakesEveryWebhookSecretOfAConfigList) {
    const TempDir dir;
    const auto config =
        dir.write("config.toml", "[stripe]\nwebhook_secret = [\"whsec_old\", \"whsec_new\"]\n");
    EXPECT_EQ(resolve(with_config(config)).webhook_secrets,
              (std::vector<std::string>{"whsec_old", "whsec_new"}));
}

TEST(SplitSecrets, SplitsOnCommasAndTrimsSpacesAroundListItems) {
    using Secrets = std::vector<std::string>;
    EXPECT_EQ(split_secrets("whsec_a,whsec_b"), (Secrets{"whsec_a", "whsec_b"}));
    EXPECT_EQ(split_secrets("whsec_a, whsec_b ,\twhsec_c"),
              (Secrets{"whsec_a", "whsec_b", "whsec_c"}));
    EXPECT_EQ(split_secrets("whsec_a,,whsec_b,"), (Secrets{"whsec_a", "whsec_b"}));
    EXPECT_EQ(split_secrets("whsec_a"), (Secrets{"whsec_a"}));
    EXPECT_EQ(split_secrets(" whsec_a "), (Secrets{" whsec_a "}));
    EXPECT_EQ(split_secrets(""), Secrets{});
}

// --- VAT rate and time zone
// ------------------------------------------------------------------------

TEST(ResolveSettings, TakesTheVatRateFromTheFlagThenTheConfigFile) {
    const TempDir dir;
    const auto config = dir.write("config.toml", k_full_config);
    EXPECT_EQ(resolve(with_config(config)).ledger.vat_rate, VatRate{550});
    SettingFlags flags = with_config(config);
    flags.vat_rate = "2,1";
    EXPECT_EQ(resolve(flags).ledger.vat_rate, VatRate{210});
}

TEST(ResolveSettings, TakesTheTimeZoneFromTheFlagThenTheConfigFile) {
    const TempDir dir;
    const auto config = dir.write("config.toml", k_full_config);
    EXPECT_EQ(resolve(with_config(config)).ledger.time_zone.name(), "America/New_York");
    SettingFlags flags = with_config(config);
    flags.time_zone = "UTC";
    EXPECT_EQ(resolve(flags).ledger.time_zone.name(), "UTC");
}

TEST(ResolveSettings, RejectsABadVatRateFlagAsAUsageError) {
    SettingFlags flags;
    flags.vat_rate = "5.555";
    expect_error(flags, {}, ExitStatus::usage, {"--vat-rate", "5.555"});
}

TEST(ResolveSettings, RejectsABadVatRateInTheConfigFileAsAConfigurationError) {
    const TempDir dir;
    const auto config = dir.write("config.toml", "[ledger]\nvat_rate = \"20%\"\n");
    expect_error(with_config(config), {}, ExitStatus::config,
                 {"ledger.vat_rate", config.string(), "20%"});
}

TEST(ResolveSettings, RejectsAnUnknownTimeZoneFlagAsAUsageError) {
    SettingFlags flags;
    flags.time_zone = "Europe/Atlantis";
    expect_error(flags, {}, ExitStatus::usage, {"--timezone", "Europe/Atlantis"});
}

TEST(ResolveSettings, RejectsAnUnknownTimeZoneInTheConfigFileAsAConfigurationError) {
    const TempDir dir;
    const auto config = dir.write("config.toml", "[ledger]\ntimezone = \"Europe/Atlantis\"\n");
    expect_error(with_config(config), {}, ExitStatus::config,
                 {"ledger.timezone", config.string(), "Europe/Atlantis"});
}

// --- ledger codes
// -----------------------------------------------------------------------------------

TEST(ResolveSettings, TakesTheJournalAndAccountsFromTheConfigFile) {
    const TempDir dir;
    const auto config = dir.write("config.toml", "[ledger]\n"
                                                 "journal = \"VT\"\n"
                                                 "customer_account = \"411STRIPE\"\n"
                                                 "sales_account = 706100\n"
                                                 "vat_account = \"445710\"\n");
    const Settings settings = resolve(with_config(config));
    EXPECT_EQ(settings.ledger.journal, "VT");
    EXPECT_EQ(settings.ledger.customer_account, "411STRIPE");
    EXPECT_EQ(settings.ledger.sales_account, "706100");
    EXPECT_EQ(settings.ledger.vat_account, "445710");
}

TEST(ResolveSettings, RejectsAnAccountCodeThatIsNotLettersAndDigits) {
    for (const std::string key : {"journal", "customer_account", "sales_account", "vat_account"}) {
        for (const std::string value : {"411 000", "", "41-1000", "411000\\n"}) {
            const TempDir dir;
            const auto config =
                dir.write("config.toml", "[ledger]\n" + key + " = \"" + value + "\"\n");
            expect_error(with_config(config), {}, ExitStatus::config, {"ledger." + key});
        }
    }
}

// --- which config file
// -------------------------------------------------------------------------------

TEST(ResolveSettings, ReadsTheConfigFileNamedByTheVariable) {
    const TempDir dir;
    const auto config = dir.write("elsewhere.toml", k_full_config);
    const Settings settings = resolve({}, {{"STRIPE_COMPTENTRA_CONFIG", config.string()}});
    EXPECT_EQ(settings.stripe_key, "sk_test_from_config");
    EXPECT_EQ(settings.config_path, config);
}

TEST(ResolveSettings, PrefersTheConfigFlagToTheVariable) {
    const TempDir dir;
    const auto chosen = dir.write("chosen.toml", "[stripe]\napi_key = \"sk_test_chosen\"\n");
    const auto other = dir.write("other.toml", "[stripe]\napi_key = \"sk_test_other\"\n");
    const Settings settings =
        resolve(with_config(chosen), {{"STRIPE_COMPTENTRA_CONFIG", other.string()}});
    EXPECT_EQ(settings.stripe_key, "sk_test_chosen");
    EXPECT_EQ(settings.config_path, chosen);
}

TEST(ResolveSettings, ReadsTheDefaultConfigFileUnderXdgConfigHome) {
    const TempDir dir;
    const auto config = dir.write("xdg/stripe-comptentra/config.toml", k_full_config);
    const Settings settings = resolve({}, {{"XDG_CONFIG_HOME", (dir.path() / "xdg").string()},
                                           {"HOME", (dir.path() / "home").string()}});
    EXPECT_EQ(settings.stripe_key, "sk_test_from_config");
    EXPECT_EQ(settings.config_path, config);
}

TEST(ResolveSettings, ReadsTheDefaultConfigFileUnderHomeWithoutXdgConfigHome) {
    const TempDir dir;
    const auto config = dir.write("home/.config/stripe-comptentra/config.toml", k_full_config);
    const Settings settings = resolve({}, {{"HOME", (dir.path() / "home").string()}});
    EXPECT_EQ(settings.stripe_key, "sk_test_from_config");
    EXPECT_EQ(settings.config_path, config);
}

TEST(ResolveSettings, GoesOnWithoutConfigWhenTheDefaultFileIsAbsent) {
    const TempDir dir;
    const Settings settings = resolve({}, {{"XDG_CONFIG_HOME", (dir.path() / "xdg").string()}});
    EXPECT_FALSE(settings.config_path.has_value());
    EXPECT_FALSE(settings.stripe_key.has_value());
}

TEST(ResolveSettings, RejectsAnExplicitConfigFileThatDoesNotExist) {
    const TempDir dir;
    const auto missing = dir.path() / "missing.toml";
    expect_error(with_config(missing), {}, ExitStatus::config, {missing.string()});
    expect_error({}, {{"STRIPE_COMPTENTRA_CONFIG", missing.string()}}, ExitStatus::config,
                 {missing.string()});
}

TEST(ResolveSettings, RejectsAConfigPathThatIsADirectory) {
    const TempDir dir;
    expect_error(with_config(dir.path()), {}, ExitStatus::config, {dir.path().string()});
}

TEST(ResolveSettings, RejectsAnInvalidConfigFile) {
    const TempDir dir;
    const auto config = dir.write("config.toml", "[stripe]\napi_key = \n");
    expect_error(with_config(config), {}, ExitStatus::config, {config.string() + ":2"});
}

TEST(FindConfigFile, IsNothingWithoutFlagVariableOrHome) {
    EXPECT_FALSE(find_config_file({}, MapEnvironment(Variables{})).has_value());
}

TEST(FindConfigFile, ReturnsAnExplicitPathEvenWhenItDoesNotExist) {
    SettingFlags flags;
    flags.config_path = "/nonexistent/config.toml";
    EXPECT_EQ(find_config_file(flags, MapEnvironment(Variables{})),
              std::filesystem::path("/nonexistent/config.toml"));
    EXPECT_EQ(find_config_file({}, MapEnvironment(Variables{
                                       {"STRIPE_COMPTENTRA_CONFIG", "/nonexistent/b.toml"}})),
              std::filesystem::path("/nonexistent/b.toml"));
}

} // namespace
} // namespace sc
