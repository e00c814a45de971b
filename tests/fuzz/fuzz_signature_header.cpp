// Fuzz target: the Stripe-Signature header parser, and the signature check of a fixed body
// under a fixed policy with the fuzzed bytes as its header.
#include "core/error.h"
#include "core/signature.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

// The body and secret the seeds tests/fuzz/corpus/signature_header/fixed_* are signed for:
// changing either turns those seeds into plain invalid headers.
constexpr std::string_view k_secret = "whsec_test_secret";
constexpr std::string_view k_body =
    R"({"id":"evt_fuzz","object":"event","type":"customer.created"})";
constexpr std::int64_t k_now = 1773486830; // 60 s after the seeds' t=1773486770

// A body saved by hand: CRLF line ends and a final newline, checked against rolled secrets
// with whitespace around one and a non-webhook one, so that every mismatch hint is reached.
constexpr std::string_view k_saved_body = "{\r\n  \"id\": \"evt_fuzz\"\r\n}\r\n";

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

void check_verdict(const sc::VerifyResult& result, const sc::SignatureHeader& parsed) {
    const bool valid = result.status == sc::VerifyStatus::valid;
    check(valid == (result.failure == sc::VerifyFailure::none));
    check(valid == result.reason.empty());
    check((result.status == sc::VerifyStatus::too_old) ==
          (result.failure == sc::VerifyFailure::too_old));
    check(result.timestamp == parsed.timestamp);
    if (result.failure == sc::VerifyFailure::none || result.failure == sc::VerifyFailure::too_old ||
        result.failure == sc::VerifyFailure::no_match) {
        check(parsed.timestamp.has_value() && !parsed.v1.empty());
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view header(reinterpret_cast<const char*>(data), size);
    try {
        const sc::SignatureHeader parsed = sc::parse_signature_header(header);
        check(!parsed.timestamp || *parsed.timestamp >= 0);
        for (const std::string& signature : parsed.v1) {
            check(signature.find(',') == std::string::npos);
        }

        static const sc::VerifyPolicy policy{{std::string(k_secret)}, 300, k_now};
        check_verdict(sc::verify_signature(k_body, header, policy), parsed);

        static const sc::VerifyPolicy rolled{
            {" whsec_test_secret\n", "sk_test_not_a_webhook_secret"}, 0, 0};
        check_verdict(sc::verify_signature(k_saved_body, header, rolled), parsed);
    } catch (const sc::Error&) {
        // Expected: the input is rejected with a message for a person.
    }
    return 0;
}
