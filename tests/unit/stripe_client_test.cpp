#include "core/error.h"
#include "io/diagnostics.h"
#include "io/stripe_client.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "fake_http.h"

namespace sc {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::FakeHttp;
using testing::FakeWaiter;
using testing::header_of;
using testing::http_response;
using testing::json_response;
using testing::query_parameter;
using testing::transport_failure;

constexpr std::string_view k_key = "sk_test_51Secret-NEVER-SHOWN-4242";

json charge(std::string id) {
    return {{"id", std::move(id)}, {"object", "charge"}};
}

HttpResult page(std::vector<json> charges, bool has_more) {
    return json_response(200, {{"object", "list"}, {"data", charges}, {"has_more", has_more}});
}

HttpResult stripe_error(long status, std::string message, HttpHeaders headers = {}) {
    headers.emplace_back("Request-Id", "req_abc123");
    return json_response(
        status, {{"error", {{"type", "invalid_request_error"}, {"message", std::move(message)}}}},
        std::move(headers));
}

class StripeClientTest : public ::testing::Test {
  protected:
    StripeClient client(std::optional<std::string> account = std::nullopt) {
        StripeConfig config{
            "https://api.stripe.test", std::string(k_key), std::move(account), 0, {}};
        config.retry.max_attempts = 3;
        return StripeClient(http, std::move(config), waiter, diagnostics);
    }

    std::vector<std::string> list_ids(StripeClient& stripe) {
        std::vector<std::string> ids;
        stripe.list_charges(1'000, 2'000, [&](const json& listed) {
            ids.push_back(listed["id"].get<std::string>());
        });
        return ids;
    }

    Error list_error(StripeClient& stripe) {
        try {
            list_ids(stripe);
        } catch (const Error& error) {
            return error;
        }
        ADD_FAILURE() << "no error";
        return Error(ExitStatus::ok, "");
    }

    FakeHttp http;
    FakeWaiter waiter;
    std::ostringstream err;
    Diagnostics diagnostics{err, true};
};

TEST_F(StripeClientTest, ListsThePeriodWithExpandedBalanceTransactions) {
    http.push(page({charge("ch_2"), charge("ch_1")}, false));
    StripeClient stripe = client();
    EXPECT_EQ(list_ids(stripe), (std::vector<std::string>{"ch_2", "ch_1"}));
    const HttpRequest& request = http.request(0);
    EXPECT_EQ(request.method, "GET");
    EXPECT_EQ(query_parameter(request.url, "created%5Bgte%5D"), "1000");
    EXPECT_EQ(query_parameter(request.url, "created%5Blt%5D"), "2000");
    EXPECT_EQ(query_parameter(request.url, "limit"), "100");
    EXPECT_EQ(query_parameter(request.url, "expand%5B%5D"), "data.balance_transaction");
    EXPECT_EQ(header_of(request, "Authorization"), "Bearer " + std::string(k_key));
    EXPECT_EQ(header_of(request, "Stripe-Version"), std::string(k_stripe_version));
    EXPECT_EQ(header_of(request, "Stripe-Account"), std::nullopt);
}

TEST_F(StripeClientTest, PagesWithStartingAfterUntilHasMoreIsFalse) {
    http.push(page({charge("ch_3"), charge("ch_2")}, true));
    http.push(page({charge("ch_1")}, false));
    StripeClient stripe = client();
    EXPECT_EQ(list_ids(stripe), (std::vector<std::string>{"ch_3", "ch_2", "ch_1"}));
    EXPECT_EQ(query_parameter(http.request(0).url, "starting_after"), std::nullopt);
    EXPECT_EQ(query_parameter(http.request(1).url, "starting_after"), "ch_2");
}

TEST_F(StripeClientTest, SendsStripeAccountForAConnectedAccount) {
    http.push(page({}, false));
    StripeClient stripe = client("acct_123");
    list_ids(stripe);
    EXPECT_EQ(header_of(http.request(0), "Stripe-Account"), "acct_123");
}

TEST_F(StripeClientTest, RetriesServerErrorsConflictsAndRateLimits) {
    for (const long status : {500L, 409L, 429L}) {
        FakeHttp fresh;
        fresh.push(stripe_error(status, "try again"));
        fresh.push(page({charge("ch_1")}, false));
        StripeConfig config{"https://api.stripe.test", std::string(k_key), std::nullopt, 0, {}};
        StripeClient stripe(fresh, config, waiter, diagnostics);
        std::vector<std::string> ids;
        stripe.list_charges(0, 1, [&](const json& listed) { ids.push_back(listed["id"]); });
        EXPECT_EQ(ids, std::vector<std::string>{"ch_1"}) << status;
        EXPECT_EQ(fresh.exchanges().size(), 2U) << status;
    }
}

TEST_F(StripeClientTest, RetriesANetworkFailure) {
    http.push(transport_failure(TransportFailure::ambiguous));
    http.push(page({charge("ch_1")}, false));
    StripeClient stripe = client();
    EXPECT_EQ(list_ids(stripe).size(), 1U);
}

TEST_F(StripeClientTest, FollowsStripeShouldRetry) {
    http.push(stripe_error(400, "lock timeout", {{"Stripe-Should-Retry", "true"}}));
    http.push(page({}, false));
    StripeClient stripe = client();
    list_ids(stripe);
    EXPECT_EQ(http.exchanges().size(), 2U);

    FakeHttp no_retry;
    no_retry.push(stripe_error(500, "do not retry", {{"Stripe-Should-Retry", "false"}}));
    StripeConfig config{"https://api.stripe.test", std::string(k_key), std::nullopt, 0, {}};
    StripeClient refused(no_retry, config, waiter, diagnostics);
    EXPECT_EQ(list_error(refused).status(), ExitStatus::refused);
    EXPECT_EQ(no_retry.exchanges().size(), 1U);
}

TEST_F(StripeClientTest, ReportsARefusedKeyAsAPermissionErrorWithAHint) {
    http.push(stripe_error(401, "Invalid API Key provided"));
    StripeClient stripe = client();
    const Error error = list_error(stripe);
    EXPECT_EQ(error.status(), ExitStatus::permission);
    EXPECT_NE(std::string(error.hint()).find("STRIPE_API_KEY"), std::string::npos);
    EXPECT_EQ(std::string(error.what()).find(std::string(k_key)), std::string::npos);
    EXPECT_EQ(http.exchanges().size(), 1U);
}

TEST_F(StripeClientTest, QuotesStripesMessageAndRequestIdOnABadRequest) {
    http.push(stripe_error(400, "Invalid integer: abc"));
    StripeClient stripe = client();
    const Error error = list_error(stripe);
    EXPECT_EQ(error.status(), ExitStatus::refused);
    EXPECT_NE(std::string(error.what()).find("Invalid integer: abc"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("req_abc123"), std::string::npos);
}

TEST_F(StripeClientTest, GivesUpAfterItsAttemptsWithATemporaryError) {
    http.respond_with([](const HttpRequest&) { return stripe_error(503, "busy"); });
    StripeClient stripe = client();
    const Error error = list_error(stripe);
    EXPECT_EQ(error.status(), ExitStatus::temporary);
    EXPECT_NE(std::string(error.what()).find("req_abc123"), std::string::npos);
    EXPECT_EQ(http.exchanges().size(), 3U);
}

TEST_F(StripeClientTest, SpacesRequestsToTheDefaultTestModeRate) {
    http.push(page({charge("ch_3")}, true));
    http.push(page({charge("ch_2")}, true));
    http.push(page({charge("ch_1")}, false));
    StripeClient stripe = client();
    list_ids(stripe);
    ASSERT_EQ(waiter.waits().size(), 2U);
    for (const auto wait : waiter.waits()) {
        EXPECT_EQ(wait, 50ms); // 20 requests per second for a test key
    }
}

TEST(StripeDefaultRate, StaysBelowStripesLimits) {
    EXPECT_LT(default_max_rps("sk_test_x"), 25.0);
    EXPECT_LT(default_max_rps("rk_test_x"), 25.0);
    EXPECT_LT(default_max_rps("sk_live_x"), 100.0);
    EXPECT_GT(default_max_rps("sk_live_x"), default_max_rps("sk_test_x"));
}

TEST(StripeClientUrl, RefusesPlainHttpToARemoteHost) {
    FakeHttp http;
    FakeWaiter waiter;
    std::ostringstream err;
    Diagnostics diagnostics{err, false};
    try {
        StripeClient(http, StripeConfig{"http://api.stripe.com", "sk_test_x", {}, 0, {}}, waiter,
                     diagnostics);
        ADD_FAILURE() << "accepted";
    } catch (const Error& error) {
        EXPECT_EQ(error.status(), ExitStatus::config);
    }
}

} // namespace
} // namespace sc
