// sio::detail::Timers: the one thread that runs every heartbeat and time-out.
// Synchronisation is always a condition variable with a bounded wait, never a bare sleep.
#include "sioserver.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

using sio::detail::Timers;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// A set of events the test waits for. Declare it before the Timers so that the timer thread is stopped first.
struct Events {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<int> fired;

    void add(int what) {
        {
            std::lock_guard<std::mutex> lk(mu);
            fired.push_back(what);
        }
        cv.notify_all();
    }
    // Waits (at most `limit`) until `count` events have fired; false on time-out.
    bool wait_count(size_t count, std::chrono::milliseconds limit = 5000ms) {
        std::unique_lock<std::mutex> lk(mu);
        return cv.wait_for(lk, limit, [&] { return fired.size() >= count; });
    }
    bool wait_for_event(int what, std::chrono::milliseconds limit = 5000ms) {
        std::unique_lock<std::mutex> lk(mu);
        return cv.wait_for(lk, limit, [&] { return std::find(fired.begin(), fired.end(), what) != fired.end(); });
    }
    std::vector<int> snapshot() {
        std::lock_guard<std::mutex> lk(mu);
        return fired;
    }
};

}  // namespace

TEST_CASE("timers: a callback fires after (not before) its delay") {
    Events ev;
    Timers timers;
    auto start = Clock::now();
    Clock::time_point fired_at{};
    timers.after(50, [&] {
        fired_at = Clock::now();  // written before add(), read after wait_count(): ordered by the mutex
        ev.add(1);
    });
    REQUIRE(ev.wait_count(1));
    CHECK(fired_at - start >= 50ms);
    CHECK(timers.pending() == 0u);
}

TEST_CASE("timers: a zero delay fires promptly") {
    Events ev;
    Timers timers;
    timers.after(0, [&] { ev.add(7); });
    REQUIRE(ev.wait_count(1));
    CHECK(ev.snapshot() == std::vector<int>{7});
}

TEST_CASE("timers: cancel before firing prevents the callback (a later sentinel proves it would have fired)") {
    Events ev;
    Timers timers;
    auto cancelled = timers.after(30, [&] { ev.add(1); });
    timers.cancel(cancelled);
    timers.after(60, [&] { ev.add(2); });  // the sentinel: scheduled after the cancelled one, due later
    REQUIRE(ev.wait_for_event(2));
    CHECK(ev.snapshot() == std::vector<int>{2});
}

TEST_CASE("timers: cancel of an unknown, zero or already fired id is harmless") {
    Events ev;
    Timers timers;
    auto first = timers.after(1, [&] { ev.add(1); });
    REQUIRE(ev.wait_count(1));
    timers.cancel(first);  // already fired
    timers.cancel(0);
    timers.cancel(123456);
    timers.after(1, [&] { ev.add(2); });
    REQUIRE(ev.wait_count(2));
    CHECK(ev.snapshot() == (std::vector<int>{1, 2}));
}

TEST_CASE("timers: pending() counts scheduled timers and cancel() removes exactly one") {
    Events ev;
    Timers timers;
    auto a = timers.after(60000, [&] { ev.add(1); });
    auto b = timers.after(60000, [&] { ev.add(2); });
    CHECK(a != b);
    CHECK(timers.pending() == 2u);
    timers.cancel(a);
    CHECK(timers.pending() == 1u);
    timers.cancel(a);
    CHECK(timers.pending() == 1u);
    timers.stop();  // does not wait a minute for b
    CHECK(timers.pending() == 0u);
    CHECK(ev.snapshot().empty());
}

TEST_CASE("timers: callbacks fire in time order, not in the order they were scheduled") {
    Events ev;
    Timers timers;
    timers.after(90, [&] { ev.add(3); });
    timers.after(30, [&] { ev.add(1); });
    timers.after(60, [&] { ev.add(2); });
    REQUIRE(ev.wait_count(3));
    CHECK(ev.snapshot() == (std::vector<int>{1, 2, 3}));
}

TEST_CASE("timers: a callback may schedule another timer") {
    Events ev;
    Timers timers;
    timers.after(5, [&] {
        ev.add(1);
        timers.after(5, [&] { ev.add(2); });
    });
    REQUIRE(ev.wait_count(2));
    CHECK(ev.snapshot() == (std::vector<int>{1, 2}));
}

TEST_CASE("timers: a callback may cancel a later timer") {
    Events ev;
    Timers timers;
    Timers::Id victim = timers.after(40, [&] { ev.add(2); });
    timers.after(10, [&] {
        timers.cancel(victim);
        ev.add(1);
    });
    timers.after(80, [&] { ev.add(3); });  // sentinel, due after the victim would have fired
    REQUIRE(ev.wait_for_event(3));
    CHECK(ev.snapshot() == (std::vector<int>{1, 3}));
}

TEST_CASE("timers: stop() joins the thread, waiting for a running callback to finish") {
    Events ev;
    std::atomic<bool> finished{false};
    Timers timers;
    timers.after(0, [&] {
        ev.add(1);  // tells the test the callback is running
        std::unique_lock<std::mutex> lk(ev.mu);
        // Keeps running for a while; the bounded wait is the callback's own duration, not a test synchronisation.
        ev.cv.wait_for(lk, 100ms, [] { return false; });
        finished = true;
    });
    REQUIRE(ev.wait_count(1));
    timers.stop();
    CHECK(finished.load());  // stop() returned only after the callback (and the thread) ended
    timers.stop();           // a second stop is harmless
}

TEST_CASE("timers: stop() drops pending callbacks; they never run") {
    Events ev;
    std::atomic<int> ran{0};
    {
        Timers timers;
        timers.after(30, [&] { ++ran; });
        timers.after(60, [&] { ++ran; });
        timers.stop();
        CHECK(timers.pending() == 0u);
    }
    // The timer thread is gone, so nothing can run later; a fresh Timers proves time has passed beyond both delays.
    Timers later;
    later.after(100, [&] { ev.add(1); });
    REQUIRE(ev.wait_count(1));
    CHECK(ran.load() == 0);
}

TEST_CASE("timers: stop() called from inside a callback does not deadlock") {
    Events ev;
    Timers timers;
    timers.after(0, [&] {
        timers.stop();
        ev.add(1);
    });
    REQUIRE(ev.wait_count(1));
    // The destructor then joins from this thread.
}

// close() in a handler stops the timers from a thread that holds the handler lock, which a running callback may
// be waiting for: there, stop() must return without joining; no callback starts after it; the destructor joins.
TEST_CASE(
    "timers: stop() where joins are not allowed (a handler) returns while a callback runs; the destructor joins") {
    Events ev;
    std::atomic<bool> release{false}, finished{false};
    std::atomic<int> later_ran{0};
    {
        Timers timers;
        timers.after(0, [&] {
            ev.add(1);  // the callback is running
            std::unique_lock<std::mutex> lk(ev.mu);
            ev.cv.wait_for(lk, 5000ms, [&] { return release.load(); });  // bounded: a failed test does not hang
            finished = true;
        });
        timers.after(50, [&] { ++later_ran; });
        REQUIRE(ev.wait_count(1));
        {
            sio::detail::NoJoinScope in_handler;
            CHECK_FALSE(sio::detail::may_join_server_threads());
            timers.stop();
        }
        CHECK(sio::detail::may_join_server_threads());
        CHECK_FALSE(finished.load());  // stop() did not wait for the running callback
        CHECK(timers.pending() == 0u);
        {
            std::lock_guard<std::mutex> lk(ev.mu);
            release = true;
        }
        ev.cv.notify_all();
    }  // the destructor joins the thread
    CHECK(finished.load());
    CHECK(later_ran.load() == 0);  // dropped by stop()
}

// Regression (found by AddressSanitizer in the interop tests): the timer thread waited on a reference to the due
// time stored in the queue entry of the earliest timer; cancelling that timer from another thread while the timer
// thread waited freed the entry under it. The thread must wait on a copy. A 1 ms timer tells this thread that the
// timer thread is about to wait for the victim; cancelling then (nearly always) hits it mid-wait. A sentinel proves
// the thread is alive and still in order. Under AddressSanitizer (make test-asan) the old code fails at once.
TEST_CASE("timers: cancelling the earliest timer while the thread waits on it is safe") {
    Events events;
    Timers timers;
    for (int round = 0; round < 20; ++round) {
        Timers::Id victim = timers.after(60, [&] { events.add(-1); });
        timers.after(1, [&, round] { events.add(1000 + round); });
        REQUIRE(events.wait_for_event(1000 + round));
        timers.cancel(victim);
        timers.after(5, [&, round] { events.add(round); });
        REQUIRE(events.wait_for_event(round));
    }
    std::lock_guard<std::mutex> lk(events.mu);
    CHECK(std::find(events.fired.begin(), events.fired.end(), -1) == events.fired.end());
    CHECK(events.fired.size() == 40);
}

namespace {

// Calls back into its Timers when destroyed, as a dropped callback's captures may (a session that cancels its own
// timers as it goes).
struct CallsBackWhenDestroyed {
    Timers* timers;
    std::atomic<bool>* destroyed;
    CallsBackWhenDestroyed(Timers* t, std::atomic<bool>* d) : timers(t), destroyed(d) {}
    CallsBackWhenDestroyed(CallsBackWhenDestroyed&& o) noexcept : timers(o.timers), destroyed(o.destroyed) {
        o.timers = nullptr;
    }
    CallsBackWhenDestroyed(const CallsBackWhenDestroyed& o) : timers(o.timers), destroyed(o.destroyed) {}
    ~CallsBackWhenDestroyed() {
        if (!timers) return;
        (void)timers->pending();  // takes the timers' lock
        *destroyed = true;
    }
    void operator()() const {}
};

// Runs `step` on a thread of its own and says whether it returned within 5 s. A step that deadlocks is left behind
// (with the Timers it holds, which the test then leaks) so that the test fails instead of hanging.
bool returns_in_time(std::function<void()> step) {
    auto done = std::make_shared<std::promise<void>>();
    auto finished = done->get_future();
    std::thread([step = std::move(step), done] {
        step();
        done->set_value();
    }).detach();
    return finished.wait_for(5s) == std::future_status::ready;
}

}  // namespace

TEST_CASE("timers: a cancelled or dropped callback is destroyed with the lock let go (it may call back in)") {
    std::atomic<bool> destroyed{false};
    auto* timers = new Timers;
    Timers::Id id = timers->after(60000, CallsBackWhenDestroyed(timers, &destroyed));
    destroyed = false;  // (the temporary the queued copy was made from is gone by now)
    REQUIRE(returns_in_time([timers, id] { timers->cancel(id); }));
    CHECK(destroyed);
    CHECK(timers->pending() == 0);

    timers->after(60000, CallsBackWhenDestroyed(timers, &destroyed));
    destroyed = false;
    REQUIRE(returns_in_time([timers] { timers->stop(); }));
    CHECK(destroyed);
    delete timers;
}
