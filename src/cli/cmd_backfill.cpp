#include "cli/commands.h"
#include "cli/fec_output.h"
#include "cli/period.h"
#include "cli/progress.h"
#include "cli/report.h"
#include "core/entry.h"
#include "io/comptentra_client.h"
#include "io/interrupt.h"
#include "io/stripe_client.h"
#include "io/work_queue.h"

#include <fmt/format.h>

#include <atomic>
#include <iostream>
#include <mutex>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <unordered_set>

namespace sc::cli {
namespace {

struct BackfillOptions {
    PeriodOptions period;
    int concurrency = 4;
    bool dry_run = false;
    bool fec = false; ///< --format fec: the dry run's entries as a FEC on stdout
    std::optional<std::string> stripe_account;
    double max_rps = 0;
};

// Charges created this close to the reading of the books may be booked by a webhook meanwhile
// (Stripe retries deliveries for three days).
constexpr std::int64_t k_recent_seconds = 3 * 86'400;

// One backfill run: lists the period's charges on this thread and hands the entries the books
// lack to worker threads, each with its own connection to Comptentra.
class Backfill {
  public:
    Backfill(const BackfillOptions& options, const Settings& settings, const Context& context)
        : m_options(options), m_settings(settings), m_context(context),
          m_period(period_of(options.period, settings.ledger.time_zone, unix_now())),
          m_diagnostics(context.err, context.verbose),
          m_reporter(options.fec ? context.err : context.out, context.err, context.json,
                     ReportStyle{ExitRule::highest, "items", true, true}),
          m_progress(m_diagnostics, &context.err == &std::cerr && isatty(STDERR_FILENO) == 1,
                     m_period.from, m_period.until),
          m_queue(static_cast<std::size_t>(options.concurrency) * 64) {}

    int run() {
        if (!m_settings.stripe_key) {
            throw Error(ExitStatus::config, "no Stripe API key is configured",
                        "set STRIPE_API_KEY or pass --stripe-key (read access to charges)");
        }
        if (!m_settings.comptentra_key && !m_options.dry_run) {
            throw Error(ExitStatus::config, "no Comptentra API key is configured",
                        "set COMPTENTRA_API_KEY or pass --comptentra-key");
        }
        const HttpTimeouts timeouts = http_timeouts(m_context);
        CurlHttpClient stripe_http(timeouts);
        StripeClient stripe(stripe_http,
                            StripeConfig{m_settings.stripe_url,
                                         *m_settings.stripe_key,
                                         m_options.stripe_account,
                                         m_options.max_rps,
                                         {}},
                            m_waiter, m_diagnostics);
        try {
            read_books(timeouts);
            start_workers(timeouts);
            stripe.list_charges(m_period.from, m_period.until,
                                [this](const nlohmann::json& charge) { dispatch(charge); });
            stripe.list_refunds(m_period.from, m_period.until,
                                [this](const nlohmann::json& refund) { dispatch(refund); });
            m_queue.close();
        } catch (const Error& error) {
            m_queue.abandon();
            stop(error);
        } catch (const Stopped&) {
            m_queue.abandon();
        } catch (...) {
            m_queue.abandon();
            join_workers();
            throw;
        }
        join_workers();
        m_progress.finish();
        if (m_fatal) {
            m_reporter.fatal(*m_fatal);
        }
        if (m_options.fec) {
            const ExitStatus written = m_fec.write(m_context.out, m_context.err);
            return std::max(m_reporter.finish(), to_int(written));
        }
        return m_reporter.finish();
    }

  private:
    struct Stopped {};

    void join_workers() {
        for (auto& worker : m_workers) {
            if (worker.joinable()) {
                worker.join();
            }
        }
    }

    void read_books(const HttpTimeouts& timeouts) {
        if (!m_settings.comptentra_key) {
            m_diagnostics.warn("no Comptentra API key: the dry run cannot tell which entries "
                               "the books already hold");
            return;
        }
        CurlHttpClient http(timeouts);
        ComptentraClient books(http, comptentra_config(), m_waiter, m_diagnostics);
        m_books_read_at = unix_now();
        // A few days around the period, so that an entry dated across a boundary is seen.
        constexpr int k_margin_days = 3;
        std::vector<std::string> journals = {m_settings.ledger.journal};
        if (m_settings.ledger.book_fees && m_settings.ledger.fees_journal != journals.front()) {
            journals.push_back(m_settings.ledger.fees_journal);
        }
        m_indexed = true;
        for (const std::string& journal : journals) {
            m_indexed = m_indexed && books.list_libelles(
                                         journal, shift_days(m_period.first, -k_margin_days),
                                         shift_days(m_period.last, k_margin_days),
                                         [this](const std::string& libelle, const std::string& id) {
                                             m_booked.emplace(libelle, id);
                                         });
        }
        if (!m_indexed) {
            m_booked.clear();
        }
        if (!m_indexed && !m_options.dry_run) {
            throw Error(ExitStatus::refused,
                        fmt::format("Comptentra {} ignores the list filters, so the entries the "
                                    "books hold for the period cannot be read: backfilling could "
                                    "book charges twice",
                                    url_origin(m_settings.comptentra_url)),
                        "post the payments with 'post', or use a Comptentra that filters "
                        "GET /ecritures by date");
        }
        if (!m_indexed) {
            m_diagnostics.warn("Comptentra ignores the list filters: the dry run cannot tell "
                               "which entries the books already hold");
        }
    }

    ComptentraConfig comptentra_config() const {
        return ComptentraConfig{m_settings.comptentra_url, *m_settings.comptentra_key, {}};
    }

    void start_workers(const HttpTimeouts& timeouts) {
        if (m_options.dry_run) {
            return;
        }
        for (int i = 0; i < m_options.concurrency; ++i) {
            m_workers.emplace_back([this, timeouts] { work(timeouts); });
        }
    }

    // Lists on the calling thread; throws Stopped once a worker has hit a fatal error.
    void dispatch(const nlohmann::json& document) {
        if (m_stopping) {
            throw Stopped{};
        }
        stop_if_interrupted("while listing Stripe");
        ItemResult result;
        result.input = "stripe";
        std::vector<EntryDecision> decisions;
        std::int64_t created = 0;
        try {
            StripeObject object = parse_stripe_object(document, "stripe");
            result.id = object_id(object);
            if (const auto* charge = std::get_if<Charge>(&object)) {
                created = charge->created;
                m_progress.listed(created);
            } else if (const auto* refund = std::get_if<Refund>(&object)) {
                created = refund->created;
            }
            decisions = decide_entries(object, m_settings.ledger);
        } catch (const Error& error) {
            throw unreadable_answer(m_settings.stripe_url, error);
        }
        for (EntryDecision& decision : decisions) {
            ItemResult decided = result;
            decided.id = decision.object_id;
            dispatch(decided, decision, created);
        }
    }

    // Reports an entry decision, or queues its entry when the books lack it.
    void dispatch(ItemResult& result, EntryDecision& decision, std::int64_t created) {
        result.reason = decision.reason;
        result.note = decision.note;
        if (decision.disposition != Disposition::book) {
            const bool skipped = decision.disposition == Disposition::skip;
            result.status = skipped ? "skipped" : "invalid";
            result.exit = skipped ? ExitStatus::ok : ExitStatus::data_error;
            return report(result, !skipped);
        }
        const std::string& libelle = decision.entry->libelle;
        if (const auto known = m_booked.find(libelle); known != m_booked.end()) {
            result.status = "exists";
            if (!known->second.empty()) {
                result.entry_id = known->second;
            }
            return report(result, false);
        }
        // Stripe lists each object once, so this set only guards against a list that repeats
        // itself: a libellé seen again (or one whose hash is shared) is looked up before posting.
        const bool seen = !m_dispatched.insert(std::hash<std::string>{}(libelle)).second;
        if (m_options.dry_run && seen) {
            result.status = "exists";
            return report(result, false);
        }
        if (m_options.dry_run) {
            result.status = "would_post";
            if (m_options.fec) {
                m_fec.add(*decision.entry, result.id);
                return report(result, false);
            }
            result.entry = to_json(*decision.entry);
            return report(result, true);
        }
        // A recent charge may be booked by a webhook after the books were read: look it up.
        const bool recent = created >= m_books_read_at - k_recent_seconds;
        m_queue.push(Job{std::move(result), std::move(*decision.entry),
                         std::move(decision.idempotency_key), recent || seen});
    }

    struct Job {
        ItemResult result;
        Entry entry;
        std::string idempotency_key;
        bool look_up_first = false;
    };

    void work(const HttpTimeouts& timeouts) {
        CurlHttpClient http(timeouts);
        ComptentraClient books(http, comptentra_config(), m_waiter, m_diagnostics);
        while (auto job = m_queue.pop()) {
            ItemResult& result = job->result;
            if (interrupted()) { // the job is left for the next run, like those still queued
                stop(interruption("while posting"));
                m_queue.abandon();
                return;
            }
            try {
                const std::string& key = job->idempotency_key;
                const BookResult booked = m_indexed && !job->look_up_first
                                              ? books.post_missing(job->entry, key)
                                              : books.book(job->entry, key);
                set_booking(result, booked);
                report(result, result.status != "exists");
            } catch (const Error& error) {
                return give_up(result, error);
            } catch (const std::exception& error) {
                return give_up(result, Error(ExitStatus::internal,
                                             fmt::format("internal error: {}", error.what())));
            }
        }
    }

    // Reports the job that met a fatal error and stops the whole run.
    void give_up(ItemResult& result, const Error& error) {
        result.status = "failed";
        result.reason = error.what();
        result.exit = error.status();
        report(result, true);
        stop(error);
        m_queue.abandon();
    }

    void stop(const Error& error) {
        const std::lock_guard lock(m_mutex);
        if (!m_fatal) {
            m_fatal = error;
        }
        m_stopping = true;
    }

    // Counts every result; prints it with --json, or in text when it needs attention.
    void report(const ItemResult& result, bool notable) {
        const std::lock_guard lock(m_mutex);
        if (m_context.json || notable) {
            m_progress.clear();
            m_reporter.item(result);
        } else {
            m_reporter.tally(result);
        }
        m_progress.update(m_reporter.counts());
    }

    const BackfillOptions& m_options;
    const Settings& m_settings;
    const Context& m_context;
    Period m_period;
    SteadyWaiter m_waiter;
    Diagnostics m_diagnostics;
    Reporter m_reporter;
    Progress m_progress;
    WorkQueue<Job> m_queue;
    FecOutput m_fec;
    std::vector<std::thread> m_workers;
    // The lister's only: the libellés in the books with their entry id, and the hashes of the
    // libellés of this run's entries (a few bytes each, so that memory stays flat).
    std::unordered_map<std::string, std::string> m_booked;
    std::unordered_set<std::size_t> m_dispatched;
    bool m_indexed = false;
    std::int64_t m_books_read_at = 0;
    std::mutex m_mutex;
    std::optional<Error> m_fatal;
    std::atomic<bool> m_stopping = false;
};

} // namespace

CommandRunner add_backfill_command(CLI::App& app, Context& context) {
    auto options = std::make_shared<BackfillOptions>();
    CLI::App* command = app.add_subcommand(
        "backfill", "list past charges from the Stripe API and post the missing VTE entries");
    add_optional(*command, "--since", options->period.since, "first day of the period (YYYY-MM-DD)")
        ->type_name("DATE")
        ->required();
    add_optional(*command, "--until", options->period.until,
                 "last day of the period, included (default: today in the books' time zone)")
        ->type_name("DATE");
    command
        ->add_option("--concurrency", options->concurrency,
                     "entries posted at the same time, each over its own kept-alive connection")
        ->type_name("N")
        ->check(CLI::Range(1, 32).description(""))
        ->capture_default_str();
    command
        ->add_option_function<std::string>(
            "--format", [options](const std::string& format) { options->fec = format == "fec"; },
            "with --dry-run, fec writes the entries that would be posted as a Fichier des "
            "Ecritures Comptables on stdout (the results go to stderr)")
        ->type_name("FORMAT")
        ->check(CLI::IsMember({"text", "fec"}).description(""));
    command->add_flag("--dry-run", options->dry_run,
                      "write nothing: list the entries that would be posted");
    add_stripe_listing_options(*command, context.flags, options->stripe_account, options->max_rps);
    add_comptentra_options(*command, context.flags);
    add_ledger_options(*command, context.flags);
    command->footer("Examples:\n"
                    "  stripe-comptentra backfill --since 2026-11-01 --until 2026-11-30\n"
                    "  stripe-comptentra backfill --since 2026-11-01 --dry-run\n"
                    "  stripe-comptentra --json backfill --since 2026-11-01 --concurrency 8");
    return [options, &context] {
        if (options->fec && !options->dry_run) {
            throw Error(ExitStatus::usage, "--format fec is for a dry run: add --dry-run",
                        "a FEC of what the books hold is exported from Comptentra itself");
        }
        const Settings settings = context.settings();
        const InterruptGuard interrupt_guard;
        return Backfill(*options, settings, context).run();
    };
}

} // namespace sc::cli
