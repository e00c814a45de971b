#include "core/error.h"
#include "io/config_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace sc {
namespace {

using testing::TempDir;
using Values = std::vector<std::string>;

ConfigFile load(const TempDir& dir, std::string_view text) {
    return load_config_file(dir.write("config.toml", text));
}

// Expects loading `text` to fail with a configuration error starting `<file>:<line>:` and
// containing `words`.
void expect_error_at(std::string_view text, int line, std::string_view words) {
    const TempDir dir;
    const auto path = dir.write("config.toml", text);
    try {
        load_config_file(path);
        ADD_FAILURE() << "no error for: " << text;
    } catch (const Error& error) {
        const std::string_view message = error.what();
        EXPECT_EQ(error.status(), ExitStatus::config) << message;
        EXPECT_TRUE(message.starts_with(path.string() + ":" + std::to_string(line) + ":"))
            << message;
        EXPECT_NE(message.find(words), std::string_view::npos) << message;
    }
}

TEST(LoadConfigFile, ReadsEveryKnownKey) {
    const TempDir dir;
    const auto config = load(dir, R"(# stripe-comptentra
[stripe]
webhook_secret = "whsec_a"
api_key = "sk_test_x"
api_base = "http://127.0.0.1:12111"

[comptentra]
api_key = "ct_x"
url = "http://127.0.0.1:8787/api/v1"

[ledger]
journal = "VTE"
customer_account = "411000"
sales_account = "707000"
vat_account = "445712"
vat_rate = 20
timezone = "Europe/Paris"
)");
    EXPECT_EQ(config.path, dir.path() / "config.toml");
    EXPECT_EQ(config.get("stripe.webhook_secret"), "whsec_a");
    EXPECT_EQ(config.get("stripe.api_key"), "sk_test_x");
    EXPECT_EQ(config.get("stripe.api_base"), "http://127.0.0.1:12111");
    EXPECT_EQ(config.get("comptentra.api_key"), "ct_x");
    EXPECT_EQ(config.get("comptentra.url"), "http://127.0.0.1:8787/api/v1");
    EXPECT_EQ(config.get("ledger.journal"), "VTE");
    EXPECT_EQ(config.get("ledger.customer_account"), "411000");
    EXPECT_EQ(config.get("ledger.sales_account"), "707000");
    EXPECT_EQ(config.get("ledger.vat_account"), "445712");
    EXPECT_EQ(config.get("ledger.vat_rate"), "20");
    EXPECT_EQ(config.get("ledger.timezone"), "Europe/Paris");
}

TEST(LoadConfigFile, ReadsAnEmptyFile) {
    const TempDir dir;
    const auto config = load(dir, "");
    EXPECT_TRUE(config.values.empty());
    EXPECT_FALSE(config.get("stripe.api_key").has_value());
    EXPECT_TRUE(config.get_all("stripe.webhook_secret").empty());
}

TEST(LoadConfigFile, ReadsAWebhookSecretAsAString) {
    const TempDir dir;
    const auto config = load(dir, "[stripe]\nwebhook_secret = \"whsec_one\"\n");
    EXPECT_EQ(config.get_all("stripe.webhook_secret"), Values{"whsec_one"});
}

TEST(LoadConfigFile, ReadsWebhookSecretsAsAnArrayInOrder) {
    const TempDir dir;
    const auto config =
        load(dir, "[stripe]\nwebhook_secret = [\"whsec_old\", \"whsec_new\", \"whsec_next\"]\n");
    EXPECT_EQ(config.get_all("stripe.webhook_secret"),
              (Values{"whsec_old", "whsec_new", "whsec_next"}));
    EXPECT_EQ(config.get("stripe.webhook_secret"), "whsec_old");
}

TEST(LoadConfigFile, ReadsAnEmptyWebhookSecretArrayAsNoSecret) {
    const TempDir dir;
    const auto config = load(dir, "[stripe]\nwebhook_secret = []\n");
    EXPECT_TRUE(config.get_all("stripe.webhook_secret").empty());
    EXPECT_FALSE(config.get("stripe.webhook_secret").has_value());
}

TEST(LoadConfigFile, WritesNumbersAsDecimalText) {
    const struct {
        std::string_view toml;
        std::string_view text;
    } cases[] = {{"5.5", "5.5"}, {"\"5,5\"", "5,5"}, {"20", "20"},
                 {"2.1", "2.1"}, {"0", "0"},         {"19.6", "19.6"}};
    for (const auto& [toml, text] : cases) {
        const TempDir dir;
        const auto config = load(dir, "[ledger]\nvat_rate = " + std::string(toml) + "\n");
        EXPECT_EQ(config.get("ledger.vat_rate"), std::string(text)) << toml;
    }
}

TEST(LoadConfigFile, ReadsDottedKeysAndInlineTables) {
    const TempDir dir;
    const auto config =
        load(dir, "stripe.api_key = \"sk_test_dotted\"\nledger = { journal = \"VT\" }\n");
    EXPECT_EQ(config.get("stripe.api_key"), "sk_test_dotted");
    EXPECT_EQ(config.get("ledger.journal"), "VT");
}

TEST(LoadConfigFile, RejectsAnUnknownKeyNamingFileAndLine) {
    expect_error_at("[stripe]\napi_key = \"sk\"\napi_secret = \"x\"\n", 3, "stripe.api_secret");
}

TEST(LoadConfigFile, RejectsAKeyOfAnUnknownSection) {
    expect_error_at("\n[stripe]\napi_key = \"sk\"\n[stripe_comptentra]\nurl = \"x\"\n", 5,
                    "stripe_comptentra.url");
}

TEST(LoadConfigFile, RejectsANestedTable) {
    expect_error_at("[ledger]\njournal = \"VTE\"\n[ledger.accounts]\nsales = \"707000\"\n", 3,
                    "ledger.accounts");
}

TEST(LoadConfigFile, RejectsATopLevelValue) {
    expect_error_at("api_key = \"sk\"\n", 1, "api_key");
}

TEST(LoadConfigFile, RejectsSyntaxErrorsNamingFileAndLine) {
    expect_error_at("[stripe]\napi_key = \"unterminated\n", 2, "");
    expect_error_at("[stripe]\napi_key = \"a\"\n\n[ledger\n", 4, "");
    expect_error_at("[ledger]\nvat_rate = 5.5\nvat_rate = 20\n", 3, "");
    expect_error_at("[stripe]\napi_key\n", 2, "");
}

TEST(LoadConfigFile, RejectsValuesOfTheWrongType) {
    expect_error_at("[ledger]\nvat_rate = true\n", 2, "ledger.vat_rate");
    expect_error_at("[stripe]\napi_key = [\"a\", \"b\"]\n", 2, "stripe.api_key");
    expect_error_at("[stripe]\n\nwebhook_secret = [\"whsec_a\", 5]\n", 3, "stripe.webhook_secret");
    expect_error_at("[ledger]\ntimezone = { name = \"UTC\" }\n", 2, "ledger.timezone");
    expect_error_at("[ledger]\njournal = 2026-01-01\n", 2, "ledger.journal");
}

TEST(LoadConfigFile, RejectsAFileThatCannotBeRead) {
    const TempDir dir;
    const auto missing = dir.path() / "missing.toml";
    try {
        load_config_file(missing);
        ADD_FAILURE() << "no error";
    } catch (const Error& error) {
        EXPECT_EQ(error.status(), ExitStatus::config);
        EXPECT_NE(std::string_view(error.what()).find(missing.string()), std::string_view::npos)
            << error.what();
    }
}

TEST(KnownConfigKeys, AreTheDocumentedKeys) {
    Values keys = known_config_keys();
    std::sort(keys.begin(), keys.end());
    EXPECT_EQ(keys, (Values{"comptentra.api_key", "comptentra.url", "ledger.book_fees",
                            "ledger.customer_account", "ledger.fees_account",
                            "ledger.fees_journal", "ledger.journal", "ledger.sales_account",
                            "ledger.stripe_account", "ledger.timezone", "ledger.vat_account",
                            "ledger.vat_rate", "stripe.api_base", "stripe.api_key",
                            "stripe.webhook_secret"}));
}

} // namespace
} // namespace sc

namespace sc {
namespace {

TEST(ConfigTemplate, LoadsAndSetsNothingYetNamesEveryKey) {
    const testing::TempDir dir;
    const ConfigFile config = load_config_file(dir.write("config.toml", config_template()));
    EXPECT_TRUE(config.values.empty());
    const std::string text = config_template();
    for (const auto& key : known_config_keys()) {
        const std::string name = key.substr(key.find('.') + 1);
        EXPECT_NE(text.find("# " + name + " = "), std::string::npos) << key;
    }
}

TEST(ExposedSecretsWarning, OnlyForASecretThatOthersMayRead) {
    const testing::TempDir dir;
    const auto path = dir.write("config.toml", "[stripe]\napi_key = \"rk_test_unit0001\"\n");
    std::filesystem::permissions(path, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::owner_write);
    EXPECT_FALSE(exposed_secrets_warning(load_config_file(path)));
    std::filesystem::permissions(path, std::filesystem::perms::group_read,
                                 std::filesystem::perm_options::add);
    const auto warning = exposed_secrets_warning(load_config_file(path));
    ASSERT_TRUE(warning);
    EXPECT_NE(warning->find("(mode 0640)"), std::string::npos) << *warning;
    EXPECT_EQ(warning->find("rk_test_unit0001"), std::string::npos);

    const auto plain = dir.write("plain.toml", "[ledger]\nvat_rate = 20\n");
    std::filesystem::permissions(plain, std::filesystem::perms::all);
    EXPECT_FALSE(exposed_secrets_warning(load_config_file(plain)));
}

TEST(CreateConfigFile, WritesAPrivateFileOnceAndNeverOverwrites) {
    const testing::TempDir dir;
    const auto path = dir.path() / "deep" / "er" / "config.toml";
    create_config_file(path);
    EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    try {
        create_config_file(path);
        ADD_FAILURE() << "overwrote " << path;
    } catch (const Error& error) {
        EXPECT_EQ(error.status(), ExitStatus::config);
    }
}

} // namespace
} // namespace sc
