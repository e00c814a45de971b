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
    bool book_fees = false; ///< also book Stripe's fee of each sale
    std::string fees_journal = "BQ";
    std::string fees_account = "627800";   ///< debited with the fee
    std::string stripe_account = "512700"; ///< the Stripe balance, credited with the fee
};

/// One line of an entry: exactly one of debit and credit is non-zero.
struct EntryLine {
    std::string account;
    std::optional<std::string> tiers_email;
    Cents debit = 0;
    Cents credit = 0;
    /// The line's amount in the original currency (`Entry::foreign_currency`), in its minor
    /// units, for an entry of a payment made in another currency than the euro. Not sent to
    /// Comptentra: the FEC export writes it.
    std::optional<Cents> foreign = std::nullopt;

    friend bool operator==(const EntryLine&, const EntryLine&) = default;
};

/// An accounting entry (écriture) as Comptentra stores it.
struct Entry {
    CivilDate date;
    std::string journal;
    std::string libelle;
    std::vector<EntryLine> lines;
    std::optional<std::string> foreign_currency = std::nullopt; ///< lowercase, e.g. `usd`

    friend bool operator==(const Entry&, const Entry&) = default;
};

/// What becomes of one Stripe object.
enum class Disposition {
    book,   ///< it is a captured sale: `entry` holds its entry
    skip,   ///< it books nothing (not captured, failed, another event type): `reason` says why
    invalid ///< it should book but cannot be booked correctly: `reason` says why
};

/// The decision for one entry of an object, with the entry when there is one.
struct EntryDecision {
    Disposition disposition = Disposition::skip;
    std::string object_id; ///< what the entry is for: a charge, a refund or a balance transaction
    std::optional<Entry> entry;
    std::string reason;
    std::string idempotency_key; ///< the same on every run for the same entry, when booked
    std::string note;            ///< what a person should know of a booked entry, if anything
};

/// The libellé of the sale entry of a charge: `Paiement Stripe <charge id>`.
std::string sale_libelle(std::string_view charge_id);

/// The libellé of a refund's credit note: `Remboursement Stripe <refund id> (<charge id>)`.
std::string refund_libelle(std::string_view refund_id, std::string_view charge_id);

/// The libellé of the fee entry of a charge: `Frais Stripe <charge id>`.
std::string fee_libelle(std::string_view charge_id);

/// The idempotency key of the sale entry of a charge: the same on every run and machine.
std::string sale_idempotency_key(std::string_view charge_id);

/// The sale entry of a charge.
EntryDecision decide_sale(const Charge& charge, const LedgerSettings& ledger);

/// The credit note of a refund.
EntryDecision decide_refund(const Refund& refund, const LedgerSettings& ledger);

/// The fee entry of a charge whose sale is booked, when fees are booked and the fee is not zero.
std::optional<EntryDecision> decide_fee(const Charge& charge, const LedgerSettings& ledger);

/// Every entry an event, a charge or a refund books, or why it books none: at least one.
std::vector<EntryDecision> decide_entries(const StripeObject& object, const LedgerSettings& ledger);

/// The first of decide_entries(): the sale of a charge or of a sale event.
EntryDecision decide_entry(const StripeObject& object, const LedgerSettings& ledger);

/// The lines as the `lignes` array of Comptentra's entries.
nlohmann::ordered_json to_json(const std::vector<EntryLine>& lines);

/// The entry as Comptentra's POST /ecritures body, keys in the documented order.
nlohmann::ordered_json to_json(const Entry& entry);

} // namespace sc
