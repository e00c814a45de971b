#pragma once

#include "cli/common_options.h"
#include "cli/report.h"
#include "core/entry.h"
#include "io/capture_archive.h"
#include "io/diagnostics.h"
#include "io/inbox_queue.h"
#include "io/retry.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace sc::cli {

/// Books the captures of an archive's inbox behind `listen`'s answers. Each worker takes a
/// capture, books its entries exactly once as `post` does (over a connection of its own), and
/// moves it to done/, or to failed/ with the reason when it cannot be booked. A capture that
/// meets the books out of reach stays in the inbox and is tried again later. It starts with
/// what the inbox holds, so that what an earlier run acknowledged is booked too.
class ArchiveBooker {
  public:
    /// `reporter` prints one result per entry; the booker serialises its use.
    ArchiveBooker(CaptureArchive& archive, const Settings& settings, const Context& context,
                  Diagnostics& diagnostics, Reporter& reporter, int workers);
    ~ArchiveBooker();
    ArchiveBooker(const ArchiveBooker&) = delete;
    ArchiveBooker& operator=(const ArchiveBooker&) = delete;

    /// Starts the workers, on what the inbox holds first.
    void start();

    /// Hands a capture just added to the inbox to the workers.
    void arrived(const std::string& name) { m_queue.arrived(name); }

    /// Lets each worker finish the capture in hand (once the run is interrupted, only the
    /// request in flight), leaves the others in the inbox, and waits for the workers.
    void stop();

    struct Worker; // one worker's connections

  private:
    void work(Worker& worker);
    // Books a capture's entries; false when it must be tried again later.
    bool try_capture(Worker& worker, const std::string& name);
    void book(Worker& worker, EntryDecision& decision, ItemResult& result);
    // Reports the results and moves the capture to done/ or failed/; false instead when one
    // result says the books or Stripe are out of reach and the capture has tries left.
    bool settle(const std::string& name, const std::vector<ItemResult>& results);
    bool may_try_again(const std::string& name, const std::string& reason);
    Milliseconds retry_delay(const std::string& name);
    void forget_tries(const std::string& name);
    void warn_left(const std::string& name, const std::string& reason);
    void report(const std::vector<ItemResult>& results);

    CaptureArchive& m_archive;
    const Settings& m_settings;
    Diagnostics& m_diagnostics;
    Reporter& m_reporter;
    std::mutex m_reporter_mutex;
    InboxQueue m_queue;
    std::vector<std::unique_ptr<Worker>> m_workers;
    std::mutex m_keys_mutex;
    std::condition_variable m_key_free;
    std::unordered_set<std::string> m_keys_in_use; // idempotency keys being booked
    std::mutex m_tries_mutex;
    std::unordered_map<std::string, int> m_tries; // failed tries of the captures being retried
};

} // namespace sc::cli
