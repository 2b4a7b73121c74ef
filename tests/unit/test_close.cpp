// What close() relies on to be callable from anywhere (a handler, a connection thread, the timer thread): the
// SharedThread that several threads may join, and the NoJoinScope that marks threads which must not join.
#include "sioserver.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
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

// A socket.io client's first request, on a keep-alive connection left open; every read is bounded.
static int open_polling_session(int port, std::string& answer) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    timeval limit{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    const std::string request = "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
        ::close(fd);
        return -1;
    }
    char buf[4096];
    for (int reads = 0; reads < 16 && answer.find("\"upgrades\"") == std::string::npos; ++reads) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        answer.append(buf, static_cast<size_t>(n));
    }
    return fd;
}

TEST_CASE("a sio::Server destroyed where joins are not allowed, with a session open, closes its connections") {
    auto io = std::make_unique<sio::Server>();
    int port = io->start("127.0.0.1", 0);
    REQUIRE(port > 0);
    std::string answer;
    int fd = open_polling_session(port, answer);
    REQUIRE(fd >= 0);
    CHECK(answer.find("\"sid\":") != std::string::npos);  // the handshake made an Engine.IO session (and its Client)
    CHECK(io->connections_count() == 1u);
    {
        sio::detail::NoJoinScope in_handler;  // as a destructor run on one of the server's own threads
        io.reset();
    }
    // The destructor has joined the connection's thread, which closed the connection: the client reads its end.
    char byte;
    CHECK(::recv(fd, &byte, 1, 0) == 0);
    ::close(fd);
}
