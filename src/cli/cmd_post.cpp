#include "cli/commands.h"
#include "cli/report.h"
#include "cli/settlement.h"
#include "cli/signature_options.h"
#include "core/entry.h"
#include "io/comptentra_client.h"
#include "io/inputs.h"
#include "io/interrupt.h"

#include <fmt/format.h>

#include <unordered_map>

namespace sc::cli {
namespace {

struct PostOptions {
    std::vector<std::string> paths;
    bool verify = false;
    bool dry_run = false;
    SignatureOptions signature;
};

// Thrown from an item to stop the batch: the error concerns every later item too.
struct BatchStopped {
    Error error;
};

// Books each item's entries, each entry once.
class Poster {
  public:
    Poster(const PostOptions& options, const Settings& settings, ComptentraClient* client,
           Reporter& reporter, std::optional<VerifyPolicy> policy, SettlementLookup& settlement)
        : m_options(options), m_ledger(settings.ledger), m_client(client), m_reporter(reporter),
          m_policy(std::move(policy)), m_settlement(settlement) {}

    void item(const InputItem& item) {
        if (interrupted()) {
            throw BatchStopped{interruption(fmt::format("before {}", item.label))};
        }
        if (m_policy) {
            ItemResult checked = check_signature(item, m_options.signature, *m_policy);
            if (checked.exit != ExitStatus::ok) {
                return m_reporter.item(checked);
            }
        }
        std::vector<EntryDecision> decisions;
        try {
            StripeObject object = parse_stripe_json(item.body, item.label);
            m_settlement.complete(object);
            decisions = decide_entries(object, m_ledger);
        } catch (const Error& error) {
            return m_reporter.problem(item.label, error);
        }
        for (const EntryDecision& decision : decisions) {
            ItemResult result;
            result.input = item.label;
            result.id = decision.object_id;
            result.reason = decision.reason;
            result.note = decision.note;
            if (decision.disposition == Disposition::skip) {
                result.status = "skipped";
            } else if (decision.disposition == Disposition::invalid) {
                result.status = "invalid";
                result.exit = ExitStatus::data_error;
            } else {
                book(*decision.entry, decision.idempotency_key, result);
            }
            m_reporter.item(result);
        }
    }

  private:
    void book(const Entry& entry, const std::string& key, ItemResult& result) {
        if (const auto seen = m_booked.find(key); seen != m_booked.end()) {
            result.status = "exists";
            if (!seen->second.empty()) {
                result.entry_id = seen->second;
            }
            result.reason = "an earlier input of this run has the same entry";
            return;
        }
        try {
            if (m_options.dry_run) {
                return preview(entry, key, result);
            }
            const BookResult booked = m_client->book(entry, key);
            set_booking(result, booked);
            if (!booked.entry_id.empty()) {
                m_booked.emplace(key, booked.entry_id);
            }
        } catch (const Error& error) {
            result.status = "failed";
            result.reason = error.what();
            result.exit = error.status();
            m_reporter.item(result);
            throw BatchStopped{error};
        }
    }

    void preview(const Entry& entry, const std::string& key, ItemResult& result) {
        const auto existing =
            m_client != nullptr ? m_client->find_entry(entry.journal, entry.libelle) : std::nullopt;
        result.status = existing ? "exists" : "would_post";
        result.entry_id = existing;
        result.entry = to_json(entry);
        m_booked.emplace(key, existing.value_or(""));
    }

    const PostOptions& m_options;
    const LedgerSettings& m_ledger;
    ComptentraClient* m_client;
    Reporter& m_reporter;
    std::optional<VerifyPolicy> m_policy;
    SettlementLookup& m_settlement;
    std::unordered_map<std::string, std::string> m_booked; // idempotency key -> entry id, if any
};

int run_post(const PostOptions& options, const Context& context) {
    const InterruptGuard interrupt_guard;
    const Settings settings = context.settings();
    std::optional<VerifyPolicy> policy;
    if (options.verify) {
        policy = make_verify_policy(options.signature, settings);
    }
    const HttpTimeouts timeouts = http_timeouts(context);
    Diagnostics diagnostics(context.err, context.verbose);
    if (!settings.comptentra_key && !options.dry_run) {
        throw Error(ExitStatus::config, "no Comptentra API key is configured",
                    "set COMPTENTRA_API_KEY or pass --comptentra-key");
    }
    std::optional<CurlHttpClient> http;
    SteadyWaiter waiter;
    std::optional<ComptentraClient> client;
    if (settings.comptentra_key) {
        http.emplace(timeouts);
        client.emplace(*http,
                       ComptentraConfig{settings.comptentra_url, *settings.comptentra_key, {}},
                       waiter, diagnostics);
    } else {
        diagnostics.warn("no Comptentra API key: the dry run cannot tell which entries the "
                         "books already hold");
    }
    Reporter reporter(context.out, context.err, context.json,
                      ReportStyle{ExitRule::highest, "inputs", false, true});
    SettlementLookup settlement(settings, context, diagnostics);
    Poster poster(options, settings, client ? &*client : nullptr, reporter, std::move(policy),
                  settlement);
    try {
        read_inputs(
            options.paths, context.in, [&](InputItem& item) { poster.item(item); },
            [&](const std::string& input, const Error& error) { reporter.problem(input, error); });
    } catch (const BatchStopped& stopped) {
        reporter.fatal(stopped.error);
    }
    return reporter.finish();
}

} // namespace

CommandRunner add_post_command(CLI::App& app, Context& context) {
    auto options = std::make_shared<PostOptions>();
    CLI::App* command =
        app.add_subcommand("post", "compute and post entries; --verify replays captured webhooks");
    command
        ->add_option("PATH", options->paths,
                     "events, charges, JSON Lines, HTTP captures, "
                     "directories, or - for stdin")
        ->required();
    command->add_flag("--verify", options->verify,
                      "post only payloads whose Stripe-Signature is valid (replay of captures)");
    command->add_flag("--dry-run", options->dry_run,
                      "write nothing: print each entry that would be posted");
    add_signature_options(*command, options->signature, context.flags);
    add_comptentra_options(*command, context.flags);
    add_stripe_options(*command, context.flags);
    add_ledger_options(*command, context.flags);
    command->footer("Examples:\n"
                    "  stripe-comptentra post charge.json\n"
                    "  stripe-comptentra post --verify --tolerance 0 archive/done/\n"
                    "  stripe-comptentra --json post --dry-run events.jsonl");
    return [options, &context] { return run_post(*options, context); };
}

} // namespace sc::cli
