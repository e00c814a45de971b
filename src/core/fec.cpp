#include "core/fec.h"

#include "core/error.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <utility>

namespace sc {
namespace {

constexpr std::array<std::string_view, 18> k_columns = {
    "JournalCode", "JournalLib",  "EcritureNum", "EcritureDate", "CompteNum",     "CompteLib",
    "CompAuxNum",  "CompAuxLib",  "PieceRef",    "PieceDate",    "EcritureLib",   "Debit",
    "Credit",      "EcritureLet", "DateLet",     "ValidDate",    "Montantdevise", "Idevise"};

constexpr char k_separator = '\t';
constexpr char k_unrepresentable = '?';
constexpr int k_number_digits = 6;
constexpr int k_euro_decimals = 2;

using Label = std::pair<std::string_view, std::string_view>;

constexpr std::array<Label, 4> k_journal_labels = {
    {{"VTE", "Ventes"}, {"BQ", "Banque"}, {"OD", "Operations diverses"}, {"ACH", "Achats"}}};

// By prefix of the account number in the Plan Comptable Général.
constexpr std::array<Label, 7> k_account_labels = {
    {{"411", "Clients"},
     {"707", "Ventes de marchandises"},
     {"706", "Prestations de services"},
     {"4457", "TVA collectee"},
     {"627", "Services bancaires et assimiles"},
     {"512", "Banques"},
     {"709", "Rabais remises et ristournes accordes"}}};

// The characters ISO-8859-15 puts where ISO-8859-1 had ¤¦¨´¸¼½¾.
constexpr std::array<std::pair<std::uint32_t, unsigned char>, 8> k_latin9_additions = {{
    {0x20AC, 0xA4}, // €
    {0x0160, 0xA6}, // Š
    {0x0161, 0xA8}, // š
    {0x017D, 0xB4}, // Ž
    {0x017E, 0xB8}, // ž
    {0x0152, 0xBC}, // Œ
    {0x0153, 0xBD}, // œ
    {0x0178, 0xBE}, // Ÿ
}};

char to_char(std::uint32_t byte) {
    return static_cast<char>(static_cast<unsigned char>(byte));
}

// The ISO-8859-15 byte of a code point, or '?' when it has none.
char latin9_byte(std::uint32_t code_point) {
    if (code_point < 0x80) {
        return to_char(code_point);
    }
    for (const auto& [added, byte] : k_latin9_additions) {
        if (code_point == added) {
            return to_char(byte);
        }
        if (code_point == byte) {
            return k_unrepresentable; // a Latin-1 character ISO-8859-15 replaced
        }
    }
    if (code_point >= 0xA0 && code_point <= 0xFF) {
        return to_char(code_point);
    }
    return k_unrepresentable; // C1 controls and everything beyond Latin-1
}

// A text field: no tab, CR or LF (they would break the line), in ISO-8859-15.
std::string field(std::string_view text) {
    std::string cleaned(text);
    for (char& c : cleaned) {
        if (c == '\t' || c == '\r' || c == '\n') {
            c = ' ';
        }
    }
    return to_latin9(cleaned);
}

std::string_view label_of(std::string_view code, const auto& labels) {
    for (const auto& [known, label] : labels) {
        if (code == known) {
            return label;
        }
    }
    return code;
}

std::string_view account_label(std::string_view account) {
    for (const auto& [prefix, label] : k_account_labels) {
        if (account.starts_with(prefix)) {
            return label;
        }
    }
    return account;
}

std::uint64_t magnitude(Cents amount) {
    return amount < 0 ? static_cast<std::uint64_t>(-(amount + 1)) + 1
                      : static_cast<std::uint64_t>(amount);
}

// An unsigned amount of minor units with `decimals` digits after a decimal comma.
std::string decimal_comma(std::uint64_t minor_units, int decimals) {
    const auto decimal_count = static_cast<std::size_t>(decimals);
    std::string digits = std::to_string(minor_units);
    if (digits.size() <= decimal_count) {
        digits.insert(0, decimal_count + 1 - digits.size(), '0');
    }
    if (decimal_count > 0) {
        digits.insert(digits.size() - decimal_count, 1, ',');
    }
    return digits;
}

// Euro cents as FEC writes them: `1234,50`, `-0,05`.
std::string euros(Cents cents) {
    const std::string unsigned_text = decimal_comma(magnitude(cents), k_euro_decimals);
    return cents < 0 ? "-" + unsigned_text : unsigned_text;
}

std::string ascii_lowercase(std::string_view text) {
    std::string result(text);
    for (char& c : result) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return result;
}

std::string ascii_uppercase(std::string_view text) {
    std::string result(text);
    for (char& c : result) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return result;
}

// AAAAMMJJ.
std::string fec_date(CivilDate day) {
    return fmt::format("{:04}{:02}{:02}", day.year, day.month, day.day);
}

Cents total_debit(const Entry& entry) {
    Cents total = 0;
    for (const EntryLine& line : entry.lines) {
        total += line.debit;
    }
    return total;
}

Cents total_credit(const Entry& entry) {
    Cents total = 0;
    for (const EntryLine& line : entry.lines) {
        total += line.credit;
    }
    return total;
}

void check_writable(const Entry& entry) {
    if (entry.lines.empty()) {
        throw Error(
            ExitStatus::data_error,
            fmt::format("cannot write the entry '{}' to the FEC: it has no lines", entry.libelle));
    }
    if (!fec_entry_balanced(entry)) {
        throw Error(ExitStatus::data_error,
                    fmt::format("cannot write the entry '{}' to the FEC: its debits ({}) differ "
                                "from its credits ({})",
                                entry.libelle, euros(total_debit(entry)),
                                euros(total_credit(entry))));
    }
}

} // namespace

std::string fec_header() {
    std::string header;
    for (const std::string_view column : k_columns) {
        if (!header.empty()) {
            header += k_separator;
        }
        header += column;
    }
    header += '\n';
    return header;
}

std::string to_latin9(std::string_view utf8) {
    std::string result;
    result.reserve(utf8.size());
    std::size_t position = 0;
    while (position < utf8.size()) {
        const auto lead = static_cast<unsigned char>(utf8[position]);
        if (lead < 0x80) {
            result += to_char(lead);
            ++position;
            continue;
        }
        // The sequence's length, the lead byte's payload, and the range of the second byte
        // that rules out overlong forms, surrogates and code points beyond U+10FFFF.
        std::size_t length = 0;
        std::uint32_t code_point = 0;
        unsigned char second_low = 0x80;
        unsigned char second_high = 0xBF;
        if (lead >= 0xC2 && lead <= 0xDF) {
            length = 2;
            code_point = lead & 0x1Fu;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            length = 3;
            code_point = lead & 0x0Fu;
            second_low = lead == 0xE0 ? 0xA0 : 0x80;
            second_high = lead == 0xED ? 0x9F : 0xBF;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            length = 4;
            code_point = lead & 0x07u;
            second_low = lead == 0xF0 ? 0x90 : 0x80;
            second_high = lead == 0xF4 ? 0x8F : 0xBF;
        } else {
            result += k_unrepresentable; // a stray continuation byte or an impossible lead
            ++position;
            continue;
        }
        // An incomplete sequence becomes a single '?' for its valid prefix.
        std::size_t consumed = 1;
        while (consumed < length && position + consumed < utf8.size()) {
            const auto byte = static_cast<unsigned char>(utf8[position + consumed]);
            const unsigned char low = consumed == 1 ? second_low : 0x80;
            const unsigned char high = consumed == 1 ? second_high : 0xBF;
            if (byte < low || byte > high) {
                break;
            }
            code_point = (code_point << 6) | (byte & 0x3Fu);
            ++consumed;
        }
        result += consumed == length ? latin9_byte(code_point) : k_unrepresentable;
        position += consumed;
    }
    return result;
}

bool fec_entry_balanced(const Entry& entry) {
    return total_debit(entry) == total_credit(entry);
}

std::string FecWriter::lines(const Entry& entry, std::string_view piece_ref) {
    check_writable(entry);
    const std::int64_t number = ++m_last_number_by_journal[entry.journal];

    const std::string journal_code = field(entry.journal);
    const std::string journal_label = field(label_of(entry.journal, k_journal_labels));
    const std::string entry_number = fmt::format("{}{:0{}}", journal_code, number, k_number_digits);
    const std::string date = fec_date(entry.date);
    const std::string piece = field(piece_ref.empty() ? "-" : piece_ref);
    const std::string libelle = field(entry.libelle.empty() ? "/" : entry.libelle);
    const std::string currency =
        entry.foreign_currency ? field(ascii_uppercase(*entry.foreign_currency)) : "";
    const int currency_decimals =
        entry.foreign_currency ? currency_exponent(ascii_lowercase(*entry.foreign_currency)) : 0;

    std::string text;
    for (const EntryLine& line : entry.lines) {
        const std::string tiers = line.tiers_email ? field(*line.tiers_email) : "";
        const bool has_foreign_amount = entry.foreign_currency && line.foreign;
        const std::array<std::string, k_columns.size()> columns = {
            journal_code,
            journal_label,
            entry_number,
            date,
            field(line.account),
            field(account_label(line.account)),
            tiers,
            tiers,
            piece,
            date,
            libelle,
            euros(line.debit),
            euros(line.credit),
            "",
            "",
            date,
            has_foreign_amount ? decimal_comma(magnitude(*line.foreign), currency_decimals) : "",
            has_foreign_amount ? currency : "",
        };
        for (std::size_t index = 0; index < columns.size(); ++index) {
            if (index > 0) {
                text += k_separator;
            }
            text += columns[index];
        }
        text += '\n';
    }
    return text;
}

} // namespace sc
