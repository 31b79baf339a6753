// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
//
// Boost.Asio's reactor driven by an executor's own threads (see runtime/io_driver.hpp for the
// protocol and asio/detail/reactor_driver.hpp for the contract).
//
// How it sits in Asio. Any execution context that is not an io_context gets, with its first
// socket or timer, a `detail::scheduler` service that runs the reactor on a thread of its own
// (own_thread = true), and every completion then hops from that thread to the executor. Here
// the executor makes that service itself, before any I/O object exists, the way
// `asio::thread_pool` does (own_thread = false, one permanent unit of work so it never stops),
// with two differences:
//
// - its *task* (what Asio's scheduler runs to wait for events: normally the epoll reactor
//   itself) is this driver, installed through the scheduler constructor's `get_task` hook. Our
//   `run(usec, ops)` runs the real reactor and turns every ready operation into a Zuki task
//   (a run-once HandlerCell) pushed to the calling worker's queue, where idle workers can steal
//   it. So one reactor round is spread over the pool, and Asio's own queue only ever holds
//   operations posted by threads outside the executor.
// - the executor's threads register as the scheduler's threads (a `call_stack` context with a
//   `scheduler_thread_info` each; concurrency hint 1), so an operation that completes at once
//   on a worker (a speculative write, a cancellation) goes to that worker's private queue
//   instead of Asio's locked one; the worker turns those into tasks after each task it runs
//   (`drain_thread`).
//
// A worker that drives parks in `scheduler::wait_one(-1)`: Asio pops its task operation, marks
// the task "not interrupted" and calls our run(-1): epoll_wait blocks. A post from a thread
// outside the executor then interrupts it through Asio's own logic (wake_one_thread_and_unlock);
// a Zuki wake interrupts it through `interrupt()` (the reactor's eventfd). Ready operations are
// delivered by run(); operations posted from outside are completed by wait_one / poll_one on the
// driving thread (rare).
//
// Work accounting. Asio's scheduler counts outstanding work only to decide when `run()` may
// return; nobody runs it here and the executor holds a permanent unit, so the count is never
// zero and the private counts of the registered threads are left unfolded. The executor's own
// outstanding-work count (what `join()` waits for) counts each delivered operation from delivery
// to completion, and pending operations through their handlers' tracked executors, as before.
//
// Verified against the Asio internals of the Boost versions in the guard below (scheduler's
// constructor with `get_task`, `wait_one` / `poll_one`, `scheduler_task`, `scheduler_thread_info`,
// `call_stack<thread_context, thread_info_base>`, `scheduler_operation::task_result_`, the epoll
// reactor's `run` / `interrupt`). Any other version builds the fallback (Asio's reactor thread),
// as does ZUKI_ASIO_REACTOR_THREAD; doc/asio.md has the details.

#include <zuki/asio/detail/reactor_driver.hpp>

#include <boost/asio/detail/config.hpp>
#include <boost/version.hpp>

#if !defined(ZUKI_ASIO_REACTOR_THREAD) && BOOST_VERSION >= 108100 && BOOST_VERSION < 108200 &&     \
    defined(BOOST_ASIO_HAS_EPOLL) && !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT) &&               \
    defined(BOOST_ASIO_HAS_THREADS) && !defined(BOOST_ASIO_DISABLE_THREADS)
#define ZUKI_REACTOR_ON_WORKERS 1
#else
#define ZUKI_REACTOR_ON_WORKERS 0
#endif

#if ZUKI_REACTOR_ON_WORKERS

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <stdexcept>
#include <utility>

// io_context.hpp first: the scheduler's and the reactor's implementation files include each
// other, and only the order Asio's public headers use compiles.
// clang-format off
#include <boost/asio/io_context.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/call_stack.hpp>
#include <boost/asio/detail/op_queue.hpp>
#include <boost/asio/detail/scheduler.hpp>
#include <boost/asio/detail/scheduler_operation.hpp>
#include <boost/asio/detail/scheduler_task.hpp>
#include <boost/asio/detail/scheduler_thread_info.hpp>
#include <boost/asio/detail/thread_context.hpp>
// clang-format on
#include <boost/system/error_code.hpp>

#include <zuki/detail/aligned_memory.hpp>
#include <zuki/task/detail/handler_cell.hpp>

namespace zuki::detail {

namespace {

namespace ad = boost::asio::detail;
using Operation = ad::scheduler_operation;

// `task_result_` (the ready events of a descriptor operation, passed to its completion as
// "bytes transferred") is protected; the scheduler reads it as a friend. A derived class may
// name it, and the member pointer it yields applies to any operation.
struct OperationAccess : Operation {
    static unsigned int task_result(Operation* op) noexcept {
        return op->*(&OperationAccess::task_result_);
    }
};

// One ready operation as the handler of a run-once task. Completing it performs the I/O (for a
// descriptor operation) and calls the user's completion handler, which Asio dispatches through
// the handler's executor: on a worker of this executor that runs inline, here. Destroyed
// without being run (the executor shut down), it destroys the operation, as Asio's scheduler
// does with what is left in its queue at shutdown.
class RunOperation {
public:
    RunOperation(Operation* op, ad::scheduler* owner) noexcept
        : op_(op), result_(OperationAccess::task_result(op)), owner_(owner) {}
    RunOperation(RunOperation&& o) noexcept
        : op_(std::exchange(o.op_, nullptr)), result_(o.result_), owner_(o.owner_) {}
    RunOperation(const RunOperation&) = delete;
    RunOperation& operator=(const RunOperation&) = delete;
    RunOperation& operator=(RunOperation&&) = delete;
    ~RunOperation() {
        if (op_ != nullptr) op_->destroy();
    }

    void operator()() {
        const boost::system::error_code ec;
        std::exchange(op_, nullptr)->complete(owner_, ec, result_);
    }

private:
    Operation* op_;
    unsigned int result_;
    ad::scheduler* owner_;
};

using OperationCell = HandlerCell<RunOperation, std::allocator<void>>;

// A thread registered as one of the scheduler's threads (see attach_thread).
struct Registration {
    explicit Registration(ad::scheduler& s) : stack_entry(&s, info) {}
    ad::scheduler_thread_info info{};
    ad::call_stack<ad::thread_context, ad::thread_info_base>::context stack_entry;
};

class AsioReactorDriver final
    : public boost::asio::detail::execution_context_service_base<AsioReactorDriver>,
      public IoDriver,
      public AlignedAllocated,
      private ad::scheduler_task {
public:
    AsioReactorDriver(boost::asio::execution_context& ctx, IoTaskSink& sink, Scheduler* handlers)
        : execution_context_service_base<AsioReactorDriver>(ctx), sink_(&sink),
          handlers_(handlers) {}
    // What use_service would call if the driver were looked up before install_reactor_driver
    // made it; that cannot happen (get_task runs only on the scheduler made after it).
    [[noreturn]] explicit AsioReactorDriver(boost::asio::execution_context& ctx)
        : execution_context_service_base<AsioReactorDriver>(ctx), sink_(nullptr),
          handlers_(nullptr) {
        throw std::logic_error("zuki: the reactor driver was used before it was installed");
    }

    void shutdown() override {}

    // The scheduler's get_task hook: called (under the scheduler's lock) when the first I/O
    // object initialises the reactor. The reactor service exists by then.
    static ad::scheduler_task* get_task(boost::asio::execution_context& ctx) {
        auto& self = boost::asio::use_service<AsioReactorDriver>(ctx);
        self.reactor_ = &boost::asio::use_service<ad::reactor>(ctx);
        self.activate(*self.sink_);  // wakes a parked thread to drive (runtime/io_driver.hpp)
        return &self;
    }

    void bind(ad::scheduler& s) noexcept { sched_ = &s; }

    // ---- IoDriver --------------------------------------------------------------------------
    std::size_t poll() noexcept override {
        delivered_ = 0;
        std::size_t completed = 0;
        try {
            boost::system::error_code ec;
            // Runs our task without blocking (which delivers what is ready), and completes
            // operations that threads outside the executor posted to Asio's queue (bounded, so
            // a flood of those cannot hold the worker).
            while (completed < 16 && sched_->poll_one(ec) != 0) ++completed;
        } catch (...) {
            handlers_->report_exception(std::current_exception());
        }
        return delivered_ + completed;
    }

    void wait() noexcept override {
        try {
            boost::system::error_code ec;
            // Blocks in our task (epoll_wait) until an event, a timer, or an interrupt; or, if
            // a thread outside the executor posted an operation, completes it instead.
            sched_->wait_one(-1, ec);
        } catch (...) {
            handlers_->report_exception(std::current_exception());
        }
    }

    void wait_for(std::chrono::nanoseconds timeout) noexcept override {
        try {
            boost::system::error_code ec;
            const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(timeout);
            // At least 1 us: 0 would poll, a negative value would block for good.
            sched_->wait_one(static_cast<long>(std::max<std::int64_t>(1, usec.count())), ec);
        } catch (...) {
            handlers_->report_exception(std::current_exception());
        }
    }

    // ParkDriver::interrupt (a Zuki wake of the driving worker) and scheduler_task::interrupt
    // (Asio's scheduler after a post from outside) alike: end the reactor's wait.
    void interrupt() noexcept override {
        // acquire: pairs with activate()'s release (reactor_ is written before it).
        if (is_active()) reactor_->interrupt();
    }

    // In the caller's room when it fits (Boost 1.81: 144 bytes), else on the heap; the same
    // constant decides both ways.
    static constexpr bool fits_room = sizeof(Registration) <= sizeof(RegistrationRoom) &&
                                      alignof(Registration) <= alignof(RegistrationRoom);
    void* attach_thread(RegistrationRoom& room) override {
        if constexpr (fits_room)
            return new (room.bytes) Registration(*sched_);
        else
            return new Registration(*sched_);
    }
    void detach_thread(void* registration) noexcept override {
        auto* r = static_cast<Registration*>(registration);
        drain_thread(r);
        if constexpr (fits_room)
            r->~Registration();
        else
            delete r;
    }
    void drain_thread(void* registration) noexcept override {
        auto& q = static_cast<Registration*>(registration)->info.private_op_queue;
        if (!q.empty()) deliver(q, /*continuation=*/true);
    }

private:
    // ---- scheduler_task (called by Asio's scheduler on the lock holder's thread) ----------
    void run(long usec, ad::op_queue<Operation>& ops) override {
        // Asio passes its own (thread-private) queue; we keep it empty and deliver instead.
        ad::op_queue<Operation> ready;
        reactor_->run(usec, ready);
        delivered_ += deliver(ready, /*continuation=*/false);
        (void)ops;
    }
    // Turn ready operations into tasks and hand them to the calling thread's queue. Returns how
    // many. An operation whose task cannot be allocated is completed right here instead.
    std::size_t deliver(ad::op_queue<Operation>& ops, bool continuation) noexcept {
        TaskHeader* head = nullptr;
        TaskHeader* tail = nullptr;
        std::size_t n = 0;
        while (Operation* op = ops.front()) {
            ops.pop();
            TaskHeader* t = nullptr;
            try {
                t = OperationCell::make(RunOperation(op, sched_), std::allocator<void>(),
                                        handlers_);
            } catch (...) {  // std::bad_alloc
                complete_here(op);
                continue;
            }
            t->next = nullptr;
            (tail != nullptr ? tail->next : head) = t;
            tail = t;
            ++n;
        }
        if (n != 0) {
            handlers_->tasks_added(n);  // outstanding work until each has run
            sink_->io_ready(head, n, continuation);
        }
        return n;
    }
    void complete_here(Operation* op) noexcept {
        try {
            RunOperation(op, sched_)();
        } catch (...) {
            handlers_->report_exception(std::current_exception());
        }
    }

    IoTaskSink* sink_;
    Scheduler* handlers_;
    ad::scheduler* sched_ = nullptr;
    ad::reactor* reactor_ = nullptr;  // set by get_task, before activate()
    std::size_t delivered_ = 0;  // by run(), on the lock holder's thread
};

}  // namespace

IoDriver* install_reactor_driver(boost::asio::execution_context& ctx, IoTaskSink& sink,
                                 Scheduler* handlers) {
    auto& driver = boost::asio::make_service<AsioReactorDriver>(ctx, sink, handlers);
    // Concurrency hint 1: operations that complete on a registered thread stay in its private
    // queue. own_thread = false: no reactor thread.
    auto& sched =
        boost::asio::make_service<ad::scheduler>(ctx, 1, false, &AsioReactorDriver::get_task);
    sched.work_started();  // permanent: the scheduler never runs out of work (as thread_pool)
    driver.bind(sched);
    return &driver;
}

bool reactor_on_executor_threads() noexcept { return true; }

}  // namespace zuki::detail

#else  // !ZUKI_REACTOR_ON_WORKERS

namespace zuki::detail {

IoDriver* install_reactor_driver(boost::asio::execution_context&, IoTaskSink&, Scheduler*) {
    return nullptr;
}

bool reactor_on_executor_threads() noexcept { return false; }

}  // namespace zuki::detail

#endif
