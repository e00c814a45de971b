#pragma once

#include "core/error.h"
#include "io/comptentra_client.h"

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <map>
#include <optional>
#include <string>

namespace sc::cli {

/// The result of one item of a batch.
struct ItemResult {
    std::string input;  ///< path, `path:line` or `<stdin>`
    std::string id;     ///< the Stripe object's id, when known
    std::string status; ///< `valid`, `invalid`, `too_old`, `posted`, `skipped`, ...
    std::optional<std::string> entry_id;
    std::string reason; ///< why, for anything but success
    std::string note;   ///< what a person should know of a successful result, if anything
    std::optional<nlohmann::ordered_json> entry; ///< the entry, for a dry run
    ExitStatus exit = ExitStatus::ok;            ///< what this item contributes to the exit status
};

/// Fills a result from the outcome of booking its entry: status `posted`, `exists` or
/// `failed`, the reason, the exit status and the entry id when there is one.
void set_booking(ItemResult& result, const BookResult& booked);

/// The message of an error about `input` without the input's name in front of it.
std::string reason_for(const std::string& input, const Error& error);

/// Which item's status a batch exits with.
enum class ExitRule {
    highest, ///< the highest among the items (a batch)
    first,   ///< the first that is not success (a sequence of checks)
    service  ///< none: a service's results are kept aside, its exit says how it stopped
};

/// How a batch is reported.
struct ReportStyle {
    ExitRule exit_rule = ExitRule::highest;
    std::string noun = "inputs";   ///< names the items in the summary: "3 inputs: ..."
    bool always_summarise = false; ///< a summary line even for a single item, or none
    bool flush_each = false;       ///< flush stdout after each result, for logs of long runs
};

/// Prints a batch's results as lines for a person or as JSON Lines, counts them, and
/// works out the exit status by its rule.
class Reporter {
  public:
    Reporter(std::ostream& out, std::ostream& err, bool json, ReportStyle style = {})
        : m_out(out), m_err(err), m_json(json), m_style(std::move(style)) {}

    /// Prints one result on stdout.
    void item(const ItemResult& result);

    /// Counts one result without printing it (a text listing leaves routine results out).
    void tally(const ItemResult& result) { count(result.status, result.exit); }

    /// Reports an error that stopped the batch: an error line on stderr; the exit status
    /// becomes at least the error's.
    void fatal(const Error& error);

    /// How many results of each status so far.
    const std::map<std::string, int>& counts() const { return m_counts; }

    /// Reports an input that could not be processed: an error line on stderr and, with
    /// --json, an `invalid` result on stdout.
    void problem(const std::string& input, const Error& error);

    /// Prints the summary (the JSON summary object, or a line on stderr for several items)
    /// and returns the exit status.
    int finish();

  private:
    void count(const std::string& status, ExitStatus exit);
    void print_json(const ItemResult& result);

    std::ostream& m_out;
    std::ostream& m_err;
    bool m_json;
    ReportStyle m_style;
    std::map<std::string, int> m_counts;
    ExitStatus m_exit = ExitStatus::ok;
};

} // namespace sc::cli
