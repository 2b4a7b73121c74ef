// The msgpack parser's codec (2f, continued) against bytes npm socket.io-msgpack-parser 3.0.2 (notepack.io 2.2)
// writes, made with:
//   node -e 'const e = new (require("socket.io-msgpack-parser").Encoder)();
//            console.log(Buffer.from(e.encode(<packet>)[0]).toString("hex"))'
// and what the decoder refuses. The key order of each packet below is the order this codec writes.
#include "sioserver.hpp"

#include <doctest/doctest.h>

#include <string>

using sio::Value;
using sio::packet::Packet;
using sio::packet::Type;
namespace mp = sio::packet::msgpack;

namespace {

std::string unhex(const std::string& hex) {
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
}

Packet event(const std::string& nsp, Value data, long long id = -1, Type type = Type::Event) {
    Packet p;
    p.type = type;
    p.nsp = nsp;
    p.id = id;
    p.has_data = true;
    p.data = std::move(data);
    return p;
}

bool refused(const std::string& bytes, const std::string& why) {
    Packet p;
    std::string error;
    const bool ok = mp::decode(bytes, p, error);
    if (!ok) CHECK(error == why);
    return !ok;
}

// {type, data, nsp} with `data` the msgpack bytes given.
std::string packet_with(const std::string& type, const std::string& data, const std::string& nsp = "a12f") {
    return unhex("83a474797065" + type + "a464617461" + data + "a36e7370" + nsp);
}

}  // namespace

// {type:2, data:["hello",1,1.5,null,<Buffer 01 02>], nsp:"/"}
const char* const kEvent = "83a47479706502a46461746195a568656c6c6f01cb3ff8000000000000c0c4020102a36e7370a12f";
// {type:3, data:[{a:true}], nsp:"/chat", id:7}
const char* const kAck = "84a47479706503a4646174619181a161c3a36e7370a52f63686174a2696407";
// {type:2, data:["n",-1,-33,128,65536,4294967296,-2147483649,0.5,"x"×40], nsp:"/"}
const char* const kNumbers =
    "83a47479706502a46461746199a16effd0dfcc80ce00010000cf0000000100000000d3ffffffff7fffffffcb3fe0000000000000d928"
    "78787878787878787878787878787878787878787878787878787878787878787878787878787878a36e7370a12f";

TEST_CASE("msgpack encode: the npm parser's bytes, byte for byte") {
    CHECK(mp::encode(event("/", Value{"hello", 1, 1.5, nullptr, sio::Binary{"\x01\x02"}})) == unhex(kEvent));
    CHECK(mp::encode(event("/chat", Value(sio::Array{Value(sio::Object{{"a", true}})}), 7, Type::Ack)) == unhex(kAck));
    CHECK(mp::encode(event("/", Value{"n", -1, -33, 128, 65536, 4294967296LL, -2147483649LL, 0.5,
                                      std::string(40, 'x')})) == unhex(kNumbers));
    Packet connect;
    connect.type = Type::Connect;
    CHECK(mp::encode(connect) == unhex("82a47479706500a36e7370a12f"));  // {type:0, nsp:"/"}
    // A packet the JSON encoder would make BINARY_EVENT is still type 2 here.
    CHECK(mp::encode(event("/", Value{"b", sio::Binary{"x"}}, -1, Type::BinaryEvent))[6] == '\x02');
}

TEST_CASE("msgpack decode: the npm parser's packets") {
    Packet p;
    std::string error;
    REQUIRE(mp::decode(unhex(kEvent), p, error));
    CHECK(p.type == Type::Event);
    CHECK(p.nsp == "/");
    CHECK(p.id == -1);
    CHECK(p.data[0].as_string() == "hello");
    CHECK(p.data[2].as_number() == 1.5);
    CHECK(p.data[3].is_null());
    CHECK(p.data[4].is_binary());
    CHECK(p.data[4].as_binary() == "\x01\x02");
    REQUIRE(mp::decode(unhex(kAck), p, error));
    CHECK(p.type == Type::Ack);
    CHECK(p.nsp == "/chat");
    CHECK(p.id == 7);
    CHECK(p.data[0]["a"].as_bool());
    REQUIRE(mp::decode(unhex(kNumbers), p, error));
    CHECK(p.data[1].as_int() == -1);
    CHECK(p.data[2].as_int() == -33);
    CHECK(p.data[3].as_int() == 128);
    CHECK(p.data[5].as_int() == 4294967296LL);
    CHECK(p.data[6].as_int() == -2147483649LL);
    CHECK(p.data[8].as_string() == std::string(40, 'x'));
}

TEST_CASE("msgpack decode: a browser's ArrayBuffer (ext 0), Date (fixext 8) and undefined (fixext 1)") {
    // {type:2, data:["ab", new Uint8Array([1,2]).buffer, new Date(1700000000123), undefined], nsp:"/"}
    Packet p;
    std::string error;
    REQUIRE(mp::decode(unhex("83a47479706502a46461746194a26162c702000102d7000000018bcfe5687bd40000a36e7370a12f"), p,
                       error));
    CHECK(p.data[1].is_binary());
    CHECK(p.data[1].as_binary() == "\x01\x02");
    CHECK(p.data[2].as_string() == "2023-11-14T22:13:20.123Z");  // as JSON.stringify writes a Date
    CHECK(p.data[3].is_null());
}

TEST_CASE("msgpack decode: Dates at JavaScript's limits, and beyond them (an Invalid Date: null, as JSON writes it)") {
    // data: [new Date(8.64e15), new Date(-62198755200000) (year -1), a time of -2^63 (fuzz_msgpack found it: it
    // overflowed), 8.64e15 + 1]; the texts are what Node's toISOString() gives
    Packet p;
    std::string error;
    REQUIRE(mp::decode(unhex("83a47479706502a46461746194d700001eb208c2dc0000d700ffffc76e394a7400"
                             "d7008000000000000000d700001eb208c2dc0001a36e7370a12f"),
                       p, error));
    CHECK(p.data[0].as_string() == "+275760-09-13T00:00:00.000Z");
    CHECK(p.data[1].as_string() == "-000001-01-01T00:00:00.000Z");
    CHECK(p.data[2].is_null());
    CHECK(p.data[3].is_null());
}

TEST_CASE("msgpack decode: what socket.io-msgpack-parser refuses, and what no parser can take") {
    CHECK(refused(packet_with("05", "91a161"), "invalid packet type"));  // no BINARY_EVENT here
    CHECK(refused(packet_with("cb3ff8000000000000", "91a161"), "invalid packet type"));
    CHECK(refused(packet_with("02", "91a161", "01"), "invalid namespace"));
    CHECK(refused(packet_with("02", "a161"), "invalid payload"));                // EVENT data must be an array
    CHECK(refused(packet_with("01", "91a161"), "invalid payload"));              // DISCONNECT takes none
    CHECK(refused(packet_with("02", "91a7636f6e6e656374"), "invalid payload"));  // "connect" is reserved
    CHECK(refused(unhex("84a47479706503a4646174619101a36e7370a12fa26964cb3ff8000000000000"), "invalid packet id"));
    CHECK(refused(unhex("92a47479706501"), "not a map"));
    CHECK(refused(unhex(kEvent).substr(0, 20), "truncated msgpack"));
    CHECK(refused(unhex(kEvent) + "c0", "trailing bytes after the packet"));
    CHECK(refused(unhex("8101c0"), "a map key that is not a string"));
    CHECK(refused(packet_with("02", "91c70101aa"), "unknown msgpack extension"));  // ext type 1
    CHECK(refused(packet_with("02", "91a2c328"), "invalid UTF-8 in a string"));
    CHECK(refused(packet_with("02", "91c1"), "unknown msgpack type"));
    // a length far past the bytes there are is refused before anything is allocated
    CHECK(refused(packet_with("02", "dd7fffffff"), "truncated msgpack"));
    CHECK(refused(packet_with("02", "df7fffffff"), "truncated msgpack"));
    std::string deep = "91a161";
    for (int i = 0; i < 200; ++i) deep = "91" + deep;
    CHECK(refused(packet_with("02", deep), "nested too deep"));
}

TEST_CASE("msgpack: what it encodes it decodes to the same") {
    Value data{"round", -0.5, 1e300, Value(sio::Object{{"k", Value{sio::Binary{std::string(300, '\x07')}}}}),
               std::string(70000, 'y')};
    Packet back;
    std::string error;
    REQUIRE(mp::decode(mp::encode(event("/x", data, 123456789)), back, error));
    CHECK(back.nsp == "/x");
    CHECK(back.id == 123456789);
    CHECK(back.data.to_json() == data.to_json());
    CHECK(back.data[3]["k"][0].as_binary() == std::string(300, '\x07'));
}

TEST_CASE("parsers: a client's decoder by opt.parser; JSON text is an error for the msgpack one") {
    auto decoder = sio::msgpack_parser()->decoder(1000);
    Packet p;
    std::string error;
    sio::eio::Packet text;
    text.data = "0";
    CHECK(decoder->add(text, p, error) == sio::Parser::Decoder::Result::Error);
    sio::eio::Packet bin;
    bin.binary = true;
    bin.data = unhex(kAck);
    CHECK(decoder->add(bin, p, error) == sio::Parser::Decoder::Result::Packet);
    CHECK(p.id == 7);
    sio::Options opt;
    opt.parser = sio::msgpack_parser();
    auto parts = sio::detail::to_outgoing(opt, event("/", Value{"hi"}));
    REQUIRE(parts.size() == 1);
    CHECK(parts[0]->packet.binary);
}
