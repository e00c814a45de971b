#pragma once

#include "core/http_headers.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sc {

/// One HTTP request.
struct HttpRequest {
    std::string method = "GET";
    std::string url;
    HttpHeaders headers;
    std::string body;
};

/// How a transfer failed before a complete response arrived.
enum class TransportFailure {
    none,
    not_sent,  ///< name resolution or connection failed: the server never saw the request
    ambiguous, ///< timeout or connection lost after sending: the server may have acted on it
    refused,   ///< not attempted: the URL or its scheme is not allowed
};

/// The outcome of a transfer: a response with any status, or a transport failure.
struct HttpResult {
    long status = 0; ///< the HTTP status; 0 on a transport failure
    HttpHeaders headers;
    std::string body;
    TransportFailure failure = TransportFailure::none;
    std::string error; ///< what went wrong in transport, for a person

    /// The first header of that name, compared without case.
    std::optional<std::string_view> header(std::string_view name) const;
};

/// Sends HTTP requests. Tests substitute a fake that records what it is sent.
class HttpClient {
  public:
    virtual ~HttpClient() = default;
    /// Performs one request; never throws for HTTP statuses or transport failures.
    virtual HttpResult send(const HttpRequest& request) = 0;
};

/// Transfer limits.
struct HttpTimeouts {
    std::chrono::milliseconds connect{10'000};
    std::chrono::milliseconds total{30'000};
};

/// True when `url` may be used: https, or http to a loopback host (127.0.0.0/8, ::1,
/// localhost). Otherwise `why` says what is wrong.
bool is_allowed_url(std::string_view url, std::string& why);

/// An API base URL without its trailing slashes, once is_allowed_url accepts it; otherwise
/// throws Error (configuration) naming the API (`Stripe`) with `hint`.
std::string checked_base_url(std::string url, std::string_view api, std::string_view hint);

/// The text of a query parameter, percent-encoded.
std::string url_encode(std::string_view text);

/// The scheme, host and port of a URL, for messages: `https://api.stripe.com`.
std::string url_origin(std::string_view url);

/// A libcurl client that keeps one connection alive across its requests. Not thread-safe:
/// use one per thread.
class CurlHttpClient final : public HttpClient {
  public:
    explicit CurlHttpClient(HttpTimeouts timeouts);
    ~CurlHttpClient() override;
    CurlHttpClient(const CurlHttpClient&) = delete;
    CurlHttpClient& operator=(const CurlHttpClient&) = delete;

    HttpResult send(const HttpRequest& request) override;

  private:
    struct Handle;
    std::unique_ptr<Handle> m_handle;
    HttpTimeouts m_timeouts;
};

/// Initialises libcurl for the process; call once from main before any thread starts.
void init_http();

} // namespace sc
