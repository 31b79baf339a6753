// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#include <zuki/task/detail/state.hpp>  // first: the header must be self-contained

#define BOOST_TEST_MODULE zuki task detail state
#include <boost/test/unit_test.hpp>

// Every transition of the task state word, one at a time (the racing cases are in
// test/unit/task/detail/header.cpp and the Relacy model test/model/task_state.cpp).

namespace ts = zuki::detail::task_state;
using zuki::detail::IdleAction;
using zuki::detail::TaskState;
using zuki::detail::WakeAction;

namespace {
constexpr std::uint64_t refs(std::uint64_t n) { return n * ts::ref_one; }
std::uint64_t flags(const TaskState& s) { return s.load() & ts::flag_mask; }
}  // namespace

BOOST_AUTO_TEST_CASE(run_then_pending_goes_idle) {
    TaskState s(ts::scheduled | refs(2));
    const auto prev = s.to_running();
    BOOST_TEST(prev == (ts::scheduled | refs(2)));
    BOOST_TEST(flags(s) == ts::running);
    BOOST_TEST((s.to_idle() == IdleAction::idle));
    BOOST_TEST(flags(s) == 0u);
    BOOST_TEST(ts::refs(s.load()) == 2u);
}

BOOST_AUTO_TEST_CASE(a_wake_while_running_reschedules_after_the_poll) {
    TaskState s(ts::scheduled | refs(2));
    s.to_running();
    BOOST_TEST((s.to_notified(false) == WakeAction::none));  // no enqueue while running
    BOOST_TEST(flags(s) == (ts::running | ts::notified));
    BOOST_TEST(ts::refs(s.load()) == 2u);  // no reference added for a queue
    BOOST_TEST((s.to_idle() == IdleAction::reschedule));
    BOOST_TEST(flags(s) == ts::scheduled);
}

// A first poll holds SCHEDULED instead of RUNNING (state.hpp, "The first poll").
BOOST_AUTO_TEST_CASE(a_first_poll_holds_scheduled) {
    TaskState idle(ts::scheduled | refs(2));
    BOOST_TEST((idle.to_idle(ts::scheduled) == IdleAction::idle));
    BOOST_TEST(flags(idle) == 0u);

    TaskState woken(ts::scheduled | refs(2));
    BOOST_TEST((woken.to_notified(false) == WakeAction::none));  // held: no enqueue
    BOOST_TEST(flags(woken) == (ts::scheduled | ts::notified));
    BOOST_TEST(ts::refs(woken.load()) == 2u);
    BOOST_TEST((woken.to_idle(ts::scheduled) == IdleAction::reschedule));
    BOOST_TEST(flags(woken) == ts::scheduled);  // still SCHEDULED, the mark consumed

    TaskState done(ts::scheduled | ts::join_interest | refs(3));
    BOOST_TEST((done.to_complete(/*drop_refs=*/1, ts::scheduled) & ts::scheduled) != 0u);
    BOOST_TEST(flags(done) == (ts::complete | ts::join_interest));
    BOOST_TEST(ts::refs(done.load()) == 2u);

    TaskState cancelled(ts::scheduled | refs(1));
    BOOST_TEST(!cancelled.to_cancelled());  // held by its poller: left to it
    BOOST_TEST((cancelled.to_idle(ts::scheduled) == IdleAction::cancel));
    BOOST_TEST(flags(cancelled) == (ts::scheduled | ts::cancelled));
}

BOOST_AUTO_TEST_CASE(to_running_consumes_the_wakes_that_came_while_queued) {
    TaskState s(ts::scheduled | refs(2));
    BOOST_TEST((s.to_notified(false) == WakeAction::none));
    BOOST_TEST(flags(s) == (ts::scheduled | ts::notified));
    s.to_running();
    BOOST_TEST(flags(s) == ts::running);
    BOOST_TEST((s.to_idle() == IdleAction::idle));
    BOOST_TEST(flags(s) == 0u);
}

BOOST_AUTO_TEST_CASE(a_wake_of_an_idle_task_enqueues_it_once) {
    TaskState s(refs(1));  // idle, one reference (a waker's)
    BOOST_TEST((s.to_notified(false) == WakeAction::enqueue));
    BOOST_TEST(flags(s) == ts::scheduled);
    BOOST_TEST(ts::refs(s.load()) == 2u);  // by reference: a new one for the queue
    BOOST_TEST((s.to_notified(true) == WakeAction::none));  // already scheduled
    BOOST_TEST(ts::refs(s.load()) == 2u);  // the caller keeps (and drops) its own
}

BOOST_AUTO_TEST_CASE(a_wake_by_value_hands_its_reference_to_the_queue) {
    TaskState s(refs(1));
    BOOST_TEST((s.to_notified(true) == WakeAction::enqueue));
    BOOST_TEST(ts::refs(s.load()) == 1u);
}

BOOST_AUTO_TEST_CASE(completion_is_terminal) {
    TaskState s(ts::scheduled | ts::join_interest | refs(3));
    s.to_running();
    const auto prev = s.to_complete(/*drop_refs=*/1);
    BOOST_TEST((prev & ts::running) != 0u);
    BOOST_TEST(flags(s) == (ts::complete | ts::join_interest));
    BOOST_TEST(ts::refs(s.load()) == 2u);
    BOOST_TEST((s.to_notified(false) == WakeAction::none));
    BOOST_TEST(!s.to_cancelled());
    BOOST_TEST(flags(s) == (ts::complete | ts::join_interest));
}

BOOST_AUTO_TEST_CASE(cancelling_an_idle_task_makes_the_canceller_its_poller) {
    TaskState s(refs(1));
    BOOST_TEST(s.to_cancelled());
    BOOST_TEST(flags(s) == (ts::running | ts::cancelled));
    BOOST_TEST(!s.to_cancelled());  // requested already
}

BOOST_AUTO_TEST_CASE(cancelling_a_queued_or_running_task_leaves_it_to_the_executor) {
    TaskState queued(ts::scheduled | refs(1));
    BOOST_TEST(!queued.to_cancelled());
    BOOST_TEST(flags(queued) == (ts::scheduled | ts::cancelled));
    BOOST_TEST((queued.to_running() & ts::cancelled) != 0u);

    TaskState running(ts::scheduled | refs(1));
    running.to_running();
    BOOST_TEST(!running.to_cancelled());
    BOOST_TEST((running.to_idle() == IdleAction::cancel));  // still RUNNING: the executor cancels
    BOOST_TEST(flags(running) == (ts::running | ts::cancelled));
}

BOOST_AUTO_TEST_CASE(shutdown_cancels_a_dequeued_task_without_polling_it) {
    TaskState s(ts::scheduled | refs(1));
    s.to_running_cancelled();
    BOOST_TEST(flags(s) == (ts::running | ts::cancelled));
}

BOOST_AUTO_TEST_CASE(dropping_the_join_handle_clears_interest_and_its_reference) {
    TaskState s(ts::scheduled | ts::join_interest | refs(2));
    bool last = true;
    BOOST_TEST(s.try_drop_join_interest(/*taken=*/false, last));
    BOOST_TEST(!last);
    BOOST_TEST(flags(s) == ts::scheduled);
    BOOST_TEST(ts::refs(s.load()) == 1u);
}

BOOST_AUTO_TEST_CASE(dropping_an_untaken_handle_of_a_complete_task_is_left_to_the_caller) {
    TaskState s(ts::complete | ts::join_interest | refs(1));
    bool last = false;
    BOOST_TEST(!s.try_drop_join_interest(/*taken=*/false, last));  // report first
    BOOST_TEST(ts::refs(s.load()) == 1u);  // nothing changed
    BOOST_TEST(s.drop_join_interest_complete());  // the last reference

    // A handle that took the output drops in one RMW, COMPLETE or not.
    TaskState taken(ts::complete | ts::join_interest | refs(2));
    BOOST_TEST(taken.try_drop_join_interest(/*taken=*/true, last));
    BOOST_TEST(!last);
    BOOST_TEST(flags(taken) == ts::complete);
}

BOOST_AUTO_TEST_CASE(the_last_reference_is_reported) {
    TaskState s(refs(2));
    s.ref_inc();
    BOOST_TEST(!s.ref_dec());
    BOOST_TEST(!s.ref_dec());
    BOOST_TEST(s.ref_dec());
}
