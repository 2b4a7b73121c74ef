// The sharded adapter's wire (sio::redis::wire::cluster's sharded part): the channel of each message, JSON or
// notepack, and which rooms get a channel, against what @socket.io/redis-adapter 8.3's createShardedAdapter does
// (tests/redis/node_sharded.mjs runs it with fake Redis clients), and round trips.
#include "sioserver_redis.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "node_runner.hpp"

using sio::Array;
using sio::Binary;
using sio::Object;
using sio::Value;
namespace cluster = sio::redis::wire::cluster;
using Mode = sio::redis::ShardedOptions::SubscriptionMode;
using redis_test::from_hex;

namespace {

// The lines node_sharded.mjs prints (none if Node could not run it).
const std::vector<Value>& node_lines() {
    static const std::vector<Value> lines = [] {
        std::string text;
        if (FILE* p = popen("timeout 60 node tests/redis/node_sharded.mjs", "r")) {
            char buf[65536];
            size_t n;
            while ((n = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
            pclose(p);
        }
        std::vector<Value> out;
        size_t start = 0;
        while (start < text.size()) {
            size_t end = text.find('\n', start);
            if (end == std::string::npos) end = text.size();
            Value v;
            if (sio::redis::wire::parse_json(std::string_view(text).substr(start, end - start), v)) out.push_back(v);
            start = end + 1;
        }
        return out;
    }();
    return lines;
}

Mode mode_of(const std::string& name) {
    return name == "static" ? Mode::Static : name == "dynamic" ? Mode::Dynamic : Mode::DynamicPrivate;
}

bool same(const cluster::Message& a, const cluster::Message& b) {
    return a.type == b.type && a.data == b.data && a.uid == b.uid && a.nsp == b.nsp;
}

}  // namespace

TEST_CASE("sharded: Node's messages decode, and we choose Node's channel and Node's form (JSON or notepack)") {
    size_t publishes = 0;
    for (auto& line : node_lines()) {
        if (line["kind"].as_string() != "publish") continue;
        ++publishes;
        const std::string name = line["name"].as_string(), mode = line["mode"].as_string();
        CAPTURE(name);
        CAPTURE(mode);
        const std::string bytes = from_hex(line["hex"].as_string());
        cluster::Message m;
        REQUIRE(cluster::decode_sharded(bytes, m));
        CHECK(m.nsp == "/");
        CHECK(m.uid.size() == 16);
        const std::string base = "socket.io#/#";
        if (name.rfind("answer", 0) == 0)  // an answer goes to the requester's channel, whatever the mode
            CHECK(line["channel"].as_string() == base + "0123456789abcdef#");
        else CHECK(cluster::sharded_channel(m, base, mode_of(mode)) == line["channel"].as_string());
        // The same form, and the same message once read back (key order inside data may differ: a sio::Value object
        // is sorted).
        const std::string ours = cluster::encode_sharded(m);
        CHECK((ours[0] == '{') == (bytes[0] == '{'));
        cluster::Message back;
        REQUIRE(cluster::decode_sharded(ours, back));
        CHECK(same(back, m));
        if (bytes[0] == '{') {  // the envelope's keys come in Node's order: type, data, uid, nsp
            CHECK(ours.rfind("{\"type\":" + std::to_string(m.type) + ",\"data\":", 0) == 0);
            CHECK(ours.substr(ours.size() - m.nsp.size() - 35) == bytes.substr(bytes.size() - m.nsp.size() - 35));
        }
    }
    CHECK(publishes == 3 * 17);
}

TEST_CASE("sharded: the rooms whose channel a node subscribes to, per mode, are Node's") {
    size_t seen = 0;
    for (auto& line : node_lines()) {
        if (line["kind"].as_string() != "subscribe") continue;
        ++seen;
        CAPTURE(line["room"].as_string());
        CAPTURE(line["mode"].as_string());
        CHECK(cluster::subscribes_to_room(mode_of(line["mode"].as_string()), line["sid"].as_bool()) ==
              line["subscribed"].as_bool());
    }
    CHECK(seen == 3 * 3);
}

TEST_CASE("sharded: a room looks like a socket id by its JavaScript length") {
    CHECK(cluster::js_length("") == 0);
    CHECK(cluster::js_length("abc") == 3);
    CHECK(cluster::js_length("\xc3\xa9") == 1);          // "é".length
    CHECK(cluster::js_length("\xe2\x82\xac") == 1);      // "€".length
    CHECK(cluster::js_length("\xf0\x9f\x98\x80") == 2);  // "😀".length: a surrogate pair
    CHECK(cluster::looks_like_socket_id("AAAAAAAAAAAAAAAAAAAA"));
    CHECK_FALSE(cluster::looks_like_socket_id("AAAAAAAAAAAAAAAAAAA"));
    CHECK_FALSE(cluster::looks_like_socket_id("AAAAAAAAAAAAAAAAAAAAA"));
    // socket ids as Node makes them (base64id: 15 random bytes in base64) are 20 characters
    CHECK(cluster::looks_like_socket_id(sio::base64::encode(std::string(15, '\xff'))));
}

TEST_CASE("sharded: round trips, JSON unless a type that may carry binary does") {
    const Value opts = cluster::encode_opts(sio::BroadcastOptions{{"r"}, {}, {}});
    const Value bin = Value(Binary{std::string("\x00\x01\xff", 3)});
    struct Case {
        int type;
        Value data;
        bool notepack;
    };
    const std::vector<Case> cases = {
        {cluster::BROADCAST,
         Object{{"packet", Object{{"type", 2}, {"data", Array{Value("ev"), Value(1)}}}}, {"opts", opts}}, false},
        {cluster::BROADCAST, Object{{"packet", Object{{"type", 2}, {"data", Array{Value("ev"), bin}}}}, {"opts", opts}},
         true},
        {cluster::SERVER_SIDE_EMIT, Object{{"packet", Array{Value("ev"), bin}}}, true},
        {cluster::SERVER_SIDE_EMIT_RESPONSE, Object{{"requestId", "a"}, {"packet", bin}}, true},
        {cluster::BROADCAST_ACK, Object{{"requestId", "a"}, {"packet", Array{bin}}}, true},
        {cluster::FETCH_SOCKETS_RESPONSE, Object{{"requestId", "a"}, {"sockets", Array{Object{{"data", bin}}}}}, true},
        {cluster::FETCH_SOCKETS_RESPONSE, Object{{"requestId", "a"}, {"sockets", Array{}}}, false},
        // not among the types Node looks for binary in: JSON whatever the data holds
        {cluster::SOCKETS_JOIN, Object{{"opts", opts}, {"rooms", Array{Value("x")}}}, false},
        {cluster::BROADCAST_CLIENT_COUNT, Object{{"requestId", "a"}, {"clientCount", 3}}, false},
        {cluster::FETCH_SOCKETS, Object{{"opts", opts}, {"requestId", "a"}}, false},
        {cluster::HEARTBEAT, Value(), false},
    };
    for (auto& c : cases) {
        CAPTURE(c.type);
        const cluster::Message m{c.type, c.data, "0123456789abcdef", "/chat"};
        const std::string bytes = cluster::encode_sharded(m);
        CHECK((bytes[0] != '{') == c.notepack);
        cluster::Message back;
        REQUIRE(cluster::decode_sharded(bytes, back));
        CHECK(same(back, m));
    }
    // a type Node does not look into for binary: JSON, the buffer in Buffer's JSON form
    const cluster::Message join{cluster::SOCKETS_JOIN, Object{{"rooms", Array{bin}}}, "u", "/"};
    CHECK(cluster::encode_sharded(join).find(R"({"type":"Buffer","data":[0,1,255]})") != std::string::npos);
}

TEST_CASE("sharded: what is not a message is refused") {
    cluster::Message m;
    for (std::string bad :
         {std::string(), std::string("{"), std::string("{\"type\":3}"), std::string("{\"type\":\"3\",\"nsp\":\"/\"}"),
          std::string("[3]"), std::string("\x93\x01\x02\x03"), std::string("{\"type\":1e300,\"nsp\":\"/\"}"),
          std::string("{\"type\":3,\"nsp\":\"/\"} x")})
        CHECK_FALSE(cluster::decode_sharded(bad, m));
    CHECK(cluster::decode_sharded("{\"type\":13,\"uid\":\"u\",\"nsp\":\"/\"}", m));
    CHECK(m.type == cluster::ADAPTER_CLOSE);
    CHECK(m.data.is_null());
}

TEST_CASE("sharded: a broadcast to one room goes to the room's channel only without acks, per mode") {
    const std::string base = "socket.io#/x#";
    auto broadcast = [](std::vector<std::string> rooms, bool ack) {
        Object data{
            {"packet", Object{{"type", 2}, {"data", Array{Value("e")}}}},
            {"opts", Object{{"rooms", Array(rooms.begin(), rooms.end())}, {"except", Array{}}, {"flags", Object{}}}}};
        if (ack) data["requestId"] = "0011223344556677";
        return cluster::Message{cluster::BROADCAST, data, "u", "/x"};
    };
    CHECK(cluster::sharded_channel(broadcast({"a"}, false), base, Mode::Dynamic) == base + "a#");
    CHECK(cluster::sharded_channel(broadcast({"a"}, false), base, Mode::DynamicPrivate) == base + "a#");
    CHECK(cluster::sharded_channel(broadcast({"a"}, false), base, Mode::Static) == base);
    CHECK(cluster::sharded_channel(broadcast({"a"}, true), base, Mode::Dynamic) == base);
    CHECK(cluster::sharded_channel(broadcast({"a", "b"}, false), base, Mode::DynamicPrivate) == base);
    CHECK(cluster::sharded_channel(broadcast({}, false), base, Mode::DynamicPrivate) == base);
    const cluster::Message join{
        cluster::SOCKETS_JOIN,
        Object{{"opts", cluster::encode_opts(sio::BroadcastOptions{{"a"}, {}, {}})}, {"rooms", Array{Value("b")}}}, "u",
        "/x"};
    CHECK(cluster::sharded_channel(join, base, Mode::DynamicPrivate) == base);
}
