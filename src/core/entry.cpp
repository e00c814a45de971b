#include "core/entry.h"

#include <fmt/format.h>

namespace sc {
namespace {

EntryDecision skip(std::string charge_id, std::string reason) {
    return EntryDecision{Disposition::skip, std::move(charge_id), std::nullopt, std::move(reason)};
}

EntryDecision invalid(std::string charge_id, std::string reason) {
    return EntryDecision{Disposition::invalid, std::move(charge_id), std::nullopt,
                         std::move(reason)};
}

std::optional<std::string> customer_email(const Charge& charge) {
    for (const auto& email : {charge.receipt_email, charge.billing_email}) {
        if (email && !email->empty()) {
            return email;
        }
    }
    return std::nullopt;
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

EntryDecision decide_charge(const Charge& charge, const LedgerSettings& ledger) {
    if (auto reason = not_bookable_reason(charge)) {
        return skip(charge.id, std::move(*reason));
    }
    Cents gross = charge.amount_captured > 0 ? charge.amount_captured : charge.amount;
    if (charge.currency != "eur") {
        const auto& settlement = charge.balance_transaction;
        if (!settlement) {
            return invalid(charge.id,
                           fmt::format("the charge is in {}: its EUR amount comes from its balance "
                                       "transaction, which the input does not include (with a "
                                       "Stripe key set, it is looked up)",
                                       charge.currency));
        }
        if (settlement->currency != "eur") {
            return invalid(charge.id, fmt::format("the charge settled in {}, not in EUR",
                                                  settlement->currency));
        }
        gross = settlement->amount;
    }
    if (gross <= 0) {
        return invalid(charge.id, "the charge amount is not positive");
    }
    VatRate rate = ledger.vat_rate;
    if (charge.tva_rate) {
        const auto parsed = parse_vat_rate(*charge.tva_rate);
        if (!parsed) {
            return invalid(charge.id,
                           fmt::format("metadata tva_rate '{}' is not a VAT rate in percent "
                                       "(0 to 100, at most two decimals)",
                                       *charge.tva_rate));
        }
        rate = *parsed;
    }
    const VatSplit split = split_vat(gross, rate);
    Entry entry{
        ledger.time_zone.day_of(charge.created), ledger.journal, sale_libelle(charge.id), {}};
    entry.lines.push_back(EntryLine{ledger.customer_account, customer_email(charge), gross, 0});
    if (split.net != 0) {
        entry.lines.push_back(EntryLine{ledger.sales_account, std::nullopt, 0, split.net});
    }
    if (split.vat != 0) {
        entry.lines.push_back(EntryLine{ledger.vat_account, std::nullopt, 0, split.vat});
    }
    return EntryDecision{Disposition::book, charge.id, std::move(entry), {}};
}

EntryDecision decide_event(const Event& event, const LedgerSettings& ledger) {
    if (!event.charge) {
        return skip({}, fmt::format("event type {} books no sale", event.type));
    }
    return decide_charge(*event.charge, ledger);
}

} // namespace

std::string sale_libelle(std::string_view charge_id) {
    return fmt::format("Paiement Stripe {}", charge_id);
}

EntryDecision decide_entry(const StripeObject& object, const LedgerSettings& ledger) {
    if (const auto* event = std::get_if<Event>(&object)) {
        return decide_event(*event, ledger);
    }
    return decide_charge(std::get<Charge>(object), ledger);
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
