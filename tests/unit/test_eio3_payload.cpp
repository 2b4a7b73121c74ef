// Engine.IO v3 payloads (allowEIO3): "<length>:<packet>" records whose length counts UTF-16 code units, binary as
// "b4" + base64 in text, the XHR2 binary payload form, and malformed payloads refused without throwing.
#include "sioserver.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using sio::eio::Packet;
using sio::eio::PacketType;
namespace v3 = sio::eio::v3;

namespace {

Packet make(PacketType type, std::string data = {}, bool binary = false) {
    Packet p;
    p.type = type;
    p.data = std::move(data);
    p.binary = binary;
    return p;
}

bool decodes(std::string_view in) {
    std::vector<Packet> out;
    return v3::decode_payload(in, out);
}

}  // namespace

TEST_CASE("eio3: utf16_length counts code points, two past U+FFFF") {
    CHECK(v3::utf16_length("") == 0);
    CHECK(v3::utf16_length("abc") == 3);
    CHECK(v3::utf16_length("\xC3\xA9") == 1);          // é: 2 bytes, 1 unit
    CHECK(v3::utf16_length("\xE2\x82\xAC") == 1);      // €: 3 bytes, 1 unit
    CHECK(v3::utf16_length("\xF0\x9F\x98\x80") == 2);  // 😀: 4 bytes, a surrogate pair
    CHECK(v3::utf16_length("4\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80") == 5);
}

TEST_CASE("eio3: encode_payload writes length-prefixed records as the reference does") {
    CHECK(v3::encode_payload({}) == "0:");
    CHECK(v3::encode_payload({make(PacketType::Message, "hello")}) == "6:4hello");
    CHECK(v3::encode_payload({make(PacketType::Pong), make(PacketType::Message, "42[\"a\"]")}) == "1:38:442[\"a\"]");
    // The length is in UTF-16 units, not bytes: "4é€😀" is 5 units and 10 bytes.
    CHECK(v3::encode_payload({make(PacketType::Message, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80")}) ==
          "5:4\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
    // Binary in a text payload keeps its type: "b4" + base64.
    CHECK(v3::encode_payload({make(PacketType::Message, std::string("\x00\x01\xff", 3), true)}) == "6:b4AAH/");
}

TEST_CASE("eio3: decode_payload reverses encode_payload, multi-byte UTF-8 and binary included") {
    const std::vector<Packet> packets = {make(PacketType::Ping), make(PacketType::Message, "\xF0\x9F\x98\x80 x"),
                                         make(PacketType::Message, std::string("\x00\xfe", 2), true),
                                         make(PacketType::Message, "42[\"\xE2\x82\xAC\"]")};
    std::vector<Packet> out;
    REQUIRE(v3::decode_payload(v3::encode_payload(packets), out));
    REQUIRE(out.size() == packets.size());
    for (size_t i = 0; i < out.size(); ++i) {
        CAPTURE(i);
        CHECK(out[i].type == packets[i].type);
        CHECK(out[i].binary == packets[i].binary);
        CHECK(out[i].data == packets[i].data);
    }
}

TEST_CASE("eio3: decode_payload skips empty records and reads a record that contains ':'") {
    std::vector<Packet> out;
    REQUIRE(v3::decode_payload("0:2:400:9:42[\"a:b\"]", out));
    REQUIRE(out.size() == 2);
    CHECK(out[0].data == "0");
    CHECK(out[1].data == "2[\"a:b\"]");
}

TEST_CASE("eio3: malformed payloads are refused") {
    CHECK_FALSE(decodes(""));       // the reference: a parser error
    CHECK_FALSE(decodes(":"));      // no length
    CHECK_FALSE(decodes("x:2"));    // not a number
    CHECK_FALSE(decodes("5:42"));   // cut short
    CHECK_FALSE(decodes("1:"));     // cut short
    CHECK_FALSE(decodes("3:abc"));  // unknown packet type
    CHECK_FALSE(
        decodes("1:2"
                "\xC3\xA9"));                        // text after the last record, without a length
    CHECK_FALSE(decodes("1:\xF0\x9F\x98\x80"));      // the length splits a surrogate pair
    CHECK_FALSE(decodes("2:4\xC3"));                 // invalid UTF-8
    CHECK_FALSE(decodes("2:7x"));                    // type 7
    CHECK_FALSE(decodes("3:b4!"));                   // bad base64
    CHECK_FALSE(decodes("4:b2AA"));                  // binary that is not a message
    CHECK_FALSE(decodes("99999999999999999999:4"));  // a length too long to be one
    CHECK_FALSE(decodes("2"));                       // no colon at all
}

TEST_CASE("eio3: the binary payload form, both ways") {
    const std::vector<Packet> packets = {make(PacketType::Message, "451-[\"e\",{\"_placeholder\":true,\"num\":0}]"),
                                         make(PacketType::Message, std::string("\x09\x00\xff", 3), true),
                                         make(PacketType::Message, "\xE2\x82\xAC")};
    const std::string wire = v3::encode_payload(packets, true);
    // text: 0, the byte length's digits as bytes, 255, the UTF-8; binary: 1, digits, 255, the type byte, the bytes
    const std::string text = "4" + packets[0].data;  // 40 bytes
    REQUIRE(text.size() == 40);
    CHECK(wire == std::string("\x00\x04\x00\xff", 4) + text + std::string("\x01\x04\xff\x04\x09\x00\xff", 7) +
                      std::string("\x00\x04\xff"
                                  "4\xE2\x82\xAC",
                                  7));
    std::vector<Packet> out;
    REQUIRE(v3::decode_binary_payload(wire, out));
    REQUIRE(out.size() == 3);
    for (size_t i = 0; i < out.size(); ++i) {
        CAPTURE(i);
        CHECK(out[i].binary == packets[i].binary);
        CHECK(out[i].data == packets[i].data);
    }
}

TEST_CASE("eio3: malformed binary payloads are refused") {
    std::vector<Packet> out;
    auto bad = [&](std::string in) { return !v3::decode_binary_payload(in, out); };
    CHECK(
        bad(std::string("\x02\x01\xff"
                        "4",
                        4)));  // neither text nor binary
    CHECK(
        bad(std::string("\x00\xff"
                        "4",
                        3)));  // no length digits
    CHECK(
        bad(std::string("\x00\x0a\xff"
                        "4",
                        4)));  // a "digit" past 9
    CHECK(
        bad(std::string("\x00\x05\xff"
                        "4",
                        4)));                            // cut short
    CHECK(bad(std::string("\x00\x01", 2)));              // no 255
    CHECK(bad(std::string("\x01\x02\xff\x02\x00", 5)));  // binary that is not a message
    CHECK(
        bad(std::string("\x00\x02\xff"
                        "4\xff",
                        5)));  // text that is not UTF-8
    CHECK(
        bad(std::string("\x00\x01\xff"
                        "9",
                        4)));                   // unknown packet type
    CHECK(v3::decode_binary_payload("", out));  // empty: no packets, as in the reference
    CHECK(out.empty());
}

TEST_CASE("eio3: decode_packet takes \"b4\" + base64 and v4 text packets") {
    Packet p;
    REQUIRE(v3::decode_packet("b4AAH/", p));
    CHECK(p.binary);
    CHECK(p.type == PacketType::Message);
    CHECK(p.data == std::string("\x00\x01\xff", 3));
    REQUIRE(v3::decode_packet("2probe", p));
    CHECK(p.type == PacketType::Ping);
    CHECK(p.data == "probe");
    CHECK_FALSE(p.binary);
    CHECK_FALSE(v3::decode_packet("bAAH/", p));  // v4's "b" form has no type
    CHECK(v3::encode_packet(make(PacketType::Message, "ab", true)) == "b4YWI=");
}
