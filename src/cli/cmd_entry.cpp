#include "cli/commands.h"
#include "cli/settlement.h"
#include "core/entry.h"
#include "io/inputs.h"

#include <fmt/ostream.h>

#include <unordered_map>

namespace sc::cli {
namespace {

struct EntryOptions {
    std::vector<std::string> paths;
};

// Computes and prints the entry of each input, once per charge.
class EntryPrinter {
  public:
    EntryPrinter(const LedgerSettings& ledger, const Context& context, SettlementLookup& settlement)
        : m_ledger(ledger), m_context(context), m_settlement(settlement) {}

    void item(const InputItem& item) {
        try {
            StripeObject object = parse_stripe_json(item.body, item.label);
            m_settlement.complete(object, item.label);
            print(item.label, decide_entry(object, m_ledger));
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
        const std::string id = decision.charge_id.empty() ? "" : " " + decision.charge_id;
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
        const auto [first, inserted] = m_seen.emplace(decision.charge_id, input);
        if (!inserted) {
            fmt::print(m_context.err, "{}: skipped{}: same charge as {}\n", input, id,
                       first->second);
            return;
        }
        m_context.out << to_json(*decision.entry).dump() << '\n';
    }

    const LedgerSettings& m_ledger;
    const Context& m_context;
    SettlementLookup& m_settlement;
    std::unordered_map<std::string, std::string> m_seen; // charge id -> first input
    ExitStatus m_exit = ExitStatus::ok;
};

int run_entry(const EntryOptions& options, const Context& context) {
    const Settings settings = context.settings();
    Diagnostics diagnostics(context.err, context.verbose);
    SettlementLookup settlement(settings, context, diagnostics);
    EntryPrinter printer(settings.ledger, context, settlement);
    read_inputs(
        options.paths, context.in, [&](InputItem& item) { printer.item(item); },
        [&](const std::string& input, const Error& error) { printer.problem(input, error); });
    context.out.flush();
    return printer.exit_status();
}

} // namespace

CommandRunner add_entry_command(CLI::App& app, Context& context) {
    auto options = std::make_shared<EntryOptions>();
    CLI::App* command = app.add_subcommand(
        "entry", "compute the Comptentra entries for Stripe events or charges; posts nothing");
    command
        ->add_option("PATH", options->paths,
                     "events, charges, JSON Lines, HTTP captures, "
                     "directories, or - for stdin")
        ->required();
    add_ledger_options(*command, context.flags);
    add_stripe_options(*command, context.flags);
    command->footer(
        "Examples:\n"
        "  stripe-comptentra entry charge.json\n"
        "  stripe-comptentra entry --vat-rate 5.5 --timezone Europe/Paris events.jsonl\n"
        "  stripe-comptentra entry captures/ > entries.jsonl");
    return [options, &context] { return run_entry(*options, context); };
}

} // namespace sc::cli
