#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

namespace sc {

/// True when `text` is one JSON value as RFC 8259 writes it, with the verdict of
/// nlohmann::json::accept on the same text with every byte above 0x7F replaced by an ASCII
/// letter (such bytes are accepted inside strings only, and are not required to be valid
/// UTF-8), except that a NUL byte is refused wherever it is (nlohmann ends the input there) (a byte-order mark is not skipped). One pass, no allocation beyond a stack of open
/// containers.
bool is_json_text(std::string_view text);

/// Parses JSON text into a document, refusing an object that gives the same key twice (such a
/// document is ambiguous: parsers disagree on which value wins) and any NUL byte. Throws Error (bad input
/// data) naming `input` and the problem.
nlohmann::json parse_json_text(std::string_view text, std::string_view input);

} // namespace sc
