#include "core/delivery.h"
#include "core/signature.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sc {
namespace {

constexpr std::string_view k_secret = "whsec_delivery_secret";
constexpr std::string_view k_other_secret = "whsec_other_secret";
constexpr std::int64_t k_time = 1700000000;
constexpr std::string_view k_body = R"({"id":"evt_1Abc_d-9","object":"event","type":"charge"})";

VerifyPolicy policy_at(std::int64_t now, std::int64_t tolerance = 300) {
    VerifyPolicy policy;
    policy.secrets = {std::string(k_secret)};
    policy.tolerance_seconds = tolerance;
    policy.now = now;
    return policy;
}

// Checks `body` signed with the test secret at k_time, received at k_time.
DeliveryVerdict check_signed(std::string_view body) {
    const std::string header = make_signature_header(k_secret, k_time, body);
    return check_delivery(body, header, policy_at(k_time));
}

void expect_refused(const DeliveryVerdict& verdict, std::string_view words = {}) {
    EXPECT_FALSE(verdict.accepted);
    EXPECT_TRUE(verdict.object_id.empty()) << verdict.object_id;
    EXPECT_FALSE(verdict.reason.empty());
    EXPECT_EQ(verdict.reason.find('\n'), std::string::npos) << verdict.reason;
    EXPECT_NE(verdict.reason.find(words), std::string::npos) << verdict.reason;
}

TEST(Delivery, AcceptsAValidSignatureAndGivesTheObjectId) {
    const auto verdict = check_signed(k_body);
    EXPECT_TRUE(verdict.accepted) << verdict.reason;
    EXPECT_EQ(verdict.object_id, "evt_1Abc_d-9");
    EXPECT_TRUE(verdict.reason.empty()) << verdict.reason;
}

TEST(Delivery, ReadsOnlyTheTopLevelId) {
    const std::string body =
        R"({"data":{"object":{"id":"ch_nested"}},"list":[{"id":"x"}],"id":"evt_top"})";
    const auto verdict = check_signed(body);
    EXPECT_TRUE(verdict.accepted) << verdict.reason;
    EXPECT_EQ(verdict.object_id, "evt_top");
}

TEST(Delivery, RefusesACallWithoutSignatureHeader) {
    expect_refused(check_delivery(k_body, std::nullopt, policy_at(k_time)), "Stripe-Signature");
    expect_refused(check_delivery(k_body, std::string_view(""), policy_at(k_time)),
                   "Stripe-Signature");
}

TEST(Delivery, RefusesABadSignature) {
    const std::string other = make_signature_header(k_other_secret, k_time, k_body);
    expect_refused(check_delivery(k_body, other, policy_at(k_time)), "signature");
    // The right secret over other bytes.
    const std::string tampered = make_signature_header(k_secret, k_time, "{\"id\":\"evt_2\"}");
    expect_refused(check_delivery(k_body, tampered, policy_at(k_time)), "signature");
    expect_refused(
        check_delivery(k_body, std::string_view("t=1700000000,v1=00ff"), policy_at(k_time)));
    expect_refused(check_delivery(k_body, std::string_view("garbage"), policy_at(k_time)));
}

TEST(Delivery, TellsTheCallerNoHintAboutTheSecrets) {
    const std::string header = make_signature_header(k_other_secret, k_time, k_body);
    VerifyPolicy policy = policy_at(k_time);
    policy.secrets = {"sk_live_abcdefghijklmnopWXYZ"}; // an API key where a whsec_ belongs
    const DeliveryVerdict verdict = check_delivery(k_body, header, policy);
    expect_refused(verdict, "signature");
    EXPECT_EQ(verdict.reason.find("WXYZ"), std::string::npos) << verdict.reason;
    EXPECT_EQ(verdict.reason.find("hint"), std::string::npos) << verdict.reason;
    EXPECT_NE(verdict.log_reason.find("is not a whsec_"), std::string::npos) << verdict.log_reason;
    EXPECT_TRUE(verdict.log_reason.starts_with(verdict.reason)) << verdict.log_reason;
}

TEST(Delivery, RefusesASignatureOlderThanTheTolerance) {
    const std::string header = make_signature_header(k_secret, k_time, k_body);
    expect_refused(check_delivery(k_body, header, policy_at(k_time + 301)), "tolerance");
    expect_refused(check_delivery(k_body, header, policy_at(k_time + 86400)), "tolerance");
    EXPECT_TRUE(check_delivery(k_body, header, policy_at(k_time + 300)).accepted);
}

TEST(Delivery, AcceptsAnyAgeWhenTheToleranceIsZero) {
    const std::string header = make_signature_header(k_secret, k_time, k_body);
    const auto verdict = check_delivery(k_body, header, policy_at(k_time + 10 * 365 * 86400, 0));
    EXPECT_TRUE(verdict.accepted) << verdict.reason;
    EXPECT_EQ(verdict.object_id, "evt_1Abc_d-9");
}

TEST(Delivery, AcceptsATimestampInTheFuture) {
    const std::string header = make_signature_header(k_secret, k_time + 3600, k_body);
    const auto verdict = check_delivery(k_body, header, policy_at(k_time));
    EXPECT_TRUE(verdict.accepted) << verdict.reason;
}

TEST(Delivery, AcceptsASignatureFromAnyOfRolledSecrets) {
    VerifyPolicy policy = policy_at(k_time);
    policy.secrets = {std::string(k_other_secret), std::string(k_secret)};
    const std::string header = make_signature_header(k_secret, k_time, k_body);
    const auto verdict = check_delivery(k_body, header, policy);
    EXPECT_TRUE(verdict.accepted) << verdict.reason;
    EXPECT_EQ(verdict.object_id, "evt_1Abc_d-9");
    // A header carrying both an old and a new signature.
    const std::string both = header + ",v1=" + compute_signature("whsec_gone", k_time, k_body);
    EXPECT_TRUE(check_delivery(k_body, both, policy_at(k_time)).accepted);
}

TEST(Delivery, RefusesABodyThatIsNotJson) {
    expect_refused(check_signed("not json"));
    expect_refused(check_signed("{\"id\":\"evt_1\""));
    expect_refused(check_signed("{\"id\":\"evt_1\"}\n{\"id\":\"evt_2\"}"));
    expect_refused(check_signed(""));
    expect_refused(check_signed("{\"id\":\"evt_1\",\n\"a\":}"));
}

TEST(Delivery, RefusesAJsonValueThatIsNotAnObject) {
    expect_refused(check_signed(R"([{"id":"evt_1"}])"), "object");
    expect_refused(check_signed(R"("evt_1")"), "object");
    expect_refused(check_signed("42"), "object");
}

TEST(Delivery, RefusesAnObjectWithoutStringId) {
    expect_refused(check_signed(R"({"object":"event"})"), "id");
    expect_refused(check_signed(R"({"id":42})"), "id");
    expect_refused(check_signed(R"({"id":null})"), "id");
    expect_refused(check_signed(R"({"id":{"id":"evt_1"}})"), "id");
    expect_refused(check_signed(R"({"data":{"id":"evt_1"}})"), "id");
}

TEST(Delivery, RefusesAnIdThatCannotNameAFile) {
    for (const std::string id :
         {"", "evt/1", "../evt_1", "..", "evt_1.http", "evt 1", "evt\\u002f1", "\\u00e9vt"}) {
        const std::string body = "{\"id\":\"" + id + "\"}";
        expect_refused(check_signed(body), "id");
    }
}

TEST(Delivery, AcceptsIdsUpTo128CharactersOnly) {
    const std::string longest(128, 'a');
    const auto verdict = check_signed("{\"id\":\"" + longest + "\"}");
    EXPECT_TRUE(verdict.accepted) << verdict.reason;
    EXPECT_EQ(verdict.object_id, longest);
    expect_refused(check_signed("{\"id\":\"" + std::string(129, 'a') + "\"}"), "id");
}

TEST(Delivery, AcceptsABodyWithLeadingWhitespace) {
    const auto verdict = check_signed(" \r\n{\"id\":\"evt_ws\"}\n");
    EXPECT_TRUE(verdict.accepted) << verdict.reason;
    EXPECT_EQ(verdict.object_id, "evt_ws");
}

} // namespace
} // namespace sc
