#include "io/inbox_queue.h"

#include "core/error.h"

#include <vector>

namespace sc {

void InboxQueue::push(std::string name) {
    if (m_waiting_names.contains(name) || m_delayed_names.contains(name)) {
        return;
    }
    if (m_waiting.size() >= m_window) {
        m_overflowed = true; // the folder keeps it; reread_inbox() finds it
        return;
    }
    m_waiting_names.insert(name);
    m_waiting.push_back(std::move(name));
}

void InboxQueue::arrived(std::string name) {
    const std::lock_guard lock(m_mutex);
    push(std::move(name));
    m_ready.notify_one();
}

void InboxQueue::reread_inbox(std::unique_lock<std::mutex>& lock) {
    m_overflowed = false;
    m_rereading = true;
    const std::size_t limit = m_window + m_taken.size();
    lock.unlock();
    std::optional<std::vector<std::string>> names;
    try {
        names = m_archive.inbox(limit);
    } catch (const Error&) {
        // Out of file descriptors, say: try again in a second rather than spin.
    }
    lock.lock();
    m_rereading = false;
    if (!names) {
        m_overflowed = true;
        m_ready.wait_for(lock, std::chrono::seconds(1));
        return;
    }
    for (const std::string& name : *names) {
        if (!m_taken.contains(name)) {
            push(name);
        }
    }
    if (names->size() == limit) {
        m_overflowed = true;
    }
    m_ready.notify_all();
}

void InboxQueue::wake_due(Clock::time_point now) {
    while (!m_delayed.empty() && m_delayed.begin()->first <= now) {
        std::string name = std::move(m_delayed.begin()->second);
        m_delayed.erase(m_delayed.begin());
        m_delayed_names.erase(name);
        push(std::move(name));
    }
}

std::optional<std::string> InboxQueue::take() {
    std::unique_lock lock(m_mutex);
    while (!m_closed) {
        wake_due(Clock::now());
        if (m_waiting.empty() && m_overflowed && !m_rereading) {
            reread_inbox(lock);
            continue;
        }
        if (m_waiting.empty() && !m_delayed.empty()) {
            const Clock::time_point due = m_delayed.begin()->first; // a copy: others may erase it
            m_ready.wait_until(lock, due);
            continue;
        }
        if (m_waiting.empty()) {
            m_ready.wait(lock);
            continue;
        }
        std::string name = std::move(m_waiting.front());
        m_waiting.pop_front();
        m_waiting_names.erase(name);
        if (m_taken.contains(name)) {
            m_again.insert(std::move(name));
            continue;
        }
        m_taken.insert(name);
        return name;
    }
    return std::nullopt;
}

void InboxQueue::release(const std::string& name) {
    const std::lock_guard lock(m_mutex);
    m_taken.erase(name);
    if (m_again.erase(name) > 0) {
        push(name);
        m_ready.notify_one();
    }
}

void InboxQueue::retry_later(const std::string& name, std::chrono::milliseconds delay) {
    const std::lock_guard lock(m_mutex);
    m_taken.erase(name);
    m_again.erase(name);
    m_delayed_names.insert(name);
    m_delayed.emplace(Clock::now() + delay, name);
    m_ready.notify_one();
}

void InboxQueue::close() {
    const std::lock_guard lock(m_mutex);
    m_closed = true;
    m_ready.notify_all();
}

} // namespace sc
