#include "cli/commands.h"
#include "cli/report.h"
#include "cli/settlement.h"
#include "cli/signature_options.h"
#include "core/entry.h"
#include "io/comptentra_client.h"
#include "io/in_order.h"
#include "io/inputs.h"
#include "io/interrupt.h"
#include "io/work_queue.h"

#include <fmt/format.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace sc::cli {
namespace {

struct PostOptions {
    std::vector<std::string> paths;
    bool verify = false;
    bool dry_run = false;
    int concurrency = 4;
    SignatureOptions signature;
};

// Thrown from the reading of the inputs once the batch has stopped.
struct Stopped {};

// Books each item's entries, each entry once. Items are read, checked and decided on the
// calling thread; the entries to book go to worker threads, each with its own connection to
// Comptentra; the results come out in the order of the inputs.
class Poster {
  public:
    Poster(const PostOptions& options, const Settings& settings, const Context& context,
           Diagnostics& diagnostics, std::optional<VerifyPolicy> policy)
        : m_options(options), m_settings(settings), m_diagnostics(diagnostics),
          m_reporter(context.out, context.err, context.json,
                     ReportStyle{ExitRule::highest, "inputs", false, true}),
          m_policy(std::move(policy)), m_settlement(settings, context, diagnostics),
          m_queue(static_cast<std::size_t>(options.concurrency) * 64),
          m_in_order(static_cast<std::size_t>(options.concurrency) * 256) {}

    int run(const Context& context) {
        const HttpTimeouts timeouts = http_timeouts(context);
        for (int i = 0; i < m_options.concurrency; ++i) {
            m_connections.push_back(connect(timeouts));
        }
        for (auto& connection : m_connections) {
            m_workers.emplace_back([this, books = connection.get()] { work(books); });
        }
        try {
            read_inputs(
                m_options.paths, context.in, [&](InputItem& item) { this->item(item); },
                [&](const std::string& input, const Error& error) { problem(input, error); });
            m_queue.close();
        } catch (const Stopped&) {
            m_queue.abandon();
        } catch (...) {
            stop(Error(ExitStatus::internal, "internal error while reading the inputs"));
            join_workers();
            throw;
        }
        join_workers();
        m_in_order.drain();
        if (m_fatal) {
            m_reporter.fatal(*m_fatal);
        }
        return m_reporter.finish();
    }

  private:
    struct Job {
        std::size_t slot = 0;
        ItemResult result;
        Entry entry;
        std::string idempotency_key;
    };

    void item(const InputItem& item) {
        if (interrupted()) {
            stop(interruption(fmt::format("before {}", item.label)));
        }
        if (m_stopping) {
            throw Stopped{};
        }
        if (m_policy) {
            ItemResult checked = check_signature(item, m_options.signature, *m_policy);
            if (checked.exit != ExitStatus::ok) {
                return report(reserve(), std::move(checked));
            }
        }
        std::vector<EntryDecision> decisions;
        try {
            StripeObject object = parse_stripe_json(item.body, item.label);
            m_settlement.complete(object);
            decisions = decide_entries(object, m_settings.ledger);
        } catch (const Error& error) {
            return problem(item.label, error);
        }
        for (EntryDecision& decision : decisions) {
            ItemResult result;
            result.input = item.label;
            result.id = decision.object_id;
            result.reason = decision.reason;
            result.note = decision.note;
            if (decision.disposition == Disposition::book) {
                dispatch(std::move(result), decision);
                continue;
            }
            const bool skipped = decision.disposition == Disposition::skip;
            result.status = skipped ? "skipped" : "invalid";
            result.exit = skipped ? ExitStatus::ok : ExitStatus::data_error;
            report(reserve(), std::move(result));
        }
    }

    // Queues an entry for the workers, unless an earlier input of this run has the same one.
    void dispatch(ItemResult result, EntryDecision& decision) {
        const std::size_t slot = reserve();
        const std::string& key = decision.idempotency_key;
        if (!claim(key)) {
            result.status = "exists";
            result.reason = "an earlier input of this run has the same entry";
            m_in_order.fill(slot, [this, result = std::move(result), key]() mutable {
                result.entry_id = entry_id_of(key);
                m_reporter.item(result);
            });
            return;
        }
        if (!m_queue.push(Job{slot, std::move(result), std::move(*decision.entry), key})) {
            throw Stopped{};
        }
    }

    // One worker's way to the books: nothing in a dry run without a key.
    struct Connection {
        std::optional<CurlHttpClient> http;
        std::optional<ComptentraClient> books;
    };

    std::unique_ptr<Connection> connect(const HttpTimeouts& timeouts) {
        auto connection = std::make_unique<Connection>();
        if (m_settings.comptentra_key) {
            connection->http.emplace(timeouts);
            connection->books.emplace(
                *connection->http,
                ComptentraConfig{m_settings.comptentra_url, *m_settings.comptentra_key, {}},
                m_waiter, m_diagnostics);
        }
        return connection;
    }

    void work(Connection* connection) {
        ComptentraClient* books = connection->books ? &*connection->books : nullptr;
        while (auto job = m_queue.pop()) {
            if (interrupted()) { // the job is left for the next run, like those still queued
                return stop(interruption(fmt::format("before {}", job->result.input)));
            }
            try {
                book(books, *job);
            } catch (const Error& error) {
                return give_up(*job, error);
            } catch (const std::exception& error) {
                return give_up(*job, Error(ExitStatus::internal,
                                           fmt::format("internal error: {}", error.what())));
            }
        }
    }

    void book(ComptentraClient* books, Job& job) {
        ItemResult& result = job.result;
        if (m_options.dry_run) {
            const auto existing =
                books ? books->find_entry(job.entry.journal, job.entry.libelle) : std::nullopt;
            result.status = existing ? "exists" : "would_post";
            result.entry_id = existing;
            result.entry = to_json(job.entry);
        } else {
            set_booking(result, books->book(job.entry, job.idempotency_key));
        }
        m_in_order.fill(job.slot, [this, result = std::move(result), key = job.idempotency_key] {
            remember(key, result.entry_id);
            m_reporter.item(result);
        });
    }

    // Reports the entry that met an error every later one would meet too, and stops the batch.
    void give_up(Job& job, const Error& error) {
        job.result.status = "failed";
        job.result.reason = error.what();
        job.result.exit = error.status();
        report(job.slot, std::move(job.result));
        stop(error);
    }

    void stop(const Error& error) {
        {
            const std::lock_guard lock(m_fatal_mutex);
            if (!m_fatal) {
                m_fatal = error;
            }
        }
        m_stopping = true;
        m_queue.abandon();
        m_in_order.stop();
    }

    void join_workers() {
        for (auto& worker : m_workers) {
            worker.join();
        }
        m_workers.clear();
    }

    std::size_t reserve() {
        const auto slot = m_in_order.reserve();
        if (!slot) {
            throw Stopped{};
        }
        return *slot;
    }

    void report(std::size_t slot, ItemResult result) {
        m_in_order.fill(slot, [this, result = std::move(result)] { m_reporter.item(result); });
    }

    void problem(const std::string& input, const Error& error) {
        m_in_order.fill(reserve(), [this, input, error] { m_reporter.problem(input, error); });
    }

    // True for the first entry of this run with this key.
    bool claim(const std::string& key) {
        const std::lock_guard lock(m_claims_mutex);
        return m_claims.try_emplace(key).second;
    }

    void remember(const std::string& key, const std::optional<std::string>& entry_id) {
        const std::lock_guard lock(m_claims_mutex);
        m_claims[key] = entry_id;
    }

    std::optional<std::string> entry_id_of(const std::string& key) {
        const std::lock_guard lock(m_claims_mutex);
        return m_claims[key];
    }

    const PostOptions& m_options;
    const Settings& m_settings;
    Diagnostics& m_diagnostics;
    Reporter m_reporter; // used only by what m_in_order emits
    std::optional<VerifyPolicy> m_policy;
    SettlementLookup m_settlement;
    SteadyWaiter m_waiter;
    WorkQueue<Job> m_queue;
    InOrder m_in_order;
    std::vector<std::unique_ptr<Connection>> m_connections;
    std::vector<std::thread> m_workers;
    std::mutex m_claims_mutex;
    // The idempotency key of every entry of this run, with its entry id once known.
    std::unordered_map<std::string, std::optional<std::string>> m_claims;
    std::mutex m_fatal_mutex;
    std::optional<Error> m_fatal;
    std::atomic<bool> m_stopping = false;
};

int run_post(const PostOptions& options, const Context& context) {
    const InterruptGuard interrupt_guard;
    const Settings settings = context.settings();
    std::optional<VerifyPolicy> policy;
    if (options.verify) {
        policy = make_verify_policy(options.signature, settings);
    }
    Diagnostics diagnostics(context.err, context.verbose);
    if (!settings.comptentra_key && !options.dry_run) {
        throw Error(ExitStatus::config, "no Comptentra API key is configured",
                    "set COMPTENTRA_API_KEY or pass --comptentra-key");
    }
    if (!settings.comptentra_key) {
        diagnostics.warn("no Comptentra API key: the dry run cannot tell which entries the "
                         "books already hold");
    }
    Poster poster(options, settings, context, diagnostics, std::move(policy));
    return poster.run(context);
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
    command
        ->add_option("--concurrency", options->concurrency,
                     "entries posted at the same time, each over its own kept-alive connection; "
                     "results keep the order of the inputs")
        ->type_name("N")
        ->check(CLI::Range(1, 32).description(""))
        ->capture_default_str();
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
