#include "cli/settlement.h"

#include <fmt/format.h>

namespace sc::cli {

void SettlementLookup::complete(StripeObject& object, std::string_view input) {
    Charge* charge = charge_of(object);
    if (charge == nullptr || charge->currency == "eur" || charge->balance_transaction ||
        !charge->balance_transaction_id || !m_settings.stripe_key) {
        return;
    }
    if (!m_stripe) {
        m_http = std::make_unique<CurlHttpClient>(http_timeouts(m_context));
        m_stripe.emplace(*m_http,
                         StripeConfig{m_settings.stripe_url, *m_settings.stripe_key, {}, 0, {}},
                         m_waiter, m_diagnostics);
    }
    charge->balance_transaction = parse_balance_transaction(
        m_stripe->get_balance_transaction(*charge->balance_transaction_id),
        fmt::format("{}: balance transaction {}", input, *charge->balance_transaction_id));
}

} // namespace sc::cli
