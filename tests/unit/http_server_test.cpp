#include "core/error.h"
#include "io/diagnostics.h"
#include "io/http_client.h"
#include "io/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <netdb.h>
#include <netinet/in.h>
#include <optional>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace sc {
namespace {

using namespace std::chrono_literals;

// A client connection on a raw socket, for the requests libcurl would not send as they are.
class Connection {
  public:
    explicit Connection(std::uint16_t port, const char* address = "127.0.0.1") {
        addrinfo hints{};
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* found = nullptr;
        if (getaddrinfo(address, std::to_string(port).c_str(), &hints, &found) != 0) {
            return;
        }
        m_fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const timeval patience{5, 0};
        setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
        setsockopt(m_fd, SOL_SOCKET, SO_SNDTIMEO, &patience, sizeof patience);
        m_connected = connect(m_fd, found->ai_addr, found->ai_addrlen) == 0;
        freeaddrinfo(found);
    }
    ~Connection() {
        if (m_fd >= 0) {
            close(m_fd);
        }
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    bool connected() const { return m_connected; }

    void send(std::string_view bytes) {
        while (!bytes.empty()) {
            const ssize_t sent = ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (sent <= 0) {
                ADD_FAILURE() << "send failed";
                return;
            }
            bytes.remove_prefix(static_cast<std::size_t>(sent));
        }
    }

    /// The next response: status line, headers and a body of its Content-Length, whole;
    /// empty when the connection ends (or stays silent 5 s) before.
    std::string response() {
        std::size_t end = 0;
        while ((end = m_buffer.find("\r\n\r\n")) == std::string::npos) {
            if (!receive()) {
                return {};
            }
        }
        end += 4;
        std::size_t length = 0;
        if (const auto at = m_buffer.find("Content-Length: ");
            at != std::string::npos && at < end) {
            length = std::stoul(m_buffer.substr(at + 16));
        }
        while (m_buffer.size() < end + length) {
            if (!receive()) {
                return {};
            }
        }
        std::string whole = m_buffer.substr(0, end + length);
        m_buffer.erase(0, end + length);
        return whole;
    }

  private:
    bool receive() {
        char chunk[4096];
        const ssize_t count = recv(m_fd, chunk, sizeof chunk, 0);
        if (count <= 0) {
            return false;
        }
        m_buffer.append(chunk, static_cast<std::size_t>(count));
        return true;
    }

    int m_fd = -1;
    bool m_connected = false;
    std::string m_buffer;
};

std::string body_of(const std::string& response) {
    const auto end = response.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : response.substr(end + 4);
}

// A server on a free loopback port whose handler records what it saw.
struct Served {
    explicit Served(HttpServer::Handler respond = {}, std::size_t max_body = 1 << 20,
                    std::string address = "127.0.0.1")
        : answer(std::move(respond)), diagnostics(err, false),
          server(
              config_for(std::move(address), max_body),
              [this](const ServerRequest& request) { return handle(request); }, diagnostics) {}

    static ServerConfig config_for(std::string address, std::size_t max_body) {
        ServerConfig config;
        config.bind_address = std::move(address);
        config.port = 0;
        config.max_body_bytes = max_body;
        return config;
    }

    ServerResponse handle(const ServerRequest& request) {
        {
            const std::lock_guard lock(mutex);
            seen = request;
        }
        ++calls;
        return answer ? answer(request) : ServerResponse{200, "ok", "text/plain", {}};
    }

    ServerRequest last() {
        const std::lock_guard lock(mutex);
        return seen;
    }

    HttpServer::Handler answer;
    std::ostringstream err;
    Diagnostics diagnostics;
    std::mutex mutex;
    ServerRequest seen;
    std::atomic<int> calls = 0;
    HttpServer server;
};

HttpResult curl(const HttpRequest& request) {
    init_http();
    CurlHttpClient client(HttpTimeouts{5s, 10s});
    return client.send(request);
}

ExitStatus start_status(const std::string& address, std::uint16_t port) {
    std::ostringstream err;
    Diagnostics diagnostics(err, false);
    ServerConfig config;
    config.bind_address = address;
    config.port = port;
    try {
        HttpServer server(
            config, [](const ServerRequest&) { return ServerResponse{}; }, diagnostics);
    } catch (const Error& error) {
        return error.status();
    }
    return ExitStatus::ok;
}

TEST(HttpServer, GivesTheHandlerTheWholeRequest) {
    Served served;
    ASSERT_NE(served.server.port(), 0);
    Connection connection(served.server.port());
    ASSERT_TRUE(connection.connected());
    const std::string body("{\"id\":\"evt_1\"}\r\n\0\xFF", 19);
    connection.send("POST /stripe-webhook?a=1&b=2 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Stripe-Signature: t=1,v1=ab\r\nX-B: second\r\nx-a: third\r\n"
                    "Content-Length: 19\r\n\r\n" +
                    body);
    EXPECT_TRUE(connection.response().starts_with("HTTP/1.1 200"));
    const ServerRequest seen = served.last();
    EXPECT_EQ(seen.method, "POST");
    EXPECT_EQ(seen.path, "/stripe-webhook");
    EXPECT_EQ(seen.body, body);
    EXPECT_EQ(seen.peer, "127.0.0.1");
    EXPECT_EQ(seen.headers, (HttpHeaders{{"Host", "127.0.0.1"},
                                         {"Stripe-Signature", "t=1,v1=ab"},
                                         {"X-B", "second"},
                                         {"x-a", "third"},
                                         {"Content-Length", "19"}}));
}

TEST(HttpServer, DecodesAChunkedBody) {
    Served served;
    Connection connection(served.server.port());
    connection.send("POST /hook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "4\r\n{\"a\"\r\nA;ext=1\r\n:1234567}\n\r\n0\r\n\r\n");
    EXPECT_TRUE(connection.response().starts_with("HTTP/1.1 200"));
    EXPECT_EQ(served.last().body, "{\"a\":1234567}\n");
}

TEST(HttpServer, AnswersExpectContinueThenReadsTheBody) {
    Served served;
    Connection connection(served.server.port());
    connection.send("POST /hook HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                    "Content-Length: 5\r\n\r\n");
    EXPECT_TRUE(connection.response().starts_with("HTTP/1.1 100")); // then the body
    connection.send("hello");
    EXPECT_TRUE(connection.response().starts_with("HTTP/1.1 200"));
    EXPECT_EQ(served.last().body, "hello");
}

TEST(HttpServer, SendsTheHandlersResponse) {
    Served served([](const ServerRequest&) {
        return ServerResponse{
            202, "{\"stored\":true}\n", "application/json", {{"X-One", "1"}, {"Allow", "POST"}}};
    });
    HttpRequest request;
    request.method = "POST";
    request.url = "http://127.0.0.1:" + std::to_string(served.server.port()) + "/hook";
    request.body = "{}";
    const HttpResult result = curl(request);
    ASSERT_EQ(result.failure, TransportFailure::none) << result.error;
    EXPECT_EQ(result.status, 202);
    EXPECT_EQ(result.body, "{\"stored\":true}\n");
    EXPECT_EQ(result.header("Content-Type").value_or(""), "application/json");
    EXPECT_EQ(result.header("X-One").value_or(""), "1");
    EXPECT_EQ(result.header("Allow").value_or(""), "POST");
    EXPECT_EQ(served.last().body, "{}");
}

TEST(HttpServer, AnswersATooLongDeclaredBody413WithoutTheHandler) {
    Served served({}, 1024);
    Connection connection(served.server.port());
    connection.send("POST /hook HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                    "Content-Length: 1025\r\n\r\n");
    const std::string response = connection.response();
    EXPECT_TRUE(response.starts_with("HTTP/1.1 413")) << response;
    EXPECT_NE(body_of(response).find("1024"), std::string::npos) << response;
    EXPECT_EQ(served.calls.load(), 0);
}

TEST(HttpServer, ClosesTheConnectionAfterRefusingADeclaredBody) {
    Served served({}, 1024);
    Connection connection(served.server.port());
    // The refused body must not be read as the next request.
    connection.send("POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 1100\r\n\r\n" +
                    std::string(1100, 'a') + "GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
    const std::string response = connection.response();
    EXPECT_TRUE(response.starts_with("HTTP/1.1 413")) << response;
    EXPECT_NE(response.find("Connection: close"), std::string::npos) << response;
    EXPECT_EQ(connection.response(), "");
    EXPECT_EQ(served.calls.load(), 0);
}

TEST(HttpServer, AcceptsABodyOfExactlyTheLimit) {
    Served served({}, 1024);
    Connection connection(served.server.port());
    connection.send("POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\n\r\n" +
                    std::string(1024, 'a'));
    EXPECT_TRUE(connection.response().starts_with("HTTP/1.1 200"));
    EXPECT_EQ(served.last().body.size(), 1024U);
}

TEST(HttpServer, HangsUpOnAChunkedBodyGrowingPastTheLimit) {
    Served served({}, 1024);
    Connection connection(served.server.port());
    connection.send("POST /hook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 3; ++i) {
        connection.send("200\r\n" + std::string(512, 'a') + "\r\n"); // 1536 bytes in all
    }
    EXPECT_EQ(connection.response(), ""); // closed without an answer, long before 5 s
    EXPECT_EQ(served.calls.load(), 0);
}

TEST(HttpServer, AnswersAHandlerException500) {
    Served served([](const ServerRequest&) -> ServerResponse {
        throw std::runtime_error("the disk is on fire");
    });
    HttpRequest request;
    request.url = "http://127.0.0.1:" + std::to_string(served.server.port()) + "/boom";
    const HttpResult result = curl(request);
    ASSERT_EQ(result.failure, TransportFailure::none) << result.error;
    EXPECT_EQ(result.status, 500);
    EXPECT_EQ(result.body.find("fire"), std::string::npos) << result.body;
    served.server.stop(1s);
    EXPECT_NE(served.err.str().find("the disk is on fire"), std::string::npos) << served.err.str();
}

TEST(HttpServer, KeepsAConnectionAliveForSeveralRequests) {
    Served served([](const ServerRequest& request) {
        return ServerResponse{200, request.body, "text/plain", {}};
    });
    Connection connection(served.server.port());
    connection.send("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst");
    EXPECT_EQ(body_of(connection.response()), "first");
    connection.send("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nsecond");
    EXPECT_EQ(body_of(connection.response()), "second");
    EXPECT_EQ(served.calls.load(), 2);
    EXPECT_EQ(served.last().path, "/b");
}

TEST(HttpServer, StopLetsARequestInProgressFinishThenRefusesConnections) {
    std::promise<void> started;
    auto handler_started = started.get_future();
    Served served([&started](const ServerRequest&) {
        started.set_value();
        std::this_thread::sleep_for(300ms);
        return ServerResponse{200, "late but answered", "text/plain", {}};
    });
    const std::uint16_t port = served.server.port();
    auto answer = std::async(std::launch::async, [port] {
        Connection connection(port);
        connection.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
        return connection.response();
    });
    ASSERT_EQ(handler_started.wait_for(5s), std::future_status::ready);
    served.server.stop(5s);
    ASSERT_EQ(answer.wait_for(5s), std::future_status::ready);
    const std::string response = answer.get();
    EXPECT_TRUE(response.starts_with("HTTP/1.1 200")) << response;
    EXPECT_EQ(body_of(response), "late but answered");
    EXPECT_FALSE(Connection(port).connected());
    served.server.stop(0ms); // a second stop does nothing
}

TEST(HttpServer, StopDoesNotWaitForIdleOrStalledConnectionsPastTheGrace) {
    Served served;
    Connection idle(served.server.port());
    idle.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(idle.response().starts_with("HTTP/1.1 200"));
    Connection stalled(served.server.port()); // a body that never comes whole
    stalled.send("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    Connection partial(served.server.port()); // headers that never end
    partial.send("POST /a HTTP/1.1\r\nHo");
    const auto start = std::chrono::steady_clock::now();
    auto stopped = std::async(std::launch::async, [&served] { served.server.stop(200ms); });
    ASSERT_EQ(stopped.wait_for(5s), std::future_status::ready);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
    EXPECT_EQ(stalled.response(), "");
    EXPECT_EQ(served.calls.load(), 1);
}

TEST(HttpServer, ReportsThePortItBound) {
    Served served;
    EXPECT_NE(served.server.port(), 0);
    EXPECT_EQ(start_status("127.0.0.1", served.server.port()), ExitStatus::temporary);
}

TEST(HttpServer, RefusesANameForTheAddress) {
    EXPECT_EQ(start_status("localhost", 0), ExitStatus::config);
    EXPECT_EQ(start_status("", 0), ExitStatus::config);
    EXPECT_EQ(start_status("127.0.0.1.example", 0), ExitStatus::config);
}

TEST(HttpServer, ListensOnIpv6Loopback) {
    const int probe = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_addr = in6addr_loopback;
    const bool has_ipv6 =
        probe >= 0 && bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    if (probe >= 0) {
        close(probe);
    }
    if (!has_ipv6) {
        GTEST_SKIP() << "no IPv6 loopback here";
    }
    Served served({}, 1 << 20, "::1");
    Connection connection(served.server.port(), "::1");
    ASSERT_TRUE(connection.connected());
    connection.send("GET /v6 HTTP/1.1\r\nHost: [::1]\r\n\r\n");
    EXPECT_TRUE(connection.response().starts_with("HTTP/1.1 200"));
    EXPECT_EQ(served.last().peer, "::1");
}

} // namespace
} // namespace sc
