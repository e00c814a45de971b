#include "cli/reconcile_report.h"

#include "core/redact.h"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <ostream>

namespace sc::cli {
namespace {

using nlohmann::ordered_json;

constexpr std::array k_kinds = {DifferenceKind::missing, DifferenceKind::duplicate,
                                DifferenceKind::mismatch, DifferenceKind::orphan,
                                DifferenceKind::invalid};

std::string entry_ids(const ReconcileItem& item, std::string_view separator) {
    std::string ids;
    for (const StoredEntry& entry : item.difference.found) {
        ids += fmt::format("{}{}", ids.empty() ? "" : separator, printable(entry.id));
    }
    return ids;
}

// The detail for a person, with what --fix did.
std::string detail_of(const ReconcileItem& item) {
    std::string detail = printable(item.difference.detail);
    if (item.fix_status == std::optional<std::string>("posted")) {
        detail += ": posted now";
    } else if (item.fix_status) {
        detail += fmt::format(": not posted: {}", printable(item.fix_reason));
    }
    return detail;
}

void print_json_item(std::ostream& out, const ReconcileItem& item) {
    const Difference& difference = item.difference;
    ordered_json line;
    line["kind"] = std::string(to_string(difference.kind));
    line["charge"] = difference.charge;
    line["date"] = difference.date;
    line["entry_ids"] = ordered_json::array();
    for (const StoredEntry& entry : difference.found) {
        line["entry_ids"].push_back(entry.id);
    }
    line["expected"] = difference.expected ? to_json(*difference.expected) : ordered_json();
    line["found"] = ordered_json::array();
    for (const StoredEntry& entry : difference.found) {
        line["found"].push_back(to_json(entry));
    }
    line["reason"] = difference.detail;
    if (item.fix_status) {
        line["status"] = *item.fix_status;
        if (!item.fix_reason.empty()) {
            line["fix_reason"] = item.fix_reason;
        }
    }
    out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

// A CSV field (RFC 4180), defused for spreadsheets that run a leading = + - @ as a formula.
std::string csv_field(std::string text) {
    if (!text.empty() && std::string_view("=+-@").find(text.front()) != std::string_view::npos) {
        text = "'" + text;
    }
    if (text.find_first_of(",\"\r\n") == std::string::npos) {
        return text;
    }
    std::string quoted = "\"";
    for (const char c : text) {
        quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    }
    return quoted + '"';
}

void print_csv(std::ostream& out, const std::vector<ReconcileItem>& items) {
    out << "kind,charge,date,entry_ids,detail\n";
    for (const ReconcileItem& item : items) {
        out << fmt::format("{},{},{},{},{}\n", to_string(item.difference.kind),
                           csv_field(printable(item.difference.charge)),
                           csv_field(printable(item.difference.date)),
                           csv_field(entry_ids(item, " ")), csv_field(detail_of(item)));
    }
}

void print_table(std::ostream& out, const std::vector<ReconcileItem>& items) {
    std::vector<std::array<std::string, 5>> rows = {
        {"KIND", "CHARGE", "DATE", "ENTRIES", "DETAIL"}};
    for (const ReconcileItem& item : items) {
        const std::string ids = entry_ids(item, ", ");
        rows.push_back({std::string(to_string(item.difference.kind)),
                        printable(item.difference.charge), printable(item.difference.date),
                        ids.empty() ? "-" : ids, detail_of(item)});
    }
    std::array<std::size_t, 4> widths{};
    for (const auto& row : rows) {
        for (std::size_t column = 0; column < widths.size(); ++column) {
            widths[column] = std::max(widths[column], row[column].size());
        }
    }
    for (const auto& row : rows) {
        out << fmt::format("{:<{}}  {:<{}}  {:<{}}  {:<{}}  {}\n", row[0], widths[0], row[1],
                           widths[1], row[2], widths[2], row[3], widths[3], row[4]);
    }
}

// `1 charge`, `2 charges`, `2 entries`.
std::string counted(std::size_t count, std::string_view noun) {
    if (count == 1) {
        return fmt::format("1 {}", noun);
    }
    if (noun.ends_with("y")) {
        return fmt::format("{} {}ies", count, noun.substr(0, noun.size() - 1));
    }
    return fmt::format("{} {}s", count, noun);
}

bool is_left(const ReconcileItem& item) {
    return item.fix_status != std::optional<std::string>("posted");
}

std::string summary_line(const std::vector<ReconcileItem>& items, const ReconcileTotals& totals) {
    std::map<DifferenceKind, int> left;
    std::size_t fixed = 0;
    for (const ReconcileItem& item : items) {
        if (is_left(item)) {
            ++left[item.difference.kind];
        } else {
            ++fixed;
        }
    }
    std::string counts;
    int differences = 0;
    for (const DifferenceKind kind : k_kinds) {
        if (left[kind] > 0) {
            differences += left[kind];
            counts +=
                fmt::format("{}{} {}", counts.empty() ? "" : ", ", left[kind], to_string(kind));
        }
    }
    const std::string objects = totals.refunds == 0
                                    ? counted(totals.charges, "charge")
                                    : fmt::format("{}, {}", counted(totals.charges, "charge"),
                                                  counted(totals.refunds, "refund"));
    const std::string scope =
        fmt::format("{} and {}", objects, counted(totals.entries + fixed, "entry"));
    std::string line;
    if (!totals.complete) {
        line = fmt::format("{}: stopped before the end, the books are not known to match; {} so "
                           "far over {}",
                           totals.period,
                           counted(static_cast<std::size_t>(differences), "difference"), scope);
    } else if (differences == 0) {
        line = fmt::format("{}: the books match Stripe ({})", totals.period, scope);
    } else {
        line = fmt::format("{}: {} ({}) over {}", totals.period,
                           counted(static_cast<std::size_t>(differences), "difference"), counts,
                           scope);
    }
    if (fixed > 0) {
        line += fmt::format("; {} posted", counted(fixed, "missing entry"));
    }
    return line;
}

void print_json_summary(std::ostream& out, const std::vector<ReconcileItem>& items,
                        const ReconcileTotals& totals, ExitStatus exit) {
    ordered_json counts;
    counts["charges"] = totals.charges;
    counts["refunds"] = totals.refunds;
    counts["entries"] = totals.entries;
    for (const DifferenceKind kind : k_kinds) {
        counts[std::string(to_string(kind))] = 0;
    }
    int fixed = 0;
    for (const ReconcileItem& item : items) {
        if (is_left(item)) {
            counts[std::string(to_string(item.difference.kind))] =
                counts[std::string(to_string(item.difference.kind))].get<int>() + 1;
        } else {
            ++fixed;
        }
    }
    counts["entries"] = totals.entries + static_cast<std::size_t>(fixed);
    counts["fixed"] = fixed;
    ordered_json summary;
    summary["summary"] = counts;
    summary["exit_status"] = to_int(exit);
    out << summary.dump() << '\n';
}

} // namespace

int print_reconcile_report(std::ostream& out, std::ostream& err, ReconcileFormat format, bool quiet,
                           std::vector<ReconcileItem> items, const ReconcileTotals& totals,
                           ExitStatus fatal) {
    std::sort(items.begin(), items.end(), [](const ReconcileItem& a, const ReconcileItem& b) {
        return std::tie(a.difference.kind, a.difference.date, a.difference.charge) <
               std::tie(b.difference.kind, b.difference.date, b.difference.charge);
    });
    ExitStatus exit = fatal;
    for (const ReconcileItem& item : items) {
        exit = worst(exit, is_left(item) ? worst(item.exit, ExitStatus::negative) : item.exit);
    }
    const bool silent = quiet && items.empty() && exit == ExitStatus::ok;
    if (format == ReconcileFormat::json) {
        for (const ReconcileItem& item : items) {
            print_json_item(out, item);
        }
        if (!silent) {
            print_json_summary(out, items, totals, exit);
        }
    } else if (!silent) {
        if (format == ReconcileFormat::csv) {
            print_csv(out, items);
        } else if (!items.empty()) {
            print_table(out, items);
        }
        std::ostream& summary = format == ReconcileFormat::csv ? err : out;
        summary << summary_line(items, totals) << '\n';
    }
    out.flush();
    return to_int(exit);
}

} // namespace sc::cli
