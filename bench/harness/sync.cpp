// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.

#include "harness/sync.hpp"

namespace zuki_bench {

Shared S;

}  // namespace zuki_bench
