#include "core/money.h"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace sc {
namespace {

constexpr std::int64_t k_basis_points_per_percent = 100;
constexpr std::int64_t k_max_basis_points = 100 * k_basis_points_per_percent;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

} // namespace

std::optional<VatRate> parse_vat_rate(std::string_view text) {
    const auto separator = text.find_first_of(".,");
    const std::string_view whole = text.substr(0, separator);
    const std::string_view decimals =
        separator == std::string_view::npos ? std::string_view{} : text.substr(separator + 1);
    const bool has_separator = separator != std::string_view::npos;
    if (whole.empty() || whole.size() > 3 || decimals.size() > 2 ||
        (has_separator && decimals.empty())) {
        return std::nullopt;
    }
    std::int64_t basis_points = 0;
    for (const char c : whole) {
        if (!is_digit(c)) {
            return std::nullopt;
        }
        basis_points = basis_points * 10 + (c - '0');
    }
    basis_points *= k_basis_points_per_percent;
    std::int64_t scale = 10;
    for (const char c : decimals) {
        if (!is_digit(c)) {
            return std::nullopt;
        }
        basis_points += (c - '0') * scale;
        scale /= 10;
    }
    if (basis_points > k_max_basis_points) {
        return std::nullopt;
    }
    return VatRate{basis_points};
}

std::string to_string(VatRate rate) {
    std::string text = std::to_string(rate.basis_points / k_basis_points_per_percent);
    const std::int64_t fraction = rate.basis_points % k_basis_points_per_percent;
    if (fraction != 0) {
        text += '.';
        text += static_cast<char>('0' + fraction / 10);
        if (fraction % 10 != 0) {
            text += static_cast<char>('0' + fraction % 10);
        }
    }
    return text;
}

VatSplit split_vat(Cents gross, VatRate rate) {
    if (gross < 0 || gross > k_max_cents || rate.basis_points < 0 ||
        rate.basis_points > k_max_basis_points) {
        throw std::out_of_range("split_vat: amount or rate out of range");
    }
    // VAT = gross × bp / (10000 + bp), rounded half up: floor((2·gross·bp + d) / 2d).
    const std::int64_t denominator = k_max_basis_points + rate.basis_points;
    const std::int64_t vat = (2 * gross * rate.basis_points + denominator) / (2 * denominator);
    return VatSplit{gross - vat, vat};
}

int currency_exponent(std::string_view currency) {
    constexpr std::array<std::string_view, 16> k_zero_decimal = {
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
        "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"};
    constexpr std::array<std::string_view, 5> k_three_decimal = {"bhd", "jod", "kwd", "omr", "tnd"};
    if (std::find(k_zero_decimal.begin(), k_zero_decimal.end(), currency) != k_zero_decimal.end()) {
        return 0;
    }
    if (std::find(k_three_decimal.begin(), k_three_decimal.end(), currency) !=
        k_three_decimal.end()) {
        return 3;
    }
    return 2;
}

} // namespace sc
