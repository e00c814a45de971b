#include "io/http_client.h"

#include "core/error.h"
#include "core/http_headers.h"
#include "core/redact.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cctype>
#include <stdexcept>

namespace sc {
namespace {

// The parts of a URL, as libcurl parses them.
struct UrlParts {
    std::string scheme;
    std::string host;
    std::string port;
};

std::optional<UrlParts> parse_url(std::string_view url) {
    CURLU* handle = curl_url();
    if (handle == nullptr) {
        throw std::bad_alloc();
    }
    UrlParts parts;
    const std::string text(url);
    bool ok = curl_url_set(handle, CURLUPART_URL, text.c_str(), 0) == CURLUE_OK;
    const std::pair<CURLUPart, std::string*> wanted[] = {{CURLUPART_SCHEME, &parts.scheme},
                                                         {CURLUPART_HOST, &parts.host},
                                                         {CURLUPART_PORT, &parts.port}};
    for (const auto& [part, target] : wanted) {
        char* value = nullptr;
        if (ok && curl_url_get(handle, part, &value, 0) == CURLUE_OK) {
            *target = value;
        }
        curl_free(value);
    }
    curl_url_cleanup(handle);
    return ok ? std::optional(parts) : std::nullopt;
}

bool is_loopback(std::string_view host) {
    in_addr address{};
    return host == "localhost" || host == "[::1]" ||
           (inet_pton(AF_INET, std::string(host).c_str(), &address) == 1 &&
            (ntohl(address.s_addr) >> 24) == 127);
}

TransportFailure classify(CURLcode code) {
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
        return TransportFailure::not_sent;
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION: // the server is not who it claims: never retried
    case CURLE_SSL_CACERT_BADFILE:
        return TransportFailure::refused;
    default:
        return TransportFailure::ambiguous;
    }
}

// Replaces in a response body the credentials the request carried, in case the server quotes
// them back in an error message that is then printed.
void hide_credentials(const HttpRequest& request, std::string& body) {
    constexpr std::string_view k_bearer = "Bearer ";
    constexpr std::size_t k_shortest_secret = 8;
    for (const auto& [name, value] : request.headers) {
        if (!iequals(name, "Authorization") && !iequals(name, "X-API-Key")) {
            continue;
        }
        std::string_view secret = value;
        if (secret.starts_with(k_bearer)) {
            secret.remove_prefix(k_bearer.size());
        }
        if (secret.size() < k_shortest_secret) {
            continue;
        }
        const std::string shown = redact(secret);
        for (auto at = body.find(secret); at != std::string::npos;
             at = body.find(secret, at + shown.size())) {
            body.replace(at, secret.size(), shown);
        }
    }
}

// A request body handed to libcurl in pieces, once.
struct BodyReader {
    std::string_view rest;
};

size_t read_body(char* buffer, size_t size, size_t count, void* source) {
    auto& reader = *static_cast<BodyReader*>(source);
    const size_t length = std::min(size * count, reader.rest.size());
    reader.rest.copy(buffer, length);
    reader.rest.remove_prefix(length);
    return length;
}

int refuse_seek(void* /*source*/, curl_off_t /*offset*/, int /*origin*/) {
    return CURL_SEEKFUNC_CANTSEEK;
}

// No answer of these APIs comes near this; a larger one is refused rather than kept in memory.
constexpr std::size_t k_max_response_bytes = 16 * 1024 * 1024;

size_t append_body(char* data, size_t size, size_t count, void* target) {
    auto& body = *static_cast<std::string*>(target);
    if (body.size() + size * count > k_max_response_bytes) {
        return 0; // libcurl then fails the transfer with a write error
    }
    body.append(data, size * count);
    return size * count;
}

size_t append_header(char* data, size_t size, size_t count, void* target) {
    auto& headers = *static_cast<HttpHeaders*>(target);
    std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) {
        headers.clear(); // a new response (after 100 Continue, say) starts over
    }
    const auto colon = line.find(':');
    if (colon != std::string_view::npos) {
        auto value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
            value.remove_prefix(1);
        }
        while (!value.empty() &&
               (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
            value.remove_suffix(1);
        }
        headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    return size * count;
}

// Owns a header list for the duration of one transfer.
class HeaderList {
  public:
    explicit HeaderList(const HttpHeaders& headers) {
        for (const auto& [name, value] : headers) {
            append(fmt::format("{}: {}", name, value));
        }
        append("Expect:"); // no 100-continue round trip before a body
    }
    ~HeaderList() { curl_slist_free_all(m_list); }
    HeaderList(const HeaderList&) = delete;
    HeaderList& operator=(const HeaderList&) = delete;

    curl_slist* get() const { return m_list; }

  private:
    void append(const std::string& line) {
        curl_slist* grown = curl_slist_append(m_list, line.c_str());
        if (grown == nullptr) {
            throw std::bad_alloc();
        }
        m_list = grown;
    }

    curl_slist* m_list = nullptr;
};

} // namespace

std::optional<std::string_view> HttpResult::header(std::string_view name) const {
    return find_header(headers, name);
}

bool is_allowed_url(std::string_view url, std::string& why) {
    const auto parts = parse_url(url);
    if (!parts) {
        why = "it is not a valid URL";
        return false;
    }
    if (parts->scheme == "https") {
        return true;
    }
    if (parts->scheme == "http" && is_loopback(parts->host)) {
        return true;
    }
    why = parts->scheme == "http"
              ? "plain http:// is accepted only for loopback hosts; use https://"
              : fmt::format("the scheme '{}' is not https", parts->scheme);
    return false;
}

std::string url_encode(std::string_view text) {
    std::string encoded;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (std::isalnum(byte) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
            encoded += c;
        } else {
            encoded += fmt::format("%{:02X}", byte);
        }
    }
    return encoded;
}

std::string checked_base_url(std::string url, std::string_view api, std::string_view hint) {
    while (url.ends_with('/')) {
        url.pop_back();
    }
    std::string why;
    if (!is_allowed_url(url, why)) {
        throw Error(ExitStatus::config, fmt::format("{} URL {}: {}", api, url_origin(url), why),
                    std::string(hint));
    }
    return url;
}

std::string url_origin(std::string_view url) {
    const auto parts = parse_url(url);
    if (!parts) {
        return std::string(url.substr(0, url.find('?')));
    }
    return parts->port.empty() ? fmt::format("{}://{}", parts->scheme, parts->host)
                               : fmt::format("{}://{}:{}", parts->scheme, parts->host, parts->port);
}

struct CurlHttpClient::Handle {
    CURL* curl = nullptr;
    std::array<char, CURL_ERROR_SIZE> error{};
};

void init_http() {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        throw std::runtime_error("libcurl could not be initialised");
    }
}

CurlHttpClient::CurlHttpClient(HttpTimeouts timeouts)
    : m_handle(std::make_unique<Handle>()), m_timeouts(timeouts) {
    m_handle->curl = curl_easy_init();
    if (m_handle->curl == nullptr) {
        throw std::runtime_error("libcurl could not create a handle");
    }
}

CurlHttpClient::~CurlHttpClient() {
    curl_easy_cleanup(m_handle->curl);
}

HttpResult CurlHttpClient::send(const HttpRequest& request) {
    HttpResult result;
    std::string why;
    if (!is_allowed_url(request.url, why)) {
        result.failure = TransportFailure::refused;
        result.error = fmt::format("refusing {}: {}", url_origin(request.url), why);
        return result;
    }
    CURL* curl = m_handle->curl;
    curl_easy_reset(curl); // keeps the live connections, DNS and TLS session caches
    const HeaderList headers(request.headers);
    m_handle->error[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L); // libcurl's defaults, set so they stay
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, m_handle->error.data());
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(m_timeouts.connect.count()));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(m_timeouts.total.count()));
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "stripe-comptentra/" SC_VERSION);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, append_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &result.headers);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    BodyReader body{request.body};
    if (request.method == "POST") {
        // The body is streamed through a reader that cannot rewind: libcurl then cannot send a
        // POST a second time by itself (it would, on a reused connection that died without
        // an answer), and reports the failure as ambiguous so that the caller decides.
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_body);
        curl_easy_setopt(curl, CURLOPT_READDATA, &body);
        curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, refuse_seek);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size()));
    } else if (request.method != "GET") {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    const CURLcode code = curl_easy_perform(curl);
    if (code != CURLE_OK) {
        result.failure = classify(code);
        const bool too_large = code == CURLE_WRITE_ERROR; // append_body refused the rest
        result.error = fmt::format(
            "{}: {}", url_origin(request.url),
            too_large ? fmt::format("the answer is larger than {} MiB", k_max_response_bytes >> 20)
            : m_handle->error[0] != '\0' ? m_handle->error.data()
                                         : curl_easy_strerror(code));
        result.body.clear();
        return result;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
    hide_credentials(request, result.body);
    return result;
}

} // namespace sc
