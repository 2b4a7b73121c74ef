// sioserver_metrics.hpp: the exposition format (pure) and what render() reads from a server's counts.
#include "sioserver_metrics.hpp"
#include "fake_transport.hpp"
#include "test_access.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <sstream>
#include <string>
#include <thread>

namespace {

// The value of the sample line that starts with `series` (the name and its labels, as written), or -1.
double value_of(const std::string& text, const std::string& series) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        if (line.compare(0, series.size() + 1, series + " ") == 0) return std::stod(line.substr(series.size() + 1));
    return -1;
}

}  // namespace

TEST_CASE("metrics: numbers, HELP text and label values are written as the text format 0.0.4 says") {
    using W = sio::metrics::Writer;
    CHECK(W::number(0) == "0");
    CHECK(W::number(42) == "42");
    CHECK(W::number(-3) == "-3");
    CHECK(W::number(0.00001) == "1e-05");
    CHECK(W::number(0.1) == "0.1");
    CHECK(std::stod(W::number(1.0 / 3)) == 1.0 / 3);  // the shortest form that reads back
    CHECK(W::number(std::numeric_limits<double>::infinity()) == "+Inf");
    W w;
    w.family("x_total", "counter", "a \\ b\nc \"d\"");
    w.sample("x_total", 7, {{"namespace", "/a\"b\\c\nd"}, {"code", "3"}});
    CHECK(w.text() ==
          "# HELP x_total a \\\\ b\\nc \"d\"\n# TYPE x_total counter\n"
          "x_total{namespace=\"/a\\\"b\\\\c\\nd\",code=\"3\"} 7\n");
}

TEST_CASE("metrics: a histogram's buckets are cumulative and end with +Inf, the sum and the count") {
    sio::eio::Timing t;
    t.observe(std::chrono::microseconds(5));    // <= 1e-05
    t.observe(std::chrono::microseconds(700));  // <= 0.001
    t.observe(std::chrono::milliseconds(2));    // <= 0.005
    t.observe(std::chrono::seconds(10));        // over every bound
    sio::metrics::Writer w;
    w.histogram("h_seconds", "help", t);
    const std::string& text = w.text();
    CHECK(value_of(text, "h_seconds_bucket{le=\"1e-05\"}") == 1);
    CHECK(value_of(text, "h_seconds_bucket{le=\"0.0005\"}") == 1);
    CHECK(value_of(text, "h_seconds_bucket{le=\"0.001\"}") == 2);
    CHECK(value_of(text, "h_seconds_bucket{le=\"0.005\"}") == 3);
    CHECK(value_of(text, "h_seconds_bucket{le=\"5\"}") == 3);
    CHECK(value_of(text, "h_seconds_bucket{le=\"+Inf\"}") == 4);
    CHECK(value_of(text, "h_seconds_count") == 4);
    CHECK(value_of(text, "h_seconds_sum") == doctest::Approx(10.002705));
}

TEST_CASE("metrics: render() writes each family once, from the server's own counts") {
    sio::Options opt;
    opt.serveClient = false;
    sio::Server io(opt);
    io.of("/chat");
    io.of([](const std::string& name, const sio::Value&) { return name.rfind("/room-", 0) == 0; });
    // Two children of the dynamic namespace: one label, its parent's name (Node's "/_0"), not one per child.
    REQUIRE(sio::detail::TestAccess::find_namespace(io, "/room-1", sio::Value(sio::Object{})));
    REQUIRE(sio::detail::TestAccess::find_namespace(io, "/room-2", sio::Value(sio::Object{})));
    io.engine().traffic().watch(true);
    io.stats().bump(io.stats().eventsReceived, 5);
    io.stats().bump(io.stats().middlewareRefusals);
    io.of("/chat").adapter().counters().bump(io.of("/chat").adapter().counters().sessionsKept, 2);
    io.sockets.adapter().counters().bump(io.sockets.adapter().counters().sessionsKept);
    sio::metrics::Options mo;
    mo.prefix = "app";
    const std::string text = sio::metrics::render(io, mo);

    std::set<std::string> families;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("# TYPE ", 0) != 0) continue;
        const std::string name = line.substr(7, line.find(' ', 7) - 7);
        CHECK_MESSAGE(families.insert(name).second, "family written twice: " << name);
    }
    CHECK(families.count("app_engine_sessions"));
    CHECK(families.count("app_handler_duration_seconds"));
    CHECK(families.count("process_cpu_seconds_total"));
    CHECK(families.count("process_resident_memory_bytes"));
    CHECK(families.count("process_open_fds"));
    CHECK(families.count("process_start_time_seconds"));
    CHECK(value_of(text, "app_events_received_total") == 5);
    CHECK(value_of(text, "app_middleware_refusals_total") == 1);
    CHECK(value_of(text, "app_recovery_sessions_kept_total") == 3);  // summed over the namespaces' adapters
    CHECK(value_of(text, "app_sockets{namespace=\"/chat\"}") == 0);
    CHECK(value_of(text, "app_sockets{namespace=\"/_0\"}") == 0);
    CHECK(text.find("/room-") == std::string::npos);
    CHECK(value_of(text, "app_engine_sessions{transport=\"websocket\"}") == 0);
    CHECK(value_of(text, "process_threads") >= 1);
    CHECK(value_of(text, "process_resident_memory_bytes") > 1e6);
    CHECK(value_of(text, "process_start_time_seconds") > 1.7e9);  // after 2023: read from /proc, not zero
    io.engine().traffic().watch(false);
}

// render() counts each namespace's sockets with Namespace::sockets_count(), which must agree with the sockets()
// snapshot as sockets come and go. Sessions on fake transports (tests/unit/fake_transport.hpp) connect to them.
TEST_CASE("metrics: Namespace::sockets_count() counts the connected sockets, and render() reports it") {
    sio::Options opt;
    opt.serveClient = false;
    sio::Server io(opt);
    sio::Namespace& chat = io.of("/chat");
    CHECK(io.sockets.sockets_count() == 0);
    CHECK(chat.sockets_count() == 0);

    auto send = [](sio::eio::Socket& session, sio::test::FakeTransport& t, std::string data) {
        sio::eio::Packet p;
        p.type = sio::eio::PacketType::Message;
        p.data = std::move(data);
        session.handle_packet(t, p);
    };
    auto a = std::make_shared<sio::test::FakeTransport>("websocket");
    auto b = std::make_shared<sio::test::FakeTransport>("websocket");
    auto session_a = io.engine().open_session("a", httplib::Request{}, a);
    auto session_b = io.engine().open_session("b", httplib::Request{}, b);
    send(*session_a, *a, "0");
    send(*session_a, *a, "0/chat,");
    send(*session_b, *b, "0/chat,");
    REQUIRE(a->wait_sent(3));  // the open packet and two CONNECT answers
    REQUIRE(b->wait_sent(2));
    CHECK(io.sockets.sockets_count() == 1);
    CHECK(chat.sockets_count() == 2);
    CHECK(chat.sockets_count() == chat.sockets().size());
    CHECK(value_of(sio::metrics::render(io), "sioserver_sockets{namespace=\"/chat\"}") == 2);

    send(*session_b, *b, "1/chat,");  // b leaves /chat
    CHECK(sio::test::wait_until([&] { return chat.sockets_count() == 1; }));
    CHECK(chat.sockets_count() == chat.sockets().size());
    CHECK(io.sockets.sockets_count() == 1);
}

TEST_CASE("metrics: serve() answers on an address of its own while its Endpoint lives, and only then") {
    sio::Options opt;
    opt.serveClient = false;
    sio::Server io(opt);
    int port = 0;
    {
        auto endpoint = sio::metrics::serve(io, "127.0.0.1", 0);
        port = endpoint->port();
        REQUIRE(port > 0);
        CHECK(io.engine().traffic().counting());  // the core counts while an endpoint is there
        httplib::Client client("127.0.0.1", port);
        auto res = client.Get("/metrics");
        REQUIRE(res);
        CHECK(res->status == 200);
        CHECK(res->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
        CHECK(value_of(res->body, "sioserver_engine_handshakes_total") == 0);
        CHECK(client.Get("/elsewhere")->status == 404);
    }
    CHECK_FALSE(io.engine().traffic().counting());
    httplib::Client gone("127.0.0.1", port);
    gone.set_connection_timeout(1, 0);
    CHECK_FALSE(gone.Get("/metrics"));  // stopped with its Endpoint
}
