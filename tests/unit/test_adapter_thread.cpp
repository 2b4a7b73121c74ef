// What an adapter's own thread delivers (Adapter::deliver, layer 5a): it runs no user code, so the recipients'
// onAnyOutgoing listeners and the close handlers of a recipient closed past maxBufferedBytes run on the engine's
// handler thread. The sockets are on fake transports of a sio::Server that is never started.
#include "sioserver.hpp"
#include "fake_transport.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;

namespace {

// An adapter whose "reader thread" is a thread of the test: deliver() is protected.
class ReaderAdapter : public sio::Adapter {
public:
    using Adapter::Adapter;
    void deliver_from_reader(const sio::packet::Packet& p) { deliver(p, sio::BroadcastOptions{}); }
};

// Where a callback ran, handed from whichever thread ran it.
struct Seen {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::thread::id on;
    void mark() {
        std::lock_guard<std::mutex> lk(mu);
        if (done) return;
        done = true;
        on = std::this_thread::get_id();
        cv.notify_all();
    }
    bool wait() {
        std::unique_lock<std::mutex> lk(mu);
        return cv.wait_for(lk, 5s, [&] { return done; });
    }
};

// The id of the engine's handler thread (a task posted to it says where it ran).
std::thread::id handler_thread_of(sio::Server& io) {
    Seen seen;
    io.engine().post_handler([&] { seen.mark(); });
    REQUIRE(seen.wait());
    return seen.on;
}

sio::packet::Packet event_packet() {
    sio::packet::Packet p;
    p.type = sio::packet::Type::Event;
    p.nsp = "/";
    p.has_data = true;
    p.data = sio::Value(sio::Value::Array{sio::Value("news"), sio::Value(std::string(100, 'x'))});
    return p;
}

// One client connected to "/" on a fake transport; the socket that the server made for it.
sio::Socket* connect_one(sio::Server& io, std::shared_ptr<sio::test::FakeTransport>& transport,
                         std::shared_ptr<sio::eio::Socket>& session) {
    sio::Socket* socket = nullptr;
    io.on_connection([&](sio::Socket& s) { socket = &s; });
    transport = std::make_shared<sio::test::FakeTransport>("websocket");
    session = io.engine().open_session("s1", httplib::Request{}, transport);
    sio::eio::Packet connect;
    connect.type = sio::eio::PacketType::Message;
    connect.data = "0";
    session->handle_packet(*transport, connect);
    REQUIRE(transport->wait_sent(2));  // the open packet, and the CONNECT
    return socket;
}

sio::Options options() {
    sio::Options o;
    o.serveClient = false;
    return o;
}

}  // namespace

TEST_CASE("adapter thread: a delivered broadcast's onAnyOutgoing listener runs on the handler thread") {
    sio::Server io(options());
    ReaderAdapter* adapter = nullptr;
    io.adapter([&](sio::Namespace& nsp) {
        auto a = std::make_unique<ReaderAdapter>(nsp);
        if (nsp.name() == "/") adapter = a.get();
        return a;
    });
    std::shared_ptr<sio::test::FakeTransport> transport;
    std::shared_ptr<sio::eio::Socket> session;
    sio::Socket* socket = connect_one(io, transport, session);
    REQUIRE(socket != nullptr);
    REQUIRE(adapter != nullptr);

    Seen listener;
    std::string event;
    socket->onAnyOutgoing([&](sio::Event& ev) {
        event = ev.name();
        listener.mark();
    });
    std::thread::id reader_id;
    std::thread reader([&] {
        reader_id = std::this_thread::get_id();
        adapter->deliver_from_reader(event_packet());
    });
    reader.join();
    REQUIRE(listener.wait());
    CHECK(event == "news");
    CHECK(listener.on != reader_id);
    CHECK(listener.on == handler_thread_of(io));
    REQUIRE(transport->wait_sent(3));  // the packet itself went out
}

TEST_CASE("adapter thread: a recipient closed past maxBufferedBytes runs its close handlers on the handler thread") {
    sio::Options o = options();
    o.maxBufferedBytes = 50;  // one packet of the test is more
    sio::Server io(o);
    ReaderAdapter* adapter = nullptr;
    io.adapter([&](sio::Namespace& nsp) {
        auto a = std::make_unique<ReaderAdapter>(nsp);
        if (nsp.name() == "/") adapter = a.get();
        return a;
    });
    std::shared_ptr<sio::test::FakeTransport> transport;
    std::shared_ptr<sio::eio::Socket> session;
    sio::Socket* socket = connect_one(io, transport, session);
    REQUIRE(socket != nullptr);
    REQUIRE(adapter != nullptr);

    Seen disconnect, closed;
    std::string why;
    socket->on("disconnect", [&](sio::Event& ev) {
        if (!ev.args().empty() && ev.args()[0].is_string()) why = ev.args()[0].as_string();
        disconnect.mark();
    });
    transport->set_writable(false);  // what is sent now waits in the writeBuffer, which is over the cap at once
    std::thread::id reader_id;
    std::thread reader([&] {
        reader_id = std::this_thread::get_id();
        adapter->deliver_from_reader(event_packet());
        // The session is closed by now (the bytes are refused at once), whether or not its handlers ran yet.
        if (session->ready_state() == sio::eio::Socket::ReadyState::Closed) closed.mark();
    });
    reader.join();
    CHECK(closed.done);
    REQUIRE(disconnect.wait());
    CHECK(why == "transport error");
    CHECK(disconnect.on != reader_id);
    CHECK(disconnect.on == handler_thread_of(io));
}
