// sio::Adapter, the room map (as npm socket.io-adapter's in-memory Adapter): one per namespace, room -> socket ids and
// socket id -> (socket, rooms); addAll / del / delAll / socketRooms / rooms / select (the recipients of a broadcast).
// The sockets are real sio::Socket objects of a sio::Server that is never started.
#include "sioserver.hpp"
#include "test_access.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace {

// A server (never started) to own the namespaces the sockets belong to, with their adapters; fresh for each test.
struct Fixture {
    sio::Server server;
    // Each namespace has its own adapter, as in Node.
    sio::Adapter& A(const std::string& nsp) { return server.of(nsp).adapter(); }

    sio::SocketPtr socket(const std::string& nsp) { return sio::detail::TestAccess::make_socket(server.of(nsp)); }
    // A socket added to its namespace the way the server does it: in the room named after its id, plus `rooms`.
    sio::SocketPtr joined(const std::string& nsp, std::vector<std::string> rooms = {}) {
        auto s = socket(nsp);
        rooms.insert(rooms.begin(), s->id());
        A(nsp).addAll(s, rooms);
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
std::vector<std::string> ids(std::initializer_list<sio::SocketPtr> sockets) {
    return ids(std::vector<sio::SocketPtr>(sockets));
}
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

TEST_CASE_FIXTURE(Fixture, "adapter: addAll puts a socket in its rooms") {
    auto s = socket("/x");
    A("/x").addAll(s, {s->id(), "red", "blue"});
    CHECK(A("/x").socketRooms(s->id()) == Rooms{s->id(), "red", "blue"});
    auto rooms = A("/x").rooms();
    CHECK(rooms.size() == 3);
    CHECK(rooms["red"] == Rooms{s->id()});
    CHECK(rooms["blue"] == Rooms{s->id()});
    CHECK(rooms[s->id()] == Rooms{s->id()});
    // A second addAll adds to the rooms the socket is already in; joining twice is harmless.
    A("/x").addAll(s, {"green", "red"});
    CHECK(A("/x").socketRooms(s->id()) == Rooms{s->id(), "red", "blue", "green"});
    CHECK(A("/x").rooms()["red"] == Rooms{s->id()});
}

TEST_CASE_FIXTURE(Fixture, "adapter: several sockets in one room") {
    auto a = joined("/x", {"room"});
    auto b = joined("/x", {"room"});
    auto c = joined("/x");
    CHECK(A("/x").rooms()["room"] == Rooms{a->id(), b->id()});
    CHECK(A("/x").socketRooms(c->id()) == Rooms{c->id()});
    CHECK(ids(A("/x").select({"room"}, {})) == ids({a, b}));
}

TEST_CASE_FIXTURE(Fixture, "adapter: del leaves one room; the others and the membership stay") {
    auto s = joined("/x", {"a", "b"});
    auto t = joined("/x", {"a"});
    A("/x").del(s->id(), "a");
    CHECK(A("/x").socketRooms(s->id()) == Rooms{s->id(), "b"});
    CHECK(A("/x").rooms()["a"] == Rooms{t->id()});
    CHECK(ids(A("/x").select({"a"}, {})) == ids({t}));
    CHECK(ids(A("/x").select({"b"}, {})) == ids({s}));
    // Leaving every room does not remove the socket from the namespace.
    A("/x").del(s->id(), "b");
    A("/x").del(s->id(), s->id());
    CHECK(A("/x").socketRooms(s->id()).empty());
    CHECK(ids(A("/x").select({}, {})) == ids({s, t}));
}

TEST_CASE_FIXTURE(Fixture, "adapter: del of a room the socket is not in, or of an unknown socket, changes nothing") {
    auto s = joined("/x", {"a"});
    auto before = A("/x").rooms();
    A("/x").del(s->id(), "not-joined");
    A("/x").del("no-such-sid", "a");
    A("/other").del(s->id(), "a");
    CHECK(A("/x").rooms() == before);
    CHECK(A("/x").socketRooms(s->id()) == Rooms{s->id(), "a"});
}

TEST_CASE_FIXTURE(Fixture, "adapter: delAll removes the socket from every room and from the namespace") {
    auto s = joined("/x", {"a", "b"});
    auto t = joined("/x", {"a"});
    A("/x").delAll(s->id());
    CHECK(A("/x").socketRooms(s->id()).empty());
    auto rooms = A("/x").rooms();
    CHECK(rooms.count(s->id()) == 0);
    CHECK(rooms.count("b") == 0);
    CHECK(rooms["a"] == Rooms{t->id()});
    CHECK(ids(A("/x").select({}, {})) == ids({t}));
    CHECK(ids(A("/x").select({"a", "b"}, {})) == ids({t}));
    // Again, or for an unknown socket: nothing happens.
    A("/x").delAll(s->id());
    A("/x").delAll("no-such-sid");
    CHECK(ids(A("/x").select({}, {})) == ids({t}));
    // The socket can come back.
    A("/x").addAll(s, {"c"});
    CHECK(A("/x").socketRooms(s->id()) == Rooms{"c"});
}

TEST_CASE_FIXTURE(Fixture, "adapter: socketRooms of an unknown socket or namespace is empty") {
    auto s = joined("/x", {"a"});
    CHECK(A("/x").socketRooms("no-such-sid").empty());
    CHECK(A("/nowhere").socketRooms(s->id()).empty());
}

TEST_CASE_FIXTURE(Fixture, "adapter: rooms() is a snapshot and drops rooms that became empty") {
    auto s = joined("/x", {"a", "shared"});
    auto t = joined("/x", {"shared"});
    auto snapshot = A("/x").rooms();
    CHECK(snapshot.size() == 4);  // two own-id rooms, "a", "shared"
    A("/x").del(s->id(), "a");
    CHECK(A("/x").rooms().count("a") == 0);  // empty: gone
    CHECK(snapshot.count("a") == 1);         // the earlier snapshot is unchanged
    CHECK(snapshot["a"] == Rooms{s->id()});
    A("/x").delAll(t->id());
    auto after = A("/x").rooms();
    CHECK(after.count(t->id()) == 0);
    CHECK(after["shared"] == Rooms{s->id()});
    A("/x").delAll(s->id());
    CHECK(A("/x").rooms().empty());
}

TEST_CASE_FIXTURE(Fixture, "adapter: select with no rooms gives every socket of the namespace") {
    auto a = joined("/x", {"r"});
    auto b = joined("/x");
    auto c = socket("/x");
    A("/x").addAll(c, {});  // a member in no room at all
    joined("/y", {"r"});    // another namespace
    auto all = A("/x").select({}, {});
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
    auto sel = A("/x").select({"r1", "r2", "r3"}, {});
    CHECK(sel.size() == 3);
    CHECK(unique(sel));
    CHECK(ids(sel) == ids({a, b, c}));
    CHECK(ids(A("/x").select({"r1"}, {})) == ids({a}));
    CHECK(ids(A("/x").select({"r2"}, {})) == ids({a, b}));
    CHECK(ids(A("/x").select({"r1", "r3"}, {})) == ids({a, b, c}));
    // a socket's own room reaches just it (socket.to(otherId) in JavaScript)
    CHECK(ids(A("/x").select({d->id()}, {})) == ids({d}));
    CHECK(ids(A("/x").select({d->id(), a->id(), "r1"}, {})) == ids({a, d}));
    // rooms nobody is in select nobody
    CHECK(A("/x").select({"empty"}, {}).empty());
    CHECK(ids(A("/x").select({"empty", "r1"}, {})) == ids({a}));
}

TEST_CASE_FIXTURE(Fixture, "adapter: except rooms are left out") {
    auto a = joined("/x", {"r1", "r2"});
    auto b = joined("/x", {"r2"});
    auto c = joined("/x", {"r3"});
    // broadcast to all except a room
    CHECK(ids(A("/x").select({}, {"r1"})) == ids({b, c}));
    // to rooms except a room
    CHECK(ids(A("/x").select({"r2"}, {"r1"})) == ids({b}));
    CHECK(ids(A("/x").select({"r2", "r3"}, {"r2"})) == ids({c}));
    // except the sender's own room: socket.broadcast in JavaScript
    CHECK(ids(A("/x").select({}, {a->id()})) == ids({b, c}));
    // several except rooms; an unknown one is harmless
    CHECK(ids(A("/x").select({}, {"r1", "r3", "nobody"})) == ids({b}));
    CHECK(A("/x").select({"r1"}, {"r1"}).empty());
    CHECK(A("/x").select({}, {"r2", "r3"}).empty());
}

TEST_CASE_FIXTURE(Fixture, "adapter: namespaces are separate") {
    auto x = joined("/x", {"room"});
    auto y = joined("/y", {"room"});
    CHECK(ids(A("/x").select({"room"}, {})) == ids({x}));
    CHECK(ids(A("/y").select({"room"}, {})) == ids({y}));
    CHECK(ids(A("/x").select({}, {})) == ids({x}));
    CHECK(A("/x").rooms()["room"] == Rooms{x->id()});
    CHECK(A("/y").socketRooms(x->id()).empty());
    // a room left in one namespace stays joined in the other
    A("/x").del(x->id(), "room");
    CHECK(A("/x").rooms().count("room") == 0);
    CHECK(A("/y").rooms()["room"] == Rooms{y->id()});
    // delAll in one namespace does not touch the other
    A("/y").delAll(y->id());
    CHECK(ids(A("/x").select({}, {})) == ids({x}));
    // the same socket object may be registered under two namespaces independently
    A("/z").addAll(x, {"zroom"});
    CHECK(A("/z").socketRooms(x->id()) == Rooms{"zroom"});
    CHECK(A("/x").socketRooms(x->id()) == Rooms{x->id()});
}

TEST_CASE_FIXTURE(Fixture, "adapter: an unknown namespace gives nothing") {
    joined("/x", {"room"});
    CHECK(A("/unknown").select({}, {}).empty());
    CHECK(A("/unknown").select({"room"}, {}).empty());
    CHECK(A("/unknown").rooms().empty());
    CHECK(A("/unknown").socketRooms("sid").empty());
    // del / delAll on it are harmless and leave it empty
    A("/unknown").del("sid", "room");
    A("/unknown").delAll("sid");
    CHECK(A("/unknown").select({}, {}).empty());
    CHECK(A("/unknown").rooms().empty());
}

TEST_CASE_FIXTURE(Fixture, "adapter: many sockets and rooms stay consistent") {
    std::vector<sio::SocketPtr> sockets;
    for (int i = 0; i < 50; ++i)
        sockets.push_back(joined("/big", {"all", i % 2 ? "odd" : "even", "mod3-" + std::to_string(i % 3)}));
    CHECK(A("/big").select({}, {}).size() == 50);
    CHECK(A("/big").select({"odd"}, {}).size() == 25);
    CHECK(A("/big").select({"odd", "even"}, {}).size() == 50);
    CHECK(unique(A("/big").select({"all", "odd", "even", "mod3-0"}, {})));
    CHECK(A("/big").select({"all"}, {"mod3-0"}).size() == 33);  // 17 of 0..49 are multiples of 3
    CHECK(A("/big").select({"odd"}, {"mod3-0"}).size() == 17);  // odd and not a multiple of 3: 25 - 8
    for (int i = 0; i < 50; i += 2) A("/big").delAll(sockets[size_t(i)]->id());
    CHECK(A("/big").select({}, {}).size() == 25);
    CHECK(A("/big").rooms().count("even") == 0);
    CHECK(A("/big").rooms()["odd"].size() == 25);
}
