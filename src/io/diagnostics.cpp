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

} // namespace sc
