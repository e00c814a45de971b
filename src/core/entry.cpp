#include "core/entry.h"

#include <fmt/format.h>

#include <algorithm>

namespace sc {
namespace {

EntryDecision skip(std::string object_id, std::string reason) {
    return EntryDecision{
        Disposition::skip, std::move(object_id), std::nullopt, std::move(reason), {}, {}};
}

EntryDecision invalid(std::string object_id, std::string reason) {
    return EntryDecision{
        Disposition::invalid, std::move(object_id), std::nullopt, std::move(reason), {}, {}};
}

EntryDecision book(std::string object_id, Entry entry, std::string key, std::string note = {}) {
    return EntryDecision{Disposition::book, std::move(object_id), std::move(entry), {},
                         std::move(key),    std::move(note)};
}

std::optional<std::string> not_bookable_reason(const Charge& charge) {
    if (charge.status == "failed") {
        return "the charge failed";
    }
    if (charge.status == "pending") {
        return "the charge is pending";
    }
    if (charge.status != "succeeded") {
        return fmt::format("the charge status is '{}'", charge.status);
    }
    if (!charge.captured) {
        return "the charge is an uncaptured authorisation";
    }
    return std::nullopt;
}

// An amount in euros, or why it cannot be had.
struct EuroAmount {
    Cents cents = 0;
    std::string problem;
};

// The amount in euros of a payment in `currency`: itself in euros, else what its balance
// transaction settled in euros.
EuroAmount euro_amount(std::string_view what, Cents amount, const std::string& currency,
                       const std::optional<BalanceTransaction>& settlement) {
    if (currency == "eur") {
        return {amount, {}};
    }
    if (!settlement) {
        return {0, fmt::format("the {} is in {}: its EUR amount comes from its balance "
                               "transaction, which the input does not include (with a Stripe key "
                               "set, it is looked up)",
                               what, currency)};
    }
    if (settlement->currency != "eur") {
        return {0, fmt::format("the {} settled in {}, not in EUR", what, settlement->currency)};
    }
    return {settlement->amount < 0 ? -settlement->amount : settlement->amount, {}};
}

// The VAT rate of a charge: its metadata `tva_rate`, else the configured one; nothing when the
// metadata is not a rate.
std::optional<VatRate> rate_of(const std::optional<std::string>& tva_rate,
                               const LedgerSettings& ledger) {
    return tva_rate ? parse_vat_rate(*tva_rate) : std::optional<VatRate>(ledger.vat_rate);
}

std::string bad_rate(const std::string& tva_rate) {
    return fmt::format("metadata tva_rate '{}' is not a VAT rate in percent (0 to 100, at most "
                       "two decimals)",
                       tva_rate);
}

// The lines of a sale of `gross` at `rate`: the customer debited, then sales and VAT credited
// (a zero line left out), with the amounts in the original currency when it is not the euro.
std::vector<EntryLine> sale_lines(Cents gross, std::optional<Cents> foreign, VatRate rate,
                                  std::optional<std::string> email, const LedgerSettings& ledger) {
    const VatSplit split = split_vat(gross, rate);
    const VatSplit foreign_split = split_vat(foreign.value_or(0), rate);
    const auto in_foreign = [&foreign](Cents amount) {
        return foreign ? std::optional<Cents>(amount) : std::nullopt;
    };
    std::vector<EntryLine> lines{
        EntryLine{ledger.customer_account, std::move(email), gross, 0, foreign}};
    // A line left out for a zero amount in euros hands its foreign amount to the other one, so
    // that the foreign amounts still add up.
    if (split.net != 0) {
        const Cents unplaced = split.vat == 0 ? foreign_split.vat : 0;
        lines.push_back(EntryLine{ledger.sales_account, std::nullopt, 0, split.net,
                                  in_foreign(foreign_split.net + unplaced)});
    }
    if (split.vat != 0) {
        const Cents unplaced = split.net == 0 ? foreign_split.net : 0;
        lines.push_back(EntryLine{ledger.vat_account, std::nullopt, 0, split.vat,
                                  in_foreign(foreign_split.vat + unplaced)});
    }
    return lines;
}

// The credit notes of the refunds a `charge.refunded` event lists.
std::vector<EntryDecision> decide_refunds_of(const Charge& charge, const LedgerSettings& ledger) {
    if (!charge.refunds) {
        return {invalid(charge.id, "the event does not list all the charge's refunds (with a "
                                   "Stripe key set, they are looked up)")};
    }
    if (charge.refunds->empty()) {
        return {skip(charge.id, "the charge lists no refund")};
    }
    std::vector<EntryDecision> decisions;
    for (const Refund& refund : *charge.refunds) {
        decisions.push_back(decide_refund(refund, ledger));
    }
    return decisions;
}

} // namespace

std::string sale_libelle(std::string_view charge_id) {
    return fmt::format("Paiement Stripe {}", charge_id);
}

std::string refund_libelle(std::string_view refund_id, std::string_view charge_id) {
    return fmt::format("Remboursement Stripe {} ({})", refund_id, charge_id);
}

std::string fee_libelle(std::string_view charge_id) {
    return fmt::format("Frais Stripe {}", charge_id);
}

std::string sale_idempotency_key(std::string_view charge_id) {
    return fmt::format("stripe-comptentra-sale-{}", charge_id);
}

EntryDecision decide_sale(const Charge& charge, const LedgerSettings& ledger) {
    if (auto reason = not_bookable_reason(charge)) {
        return skip(charge.id, std::move(*reason));
    }
    const Cents original = charge.amount_captured > 0 ? charge.amount_captured : charge.amount;
    const EuroAmount gross =
        euro_amount("charge", original, charge.currency, charge.balance_transaction);
    if (!gross.problem.empty()) {
        return invalid(charge.id, gross.problem);
    }
    if (gross.cents <= 0) {
        return invalid(charge.id, "the charge amount is not positive");
    }
    const auto rate = rate_of(charge.tva_rate, ledger);
    if (!rate) {
        return invalid(charge.id, bad_rate(*charge.tva_rate));
    }
    const bool foreign = charge.currency != "eur";
    Entry entry{ledger.time_zone.day_of(charge.created), ledger.journal, sale_libelle(charge.id),
                sale_lines(gross.cents, foreign ? std::optional<Cents>(original) : std::nullopt,
                           *rate, refunded_charge(charge).email, ledger)};
    if (foreign) {
        entry.foreign_currency = charge.currency;
    }
    return book(charge.id, std::move(entry), sale_idempotency_key(charge.id));
}

EntryDecision decide_refund(const Refund& refund, const LedgerSettings& ledger) {
    if (refund.status != "succeeded") {
        return skip(refund.id, fmt::format("the refund is {}", refund.status));
    }
    const EuroAmount gross =
        euro_amount("refund", refund.amount, refund.currency, refund.balance_transaction);
    if (!gross.problem.empty()) {
        return invalid(refund.id, gross.problem);
    }
    if (gross.cents <= 0) {
        return invalid(refund.id, "the refund amount is not positive");
    }
    std::optional<VatRate> rate = ledger.vat_rate;
    std::optional<std::string> email;
    std::string note;
    if (refund.charge) {
        rate = rate_of(refund.charge->tva_rate, ledger);
        if (!rate) {
            return invalid(refund.id, bad_rate(*refund.charge->tva_rate));
        }
        email = refund.charge->email;
    } else {
        note = fmt::format("VAT at the configured rate of {} %: the refunded charge {} was not "
                           "looked up (no Stripe key)",
                           to_string(ledger.vat_rate), refund.charge_id);
    }
    const bool foreign = refund.currency != "eur";
    // A credit note is the sale reversed: sales and VAT debited, then the customer credited.
    std::vector<EntryLine> lines =
        sale_lines(gross.cents, foreign ? std::optional<Cents>(refund.amount) : std::nullopt, *rate,
                   std::move(email), ledger);
    std::rotate(lines.begin(), lines.begin() + 1, lines.end());
    for (EntryLine& line : lines) {
        std::swap(line.debit, line.credit);
    }
    Entry entry{ledger.time_zone.day_of(refund.created), ledger.journal,
                refund_libelle(refund.id, refund.charge_id), std::move(lines)};
    if (foreign) {
        entry.foreign_currency = refund.currency;
    }
    return book(refund.id, std::move(entry), fmt::format("stripe-comptentra-refund-{}", refund.id),
                std::move(note));
}

std::optional<EntryDecision> decide_fee(const Charge& charge, const LedgerSettings& ledger) {
    if (!ledger.book_fees || decide_sale(charge, ledger).disposition != Disposition::book) {
        return std::nullopt;
    }
    const auto& settlement = charge.balance_transaction;
    if (!settlement) {
        return invalid(charge.balance_transaction_id.value_or(charge.id),
                       fmt::format("the fee of {} is in its balance transaction, which the input "
                                   "does not include (with a Stripe key set, it is looked up)",
                                   charge.id));
    }
    if (settlement->fee == 0) {
        return std::nullopt;
    }
    if (settlement->currency != "eur") {
        return invalid(settlement->id, fmt::format("the fee of {} is in {}, not in EUR", charge.id,
                                                   settlement->currency));
    }
    Entry entry{
        ledger.time_zone.day_of(charge.created), ledger.fees_journal, fee_libelle(charge.id), {}};
    entry.lines.push_back(EntryLine{ledger.fees_account, std::nullopt, settlement->fee, 0});
    entry.lines.push_back(EntryLine{ledger.stripe_account, std::nullopt, 0, settlement->fee});
    return book(settlement->id, std::move(entry),
                fmt::format("stripe-comptentra-fee-{}", charge.id));
}

EntryDecision decide_entry(const StripeObject& object, const LedgerSettings& ledger) {
    if (const auto* refund = std::get_if<Refund>(&object)) {
        return decide_refund(*refund, ledger);
    }
    if (const auto* charge = std::get_if<Charge>(&object)) {
        return decide_sale(*charge, ledger);
    }
    const auto& event = std::get<Event>(object);
    if (event.refund) {
        return decide_refund(*event.refund, ledger);
    }
    if (event.charge && event.type == "charge.refunded") {
        return decide_refunds_of(*event.charge, ledger).front();
    }
    if (event.charge) {
        return decide_sale(*event.charge, ledger);
    }
    return skip({}, fmt::format("event type {} books nothing", event.type));
}

std::vector<EntryDecision> decide_entries(const StripeObject& object,
                                          const LedgerSettings& ledger) {
    const auto* event = std::get_if<Event>(&object);
    if (event != nullptr && event->charge && event->type == "charge.refunded") {
        return decide_refunds_of(*event->charge, ledger);
    }
    std::vector<EntryDecision> decisions{decide_entry(object, ledger)};
    const Charge* charge = event != nullptr ? (event->charge ? &*event->charge : nullptr)
                                            : std::get_if<Charge>(&object);
    if (charge != nullptr) {
        if (auto fee = decide_fee(*charge, ledger)) {
            decisions.push_back(std::move(*fee));
        }
    }
    return decisions;
}

nlohmann::ordered_json to_json(const std::vector<EntryLine>& entry_lines) {
    auto lines = nlohmann::ordered_json::array();
    for (const auto& line : entry_lines) {
        nlohmann::ordered_json json_line;
        json_line["compte"] = line.account;
        if (line.tiers_email) {
            json_line["tiers_email"] = *line.tiers_email;
        }
        json_line["debit_cents"] = line.debit;
        json_line["credit_cents"] = line.credit;
        lines.push_back(std::move(json_line));
    }
    return lines;
}

nlohmann::ordered_json to_json(const Entry& entry) {
    nlohmann::ordered_json json;
    json["date"] = to_iso(entry.date);
    json["journal"] = entry.journal;
    json["libelle"] = entry.libelle;
    json["lignes"] = to_json(entry.lines);
    return json;
}

} // namespace sc
