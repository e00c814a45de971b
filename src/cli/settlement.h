#pragma once

#include "cli/common_options.h"
#include "core/stripe_objects.h"
#include "io/diagnostics.h"
#include "io/retry.h"
#include "io/stripe_client.h"

#include <memory>
#include <optional>

namespace sc::cli {

/// Completes, when a Stripe key is set, what an object's entries need and webhook payloads
/// leave out: the balance transaction of a non-EUR charge or refund (its EUR amount) or of any
/// charge when fees are booked, the refunds of a `charge.refunded` event that does not list
/// them all, and the charge of a refund (its VAT rate and email). Connects only when needed.
class SettlementLookup {
  public:
    SettlementLookup(const Settings& settings, const Context& context, Diagnostics& diagnostics)
        : m_settings(settings), m_context(context), m_diagnostics(diagnostics) {}

    /// Adds what the object lacks and can have. Throws Error when Stripe refuses or cannot be
    /// reached.
    void complete(StripeObject& object);

  private:
    StripeClient& stripe();
    std::optional<BalanceTransaction> transaction(const std::optional<std::string>& id);
    void complete_refund(Refund& refund);

    const Settings& m_settings;
    const Context& m_context;
    Diagnostics& m_diagnostics;
    SteadyWaiter m_waiter;
    std::unique_ptr<CurlHttpClient> m_http;
    std::optional<StripeClient> m_stripe;
};

} // namespace sc::cli
