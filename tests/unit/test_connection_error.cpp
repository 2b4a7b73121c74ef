// eio::Engine's "connection_error" (the reference's event of that name): every request the engine refuses before a
// session takes it is answered with its code, counted per code, and told to the handler with that code and message.
#include "sioserver.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

using sio::eio::ErrorCode;

namespace {

struct NoExchange : sio::eio::HttpExchange {
    bool read_body(size_t, std::string&) override { return false; }
    void take_over(std::string, std::function<void(int, const std::string&)>) override {}
    void close_after_response() override {}
};

httplib::Request request(const std::string& method, const std::string& eio, const std::string& transport,
                         const std::string& sid = {}) {
    httplib::Request req;
    req.method = method;
    req.path = "/engine.io/";
    req.params.emplace("EIO", eio);
    req.params.emplace("transport", transport);
    if (!sid.empty()) req.params.emplace("sid", sid);
    return req;
}

struct Seen {
    ErrorCode code;
    std::string message, path;
};

}  // namespace

TEST_CASE("connection_error: each refusal is answered, counted per code and told to the handler") {
    sio::EngineOptions o;
    o.pingInterval = o.pingTimeout = o.upgradeTimeout = 300000;
    o.allowRequest = [](const httplib::Request& req, std::string& message) {
        if (req.get_header_value("Origin") != "https://evil.example") return true;
        message = "no thanks";
        return false;
    };
    sio::eio::Engine engine(o);
    std::vector<Seen> seen;
    engine.on_connection_error([&](const sio::eio::ConnectionError& e) {
        seen.push_back({e.code, e.message, e.req.path});
    });
    NoExchange http;
    auto send = [&](httplib::Request req) {
        httplib::Response res;
        engine.handle(req, res, http);
        return res;
    };

    auto r1 = send(request("GET", "4", "carrier-pigeon"));
    CHECK(r1.status == 400);
    auto r2 = send(request("GET", "3", "polling"));
    CHECK(r2.status == 400);
    auto r3 = send(request("GET", "4", "polling", "no-such-sid"));
    CHECK(r3.status == 400);
    auto r4 = send(request("POST", "4", "polling"));
    CHECK(r4.status == 400);
    auto bad_ws = request("GET", "4", "websocket");
    bad_ws.headers.emplace("Upgrade", "websocket");  // no Sec-WebSocket-Key: a bad WebSocket handshake
    bad_ws.headers.emplace("Connection", "Upgrade");
    auto r5 = send(bad_ws);
    CHECK(r5.status == 400);
    auto evil = request("GET", "4", "polling");
    evil.headers.emplace("Origin", "https://evil.example");
    auto r6 = send(evil);
    CHECK(r6.status == 403);
    CHECK(sio::eio::polling::body_of(r6) == "{\"code\":4,\"message\":\"no thanks\"}");
    auto ok = send(request("GET", "4", "polling"));  // a handshake that succeeds is no error
    CHECK(ok.status == -1);

    REQUIRE(seen.size() == 6);
    CHECK(seen[0].code == ErrorCode::UnknownTransport);
    CHECK(seen[0].message == "Transport unknown");
    CHECK(seen[1].code == ErrorCode::UnsupportedProtocolVersion);
    CHECK(seen[1].message == "Unsupported protocol version");
    CHECK(seen[2].code == ErrorCode::UnknownSid);
    CHECK(seen[2].message == "Session ID unknown");
    CHECK(seen[3].code == ErrorCode::BadHandshakeMethod);
    CHECK(seen[4].code == ErrorCode::BadRequest);
    CHECK(seen[5].code == ErrorCode::Forbidden);
    CHECK(seen[5].message == "no thanks");
    CHECK(seen[5].path == "/engine.io/");
    CHECK(engine.connection_errors(ErrorCode::UnknownTransport) == 1);
    CHECK(engine.connection_errors(ErrorCode::UnsupportedProtocolVersion) == 1);
    CHECK(engine.connection_errors(ErrorCode::UnknownSid) == 1);
    CHECK(engine.connection_errors(ErrorCode::BadHandshakeMethod) == 1);
    CHECK(engine.connection_errors(ErrorCode::BadRequest) == 1);
    CHECK(engine.connection_errors(ErrorCode::Forbidden) == 1);
    engine.shutdown();
}

TEST_CASE("connection_error: counted without a handler, and a handler that throws harms nothing") {
    sio::EngineOptions o;
    o.pingInterval = o.pingTimeout = o.upgradeTimeout = 300000;
    sio::eio::Engine engine(o);
    NoExchange http;
    httplib::Response a;
    engine.handle(request("GET", "4", "polling", "gone"), a, http);
    CHECK(a.status == 400);
    CHECK(engine.connection_errors(ErrorCode::UnknownSid) == 1);
    engine.on_connection_error([](const sio::eio::ConnectionError&) { throw std::runtime_error("oops"); });
    httplib::Response b;
    engine.handle(request("GET", "4", "polling", "gone"), b, http);
    CHECK(b.status == 400);
    CHECK(sio::eio::polling::body_of(b) == "{\"code\":1,\"message\":\"Session ID unknown\"}");
    CHECK(engine.connection_errors(ErrorCode::UnknownSid) == 2);
    engine.shutdown();
}
