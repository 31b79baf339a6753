// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// Test helper: `zuki::test::Executors`, the list of both executor types for
/// `BOOST_AUTO_TEST_CASE_TEMPLATE`, and `make_executor<Ex>()` (a pool gets 2 workers).

#include <cstddef>
#include <memory>
#include <type_traits>

#include <boost/mpl/list.hpp>

#include <zuki/runtime/single_threaded_executor.hpp>
#include <zuki/runtime/work_stealing_executor.hpp>

namespace zuki::test {

using Executors = boost::mpl::list<SingleThreadedExecutor, WorkStealingExecutor>;

/// A fresh executor of type `Ex`: a `WorkStealingExecutor` with 2 workers, or a
/// `SingleThreadedExecutor`.
template <class Ex>
std::unique_ptr<Ex> make_executor() {
    if constexpr (std::is_same_v<Ex, WorkStealingExecutor>)
        return std::make_unique<Ex>(std::size_t{2});
    else
        return std::make_unique<Ex>();
}

}  // namespace zuki::test
