#pragma once

#include <iosfwd>
#include <mutex>
#include <string_view>

namespace sc {

/// Where warnings and, with --verbose, traces of requests go: stderr, never stdout. Safe to
/// share between threads.
class Diagnostics {
  public:
    Diagnostics(std::ostream& err, bool verbose) : m_err(err), m_verbose(verbose) {}

    /// Prints `stripe-comptentra: warning: <message>`.
    void warn(std::string_view message);
    /// Prints the line only with --verbose.
    void trace(std::string_view message);
    /// Writes `text` as it is (a progress line redrawn in place), then flushes.
    void write_raw(std::string_view text);

  private:
    std::ostream& m_err;
    bool m_verbose;
    std::mutex m_mutex;
};

} // namespace sc
