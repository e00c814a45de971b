#pragma once

#include "io/http_client.h"
#include "io/retry.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sc::testing {

/// One request a fake client was sent and the answer it gave.
struct Exchange {
    HttpRequest request;
    HttpResult result;
};

/// An HttpClient that records every request and answers from a scripted queue, then from a
/// callback. A request that neither can answer fails the test and gets a 418 answer, which no
/// client retries.
class FakeHttp final : public HttpClient {
  public:
    using Handler = std::function<HttpResult(const HttpRequest&)>;

    /// Queues the answer to the next unanswered request.
    void push(HttpResult result) { m_script.push_back(std::move(result)); }

    /// Answers every request that the queue does not.
    void respond_with(Handler handler) { m_handler = std::move(handler); }

    HttpResult send(const HttpRequest& request) override {
        HttpResult result;
        if (!m_script.empty()) {
            result = std::move(m_script.front());
            m_script.pop_front();
        } else if (m_handler) {
            result = m_handler(request);
        } else {
            ADD_FAILURE() << "unexpected request: " << request.method << ' ' << request.url;
            result.status = 418;
        }
        m_exchanges.push_back(Exchange{request, result});
        return result;
    }

    /// Every request and its answer, in order.
    const std::vector<Exchange>& exchanges() const { return m_exchanges; }

    /// The request number `index`.
    const HttpRequest& request(std::size_t index) const { return m_exchanges.at(index).request; }

    /// The methods of the requests, in order: `{"GET", "POST", "GET"}`.
    std::vector<std::string> methods() const {
        std::vector<std::string> methods;
        for (const auto& exchange : m_exchanges) {
            methods.push_back(exchange.request.method);
        }
        return methods;
    }

    /// How many requests used `method`.
    std::size_t count(std::string_view method) const {
        return static_cast<std::size_t>(
            std::count_if(m_exchanges.begin(), m_exchanges.end(), [&](const Exchange& exchange) {
                return exchange.request.method == method;
            }));
    }

    /// Scripted answers not yet used.
    std::size_t unused() const { return m_script.size(); }

  private:
    std::deque<HttpResult> m_script;
    Handler m_handler;
    std::vector<Exchange> m_exchanges;
};

/// A Waiter that records each wait and moves a fake clock forward instead of sleeping.
class FakeWaiter final : public Waiter {
  public:
    void wait(Milliseconds duration) override {
        m_waits.push_back(duration);
        m_now += duration;
    }
    std::chrono::steady_clock::time_point now() override { return m_now; }

    /// Moves the clock forward, as a slow request would.
    void advance(Milliseconds duration) { m_now += duration; }

    /// Every wait, in order.
    const std::vector<Milliseconds>& waits() const { return m_waits; }

    /// The sum of the waits.
    Milliseconds total_waited() const {
        Milliseconds total{0};
        for (const auto wait : m_waits) {
            total += wait;
        }
        return total;
    }

  private:
    std::chrono::steady_clock::time_point m_now{std::chrono::hours(1000)};
    std::vector<Milliseconds> m_waits;
};

/// A complete response.
inline HttpResult http_response(long status, std::string body = {}, HttpHeaders headers = {}) {
    HttpResult result;
    result.status = status;
    result.body = std::move(body);
    result.headers = std::move(headers);
    return result;
}

/// A response with a JSON body.
inline HttpResult json_response(long status, const nlohmann::json& body, HttpHeaders headers = {}) {
    headers.emplace_back("Content-Type", "application/json");
    return http_response(status, body.dump(), std::move(headers));
}

/// An error response in the API's format: `{"error": {"code": ..., "message": ...}}`.
inline HttpResult api_error(long status, std::string code, std::string message,
                            HttpHeaders headers = {}) {
    return json_response(status, {{"error", {{"code", code}, {"message", message}}}},
                         std::move(headers));
}

/// A transfer that failed before a complete response arrived.
inline HttpResult transport_failure(TransportFailure failure,
                                    std::string error = "https://comptentra.test: timed out") {
    HttpResult result;
    result.failure = failure;
    result.error = std::move(error);
    return result;
}

/// The first header of that name in a request, compared without case.
inline std::optional<std::string> header_of(const HttpRequest& request, std::string_view name) {
    for (const auto& [key, value] : request.headers) {
        if (std::equal(key.begin(), key.end(), name.begin(), name.end(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) ==
                       std::tolower(static_cast<unsigned char>(b));
            })) {
            return value;
        }
    }
    return std::nullopt;
}

/// The URL without its query.
inline std::string without_query(std::string_view url) {
    return std::string(url.substr(0, url.find('?')));
}

/// Decodes `%XX` escapes (and `+` as a space) of a query component.
inline std::string url_decode(std::string_view text) {
    std::string decoded;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            decoded +=
                static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else if (text[i] == '+') {
            decoded += ' ';
        } else {
            decoded += text[i];
        }
    }
    return decoded;
}

/// The raw (still encoded) query parameters of a URL, in order.
inline std::vector<std::pair<std::string, std::string>> raw_query(std::string_view url) {
    std::vector<std::pair<std::string, std::string>> parameters;
    const auto question = url.find('?');
    if (question == std::string_view::npos) {
        return parameters;
    }
    std::string_view rest = url.substr(question + 1);
    rest = rest.substr(0, rest.find('#'));
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view item = rest.substr(0, amp);
        const auto equals = item.find('=');
        parameters.emplace_back(std::string(item.substr(0, equals)),
                                equals == std::string_view::npos
                                    ? std::string()
                                    : std::string(item.substr(equals + 1)));
        if (amp == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(amp + 1);
    }
    return parameters;
}

/// The decoded value of the first query parameter of that name.
inline std::optional<std::string> query_parameter(std::string_view url, std::string_view name) {
    for (const auto& [key, value] : raw_query(url)) {
        if (key == name) {
            return url_decode(value);
        }
    }
    return std::nullopt;
}

} // namespace sc::testing
