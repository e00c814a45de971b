#pragma once

#include "core/error.h"

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
    std::string reason;                          ///< why, for anything but success
    std::optional<nlohmann::ordered_json> entry; ///< the entry, for a dry run
    ExitStatus exit = ExitStatus::ok;            ///< what this item contributes to the exit status
};

/// The message of an error about `input` without the input's name in front of it.
std::string reason_for(const std::string& input, const Error& error);

/// Which item's status a batch exits with.
enum class ExitRule {
    highest, ///< the highest among the items (a batch)
    first    ///< the first that is not success (a sequence of checks)
};

/// Prints a batch's results as lines for a person or as JSON Lines, counts them, and
/// works out the exit status by its rule.
class Reporter {
  public:
    /// `noun` names the items in the summary line: "3 inputs: 2 posted, 1 skipped".
    Reporter(std::ostream& out, std::ostream& err, bool json, ExitRule rule = ExitRule::highest,
             std::string noun = "inputs")
        : m_out(out), m_err(err), m_json(json), m_rule(rule), m_noun(std::move(noun)) {}

    /// Prints one result on stdout.
    void item(const ItemResult& result);

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
    ExitRule m_rule;
    std::string m_noun;
    std::map<std::string, int> m_counts;
    ExitStatus m_exit = ExitStatus::ok;
};

} // namespace sc::cli
