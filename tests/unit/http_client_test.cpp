#include "io/http_client.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace sc {
namespace {

// Whether the URL is allowed, with the reason given when it is not.
struct Verdict {
    bool allowed;
    std::string why;
};

Verdict check(std::string_view url) {
    std::string why;
    const bool allowed = is_allowed_url(url, why);
    return {allowed, why};
}

// --- is_allowed_url
// --------------------------------------------------------------------------------

TEST(HttpAllowedUrl, AcceptsHttpsToAnyHost) {
    for (const auto* url :
         {"https://app.comptentra.servolution.fr/api/v1", "https://api.stripe.com",
          "https://example.com:8443/path?query=1", "https://203.0.113.7/", "https://[2001:db8::1]/",
          "https://127.0.0.1:8443/"}) {
        const auto verdict = check(url);
        EXPECT_TRUE(verdict.allowed) << url << ": " << verdict.why;
    }
}

TEST(HttpAllowedUrl, AcceptsPlainHttpToLoopbackHosts) {
    for (const auto* url :
         {"http://127.0.0.1", "http://127.0.0.1:8787/api/v1", "http://127.45.6.7/",
          "http://127.255.255.254:1/x", "http://localhost", "http://localhost:12111/v1",
          "http://[::1]", "http://[::1]:8080/api/v1?x=1"}) {
        const auto verdict = check(url);
        EXPECT_TRUE(verdict.allowed) << url << ": " << verdict.why;
    }
}

TEST(HttpAllowedUrl, RefusesPlainHttpToOtherHostsWithAReason) {
    for (const auto* url :
         {"http://example.com", "http://example.com/api/v1", "http://app.comptentra.servolution.fr",
          "http://10.0.0.1/", "http://128.0.0.1/", "http://[::2]/", "http://localhost.example.com/",
          "http://[2001:db8::1]:8080/"}) {
        const auto verdict = check(url);
        EXPECT_FALSE(verdict.allowed) << url;
        EXPECT_NE(verdict.why.find("https"), std::string::npos) << url << ": " << verdict.why;
    }
}

// A DNS name may begin with "127.": only an IPv4 literal in 127.0.0.0/8 is loopback.
TEST(HttpAllowedUrl, RefusesPlainHttpToANameThatOnlyStartsLikeALoopbackAddress) {
    for (const auto* url :
         {"http://127.0.0.1.example.com/api/v1", "http://127.attacker.example/"}) {
        const auto verdict = check(url);
        EXPECT_FALSE(verdict.allowed) << url;
    }
}

TEST(HttpAllowedUrl, RefusesOtherSchemesNamingTheScheme) {
    for (const auto* url : {"ftp://example.com/file", "ftp://127.0.0.1/", "file:///etc/passwd",
                            "gopher://localhost/"}) {
        const auto verdict = check(url);
        EXPECT_FALSE(verdict.allowed) << url;
        EXPECT_FALSE(verdict.why.empty()) << url;
    }
    EXPECT_NE(check("ftp://example.com/file").why.find("ftp"), std::string::npos);
}

TEST(HttpAllowedUrl, RefusesTextThatIsNotAUrl) {
    for (const auto* url : {"", "not a url", "example.com/api", "://", "https://", "http//x"}) {
        const auto verdict = check(url);
        EXPECT_FALSE(verdict.allowed) << "'" << url << "'";
        EXPECT_FALSE(verdict.why.empty()) << "'" << url << "'";
    }
}

// --- url_origin
// ------------------------------------------------------------------------------------

TEST(HttpUrlOrigin, KeepsSchemeHostAndPortAndDropsPathAndQuery) {
    EXPECT_EQ(url_origin("https://app.comptentra.servolution.fr/api/v1/ecritures?journal=VTE"),
              "https://app.comptentra.servolution.fr");
    EXPECT_EQ(url_origin("http://127.0.0.1:8787/api/v1?libelle=x#top"), "http://127.0.0.1:8787");
    EXPECT_EQ(url_origin("https://api.stripe.com"), "https://api.stripe.com");
    EXPECT_EQ(url_origin("https://api.stripe.com/"), "https://api.stripe.com");
    EXPECT_EQ(url_origin("http://localhost:12111/v1/charges"), "http://localhost:12111");
    EXPECT_EQ(url_origin("http://[::1]:9000/a/b"), "http://[::1]:9000");
}

TEST(HttpUrlOrigin, DropsCredentialsInTheUrl) {
    const std::string origin = url_origin("https://user:s3cr3t-password@example.com/api?k=v");
    EXPECT_EQ(origin, "https://example.com");
    EXPECT_EQ(origin.find("s3cr3t"), std::string::npos);
}

TEST(HttpUrlOrigin, DropsTheQueryOfTextThatIsNotAUrl) {
    const std::string origin = url_origin("not a url?api_key=secret");
    EXPECT_EQ(origin.find("secret"), std::string::npos) << origin;
}

// --- HttpResult::header
// ----------------------------------------------------------------------------

TEST(HttpResultHeader, FindsTheFirstHeaderOfThatNameWithoutCase) {
    HttpResult result;
    result.headers = {
        {"Content-Type", "application/json"}, {"retry-after", "2"}, {"Retry-After", "9"}};
    EXPECT_EQ(result.header("Retry-After"), "2");
    EXPECT_EQ(result.header("RETRY-AFTER"), "2");
    EXPECT_EQ(result.header("content-type"), "application/json");
    EXPECT_FALSE(result.header("Idempotent-Replayed").has_value());
    EXPECT_FALSE(result.header("Retry").has_value());
}

// --- CurlHttpClient refuses without touching the network
// ---------------------------------------------------

TEST(HttpCurlClient, RefusesADisallowedUrlWithoutSendingIt) {
    init_http();
    CurlHttpClient client(HttpTimeouts{});
    for (const auto* url : {"http://example.com/api/v1/ecritures?libelle=secret-libelle",
                            "ftp://example.com/file", "not a url"}) {
        HttpRequest request;
        request.url = url;
        request.headers = {{"X-API-Key", "ct_key_never_shown"}};
        const HttpResult result = client.send(request);
        EXPECT_EQ(result.failure, TransportFailure::refused) << url;
        EXPECT_EQ(result.status, 0) << url;
        EXPECT_FALSE(result.error.empty()) << url;
        EXPECT_EQ(result.error.find("secret-libelle"), std::string::npos) << result.error;
        EXPECT_EQ(result.error.find("ct_key_never_shown"), std::string::npos) << result.error;
    }
}

} // namespace
} // namespace sc
