#pragma once

#include "core/entry.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace sc {

/// The first line of a FEC (Fichier des Écritures Comptables): its 18 column names in their
/// legal order, separated by tabs, ending with "\n".
std::string fec_header();

/// Converts UTF-8 text to ISO-8859-15: ASCII as is, the other representable characters (é, €,
/// œ, Š...) to their single byte, and each unrepresentable character (¤, emoji, C1 control)
/// or invalid UTF-8 sequence to '?'.
std::string to_latin9(std::string_view utf8);

/// Whether the entry's debits add up to its credits.
bool fec_entry_balanced(const Entry& entry);

/// Writes entries as FEC lines, numbering them (EcritureNum) continuously per journal: the
/// first entry of journal `VTE` is `VTE000001`, the next `VTE000002`. No I/O: it returns text.
class FecWriter {
  public:
    /// The entry's lines, one per EntryLine, in ISO-8859-15, tab-separated, each ending with
    /// "\n", all under the entry's next number; `piece_ref` is its Stripe object id. Throws
    /// Error (data_error) naming the libellé, without numbering it, when the entry has no
    /// lines or is not balanced.
    std::string lines(const Entry& entry, std::string_view piece_ref);

  private:
    std::map<std::string, std::int64_t, std::less<>> m_last_number_by_journal;
};

} // namespace sc
