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

namespace {

// The length of the valid UTF-8 sequence at the start of `text` that encodes a printable
// character (not a C1 control), or 0.
std::size_t printable_utf8_length(std::string_view text) {
    const auto lead = static_cast<unsigned char>(text[0]);
    const std::size_t length = lead >= 0xf0 && lead <= 0xf4   ? 4
                               : lead >= 0xe0                 ? (lead <= 0xef ? 3 : 0)
                               : lead >= 0xc2 && lead <= 0xdf ? 2
                                                              : 0;
    if (length == 0 || text.size() < length) {
        return 0;
    }
    unsigned long code = lead & (0x7fU >> length);
    for (std::size_t i = 1; i < length; ++i) {
        const auto next = static_cast<unsigned char>(text[i]);
        if ((next & 0xc0U) != 0x80U) {
            return 0;
        }
        code = (code << 6) | (next & 0x3fU);
    }
    const bool overlong = (length == 3 && code < 0x800) || (length == 4 && code < 0x10000);
    const bool invalid = overlong || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff;
    return invalid || code <= 0x9f ? 0 : length;
}

} // namespace

std::string printable(std::string_view text) {
    constexpr char k_hex[] = "0123456789abcdef";
    std::string shown;
    shown.reserve(text.size());
    while (!text.empty()) {
        const auto byte = static_cast<unsigned char>(text[0]);
        std::size_t length = byte >= 0x20 && byte < 0x7f ? 1 : 0;
        if (byte >= 0x80) {
            length = printable_utf8_length(text);
        }
        if (length > 0) {
            shown.append(text.substr(0, length));
            text.remove_prefix(length);
            continue;
        }
        shown += "\\x";
        shown += k_hex[byte >> 4];
        shown += k_hex[byte & 0x0f];
        text.remove_prefix(1);
    }
    return shown;
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
