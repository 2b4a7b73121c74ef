// Unit tests of the load generator's wire pieces (bench/loadgen_protocol.hpp). Quick and deterministic: no I/O.
//   g++ -std=c++17 -O2 -Ibench bench/test_loadgen_protocol.cpp -o build/bench_unit_tests
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "loadgen_protocol.hpp"

using namespace lg;

static std::string hex(std::string_view s) {
    static const char* d = "0123456789abcdef";
    std::string out;
    for (char c : s) {
        out += d[uint8_t(c) >> 4];
        out += d[uint8_t(c) & 15];
    }
    return out;
}

TEST_CASE("base64 encodes the RFC 4648 test vectors") {
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("f") == "Zg==");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_encode("foo") == "Zm9v");
    CHECK(base64_encode("foob") == "Zm9vYg==");
    CHECK(base64_encode("fooba") == "Zm9vYmE=");
    CHECK(base64_encode("foobar") == "Zm9vYmFy");
    CHECK(base64_encode(std::string("\xff\xfe\x00", 3)) == "//4A");
}

TEST_CASE("sha1 matches FIPS 180 examples") {
    CHECK(hex(sha1("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
    CHECK(hex(sha1("")) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    CHECK(hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
          "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    CHECK(hex(sha1(std::string(1000, 'a'))) == "291e9a6c66994949b57ba5e650361e98fc36b1ba");
}

TEST_CASE("Sec-WebSocket-Accept is the RFC 6455 example") {
    CHECK(ws_accept_for("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("client frames are masked and carry the right length encoding") {
    const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    std::string out;
    ws_append_client_frame(out, kWsText, "Hello", mask);
    // RFC 6455 §5.7: a masked "Hello"
    CHECK(hex(out) == "818537fa213d7f9f4d5158");

    out.clear();
    ws_append_client_frame(out, kWsText, std::string(126, 'a'), mask);
    REQUIRE(out.size() == 2 + 2 + 4 + 126);
    CHECK(uint8_t(out[1]) == (0x80 | 126));
    CHECK(uint8_t(out[2]) == 0);
    CHECK(uint8_t(out[3]) == 126);

    out.clear();
    ws_append_client_frame(out, kWsBinary, std::string(70000, 'b'), mask);
    REQUIRE(out.size() == 2 + 8 + 4 + 70000);
    CHECK(uint8_t(out[1]) == (0x80 | 127));
    CHECK(uint8_t(out[7]) == 0x01);
    CHECK(uint8_t(out[8]) == 0x11);
    CHECK(uint8_t(out[9]) == 0x70);  // 70000 = 0x011170
}

TEST_CASE("a masked client frame parses back to its payload") {
    const uint8_t mask[4] = {1, 2, 3, 4};
    for (size_t n : {size_t(0), size_t(5), size_t(125), size_t(126), size_t(65535), size_t(65536)}) {
        std::string payload(n, 'q');
        for (size_t i = 0; i < n; ++i) payload[i] = char('a' + i % 26);
        std::string wire;
        ws_append_client_frame(wire, kWsText, payload, mask);
        WsFrame f;
        size_t used = 0;
        REQUIRE(ws_parse_frame(wire.data(), wire.size(), f, used) == Parse::Ok);
        CHECK(used == wire.size());
        CHECK(f.fin);
        CHECK(f.opcode == kWsText);
        CHECK(f.payload == payload);
    }
}

TEST_CASE("server frames parse incrementally, several per buffer") {
    std::string wire;
    wire +=
        "\x81\x02"
        "42";                                    // text "42"
    wire += std::string("\x89\x00", 2);          // ping, empty
    wire += std::string("\x82\x7e\x00\x80", 4);  // binary, 128 bytes (16-bit length)
    wire += std::string(128, 'z');
    wire +=
        "\x01\x03"
        "abc";  // text without FIN: a first fragment
    wire +=
        "\x80\x01"
        "d";  // continuation with FIN

    size_t pos = 0;
    WsFrame f;
    size_t used = 0;
    REQUIRE(ws_parse_frame(&wire[pos], wire.size() - pos, f, used) == Parse::Ok);
    CHECK(f.payload == "42");
    pos += used;
    REQUIRE(ws_parse_frame(&wire[pos], wire.size() - pos, f, used) == Parse::Ok);
    CHECK(f.opcode == kWsPing);
    CHECK(f.payload.empty());
    pos += used;
    // every strict prefix of the binary frame needs more
    for (size_t cut = 0; cut < 4 + 128; ++cut) CHECK(ws_parse_frame(&wire[pos], cut, f, used) == Parse::NeedMore);
    REQUIRE(ws_parse_frame(&wire[pos], wire.size() - pos, f, used) == Parse::Ok);
    CHECK(f.opcode == kWsBinary);
    CHECK(f.payload.size() == 128);
    pos += used;
    REQUIRE(ws_parse_frame(&wire[pos], wire.size() - pos, f, used) == Parse::Ok);
    CHECK_FALSE(f.fin);
    CHECK(f.payload == "abc");
    pos += used;
    REQUIRE(ws_parse_frame(&wire[pos], wire.size() - pos, f, used) == Parse::Ok);
    CHECK(f.fin);
    CHECK(f.opcode == kWsCont);
    CHECK(f.payload == "d");
    pos += used;
    CHECK(pos == wire.size());
}

TEST_CASE("broken frames are errors") {
    std::string rsv("\xc1\x00", 2);  // RSV1 without a negotiated extension
    WsFrame f;
    size_t used;
    CHECK(ws_parse_frame(rsv.data(), rsv.size(), f, used) == Parse::Error);
    std::string opcode("\x83\x00", 2);
    CHECK(ws_parse_frame(opcode.data(), opcode.size(), f, used) == Parse::Error);
    std::string long_ping("\x89\x7e\x00\x80", 4);
    CHECK(ws_parse_frame(long_ping.data(), long_ping.size(), f, used) == Parse::Error);
    std::string huge = "\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff";
    CHECK(ws_parse_frame(huge.data(), huge.size(), f, used) == Parse::Error);
}

TEST_CASE("the upgrade request and polling requests") {
    auto r = ws_upgrade_request("127.0.0.1:3000", "/socket.io/?EIO=4&transport=websocket", "AAAAAAAAAAAAAAAAAAAAAA==");
    CHECK(r.rfind("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n", 0) == 0);
    CHECK(r.find("\r\nUpgrade: websocket\r\n") != std::string::npos);
    CHECK(r.find("\r\nSec-WebSocket-Version: 13\r\n") != std::string::npos);
    CHECK(r.find("\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n") != std::string::npos);
    CHECK(r.substr(r.size() - 4) == "\r\n\r\n");

    auto post = http_request("POST", "h:1", "/socket.io/?EIO=4&transport=polling&sid=x", "40");
    CHECK(post.find("Content-Length: 2\r\n") != std::string::npos);
    CHECK(post.substr(post.size() - 6) == "\r\n\r\n40");
    auto get = http_request("GET", "h:1", "/p");
    CHECK(get.find("Content-Length") == std::string::npos);
    CHECK(get.substr(get.size() - 4) == "\r\n\r\n");
}

TEST_CASE("HTTP responses: 101, Content-Length, chunked, pipelined, incomplete") {
    HttpResponse r;
    size_t used = 0;
    std::string up =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x01"
        "2";
    REQUIRE(http_parse_response(up, r, used) == Parse::Ok);
    CHECK(r.status == 101);
    CHECK(r.accept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK(up.substr(used) ==
          "\x81\x01"
          "2");  // the first frame that came with the head is left over

    std::string two =
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
        "Connection: close\r\n\r\n6\x1e"
        "2";
    REQUIRE(http_parse_response(two, r, used) == Parse::Ok);
    CHECK(r.status == 200);
    CHECK(r.body == "ok");
    CHECK(r.keep_alive);
    std::string_view rest = std::string_view(two).substr(used);
    REQUIRE(http_parse_response(rest, r, used) == Parse::Ok);
    CHECK(r.body ==
          "6\x1e"
          "2");
    CHECK_FALSE(r.keep_alive);
    CHECK(used == rest.size());

    std::string chunked =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n42[\r\na;ext=1\r\n\"x\",1]....\r\n0\r\n\r\n";
    REQUIRE(http_parse_response(chunked, r, used) == Parse::Ok);
    CHECK(r.body == "42[\"x\",1]....");
    CHECK(used == chunked.size());
    for (size_t cut = 0; cut < chunked.size(); ++cut)
        CHECK(http_parse_response(std::string_view(chunked).substr(0, cut), r, used) == Parse::NeedMore);

    std::string partial = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    CHECK(http_parse_response(partial, r, used) == Parse::NeedMore);
    CHECK(http_parse_response("HTTP/1.1 200 OK\r\n\r\n", r, used) == Parse::Error);  // no length: refused
    CHECK(http_parse_response("SMTP 220 hi\r\n\r\n", r, used) == Parse::Error);
}

TEST_CASE("Engine.IO polling payloads split on the record separator and join back") {
    std::vector<std::string_view> parts;
    eio_split_payload(
        "2\x1e"
        "42[\"a\"]\x1e"
        "6",
        parts);
    REQUIRE(parts.size() == 3);
    CHECK(parts[0] == "2");
    CHECK(parts[1] == "42[\"a\"]");
    CHECK(parts[2] == "6");
    eio_split_payload("40", parts);
    REQUIRE(parts.size() == 1);
    CHECK(parts[0] == "40");
    CHECK(eio_join_payload({"3", "42[\"x\"]"}) ==
          "3\x1e"
          "42[\"x\"]");
    CHECK(eio_join_payload({"40"}) == "40");
}

TEST_CASE("JSON fields of the open packet and of the benchmark payload") {
    std::string open =
        R"({"sid":"Zc1f0yCrM6u3xxcYxFnT","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000})";
    CHECK(json_string_field(open, "sid") == "Zc1f0yCrM6u3xxcYxFnT");
    CHECK(json_string_field(open, "nope").empty());
    int64_t v = 0;
    REQUIRE(json_number_field(open, "pingInterval", v));
    CHECK(v == 25000);
    REQUIRE(json_number_field(R"({"t":1234567890123,"seq":7})", "t", v));
    CHECK(v == 1234567890123);
    REQUIRE(json_number_field(R"({"t":1.5e+12,"seq":7})", "t", v));
    CHECK(v == 1500000000000);
    REQUIRE(json_number_field(R"({"t":-3})", "t", v));
    CHECK(v == -3);
    CHECK_FALSE(json_number_field(R"({"t":"x"})", "t", v));
    CHECK_FALSE(json_number_field(R"({"u":1})", "t", v));
}

TEST_CASE("Socket.IO packets: CONNECT answer, EVENT, ACK, namespace, binary") {
    SioPacket p;
    REQUIRE(sio_parse(R"(0{"sid":"abc"})", p));
    CHECK(p.type == 0);
    CHECK(p.nsp == "/");
    CHECK(p.ack_id == -1);
    CHECK(json_string_field(p.data, "sid") == "abc");

    REQUIRE(sio_parse(R"(2["chat message",{"t":5,"seq":1}])", p));
    CHECK(p.type == 2);
    std::string_view name, rest;
    REQUIRE(sio_event_name(p.data, name, rest));
    CHECK(name == "chat message");
    CHECK(rest == R"({"t":5,"seq":1})");

    REQUIRE(sio_parse(R"(3312[{"t":9,"seq":3}])", p));
    CHECK(p.type == 3);
    CHECK(p.ack_id == 312);
    CHECK(p.data == R"([{"t":9,"seq":3}])");

    REQUIRE(sio_parse(R"(2/chat,7["x"])", p));
    CHECK(p.nsp == "/chat");
    CHECK(p.ack_id == 7);
    REQUIRE(sio_event_name(p.data, name, rest));
    CHECK(name == "x");
    CHECK(rest.empty());

    REQUIRE(sio_parse(R"(51-["b",{"_placeholder":true,"num":0}])", p));
    CHECK(p.type == 5);
    CHECK_FALSE(sio_parse("", p));
    CHECK_FALSE(sio_parse("9", p));
    CHECK_FALSE(sio_parse("5-[]", p));
    CHECK_FALSE(sio_parse("2oops", p));
}

TEST_CASE("an EVENT with connection state recovery's offset as its last argument") {
    // what both servers send with recovery on: the relayed payload, then the offset (sioserver's base-64 counter, or
    // Node's yeast id)
    for (std::string_view offset : {"Bq3x9Z", "1kXyZ0a-_3"}) {
        std::string wire = std::string(R"(42["chat message",{"t":1,"seq":2},")") + std::string(offset) + "\"]";
        SioPacket p;
        REQUIRE(sio_parse(std::string_view(wire).substr(1), p));
        CHECK(p.type == 2);
        CHECK(p.ack_id == -1);
        std::string_view name, rest, first, after;
        REQUIRE(sio_event_name(p.data, name, rest));
        CHECK(name == "chat message");
        REQUIRE(json_first_value(rest, first, after));
        CHECK(first == R"({"t":1,"seq":2})");
        CHECK(after == "\"" + std::string(offset) + "\"");
        int64_t t = 0, seq = 0;
        REQUIRE(json_number_field(first, "t", t));
        REQUIRE(json_number_field(first, "seq", seq));
        CHECK(t == 1);
        CHECK(seq == 2);
    }
    // without recovery nothing follows the payload
    std::string_view first, after;
    REQUIRE(json_first_value(R"({"t":5,"seq":1})", first, after));
    CHECK(first == R"({"t":5,"seq":1})");
    CHECK(after.empty());
    // commas, brackets and escaped quotes inside strings or nested values do not end the first argument
    REQUIRE(json_first_value(R"({"p":"a,}\"]b","q":[1,{"r":2}],"t":3,"seq":4}, "x")", first, after));
    CHECK(first == R"({"p":"a,}\"]b","q":[1,{"r":2}],"t":3,"seq":4})");
    CHECK(after == "\"x\"");
    int64_t t = 0;
    REQUIRE(json_number_field(first, "t", t));
    CHECK(t == 3);
    REQUIRE(json_first_value(R"("s,t", 7)", first, after));
    CHECK(first == R"("s,t")");
    CHECK(after == "7");
    REQUIRE(json_first_value("12,\"o\"", first, after));
    CHECK(first == "12");
    CHECK(after == "\"o\"");
    // broken first arguments
    CHECK_FALSE(json_first_value(R"({"t":1)", first, after));
    CHECK_FALSE(json_first_value(R"({"t":"1})", first, after));
    CHECK_FALSE(json_first_value(R"(}{)", first, after));
    CHECK_FALSE(json_first_value("", first, after));
    CHECK_FALSE(json_first_value(",\"o\"", first, after));
}

TEST_CASE("the benchmark messages are what the servers expect") {
    std::string out;
    sio_append_chat(out, 123, 4);
    CHECK(out == R"(42["chat message",{"t":123,"seq":4}])");
    out.clear();
    sio_append_chat(out, 1, 2, 3);
    CHECK(out == R"(42["chat message",{"t":1,"seq":2,"p":"xxx"}])");
    out.clear();
    sio_append_echo(out, 17, 99, 5);
    CHECK(out == R"(4217["echo",{"t":99,"seq":5}])");
    // and a server's relay of it parses back
    SioPacket p;
    REQUIRE(sio_parse(std::string_view(out).substr(1), p));
    CHECK(p.ack_id == 17);
    std::string_view name, rest;
    REQUIRE(sio_event_name(p.data, name, rest));
    CHECK(name == "echo");
    int64_t t = 0, seq = 0;
    REQUIRE(json_number_field(rest, "t", t));
    REQUIRE(json_number_field(rest, "seq", seq));
    CHECK(t == 99);
    CHECK(seq == 5);
}
