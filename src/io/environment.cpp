#include "io/environment.h"

#include <chrono>
#include <cstdlib>

namespace sc {

std::optional<std::string> SystemEnvironment::get(std::string_view name) const {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr || *value == '\0') {
        return std::nullopt;
    }
    return std::string(value);
}

std::optional<std::string> MapEnvironment::get(std::string_view name) const {
    const auto it = m_variables.find(name);
    if (it == m_variables.end() || it->second.empty()) {
        return std::nullopt;
    }
    return it->second;
}

std::int64_t unix_now() {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    return std::chrono::duration_cast<std::chrono::seconds>(now).count();
}

} // namespace sc
