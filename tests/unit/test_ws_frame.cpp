// WebSocket frames (RFC 6455 §5): the server-side encoder and the incremental parser of client frames.
#include "sioserver.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

using sio::ws::encode_close;
using sio::ws::encode_frame;
using sio::ws::FrameParser;
using sio::ws::Message;
using sio::ws::Opcode;
using Result = sio::ws::FrameParser::Result;

namespace {

// The masking key of the RFC 6455 §5.7 examples.
const uint8_t kMask[4] = {0x37, 0xfa, 0x21, 0x3d};

std::string bytes(std::initializer_list<int> list) {
    std::string s;
    for (int b : list) s += char(b);
    return s;
}

// A frame as a browser sends it: masked.
std::string client(Opcode op, std::string_view payload, bool fin = true) {
    return encode_frame(op, payload, fin, kMask);
}

// A masked client frame with any first byte (opcode, FIN and RSV bits as given) and a short payload.
std::string raw_client(uint8_t first_byte, std::string_view payload) {
    std::string f = client(Opcode::Binary, payload);
    f[0] = char(first_byte);
    return f;
}

void feed(FrameParser& p, const std::string& s) { p.feed(s.data(), s.size()); }

// Feeds `wire` into a fresh parser and returns the first result, with the close code when it is an Error.
struct Outcome {
    Result result;
    uint16_t code;
    Message message;
};
Outcome parse_one(const std::string& wire, size_t max = 1 << 20, bool require_mask = true) {
    FrameParser p(max, require_mask);
    feed(p, wire);
    Outcome o{Result::NeedMore, 0, {}};
    o.result = p.next(o.message);
    o.code = p.close_code();
    return o;
}

std::string close_payload(uint16_t code, std::string_view why = {}) {
    std::string s;
    s += char(code >> 8);
    s += char(code & 0xff);
    s += why;
    return s;
}

std::string pattern(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = char((i * 7 + 3) & 0xff);
    return s;
}

}  // namespace

// ---- encoder --------------------------------------------------------------------------------------------------------

TEST_CASE("ws encode: RFC 6455 section 5.7 examples, unmasked and masked \"Hello\"") {
    CHECK(encode_frame(Opcode::Text, "Hello") == bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
    CHECK(encode_frame(Opcode::Text, "Hello", true, kMask) ==
          bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
    CHECK(encode_frame(Opcode::Text, "Hel", false) == bytes({0x01, 0x03, 0x48, 0x65, 0x6c}));
    CHECK(encode_frame(Opcode::Continuation, "lo") == bytes({0x80, 0x02, 0x6c, 0x6f}));
    CHECK(encode_frame(Opcode::Ping, "Hello") == bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
    CHECK(encode_frame(Opcode::Pong, "Hello", true, kMask) ==
          bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

TEST_CASE("ws encode: 7-bit length for an empty payload and for 125 bytes") {
    std::string f0 = encode_frame(Opcode::Binary, "");
    CHECK(f0 == bytes({0x82, 0x00}));

    std::string payload = pattern(125);
    std::string f = encode_frame(Opcode::Binary, payload);
    REQUIRE(f.size() == 2 + 125u);
    CHECK(uint8_t(f[0]) == 0x82);
    CHECK(uint8_t(f[1]) == 125);
    CHECK(f.substr(2) == payload);
}

TEST_CASE("ws encode: 16-bit length (126) for 126 and 65535 bytes, in network byte order") {
    std::string f = encode_frame(Opcode::Binary, pattern(126));
    REQUIRE(f.size() == 4 + 126u);
    CHECK(f.substr(0, 4) == bytes({0x82, 126, 0x00, 0x7E}));
    CHECK(f.substr(4) == pattern(126));

    std::string g = encode_frame(Opcode::Text, std::string(65535, 'a'));
    REQUIRE(g.size() == 4 + 65535u);
    CHECK(g.substr(0, 4) == bytes({0x81, 126, 0xFF, 0xFF}));

    std::string h = encode_frame(Opcode::Binary, pattern(256));  // RFC 6455 §5.7: 256 bytes
    CHECK(h.substr(0, 4) == bytes({0x82, 0x7E, 0x01, 0x00}));
}

TEST_CASE("ws encode: 64-bit length (127) for 65536 and 70000 bytes, in network byte order") {
    std::string f = encode_frame(Opcode::Binary, pattern(65536));
    REQUIRE(f.size() == 10 + 65536u);
    CHECK(f.substr(0, 10) == bytes({0x82, 127, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}));
    CHECK(f.substr(10) == pattern(65536));

    std::string g = encode_frame(Opcode::Binary, pattern(70000));  // 70000 = 0x11170
    REQUIRE(g.size() == 10 + 70000u);
    CHECK(g.substr(0, 10) == bytes({0x82, 127, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70}));
}

TEST_CASE("ws encode: masked frames set the mask bit, carry the key and XOR the payload") {
    std::string payload = pattern(300);
    std::string f = encode_frame(Opcode::Binary, payload, true, kMask);
    REQUIRE(f.size() == 4 + 4 + 300u);
    CHECK(f.substr(0, 4) == bytes({0x82, 0x80 | 126, 0x01, 0x2C}));
    CHECK(f.substr(4, 4) == bytes({0x37, 0xfa, 0x21, 0x3d}));
    int wrong = 0;
    for (size_t i = 0; i < payload.size(); ++i)
        if (uint8_t(f[8 + i]) != (uint8_t(payload[i]) ^ kMask[i % 4])) ++wrong;
    CHECK(wrong == 0);

    std::string g = encode_frame(Opcode::Binary, pattern(65536), true, kMask);
    CHECK(uint8_t(g[1]) == (0x80 | 127));
    CHECK(g.substr(10, 4) == bytes({0x37, 0xfa, 0x21, 0x3d}));
}

TEST_CASE("ws encode: encode_close puts the code first, in network byte order") {
    CHECK(encode_close(1000) == bytes({0x88, 0x02, 0x03, 0xE8}));
    CHECK(encode_close(1002) == bytes({0x88, 0x02, 0x03, 0xEA}));
    CHECK(encode_close(4999, "bye") == bytes({0x88, 0x05, 0x13, 0x87, 'b', 'y', 'e'}));
}

TEST_CASE("ws encode: encode_close(NoStatus) is a close frame without a code (1005 never goes on the wire)") {
    CHECK(encode_close(sio::ws::close_code::NoStatus) == bytes({0x88, 0x00}));
    CHECK(encode_close(sio::ws::close_code::NoStatus, "ignored") == bytes({0x88, 0x00}));
}

TEST_CASE("ws encode: encode_close cuts a long reason so the close frame stays within 125 bytes") {
    std::string f = encode_close(1011, std::string(300, 'r'));
    REQUIRE(f.size() == 2 + 125u);
    CHECK(uint8_t(f[1]) == 125);
    CHECK(f.substr(2, 2) == bytes({0x03, 0xF3}));
    // And the client-side parser (unmasked server frames) accepts it.
    Outcome o = parse_one(f, 1 << 20, /*require_mask=*/false);
    REQUIRE(o.result == Result::Message);
    CHECK(o.message.opcode == Opcode::Close);
    CHECK(o.message.data == close_payload(1011, std::string(123, 'r')));
}

// Regression: encode_close() used to cut the reason at 123 bytes without regard to UTF-8, so a reason whose 123rd
// byte is inside a multi-byte character gave a close frame with invalid UTF-8, which RFC 6455 §5.5.1 forbids and
// which a conforming peer (this parser included) fails with 1007.
TEST_CASE("ws encode: encode_close never cuts a UTF-8 character of a long reason in half") {
    std::string why = std::string(122, 'r') + "\xE2\x82\xAC" + "tail";  // the euro sign spans bytes 123..125
    std::string f = encode_close(1000, why);
    CHECK(f.size() <= 2 + 125u);
    CHECK(sio::is_valid_utf8(f.substr(4)));
    Outcome o = parse_one(f, 1 << 20, /*require_mask=*/false);
    CHECK(o.result == Result::Message);
}

// ---- parser: well-formed input --------------------------------------------------------------------------------------

TEST_CASE("ws parse: masked client frames of every length class decode back (0, 125, 126, 65535, 65536, 70000)") {
    for (size_t n : {size_t(0), size_t(1), size_t(125), size_t(126), size_t(65535), size_t(65536), size_t(70000)}) {
        CAPTURE(n);
        std::string payload = pattern(n);
        Outcome o = parse_one(client(Opcode::Binary, payload));
        REQUIRE(o.result == Result::Message);
        CHECK(o.message.opcode == Opcode::Binary);
        CHECK(o.message.data == payload);
    }
}

TEST_CASE("ws parse: RFC 6455 section 5.7 masked \"Hello\" unmasks to the text") {
    Outcome o = parse_one(bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
    REQUIRE(o.result == Result::Message);
    CHECK(o.message.opcode == Opcode::Text);
    CHECK(o.message.data == "Hello");
}

TEST_CASE("ws parse: a frame fed one byte at a time is NeedMore until its last byte") {
    std::string payload = pattern(300);  // 16-bit length, so the header itself arrives in pieces
    std::string wire = client(Opcode::Binary, payload);
    FrameParser p(1 << 20);
    Message m;
    int early = 0;
    for (size_t i = 0; i + 1 < wire.size(); ++i) {
        p.feed(&wire[i], 1);
        if (p.next(m) != Result::NeedMore) ++early;
    }
    CHECK(early == 0);
    p.feed(&wire[wire.size() - 1], 1);
    REQUIRE(p.next(m) == Result::Message);
    CHECK(m.data == payload);
    CHECK(p.next(m) == Result::NeedMore);
}

TEST_CASE("ws parse: a 64-bit-length frame fed one byte at a time") {
    std::string payload = pattern(65536 + 5);
    std::string wire = client(Opcode::Binary, payload);
    FrameParser p(1 << 20);
    Message m;
    int early = 0;
    for (size_t i = 0; i + 1 < wire.size(); ++i) {
        p.feed(&wire[i], 1);
        if (p.next(m) != Result::NeedMore) ++early;
    }
    CHECK(early == 0);
    p.feed(&wire[wire.size() - 1], 1);
    REQUIRE(p.next(m) == Result::Message);
    CHECK(m.data == payload);
}

TEST_CASE("ws parse: truncated input returns NeedMore at every prefix, and buffered() counts it") {
    std::string wire = client(Opcode::Text, "hello world");
    for (size_t cut = 0; cut < wire.size(); ++cut) {
        CAPTURE(cut);
        FrameParser p(1 << 20);
        p.feed(wire.data(), cut);
        Message m;
        CHECK(p.next(m) == Result::NeedMore);
        CHECK(p.buffered() == cut);
    }
}

TEST_CASE("ws parse: several frames in one feed come out in order, then NeedMore") {
    std::string wire = client(Opcode::Text, "one") + client(Opcode::Binary, std::string("\x00\x01", 2)) +
                       client(Opcode::Ping, "p") + client(Opcode::Pong, "") + client(Opcode::Text, "two");
    FrameParser p(1 << 20);
    feed(p, wire);
    Message m;
    REQUIRE(p.next(m) == Result::Message);
    CHECK(m.opcode == Opcode::Text);
    CHECK(m.data == "one");
    REQUIRE(p.next(m) == Result::Message);
    CHECK(m.opcode == Opcode::Binary);
    CHECK(m.data == std::string("\x00\x01", 2));
    REQUIRE(p.next(m) == Result::Message);
    CHECK(m.opcode == Opcode::Ping);
    CHECK(m.data == "p");
    REQUIRE(p.next(m) == Result::Message);
    CHECK(m.opcode == Opcode::Pong);
    CHECK(m.data.empty());
    REQUIRE(p.next(m) == Result::Message);
    CHECK(m.opcode == Opcode::Text);
    CHECK(m.data == "two");
    CHECK(p.next(m) == Result::NeedMore);
    CHECK(p.buffered() == 0u);
}

TEST_CASE("ws parse: a long stream fed in odd-sized chunks (the buffer is compacted along the way)") {
    const int frames = 200;
    std::string wire;
    for (int i = 0; i < frames; ++i) wire += client(Opcode::Binary, std::to_string(i) + ":" + pattern(997));
    FrameParser p(1 << 20);
    Message m;
    int next_expected = 0, wrong = 0;
    for (size_t off = 0; off < wire.size(); off += 777) {
        p.feed(wire.data() + off, std::min<size_t>(777, wire.size() - off));
        Result r;
        while ((r = p.next(m)) == Result::Message) {
            if (m.data != std::to_string(next_expected) + ":" + pattern(997)) ++wrong;
            ++next_expected;
        }
        REQUIRE(r == Result::NeedMore);
    }
    CHECK(next_expected == frames);
    CHECK(wrong == 0);
    CHECK(p.buffered() == 0u);
}

TEST_CASE("ws parse: text + continuation + continuation(FIN) is reassembled into one text message") {
    std::string wire = client(Opcode::Text, "Hel", false) + client(Opcode::Continuation, "lo, ", false) +
                       client(Opcode::Continuation, "world");
    FrameParser p(1 << 20);
    Message m;
    // Only the first two fragments: nothing yet.
    std::string first_two = client(Opcode::Text, "Hel", false) + client(Opcode::Continuation, "lo, ", false);
    feed(p, first_two);
    CHECK(p.next(m) == Result::NeedMore);
    CHECK(p.buffered() == 7u);  // the partial message counts
    feed(p, client(Opcode::Continuation, "world"));
    REQUIRE(p.next(m) == Result::Message);
    CHECK(m.opcode == Opcode::Text);
    CHECK(m.data == "Hello, world");
    CHECK(p.next(m) == Result::NeedMore);

    // All at once, as binary.
    FrameParser q(1 << 20);
    feed(q, client(Opcode::Binary, "ab", false) + client(Opcode::Continuation, "", false) +
                client(Opcode::Continuation, "cd"));
    REQUIRE(q.next(m) == Result::Message);
    CHECK(m.opcode == Opcode::Binary);
    CHECK(m.data == "abcd");
}

TEST_CASE("ws parse: a ping between fragments comes out first, then the whole message") {
    std::string wire = client(Opcode::Text, "Hel", false) + client(Opcode::Ping, "are you there") +
                       client(Opcode::Continuation, "lo", false) + client(Opcode::Pong, "") +
                       client(Opcode::Continuation, "!");
    FrameParser p(1 << 20);
    feed(p, wire);
    Message m;
    REQUIRE(p.next(m) == Result::Message);
    CHECK(m.opcode == Opcode::Ping);
    CHECK(m.data == "are you there");
    REQUIRE(p.next(m) == Result::Message);
    CHECK(m.opcode == Opcode::Pong);
    CHECK(m.data.empty());
    REQUIRE(p.next(m) == Result::Message);
    CHECK(m.opcode == Opcode::Text);
    CHECK(m.data == "Hello!");
    CHECK(p.next(m) == Result::NeedMore);
}

TEST_CASE("ws parse: unmasked frames are accepted when require_mask is false (client side)") {
    Outcome o = parse_one(encode_frame(Opcode::Text, "server says hi"), 1 << 20, false);
    REQUIRE(o.result == Result::Message);
    CHECK(o.message.data == "server says hi");
    // Masked frames still decode with require_mask=false.
    Outcome q = parse_one(client(Opcode::Text, "masked"), 1 << 20, false);
    REQUIRE(q.result == Result::Message);
    CHECK(q.message.data == "masked");
}

TEST_CASE("ws parse: a message of exactly max_message_size is accepted") {
    Outcome o = parse_one(client(Opcode::Binary, pattern(1000)), 1000);
    REQUIRE(o.result == Result::Message);
    CHECK(o.message.data.size() == 1000u);
    FrameParser p(10);
    feed(p, client(Opcode::Text, "hello", false) + client(Opcode::Continuation, "world"));
    Message m;
    REQUIRE(p.next(m) == Result::Message);
    CHECK(m.data == "helloworld");
}

TEST_CASE("ws parse: control frames of 125 bytes are accepted") {
    Outcome o = parse_one(client(Opcode::Ping, pattern(125)));
    REQUIRE(o.result == Result::Message);
    CHECK(o.message.opcode == Opcode::Ping);
    CHECK(o.message.data == pattern(125));
}

// ---- parser: protocol errors ----------------------------------------------------------------------------------------

TEST_CASE("ws: continuation frame without a started message is a protocol error (1002)") {
    Outcome o = parse_one(client(Opcode::Continuation, "orphan"));
    CHECK(o.result == Result::Error);
    CHECK(o.code == sio::ws::close_code::ProtocolError);
    CHECK(o.code == 1002);
}

TEST_CASE("ws: a new text frame while a fragmented message is open is a protocol error (1002)") {
    FrameParser p(1 << 20);
    feed(p, client(Opcode::Text, "part", false) + client(Opcode::Text, "new"));
    Message m;
    CHECK(p.next(m) == Result::Error);
    CHECK(p.close_code() == 1002);

    FrameParser q(1 << 20);
    feed(q, client(Opcode::Binary, "part", false) + client(Opcode::Binary, "new", false));
    CHECK(q.next(m) == Result::Error);
    CHECK(q.close_code() == 1002);
}

TEST_CASE("ws: an unmasked client frame is a protocol error (1002)") {
    Outcome o = parse_one(encode_frame(Opcode::Text, "no mask"));
    CHECK(o.result == Result::Error);
    CHECK(o.code == 1002);
    Outcome ping = parse_one(encode_frame(Opcode::Ping, ""));
    CHECK(ping.result == Result::Error);
    CHECK(ping.code == 1002);
}

TEST_CASE("ws: RSV1, RSV2 or RSV3 set (no extension negotiated) is a protocol error (1002)") {
    for (int rsv : {0x40, 0x20, 0x10, 0x70}) {
        CAPTURE(rsv);
        Outcome o = parse_one(raw_client(uint8_t(0x80 | rsv | 0x1), "x"));
        CHECK(o.result == Result::Error);
        CHECK(o.code == 1002);
    }
}

TEST_CASE("ws: reserved opcodes 3..7 and B..F are a protocol error (1002)") {
    for (int op : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
        CAPTURE(op);
        Outcome o = parse_one(raw_client(uint8_t(0x80 | op), "x"));
        CHECK(o.result == Result::Error);
        CHECK(o.code == 1002);
    }
}

TEST_CASE("ws: a fragmented control frame (FIN=0) is a protocol error (1002)") {
    for (Opcode op : {Opcode::Ping, Opcode::Pong, Opcode::Close}) {
        CAPTURE(int(op));
        Outcome o = parse_one(client(op, "", /*fin=*/false));
        CHECK(o.result == Result::Error);
        CHECK(o.code == 1002);
    }
}

TEST_CASE("ws: control frame over 125 bytes is a protocol error (1002)") {
    for (Opcode op : {Opcode::Ping, Opcode::Pong, Opcode::Close}) {
        CAPTURE(int(op));
        Outcome o = parse_one(client(op, pattern(126)));
        CHECK(o.result == Result::Error);
        CHECK(o.code == 1002);
    }
    // Also with a 64-bit length field, before any payload byte arrives.
    Outcome o = parse_one(bytes({0x89, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 126}));
    CHECK(o.result == Result::Error);
    CHECK(o.code == 1002);
}

TEST_CASE("ws: a 64-bit length with the most significant bit set is a protocol error (1002)") {
    Outcome o = parse_one(bytes({0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1}), size_t(-1));
    CHECK(o.result == Result::Error);
    CHECK(o.code == 1002);
}

TEST_CASE("ws: a message over max_message_size is refused with 1009 from its header alone") {
    // 16-bit length 1001 against a limit of 1000: only the 4 header bytes are there.
    Outcome o = parse_one(bytes({0x82, 0x80 | 126, 0x03, 0xE9}), 1000);
    CHECK(o.result == Result::Error);
    CHECK(o.code == sio::ws::close_code::MessageTooBig);
    CHECK(o.code == 1009);
    // 7-bit length.
    Outcome s = parse_one(bytes({0x81, 0x80 | 11}), 10);
    CHECK(s.result == Result::Error);
    CHECK(s.code == 1009);
    // 64-bit length of 1 TiB: refused at once, nothing allocated.
    Outcome big = parse_one(bytes({0x82, 0x80 | 127, 0, 0, 0x01, 0, 0, 0, 0, 0}), 1000000);
    CHECK(big.result == Result::Error);
    CHECK(big.code == 1009);
    // Near 2^63 - 1: so_far + len must not overflow into "small".
    Outcome huge = parse_one(bytes({0x82, 0x80 | 127, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}), 1000000);
    CHECK(huge.result == Result::Error);
    CHECK(huge.code == 1009);
}

TEST_CASE("ws: a fragmented message whose total exceeds max_message_size is refused with 1009") {
    FrameParser p(10);
    Message m;
    feed(p, client(Opcode::Text, "hello", false));
    CHECK(p.next(m) == Result::NeedMore);
    feed(p, client(Opcode::Continuation, "world", false));  // exactly 10 so far
    CHECK(p.next(m) == Result::NeedMore);
    std::string last = client(Opcode::Continuation, "!");
    p.feed(last.data(), 2);  // only the header of the fragment that goes over
    CHECK(p.next(m) == Result::Error);
    CHECK(p.close_code() == 1009);
}

TEST_CASE("ws: a text message with invalid UTF-8 is refused with 1007") {
    Outcome o = parse_one(client(Opcode::Text, "bad \xff byte"));
    CHECK(o.result == Result::Error);
    CHECK(o.code == sio::ws::close_code::InvalidPayload);
    CHECK(o.code == 1007);
    Outcome surrogate = parse_one(client(Opcode::Text, "\xED\xA0\x80"));
    CHECK(surrogate.result == Result::Error);
    CHECK(surrogate.code == 1007);
    // Binary messages are not text: any bytes go.
    Outcome bin = parse_one(client(Opcode::Binary, "bad \xff byte"));
    CHECK(bin.result == Result::Message);
}

TEST_CASE("ws: a multi-byte UTF-8 character split across fragments is valid") {
    FrameParser p(1 << 20);
    // "é" = C3 A9 split in two; "€" = E2 82 AC split in three.
    feed(p, client(Opcode::Text, "caf\xC3", false) + client(Opcode::Continuation, "\xA9 \xE2", false) +
                client(Opcode::Continuation, "\x82", false) + client(Opcode::Continuation, "\xAC"));
    Message m;
    REQUIRE(p.next(m) == Result::Message);
    CHECK(m.opcode == Opcode::Text);
    CHECK(m.data == "caf\xC3\xA9 \xE2\x82\xAC");
}

TEST_CASE("ws: a fragmented text message that ends with an incomplete UTF-8 character is refused with 1007") {
    FrameParser p(1 << 20);
    feed(p, client(Opcode::Text, "ok", false) + client(Opcode::Continuation, "\xE2\x82"));
    Message m;
    CHECK(p.next(m) == Result::Error);
    CHECK(p.close_code() == 1007);
}

TEST_CASE("ws: a close frame with a 1-byte payload is a protocol error (1002)") {
    Outcome o = parse_one(client(Opcode::Close, "\x03"));
    CHECK(o.result == Result::Error);
    CHECK(o.code == 1002);
}

TEST_CASE("ws: a close frame with an invalid code is a protocol error (1002)") {
    for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
        CAPTURE(code);
        Outcome o = parse_one(client(Opcode::Close, close_payload(uint16_t(code))));
        CHECK(o.result == Result::Error);
        CHECK(o.code == 1002);
    }
}

TEST_CASE("ws: close frames with valid codes (1000..1003, 1007..1014, 3000, 4999) and an empty close are accepted") {
    for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999}) {
        CAPTURE(code);
        Outcome o = parse_one(client(Opcode::Close, close_payload(uint16_t(code), "reason")));
        REQUIRE(o.result == Result::Message);
        CHECK(o.message.opcode == Opcode::Close);
        CHECK(o.message.data == close_payload(uint16_t(code), "reason"));
    }
    Outcome empty = parse_one(client(Opcode::Close, ""));
    REQUIRE(empty.result == Result::Message);
    CHECK(empty.message.opcode == Opcode::Close);
    CHECK(empty.message.data.empty());
}

TEST_CASE("ws: a close frame whose reason is not UTF-8 is refused with 1007") {
    Outcome o = parse_one(client(Opcode::Close, close_payload(1000, "\xC0\x80")));
    CHECK(o.result == Result::Error);
    CHECK(o.code == 1007);
    Outcome ok = parse_one(client(Opcode::Close, close_payload(1000, "\xE2\x82\xAC")));
    CHECK(ok.result == Result::Message);
}

TEST_CASE("ws: after an Error, next() keeps returning Error even when valid frames follow") {
    FrameParser p(1 << 20);
    feed(p, client(Opcode::Continuation, "orphan"));
    Message m;
    REQUIRE(p.next(m) == Result::Error);
    CHECK(p.close_code() == 1002);
    CHECK_FALSE(p.error().empty());
    feed(p, client(Opcode::Text, "valid"));
    CHECK(p.next(m) == Result::Error);
    CHECK(p.next(m) == Result::Error);
    CHECK(p.close_code() == 1002);
}

TEST_CASE("ws: frames before a bad one are still delivered, then the error") {
    FrameParser p(1 << 20);
    feed(p, client(Opcode::Text, "good") + raw_client(0x83, "bad"));
    Message m;
    REQUIRE(p.next(m) == Result::Message);
    CHECK(m.data == "good");
    CHECK(p.next(m) == Result::Error);
    CHECK(p.close_code() == 1002);
}
