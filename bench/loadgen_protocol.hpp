// loadgen_protocol.hpp — the wire pieces the benchmark load generator (bench/loadgen.cpp) speaks as a CLIENT:
// WebSocket (RFC 6455) client handshake and frames, HTTP/1.1 responses, Engine.IO v4 packets and polling payloads,
// Socket.IO v5 packets. Pure functions only (no I/O, no globals), so bench/test_loadgen_protocol.cpp tests them.
//
// The load generator reads many small messages per second; the parsers here therefore work on string_views into
// the receive buffer and never allocate for a message they only inspect.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace lg {

// ---- base64 (RFC 4648 §4), for Sec-WebSocket-Key / Sec-WebSocket-Accept ---------------------------------------------
inline std::string base64_encode(std::string_view in) {
    static const char* const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    size_t rest = in.size() - i;
    if (rest == 1) {
        uint32_t v = uint32_t(uint8_t(in[i])) << 16;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += "==";
    } else if (rest == 2) {
        uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

// ---- SHA-1 (FIPS 180-4), only to check the server's Sec-WebSocket-Accept --------------------------------------------
inline std::string sha1(std::string_view message) {
    uint32_t h[5] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    std::string m(message);
    uint64_t bit_length = uint64_t(message.size()) * 8;
    m += char(0x80);
    while (m.size() % 64 != 56) m += char(0);
    for (int i = 7; i >= 0; --i) m += char((bit_length >> (i * 8)) & 0xff);
    auto rotl = [](uint32_t x, int n) { return (x << n) | (x >> (32 - n)); };
    for (size_t block = 0; block < m.size(); block += 64) {
        uint32_t w[80];
        for (int t = 0; t < 16; ++t) {
            const auto* p = reinterpret_cast<const uint8_t*>(m.data() + block + size_t(t) * 4);
            w[t] = (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
        }
        for (int t = 16; t < 80; ++t) w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int t = 0; t < 80; ++t) {
            uint32_t f, k;
            if (t < 20) {
                f = (b & c) | (~b & d);
                k = 0x5A827999u;
            } else if (t < 40) {
                f = b ^ c ^ d;
                k = 0x6ED9EBA1u;
            } else if (t < 60) {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8F1BBCDCu;
            } else {
                f = b ^ c ^ d;
                k = 0xCA62C1D6u;
            }
            uint32_t temp = rotl(a, 5) + f + e + k + w[t];
            e = d;
            d = c;
            c = rotl(b, 30);
            b = a;
            a = temp;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
    }
    std::string digest;
    for (uint32_t v : h)
        for (int i = 3; i >= 0; --i) digest += char((v >> (i * 8)) & 0xff);
    return digest;
}

// The Sec-WebSocket-Accept a server must answer for `key` (RFC 6455 §4.2.2).
inline std::string ws_accept_for(std::string_view key) {
    return base64_encode(sha1(std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
}

// ---- WebSocket frames (RFC 6455 §5.2) -------------------------------------------------------------------------------
enum WsOpcode : uint8_t { kWsCont = 0x0, kWsText = 0x1, kWsBinary = 0x2, kWsClose = 0x8, kWsPing = 0x9, kWsPong = 0xA };

// Appends one client frame (FIN set, masked with `mask`, as a client must) to `out`.
inline void ws_append_client_frame(std::string& out, uint8_t opcode, std::string_view payload, const uint8_t mask[4]) {
    size_t n = payload.size();
    out += char(0x80 | (opcode & 0x0f));
    if (n < 126) {
        out += char(0x80 | n);
    } else if (n <= 0xffff) {
        out += char(0x80 | 126);
        out += char((n >> 8) & 0xff);
        out += char(n & 0xff);
    } else {
        out += char(0x80 | 127);
        for (int i = 7; i >= 0; --i) out += char((uint64_t(n) >> (i * 8)) & 0xff);
    }
    out.append(reinterpret_cast<const char*>(mask), 4);
    size_t start = out.size();
    out.append(payload.data(), n);
    for (size_t i = 0; i < n; ++i) out[start + i] = char(out[start + i] ^ char(mask[i & 3]));
}

// One frame as it lies in the receive buffer. `payload` points into that buffer; when the frame was masked (servers
// never mask, but the parser accepts it) the bytes are unmasked in place, which is why the input is mutable.
struct WsFrame {
    bool fin = false;
    uint8_t opcode = 0;
    std::string_view payload;
};

enum class Parse { NeedMore, Ok, Error };

// Parses the frame at the start of [data, data + size). On Ok, `consumed` is the frame's whole length.
// `max_payload` bounds what a frame may announce (a broken stream must not make us wait for 2^63 bytes).
inline Parse ws_parse_frame(char* data, size_t size, WsFrame& out, size_t& consumed, size_t max_payload = 64u << 20) {
    if (size < 2) return Parse::NeedMore;
    const auto* p = reinterpret_cast<const uint8_t*>(data);
    if (p[0] & 0x70) return Parse::Error;  // reserved bits: no extension was negotiated
    uint8_t opcode = p[0] & 0x0f;
    if ((opcode > 0x2 && opcode < 0x8) || opcode > 0xA) return Parse::Error;
    bool masked = p[1] & 0x80;
    uint64_t len = p[1] & 0x7f;
    size_t header = 2;
    if (len == 126) {
        if (size < 4) return Parse::NeedMore;
        len = (uint64_t(p[2]) << 8) | p[3];
        header = 4;
    } else if (len == 127) {
        if (size < 10) return Parse::NeedMore;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
        header = 10;
    }
    if (len > max_payload) return Parse::Error;
    if ((opcode & 0x8) && (len > 125 || !(p[0] & 0x80))) return Parse::Error;  // control frames: short, unfragmented
    if (masked) header += 4;
    if (size < header || size - header < len) return Parse::NeedMore;
    char* payload = data + header;
    if (masked) {
        const uint8_t* mask = p + header - 4;
        for (size_t i = 0; i < len; ++i) payload[i] = char(payload[i] ^ char(mask[i & 3]));
    }
    out.fin = p[0] & 0x80;
    out.opcode = opcode;
    out.payload = std::string_view(payload, size_t(len));
    consumed = header + size_t(len);
    return Parse::Ok;
}

// ---- HTTP/1.1 -------------------------------------------------------------------------------------------------------
// The GET that opens a WebSocket. `target` is the path and query ("/socket.io/?EIO=4&transport=websocket").
inline std::string ws_upgrade_request(std::string_view host, std::string_view target, std::string_view key) {
    std::string r;
    r.reserve(256);
    r += "GET ";
    r += target;
    r += " HTTP/1.1\r\nHost: ";
    r += host;
    r += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
    r += key;
    r += "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    return r;
}

// A keep-alive GET or a text/plain POST (long-polling). No Accept-Encoding: bodies come back uncompressed.
inline std::string http_request(std::string_view method, std::string_view host, std::string_view target,
                                std::string_view body = {}) {
    std::string r;
    r.reserve(160 + body.size());
    r += method;
    r += ' ';
    r += target;
    r += " HTTP/1.1\r\nHost: ";
    r += host;
    r += "\r\nConnection: keep-alive\r\n";
    if (method == "POST") {
        r += "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: ";
        r += std::to_string(body.size());
        r += "\r\n";
    }
    r += "\r\n";
    r += body;
    return r;
}

// A response head and body. `body` is a view into the input when the body was sent with Content-Length, and into
// `body_storage` when it was chunked.
struct HttpResponse {
    int status = 0;
    bool keep_alive = true;  // false when the server said "Connection: close"
    std::string_view body;
    std::string body_storage;
    std::string accept;  // Sec-WebSocket-Accept, when present
};

inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

inline std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// Parses one whole response at the start of `in`. A 101 (or 204/304) has no body; otherwise Content-Length or
// chunked framing is required (a body "until close" is refused: the load generator only talks keep-alive).
// On Ok, `consumed` is the response's whole length; what follows it belongs to the next response or the WebSocket.
inline Parse http_parse_response(std::string_view in, HttpResponse& out, size_t& consumed) {
    size_t head_end = in.find("\r\n\r\n");
    if (head_end == std::string_view::npos) return in.size() > 65536 ? Parse::Error : Parse::NeedMore;
    std::string_view head = in.substr(0, head_end);
    out = HttpResponse();
    size_t line_end = head.find("\r\n");
    std::string_view status_line = head.substr(0, line_end);
    if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1.") return Parse::Error;
    int status = 0;
    for (size_t i = 9; i < 12; ++i) {
        if (status_line[i] < '0' || status_line[i] > '9') return Parse::Error;
        status = status * 10 + (status_line[i] - '0');
    }
    out.status = status;
    if (status_line.substr(0, 8) == "HTTP/1.0") out.keep_alive = false;
    long long content_length = -1;
    bool chunked = false;
    size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
        size_t end = head.find("\r\n", pos);
        if (end == std::string_view::npos) end = head.size();
        std::string_view line = head.substr(pos, end - pos);
        pos = end + 2;
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) return Parse::Error;
        std::string_view name = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
        if (iequals(name, "Content-Length")) {
            if (value.empty() || value.size() > 15) return Parse::Error;
            content_length = 0;
            for (char c : value) {
                if (c < '0' || c > '9') return Parse::Error;
                content_length = content_length * 10 + (c - '0');
            }
        } else if (iequals(name, "Transfer-Encoding")) {
            chunked = iequals(value, "chunked");
            if (!chunked) return Parse::Error;
        } else if (iequals(name, "Connection")) {
            if (iequals(value, "close")) out.keep_alive = false;
            else if (iequals(value, "keep-alive")) out.keep_alive = true;
        } else if (iequals(name, "Sec-WebSocket-Accept")) {
            out.accept.assign(value);
        }
    }
    size_t body_start = head_end + 4;
    if (status == 101 || status == 204 || status == 304 || (status >= 100 && status < 200)) {
        consumed = body_start;
        return Parse::Ok;
    }
    if (chunked) {
        size_t p = body_start;
        while (true) {
            size_t eol = in.find("\r\n", p);
            if (eol == std::string_view::npos) return Parse::NeedMore;
            std::string_view size_text = in.substr(p, eol - p);
            size_t semi = size_text.find(';');
            if (semi != std::string_view::npos) size_text = size_text.substr(0, semi);
            size_text = trim(size_text);
            if (size_text.empty() || size_text.size() > 8) return Parse::Error;
            size_t chunk = 0;
            for (char c : size_text) {
                int d = (c >= '0' && c <= '9')   ? c - '0'
                        : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                        : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                 : -1;
                if (d < 0) return Parse::Error;
                chunk = chunk * 16 + size_t(d);
            }
            p = eol + 2;
            if (chunk == 0) {  // last chunk; no trailers are expected, only the final CRLF
                if (in.size() < p + 2) return Parse::NeedMore;
                if (in.substr(p, 2) != "\r\n") return Parse::Error;
                consumed = p + 2;
                out.body = out.body_storage;
                return Parse::Ok;
            }
            if (in.size() < p + chunk + 2) return Parse::NeedMore;
            out.body_storage.append(in.data() + p, chunk);
            if (in.substr(p + chunk, 2) != "\r\n") return Parse::Error;
            p += chunk + 2;
        }
    }
    if (content_length < 0) return Parse::Error;
    if (in.size() - body_start < size_t(content_length)) return Parse::NeedMore;
    out.body = in.substr(body_start, size_t(content_length));
    consumed = body_start + size_t(content_length);
    return Parse::Ok;
}

// ---- Engine.IO v4 ---------------------------------------------------------------------------------------------------
// A packet is one type digit and its data: 0 open, 1 close, 2 ping, 3 pong, 4 message, 5 upgrade, 6 noop.
enum EioType : char {
    kEioOpen = '0',
    kEioClose = '1',
    kEioPing = '2',
    kEioPong = '3',
    kEioMessage = '4',
    kEioUpgrade = '5',
    kEioNoop = '6'
};

// Splits a long-polling payload into its packets (separated by the record separator 0x1e).
inline void eio_split_payload(std::string_view payload, std::vector<std::string_view>& out) {
    out.clear();
    size_t start = 0;
    while (true) {
        size_t end = payload.find('\x1e', start);
        if (end == std::string_view::npos) {
            out.push_back(payload.substr(start));
            return;
        }
        out.push_back(payload.substr(start, end - start));
        start = end + 1;
    }
}

// Joins packets into one long-polling payload (what a POST carries).
inline std::string eio_join_payload(const std::vector<std::string>& packets) {
    std::string out;
    for (size_t i = 0; i < packets.size(); ++i) {
        if (i) out += '\x1e';
        out += packets[i];
    }
    return out;
}

// The value of a top-level JSON string field ("sid" in the open packet), without unescaping (ids have no escapes).
inline std::string_view json_string_field(std::string_view json, std::string_view name) {
    std::string key;
    key.reserve(name.size() + 3);
    key += '"';
    key += name;
    key += "\":";
    size_t at = json.find(key);
    if (at == std::string_view::npos) return {};
    size_t p = at + key.size();
    while (p < json.size() && json[p] == ' ') ++p;
    if (p >= json.size() || json[p] != '"') return {};
    size_t end = json.find('"', p + 1);
    if (end == std::string_view::npos) return {};
    return json.substr(p + 1, end - p - 1);
}

// The value of a JSON number field ("t", "seq", "pingInterval"). Accepts integers and the exponent form a double
// may be printed in (1.5e+12). Returns false when the field is missing or not a number.
inline bool json_number_field(std::string_view json, std::string_view name, int64_t& value) {
    std::string key;
    key.reserve(name.size() + 3);
    key += '"';
    key += name;
    key += "\":";
    size_t at = json.find(key);
    if (at == std::string_view::npos) return false;
    size_t p = at + key.size();
    while (p < json.size() && json[p] == ' ') ++p;
    size_t start = p;
    bool negative = false;
    if (p < json.size() && json[p] == '-') {
        negative = true;
        ++p;
    }
    int64_t v = 0;
    size_t digits = 0;
    while (p < json.size() && json[p] >= '0' && json[p] <= '9' && digits < 18) {
        v = v * 10 + (json[p] - '0');
        ++p;
        ++digits;
    }
    if (digits == 0) return false;
    if (p < json.size() && (json[p] == '.' || json[p] == 'e' || json[p] == 'E' || (json[p] >= '0' && json[p] <= '9'))) {
        char buf[64];
        size_t end = start;
        while (end < json.size() && end - start < sizeof buf - 1 &&
               std::strchr("0123456789+-.eE", json[end]) != nullptr)
            ++end;
        std::memcpy(buf, json.data() + start, end - start);
        buf[end - start] = 0;
        value = int64_t(std::strtod(buf, nullptr));
        return true;
    }
    value = negative ? -v : v;
    return true;
}

// ---- Socket.IO v5 ---------------------------------------------------------------------------------------------------
//   <type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]      types: 0 CONNECT 1 DISCONNECT 2 EVENT 3 ACK
//                                                                           4 CONNECT_ERROR 5 BINARY_EVENT 6 BINARY_ACK
struct SioPacket {
    int type = -1;
    std::string_view nsp = "/";
    int64_t ack_id = -1;
    std::string_view data;  // the JSON after the header ("" when none)
};

// Parses a Socket.IO packet (the data of an Engine.IO message, i.e. without the leading "4").
inline bool sio_parse(std::string_view in, SioPacket& out) {
    out = SioPacket();
    if (in.empty() || in[0] < '0' || in[0] > '6') return false;
    out.type = in[0] - '0';
    size_t i = 1;
    if (out.type == 5 || out.type == 6) {
        size_t start = i;
        while (i < in.size() && in[i] >= '0' && in[i] <= '9') ++i;
        if (i == start || i >= in.size() || in[i] != '-') return false;
        ++i;
    }
    if (i < in.size() && in[i] == '/') {
        size_t comma = in.find(',', i);
        size_t end = comma == std::string_view::npos ? in.size() : comma;
        out.nsp = in.substr(i, end - i);
        i = comma == std::string_view::npos ? in.size() : comma + 1;
    }
    size_t id_start = i;
    int64_t id = 0;
    while (i < in.size() && in[i] >= '0' && in[i] <= '9' && i - id_start < 15) {
        id = id * 10 + (in[i] - '0');
        ++i;
    }
    if (i > id_start) out.ack_id = id;
    out.data = in.substr(i);
    if (!out.data.empty() && out.data[0] != '[' && out.data[0] != '{' && out.data[0] != '"') return false;
    return true;
}

// For an EVENT's data `["name", arg1, ...]`: the event name (escapes are not decoded; bench names have none) and
// the raw JSON of the arguments after it ("" when there are none).
inline bool sio_event_name(std::string_view data, std::string_view& name, std::string_view& rest) {
    if (data.size() < 4 || data[0] != '[' || data[1] != '"') return false;
    size_t p = 2;
    while (p < data.size() && data[p] != '"') {
        if (data[p] == '\\') ++p;
        ++p;
    }
    if (p >= data.size()) return false;
    name = data.substr(2, p - 2);
    ++p;
    if (p < data.size() && data[p] == ',') ++p;
    rest = data.substr(p);
    if (!rest.empty() && rest.back() == ']') rest.remove_suffix(1);
    return true;
}

// Splits an EVENT's arguments (the `rest` of sio_event_name) into the first argument's raw JSON and what follows it
// (after the comma, "" when nothing does). With connection state recovery on, servers append an offset string as
// the last argument — `{"t":1,"seq":2},"Bq3x9Z"` — so the benchmark's fields are looked up in `first` only.
// Strings (with their escapes) and nesting are skipped, not decoded; false when the first argument is unterminated.
inline bool json_first_value(std::string_view args, std::string_view& first, std::string_view& after) {
    size_t p = 0;
    while (p < args.size() && args[p] == ' ') ++p;
    const size_t start = p;
    int depth = 0;
    bool in_string = false;
    for (; p < args.size(); ++p) {
        char c = args[p];
        if (in_string) {
            if (c == '\\') ++p;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '{' || c == '[') ++depth;
        else if (c == '}' || c == ']') {
            if (--depth < 0) return false;
        } else if (c == ',' && depth == 0) break;
    }
    if (in_string || depth != 0 || p == start) return false;
    first = args.substr(start, p - start);
    while (!first.empty() && first.back() == ' ') first.remove_suffix(1);
    after = p < args.size() ? args.substr(p + 1) : std::string_view();
    while (!after.empty() && after.front() == ' ') after.remove_prefix(1);
    return true;
}

// The benchmark's messages. `t` is the sender's CLOCK_MONOTONIC in ns since the load generator's own start (small
// enough to stay exact through a JavaScript double); `seq` numbers the messages; `pad` bytes of filler make the
// message bigger when asked.
inline void sio_append_chat(std::string& out, int64_t t, int64_t seq, size_t pad = 0) {
    char buf[96];
    int n =
        std::snprintf(buf, sizeof buf, "42[\"chat message\",{\"t\":%lld,\"seq\":%lld", (long long)t, (long long)seq);
    out.append(buf, size_t(n));
    if (pad) {
        out += ",\"p\":\"";
        out.append(pad, 'x');
        out += '"';
    }
    out += "}]";
}

// An EVENT asking for an acknowledgement: 42<id>["echo",{"t":...,"seq":...}] — the server answers 43<id>[{...}].
inline void sio_append_echo(std::string& out, int64_t ack_id, int64_t t, int64_t seq) {
    char buf[112];
    int n = std::snprintf(buf, sizeof buf, "42%lld[\"echo\",{\"t\":%lld,\"seq\":%lld}]", (long long)ack_id,
                          (long long)t, (long long)seq);
    out.append(buf, size_t(n));
}

}  // namespace lg
