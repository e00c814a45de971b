#pragma once

#include "core/entry.h"
#include "core/error.h"
#include "io/diagnostics.h"
#include "io/http_client.h"
#include "io/retry.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>

namespace sc {

/// Where and how to reach Comptentra.
struct ComptentraConfig {
    std::string base_url; ///< e.g. https://app.comptentra.servolution.fr/api/v1
    std::string api_key;
    RetryPolicy retry;
};

/// What booking one entry came to.
enum class BookStatus {
    posted, ///< this run stored it
    exists, ///< the books already held it
    failed  ///< it could not be stored: `reason` and `exit` say why
};

/// The outcome of booking one entry.
struct BookResult {
    BookStatus status = BookStatus::failed;
    std::string entry_id; ///< Comptentra's id, when there is one
    std::string reason;
    ExitStatus exit = ExitStatus::ok;
};

/// The Comptentra API, used so that an entry is stored exactly once: it looks an entry up by
/// its libellé before posting, sends an idempotency key, and resolves every ambiguous failure
/// by looking the entry up again before any new POST. It works against a server that has only
/// the documented calls. Authentication failures and failures that outlast the retries throw
/// Error (77 or 75): every later request would fail the same way.
class ComptentraClient {
  public:
    ComptentraClient(HttpClient& http, ComptentraConfig config, Waiter& waiter,
                     Diagnostics& diagnostics);

    /// The id of the entry of this journal with exactly this libellé; nothing when the books
    /// hold none (as far as the server lets us see).
    std::optional<std::string> find_entry(const std::string& journal, const std::string& libelle);

    /// Stores the entry unless the books hold it already. `idempotency_key` must be the same
    /// on every run for the same Stripe object.
    BookResult book(const Entry& entry, const std::string& idempotency_key);

    /// Stores an entry that a fresh read of the books showed missing: like book() without the
    /// first lookup. Ambiguous failures are still resolved by a lookup before any new POST.
    BookResult post_missing(const Entry& entry, const std::string& idempotency_key);

    /// Calls `on_entry` with the libellé and id of every entry of `journal` dated from `from`
    /// to `to`, reading the books page by page. Returns false when the server ignores the list
    /// filters: its list cannot tell what the period holds, and the entries passed so far are
    /// to be forgotten.
    bool list_libelles(
        const std::string& journal, CivilDate from, CivilDate to,
        const std::function<void(const std::string& libelle, const std::string& id)>& on_entry);

    /// Calls `on_entry` with every entry of `journal` dated from `from` to `to`, as listed,
    /// reading the books page by page; returns false like list_libelles().
    bool list_entries(const std::string& journal, CivilDate from, CivilDate to,
                      const std::function<void(const nlohmann::json& entry)>& on_entry);

  private:
    struct Attempt;
    HttpResult send_with_retries(const HttpRequest& request);
    HttpRequest request(std::string method, std::string path_and_query) const;
    Attempt post_once(const Entry& entry, const std::string& body, const std::string& key);

    HttpClient& m_http;
    ComptentraConfig m_config;
    Waiter& m_waiter;
    Diagnostics& m_diagnostics;
    bool m_warned_unfiltered = false;
};

} // namespace sc
