// libFuzzer target: Engine.IO packets and payloads (sioserver.hpp layer 2d, and the polling body / WebSocket frame a
// packet is sent in, 3a-3b). The input is one packet text, and also one polling payload (records split by \x1e).
//
// Invariants:
//  - decode_packet accepts exactly what engine.io-protocol v4 allows: a type digit 0-6 with any data, or "b" followed
//    by valid base64; its result is the type and the rest of the text (or the decoded bytes).
//  - decode_payload accepts a payload iff every \x1e-separated record is a packet, and yields them in order.
//  - round trips: decode(encode(p)) == p for packets and payloads; a text packet encodes back to the exact input.
//  - what the server would send for the decoded packets (polling body, WebSocket frame) decodes to the same packets.
#include "sioserver.hpp"

#include "fuzz_common.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace {

using sio::eio::Packet;
using sio::eio::PacketType;

bool same(const Packet& a, const Packet& b) { return a.type == b.type && a.binary == b.binary && a.data == b.data; }

std::string describe(const Packet& p) {
    return std::string(p.binary ? "binary " : "type ") + std::to_string(int(p.type)) + " data '" + fuzz::show(p.data) +
           "'";
}

// The packet alone: what a WebSocket text frame carries.
void check_packet(std::string_view in) {
    Packet p;
    bool ok = sio::eio::decode_packet(in, p);
    if (in.empty()) {
        FUZZ_CHECK(!ok, "eio-packet-accepts-empty", "empty packet accepted");
        return;
    }
    if (in[0] == 'b') {
        std::string bytes;
        bool b64 = sio::base64::decode(in.substr(1), bytes);
        FUZZ_CHECK(ok == b64, "eio-packet-binary", "decode_packet and base64::decode disagree on " + fuzz::show(in));
        if (ok)
            FUZZ_CHECK(p.binary && p.type == PacketType::Message && p.data == bytes, "eio-packet-binary",
                       "binary packet decoded as " + describe(p));
    } else if (in[0] >= '0' && in[0] <= '6') {
        FUZZ_CHECK(ok, "eio-packet-rejects-valid", "valid packet refused: " + fuzz::show(in));
        if (ok)
            FUZZ_CHECK(!p.binary && int(p.type) == in[0] - '0' && p.data == in.substr(1), "eio-packet-text",
                       fuzz::show(in) + " decoded as " + describe(p));
    } else {
        FUZZ_CHECK(!ok, "eio-packet-accepts-unknown-type", "unknown type accepted: " + fuzz::show(in));
    }
    if (!ok) return;

    std::string encoded = sio::eio::encode_packet(p);
    if (!p.binary)
        FUZZ_CHECK(encoded == in, "eio-packet-roundtrip", fuzz::show(in) + " re-encoded as " + fuzz::show(encoded));
    Packet again;
    FUZZ_CHECK(sio::eio::decode_packet(encoded, again), "eio-packet-roundtrip",
               "re-encoded packet refused: " + fuzz::show(encoded));
    FUZZ_CHECK(same(p, again), "eio-packet-roundtrip", describe(p) + " came back as " + describe(again));

    // The WebSocket frame the server would send it in: a binary frame with the bytes, or a text frame with the text.
    auto out = std::make_shared<const sio::eio::Outgoing>(p);
    sio::ws::FrameParser parser(size_t(1) << 30, /*require_mask=*/false);
    parser.feed(out->ws_frame.data(), out->ws_frame.size());
    sio::ws::Message m;
    auto r = parser.next(m);
    if (p.binary) {
        FUZZ_CHECK(
            r == sio::ws::FrameParser::Result::Message && m.opcode == sio::ws::Opcode::Binary && m.data == p.data,
            "eio-outgoing-frame", "binary frame does not carry the bytes of " + describe(p));
    } else if (sio::is_valid_utf8(encoded)) {
        FUZZ_CHECK(r == sio::ws::FrameParser::Result::Message && m.opcode == sio::ws::Opcode::Text && m.data == encoded,
                   "eio-outgoing-frame", "text frame does not carry " + fuzz::show(encoded));
    } else {  // a text frame must be UTF-8: the parser (a client) refuses it
        FUZZ_CHECK(r == sio::ws::FrameParser::Result::Error && parser.close_code() == 1007, "eio-outgoing-frame",
                   "invalid UTF-8 text frame not refused");
    }
    FUZZ_CHECK(parser.buffered() == 0 || r == sio::ws::FrameParser::Result::Error, "eio-outgoing-frame",
               "bytes left after the one frame");
}

// The same bytes as a polling payload.
void check_payload(std::string_view in) {
    std::vector<Packet> packets;
    bool ok = sio::eio::decode_payload(in, packets);

    std::vector<std::string_view> records;  // the spec's split: there is always at least one record
    for (size_t start = 0;;) {
        size_t end = in.find('\x1e', start);
        records.push_back(in.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    std::vector<Packet> expected;
    bool all = true;
    for (auto r : records) {
        Packet p;
        if (!sio::eio::decode_packet(r, p)) {
            all = false;
            break;
        }
        expected.push_back(std::move(p));
    }
    FUZZ_CHECK(ok == all, "eio-payload-accept",
               std::string(ok ? "accepted" : "refused") + " payload " + fuzz::show(in));
    if (!ok) return;
    FUZZ_CHECK(packets.size() == expected.size(), "eio-payload-count",
               std::to_string(packets.size()) + " packets for " + std::to_string(expected.size()) + " records");
    for (size_t i = 0; i < packets.size() && i < expected.size(); ++i)
        FUZZ_CHECK(same(packets[i], expected[i]), "eio-payload-record",
                   "record " + std::to_string(i) + ": " + describe(packets[i]) + " vs " + describe(expected[i]));

    std::string encoded = sio::eio::encode_payload(packets);
    bool any_binary = false;
    for (auto& p : packets) any_binary = any_binary || p.binary;
    if (!any_binary)
        FUZZ_CHECK(encoded == in, "eio-payload-roundtrip", fuzz::show(in) + " re-encoded as " + fuzz::show(encoded));
    std::vector<Packet> again;
    FUZZ_CHECK(sio::eio::decode_payload(encoded, again), "eio-payload-roundtrip",
               "re-encoded payload refused: " + fuzz::show(encoded));
    FUZZ_CHECK(again.size() == packets.size(), "eio-payload-roundtrip", "packet count changed: " + fuzz::show(encoded));
    for (size_t i = 0; i < again.size() && i < packets.size(); ++i)
        FUZZ_CHECK(same(again[i], packets[i]), "eio-payload-roundtrip",
                   "packet " + std::to_string(i) + ": " + describe(packets[i]) + " came back as " + describe(again[i]));

    // The polling response body the server would write for these packets is the same payload.
    std::vector<sio::eio::OutgoingPtr> outgoing;
    for (auto& p : packets) outgoing.push_back(std::make_shared<const sio::eio::Outgoing>(p));
    FUZZ_CHECK(sio::eio::polling::encode_response(outgoing) == encoded, "eio-polling-response",
               "polling body differs from encode_payload for " + fuzz::show(in));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    check_packet(in);
    check_payload(in);
    return 0;
}
