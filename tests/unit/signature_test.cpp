#include "core/signature.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace sc {
namespace {

constexpr std::string_view k_payload = R"({"id":"evt_test","object":"event"})";
constexpr std::string_view k_secret = "whsec_test_secret";
constexpr std::int64_t k_time = 1700000000;
constexpr std::string_view k_good_v1 =
    "8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb724";
constexpr std::string_view k_other_v1 =
    "0000000000000000000000000000000000000000000000000000000000000000";

VerifyPolicy policy_at(std::int64_t now, std::vector<std::string> secrets = {std::string(k_secret)},
                       std::int64_t tolerance = 300) {
    return VerifyPolicy{std::move(secrets), tolerance, now};
}

VerifyResult verify(std::string_view header, const VerifyPolicy& policy = policy_at(k_time),
                    std::string_view body = k_payload) {
    return verify_signature(body, header, policy);
}

std::string header_for(std::string_view body, std::string_view secret = k_secret,
                       std::int64_t timestamp = k_time) {
    return make_signature_header(secret, timestamp, body);
}

std::string header_with(std::int64_t timestamp, const std::vector<std::string_view>& v1s) {
    std::string header = "t=" + std::to_string(timestamp);
    for (const auto v1 : v1s) {
        header += ",v1=";
        header += v1;
    }
    return header;
}

void expect_valid(const VerifyResult& result) {
    EXPECT_EQ(result.status, VerifyStatus::valid) << result.reason;
    EXPECT_EQ(result.failure, VerifyFailure::none);
    EXPECT_EQ(result.reason, "");
}

void expect_invalid(const VerifyResult& result, VerifyFailure why) {
    EXPECT_EQ(result.status, VerifyStatus::invalid);
    EXPECT_EQ(result.failure, why) << result.reason;
    EXPECT_FALSE(result.reason.empty());
}

// --- compute_signature and make_signature_header -------------------------------------------

TEST(ComputeSignature, MatchesTheKnownVectorForTheTestSecret) {
    EXPECT_EQ(compute_signature(k_secret, k_time, k_payload), k_good_v1);
}

TEST(ComputeSignature, MatchesTheKnownVectorOfStripesDocumentationSecret) {
    EXPECT_EQ(compute_signature("whsec_0123456789abcdef", 1492774577, k_payload),
              "99eb9423eb7ac1d954c153c03fc8a2698f128bed10c5ba2e6a63555761dcf4d1");
}

TEST(ComputeSignature, KeysWithTheWholeSecretIncludingItsPrefix) {
    EXPECT_NE(compute_signature("test_secret", k_time, k_payload), k_good_v1);
}

TEST(ComputeSignature, SignsABodyWithAByteOrderMarkAsItStands) {
    const std::string body = "\xEF\xBB\xBF{\"id\":\"evt_bom\"}";
    EXPECT_EQ(compute_signature(k_secret, k_time, body),
              "1efcfc304113ce111699ef7d638ea77c1586f0f626456686db5b6d2796c42003");
}

TEST(ComputeSignature, SignsInvalidUtf8BytesAsTheyStand) {
    const std::string body = "{\"name\":\"caf\xE9\xFF\"}";
    EXPECT_EQ(compute_signature(k_secret, k_time, body),
              "ab2288ee8cd4bc98e2a4f736dea9b3b5e5b0c13dcd39759a3faf4596feb38cc8");
}

TEST(ComputeSignature, SignsBodiesWithNulBytes) {
    const std::string with_nul("{\"a\":\"\0\"}", 9);
    const std::string truncated = "{\"a\":\"";
    EXPECT_NE(compute_signature(k_secret, k_time, with_nul),
              compute_signature(k_secret, k_time, truncated));
}

TEST(ComputeSignature, IsSixtyFourLowercaseHexDigits) {
    const std::string hex = compute_signature("k", 1, "b");
    ASSERT_EQ(hex.size(), 64U);
    EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(MakeSignatureHeader, WritesTheTimestampAndTheV1Signature) {
    EXPECT_EQ(make_signature_header(k_secret, k_time, k_payload),
              "t=1700000000,v1=" + std::string(k_good_v1));
}

// --- parse_signature_header ------------------------------------------------------------------

TEST(ParseSignatureHeader, ReadsTheTimestampAndEveryV1InOrder) {
    const auto parsed = parse_signature_header("t=12,v1=aa,v0=bb,v1=cc");
    EXPECT_EQ(parsed.timestamp, 12);
    EXPECT_EQ(parsed.v1, (std::vector<std::string>{"aa", "cc"}));
}

TEST(ParseSignatureHeader, ToleratesSpacesAroundItems) {
    const auto parsed = parse_signature_header("  t=12 , v1=aa ,\tv1=bb  ");
    EXPECT_EQ(parsed.timestamp, 12);
    EXPECT_EQ(parsed.v1, (std::vector<std::string>{"aa", "bb"}));
}

TEST(ParseSignatureHeader, IgnoresUnknownItemsAndItemsWithoutEquals) {
    const auto parsed = parse_signature_header("x=1,t=5,garbage,,v2=zz,v1=aa");
    EXPECT_EQ(parsed.timestamp, 5);
    EXPECT_EQ(parsed.v1, (std::vector<std::string>{"aa"}));
}

TEST(ParseSignatureHeader, LeavesTheTimestampEmptyWhenItIsNotANumber) {
    for (const std::string_view header :
         {"t=abc,v1=aa", "t=,v1=aa", "t=12x,v1=aa", "t=-5,v1=aa", "t=1.5,v1=aa", "v1=aa"}) {
        EXPECT_FALSE(parse_signature_header(header).timestamp.has_value()) << header;
    }
}

TEST(ParseSignatureHeader, ALaterTimestampReplacesAnEarlierOne) {
    EXPECT_EQ(parse_signature_header("t=1,v1=aa,t=2").timestamp, 2);
}

// --- verify_signature: the verdict -----------------------------------------------------------

TEST(VerifySignature, AcceptsTheKnownVector) {
    expect_valid(verify("t=1700000000,v1=" + std::string(k_good_v1)));
}

TEST(VerifySignature, ReportsTheHeaderTimestamp) {
    EXPECT_EQ(verify(header_for(k_payload)).timestamp, k_time);
}

TEST(VerifySignature, AcceptsWhenTheSecondOfSeveralV1Matches) {
    expect_valid(verify(header_with(k_time, {k_other_v1, k_good_v1})));
}

TEST(VerifySignature, AcceptsWhenTheSecondOfSeveralSecretsMatches) {
    expect_valid(verify(header_with(k_time, {k_good_v1}),
                        policy_at(k_time, {"whsec_old_secret", std::string(k_secret)})));
}

TEST(VerifySignature, AcceptsSpacesAroundItems) {
    expect_valid(verify(" t=1700000000 ,  v1=" + std::string(k_good_v1) + " "));
}

TEST(VerifySignature, IgnoresV0AndUnknownItems) {
    expect_valid(verify("t=1700000000,v0=" + std::string(k_other_v1) +
                        ",scheme=x,v1=" + std::string(k_good_v1) + ",v2=abc"));
}

TEST(VerifySignature, RejectsAHeaderWithOnlyAV0Signature) {
    const auto result = verify("t=1700000000,v0=" + std::string(k_good_v1));
    expect_invalid(result, VerifyFailure::no_v1);
    EXPECT_NE(result.reason.find("v0"), std::string::npos) << result.reason;
}

TEST(VerifySignature, RejectsAHeaderWithoutAnySignature) {
    expect_invalid(verify("t=1700000000"), VerifyFailure::no_v1);
}

TEST(VerifySignature, RejectsAnAbsentHeader) {
    expect_invalid(verify_signature(k_payload, std::nullopt, policy_at(k_time)),
                   VerifyFailure::no_header);
}

TEST(VerifySignature, RejectsAnEmptyOrBlankHeader) {
    expect_invalid(verify(""), VerifyFailure::no_header);
    expect_invalid(verify("   "), VerifyFailure::no_header);
}

TEST(VerifySignature, RejectsAHeaderWithoutTimestamp) {
    expect_invalid(verify("v1=" + std::string(k_good_v1)), VerifyFailure::no_timestamp);
}

TEST(VerifySignature, RejectsANonNumericTimestamp) {
    expect_invalid(verify("t=17e8,v1=" + std::string(k_good_v1)), VerifyFailure::no_timestamp);
    expect_invalid(verify("t=abc,v1=" + std::string(k_good_v1)), VerifyFailure::no_timestamp);
}

TEST(VerifySignature, RejectsUppercaseHex) {
    std::string upper(k_good_v1);
    for (auto& c : upper) {
        if (c >= 'a' && c <= 'f') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    expect_invalid(verify(header_with(k_time, {upper})), VerifyFailure::no_match);
}

TEST(VerifySignature, RejectsATruncatedOrExtendedSignature) {
    expect_invalid(verify(header_with(k_time, {k_good_v1.substr(0, 63)})), VerifyFailure::no_match);
    expect_invalid(verify(header_with(k_time, {std::string(k_good_v1) + "0"})),
                   VerifyFailure::no_match);
}

TEST(VerifySignature, RejectsASignatureOfAnotherTimestamp) {
    expect_invalid(verify(header_with(k_time + 1, {k_good_v1}), policy_at(k_time + 1)),
                   VerifyFailure::no_match);
}

TEST(VerifySignature, RejectsAnotherSecret) {
    expect_invalid(verify(header_for(k_payload), policy_at(k_time, {"whsec_other"})),
                   VerifyFailure::no_match);
}

TEST(VerifySignature, RejectsWhenNoSecretIsConfigured) {
    expect_invalid(verify(header_for(k_payload), policy_at(k_time, {})), VerifyFailure::no_match);
}

TEST(VerifySignature, RejectsAModifiedBody) {
    expect_invalid(
        verify(header_for(k_payload), policy_at(k_time), R"({"id":"evt_test","object":"event" })"),
        VerifyFailure::no_match);
}

TEST(VerifySignature, ChecksBodiesWithAByteOrderMarkOrInvalidUtf8AsTheyStand) {
    for (const auto& body : {std::string("\xEF\xBB\xBF{\"id\":\"evt_bom\"}"),
                             std::string("{\"name\":\"caf\xE9\xFF\"}")}) {
        expect_valid(verify(header_for(body), policy_at(k_time), body));
        const std::string stripped = body.substr(body.find('{'));
        if (stripped != body) {
            expect_invalid(verify(header_for(body), policy_at(k_time), stripped),
                           VerifyFailure::no_match);
        }
    }
}

// --- verify_signature: the age ----------------------------------------------------------------

TEST(VerifySignature, AcceptsAnAgeEqualToTheTolerance) {
    expect_valid(verify(header_for(k_payload), policy_at(k_time + 300)));
}

TEST(VerifySignature, RejectsAnAgeOneSecondOverTheToleranceAsTooOld) {
    const auto result = verify(header_for(k_payload), policy_at(k_time + 301));
    EXPECT_EQ(result.status, VerifyStatus::too_old);
    EXPECT_EQ(result.failure, VerifyFailure::too_old);
    EXPECT_EQ(result.timestamp, k_time);
    EXPECT_FALSE(result.reason.empty());
}

TEST(VerifySignature, AppliesACustomTolerance) {
    const std::vector<std::string> secrets = {std::string(k_secret)};
    expect_valid(verify(header_for(k_payload), policy_at(k_time + 10, secrets, 10)));
    EXPECT_EQ(verify(header_for(k_payload), policy_at(k_time + 11, secrets, 10)).status,
              VerifyStatus::too_old);
}

TEST(VerifySignature, ToleranceZeroTurnsTheAgeCheckOff) {
    const std::vector<std::string> secrets = {std::string(k_secret)};
    expect_valid(verify(header_for(k_payload), policy_at(k_time + 10 * 365 * 86400, secrets, 0)));
}

TEST(VerifySignature, AcceptsATimestampInTheFuture) {
    expect_valid(verify(header_for(k_payload), policy_at(k_time - 3600)));
}

TEST(VerifySignature, ChecksTheSignatureBeforeTheAge) {
    const auto result = verify(header_with(k_time, {k_other_v1}), policy_at(k_time + 100000));
    expect_invalid(result, VerifyFailure::no_match);
}

TEST(VerifyStatusName, IsTheNameUsedInOutput) {
    EXPECT_EQ(to_string(VerifyStatus::valid), "valid");
    EXPECT_EQ(to_string(VerifyStatus::invalid), "invalid");
    EXPECT_EQ(to_string(VerifyStatus::too_old), "too_old");
}

// --- verify_signature: hints on a mismatch ----------------------------------------------------

std::string mismatch_reason(std::string_view body, std::string_view header,
                            std::vector<std::string> secrets = {std::string(k_secret)}) {
    const auto result = verify_signature(body, header, policy_at(k_time, std::move(secrets)));
    EXPECT_EQ(result.failure, VerifyFailure::no_match) << result.reason;
    return result.reason;
}

bool mentions(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

TEST(VerifyHints, SaysTheBodyMatchesWithoutTheNewlineAddedOnSave) {
    const auto reason = mismatch_reason(std::string(k_payload) + "\n", header_for(k_payload));
    EXPECT_TRUE(mentions(reason, "without its final newline")) << reason;
}

TEST(VerifyHints, SaysTheBodyMatchesWithoutATrailingCrlf) {
    const auto reason = mismatch_reason(std::string(k_payload) + "\r\n", header_for(k_payload));
    EXPECT_TRUE(mentions(reason, "without its final newline")) << reason;
}

TEST(VerifyHints, MentionsATrailingNewlineEvenWhenItIsNotTheCause) {
    const auto reason =
        mismatch_reason(std::string(k_payload) + "\n", header_with(k_time, {k_other_v1}));
    EXPECT_TRUE(mentions(reason, "newline")) << reason;
    EXPECT_FALSE(mentions(reason, "matches without")) << reason;
}

TEST(VerifyHints, SaysNothingAboutNewlinesWhenTheBodyHasNone) {
    const auto reason = mismatch_reason(k_payload, header_with(k_time, {k_other_v1}));
    EXPECT_FALSE(mentions(reason, "newline")) << reason;
    EXPECT_FALSE(mentions(reason, "hint")) << reason;
}

TEST(VerifyHints, SaysTheSecretMatchesOnceTrimmed) {
    for (const auto& secret : {std::string(k_secret) + "\n", std::string(k_secret) + " ",
                               " " + std::string(k_secret), std::string(k_secret) + "\r\n"}) {
        const auto reason = mismatch_reason(k_payload, header_for(k_payload), {secret});
        EXPECT_TRUE(mentions(reason, "whitespace")) << reason;
        EXPECT_TRUE(mentions(reason, "matches once")) << reason;
        EXPECT_FALSE(mentions(reason, k_secret)) << reason;
    }
}

TEST(VerifyHints, SaysTheSecretHasWhitespaceEvenWhenTrimmingDoesNotHelp) {
    const auto reason = mismatch_reason(k_payload, header_for(k_payload), {"whsec_another_one\n"});
    EXPECT_TRUE(mentions(reason, "whitespace")) << reason;
    EXPECT_FALSE(mentions(reason, "matches once")) << reason;
}

TEST(VerifyHints, SaysTheSecretIsNotAWebhookSigningSecret) {
    const auto reason =
        mismatch_reason(k_payload, header_for(k_payload), {"sk_test_51HxxxxxxxxxxxxxxxxxxxxABCD"});
    EXPECT_TRUE(mentions(reason, "not a whsec_")) << reason;
}

TEST(VerifyHints, SaysTheBodyMatchesWithLfLineEnds) {
    const std::string lf_body = "{\n  \"id\": \"evt_test\",\n  \"object\": \"event\"\n}";
    const std::string crlf_body = "{\r\n  \"id\": \"evt_test\",\r\n  \"object\": \"event\"\r\n}";
    const auto reason = mismatch_reason(crlf_body, header_for(lf_body));
    EXPECT_TRUE(mentions(reason, "LF line ends")) << reason;
}

TEST(VerifyHints, NeverShowAFullSecret) {
    const std::vector<std::string> secrets = {"whsec_aVeryLongSecretValue1234567890\n",
                                              " sk_live_anotherSecretValue987654321 ",
                                              "plainsecretwithoutprefix12345", "whsec_short"};
    for (const auto& body : {std::string(k_payload), std::string(k_payload) + "\n"}) {
        const auto reason = mismatch_reason(body, header_with(k_time, {k_other_v1}), secrets);
        for (const auto& secret : secrets) {
            const auto start = secret.find_first_not_of(' ');
            const auto trimmed = secret.substr(start, secret.find_last_not_of(" \n") - start + 1);
            EXPECT_FALSE(mentions(reason, trimmed)) << reason;
        }
    }
}

TEST(VerifyHints, DoNotChangeTheVerdictOfAMatchingBody) {
    const std::string body = std::string(k_payload) + "\n";
    expect_valid(verify(header_for(body), policy_at(k_time), body));
}

} // namespace
} // namespace sc

namespace sc {
namespace {

TEST(ComputeSignature, KeepsEachSecretApartWhenContextsAreReused) {
    // Reference values from Python's hmac module.
    const std::string a = "04339dc4f01d6541e8d3b7e4bd93cd2d4f680ccb28592270900b08e49cc09e57";
    const std::string b = "c5189ebadc3785f3f35cf54514c1960853eb90d63e53d893af772bcdc3781c6f";
    for (int round = 0; round < 3; ++round) {
        EXPECT_EQ(compute_signature("whsec_a", 1700000000, "{}"), a);
        EXPECT_EQ(compute_signature("whsec_b", 1700000000, "{}"), b);
    }
    for (int i = 0; i < 20; ++i) { // more secrets than the per-thread cache keeps
        static_cast<void>(compute_signature("whsec_" + std::to_string(i), 1, "x"));
    }
    EXPECT_EQ(compute_signature("whsec_a", 1700000000, "{}"), a);
    EXPECT_EQ(compute_signature("", 1700000000, "{}"),
              "a9dc44c8eda3de70e9cbf3e488895f1abc26acb1461d3124a3cb886af35251cf");
}

TEST(ComputeSignature, GivesTheSameAnswerOnEveryThread) {
    const std::string expected = compute_signature("whsec_threads", 42, "body");
    std::vector<std::thread> threads;
    std::atomic<int> matches = 0;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 100; ++i) {
                matches += compute_signature("whsec_threads", 42, "body") == expected ? 1 : 0;
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(matches, 400);
}

} // namespace
} // namespace sc
