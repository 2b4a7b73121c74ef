// The hooks sioserver.hpp has for add-ons that watch a server (sioserver_admin.hpp): the adapter's room events,
// in the order and on the conditions of npm socket.io-adapter's in-memory adapter ("create-room" before
// "join-room", "leave-room" before "delete-room", nothing for a join or a leave that changes nothing), and the
// server's namespaces with its "new_namespace" hook. The sockets belong to a sio::Server that is never started.
#include "sioserver.hpp"
#include "test_access.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

struct Fixture {
    sio::Server server;
    std::vector<std::string> heard;
    sio::SocketPtr socket(const std::string& nsp) { return sio::detail::TestAccess::make_socket(server.of(nsp)); }
    void listen(const std::string& nsp) {
        server.of(nsp).adapter().on_room_event(
            [this](sio::Adapter::RoomEvent e, const std::string& room, const std::string& sid) {
                static const char* names[] = {"create-room", "delete-room", "join-room", "leave-room"};
                heard.push_back(std::string(names[int(e)]) + " " + room + (sid.empty() ? "" : " " + sid));
            });
    }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "room events: create, join, leave, delete, as socket.io-adapter emits them") {
    listen("/");
    auto a = socket("/");
    auto b = socket("/");
    auto& adapter = server.of("/").adapter();
    adapter.addAll(a, {"r1", "r2"});
    CHECK(heard == std::vector<std::string>{"create-room r1", "join-room r1 " + a->id(), "create-room r2",
                                            "join-room r2 " + a->id()});
    heard.clear();
    adapter.addAll(b, {"r1"});
    adapter.addAll(a, {"r1"});  // already in it: nothing
    CHECK(heard == std::vector<std::string>{"join-room r1 " + b->id()});
    heard.clear();
    adapter.del(a->id(), "r1");
    adapter.del(a->id(), "nowhere");  // nothing
    CHECK(heard == std::vector<std::string>{"leave-room r1 " + a->id()});
    heard.clear();
    adapter.delAll(a->id());
    CHECK(heard == std::vector<std::string>{"leave-room r2 " + a->id(), "delete-room r2"});
    heard.clear();
    adapter.del(b->id(), "r1");
    CHECK(heard == std::vector<std::string>{"leave-room r1 " + b->id(), "delete-room r1"});
}

TEST_CASE_FIXTURE(Fixture, "room events: a listener may join or leave from inside one (its lock is let go)") {
    auto a = socket("/x");
    auto& adapter = server.of("/x").adapter();
    adapter.on_room_event([&](sio::Adapter::RoomEvent e, const std::string& room, const std::string& sid) {
        if (e == sio::Adapter::RoomEvent::JoinRoom && room == "first") adapter.addAll(a, {"second"});
        heard.push_back(room + " " + sid);
    });
    adapter.addAll(a, {"first"});
    CHECK(adapter.socketRooms(a->id()) == std::set<std::string>{"first", "second"});
    CHECK(heard.size() == 4);  // create and join of each (create-room's sid is empty)
}

TEST_CASE_FIXTURE(Fixture, "room events: another namespace's adapter has its own listeners") {
    listen("/a");
    server.of("/b").adapter().addAll(socket("/b"), {"r"});
    CHECK(heard.empty());
}

TEST_CASE_FIXTURE(Fixture, "namespaces() lists them by name; on_new_namespace hears each one made after it") {
    std::vector<std::string> made;
    server.of("/early");
    server.on_new_namespace([&](sio::Namespace& nsp) { made.push_back(nsp.name()); });
    server.of("/late");
    server.of("/late");  // already made: not again
    server.of("other");  // the name gets its "/"
    CHECK(made == std::vector<std::string>{"/late", "/other"});
    std::vector<std::string> names;
    for (auto* nsp : server.namespaces()) names.push_back(nsp->name());
    CHECK(names == std::vector<std::string>{"/", "/early", "/late", "/other"});
}

TEST_CASE_FIXTURE(Fixture, "on_new_namespace: a dynamic namespace's child, once it has its parent's handlers") {
    auto& parent = server.of([](const std::string& name, const sio::Value&) { return name.rfind("/room-", 0) == 0; });
    parent.use([](sio::Socket&, sio::Next next) { next(); });
    size_t seen = 0;
    server.on_new_namespace([&](sio::Namespace& nsp) {
        CHECK(nsp.name() == "/room-1");
        ++seen;
    });
    CHECK(sio::detail::TestAccess::find_namespace(server, "/room-1", sio::Value()) != nullptr);
    CHECK(sio::detail::TestAccess::find_namespace(server, "/room-1", sio::Value()) != nullptr);
    CHECK(sio::detail::TestAccess::find_namespace(server, "/other", sio::Value()) == nullptr);
    CHECK(seen == 1);
}
