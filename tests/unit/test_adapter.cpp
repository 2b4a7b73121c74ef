// sio::Adapter, the room map (as npm socket.io-adapter's in-memory Adapter): per namespace, room -> socket ids and
// socket id -> (socket, rooms); add_all / del / del_all / socket_rooms / rooms / select (the recipients of a broadcast).
// The sockets are real sio::Socket objects of a sio::Server that is never started.
#include "sioserver.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace {

// A server (never started) to own the namespaces the sockets belong to, and a fresh Adapter for each test.
struct Fixture {
    sio::Server server;
    sio::Adapter adapter;

    sio::SocketPtr socket(const std::string& nsp) {
        return std::make_shared<sio::Socket>(server.of(nsp), std::shared_ptr<sio::Client>(), sio::Handshake{});
    }
    // A socket added to its namespace the way the server does it: in the room named after its id, plus `rooms`.
    sio::SocketPtr joined(const std::string& nsp, std::vector<std::string> rooms = {}) {
        auto s = socket(nsp);
        rooms.insert(rooms.begin(), s->id());
        adapter.add_all(nsp, s, rooms);
        return s;
    }
};

// The ids of a selection, sorted; and whether no socket appears twice in it.
std::vector<std::string> ids(const std::vector<sio::SocketPtr>& sockets) {
    std::vector<std::string> out;
    for (auto& s : sockets) out.push_back(s->id());
    std::sort(out.begin(), out.end());
    return out;
}
std::vector<std::string> ids(std::initializer_list<sio::SocketPtr> sockets) { return ids(std::vector<sio::SocketPtr>(sockets)); }
bool unique(const std::vector<sio::SocketPtr>& sockets) {
    auto v = ids(sockets);
    return std::adjacent_find(v.begin(), v.end()) == v.end();
}

using Rooms = std::set<std::string>;

}  // namespace

TEST_CASE_FIXTURE(Fixture, "adapter: sockets of a never-started server have distinct ids and their namespace") {
    auto a = socket("/x");
    auto b = socket("/x");
    CHECK_FALSE(a->id().empty());
    CHECK(a->id() != b->id());
    CHECK(a->nsp().name() == "/x");
    CHECK(&a->nsp() == &server.of("/x"));
    CHECK_FALSE(a->connected());
}

TEST_CASE_FIXTURE(Fixture, "adapter: add_all puts a socket in its rooms") {
    auto s = socket("/x");
    adapter.add_all("/x", s, {s->id(), "red", "blue"});
    CHECK(adapter.socket_rooms("/x", s->id()) == Rooms{s->id(), "red", "blue"});
    auto rooms = adapter.rooms("/x");
    CHECK(rooms.size() == 3);
    CHECK(rooms["red"] == Rooms{s->id()});
    CHECK(rooms["blue"] == Rooms{s->id()});
    CHECK(rooms[s->id()] == Rooms{s->id()});
    // A second add_all adds to the rooms the socket is already in; joining twice is harmless.
    adapter.add_all("/x", s, {"green", "red"});
    CHECK(adapter.socket_rooms("/x", s->id()) == Rooms{s->id(), "red", "blue", "green"});
    CHECK(adapter.rooms("/x")["red"] == Rooms{s->id()});
}

TEST_CASE_FIXTURE(Fixture, "adapter: several sockets in one room") {
    auto a = joined("/x", {"room"});
    auto b = joined("/x", {"room"});
    auto c = joined("/x");
    CHECK(adapter.rooms("/x")["room"] == Rooms{a->id(), b->id()});
    CHECK(adapter.socket_rooms("/x", c->id()) == Rooms{c->id()});
    CHECK(ids(adapter.select("/x", {"room"}, {})) == ids({a, b}));
}

TEST_CASE_FIXTURE(Fixture, "adapter: del leaves one room; the others and the membership stay") {
    auto s = joined("/x", {"a", "b"});
    auto t = joined("/x", {"a"});
    adapter.del("/x", s->id(), "a");
    CHECK(adapter.socket_rooms("/x", s->id()) == Rooms{s->id(), "b"});
    CHECK(adapter.rooms("/x")["a"] == Rooms{t->id()});
    CHECK(ids(adapter.select("/x", {"a"}, {})) == ids({t}));
    CHECK(ids(adapter.select("/x", {"b"}, {})) == ids({s}));
    // Leaving every room does not remove the socket from the namespace.
    adapter.del("/x", s->id(), "b");
    adapter.del("/x", s->id(), s->id());
    CHECK(adapter.socket_rooms("/x", s->id()).empty());
    CHECK(ids(adapter.select("/x", {}, {})) == ids({s, t}));
}

TEST_CASE_FIXTURE(Fixture, "adapter: del of a room the socket is not in, or of an unknown socket, changes nothing") {
    auto s = joined("/x", {"a"});
    auto before = adapter.rooms("/x");
    adapter.del("/x", s->id(), "not-joined");
    adapter.del("/x", "no-such-sid", "a");
    adapter.del("/other", s->id(), "a");
    CHECK(adapter.rooms("/x") == before);
    CHECK(adapter.socket_rooms("/x", s->id()) == Rooms{s->id(), "a"});
}

TEST_CASE_FIXTURE(Fixture, "adapter: del_all removes the socket from every room and from the namespace") {
    auto s = joined("/x", {"a", "b"});
    auto t = joined("/x", {"a"});
    adapter.del_all("/x", s->id());
    CHECK(adapter.socket_rooms("/x", s->id()).empty());
    auto rooms = adapter.rooms("/x");
    CHECK(rooms.count(s->id()) == 0);
    CHECK(rooms.count("b") == 0);
    CHECK(rooms["a"] == Rooms{t->id()});
    CHECK(ids(adapter.select("/x", {}, {})) == ids({t}));
    CHECK(ids(adapter.select("/x", {"a", "b"}, {})) == ids({t}));
    // Again, or for an unknown socket: nothing happens.
    adapter.del_all("/x", s->id());
    adapter.del_all("/x", "no-such-sid");
    CHECK(ids(adapter.select("/x", {}, {})) == ids({t}));
    // The socket can come back.
    adapter.add_all("/x", s, {"c"});
    CHECK(adapter.socket_rooms("/x", s->id()) == Rooms{"c"});
}

TEST_CASE_FIXTURE(Fixture, "adapter: socket_rooms of an unknown socket or namespace is empty") {
    auto s = joined("/x", {"a"});
    CHECK(adapter.socket_rooms("/x", "no-such-sid").empty());
    CHECK(adapter.socket_rooms("/nowhere", s->id()).empty());
}

TEST_CASE_FIXTURE(Fixture, "adapter: rooms(nsp) is a snapshot and drops rooms that became empty") {
    auto s = joined("/x", {"a", "shared"});
    auto t = joined("/x", {"shared"});
    auto snapshot = adapter.rooms("/x");
    CHECK(snapshot.size() == 4);  // two own-id rooms, "a", "shared"
    adapter.del("/x", s->id(), "a");
    CHECK(adapter.rooms("/x").count("a") == 0);  // empty: gone
    CHECK(snapshot.count("a") == 1);             // the earlier snapshot is unchanged
    CHECK(snapshot["a"] == Rooms{s->id()});
    adapter.del_all("/x", t->id());
    auto after = adapter.rooms("/x");
    CHECK(after.count(t->id()) == 0);
    CHECK(after["shared"] == Rooms{s->id()});
    adapter.del_all("/x", s->id());
    CHECK(adapter.rooms("/x").empty());
}

TEST_CASE_FIXTURE(Fixture, "adapter: select with no rooms gives every socket of the namespace") {
    auto a = joined("/x", {"r"});
    auto b = joined("/x");
    auto c = socket("/x");
    adapter.add_all("/x", c, {});  // a member in no room at all
    joined("/y", {"r"});           // another namespace
    auto all = adapter.select("/x", {}, {});
    CHECK(all.size() == 3);
    CHECK(ids(all) == ids({a, b, c}));
    // the SocketPtrs are the very sockets that were added
    CHECK(std::find(all.begin(), all.end(), a) != all.end());
}

TEST_CASE_FIXTURE(Fixture, "adapter: select with rooms is the union, each socket once even when in several rooms") {
    auto a = joined("/x", {"r1", "r2"});
    auto b = joined("/x", {"r2", "r3"});
    auto c = joined("/x", {"r3"});
    auto d = joined("/x");
    auto sel = adapter.select("/x", {"r1", "r2", "r3"}, {});
    CHECK(sel.size() == 3);
    CHECK(unique(sel));
    CHECK(ids(sel) == ids({a, b, c}));
    CHECK(ids(adapter.select("/x", {"r1"}, {})) == ids({a}));
    CHECK(ids(adapter.select("/x", {"r2"}, {})) == ids({a, b}));
    CHECK(ids(adapter.select("/x", {"r1", "r3"}, {})) == ids({a, b, c}));
    // a socket's own room reaches just it (socket.to(otherId) in JavaScript)
    CHECK(ids(adapter.select("/x", {d->id()}, {})) == ids({d}));
    CHECK(ids(adapter.select("/x", {d->id(), a->id(), "r1"}, {})) == ids({a, d}));
    // rooms nobody is in select nobody
    CHECK(adapter.select("/x", {"empty"}, {}).empty());
    CHECK(ids(adapter.select("/x", {"empty", "r1"}, {})) == ids({a}));
}

TEST_CASE_FIXTURE(Fixture, "adapter: except rooms are left out") {
    auto a = joined("/x", {"r1", "r2"});
    auto b = joined("/x", {"r2"});
    auto c = joined("/x", {"r3"});
    // broadcast to all except a room
    CHECK(ids(adapter.select("/x", {}, {"r1"})) == ids({b, c}));
    // to rooms except a room
    CHECK(ids(adapter.select("/x", {"r2"}, {"r1"})) == ids({b}));
    CHECK(ids(adapter.select("/x", {"r2", "r3"}, {"r2"})) == ids({c}));
    // except the sender's own room: socket.broadcast in JavaScript
    CHECK(ids(adapter.select("/x", {}, {a->id()})) == ids({b, c}));
    // several except rooms; an unknown one is harmless
    CHECK(ids(adapter.select("/x", {}, {"r1", "r3", "nobody"})) == ids({b}));
    CHECK(adapter.select("/x", {"r1"}, {"r1"}).empty());
    CHECK(adapter.select("/x", {}, {"r2", "r3"}).empty());
}

TEST_CASE_FIXTURE(Fixture, "adapter: namespaces are separate") {
    auto x = joined("/x", {"room"});
    auto y = joined("/y", {"room"});
    CHECK(ids(adapter.select("/x", {"room"}, {})) == ids({x}));
    CHECK(ids(adapter.select("/y", {"room"}, {})) == ids({y}));
    CHECK(ids(adapter.select("/x", {}, {})) == ids({x}));
    CHECK(adapter.rooms("/x")["room"] == Rooms{x->id()});
    CHECK(adapter.socket_rooms("/y", x->id()).empty());
    // a room left in one namespace stays joined in the other
    adapter.del("/x", x->id(), "room");
    CHECK(adapter.rooms("/x").count("room") == 0);
    CHECK(adapter.rooms("/y")["room"] == Rooms{y->id()});
    // del_all in one namespace does not touch the other
    adapter.del_all("/y", y->id());
    CHECK(ids(adapter.select("/x", {}, {})) == ids({x}));
    // the same socket object may be registered under two namespaces independently
    adapter.add_all("/z", x, {"zroom"});
    CHECK(adapter.socket_rooms("/z", x->id()) == Rooms{"zroom"});
    CHECK(adapter.socket_rooms("/x", x->id()) == Rooms{x->id()});
}

TEST_CASE_FIXTURE(Fixture, "adapter: an unknown namespace gives nothing") {
    joined("/x", {"room"});
    CHECK(adapter.select("/unknown", {}, {}).empty());
    CHECK(adapter.select("/unknown", {"room"}, {}).empty());
    CHECK(adapter.rooms("/unknown").empty());
    CHECK(adapter.socket_rooms("/unknown", "sid").empty());
    // del / del_all on it are harmless and leave it empty
    adapter.del("/unknown", "sid", "room");
    adapter.del_all("/unknown", "sid");
    CHECK(adapter.select("/unknown", {}, {}).empty());
    CHECK(adapter.rooms("/unknown").empty());
}

TEST_CASE_FIXTURE(Fixture, "adapter: many sockets and rooms stay consistent") {
    std::vector<sio::SocketPtr> sockets;
    for (int i = 0; i < 50; ++i) sockets.push_back(joined("/big", {"all", i % 2 ? "odd" : "even", "mod3-" + std::to_string(i % 3)}));
    CHECK(adapter.select("/big", {}, {}).size() == 50);
    CHECK(adapter.select("/big", {"odd"}, {}).size() == 25);
    CHECK(adapter.select("/big", {"odd", "even"}, {}).size() == 50);
    CHECK(unique(adapter.select("/big", {"all", "odd", "even", "mod3-0"}, {})));
    CHECK(adapter.select("/big", {"all"}, {"mod3-0"}).size() == 33);  // 17 of 0..49 are multiples of 3
    CHECK(adapter.select("/big", {"odd"}, {"mod3-0"}).size() == 17);  // odd and not a multiple of 3: 25 - 8
    for (int i = 0; i < 50; i += 2) adapter.del_all("/big", sockets[size_t(i)]->id());
    CHECK(adapter.select("/big", {}, {}).size() == 25);
    CHECK(adapter.rooms("/big").count("even") == 0);
    CHECK(adapter.rooms("/big")["odd"].size() == 25);
}
