#pragma once

#include "core/error.h"
#include "core/reconcile.h"

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace sc::cli {

/// How reconcile prints its differences.
enum class ReconcileFormat { table, json, csv };

/// A difference and, with --fix, what became of posting its missing entry.
struct ReconcileItem {
    Difference difference;
    std::optional<std::string> fix_status; ///< `posted` or `failed`, for a missing entry
    std::string fix_reason;                ///< why the fix failed
    ExitStatus exit = ExitStatus::ok;      ///< what this item contributes to the exit status
};

/// The totals of a run.
struct ReconcileTotals {
    std::string period; ///< `2026-11-01 to 2026-11-30`
    std::size_t charges = 0;
    std::size_t refunds = 0;
    std::size_t entries = 0; ///< sale entries read from the books (reports add those posted)
    bool complete = true;    ///< false when the comparison stopped before the end
};

/// Prints the items sorted by kind, day and charge, then the summary (unless `quiet` and
/// there is nothing to show), and returns the exit status: the highest among the items and
/// `fatal`, 1 for a difference left in the books.
int print_reconcile_report(std::ostream& out, std::ostream& err, ReconcileFormat format, bool quiet,
                           std::vector<ReconcileItem> items, const ReconcileTotals& totals,
                           ExitStatus fatal);

} // namespace sc::cli
