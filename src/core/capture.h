#pragma once

#include "core/http_headers.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sc {

/// A saved HTTP request: request line, headers, and the body exactly as received.
struct HttpCapture {
    std::string method;
    std::string target;
    HttpHeaders headers; ///< in order, values trimmed
    std::string body;

    /// The first header of that name, compared without case; nothing when absent.
    std::optional<std::string_view> header(std::string_view name) const;
};

/// True when the bytes start with an HTTP/1.x request line (`POST /path HTTP/1.1`).
bool looks_like_capture(std::string_view bytes);

/// Parses a capture: request line, headers, an empty line, then the body (CRLF or LF line
/// ends). `Content-Length` is honoured and a chunked body is decoded. Throws Error (bad input
/// data) naming `input` when the capture is malformed or shorter than it says.
HttpCapture parse_capture(std::string_view bytes, std::string_view input);

/// The bytes of a capture file: the request line (`METHOD TARGET HTTP/1.1`), the headers but
/// `Content-Length` and `Transfer-Encoding`, a `Content-Length` of the body, an empty line and
/// the body as it stands, with CRLF line ends. parse_capture() gives the request back.
std::string format_capture(const HttpCapture& capture);

} // namespace sc
