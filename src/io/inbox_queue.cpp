#include "io/inbox_queue.h"

#include <vector>

namespace sc {

void InboxQueue::push(std::string name) {
    if (m_waiting_names.contains(name)) {
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
    const std::vector<std::string> names = m_archive.inbox(limit);
    lock.lock();
    m_rereading = false;
    for (const std::string& name : names) {
        if (!m_taken.contains(name)) {
            push(name);
        }
    }
    if (names.size() == limit) {
        m_overflowed = true;
    }
    m_ready.notify_all();
}

std::optional<std::string> InboxQueue::take() {
    std::unique_lock lock(m_mutex);
    while (!m_closed) {
        if (m_waiting.empty() && m_overflowed && !m_rereading) {
            reread_inbox(lock);
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

void InboxQueue::close() {
    const std::lock_guard lock(m_mutex);
    m_closed = true;
    m_ready.notify_all();
}

} // namespace sc
