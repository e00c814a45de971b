#include "io/diagnostics.h"

#include <ostream>

namespace sc {

void Diagnostics::warn(std::string_view message) {
    const std::lock_guard lock(m_mutex);
    m_err << "stripe-comptentra: warning: " << message << '\n';
}

void Diagnostics::trace(std::string_view message) {
    if (m_verbose) {
        const std::lock_guard lock(m_mutex);
        m_err << "stripe-comptentra: " << message << '\n';
    }
}

void Diagnostics::write_raw(std::string_view text) {
    const std::lock_guard lock(m_mutex);
    m_err << text;
    m_err.flush();
}

} // namespace sc
