#include "cli/settlement.h"

#include "core/error.h"

#include <fmt/format.h>

namespace sc::cli {
namespace {

// What a refund's entry needs of its charge: the VAT rate and the customer's email.
RefundedCharge facts_of(const Charge& charge) {
    for (const auto& email : {charge.receipt_email, charge.billing_email}) {
        if (email && !email->empty()) {
            return RefundedCharge{charge.tva_rate, email};
        }
    }
    return RefundedCharge{charge.tva_rate, std::nullopt};
}

} // namespace

StripeClient& SettlementLookup::stripe() {
    if (!m_stripe) {
        m_http = std::make_unique<CurlHttpClient>(http_timeouts(m_context));
        m_stripe.emplace(*m_http,
                         StripeConfig{m_settings.stripe_url, *m_settings.stripe_key, {}, 0, {}},
                         m_waiter, m_diagnostics);
    }
    return *m_stripe;
}

std::optional<BalanceTransaction>
SettlementLookup::transaction(const std::optional<std::string>& id, std::string_view input) {
    if (!id) {
        return std::nullopt;
    }
    return parse_balance_transaction(stripe().get_balance_transaction(*id),
                                     fmt::format("{}: balance transaction {}", input, *id));
}

void SettlementLookup::complete_refund(Refund& refund, std::string_view input) {
    if (refund.currency != "eur" && !refund.balance_transaction) {
        refund.balance_transaction = transaction(refund.balance_transaction_id, input);
    }
    if (refund.charge || refund.charge_id.empty()) {
        return;
    }
    if (const auto charge = stripe().get_charge(refund.charge_id)) {
        const StripeObject object =
            parse_stripe_object(*charge, fmt::format("{}: charge {}", input, refund.charge_id));
        const auto* refunded = std::get_if<Charge>(&object);
        if (refunded == nullptr) {
            throw Error(ExitStatus::refused,
                        fmt::format("{}: Stripe answered for charge {} with another object", input,
                                    refund.charge_id));
        }
        refund.charge = facts_of(*refunded);
    }
}

void SettlementLookup::complete(StripeObject& object, std::string_view input) {
    if (!m_settings.stripe_key) {
        return;
    }
    if (Refund* refund = refund_of(object)) {
        return complete_refund(*refund, input);
    }
    Charge* charge = charge_of(object);
    if (charge == nullptr) {
        return;
    }
    const auto* event = std::get_if<Event>(&object);
    if (event != nullptr && event->type == "charge.refunded") {
        if (!charge->refunds) {
            const RefundedCharge facts = facts_of(*charge);
            charge->refunds.emplace();
            for (const auto& listed : stripe().refunds_of(charge->id)) {
                Refund refund = parse_refund(listed, fmt::format("{}: refund", input));
                refund.charge = facts;
                charge->refunds->push_back(std::move(refund));
            }
        }
        for (Refund& refund : *charge->refunds) {
            complete_refund(refund, input);
        }
        return;
    }
    const bool needs_settlement = charge->currency != "eur" || m_settings.ledger.book_fees;
    if (needs_settlement && !charge->balance_transaction) {
        charge->balance_transaction = transaction(charge->balance_transaction_id, input);
    }
}

} // namespace sc::cli
