// The per-revision codecs (layer 2h): eio::v4::codec (Engine.IO v4, Socket.IO v5) and eio::v3::codec (Engine.IO v3,
// Socket.IO v4, allowEIO3). Each frames and unframes a polling payload, makes and decodes the WebSocket forms of a
// binary message, says which way the heartbeat goes and how long it may take, and gives Socket.IO's CONNECT forms.
#include "sioserver.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using sio::eio::Codec;
using sio::eio::Packet;
using sio::eio::PacketType;
namespace ws = sio::ws;

namespace {

const Codec& v4 = sio::eio::v4::codec;
const Codec& v3 = sio::eio::v3::codec;

Packet make(PacketType type, std::string data = {}, bool binary = false) {
    Packet p;
    p.type = type;
    p.data = std::move(data);
    p.binary = binary;
    return p;
}

const Packet& itself(const Packet& p) { return p; }

std::string frame(const Codec& codec, const std::vector<Packet>& packets, bool b64, bool& binary) {
    return codec.frame_payload(packets, itself, b64, binary);
}

ws::Message message(ws::Opcode opcode, std::string data) {
    ws::Message m;
    m.opcode = opcode;
    m.data = std::move(data);
    return m;
}

std::string drawn() { return "drawn"; }

}  // namespace

// A constant table each: chosen once per session, never built per call.
static_assert(sio::eio::v4::codec.revision == 4);
static_assert(sio::eio::v3::codec.revision == 3);

TEST_CASE("codec v4: a polling payload is text records joined by \\x1e, binary as \"b\" + base64") {
    const std::vector<Packet> packets = {make(PacketType::Message, "hello"),
                                         make(PacketType::Message, "\x01\x02", true), make(PacketType::Ping)};
    for (bool b64 : {false, true}) {
        CAPTURE(b64);
        bool binary = true;
        CHECK(frame(v4, packets, b64, binary) ==
              "4hello\x1e"
              "bAQI=\x1e"
              "2");
        CHECK_FALSE(binary);  // v4 has no binary payload form
    }
    std::vector<Packet> out;
    REQUIRE(
        v4.unframe_payload("4hello\x1e"
                           "bAQI=\x1e"
                           "2",
                           false, out));
    REQUIRE(out.size() == 3u);
    CHECK(out[0].data == "hello");
    CHECK(out[1].binary);
    CHECK(out[1].data == "\x01\x02");
    CHECK(out[2].type == PacketType::Ping);
    CHECK_FALSE(v4.binary_payloads);
    CHECK_FALSE(v4.unframe_payload(std::string("\x00\x01\xff"
                                               "2",
                                               4),
                                   true, out));                 // a binary body: none in v4
    CHECK_FALSE(v4.unframe_payload("8:4abcdefg", false, out));  // a v3 record: "8" is no v4 packet type
    CHECK(v3.unframe_payload("8:4abcdefg", false, out));
}

TEST_CASE("codec v3: a polling payload is length-prefixed records, or the binary form when the client can take it") {
    const std::vector<Packet> text_only = {make(PacketType::Message, "h\xC3\xA9"), make(PacketType::Pong)};
    const std::vector<Packet> with_binary = {make(PacketType::Message, "hi"),
                                             make(PacketType::Message, std::string("\x00\xff", 2), true)};
    bool binary = true;
    CHECK(frame(v3, text_only, false, binary) ==
          "3:4h\xC3\xA9"
          "1:3");                                                    // the length counts UTF-16 code units
    CHECK_FALSE(binary);                                             // no binary packet: text
    CHECK(frame(v3, with_binary, true, binary) == "3:4hi6:b4AP8=");  // b64: binary as "b4" + base64 text
    CHECK_FALSE(binary);
    const std::string wire = frame(v3, with_binary, false, binary);
    CHECK(binary);
    CHECK(wire == sio::eio::v3::encode_payload(with_binary, true));
    CHECK(wire == std::string("\x00\x03\xff"
                              "4hi"
                              "\x01\x03\xff\x04\x00\xff",
                              12));

    std::vector<Packet> out;
    REQUIRE(v3.binary_payloads);
    REQUIRE(v3.unframe_payload(wire, true, out));
    REQUIRE(out.size() == 2u);
    CHECK(out[0].data == "hi");
    CHECK(out[1].binary);
    CHECK(out[1].data == std::string("\x00\xff", 2));
    REQUIRE(v3.unframe_payload("3:4hi6:b4AP8=", false, out));
    REQUIRE(out.size() == 2u);
    CHECK(out[1].binary);
    CHECK(out[1].data == std::string("\x00\xff", 2));
    CHECK_FALSE(
        v3.unframe_payload("4hi\x1e"
                           "2",
                           false, out));                  // v4's separator is not v3's framing
    CHECK_FALSE(v3.unframe_payload("3:4hi", true, out));  // text where the binary form was announced
}

TEST_CASE("codec: the WebSocket frame of a binary message") {
    const Packet bytes = make(PacketType::Message, std::string("\x01\x00\x02", 3), true);
    // v4: the bytes alone, the very frame an Outgoing makes once for every recipient.
    CHECK(v4.shares_binary_frames);
    CHECK(v4.binary_frame(bytes, false) == ws::encode_frame(ws::Opcode::Binary, bytes.data));
    CHECK(sio::eio::Outgoing(bytes).ws_frame == v4.binary_frame(bytes, false));
    CHECK(v4.binary_frame(bytes, true) == ws::encode_frame(ws::Opcode::Text, "bAQAC"));  // forceBase64
    // v3: a frame per client, led by the type byte, or "b4" + base64 text for a client that asked for b64.
    CHECK_FALSE(v3.shares_binary_frames);
    CHECK(v3.binary_frame(bytes, false) == ws::encode_frame(ws::Opcode::Binary, std::string("\x04\x01\x00\x02", 4)));
    CHECK(v3.binary_frame(bytes, true) == ws::encode_frame(ws::Opcode::Text, "b4AQAC"));
}

TEST_CASE("codec v4: decoding WebSocket messages") {
    Packet p;
    auto m = message(ws::Opcode::Binary, std::string("\x04\x01", 2));
    REQUIRE(v4.decode_message(m, p));
    CHECK(p.binary);
    CHECK(p.type == PacketType::Message);
    CHECK(p.data == std::string("\x04\x01", 2));  // the bytes as they are: no type byte
    m = message(ws::Opcode::Text, "4hi");
    REQUIRE(v4.decode_message(m, p));
    CHECK_FALSE(p.binary);
    CHECK(p.data == "hi");
    m = message(ws::Opcode::Text, "bAQI=");  // "b" + base64 too (forceBase64), as on polling
    REQUIRE(v4.decode_message(m, p));
    CHECK(p.binary);
    CHECK(p.type == PacketType::Message);
    CHECK(p.data == std::string("\x01\x02", 2));
    m = message(ws::Opcode::Text, "b!!!");
    CHECK_FALSE(v4.decode_message(m, p));
    CHECK(m.data == "b!!!");  // a failed decode leaves the message for the error's description
    m = message(ws::Opcode::Text, "");
    CHECK_FALSE(v4.decode_message(m, p));
    m = message(ws::Opcode::Text, "9");
    CHECK_FALSE(v4.decode_message(m, p));
}

TEST_CASE("codec v3: decoding WebSocket messages") {
    Packet p;
    auto m = message(ws::Opcode::Binary, std::string("\x04\x01\x02", 3));
    REQUIRE(v3.decode_message(m, p));
    CHECK(p.binary);
    CHECK(p.data == std::string("\x01\x02", 2));  // the type byte taken off
    m = message(ws::Opcode::Binary, std::string("\x04", 1));
    REQUIRE(v3.decode_message(m, p));
    CHECK(p.data.empty());
    m = message(ws::Opcode::Binary, std::string("\x02\x01", 2));  // binary that is not a message
    CHECK_FALSE(v3.decode_message(m, p));
    CHECK(m.data == std::string("\x02\x01", 2));
    m = message(ws::Opcode::Binary, "");
    CHECK_FALSE(v3.decode_message(m, p));
    m = message(ws::Opcode::Text, "b4AQI=");  // a b64 client's binary message
    REQUIRE(v3.decode_message(m, p));
    CHECK(p.binary);
    CHECK(p.data == "\x01\x02");
    m = message(ws::Opcode::Text, "bAQI=");  // v4's form has no type
    CHECK_FALSE(v3.decode_message(m, p));
    m = message(ws::Opcode::Text, "2probe");
    REQUIRE(v3.decode_message(m, p));
    CHECK(p.type == PacketType::Ping);
    CHECK(p.data == "probe");
}

TEST_CASE("codec: which way the heartbeat goes, and how long it may take") {
    CHECK(v4.server_pings);
    CHECK(v4.client_heartbeat() == PacketType::Pong);
    CHECK(v4.heartbeat_timeout(25000, 20000) == 20000);  // the pong, from our ping
    CHECK_FALSE(v3.server_pings);
    CHECK(v3.client_heartbeat() == PacketType::Ping);
    CHECK(v3.heartbeat_timeout(25000, 20000) == 45000);  // the next ping, from the last one
}

TEST_CASE("codec: Socket.IO's CONNECT forms") {
    // v4 (Socket.IO v5): "/" waits for the client's CONNECT, whose data is the auth; the answer carries the id.
    CHECK_FALSE(v4.implicit_main_connect);
    CHECK_FALSE(v4.auth_in_namespace_query);
    CHECK(v4.sid_in_connect_answer);
    CHECK(v4.socket_id("/admin", "SID", &drawn) == "drawn");
    CHECK(v4.socket_id("/", "SID", &drawn) == "drawn");
    CHECK(v4.connect_error_data("no", sio::Value()).to_json() == R"({"message":"no"})");
    CHECK(v4.connect_error_data("no", sio::Object{{"code", 7}}).to_json() == R"({"data":{"code":7},"message":"no"})");
    // v3 (Socket.IO v4): "/" is joined at once, the query is the auth, the id comes from the Engine.IO sid.
    CHECK(v3.implicit_main_connect);
    CHECK(v3.auth_in_namespace_query);
    CHECK_FALSE(v3.sid_in_connect_answer);
    CHECK(v3.socket_id("/admin", "SID", &drawn) == "/admin#SID");
    CHECK(v3.socket_id("/", "SID", &drawn) == "SID");
    CHECK(v3.connect_error_data("no", sio::Value()).to_json() == R"("no")");
    CHECK(v3.connect_error_data("no", sio::Object{{"code", 7}}).to_json() == R"({"code":7})");
}
