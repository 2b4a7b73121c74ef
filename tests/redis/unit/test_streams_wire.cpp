// The Streams adapter's wire (sio::redis::wire::cluster) against @socket.io/redis-streams-adapter 0.3.1 itself, both
// ways. tests/redis/node_streams.mjs runs the real adapter in a socket.io Server with a fake Redis client:
//   encode: what it writes (stream entries, a pub/sub message, a session, its namespace hash) -> we read it back
//   decode: what we write -> what the adapter delivers, restores or hands its server-side listeners
#include "sioserver_redis.hpp"

#include <doctest/doctest.h>

#include <string>

#include "node_runner.hpp"

using sio::Array;
using sio::Binary;
using sio::Object;
using sio::Value;
namespace cluster = sio::redis::wire::cluster;
using redis_test::from_hex;
using redis_test::to_hex;

namespace {

const char* const kScript = "tests/redis/node_streams.mjs";
std::map<std::string, Value> node_encoded() {
    static const auto lines = redis_test::by_name(redis_test::run_node("encode", {}, kScript));
    return lines;
}

std::vector<std::pair<std::string_view, std::string_view>> pairs(const Value& list) {
    std::vector<std::pair<std::string_view, std::string_view>> out;
    for (size_t i = 0; i + 1 < list.size(); i += 2) out.emplace_back(list[i].as_string(), list[i + 1].as_string());
    return out;
}

// A Buffer as node_streams.mjs tags it.
Value bin(const std::string& bytes) { return Object{{"$bin", to_hex(bytes)}}; }

}  // namespace

TEST_CASE("streams wire: Node's stream entries read back (JSON, and base64 msgpack when there is binary)") {
    auto node = node_encoded();
    REQUIRE_MESSAGE(node.count("broadcast_plain"), "node tests/redis/node_streams.mjs encode did not run");

    cluster::Message m;
    REQUIRE(cluster::decode_entry(pairs(node["broadcast_plain"]["fields"]), m));
    CHECK(m.type == cluster::BROADCAST);
    CHECK(m.nsp == "/");
    CHECK(m.uid.size() == 16);
    CHECK(m.data["packet"]["type"].as_number() == 2);
    CHECK(m.data["packet"]["data"] == Value(Array{"chat", "hi", 1.5, Object{{"a", Array{true, nullptr}}}}));
    sio::BroadcastOptions opts;
    REQUIRE(cluster::decode_opts(m.data["opts"], opts));
    CHECK(opts.rooms == std::set<std::string>{"r1"});
    CHECK(opts.except == std::set<std::string>{"r2"});
    CHECK_FALSE(opts.flags.volatile_);

    REQUIRE(cluster::decode_entry(pairs(node["broadcast_all"]["fields"]), m));
    CHECK(m.data["packet"]["data"][1].as_number() == 9007199254740992.0);

    REQUIRE(cluster::decode_entry(pairs(node["broadcast_binary"]["fields"]), m));
    CHECK(m.data["packet"]["data"] ==
          Value(Array{"bin", Binary{std::string("\x00\x01\xff", 3)}, Object{{"nested", Binary{"xyz"}}}}));

    REQUIRE(cluster::decode_entry(pairs(node["broadcast_volatile"]["fields"]), m));
    sio::BroadcastOptions vol;
    REQUIRE(cluster::decode_opts(m.data["opts"], vol));
    CHECK(vol.flags.volatile_);

    REQUIRE(cluster::decode_entry(pairs(node["sockets_join"]["fields"]), m));
    CHECK(m.type == cluster::SOCKETS_JOIN);
    CHECK(m.data["rooms"] == Value(Array{"x", "y"}));
    REQUIRE(cluster::decode_entry(pairs(node["disconnect"]["fields"]), m));
    CHECK(m.type == cluster::DISCONNECT_SOCKETS);
    CHECK(m.data["close"].as_bool());
    CHECK(node["sockets_join"]["maxlen"].as_number() == 10000);
}

TEST_CASE("streams wire: Node's pub/sub message, session and namespace hash") {
    auto node = node_encoded();
    REQUIRE(node.count("server_side_emit"));
    cluster::Message m;
    const std::string bytes = from_hex(node["server_side_emit"]["hex"].as_string());
    REQUIRE(cluster::decode_pubsub(bytes, m));
    CHECK(m.type == cluster::SERVER_SIDE_EMIT);
    CHECK(m.data["packet"] == Value(Array{"ping", 1, "two"}));
    CHECK(node["server_side_emit"]["channel"].as_string() == "socket.io#/#");
    // Our encoder writes the same bytes for the same message (the key order is type, data, uid, nsp).
    CHECK(to_hex(cluster::encode_pubsub(m)) == node["server_side_emit"]["hex"].as_string());

    const Value& set = node["session"];
    CHECK(set["key"].as_string() == "sio:session:" + std::string(20, 'P'));
    CHECK(set["px"].as_number() == 60000);
    sio::SessionToPersist s;
    REQUIRE(cluster::decode_session(set["value"].as_string(), s));
    CHECK(s.sid == std::string(20, 'S'));
    CHECK(s.pid == std::string(20, 'P'));
    CHECK(s.rooms == std::set<std::string>{std::string(20, 'S'), "room"});
    CHECK(s.data == Value(Object{{"user", "ann"}, {"n", 3}, {"big", 1152921504606846976.0}}));

    int hashes = 0;
    for (auto& kv : node) {
        if (kv.second["kind"].as_string() != "hash") continue;
        ++hashes;
        CAPTURE(kv.first);
        CHECK(cluster::hash_code(kv.second["nsp"].as_string()) == int32_t(kv.second["hash"].as_number()));
        CHECK(cluster::stream_of(kv.second["nsp"].as_string(), "socket.io", int(kv.second["count"].as_number())) ==
              kv.second["stream"].as_string());
    }
    CHECK(hashes == 5);
}

TEST_CASE("streams wire: what we write, as the Node adapter reads it") {
    auto line = [](const std::string& name, const std::string& kind, Object more) {
        more["name"] = name;
        more["kind"] = kind;
        return Value(std::move(more)).to_json() + "\n";
    };
    auto fields_of = [](const cluster::Message& m, bool plaintext = false) {
        Array a;
        for (auto& f : cluster::entry_fields(m, plaintext)) a.emplace_back(f);
        return Value(a);
    };
    sio::BroadcastOptions o;
    o.rooms = {"r1", "r2"};
    o.except = {"x"};
    o.flags.volatile_ = true;
    Value packet = Object{{"type", 2}, {"data", Array{"ev", Binary{"\x01\x02"}, Object{{"deep", Binary{"z"}}}, 7}}};
    cluster::Message b{cluster::BROADCAST, Object{{"packet", packet}, {"opts", cluster::encode_opts(o)}},
                       "0123456789abcdef", "/"};
    Value plain_packet = Object{{"type", 2}, {"data", Array{"ev", "text", 2.5}}};
    cluster::Message p{cluster::BROADCAST,
                       Object{{"packet", plain_packet}, {"opts", cluster::encode_opts(sio::BroadcastOptions{})}},
                       "0123456789abcdef", "/"};
    sio::SessionToPersist session{std::string(20, 'S'),
                                  std::string(20, 'P'),
                                  {"room", std::string(20, 'S')},
                                  Object{{"user", "bob"}, {"list", Array{1, "a"}}}};
    Array entries{Object{{"id", "5-1"}, {"fields", fields_of(p)}},
                  Object{{"id", "5-2"}, {"fields", fields_of(b)}},  // rooms r1, r2: not the session's
                  Object{{"id", "6-0"},
                         {"fields", fields_of(cluster::Message{
                                        cluster::BROADCAST,
                                        Object{{"packet", plain_packet},
                                               {"opts", cluster::encode_opts(sio::BroadcastOptions{{"room"}, {}, {}})}},
                                        "0123456789abcdef", "/"})}}};
    cluster::Message sse{cluster::SERVER_SIDE_EMIT, Object{{"packet", Array{"hello", Binary{"b"}, 3}}},
                         "fedcba9876543210", "/"};
    const std::string input =
        line("entry_binary", "entry", {{"fields", fields_of(b)}, {"offset", "12-3"}}) +
        line("entry_plaintext", "entry", {{"fields", fields_of(b, true)}, {"offset", "12-4"}}) +
        line("entry_plain", "entry", {{"fields", fields_of(p)}, {"offset", "12-5"}}) +
        line("session", "session", {{"value", cluster::encode_session(session)}, {"entries", entries}}) +
        line("publish", "publish", {{"hex", to_hex(cluster::encode_pubsub(sse))}});
    auto seen = redis_test::by_name(redis_test::run_node("decode", input, kScript));
    REQUIRE_MESSAGE(seen.size() == 5, "node tests/redis/node_streams.mjs decode did not answer every line");

    // The broadcast with binary (base64 msgpack): delivered with its binary and its options; volatile, so without
    // an offset (the plain one below gets its own).
    const Value& d = seen["entry_binary"]["seen"][0];
    INFO(d.to_json());
    CHECK(d["packet"]["data"] == Value(Array{"ev", bin("\x01\x02"), Object{{"deep", bin("z")}}, 7}));
    CHECK(d["opts"]["rooms"] == Value(Array{"r1", "r2"}));
    CHECK(d["opts"]["except"] == Value(Array{"x"}));
    CHECK(d["opts"]["flags"]["volatile"].as_bool());
    // onlyPlaintext: the same as JSON, binary as Buffer's JSON form (what Node's JSON.stringify would write)
    const Value& t = seen["entry_plaintext"]["seen"][0];
    CHECK(t["packet"]["data"][1] == Value(Object{{"type", "Buffer"}, {"data", Array{1, 2}}}));
    CHECK(seen["entry_plain"]["seen"][0]["packet"]["data"] == Value(Array{"ev", "text", 2.5, "12-5"}));

    // The session: ours, restored by Node with the missed packets of its rooms, each with its offset.
    const Value& r = seen["session"]["seen"];
    CHECK(r["sid"].as_string() == std::string(20, 'S'));
    CHECK(r["pid"].as_string() == std::string(20, 'P'));
    CHECK(r["data"] == session.data);
    CHECK(r["rooms"].size() == 2);
    CHECK(r["missedPackets"] == Value(Array{Array{"ev", "text", 2.5, "5-1"}, Array{"ev", "text", 2.5, "6-0"}}));

    // A server-side emit on pub/sub: Node's listeners get its arguments, binary included.
    CHECK(seen["publish"]["seen"]["emitted"] == Value(Array{Array{"hello", bin("b"), 3}}));
}

TEST_CASE("streams wire: refused input") {
    cluster::Message m;
    using F = std::vector<std::pair<std::string_view, std::string_view>>;
    CHECK_FALSE(cluster::decode_entry(F{{"foo", "bar"}}, m));                               // no nsp, no type
    CHECK_FALSE(cluster::decode_entry(F{{"nsp", "/"}, {"type", "three"}}, m));              // a type that is no number
    CHECK_FALSE(cluster::decode_entry(F{{"nsp", "/"}, {"type", "3"}, {"data", "{"}}, m));   // bad JSON
    CHECK_FALSE(cluster::decode_entry(F{{"nsp", "/"}, {"type", "3"}, {"data", "!!"}}, m));  // not base64
    CHECK(cluster::decode_entry(F{{"nsp", "/"}, {"type", "1"}}, m));                        // no data: fine
    const std::string array_data = sio::base64::encode("\x92\x01\x02");                     // msgpack [1, 2]
    CHECK_FALSE(cluster::decode_entry(F{{"nsp", "/"}, {"type", "3"}, {"data", array_data}}, m));  // data: no object
    CHECK_FALSE(cluster::decode_pubsub("\x92\x01\x02", m));                                       // a message: no array
    CHECK_FALSE(cluster::decode_pubsub("\x82\xa4type\x03\xa3nsp\x01", m));                        // nsp: no string
    CHECK_FALSE(cluster::decode_pubsub("\xc1", m));
    CHECK_FALSE(cluster::decode_pubsub(cluster::encode_session({"s", "p", {}, {}}), m));  // not a message
    sio::SessionToPersist s;
    CHECK_FALSE(cluster::decode_session("not base64!", s));
    CHECK_FALSE(cluster::decode_session(sio::base64::encode("\x93\x01\x02\x03"), s));  // an array, not a map
    for (const char* id : {"1-0", "1700000000000-12", "0-0"}) CHECK(cluster::is_entry_id(id));
    for (const char* id : {"", "1", "-1", "1-", "a-1", "1-2-3", "99999999999999999999-1", "1-99999999999999999999"})
        CHECK_FALSE(cluster::is_entry_id(id));
    CHECK(cluster::next_offset("17-4") == "17-5");
    CHECK(cluster::id_less("9-9", "10-0"));
    CHECK_FALSE(cluster::id_less("10-1", "10-1"));
}
