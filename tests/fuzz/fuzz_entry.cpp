// Fuzz target: the booking rules. The bytes are parsed as JSON; an object goes through
// parse_stripe_object, then decide_entries with the default ledger and again with Stripe's
// fees booked, and each booked entry is turned into Comptentra's JSON and into FEC lines.
#include "core/entry.h"
#include "core/error.h"
#include "core/fec.h"
#include "core/money.h"
#include "core/stripe_objects.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

constexpr std::size_t k_fec_columns = 18;

void check(bool condition) {
    if (!condition) {
        std::abort();
    }
}

sc::Cents add(sc::Cents a, sc::Cents b) {
    sc::Cents sum = 0;
    check(!__builtin_add_overflow(a, b, &sum));
    return sum;
}

// An entry as the books need it: balanced, each line on exactly one side with a
// non-negative amount the ledger accepts, and foreign amounts (when the payment was not in
// euros) on every line, adding up on both sides.
void check_entry(const sc::Entry& entry) {
    check(!entry.lines.empty());
    sc::Cents debits = 0;
    sc::Cents credits = 0;
    sc::Cents foreign_debits = 0;
    sc::Cents foreign_credits = 0;
    for (const sc::EntryLine& line : entry.lines) {
        check(line.debit >= 0 && line.credit >= 0);
        check((line.debit != 0) != (line.credit != 0));
        check(line.debit <= sc::k_max_cents && line.credit <= sc::k_max_cents);
        debits = add(debits, line.debit);
        credits = add(credits, line.credit);
        check(line.foreign.has_value() == entry.foreign_currency.has_value());
        if (line.foreign) {
            check(*line.foreign >= 0);
            if (line.debit != 0) {
                foreign_debits = add(foreign_debits, *line.foreign);
            } else {
                foreign_credits = add(foreign_credits, *line.foreign);
            }
        }
    }
    check(debits == credits);
    check(foreign_debits == foreign_credits);
    check(sc::fec_entry_balanced(entry));
}

void check_decision(const sc::EntryDecision& decision) {
    const bool booked = decision.disposition == sc::Disposition::book;
    check(booked == decision.entry.has_value());
    check(booked ? !decision.idempotency_key.empty() && decision.reason.empty()
                 : !decision.reason.empty());
}

void book(const sc::StripeObject& object, const sc::LedgerSettings& ledger,
          sc::FecWriter& fec) {
    const auto decisions = sc::decide_entries(object, ledger);
    check(!decisions.empty());
    static_cast<void>(sc::decide_entry(object, ledger));
    for (const sc::EntryDecision& decision : decisions) {
        check_decision(decision);
        if (!decision.entry) {
            continue;
        }
        const sc::Entry& entry = *decision.entry;
        check_entry(entry);

        const nlohmann::ordered_json body = sc::to_json(entry);
        check(body.at("lignes").size() == entry.lines.size());
        static_cast<void>(body.dump());

        // One FEC line per entry line, each of 18 tab-separated columns.
        const std::string lines = fec.lines(entry, decision.object_id);
        const auto newlines = static_cast<std::size_t>(std::count(lines.begin(), lines.end(), '\n'));
        const auto tabs = static_cast<std::size_t>(std::count(lines.begin(), lines.end(), '\t'));
        check(newlines == entry.lines.size() && lines.ends_with('\n'));
        check(tabs == (k_fec_columns - 1) * entry.lines.size());
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const nlohmann::json document = nlohmann::json::parse(text, nullptr, false);
    if (!document.is_object()) {
        return 0; // not JSON (discarded), or not an object: parse_stripe_object's first check
    }
    try {
        const sc::StripeObject object = sc::parse_stripe_object(document, "fuzz.json");
        static const sc::LedgerSettings ledger{};
        static const sc::LedgerSettings with_fees = [] {
            sc::LedgerSettings settings;
            settings.book_fees = true;
            return settings;
        }();
        sc::FecWriter fec;
        book(object, ledger, fec);
        book(object, with_fees, fec);
    } catch (const sc::Error&) {
        // Expected: a field missing or of the wrong type, an unsupported object.
    }
    return 0;
}
