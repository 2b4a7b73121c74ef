// What close() relies on to be callable from anywhere (a handler, a connection thread, the timer thread): the
// SharedThread that several threads may join, and the NoJoinScope that marks threads which must not join.
#include "sioserver.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

using sio::detail::SharedThread;
using namespace std::chrono_literals;

namespace {
// A gate the tests open; every wait on it is bounded so that a failing test ends.
struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    void release() {
        {
            std::lock_guard<std::mutex> lk(mu);
            open = true;
        }
        cv.notify_all();
    }
    bool wait(std::chrono::milliseconds limit = 5000ms) {
        std::unique_lock<std::mutex> lk(mu);
        return cv.wait_for(lk, limit, [&] { return open; });
    }
};
}  // namespace

TEST_CASE("SharedThread: several threads join it; each returns only once it has ended") {
    Gate gate;
    std::atomic<bool> ended{false};
    SharedThread thread;
    CHECK_FALSE(thread.started());
    thread.join();  // not started: nothing to wait for
    thread.start([&] {
        gate.wait();
        ended = true;
    });
    CHECK(thread.started());
    std::atomic<int> returned{0}, saw_ended{0};
    std::vector<std::thread> joiners;
    for (int i = 0; i < 4; ++i)
        joiners.emplace_back([&] {
            thread.join();
            if (ended.load()) ++saw_ended;
            ++returned;
        });
    CHECK(returned.load() == 0);  // nobody got through while the thread runs (it waits for the gate)
    gate.release();
    for (auto& j : joiners) j.join();
    CHECK(returned.load() == 4);
    CHECK(saw_ended.load() == 4);
    thread.join();  // once more, after it was joined: returns at once
}

TEST_CASE("SharedThread: the thread's own join() returns at once instead of waiting for itself") {
    Gate done;
    std::atomic<bool> self_join_returned{false};
    SharedThread thread;
    thread.start([&] {
        thread.join();
        self_join_returned = true;
        done.release();
    });
    REQUIRE(done.wait());
    CHECK(self_join_returned.load());
    thread.join();
}

TEST_CASE("NoJoinScope: marks a thread (or a part of one) that must not join the server's threads; scopes nest") {
    CHECK(sio::detail::may_join_server_threads());
    {
        sio::detail::NoJoinScope outer;
        CHECK_FALSE(sio::detail::may_join_server_threads());
        {
            sio::detail::NoJoinScope inner;
            CHECK_FALSE(sio::detail::may_join_server_threads());
        }
        CHECK_FALSE(sio::detail::may_join_server_threads());
        bool other_thread_may_join = false;
        std::thread([&] { other_thread_may_join = sio::detail::may_join_server_threads(); }).join();
        CHECK(other_thread_may_join);  // per thread
    }
    CHECK(sio::detail::may_join_server_threads());
}

TEST_CASE("close() where joins are not allowed returns at once; wait() then joins; close() again is harmless") {
    sio::Server io;
    int port = io.start("127.0.0.1", 0);
    REQUIRE(port > 0);
    {
        sio::detail::NoJoinScope in_handler;  // as io.close() inside a handler
        io.close();
        io.close();
    }
    io.wait();   // joins the accept thread and the timer thread
    io.close();  // and again, as the destructor does
    CHECK(io.connections_count() == 0u);
    CHECK(io.start("127.0.0.1", 0) == -1);  // a closed server does not start again
}
