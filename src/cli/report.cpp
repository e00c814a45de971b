#include "cli/report.h"

#include "cli/common_options.h"

#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include <ostream>

namespace sc::cli {

void Reporter::print_json(const ItemResult& result) {
    nlohmann::ordered_json line;
    line["input"] = result.input;
    line["id"] = result.id.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(result.id);
    line["status"] = result.status;
    if (result.entry_id) {
        line["entry_id"] = *result.entry_id;
    }
    if (!result.reason.empty()) {
        line["reason"] = result.reason;
    }
    m_out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

void Reporter::item(const ItemResult& result) {
    ++m_counts[result.status];
    m_exit = worst(m_exit, result.exit);
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
    m_out << text << '\n';
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
    ++m_counts["invalid"];
    m_exit = worst(m_exit, error.status());
    if (m_json) {
        print_json(ItemResult{
            input, {}, "invalid", std::nullopt, reason_for(input, error), error.status()});
    }
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
        if (total > 1) {
            fmt::print(m_err, "{} inputs: {}\n", total, counts);
        }
    }
    m_out.flush();
    return to_int(m_exit);
}

} // namespace sc::cli
