// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::sync::oneshot<T>()`: a channel for exactly one value, from one sender to one receiver
/// (Tokio's `oneshot`).
///
/// ## Protocol
///
/// The shared state is one atomic word, the value's storage and one waker slot: the library's
/// one-shot handshake (`WakerSlot` in zuki/detail/atomic_waker.hpp) over the word's RX_WAITING
/// and COMPLETE bits. The receiver is the slot's poller, the sender its completer.
///
///     word = RX_WAITING | COMPLETE | VALUE | RX_CLOSED, plus a reference count (2: each end)
///     send(v):    write the value; fetch_or(COMPLETE | VALUE) (acq_rel); wake if RX_WAITING;
///                 if RX_CLOSED was already set, take the value back and return it
///     drop(tx):   fetch_or(COMPLETE) (acq_rel); wake if RX_WAITING  (the receiver sees no VALUE)
///     poll(rx):   the slot's poll_done; once COMPLETE: VALUE ? the value : RecvError
///     drop(rx):   unregister the waker; fetch_or(RX_CLOSED) (acq_rel); if VALUE, destroy it
///
/// The value storage belongs to the sender until its RMW sets VALUE, then to the receiver, unless
/// the receiver's RX_CLOSED came first: of the two RMWs, the later one sees the other's bit and
/// owns the value (the sender takes it back, or the dropped receiver destroys it). Both RMWs
/// are acq_rel, so the owner sees the value written (release) and the other's last use of it.
///
/// The last of the two ends to go frees the state (a reference count in its own atomic).

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <utility>

#include <zuki/core/context.hpp>
#include <zuki/core/poll.hpp>
#include <zuki/detail/atomic.hpp>
#include <zuki/detail/atomic_waker.hpp>
#include <zuki/sync/send_result.hpp>

namespace zuki::sync {

/// Thrown by a `OneshotReceiver` when the sender was dropped without sending. (An `mpsc`
/// receiver yields an empty optional instead.)
class RecvError : public std::runtime_error {
public:
    RecvError()
        : std::runtime_error("zuki::sync::oneshot: the sender was dropped without sending") {}
};

namespace detail {

template <class T>
class OneshotState {
public:
    static constexpr std::uint32_t rx_waiting = 1;
    static constexpr std::uint32_t complete = 2;
    static constexpr std::uint32_t has_value = 4;
    static constexpr std::uint32_t rx_closed = 8;

    zuki::detail::atomic<std::uint32_t> word{0};
    zuki::detail::WakerSlot<std::uint32_t, rx_waiting, complete> slot;
    std::optional<T> value;  // owned as described in the file comment
    zuki::detail::atomic<std::uint32_t> refs{2};

    static void release(OneshotState* s) noexcept {
        // acq_rel: the release half publishes this end's last use, the acquire half lets the
        // last end delete after the other's (pairs with the other decrement).
        if (s->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete s;
    }
};

}  // namespace detail

template <class T>
class OneshotSender;
template <class T>
class OneshotReceiver;

/// A one-shot channel: `auto [tx, rx] = zuki::sync::oneshot<T>();`.
///
/// @code
/// auto [tx, rx] = zuki::sync::oneshot<int>();
/// std::thread t([tx = std::move(tx)]() mutable { (void)tx.send(42); });
/// int v = pool.block_on(std::move(rx));  // in a coroutine: co_await std::move(rx)
/// t.join();
/// @endcode
///
/// Thread safety: the two ends may be used, moved and dropped on different threads at the same
/// time; each end itself is used by one thread at a time. Sending and receiving are lock-free.
template <class T>
std::pair<OneshotSender<T>, OneshotReceiver<T>> oneshot() {
    auto* s = new detail::OneshotState<T>;
    return {OneshotSender<T>(s), OneshotReceiver<T>(s)};
}

/// The sending end of `oneshot<T>()`: sends one value. Move-only. Dropping it without sending
/// makes the receiver fail with `RecvError`.
template <class T>
class OneshotSender {
    using State = detail::OneshotState<T>;

public:
    OneshotSender(OneshotSender&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    OneshotSender& operator=(OneshotSender&& o) noexcept {
        if (this != &o) {
            drop();
            s_ = std::exchange(o.s_, nullptr);
        }
        return *this;
    }
    OneshotSender(const OneshotSender&) = delete;
    OneshotSender& operator=(const OneshotSender&) = delete;
    ~OneshotSender() { drop(); }

    /// Send `value` (once; the sender is empty afterwards). Returns `sent`, or `closed` with
    /// the value given back if the receiver is gone. Throws `std::logic_error` on an empty
    /// sender.
    SendResult<T> send(T value) {
        if (s_ == nullptr) throw std::logic_error("zuki::sync::OneshotSender: already used");
        State* s = std::exchange(s_, nullptr);
        s->value.emplace(std::move(value));
        // acq_rel: the release half publishes the value to the receiver's acquire in
        // WakerSlot::poll_done (or its drop); the acquire half pairs with the receiver's
        // release RMW that set RX_WAITING (its waker is visible) or RX_CLOSED.
        const std::uint32_t prev =
            s->word.fetch_or(State::complete | State::has_value,
                             ZUKI_MODEL_WEAKEN(oneshot_send_release, std::memory_order_acq_rel,
                                               std::memory_order_acquire));
        if (prev & State::rx_closed) {
            // The receiver is gone and will not read the value: take it back.
            T back = std::move(*s->value);
            s->value.reset();
            State::release(s);
            return SendResult<T>::failed(SendStatus::closed, std::move(back));
        }
        s->slot.wake_if_waiting(prev);
        State::release(s);
        return SendResult<T>::ok();
    }

    /// True if the receiver is gone (a send would give the value back).
    bool is_closed() const noexcept {
        // relaxed: a snapshot (send() decides with its own RMW).
        return s_ == nullptr || (s_->word.load(std::memory_order_relaxed) & State::rx_closed);
    }

private:
    friend std::pair<OneshotSender<T>, OneshotReceiver<T>> oneshot<T>();
    explicit OneshotSender(State* s) noexcept : s_(s) {}

    void drop() noexcept {
        State* s = std::exchange(s_, nullptr);
        if (s == nullptr) return;
        // acq_rel: release publishes "no value" with COMPLETE; acquire sees the waker (as in
        // send()).
        s->slot.wake_if_waiting(s->word.fetch_or(State::complete, std::memory_order_acq_rel));
        State::release(s);
    }

    State* s_;
};

/// The receiving end of `oneshot<T>()`, and the future of the value: ready with it, or throws
/// `RecvError` if the sender was dropped without sending. Move-only; not to be polled after it
/// completed. Dropping it (even while pending) makes a later `send` give the value back.
template <class T>
class OneshotReceiver {
    using State = detail::OneshotState<T>;

public:
    OneshotReceiver(OneshotReceiver&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    OneshotReceiver& operator=(OneshotReceiver&& o) noexcept {
        if (this != &o) {
            drop();
            s_ = std::exchange(o.s_, nullptr);
        }
        return *this;
    }
    OneshotReceiver(const OneshotReceiver&) = delete;
    OneshotReceiver& operator=(const OneshotReceiver&) = delete;
    ~OneshotReceiver() { drop(); }

    Poll<T> poll(Context& cx) {
        Poll<std::optional<T>> p = poll_recv(cx);
        if (p.is_pending()) return Poll<T>::pending();
        std::optional<T> v = std::move(p).value();
        if (!v) throw RecvError();
        return Poll<T>::ready(std::move(*v));
    }

    /// As `poll`, without the exception: ready with no value when the sender was dropped
    /// without sending.
    Poll<std::optional<T>> poll_recv(Context& cx) {
        if (s_ == nullptr)
            throw std::logic_error("zuki::sync::OneshotReceiver polled after completion");
        if (!s_->slot.poll_done(s_->word, cx.waker())) return Poll<std::optional<T>>::pending();
        return Poll<std::optional<T>>::ready(take());
    }

    /// The value if it was sent; empty if not yet. Throws `RecvError` if the sender was dropped
    /// without sending, `std::logic_error` if the value was already taken.
    std::optional<T> try_recv() {
        if (s_ == nullptr)
            throw std::logic_error("zuki::sync::OneshotReceiver: the value was already taken");
        // acquire: pairs with the sender's acq_rel RMW that set COMPLETE (the value is visible).
        if ((s_->word.load(std::memory_order_acquire) & State::complete) == 0) return std::nullopt;
        std::optional<T> v = take();
        if (!v) throw RecvError();
        return v;
    }

    /// Make a later `send` fail (the value given back) without dropping the receiver: a value
    /// already sent is destroyed; a pending poll is not woken.
    void close() noexcept { drop(); }

private:
    friend std::pair<OneshotSender<T>, OneshotReceiver<T>> oneshot<T>();
    explicit OneshotReceiver(State* s) noexcept : s_(s) {}

    // COMPLETE was seen: the value (if any) is ours; none if the sender left without one.
    std::optional<T> take() {
        State* s = std::exchange(s_, nullptr);
        // acquire: pairs with the sender's acq_rel RMW that set COMPLETE (the value is visible).
        // poll_done() acquires already in C++ (its failed CAS has acquire failure order), but
        // Relacy takes a failed CAS's order from its success order (release there), so this load
        // is the edge the model checks.
        if ((s->word.load(std::memory_order_acquire) & State::has_value) == 0) {
            State::release(s);
            return std::nullopt;
        }
        std::optional<T> v(std::move(*s->value));
        s->value.reset();
        State::release(s);
        return v;
    }

    void drop() noexcept {
        State* s = std::exchange(s_, nullptr);
        if (s == nullptr) return;
        s->slot.unregister(s->word);  // the sender will not read the slot again
        // acq_rel: the acquire half sees the value if VALUE was set (we destroy it); the release
        // half pairs with send()'s acquire (it sees we will never read the value).
        const std::uint32_t prev = s->word.fetch_or(State::rx_closed, std::memory_order_acq_rel);
        if (prev & State::has_value) s->value.reset();
        State::release(s);
    }

    State* s_;
};

}  // namespace zuki::sync
