#include "io/http_server.h"

#include "core/error.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstdarg>
#include <cstring>
#include <microhttpd.h>
#include <mutex>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sc {

// What the callbacks share: the handler, and the count of requests not yet answered.
struct HttpServerState {
    using Handler = HttpServer::Handler;
    Handler handler;
    Diagnostics& diagnostics;
    std::size_t max_body_bytes;
    std::mutex mutex;
    std::condition_variable idle;
    std::size_t in_progress = 0;
};

namespace {

// One request while its body arrives.
struct Exchange {
    ServerRequest request;
    bool answered = false;
};

std::string numeric_address(const sockaddr* address) {
    char host[NI_MAXHOST] = {};
    const socklen_t length = address != nullptr && address->sa_family == AF_INET6
                                 ? sizeof(sockaddr_in6)
                                 : sizeof(sockaddr_in);
    if (address == nullptr ||
        getnameinfo(address, length, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0) {
        return "?";
    }
    return host;
}

MHD_Result collect_header(void* headers, MHD_ValueKind, const char* name, std::size_t name_size,
                          const char* value, std::size_t value_size) {
    static_cast<HttpHeaders*>(headers)->emplace_back(std::string(name, name_size),
                                                     std::string(value, value_size));
    return MHD_YES;
}

MHD_Result send(MHD_Connection* connection, const ServerResponse& response) {
    MHD_Response* reply = MHD_create_response_from_buffer(
        response.body.size(), const_cast<char*>(response.body.data()), MHD_RESPMEM_MUST_COPY);
    if (reply == nullptr) {
        return MHD_NO;
    }
    MHD_add_response_header(reply, MHD_HTTP_HEADER_CONTENT_TYPE, response.content_type.c_str());
    for (const auto& [name, value] : response.headers) {
        MHD_add_response_header(reply, name.c_str(), value.c_str());
    }
    const MHD_Result queued = MHD_queue_response(connection, response.status, reply);
    MHD_destroy_response(reply);
    return queued;
}

ServerResponse too_large(std::size_t limit) {
    ServerResponse response;
    response.status = 413;
    response.body = fmt::format("the body is longer than {} bytes\n", limit);
    return response;
}

std::optional<std::size_t> declared_length(const HttpHeaders& headers) {
    const auto value = find_header(headers, "Content-Length");
    std::size_t length = 0;
    if (!value ||
        std::from_chars(value->data(), value->data() + value->size(), length).ec != std::errc()) {
        return std::nullopt;
    }
    return length;
}

ServerResponse respond(HttpServerState& state, const ServerRequest& request) {
    try {
        return state.handler(request);
    } catch (const std::exception& error) {
        state.diagnostics.warn(
            fmt::format("{} {} failed: {}", request.method, request.path, error.what()));
        ServerResponse response;
        response.status = 500;
        response.body = "internal error\n";
        return response;
    }
}

MHD_Result on_request(void* shared, MHD_Connection* connection, const char* url, const char* method,
                      const char*, const char* upload, std::size_t* upload_size, void** slot) {
    auto& state = *static_cast<HttpServerState*>(shared);
    auto* exchange = static_cast<Exchange*>(*slot);
    if (exchange == nullptr) { // the headers are in; the body, if any, comes next
        exchange = new Exchange;
        *slot = exchange;
        {
            const std::lock_guard lock(state.mutex);
            ++state.in_progress;
        }
        ServerRequest& request = exchange->request;
        request.method = method;
        request.path = url;
        MHD_get_connection_values_n(connection, MHD_HEADER_KIND, collect_header, &request.headers);
        const auto* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        request.peer = numeric_address(info ? info->client_addr : nullptr);
        const auto length = declared_length(request.headers);
        if (length && *length > state.max_body_bytes) {
            exchange->answered = true;
            return send(connection, too_large(state.max_body_bytes));
        }
        return MHD_YES;
    }
    if (*upload_size > 0) {
        std::string& body = exchange->request.body;
        if (body.size() + *upload_size > state.max_body_bytes) {
            return MHD_NO; // no answer can be queued in the middle of a body: hang up
        }
        body.append(upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (exchange->answered) {
        return MHD_YES;
    }
    exchange->answered = true;
    return send(connection, respond(state, exchange->request));
}

void on_completed(void* shared, MHD_Connection*, void** slot, MHD_RequestTerminationCode) {
    auto* exchange = static_cast<Exchange*>(*slot);
    if (exchange == nullptr) {
        return;
    }
    delete exchange;
    *slot = nullptr;
    auto& state = *static_cast<HttpServerState*>(shared);
    const std::lock_guard lock(state.mutex);
    --state.in_progress;
    state.idle.notify_all();
}

void on_log(void* shared, const char* format, va_list arguments) {
    char line[512] = {};
    std::vsnprintf(line, sizeof line, format, arguments);
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    static_cast<HttpServerState*>(shared)->diagnostics.trace("http server: " + text);
}

Error bind_error(const ServerConfig& config, int reason) {
    const std::string where = fmt::format("{} port {}", config.bind_address, config.port);
    if (reason == EADDRINUSE) {
        return Error(ExitStatus::temporary,
                     fmt::format("cannot listen on {}: the port is in use", where),
                     "stop what listens there, or pass another --port");
    }
    if (reason == EACCES || reason == EPERM) {
        return Error(ExitStatus::permission,
                     fmt::format("cannot listen on {}: {}", where, std::strerror(reason)),
                     "ports below 1024 need privileges: use a higher --port behind a proxy");
    }
    return Error(ExitStatus::config,
                 fmt::format("cannot listen on {}: {}", where, std::strerror(reason)));
}

// A listening socket on the numeric address and port of the config.
int listen_socket(const ServerConfig& config) {
    addrinfo hints{};
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(config.port);
    if (getaddrinfo(config.bind_address.c_str(), port.c_str(), &hints, &found) != 0) {
        throw Error(ExitStatus::config,
                    fmt::format("cannot listen on '{}': not a numeric IPv4 or IPv6 address",
                                config.bind_address));
    }
    const std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> address(found, freeaddrinfo);
    const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw bind_error(config, errno);
    }
    const int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (found->ai_family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    }
    if (bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, 128) != 0) {
        const int reason = errno;
        close(fd);
        throw bind_error(config, reason);
    }
    return fd;
}

std::uint16_t bound_port(int fd) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    const std::uint16_t port = address.ss_family == AF_INET6
                                   ? reinterpret_cast<sockaddr_in6*>(&address)->sin6_port
                                   : reinterpret_cast<sockaddr_in*>(&address)->sin_port;
    return ntohs(port);
}

} // namespace

HttpServer::HttpServer(const ServerConfig& config, Handler handler, Diagnostics& diagnostics)
    : m_state(
          new HttpServerState{std::move(handler), diagnostics, config.max_body_bytes, {}, {}, 0}) {
    const int listen_fd = listen_socket(config);
    m_port = bound_port(listen_fd);
    const unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD |
                           MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    m_daemon = MHD_start_daemon(
        flags, 0, nullptr, nullptr, on_request, m_state.get(), MHD_OPTION_LISTEN_SOCKET, listen_fd,
        MHD_OPTION_CONNECTION_LIMIT, config.max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
        config.idle_timeout_seconds, MHD_OPTION_NOTIFY_COMPLETED, on_completed, m_state.get(),
        MHD_OPTION_EXTERNAL_LOGGER, on_log, m_state.get(), MHD_OPTION_END);
    if (m_daemon == nullptr) {
        close(listen_fd);
        throw Error(ExitStatus::internal, "the HTTP server (libmicrohttpd) did not start");
    }
}

HttpServer::~HttpServer() {
    stop(std::chrono::milliseconds(0));
}

void HttpServer::stop(std::chrono::milliseconds grace) {
    if (m_daemon == nullptr) {
        return;
    }
    // The socket is MHD's to close unless quiesced, and must stay open while MHD runs: shut
    // down, it refuses new connections at once.
    const int quiesced = MHD_quiesce_daemon(m_daemon);
    if (quiesced >= 0) {
        shutdown(quiesced, SHUT_RDWR);
    }
    {
        std::unique_lock lock(m_state->mutex);
        m_state->idle.wait_for(lock, grace, [this] { return m_state->in_progress == 0; });
    }
    MHD_stop_daemon(m_daemon);
    m_daemon = nullptr;
    if (quiesced >= 0) {
        close(quiesced);
    }
}

} // namespace sc
