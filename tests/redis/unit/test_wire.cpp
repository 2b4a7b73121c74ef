// sio::redis::wire without Node: JavaScript's text forms, msgpack edge cases, bad input, the message shapes' round
// trips and channel names. (test_node_bytes.cpp checks the same codecs against the bytes of the real npm packages.)
#include "sioserver_redis.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "node_runner.hpp"

using sio::Array;
using sio::Binary;
using sio::Object;
using sio::Value;
namespace wire = sio::redis::wire;
using redis_test::from_hex;
using redis_test::to_hex;

TEST_CASE("js_number writes numbers as JavaScript's Number#toString") {
    CHECK(wire::js_number(0) == "0");
    CHECK(wire::js_number(-0.0) == "0");
    CHECK(wire::js_number(42) == "42");
    CHECK(wire::js_number(-7) == "-7");
    CHECK(wire::js_number(1.5) == "1.5");
    CHECK(wire::js_number(0.1) == "0.1");
    CHECK(wire::js_number(1.0 / 3) == "0.3333333333333333");
    CHECK(wire::js_number(1e21) == "1e+21");
    CHECK(wire::js_number(123456789012345680000.0) == "123456789012345680000");
    CHECK(wire::js_number(1e-7) == "1e-7");
    CHECK(wire::js_number(0.000001) == "0.000001");
    CHECK(wire::js_number(1.5e-10) == "1.5e-10");
    CHECK(wire::js_number(5e-324) == "5e-324");
    CHECK(wire::js_number(1.7976931348623157e308) == "1.7976931348623157e+308");
    CHECK(wire::js_number(std::nan("")) == "NaN");
    CHECK(wire::js_number(-INFINITY) == "-Infinity");
}

TEST_CASE("js_string reads non-string keys and rooms as String(x)") {
    CHECK(wire::js_string(Value(12)) == "12");
    CHECK(wire::js_string(Value()) == "null");
    CHECK(wire::js_string(Value(true)) == "true");
    CHECK(wire::js_string(Value{Value("x"), Value(), Value(1)}) == "x,,1");
    CHECK(wire::js_string(Value(Object{})) == "[object Object]");
}

TEST_CASE("to_json writes as JSON.stringify: escapes, Buffers, non-finite numbers, integer keys first") {
    CHECK(wire::to_json(Value("a\"b\\c\n\x01")) == R"("a\"b\\c\n\u0001")");
    CHECK(wire::to_json(Value(Binary{"\x01\xff"})) == R"({"type":"Buffer","data":[1,255]})");
    CHECK(wire::to_json(Value{Value(NAN), Value(INFINITY), Value(2.5)}) == "[null,null,2.5]");
    CHECK(wire::to_json(Value(Object{{"b", 1}, {"10", 2}, {"9", 3}, {"a", 4}})) == R"({"9":3,"10":2,"a":4,"b":1})");
}

TEST_CASE("parse_json accepts one JSON text and nothing after it") {
    Value v;
    CHECK(wire::parse_json(" {\"a\":[1,\"x\"]} \n", v));
    CHECK(v["a"][1].as_string() == "x");
    CHECK_FALSE(wire::parse_json("{\"a\":1} x", v));
    CHECK_FALSE(wire::parse_json("{\"a\":", v));
    CHECK_FALSE(wire::parse_json("[1e999]", v));
}

TEST_CASE("parse_json bounds nesting, objects included (a request of 5000 nested objects is refused)") {
    Value v;
    std::string deep;
    for (int i = 0; i < 5000; ++i) deep += "{\"a\":";
    deep += "1" + std::string(5000, '}');
    CHECK_FALSE(wire::parse_json(deep, v));
    wire::Request r;
    CHECK_FALSE(wire::decode_request("{\"type\":6,\"data\":[" + deep + "]}", r));
    CHECK(wire::parse_json(std::string(50, '[') + std::string(50, ']'), v));
}

TEST_CASE("pack: numbers as notepack writes them") {
    CHECK(to_hex(wire::pack(Value(0))) == "00");
    CHECK(to_hex(wire::pack(Value(-0.0))) == "00");
    CHECK(to_hex(wire::pack(Value(127))) == "7f");
    CHECK(to_hex(wire::pack(Value(128))) == "cc80");
    CHECK(to_hex(wire::pack(Value(-33))) == "d0df");
    CHECK(to_hex(wire::pack(Value(1.5))) == "cb3ff8000000000000");
    CHECK(to_hex(wire::pack(Value(18446744073709551616.0))) == "cb43f0000000000000");  // 2^64: float64
    CHECK(to_hex(wire::pack(Value(INFINITY))) == "cb7ff0000000000000");
    CHECK(to_hex(wire::pack(Value(-9223372036854775808.0))) == "d38000000000000000");
}

TEST_CASE("unpack refuses trailing bytes, truncation, reserved bytes and absurd headers") {
    Value v;
    CHECK(wire::unpack(from_hex("93010203"), v));
    CHECK_FALSE(wire::unpack(from_hex("9301020304"), v));  // a trailing byte
    CHECK_FALSE(wire::unpack(from_hex("930102"), v));      // one element short
    CHECK_FALSE(wire::unpack(from_hex("c1"), v));          // never used
    CHECK_FALSE(wire::unpack("", v));
    CHECK_FALSE(wire::unpack(from_hex("ddffffffff"), v));    // claims 4G elements, has none
    CHECK_FALSE(wire::unpack(from_hex("dfffffffff"), v));    // a map claiming 4G pairs
    CHECK_FALSE(wire::unpack(from_hex("dbffffffff61"), v));  // a str32 claiming 4 GB
    CHECK_FALSE(wire::unpack(from_hex("a5616263"), v));      // a short string
}

TEST_CASE("unpack bounds nesting") {
    Value v;
    CHECK(wire::unpack(std::string(100, '\x91') + '\x01', v));
    CHECK_FALSE(wire::unpack(std::string(101, '\x91') + '\x01', v));
    CHECK_FALSE(wire::unpack(std::string(100000, '\x91') + '\x01', v));
}

TEST_CASE("unpack: maps take String(key) keys, the last of equal keys wins") {
    Value v;
    REQUIRE(wire::unpack(from_hex("83a16101a16102"
                                  "0203"),
                         v));
    CHECK(v.size() == 2);
    CHECK(v["a"].as_int() == 2);
    CHECK(v["2"].as_int() == 3);
}

TEST_CASE("decode_payload: JSON when the first byte is '{', msgpack otherwise") {
    Value v;
    CHECK(wire::decode_payload("{\"type\":1}", v));
    CHECK(v["type"].as_int() == 1);
    CHECK(wire::decode_payload(from_hex("81a47479706501"), v));
    CHECK(v["type"].as_int() == 1);
    CHECK_FALSE(wire::decode_payload("{not json", v));
}

TEST_CASE("Channels: Node's names for a namespace") {
    wire::Channels ch("socket.io", "/admin", "Ab3xYz");
    CHECK(ch.base == "socket.io#/admin#");
    CHECK(ch.pattern() == "socket.io#/admin#*");
    CHECK(ch.room("r1") == "socket.io#/admin#r1#");
    CHECK(ch.request == "socket.io-request#/admin#");
    CHECK(ch.response == "socket.io-response#/admin#");
    CHECK(ch.own_response == "socket.io-response#/admin#Ab3xYz#");
}

TEST_CASE("encode_broadcast: the notes' example bytes") {
    wire::Broadcast b;
    b.uid = "Ab3xYz";
    b.data = Value{Value("hello"), Value(1), Value(1.5), Value(), Value(Binary{"\x01\x02"})};
    b.rooms = {"room1"};
    CHECK(to_hex(wire::encode_broadcast(b)) ==
          "93a6" + to_hex("Ab3xYz") + "83a4" + to_hex("type") + "02a4" + to_hex("data") + "95a5" + to_hex("hello") +
              "01cb3ff8000000000000c0c4020102a3" + to_hex("nsp") + "a12f83a5" + to_hex("rooms") + "91a5" +
              to_hex("room1") + "a6" + to_hex("except") + "90a5" + to_hex("flags") + "80");
    CHECK(b.channel(wire::Channels("socket.io", "/", "x")) == "socket.io#/#room1#");
    b.rooms = {"a", "b"};
    CHECK(b.channel(wire::Channels("socket.io", "/", "x")) == "socket.io#/#");
}

TEST_CASE("decode_broadcast: round trip, defaults, and what is refused") {
    wire::Broadcast b;
    b.uid = "Ab3xYz";
    b.nsp = "/chat";
    b.data = Value{Value("ev"), Value(Object{{"x", Value(Binary{"\x00\x01"})}})};
    b.rooms = {"r1", "r2"};
    b.except = {"sid"};
    b.flags.volatile_ = true;
    b.flags.compress = false;
    wire::Broadcast back;
    REQUIRE(wire::decode_broadcast(wire::encode_broadcast(b), back));
    CHECK(back.uid == b.uid);
    CHECK(back.nsp == "/chat");
    CHECK(back.data == b.data);
    CHECK(back.rooms == b.rooms);
    CHECK(back.except == b.except);
    CHECK(back.flags.volatile_);
    CHECK_FALSE(back.flags.compress);

    // no nsp reads as "/", numeric rooms as their text, missing rooms as none
    Value msg{Value("u"), Value(Object{{"type", 2}, {"data", Value(Array{Value("e")})}}),
              Value(Object{{"rooms", Value{Value(42), Value("x")}}})};
    REQUIRE(wire::decode_broadcast(wire::pack(msg), back));
    CHECK(back.nsp == "/");
    CHECK(back.rooms == std::vector<std::string>{"42", "x"});
    CHECK(back.except.empty());

    auto refused = [](const Value& m) {
        wire::Broadcast out;
        return !wire::decode_broadcast(wire::pack(m), out);
    };
    const Value packet = Object{{"type", 2}, {"data", Value(Array{Value("e")})}, {"nsp", "/"}};
    CHECK(refused(Value("just a string")));
    CHECK(refused(Value{Value("u"), packet}));                     // no opts
    CHECK(refused(Value{Value("u"), Value(5), Value(Object{})}));  // packet not an object
    CHECK(refused(Value{Value("u"), Value(Object{{"type", 0}, {"data", Value(Array{Value("e")})}}), Value(Object{})}));
    CHECK(refused(Value{Value("u"), Value(Object{{"type", 2}, {"data", "e"}}), Value(Object{})}));
    CHECK(refused(Value{Value("u"), Value(Object{{"type", 2}, {"data", Value(Array{})}}), Value(Object{})}));
    CHECK(refused(
        Value{Value("u"), Value(Object{{"type", 2}, {"data", Value(Array{Value("connect")})}}), Value(Object{})}));
    CHECK(refused(Value{Value("u"), Value(Object{{"type", 2}, {"data", Value(Array{Value(true)})}}), Value(Object{})}));
    CHECK(refused(Value{Value("u"), packet, Value(Object{{"rooms", "r1"}})}));  // rooms not an array
    CHECK(refused(Value{Value("u"), packet, Value(Object{{"rooms", Value(Array{Value(Object{})})}})}));
    wire::Broadcast out;
    CHECK_FALSE(wire::decode_broadcast(wire::pack(Value{Value("u"), packet, Value(Object{})}) + "x", out));
}

TEST_CASE("requests: every type round-trips; malformed ones are refused") {
    wire::Request r;
    r.uid = "Ab3xYz";
    r.type = wire::REMOTE_FETCH;
    r.has_request_id = true;
    r.requestId = "Qw12er";
    r.opts_rooms = {"r1"};
    CHECK(wire::encode_request(r) ==
          R"({"uid":"Ab3xYz","requestId":"Qw12er","type":5,"opts":{"rooms":["r1"],"except":[]}})");

    for (int type : {0, 1, 2, 3, 4, 5, 6, 7}) {
        wire::Request q;
        q.type = type;
        q.uid = "Ab3xYz";
        q.has_request_id = type != 2 && type != 3 && type != 4;
        q.requestId = q.has_request_id ? "Qw12er" : "";
        q.opts_rooms = {"a"};
        q.opts_except = {"b"};
        q.rooms = {"c"};
        q.close = true;
        q.data = Value{Value("ev"), Value(1)};
        q.flags.timeout = 1000;
        wire::Request back;
        CAPTURE(type);
        REQUIRE(wire::decode_request(wire::encode_request(q), back));
        CHECK(back.type == type);
        CHECK(back.uid == "Ab3xYz");
        CHECK(back.has_request_id == q.has_request_id);
        CHECK(back.requestId == q.requestId);
        if (type >= 2 && type <= 5) {
            CHECK(back.opts_rooms == q.opts_rooms);
            CHECK(back.opts_except == q.opts_except);
        }
        if (type == 0 || type == 2 || type == 3) CHECK(back.rooms == q.rooms);
        if (type == 4) CHECK(back.close);
        if (type == 6 || type == 7) CHECK(back.data == q.data);
        if (type == 7) CHECK(back.flags.timeout == 1000);
    }
    wire::Request out;
    CHECK_FALSE(wire::decode_request("{\"type\":5}", out));                 // fetch without opts
    CHECK_FALSE(wire::decode_request("{\"type\":6,\"data\":\"x\"}", out));  // data not an array
    CHECK_FALSE(wire::decode_request("{\"type\":2,\"opts\":7}", out));
    CHECK_FALSE(wire::decode_request("{\"type\":\"2\"}", out));
    CHECK_FALSE(wire::decode_request("[1,2]", out));
    CHECK_FALSE(wire::decode_request(from_hex("81a47479706507"), out));  // 7 without its fields
    CHECK(wire::decode_request("{\"type\":42}", out));                   // unknown: decoded, ignored
    CHECK(wire::decode_request(R"({"uid":"u","requestId":"q","type":2,"sid":"s1","room":"r"})", out));
    CHECK(out.sid == "s1");
    CHECK(out.room == "r");
    CHECK_FALSE(out.has_opts);
}

TEST_CASE("responses: encoders and decoder agree") {
    wire::Response r;
    wire::SocketEntry e{"sid1", Value(Object{{"address", "::1"}}), {"sid1", "room"}, Value(Object{{"n", 1}})};
    REQUIRE(wire::decode_response(wire::encode_fetch_response("Q1", {e}), r));
    CHECK(r.requestId == "Q1");
    REQUIRE(r.sockets.size() == 1);
    CHECK(r.sockets[0].id == "sid1");
    CHECK(r.sockets[0].handshake["address"].as_string() == "::1");
    CHECK(r.sockets[0].rooms == e.rooms);
    CHECK(r.sockets[0].data == e.data);
    REQUIRE(wire::decode_response(wire::encode_list_response("Q2", "rooms", {"a", "b"}), r));
    CHECK(r.has_rooms);
    CHECK(r.rooms == std::vector<std::string>{"a", "b"});
    REQUIRE(wire::decode_response(wire::encode_client_count_response("Q3", 4), r));
    CHECK(r.type == 8);
    CHECK(r.clientCount == 4);
    REQUIRE(wire::decode_response(wire::encode_broadcast_ack_response("Q4", Value(Binary{"\x05"})), r));
    CHECK(r.type == 9);
    CHECK(r.packet == Value(Binary{"\x05"}));
    REQUIRE(wire::decode_response(wire::encode_server_side_emit_response("Q5", Value("ok")), r));
    CHECK(r.type == 6);
    CHECK(r.data.as_string() == "ok");
    CHECK_FALSE(wire::decode_response("{\"type\":8}", r));  // no requestId
    CHECK_FALSE(wire::decode_response("\x93\x01", r));
}

TEST_CASE("random_uid: six alphanumerics, different each time") {
    const std::string a = wire::random_uid(), b = wire::random_uid();
    CHECK(a.size() == 6);
    CHECK(a != b);
    for (char c : a) CHECK(std::isalnum(static_cast<unsigned char>(c)));
}
