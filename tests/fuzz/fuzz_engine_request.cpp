// libFuzzer target: the Engine.IO request dispatcher, sio::eio::Engine::handle (sioserver.hpp layer 4), driven with
// httplib::Requests built from the input and a fake HttpExchange.
//
// Input layout (text-friendly, see tests/fuzz/make_corpus.py):
//   byte 0      engine configuration (bit 0-1 transports, 2 allowUpgrades off, 3 maxHttpBufferSize 64, 4 allowRequest
//               refusing requests with an X-Deny header, 5 echo every message back, 6 path /socket.io/,
//               7 maxConnections 2)
//   records     separated by \x1f. A record is
//                 METHOD SP TARGET \n (Header: value \n)* \n body
//               TARGET is path[?query]; the query is parsed by httplib's own parse_query_text, and a sid of "$N"
//               (or "$") stands for the id of the N-th (or the last) session this engine opened, so that requests
//               reach existing sessions. "Content-Length: $" stands for the body's length. The body is what the
//               fake connection's read_body() serves; a request whose path the engine does not handle is skipped
//               (layer 6 routes it elsewhere).
//               A record whose first line starts with '!' is a server-side action on session N:
//                 !send N text    !bin N bytes    !close N    !shutdown
// Each input gets a fresh Engine (deterministic; SIO_FUZZ_ENGINE_RUNS=N keeps one Engine for N inputs instead, and
// "$N" then reaches sessions of earlier inputs too). Timers are long, so nothing fires during an input
// (SIO_FUZZ_FAST_TIMERS=1 makes heartbeats 1 ms to stir the timer thread in; the exact-model checks are then off).
// A long-polling GET on an existing session would wait for a packet: before each one a message is queued with
// Socket::send, so the target never blocks.
//
// Invariants:
//  - handle never throws; the status is 200/204/400/403/413 (503 only with maxConnections), or the request was
//    taken over for a WebSocket (then no status, no body, and a correct 101 with the right Sec-WebSocket-Accept).
//  - error bodies are {"code":N,"message":"..."} with N in 0..5, 403 exactly for code 4, as application/json.
//  - the protocol's error order: OPTIONS 204; unknown transport 0; EIO != 4 code 5; unknown sid code 1 (but the
//    one GET after the client closed its session with a POST gets a noop); a handshake that is not a GET code 2.
//  - a handshake answers one OPEN packet with a sid the engine knows and the configured timings.
//  - a GET answers a payload that decodes; a POST that succeeds answers "ok" and delivers exactly the message
//    packets of its body, in order, up to a close/ping packet.
//  - read_body is asked for at most maxHttpBufferSize bytes, once; a request whose body was not read leaves the
//    connection marked close_after_response() (the HttpExchange contract: the unread bytes would otherwise be
//    parsed as the next request).
//  - close reasons are the documented ones.
#include "sioserver.hpp"

#include "fuzz_common.hpp"

#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using sio::eio::Engine;
using sio::eio::Packet;
using sio::eio::PacketType;
using sio::eio::polling::body_of;
using SocketPtr = std::shared_ptr<sio::eio::Socket>;

bool fast_timers() {
    static const bool on = [] {
        const char* v = std::getenv("SIO_FUZZ_FAST_TIMERS");
        return v && *v && std::string(v) != "0";
    }();
    return on;
}

// SIO_FUZZ_VERBOSE=1 prints each request and its answer (for writing seeds).
bool verbose() {
    static const bool on = [] {
        const char* v = std::getenv("SIO_FUZZ_VERBOSE");
        return v && *v && std::string(v) != "0";
    }();
    return on;
}

size_t engine_runs() {
    static const size_t n = [] {
        const char* v = std::getenv("SIO_FUZZ_ENGINE_RUNS");
        long x = v ? std::atol(v) : 1;
        return size_t(x > 0 ? x : 1);
    }();
    return n;
}

std::string lower(std::string s) {
    for (char& c : s) c = char(std::tolower(uint8_t(c)));
    return s;
}

// What the sessions' handlers saw.
struct Recorder {
    std::mutex mu;
    std::map<std::string, std::vector<Packet>> messages;  // by sid
    std::map<std::string, int> closes;                    // by sid
};

struct FakeExchange : sio::eio::HttpExchange {
    std::string_view body;  // what the client sent after the headers
    int reads = 0;
    bool read_ok = false;
    std::string read_bytes;
    int takeovers = 0;
    std::string response;
    bool run_given = false;
    int close_after = 0;
    size_t max_body = 0;

    bool read_body(size_t length, std::string& out) override {
        ++reads;
        FUZZ_CHECK(reads == 1, "engine-read-body-twice", "read_body called " + std::to_string(reads) + " times");
        FUZZ_CHECK(length <= max_body, "engine-read-body-too-big",
                   "read_body(" + std::to_string(length) + ") with maxHttpBufferSize " + std::to_string(max_body));
        out.clear();
        if (length > body.size()) {  // the client sent less than it announced, then went away
            out.assign(body);
            return false;
        }
        out.assign(body.substr(0, length));
        read_ok = true;
        read_bytes = out;
        return true;
    }
    void take_over(std::string r, std::function<void(int, const std::string&)> run) override {
        ++takeovers;
        response = std::move(r);
        run_given = bool(run);  // recorded, never run: there is no socket
    }
    void close_after_response() override { ++close_after; }
};

struct World {
    int config = -1;
    size_t uses = 0;
    sio::EngineOptions options;
    Recorder rec;                     // outlives the engine (declared first, destroyed last)
    std::vector<std::string> sids;    // sessions this engine opened, in order
    std::set<std::string> late_gets;  // sessions whose one GET after the client's close got "6" (Engine::remove)
    std::unique_ptr<Engine> engine;
};

std::unique_ptr<World>& world_slot() {
    static std::unique_ptr<World> w;
    return w;
}

void reset_world() {
    auto& w = world_slot();
    if (w) w->engine.reset();  // closes every session: the close handlers still have their recorder
    w.reset();
}

World& world_for(int config) {
    auto& w = world_slot();
    if (w && (w->config != config || w->uses >= engine_runs())) reset_world();
    if (!w) {
        w = std::make_unique<World>();
        w->config = config;
        sio::EngineOptions& o = w->options;
        switch (config & 3) {
        case 0: o.transports = {"polling", "websocket"}; break;
        case 1: o.transports = {"polling"}; break;
        case 2: o.transports = {"websocket"}; break;
        case 3: o.transports = {"websocket", "polling"}; break;
        }
        o.allowUpgrades = !(config & 4);
        o.maxHttpBufferSize = (config & 8) ? 64 : 1000000;
        if (config & 16) {
            o.allowRequest = [](const httplib::Request& req, std::string& message) {
                if (!req.has_header("X-Deny")) return true;
                message = req.get_header_value("X-Deny");
                return false;
            };
        }
        if (config & 64) o.path = "/socket.io/";
        if (config & 128) o.maxConnections = 2;
        int t = fast_timers() ? 1 : 300000;
        o.pingInterval = o.pingTimeout = o.upgradeTimeout = t;
        w->engine = std::make_unique<Engine>(o);
        Recorder* rec = &w->rec;
        const bool echo = config & 32;
        w->engine->on_connection([rec, echo](const SocketPtr& s) {
            std::weak_ptr<sio::eio::Socket> weak = s;
            std::string sid = s->id();
            s->on_message([rec, weak, sid, echo](const Packet& m) {
                {
                    std::lock_guard<std::mutex> lk(rec->mu);
                    rec->messages[sid].push_back(m);
                }
                if (!echo) return;
                if (auto self = weak.lock()) m.binary ? self->send_binary(m.data) : self->send(m.data);
            });
            s->on_close([rec, sid](const std::string& why, const std::string&) {
                namespace r = sio::reason;
                FUZZ_CHECK(why == r::TransportClose || why == r::TransportError || why == r::PingTimeout ||
                               why == r::ParseError || why == r::ForcedClose || why == r::ServerShuttingDown,
                           "engine-close-reason", "close reason '" + why + "'");
                std::lock_guard<std::mutex> lk(rec->mu);
                ++rec->closes[sid];
                FUZZ_CHECK(rec->closes[sid] == 1, "engine-close-twice", "close handler ran twice for " + sid);
            });
        });
    }
    ++w->uses;
    return *w;
}

// Replaces "$N" / "$" by the id of a session of this engine.
std::string resolve_sid(const std::string& v, const World& w) {
    if (v.empty() || v[0] != '$' || w.sids.empty()) return v;
    if (v.size() == 1) return w.sids.back();
    size_t n = 0;
    for (size_t i = 1; i < v.size() && i < 6 && std::isdigit(uint8_t(v[i])); ++i) n = n * 10 + size_t(v[i] - '0');
    return w.sids[n % w.sids.size()];
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    for (size_t start = 0;;) {
        size_t end = s.find(sep, start);
        out.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) return out;
        start = end + 1;
    }
}

void action(std::string_view line, World& w) {
    size_t sp = line.find(' ');
    std::string_view verb = line.substr(0, sp);
    if (verb == "!shutdown") {
        w.engine->shutdown();
        return;
    }
    if (w.sids.empty() || sp == std::string_view::npos) return;
    std::string_view rest = line.substr(sp + 1);
    size_t sp2 = rest.find(' ');
    std::string which = "$" + std::string(rest.substr(0, sp2));
    std::string text = sp2 == std::string_view::npos ? std::string() : std::string(rest.substr(sp2 + 1));
    // A text message holding \x1e cannot cross long-polling (the payload separator; the reference server does not
    // escape it either): the application's business, not the engine's.
    if (verb == "!send") std::replace(text.begin(), text.end(), '\x1e', '~');
    SocketPtr s = w.engine->find(resolve_sid(which, w));
    if (!s) return;
    bool open = s->ready_state() == sio::eio::Socket::ReadyState::Open;
    if (verb == "!send") {
        bool sent = s->send(text);
        if (!fast_timers()) FUZZ_CHECK(sent == open, "engine-send-result", "send() = " + std::to_string(sent));
    } else if (verb == "!bin") {
        bool sent = s->send_binary(text);
        if (!fast_timers()) FUZZ_CHECK(sent == open, "engine-send-result", "send_binary() = " + std::to_string(sent));
    } else if (verb == "!close") {
        s->close();
        FUZZ_CHECK(s->ready_state() != sio::eio::Socket::ReadyState::Open, "engine-close-state",
                   "still open after close()");
    }
}

// {"code":N,"message":"..."} with N in 0..5.
void check_error_body(const httplib::Response& res, int& code) {
    picojson::value v;
    std::string err = picojson::parse(v, body_of(res));
    FUZZ_CHECK(err.empty() && v.is<picojson::object>(), "engine-error-body", "error body " + fuzz::show(body_of(res)));
    code = -1;
    if (!err.empty() || !v.is<picojson::object>()) return;
    const auto& o = v.get<picojson::object>();
    auto c = o.find("code");
    auto m = o.find("message");
    FUZZ_CHECK(c != o.end() && c->second.is<double>() && m != o.end() && m->second.is<std::string>() && o.size() == 2,
               "engine-error-body", "error body " + fuzz::show(body_of(res)));
    if (c == o.end() || !c->second.is<double>()) return;
    double d = c->second.get<double>();
    FUZZ_CHECK(d >= 0 && d <= 5 && d == double(int(d)), "engine-error-code", "code " + fuzz::show(body_of(res)));
    code = int(d);
    FUZZ_CHECK((res.status == 403) == (code == 4), "engine-error-status",
               "status " + std::to_string(res.status) + " with " + fuzz::show(body_of(res)));
    FUZZ_CHECK(res.get_header_value("Content-Type") == "application/json", "engine-error-body",
               "Content-Type " + res.get_header_value("Content-Type"));
}

void request(std::string_view record, World& w) {
    size_t blank = record.find("\n\n");
    std::string_view head = record.substr(0, blank);
    std::string_view body = blank == std::string_view::npos ? std::string_view() : record.substr(blank + 2);
    auto lines = split(head, '\n');
    for (auto& l : lines)
        if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (lines[0].empty()) return;
    if (lines[0][0] == '!') return action(lines[0], w);

    httplib::Request req;
    size_t sp = lines[0].find(' ');
    req.method = std::string(lines[0].substr(0, sp));
    req.target = sp == std::string_view::npos ? "/" : std::string(lines[0].substr(sp + 1));
    req.version = "HTTP/1.1";
    req.remote_addr = "127.0.0.1";
    req.remote_port = 40000;
    size_t q = req.target.find('?');
    req.path = httplib::detail::decode_url(req.target.substr(0, q), false);
    if (q != std::string::npos) httplib::detail::parse_query_text(req.target.substr(q + 1), req.params);
    auto sid_param = req.params.find("sid");
    if (sid_param != req.params.end()) sid_param->second = resolve_sid(sid_param->second, w);
    for (size_t i = 1; i < lines.size(); ++i) {
        size_t colon = lines[i].find(':');
        if (colon == std::string_view::npos) continue;
        std::string name(lines[i].substr(0, colon));
        std::string_view value = lines[i].substr(colon + 1);
        while (!value.empty() && (value[0] == ' ' || value[0] == '\t')) value.remove_prefix(1);
        std::string v(value);
        if (lower(name) == "content-length" && v == "$") v = std::to_string(body.size());
        req.headers.emplace(std::move(name), std::move(v));
    }

    Engine& engine = *w.engine;
    const auto& opt = w.options;
    // Layer 6 hands the engine only the requests under its path.
    bool handled = engine.handles_path(req.path);
    bool expect_handled =
        req.path.compare(0, opt.path.size(), opt.path) == 0 || req.path == opt.path.substr(0, opt.path.size() - 1);
    FUZZ_CHECK(handled == expect_handled, "engine-handles-path", "handles_path(" + fuzz::show(req.path) + ")");
    if (!handled) return;

    const bool has_sid = req.has_param("sid");
    const std::string sid = req.get_param_value("sid");
    SocketPtr before = has_sid ? engine.find(sid) : nullptr;
    const bool was_open = before && before->ready_state() == sio::eio::Socket::ReadyState::Open;
    size_t messages_before = 0;
    {
        std::lock_guard<std::mutex> lk(w.rec.mu);
        if (before) messages_before = w.rec.messages[sid].size();
    }
    // Never block: a GET on an existing session finds a packet waiting (or the session closing).
    if (req.method == "GET" && was_open) before->send("fuzz");

    FakeExchange http;
    http.body = body;
    http.max_body = opt.maxHttpBufferSize;
    httplib::Response res;
    try {
        engine.handle(req, res, http);
    } catch (const std::exception& e) {
        FUZZ_CHECK(false, "engine-handle-throws", std::string("Engine::handle threw ") + e.what());
        return;
    } catch (...) {
        FUZZ_CHECK(false, "engine-handle-throws", "Engine::handle threw a non-standard exception");
        return;
    }

    if (verbose())
        std::fprintf(stderr, "[fuzz] %s %s -> %d %s%s%s\n", req.method.c_str(), fuzz::show(req.target).c_str(),
                     res.status, fuzz::show(body_of(res), 100).c_str(), http.takeovers ? " (taken over)" : "",
                     http.close_after ? " (close after)" : "");

    const std::string transport = req.get_param_value("transport");
    const bool transport_ok =
        (transport == "polling" || transport == "websocket") &&
        std::find(opt.transports.begin(), opt.transports.end(), transport) != opt.transports.end();
    const std::string where = req.method + " " + fuzz::show(req.target);

    // ---- taken over for a WebSocket
    if (http.takeovers) {
        FUZZ_CHECK(http.takeovers == 1 && http.run_given, "engine-takeover", where);
        FUZZ_CHECK(res.status == -1 && body_of(res).empty(), "engine-takeover",
                   "status " + std::to_string(res.status) + " set on a taken-over request " + where);
        std::string key = req.get_header_value("Sec-WebSocket-Key"), decoded;
        FUZZ_CHECK(transport == "websocket" && transport_ok && req.get_param_value("EIO") == "4" &&
                       lower(req.get_header_value("Upgrade")) == "websocket" &&
                       lower(req.get_header_value("Connection")).find("upgrade") != std::string::npos &&
                       req.get_header_value("Sec-WebSocket-Version") == "13" && sio::base64::decode(key, decoded) &&
                       decoded.size() == 16,
                   "engine-takeover-preconditions", "101 for " + where);
        FUZZ_CHECK(req.method == "GET", "engine-ws-upgrade-non-get",
                   "a " + req.method + " request was upgraded to a WebSocket (RFC 6455 §4.1 requires GET): " + where);
        FUZZ_CHECK(!has_sid || (was_open && opt.allowUpgrades), "engine-takeover-upgrade", "upgrade of " + where);
        FUZZ_CHECK(http.response.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0) == 0 && http.response.size() >= 4 &&
                       http.response.compare(http.response.size() - 4, 4, "\r\n\r\n") == 0 &&
                       http.response.find("\r\nSec-WebSocket-Accept: " + sio::ws::accept_key(key) + "\r\n") !=
                           std::string::npos,
                   "engine-takeover-response", "101 response " + fuzz::show(http.response));
        return;
    }
    FUZZ_CHECK(http.response.empty(), "engine-takeover", "take_over without a call?");

    // ---- status
    const int status = res.status == -1 ? 200 : res.status;
    bool allowed = status == 200 || status == 204 || status == 400 || status == 403 || status == 413 ||
                   (status == 503 && opt.maxConnections);
    FUZZ_CHECK(allowed, "engine-status", "status " + std::to_string(status) + " for " + where);
    int code = -1;
    if (status == 400 || status == 403 || status == 503) check_error_body(res, code);
    if (status == 503)
        FUZZ_CHECK(code == 3 && !has_sid && engine.clients_count() >= opt.maxConnections, "engine-503",
                   "503 for " + where);
    if (status == 413) FUZZ_CHECK(req.method == "POST" && has_sid, "engine-413", "413 for " + where);

    // ---- the order of the protocol's checks
    const bool exact = !fast_timers();
    if (req.method == "OPTIONS") {
        FUZZ_CHECK(status == 204, "engine-options", "OPTIONS answered " + std::to_string(status));
    } else if (!transport_ok) {
        FUZZ_CHECK(status == 400 && code == 0, "engine-error-order",
                   "unknown transport: " + where + " -> " + body_of(res));
    } else if (req.get_param_value("EIO") != "4") {
        FUZZ_CHECK(status == 400 && code == 5, "engine-error-order", "bad EIO: " + where + " -> " + body_of(res));
    } else if (has_sid && !before && exact) {
        // A session the client closed with a POST answers the one GET that comes after the close with a noop, as
        // the reference does for the GET sent with it; the next ones get 400 code 1.
        const bool late_get = req.method == "GET" && status == 200 && body_of(res) == "6" &&
                              w.late_gets.insert(req.get_param_value("sid")).second;
        FUZZ_CHECK(late_get || (status == 400 && code == 1), "engine-error-order",
                   "unknown sid: " + where + " -> " + body_of(res));
    } else if (!has_sid && req.method != "GET") {
        FUZZ_CHECK(status == 400 && code == 2, "engine-error-order",
                   "non-GET handshake: " + where + " -> " + body_of(res));
    }

    // ---- the body
    const bool has_te = req.has_header("Transfer-Encoding");
    const std::string length_text = req.get_header_value("Content-Length");
    bool has_body = has_te;
    if (!length_text.empty() && length_text.size() < 16 &&
        length_text.find_first_not_of("0123456789") == std::string::npos)
        has_body = has_body || std::stoull(length_text) > 0;
    if (has_body && !http.read_ok)
        FUZZ_CHECK(http.close_after > 0, "engine-unread-body-keeps-connection",
                   "the body of " + where + " (Content-Length " + fuzz::show(length_text) +
                       ") was not read and the connection was not marked close_after_response(): answered " +
                       std::to_string(status) + " " + fuzz::show(body_of(res), 80));

    // ---- successful answers
    if (status != 200) return;
    if (req.method == "GET") {
        FUZZ_CHECK(res.get_header_value("Content-Type") == sio::eio::polling::kContentType, "engine-poll-content-type",
                   res.get_header_value("Content-Type"));
        std::vector<Packet> packets;
        FUZZ_CHECK(sio::eio::decode_payload(body_of(res), packets), "engine-poll-payload",
                   "GET answered a payload that does not decode: " + fuzz::show(body_of(res)));
        if (!has_sid) {  // a handshake: one OPEN packet
            bool only_open = packets.size() == 1 && packets[0].type == PacketType::Open;
            if (!exact && !packets.empty() && packets[0].type == PacketType::Open) {
                only_open = true;  // with 1 ms heartbeats a ping (and the close after it) may already follow
                for (size_t i = 1; i < packets.size(); ++i)
                    only_open =
                        only_open && (packets[i].type == PacketType::Ping || packets[i].type == PacketType::Close);
            }
            FUZZ_CHECK(only_open, "engine-open-packet", fuzz::show(body_of(res)));
            if (packets.empty()) return;
            picojson::value v;
            std::string err = picojson::parse(v, packets[0].data);
            FUZZ_CHECK(err.empty() && v.is<picojson::object>(), "engine-open-packet", fuzz::show(body_of(res)));
            if (!v.is<picojson::object>()) return;
            auto& o = v.get<picojson::object>();
            FUZZ_CHECK(o.count("sid") && o.at("sid").is<std::string>(), "engine-open-packet", fuzz::show(body_of(res)));
            if (!o.count("sid") || !o.at("sid").is<std::string>()) return;
            std::string new_sid = o.at("sid").get<std::string>();
            if (exact) FUZZ_CHECK(engine.find(new_sid) != nullptr, "engine-open-sid", "unknown sid in OPEN " + new_sid);
            bool websocket_listed = o.count("upgrades") && o.at("upgrades").is<picojson::array>() &&
                                    o.at("upgrades").get<picojson::array>().size() == 1 &&
                                    o.at("upgrades").get<picojson::array>()[0].to_str() == "websocket";
            bool expect_ws = opt.allowUpgrades && std::find(opt.transports.begin(), opt.transports.end(),
                                                            "websocket") != opt.transports.end();
            FUZZ_CHECK(websocket_listed == expect_ws, "engine-open-upgrades", fuzz::show(body_of(res)));
            FUZZ_CHECK(o.count("pingInterval") && o.at("pingInterval").to_str() == std::to_string(opt.pingInterval) &&
                           o.count("pingTimeout") && o.at("pingTimeout").to_str() == std::to_string(opt.pingTimeout) &&
                           o.count("maxPayload") &&
                           o.at("maxPayload").to_str() == std::to_string(opt.maxHttpBufferSize),
                       "engine-open-timings", fuzz::show(body_of(res)));
            FUZZ_CHECK(std::find(w.sids.begin(), w.sids.end(), new_sid) == w.sids.end(), "engine-sid-reused", new_sid);
            w.sids.push_back(new_sid);
        } else if (exact && was_open) {  // it carries the packet queued above
            bool found = false;
            for (auto& p : packets) found = found || (p.type == PacketType::Message && !p.binary && p.data == "fuzz");
            FUZZ_CHECK(found, "engine-poll-lost-packet", "the queued message is not in " + fuzz::show(body_of(res)));
        }
        return;
    }
    if (req.method == "POST") {
        FUZZ_CHECK(has_sid && body_of(res) == "ok", "engine-post-answer",
                   where + " answered " + fuzz::show(body_of(res)));
        FUZZ_CHECK(http.read_ok, "engine-post-unread", "200 for a POST whose body was not read: " + where);
        std::vector<Packet> packets;
        bool decoded = sio::eio::decode_payload(http.read_bytes, packets);
        FUZZ_CHECK(decoded, "engine-post-bad-payload", "200 for an undecodable body " + fuzz::show(http.read_bytes));
        if (!exact || !decoded) return;
        std::vector<Packet> expected;  // the messages up to a packet that ends the session
        if (was_open) {
            for (auto& p : packets) {
                if (p.type == PacketType::Close || p.type == PacketType::Ping) break;
                if (p.type == PacketType::Message) expected.push_back(p);
            }
        }
        std::vector<Packet> got;
        {
            std::lock_guard<std::mutex> lk(w.rec.mu);
            auto& all = w.rec.messages[sid];
            got.assign(all.begin() + std::min(messages_before, all.size()), all.end());
        }
        bool same = got.size() == expected.size();
        for (size_t i = 0; same && i < got.size(); ++i)
            same = got[i].binary == expected[i].binary && got[i].data == expected[i].data;
        FUZZ_CHECK(same, "engine-post-messages",
                   std::to_string(got.size()) + " messages delivered for " + std::to_string(expected.size()) + " in " +
                       fuzz::show(http.read_bytes));
        return;
    }
    FUZZ_CHECK(false, "engine-status", "200 for method " + fuzz::show(req.method));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    World& w = world_for(data[0]);
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    auto records = split(rest, '\x1f');
    for (size_t i = 0; i < records.size() && i < 64; ++i) request(records[i], w);
    if (engine_runs() == 1) reset_world();
    return 0;
}
