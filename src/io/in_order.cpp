#include "io/in_order.h"

namespace sc {

std::optional<std::size_t> InOrder::reserve() {
    std::unique_lock lock(m_mutex);
    m_has_room.wait(lock, [this] { return m_stopped || m_slots.size() < m_capacity; });
    if (m_stopped) {
        return std::nullopt;
    }
    m_slots.emplace_back();
    return m_first + m_slots.size() - 1;
}

void InOrder::fill(std::size_t slot, Emit emit) {
    const std::lock_guard lock(m_mutex);
    m_slots.at(slot - m_first) = std::move(emit);
    emit_front();
}

void InOrder::stop() {
    const std::lock_guard lock(m_mutex);
    m_stopped = true;
    m_has_room.notify_all();
}

void InOrder::drain() {
    const std::lock_guard lock(m_mutex);
    for (auto& slot : m_slots) {
        if (slot) {
            (*slot)();
        }
    }
    m_first += m_slots.size();
    m_slots.clear();
    m_has_room.notify_all();
}

void InOrder::emit_front() {
    bool emitted = false;
    while (!m_slots.empty() && m_slots.front()) {
        (*m_slots.front())();
        m_slots.pop_front();
        ++m_first;
        emitted = true;
    }
    if (emitted) {
        m_has_room.notify_all();
    }
}

} // namespace sc
