// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// The one-shot completion handshake between one poller and one completer, written once:
/// `WakerSlot<Word, WAITING, DONE>` runs it over two bits of an atomic word that may hold other
/// bits too (a task's state word: `JOIN_WAKER` and `COMPLETE`), and `AtomicWaker` is the same
/// protocol over a word of its own (`zuki::use_future`'s operation state, gates, one-shot
/// channels).
///
/// ## Protocol
///
///     clear ──poller: write waker, set WAITING (release)──▶ WAITING
///       ▲                                                     │
///       └──poller with another waker: clear WAITING (acquire)─┘
///     any ──completer: its RMW sets DONE (acq_rel); if WAITING was set, wake──▶ DONE (terminal)
///
/// - The slot belongs to the poller while WAITING is clear: it writes the waker only then, and
///   sets WAITING with a release RMW that fails once DONE is set.
/// - The completer writes its result, then sets DONE with one acq_rel RMW. The release half
///   publishes the result; if the old value had WAITING, the acquire half (pairing with the
///   poller's release) makes the waker visible, and the completer wakes it by reference (it
///   never writes the slot).
/// - Either the completer's RMW comes after the poller's (it sees WAITING and wakes) or before
///   (the poller's RMW fails on DONE and the poller reads the result at once): no lost wake-up,
///   and no data race on the slot (written only by the poller with WAITING clear, read only by
///   the completer after seeing WAITING).
/// - Every decision is an RMW on the word, never a plain load, except reading DONE, which is
///   terminal (see the task state machine for why a load may be stale).
///
/// Who may call what: `poll_done` / `unregister`: one poller at a time. The completer's RMW:
/// once, from any thread.

#include <cstdint>
#include <type_traits>

#include <zuki/core/context.hpp>
#include <zuki/core/waker.hpp>
#include <zuki/detail/atomic.hpp>

namespace zuki::detail {

/// The waker slot of the protocol above, over the bits `Waiting` and `Done` of a word that the
/// caller owns (other bits of the word may change concurrently; every update is a CAS loop that
/// keeps them).
template <class Word, Word Waiting, Word Done>
class WakerSlot {
    static_assert(std::is_unsigned_v<Word> && (Waiting & Done) == 0);

public:
    /// Poller: true if DONE is set (then read the result). Otherwise the slot holds a waker that
    /// wakes the same task as `w` and WAITING is set: false (pending).
    bool poll_done(atomic<Word>& word, const Waker& w) {
        // acquire: pairs with the completer's acq_rel RMW that set DONE (the result is visible).
        Word s = word.load(std::memory_order_acquire);
        if (s & Done) return true;
        if (s & Waiting) {
            if (waker_.will_wake(w)) return false;
            // Take the slot back before rewriting it. acquire (success and failure): on DONE the
            // result is read next.
            if (!update(word, s, Waiting, 0, std::memory_order_acquire)) return true;
        }
        waker_ = w;  // ours while WAITING is clear
        // release: publishes the waker to the completer's acquire. acquire on failure: DONE.
        return !update(word, s, 0, Waiting, std::memory_order_release);
    }

    /// Poller going away before DONE: clear WAITING (the completer will not read the slot
    /// again) and drop the waker now, so a pending operation does not keep the poller's task
    /// alive. Returns true if DONE was already set.
    bool unregister(atomic<Word>& word) noexcept {
        Word s = word.load(std::memory_order_acquire);  // acquire: as in poll_done()
        if (s & Done) return true;
        if (s & Waiting) {
            // acquire: as in poll_done(); on success the slot is ours again.
            if (!update(word, s, Waiting, 0, std::memory_order_acquire)) return true;
        }
        waker_ = Waker::noop();
        return false;
    }

    /// Completer: `prev` is the value its acq_rel RMW that set DONE returned.
    void wake_if_waiting(Word prev) const noexcept {
        if (prev & Waiting) waker_.wake_by_ref();
    }

private:
    // CAS loop: clear `off`, set `on`, keep every other bit; fails (returns false) once DONE.
    static bool update(atomic<Word>& word, Word& s, Word off, Word on,
                       std::memory_order success) noexcept {
        for (;;) {
            if (s & Done) return false;
            if (word.compare_exchange_weak(s, static_cast<Word>((s & ~off) | on), success,
                                           std::memory_order_acquire))
                return true;
        }
    }

    Waker waker_ = Waker::noop();
};

/// The protocol over a word of its own: a one-shot "done" flag that one poller can wait for.
///
/// @code
/// // completer (any thread):           // poller (a future's poll):
/// result = compute();                   if (!signal.poll_done(cx.waker())) return pending();
/// signal.complete();                    return ready(std::move(result));
/// @endcode
class AtomicWaker {
public:
    AtomicWaker() noexcept = default;
    AtomicWaker(const AtomicWaker&) = delete;
    AtomicWaker& operator=(const AtomicWaker&) = delete;

    /// Poller: true once complete; otherwise registers `w` (pending).
    bool poll_done(const Waker& w) { return slot_.poll_done(word_, w); }
    /// Poller going away (see `WakerSlot::unregister`). Returns true if already complete.
    bool unregister() noexcept { return slot_.unregister(word_); }
    /// Completer (once): publish what was written before and wake the poller if it waits.
    void complete() noexcept {
        // acq_rel: see the file comment (release publishes the result, acquire sees the waker).
        slot_.wake_if_waiting(word_.fetch_or(done, std::memory_order_acq_rel));
    }
    /// True once complete (acquire: the result is visible).
    bool is_done() const noexcept { return (word_.load(std::memory_order_acquire) & done) != 0; }

private:
    static constexpr std::uint32_t waiting = 1;
    static constexpr std::uint32_t done = 2;
    atomic<std::uint32_t> word_{0};
    WakerSlot<std::uint32_t, waiting, done> slot_;
};

}  // namespace zuki::detail
