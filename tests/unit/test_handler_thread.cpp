// The engine's handler thread (layer 3a, detail::TaskThread and Engine::post_handler): a timer callback that would
// run user code hands it over, so that a slow ack callback delays other handlers, never the heartbeats and
// time-outs of other sessions. The sockets are on fake transports of a sio::Server that is never started.
#include "sioserver.hpp"
#include "fake_transport.hpp"
#include "test_access.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

// A callback that blocks until the test lets it go (at most 5 s), and says when it started.
struct Blocker {
    std::mutex mu;
    std::condition_variable cv;
    bool started = false, released = false, sentinel = false;
    std::thread::id ran_on;

    void block() {
        std::unique_lock<std::mutex> lk(mu);
        started = true;
        ran_on = std::this_thread::get_id();
        cv.notify_all();
        cv.wait_for(lk, 5s, [&] { return released; });
    }
    bool wait_started() {
        std::unique_lock<std::mutex> lk(mu);
        return cv.wait_for(lk, 5s, [&] { return started; });
    }
    void fire_sentinel() {
        std::lock_guard<std::mutex> lk(mu);
        sentinel = true;
        cv.notify_all();
    }
    // Whether the sentinel fired within `limit` while the callback was still blocked.
    bool sentinel_within(std::chrono::milliseconds limit) {
        std::unique_lock<std::mutex> lk(mu);
        return cv.wait_for(lk, limit, [&] { return sentinel; }) && !released;
    }
    void release() {
        std::lock_guard<std::mutex> lk(mu);
        released = true;
        cv.notify_all();
    }
};

sio::eio::Packet message(std::string data) {
    sio::eio::Packet p;
    p.type = sio::eio::PacketType::Message;
    p.data = std::move(data);
    return p;
}

sio::Options quiet_options() {
    sio::Options o;
    o.serveClient = false;
    return o;
}

// One client connected to "/" on a fake transport; the socket that the server made for it.
sio::Socket* connect_one(sio::Server& io, std::shared_ptr<sio::test::FakeTransport>& transport,
                         std::shared_ptr<sio::eio::Socket>& session) {
    sio::Socket* socket = nullptr;
    io.on_connection([&](sio::Socket& s) { socket = &s; });
    transport = std::make_shared<sio::test::FakeTransport>("websocket");
    session = io.engine().open_session("s1", httplib::Request{}, transport);
    auto connect = message("0");
    session->handle_packet(*transport, connect);
    REQUIRE(transport->wait_sent(2));  // the open packet, and the CONNECT
    return socket;
}

}  // namespace

TEST_CASE("handler thread: tasks run in the order posted, on one thread that is not the caller's") {
    sio::detail::TaskThread tasks;
    std::mutex mu;
    std::condition_variable cv;
    std::vector<int> ran;
    std::vector<std::thread::id> threads;
    for (int i = 0; i < 50; ++i)
        tasks.post([&, i] {
            std::lock_guard<std::mutex> lk(mu);
            ran.push_back(i);
            threads.push_back(std::this_thread::get_id());
            cv.notify_all();
        });
    std::unique_lock<std::mutex> lk(mu);
    REQUIRE(cv.wait_for(lk, 5s, [&] { return ran.size() == 50; }));
    for (int i = 0; i < 50; ++i) CHECK(ran[size_t(i)] == i);
    for (auto& t : threads) CHECK(t == threads.front());
    CHECK(threads.front() != std::this_thread::get_id());
}

TEST_CASE("handler thread: stop() lets what came before run, then takes nothing more") {
    sio::detail::TaskThread tasks;
    Blocker first;
    std::atomic<int> ran{0};
    tasks.post([&] { first.block(); });
    REQUIRE(first.wait_started());
    tasks.post([&] { ++ran; });  // queued behind the blocked task
    CHECK(tasks.pending() == 1u);
    std::thread stopper([&] { tasks.stop(); });
    first.release();
    stopper.join();  // stop() returned: the thread has ended
    CHECK(ran == 1);
    tasks.post([&] { ++ran; });
    CHECK(tasks.pending() == 0u);
    CHECK(ran == 1);
}

TEST_CASE("handler thread: a slow ack time-out callback runs on it and does not hold up other timers") {
    sio::Server io(quiet_options());
    std::shared_ptr<sio::test::FakeTransport> transport;
    std::shared_ptr<sio::eio::Socket> session;
    sio::Socket* socket = connect_one(io, transport, session);
    REQUIRE(socket != nullptr);

    Blocker b;
    std::thread::id timer_thread;
    socket->timeout(20).emit("ask", 1, [&](const sio::Error& err, const sio::Args&) {
        CHECK(err.message == "operation has timed out");
        b.block();
    });
    REQUIRE(b.wait_started());
    // The timer thread is free: a timer due in 20 ms fires while the callback still blocks.
    sio::detail::TestAccess::timers(io.engine()).after(20, [&] {
        timer_thread = std::this_thread::get_id();
        b.fire_sentinel();
    });
    const bool on_time = b.sentinel_within(2000ms);
    b.release();
    CHECK(on_time);
    CHECK(timer_thread != b.ran_on);
}

TEST_CASE("handler thread: a slow broadcast-ack time-out callback does not hold up other timers either") {
    sio::Server io(quiet_options());
    std::shared_ptr<sio::test::FakeTransport> transport;
    std::shared_ptr<sio::eio::Socket> session;
    REQUIRE(connect_one(io, transport, session) != nullptr);

    Blocker b;
    io.timeout(20).emit("ask", 1, [&](const sio::Error& err, const sio::Args&) {
        CHECK(err.message == "operation has timed out");
        b.block();
    });
    REQUIRE(b.wait_started());
    sio::detail::TestAccess::timers(io.engine()).after(20, [&] { b.fire_sentinel(); });
    const bool on_time = b.sentinel_within(2000ms);
    b.release();
    CHECK(on_time);
}

TEST_CASE("handler thread: a ping time-out's close handler runs on it, not on the timer thread") {
    sio::EngineOptions o;
    o.pingInterval = 20;
    o.pingTimeout = 20;
    sio::eio::Engine engine(o);
    auto transport = std::make_shared<sio::test::FakeTransport>("websocket");
    auto session = engine.open_session("s1", httplib::Request{}, transport);
    Blocker b;
    session->on_close([&](const std::string& why, const std::string&) {
        CHECK(why == "ping timeout");
        b.block();
    });
    REQUIRE(b.wait_started());  // no pong ever comes
    sio::detail::TestAccess::timers(engine).after(20, [&] { b.fire_sentinel(); });
    const bool on_time = b.sentinel_within(2000ms);
    b.release();
    CHECK(on_time);
}
