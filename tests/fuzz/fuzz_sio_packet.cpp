// libFuzzer target: Socket.IO packets (sioserver.hpp layer 2f: sio::packet::decode / reconstruct / encode, and
// sio::Value's JSON side).
//
// Input layout: the packet text up to the first 0xFF byte (all of it if there is none: 0xFF never occurs in UTF-8,
// so the text can hold anything a WebSocket text frame can, NUL included); after the 0xFF, attachments as
// [length byte][that many bytes]... (a short last one takes what is left).
//
// Invariants:
//  - decode never throws; it fails only with one of its documented errors and then returns false.
//  - a decoded packet satisfies valid_payload; attachments > 0 only for BINARY_EVENT / BINARY_ACK and at most
//    kMaxAttachments; the namespace starts with '/'; the JSON data is the whole rest of the text (JSON.parse, as the
//    reference parser uses, refuses trailing characters — checked as 'sio-packet-trailing-data').
//  - reconstruct succeeds iff every placeholder points at an attachment, and then none is left.
//  - round trip: encode(p) decodes (and reconstructs with its own attachments) to a packet with the same type, nsp,
//    id and data (Value::operator==).
#include "sioserver.hpp"

#include "fuzz_common.hpp"

#include <cmath>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace {

using sio::Value;
namespace packet = sio::packet;

std::string show_packet(const packet::Packet& p) {
    try {
        return packet::describe(p);
    } catch (const std::exception& e) {
        return std::string("(describe threw: ") + e.what() + ")";
    }
}

// A placeholder as the reference parser recognises one: exactly {"_placeholder":true,"num":<number>}.
bool is_placeholder(const Value& v) {
    return v.is_object() && v.size() == 2 && v["_placeholder"].is_bool() && v["_placeholder"].as_bool() &&
           v.contains("num");
}

// Whether every placeholder in `v` points at one of `count` attachments (what reconstruct needs).
bool placeholders_resolvable(const Value& v, size_t count, bool& any) {
    if (is_placeholder(v)) {
        any = true;
        const Value& num = v["num"];
        if (!num.is_number()) return false;
        double n = num.as_number();  // compared as a double: casting a huge one to size_t is undefined
        return n >= 0 && n < double(count) && n == std::floor(n);
    }
    for (auto& item : v.as_array())
        if (!placeholders_resolvable(item, count, any)) return false;
    for (auto& kv : v.as_object())
        if (!placeholders_resolvable(kv.second, count, any)) return false;
    return true;
}

size_t count_binaries(const Value& v) {
    if (v.is_binary()) return 1;
    size_t n = 0;
    for (auto& item : v.as_array()) n += count_binaries(item);
    for (auto& kv : v.as_object()) n += count_binaries(kv.second);
    return n;
}

// Where the JSON data starts, by the spec's grammar <type>[<n>-][<nsp>,][<id>]<json> (as decode reads it).
size_t json_start(std::string_view in) {
    size_t i = 1;
    if (in[0] == '5' || in[0] == '6') {
        while (i < in.size() && in[i] != '-') ++i;
        ++i;
    }
    if (i < in.size() && in[i] == '/') {
        size_t comma = in.find(',', i);
        i = comma == std::string_view::npos ? in.size() : comma + 1;
    }
    size_t id_start = i;
    while (i < in.size() && in[i] >= '0' && in[i] <= '9' && i - id_start < 15) ++i;
    return i;
}

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Decodes `text`, then reconstructs with `attachments` when the type carries binary. False if either fails.
bool decode_whole(std::string_view text, const std::vector<std::string>& attachments, packet::Packet& p,
                  size_t& expected, std::string& error) {
    if (!packet::decode(text, p, expected, error)) return false;
    if (p.type == packet::Type::BinaryEvent || p.type == packet::Type::BinaryAck) {
        if (!packet::reconstruct(p, attachments)) {
            error = "reconstruct failed";
            return false;
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view all(reinterpret_cast<const char*>(data), size);
    size_t cut = all.find('\xff');
    std::string_view text = all.substr(0, cut);
    std::vector<std::string> attachments;
    if (cut != std::string_view::npos) {
        for (size_t i = cut + 1; i < all.size();) {
            size_t len = uint8_t(all[i++]);
            len = std::min(len, all.size() - i);
            attachments.emplace_back(all.substr(i, len));
            i += len;
        }
    }

    packet::Packet p;
    size_t expected = 0;
    std::string error;
    bool ok = false;
    try {
        ok = packet::decode(text, p, expected, error);
    } catch (const std::exception& e) {
        FUZZ_CHECK(false, "sio-packet-decode-throws",
                   std::string("packet::decode threw ") + e.what() + " for " + fuzz::show(text));
        return 0;
    }
    if (!ok) {
        FUZZ_CHECK(error == "unknown packet type" || error == "illegal attachments" ||
                       error == "too many attachments" || error == "invalid payload",
                   "sio-packet-error-text", "unexpected error '" + error + "' for " + fuzz::show(text));
        return 0;
    }

    FUZZ_CHECK(packet::valid_payload(p), "sio-packet-valid", "decoded packet fails valid_payload: " + show_packet(p));
    bool binary_type = p.type == packet::Type::BinaryEvent || p.type == packet::Type::BinaryAck;
    FUZZ_CHECK(binary_type || expected == 0, "sio-packet-attachments",
               std::to_string(expected) + " attachments on a " + packet::type_name(p.type));
    FUZZ_CHECK(expected <= packet::kMaxAttachments, "sio-packet-attachments", std::to_string(expected));
    FUZZ_CHECK(!p.nsp.empty() && p.nsp[0] == '/', "sio-packet-nsp", "namespace '" + fuzz::show(p.nsp) + "'");
    FUZZ_CHECK(p.nsp.find(',') == std::string::npos, "sio-packet-nsp", "comma in namespace " + fuzz::show(p.nsp));
    FUZZ_CHECK(p.id >= -1, "sio-packet-id", std::to_string(p.id));
    FUZZ_CHECK(!p.has_data || count_binaries(p.data) == 0, "sio-packet-binary-before-reconstruct",
               "decode produced binary values");

    size_t start = json_start(text);
    FUZZ_CHECK(p.has_data == (start < text.size()), "sio-packet-has-data",
               "has_data=" + std::to_string(p.has_data) + " for " + fuzz::show(text));
    if (p.has_data) {
        // JSON.parse(rest) in the reference: the value must be followed by nothing but whitespace.
        picojson::value json;
        std::string json_error;
        auto end = picojson::parse(json, text.begin() + start, text.end(), &json_error);
        while (end != text.end() && is_json_space(*end)) ++end;
        FUZZ_CHECK(json_error.empty() && end == text.end(), "sio-packet-trailing-data",
                   "accepted with characters after the JSON data: " + fuzz::show(text));
    }

    if (binary_type) {
        bool any = false;
        bool resolvable = !p.has_data || placeholders_resolvable(p.data, attachments.size(), any);
        packet::Packet before = p;
        bool rebuilt = packet::reconstruct(p, attachments);
        FUZZ_CHECK(rebuilt == resolvable, "sio-reconstruct",
                   std::string(rebuilt ? "succeeded" : "failed") + " with " + std::to_string(attachments.size()) +
                       " attachments for " + fuzz::show(text));
        if (!rebuilt) return 0;
        bool left = false;
        placeholders_resolvable(p.data, 0, left);
        FUZZ_CHECK(!left, "sio-reconstruct", "placeholders left after reconstruct: " + show_packet(p));
        FUZZ_CHECK(p.type == before.type && p.nsp == before.nsp && p.id == before.id && p.has_data == before.has_data,
                   "sio-reconstruct", "reconstruct changed more than the data");
    }

    // Round trip.
    packet::Encoded enc;
    try {
        enc = packet::encode(p);
    } catch (const std::exception& e) {
        FUZZ_CHECK(false, "sio-packet-encode-throws",
                   std::string("encode threw ") + e.what() + " for " + show_packet(p));
        return 0;
    }
    FUZZ_CHECK(enc.attachments.size() == (p.has_data ? count_binaries(p.data) : 0), "sio-packet-encode-attachments",
               std::to_string(enc.attachments.size()) + " attachments for " + show_packet(p));
    packet::Packet q;
    size_t q_expected = 0;
    std::string q_error;
    bool q_ok = false;
    try {
        q_ok = decode_whole(enc.text, enc.attachments, q, q_expected, q_error);
    } catch (const std::exception& e) {
        FUZZ_CHECK(false, "sio-packet-decode-throws", std::string("decode of encode() threw ") + e.what());
        return 0;
    }
    FUZZ_CHECK(
        q_ok, "sio-packet-roundtrip",
        "encode() gave " + fuzz::show(enc.text) + " which does not decode (" + q_error + "); from " + fuzz::show(text));
    if (!q_ok) return 0;
    FUZZ_CHECK(q_expected == enc.attachments.size(), "sio-packet-roundtrip", "attachment count changed");
    FUZZ_CHECK(q.type == p.type && q.nsp == p.nsp && q.id == p.id && q.has_data == p.has_data && q.data == p.data,
               "sio-packet-roundtrip",
               show_packet(p) + " came back as " + show_packet(q) + " via " + fuzz::show(enc.text));
    return 0;
}
