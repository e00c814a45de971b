#include "cli/commands.h"
#include "cli/period.h"
#include "cli/reconcile_report.h"
#include "cli/report.h"
#include "core/reconcile.h"
#include "io/comptentra_client.h"
#include "io/interrupt.h"
#include "io/run_lock.h"
#include "io/stripe_client.h"

#include <fmt/format.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace sc::cli {
namespace {

struct ReconcileOptions {
    PeriodOptions period;
    bool fix = false;
    bool quiet = false;
    std::optional<std::string> format;
    std::optional<std::string> lock;
    int concurrency = 4;
    std::optional<std::string> stripe_account;
    double max_rps = 0;
};

// Entries dated this many days around the period are read too, so that an entry dated across
// a boundary is matched with its charge.
constexpr int k_margin_days = 3;

// Charges created this close to the reading of the books may be booked by a webhook meanwhile:
// --fix looks them up again before posting.
constexpr std::int64_t k_recent_seconds = 3 * 86'400;

ReconcileFormat format_of(const ReconcileOptions& options, const Context& context) {
    const std::string format = options.format.value_or(context.json ? "json" : "table");
    if (context.json && format != "json") {
        throw Error(ExitStatus::usage,
                    fmt::format("--json and --format {} ask for two formats", format));
    }
    return format == "json"  ? ReconcileFormat::json
           : format == "csv" ? ReconcileFormat::csv
                             : ReconcileFormat::table;
}

// One reconcile run: reads the books of the period, lists the period's charges and compares
// each with its entries, looks up the charges of the entries left over, then posts the missing
// entries when asked to.
class Reconcile {
  public:
    Reconcile(const ReconcileOptions& options, const Settings& settings, const Context& context)
        : m_options(options), m_settings(settings), m_context(context),
          m_format(format_of(options, context)), m_now(unix_now()),
          m_period(period_of(options.period, settings.ledger.time_zone, m_now)),
          m_diagnostics(context.err, context.verbose),
          m_reconciliation(m_period.first, m_period.last) {}

    int run() {
        if (!m_settings.stripe_key) {
            throw Error(ExitStatus::config, "no Stripe API key is configured",
                        "set STRIPE_API_KEY or pass --stripe-key (read access to charges)");
        }
        if (!m_settings.comptentra_key) {
            throw Error(ExitStatus::config, "no Comptentra API key is configured",
                        "set COMPTENTRA_API_KEY or pass --comptentra-key");
        }
        const RunLock lock(
            m_options.lock.value_or(default_lock_path(m_context.environment, "reconcile")), m_now);
        ExitStatus fatal = ExitStatus::ok;
        bool compared = false;
        try {
            compare();
            compared = true;
            if (m_options.fix) {
                fix();
            }
        } catch (const Error& error) {
            print_error(m_context.err, fmt::format("stopped: {}", error.what()), error.hint());
            fatal = error.status();
        }
        const ReconcileTotals totals{
            fmt::format("{} to {}", to_iso(m_period.first), to_iso(m_period.last)),
            m_reconciliation.charges() - m_refunds, m_refunds, m_reconciliation.entries(),
            compared};
        return print_reconcile_report(m_context.out, m_context.err, m_format, m_options.quiet,
                                      std::move(m_items), totals, fatal);
    }

  private:
    ComptentraConfig comptentra_config() const {
        return ComptentraConfig{m_settings.comptentra_url, *m_settings.comptentra_key, {}};
    }

    void compare() {
        const HttpTimeouts timeouts = http_timeouts(m_context);
        read_books(timeouts);
        CurlHttpClient http(timeouts);
        StripeClient stripe(http,
                            StripeConfig{m_settings.stripe_url,
                                         *m_settings.stripe_key,
                                         m_options.stripe_account,
                                         m_options.max_rps,
                                         {}},
                            m_waiter, m_diagnostics);
        const auto check = [this](const nlohmann::json& document) {
            stop_if_interrupted("while listing Stripe");
            if (auto listed = read_object(document)) {
                add(m_reconciliation.check_charge(*listed));
            }
        };
        stripe.list_charges(m_period.from, m_period.until, check);
        stripe.list_refunds(m_period.from, m_period.until, [this](const nlohmann::json& refund) {
            if (auto listed = read_object(refund)) {
                ++m_refunds;
                add(m_reconciliation.check_charge(*listed));
            }
        });
        for (const std::string& id : m_reconciliation.unclaimed_charges()) {
            std::optional<ListedObject> listed;
            const auto found =
                id.starts_with("re_") ? stripe.get_refund(id) : stripe.get_charge(id);
            if (found) {
                listed = read_object(*found);
                if (!listed) {
                    continue;
                }
            }
            add(m_reconciliation.check_unclaimed(id, listed));
        }
    }

    void read_books(const HttpTimeouts& timeouts) {
        CurlHttpClient http(timeouts);
        ComptentraClient books(http, comptentra_config(), m_waiter, m_diagnostics);
        m_books_read_at = unix_now();
        const bool filtered = books.list_entries(
            m_settings.ledger.journal, shift_days(m_period.first, -k_margin_days),
            shift_days(m_period.last, k_margin_days), [this](const nlohmann::json& stored) {
                m_reconciliation.add_entry(parse_stored_entry(stored));
            });
        if (!filtered) {
            throw Error(ExitStatus::refused,
                        fmt::format("Comptentra {} ignores the list filters, so the entries of the "
                                    "period cannot be read",
                                    url_origin(m_settings.comptentra_url)),
                        "reconcile needs a Comptentra that filters GET /ecritures by date");
        }
    }

    // The charge or refund and its entry decision; nothing, the problem reported, when it cannot
    // be read.
    std::optional<ListedObject> read_object(const nlohmann::json& document) {
        try {
            StripeObject object = parse_stripe_object(document, "stripe");
            std::int64_t created = 0;
            if (const Charge* charge = std::get_if<Charge>(&object)) {
                created = charge->created;
            } else if (const Refund* refund = std::get_if<Refund>(&object)) {
                created = refund->created;
            } else {
                throw Error(ExitStatus::data_error,
                            "stripe: the listed object is not a charge or a refund");
            }
            return ListedObject{m_settings.ledger.time_zone.day_of(created),
                                decide_entry(object, m_settings.ledger), created};
        } catch (const Error& error) {
            throw unreadable_answer(m_settings.stripe_url, error);
        }
    }

    void add(std::optional<Difference> difference) {
        if (difference) {
            const ExitStatus exit = difference->kind == DifferenceKind::invalid
                                        ? ExitStatus::data_error
                                        : ExitStatus::negative;
            m_items.push_back(ReconcileItem{std::move(*difference), {}, {}, exit});
        }
    }

    // Posts the missing entries, each exactly once, over a few connections at a time.
    void fix() {
        std::vector<ReconcileItem*> missing;
        for (ReconcileItem& item : m_items) {
            if (item.difference.kind == DifferenceKind::missing) {
                missing.push_back(&item);
            }
        }
        const HttpTimeouts timeouts = http_timeouts(m_context);
        std::atomic<std::size_t> next = 0;
        std::atomic<bool> stopping = false;
        std::optional<Error> stopped_by;
        std::mutex mutex;
        const auto work = [&] {
            CurlHttpClient http(timeouts);
            ComptentraClient books(http, comptentra_config(), m_waiter, m_diagnostics);
            for (std::size_t i = next++; i < missing.size() && !stopping; i = next++) {
                try {
                    stop_if_interrupted("while posting the missing entries");
                    post(books, *missing[i]);
                } catch (const Error& error) {
                    const std::lock_guard guard(mutex);
                    stopping = true;
                    stopped_by = stopped_by.value_or(error);
                }
            }
        };
        std::vector<std::thread> workers;
        const auto count =
            std::min<std::size_t>(static_cast<std::size_t>(m_options.concurrency), missing.size());
        for (std::size_t i = 0; i < count; ++i) {
            workers.emplace_back(work);
        }
        for (auto& worker : workers) {
            worker.join();
        }
        if (stopped_by) {
            throw *stopped_by;
        }
    }

    void post(ComptentraClient& books, ReconcileItem& item) {
        const Entry& entry = *item.difference.expected;
        const std::string key = item.difference.idempotency_key;
        const bool recent = item.difference.created >= m_books_read_at - k_recent_seconds;
        const BookResult booked = recent ? books.book(entry, key) : books.post_missing(entry, key);
        if (booked.status == BookStatus::failed) {
            item.fix_status = "failed";
            item.fix_reason = booked.reason;
            item.exit = booked.exit;
            return;
        }
        item.fix_status = "posted";
        item.exit = ExitStatus::ok;
        item.difference.found.push_back(StoredEntry{
            booked.entry_id, to_iso(entry.date), entry.journal, entry.libelle, entry.lines, {}});
    }

    const ReconcileOptions& m_options;
    const Settings& m_settings;
    const Context& m_context;
    ReconcileFormat m_format;
    std::int64_t m_now;
    Period m_period;
    SteadyWaiter m_waiter;
    Diagnostics m_diagnostics;
    Reconciliation m_reconciliation;
    std::vector<ReconcileItem> m_items;
    std::int64_t m_books_read_at = 0;
    std::size_t m_refunds = 0; ///< refunds listed and checked, among the objects checked
};

} // namespace

CommandRunner add_reconcile_command(CLI::App& app, Context& context) {
    auto options = std::make_shared<ReconcileOptions>();
    CLI::App* command = app.add_subcommand(
        "reconcile", "compare Stripe and Comptentra over a period; exit 1 on any difference");
    add_optional(*command, "--since", options->period.since, "first day of the period (YYYY-MM-DD)")
        ->type_name("DATE");
    add_optional(*command, "--until", options->period.until,
                 "last day of the period, included (default: today in the books' time zone)")
        ->type_name("DATE");
    add_optional(*command, "--last", options->period.last,
                 "the period ending today instead: 7d for seven days, 24h for the days that the "
                 "last 24 hours touch")
        ->type_name("SPAN");
    command->add_flag("--fix", options->fix,
                      "post the missing entries, exactly once; never changes or deletes an entry");
    command->add_flag("-q,--quiet", options->quiet, "print nothing when the books match Stripe");
    add_optional(*command, "--format", options->format, "table (default), json (as --json) or csv")
        ->type_name("FORMAT")
        ->check(CLI::IsMember({"table", "json", "csv"}).description(""));
    add_optional(*command, "--lock", options->lock,
                 "lock file that keeps two runs from overlapping (default: "
                 "$XDG_RUNTIME_DIR/stripe-comptentra-reconcile.lock, else under /tmp)")
        ->type_name("FILE");
    command
        ->add_option("--concurrency", options->concurrency,
                     "entries posted at the same time by --fix, each over its own connection")
        ->type_name("N")
        ->check(CLI::Range(1, 32).description(""))
        ->capture_default_str();
    add_stripe_listing_options(*command, context.flags, options->stripe_account, options->max_rps);
    add_comptentra_options(*command, context.flags);
    add_ledger_options(*command, context.flags);
    command->footer("Examples:\n"
                    "  stripe-comptentra reconcile --since 2026-11-01 --until 2026-11-30\n"
                    "  stripe-comptentra reconcile --last 7d -q      # in a crontab\n"
                    "  stripe-comptentra reconcile --last 24h --fix --format csv");
    return [options, &context] {
        const Settings settings = context.settings();
        const InterruptGuard interrupt_guard;
        return Reconcile(*options, settings, context).run();
    };
}

} // namespace sc::cli
