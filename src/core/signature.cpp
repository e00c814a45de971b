#include "core/signature.h"

#include "core/redact.h"

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <charconv>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

namespace sc {
namespace {

std::string_view trim_spaces(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

std::optional<std::int64_t> parse_unix_seconds(std::string_view text) {
    std::int64_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end || value < 0) {
        return std::nullopt;
    }
    return value;
}

bool header_has_v0(std::string_view header) {
    return header.starts_with("v0=") || header.find(",v0=") != std::string_view::npos ||
           header.find(" v0=") != std::string_view::npos;
}

struct MacContextFree {
    void operator()(EVP_MAC_CTX* context) const { EVP_MAC_CTX_free(context); }
};
using MacContext = std::unique_ptr<EVP_MAC_CTX, MacContextFree>;

// An HMAC-SHA256 context keyed with `secret`, made once per thread and secret: setting up
// HMAC costs more than hashing a webhook body, and a batch checks many bodies with few secrets.
EVP_MAC_CTX* keyed_hmac(std::string_view secret) {
    thread_local std::vector<std::pair<std::string, MacContext>> keyed;
    for (const auto& [key, context] : keyed) {
        if (key == secret) {
            return context.get();
        }
    }
    constexpr std::size_t k_most_secrets = 8; // more come only from tests feeding random keys
    if (keyed.size() >= k_most_secrets) {
        keyed.clear();
    }
    static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    MacContext context(hmac != nullptr ? EVP_MAC_CTX_new(hmac) : nullptr);
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    // A null key would mean "keep the previous key": an empty secret still needs an address.
    const auto* key = reinterpret_cast<const unsigned char*>(secret.empty() ? "" : secret.data());
    if (!context || EVP_MAC_init(context.get(), key, secret.size(), params) != 1) {
        throw std::runtime_error("HMAC-SHA256 is not available from OpenSSL");
    }
    return keyed.emplace_back(std::string(secret), std::move(context)).second.get();
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool any_match(const SignatureHeader& parsed, const std::vector<std::string>& secrets,
               std::string_view body) {
    for (const auto& secret : secrets) {
        const std::string expected = compute_signature(secret, *parsed.timestamp, body);
        for (const auto& candidate : parsed.v1) {
            if (constant_time_equal(expected, candidate)) {
                return true;
            }
        }
    }
    return false;
}

bool matches_with(const SignatureHeader& parsed, std::string_view secret, std::string_view body) {
    return any_match(parsed, {std::string(secret)}, body);
}

std::string crlf_to_lf(std::string_view body) {
    std::string out;
    out.reserve(body.size());
    for (std::size_t i = 0; i < body.size(); ++i) {
        if (body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n') {
            continue;
        }
        out += body[i];
    }
    return out;
}

// Explains a mismatch: each hint is a cause that is common when payloads are saved by hand.
// It never changes the verdict.
std::string mismatch_hints(const SignatureHeader& parsed, const std::vector<std::string>& secrets,
                           std::string_view body) {
    std::vector<std::string> hints;
    for (const auto& secret : secrets) {
        const std::string_view trimmed = trim_whitespace(secret);
        if (trimmed.size() != secret.size()) {
            hints.push_back(
                matches_with(parsed, trimmed, body)
                    ? fmt::format("the secret {} matches once its surrounding "
                                  "whitespace is removed",
                                  redact(secret))
                    : fmt::format("the secret {} has surrounding whitespace", redact(secret)));
        }
        if (!trimmed.starts_with("whsec_")) {
            hints.push_back(fmt::format("the secret {} is not a whsec_ webhook signing secret",
                                        redact(secret)));
        }
    }
    for (const std::string_view ending : {std::string_view("\r\n"), std::string_view("\n")}) {
        if (body.ends_with(ending)) {
            const auto shorter = body.substr(0, body.size() - ending.size());
            hints.push_back(any_match(parsed, secrets, shorter)
                                ? "the body matches without its final newline, which was added "
                                  "when it was saved"
                                : "the body ends with a newline that may have been added on save");
            break;
        }
    }
    if (body.find("\r\n") != std::string_view::npos &&
        any_match(parsed, secrets, crlf_to_lf(body))) {
        hints.push_back("the body matches with LF line ends: its line ends were converted to CRLF");
    }
    std::string joined;
    for (const auto& hint : hints) {
        joined += joined.empty() ? k_hints_separator : "; ";
        joined += hint;
    }
    return joined;
}

VerifyResult failure(VerifyFailure why, std::string reason, std::optional<std::int64_t> t = {}) {
    return VerifyResult{VerifyStatus::invalid, why, std::move(reason), t};
}

} // namespace

SignatureHeader parse_signature_header(std::string_view header) {
    SignatureHeader parsed;
    while (!header.empty()) {
        const auto comma = header.find(',');
        const std::string_view item = trim_spaces(header.substr(0, comma));
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
        const auto equals = item.find('=');
        if (equals == std::string_view::npos) {
            continue;
        }
        const std::string_view key = item.substr(0, equals);
        const std::string_view value = item.substr(equals + 1);
        if (key == "t") {
            parsed.timestamp = parse_unix_seconds(value);
        } else if (key == "v1") {
            parsed.v1.emplace_back(value);
        }
    }
    return parsed;
}

std::string compute_signature(std::string_view secret, std::int64_t timestamp,
                              std::string_view body) {
    EVP_MAC_CTX* hmac = keyed_hmac(secret);
    const std::string prefix = fmt::format("{}.", timestamp);
    unsigned char digest[EVP_MAX_MD_SIZE];
    std::size_t length = 0;
    if (EVP_MAC_init(hmac, nullptr, 0, nullptr) != 1 ||
        EVP_MAC_update(hmac, reinterpret_cast<const unsigned char*>(prefix.data()),
                       prefix.size()) != 1 ||
        EVP_MAC_update(hmac, reinterpret_cast<const unsigned char*>(body.data()), body.size()) !=
            1 ||
        EVP_MAC_final(hmac, digest, &length, sizeof digest) != 1) {
        throw std::runtime_error("HMAC-SHA256 failed");
    }
    constexpr char k_hex[] = "0123456789abcdef";
    std::string hex(2 * length, '0');
    for (std::size_t i = 0; i < length; ++i) {
        hex[2 * i] = k_hex[digest[i] >> 4];
        hex[2 * i + 1] = k_hex[digest[i] & 0x0f];
    }
    return hex;
}

std::string make_signature_header(std::string_view secret, std::int64_t timestamp,
                                  std::string_view body) {
    return fmt::format("t={},v1={}", timestamp, compute_signature(secret, timestamp, body));
}

std::string_view to_string(VerifyStatus status) {
    switch (status) {
    case VerifyStatus::valid:
        return "valid";
    case VerifyStatus::too_old:
        return "too_old";
    case VerifyStatus::invalid:
        break;
    }
    return "invalid";
}

VerifyResult verify_signature(std::string_view body, std::optional<std::string_view> header,
                              const VerifyPolicy& policy) {
    if (!header || trim_spaces(*header).empty()) {
        return failure(VerifyFailure::no_header, "no Stripe-Signature header");
    }
    const SignatureHeader parsed = parse_signature_header(*header);
    if (!parsed.timestamp) {
        return failure(VerifyFailure::no_timestamp,
                       "the Stripe-Signature header has no timestamp (t=<unix seconds>)");
    }
    if (parsed.v1.empty()) {
        return failure(VerifyFailure::no_v1,
                       header_has_v0(*header)
                           ? "the Stripe-Signature header has no v1 signature (only v0, which "
                             "is never trusted)"
                           : "the Stripe-Signature header has no v1 signature",
                       parsed.timestamp);
    }
    if (!any_match(parsed, policy.secrets, body)) {
        return failure(VerifyFailure::no_match,
                       fmt::format("no v1 signature matches the configured webhook secret{}{}",
                                   policy.secrets.size() == 1 ? "" : "s",
                                   mismatch_hints(parsed, policy.secrets, body)),
                       parsed.timestamp);
    }
    const std::int64_t age = policy.now - *parsed.timestamp;
    if (policy.tolerance_seconds > 0 && age > policy.tolerance_seconds) {
        return VerifyResult{VerifyStatus::too_old, VerifyFailure::too_old,
                            fmt::format("signed at {}, {} s before the reference time: older than "
                                        "the tolerance of {} s",
                                        *parsed.timestamp, age, policy.tolerance_seconds),
                            parsed.timestamp};
    }
    return VerifyResult{VerifyStatus::valid, VerifyFailure::none, {}, parsed.timestamp};
}

} // namespace sc
