// The Adapter seam (layer 5a): what the server, its namespaces and the broadcast operator hand to an adapter that
// io.adapter(...) installed, and what they do with its answers. A recording adapter stands in for a cluster one.
#include "sioserver.hpp"

#include <doctest/doctest.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace {

// What the recording adapters saw, shared by every namespace's adapter of one test.
struct Record {
    std::vector<std::string> created;  // namespaces, in the order their adapters were made
    int inits = 0, closes = 0;
    std::vector<std::pair<sio::packet::Packet, sio::BroadcastOptions>> broadcasts;
    std::vector<std::pair<std::string, sio::BroadcastOptions>> calls;  // addSockets / delSockets / disconnectSockets
    std::vector<std::string> call_rooms;
    std::vector<sio::Args> server_side;
    // Set by a test: how a broadcast with acks is answered, and what fetchSockets reports.
    std::function<void(sio::BroadcastAckHandlers)> answer_acks;
    std::function<void(sio::SocketInfoCallback)> answer_fetch;
};

class RecordingAdapter : public sio::Adapter {
public:
    RecordingAdapter(sio::Namespace& nsp, Record& r) : Adapter(nsp), r_(r) { r_.created.push_back(nsp.name()); }
    void init() override { ++r_.inits; }
    void close() override { ++r_.closes; }
    void broadcast(const sio::packet::Packet& p, const sio::BroadcastOptions& opts) override {
        r_.broadcasts.emplace_back(p, opts);
        Adapter::broadcast(p, opts);
    }
    void broadcastWithAck(const sio::packet::Packet& p, const sio::BroadcastOptions& opts,
                          sio::BroadcastAckHandlers h) override {
        r_.broadcasts.emplace_back(p, opts);
        if (r_.answer_acks) r_.answer_acks(std::move(h));
        else Adapter::broadcastWithAck(p, opts, std::move(h));
    }
    void fetchSockets(const sio::BroadcastOptions& opts, sio::SocketInfoCallback cb) override {
        if (r_.answer_fetch) r_.answer_fetch(std::move(cb));
        else Adapter::fetchSockets(opts, std::move(cb));
    }
    void addSockets(const sio::BroadcastOptions& opts, const std::vector<std::string>& rooms) override {
        record("addSockets", opts, rooms);
    }
    void delSockets(const sio::BroadcastOptions& opts, const std::vector<std::string>& rooms) override {
        record("delSockets", opts, rooms);
    }
    void disconnectSockets(const sio::BroadcastOptions& opts, bool close) override {
        record(close ? "disconnectSockets(close)" : "disconnectSockets", opts, {});
    }
    void serverSideEmit(const sio::Args& data, sio::AckCallback ack) override {
        r_.server_side.push_back(data);
        Adapter::serverSideEmit(data, std::move(ack));
    }

private:
    void record(const std::string& what, const sio::BroadcastOptions& opts, const std::vector<std::string>& rooms) {
        r_.calls.emplace_back(what, opts);
        r_.call_rooms.insert(r_.call_rooms.end(), rooms.begin(), rooms.end());
    }
    Record& r_;
};

sio::AdapterFactory recording(Record& r) {
    return [&r](sio::Namespace& nsp) { return std::make_unique<RecordingAdapter>(nsp, r); };
}

using Names = std::set<std::string>;

// A callback's result, handed from whichever thread ran it.
template <class T>
struct Outcome {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    T value{};
    void set(T v) {
        std::lock_guard<std::mutex> lk(mu);
        value = std::move(v);
        done = true;
        cv.notify_all();
    }
    bool wait(int ms = 5000) {
        std::unique_lock<std::mutex> lk(mu);
        return cv.wait_for(lk, std::chrono::milliseconds(ms), [&] { return done; });
    }
};

}  // namespace

TEST_CASE("adapter seam: io.adapter() gives every namespace, made before or after, an adapter of its own") {
    Record r;
    sio::Server io;
    io.of("/before");
    io.adapter(recording(r));
    CHECK(Names(r.created.begin(), r.created.end()) == Names{"/", "/before"});
    io.of("/after");
    CHECK(r.created.back() == "/after");
    CHECK(r.inits == 3);
    CHECK(&io.of("/after").adapter() != &io.of("/before").adapter());
    CHECK(dynamic_cast<RecordingAdapter*>(&io.sockets.adapter()) != nullptr);
    // Replacing it closes the one it replaces.
    Record second;
    io.adapter(recording(second));
    CHECK(r.closes == 3);
    CHECK(second.created.size() == 3);
}

TEST_CASE("adapter seam: a broadcast reaches the adapter with its packet, rooms, except and flags") {
    Record r;
    sio::Server io;
    io.adapter(recording(r));
    io.emit("news", 1, "two");
    io.to("r1").to("r2").except("x").volatile_().emit("only-some");
    io.local().emit("here-only");
    io.of("/chat").compress(false).emit("chat");
    REQUIRE(r.broadcasts.size() == 4);
    auto& [p0, o0] = r.broadcasts[0];
    CHECK(p0.type == sio::packet::Type::Event);
    CHECK(p0.nsp == "/");
    CHECK(p0.id == -1);
    CHECK(sio::Value(p0.data).to_json() == R"(["news",1,"two"])");
    CHECK(o0.rooms.empty());
    CHECK(o0.except.empty());
    CHECK_FALSE(o0.flags.local);
    auto& o1 = r.broadcasts[1].second;
    CHECK(o1.rooms == Names{"r1", "r2"});
    CHECK(o1.except == Names{"x"});
    CHECK(o1.flags.volatile_);
    CHECK(r.broadcasts[2].second.flags.local);
    CHECK(r.broadcasts[3].first.nsp == "/chat");
    CHECK_FALSE(r.broadcasts[3].second.flags.compress);
}

TEST_CASE(
    "adapter seam: a broadcast's acks are complete once every node reported its count and every client answered") {
    Record r;
    sio::Server io;
    io.adapter(recording(r));
    sio::BroadcastAckHandlers handlers;
    r.answer_acks = [&](sio::BroadcastAckHandlers h) { handlers = std::move(h); };
    Outcome<std::pair<std::string, sio::Args>> out;
    io.timeout(5000).emit("question", [&](const sio::Error& err, const sio::Args& responses) {
        out.set({err.message, responses});
    });
    REQUIRE(handlers.ack);
    handlers.serverCount(2);            // this node and one other
    handlers.ack(sio::Value("early"));  // an answer may come before its node's count
    handlers.clientCount(1);
    CHECK_FALSE(out.done);  // the other node has not reported
    handlers.clientCount(2);
    handlers.ack(sio::Value("b"));
    CHECK_FALSE(out.done);
    handlers.ack(sio::Value("c"));
    REQUIRE(out.wait());
    CHECK(out.value.first.empty());
    CHECK(sio::Value(sio::Value::Array(out.value.second.begin(), out.value.second.end())).to_json() ==
          R"(["early","b","c"])");
}

TEST_CASE("adapter seam: a broadcast's acks time out with the answers that came") {
    Record r;
    sio::Server io;
    io.adapter(recording(r));
    r.answer_acks = [&](sio::BroadcastAckHandlers h) {
        h.serverCount(2);
        h.clientCount(2);
        h.ack(sio::Value(1));  // the second client and the other node never answer
    };
    Outcome<std::pair<std::string, size_t>> out;
    io.timeout(50).emit("question", [&](const sio::Error& err, const sio::Args& responses) {
        out.set({err.message, responses.size()});
    });
    REQUIRE(out.wait());
    CHECK(out.value.first == "operation has timed out");
    CHECK(out.value.second == 1);
}

TEST_CASE("adapter seam: with no socket anywhere a broadcast's ack runs at once with no answers") {
    sio::Server io;  // the in-memory adapter
    Outcome<std::pair<std::string, size_t>> out;
    io.timeout(5000).emit("question", [&](const sio::Error& err, const sio::Args& responses) {
        out.set({err.message, responses.size()});
    });
    REQUIRE(out.done);
    CHECK(out.value.first.empty());
    CHECK(out.value.second == 0);
}

TEST_CASE("adapter seam: socketsJoin, socketsLeave and disconnectSockets go to the adapter with their choice") {
    Record r;
    sio::Server io;
    io.adapter(recording(r));
    io.in("lobby").socketsJoin({"a", "b"});
    io.except("vip").socketsLeave("a");
    io.in("banned").disconnectSockets(true);
    io.local().disconnectSockets();
    REQUIRE(r.calls.size() == 4);
    CHECK(r.calls[0].first == "addSockets");
    CHECK(r.calls[0].second.rooms == Names{"lobby"});
    CHECK(r.calls[1].first == "delSockets");
    CHECK(r.calls[1].second.except == Names{"vip"});
    CHECK(r.call_rooms == std::vector<std::string>{"a", "b", "a"});
    CHECK(r.calls[2].first == "disconnectSockets(close)");
    CHECK(r.calls[3].first == "disconnectSockets");
    CHECK(r.calls[3].second.flags.local);
}

TEST_CASE("adapter seam: fetchSockets(callback) gives the adapter's sockets as RemoteSockets, with its error") {
    Record r;
    sio::Server io;
    io.adapter(recording(r));
    r.answer_fetch = [](sio::SocketInfoCallback cb) {
        sio::SocketInfo far;
        far.id = "far-away";
        far.rooms = {"far-away", "room"};
        far.data = sio::Object{{"nick", "ann"}};
        far.handshake.address = "10.0.0.2";
        cb(sio::Error{"timeout reached while waiting for fetchSockets response"}, {far});
    };
    Outcome<std::pair<std::string, std::vector<sio::RemoteSocket>>> out;
    io.in("room").fetchSockets([&](const sio::Error& err, std::vector<sio::RemoteSocket> sockets) {
        out.set({err.message, std::move(sockets)});
    });
    REQUIRE(out.wait());
    CHECK(out.value.first == "timeout reached while waiting for fetchSockets response");
    REQUIRE(out.value.second.size() == 1);
    auto& s = out.value.second[0];
    CHECK(s.id() == "far-away");
    CHECK(s.rooms() == Names{"far-away", "room"});
    CHECK(s.data()["nick"].as_string() == "ann");
    CHECK(s.handshake().address == "10.0.0.2");
    CHECK(s.local() == nullptr);  // not on this node
    // Its methods go through the adapter, to the socket's own room.
    s.emit("hello", 1);
    s.join("extra");
    s.disconnect();
    REQUIRE(r.broadcasts.size() == 1);
    CHECK(r.broadcasts[0].second.rooms == Names{"far-away"});
    REQUIRE(r.calls.size() == 2);
    CHECK(r.calls[0].second.rooms == Names{"far-away"});
    CHECK(r.calls[1].first == "disconnectSockets");
}

TEST_CASE("adapter seam: fetchSockets(callback) over a dynamic namespace gathers every child's answer once") {
    sio::Server io;
    auto& parent = io.of(std::regex("^/room-\\d+$"));
    // No child yet: the callback still runs, with nothing.
    Outcome<size_t> none;
    parent.fetchSockets([&](const sio::Error&, std::vector<sio::RemoteSocket> sockets) { none.set(sockets.size()); });
    REQUIRE(none.done);
    CHECK(none.value == 0);
}

TEST_CASE("adapter seam: serverSideEmit hands [event, args...] to the adapter; alone, its ack has no responses") {
    Record r;
    sio::Server io;
    io.adapter(recording(r));
    io.serverSideEmit("hello", "world", 2);
    REQUIRE(r.server_side.size() == 1);
    CHECK(sio::Value(sio::Value::Array(r.server_side[0].begin(), r.server_side[0].end())).to_json() ==
          R"(["hello","world",2])");
    Outcome<std::pair<std::string, size_t>> out;
    io.of("/chat").serverSideEmit("ping", [&](const sio::Error& err, const sio::Args& responses) {
        out.set({err.message, responses.size()});
    });
    REQUIRE(out.done);
    CHECK(out.value.first.empty());
    CHECK(out.value.second == 0);
    CHECK_THROWS_AS(io.serverSideEmit("connect"), std::invalid_argument);
}

TEST_CASE("adapter seam: a server-side event from another node reaches io.on(event) listeners, which may answer") {
    sio::Server io;
    std::vector<std::string> seen;
    io.on("hello", [&](sio::ServerEvent& ev) {
        seen.push_back(ev.name() + ":" + ev[0].as_string());
        CHECK(ev.has_ack());
        ev.ack(sio::Value("from-here"));
        ev.ack(sio::Value("twice"));  // only the first answer counts
    });
    std::vector<std::string> replies;
    io.sockets.handle_server_side_emit(sio::Args{sio::Value("hello"), sio::Value("there")},
                                       [&](const sio::Value& v) { replies.push_back(v.as_string()); });
    CHECK(seen == std::vector<std::string>{"hello:there"});
    CHECK(replies == std::vector<std::string>{"from-here"});
    // An event nobody listens to is not answered; malformed data is ignored.
    io.sockets.handle_server_side_emit(sio::Args{sio::Value("nobody")},
                                       [&](const sio::Value&) { replies.push_back("x"); });
    io.sockets.handle_server_side_emit(sio::Args{}, nullptr);
    io.sockets.handle_server_side_emit(sio::Args{sio::Value(42)}, nullptr);
    CHECK(replies.size() == 1);
    // Without a callback the listener sees no ack.
    bool had_ack = true;
    io.on("fire", [&](sio::ServerEvent& ev) { had_ack = ev.has_ack(); });
    io.sockets.handle_server_side_emit(sio::Args{sio::Value("fire")}, nullptr);
    CHECK_FALSE(had_ack);
    CHECK_THROWS_AS(io.on("connection", [](sio::ServerEvent&) {}), std::invalid_argument);
}

TEST_CASE("adapter seam: the handshake crosses nodes as Node writes it") {
    sio::Handshake h;
    h.headers = {{"host", "example.com"}, {"user-agent", "test"}};
    h.time = "Tue Dec 01 2026 22:00:00 GMT";
    h.address = "127.0.0.5";
    h.xdomain = true;
    h.issued = 1796162400123;
    h.url = "/socket.io/?EIO=4&transport=polling";
    h.query = {{"EIO", "4"}, {"transport", "polling"}};
    h.auth = sio::Object{{"token", "abc"}};
    sio::Value v = sio::to_value(h);
    CHECK(v["headers"]["host"].as_string() == "example.com");
    CHECK(v["issued"].as_number() == 1796162400123.0);
    CHECK(v["xdomain"].as_bool());
    CHECK_FALSE(v["secure"].as_bool());
    CHECK(v["query"]["EIO"].as_string() == "4");
    auto back = sio::handshake_from_value(v);
    CHECK(back.headers == h.headers);
    CHECK(back.time == h.time);
    CHECK(back.address == h.address);
    CHECK(back.xdomain);
    CHECK(back.issued == h.issued);
    CHECK(back.url == h.url);
    CHECK(back.query == h.query);
    CHECK(back.auth["token"].as_string() == "abc");
    // Node's headers may hold arrays (set-cookie); they arrive as their JSON text. Missing fields are empty.
    auto odd = sio::handshake_from_value(sio::Object{{"headers", sio::Object{{"x", sio::Array{"a", "b"}}}}});
    CHECK(odd.headers["x"] == R"(["a","b"])");
    CHECK(odd.address.empty());
    CHECK(odd.auth.is_object());
}

TEST_CASE("adapter seam: closing the server closes every adapter") {
    Record r;
    {
        sio::Server io;
        io.adapter(recording(r));
        io.of("/chat");
        REQUIRE(io.start("127.0.0.1", 0) > 0);
        io.close();
        CHECK(r.closes == 2);
    }
    CHECK(r.closes >= 2);
}
