#include "core/capture.h"

#include "core/error.h"
#include "core/http_headers.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace sc {
namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    return text;
}

// Splits off the next line (without its CRLF or LF); nothing when there is no line end.
std::optional<std::string_view> next_line(std::string_view& rest) {
    const auto newline = rest.find('\n');
    if (newline == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline + 1);
    if (line.ends_with('\r')) {
        line.remove_suffix(1);
    }
    return line;
}

Error malformed(std::string_view input, std::string_view problem) {
    return Error(ExitStatus::data_error,
                 fmt::format("{}: malformed HTTP capture: {}", input, problem));
}

std::optional<std::size_t> parse_size(std::string_view text, int base) {
    std::size_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value, base);
    if (text.empty() || ec != std::errc{} || ptr != end) {
        return std::nullopt;
    }
    return value;
}

std::string decode_chunked(std::string_view rest, std::string_view input) {
    std::string body;
    while (true) {
        const auto size_line = next_line(rest);
        if (!size_line) {
            throw malformed(input, "the chunked body ends before its last chunk");
        }
        const auto size = parse_size(trim(size_line->substr(0, size_line->find(';'))), 16);
        if (!size) {
            throw malformed(input, "a chunk size is not hexadecimal");
        }
        if (*size == 0) {
            return body;
        }
        if (*size > rest.size()) {
            throw malformed(input, "a chunk is shorter than its size");
        }
        body.append(rest.substr(0, *size));
        rest.remove_prefix(*size);
        if (!next_line(rest)) {
            throw malformed(input, "a chunk is not followed by a line end");
        }
    }
}

} // namespace

std::optional<std::string_view> HttpCapture::header(std::string_view name) const {
    return find_header(headers, name);
}

bool looks_like_capture(std::string_view bytes) {
    const auto line_end = bytes.find('\n');
    const std::string_view line = bytes.substr(0, line_end);
    const auto first_space = line.find(' ');
    if (first_space == 0 || first_space == std::string_view::npos ||
        !std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(first_space),
                     [](char c) { return c >= 'A' && c <= 'Z'; })) {
        return false;
    }
    return trim(line.substr(line.rfind(' ') + 1)).starts_with("HTTP/1.");
}

HttpCapture parse_capture(std::string_view bytes, std::string_view input) {
    std::string_view rest = bytes;
    const auto request_line = next_line(rest);
    if (!request_line || !looks_like_capture(bytes)) {
        throw malformed(input, "no request line such as 'POST /stripe-webhook HTTP/1.1'");
    }
    HttpCapture capture;
    const auto first_space = request_line->find(' ');
    const auto last_space = request_line->rfind(' ');
    capture.method = std::string(request_line->substr(0, first_space));
    capture.target =
        std::string(trim(request_line->substr(first_space + 1, last_space - first_space)));
    while (true) {
        const auto line = next_line(rest);
        if (!line) {
            throw malformed(input, "the headers are not followed by an empty line");
        }
        if (line->empty()) {
            break;
        }
        const auto colon = line->find(':');
        if (colon == std::string_view::npos || trim(line->substr(0, colon)).empty()) {
            throw malformed(input, fmt::format("header line '{}' has no name", trim(*line)));
        }
        capture.headers.emplace_back(std::string(trim(line->substr(0, colon))),
                                     std::string(trim(line->substr(colon + 1))));
    }
    const auto encoding = capture.header("Transfer-Encoding");
    if (encoding && iequals(*encoding, "chunked")) {
        capture.body = decode_chunked(rest, input);
    } else if (const auto length_text = capture.header("Content-Length")) {
        const auto length = parse_size(*length_text, 10);
        if (!length) {
            throw malformed(input,
                            fmt::format("Content-Length '{}' is not a number", *length_text));
        }
        if (*length > rest.size()) {
            throw malformed(input, fmt::format("Content-Length is {} but the body has {} bytes",
                                               *length, rest.size()));
        }
        capture.body = std::string(rest.substr(0, *length));
    } else {
        capture.body = std::string(rest);
    }
    return capture;
}

std::string format_capture(const HttpCapture& capture) {
    std::string bytes = fmt::format("{} {} HTTP/1.1\r\n", capture.method, capture.target);
    for (const auto& [name, value] : capture.headers) {
        if (!iequals(name, "Content-Length") && !iequals(name, "Transfer-Encoding")) {
            bytes += fmt::format("{}: {}\r\n", name, value);
        }
    }
    bytes += fmt::format("Content-Length: {}\r\n\r\n", capture.body.size());
    bytes += capture.body;
    return bytes;
}

} // namespace sc
