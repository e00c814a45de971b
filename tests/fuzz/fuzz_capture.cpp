// Fuzz target: the HTTP capture parser (request line, headers, Content-Length, chunked
// bodies), then, as `verify` does, the signature check of the parsed body with its header.
#include "core/capture.h"
#include "core/error.h"
#include "core/signature.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

bool is_line_free(std::string_view text) {
    return text.find('\n') == std::string_view::npos;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const bool looks = sc::looks_like_capture(bytes);
    try {
        const sc::HttpCapture capture = sc::parse_capture(bytes, "fuzz.http");
        check(looks);
        check(!capture.method.empty() &&
              std::all_of(capture.method.begin(), capture.method.end(),
                          [](char c) { return c >= 'A' && c <= 'Z'; }));
        check(is_line_free(capture.target));
        check(capture.body.size() <= bytes.size());
        for (const auto& [name, value] : capture.headers) {
            check(is_line_free(name) && is_line_free(value));
        }

        static const sc::VerifyPolicy policy{{"whsec_test_secret"}, 300, 1773486830};
        const sc::VerifyResult result =
            sc::verify_signature(capture.body, capture.header("Stripe-Signature"), policy);
        check((result.status == sc::VerifyStatus::valid) ==
              (result.failure == sc::VerifyFailure::none));
    } catch (const sc::Error&) {
        // Expected: a malformed capture.
    }
    return 0;
}
