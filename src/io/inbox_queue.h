#pragma once

#include "io/capture_archive.h"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>

namespace sc {

/// The captures of an archive's inbox waiting for a worker, each handed to one worker at a
/// time. The inbox on disk is the queue itself: this keeps at most `window` names in memory,
/// and reads the folder again at the start and whenever arrivals overflowed the window.
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

    /// Ends every take(), now and later.
    void close();

  private:
    void push(std::string name);
    void reread_inbox(std::unique_lock<std::mutex>& lock);

    const CaptureArchive& m_archive;
    std::size_t m_window;
    std::mutex m_mutex;
    std::condition_variable m_ready;
    std::deque<std::string> m_waiting;
    std::unordered_set<std::string> m_waiting_names;
    std::unordered_set<std::string> m_taken;
    std::unordered_set<std::string> m_again; // arrived again while taken
    bool m_overflowed = true;                // the inbox may hold names not in m_waiting
    bool m_rereading = false;
    bool m_closed = false;
};

} // namespace sc
