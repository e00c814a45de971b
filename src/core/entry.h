#pragma once

#include "core/civil_time.h"
#include "core/money.h"
#include "core/stripe_objects.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace sc {

/// How the books are kept: where a sale goes and how it is dated and taxed.
struct LedgerSettings {
    std::string journal = "VTE";
    std::string customer_account = "411000";
    std::string sales_account = "707000";
    std::string vat_account = "445712";
    VatRate vat_rate{2000}; ///< used when a charge has no `tva_rate` metadata
    TimeZone time_zone = TimeZone::locate("Europe/Paris");
};

/// One line of an entry: exactly one of debit and credit is non-zero.
struct EntryLine {
    std::string account;
    std::optional<std::string> tiers_email;
    Cents debit = 0;
    Cents credit = 0;

    friend bool operator==(const EntryLine&, const EntryLine&) = default;
};

/// An accounting entry (écriture) as Comptentra stores it.
struct Entry {
    CivilDate date;
    std::string journal;
    std::string libelle;
    std::vector<EntryLine> lines;

    friend bool operator==(const Entry&, const Entry&) = default;
};

/// What becomes of one Stripe object.
enum class Disposition {
    book,   ///< it is a captured sale: `entry` holds its entry
    skip,   ///< it books nothing (not captured, failed, another event type): `reason` says why
    invalid ///< it should book but cannot be booked correctly: `reason` says why
};

/// The decision for one object, with the entry when there is one.
struct EntryDecision {
    Disposition disposition = Disposition::skip;
    std::string charge_id; ///< the charge concerned, when there is one
    std::optional<Entry> entry;
    std::string reason;
};

/// The libellé of the sale entry of a charge: `Paiement Stripe <charge id>`.
std::string sale_libelle(std::string_view charge_id);

/// Applies the sale entry rules to an event or a charge.
EntryDecision decide_entry(const StripeObject& object, const LedgerSettings& ledger);

/// The lines as the `lignes` array of Comptentra's entries.
nlohmann::ordered_json to_json(const std::vector<EntryLine>& lines);

/// The entry as Comptentra's POST /ecritures body, keys in the documented order.
nlohmann::ordered_json to_json(const Entry& entry);

} // namespace sc
