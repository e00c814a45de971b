#pragma once

#include "core/entry.h"
#include "core/error.h"

#include <iosfwd>
#include <string>
#include <vector>

namespace sc::cli {

/// Gathers the entries of a run and writes them as one FEC file, in date order (entries of the
/// same day in the order they came), so that each journal's numbers follow the dates.
class FecOutput {
  public:
    /// Keeps an entry and the id of the Stripe object it comes from.
    void add(Entry entry, std::string piece_ref);

    /// Writes the header and every entry to `out`; an entry that cannot be written gets an
    /// error line on `err`. Returns the worst status: 65 when an entry was left out.
    ExitStatus write(std::ostream& out, std::ostream& err);

  private:
    std::vector<std::pair<Entry, std::string>> m_entries;
};

} // namespace sc::cli
