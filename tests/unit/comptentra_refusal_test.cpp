#include "comptentra_fixture.h"

namespace sc {
namespace {

// --- refusals and exhaustion
// ---------------------------------------------------------------------------

// Expects `action` to throw an Error of `status`; returns it for further checks.
template <typename Action> std::optional<Error> expect_error(Action action, ExitStatus status) {
    try {
        action();
        ADD_FAILURE() << "no error";
    } catch (const Error& error) {
        EXPECT_EQ(error.status(), status) << error.what();
        return error;
    }
    return std::nullopt;
}

TEST_F(ComptentraRefusal, ThrowsAPermissionErrorOnARefusedKeyDuringTheLookup) {
    for (const long status : {401L, 403L}) {
        FakeHttp fresh;
        fresh.push(api_error(status, "unauthorized", "missing or wrong API key"));
        ComptentraClient comptentra(fresh, config(), waiter, diagnostics);
        const auto error =
            expect_error([&] { comptentra.book(a_sale("ch_1"), sale_idempotency_key("ch_1")); },
                         ExitStatus::permission);
        ASSERT_TRUE(error.has_value());
        EXPECT_NE(error->hint().find("COMPTENTRA_API_KEY"), std::string::npos) << error->hint();
        EXPECT_EQ(fresh.count("POST"), 0U);
        EXPECT_EQ(fresh.exchanges().size(), 1U) << "no retry";
    }
}

TEST_F(ComptentraRefusal, ThrowsAPermissionErrorOnARefusedKeyDuringThePost) {
    for (const long status : {401L, 403L}) {
        FakeHttp fresh;
        fresh.push(list({}));
        fresh.push(api_error(status, "forbidden", "this key may not write"));
        ComptentraClient comptentra(fresh, config(), waiter, diagnostics);
        const auto error =
            expect_error([&] { comptentra.book(a_sale("ch_1"), sale_idempotency_key("ch_1")); },
                         ExitStatus::permission);
        ASSERT_TRUE(error.has_value());
        EXPECT_NE(error->hint().find("COMPTENTRA_API_KEY"), std::string::npos) << error->hint();
        EXPECT_EQ(fresh.count("POST"), 1U) << "no retry";
    }
    EXPECT_TRUE(waiter.waits().empty());
}

TEST_F(ComptentraRefusal, ReportsARefusedEntryWithTheServerMessage) {
    http.push(list({}));
    http.push(api_error(422, "period_closed", "la période 2026-11 est clôturée"));
    const BookResult result = client().book(a_sale("ch_1"), sale_idempotency_key("ch_1"));
    EXPECT_EQ(result.status, BookStatus::failed);
    EXPECT_EQ(result.exit, ExitStatus::refused);
    EXPECT_NE(result.reason.find("la période 2026-11 est clôturée"), std::string::npos)
        << result.reason;
    EXPECT_NE(result.reason.find("period_closed"), std::string::npos) << result.reason;
    EXPECT_TRUE(result.entry_id.empty());
    EXPECT_EQ(http.count("POST"), 1U);
    EXPECT_TRUE(waiter.waits().empty());
}

TEST_F(ComptentraRefusal, ReportsAConflictingIdempotencyKeyAndOtherClientErrorsAsRefused) {
    const std::pair<long, std::string> cases[] = {
        {409, "the idempotency key was used with another body"},
        {400, "lignes: at least two lines"},
        {404, "no such journal"}};
    for (const auto& [status, message] : cases) {
        FakeHttp fresh;
        fresh.push(list({}));
        fresh.push(api_error(status, "some_code", message));
        ComptentraClient comptentra(fresh, config(), waiter, diagnostics);
        const BookResult result = comptentra.book(a_sale("ch_1"), sale_idempotency_key("ch_1"));
        EXPECT_EQ(result.status, BookStatus::failed) << status;
        EXPECT_EQ(result.exit, ExitStatus::refused) << status;
        EXPECT_NE(result.reason.find(message), std::string::npos) << result.reason;
        EXPECT_EQ(fresh.count("POST"), 1U) << status;
    }
    EXPECT_TRUE(waiter.waits().empty());
}

TEST_F(ComptentraRefusal, ThrowsAConfigurationErrorWhenTheTransportRefusesTheUrl) {
    http.push(list({}));
    http.push(transport_failure(TransportFailure::refused, "refusing https://comptentra.test: no"));
    expect_error([&] { client().book(a_sale("ch_1"), sale_idempotency_key("ch_1")); },
                 ExitStatus::config);
    EXPECT_EQ(http.count("POST"), 1U);
}

TEST_F(ComptentraRefusal, GivesUpOnPersistent503AfterMaxAttemptsOfPost) {
    FakeBooks books;
    books.default_fate = Fate::rejected_503;
    http.respond_with(std::ref(books));
    ComptentraConfig settings = config();
    settings.retry.max_attempts = 3;
    const auto error =
        expect_error([&] { client(settings).book(a_sale("ch_1"), sale_idempotency_key("ch_1")); },
                     ExitStatus::temporary);
    ASSERT_TRUE(error.has_value());
    EXPECT_FALSE(error->hint().empty());
    EXPECT_EQ(http.count("POST"), 3U);
    EXPECT_EQ(waiter.waits().size(), 2U) << "no wait after giving up";
    EXPECT_EQ(books.count("Paiement Stripe ch_1"), 0);
    expect_no_post_while_in_doubt(http);
}

TEST_F(ComptentraRefusal, GivesUpOnALookupThatKeepsFailing) {
    http.respond_with([](const HttpRequest&) { return api_error(503, "unavailable", "down"); });
    ComptentraConfig settings = config();
    settings.retry.max_attempts = 5;
    expect_error([&] { client(settings).book(a_sale("ch_1"), sale_idempotency_key("ch_1")); },
                 ExitStatus::temporary);
    EXPECT_EQ(http.count("GET"), 5U);
    EXPECT_EQ(http.count("POST"), 0U);
    EXPECT_EQ(waiter.waits().size(), 4U);
}

TEST_F(ComptentraRefusal, GivesUpWhenTheTotalTimeRunsOut) {
    FakeBooks books;
    books.default_fate = Fate::rejected_503;
    http.respond_with([&](const HttpRequest& request) {
        waiter.advance(10s); // every request is slow
        return books(request);
    });
    ComptentraConfig settings = config();
    settings.retry.max_attempts = 1000;
    settings.retry.max_total = 60s;
    expect_error([&] { client(settings).book(a_sale("ch_1"), sale_idempotency_key("ch_1")); },
                 ExitStatus::temporary);
    EXPECT_LT(http.count("POST"), 10U);
    EXPECT_GE(http.count("POST"), 1U);
    expect_no_post_while_in_doubt(http);
}

// --- the API key stays secret
// -------------------------------------------------------------------------

TEST_F(ComptentraRefusal, NeverShowsTheApiKeyInErrorsReasonsOrWarnings) {
    std::vector<std::string> shown;
    const auto run = [&](std::vector<HttpResult> script, ComptentraConfig settings = config()) {
        FakeHttp fresh;
        for (auto& result : script) {
            fresh.push(std::move(result));
        }
        fresh.respond_with(
            [](const HttpRequest&) { return api_error(503, "unavailable", "down"); });
        try {
            ComptentraClient comptentra(fresh, std::move(settings), waiter, diagnostics);
            const BookResult result = comptentra.book(a_sale("ch_1"), sale_idempotency_key("ch_1"));
            shown.push_back(result.reason);
        } catch (const Error& error) {
            shown.push_back(error.what());
            shown.push_back(error.hint());
        }
    };
    run({api_error(401, "unauthorized", "missing or wrong API key")});
    run({list({}), api_error(403, "forbidden", "read-only key")});
    run({list({}), api_error(422, "period_closed", "closed")});
    run({list({}), api_error(409, "conflict", "other body")});
    run({});                                                          // the lookup never succeeds
    run({list({}), transport_failure(TransportFailure::ambiguous)});  // neither does the rest
    run({list({stored("ECR-1", "Paiement Stripe ch_other")}, true)}); // filters ignored: warning
    run({list({}), transport_failure(TransportFailure::refused, "refusing the URL")});
    run({}, config("http://comptentra.example.com/api/v1"));
    run({}, config("not a url"));
    shown.push_back(err.str());
    for (const auto& text : shown) {
        EXPECT_EQ(text.find(k_key), std::string::npos) << text;
        EXPECT_EQ(text.find(k_key_core), std::string::npos) << text;
    }
}

// --- the base URL
// -------------------------------------------------------------------------------------

TEST_F(ComptentraConfigTest, RefusesPlainHttpToARemoteHostAtConstruction) {
    for (const auto* url : {"http://comptentra.example.com/api/v1", "http://10.1.2.3:8080/api/v1",
                            "ftp://comptentra.test/api/v1", "comptentra.test/api/v1", ""}) {
        const auto error = expect_error([&] { client(config(url)); }, ExitStatus::config);
        ASSERT_TRUE(error.has_value()) << url;
        EXPECT_NE(error->hint().find("COMPTENTRA_URL"), std::string::npos) << error->hint();
    }
    EXPECT_TRUE(http.exchanges().empty());
}

TEST_F(ComptentraConfigTest, AcceptsPlainHttpToALoopbackHost) {
    for (const auto* url :
         {"http://127.0.0.1:8081/api/v1", "http://localhost:8081", "http://[::1]:8081/v1"}) {
        FakeHttp fresh;
        fresh.push(list({}));
        ComptentraClient comptentra(fresh, config(url), waiter, diagnostics);
        EXPECT_EQ(comptentra.find_entry("VTE", "Paiement Stripe ch_1"), std::nullopt);
        EXPECT_EQ(without_query(fresh.request(0).url), std::string(url) + "/ecritures");
    }
}

TEST_F(ComptentraConfigTest, HandlesATrailingSlashInTheBaseUrl) {
    for (const auto* url :
         {"https://comptentra.test/api/v1/", "https://comptentra.test/api/v1//"}) {
        FakeHttp fresh;
        FakeBooks books;
        fresh.respond_with(std::ref(books));
        ComptentraClient comptentra(fresh, config(url), waiter, diagnostics);
        const BookResult result = comptentra.book(a_sale("ch_1"), sale_idempotency_key("ch_1"));
        EXPECT_EQ(result.status, BookStatus::posted) << url;
        ASSERT_EQ(fresh.methods(), (std::vector<std::string>{"GET", "POST"})) << url;
        EXPECT_EQ(without_query(fresh.request(0).url), "https://comptentra.test/api/v1/ecritures");
        EXPECT_EQ(fresh.request(1).url, "https://comptentra.test/api/v1/ecritures");
    }
}

} // namespace
} // namespace sc
