// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::sync::mpsc<T>(capacity)`: a bounded multi-producer, single-consumer channel with
/// back-pressure (Tokio's bounded `mpsc`).
///
/// ## Design
///
/// Three parts, each with its own protocol:
/// - `Semaphore permits` (zuki/sync/semaphore.hpp) counts the free cells. A send first takes one
///   permit (waiting in FIFO order when the channel is full: the back-pressure), then pushes; the
///   receiver gives the permit back after popping. Closing the channel closes the semaphore,
///   which fails the waiting sends (their values are given back).
/// - `BoundedQueue values` (zuki/sync/detail/bounded_queue.hpp): Vyukov's lock-free bounded
///   queue. A permit guarantees a free cell.
/// - `Notify rx_notify` (zuki/sync/notify.hpp): a producer calls `notify_one()` after each push
///   and the last sender after closing; the receiver polls a `Notified` after finding the queue
///   empty. Because `notify_one()` stores a permit when nobody waits, a push between the
///   receiver's empty pop and its registration is not lost: the registration consumes the permit
///   and the receiver pops again.
///
/// Fast path (room in the channel, a value ready): lock-free, one CAS on the semaphore, one on
/// the queue, one on the notify word. Only waiting (a full channel, an empty one) takes a mutex,
/// as in Tokio.
///
/// Cancellation: a `Send` dropped before it got its permit has sent nothing (its value is
/// destroyed with it; the semaphore passes on any permit it was granted); once it has the
/// permit it pushes within the same poll, so no send is ever half done. A `Recv` dropped while
/// pending loses no value (values stay in the queue) and passes on its notification.

#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include <zuki/core/context.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/detail/atomic.hpp>
#include <zuki/sync/detail/bounded_queue.hpp>
#include <zuki/sync/notify.hpp>
#include <zuki/sync/semaphore.hpp>
#include <zuki/sync/send_result.hpp>

namespace zuki::sync {

template <class T>
class MpscSender;
template <class T>
class MpscReceiver;

namespace detail {

template <class T>
struct MpscChannel {
    explicit MpscChannel(std::size_t capacity) : permits(capacity), values(capacity) {}

    Semaphore permits;  // free cells; closed when the receiver is gone
    BoundedQueue<T> values;
    Notify rx_notify;  // a value was pushed, or the last sender left
    zuki::detail::atomic<std::size_t> senders{1};  // MpscSender objects (and pending sends)

    // Push a value for which a permit was taken, and tell the receiver.
    void push(T& v) {
        if (!values.try_push(v))  // cannot happen: a permit guarantees a free cell
            throw std::logic_error("zuki::sync::mpsc: no free cell for a permitted send");
        rx_notify.notify_one();
    }
    // The receiver's pop: a value gives its cell back to the senders.
    std::optional<T> pop() {
        std::optional<T> v = values.try_pop();
        if (v) permits.release(1);
        return v;
    }
    bool all_senders_gone() const noexcept {
        // acquire: pairs with the acq_rel decrement of the last sender (every push it or the
        // others made before leaving is visible, so an empty pop after this is final).
        return senders.load(std::memory_order_acquire) == 0;
    }
};

}  // namespace detail

/// A bounded channel of capacity `capacity` (at least 1; otherwise `std::invalid_argument`):
/// `auto [tx, rx] = zuki::sync::mpsc<T>(capacity);`.
///
/// @code
/// auto [tx, rx] = zuki::sync::mpsc<int>(16);
/// auto producer = [](zuki::sync::MpscSender<int> tx) -> zuki::Async<void> {
///     for (int i = 0; i < 100; ++i) (void)co_await tx.send(i);   // waits while the channel is
///     full
/// };
/// pool.spawn_detached(producer(std::move(tx)));  // the only sender: closes the channel at its end
/// while (std::optional<int> v = co_await rx.recv()) use(*v);    // empty: closed and drained
/// @endcode
///
/// Thread safety: senders (copies) may be used on any threads at the same time; the receiver
/// is used by one thread at a time (it may move between threads). Futures may be polled on any
/// executor or through `block_on` on a plain thread.
template <class T>
std::pair<MpscSender<T>, MpscReceiver<T>> mpsc(std::size_t capacity) {
    if (capacity == 0)
        throw std::invalid_argument("zuki::sync::mpsc: the capacity must be at least 1");
    if (capacity > Semaphore::max_permits)
        throw std::invalid_argument("zuki::sync::mpsc: the capacity is too large");
    auto c = std::make_shared<detail::MpscChannel<T>>(capacity);
    return {MpscSender<T>(c), MpscReceiver<T>(c)};
}

/// The sending end of `mpsc<T>()`. Copyable: each copy counts as one sender; the channel closes
/// for the receiver when the last sender is gone (destroyed, or `reset()`).
template <class T>
class MpscSender {
    using Channel = detail::MpscChannel<T>;

public:
    MpscSender(const MpscSender& o) noexcept : c_(o.c_) {
        // relaxed: a new sender is made from a live one (as std::shared_ptr does).
        if (c_) c_->senders.fetch_add(1, std::memory_order_relaxed);
    }
    MpscSender(MpscSender&& o) noexcept = default;
    MpscSender& operator=(MpscSender o) noexcept {
        reset();
        c_ = std::move(o.c_);
        return *this;
    }
    ~MpscSender() { reset(); }

    /// The future of `send()`: ready with `sent` once the value is in the channel (it waits
    /// while the channel is full), or `closed` with the value given back if the receiver is
    /// gone. Move-only. Dropping it while pending sends nothing and keeps no cell.
    class Send {
    public:
        Send(Send&&) noexcept = default;
        Send(const Send&) = delete;
        Send& operator=(const Send&) = delete;
        Send& operator=(Send&&) = delete;

        Poll<SendResult<T>> poll(Context& cx) {
            Poll<std::optional<SemaphorePermit>> p = acquire_.poll_permit(cx);
            if (p.is_pending()) return Poll<SendResult<T>>::pending();
            std::optional<SemaphorePermit> permit = std::move(p).value();
            if (!permit)
                return Poll<SendResult<T>>::ready(
                    SendResult<T>::failed(SendStatus::closed, std::move(*value_)));
            permit->forget();  // the cell is now the value's; the receiver gives it back
            tx_.c_->push(*value_);
            value_.reset();
            return Poll<SendResult<T>>::ready(SendResult<T>::ok());
        }

    private:
        friend class MpscSender;
        Send(const MpscSender& tx, T v)
            : tx_(tx), value_(std::move(v)), acquire_(tx_.c_->permits.acquire(1)) {}

        MpscSender tx_;  // keeps the channel open while the send is pending
        std::optional<T> value_;
        Semaphore::Acquire acquire_;  // declared last: destroyed first (cancels the wait)
    };

    /// A future that sends `value`, waiting for room (see `Send`). Throws `std::logic_error` on
    /// a sender that was moved from or reset.
    Send send(T value) {
        check();
        return Send(*this, std::move(value));
    }

    /// Send `value` now if there is room: `sent`, or `full` / `closed` with the value given back.
    SendResult<T> try_send(T value) {
        check();
        std::optional<SemaphorePermit> permit = c_->permits.try_acquire(1);
        if (!permit)
            return SendResult<T>::failed(
                c_->permits.is_closed() ? SendStatus::closed : SendStatus::full, std::move(value));
        permit->forget();
        c_->push(value);
        return SendResult<T>::ok();
    }

    /// True if the receiver is gone (sends give their values back).
    bool is_closed() const noexcept { return !c_ || c_->permits.is_closed(); }
    /// The channel's capacity.
    std::size_t capacity() const noexcept { return c_ ? c_->values.capacity() : 0; }

    /// Stop being a sender now (as the destructor does).
    void reset() noexcept {
        if (!c_) return;
        // acq_rel: the release half publishes this sender's pushes to the receiver's acquire
        // load in all_senders_gone(); the acquire half orders the last sender after the others.
        if (c_->senders.fetch_sub(1, std::memory_order_acq_rel) == 1) c_->rx_notify.notify_one();
        c_.reset();
    }

private:
    friend std::pair<MpscSender<T>, MpscReceiver<T>> mpsc<T>(std::size_t);
    explicit MpscSender(std::shared_ptr<Channel> c) noexcept : c_(std::move(c)) {}
    void check() const {
        if (!c_) throw std::logic_error("zuki::sync::MpscSender: no channel (moved from or reset)");
    }

    std::shared_ptr<Channel> c_;
};

/// The receiving end of `mpsc<T>()`. Move-only. Dropping it (or `close()`) closes the channel:
/// pending and later sends give their values back; values still queued are destroyed with it.
template <class T>
class MpscReceiver {
    using Channel = detail::MpscChannel<T>;

public:
    MpscReceiver(MpscReceiver&&) noexcept = default;
    MpscReceiver& operator=(MpscReceiver&& o) noexcept {
        if (this != &o) {
            shut();
            c_ = std::move(o.c_);
        }
        return *this;
    }
    MpscReceiver(const MpscReceiver&) = delete;
    MpscReceiver& operator=(const MpscReceiver&) = delete;
    ~MpscReceiver() { shut(); }

    /// The future of `recv()`: ready with the next value, or with an empty optional once every
    /// sender is gone and the channel is drained. It refers to the receiver, which must outlive
    /// it. Dropping it while pending loses no value.
    class Recv {
    public:
        Recv(Recv&&) noexcept = default;
        Recv(const Recv&) = delete;
        Recv& operator=(const Recv&) = delete;
        Recv& operator=(Recv&&) = delete;

        Poll<std::optional<T>> poll(Context& cx) {
            Channel& c = *rx_->c_;
            for (;;) {
                if (std::optional<T> v = c.pop())
                    return Poll<std::optional<T>>::ready(std::move(v));
                if (c.all_senders_gone())  // every push is visible now: pop once more
                    return Poll<std::optional<T>>::ready(c.pop());
                if (!notified_) notified_.emplace(c.rx_notify.notified());
                if (notified_->poll(cx).is_pending()) return Poll<std::optional<T>>::pending();
                notified_.reset();  // a push or the close happened since: look again
            }
        }

    private:
        friend class MpscReceiver;
        explicit Recv(MpscReceiver* rx) noexcept : rx_(rx) {}
        MpscReceiver* rx_;
        std::optional<Notify::Notified> notified_;
    };

    /// A future of the next value (see `Recv`). Throws `std::logic_error` on a receiver that
    /// was moved from.
    Recv recv() {
        check();
        return Recv(this);
    }

    /// The next value if one is there now; empty otherwise (see `is_closed()` to tell an empty
    /// channel from a closed one).
    std::optional<T> try_recv() {
        check();
        return c_->pop();
    }

    /// True once every sender is gone (values may still be queued: `try_recv` drains them).
    bool is_closed() const noexcept { return !c_ || c_->all_senders_gone(); }

    /// Close the channel for the senders (pending and later sends give their values back);
    /// values already queued can still be received.
    void close() noexcept {
        if (c_) c_->permits.close();
    }

private:
    friend std::pair<MpscSender<T>, MpscReceiver<T>> mpsc<T>(std::size_t);
    explicit MpscReceiver(std::shared_ptr<Channel> c) noexcept : c_(std::move(c)) {}
    void check() const {
        if (!c_) throw std::logic_error("zuki::sync::MpscReceiver: no channel (moved from)");
    }
    void shut() noexcept {
        if (!c_) return;
        c_->permits.close();
        while (c_->values.try_pop()) {  // destroy what was queued, now rather than later
        }
        c_.reset();
    }

    std::shared_ptr<Channel> c_;
};

}  // namespace zuki::sync
