// The client calls the reconcile command adds: ComptentraClient::list_entries and
// StripeClient::get_charge.

#include "io/stripe_client.h"

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "comptentra_fixture.h"

namespace sc {
namespace {

constexpr CivilDate k_from{2026, 10, 29};
constexpr CivilDate k_to{2026, 12, 3};

// An entry of the books dated `date`.
json entry_on(const std::string& id, const std::string& date, const std::string& journal = "VTE") {
    json entry = stored(id, "Paiement Stripe ch_" + id, journal);
    entry["date"] = date;
    return entry;
}

// What one listing gave: whether it is complete, and the ids passed, in order.
struct Listing {
    bool complete = false;
    std::vector<std::string> ids;
};

Listing list_period(ComptentraClient& comptentra, CivilDate from = k_from, CivilDate to = k_to) {
    Listing listing;
    listing.complete = comptentra.list_entries("VTE", from, to, [&](const json& entry) {
        listing.ids.push_back(entry["id"].get<std::string>());
    });
    return listing;
}

using ComptentraListEntries = ComptentraClientTest;

TEST_F(ComptentraListEntries, AsksForTheJournalAndThePeriod) {
    http.push(list({}));
    auto comptentra = client();
    const Listing listing = list_period(comptentra);
    EXPECT_TRUE(listing.complete);
    EXPECT_TRUE(listing.ids.empty());
    ASSERT_EQ(http.exchanges().size(), 1U);
    const HttpRequest& request = http.request(0);
    EXPECT_EQ(request.method, "GET");
    EXPECT_EQ(without_query(request.url), std::string(k_base) + "/ecritures");
    EXPECT_EQ(query_parameter(request.url, "journal"), "VTE");
    EXPECT_EQ(query_parameter(request.url, "date_from"), "2026-10-29");
    EXPECT_EQ(query_parameter(request.url, "date_to"), "2026-12-03");
    EXPECT_EQ(query_parameter(request.url, "limit"), "100");
    EXPECT_EQ(query_parameter(request.url, "offset"), "0");
    EXPECT_EQ(header_of(request, "X-API-Key"), std::string(k_key));
}

TEST_F(ComptentraListEntries, FollowsThePagesByOffsetAndPassesEachEntryInOrder) {
    http.push(list({entry_on("E5", "2026-12-03"), entry_on("E4", "2026-11-30")}, true));
    http.push(list({entry_on("E3", "2026-11-15")}, true));
    http.push(list({entry_on("E2", "2026-11-01"), entry_on("E1", "2026-10-29")}, false));
    auto comptentra = client();
    const Listing listing = list_period(comptentra);
    EXPECT_TRUE(listing.complete);
    EXPECT_EQ(listing.ids, (std::vector<std::string>{"E5", "E4", "E3", "E2", "E1"}));
    ASSERT_EQ(http.exchanges().size(), 3U);
    const char* offsets[] = {"0", "2", "3"};
    for (std::size_t i = 0; i < 3; ++i) {
        const std::string& url = http.request(i).url;
        EXPECT_EQ(query_parameter(url, "offset"), offsets[i]) << url;
        EXPECT_EQ(query_parameter(url, "journal"), "VTE") << url;
        EXPECT_EQ(query_parameter(url, "date_from"), "2026-10-29") << url;
        EXPECT_EQ(query_parameter(url, "date_to"), "2026-12-03") << url;
        EXPECT_EQ(query_parameter(url, "limit"), "100") << url;
    }
}

TEST_F(ComptentraListEntries, PassesTheWholeEntryAsListed) {
    json entry = entry_on("E1", "2026-11-15");
    entry["lignes"] = json::array({{{"compte", "411000"}, {"debit_cents", 1000}}});
    http.push(list({entry}));
    std::vector<json> passed;
    EXPECT_TRUE(client().list_entries("VTE", k_from, k_to,
                                      [&](const json& listed) { passed.push_back(listed); }));
    EXPECT_EQ(passed, std::vector<json>{entry});
}

TEST_F(ComptentraListEntries, ReadsEveryEntryOfAServerThatHonoursTheFilters) {
    FakeBooks books;
    for (int i = 0; i < 250; ++i) {
        books.entries.push_back(entry_on("E" + std::to_string(i), "2026-11-15"));
    }
    http.respond_with(std::ref(books));
    auto comptentra = client();
    const Listing listing = list_period(comptentra);
    EXPECT_TRUE(listing.complete);
    ASSERT_EQ(listing.ids.size(), 250U);
    EXPECT_EQ(listing.ids.front(), "E0");
    EXPECT_EQ(listing.ids.back(), "E249");
    EXPECT_EQ(http.exchanges().size(), 3U); // 100 + 100 + 50
}

TEST_F(ComptentraListEntries, ListsAnEntryTheClientBookedAndPostsNothing) {
    FakeBooks books;
    http.respond_with(std::ref(books));
    auto comptentra = client();
    ASSERT_EQ(comptentra.book(a_sale("ch_1"), sale_idempotency_key("ch_1")).status,
              BookStatus::posted);
    ASSERT_EQ(http.count("POST"), 1U);
    std::vector<json> passed;
    EXPECT_TRUE(comptentra.list_entries("VTE", CivilDate{2026, 11, 30}, CivilDate{2026, 11, 30},
                                        [&](const json& entry) { passed.push_back(entry); }));
    ASSERT_EQ(passed.size(), 1U);
    EXPECT_EQ(passed[0]["libelle"], "Paiement Stripe ch_1");
    EXPECT_EQ(passed[0]["date"], "2026-11-30");
    EXPECT_EQ(http.count("POST"), 1U) << "listing posts nothing";
    expect_no_post_while_in_doubt(http);
}

TEST_F(ComptentraListEntries, StopsAtAnEmptyPageThatClaimsMore) {
    http.push(list({entry_on("E1", "2026-11-15")}, true));
    http.push(list({}, true));
    auto comptentra = client();
    const Listing listing = list_period(comptentra);
    EXPECT_TRUE(listing.complete);
    EXPECT_EQ(listing.ids, std::vector<std::string>{"E1"});
    EXPECT_EQ(http.exchanges().size(), 2U);
}

TEST_F(ComptentraListEntries, IsIncompleteWhenAnEntryOfAnotherJournalIsListed) {
    http.push(list({entry_on("E3", "2026-11-15"), entry_on("B2", "2026-11-15", "BQ"),
                    entry_on("E1", "2026-11-15")},
                   true));
    auto comptentra = client();
    const Listing listing = list_period(comptentra);
    EXPECT_FALSE(listing.complete);
    EXPECT_EQ(std::count(listing.ids.begin(), listing.ids.end(), "B2"), 0);
    EXPECT_EQ(http.exchanges().size(), 1U);
}

TEST_F(ComptentraListEntries, IsIncompleteWhenAnEntryOutsideThePeriodIsListed) {
    for (const char* date : {"2026-10-28", "2026-12-04", "2025-11-15"}) {
        FakeHttp fresh;
        fresh.push(list({entry_on("E2", "2026-11-15"), entry_on("E1", date)}));
        ComptentraClient comptentra(fresh, config(), waiter, diagnostics);
        const Listing listing = list_period(comptentra);
        EXPECT_FALSE(listing.complete) << date;
        EXPECT_EQ(std::count(listing.ids.begin(), listing.ids.end(), "E1"), 0) << date;
    }
}

TEST_F(ComptentraListEntries, IsIncompleteWhenTheOffsetIsIgnored) {
    const HttpResult first_page =
        list({entry_on("E9", "2026-11-20"), entry_on("E8", "2026-11-19")}, true);
    http.push(first_page);
    http.push(first_page);
    auto comptentra = client();
    const Listing listing = list_period(comptentra);
    EXPECT_FALSE(listing.complete);
    ASSERT_EQ(http.exchanges().size(), 2U) << "no third request";
    EXPECT_EQ(query_parameter(http.request(1).url, "offset"), "2");
}

TEST_F(ComptentraListEntries, IsIncompleteOnAServerThatDoesNotPage) {
    FakeBooks books;
    books.honours_extensions = false;
    for (int i = 0; i < 150; ++i) {
        books.entries.push_back(entry_on("E" + std::to_string(i), "2026-11-15"));
    }
    http.respond_with(std::ref(books));
    auto comptentra = client();
    EXPECT_FALSE(list_period(comptentra).complete);
    EXPECT_EQ(http.exchanges().size(), 2U);
}

TEST_F(ComptentraListEntries, ThrowsAPermissionErrorOnARefusedKey) {
    http.push(api_error(401, "unauthorized", "bad key"));
    auto comptentra = client();
    try {
        list_period(comptentra);
        ADD_FAILURE() << "no error";
    } catch (const Error& error) {
        EXPECT_EQ(error.status(), ExitStatus::permission);
        EXPECT_EQ(to_int(error.status()), 77);
        EXPECT_EQ(std::string(error.what()).find(std::string(k_key_core)), std::string::npos)
            << error.what();
    }
    EXPECT_EQ(http.exchanges().size(), 1U) << "a refused key is not retried";
}

TEST_F(ComptentraListEntries, RefusesAListThatIsNotTheExpectedJson) {
    http.push(http_response(200, R"({"items": []})"));
    auto comptentra = client();
    try {
        list_period(comptentra);
        ADD_FAILURE() << "no error";
    } catch (const Error& error) {
        EXPECT_EQ(error.status(), ExitStatus::refused) << error.what();
    }
}

// --- StripeClient::get_charge
// ----------------------------------------------------------------------

constexpr std::string_view k_stripe_key = "sk_test_51Secret-NEVER-SHOWN-4242";
constexpr std::string_view k_stripe_base = "https://api.stripe.test";

HttpResult stripe_error(long status, std::string message, HttpHeaders headers = {}) {
    headers.emplace_back("Request-Id", "req_abc123");
    return json_response(
        status, {{"error", {{"type", "invalid_request_error"}, {"message", std::move(message)}}}},
        std::move(headers));
}

json a_stripe_charge(const std::string& id) {
    return {{"id", id},
            {"object", "charge"},
            {"amount", 5990},
            {"currency", "eur"},
            {"status", "succeeded"},
            {"balance_transaction",
             {{"id", "txn_1"},
              {"object", "balance_transaction"},
              {"amount", 5990},
              {"fee", 120},
              {"currency", "eur"}}}};
}

class StripeGetCharge : public ::testing::Test {
  protected:
    StripeClient stripe() {
        StripeConfig config{
            std::string(k_stripe_base), std::string(k_stripe_key), std::nullopt, 0, {}};
        config.retry.max_attempts = 3;
        return StripeClient(http, std::move(config), waiter, diagnostics);
    }

    Error get_error(const std::string& id) {
        try {
            stripe().get_charge(id);
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

TEST_F(StripeGetCharge, AsksForTheChargeWithItsBalanceTransactionExpanded) {
    http.push(json_response(200, a_stripe_charge("ch_3QxY")));
    EXPECT_TRUE(stripe().get_charge("ch_3QxY").has_value());
    ASSERT_EQ(http.exchanges().size(), 1U);
    const HttpRequest& request = http.request(0);
    EXPECT_EQ(request.method, "GET");
    EXPECT_EQ(request.url,
              std::string(k_stripe_base) + "/v1/charges/ch_3QxY?expand%5B%5D=balance_transaction");
    EXPECT_EQ(without_query(request.url), std::string(k_stripe_base) + "/v1/charges/ch_3QxY");
    EXPECT_EQ(query_parameter(request.url, "expand%5B%5D"), "balance_transaction");
    EXPECT_EQ(header_of(request, "Authorization"), "Bearer " + std::string(k_stripe_key));
    EXPECT_EQ(header_of(request, "Stripe-Version"), std::string(k_stripe_version));
    EXPECT_TRUE(request.body.empty());
}

TEST_F(StripeGetCharge, ReturnsTheChargeAsStripeSentIt) {
    const json charge = a_stripe_charge("ch_1");
    http.push(json_response(200, charge));
    EXPECT_EQ(stripe().get_charge("ch_1"), charge);
}

TEST_F(StripeGetCharge, EncodesTheIdInThePath) {
    http.push(stripe_error(404, "No such charge"));
    EXPECT_EQ(stripe().get_charge("ch_1/../../v1/balance?x=1"), std::nullopt);
    ASSERT_EQ(http.exchanges().size(), 1U);
    EXPECT_EQ(without_query(http.request(0).url),
              std::string(k_stripe_base) + "/v1/charges/ch_1%2F..%2F..%2Fv1%2Fbalance%3Fx%3D1");
}

TEST_F(StripeGetCharge, ReturnsNothingForAChargeStripeDoesNotKnow) {
    http.push(stripe_error(404, "No such charge: 'ch_gone'"));
    EXPECT_EQ(stripe().get_charge("ch_gone"), std::nullopt);
    EXPECT_EQ(http.exchanges().size(), 1U) << "a 404 is not retried";
}

TEST_F(StripeGetCharge, ThrowsAPermissionErrorOnARefusedKey) {
    http.push(stripe_error(401, "Invalid API Key provided"));
    const Error error = get_error("ch_1");
    EXPECT_EQ(error.status(), ExitStatus::permission);
    EXPECT_EQ(to_int(error.status()), 77);
    EXPECT_EQ(std::string(error.what()).find(std::string(k_stripe_key)), std::string::npos);
    EXPECT_EQ(http.exchanges().size(), 1U);
}

TEST_F(StripeGetCharge, ThrowsARefusalOnABadRequest) {
    http.push(stripe_error(400, "Invalid charge id"));
    const Error error = get_error("ch_1");
    EXPECT_EQ(error.status(), ExitStatus::refused);
    EXPECT_EQ(to_int(error.status()), 69);
    EXPECT_NE(std::string(error.what()).find("Invalid charge id"), std::string::npos)
        << error.what();
    EXPECT_EQ(http.exchanges().size(), 1U);
}

TEST_F(StripeGetCharge, RetriesAServerErrorThenReturnsTheCharge) {
    http.push(stripe_error(500, "oops"));
    http.push(json_response(200, a_stripe_charge("ch_1")));
    const auto charge = stripe().get_charge("ch_1");
    ASSERT_TRUE(charge.has_value());
    EXPECT_EQ((*charge)["id"], "ch_1");
    EXPECT_EQ(http.exchanges().size(), 2U);
}

TEST_F(StripeGetCharge, ThrowsATemporaryErrorWhenRetriesRunOut) {
    http.respond_with([](const HttpRequest&) { return stripe_error(503, "busy"); });
    const Error error = get_error("ch_1");
    EXPECT_EQ(error.status(), ExitStatus::temporary);
    EXPECT_EQ(http.exchanges().size(), 3U);
}

} // namespace
} // namespace sc
