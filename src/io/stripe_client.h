#pragma once

#include "io/diagnostics.h"
#include "io/http_client.h"
#include "io/retry.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sc {

/// The Stripe API version whose objects this tool reads.
inline constexpr std::string_view k_stripe_version = "2026-11-18.endive";

/// Where and how to reach Stripe.
struct StripeConfig {
    std::string base_url; ///< e.g. https://api.stripe.com
    std::string api_key;
    std::optional<std::string> account; ///< Stripe-Account, for a Connect platform
    double max_requests_per_second = 0; ///< 0: the default for the key's mode
    RetryPolicy retry;
};

/// Requests per second allowed by default: below Stripe's limits of 25/s in test mode and
/// 100/s in live mode.
double default_max_rps(std::string_view api_key);

/// The Stripe API, read-only, with Stripe's retry rules: network errors, 409 and 5xx are
/// retried, 429 after a backoff, and `Stripe-Should-Retry` overrides the judgement. Requests
/// are spaced to stay under the rate limit. Failures throw Error (77 for a refused key, 69 for
/// a refused request, 75 when retries run out) naming Stripe's Request-Id.
class StripeClient {
  public:
    StripeClient(HttpClient& http, StripeConfig config, Waiter& waiter, Diagnostics& diagnostics);

    /// Calls `on_charge` with each charge created in [created_from, created_until), newest
    /// first, its balance transaction expanded. Pages of 100 are read one at a time, so memory
    /// does not grow with the number of charges.
    void list_charges(std::int64_t created_from, std::int64_t created_until,
                      const std::function<void(const nlohmann::json& charge)>& on_charge);

    /// Calls `on_refund` with each refund created in [created_from, created_until), newest
    /// first, its balance transaction and its charge expanded, a page at a time.
    void list_refunds(std::int64_t created_from, std::int64_t created_until,
                      const std::function<void(const nlohmann::json& refund)>& on_refund);

    /// Every refund of a charge (GET /v1/refunds?charge=).
    std::vector<nlohmann::json> refunds_of(const std::string& charge_id);

    /// The charge with that id, its balance transaction expanded; nothing when Stripe answers
    /// that there is no such charge (404).
    std::optional<nlohmann::json> get_charge(const std::string& id);

    /// The refund with that id, its charge and balance transaction expanded; nothing when
    /// Stripe answers that there is no such refund (404).
    std::optional<nlohmann::json> get_refund(const std::string& id);

    /// The balance transaction with that id (GET /v1/balance_transactions/{id}).
    nlohmann::json get_balance_transaction(const std::string& id);

  private:
    void list(std::string_view kind, std::optional<std::int64_t> created_from,
              std::optional<std::int64_t> created_until, std::string_view extra,
              const std::function<void(const nlohmann::json& object)>& on_object);
    nlohmann::json get(const std::string& path_and_query);
    std::optional<nlohmann::json> fetch(const std::string& path_and_query, bool missing_ok);
    void pace();

    HttpClient& m_http;
    StripeConfig m_config;
    Waiter& m_waiter;
    Diagnostics& m_diagnostics;
    std::optional<std::chrono::steady_clock::time_point> m_last_request;
};

} // namespace sc
