// sioserver.hpp — a single-header Socket.IO / Engine.IO server for C++17.
//
// WHAT   A Socket.IO v5 server (namespaces, events, acks, binary, rooms, broadcasting, middleware, connection state
//        recovery, an Adapter seam for clusters) on an Engine.IO v4 server (HTTP long-polling with compressed
//        responses, WebSocket, the upgrade between them, heartbeats, optional TLS; Engine.IO v3 / Socket.IO v4
//        clients with allowEIO3) that the official clients talk to as if it were Node's `socket.io` 4.8 /
//        `engine.io` 6.x. Limits on one abusive client (per address, per connection; not in Node). Add-on headers
//        beside it: sioserver_redis.hpp (a Redis adapter that joins a Node cluster), sioserver_admin.hpp (the
//        @socket.io/admin-ui dashboard), sioserver_metrics.hpp (Prometheus metrics).
// USE    #include "sioserver.hpp" in one or many translation units (everything is inline).
//        g++ -std=c++17 -O2 app.cpp $(pkg-config --cflags --libs cpp-httplib) -pthread
// NEEDS  cpp-httplib 0.11.4 to 0.53.1, as Debian's compiled library or as the upstream single header (this header
//        brings its own WebSocket support and its own thread-per-connection task queue), picojson, POSIX sockets,
//        Linux (epoll, eventfd). CMake: add_subdirectory() or FetchContent, then link sioserver::sioserver.
//        TLS (opt.tls, https + wss) also needs OpenSSL: -DCPPHTTPLIB_OPENSSL_SUPPORT and -lssl -lcrypto.
// READ   The file is a guided tour, top to bottom; each layer uses only the ones above it:
//          1. public types and options            4. the Engine.IO session (eio::Socket) and eio::Server core
//          2. wire codecs (pure, no I/O)          5. Socket.IO (namespaces, sockets, rooms, acks, sio::Server)
//          3. transports (polling, WebSocket)     6. server and HTTP glue (cpp-httplib, threads, CORS, bundle)
// NAMES  In this header `on_<event>(fn)` only ever registers a handler, as Node's `.on(event, fn)` (the add-ons'
//        own on_* handle their inputs, as their Node originals name them); what handles an input is
//        `handle_<what>` (handle_packet, handle_data, handle_event, handle_close, ...). Option fields and counters
//        are camelCase, as Node's options are (maxHttpBufferSize; TlsOptions' cert_file and key_file aside);
//        methods that mirror a Node method keep its camelCase (serverSideEmit); every other name is snake_case.
//        LOCK ORDER (layer 3a) lists every lock, THREAD STATE (beside it) every thread_local switch; THE PATH OF
//        ONE EVENT (top of layer 5) follows one packet through.
// API    Everything public outside a `detail` namespace. The transports (eio::Polling, eio::WebSocket) and the
//        sessions (eio::Socket) are made by the Engine only: their constructors take an eio::EngineKey, which only
//        it (and the tests' one way in, detail::TestAccess) can make; sio::Client and sio::Socket likewise take a
//        sio::ServerKey. eio::Transport is the interface a session sees of its transports.
// EXTEND What an add-on (sioserver_redis.hpp, sioserver_admin.hpp, sioserver_metrics.hpp, an adapter of your own)
//        may rely on besides the API: the counts (eio::Traffic, ServerStats, AdapterStats: Engine::traffic(),
//        Server::stats(), Adapter::counters()), Adapter's protected members (send_to, encode, deliver,
//        deliver_with_ack, post, after, cancel, run_handler, share_counters) and namespace sio::ext (parse_json,
//        SendBatch, may_join_threads, post, post_after, cancel; end of layer 4). Never detail. User code an
//        add-on's own thread leads to runs on the engine's handler thread (post), never on its thread or a timer.
// DEBUG  Run any program built with it as `SIO_DEBUG=1 ./app` to print every packet in and out on stderr.
// KNOBS  #define before including (defaults in brackets):
//          SIOSERVER_THREAD_STACK_SIZE   stack of each connection thread in bytes [524288]
//          SIOSERVER_KEEPALIVE_MAX_COUNT HTTP requests served on one keep-alive connection [1000]
//          SIOSERVER_IDLE_STACK_TRIM_MS  ms a WebSocket waits idle before its thread gives back the stack pages
//                                        its handlers touched (0: never) [1000]
//          SIOSERVER_THREAD_PARK_MS      ms a connection thread whose connection ended waits for the next one
//                                        before it ends (0: it ends at once) [2000]
//          SIOSERVER_THREAD_PARK_MAX     connection threads that may wait so at a time [256]
// VERSION 0.9.0: SIOSERVER_VERSION "0.9.0", and SIOSERVER_VERSION_NUM 0x000900 for #if.
// LICENSE MIT (the full notice is at the end of this file). Copyright (c) 2026 the sioserver authors.
#pragma once

#define SIOSERVER_VERSION "0.9.0"
#define SIOSERVER_VERSION_NUM 0x000900  // 0xMMmmpp: major, minor, patch

#include <httplib.h>
#include <picojson.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <cmath>
#include <charconv>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <malloc.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#ifndef SIOSERVER_THREAD_STACK_SIZE
#define SIOSERVER_THREAD_STACK_SIZE (512 * 1024)
#endif
#ifndef SIOSERVER_KEEPALIVE_MAX_COUNT
#define SIOSERVER_KEEPALIVE_MAX_COUNT 1000
#endif
#ifndef SIOSERVER_THREAD_PARK_MS
#define SIOSERVER_THREAD_PARK_MS 2000
#endif
#ifndef SIOSERVER_THREAD_PARK_MAX
#define SIOSERVER_THREAD_PARK_MAX 256
#endif
#ifndef SIOSERVER_IDLE_STACK_TRIM_MS
#define SIOSERVER_IDLE_STACK_TRIM_MS 1000
#endif

namespace sio {

// =====================================================================================================================
// 1. PUBLIC TYPES AND OPTIONS
// Every knob carries the reference server's name and default, so options port over from Node by reading them.
// =====================================================================================================================

// Cross-origin resource sharing, as the `cors` option of the reference server. Empty `origins` = no CORS headers.
struct CorsOptions {
    std::vector<std::string> origins;  // allowed origins; {"*"} allows any (the request's Origin is echoed back)
    bool credentials = false;          // Access-Control-Allow-Credentials: true
    std::vector<std::string> methods = {"GET", "POST"};
    std::vector<std::string> allowedHeaders;  // empty: echo Access-Control-Request-Headers
    int maxAge = -1;                          // seconds for Access-Control-Max-Age; -1 leaves it out
};

// The `cookie` option of the reference server: the answer to a polling handshake sets a cookie holding the sid, for
// balancers that keep a session on one node by cookie (HAProxy's `cookie io prefix indirect nocache`). Off unless
// set (`opt.cookie = sio::CookieOptions{};` is the reference's `cookie: true`). A session opened directly over
// WebSocket gets none, as with the reference: it is one connection, so it needs no stickiness.
struct CookieOptions {
    std::string name = "io";
    std::string path = "/";  // "" leaves Path out (the reference's `path: false`)
    bool httpOnly = true;
    std::string sameSite = "lax";  // "lax", "strict" or "none"; "" leaves SameSite out (`sameSite: false`)
    std::string domain;            // "" leaves Domain out
    bool secure = false;
    int maxAge = -1;  // seconds for Max-Age; -1 leaves it out (the cookie lasts the browser session)
};

// The `tls` option: serve https and wss on the listening port (the reference's `https.createServer({cert, key})`).
// The TLS code needs OpenSSL: build with -DCPPHTTPLIB_OPENSSL_SUPPORT (Debian's `pkg-config --cflags cpp-httplib`
// defines it) and link `-lssl -lcrypto`. Without it, start() with opt.tls set fails with one line on stderr.
struct TlsOptions;
namespace detail {
struct TlsContext;
struct TestAccess;    // tests/unit/test_access.hpp: the tests' one way to internals
struct EngineAccess;  // layer 4: the Engine's internals that the layers above it use
inline std::shared_ptr<TlsContext> open_tls_context(const TlsOptions& tls, std::string& error);  // layer 3a
}  // namespace detail
struct TlsOptions {
    std::string cert_file;  // PEM: the server's certificate, then any intermediates
    std::string key_file;   // PEM: its private key
    // Leave as it is. Only a program that builds a TlsOptions names the OpenSSL code, so only it links -lssl.
    std::shared_ptr<detail::TlsContext> (*open_context)(const TlsOptions&, std::string&) = &detail::open_tls_context;
};

// Decides whether a handshake may go on (engine.io's allowRequest), in either of two forms:
//   - synchronous: `bool (const httplib::Request& req, std::string& message)`: false (with `message`, optionally)
//     refuses it with 403 {"code":4,"message":...};
//   - asynchronous, as Node's `(req, callback)`: `void (const httplib::Request& req, sio::AllowCallback done)`;
//     done(message, success) may be called later, from any thread (after asking a database, say). The handshake's
//     own connection thread waits for it, holding no lock, at most EngineOptions::allowRequestTimeout ms.
// Either one runs as a handler (one at a time with the others, unless serializeHandlers is off).
using AllowCallback = std::function<void(const std::string& message, bool success)>;
class AllowRequest {
public:
    using Sync = std::function<bool(const httplib::Request& req, std::string& message)>;
    using Async = std::function<void(const httplib::Request& req, AllowCallback done)>;
    AllowRequest() = default;
    AllowRequest(std::nullptr_t) {}
    template <class F,
              std::enable_if_t<std::is_invocable_r_v<bool, F&, const httplib::Request&, std::string&>, int> = 0>
    AllowRequest(F fn) : sync_(std::move(fn)) {}
    template <class F, std::enable_if_t<std::is_invocable_v<F&, const httplib::Request&, AllowCallback> &&
                                            !std::is_invocable_v<F&, const httplib::Request&, std::string&>,
                                        int> = 0>
    AllowRequest(F fn) : async_(std::move(fn)) {}

    explicit operator bool() const { return sync_ || async_; }
    const Sync& sync() const { return sync_; }
    const Async& async() const { return async_; }

private:
    Sync sync_;
    Async async_;
};

// The reference's `httpCompression`: a polling response of `threshold` bytes or more goes compressed with gzip or
// deflate, as the request's Accept-Encoding allows; this header sends gzip (layer 2g; needs httplib built with zlib).
struct HttpCompressionOptions {
    size_t threshold = 1024;  // bytes
};

// A token bucket: `burst` at once, then `perSecond` on average (EngineOptions::handshakeRateLimit,
// Options::eventRateLimit). Not in the reference server, which has no limits of this kind.
struct RateLimit {
    double perSecond = 10;
    double burst = 20;
};

// The options of the Engine.IO layer (npm `engine.io`). Under Socket.IO the path defaults to "/socket.io/".
struct EngineOptions {
    std::string path = "/engine.io/";
    int pingInterval = 25000;            // ms between two server pings
    int pingTimeout = 20000;             // ms the client has to answer a ping before the session is closed
    int upgradeTimeout = 10000;          // ms a probing WebSocket has to complete the upgrade
    size_t maxHttpBufferSize = 1000000;  // bytes: largest POST body or WebSocket message accepted
    std::vector<std::string> transports = {"polling", "websocket"};
    bool allowUpgrades = true;
    // Lets Engine.IO v3 clients in (socket.io-client 2.x, Socket.IO-Client-Swift 15, arduinoWebSockets'
    // SocketIOclient); off, their handshake gets HTTP 400 {"code":5,"message":"Unsupported protocol version"}.
    bool allowEIO3 = false;
    std::optional<HttpCompressionOptions> httpCompression = HttpCompressionOptions{};  // nullopt: off (`false`)
    CorsOptions cors;
    AllowRequest allowRequest;  // called for each handshake (the request without a sid)
    // Not in the reference server (which waits as long as it takes): ms an asynchronous allowRequest has to call
    // back before the handshake is refused with 403 "allowRequest timed out".
    int allowRequestTimeout = 10000;
    std::optional<CookieOptions> cookie;  // none: no cookie (the reference's default)
    // Not in the reference server: the most bytes waiting for a slow client before its session is closed.
    size_t maxBufferedBytes = 16u * 1024 * 1024;
    // Not in the reference server: the most sessions at once (0: no limit); past it a handshake gets HTTP 503
    // {"code":3,"message":"Too many connections"} and the sessions already open go on.
    size_t maxConnections = 0;
    // Not in the reference server: the most sessions at once from one client address (0: no limit); past it a
    // handshake gets HTTP 503 {"code":3,"message":"Too many connections from this address"}. The default leaves
    // room for a whole office behind one NAT address.
    size_t maxConnectionsPerAddress = 1000;
    // Not in the reference server: the handshakes one client address may make (none: no limit); past it a handshake
    // gets HTTP 429 {"code":3,"message":"Too many handshakes from this address"}. Stops reconnect storms.
    std::optional<RateLimit> handshakeRateLimit;
    // The proxies in front of the server whose X-Forwarded-For is believed, counted from the server (Express's
    // `trust proxy` as a number of hops). 0: a client's address is its TCP peer's; 1: the address the one proxy in
    // front (nginx) saw, the last one it appended; n: the n-th from the end. The limits count by this address.
    int trustProxy = 0;
    // ms a client has to send a request's line and headers, counted from its first byte (Node's http.Server
    // headersTimeout, and its default); a client that trickles them in (slowloris) is dropped and its thread freed.
    int headersTimeout = 60000;
    // Bytes a request's line and headers may take (Node's http.Server maxHeaderSize); past it the connection is
    // closed. cpp-httplib bounds each line to 8 KB but not their number.
    size_t maxHeaderSize = 16384;
    // User handlers run one at a time (like Node's event loop) unless this is false; see the README.
    bool serializeHandlers = true;
    // https and wss instead of http and ws (see TlsOptions); none: plain TCP.
    std::optional<TlsOptions> tls;
};

// Close reasons, spelled as the reference server spells them.
namespace reason {
inline constexpr const char* TransportClose = "transport close";
inline constexpr const char* TransportError = "transport error";
inline constexpr const char* PingTimeout = "ping timeout";
inline constexpr const char* ParseError = "parse error";
inline constexpr const char* ForcedClose = "forced close";
inline constexpr const char* ServerShuttingDown = "server shutting down";
}  // namespace reason

// The `connectionStateRecovery` option of the reference server: a client whose connection dropped (not one that
// left) comes back with the same id, rooms and data, and gets the packets it missed. Off unless set
// (`opt.connectionStateRecovery = sio::ConnectionStateRecoveryOptions{};` is the reference's `{}`).
struct ConnectionStateRecoveryOptions {
    int maxDisconnectionDuration = 120000;  // ms a session and the packets sent to it are kept
    bool skipMiddlewares = true;            // a recovered socket does not go through the middlewares again
    // Not in the reference server: the most bytes of missed packets kept for one disconnected session. Past it the
    // session is dropped (the client will get a new socket), so that one absent client cannot hold memory.
    size_t maxSessionBytes = 4u * 1024 * 1024;
};

// Socket.IO's extra options (npm `socket.io`), on top of Engine.IO's.
class Parser;  // layer 5: how packets become Engine.IO messages (opt.parser)
struct Options : EngineOptions {
    Options() { path = "/socket.io/"; }
    // Node's `parser` option: none is the default (socket.io-parser's text and attachments); sio::msgpack_parser()
    // speaks npm socket.io-msgpack-parser's. Every client of the server must use the same one.
    std::shared_ptr<const Parser> parser;
    int connectTimeout = 45000;  // ms a new connection has to join a namespace before it is closed
    // Serve the browser client at <path>socket.io.js (and .min.js, .js.map), as the reference server does. The
    // files come from the socket.io-client npm package; `clientDir` is its dist/ folder.
    bool serveClient = true;
    std::string clientDir = "node_modules/socket.io-client/dist";
    std::optional<ConnectionStateRecoveryOptions> connectionStateRecovery;  // none: off (the reference's default)
    // Not in the reference server: the events one connection may send (none: no limit). Past it nothing is dropped:
    // the connection's thread reads its next bytes later (a WebSocket's sender is slowed by TCP, a polling POST is
    // answered later). A connection held back for longer than maxThrottledMs without a break is disconnected with
    // reason::RateLimited. One bucket per connection: its namespaces share its thread.
    struct EventRateLimit : RateLimit {
        int maxThrottledMs = 10000;
    };
    std::optional<EventRateLimit> eventRateLimit;
};

// Socket.IO's disconnect reasons add these to the Engine.IO close reasons above.
namespace reason {
inline constexpr const char* ServerDisconnect = "io server disconnect";
inline constexpr const char* ClientDisconnect = "io client disconnect";
inline constexpr const char* ServerNamespaceDisconnect = "server namespace disconnect";
inline constexpr const char* ClientNamespaceDisconnect = "client namespace disconnect";
inline constexpr const char* ForcedServerClose = "forced server close";
// Not in the reference server: the connection sent events faster than Options::eventRateLimit for longer than its
// maxThrottledMs. Each of its sockets gets a DISCONNECT (the client does not reconnect by itself).
inline constexpr const char* RateLimited = "rate limit exceeded";
// The reasons after which connection state recovery keeps the session: the connection was lost, not left.
inline bool is_recoverable(const std::string& why) {
    return why == TransportError || why == TransportClose || why == ForcedClose || why == PingTimeout ||
           why == ServerShuttingDown || why == ForcedServerClose;
}
}  // namespace reason

// ---- Value: what an event argument can be — JSON, plus binary buffers anywhere inside -------------------------------
// Build one from C++ values: sio::Value(42), sio::Value("hi"), sio::Object{{"a", 1}}, sio::Array{1, "two"},
// sio::Binary{"\x01\x02"}. Read it with is_*() / as_*() and operator[] (a missing key or index reads as null).
struct Binary {
    std::string bytes;
};

namespace detail {
class ValueParseContext;
}

class Value {
public:
    enum class Type { Null, Bool, Number, String, Binary, Array, Object };
    // An Array holding one Array is Array{Value(Array{...})}: clang++ up to 14 reads Array{Array{...}} as a copy.
    using Array = std::vector<Value>;
    using Object = std::map<std::string, Value>;

    Value() = default;
    Value(std::nullptr_t) {}
    Value(bool b) : type_(Type::Bool), bool_(b) {}
    template <class N, std::enable_if_t<std::is_arithmetic_v<N> && !std::is_same_v<N, bool>, int> = 0>
    Value(N n) : type_(Type::Number), number_(double(n)) {}
    Value(const char* s) : type_(Type::String), string_(s) {}
    Value(std::string s) : type_(Type::String), string_(std::move(s)) {}
    Value(std::string_view s) : type_(Type::String), string_(s) {}
    Value(sio::Binary b) : type_(Type::Binary), string_(std::move(b.bytes)) {}
    Value(Array a) : type_(Type::Array), array_(std::make_shared<Array>(std::move(a))) {}
    Value(Object o) : type_(Type::Object), object_(std::make_shared<Object>(std::move(o))) {}
    Value(std::initializer_list<Value> items) : Value(Array(items)) {}
    // Copies are deep: a reference taken into one value never changes another.
    Value(const Value& o) { *this = o; }
    Value(Value&&) noexcept = default;
    Value& operator=(Value&&) noexcept = default;
    Value& operator=(const Value& o) {
        if (this == &o) return *this;
        type_ = o.type_;
        bool_ = o.bool_;
        number_ = o.number_;
        string_ = o.string_;
        array_ = o.array_ ? std::make_shared<Array>(*o.array_) : nullptr;
        object_ = o.object_ ? std::make_shared<Object>(*o.object_) : nullptr;
        return *this;
    }

    Type type() const { return type_; }
    bool is_null() const { return type_ == Type::Null; }
    bool is_bool() const { return type_ == Type::Bool; }
    bool is_number() const { return type_ == Type::Number; }
    bool is_string() const { return type_ == Type::String; }
    bool is_binary() const { return type_ == Type::Binary; }
    bool is_array() const { return type_ == Type::Array; }
    bool is_object() const { return type_ == Type::Object; }

    bool as_bool() const { return type_ == Type::Bool && bool_; }
    double as_number() const { return type_ == Type::Number ? number_ : 0; }
    long long as_int() const { return (long long)as_number(); }
    // The text of a string, or the bytes of a binary buffer; empty for anything else.
    const std::string& as_string() const {
        return type_ == Type::String || type_ == Type::Binary ? string_ : empty_string();
    }
    const std::string& as_binary() const { return as_string(); }
    const Array& as_array() const { return type_ == Type::Array ? *array_ : empty_array(); }
    const Object& as_object() const { return type_ == Type::Object ? *object_ : empty_object(); }

    size_t size() const { return is_array() ? array_->size() : is_object() ? object_->size() : 0; }
    bool contains(const std::string& key) const { return is_object() && object_->count(key) > 0; }
    const Value& operator[](size_t i) const { return is_array() && i < array_->size() ? (*array_)[i] : null_value(); }
    const Value& operator[](const std::string& key) const {
        if (!is_object()) return null_value();
        auto it = object_->find(key);
        return it == object_->end() ? null_value() : it->second;
    }
    const Value& operator[](const char* key) const { return (*this)[std::string(key)]; }
    const Value& operator[](int i) const { return i < 0 ? null_value() : (*this)[size_t(i)]; }
    // Reading by index on a non-const value (without these, v[0] would also match operator[](const char*)).
    const Value& operator[](int i) { return static_cast<const Value&>(*this)[i]; }
    const Value& operator[](size_t i) { return static_cast<const Value&>(*this)[i]; }
    // Writable access turns a null into an object or array, like assigning socket.data.name in JavaScript.
    Value& operator[](const std::string& key) {
        if (is_null()) *this = Object{};
        if (!is_object()) throw std::logic_error("sio::Value: not an object");
        return mutable_object()[key];
    }
    Value& operator[](const char* key) { return (*this)[std::string(key)]; }
    void push_back(Value v) {
        if (is_null()) *this = Array{};
        if (!is_array()) throw std::logic_error("sio::Value: not an array");
        mutable_array().push_back(std::move(v));
    }

    bool operator==(const Value& o) const {
        if (type_ != o.type_) return false;
        switch (type_) {
        case Type::Null: return true;
        case Type::Bool: return bool_ == o.bool_;
        case Type::Number: return number_ == o.number_;
        case Type::String:
        case Type::Binary: return string_ == o.string_;
        case Type::Array: return *array_ == *o.array_;
        case Type::Object: return *object_ == *o.object_;
        }
        return false;
    }
    bool operator!=(const Value& o) const { return !(*this == o); }

    // JSON text; a binary buffer is written as {"_placeholder":true,"num":N} with its bytes appended to
    // `attachments` (the Socket.IO encoding), or as {"_binary":<size>} when `attachments` is null (for printing).
    // Written straight into the string (no picojson tree in between), character for character as picojson writes
    // it: integers below 2^53 in full, other numbers as %.17g, NaN and infinities as null.
    std::string to_json(std::vector<std::string>* attachments = nullptr) const {
        std::string out;
        write_json(out, attachments);
        return out;
    }
    void write_json(std::string& out, std::vector<std::string>* attachments = nullptr) const {
        switch (type_) {
        case Type::Null: out += "null"; return;
        case Type::Bool: out += bool_ ? "true" : "false"; return;
        case Type::Number: return write_number(out, number_);
        case Type::String: return write_string(out, string_);
        case Type::Binary:
            if (!attachments) {
                out += "{\"_binary\":";
                write_number(out, double(string_.size()));
                out += '}';
                return;
            }
            out += "{\"_placeholder\":true,\"num\":";
            write_number(out, double(attachments->size()));
            out += '}';
            attachments->push_back(string_);
            return;
        case Type::Array: {
            out += '[';
            bool first = true;
            for (auto& v : *array_) {
                if (!first) out += ',';
                first = false;
                v.write_json(out, attachments);
            }
            out += ']';
            return;
        }
        case Type::Object: {
            out += '{';
            bool first = true;
            for (auto& kv : *object_) {
                if (!first) out += ',';
                first = false;
                write_string(out, kv.first);
                out += ':';
                kv.second.write_json(out, attachments);
            }
            out += '}';
            return;
        }
        }
    }
    picojson::value to_picojson(std::vector<std::string>* attachments = nullptr) const {
        switch (type_) {
        case Type::Null: return picojson::value();
        case Type::Bool: return picojson::value(bool_);
        case Type::Number: return std::isfinite(number_) ? picojson::value(number_) : picojson::value();  // as JSON
        case Type::String: return picojson::value(string_);
        case Type::Binary: {
            picojson::object o;
            if (!attachments) {
                o["_binary"] = picojson::value(double(string_.size()));
                return picojson::value(o);
            }
            o["_placeholder"] = picojson::value(true);
            o["num"] = picojson::value(double(attachments->size()));
            attachments->push_back(string_);
            return picojson::value(o);
        }
        case Type::Array: {
            picojson::array a;
            for (auto& v : *array_) a.push_back(v.to_picojson(attachments));
            return picojson::value(a);
        }
        case Type::Object: {
            picojson::object o;
            for (auto& kv : *object_) o[kv.first] = kv.second.to_picojson(attachments);
            return picojson::value(o);
        }
        }
        return picojson::value();
    }
    // From parsed JSON. With `attachments`, placeholders become those buffers; false if one points nowhere.
    static bool from_picojson(const picojson::value& j, Value& out,
                              const std::vector<std::string>* attachments = nullptr) {
        if (j.is<picojson::null>()) out = Value();
        else if (j.is<bool>()) out = Value(j.get<bool>());
        else if (j.is<double>()) out = Value(j.get<double>());
        else if (j.is<std::string>()) out = Value(j.get<std::string>());
        else if (j.is<picojson::array>()) {
            Array a;
            for (auto& item : j.get<picojson::array>()) {
                a.emplace_back();
                if (!from_picojson(item, a.back(), attachments)) return false;
            }
            out = Value(std::move(a));
        } else {
            const auto& o = j.get<picojson::object>();
            auto placeholder = o.find("_placeholder");
            if (attachments && o.size() == 2 && placeholder != o.end() && placeholder->second.is<bool>() &&
                placeholder->second.get<bool>() && o.count("num")) {
                const auto& num = o.at("num");
                if (!num.is<double>()) return false;
                double n = num.get<double>();
                if (!(n >= 0 && n < double(attachments->size()) && n == std::floor(n))) return false;
                out = Value(sio::Binary{(*attachments)[size_t(n)]});
                return true;
            }
            Object obj;
            for (auto& kv : o)
                if (!from_picojson(kv.second, obj[kv.first], attachments)) return false;
            out = Value(std::move(obj));
        }
        return true;
    }
    bool has_binary() const {
        if (is_binary()) return true;
        if (is_array())
            return std::any_of(array_->begin(), array_->end(), [](const Value& v) { return v.has_binary(); });
        if (is_object())
            return std::any_of(object_->begin(), object_->end(), [](auto& kv) { return kv.second.has_binary(); });
        return false;
    }

private:
    friend class detail::ValueParseContext;  // fills a Value as picojson's lexer reads the text

    static void write_number(std::string& out, double n) {
        char buf[32];
        if (!std::isfinite(n)) {
            out += "null";
        } else if (std::fabs(n) < 9007199254740992.0 && n == std::floor(n)) {  // |n| < 2^53, whole
            auto end = std::to_chars(buf, buf + sizeof buf, (long long)n).ptr;
            if (n == 0 && std::signbit(n)) out += '-';  // as %.f writes it
            out.append(buf, end);
        } else {
            int len = std::snprintf(buf, sizeof buf, "%.17g", n);
            out.append(buf, size_t(len));
        }
    }
    static void write_string(std::string& out, const std::string& text) {
        static const char hex[] = "0123456789abcdef";
        out += '"';
        size_t plain = 0;  // the start of the run of characters copied as they are
        for (size_t i = 0; i < text.size(); ++i) {
            const unsigned char c = uint8_t(text[i]);
            const char* escaped = nullptr;
            switch (c) {
            case '"': escaped = "\\\""; break;
            case '\\': escaped = "\\\\"; break;
            case '/': escaped = "\\/"; break;
            case '\b': escaped = "\\b"; break;
            case '\f': escaped = "\\f"; break;
            case '\n': escaped = "\\n"; break;
            case '\r': escaped = "\\r"; break;
            case '\t': escaped = "\\t"; break;
            default:
                if (c >= 0x20 && c != 0x7f) continue;
            }
            out.append(text, plain, i - plain);
            plain = i + 1;
            if (escaped) {
                out += escaped;
            } else {
                const char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                out.append(u, 6);
            }
        }
        out.append(text, plain, text.size() - plain);
        out += '"';
    }

    Array& mutable_array() { return *array_; }
    Object& mutable_object() { return *object_; }
    static const Value& null_value() {
        static const Value v;
        return v;
    }
    static const std::string& empty_string() {
        static const std::string s;
        return s;
    }
    static const Array& empty_array() {
        static const Array a;
        return a;
    }
    static const Object& empty_object() {
        static const Object o;
        return o;
    }

    Type type_ = Type::Null;
    bool bool_ = false;
    double number_ = 0;
    std::string string_;
    std::shared_ptr<Array> array_;
    std::shared_ptr<Object> object_;
};

using Array = Value::Array;
using Object = Value::Object;

// The arguments of an event or an acknowledgement. Passing an Args to emit() spreads it: io.emit("x", ev.args())
// relays every argument, like emit("x", ...args) in JavaScript. (An Array is one argument: a JSON array.)
struct Args : std::vector<Value> {
    using std::vector<Value>::vector;
    Args() = default;
    explicit Args(std::vector<Value> v) : std::vector<Value>(std::move(v)) {}
    const Value& operator[](size_t i) const {
        static const Value null;
        return i < size() ? std::vector<Value>::operator[](i) : null;
    }
    Value& operator[](size_t i) { return std::vector<Value>::operator[](i); }
};

// The error an acknowledgement callback gets when no answer came in time ("operation has timed out").
struct Error {
    std::string message;
    explicit operator bool() const { return !message.empty(); }
};

// =====================================================================================================================
// 2. WIRE CODECS — pure functions, no I/O. Each one is small and tested alone in tests/unit/.
// =====================================================================================================================
// ERRORS. Every decoder has one shape: `bool decode...(input, output&)`, true with the output filled, false for
// input that breaks the format (the caller uses nothing of it); one that can say more takes a `std::string& error`
// last (Socket.IO's packet::decode). The one streaming parser, ws::FrameParser, answers NeedMore, Message or Error
// and keeps why (error(), close_code()). Above the codecs, a bad input ends only its own session, with a close reason
// of layer 1 (Transport::Receiver::handle_transport_close), and a refused request is answered, counted and told
// (eio::Engine::refuse, on_connection_error).

// ---- 2a. base64 (RFC 4648 §4) ---------------------------------------------------------------------------------------
// Engine.IO carries binary packets over long-polling as "b" + base64; the WebSocket handshake needs it too.
namespace base64 {

inline std::string encode(std::string_view in) {
    static const char* const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    auto byte = [&](size_t k) -> uint32_t { return uint8_t(in[k]); };  // widened: the shifts below stay unsigned
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        uint32_t n = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
        out += alphabet[n >> 18];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += alphabet[n & 63];
    }
    if (i + 1 == in.size()) {
        uint32_t n = byte(i) << 16;
        out += alphabet[n >> 18];
        out += alphabet[(n >> 12) & 63];
        out += "==";
    } else if (i + 2 == in.size()) {
        uint32_t n = (byte(i) << 16) | (byte(i + 1) << 8);
        out += alphabet[n >> 18];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += '=';
    }
    return out;
}

// Strict decoding: the length must be a multiple of 4 and only the last two characters may be '='.
// Returns false on any other input (it came from the network).
inline bool decode(std::string_view in, std::string& out) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    out.clear();
    if (in.size() % 4 != 0) return false;
    out.reserve(in.size() / 4 * 3);
    for (size_t i = 0; i < in.size(); i += 4) {
        bool last = i + 4 == in.size();
        int a = value(in[i]), b = value(in[i + 1]);
        int c = in[i + 2] == '=' && last && in[i + 3] == '=' ? -2 : value(in[i + 2]);
        int d = in[i + 3] == '=' && last ? -2 : value(in[i + 3]);
        if (a < 0 || b < 0 || c == -1 || d == -1) return false;
        // Bits under the padding must be zero (RFC 4648 §3.5), so that every input has one decoding and back.
        if ((c == -2 && (b & 15)) || (c >= 0 && d == -2 && (c & 3))) return false;
        out += char((a << 2) | (b >> 4));
        if (c >= 0) out += char(((b & 15) << 4) | (c >> 2));
        if (c >= 0 && d >= 0) out += char(((c & 3) << 6) | d);
    }
    return true;
}

}  // namespace base64

// ---- 2b. SHA-1 (FIPS 180-4) -----------------------------------------------------------------------------------------
// Only for the WebSocket handshake's Sec-WebSocket-Accept (RFC 6455 §4.2.2); not for anything secret.
inline std::string sha1(std::string_view message) {
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    auto rol = [](uint32_t x, int n) { return (x << n) | (x >> (32 - n)); };
    std::string m(message);
    uint64_t bit_length = uint64_t(message.size()) * 8;
    m += char(0x80);
    while (m.size() % 64 != 56) m += char(0);
    for (int i = 7; i >= 0; --i) m += char((bit_length >> (i * 8)) & 0xff);
    for (size_t chunk = 0; chunk < m.size(); chunk += 64) {
        uint32_t w[80];
        for (int i = 0; i < 16; ++i) {
            const auto* p = reinterpret_cast<const uint8_t*>(m.data() + chunk + i * 4);
            w[i] = (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
        }
        for (int i = 16; i < 80; ++i) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int i = 0; i < 80; ++i) {
            uint32_t f, k;
            if (i < 20) {
                f = (b & c) | (~b & d);
                k = 0x5A827999;
            } else if (i < 40) {
                f = b ^ c ^ d;
                k = 0x6ED9EBA1;
            } else if (i < 60) {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8F1BBCDC;
            } else {
                f = b ^ c ^ d;
                k = 0xCA62C1D6;
            }
            uint32_t t = rol(a, 5) + f + e + k + w[i];
            e = d;
            d = c;
            c = rol(b, 30);
            b = a;
            a = t;
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

// ---- 2c. UTF-8 validation (RFC 3629) --------------------------------------------------------------------------------
// A WebSocket text message must be valid UTF-8 (RFC 6455 §8.1); otherwise the connection fails with 1007.
inline bool is_valid_utf8(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
        unsigned char c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        size_t n;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else return false;
        if (size_t(end - p) <= n) return false;
        for (size_t i = 1; i <= n; ++i) {
            if ((p[i] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        static const uint32_t smallest[4] = {0, 0x80, 0x800, 0x10000};  // anything below is an overlong form
        if (cp < smallest[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        p += n + 1;
    }
    return true;
}

// ---- 2d. Engine.IO packets and payloads (engine.io-protocol v4, "Packet encoding") ----------------------------------
// A packet is one type digit followed by its data: 0 open, 1 close, 2 ping, 3 pong, 4 message, 5 upgrade, 6 noop.
// Over WebSocket a text packet is one text frame ("4hello") and a binary message is one binary frame (raw bytes),
// or a "b" + base64 text frame for a client that asked for base64 (b64=1). Over long-polling packets are joined into
// a payload with the record separator \x1e, and a binary message is written "b" + base64 of its bytes. A "b" packet
// is decoded on either transport.
namespace eio {

enum class PacketType : uint8_t { Open = 0, Close = 1, Ping = 2, Pong = 3, Message = 4, Upgrade = 5, Noop = 6 };

inline const char* packet_type_name(PacketType t) {
    static const char* const names[] = {"open", "close", "ping", "pong", "message", "upgrade", "noop"};
    return names[static_cast<int>(t)];
}

struct Packet {
    PacketType type = PacketType::Message;
    std::string data;
    bool binary = false;  // only for messages: the data is bytes, not text
};

inline constexpr char kRecordSeparator = '\x1e';

// The text form of a packet: what a WebSocket text frame carries, and one record of a polling payload.
inline std::string encode_packet(const Packet& p) {
    if (p.binary) return "b" + base64::encode(p.data);
    std::string out;
    out.reserve(p.data.size() + 1);
    out += char('0' + static_cast<int>(p.type));
    out += p.data;
    return out;
}

// Decodes one text packet. Returns false for an unknown type or bad base64 (the session ends with "parse error").
inline bool decode_packet(std::string_view in, Packet& out) {
    if (in.empty()) return false;
    if (in[0] == 'b') {
        out.type = PacketType::Message;
        out.binary = true;
        return base64::decode(in.substr(1), out.data);
    }
    if (in[0] < '0' || in[0] > '6') return false;
    out.type = static_cast<PacketType>(in[0] - '0');
    out.binary = false;
    out.data.assign(in.substr(1));
    return true;
}

inline std::string encode_payload(const std::vector<Packet>& packets) {
    std::string out;
    for (size_t i = 0; i < packets.size(); ++i) {
        if (i) out += kRecordSeparator;
        out += encode_packet(packets[i]);
    }
    return out;
}

inline bool decode_payload(std::string_view in, std::vector<Packet>& out) {
    out.clear();
    size_t start = 0;
    while (start <= in.size()) {
        size_t end = in.find(kRecordSeparator, start);
        if (end == std::string_view::npos) end = in.size();
        Packet p;
        if (!decode_packet(in.substr(start, end - start), p)) return false;
        out.push_back(std::move(p));
        start = end + 1;
    }
    return true;
}

// ---- Engine.IO v3 packets and payloads (engine.io-protocol v3; for clients let in by allowEIO3) ---------------------
// Text packets are the same as in v4. What differs: binary in text is "b4" + base64 (the type is kept), a binary
// WebSocket frame starts with the type byte 4, and a polling payload is "<length>:<packet>" records, the length
// counting UTF-16 code units (a JS string's length) of the packet's text. A client that can do XHR2 may instead
// POST, and be answered with, a binary payload (application/octet-stream): per packet a 0 (text) or 1 (binary)
// byte, the length's decimal digits as bytes 0..9, a 255 byte, then the text's UTF-8 or the type byte and the bytes.
namespace v3 {

// How many UTF-16 code units a JS string of this (valid) UTF-8 has: one per code point, two past U+FFFF.
inline size_t utf16_length(std::string_view s) {
    size_t n = 0;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c & 0xC0) != 0x80) ++n;
        if (c >= 0xF0) ++n;
    }
    return n;
}

inline std::string encode_packet(const Packet& p) {
    return p.binary ? "b4" + base64::encode(p.data) : eio::encode_packet(p);
}

// Decodes one text packet: as in v4, except that binary is "b4" + base64. Other binary types mean nothing here.
inline bool decode_packet(std::string_view in, Packet& out) {
    if (in.empty() || in[0] != 'b') return eio::decode_packet(in, out);
    if (in.size() < 2 || in[1] != '4') return false;
    out.type = PacketType::Message;
    out.binary = true;
    return base64::decode(in.substr(2), out.data);
}

inline void append_record(std::string& out, const Packet& p) {
    const std::string text = v3::encode_packet(p);
    out += std::to_string(utf16_length(text));
    out += ':';
    out += text;
}

inline void append_binary_record(std::string& out, const Packet& p) {
    const std::string text = p.binary ? std::string() : eio::encode_packet(p);
    const size_t length = p.binary ? p.data.size() + 1 : text.size();
    out += char(p.binary ? 1 : 0);
    for (char d : std::to_string(length)) out += char(d - '0');
    out += char(0xFF);
    if (p.binary) {
        out += char(static_cast<int>(PacketType::Message));
        out += p.data;
    } else {
        out += text;
    }
}

// `binary`: the binary form (only the reference's choice when the client supports it and a packet is binary).
inline std::string encode_payload(const std::vector<Packet>& packets, bool binary = false) {
    std::string out;
    for (const auto& p : packets) binary ? append_binary_record(out, p) : append_record(out, p);
    if (packets.empty() && !binary) out = "0:";
    return out;
}

// Decodes a text payload. False for anything malformed (the session ends with "parse error"): a bad length, a
// record cut short or split inside a surrogate pair, invalid UTF-8, a bad packet. Empty records are skipped.
inline bool decode_payload(std::string_view in, std::vector<Packet>& out) {
    out.clear();
    if (in.empty() || !is_valid_utf8(in)) return false;
    size_t i = 0;
    while (i < in.size()) {
        const size_t colon = in.find(':', i);
        if (colon == std::string_view::npos || colon == i || colon - i > 15) return false;
        size_t units = 0;
        for (size_t k = i; k < colon; ++k) {
            if (in[k] < '0' || in[k] > '9') return false;
            units = units * 10 + size_t(in[k] - '0');
        }
        size_t end = colon + 1, counted = 0;
        while (counted < units && end < in.size()) {  // valid UTF-8: the lead byte gives the sequence's length
            const auto c = static_cast<unsigned char>(in[end]);
            const size_t bytes = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
            counted += bytes == 4 ? 2 : 1;
            end += bytes;
        }
        if (counted != units) return false;
        if (units > 0) {
            Packet p;
            if (!v3::decode_packet(in.substr(colon + 1, end - colon - 1), p)) return false;
            out.push_back(std::move(p));
        }
        i = end;
    }
    return true;
}

// Decodes a binary payload (an application/octet-stream POST). False for anything malformed.
inline bool decode_binary_payload(std::string_view in, std::vector<Packet>& out) {
    out.clear();
    size_t i = 0;
    while (i < in.size()) {
        const auto kind = static_cast<unsigned char>(in[i++]);
        if (kind > 1) return false;
        size_t length = 0, digits = 0;
        for (; i < in.size() && static_cast<unsigned char>(in[i]) != 0xFF; ++i) {
            const auto d = static_cast<unsigned char>(in[i]);
            if (d > 9 || ++digits > 15) return false;
            length = length * 10 + d;
        }
        if (digits == 0 || i >= in.size()) return false;
        ++i;  // the 255
        if (length > in.size() - i) return false;
        const std::string_view body = in.substr(i, length);
        i += length;
        Packet p;
        if (kind == 0) {
            if (!is_valid_utf8(body) || !v3::decode_packet(body, p)) return false;
        } else {
            if (body.empty() || body[0] != char(PacketType::Message)) return false;
            p.type = PacketType::Message;
            p.binary = true;
            p.data.assign(body.substr(1));
        }
        out.push_back(std::move(p));
    }
    return true;
}

}  // namespace v3

}  // namespace eio

// ---- 2e. WebSocket frames (RFC 6455 §5) -----------------------------------------------------------------------------
//  0               1               2               3
//  |F|R|R|R| opcode|M| length(7)   | length 16 or 64 bits if 126/127 | mask key (4, client->server) | payload
// Client frames must be masked; server frames are not. A message may be split into a first frame and
// continuation frames; control frames (close, ping, pong) are at most 125 bytes, never fragmented, and may arrive
// between the fragments of a message.
namespace ws {

enum class Opcode : uint8_t { Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA };

namespace close_code {
inline constexpr uint16_t Normal = 1000;
inline constexpr uint16_t GoingAway = 1001;
inline constexpr uint16_t ProtocolError = 1002;
inline constexpr uint16_t NoStatus = 1005;        // never sent: "the close frame had no code"
inline constexpr uint16_t InvalidPayload = 1007;  // e.g. invalid UTF-8 in a text message
inline constexpr uint16_t MessageTooBig = 1009;
inline constexpr uint16_t InternalError = 1011;
}  // namespace close_code

// The GUID of RFC 6455 §1.3, appended to the client's key before hashing.
inline std::string accept_key(std::string_view client_key) {
    return base64::encode(sha1(std::string(client_key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
}

// One frame. The server never masks; `mask` is for clients (the tests use it to play the client).
inline std::string encode_frame(Opcode op, std::string_view payload, bool fin = true, const uint8_t* mask = nullptr) {
    std::string out;
    out.reserve(payload.size() + 14);
    out += char((fin ? 0x80 : 0) | static_cast<uint8_t>(op));
    uint8_t mask_bit = mask ? 0x80 : 0;
    if (payload.size() < 126) {
        out += char(mask_bit | payload.size());
    } else if (payload.size() <= 0xFFFF) {
        out += char(mask_bit | 126);
        out += char(payload.size() >> 8);
        out += char(payload.size() & 0xff);
    } else {
        out += char(mask_bit | 127);
        for (int i = 7; i >= 0; --i) out += char((uint64_t(payload.size()) >> (i * 8)) & 0xff);
    }
    if (!mask) {
        out += payload;
        return out;
    }
    out.append(reinterpret_cast<const char*>(mask), 4);
    for (size_t i = 0; i < payload.size(); ++i) out += char(payload[i] ^ mask[i % 4]);
    return out;
}

// close_code::NoStatus gives a close frame without a code (1005 itself never goes on the wire).
inline std::string encode_close(uint16_t code, std::string_view why = {}) {
    if (code == close_code::NoStatus) return encode_frame(Opcode::Close, {});
    std::string payload;
    payload += char(code >> 8);
    payload += char(code & 0xff);
    size_t cut = std::min<size_t>(why.size(), 123);  // a control frame's payload is at most 125 bytes
    while (cut < why.size() && cut > 0 && (uint8_t(why[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
    payload += why.substr(0, cut);
    return encode_frame(Opcode::Close, payload);
}

// What the parser hands out: a whole data message (text or binary, fragments joined) or one control frame.
struct Message {
    Opcode opcode = Opcode::Text;
    std::string data;
};

// An incremental parser for the bytes a client sends. feed() what arrives, then call next() until it says
// NeedMore. On Error, close_code() and error() say why; the connection must then be closed with that code (the
// error is for the server's own log: ws sends the code with an empty reason).
class FrameParser {
public:
    enum class Result { NeedMore, Message, Error };

    explicit FrameParser(size_t max_message_size, bool require_mask = true)
        : max_message_(max_message_size), require_mask_(require_mask) {}

    void feed(const char* data, size_t size) {
        if (pos_ > 0 && (pos_ == buf_.size() || pos_ >= 65536)) {  // drop what was parsed, now and then
            buf_.erase(0, pos_);
            pos_ = 0;
        }
        buf_.append(data, size);
    }

    Result next(Message& out) {
        while (true) {
            if (failed_) return Result::Error;
            size_t avail = buf_.size() - pos_;
            const auto* p = reinterpret_cast<const uint8_t*>(buf_.data() + pos_);
            if (avail < 2) return Result::NeedMore;
            bool fin = p[0] & 0x80;
            uint8_t opcode = p[0] & 0x0F;
            bool masked = p[1] & 0x80;
            uint64_t len = p[1] & 0x7F;
            size_t header = 2;
            if (p[0] & 0x70) return fail(close_code::ProtocolError, "reserved bits set");
            bool control = opcode & 0x8;
            if ((opcode > 0x2 && opcode < 0x8) || opcode > 0xA)
                return fail(close_code::ProtocolError, "unknown opcode");
            if (control && (!fin || len > 125)) return fail(close_code::ProtocolError, "bad control frame");
            if (require_mask_ && !masked) return fail(close_code::ProtocolError, "unmasked client frame");
            if (len == 126) {
                if (avail < 4) return Result::NeedMore;
                len = (uint64_t(p[2]) << 8) | p[3];
                header = 4;
            } else if (len == 127) {
                if (avail < 10) return Result::NeedMore;
                len = 0;
                for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
                header = 10;
                if (len >> 63) return fail(close_code::ProtocolError, "64-bit length with the top bit set");
            }
            if (!control) {
                if (opcode == 0 && !in_message_) return fail(close_code::ProtocolError, "continuation without a start");
                if (opcode != 0 && in_message_)
                    return fail(close_code::ProtocolError, "new message inside a fragmented one");
                uint64_t so_far = in_message_ ? message_.size() : 0;
                if (len > max_message_ || so_far + len > max_message_)
                    return fail(close_code::MessageTooBig, "message too big");
            }
            if (masked) header += 4;
            if (avail < header || avail - header < len) return Result::NeedMore;
            const uint8_t* mask = masked ? p + header - 4 : nullptr;
            std::string payload(reinterpret_cast<const char*>(p + header), size_t(len));
            if (mask)
                for (size_t i = 0; i < payload.size(); ++i) payload[i] = char(payload[i] ^ mask[i % 4]);
            pos_ += header + size_t(len);

            if (control) {
                if (opcode == uint8_t(Opcode::Close)) {
                    if (payload.size() == 1) return fail(close_code::ProtocolError, "close payload of one byte");
                    if (payload.size() >= 2) {
                        uint16_t code = uint16_t((uint8_t(payload[0]) << 8) | uint8_t(payload[1]));
                        bool valid = (code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006) ||
                                     (code >= 3000 && code <= 4999);
                        if (!valid) return fail(close_code::ProtocolError, "invalid close code");
                        if (!is_valid_utf8(std::string_view(payload).substr(2)))
                            return fail(close_code::InvalidPayload, "invalid UTF-8 in close reason");
                    }
                }
                out.opcode = static_cast<Opcode>(opcode);
                out.data = std::move(payload);
                return Result::Message;
            }
            if (opcode != 0) {
                in_message_ = true;
                message_opcode_ = static_cast<Opcode>(opcode);
                message_ = std::move(payload);
            } else {
                message_ += payload;
            }
            if (!fin) continue;
            in_message_ = false;
            if (message_opcode_ == Opcode::Text && !is_valid_utf8(message_))
                return fail(close_code::InvalidPayload, "invalid UTF-8 in a text message");
            out.opcode = message_opcode_;
            out.data = std::move(message_);
            message_.clear();
            return Result::Message;
        }
    }

    uint16_t close_code() const { return close_code_; }
    const std::string& error() const { return error_; }
    // Bytes received but not yet parsed (including a partly received message); bounds memory per connection.
    size_t buffered() const { return buf_.size() - pos_ + message_.size(); }

private:
    Result fail(uint16_t code, const char* why) {
        failed_ = true;
        close_code_ = code;
        error_ = why;
        return Result::Error;
    }

    size_t max_message_;
    bool require_mask_;
    std::string buf_;
    size_t pos_ = 0;
    bool in_message_ = false;
    Opcode message_opcode_ = Opcode::Text;
    std::string message_;
    bool failed_ = false;
    uint16_t close_code_ = 0;
    std::string error_;
};

}  // namespace ws

// ---- 2f. Socket.IO packets (socket.io-protocol v5, "Packet encoding") -----------------------------------------------
//   <type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]        e.g.  2/chat,12["chat message","hi"]
// Types: 0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR, 5 BINARY_EVENT, 6 BINARY_ACK. The namespace is
// left out when it is "/". A packet whose data holds binary buffers becomes BINARY_EVENT/BINARY_ACK: each buffer is
// replaced by {"_placeholder":true,"num":N} and sent after the text as its own Engine.IO binary message.
namespace detail {

// JSON text to a picojson value, with arrays and objects together nested at most kMaxJsonDepth deep. picojson's own
// context limits arrays only (its parse_object_start never counts a level), so 5000 nested objects — 25 KB from
// any client — would recurse until the stack overflows. Returns where parsing stopped; `error` is set on failure.
inline constexpr size_t kMaxJsonDepth = 100;

// The nesting budget both parse contexts below keep (picojson calls the *_stop members as a container closes).
class JsonDepthBudget {
public:
    bool parse_array_stop(size_t) { return ++depth_left_, true; }
    bool parse_object_stop() { return ++depth_left_, true; }

protected:
    explicit JsonDepthBudget(size_t depth_left) : depth_left_(depth_left) {}
    bool enter() {  // a container opens: false once the budget is spent
        if (depth_left_ == 0) return false;
        --depth_left_;
        return true;
    }
    size_t depth_left_;
};

class JsonParseContext : public JsonDepthBudget {
public:
    JsonParseContext(picojson::value* out, size_t depth_left) : JsonDepthBudget(depth_left), out_(out) {}
    bool set_null() { return *out_ = picojson::value(), true; }
    bool set_bool(bool b) { return *out_ = picojson::value(b), true; }
    bool set_number(double d) { return *out_ = picojson::value(d), true; }
    bool set_int64(int64_t i) { return *out_ = picojson::value(static_cast<double>(i)), true; }  // PICOJSON_USE_INT64
    template <class Iter>
    bool parse_string(picojson::input<Iter>& in) {
        *out_ = picojson::value(picojson::string_type, false);
        return picojson::_parse_string(out_->get<std::string>(), in);
    }
    bool parse_array_start() { return enter(picojson::array_type); }
    template <class Iter>
    bool parse_array_item(picojson::input<Iter>& in, size_t) {
        auto& a = out_->get<picojson::array>();
        a.emplace_back();
        JsonParseContext child(&a.back(), depth_left_);
        return picojson::_parse(child, in);
    }
    bool parse_object_start() { return enter(picojson::object_type); }
    template <class Iter>
    bool parse_object_item(picojson::input<Iter>& in, const std::string& key) {
        JsonParseContext child(&out_->get<picojson::object>()[key], depth_left_);
        return picojson::_parse(child, in);
    }

private:
    bool enter(int type) {
        if (!JsonDepthBudget::enter()) return false;
        *out_ = picojson::value(type, false);
        return true;
    }
    picojson::value* out_;
};

inline const char* parse_json(picojson::value& out, const char* first, const char* last, std::string& error) {
    JsonParseContext ctx(&out, kMaxJsonDepth);
    return picojson::_parse(ctx, first, last, &error);
}

// The same, straight into a sio::Value: picojson's lexer decides what is JSON (so both take and refuse the same
// texts), and no picojson tree is built and converted on the way (the path of every packet a client sends).
class ValueParseContext : public JsonDepthBudget {
public:
    ValueParseContext(Value* out, size_t depth_left) : JsonDepthBudget(depth_left), out_(out) {}
    bool set_null() { return *out_ = Value(), true; }
    bool set_bool(bool b) { return *out_ = Value(b), true; }
    bool set_number(double d) {
        if (!std::isfinite(d)) throw std::overflow_error("JSON number out of range");  // as picojson::value(double)
        return *out_ = Value(d), true;
    }
    bool set_int64(int64_t i) { return *out_ = Value(static_cast<double>(i)), true; }  // PICOJSON_USE_INT64
    template <class Iter>
    bool parse_string(picojson::input<Iter>& in) {
        *out_ = Value(std::string());
        return picojson::_parse_string(out_->string_, in);
    }
    bool parse_array_start() { return enter(Value(Value::Array{})); }
    template <class Iter>
    bool parse_array_item(picojson::input<Iter>& in, size_t) {
        auto& a = out_->mutable_array();
        a.emplace_back();
        ValueParseContext child(&a.back(), depth_left_);
        return picojson::_parse(child, in);
    }
    bool parse_object_start() { return enter(Value(Value::Object{})); }
    template <class Iter>
    bool parse_object_item(picojson::input<Iter>& in, const std::string& key) {
        ValueParseContext child(&out_->mutable_object()[key], depth_left_);  // a repeated key: the last one
        return picojson::_parse(child, in);
    }

private:
    bool enter(Value container) {
        if (!JsonDepthBudget::enter()) return false;
        *out_ = std::move(container);
        return true;
    }
    Value* out_;
};

inline const char* parse_json(Value& out, const char* first, const char* last, std::string& error) {
    ValueParseContext ctx(&out, kMaxJsonDepth);
    return picojson::_parse(ctx, first, last, &error);
}

}  // namespace detail

namespace packet {

enum class Type : uint8_t {
    Connect = 0,
    Disconnect = 1,
    Event = 2,
    Ack = 3,
    ConnectError = 4,
    BinaryEvent = 5,
    BinaryAck = 6
};

inline const char* type_name(Type t) {
    static const char* const names[] = {"CONNECT",       "DISCONNECT",   "EVENT",     "ACK",
                                        "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"};
    return names[static_cast<int>(t)];
}

// Event names a server must not emit and a client must not send (the reference parser refuses them too).
inline bool is_reserved_event(const std::string& name) {
    static const char* const reserved[] = {"connect",       "connect_error", "disconnect",
                                           "disconnecting", "newListener",   "removeListener"};
    return std::any_of(std::begin(reserved), std::end(reserved), [&](const char* r) { return name == r; });
}

struct Packet {
    Type type = Type::Event;
    std::string nsp = "/";
    long long id = -1;  // ack id, -1 when there is none
    bool has_data = false;
    Value data;
};

// The text part and the binary attachments of an encoded packet.
struct Encoded {
    std::string text;
    std::vector<std::string> attachments;
};

inline Encoded encode(const Packet& p) {
    Encoded out;
    std::string json = p.has_data ? p.data.to_json(&out.attachments) : std::string();
    Type type = p.type;
    if (!out.attachments.empty() && type == Type::Event) type = Type::BinaryEvent;
    if (!out.attachments.empty() && type == Type::Ack) type = Type::BinaryAck;
    out.text += char('0' + static_cast<int>(type));
    if (type == Type::BinaryEvent || type == Type::BinaryAck) out.text += std::to_string(out.attachments.size()) + "-";
    if (p.nsp != "/") out.text += p.nsp + ",";
    if (p.id >= 0) out.text += std::to_string(p.id);
    out.text += json;
    return out;
}

// Whether the data suits the packet type (the reference parser's rules).
inline bool valid_payload(const Packet& p) {
    switch (p.type) {
    case Type::Connect: return !p.has_data || p.data.is_object();
    case Type::Disconnect: return !p.has_data;
    case Type::ConnectError: return p.has_data && (p.data.is_object() || p.data.is_string());
    case Type::Event:
    case Type::BinaryEvent:
        return p.has_data && p.data.is_array() && p.data.size() > 0 &&
               (p.data[0].is_number() || (p.data[0].is_string() && !is_reserved_event(p.data[0].as_string())));
    case Type::Ack:
    case Type::BinaryAck: return p.has_data && p.data.is_array() && p.id >= 0;
    }
    return false;
}

// More buffers than this in one packet is refused (the reference sets no bound; memory here must have one).
inline constexpr size_t kMaxAttachments = 1000;

// Decodes the text part. For a binary type, `attachments` is how many binary messages follow, and the data keeps
// its placeholders until reconstruct() gets them. Returns false (with `error`) for anything malformed.
inline bool decode(std::string_view in, Packet& out, size_t& attachments, std::string& error) {
    auto fail = [&](const char* why) {
        error = why;
        return false;
    };
    attachments = 0;
    out = Packet();
    if (in.empty() || in[0] < '0' || in[0] > '6') return fail("unknown packet type");
    out.type = static_cast<Type>(in[0] - '0');
    size_t i = 1;
    if (out.type == Type::BinaryEvent || out.type == Type::BinaryAck) {
        size_t start = i;
        while (i < in.size() && in[i] >= '0' && in[i] <= '9' && i - start < 9) ++i;
        if (i == start || i >= in.size() || in[i] != '-') return fail("illegal attachments");
        attachments = size_t(std::stoul(std::string(in.substr(start, i - start))));
        if (attachments > kMaxAttachments) return fail("too many attachments");
        ++i;
    }
    if (i < in.size() && in[i] == '/') {
        size_t comma = in.find(',', i);
        size_t end = comma == std::string_view::npos ? in.size() : comma;
        out.nsp.assign(in.substr(i, end - i));
        i = comma == std::string_view::npos ? in.size() : comma + 1;
    }
    size_t id_start = i;
    while (i < in.size() && in[i] >= '0' && in[i] <= '9' && i - id_start < 15) ++i;
    if (i > id_start) out.id = std::stoll(std::string(in.substr(id_start, i - id_start)));
    if (i < in.size()) {
        std::string json_error;
        const char* end = in.data() + in.size();
        const char* parsed_to = end;
        try {  // picojson throws for numbers beyond a double (1e999)
            parsed_to = detail::parse_json(out.data, in.data() + i, end, json_error);  // placeholders stay as they are
        } catch (const std::exception&) {
            return fail("invalid payload");
        }
        if (!json_error.empty()) return fail("invalid payload");
        auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
        while (parsed_to != end && is_space(*parsed_to)) ++parsed_to;
        if (parsed_to != end) return fail("invalid payload");  // text after the JSON value
        out.has_data = true;
    }
    if (!valid_payload(out)) return fail("invalid payload");
    return true;
}

// Puts the attachments in place of their placeholders; false when a placeholder points past them.
inline bool reconstruct(Packet& p, const std::vector<std::string>& attachments) {
    return Value::from_picojson(p.data.to_picojson(), p.data, &attachments);
}

// A short human-readable form for the wire trace: "EVENT /chat ack=3 ["chat message","hi"]".
inline std::string describe(const Packet& p) {
    std::string out = type_name(p.type);
    out += " " + p.nsp;
    if (p.id >= 0) out += " ack=" + std::to_string(p.id);
    if (p.has_data) out += " " + p.data.to_json();
    return out;
}

}  // namespace packet

// ---- 2f, continued. Socket.IO packets as MessagePack (npm socket.io-msgpack-parser 3.0.2, notepack.io 2.2) -------
// The msgpack parser sends each packet as one binary message, a map {"type", "data", "nsp", "id"} (data and id only
// when there are some), with no attachments: a buffer is msgpack bin where it stands. Its types are 0-4 (never 5 or
// 6). Numbers go as notepack writes them: a whole number as the smallest int, anything else as float 64. From a
// browser, an ArrayBuffer comes as ext type 0 and a Date as fixext 8 type 0 (milliseconds), `undefined` as fixext 1
// type 0; this codec reads them as a Binary, the ISO text JSON.stringify would give, and null.
namespace packet {
namespace msgpack {

inline void put_be(std::string& out, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
// A length with its three markers (8, 16, 32 bits); `fix` the fix form's first byte and limit, when it has one.
inline void put_length(std::string& out, size_t n, uint8_t fix, size_t fix_limit, uint8_t m8, uint8_t m16,
                       uint8_t m32) {
    if (n < fix_limit) out += static_cast<char>(fix | n);
    else if (m8 && n < 0x100) out += static_cast<char>(m8), put_be(out, n, 1);
    else if (n < 0x10000) out += static_cast<char>(m16), put_be(out, n, 2);
    else out += static_cast<char>(m32), put_be(out, n, 4);
}

inline void encode_value(const Value& v, std::string& out) {
    switch (v.type()) {
    case Value::Type::Null: out += '\xc0'; break;
    case Value::Type::Bool: out += v.as_bool() ? '\xc3' : '\xc2'; break;
    case Value::Type::Number: {
        const double d = v.as_number();
        if (!std::isfinite(d) || std::floor(d) != d || d >= 18446744073709551616.0 || d < -9223372036854775808.0) {
            uint64_t bits;
            std::memcpy(&bits, &d, 8);
            out += '\xcb';
            put_be(out, bits, 8);
        } else if (d >= 0) {
            const uint64_t n = static_cast<uint64_t>(d);
            if (n < 0x80) out += static_cast<char>(n);
            else if (n < 0x100) out += '\xcc', put_be(out, n, 1);
            else if (n < 0x10000) out += '\xcd', put_be(out, n, 2);
            else if (n < 0x100000000ULL) out += '\xce', put_be(out, n, 4);
            else out += '\xcf', put_be(out, n, 8);
        } else {
            const int64_t n = static_cast<int64_t>(d);
            const uint64_t bits = static_cast<uint64_t>(n);
            if (n >= -0x20) out += static_cast<char>(bits & 0xff);
            else if (n >= -0x80) out += '\xd0', put_be(out, bits, 1);
            else if (n >= -0x8000) out += '\xd1', put_be(out, bits, 2);
            else if (n >= -0x80000000LL) out += '\xd2', put_be(out, bits, 4);
            else out += '\xd3', put_be(out, bits, 8);
        }
        break;
    }
    case Value::Type::String:
        put_length(out, v.as_string().size(), 0xa0, 0x20, 0xd9, 0xda, 0xdb);
        out += v.as_string();
        break;
    case Value::Type::Binary:
        put_length(out, v.as_binary().size(), 0, 0, 0xc4, 0xc5, 0xc6);
        out += v.as_binary();
        break;
    case Value::Type::Array:
        put_length(out, v.size(), 0x90, 0x10, 0, 0xdc, 0xdd);
        for (auto& item : v.as_array()) encode_value(item, out);
        break;
    case Value::Type::Object:
        put_length(out, v.size(), 0x80, 0x10, 0, 0xde, 0xdf);
        for (auto& kv : v.as_object()) {
            put_length(out, kv.first.size(), 0xa0, 0x20, 0xd9, 0xda, 0xdb);
            out += kv.first;
            encode_value(kv.second, out);
        }
        break;
    }
}

// One packet as the one binary message that carries it.
inline std::string encode(const Packet& p) {
    std::string out;
    const bool has_id = p.id >= 0;
    out += static_cast<char>(0x80 | (2 + (p.has_data ? 1 : 0) + (has_id ? 1 : 0)));
    Type type = p.type == Type::BinaryEvent ? Type::Event : p.type == Type::BinaryAck ? Type::Ack : p.type;
    encode_value(Value("type"), out);
    encode_value(Value(static_cast<int>(type)), out);
    if (p.has_data) {
        encode_value(Value("data"), out);
        encode_value(p.data, out);
    }
    encode_value(Value("nsp"), out);
    encode_value(Value(p.nsp), out);
    if (has_id) {
        encode_value(Value("id"), out);
        encode_value(Value(p.id), out);
    }
    return out;
}

// Reads one value at `in[pos]`; false (with `error`) on anything malformed. Nesting is bounded like JSON's.
class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}
    bool value(Value& out, size_t depth = 0) {
        if (depth > detail::kMaxJsonDepth) return fail("nested too deep");
        uint8_t b;
        if (!byte(b)) return false;
        if (b < 0x80) return out = Value(b), true;
        if (b >= 0xe0) return out = Value(static_cast<int>(b) - 0x100), true;
        if (b >= 0xa0 && b < 0xc0) return str(b & 0x1f, out);
        if (b >= 0x90 && b < 0xa0) return array(b & 0x0f, out, depth);
        if (b >= 0x80 && b < 0x90) return map(b & 0x0f, out, depth);
        uint64_t n = 0;
        switch (b) {
        case 0xc0: return out = Value(), true;
        case 0xc2: return out = Value(false), true;
        case 0xc3: return out = Value(true), true;
        case 0xc4:
        case 0xc5:
        case 0xc6: return be(n, 1 << (b - 0xc4)) && bytes(size_t(n), out, true);
        case 0xc7:
        case 0xc8:
        case 0xc9: {  // ext: type 0 is an ArrayBuffer
            int8_t type;
            return be(n, 1 << (b - 0xc7)) && ext_type(type) && ext(type, size_t(n), false, out);
        }
        case 0xca: {
            if (!be(n, 4)) return false;
            const uint32_t bits = static_cast<uint32_t>(n);
            float f;
            std::memcpy(&f, &bits, 4);
            return out = Value(double(f)), true;
        }
        case 0xcb: {
            if (!be(n, 8)) return false;
            double d;
            std::memcpy(&d, &n, 8);
            return out = Value(d), true;
        }
        case 0xcc:
        case 0xcd:
        case 0xce:
        case 0xcf: return be(n, 1 << (b - 0xcc)) && (out = Value(double(n)), true);
        case 0xd0:
        case 0xd1:
        case 0xd2:
        case 0xd3: {
            const int bytes_n = 1 << (b - 0xd0);
            if (!be(n, bytes_n)) return false;
            const int shift = 64 - 8 * bytes_n;  // sign-extend
            const int64_t v = static_cast<int64_t>(n << shift) >> shift;
            return out = Value(double(v)), true;
        }
        case 0xd4:
        case 0xd5:
        case 0xd6:
        case 0xd7:
        case 0xd8: {  // fixext 1, 2, 4, 8, 16
            int8_t type;
            return ext_type(type) && ext(type, size_t(1) << (b - 0xd4), true, out);
        }
        case 0xd9:
        case 0xda:
        case 0xdb: return be(n, 1 << (b - 0xd9)) && str(size_t(n), out);
        case 0xdc:
        case 0xdd: return be(n, 2 << (b - 0xdc)) && array(size_t(n), out, depth);
        case 0xde:
        case 0xdf: return be(n, 2 << (b - 0xde)) && map(size_t(n), out, depth);
        default: return fail("unknown msgpack type");
        }
    }
    bool at_end() const { return pos_ == in_.size(); }
    const std::string& error() const { return error_; }

private:
    bool fail(const char* why) {
        if (error_.empty()) error_ = why;
        return false;
    }
    bool byte(uint8_t& b) {
        if (pos_ >= in_.size()) return fail("truncated msgpack");
        b = static_cast<uint8_t>(in_[pos_++]);
        return true;
    }
    bool be(uint64_t& n, int count) {
        if (in_.size() - pos_ < size_t(count)) return fail("truncated msgpack");
        n = 0;
        for (int i = 0; i < count; ++i) n = (n << 8) | static_cast<uint8_t>(in_[pos_++]);
        return true;
    }
    bool ext_type(int8_t& type) {
        uint8_t b;
        if (!byte(b)) return false;
        type = static_cast<int8_t>(b);
        return true;
    }
    bool bytes(size_t n, Value& out, bool binary) {
        if (in_.size() - pos_ < n) return fail("truncated msgpack");
        std::string_view part = in_.substr(pos_, n);
        pos_ += n;
        if (binary) out = Value(sio::Binary{std::string(part)});
        else out = Value(part);
        return true;
    }
    bool str(size_t n, Value& out) {
        if (in_.size() - pos_ < n) return fail("truncated msgpack");
        if (!is_valid_utf8(in_.substr(pos_, n))) return fail("invalid UTF-8 in a string");
        return bytes(n, out, false);
    }
    // `fixed`: a fixext (1, 2, 4, 8, 16 bytes), where type 0 is undefined (1) or a Date (8); else an ArrayBuffer.
    bool ext(int8_t type, size_t n, bool fixed, Value& out) {
        if (in_.size() - pos_ < n) return fail("truncated msgpack");
        if (type != 0) return fail("unknown msgpack extension");
        if (!fixed) return bytes(n, out, true);
        if (n == 1) return pos_ += 1, out = Value(), true;
        if (n != 8) return fail("unknown msgpack extension");
        uint64_t bits = 0;
        be(bits, 8);
        const auto ms = static_cast<int64_t>(bits);
        // Beyond ±8.64e15 ms a JavaScript Date is invalid (its toJSON() is null): null here too.
        out = ms > 8640000000000000 || ms < -8640000000000000 ? Value() : Value(iso_time(ms));
        return true;
    }
    static std::string iso_time(int64_t ms) {
        const int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
        const int millis = static_cast<int>(ms - secs * 1000);
        const std::time_t t = static_cast<std::time_t>(secs);
        std::tm tm{};
        gmtime_r(&t, &tm);
        // Date.prototype.toISOString: a year outside 0-9999 takes a sign and six digits.
        const long year = tm.tm_year + 1900L;
        char y[16];
        if (year >= 0 && year <= 9999) std::snprintf(y, sizeof y, "%04ld", year);
        else std::snprintf(y, sizeof y, "%c%06ld", year < 0 ? '-' : '+', year < 0 ? -year : year);
        char text[64];
        std::snprintf(text, sizeof text, "%s-%02d-%02dT%02d:%02d:%02d.%03dZ", y, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                      tm.tm_min, tm.tm_sec, millis);
        return text;
    }
    bool array(size_t n, Value& out, size_t depth) {
        if (n > in_.size() - pos_) return fail("truncated msgpack");  // every item takes a byte at least
        Value::Array items(n);
        for (auto& item : items)
            if (!value(item, depth + 1)) return false;
        out = Value(std::move(items));
        return true;
    }
    bool map(size_t n, Value& out, size_t depth) {
        if (n > (in_.size() - pos_) / 2) return fail("truncated msgpack");
        Value::Object fields;
        for (size_t i = 0; i < n; ++i) {
            Value key, item;
            if (!value(key, depth + 1)) return false;
            if (!key.is_string()) return fail("a map key that is not a string");
            if (!value(item, depth + 1)) return false;
            fields[key.as_string()] = std::move(item);
        }
        out = Value(std::move(fields));
        return true;
    }

    std::string_view in_;
    size_t pos_ = 0;
    std::string error_;
};

// One binary message to a packet, checked as socket.io-msgpack-parser checks it (type 0-4, a string nsp, data that
// suits the type, an integer id) and as the JSON parser checks the data; false (with `error`) otherwise.
inline bool decode(std::string_view in, Packet& out, std::string& error) {
    Reader reader(in);
    Value v;
    if (!reader.value(v)) return error = reader.error(), false;
    if (!reader.at_end()) return error = "trailing bytes after the packet", false;
    if (!v.is_object()) return error = "not a map", false;
    const Value& type = v["type"];
    if (!type.is_number() || std::floor(type.as_number()) != type.as_number() || type.as_number() < 0 ||
        type.as_number() > 4)
        return error = "invalid packet type", false;
    if (!v["nsp"].is_string()) return error = "invalid namespace", false;
    out = Packet();
    out.type = static_cast<Type>(type.as_int());
    out.nsp = v["nsp"].as_string();
    if (v.contains("id") && !v["id"].is_null()) {
        const double id = v["id"].as_number();
        if (!v["id"].is_number() || std::floor(id) != id || id < 0 || id > 9007199254740991.0)
            return error = "invalid packet id", false;
        out.id = static_cast<long long>(id);
    }
    if (v.contains("data") && !(v["data"].is_null() && out.type == Type::Connect)) {
        out.has_data = true;
        out.data = v["data"];
    }
    // An ACK without an id passes socket.io-msgpack-parser's check (python-socketio 5.7 leaves out an id of 0); the
    // server then finds no ack to call, as Node's does.
    const bool ack_without_id = out.type == Type::Ack && out.id < 0 && out.has_data && out.data.is_array();
    if (!ack_without_id && !valid_payload(out)) return error = "invalid payload", false;
    return true;
}

}  // namespace msgpack
}  // namespace packet

// ---- 2g. HTTP compression of polling bodies (gzip, RFC 1952; Accept-Encoding, RFC 9110 §12.5.3) ---------------------
// The reference compresses a polling response of 1024 bytes or more when the request's Accept-Encoding allows it
// (engine.io's `httpCompression`). The compressor is cpp-httplib's own zlib one, present when httplib is built with
// CPPHTTPLIB_ZLIB_SUPPORT (Debian's library is), so a program links nothing new; without it bodies go as they are.
// It writes gzip only: where the reference would pick deflate (a client that prefers it), gzip is sent if accepted.
namespace http_compression {

#ifdef CPPHTTPLIB_ZLIB_SUPPORT
inline constexpr bool kAvailable = true;
#else
inline constexpr bool kAvailable = false;
#endif

// Whether an Accept-Encoding value accepts gzip, read as the npm `negotiator` the reference uses reads it: the
// element naming gzip counts over "*", of equal ones the highest q counts, and a q of 0 or not a number refuses.
inline bool accepts_gzip(std::string_view accept_encoding) {
    auto trim = [](std::string_view v) {
        while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
        while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
        return v;
    };
    int best_exact = -1;  // -1: no element matched; 0: "*"; 1: "gzip"
    double best_q = 0;
    for (size_t pos = 0; pos <= accept_encoding.size();) {
        size_t comma = accept_encoding.find(',', pos);
        if (comma == std::string_view::npos) comma = accept_encoding.size();
        std::string_view item = accept_encoding.substr(pos, comma - pos);
        pos = comma + 1;
        const size_t semi = item.find(';');
        std::string_view coding = trim(item.substr(0, semi));
        std::string_view params = semi == item.npos ? std::string_view() : item.substr(semi + 1);
        if (coding.empty() || coding.find_first_of(" \t") != coding.npos) continue;
        int exact;
        if (coding.size() == 4 && std::tolower(static_cast<unsigned char>(coding[0])) == 'g' &&
            std::tolower(static_cast<unsigned char>(coding[1])) == 'z' &&
            std::tolower(static_cast<unsigned char>(coding[2])) == 'i' &&
            std::tolower(static_cast<unsigned char>(coding[3])) == 'p')
            exact = 1;
        else if (coding == "*") exact = 0;
        else continue;
        double q = 1;
        while (!params.empty()) {  // the first q= parameter counts
            const size_t next = params.find(';');
            std::string_view param = trim(params.substr(0, next));
            params = next == params.npos ? std::string_view() : params.substr(next + 1);
            if (param.size() >= 2 && param[0] == 'q' && param[1] == '=') {
                const std::string text(trim(param.substr(2)));
                char* end = nullptr;
                q = std::strtod(text.c_str(), &end);
                if (end == text.c_str() || !(q == q)) q = 0;
                break;
            }
        }
        if (exact > best_exact || (exact == best_exact && q >= best_q)) {
            best_exact = exact;
            best_q = q;
        }
    }
    return best_exact >= 0 && best_q > 0;
}

// The whole of `in`, gzipped, into `out`; false without zlib or when zlib fails.
inline bool gzip(std::string_view in, std::string& out) {
    out.clear();
#ifdef CPPHTTPLIB_ZLIB_SUPPORT
    httplib::detail::gzip_compressor compressor;
    return compressor.compress(in.data(), in.size(), true, [&](const char* data, size_t size) {
        out.append(data, size);
        return true;
    });
#else
    (void)in;
    return false;
#endif
}

}  // namespace http_compression

// ---- 2h. One codec per revision: Engine.IO v4 with Socket.IO v5, Engine.IO v3 with Socket.IO v4 (allowEIO3) ------
// engine.io picks a session's parser once, at its handshake; so does eio::Engine here (choose_codec, by EIO=). The
// session, its transports and its Socket.IO client keep the chosen codec and ask it what differs; none of them asks
// which revision a client speaks. A codec is a constant table of flags and functions: one pointer per session, a
// call per packet or per body, never one per byte. What differs:
//                       v4 (Socket.IO v5)                           v3 (Socket.IO v4)
//   polling payload     packets joined by \x1e, always text         "<length>:<packet>" records, or the binary form
//   binary message      "b" + base64 (polling); a binary frame      "b4" + base64; a binary frame led by the type
//                       of its bytes, or "b" text for a b64 client  byte 4, or "b4" text for a b64 client
//   heartbeat           the server pings; the pong is due within    the client pings; the next ping is due within
//                       pingTimeout of the ping                     pingInterval + pingTimeout of the last one
//   main namespace      joined by the client's CONNECT              joined at once, without a CONNECT
//   CONNECT             auth in its data; answered with the sid     auth in the namespace's query; answered bare
//   socket id           drawn at random                             "<nsp>#<Engine.IO sid>" (the sid itself on "/")
//   CONNECT_ERROR data  {"message", "data"}                         the data alone, or else the message
namespace eio {

struct Codec {
    int revision;  // 4 or 3, as in EIO=: reported (traces, tests, eio::Socket::protocol()), never branched on

    // Long-polling bodies (3b).
    bool binary_payloads;  // a body may take the binary payload form (application/octet-stream); v4's are text
    void (*append_record)(std::string& out, const Packet& p);         // one packet of a text payload
    void (*append_binary_record)(std::string& out, const Packet& p);  // one of a binary payload; null: none
    bool (*decode_payload)(std::string_view in, std::vector<Packet>& out);
    bool (*decode_binary_payload)(std::string_view in, std::vector<Packet>& out);  // null: none

    // WebSocket messages (3c).
    // A binary message's frame is its bytes alone: the one made once for all recipients that did not ask for b64.
    bool shares_binary_frames;
    std::string (*binary_frame)(const Packet& p, bool b64);  // else its frame for one client (b64: it asked for text)
    bool (*decode_message)(ws::Message& m, Packet& out);     // one data message; false: not a packet of this revision

    // The heartbeat (4).
    bool server_pings;  // v4: the server pings, the client pongs; v3: the client pings, the server pongs

    // Socket.IO's CONNECT (5).
    bool implicit_main_connect;    // "/" is joined at the handshake, without a CONNECT from the client
    bool auth_in_namespace_query;  // a CONNECT's auth is its namespace's query ("/admin?token=abc"), not its data
    bool sid_in_connect_answer;    // the answer to a CONNECT carries {"sid"} (and "pid")
    // A new socket's id: derived from the Engine.IO sid, or drawn with `draw`.
    std::string (*socket_id)(const std::string& nsp, const std::string& eio_sid, std::string (*draw)());
    Value (*connect_error_data)(const std::string& message, const Value& data);

    // What the client sends to keep its session: a pong (v4) or a ping (v3). The other one breaks the protocol.
    PacketType client_heartbeat() const { return server_pings ? PacketType::Pong : PacketType::Ping; }
    // How long the session waits for that packet: v4, from its own ping; v3, from the client's last ping.
    int heartbeat_timeout(int ping_interval, int ping_timeout) const {
        return server_pings ? ping_timeout : ping_interval + ping_timeout;
    }

    // A polling body of the packets `packet_of(item)` of `items`: in the binary form when the revision has one, the
    // client did not ask for b64 and a packet is binary (`binary` says so: application/octet-stream), else text.
    template <class Items, class PacketOf>
    std::string frame_payload(const Items& items, PacketOf packet_of, bool b64, bool& binary) const {
        binary = binary_payloads && !b64 &&
                 std::any_of(items.begin(), items.end(), [&](const auto& item) { return packet_of(item).binary; });
        std::string out;
        for (const auto& item : items) (binary ? append_binary_record : append_record)(out, packet_of(item));
        return out;
    }
    // A POST's body (`binary`: sent as application/octet-stream) to packets; false for a malformed one.
    bool unframe_payload(std::string_view in, bool binary, std::vector<Packet>& out) const {
        if (!binary) return decode_payload(in, out);
        return decode_binary_payload != nullptr && decode_binary_payload(in, out);
    }
};

namespace v4 {

// A record is never empty (a type digit, or "b"), so an empty `out` is the payload's start.
inline void append_record(std::string& out, const Packet& p) {
    if (!out.empty()) out += kRecordSeparator;
    out += encode_packet(p);
}

// The bytes alone; or "b" + base64 text for a client that asked for b64 (engine.io-client's forceBase64).
inline std::string binary_frame(const Packet& p, bool b64) {
    if (b64) return ws::encode_frame(ws::Opcode::Text, encode_packet(p));
    return ws::encode_frame(ws::Opcode::Binary, p.data);
}

// A binary frame is a binary message's bytes; a text frame is one text packet, "b" + base64 included.
inline bool decode_message(ws::Message& m, Packet& out) {
    if (m.opcode != ws::Opcode::Binary) return decode_packet(m.data, out);
    out.type = PacketType::Message;
    out.binary = true;
    out.data = std::move(m.data);
    return true;
}

inline std::string socket_id(const std::string& /*nsp*/, const std::string& /*eio_sid*/, std::string (*draw)()) {
    return draw();
}

inline Value connect_error_data(const std::string& message, const Value& data) {
    Value::Object out{{"message", message}};
    if (!data.is_null()) out["data"] = data;
    return Value(std::move(out));
}

inline constexpr Codec codec = {
    4,
    false,
    &v4::append_record,
    nullptr,
    &eio::decode_payload,
    nullptr,  // polling: text only, joined by \x1e
    true,
    &v4::binary_frame,
    &v4::decode_message,  // WebSocket: binary frames as they are
    true,                 // the server pings
    false,
    false,
    true,
    &v4::socket_id,
    &v4::connect_error_data,  // Socket.IO v5's CONNECT
};

}  // namespace v4

namespace v3 {

// The frame of a binary message: its type byte, then its bytes; or "b4" + base64 text for a client that asked for b64.
inline std::string binary_frame(const Packet& p, bool b64) {
    if (b64) return ws::encode_frame(ws::Opcode::Text, v3::encode_packet(p));
    return ws::encode_frame(ws::Opcode::Binary, char(PacketType::Message) + p.data);
}

// A binary frame starts with its type byte (only a message makes sense); a text frame may carry "b4" + base64.
inline bool decode_message(ws::Message& m, Packet& out) {
    if (m.opcode != ws::Opcode::Binary) return v3::decode_packet(m.data, out);
    if (m.data.empty() || m.data[0] != char(PacketType::Message)) return false;
    out.type = PacketType::Message;
    out.binary = true;
    out.data = std::move(m.data);
    out.data.erase(0, 1);
    return true;
}

// A v3 client works its socket id out of the Engine.IO sid, so the reference derives it the same way.
inline std::string socket_id(const std::string& nsp, const std::string& eio_sid, std::string (* /*draw*/)()) {
    return nsp == "/" ? eio_sid : nsp + "#" + eio_sid;
}

inline Value connect_error_data(const std::string& message, const Value& data) {
    return data.is_null() ? Value(message) : data;
}

inline constexpr Codec codec = {
    3,
    true,
    &v3::append_record,
    &v3::append_binary_record,
    &v3::decode_payload,
    &v3::decode_binary_payload,
    false,
    &v3::binary_frame,
    &v3::decode_message,  // WebSocket: a binary frame per client, led by its type byte
    false,                // the client pings
    true,
    true,
    false,
    &v3::socket_id,
    &v3::connect_error_data,  // Socket.IO v4's CONNECT
};

}  // namespace v3

}  // namespace eio

// =====================================================================================================================
// 3. TRANSPORTS — turning bytes into Engine.IO packets and back.
// =====================================================================================================================

// ---- 3a. Plumbing the transports and sessions share: the wire trace, random ids, the timer and handler threads ------
// LOCK ORDER (the one place it is written down). Holding a lock, a thread takes only locks after it on its chain;
// nothing is taken while a leaf is held. Outermost first:
//   eio::Engine::handler_mu_ (recursive; run_handler takes it when serializeHandlers): every user handler runs under
//     it and may emit, join, disconnect or close, so it precedes every lock below, and none of them is held when it
//     is taken (each caller copies what it needs and lets its lock go first).
//   detail::ServerState::mu_ (sio::Server's namespaces, clients) -> Namespace::mu_ (a dynamic parent's, for a child)
//     A namespace is made under it, and so is its adapter (the AdapterFactory and Adapter::init() run there): an
//     add-on adapter's own locks come after it, and a factory or init() must not call back into the Server.
//     (io.adapter(factory) makes and inits the adapters of the namespaces that exist already with no lock held.)
//   detail::Listener::mu_ (start, stop)          -> SharedThread::mu_ (the accept thread's state)
//   detail::BroadcastAcks::mu_ (the answers)     -> Timers::mu_
//   sio::Socket::mu_ (listeners, pending acks)   -> Timers::mu_
//   SessionAwareAdapter's store (recovery)       -> Adapter::mu_ (it chooses a broadcast's recipients), Timers::mu_
//   eio::Socket::mu_ (session, writeBuffer)      -> Polling::mu_ (the waiting GET's answer: a leaf)
//   eio::Socket::mu_                             -> WebSocket::mu_ (its write buffer) -> Flusher::mu_ (fds)
//   WebSocket::mu_                               -> OpenSslSession::mu_ (a TLS connection's SSL object: a leaf)
//   eio::Socket::mu_, WebSocket::mu_             -> Timers::mu_ (heartbeat, upgrade and hang-up timers)
//   A transport calls its session (Transport::Receiver) with none of its locks held, and the session calls a
//   transport's close() with none of its own held (close() may report back before it returns: a WebSocket's always,
//   polling's when the client had closed already; else polling reports once a GET has carried the close packet).
//   leaves: Timers::mu_ (the timer queue; a dropped callback is destroyed after it), Flusher::mu_, Polling::mu_,
//     SharedThread::mu_, eio::Engine::mu_ (the session table and the lingering one: close_with() leaves it before
//     locking the session), Adapter::mu_ (one namespace's room map), Client::mu_ (its sockets), Namespace::mu_,
//     ClientBundle::mu_ (the bundle, read once), ThreadPerConnection::mu_ (the thread counts, the parked threads),
//     BroadcastOperator::fetchSockets' Gather::mu (the answers of several nodes), the answer of an asynchronous
//     allowRequest (Engine::allow_request: its callback locks it from any thread, the handshake's thread waits on it),
//     detail::HandshakeBuckets::mu_ and detail::AddressCounts::mu_ (the limits per client address; an AddressCounts
//     slot is given back under eio::Socket::mu_ too).
//   eio::Socket::mu_                             -> eio::Socket::InputLimit::mu (its input limit: a leaf, whose
//     waiter holds nothing else)
//   TaskThread::mu_ (the handler thread's queue) -> SharedThread::mu_ (when the first task starts the thread)
//   SendBatch has no lock (a thread_local list); ending one takes each member's own lock, with nothing else held.
//   An add-on adapter (sioserver_redis.hpp) takes its own locks with none of these held (init() aside, see
//   ServerState::mu_ above) and lets them go before it calls into the namespace (its request table's lock comes
//   before Timers::mu_ and TaskThread::mu_, which its post() and after() take; the Streams adapter's also before
//   Adapter::mu_, as SessionAwareAdapter's store: it chooses the recipients under it; the sharded adapter's rooms_mu_
//   too, in a room listener, as it asks hasRoom and socketRooms and subscribes); its callbacks into user code go
//   through run_handler like every other. The hooks an add-on watches with (the adapter's room events,
//   on_new_namespace, Engine::on_upgrade) run the same way, once the lock they were found under is let go;
//   sioserver_admin.hpp's own locks are leaves.
// WHERE USER CODE RUNS: only through run_handler, on a connection thread, a thread of the user's, or the engine's
//   handler thread (TaskThread: one thread, first in first out, started by the first task). The timer thread runs
//   no user code: a time-out that reaches a handler (an ack's, a broadcast ack's, a ping time-out's or forced
//   close's close handler, the connect time-out's close) hands it over with Engine::post_handler, and so do an
//   add-on's own threads (the Redis adapter's reader and publisher, through Adapter::post), so a slow handler never
//   delays a heartbeat. A broadcast such a thread delivers (Adapter::deliver, deliver_with_ack) hands over the
//   recipients' onAnyOutgoing listeners (not always before the packet leaves, as Node runs them) and the close handlers
//   of a recipient closed past maxBufferedBytes (eio::Socket::send_all's hand_close_over; the session is closed at
//   once). An emit or broadcast from a thread of the user's runs both on that thread. The handler thread is stopped
//   after the timers (they hand it tasks) and joined like them.
// No lock is held across
//   - a blocking write: WebSocket bytes go out with MSG_DONTWAIT, what the kernel refuses waits for the Flusher's
//     EPOLLOUT (or the batch), and finish() polls unlocked; httplib writes HTTP answers with none of these held, and
//     a long-poll GET waits on Polling::cv_, which lets Polling::mu_ go.
//   - a user handler, the handler lock aside: handlers, middlewares, ack callbacks and the dynamic-namespace matcher
//     are copied out under their owner's lock and run after it is let go; so are callbacks that lock that owner
//     again (the timer and handler threads run them without their locks, Flusher::loop calls handle_writable()
//     without its own, Client's connect time-out closes the session outside Client::mu_).
//   - a thread join: SharedThread and Flusher::stop() let their lock go before join(), ThreadPerConnection's wait
//     for its threads lets its lock go too; a thread in a handler, a connection thread, the timer thread or the
//     handler thread (NoJoinScope) joins nothing, so close() there only asks the threads to stop. (One exception,
//     in sioserver_redis.hpp: its Connections hold lifecycle_mu_ across starting and stopping their own threads,
//     which never take it.)
// THREAD STATE (the one place it is written down). Each thread_local below changes what a call does without the
// call site showing it; each is set and read on one thread only.
//   detail::connection_stack_low() (3a): where this thread's stack ends. Set by ThreadPerConnection::entry (6c)
//     when a connection thread starts; read by release_stack_below_here(), which an idle WebSocket (3c, loop())
//     and a connection thread about to park (6c, next_connection) call. Null on every other thread: there the call
//     releases nothing.
//   detail::no_join_depth() (3a): how many NoJoinScopes are open. Raised by Engine::run_handler (every user
//     handler), Timers::loop (the timer thread), TaskThread::loop (the handler thread) and
//     HttpServer::process_and_close_socket (6e, a connection thread); read through may_join_server_threads() by
//     Timers::stop, TaskThread::stop, Listener::join_all and Server::close_adapters (6), and by the Redis add-on's
//     threads' stop: above 0, closing asks the server's threads to stop and joins none (wait() or the destructor
//     joins them).
//   detail::SendBatch::current() (3a): the batch open on this thread. Set by the outermost SendBatch (a WebSocket's
//     receive(), Polling::handle_post, Adapter::send_to / ack_broadcast, BroadcastOperator's emits,
//     SessionAwareAdapter::resumeSession, an add-on's ext::SendBatch) and cleared while it lets go, and for a moment
//     by SendBatch::let_go (Client::send_connect_answer; eio::Socket::pace_input before it waits); read by
//     WebSocket::write_locked and Polling::send: with a batch, the bytes wait (the GET is not woken) until the batch
//     ends, else they leave (or the GET is woken) at once.
//   detail::HttpServer::current() (6e): the ConnStream of the request this connection thread is handling. Set
//     around process_request in serve_keep_alive (6e); read by the pre-routing handler, which ends the header time-out
//     on it and hands it to Engine::handle as the request's HttpExchange (null there: HTTP 500).
//   sioserver_redis.hpp, detail::Gate::inside_here(): the adapter gates this thread is inside. Pushed by
//     Gate::enter (detail::Inside), popped by leave; read by Gate::close, which then does not wait for the
//     closing thread itself.
namespace detail {

// SIO_DEBUG=1 prints every packet in and out. Read once; when off, a trace costs one branch.
inline bool trace_enabled() {
    static const bool on = [] {
        const char* v = std::getenv("SIO_DEBUG");
        return v && *v && std::string(v) != "0";
    }();
    return on;
}

inline std::string printable(std::string_view s, size_t limit = 200) {
    std::string out;
    for (char c : s.substr(0, limit)) {
        if (c == '\x1e') out += "\\x1e";
        else if (uint8_t(c) < 0x20 || c == 0x7f) {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", uint8_t(c));
            out += b;
        } else out += c;
    }
    if (s.size() > limit) out += "...(" + std::to_string(s.size()) + " bytes)";
    return out;
}

inline std::string lowercase(std::string s) {
    for (char& c : s) c = char(std::tolower(uint8_t(c)));
    return s;
}
// `s` without the spaces and tabs around it.
inline std::string trim_copy(const std::string& s) {
    const size_t first = s.find_first_not_of(" \t");
    if (first == std::string::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// One line per packet: "[sio] <sid> <transport> <- 4hello" (<- in, -> out).
inline void trace(const std::string& sid, const char* transport, const char* direction, const std::string& what) {
    std::fprintf(stderr, "[sio] %s %-9s %s %s\n", sid.c_str(), transport, direction, what.c_str());
}

// Session ids: 15 bytes from the kernel's CSPRNG, base64url — the shape of the reference server's ids.
inline std::string random_id() {
    unsigned char bytes[15];
    size_t got = 0;
    while (got < sizeof bytes) {
        ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
        if (n > 0) got += size_t(n);
        else if (errno != EINTR) throw std::runtime_error("getrandom failed");
    }
    std::string id = base64::encode(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
    for (char& c : id) c = c == '+' ? '-' : c == '/' ? '_' : c;
    return id;
}

// Each connection has a thread, and a thread keeps every stack page it ever touched: an idle connection would cost
// the deepest request it ever handled. Layer 6 records where a connection thread's stack ends; an idle WebSocket
// then gives back the pages below its current frame (they are zero-filled again if a later message needs them).
inline char*& connection_stack_low() {
    thread_local char* low = nullptr;  // null: not a connection thread (nothing is released)
    return low;
}

__attribute__((noinline)) inline void release_stack_below_here() {
    const uintptr_t low = reinterpret_cast<uintptr_t>(connection_stack_low());
    if (!low) return;
    const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
    // 1 KiB under this frame stays: madvise()'s own call needs a little stack.
    const uintptr_t here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) - 1024;
    const uintptr_t begin = (low + page - 1) & ~(page - 1), end = here & ~(page - 1);
    if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

// close() may be called from anywhere, a handler included (Node allows it). A thread the server runs (a connection
// thread, the timer thread) or a thread inside a user handler (it may hold the handler lock) must not wait for the
// server's threads to end: they may be waiting for it. On such a thread close() only asks them to stop; wait() or
// the destructor joins them. NoJoinScope marks such a thread, or a part of one.
inline int& no_join_depth() {
    thread_local int depth = 0;
    return depth;
}
struct NoJoinScope {
    NoJoinScope() { ++no_join_depth(); }
    ~NoJoinScope() { --no_join_depth(); }
    NoJoinScope(const NoJoinScope&) = delete;
    NoJoinScope& operator=(const NoJoinScope&) = delete;
};
inline bool may_join_server_threads() { return no_join_depth() == 0; }

// Takes a lock that is held for microseconds at a time (the handler lock): a thread that finds it taken tries again
// for a few microseconds before it sleeps. The holder is running on another core then, and the handover costs no
// futex sleep and wake-up (two context switches); on one core there is nobody to wait for, so it sleeps at once.
template <class Lock>
void lock_spinning(Lock& lk) {
    static const bool several_cores = std::thread::hardware_concurrency() > 1;
    if (several_cores) {
        for (int i = 0; i < 200; ++i) {
            if (lk.try_lock()) return;
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#elif defined(__aarch64__)
            asm volatile("yield");
#endif
        }
    }
    lk.lock();
}

// A std::thread that several threads may join (std::thread::join may be called once): the first one joins it, with
// no lock held meanwhile, and the others wait until that join is over. The thread itself never joins itself.
class SharedThread {
public:
    SharedThread() = default;
    ~SharedThread() { join(); }
    SharedThread(const SharedThread&) = delete;
    SharedThread& operator=(const SharedThread&) = delete;

    template <class F>
    void start(F&& fn) {
        std::lock_guard<std::mutex> lk(mu_);
        thread_ = std::thread(std::forward<F>(fn));
        id_ = thread_.get_id();
        state_ = State::Running;
    }
    bool started() const {
        std::lock_guard<std::mutex> lk(mu_);
        return state_ != State::None;
    }
    void join() {
        std::unique_lock<std::mutex> lk(mu_);
        if (state_ == State::None || state_ == State::Joined || id_ == std::this_thread::get_id()) return;
        if (state_ == State::Joining) return cv_.wait(lk, [&] { return state_ == State::Joined; });
        state_ = State::Joining;
        std::thread t = std::move(thread_);
        lk.unlock();
        t.join();
        lk.lock();
        state_ = State::Joined;
        cv_.notify_all();
    }

private:
    enum class State { None, Running, Joining, Joined };
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::thread thread_;
    std::thread::id id_;
    State state_ = State::None;
};

// One thread runs every heartbeat and time-out. Callbacks run on it without its lock held, so they may schedule
// or cancel timers; they must be short (they send a packet or close a session).
class Timers {
public:
    using Id = uint64_t;
    using Clock = std::chrono::steady_clock;

    Timers() {
        thread_.start([this] { loop(); });
    }
    ~Timers() {
        request_stop();
        thread_.join();
    }

    Id after(int milliseconds, std::function<void()> fn) {
        std::lock_guard<std::mutex> lk(mu_);
        Id id = ++last_id_;
        auto when = Clock::now() + std::chrono::milliseconds(milliseconds);
        auto placed = queue_.emplace(std::make_pair(when, id), std::move(fn)).first;
        index_.emplace(id, when);
        // The thread sleeps until the first entry is due: only a new first one changes that. (Every session adds
        // two or three timers that are far off; waking the thread for each cost two context switches.)
        if (placed == queue_.begin()) cv_.notify_one();
        return id;
    }

    // The callback is destroyed after the lock is let go, as TaskThread's tasks are: what it holds (a session, an
    // add-on's function) may take locks as it goes.
    void cancel(Id id) {
        if (!id) return;
        std::function<void()> dropped;
        {
            std::lock_guard<std::mutex> lk(mu_);
            auto it = index_.find(id);
            if (it == index_.end()) return;
            auto entry = queue_.find(std::make_pair(it->second, id));
            if (entry != queue_.end()) {
                dropped = std::move(entry->second);
                queue_.erase(entry);
            }
            index_.erase(it);
        }
    }

    // No callback starts after this; the thread is joined, unless this thread must not wait (see NoJoinScope).
    void stop() {
        request_stop();
        if (may_join_server_threads()) thread_.join();
    }

    size_t pending() const {
        std::lock_guard<std::mutex> lk(mu_);
        return queue_.size();
    }

private:
    void request_stop() {
        decltype(queue_) dropped;  // destroyed with no lock held, as in cancel()
        {
            std::lock_guard<std::mutex> lk(mu_);
            stopping_ = true;
            dropped.swap(queue_);
            index_.clear();
        }
        cv_.notify_one();
    }

    void loop() {
        NoJoinScope scope;  // a callback that closes the server must not wait for this very thread
        std::unique_lock<std::mutex> lk(mu_);
        while (!stopping_) {
            if (queue_.empty()) {
                cv_.wait(lk);
                continue;
            }
            auto first = queue_.begin();
            const Clock::time_point due = first->first.first;  // a copy: the entry may be cancelled while we wait
            if (due > Clock::now()) {
                cv_.wait_until(lk, due);
                continue;
            }
            auto fn = std::move(first->second);
            index_.erase(first->first.second);
            queue_.erase(first);
            lk.unlock();
            fn();
            lk.lock();
        }
    }

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::map<std::pair<Clock::time_point, Id>, std::function<void()>> queue_;
    std::unordered_map<Id, Clock::time_point> index_;
    Id last_id_ = 0;
    bool stopping_ = false;
    SharedThread thread_;  // the last member: started when the others are ready
};

// The engine's handler thread: it runs, one at a time and in the order they came, the tasks that a thread which
// must not run user code hands over (a timer callback, an add-on's reader thread: Engine::post_handler), so that a
// slow handler delays other handlers only, never a heartbeat or a time-out. It starts with the first task. stop()
// takes no more tasks, lets the thread finish those that came before, and joins it unless this thread must not
// (see NoJoinScope); the destructor drops what is left (what a task would reach may be gone by then).
class TaskThread {
public:
    TaskThread() = default;
    ~TaskThread() {
        std::deque<std::function<void()>> dropped;  // destroyed with the lock let go: they may hold anything
        {
            std::lock_guard<std::mutex> lk(mu_);
            stopping_ = true;
            dropped.swap(queue_);
        }
        cv_.notify_one();
        thread_.join();
    }
    TaskThread(const TaskThread&) = delete;
    TaskThread& operator=(const TaskThread&) = delete;

    void post(std::function<void()> fn) {
        {
            std::lock_guard<std::mutex> lk(mu_);
            if (stopping_) return;
            queue_.push_back(std::move(fn));
            if (!started_) {
                started_ = true;
                thread_.start([this] { loop(); });
            }
        }
        cv_.notify_one();
    }

    void stop() {
        {
            std::lock_guard<std::mutex> lk(mu_);
            stopping_ = true;
        }
        cv_.notify_one();
        if (may_join_server_threads()) thread_.join();
    }

    size_t pending() const {
        std::lock_guard<std::mutex> lk(mu_);
        return queue_.size();
    }

private:
    void loop() {
        NoJoinScope scope;  // a task that closes the server must not wait for this very thread
        std::unique_lock<std::mutex> lk(mu_);
        for (;;) {
            cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and nothing left
            {
                auto fn = std::move(queue_.front());
                queue_.pop_front();
                lk.unlock();
                fn();
            }  // what the task held goes before the lock is taken again
            lk.lock();
        }
    }

    mutable std::mutex mu_;  // a leaf, but for thread_'s own, taken under it when the first task starts the thread
    std::condition_variable cv_;
    std::deque<std::function<void()>> queue_;
    bool started_ = false, stopping_ = false;
    SharedThread thread_;  // the last member
};

}  // namespace detail

// ---- 3a, continued. Limits: token buckets, and what each client address holds -------------------------------------
// The limits of one abusive client (EngineOptions::maxConnectionsPerAddress, handshakeRateLimit; Options::
// eventRateLimit) count by client address (Engine::client_address). None of them is in the reference server.
namespace detail {

// `burst` tokens at most, `per_second` come back each second. Unlocked: its owner's lock guards it.
class TokenBucket {
public:
    using Clock = std::chrono::steady_clock;
    TokenBucket(const RateLimit& limit, Clock::time_point now)
        : per_second_(std::max(limit.perSecond, 1e-9)),
          burst_(std::max(limit.burst, 1.0)),
          tokens_(burst_),
          last_(now) {}

    // Takes a token if there is one (a handshake: refused when there is none).
    bool try_take(Clock::time_point now) {
        refill(now);
        if (tokens_ < 1) return false;
        tokens_ -= 1;
        return true;
    }
    // Takes `n` whether there are tokens or not (an event: it is never dropped); the debt is paid back by waiting.
    void spend(double n, Clock::time_point now) {
        refill(now);
        tokens_ -= n;
    }
    // How long until the bucket is out of debt (zero when it is not in it).
    Clock::duration time_to_repay(Clock::time_point now) {
        refill(now);
        if (tokens_ >= 0) return Clock::duration::zero();
        return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(-tokens_ / per_second_));
    }
    // Full again: as good as one never used (a table of buckets may drop it).
    bool full(Clock::time_point now) {
        refill(now);
        return tokens_ >= burst_;
    }

private:
    void refill(Clock::time_point now) {
        if (now <= last_) return;
        tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * per_second_);
        last_ = now;
    }
    double per_second_, burst_, tokens_;
    Clock::time_point last_;
};

// The handshakes each client address may still make: a bucket per address seen lately. Buckets that filled up
// again are dropped once the table has doubled since the last sweep, so a scan from many addresses costs memory for
// a while only, and each handshake a constant share of the sweeps.
class HandshakeBuckets {
public:
    explicit HandshakeBuckets(const RateLimit& limit) : limit_(limit) {}
    bool try_take(const std::string& address) {
        const auto now = TokenBucket::Clock::now();
        std::lock_guard<std::mutex> lk(mu_);
        if (buckets_.size() >= sweep_at_) {
            for (auto it = buckets_.begin(); it != buckets_.end();)
                it = it->second.full(now) ? buckets_.erase(it) : std::next(it);
            sweep_at_ = std::max<size_t>(4096, 2 * buckets_.size());
        }
        return buckets_.try_emplace(address, limit_, now).first->second.try_take(now);
    }

private:
    const RateLimit limit_;
    std::mutex mu_;  // a leaf
    std::unordered_map<std::string, TokenBucket> buckets_;
    size_t sweep_at_ = 4096;
};

// The sessions each client address holds (maxConnectionsPerAddress). acquire() hands out a slot, which gives its
// place back when it goes, or when release() is called: a handshake that fails before its session exists gives
// it back with it.
class AddressCounts {
public:
    class Slot {
    public:
        Slot() = default;
        Slot(Slot&& o) noexcept : counts_(std::exchange(o.counts_, nullptr)), address_(std::move(o.address_)) {}
        Slot& operator=(Slot&& o) noexcept {
            if (this != &o) {
                release();
                counts_ = std::exchange(o.counts_, nullptr);
                address_ = std::move(o.address_);
            }
            return *this;
        }
        ~Slot() { release(); }
        void release() {
            if (counts_) std::exchange(counts_, nullptr)->give_back(address_);
        }

    private:
        friend class AddressCounts;
        Slot(AddressCounts* counts, std::string address) : counts_(counts), address_(std::move(address)) {}
        AddressCounts* counts_ = nullptr;
        std::string address_;
    };

    // A slot for one more session from `address`, or an empty optional when it holds `cap` already.
    std::optional<Slot> acquire(const std::string& address, size_t cap) {
        std::lock_guard<std::mutex> lk(mu_);
        size_t& held = held_[address];
        if (held >= cap) {
            if (held == 0) held_.erase(address);
            return std::nullopt;
        }
        ++held;
        return Slot(this, address);
    }
    size_t held(const std::string& address) const {
        std::lock_guard<std::mutex> lk(mu_);
        auto it = held_.find(address);
        return it == held_.end() ? 0 : it->second;
    }

private:
    void give_back(const std::string& address) {
        std::lock_guard<std::mutex> lk(mu_);
        auto it = held_.find(address);
        if (it != held_.end() && --it->second == 0) held_.erase(it);
    }
    mutable std::mutex mu_;  // a leaf
    std::unordered_map<std::string, size_t> held_;
};

}  // namespace detail

// ---- 3a, continued. TLS under both transports (opt.tls) -------------------------------------------------------------
// With opt.tls, each accepted connection does its TLS handshake first (layer 6 bounds it by headersTimeout), and
// from then on every byte of it, HTTP and WebSocket alike, goes through its TlsSession instead of recv()/send().
// A session is used by several threads at once (the connection thread reads; any sender, the Flusher and the
// connection thread write), and an OpenSSL SSL object is not: one lock serializes its calls, none of which waits,
// as the socket is only ever read and written with MSG_DONTWAIT. A call that cannot go on says which poll event
// it waits for (a TLS read may have to write first, and a write to read). A plain connection has no TlsSession:
// its transports branch once on a null pointer and call recv()/send() as before.
namespace detail {

class TlsSession {
public:
    // The TLS library's side, behind plain function pointers rather than virtual functions: a compiler may
    // devirtualize a call towards the one implementation it sees, and so link OpenSSL into every program, even
    // one that never sets opt.tls. The TlsContext that made the session fills them in.
    struct Ops {
        ssize_t (*read)(void* impl, char* buf, size_t size, short& wait_for);
        ssize_t (*write)(void* impl, const char* data, size_t size, short& wait_for);
        bool (*pending)(void* impl);
        void (*close_notify)(void* impl);
        void (*destroy)(void* impl);
    };
    TlsSession(const Ops& ops, void* impl) : ops_(ops), impl_(impl) {}
    ~TlsSession() { ops_.destroy(impl_); }
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;

    // Never block. >0: bytes read or written; 0: the peer closed (read); -1 with errno: EAGAIN when the socket
    // must first be ready for `wait_for` (POLLIN or POLLOUT), another errno when the connection is broken.
    // A write after EAGAIN must offer the same bytes again (it may offer more after them).
    ssize_t read(char* buf, size_t size, short& wait_for) { return ops_.read(impl_, buf, size, wait_for); }
    ssize_t write(const char* data, size_t size, short& wait_for) { return ops_.write(impl_, data, size, wait_for); }
    // Decrypted bytes are waiting: read() returns them at once, so a caller must not sleep in poll() first.
    bool pending() { return ops_.pending(impl_); }
    // Sends our close_notify (best effort) before the socket's write side is shut.
    void close_notify() { ops_.close_notify(impl_); }

private:
    const Ops& ops_;
    void* impl_;
};

// One per server, made at start() from the certificate and key files.
struct TlsContext {
    // The server side of the handshake on `fd`, within `timeout_ms` (or until `stop_fd` is readable); null when
    // it fails (not TLS, a bad handshake, too slow).
    std::function<std::shared_ptr<TlsSession>(int fd, int timeout_ms, int stop_fd)> accept;
};

#ifdef CPPHTTPLIB_OPENSSL_SUPPORT  // httplib.h has included <openssl/ssl.h>

class OpenSslSession {
public:
    OpenSslSession(SSL_CTX* ctx, int fd) : fd_(fd), ssl_(SSL_new(ctx)) {
        if (!ssl_) return;
        BIO* bio = BIO_new(socket_method());
        if (!bio) return;
        BIO_set_data(bio, &fd_);
        BIO_set_init(bio, 1);
        SSL_set_bio(ssl_, bio, bio);
        // A write may leave after part of its bytes, and be offered again from another buffer (the transport's
        // backlog); buffers are let go while a connection is idle.
        SSL_set_mode(ssl_,
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
        SSL_set_accept_state(ssl_);
        ready_ = true;
    }
    ~OpenSslSession() {
        if (ssl_) SSL_free(ssl_);  // and its BIO
    }
    OpenSslSession(const OpenSslSession&) = delete;
    OpenSslSession& operator=(const OpenSslSession&) = delete;

    // The handshake, with poll() between its steps. False when it fails or the deadline passes.
    bool handshake(int timeout_ms, int stop_fd) {
        if (!ready_) return false;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (true) {
            short wait_for = POLLIN;
            {
                std::lock_guard<std::mutex> lk(mu_);
                ERR_clear_error();
                int r = SSL_accept(ssl_);
                if (r == 1) return true;
                if (failed(r, wait_for) != -1 || errno != EAGAIN) return false;
            }
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
                    .count();
            if (left <= 0) return false;
            pollfd fds[2] = {{fd_, wait_for, 0}, {stop_fd, POLLIN, 0}};
            int n = ::poll(fds, stop_fd >= 0 ? 2 : 1, int(left));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0 || (stop_fd >= 0 && (fds[1].revents & POLLIN))) return false;
        }
    }

    ssize_t read(char* buf, size_t size, short& wait_for) {
        std::lock_guard<std::mutex> lk(mu_);
        if (broken_) return broken();
        ERR_clear_error();
        int n = SSL_read(ssl_, buf, int(std::min<size_t>(size, 1 << 30)));
        return n > 0 ? ssize_t(n) : failed(n, wait_for);
    }
    ssize_t write(const char* data, size_t size, short& wait_for) {
        std::lock_guard<std::mutex> lk(mu_);
        if (broken_) return broken();
        if (size == 0) return 0;
        ERR_clear_error();
        int n = SSL_write(ssl_, data, int(std::min<size_t>(size, 1 << 30)));
        return n > 0 ? ssize_t(n) : failed(n, wait_for);
    }
    bool pending() {
        std::lock_guard<std::mutex> lk(mu_);
        return !broken_ && SSL_pending(ssl_) > 0;
    }
    void close_notify() {
        std::lock_guard<std::mutex> lk(mu_);
        if (broken_ || !SSL_is_init_finished(ssl_)) return;
        ERR_clear_error();
        SSL_shutdown(ssl_);  // one non-blocking call sends ours; the peer's is not waited for
        ERR_clear_error();
    }

private:
    // The socket under the session: MSG_DONTWAIT, and MSG_NOSIGNAL so that a peer gone away is an error, not a
    // SIGPIPE (OpenSSL's own socket BIO calls write()).
    static BIO_METHOD* socket_method() {
        static BIO_METHOD* method = [] {
            BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sioserver socket");
            BIO_meth_set_write(m, [](BIO* b, const char* data, int size) -> int {
                BIO_clear_retry_flags(b);
                ssize_t n =
                    ::send(*static_cast<int*>(BIO_get_data(b)), data, size_t(size), MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(b);
                return int(n);
            });
            BIO_meth_set_read(m, [](BIO* b, char* buf, int size) -> int {
                BIO_clear_retry_flags(b);
                ssize_t n = ::recv(*static_cast<int*>(BIO_get_data(b)), buf, size_t(size), MSG_DONTWAIT);
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(b);
                return int(n);
            });
            BIO_meth_set_ctrl(m, [](BIO*, int cmd, long, void*) -> long { return cmd == BIO_CTRL_FLUSH ? 1 : 0; });
            return m;
        }();
        return method;
    }

    // With mu_ held, after a call returned `r` <= 0.
    ssize_t failed(int r, short& wait_for) {
        int saved = errno;
        switch (SSL_get_error(ssl_, r)) {
        case SSL_ERROR_WANT_READ:
            wait_for = POLLIN;
            errno = EAGAIN;
            return -1;
        case SSL_ERROR_WANT_WRITE:
            wait_for = POLLOUT;
            errno = EAGAIN;
            return -1;
        case SSL_ERROR_ZERO_RETURN: return 0;  // the peer's close_notify
        case SSL_ERROR_SYSCALL:
            broken_ = true;
            ERR_clear_error();
            if (saved == 0) return 0;  // the peer closed the TCP connection without a close_notify
            errno = saved;
            return -1;
        default:
            broken_ = true;  // a protocol error: OpenSSL must not be asked to shut the session down cleanly
            ERR_clear_error();
            errno = EPROTO;
            return -1;
        }
    }
    ssize_t broken() const {
        errno = ECONNRESET;
        return -1;
    }

    int fd_;  // the BIO points here
    SSL* ssl_;
    bool ready_ = false;
    std::mutex mu_;  // see LOCK ORDER (3a): a leaf, taken under WebSocket's lock
    bool broken_ = false;
};

// How a TlsSession reaches an OpenSslSession.
inline const TlsSession::Ops& openssl_session_ops() {
    static const TlsSession::Ops table = {
        [](void* s, char* buf, size_t size, short& w) { return static_cast<OpenSslSession*>(s)->read(buf, size, w); },
        [](void* s, const char* data, size_t size, short& w) {
            return static_cast<OpenSslSession*>(s)->write(data, size, w);
        },
        [](void* s) { return static_cast<OpenSslSession*>(s)->pending(); },
        [](void* s) { static_cast<OpenSslSession*>(s)->close_notify(); },
        [](void* s) { delete static_cast<OpenSslSession*>(s); },
    };
    return table;
}

// OpenSSL's last error, as one line.
inline std::string openssl_error() {
    unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (!code) return "unknown error";
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
}

inline std::shared_ptr<TlsContext> open_tls_context(const TlsOptions& tls, std::string& error) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        error = "cannot make a TLS context: " + openssl_error();
        return nullptr;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    uint64_t options = SSL_OP_NO_RENEGOTIATION;  // a write never has to wait for a read
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    options |= SSL_OP_IGNORE_UNEXPECTED_EOF;  // a client that hangs up without close_notify simply closed
#endif
    SSL_CTX_set_options(ctx, options);
    ERR_clear_error();
    error.clear();
    if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1)
        error = "cannot load the certificate " + tls.cert_file + ": " + openssl_error();
    else if (SSL_CTX_use_PrivateKey_file(ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
        error = "cannot load the private key " + tls.key_file + ": " + openssl_error();
    else if (SSL_CTX_check_private_key(ctx) != 1)
        error = "the key " + tls.key_file + " does not match the certificate " + tls.cert_file;
    if (!error.empty()) {
        SSL_CTX_free(ctx);
        return nullptr;
    }
    std::shared_ptr<SSL_CTX> owned(ctx, SSL_CTX_free);
    auto context = std::make_shared<TlsContext>();
    context->accept = [owned](int fd, int timeout_ms, int stop_fd) -> std::shared_ptr<TlsSession> {
        auto* session = new OpenSslSession(owned.get(), fd);
        if (!session->handshake(timeout_ms, stop_fd)) {
            delete session;
            return nullptr;
        }
        return std::make_shared<TlsSession>(openssl_session_ops(), session);
    };
    return context;
}

#else

inline std::shared_ptr<TlsContext> open_tls_context(const TlsOptions&, std::string& error) {
    error =
        "this program was built without OpenSSL: build it with -DCPPHTTPLIB_OPENSSL_SUPPORT and link "
        "-lssl -lcrypto";
    return nullptr;
}

#endif  // CPPHTTPLIB_OPENSSL_SUPPORT

}  // namespace detail

namespace eio {

// A packet on its way out, encoded once however many sessions it goes to (a broadcast shares one).
struct Outgoing {
    Packet packet;
    std::string ws_frame;  // the whole WebSocket frame that carries it

    explicit Outgoing(Packet p) : packet(std::move(p)) {
        ws_frame = packet.binary ? ws::encode_frame(ws::Opcode::Binary, packet.data)
                                 : ws::encode_frame(ws::Opcode::Text, encode_packet(packet));
    }
};
using OutgoingPtr = std::shared_ptr<const Outgoing>;

inline OutgoingPtr make_outgoing(PacketType type, std::string data = {}, bool binary = false) {
    Packet p;
    p.type = type;
    p.data = std::move(data);
    p.binary = binary;
    return std::make_shared<const Outgoing>(std::move(p));
}

// ---- 3a, continued. Gathering sends: one write per recipient -------------------------------------------------------
}  // namespace eio
namespace detail {

// While a thread handles the messages of one read (or one polling POST), what it sends is gathered and let go when
// they are done: a WebSocket that gets several broadcasts gets them in one send() instead of one each, and a
// waiting long-poll GET is woken once, to answer with all of them. That saves a syscall (or a thread wake-up) on
// both ends per message when messages come faster than one at a time. Sends from other threads to a gathered
// recipient join the same write. Nested batches are one batch. let_go() writes what was gathered so far without
// ending the batch: the answer to a Socket.IO CONNECT leaves alone, before the connection handler runs.
class SendBatch {
public:
    // What a batch can hold: a WebSocket with bytes to write, a polling session with a GET to wake.
    struct Member {
        virtual ~Member() = default;
        virtual void end_batch() = 0;
    };
    using Members = std::vector<std::shared_ptr<Member>>;

    SendBatch() {
        if (current()) return;
        outer_ = true;
        current() = &members_;
    }
    ~SendBatch() {
        if (!outer_) return;
        current() = nullptr;  // before letting go: what the members do now must not join this batch again
        for (auto& m : members_) m->end_batch();
    }
    SendBatch(const SendBatch&) = delete;
    SendBatch& operator=(const SendBatch&) = delete;

    // The batch open on this thread, or null.
    static Members*& current() {
        thread_local Members* batch = nullptr;
        return batch;
    }

    // Writes (and wakes) what the batch open on this thread gathered so far; the batch stays open.
    static void let_go() {
        Members* batch = current();
        if (!batch) return;
        Members members;
        members.swap(*batch);
        current() = nullptr;  // as in the destructor: nothing joins the batch while its members let go
        for (auto& m : members) m->end_batch();
        current() = batch;
    }

private:
    Members members_;
    bool outer_ = false;
};

}  // namespace detail
namespace eio {

// ---- 3a, continued. The seam: what every transport is to its session (npm engine.io's Transport) ------------------
// A session (layer 4) owns one current transport and, during an upgrade, a probing one. It decides what to send and
// when; a transport only knows how to carry packets over its kind of connection: long-polling (3b) or WebSocket
// (3c). Each hands what it decodes to its session through Transport::Receiver, with none of its locks held.
class Transport {
public:
    // What a transport tells its session (eio::Socket implements it).
    class Receiver {
    public:
        virtual ~Receiver() = default;
        // A packet from the client on `t`.
        virtual void handle_packet(Transport& t, Packet& packet) = 0;
        // `t` can take packets again (polling: a GET came and waits): the session flushes its writeBuffer.
        virtual void handle_drain(Transport& t) = 0;
        // `t` is over: the client went away or broke the protocol (`reason` a close reason of layer 1), or the close
        // asked by close() is done (reason::ForcedClose). Later calls for the same transport mean nothing.
        virtual void handle_transport_close(Transport& t, const char* reason, const std::string& description) = 0;
    };

    virtual ~Transport() = default;
    // "polling" or "websocket", as in the query's transport=.
    virtual const char* name() const = 0;
    // Whether send() may be called now (engine.io's `writable`): polling while a GET waits for packets, a WebSocket
    // while it is open (it keeps what the kernel cannot take at once, up to maxBufferedBytes).
    virtual bool writable() const = 0;
    // Whether what is sent now would wait behind earlier bytes (a volatile packet is dropped then).
    virtual bool congested() const { return false; }
    // Bytes taken but not yet written to the connection (a WebSocket's backlog; polling keeps none of its own).
    virtual size_t buffered_bytes() const { return 0; }
    // Takes packets back to back, nothing from another thread between them. False when it did not: failed() then
    // tells a broken transport (a write error, its backlog over the cap), which the session closes, from one that
    // cannot take packets now (polling between two GETs): those wait in the session's writeBuffer for the next
    // handle_drain(). So the session needs no writable() before each send.
    virtual bool send(const OutgoingPtr* packets, size_t count) = 0;
    // Whether a send() failed for good (it stays so: asking after a false send() is no race with a GET coming).
    virtual bool failed() const { return false; }
    // Ends the transport from the server side, after what it was sent: the client is told (a close packet, a close
    // frame), then the receiver hears handle_transport_close(reason::ForcedClose). A second call does nothing (the
    // session closes a transport that has just reported its own end).
    virtual void close() = 0;
    // The session left this transport for another one (an upgrade): what waits is answered, nothing more is taken.
    virtual void discard() {}

    // The session that hears this transport; set once, before the transport is used.
    void attach(const std::shared_ptr<Receiver>& r) { receiver_ = r; }

protected:
    // Held weakly (the session owns its transports); each entry point locks it once.
    std::shared_ptr<Receiver> receiver() const { return receiver_.lock(); }

private:
    std::weak_ptr<Receiver> receiver_;
};
using TransportPtr = std::shared_ptr<Transport>;

class Engine;
// Only the Engine makes the transports below and the sessions (layer 4), and the unit tests through
// detail::TestAccess: a user never constructs one. Their constructors are public for make_shared and take this key,
// which nobody else can make.
class EngineKey {
    EngineKey() {}  // user-provided: `EngineKey{}` is then no aggregate initialization that skips it
    friend class Engine;
    friend struct sio::detail::TestAccess;
};

// What the transports need from the HTTP connection a request came on (layer 6 implements it).
class HttpExchange {
public:
    virtual ~HttpExchange() = default;
    // Reads exactly `length` bytes of the request body; false if the client went away or was too slow.
    virtual bool read_body(size_t length, std::string& out) = 0;
    // Writes `response` (a raw 101) as soon as the handler returns, then runs `run` on the same socket and thread.
    virtual void take_over(std::string response, std::function<void(int fd, const std::string& leftover)> run) = 0;
    // Said before take_over(): the connection's first bytes after the response follow at once (a new session's open
    // packet), so the response may wait for them and both leave in one segment. An exchange may ignore it.
    virtual void more_follows() {}
    // The connection is closed after this response (used when the request body was not read).
    virtual void close_after_response() = 0;
    // Whether the client hung up (a long-poll GET waiting for packets asks this now and then); an exchange that
    // cannot tell says no.
    virtual bool client_gone() const { return false; }
    // The connection's TLS session (3a), which a WebSocket taken over goes on with; null on plain TCP.
    virtual std::shared_ptr<detail::TlsSession> tls() const { return nullptr; }
};

// The reference server's request errors: HTTP 400 (403 for Forbidden) with {"code":N,"message":"..."}.
enum class ErrorCode {
    UnknownTransport = 0,
    UnknownSid = 1,
    BadHandshakeMethod = 2,
    BadRequest = 3,
    Forbidden = 4,
    UnsupportedProtocolVersion = 5
};

inline const char* error_message(ErrorCode code) {
    static const char* const messages[] = {"Transport unknown", "Session ID unknown", "Bad handshake method",
                                           "Bad request",       "Forbidden",          "Unsupported protocol version"};
    return messages[static_cast<int>(code)];
}

// ---- 3b. HTTP long-polling (engine.io-protocol v4, "HTTP long-polling") ---------------------------------------------
// The client keeps one GET open to receive (the server answers it when it has packets) and POSTs what it sends.
// Bodies are text in v4: binary rides as "b" + base64, and a POST marked application/octet-stream is refused.
// (v3's bodies differ; the session's codec, 2h, frames and unframes them.)
// First the bodies (namespace polling: packets to HTTP answers and back), then the transport, Polling.
namespace polling {

inline constexpr const char* kContentType = "text/plain; charset=UTF-8";

inline constexpr const char* kBinaryContentType = "application/octet-stream";  // v3's binary payloads

// A GET's answer: the packets as one payload of the session's revision; `binary` says it took the binary form.
inline std::string encode_response(const Codec& codec, const std::vector<OutgoingPtr>& packets, bool b64,
                                   bool& binary) {
    return codec.frame_payload(
        packets, [](const OutgoingPtr& p) -> const Packet& { return p->packet; }, b64, binary);
}

// The same in v4, where the answer is text: records joined by \x1e.
inline std::string encode_response(const std::vector<OutgoingPtr>& packets) {
    bool binary;
    return encode_response(v4::codec, packets, false, binary);
}

// Every body the engine answers with is written as it is, never compressed again by httplib: layer 6 tells httplib
// that engine requests accept no encoding (HttpServer's pre-routing handler). A body is kept in res.body, not in a
// content provider, as httplib stops writing a provider's body once the server is stopping: the close packet a
// waiting GET gets at shutdown would be cut off.
inline void write_body(httplib::Response& res, const std::string& body, const char* content_type) {
    res.set_content(body, content_type);
}

// The body of an engine answer, for tests and for programs that call Engine::handle themselves (a content
// provider's, if some other code set one).
inline std::string body_of(const httplib::Response& res) {
    if (!res.content_provider_) return res.body;
    std::string out;
    httplib::DataSink sink;
    sink.write = [&out](const char* data, size_t size) {
        out.append(data, size);
        return true;
    };
    res.content_provider_(0, res.content_length_, sink);
    return out;
}

// A polling response: gzipped when it is large enough and the client accepts gzip (httpCompression).
inline void write_payload(httplib::Response& res, std::string payload, const std::string& accept_encoding,
                          const std::optional<HttpCompressionOptions>& compression,
                          const char* content_type = kContentType) {
    std::string packed;
    if (compression && payload.size() >= compression->threshold && http_compression::kAvailable &&
        http_compression::accepts_gzip(accept_encoding) && http_compression::gzip(payload, packed)) {
        res.set_header("Content-Encoding", "gzip");
        return write_body(res, packed, content_type);
    }
    write_body(res, payload, content_type);
}

// False when the request's Content-Type says the body is binary, which v4 clients never send.
inline bool acceptable_content_type(const std::string& content_type) {
    return content_type.rfind("application/octet-stream", 0) != 0;
}

}  // namespace polling

// An error answer of the Engine.IO path (see ErrorCode, 3a).
inline void abort_request(httplib::Response& res, ErrorCode code, const std::string& message = {}) {
    picojson::object body;
    body["code"] = picojson::value(double(static_cast<int>(code)));
    body["message"] = picojson::value(message.empty() ? std::string(error_message(code)) : message);
    res.status = code == ErrorCode::Forbidden ? 403 : 400;
    polling::write_body(res, picojson::value(body).serialize(), "application/json");
}

// What Polling needs to know of its session's options.
struct PollingSettings {
    std::string sid;                  // for the wire trace
    const Codec* codec = &v4::codec;  // the session's revision (2h)
    bool base64 = false;              // the client asked for binary as base64 (b64=1; a v3 query parameter)
    size_t max_payload = 1000000;     // maxHttpBufferSize
    std::optional<HttpCompressionOptions> compression;
};

// The long-polling transport of one session (npm engine.io's Polling). A GET waits here until the session hands it
// packets (send(), while writable()) or the transport is closed or discarded; a POST's packets go to the session in
// order. Only one GET and one POST at a time: a second one is the client's error ("overlap").
// A GET comes on one connection and a POST or the WebSocket's "5" on another, read by two threads in either order;
// two rules give the answer the reference gives, which reads bytes in arrival order, whatever order they are read in:
//   - the client's close packet on a POST: the GET waiting, or else the one GET read after it, gets "6"; later ones
//     get 400 "Session ID unknown" (Engine::remove).
//   - the upgrade: a GET still waiting when "5" comes, or read after, gets 400 "Bad request" (the Upgrade comment, 4).
class Polling final : public Transport, public detail::SendBatch::Member, public std::enable_shared_from_this<Polling> {
public:
    Polling(EngineKey, PollingSettings settings) : settings_(std::move(settings)) {}

    const char* name() const override { return "polling"; }
    bool writable() const override {
        std::lock_guard<std::mutex> lk(mu_);
        return get_waiting_ && !closed_ && !discarded_;
    }
    inline bool send(const OutgoingPtr* packets, size_t count) override;
    inline void close() override;
    inline void discard() override;

private:
    friend class Engine;
    friend class Socket;  // a session the client closed on a POST lingers for the GET sent with it (Engine::remove)
    bool closed_by_client() const {
        std::lock_guard<std::mutex> lk(mu_);
        return client_closed_;
    }
    // A GET (engine.io's onPollRequest): asks the session for packets, waits for them, answers with all of them.
    inline void handle_get(const httplib::Request& req, httplib::Response& res, const HttpExchange& http);
    // A POST (onDataRequest): decodes the payload, hands its packets to the session, answers "ok".
    inline void handle_post(const httplib::Request& req, httplib::Response& res, HttpExchange& http);

    // SendBatch: wake the waiting GET once for everything the batch handed it.
    void end_batch() override {
        std::lock_guard<std::mutex> lk(mu_);
        batched_ = false;
        if (!answer_.empty()) cv_.notify_one();
    }

    // Why a waiting GET stops waiting.
    bool answerable() const { return !answer_.empty() || closed_ || discarded_; }
    inline void refuse_post(httplib::Response& res, HttpExchange& http, const char* why, const char* description,
                            int status);

    const PollingSettings settings_;
    mutable std::mutex mu_;  // see LOCK ORDER (3a): after the session's lock
    std::condition_variable cv_;
    bool get_waiting_ = false;         // a GET waits for packets
    bool post_pending_ = false;        // a POST is being handled
    std::vector<OutgoingPtr> answer_;  // what the waiting GET answers with
    bool batched_ = false;             // a SendBatch will wake the waiting GET
    bool closed_ = false;         // close(): the close packet goes in an answer of its own, then every GET gets a noop
    bool close_sent_ = false;     // the close packet went out: nothing more to tell
    bool discarded_ = false;      // the session moved on (upgraded): every GET is answered 400 at once
    bool client_closed_ = false;  // a POST carried the client's close packet: it is told nothing more
    bool late_get_ = false;       // ...while no GET waited: the one GET sent with the close is still answered "6"
};

inline bool Polling::send(const OutgoingPtr* packets, size_t count) {
    std::lock_guard<std::mutex> lk(mu_);
    if (!get_waiting_ || closed_ || discarded_) return false;
    answer_.insert(answer_.end(), packets, packets + count);
    auto* batch = detail::SendBatch::current();
    if (!batch) cv_.notify_one();
    else if (!batched_) {
        batched_ = true;
        batch->push_back(shared_from_this());
    }
    return true;
}

inline void Polling::close() {
    bool told;  // nothing left to tell the client: the close is done now
    {
        std::lock_guard<std::mutex> lk(mu_);
        if (closed_) return;
        closed_ = true;
        told = client_closed_;
        late_get_ = client_closed_ && !get_waiting_;
        cv_.notify_all();  // a waiting GET answers with the close packet
    }
    if (told)
        if (auto r = receiver()) r->handle_transport_close(*this, reason::ForcedClose, {});
}

inline void Polling::discard() {
    std::lock_guard<std::mutex> lk(mu_);
    discarded_ = true;
    cv_.notify_all();
}

inline void Polling::handle_get(const httplib::Request& req, httplib::Response& res, const HttpExchange& http) {
    std::unique_lock<std::mutex> lk(mu_);
    if (closed_ && client_closed_) {  // the client closed the session: see Engine::remove
        const bool late = late_get_;
        late_get_ = false;
        lk.unlock();
        if (!late) return abort_request(res, ErrorCode::UnknownSid);
        bool binary;
        const std::string body =
            polling::encode_response(*settings_.codec, {make_outgoing(PacketType::Noop)}, settings_.base64, binary);
        return polling::write_body(res, body, binary ? polling::kBinaryContentType : polling::kContentType);
    }
    lk.unlock();
    auto session = receiver();
    if (!session) return abort_request(res, ErrorCode::UnknownSid);
    lk.lock();
    if (get_waiting_) {
        lk.unlock();
        session->handle_transport_close(*this, reason::TransportError, "overlap from client");
        return abort_request(res, ErrorCode::BadRequest);
    }
    get_waiting_ = true;
    if (!closed_ && !discarded_) {
        lk.unlock();
        session->handle_drain(*this);  // the session sends what it holds
        lk.lock();
    }
    // A client that hangs up while its GET waits closes the session at once, as with the reference ("poll
    // connection closed prematurely"), rather than at the ping time-out: with connection state recovery, its
    // session must be kept before the client comes back. Checked every 250 ms; nothing else wakes this wait.
    while (!cv_.wait_for(lk, std::chrono::milliseconds(250), [&] { return answerable(); })) {
        lk.unlock();
        const bool gone = http.client_gone();
        lk.lock();
        if (gone && !answerable()) {
            get_waiting_ = false;
            lk.unlock();
            session->handle_transport_close(*this, reason::TransportError, "poll connection closed prematurely");
            return;
        }
    }
    std::vector<OutgoingPtr> out;
    out.swap(answer_);
    get_waiting_ = false;
    if (out.empty() && discarded_ && !closed_) {  // upgraded meanwhile: this GET came with or after the "5"
        lk.unlock();
        return abort_request(res, ErrorCode::BadRequest);
    }
    // The close packet goes alone: after an answer with packets in it, in the next GET (at once), as with the
    // reference, so the client handles what it got (a Socket.IO DISCONNECT, say) before it learns that the transport
    // is gone. A client that closed the session itself is told nothing new.
    const bool send_close = closed_ && !close_sent_ && !client_closed_ && out.empty();
    if (send_close) {
        out.push_back(make_outgoing(PacketType::Close));
        close_sent_ = true;
    } else if (out.empty()) {
        out.push_back(make_outgoing(PacketType::Noop));  // releases the GET (an upgrade, a close)
    }
    lk.unlock();
    if (detail::trace_enabled() && send_close) detail::trace(settings_.sid, "polling", "->", "close");
    const std::string accept_encoding = req.get_header_value("Accept-Encoding");
    bool binary;
    std::string body = polling::encode_response(*settings_.codec, out, settings_.base64, binary);
    polling::write_payload(res, std::move(body), accept_encoding, settings_.compression,
                           binary ? polling::kBinaryContentType : polling::kContentType);
    if (send_close) session->handle_transport_close(*this, reason::ForcedClose, {});
}

// A POST whose body is not read: its connection cannot carry another request.
inline void Polling::refuse_post(httplib::Response& res, HttpExchange& http, const char* why, const char* description,
                                 int status) {
    http.close_after_response();
    if (auto session = receiver()) session->handle_transport_close(*this, why, description);
    if (status == 400) abort_request(res, ErrorCode::BadRequest);
    else res.status = status;
}

inline void Polling::handle_post(const httplib::Request& req, httplib::Response& res, HttpExchange& http) {
    auto session = receiver();
    if (!session) return abort_request(res, ErrorCode::UnknownSid);
    // A v3 client with XHR2 may POST a binary payload; v4 clients never do.
    const bool binary_payload = !polling::acceptable_content_type(req.get_header_value("Content-Type"));
    if (binary_payload && !settings_.codec->binary_payloads)
        return refuse_post(res, http, reason::TransportError, "invalid content", 400);
    bool overlap;
    {
        std::lock_guard<std::mutex> lk(mu_);
        overlap = post_pending_;
        post_pending_ = true;
    }
    if (overlap) return refuse_post(res, http, reason::TransportError, "data request overlap from client", 400);
    struct Done {
        Polling& p;
        ~Done() {
            std::lock_guard<std::mutex> lk(p.mu_);
            p.post_pending_ = false;
        }
    } done{*this};

    if (req.has_header("Transfer-Encoding")) return refuse_post(res, http, reason::TransportError, "chunked body", 400);
    const std::string length_text = req.get_header_value("Content-Length");
    if (length_text.size() > 15 || length_text.find_first_not_of("0123456789") != std::string::npos)
        return refuse_post(res, http, reason::TransportError, "bad Content-Length", 400);
    size_t length = length_text.empty() ? 0 : size_t(std::stoull(length_text));
    if (length > settings_.max_payload) {
        // As the reference: 413 and the session is kept (the client closes it, its transport having failed). The
        // body is not read, so this connection ends with the answer.
        if (detail::trace_enabled()) detail::trace(settings_.sid, "polling", "<-", "payload too large: 413");
        http.close_after_response();
        res.status = 413;
        res.set_header("Connection", "close");
        return;
    }
    std::string body;
    if (!http.read_body(length, body))
        return refuse_post(res, http, reason::TransportError, "request body not received", 400);
    std::vector<Packet> packets;
    if (!settings_.codec->unframe_payload(body, binary_payload, packets)) {
        session->handle_transport_close(*this, reason::ParseError, "bad payload: " + detail::printable(body, 60));
        return abort_request(res, ErrorCode::BadRequest);
    }
    {
        detail::SendBatch batch;  // what the handlers send to WebSockets leaves together when the payload is handled
        for (auto& p : packets) {
            if (p.type == PacketType::Close) {
                std::lock_guard<std::mutex> lk(mu_);
                client_closed_ = true;
            }
            session->handle_packet(*this, p);
        }
    }
    polling::write_body(res, "ok", "text/html");
}

// ---- 3c. WebSocket (RFC 6455, server side) --------------------------------------------------------------------------
// After the HTTP upgrade the connection's own thread runs run(): it sleeps in a blocking recv(), reads frames,
// answers pings, and hands each data message to the session. Any thread may send(): the bytes go straight to the
// socket when the kernel takes them (no thread wake-up). What the kernel refuses waits in a bounded buffer, and the
// engine's one Flusher thread writes it when the socket drains — so a connection needs no descriptor besides its
// socket, and its thread is woken only by what the client sends.
class WebSocket;
}  // namespace eio

namespace detail {

// One thread and one epoll for every WebSocket that has bytes the kernel could not take at once. watch() arms a
// one-shot EPOLLOUT for the socket; when it fires, the transport writes what it can (and re-arms if it must).
// Started on first use; the transports are held weakly, and each one forgets its fd before the fd is closed.
class Flusher {
public:
    Flusher() = default;
    ~Flusher() { stop(); }
    Flusher(const Flusher&) = delete;
    Flusher& operator=(const Flusher&) = delete;

    // Any thread. False when the flusher is stopped or epoll refuses the fd.
    inline bool watch(int fd, const std::weak_ptr<eio::WebSocket>& ws);
    // Before the fd is closed.
    void forget(int fd) {
        std::lock_guard<std::mutex> lk(mu_);
        if (watched_.erase(fd) && epoll_fd_ >= 0) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    }
    void stop() {
        {
            std::lock_guard<std::mutex> lk(mu_);
            if (stopped_) return;
            stopped_ = true;
            if (stop_fd_ >= 0) {
                uint64_t one = 1;
                (void)!::write(stop_fd_, &one, sizeof one);
            }
        }
        if (thread_.joinable()) thread_.join();
        std::lock_guard<std::mutex> lk(mu_);
        watched_.clear();
        for (int* fd : {&epoll_fd_, &stop_fd_}) {
            if (*fd >= 0) ::close(*fd);
            *fd = -1;
        }
    }

private:
    inline void loop();

    std::mutex mu_;  // see LOCK ORDER (3a): taken under WebSocket's lock, never the other way round
    int epoll_fd_ = -1, stop_fd_ = -1;
    bool stopped_ = false;
    std::unordered_map<int, std::weak_ptr<eio::WebSocket>> watched_;
    std::thread thread_;
};

}  // namespace detail
namespace eio {

// The WebSocket transport of one session (npm engine.io's WebSocket), or of a probe that may become it.
class WebSocket final : public Transport,
                        public detail::SendBatch::Member,
                        public std::enable_shared_from_this<WebSocket> {
public:
    // How long a client has to answer our close frame before its connection is cut.
    static constexpr int kCloseGraceMs = 1000;

    // `tls`: the connection's TLS session (3a), or null on plain TCP. `codec`: the session's revision (2h);
    // `base64`: the client asked for binary as base64 text (b64 in its request).
    WebSocket(EngineKey, int fd, size_t max_message, size_t max_buffered, detail::Timers& timers,
              detail::Flusher& flusher, std::shared_ptr<detail::TlsSession> tls = nullptr,
              const Codec& codec = v4::codec, bool base64 = false)
        : fd_(fd),
          max_buffered_(max_buffered),
          codec_(codec),
          base64_(base64),
          parser_(max_message),
          timers_(timers),
          flusher_(flusher),
          tls_(std::move(tls)) {}
    WebSocket(const WebSocket&) = delete;
    WebSocket& operator=(const WebSocket&) = delete;

    const char* name() const override { return "websocket"; }

    // Any thread. False when the connection is closed or the client is so slow that the buffer cap is exceeded.
    bool send(const OutgoingPtr* packets, size_t count) override {
        std::lock_guard<std::mutex> lk(mu_);
        bool ok = true;
        for (size_t i = 0; i < count && ok; ++i) {
            const Outgoing& p = *packets[i];
            ok = !p.packet.binary || (codec_.shares_binary_frames && !base64_)
                     ? write_locked(p.ws_frame)  // the frame made once, not copied
                     : write_locked(codec_.binary_frame(p.packet, base64_));
        }
        if (!ok && open_ && !closing_) failed_ = true;  // not a closing connection: a broken or backed-up one
        return ok;
    }
    bool failed() const override {
        std::lock_guard<std::mutex> lk(mu_);
        return failed_;
    }
    // Any thread: the close frame goes after everything already sent, and the session hears ForcedClose at once.
    void close() override {
        bool first;
        {
            std::lock_guard<std::mutex> lk(mu_);
            first = open_ && !closing_;
            close_locked(ws::close_code::Normal, {});
        }
        if (first)
            if (auto r = receiver()) r->handle_transport_close(*this, reason::ForcedClose, {});
    }

    // Open and not closing: it takes packets (what the kernel refuses waits, up to the cap).
    bool writable() const override {
        std::lock_guard<std::mutex> lk(mu_);
        return open_ && !closing_;
    }
    // Bytes wait for the socket to drain (not for a batch): a packet sent now would not reach the kernel at once.
    bool congested() const override {
        std::lock_guard<std::mutex> lk(mu_);
        return pending_.size() != pending_off_ && !batched_;
    }
    size_t buffered_bytes() const override {
        std::lock_guard<std::mutex> lk(mu_);
        return pending_.size() - pending_off_;
    }

private:
    friend class Engine;
    friend struct sio::detail::TestAccess;
    friend class detail::Flusher;

    // The connection thread. `leftover` holds bytes read past the HTTP request. Returns when the connection is
    // over, after telling the session why; the fd stays open (its owner closes it).
    void run(const std::string& leftover) {
        auto session = receiver();  // held while the thread runs
        int flags = fcntl(fd_, F_GETFL, 0);
        fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);  // the thread sleeps in recv(); senders pass MSG_DONTWAIT
        End end = loop(leftover, session.get());
        detail::Timers::Id timer;
        {
            std::lock_guard<std::mutex> lk(mu_);
            open_ = false;  // from here on nobody writes to this fd, which its owner is about to close
            pending_.clear();
            pending_off_ = 0;
            timer = hang_up_timer_;
        }
        flusher_.forget(fd_);
        timers_.cancel(timer);
        if (session) session->handle_transport_close(*this, end.reason, end.description);
    }

    // The same with a code of our choosing, told to nobody: the connection thread's end tells the session. The
    // client's own close frame then ends the thread's recv(); one that does not answer within kCloseGraceMs is cut off.
    void close(uint16_t code, std::string_view why = {}) {
        std::lock_guard<std::mutex> lk(mu_);
        close_locked(code, why);
    }

    // One frame as it is (tests; the transport's own pongs).
    bool send_frame(const std::string& frame) {
        std::lock_guard<std::mutex> lk(mu_);
        return write_locked(frame);
    }

    // The Flusher: the socket can take more bytes.
    void handle_writable() {
        std::lock_guard<std::mutex> lk(mu_);
        if (!open_) return;
        if (!flush_locked()) ::shutdown(fd_, SHUT_RDWR);  // broken: the connection thread's recv() sees it
    }

    // SendBatch: write what this thread gathered.
    void end_batch() override {
        std::lock_guard<std::mutex> lk(mu_);
        batched_ = false;
        if (open_ && !flush_locked()) ::shutdown(fd_, SHUT_RDWR);
    }

    enum class Step { Go, Idle, Finish, End };
    struct End {
        const char* reason;       // a close reason of the session ("transport close", "transport error", ...)
        std::string description;  // what happened, for the trace and the close handler
    };

    void close_locked(uint16_t code, std::string_view why) {
        if (!open_ || closing_) return;
        write_locked(ws::encode_close(code, why));
        closing_ = true;
        std::weak_ptr<WebSocket> weak = weak_from_this();
        hang_up_timer_ = timers_.after(kCloseGraceMs, [weak] {
            if (auto self = weak.lock()) self->hang_up();
        });
    }

    // One data message: decoded as the session's revision says (2h), and handed to the session.
    void handle_ws_message(ws::Message& m, Transport::Receiver* session) {
        if (!session) return;  // a WebSocket nobody listens to (refused for its sid): it only closes
        Packet p;
        if (!codec_.decode_message(m, p))  // a decoder that fails leaves the message as it was
            return session->handle_transport_close(*this, reason::ParseError,
                                                   "bad packet: " + detail::printable(m.data, 60));
        session->handle_packet(*this, p);
    }

    End loop(const std::string& leftover, Transport::Receiver* session) {
        if (!leftover.empty()) parser_.feed(leftover.data(), leftover.size());
        bool trimmed = false;
        set_receive_timeout(SIOSERVER_IDLE_STACK_TRIM_MS);
        while (true) {
            End end{nullptr, {}};
            switch (receive(session, end)) {
            case Step::Go:
                if (trimmed) set_receive_timeout(SIOSERVER_IDLE_STACK_TRIM_MS);
                trimmed = false;
                break;
            case Step::Idle:  // no message for a while: give back the stack the handlers touched, then sleep
                detail::release_stack_below_here();
                set_receive_timeout(0);
                trimmed = true;
                break;
            case Step::Finish: return finish(end);
            case Step::End: return end;
            }
        }
    }

    // Handles the frames already read (as one SendBatch), then waits for more. Not inlined into loop(): its
    // receive buffer and whatever the handlers use lie below loop()'s frame, which an idle connection gives back.
    __attribute__((noinline)) Step receive(Transport::Receiver* session, End& end) {
        {
            detail::SendBatch batch;
            if (drain_parser(session, end)) return Step::Finish;
        }
        if (closing()) {
            end = {reason::TransportClose, "closed by the server"};
            return Step::Finish;
        }
        // The thread sleeps here, so this frame stays small (an idle connection keeps every page from here up);
        // a full read means more is waiting, which read_more() takes with a larger buffer.
        char buf[512];
        ssize_t got = tls_ ? tls_receive(buf, sizeof buf) : ::recv(fd_, buf, sizeof buf, 0);
        if (got > 0) {
            parser_.feed(buf, size_t(got));
            // Over TLS a read hands out one record (one message, often), and what else waits is in the socket,
            // not in the session (pending() is 0): take it too, so that one batch carries it all.
            if (size_t(got) == sizeof buf || tls_) read_more();
            return Step::Go;
        }
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Step::Idle;  // the receive time-out
        if (got < 0 && errno == EINTR) return Step::Go;
        if (closing()) {  // hang_up() or our own close
            end = {reason::TransportClose, "closed by the server"};
            return Step::Finish;
        }
        if (got == 0) end = {reason::TransportClose, "connection closed by the client"};
        else end = {reason::TransportError, std::strerror(errno)};
        return Step::End;
    }

    // Takes what else the kernel has for us now (up to 64 KiB), without waiting; errors are left for recv().
    __attribute__((noinline)) void read_more() {
        char buf[4096];
        for (int i = 0; i < 16; ++i) {
            ssize_t got = receive_now(buf, sizeof buf);
            if (got <= 0) return;
            parser_.feed(buf, size_t(got));
            if (size_t(got) < sizeof buf && !tls_) return;  // TLS hands out one record at a time
        }
    }

    // What recv(MSG_DONTWAIT) does, through the TLS session when there is one.
    ssize_t receive_now(char* buf, size_t size) {
        short wait_for = POLLIN;
        return tls_ ? tls_->read(buf, size, wait_for) : ::recv(fd_, buf, size, MSG_DONTWAIT);
    }

    // The blocking recv() with SO_RCVTIMEO of a TLS connection: the session never blocks (3a), so this thread
    // sleeps in poll() instead, after the session said it has nothing buffered. EAGAIN after the time-out.
    ssize_t tls_receive(char* buf, size_t size) {
        while (true) {
            short wait_for = POLLIN;
            ssize_t got = tls_->read(buf, size, wait_for);
            if (got >= 0 || errno != EAGAIN) return got;
            pollfd pfd{fd_, wait_for, 0};
            int n = ::poll(&pfd, 1, receive_timeout_ms_ > 0 ? receive_timeout_ms_ : -1);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return -1;
            if (n == 0) {
                errno = EAGAIN;
                return -1;
            }
        }
    }

    // What send(MSG_NOSIGNAL | MSG_DONTWAIT) does, through the TLS session when there is one.
    ssize_t send_now(const char* data, size_t size) {
        if (!tls_) return ::send(fd_, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
        short wait_for = POLLOUT;  // the Flusher waits for EPOLLOUT (renegotiation is off: a write never reads)
        return tls_->write(data, size, wait_for);
    }

    bool closing() const {
        std::lock_guard<std::mutex> lk(mu_);
        return closing_;
    }

    // SO_RCVTIMEO: recv() returns EAGAIN after `ms` without data (0: never).
    void set_receive_timeout(int ms) {
        if (SIOSERVER_IDLE_STACK_TRIM_MS <= 0) return;
        receive_timeout_ms_ = ms;
        if (tls_) return;  // tls_receive() polls with it
        timeval tv{ms / 1000, (ms % 1000) * 1000};
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }

    // Timers: the client did not answer our close frame in time.
    void hang_up() {
        std::lock_guard<std::mutex> lk(mu_);
        if (open_) ::shutdown(fd_, SHUT_RDWR);
    }

    // Parses every complete frame. Returns true (with `end` set) when the connection must end.
    bool drain_parser(Transport::Receiver* session, End& end) {
        ws::Message m;
        while (true) {
            auto r = parser_.next(m);
            if (r == ws::FrameParser::Result::NeedMore) return false;
            if (r == ws::FrameParser::Result::Error) {
                // The code alone, as npm ws sends it; the diagnostic is the close's description (traces, handlers).
                close(parser_.close_code());
                end = {reason::TransportError, parser_.error()};
                return true;
            }
            switch (m.opcode) {
            case ws::Opcode::Ping: send_frame(ws::encode_frame(ws::Opcode::Pong, m.data)); break;
            case ws::Opcode::Pong: break;
            case ws::Opcode::Close: {
                uint16_t code = ws::close_code::Normal;
                if (m.data.size() >= 2) code = uint16_t((uint8_t(m.data[0]) << 8) | uint8_t(m.data[1]));
                close(code);  // echo the client's close
                end = {reason::TransportClose, "close frame " + std::to_string(code)};
                return true;
            }
            default: handle_ws_message(m, session);
            }
        }
    }

    // Sends what is still buffered (the close frame last), then waits a bounded time for the client to hang up.
    End finish(End end) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kCloseGraceMs);
        char sink[4096];
        bool write_shut = false;
        while (std::chrono::steady_clock::now() < deadline) {
            bool want_write;
            {
                std::lock_guard<std::mutex> lk(mu_);
                if (!flush_locked()) break;
                want_write = pending_.size() > pending_off_;
            }
            if (!want_write && !write_shut) {
                if (tls_) tls_->close_notify();
                ::shutdown(fd_, SHUT_WR);
                write_shut = true;
            }
            int left =
                int(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
                        .count());
            pollfd pfd{fd_, short(POLLIN | (want_write ? POLLOUT : 0)), 0};
            if (tls_ && tls_->pending()) pfd.revents = POLLIN;  // decrypted bytes wait: no poll() for them
            else if (::poll(&pfd, 1, std::max(left, 0)) <= 0) break;
            if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t got = receive_now(sink, sizeof sink);
                if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) break;
                if (got > 0 && client_closed(sink, size_t(got))) break;  // the closing handshake is complete
            }
        }
        return end;
    }

    // Whether these bytes complete a close frame from the client (other frames are dropped while closing).
    bool client_closed(const char* data, size_t size) {
        parser_.feed(data, size);
        ws::Message m;
        while (true) {
            auto r = parser_.next(m);
            if (r != ws::FrameParser::Result::Message) return r == ws::FrameParser::Result::Error;
            if (m.opcode == ws::Opcode::Close) return true;
        }
    }

    bool write_locked(const std::string& frame) {
        if (!open_ || closing_) return false;
        if (pending_.size() > pending_off_) {  // behind a batch or a back-up: keep the order
            pending_ += frame;
            return pending_.size() - pending_off_ <= max_buffered_;
        }
        if (auto* batch = detail::SendBatch::current()) {  // written when the batch ends
            pending_.assign(frame);
            pending_off_ = 0;
            batched_ = true;
            batch->push_back(shared_from_this());
            return true;
        }
        size_t done = 0;
        while (done < frame.size()) {
            ssize_t n = send_now(frame.data() + done, frame.size() - done);
            if (n > 0) {
                done += size_t(n);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            return false;  // the connection is broken; the reading side will notice and end it
        }
        if (done == frame.size()) return true;
        pending_.assign(frame, done, std::string::npos);
        pending_off_ = 0;
        return flusher_.watch(fd_, weak_from_this()) && pending_.size() <= max_buffered_;
    }

    // Writes what the kernel takes; the rest waits for the Flusher (unless a batch still holds it). False when the
    // connection is broken.
    bool flush_locked() {
        while (pending_off_ < pending_.size()) {
            ssize_t n = send_now(pending_.data() + pending_off_, pending_.size() - pending_off_);
            if (n > 0) {
                pending_off_ += size_t(n);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return batched_ || flusher_.watch(fd_, weak_from_this());
            return false;
        }
        if (pending_.capacity() > 65536) std::string().swap(pending_);  // a back-up's buffer is not kept
        pending_.clear();
        pending_off_ = 0;
        return true;
    }

    int fd_;
    size_t max_buffered_;
    const Codec& codec_;      // the session's revision (2h)
    const bool base64_;       // the client asked for binary as base64 text (b64=1: forceBase64)
    ws::FrameParser parser_;  // only the connection thread touches it
    detail::Timers& timers_;
    detail::Flusher& flusher_;
    std::shared_ptr<detail::TlsSession> tls_;  // null on plain TCP
    int receive_timeout_ms_ = 0;               // only the connection thread touches it
    mutable std::mutex mu_;                    // guards everything below
    std::string pending_;
    size_t pending_off_ = 0;
    bool batched_ = false;  // pending_ waits for a SendBatch, not for the socket to drain
    bool open_ = true;
    bool closing_ = false;
    bool failed_ = false;  // a send() found the connection broken or over max_buffered_
    detail::Timers::Id hang_up_timer_ = 0;
};

}  // namespace eio
namespace detail {

inline bool Flusher::watch(int fd, const std::weak_ptr<eio::WebSocket>& ws) {
    std::lock_guard<std::mutex> lk(mu_);
    if (stopped_) return false;
    if (epoll_fd_ < 0) {
        epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
        stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (epoll_fd_ < 0 || stop_fd_ < 0) return false;
        epoll_event stop{};
        stop.events = EPOLLIN;
        stop.data.fd = stop_fd_;
        if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, stop_fd_, &stop) != 0) return false;
        thread_ = std::thread([this] { loop(); });
    }
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLONESHOT;
    ev.data.fd = fd;
    bool known = watched_.count(fd) > 0;
    if (epoll_ctl(epoll_fd_, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0) return false;
    watched_[fd] = ws;
    return true;
}

inline void Flusher::loop() {
    epoll_event events[64];
    while (true) {
        int n = epoll_wait(epoll_fd_, events, 64, -1);
        if (n < 0 && errno != EINTR) return;
        for (int i = 0; i < n; ++i) {
            std::shared_ptr<eio::WebSocket> ws;
            {
                std::lock_guard<std::mutex> lk(mu_);
                if (events[i].data.fd == stop_fd_) return;
                auto it = watched_.find(events[i].data.fd);
                if (it != watched_.end()) ws = it->second.lock();
            }
            if (ws) ws->handle_writable();  // a forgotten fd's late event finds nothing (or a live transport: harmless)
        }
    }
}

}  // namespace detail
namespace eio {}  // namespace eio

// =====================================================================================================================
// 4. THE ENGINE.IO SESSION — eio::Socket (sid, heartbeat, outbound queue, upgrade, close) and eio::Engine (the
//    session table and the request dispatcher). Usable on its own, like npm `engine.io`; layer 6 gives it a port.
// =====================================================================================================================
namespace eio {

// What the reference's "connection_error" event carries: a request the engine refused, and the error code and
// message its answer holds (Engine::on_connection_error).
struct ConnectionError {
    const httplib::Request& req;
    ErrorCode code;
    std::string message;
};

// The Set-Cookie value of the `cookie` option for a new session, its attributes in the order the reference's
// serializer (npm `cookie`) writes them, so that the header is the reference's byte for byte. A sid is base64url:
// it needs no escaping.
inline std::string session_cookie(const CookieOptions& c, const std::string& sid) {
    std::string out = c.name + "=" + sid;
    if (c.maxAge >= 0) out += "; Max-Age=" + std::to_string(c.maxAge);
    if (!c.domain.empty()) out += "; Domain=" + c.domain;
    if (!c.path.empty()) out += "; Path=" + c.path;
    if (c.httpOnly) out += "; HttpOnly";
    if (c.secure) out += "; Secure";
    const std::string same_site = detail::lowercase(c.sameSite);
    if (!same_site.empty())
        out += same_site == "lax" ? "; SameSite=Lax" : same_site == "strict" ? "; SameSite=Strict" : "; SameSite=None";
    return out;
}

// A cookie option that would make a broken header stops the server at construction (std::invalid_argument); the
// reference throws too, at the first handshake.
inline void check_cookie_options(const CookieOptions& c) {
    auto is_token = [](const std::string& v) {  // RFC 7230 §3.2.6 tchar
        return !v.empty() && std::all_of(v.begin(), v.end(), [](char ch) {
            return std::isalnum(static_cast<unsigned char>(ch)) || std::strchr("!#$%&'*+-.^_`|~", ch) != nullptr;
        });
    };
    auto is_attribute_value = [](const std::string& v) {  // RFC 6265 §4.1.1: no CTLs, no ';'
        return std::none_of(v.begin(), v.end(),
                            [](char ch) { return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f || ch == ';'; });
    };
    const std::string same_site = detail::lowercase(c.sameSite);
    if (!is_token(c.name)) throw std::invalid_argument("cookie.name is not a token: \"" + c.name + "\"");
    if (!is_attribute_value(c.path)) throw std::invalid_argument("cookie.path is invalid");
    if (!is_attribute_value(c.domain)) throw std::invalid_argument("cookie.domain is invalid");
    if (!same_site.empty() && same_site != "lax" && same_site != "strict" && same_site != "none")
        throw std::invalid_argument("cookie.sameSite must be \"lax\", \"strict\", \"none\" or empty");
}

class Engine;

// How long something took, counted into fixed buckets as a Prometheus histogram counts (cumulative when read).
class Timing {
public:
    // The buckets' upper bounds in seconds, from 10 µs (a handler that emits) to 5 s (one that waits on a database).
    static constexpr double bounds[] = {0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5};
    void observe(std::chrono::steady_clock::duration d) {
        const double seconds = std::chrono::duration<double>(d).count();
        size_t i = 0;
        while (i < std::size(bounds) && seconds > bounds[i]) ++i;
        counts_[i].fetch_add(1, std::memory_order_relaxed);
        nanos_.fetch_add(uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()),
                         std::memory_order_relaxed);
    }
    // What fell at or under bounds[i] (i == std::size(bounds): everything), and the sum in seconds.
    uint64_t count_le(size_t i) const {
        uint64_t n = 0;
        for (size_t j = 0; j <= i && j <= std::size(bounds); ++j) n += counts_[j].load(std::memory_order_relaxed);
        return n;
    }
    double sum_seconds() const { return double(nanos_.load(std::memory_order_relaxed)) / 1e9; }

private:
    std::atomic<uint64_t> counts_[std::size(bounds) + 1]{};
    std::atomic<uint64_t> nanos_{0};
};

// What every session sends and receives, and what the engine did, counted for an add-on (sioserver_admin.hpp: the
// admin UI's charts, from Node's engine "connection" event and each socket's "packet", "packetCreate" and "close";
// sioserver_metrics.hpp: the Prometheus metrics). Sessions opened and closed, upgrades and the limits' work are
// always counted; packets, and the handlers' times, only while someone watches (watch()), otherwise each costs one
// relaxed load. Packets without data (pings, pongs, noops, close) are not counted, as in Node.
struct Traffic {
    std::atomic<uint64_t> connections{0}, packetsIn{0}, bytesIn{0}, packetsOut{0}, bytesOut{0};
    std::atomic<uint64_t> upgrades{0};
    // Sessions closed because a send failed: the client did not read (maxBufferedBytes) or its connection broke.
    std::atomic<uint64_t> sendFailures{0};
    // Handshakes refused by maxConnectionsPerAddress and by handshakeRateLimit.
    std::atomic<uint64_t> refusedPerAddress{0}, refusedHandshakeRate{0};
    // Options::eventRateLimit: time connection threads waited for tokens, and connections it disconnected.
    std::atomic<uint64_t> throttledNanos{0}, rateLimited{0};
    // Closed sessions by reason, in the order of `reasons`.
    static constexpr const char* reasons[] = {reason::TransportClose, reason::TransportError,
                                              reason::PingTimeout,    reason::ParseError,
                                              reason::ForcedClose,    reason::ServerShuttingDown};
    std::atomic<uint64_t> disconnections[std::size(reasons)]{};
    // While watched: the time each user handler waited for the handler lock, and the time it ran (Engine::
    // run_handler; a handler run from inside another is in both).
    Timing handlerWait, handlerRun;

    // An add-on starts watching (true) or stops (false); counting goes on while any one watches.
    void watch(bool on) { watchers_.fetch_add(on ? 1 : -1, std::memory_order_relaxed); }
    bool counting() const { return watchers_.load(std::memory_order_relaxed) > 0; }
    void count_in(size_t bytes) { count(packetsIn, bytesIn, bytes); }
    void count_out(size_t bytes) { count(packetsOut, bytesOut, bytes); }
    void count_close(const char* why) {
        for (size_t i = 0; i < std::size(reasons); ++i)
            if (std::strcmp(why, reasons[i]) == 0) disconnections[i].fetch_add(1, std::memory_order_relaxed);
    }

private:
    static void count(std::atomic<uint64_t>& packets, std::atomic<uint64_t>& total, size_t bytes) {
        if (bytes == 0) return;
        packets.fetch_add(1, std::memory_order_relaxed);
        total.fetch_add(bytes, std::memory_order_relaxed);
    }
    std::atomic<int> watchers_{0};
};

// One Engine.IO session: what npm engine.io calls a Socket. Created by the engine on a handshake; handed to the
// connection handler; lives until closed. It keeps what engine.io's Socket keeps: the sid, the heartbeat, the
// upgrade (the current transport and a probing one), the close reasons, and the writeBuffer — packets that wait
// for the transport to be writable (polling: for the next GET). Every public member may be called from any thread.
class Socket : public Transport::Receiver, public std::enable_shared_from_this<Socket> {
public:
    enum class ReadyState { Open, Closing, Closed };
    using MessageHandler = std::function<void(const Packet& message)>;  // message.binary tells text from bytes
    using CloseHandler = std::function<void(const std::string& reason, const std::string& description)>;

    // `transport`: the one the handshake came on. `codec`: the revision the client speaks (2h), v4, or v3 when
    // allowEIO3 let it in. `secure`: the handshake came over TLS (opt.tls).
    Socket(EngineKey, Engine& engine, std::string id, httplib::Request handshake, TransportPtr transport,
           const Codec& codec = v4::codec, bool secure = false)
        : engine_(engine),
          id_(std::move(id)),
          request_(std::move(handshake)),
          codec_(codec),
          secure_(secure),
          can_upgrade_(std::strcmp(transport->name(), "polling") == 0),
          transport_(std::move(transport)) {}

    const std::string& id() const { return id_; }
    // The Engine.IO revision, 4 or 3 (EIO=), to report; what differs between the two is the codec's to say.
    int protocol() const { return codec_.revision; }
    const Codec& codec() const { return codec_; }
    // The handshake request: headers, query (`params`), remote_addr, path.
    const httplib::Request& request() const { return request_; }
    // Whether the handshake came over TLS (https or wss); Socket.IO's handshake.secure.
    bool secure() const { return secure_; }
    // The client's address as the limits count it: the TCP peer's, or what EngineOptions::trustProxy believes.
    const std::string& address() const { return address_; }
    std::string transport() const {
        std::lock_guard<std::mutex> lk(mu_);
        return transport_->name();
    }
    bool upgraded() const {
        std::lock_guard<std::mutex> lk(mu_);
        return upgraded_;
    }
    ReadyState ready_state() const {
        std::lock_guard<std::mutex> lk(mu_);
        return state_;
    }

    bool send(std::string text) { return send(make_outgoing(PacketType::Message, std::move(text))); }
    bool send_binary(std::string bytes) { return send(make_outgoing(PacketType::Message, std::move(bytes), true)); }
    bool send(const OutgoingPtr& packet) { return send_all(&packet, 1); }
    // Sends packets back to back (nothing from another thread comes between them: a Socket.IO packet and its
    // binary attachments). With `only_if_writable` (a volatile emit) they are dropped unless they leave at once.
    // With `hand_close_over` (an add-on's own thread sends), a failure closes the session at once as ever, but its
    // close handler (user code) runs on the engine's handler thread.
    inline bool send_all(const OutgoingPtr* packets, size_t count, bool only_if_writable = false,
                         bool hand_close_over = false);
    // Whether a packet sent now leaves at once (WebSocket not backed up, or a long-poll GET waiting).
    inline bool writable() const;
    // Bytes waiting for the client: in the writeBuffer and in the transport's backlog.
    size_t buffered_bytes() const {
        std::lock_guard<std::mutex> lk(mu_);
        return (write_buffer_.empty() ? 0 : buffered_bytes_) + transport_->buffered_bytes();
    }
    // Closes the session from the server side ("forced close"); what was already sent is delivered first.
    inline void close();

    void on_message(MessageHandler h) {
        std::lock_guard<std::mutex> lk(mu_);
        on_message_ = std::move(h);
    }
    void on_close(CloseHandler h) {
        std::lock_guard<std::mutex> lk(mu_);
        on_close_ = std::move(h);
    }
    void on_upgrade(std::function<void()> h) {
        std::lock_guard<std::mutex> lk(mu_);
        on_upgrade_ = std::move(h);
    }

    // Ends the session now with a close reason of layer 1 (the engine: "server shutting down"; tests).
    inline void close_with(const char* why, const std::string& description = {});

    // An input rate limit (sio::Client sets Options::eventRateLimit here as the session starts, before its first
    // message): charge_input() spends tokens for what the client sent, and the thread that handed that message up
    // then waits, holding no lock and with what it gathered sent, until the debt is paid, before it reads on. Nothing
    // is dropped: the client's next bytes wait in the kernel, so TCP slows a WebSocket's sender, and a POST is
    // answered later. `over_limit` runs on that thread, no lock held, when the client was held back for longer than
    // max_throttled_ms without a break (empty: the session is closed, reason::TransportError).
    inline void limit_input(const RateLimit& limit, int max_throttled_ms, std::function<void()> over_limit = nullptr);
    inline void charge_input(double tokens = 1);

    // engine.io's maybeUpgrade: `probe` (a WebSocket with this sid) may take over from polling once the client has
    // probed it ("2probe") and asked for it ("5"); false when the session cannot upgrade now (already on
    // WebSocket, upgrading, upgraded, or closing). upgradeTimeout bounds the wait.
    inline bool maybe_upgrade(const TransportPtr& probe);

    // ---- Transport::Receiver: what the transports tell the session
    inline void handle_packet(Transport& t, Packet& packet) override;
    inline void handle_drain(Transport& t) override;
    inline void handle_transport_close(Transport& t, const char* why, const std::string& description) override;

private:
    friend class Engine;
    // The engine, once the session is in its table: the heartbeat starts.
    inline void handle_open();
    // The engine: the transport of a polling request, or null when the session is not on polling any more.
    std::shared_ptr<Polling> polling() const {
        std::lock_guard<std::mutex> lk(mu_);
        return std::dynamic_pointer_cast<Polling>(transport_);
    }

    // With mu_ held: hands the writeBuffer to the transport if it can take it. False if the transport failed.
    inline bool flush_locked();
    inline void handle_probe_packet(Transport& probe, const Packet& packet);
    inline void complete_upgrade(Transport& probe);
    inline void schedule_upgrade_check();
    inline void schedule_ping();
    inline void expect_client_ping();
    // close_with() in two halves: the session closes now, and its close handler (user code) is returned for the
    // caller to run as a handler (empty when the session was closed already).
    inline CloseHandler close_now(const char* why, const std::string& description);
    // A timer's close (ping time-out, no close report, a ping that failed), or one on an add-on's own thread
    // (send_all): the session closes on that thread, and its close handler runs on the handler thread, since
    // neither runs user code (3a).
    inline void close_from_timer(const char* why, std::string description = {});
    // send_all() without its close on a failure: false when the session must close (the caller closes it).
    inline bool write_or_fail(const OutgoingPtr* packets, size_t count, bool only_if_writable, bool& sent);
    // Nothing waits in the writeBuffer and the transport takes a packet now without backing up.
    bool leaves_at_once_locked() const {
        return write_buffer_.empty() && transport_->writable() && !transport_->congested();
    }
    inline void trace_packet(const char* direction, const Packet& p, const char* transport) const;
    struct InputLimit;
    // After a message was handled: waits while the input limit is in debt (limit_input).
    inline void pace_input(InputLimit& limit);

    Engine& engine_;
    const std::string id_;
    const httplib::Request request_;
    std::string address_;  // set by the engine before the session is shared (address())
    // The place this session holds in its address's count (maxConnectionsPerAddress); given back when it closes.
    detail::AddressCounts::Slot address_slot_;
    std::unique_ptr<InputLimit> input_limit_;  // limit_input(), under mu_ (its own lock inside)
    const Codec& codec_;                       // the revision chosen at the handshake (2h)
    const bool secure_;                        // the handshake came over TLS
    const bool can_upgrade_;                   // opened on polling: a WebSocket may take over

    mutable std::mutex mu_;  // see LOCK ORDER (3a): before the transports' locks and the timers' lock
    ReadyState state_ = ReadyState::Open;
    TransportPtr transport_;       // the transport in use
    TransportPtr probe_;           // a WebSocket that is upgrading this polling session
    bool probe_answered_ = false;  // "3probe" went out: the client pauses polling; the check releases its GET
    bool upgraded_ = false;
    std::vector<OutgoingPtr> write_buffer_;  // engine.io's writeBuffer (a deque costs 576 bytes empty)
    size_t buffered_bytes_ = 0;
    detail::Timers::Id ping_timer_ = 0, ping_timeout_timer_ = 0, upgrade_timer_ = 0, closing_timer_ = 0;
    detail::Timers::Id upgrade_check_timer_ = 0;  // the upgrade's check, every 100 ms from the probe (maybe_upgrade)
    MessageHandler on_message_;
    CloseHandler on_close_;
    std::function<void()> on_upgrade_;
};

// The session table and the request dispatcher of one Engine.IO server (the protocol, without the HTTP server).
class Engine {
public:
    using ConnectionHandler = std::function<void(const std::shared_ptr<Socket>&)>;

    explicit Engine(EngineOptions options) : options_(std::move(options)) {
        if (options_.path.empty() || options_.path.back() != '/') options_.path += '/';
        if (options_.cookie) check_cookie_options(*options_.cookie);
        if (options_.handshakeRateLimit)
            handshake_buckets_ = std::make_unique<detail::HandshakeBuckets>(*options_.handshakeRateLimit);
        stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    }
    ~Engine() {
        shutdown();
        flusher_.stop();
        timers_.stop();  // the handler thread goes with its member: what it has not run is dropped
        if (stop_fd_ >= 0) ::close(stop_fd_);
    }
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    const EngineOptions& options() const { return options_; }
    void on_connection(ConnectionHandler h) { on_connection_ = std::move(h); }
    // Every session's upgrade to WebSocket (each Node socket's "upgrade" event), after the session's own
    // on_upgrade handler, as a handler: for an add-on that watches every session (sioserver_admin.hpp).
    void on_upgrade(std::function<void(Socket&)> h) {
        std::lock_guard<std::mutex> lk(mu_);
        upgrade_listeners_.push_back(std::move(h));
    }
    // engine.io's "initial_headers" and "headers" events: a handler may add, change or remove the headers of an
    // answer before it goes (Set-Cookie for a balancer's stickiness, say). "initial_headers": the handshake's answer
    // (the polling GET's, with the session cookie of opt.cookie already in it, or the 101 of a WebSocket opened
    // without a sid). "headers": every answer a transport gives (each polling GET's and POST's, each 101), after
    // "initial_headers" for a handshake. Not for refusals. Set them before start(); they run as handlers.
    using HeadersHandler = std::function<void(httplib::Headers& headers, const httplib::Request& req)>;
    void on_initial_headers(HeadersHandler h) { on_initial_headers_ = std::move(h); }
    void on_headers(HeadersHandler h) { on_headers_ = std::move(h); }
    // The reference's "connection_error" event: a request refused with an error code (unknown transport or sid, a
    // bad handshake, Forbidden, ...), once its answer is written. connection_errors() counts them per code.
    void on_connection_error(std::function<void(const ConnectionError&)> h) { on_connection_error_ = std::move(h); }
    uint64_t connection_errors(ErrorCode code) const { return refused_[size_t(code)].load(std::memory_order_relaxed); }

    // The address a request comes from, as the limits count it (EngineOptions::trustProxy): the TCP peer's, or the
    // trustProxy-th address from the end of X-Forwarded-For (all its headers, in order), each proxy having appended
    // the address it was reached from. A header shorter than that gives its first address.
    std::string client_address(const httplib::Request& req) const {
        if (options_.trustProxy <= 0 || !req.has_header("X-Forwarded-For")) return req.remote_addr;
        std::vector<std::string> hops;  // nearest last
        // (get_header_value's arguments changed between httplib releases; the header map itself did not, and it
        // keeps repeated headers in the order they came.)
        auto lines = req.headers.equal_range("X-Forwarded-For");
        for (auto line = lines.first; line != lines.second; ++line) {
            const std::string& value = line->second;
            size_t start = 0;
            while (start <= value.size()) {
                size_t comma = value.find(',', start);
                if (comma == std::string::npos) comma = value.size();
                std::string hop = detail::trim_copy(value.substr(start, comma - start));
                if (!hop.empty()) hops.push_back(std::move(hop));
                start = comma + 1;
            }
        }
        if (hops.empty()) return req.remote_addr;
        const size_t back = std::min(size_t(options_.trustProxy), hops.size());
        return hops[hops.size() - back];
    }
    // Sessions open from `address` right now, as maxConnectionsPerAddress counts them (0 while it is off).
    size_t sessions_from(const std::string& address) const { return address_counts_.held(address); }

    // Whether a request path belongs to Engine.IO ("/engine.io/" and below; "/engine.io" itself too).
    bool handles_path(const std::string& path) const {
        return path.compare(0, options_.path.size(), options_.path) == 0 ||
               path == options_.path.substr(0, options_.path.size() - 1);
    }

    inline void handle(const httplib::Request& req, httplib::Response& res, HttpExchange& http);
    // A new session on `transport` (the dispatcher's Polling or WebSocket; a test's fake): in the table, its open
    // packet sent, its heartbeat started, the connection handler run. `codec`: the revision it speaks (2h).
    // `secure`: the request came over TLS.
    inline std::shared_ptr<Socket> open_session(std::string sid, httplib::Request req, TransportPtr transport,
                                                const Codec& codec = v4::codec, bool secure = false);

    std::shared_ptr<Socket> find(const std::string& sid) const {
        std::lock_guard<std::mutex> lk(mu_);
        auto it = clients_.find(sid);
        return it == clients_.end() ? nullptr : it->second;
    }
    std::vector<std::shared_ptr<Socket>> clients() const {
        std::lock_guard<std::mutex> lk(mu_);
        std::vector<std::shared_ptr<Socket>> out;
        for (auto& kv : clients_) out.push_back(kv.second);
        return out;
    }
    size_t clients_count() const {
        std::lock_guard<std::mutex> lk(mu_);
        return clients_.size();
    }

    // Closes every session with "server shutting down" and wakes every connection thread that waits on stop_fd().
    void shutdown() {
        if (stopping_.exchange(true)) return;
        uint64_t one = 1;
        (void)!::write(stop_fd_, &one, sizeof one);
        for (auto& s : clients()) s->close_with(reason::ServerShuttingDown);
    }
    bool stopping() const { return stopping_; }

    // Runs a user handler: one at a time unless options().serializeHandlers is off; an exception it throws is
    // reported and swallowed, so it never unwinds through a connection thread. A close() inside joins nothing.
    // While traffic() is watched, the wait for the lock and the run are timed (Traffic::handlerWait, handlerRun).
    template <class F>
    void run_handler(F&& f) {
        detail::NoJoinScope no_join;
        std::unique_lock<std::recursive_mutex> lk(handler_mu_, std::defer_lock);
        const bool timed = traffic_.counting();
        std::chrono::steady_clock::time_point start;
        if (timed) start = std::chrono::steady_clock::now();
        if (options_.serializeHandlers) detail::lock_spinning(lk);
        if (timed) {
            const auto locked = std::chrono::steady_clock::now();
            traffic_.handlerWait.observe(locked - start);
            start = locked;
        }
        try {
            f();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "[sio] a handler threw: %s\n", e.what());
        } catch (...) {
            std::fprintf(stderr, "[sio] a handler threw a non-standard exception\n");
        }
        if (timed) traffic_.handlerRun.observe(std::chrono::steady_clock::now() - start);
    }
    // Runs `fn` as a handler (run_handler) on the engine's handler thread, after every task posted before it: how a
    // timer callback or an add-on's own thread runs user code. Once the server stopped, nothing more is taken.
    void post_handler(std::function<void()> fn) {
        handler_thread_.post([this, fn = std::move(fn)] { run_handler(fn); });
    }
    Traffic& traffic() { return traffic_; }

private:
    friend class Socket;  // a closing session leaves the table (remove) and tells the upgrade listeners (upgraded)
    friend struct detail::EngineAccess;
    int stop_fd() const { return stop_fd_; }
    detail::Timers& timers() { return timers_; }
    inline void upgraded(Socket& s);
    // open_session() for a handshake the dispatcher let in: the session keeps `address` (client_address() of the
    // request, found once by the dispatcher) and `slot` (its address's place).
    inline std::shared_ptr<Socket> open(std::string sid, httplib::Request req, TransportPtr transport,
                                        const Codec& codec, bool secure, std::string address,
                                        detail::AddressCounts::Slot slot);
    // The limits of one client address on a handshake (handshakeRateLimit, maxConnectionsPerAddress): false when
    // refused (answered and counted); else `slot` holds the session's place, if the cap is on.
    inline bool admit(const httplib::Request& req, httplib::Response& res, const std::string& address,
                      detail::AddressCounts::Slot& slot);
    // A session leaves the table. `lingering`: the polling transport of a session the client closed with a POST.
    // Such a client may have sent a GET with its close, on another connection: which of the two a thread-per-
    // connection server reads first is chance, while the reference, reading bytes in arrival order, takes that GET
    // first and answers "6". The rule: the one GET that comes after the close (or waits when it comes) gets "6",
    // later ones 400 "Session ID unknown"; the transport lingers for pingTimeout at most (Polling::handle_get).
    void remove(const std::string& sid, std::shared_ptr<Polling> lingering = nullptr) {
        {
            std::lock_guard<std::mutex> lk(mu_);
            if (!clients_.erase(sid) || !lingering) return;
            lingering_[sid] = std::move(lingering);
        }
        timers_.after(options_.pingTimeout, [this, sid] {  // the timer thread runs no user code: only this
            std::lock_guard<std::mutex> lk2(mu_);
            lingering_.erase(sid);
        });
    }
    std::shared_ptr<Polling> find_lingering(const std::string& sid) const {
        std::lock_guard<std::mutex> lk(mu_);
        auto it = lingering_.find(sid);
        return it == lingering_.end() ? nullptr : it->second;
    }
    // The revision a request speaks, by its EIO= (the one place that reads it): "4" is v4; anything else is v3, as
    // in the reference, and null unless allowEIO3 lets it in.
    const Codec* choose_codec(const httplib::Request& req) const {
        if (req.get_param_value("EIO") == "4") return &v4::codec;
        return options_.allowEIO3 ? &v3::codec : nullptr;
    }
    std::shared_ptr<Polling> make_polling(const httplib::Request& req, const std::string& sid,
                                          const Codec& codec) const {
        return std::make_shared<Polling>(
            EngineKey{}, PollingSettings{sid, &codec, !req.get_param_value("b64").empty(), options_.maxHttpBufferSize,
                                         options_.httpCompression});
    }
    // `b64`: the request asked for base64 binary (?b64=1, a client without binary frames).
    std::shared_ptr<WebSocket> make_websocket(int fd, std::shared_ptr<detail::TlsSession> tls, const Codec& codec,
                                              bool b64) {
        return std::make_shared<WebSocket>(EngineKey{}, fd, options_.maxHttpBufferSize, options_.maxBufferedBytes,
                                           timers_, flusher_, std::move(tls), codec, b64);
    }
    // A WebSocket's 101 in `response` (false: refused). `initial`: it opens a session (no sid).
    inline bool websocket_handshake(const httplib::Request& req, httplib::Response& res, std::string& response,
                                    bool initial);
    // `status`: an HTTP status other than the code's (0: the code's own).
    inline void refuse(const httplib::Request& req, httplib::Response& res, ErrorCode code,
                       const std::string& message = {}, int status = 0);
    // The headers of an answer, `extra` and what on_initial_headers (`initial`) and on_headers make of them.
    inline httplib::Headers answer_headers(const httplib::Request& req, httplib::Headers extra, bool initial);
    // The same put on a polling answer that went well (a refusal keeps its own).
    void add_answer_headers(const httplib::Request& req, httplib::Response& res, httplib::Headers extra, bool initial) {
        if (res.status != -1 && (res.status < 200 || res.status >= 300)) return;
        if (extra.empty() && !on_headers_ && !(initial && on_initial_headers_)) return;
        for (auto& h : answer_headers(req, std::move(extra), initial)) res.set_header(h.first, h.second);
    }
    // allowRequest, either form (EngineOptions::allowRequest); false: refused with `message`.
    inline bool allow_request(const httplib::Request& req, std::string& message);
    inline void dispatch(const httplib::Request& req, httplib::Response& res, HttpExchange& http, bool& body_consumed);
    bool transport_enabled(const std::string& name) const {
        return std::find(options_.transports.begin(), options_.transports.end(), name) != options_.transports.end();
    }

    EngineOptions options_;
    ConnectionHandler on_connection_;
    HeadersHandler on_initial_headers_, on_headers_;
    mutable std::mutex mu_;
    std::unordered_map<std::string, std::shared_ptr<Socket>> clients_;
    std::unordered_map<std::string, std::shared_ptr<Polling>> lingering_;  // closed by the client: see remove()
    std::recursive_mutex handler_mu_;
    std::atomic<bool> stopping_{false};
    int stop_fd_ = -1;
    Traffic traffic_;
    std::vector<std::function<void(Socket&)>> upgrade_listeners_;  // under mu_
    std::function<void(const ConnectionError&)> on_connection_error_;
    std::array<std::atomic<uint64_t>, 6> refused_{};               // per ErrorCode
    detail::AddressCounts address_counts_;                         // maxConnectionsPerAddress
    std::unique_ptr<detail::HandshakeBuckets> handshake_buckets_;  // handshakeRateLimit (null: off)
    // Before the timers, so that it goes after them: a timer callback may still be handing it a task.
    detail::TaskThread handler_thread_;  // runs what timer callbacks and add-on threads hand over (post_handler)
    detail::Timers timers_;
    detail::Flusher flusher_;  // writes what back-pressured WebSockets could not send at once
};

// ---- the session: sending (engine.io's writeBuffer and flush) -------------------------------------------------------

inline void Socket::trace_packet(const char* direction, const Packet& p, const char* transport) const {
    std::string what = p.binary ? "binary message (" + std::to_string(p.data.size()) + " bytes)"
                                : std::string(packet_type_name(p.type)) + " " + detail::printable(encode_packet(p));
    detail::trace(id_, transport, direction, what);
}

inline bool Socket::flush_locked() {
    if (write_buffer_.empty()) return true;
    if (!transport_->send(write_buffer_.data(), write_buffer_.size())) return !transport_->failed();  // see send()
    write_buffer_.clear();
    if (write_buffer_.capacity() > 64) std::vector<OutgoingPtr>().swap(write_buffer_);  // a back-up's is not kept
    buffered_bytes_ = 0;
    return true;
}

inline bool Socket::send_all(const OutgoingPtr* packets, size_t count, bool only_if_writable, bool hand_close_over) {
    bool sent = false;
    if (!write_or_fail(packets, count, only_if_writable, sent)) {
        engine_.traffic().sendFailures.fetch_add(1, std::memory_order_relaxed);
        const char* why = "the client does not read fast enough, or its connection broke";
        if (hand_close_over) close_from_timer(reason::TransportError, why);
        else close_with(reason::TransportError, why);
    }
    return sent;
}

inline bool Socket::write_or_fail(const OutgoingPtr* packets, size_t count, bool only_if_writable, bool& sent) {
    std::unique_lock<std::mutex> lk(mu_);
    if (state_ != ReadyState::Open) return true;
    if (only_if_writable && !leaves_at_once_locked()) return true;
    const bool counting = engine_.traffic().counting();
    for (size_t i = 0; i < count; ++i) {
        const Packet& p = packets[i]->packet;
        if (detail::trace_enabled()) trace_packet("->", p, transport_->name());
        if (counting) engine_.traffic().count_out(p.data.size());
        buffered_bytes_ += p.data.size() + 2;
    }
    bool ok = true, buffer = !write_buffer_.empty();  // what waits goes first
    if (!buffer) {
        if (transport_->send(packets, count)) buffered_bytes_ = 0;  // the common case: straight to the transport
        else if (transport_->failed()) ok = false;                  // see Transport::send
        else buffer = true;                                         // not now: a polling session between two GETs
    }
    if (buffer) {
        write_buffer_.insert(write_buffer_.end(), packets, packets + count);
        ok = buffered_bytes_ <= engine_.options().maxBufferedBytes;
    }
    sent = ok;
    return ok;
}

inline bool Socket::writable() const {
    std::lock_guard<std::mutex> lk(mu_);
    return state_ == ReadyState::Open && leaves_at_once_locked();
}

// A transport can take packets again (a GET came): what waits goes (while upgrading, a GET with nothing to take
// waits for the upgrade's check); a session that is closing and has nothing left closes its transport.
inline void Socket::handle_drain(Transport& t) {
    bool close_now = false, failed = false;
    {
        std::lock_guard<std::mutex> lk(mu_);
        if (&t != transport_.get() || state_ == ReadyState::Closed) return;
        if (!write_buffer_.empty()) failed = !flush_locked();
        close_now = state_ == ReadyState::Closing;  // drained: the transport tells the client
    }
    if (failed) return close_with(reason::TransportError, "write failed");
    if (close_now) t.close();
}

// ---- the session: heartbeat (engine.io-protocol v4, "Heartbeat") ----------------------------------------------------
// The server pings every pingInterval; a pong must come within pingTimeout, or the session ends with "ping timeout".
// The codec says which way round (2h): in v3 the client pings, the server answers each ping with a pong, and a
// client that has not pinged for pingInterval + pingTimeout is gone.

inline void Socket::handle_open() {
    std::lock_guard<std::mutex> lk(mu_);
    if (codec_.server_pings) schedule_ping();
    else expect_client_ping();
}

// Waits (again) for the client's next ping. With mu_ held.
inline void Socket::expect_client_ping() {
    engine_.timers().cancel(ping_timeout_timer_);
    std::weak_ptr<Socket> weak = shared_from_this();
    const EngineOptions& o = engine_.options();
    ping_timeout_timer_ = engine_.timers().after(codec_.heartbeat_timeout(o.pingInterval, o.pingTimeout), [weak] {
        if (auto s = weak.lock()) s->close_from_timer(reason::PingTimeout);
    });
}

inline void Socket::schedule_ping() {  // with mu_ held
    std::weak_ptr<Socket> weak = shared_from_this();
    ping_timer_ = engine_.timers().after(engine_.options().pingInterval, [weak] {
        auto self = weak.lock();
        if (!self) return;
        {
            std::lock_guard<std::mutex> lk(self->mu_);
            if (self->state_ != ReadyState::Open) return;
            const EngineOptions& o = self->engine_.options();
            const int timeout = self->codec_.heartbeat_timeout(o.pingInterval, o.pingTimeout);
            self->ping_timeout_timer_ = self->engine_.timers().after(timeout, [weak] {
                if (auto s = weak.lock()) s->close_from_timer(reason::PingTimeout);
            });
        }
        auto ping = make_outgoing(PacketType::Ping);
        bool sent;
        if (!self->write_or_fail(&ping, 1, false, sent))
            self->close_from_timer(reason::TransportError,
                                   "the client does not read fast enough, or its connection broke");
    });
}

// ---- the session: receiving -----------------------------------------------------------------------------------------

inline void Socket::handle_packet(Transport& t, Packet& packet) {
    bool probe;  // only the probe's own thread turns it into the transport (complete_upgrade)
    {
        std::lock_guard<std::mutex> lk(mu_);
        if (&t == transport_.get()) {
            if (state_ != ReadyState::Open) return;  // as the reference: packets of a closing session are dropped
            probe = false;
        } else if (&t == probe_.get()) {
            if (state_ == ReadyState::Closed) return;  // a closing session still upgrades (complete_upgrade)
            probe = true;
        } else {
            return;  // the old polling transport after an upgrade
        }
    }
    if (probe) return handle_probe_packet(t, packet);
    if (detail::trace_enabled()) trace_packet("<-", packet, t.name());
    if (engine_.traffic().counting()) engine_.traffic().count_in(packet.data.size());
    switch (packet.type) {
    case PacketType::Pong: {
        if (codec_.client_heartbeat() != PacketType::Pong)
            return close_with(reason::TransportError, "invalid heartbeat direction");
        std::lock_guard<std::mutex> lk(mu_);
        if (state_ != ReadyState::Open) return;
        engine_.timers().cancel(ping_timeout_timer_);
        engine_.timers().cancel(ping_timer_);
        ping_timeout_timer_ = 0;
        schedule_ping();
        return;
    }
    case PacketType::Message: {
        MessageHandler handler;
        InputLimit* limit;
        {
            std::lock_guard<std::mutex> lk(mu_);
            if (state_ != ReadyState::Open) return;
            handler = on_message_;
            limit = input_limit_.get();
        }
        if (handler) engine_.run_handler([&] { handler(packet); });
        if (limit) pace_input(*limit);
        return;
    }
    case PacketType::Close: return close_with(reason::TransportClose, "close packet from the client");
    case PacketType::Ping: {
        if (codec_.client_heartbeat() != PacketType::Ping)
            return close_with(reason::TransportError, "invalid heartbeat direction");
        {
            std::lock_guard<std::mutex> lk(mu_);
            if (state_ != ReadyState::Open) return;
            expect_client_ping();
        }
        send(make_outgoing(PacketType::Pong));
        return;
    }
    default: return;  // open, upgrade and noop mean nothing here
    }
}

// ---- the session: an input rate limit (limit_input) -----------------------------------------------------------------

struct Socket::InputLimit {
    using Clock = detail::TokenBucket::Clock;
    InputLimit(const RateLimit& limit, int max_throttled_ms, std::function<void()> over)
        : bucket(limit, Clock::now()), max_throttled(std::max(max_throttled_ms, 0)), over_limit(std::move(over)) {}
    std::mutex mu;  // a leaf (after eio::Socket::mu_)
    std::condition_variable cv;
    detail::TokenBucket bucket;
    Clock::time_point held_since{};  // the start of the wait that has had no break since; {}: not held back
    bool closed = false;             // the session closed: a waiting thread goes on at once
    const std::chrono::milliseconds max_throttled;
    const std::function<void()> over_limit;
};

inline void Socket::limit_input(const RateLimit& limit, int max_throttled_ms, std::function<void()> over_limit) {
    std::lock_guard<std::mutex> lk(mu_);
    input_limit_ = std::make_unique<InputLimit>(limit, max_throttled_ms, std::move(over_limit));
}

inline void Socket::charge_input(double tokens) {
    InputLimit* limit;
    {
        std::lock_guard<std::mutex> lk(mu_);
        limit = input_limit_.get();
    }
    if (!limit) return;
    std::lock_guard<std::mutex> lk(limit->mu);
    limit->bucket.spend(tokens, InputLimit::Clock::now());
}

inline void Socket::pace_input(InputLimit& limit) {
    using Clock = InputLimit::Clock;
    std::unique_lock<std::mutex> lk(limit.mu);
    const auto start = Clock::now();
    const auto debt = limit.bucket.time_to_repay(start);
    if (debt == Clock::duration::zero()) {
        limit.held_since = {};  // a break: the client keeps to the limit again
        return;
    }
    if (limit.held_since == Clock::time_point{}) limit.held_since = start;
    const auto give_up = limit.held_since + limit.max_throttled;
    lk.unlock();
    detail::SendBatch::let_go();  // what this thread's handlers sent leaves now, not after the wait
    lk.lock();
    limit.cv.wait_until(lk, std::min(start + debt, give_up), [&] { return limit.closed; });
    engine_.traffic().throttledNanos.fetch_add(
        uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count()),
        std::memory_order_relaxed);
    if (limit.closed || start + debt < give_up) return;
    lk.unlock();
    engine_.traffic().rateLimited.fetch_add(1, std::memory_order_relaxed);
    if (detail::trace_enabled()) detail::trace(id_, transport().c_str(), "<-", "input rate limit: held back too long");
    if (limit.over_limit) limit.over_limit();
    else close_with(reason::TransportError, "input rate limit");
}

// The current transport ended (the session with it), or a probe did (the upgrade failed: polling goes on).
inline void Socket::handle_transport_close(Transport& t, const char* why, const std::string& description) {
    TransportPtr failed_probe;
    {
        std::lock_guard<std::mutex> lk(mu_);
        if (&t == probe_.get()) {
            failed_probe = std::move(probe_);
            probe_answered_ = false;
            engine_.timers().cancel(upgrade_timer_);
            engine_.timers().cancel(upgrade_check_timer_);
        } else if (&t != transport_.get()) {
            return;  // the old polling transport after an upgrade
        }
    }
    if (!failed_probe) return close_with(why, description);
    if (detail::trace_enabled()) detail::trace(id_, "websocket", "--", std::string("probe failed: ") + why);
    failed_probe->close();
}

// ---- the session: WebSocket, directly or as an upgrade (engine.io-protocol v4, "Upgrade") ---------------------------
// A polling session upgrades like this: the client opens a WebSocket with the session's sid and sends "2probe"; the
// server answers "3probe" on it, and its check releases the pending GET with a "6" noop within 100 ms; the client,
// its polling paused, sends "5" on the WebSocket; from then on every packet — starting with whatever the writeBuffer
// still holds — goes over it.
// A GET and the WebSocket's "5" come on two connections, read by two threads: which one the server sees first is
// chance. The rule: a GET still waiting when the upgrade completes (or coming after) is answered 400 "Bad request",
// as one that came after the upgrade. A client that pauses polling (every engine.io client) sends "5" only once its
// GET was answered, so a GET waiting then was sent with or after the "5"; the reference, which reads bytes in the
// order they came, answers such a GET 400 too. A GET that comes while the probe is pending, or after a failed
// upgrade, is served as ever.

inline bool Socket::maybe_upgrade(const TransportPtr& probe) {
    std::lock_guard<std::mutex> lk(mu_);
    if (state_ != ReadyState::Open || !can_upgrade_ || probe_ || upgraded_) return false;
    probe_ = probe;
    probe_answered_ = false;
    probe->attach(shared_from_this());
    std::weak_ptr<Socket> weak = shared_from_this();
    std::weak_ptr<Transport> weak_probe = probe;
    upgrade_timer_ = engine_.timers().after(engine_.options().upgradeTimeout, [weak, weak_probe] {
        auto self = weak.lock();
        auto late = weak_probe.lock();
        if (!self || !late) return;
        {
            std::lock_guard<std::mutex> lk2(self->mu_);
            if (self->probe_ != late) return;
            self->probe_.reset();  // before it is closed: a "5" that comes meanwhile upgrades nothing
            self->probe_answered_ = false;
            self->engine_.timers().cancel(self->upgrade_check_timer_);
        }
        if (detail::trace_enabled()) detail::trace(self->id_, late->name(), "--", "upgrade timeout");
        late->close();  // the probe ends; the session goes on polling
    });
    return true;
}

inline void Socket::handle_probe_packet(Transport& probe, const Packet& packet) {
    if (detail::trace_enabled()) trace_packet("<-", packet, "websocket");
    if (packet.type == PacketType::Ping && packet.data == "probe") {
        auto pong = make_outgoing(PacketType::Pong, "probe");
        if (detail::trace_enabled()) trace_packet("->", pong->packet, "websocket");
        probe.send(&pong, 1);
        std::lock_guard<std::mutex> lk(mu_);
        if (probe_.get() != &probe) return;
        probe_answered_ = true;
        engine_.timers().cancel(upgrade_check_timer_);  // a second probe starts the check again, as the reference
        schedule_upgrade_check();
        return;
    }
    if (packet.type == PacketType::Upgrade) return complete_upgrade(probe);
    handle_transport_close(probe, reason::TransportError, "unexpected packet on a probe");  // ends the probe only
}

// engine.io's check: every 100 ms from the probe's answer until the upgrade ends, a GET that waits is released
// with a noop, so that the client, which pauses polling before it sends "5", is not kept waiting. The GET is not
// released at once with "3probe": as with the reference, a client sees nothing more in those 100 ms. With mu_ held;
// the timer thread only writes a noop (no user code).
inline void Socket::schedule_upgrade_check() {
    std::weak_ptr<Socket> weak = shared_from_this();
    upgrade_check_timer_ = engine_.timers().after(100, [weak] {
        auto self = weak.lock();
        if (!self) return;
        std::lock_guard<std::mutex> lk(self->mu_);
        if (!self->probe_answered_ || self->state_ == ReadyState::Closed) return;
        if (self->write_buffer_.empty() && self->transport_->writable()) {
            auto noop = make_outgoing(PacketType::Noop);
            self->transport_->send(&noop, 1);
        }
        self->schedule_upgrade_check();
    });
}

inline void Socket::complete_upgrade(Transport& probe) {
    bool ok, closing;
    TransportPtr polling;
    std::function<void()> handler;
    {
        std::lock_guard<std::mutex> lk(mu_);
        // A session closed by the server during the upgrade (Closing) still upgrades: what it queued for the
        // client (say a Socket.IO DISCONNECT) goes over the WebSocket — polling is paused — and then it closes.
        if (state_ == ReadyState::Closed || probe_.get() != &probe) return;
        closing = state_ == ReadyState::Closing;
        engine_.timers().cancel(upgrade_timer_);
        engine_.timers().cancel(upgrade_check_timer_);
        polling = std::move(transport_);
        transport_ = std::move(probe_);
        upgraded_ = true;
        probe_answered_ = false;
        ok = flush_locked();  // in order, before anything sent later
        handler = on_upgrade_;
    }
    polling->discard();
    if (detail::trace_enabled()) detail::trace(id_, "websocket", "--", "upgraded from polling");
    if (!ok) return close_with(reason::TransportError, "write failed during the upgrade");
    if (closing) return close_with(reason::ForcedClose);
    engine_.traffic().upgrades.fetch_add(1, std::memory_order_relaxed);
    if (handler) engine_.run_handler(handler);
    engine_.upgraded(*this);
}

// ---- the session: closing -------------------------------------------------------------------------------------------

inline void Socket::close() {
    TransportPtr t;
    {
        std::lock_guard<std::mutex> lk(mu_);
        if (state_ != ReadyState::Open) return;
        // The writeBuffer goes first (polling: with the next GET), then the transport is closed; it reports the
        // close done (handle_transport_close, ForcedClose) once the client was told. Don't wait forever for that.
        state_ = ReadyState::Closing;
        engine_.timers().cancel(ping_timer_);
        engine_.timers().cancel(ping_timeout_timer_);
        std::weak_ptr<Socket> weak = shared_from_this();
        closing_timer_ = engine_.timers().after(engine_.options().pingTimeout, [weak] {
            if (auto self = weak.lock()) self->close_from_timer(reason::ForcedClose);
        });
        if (write_buffer_.empty()) t = transport_;  // else handle_drain() closes it once the buffer is out
    }
    if (t) t->close();
}

inline void Socket::close_with(const char* why, const std::string& description) {
    if (auto handler = close_now(why, description)) engine_.run_handler([&] { handler(why, description); });
}

inline Socket::CloseHandler Socket::close_now(const char* why, const std::string& description) {
    TransportPtr t, probe;
    CloseHandler handler;
    // Out of the engine's map before a waiting GET is released: the client's next request must find the session
    // gone (400 "Session ID unknown"), not closed but still there. A polling transport the client closed lingers
    // there for the GET it may have sent with its close (Engine::remove).
    std::shared_ptr<Polling> lingering = polling();
    if (lingering && !lingering->closed_by_client()) lingering.reset();
    engine_.remove(id_, std::move(lingering));
    {
        std::lock_guard<std::mutex> lk(mu_);
        if (state_ == ReadyState::Closed) return nullptr;
        state_ = ReadyState::Closed;
        for (auto id : {ping_timer_, ping_timeout_timer_, upgrade_timer_, closing_timer_, upgrade_check_timer_})
            engine_.timers().cancel(id);
        t = transport_;  // what the writeBuffer still holds is dropped, as by the reference: nobody waits for it
        probe = std::move(probe_);
        handler = std::move(on_close_);
        on_message_ = nullptr;
        on_upgrade_ = nullptr;
        address_slot_.release();
        if (input_limit_) {
            std::lock_guard<std::mutex> lk2(input_limit_->mu);
            input_limit_->closed = true;
            input_limit_->cv.notify_all();
        }
    }
    engine_.traffic().count_close(why);
    t->close();
    if (probe) probe->close();
    if (detail::trace_enabled())
        detail::trace(id_, t->name(), "--",
                      std::string("closed: ") + why + (description.empty() ? "" : " (" + description + ")"));
    return handler;
}

inline void Socket::close_from_timer(const char* why, std::string description) {
    auto handler = close_now(why, description);
    if (!handler) return;
    // The session (what the handler is told about) stays alive until the handler ran.
    engine_.post_handler([self = shared_from_this(), handler = std::move(handler), why,
                          description = std::move(description)] { handler(why, description); });
}

inline void Engine::upgraded(Socket& s) {
    std::vector<std::function<void(Socket&)>> listeners;
    {
        std::lock_guard<std::mutex> lk(mu_);
        if (upgrade_listeners_.empty()) return;
        listeners = upgrade_listeners_;
    }
    run_handler([&] {
        for (auto& l : listeners) l(s);
    });
}

// ---- the engine: requests -------------------------------------------------------------------------------------------

inline std::shared_ptr<Socket> Engine::open_session(std::string sid, httplib::Request req, TransportPtr transport,
                                                    const Codec& codec, bool secure) {
    std::string address = client_address(req);  // before req is moved from
    return open(std::move(sid), std::move(req), std::move(transport), codec, secure, std::move(address), {});
}

inline std::shared_ptr<Socket> Engine::open(std::string sid, httplib::Request req, TransportPtr transport,
                                            const Codec& codec, bool secure, std::string address,
                                            detail::AddressCounts::Slot slot) {
    const bool websocket = std::strcmp(transport->name(), "websocket") == 0;
    auto s = std::make_shared<Socket>(EngineKey{}, *this, std::move(sid), std::move(req), std::move(transport), codec,
                                      secure);
    s->address_ = std::move(address);
    s->address_slot_ = std::move(slot);
    s->transport_->attach(s);  // before the session is in the table, where another thread may close it
    bool late;                 // shutdown() began after this handshake was let in: it may have missed the session
    {
        std::lock_guard<std::mutex> lk(mu_);
        clients_[s->id()] = s;
        late = stopping_;
    }
    picojson::array upgrades;
    if (!websocket && options_.allowUpgrades && transport_enabled("websocket"))
        upgrades.push_back(picojson::value("websocket"));
    picojson::object open;
    open["sid"] = picojson::value(s->id());
    open["upgrades"] = picojson::value(upgrades);
    open["pingInterval"] = picojson::value(double(options_.pingInterval));
    open["pingTimeout"] = picojson::value(double(options_.pingTimeout));
    open["maxPayload"] = picojson::value(double(options_.maxHttpBufferSize));
    s->send(make_outgoing(PacketType::Open, picojson::value(open).serialize()));
    s->handle_open();
    traffic_.connections.fetch_add(1, std::memory_order_relaxed);
    if (on_connection_) run_handler([&] { on_connection_(s); });
    if (late) s->close_with(reason::ServerShuttingDown);
    return s;
}

inline bool Engine::websocket_handshake(const httplib::Request& req, httplib::Response& res, std::string& response,
                                        bool initial) {
    using detail::lowercase;
    std::string key = req.get_header_value("Sec-WebSocket-Key"), decoded;
    bool ok = req.method == "GET" && lowercase(req.get_header_value("Upgrade")) == "websocket" &&
              lowercase(req.get_header_value("Connection")).find("upgrade") != std::string::npos &&
              req.get_header_value("Sec-WebSocket-Version") == "13" && base64::decode(key, decoded) &&
              decoded.size() == 16;
    if (!ok) {
        refuse(req, res, ErrorCode::BadRequest);
        return false;
    }
    response =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: " +
        ws::accept_key(key) + "\r\n";
    // The "initial_headers" / "headers" events' headers go into the 101 as they are; a name or value that would
    // break the answer (a line break, a NUL, an empty name) is left out, as httplib's set_header does.
    if (on_headers_ || (initial && on_initial_headers_)) {
        auto bad = [](const std::string& text) {
            return text.find_first_of(std::string("\r\n\0", 3)) != std::string::npos;
        };
        for (auto& h : answer_headers(req, {}, initial))
            if (!h.first.empty() && !bad(h.first) && !bad(h.second) && h.first.find(':') == std::string::npos)
                response += h.first + ": " + h.second + "\r\n";
    }
    response += "\r\n";
    return true;
}

inline httplib::Headers Engine::answer_headers(const httplib::Request& req, httplib::Headers extra, bool initial) {
    if (initial && on_initial_headers_) run_handler([&] { on_initial_headers_(extra, req); });
    if (on_headers_) run_handler([&] { on_headers_(extra, req); });
    return extra;
}

inline bool Engine::allow_request(const httplib::Request& req, std::string& message) {
    const AllowRequest& allow = options_.allowRequest;
    bool allowed = false;
    if (allow.sync()) {
        run_handler([&] { allowed = allow.sync()(req, message); });
        return allowed;
    }
    // The asynchronous form: the answer may come from any thread, now or later, once; this thread waits for it
    // without a lock held (not the handler lock either: run_handler has returned). One that comes too late is
    // dropped: the shared state outlives this call.
    struct Answer {
        std::mutex mu;
        std::condition_variable cv;
        bool done = false, success = false;
        std::string message;
    };
    auto answer = std::make_shared<Answer>();
    AllowCallback done = [answer](const std::string& why, bool success) {
        std::lock_guard<std::mutex> lk(answer->mu);
        if (answer->done) return;
        answer->done = true;
        answer->success = success;
        answer->message = why;
        answer->cv.notify_all();
    };
    run_handler([&] { allow.async()(req, done); });
    // It looks at stopping_ every 100 ms too, so that a close() is not kept waiting for the time-out.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.allowRequestTimeout);
    std::unique_lock<std::mutex> lk(answer->mu);
    while (!answer->done && !stopping_) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) break;
        answer->cv.wait_until(lk, std::min(deadline, now + std::chrono::milliseconds(100)));
    }
    if (!answer->done) {
        answer->done = true;  // a later call finds it answered
        message = stopping_ ? "Server shutting down" : "allowRequest timed out";
        return false;
    }
    message = answer->message;
    return answer->success;
}

inline bool Engine::admit(const httplib::Request& req, httplib::Response& res, const std::string& address,
                          detail::AddressCounts::Slot& slot) {
    if (!handshake_buckets_ && !options_.maxConnectionsPerAddress) return true;
    if (handshake_buckets_ && !handshake_buckets_->try_take(address)) {
        traffic_.refusedHandshakeRate.fetch_add(1, std::memory_order_relaxed);
        refuse(req, res, ErrorCode::BadRequest, "Too many handshakes from this address", 429);
        return false;
    }
    if (!options_.maxConnectionsPerAddress) return true;
    auto taken = address_counts_.acquire(address, options_.maxConnectionsPerAddress);
    if (!taken) {
        traffic_.refusedPerAddress.fetch_add(1, std::memory_order_relaxed);
        refuse(req, res, ErrorCode::BadRequest, "Too many connections from this address", 503);
        return false;
    }
    slot = std::move(*taken);
    return true;
}

// A request refused before it reached a session: answered, counted, and told to on_connection_error. The handler
// runs with no lock held (dispatch holds none).
inline void Engine::refuse(const httplib::Request& req, httplib::Response& res, ErrorCode code,
                           const std::string& message, int status) {
    abort_request(res, code, message);
    if (status) res.status = status;
    refused_[size_t(code)].fetch_add(1, std::memory_order_relaxed);
    if (on_connection_error_) {
        ConnectionError e{req, code, message.empty() ? std::string(error_message(code)) : message};
        run_handler([&] { on_connection_error_(e); });
    }
}

// Every request under the Engine.IO path lands here (CORS headers are already on `res`). Only a POST to a polling
// session reads its body; when any other request comes with one, its connection is closed after the answer, or
// the unread body would be taken for the next request on it.
inline void Engine::handle(const httplib::Request& req, httplib::Response& res, HttpExchange& http) {
    bool body_consumed = false;
    dispatch(req, res, http, body_consumed);
    bool has_body = req.has_header("Transfer-Encoding") ||
                    (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0");
    if (has_body && !body_consumed) http.close_after_response();
}

inline void Engine::dispatch(const httplib::Request& req, httplib::Response& res, HttpExchange& http,
                             bool& body_consumed) {
    if (req.method == "OPTIONS") {  // a CORS preflight
        res.status = 204;
        return;
    }
    const std::string transport = req.get_param_value("transport");
    if ((transport != "polling" && transport != "websocket") || !transport_enabled(transport))
        return refuse(req, res, ErrorCode::UnknownTransport);
    const Codec* codec = choose_codec(req);
    if (!codec) return refuse(req, res, ErrorCode::UnsupportedProtocolVersion);
    const bool websocket_request = detail::lowercase(req.get_header_value("Upgrade")) == "websocket";

    if (req.has_param("sid")) {
        std::shared_ptr<Socket> s = find(req.get_param_value("sid"));
        if (!s && transport == "polling" && req.method == "GET" && !websocket_request)
            if (auto late = find_lingering(req.get_param_value("sid"))) return late->handle_get(req, res, http);
        if (!s) return refuse(req, res, ErrorCode::UnknownSid);
        if (&s->codec() != codec) return refuse(req, res, ErrorCode::BadRequest);  // as the reference: same EIO=
        if (websocket_request) {
            if (transport != "websocket" || !options_.allowUpgrades) return refuse(req, res, ErrorCode::BadRequest);
            std::string response;
            if (!websocket_handshake(req, res, response, false)) return;
            const bool b64 = !req.get_param_value("b64").empty();
            http.take_over(response, [this, s, codec, b64, tls = http.tls()](int fd, const std::string& leftover) {
                auto ws = make_websocket(fd, tls, *codec, b64);
                if (!s->maybe_upgrade(ws)) {
                    // A WebSocket for a session that cannot take it is accepted and then closed at once without a
                    // code, as the reference does (refusing it would be a client error event); nobody hears of it.
                    if (detail::trace_enabled())
                        detail::trace(s->id(), "websocket", "--", "not wanted for this sid: closed");
                    ws->close(ws::close_code::NoStatus);
                }
                ws->run(leftover);
            });
            return;
        }
        auto polling = s->polling();  // the request's transport must be the session's (not after an upgrade)
        if (transport != "polling" || !polling) return refuse(req, res, ErrorCode::BadRequest);
        if (req.method == "GET") {
            polling->handle_get(req, res, http);
            return add_answer_headers(req, res, {}, false);
        }
        if (req.method == "POST") {
            body_consumed = true;  // read, or its connection closed, by handle_post
            polling->handle_post(req, res, http);
            return add_answer_headers(req, res, {}, false);
        }
        return refuse(req, res, ErrorCode::BadRequest);
    }

    // A handshake.
    if (req.method != "GET") return refuse(req, res, ErrorCode::BadHandshakeMethod);
    if (transport == "websocket" && !websocket_request) return refuse(req, res, ErrorCode::BadRequest);
    if (stopping_) return refuse(req, res, ErrorCode::BadRequest, "Server shutting down");
    if (options_.maxConnections && clients_count() >= options_.maxConnections)
        return refuse(req, res, ErrorCode::BadRequest, "Too many connections", 503);
    // Found once: the limits count it, and the session keeps it (Socket::address()).
    std::string address = client_address(req);
    detail::AddressCounts::Slot slot;  // given back if the handshake goes no further
    if (!admit(req, res, address, slot)) return;
    if (options_.allowRequest) {
        std::string message;
        if (!allow_request(req, message)) return refuse(req, res, ErrorCode::Forbidden, message);
    }
    std::string sid = detail::random_id();
    if (transport == "polling") {
        auto polling = make_polling(req, sid, *codec);
        std::shared_ptr<Socket> s =
            open(std::move(sid), req, polling, *codec, http.tls() != nullptr, std::move(address), std::move(slot));
        httplib::Headers extra;
        if (options_.cookie) extra.emplace("Set-Cookie", session_cookie(*options_.cookie, s->id()));
        polling->handle_get(req, res, http);
        return add_answer_headers(req, res, std::move(extra), true);
    }
    std::string response;
    if (!websocket_handshake(req, res, response, true)) return;
    // The request is copied once, into the session; the function lives as long as the connection, so it holds only
    // a pointer to that copy and lets it go once the session has it.
    auto copy = std::make_shared<httplib::Request>(req);
    // The slot goes with the function: a connection that ends before it runs gives its place back.
    auto held = std::make_shared<detail::AddressCounts::Slot>(std::move(slot));
    http.more_follows();  // the open packet (open_session) goes right after the 101, in the same segment
    auto run = [this, sid, address = std::move(address), copy, held, codec, tls = http.tls()](
                   int fd, const std::string& leftover) mutable {
        const bool secure = tls != nullptr;
        auto ws = make_websocket(fd, std::move(tls), *codec, !copy->get_param_value("b64").empty());
        std::shared_ptr<Socket> s = open(std::move(sid), std::move(*copy), ws, *codec, secure, std::move(address),
                                         std::move(*held));  // held while it runs
        copy.reset();
        ws->run(leftover);
    };
    http.take_over(response, std::move(run));
}

}  // namespace eio

namespace detail {
// The Engine's parts that are not API but that the layers above it use: its timer thread (Socket.IO's ack, connect
// and recovery timers; ext::post_after), its handler thread and its stop descriptor (layer 6's connection threads).
struct EngineAccess {
    static Timers& timers(eio::Engine& engine) { return engine.timers(); }
    static TaskThread& handler_thread(eio::Engine& engine) { return engine.handler_thread_; }
    static int stop_fd(const eio::Engine& engine) { return engine.stop_fd(); }
};
}  // namespace detail

// ---- 4, continued. The extension surface: what an add-on may rely on besides the public API -----------------------
// An add-on (a cluster adapter, the admin UI, metrics) uses the public API, Adapter's protected members (layer 5a)
// and this namespace, never detail: these names stay as they are while detail changes. A need beyond them grows
// this set on purpose, with a test. What they wrap is named beside each, for the reader of this file.
namespace ext {

// JSON text to a picojson value, nested at most 64 deep (deeper input is refused, not recursed into). Returns
// where parsing stopped; `error` is empty on success. (detail::parse_json)
inline const char* parse_json(picojson::value& out, const char* first, const char* last, std::string& error) {
    return detail::parse_json(out, first, last, error);
}

// While one is alive on a thread, what that thread sends is gathered and written once per recipient when the
// outermost one ends: for a thread of an add-on that delivers many messages at a time (a Redis reader after one
// read). Nested batches are one. (detail::SendBatch)
class SendBatch {
public:
    SendBatch() = default;
    SendBatch(const SendBatch&) = delete;
    SendBatch& operator=(const SendBatch&) = delete;

private:
    detail::SendBatch batch_;
};

// False on a thread that must not wait for the server's threads to end: a handler, a connection thread, the timer
// or handler thread. An add-on's stop() joins its own threads only when this is true; otherwise it only asks them
// to stop (its destructor joins them). (detail::may_join_server_threads)
inline bool may_join_threads() { return detail::may_join_server_threads(); }

// A pending post_after(): 0 is none.
using TimerId = detail::Timers::Id;

// Runs `fn` as a handler (Engine::run_handler: the handler lock, serializeHandlers) on the engine's handler thread,
// after everything posted before it. The way for an add-on's own thread to run user code; nothing runs once the
// server has stopped.
inline void post(eio::Engine& engine, std::function<void()> fn) { engine.post_handler(std::move(fn)); }

// The same, `ms` from now: the engine's timer thread only hands `fn` over, so that it runs no add-on code.
inline TimerId post_after(eio::Engine& engine, int ms, std::function<void()> fn) {
    return detail::EngineAccess::timers(engine).after(
        ms, [&engine, fn = std::move(fn)]() mutable { engine.post_handler(std::move(fn)); });
}

// Forgets a post_after() that has not been handed over yet (harmless when it has, or for 0).
inline void cancel(eio::Engine& engine, TimerId id) { detail::EngineAccess::timers(engine).cancel(id); }

}  // namespace ext

// =====================================================================================================================
// 5. SOCKET.IO — npm `socket.io` on top of the Engine.IO session: a Client per Engine.IO session multiplexes
//    namespaces; each connected namespace is a Socket; the Adapter is the global room map; a BroadcastOperator
//    picks recipients (to / in / except) and encodes a packet once for all of them.
//
// THE PATH OF ONE EVENT: `42["chat message","hi"]` in on a WebSocket, then `io.emit` of it out to everyone.
//   detail::HttpServer::serve_keep_alive  (6e) the connection's thread: after the 101, ConnStream::run_takeover runs
//                                              the lambda eio::Engine::dispatch left with take_over()
//   eio::WebSocket::run, loop, receive    (3c) opens a SendBatch, handles the frames parsed, then sleeps in recv();
//                                              drain_parser gives one ws::Message per data message (text or
//                                              binary, fragments joined)
//   eio::WebSocket::handle_ws_message     (3c) the codec (2h; v4: decode_packet): MESSAGE `2["chat message","hi"]`,
//                                              to its Receiver
//   eio::Socket::handle_packet            (4)  MESSAGE: the on_message handler, through Engine::run_handler; with
//                                              an eventRateLimit, then pace_input: the thread waits for its debt
//   sio::Client::handle_data              (5e) (Client::start registered it) the server's parser's decoder (JSON:
//                                              packet::decode): EVENT, nsp "/", data
//   sio::Client::handle_decoded           (5e) the Socket of that namespace
//   sio::Socket::handle_event, ::dispatch (5c) the "chat message" listeners, called with an Event (args, ack)
//   Server::emit, Namespace::emit         (5f, 5d) the user's handler broadcasts it: a BroadcastOperator to all
//   BroadcastOperator::emit_args          (5b) one packet::Packet, through each namespace's adapter
//   Adapter::broadcast                    (5a) select(rooms, except) (which takes the adapter's lock); detail::
//                                              to_outgoing encodes the frame once (eio::make_outgoing)
//   Adapter::send_to -> Client::send      (5a, 5e) each recipient's session gets the same encoded bytes
//   eio::Socket::send_all                 (4)  straight to the transport when nothing waits in the writeBuffer (it
//                                              does not ask writable()); into the writeBuffer when the transport
//                                              cannot take it now (polling between two GETs)
//   eio::WebSocket::send, write_locked    (3c) with a batch open, the bytes wait; the outermost ~SendBatch (here the
//                                              one receive() opened) calls end_batch -> flush_locked -> send_now:
//                                              one send(MSG_DONTWAIT) per socket; the rest waits for the Flusher
//   (On polling, a POST's thread goes through serve_keep_alive, the pre-routing handler, Engine::handle and
//   dispatch to Polling::handle_post (3b), which stands for the WebSocket::run/loop/receive and handle_ws_message
//   lines (it opens the SendBatch, decodes the payload, calls handle_packet); Polling::send fills the waiting
//   GET's answer, which Polling::handle_get writes.)
// =====================================================================================================================
class Server;
class Namespace;
class Socket;
class Client;
class RemoteSocket;
class Adapter;
class SessionAwareAdapter;
class BroadcastOperator;
class ParentNamespace;
namespace detail {
struct ServerState;
}  // namespace detail
using SocketPtr = std::shared_ptr<Socket>;

// Only the Server makes a Client, and a Namespace its Sockets (the unit tests too, through detail::TestAccess): the
// constructors are public for make_shared and take this key, which nobody else can make.
class ServerKey {
    ServerKey() {}  // user-provided: `ServerKey{}` is then no aggregate initialization that skips it
    friend class Server;
    friend class Namespace;
    friend struct detail::TestAccess;
};
using AckCallback = std::function<void(const Error& err, const Args& response)>;
using FetchCallback = std::function<void(const Error& err, std::vector<RemoteSocket> sockets)>;
using ListenerId = uint64_t;

// What a middleware passes to next() to refuse a connection; the client gets it in its connect_error event.
struct ConnectError {
    std::string message;
    Value data;
};

// One room or several: to("room"), to(name), to({"a", "b"}), to(vector_of_names).
struct Rooms {
    std::vector<std::string> names;
    Rooms(const char* room) : names{room} {}
    Rooms(std::string room) : names{std::move(room)} {}
    Rooms(std::initializer_list<std::string> rooms) : names(rooms) {}
    Rooms(std::vector<std::string> rooms) : names(std::move(rooms)) {}
};

// The `next` of a middleware: next() lets the connection go on, next(ConnectError{...}) refuses it.
class Next {
public:
    explicit Next(std::function<void(const ConnectError*)> fn) : fn_(std::move(fn)) {}
    void operator()() const { fn_(nullptr); }
    void operator()(const ConnectError& error) const { fn_(&error); }

private:
    std::function<void(const ConnectError*)> fn_;
};
using Middleware = std::function<void(Socket& socket, Next next)>;

// What the Socket.IO layer counts, for the metrics add-on (io.stats(); the Engine.IO layer's counts are
// io.engine().traffic()). Events are counted only while the traffic is watched (Traffic::watch), the rest always.
// Events emitted count each socket an event went to (a broadcast to 100 sockets: 100).
struct ServerStats {
    std::atomic<uint64_t> eventsReceived{0}, eventsEmitted{0};
    std::atomic<uint64_t> acksSent{0};     // answers to a client's emit with an ack
    std::atomic<uint64_t> ackTimeouts{0};  // emits of the server's (and broadcasts) whose ack did not come in time
    std::atomic<uint64_t> middlewareRefusals{0};  // CONNECTs a middleware refused (a CONNECT_ERROR)
    std::atomic<uint64_t> rateLimited{0};         // connections disconnected by Options::eventRateLimit
    void bump(std::atomic<uint64_t>& counter, uint64_t n = 1) { counter.fetch_add(n, std::memory_order_relaxed); }
};

// socket.handshake in JavaScript: the request that opened the connection, and the auth of the CONNECT packet.
struct Handshake {
    std::map<std::string, std::string> headers;  // names in lower case; repeated ones folded as Node does
    std::string time;                            // when the connection was made, as Date.toString() writes it
    std::string address;                         // the client's address
    bool xdomain = false;                        // the request came with an Origin header
    bool secure = false;                         // over TLS
    long long issued = 0;                        // milliseconds since the epoch
    std::string url;                             // path and query of the handshake request
    std::map<std::string, std::string> query;    // a key given twice: its last value (engine.io 6.6)
    Value auth;                                  // the CONNECT packet's payload ({} when none)
};

namespace detail {

// emit(event, a, b, ..., [ack]) — the arguments of an emit; an Args among them is spread; a callable last
// argument is the acknowledgement callback, taking (const Args&) or (const Error&, const Args&).
template <class T>
inline constexpr bool is_ack_callback_v =
    std::is_invocable_v<T, const Error&, const Args&> || std::is_invocable_v<T, const Args&>;

template <class T>
AckCallback to_ack_callback(T&& fn) {
    if constexpr (std::is_invocable_v<T, const Error&, const Args&>) return AckCallback(std::forward<T>(fn));
    else return [f = std::forward<T>(fn)](const Error&, const Args& response) mutable { f(response); };
}

inline void collect_args(Args&, AckCallback&) {}
template <class T, class... Rest>
void collect_args(Args& args, AckCallback& ack, T&& first, Rest&&... rest) {
    if constexpr (sizeof...(Rest) == 0 && is_ack_callback_v<T>) {
        ack = to_ack_callback(std::forward<T>(first));
    } else {
        if constexpr (std::is_same_v<std::decay_t<T>, Args>) args.insert(args.end(), first.begin(), first.end());
        else args.emplace_back(std::forward<T>(first));
        collect_args(args, ack, std::forward<Rest>(rest)...);
    }
}

}  // namespace detail

// ---- The parser (Node's `parser` option): Socket.IO packets to Engine.IO messages and back ------------------------
// opt.parser picks one for the whole server. A packet is encoded once, whatever the number of its recipients; each
// client gets a decoder of its own, which takes its messages one by one and gives whole packets.
class Parser {
public:
    virtual ~Parser() = default;
    // The Engine.IO messages that carry `p`, in order.
    virtual std::vector<eio::OutgoingPtr> encode(const packet::Packet& p) const = 0;
    class Decoder {
    public:
        enum class Result { Packet, More, Error };
        virtual ~Decoder() = default;
        // One message from the client. Packet: `out` is a whole packet; More: it waits for more messages; Error:
        // `error` says what is wrong (the client is then closed with "parse error").
        virtual Result add(const eio::Packet& m, packet::Packet& out, std::string& error) = 0;
    };
    // A client's decoder; `max_bytes`: what one packet's binary parts may take together (maxHttpBufferSize).
    virtual std::unique_ptr<Decoder> decoder(size_t max_bytes) const = 0;
};

// The default parser (npm socket.io-parser, 2f): a text message, then one binary message per attachment.
class JsonParser final : public Parser {
public:
    std::vector<eio::OutgoingPtr> encode(const packet::Packet& p) const override {
        auto encoded = packet::encode(p);
        std::vector<eio::OutgoingPtr> out;
        out.push_back(eio::make_outgoing(eio::PacketType::Message, std::move(encoded.text)));
        for (auto& a : encoded.attachments)
            out.push_back(eio::make_outgoing(eio::PacketType::Message, std::move(a), true));
        return out;
    }
    std::unique_ptr<Decoder> decoder(size_t max_bytes) const override {
        return std::make_unique<TextDecoder>(max_bytes);
    }

private:
    class TextDecoder final : public Decoder {
    public:
        explicit TextDecoder(size_t max_bytes) : max_bytes_(max_bytes) {}
        Result add(const eio::Packet& m, packet::Packet& out, std::string& error) override {
            auto fail = [&](std::string why) {
                error = std::move(why);
                return Result::Error;
            };
            if (m.binary) {
                if (!reconstructing_) return fail("binary data with no pending packet");
                attachment_bytes_ += m.data.size();
                if (attachment_bytes_ > max_bytes_) return fail("attachments larger than maxHttpBufferSize");
                attachments_.push_back(m.data);
                if (attachments_.size() < expected_attachments_) return Result::More;
                reconstructing_ = false;
                if (!packet::reconstruct(pending_, attachments_)) return fail("attachment count does not match");
                attachments_.clear();
                out = std::move(pending_);
                return Result::Packet;
            }
            if (reconstructing_) return fail("text packet while waiting for binary attachments");
            size_t attachments = 0;
            if (!packet::decode(m.data, out, attachments, error))
                return fail(error + ": " + detail::printable(m.data, 60));
            if (attachments > 0) {
                reconstructing_ = true;
                expected_attachments_ = attachments;
                pending_ = std::move(out);
                attachments_.clear();
                attachment_bytes_ = 0;
                return Result::More;
            }
            if ((out.type == packet::Type::BinaryEvent || out.type == packet::Type::BinaryAck) &&
                !packet::reconstruct(out, {}))
                return fail("attachment count does not match");
            return Result::Packet;
        }

    private:
        size_t max_bytes_;
        bool reconstructing_ = false;
        packet::Packet pending_;
        size_t expected_attachments_ = 0;
        std::vector<std::string> attachments_;
        size_t attachment_bytes_ = 0;  // a packet's attachments together may not exceed maxHttpBufferSize
    };
};

// npm socket.io-msgpack-parser's (2f, continued): one binary message per packet, binary data where it stands.
class MsgpackParser final : public Parser {
public:
    std::vector<eio::OutgoingPtr> encode(const packet::Packet& p) const override {
        return {eio::make_outgoing(eio::PacketType::Message, packet::msgpack::encode(p), true)};
    }
    std::unique_ptr<Decoder> decoder(size_t) const override { return std::make_unique<BinaryDecoder>(); }

private:
    class BinaryDecoder final : public Decoder {
    public:
        Result add(const eio::Packet& m, packet::Packet& out, std::string& error) override {
            if (!m.binary) return error = "a text message: the msgpack parser takes binary ones only", Result::Error;
            return packet::msgpack::decode(m.data, out, error) ? Result::Packet : Result::Error;
        }
    };
};

inline std::shared_ptr<const Parser> msgpack_parser() {
    static const auto parser = std::make_shared<const MsgpackParser>();
    return parser;
}

namespace detail {

inline const Parser& default_parser() {
    static const JsonParser parser;
    return parser;
}
inline const Parser& parser_of(const Options& options) { return options.parser ? *options.parser : default_parser(); }

// A Socket.IO packet as the Engine.IO messages that carry it, by the server's parser.
inline std::vector<eio::OutgoingPtr> to_outgoing(const Options& options, const packet::Packet& p) {
    return parser_of(options).encode(p);
}

inline packet::Packet event_packet(const std::string& nsp, const std::string& event, const Args& args, long long id) {
    if (packet::is_reserved_event(event)) throw std::invalid_argument("\"" + event + "\" is a reserved event name");
    packet::Packet p;
    p.type = packet::Type::Event;
    p.nsp = nsp;
    p.id = id;
    p.has_data = true;
    Value::Array data;
    data.reserve(args.size() + 1);
    data.emplace_back(event);
    data.insert(data.end(), args.begin(), args.end());
    p.data = Value(std::move(data));
    return p;
}

}  // namespace detail

// What an event handler receives: the event's name and arguments, the socket, and (when the client asked for one)
// the acknowledgement to answer.
class Event {
public:
    Event(Socket& socket, std::string name, Args args, std::function<void(Args)> ack = nullptr)
        : socket_(socket), name_(std::move(name)), args_(std::move(args)), ack_(std::move(ack)) {}

    const std::string& name() const { return name_; }
    const Args& args() const { return args_; }
    Args& args() { return args_; }
    const Value& operator[](size_t i) const { return args_[i]; }
    Socket& socket() const { return socket_; }
    // Whether the client waits for an acknowledgement (it passed a callback to its emit).
    bool has_ack() const { return bool(ack_); }
    // Answers the client's acknowledgement (once; later calls do nothing): ev.ack("ok", 42) or ev.ack(ev.args()).
    template <class... A>
    void ack(A&&... values) {
        if (!ack_) return;
        Args response;
        AckCallback unused;
        detail::collect_args(response, unused, std::forward<A>(values)...);
        auto fn = std::move(ack_);
        ack_ = nullptr;
        fn(std::move(response));
    }

private:
    Socket& socket_;
    std::string name_;
    Args args_;
    std::function<void(Args)> ack_;
};

// ---- 5a. The Adapter: the room map of one namespace, and the seam to other nodes ------------------------------------
// One Adapter per namespace, as in Node. This base class is the in-memory adapter, the default: room -> socket ids
// and socket id -> (socket, rooms) for this process, behind one mutex that is never held while sending or running a
// handler. Its broadcast, fetchSockets, addSockets / delSockets (socketsJoin / socketsLeave), disconnectSockets and
// serverSideEmit reach this process only. A cluster adapter (sioserver_redis.hpp) derives from it, overrides those
// virtuals to tell the other nodes as well, and calls the base versions for the local part: Adapter::broadcast is
// also how a broadcast received from another node reaches this node's sockets. io.adapter(factory) installs one.
struct BroadcastFlags {
    int timeout = -1;  // ms for the acknowledgements of a broadcast; -1: wait for all
    bool volatile_ = false;
    bool local = false;  // this process only: a cluster adapter tells no other node
    bool compress = true;
};

// Who a broadcast (or fetchSockets, socketsJoin, ...) is for: Node's BroadcastOptions.
struct BroadcastOptions {
    std::set<std::string> rooms;   // the sockets in any of these rooms; empty: every socket of the namespace
    std::set<std::string> except;  // minus the sockets in any of these
    BroadcastFlags flags;
};

// What fetchSockets tells about a socket, wherever it lives (the data of Node's RemoteSocket).
struct SocketInfo {
    std::string id;
    Handshake handshake;
    std::set<std::string> rooms;
    Value data;
};
using SocketInfoCallback = std::function<void(const Error& err, std::vector<SocketInfo> sockets)>;

// How a broadcast that asked for acknowledgements reports back, node by node.
struct BroadcastAckHandlers {
    std::function<void(size_t servers)> serverCount;  // once, first: how many nodes will report (this one included)
    std::function<void(size_t clients)> clientCount;  // once per node: how many of its sockets got the packet
    std::function<void(const Value& response)> ack;   // once per such socket: the first argument of its answer
};

// What connection state recovery keeps of a socket whose connection was lost (Node's SessionToPersist), and what
// restoring it gives back: the same, plus the offset the client saw last (what it missed comes after that one).
struct SessionToPersist {
    std::string sid, pid;  // the socket's id, and the private id the client proves it is the same one with
    std::set<std::string> rooms;
    Value data;
};
struct Session : SessionToPersist {
    std::string offset;
    // What the adapter that restored it needs again in resumeSession (a cluster adapter: the missed packets it
    // fetched, and what it holds for the socket meanwhile); released with the session, used or not.
    std::shared_ptr<void> state;
};
// How restoreSession answers: once, with the session or with none.
using RestoreCallback = std::function<void(std::optional<Session> session)>;

// What an adapter counts, for the metrics add-on (sioserver_metrics.hpp). A cluster adapter counts its messages to
// and from the other nodes, its requests to them (fetchSockets, serverSideEmit with an ack, ...) and those that
// timed out, and its errors and reconnections to what joins the nodes (Redis); the in-memory Adapter has none of
// these. Sessions kept for connection state recovery, restored, and dropped unrestored (expired, or past
// maxSessionBytes) are counted by the namespace (kept, restored) and by the adapter that keeps them (expired).
// Relaxed atomics: bumped from any thread, read at any time.
struct AdapterStats {
    std::atomic<uint64_t> published{0}, received{0};
    std::atomic<uint64_t> requests{0}, requestTimeouts{0};
    std::atomic<uint64_t> errors{0}, reconnects{0};
    std::atomic<uint64_t> sessionsKept{0}, sessionsRestored{0}, sessionsExpired{0};
    void bump(std::atomic<uint64_t>& counter, uint64_t n = 1) { counter.fetch_add(n, std::memory_order_relaxed); }
};

class Adapter {
public:
    explicit Adapter(Namespace& nsp) : nsp_(nsp) {}
    virtual ~Adapter() = default;
    Adapter(const Adapter&) = delete;
    Adapter& operator=(const Adapter&) = delete;

    Namespace& nsp() const { return nsp_; }
    // What this adapter counted (see AdapterStats). A cluster adapter may share one among its namespaces
    // (share_counters): a reader sums each distinct one once.
    AdapterStats& counters() const { return *stats_; }
    const std::shared_ptr<AdapterStats>& shared_counters() const { return stats_; }
    virtual void init() {}  // called once the adapter is installed on its namespace

    // Node's adapter events "create-room", "delete-room", "join-room" and "leave-room" (for "create-room" and
    // "delete-room" `sid` is empty), for an add-on that watches rooms (sioserver_admin.hpp). A listener runs as a
    // handler (run_handler) once the room map's lock is let go, on the thread that joined or left.
    enum class RoomEvent { CreateRoom, DeleteRoom, JoinRoom, LeaveRoom };
    using RoomListener = std::function<void(RoomEvent event, const std::string& room, const std::string& sid)>;
    void on_room_event(RoomListener fn) {
        std::lock_guard<std::mutex> lk(mu_);
        auto more = std::make_shared<std::vector<RoomListener>>(room_listeners_ ? *room_listeners_
                                                                                : std::vector<RoomListener>{});
        more->push_back(std::move(fn));
        room_listeners_ = std::move(more);
    }
    // Called once the server has closed, before the namespace goes: no call into the namespace may follow.
    virtual void close() {}

    // ---- this process's room map
    inline virtual void addAll(const SocketPtr& socket, const std::vector<std::string>& rooms);
    virtual void del(const std::string& sid, const std::string& room) {
        RoomChanges changes;
        {
            std::lock_guard<std::mutex> lk(mu_);
            auto it = sids_.find(sid);
            if (it == sids_.end()) return;
            it->second.rooms.erase(room);
            changes.listeners = room_listeners_;
            remove_from_room(room, &*it, changes);
        }
        notify(changes);
    }
    virtual void delAll(const std::string& sid) {
        RoomChanges changes;
        {
            std::lock_guard<std::mutex> lk(mu_);
            auto it = sids_.find(sid);
            if (it == sids_.end()) return;
            changes.listeners = room_listeners_;
            for (auto& room : it->second.rooms) remove_from_room(room, &*it, changes);
            sids_.erase(it);
        }
        notify(changes);
    }
    std::set<std::string> socketRooms(const std::string& sid) const {
        std::lock_guard<std::mutex> lk(mu_);
        auto it = sids_.find(sid);
        return it == sids_.end() ? std::set<std::string>{} : it->second.rooms;
    }
    // Every room with its members (a snapshot).
    std::map<std::string, std::set<std::string>> rooms() const {
        std::lock_guard<std::mutex> lk(mu_);
        std::map<std::string, std::set<std::string>> out;
        for (auto& kv : rooms_) {
            auto& members = out[kv.first];
            for (const SidEntry* e : kv.second) members.insert(e->first);
        }
        return out;
    }
    bool hasRoom(const std::string& room) const {
        std::lock_guard<std::mutex> lk(mu_);
        return rooms_.count(room) != 0;
    }
    // The sockets in any of `rooms` (all of them when empty) and in none of `except`, each once.
    inline std::vector<SocketPtr> select(const std::set<std::string>& rooms, const std::set<std::string>& except) const;
    // What a fetchSockets answer holds about this process's chosen sockets. It reads socket.data(), so it takes the
    // handler lock: call it from any thread that holds no adapter lock of its own.
    inline std::vector<SocketInfo> local_socket_infos(const BroadcastOptions& opts) const;

    // ---- what a cluster adapter tells the other nodes too (flags.local: never)
    // `p` is an EVENT with nsp set to this namespace and data [event, args...]. Encoded once for every recipient.
    inline virtual void broadcast(const packet::Packet& p, const BroadcastOptions& opts);
    // Here: h.serverCount(1) when set, the packet goes out with an ack id of this namespace, then h.clientCount(n).
    inline virtual void broadcastWithAck(const packet::Packet& p, const BroadcastOptions& opts, BroadcastAckHandlers h);
    virtual void fetchSockets(const BroadcastOptions& opts, SocketInfoCallback cb) {
        cb(Error{}, local_socket_infos(opts));
    }
    inline virtual void addSockets(const BroadcastOptions& opts, const std::vector<std::string>& rooms);
    inline virtual void delSockets(const BroadcastOptions& opts, const std::vector<std::string>& rooms);
    inline virtual void disconnectSockets(const BroadcastOptions& opts, bool close);
    // `data` is [event, args...]. `ack` (may be null) gets one response per other node: here there is none.
    virtual void serverSideEmit(const Args& data, AckCallback ack) {
        (void)data;
        if (ack) ack(Error{}, Args{});
    }

    // ---- connection state recovery: kept by the SessionAwareAdapter (this process) and by the Redis Streams
    // adapter (every node); as in Node, the in-memory Adapter and the classic Redis adapter keep nothing, so a
    // client coming back gets a new socket
    virtual void persistSession(const SessionToPersist& session) { (void)session; }
    // Takes back the session `pid` if it is kept and `offset` is still stored, and calls `done` once, with it or
    // with none. `done` runs as a handler: on the calling thread (which is in one), or through post() when the
    // answer comes later from another thread (a cluster adapter asks Redis).
    virtual void restoreSession(const std::string& pid, const std::string& offset, RestoreCallback done) {
        (void)pid, (void)offset;
        done(std::nullopt);
    }
    // Whether the sessions and offsets this adapter keeps reach every node: then a socket's own emits go to the
    // other nodes too (to its room, which only it is in), as Node sends them, so that whichever node restores the
    // socket finds them. Else they stay local: no other node could ever need them.
    virtual bool recoversAcrossNodes() const { return false; }
    // At the CONNECT of a restored socket: joins it to its rooms and sends it what was stored after `offset`, with
    // no broadcast in between, so that it gets each packet once and in order.
    virtual void resumeSession(const SocketPtr& socket, const Session& session) {
        addAll(socket, std::vector<std::string>(session.rooms.begin(), session.rooms.end()));
    }

protected:
    // Sends `p`, encoded as `parts`, to `targets`: one write per recipient, however many parts it has. With
    // `own_thread` (the caller is an add-on's own thread, which runs no user code) the recipients' onAnyOutgoing
    // listeners, and the close handlers of a recipient closed past maxBufferedBytes, run on the engine's handler
    // thread (post), so not always before the packet leaves, as Node runs them; the bytes are refused at once all
    // the same. A recipient with no listener costs one relaxed load either way.
    inline void send_to(const std::vector<SocketPtr>& targets, const packet::Packet& p,
                        const std::vector<eio::OutgoingPtr>& parts, bool volatile_, bool own_thread = false) const;
    // `p` encoded once for every recipient, as broadcast() encodes it: the parts send_to() takes.
    inline std::vector<eio::OutgoingPtr> encode(const packet::Packet& p) const;
    // broadcast() and broadcastWithAck() here only, for what an add-on's own thread delivers (another node's
    // broadcast): send_to() with own_thread.
    inline void deliver(const packet::Packet& p, const BroadcastOptions& opts);
    inline void deliver_with_ack(const packet::Packet& p, const BroadcastOptions& opts, BroadcastAckHandlers h);

    // ---- for a cluster adapter: threads and time (the extension surface, with sio::ext). An adapter's own threads
    // (a reader, a publisher) run no user code: they hand it to the engine's handler thread.
    using TimerId = ext::TimerId;
    // `fn` as a handler on the engine's handler thread, after what was posted before it (ext::post).
    inline void post(std::function<void()> fn) const;
    // The same, `ms` from now (ext::post_after); cancel() forgets it while it has not been handed over. `fn` may run
    // after this adapter is gone: it holds what it needs, and checks that the adapter is still there.
    inline TimerId after(int ms, std::function<void()> fn) const;
    inline void cancel(TimerId id) const;
    // Runs `fn` as a handler now, on this thread (Engine::run_handler): for a callback the caller is owed.
    template <class F>
    void run_handler(F&& fn) const;
    // Counts into `counters` from now on (a cluster adapter's one per node, for all its namespaces), in init().
    void share_counters(std::shared_ptr<AdapterStats> counters) { stats_ = std::move(counters); }

private:
    struct Member {
        SocketPtr socket;
        std::set<std::string> rooms;
    };
    using SidEntry = std::pair<const std::string, Member>;  // an entry of sids_
    // Room events gathered under mu_, for the listeners to hear once it is let go (nothing when there is none).
    struct RoomChanges {
        std::shared_ptr<const std::vector<RoomListener>> listeners;
        struct Change {
            RoomEvent event;
            std::string room, sid;
        };
        std::vector<Change> events;
        void add(RoomEvent e, const std::string& room, const std::string& sid = {}) {
            if (listeners) events.push_back(Change{e, room, sid});
        }
    };
    inline void notify(const RoomChanges& changes);
    // broadcastWithAck() here, and deliver_with_ack() (own_thread: see send_to).
    inline void ack_broadcast(const packet::Packet& p, const BroadcastOptions& opts, BroadcastAckHandlers h,
                              bool own_thread);
    void remove_from_room(const std::string& room, const SidEntry* member, RoomChanges& changes) {
        auto r = rooms_.find(room);
        if (r == rooms_.end()) return;
        if (r->second.erase(member)) changes.add(RoomEvent::LeaveRoom, room, member->first);
        if (r->second.empty()) {
            rooms_.erase(r);
            changes.add(RoomEvent::DeleteRoom, room);
        }
    }

    Namespace& nsp_;
    std::shared_ptr<AdapterStats> stats_ = std::make_shared<AdapterStats>();
    mutable std::mutex mu_;  // see LOCK ORDER (3a): a leaf
    // A room holds its members' entries of sids_ (a node's address stays while it is in the map): a broadcast
    // reaches each socket without hashing its id again.
    std::unordered_map<std::string, std::unordered_set<const SidEntry*>> rooms_;
    std::unordered_map<std::string, Member> sids_;
    std::shared_ptr<const std::vector<RoomListener>> room_listeners_;  // replaced whole, never changed in place
};
// Makes the adapter of each namespace: io.adapter(sio::redis::createAdapter(options)).
using AdapterFactory = std::function<std::unique_ptr<Adapter>(Namespace& nsp)>;

// With opt.connectionStateRecovery, the adapter a namespace gets unless io.adapter(...) gives another: Node's
// SessionAwareAdapter. Every EVENT broadcast without ack and not volatile (socket.emit included: under recovery it is
// a broadcast to the socket's own room) gets an offset as its last argument and is stored, encoded, for
// maxDisconnectionDuration. The client keeps the last offset it saw and sends it back when it reconnects; the
// socket then gets the stored packets after that one that were meant for its rooms.
class SessionAwareAdapter : public Adapter {
public:
    struct Stats {
        size_t packets = 0, bytes = 0;  // stored now
        size_t sessions = 0;            // kept now
        uint64_t sessionsTooLarge = 0;  // dropped for maxSessionBytes
        std::string newest;             // the offset of the newest packet stored ("" when none)
    };
    inline explicit SessionAwareAdapter(Namespace& nsp);
    inline ~SessionAwareAdapter() override;

    inline void broadcast(const packet::Packet& p, const BroadcastOptions& opts) override;
    inline void persistSession(const SessionToPersist& session) override;
    inline void restoreSession(const std::string& pid, const std::string& offset, RestoreCallback done) override;
    inline void resumeSession(const SocketPtr& socket, const Session& session) override;
    Stats stats() const {
        std::lock_guard<std::mutex> lk(store_->mu);
        return Stats{store_->packets.size(), store_->bytes, store_->sessions.size(), store_->sessions_too_large,
                     store_->packets.empty() ? "" : offset_text(store_->packets.back().offset)};
    }

private:
    using Clock = std::chrono::steady_clock;
    struct Stored {
        uint64_t offset;
        std::set<std::string> rooms, except;
        std::vector<eio::OutgoingPtr> parts;
        Clock::time_point at;
        size_t bytes;
    };
    struct Kept {
        SessionToPersist session;
        Clock::time_point left;
        size_t bytes = 0;  // of the packets stored for it since it left
    };
    // Shared with the purge timer, which may fire while the adapter goes.
    struct Store {
        Store(detail::Timers& t, int keep, std::shared_ptr<AdapterStats> s)
            : timers(t), keep_ms(keep), stats(std::move(s)) {}
        mutable std::mutex mu;       // see LOCK ORDER (3a)
        std::deque<Stored> packets;  // by offset, oldest first
        size_t bytes = 0;
        std::unordered_map<std::string, Kept> sessions;  // by pid
        uint64_t next_offset = 0;
        uint64_t sessions_too_large = 0;
        // Sockets whose missed packets are being sent, by id: what is broadcast to their rooms meanwhile waits in
        // `pending`, and follows those.
        struct Resuming {
            std::set<std::string> rooms;
            std::vector<std::vector<eio::OutgoingPtr>> pending;
        };
        std::unordered_map<std::string, Resuming> resuming;
        detail::Timers& timers;                     // the engine's, which outlive every adapter
        const int keep_ms;                          // maxDisconnectionDuration
        const std::shared_ptr<AdapterStats> stats;  // the adapter's: sessions dropped unrestored
        detail::Timers::Id timer = 0;               // the next purge, while something is stored
        bool closed = false;                        // the adapter is gone: no more purges
    };
    // Whether a packet for `rooms` minus `except` reaches a socket in `session_rooms` (Node's shouldIncludePacket).
    static bool reaches(const std::set<std::string>& session_rooms, const Stored& p) {
        bool included = p.rooms.empty() || std::any_of(session_rooms.begin(), session_rooms.end(),
                                                       [&](auto& r) { return p.rooms.count(r); });
        return included &&
               std::none_of(session_rooms.begin(), session_rooms.end(), [&](auto& r) { return p.except.count(r); });
    }
    static inline void purge_locked(Store& store);
    static inline void schedule_purge_locked(const std::shared_ptr<Store>& store);
    // An offset as the client sees it: opaque text, here the number in base 64 (the alphabet of Node's yeast ids).
    static std::string offset_text(uint64_t n) {
        static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
        std::string out;
        do {
            out.insert(out.begin(), digits[n % 64]);
            n /= 64;
        } while (n);
        return out;
    }
    static std::optional<uint64_t> offset_value(const std::string& text) {
        if (text.empty() || text.size() > 10) return std::nullopt;  // 10 digits hold 60 bits: no overflow
        uint64_t n = 0;
        for (char c : text) {
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'A' && c <= 'Z' ? c - 'A' + 10
                    : c >= 'a' && c <= 'z' ? c - 'a' + 36
                    : c == '-'             ? 62
                    : c == '_'             ? 63
                                           : -1;
            if (d < 0) return std::nullopt;
            n = n * 64 + uint64_t(d);
        }
        return n;
    }

    const ConnectionStateRecoveryOptions options_;
    std::shared_ptr<Store> store_;
};

// ---- 5b. The BroadcastOperator: to / in / except / timeout / volatile, then emit to the chosen sockets -------------
class BroadcastOperator {
public:
    using Flags = BroadcastFlags;

    explicit BroadcastOperator(Namespace& nsp, std::set<std::string> rooms = {}, std::set<std::string> except = {},
                               Flags flags = {})
        : nsp_(&nsp), opts_{std::move(rooms), std::move(except), flags} {}

    BroadcastOperator to(const Rooms& rooms) const { return with_rooms(rooms.names, true); }
    BroadcastOperator in(const Rooms& rooms) const { return to(rooms); }
    BroadcastOperator except(const Rooms& rooms) const { return with_rooms(rooms.names, false); }
    BroadcastOperator timeout(int ms) const {
        auto b = *this;
        b.opts_.flags.timeout = ms;
        return b;
    }
    BroadcastOperator volatile_() const {
        auto b = *this;
        b.opts_.flags.volatile_ = true;
        return b;
    }
    BroadcastOperator local() const {
        auto b = *this;
        b.opts_.flags.local = true;
        return b;
    }  // this node only
    BroadcastOperator compress(bool on) const {
        auto b = *this;
        b.opts_.flags.compress = on;
        return b;
    }

    // emit(event, args..., [callback(err, responses)]): the packet is encoded once for every recipient.
    template <class... A>
    bool emit(const std::string& event, A&&... values) const {
        Args args;
        AckCallback ack;
        detail::collect_args(args, ack, std::forward<A>(values)...);
        return emit_args(event, args, std::move(ack));
    }
    inline bool emit_args(const std::string& event, const Args& args, AckCallback ack = nullptr) const;

    // The chosen sockets on every node (through the adapter), as RemoteSockets; the callback runs as a handler.
    inline void fetchSockets(FetchCallback cb) const;
    // The chosen sockets of this process only, at once.
    inline std::vector<SocketPtr> fetchSockets() const;
    // These three reach the chosen sockets on every node (through the adapter); local() keeps them here.
    inline void socketsJoin(const Rooms& rooms) const;
    inline void socketsLeave(const Rooms& rooms) const;
    inline void disconnectSockets(bool close = false) const;

private:
    BroadcastOperator with_rooms(const std::vector<std::string>& rooms, bool include) const {
        auto b = *this;
        (include ? b.opts_.rooms : b.opts_.except).insert(rooms.begin(), rooms.end());
        return b;
    }

    Namespace* nsp_;
    BroadcastOptions opts_;
};

// A socket fetchSockets(callback) found, on this node or another. emit, join, leave and disconnect go through the
// namespace's adapter (to(id).emit, in(id).socketsJoin, ...), so they reach it wherever it lives.
class RemoteSocket {
public:
    RemoteSocket(Namespace& nsp, SocketInfo info, SocketPtr local)
        : nsp_(&nsp), info_(std::move(info)), local_(std::move(local)) {}

    const std::string& id() const { return info_.id; }
    const Handshake& handshake() const { return info_.handshake; }
    const std::set<std::string>& rooms() const { return info_.rooms; }
    const Value& data() const { return info_.data; }
    // The live Socket when it is on this node, else null.
    const SocketPtr& local() const { return local_; }

    template <class... A>
    bool emit(const std::string& event, A&&... values) const {
        return BroadcastOperator(*nsp_).to(info_.id).emit(event, std::forward<A>(values)...);
    }
    void join(const Rooms& rooms) const { BroadcastOperator(*nsp_).in(info_.id).socketsJoin(rooms); }
    void leave(const Rooms& rooms) const { BroadcastOperator(*nsp_).in(info_.id).socketsLeave(rooms); }
    void disconnect(bool close = false) const { BroadcastOperator(*nsp_).in(info_.id).disconnectSockets(close); }

private:
    Namespace* nsp_;
    SocketInfo info_;
    SocketPtr local_;
};

// An event another node sent with io.serverSideEmit(...), as a server-side listener (io.on(event, ...)) gets it.
class ServerEvent {
public:
    ServerEvent(std::string name, Args args, std::function<void(const Value&)> reply)
        : name_(std::move(name)), args_(std::move(args)), reply_(std::move(reply)) {}

    const std::string& name() const { return name_; }
    const Args& args() const { return args_; }
    const Value& operator[](size_t i) const { return args_[i]; }
    // Whether the sender waits for an answer (it passed a callback to its serverSideEmit).
    bool has_ack() const { return bool(reply_); }
    // The answer (once; later calls do nothing). The sender gets one such value per node that answered.
    void ack(const Value& value) {
        if (!reply_) return;
        auto fn = std::move(reply_);
        reply_ = nullptr;
        fn(value);
    }

private:
    std::string name_;
    Args args_;
    std::function<void(const Value&)> reply_;
};

// ---- 5c. The Socket: one client in one namespace --------------------------------------------------------------------
class Socket : public std::enable_shared_from_this<Socket> {
public:
    using Handler = std::function<void(Event&)>;

    // An emitter with flags: socket.timeout(5000).emit(...), socket.volatile_().emit(...).
    class Emitter {
    public:
        Emitter(Socket& s, int timeout, bool volatile_) : socket_(s), timeout_(timeout), is_volatile_(volatile_) {}
        Emitter timeout(int ms) const { return Emitter(socket_, ms, is_volatile_); }
        Emitter volatile_() const { return Emitter(socket_, timeout_, true); }
        Emitter compress(bool) const { return *this; }
        template <class... A>
        bool emit(const std::string& event, A&&... values) const {
            Args args;
            AckCallback ack;
            detail::collect_args(args, ack, std::forward<A>(values)...);
            return socket_.emit_args(event, args, std::move(ack), timeout_, is_volatile_);
        }

    private:
        Socket& socket_;
        int timeout_;
        bool is_volatile_;
    };

    // A new socket, or (with `restored`) the one a client got back with connection state recovery.
    inline Socket(ServerKey, Namespace& nsp, const std::shared_ptr<Client>& client, Handshake handshake,
                  std::optional<Session> restored = std::nullopt);

    const std::string& id() const { return id_; }
    Namespace& nsp() const { return nsp_; }
    const Handshake& handshake() const { return handshake_; }
    // Your own per-socket state (socket.data in JavaScript): socket.data()["nickname"] = "ann".
    Value& data() { return data_; }
    bool connected() const { return connected_; }
    // Whether connection state recovery gave this socket back (same id, rooms and data; missed packets resent).
    bool recovered() const { return recovered_; }
    // The private id its session is kept under with connection state recovery (empty without), which only the
    // client and the adapter see: for an adapter that persists sessions itself.
    const std::string& pid() const { return pid_; }
    inline std::set<std::string> rooms() const;
    // The Engine.IO session underneath (socket.conn in JavaScript).
    inline eio::Socket& conn() const;

    // ---- listeners: on / once / off, onAny / prependAny / offAny, onAnyOutgoing / prependAnyOutgoing /
    // offAnyOutgoing
    ListenerId on(const std::string& event, Handler h) { return add_listener(event, std::move(h), false); }
    ListenerId once(const std::string& event, Handler h) { return add_listener(event, std::move(h), true); }
    // Removes one listener (by the id on/once returned), or all of the event's when id is 0.
    void off(const std::string& event, ListenerId id = 0) {
        std::lock_guard<std::mutex> lk(mu_);
        auto it = listeners_.find(event);
        if (it == listeners_.end()) return;
        if (!id) return (void)listeners_.erase(it);
        auto& v = it->second;
        v.erase(std::remove_if(v.begin(), v.end(), [&](const Listener& l) { return l.id == id; }), v.end());
    }
    ListenerId onAny(Handler h) { return add_any(any_, std::move(h), false); }
    ListenerId prependAny(Handler h) { return add_any(any_, std::move(h), true); }
    void offAny(ListenerId id = 0) { remove_any(any_, id); }
    ListenerId onAnyOutgoing(Handler h) { return add_any(any_outgoing_, std::move(h), false); }
    ListenerId prependAnyOutgoing(Handler h) { return add_any(any_outgoing_, std::move(h), true); }
    void offAnyOutgoing(ListenerId id = 0) { remove_any(any_outgoing_, id); }

    // ---- emitting
    // emit(event, args..., [ack callback]); throws std::invalid_argument for a reserved event name.
    template <class... A>
    bool emit(const std::string& event, A&&... values) {
        return Emitter(*this, -1, false).emit(event, std::forward<A>(values)...);
    }
    Emitter timeout(int ms) { return Emitter(*this, ms, false); }
    Emitter volatile_() { return Emitter(*this, -1, true); }
    Emitter compress(bool) { return Emitter(*this, -1, false); }
    inline bool emit_args(const std::string& event, const Args& args, AckCallback ack = nullptr, int timeout = -1,
                          bool volatile_ = false);

    // ---- rooms and broadcasting (the sender itself left out)
    inline BroadcastOperator to(const Rooms& rooms);
    BroadcastOperator in(const Rooms& rooms) { return to(rooms); }
    inline BroadcastOperator except(const Rooms& rooms);
    inline BroadcastOperator broadcast();  // socket.broadcast in JavaScript
    inline void join(const Rooms& rooms);
    inline void leave(const std::string& room);

    // Disconnects from this namespace ("server namespace disconnect"); with close, ends the whole connection.
    inline Socket& disconnect(bool close = false);

private:
    // ---- for the Client, the Namespace, the Adapter and the broadcasts (friends), not for users
    friend class Client;
    friend class Namespace;
    friend class Adapter;
    friend class SessionAwareAdapter;
    friend class BroadcastOperator;
    friend struct detail::TestAccess;
    inline void handle_connect();
    // disconnect() with the reason the handlers hear: a DISCONNECT to the client, then "disconnecting", "disconnect".
    inline void disconnect_because(const char* why, const std::string& description = {});
    inline void handle_event(packet::Packet& p);
    inline void handle_ack(packet::Packet& p);
    inline void handle_close(const std::string& why, const std::string& description);
    inline void send_packet(const packet::Packet& p, bool volatile_ = false);
    // Runs the onAnyOutgoing listeners for an event this socket is sent (by emit or by a broadcast).
    void notify_outgoing(const std::string& event, const Args& args) {
        if (has_outgoing_.load(std::memory_order_relaxed)) run_outgoing(event, args);
    }
    // The same for a broadcast's packet (data [event, args...]), taken apart only when there is a listener. With
    // `hand_over` (an add-on's own thread delivers it), the listeners run on the engine's handler thread, with a copy.
    inline void notify_outgoing(const packet::Packet& p, bool hand_over = false);
    // Registers the callback for acknowledgement `id` (shared by all recipients of a broadcast).
    inline void expect_ack(long long id, AckCallback cb, int timeout);
    std::shared_ptr<Client> client() const { return client_.lock(); }

    struct Listener {
        ListenerId id;
        Handler fn;
        bool once;
    };
    ListenerId add_listener(const std::string& event, Handler h, bool once) {
        std::lock_guard<std::mutex> lk(mu_);
        listeners_[event].push_back({++last_listener_id_, std::move(h), once});
        return last_listener_id_;
    }
    ListenerId add_any(std::vector<Listener>& list, Handler h, bool prepend) {
        std::lock_guard<std::mutex> lk(mu_);
        Listener l{++last_listener_id_, std::move(h), false};
        if (prepend) list.insert(list.begin(), std::move(l));
        else list.push_back(std::move(l));
        has_outgoing_.store(!any_outgoing_.empty(), std::memory_order_relaxed);
        return last_listener_id_;
    }
    void remove_any(std::vector<Listener>& list, ListenerId id) {
        std::lock_guard<std::mutex> lk(mu_);
        if (!id) list.clear();
        else
            list.erase(std::remove_if(list.begin(), list.end(), [&](const Listener& l) { return l.id == id; }),
                       list.end());
        has_outgoing_.store(!any_outgoing_.empty(), std::memory_order_relaxed);
    }
    inline void run_outgoing(const std::string& event, const Args& args);
    // Runs the listeners of `event` (and, when `any` is given, those listeners first), dropping "once" ones.
    inline void dispatch(Event& ev, const std::vector<Listener>* any);

    Namespace& nsp_;
    std::weak_ptr<Client> client_;
    const std::string id_;
    const std::string pid_;  // with connection state recovery: the private id of its session, else empty
    const Handshake handshake_;
    Value data_;
    const bool recovered_;
    std::optional<Session> resume_;  // a recovered socket's rooms and offset, until its CONNECT
    std::atomic<bool> connected_{false};
    bool closing_ = false;
    mutable std::mutex mu_;  // guards the listeners and the pending acknowledgements
    std::map<std::string, std::vector<Listener>> listeners_;
    std::vector<Listener> any_, any_outgoing_;
    std::atomic<bool> has_outgoing_{false};  // any_outgoing_ is not empty: read by every emit and broadcast
    ListenerId last_listener_id_ = 0;
    struct PendingAck {
        AckCallback cb;
        detail::Timers::Id timer;
    };
    std::map<long long, PendingAck> acks_;
};

// ---- 5d. The Namespace ----------------------------------------------------------------------------------------------
class Namespace {
public:
    using ConnectionHandler = std::function<void(Socket&)>;

    using ServerSideHandler = std::function<void(ServerEvent&)>;

    inline Namespace(Server& server, std::string name);
    virtual ~Namespace() = default;

    const std::string& name() const { return name_; }
    Server& server() const { return server_; }
    // The dynamic namespace (io.of(regex or matcher)) this one was made for, or null: the metrics count a child's
    // sockets under its parent's name, so that a label per child cannot grow without bound.
    const Namespace* parent() const { return parent_; }
    // The room map and the way to other nodes: the in-memory Adapter unless io.adapter(...) installed another.
    Adapter& adapter() const { return *adapter_; }

    void on_connection(ConnectionHandler h) {
        std::lock_guard<std::mutex> lk(mu_);
        connection_handlers_.push_back(std::move(h));
    }
    void on_connect(ConnectionHandler h) { on_connection(std::move(h)); }
    // Runs before the handlers added so far (Node's prependListener("connection", ...)): for an add-on that must
    // see a socket before the user's handlers do (sioserver_admin.hpp).
    void prepend_on_connection(ConnectionHandler h) {
        std::lock_guard<std::mutex> lk(mu_);
        connection_handlers_.insert(connection_handlers_.begin(), std::move(h));
    }
    void use(Middleware m) {
        std::lock_guard<std::mutex> lk(mu_);
        middlewares_.push_back(std::move(m));
    }

    BroadcastOperator to(const Rooms& rooms) { return BroadcastOperator(*this).to(rooms); }
    BroadcastOperator in(const Rooms& rooms) { return to(rooms); }
    BroadcastOperator except(const Rooms& rooms) { return BroadcastOperator(*this).except(rooms); }
    BroadcastOperator timeout(int ms) { return BroadcastOperator(*this).timeout(ms); }
    BroadcastOperator volatile_() { return BroadcastOperator(*this).volatile_(); }
    BroadcastOperator local() { return BroadcastOperator(*this).local(); }
    BroadcastOperator compress(bool on) { return BroadcastOperator(*this).compress(on); }
    template <class... A>
    bool emit(const std::string& event, A&&... values) {
        return BroadcastOperator(*this).emit(event, std::forward<A>(values)...);
    }

    // The connected sockets by id (a snapshot): io.of("/chat").sockets in JavaScript.
    std::map<std::string, SocketPtr> sockets() const {
        std::lock_guard<std::mutex> lk(mu_);
        return sockets_;
    }
    // How many sockets are connected, without the copy sockets() makes: io.of("/chat").sockets.size in JavaScript.
    size_t sockets_count() const {
        std::lock_guard<std::mutex> lk(mu_);
        return sockets_.size();
    }
    void fetchSockets(FetchCallback cb) { BroadcastOperator(*this).fetchSockets(std::move(cb)); }
    std::vector<SocketPtr> fetchSockets() { return BroadcastOperator(*this).fetchSockets(); }  // this process's
    void socketsJoin(const Rooms& rooms) { BroadcastOperator(*this).socketsJoin(rooms); }
    void socketsLeave(const Rooms& rooms) { BroadcastOperator(*this).socketsLeave(rooms); }
    void disconnectSockets(bool close = false) { BroadcastOperator(*this).disconnectSockets(close); }

    // ---- between the nodes of a cluster (with one node: no other to reach)
    // serverSideEmit(event, args..., [callback(err, responses)]): to this namespace on every other node; the
    // callback gets one response per node, or an error with those that came in time.
    template <class... A>
    void serverSideEmit(const std::string& event, A&&... values) {
        Args args;
        AckCallback ack;
        detail::collect_args(args, ack, std::forward<A>(values)...);
        serverSideEmit_args(event, args, std::move(ack));
    }
    inline void serverSideEmit_args(const std::string& event, const Args& args, AckCallback ack = nullptr);
    // A server-side listener: what other nodes send with serverSideEmit (io.on("event", ...) in JavaScript).
    inline ListenerId on(const std::string& event, ServerSideHandler h);
    // Where a cluster adapter hands in a server-side event: `data` is [event, args...]; `reply` (null when the
    // sender wants no answer) takes the first listener's ack.
    inline void handle_server_side_emit(const Args& data, std::function<void(const Value&)> reply);

private:
    // ---- for the Client, the Server, sockets and broadcasts (friends), not for users
    friend class Client;
    friend class Server;
    friend struct detail::ServerState;
    friend class ParentNamespace;
    friend class Socket;
    friend class BroadcastOperator;
    friend class Adapter;
    friend struct detail::TestAccess;
    inline void add(const std::shared_ptr<Client>& client, const Value& auth);
    // The middlewares, then the CONNECT: a new socket, or (`restored`) the one the client got back.
    inline void add_socket(const std::shared_ptr<Client>& client, const Value& auth, std::optional<Session> restored);
    void remove(const std::string& sid) {
        std::lock_guard<std::mutex> lk(mu_);
        sockets_.erase(sid);
    }
    long long next_ack_id() { return next_ack_id_++; }
    // The namespaces a broadcast operator on this one reaches: this one; for a dynamic namespace, its children.
    virtual std::vector<Namespace*> broadcast_targets() { return {this}; }
    // A child of a dynamic namespace starts with its parent's middlewares and handlers.
    void inherit(const Namespace& parent) {
        parent_ = &parent;
        std::lock_guard<std::mutex> lk(parent.mu_);
        middlewares_ = parent.middlewares_;
        connection_handlers_ = parent.connection_handlers_;
        server_side_handlers_ = parent.server_side_handlers_;
    }
    // io.adapter(...) replaces the adapter before the server starts; the old one is closed.
    void set_adapter(std::unique_ptr<Adapter> adapter) {
        if (adapter_) adapter_->close();
        adapter_ = std::move(adapter);
        adapter_->init();
    }

protected:
    Server& server_;
    const std::string name_;
    const Namespace* parent_ = nullptr;  // set once, as a child is made (inherit)
    std::unique_ptr<Adapter> adapter_;
    mutable std::mutex mu_;
    std::map<std::string, SocketPtr> sockets_;
    std::vector<Middleware> middlewares_;
    std::vector<ConnectionHandler> connection_handlers_;
    std::multimap<std::string, std::pair<ListenerId, ServerSideHandler>> server_side_handlers_;
    ListenerId last_listener_id_ = 0;
    std::atomic<long long> next_ack_id_{0};

    // A dynamic parent has no sockets of its own (its children have adapters); it keeps an in-memory one.
    struct ParentTag {};
    Namespace(Server& server, std::string name, ParentTag)
        : server_(server), name_(std::move(name)), adapter_(std::make_unique<Adapter>(*this)) {}
};

// A dynamic namespace: io.of(std::regex("^/room-\\d+$")) or io.of([](const std::string& name, const Value& auth)
// { return ...; }). Each matching name becomes a child Namespace with this one's middlewares and handlers. It has
// no sockets of its own: what the broadcast operator does here (emit, to / in / except, timeout, fetchSockets,
// socketsJoin / socketsLeave, disconnectSockets) it does in each child, the namespaces created from this one.
class ParentNamespace : public Namespace {
public:
    using Matcher = std::function<bool(const std::string& name, const Value& auth)>;
    // Named as Node names them: "/_0", "/_1", ... in the order they were made.
    ParentNamespace(Server& server, std::string name, Matcher matcher)
        : Namespace(server, std::move(name), ParentTag{}), matcher_(std::move(matcher)) {}

    bool matches(const std::string& name, const Value& auth) const { return matcher_(name, auth); }
    void add_child(Namespace* child) {
        std::lock_guard<std::mutex> lk(mu_);
        children_.push_back(child);
    }
    std::vector<Namespace*> children() const {
        std::lock_guard<std::mutex> lk(mu_);
        return children_;
    }
    std::vector<Namespace*> broadcast_targets() override { return children(); }

private:
    Matcher matcher_;
    std::vector<Namespace*> children_;
};

// ---- 5e. The Client: one per Engine.IO session, multiplexing its namespaces -----------------------------------------
class Client : public std::enable_shared_from_this<Client> {
public:
    // Only the Server makes one (a user never holds a Client: everything else is for the friends below).
    Client(ServerKey, Server& server, std::shared_ptr<eio::Socket> conn) : server_(server), conn_(std::move(conn)) {}

private:
    friend class Server;
    friend struct detail::ServerState;
    friend class Socket;
    friend class Namespace;
    friend class Adapter;
    friend class SessionAwareAdapter;
    friend class BroadcastOperator;
    friend struct detail::TestAccess;
    eio::Socket& conn() const { return *conn_; }
    inline void start();  // hooks into the Engine.IO session and starts the connect time-out
    // `own_thread`: an add-on's own thread sends (eio::Socket::send_all's hand_close_over).
    void send(const std::vector<eio::OutgoingPtr>& parts, bool volatile_ = false, bool own_thread = false) {
        conn_->send_all(parts.data(), parts.size(), volatile_, own_thread);
    }
    inline void send(const packet::Packet& p, bool volatile_ = false);  // encoded by the server's parser
    // The answer to a CONNECT (or its CONNECT_ERROR) leaves in a write of its own before any handler runs, as Node
    // writes it: a client that takes one message per read event would lose what a handler sends in the same read.
    void send_connect_answer(const packet::Packet& p) {
        detail::SendBatch::let_go();  // what this thread gathered before it leaves first
        send(p);
        detail::SendBatch::let_go();
    }
    void add_socket(const SocketPtr& s) {
        std::lock_guard<std::mutex> lk(mu_);
        sockets_[s->nsp().name()] = s;
    }
    void remove_socket(const std::string& nsp) {
        std::lock_guard<std::mutex> lk(mu_);
        sockets_.erase(nsp);
    }
    // Disconnects every namespace (the client sees "io server disconnect"; the handlers hear `why`), then closes the
    // connection.
    inline void disconnect_all(const char* why = reason::ServerNamespaceDisconnect,
                               const std::string& description = {});
    inline Handshake make_handshake(const Value& auth) const;

    inline void handle_data(const eio::Packet& m);
    inline void handle_decoded(packet::Packet& p);
    inline void handle_conn_close(const std::string& why, const std::string& description);
    inline void connect(const std::string& nsp, const Value& auth);
    static inline Value query_object(std::string_view query);
    void parse_error(const std::string& what) {
        if (detail::trace_enabled()) detail::trace(conn_->id(), "socket.io", "<-", "parse error: " + what);
        conn_->close_with(reason::ParseError, what);
    }
    SocketPtr socket_for(const std::string& nsp) {
        std::lock_guard<std::mutex> lk(mu_);
        auto it = sockets_.find(nsp);
        return it == sockets_.end() ? nullptr : it->second;
    }

    Server& server_;
    std::shared_ptr<eio::Socket> conn_;
    std::mutex mu_;
    std::map<std::string, SocketPtr> sockets_;  // by namespace
    detail::Timers::Id connect_timer_ = 0;
    // A binary packet waiting for its attachments (only the session's reading thread touches these).
    std::unique_ptr<Parser::Decoder> decoder_;  // the server's parser's, made with the first message
};

namespace eio {
class Server;  // layer 6: the HTTP side sio::Server serves through
}  // namespace eio
namespace detail {
// sio::Server's state, a private base so that it is made before the public `sockets` (which lives in it) and
// the class reads as its API first. The constructor (layer 6) opens the engine.
struct ServerState {
    inline explicit ServerState(Options options);

    Options options_;
    // The engine and the HTTP server on it. Declared first, so it goes last: the namespaces and clients below use
    // the engine until they are gone (the destructor has stopped its threads before).
    std::unique_ptr<eio::Server> eio_;
    AdapterFactory adapter_factory_;  // null: the in-memory Adapter
    mutable std::mutex mu_;
    std::map<std::string, std::unique_ptr<Namespace>> namespaces_;
    std::vector<std::unique_ptr<ParentNamespace>> parents_;
    std::unordered_map<std::string, std::shared_ptr<Client>> clients_;  // by Engine.IO sid
    std::vector<std::function<void(Namespace&)>> new_namespace_handlers_;
    ServerStats stats_;
};
}  // namespace detail

// ---- 5f. The Server (its HTTP side — http(), listen(), close() — is an eio::Server, layer 6) ------------------------
//   sio::Server io(opt);
//   io.on_connection([&](sio::Socket& socket) { socket.on("chat message", [&](sio::Event& ev) {
//       io.emit("chat message", ev.args()); }); });
//   io.listen(3000);
class Server : private detail::ServerState {
public:
    inline explicit Server(Options options = {});
    inline ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // ---- namespaces
    inline Namespace& of(const std::string& name);
    inline ParentNamespace& of(ParentNamespace::Matcher matcher);
    ParentNamespace& of(const std::regex& pattern) {
        return of([pattern](const std::string& name, const Value&) { return std::regex_match(name, pattern); });
    }
    // The adapter every namespace gets (those already made and those to come), before listen() or start():
    // io.adapter(sio::redis::createAdapter(options)) joins this server to a cluster.
    inline void adapter(AdapterFactory factory);
    // Every namespace made so far, by name (a snapshot; dynamic namespaces' children, not the parents): io._nsps.
    inline std::vector<Namespace*> namespaces() const;
    // Node's io.on("new_namespace"): runs as a handler for each namespace made after it was added (by of(), or as
    // a dynamic namespace's child once it has its parent's handlers).
    void on_new_namespace(std::function<void(Namespace&)> h) {
        std::lock_guard<std::mutex> lk(mu_);
        new_namespace_handlers_.push_back(std::move(h));
    }

    Namespace& sockets;  // the main namespace "/", as io.sockets in JavaScript

    // ---- the main namespace's API, on the server as in JavaScript
    void on_connection(Namespace::ConnectionHandler h) { sockets.on_connection(std::move(h)); }
    void on_connect(Namespace::ConnectionHandler h) { sockets.on_connection(std::move(h)); }
    void use(Middleware m) { sockets.use(std::move(m)); }
    template <class... A>
    bool emit(const std::string& event, A&&... values) {
        return sockets.emit(event, std::forward<A>(values)...);
    }
    BroadcastOperator to(const Rooms& rooms) { return sockets.to(rooms); }
    BroadcastOperator in(const Rooms& rooms) { return sockets.to(rooms); }
    BroadcastOperator except(const Rooms& rooms) { return sockets.except(rooms); }
    BroadcastOperator timeout(int ms) { return sockets.timeout(ms); }
    BroadcastOperator volatile_() { return sockets.volatile_(); }
    BroadcastOperator local() { return sockets.local(); }
    BroadcastOperator compress(bool on) { return sockets.compress(on); }
    void fetchSockets(FetchCallback cb) { sockets.fetchSockets(std::move(cb)); }
    std::vector<SocketPtr> fetchSockets() { return sockets.fetchSockets(); }  // this process's, at once
    void socketsJoin(const Rooms& rooms) { sockets.socketsJoin(rooms); }
    void socketsLeave(const Rooms& rooms) { sockets.socketsLeave(rooms); }
    void disconnectSockets(bool close = false) { sockets.disconnectSockets(close); }
    template <class... A>
    void serverSideEmit(const std::string& event, A&&... values) {
        sockets.serverSideEmit(event, std::forward<A>(values)...);
    }
    ListenerId on(const std::string& event, Namespace::ServerSideHandler h) { return sockets.on(event, std::move(h)); }

    // ---- HTTP and life cycle (layer 6f: each goes to the eio::Server underneath)
    inline httplib::Server& http();                       // your own routes on the same port: io.http().Get("/", ...)
    inline int start(const std::string& host, int port);  // serves in the background; returns the port
    inline bool listen(int port) { return listen("0.0.0.0", port); }
    inline bool listen(const std::string& host, int port);  // serves until close()
    inline void wait();  // returns once close() was called (from anywhere) and every thread has ended
    // Every socket gets "server shutting down" and every thread is joined. Called in a handler (or on any thread
    // of the server's own) it returns at once, as in Node, and leaves the joins to wait() or the destructor.
    inline void close();
    inline size_t connections_count() const;  // TCP connections open right now (each has a thread)

    const Options& options() const { return options_; }
    inline eio::Engine& engine();            // the Engine.IO server underneath: io.engine in JavaScript
    ServerStats& stats() { return stats_; }  // what the Socket.IO layer counted (the metrics add-on reads it)

private:
    friend class Namespace;  // make_adapter
    friend class Client;     // remove_client, find_namespace
    friend struct detail::TestAccess;

    // The namespace a CONNECT asks for: an existing one, a new child of a matching dynamic one, or null.
    inline Namespace* find_namespace(const std::string& name, const Value& auth);
    // A new Engine.IO session: its Socket.IO Client, kept by sid until the session closes.
    inline void handle_connection(const std::shared_ptr<eio::Socket>& conn);
    void remove_client(const std::string& sid) {
        std::lock_guard<std::mutex> lk(mu_);
        clients_.erase(sid);
    }
    // The namespace `name`, made (as a child of `parent` when there is one) unless it exists; the new_namespace
    // handlers run for one just made.
    inline Namespace& make_namespace(const std::string& name, ParentNamespace* parent);
    inline void new_namespace(Namespace& nsp);
    // io.adapter(...)'s, else the in-memory one: with connection state recovery, the one that keeps sessions.
    std::unique_ptr<Adapter> make_adapter(Namespace& nsp) {
        if (adapter_factory_) return adapter_factory_(nsp);
        if (options_.connectionStateRecovery) return std::make_unique<SessionAwareAdapter>(nsp);
        return std::make_unique<Adapter>(nsp);
    }
    // Once the server has closed: each adapter stops talking to other nodes (not on a handler's thread, which
    // must not wait for the adapter's threads; wait() or the destructor does it then).
    inline void close_adapters();
};

// ---- the Adapter ----------------------------------------------------------------------------------------------------

inline void Adapter::addAll(const SocketPtr& socket, const std::vector<std::string>& rooms) {
    RoomChanges changes;
    {
        std::lock_guard<std::mutex> lk(mu_);
        changes.listeners = room_listeners_;
        auto placed = sids_.try_emplace(socket->id()).first;
        const SidEntry* entry = &*placed;
        Member& member = placed->second;
        member.socket = socket;
        for (auto& room : rooms) {
            member.rooms.insert(room);
            auto r = rooms_.find(room);
            if (r == rooms_.end()) {
                r = rooms_.emplace(room, std::unordered_set<const SidEntry*>{}).first;
                changes.add(RoomEvent::CreateRoom, room);
            }
            if (r->second.insert(entry).second) changes.add(RoomEvent::JoinRoom, room, socket->id());
        }
    }
    notify(changes);
}

inline void Adapter::notify(const RoomChanges& changes) {
    if (changes.events.empty()) return;
    nsp_.server().engine().run_handler([&] {
        for (auto& e : changes.events)
            for (auto& listener : *changes.listeners) listener(e.event, e.room, e.sid);
    });
}

inline std::vector<SocketPtr> Adapter::select(const std::set<std::string>& rooms,
                                              const std::set<std::string>& except) const {
    std::lock_guard<std::mutex> lk(mu_);
    std::vector<SocketPtr> out;
    std::unordered_set<const SidEntry*> excluded;
    for (auto& room : except) {
        auto r = rooms_.find(room);
        if (r != rooms_.end()) excluded.insert(r->second.begin(), r->second.end());
    }
    auto take = [&](const SidEntry* e) {
        if (excluded.empty() || !excluded.count(e)) out.push_back(e->second.socket);
    };
    if (rooms.empty()) {
        out.reserve(sids_.size());
        for (auto& kv : sids_) take(&kv);
        return out;
    }
    if (rooms.size() == 1) {  // the common case: one room, nothing to de-duplicate
        auto r = rooms_.find(*rooms.begin());
        if (r == rooms_.end()) return out;
        out.reserve(r->second.size());
        for (const SidEntry* e : r->second) take(e);
        return out;
    }
    std::unordered_set<const SidEntry*> seen;  // a socket in several of the rooms gets the packet once
    for (auto& room : rooms) {
        auto r = rooms_.find(room);
        if (r == rooms_.end()) continue;
        for (const SidEntry* e : r->second)
            if (seen.insert(e).second) take(e);
    }
    return out;
}

inline std::vector<SocketInfo> Adapter::local_socket_infos(const BroadcastOptions& opts) const {
    std::vector<SocketInfo> out;
    auto sockets = select(opts.rooms, opts.except);
    nsp_.server().engine().run_handler([&] {  // socket.data() is the handlers' to change
        for (auto& s : sockets) out.push_back(SocketInfo{s->id(), s->handshake(), s->rooms(), s->data()});
    });
    return out;
}

inline void Adapter::send_to(const std::vector<SocketPtr>& targets, const packet::Packet& p,
                             const std::vector<eio::OutgoingPtr>& parts, bool volatile_, bool own_thread) const {
    if (detail::trace_enabled())
        detail::trace(
            "*", "socket.io", "->",
            "broadcast to " + std::to_string(targets.size()) + " sockets: " + detail::printable(parts[0]->packet.data));
    auto& server = nsp_.server();
    if (server.engine().traffic().counting() && (p.type == packet::Type::Event || p.type == packet::Type::BinaryEvent))
        server.stats().bump(server.stats().eventsEmitted, targets.size());
    detail::SendBatch batch;  // one write per recipient, however many packets (attachments) it gets
    for (auto& s : targets) {
        s->notify_outgoing(p, own_thread);  // one relaxed load when the socket has no onAnyOutgoing listener
        if (auto client = s->client()) client->send(parts, volatile_, own_thread);
    }
}

inline std::vector<eio::OutgoingPtr> Adapter::encode(const packet::Packet& p) const {
    return detail::to_outgoing(nsp_.server().options(), p);
}
inline void Adapter::broadcast(const packet::Packet& p, const BroadcastOptions& opts) {
    send_to(select(opts.rooms, opts.except), p, detail::to_outgoing(nsp_.server().options(), p), opts.flags.volatile_);
}
inline void Adapter::deliver(const packet::Packet& p, const BroadcastOptions& opts) {
    send_to(select(opts.rooms, opts.except), p, detail::to_outgoing(nsp_.server().options(), p), opts.flags.volatile_,
            true);
}

inline void Adapter::post(std::function<void()> fn) const { ext::post(nsp_.server().engine(), std::move(fn)); }
inline Adapter::TimerId Adapter::after(int ms, std::function<void()> fn) const {
    return ext::post_after(nsp_.server().engine(), ms, std::move(fn));
}
inline void Adapter::cancel(TimerId id) const { ext::cancel(nsp_.server().engine(), id); }
template <class F>
void Adapter::run_handler(F&& fn) const {
    nsp_.server().engine().run_handler(std::forward<F>(fn));
}

inline void Adapter::broadcastWithAck(const packet::Packet& packet, const BroadcastOptions& opts,
                                      BroadcastAckHandlers h) {
    ack_broadcast(packet, opts, std::move(h), false);
}
inline void Adapter::deliver_with_ack(const packet::Packet& packet, const BroadcastOptions& opts,
                                      BroadcastAckHandlers h) {
    ack_broadcast(packet, opts, std::move(h), true);
}
inline void Adapter::ack_broadcast(const packet::Packet& packet, const BroadcastOptions& opts, BroadcastAckHandlers h,
                                   bool own_thread) {
    if (h.serverCount) h.serverCount(1);
    packet::Packet p = packet;
    p.id = nsp_.next_ack_id();  // every recipient answers under this namespace's id
    auto targets = select(opts.rooms, opts.except);
    auto ack = std::make_shared<std::function<void(const Value&)>>(std::move(h.ack));
    for (auto& s : targets)
        s->expect_ack(
            p.id, [ack](const Error&, const Args& response) { (*ack)(response.empty() ? Value() : response[0]); }, -1);
    auto parts = detail::to_outgoing(nsp_.server().options(), p);
    detail::SendBatch batch;
    for (auto& s : targets) {
        s->notify_outgoing(p, own_thread);
        if (auto client = s->client()) client->send(parts, opts.flags.volatile_, own_thread);
    }
    h.clientCount(targets.size());
}

inline void Adapter::addSockets(const BroadcastOptions& opts, const std::vector<std::string>& rooms) {
    for (auto& s : select(opts.rooms, opts.except)) s->join(rooms);
}
inline void Adapter::delSockets(const BroadcastOptions& opts, const std::vector<std::string>& rooms) {
    for (auto& s : select(opts.rooms, opts.except))
        for (auto& room : rooms) s->leave(room);
}
inline void Adapter::disconnectSockets(const BroadcastOptions& opts, bool close) {
    for (auto& s : select(opts.rooms, opts.except)) s->disconnect(close);
}

// ---- the SessionAwareAdapter (connection state recovery) -----------------------------------------------------------

inline SessionAwareAdapter::SessionAwareAdapter(Namespace& nsp)
    : Adapter(nsp),
      options_(nsp.server().options().connectionStateRecovery.value_or(ConnectionStateRecoveryOptions{})),
      store_(std::make_shared<Store>(detail::EngineAccess::timers(nsp.server().engine()),
                                     options_.maxDisconnectionDuration, shared_counters())) {
    // Offsets start from the clock, so that one from before a restart is not taken for one of now.
    store_->next_offset = uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count())
                          << 10;
}

inline SessionAwareAdapter::~SessionAwareAdapter() {
    detail::Timers::Id timer;
    {
        std::lock_guard<std::mutex> lk(store_->mu);
        store_->closed = true;  // a purge already under way will not schedule another
        timer = store_->timer;
        store_->timer = 0;
    }
    if (timer) store_->timers.cancel(timer);
}

inline void SessionAwareAdapter::broadcast(const packet::Packet& packet, const BroadcastOptions& opts) {
    if (packet.type != packet::Type::Event || packet.id >= 0 || opts.flags.volatile_)
        return Adapter::broadcast(packet, opts);  // nothing to store: acks cannot be replayed, volatile may be lost
    packet::Packet p = packet;
    std::vector<eio::OutgoingPtr> parts;
    std::vector<SocketPtr> targets, held;
    {
        // Storing and choosing the recipients together: a socket resuming its session either is chosen here or
        // finds the packet stored (see resumeSession), never both, never neither.
        std::lock_guard<std::mutex> lk(store_->mu);
        const uint64_t offset = store_->next_offset++;
        p.data.push_back(Value(offset_text(offset)));  // the last argument, as the client expects it
        parts = detail::to_outgoing(nsp().server().options(), p);
        Stored stored{offset, opts.rooms, opts.except, parts, Clock::now(), 0};
        for (auto& part : parts)
            stored.bytes += sizeof(eio::Outgoing) + part->packet.data.size() + part->ws_frame.size();
        for (auto it = store_->sessions.begin(); it != store_->sessions.end();) {
            Kept& kept = it->second;
            if (reaches(kept.session.rooms, stored) && (kept.bytes += stored.bytes) > options_.maxSessionBytes) {
                ++store_->sessions_too_large;
                counters().bump(counters().sessionsExpired);
                it = store_->sessions.erase(it);
            } else {
                ++it;
            }
        }
        // A resuming socket gets it after its missed packets, chosen by the rooms it is resuming.
        for (auto& kv : store_->resuming)
            if (reaches(kv.second.rooms, stored)) kv.second.pending.push_back(parts);
        store_->bytes += stored.bytes;
        store_->packets.push_back(std::move(stored));
        purge_locked(*store_);  // (with a maxDisconnectionDuration of 0, this one too)
        schedule_purge_locked(store_);
        targets = select(opts.rooms, opts.except);
        if (!store_->resuming.empty()) {
            auto keep = std::remove_if(targets.begin(), targets.end(), [&](const SocketPtr& s) {
                if (!store_->resuming.count(s->id())) return false;
                held.push_back(s);
                return true;
            });
            targets.erase(keep, targets.end());
        }
    }
    send_to(targets, p, parts, false);
    for (auto& s : held) s->notify_outgoing(p);
}

inline void SessionAwareAdapter::persistSession(const SessionToPersist& session) {
    std::lock_guard<std::mutex> lk(store_->mu);
    store_->sessions[session.pid] = Kept{session, Clock::now(), 0};
    schedule_purge_locked(store_);
}

inline void SessionAwareAdapter::restoreSession(const std::string& pid, const std::string& offset,
                                                RestoreCallback done) {
    auto n = offset_value(offset);
    std::optional<Session> session;
    {
        std::lock_guard<std::mutex> lk(store_->mu);
        purge_locked(*store_);  // an expired session or packet is gone from here on
        auto it = store_->sessions.find(pid);
        auto& packets = store_->packets;
        auto at = std::lower_bound(packets.begin(), packets.end(), n.value_or(0),
                                   [](const Stored& p, uint64_t value) { return p.offset < value; });
        // none kept, or the offset too old or never sent: a new socket
        if (it != store_->sessions.end() && n && at != packets.end() && at->offset == *n) {
            session.emplace();
            static_cast<SessionToPersist&>(*session) = std::move(it->second.session);
            session->offset = offset;
            store_->sessions.erase(it);  // taken: a second connection with the same pid gets a new socket
        }
    }
    done(std::move(session));
}

// Nothing is sent, and the room map is not touched, under the store's lock: a send may close the session and a
// join runs room listeners, and both call back into adapters. So the socket is first marked resuming, with its
// rooms: from then on, what is broadcast to those rooms waits for it in `pending` (it is never chosen directly
// meanwhile). Then it joins, gets the missed packets, then what waited, until nothing does.
inline void SessionAwareAdapter::resumeSession(const SocketPtr& socket, const Session& session) {
    auto client = socket->client();
    if (!client) return;
    std::vector<std::vector<eio::OutgoingPtr>> batch;
    {
        std::lock_guard<std::mutex> lk(store_->mu);
        // What was stored after the client's offset. Were that one purged meanwhile, everything left is newer.
        const uint64_t after = offset_value(session.offset).value_or(0);
        auto& packets = store_->packets;
        auto it = std::upper_bound(packets.begin(), packets.end(), after,
                                   [](uint64_t value, const Stored& p) { return value < p.offset; });
        for (; it != packets.end(); ++it)
            if (reaches(session.rooms, *it)) batch.push_back(it->parts);
        store_->resuming[socket->id()].rooms = session.rooms;
    }
    addAll(socket, std::vector<std::string>(session.rooms.begin(), session.rooms.end()));
    for (;;) {
        {
            detail::SendBatch gather;  // one write for all of them
            for (auto& parts : batch) client->send(parts);
        }
        batch.clear();
        std::lock_guard<std::mutex> lk(store_->mu);
        auto it = store_->resuming.find(socket->id());
        if (it->second.pending.empty()) {
            store_->resuming.erase(it);
            return;
        }
        batch.swap(it->second.pending);
    }
}

inline void SessionAwareAdapter::purge_locked(Store& store) {
    const auto threshold = Clock::now() - std::chrono::milliseconds(store.keep_ms);
    while (!store.packets.empty() && store.packets.front().at < threshold) {
        store.bytes -= store.packets.front().bytes;
        store.packets.pop_front();
    }
    for (auto it = store.sessions.begin(); it != store.sessions.end();) {
        if (it->second.left >= threshold) {
            ++it;
            continue;
        }
        store.stats->bump(store.stats->sessionsExpired);
        it = store.sessions.erase(it);
    }
}

// While anything is stored, a purge runs now and then, so that a namespace gone quiet lets its packets go too. The
// timer holds the store weakly and runs on the timer thread, without the timers' lock.
inline void SessionAwareAdapter::schedule_purge_locked(const std::shared_ptr<Store>& store) {
    if (store->timer || store->closed) return;
    std::weak_ptr<Store> weak = store;
    store->timer = store->timers.after(std::clamp(store->keep_ms / 4, 1000, 60000), [weak] {
        auto s = weak.lock();
        if (!s) return;
        std::lock_guard<std::mutex> lk(s->mu);
        s->timer = 0;
        purge_locked(*s);
        if (!s->packets.empty() || !s->sessions.empty()) schedule_purge_locked(s);
    });
}

// socket.handshake as Node writes it into a fetchSockets answer, and back: what crosses nodes.
inline Value to_value(const Handshake& h) {
    Value::Object headers, query;
    for (auto& kv : h.headers) headers[kv.first] = kv.second;
    for (auto& kv : h.query) query[kv.first] = kv.second;
    return Value(Value::Object{{"headers", Value(std::move(headers))},
                               {"time", h.time},
                               {"address", h.address},
                               {"xdomain", h.xdomain},
                               {"secure", h.secure},
                               {"issued", h.issued},
                               {"url", h.url},
                               {"query", Value(std::move(query))},
                               {"auth", h.auth}});
}
inline Handshake handshake_from_value(const Value& v) {
    auto text = [](const Value& x) {
        return x.is_string() ? x.as_string() : x.is_null() ? std::string() : x.to_json();
    };
    Handshake h;
    if (v["headers"].is_object())
        for (auto& kv : v["headers"].as_object()) h.headers[kv.first] = text(kv.second);
    h.time = text(v["time"]);
    h.address = text(v["address"]);
    h.xdomain = v["xdomain"].is_bool() && v["xdomain"].as_bool();
    h.secure = v["secure"].is_bool() && v["secure"].as_bool();
    h.issued = v["issued"].is_number() ? static_cast<long long>(v["issued"].as_number()) : 0;
    h.url = text(v["url"]);
    if (v["query"].is_object())
        for (auto& kv : v["query"].as_object()) h.query[kv.first] = text(kv.second);
    h.auth = v["auth"].is_object() ? v["auth"] : Value(Object{});
    return h;
}

// ---- the BroadcastOperator ------------------------------------------------------------------------------------------

namespace detail {

// The answers to a broadcast that asked for acknowledgements, as Node counts them: every namespace reached says how
// many nodes will report, each node how many of its sockets got the packet, each socket answers once. The callback
// runs once, when all of that is in, or at the time-out with an error and the answers so far.
class BroadcastAcks : public std::enable_shared_from_this<BroadcastAcks> {
public:
    BroadcastAcks(eio::Engine& engine, ServerStats& stats, AckCallback cb, size_t namespaces)
        : engine_(engine), stats_(stats), cb_(std::move(cb)), namespaces_left_(namespaces) {}

    void start_timeout(int ms) {
        auto self = shared_from_this();
        // The callback is user code: the timer hands it to the handler thread (3a).
        auto timer = detail::EngineAccess::timers(engine_).after(
            ms, [self] { self->engine_.post_handler([self] { self->finish(true); }); });
        std::lock_guard<std::mutex> lk(mu_);
        timer_ = timer;
    }
    // What an adapter reports to, for one namespace.
    BroadcastAckHandlers handlers() {
        auto self = shared_from_this();
        return BroadcastAckHandlers{
            [self](size_t servers) { self->update(&self->servers_expected_, servers, true); },
            [self](size_t clients) { self->update(&self->clients_expected_, clients, false, true); },
            [self](const Value& response) { self->answer(response); }};
    }
    // Nothing to wait for when no namespace was reached.
    void check() { update(nullptr, 0); }

private:
    void update(size_t* counter, size_t n, bool namespace_done = false, bool server_reported = false) {
        {
            std::lock_guard<std::mutex> lk(mu_);
            if (done_) return;
            if (counter) *counter += n;
            if (namespace_done && namespaces_left_ > 0) --namespaces_left_;
            if (server_reported) ++servers_reported_;
            if (!complete()) return;
        }
        finish(false);
    }
    void answer(const Value& response) {
        {
            std::lock_guard<std::mutex> lk(mu_);
            if (done_) return;
            responses_.push_back(response);
            if (!complete()) return;
        }
        finish(false);
    }
    bool complete() const {
        return namespaces_left_ == 0 && servers_reported_ >= servers_expected_ &&
               responses_.size() >= clients_expected_;
    }
    void finish(bool timed_out) {
        AckCallback cb;
        Args responses;
        {
            std::lock_guard<std::mutex> lk(mu_);
            if (done_) return;
            done_ = true;
            cb = std::move(cb_);
            responses = std::move(responses_);
            if (!timed_out) detail::EngineAccess::timers(engine_).cancel(timer_);
        }
        if (timed_out) stats_.bump(stats_.ackTimeouts);
        engine_.run_handler([&] { cb(timed_out ? Error{"operation has timed out"} : Error{}, responses); });
    }

    eio::Engine& engine_;
    ServerStats& stats_;
    std::mutex mu_;  // see LOCK ORDER (3a): before the timers' lock
    AckCallback cb_;
    Args responses_;
    size_t namespaces_left_, servers_expected_ = 0, servers_reported_ = 0, clients_expected_ = 0;
    bool done_ = false;
    Timers::Id timer_ = 0;
};

}  // namespace detail

inline bool BroadcastOperator::emit_args(const std::string& event, const Args& args, AckCallback ack) const {
    packet::Packet p = detail::event_packet(std::string(), event, args, -1);  // throws for a reserved name
    auto targets = nsp_->broadcast_targets();
    std::shared_ptr<detail::BroadcastAcks> acks;
    if (ack) {
        acks = std::make_shared<detail::BroadcastAcks>(nsp_->server().engine(), nsp_->server().stats(), std::move(ack),
                                                       targets.size());
        if (opts_.flags.timeout >= 0) acks->start_timeout(opts_.flags.timeout);
    }
    detail::SendBatch batch;  // across the namespaces reached: still one write per recipient
    // Each namespace reached (this one, or a dynamic namespace's children) gets the packet under its own name,
    // through its own adapter (which, for an ack, gives it an id of that namespace's).
    for (Namespace* nsp : targets) {
        p.nsp = nsp->name();
        if (acks) nsp->adapter().broadcastWithAck(p, opts_, acks->handlers());
        else nsp->adapter().broadcast(p, opts_);
    }
    if (acks) acks->check();
    return true;
}

inline void BroadcastOperator::fetchSockets(FetchCallback cb) const {
    // The answers of every namespace reached are gathered, then the callback runs once, as a handler.
    struct Gather {
        std::mutex mu;
        size_t left;
        Error error;
        std::vector<RemoteSocket> sockets;
        FetchCallback cb;
    };
    auto targets = nsp_->broadcast_targets();
    auto gather = std::make_shared<Gather>();
    gather->left = targets.size();
    gather->cb = std::move(cb);
    auto& engine = nsp_->server().engine();
    auto finish = [gather, &engine] {
        engine.run_handler([&] { gather->cb(gather->error, std::move(gather->sockets)); });
    };
    if (targets.empty()) return finish();
    for (Namespace* nsp : targets) {
        nsp->adapter().fetchSockets(opts_, [gather, nsp, finish](const Error& err, std::vector<SocketInfo> infos) {
            auto here = nsp->sockets();
            {
                std::lock_guard<std::mutex> lk(gather->mu);
                if (err && !gather->error) gather->error = err;
                for (auto& info : infos) {
                    auto live = here.find(info.id);
                    SocketPtr local = live == here.end() ? nullptr : live->second;
                    gather->sockets.emplace_back(*nsp, std::move(info), std::move(local));
                }
                if (--gather->left > 0) return;
            }
            finish();
        });
    }
}

inline std::vector<SocketPtr> BroadcastOperator::fetchSockets() const {
    std::vector<SocketPtr> out;
    for (Namespace* nsp : nsp_->broadcast_targets()) {
        auto some = nsp->adapter().select(opts_.rooms, opts_.except);
        if (out.empty()) out = std::move(some);
        else out.insert(out.end(), some.begin(), some.end());
    }
    return out;
}
inline void BroadcastOperator::socketsJoin(const Rooms& rooms) const {
    for (Namespace* nsp : nsp_->broadcast_targets()) nsp->adapter().addSockets(opts_, rooms.names);
}
inline void BroadcastOperator::socketsLeave(const Rooms& rooms) const {
    for (Namespace* nsp : nsp_->broadcast_targets()) nsp->adapter().delSockets(opts_, rooms.names);
}
inline void BroadcastOperator::disconnectSockets(bool close) const {
    for (Namespace* nsp : nsp_->broadcast_targets()) nsp->adapter().disconnectSockets(opts_, close);
}

// ---- the Socket -----------------------------------------------------------------------------------------------------

inline eio::Socket& Socket::conn() const {
    auto c = client_.lock();
    if (!c) throw std::logic_error("sio::Socket::conn(): the connection is gone");
    return c->conn();
}

inline Socket::Socket(ServerKey, Namespace& nsp, const std::shared_ptr<Client>& client, Handshake handshake,
                      std::optional<Session> restored)
    : nsp_(nsp),
      client_(client),
      // Derived from the Engine.IO sid where the client works it out so (v3: "/admin#<sid>"), else drawn (2h).
      id_(restored ? restored->sid
          : client ? client->conn().codec().socket_id(nsp.name(), client->conn().id(), &detail::random_id)
                   : detail::random_id()),
      pid_(restored                                         ? restored->pid
           : nsp.server().options().connectionStateRecovery ? detail::random_id()
                                                            : ""),
      handshake_(std::move(handshake)),
      recovered_(restored.has_value()) {
    if (restored) {
        data_ = std::move(restored->data);
        resume_ = std::move(restored);
    }
}

inline std::set<std::string> Socket::rooms() const { return nsp_.adapter().socketRooms(id_); }

inline BroadcastOperator Socket::to(const Rooms& rooms) { return broadcast().to(rooms); }
inline BroadcastOperator Socket::except(const Rooms& rooms) { return broadcast().except(rooms); }
inline BroadcastOperator Socket::broadcast() { return BroadcastOperator(nsp_, {}, {id_}); }

inline void Socket::join(const Rooms& rooms) {
    if (!connected_) return;
    nsp_.adapter().addAll(shared_from_this(), rooms.names);
}
inline void Socket::leave(const std::string& room) { nsp_.adapter().del(id_, room); }

inline void Socket::send_packet(const packet::Packet& p, bool volatile_) {
    if (auto c = client_.lock()) c->send(p, volatile_);
}

inline bool Socket::emit_args(const std::string& event, const Args& args, AckCallback ack, int timeout,
                              bool volatile_) {
    long long id = ack ? nsp_.next_ack_id() : -1;
    packet::Packet p = detail::event_packet(nsp_.name(), event, args, id);  // throws for a reserved name
    if (!ack && !volatile_ && nsp_.server().options().connectionStateRecovery) {
        // As in Node, a broadcast to the socket's own room, so that the adapter stores it (with its offset) for
        // when the socket comes back; even while it is away. No other node has that room: `local`, unless the
        // adapter keeps sessions for every node.
        BroadcastOptions to_self;
        to_self.rooms = {id_};
        to_self.flags.local = !nsp_.adapter().recoversAcrossNodes();
        nsp_.adapter().broadcast(p, to_self);
        return true;
    }
    if (!connected_) return false;
    notify_outgoing(event, args);
    if (ack) expect_ack(id, std::move(ack), timeout);
    if (nsp_.server().engine().traffic().counting()) nsp_.server().stats().bump(nsp_.server().stats().eventsEmitted);
    send_packet(p, volatile_);
    return true;
}

inline void Socket::notify_outgoing(const packet::Packet& p, bool hand_over) {
    if (!has_outgoing_.load(std::memory_order_relaxed)) return;
    const auto& data = p.data.as_array();
    if (data.empty() || !data[0].is_string()) return;
    Args args(std::vector<Value>(data.begin() + 1, data.end()));
    if (!hand_over) return run_outgoing(data[0].as_string(), args);
    nsp_.server().engine().post_handler([self = shared_from_this(), event = data[0].as_string(),
                                         args = std::move(args)] { self->run_outgoing(event, args); });
}

inline void Socket::run_outgoing(const std::string& event, const Args& args) {
    std::vector<Listener> outgoing;
    {
        std::lock_guard<std::mutex> lk(mu_);
        outgoing = any_outgoing_;
    }
    if (outgoing.empty()) return;
    Event ev(*this, event, args);
    // Listeners are handlers: one at a time, even when the emit or broadcast comes from another thread.
    nsp_.server().engine().run_handler([&] {
        for (auto& l : outgoing) l.fn(ev);
    });
}

inline void Socket::expect_ack(long long id, AckCallback cb, int timeout) {
    std::lock_guard<std::mutex> lk(mu_);
    detail::Timers::Id timer = 0;
    if (timeout >= 0) {
        std::weak_ptr<Socket> weak = shared_from_this();
        auto& engine = nsp_.server().engine();
        // The callback is user code: the timer hands it to the handler thread (3a), which runs it as a handler.
        timer = detail::EngineAccess::timers(engine).after(timeout, [weak, id, &engine] {
            engine.post_handler([weak, id] {
                auto self = weak.lock();
                if (!self) return;
                AckCallback fn;
                {
                    std::lock_guard<std::mutex> lk2(self->mu_);
                    auto it = self->acks_.find(id);
                    if (it == self->acks_.end()) return;
                    fn = std::move(it->second.cb);
                    self->acks_.erase(it);
                }
                self->nsp_.server().stats().bump(self->nsp_.server().stats().ackTimeouts);
                fn(Error{"operation has timed out"}, Args{});
            });
        });
    }
    acks_[id] = PendingAck{std::move(cb), timer};
}

inline void Socket::handle_ack(packet::Packet& p) {
    AckCallback fn;
    {
        std::lock_guard<std::mutex> lk(mu_);
        auto it = acks_.find(p.id);
        if (it == acks_.end()) return;  // unknown or already timed out: ignored, as the reference does
        fn = std::move(it->second.cb);
        detail::EngineAccess::timers(nsp_.server().engine()).cancel(it->second.timer);
        acks_.erase(it);
    }
    Args response(p.data.as_array());
    fn(Error{}, response);
}

inline void Socket::dispatch(Event& ev, const std::vector<Listener>* any) {
    std::vector<Listener> listeners;
    {
        std::lock_guard<std::mutex> lk(mu_);
        if (any) listeners = *any;
        auto it = listeners_.find(ev.name());
        if (it != listeners_.end()) {
            listeners.insert(listeners.end(), it->second.begin(), it->second.end());
            auto& v = it->second;
            v.erase(std::remove_if(v.begin(), v.end(), [](const Listener& l) { return l.once; }), v.end());
        }
    }
    for (auto& l : listeners) l.fn(ev);
}

inline void Socket::handle_event(packet::Packet& p) {
    const auto& data = p.data.as_array();
    const Value& name = data[0];
    std::string event = name.is_string() ? name.as_string() : Value(name).to_json();
    Args args(std::vector<Value>(data.begin() + 1, data.end()));
    std::function<void(Args)> ack;
    if (p.id >= 0) {
        std::weak_ptr<Socket> weak = shared_from_this();
        long long id = p.id;
        ack = [weak, id](Args response) {
            auto self = weak.lock();
            if (!self || !self->connected_) return;
            packet::Packet reply;
            reply.type = packet::Type::Ack;
            reply.nsp = self->nsp_.name();
            reply.id = id;
            reply.has_data = true;
            reply.data = Value(Value::Array(response.begin(), response.end()));
            self->nsp_.server().stats().bump(self->nsp_.server().stats().acksSent);
            self->send_packet(reply);
        };
    }
    Event ev(*this, std::move(event), std::move(args), std::move(ack));
    std::vector<Listener> any;
    {
        std::lock_guard<std::mutex> lk(mu_);
        any = any_;
    }
    dispatch(ev, &any);
}

inline void Socket::handle_connect() {
    connected_ = true;
    // A recovered socket joins its rooms, its own among them, only as it resumes (below): a packet sent to one of
    // them before then is among the missed ones, and one sent while it resumes waits for them, never sent twice.
    if (resume_) resume_->rooms.insert(id_);
    else join(id_);
    packet::Packet p;
    p.type = packet::Type::Connect;
    p.nsp = nsp_.name();
    auto c = client_.lock();
    if (!c) return;
    // Socket.IO v4 (Engine.IO v3) answers bare ("0/admin,"): its client derives the id from the sid it knows.
    p.has_data = c->conn().codec().sid_in_connect_answer;
    if (p.has_data) p.data = pid_.empty() ? Object{{"sid", id_}} : Object{{"sid", id_}, {"pid", pid_}};
    c->send_connect_answer(p);
    // The missed packets follow the CONNECT (Node sends them before it). socket.io-client keeps what comes before a
    // CONNECT across a drop without moving its offset: a recovery that dropped again before its CONNECT would get
    // the same packets twice. After it, each packet the client handles moves its offset, so a second recovery
    // resends only what it did not get.
    if (resume_) {
        nsp_.adapter().resumeSession(shared_from_this(), *resume_);
        resume_.reset();
    }
}

inline Socket& Socket::disconnect(bool close) {
    if (!connected_) return *this;
    // "disconnecting" and "disconnect" handlers run here: under the handler lock, whichever thread calls.
    nsp_.server().engine().run_handler([&] {
        if (close) {
            if (auto c = client_.lock()) c->disconnect_all();
            return;
        }
        disconnect_because(reason::ServerNamespaceDisconnect);
    });
    return *this;
}

inline void Socket::disconnect_because(const char* why, const std::string& description) {
    nsp_.server().engine().run_handler([&] {
        packet::Packet p;
        p.type = packet::Type::Disconnect;
        p.nsp = nsp_.name();
        send_packet(p);
        handle_close(why, description);
    });
}

// "disconnecting" (rooms still readable), then the socket leaves everything, then "disconnect".
inline void Socket::handle_close(const std::string& why, const std::string& description) {
    {
        std::lock_guard<std::mutex> lk(mu_);
        if (!connected_ || closing_) return;
        closing_ = true;
    }
    auto self = shared_from_this();  // the maps below hold the last references
    Args args{Value(why)};
    if (!description.empty()) args.push_back(Value(description));
    Event disconnecting(*this, "disconnecting", args);
    dispatch(disconnecting, nullptr);
    if (!pid_.empty() && reason::is_recoverable(why)) {  // lost, not left: kept for when the client comes back
        nsp_.adapter().persistSession(SessionToPersist{id_, pid_, rooms(), data_});
        nsp_.adapter().counters().bump(nsp_.adapter().counters().sessionsKept);
    }
    nsp_.adapter().delAll(id_);
    nsp_.remove(id_);
    if (auto c = client_.lock()) c->remove_socket(nsp_.name());
    connected_ = false;
    {
        std::lock_guard<std::mutex> lk(mu_);
        for (auto& kv : acks_) detail::EngineAccess::timers(nsp_.server().engine()).cancel(kv.second.timer);
        acks_.clear();
    }
    Event disconnect(*this, "disconnect", args);
    dispatch(disconnect, nullptr);
}

// ---- the Namespace --------------------------------------------------------------------------------------------------

inline Namespace::Namespace(Server& server, std::string name)
    : server_(server), name_(std::move(name)), adapter_(server.make_adapter(*this)) {
    adapter_->init();
}

inline void Namespace::serverSideEmit_args(const std::string& event, const Args& args, AckCallback ack) {
    if (packet::is_reserved_event(event)) throw std::invalid_argument("\"" + event + "\" is a reserved event name");
    Args data;
    data.reserve(args.size() + 1);
    data.emplace_back(event);
    data.insert(data.end(), args.begin(), args.end());
    if (ack) {  // the adapter may answer from any thread: the callback runs as a handler
        auto& engine = server_.engine();
        ack = [fn = std::move(ack), &engine](const Error& err, const Args& responses) {
            engine.run_handler([&] { fn(err, responses); });
        };
    }
    adapter_->serverSideEmit(data, std::move(ack));
}

inline ListenerId Namespace::on(const std::string& event, ServerSideHandler h) {
    if (event == "connection" || event == "connect")
        throw std::invalid_argument("io.on(\"" + event + "\") is io.on_connection(...) here");
    std::lock_guard<std::mutex> lk(mu_);
    server_side_handlers_.emplace(event, std::make_pair(++last_listener_id_, std::move(h)));
    return last_listener_id_;
}

inline void Namespace::handle_server_side_emit(const Args& data, std::function<void(const Value&)> reply) {
    if (data.empty() || !data[0].is_string()) return;
    std::vector<ServerSideHandler> handlers;
    {
        std::lock_guard<std::mutex> lk(mu_);
        auto range = server_side_handlers_.equal_range(data[0].as_string());
        for (auto it = range.first; it != range.second; ++it) handlers.push_back(it->second.second);
    }
    if (handlers.empty()) return;  // no listener, no answer: a sender that waits times out, as in Node
    ServerEvent ev(data[0].as_string(), Args(std::vector<Value>(data.begin() + 1, data.end())), std::move(reply));
    server_.engine().run_handler([&] {
        for (auto& h : handlers) h(ev);
    });
}

// Runs the middlewares in order; the first that refuses ends the chain. next() may be called later, from any thread.
inline void Namespace::add(const std::shared_ptr<Client>& client, const Value& auth) {
    // Connection state recovery: a client that comes back sends the pid of its session and the last offset it saw.
    // The adapter may answer later, from its own thread: the socket is made then, as a handler.
    const auto& recovery = server_.options().connectionStateRecovery;
    if (recovery && auth["pid"].is_string() && auth["offset"].is_string()) {
        return adapter_->restoreSession(auth["pid"].as_string(), auth["offset"].as_string(),
                                        [this, client, auth](std::optional<Session> restored) {
                                            if (client->conn().ready_state() != eio::Socket::ReadyState::Open) return;
                                            if (restored)
                                                adapter_->counters().bump(adapter_->counters().sessionsRestored);
                                            add_socket(client, auth, std::move(restored));
                                        });
    }
    add_socket(client, auth, std::nullopt);
}

inline void Namespace::add_socket(const std::shared_ptr<Client>& client, const Value& auth,
                                  std::optional<Session> restored) {
    const auto& recovery = server_.options().connectionStateRecovery;
    auto socket =
        std::make_shared<Socket>(ServerKey{}, *this, client, client->make_handshake(auth), std::move(restored));
    std::vector<Middleware> chain;
    if (!(socket->recovered() && recovery->skipMiddlewares)) {
        std::lock_guard<std::mutex> lk(mu_);
        chain = middlewares_;
    }
    auto shared_chain = std::make_shared<std::vector<Middleware>>(std::move(chain));
    auto finish = [this, socket, client](const ConnectError* error) {
        if (client->conn().ready_state() != eio::Socket::ReadyState::Open) return;
        if (error) {
            server_.stats().bump(server_.stats().middlewareRefusals);
            packet::Packet p;
            p.type = packet::Type::ConnectError;
            p.nsp = name_;
            p.has_data = true;
            // Socket.IO v5: {"message", "data"}; v4 (Engine.IO v3): the data alone, or else the message.
            p.data = client->conn().codec().connect_error_data(error->message, error->data);
            client->send_connect_answer(p);
            return;
        }
        {
            std::lock_guard<std::mutex> lk(mu_);
            sockets_[socket->id()] = socket;
        }
        client->add_socket(socket);
        socket->handle_connect();
        std::vector<ConnectionHandler> handlers;
        {
            std::lock_guard<std::mutex> lk(mu_);
            handlers = connection_handlers_;
        }
        for (auto& h : handlers) h(*socket);
    };
    // step(i) runs middleware i; its next() runs step(i + 1) (once), under the handler lock if called later.
    auto step = std::make_shared<std::function<void(size_t)>>();
    std::weak_ptr<std::function<void(size_t)>> weak_step = step;
    auto& engine = server_.engine();
    *step = [shared_chain, socket, finish, weak_step, &engine](size_t i) {
        if (i == shared_chain->size()) return finish(nullptr);
        auto called = std::make_shared<std::atomic<bool>>(false);
        auto keep = weak_step.lock();
        (*shared_chain)[i](*socket, Next([called, keep, i, finish, &engine](const ConnectError* error) {
            if (called->exchange(true)) return;
            engine.run_handler([&] {
                if (error) finish(error);
                else (*keep)(i + 1);
            });
        }));
    };
    (*step)(0);
}

// ---- the Client -----------------------------------------------------------------------------------------------------

namespace detail {

// A header the client sent more than once, as Node's http module folds it into req.headers: the first one kept for
// the fields that cannot repeat, cookies joined with "; ", every other field's values with ", ".
inline void add_header_line(std::map<std::string, std::string>& headers, const std::string& name,
                            const std::string& value) {
    auto it = headers.find(name);
    if (it == headers.end()) {
        headers.emplace(name, value);
        return;
    }
    static const std::set<std::string> first_only = {
        "age",           "authorization", "content-length", "content-type",        "etag",
        "expires",       "from",          "host",           "if-modified-since",   "if-unmodified-since",
        "last-modified", "location",      "max-forwards",   "proxy-authorization", "referer",
        "retry-after",   "server",        "user-agent"};
    if (first_only.count(name)) return;
    it->second += (name == "cookie" ? "; " : ", ") + value;
}

// `t` as JavaScript's Date.prototype.toString() writes it, in the process's time zone:
// "Thu Dec 03 2026 08:01:42 GMT+0000 (Coordinated Universal Time)". Node names the zone from ICU's long names; this
// header knows UTC's, and writes the C library's abbreviation ("CET") for any other.
inline std::string js_date_string(std::time_t t) {
    // The C library reads the time zone once, on the first localtime_r of the process, and allocates the zone's
    // names then; done here once before any thread's first call, so that no two threads race on it.
    static const bool zone_read = [] {
        tzset();
        return true;
    }();
    (void)zone_read;
    std::tm tm{};
    localtime_r(&t, &tm);
    char when[48];
    std::strftime(when, sizeof when, "%a %b %d %Y %H:%M:%S", &tm);
    const int offset = static_cast<int>(tm.tm_gmtoff / 60);  // minutes east of UTC
    const int minutes = (offset < 0 ? -offset : offset) % (24 * 60);
    char zone[32];
    std::snprintf(zone, sizeof zone, "GMT%c%02d%02d", offset < 0 ? '-' : '+', minutes / 60, minutes % 60);
    const std::string abbreviation = tm.tm_zone ? tm.tm_zone : "";
    const bool utc = offset == 0 && (abbreviation == "UTC" || abbreviation == "GMT" || abbreviation.empty());
    return std::string(when) + " " + zone + " (" + (utc ? "Coordinated Universal Time" : abbreviation) + ")";
}

}  // namespace detail

namespace detail {
template <class T, class = void>
struct has_buckets : std::false_type {};
template <class T>
struct has_buckets<T, std::void_t<decltype(std::declval<const T&>().bucket_count())>> : std::true_type {};
}  // namespace detail

inline Handshake Client::make_handshake(const Value& auth) const {
    const auto& req = conn_->request();
    Handshake h;
    // A repeated header's values, in the order the client sent them. httplib up to 0.17 keeps headers in a multimap
    // (equal names in insertion order); from 0.18 in an unordered_multimap, where libstdc++ puts each later value
    // before the equal ones already there.
    std::map<std::string, std::vector<std::string>> lines;
    for (auto& kv : req.headers) {
        std::string name = detail::lowercase(kv.first);
        if (name == "remote_addr" || name == "remote_port" || name == "local_addr" || name == "local_port") continue;
        lines[name].push_back(kv.second);
    }
    for (auto& kv : lines) {
        if (detail::has_buckets<httplib::Headers>::value) std::reverse(kv.second.begin(), kv.second.end());
        for (auto& value : kv.second) detail::add_header_line(h.headers, kv.first, value);
    }
    auto now = std::chrono::system_clock::now();
    h.issued = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    h.time = detail::js_date_string(std::chrono::system_clock::to_time_t(now));
    h.address = req.remote_addr;
    h.xdomain = req.has_header("Origin");
    h.secure = conn_->secure();
    h.url = req.target;
    for (auto& kv : req.params) h.query[kv.first] = kv.second;  // a key given twice: the last one, as engine.io 6.6
    h.auth = auth.is_null() ? Value(Object{}) : auth;
    return h;
}

inline void Client::start() {
    auto self = shared_from_this();
    // These handlers hold the Client; the session drops them when it closes, which ends the cycle.
    conn_->on_message([self](const eio::Packet& m) { self->handle_data(m); });
    conn_->on_close(
        [self](const std::string& why, const std::string& description) { self->handle_conn_close(why, description); });
    std::weak_ptr<Client> weak = self;
    auto& engine = server_.engine();
    // Closing reaches the close handlers: the timer hands it to the handler thread (3a).
    connect_timer_ = detail::EngineAccess::timers(engine).after(server_.options().connectTimeout, [weak, &engine] {
        engine.post_handler([weak] {
            auto c = weak.lock();
            if (!c) return;
            bool joined;
            {
                std::lock_guard<std::mutex> lk(c->mu_);
                joined = !c->sockets_.empty();
            }
            if (!joined) c->conn_->close();  // not under mu_: closing calls back into handle_close()
        });
    });
    // Options::eventRateLimit: the session paces its input; held back too long, the client is sent away. That runs
    // on the connection's thread with no lock held (eio::Socket::limit_input).
    if (const auto& limit = server_.options().eventRateLimit)
        conn_->limit_input(*limit, limit->maxThrottledMs, [weak, &server = server_] {
            auto c = weak.lock();
            if (!c) return;
            server.stats().bump(server.stats().rateLimited);
            c->disconnect_all(reason::RateLimited, "more events than Options::eventRateLimit lets through");
        });
    // An Engine.IO v3 client speaks Socket.IO v4, where "/" is joined without asking: the server connects it at once.
    if (conn_->codec().implicit_main_connect) connect("/", Value(Object{}));
}

// The auth of a Socket.IO v4 CONNECT (Engine.IO v3): its namespace's query ("/admin?token=abc") as an object of
// strings, decoded as URLSearchParams decodes ('+' is a space; a bad escape stays as it is); a repeated key keeps
// its last value.
inline Value Client::query_object(std::string_view query) {
    auto decode = [](std::string_view in) {
        auto hex = [](char c) {
            return c >= '0' && c <= '9'   ? c - '0'
                   : c >= 'a' && c <= 'f' ? c - 'a' + 10
                   : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                          : -1;
        };
        std::string out;
        for (size_t i = 0; i < in.size(); ++i) {
            if (in[i] == '+') out += ' ';
            else if (in[i] == '%' && i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
                out += char(hex(in[i + 1]) * 16 + hex(in[i + 2]));
                i += 2;
            } else out += in[i];
        }
        return out;
    };
    Object out;
    while (!query.empty()) {
        const size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (pair.empty()) continue;
        const size_t eq = pair.find('=');
        out[decode(pair.substr(0, eq))] =
            decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    }
    return Value(std::move(out));
}

inline void Client::send(const packet::Packet& p, bool volatile_) {
    if (detail::trace_enabled()) detail::trace(conn_->id(), "socket.io", "->", packet::describe(p));
    send(detail::to_outgoing(server_.options(), p), volatile_);
}

inline void Client::handle_data(const eio::Packet& m) {
    if (!decoder_) decoder_ = detail::parser_of(server_.options()).decoder(server_.options().maxHttpBufferSize);
    packet::Packet p;
    std::string error;
    switch (decoder_->add(m, p, error)) {
    case Parser::Decoder::Result::More: return;
    case Parser::Decoder::Result::Error: return parse_error(error);
    case Parser::Decoder::Result::Packet: return handle_decoded(p);
    }
}

inline void Client::handle_decoded(packet::Packet& p) {
    if (detail::trace_enabled()) detail::trace(conn_->id(), "socket.io", "<-", packet::describe(p));
    // Socket.IO v4 (Engine.IO v3): the namespace may carry a query, which is the auth of a CONNECT.
    if (conn_->codec().auth_in_namespace_query) {
        const size_t q = p.nsp.find('?');
        Value auth = query_object(q == std::string::npos ? std::string_view() : std::string_view(p.nsp).substr(q + 1));
        if (q != std::string::npos) p.nsp.erase(q);
        if (p.type == packet::Type::Connect) return connect(p.nsp, auth);
    }
    switch (p.type) {
    case packet::Type::Connect: return connect(p.nsp, p.has_data ? p.data : Value(Object{}));
    case packet::Type::ConnectError: return parse_error("CONNECT_ERROR from a client");
    default: break;
    }
    SocketPtr socket = socket_for(p.nsp);
    if (!socket) {  // a packet for a namespace it is not connected to: the reference closes the connection
        if (detail::trace_enabled()) detail::trace(conn_->id(), "socket.io", "<-", "invalid state: closing");
        return conn_->close();
    }
    switch (p.type) {
    case packet::Type::Disconnect: socket->handle_close(reason::ClientNamespaceDisconnect, ""); break;
    case packet::Type::Event:
    case packet::Type::BinaryEvent:
        if (server_.engine().traffic().counting()) server_.stats().bump(server_.stats().eventsReceived);
        if (server_.options().eventRateLimit) conn_->charge_input();  // paid for before the next read (limit_input)
        socket->handle_event(p);
        break;
    case packet::Type::Ack:
    case packet::Type::BinaryAck: socket->handle_ack(p); break;
    default: break;
    }
}

inline void Client::connect(const std::string& name, const Value& auth) {
    if (socket_for(name)) return conn_->close();  // a second CONNECT: invalid state, as in the reference
    Namespace* nsp = server_.find_namespace(name, auth);
    if (!nsp) {
        packet::Packet p;
        p.type = packet::Type::ConnectError;
        p.nsp = name;
        p.has_data = true;
        p.data = Object{{"message", "Invalid namespace"}};
        return send_connect_answer(p);
    }
    detail::EngineAccess::timers(server_.engine()).cancel(connect_timer_);
    nsp->add(shared_from_this(), auth);
}

inline void Client::disconnect_all(const char* why, const std::string& description) {
    std::map<std::string, SocketPtr> sockets;
    {
        std::lock_guard<std::mutex> lk(mu_);
        sockets = sockets_;
    }
    for (auto& kv : sockets)
        if (kv.second->connected()) kv.second->disconnect_because(why, description);
    conn_->close();
}

inline void Client::handle_conn_close(const std::string& why, const std::string& description) {
    detail::EngineAccess::timers(server_.engine()).cancel(connect_timer_);
    std::map<std::string, SocketPtr> sockets;
    {
        std::lock_guard<std::mutex> lk(mu_);
        sockets.swap(sockets_);
    }
    for (auto& kv : sockets) kv.second->handle_close(why, description);
    server_.remove_client(conn_->id());
}

// ---- the Server's Socket.IO side ------------------------------------------------------------------------------------

inline void Server::handle_connection(const std::shared_ptr<eio::Socket>& conn) {
    auto client = std::make_shared<Client>(ServerKey{}, *this, conn);
    {
        std::lock_guard<std::mutex> lk(mu_);
        clients_[conn->id()] = client;
    }
    client->start();
}

inline Namespace& Server::of(const std::string& requested) {
    return make_namespace(requested.empty() || requested[0] != '/' ? "/" + requested : requested, nullptr);
}

inline Namespace& Server::make_namespace(const std::string& name, ParentNamespace* parent) {
    Namespace* nsp;
    bool made = false;
    {
        std::lock_guard<std::mutex> lk(mu_);
        auto& slot = namespaces_[name];
        if (!slot) {
            slot = std::make_unique<Namespace>(*this, name);
            if (parent) {
                slot->inherit(*parent);
                parent->add_child(slot.get());
            }
            made = true;
        }
        nsp = slot.get();
    }
    if (made) new_namespace(*nsp);
    return *nsp;
}

inline std::vector<Namespace*> Server::namespaces() const {
    std::lock_guard<std::mutex> lk(mu_);
    std::vector<Namespace*> out;
    for (auto& kv : namespaces_) out.push_back(kv.second.get());
    return out;
}

inline void Server::new_namespace(Namespace& nsp) {
    std::vector<std::function<void(Namespace&)>> handlers;
    {
        std::lock_guard<std::mutex> lk(mu_);
        handlers = new_namespace_handlers_;
    }
    if (handlers.empty()) return;
    engine().run_handler([&] {
        for (auto& h : handlers) h(nsp);
    });
}

inline ParentNamespace& Server::of(ParentNamespace::Matcher matcher) {
    std::lock_guard<std::mutex> lk(mu_);
    parents_.push_back(
        std::make_unique<ParentNamespace>(*this, "/_" + std::to_string(parents_.size()), std::move(matcher)));
    return *parents_.back();
}

inline Namespace* Server::find_namespace(const std::string& name, const Value& auth) {
    std::vector<ParentNamespace*> parents;
    {
        std::lock_guard<std::mutex> lk(mu_);
        auto it = namespaces_.find(name);
        if (it != namespaces_.end()) return it->second.get();
        for (auto& p : parents_) parents.push_back(p.get());
    }
    for (auto* parent : parents) {
        bool match = false;
        engine().run_handler([&] { match = parent->matches(name, auth); });
        if (match) return &make_namespace(name, parent);
    }
    return nullptr;
}

// =====================================================================================================================
// 6. SERVER AND HTTP GLUE — cpp-httplib, a thread per connection, the WebSocket takeover, CORS, listen and close.
// =====================================================================================================================
namespace detail {

// ---- 6a. CORS (the reference server's `cors` option) ----------------------------------------------------------------
inline void apply_cors(const CorsOptions& cors, const httplib::Request& req, httplib::Response& res) {
    if (cors.origins.empty()) return;
    const std::string origin = req.get_header_value("Origin");
    bool any = std::find(cors.origins.begin(), cors.origins.end(), "*") != cors.origins.end();
    if (any && !cors.credentials) {
        res.set_header("Access-Control-Allow-Origin", "*");
    } else if (!origin.empty() &&
               (any || std::find(cors.origins.begin(), cors.origins.end(), origin) != cors.origins.end())) {
        res.set_header("Access-Control-Allow-Origin", origin);
        res.set_header("Vary", "Origin");
    } else {
        return;  // an origin not on the list gets no CORS headers: the browser refuses the response
    }
    if (cors.credentials) res.set_header("Access-Control-Allow-Credentials", "true");
    if (req.method != "OPTIONS") return;
    std::string methods;
    for (auto& m : cors.methods) methods += (methods.empty() ? "" : ",") + m;
    res.set_header("Access-Control-Allow-Methods", methods);
    std::string headers;
    for (auto& h : cors.allowedHeaders) headers += (headers.empty() ? "" : ",") + h;
    if (headers.empty()) headers = req.get_header_value("Access-Control-Request-Headers");
    if (!headers.empty()) res.set_header("Access-Control-Allow-Headers", headers);
    if (cors.maxAge >= 0) res.set_header("Access-Control-Max-Age", std::to_string(cors.maxAge));
}

// ---- 6b. The browser client bundle (serveClient) --------------------------------------------------------------------
// <path>socket.io.js and <path>socket.io.min.js answer with the minified bundle, and their .map with its source map,
// read once from `clientDir`. Only these names are served, so no request can walk out of that folder.
class ClientBundle {
public:
    ClientBundle(std::string dir, std::string path) : dir_(std::move(dir)), path_(std::move(path)) {}

    // True when the request was for the bundle (and `res` holds the answer).
    bool serve(const httplib::Request& req, httplib::Response& res) {
        if (req.method != "GET" && req.method != "HEAD") return false;
        if (req.path.compare(0, path_.size(), path_) != 0) return false;
        const std::string name = req.path.substr(path_.size());
        const char* file = name == "socket.io.js" || name == "socket.io.min.js"           ? "socket.io.min.js"
                           : name == "socket.io.js.map" || name == "socket.io.min.js.map" ? "socket.io.min.js.map"
                                                                                          : nullptr;
        if (!file) return false;
        const File& f = load(file);
        if (f.missing) {
            res.status = 404;
            res.set_content("socket.io client bundle not found: " + dir_ + "/" + file +
                                " (install the socket.io-client npm package, or set Options::clientDir)\n",
                            "text/plain");
            return true;
        }
        res.set_header("ETag", f.etag);
        res.set_header("Cache-Control", "public, max-age=0");
        if (req.get_header_value("If-None-Match") == f.etag) {
            res.status = 304;
            return true;
        }
        res.set_content(f.content,
                        std::strstr(file, ".map") ? "application/json" : "application/javascript; charset=utf-8");
        return true;
    }

private:
    struct File {
        bool loaded = false, missing = true;
        std::string content, etag;
    };

    const File& load(const std::string& name) {
        std::lock_guard<std::mutex> lk(mu_);
        File& f = files_[name];
        if (f.loaded) return f;
        f.loaded = true;
        std::ifstream in(dir_ + "/" + name, std::ios::binary);
        if (!in) {
            std::fprintf(stderr,
                         "[sio] cannot serve the client bundle: %s/%s is missing (run `npm ci`, or set "
                         "Options::clientDir, or serveClient = false)\n",
                         dir_.c_str(), name.c_str());
            return f;
        }
        f.content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        f.missing = false;
        // A strong validator from the bytes themselves: the first 8 bytes of their SHA-1, in hex.
        std::string digest = sha1(f.content);
        char hex[17];
        for (size_t i = 0; i < 8; ++i) std::snprintf(hex + i * 2, 3, "%02x", uint8_t(digest[i]));
        f.etag = "\"" + std::string(hex) + "\"";
        return f;
    }

    std::string dir_, path_;
    std::mutex mu_;
    std::map<std::string, File> files_;
};

// ---- 6c. The releases of cpp-httplib, and one thread per connection -------------------------------------------------
// THE SEAM WITH CPP-HTTPLIB (6c-6e) serves every release from 0.11.4 (Debian 12) to 0.53.1. Upstream changed the
// declarations it rests on several times; each difference is read off the included httplib.h itself, never off its
// version string (CPPHTTPLIB_VERSION is a string literal, which #if cannot compare):
//   TaskQueue::enqueue          returns void, then bool ("accepted") from 0.15.0             -> EnqueueResult
//   Server::process_request     (strm, close, closed, setup), then with the remote and local  -> call_process_request
//                               address and port first (0.18.0), and a defaulted bool* (0.33.0)
//   Stream::duration()          pure virtual from 0.19.0 (ms since the connection began)     -> ConnStream::duration
//   Stream::is_writable         became wait_writable, and wait_readable was added (0.20.0);   -> kStreamWaits
//                               from then on is_readable() only asks "is a byte buffered?"
//   Request::body_consumed_     a body no handler read is drained after it (0.53.1 has it)  -> mark_body_consumed
// From 0.33.0 httplib has a WebSocket server of its own; this header keeps its own (layer 3c), which the Engine.IO
// upgrade and the fan-out figures rest on. A release whose shapes the seam does not know fails with one message.
#define SIOSERVER_HTTPLIB_RANGE "cpp-httplib 0.11.4 to 0.53.1"

namespace httplib_seam {
template <class Stream, class = void>
struct has_wait_functions : std::false_type {};
template <class Stream>
struct has_wait_functions<Stream, std::void_t<decltype(&Stream::wait_readable), decltype(&Stream::wait_writable)>>
    : std::true_type {};
template <class Stream, class = void>
struct has_is_writable : std::false_type {};
template <class Stream>
struct has_is_writable<Stream, std::void_t<decltype(&Stream::is_writable)>> : std::true_type {};

// True from 0.20.0: Stream has wait_readable()/wait_writable(), and is_readable() must not wait.
inline constexpr bool kStreamWaits = has_wait_functions<httplib::Stream>::value;
static_assert(kStreamWaits != has_is_writable<httplib::Stream>::value,
              "sioserver: this httplib::Stream has neither is_writable() nor wait_readable()/wait_writable(); "
              "sioserver.hpp supports " SIOSERVER_HTTPLIB_RANGE);

using EnqueueResult = decltype(std::declval<httplib::TaskQueue&>().enqueue(std::declval<std::function<void()>>()));
static_assert(std::is_void<EnqueueResult>::value || std::is_same<EnqueueResult, bool>::value,
              "sioserver: this httplib::TaskQueue::enqueue returns neither void nor bool; sioserver.hpp "
              "supports " SIOSERVER_HTTPLIB_RANGE);

template <class>
inline constexpr bool kUnknownShape = false;

// Newer releases (0.53.1 has it) drain, after the handler, a request body that nobody read (Request::body_consumed_
// false), so that the next request on the connection is not read from it. The engine reads a POST's body itself
// (ConnStream::read_body), or closes the connection after answering one it did not read: a drain would read the
// next request instead. mark_body_consumed tells such a release so.
template <class R, class = void>
struct has_body_consumed : std::false_type {};
template <class R>
struct has_body_consumed<R, std::void_t<decltype(std::declval<R&>().body_consumed_)>> : std::true_type {};
template <class R>
void mark_body_consumed(R& req) {
    if constexpr (has_body_consumed<R>::value) req.body_consumed_ = true;
}
}  // namespace httplib_seam

// httplib's own pool has a few threads, and a long-poll GET or a WebSocket holds its thread for as long as it lives,
// so each accepted connection gets a thread of its own (with a smaller stack than the 8 MB default). Starting a
// thread is the dearest step of a connection's set-up (40-60 us on the bench's machine: the kernel's task and stack,
// the guard page, the first page faults; bench/thread_cost.cpp), and ending one costs as much. So a thread whose
// connection ended waits up to SIOSERVER_THREAD_PARK_MS for the next one before it ends: clients that reconnect,
// polling requests on new connections and short visits reuse it. There is still one thread per live connection; at
// most SIOSERVER_THREAD_PARK_MAX wait at a time, with their stack pages given back. shutdown() wakes the waiting
// ones and returns once no thread is left. When most of the connections of a busy time have ended, the memory their
// sessions used goes back to the system (malloc_trim).
class ThreadPerConnection : public httplib::TaskQueue {
public:
    // Every connection is taken: a thread that cannot be started serves it on the accepting thread.
    httplib_seam::EnqueueResult enqueue(std::function<void()> fn) override {
        {
            std::lock_guard<std::mutex> lk(mu_);
            peak_ = std::max(peak_, ++active_);
            if (!parked_.empty()) {  // a thread whose connection ended takes this one
                Parked* next = parked_.back();
                parked_.pop_back();
                next->task = std::move(fn);
                next->wake.notify_one();
                return static_cast<httplib_seam::EnqueueResult>(true);
            }
            ++threads_;
        }
        start(std::move(fn));
        return static_cast<httplib_seam::EnqueueResult>(true);
    }

    void shutdown() override {
        std::unique_lock<std::mutex> lk(mu_);
        stopping_ = true;
        for (Parked* p : parked_) p->wake.notify_one();
        cv_.wait(lk, [&] { return active_ == 0 && threads_ == 0; });
    }

private:
    // A thread waiting for its next connection (it lives on that thread's stack).
    struct Parked {
        std::condition_variable wake;
        std::function<void()> task;  // set by enqueue() before it wakes the thread
    };

    void start(std::function<void()> fn) {
        auto* task = new Task{this, std::move(fn)};
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, SIOSERVER_THREAD_STACK_SIZE);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_t thread;
        int rc = pthread_create(&thread, &attr, &ThreadPerConnection::entry, task);
        pthread_attr_destroy(&attr);
        if (rc != 0) {  // out of threads: serve this connection on the accepting thread rather than drop it
            std::unique_ptr<Task> owned(task);
            owned->fn();
            finished(false);
            finished(true);  // the thread counted by enqueue() never was
        }
    }

    struct Task {
        ThreadPerConnection* owner;
        std::function<void()> fn;
    };

    static void* entry(void* arg) {
        ThreadPerConnection* owner;
        std::function<void()> fn;
        {
            std::unique_ptr<Task> task(static_cast<Task*>(arg));
            owner = task->owner;
            fn = std::move(task->fn);
        }
        pthread_attr_t attr;  // where this stack ends, for an idle WebSocket to give pages back (layer 3a)
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            void* low = nullptr;
            size_t size = 0;
            if (pthread_attr_getstack(&attr, &low, &size) == 0)
                detail::connection_stack_low() = static_cast<char*>(low);
            pthread_attr_destroy(&attr);
        }
        do {
            fn();
            fn = nullptr;  // what the connection's function held goes before the thread waits
        } while (owner->next_connection(fn));
        owner->finished(true);  // the last touch of the queue: shutdown() may return once it is done
        return nullptr;
    }

    // The thread's connection ended: it waits for the next one (true, in `fn`), or it is to end (false; its count
    // is then let go by finished(true)).
    bool next_connection(std::function<void()>& fn) {
        finished(false);
        detail::release_stack_below_here();  // what the connection touched, before the thread waits
        Parked me;
        std::unique_lock<std::mutex> lk(mu_);
        if (stopping_ || parked_.size() >= size_t(SIOSERVER_THREAD_PARK_MAX) || SIOSERVER_THREAD_PARK_MS <= 0)
            return false;
        parked_.push_back(&me);
        me.wake.wait_for(lk, std::chrono::milliseconds(SIOSERVER_THREAD_PARK_MS),
                         [&] { return bool(me.task) || stopping_; });
        if (!me.task) {  // nobody came in time, or the server stops: leave the list (enqueue() did not take it)
            parked_.erase(std::find(parked_.begin(), parked_.end(), &me));
            return false;
        }
        fn = std::move(me.task);
        return true;
    }

    // `thread_ends`: the thread itself ends (after its connection was counted out by finished(false)).
    void finished(bool thread_ends) {
        bool trim = false;
        {
            std::lock_guard<std::mutex> lk(mu_);
            if (thread_ends) {
                --threads_;
            } else {
                --active_;
                if (peak_ >= 256 && active_ <= peak_ / 4) {  // three quarters of the busy time's connections are gone
                    trim = true;
                    peak_ = active_;
                }
            }
            cv_.notify_all();
        }
#ifdef __GLIBC__
        if (trim) malloc_trim(0);
#else
        (void)trim;
#endif
    }

    std::mutex mu_;
    std::condition_variable cv_;
    size_t active_ = 0, peak_ = 0;  // connections being served, and the most at once since the last trim
    size_t threads_ = 0;            // threads started and not ended (serving or parked)
    std::vector<Parked*> parked_;   // threads waiting for a connection, the last one parked at the back
    bool stopping_ = false;
};

// ---- 6d. The connection: an httplib::Stream of our own --------------------------------------------------------------
// THE SEAM WITH CPP-HTTPLIB (what differs between its releases: 6c). httplib had no WebSocket support before 0.33,
// and the one it has since is not the one the Engine.IO upgrade uses, so in every release HttpServer overrides its
// (private, virtual) process_and_close_socket() and drives the keep-alive loop itself with this stream, calling the
// protected process_request(). The Engine.IO pre-routing handler reaches the stream through a thread-local pointer:
// it reads POST bodies itself (so it can refuse one that is too big before reading it), and for a WebSocket upgrade
// it writes the 101 and marks the stream taken over — httplib's own response is then swallowed, and once
// process_request() returns the same thread runs the WebSocket on the same fd.
class ConnStream final : public httplib::Stream, public eio::HttpExchange {
public:
    // `tls`: the connection's TLS session, after its handshake (3a); null on plain TCP.
    ConnStream(int fd, int stop_fd, int read_timeout_ms, int write_timeout_ms,
               std::shared_ptr<TlsSession> tls = nullptr)
        : fd_(fd),
          stop_fd_(stop_fd),
          read_timeout_ms_(read_timeout_ms),
          write_timeout_ms_(write_timeout_ms),
          tls_(std::move(tls)) {}

    // httplib::Stream. Which of these functions the included httplib declares depends on its release (6c), so
    // they are written without `override` (and so is the rest of the class, as a compiler wants all or none): the
    // ones httplib declares override it, the others are never called. Every function that matters is pure virtual
    // where it exists, so a missed one leaves the class abstract, which the static_assert below it reports.
    bool is_readable() const {  // up to 0.19: "wait for input"; from 0.20: "is input buffered?"
        if constexpr (httplib_seam::kStreamWaits) return rpos_ < rbuf_.size() || tls_pending();
        else return wait_readable();
    }
    bool wait_readable() const { return rpos_ < rbuf_.size() || tls_pending() || wait(POLLIN, read_timeout_ms_); }
    bool wait_writable() const { return true; }  // writes are gathered; flush() waits if it must
    bool is_writable() const { return wait_writable(); }
    time_t duration() const {
        return time_t(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_).count());
    }
    ssize_t read(char* ptr, size_t size) {
        if (rpos_ == rbuf_.size()) {
            ssize_t got = fill(read_timeout_ms_);
            if (got <= 0) return got;
        }
        size_t n = std::min(size, rbuf_.size() - rpos_);
        if (head_deadline_ && (head_bytes_ += n) > max_head_bytes_) return -1;  // a request head too large
        std::memcpy(ptr, rbuf_.data() + rpos_, n);
        rpos_ += n;
        return ssize_t(n);
    }
    // httplib writes a response's head and body separately; they are gathered and leave in one send() when the
    // request is done (flush()) or before the next read (a "100 Continue" must reach the client first).
    ssize_t write(const char* ptr, size_t size) {
        if (takeover_) return ssize_t(size);  // httplib's response to an upgraded request: already answered
        if (write_failed_) return -1;
        wbuf_.append(ptr, size);
        if (wbuf_.size() >= 65536 && !flush()) return -1;
        return ssize_t(size);
    }
    bool flush() {
        if (wbuf_.empty()) return !write_failed_;
        if (!write_all(wbuf_.data(), wbuf_.size())) write_failed_ = true;
        if (wbuf_.capacity() > 65536) std::string().swap(wbuf_);
        wbuf_.clear();
        return !write_failed_;
    }
    // httplib asks for both on every request; they do not change on a connection, so they are looked up once.
    void get_remote_ip_and_port(std::string& ip, int& port) const {
        if (remote_port_ < 0) address(getpeername, remote_ip_, remote_port_);
        ip = remote_ip_;
        port = remote_port_;
    }
    void get_local_ip_and_port(std::string& ip, int& port) const {
        if (local_port_ < 0) address(getsockname, local_ip_, local_port_);
        ip = local_ip_;
        port = local_port_;
    }
    socket_t socket() const { return fd_; }

    // eio::HttpExchange
    bool read_body(size_t length, std::string& out) {
        out.clear();
        out.reserve(length);
        while (out.size() < length) {
            if (rpos_ == rbuf_.size() && fill(read_timeout_ms_) <= 0) return false;
            size_t n = std::min(length - out.size(), rbuf_.size() - rpos_);
            out.append(rbuf_, rpos_, n);
            rpos_ += n;
        }
        return true;
    }
    void take_over(std::string response, std::function<void(int, const std::string&)> run) {
        const bool more = std::exchange(more_follows_, false);
        if (!flush() || !write_all(response.data(), response.size(), more)) return;
        takeover_ = std::move(run);
    }
    void more_follows() { more_follows_ = true; }
    void close_after_response() { close_after_ = true; }
    std::shared_ptr<TlsSession> tls() const { return tls_; }
    bool client_gone() const {
        pollfd pfd{fd_, POLLRDHUP, 0};
        return ::poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
    }

    // The keep-alive loop's questions.
    bool wait_request(int timeout_ms) const {
        return rpos_ < rbuf_.size() || tls_pending() || wait(POLLIN, timeout_ms);
    }
    // From the first byte of a request until its headers are in, the client has `timeout_ms` (headersTimeout) and
    // `max_bytes` (maxHeaderSize). end_head() is called when the request reaches routing: a request that did not
    // (httplib refused its head) leaves in_head() true, and its connection must be closed — httplib would otherwise
    // read what follows the bad head (its body, say) as the next request.
    void start_head(int timeout_ms, size_t max_bytes) {
        head_deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        head_bytes_ = 0;
        max_head_bytes_ = max_bytes;
    }
    void end_head() { head_deadline_.reset(); }
    bool in_head() const { return head_deadline_.has_value(); }
    bool closing() const { return close_after_; }
    bool taken_over() const { return bool(takeover_); }
    void run_takeover() {
        std::string leftover = rbuf_.substr(rpos_);
        std::string().swap(rbuf_);  // the HTTP read buffer is not needed for as long as the WebSocket lives
        rpos_ = 0;
        takeover_(fd_, leftover);
    }

    // Hangs up without losing the last response: a close() with unread input would send a reset instead.
    void linger_close() {
        flush();
        if (tls_) tls_->close_notify();
        ::shutdown(fd_, SHUT_WR);
        char sink[4096];
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        for (int i = 0; i < 256 && std::chrono::steady_clock::now() < deadline; ++i) {
            pollfd pfd{fd_, POLLIN, 0};
            if (::poll(&pfd, 1, 200) <= 0) break;
            ssize_t n = ::recv(fd_, sink, sizeof sink, 0);
            if (n <= 0) break;
        }
    }

private:
    // Waits for `events` on the socket; false on time-out, error, or server shutdown (for reads). While a request's
    // head is being read, the head's deadline bounds every wait (a client sending a byte a second is dropped).
    bool wait(short events, int timeout_ms) const {
        if (head_deadline_) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*head_deadline_ -
                                                                              std::chrono::steady_clock::now())
                            .count();
            if (left <= 0) return false;
            if (timeout_ms < 0 || left < timeout_ms) timeout_ms = int(left);
        }
        pollfd fds[2] = {{fd_, events, 0}, {stop_fd_, POLLIN, 0}};
        int count = events == POLLIN && stop_fd_ >= 0 ? 2 : 1;
        while (true) {
            int n = ::poll(fds, nfds_t(count), timeout_ms);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            if (count == 2 && (fds[1].revents & POLLIN)) return false;
            return fds[0].revents != 0;
        }
    }

    ssize_t fill(int timeout_ms) {
        if (!flush()) return -1;
        if (rpos_ == rbuf_.size()) {
            rbuf_.clear();
            rpos_ = 0;
        }
        char buf[4096];  // small: every connection thread's stack keeps what it touched
        ssize_t n;
        if (tls_) {
            n = tls_fill(buf, sizeof buf, timeout_ms);
            if (n > 0) rbuf_.append(buf, size_t(n));
            return n;
        }
        do n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);  // usually the bytes are there: no poll() for them
        while (n < 0 && errno == EINTR);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait(POLLIN, timeout_ms)) return -1;
            do n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
            while (n < 0 && errno == EINTR);
        }
        if (n > 0) rbuf_.append(buf, size_t(n));
        return n;
    }

    bool tls_pending() const { return tls_ && tls_->pending(); }

    // fill()'s read on a TLS connection: a record may come in several pieces, all within the one time-out.
    ssize_t tls_fill(char* buf, size_t size, int timeout_ms) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (true) {
            short wait_for = POLLIN;
            ssize_t n = tls_->read(buf, size, wait_for);
            if (n >= 0 || errno != EAGAIN) return n;
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
                    .count();
            if (timeout_ms >= 0 && left <= 0) return -1;
            if (!wait(wait_for, timeout_ms >= 0 ? int(left) : -1)) return -1;
        }
    }

    // `more`: bytes follow at once (MSG_MORE: the kernel holds these until the next send, which takes them along).
    bool write_all(const char* p, size_t size, bool more = false) {
        if (tls_) {
            for (size_t done = 0; done < size;) {
                short wait_for = POLLOUT;
                ssize_t n = tls_->write(p + done, size - done, wait_for);
                if (n > 0) done += size_t(n);
                else if (n < 0 && errno == EAGAIN && wait(wait_for, write_timeout_ms_)) continue;
                else return false;
            }
            return true;
        }
        size_t done = 0;
        while (done < size) {
            ssize_t n = ::send(fd_, p + done, size - done, MSG_NOSIGNAL | MSG_DONTWAIT | (more ? MSG_MORE : 0));
            if (n > 0) {
                done += size_t(n);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait(POLLOUT, write_timeout_ms_)) continue;
            return false;
        }
        return true;
    }

    template <class Fn>
    void address(Fn fn, std::string& ip, int& port) const {
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        ip.clear();
        port = 0;
        if (fn(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return;
        char text[INET6_ADDRSTRLEN] = {};
        if (addr.ss_family == AF_INET) {
            auto* a = reinterpret_cast<sockaddr_in*>(&addr);
            inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
            port = ntohs(a->sin_port);
        } else if (addr.ss_family == AF_INET6) {
            auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
            inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
            port = ntohs(a->sin6_port);
        }
        ip = text;
    }

    int fd_;
    int stop_fd_;
    int read_timeout_ms_, write_timeout_ms_;
    std::shared_ptr<TlsSession> tls_;
    std::string rbuf_;
    size_t rpos_ = 0;
    std::string wbuf_;  // what httplib wrote for the current response
    bool write_failed_ = false;
    std::function<void(int, const std::string&)> takeover_;
    bool more_follows_ = false;  // more_follows(): the 101 goes with MSG_MORE
    bool close_after_ = false;
    std::optional<std::chrono::steady_clock::time_point> head_deadline_;
    size_t head_bytes_ = 0, max_head_bytes_ = 0;
    mutable std::string remote_ip_, local_ip_;
    mutable int remote_port_ = -1, local_port_ = -1;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};
static_assert(!std::is_abstract<ConnStream>::value,
              "sioserver: this httplib::Stream has pure virtual functions the seam does not know; sioserver.hpp "
              "supports " SIOSERVER_HTTPLIB_RANGE);

// ---- 6e. The HTTP server: httplib with the Engine.IO path routed to the engine --------------------------------------
class HttpServer : public httplib::Server {
public:
    explicit HttpServer(eio::Engine& engine) : engine_(engine) {
        new_task_queue = [] { return new ThreadPerConnection(); };
        set_keep_alive_max_count(SIOSERVER_KEEPALIVE_MAX_COUNT);
        set_tcp_nodelay(true);
        // The port is this server's alone, as with Node: SO_REUSEADDR (a restart binds at once, whatever its
        // predecessor's closed connections left in TIME_WAIT), not httplib's SO_REUSEPORT, with which a second
        // server on the same port starts too and the kernel splits the connections between them.
        set_socket_options([](socket_t sock) {
            int yes = 1;
            ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        });
        set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
            if (ConnStream* conn = current()) conn->end_head();  // the headers are in
            if (!engine_.handles_path(req.path)) return HandlerResponse::Unhandled;
            if (bundle_ && bundle_->serve(req, res)) return HandlerResponse::Handled;
            apply_cors(engine_.options().cors, req, res);
            ConnStream* conn = current();
            if (!conn) {
                res.status = 500;
                return HandlerResponse::Handled;
            }
            engine_.handle(req, res, *conn);
            // httplib built with zlib or brotli compresses any text answer by the request's Accept-Encoding, whatever
            // its size, and with brotli, which the reference never uses. Engine answers go as the reference writes
            // them (the engine gzips a large polling response itself, layer 2g), so httplib is told the client
            // accepts no encoding. The request is httplib's own, non-const object, handed to handlers as const.
            auto& own = const_cast<httplib::Request&>(req);
            own.headers.erase("Accept-Encoding");
            httplib_seam::mark_body_consumed(own);
            return HandlerResponse::Handled;
        });
    }

    // Stops accepting. Unlike httplib's stop(), this also works before the accept loop has started.
    void stop_listening() {
        socket_t s = svr_sock_.exchange(INVALID_SOCKET);
        if (s == INVALID_SOCKET) return;
        ::shutdown(s, SHUT_RDWR);
        ::close(s);
    }
    // httplib listens with a backlog of 5; many clients connecting at once need more.
    void widen_backlog() { ::listen(svr_sock_, 1024); }

    size_t open_connections() const { return connections_; }
    // Before the accept loop starts: loads opt.tls's certificate and key. False (with one line on stderr) when
    // they cannot be used, or the program has no TLS code (3a).
    bool open_tls() {
        const std::optional<TlsOptions>& tls = engine_.options().tls;
        if (!tls || tls_) return true;
        std::string error = "no way to open a TLS context";
        if (tls->open_context) tls_ = tls->open_context(*tls, error);
        if (!tls_) std::fprintf(stderr, "[sio] TLS: %s\n", error.c_str());
        return tls_ != nullptr;
    }
    void serve_client(const std::string& dir) { bundle_ = std::make_unique<ClientBundle>(dir, engine_.options().path); }

private:
    static ConnStream*& current() {
        thread_local ConnStream* stream = nullptr;
        return stream;
    }

    // The included release's process_request (6c), chosen by overload resolution (0 is an int before a long):
    // from 0.18.0 it is handed the connection's addresses, which it used to ask the stream for.
    template <class Self>
    static auto call_process_request(Self& self, ConnStream& strm, bool close, bool& closed, int)
        -> decltype(self.process_request(strm, std::string(), 0, std::string(), 0, close, closed, nullptr)) {
        std::string remote_ip, local_ip;
        int remote_port = 0, local_port = 0;
        strm.get_remote_ip_and_port(remote_ip, remote_port);
        strm.get_local_ip_and_port(local_ip, local_port);
        return self.process_request(strm, remote_ip, remote_port, local_ip, local_port, close, closed, nullptr);
    }
    template <class Self>
    static auto call_process_request(Self& self, ConnStream& strm, bool close, bool& closed, long)
        -> decltype(self.process_request(strm, close, closed, nullptr)) {
        return self.process_request(strm, close, closed, nullptr);
    }
    template <class Self>
    static bool call_process_request(Self&, ConnStream&, bool, bool&, ...) {
        static_assert(httplib_seam::kUnknownShape<Self>,
                      "sioserver: this httplib::Server::process_request takes "
                      "arguments the seam does not know; sioserver.hpp supports " SIOSERVER_HTTPLIB_RANGE);
        return false;
    }

    bool process_and_close_socket(socket_t sock) override {
        NoJoinScope no_join;  // a route or handler here may call close(): it must not wait for this very thread
        ++connections_;
        int one = 1;
        setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        bool ok = false;
        // TLS first, within the headers time-out: a client that never finishes its handshake (or sends
        // something else) is dropped like one that never finishes its headers.
        std::shared_ptr<TlsSession> tls;
        if (tls_) tls = tls_->accept(sock, engine_.options().headersTimeout, detail::EngineAccess::stop_fd(engine_));
        // Always true where the seam knows the release; otherwise ConnStream's static_assert is the only error.
        if constexpr (!std::is_abstract<ConnStream>::value) {
            if (!tls_ || tls) ok = serve_keep_alive<ConnStream>(sock, std::move(tls));
        }
        ::shutdown(sock, SHUT_RDWR);
        ::close(sock);
        --connections_;
        return ok;
    }

    // The keep-alive loop of one connection (a template only for the `if constexpr` above).
    template <class Stream>
    bool serve_keep_alive(socket_t sock, std::shared_ptr<TlsSession> tls) {
        bool ok = true;
        {
            Stream strm(sock, detail::EngineAccess::stop_fd(engine_),
                        int(read_timeout_sec_ * 1000 + read_timeout_usec_ / 1000),
                        int(write_timeout_sec_ * 1000 + write_timeout_usec_ / 1000), std::move(tls));
            size_t count = keep_alive_max_count_;
            while (!engine_.stopping() && count > 0 && strm.wait_request(int(keep_alive_timeout_sec_ * 1000))) {
                bool connection_closed = false;
                current() = &strm;
                strm.start_head(engine_.options().headersTimeout, engine_.options().maxHeaderSize);
                ok = call_process_request(*this, strm, count == 1, connection_closed, 0);
                if (!strm.flush()) ok = false;
                bool refused_head = strm.in_head();
                strm.end_head();
                current() = nullptr;
                if (refused_head) {  // never read past a request head that httplib refused
                    strm.linger_close();
                    break;
                }
                if (strm.taken_over()) {
                    try {
                        strm.run_takeover();
                    } catch (const std::exception& e) {
                        std::fprintf(stderr, "[sio] websocket connection ended by an exception: %s\n", e.what());
                    }
                    break;
                }
                if (!ok || connection_closed || strm.closing()) {
                    if (strm.closing()) strm.linger_close();
                    break;
                }
                --count;
            }
        }
        return ok;
    }

    eio::Engine& engine_;
    std::unique_ptr<ClientBundle> bundle_;
    std::atomic<size_t> connections_{0};
    std::shared_ptr<TlsContext> tls_;  // set by open_tls() before the first accept, then only read
};

// Starts an HttpServer on a thread of its own, and closes it with its engine (eio::Server's, so sio::Server's too).
// Joining the accept thread waits for every connection thread too (httplib's accept loop ends by joining its
// queue), so a thread that must not wait for them (NoJoinScope: a handler, a connection thread) only stops the
// accepting; the join is then done by wait() or the destructor.
class Listener {
public:
    Listener(HttpServer& http, eio::Engine& engine) : http_(http), engine_(engine) {}
    ~Listener() { stop_and_join(); }

    // Stops accepting and joins the accept thread, even on a thread close() does not join from.
    void stop_and_join() {
        request_stop();
        thread_.join();
    }

    int start(const std::string& host, int port) {
        std::lock_guard<std::mutex> lk(mu_);
        if (thread_.started() || stopping_) return -1;
        if (!http_.open_tls()) return -1;
        int bound = port == 0 ? http_.bind_to_any_port(host) : (http_.bind_to_port(host, port) ? port : -1);
        if (bound < 0) return -1;
        http_.widen_backlog();
        thread_.start([this] { http_.listen_after_bind(); });
        return bound;
    }

    // Returns once close() was called and every thread has ended (at once on a thread that must not wait): what a
    // close() in a handler left to do is done here.
    void wait() {
        {
            std::unique_lock<std::mutex> lk(mu_);
            cv_.wait(lk, [&] { return stopping_; });
        }
        join_all();
    }

    // Ends every session ("server shutting down"), stops accepting, then waits until every thread has ended (unless
    // this thread must not wait).
    void close() {
        engine_.shutdown();
        request_stop();
        join_all();
    }

private:
    // The timers go last: a closing WebSocket whose client does not answer is hung up by a timer.
    void join_all() {
        if (!may_join_server_threads()) return;
        thread_.join();
        detail::EngineAccess::timers(engine_).stop();
        detail::EngineAccess::handler_thread(engine_).stop();  // after the timers: they hand it tasks
    }

    void request_stop() {
        std::lock_guard<std::mutex> lk(mu_);
        if (stopping_) return;
        stopping_ = true;
        http_.stop_listening();
        cv_.notify_all();
    }

    HttpServer& http_;
    eio::Engine& engine_;
    std::mutex mu_;  // see LOCK ORDER (3a): before thread_'s own lock
    std::condition_variable cv_;
    bool stopping_ = false;
    SharedThread thread_;  // the accept thread
};

}  // namespace detail

namespace eio {

// A standalone Engine.IO server, like npm `engine.io` listening on its own port.
//   sio::eio::Server server;                     // options: sio::EngineOptions (path "/engine.io/")
//   server.on_connection([](const sio::eio::std::shared_ptr<Socket>& socket) {
//       socket->on_message([socket](const sio::eio::Packet& m) { m.binary ? socket->send_binary(m.data)
//                                                                         : socket->send(m.data); });
//   });
//   server.listen("0.0.0.0", 3000);
class Server {
public:
    explicit Server(EngineOptions options = {})
        : engine_(std::move(options)), http_(engine_), listener_(http_, engine_) {}
    ~Server() { close(); }

    void on_connection(Engine::ConnectionHandler h) { engine_.on_connection(std::move(h)); }
    // The HTTP server underneath, for routes of your own on the same port (don't replace its pre-routing handler).
    httplib::Server& http() { return http_; }
    Engine& engine() { return engine_; }
    const EngineOptions& options() const { return engine_.options(); }
    std::vector<std::shared_ptr<Socket>> clients() const { return engine_.clients(); }
    size_t clients_count() const { return engine_.clients_count(); }
    // TCP connections open right now (each has a thread).
    size_t connections_count() const { return http_.open_connections(); }

    // Binds and serves on a background thread; returns the port (the chosen one when `port` is 0), or -1.
    int start(const std::string& host, int port) { return listener_.start(host, port); }
    // Serves until close() is called (from a handler, or from another thread).
    bool listen(const std::string& host, int port) {
        if (start(host, port) < 0) return false;
        wait();
        return true;
    }
    // Returns once close() was called and every thread has ended (what a close() in a handler left to do).
    void wait() { listener_.wait(); }
    // Ends every session ("server shutting down"), stops accepting, and joins every thread it started — except when
    // called in a handler or on a thread of the server's own: that close() returns at once and wait() or the
    // destructor joins them.
    void close() { listener_.close(); }

private:
    friend class sio::Server;  // serves the client bundle on this HTTP server, and stops it before its namespaces go
    void serve_client(const std::string& dir) { http_.serve_client(dir); }
    void stop_and_join() { listener_.stop_and_join(); }

    Engine engine_;
    detail::HttpServer http_;
    detail::Listener listener_;
};

}  // namespace eio

// ---- 6f. sio::Server's HTTP side: an eio::Server --------------------------------------------------------------------
// Node's socket.io attaches to an engine.io server the same way: the engine's sessions become Clients (5f's
// handle_connection), and every HTTP and life-cycle call goes to the eio::Server, then closes the adapters. An
// Options is an EngineOptions with the Socket.IO knobs added: the eio::Server gets a copy of the engine's part.
inline detail::ServerState::ServerState(Options options)
    : options_(std::move(options)), eio_(std::make_unique<eio::Server>(options_)) {}

inline Server::Server(Options options)
    : detail::ServerState(std::move(options)), sockets(make_namespace("/", nullptr)) {
    if (options_.serveClient) eio_->serve_client(options_.clientDir);
    eio_->on_connection([this](const std::shared_ptr<eio::Socket>& conn) { handle_connection(conn); });
}

// The accept thread (and with it every connection thread) is joined before the namespaces and clients go, even
// when close() could not join (a destructor on a thread of the server's own); the engine goes last, with eio_.
inline Server::~Server() {
    close();
    eio_->stop_and_join();
}

inline void Server::adapter(AdapterFactory factory) {
    std::vector<Namespace*> all;
    {
        std::lock_guard<std::mutex> lk(mu_);
        adapter_factory_ = std::move(factory);
        for (auto& kv : namespaces_) all.push_back(kv.second.get());
    }
    for (auto* nsp : all) nsp->set_adapter(make_adapter(*nsp));
}

inline void Server::close_adapters() {
    if (!detail::may_join_server_threads()) return;
    std::vector<Namespace*> all;
    {
        std::lock_guard<std::mutex> lk(mu_);
        for (auto& kv : namespaces_) all.push_back(kv.second.get());
    }
    for (auto* nsp : all) nsp->adapter().close();
}

inline eio::Engine& Server::engine() { return eio_->engine(); }
inline httplib::Server& Server::http() { return eio_->http(); }
inline size_t Server::connections_count() const { return eio_->connections_count(); }
inline int Server::start(const std::string& host, int port) { return eio_->start(host, port); }
inline bool Server::listen(const std::string& host, int port) {
    if (!eio_->listen(host, port)) return false;
    close_adapters();
    return true;
}
inline void Server::wait() {
    eio_->wait();
    close_adapters();
}
inline void Server::close() {
    eio_->close();
    close_adapters();
}

}  // namespace sio

// ---- License ------------------------------------------------------------------------------------------------------
// MIT License
//
// Copyright (c) 2026 the sioserver authors
//
// Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated
// documentation files (the "Software"), to deal in the Software without restriction, including without limitation
// the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and
// to permit persons to whom the Software is furnished to do so, subject to the following conditions:
//
// The above copyright notice and this permission notice shall be included in all copies or substantial portions of
// the Software.
//
// THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO
// THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
// AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF
// CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS
// IN THE SOFTWARE.
