// Socket.IO v5 packets (socket.io-protocol v5, "Packet encoding"):
//   <type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]
// encode, decode, reconstruct (binary attachments), valid_payload, reserved event names, describe; and the emit
// helpers of layer 5: collect_args, event_packet, to_outgoing.
#include "sioserver.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using sio::Value;
using sio::packet::Packet;
using sio::packet::Type;

namespace {

const char* const kPlaceholder0 = "{\"_placeholder\":true,\"num\":0}";

Packet make(Type type, std::string nsp = "/", long long id = -1) {
    Packet p;
    p.type = type;
    p.nsp = std::move(nsp);
    p.id = id;
    return p;
}

Packet make(Type type, std::string nsp, long long id, Value data) {
    Packet p = make(type, std::move(nsp), id);
    p.has_data = true;
    p.data = std::move(data);
    return p;
}

struct Decoded {
    bool ok = false;
    Packet packet;
    size_t attachments = 0;
    std::string error;
};

Decoded decode(std::string_view in) {
    Decoded d;
    d.attachments = 12345;  // must be overwritten
    d.ok = sio::packet::decode(in, d.packet, d.attachments, d.error);
    return d;
}

// The input as a failure message shows it: long ones cut, with their length.
std::string short_form(std::string_view in) {
    if (in.size() <= 60) return std::string(in);
    return std::string(in.substr(0, 40)) + "... (" + std::to_string(in.size()) + " bytes)";
}

// Decodes, expecting a rejection with a non-empty error.
void check_rejected(std::string_view in) {
    const std::string shown = short_form(in);
    CAPTURE(shown);
    Decoded d = decode(in);
    CHECK_FALSE(d.ok);
    CHECK_FALSE(d.error.empty());
}

std::string bin(std::initializer_list<int> list) {
    std::string s;
    for (int b : list) s += char(b);
    return s;
}

}  // namespace

// ---- encode: the examples of the specification ----------------------------------------------------------------------

TEST_CASE("packet encode: CONNECT to the main namespace is `0`") {
    auto e = sio::packet::encode(make(Type::Connect));
    CHECK(e.text == "0");
    CHECK(e.attachments.empty());
}

TEST_CASE("packet encode: CONNECT with auth `0{\"token\":\"123\"}`") {
    auto e = sio::packet::encode(make(Type::Connect, "/", -1, sio::Object{{"token", "123"}}));
    CHECK(e.text == "0{\"token\":\"123\"}");
    CHECK(e.attachments.empty());
}

TEST_CASE("packet encode: CONNECT answer on /admin `0/admin,{\"sid\":...}`") {
    auto e = sio::packet::encode(make(Type::Connect, "/admin", -1, sio::Object{{"sid", "oSO0OpakMV_3jnilAAAA"}}));
    CHECK(e.text == "0/admin,{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}");
}

TEST_CASE("packet encode: DISCONNECT from /admin `1/admin,`") {
    CHECK(sio::packet::encode(make(Type::Disconnect, "/admin")).text == "1/admin,");
    CHECK(sio::packet::encode(make(Type::Disconnect)).text == "1");
}

TEST_CASE("packet encode: EVENT `2[\"foo\"]`") {
    auto e = sio::packet::encode(make(Type::Event, "/", -1, Value{"foo"}));
    CHECK(e.text == "2[\"foo\"]");
    CHECK(e.attachments.empty());
}

TEST_CASE("packet encode: EVENT on /admin with ack id 12 `2/admin,12[\"bar\"]`") {
    CHECK(sio::packet::encode(make(Type::Event, "/admin", 12, Value{"bar"})).text == "2/admin,12[\"bar\"]");
    // ack id 0 is an ack id too
    CHECK(sio::packet::encode(make(Type::Event, "/", 0, Value{"x"})).text == "20[\"x\"]");
}

TEST_CASE("packet encode: ACK on /admin with id 13 `3/admin,13[\"bar\"]`") {
    CHECK(sio::packet::encode(make(Type::Ack, "/admin", 13, Value{"bar"})).text == "3/admin,13[\"bar\"]");
    CHECK(sio::packet::encode(make(Type::Ack, "/", 7, Value(sio::Array{}))).text == "37[]");
}

TEST_CASE("packet encode: CONNECT_ERROR `4{\"message\":\"Not authorized\"}`") {
    CHECK(sio::packet::encode(make(Type::ConnectError, "/", -1, sio::Object{{"message", "Not authorized"}})).text ==
          "4{\"message\":\"Not authorized\"}");
    CHECK(sio::packet::encode(make(Type::ConnectError, "/admin", -1, sio::Object{{"message", "no"}})).text ==
          "4/admin,{\"message\":\"no\"}");
}

TEST_CASE("packet encode: BINARY_EVENT `51-[\"baz\",{\"_placeholder\":true,\"num\":0}]` with one attachment") {
    const std::string bytes = bin({1, 2, 3, 4});
    // Given as an EVENT: a buffer in the data makes it a BINARY_EVENT.
    auto e = sio::packet::encode(make(Type::Event, "/", -1, Value{"baz", sio::Binary{bytes}}));
    CHECK(e.text == std::string("51-[\"baz\",") + kPlaceholder0 + "]");
    REQUIRE(e.attachments.size() == 1);
    CHECK(e.attachments[0] == bytes);
    // Given as a BINARY_EVENT already: the same.
    auto e2 = sio::packet::encode(make(Type::BinaryEvent, "/", -1, Value{"baz", sio::Binary{bytes}}));
    CHECK(e2.text == e.text);
    CHECK(e2.attachments == e.attachments);
}

TEST_CASE("packet encode: BINARY_ACK `61-/admin,15[{\"_placeholder\":true,\"num\":0}]`") {
    const std::string bytes = bin({0, 0xff, 0x10});
    auto e = sio::packet::encode(make(Type::Ack, "/admin", 15, Value{sio::Binary{bytes}}));
    CHECK(e.text == std::string("61-/admin,15[") + kPlaceholder0 + "]");
    REQUIRE(e.attachments.size() == 1);
    CHECK(e.attachments[0] == bytes);
}

TEST_CASE("packet encode: several buffers nested in objects and arrays are numbered in order of appearance") {
    Value data{"multi", sio::Binary{"A"},
               sio::Object{{"list", sio::Array{sio::Binary{"B"}, 1, sio::Object{{"deep", sio::Binary{"C"}}}}}},
               // Value(...) spells the nesting out: clang++ 14 reads Array{Array{...}} as a copy (it predates
               // CWG 2137), g++ as an array in an array.
               sio::Array{Value(sio::Array{sio::Binary{"D"}})}};
    auto e = sio::packet::encode(make(Type::Event, "/chat", 3, data));
    CHECK(e.text ==
          "54-/chat,3[\"multi\",{\"_placeholder\":true,\"num\":0},"
          "{\"list\":[{\"_placeholder\":true,\"num\":1},1,{\"deep\":{\"_placeholder\":true,\"num\":2}}]},"
          "[[{\"_placeholder\":true,\"num\":3}]]]");
    CHECK(e.attachments == std::vector<std::string>{"A", "B", "C", "D"});
}

TEST_CASE("packet encode: an EVENT without a buffer stays EVENT even when given as BINARY_EVENT with 0 buffers") {
    // The type the encoder writes for a BINARY_* without buffers: the attachment count is 0.
    auto e = sio::packet::encode(make(Type::BinaryEvent, "/", -1, Value{"a"}));
    CHECK(e.text == "50-[\"a\"]");
    CHECK(e.attachments.empty());
    auto ev = sio::packet::encode(make(Type::Event, "/", -1, Value{"a", 1, sio::Object{{"k", "v"}}}));
    CHECK(ev.text == "2[\"a\",1,{\"k\":\"v\"}]");
}

// ---- decode: every type and the round trip of the examples ----------------------------------------------------------

TEST_CASE("packet decode: round trip of every specification example") {
    struct Case {
        Packet packet;
        size_t attachments;
    };
    const std::vector<Case> cases = {
        {make(Type::Connect), 0},
        {make(Type::Connect, "/", -1, sio::Object{{"token", "123"}}), 0},
        {make(Type::Connect, "/admin", -1, sio::Object{{"sid", "oSO0OpakMV_3jnilAAAA"}}), 0},
        {make(Type::Disconnect, "/admin"), 0},
        {make(Type::Event, "/", -1, Value{"foo"}), 0},
        {make(Type::Event, "/admin", 12, Value{"bar"}), 0},
        {make(Type::Ack, "/admin", 13, Value{"bar"}), 0},
        {make(Type::ConnectError, "/", -1, sio::Object{{"message", "Not authorized"}}), 0},
        {make(Type::BinaryEvent, "/", -1, Value{"baz", sio::Binary{bin({1, 2, 3})}}), 1},
        {make(Type::BinaryAck, "/admin", 15, Value{sio::Binary{bin({0, 9})}}), 1},
        {make(Type::BinaryEvent, "/x", 99, Value{"two", sio::Binary{"a"}, sio::Object{{"k", sio::Binary{"b"}}}}), 2},
    };
    for (const auto& c : cases) {
        auto e = sio::packet::encode(c.packet);
        CAPTURE(e.text);
        Decoded d = decode(e.text);
        REQUIRE(d.ok);
        CHECK(d.error.empty());
        CHECK(d.packet.type == c.packet.type);
        CHECK(d.packet.nsp == c.packet.nsp);
        CHECK(d.packet.id == c.packet.id);
        CHECK(d.packet.has_data == c.packet.has_data);
        CHECK(d.attachments == c.attachments);
        CHECK(e.attachments.size() == c.attachments);
        if (c.attachments) {
            CHECK_FALSE(d.packet.data.has_binary());  // placeholders until reconstruct()
            REQUIRE(sio::packet::reconstruct(d.packet, e.attachments));
        }
        CHECK(d.packet.data == c.packet.data);
    }
}

TEST_CASE("packet decode: CONNECT `0` and CONNECT with auth") {
    Decoded d = decode("0");
    REQUIRE(d.ok);
    CHECK(d.packet.type == Type::Connect);
    CHECK(d.packet.nsp == "/");
    CHECK(d.packet.id == -1);
    CHECK_FALSE(d.packet.has_data);
    CHECK(d.attachments == 0);

    d = decode("0/admin,{\"token\":\"123\"}");
    REQUIRE(d.ok);
    CHECK(d.packet.nsp == "/admin");
    CHECK(d.packet.has_data);
    CHECK(d.packet.data["token"].as_string() == "123");

    d = decode("0/admin,");
    REQUIRE(d.ok);
    CHECK(d.packet.nsp == "/admin");
    CHECK_FALSE(d.packet.has_data);
}

TEST_CASE("packet decode: DISCONNECT `1` and `1/admin,`") {
    Decoded d = decode("1");
    REQUIRE(d.ok);
    CHECK(d.packet.type == Type::Disconnect);
    CHECK(d.packet.nsp == "/");
    d = decode("1/admin,");
    REQUIRE(d.ok);
    CHECK(d.packet.type == Type::Disconnect);
    CHECK(d.packet.nsp == "/admin");
    CHECK_FALSE(d.packet.has_data);
}

TEST_CASE("packet decode: EVENT with data, namespace and ack id") {
    Decoded d = decode("2/chat,12[\"chat message\",\"hi\",{\"n\":1.5}]");
    REQUIRE(d.ok);
    CHECK(d.packet.type == Type::Event);
    CHECK(d.packet.nsp == "/chat");
    CHECK(d.packet.id == 12);
    REQUIRE(d.packet.data.size() == 3);
    CHECK(d.packet.data[1].as_string() == "hi");
    CHECK(d.packet.data[2]["n"].as_number() == 1.5);
}

TEST_CASE("packet decode: an event name may be a number") {
    Decoded d = decode("2[1,\"x\"]");
    REQUIRE(d.ok);
    CHECK(d.packet.data.size() == 2);
    d = decode("2[1.5]");
    CHECK(d.ok);
}

TEST_CASE("packet decode: ack id parsing — 0, multi-digit, right before the data, after the namespace") {
    Decoded d = decode("20[\"x\"]");
    REQUIRE(d.ok);
    CHECK(d.packet.id == 0);
    d = decode("2987654[\"x\"]");
    REQUIRE(d.ok);
    CHECK(d.packet.id == 987654);
    d = decode("3/admin,4294967296[]");  // past 32 bits
    REQUIRE(d.ok);
    CHECK(d.packet.type == Type::Ack);
    CHECK(d.packet.id == 4294967296LL);
    CHECK(d.packet.data.size() == 0);
    d = decode("2999999999999999[\"x\"]");  // 15 digits: accepted
    REQUIRE(d.ok);
    CHECK(d.packet.id == 999999999999999LL);
    d = decode("2[\"x\"]");
    REQUIRE(d.ok);
    CHECK(d.packet.id == -1);
}

TEST_CASE("packet decode: namespace parsing") {
    Decoded d = decode("2/a/b-c_d.1,[\"x\"]");
    REQUIRE(d.ok);
    CHECK(d.packet.nsp == "/a/b-c_d.1");
    d = decode("2/,[\"x\"]");  // "/" written explicitly
    REQUIRE(d.ok);
    CHECK(d.packet.nsp == "/");
    d = decode("2[\"x\",\"/not,a,nsp\"]");  // a slash inside the data is not a namespace
    REQUIRE(d.ok);
    CHECK(d.packet.nsp == "/");
    CHECK(d.packet.data[1].as_string() == "/not,a,nsp");
    d = decode("1/admin");  // namespace to the end of the text, no comma
    REQUIRE(d.ok);
    CHECK(d.packet.nsp == "/admin");
}

TEST_CASE("packet decode: a namespace without its comma swallows the data (as the reference parser does)") {
    // The namespace runs to the first comma or the end. In `2/admin["x"]` there is no comma, so the namespace is
    // `/admin["x"]` and the EVENT has no data: rejected.
    check_rejected("2/admin[\"x\"]");
    check_rejected("2/admin");
    check_rejected("3/admin13[\"x\"]");
    // With a comma inside the data, the namespace ends there and what follows is not valid JSON: rejected.
    check_rejected("2/admin[\"x\",\"y\"]");
    // A DISCONNECT carries no data anyway: `1/admin["x"]` is a DISCONNECT of the namespace `/admin["x"]` (a namespace
    // nobody is connected to, so the server ignores it).
    Decoded d = decode("1/admin[\"x\"]");
    REQUIRE(d.ok);
    CHECK(d.packet.type == Type::Disconnect);
    CHECK(d.packet.nsp == "/admin[\"x\"]");
    CHECK_FALSE(d.packet.has_data);
}

TEST_CASE("packet decode: ACK `3/admin,13[\"bar\"]`, with empty args and with an object argument") {
    Decoded d = decode("3/admin,13[\"bar\"]");
    REQUIRE(d.ok);
    CHECK(d.packet.type == Type::Ack);
    CHECK(d.packet.nsp == "/admin");
    CHECK(d.packet.id == 13);
    CHECK(std::as_const(d.packet.data)[0].as_string() == "bar");
    d = decode("30[]");
    REQUIRE(d.ok);
    CHECK(d.packet.id == 0);
    d = decode("31[{\"a\":null}]");
    REQUIRE(d.ok);
    CHECK(std::as_const(d.packet.data)[0].contains("a"));
    // Any argument is fine in an ACK, even a reserved event name.
    d = decode("32[\"disconnect\"]");
    CHECK(d.ok);
}

TEST_CASE("packet decode: CONNECT_ERROR with an object or a string") {
    Decoded d = decode("4{\"message\":\"Not authorized\"}");
    REQUIRE(d.ok);
    CHECK(d.packet.type == Type::ConnectError);
    CHECK(d.packet.data["message"].as_string() == "Not authorized");
    d = decode("4/admin,\"plain\"");
    REQUIRE(d.ok);
    CHECK(d.packet.nsp == "/admin");
    CHECK(d.packet.data.as_string() == "plain");
}

TEST_CASE("packet decode: BINARY_EVENT attachment count, placeholders kept until reconstruct") {
    Decoded d = decode(std::string("51-[\"baz\",") + kPlaceholder0 + "]");
    REQUIRE(d.ok);
    CHECK(d.packet.type == Type::BinaryEvent);
    CHECK(d.attachments == 1);
    CHECK(d.packet.data[1].is_object());
    CHECK(d.packet.data[1]["num"].as_int() == 0);

    d = decode("512-/x,7[\"many\"]");
    REQUIRE(d.ok);
    CHECK(d.attachments == 12);
    CHECK(d.packet.nsp == "/x");
    CHECK(d.packet.id == 7);

    d = decode("50-[\"none\"]");
    REQUIRE(d.ok);
    CHECK(d.attachments == 0);
    CHECK(d.packet.type == Type::BinaryEvent);
}

TEST_CASE("packet decode: BINARY_ACK `61-/admin,15[...]`") {
    Decoded d = decode(std::string("61-/admin,15[") + kPlaceholder0 + "]");
    REQUIRE(d.ok);
    CHECK(d.packet.type == Type::BinaryAck);
    CHECK(d.attachments == 1);
    CHECK(d.packet.nsp == "/admin");
    CHECK(d.packet.id == 15);
}

TEST_CASE("packet decode: a packet that was decoded before is reset by the next decode") {
    Packet p;
    size_t n = 0;
    std::string err;
    REQUIRE(sio::packet::decode("52-/x,9[\"a\"]", p, n, err));
    REQUIRE(sio::packet::decode("2[\"b\"]", p, n, err));
    CHECK(p.type == Type::Event);
    CHECK(p.nsp == "/");
    CHECK(p.id == -1);
    CHECK(n == 0);
    CHECK(p.data == Value{"b"});
}

// ---- reconstruct ----------------------------------------------------------------------------------------------------

TEST_CASE("packet reconstruct: buffers go back in place, nested, in order") {
    Value data{
        "multi", sio::Binary{"A"},
        sio::Object{{"list", sio::Array{sio::Binary{bin({0, 1, 2})}, 1, sio::Object{{"deep", sio::Binary{"C"}}}}}}};
    auto e = sio::packet::encode(make(Type::Event, "/", -1, data));
    Decoded d = decode(e.text);
    REQUIRE(d.ok);
    REQUIRE(d.attachments == 3);
    REQUIRE(sio::packet::reconstruct(d.packet, e.attachments));
    CHECK(d.packet.data[1].is_binary());
    CHECK(d.packet.data[1].as_binary() == "A");
    CHECK(d.packet.data[2]["list"][0].as_binary() == bin({0, 1, 2}));
    CHECK(d.packet.data[2]["list"][2]["deep"].as_binary() == "C");
    CHECK(d.packet.data == data);
}

TEST_CASE("packet reconstruct: placeholders may come in any order and repeat") {
    Decoded d = decode(
        "52-[\"x\",{\"_placeholder\":true,\"num\":1},{\"_placeholder\":true,\"num\":0},"
        "{\"_placeholder\":true,\"num\":1}]");
    REQUIRE(d.ok);
    REQUIRE(sio::packet::reconstruct(d.packet, {"zero", "one"}));
    CHECK(d.packet.data == Value{"x", sio::Binary{"one"}, sio::Binary{"zero"}, sio::Binary{"one"}});
}

TEST_CASE("packet reconstruct: a placeholder num >= the attachment count fails") {
    Decoded d = decode("52-[\"x\",{\"_placeholder\":true,\"num\":2}]");
    REQUIRE(d.ok);
    CHECK_FALSE(sio::packet::reconstruct(d.packet, {"a", "b"}));
    d = decode(std::string("51-[\"x\",") + kPlaceholder0 + "]");
    REQUIRE(d.ok);
    CHECK_FALSE(sio::packet::reconstruct(d.packet, {}));  // the attachment never came
    // On failure the data is left as it was.
    CHECK(d.packet.data[1]["_placeholder"].as_bool());
}

// Note: for num >= 2^64 (1e20, 1e300) Value::from_picojson converts the double to size_t before any range check, which
// is undefined behaviour (UBSan with -fsanitize=float-cast-overflow reports "1e+20 is outside the range of
// representable values of type 'long unsigned int'"); on x86-64 the result happens to be rejected.
TEST_CASE("packet reconstruct: a negative, fractional, huge or non-number num fails") {
    for (const char* num :
         {"-1", "-0.5", "0.5", "1.000001", "1e20", "1e300", "18446744073709551616", "\"0\"", "null", "true", "[0]"}) {
        CAPTURE(num);
        Decoded d = decode(std::string("51-[\"x\",{\"_placeholder\":true,\"num\":") + num + "}]");
        REQUIRE(d.ok);
        CHECK_FALSE(sio::packet::reconstruct(d.packet, {"a"}));
    }
}

TEST_CASE("packet reconstruct: objects that are not exactly placeholders stay objects") {
    Decoded d = decode("51-[\"x\",{\"_placeholder\":false,\"num\":0},{\"num\":0},{\"_placeholder\":true}]");
    REQUIRE(d.ok);
    REQUIRE(sio::packet::reconstruct(d.packet, {"a"}));
    CHECK_FALSE(d.packet.data.has_binary());
    CHECK(d.packet.data[1].is_object());
    CHECK(d.packet.data[2].is_object());
    CHECK(d.packet.data[3].is_object());
}

// ---- malformed input: rejected with an error, never a crash ---------------------------------------------------------

TEST_CASE("packet decode rejects: empty input and unknown types") {
    for (const char* in : {"", "7", "7[\"a\"]", "8", "9", "a", "/", "-1", " 2[\"a\"]", "x2[\"a\"]"}) check_rejected(in);
    check_rejected(std::string("\0[\"a\"]", 6));
    check_rejected(std::string("\xff", 1));
}

TEST_CASE("packet decode rejects: illegal attachment counts") {
    check_rejected("5[\"a\"]");    // no count at all
    check_rejected("5x-[\"a\"]");  // not a number
    check_rejected("5-[\"a\"]");   // empty count
    check_rejected("51[\"a\"]");   // no '-'
    check_rejected("51");          // ends after the count
    check_rejected("5");
    check_rejected("6[\"a\"]");
    check_rejected("61x-0[\"a\"]");
}

TEST_CASE("packet decode rejects: invalid JSON and trailing garbage after the JSON") {
    check_rejected("2[\"a\"");
    check_rejected("2[\"a\",]");
    check_rejected("2[a]");
    check_rejected("2{");
    check_rejected("0{\"a\":}");
    check_rejected("2['a']");
    check_rejected("2" + std::string(100000, '['));  // too deep: rejected, not a stack overflow
}

// The reference parser hands the rest of the text to JSON.parse, which refuses anything after the value. picojson stops
// after the first value, so decode() must check that nothing but whitespace follows (it once ignored the rest).
TEST_CASE("packet decode rejects: trailing garbage after the JSON (`2[\"a\"]x`)") {
    check_rejected("2[\"a\"]x");           // was accepted as EVENT ["a"]
    check_rejected("2[\"a\"]]");           // was accepted
    check_rejected("0{}{}");               // was accepted
    check_rejected("3/admin,1[]garbage");  // was accepted
}

TEST_CASE("packet decode rejects: EVENT with a non-array, an empty array, or a bad event name") {
    check_rejected("2");           // no data
    check_rejected("2{\"a\":1}");  // an object
    check_rejected("2\"str\"");    // a string
    check_rejected("21");          // `1` is the ack id, then nothing
    check_rejected("21 ");         // ack id 1 then whitespace, no data
    check_rejected("2null");
    check_rejected("2[]");  // no event name
    check_rejected("2[null]");
    check_rejected("2[{}]");
    check_rejected("2[[]]");
    check_rejected("2[true]");
    check_rejected("2[{\"name\":\"x\"}]");
    check_rejected("50-[]");  // the same for BINARY_EVENT
    check_rejected("50-{\"a\":1}");
}

TEST_CASE("packet decode rejects: reserved event names") {
    for (const char* name :
         {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}) {
        CAPTURE(name);
        CHECK(sio::packet::is_reserved_event(name));
        check_rejected(std::string("2[\"") + name + "\"]");
        check_rejected(std::string("2/admin,5[\"") + name + "\",1]");
        check_rejected(std::string("51-[\"") + name + "\"," + kPlaceholder0 + "]");
    }
    // Only these exact names.
    for (const char* name : {"Disconnect", "connect ", "", "message", "newlistener", "connection"}) {
        CAPTURE(name);
        CHECK_FALSE(sio::packet::is_reserved_event(name));
        Decoded d = decode(std::string("2[\"") + name + "\"]");
        CHECK(d.ok);
    }
}

TEST_CASE("packet decode rejects: ACK without an id or with a non-array") {
    check_rejected("3[\"x\"]");
    check_rejected("3/admin,[\"x\"]");
    check_rejected("3");
    check_rejected("31");
    check_rejected("31\"x\"");
    check_rejected("31{\"a\":1}");
    check_rejected("31null");
    check_rejected("61-[{\"_placeholder\":true,\"num\":0}]");  // BINARY_ACK without an id
    check_rejected("61-1\"x\"");
}

TEST_CASE("packet decode rejects: DISCONNECT with data, CONNECT with a non-object, CONNECT_ERROR without data") {
    check_rejected("1{\"a\":1}");
    check_rejected("1[]");
    check_rejected("1/admin,\"x\"");
    check_rejected("0[1]");
    check_rejected("0\"str\"");
    check_rejected("0null");
    check_rejected("4");
    check_rejected("4/admin,");
    check_rejected("4[1]");
    check_rejected("41");
    check_rejected("4null");
}

// The digits right after the type (or the namespace) are an ack id for every type, as in the reference parser: a
// CONNECT `01` is accepted with id 1 (and no data); the server has no use for it.
TEST_CASE("packet decode: a CONNECT followed by digits reads them as an ack id") {
    Decoded d = decode("01");
    REQUIRE(d.ok);
    CHECK(d.packet.type == Type::Connect);
    CHECK(d.packet.id == 1);
    CHECK_FALSE(d.packet.has_data);
}

TEST_CASE("packet decode: very long digit strings neither overflow nor crash") {
    // ack ids: at most 15 digits are read; the digits after them are taken as the JSON data (a number), so rejected.
    check_rejected("2" + std::string(16, '9') + "[\"x\"]");
    check_rejected("2" + std::string(20, '9') + "[\"x\"]");
    check_rejected("3" + std::string(300, '1') + "[\"x\"]");
    check_rejected("2/admin," + std::string(300, '7') + "[\"x\"]");
    // attachment counts: at most kMaxAttachments (and never more than 9 digits are read).
    const size_t max = sio::packet::kMaxAttachments;
    Decoded d = decode("5" + std::to_string(max) + "-[\"x\"]");
    REQUIRE(d.ok);
    CHECK(d.attachments == max);
    check_rejected("5" + std::to_string(max + 1) + "-[\"x\"]");
    check_rejected("6" + std::to_string(max + 1) + "-0[]");
    check_rejected("5999999999-[\"x\"]");                     // 9 digits
    check_rejected("51234567890-[\"x\"]");                    // 10 digits
    check_rejected("5" + std::string(30, '9') + "-[\"x\"]");  // past 64 bits
    check_rejected("6" + std::string(100000, '1') + "-1[\"x\"]");
    // a long number as the data (still within a double's range)
    check_rejected("2" + std::string(300, '9'));
}

// JSON numbers beyond the range of a double (1e999, or a digit string of more than ~309 digits) make picojson throw
// std::overflow_error (with an empty message) when it stores them; decode() must turn that into an error (it once let
// it escape, so the server dropped the packet without the parse error that closes the connection). That includes an
// over-long ack id: the 15 digits read as the id leave the rest to be parsed as a number.
TEST_CASE(
    "packet decode rejects: numbers out of the range of a double (`2[1e999]`, 1000-digit ack ids) without "
    "throwing") {
    const std::vector<std::string> inputs = {
        "2[1e999]",
        "2[\"a\",-1e400]",
        "0{\"a\":1e999}",
        "2" + std::string(400, '9'),
        "3" + std::string(1000, '1') + "[\"x\"]",
        "2/admin," + std::string(100000, '7') + "[\"x\"]",
    };
    for (const auto& in : inputs) {
        const std::string shown = short_form(in);
        CAPTURE(shown);
        Decoded d;
        CHECK_NOTHROW(d = decode(in));  // used to throw std::overflow_error
        CHECK_FALSE(d.ok);
    }
}

// ---- valid_payload, type_name, describe -----------------------------------------------------------------------------

TEST_CASE("packet valid_payload: the reference parser's rules per type") {
    using sio::packet::valid_payload;
    CHECK(valid_payload(make(Type::Connect)));
    CHECK(valid_payload(make(Type::Connect, "/", -1, sio::Object{})));
    CHECK_FALSE(valid_payload(make(Type::Connect, "/", -1, Value{1})));
    CHECK(valid_payload(make(Type::Disconnect)));
    CHECK_FALSE(valid_payload(make(Type::Disconnect, "/", -1, sio::Object{})));
    CHECK(valid_payload(make(Type::ConnectError, "/", -1, "msg")));
    CHECK(valid_payload(make(Type::ConnectError, "/", -1, sio::Object{{"message", "m"}})));
    CHECK_FALSE(valid_payload(make(Type::ConnectError)));
    CHECK_FALSE(valid_payload(make(Type::ConnectError, "/", -1, 5)));
    CHECK(valid_payload(make(Type::Event, "/", -1, Value{"e"})));
    CHECK(valid_payload(make(Type::Event, "/", -1, Value{3})));
    CHECK_FALSE(valid_payload(make(Type::Event)));
    CHECK_FALSE(valid_payload(make(Type::Event, "/", -1, Value(sio::Array{}))));
    CHECK_FALSE(valid_payload(make(Type::Event, "/", -1, Value{"connect"})));
    CHECK_FALSE(valid_payload(make(Type::BinaryEvent, "/", -1, Value{nullptr})));
    CHECK(valid_payload(make(Type::Ack, "/", 0, Value(sio::Array{}))));
    CHECK_FALSE(valid_payload(make(Type::Ack, "/", -1, Value(sio::Array{}))));
    CHECK_FALSE(valid_payload(make(Type::BinaryAck, "/", 1, "x")));
}

TEST_CASE("packet type_name and describe (the wire trace)") {
    CHECK(std::string(sio::packet::type_name(Type::Connect)) == "CONNECT");
    CHECK(std::string(sio::packet::type_name(Type::Disconnect)) == "DISCONNECT");
    CHECK(std::string(sio::packet::type_name(Type::Event)) == "EVENT");
    CHECK(std::string(sio::packet::type_name(Type::Ack)) == "ACK");
    CHECK(std::string(sio::packet::type_name(Type::ConnectError)) == "CONNECT_ERROR");
    CHECK(std::string(sio::packet::type_name(Type::BinaryEvent)) == "BINARY_EVENT");
    CHECK(std::string(sio::packet::type_name(Type::BinaryAck)) == "BINARY_ACK");
    CHECK(sio::packet::describe(make(Type::Event, "/chat", 3, Value{"chat message", "hi"})) ==
          "EVENT /chat ack=3 [\"chat message\",\"hi\"]");
    CHECK(sio::packet::describe(make(Type::Connect)) == "CONNECT /");
    CHECK(sio::packet::describe(make(Type::Ack, "/", 0, Value{sio::Binary{"abcd"}})) ==
          "ACK / ack=0 [{\"_binary\":4}]");
}

// ---- layer 5 helpers: collect_args, event_packet, to_outgoing -------------------------------------------------------

TEST_CASE("collect_args: plain values become arguments in order") {
    sio::Args args;
    sio::AckCallback ack;
    std::string s = "str";
    sio::detail::collect_args(args, ack, 1, "two", s, 2.5, true, nullptr, sio::Binary{"b"});
    CHECK_FALSE(bool(ack));
    REQUIRE(args.size() == 7);
    CHECK(args[0].as_int() == 1);
    CHECK(args[1].as_string() == "two");
    CHECK(args[2].as_string() == "str");
    CHECK(args[3].as_number() == 2.5);
    CHECK(args[4].as_bool());
    CHECK(args[5].is_null());
    CHECK(args[6].is_binary());
    sio::Args none;
    sio::detail::collect_args(none, ack);
    CHECK(none.empty());
}

TEST_CASE("collect_args: an Args is spread, an Array stays one argument") {
    sio::Args args;
    sio::AckCallback ack;
    const sio::Args relayed{"a", 2};
    sio::detail::collect_args(args, ack, "first", relayed, sio::Array{3, 4}, sio::Args{5}, sio::Args{});
    CHECK_FALSE(bool(ack));
    REQUIRE(args.size() == 5);
    CHECK(args[0].as_string() == "first");
    CHECK(args[1].as_string() == "a");
    CHECK(args[2].as_int() == 2);
    CHECK(args[3].is_array());
    CHECK(args[3].size() == 2);
    CHECK(args[4].as_int() == 5);
    CHECK(relayed.size() == 2);  // the spread Args is untouched
}

TEST_CASE("collect_args: a trailing lambda (const Args&) is the ack callback, not an argument") {
    sio::Args args;
    sio::AckCallback ack;
    int calls = 0;
    sio::Args got;
    sio::detail::collect_args(args, ack, "x", 1, [&](const sio::Args& response) {
        ++calls;
        got = response;
    });
    REQUIRE(args.size() == 2);
    CHECK(args[0].as_string() == "x");
    CHECK(args[1].as_int() == 1);
    REQUIRE(bool(ack));
    ack(sio::Error{}, sio::Args{"ok", 42});
    CHECK(calls == 1);
    REQUIRE(got.size() == 2);
    CHECK(got[1].as_int() == 42);
}

TEST_CASE("collect_args: a trailing lambda (const Error&, const Args&) is the ack callback and gets the error") {
    sio::Args args;
    sio::AckCallback ack;
    std::string error;
    size_t n = 99;
    sio::detail::collect_args(args, ack, sio::Args{"a", "b"}, [&](const sio::Error& err, const sio::Args& response) {
        error = err.message;
        n = response.size();
    });
    CHECK(args.size() == 2);
    REQUIRE(bool(ack));
    ack(sio::Error{"operation has timed out"}, sio::Args{});
    CHECK(error == "operation has timed out");
    CHECK(n == 0);
    // The lambda alone: no arguments, only the callback.
    sio::Args only;
    sio::AckCallback ack2;
    sio::detail::collect_args(only, ack2, [](const sio::Args&) {});
    CHECK(only.empty());
    CHECK(bool(ack2));
}

TEST_CASE("event_packet: [event, args...] on the namespace with the ack id") {
    auto p = sio::detail::event_packet("/chat", "msg", sio::Args{1, sio::Array{2}}, 7);
    CHECK(p.type == Type::Event);
    CHECK(p.nsp == "/chat");
    CHECK(p.id == 7);
    CHECK(p.has_data);
    CHECK(p.data == Value{"msg", 1, sio::Array{2}});
    CHECK(sio::packet::encode(p).text == "2/chat,7[\"msg\",1,[2]]");
    auto q = sio::detail::event_packet("/", "e", sio::Args{}, -1);
    CHECK(sio::packet::encode(q).text == "2[\"e\"]");
    CHECK(sio::packet::valid_payload(q));
}

TEST_CASE("event_packet: reserved names throw std::invalid_argument") {
    for (const char* name :
         {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}) {
        CAPTURE(name);
        CHECK_THROWS_AS(sio::detail::event_packet("/", name, sio::Args{}, -1), std::invalid_argument);
    }
    CHECK_NOTHROW(sio::detail::event_packet("/", "connection", sio::Args{}, -1));
}

TEST_CASE("to_outgoing: a packet without buffers is one Engine.IO text message") {
    auto out = sio::detail::to_outgoing(sio::Options{}, sio::detail::event_packet("/", "hi", sio::Args{"there"}, -1));
    REQUIRE(out.size() == 1);
    CHECK(out[0]->packet.type == sio::eio::PacketType::Message);
    CHECK_FALSE(out[0]->packet.binary);
    CHECK(out[0]->packet.data == "2[\"hi\",\"there\"]");
    CHECK(sio::eio::encode_packet(out[0]->packet) == "42[\"hi\",\"there\"]");
}

TEST_CASE("to_outgoing: 1 + attachments messages, the first text, the rest binary with the raw bytes") {
    const std::string a = bin({0, 1, 2, 0xff});
    const std::string b = bin({0x80});
    auto p =
        sio::detail::event_packet("/bin", "files", sio::Args{sio::Binary{a}, sio::Object{{"b", sio::Binary{b}}}}, 4);
    auto out = sio::detail::to_outgoing(sio::Options{}, p);
    REQUIRE(out.size() == 3);
    CHECK(out[0]->packet.type == sio::eio::PacketType::Message);
    CHECK_FALSE(out[0]->packet.binary);
    CHECK(out[0]->packet.data ==
          "52-/bin,4[\"files\",{\"_placeholder\":true,\"num\":0},{\"b\":{\"_placeholder\":true,\"num\":1}}]");
    CHECK(out[1]->packet.type == sio::eio::PacketType::Message);
    CHECK(out[1]->packet.binary);
    CHECK(out[1]->packet.data == a);
    CHECK(out[2]->packet.binary);
    CHECK(out[2]->packet.data == b);
    // Over long-polling a binary message is "b" + base64.
    CHECK(sio::eio::encode_packet(out[1]->packet) == "bAAEC/w==");
    // Over WebSocket: a text frame, then binary frames carrying the raw bytes.
    REQUIRE(out[0]->ws_frame.size() >= 2);
    CHECK(uint8_t(out[0]->ws_frame[0]) == 0x81);
    REQUIRE(out[1]->ws_frame.size() == 2 + a.size());
    CHECK(uint8_t(out[1]->ws_frame[0]) == 0x82);
    CHECK(out[1]->ws_frame.substr(2) == a);
    // The receiving side puts it back together.
    Decoded d = decode(out[0]->packet.data);
    REQUIRE(d.ok);
    REQUIRE(d.attachments == 2);
    REQUIRE(sio::packet::reconstruct(d.packet, {out[1]->packet.data, out[2]->packet.data}));
    CHECK(d.packet.data == p.data);
}

TEST_CASE("to_outgoing: a BINARY_ACK splits the same way") {
    Packet p = make(Type::Ack, "/", 3, Value{sio::Binary{"x"}});
    auto out = sio::detail::to_outgoing(sio::Options{}, p);
    REQUIRE(out.size() == 2);
    CHECK(out[0]->packet.data == std::string("61-3[") + kPlaceholder0 + "]");
    CHECK(out[1]->packet.binary);
    CHECK(out[1]->packet.data == "x");
}

TEST_CASE("packet decode: nesting is limited for objects as for arrays (picojson counts arrays only)") {
    auto nested = [](size_t depth, const std::string& open, const std::string& close) {
        std::string s = "2[\"deep\",";
        for (size_t i = 0; i < depth; ++i) s += open;
        s += "1";
        for (size_t i = 0; i < depth; ++i) s += close;
        return s + "]";
    };
    // Inside the outer array: 99 more levels are allowed, either kind or mixed.
    CHECK(decode(nested(99, "{\"a\":", "}")).ok);
    CHECK(decode(nested(99, "[", "]")).ok);
    CHECK(decode(nested(49, "{\"a\":[", "]}")).ok);
    // One more, and far more (a stack overflow before the limit counted objects): refused, not a crash.
    Decoded objects = decode(nested(100, "{\"a\":", "}"));
    CHECK_FALSE(objects.ok);
    CHECK(objects.error == "invalid payload");
    CHECK_FALSE(decode(nested(100, "[", "]")).ok);
    CHECK_FALSE(decode(nested(50, "{\"a\":[", "]}")).ok);
    CHECK_FALSE(decode(nested(100000, "{\"a\":", "}")).ok);
}
