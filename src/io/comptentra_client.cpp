#include "io/comptentra_client.h"

#include "core/redact.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace sc {
namespace {

using nlohmann::json;

constexpr int k_page_size = 100;
constexpr int k_max_pages = 20;

bool is_success(const HttpResult& result) {
    return result.failure == TransportFailure::none && result.status >= 200 && result.status < 300;
}

bool is_retryable(const HttpResult& result) {
    return result.failure == TransportFailure::not_sent ||
           result.failure == TransportFailure::ambiguous || result.status == 429 ||
           result.status >= 500;
}

// A field of a JSON object as text: a string as it is, a number written out, else empty.
std::string text_field(const json& object, std::string_view key) {
    if (!object.is_object()) {
        return {};
    }
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) {
        return {};
    }
    return it->is_string() ? it->get<std::string>() : it->dump();
}

// Whether a listed entry has the documented fields with their types (an id may be a number).
bool is_entry(const json& stored) {
    const auto is_text = [&stored](std::string_view key) {
        const auto it = stored.find(key);
        return it != stored.end() && it->is_string();
    };
    const auto id = stored.is_object() ? stored.find("id") : stored.end();
    return stored.is_object() && id != stored.end() && (id->is_string() || id->is_number()) &&
           is_text("date") && is_text("journal") && is_text("libelle");
}

// Throws Error (69) unless the page is `{"data": [entries...]}`.
void check_entry_list(const json& body, const std::string& origin) {
    const bool listed = body.is_object() && body.contains("data") && body["data"].is_array() &&
                        std::all_of(body["data"].begin(), body["data"].end(), is_entry);
    if (!listed) {
        throw Error(ExitStatus::refused,
                    fmt::format("Comptentra {}: the entry list is not the expected JSON "
                                "({{\"data\": [entries with id, date, journal, libelle], "
                                "\"has_more\": ...}})",
                                origin));
    }
}

bool has_more(const json& page) {
    const auto it = page.find("has_more");
    return it != page.end() && it->is_boolean() && it->get<bool>();
}

std::optional<Milliseconds> server_delay(const HttpResult& result) {
    const auto header = result.header("Retry-After");
    return header ? parse_retry_after(*header) : std::nullopt;
}

// The API's own words for a failed request: `code: message` from its JSON error body.
std::string api_message(const HttpResult& result) {
    const json body = json::parse(result.body, nullptr, false);
    if (body.is_object() && body.contains("error") && body["error"].is_object()) {
        const json& error = body["error"];
        const std::string code = text_field(error, "code");
        const std::string message = text_field(error, "message");
        if (!message.empty()) {
            return printable(code.empty() ? message : fmt::format("{}: {}", code, message));
        }
    }
    return "no error message";
}

} // namespace

// One POST and what it proved.
struct ComptentraClient::Attempt {
    std::optional<BookResult> result; ///< set when the attempt settled the entry's fate
    bool in_doubt = false;            ///< the server may have stored it
    std::optional<Milliseconds> delay;
    std::string problem;
};

ComptentraClient::ComptentraClient(HttpClient& http, ComptentraConfig config, Waiter& waiter,
                                   Diagnostics& diagnostics)
    : m_http(http), m_config(std::move(config)), m_waiter(waiter), m_diagnostics(diagnostics) {
    m_config.base_url = checked_base_url(std::move(m_config.base_url), "Comptentra",
                                         "set COMPTENTRA_URL or pass --comptentra-url");
}

HttpRequest ComptentraClient::request(std::string method, std::string path_and_query) const {
    HttpRequest request;
    request.method = std::move(method);
    request.url = m_config.base_url + path_and_query;
    request.headers = {{"X-API-Key", m_config.api_key}, {"Accept", "application/json"}};
    return request;
}

HttpResult ComptentraClient::send_with_retries(const HttpRequest& request) {
    RetryBudget budget(m_config.retry, m_waiter);
    while (true) {
        HttpResult result = m_http.send(request);
        m_diagnostics.trace(fmt::format("{} {} -> {}", request.method, request.url,
                                        result.failure == TransportFailure::none
                                            ? std::to_string(result.status)
                                            : result.error));
        if (!is_retryable(result)) {
            return result;
        }
        if (!budget.wait_for_next(server_delay(result))) {
            throw Error(ExitStatus::temporary,
                        fmt::format("Comptentra {}: still failing after {} attempts: {}",
                                    url_origin(m_config.base_url), budget.attempts(),
                                    result.failure == TransportFailure::none
                                        ? fmt::format("HTTP {}", result.status)
                                        : result.error),
                        "nothing was lost: run the same command again later");
        }
    }
}

namespace {

[[noreturn]] void throw_refusal(const std::string& origin, const HttpResult& result) {
    if (result.failure == TransportFailure::refused) {
        throw Error(ExitStatus::config, result.error);
    }
    if (result.status == 401 || result.status == 403) {
        throw Error(ExitStatus::permission,
                    fmt::format("Comptentra {} refused the API key: HTTP {} {}", origin,
                                result.status, api_message(result)),
                    "check COMPTENTRA_API_KEY or --comptentra-key");
    }
    throw Error(ExitStatus::refused, fmt::format("Comptentra {}: HTTP {} {}", origin, result.status,
                                                 api_message(result)));
}

} // namespace

std::optional<std::string> ComptentraClient::find_entry(const std::string& journal,
                                                        const std::string& libelle) {
    const std::string origin = url_origin(m_config.base_url);
    int offset = 0;
    for (int page = 0; page < k_max_pages; ++page) {
        const HttpResult result = send_with_retries(request(
            "GET", fmt::format("/ecritures?journal={}&libelle={}&limit={}&offset={}",
                               url_encode(journal), url_encode(libelle), k_page_size, offset)));
        if (!is_success(result)) {
            throw_refusal(origin, result);
        }
        const json body = json::parse(result.body, nullptr, false);
        check_entry_list(body, origin);
        bool filtered = true;
        for (const json& stored : body["data"]) {
            const std::string stored_libelle = text_field(stored, "libelle");
            const std::string stored_journal = text_field(stored, "journal");
            if (const std::string id = text_field(stored, "id");
                stored_libelle == libelle && stored_journal == journal && !id.empty()) {
                return id;
            }
            filtered = filtered && stored_journal == journal &&
                       stored_libelle.find(libelle) != std::string::npos;
        }
        if (!filtered) {
            if (!m_warned_unfiltered) {
                m_warned_unfiltered = true;
                m_diagnostics.warn(fmt::format(
                    "Comptentra {} ignores list filters: only its newest {} entries can be "
                    "searched, so an older entry of the same charge would go unseen",
                    origin, k_page_size));
            }
            return std::nullopt;
        }
        if (!has_more(body) || body["data"].empty()) {
            return std::nullopt;
        }
        offset += static_cast<int>(body["data"].size());
    }
    m_diagnostics.warn(
        fmt::format("stopped searching for '{}' after {} pages", libelle, k_max_pages));
    return std::nullopt;
}

ComptentraClient::Attempt ComptentraClient::post_once(const Entry& entry, const std::string& body,
                                                      const std::string& key) {
    HttpRequest post = request("POST", "/ecritures");
    post.headers.emplace_back("Content-Type", "application/json");
    post.headers.emplace_back("Idempotency-Key", key);
    post.body = body;
    const HttpResult result = m_http.send(post);
    m_diagnostics.trace(fmt::format(
        "POST {} ({}) -> {}", post.url, entry.libelle,
        result.failure == TransportFailure::none ? std::to_string(result.status) : result.error));
    Attempt attempt;
    if (is_success(result)) {
        const json stored = json::parse(result.body, nullptr, false);
        if (const std::string id = text_field(stored, "id"); !id.empty()) {
            const bool replayed = result.header("Idempotent-Replayed").value_or("") == "true";
            attempt.result = BookResult{
                replayed ? BookStatus::exists : BookStatus::posted, id, {}, ExitStatus::ok};
            return attempt;
        }
        attempt.in_doubt = true;
        attempt.problem = fmt::format("HTTP {} without an entry id", result.status);
        return attempt;
    }
    if (is_retryable(result)) {
        attempt.in_doubt = result.failure != TransportFailure::not_sent && result.status != 429;
        attempt.delay = server_delay(result);
        attempt.problem = result.failure == TransportFailure::none
                              ? fmt::format("HTTP {} {}", result.status, api_message(result))
                              : result.error;
        return attempt;
    }
    const std::string origin = url_origin(m_config.base_url);
    if (result.failure == TransportFailure::refused || result.status == 401 ||
        result.status == 403) {
        throw_refusal(origin, result);
    }
    attempt.result = BookResult{BookStatus::failed,
                                {},
                                fmt::format("Comptentra {} refused the entry: HTTP {} {}", origin,
                                            result.status, api_message(result)),
                                ExitStatus::refused};
    return attempt;
}

BookResult ComptentraClient::book(const Entry& entry, const std::string& idempotency_key) {
    if (auto id = find_entry(entry.journal, entry.libelle)) {
        return BookResult{BookStatus::exists, *id, {}, ExitStatus::ok};
    }
    return post_missing(entry, idempotency_key);
}

bool ComptentraClient::list_libelles(
    const std::string& journal, CivilDate from, CivilDate to,
    const std::function<void(const std::string& libelle, const std::string& id)>& on_entry) {
    return list_entries(journal, from, to, [&on_entry](const json& stored) {
        on_entry(text_field(stored, "libelle"), text_field(stored, "id"));
    });
}

bool ComptentraClient::list_entries(const std::string& journal, CivilDate from, CivilDate to,
                                    const std::function<void(const json& entry)>& on_entry) {
    const std::string origin = url_origin(m_config.base_url);
    const std::string first_day = to_iso(from);
    const std::string last_day = to_iso(to);
    std::string previous_first_id;
    // Far more than any period holds; a server still saying "has_more" then is broken.
    constexpr std::size_t k_max_index_pages = 50'000;
    for (std::size_t offset = 0, page_number = 0;; ++page_number) {
        if (page_number == k_max_index_pages) {
            throw Error(ExitStatus::refused,
                        fmt::format("Comptentra {}: the entry list did not end after {} pages",
                                    origin, k_max_index_pages));
        }
        const HttpResult result = send_with_retries(request(
            "GET", fmt::format("/ecritures?journal={}&date_from={}&date_to={}&limit={}&offset={}",
                               url_encode(journal), first_day, last_day, k_page_size, offset)));
        if (!is_success(result)) {
            throw_refusal(origin, result);
        }
        const json body = json::parse(result.body, nullptr, false);
        check_entry_list(body, origin);
        const json& page = body["data"];
        const std::string first_id = page.empty() ? "" : text_field(page.front(), "id");
        if (offset > 0 && first_id == previous_first_id) {
            return false; // the offset is ignored: the same page came back
        }
        previous_first_id = first_id;
        for (const json& stored : page) {
            const std::string date = text_field(stored, "date");
            if (text_field(stored, "journal") != journal || date < first_day || date > last_day) {
                return false; // an unfiltered list: it proves nothing about the period
            }
            on_entry(stored);
        }
        if (!has_more(body) || page.empty()) {
            break;
        }
        offset += page.size();
    }
    return true;
}

BookResult ComptentraClient::post_missing(const Entry& entry, const std::string& idempotency_key) {
    const std::string body = to_json(entry).dump();
    RetryBudget budget(m_config.retry, m_waiter);
    while (true) {
        const Attempt attempt = post_once(entry, body, idempotency_key);
        if (attempt.result) {
            return *attempt.result;
        }
        const bool more = budget.wait_for_next(attempt.delay);
        // The server may have stored the entry: only a lookup that does not find it allows
        // another POST, so that a server ignoring Idempotency-Key cannot store it twice.
        if (attempt.in_doubt) {
            if (auto id = find_entry(entry.journal, entry.libelle)) {
                return BookResult{BookStatus::posted, *id, {}, ExitStatus::ok};
            }
        }
        if (!more) {
            throw Error(ExitStatus::temporary,
                        fmt::format("Comptentra {}: could not store {} after {} attempts: {}",
                                    url_origin(m_config.base_url), entry.libelle, budget.attempts(),
                                    attempt.problem),
                        "nothing was stored twice: run the same command again later");
        }
    }
}

} // namespace sc
