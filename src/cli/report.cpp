#include "cli/report.h"

#include "cli/common_options.h"

#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <ostream>
#include <string_view>

namespace sc::cli {

namespace {

// Appends `text` as a JSON string: as it stands when it is plain printable ASCII (most inputs,
// ids and reasons), else through the JSON library, which escapes it and replaces invalid UTF-8.
void append_json_string(std::string& line, std::string_view text) {
    const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
        return c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
    });
    if (plain) {
        line += '"';
        line += text;
        line += '"';
    } else {
        line += nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
}

void append_member(std::string& line, std::string_view key, std::string_view value) {
    line += ",\"";
    line += key;
    line += "\":";
    append_json_string(line, value);
}

} // namespace

void Reporter::print_json(const ItemResult& result) {
    std::string line = "{\"input\":";
    append_json_string(line, result.input);
    line += ",\"id\":";
    if (result.id.empty()) {
        line += "null";
    } else {
        append_json_string(line, result.id);
    }
    append_member(line, "status", result.status);
    if (result.entry_id) {
        append_member(line, "entry_id", *result.entry_id);
    }
    if (!result.reason.empty()) {
        append_member(line, "reason", result.reason);
    }
    if (!result.note.empty()) {
        append_member(line, "note", result.note);
    }
    if (result.entry) {
        line += ",\"entry\":";
        line += result.entry->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    line += "}\n";
    m_out << line;
    if (m_style.flush_each) {
        m_out.flush();
    }
}

void Reporter::count(const std::string& status, ExitStatus exit) {
    ++m_counts[status];
    if (m_style.exit_rule == ExitRule::service) {
        return;
    }
    const bool keep_first = m_style.exit_rule == ExitRule::first && m_exit != ExitStatus::ok;
    m_exit = keep_first ? m_exit : worst(m_exit, exit);
}

void Reporter::item(const ItemResult& result) {
    count(result.status, result.exit);
    if (m_json) {
        return print_json(result);
    }
    std::string text = fmt::format("{}: {}", result.input, result.status);
    if (!result.id.empty()) {
        text += fmt::format(" {}", result.id);
    }
    if (result.entry_id) {
        text += fmt::format(" {}", *result.entry_id);
    }
    if (!result.reason.empty()) {
        text += fmt::format(": {}", result.reason);
    }
    if (!result.note.empty()) {
        text += fmt::format(" ({})", result.note);
    }
    if (result.entry) {
        text += fmt::format(" {}", result.entry->dump());
    }
    m_out << text << '\n';
    if (m_style.flush_each) {
        m_out.flush();
    }
}

void set_booking(ItemResult& result, const BookResult& booked) {
    result.status = booked.status == BookStatus::posted   ? "posted"
                    : booked.status == BookStatus::exists ? "exists"
                                                          : "failed";
    result.reason = booked.reason;
    result.exit = booked.exit;
    if (!booked.entry_id.empty()) {
        result.entry_id = booked.entry_id;
    }
}

std::string reason_for(const std::string& input, const Error& error) {
    std::string_view reason = error.what();
    if (const std::string prefix = input + ": "; reason.starts_with(prefix)) {
        reason.remove_prefix(prefix.size());
    }
    return std::string(reason);
}

void Reporter::problem(const std::string& input, const Error& error) {
    print_error(m_err, error.what(), error.hint());
    count("invalid", error.status());
    if (m_json) {
        ItemResult result;
        result.input = input;
        result.status = "invalid";
        result.reason = reason_for(input, error);
        result.exit = error.status();
        print_json(result);
    }
}

void Reporter::fatal(const Error& error) {
    print_error(m_err, fmt::format("stopped: {}", error.what()), error.hint());
    m_exit = worst(m_exit, error.status());
}

int Reporter::finish() {
    if (m_json) {
        nlohmann::ordered_json summary;
        summary["summary"] = nlohmann::ordered_json::object();
        for (const auto& [status, count] : m_counts) {
            summary["summary"][status] = count;
        }
        summary["exit_status"] = to_int(m_exit);
        m_out << summary.dump() << '\n';
    } else {
        int total = 0;
        std::string counts;
        for (const auto& [status, count] : m_counts) {
            total += count;
            counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", count, status);
        }
        if (total > 1 || m_style.always_summarise) {
            fmt::print(m_err, "{} {}: {}\n", total, m_style.noun, counts.empty() ? "none" : counts);
        }
    }
    m_out.flush();
    return to_int(m_exit);
}

} // namespace sc::cli
