// sioserver_redis.hpp — the Redis adapter of sioserver: C++ and Node Socket.IO servers in one cluster.
//
// WHAT   io.adapter(sio::redis::createAdapter(options)) makes a sio::Server one node of a cluster that talks through
//        Redis pub/sub byte for byte like Node's `@socket.io/redis-adapter` 8.3 (the classic createAdapter(), not the
//        sharded one). C++ and Node nodes mix in one cluster, and `@socket.io/redis-emitter` 5.1 reaches the clients
//        of every node. What crosses nodes: broadcasts (to / except / volatile / compress, binary included),
//        broadcasts with acks, fetchSockets, socketsJoin / socketsLeave / disconnectSockets, serverSideEmit with or
//        without an ack. Not supported, as in Node's adapter: connection state recovery across nodes.
// USE    #include "sioserver_redis.hpp" (it includes sioserver.hpp; sioserver.hpp never includes it)
//          sio::Server io;
//          sio::redis::Options ro;  ro.host = "127.0.0.1";  ro.port = 6379;
//          io.adapter(sio::redis::createAdapter(ro));      // before listen()
//        g++ -std=c++17 -O2 -DMSGPACK_NO_BOOST app.cpp $(pkg-config --cflags --libs cpp-httplib) -lhiredis -pthread
// NEEDS  sioserver.hpp and what it needs; hiredis >= 0.14 (Debian libhiredis-dev; only its synchronous API);
//        msgpack-cxx 4.x (Debian libmsgpack-cxx-dev, header-only; define MSGPACK_NO_BOOST, or this header does).
// API    sio::redis::Options       host, port, password, db, key, requestsTimeout, publishOnSpecificResponseChannel
//                                  (Node's names and defaults), and reconnect / time-out knobs of our own
//        sio::redis::createAdapter(Options) -> sio::AdapterFactory. Every namespace adapter one factory makes
//                                  shares ONE subscriber connection (its own thread) and ONE publisher connection
//                                  (its own thread and queue: no caller ever waits for Redis). Use one factory per
//                                  sio::Server: two servers of one process on one factory would count as one node.
//        sio::redis::RedisAdapter  the adapter of one namespace (io.of("/x").adapter()); uid() is its node id,
//                                  stats() the counters of its factory's connections (see Stats)
//        sio::redis::wire::*       the message codecs (pure functions, no I/O), for tests and tools
// FAULTS Redis down at start or restarting: both connections retry with backoff and resubscribe; meanwhile local
//        clients are served, publishes are dropped (counted in Stats::unsent) and requests answer with what this node
//        has. Bad bytes on a channel are counted (Stats::malformed) and dropped. A request waiting on a node that
//        never answers ends at requestsTimeout with the partial result and an error, as in Node.
// READ   1. options and counters   2. wire codecs (pure)   3. the Redis connections   4. the adapter
// LICENSE MIT, as sioserver.hpp. Copyright (c) 2026 the sioserver authors.
#pragma once

#ifndef MSGPACK_NO_BOOST
#define MSGPACK_NO_BOOST
#endif

#include "sioserver.hpp"

#include <hiredis/hiredis.h>
#include <msgpack.hpp>

#include <netdb.h>
#include <netinet/tcp.h>

namespace sio {
namespace redis {

// =====================================================================================================================
// 1. OPTIONS AND COUNTERS
// =====================================================================================================================

// The options of Node's createAdapter(pubClient, subClient, opts), with the connection's own (host ... db) in it,
// since this adapter opens its connections itself.
struct Options {
    std::string host = "localhost";
    int port = 6379;
    std::string password;  // AUTH <password> when not empty
    int db = 0;            // SELECT <db> on the publisher when not 0 (pub/sub itself ignores databases)
    std::string key = "socket.io";         // the channels' prefix
    int requestsTimeout = 5000;            // ms a request (fetchSockets, serverSideEmit with an ack) waits
    bool publishOnSpecificResponseChannel = false;  // answer on <key>-response#<nsp>#<requester uid>#
    // Not in the reference (its Redis client has its own): how the connections come back after a failure. The
    // delay starts at reconnectDelay ms and doubles after each failed attempt up to reconnectDelayMax.
    int reconnectDelay = 100;
    int reconnectDelayMax = 5000;
    // Not in the reference: ms to connect (and to authenticate), and ms a command or a reply may stall before
    // the connection counts as broken and is made again.
    int connectTimeout = 2000;
    int commandTimeout = 5000;
    // Not in the reference: the most commands waiting for the publisher; past it, publishes are dropped (counted)
    // rather than letting a stalled Redis grow the queue without bound.
    size_t maxQueuedCommands = 100000;
};

// What the connections of one factory did, for tests and monitoring (RedisAdapter::stats()).
struct Stats {
    uint64_t published = 0;        // PUBLISH commands Redis accepted
    uint64_t unsent = 0;           // publishes dropped: Redis down, queue full, or the connection broke under them
    uint64_t received = 0;         // messages the subscriber got (every channel)
    uint64_t malformed = 0;        // of those, dropped as bad: not decodable, trailing bytes, a wrong shape
    uint64_t reconnects = 0;       // times a connection came back after it was lost (either connection)
    uint64_t requestsTimedOut = 0; // requests of ours that ended at their time-out
};

// =====================================================================================================================
// 2. WIRE CODECS — the messages of @socket.io/redis-adapter 8.3 (see the notes' §1 and §6). Pure functions, no I/O.
//    Broadcasts are msgpack as notepack.io 3.0.1 writes it: integral numbers as the smallest integer, others as
//    float64, str8 for 32-255 byte strings, binary as bin. Requests and responses are JSON, except the broadcast
//    with acks (7) and its per-client answer (9), which are msgpack; a receiver tells them apart by the first byte
//    ('{' is JSON).
// =====================================================================================================================
namespace wire {

// ---- 2a. JavaScript's text forms: what Node writes for a number, for String(x), and for JSON.stringify(x) ---------

// Number.prototype.toString(): the shortest digits that read back as the same double, in JS's layout.
inline std::string js_number(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    if (d == 0) return "0";  // -0 too
    char buf[40];
    int precision = 1;
    for (; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*e", precision - 1, d);
        if (std::strtod(buf, nullptr) == d) break;
    }
    // buf is [-]d[.ddd]e[+-]x: split into the digits and the decimal exponent
    std::string s(buf);
    std::string sign;
    if (s[0] == '-') { sign = "-"; s.erase(0, 1); }
    size_t e = s.find('e');
    int exponent = std::atoi(s.c_str() + e + 1);
    std::string digits;
    for (size_t i = 0; i < e; ++i)
        if (s[i] != '.') digits += s[i];
    while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
    const int k = int(digits.size()), n = exponent + 1;  // the value is 0.digits * 10^n
    std::string out;
    if (k <= n && n <= 21) out = digits + std::string(size_t(n - k), '0');
    else if (0 < n && n <= 21) out = digits.substr(0, size_t(n)) + "." + digits.substr(size_t(n));
    else if (-6 < n && n <= 0) out = "0." + std::string(size_t(-n), '0') + digits;
    else {
        out = digits.substr(0, 1);
        if (k > 1) out += "." + digits.substr(1);
        out += (n - 1 >= 0 ? "e+" : "e-") + std::to_string(std::abs(n - 1));
    }
    return sign + out;
}

// String(x): how a JS object key or a room name reads when the value was not a string (notepack's decoder turns
// every map key into a string this way; numeric rooms arrive as numbers).
inline std::string js_string(const Value& v) {
    switch (v.type()) {
    case Value::Type::Null: return "null";
    case Value::Type::Bool: return v.as_bool() ? "true" : "false";
    case Value::Type::Number: return js_number(v.as_number());
    case Value::Type::String: case Value::Type::Binary: return v.as_string();  // a Buffer's toString(): its bytes
    case Value::Type::Array: {
        std::string out;
        for (size_t i = 0; i < v.size(); ++i) {
            if (i) out += ',';
            if (!v[i].is_null()) out += js_string(v[i]);  // [null].toString() is ""
        }
        return out;
    }
    case Value::Type::Object: return "[object Object]";
    }
    return {};
}

// JS objects list integer-like keys first, in ascending order, then the others in insertion order; a sio::Value
// object is sorted, so "the others" come out sorted. Encoders below use this order, as notepack and JSON do.
inline bool is_array_index(const std::string& key) {
    if (key.empty() || key.size() > 10 || (key[0] == '0' && key.size() > 1)) return false;
    for (char c : key)
        if (c < '0' || c > '9') return false;
    return std::stoull(key) < 4294967295ull;
}
inline std::vector<const std::pair<const std::string, Value>*> js_key_order(const Value::Object& o) {
    std::vector<const std::pair<const std::string, Value>*> indexes, others;
    for (auto& kv : o) (is_array_index(kv.first) ? indexes : others).push_back(&kv);
    std::sort(indexes.begin(), indexes.end(), [](auto* a, auto* b) { return std::stoull(a->first) < std::stoull(b->first); });
    indexes.insert(indexes.end(), others.begin(), others.end());
    return indexes;
}

inline void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (char ch : s) {
        const auto c = uint8_t(ch);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                char b[8];
                std::snprintf(b, sizeof b, "\\u%04x", unsigned(c));
                out += b;
            } else {
                out += ch;
            }
        }
    }
    out += '"';
}

// JSON.stringify(x) as Node writes it: a binary buffer becomes {"type":"Buffer","data":[bytes...]} (Buffer's
// toJSON), a number that is not finite becomes null.
inline void append_json(std::string& out, const Value& v) {
    switch (v.type()) {
    case Value::Type::Null: out += "null"; return;
    case Value::Type::Bool: out += v.as_bool() ? "true" : "false"; return;
    case Value::Type::Number: out += std::isfinite(v.as_number()) ? js_number(v.as_number()) : "null"; return;
    case Value::Type::String: append_json_string(out, v.as_string()); return;
    case Value::Type::Binary: {
        out += "{\"type\":\"Buffer\",\"data\":[";
        const std::string& bytes = v.as_binary();
        for (size_t i = 0; i < bytes.size(); ++i) {
            if (i) out += ',';
            out += std::to_string(unsigned(uint8_t(bytes[i])));
        }
        out += "]}";
        return;
    }
    case Value::Type::Array:
        out += '[';
        for (size_t i = 0; i < v.size(); ++i) {
            if (i) out += ',';
            append_json(out, v[i]);
        }
        out += ']';
        return;
    case Value::Type::Object: {
        out += '{';
        bool first = true;
        for (auto* kv : js_key_order(v.as_object())) {
            if (!first) out += ',';
            first = false;
            append_json_string(out, kv->first);
            out += ':';
            append_json(out, kv->second);
        }
        out += '}';
        return;
    }
    }
}
inline std::string to_json(const Value& v) {
    std::string out;
    append_json(out, v);
    return out;
}

// JSON.parse: one JSON text, white space around it allowed, nothing else after it.
inline bool parse_json(std::string_view text, Value& out) {
    picojson::value json;
    std::string error;
    const char* end = text.data() + text.size();
    const char* stop = end;
    try {  // picojson throws for numbers beyond a double
        stop = picojson::parse(json, text.data(), end, &error);
    } catch (const std::exception&) {
        return false;
    }
    if (!error.empty()) return false;
    while (stop != end && (*stop == ' ' || *stop == '\t' || *stop == '\r' || *stop == '\n')) ++stop;
    return stop == end && Value::from_picojson(json, out);
}

// ---- 2b. msgpack <-> sio::Value, as notepack.io 3.0.1 --------------------------------------------------------------

// msgpack-cxx's packer writes into anything with write(const char*, size_t); Writer keeps both together.
struct StringSink {
    std::string* out;
    void write(const char* p, size_t n) { out->append(p, n); }
};
struct Writer {
    explicit Writer(std::string& out) : sink{&out}, pk(sink) {}
    StringSink sink;
    msgpack::packer<StringSink> pk;
};

inline uint32_t checked_size(size_t n) {
    if (n > 0xffffffffu) throw std::length_error("sio::redis: a value too large for msgpack");
    return uint32_t(n);
}
inline void pack_string(Writer& w, std::string_view s) {
    w.pk.pack_str(checked_size(s.size()));
    w.pk.pack_str_body(s.data(), uint32_t(s.size()));
}
// notepack writes a number with no fractional part in the smallest integer form, anything else (NaN, the
// infinities, fractions) as float64, never float32. msgpack-cxx's pack_double does the same, but converts 2^64
// itself to an integer type first (undefined), so from 2^64 up the float64 is written here.
inline void pack_number(Writer& w, double d) {
    if (!(std::fabs(d) >= 18446744073709551616.0)) {
        w.pk.pack_double(d);
        return;
    }
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    char buf[9];
    buf[0] = char(0xcb);
    for (int i = 0; i < 8; ++i) buf[1 + i] = char(uint8_t(bits >> (56 - 8 * i)));
    w.sink.write(buf, sizeof buf);
}

inline void pack_value(Writer& w, const Value& v) {
    switch (v.type()) {
    case Value::Type::Null: w.pk.pack_nil(); return;
    case Value::Type::Bool: v.as_bool() ? w.pk.pack_true() : w.pk.pack_false(); return;
    case Value::Type::Number: pack_number(w, v.as_number()); return;
    case Value::Type::String: pack_string(w, v.as_string()); return;
    case Value::Type::Binary: {
        const std::string& b = v.as_binary();
        w.pk.pack_bin(checked_size(b.size()));
        w.pk.pack_bin_body(b.data(), uint32_t(b.size()));
        return;
    }
    case Value::Type::Array:
        w.pk.pack_array(checked_size(v.size()));
        for (auto& item : v.as_array()) pack_value(w, item);
        return;
    case Value::Type::Object:
        w.pk.pack_map(checked_size(v.size()));
        for (auto* kv : js_key_order(v.as_object())) {
            pack_string(w, kv->first);
            pack_value(w, kv->second);
        }
        return;
    }
}
inline std::string pack(const Value& v) {
    std::string out;
    Writer w(out);
    pack_value(w, v);
    return out;
}

// The ISO 8601 text a JS Date gives in JSON (toJSON), or null when it is out of Date's range: what a Node server
// would send its clients for a msgpack timestamp, since a sio::Value has no date type.
inline Value date_value(double ms) {
    ms = std::trunc(ms);
    if (!(std::fabs(ms) <= 8.64e15)) return Value();
    const auto t = static_cast<long long>(ms);
    long long days = t / 86400000, rem = t % 86400000;
    if (rem < 0) { rem += 86400000; --days; }
    // civil date from days since 1970-01-01 (the proleptic Gregorian calendar, in 400-year eras)
    const long long z = days + 719468;
    const long long era = (z >= 0 ? z : z - 146096) / 146097;
    const long long doe = z - era * 146097;
    const long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const long long mp = (5 * doy + 2) / 153;
    const long long day = doy - (153 * mp + 2) / 5 + 1;
    const long long month = mp < 10 ? mp + 3 : mp - 9;
    const long long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    char ybuf[16];
    if (year >= 0 && year <= 9999) std::snprintf(ybuf, sizeof ybuf, "%04lld", year);
    else std::snprintf(ybuf, sizeof ybuf, "%c%06lld", year < 0 ? '-' : '+', year < 0 ? -year : year);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ", ybuf, month, day, rem / 3600000,
                  rem / 60000 % 60, rem / 1000 % 60, rem % 1000);
    return Value(std::string(buf));
}

inline uint64_t read_be(const char* p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | uint8_t(p[i]);
    return v;
}

// What notepack's decoder makes of an ext value, in sio::Value terms: timestamps (type -1 as fixext 4, fixext 8,
// or ext 8 of 12 bytes) and its legacy date (fixext 8, type 0) become ISO text, its legacy undefined (fixext 1,
// type 0) null, its legacy ArrayBuffer (ext 8/16/32, type 0) a binary, and any other ext the pair [type, binary].
enum class ExtForm { Fixed, Ext8, Wider };
inline Value ext_value(int8_t type, const char* data, size_t size, ExtForm form) {
    const bool fixed = form == ExtForm::Fixed;
    if (type == 0 && fixed && size == 1) return Value();
    if (type == 0 && fixed && size == 8) return date_value(double(int64_t(read_be(data, 8))));
    if (type == 0 && !fixed) return Value(Binary{std::string(data, size)});
    if (type == -1 && fixed && size == 4) return date_value(double(read_be(data, 4)) * 1e3);
    if (type == -1 && fixed && size == 8) {
        const uint64_t all = read_be(data, 8);
        return date_value(double(all & 0x3ffffffffull) * 1e3 + double(all >> 34) / 1e6);
    }
    if (type == -1 && form == ExtForm::Ext8 && size == 12) {
        const double ns = double(read_be(data, 4));
        const auto seconds = int64_t(read_be(data + 4, 8));
        return date_value(double(seconds) * 1e3 + ns / 1e6);
    }
    return Value(Array{Value(type), Value(Binary{std::string(data, size)})});
}

// Builds a sio::Value while msgpack-cxx's parser walks the bytes (no msgpack::object in between). Maps become
// objects with String(key) keys, the last of two equal keys winning, as in notepack.
class ValueBuilder {
public:
    static constexpr size_t kMaxDepth = 100;  // nesting refused past this (a Value is destroyed recursively)

    ValueBuilder(const char* begin, size_t size) : begin_(begin), size_(size) {}
    Value take() { return std::move(result_); }

    bool visit_nil() { return put(Value()); }
    bool visit_boolean(bool v) { return put(Value(v)); }
    bool visit_positive_integer(uint64_t v) { return put(Value(double(v))); }
    bool visit_negative_integer(int64_t v) { return put(Value(double(v))); }
    bool visit_float32(float v) { return put(Value(double(v))); }
    bool visit_float64(double v) { return put(Value(v)); }
    bool visit_str(const char* v, uint32_t size) { return put(Value(std::string(v, size))); }
    bool visit_bin(const char* v, uint32_t size) { return put(Value(Binary{std::string(v, size)})); }
    // `v` points at the type byte, in the input. The bytes before it tell the forms apart: a fixext has its marker
    // (d4-d8) there; an ext 8 has c7 and its one length byte (an ext 16/32 length cannot look like either).
    bool visit_ext(const char* v, uint32_t size) {
        if (size == 0) return false;
        const size_t n = size - 1;
        static const std::pair<size_t, uint8_t> fixed[] = {{1, 0xd4}, {2, 0xd5}, {4, 0xd6}, {8, 0xd7}, {16, 0xd8}};
        ExtForm form = ExtForm::Wider;
        for (auto& f : fixed)
            if (n == f.first && v - begin_ >= 1 && uint8_t(v[-1]) == f.second) form = ExtForm::Fixed;
        if (form == ExtForm::Wider && n < 256 && v - begin_ >= 2 && uint8_t(v[-2]) == 0xc7 && uint8_t(v[-1]) == n)
            form = ExtForm::Ext8;
        return put(ext_value(int8_t(uint8_t(v[0])), v + 1, n, form));
    }
    bool start_array(uint32_t n) {
        if (stack_.size() >= kMaxDepth) return false;
        stack_.emplace_back();
        stack_.back().items.reserve(std::min<size_t>(n, size_));  // a header may claim more than the bytes hold
        return true;
    }
    bool start_array_item() { return true; }
    bool end_array_item() { return true; }
    bool end_array() { return end_aggregate(); }
    bool start_map(uint32_t) {
        if (stack_.size() >= kMaxDepth) return false;
        stack_.emplace_back();
        stack_.back().is_map = true;
        return true;
    }
    bool start_map_key() { stack_.back().want_key = true; return true; }
    bool end_map_key() { stack_.back().want_key = false; return true; }
    bool start_map_value() { return true; }
    bool end_map_value() { return true; }
    bool end_map() { return end_aggregate(); }
    void parse_error(size_t, size_t) {}
    void insufficient_bytes(size_t, size_t) {}
    bool referenced() const { return false; }
    void set_referenced(bool) {}

private:
    struct Frame {
        bool is_map = false;
        bool want_key = false;
        Value::Array items;
        Value::Object fields;
        std::string key;
    };
    bool put(Value v) {
        if (stack_.empty()) {
            result_ = std::move(v);
            return true;
        }
        Frame& f = stack_.back();
        if (!f.is_map) f.items.push_back(std::move(v));
        else if (f.want_key) f.key = v.is_string() ? v.as_string() : js_string(v);
        else f.fields[std::move(f.key)] = std::move(v);
        return true;
    }
    bool end_aggregate() {
        Frame f = std::move(stack_.back());
        stack_.pop_back();
        return put(f.is_map ? Value(std::move(f.fields)) : Value(std::move(f.items)));
    }

    const char* begin_;
    size_t size_;
    std::vector<Frame> stack_;
    Value result_;
};

// One msgpack value filling `bytes` exactly (notepack refuses trailing bytes too); false for anything else.
inline bool unpack(std::string_view bytes, Value& out) {
    if (bytes.empty()) return false;
    ValueBuilder builder(bytes.data(), bytes.size());
    size_t offset = 0;
    try {
        if (!msgpack::parse(bytes.data(), bytes.size(), offset, builder) || offset != bytes.size()) return false;
    } catch (const std::exception&) {  // the parser throws for sizes it cannot hold
        return false;
    }
    out = builder.take();
    return true;
}

// A request or response payload: JSON when its first byte is '{', msgpack otherwise (RA index.ts:256-261).
inline bool decode_payload(std::string_view bytes, Value& out) {
    if (!bytes.empty() && bytes[0] == '{') return parse_json(bytes, out);
    return unpack(bytes, out);
}

// ---- 2c. The channels of one namespace (RA index.ts:138-141) --------------------------------------------------------
struct Channels {
    Channels(const std::string& key, const std::string& nsp, const std::string& uid)
        : base(key + "#" + nsp + "#"),
          request(key + "-request#" + nsp + "#"),
          response(key + "-response#" + nsp + "#"),
          own_response(response + uid + "#") {}
    std::string base;          // broadcasts to every socket, or to several rooms
    std::string request;       // requests; every node subscribes to it, so PUBSUB NUMSUB on it counts the nodes
    std::string response;      // answers, unless the answering node publishes on the requester's own channel:
    std::string own_response;  //   <response><requester uid>#
    // One PSUBSCRIBE covers the base channel and every room channel ('*' matches the empty string too).
    std::string pattern() const { return base + "*"; }
    // A broadcast to exactly one room goes to <base><room>#, so a receiver can drop it before decoding it.
    std::string room(const std::string& name) const { return base + name + "#"; }
};

// ---- 2d. A broadcast: [uid, {type, data, nsp}, {rooms, except, flags}] on the base or a room channel -------------
struct Broadcast {
    std::string uid;                       // the sender ("emitter" from @socket.io/redis-emitter)
    int type = 2;                          // the Socket.IO packet type: always EVENT (2) from the adapters
    Value data;                            // [event, args...], binary inside as msgpack bin
    std::string nsp = "/";                 // a receiver reads a missing nsp as "/"
    std::vector<std::string> rooms, except;
    BroadcastFlags flags;                  // what crosses: volatile, compress, timeout (never local)
    std::string channel(const Channels& ch) const { return rooms.size() == 1 ? ch.room(rooms[0]) : ch.base; }
};

// flags as Node's BroadcastOperator builds them: only what was set ({} for a plain emit). compress(true) reads
// the same as no compress() call, so only false is written.
inline void pack_flags(Writer& w, const BroadcastFlags& f) {
    const uint32_t n = uint32_t(f.volatile_) + uint32_t(!f.compress) + uint32_t(f.timeout >= 0);
    w.pk.pack_map(n);
    if (f.volatile_) { pack_string(w, "volatile"); w.pk.pack_true(); }
    if (!f.compress) { pack_string(w, "compress"); w.pk.pack_false(); }
    if (f.timeout >= 0) { pack_string(w, "timeout"); pack_number(w, double(f.timeout)); }
}
inline void pack_rooms(Writer& w, const std::vector<std::string>& rooms) {
    w.pk.pack_array(checked_size(rooms.size()));
    for (auto& r : rooms) pack_string(w, r);
}
inline void pack_packet(Writer& w, int type, const Value& data, const std::string& nsp) {
    w.pk.pack_map(3);
    pack_string(w, "type");
    w.pk.pack_int(type);
    pack_string(w, "data");
    pack_value(w, data);
    pack_string(w, "nsp");
    pack_string(w, nsp);
}
inline void pack_options(Writer& w, const std::vector<std::string>& rooms, const std::vector<std::string>& except,
                         const BroadcastFlags& flags) {
    w.pk.pack_map(3);
    pack_string(w, "rooms");
    pack_rooms(w, rooms);
    pack_string(w, "except");
    pack_rooms(w, except);
    pack_string(w, "flags");
    pack_flags(w, flags);
}

// The bytes RA's broadcast() publishes (index.ts:619-639), key for key.
inline std::string encode_broadcast(const Broadcast& b) {
    std::string out;
    Writer w(out);
    w.pk.pack_array(3);
    pack_string(w, b.uid);
    pack_packet(w, b.type, b.data, b.nsp);
    pack_options(w, b.rooms, b.except, b.flags);
    return out;
}

// rooms / except as a receiver reads them: strings, or numbers (numeric rooms of a Node server) as String(n).
// Missing is empty; anything but an array is a bad message.
inline bool read_rooms(const Value& v, std::vector<std::string>& out) {
    out.clear();
    if (v.is_null()) return true;
    if (!v.is_array()) return false;
    for (auto& r : v.as_array()) {
        if (r.is_string()) out.push_back(r.as_string());
        else if (r.is_number()) out.push_back(js_number(r.as_number()));
        else return false;
    }
    return true;
}
inline BroadcastFlags read_flags(const Value& f) {
    BroadcastFlags flags;
    flags.volatile_ = f["volatile"].as_bool();
    flags.compress = !(f["compress"].is_bool() && !f["compress"].as_bool());
    if (f["timeout"].is_number() && f["timeout"].as_number() >= 0)
        flags.timeout = int(std::min(f["timeout"].as_number(), 2147483647.0));
    return flags;
}
// A packet object {type, data, nsp}: an EVENT (or BINARY_EVENT) whose data is [event, args...].
inline bool read_packet(const Value& p, int& type, Value& data, std::string& nsp) {
    if (!p.is_object() || !p["type"].is_number()) return false;
    type = int(p["type"].as_int());
    if (type != 2 && type != 5) return false;  // adapters only publish events; anything else would reach clients
    if (!p["data"].is_array() || p["data"].size() == 0) return false;
    data = p["data"];
    if (p["nsp"].is_null()) nsp = "/";
    else if (p["nsp"].is_string()) nsp = p["nsp"].as_string();
    else return false;
    return true;
}

// Decodes what any sender (RA, the emitter, this adapter) publishes; false for a bad message.
inline bool decode_broadcast(std::string_view bytes, Broadcast& out) {
    Value v;
    if (!unpack(bytes, v) || !v.is_array() || v.size() < 3) return false;
    out.uid = v[0].is_string() ? v[0].as_string() : js_string(v[0]);
    if (!read_packet(v[1], out.type, out.data, out.nsp)) return false;
    const Value& opts = v[2];
    if (!opts.is_object()) return false;
    if (!read_rooms(opts["rooms"], out.rooms) || !read_rooms(opts["except"], out.except)) return false;
    out.flags = read_flags(opts["flags"]);
    return true;
}

// ---- 2e. Requests, on <key>-request#<nsp># (RA index.ts:14-25, 253-470) ------------------------------------------
enum RequestType : int {
    SOCKETS = 0, ALL_ROOMS = 1, REMOTE_JOIN = 2, REMOTE_LEAVE = 3, REMOTE_DISCONNECT = 4, REMOTE_FETCH = 5,
    SERVER_SIDE_EMIT = 6, BROADCAST = 7, BROADCAST_CLIENT_COUNT = 8, BROADCAST_ACK = 9
};

// Every field any request type carries; `type` says which ones mean something.
struct Request {
    int type = -1;
    std::string uid;                  // the sender; empty when absent (the emitter's 2/3/4 have none)
    bool has_uid = false;
    std::string requestId;            // absent for 2/3/4 and for 6 without an ack
    bool has_request_id = false;
    bool has_opts = false;            // 2/3/4: the opts form (the legacy form has sid and room instead)
    std::vector<std::string> opts_rooms, opts_except;  // opts.rooms, opts.except: which sockets
    BroadcastFlags flags;             // 7: opts.flags
    std::vector<std::string> rooms;   // 2/3: the rooms to join or leave; 0: the rooms to list
    bool close = false;               // 4
    Value data;                       // 6: [event, args...]; 7: the packet's data
    int packet_type = 2;              // 7: the packet's type
    std::string nsp = "/";            // 7: the packet's nsp
    std::string sid, room;            // the legacy 2/3/4 form
};

inline void append_json_rooms(std::string& out, const std::vector<std::string>& rooms) {
    out += '[';
    for (size_t i = 0; i < rooms.size(); ++i) {
        if (i) out += ',';
        append_json_string(out, rooms[i]);
    }
    out += ']';
}
inline void append_json_field(std::string& out, const char* name, bool first = false) {
    if (!first) out += ',';
    out += '"';
    out += name;
    out += "\":";
}

// The bytes RA publishes for each request type, key for key (JSON, but msgpack for 7).
inline std::string encode_request(const Request& r) {
    std::string out;
    if (r.type == BROADCAST) {
        Writer w(out);
        w.pk.pack_map(5);
        pack_string(w, "uid");
        pack_string(w, r.uid);
        pack_string(w, "requestId");
        pack_string(w, r.requestId);
        pack_string(w, "type");
        w.pk.pack_int(BROADCAST);
        pack_string(w, "packet");
        pack_packet(w, r.packet_type, r.data, r.nsp);
        pack_string(w, "opts");
        pack_options(w, r.opts_rooms, r.opts_except, r.flags);
        return out;
    }
    out += '{';
    append_json_field(out, "uid", true);
    append_json_string(out, r.uid);
    if (r.has_request_id) {
        append_json_field(out, "requestId");
        append_json_string(out, r.requestId);
    }
    append_json_field(out, "type");
    out += std::to_string(r.type);
    switch (r.type) {
    case SOCKETS:
        append_json_field(out, "rooms");
        append_json_rooms(out, r.rooms);
        break;
    case REMOTE_JOIN: case REMOTE_LEAVE: case REMOTE_DISCONNECT: case REMOTE_FETCH:
        append_json_field(out, "opts");
        out += "{\"rooms\":";
        append_json_rooms(out, r.opts_rooms);
        out += ",\"except\":";
        append_json_rooms(out, r.opts_except);
        out += '}';
        if (r.type == REMOTE_JOIN || r.type == REMOTE_LEAVE) {
            append_json_field(out, "rooms");
            append_json_rooms(out, r.rooms);
        } else if (r.type == REMOTE_DISCONNECT) {
            append_json_field(out, "close");
            out += r.close ? "true" : "false";
        }
        break;
    case SERVER_SIDE_EMIT:
        append_json_field(out, "data");
        append_json(out, r.data);
        break;
    default: break;  // ALL_ROOMS has nothing more
    }
    out += '}';
    return out;
}

// Reads a request from any sender; false for a bad one (not decodable, not an object, no numeric type, a field
// of the wrong kind). Unknown types decode (type >= 10) and are ignored by the adapter, as Node ignores them.
inline bool decode_request(std::string_view bytes, Request& out) {
    Value v;
    if (!decode_payload(bytes, v) || !v.is_object() || !v["type"].is_number()) return false;
    out = Request();
    out.type = int(v["type"].as_int());
    if (v.contains("uid")) {
        out.has_uid = true;
        out.uid = v["uid"].is_string() ? v["uid"].as_string() : js_string(v["uid"]);
    }
    if (v.contains("requestId") && !v["requestId"].is_null()) {
        out.has_request_id = true;
        out.requestId = v["requestId"].is_string() ? v["requestId"].as_string() : js_string(v["requestId"]);
    }
    const Value& opts = v["opts"];
    if (opts.is_object()) {
        out.has_opts = true;
        if (!read_rooms(opts["rooms"], out.opts_rooms) || !read_rooms(opts["except"], out.opts_except)) return false;
        out.flags = read_flags(opts["flags"]);
    } else if (!opts.is_null()) {
        return false;
    }
    if (!read_rooms(v["rooms"], out.rooms)) return false;
    out.close = v["close"].as_bool();
    if (v["sid"].is_string()) out.sid = v["sid"].as_string();
    if (v["room"].is_string()) out.room = v["room"].as_string();
    else if (v["room"].is_number()) out.room = js_number(v["room"].as_number());
    switch (out.type) {
    case REMOTE_FETCH:
        return out.has_opts;
    case SERVER_SIDE_EMIT:
        out.data = v["data"];
        return out.data.is_array() && out.data.size() > 0;
    case BROADCAST:
        return out.has_request_id && out.has_opts && read_packet(v["packet"], out.packet_type, out.data, out.nsp);
    case REMOTE_JOIN: case REMOTE_LEAVE: case REMOTE_DISCONNECT:
        return out.has_opts || !out.sid.empty();
    default:
        return true;
    }
}

// ---- 2f. Responses, on <key>-response#<nsp># or <key>-response#<nsp>#<requester uid># (RA index.ts:480-609) -------

// One socket in an answer to REMOTE_FETCH: Node's {id, handshake, rooms, data} (handshake without sessionStore).
struct SocketEntry {
    std::string id;
    Value handshake;  // {headers, time, address, xdomain, secure, issued, url, query, auth}
    std::vector<std::string> rooms;
    Value data;
};

struct Response {
    std::string requestId;
    int type = -1;                     // 6, 8 and 9 carry a type; the others (0, 1, 5, legacy) do not
    bool has_sockets = false;          // 0: ids; 5: SocketEntry objects (entries that are not objects are skipped)
    std::vector<SocketEntry> sockets;
    std::vector<std::string> socket_ids;
    bool has_rooms = false;            // 1
    std::vector<std::string> rooms;
    double clientCount = 0;            // 8
    Value data;                        // 6: the one argument of the node's acknowledgement
    Value packet;                      // 9: the first argument of a client's acknowledgement
};

inline bool read_socket_entry(const Value& v, SocketEntry& out) {
    if (!v.is_object() || !v["id"].is_string()) return false;
    out.id = v["id"].as_string();
    out.handshake = v["handshake"];
    if (!read_rooms(v["rooms"], out.rooms)) return false;
    out.data = v["data"];
    return true;
}

// Reads a response; false for a bad one (not decodable, not an object, no requestId).
inline bool decode_response(std::string_view bytes, Response& out) {
    Value v;
    if (!decode_payload(bytes, v) || !v.is_object()) return false;
    out = Response();
    const Value& id = v["requestId"];
    if (id.is_null()) return false;
    out.requestId = id.is_string() ? id.as_string() : js_string(id);
    if (v["type"].is_number()) out.type = int(v["type"].as_int());
    if (v["sockets"].is_array()) {  // Node counts an answer without an array but cannot complete with it
        out.has_sockets = true;
        for (auto& s : v["sockets"].as_array()) {
            if (s.is_string()) out.socket_ids.push_back(s.as_string());
            SocketEntry e;
            if (read_socket_entry(s, e)) out.sockets.push_back(std::move(e));
        }
    }
    if (v["rooms"].is_array()) {
        out.has_rooms = true;
        (void)read_rooms(v["rooms"], out.rooms);
    }
    out.clientCount = v["clientCount"].as_number();
    out.data = v["data"];
    out.packet = v["packet"];
    return true;
}

inline std::string encode_fetch_response(const std::string& requestId, const std::vector<SocketEntry>& sockets) {
    std::string out = "{\"requestId\":";
    append_json_string(out, requestId);
    out += ",\"sockets\":[";
    for (size_t i = 0; i < sockets.size(); ++i) {
        const SocketEntry& s = sockets[i];
        if (i) out += ',';
        out += "{\"id\":";
        append_json_string(out, s.id);
        append_json_field(out, "handshake");
        append_json(out, s.handshake);
        append_json_field(out, "rooms");
        append_json_rooms(out, s.rooms);
        append_json_field(out, "data");
        append_json(out, s.data);
        out += '}';
    }
    out += "]}";
    return out;
}
// The answer to ALL_ROOMS ({requestId, rooms}) or to SOCKETS ({requestId, sockets: [ids]}).
inline std::string encode_list_response(const std::string& requestId, const char* field,
                                        const std::vector<std::string>& items) {
    std::string out = "{\"requestId\":";
    append_json_string(out, requestId);
    append_json_field(out, field);
    append_json_rooms(out, items);
    out += '}';
    return out;
}
// The answer to a legacy (sid) REMOTE_JOIN / LEAVE / DISCONNECT: {requestId}.
inline std::string encode_done_response(const std::string& requestId) {
    std::string out = "{\"requestId\":";
    append_json_string(out, requestId);
    out += '}';
    return out;
}
// A node's acknowledgement of a server-side emit: {type: 6, requestId, data}.
inline std::string encode_server_side_emit_response(const std::string& requestId, const Value& data) {
    std::string out = "{\"type\":6,\"requestId\":";
    append_json_string(out, requestId);
    append_json_field(out, "data");
    append_json(out, data);
    out += '}';
    return out;
}
// How many of a node's sockets got a broadcast with acks: {type: 8, requestId, clientCount} (JSON).
inline std::string encode_client_count_response(const std::string& requestId, size_t clientCount) {
    std::string out = "{\"type\":8,\"requestId\":";
    append_json_string(out, requestId);
    out += ",\"clientCount\":" + std::to_string(clientCount) + "}";
    return out;
}
// One client's acknowledgement of a broadcast: {type: 9, requestId, packet} (msgpack: it may hold binary).
inline std::string encode_broadcast_ack_response(const std::string& requestId, const Value& packet) {
    std::string out;
    Writer w(out);
    w.pk.pack_map(3);
    pack_string(w, "type");
    w.pk.pack_int(BROADCAST_ACK);
    pack_string(w, "requestId");
    pack_string(w, requestId);
    pack_string(w, "packet");
    pack_value(w, packet);
    return out;
}

// A uid2(6)-shaped id: 6 random alphanumerics (node ids and request ids, as RA makes them).
inline std::string random_uid(size_t length = 6) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string out;
    unsigned char bytes[32];
    while (out.size() < length) {
        ssize_t n = getrandom(bytes, sizeof bytes, 0);
        if (n <= 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error("getrandom failed");
        }
        for (ssize_t i = 0; i < n && out.size() < length; ++i)
            if (bytes[i] < 248) out += alphabet[bytes[i] % 62];  // 248 = 4 * 62: no bias
    }
    return out;
}

}  // namespace wire

}  // namespace redis
}  // namespace sio
