// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `Shutdown`: the flags that stop a work-stealing pool, and the close/drain handshake that
/// guarantees nothing submitted during the executor's destruction is left behind.
///
/// ## Phases
///
///     running ──stop() / join()──▶ stopping ──workers joined, Asio shut down──▶ closed
///
/// - `stop()`: `stopping` (workers leave their loop at the next turn) and not `accepting` (a
///   spawn throws `ExecutorStopped`). Wakes submitted from elsewhere are still queued: a task
///   that is woken after stop() is cancelled at close.
/// - `close()`: the destructor's drain. From then on every push must end in a cancel.
///
/// ## The close/drain Dekker pair
/// A wake can come from any thread at any time (a timer, a socket, another pool), also while the
/// destructor drains the queues, and it pushes onto the global queue. So:
///
///     pusher:   push(task); fence(seq_cst); if closed_: drain the global queue itself
///     closer:   closed_ = true (seq_cst); fence(seq_cst); drain every queue
///
/// The two fences are ordered in S. If the pusher's comes first, its push is visible to the
/// closer's drain; otherwise the pusher reads `closed_ == true` and drains (cancels) what is
/// there, its own task included. Either way the task is cancelled exactly once (the queue's pop
/// hands it to one drainer). (A seq_cst store followed by a load is not a StoreLoad barrier
/// against a relaxed load on the other side, hence the closer's fence too.) Checked by
/// test/model/shutdown.cpp, which runs the real pool's push and close paths.
///
/// Thread safety: every member from any thread.

#include <zuki/detail/atomic.hpp>

namespace zuki::detail {

class Shutdown {
public:
    /// Stop: workers leave their loops; new spawns are refused.
    void stop() noexcept {
        // release: pairs with the acquire loads in stopping() / accepting().
        stopping_.store(true, std::memory_order_release);
        accepting_.store(false, std::memory_order_release);
    }
    bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }
    bool accepting() const noexcept { return accepting_.load(std::memory_order_acquire); }

    /// Pusher's half of the Dekker pair, right after publishing to a queue: true if the pool is
    /// closed (the caller must drain). The fence also serves as the seq_cst fence the idle
    /// protocol needs between publishing work and reading the idle state (step (b) of
    /// concurrent/idle_set.hpp), so the caller may then use `IdleSet::notify_one_fenced`.
    bool closed_after_publish() noexcept {
        fence(ZUKI_MODEL_WEAKEN(shutdown_push_fence, std::memory_order_seq_cst,
                                std::memory_order_relaxed));
        return closed_.load(std::memory_order_relaxed);
    }

    /// Closer's half: after this returns, drain every queue; a later push drains itself.
    void close() noexcept {
        // seq_cst store + seq_cst fence: see the file comment.
        closed_.store(true, std::memory_order_seq_cst);
        fence(ZUKI_MODEL_WEAKEN(shutdown_close_fence, std::memory_order_seq_cst,
                                std::memory_order_relaxed));
    }

private:
    alignas(cache_line) atomic<bool> stopping_{false};
    atomic<bool> accepting_{true};
    atomic<bool> closed_{false};
};

}  // namespace zuki::detail
