#pragma once

#include <stdexcept>
#include <string>

namespace sc {

/// The process exit statuses of the command-line contract.
enum class ExitStatus : int {
    ok = 0,
    negative = 1,      ///< a negative answer: bad signature, differences found
    usage = 2,         ///< the command line is wrong
    data_error = 65,   ///< an input is malformed or unsupported
    no_input = 66,     ///< an input file is missing or unreadable
    refused = 69,      ///< a remote API refused a request
    internal = 70,     ///< a bug or an unexpected condition
    temporary = 75,    ///< a temporary failure: run again later
    permission = 77,   ///< authentication or permission refused
    config = 78,       ///< the configuration is missing or invalid
    interrupted = 130, ///< stopped by SIGINT or SIGTERM
};

/// The integer value of an exit status.
constexpr int to_int(ExitStatus status) {
    return static_cast<int>(status);
}

/// The more severe of two statuses: a batch exits with the highest one.
constexpr ExitStatus worst(ExitStatus a, ExitStatus b) {
    return to_int(a) >= to_int(b) ? a : b;
}

/// The one error type of the project: a message for a person, an exit status for the shell,
/// and an optional hint saying what to do about it.
class Error : public std::runtime_error {
  public:
    Error(ExitStatus status, const std::string& message, std::string hint = {});

    /// The exit status this error ends the process with.
    ExitStatus status() const { return m_status; }
    /// What the person can do about it; empty when there is nothing to add.
    const std::string& hint() const { return m_hint; }

  private:
    ExitStatus m_status;
    std::string m_hint;
};

} // namespace sc
