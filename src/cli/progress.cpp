#include "cli/progress.h"

#include <fmt/ostream.h>

#include <iostream>
#include <unistd.h>

namespace sc::cli {
namespace {

int count_of(const std::map<std::string, int>& counts, const std::string& status) {
    const auto it = counts.find(status);
    return it == counts.end() ? 0 : it->second;
}

} // namespace

Progress::Progress(Diagnostics& diagnostics, bool enabled, std::int64_t from, std::int64_t until)
    : m_diagnostics(diagnostics), m_enabled(enabled), m_from(from), m_until(until), m_oldest(until),
      m_start(std::chrono::steady_clock::now()) {}

void Progress::listed(std::int64_t created) {
    ++m_listed;
    if (created < m_oldest) {
        m_oldest = created;
    }
}

void Progress::update(const std::map<std::string, int>& counts) {
    using namespace std::chrono;
    const auto now = steady_clock::now();
    if (!m_enabled || now - m_last_draw < milliseconds(250)) {
        return;
    }
    m_last_draw = now;
    const double seconds = duration<double>(now - m_start).count();
    const int posted = count_of(counts, "posted") + count_of(counts, "would_post");
    const double rate = seconds > 0 ? (m_listed / seconds) : 0;
    const double done = m_until > m_from ? static_cast<double>(m_until - m_oldest) /
                                               static_cast<double>(m_until - m_from)
                                         : 1.0;
    const std::string left = done > 0.01 && done < 1
                                 ? fmt::format(", about {:.0f} s left", seconds * (1 - done) / done)
                                 : "";
    m_diagnostics.write_raw(fmt::format(
        "\r\033[Klisted {}, posted {}, already there {}, skipped {}, {:.0f}/s{}", m_listed.load(),
        posted, count_of(counts, "exists"), count_of(counts, "skipped"), rate, left));
    m_shown = true;
}

void Progress::clear() {
    if (m_shown) {
        m_diagnostics.write_raw("\r\033[K");
        m_shown = false;
    }
}

void Progress::finish() {
    clear();
}

} // namespace sc::cli
