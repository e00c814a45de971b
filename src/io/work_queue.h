#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

namespace sc {

/// A bounded queue between one producer and several worker threads: push() blocks while the
/// queue is full, so memory stays bounded however many items flow through it.
template <typename Item> class WorkQueue {
  public:
    explicit WorkQueue(std::size_t capacity) : m_capacity(capacity) {}

    /// Adds an item, waiting for room; returns false (dropping it) once the queue is closed.
    bool push(Item item) {
        std::unique_lock lock(m_mutex);
        m_not_full.wait(lock, [this] { return m_closed || m_items.size() < m_capacity; });
        if (m_closed) {
            return false;
        }
        m_items.push_back(std::move(item));
        m_not_empty.notify_one();
        return true;
    }

    /// The next item; nothing once the queue is closed and empty.
    std::optional<Item> pop() {
        std::unique_lock lock(m_mutex);
        m_not_empty.wait(lock, [this] { return m_closed || !m_items.empty(); });
        if (m_items.empty()) {
            return std::nullopt;
        }
        Item item = std::move(m_items.front());
        m_items.pop_front();
        m_not_full.notify_one();
        return item;
    }

    /// No more items will come: workers drain what is left, then pop() returns nothing.
    void close() {
        const std::lock_guard lock(m_mutex);
        m_closed = true;
        m_not_empty.notify_all();
        m_not_full.notify_all();
    }

    /// Stops at once: what is queued is dropped.
    void abandon() {
        const std::lock_guard lock(m_mutex);
        m_items.clear();
        m_closed = true;
        m_not_empty.notify_all();
        m_not_full.notify_all();
    }

  private:
    std::size_t m_capacity;
    std::deque<Item> m_items;
    bool m_closed = false;
    std::mutex m_mutex;
    std::condition_variable m_not_empty;
    std::condition_variable m_not_full;
};

} // namespace sc
