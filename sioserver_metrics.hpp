// sioserver_metrics.hpp — Prometheus metrics for a sio::Server: what an operator's monitoring scrapes and alerts on.
//
// WHAT   The server's counts in the Prometheus text exposition format 0.0.4, on the server's own port at a path of
//        your choice, or on an address of its own: Engine.IO sessions by transport, handshakes, upgrades, refusals
//        by error code, closes by reason, packets and bytes, bytes waiting for slow clients; Socket.IO sockets per
//        namespace, events, acks, middleware refusals; the time handlers ran and waited for the handler lock; the
//        adapter's messages, requests, errors and reconnects; connection state recovery; the limits' refusals,
//        throttled time and disconnects; and the standard process_* metrics. Off unless you call one of the two
//        functions below: the core then counts its packets (while nobody watches, a packet costs one relaxed load).
// USE    #include "sioserver_metrics.hpp"  (it includes sioserver.hpp; sioserver.hpp never includes it)
//          sio::Server io;
//          sio::metrics::expose(io);                                   // GET /metrics on io's own port
//          auto ep = sio::metrics::serve(io, "127.0.0.1", 9464);      // or: an address of its own, while ep lives
//        Prometheus: scrape_configs: [{job_name: sioserver, static_configs: [{targets: ["host:3000"]}]}]
// NEEDS  sioserver.hpp and what it needs; Linux's /proc for the process_* metrics.
// API    sio::metrics::Options        path ("/metrics"), prefix ("sioserver": every name but process_*'s),
//                                     processMetrics (true)
//        sio::metrics::expose(io, o)  serves o.path on io.http(), before listen(); once per server
//        sio::metrics::serve(io, host, port, o)  an endpoint on its own port (0: any free one), until it goes
//        sio::metrics::render(io, o)  the exposition text itself, for a route or a push of your own
//        sio::metrics::handler(io, o) the httplib handler expose and serve install: render()'s text, its type
//        sio::metrics::Writer         the format alone (HELP, TYPE, samples, label escaping), for tests and tools
// NAMES  By Prometheus's conventions: counters end in _total, times are seconds, sizes bytes; labels are bounded
//        (transport, code, reason, namespace; a dynamic namespace's children are counted under their parent's
//        name, "/_0", "/_1", ...): no socket id or room name is ever a label.
// READ   1. the exposition format (pure)   2. the process   3. the server's metrics   4. serving them
// LICENSE MIT, as sioserver.hpp. Copyright (c) 2026 the sioserver authors.
#pragma once

#include "sioserver.hpp"

#include <dirent.h>
#include <sys/resource.h>

#include <cmath>
#include <sstream>

namespace sio {
namespace metrics {

struct Options {
    std::string path = "/metrics";
    std::string prefix = "sioserver";  // the first word of every name (Prometheus's "namespace"), process_* aside
    bool processMetrics = true;        // process_cpu_seconds_total, process_resident_memory_bytes, ...
};

// =====================================================================================================================
// 1. THE EXPOSITION FORMAT (text 0.0.4): a HELP and a TYPE line per family, then one line per sample.
// =====================================================================================================================
using Labels = std::vector<std::pair<std::string, std::string>>;

class Writer {
public:
    // A family's header; its samples follow with sample(). `type`: "counter", "gauge" or "histogram".
    void family(const std::string& name, const char* type, const std::string& help) {
        out_ += "# HELP " + name + " " + escape(help, false) + "\n# TYPE " + name + " " + type + "\n";
    }
    void sample(const std::string& name, double value, const Labels& labels = {}) {
        out_ += name;
        if (!labels.empty()) {
            out_ += '{';
            for (size_t i = 0; i < labels.size(); ++i) {
                if (i) out_ += ',';
                out_ += labels[i].first + "=\"" + escape(labels[i].second, true) + "\"";
            }
            out_ += '}';
        }
        out_ += ' ' + number(value) + '\n';
    }
    // A family with one sample.
    void counter(const std::string& name, const std::string& help, double value) {
        family(name, "counter", help);
        sample(name, value);
    }
    void gauge(const std::string& name, const std::string& help, double value) {
        family(name, "gauge", help);
        sample(name, value);
    }
    // A histogram family from the core's Timing: cumulative buckets, then +Inf, the sum and the count.
    void histogram(const std::string& name, const std::string& help, const eio::Timing& t) {
        family(name, "histogram", help);
        const size_t n = std::size(eio::Timing::bounds);
        for (size_t i = 0; i < n; ++i)
            sample(name + "_bucket", double(t.count_le(i)), {{"le", number(eio::Timing::bounds[i])}});
        const uint64_t all = t.count_le(n);
        sample(name + "_bucket", double(all), {{"le", "+Inf"}});
        sample(name + "_sum", t.sum_seconds());
        sample(name + "_count", double(all));
    }
    const std::string& text() const { return out_; }

    // A value as the format writes it: integers without a fraction, others in the shortest form that reads back.
    static std::string number(double v) {
        if (std::isnan(v)) return "NaN";
        if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
        if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string((long long)v);
        char buf[32];
        for (int precision = 6; precision <= 17; ++precision) {
            std::snprintf(buf, sizeof buf, "%.*g", precision, v);
            if (std::strtod(buf, nullptr) == v) break;
        }
        return buf;
    }
    // HELP text escapes \ and line feeds; a label value also ".
    static std::string escape(const std::string& s, bool quote) {
        std::string out;
        for (char c : s) {
            if (c == '\\') out += "\\\\";
            else if (c == '\n') out += "\\n";
            else if (c == '"' && quote) out += "\\\"";
            else out += c;
        }
        return out;
    }

private:
    std::string out_;
};

// =====================================================================================================================
// 2. THE PROCESS — the standard process_* metrics (as every Prometheus client library names them), from /proc.
// =====================================================================================================================
namespace process {

inline std::string read_file(const char* path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write(Writer& w) {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; };
    w.counter("process_cpu_seconds_total", "User and system CPU time spent in seconds.",
              seconds(usage.ru_utime) + seconds(usage.ru_stime));

    const double page = double(sysconf(_SC_PAGESIZE));
    unsigned long long size = 0, resident = 0;
    if (std::sscanf(read_file("/proc/self/statm").c_str(), "%llu %llu", &size, &resident) == 2) {
        w.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", double(size) * page);
        w.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", double(resident) * page);
    }

    size_t fds = 0;
    if (DIR* dir = opendir("/proc/self/fd")) {
        while (dirent* e = readdir(dir))
            if (e->d_name[0] != '.') ++fds;
        closedir(dir);
        w.gauge("process_open_fds", "Number of open file descriptors.", double(fds > 0 ? fds - 1 : 0));  // not ours
    }
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0)
        w.gauge("process_max_fds", "Maximum number of open file descriptors.", double(limit.rlim_cur));

    // Start time: clock ticks after boot (/proc/self/stat, field 22, after the parenthesised name) plus the boot
    // time (/proc/stat, btime).
    const std::string stat = read_file("/proc/self/stat");
    const size_t close_paren = stat.rfind(')');
    const std::string boot = read_file("/proc/stat");
    const size_t btime = boot.find("btime ");
    if (close_paren != std::string::npos && btime != std::string::npos) {
        std::istringstream fields(stat.substr(close_paren + 2));
        std::string field;
        for (int i = 3; i <= 22 && fields >> field; ++i) {}
        const double ticks = std::strtod(field.c_str(), nullptr);
        const double booted = std::strtod(boot.c_str() + btime + 6, nullptr);
        w.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                booted + ticks / double(sysconf(_SC_CLK_TCK)));
    }

    const std::string status = read_file("/proc/self/status");
    const size_t threads = status.find("\nThreads:");
    if (threads != std::string::npos)
        w.gauge("process_threads", "Number of OS threads in the process (one per connection, and a few more).",
                std::strtod(status.c_str() + threads + 9, nullptr));
}

}  // namespace process

// =====================================================================================================================
// 3. THE SERVER'S METRICS — read from the core's counts (eio::Traffic, ServerStats, AdapterStats) and its tables.
// =====================================================================================================================

inline std::string render(Server& io, const Options& o = {}) {
    Writer w;
    const std::string p = o.prefix.empty() ? "" : o.prefix + "_";
    eio::Engine& engine = io.engine();
    eio::Traffic& t = engine.traffic();
    auto load = [](const std::atomic<uint64_t>& a) { return double(a.load(std::memory_order_relaxed)); };

    // ---- Engine.IO
    size_t polling = 0, websocket = 0, buffered = 0;
    for (auto& s : engine.clients()) {
        (s->transport() == "websocket" ? websocket : polling) += 1;
        buffered += s->buffered_bytes();
    }
    w.family(p + "engine_sessions", "gauge", "Engine.IO sessions open now, by transport.");
    w.sample(p + "engine_sessions", double(polling), {{"transport", "polling"}});
    w.sample(p + "engine_sessions", double(websocket), {{"transport", "websocket"}});
    w.counter(p + "engine_handshakes_total", "Engine.IO sessions opened.", load(t.connections));
    w.counter(p + "engine_upgrades_total", "Sessions upgraded from polling to WebSocket.", load(t.upgrades));
    w.family(p + "engine_connection_errors_total", "counter",
             "Requests refused with an Engine.IO error code (the connection_error event), by code.");
    for (int code = 0; code <= 5; ++code)
        w.sample(p + "engine_connection_errors_total", double(engine.connection_errors(eio::ErrorCode(code))),
                 {{"code", std::to_string(code)}});
    w.family(p + "engine_closes_total", "counter", "Engine.IO sessions closed, by reason.");
    for (size_t i = 0; i < std::size(eio::Traffic::reasons); ++i)
        w.sample(p + "engine_closes_total", load(t.disconnections[i]), {{"reason", eio::Traffic::reasons[i]}});
    w.counter(p + "engine_packets_received_total", "Engine.IO packets with data received.", load(t.packetsIn));
    w.counter(p + "engine_packets_sent_total", "Engine.IO packets with data sent.", load(t.packetsOut));
    w.counter(p + "engine_received_bytes_total", "Bytes of Engine.IO packet data received.", load(t.bytesIn));
    w.counter(p + "engine_sent_bytes_total", "Bytes of Engine.IO packet data sent.", load(t.bytesOut));
    w.gauge(p + "engine_buffered_bytes", "Bytes waiting for clients to read them.", double(buffered));
    w.counter(p + "engine_send_failures_total",
              "Sessions closed because a send failed: a client that did not read (maxBufferedBytes), or a broken "
              "connection.",
              load(t.sendFailures));

    // ---- limits
    w.family(p + "limit_refusals_total", "counter", "Handshakes refused by a per-address limit, by limit.");
    w.sample(p + "limit_refusals_total", load(t.refusedPerAddress), {{"limit", "maxConnectionsPerAddress"}});
    w.sample(p + "limit_refusals_total", load(t.refusedHandshakeRate), {{"limit", "handshakeRateLimit"}});
    w.counter(p + "limit_throttled_seconds_total",
              "Time connection threads waited before reading on, held back by eventRateLimit.",
              double(t.throttledNanos.load(std::memory_order_relaxed)) / 1e9);
    w.counter(p + "limit_disconnects_total", "Connections disconnected for staying over eventRateLimit.",
              load(t.rateLimited));

    // ---- Socket.IO
    std::map<std::string, size_t> sockets;  // by namespace, a dynamic one's children under its name
    std::vector<AdapterStats*> adapters;    // each distinct one once (a cluster adapter shares one)
    for (Namespace* nsp : io.namespaces()) {
        const Namespace* named = nsp->parent() ? nsp->parent() : nsp;
        sockets[named->name()] += nsp->sockets_count();
        AdapterStats* a = &nsp->adapter().counters();
        if (std::find(adapters.begin(), adapters.end(), a) == adapters.end()) adapters.push_back(a);
    }
    w.family(p + "sockets", "gauge", "Socket.IO sockets connected now, by namespace.");
    for (auto& kv : sockets) w.sample(p + "sockets", double(kv.second), {{"namespace", kv.first}});
    ServerStats& st = io.stats();
    w.counter(p + "events_received_total", "Socket.IO events received from clients.", load(st.eventsReceived));
    w.counter(p + "events_emitted_total", "Socket.IO events sent, once per socket reached.", load(st.eventsEmitted));
    w.counter(p + "acks_sent_total", "Acknowledgements sent to clients.", load(st.acksSent));
    w.counter(p + "ack_timeouts_total", "Emits of the server whose acknowledgement did not come in time.",
              load(st.ackTimeouts));
    w.counter(p + "middleware_refusals_total", "Namespace connections a middleware refused.",
              load(st.middlewareRefusals));

    // ---- handlers
    w.histogram(p + "handler_duration_seconds", "Time user handlers ran.", t.handlerRun);
    w.histogram(p + "handler_lock_wait_seconds", "Time user handlers waited for the handler lock.", t.handlerWait);

    // ---- adapters, and connection state recovery: each distinct AdapterStats once
    struct AdapterCounter {
        const char* name;
        const char* help;
        std::atomic<uint64_t> AdapterStats::*field;
    };
    static const AdapterCounter adapter_counters[] = {
        {"adapter_messages_published_total", "Messages the adapter sent to other nodes.", &AdapterStats::published},
        {"adapter_messages_received_total", "Messages the adapter received from other nodes.", &AdapterStats::received},
        {"adapter_requests_total", "Requests to other nodes (fetchSockets, serverSideEmit with ack, ...).",
         &AdapterStats::requests},
        {"adapter_request_timeouts_total", "Requests to other nodes that timed out.", &AdapterStats::requestTimeouts},
        {"adapter_errors_total", "Adapter errors: messages not sent, malformed ones received, failed commands.",
         &AdapterStats::errors},
        {"adapter_reconnects_total", "Times the adapter's connections came back after a loss.",
         &AdapterStats::reconnects},
        {"recovery_sessions_kept_total", "Sessions kept for connection state recovery.", &AdapterStats::sessionsKept},
        {"recovery_sessions_restored_total", "Kept sessions a returning client got back.",
         &AdapterStats::sessionsRestored},
        {"recovery_sessions_expired_total", "Kept sessions dropped unrestored.", &AdapterStats::sessionsExpired},
    };
    for (const AdapterCounter& c : adapter_counters) {
        double n = 0;
        for (AdapterStats* a : adapters) n += load(a->*c.field);
        w.counter(p + c.name, c.help, n);
    }

    if (o.processMetrics) process::write(w);
    return w.text();
}

// =====================================================================================================================
// 4. SERVING THEM
// =====================================================================================================================
inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

// The GET o.path handler, the same on io's own port (expose) and on an Endpoint's.
inline httplib::Server::Handler handler(Server& io, Options o) {
    return [&io, o = std::move(o)](const httplib::Request&, httplib::Response& res) {
        res.set_content(render(io, o), kContentType);
    };
}

// GET o.path on io's own port. Call it before listen(); the counting starts now and lasts as long as io.
inline void expose(Server& io, Options o = {}) {
    if (o.path.empty() || o.path[0] != '/') throw std::invalid_argument("sio::metrics: path must start with '/'");
    io.engine().traffic().watch(true);
    io.http().Get(o.path, handler(io, o));
}

// The metrics on an address of their own (a port the world does not reach, say), served by a thread of its own
// until the Endpoint goes. It must go before `io`.
class Endpoint {
public:
    Endpoint(Server& io, const std::string& host, int port, Options o) : io_(io) {
        http_.Get(o.path, handler(io, o));
        port_ = port == 0 ? http_.bind_to_any_port(host.c_str()) : (http_.bind_to_port(host.c_str(), port) ? port : -1);
        if (port_ <= 0) throw std::runtime_error("sio::metrics: cannot listen on " + host + ":" + std::to_string(port));
        io_.engine().traffic().watch(true);
        thread_ = std::thread([this] { http_.listen_after_bind(); });
    }
    ~Endpoint() {
        http_.stop();
        if (thread_.joinable()) thread_.join();
        io_.engine().traffic().watch(false);
    }
    Endpoint(const Endpoint&) = delete;
    Endpoint& operator=(const Endpoint&) = delete;
    int port() const { return port_; }

private:
    Server& io_;
    httplib::Server http_;
    int port_ = -1;
    std::thread thread_;
};

inline std::unique_ptr<Endpoint> serve(Server& io, const std::string& host, int port, Options o = {}) {
    return std::make_unique<Endpoint>(io, host, port, std::move(o));
}

}  // namespace metrics
}  // namespace sio
