#pragma once

#include "io/capture_archive.h"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>

namespace sc {

/// The captures of an archive's inbox waiting for a worker, each handed to one worker at a
/// time. The inbox on disk is the queue itself: this keeps at most `window` names in memory,
/// and reads the folder again at the start and whenever arrivals overflowed the window (every
/// second while the folder cannot be read).
class InboxQueue {
  public:
    InboxQueue(const CaptureArchive& archive, std::size_t window)
        : m_archive(archive), m_window(window) {}

    /// Says that a capture was added to the inbox. Never blocks.
    void arrived(std::string name);

    /// The next capture for a worker, once one waits; nothing after close().
    std::optional<std::string> take();

    /// Says that the worker that took `name` is done with it.
    void release(const std::string& name);

    /// Says that the worker that took `name` could not book it yet: it is handed out again
    /// once `delay` has passed, not before, even if it arrives again meanwhile.
    void retry_later(const std::string& name, std::chrono::milliseconds delay);

    /// Ends every take(), now and later.
    void close();

  private:
    using Clock = std::chrono::steady_clock;

    void push(std::string name);
    void reread_inbox(std::unique_lock<std::mutex>& lock);
    void wake_due(Clock::time_point now);

    const CaptureArchive& m_archive;
    std::size_t m_window;
    std::mutex m_mutex;
    std::condition_variable m_ready;
    std::deque<std::string> m_waiting;
    std::unordered_set<std::string> m_waiting_names;
    std::unordered_set<std::string> m_taken;
    std::unordered_set<std::string> m_again;                 // arrived again while taken
    std::multimap<Clock::time_point, std::string> m_delayed; // to retry, by when
    std::unordered_set<std::string> m_delayed_names;
    bool m_overflowed = true; // the inbox may hold names not in m_waiting
    bool m_rereading = false;
    bool m_closed = false;
};

} // namespace sc
