#!/usr/bin/env bash
# Show that each Relacy model check can fail: build each test/model/ program with one ordering
# of the real code weakened or one RMW made a plain store (-DZUKI_MODEL_PLANT_BUG=<name>, see
# ZUKI_MODEL_WEAKEN and ZUKI_MODEL_PLANTED in include/zuki/detail/atomic.hpp) and require the
# model checker to report the expected failure.
# The table of planted bugs and what each one breaks is in doc/checking.md.
#
# Usage: test/model/check_planted_bugs.sh [output dir]   (default build/model-planted)
# Environment: CXX (default g++-12, else g++), ZUKI_JOBS (parallel compiles, default 2).
# Exit status: 0 when every planted bug was caught, 1 otherwise. Each run's Relacy report is
# kept in <output dir>/<program>-<bug>.log.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=${1:-build/model-planted}
cxx=${CXX:-$(command -v g++-12 >/dev/null 2>&1 && echo g++-12 || echo g++)}
jobs=${ZUKI_JOBS:-2}
mkdir -p "$out"

# program  planted bug  the failure Relacy must report (alternatives separated by |: with the
# LIFO slot's fill relaxed, the child may first read the task's fields or the payload without
# happens-before, and which one Relacy reports first depends on the history it explores, which
# any change to the worker loop reshuffles)
plants=(
    "deque             deque_pop_fence           DATA RACE"
    "deque             deque_push_release        DATA RACE"
    "idle              idle_park_fence           DEADLOCK"
    "idle              shutdown_push_fence       DEADLOCK"
    "attach            idle_park_fence           DEADLOCK"
    "lifo_watch        lifo_fill_release         DATA RACE|ACCESS TO UNINITIALIZED VARIABLE"
    "task_state        task_pending_release      DATA RACE"
    "task_state        parker_unpark_release     DEADLOCK"
    "task_state        join_sole_owner_acquire   DATA RACE"
    "task_state        first_poll_wake_unmarked  DEADLOCK"
    "task_state        complete_exclusive_acquire DATA RACE"
    "shutdown          shutdown_push_fence       USER ASSERT FAILED"
    "shutdown          shutdown_close_fence      USER ASSERT FAILED"
    "outstanding_work  outstanding_finish_order  DATA RACE|DEADLOCK"
    "outstanding_work  outstanding_enter_blind   DEADLOCK"
    "inbox             inbox_push_release        DATA RACE"
    "inbox             parker_unpark_release     DEADLOCK"
    "io_driver         io_lock_release           DATA RACE"
    "io_driver         io_activation_fence       DEADLOCK"
    "waker_slot        oneshot_send_release      DATA RACE"
)

compile() {
    local prog=$1 bug=$2
    "$cxx" -std=c++20 -O1 -DZUKI_RELACY=1 -DZUKI_MODEL_PLANT_BUG="$bug" -Iinclude -Itest \
        "test/model/$prog.cpp" -o "$out/$prog-$bug" 2>"$out/$prog-$bug.compile.log"
}

echo "check_planted_bugs: compiling ${#plants[@]} programs with $cxx ($jobs at a time)"
pids=()
for line in "${plants[@]}"; do
    read -r prog bug _ <<<"$line"
    compile "$prog" "$bug" &
    pids+=($!)
    while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
done
failed=0
for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
        read -r prog bug _ <<<"${plants[$i]}"
        echo "check_planted_bugs: $prog-$bug: compile failed (see $out/$prog-$bug.compile.log)"
        failed=1
    fi
done
((failed == 0)) || exit 1

caught=0
for line in "${plants[@]}"; do
    read -r prog bug expect <<<"$line"
    start=$(date +%s%N)
    rc=0
    log="$out/$prog-$bug.log"
    timeout 300 "$out/$prog-$bug" >"$log" 2>&1 || rc=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    # Relacy's verdict line: "DATA RACE (data race detected)", or a bare one such as
    # "ACCESS TO UNINITIALIZED VARIABLE".
    verdict=$(grep -a -m1 -E '^[A-Z][A-Z ]+( \(|$)' "$log" | sed -E 's/ \(.*//' || true)
    where=$(grep -a -m1 -E '^== .*: FAILED' "$log" | sed -E 's/^== //; s/, [0-9.e-]+ s$//' || true)
    if ((rc == 1)) && [[ -n $verdict && "|$expect|" == *"|$verdict|"* ]]; then
        echo "caught   $bug ($prog): $verdict; $where (${ms} ms)"
        caught=$((caught + 1))
    else
        echo "MISSED   $bug ($prog): exit $rc, report '${verdict:-none}', expected '$expect'" \
            "(see $log)"
        failed=1
    fi
done
echo "check_planted_bugs: $caught of ${#plants[@]} planted bugs caught"
exit "$failed"
