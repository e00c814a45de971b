#include "cli/commands.h"
#include "cli/fec_output.h"
#include "cli/settlement.h"
#include "core/entry.h"
#include "io/inputs.h"

#include <fmt/ostream.h>

#include <algorithm>
#include <optional>
#include <unordered_map>

namespace sc::cli {
namespace {

struct EntryOptions {
    std::vector<std::string> paths;
    std::string format = "json";
};

// Computes and prints the entries of each input, each entry once.
class EntryPrinter {
  public:
    EntryPrinter(const LedgerSettings& ledger, const Context& context, SettlementLookup& settlement,
                 FecOutput* fec)
        : m_ledger(ledger), m_context(context), m_settlement(settlement), m_fec(fec) {}

    void item(const InputItem& item) {
        try {
            StripeObject object = parse_stripe_json(item.body, item.label);
            m_settlement.complete(object);
            for (const EntryDecision& decision : decide_entries(object, m_ledger)) {
                print(item.label, decision);
            }
        } catch (const Error& error) {
            problem(item.label, error);
        }
    }

    void problem(const std::string& /*input*/, const Error& error) {
        print_error(m_context.err, error.what(), error.hint());
        m_exit = worst(m_exit, error.status());
    }

    int exit_status() const { return to_int(m_exit); }

  private:
    void print(const std::string& input, const EntryDecision& decision) {
        const std::string id = decision.object_id.empty() ? "" : " " + decision.object_id;
        switch (decision.disposition) {
        case Disposition::invalid:
            print_error(m_context.err,
                        fmt::format("{}: invalid{}: {}", input, id, decision.reason));
            m_exit = worst(m_exit, ExitStatus::data_error);
            return;
        case Disposition::skip:
            fmt::print(m_context.err, "{}: skipped{}: {}\n", input, id, decision.reason);
            return;
        case Disposition::book:
            break;
        }
        const auto [first, inserted] = m_seen.emplace(decision.idempotency_key, input);
        if (!inserted) {
            fmt::print(m_context.err, "{}: skipped{}: same entry as {}\n", input, id,
                       first->second);
            return;
        }
        if (!decision.note.empty()) {
            fmt::print(m_context.err, "{}:{}: {}\n", input, id, decision.note);
        }
        if (m_fec != nullptr) {
            m_fec->add(*decision.entry, decision.object_id);
        } else {
            m_context.out << to_json(*decision.entry).dump() << '\n';
        }
    }

    const LedgerSettings& m_ledger;
    const Context& m_context;
    SettlementLookup& m_settlement;
    FecOutput* m_fec;
    std::unordered_map<std::string, std::string> m_seen; // idempotency key -> first input
    ExitStatus m_exit = ExitStatus::ok;
};

int run_entry(const EntryOptions& options, const Context& context) {
    const Settings settings = context.settings();
    Diagnostics diagnostics(context.err, context.verbose);
    SettlementLookup settlement(settings, context, diagnostics);
    std::optional<FecOutput> fec;
    if (options.format == "fec") {
        fec.emplace();
    }
    EntryPrinter printer(settings.ledger, context, settlement, fec ? &*fec : nullptr);
    read_inputs(
        options.paths, context.in, [&](InputItem& item) { printer.item(item); },
        [&](const std::string& input, const Error& error) { printer.problem(input, error); });
    ExitStatus written = ExitStatus::ok;
    if (fec) {
        written = fec->write(context.out, context.err);
    }
    context.out.flush();
    return std::max(printer.exit_status(), to_int(written));
}

} // namespace

CommandRunner add_entry_command(CLI::App& app, Context& context) {
    auto options = std::make_shared<EntryOptions>();
    CLI::App* command = app.add_subcommand(
        "entry",
        "compute the Comptentra entries for Stripe events, charges or refunds; posts nothing");
    command
        ->add_option("PATH", options->paths,
                     "events, charges, JSON Lines, HTTP captures, "
                     "directories, or - for stdin")
        ->required();
    command
        ->add_option("--format", options->format,
                     "json: one entry per line (default); fec: a Fichier des Ecritures "
                     "Comptables, tab-separated, ISO-8859-15")
        ->type_name("FORMAT")
        ->check(CLI::IsMember({"json", "fec"}).description(""));
    add_ledger_options(*command, context.flags);
    add_stripe_options(*command, context.flags);
    command->footer(
        "Examples:\n"
        "  stripe-comptentra entry charge.json\n"
        "  stripe-comptentra entry --vat-rate 5.5 --timezone Europe/Paris events.jsonl\n"
        "  stripe-comptentra entry --format fec charges.jsonl > FEC.txt");
    return [options, &context] { return run_entry(*options, context); };
}

} // namespace sc::cli
