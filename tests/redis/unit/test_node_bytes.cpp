// The codecs against Node's own bytes, both ways. tests/redis/node_codec.mjs runs notepack.io,
// @socket.io/redis-adapter 8.3 and @socket.io/redis-emitter 5.1 (from node_modules) with fake Redis clients:
//   encode: what they publish (values, broadcasts, requests, answers) -> we decode it and re-encode it to the same
//           bytes
//   decode: what we publish -> what notepack and the real adapter make of it (the calls it makes, what it answers)
#include "sioserver_redis.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <string>

#include "node_runner.hpp"

using sio::Array;
using sio::Binary;
using sio::Object;
using sio::Value;
namespace wire = sio::redis::wire;
using redis_test::from_hex;
using redis_test::to_hex;

namespace {

// The values tests/redis/node_codec.mjs has under the same names.
std::map<std::string, Value> value_table() {
    auto ints = [](int n) {
        Array a;
        for (int i = 0; i < n; ++i) a.emplace_back(i);
        return Value(a);
    };
    Object map16;
    for (int i = 0; i < 16; ++i) map16[std::string("k") + (i < 10 ? "0" : "") + std::to_string(i)] = i;
    return {
        {"nil", Value()},
        {"yes", true},
        {"no", false},
        {"zero", 0},
        {"negzero", -0.0},
        {"i127", 127},
        {"i128", 128},
        {"i255", 255},
        {"i256", 256},
        {"i65535", 65535},
        {"i65536", 65536},
        {"u32max", 4294967295.0},
        {"u32next", 4294967296.0},
        {"p53", 9007199254740992.0},
        {"p60", 1152921504606846976.0},
        {"neg1", -1},
        {"neg32", -32},
        {"neg33", -33},
        {"neg128", -128},
        {"neg129", -129},
        {"neg32768", -32768},
        {"neg32769", -32769},
        {"neg2p31", -2147483648.0},
        {"neg2p31m1", -2147483649.0},
        {"neg2p53", -9007199254740992.0},
        {"half", 1.5},
        {"tenth", 0.1},
        {"negfrac", -2.25},
        {"huge", 1e300},
        {"tiny", 5e-324},
        {"third", 1.0 / 3},
        {"nan", NAN},
        {"inf", INFINITY},
        {"ninf", -INFINITY},
        {"str0", ""},
        {"str31", std::string(31, 'a')},
        {"str32", std::string(32, 'b')},
        {"str255", std::string(255, 'c')},
        {"str256", std::string(256, 'd')},
        {"str65536", std::string(65536, 'e')},
        {"utf8", "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"},
        {"ctrl", "a\"b\\c\n\x01"},
        {"bin0", Binary{""}},
        {"bin3", Binary{"\x01\x02\xff"}},
        {"bin256", Binary{std::string(256, '\x07')}},
        {"bin65536", Binary{std::string(65536, '\x09')}},
        {"arr0", Value(Array{})},
        {"arr15", ints(15)},
        {"arr16", ints(16)},
        {"arr65536", Value(Array(65536, Value(1)))},
        {"map0", Value(Object{})},
        {"map2", Value(Object{{"a", 1}, {"b", "x"}})},
        {"map16", Value(map16)},
        {"intkeys", Value(Object{{"9", "nine"}, {"10", "ten"}, {"a", "a"}})},
        {"nested", Value(Object{{"a", Value{Value(1), Value(Object{{"b", Value()}})}},
                                {"c", Value(Object{{"d", Value(Binary{"\xde\xad"})}})}})},
        {"event", Value{Value("chat message"), Value("hi"), Value(42), Value(Object{{"nested", Value{true, Value()}}}),
                        Value(Binary{"bytes"})}},
    };
}

bool same(const Value& a, const Value& b) {
    if (a.is_number() && b.is_number() && std::isnan(a.as_number())) return std::isnan(b.as_number());
    return a == b;
}

// What node_codec.mjs's tag() makes of a value, so that Node's view and ours compare as text.
Value tag(const Value& v) {
    switch (v.type()) {
    case Value::Type::Binary: return Object{{"$bin", to_hex(v.as_binary())}};
    case Value::Type::Number:
        return std::isfinite(v.as_number()) ? v : Value(Object{{"$num", wire::js_number(v.as_number())}});
    case Value::Type::Array: {
        Array a;
        for (auto& x : v.as_array()) a.push_back(tag(x));
        return a;
    }
    case Value::Type::Object: {
        Object o;
        for (auto& kv : v.as_object()) o[kv.first] = tag(kv.second);
        return o;
    }
    default: return v;
    }
}

const std::map<std::string, Value>& node_encoded() {
    static const std::map<std::string, Value> lines = redis_test::by_name(redis_test::run_node("encode"));
    return lines;
}
const Value& node_case(const std::string& name) {
    auto it = node_encoded().find(name);
    static const Value none;
    return it == node_encoded().end() ? none : it->second;
}
std::string node_bytes(const std::string& name) { return from_hex(node_case(name)["hex"].as_string()); }

}  // namespace

TEST_CASE("Node's codec script runs") {
    REQUIRE_MESSAGE(node_encoded().size() > 90, "node " << redis_test::script() << " encode printed too little");
}

TEST_CASE("values: our bytes are notepack's, and we read notepack's bytes as Node does") {
    for (auto& entry : value_table()) {
        const std::string& name = entry.first;
        const Value& value = entry.second;
        CAPTURE(name);
        const Value& c = node_case("value." + name);
        REQUIRE(c.is_object());
        if (name == "huge") {
            // notepack takes 1e300 for an integer and writes cf 00..00 (it reads back as 0); we write the float64,
            // which notepack reads back right (checked in "Node reads what we write")
            CHECK(c["hex"].as_string() == "cf0000000000000000");
            CHECK(to_hex(wire::pack(value)) == "cb7e37e43c8800759c");
            continue;
        }
        CHECK(to_hex(wire::pack(value)) == c["hex"].as_string());
        Value decoded;
        REQUIRE(wire::unpack(from_hex(c["hex"].as_string()), decoded));
        CHECK(same(decoded, value));
        CHECK(wire::to_json(decoded) == c["json"].as_string());  // JSON.stringify of what notepack decoded
    }
}

TEST_CASE("values only Node writes: dates, ext types, float32, legacy notepack forms, non-string keys") {
    const std::map<std::string, Value> expected = {
        {"date0", "1970-01-01T00:00:00.000Z"},
        {"date1500", "1970-01-01T00:00:01.500Z"},
        {"dateNeg", "1969-12-31T23:59:59.999Z"},
        {"date2100", "2100-01-02T03:04:05.678Z"},
        {"dateBig", "+030000-06-01T00:00:00.000Z"},
        {"dateInObject", Value(Object{{"at", "1970-01-02T00:00:00.000Z"}, {"n", 1}})},
        {"legacyUndefined", Value()},
        {"legacyDate", "1970-01-01T00:00:03.000Z"},
        {"legacyArrayBuffer", Binary{"\x01\x02\x03"}},
        {"ext5", Value{Value(5), Value(Binary{"\x09"})}},
        {"ext16", Value{Value(10), Value(Binary{"\x01\x02"})}},
        {"float32", 1.5},
        {"u64", 4294967296.0},
        {"numberKeys", Value(Object{{"1", "a"}, {"x,true", "b"}})},
        {"undefinedDropped", Value(Object{{"b", 1}})},
        {"typedArray", Binary{"\x05\x06"}},
        {"mapAndSet", Value{Value(Object{}), Value(Object{})}},
    };
    for (auto& entry : expected) {
        const auto& name = entry.first;
        const auto& value = entry.second;
        CAPTURE(name);
        const Value& c = node_case("decode." + name);
        REQUIRE(c.is_object());
        Value decoded;
        REQUIRE(wire::unpack(from_hex(c["hex"].as_string()), decoded));
        CHECK(decoded == value);
        // what a Node server would put in its clients' JSON (an ArrayBuffer has no JSON form: {})
        if (c.contains("json") && name != "legacyArrayBuffer") CHECK(wire::to_json(decoded) == c["json"].as_string());
    }
}

TEST_CASE("broadcasts RA publishes: we read them, and write the same bytes to the same channel") {
    struct Expect {
        std::string nsp;
        Value data;
        std::vector<std::string> rooms, except;
        bool volatile_ = false, compress = true;
    };
    const std::map<std::string, Expect> cases = {
        {"all", {"/", Value{Value("hello"), Value(1), Value(1.5), Value(), Value(Binary{"\x01\x02"})}, {}, {}}},
        {"room", {"/", Value{Value("hello"), Value("x")}, {"room1"}, {}}},
        {"rooms", {"/", Value(Array{Value("ev")}), {"r1", "r2"}, {"r3"}}},
        {"volatile", {"/", Value{Value("v"), Value(1)}, {}, {}, true}},
        {"compress", {"/", Value{Value("c"), Value(Object{{"a", Value{Value(1), Value(2)}}})}, {}, {}, false, false}},
        {"admin", {"/admin", Value{Value("adm"), Value(Object{{"a", 1}})}, {}, {}}},
    };
    for (auto& entry : cases) {
        const auto& name = entry.first;
        const auto& e = entry.second;
        CAPTURE(name);
        const Value& c = node_case("ra.broadcast." + name);
        REQUIRE(c.is_object());
        wire::Broadcast b;
        REQUIRE(wire::decode_broadcast(from_hex(c["hex"].as_string()), b));
        CHECK(b.uid.size() == 6);
        CHECK(b.type == 2);
        CHECK(b.nsp == e.nsp);
        CHECK(b.data == e.data);
        CHECK(b.rooms == e.rooms);
        CHECK(b.except == e.except);
        CHECK(b.flags.volatile_ == e.volatile_);
        CHECK(b.flags.compress == e.compress);
        CHECK(to_hex(wire::encode_broadcast(b)) == c["hex"].as_string());
        CHECK(b.channel(wire::Channels("socket.io", b.nsp, b.uid)) == c["channel"].as_string());
    }
}

TEST_CASE("broadcasts the emitter publishes (opts keys in another order, numeric rooms)") {
    wire::Broadcast b;
    REQUIRE(wire::decode_broadcast(node_bytes("re.broadcast.all"), b));
    CHECK(b.uid == "emitter");
    CHECK(b.data == Value{Value("e"), Value(1), Value(Binary{"\x03"})});
    CHECK(node_case("re.broadcast.all")["channel"].as_string() == "socket.io#/#");
    REQUIRE(wire::decode_broadcast(node_bytes("re.broadcast.room"), b));
    CHECK(b.rooms == std::vector<std::string>{"room1"});
    REQUIRE(wire::decode_broadcast(node_bytes("re.broadcast.admin"), b));
    CHECK(b.nsp == "/admin");
    CHECK(b.except == std::vector<std::string>{"x"});
    CHECK(b.flags.volatile_);
    CHECK_FALSE(b.flags.compress);
    REQUIRE(wire::decode_broadcast(node_bytes("re.broadcast.numeric"), b));
    CHECK(b.rooms == std::vector<std::string>{"42"});
    CHECK(node_case("re.broadcast.numeric")["channel"].as_string() == "socket.io#/#42#");
}

TEST_CASE("requests RA publishes: we read them, and write the same bytes") {
    const std::map<std::string, int> types = {{"fetch", 5}, {"join", 2},   {"leave", 3},    {"disconnect", 4},
                                              {"sse", 6},   {"sseack", 6}, {"allrooms", 1}, {"broadcastack", 7}};
    for (auto& entry : types) {
        const auto& name = entry.first;
        const auto& type = entry.second;
        CAPTURE(name);
        const Value& c = node_case("ra.request." + name);
        REQUIRE(c.is_object());
        CHECK(c["channel"].as_string() == "socket.io-request#/#");
        wire::Request r;
        REQUIRE(wire::decode_request(node_bytes("ra.request." + name), r));
        CHECK(r.type == type);
        CHECK(r.uid.size() == 6);
        CHECK(to_hex(wire::encode_request(r)) == c["hex"].as_string());
    }
    wire::Request r;
    REQUIRE(wire::decode_request(node_bytes("ra.request.fetch"), r));
    CHECK(r.opts_rooms == std::vector<std::string>{"r1"});
    CHECK(r.opts_except == std::vector<std::string>{"r2"});
    REQUIRE(wire::decode_request(node_bytes("ra.request.join"), r));
    CHECK_FALSE(r.has_request_id);
    CHECK(r.rooms == std::vector<std::string>{"a", "b"});
    REQUIRE(wire::decode_request(node_bytes("ra.request.disconnect"), r));
    CHECK(r.close);
    REQUIRE(wire::decode_request(node_bytes("ra.request.sse"), r));
    CHECK_FALSE(r.has_request_id);
    CHECK(r.data == Value{Value("hi"), Value(1), Value("two"), Value(Object{{"a", Value(Array{Value(1)})}})});
    REQUIRE(wire::decode_request(node_bytes("ra.request.sseack"), r));
    CHECK(r.has_request_id);
    CHECK(r.data == Value{Value("q"), Value(5)});
    REQUIRE(wire::decode_request(node_bytes("ra.request.broadcastack"), r));
    CHECK(r.flags.timeout == 1000);
    CHECK(r.data == Value{Value("ping"), Value("x")});
    CHECK(r.nsp == "/");
}

TEST_CASE("requests the emitter publishes: 2/3/4 without uid, 6 as \"emitter\" without requestId") {
    wire::Request r;
    REQUIRE(wire::decode_request(node_bytes("re.request.join"), r));
    CHECK(r.type == 2);
    CHECK_FALSE(r.has_uid);
    CHECK(r.rooms == std::vector<std::string>{"r"});
    REQUIRE(wire::decode_request(node_bytes("re.request.leave"), r));
    CHECK(r.type == 3);
    CHECK(r.opts_rooms == std::vector<std::string>{"a"});
    CHECK(r.rooms == std::vector<std::string>{"r", "s"});
    REQUIRE(wire::decode_request(node_bytes("re.request.disconnect"), r));
    CHECK(r.type == 4);
    CHECK(r.close);
    REQUIRE(wire::decode_request(node_bytes("re.request.sse"), r));
    CHECK(r.type == 6);
    CHECK(r.uid == "emitter");
    CHECK_FALSE(r.has_request_id);
    CHECK(r.data == Value{Value("sse"), Value(1)});
}

TEST_CASE("answers RA gives: we read them, and write the same (bytes, or for fetch the same JSON value)") {
    wire::Response r;
    REQUIRE(wire::decode_response(node_bytes("ra.response.fetch"), r));
    CHECK(r.requestId == "Req005");
    REQUIRE(r.sockets.size() == 1);
    const wire::SocketEntry& s = r.sockets[0];
    CHECK(s.id == "sidA0000000000000001");
    CHECK(s.rooms == std::vector<std::string>{"sidA0000000000000001", "r1"});
    CHECK(s.handshake["address"].as_string() == "::ffff:127.0.0.1");
    CHECK(s.handshake["issued"].as_number() == 1796162400000.0);
    CHECK(s.handshake["query"]["EIO"].as_string() == "4");
    CHECK(s.handshake["auth"]["token"].as_string() == "abc");
    CHECK(s.data["name"].as_string() == "ann");
    CHECK(s.data["bin"]["type"].as_string() == "Buffer");  // JSON carries a Buffer as Buffer#toJSON
    Value ours, theirs;
    REQUIRE(wire::parse_json(wire::encode_fetch_response(r.requestId, r.sockets), ours));
    REQUIRE(wire::parse_json(node_bytes("ra.response.fetch"), theirs));
    CHECK(ours == theirs);

    REQUIRE(wire::decode_response(node_bytes("ra.response.allrooms"), r));
    CHECK(r.rooms == std::vector<std::string>{"sidA0000000000000001", "r1"});
    CHECK(wire::encode_list_response("Req001", "rooms", r.rooms) == node_bytes("ra.response.allrooms"));
    REQUIRE(wire::decode_response(node_bytes("ra.response.sockets"), r));
    CHECK(r.socket_ids == std::vector<std::string>{"sidA0000000000000001"});
    CHECK(wire::encode_list_response("Req000", "sockets", r.socket_ids) == node_bytes("ra.response.sockets"));
    CHECK(wire::encode_done_response("Req002") == node_bytes("ra.response.legacyjoin"));
    REQUIRE(wire::decode_response(node_bytes("ra.response.sse"), r));
    CHECK(r.type == 6);
    CHECK(r.data == Value(Object{{"ok", 3}}));
    CHECK(wire::encode_server_side_emit_response("Req006", r.data) == node_bytes("ra.response.sse"));
    REQUIRE(wire::decode_response(node_bytes("ra.response.clientcount"), r));
    CHECK(r.type == 8);
    CHECK(r.clientCount == 1);
    CHECK(wire::encode_client_count_response("Req007", 1) == node_bytes("ra.response.clientcount"));
    REQUIRE(wire::decode_response(node_bytes("ra.response.ack"), r));
    CHECK(r.type == 9);
    CHECK(r.packet == Value(Binary{"\x07\x07"}));
    CHECK(wire::encode_broadcast_ack_response("Req007", r.packet) == node_bytes("ra.response.ack"));
    CHECK(node_case("ra.response.ack")["channel"].as_string() == "socket.io-response#/#");
}

// ---- the other way: our bytes through notepack and the real adapter ---------------------------------------------

namespace {

std::string line(const std::string& kind, const std::string& name, const std::string& bytes, Object extra = {}) {
    extra["kind"] = kind;
    extra["name"] = name;
    extra["hex"] = to_hex(bytes);
    return wire::to_json(Value(std::move(extra))) + "\n";
}

}  // namespace

TEST_CASE("Node reads what we write") {
    std::string input;
    const auto values = value_table();
    for (auto& [name, value] : values) input += line("value", "value." + name, wire::pack(value));

    wire::Channels ch("socket.io", "/", "CppNod");
    auto broadcast = [&](const std::string& name, wire::Broadcast b, const std::string& channel = {}) {
        b.uid = "CppNod";
        input += line("broadcast", name, wire::encode_broadcast(b),
                      {{"channel", channel.empty() ? b.channel(ch) : channel}});
    };
    wire::Broadcast all;
    all.data = Value{Value("hello"), Value(1), Value(1.5), Value(), Value(Binary{"\x01\x02"})};
    broadcast("b.all", all);
    wire::Broadcast room = all;
    room.rooms = {"room1"};
    room.except = {"sidX"};
    room.flags.volatile_ = true;
    room.flags.compress = false;
    broadcast("b.room", room);
    wire::Broadcast unknown = all;
    unknown.rooms = {"nope"};
    broadcast("b.unknownroom", unknown);  // RA has no such room: dropped before decoding
    wire::Broadcast admin = all;
    admin.nsp = "/admin";
    broadcast("b.othernsp", admin, ch.base);  // on "/"'s channel but for /admin: RA drops it

    auto request = [&](const std::string& name, wire::Request r) {
        r.uid = "CppNod";
        input += line("request", name, wire::encode_request(r));
    };
    wire::Request fetch;
    fetch.type = wire::REMOTE_FETCH;
    fetch.has_request_id = true;
    fetch.requestId = "CppR05";
    fetch.opts_rooms = {"room1"};
    request("r.fetch", fetch);
    wire::Request join;
    join.type = wire::REMOTE_JOIN;
    join.opts_rooms = {"room1"};
    join.rooms = {"a", "b"};
    request("r.join", join);
    wire::Request leave = join;
    leave.type = wire::REMOTE_LEAVE;
    leave.opts_rooms = {};
    leave.opts_except = {"room1"};
    request("r.leave", leave);
    wire::Request disconnect;
    disconnect.type = wire::REMOTE_DISCONNECT;
    disconnect.close = true;
    request("r.disconnect", disconnect);
    wire::Request sse;
    sse.type = wire::SERVER_SIDE_EMIT;
    sse.data = Value{Value("hi"), Value(1), Value(Object{{"x", Value(Array{Value(true)})}})};
    request("r.sse", sse);
    wire::Request sseack = sse;
    sseack.has_request_id = true;
    sseack.requestId = "CppR06";
    request("r.sseack", sseack);
    wire::Request rooms;
    rooms.type = wire::ALL_ROOMS;
    rooms.has_request_id = true;
    rooms.requestId = "CppR01";
    request("r.allrooms", rooms);
    wire::Request ack;
    ack.type = wire::BROADCAST;
    ack.has_request_id = true;
    ack.requestId = "CppR07";
    ack.data = Value{Value("ping"), Value(Binary{"\x01"})};
    ack.flags.timeout = 500;
    request("r.broadcastack", ack);

    auto response = [&](const std::string& name, const std::string& bytes, const std::string& pending,
                        const std::string& requestId) {
        input += line("response", name, bytes, {{"pending", pending}, {"requestId", requestId}});
    };
    wire::SocketEntry e{
        "sidC", Value(Object{{"address", "::1"}, {"issued", 5}}), {"sidC", "r"}, Value(Object{{"n", 1}})};
    response("s.fetch", wire::encode_fetch_response("CppF", {e}), "fetch", "CppF");
    response("s.allrooms", wire::encode_list_response("CppA", "rooms", {"x", "y"}), "allrooms", "CppA");
    response("s.sse", wire::encode_server_side_emit_response("CppS", Value(Object{{"ok", true}})), "sse", "CppS");
    response("s.count", wire::encode_client_count_response("CppK", 3), "ack", "CppK");
    response("s.ack", wire::encode_broadcast_ack_response("CppK", Value{Value("a"), Value(Binary{"\x02"})}), "ack",
             "CppK");

    const auto seen = redis_test::by_name(redis_test::run_node("decode", input));
    REQUIRE(seen.size() >= values.size());
    for (auto& entry : values) {
        const auto& name = entry.first;
        const auto& value = entry.second;
        CAPTURE(name);
        auto it = seen.find("value." + name);
        REQUIRE(it != seen.end());
        CHECK(wire::to_json(it->second["seen"]) == wire::to_json(tag(value)));
    }
    // Node's view as a value (object keys unordered), written back as text for the report
    auto seen_json = [&](const std::string& name) {
        auto it = seen.find(name);
        return it == seen.end() ? std::string("(missing)") : wire::to_json(it->second["seen"]);
    };
    auto json = [](const char* text) {
        Value v;
        REQUIRE(wire::parse_json(text, v));
        return wire::to_json(v);
    };
    CHECK(seen_json("b.all") ==
          json(R"([{"method":"broadcast","packet":{"type":2,"data":["hello",1,1.5,null,{"$bin":"0102"}],"nsp":"/"},)"
               R"("opts":{"rooms":[],"except":[],"flags":{}}}])"));
    CHECK(seen_json("b.room") ==
          json(R"([{"method":"broadcast","packet":{"type":2,"data":["hello",1,1.5,null,{"$bin":"0102"}],"nsp":"/"},)"
               R"("opts":{"rooms":["room1"],"except":["sidX"],"flags":{"volatile":true,"compress":false}}}])"));
    CHECK(seen_json("b.unknownroom") == "[]");
    CHECK(seen_json("b.othernsp") == "[]");

    // RA answers our fetch with its socket, on the shared response channel
    const Value fetched = seen.count("r.fetch") ? seen.at("r.fetch")["seen"] : Value();
    CHECK(fetched["calls"].size() == 0);
    REQUIRE(fetched["published"].size() == 1);
    CHECK(fetched["published"][0]["channel"].as_string() == "socket.io-response#/#");
    CHECK(fetched["published"][0]["message"]["requestId"].as_string() == "CppR05");
    CHECK(fetched["published"][0]["message"]["sockets"][0]["id"].as_string() == "sidB0000000000000001");
    CHECK(seen_json("r.join") ==
          json(R"({"calls":[{"method":"addSockets","opts":{"rooms":["room1"],"except":[]},"arg":["a","b"]}],)"
               R"("published":[]})"));
    CHECK(seen_json("r.leave") ==
          json(R"({"calls":[{"method":"delSockets","opts":{"rooms":[],"except":["room1"]},"arg":["a","b"]}],)"
               R"("published":[]})"));
    CHECK(
        seen_json("r.disconnect") ==
        json(
            R"({"calls":[{"method":"disconnectSockets","opts":{"rooms":[],"except":[]},"arg":true}],"published":[]})"));
    CHECK(
        seen_json("r.sse") ==
        json(R"({"calls":[{"method":"serverSideEmit","data":["hi",1,{"x":[true]}],"withAck":false}],"published":[]})"));
    CHECK(
        seen_json("r.sseack") ==
        json(R"({"calls":[{"method":"serverSideEmit","data":["hi",1,{"x":[true]}],"withAck":true}],"published":[]})"));
    CHECK(seen_json("r.allrooms") == json(R"({"calls":[],"published":[{"channel":"socket.io-response#/#","message":)"
                                          R"({"requestId":"CppR01","rooms":["sidB0000000000000001","room1"]}}]})"));
    CHECK(seen_json("r.broadcastack") ==
          json(R"({"calls":[{"method":"broadcastWithAck",)"
               R"("packet":{"type":2,"data":["ping",{"$bin":"01"}],"nsp":"/","id":0},)"
               R"("opts":{"rooms":[],"except":[]}}],"published":[{"channel":"socket.io-response#/#","message":)"
               R"({"type":8,"requestId":"CppR07","clientCount":1}}]})"));

    CHECK(seen_json("s.fetch") ==
          json(R"([{"id":"sidC","handshake":{"address":"::1","issued":5},"rooms":["sidC","r"],"data":{"n":1}}])"));
    CHECK(seen_json("s.allrooms") == json(R"(["x","y"])"));
    CHECK(seen_json("s.sse") == json(R"([null,[{"ok":true}]])"));
    CHECK(seen_json("s.count") == json(R"([{"clientCount":3}])"));
    CHECK(seen_json("s.ack") == json(R"([{"ack":["a",{"$bin":"02"}]}])"));
    for (auto& kv : seen)
        CHECK_MESSAGE(!kv.second.contains("error"), kv.first << ": " << kv.second["error"].as_string());
}
