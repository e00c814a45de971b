#include "cli/settlement.h"

#include "core/error.h"

#include <fmt/format.h>

namespace sc::cli {
namespace {

// Reads an object Stripe answered with; one that is not what it should be is a refusal of
// Stripe's (69), named after Stripe rather than after the input.
template <typename Read>
auto read_answer(const std::string& stripe_url, std::string what, Read read) {
    const std::string label = fmt::format("Stripe {}: {}", url_origin(stripe_url), what);
    try {
        return read(label);
    } catch (const Error& error) {
        throw Error(ExitStatus::refused, error.what());
    }
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
SettlementLookup::transaction(const std::optional<std::string>& id) {
    if (!id) {
        return std::nullopt;
    }
    const auto answer = stripe().get_balance_transaction(*id);
    return read_answer(
        m_settings.stripe_url, fmt::format("balance transaction {}", *id),
        [&answer](const std::string& label) { return parse_balance_transaction(answer, label); });
}

void SettlementLookup::complete_refund(Refund& refund) {
    if (refund.currency != "eur" && !refund.balance_transaction) {
        refund.balance_transaction = transaction(refund.balance_transaction_id);
    }
    if (refund.charge || refund.charge_id.empty()) {
        return;
    }
    if (const auto charge = stripe().get_charge(refund.charge_id)) {
        refund.charge = read_answer(
            m_settings.stripe_url, fmt::format("charge {}", refund.charge_id),
            [&charge](const std::string& label) {
                const StripeObject object = parse_stripe_object(*charge, label);
                const auto* refunded = std::get_if<Charge>(&object);
                if (refunded == nullptr) {
                    throw Error(ExitStatus::refused, fmt::format("{}: not a charge", label));
                }
                return refunded_charge(*refunded);
            });
    }
}

void SettlementLookup::complete(StripeObject& object) {
    if (!m_settings.stripe_key) {
        return;
    }
    if (Refund* refund = refund_of(object)) {
        return complete_refund(*refund);
    }
    Charge* charge = charge_of(object);
    if (charge == nullptr) {
        return;
    }
    const auto* event = std::get_if<Event>(&object);
    if (event != nullptr && event->type == "charge.refunded") {
        if (!charge->refunds) {
            const RefundedCharge facts = refunded_charge(*charge);
            charge->refunds.emplace();
            for (const auto& listed : stripe().refunds_of(charge->id)) {
                Refund refund = read_answer(
                    m_settings.stripe_url, fmt::format("a refund of {}", charge->id),
                    [&listed](const std::string& label) { return parse_refund(listed, label); });
                refund.charge = facts;
                charge->refunds->push_back(std::move(refund));
            }
        }
        for (Refund& refund : *charge->refunds) {
            complete_refund(refund);
        }
        return;
    }
    const bool needs_settlement = charge->currency != "eur" || m_settings.ledger.book_fees;
    if (needs_settlement && !charge->balance_transaction) {
        charge->balance_transaction = transaction(charge->balance_transaction_id);
    }
}

} // namespace sc::cli
