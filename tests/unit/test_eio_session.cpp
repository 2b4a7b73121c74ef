// The Engine.IO session (eio::Socket) as a state machine, driven through the transport seam (layer 3's Transport
// and Transport::Receiver) with a fake transport that records what the session hands it; and the long-polling
// transport (Polling) driven through Engine::handle with real httplib requests and a fake HttpExchange. Each case
// is named after the edge case it pins down. Timers are real (tens of ms); every wait is bounded.
#include "sioserver.hpp"
#include "fake_transport.hpp"
#include "test_access.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using sio::eio::Packet;
using sio::eio::PacketType;
using sio::test::FakeTransport;
using sio::test::kLimit;

namespace {

// What the session's on_close told, waited for with a bound.
struct CloseSeen {
    std::mutex mu;
    std::condition_variable cv;
    int calls = 0;
    std::string reason, description;

    void attach(const std::shared_ptr<sio::eio::Socket>& s) {
        s->on_close([this](const std::string& why, const std::string& what) {
            {
                std::lock_guard<std::mutex> lk(mu);
                ++calls;
                reason = why;
                description = what;
                cv.notify_all();  // under the lock: the waiter may destroy this as soon as it gets the lock
            }
        });
    }
    bool wait() {
        std::unique_lock<std::mutex> lk(mu);
        return cv.wait_for(lk, kLimit, [&] { return calls > 0; });
    }
    int count() {
        std::lock_guard<std::mutex> lk(mu);
        return calls;
    }
};

sio::EngineOptions quiet_options() {
    sio::EngineOptions o;
    o.pingInterval = o.pingTimeout = o.upgradeTimeout = 300000;  // no timer fires unless a test wants it
    return o;
}

Packet packet(PacketType type, std::string data = {}) {
    Packet p;
    p.type = type;
    p.data = std::move(data);
    return p;
}

// A packet from the client on transport `t` of `socket` (the session, or a probe).
void receive_on(const std::shared_ptr<sio::eio::Socket>& socket, FakeTransport& t, PacketType type,
                std::string data = {}) {
    auto p = packet(type, std::move(data));
    socket->handle_packet(t, p);
}

// A WebSocket that probes the polling session `socket`, as the client's would: taken, and its "2probe" received.
std::shared_ptr<FakeTransport> answered_probe(const std::shared_ptr<sio::eio::Socket>& socket) {
    auto probe = std::make_shared<FakeTransport>("websocket");
    REQUIRE(socket->maybe_upgrade(probe));
    receive_on(socket, *probe, PacketType::Ping, "probe");
    return probe;
}

// The session opened on `fake`, with its close watched.
struct Session {
    std::shared_ptr<FakeTransport> fake;
    std::shared_ptr<sio::eio::Socket> socket;
    CloseSeen closed;

    Session(sio::eio::Engine& engine, const char* transport, bool writable_now = true,
            const sio::eio::Codec& codec = sio::eio::v4::codec)
        : fake(std::make_shared<FakeTransport>(transport, writable_now)) {
        socket = engine.open_session("sid-" + std::string(transport), httplib::Request{}, fake, codec);
        closed.attach(socket);
    }
    void receive(PacketType type, std::string data = {}) {
        auto p = packet(type, std::move(data));
        socket->handle_packet(*fake, p);
    }
};

}  // namespace

// ---- the session, through a fake transport -------------------------------------------------------------------------

TEST_CASE("session: open sends the open packet first, with the handshake's settings") {
    auto o = quiet_options();
    o.pingInterval = 250000;
    o.pingTimeout = 200000;
    sio::eio::Engine engine(o);
    Session s(engine, "polling");
    auto sent = s.fake->sent();
    REQUIRE(sent.size() == 1);
    CHECK(sent[0] ==
          "0{\"maxPayload\":1000000,\"pingInterval\":250000,\"pingTimeout\":200000,\"sid\":\"sid-polling\","
          "\"upgrades\":[\"websocket\"]}");
    CHECK(s.socket->ready_state() == sio::eio::Socket::ReadyState::Open);
    CHECK(engine.find("sid-polling") == s.socket);
    Session ws(engine, "websocket");
    REQUIRE(ws.fake->sent().size() == 1);
    CHECK(ws.fake->sent()[0].find("\"upgrades\":[]") !=
          std::string::npos);  // a WebSocket session has nothing to upgrade to
    engine.shutdown();
}

TEST_CASE("session: packets wait in the writeBuffer until the transport drains, then go in order in one send") {
    sio::eio::Engine engine(quiet_options());
    Session s(engine, "polling", false);
    CHECK(s.fake->sent().empty());
    CHECK(s.socket->send("a"));
    CHECK(s.socket->send_binary(std::string("\x01\x02", 2)));
    CHECK_FALSE(s.socket->writable());
    s.socket->handle_drain(*s.fake);  // not writable yet: nothing goes
    CHECK(s.fake->sent().empty());
    s.fake->set_writable(true);
    s.socket->handle_drain(*s.fake);
    auto sent = s.fake->sent();
    REQUIRE(sent.size() == 3);
    CHECK(sent[0][0] == '0');
    CHECK(sent[1] == "4a");
    CHECK(sent[2] == "bAQI=");
    CHECK(s.fake->send_calls() == 1);  // the writeBuffer goes as one batch
    CHECK(s.socket->writable());
    CHECK(s.socket->send("c"));  // an empty writeBuffer and a writable transport: straight through
    CHECK(s.fake->sent_after_open() == std::vector<std::string>{"4a", "bAQI=", "4c"});
    engine.shutdown();
}

TEST_CASE("session: a close that drains sends the writeBuffer first, then closes the transport") {
    sio::eio::Engine engine(quiet_options());
    Session s(engine, "polling", false);
    CHECK(s.socket->send("first"));
    CHECK(s.socket->send("second"));
    s.socket->close();
    CHECK(s.socket->ready_state() == sio::eio::Socket::ReadyState::Closing);
    CHECK(s.fake->close_calls() == 0);        // the transport is closed only once the writeBuffer is out
    CHECK_FALSE(s.socket->send("too late"));  // a closing session takes nothing more
    CHECK(s.closed.count() == 0);
    s.fake->set_writable(true);
    s.socket->handle_drain(*s.fake);
    CHECK(s.fake->sent_after_open() == std::vector<std::string>{"4first", "4second"});
    CHECK(s.fake->close_calls() == 1);
    REQUIRE(s.closed.wait());
    CHECK(s.closed.reason == sio::reason::ForcedClose);
    CHECK(s.socket->ready_state() == sio::eio::Socket::ReadyState::Closed);
    CHECK(engine.find("sid-polling") == nullptr);
    engine.shutdown();
    CHECK(s.closed.count() == 1);
}

TEST_CASE("session: a close with an empty writeBuffer closes the transport at once") {
    sio::eio::Engine engine(quiet_options());
    Session s(engine, "websocket");
    s.socket->close();
    CHECK(s.fake->close_calls() == 1);
    REQUIRE(s.closed.wait());
    CHECK(s.closed.reason == sio::reason::ForcedClose);
    s.socket->close();  // again: nothing more
    CHECK(s.fake->close_calls() == 1);
    CHECK(s.closed.count() == 1);
    engine.shutdown();
}

TEST_CASE("session: a close whose transport never drains ends at pingTimeout with forced close") {
    auto o = quiet_options();
    o.pingTimeout = 30;
    sio::eio::Engine engine(o);
    Session s(engine, "polling", false);
    CHECK(s.socket->send("never read"));
    s.socket->close();
    REQUIRE(s.closed.wait());
    CHECK(s.closed.reason == sio::reason::ForcedClose);
    CHECK(s.fake->close_calls() == 1);
    CHECK(s.fake->sent().empty());  // what waited is dropped, not sent to a transport that cannot take it
    engine.shutdown();
}

TEST_CASE("session: ping timeout") {
    auto o = quiet_options();
    o.pingInterval = 20;
    o.pingTimeout = 30;
    sio::eio::Engine engine(o);
    Session s(engine, "websocket");
    REQUIRE(s.closed.wait());
    CHECK(s.closed.reason == sio::reason::PingTimeout);
    CHECK(s.fake->sent_after_open() == std::vector<std::string>{"2"});  // one ping, never answered
    CHECK(s.fake->close_calls() == 1);
    CHECK(s.socket->ready_state() == sio::eio::Socket::ReadyState::Closed);
    engine.shutdown();
}

TEST_CASE("session: a pong in time keeps the session open and the next ping comes") {
    auto o = quiet_options();
    o.pingInterval = 20;
    o.pingTimeout = 300000;
    sio::eio::Engine engine(o);
    Session s(engine, "websocket");
    for (size_t ping = 1; ping <= 3; ++ping) {
        REQUIRE(s.fake->wait_sent(1 + ping));
        CHECK(s.fake->sent().back() == "2");
        s.receive(PacketType::Pong);
    }
    CHECK(s.closed.count() == 0);
    CHECK(s.socket->ready_state() == sio::eio::Socket::ReadyState::Open);
    engine.shutdown();
    REQUIRE(s.closed.wait());
    CHECK(s.closed.reason == sio::reason::ServerShuttingDown);
}

TEST_CASE("session: v3 heartbeat direction (a pong from a v3 client is an error)") {
    sio::eio::Engine engine(quiet_options());
    Session s(engine, "websocket", true, sio::eio::v3::codec);
    CHECK(s.socket->protocol() == 3);  // the revision stays reported
    s.receive(PacketType::Ping, "x");  // v3: the client pings, the server answers
    CHECK(s.fake->sent_after_open() == std::vector<std::string>{"3"});
    CHECK(s.closed.count() == 0);
    s.receive(PacketType::Pong);
    REQUIRE(s.closed.wait());
    CHECK(s.closed.reason == sio::reason::TransportError);
    CHECK(s.closed.description == "invalid heartbeat direction");
    engine.shutdown();
}

TEST_CASE("session: v4 heartbeat direction (a ping from a v4 client is an error)") {
    sio::eio::Engine engine(quiet_options());
    Session s(engine, "websocket");
    s.receive(PacketType::Ping);
    REQUIRE(s.closed.wait());
    CHECK(s.closed.reason == sio::reason::TransportError);
    CHECK(s.closed.description == "invalid heartbeat direction");
    CHECK(s.fake->sent_after_open().empty());  // no pong
    engine.shutdown();
}

TEST_CASE("session: v3 ping timeout (a client that stops pinging is gone after pingInterval + pingTimeout)") {
    auto o = quiet_options();
    o.pingInterval = 20;
    o.pingTimeout = 20;
    sio::eio::Engine engine(o);
    Session s(engine, "websocket", true, sio::eio::v3::codec);
    REQUIRE(s.closed.wait());
    CHECK(s.closed.reason == sio::reason::PingTimeout);
    CHECK(s.fake->sent_after_open().empty());  // v3: the server never pings
    engine.shutdown();
}

TEST_CASE("session: the client's close packet ends the session with transport close") {
    sio::eio::Engine engine(quiet_options());
    Session s(engine, "websocket");
    std::vector<std::string> messages;
    s.socket->on_message([&](const Packet& m) { messages.push_back(m.data); });
    s.receive(PacketType::Message, "before");
    s.receive(PacketType::Close);
    REQUIRE(s.closed.wait());
    CHECK(s.closed.reason == sio::reason::TransportClose);
    CHECK(s.closed.description == "close packet from the client");
    CHECK(s.fake->close_calls() == 1);
    s.receive(PacketType::Message, "after");  // a closed session drops what still comes
    CHECK(messages == std::vector<std::string>{"before"});
    CHECK(s.closed.count() == 1);
    engine.shutdown();
}

TEST_CASE("session: a transport that closes under the session ends it with the transport's reason") {
    sio::eio::Engine engine(quiet_options());
    Session s(engine, "websocket");
    s.socket->handle_transport_close(*s.fake, sio::reason::TransportError, "connection reset");
    REQUIRE(s.closed.wait());
    CHECK(s.closed.reason == sio::reason::TransportError);
    CHECK(s.closed.description == "connection reset");
    s.socket->handle_transport_close(*s.fake, sio::reason::TransportClose, {});  // later calls mean nothing
    CHECK(s.closed.count() == 1);
    engine.shutdown();
}

TEST_CASE("session: maxBufferedBytes exceeded closes with transport error") {
    auto o = quiet_options();
    o.maxBufferedBytes = 1000;
    sio::eio::Engine engine(o);
    Session s(engine, "polling", false);
    CHECK(s.socket->send(std::string(400, 'a')));
    CHECK(s.socket->send(std::string(400, 'b')));  // open packet + 2 x 402 bytes: still under 1000
    CHECK(s.closed.count() == 0);
    CHECK_FALSE(s.socket->send(std::string(400, 'c')));
    REQUIRE(s.closed.wait());
    CHECK(s.closed.reason == sio::reason::TransportError);
    CHECK(s.fake->close_calls() == 1);
    CHECK(s.fake->sent().empty());  // nothing reached the transport
    engine.shutdown();
}

TEST_CASE("session: a volatile packet is dropped when the transport is congested") {
    sio::eio::Engine engine(quiet_options());
    Session s(engine, "websocket");
    auto v1 = sio::eio::make_outgoing(PacketType::Message, "v1");
    auto v2 = sio::eio::make_outgoing(PacketType::Message, "v2");
    auto v3 = sio::eio::make_outgoing(PacketType::Message, "v3");
    s.fake->set_congested(true);
    CHECK_FALSE(s.socket->writable());
    CHECK_FALSE(s.socket->send_all(&v1, 1, true));
    CHECK(s.socket->send("kept"));  // a packet that is not volatile is not dropped
    s.fake->set_congested(false);
    CHECK(s.socket->send_all(&v2, 1, true));
    s.fake->set_writable(false);  // and when the transport cannot take it now
    CHECK_FALSE(s.socket->send_all(&v3, 1, true));
    CHECK(s.fake->sent_after_open() == std::vector<std::string>{"4kept", "4v2"});
    CHECK(s.closed.count() == 0);  // a dropped volatile packet is no error
    CHECK(s.socket->ready_state() == sio::eio::Socket::ReadyState::Open);
    engine.shutdown();
}

TEST_CASE("session: a failing transport send closes with transport error") {
    sio::eio::Engine engine(quiet_options());
    Session s(engine, "websocket");
    s.fake->set_send_ok(false);  // a broken connection, or a backlog over its cap
    CHECK_FALSE(s.socket->send("lost"));
    REQUIRE(s.closed.wait());
    CHECK(s.closed.reason == sio::reason::TransportError);
    CHECK(s.fake->close_calls() == 1);
    engine.shutdown();
}

// ---- the upgrade (polling -> WebSocket) --------------------------------------------------------------------------

TEST_CASE("session: an upgrade flushes the queued packets to the new transport in order") {
    sio::eio::Engine engine(quiet_options());
    Session s(engine, "polling");  // a GET waits: the open packet went out
    std::atomic<int> upgrades{0};
    s.socket->on_upgrade([&] { ++upgrades; });
    s.fake->set_one_shot(true);
    auto probe = answered_probe(s.socket);
    CHECK(probe->sent() == std::vector<std::string>{"3probe"});
    CHECK(s.fake->sent_after_open().empty());  // not at once with "3probe": the upgrade's check releases the GET
    REQUIRE(s.fake->wait_sent(2));             // within 100 ms, with a noop; the client pauses polling
    CHECK(s.fake->sent_after_open() == std::vector<std::string>{"6"});
    CHECK(s.socket->send("one"));
    CHECK(s.socket->send("two"));
    CHECK(s.fake->sent_after_open() == std::vector<std::string>{"6"});  // no GET waits: they wait in the writeBuffer
    CHECK(s.socket->transport() == "polling");
    CHECK_FALSE(s.socket->upgraded());
    receive_on(s.socket, *probe, PacketType::Upgrade);
    CHECK(s.socket->upgraded());
    CHECK(s.socket->transport() == "websocket");
    CHECK(upgrades.load() == 1);
    CHECK(s.fake->discarded());
    CHECK(s.socket->send("three"));
    CHECK(probe->sent() == std::vector<std::string>{"3probe", "4one", "4two", "4three"});
    CHECK(s.fake->sent_after_open() == std::vector<std::string>{"6"});  // nothing more on polling
    // The old polling transport is not heard any more.
    std::vector<std::string> messages;
    s.socket->on_message([&](const Packet& m) { messages.push_back(m.data); });
    auto late = packet(PacketType::Message, "late poll");
    s.socket->handle_packet(*s.fake, late);
    s.socket->handle_transport_close(*s.fake, sio::reason::TransportError, "old GET");
    auto fresh = packet(PacketType::Message, "over ws");
    s.socket->handle_packet(*probe, fresh);
    CHECK(messages == std::vector<std::string>{"over ws"});
    CHECK(s.closed.count() == 0);
    s.socket->close();  // closes the WebSocket now, not the polling transport
    CHECK(probe->close_calls() == 1);
    REQUIRE(s.closed.wait());
    CHECK(s.closed.reason == sio::reason::ForcedClose);
    CHECK(s.fake->close_calls() == 0);
    engine.shutdown();
}

TEST_CASE("session: the probe's pong goes out but no noop when no GET waits") {
    sio::eio::Engine engine(quiet_options());
    Session s(engine, "polling", false);
    s.fake->set_one_shot(true);
    auto probe = answered_probe(s.socket);
    CHECK(probe->sent() == std::vector<std::string>{"3probe"});
    CHECK(s.fake->sent().empty());
    // The next GET: the open packet waits in the writeBuffer and goes first.
    s.fake->set_writable(true);
    s.socket->handle_drain(*s.fake);
    REQUIRE(s.fake->sent().size() == 1);
    CHECK(s.fake->sent()[0][0] == '0');
    // The GET after that, while the upgrade is pending: it waits, and the upgrade's check releases it with a noop, so
    // that the client pauses polling.
    s.fake->set_writable(true);
    s.socket->handle_drain(*s.fake);
    CHECK(s.fake->sent_after_open().empty());
    REQUIRE(s.fake->wait_sent(2));
    CHECK(s.fake->sent_after_open() == std::vector<std::string>{"6"});
    engine.shutdown();
}

TEST_CASE("session: while upgrading, a GET that comes still gets what waits in the writeBuffer") {
    // As the reference's flush(): polling stays the transport until the client's upgrade packet.
    sio::eio::Engine engine(quiet_options());
    Session s(engine, "polling");
    s.fake->set_one_shot(true);
    auto probe = answered_probe(s.socket);
    REQUIRE(s.fake->wait_sent(2));  // the upgrade's check released the waiting GET
    CHECK(s.socket->send("queued"));
    s.fake->set_writable(true);  // a GET came anyway
    s.socket->handle_drain(*s.fake);
    CHECK(s.fake->sent_after_open() == std::vector<std::string>{"6", "4queued"});
    s.fake->set_writable(true);       // and the next one, with nothing left,
    s.socket->handle_drain(*s.fake);  // waits for the check's noop
    REQUIRE(s.fake->wait_sent(4));
    CHECK(s.fake->sent_after_open() == std::vector<std::string>{"6", "4queued", "6"});
    receive_on(s.socket, *probe, PacketType::Upgrade);
    CHECK(probe->sent() == std::vector<std::string>{"3probe"});  // nothing sent twice
    engine.shutdown();
}

TEST_CASE("session: the upgrade's check runs from the probe's answer until the upgrade, a failed probe or a close") {
    sio::eio::Engine engine(quiet_options());
    for (int end = 0; end < 3; ++end) {
        CAPTURE(end);
        Session s(engine, "polling", false);
        const size_t before = sio::detail::TestAccess::timers(engine).pending();  // the heartbeat's
        auto probe = std::make_shared<FakeTransport>("websocket");
        REQUIRE(s.socket->maybe_upgrade(probe));
        CHECK(sio::detail::TestAccess::timers(engine).pending() == before + 1);  // the upgrade time-out
        receive_on(s.socket, *probe, PacketType::Ping, "probe");
        CHECK(sio::detail::TestAccess::timers(engine).pending() == before + 2);  // and the check
        if (end == 0) receive_on(s.socket, *probe, PacketType::Upgrade);
        if (end == 1) s.socket->handle_transport_close(*probe, sio::reason::TransportClose, {});
        if (end == 2) s.socket->close_with(sio::reason::ForcedClose);
        CHECK(sio::detail::TestAccess::timers(engine).pending() ==
              (end == 2 ? before - 1 : before));  // closed: its heartbeat went too
        CHECK(s.fake->sent().empty());            // no GET waited: no noop
    }
    engine.shutdown();
}

TEST_CASE("session: a failed probe leaves the session on polling") {
    sio::eio::Engine engine(quiet_options());
    Session s(engine, "polling");
    auto probe = std::make_shared<FakeTransport>("websocket");
    REQUIRE(s.socket->maybe_upgrade(probe));
    auto wrong = packet(PacketType::Message, "not a probe");
    s.socket->handle_packet(*probe, wrong);
    CHECK(probe->close_calls() == 1);
    CHECK(probe->sent().empty());
    CHECK(s.socket->transport() == "polling");
    CHECK_FALSE(s.socket->upgraded());
    CHECK(s.socket->ready_state() == sio::eio::Socket::ReadyState::Open);
    CHECK(s.closed.count() == 0);
    CHECK(s.socket->send("still polling"));
    CHECK(s.fake->sent_after_open() == std::vector<std::string>{"4still polling"});
    // The probe is forgotten: what it still says means nothing, and a new probe may come.
    receive_on(s.socket, *probe, PacketType::Upgrade);
    CHECK_FALSE(s.socket->upgraded());
    auto second = std::make_shared<FakeTransport>("websocket");
    CHECK(s.socket->maybe_upgrade(second));
    engine.shutdown();
}

TEST_CASE("session: a probe that closes before the upgrade leaves the session on polling") {
    sio::eio::Engine engine(quiet_options());
    Session s(engine, "polling");
    auto probe = answered_probe(s.socket);
    s.socket->handle_transport_close(*probe, sio::reason::TransportClose, {});  // the client went away on it
    CHECK(probe->close_calls() == 1);
    CHECK(s.socket->transport() == "polling");
    CHECK(s.socket->ready_state() == sio::eio::Socket::ReadyState::Open);
    CHECK(s.closed.count() == 0);
    // No longer upgrading: the check stopped with the probe, and a GET gets what waits, not a noop.
    s.fake->set_writable(true);
    s.socket->handle_drain(*s.fake);
    CHECK(s.fake->sent_after_open().empty());
    engine.shutdown();
}

TEST_CASE("session: an upgrade that times out closes the probe and leaves the session on polling") {
    auto o = quiet_options();
    o.upgradeTimeout = 30;
    sio::eio::Engine engine(o);
    Session s(engine, "polling");
    auto probe = std::make_shared<FakeTransport>("websocket");
    REQUIRE(s.socket->maybe_upgrade(probe));
    REQUIRE(probe->wait_closed());
    CHECK(s.socket->transport() == "polling");
    CHECK(s.socket->ready_state() == sio::eio::Socket::ReadyState::Open);
    CHECK(s.closed.count() == 0);
    receive_on(s.socket, *probe, PacketType::Upgrade);  // too late
    CHECK_FALSE(s.socket->upgraded());
    engine.shutdown();
}

TEST_CASE("session: a second probe is refused while upgrading") {
    sio::eio::Engine engine(quiet_options());
    Session s(engine, "polling");
    auto first = std::make_shared<FakeTransport>("websocket");
    auto second = std::make_shared<FakeTransport>("websocket");
    REQUIRE(s.socket->maybe_upgrade(first));
    CHECK_FALSE(s.socket->maybe_upgrade(second));
    receive_on(s.socket, *second, PacketType::Ping, "probe");  // a refused probe is not heard
    CHECK(second->sent().empty());
    receive_on(s.socket, *first, PacketType::Upgrade);
    REQUIRE(s.socket->upgraded());
    auto third = std::make_shared<FakeTransport>("websocket");
    CHECK_FALSE(s.socket->maybe_upgrade(third));  // upgraded: nothing more to upgrade to
    // A session opened on WebSocket never upgrades; nor does a closing one.
    Session ws(engine, "websocket");
    CHECK_FALSE(ws.socket->maybe_upgrade(third));
    Session closing(engine, "polling", false);
    CHECK(closing.socket->send("pending"));
    closing.socket->close();
    CHECK_FALSE(closing.socket->maybe_upgrade(third));
    engine.shutdown();
}

TEST_CASE("session: a session closed by the server while upgrading still upgrades, flushes, then closes") {
    sio::eio::Engine engine(quiet_options());
    Session s(engine, "polling");
    auto probe = answered_probe(s.socket);
    s.fake->set_writable(false);
    CHECK(s.socket->send("goodbye"));
    s.socket->close();
    CHECK(s.socket->ready_state() == sio::eio::Socket::ReadyState::Closing);
    receive_on(s.socket, *probe, PacketType::Upgrade);
    CHECK(probe->sent() == std::vector<std::string>{"3probe", "4goodbye"});
    REQUIRE(s.closed.wait());
    CHECK(s.closed.reason == sio::reason::ForcedClose);
    CHECK(probe->close_calls() >= 1);
    engine.shutdown();
}

// ---- Polling, through Engine::handle --------------------------------------------------------------------------------

namespace {

// The HTTP side of a request: a POST's body, read at once or held until the test lets it go.
class FakeExchange final : public sio::eio::HttpExchange {
public:
    explicit FakeExchange(std::string body = {}) : body_(std::move(body)) {}
    bool read_body(size_t length, std::string& out) override {
        std::unique_lock<std::mutex> lk(mu_);
        reading_ = true;
        cv_.notify_all();
        if (!cv_.wait_for(lk, kLimit, [&] { return !hold_; })) return false;
        if (length != body_.size()) return false;
        out = body_;
        return true;
    }
    void take_over(std::string, std::function<void(int, const std::string&)>) override {}
    void close_after_response() override {
        std::lock_guard<std::mutex> lk(mu_);
        close_after_ = true;
    }
    bool client_gone() const override { return gone_.load(); }
    void hang_up() { gone_ = true; }
    void hold() {
        std::lock_guard<std::mutex> lk(mu_);
        hold_ = true;
    }
    void release() {
        {
            std::lock_guard<std::mutex> lk(mu_);
            hold_ = false;
            cv_.notify_all();
        }
    }
    bool wait_reading() {
        std::unique_lock<std::mutex> lk(mu_);
        return cv_.wait_for(lk, kLimit, [&] { return reading_; });
    }
    bool close_after() {
        std::lock_guard<std::mutex> lk(mu_);
        return close_after_;
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::string body_;
    bool hold_ = false, reading_ = false, close_after_ = false;
    std::atomic<bool> gone_{false};
};

httplib::Request poll_request(const std::string& method, const std::string& sid = {}, const std::string& body = {}) {
    httplib::Request req;
    req.method = method;
    req.path = "/engine.io/";
    req.params.emplace("EIO", "4");
    req.params.emplace("transport", "polling");
    if (!sid.empty()) req.params.emplace("sid", sid);
    if (method == "POST") {
        req.headers.emplace("Content-Type", "text/plain;charset=UTF-8");
        req.headers.emplace("Content-Length", std::to_string(body.size()));
    }
    return req;
}

struct Answer {
    int status = 0;
    std::string body;
};

// A polling session opened by a real handshake GET.
struct PollingSession {
    sio::eio::Engine& engine;
    std::string sid;
    std::shared_ptr<sio::eio::Socket> socket;
    CloseSeen closed;

    explicit PollingSession(sio::eio::Engine& e) : engine(e) {
        engine.on_connection([this](const std::shared_ptr<sio::eio::Socket>& s) {
            socket = s;
            closed.attach(s);
        });
        Answer open = request(poll_request("GET"));
        REQUIRE(open.body.size() > 1);
        REQUIRE(open.body[0] == '0');
        picojson::value v;
        REQUIRE(picojson::parse(v, open.body.substr(1)).empty());
        sid = v.get("sid").get<std::string>();
        REQUIRE(socket);
        REQUIRE(socket->id() == sid);
    }
    Answer request(const httplib::Request& req, sio::eio::HttpExchange* http = nullptr) {
        FakeExchange none;
        httplib::Response res;
        engine.handle(req, res, http ? *http : none);
        return {res.status, sio::eio::polling::body_of(res)};
    }
    Answer get() { return request(poll_request("GET", sid)); }
    // A GET on another thread, and a wait (bounded) until it waits for packets: the session is writable then.
    std::future<Answer> waiting_get() {
        auto f = std::async(std::launch::async, [this] { return get(); });
        const auto end = std::chrono::steady_clock::now() + kLimit;
        while (!socket->writable() && std::chrono::steady_clock::now() < end &&
               f.wait_for(1ms) == std::future_status::timeout) {}
        REQUIRE(socket->writable());
        return f;
    }
    static Answer answer(std::future<Answer>& f) {
        REQUIRE(f.wait_for(kLimit) == std::future_status::ready);
        return f.get();
    }
};

}  // namespace

TEST_CASE("polling: a waiting GET is answered with what the session sends") {
    sio::eio::Engine engine(quiet_options());
    PollingSession s(engine);
    auto get = s.waiting_get();
    CHECK(s.socket->send("hello"));
    Answer a = PollingSession::answer(get);
    CHECK(a.status == -1);  // not set: httplib's 200
    CHECK(a.body == "4hello");
    CHECK(s.socket->send("x"));  // no GET waits: kept for the next one, with what follows
    CHECK(s.socket->send("y"));
    Answer b = s.get();
    CHECK(b.body ==
          "4x\x1e"
          "4y");
    engine.shutdown();
}

TEST_CASE("session: overlapping GET closes the session with transport error") {
    sio::eio::Engine engine(quiet_options());
    PollingSession s(engine);
    auto first = s.waiting_get();
    Answer second = s.get();
    CHECK(second.status == 400);
    CHECK(second.body == "{\"code\":3,\"message\":\"Bad request\"}");
    REQUIRE(s.closed.wait());
    CHECK(s.closed.reason == sio::reason::TransportError);
    CHECK(s.closed.description == "overlap from client");
    Answer a = PollingSession::answer(first);  // the session's close released the first GET
    CHECK(a.body == "1");
    CHECK(engine.find(s.sid) == nullptr);
    CHECK(s.get().status == 400);  // the session is gone
    engine.shutdown();
}

TEST_CASE("polling: an overlapping POST closes the session with transport error") {
    sio::eio::Engine engine(quiet_options());
    PollingSession s(engine);
    std::vector<std::string> messages;
    s.socket->on_message([&](const Packet& m) { messages.push_back(m.data); });
    FakeExchange slow("4first");
    slow.hold();
    auto first =
        std::async(std::launch::async, [&] { return s.request(poll_request("POST", s.sid, "4first"), &slow); });
    REQUIRE(slow.wait_reading());
    FakeExchange quick("4second");
    Answer second = s.request(poll_request("POST", s.sid, "4second"), &quick);
    CHECK(second.status == 400);
    CHECK(quick.close_after());  // its body was not read: the connection cannot go on
    REQUIRE(s.closed.wait());
    CHECK(s.closed.reason == sio::reason::TransportError);
    CHECK(s.closed.description == "data request overlap from client");
    slow.release();
    Answer a = PollingSession::answer(first);
    CHECK(a.body == "ok");
    CHECK(messages.empty());  // nothing of a closed session reaches the handler
    engine.shutdown();
}

TEST_CASE("polling: a GET released by close() gets the close packet alone") {
    sio::eio::Engine engine(quiet_options());
    PollingSession s(engine);
    auto get = s.waiting_get();
    s.socket->close();
    Answer a = PollingSession::answer(get);
    CHECK(a.body == "1");
    REQUIRE(s.closed.wait());
    CHECK(s.closed.reason == sio::reason::ForcedClose);
    CHECK(engine.find(s.sid) == nullptr);
    engine.shutdown();
}

TEST_CASE("polling: a GET that holds packets answers with them, and the close packet goes in the next GET") {
    sio::eio::Engine engine(quiet_options());
    PollingSession s(engine);
    CHECK(s.socket->send("last words"));
    s.socket->close();  // the writeBuffer is not empty: the close waits for the next GET
    CHECK(s.closed.count() == 0);
    Answer first = s.get();
    CHECK(first.body == "4last words");
    CHECK(s.closed.count() == 0);  // the client has not been told yet
    Answer second = s.get();
    CHECK(second.body == "1");
    REQUIRE(s.closed.wait());
    CHECK(s.closed.reason == sio::reason::ForcedClose);
    engine.shutdown();
}

TEST_CASE("polling: the client's close packet in a POST releases the waiting GET with a noop") {
    sio::eio::Engine engine(quiet_options());
    PollingSession s(engine);
    auto get = s.waiting_get();
    FakeExchange body("1");
    Answer post = s.request(poll_request("POST", s.sid, "1"), &body);
    CHECK(post.body == "ok");
    REQUIRE(s.closed.wait());
    CHECK(s.closed.reason == sio::reason::TransportClose);
    Answer a = PollingSession::answer(get);
    CHECK(a.body == "6");  // the client closed: it is told nothing new
    CHECK(s.closed.count() == 1);
    engine.shutdown();
}

TEST_CASE("polling: the client's close packet in a POST with no GET waiting: the next GET gets a noop, later 400") {
    // The GET the client sent with its close may be read after it: it gets what it would have got first.
    sio::eio::Engine engine(quiet_options());
    PollingSession s(engine);
    FakeExchange body("1");
    Answer post = s.request(poll_request("POST", s.sid, "1"), &body);
    CHECK(post.body == "ok");
    REQUIRE(s.closed.wait());
    CHECK(s.closed.reason == sio::reason::TransportClose);
    CHECK(engine.find(s.sid) == nullptr);
    CHECK(engine.clients_count() == 0);
    Answer late = s.get();
    CHECK(late.body == "6");
    Answer after = s.get();
    CHECK(after.status == 400);
    CHECK(after.body == "{\"code\":1,\"message\":\"Session ID unknown\"}");
    FakeExchange again("4x");
    CHECK(s.request(poll_request("POST", s.sid, "4x"), &again).status == 400);  // only a GET is answered
    CHECK(s.closed.count() == 1);
    engine.shutdown();
}

TEST_CASE("polling: the client's close with a GET waiting leaves no noop for a later GET") {
    sio::eio::Engine engine(quiet_options());
    PollingSession s(engine);
    auto get = s.waiting_get();
    FakeExchange body("1");
    CHECK(s.request(poll_request("POST", s.sid, "1"), &body).body == "ok");
    CHECK(PollingSession::answer(get).body == "6");
    Answer after = s.get();
    CHECK(after.status == 400);
    CHECK(after.body == "{\"code\":1,\"message\":\"Session ID unknown\"}");
    engine.shutdown();
}

TEST_CASE("polling: a session the client closed lingers for pingTimeout at most") {
    auto o = quiet_options();
    o.pingTimeout = 50;
    o.pingInterval = 300000;
    sio::eio::Engine engine(o);
    PollingSession s(engine);
    FakeExchange body("1");
    CHECK(s.request(poll_request("POST", s.sid, "1"), &body).body == "ok");
    (void)sio::test::wait_until([&] { return sio::detail::TestAccess::timers(engine).pending() == 0; });
    CHECK(s.get().status == 400);  // no GET came in time: forgotten
    engine.shutdown();
}

TEST_CASE("polling: an upgrade releases the waiting GET with a noop, and later GETs are refused") {
    sio::eio::Engine engine(quiet_options());
    PollingSession s(engine);
    auto get = s.waiting_get();
    auto probe = answered_probe(s.socket);
    Answer a = PollingSession::answer(get);
    CHECK(a.body == "6");
    CHECK(s.socket->send("queued"));  // no GET waits, and the session upgrades: this waits for the WebSocket
    receive_on(s.socket, *probe, PacketType::Upgrade);
    CHECK(probe->sent() == std::vector<std::string>{"3probe", "4queued"});
    CHECK(s.get().status == 400);  // polling is over for this session
    CHECK(s.closed.count() == 0);
    engine.shutdown();
}

TEST_CASE("polling: a GET still waiting when the upgrade completes is answered 400, as one after the upgrade") {
    // A client that pauses polling sends "5" only once its GET was answered: one that waits then came with the "5".
    sio::eio::Engine engine(quiet_options());
    PollingSession s(engine);
    auto get = s.waiting_get();
    auto probe = std::make_shared<FakeTransport>("websocket");
    REQUIRE(s.socket->maybe_upgrade(probe));
    receive_on(s.socket, *probe, PacketType::Upgrade);  // no probe answered: the check never ran
    REQUIRE(s.socket->upgraded());
    Answer a = PollingSession::answer(get);
    CHECK(a.status == 400);
    CHECK(a.body == "{\"code\":3,\"message\":\"Bad request\"}");
    CHECK(s.closed.count() == 0);
    engine.shutdown();
}

TEST_CASE("polling: a client that hangs up while its GET waits closes the session with transport error") {
    sio::eio::Engine engine(quiet_options());
    PollingSession s(engine);
    FakeExchange http;
    auto get = std::async(std::launch::async, [&] { return s.request(poll_request("GET", s.sid), &http); });
    http.hang_up();  // the GET looks every 250 ms
    REQUIRE(s.closed.wait());
    CHECK(s.closed.reason == sio::reason::TransportError);
    CHECK(s.closed.description == "poll connection closed prematurely");
    Answer a = PollingSession::answer(get);
    CHECK(a.body.empty());  // nobody to answer
    CHECK(engine.find(s.sid) == nullptr);
    engine.shutdown();
}
