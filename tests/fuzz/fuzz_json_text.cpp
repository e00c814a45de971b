// Fuzz target: the JSON syntax check that `verify` runs on every signed body, against the
// verdict of nlohmann's parser on the same bytes with every byte above 0x7F made ASCII (and
// no NUL byte), and the strict parser, which must agree with nlohmann's on every document
// without a repeated key.
#include "core/error.h"
#include "core/json_text.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    std::string ascii(bytes);
    for (char& c : ascii) {
        if (static_cast<unsigned char>(c) >= 0x80) {
            c = 'x';
        }
    }
    // nlohmann takes a NUL byte for the end of the input; JSON has no place for one.
    const bool accepted = ascii.find('\0') == std::string::npos && nlohmann::json::accept(ascii);
    check(sc::is_json_text(bytes) == accepted);
    check(sc::is_json_text(ascii) == accepted);
    try {
        const nlohmann::json document = sc::parse_json_text(ascii, "fuzz.json");
        check(accepted);
        check(document == nlohmann::json::parse(ascii));
    } catch (const sc::Error& error) {
        check(error.status() == sc::ExitStatus::data_error);
        const std::string_view message = error.what();
        check(message.starts_with("fuzz.json: "));
        // Refused while nlohmann accepts: only for a key given twice.
        check(!accepted || message.find("appears twice") != std::string_view::npos);
    }
    return 0;
}
