// Regressions found by the fuzz targets of tests/fuzz/ (their inputs are in tests/fuzz/regressions/<target>/).
// Part of the unit tests (tests/unit/main.cpp has doctest's main).
// Each case failed before its fix in the header.
#include "sioserver.hpp"
#include "fake_transport.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

using sio::eio::polling::body_of;

namespace {

// An HttpExchange that records what the engine asks of the connection.
struct RecordingExchange : sio::eio::HttpExchange {
    std::string body;  // what the client sent after the headers
    bool body_read = false;
    bool taken_over = false;
    bool close_after = false;
    bool read_body(size_t length, std::string& out) override {
        if (length > body.size()) return false;
        out = body.substr(0, length);
        body_read = true;
        return true;
    }
    void take_over(std::string, std::function<void(int, const std::string&)>) override { taken_over = true; }
    void close_after_response() override { close_after = true; }
};

httplib::Request make_request(const std::string& method, const std::string& transport, const std::string& sid = {}) {
    httplib::Request req;
    req.method = method;
    req.path = "/engine.io/";
    req.params.emplace("EIO", "4");
    req.params.emplace("transport", transport);
    if (!sid.empty()) req.params.emplace("sid", sid);
    return req;
}

sio::EngineOptions quiet_options() {
    sio::EngineOptions o;
    o.pingInterval = o.pingTimeout = o.upgradeTimeout = 300000;  // nothing fires during the test
    return o;
}

// A polling handshake; returns the new session's id.
std::string handshake(sio::eio::Engine& engine) {
    RecordingExchange http;
    httplib::Response res;
    engine.handle(make_request("GET", "polling"), res, http);
    auto open = body_of(res).find("\"sid\":\"");
    REQUIRE(open != std::string::npos);
    return body_of(res).substr(open + 7, 20);
}

}  // namespace

// fuzz_engine_request, 'engine-unread-body-keeps-connection'
// (tests/fuzz/regressions/fuzz_engine_request/unread-body-*). Engine::handle answered several requests without
// reading their body and without close_after_response(); layer 6 then kept the connection alive and httplib parsed
// the unread body as the next request (request smuggling: a POST with an unknown sid whose body is
// "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\n\r\n" got two responses, the second a new session).
TEST_CASE("fuzz regression: a request body the engine does not read closes the connection") {
    sio::eio::Engine engine(quiet_options());
    const std::string smuggled = "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n";
    struct Case {
        const char* what;
        httplib::Request req;
    };
    std::vector<Case> cases = {
        {"POST with an unknown sid", make_request("POST", "polling", "nope")},
        {"POST handshake (Bad handshake method)", make_request("POST", "polling")},
        {"OPTIONS preflight with a body", make_request("OPTIONS", "polling")},
        {"POST with an unknown transport", make_request("POST", "flashsocket", "nope")},
    };
    for (auto& c : cases) {
        CAPTURE(c.what);
        c.req.headers.emplace("Content-Type", "text/plain;charset=UTF-8");
        c.req.headers.emplace("Content-Length", std::to_string(smuggled.size()));
        RecordingExchange http;
        http.body = smuggled;
        httplib::Response res;
        engine.handle(c.req, res, http);
        CHECK((http.body_read || http.close_after || http.taken_over));
    }
}

// fuzz_engine_request, 'engine-ws-upgrade-non-get' (tests/fuzz/regressions/fuzz_engine_request/ws-upgrade-non-get).
// The upgrade of an existing session was accepted with any method; RFC 6455 §4.1 (and the reference server, through
// the ws package) requires a GET.
TEST_CASE("fuzz regression: a WebSocket upgrade of a session must be a GET") {
    sio::eio::Engine engine(quiet_options());
    std::string sid = handshake(engine);
    httplib::Request req = make_request("POST", "websocket", sid);
    sio::test::add_websocket_headers(req);
    RecordingExchange http;
    httplib::Response res;
    engine.handle(req, res, http);
    CHECK_FALSE(http.taken_over);
    CHECK(res.status == 400);
}

// fuzz_sio_packet, 'sio-packet-trailing-data' (tests/fuzz/regressions/fuzz_sio_packet/nul-after-json).
// decode skipped the whitespace after the JSON data with std::strchr(" \t\r\n", c), which also matches c == '\0' (the
// terminator), so NUL bytes after the JSON were accepted where JSON.parse in the reference parser refuses them.
TEST_CASE("fuzz regression: packet::decode refuses NUL bytes after the JSON data") {
    sio::packet::Packet p;
    size_t attachments = 0;
    std::string error;
    CHECK_FALSE(sio::packet::decode(std::string("2[0]\0", 5), p, attachments, error));
    CHECK_FALSE(sio::packet::decode(std::string("2[\"a\"] \0\r\n", 10), p, attachments, error));
    CHECK(sio::packet::decode("2[\"a\"] \r\n", p, attachments, error));  // whitespace alone is fine
}

// fuzz_base64, 'base64-nonzero-pad-bits' (tests/fuzz/regressions/fuzz_base64/nonzero-pad-bits-*).
// The "strict" decoder accepted non-zero bits under the padding ("QR==" decoded to "A", whose encoding is "QQ=="),
// so encode(decode(x)) != x. RFC 4648 §3.5 lets a decoder refuse them, and it now does.
TEST_CASE("fuzz regression: base64::decode refuses non-zero pad bits") {
    std::string out;
    CHECK_FALSE(sio::base64::decode("QR==", out));
    CHECK_FALSE(sio::base64::decode("QUJ=", out));
    CHECK(sio::base64::decode("QQ==", out));
    CHECK(out == "A");
}
