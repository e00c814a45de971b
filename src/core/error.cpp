#include "core/error.h"

#include <utility>

namespace sc {

Error::Error(ExitStatus status, const std::string& message, std::string hint)
    : std::runtime_error(message), m_status(status), m_hint(std::move(hint)) {}

} // namespace sc
