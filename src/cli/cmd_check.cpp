#include "cli/commands.h"
#include "cli/report.h"
#include "io/comptentra_client.h"
#include "io/http_client.h"
#include "io/stripe_client.h"

#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <ostream>
#include <vector>

namespace sc::cli {
namespace {

// What a successful answer of an API holds: a JSON object whose `key` is an array, or the
// string `value` when one is given.
struct ExpectedAnswer {
    std::string key;
    std::string value;               ///< empty: `key` holds an array
    std::vector<std::string> fields; ///< the text fields of each element of that array
};

bool answers_as_expected(const std::string& body, const ExpectedAnswer& expected) {
    const auto answer = nlohmann::json::parse(body, nullptr, false);
    if (!answer.is_object() || !answer.contains(expected.key)) {
        return false;
    }
    const auto& value = answer[expected.key];
    if (!expected.value.empty()) {
        return value.is_string() && value.get<std::string>() == expected.value;
    }
    return value.is_array() &&
           std::all_of(value.begin(), value.end(), [&expected](const nlohmann::json& element) {
               return element.is_object() &&
                      std::all_of(expected.fields.begin(), expected.fields.end(),
                                  [&element](const std::string& field) {
                                      return element.contains(field) && element[field].is_string();
                                  });
           });
}

// The verdict on one API: reached with an accepted key and answering as it should, or why not.
ItemResult probe(std::string_view name, const std::optional<std::string>& key,
                 const std::string& url, const HttpRequest& request, const ExpectedAnswer& expected,
                 HttpClient& http, Diagnostics& diagnostics) {
    ItemResult result;
    result.input = std::string(name);
    result.id = url_origin(url);
    result.status = "failed";
    std::string why;
    if (!key) {
        result.reason = "no API key is configured";
        result.exit = ExitStatus::config;
    } else if (!is_allowed_url(url, why)) {
        result.reason = why;
        result.exit = ExitStatus::config;
    } else {
        const HttpResult answer = http.send(request);
        diagnostics.trace(fmt::format("GET {} -> {}", request.url,
                                      answer.failure == TransportFailure::none
                                          ? std::to_string(answer.status)
                                          : answer.error));
        if (answer.failure != TransportFailure::none) {
            result.reason = answer.error;
            result.exit = ExitStatus::temporary;
        } else if (answer.status >= 200 && answer.status < 300 &&
                   !answers_as_expected(answer.body, expected)) {
            result.reason =
                fmt::format("HTTP {}, but the answer is not the expected JSON", answer.status);
            result.exit = ExitStatus::refused;
        } else if (answer.status >= 200 && answer.status < 300) {
            result.status = "ok";
            result.reason = {};
        } else {
            result.reason = fmt::format("HTTP {}", answer.status);
            result.exit = answer.status == 401 || answer.status == 403   ? ExitStatus::permission
                          : answer.status == 429 || answer.status >= 500 ? ExitStatus::temporary
                                                                         : ExitStatus::refused;
        }
    }
    return result;
}

// What a person can do about a failed check of an API configured through `variable`.
void print_problem(const ItemResult& result, std::string_view variable, const Context& context) {
    if (result.exit == ExitStatus::ok) {
        return;
    }
    const std::string hint =
        result.exit == ExitStatus::temporary
            ? fmt::format("check that {} can be reached from here, then run check again", result.id)
            : fmt::format("check {} and the {} URL", variable, result.input);
    const bool named = result.reason.starts_with(result.id); // libcurl's errors name the origin
    print_error(context.err,
                named ? fmt::format("{}: {}", result.input, result.reason)
                      : fmt::format("{} {}: {}", result.input, result.id, result.reason),
                hint);
}

int run_check(const Context& context) {
    const Settings settings = context.settings();
    print_origins(settings, context);
    CurlHttpClient http(http_timeouts(context));
    Diagnostics diagnostics(context.err, context.verbose);
    Reporter reporter(context.out, context.err, context.json,
                      ReportStyle{ExitRule::first, "checks", false, false});

    HttpRequest stripe{"GET", settings.stripe_url + "/v1/balance", {}, {}};
    stripe.headers = {{"Authorization", "Bearer " + settings.stripe_key.value_or("")},
                      {"Stripe-Version", std::string(k_stripe_version)}};
    const ItemResult stripe_result =
        probe("stripe", settings.stripe_key, settings.stripe_url, stripe,
              ExpectedAnswer{"object", "balance", {}}, http, diagnostics);
    reporter.item(stripe_result);
    print_problem(stripe_result, "STRIPE_API_KEY (--stripe-key)", context);

    std::string base = settings.comptentra_url;
    while (base.ends_with('/')) {
        base.pop_back();
    }
    HttpRequest comptentra{"GET", base + "/ecritures?limit=1", {}, {}};
    comptentra.headers = {{"X-API-Key", settings.comptentra_key.value_or("")}};
    const ItemResult comptentra_result =
        probe("comptentra", settings.comptentra_key, base, comptentra,
              ExpectedAnswer{"data", {}, {"date", "journal", "libelle"}}, http, diagnostics);
    reporter.item(comptentra_result);
    print_problem(comptentra_result, "COMPTENTRA_API_KEY (--comptentra-key)", context);
    return reporter.finish();
}

} // namespace

CommandRunner add_check_command(CLI::App& app, Context& context) {
    CLI::App* command = app.add_subcommand("check", "check the configuration and reach both APIs");
    add_stripe_options(*command, context.flags);
    add_comptentra_options(*command, context.flags);
    command->footer("Examples:\n"
                    "  stripe-comptentra check\n"
                    "  COMPTENTRA_URL=http://127.0.0.1:8081 stripe-comptentra --json check");
    return [&context] { return run_check(context); };
}

} // namespace sc::cli
