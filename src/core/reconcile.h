#pragma once

#include "core/civil_time.h"
#include "core/entry.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sc {

/// An entry as the books hold it, read leniently: what cannot be read is named in `problem`.
struct StoredEntry {
    std::string id;
    std::string date; ///< as stored: compared as text with the expected ISO date
    std::string journal;
    std::string libelle;
    std::vector<EntryLine> lines;
    std::string problem; ///< why the entry cannot be compared, when it cannot

    friend bool operator==(const StoredEntry&, const StoredEntry&) = default;
};

/// Reads one element of Comptentra's entry list; never throws.
StoredEntry parse_stored_entry(const nlohmann::json& stored);

/// The stored entry as JSON in Comptentra's shape, with its id.
nlohmann::ordered_json to_json(const StoredEntry& stored);

/// The Stripe object of an entry: the charge of a sale (`Paiement Stripe <charge id>`) or the
/// refund of a credit note (`Remboursement Stripe <refund id> (<charge id>)`); nothing for
/// other libellés.
std::optional<std::string> charge_of_libelle(std::string_view libelle);

/// How the books differ from Stripe for one charge.
enum class DifferenceKind {
    missing,   ///< a bookable charge has no entry
    duplicate, ///< a charge has more than one entry
    mismatch,  ///< the one entry differs from the entry computed for the charge
    orphan,    ///< an entry's charge does not exist, is not captured, or failed
    invalid    ///< the charge should book but its entry cannot be computed: nothing to compare
};

/// The name of a kind, as reports print it.
std::string_view to_string(DifferenceKind kind);

/// One difference, for one charge.
struct Difference {
    DifferenceKind kind = DifferenceKind::missing;
    std::string charge;
    std::string date;               ///< the charge's day, or the entry's when there is no charge
    std::optional<Entry> expected;  ///< the entry computed for the charge, when there is one
    std::vector<StoredEntry> found; ///< the charge's entries in the books
    std::string detail;             ///< one line for a person: what differs
    std::int64_t created = 0;       ///< when the charge was created, unix seconds, when known
    std::string idempotency_key;    ///< of the expected entry, to post it exactly once
};

/// The differences between an expected and a stored entry, one phrase each (date, lines,
/// journal, libellé); empty when they agree. Lines are compared in any order.
std::vector<std::string> entry_differences(const Entry& expected, const StoredEntry& found);

/// A charge or a refund listed from Stripe, with its entry decision.
struct ListedObject {
    CivilDate day; ///< the day of its creation in the books' time zone
    EntryDecision decision;
    std::int64_t created = 0; ///< unix seconds
};

/// Compares the books with Stripe over a period. The books' sale entries (read over the period
/// and a margin around it) are added first; then each charge of the period is checked as it is
/// listed; then the entries left unclaimed and dated within the period are checked against
/// their charges looked up one by one. Each difference is reported once.
class Reconciliation {
  public:
    Reconciliation(CivilDate first, CivilDate last) : m_first(first), m_last(last) {}

    /// Adds an entry read from the books; returns false, keeping nothing, when it is not the
    /// sale entry of a charge.
    bool add_entry(StoredEntry entry);

    /// Checks a charge of the period against its entries, which it claims.
    std::optional<Difference> check_charge(const ListedObject& charge);

    /// The charges of the entries that no listed charge claimed and that are dated within the
    /// period, in the order of their libellés: they must be looked up one by one.
    std::vector<std::string> unclaimed_charges() const;

    /// Checks an unclaimed charge as looked up in Stripe; nothing when Stripe does not know it.
    std::optional<Difference> check_unclaimed(const std::string& charge_id,
                                              const std::optional<ListedObject>& charge);

    /// Sale entries read from the books, and charges checked so far.
    std::size_t entries() const { return m_entry_count; }
    std::size_t charges() const { return m_charge_count; }

  private:
    std::optional<Difference> compare(const ListedObject& charge, std::vector<StoredEntry> found);
    bool in_period(const std::string& date) const;

    CivilDate m_first;
    CivilDate m_last;
    std::map<std::string, std::vector<StoredEntry>> m_entries; ///< by charge id, unclaimed
    std::size_t m_entry_count = 0;
    std::size_t m_charge_count = 0;
};

} // namespace sc
