#pragma once

#include "core/http_headers.h"
#include "io/diagnostics.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

struct MHD_Daemon;

namespace sc {

struct HttpServerState;

/// One request, whole, as a handler sees it.
struct ServerRequest {
    std::string method;
    std::string path; ///< without the query string
    HttpHeaders headers;
    std::string body; ///< the raw bytes, chunked transfer decoded
    std::string peer; ///< the client's address
};

/// A handler's answer.
struct ServerResponse {
    unsigned status = 200;
    std::string body;
    std::string content_type = "text/plain; charset=utf-8";
    HttpHeaders headers;
};

/// Where and how a server listens.
struct ServerConfig {
    std::string bind_address = "127.0.0.1"; ///< a numeric IPv4 or IPv6 address
    std::uint16_t port = 8080;              ///< 0 picks a free port
    /// A longer body is refused: answered 413 unread when its Content-Length says so, else
    /// the connection is closed as soon as the body passes the limit.
    std::size_t max_body_bytes = 1 << 20;
    unsigned max_connections = 256;
    unsigned idle_timeout_seconds = 30; ///< a connection silent this long is closed
};

/// An HTTP/1.1 server on libmicrohttpd: each connection has a thread of its own, so a
/// handler may block (on a disk write, say) without holding up other clients. Keep-alive and
/// `Expect: 100-continue` are handled; a handler's exception becomes a 500.
class HttpServer {
  public:
    using Handler = std::function<ServerResponse(const ServerRequest&)>;

    /// Binds and starts serving. Throws Error: 78 for an address that cannot be bound here,
    /// 77 when binding is not permitted, 75 when the port is in use.
    HttpServer(const ServerConfig& config, Handler handler, Diagnostics& diagnostics);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// The port it listens on (the one picked when the config said 0).
    std::uint16_t port() const { return m_port; }

    /// Stops accepting connections, waits up to `grace` for the requests in progress to be
    /// answered, then closes every connection.
    void stop(std::chrono::milliseconds grace);

  private:
    std::unique_ptr<HttpServerState> m_state;
    MHD_Daemon* m_daemon = nullptr;
    std::uint16_t m_port = 0;
};

} // namespace sc
