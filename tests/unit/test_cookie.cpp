// The `cookie` option (npm engine.io 6.6's): its defaults, the Set-Cookie value it makes (the strings are the ones
// the reference's own tests expect from it), the options refused at construction, and which answers carry it.
#include "sioserver.hpp"
#include "fake_transport.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <stdexcept>
#include <string>

using sio::CookieOptions;
using sio::eio::session_cookie;
using sio::eio::polling::body_of;

namespace {

struct NullExchange : sio::eio::HttpExchange {
    bool taken_over = false;
    std::string response;  // the raw 101 of a WebSocket handshake
    bool read_body(size_t, std::string&) override { return false; }
    void take_over(std::string raw, std::function<void(int, const std::string&)>) override {
        taken_over = true;
        response = std::move(raw);
    }
    void close_after_response() override {}
};

httplib::Request request(const std::string& transport, const std::string& sid = {}) {
    httplib::Request req;
    req.method = "GET";
    req.path = "/engine.io/";
    req.params.emplace("EIO", "4");
    req.params.emplace("transport", transport);
    if (!sid.empty()) req.params.emplace("sid", sid);
    return req;
}

sio::EngineOptions with_cookie(std::optional<CookieOptions> cookie) {
    sio::EngineOptions o;
    o.pingInterval = o.pingTimeout = o.upgradeTimeout = 300000;  // nothing fires during the test
    o.cookie = std::move(cookie);
    return o;
}

std::string sid_of(const httplib::Response& res) {
    auto at = body_of(res).find("\"sid\":\"");
    REQUIRE(at != std::string::npos);
    return body_of(res).substr(at + 7, 20);
}

}  // namespace

TEST_CASE("cookie: off by default; on, it defaults to io, Path=/, HttpOnly, SameSite=Lax") {
    CHECK_FALSE(sio::EngineOptions{}.cookie.has_value());
    CHECK_FALSE(sio::Options{}.cookie.has_value());
    CookieOptions c;
    CHECK(c.name == "io");
    CHECK(c.path == "/");
    CHECK(c.httpOnly);
    CHECK(c.sameSite == "lax");
    CHECK(session_cookie(c, "abc") == "io=abc; Path=/; HttpOnly; SameSite=Lax");
}

TEST_CASE("cookie: each attribute as the reference writes it") {
    CookieOptions c;
    c.name = "woot";
    CHECK(session_cookie(c, "S") == "woot=S; Path=/; HttpOnly; SameSite=Lax");
    c = CookieOptions{};
    c.path = "/custom";
    CHECK(session_cookie(c, "S") == "io=S; Path=/custom; HttpOnly; SameSite=Lax");
    c = CookieOptions{};
    c.path = "";  // the reference's path: false (engine.io >= 6.6.8 keeps HttpOnly then)
    CHECK(session_cookie(c, "S") == "io=S; HttpOnly; SameSite=Lax");
    c = CookieOptions{};
    c.sameSite = "Strict";  // any case, as the reference
    CHECK(session_cookie(c, "S") == "io=S; Path=/; HttpOnly; SameSite=Strict");
    c = CookieOptions{};
    c.httpOnly = false;
    CHECK(session_cookie(c, "S") == "io=S; Path=/; SameSite=Lax");
    c = CookieOptions{};
    c.sameSite = "";
    CHECK(session_cookie(c, "S") == "io=S; Path=/; HttpOnly");
    // npm cookie's order: Max-Age, Domain, Path, HttpOnly, Secure, SameSite
    c = CookieOptions{};
    c.maxAge = 3600;
    c.domain = "example.com";
    c.secure = true;
    c.sameSite = "none";
    CHECK(session_cookie(c, "S") == "io=S; Max-Age=3600; Domain=example.com; Path=/; HttpOnly; Secure; SameSite=None");
}

TEST_CASE("cookie: options that would make a broken header stop the server at construction") {
    auto refused = [](CookieOptions c) {
        CHECK_THROWS_AS(sio::eio::Engine(with_cookie(std::move(c))), std::invalid_argument);
    };
    CookieOptions c;
    c.name = "";
    refused(c);
    c.name = "a b";
    refused(c);
    c.name = "a;b";
    refused(c);
    c = CookieOptions{};
    c.path = "/x; Domain=evil";
    refused(c);
    c = CookieOptions{};
    c.domain = "a\r\nX-Injected: 1";
    refused(c);
    c = CookieOptions{};
    c.sameSite = "sometimes";
    refused(c);
    CHECK_NOTHROW(sio::eio::Engine(with_cookie(CookieOptions{})));
}

TEST_CASE("cookie: the polling handshake's answer sets it to the new sid; later requests and errors do not") {
    sio::eio::Engine engine(with_cookie(CookieOptions{}));
    NullExchange http;
    httplib::Response res;
    engine.handle(request("polling"), res, http);
    REQUIRE(res.status == -1);  // not an error: httplib's default 200 follows
    const std::string sid = sid_of(res);
    CHECK(res.get_header_value_count("Set-Cookie") == 1);
    CHECK(res.get_header_value("Set-Cookie") == "io=" + sid + "; Path=/; HttpOnly; SameSite=Lax");

    // the session's next GET (a message waits for it, so that it returns at once)
    engine.find(sid)->send("hello");
    httplib::Response next;
    engine.handle(request("polling", sid), next, http);
    CHECK(body_of(next) == "4hello");
    CHECK_FALSE(next.has_header("Set-Cookie"));

    httplib::Response refused;
    httplib::Request bad = request("polling");
    bad.params.erase("EIO");
    bad.params.emplace("EIO", "3");
    engine.handle(bad, refused, http);
    CHECK(refused.status == 400);
    CHECK_FALSE(refused.has_header("Set-Cookie"));
    engine.shutdown();
}

TEST_CASE("cookie: off, the handshake sets none") {
    sio::eio::Engine engine(with_cookie(std::nullopt));
    NullExchange http;
    httplib::Response res;
    engine.handle(request("polling"), res, http);
    sid_of(res);
    CHECK_FALSE(res.has_header("Set-Cookie"));
    engine.shutdown();
}

TEST_CASE("cookie: a WebSocket opened directly gets none in its 101, as with the reference") {
    sio::eio::Engine engine(with_cookie(CookieOptions{}));
    NullExchange http;
    httplib::Response res;
    httplib::Request req = request("websocket");
    sio::test::add_websocket_headers(req);
    engine.handle(req, res, http);
    REQUIRE(http.taken_over);
    CHECK(http.response.find("101 Switching Protocols") != std::string::npos);
    CHECK(http.response.find("Set-Cookie") == std::string::npos);
    CHECK_FALSE(res.has_header("Set-Cookie"));
    engine.shutdown();
}
