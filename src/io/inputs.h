#pragma once

#include "core/error.h"

#include <cstddef>
#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <vector>

namespace sc {

/// One item to process: a whole file, one line of a JSON Lines file, or a capture's body.
struct InputItem {
    std::string label;                    ///< the path, `path:line`, or `<stdin>`
    std::string body;                     ///< the raw bytes, never re-encoded
    std::optional<std::string> signature; ///< a capture's Stripe-Signature header
    bool from_capture = false;            ///< true when the item came from an HTTP capture
};

/// The largest item accepted, in bytes; a larger one is bad input data.
inline constexpr std::size_t k_max_item_bytes = 8 * 1024 * 1024;

/// Called with each item, in order.
using ItemHandler = std::function<void(InputItem&)>;
/// Called with the name of each input that cannot be read or split into items, and the error
/// (whose message starts with that name); the batch goes on.
using ProblemHandler = std::function<void(const std::string& input, const Error&)>;

/// Reads PATH arguments: files, directories (their regular files in name order, hidden files
/// left out), or `-` for `stdin`. Each file is read once and streamed: a JSON Lines file yields
/// one item per non-blank line, an HTTP capture its body and signature, anything else one item.
/// An exception thrown by a handler stops the reading and propagates.
void read_inputs(const std::vector<std::string>& paths, std::istream& stdin_stream,
                 const ItemHandler& on_item, const ProblemHandler& on_problem);

/// The exact bytes of one file, or of `stdin` for `-`. Throws Error (input missing or
/// unreadable, or larger than the item limit).
std::string read_raw_input(const std::string& path, std::istream& stdin_stream);

} // namespace sc
