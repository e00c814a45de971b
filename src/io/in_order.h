#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

namespace sc {

/// Passes a batch's results on in the order its items were read, whichever worker finishes
/// them first: an item takes a slot when it is read and fills it once its result is known;
/// the filled slots at the front are emitted one at a time, under one lock, so that what
/// they do (print a result) needs no other.
class InOrder {
  public:
    /// What passes one result on; it must not call back into this object.
    using Emit = std::function<void()>;

    /// At most `capacity` slots wait at once: reserve() blocks beyond that, so memory stays
    /// bounded while the item at the front is slow.
    explicit InOrder(std::size_t capacity) : m_capacity(capacity) {}

    /// Takes the next slot, waiting for room; nothing once stop() was called.
    std::optional<std::size_t> reserve();

    /// Fills a slot, then emits every filled slot at the front.
    void fill(std::size_t slot, Emit emit);

    /// No more slots: reserve() returns nothing from now on, also to a caller waiting in it.
    void stop();

    /// Emits the filled slots still waiting, in order, passing over those that will never be
    /// filled (their items were dropped when the batch stopped). Call once every filler is done.
    void drain();

  private:
    void emit_front();

    std::size_t m_capacity;
    std::deque<std::optional<Emit>> m_slots;
    std::size_t m_first = 0; ///< the number of the slot at the front
    bool m_stopped = false;
    std::mutex m_mutex;
    std::condition_variable m_has_room;
};

} // namespace sc
