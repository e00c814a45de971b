#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sc {

/// An amount of money in the smallest unit of its currency (euro cents in the books).
using Cents = std::int64_t;

/// The largest amount the ledger accepts, in cents: far above any real payment, and small
/// enough that every VAT computation stays exact in 64-bit integers.
inline constexpr Cents k_max_cents = 100'000'000'000'000; // a thousand billion euros

/// A VAT rate as an exact number of basis points: 20 % is 2000, 5.5 % is 550.
struct VatRate {
    std::int64_t basis_points = 0;

    friend bool operator==(const VatRate&, const VatRate&) = default;
};

/// Parses a rate in percent, `20`, `5.5` or `5,5`, with at most two decimals, from 0 to 100.
/// Returns nothing when the text is not such a rate.
std::optional<VatRate> parse_vat_rate(std::string_view text);

/// The rate written back in percent with the shortest exact decimals: `20`, `5.5`, `2.1`.
std::string to_string(VatRate rate);

/// A tax-included amount split into its parts.
struct VatSplit {
    Cents net = 0; ///< HT: excluding VAT
    Cents vat = 0; ///< TVA: the VAT
};

/// Splits a tax-included amount (0 to k_max_cents): VAT = gross × r / (100 + r), rounded half
/// up to the cent in integer arithmetic, and net = gross − VAT. 1000 at 20 % gives 833 + 167.
VatSplit split_vat(Cents gross, VatRate rate);

/// The number of decimals of a currency's minor unit in Stripe amounts: 0 for zero-decimal
/// currencies such as `jpy`, 3 for `kwd` and the other three-decimal ones, else 2.
int currency_exponent(std::string_view currency);

} // namespace sc
