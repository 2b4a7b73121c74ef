// The limits of one abusive client (EngineOptions::maxConnectionsPerAddress, handshakeRateLimit, trustProxy;
// Options::eventRateLimit through eio::Socket::limit_input), and the counts the metrics add-on reads.
#include "fake_transport.hpp"
#include "sioserver.hpp"

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

using sio::eio::ErrorCode;
using sio::test::FakeTransport;
using Clock = std::chrono::steady_clock;

namespace {

struct NoExchange : sio::eio::HttpExchange {
    bool read_body(size_t, std::string&) override { return false; }
    void take_over(std::string, std::function<void(int, const std::string&)>) override {}
    void close_after_response() override {}
};

// Keeps the function a WebSocket handshake hands over, for the test to run as the connection thread would.
struct TakeOverExchange : NoExchange {
    std::function<void(int, const std::string&)> run;
    void take_over(std::string, std::function<void(int, const std::string&)> r) override { run = std::move(r); }
};

httplib::Request handshake(const std::string& from) {
    httplib::Request req;
    req.method = "GET";
    req.path = "/engine.io/";
    req.remote_addr = from;
    req.params.emplace("EIO", "4");
    req.params.emplace("transport", "polling");
    return req;
}

sio::EngineOptions quiet_options() {
    sio::EngineOptions o;
    o.pingInterval = o.pingTimeout = o.upgradeTimeout = 300000;
    return o;
}

// The sid of an open packet in a polling answer ("0{"sid":"..."...}").
std::string sid_of(const httplib::Response& res) {
    const std::string body = sio::eio::polling::body_of(res);
    const size_t at = body.find("\"sid\":\"");
    REQUIRE(at != std::string::npos);
    return body.substr(at + 7, body.find('"', at + 7) - at - 7);
}

}  // namespace

TEST_CASE("limits: a token bucket gives its burst, then one token per 1/rate, and lends what it must") {
    const auto t0 = Clock::now();
    sio::detail::TokenBucket bucket(sio::RateLimit{10, 3}, t0);
    CHECK(bucket.try_take(t0));
    CHECK(bucket.try_take(t0));
    CHECK(bucket.try_take(t0));
    CHECK_FALSE(bucket.try_take(t0));
    CHECK_FALSE(bucket.try_take(t0 + std::chrono::milliseconds(90)));  // 0.9 of a token
    CHECK(bucket.try_take(t0 + std::chrono::milliseconds(101)));
    CHECK_FALSE(bucket.full(t0 + std::chrono::milliseconds(200)));
    CHECK(bucket.full(t0 + std::chrono::seconds(1)));  // never more than the burst

    sio::detail::TokenBucket events(sio::RateLimit{100, 1}, t0);
    events.spend(1, t0);
    CHECK(events.time_to_repay(t0) == Clock::duration::zero());
    events.spend(3, t0);  // 3 tokens in debt: 30 ms at 100 per second
    const auto debt = events.time_to_repay(t0);
    CHECK(debt > std::chrono::milliseconds(29));
    CHECK(debt < std::chrono::milliseconds(31));
    CHECK(events.time_to_repay(t0 + std::chrono::milliseconds(30)) == Clock::duration::zero());
}

TEST_CASE("limits: trustProxy picks the address a request comes from out of X-Forwarded-For") {
    auto address = [](int trust, std::vector<std::string> forwarded) {
        sio::EngineOptions o = quiet_options();
        o.trustProxy = trust;
        sio::eio::Engine engine(o);
        httplib::Request req = handshake("127.0.0.1");
        for (auto& f : forwarded) req.headers.emplace("X-Forwarded-For", f);
        return engine.client_address(req);
    };
    CHECK(address(0, {"203.0.113.9"}) == "127.0.0.1");  // off: the peer, whatever the header says
    CHECK(address(1, {}) == "127.0.0.1");               // no header: the peer
    CHECK(address(1, {"203.0.113.9"}) == "203.0.113.9");
    CHECK(address(1, {"6.6.6.6, 203.0.113.9"}) == "203.0.113.9");  // a client's own entry comes first: not believed
    CHECK(address(2, {"6.6.6.6 ,203.0.113.9,  10.0.0.2"}) == "203.0.113.9");
    CHECK(address(2, {"6.6.6.6", "203.0.113.9, 10.0.0.2"}) == "203.0.113.9");  // several headers, in order
    CHECK(address(5, {"203.0.113.9, 10.0.0.2"}) == "203.0.113.9");             // fewer hops: the first
}

// The dispatcher finds a handshake's address once, for the limits and for the session (eio::Socket::address()):
// over polling, over a WebSocket (whose session opens when the connection is taken over), and in open_session.
TEST_CASE("limits: a session keeps the address its handshake came from, with and without a per-address cap") {
    for (size_t cap : {size_t(0), size_t(3)}) {
        CAPTURE(cap);
        sio::EngineOptions o = quiet_options();
        o.trustProxy = 1;
        o.maxConnectionsPerAddress = cap;
        sio::eio::Engine engine(o);
        auto forwarded = [](httplib::Request req) {
            req.headers.emplace("X-Forwarded-For", "203.0.113.9");
            return req;
        };

        NoExchange http;
        httplib::Response res;
        engine.handle(forwarded(handshake("10.0.0.1")), res, http);
        REQUIRE(res.status == -1);
        CHECK(engine.find(sid_of(res))->address() == "203.0.113.9");

        httplib::Request upgrade = forwarded(handshake("10.0.0.1"));
        upgrade.params = {{"EIO", "4"}, {"transport", "websocket"}};
        sio::test::add_websocket_headers(upgrade);
        TakeOverExchange ws_http;
        httplib::Response ws_res;
        engine.handle(upgrade, ws_res, ws_http);
        REQUIRE(ws_http.run);
        int fds[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
        std::thread connection([&] { ws_http.run(fds[0], ""); });
        REQUIRE(sio::test::wait_until([&] { return engine.clients_count() >= 2; }));
        REQUIRE(engine.clients_count() == 2);
        for (auto& session : engine.clients()) CHECK(session->address() == "203.0.113.9");
        CHECK(engine.sessions_from("203.0.113.9") == (cap ? 2 : 0));
        ::shutdown(fds[1], SHUT_RDWR);  // the client goes: the connection thread ends
        connection.join();
        ::close(fds[0]);
        ::close(fds[1]);

        auto fake = std::make_shared<FakeTransport>("websocket");
        CHECK(engine.open_session("direct", forwarded(handshake("10.0.0.1")), fake)->address() == "203.0.113.9");
    }
}

TEST_CASE("limits: maxConnectionsPerAddress refuses one more session from an address, 503, until one closes") {
    sio::EngineOptions o = quiet_options();
    o.maxConnectionsPerAddress = 3;
    sio::eio::Engine engine(o);
    std::vector<std::string> refusals;
    engine.on_connection_error([&](const sio::eio::ConnectionError& e) { refusals.push_back(e.message); });
    NoExchange http;
    auto send = [&](const std::string& from) {
        httplib::Response res;
        engine.handle(handshake(from), res, http);
        return res;
    };
    std::vector<std::string> sids;
    for (int i = 0; i < 3; ++i) {
        auto res = send("10.0.0.1");
        REQUIRE(res.status == -1);
        sids.push_back(sid_of(res));
    }
    CHECK(engine.sessions_from("10.0.0.1") == 3);
    auto refused = send("10.0.0.1");
    CHECK(refused.status == 503);
    CHECK(sio::eio::polling::body_of(refused) == "{\"code\":3,\"message\":\"Too many connections from this address\"}");
    CHECK(send("10.0.0.2").status == -1);  // another address is not held back
    REQUIRE(refusals.size() == 1);
    CHECK(engine.connection_errors(ErrorCode::BadRequest) == 1);
    CHECK(engine.traffic().refusedPerAddress.load() == 1);

    engine.find(sids[0])->close_with(sio::reason::TransportClose);
    CHECK(engine.sessions_from("10.0.0.1") == 2);
    CHECK(send("10.0.0.1").status == -1);
    CHECK(send("10.0.0.1").status == 503);
    CHECK(engine.clients_count() == 4);
}

TEST_CASE("limits: handshakeRateLimit refuses a storm from one address with 429, and lets others in") {
    sio::EngineOptions o = quiet_options();
    o.handshakeRateLimit = sio::RateLimit{0.001, 2};  // two at once, then one in 1000 s
    sio::eio::Engine engine(o);
    NoExchange http;
    auto send = [&](const std::string& from) {
        httplib::Response res;
        engine.handle(handshake(from), res, http);
        return res;
    };
    CHECK(send("10.0.0.1").status == -1);
    CHECK(send("10.0.0.1").status == -1);
    int refused = 0;
    for (int i = 0; i < 20; ++i) {
        auto res = send("10.0.0.1");
        if (res.status == 429 &&
            sio::eio::polling::body_of(res) == "{\"code\":3,\"message\":\"Too many handshakes from this address\"}")
            ++refused;
    }
    CHECK(refused == 20);
    CHECK(send("10.0.0.2").status == -1);
    CHECK(engine.traffic().refusedHandshakeRate.load() == 20);
    CHECK(engine.clients_count() == 3);
}

TEST_CASE("limits: an input limit makes the thread that handed a message up wait for its debt, and gives up") {
    sio::eio::Engine engine(quiet_options());
    auto fake = std::make_shared<FakeTransport>("websocket");
    auto socket = engine.open_session("sid-limited", httplib::Request{}, fake);
    int handled = 0;
    socket->on_message([&](const sio::eio::Packet&) {
        ++handled;
        socket->charge_input();
    });
    socket->limit_input(sio::RateLimit{50, 1}, 60000);
    sio::eio::Packet message{sio::eio::PacketType::Message, "hi"};
    const auto start = Clock::now();
    for (int i = 0; i < 3; ++i) {
        sio::eio::Packet copy = message;
        socket->handle_packet(*fake, copy);
    }
    // The first is within the burst; each of the next two is paid for by 1/50 s of waiting.
    CHECK(Clock::now() - start >= std::chrono::milliseconds(38));
    CHECK(handled == 3);
    CHECK(engine.traffic().throttledNanos.load() >= 38'000'000u);
    CHECK(socket->ready_state() == sio::eio::Socket::ReadyState::Open);

    // Held back for longer than max_throttled_ms (0 here: at the first wait), the client is sent away.
    auto fake2 = std::make_shared<FakeTransport>("websocket");
    auto socket2 = engine.open_session("sid-over", httplib::Request{}, fake2);
    int over = 0;
    socket2->on_message([&](const sio::eio::Packet&) { socket2->charge_input(5); });
    socket2->limit_input(sio::RateLimit{1, 1}, 0, [&] {
        ++over;
        socket2->close_with(sio::reason::ForcedClose);
    });
    sio::eio::Packet copy = message;
    socket2->handle_packet(*fake2, copy);
    CHECK(over == 1);
    CHECK(socket2->ready_state() == sio::eio::Socket::ReadyState::Closed);
    CHECK(engine.traffic().rateLimited.load() == 1);
}
