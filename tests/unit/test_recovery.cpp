// Connection state recovery's store (layer 5a, SessionAwareAdapter): which packets it keeps, how a session is
// kept and taken back, and its bounds in time and in bytes. The interop suite (sio_recovery.test.mjs) drives
// the same with the official client over both transports.
#include "sioserver.hpp"
#include "fake_transport.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>

namespace {

// restoreSession's answer, where the adapter gives it at once (the in-memory ones do).
std::optional<sio::Session> restore(sio::Adapter& adapter, const std::string& pid, const std::string& offset) {
    std::optional<sio::Session> out;
    bool answered = false;
    adapter.restoreSession(pid, offset, [&](std::optional<sio::Session> s) {
        answered = true;
        out = std::move(s);
    });
    REQUIRE(answered);
    return out;
}

sio::Options recovery_options(int max_ms = 60000, size_t max_session_bytes = 4u << 20) {
    sio::Options o;
    o.serveClient = false;
    o.connectionStateRecovery = sio::ConnectionStateRecoveryOptions{};
    o.connectionStateRecovery->maxDisconnectionDuration = max_ms;
    o.connectionStateRecovery->maxSessionBytes = max_session_bytes;
    return o;
}

sio::SessionAwareAdapter& store_of(sio::Server& io) {
    auto* adapter = dynamic_cast<sio::SessionAwareAdapter*>(&io.sockets.adapter());
    REQUIRE(adapter != nullptr);
    return *adapter;
}

sio::packet::Packet event(const std::string& name, sio::Value arg, long long ack_id = -1) {
    return sio::detail::event_packet("/", name, sio::Args{std::move(arg)}, ack_id);
}

sio::BroadcastOptions to(std::set<std::string> rooms, std::set<std::string> except = {}, bool volatile_ = false) {
    sio::BroadcastOptions o;
    o.rooms = std::move(rooms);
    o.except = std::move(except);
    o.flags.volatile_ = volatile_;
    return o;
}

// A SessionAwareAdapter that broadcasts to a recovered socket's own room just as the socket begins to resume: the
// moment at which a live socket.emit from another thread can come, after its CONNECT and before its missed packets.
class EmitsAsItResumes final : public sio::SessionAwareAdapter {
public:
    using SessionAwareAdapter::SessionAwareAdapter;
    void resumeSession(const sio::SocketPtr& socket, const sio::Session& session) override {
        broadcast(event("meanwhile", 3), to({socket->id()}));
        SessionAwareAdapter::resumeSession(socket, session);
    }
};

sio::eio::Packet message(std::string data) {
    sio::eio::Packet p;
    p.type = sio::eio::PacketType::Message;
    p.data = std::move(data);
    return p;
}

// The JSON that follows the first `prefix` chars of an Engine.IO packet's text ("40{...}", "42[...]").
picojson::value json_after(const std::string& text, size_t prefix) {
    picojson::value v;
    REQUIRE(text.size() > prefix);
    REQUIRE(picojson::parse(v, text.substr(prefix)).empty());
    return v;
}

}  // namespace

TEST_CASE("recovery: the in-memory adapter is session-aware only when the option is on") {
    sio::Options off;
    off.serveClient = false;
    sio::Server plain(off);
    CHECK(dynamic_cast<sio::SessionAwareAdapter*>(&plain.sockets.adapter()) == nullptr);
    CHECK_FALSE(restore(plain.sockets.adapter(), "pid", "0").has_value());
    sio::Server io(recovery_options());
    CHECK(dynamic_cast<sio::SessionAwareAdapter*>(&io.of("/chat").adapter()) != nullptr);
}

TEST_CASE("recovery: EVENTs without ack and not volatile are stored, each with a new offset") {
    sio::Server io(recovery_options());
    auto& store = store_of(io);
    store.broadcast(event("a", 1), to({}));
    auto first = store.stats().newest;
    store.broadcast(event("b", 2), to({"room"}));
    CHECK(store.stats().packets == 2);
    CHECK(store.stats().bytes > 0);
    CHECK(store.stats().newest != first);
    CHECK_FALSE(first.empty());
    // not stored: with an ack (it cannot be answered after a restore), volatile (may be lost), not an EVENT
    store.broadcast(event("c", 3, 7), to({}));
    store.broadcast(event("d", 4), to({}, {}, true));
    auto ack = event("e", 5);
    ack.type = sio::packet::Type::Ack;
    store.broadcast(ack, to({}));
    CHECK(store.stats().packets == 2);
}

TEST_CASE("recovery: a kept session is taken back once, with a stored offset only") {
    sio::Server io(recovery_options());
    auto& store = store_of(io);
    store.broadcast(event("a", 1), to({}));
    const auto offset = store.stats().newest;
    store.persistSession(sio::SessionToPersist{"sid1", "pid1", {"sid1", "r"}, sio::Object{{"nick", "ann"}}});
    CHECK(store.stats().sessions == 1);

    CHECK_FALSE(restore(store, "unknown", offset).has_value());
    CHECK_FALSE(restore(store, "pid1", "").has_value());
    CHECK_FALSE(restore(store, "pid1", "not an offset!").has_value());    // not in the alphabet
    CHECK_FALSE(restore(store, "pid1", "zzzzzzzzzzzzzzzz").has_value());  // too long to be one
    CHECK_FALSE(restore(store, "pid1", offset + "0").has_value());        // never sent
    CHECK(store.stats().sessions == 1);                                   // none of those took it

    auto session = restore(store, "pid1", offset);
    REQUIRE(session.has_value());
    CHECK(session->sid == "sid1");
    CHECK(session->pid == "pid1");
    CHECK(session->rooms == std::set<std::string>{"sid1", "r"});
    CHECK(session->data["nick"].as_string() == "ann");
    CHECK(session->offset == offset);
    CHECK(store.stats().sessions == 0);
    CHECK_FALSE(restore(store, "pid1", offset).has_value());  // taken: a second comer gets a new socket
}

TEST_CASE("recovery: sessions and packets go after maxDisconnectionDuration") {
    sio::Server io(recovery_options(100));
    auto& store = store_of(io);
    store.broadcast(event("a", 1), to({}));
    const auto offset = store.stats().newest;
    store.persistSession(sio::SessionToPersist{"sid1", "pid1", {"sid1"}, sio::Value()});
    // Not a synchronization: what is tested is that 100 ms have passed.
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    CHECK_FALSE(restore(store, "pid1", offset).has_value());
    CHECK(store.stats().sessions == 0);
    CHECK(store.stats().packets == 0);
    CHECK(store.stats().bytes == 0);
}

TEST_CASE("recovery: past maxSessionBytes of packets for it, a session is dropped; others' packets do not count") {
    sio::Server io(recovery_options(60000, 5000));
    auto& store = store_of(io);
    store.broadcast(event("a", 1), to({}));
    const auto offset = store.stats().newest;
    store.persistSession(sio::SessionToPersist{"sid1", "pid1", {"sid1", "mine"}, sio::Value()});
    const std::string kilobyte(1000, 'x');
    for (int i = 0; i < 20; ++i) store.broadcast(event("other", kilobyte), to({"theirs"}));
    for (int i = 0; i < 20; ++i) store.broadcast(event("excluded", kilobyte), to({}, {"mine"}));
    CHECK(store.stats().sessions == 1);  // none of those reach it
    store.broadcast(event("mine", kilobyte), to({"mine"}));
    CHECK(store.stats().sessions == 1);  // about 2 KB so far (the text and its WebSocket frame)
    for (int i = 0; i < 3; ++i) store.broadcast(event("all", kilobyte), to({}));
    CHECK(store.stats().sessions == 0);
    CHECK(store.stats().sessionsTooLarge == 1);
    CHECK_FALSE(restore(store, "pid1", offset).has_value());
}

TEST_CASE("recovery: with a maxDisconnectionDuration of 0 nothing is kept, and broadcasting still works") {
    sio::Server io(recovery_options(0));
    auto& store = store_of(io);
    store.persistSession(sio::SessionToPersist{"sid1", "pid1", {"sid1"}, sio::Value()});
    for (int i = 0; i < 3; ++i) store.broadcast(event("a", i), to({}));
    CHECK(store.stats().packets <= 1);  // each goes by the next broadcast at the latest
    CHECK(store.stats().newest.size() <= 10);
}

// A Socket.IO session on a fake transport (tests/unit/fake_transport.hpp): what the server sends a socket that comes
// back, and in what order. Each packet must come once: the CONNECT, the missed packets, then what was sent since.
TEST_CASE("recovery: a packet for a recovered socket's room sent as it resumes comes once, after the missed ones") {
    sio::Server io(recovery_options());
    io.adapter([](sio::Namespace& nsp) { return std::make_unique<EmitsAsItResumes>(nsp); });
    auto& engine = io.engine();

    auto first = std::make_shared<sio::test::FakeTransport>("websocket");
    auto conn = engine.open_session("first", httplib::Request{}, first);
    auto hello = message("0");
    conn->handle_packet(*first, hello);
    REQUIRE(first->wait_sent(2));  // the open packet, and the CONNECT
    auto connect = json_after(first->sent()[1], 2);
    const std::string id = connect.get("sid").to_str(), pid = connect.get("pid").to_str();
    REQUIRE_FALSE(pid.empty());
    io.to(id).emit("seen", 1);
    REQUIRE(first->wait_sent(3));
    const std::string offset = json_after(first->sent()[2], 2).get(2).to_str();

    conn->handle_transport_close(*first, sio::reason::TransportClose, {});  // lost, not left: the session is kept
    REQUIRE(store_of(io).stats().sessions == 1);
    io.to(id).emit("missed", 2);

    auto second = std::make_shared<sio::test::FakeTransport>("websocket");
    auto back = engine.open_session("second", httplib::Request{}, second);
    auto auth = message(
        "0" + picojson::value(picojson::object{{"pid", picojson::value(pid)}, {"offset", picojson::value(offset)}})
                  .serialize());
    back->handle_packet(*second, auth);
    REQUIRE(second->wait_sent(4));
    auto sent = second->sent_after_open();
    std::vector<std::string> events;
    for (size_t i = 1; i < sent.size(); ++i) events.push_back(json_after(sent[i], 2).get(0).to_str());
    CHECK(json_after(sent.at(0), 2).get("sid").to_str() == id);
    CHECK(events == std::vector<std::string>{"missed", "meanwhile"});
    // and no more, once the socket has resumed: a message sent now is the next and last
    io.to(id).emit("after", 4);
    REQUIRE(second->wait_sent(5));
    CHECK(second->sent().size() == 5);
}
