#include "core/reconcile.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <tuple>

namespace sc {
namespace {

using nlohmann::json;

constexpr std::string_view k_sale_prefix = "Paiement Stripe ";
constexpr std::string_view k_refund_prefix = "Remboursement Stripe ";

std::string text_of(const json& object, std::string_view key) {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) {
        return {};
    }
    return it->is_string() ? it->get<std::string>() : it->dump();
}

// An amount of a stored line: a non-negative integer within the ledger's range.
std::optional<Cents> amount_of(const json& line, std::string_view key) {
    const auto it = line.find(key);
    if (it == line.end()) {
        return Cents{0};
    }
    if (it->is_number_unsigned()) {
        const std::uint64_t value = it->get<std::uint64_t>();
        return value <= std::uint64_t{k_max_cents} ? std::optional<Cents>(static_cast<Cents>(value))
                                                   : std::nullopt;
    }
    if (it->is_number_integer()) {
        const std::int64_t value = it->get<std::int64_t>();
        return value >= 0 && value <= k_max_cents ? std::optional<Cents>(value) : std::nullopt;
    }
    return std::nullopt;
}

std::string euros(Cents cents) {
    return fmt::format("{}{}.{:02}", cents < 0 ? "-" : "", std::abs(cents / 100),
                       std::abs(cents % 100));
}

std::string describe(const EntryLine& line) {
    std::string text = line.debit != 0
                           ? fmt::format("{} debit {}", line.account, euros(line.debit))
                           : fmt::format("{} credit {}", line.account, euros(line.credit));
    if (line.tiers_email) {
        text += fmt::format(" ({})", *line.tiers_email);
    }
    return text;
}

bool line_order(const EntryLine& a, const EntryLine& b) {
    return std::tie(a.account, a.debit, a.credit, a.tiers_email) <
           std::tie(b.account, b.debit, b.credit, b.tiers_email);
}

std::string joined(const std::vector<std::string>& phrases) {
    std::string text;
    for (const std::string& phrase : phrases) {
        text += fmt::format("{}{}", text.empty() ? "" : "; ", phrase);
    }
    return text;
}

// The amount of an entry: what its debits add up to (the TTC of a sale or a credit note).
Cents total_debit(const Entry& entry) {
    Cents total = 0;
    for (const EntryLine& line : entry.lines) {
        total += line.debit;
    }
    return total;
}

void sort_by_date(std::vector<StoredEntry>& entries) {
    std::sort(entries.begin(), entries.end(), [](const StoredEntry& a, const StoredEntry& b) {
        return std::tie(a.date, a.id) < std::tie(b.date, b.id);
    });
}

Difference orphan(std::string charge, std::vector<StoredEntry> found, std::string why) {
    sort_by_date(found);
    Difference difference{
        DifferenceKind::orphan, std::move(charge), {}, {}, std::move(found), {}, 0, {}};
    difference.date = difference.found.front().date;
    difference.detail = std::move(why);
    return difference;
}

} // namespace

StoredEntry parse_stored_entry(const json& stored) {
    StoredEntry entry;
    if (!stored.is_object()) {
        entry.problem = "the entry is not a JSON object";
        return entry;
    }
    entry.id = text_of(stored, "id");
    entry.date = text_of(stored, "date");
    entry.journal = text_of(stored, "journal");
    entry.libelle = text_of(stored, "libelle");
    const auto lines = stored.find("lignes");
    if (lines == stored.end() || !lines->is_array()) {
        entry.problem = "the entry has no lignes array";
        return entry;
    }
    for (std::size_t i = 0; i < lines->size(); ++i) {
        const json& line = (*lines)[i];
        const auto debit = line.is_object() ? amount_of(line, "debit_cents") : std::nullopt;
        const auto credit = line.is_object() ? amount_of(line, "credit_cents") : std::nullopt;
        if (!debit || !credit) {
            entry.problem = fmt::format("lignes[{}] has no readable amounts", i);
            return entry;
        }
        std::optional<std::string> email;
        if (const auto it = line.find("tiers_email"); it != line.end() && it->is_string()) {
            email = it->get<std::string>();
        }
        entry.lines.push_back(
            EntryLine{text_of(line, "compte"), std::move(email), *debit, *credit});
    }
    return entry;
}

nlohmann::ordered_json to_json(const StoredEntry& stored) {
    nlohmann::ordered_json body;
    body["id"] = stored.id;
    body["date"] = stored.date;
    body["journal"] = stored.journal;
    body["libelle"] = stored.libelle;
    body["lignes"] = to_json(stored.lines);
    return body;
}

std::optional<std::string> charge_of_libelle(std::string_view libelle) {
    std::string_view id;
    if (libelle.starts_with(k_sale_prefix)) {
        id = libelle.substr(k_sale_prefix.size());
    } else if (libelle.starts_with(k_refund_prefix) && libelle.ends_with(')')) {
        id = libelle.substr(k_refund_prefix.size());
        id = id.substr(0, id.find(' '));
    } else {
        return std::nullopt;
    }
    const bool plain = !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    });
    return plain ? std::optional<std::string>(id) : std::nullopt;
}

std::string_view to_string(DifferenceKind kind) {
    switch (kind) {
    case DifferenceKind::missing:
        return "missing";
    case DifferenceKind::duplicate:
        return "duplicate";
    case DifferenceKind::mismatch:
        return "mismatch";
    case DifferenceKind::orphan:
        return "orphan";
    case DifferenceKind::invalid:
        return "invalid";
    }
    return "invalid";
}

std::vector<std::string> entry_differences(const Entry& expected, const StoredEntry& found) {
    if (!found.problem.empty()) {
        return {found.problem};
    }
    std::vector<std::string> phrases;
    if (const std::string day = to_iso(expected.date); found.date != day) {
        phrases.push_back(fmt::format("date {} expected, {} found", day, found.date));
    }
    if (found.journal != expected.journal) {
        phrases.push_back(
            fmt::format("journal {} expected, {} found", expected.journal, found.journal));
    }
    if (found.libelle != expected.libelle) {
        phrases.push_back(
            fmt::format("libellé '{}' expected, '{}' found", expected.libelle, found.libelle));
    }
    std::vector<EntryLine> wanted = expected.lines;
    std::vector<EntryLine> stored = found.lines;
    std::sort(wanted.begin(), wanted.end(), line_order);
    std::sort(stored.begin(), stored.end(), line_order);
    std::vector<EntryLine> absent;
    std::vector<EntryLine> extra;
    std::set_difference(wanted.begin(), wanted.end(), stored.begin(), stored.end(),
                        std::back_inserter(absent), line_order);
    std::set_difference(stored.begin(), stored.end(), wanted.begin(), wanted.end(),
                        std::back_inserter(extra), line_order);
    for (const EntryLine& line : absent) {
        phrases.push_back(fmt::format("line {} expected", describe(line)));
    }
    for (const EntryLine& line : extra) {
        phrases.push_back(fmt::format("line {} found", describe(line)));
    }
    return phrases;
}

bool Reconciliation::add_entry(StoredEntry entry) {
    auto charge = charge_of_libelle(entry.libelle);
    if (!charge) {
        return false;
    }
    m_entries[*charge].push_back(std::move(entry));
    ++m_entry_count;
    return true;
}

bool Reconciliation::in_period(const std::string& date) const {
    const auto day = parse_iso_date(date);
    return !day || (m_first <= *day && *day <= m_last);
}

std::optional<Difference> Reconciliation::compare(const ListedObject& charge,
                                                  std::vector<StoredEntry> found) {
    sort_by_date(found);
    const EntryDecision& decision = charge.decision;
    const std::string& id = decision.object_id;
    if (decision.disposition == Disposition::skip) {
        if (found.empty()) {
            return std::nullopt;
        }
        return orphan(id, std::move(found), decision.reason);
    }
    Difference difference{DifferenceKind::invalid, id,
                          to_iso(charge.day),      decision.entry,
                          std::move(found),        decision.reason,
                          charge.created,          decision.idempotency_key};
    if (decision.disposition == Disposition::invalid) {
        return difference;
    }
    if (difference.found.empty()) {
        difference.kind = DifferenceKind::missing;
        difference.detail = fmt::format("no entry for {} EUR", euros(total_debit(*decision.entry)));
        return difference;
    }
    if (difference.found.size() > 1) {
        difference.kind = DifferenceKind::duplicate;
        difference.detail = fmt::format("{} entries for one charge", difference.found.size());
        return difference;
    }
    const auto phrases = entry_differences(*decision.entry, difference.found.front());
    if (phrases.empty()) {
        return std::nullopt;
    }
    difference.kind = DifferenceKind::mismatch;
    difference.detail = joined(phrases);
    return difference;
}

std::optional<Difference> Reconciliation::check_charge(const ListedObject& charge) {
    ++m_charge_count;
    std::vector<StoredEntry> found;
    if (const auto it = m_entries.find(charge.decision.object_id); it != m_entries.end()) {
        found = std::move(it->second);
        m_entries.erase(it);
    }
    return compare(charge, std::move(found));
}

std::vector<std::string> Reconciliation::unclaimed_charges() const {
    std::vector<std::string> charges;
    for (const auto& [charge, entries] : m_entries) {
        if (std::any_of(entries.begin(), entries.end(),
                        [this](const StoredEntry& entry) { return in_period(entry.date); })) {
            charges.push_back(charge);
        }
    }
    return charges;
}

std::optional<Difference>
Reconciliation::check_unclaimed(const std::string& charge_id,
                                const std::optional<ListedObject>& charge) {
    const auto it = m_entries.find(charge_id);
    if (it == m_entries.end()) {
        return std::nullopt;
    }
    std::vector<StoredEntry> found = std::move(it->second);
    m_entries.erase(it);
    if (!charge) {
        return orphan(charge_id, std::move(found),
                      charge_id.starts_with("re_") ? "Stripe has no such refund"
                                                   : "Stripe has no such charge");
    }
    return compare(*charge, std::move(found));
}

} // namespace sc
