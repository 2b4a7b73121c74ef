// sioserver_redis.hpp — the Redis adapter of sioserver: C++ and Node Socket.IO servers in one cluster.
//
// WHAT   io.adapter(sio::redis::createAdapter(options)) makes a sio::Server one node of a cluster that talks through
//        Redis pub/sub byte for byte like Node's `@socket.io/redis-adapter` 8.3 (the classic createAdapter();
//        createShardedAdapter() is its sharded one, over Redis 7's SPUBLISH / SSUBSCRIBE). C++ and Node nodes mix in
//        one cluster, and `@socket.io/redis-emitter` 5.1 reaches the clients of every node (classic adapter only).
//        What crosses nodes: broadcasts (to / except / volatile / compress, binary included),
//        broadcasts with acks, fetchSockets, socketsJoin / socketsLeave / disconnectSockets, serverSideEmit with or
//        without an ack. Connection state recovery across nodes: only on createStreamsAdapter(), Node's
//        `@socket.io/redis-streams-adapter` 0.3.1 (broadcasts through a Redis stream, sessions kept in Redis), which
//        also joins Node clusters on that package; the other two keep no session, as Node's do not.
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
//                                  stats() the counters of its factory's connections (see Stats); counters()
//                                  (sio::AdapterStats, for the metrics add-on) is one object per factory, shared
//                                  by its namespaces' adapters (all three kinds): see detail::Counters
//        sio::redis::createShardedAdapter(ShardedOptions) -> sio::AdapterFactory: Node's createShardedAdapter
//                                  (channelPrefix, subscriptionMode); its adapters are ShardedAdapter (section 7)
//        sio::redis::createStreamsAdapter(StreamsOptions) -> sio::AdapterFactory: Node's Redis Streams adapter
//                                  (streamName ... onlyPlaintext, and persistSessionsEagerly of our own); with
//                                  opt.connectionStateRecovery any node restores any client. StreamsAdapter (section 6)
//        sio::redis::ping(Options) "" when Redis answers, else what is wrong: to say so before io.start()
//        sio::redis::wire::*       the message codecs (pure functions, no I/O), for tests and tools
// FAULTS Redis down at start or restarting: both connections retry with backoff and resubscribe; meanwhile local
//        clients are served, publishes are dropped (counted in Stats::unsent) and requests answer with what this node
//        has. Bad bytes on a channel are counted (Stats::malformed) and dropped. A request waiting on a node that
//        never answers ends at requestsTimeout with the partial result and an error, as in Node. The Streams
//        adapter's reader goes on from the last entry it read, says an outage once on stderr, skips (and counts)
//        entries that are not an adapter's; while Redis cannot take a broadcast, this node's clients still get it.
// READ   1. options and counters   2. wire codecs (pure)   3. the Redis connections   4. the adapter
//        5. cluster adapters (what 6 and 7 share)   6. the Streams adapter   7. the sharded adapter
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
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sio {
namespace redis {

// =====================================================================================================================
// 1. OPTIONS AND COUNTERS
// =====================================================================================================================

// The options of Node's createAdapter(pubClient, subClient, opts), with the connection's own (host ... db) in it,
// since this adapter opens its connections itself.
struct Options {
    std::string host = "localhost";  // a name is resolved by getaddrinfo(), which may wait for DNS; an address does not
    int port = 6379;
    std::string password;           // AUTH <password> when not empty
    int db = 0;                     // SELECT <db> on the publisher when not 0 (pub/sub itself ignores databases)
    std::string key = "socket.io";  // the channels' prefix
    int requestsTimeout = 5000;     // ms a request (fetchSockets, serverSideEmit with an ack) waits
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

// The options of @socket.io/redis-streams-adapter 0.3.1's createAdapter(redisClient, opts), Node's names and
// defaults, with the connection's own (host ... maxQueuedCommands, from Options) in it. Options::key and
// publishOnSpecificResponseChannel are the classic adapter's, not read by this one.
struct StreamsOptions : Options {
    std::string streamName = "socket.io";     // the stream, or with streamCount > 1 the streams' prefix
    int streamCount = 1;                      // namespaces spread over <streamName>-<i> by String.hashCode % count
    std::string channelPrefix = "socket.io";  // pub/sub channels: <prefix>#<nsp># and <prefix>#<nsp>#<uid>#
    bool useShardedPubSub = false;            // SPUBLISH / SSUBSCRIBE (Redis 7) instead of PUBLISH / SUBSCRIBE
    size_t maxLen = 10000;                    // XADD MAXLEN ~ maxLen: the stream keeps about that many entries
    int readCount = 100;                      // XREAD COUNT
    int blockTimeInMs = 5000;                 // XREAD BLOCK
    std::string sessionKeyPrefix = "sio:session:";
    bool onlyPlaintext = false;  // stream data always JSON (binary then becomes Buffer's JSON form, as in Node)
    // Not in the reference: also persist each session while its socket is connected (at connect, when its rooms
    // change, and again every sessionRefreshInterval ms, which picks up changes to socket.data()), so that the
    // clients of a node that dies without closing (SIGKILL, a crash, a lost host) recover on another. The
    // reference persists a session only when the socket closes on the node that holds it.
    bool persistSessionsEagerly = false;
    int sessionRefreshInterval = 0;  // ms; 0: a third of maxDisconnectionDuration
};

// The options of @socket.io/redis-adapter 8.3's createShardedAdapter(pubClient, subClient, opts), Node's names and
// defaults, with the connection's own (host ... maxQueuedCommands, from Options) in it. Options::key and
// publishOnSpecificResponseChannel are the classic adapter's, not read by this one.
struct ShardedOptions : Options {
    std::string channelPrefix = "socket.io";  // channels: <prefix>#<nsp>#, <prefix>#<nsp>#<room>#, ...#<uid>#
    // Static: every message on the namespace's channel. Dynamic: a broadcast to one room that is not a socket id
    // goes to that room's channel, which only the nodes where the room exists subscribe to. DynamicPrivate: socket
    // id rooms too. Every node of a cluster should use one mode (a Static node misses a Dynamic node's broadcasts
    // to one room).
    enum class SubscriptionMode { Static, Dynamic, DynamicPrivate };
    SubscriptionMode subscriptionMode = SubscriptionMode::Dynamic;
};

// What the connections of one factory did, for tests and monitoring (RedisAdapter::stats()).
struct Stats {
    uint64_t published = 0;         // PUBLISH commands Redis accepted
    uint64_t unsent = 0;            // publishes dropped: Redis down, queue full, or the connection broke under them
    uint64_t received = 0;          // messages the subscriber got (every channel)
    uint64_t malformed = 0;         // of those, dropped as bad: not decodable, trailing bytes, a wrong shape
    uint64_t reconnects = 0;        // times a connection came back after it was lost (either connection)
    uint64_t requestsTimedOut = 0;  // requests of ours that ended at their time-out
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
    if (s[0] == '-') {
        sign = "-";
        s.erase(0, 1);
    }
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
    case Value::Type::String:
    case Value::Type::Binary: return v.as_string();  // a Buffer's toString(): its bytes
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
    std::sort(indexes.begin(), indexes.end(),
              [](auto* a, auto* b) { return std::stoull(a->first) < std::stoull(b->first); });
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

// JSON.parse: one JSON text, white space around it allowed, nothing else after it, nested at most 100 deep
// (sioserver.hpp's depth-bounded picojson context: deeper text is refused, not recursed into).
inline bool parse_json(std::string_view text, Value& out) {
    picojson::value json;
    std::string error;
    const char* end = text.data() + text.size();
    const char* stop = end;
    try {  // picojson throws for numbers beyond a double
        stop = ::sio::ext::parse_json(json, text.data(), end, error);
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
    if (rem < 0) {
        rem += 86400000;
        --days;
    }
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
    bool start_map_key() {
        stack_.back().want_key = true;
        return true;
    }
    bool end_map_key() {
        stack_.back().want_key = false;
        return true;
    }
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
    std::string uid;        // the sender ("emitter" from @socket.io/redis-emitter)
    int type = 2;           // the Socket.IO packet type: always EVENT (2) from the adapters
    Value data;             // [event, args...], binary inside as msgpack bin
    std::string nsp = "/";  // a receiver reads a missing nsp as "/"
    std::vector<std::string> rooms, except;
    BroadcastFlags flags;  // what crosses: volatile, compress, timeout (never local)
    std::string channel(const Channels& ch) const { return rooms.size() == 1 ? ch.room(rooms[0]) : ch.base; }
};

// flags as Node's BroadcastOperator builds them: only what was set ({} for a plain emit). compress(true) reads
// the same as no compress() call, so only false is written.
inline void pack_flags(Writer& w, const BroadcastFlags& f) {
    const uint32_t n = uint32_t(f.volatile_) + uint32_t(!f.compress) + uint32_t(f.timeout >= 0);
    w.pk.pack_map(n);
    if (f.volatile_) {
        pack_string(w, "volatile");
        w.pk.pack_true();
    }
    if (!f.compress) {
        pack_string(w, "compress");
        w.pk.pack_false();
    }
    if (f.timeout >= 0) {
        pack_string(w, "timeout");
        pack_number(w, double(f.timeout));
    }
}
template <class Rooms>  // a vector or a set of names
void pack_rooms(Writer& w, const Rooms& rooms) {
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
template <class Rooms>
void pack_options(Writer& w, const Rooms& rooms, const Rooms& except, const BroadcastFlags& flags) {
    w.pk.pack_map(3);
    pack_string(w, "rooms");
    pack_rooms(w, rooms);
    pack_string(w, "except");
    pack_rooms(w, except);
    pack_string(w, "flags");
    pack_flags(w, flags);
}

// The bytes RA's broadcast() publishes (index.ts:619-639), key for key. (The second form spares the adapter a
// copy of the packet's data.)
template <class Rooms>
std::string encode_broadcast(const std::string& uid, int type, const Value& data, const std::string& nsp,
                             const Rooms& rooms, const Rooms& except, const BroadcastFlags& flags) {
    std::string out;
    Writer w(out);
    w.pk.pack_array(3);
    pack_string(w, uid);
    pack_packet(w, type, data, nsp);
    pack_options(w, rooms, except, flags);
    return out;
}
inline std::string encode_broadcast(const Broadcast& b) {
    return encode_broadcast(b.uid, b.type, b.data, b.nsp, b.rooms, b.except, b.flags);
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
// A packet object {type, data, nsp}: an EVENT (or BINARY_EVENT) whose data is [event, args...] with an event name
// the clients' parser takes (a string other than the reserved ones, or a number), since Node would pass anything
// on and a client's parser drops the connection for a bad one.
inline bool read_packet(const Value& p, int& type, Value& data, std::string& nsp) {
    if (!p.is_object() || !p["type"].is_number()) return false;
    type = int(p["type"].as_int());
    if (type != 2 && type != 5) return false;  // adapters only publish events; anything else would reach clients
    packet::Packet check;
    check.type = packet::Type::Event;
    check.has_data = true;
    check.data = p["data"];
    if (!packet::valid_payload(check)) return false;
    data = std::move(check.data);
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
    SOCKETS = 0,
    ALL_ROOMS = 1,
    REMOTE_JOIN = 2,
    REMOTE_LEAVE = 3,
    REMOTE_DISCONNECT = 4,
    REMOTE_FETCH = 5,
    SERVER_SIDE_EMIT = 6,
    BROADCAST = 7,
    BROADCAST_CLIENT_COUNT = 8,
    BROADCAST_ACK = 9
};

// Every field any request type carries; `type` says which ones mean something.
struct Request {
    int type = -1;
    std::string uid;  // the sender; empty when absent (the emitter's 2/3/4 have none)
    bool has_uid = false;
    std::string requestId;  // absent for 2/3/4 and for 6 without an ack
    bool has_request_id = false;
    bool has_opts = false;  // 2/3/4: the opts form (the legacy form has sid and room instead)
    std::vector<std::string> opts_rooms, opts_except;  // opts.rooms, opts.except: which sockets
    BroadcastFlags flags;                              // 7: opts.flags
    std::vector<std::string> rooms;                    // 2/3: the rooms to join or leave; 0: the rooms to list
    bool close = false;                                // 4
    Value data;                                        // 6: [event, args...]; 7: the packet's data
    int packet_type = 2;                               // 7: the packet's type
    std::string nsp = "/";                             // 7: the packet's nsp
    std::string sid, room;                             // the legacy 2/3/4 form
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
    case REMOTE_JOIN:
    case REMOTE_LEAVE:
    case REMOTE_DISCONNECT:
    case REMOTE_FETCH:
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
    case REMOTE_FETCH: return out.has_opts;
    case SERVER_SIDE_EMIT: out.data = v["data"]; return out.data.is_array() && out.data.size() > 0;
    case BROADCAST:
        return out.has_request_id && out.has_opts && read_packet(v["packet"], out.packet_type, out.data, out.nsp);
    case REMOTE_JOIN:
    case REMOTE_LEAVE:
    case REMOTE_DISCONNECT: return out.has_opts || !out.sid.empty();
    default: return true;
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
    int type = -1;             // 6, 8 and 9 carry a type; the others (0, 1, 5, legacy) do not
    bool has_sockets = false;  // 0: ids; 5: SocketEntry objects (entries that are not objects are skipped)
    std::vector<SocketEntry> sockets;
    std::vector<std::string> socket_ids;
    bool has_rooms = false;  // 1
    std::vector<std::string> rooms;
    double clientCount = 0;  // 8
    Value data;              // 6: the one argument of the node's acknowledgement
    Value packet;            // 9: the first argument of a client's acknowledgement
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

// ---- 2g. ClusterAdapter messages (socket.io-adapter 2.5's cluster model, the notes' §2), as the Streams adapter of
// @socket.io/redis-streams-adapter 0.3.1 carries them (§5.6): in a stream entry (uid, nsp, type, data) or, for the
// ephemeral ones (requests that want answers, and the answers), as one @msgpack/msgpack map on pub/sub.
namespace cluster {

enum Type : int {
    INITIAL_HEARTBEAT = 1,
    HEARTBEAT = 2,
    BROADCAST = 3,
    SOCKETS_JOIN = 4,
    SOCKETS_LEAVE = 5,
    DISCONNECT_SOCKETS = 6,
    FETCH_SOCKETS = 7,
    FETCH_SOCKETS_RESPONSE = 8,
    SERVER_SIDE_EMIT = 9,
    SERVER_SIDE_EMIT_RESPONSE = 10,
    BROADCAST_CLIENT_COUNT = 11,
    BROADCAST_ACK = 12,
    ADAPTER_CLOSE = 13,
};

struct Message {
    int type = 0;
    Value data;  // null when the message has none (1, 2, 13)
    std::string uid, nsp;
};

// randomBytes(8).toString("hex"): a node's uid and a request's id.
inline std::string random_hex_id() {
    static const char hex[] = "0123456789abcdef";
    unsigned char bytes[8];
    size_t got = 0;
    while (got < sizeof bytes) {
        ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
        if (n <= 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error("getrandom failed");
        }
        got += size_t(n);
    }
    std::string out;
    for (unsigned char b : bytes) {
        out += hex[b >> 4];
        out += hex[b & 15];
    }
    return out;
}

// The util's hasBinary: a buffer anywhere inside.
inline bool has_binary(const Value& v) {
    if (v.is_binary()) return true;
    if (v.is_array())
        return std::any_of(v.as_array().begin(), v.as_array().end(), [](const Value& x) { return has_binary(x); });
    if (v.is_object())
        return std::any_of(v.as_object().begin(), v.as_object().end(),
                           [](const auto& kv) { return has_binary(kv.second); });
    return false;
}
// The types whose data may hold binary, so go as msgpack in a stream entry when they do (RS encode()).
inline bool may_carry_binary(int type) {
    return type == BROADCAST || type == FETCH_SOCKETS_RESPONSE || type == SERVER_SIDE_EMIT ||
           type == SERVER_SIDE_EMIT_RESPONSE || type == BROADCAST_ACK;
}

// @msgpack/msgpack 2.8's encode() of a Value: as notepack (pack_value) but for numbers, which take an integer form
// only while they are safe integers (|n| < 2^53); beyond, float64 (notes §6.3).
inline void pack_js_value(Writer& w, const Value& v);
inline void pack_js_number(Writer& w, double d) {
    if (std::trunc(d) == d && std::fabs(d) <= 9007199254740991.0) {
        w.pk.pack_double(d);  // integral: the int form
        return;
    }
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    char buf[9];
    buf[0] = char(0xcb);
    for (int i = 0; i < 8; ++i) buf[1 + i] = char(uint8_t(bits >> (56 - 8 * i)));
    w.sink.write(buf, sizeof buf);
}
inline void pack_js_value(Writer& w, const Value& v) {
    switch (v.type()) {
    case Value::Type::Number: return pack_js_number(w, v.as_number());
    case Value::Type::Array:
        w.pk.pack_array(checked_size(v.size()));
        for (auto& item : v.as_array()) pack_js_value(w, item);
        return;
    case Value::Type::Object:
        w.pk.pack_map(checked_size(v.size()));
        for (auto* kv : js_key_order(v.as_object())) {
            pack_string(w, kv->first);
            pack_js_value(w, kv->second);
        }
        return;
    default: return pack_value(w, v);
    }
}
inline std::string pack_js(const Value& v) {
    std::string out;
    Writer w(out);
    pack_js_value(w, v);
    return out;
}

// A whole message for pub/sub: {type, data, uid, nsp} in that key order (publishAndReturnOffset adds uid and nsp
// last); data left out when null.
inline std::string encode_pubsub(const Message& m) {
    std::string out;
    Writer w(out);
    w.pk.pack_map(m.data.is_null() ? 3 : 4);
    pack_string(w, "type");
    w.pk.pack_int(m.type);
    if (!m.data.is_null()) {
        pack_string(w, "data");
        pack_js_value(w, m.data);
    }
    pack_string(w, "uid");
    pack_string(w, m.uid);
    pack_string(w, "nsp");
    pack_string(w, m.nsp);
    return out;
}
inline bool decode_pubsub(std::string_view bytes, Message& out) {
    Value parsed;
    if (!unpack(bytes, parsed)) return false;
    const Value& v = parsed;  // read only: a writable operator[] would throw on a non-object
    if (!v.is_object() || !v["type"].is_number() || !v["nsp"].is_string()) return false;
    if (!v["data"].is_null() && !v["data"].is_object()) return false;  // every type's data is an object
    out.type = int(v["type"].as_number());
    out.data = v["data"];
    out.uid = v["uid"].as_string();
    out.nsp = v["nsp"].as_string();
    return true;
}

// The fields of a stream entry, in XADD's order: uid, nsp, type (decimal text), and data when there is some: its
// JSON, or base64 of its msgpack when it holds binary and may (unless onlyPlaintext: then Buffer's JSON form).
inline std::vector<std::string> entry_fields(const Message& m, bool only_plaintext) {
    std::vector<std::string> f{"uid", m.uid, "nsp", m.nsp, "type", std::to_string(m.type)};
    if (!m.data.is_null()) {
        f.push_back("data");
        if (!only_plaintext && may_carry_binary(m.type) && has_binary(m.data))
            f.push_back(base64::encode(pack_js(m.data)));
        else f.push_back(to_json(m.data));
    }
    return f;
}
// An entry's fields back (RS decode): data is JSON when it starts with '{', else base64 msgpack. False for an entry
// that is not one (no nsp, a type that is no number, data that does not decode).
inline bool decode_entry(const std::vector<std::pair<std::string_view, std::string_view>>& fields, Message& out) {
    bool has_nsp = false, has_type = false;
    std::string_view data;
    for (auto& kv : fields) {
        if (kv.first == "uid") out.uid = std::string(kv.second);
        else if (kv.first == "nsp") out.nsp = std::string(kv.second), has_nsp = true;
        else if (kv.first == "data") data = kv.second;
        else if (kv.first == "type") {
            if (kv.second.empty() || kv.second.size() > 9 ||
                kv.second.find_first_not_of("0123456789") != std::string_view::npos)
                return false;
            out.type = std::atoi(std::string(kv.second).c_str());
            has_type = true;
        }
    }
    if (!has_nsp || !has_type) return false;
    out.data = Value();
    if (data.empty()) return true;
    std::string bytes;
    if (data[0] == '{' ? !parse_json(data, out.data) : !base64::decode(data, bytes) || !unpack(bytes, out.data))
        return false;
    return out.data.is_object();  // every type's data is an object
}

// BroadcastOptions as encodeOptions writes them: {rooms, except, flags}; flags carry what was set.
inline Value encode_opts(const BroadcastOptions& o) {
    Value::Object flags;
    if (o.flags.volatile_) flags["volatile"] = true;
    if (!o.flags.compress) flags["compress"] = false;
    if (o.flags.timeout >= 0) flags["timeout"] = o.flags.timeout;
    return Value::Object{{"rooms", Value::Array(o.rooms.begin(), o.rooms.end())},
                         {"except", Value::Array(o.except.begin(), o.except.end())},
                         {"flags", std::move(flags)}};
}
inline bool decode_opts(const Value& v, BroadcastOptions& out) {
    if (!v.is_object()) return false;
    for (auto* list : {&v["rooms"], &v["except"]})
        if (!list->is_null() && !list->is_array()) return false;
    for (auto& r : v["rooms"].as_array()) {
        if (!r.is_string()) return false;
        out.rooms.insert(r.as_string());
    }
    for (auto& r : v["except"].as_array()) {
        if (!r.is_string()) return false;
        out.except.insert(r.as_string());
    }
    const Value& f = v["flags"];
    out.flags.volatile_ = f["volatile"].as_bool();
    out.flags.compress = !f["compress"].is_bool() || f["compress"].as_bool();
    if (f["timeout"].is_number()) out.flags.timeout = int(f["timeout"].as_number());
    return true;
}

// A session as persistSession stores it: base64 of @msgpack/msgpack's {sid, pid, rooms, data}.
inline std::string encode_session(const SessionToPersist& s) {
    std::string out;
    Writer w(out);
    w.pk.pack_map(4);
    pack_string(w, "sid");
    pack_string(w, s.sid);
    pack_string(w, "pid");
    pack_string(w, s.pid);
    pack_string(w, "rooms");
    w.pk.pack_array(checked_size(s.rooms.size()));
    for (auto& r : s.rooms) pack_string(w, r);
    pack_string(w, "data");
    pack_js_value(w, s.data);
    return base64::encode(out);
}
inline bool decode_session(std::string_view text, SessionToPersist& out) {
    std::string bytes;
    Value parsed;
    if (!base64::decode(text, bytes) || !unpack(bytes, parsed)) return false;
    const Value& v = parsed;  // read only: a writable operator[] would throw on a non-object
    if (!v["sid"].is_string() || !v["pid"].is_string() || !v["rooms"].is_array()) return false;
    out.sid = v["sid"].as_string();
    out.pid = v["pid"].as_string();
    for (auto& r : v["rooms"].as_array())
        if (r.is_string()) out.rooms.insert(r.as_string());
    out.data = v["data"];
    return true;
}

// Java's String.hashCode over the UTF-16 code units of `s` (RS util hashCode), in a signed 32-bit int.
inline int32_t hash_code(std::string_view s) {
    uint32_t h = 0;
    auto add = [&](uint32_t unit) { h = h * 31u + unit; };
    for (size_t i = 0; i < s.size();) {
        const auto c = uint8_t(s[i]);
        uint32_t cp;
        size_t n;
        if (c < 0x80) cp = c, n = 1;
        else if ((c >> 5) == 6) cp = c & 0x1fu, n = 2;
        else if ((c >> 4) == 14) cp = c & 0x0fu, n = 3;
        else cp = c & 0x07u, n = 4;
        if (i + n > s.size()) n = s.size() - i;
        for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (uint8_t(s[i + k]) & 0x3fu);
        i += n;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            add(0xd800u + (cp >> 10));
            add(0xdc00u + (cp & 0x3ffu));
        } else {
            add(cp);
        }
    }
    return int32_t(h);
}
// The stream of namespace `nsp` (RS computeStreamName): the name, or with several streams "<name>-<i>", where i is
// hashCode % count with JavaScript's sign (a negative i names a stream that no reader polls, in Node as here).
inline std::string stream_of(const std::string& nsp, const std::string& name, int count) {
    if (count <= 1) return name;
    return name + "-" + std::to_string(hash_code(nsp) % count);
}

// The stream entry id after `id` (RS nextOffset): "<ms>-<seq + 1>".
inline std::string next_offset(const std::string& id) {
    auto dash = id.find('-');
    return id.substr(0, dash + 1) + std::to_string(std::stoull(id.substr(dash + 1)) + 1);
}
// Whether `id` is an entry id, "<ms>-<seq>" (RS restoreSession's check), each part in 64 bits.
inline bool is_entry_id(std::string_view id) {
    auto dash = id.find('-');
    if (dash == std::string_view::npos || dash == 0 || dash + 1 == id.size() || dash > 19 || id.size() - dash - 1 > 19)
        return false;
    return id.find_first_not_of("0123456789-") == std::string_view::npos && id.find('-', dash + 1) == id.npos;
}
// Entry ids in the stream's order (<ms>, then <seq>, as numbers).
inline bool id_less(const std::string& a, const std::string& b) {
    auto parts = [](const std::string& id) {
        auto dash = id.find('-');
        return std::make_pair(std::strtoull(id.c_str(), nullptr, 10),
                              std::strtoull(id.c_str() + dash + 1, nullptr, 10));
    };
    return parts(a) < parts(b);
}

// ---- The sharded adapter (@socket.io/redis-adapter 8.3's createShardedAdapter, the notes' §3): one message per
// SPUBLISH, JSON.stringify'd, or as notepack when its type may carry binary and it does (RA sharded-adapter.ts).

// A string's length in JavaScript (UTF-16 code units), as looksLikeASocketId reads it.
inline size_t js_length(std::string_view s) {
    size_t n = 0;
    for (char ch : s) {
        const auto c = uint8_t(ch);
        if ((c & 0xc0) != 0x80) n += c >= 0xf0 ? 2 : 1;  // a lead byte; four-byte sequences are surrogate pairs
    }
    return n;
}
// looksLikeASocketId: Node's socket ids (base64id) are 20 characters long.
inline bool looks_like_socket_id(std::string_view room) { return js_length(room) == 20; }

// Whether a node in `mode` subscribes to the channel of room `room` (`is_socket_id`: a socket of this node has that
// id), as shouldUseASeparateNamespace decides it.
inline bool subscribes_to_room(ShardedOptions::SubscriptionMode mode, bool is_socket_id) {
    return mode == ShardedOptions::SubscriptionMode::DynamicPrivate ||
           (mode == ShardedOptions::SubscriptionMode::Dynamic && !is_socket_id);
}
// The channel a message to every node goes to (computeChannel): the room's, <base><room>#, for a broadcast without
// acks to exactly one room (in Dynamic mode a room that does not look like a socket id), else <base>, which is
// <prefix>#<nsp>#.
inline std::string sharded_channel(const Message& m, const std::string& base, ShardedOptions::SubscriptionMode mode) {
    const Value& rooms = m.data["opts"]["rooms"];
    if (m.type == BROADCAST && m.data["requestId"].is_null() && rooms.is_array() && rooms.size() == 1 &&
        rooms[0].is_string() &&
        (mode == ShardedOptions::SubscriptionMode::DynamicPrivate ||
         (mode == ShardedOptions::SubscriptionMode::Dynamic && !looks_like_socket_id(rooms[0].as_string()))))
        return base + rooms[0].as_string() + "#";
    return base;
}

// A message as the sharded adapter encodes it: {type, data, uid, nsp} in that key order, data left out when null.
inline std::string encode_sharded(const Message& m) {
    std::string out;
    if (may_carry_binary(m.type) && has_binary(m.data)) {
        Writer w(out);
        w.pk.pack_map(m.data.is_null() ? 3 : 4);
        pack_string(w, "type");
        w.pk.pack_int(m.type);
        if (!m.data.is_null()) {
            pack_string(w, "data");
            pack_value(w, m.data);
        }
        pack_string(w, "uid");
        pack_string(w, m.uid);
        pack_string(w, "nsp");
        pack_string(w, m.nsp);
        return out;
    }
    out = "{\"type\":" + std::to_string(m.type);
    if (!m.data.is_null()) {
        out += ",\"data\":";
        append_json(out, m.data);
    }
    out += ",\"uid\":";
    append_json_string(out, m.uid);
    out += ",\"nsp\":";
    append_json_string(out, m.nsp);
    out += '}';
    return out;
}
// onRawMessage's decoding: JSON when the first byte is '{', else msgpack. False for what is not a message (no
// numeric type, no nsp).
inline bool decode_sharded(std::string_view bytes, Message& out) {
    Value v;
    if (!decode_payload(bytes, v) || !v.is_object() || !v["type"].is_number() || !v["nsp"].is_string()) return false;
    const double type = v["type"].as_number();
    if (!(type >= 0 && type <= 1e6)) return false;
    out.type = int(type);
    out.data = v["data"];
    out.uid = v["uid"].is_string() ? v["uid"].as_string() : std::string();
    out.nsp = v["nsp"].as_string();
    return true;
}

}  // namespace cluster

}  // namespace wire

// =====================================================================================================================
// 3. THE REDIS CONNECTIONS — a subscriber and a publisher, each a thread with its own hiredis context. hiredis does
//    the protocol (command formatting, the reply reader); the waits are ours: every wait is a poll() that also
//    watches an eventfd, so that close() and new work interrupt it at once, whatever Redis does. Both threads retry
//    with backoff after a failure; what the subscriber receives goes to the adapters (layer 4).
// =====================================================================================================================
namespace detail {

// The counters behind Stats, written by any thread, and the same events in the factory's one sio::AdapterStats,
// which every adapter of the factory counts into (share_counters), for the metrics add-on: a publish Redis took
// (published), a message the subscriber or the stream reader got (received), a connection back after it was lost
// (reconnects), a request of ours that waits for the other nodes' answers (requests) and one that timed out
// (requestTimeouts), and errors: a publish dropped (unsent), a message dropped as bad (malformed), and a command
// Redis refused or could not take (an error reply, or none: Redis down, the connection lost, the queue full).
struct Counters {
    std::atomic<uint64_t> published{0}, unsent{0}, received{0}, malformed{0}, reconnects{0}, requestsTimedOut{0};
    const std::shared_ptr<AdapterStats> shared = std::make_shared<AdapterStats>();
    Stats snapshot() const {
        return Stats{published.load(), unsent.load(),     received.load(),
                     malformed.load(), reconnects.load(), requestsTimedOut.load()};
    }
    void count_published() { bump(published, shared->published); }
    void count_unsent() { bump(unsent, shared->errors); }
    void count_received() { bump(received, shared->received); }
    void count_malformed() { bump(malformed, shared->errors); }
    void count_reconnect() { bump(reconnects, shared->reconnects); }
    void count_timeout() { bump(requestsTimedOut, shared->requestTimeouts); }
    void count_request() { shared->bump(shared->requests); }
    void count_error() { shared->bump(shared->errors); }  // a command's, not a publish's (count_unsent)

private:
    void bump(std::atomic<uint64_t>& mine, std::atomic<uint64_t>& theirs) {
        mine.fetch_add(1, std::memory_order_relaxed);
        shared->bump(theirs);
    }
};

using Clock = std::chrono::steady_clock;
inline int ms_left(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left <= 0 ? 0 : int(std::min<long long>(left, 1 << 30));
}

// An eventfd to wake a thread out of poll(); read() empties it.
class WakeFd {
public:
    WakeFd() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
        if (fd_ < 0) throw std::runtime_error("sio::redis: eventfd failed");
    }
    ~WakeFd() { ::close(fd_); }
    WakeFd(const WakeFd&) = delete;
    WakeFd& operator=(const WakeFd&) = delete;
    int fd() const { return fd_; }
    void wake() {
        uint64_t one = 1;
        (void)!::write(fd_, &one, sizeof one);
    }
    void drain() {
        uint64_t n;
        (void)!::read(fd_, &n, sizeof n);
    }

private:
    int fd_;
};

// Waits until `fd` is ready for `events`, a wake fd fires (`stop_fd`, or `work_fd` unless it is -1), or
// `timeout_ms` passes (-1: no limit).
enum class Io { Ok, Woken, Timeout, Failed };
inline Io wait_fd(int fd, short events, int stop_fd, int work_fd, int timeout_ms) {
    pollfd fds[3] = {{fd, events, 0}, {stop_fd, POLLIN, 0}, {work_fd, POLLIN, 0}};  // poll skips a negative fd
    for (;;) {
        int n = ::poll(fds, 3, timeout_ms);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Io::Failed;
        if (n == 0) return Io::Timeout;
        if (fds[1].revents || fds[2].revents) return Io::Woken;
        if (fds[0].revents & (POLLERR | POLLNVAL)) return Io::Failed;
        return Io::Ok;  // ready, or hung up (the read or write that follows says which)
    }
}

// One connection to Redis: a non-blocking socket we connect ourselves (so that the connect waits in poll() too),
// handed to hiredis with redisConnectFd. Only ever touched by the thread that owns it. hiredis calls read() and
// write() only after poll() said they will not block, so its blocking mode never sees EAGAIN. Every wait ends
// early when `stop_fd` fires; the idle wait in read() also when `work_fd` does.
class RedisLink {
public:
    RedisLink() = default;
    ~RedisLink() { drop(); }
    RedisLink(const RedisLink&) = delete;
    RedisLink& operator=(const RedisLink&) = delete;

    bool connected() const { return ctx_ != nullptr; }
    // Whether the last open() failed because Redis refused AUTH or SELECT (an error reply, e.g. a wrong password).
    bool refused() const { return refused_; }
    void drop() {
        if (ctx_) redisFree(ctx_);  // closes the fd
        ctx_ = nullptr;
    }

    // Connects, then AUTH (when a password is set) and SELECT (when asked and db != 0).
    Io open(const Options& o, int stop_fd, bool select_db) {
        drop();
        refused_ = false;
        const auto deadline = Clock::now() + std::chrono::milliseconds(std::max(1, o.connectTimeout));
        Io io = connect_socket(o.host, o.port, stop_fd, deadline);
        if (io != Io::Ok) return io;
        if (!o.password.empty()) io = simple_command({"AUTH", o.password}, stop_fd, deadline);
        if (io == Io::Ok && select_db && o.db != 0)
            io = simple_command({"SELECT", std::to_string(o.db)}, stop_fd, deadline);
        if (io != Io::Ok) drop();
        return io;
    }

    void append(const std::vector<std::string>& argv) {
        std::vector<const char*> args;
        std::vector<size_t> lens;
        args.reserve(argv.size());
        lens.reserve(argv.size());
        for (auto& a : argv) {
            args.push_back(a.data());
            lens.push_back(a.size());
        }
        redisAppendCommandArgv(ctx_, int(argv.size()), args.data(), lens.data());
    }

    // Writes out what append() queued.
    Io flush(int stop_fd, Clock::time_point deadline) {
        if (!ctx_ || ctx_->err) return Io::Failed;
        int done = 0;
        while (!done) {
            Io io = wait_fd(ctx_->fd, POLLOUT, stop_fd, -1, ms_left(deadline));
            if (io != Io::Ok) return io;
            if (redisBufferWrite(ctx_, &done) != REDIS_OK) return Io::Failed;
        }
        return Io::Ok;
    }

    // A reply already read and complete in hiredis's buffer, or null (it never waits).
    redisReply* buffered() {
        void* reply = nullptr;
        if (!ctx_ || redisGetReplyFromReader(ctx_, &reply) != REDIS_OK) return nullptr;
        return static_cast<redisReply*>(reply);
    }

    // The next reply (a command's answer, or a pub/sub push). `deadline` max(): no limit.
    Io read(redisReply*& out, int stop_fd, int work_fd, Clock::time_point deadline) {
        out = nullptr;
        if (!ctx_ || ctx_->err) return Io::Failed;
        for (;;) {
            void* reply = nullptr;
            if (redisGetReplyFromReader(ctx_, &reply) != REDIS_OK) return Io::Failed;
            if (reply) {
                out = static_cast<redisReply*>(reply);
                return Io::Ok;
            }
            const int timeout = deadline == Clock::time_point::max() ? -1 : ms_left(deadline);
            Io io = wait_fd(ctx_->fd, POLLIN, stop_fd, work_fd, timeout);
            if (io != Io::Ok) return io;
            if (redisBufferRead(ctx_) != REDIS_OK) return Io::Failed;  // includes the server closing the connection
        }
    }

private:
    Io connect_socket(const std::string& host, int port, int stop_fd, Clock::time_point deadline) {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* found = nullptr;
        if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || !found) return Io::Failed;
        Io result = Io::Failed;
        for (addrinfo* a = found; a; a = a->ai_next) {
            int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
            if (fd < 0) continue;
            result = Io::Failed;
            if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
                result = Io::Ok;
            } else if (errno == EINPROGRESS) {
                result = wait_fd(fd, POLLOUT, stop_fd, -1, ms_left(deadline));
                int err = 0;
                socklen_t len = sizeof err;
                if (result == Io::Ok && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0))
                    result = Io::Failed;
            }
            if (result == Io::Ok) {
                int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
                ctx_ = redisConnectFd(fd);
                if (!ctx_ || ctx_->err) {
                    if (ctx_) redisFree(ctx_);
                    else ::close(fd);
                    ctx_ = nullptr;
                    result = Io::Failed;
                }
                break;
            }
            ::close(fd);
            if (result == Io::Woken || result == Io::Timeout) break;
        }
        freeaddrinfo(found);
        return result;
    }

    Io simple_command(const std::vector<std::string>& argv, int stop_fd, Clock::time_point deadline) {
        append(argv);
        Io io = flush(stop_fd, deadline);
        redisReply* reply = nullptr;
        if (io == Io::Ok) io = read(reply, stop_fd, -1, deadline);
        if (io == Io::Ok && reply->type == REDIS_REPLY_ERROR) {  // e.g. a wrong password
            refused_ = true;
            io = Io::Failed;
        }
        if (reply) freeReplyObject(reply);
        return io;
    }

    redisContext* ctx_ = nullptr;
    bool refused_ = false;
};

// Sleeps for `ms` unless the stop fd fires first; false when it did.
inline bool pause_unless_stopped(int stop_fd, int ms) {
    pollfd p{stop_fd, POLLIN, 0};
    const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
        int n = ::poll(&p, 1, ms_left(deadline));
        if (n > 0) return false;
        if (n == 0) return true;
        if (errno != EINTR) return true;
    }
}

// A thread that can be started again after it was stopped (the adapters of a factory may all close, and a new
// one open). stop() joins unless the calling thread must not (see sioserver.hpp's NoJoinScope); start() joins
// what a previous stop() left running.
class Restartable {
public:
    ~Restartable() { join(); }
    bool running() {
        std::lock_guard<std::mutex> lk(mu_);
        return running_;
    }
    // Call join() first: a thread a previous stop() left behind must be gone before its state is reset.
    template <class F>
    void start(F&& fn) {
        std::lock_guard<std::mutex> lk(mu_);
        if (running_ || thread_.joinable()) return;
        running_ = true;
        thread_ = std::thread(std::forward<F>(fn));
    }
    // Marks it stopped; true when it was running (the caller then wakes the thread).
    bool mark_stopped() {
        std::lock_guard<std::mutex> lk(mu_);
        bool was = running_;
        running_ = false;
        return was;
    }
    void join() {
        std::thread t;
        {
            std::lock_guard<std::mutex> lk(mu_);
            if (!thread_.joinable() || thread_.get_id() == std::this_thread::get_id()) return;
            t = std::move(thread_);
        }
        t.join();
    }

private:
    std::mutex mu_;
    bool running_ = false;
    std::thread thread_;
};

// What the threads of the publisher, the subscriber and the stream reader share: a stop flag and a wake fd that
// end any of their waits, and the Restartable thread. start and stop are never called concurrently (the
// Connections' lock orders them). `mu_` also guards the derived class's own state (a leaf).
class ConnectionThread {
protected:
    ConnectionThread() = default;
    ~ConnectionThread() = default;
    ConnectionThread(const ConnectionThread&) = delete;
    ConnectionThread& operator=(const ConnectionThread&) = delete;

    // Starts `loop` unless it runs; first `reset()` under mu_ (the state a new run starts from), and `work` (when
    // given) is emptied with the stop fd.
    template <class Loop, class Reset>
    void start_thread(Loop&& loop, Reset&& reset, WakeFd* work = nullptr) {
        if (thread_.running()) return;
        thread_.join();
        {
            std::lock_guard<std::mutex> lk(mu_);
            stopping_ = false;
            reset();
        }
        stop_.drain();
        if (work) work->drain();
        thread_.start(std::forward<Loop>(loop));
    }
    // Tells the thread to stop and joins it, unless the calling thread must not join (sioserver.hpp's NoJoinScope).
    void stop_thread() {
        if (thread_.mark_stopped()) {
            {
                std::lock_guard<std::mutex> lk(mu_);
                stopping_ = true;
            }
            stop_.wake();
        }
        if (::sio::ext::may_join_threads()) thread_.join();
    }
    // In the derived destructor, after stop_thread(): the thread is gone before the derived members are.
    void join_thread() { thread_.join(); }
    bool stopped() {
        std::lock_guard<std::mutex> lk(mu_);
        return stopping_;
    }

    std::mutex mu_;
    bool stopping_ = false;
    WakeFd stop_;
    Restartable thread_;
};

// The publisher: a queue of commands and the thread that sends them, pipelined (everything queued goes out in one
// write, then the replies are read in order). Callers never wait. While Redis is down (after a connection attempt
// failed, or the connection was lost) a PUBLISH is dropped at once and counted, and a command with a reply gets
// null; until the first attempt ends, commands wait in the queue.
class Publisher : private ConnectionThread {
public:
    using ReplyFn = std::function<void(const redisReply* reply)>;  // null: no reply (Redis down, connection lost)

    Publisher(const Options& options, Counters& counters) : options_(options), counters_(counters) {}
    ~Publisher() {
        stop();
        join_thread();
    }

    // Not concurrently with itself or stop() (the Connections' lock orders them).
    void start() {
        start_thread([this] { loop(); }, [this] { state_ = State::Connecting; }, &work_);
    }
    void stop() { stop_thread(); }
    bool connected() const { return state_.load() == State::Up; }

    void publish(std::string channel, std::string payload) {
        enqueue(Command{{"PUBLISH", std::move(channel), std::move(payload)}, nullptr, true});
    }
    // A command that carries a message to the other nodes (SPUBLISH, XADD): counted as a publish (Stats), and
    // `fn` (may be null) gets its reply as command()'s does.
    void publish_command(std::vector<std::string> argv, ReplyFn fn = nullptr) {
        enqueue(Command{std::move(argv), std::move(fn), true});
    }
    // Waits until every command queued so far has been answered (or failed), for at most `ms`: what a drain
    // needs before it stops, so that the sessions it persisted reach Redis. False at the time limit.
    bool flush(int ms) {
        std::unique_lock<std::mutex> lk(mu_);
        return idle_.wait_for(lk, std::chrono::milliseconds(std::max(0, ms)),
                              [&] { return (queue_.empty() && !busy_) || state_ == State::Down || stopping_; });
    }
    // Any command with a reply, e.g. {"PUBSUB", "NUMSUB", channel}; `fn` runs on the publisher's thread (or on
    // the caller's, with null, when the command cannot go out): it must be short and must not run user code.
    void command(std::vector<std::string> argv, ReplyFn fn) { enqueue(Command{std::move(argv), std::move(fn), false}); }

private:
    enum class State { Connecting, Up, Down };
    struct Command {
        std::vector<std::string> argv;
        ReplyFn reply;
        bool is_publish;
    };

    void enqueue(Command c) {
        {
            std::lock_guard<std::mutex> lk(mu_);
            if (!stopping_ && state_ != State::Down && queue_.size() < options_.maxQueuedCommands) {
                queue_.push_back(std::move(c));
                if (queue_.size() == 1) work_.wake();  // the thread drains work_ before it takes the queue
                return;
            }
        }
        fail(c);
    }
    void fail(Command& c) {
        if (c.is_publish) counters_.count_unsent();
        else counters_.count_error();
        if (c.reply) c.reply(nullptr);
    }
    void fail_all(std::deque<Command>& commands) {
        for (auto& c : commands) fail(c);
        commands.clear();
    }
    void set_state(State s) {
        std::deque<Command> dropped;
        {
            std::lock_guard<std::mutex> lk(mu_);
            state_ = s;
            if (s == State::Down) {
                dropped.swap(queue_);
                idle_.notify_all();
            }
        }
        fail_all(dropped);
    }

    void loop() {
        RedisLink link;
        int delay = std::max(1, options_.reconnectDelay);
        bool ever_connected = false;
        for (;;) {
            if (!link.connected()) {
                if (link.open(options_, stop_.fd(), true) != Io::Ok) {
                    if (link.refused()) counters_.count_error();
                    if (stopped()) break;
                    set_state(State::Down);
                    if (!pause_unless_stopped(stop_.fd(), delay)) break;
                    delay = std::min(delay * 2, std::max(delay, options_.reconnectDelayMax));
                    continue;
                }
                if (ever_connected) counters_.count_reconnect();
                ever_connected = true;
                delay = std::max(1, options_.reconnectDelay);
                set_state(State::Up);
            }
            std::deque<Command> batch;
            {
                std::lock_guard<std::mutex> lk(mu_);
                if (stopping_) break;
                batch.swap(queue_);
                busy_ = !batch.empty();
                if (!busy_) idle_.notify_all();
            }
            if (batch.empty()) {
                // Idle: wait for work while watching the connection, so that a Redis that went away is noticed
                // now, not by the next publish.
                redisReply* unexpected = nullptr;
                Io io = link.read(unexpected, stop_.fd(), work_.fd(), Clock::time_point::max());
                if (unexpected) freeReplyObject(unexpected);
                if (io == Io::Woken) work_.drain();
                else if (io != Io::Ok) {
                    link.drop();
                    set_state(State::Down);
                }
                continue;
            }
            if (!send(link, batch)) {
                link.drop();
                set_state(State::Down);
            }
            std::lock_guard<std::mutex> lk(mu_);
            busy_ = false;
            if (queue_.empty()) idle_.notify_all();
        }
        std::deque<Command> left;
        {
            std::lock_guard<std::mutex> lk(mu_);
            left.swap(queue_);
            state_ = State::Down;
            idle_.notify_all();
        }
        fail_all(left);
    }

    // Sends a batch and reads its replies; on a failure, what got no reply fails and false is returned.
    bool send(RedisLink& link, std::deque<Command>& batch) {
        for (auto& c : batch) link.append(c.argv);
        const auto deadline = Clock::now() + std::chrono::milliseconds(std::max(1, options_.commandTimeout));
        bool ok = link.flush(stop_.fd(), deadline) == Io::Ok;
        while (ok && !batch.empty()) {
            redisReply* reply = nullptr;
            ok = link.read(reply, stop_.fd(), -1, deadline) == Io::Ok;
            if (!ok) break;
            Command c = std::move(batch.front());
            batch.pop_front();
            if (c.is_publish) {
                if (reply->type == REDIS_REPLY_ERROR) counters_.count_unsent();
                else counters_.count_published();
            } else if (reply->type == REDIS_REPLY_ERROR) {
                counters_.count_error();
            }
            if (c.reply) c.reply(reply);
            freeReplyObject(reply);
        }
        fail_all(batch);
        return ok;
    }

    const Options& options_;
    Counters& counters_;
    // mu_ (ConnectionThread's, a leaf): the queue and the state
    std::deque<Command> queue_;
    bool busy_ = false;             // a batch taken from the queue is out, its replies not all read
    std::condition_variable idle_;  // the queue is empty and nothing is out (flush)
    std::atomic<State> state_{State::Connecting};
    WakeFd work_;  // something was queued
};

// The subscriber: one connection in the subscribed state, and its thread. It keeps the channels and patterns the
// adapters want (counted, so that two may want one) and, whenever it (re)connects or is told they changed,
// subscribes and unsubscribes to match. Each message goes to `handle_message` on this thread.
class Subscriber : private ConnectionThread {
public:
    // pattern is empty for a plain message
    using MessageFn =
        std::function<void(const std::string& pattern, const std::string& channel, std::string_view payload)>;

    // `sharded`: Redis 7's sharded pub/sub (SSUBSCRIBE, one channel per command as a cluster wants; messages come
    // as "smessage"); it has no patterns.
    Subscriber(const Options& options, Counters& counters, MessageFn fn, bool sharded = false)
        : options_(options), counters_(counters), on_message_(std::move(fn)), sharded_(sharded) {}
    ~Subscriber() {
        stop();
        join_thread();
    }

    // Not concurrently with itself or stop() (the Connections' lock orders them).
    void start() {
        start_thread([this] { loop(); }, [] {}, &work_);
    }
    void stop() { stop_thread(); }
    // Whether every wanted subscription is in place (a request sent now will be heard back).
    bool ready() const { return ready_.load(); }

    void add(const std::vector<std::string>& channels, const std::vector<std::string>& patterns) {
        change(channels, patterns, +1);
    }
    void remove(const std::vector<std::string>& channels, const std::vector<std::string>& patterns) {
        change(channels, patterns, -1);
    }

private:
    void change(const std::vector<std::string>& channels, const std::vector<std::string>& patterns, int delta) {
        {
            std::lock_guard<std::mutex> lk(mu_);
            for (auto& c : channels) bump(wanted_channels_, c, delta);
            for (auto& p : patterns) bump(wanted_patterns_, p, delta);
            ++generation_;
            ready_ = false;
        }
        work_.wake();
    }
    static void bump(std::map<std::string, int>& m, const std::string& key, int delta) {
        int& n = m[key];
        n += delta;
        if (n <= 0) m.erase(key);
    }

    void loop() {
        RedisLink link;
        std::set<std::string> channels, patterns;  // what this connection is subscribed to
        uint64_t synced = 0;                       // the generation of the wanted sets they match
        int delay = std::max(1, options_.reconnectDelay);
        bool ever_connected = false;
        auto lost = [&](bool pause) {  // pause: Redis refused what we sent (e.g. NOAUTH): do not retry at once
            link.drop();
            ready_ = false;
            if (pause && pause_unless_stopped(stop_.fd(), delay))
                delay = std::min(delay * 2, std::max(delay, options_.reconnectDelayMax));
        };
        while (!stopped()) {
            if (!link.connected()) {
                channels.clear();
                patterns.clear();
                if (link.open(options_, stop_.fd(), false) != Io::Ok) {
                    if (link.refused()) counters_.count_error();
                    if (!pause_unless_stopped(stop_.fd(), delay)) break;
                    delay = std::min(delay * 2, std::max(delay, options_.reconnectDelayMax));
                    continue;
                }
                if (ever_connected) counters_.count_reconnect();
                ever_connected = true;
                synced = ~uint64_t(0);
            }
            if (!sync(link, channels, patterns, synced)) {
                lost(false);
                continue;
            }
            redisReply* reply = nullptr;
            Io io = link.read(reply, stop_.fd(), work_.fd(), Clock::time_point::max());
            if (io == Io::Woken) {
                work_.drain();
                continue;  // stop, or subscriptions to change
            }
            if (io != Io::Ok) {
                lost(false);
                continue;
            }
            // One read brings many messages at load: what they send goes out in one write per recipient (the
            // batch ends before this thread waits again, so nothing waits longer than one buffer's worth).
            bool refused = false;
            {
                ::sio::ext::SendBatch batch;
                while (reply) {
                    refused = reply->type == REDIS_REPLY_ERROR;
                    if (!refused) deliver(reply);
                    freeReplyObject(reply);
                    if (refused) break;
                    reply = link.buffered();
                }
            }
            if (refused) {
                counters_.count_error();
                lost(true);
            } else {
                delay = std::max(1, options_.reconnectDelay);  // Redis answers as it should: the next loss retries soon
            }
        }
        ready_ = false;
    }

    // Subscribes to what is wanted and not yet subscribed, and unsubscribes from the rest; nothing to do (the
    // common case, once per message) when the wanted sets have not changed since `synced`.
    bool sync(RedisLink& link, std::set<std::string>& channels, std::set<std::string>& patterns, uint64_t& synced) {
        std::set<std::string> want_channels, want_patterns;
        uint64_t generation;
        {
            std::lock_guard<std::mutex> lk(mu_);
            if (generation_ == synced) return true;
            generation = generation_;
            for (auto& kv : wanted_channels_) want_channels.insert(kv.first);
            for (auto& kv : wanted_patterns_) want_patterns.insert(kv.first);
        }
        bool wrote = false;
        auto diff = [&](const std::set<std::string>& want, std::set<std::string>& have, const char* sub,
                        const char* unsub) {
            std::vector<std::string> add{sub}, drop{unsub};
            for (auto& c : want)
                if (!have.count(c)) add.push_back(c);
            for (auto& c : have)
                if (!want.count(c)) drop.push_back(c);
            if (add.size() > 1) {
                link.append(add);
                wrote = true;
            }
            if (drop.size() > 1) {
                link.append(drop);
                wrote = true;
            }
            have = want;
        };
        if (sharded_) {
            for (auto& c : want_channels) {
                if (channels.count(c)) continue;
                link.append({"SSUBSCRIBE", c});
                wrote = true;
            }
            for (auto& c : channels) {
                if (want_channels.count(c)) continue;
                link.append({"SUNSUBSCRIBE", c});
                wrote = true;
            }
            channels = want_channels;
        } else {
            diff(want_channels, channels, "SUBSCRIBE", "UNSUBSCRIBE");
        }
        diff(want_patterns, patterns, "PSUBSCRIBE", "PUNSUBSCRIBE");
        if (wrote) {
            const auto deadline = Clock::now() + std::chrono::milliseconds(std::max(1, options_.commandTimeout));
            if (link.flush(stop_.fd(), deadline) != Io::Ok) return false;
        }
        synced = generation;
        std::lock_guard<std::mutex> lk(mu_);
        if (generation == generation_) ready_ = true;  // else a change came meanwhile, and woke us to sync again
        return true;
    }

    // Push frames are arrays: [message, channel, payload] and [pmessage, pattern, channel, payload]; the rest
    // (subscribe confirmations) are not messages.
    void deliver(const redisReply* r) {
        auto str = [](const redisReply* e) {
            return e && (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS)
                       ? std::string_view(e->str, e->len)
                       : std::string_view();
        };
        if (r->type != REDIS_REPLY_ARRAY || r->elements < 3) return;
        const std::string_view kind = str(r->element[0]);
        if ((kind == "message" || kind == "smessage") && r->elements == 3) {
            counters_.count_received();
            on_message_(std::string(), std::string(str(r->element[1])), str(r->element[2]));
        } else if (kind == "pmessage" && r->elements == 4) {
            counters_.count_received();
            on_message_(std::string(str(r->element[1])), std::string(str(r->element[2])), str(r->element[3]));
        }
    }

    const Options& options_;
    Counters& counters_;
    MessageFn on_message_;
    const bool sharded_;
    // mu_ (ConnectionThread's, a leaf): the wanted subscriptions
    std::map<std::string, int> wanted_channels_, wanted_patterns_;
    uint64_t generation_ = 0;  // counts the changes to what is wanted
    std::atomic<bool> ready_{false};
    WakeFd work_;  // the wanted subscriptions changed
};

// The stream reader of the Streams adapter: one connection and its thread, in XREAD BLOCK on every stream of the
// factory. It starts after the newest entry there is when it first connects (asked with XREVRANGE, where Node reads
// from "$" and may miss what comes between two reads), and after a lost connection it goes on from the last entry it
// read: nothing added meanwhile is missed unless MAXLEN trimmed it. Each entry goes to `on_entry` on this thread.
class StreamReader : private ConnectionThread {
public:
    using Fields = std::vector<std::pair<std::string_view, std::string_view>>;
    using EntryFn = std::function<void(const std::string& stream, const std::string& id, const Fields& fields)>;

    StreamReader(const Options& options, Counters& counters, std::vector<std::string> streams, int read_count,
                 int block_ms, EntryFn fn)
        : options_(options),
          counters_(counters),
          streams_(std::move(streams)),
          read_count_(std::max(1, read_count)),
          block_ms_(std::max(1, block_ms)),
          on_entry_(std::move(fn)) {}
    ~StreamReader() {
        stop();
        join_thread();
    }

    void start() {
        start_thread([this] { loop(); }, [] {});
    }
    void stop() { stop_thread(); }
    // Whether it knows where every stream is (an entry added from now on will be read).
    bool ready() const { return ready_.load(); }

private:
    void loop() {
        RedisLink link;
        std::vector<std::string> ids(streams_.size());  // the last entry read of each stream; "" until known
        int delay = std::max(1, options_.reconnectDelay);
        bool ever_connected = false, warned = false;
        while (!stopped()) {
            if (!link.connected()) {
                if (link.open(options_, stop_.fd(), false) != Io::Ok || !position(link, ids)) {
                    if (link.refused()) counters_.count_error();
                    link.drop();
                    if (!warned && !stopped()) {  // once per outage, not once per attempt
                        std::fprintf(stderr,
                                     "[sio::redis] Redis at %s:%d cannot be reached; retrying (this node "
                                     "serves its own clients meanwhile)\n",
                                     options_.host.c_str(), options_.port);
                        warned = true;
                    }
                    if (!pause_unless_stopped(stop_.fd(), delay)) break;
                    delay = std::min(delay * 2, std::max(delay, options_.reconnectDelayMax));
                    continue;
                }
                if (ever_connected) counters_.count_reconnect();
                if (warned)
                    std::fprintf(stderr, "[sio::redis] Redis at %s:%d reached\n", options_.host.c_str(), options_.port);
                warned = false;
                ever_connected = true;
                delay = std::max(1, options_.reconnectDelay);
                ready_ = true;
            }
            std::vector<std::string> argv{
                "XREAD", "BLOCK", std::to_string(block_ms_), "COUNT", std::to_string(read_count_), "STREAMS"};
            argv.insert(argv.end(), streams_.begin(), streams_.end());
            argv.insert(argv.end(), ids.begin(), ids.end());
            link.append(argv);
            const auto deadline =
                Clock::now() + std::chrono::milliseconds(block_ms_ + std::max(1, options_.commandTimeout));
            redisReply* reply = nullptr;
            Io io = link.flush(stop_.fd(), deadline);
            if (io == Io::Ok) io = link.read(reply, stop_.fd(), -1, deadline);
            if (io != Io::Ok || reply->type == REDIS_REPLY_ERROR) {
                if (io == Io::Ok) counters_.count_error();  // Redis refused the XREAD
                if (reply) freeReplyObject(reply);
                link.drop();
                ready_ = false;
                if (io == Io::Woken) break;
                if (!stopped()) {
                    std::fprintf(stderr, "[sio::redis] the connection to Redis at %s:%d was lost; reconnecting\n",
                                 options_.host.c_str(), options_.port);
                    warned = true;
                }
                if (!pause_unless_stopped(stop_.fd(), delay)) break;
                continue;
            }
            {
                ::sio::ext::SendBatch batch;  // what the entries send goes out in one write per recipient
                deliver(reply, ids);
            }
            freeReplyObject(reply);
        }
        ready_ = false;
    }

    // Where each stream ends now: its newest entry's id, or 0-0 when it has none.
    bool position(RedisLink& link, std::vector<std::string>& ids) {
        const auto deadline = Clock::now() + std::chrono::milliseconds(std::max(1, options_.commandTimeout));
        for (size_t i = 0; i < streams_.size(); ++i) {
            if (!ids[i].empty()) continue;  // a reconnection goes on from where it was
            link.append({"XREVRANGE", streams_[i], "+", "-", "COUNT", "1"});
            redisReply* reply = nullptr;
            if (link.flush(stop_.fd(), deadline) != Io::Ok || link.read(reply, stop_.fd(), -1, deadline) != Io::Ok)
                return false;
            bool ok = reply->type == REDIS_REPLY_ARRAY;
            if (reply->type == REDIS_REPLY_ERROR) counters_.count_error();
            if (ok) {
                ids[i] = "0-0";
                if (reply->elements > 0 && reply->element[0]->type == REDIS_REPLY_ARRAY &&
                    reply->element[0]->elements == 2 && reply->element[0]->element[0]->type == REDIS_REPLY_STRING)
                    ids[i].assign(reply->element[0]->element[0]->str, reply->element[0]->element[0]->len);
            }
            freeReplyObject(reply);
            if (!ok) return false;
        }
        return true;
    }

    // [[stream, [[id, [field, value, ...]], ...]], ...]; a null reply: nothing came within the block time.
    void deliver(const redisReply* r, std::vector<std::string>& ids) {
        if (r->type != REDIS_REPLY_ARRAY) return;
        auto text = [](const redisReply* e) {
            return e && e->type == REDIS_REPLY_STRING ? std::string_view(e->str, e->len) : std::string_view();
        };
        for (size_t s = 0; s < r->elements; ++s) {
            const redisReply* stream = r->element[s];
            if (stream->type != REDIS_REPLY_ARRAY || stream->elements != 2 ||
                stream->element[1]->type != REDIS_REPLY_ARRAY)
                continue;
            const std::string name(text(stream->element[0]));
            auto at = std::find(streams_.begin(), streams_.end(), name);
            if (at == streams_.end()) continue;
            const redisReply* entries = stream->element[1];
            for (size_t e = 0; e < entries->elements; ++e) {
                const redisReply* entry = entries->element[e];
                if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) continue;
                const std::string id(text(entry->element[0]));
                if (id.empty()) continue;
                ids[size_t(at - streams_.begin())] = id;
                counters_.count_received();
                Fields fields;
                const redisReply* kv = entry->element[1];
                if (kv->type == REDIS_REPLY_ARRAY)
                    for (size_t i = 0; i + 1 < kv->elements; i += 2)
                        fields.emplace_back(text(kv->element[i]), text(kv->element[i + 1]));
                on_entry_(name, id, fields);
            }
        }
    }

    const Options& options_;
    Counters& counters_;
    const std::vector<std::string> streams_;
    const int read_count_, block_ms_;
    EntryFn on_entry_;
    std::atomic<bool> ready_{false};
};

}  // namespace detail

// =====================================================================================================================
// 4. THE ADAPTER — one RedisAdapter per namespace, as in Node; the factory's Connections are shared by all of them.
//    Threads: a broadcast from another node is delivered on the subscriber's thread, as fast as it comes, through
//    Adapter::deliver: that thread never waits for the handler lock (a recipient's onAnyOutgoing listeners, and the
//    close handlers of one closed past maxBufferedBytes, go to the engine's handler thread); everything that runs a
//    handler, reads socket data or completes a caller's callback (answers to requests, server-side events,
//    socketsJoin/Leave/disconnectSockets from other nodes, responses, time-outs) runs on the engine's handler
//    thread (Adapter::post, after), so that neither Redis thread nor the timer thread runs user code.
//    Lock order: RedisAdapter::mu_ (pending requests) -> Timers::mu_; Connections::lifecycle_mu_ -> the
//    connections' own locks; the rest are leaves.
// =====================================================================================================================
class RedisAdapter;

namespace detail {

// Lets threads into an adapter until it closes; close() waits until those inside have left (except the closing
// thread itself, should it be one of them). Whatever reaches an adapter from another thread (the subscriber,
// the publisher's replies, timers, acks of clients) passes through its gate, so nothing touches it once closed.
class Gate {
public:
    bool enter() {
        std::lock_guard<std::mutex> lk(mu_);
        if (closed_) return false;
        ++inside_;
        inside_here().push_back(this);
        return true;
    }
    void leave() {
        std::lock_guard<std::mutex> lk(mu_);
        --inside_;
        auto& here = inside_here();
        auto it = std::find(here.rbegin(), here.rend(), this);
        if (it != here.rend()) here.erase(std::next(it).base());
        cv_.notify_all();
    }
    void close() {
        std::unique_lock<std::mutex> lk(mu_);
        closed_ = true;
        const auto mine = size_t(std::count(inside_here().begin(), inside_here().end(), this));
        cv_.wait(lk, [&] { return inside_ == mine; });
    }

private:
    static std::vector<const Gate*>& inside_here() {
        thread_local std::vector<const Gate*> gates;
        return gates;
    }
    std::mutex mu_;  // a leaf
    std::condition_variable cv_;
    size_t inside_ = 0;
    bool closed_ = false;
};

class Inside {
public:
    explicit Inside(Gate& g) : gate_(g), in_(g.enter()) {}
    ~Inside() {
        if (in_) gate_.leave();
    }
    Inside(const Inside&) = delete;
    Inside& operator=(const Inside&) = delete;
    explicit operator bool() const { return in_; }

private:
    Gate& gate_;
    bool in_;
};

// How other threads reach one adapter: its gate, and the adapter while the gate is open.
struct AdapterLink {
    explicit AdapterLink(RedisAdapter* a) : adapter(a) {}
    Gate gate;
    RedisAdapter* const adapter;
};

// What every adapter of one factory shares: the options, the counters, the two connections, and which adapter
// listens on which channel. The threads start with the first adapter and stop when the last one closes.
class Connections {
public:
    explicit Connections(Options o)
        : options_(std::move(o)),
          publisher_(options_, counters_),
          subscriber_(options_, counters_,
                      [this](const std::string& pattern, const std::string& channel, std::string_view payload) {
                          handle_message(pattern, channel, payload);
                      }) {}
    ~Connections() {
        publisher_.stop();
        subscriber_.stop();
    }
    Connections(const Connections&) = delete;
    Connections& operator=(const Connections&) = delete;

    const Options& options() const { return options_; }
    Counters& counters() { return counters_; }
    Publisher& publisher() { return publisher_; }
    // Whether a request published now will be heard back: published, and our subscriptions in place.
    bool ready() const { return publisher_.connected() && subscriber_.ready(); }

    void attach(const std::shared_ptr<AdapterLink>& link, const wire::Channels& ch) {
        std::lock_guard<std::mutex> life(lifecycle_mu_);
        {
            std::lock_guard<std::mutex> lk(routes_mu_);
            by_pattern_[ch.pattern()] = link;
            for (auto* c : {&ch.request, &ch.response, &ch.own_response}) by_channel_[*c] = link;
        }
        subscriber_.add({ch.request, ch.response, ch.own_response}, {ch.pattern()});
        if (attached_++ == 0) {
            publisher_.start();
            subscriber_.start();
        }
    }
    void detach(const AdapterLink* link, const wire::Channels& ch) {
        std::lock_guard<std::mutex> life(lifecycle_mu_);
        {
            std::lock_guard<std::mutex> lk(routes_mu_);
            auto drop = [&](std::map<std::string, std::shared_ptr<AdapterLink>>& m, const std::string& key) {
                auto it = m.find(key);
                if (it != m.end() && it->second.get() == link) m.erase(it);
            };
            drop(by_pattern_, ch.pattern());
            for (auto* c : {&ch.request, &ch.response, &ch.own_response}) drop(by_channel_, *c);
        }
        subscriber_.remove({ch.request, ch.response, ch.own_response}, {ch.pattern()});
        if (attached_ > 0 && --attached_ == 0) {  // joins unless called where threads must not be joined
            publisher_.stop();
            subscriber_.stop();
        }
    }

private:
    inline void handle_message(const std::string& pattern, const std::string& channel, std::string_view payload);

    Options options_;
    Counters counters_;
    std::mutex lifecycle_mu_;  // orders attach/detach (starting and stopping the threads); no thread of ours takes it
    std::mutex routes_mu_;     // a leaf: the routes
    std::map<std::string, std::shared_ptr<AdapterLink>> by_pattern_, by_channel_;
    size_t attached_ = 0;
    Publisher publisher_;
    Subscriber subscriber_;
};

}  // namespace detail

// The adapter of one namespace. Users call nothing here directly but stats() and uid(); the core calls the
// overrides, with Node's semantics (see §1 of the protocol notes):
//   broadcast          PUBLISH [uid, packet, opts] (room channel for exactly one room), then deliver here
//   broadcastWithAck   PUBLISH a BROADCAST (7) request; the other nodes' counts (8) and acks (9) come back
//   fetchSockets       REMOTE_FETCH (5) to the nodes PUBSUB NUMSUB counts; partial result + error at time-out
//   serverSideEmit     SERVER_SIDE_EMIT (6); with an ack, one answer per other node, or an error at time-out
//   addSockets / delSockets / disconnectSockets   REMOTE_JOIN / LEAVE / DISCONNECT (2/3/4), applied here when our
//                      own request comes back, as Node does. But when Redis is down (or our subscriptions are not
//                      in place yet) they are applied here at once too, so that this node keeps working; should the
//                      request still come back, it is applied twice, which leaves the same rooms (joining and
//                      leaving are idempotent, and a disconnected socket is not found again).
class RedisAdapter : public Adapter {
public:
    RedisAdapter(Namespace& nsp, std::shared_ptr<detail::Connections> connections)
        : Adapter(nsp),
          connections_(std::move(connections)),
          uid_(wire::random_uid()),
          channels_(connections_->options().key, nsp.name(), uid_) {
        share_counters(connections_->counters().shared);  // one sio::AdapterStats for every namespace of the factory
    }
    ~RedisAdapter() override { close(); }

    // This node's id in the namespace's messages (6 alphanumerics, like Node's).
    const std::string& uid() const { return uid_; }
    const wire::Channels& channels() const { return channels_; }
    // The counters of the connections this adapter's factory shares.
    Stats stats() const { return connections_->counters().snapshot(); }
    // Whether both connections are up and every subscription is in place (for health checks and tests).
    bool ready() const { return connections_->ready(); }

    void init() override {
        if (link_) return;
        link_ = std::make_shared<detail::AdapterLink>(this);
        connections_->attach(link_, channels_);
    }
    // Unsubscribes; requests still waiting are forgotten (their callbacks never run: the namespace goes).
    void close() override {
        if (closed_.exchange(true) || !link_) return;
        link_->gate.close();
        {
            std::lock_guard<std::mutex> lk(mu_);
            for (auto& kv : requests_) cancel(kv.second.timer);
            for (auto& kv : ack_requests_) cancel(kv.second.timer);
            requests_.clear();
            ack_requests_.clear();
        }
        connections_->detach(link_.get(), channels_);
    }

    void broadcast(const packet::Packet& p, const BroadcastOptions& opts) override {
        if (!opts.flags.local) {
            publish_encoded(opts.rooms.size() == 1 ? channels_.room(*opts.rooms.begin()) : channels_.base, [&] {
                return wire::encode_broadcast(uid_, 2, p.data, nsp().name(), opts.rooms, opts.except, opts.flags);
            });
        }
        Adapter::broadcast(p, opts);
    }

    void broadcastWithAck(const packet::Packet& p, const BroadcastOptions& opts, BroadcastAckHandlers h) override {
        if (opts.flags.local || !link_) return Adapter::broadcastWithAck(p, opts, std::move(h));
        wire::Request r = request(wire::BROADCAST, opts);
        r.flags = opts.flags;
        r.data = p.data;
        r.nsp = nsp().name();
        // Node forgets the request after the broadcast's time-out; with none, ours waits requestsTimeout.
        const int keep = opts.flags.timeout >= 0 ? opts.flags.timeout : options().requestsTimeout;
        {
            std::lock_guard<std::mutex> lk(mu_);
            auto& a = ack_requests_[r.requestId];
            a.clientCount = h.clientCount;
            a.ack = h.ack;
            a.timer = after(keep, [id = r.requestId](RedisAdapter& self) {
                std::lock_guard<std::mutex> lock(self.mu_);
                self.ack_requests_.erase(id);
            });
        }
        redis_counters().count_request();
        publish_encoded(channels_.request, [&] { return wire::encode_request(r); });
        auto serverCount = std::move(h.serverCount);
        h.serverCount = nullptr;  // the base would report 1: the count is Redis's
        Adapter::broadcastWithAck(p, opts, std::move(h));
        count_servers([serverCount](RedisAdapter&, size_t n) {
            if (serverCount) serverCount(std::max<size_t>(n, 1));
        });
    }

    void fetchSockets(const BroadcastOptions& opts, SocketInfoCallback cb) override {
        auto local = local_socket_infos(opts);
        if (opts.flags.local || !link_) return cb(Error{}, std::move(local));
        auto here = std::make_shared<std::vector<SocketInfo>>(std::move(local));
        count_servers([opts, cb = std::move(cb), here](RedisAdapter& self, size_t n) {
            if (n <= 1) return cb(Error{}, std::move(*here));
            Pending pending;
            pending.type = wire::REMOTE_FETCH;
            pending.numSub = n;
            pending.sockets = std::move(*here);
            pending.fetch_cb = cb;
            self.start_request(std::move(pending), self.request(wire::REMOTE_FETCH, opts));
        });
    }

    void addSockets(const BroadcastOptions& opts, const std::vector<std::string>& rooms) override {
        remote_change(wire::REMOTE_JOIN, opts, rooms, false);
    }
    void delSockets(const BroadcastOptions& opts, const std::vector<std::string>& rooms) override {
        remote_change(wire::REMOTE_LEAVE, opts, rooms, false);
    }
    void disconnectSockets(const BroadcastOptions& opts, bool close) override {
        remote_change(wire::REMOTE_DISCONNECT, opts, {}, close);
    }

    void serverSideEmit(const Args& data, AckCallback ack) override {
        wire::Request r = request(wire::SERVER_SIDE_EMIT, {});
        r.data = Value(Value::Array(data.begin(), data.end()));
        if (!ack || !link_) {
            r.has_request_id = false;
            publish_encoded(channels_.request, [&] { return wire::encode_request(r); });
            if (ack) ack(Error{}, Args{});
            return;
        }
        count_servers([r, ack = std::move(ack)](RedisAdapter& self, size_t n) {
            const size_t others = n > 0 ? n - 1 : 0;  // every node but this one answers
            if (others == 0) return ack(Error{}, Args{});
            Pending pending;
            pending.type = wire::SERVER_SIDE_EMIT;
            pending.numSub = others;
            pending.sse_cb = ack;
            self.start_request(std::move(pending), r);
        });
    }

    // Node's allRooms(): the rooms of this namespace on every node; `cb` runs as a handler.
    void allRooms(std::function<void(const Error&, std::set<std::string>)> cb) {
        cb = [this, fn = std::move(cb)](const Error& err, std::set<std::string> rooms) {
            run_handler([&] { fn(err, std::move(rooms)); });
        };
        std::set<std::string> local;
        for (auto& kv : rooms()) local.insert(kv.first);
        if (!link_) return cb(Error{}, std::move(local));
        count_servers([local, cb = std::move(cb)](RedisAdapter& self, size_t n) {
            if (n <= 1) return cb(Error{}, local);
            Pending pending;
            pending.type = wire::ALL_ROOMS;
            pending.numSub = n;
            pending.rooms = local;
            pending.rooms_cb = cb;
            self.start_request(std::move(pending), self.request(wire::ALL_ROOMS, {}));
        });
    }
    // Node's serverCount(): the nodes serving this namespace (PUBSUB NUMSUB of its request channel), 0 when Redis
    // cannot be asked; `cb` runs as a handler.
    void serverCount(std::function<void(size_t)> cb) {
        count_servers([cb = std::move(cb)](RedisAdapter& self, size_t n) { self.run_handler([&] { cb(n); }); });
    }

    // ---- what the subscriber's thread hands in (inside the gate)
    void on_channel_message(const std::string& pattern, const std::string& channel, std::string_view payload) {
        if (!pattern.empty()) on_broadcast(channel, payload);
        else if (channel == channels_.request) on_request(payload);
        else on_response(payload);
    }

private:
    struct Pending {
        int type = -1;
        size_t numSub = 0;
        size_t msgCount = 1;  // the local result counts as the first answer (RA onresponse)
        std::vector<SocketInfo> sockets;
        std::set<std::string> rooms;
        Args responses;
        SocketInfoCallback fetch_cb;
        AckCallback sse_cb;
        std::function<void(const Error&, std::set<std::string>)> rooms_cb;
        TimerId timer = 0;
    };
    struct AckPending {
        std::function<void(size_t)> clientCount;
        std::function<void(const Value&)> ack;
        TimerId timer = 0;
    };
    using Task = std::function<void(RedisAdapter&)>;

    const Options& options() const { return connections_->options(); }
    detail::Counters& redis_counters() { return connections_->counters(); }

    // Runs `fn` as a handler on the engine's handler thread (Adapter::post), in the order posted, inside the gate
    // (not at all once the adapter closed): what it runs may be user code, which neither Redis thread runs.
    void post(Task fn) {
        if (link_) Adapter::post(gated(std::move(fn)));
    }
    // The same, `ms` from now (Adapter::after).
    TimerId after(int ms, Task fn) { return link_ ? Adapter::after(ms, gated(std::move(fn))) : 0; }
    std::function<void()> gated(Task fn) const {
        return [link = link_, fn = std::move(fn)] {
            detail::Inside in(link->gate);
            if (in) fn(*link->adapter);
        };
    }

    // Encodes (a value too large for msgpack counts as unsent) and publishes.
    template <class F>
    void publish_encoded(const std::string& channel, F&& encode) {
        std::string bytes;
        try {
            bytes = encode();
        } catch (const std::exception&) {
            redis_counters().count_unsent();
            return;
        }
        connections_->publisher().publish(channel, std::move(bytes));
    }

    // A request of ours: uid, a fresh requestId, and the options' rooms.
    wire::Request request(int type, const BroadcastOptions& opts) const {
        wire::Request r;
        r.type = type;
        r.uid = uid_;
        r.has_uid = true;
        r.has_request_id = true;
        r.requestId = wire::random_uid();
        r.opts_rooms.assign(opts.rooms.begin(), opts.rooms.end());
        r.opts_except.assign(opts.except.begin(), opts.except.end());
        return r;
    }

    // PUBSUB NUMSUB <request channel>, then fn(adapter, count) on the handler thread; 0 when Redis did not answer.
    void count_servers(std::function<void(RedisAdapter&, size_t)> fn) {
        if (!link_) return fn(*this, 0);
        auto link = link_;
        connections_->publisher().command(
            {"PUBSUB", "NUMSUB", channels_.request}, [link, fn = std::move(fn)](const redisReply* reply) {
                size_t n = 0;
                if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2 &&
                    reply->element[1]->type == REDIS_REPLY_INTEGER && reply->element[1]->integer > 0)
                    n = size_t(reply->element[1]->integer);
                detail::Inside in(link->gate);
                if (in) link->adapter->post([fn, n](RedisAdapter& self) { fn(self, n); });
            });
    }

    // Registers a request of ours with its time-out, then publishes it.
    void start_request(Pending pending, wire::Request r) {
        {
            std::lock_guard<std::mutex> lk(mu_);
            pending.timer =
                after(options().requestsTimeout, [id = r.requestId](RedisAdapter& self) { self.on_timeout(id); });
            requests_[r.requestId] = std::move(pending);
        }
        redis_counters().count_request();
        publish_encoded(channels_.request, [&] { return wire::encode_request(r); });
    }

    void on_timeout(const std::string& id) {
        Pending p;
        {
            std::lock_guard<std::mutex> lk(mu_);
            auto it = requests_.find(id);
            if (it == requests_.end()) return;
            p = std::move(it->second);
            requests_.erase(it);
        }
        redis_counters().count_timeout();
        switch (p.type) {
        case wire::REMOTE_FETCH:
            p.fetch_cb(Error{"timeout reached while waiting for fetchSockets response"}, std::move(p.sockets));
            break;
        case wire::ALL_ROOMS:
            p.rooms_cb(Error{"timeout reached while waiting for allRooms response"}, std::move(p.rooms));
            break;
        case wire::SERVER_SIDE_EMIT:
            p.sse_cb(Error{"timeout reached: only " + std::to_string(p.responses.size()) +
                           " responses received out of " + std::to_string(p.numSub)},
                     p.responses);
            break;
        default: break;
        }
    }

    // socketsJoin / socketsLeave / disconnectSockets: see the class comment for when they also apply here at once.
    void remote_change(int type, const BroadcastOptions& opts, const std::vector<std::string>& rooms, bool close) {
        if (opts.flags.local || !link_) return apply_here(type, opts, rooms, close);
        const bool will_hear_it = connections_->ready();
        wire::Request r = request(type, opts);
        r.has_request_id = false;  // Node sends none for these
        r.rooms = rooms;
        r.close = close;
        publish_encoded(channels_.request, [&] { return wire::encode_request(r); });
        if (!will_hear_it) apply_here(type, opts, rooms, close);
    }
    void apply_here(int type, const BroadcastOptions& opts, const std::vector<std::string>& rooms, bool close) {
        if (type == wire::REMOTE_JOIN) Adapter::addSockets(opts, rooms);
        else if (type == wire::REMOTE_LEAVE) Adapter::delSockets(opts, rooms);
        else Adapter::disconnectSockets(opts, close);
    }

    // ---- receiving (RA onmessage, onrequest, onresponse)
    void on_broadcast(const std::string& channel, std::string_view payload) {
        const std::string& base = channels_.base;
        if (channel.compare(0, base.size(), base) != 0) return;
        // the room of a room channel: dropped before decoding when this node has no such room
        const std::string room = channel.size() > base.size()
                                     ? channel.substr(base.size(), channel.size() - base.size() - 1)
                                     : std::string();
        if (!room.empty() && !hasRoom(room)) return;
        wire::Broadcast b;
        if (!wire::decode_broadcast(payload, b)) {
            redis_counters().count_malformed();
            return;
        }
        if (b.uid == uid_ || b.nsp != nsp().name()) return;
        packet::Packet p;
        p.type = packet::Type::Event;
        p.nsp = b.nsp;
        p.has_data = true;
        p.data = std::move(b.data);
        BroadcastOptions opts;
        opts.rooms.insert(b.rooms.begin(), b.rooms.end());
        opts.except.insert(b.except.begin(), b.except.end());
        opts.flags.volatile_ = b.flags.volatile_;
        opts.flags.compress = b.flags.compress;
        deliver(p, opts);  // onAnyOutgoing listeners and a maxBufferedBytes close: on the handler thread
    }

    void on_request(std::string_view payload) {
        wire::Request r;
        if (!wire::decode_request(payload, r)) {
            redis_counters().count_malformed();
            return;
        }
        switch (r.type) {
        case wire::BROADCAST: return answer_broadcast(r);  // here: delivered in order with plain broadcasts
        case wire::SOCKETS:
        case wire::ALL_ROOMS:
        case wire::REMOTE_JOIN:
        case wire::REMOTE_LEAVE:
        case wire::REMOTE_DISCONNECT:
        case wire::REMOTE_FETCH:
        case wire::SERVER_SIDE_EMIT: return post([r = std::move(r)](RedisAdapter& self) { self.answer(r); });
        default: return;  // unknown types are ignored, as in Node
        }
    }

    bool pending_request(const std::string& id) {
        std::lock_guard<std::mutex> lk(mu_);
        return requests_.count(id) != 0;
    }
    static BroadcastOptions options_of(const wire::Request& r) {
        BroadcastOptions o;
        o.rooms.insert(r.opts_rooms.begin(), r.opts_rooms.end());
        o.except.insert(r.opts_except.begin(), r.opts_except.end());
        return o;
    }
    // The requester's own response channel when OUR option says so (RA publishResponse), else the shared one.
    void respond(const wire::Request& r, std::string payload) {
        std::string channel = channels_.response;
        if (options().publishOnSpecificResponseChannel) channel += (r.has_uid ? r.uid : std::string("undefined")) + "#";
        connections_->publisher().publish(std::move(channel), std::move(payload));
    }

    // A foreign request, on the handler thread.
    void answer(const wire::Request& r) {
        switch (r.type) {
        case wire::SOCKETS: {
            if (pending_request(r.requestId)) return;
            std::vector<std::string> ids;
            std::set<std::string> rooms(r.rooms.begin(), r.rooms.end());
            for (auto& s : select(rooms, {})) ids.push_back(s->id());
            return respond(r, wire::encode_list_response(r.requestId, "sockets", ids));
        }
        case wire::ALL_ROOMS: {
            if (pending_request(r.requestId)) return;
            std::vector<std::string> names;
            for (auto& kv : rooms()) names.push_back(kv.first);
            return respond(r, wire::encode_list_response(r.requestId, "rooms", names));
        }
        case wire::REMOTE_JOIN:
        case wire::REMOTE_LEAVE:
        case wire::REMOTE_DISCONNECT: {
            if (r.has_opts) return apply_here(r.type, options_of(r), r.rooms, r.close);  // whatever the uid
            // the legacy form: the node holding the socket acts, and answers
            auto sockets = nsp().sockets();
            auto it = sockets.find(r.sid);
            if (it == sockets.end()) return;
            if (r.type == wire::REMOTE_JOIN) it->second->join(r.room);
            else if (r.type == wire::REMOTE_LEAVE) it->second->leave(r.room);
            else it->second->disconnect(r.close);
            return respond(r, wire::encode_done_response(r.requestId));
        }
        case wire::REMOTE_FETCH: {
            if (pending_request(r.requestId)) return;
            std::vector<wire::SocketEntry> entries;
            for (auto& info : local_socket_infos(options_of(r)))
                entries.push_back(wire::SocketEntry{info.id, to_value(info.handshake),
                                                    std::vector<std::string>(info.rooms.begin(), info.rooms.end()),
                                                    info.data});
            return respond(r, wire::encode_fetch_response(r.requestId, entries));
        }
        case wire::SERVER_SIDE_EMIT: {
            if (r.has_uid && r.uid == uid_) return;
            std::function<void(const Value&)> reply;
            if (r.has_request_id) {  // always on the shared response channel (RA index.ts:415-422)
                reply = [link = link_, id = r.requestId](const Value& v) {
                    detail::Inside in(link->gate);
                    if (!in) return;
                    RedisAdapter& self = *link->adapter;
                    self.connections_->publisher().publish(self.channels_.response,
                                                           wire::encode_server_side_emit_response(id, v));
                };
            }
            return nsp().handle_server_side_emit(Args(r.data.as_array()), std::move(reply));
        }
        default: return;
        }
    }

    // A foreign broadcast with acks: delivered here with an ack id of ours; the count, then each client's first
    // answer, go back to the requester. Node drops the flags here too.
    void answer_broadcast(const wire::Request& r) {
        {
            std::lock_guard<std::mutex> lk(mu_);
            if (ack_requests_.count(r.requestId)) return;  // our own
        }
        packet::Packet p;
        p.type = packet::Type::Event;
        p.nsp = nsp().name();
        p.has_data = true;
        p.data = r.data;
        BroadcastAckHandlers h;
        auto link = link_;
        h.clientCount = [link, r](size_t n) {
            detail::Inside in(link->gate);
            if (in) link->adapter->respond(r, wire::encode_client_count_response(r.requestId, n));
        };
        h.ack = [link, r](const Value& v) {
            detail::Inside in(link->gate);
            if (!in) return;
            try {
                link->adapter->respond(r, wire::encode_broadcast_ack_response(r.requestId, v));
            } catch (const std::exception&) {
                link->adapter->redis_counters().count_unsent();
            }
        };
        deliver_with_ack(p, options_of(r), std::move(h));  // as deliver()
    }

    // An answer to one of our requests. The caller's callbacks run on the handler thread.
    void on_response(std::string_view payload) {
        wire::Response r;
        if (!wire::decode_response(payload, r)) {
            redis_counters().count_malformed();
            return;
        }
        std::unique_lock<std::mutex> lk(mu_);
        auto a = ack_requests_.find(r.requestId);
        if (a != ack_requests_.end()) {
            if (r.type == wire::BROADCAST_CLIENT_COUNT && a->second.clientCount) {
                const auto n = size_t(std::max(0.0, r.clientCount));
                post([fn = a->second.clientCount, n](RedisAdapter&) { fn(n); });
            } else if (r.type == wire::BROADCAST_ACK && a->second.ack) {
                post([fn = a->second.ack, v = std::move(r.packet)](RedisAdapter&) { fn(v); });
            }
            return;
        }
        auto it = requests_.find(r.requestId);
        if (it == requests_.end()) return;  // someone else's, or late
        Pending& p = it->second;
        bool complete = false;
        switch (p.type) {
        case wire::REMOTE_FETCH:
            ++p.msgCount;  // counted even without a sockets array, as in Node (which then cannot complete with it)
            if (!r.has_sockets) return;
            for (auto& e : r.sockets)
                p.sockets.push_back(SocketInfo{e.id, handshake_from_value(e.handshake),
                                               std::set<std::string>(e.rooms.begin(), e.rooms.end()), e.data});
            complete = p.msgCount == p.numSub;
            break;
        case wire::ALL_ROOMS:
            ++p.msgCount;
            if (!r.has_rooms) return;
            p.rooms.insert(r.rooms.begin(), r.rooms.end());
            complete = p.msgCount == p.numSub;
            break;
        case wire::SERVER_SIDE_EMIT:
            p.responses.push_back(r.data);
            complete = p.responses.size() == p.numSub;
            break;
        default: return;
        }
        if (!complete) return;
        cancel(p.timer);
        auto done = std::make_shared<Pending>(std::move(p));
        requests_.erase(it);
        lk.unlock();
        post([done](RedisAdapter&) {
            if (done->fetch_cb) done->fetch_cb(Error{}, std::move(done->sockets));
            if (done->rooms_cb) done->rooms_cb(Error{}, std::move(done->rooms));
            if (done->sse_cb) done->sse_cb(Error{}, done->responses);
        });
    }

    std::shared_ptr<detail::Connections> connections_;
    const std::string uid_;
    const wire::Channels channels_;
    std::shared_ptr<detail::AdapterLink> link_;  // set by init()
    std::atomic<bool> closed_{false};
    std::mutex mu_;  // the pending requests; before Timers::mu_ and TaskThread::mu_ (post() under it)
    std::map<std::string, Pending> requests_;
    std::map<std::string, AckPending> ack_requests_;
};

inline void detail::Connections::handle_message(const std::string& pattern, const std::string& channel,
                                                std::string_view payload) {
    std::shared_ptr<AdapterLink> link;
    {
        std::lock_guard<std::mutex> lk(routes_mu_);
        auto& routes = pattern.empty() ? by_channel_ : by_pattern_;
        auto it = routes.find(pattern.empty() ? channel : pattern);
        if (it != routes.end()) link = it->second;
    }
    if (!link) return;
    Inside in(link->gate);
    if (in) link->adapter->on_channel_message(pattern, channel, payload);
}

// Whether Redis answers at `options` (connect, AUTH when set, PING, each within connectTimeout): "" when it does,
// else what went wrong. The adapters never need it (they retry until Redis is there); call it before io.start()
// to fail fast, or to say at start that this node is on its own for now.
inline std::string ping(const Options& options) {
    detail::WakeFd never;
    detail::RedisLink link;
    const std::string where = "Redis at " + options.host + ":" + std::to_string(options.port);
    const auto timeout = std::to_string(options.connectTimeout) + " ms";
    switch (link.open(options, never.fd(), false)) {
    case detail::Io::Ok: break;
    case detail::Io::Timeout: return where + " did not answer within " + timeout;
    default: return where + " cannot be reached (refused, unknown host, or AUTH refused)";
    }
    link.append({"PING"});
    const auto deadline = detail::Clock::now() + std::chrono::milliseconds(std::max(1, options.connectTimeout));
    redisReply* reply = nullptr;
    if (link.flush(never.fd(), deadline) != detail::Io::Ok ||
        link.read(reply, never.fd(), -1, deadline) != detail::Io::Ok)
        return where + " did not answer PING within " + timeout;
    const bool ok = reply->type == REDIS_REPLY_STATUS;
    std::string error = reply->type == REDIS_REPLY_ERROR ? std::string(reply->str, reply->len) : "an odd reply";
    freeReplyObject(reply);
    return ok ? "" : where + " refused PING: " + error;
}

// io.adapter(sio::redis::createAdapter(options)): every namespace's adapter made by the returned factory shares
// one subscriber and one publisher connection (they start with the first adapter).
inline AdapterFactory createAdapter(Options options = {}) {
    auto connections = std::make_shared<detail::Connections>(std::move(options));
    return [connections](Namespace& nsp) -> std::unique_ptr<Adapter> {
        return std::make_unique<RedisAdapter>(nsp, connections);
    };
}

// =====================================================================================================================
// 5. CLUSTER ADAPTERS — what the Streams adapter (section 6) and the sharded adapter (section 7) share:
//    socket.io-adapter's ClusterAdapter (the notes' §2). Requests that want answers (broadcasts with acks,
//    fetchSockets, serverSideEmit) go to every node and their answers to the requester alone, through the hooks a
//    subclass gives (publish, count_command); the answers, the time-outs and the handlers are here.
//    Threads: as section 4. Lock order: ClusterAdapter::mu_ -> Adapter::mu_ (select), Timers::mu_, TaskThread::mu_.
// =====================================================================================================================
class ClusterAdapter;

namespace detail {

// How other threads reach one cluster adapter: its gate, and the adapter while the gate is open.
struct ClusterLink {
    explicit ClusterLink(ClusterAdapter* a) : adapter(a) {}
    Gate gate;
    ClusterAdapter* const adapter;
};

}  // namespace detail

// The requests of a cluster adapter, with ClusterAdapter's semantics (the notes' §2.2):
//   broadcastWithAck   a BROADCAST (3) with a requestId to every node; each answers a count (11), then acks (12)
//   fetchSockets       FETCH_SOCKETS (7); one answer (8) per other node the count command counts, or time-out
//   serverSideEmit     SERVER_SIDE_EMIT (9); with an ack, one answer (10) per other node
class ClusterAdapter : public Adapter {
public:
    explicit ClusterAdapter(Namespace& nsp) : Adapter(nsp), uid_(wire::cluster::random_hex_id()) {}

    // This node's id in the namespace's messages (16 hex digits, as Node's).
    const std::string& uid() const { return uid_; }

    void broadcastWithAck(const packet::Packet& p, const BroadcastOptions& opts, BroadcastAckHandlers h) override {
        if (opts.flags.local || !link_) return Adapter::broadcastWithAck(p, opts, std::move(h));
        const std::string id = wire::cluster::random_hex_id();
        const int keep = opts.flags.timeout >= 0 ? opts.flags.timeout : options().requestsTimeout;
        {
            std::lock_guard<std::mutex> lk(mu_);
            auto& a = ack_requests_[id];
            a.clientCount = h.clientCount;
            a.ack = h.ack;
            a.timer = after(keep, [id](ClusterAdapter& self) {
                std::lock_guard<std::mutex> lock(self.mu_);
                self.ack_requests_.erase(id);
            });
        }
        redis_counters().count_request();
        publish(message(wire::cluster::BROADCAST,
                        Value::Object{{"packet", packet_value(p)}, {"requestId", id}, {"opts", encode_opts(opts)}}),
                {});
        auto serverCount = std::move(h.serverCount);
        h.serverCount = nullptr;  // the count is Redis's
        Adapter::broadcastWithAck(p, opts, std::move(h));
        count_servers([serverCount](ClusterAdapter&, size_t n) {
            if (serverCount) serverCount(std::max<size_t>(n, 1));
        });
    }

    void fetchSockets(const BroadcastOptions& opts, SocketInfoCallback cb) override {
        auto local = local_socket_infos(opts);
        if (opts.flags.local || !link_) return cb(Error{}, std::move(local));
        auto here = std::make_shared<std::vector<SocketInfo>>(std::move(local));
        count_servers([opts, cb = std::move(cb), here](ClusterAdapter& self, size_t n) {
            if (n <= 1) return cb(Error{}, std::move(*here));
            Pending pending;
            pending.type = wire::cluster::FETCH_SOCKETS;
            pending.expected = n - 1;
            pending.sockets = std::move(*here);
            pending.fetch_cb = cb;
            const std::string id = wire::cluster::random_hex_id();
            self.start_request(id, std::move(pending), opts.flags.timeout > 0 ? opts.flags.timeout : 0,
                               self.message(wire::cluster::FETCH_SOCKETS,
                                            Value::Object{{"opts", encode_opts(opts)}, {"requestId", id}}));
        });
    }

    void serverSideEmit(const Args& data, AckCallback ack) override {
        Value packet(Value::Array(data.begin(), data.end()));
        if (!ack || !link_) {
            publish(message(wire::cluster::SERVER_SIDE_EMIT, Value::Object{{"packet", packet}}), {});
            if (ack) ack(Error{}, Args{});
            return;
        }
        count_servers([packet, ack = std::move(ack)](ClusterAdapter& self, size_t n) {
            if (n <= 1) return ack(Error{}, Args{});
            Pending pending;
            pending.type = wire::cluster::SERVER_SIDE_EMIT;
            pending.expected = n - 1;
            pending.sse_cb = ack;
            const std::string id = wire::cluster::random_hex_id();
            self.start_request(
                id, std::move(pending), 0,
                self.message(wire::cluster::SERVER_SIDE_EMIT, Value::Object{{"requestId", id}, {"packet", packet}}));
        });
    }
    // Node's serverCount(): the nodes serving this namespace (the count command's answer), 0 when Redis cannot be
    // asked; `cb` runs as a handler.
    void serverCount(std::function<void(size_t)> cb) {
        count_servers([cb = std::move(cb)](ClusterAdapter& self, size_t n) { self.run_handler([&] { cb(n); }); });
    }

    // A message the subscriber got on one of this adapter's channels (inside the gate, on the subscriber's thread).
    virtual void on_pubsub(const std::string& channel, std::string_view payload) = 0;

protected:
    struct Pending {
        int type = 0;
        size_t expected = 0, current = 0;
        std::vector<SocketInfo> sockets;
        Args responses;
        SocketInfoCallback fetch_cb;
        AckCallback sse_cb;
        TimerId timer = 0;
    };
    struct AckPending {
        std::function<void(size_t)> clientCount;
        std::function<void(const Value&)> ack;
        TimerId timer = 0;
    };
    using Task = std::function<void(ClusterAdapter&)>;

    // ---- the hooks
    virtual const Options& options() const = 0;
    virtual detail::Counters& redis_counters() = 0;
    virtual detail::Publisher& publisher() = 0;
    // `m` to every node (`to` empty), or an answer to the node whose uid is `to`.
    virtual void publish(const wire::cluster::Message& m, const std::string& to) = 0;
    // The command whose reply's second element is the number of nodes serving this namespace.
    virtual std::vector<std::string> count_command() const = 0;

    void post(Task fn) {
        if (link_) Adapter::post(gated(std::move(fn)));
    }
    TimerId after(int ms, Task fn) { return link_ ? Adapter::after(ms, gated(std::move(fn))) : 0; }
    std::function<void()> gated(Task fn) {
        return [link = link_, fn = std::move(fn)] {
            detail::Inside in(link->gate);
            if (in) fn(*link->adapter);
        };
    }
    // Cancels and forgets every request (close(); the caller holds mu_).
    void drop_requests() {
        for (auto& kv : requests_) cancel(kv.second.timer);
        for (auto& kv : ack_requests_) cancel(kv.second.timer);
        requests_.clear();
        ack_requests_.clear();
    }

    wire::cluster::Message message(int type, Value data) const {
        return wire::cluster::Message{type, std::move(data), uid_, nsp().name()};
    }
    static Value packet_value(const packet::Packet& p) {
        Value::Object o{{"type", 2}, {"data", p.data}};
        if (p.id >= 0) o["id"] = p.id;
        return o;
    }
    static Value encode_opts(const BroadcastOptions& o) { return wire::cluster::encode_opts(o); }
    static bool read_broadcast(const Value& data, packet::Packet& p, BroadcastOptions& opts) {
        const Value& packet = data["packet"];
        if (!packet["data"].is_array() || !wire::cluster::decode_opts(data["opts"], opts)) return false;
        p.type = packet::Type::Event;
        p.has_data = true;
        p.data = packet["data"];
        if (packet["id"].is_number()) p.id = packet["id"].as_int();
        return true;
    }

    // The count command, then fn(adapter, count) on the handler thread; 0 when Redis did not answer.
    void count_servers(std::function<void(ClusterAdapter&, size_t)> fn) {
        if (!link_) return fn(*this, 0);
        auto link = link_;
        publisher().command(count_command(), [link, fn = std::move(fn)](const redisReply* reply) {
            size_t n = 0;
            if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2 &&
                reply->element[1]->type == REDIS_REPLY_INTEGER && reply->element[1]->integer > 0)
                n = size_t(reply->element[1]->integer);
            detail::Inside in(link->gate);
            if (in) link->adapter->post([fn, n](ClusterAdapter& self) { fn(self, n); });
        });
    }

    // `ms` 0: the reference's 5 s (requestsTimeout here).
    void start_request(const std::string& id, Pending pending, int ms, const wire::cluster::Message& m) {
        {
            std::lock_guard<std::mutex> lk(mu_);
            pending.timer =
                after(ms > 0 ? ms : options().requestsTimeout, [id](ClusterAdapter& self) { self.on_timeout(id); });
            requests_[id] = std::move(pending);
        }
        redis_counters().count_request();
        publish(m, {});
    }
    void on_timeout(const std::string& id) {
        Pending p;
        {
            std::lock_guard<std::mutex> lk(mu_);
            auto it = requests_.find(id);
            if (it == requests_.end()) return;
            p = std::move(it->second);
            requests_.erase(it);
        }
        redis_counters().count_timeout();
        Error err{"timeout reached: only " + std::to_string(p.current) + " responses received out of " +
                  std::to_string(p.expected)};
        if (p.fetch_cb) p.fetch_cb(err, std::move(p.sockets));
        if (p.sse_cb) p.sse_cb(err, p.responses);
    }

    // socketsJoin / socketsLeave / disconnectSockets (4 / 5 / 6) applied to this node's sockets.
    void apply_here(int type, const BroadcastOptions& opts, const Value& data) {
        std::vector<std::string> rooms;
        for (auto& r : data["rooms"].as_array())
            if (r.is_string()) rooms.push_back(r.as_string());
        if (type == wire::cluster::SOCKETS_JOIN) Adapter::addSockets(opts, rooms);
        else if (type == wire::cluster::SOCKETS_LEAVE) Adapter::delSockets(opts, rooms);
        else Adapter::disconnectSockets(opts, data["close"].as_bool());
    }

    // Another node's request: a broadcast with acks, FETCH_SOCKETS or SERVER_SIDE_EMIT (the rest is ignored).
    inline void on_request(const wire::cluster::Message& m);
    inline void answer_broadcast(const wire::cluster::Message& m);
    // An answer to a request of ours (late or unknown ones are dropped).
    inline void on_response(const wire::cluster::Message& m);

    const std::string uid_;
    std::shared_ptr<detail::ClusterLink> link_;  // set by init()
    std::atomic<bool> closed_{false};
    std::mutex
        mu_;  // requests (and what a subclass keeps with them); before Adapter::mu_, Timers::mu_, TaskThread::mu_
    std::map<std::string, Pending> requests_;
    std::map<std::string, AckPending> ack_requests_;
};

inline void ClusterAdapter::on_request(const wire::cluster::Message& m) {
    const std::string requester = m.uid;
    const std::string id = m.data["requestId"].as_string();
    switch (m.type) {
    case wire::cluster::BROADCAST:
        if (!id.empty()) answer_broadcast(m);
        return;
    case wire::cluster::FETCH_SOCKETS: {
        BroadcastOptions opts;
        if (id.empty() || !wire::cluster::decode_opts(m.data["opts"], opts)) {
            redis_counters().count_malformed();
            return;
        }
        return post([requester, id, opts](ClusterAdapter& self) {
            Value::Array sockets;
            for (auto& info : self.local_socket_infos(opts))
                sockets.push_back(Value::Object{{"id", info.id},
                                                {"handshake", to_value(info.handshake)},
                                                {"rooms", Value::Array(info.rooms.begin(), info.rooms.end())},
                                                {"data", info.data}});
            self.publish(self.message(wire::cluster::FETCH_SOCKETS_RESPONSE,
                                      Value::Object{{"requestId", id}, {"sockets", std::move(sockets)}}),
                         requester);
        });
    }
    case wire::cluster::SERVER_SIDE_EMIT: {
        if (!m.data["packet"].is_array()) {
            redis_counters().count_malformed();
            return;
        }
        return post([requester, id, packet = m.data["packet"]](ClusterAdapter& self) {
            std::function<void(const Value&)> reply;
            if (!id.empty()) {
                reply = [link = self.link_, requester, id](const Value& v) {
                    detail::Inside in(link->gate);
                    if (!in) return;
                    auto& a = *link->adapter;
                    a.publish(a.message(wire::cluster::SERVER_SIDE_EMIT_RESPONSE,
                                        Value::Object{{"requestId", id}, {"packet", v}}),
                              requester);
                };
            }
            self.nsp().handle_server_side_emit(Args(packet.as_array()), std::move(reply));
        });
    }
    default: return;  // heartbeats (a 0.2 node's) and unknown types
    }
}

// Another node's broadcast with acks: delivered here with an ack id of ours; the count, then each client's answer,
// go back to the requester.
inline void ClusterAdapter::answer_broadcast(const wire::cluster::Message& m) {
    packet::Packet p;
    p.nsp = nsp().name();
    BroadcastOptions opts;
    if (!read_broadcast(m.data, p, opts)) {
        redis_counters().count_malformed();
        return;
    }
    p.id = -1;
    BroadcastAckHandlers h;
    const std::string requester = m.uid, id = m.data["requestId"].as_string();
    auto link = link_;
    h.clientCount = [link, requester, id](size_t n) {
        detail::Inside in(link->gate);
        if (!in) return;
        auto& a = *link->adapter;
        a.publish(
            a.message(wire::cluster::BROADCAST_CLIENT_COUNT, Value::Object{{"requestId", id}, {"clientCount", n}}),
            requester);
    };
    h.ack = [link, requester, id](const Value& v) {
        detail::Inside in(link->gate);
        if (!in) return;
        auto& a = *link->adapter;
        a.publish(a.message(wire::cluster::BROADCAST_ACK, Value::Object{{"requestId", id}, {"packet", v}}), requester);
    };
    deliver_with_ack(p, opts, std::move(h));
}

inline void ClusterAdapter::on_response(const wire::cluster::Message& m) {
    const std::string id = m.data["requestId"].as_string();
    std::unique_lock<std::mutex> lk(mu_);
    auto a = ack_requests_.find(id);
    if (a != ack_requests_.end()) {
        if (m.type == wire::cluster::BROADCAST_CLIENT_COUNT && a->second.clientCount) {
            const auto n = size_t(std::max(0.0, m.data["clientCount"].as_number()));
            post([fn = a->second.clientCount, n](ClusterAdapter&) { fn(n); });
        } else if (m.type == wire::cluster::BROADCAST_ACK && a->second.ack) {
            post([fn = a->second.ack, v = m.data["packet"]](ClusterAdapter&) { fn(v); });
        }
        return;
    }
    auto it = requests_.find(id);
    if (it == requests_.end()) return;  // someone else's, or late
    Pending& p = it->second;
    if (m.type == wire::cluster::FETCH_SOCKETS_RESPONSE && p.type == wire::cluster::FETCH_SOCKETS) {
        ++p.current;
        for (auto& e : m.data["sockets"].as_array()) {
            std::set<std::string> rooms;
            for (auto& r : e["rooms"].as_array())
                if (r.is_string()) rooms.insert(r.as_string());
            p.sockets.push_back(
                SocketInfo{e["id"].as_string(), handshake_from_value(e["handshake"]), rooms, e["data"]});
        }
    } else if (m.type == wire::cluster::SERVER_SIDE_EMIT_RESPONSE && p.type == wire::cluster::SERVER_SIDE_EMIT) {
        ++p.current;
        p.responses.push_back(m.data["packet"]);
    } else {
        return;
    }
    if (p.current != p.expected) return;
    cancel(p.timer);
    auto done = std::make_shared<Pending>(std::move(p));
    requests_.erase(it);
    lk.unlock();
    post([done](ClusterAdapter&) {
        if (done->fetch_cb) done->fetch_cb(Error{}, std::move(done->sockets));
        if (done->sse_cb) done->sse_cb(Error{}, done->responses);
    });
}

// =====================================================================================================================
// 6. THE STREAMS ADAPTER — io.adapter(sio::redis::createStreamsAdapter(options)): a node of a cluster of
//    @socket.io/redis-streams-adapter 0.3.1 nodes, Node or C++, with connection state recovery across nodes
//    (the notes' §2 and §5.6, and docs/redis-streams.md).
//    - Broadcasts, socketsJoin / socketsLeave and disconnectSockets are entries of one Redis stream (XADD MAXLEN ~),
//      which every node reads (XREAD BLOCK). The entry's id is the offset a recovering client hands back.
//    - Requests that want answers (broadcasts with acks, fetchSockets, serverSideEmit) and their answers go over
//      pub/sub, as msgpack: <channelPrefix>#<nsp># to every node, <channelPrefix>#<nsp>#<uid># to one.
//    - A session is kept in Redis (SET <sessionKeyPrefix><pid> ... PX maxDisconnectionDuration), so that any node
//      can restore it: GETDEL takes it, and the stream gives what the client missed.
//    Unlike Node's node, which delivers its own broadcasts once XADD has answered and the others' as it reads them,
//    this one delivers every entry, its own too, as its reader reads them: every C++ node hands its clients the
//    stream's order, so the last offset a client saw is also the newest it got, and a recovery resends nothing it
//    already had. When Redis cannot take an entry, this node's clients get it at once (no offset) and other
//    nodes never do. Threads: as section 4 (the reader is one more own thread, and delivers as the subscriber does).
// =====================================================================================================================
class StreamsAdapter;

namespace detail {

using StreamsLink = ClusterLink;

// What the adapters of one Streams factory share: a publisher (XADD, SET, GETDEL, XRANGE, PUBLISH), a subscriber
// (the pub/sub channels) and the stream reader, each a connection and a thread, started with the first adapter.
class StreamConnections {
public:
    explicit StreamConnections(StreamsOptions o)
        : options_(std::move(o)),
          publisher_(options_, counters_),
          subscriber_(
              options_, counters_,
              [this](const std::string&, const std::string& channel, std::string_view payload) {
                  handle_message(channel, payload);
              },
              options_.useShardedPubSub),
          reader_(options_, counters_, streams_of(options_), options_.readCount, options_.blockTimeInMs,
                  [this](const std::string&, const std::string& id, const StreamReader::Fields& fields) {
                      handle_entry(id, fields);
                  }) {}
    ~StreamConnections() {
        publisher_.stop();
        subscriber_.stop();
        reader_.stop();
    }
    StreamConnections(const StreamConnections&) = delete;
    StreamConnections& operator=(const StreamConnections&) = delete;

    const StreamsOptions& options() const { return options_; }
    Counters& counters() { return counters_; }
    Publisher& publisher() { return publisher_; }
    bool ready() const { return publisher_.connected() && subscriber_.ready() && reader_.ready(); }

    void attach(const std::shared_ptr<StreamsLink>& link, const std::string& nsp,
                const std::vector<std::string>& channels) {
        std::lock_guard<std::mutex> life(lifecycle_mu_);
        {
            std::lock_guard<std::mutex> lk(routes_mu_);
            by_nsp_[nsp] = link;
            for (auto& c : channels) by_channel_[c] = link;
        }
        subscriber_.add(channels, {});
        if (attached_++ == 0) {
            publisher_.start();
            subscriber_.start();
            reader_.start();
        }
    }
    // The last adapter to go stops the threads, once what it queued has reached Redis (the sessions a drain
    // persisted), for at most commandTimeout.
    void detach(const StreamsLink* link, const std::string& nsp, const std::vector<std::string>& channels) {
        std::lock_guard<std::mutex> life(lifecycle_mu_);
        {
            std::lock_guard<std::mutex> lk(routes_mu_);
            auto it = by_nsp_.find(nsp);
            if (it != by_nsp_.end() && it->second.get() == link) by_nsp_.erase(it);
            for (auto& c : channels) {
                auto ch = by_channel_.find(c);
                if (ch != by_channel_.end() && ch->second.get() == link) by_channel_.erase(ch);
            }
        }
        subscriber_.remove(channels, {});
        if (attached_ > 0 && --attached_ == 0) {
            publisher_.flush(options_.commandTimeout);
            publisher_.stop();
            subscriber_.stop();
            reader_.stop();
        }
    }

private:
    static std::vector<std::string> streams_of(const StreamsOptions& o) {
        if (o.streamCount <= 1) return {o.streamName};
        std::vector<std::string> out;
        for (int i = 0; i < o.streamCount; ++i) out.push_back(o.streamName + "-" + std::to_string(i));
        return out;
    }
    inline void handle_message(const std::string& channel, std::string_view payload);
    inline void handle_entry(const std::string& id, const StreamReader::Fields& fields);

    StreamsOptions options_;
    Counters counters_;
    std::mutex lifecycle_mu_;  // orders attach/detach; no thread of ours takes it
    std::mutex routes_mu_;     // a leaf: the routes
    std::map<std::string, std::shared_ptr<StreamsLink>> by_nsp_, by_channel_;
    size_t attached_ = 0;
    Publisher publisher_;
    Subscriber subscriber_;
    StreamReader reader_;
};

}  // namespace detail

// The adapter of one namespace. The core calls the overrides, with ClusterAdapter's semantics (the notes' §2.2):
//   broadcast              XADD a BROADCAST (3); every node delivers it as its reader reads it, with its offset
//   broadcastWithAck       PUBLISH a BROADCAST with a requestId; each node answers a count (11), then acks (12)
//   fetchSockets           PUBLISH FETCH_SOCKETS (7); one answer (8) per other node NUMSUB counts, or time-out
//   serverSideEmit         PUBLISH SERVER_SIDE_EMIT (9); with an ack, one answer (10) per other node
//   addSockets / delSockets / disconnectSockets   XADD 4 / 5 / 6, applied by every node as it reads them
//   persistSession         SET the session with its expiry; restoreSession: GETDEL it, check the offset is still
//                          in the stream, then XRANGE what came after it for this namespace's rooms
class StreamsAdapter : public ClusterAdapter {
public:
    StreamsAdapter(Namespace& nsp, std::shared_ptr<detail::StreamConnections> connections)
        : ClusterAdapter(nsp),
          connections_(std::move(connections)),
          stream_(wire::cluster::stream_of(nsp.name(), options().streamName, options().streamCount)),
          public_channel_(options().channelPrefix + "#" + nsp.name() + "#"),
          private_channel_(public_channel_ + uid_ + "#") {
        // One sio::AdapterStats for every namespace of the factory. Sessions are kept in Redis, which expires them:
        // none is counted as expired here (AdapterStats::sessionsExpired stays 0 for this adapter).
        share_counters(connections_->counters().shared);
    }
    ~StreamsAdapter() override { close(); }

    const std::string& stream() const { return stream_; }
    Stats stats() const { return connections_->counters().snapshot(); }
    // Whether the three connections are up, the subscriptions in place and the reader positioned.
    bool ready() const { return connections_->ready(); }

    void init() override {
        if (link_) return;
        link_ = std::make_shared<detail::StreamsLink>(this);
        connections_->attach(link_, nsp().name(), {public_channel_, private_channel_});
        if (eager()) schedule_refresh();
    }
    void close() override {
        if (closed_.exchange(true) || !link_) return;
        link_->gate.close();
        {
            std::lock_guard<std::mutex> lk(mu_);
            for (auto& kv : requests_) cancel(kv.second.timer);
            for (auto& kv : ack_requests_) cancel(kv.second.timer);
            cancel(refresh_timer_);
            requests_.clear();
            ack_requests_.clear();
        }
        connections_->detach(link_.get(), nsp().name(), {public_channel_, private_channel_});
    }
    bool recoversAcrossNodes() const override { return true; }

    void broadcast(const packet::Packet& p, const BroadcastOptions& opts) override {
        if (opts.flags.local || !link_) return Adapter::broadcast(p, opts);
        wire::cluster::Message m =
            message(wire::cluster::BROADCAST, Value::Object{{"packet", packet_value(p)}, {"opts", encode_opts(opts)}});
        auto held = std::make_shared<std::pair<packet::Packet, BroadcastOptions>>(p, opts);
        xadd(m, [link = link_, held](bool ok) {
            if (ok) return;  // the reader delivers it, here as everywhere
            detail::Inside in(link->gate);
            if (in) of(*link).deliver(held->first, held->second);
        });
    }

    void addSockets(const BroadcastOptions& opts, const std::vector<std::string>& rooms) override {
        change(wire::cluster::SOCKETS_JOIN, opts,
               Value::Object{{"opts", encode_opts(opts)}, {"rooms", Value::Array(rooms.begin(), rooms.end())}});
    }
    void delSockets(const BroadcastOptions& opts, const std::vector<std::string>& rooms) override {
        change(wire::cluster::SOCKETS_LEAVE, opts,
               Value::Object{{"opts", encode_opts(opts)}, {"rooms", Value::Array(rooms.begin(), rooms.end())}});
    }
    void disconnectSockets(const BroadcastOptions& opts, bool close) override {
        change(wire::cluster::DISCONNECT_SOCKETS, opts, Value::Object{{"opts", encode_opts(opts)}, {"close", close}});
    }

    // ---- connection state recovery across nodes
    void persistSession(const SessionToPersist& session) override {
        const int keep = keep_ms();
        if (!link_ || keep <= 0) return;
        if (eager()) {
            std::lock_guard<std::mutex> lk(mu_);
            just_persisted_.insert(session.sid);
        }
        connections_->publisher().command({"SET", options().sessionKeyPrefix + session.pid,
                                           wire::cluster::encode_session(session), "PX", std::to_string(keep)},
                                          nullptr);
    }
    inline void restoreSession(const std::string& pid, const std::string& offset, RestoreCallback done) override;
    inline void resumeSession(const SocketPtr& socket, const Session& session) override;

    // With persistSessionsEagerly, a socket's session is written again when it joins or leaves a room (its own,
    // at connect, included), and deleted when it leaves for good (not lost: then persistSession wrote it just now).
    void addAll(const SocketPtr& socket, const std::vector<std::string>& rooms) override {
        Adapter::addAll(socket, rooms);
        if (eager()) persist_now(*socket);
    }
    void del(const std::string& sid, const std::string& room) override {
        Adapter::del(sid, room);
        if (!eager()) return;
        auto sockets = nsp().sockets();
        auto it = sockets.find(sid);
        if (it != sockets.end()) persist_now(*it->second);
    }
    void delAll(const std::string& sid) override {
        {
            std::lock_guard<std::mutex> lk(mu_);
            auto it = holds_.find(sid);
            if (it != holds_.end() && !it->second.resumed_up_to.empty()) holds_.erase(it);  // restoring: its own
        }
        if (eager()) {
            bool kept;
            {
                std::lock_guard<std::mutex> lk(mu_);
                kept = just_persisted_.erase(sid) != 0;
            }
            auto sockets = nsp().sockets();
            auto it = sockets.find(sid);
            if (!kept && it != sockets.end() && !it->second->pid().empty() && link_)
                connections_->publisher().command({"DEL", options().sessionKeyPrefix + it->second->pid()}, nullptr);
        }
        Adapter::delAll(sid);
    }

    // ---- what the connections' threads hand in (inside the gate)
    inline void on_entry(const std::string& id, wire::cluster::Message m);
    inline void on_pubsub(const std::string& channel, std::string_view payload) override;

private:
    // A socket being restored: what the reader delivers to its rooms meanwhile waits here, and follows the packets
    // it missed (those up to `watermark` it already has from XRANGE, and are dropped).
    struct Held {
        std::string id;
        packet::Packet packet;
    };
    struct Hold {
        std::set<std::string> rooms;
        std::vector<Held> pending;
        std::string reader_at;  // the newest entry the reader delivered while it held
        // Once the missed packets are out, the newest of them, when the reader has not read that far yet (it may lag
        // behind XRANGE: a node just started, a burst): until it has, what it delivers up to there is not sent to
        // this socket again. Empty while restoring.
        std::string resumed_up_to;
    };
    // Session::state of a restored session: the missed packets' data (offset last), the newest entry XRANGE read;
    // the hold goes with the last copy of it, used or not.
    struct Restored {
        std::weak_ptr<detail::StreamsLink> link;
        std::string sid, watermark;
        std::vector<Value> missed;
        inline ~Restored();
    };
    struct Restore;  // the steps of one restoreSession
    using Task = std::function<void(StreamsAdapter&)>;

    const StreamsOptions& options() const override { return connections_->options(); }
    detail::Counters& redis_counters() override { return connections_->counters(); }
    detail::Publisher& publisher() override { return connections_->publisher(); }
    static StreamsAdapter& of(detail::StreamsLink& link) { return static_cast<StreamsAdapter&>(*link.adapter); }
    int keep_ms() const {
        const auto& r = nsp().server().options().connectionStateRecovery;
        return r ? r->maxDisconnectionDuration : 0;
    }
    bool eager() const { return options().persistSessionsEagerly && keep_ms() > 0; }

    void post(Task fn) {
        if (link_) Adapter::post(gated(std::move(fn)));
    }
    TimerId after(int ms, Task fn) { return link_ ? Adapter::after(ms, gated(std::move(fn))) : 0; }
    std::function<void()> gated(Task fn) {
        return [link = link_, fn = std::move(fn)] {
            detail::Inside in(link->gate);
            if (in) fn(of(*link));
        };
    }

    // An entry for the stream; `done(ok)` (may be null) once Redis answered, on the publisher's thread.
    void xadd(const wire::cluster::Message& m, std::function<void(bool ok)> done) {
        std::vector<std::string> argv{"XADD", stream_, "MAXLEN", "~", std::to_string(options().maxLen), "*"};
        try {
            auto fields = wire::cluster::entry_fields(m, options().onlyPlaintext);
            argv.insert(argv.end(), std::make_move_iterator(fields.begin()), std::make_move_iterator(fields.end()));
        } catch (const std::length_error&) {
            redis_counters().count_unsent();
            if (done) done(false);
            return;
        }
        connections_->publisher().publish_command(std::move(argv), [done = std::move(done)](const redisReply* r) {
            if (done) done(r && r->type == REDIS_REPLY_STRING);
        });
    }
    // An ephemeral message to every node (requests), or to one (`to`: a response).
    void publish(const wire::cluster::Message& m, const std::string& to = {}) override {
        std::string payload;
        try {
            payload = wire::cluster::encode_pubsub(m);
        } catch (const std::length_error&) {
            redis_counters().count_unsent();
            return;
        }
        std::string channel = to.empty() ? public_channel_ : public_channel_ + to + "#";
        connections_->publisher().publish_command(
            {options().useShardedPubSub ? "SPUBLISH" : "PUBLISH", std::move(channel), std::move(payload)});
    }

    // NUMSUB (or SHARDNUMSUB) of the public channel.
    std::vector<std::string> count_command() const override {
        return {"PUBSUB", options().useShardedPubSub ? "SHARDNUMSUB" : "NUMSUB", public_channel_};
    }

    // socketsJoin / socketsLeave / disconnectSockets: into the stream, applied by every node as it reads it (this
    // one too); here at once when Redis cannot take it.
    void change(int type, const BroadcastOptions& opts, Value data) {
        if (opts.flags.local || !link_) return apply_here(type, opts, data);
        auto held = std::make_shared<std::pair<BroadcastOptions, Value>>(opts, data);
        xadd(message(type, std::move(data)), [link = link_, type, held](bool ok) {
            if (ok) return;
            detail::Inside in(link->gate);
            if (in)
                of(*link).post(
                    [type, held](StreamsAdapter& self) { self.apply_here(type, held->first, held->second); });
        });
    }
    // A broadcast read from the stream: to the chosen sockets, but those being restored, for which it waits.
    inline void deliver_entry(const std::string& id, const packet::Packet& p, const BroadcastOptions& opts);
    static bool reaches(const std::set<std::string>& rooms, const BroadcastOptions& opts) {
        bool included = opts.rooms.empty() ||
                        std::any_of(rooms.begin(), rooms.end(), [&](auto& r) { return opts.rooms.count(r) != 0; });
        return included && std::none_of(rooms.begin(), rooms.end(), [&](auto& r) { return opts.except.count(r) != 0; });
    }
    void add_offset(packet::Packet& p, const BroadcastOptions& opts, const std::string& id) const {
        if (keep_ms() > 0 && p.id < 0 && !opts.flags.volatile_) p.data.push_back(id);
    }

    // Eager sessions: every local socket's session, again before it expires.
    inline void schedule_refresh();
    inline void refresh_sessions();
    void persist_now(Socket& s) {
        if (s.pid().empty() || !s.connected()) return;
        persistSession(SessionToPersist{s.id(), s.pid(), s.rooms(), s.data()});
        std::lock_guard<std::mutex> lk(mu_);
        just_persisted_.erase(s.id());
    }

    std::shared_ptr<detail::StreamConnections> connections_;
    const std::string stream_, public_channel_, private_channel_;
    std::map<std::string, Hold> holds_;  // by socket id
    TimerId refresh_timer_ = 0;
    std::set<std::string> just_persisted_;  // eager: sockets persistSession wrote as they closed
};

inline StreamsAdapter::Restored::~Restored() {
    auto l = link.lock();
    if (!l) return;
    detail::Inside in(l->gate);
    if (!in) return;
    std::lock_guard<std::mutex> lk(of(*l).mu_);
    auto it = of(*l).holds_.find(sid);
    if (it != of(*l).holds_.end() && it->second.resumed_up_to.empty()) of(*l).holds_.erase(it);  // not resumed
}

inline void StreamsAdapter::deliver_entry(const std::string& id, const packet::Packet& p,
                                          const BroadcastOptions& opts) {
    std::vector<SocketPtr> targets;
    {
        std::lock_guard<std::mutex> lk(mu_);
        targets = select(opts.rooms, opts.except);
        if (!holds_.empty()) {
            for (auto it = holds_.begin(); it != holds_.end();) {
                Hold& h = it->second;
                if (!h.resumed_up_to.empty()) {  // resumed: held back only up to what it got from XRANGE
                    if (wire::cluster::id_less(h.resumed_up_to, id)) {
                        it = holds_.erase(it);
                        continue;
                    }
                } else {
                    h.reader_at = id;
                    if (reaches(h.rooms, opts)) h.pending.push_back(Held{id, p});
                }
                ++it;
            }
            targets.erase(std::remove_if(targets.begin(), targets.end(),
                                         [&](const SocketPtr& s) { return holds_.count(s->id()) != 0; }),
                          targets.end());
        }
    }
    if (!targets.empty()) send_to(targets, p, encode(p), opts.flags.volatile_, true);
}

inline void StreamsAdapter::on_entry(const std::string& id, wire::cluster::Message m) {
    if (m.nsp != nsp().name()) return;
    switch (m.type) {
    case wire::cluster::BROADCAST: {
        if (!m.data["requestId"].is_null()) {  // a 0.2 node's, which sends everything through the stream
            if (m.uid != uid_) answer_broadcast(m);
            return;
        }
        packet::Packet p;
        p.nsp = nsp().name();
        BroadcastOptions opts;
        if (!read_broadcast(m.data, p, opts)) {
            redis_counters().count_malformed();
            return;
        }
        add_offset(p, opts, id);
        return deliver_entry(id, p, opts);
    }
    case wire::cluster::SOCKETS_JOIN:
    case wire::cluster::SOCKETS_LEAVE:
    case wire::cluster::DISCONNECT_SOCKETS: {
        BroadcastOptions opts;
        if (!wire::cluster::decode_opts(m.data["opts"], opts)) {
            redis_counters().count_malformed();
            return;
        }
        return post([type = m.type, opts, data = std::move(m.data)](StreamsAdapter& self) {
            self.apply_here(type, opts, data);
        });
    }
    default:
        if (m.uid == uid_) return;
        if (m.type >= wire::cluster::FETCH_SOCKETS_RESPONSE && m.type != wire::cluster::SERVER_SIDE_EMIT)
            return on_response(m);
        return on_request(m);
    }
}

inline void StreamsAdapter::on_pubsub(const std::string& channel, std::string_view payload) {
    wire::cluster::Message m;
    if (!wire::cluster::decode_pubsub(payload, m)) {
        redis_counters().count_malformed();
        return;
    }
    if (m.uid == uid_ || m.nsp != nsp().name()) return;
    if (channel == private_channel_ ||
        (m.type >= wire::cluster::FETCH_SOCKETS_RESPONSE && m.type != wire::cluster::SERVER_SIDE_EMIT))
        return on_response(m);
    on_request(m);
}

// The steps of one restore, on the publisher's thread: GETDEL and XRANGE <offset> <offset> (both must find
// something), then the hold, then XRANGE from the entry after the offset on, up to 100 times, as the reference.
struct StreamsAdapter::Restore : std::enable_shared_from_this<Restore> {
    std::shared_ptr<detail::StreamsLink> link;
    std::string offset;
    RestoreCallback done;
    std::optional<std::string> raw;  // the session's text, from GETDEL
    Session session;
    std::shared_ptr<Restored> restored;
    int calls = 0;

    // Calls `done` on the handler thread (`session` or none), or never if the adapter went meanwhile.
    void finish(bool found) {
        detail::Inside in(link->gate);
        if (!in) return;
        std::optional<Session> out;
        if (found) {
            session.offset = offset;
            session.state = restored;
            out = std::move(session);
        }
        restored.reset();  // the hold stays while `out` (and the socket's copy) holds it
        of(*link).post([fn = std::move(done), out = std::move(out)](StreamsAdapter& self) mutable {
            // With persistSessionsEagerly a session is in Redis while its socket lives: a client may come back
            // before this node noticed its old connection is gone. The old socket goes first (no session kept for
            // it: this one is taken), so that its leaving does not take the new one out of its rooms.
            if (out) {
                auto sockets = self.nsp().sockets();
                auto old = sockets.find(out->sid);
                if (old != sockets.end()) old->second->disconnect(false);
            }
            fn(std::move(out));
        });
    }
    void found(const redisReply* xrange) {
        detail::Inside in(link->gate);
        if (!in) return;
        StreamsAdapter& a = of(*link);
        if (!raw || !xrange || xrange->type != REDIS_REPLY_ARRAY || xrange->elements == 0) return finish(false);
        if (!wire::cluster::decode_session(*raw, session)) {
            a.redis_counters().count_malformed();
            return finish(false);
        }
        restored = std::make_shared<Restored>();
        restored->link = link;
        restored->sid = session.sid;
        restored->watermark = offset;
        {
            std::lock_guard<std::mutex> lk(a.mu_);
            a.holds_[session.sid] =
                Hold{session.rooms, {}, {}, {}};  // from here on, what the reader delivers to it waits
        }
        next(restored->watermark);
    }
    void next(const std::string& from) {
        auto self = shared_from_this();
        StreamsAdapter& a = of(*link);
        a.connections_->publisher().command({"XRANGE", a.stream_, wire::cluster::next_offset(from), "+"},
                                            [self](const redisReply* r) { self->range(r); });
    }
    void range(const redisReply* r) {
        detail::Inside in(link->gate);
        if (!in) return;
        if (!r || r->type != REDIS_REPLY_ARRAY) return finish(false);
        StreamsAdapter& a = of(*link);
        std::string last;
        for (size_t i = 0; i < r->elements; ++i) {
            const redisReply* e = r->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING) continue;
            last.assign(e->element[0]->str, e->element[0]->len);
            detail::StreamReader::Fields fields;
            const redisReply* kv = e->element[1];
            if (kv->type == REDIS_REPLY_ARRAY)
                for (size_t k = 0; k + 1 < kv->elements; k += 2)
                    if (kv->element[k]->type == REDIS_REPLY_STRING && kv->element[k + 1]->type == REDIS_REPLY_STRING)
                        fields.emplace_back(std::string_view(kv->element[k]->str, kv->element[k]->len),
                                            std::string_view(kv->element[k + 1]->str, kv->element[k + 1]->len));
            wire::cluster::Message m;
            if (!wire::cluster::decode_entry(fields, m)) {
                a.redis_counters().count_malformed();
                continue;
            }
            if (m.nsp != a.nsp().name() || m.type != wire::cluster::BROADCAST || !m.data["requestId"].is_null())
                continue;
            packet::Packet p;
            BroadcastOptions opts;
            if (!read_broadcast(m.data, p, opts)) {
                a.redis_counters().count_malformed();
                continue;
            }
            if (!reaches(session.rooms, opts)) continue;
            p.data.push_back(last);  // restored packets carry their offset, whatever their flags (as the reference)
            restored->missed.push_back(std::move(p.data));
        }
        if (last.empty() || ++calls >= 100) return finish(true);
        restored->watermark = last;
        next(last);
    }
};

inline void StreamsAdapter::restoreSession(const std::string& pid, const std::string& offset, RestoreCallback done) {
    if (!link_ || !wire::cluster::is_entry_id(offset)) return done(std::nullopt);
    auto r = std::make_shared<Restore>();
    r->link = link_;
    r->offset = offset;
    r->done = std::move(done);
    auto& pub = connections_->publisher();
    pub.command({"GETDEL", options().sessionKeyPrefix + pid}, [r](const redisReply* reply) {
        if (reply && reply->type == REDIS_REPLY_STRING) r->raw.emplace(reply->str, reply->len);
    });
    pub.command({"XRANGE", stream_, offset, offset}, [r](const redisReply* reply) { r->found(reply); });
}

// Joins the socket to its rooms, then sends it the missed packets, then what its hold gathered meanwhile (newer
// than what XRANGE read), until nothing waits: from then on the reader sends to it as to any socket.
inline void StreamsAdapter::resumeSession(const SocketPtr& socket, const Session& session) {
    auto restored = std::static_pointer_cast<Restored>(session.state);
    if (!restored) return Adapter::resumeSession(socket, session);
    addAll(socket, std::vector<std::string>(session.rooms.begin(), session.rooms.end()));
    std::vector<packet::Packet> batch;
    for (auto& data : restored->missed) {
        packet::Packet p;
        p.nsp = nsp().name();
        p.has_data = true;
        p.data = data;
        batch.push_back(std::move(p));
    }
    for (;;) {
        {
            ::sio::ext::SendBatch gather;  // one write for all of them
            for (auto& p : batch) send_to({socket}, p, encode(p), false);
        }
        batch.clear();
        std::lock_guard<std::mutex> lk(mu_);
        auto it = holds_.find(socket->id());
        if (it == holds_.end()) return;
        if (it->second.pending.empty()) {
            const std::string& mark = restored->watermark;
            if (it->second.reader_at.empty() || wire::cluster::id_less(it->second.reader_at, mark))
                it->second.resumed_up_to = mark;  // the reader is behind what XRANGE gave: see Hold
            else holds_.erase(it);
            return;
        }
        for (auto& h : it->second.pending)
            if (wire::cluster::id_less(restored->watermark, h.id)) batch.push_back(std::move(h.packet));
        it->second.pending.clear();
    }
}

inline void StreamsAdapter::schedule_refresh() {
    const int every = options().sessionRefreshInterval > 0 ? options().sessionRefreshInterval : keep_ms() / 3;
    std::lock_guard<std::mutex> lk(mu_);
    refresh_timer_ = after(std::max(every, 1), [](StreamsAdapter& self) {
        self.refresh_sessions();
        self.schedule_refresh();
    });
}

inline void StreamsAdapter::refresh_sessions() {
    for (auto& kv : nsp().sockets()) persist_now(*kv.second);
}

inline void detail::StreamConnections::handle_message(const std::string& channel, std::string_view payload) {
    std::shared_ptr<StreamsLink> link;
    {
        std::lock_guard<std::mutex> lk(routes_mu_);
        auto it = by_channel_.find(channel);
        if (it != by_channel_.end()) link = it->second;
    }
    if (!link) return;
    Inside in(link->gate);
    if (in) link->adapter->on_pubsub(channel, payload);
}

inline void detail::StreamConnections::handle_entry(const std::string& id, const StreamReader::Fields& fields) {
    wire::cluster::Message m;
    if (!wire::cluster::decode_entry(fields, m)) {
        counters_.count_malformed();  // not an adapter's entry: skipped
        return;
    }
    std::shared_ptr<StreamsLink> link;
    {
        std::lock_guard<std::mutex> lk(routes_mu_);
        auto it = by_nsp_.find(m.nsp);
        if (it != by_nsp_.end()) link = it->second;
    }
    if (!link) return;
    Inside in(link->gate);
    if (in) static_cast<StreamsAdapter*>(link->adapter)->on_entry(id, std::move(m));
}

// io.adapter(sio::redis::createStreamsAdapter(options)): every namespace's adapter made by the returned factory
// shares one publisher, one subscriber and one stream reader connection (they start with the first adapter). With
// connection state recovery on (opt.connectionStateRecovery), sessions are kept in Redis for every node.
inline AdapterFactory createStreamsAdapter(StreamsOptions options = {}) {
    auto connections = std::make_shared<detail::StreamConnections>(std::move(options));
    return [connections](Namespace& nsp) -> std::unique_ptr<Adapter> {
        return std::make_unique<StreamsAdapter>(nsp, connections);
    };
}

// =====================================================================================================================
// 7. THE SHARDED ADAPTER — io.adapter(sio::redis::createShardedAdapter(options)): a node of a cluster of
//    @socket.io/redis-adapter 8.3 createShardedAdapter() nodes, Node or C++, over Redis 7's sharded pub/sub (the
//    notes' §3). Every message is one SPUBLISH: to <prefix>#<nsp># (every node subscribes), to a room's channel
//    <prefix>#<nsp>#<room>#, which only the nodes where the room exists subscribe to (the dynamic modes), or, an
//    answer, to the requester's <prefix>#<nsp>#<uid>#. As in ClusterAdapter, the sender delivers its broadcasts and
//    applies its socketsJoin / socketsLeave / disconnectSockets here at once, and drops its own echo. PUBSUB
//    SHARDNUMSUB of <prefix>#<nsp># counts the nodes. No connection state recovery, as in Node.
//    Threads: as section 4. Lock order: ShardedAdapter::rooms_mu_ -> Adapter::mu_, then the subscriber's lock.
// =====================================================================================================================
namespace detail {

// What the adapters of one sharded factory share: a publisher and a sharded subscriber (SSUBSCRIBE), each a
// connection and a thread, started with the first adapter; and which adapter listens on which channel.
class ShardedConnections {
public:
    explicit ShardedConnections(ShardedOptions o)
        : options_(std::move(o)),
          publisher_(options_, counters_),
          subscriber_(
              options_, counters_,
              [this](const std::string&, const std::string& channel, std::string_view payload) {
                  handle_message(channel, payload);
              },
              true) {}
    ~ShardedConnections() {
        publisher_.stop();
        subscriber_.stop();
    }
    ShardedConnections(const ShardedConnections&) = delete;
    ShardedConnections& operator=(const ShardedConnections&) = delete;

    const ShardedOptions& options() const { return options_; }
    Counters& counters() { return counters_; }
    Publisher& publisher() { return publisher_; }
    bool ready() const { return publisher_.connected() && subscriber_.ready(); }

    void attach(const std::shared_ptr<ClusterLink>& link, const std::vector<std::string>& channels) {
        std::lock_guard<std::mutex> life(lifecycle_mu_);
        subscribe(link, channels);
        if (attached_++ == 0) {
            publisher_.start();
            subscriber_.start();
        }
    }
    void detach(const ClusterLink* link, const std::vector<std::string>& channels) {
        std::lock_guard<std::mutex> life(lifecycle_mu_);
        unsubscribe(link, channels);
        if (attached_ > 0 && --attached_ == 0) {
            publisher_.stop();
            subscriber_.stop();
        }
    }
    // A room's channel, while the adapter is attached.
    void subscribe(const std::shared_ptr<ClusterLink>& link, const std::vector<std::string>& channels) {
        {
            std::lock_guard<std::mutex> lk(routes_mu_);
            for (auto& c : channels) by_channel_[c] = link;
        }
        subscriber_.add(channels, {});
    }
    void unsubscribe(const ClusterLink* link, const std::vector<std::string>& channels) {
        {
            std::lock_guard<std::mutex> lk(routes_mu_);
            for (auto& c : channels) {
                auto it = by_channel_.find(c);
                if (it != by_channel_.end() && it->second.get() == link) by_channel_.erase(it);
            }
        }
        subscriber_.remove(channels, {});
    }

private:
    void handle_message(const std::string& channel, std::string_view payload) {
        std::shared_ptr<ClusterLink> link;
        {
            std::lock_guard<std::mutex> lk(routes_mu_);
            auto it = by_channel_.find(channel);
            if (it != by_channel_.end()) link = it->second;
        }
        if (!link) return;
        Inside in(link->gate);
        if (in) link->adapter->on_pubsub(channel, payload);
    }

    ShardedOptions options_;
    Counters counters_;
    std::mutex lifecycle_mu_;  // orders attach/detach; no thread of ours takes it
    std::mutex routes_mu_;     // a leaf: the routes
    std::map<std::string, std::shared_ptr<ClusterLink>> by_channel_;
    size_t attached_ = 0;
    Publisher publisher_;
    Subscriber subscriber_;
};

}  // namespace detail

// The adapter of one namespace. The core calls the overrides, with ClusterAdapter's semantics (the notes' §2.2):
//   broadcast              SPUBLISH a BROADCAST (3) (to the room's channel for exactly one room), then deliver here
//   addSockets / delSockets / disconnectSockets   SPUBLISH 4 / 5 / 6, then apply here
//   the requests           as section 5, on <prefix>#<nsp>#; answers on <prefix>#<nsp>#<requester uid>#
class ShardedAdapter : public ClusterAdapter {
public:
    using SubscriptionMode = ShardedOptions::SubscriptionMode;

    ShardedAdapter(Namespace& nsp, std::shared_ptr<detail::ShardedConnections> connections)
        : ClusterAdapter(nsp),
          connections_(std::move(connections)),
          channel_(options().channelPrefix + "#" + nsp.name() + "#"),
          response_channel_(channel_ + uid() + "#") {
        share_counters(connections_->counters().shared);  // one sio::AdapterStats for every namespace of the factory
    }
    ~ShardedAdapter() override { close(); }

    // <prefix>#<nsp>#: every node subscribes to it.
    const std::string& channel() const { return channel_; }
    Stats stats() const { return connections_->counters().snapshot(); }
    // Whether both connections are up and every subscription is in place.
    bool ready() const { return connections_->ready(); }

    void init() override {
        if (link_) return;
        link_ = std::make_shared<detail::ClusterLink>(this);
        connections_->attach(link_, {channel_, response_channel_});
        if (options().subscriptionMode == SubscriptionMode::Static) return;
        on_room_event([link = link_](RoomEvent event, const std::string& room, const std::string&) {
            if (event != RoomEvent::CreateRoom && event != RoomEvent::DeleteRoom) return;
            detail::Inside in(link->gate);
            if (in) static_cast<ShardedAdapter&>(*link->adapter).room_changed(room);
        });
    }
    // Unsubscribes (the rooms' channels too); requests still waiting are forgotten.
    void close() override {
        if (closed_.exchange(true) || !link_) return;
        link_->gate.close();
        {
            std::lock_guard<std::mutex> lk(mu_);
            drop_requests();
        }
        std::vector<std::string> channels{channel_, response_channel_};
        {
            std::lock_guard<std::mutex> lk(rooms_mu_);
            for (auto& room : subscribed_rooms_) channels.push_back(channel_ + room + "#");
            subscribed_rooms_.clear();
        }
        connections_->detach(link_.get(), channels);
    }

    void broadcast(const packet::Packet& p, const BroadcastOptions& opts) override {
        if (!opts.flags.local && link_)
            publish(message(wire::cluster::BROADCAST,
                            Value::Object{{"packet", packet_value(p)}, {"opts", encode_opts(opts)}}),
                    {});
        Adapter::broadcast(p, opts);
    }
    void addSockets(const BroadcastOptions& opts, const std::vector<std::string>& rooms) override {
        if (!opts.flags.local && link_)
            publish(message(wire::cluster::SOCKETS_JOIN,
                            Value::Object{{"opts", encode_opts(opts)},
                                          {"rooms", Value::Array(rooms.begin(), rooms.end())}}),
                    {});
        Adapter::addSockets(opts, rooms);
    }
    void delSockets(const BroadcastOptions& opts, const std::vector<std::string>& rooms) override {
        if (!opts.flags.local && link_)
            publish(message(wire::cluster::SOCKETS_LEAVE,
                            Value::Object{{"opts", encode_opts(opts)},
                                          {"rooms", Value::Array(rooms.begin(), rooms.end())}}),
                    {});
        Adapter::delSockets(opts, rooms);
    }
    void disconnectSockets(const BroadcastOptions& opts, bool close) override {
        if (!opts.flags.local && link_)
            publish(message(wire::cluster::DISCONNECT_SOCKETS,
                            Value::Object{{"opts", encode_opts(opts)}, {"close", close}}),
                    {});
        Adapter::disconnectSockets(opts, close);
    }

    inline void on_pubsub(const std::string& channel, std::string_view payload) override;

protected:
    const ShardedOptions& options() const override { return connections_->options(); }
    detail::Counters& redis_counters() override { return connections_->counters(); }
    detail::Publisher& publisher() override { return connections_->publisher(); }
    void publish(const wire::cluster::Message& m, const std::string& to) override {
        std::string payload;
        try {
            payload = wire::cluster::encode_sharded(m);
        } catch (const std::length_error&) {
            redis_counters().count_unsent();
            return;
        }
        std::string channel =
            to.empty() ? wire::cluster::sharded_channel(m, channel_, options().subscriptionMode) : channel_ + to + "#";
        publisher().publish_command({"SPUBLISH", std::move(channel), std::move(payload)});
    }
    std::vector<std::string> count_command() const override { return {"PUBSUB", "SHARDNUMSUB", channel_}; }

private:
    // A room was created or deleted here: its channel is subscribed to while the room exists (and is one the mode
    // subscribes to). Whatever order the events of two threads come in, the room map decides.
    void room_changed(const std::string& room) {
        std::lock_guard<std::mutex> lk(rooms_mu_);
        const bool exists = hasRoom(room);
        if (exists && !subscribed_rooms_.count(room)) {
            if (!wire::cluster::subscribes_to_room(options().subscriptionMode, !socketRooms(room).empty())) return;
            subscribed_rooms_.insert(room);
            connections_->subscribe(link_, {channel_ + room + "#"});
        } else if (!exists && subscribed_rooms_.erase(room)) {
            connections_->unsubscribe(link_.get(), {channel_ + room + "#"});
        }
    }

    std::shared_ptr<detail::ShardedConnections> connections_;
    const std::string channel_, response_channel_;
    std::mutex rooms_mu_;  // the rooms whose channels are subscribed to; before Adapter::mu_ and the subscriber's
    std::set<std::string> subscribed_rooms_;
};

inline void ShardedAdapter::on_pubsub(const std::string& channel, std::string_view payload) {
    wire::cluster::Message m;
    if (!wire::cluster::decode_sharded(payload, m)) {
        redis_counters().count_malformed();
        return;
    }
    if (channel == response_channel_) return on_response(m);
    if (m.uid == uid() || m.nsp != nsp().name()) return;
    switch (m.type) {
    case wire::cluster::BROADCAST: {
        if (!m.data["requestId"].is_null()) return answer_broadcast(m);
        packet::Packet p;
        p.nsp = nsp().name();
        BroadcastOptions opts;
        if (!read_broadcast(m.data, p, opts)) {
            redis_counters().count_malformed();
            return;
        }
        return deliver(p, opts);
    }
    case wire::cluster::SOCKETS_JOIN:
    case wire::cluster::SOCKETS_LEAVE:
    case wire::cluster::DISCONNECT_SOCKETS: {
        BroadcastOptions opts;
        if (!wire::cluster::decode_opts(m.data["opts"], opts)) {
            redis_counters().count_malformed();
            return;
        }
        return post([type = m.type, opts, data = std::move(m.data)](ClusterAdapter& self) {
            static_cast<ShardedAdapter&>(self).apply_here(type, opts, data);
        });
    }
    case wire::cluster::FETCH_SOCKETS_RESPONSE:
    case wire::cluster::SERVER_SIDE_EMIT_RESPONSE:
    case wire::cluster::BROADCAST_CLIENT_COUNT:
    case wire::cluster::BROADCAST_ACK: return on_response(m);
    default: return on_request(m);
    }
}

// io.adapter(sio::redis::createShardedAdapter(options)): every namespace's adapter made by the returned factory
// shares one publisher and one subscriber connection (they start with the first adapter). Redis 7 or later.
inline AdapterFactory createShardedAdapter(ShardedOptions options = {}) {
    auto connections = std::make_shared<detail::ShardedConnections>(std::move(options));
    return [connections](Namespace& nsp) -> std::unique_ptr<Adapter> {
        return std::make_unique<ShardedAdapter>(nsp, connections);
    };
}

}  // namespace redis
}  // namespace sio
