#include "cli/archive_booker.h"

#include "cli/settlement.h"
#include "core/capture.h"
#include "core/entry.h"
#include "core/stripe_objects.h"
#include "io/comptentra_client.h"
#include "io/http_client.h"
#include "io/interrupt.h"
#include "io/retry.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

namespace sc::cli {
namespace {

constexpr std::size_t k_queue_window = 4096;
// A capture whose booking meets a Comptentra or Stripe out of reach (or refusing the key) stays
// in the inbox and is tried again, after pauses doubling from the first to the longest: 10
// tries span about 20 minutes, then it goes to failed/.
constexpr int k_tries = 10;
constexpr Milliseconds k_first_pause{5'000};
constexpr Milliseconds k_longest_pause{300'000};

// Thrown when an interrupted run must leave a capture in the inbox.
struct LeftInInbox {};

bool interrupted_error(const Error& error) {
    return error.status() == ExitStatus::interrupted;
}

} // namespace

struct ArchiveBooker::Worker {
    Worker(const Settings& settings, const Context& context, Diagnostics& diagnostics)
        : http(http_timeouts(context)),
          books(http, ComptentraConfig{settings.comptentra_url, *settings.comptentra_key, {}},
                waiter, diagnostics),
          settlement(settings, context, diagnostics) {}

    SteadyWaiter waiter;
    CurlHttpClient http;
    ComptentraClient books;
    SettlementLookup settlement;
    std::thread thread;
};

ArchiveBooker::ArchiveBooker(CaptureArchive& archive, const Settings& settings,
                             const Context& context, Diagnostics& diagnostics, Reporter& reporter,
                             int workers)
    : m_archive(archive), m_settings(settings), m_diagnostics(diagnostics), m_reporter(reporter),
      m_queue(archive, k_queue_window) {
    for (int i = 0; i < workers; ++i) {
        m_workers.push_back(std::make_unique<Worker>(settings, context, diagnostics));
    }
}

void ArchiveBooker::start() {
    for (auto& worker : m_workers) {
        worker->thread = std::thread([this, &one = *worker] { work(one); });
    }
}

ArchiveBooker::~ArchiveBooker() {
    stop();
}

void ArchiveBooker::stop() {
    m_queue.close();
    for (auto& worker : m_workers) {
        if (worker->thread.joinable()) {
            worker->thread.join();
        }
    }
}

void ArchiveBooker::work(Worker& worker) {
    while (auto name = m_queue.take()) {
        if (interrupted()) {
            return; // stopping: what is not in hand waits in the inbox
        }
        try {
            if (!try_capture(worker, *name)) {
                m_queue.retry_later(*name, retry_delay(*name));
                continue;
            }
        } catch (const LeftInInbox&) {
            return; // the run is interrupted: the capture waits for the next start
        } catch (const Error& error) {
            if (interrupted_error(error)) {
                return;
            }
            warn_left(*name, error.what());
        } catch (const std::exception& error) {
            warn_left(*name, error.what());
        }
        m_queue.release(*name);
    }
}

bool ArchiveBooker::try_capture(Worker& worker, const std::string& name) {
    const auto bytes = m_archive.read(name);
    if (!bytes) {
        forget_tries(name);
        return true; // booked already, as a duplicate of itself
    }
    const std::string input = m_archive.inbox_path(name);
    std::vector<EntryDecision> decisions;
    try {
        StripeObject object = parse_stripe_json(parse_capture(*bytes, input).body, input);
        worker.settlement.complete(object);
        decisions = decide_entries(object, m_settings.ledger);
    } catch (const Error& error) {
        if (interrupted_error(error)) {
            throw LeftInInbox{};
        }
        ItemResult result;
        result.input = input;
        result.id = name;
        result.status = error.status() == ExitStatus::data_error ? "invalid" : "failed";
        result.reason = reason_for(input, error);
        result.exit = error.status();
        return settle(name, {result});
    }
    std::vector<ItemResult> results;
    for (EntryDecision& decision : decisions) {
        ItemResult& result = results.emplace_back();
        result.input = input;
        result.id = decision.object_id;
        result.reason = decision.reason;
        result.note = decision.note;
        if (decision.disposition == Disposition::book) {
            if (interrupted()) {
                throw LeftInInbox{}; // what is booked already is found by the next start
            }
            book(worker, decision, result);
        } else {
            const bool skipped = decision.disposition == Disposition::skip;
            result.status = skipped ? "skipped" : "invalid";
            result.exit = skipped ? ExitStatus::ok : ExitStatus::data_error;
        }
        if (result.exit == ExitStatus::interrupted) {
            throw LeftInInbox{};
        }
    }
    return settle(name, results);
}

void ArchiveBooker::book(Worker& worker, EntryDecision& decision, ItemResult& result) {
    const std::string& key = decision.idempotency_key;
    std::unique_lock lock(m_keys_mutex);
    m_key_free.wait(lock, [&] { return !m_keys_in_use.contains(key); });
    m_keys_in_use.insert(key);
    lock.unlock();
    try {
        set_booking(result, worker.books.book(*decision.entry, key));
    } catch (const Error& error) {
        result.status = "failed";
        result.reason = error.what();
        result.exit = error.status();
    }
    lock.lock();
    m_keys_in_use.erase(key);
    m_key_free.notify_all();
}

bool ArchiveBooker::settle(const std::string& name, const std::vector<ItemResult>& results) {
    std::string failures;
    for (const ItemResult& result : results) {
        if (result.exit == ExitStatus::temporary || result.exit == ExitStatus::permission) {
            if (may_try_again(name, result.reason)) {
                return false; // the books or Stripe are out of reach: nothing is settled yet
            }
        }
        if (result.exit != ExitStatus::ok) {
            failures +=
                fmt::format("{}{}: {}", failures.empty() ? "" : "; ", result.id, result.reason);
        }
    }
    report(results);
    if (failures.empty()) {
        m_archive.mark_done(name);
    } else {
        m_archive.mark_failed(name, failures);
    }
    forget_tries(name);
    return true;
}

bool ArchiveBooker::may_try_again(const std::string& name, const std::string& reason) {
    int tries = 0;
    {
        const std::lock_guard lock(m_tries_mutex);
        tries = ++m_tries[name];
    }
    if (tries >= k_tries) {
        return false;
    }
    m_diagnostics.warn(fmt::format("{} stays in the inbox after try {} of {}: {}; next try in {} s",
                                   m_archive.inbox_path(name), tries, k_tries, reason,
                                   retry_delay(name).count() / 1000));
    return true;
}

Milliseconds ArchiveBooker::retry_delay(const std::string& name) {
    int tries = 1;
    {
        const std::lock_guard lock(m_tries_mutex);
        tries = std::max(1, m_tries[name]);
    }
    const Milliseconds delay = k_first_pause * (1LL << std::min(tries - 1, 16));
    return std::min(delay, k_longest_pause);
}

void ArchiveBooker::forget_tries(const std::string& name) {
    const std::lock_guard lock(m_tries_mutex);
    m_tries.erase(name);
}

void ArchiveBooker::warn_left(const std::string& name, const std::string& reason) {
    m_diagnostics.warn(fmt::format("{} left in the inbox until the next start: {}",
                                   m_archive.inbox_path(name), reason));
}

void ArchiveBooker::report(const std::vector<ItemResult>& results) {
    const std::lock_guard lock(m_reporter_mutex);
    for (const ItemResult& result : results) {
        m_reporter.item(result);
    }
}

} // namespace sc::cli
