#include "cli/fec_output.h"

#include "cli/common_options.h"
#include "core/fec.h"

#include <algorithm>
#include <ostream>

namespace sc::cli {

void FecOutput::add(Entry entry, std::string piece_ref) {
    m_entries.emplace_back(std::move(entry), std::move(piece_ref));
}

ExitStatus FecOutput::write(std::ostream& out, std::ostream& err) {
    std::stable_sort(m_entries.begin(), m_entries.end(),
                     [](const auto& a, const auto& b) { return a.first.date < b.first.date; });
    ExitStatus status = ExitStatus::ok;
    FecWriter writer;
    out << fec_header();
    for (const auto& [entry, piece_ref] : m_entries) {
        try {
            out << writer.lines(entry, piece_ref);
        } catch (const Error& error) {
            print_error(err, error.what(), error.hint());
            status = worst(status, error.status());
        }
    }
    out.flush();
    return status;
}

} // namespace sc::cli
