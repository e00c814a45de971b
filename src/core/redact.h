#pragma once

#include <string>
#include <string_view>

namespace sc {

/// A form of a secret that is safe to show: its well-known prefix and at most its last four
/// characters, e.g. `sk_test_…abcd`. Short or unknown secrets show less.
std::string redact(std::string_view secret);

/// The secret without surrounding spaces, tabs, carriage returns and newlines.
std::string_view trim_whitespace(std::string_view text);

/// The text with control characters and invalid UTF-8 bytes written as \xNN, so that text
/// from an input or a server cannot drive the terminal; printable UTF-8 is kept.
std::string printable(std::string_view text);

} // namespace sc
