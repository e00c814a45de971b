#include "core/json_text.h"

#include "core/error.h"
#include "core/redact.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace sc {
namespace {

using json = nlohmann::json;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// A cursor over JSON text that checks one value at a time.
class SyntaxChecker {
  public:
    explicit SyntaxChecker(std::string_view text) : m_text(text) {}

    bool check() {
        if (!value()) {
            return false;
        }
        skip_blanks();
        return m_pos == m_text.size();
    }

  private:
    // One value, containers included, walked with an explicit stack (no recursion).
    bool value() {
        std::vector<char> open; // '{' or '[' for each container entered
        while (true) {
            skip_blanks();
            if (at('{') || at('[')) {
                const char bracket = m_text[m_pos++];
                skip_blanks();
                const char close = bracket == '{' ? '}' : ']';
                if (at(close)) {
                    ++m_pos;
                } else {
                    open.push_back(bracket);
                    if (bracket == '{' && !member_key()) {
                        return false;
                    }
                    continue;
                }
            } else if (!scalar()) {
                return false;
            }
            // After a value: a comma and the next one, or closing brackets.
            while (true) {
                if (open.empty()) {
                    return true;
                }
                skip_blanks();
                if (at(',')) {
                    ++m_pos;
                    skip_blanks();
                    if (open.back() == '{' && !member_key()) {
                        return false;
                    }
                    break;
                }
                if (!at(open.back() == '{' ? '}' : ']')) {
                    return false;
                }
                ++m_pos;
                open.pop_back();
            }
        }
    }

    // A key and its colon, the value to follow.
    bool member_key() {
        if (!at('"') || !string()) {
            return false;
        }
        skip_blanks();
        if (!at(':')) {
            return false;
        }
        ++m_pos;
        return true;
    }

    bool scalar() {
        if (at('"')) {
            return string();
        }
        if (at('-') || (m_pos < m_text.size() && is_digit(m_text[m_pos]))) {
            return number();
        }
        for (const std::string_view literal : {"true", "false", "null"}) {
            if (m_text.substr(m_pos).starts_with(literal)) {
                m_pos += literal.size();
                return true;
            }
        }
        return false;
    }

    bool string() {
        ++m_pos; // the opening quote
        while (m_pos < m_text.size()) {
            const auto c = static_cast<unsigned char>(m_text[m_pos++]);
            if (c == '"') {
                return true;
            }
            if (c < 0x20) {
                return false;
            }
            if (c == '\\' && !escape()) {
                return false;
            }
        }
        return false;
    }

    bool escape() {
        if (m_pos >= m_text.size()) {
            return false;
        }
        const char c = m_text[m_pos++];
        if (c != 'u') {
            return std::string_view("\"\\/bfnrt").find(c) != std::string_view::npos;
        }
        const auto unit = code_unit();
        if (!unit) {
            return false;
        }
        if (*unit >= 0xDC00 && *unit <= 0xDFFF) {
            return false; // a low surrogate with no high one before it
        }
        if (*unit >= 0xD800 && *unit <= 0xDBFF) {
            if (!m_text.substr(m_pos).starts_with("\\u")) {
                return false;
            }
            m_pos += 2;
            const auto low = code_unit();
            return low && *low >= 0xDC00 && *low <= 0xDFFF;
        }
        return true;
    }

    std::optional<unsigned> code_unit() {
        if (m_text.size() - m_pos < 4) {
            return std::nullopt;
        }
        unsigned unit = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = m_text[m_pos++];
            if (!is_hex(c)) {
                return std::nullopt;
            }
            const unsigned digit = is_digit(c) ? static_cast<unsigned>(c - '0')
                                               : static_cast<unsigned>((c | 0x20) - 'a' + 10);
            unit = unit * 16 + digit;
        }
        return unit;
    }

    bool number() {
        const std::size_t start = m_pos;
        if (at('-')) {
            ++m_pos;
        }
        if (at('0')) {
            ++m_pos;
        } else if (!digits()) {
            return false;
        }
        bool integer = true;
        if (at('.')) {
            ++m_pos;
            integer = false;
            if (!digits()) {
                return false;
            }
        }
        if (at('e') || at('E')) {
            ++m_pos;
            integer = false;
            if (at('+') || at('-')) {
                ++m_pos;
            }
            if (!digits()) {
                return false;
            }
        }
        // The parser reads what does not fit a 64-bit integer as a double, and refuses a
        // number too large for one.
        constexpr std::size_t k_safe_digits = 18;
        if (integer && m_pos - start <= k_safe_digits) {
            return true;
        }
        const std::string token(m_text.substr(start, m_pos - start));
        if (integer) {
            char* end = nullptr;
            errno = 0;
            if (token.starts_with('-')) {
                static_cast<void>(std::strtoll(token.c_str(), &end, 10));
            } else {
                static_cast<void>(std::strtoull(token.c_str(), &end, 10));
            }
            if (errno == 0) {
                return true;
            }
        }
        return std::isfinite(std::strtod(token.c_str(), nullptr));
    }

    bool digits() {
        const std::size_t start = m_pos;
        while (m_pos < m_text.size() && is_digit(m_text[m_pos])) {
            ++m_pos;
        }
        return m_pos > start;
    }

    void skip_blanks() {
        while (m_pos < m_text.size() && (m_text[m_pos] == ' ' || m_text[m_pos] == '\t' ||
                                         m_text[m_pos] == '\n' || m_text[m_pos] == '\r')) {
            ++m_pos;
        }
    }

    bool at(char c) const { return m_pos < m_text.size() && m_text[m_pos] == c; }

    std::string_view m_text;
    std::size_t m_pos = 0;
};

// Builds the document from the parser's events, as nlohmann's own DOM parser does, and stops
// at the first key an object already holds.
class StrictDomBuilder final : public nlohmann::json_sax<json> {
  public:
    json& document() { return m_document; }
    const std::optional<std::string>& duplicate() const { return m_duplicate; }
    const std::optional<std::string>& error() const { return m_error; }

    bool null() override { return add(nullptr); }
    bool boolean(bool value) override { return add(value); }
    bool number_integer(number_integer_t value) override { return add(value); }
    bool number_unsigned(number_unsigned_t value) override { return add(value); }
    bool number_float(number_float_t value, const string_t& /*text*/) override {
        return add(value);
    }
    bool string(string_t& value) override { return add(std::move(value)); }
    bool binary(binary_t& value) override { return add(json::binary(std::move(value))); }
    bool start_object(std::size_t /*size*/) override { return open(json::object()); }
    bool key(string_t& value) override {
        auto& members = m_open.back()->get_ref<json::object_t&>();
        const auto [member, added] = members.try_emplace(std::move(value));
        if (!added) {
            m_duplicate = member->first;
            return false;
        }
        m_member = &member->second;
        return true;
    }
    bool end_object() override { return close(); }
    bool start_array(std::size_t /*size*/) override { return open(json::array()); }
    bool end_array() override { return close(); }
    bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                     const nlohmann::detail::exception& error) override {
        m_error = error.what();
        return false;
    }

  private:
    bool add(json value) {
        if (m_open.empty()) {
            m_document = std::move(value);
            m_last = &m_document;
        } else if (m_open.back()->is_array()) {
            m_open.back()->push_back(std::move(value));
            m_last = &m_open.back()->back();
        } else {
            *m_member = std::move(value);
            m_last = m_member;
        }
        return true;
    }

    bool open(json container) {
        add(std::move(container));
        m_open.push_back(m_last);
        return true;
    }

    bool close() {
        m_open.pop_back();
        return true;
    }

    json m_document;
    std::vector<json*> m_open; // the containers being filled, innermost last
    json* m_member = nullptr;  // where the value of the last key goes
    json* m_last = nullptr;    // the value added last
    std::optional<std::string> m_duplicate;
    std::optional<std::string> m_error;
};

// The parser's message without its exception tag, with any byte that is not printable ASCII
// (the parser quotes the input) written as \xNN so that the terminal only sees text.
std::string describe_json_error(std::string_view message) {
    if (const auto end = message.find("] ");
        message.starts_with("[json.exception") && end != std::string_view::npos) {
        message.remove_prefix(end + 2);
    }
    return printable(message);
}

} // namespace

bool is_json_text(std::string_view text) { return SyntaxChecker(text).check(); }

json parse_json_text(std::string_view text, std::string_view input) {
    // nlohmann's parser takes a NUL byte for the end of the input, and would ignore what follows.
    if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
        throw Error(ExitStatus::data_error,
                    fmt::format("{}: malformed JSON: a NUL byte at offset {}", input, nul));
    }
    StrictDomBuilder builder;
    json::sax_parse(text, &builder);
    if (builder.duplicate()) {
        throw Error(ExitStatus::data_error,
                    fmt::format("{}: the key '{}' appears twice in one object", input,
                                printable(*builder.duplicate())));
    }
    if (builder.error()) {
        throw Error(ExitStatus::data_error, fmt::format("{}: malformed JSON: {}", input,
                                                        describe_json_error(*builder.error())));
    }
    return std::move(builder.document());
}

} // namespace sc
