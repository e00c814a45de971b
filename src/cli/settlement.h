#pragma once

#include "cli/common_options.h"
#include "core/stripe_objects.h"
#include "io/diagnostics.h"
#include "io/retry.h"
#include "io/stripe_client.h"

#include <memory>
#include <optional>

namespace sc::cli {

/// Completes non-EUR charges that came without their balance transaction (webhook payloads
/// carry only its id) by looking it up in Stripe when a Stripe key is set, so that they are
/// booked at their EUR settlement amount. Connects only when such a charge comes.
class SettlementLookup {
  public:
    SettlementLookup(const Settings& settings, const Context& context, Diagnostics& diagnostics)
        : m_settings(settings), m_context(context), m_diagnostics(diagnostics) {}

    /// Adds the balance transaction to the object's charge when it needs one and can have it.
    /// Throws Error when Stripe refuses or cannot be reached.
    void complete(StripeObject& object, std::string_view input);

  private:
    const Settings& m_settings;
    const Context& m_context;
    Diagnostics& m_diagnostics;
    SteadyWaiter m_waiter;
    std::unique_ptr<CurlHttpClient> m_http;
    std::optional<StripeClient> m_stripe;
};

} // namespace sc::cli
