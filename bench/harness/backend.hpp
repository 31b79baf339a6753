// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

// Which pool a figure comes from: Zuki driven by tasks (`zuki`) or by Asio handlers
// (`zuki_asio`), and the three anchors it is compared with. The pools themselves are in
// bench/backends.hpp; this header is for the parts of the harness that only name them.

namespace zuki_bench {

enum class Backend { zuki, zuki_asio, asio_tp, io_context, tbb };
inline constexpr Backend all_backends[] = {Backend::zuki, Backend::zuki_asio, Backend::asio_tp,
                                           Backend::io_context, Backend::tbb};

inline const char* name_of(Backend b) {
    switch (b) {
        case Backend::zuki:
            return "zuki";
        case Backend::zuki_asio:
            return "zuki_asio";
        case Backend::asio_tp:
            return "asio_tp";
        case Backend::io_context:
            return "io_context";
        case Backend::tbb:
            return "tbb";
    }
    return "?";
}

// The anchors: what a user would otherwise pick. Every ratio compares zuki with the best of them.
inline bool is_anchor(Backend b) {
    return b == Backend::asio_tp || b == Backend::io_context || b == Backend::tbb;
}

}  // namespace zuki_bench
