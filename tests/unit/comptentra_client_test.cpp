#include "comptentra_fixture.h"

namespace sc {
namespace {

// --- find_entry
// ------------------------------------------------------------------------------------

TEST_F(ComptentraFindEntry, SendsAFilteredGetWithTheApiKey) {
    http.push(list({}));
    const std::string libelle = "Paiement Stripe ch_1 \xC3\xA9&x=1+2/3?#%";
    EXPECT_FALSE(client().find_entry("VTE", libelle).has_value());
    ASSERT_EQ(http.exchanges().size(), 1U);
    const HttpRequest& request = http.request(0);
    EXPECT_EQ(request.method, "GET");
    EXPECT_EQ(without_query(request.url), std::string(k_base) + "/ecritures");
    EXPECT_EQ(query_parameter(request.url, "journal"), "VTE");
    EXPECT_EQ(query_parameter(request.url, "libelle"), libelle);
    EXPECT_EQ(query_parameter(request.url, "limit"), "100");
    EXPECT_EQ(query_parameter(request.url, "offset").value_or("0"), "0");
    for (const auto& [name, value] : raw_query(request.url)) {
        if (name == "libelle") {
            EXPECT_EQ(value, url_encode(libelle));
            EXPECT_EQ(value.find_first_of(" &=+/?#"), std::string::npos) << value;
        }
    }
    EXPECT_EQ(header_of(request, "X-API-Key"), std::string(k_key));
    EXPECT_TRUE(request.body.empty());
}

TEST_F(ComptentraFindEntry, MatchesTheExactLibelleOnly) {
    http.push(list({stored("ECR-10", "Paiement Stripe ch_10"),
                    stored("ECR-11", "Paiement Stripe ch_1 (annulation)"),
                    stored("ECR-12", "Paiement Stripe ch_1 ")}));
    EXPECT_EQ(client().find_entry("VTE", "Paiement Stripe ch_1"), std::nullopt);
    EXPECT_EQ(warnings(), 0) << err.str();
}

TEST_F(ComptentraFindEntry, FindsTheExactLibelleAmongSimilarOnes) {
    http.push(
        list({stored("ECR-10", "Paiement Stripe ch_10"), stored("ECR-7", "Paiement Stripe ch_1"),
              stored("ECR-3", "Paiement Stripe ch_1 (annulation)")}));
    EXPECT_EQ(client().find_entry("VTE", "Paiement Stripe ch_1"), "ECR-7");
}

TEST_F(ComptentraFindEntry, IgnoresTheSameLibelleInAnotherJournal) {
    http.push(list({stored("ECR-9", "Paiement Stripe ch_1", "BQ")}));
    EXPECT_EQ(client().find_entry("VTE", "Paiement Stripe ch_1"), std::nullopt);
}

TEST_F(ComptentraFindEntry, ReadsANumericId) {
    json entry = stored("x", "Paiement Stripe ch_1");
    entry["id"] = 42;
    http.push(list({entry}));
    EXPECT_EQ(client().find_entry("VTE", "Paiement Stripe ch_1"), "42");
}

TEST_F(ComptentraFindEntry, FollowsHasMoreWithTheOffset) {
    http.push(
        list({stored("ECR-20", "Paiement Stripe ch_10"), stored("ECR-19", "Paiement Stripe ch_11")},
             true));
    http.push(list({stored("ECR-18", "Paiement Stripe ch_12")}, true));
    http.push(
        list({stored("ECR-17", "Paiement Stripe ch_13"), stored("ECR-16", "Paiement Stripe ch_1")},
             true));
    EXPECT_EQ(client().find_entry("VTE", "Paiement Stripe ch_1"), "ECR-16");
    ASSERT_EQ(http.exchanges().size(), 3U);
    const char* offsets[] = {"0", "2", "3"};
    for (std::size_t i = 0; i < 3; ++i) {
        const std::string& url = http.request(i).url;
        EXPECT_EQ(query_parameter(url, "offset").value_or("0"), offsets[i]) << url;
        EXPECT_EQ(query_parameter(url, "libelle"), "Paiement Stripe ch_1") << url;
        EXPECT_EQ(query_parameter(url, "journal"), "VTE") << url;
        EXPECT_EQ(query_parameter(url, "limit"), "100") << url;
    }
}

TEST_F(ComptentraFindEntry, StopsAtTheLastPage) {
    http.push(list({stored("ECR-20", "Paiement Stripe ch_10")}, true));
    http.push(list({stored("ECR-19", "Paiement Stripe ch_11")}, false));
    EXPECT_EQ(client().find_entry("VTE", "Paiement Stripe ch_1"), std::nullopt);
    EXPECT_EQ(http.exchanges().size(), 2U);
}

TEST_F(ComptentraFindEntry, StopsAtAnEmptyPageThatClaimsMore) {
    http.push(list({}, true));
    EXPECT_EQ(client().find_entry("VTE", "Paiement Stripe ch_1"), std::nullopt);
    EXPECT_EQ(http.exchanges().size(), 1U);
}

TEST_F(ComptentraFindEntry, FindsThroughAServerHonouringTheFilters) {
    FakeBooks books;
    for (int i = 0; i < 250; ++i) {
        books.entries.push_back(
            stored("ECR-" + std::to_string(1000 - i), "Paiement Stripe ch_1" + std::to_string(i)));
    }
    books.entries.push_back(stored("ECR-1", "Paiement Stripe ch_1"));
    http.respond_with(std::ref(books));
    EXPECT_EQ(client().find_entry("VTE", "Paiement Stripe ch_1"), "ECR-1");
    EXPECT_EQ(http.exchanges().size(), 3U); // 100 + 100 + 51
    EXPECT_EQ(warnings(), 0) << err.str();
}

TEST_F(ComptentraFindEntry, WarnsOnceAboutAServerThatIgnoresFiltersAndDoesNotPage) {
    FakeBooks books;
    books.honours_extensions = false;
    for (int i = 0; i < 150; ++i) {
        books.entries.push_back(stored("ECR-" + std::to_string(500 - i),
                                       "Paiement Stripe ch_other" + std::to_string(i)));
    }
    http.respond_with(std::ref(books));
    auto comptentra = client();
    EXPECT_EQ(comptentra.find_entry("VTE", "Paiement Stripe ch_1"), std::nullopt);
    EXPECT_EQ(comptentra.find_entry("VTE", "Paiement Stripe ch_2"), std::nullopt);
    EXPECT_EQ(comptentra.find_entry("VTE", "Paiement Stripe ch_3"), std::nullopt);
    EXPECT_EQ(http.exchanges().size(), 3U) << "one request per lookup: no paging";
    EXPECT_EQ(warnings(), 1) << err.str();
}

TEST_F(ComptentraFindEntry, FindsARecentEntryOnAServerThatIgnoresFilters) {
    FakeBooks books;
    books.honours_extensions = false;
    books.entries = {
        stored("ECR-9", "Paiement Stripe ch_9"), stored("ECR-8", "Paiement Stripe ch_8"),
        stored("ECR-1", "Paiement Stripe ch_1"), stored("ECR-0", "Paiement Stripe ch_0")};
    http.respond_with(std::ref(books));
    EXPECT_EQ(client().find_entry("VTE", "Paiement Stripe ch_1"), "ECR-1");
}

TEST_F(ComptentraFindEntry, RetriesATemporaryFailureOfTheLookup) {
    http.push(api_error(503, "unavailable", "maintenance"));
    http.push(transport_failure(TransportFailure::ambiguous));
    http.push(api_error(429, "rate_limited", "slow down", {{"Retry-After", "3"}}));
    http.push(list({stored("ECR-5", "Paiement Stripe ch_1")}));
    EXPECT_EQ(client().find_entry("VTE", "Paiement Stripe ch_1"), "ECR-5");
    EXPECT_EQ(http.exchanges().size(), 4U);
    ASSERT_EQ(waiter.waits().size(), 3U);
    EXPECT_EQ(waiter.waits()[2], 3000ms);
}

TEST_F(ComptentraFindEntry, RejectsAListThatIsNotTheExpectedJson) {
    for (const auto* body :
         {"<html>maintenance</html>", "[]", R"({"data": {}})", R"({"items": []})"}) {
        http.push(http_response(200, body));
        try {
            client().find_entry("VTE", "Paiement Stripe ch_1");
            ADD_FAILURE() << "no error for " << body;
        } catch (const Error& error) {
            EXPECT_EQ(error.status(), ExitStatus::refused) << body;
        }
    }
}

// --- book: the plain cases
// ---------------------------------------------------------------------------

TEST_F(ComptentraBook, ReportsAnExistingEntryWithoutPosting) {
    FakeBooks books;
    books.entries = {stored("ECR-000001", "Paiement Stripe ch_1")};
    http.respond_with(std::ref(books));
    const BookResult result = client().book(a_sale("ch_1"), sale_idempotency_key("ch_1"));
    EXPECT_EQ(result.status, BookStatus::exists);
    EXPECT_EQ(result.entry_id, "ECR-000001");
    EXPECT_EQ(result.exit, ExitStatus::ok);
    EXPECT_EQ(http.count("POST"), 0U);
}

TEST_F(ComptentraBook, PostsTheEntryAsJsonWithTheIdempotencyKey) {
    const Entry entry = a_sale("ch_1");
    json created = json::parse(to_json(entry).dump());
    created["id"] = "ECR-000042";
    http.push(list({}));
    http.push(json_response(201, created));
    const BookResult result = client().book(entry, sale_idempotency_key("ch_1"));
    EXPECT_EQ(result.status, BookStatus::posted);
    EXPECT_EQ(result.entry_id, "ECR-000042");
    EXPECT_EQ(result.exit, ExitStatus::ok);
    ASSERT_EQ(http.methods(), (std::vector<std::string>{"GET", "POST"}));
    const HttpRequest& post = http.request(1);
    EXPECT_EQ(post.url, std::string(k_base) + "/ecritures");
    EXPECT_EQ(post.body, to_json(entry).dump());
    EXPECT_EQ(header_of(post, "Content-Type"), "application/json");
    EXPECT_EQ(header_of(post, "Idempotency-Key"), sale_idempotency_key("ch_1"));
    EXPECT_EQ(header_of(post, "X-API-Key"), std::string(k_key));
}

TEST_F(ComptentraBook, ReportsAReplayedPostAsExisting) {
    http.push(list({}));
    http.push(json_response(200, stored("ECR-000007", "Paiement Stripe ch_1"),
                            {{"Idempotent-Replayed", "true"}}));
    const BookResult result = client().book(a_sale("ch_1"), sale_idempotency_key("ch_1"));
    EXPECT_EQ(result.status, BookStatus::exists);
    EXPECT_EQ(result.entry_id, "ECR-000007");
    EXPECT_EQ(http.count("POST"), 1U);
}

TEST_F(ComptentraBook, StoresOnceAcrossTwoRuns) {
    FakeBooks books;
    http.respond_with(std::ref(books));
    const Entry entry = a_sale("ch_1");
    EXPECT_EQ(client().book(entry, sale_idempotency_key("ch_1")).status, BookStatus::posted);
    EXPECT_EQ(client().book(entry, sale_idempotency_key("ch_1")).status, BookStatus::exists);
    EXPECT_EQ(books.count(entry.libelle), 1);
    EXPECT_EQ(http.count("POST"), 1U);
}

TEST_F(ComptentraBook, KeepsChargesWithSimilarIdsApart) {
    FakeBooks books;
    books.entries = {stored("ECR-000010", "Paiement Stripe ch_10")};
    http.respond_with(std::ref(books));
    const BookResult result = client().book(a_sale("ch_1"), sale_idempotency_key("ch_1"));
    EXPECT_EQ(result.status, BookStatus::posted);
    EXPECT_NE(result.entry_id, "ECR-000010");
    EXPECT_EQ(books.count("Paiement Stripe ch_1"), 1);
}

TEST(ComptentraIdempotencyKey, IsStableAndDistinctPerCharge) {
    EXPECT_EQ(sale_idempotency_key("ch_1"), sale_idempotency_key("ch_1"));
    EXPECT_NE(sale_idempotency_key("ch_1"), sale_idempotency_key("ch_10"));
    EXPECT_NE(sale_idempotency_key("ch_1").find("ch_1"), std::string::npos);
}

TEST(ComptentraUrlEncode, KeepsUnreservedCharactersAndEncodesTheRest) {
    EXPECT_EQ(url_encode("AZaz09-_.~"), "AZaz09-_.~");
    EXPECT_EQ(url_encode("Paiement Stripe ch_1"), "Paiement%20Stripe%20ch_1");
    EXPECT_EQ(url_encode("a&b=c+d/e?f#g%h"), "a%26b%3Dc%2Bd%2Fe%3Ff%23g%25h");
    EXPECT_EQ(url_encode("\xC3\xA9"), "%C3%A9");
    EXPECT_EQ(url_encode(""), "");
}

// --- book: exactly once when a POST's fate is unknown
// -------------------------------------------------

TEST_F(ComptentraExactlyOnce, ResolvesAnAmbiguousPostByALookupInsteadOfPostingAgain) {
    FakeBooks books;
    books.post_fates = {Fate::stored_then_lost};
    http.respond_with(std::ref(books));
    const BookResult result = client().book(a_sale("ch_1"), sale_idempotency_key("ch_1"));
    EXPECT_EQ(result.status, BookStatus::posted);
    EXPECT_EQ(result.entry_id, books.entries.at(0)["id"].get<std::string>());
    EXPECT_EQ(http.count("POST"), 1U);
    EXPECT_EQ(http.methods(), (std::vector<std::string>{"GET", "POST", "GET"}));
    EXPECT_EQ(books.count("Paiement Stripe ch_1"), 1);
    expect_no_post_while_in_doubt(http);
}

TEST_F(ComptentraExactlyOnce, ResolvesAStored500ByALookup) {
    FakeBooks books;
    books.post_fates = {Fate::stored_then_500};
    http.respond_with(std::ref(books));
    const BookResult result = client().book(a_sale("ch_1"), sale_idempotency_key("ch_1"));
    EXPECT_EQ(result.status, BookStatus::posted);
    EXPECT_EQ(http.count("POST"), 1U);
    EXPECT_EQ(books.count("Paiement Stripe ch_1"), 1);
}

TEST_F(ComptentraExactlyOnce, ResolvesACreatedAnswerWithoutIdByALookup) {
    FakeBooks books;
    books.post_fates = {Fate::created_no_id};
    http.respond_with(std::ref(books));
    const BookResult result = client().book(a_sale("ch_1"), sale_idempotency_key("ch_1"));
    EXPECT_EQ(result.status, BookStatus::posted);
    EXPECT_EQ(result.entry_id, books.entries.at(0)["id"].get<std::string>());
    EXPECT_EQ(http.count("POST"), 1U);
    expect_no_post_while_in_doubt(http);
}

TEST_F(ComptentraExactlyOnce, PostsAgainAfterA500WhenTheLookupFindsNothing) {
    FakeBooks books;
    books.post_fates = {Fate::rejected_500};
    http.respond_with(std::ref(books));
    const BookResult result = client().book(a_sale("ch_1"), sale_idempotency_key("ch_1"));
    EXPECT_EQ(result.status, BookStatus::posted);
    EXPECT_EQ(result.entry_id, books.entries.at(0)["id"].get<std::string>());
    EXPECT_EQ(http.count("POST"), 2U);
    EXPECT_EQ(http.methods(), (std::vector<std::string>{"GET", "POST", "GET", "POST"}));
    EXPECT_EQ(books.count("Paiement Stripe ch_1"), 1);
    EXPECT_EQ(waiter.waits().size(), 1U);
    // The second POST is the same request: same body and idempotency key.
    EXPECT_EQ(http.request(3).body, http.request(1).body);
    EXPECT_EQ(header_of(http.request(3), "Idempotency-Key"),
              header_of(http.request(1), "Idempotency-Key"));
    expect_no_post_while_in_doubt(http);
}

TEST_F(ComptentraExactlyOnce, RetriesAPostThatWasNotSentWithoutALookup) {
    FakeBooks books;
    books.post_fates = {Fate::not_sent};
    http.respond_with(std::ref(books));
    const BookResult result = client().book(a_sale("ch_1"), sale_idempotency_key("ch_1"));
    EXPECT_EQ(result.status, BookStatus::posted);
    EXPECT_EQ(http.methods(), (std::vector<std::string>{"GET", "POST", "POST"}));
    EXPECT_EQ(waiter.waits().size(), 1U);
    EXPECT_EQ(books.count("Paiement Stripe ch_1"), 1);
}

TEST_F(ComptentraExactlyOnce, WaitsWhatRetryAfterAsksBeforePostingAgain) {
    FakeBooks books;
    books.post_fates = {Fate::rate_limited};
    http.respond_with(std::ref(books));
    const BookResult result = client().book(a_sale("ch_1"), sale_idempotency_key("ch_1"));
    EXPECT_EQ(result.status, BookStatus::posted);
    EXPECT_EQ(waiter.waits(), std::vector<Milliseconds>{2000ms});
    EXPECT_EQ(http.methods(), (std::vector<std::string>{"GET", "POST", "POST"}));
    EXPECT_EQ(books.count("Paiement Stripe ch_1"), 1);
}

TEST_F(ComptentraExactlyOnce, NeverPostsWhileAPreviousPostIsInDoubt) {
    FakeBooks books;
    books.post_fates = {Fate::lost_before_server, Fate::rejected_502, Fate::not_sent,
                        Fate::rate_limited,       Fate::rejected_504, Fate::lost_before_server,
                        Fate::rejected_503,       Fate::created};
    http.respond_with(std::ref(books));
    ComptentraConfig settings = config();
    settings.retry.max_attempts = 10;
    settings.retry.max_total = 10h;
    const BookResult result = client(settings).book(a_sale("ch_1"), sale_idempotency_key("ch_1"));
    EXPECT_EQ(result.status, BookStatus::posted);
    EXPECT_EQ(http.count("POST"), 8U);
    EXPECT_EQ(books.count("Paiement Stripe ch_1"), 1);
    expect_no_post_while_in_doubt(http);
}

TEST_F(ComptentraExactlyOnce, RetriesTheLookupBeforeAnyNewPost) {
    http.push(list({}));
    http.push(transport_failure(TransportFailure::ambiguous));
    http.push(api_error(503, "unavailable", "maintenance"));
    http.push(transport_failure(TransportFailure::not_sent));
    http.push(list({}));
    http.push(json_response(201, stored("ECR-000003", "Paiement Stripe ch_1")));
    const BookResult result = client().book(a_sale("ch_1"), sale_idempotency_key("ch_1"));
    EXPECT_EQ(result.status, BookStatus::posted);
    EXPECT_EQ(result.entry_id, "ECR-000003");
    EXPECT_EQ(http.methods(),
              (std::vector<std::string>{"GET", "POST", "GET", "GET", "GET", "POST"}));
    expect_no_post_while_in_doubt(http);
}

TEST_F(ComptentraExactlyOnce, NeverPostsTwiceAgainstAServerThatIgnoresExtensions) {
    FakeBooks books;
    books.honours_extensions = false;
    for (int i = 0; i < 30; ++i) {
        books.entries.push_back(
            stored("ECR-9" + std::to_string(i), "Paiement Stripe ch_x" + std::to_string(i)));
    }
    books.post_fates = {Fate::stored_then_lost};
    http.respond_with(std::ref(books));
    const BookResult result = client().book(a_sale("ch_1"), sale_idempotency_key("ch_1"));
    EXPECT_EQ(result.status, BookStatus::posted);
    EXPECT_EQ(http.count("POST"), 1U);
    EXPECT_EQ(books.count("Paiement Stripe ch_1"), 1);
    EXPECT_EQ(warnings(), 1) << err.str();
}
} // namespace
} // namespace sc
