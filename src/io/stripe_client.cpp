#include "io/stripe_client.h"

#include "core/error.h"
#include "core/redact.h"

#include <fmt/format.h>

namespace sc {
namespace {

using nlohmann::json;

constexpr int k_page_size = 100;

bool should_retry(const HttpResult& result) {
    if (result.failure == TransportFailure::not_sent ||
        result.failure == TransportFailure::ambiguous) {
        return true;
    }
    if (result.failure != TransportFailure::none) {
        return false;
    }
    if (const auto hint = result.header("Stripe-Should-Retry")) {
        return *hint == "true";
    }
    return result.status == 409 || result.status == 429 || result.status >= 500;
}

// Stripe's own words for a failed request, with its Request-Id for support.
std::string describe(const HttpResult& result) {
    std::string text = fmt::format("HTTP {}", result.status);
    const json body = json::parse(result.body, nullptr, false);
    if (body.is_object() && body.contains("error") && body["error"].is_object()) {
        const json& error = body["error"];
        if (error.contains("message") && error["message"].is_string()) {
            text += ": " + printable(error["message"].get<std::string>());
        }
    }
    if (const auto id = result.header("Request-Id")) {
        text += fmt::format(" (Request-Id {})", printable(*id));
    }
    return text;
}

} // namespace

double default_max_rps(std::string_view api_key) {
    const bool live = api_key.starts_with("sk_live_") || api_key.starts_with("rk_live_");
    return live ? 80.0 : 20.0;
}

StripeClient::StripeClient(HttpClient& http, StripeConfig config, Waiter& waiter,
                           Diagnostics& diagnostics)
    : m_http(http), m_config(std::move(config)), m_waiter(waiter), m_diagnostics(diagnostics) {
    m_config.base_url = checked_base_url(std::move(m_config.base_url), "Stripe",
                                         "set STRIPE_API_BASE or pass --stripe-url");
    if (m_config.max_requests_per_second <= 0) {
        m_config.max_requests_per_second = default_max_rps(m_config.api_key);
    }
}

void StripeClient::pace() {
    const auto spacing = std::chrono::duration_cast<Milliseconds>(
        std::chrono::duration<double>(1.0 / m_config.max_requests_per_second));
    const auto now = m_waiter.now();
    if (m_last_request && now < *m_last_request + spacing) {
        m_waiter.wait(std::chrono::duration_cast<Milliseconds>(*m_last_request + spacing - now));
    }
    m_last_request = m_waiter.now();
}

json StripeClient::get(const std::string& path_and_query) {
    return *fetch(path_and_query, false);
}

std::optional<json> StripeClient::fetch(const std::string& path_and_query, bool missing_ok) {
    HttpRequest request;
    request.url = m_config.base_url + path_and_query;
    request.headers = {{"Authorization", "Bearer " + m_config.api_key},
                       {"Stripe-Version", std::string(k_stripe_version)}};
    if (m_config.account) {
        request.headers.emplace_back("Stripe-Account", *m_config.account);
    }
    const std::string origin = url_origin(m_config.base_url);
    RetryBudget budget(m_config.retry, m_waiter);
    while (true) {
        pace();
        const HttpResult result = m_http.send(request);
        m_diagnostics.trace(fmt::format("GET {} -> {}", request.url,
                                        result.failure == TransportFailure::none ? describe(result)
                                                                                 : result.error));
        if (result.failure == TransportFailure::none && result.status >= 200 &&
            result.status < 300) {
            json body = json::parse(result.body, nullptr, false);
            if (body.is_discarded()) {
                throw Error(ExitStatus::refused,
                            fmt::format("Stripe {}: the answer is not JSON", origin));
            }
            return body;
        }
        if (missing_ok && result.failure == TransportFailure::none && result.status == 404) {
            return std::nullopt;
        }
        if (result.failure == TransportFailure::refused) {
            throw Error(ExitStatus::config, result.error);
        }
        if (result.status == 401 || result.status == 403) {
            throw Error(ExitStatus::permission,
                        fmt::format("Stripe {} refused the API key: {}", origin, describe(result)),
                        "check STRIPE_API_KEY or --stripe-key (it needs read access to charges)");
        }
        const std::string problem =
            result.failure == TransportFailure::none ? describe(result) : result.error;
        if (!should_retry(result)) {
            throw Error(ExitStatus::refused, fmt::format("Stripe {}: {}", origin, problem));
        }
        if (!budget.wait_for_next()) {
            throw Error(ExitStatus::temporary,
                        fmt::format("Stripe {}: still failing after {} attempts: {}", origin,
                                    budget.attempts(), problem),
                        "nothing was lost: run the same command again later");
        }
    }
}

std::optional<json> StripeClient::get_charge(const std::string& id) {
    return fetch("/v1/charges/" + url_encode(id) + "?expand%5B%5D=balance_transaction", true);
}

std::optional<json> StripeClient::get_refund(const std::string& id) {
    return fetch("/v1/refunds/" + url_encode(id) +
                     "?expand%5B%5D=balance_transaction&expand%5B%5D=charge",
                 true);
}

json StripeClient::get_balance_transaction(const std::string& id) {
    return get("/v1/balance_transactions/" + url_encode(id));
}

void StripeClient::list_charges(std::int64_t created_from, std::int64_t created_until,
                                const std::function<void(const json& charge)>& on_charge) {
    list("charges", created_from, created_until, "&expand%5B%5D=data.balance_transaction",
         on_charge);
}

void StripeClient::list_refunds(std::int64_t created_from, std::int64_t created_until,
                                const std::function<void(const json& refund)>& on_refund) {
    list("refunds", created_from, created_until,
         "&expand%5B%5D=data.balance_transaction&expand%5B%5D=data.charge", on_refund);
}

std::vector<json> StripeClient::refunds_of(const std::string& charge_id) {
    std::vector<json> refunds;
    list("refunds", std::nullopt, std::nullopt, "&charge=" + url_encode(charge_id),
         [&refunds](const json& refund) { refunds.push_back(refund); });
    return refunds;
}

void StripeClient::list(std::string_view kind, std::optional<std::int64_t> created_from,
                        std::optional<std::int64_t> created_until, std::string_view extra,
                        const std::function<void(const json& object)>& on_object) {
    std::string starting_after;
    while (true) {
        std::string query = fmt::format("/v1/{}?limit={}", kind, k_page_size);
        if (created_from && created_until) {
            query += fmt::format("&created%5Bgte%5D={}&created%5Blt%5D={}", *created_from,
                                 *created_until);
        }
        query += extra;
        if (!starting_after.empty()) {
            query += "&starting_after=" + url_encode(starting_after);
        }
        const json page = get(query);
        if (!page.contains("data") || !page["data"].is_array()) {
            throw Error(ExitStatus::refused, fmt::format("Stripe {}: the {} list has no data array",
                                                         url_origin(m_config.base_url), kind));
        }
        const json& charges = page["data"];
        for (const json& charge : charges) {
            on_object(charge);
        }
        const auto more = page.find("has_more");
        if (more == page.end() || !more->is_boolean() || !more->get<bool>() || charges.empty()) {
            return;
        }
        const json& last = charges.back();
        if (!last.is_object() || !last.contains("id") || !last["id"].is_string()) {
            throw Error(ExitStatus::refused,
                        fmt::format("Stripe {}: a listed object has no id to page from",
                                    url_origin(m_config.base_url)));
        }
        if (last["id"].get<std::string>() == starting_after) {
            throw Error(ExitStatus::refused,
                        fmt::format("Stripe {}: the {} list does not advance past {}",
                                    url_origin(m_config.base_url), kind, starting_after));
        }
        starting_after = last["id"].get<std::string>();
    }
}

} // namespace sc
