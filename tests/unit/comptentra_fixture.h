#pragma once

// Shared pieces of the Comptentra client tests: an in-memory Comptentra whose POSTs can be
// scripted to fail, and a fixture that builds a client on it.

#include "core/entry.h"
#include "core/error.h"
#include "io/comptentra_client.h"
#include "io/diagnostics.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <deque>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fake_http.h"

namespace sc {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::api_error;
using testing::FakeHttp;
using testing::FakeWaiter;
using testing::header_of;
using testing::http_response;
using testing::json_response;
using testing::query_parameter;
using testing::raw_query;
using testing::transport_failure;
using testing::without_query;

constexpr std::string_view k_base = "https://comptentra.test/api/v1";
constexpr std::string_view k_key = "ct_live_Qz8-NEVER-SHOW-THIS-KEY-7d41";
constexpr std::string_view k_key_core = "NEVER-SHOW-THIS-KEY";

Entry a_sale(std::string_view charge_id = "ch_1") {
    Entry entry{CivilDate{2026, 11, 30}, "VTE", sale_libelle(charge_id), {}};
    entry.lines = {{"411000", "client@example.fr", 12000, 0},
                   {"707000", std::nullopt, 0, 10000},
                   {"445712", std::nullopt, 0, 2000}};
    return entry;
}

json stored(std::string id, std::string libelle, std::string journal = "VTE") {
    return {{"id", std::move(id)},
            {"date", "2026-11-30"},
            {"journal", std::move(journal)},
            {"libelle", std::move(libelle)},
            {"lignes", json::array()}};
}

HttpResult list(std::vector<json> entries, bool has_more = false) {
    return json_response(200, {{"data", entries}, {"has_more", has_more}});
}

// What the server did with one POST, and what the client heard of it.
enum class Fate {
    created,            ///< stored; 201 with the entry
    created_no_id,      ///< stored; 201 whose body has no id
    stored_then_lost,   ///< stored; the connection dropped before the answer (ambiguous)
    lost_before_server, ///< not stored; the connection dropped after sending (ambiguous)
    stored_then_500,    ///< stored; then 500
    rejected_500,       ///< not stored; 500
    rejected_502,       ///< not stored; 502
    rejected_503,       ///< not stored; 503
    rejected_504,       ///< not stored; 504
    not_sent,           ///< never reached the server
    rate_limited,       ///< not stored; 429 with Retry-After: 2
};

// An in-memory Comptentra. GET /ecritures honours `journal` and `limit` (documented); it
// honours `libelle` and `offset` only when `honours_extensions`. POST /ecritures meets the
// fates of `post_fates` in turn, then `default_fate`. Entries are listed newest first.
class FakeBooks {
  public:
    explicit FakeBooks(std::string base = std::string(k_base)) : m_base(std::move(base)) {}

    bool honours_extensions = true;
    std::deque<Fate> post_fates;
    Fate default_fate = Fate::created;
    std::vector<json> entries; ///< newest first

    HttpResult operator()(const HttpRequest& request) {
        if (without_query(request.url) != m_base + "/ecritures") {
            ADD_FAILURE() << "unexpected URL " << request.url;
            return api_error(404, "not_found", "no such route");
        }
        if (request.method == "GET") {
            return list_entries(request.url);
        }
        if (request.method == "POST") {
            return post(request.body);
        }
        ADD_FAILURE() << "unexpected method " << request.method;
        return api_error(405, "method_not_allowed", "no");
    }

    // How many stored entries have this libellé.
    int count(const std::string& libelle) const {
        int found = 0;
        for (const auto& entry : entries) {
            found += entry["libelle"] == libelle ? 1 : 0;
        }
        return found;
    }

  private:
    HttpResult list_entries(const std::string& url) const {
        const auto journal = query_parameter(url, "journal");
        const auto libelle = query_parameter(url, "libelle");
        const std::size_t limit = std::stoul(query_parameter(url, "limit").value_or("20"));
        std::size_t offset = 0;
        if (honours_extensions) {
            offset = std::stoul(query_parameter(url, "offset").value_or("0"));
        }
        std::vector<json> matching;
        for (const auto& entry : entries) {
            const auto stored_libelle = entry["libelle"].get<std::string>();
            if (journal && entry["journal"] != *journal) {
                continue;
            }
            if (honours_extensions && libelle &&
                stored_libelle.find(*libelle) == std::string::npos) {
                continue;
            }
            matching.push_back(entry);
        }
        std::vector<json> page;
        for (std::size_t i = offset; i < matching.size() && page.size() < limit; ++i) {
            page.push_back(matching[i]);
        }
        return list(page, offset + page.size() < matching.size());
    }

    HttpResult post(const std::string& body) {
        const Fate fate = post_fates.empty() ? default_fate : post_fates.front();
        if (!post_fates.empty()) {
            post_fates.pop_front();
        }
        json entry = json::parse(body);
        const auto store = [&] {
            entry["id"] = "ECR-" + std::to_string(++m_last_id);
            entries.insert(entries.begin(), entry);
        };
        switch (fate) {
        case Fate::created:
            store();
            return json_response(201, entry);
        case Fate::created_no_id:
            store();
            return http_response(201, "{}");
        case Fate::stored_then_lost:
            store();
            return transport_failure(TransportFailure::ambiguous);
        case Fate::lost_before_server:
            return transport_failure(TransportFailure::ambiguous);
        case Fate::stored_then_500:
            store();
            return api_error(500, "internal", "oops");
        case Fate::rejected_500:
            return api_error(500, "internal", "oops");
        case Fate::rejected_502:
            return api_error(502, "bad_gateway", "upstream");
        case Fate::rejected_503:
            return api_error(503, "unavailable", "maintenance");
        case Fate::rejected_504:
            return api_error(504, "gateway_timeout", "upstream");
        case Fate::not_sent:
            return transport_failure(TransportFailure::not_sent,
                                     "https://comptentra.test: could not connect");
        case Fate::rate_limited:
            return api_error(429, "rate_limited", "slow down", {{"Retry-After", "2"}});
        }
        return api_error(500, "internal", "unreachable");
    }

    std::string m_base;
    int m_last_id = 0;
};

// True when the server may have stored the entry without the client knowing its id.
bool leaves_doubt(const HttpResult& result) {
    if (result.failure == TransportFailure::ambiguous || result.status >= 500) {
        return true;
    }
    if (result.status >= 200 && result.status < 300) {
        const json body = json::parse(result.body, nullptr, false);
        return !body.is_object() || !body.contains("id");
    }
    return false;
}

// No POST follows a POST whose fate is unknown unless a successful lookup came in between.
void expect_no_post_while_in_doubt(const FakeHttp& http) {
    bool in_doubt = false;
    for (std::size_t i = 0; i < http.exchanges().size(); ++i) {
        const auto& [request, result] = http.exchanges()[i];
        if (request.method == "POST") {
            EXPECT_FALSE(in_doubt)
                << "request " << i << " is a POST sent while a previous POST may have been stored";
            in_doubt = leaves_doubt(result);
        } else if (request.method == "GET" && result.failure == TransportFailure::none &&
                   result.status == 200) {
            in_doubt = false;
        }
    }
}

class ComptentraClientTest : public ::testing::Test {
  protected:
    static ComptentraConfig config(std::string base_url = std::string(k_base)) {
        ComptentraConfig config;
        config.base_url = std::move(base_url);
        config.api_key = std::string(k_key);
        config.retry.max_attempts = 4;
        return config;
    }

    ComptentraClient client(ComptentraConfig settings = config()) {
        return ComptentraClient(http, std::move(settings), waiter, diagnostics);
    }

    int warnings() const {
        const std::string text = err.str();
        int count = 0;
        for (auto at = text.find("warning:"); at != std::string::npos;
             at = text.find("warning:", at + 1)) {
            ++count;
        }
        return count;
    }

    FakeHttp http;
    FakeWaiter waiter;
    std::ostringstream err;
    Diagnostics diagnostics{err, true};
};

using ComptentraFindEntry = ComptentraClientTest;
using ComptentraBook = ComptentraClientTest;
using ComptentraExactlyOnce = ComptentraClientTest;
using ComptentraRefusal = ComptentraClientTest;
using ComptentraConfigTest = ComptentraClientTest;
} // namespace
} // namespace sc
