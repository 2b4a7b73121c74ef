// Engine.IO v4 packets and payloads (engine.io-protocol v4, "Packet encoding"), the polling response body, and the
// WebSocket frame an outgoing packet is sent in.
#include "sioserver.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using sio::eio::Packet;
using sio::eio::PacketType;

namespace {

Packet make(PacketType type, std::string data = {}, bool binary = false) {
    Packet p;
    p.type = type;
    p.data = std::move(data);
    p.binary = binary;
    return p;
}

bool decodes(std::string_view in) {
    Packet p;
    return sio::eio::decode_packet(in, p);
}

struct Case {
    PacketType type;
    const char* data;
    const char* wire;
};

// Every type without data and with data, as the reference encoder writes them.
const Case kCases[] = {
    {PacketType::Open, "", "0"},
    {PacketType::Open, "{\"sid\":\"lv_VI97HAXpY6yYWAAAC\",\"pingInterval\":25000}",
     "0{\"sid\":\"lv_VI97HAXpY6yYWAAAC\",\"pingInterval\":25000}"},
    {PacketType::Close, "", "1"},
    {PacketType::Close, "x", "1x"},
    {PacketType::Ping, "", "2"},
    {PacketType::Ping, "probe", "2probe"},
    {PacketType::Pong, "", "3"},
    {PacketType::Pong, "probe", "3probe"},
    {PacketType::Message, "", "4"},
    {PacketType::Message, "hello \xE2\x82\xAC", "4hello \xE2\x82\xAC"},
    {PacketType::Message,
     "4\x1e"
     "b",
     "44\x1e"
     "b"},  // the encoder does not escape
    {PacketType::Upgrade, "", "5"},
    {PacketType::Upgrade, "data", "5data"},
    {PacketType::Noop, "", "6"},
    {PacketType::Noop, "z", "6z"},
};

}  // namespace

TEST_CASE("eio: encode every packet type 0..6 with and without data") {
    for (const auto& c : kCases) {
        CAPTURE(c.wire);
        CHECK(sio::eio::encode_packet(make(c.type, c.data)) == c.wire);
    }
}

TEST_CASE("eio: decode every packet type 0..6 with and without data") {
    for (const auto& c : kCases) {
        CAPTURE(c.wire);
        Packet p;
        p.binary = true;  // must be reset by the decoder
        p.data = "stale";
        REQUIRE(sio::eio::decode_packet(c.wire, p));
        CHECK(p.type == c.type);
        CHECK(p.data == c.data);
        CHECK_FALSE(p.binary);
    }
}

TEST_CASE("eio: packet type names") {
    CHECK(std::string(sio::eio::packet_type_name(PacketType::Open)) == "open");
    CHECK(std::string(sio::eio::packet_type_name(PacketType::Close)) == "close");
    CHECK(std::string(sio::eio::packet_type_name(PacketType::Ping)) == "ping");
    CHECK(std::string(sio::eio::packet_type_name(PacketType::Pong)) == "pong");
    CHECK(std::string(sio::eio::packet_type_name(PacketType::Message)) == "message");
    CHECK(std::string(sio::eio::packet_type_name(PacketType::Upgrade)) == "upgrade");
    CHECK(std::string(sio::eio::packet_type_name(PacketType::Noop)) == "noop");
}

TEST_CASE("eio: a binary message encodes as 'b' + base64 of its bytes (no type digit)") {
    CHECK(sio::eio::encode_packet(make(PacketType::Message, "\x01\x02\x03\x04", true)) == "bAQIDBA==");
    CHECK(sio::eio::encode_packet(make(PacketType::Message, std::string("\0\xff", 2), true)) == "bAP8=");
    CHECK(sio::eio::encode_packet(make(PacketType::Message, "", true)) == "b");
}

TEST_CASE("eio: 'b' + base64 decodes to a binary message with the raw bytes") {
    Packet p;
    REQUIRE(sio::eio::decode_packet("bAQIDBA==", p));
    CHECK(p.type == PacketType::Message);
    CHECK(p.binary);
    CHECK(p.data == "\x01\x02\x03\x04");

    REQUIRE(sio::eio::decode_packet("bAP8=", p));
    CHECK(p.binary);
    CHECK(p.data == std::string("\0\xff", 2));

    REQUIRE(sio::eio::decode_packet("b", p));  // an empty buffer
    CHECK(p.binary);
    CHECK(p.data.empty());
}

TEST_CASE("eio: binary messages with every byte value round trip through the text form") {
    std::string all;
    for (int i = 0; i < 256; ++i) all += char(i);
    std::string wire = sio::eio::encode_packet(make(PacketType::Message, all, true));
    CHECK(wire.size() == 1 + 344u);
    Packet p;
    REQUIRE(sio::eio::decode_packet(wire, p));
    CHECK(p.binary);
    CHECK(p.data == all);
}

TEST_CASE("eio: decode rejects an empty packet") { CHECK_FALSE(decodes("")); }

TEST_CASE("eio: decode rejects the unknown types '7', '8' and '9'") {
    CHECK_FALSE(decodes("7"));
    CHECK_FALSE(decodes("7hello"));
    CHECK_FALSE(decodes("8"));
    CHECK_FALSE(decodes("9"));
    CHECK_FALSE(decodes("9x"));
}

TEST_CASE("eio: decode rejects a first character that is neither a digit 0..6 nor 'b'") {
    CHECK_FALSE(decodes("a"));
    CHECK_FALSE(decodes("B"));  // only lower-case 'b' marks binary
    CHECK_FALSE(decodes("x4hello"));
    CHECK_FALSE(decodes("/"));  // just below '0'
    CHECK_FALSE(decodes(":"));  // just above '9'
    CHECK_FALSE(decodes(" 4"));
    CHECK_FALSE(decodes("\x1e"));
}

TEST_CASE("eio: decode rejects 'b' followed by bad base64") {
    CHECK_FALSE(decodes("bZg="));       // length not a multiple of 4
    CHECK_FALSE(decodes("b!!!!"));      // characters outside the alphabet
    CHECK_FALSE(decodes("bZg==Zm9v"));  // '=' in the middle
    CHECK_FALSE(decodes("bZg=A"));      // '=' before data
    CHECK_FALSE(decodes("b4hello"));    // a text packet wrongly prefixed
}

TEST_CASE("eio: payload joins packets with the record separator \\x1e, text and binary mixed") {
    std::vector<Packet> packets = {
        make(PacketType::Message, "hello"),
        make(PacketType::Message, "\x01\x02\x03\x04", true),
        make(PacketType::Ping),
        make(PacketType::Message, "\xE2\x82\xAC"),
    };
    CHECK(sio::eio::encode_payload(packets) ==
          "4hello\x1e"
          "bAQIDBA==\x1e"
          "2\x1e"
          "4\xE2\x82\xAC");
}

TEST_CASE("eio: payload with text and binary packets round trips") {
    std::vector<Packet> packets = {
        make(PacketType::Message, "first"),
        make(PacketType::Message, std::string("\0\x01\xfe\xff", 4), true),
        make(PacketType::Message, ""),
        make(PacketType::Message, "", true),
        make(PacketType::Close),
        make(PacketType::Noop),
    };
    std::string wire = sio::eio::encode_payload(packets);
    std::vector<Packet> back;
    REQUIRE(sio::eio::decode_payload(wire, back));
    REQUIRE(back.size() == packets.size());
    for (size_t i = 0; i < packets.size(); ++i) {
        CAPTURE(i);
        CHECK(back[i].type == packets[i].type);
        CHECK(back[i].binary == packets[i].binary);
        CHECK(back[i].data == packets[i].data);
    }
}

TEST_CASE("eio: decode_payload of a reference client body (4hello + binary)") {
    // What engine.io-client v6 POSTs for socket.send("hello"); socket.send(new Uint8Array([1,2,3,4])).
    std::vector<Packet> out = {make(PacketType::Noop)};  // must be cleared
    REQUIRE(
        sio::eio::decode_payload("4hello\x1e"
                                 "bAQIDBA==",
                                 out));
    REQUIRE(out.size() == 2u);
    CHECK(out[0].type == PacketType::Message);
    CHECK_FALSE(out[0].binary);
    CHECK(out[0].data == "hello");
    CHECK(out[1].type == PacketType::Message);
    CHECK(out[1].binary);
    CHECK(out[1].data == "\x01\x02\x03\x04");
}

TEST_CASE("eio: a payload of a single packet has no separator") {
    std::vector<Packet> one = {make(PacketType::Message, "only")};
    CHECK(sio::eio::encode_payload(one) == "4only");
    std::vector<Packet> out;
    REQUIRE(sio::eio::decode_payload("4only", out));
    REQUIRE(out.size() == 1u);
    CHECK(out[0].type == PacketType::Message);
    CHECK(out[0].data == "only");
    REQUIRE(sio::eio::decode_payload("2", out));
    REQUIRE(out.size() == 1u);
    CHECK(out[0].type == PacketType::Ping);
}

TEST_CASE("eio: an empty record in a payload is an error (between, before or after separators)") {
    std::vector<Packet> out;
    CHECK_FALSE(
        sio::eio::decode_payload("4a\x1e\x1e"
                                 "4b",
                                 out));
    CHECK_FALSE(
        sio::eio::decode_payload("\x1e"
                                 "4a",
                                 out));
    CHECK_FALSE(sio::eio::decode_payload("4a\x1e", out));
    CHECK_FALSE(sio::eio::decode_payload("\x1e", out));
    CHECK_FALSE(sio::eio::decode_payload("", out));
}

TEST_CASE("eio: one bad packet makes the whole payload an error") {
    std::vector<Packet> out;
    CHECK_FALSE(
        sio::eio::decode_payload("4a\x1e"
                                 "7b",
                                 out));
    CHECK_FALSE(
        sio::eio::decode_payload("4a\x1e"
                                 "b!!!!\x1e"
                                 "4c",
                                 out));
}

TEST_CASE("eio: encoding an empty list of packets gives an empty payload") {
    CHECK(sio::eio::encode_payload({}).empty());
}

TEST_CASE("eio polling: encode_response joins make_outgoing packets like a payload") {
    using sio::eio::make_outgoing;
    std::vector<sio::eio::OutgoingPtr> out = {
        make_outgoing(PacketType::Message, "hello"),
        make_outgoing(PacketType::Message, "\x01\x02", true),
        make_outgoing(PacketType::Ping),
        make_outgoing(PacketType::Noop),
    };
    CHECK(sio::eio::polling::encode_response(out) ==
          "4hello\x1e"
          "bAQI=\x1e"
          "2\x1e"
          "6");

    std::vector<Packet> back;
    REQUIRE(sio::eio::decode_payload(sio::eio::polling::encode_response(out), back));
    REQUIRE(back.size() == 4u);
    CHECK(back[1].binary);
    CHECK(back[1].data == "\x01\x02");
    CHECK(back[3].type == PacketType::Noop);
}

TEST_CASE("eio polling: encode_response of one packet and of none") {
    using sio::eio::make_outgoing;
    CHECK(sio::eio::polling::encode_response({make_outgoing(PacketType::Close)}) == "1");
    CHECK(sio::eio::polling::encode_response({}).empty());
}

TEST_CASE("eio polling: a binary Content-Type is refused, text is accepted") {
    CHECK_FALSE(sio::eio::polling::acceptable_content_type("application/octet-stream"));
    CHECK(sio::eio::polling::acceptable_content_type("text/plain;charset=UTF-8"));
    CHECK(sio::eio::polling::acceptable_content_type(""));
}

TEST_CASE("eio: Outgoing text packet is one unmasked FIN text frame carrying \"4\" + data") {
    auto o = sio::eio::make_outgoing(PacketType::Message, "hello");
    CHECK(o->packet.type == PacketType::Message);
    CHECK(o->packet.data == "hello");
    CHECK(o->ws_frame == std::string("\x81\x06"
                                     "4hello"));

    auto ping = sio::eio::make_outgoing(PacketType::Ping, "probe");
    CHECK(ping->ws_frame == std::string("\x81\x06"
                                        "2probe"));

    auto open = sio::eio::make_outgoing(PacketType::Open);
    CHECK(open->ws_frame == std::string("\x81\x01"
                                        "0"));
}

TEST_CASE("eio: Outgoing binary message is one binary frame carrying the raw bytes (no 'b', no base64)") {
    auto o = sio::eio::make_outgoing(PacketType::Message, std::string("\x01\x02\x00\xff", 4), true);
    CHECK(o->ws_frame == std::string("\x82\x04\x01\x02\x00\xff", 6));

    auto empty = sio::eio::make_outgoing(PacketType::Message, "", true);
    CHECK(empty->ws_frame == std::string("\x82\x00", 2));
}

TEST_CASE("eio: Outgoing frames parse back (as a client would read them) to the packet") {
    std::string big(300, 'x');
    auto text = sio::eio::make_outgoing(PacketType::Message, big);
    auto bin = sio::eio::make_outgoing(PacketType::Message, big, true);
    REQUIRE(text->ws_frame.size() == 4 + 301u);  // 16-bit length: "4" + 300 bytes
    CHECK(uint8_t(text->ws_frame[1]) == 126);

    sio::ws::FrameParser parser(1 << 20, /*require_mask=*/false);
    parser.feed(text->ws_frame.data(), text->ws_frame.size());
    parser.feed(bin->ws_frame.data(), bin->ws_frame.size());
    sio::ws::Message m;
    REQUIRE(parser.next(m) == sio::ws::FrameParser::Result::Message);
    CHECK(m.opcode == sio::ws::Opcode::Text);
    CHECK(m.data == "4" + big);
    REQUIRE(parser.next(m) == sio::ws::FrameParser::Result::Message);
    CHECK(m.opcode == sio::ws::Opcode::Binary);
    CHECK(m.data == big);
    CHECK(parser.next(m) == sio::ws::FrameParser::Result::NeedMore);
}
