// A fake Engine.IO transport for the unit tests: it stands where Polling or WebSocket stand at the transport seam
// (layer 3a), so that a test can open a session on it (Engine::open_session) and see what the session sends.
#pragma once

#include "sioserver.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sio::test {

constexpr auto kLimit = std::chrono::milliseconds(5000);  // the bound of every wait: a test that fails ends

// Waits until `done()` holds, for kLimit at most, looking every 5 ms: for a state no condition variable announces
// (the engine's session table, a namespace's sockets, the timer queue). Returns whether it came.
template <class Done>
bool wait_until(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + kLimit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

// The headers that make `req` a WebSocket handshake (RFC 6455 §4.1; the key is the RFC's own example).
inline void add_websocket_headers(httplib::Request& req) {
    req.headers.emplace("Upgrade", "websocket");
    req.headers.emplace("Connection", "Upgrade");
    req.headers.emplace("Sec-WebSocket-Version", "13");
    req.headers.emplace("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
}

// A transport that records the text form of every packet it takes from the session. Writable, congested and the
// result of send() are set by the test; close() reports back to the session as the real transports do.
class FakeTransport final : public sio::eio::Transport {
public:
    explicit FakeTransport(const char* transport_name, bool writable_now = true)
        : name_(transport_name), writable_(writable_now) {}

    const char* name() const override { return name_; }
    bool writable() const override {
        std::lock_guard<std::mutex> lk(mu_);
        return writable_ && !closed_ && !discarded_;
    }
    bool congested() const override {
        std::lock_guard<std::mutex> lk(mu_);
        return congested_;
    }
    // As Transport::send says: a transport that is not writable takes nothing (the session keeps the packets).
    bool send(const sio::eio::OutgoingPtr* packets, size_t count) override {
        std::lock_guard<std::mutex> lk(mu_);
        if (!(writable_ && !closed_ && !discarded_)) return false;
        ++send_calls_;
        for (size_t i = 0; i < count; ++i) sent_.push_back(sio::eio::encode_packet(packets[i]->packet));
        if (one_shot_) writable_ = false;  // as a long-poll GET: answered once
        cv_.notify_all();                  // under the lock, as every notify here: a waiter that wakes may end the test
        return send_ok_;
    }
    bool failed() const override {
        std::lock_guard<std::mutex> lk(mu_);
        return !send_ok_;
    }
    // Idempotent, as the real ones: the session calls it again from close_with() when the close it asked for is done.
    void close() override {
        {
            std::lock_guard<std::mutex> lk(mu_);
            if (closed_) return;
            ++close_calls_;
            closed_ = true;
            cv_.notify_all();
        }
        if (auto r = receiver()) r->handle_transport_close(*this, sio::reason::ForcedClose, {});
    }
    void discard() override {
        std::lock_guard<std::mutex> lk(mu_);
        discarded_ = true;
    }

    void set_writable(bool w) {
        std::lock_guard<std::mutex> lk(mu_);
        writable_ = w;
    }
    // Each send answers the "GET": the transport is not writable again until set_writable(true) (a new GET).
    void set_one_shot(bool one_shot) {
        std::lock_guard<std::mutex> lk(mu_);
        one_shot_ = one_shot;
    }
    void set_send_ok(bool ok) {
        std::lock_guard<std::mutex> lk(mu_);
        send_ok_ = ok;
    }
    void set_congested(bool c) {
        std::lock_guard<std::mutex> lk(mu_);
        congested_ = c;
    }
    std::vector<std::string> sent() const {
        std::lock_guard<std::mutex> lk(mu_);
        return sent_;
    }
    // What was sent, the open packet (always first on the handshake's transport) left out.
    std::vector<std::string> sent_after_open() const {
        auto all = sent();
        if (!all.empty() && !all.front().empty() && all.front()[0] == '0') all.erase(all.begin());
        return all;
    }
    int close_calls() const {
        std::lock_guard<std::mutex> lk(mu_);
        return close_calls_;
    }
    int send_calls() const {
        std::lock_guard<std::mutex> lk(mu_);
        return send_calls_;
    }
    bool discarded() const {
        std::lock_guard<std::mutex> lk(mu_);
        return discarded_;
    }
    bool wait_sent(size_t count) {
        std::unique_lock<std::mutex> lk(mu_);
        return cv_.wait_for(lk, kLimit, [&] { return sent_.size() >= count; });
    }
    bool wait_closed() {
        std::unique_lock<std::mutex> lk(mu_);
        return cv_.wait_for(lk, kLimit, [&] { return close_calls_ > 0; });
    }

private:
    const char* const name_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    bool writable_;
    bool congested_ = false;
    bool send_ok_ = true;
    bool one_shot_ = false;
    bool closed_ = false;
    bool discarded_ = false;
    int close_calls_ = 0, send_calls_ = 0;
    std::vector<std::string> sent_;
};

}  // namespace sio::test
