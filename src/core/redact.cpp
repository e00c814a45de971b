#include "core/redact.h"

#include <array>

namespace sc {

std::string_view trim_whitespace(std::string_view text) {
    constexpr std::string_view k_space = " \t\r\n";
    const auto first = text.find_first_not_of(k_space);
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(k_space);
    return text.substr(first, last - first + 1);
}

std::string redact(std::string_view secret) {
    constexpr std::array<std::string_view, 7> k_prefixes = {
        "whsec_", "sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_"};
    constexpr std::size_t k_shown_tail = 4;
    constexpr std::size_t k_min_hidden = 8;

    const std::string_view trimmed = trim_whitespace(secret);
    std::string_view prefix;
    for (const auto candidate : k_prefixes) {
        if (trimmed.starts_with(candidate)) {
            prefix = candidate;
            break;
        }
    }
    std::string shown(prefix);
    shown += "…";
    if (trimmed.size() >= prefix.size() + k_shown_tail + k_min_hidden) {
        shown += trimmed.substr(trimmed.size() - k_shown_tail);
    }
    return shown;
}

} // namespace sc
