// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `zuki::sync::SendResult<T>`: what a channel's send did with the value (sent, or given back
/// because the channel was full or closed).

#include <optional>
#include <stdexcept>
#include <utility>

namespace zuki::sync {

/// Why a send did or did not happen.
enum class SendStatus {
    sent,  ///< the value is in the channel
    full,  ///< `try_send` only: no room now; the value is given back
    closed,  ///< the receiver is gone; the value is given back
};

/// The outcome of a send: `sent()`, or the status and the value given back.
///
/// @code
/// zuki::sync::SendResult<int> r = tx.try_send(7);
/// if (!r) std::cout << "not sent, got back " << r.value() << "\n";
/// @endcode
template <class T>
class [[nodiscard]] SendResult {
public:
    /// The value was sent.
    static SendResult ok() { return SendResult(SendStatus::sent, std::nullopt); }
    /// The value was not sent (`status` is `full` or `closed`) and is given back.
    static SendResult failed(SendStatus status, T value) {
        return SendResult(status, std::optional<T>(std::move(value)));
    }

    SendStatus status() const noexcept { return status_; }
    bool sent() const noexcept { return status_ == SendStatus::sent; }
    bool is_full() const noexcept { return status_ == SendStatus::full; }
    bool is_closed() const noexcept { return status_ == SendStatus::closed; }
    explicit operator bool() const noexcept { return sent(); }

    /// The value given back; throws `std::logic_error` if it was sent.
    T& value() & {
        if (!back_) throw std::logic_error("zuki::sync::SendResult: the value was sent");
        return *back_;
    }
    T&& value() && { return std::move(value()); }

private:
    SendResult(SendStatus s, std::optional<T> back) : status_(s), back_(std::move(back)) {}
    SendStatus status_;
    std::optional<T> back_;
};

}  // namespace zuki::sync
