// loadgen — the benchmark's load generator: one process, one epoll thread, many Socket.IO clients.
//
// It speaks Engine.IO v4 / Socket.IO v5 itself (bench/loadgen_protocol.hpp): WebSocket handshake and masked frames
// on /socket.io/?EIO=4&transport=websocket (wss: the same over OpenSSL, TlsLayer), or HTTP/1.1 keep-alive
// long-polling (a GET connection and a POST connection per client); it answers pings ("2" -> "3"), joins the main
// namespace ("40"), and decodes EVENT and ACK packets. Latency comes from the timestamp each message carries:
// {"t":<CLOCK_MONOTONIC ns since loadgen start>,"seq":N}, compared with the clock when the bytes are read (same
// machine, same clock).
//
//   loadgen --port P --server-pid PID --scenario fanout|ack|connections|cluster [--transport websocket|polling|wss]
//           [--ca CA.pem]   (wss: WebSocket over TLS, the server's certificate verified against CA.pem for 127.0.0.1)
//           [--clients N] [--phases rate:20:3,window:8:3] [--warmup 0.5] [--server-name sio] [--round 1]
//           [--port2 Q --server-pid2 PID2 --redis-pid RPID]   (cluster)
//           [--variant base] [--series main]
//
// Scenarios (each prints one JSON line per measured phase on stdout; progress goes to stderr):
//   fanout       all N clients are in room "bench"; client 0 emits "chat message" and the server relays it to all N.
//                rate:R:S   emits R messages/s for S seconds (open loop; the timestamp is the scheduled send time,
//                           so a late sender is charged to the latency, not hidden)
//                window:W:S keeps W messages in flight (the next is sent when one has reached all N clients): the
//                           delivered rate at saturation, with queues kept short
//   ack          every client keeps K "echo" events with an ack outstanding (ack:K:S): acks/s and round-trip latency
//   cluster      fanout over two nodes of one cluster (node A on --port, node B on --port2, one Redis between
//                them): clients alternate between the nodes, the emitter (client 0) is on node A, so what node B's
//                clients get went through Redis. Reports each node's share of the deliveries and of the latency,
//                both nodes' CPU and Redis's CPU (/proc/PID/stat of --server-pid2 and --redis-pid).
//   connections  opens N WebSocket clients (at most --concurrency handshakes at once), checks that all of them
//                receive one broadcast, reads the server's RSS/threads/fds, closes them all and waits for the
//                server to let go of its threads and fds.
// --variant and --series only label the JSON lines ("variant", "series"): the variant is how the server was started
// (bench/run.sh: "base", or "recovery" for connection state recovery on), the series which comparison a line
// belongs to ("main" for the main table; a variant's rows and the base rows run beside them share the variant's
// name). A fan-out phase also counts the relayed events that carried one more argument after the payload
// ("offset_events"): with recovery on, every one of them should.
// Every phase reports the server's CPU (utime+stime from /proc/PID/stat), RSS, threads and syscalls (/proc/PID/io)
// beside the load generator's own CPU (getrusage).
#include "loadgen_protocol.hpp"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cctype>
#include <cmath>
#include <csignal>
#include <cstdarg>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace {

using namespace lg;

// ---- clock ----------------------------------------------------------------------------------------------------------
int64_t g_epoch = 0;
inline int64_t mono_raw() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
// ns since the load generator started (small numbers stay exact through JavaScript's doubles).
inline int64_t now_ns() { return mono_raw() - g_epoch; }
inline double secs(int64_t ns) { return double(ns) / 1e9; }

void log(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::fprintf(stderr, "[loadgen %7.3f] ", secs(now_ns()));
    std::vfprintf(stderr, fmt, ap);
    std::fputc('\n', stderr);
    va_end(ap);
}

uint64_t g_rng = 0x9E3779B97F4A7C15ull;
inline uint64_t rnd() {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

// ---- the server's and our own resource use --------------------------------------------------------------------------
struct Usage {
    bool ok = false;
    double cpu_s = 0;  // user + system
    long rss_kb = 0;
    long threads = 0;
    long fds = -1;                   // only when asked (counting 10,000 entries is not free)
    long long syscr = 0, syscw = 0;  // read-like and write-like syscalls (/proc/PID/io)
    long long ctx = -1;              // voluntary + involuntary context switches, summed over threads (when asked)
};

bool read_file(const std::string& path, std::string& out) {
    out.clear();
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char buf[8192];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, size_t(n));
    ::close(fd);
    return true;
}

long long field_after(const std::string& text, const char* name) {
    size_t at = text.find(name);
    if (at == std::string::npos) return -1;
    return std::atoll(text.c_str() + at + std::strlen(name));
}

long count_dir(const std::string& path) {
    DIR* d = opendir(path.c_str());
    if (!d) return -1;
    long n = 0;
    while (dirent* e = readdir(d))
        if (e->d_name[0] != '.') ++n;
    closedir(d);
    return n;
}

Usage server_usage(int pid, bool fds, bool ctx) {
    Usage u;
    if (pid <= 0) return u;
    std::string base = "/proc/" + std::to_string(pid), text;
    if (!read_file(base + "/stat", text)) return u;
    size_t paren = text.rfind(')');  // the command name may hold spaces; fields are counted after it
    if (paren == std::string::npos) return u;
    std::vector<std::string> f;
    size_t p = paren + 2;
    while (p < text.size() && f.size() < 20) {
        size_t e = text.find(' ', p);
        if (e == std::string::npos) e = text.size();
        f.push_back(text.substr(p, e - p));
        p = e + 1;
    }
    if (f.size() < 13) return u;
    static const double tick = double(sysconf(_SC_CLK_TCK));
    u.cpu_s = (std::atof(f[11].c_str()) + std::atof(f[12].c_str())) / tick;  // fields 14 and 15: utime, stime
    if (read_file(base + "/status", text)) {
        u.rss_kb = long(field_after(text, "VmRSS:"));
        u.threads = long(field_after(text, "Threads:"));
    }
    if (read_file(base + "/io", text)) {
        u.syscr = field_after(text, "syscr:");
        u.syscw = field_after(text, "syscw:");
    }
    if (fds) u.fds = count_dir(base + "/fd");
    if (ctx) {
        u.ctx = 0;
        if (DIR* d = opendir((base + "/task").c_str())) {
            while (dirent* e = readdir(d)) {
                if (e->d_name[0] == '.') continue;
                if (read_file(base + "/task/" + e->d_name + "/status", text))
                    u.ctx += field_after(text, "voluntary_ctxt_switches:") +
                             field_after(text, "nonvoluntary_ctxt_switches:");
            }
            closedir(d);
        }
    }
    u.ok = true;
    return u;
}

// A process's CPU time in ns resolution: the on-CPU time of each of its threads (/proc/PID/task/*/schedstat, field 1),
// summed. For Redis, whose few milliseconds per phase the 10 ms ticks of /proc/PID/stat cannot show. Falls back to
// /proc/PID/stat when the kernel has no schedstat; a thread that ended takes its share with it (Redis's do not end).
double task_cpu_s(int pid) {
    if (pid <= 0) return 0;
    std::string base = "/proc/" + std::to_string(pid) + "/task", text;
    long long ns = 0;
    bool any = false;
    if (DIR* d = opendir(base.c_str())) {
        while (dirent* e = readdir(d)) {
            if (e->d_name[0] == '.') continue;
            if (read_file(base + "/" + e->d_name + "/schedstat", text)) {
                ns += std::atoll(text.c_str());
                any = true;
            }
        }
        closedir(d);
    }
    if (!any) return server_usage(pid, false, false).cpu_s;
    return double(ns) / 1e9;
}

// The whole machine's busy CPU time (all cores, in seconds) from /proc/stat: with the server's and our own CPU it
// tells how much else was running during a measurement (this machine may be shared).
double machine_busy_s() {
    std::string text;
    if (!read_file("/proc/stat", text) || text.compare(0, 4, "cpu ") != 0) return 0;
    long long v[10] = {0};
    const char* p = text.c_str() + 4;
    for (int i = 0; i < 10; ++i) {
        char* end = nullptr;
        v[i] = std::strtoll(p, &end, 10);
        p = end;
    }
    long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];  // user nice system irq softirq steal
    static const double tick = double(sysconf(_SC_CLK_TCK));
    return double(busy) / tick;
}

double self_cpu() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// ---- options --------------------------------------------------------------------------------------------------------
struct Phase {
    std::string kind;  // rate | window | ack
    double param = 0;
    double seconds = 0;
};

struct Options {
    std::string host = "127.0.0.1";
    int port = 0;
    int server_pid = 0;
    int port2 = 0, server_pid2 = 0, redis_pid = 0;  // cluster: node B and the Redis between the nodes
    std::string server_name = "?";
    int round = 0;
    std::string variant = "base";  // labels only (see the top of this file)
    std::string series = "main";
    std::string scenario = "fanout";
    std::string transport = "websocket";  // or polling, or wss (websocket over TLS, trusting --ca)
    std::string ca_file;
    int clients = 100;
    std::vector<Phase> phases;
    double warmup = 0.5;
    int concurrency = 256;
    double connect_timeout = 60;
    double idle = 2;
    double release_timeout = 30;
    size_t pad = 0;
    bool ctx = false;
};

// ---- the event loop -------------------------------------------------------------------------------------------------
int g_ep = -1;
char g_buf[1 << 20];  // every read lands here first; only an incomplete tail is copied to the connection
// Where clients connect: node A (every client of a single-node run), and node B in the cluster scenario.
struct Target {
    sockaddr_in addr{};
    std::string hostport;
};
Target g_targets[2];

struct Endpoint {
    virtual ~Endpoint() = default;
    virtual void on_io(uint32_t events) = 0;
};

// The TLS layer of a Stream for --transport wss (OpenSSL, non-blocking, on the Stream's fd): the handshake verifies
// the server's certificate against --ca and the address 127.0.0.1, then send/recv behave like the socket calls
// (errno EAGAIN when OpenSSL wants the socket, 0 when the server closed). Plain streams have none.
SSL_CTX* g_tls = nullptr;
std::string g_tls_session;  // the first handshake's protocol and cipher, for the JSON lines ("tls")

bool tls_init(const std::string& ca_file) {
    g_tls = SSL_CTX_new(TLS_client_method());
    if (!g_tls || SSL_CTX_load_verify_locations(g_tls, ca_file.c_str(), nullptr) != 1) return false;
    SSL_CTX_set_verify(g_tls, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_options(g_tls, SSL_OP_IGNORE_UNEXPECTED_EOF);  // a server hanging up is "closed", as over TCP
    // one recv for many small records (a server may send a record per frame), not two recv per record
    SSL_CTX_set_read_ahead(g_tls, 1);
    // a partial write returns what went out; the rest is retried from the Stream's buffer, which may move
    SSL_CTX_set_mode(g_tls, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return true;
}

class TlsLayer {
public:
    ~TlsLayer() { reset(); }
    TlsLayer() = default;
    TlsLayer(const TlsLayer&) = delete;
    TlsLayer& operator=(const TlsLayer&) = delete;

    explicit operator bool() const { return ssl_ != nullptr; }
    bool attach(int fd) {
        reset();
        ssl_ = SSL_new(g_tls);
        return ssl_ && SSL_set_fd(ssl_, fd) == 1 &&
               X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1") == 1;
    }
    // No close_notify: the bench drops its connections, as the plain clients do.
    void reset() {
        if (ssl_) SSL_free(ssl_);
        ssl_ = nullptr;
    }
    // 1 done, 0 again when the socket is ready (wants_write says for what), -1 failed (certificate included)
    int handshake() {
        int r = SSL_connect(ssl_);
        if (r == 1) {
            if (g_tls_session.empty())
                g_tls_session = std::string(SSL_get_version(ssl_)) + " " + SSL_get_cipher_name(ssl_);
            return 1;
        }
        int e = SSL_get_error(ssl_, r);
        want_write_ = e == SSL_ERROR_WANT_WRITE;
        if (e == SSL_ERROR_WANT_READ || want_write_) return 0;
        long v = SSL_get_verify_result(ssl_);
        const char* why = v != X509_V_OK ? X509_verify_cert_error_string(v) : ERR_reason_error_string(ERR_get_error());
        error_ = std::string("TLS handshake failed: ") + (why ? why : "no reason given");
        ERR_clear_error();
        return -1;
    }
    const char* error() const { return error_.c_str(); }
    bool wants_write() const { return want_write_; }
    ssize_t send(const char* data, size_t size) {
        ERR_clear_error();
        int n = SSL_write(ssl_, data, int(std::min<size_t>(size, 1 << 30)));
        return n > 0 ? n : result(n);
    }
    // Up to `size` bytes: the records of one read from the socket (read-ahead), and no second read to learn that
    // the socket is empty (epoll says when it is not), as one recv() of the plain stream.
    ssize_t recv(char* data, size_t size) {
        size_t got = 0;
        while (got < size) {
            ERR_clear_error();
            int n = SSL_read(ssl_, data + got, int(std::min<size_t>(size - got, 1 << 30)));
            if (n <= 0) {
                if (got > 0) break;
                return result(n);
            }
            got += size_t(n);
            if (!pending()) break;
        }
        return ssize_t(got);
    }
    // bytes OpenSSL read ahead from the socket and still holds (epoll will not report them)
    bool pending() const { return ssl_ && SSL_has_pending(ssl_) == 1; }

private:
    ssize_t result(int n) {
        int e = SSL_get_error(ssl_, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            errno = EAGAIN;
            return -1;
        }
        if (e == SSL_ERROR_ZERO_RETURN) return 0;  // close_notify, or EOF (SSL_OP_IGNORE_UNEXPECTED_EOF)
        if (e != SSL_ERROR_SYSCALL || errno == 0 || errno == EAGAIN) errno = EPROTO;
        return -1;
    }
    SSL* ssl_ = nullptr;
    bool want_write_ = false;
    std::string error_;
};

// A non-blocking TCP connection with a write buffer for what the kernel does not take at once.
class Stream : public Endpoint {
public:
    ~Stream() override { close_fd(); }
    int fd() const { return fd_; }
    bool is_open() const { return fd_ >= 0; }
    void set_node(size_t node) { node_ = node; }

    bool open() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd_ < 0) return false;
        int one = 1;
        setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        connected_ = tcp_up_ = false;
        rbuf_.clear();
        wbuf_.clear();
        woff_ = 0;
        const sockaddr_in& addr = g_targets[node_].addr;
        int rc = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
        if (rc < 0 && errno != EINPROGRESS) {
            close_fd();
            return false;
        }
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.ptr = static_cast<Endpoint*>(this);
        out_armed_ = true;
        if (epoll_ctl(g_ep, EPOLL_CTL_ADD, fd_, &ev) != 0) {
            close_fd();
            return false;
        }
        return true;
    }

    void close_fd() {
        if (fd_ < 0) return;
        tls_.reset();
        ::close(fd_);  // also leaves the epoll set
        fd_ = -1;
        connected_ = tcp_up_ = false;
    }

    void write(std::string_view data) {
        if (fd_ < 0) return;
        if (!connected_ || woff_ < wbuf_.size()) {
            wbuf_.append(data.data(), data.size());
            return;
        }
        size_t done = 0;
        while (done < data.size()) {
            ssize_t n = io_send(data.data() + done, data.size() - done);
            if (n > 0) {
                done += size_t(n);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            fail("send failed");
            return;
        }
        if (done < data.size()) {
            wbuf_.assign(data.data() + done, data.size() - done);
            woff_ = 0;
            arm_out(true);
        }
    }

    void on_io(uint32_t events) override {
        if (fd_ < 0) return;
        if (!connected_) {
            if (!tcp_up_) {
                if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err != 0) return fail("connect failed");
                tcp_up_ = true;
                if (g_tls && !tls_.attach(fd_)) return fail("TLS setup failed");
            }
            if (tls_) {
                int r = tls_.handshake();
                if (r < 0) return fail(tls_.error());
                if (r == 0) return arm_out(tls_.wants_write());
            }
            connected_ = true;
            on_connected();
            if (fd_ < 0) return;
        }
        if (events & EPOLLOUT) {
            flush();
            if (fd_ < 0) return;
        }
        if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
            // what OpenSSL already read from the socket does not wake epoll again (an incomplete record: no bytes)
            while (read_some() && fd_ >= 0 && tls_.pending()) {}
        }
    }

protected:
    virtual void on_connected() = 0;
    // Handles what arrived; returns how many bytes were used (the rest is kept for the next read).
    virtual size_t on_data(char* data, size_t size) = 0;
    virtual void on_closed(const char* why) = 0;

    void fail(const char* why) {
        close_fd();
        on_closed(why);
    }

private:
    ssize_t io_send(const char* data, size_t size) {
        return tls_ ? tls_.send(data, size) : ::send(fd_, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    }

    void arm_out(bool on) {
        if (on == out_armed_ || fd_ < 0) return;
        epoll_event ev{};
        ev.events = EPOLLIN | (on ? uint32_t(EPOLLOUT) : 0u);
        ev.data.ptr = static_cast<Endpoint*>(this);
        epoll_ctl(g_ep, EPOLL_CTL_MOD, fd_, &ev);
        out_armed_ = on;
    }

    void flush() {
        while (woff_ < wbuf_.size()) {
            ssize_t n = io_send(wbuf_.data() + woff_, wbuf_.size() - woff_);
            if (n > 0) {
                woff_ += size_t(n);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return arm_out(true);
            return fail("send failed");
        }
        wbuf_.clear();
        woff_ = 0;
        arm_out(false);
    }

    // true when bytes came
    bool read_some() {
        ssize_t n = tls_ ? tls_.recv(g_buf, sizeof g_buf) : ::recv(fd_, g_buf, sizeof g_buf, 0);
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return false;
            fail(n == 0 ? "closed by the server" : "recv failed");
            return false;
        }
        if (rbuf_.empty()) {
            size_t used = on_data(g_buf, size_t(n));
            if (fd_ >= 0 && used < size_t(n)) rbuf_.assign(g_buf + used, size_t(n) - used);
        } else {
            rbuf_.append(g_buf, size_t(n));
            size_t used = on_data(&rbuf_[0], rbuf_.size());
            if (fd_ >= 0) rbuf_.erase(0, used);
        }
        return true;
    }

    int fd_ = -1;
    size_t node_ = 0;         // index into g_targets
    bool tcp_up_ = false;     // the TCP connect completed (then, over TLS, the handshake)
    bool connected_ = false;  // ready for on_connected's bytes
    bool out_armed_ = false;
    TlsLayer tls_;
    std::string rbuf_, wbuf_;
    size_t woff_ = 0;
};

// ---- what the scenarios hear from the clients -----------------------------------------------------------------------
struct Sink {
    virtual ~Sink() = default;
    virtual void on_ready(int client) = 0;
    virtual void on_chat(int client, std::string_view args, int64_t now) = 0;  // args: all after the event name
    virtual void on_ack(int client, int64_t ack_id, std::string_view data, int64_t now) = 0;
    virtual void on_lost(int client, const char* why) = 0;
};
Sink* g_sink = nullptr;

// Engine.IO/Socket.IO handling common to both transports; `send` puts one Engine.IO packet on the wire.
enum class Stage { Idle, Connecting, Open, Joining, Ready, Closed };

struct ClientBase {
    int index = 0;
    size_t node = 0;  // index into g_targets (set before start())
    Stage stage = Stage::Idle;
    int64_t started = 0;
    int64_t next_ack = 0;

    virtual ~ClientBase() = default;
    virtual void start() = 0;
    virtual void send_eio(std::string_view packet) = 0;
    virtual void shut() = 0;

    // One Engine.IO packet from the server.
    void on_eio(std::string_view p, int64_t now) {
        if (p.empty()) return;
        switch (p[0]) {
        case kEioOpen:
            if (stage == Stage::Open) {
                stage = Stage::Joining;
                send_eio("40");
            }
            return;
        case kEioPing: send_eio("3"); return;
        case kEioMessage: {
            SioPacket s;
            if (!sio_parse(p.substr(1), s)) return lose("bad Socket.IO packet");
            if (s.type == 2) {
                std::string_view name, rest;
                if (sio_event_name(s.data, name, rest) && name == "chat message") g_sink->on_chat(index, rest, now);
            } else if (s.type == 3) {
                g_sink->on_ack(index, s.ack_id, s.data, now);
            } else if (s.type == 0 && stage == Stage::Joining) {
                stage = Stage::Ready;
                g_sink->on_ready(index);
            } else if (s.type == 4) {
                lose("CONNECT_ERROR");
            } else if (s.type == 1) {
                lose("DISCONNECT from the server");
            }
            return;
        }
        case kEioClose: return lose("close packet");
        default: return;  // noop, pong, upgrade
        }
    }

    void lose(const char* why) {
        if (stage == Stage::Closed) return;
        stage = Stage::Closed;
        shut();
        g_sink->on_lost(index, why);
    }
};

// A client on the direct WebSocket transport.
class WsClient final : public Stream, public ClientBase {
public:
    void start() override {
        started = now_ns();
        stage = Stage::Connecting;
        upgraded_ = false;
        set_node(node);
        if (!open()) lose("socket/connect failed");
    }
    void shut() override { close_fd(); }

    void send_eio(std::string_view packet) override { send_frame(kWsText, packet); }

    void send_frame(uint8_t opcode, std::string_view payload) {
        uint64_t r = rnd();
        uint8_t mask[4] = {uint8_t(r), uint8_t(r >> 8), uint8_t(r >> 16), uint8_t(r >> 24)};
        scratch_.clear();
        ws_append_client_frame(scratch_, opcode, payload, mask);
        write(scratch_);
    }

private:
    void on_connected() override {
        std::string raw(16, '\0');
        for (char& c : raw) c = char(rnd());
        key_ = base64_encode(raw);
        write(ws_upgrade_request(g_targets[node].hostport, "/socket.io/?EIO=4&transport=websocket", key_));
    }

    void on_closed(const char* why) override { lose(why); }

    size_t on_data(char* data, size_t size) override {
        int64_t now = now_ns();
        size_t pos = 0;
        if (!upgraded_) {
            HttpResponse r;
            size_t used = 0;
            Parse res = http_parse_response(std::string_view(data, size), r, used);
            if (res == Parse::NeedMore) return 0;
            if (res == Parse::Error || r.status != 101 || r.accept != ws_accept_for(key_)) {
                lose("WebSocket handshake refused");
                return size;
            }
            upgraded_ = true;
            stage = Stage::Open;
            pos = used;
        }
        while (pos < size && is_open()) {
            WsFrame f;
            size_t used = 0;
            Parse res = ws_parse_frame(data + pos, size - pos, f, used);
            if (res == Parse::NeedMore) break;
            if (res == Parse::Error) {
                lose("bad frame");
                return size;
            }
            pos += used;
            on_frame(f, now);
        }
        return pos;
    }

    void on_frame(const WsFrame& f, int64_t now) {
        if (f.opcode == kWsPing) return send_frame(kWsPong, f.payload);
        if (f.opcode == kWsPong) return;
        if (f.opcode == kWsClose) {
            send_frame(kWsClose, f.payload.substr(0, std::min<size_t>(2, f.payload.size())));
            return lose("close frame");
        }
        if (!f.fin || f.opcode == kWsCont) {  // fragments: rare here, joined before use
            fragments_.append(f.payload.data(), f.payload.size());
            if (!f.fin) return;
            std::string whole;
            whole.swap(fragments_);
            return on_eio(whole, now);
        }
        if (f.opcode == kWsText) on_eio(f.payload, now);
    }

    bool upgraded_ = false;
    std::string key_, scratch_, fragments_;
};

// A client on HTTP long-polling: one keep-alive connection for the GET loop, one for POSTs. A connection the server
// closes (keep-alive limit, idle time-out) is opened again for the next request.
class PollClient;

class HttpStream final : public Stream {
public:
    HttpStream(PollClient& owner, bool get) : owner_(owner), get_(get) {}
    bool awaiting() const { return awaiting_; }

    void request(std::string req) {
        request_ = std::move(req);
        awaiting_ = true;
        got_bytes_ = false;
        if (!is_open()) {
            if (!open()) return on_closed("connect failed");
        } else {
            write(request_);
        }
    }

private:
    void on_connected() override {
        if (awaiting_) write(request_);
    }
    inline size_t on_data(char* data, size_t size) override;
    inline void on_closed(const char* why) override;

    PollClient& owner_;
    bool get_;
    bool awaiting_ = false, got_bytes_ = false;
    int retries_ = 0;
    std::string request_;
};

class PollClient final : public ClientBase {
public:
    PollClient() : get_(*this, true), post_(*this, false) {}

    void start() override {
        started = now_ns();
        stage = Stage::Connecting;
        get_.set_node(node);
        post_.set_node(node);
        get_.request(http_request("GET", g_targets[node].hostport, "/socket.io/?EIO=4&transport=polling"));
    }
    void shut() override {
        get_.close_fd();
        post_.close_fd();
    }
    void send_eio(std::string_view packet) override {
        queue_.emplace_back(packet);
        flush_posts();
    }

    void on_response(bool get, const HttpResponse& r, int64_t now) {
        if (r.status != 200) return lose(get ? "GET refused" : "POST refused");
        if (!get) {
            flush_posts();
            return;
        }
        eio_split_payload(r.body, parts_);
        for (auto p : parts_) {
            if (stage == Stage::Connecting && !p.empty() && p[0] == kEioOpen) {
                sid_.assign(json_string_field(p.substr(1), "sid"));
                if (sid_.empty()) return lose("no sid");
                target_ = "/socket.io/?EIO=4&transport=polling&sid=" + sid_;
                stage = Stage::Open;
            }
            on_eio(p, now);
            if (stage == Stage::Closed) return;
        }
        get_.request(http_request("GET", g_targets[node].hostport, target_));
    }

private:
    void flush_posts() {
        if (post_.awaiting() || queue_.empty() || target_.empty()) return;
        std::string body = eio_join_payload(queue_);
        queue_.clear();
        post_.request(http_request("POST", g_targets[node].hostport, target_, body));
    }

    HttpStream get_, post_;
    std::string sid_, target_;
    std::vector<std::string> queue_;
    std::vector<std::string_view> parts_;
};

size_t HttpStream::on_data(char* data, size_t size) {
    int64_t now = now_ns();
    got_bytes_ = true;
    size_t pos = 0;
    while (pos < size && is_open()) {
        HttpResponse r;
        size_t used = 0;
        Parse res = http_parse_response(std::string_view(data + pos, size - pos), r, used);
        if (res == Parse::NeedMore) break;
        if (res == Parse::Error) {
            owner_.lose("bad HTTP response");
            return size;
        }
        pos += used;
        awaiting_ = false;
        retries_ = 0;
        if (!r.keep_alive) {  // the server hangs up after this response: the next request opens a new connection
            close_fd();
            owner_.on_response(get_, r, now);
            return size;
        }
        owner_.on_response(get_, r, now);
    }
    return pos;
}

void HttpStream::on_closed(const char* why) {
    close_fd();
    if (!awaiting_) return;             // an idle keep-alive connection the server let go: reopened on the next request
    if (!got_bytes_ && retries_ < 2) {  // closed just as the request went out: send it again on a new connection
        ++retries_;
        std::string req = request_;
        return request(std::move(req));
    }
    owner_.lose(why);
}

// ---- the scenarios --------------------------------------------------------------------------------------------------
// In ns, as doubles (they are printed as µs; every latency here is far below 2^53 ns, so the conversion is exact).
std::vector<double> percentiles(std::vector<int64_t>& v, std::initializer_list<double> qs) {
    std::vector<double> out;
    if (v.empty()) {
        for (size_t i = 0; i < qs.size(); ++i) out.push_back(-1);
        return out;
    }
    std::sort(v.begin(), v.end());
    for (double q : qs) {
        size_t i = size_t(std::ceil(q * double(v.size())));
        i = i == 0 ? 0 : i - 1;
        out.push_back(double(v[std::min(i, v.size() - 1)]));
    }
    return out;
}

class Bench final : public Sink {
public:
    explicit Bench(const Options& o) : opt_(o), cluster_(o.scenario == "cluster") {}

    int run() {
        g_sink = this;
        if (!connect_all()) {
            result_line("{\"error\":\"no client connected\"}");
            return 1;
        }
        if (opt_.scenario == "connections") return connections();
        for (auto& ph : opt_.phases) run_phase(ph);
        return 0;
    }

    // ---- Sink
    void on_ready(int client) override {
        clients_ready_[size_t(client)] = true;
        ++ready_;
        --handshaking_;
        connect_done_ = now_ns();
    }

    void on_lost(int client, const char* why) override {
        ++lost_clients_;
        if (lost_clients_ <= 5 || lost_clients_ % 1000 == 0)
            log("client %d lost: %s (%ld lost so far)", client, why, lost_clients_);
        if (clients_ready_[size_t(client)]) {
            clients_ready_[size_t(client)] = false;
            --ready_;
        } else {
            --handshaking_;
        }
    }

    void on_chat(int client, std::string_view args, int64_t now) override {
        // the payload is the first argument; with connection state recovery an offset string follows it
        int64_t t = 0, seq = 0;
        std::string_view payload, after;
        if (!json_first_value(args, payload, after) || !json_number_field(payload, "t", t) ||
            !json_number_field(payload, "seq", seq)) {
            ++malformed_;
            return;
        }
        ++received_total_;
        size_t node = cluster_ ? clients_[size_t(client)]->node : 0;
        if (now >= win_start_ && now < win_end_) {
            ++win_delivered_;
            if (!after.empty()) ++win_offsets_;
            if (cluster_) ++node_delivered_[node];
        }
        Slot& s = ring_[size_t(seq) & kRingMask];
        if (s.seq != seq) {
            ++stale_;
            return;
        }
        ++s.count;
        if (s.measured) {
            latencies_.push_back(now - t);
            if (cluster_) node_latencies_[node].push_back(now - t);
            ++measured_delivered_;
        }
        if (s.count == s.expected && !s.done) {
            s.done = true;
            --inflight_;
            last_completion_ = now;
            if (mode_ == Mode::Window && emitting_) emit_window();
        }
    }

    void on_ack(int client, int64_t ack_id, std::string_view data, int64_t now) override {
        (void)ack_id;
        int64_t t = 0;
        if (!json_number_field(data, "t", t)) {
            ++malformed_;
            return;
        }
        ++received_total_;
        if (now >= win_start_ && now < win_end_) {
            ++win_delivered_;
            latencies_.push_back(now - t);
        }
        --inflight_;
        if (emitting_) send_echo(client);
    }

private:
    enum class Mode { None, Rate, Window, Ack };
    struct Slot {
        int64_t seq = -1;
        int64_t t = 0;
        uint32_t count = 0, expected = 0;
        bool measured = false, done = false;
    };
    static constexpr size_t kRingSize = 1u << 20, kRingMask = kRingSize - 1;

    // ---- the loop
    // Runs the event loop until `done()` says so or `deadline` passes; `tick` runs after every wake-up.
    void loop_until(int64_t deadline, const std::function<bool()>& done,
                    const std::function<void(int64_t)>& tick = {}) {
        static epoll_event events[4096];
        while (true) {
            int64_t now = now_ns();
            if (tick) tick(now);
            if (done() || now >= deadline) return;
            int64_t wake = std::min(deadline, next_timer_);
            int64_t wait = std::max<int64_t>(0, std::min<int64_t>(wake - now, 50000000));  // at most 50 ms
            timespec ts{time_t(wait / 1000000000), long(wait % 1000000000)};
            int n = epoll_pwait2(g_ep, events, 4096, &ts, nullptr);
            if (n < 0) {
                if (errno == EINTR) continue;
                log("epoll failed: %s", std::strerror(errno));
                return;
            }
            for (int i = 0; i < n; ++i) static_cast<Endpoint*>(events[i].data.ptr)->on_io(events[i].events);
        }
    }

    // ---- connecting
    std::unique_ptr<ClientBase> make_client(int i) {
        std::unique_ptr<ClientBase> c;
        if (opt_.transport == "polling") c = std::make_unique<PollClient>();
        else c = std::make_unique<WsClient>();
        c->index = i;
        c->node = cluster_ ? size_t(i % 2) : 0;  // client 0, the emitter, is on node A
        return c;
    }

    bool connect_all() {
        int n = opt_.clients;
        clients_.clear();
        for (int i = 0; i < n; ++i) clients_.push_back(make_client(i));
        clients_ready_.assign(size_t(n), false);
        int64_t t0 = now_ns();
        connect_start_ = t0;
        int next = 0;
        int64_t deadline = t0 + int64_t(opt_.connect_timeout * 1e9);
        int64_t last_log = t0;
        loop_until(
            deadline, [&] { return ready_ + lost_clients_ >= n && next >= n; },
            [&](int64_t now) {
                while (next < n && handshaking_ < opt_.concurrency) {
                    ++handshaking_;
                    clients_[size_t(next)]->start();
                    ++next;
                }
                if (now - last_log > 2000000000) {
                    log("connecting: %ld ready, %ld lost, %d started", ready_, lost_clients_, next);
                    last_log = now;
                }
            });
        connect_time_ = connect_done_ > t0 ? secs(connect_done_ - t0) : 0;
        log("%ld of %d clients ready in %.3f s (%ld lost)", ready_, n, connect_time_, lost_clients_);
        return ready_ > 0;
    }

    // ---- emitting
    ClientBase* emitter() { return clients_[0].get(); }

    void emit_one(int64_t t) {
        int64_t seq = next_seq_++;
        Slot& s = ring_[size_t(seq) & kRingMask];
        if (s.seq >= 0 && !s.done) ++overrun_;  // never completed: the ring went all the way round
        s.seq = seq;
        s.t = t;
        s.count = 0;
        s.expected = uint32_t(std::max<long>(ready_, 1));
        s.done = false;
        s.measured = t >= win_start_ && t < win_end_;
        if (s.measured) ++win_emitted_;
        ++inflight_;
        msg_.clear();
        sio_append_chat(msg_, t, seq, opt_.pad);
        emitter()->send_eio(msg_);
    }

    void emit_window() {
        while (inflight_ < long(window_) && emitting_) emit_one(now_ns());
    }

    void send_echo(int client) {
        auto* c = clients_[size_t(client)].get();
        if (c->stage != Stage::Ready) return;
        int64_t t = now_ns();
        msg_.clear();
        sio_append_echo(msg_, ++c->next_ack, t, next_seq_++);
        ++inflight_;
        c->send_eio(msg_);
    }

    // ---- one measured phase
    void run_phase(const Phase& ph) {
        Mode mode = ph.kind == "rate" ? Mode::Rate : ph.kind == "window" ? Mode::Window : Mode::Ack;
        latencies_.clear();
        latencies_.reserve(1 << 20);
        for (auto& v : node_latencies_) v.clear();
        node_delivered_[0] = node_delivered_[1] = 0;
        const int64_t phase_first_seq = next_seq_;
        win_delivered_ = win_emitted_ = measured_delivered_ = win_offsets_ = 0;
        int64_t start = now_ns();
        win_start_ = start + int64_t(opt_.warmup * 1e9);
        win_end_ = win_start_ + int64_t(ph.seconds * 1e9);
        mode_ = mode;
        emitting_ = true;
        inflight_ = 0;
        last_completion_ = start;
        window_ = mode == Mode::Window ? size_t(std::max(1.0, ph.param)) : 0;
        long ready_at_start = ready_;
        double interval = mode == Mode::Rate ? 1e9 / std::max(ph.param, 0.001) : 0;
        double next_emit = double(start);
        Usage u0, u1, b0, b1;   // node A (the only one outside the cluster scenario), node B
        double r0 = 0, r1 = 0;  // Redis (task_cpu_s)
        double self0 = 0, self1 = 0, busy0 = 0;
        bool sampled0 = false;

        if (mode == Mode::Window) emit_window();
        if (mode == Mode::Ack)
            for (size_t i = 0; i < clients_.size(); ++i)
                for (int k = 0; k < int(std::max(1.0, ph.param)); ++k) send_echo(int(i));

        next_timer_ = mode == Mode::Rate ? start : INT64_MAX;
        loop_until(
            win_end_, [] { return false; },
            [&](int64_t now) {
                if (!sampled0 && now >= win_start_) {
                    sampled0 = true;
                    u0 = server_usage(opt_.server_pid, false, opt_.ctx);
                    if (cluster_) {
                        b0 = server_usage(opt_.server_pid2, false, false);
                        r0 = task_cpu_s(opt_.redis_pid);
                    }
                    self0 = self_cpu();
                    busy0 = machine_busy_s();
                }
                if (mode == Mode::Rate) {
                    int burst = 0;
                    while (next_emit <= double(now) && burst < 100000) {
                        emit_one(int64_t(next_emit));
                        next_emit += interval;
                        ++burst;
                    }
                    next_timer_ = int64_t(next_emit);
                }
                if (mode == Mode::Window && (inflight_ <= 0 || now - last_completion_ > 1000000000)) {
                    // nothing completed for a second (a client was lost mid-message): stop waiting for those
                    if (inflight_ > 0) ++stalls_;
                    inflight_ = 0;
                    last_completion_ = now;
                    emit_window();
                }
            });
        u1 = server_usage(opt_.server_pid, false, opt_.ctx);
        if (cluster_) {
            b1 = server_usage(opt_.server_pid2, false, false);
            r1 = task_cpu_s(opt_.redis_pid);
        }
        self1 = self_cpu();
        double busy1 = machine_busy_s();
        emitting_ = false;
        next_timer_ = INT64_MAX;
        int64_t measured_end = now_ns();
        // Drain: wait (bounded) until what was sent in the window has arrived, so that losses can be counted.
        uint64_t expected_measured = 0;
        loop_until(now_ns() + 5000000000LL, [&] {
            if (mode == Mode::Ack) return inflight_ <= 0;
            expected_measured = 0;
            return inflight_ <= 0;
        });
        int64_t drain_end = now_ns();
        // what the measured messages should have produced
        if (mode != Mode::Ack) {
            expected_measured = 0;
            for (int64_t seq = std::max<int64_t>(phase_first_seq, next_seq_ - int64_t(kRingSize)); seq < next_seq_;
                 ++seq) {
                const Slot& s = ring_[size_t(seq) & kRingMask];
                if (s.seq == seq && s.measured) expected_measured += s.expected;
            }
        }
        double window = secs(win_end_ - win_start_);
        auto pct = percentiles(latencies_, {0.5, 0.9, 0.99, 0.999, 1.0});
        double server_cpu = u1.cpu_s - u0.cpu_s, own_cpu = self1 - self0;
        // cluster: "server" is both nodes together, and Redis is one more process outside "other load"
        const double server_a_cpu = server_cpu, server_b_cpu = b1.cpu_s - b0.cpu_s, redis_cpu = r1 - r0;
        if (cluster_) server_cpu += server_b_cpu;
        double delivered = double(win_delivered_);
        char buf[4096];
        std::snprintf(
            buf, sizeof buf,
            "{\"scenario\":\"%s\",\"server\":\"%s\",\"variant\":\"%s\",\"series\":\"%s\",\"round\":%d,"
            "\"transport\":\"%s\",\"clients\":%d,\"ready\":%ld,\"phase\":\"%s\",\"param\":%g,\"seconds\":%.3f,"
            "\"emitted\":%llu,\"delivered\":%llu,"
            "\"delivered_per_s\":%.1f,\"offered_per_s\":%.1f,\"expected_measured\":%llu,\"measured_delivered\":%llu,"
            "\"lost_msgs\":%lld,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,"
            "\"server_cpu_s\":%.3f,\"server_cpu_us_per_msg\":%.3f,"
            "\"server_ctx_per_msg\":%.3f,\"server_rss_kb\":%ld,\"server_threads\":%ld,\"loadgen_cpu_s\":%.3f,"
            "\"loadgen_cpu_us_per_msg\":%.3f,\"other_cpu_cores\":%.2f,\"drain_s\":%.3f,\"stale\":%llu,\"malformed\":%"
            "llu,\"lost_clients\":%ld,"
            "\"offset_events\":%llu",
            opt_.scenario.c_str(), opt_.server_name.c_str(), opt_.variant.c_str(), opt_.series.c_str(), opt_.round,
            opt_.transport.c_str(), opt_.clients, ready_at_start, ph.kind.c_str(), ph.param, window,
            (unsigned long long)win_emitted_, (unsigned long long)win_delivered_, delivered / window,
            mode == Mode::Rate ? ph.param * double(ready_at_start) : 0.0, (unsigned long long)expected_measured,
            (unsigned long long)measured_delivered_,
            mode == Mode::Ack ? 0LL : (long long)expected_measured - (long long)measured_delivered_, pct[0] / 1e3,
            pct[1] / 1e3, pct[2] / 1e3, pct[3] / 1e3, pct[4] / 1e3, server_cpu,
            delivered > 0 ? server_cpu * 1e6 / delivered : 0.0,
            (delivered > 0 && u0.ctx >= 0) ? double(u1.ctx - u0.ctx) / delivered : -1.0, u1.rss_kb, u1.threads, own_cpu,
            delivered > 0 ? own_cpu * 1e6 / delivered : 0.0,
            std::max(0.0, (busy1 - busy0) - server_cpu - own_cpu - redis_cpu) / window, secs(drain_end - measured_end),
            (unsigned long long)stale_, (unsigned long long)malformed_, lost_clients_,
            mode == Mode::Ack ? 0ULL : (unsigned long long)win_offsets_);
        if (cluster_) {
            long ready_on[2] = {0, 0};
            for (size_t i = 0; i < clients_.size(); ++i)
                if (clients_ready_[i]) ++ready_on[clients_[i]->node];
            auto pa = percentiles(node_latencies_[0], {0.5, 0.99});
            auto pb = percentiles(node_latencies_[1], {0.5, 0.99});
            double emitted = double(win_emitted_);
            long redis_rss_kb = server_usage(opt_.redis_pid, false, false).rss_kb;
            size_t len = std::strlen(buf);
            std::snprintf(
                buf + len, sizeof buf - len,
                ",\"ready_a\":%ld,\"ready_b\":%ld,\"delivered_a\":%llu,\"delivered_b\":%llu,\"delivered_b_per_s\":%.1f,"
                "\"p50_a_us\":%.1f,\"p99_a_us\":%.1f,\"p50_b_us\":%.1f,\"p99_b_us\":%.1f,"
                "\"server_a_cpu_s\":%.3f,\"server_b_cpu_s\":%.3f,\"server_b_rss_kb\":%ld,\"server_b_threads\":%ld,"
                "\"redis_cpu_s\":%.3f,\"redis_cores\":%.3f,\"redis_cpu_us_per_broadcast\":%.3f,\"redis_rss_kb\":%ld",
                ready_on[0], ready_on[1], (unsigned long long)node_delivered_[0],
                (unsigned long long)node_delivered_[1], double(node_delivered_[1]) / window, pa[0] / 1e3, pa[1] / 1e3,
                pb[0] / 1e3, pb[1] / 1e3, server_a_cpu, server_b_cpu, b1.rss_kb, b1.threads, redis_cpu,
                redis_cpu / window, emitted > 0 ? redis_cpu * 1e6 / emitted : 0.0, redis_rss_kb);
        }
        if (!g_tls_session.empty()) {
            size_t len = std::strlen(buf);
            std::snprintf(buf + len, sizeof buf - len, ",\"tls\":\"%s\"", g_tls_session.c_str());
        }
        std::strncat(buf, "}", sizeof buf - std::strlen(buf) - 1);
        result_line(buf);
        log("%s (%s) %s:%g C=%d: %.0f msg/s delivered, p50 %.0f us, p99 %.0f us, server CPU %.2f s, own CPU %.2f s%s",
            opt_.server_name.c_str(), opt_.variant.c_str(), ph.kind.c_str(), ph.param, opt_.clients, delivered / window,
            pct[0] / 1e3, pct[2] / 1e3, server_cpu, own_cpu,
            mode != Mode::Ack && win_offsets_ > 0 ? ", events with an offset" : "");
        if (cluster_)
            log("  of which node B (through Redis) %.0f msg/s; server CPU A %.2f s, B %.2f s; Redis CPU %.3f s",
                double(node_delivered_[1]) / window, server_a_cpu, server_b_cpu, redis_cpu);
        mode_ = Mode::None;
    }

    // ---- the connections scenario
    int connections() {
        Usage before = before_;
        int64_t t_idle = now_ns() + int64_t(opt_.idle * 1e9);
        loop_until(t_idle, [] { return false; });
        Usage idle = server_usage(opt_.server_pid, true, false);
        long ready_idle = ready_;
        // Held: every client that is still connected receives one broadcast.
        int64_t t0 = now_ns();
        win_start_ = t0;
        win_end_ = INT64_MAX;
        mode_ = Mode::Rate;
        emitting_ = false;
        emit_one(t0);
        loop_until(t0 + 15000000000LL, [&] { return inflight_ <= 0; });
        uint64_t held = measured_delivered_;
        auto pct = percentiles(latencies_, {0.5, 1.0});
        double broadcast_s = secs(now_ns() - t0);
        // Close them all and wait until the server has let go of the threads and fds they held.
        int64_t t_close = now_ns();
        for (auto& c : clients_) {
            c->stage = Stage::Closed;
            c->shut();
        }
        Usage after;
        int64_t deadline = t_close + int64_t(opt_.release_timeout * 1e9);
        double release_s = -1;
        while (now_ns() < deadline) {
            usleep(100000);
            after = server_usage(opt_.server_pid, true, false);
            if (after.fds <= before.fds + 2 && after.threads <= before.threads + 2) {
                release_s = secs(now_ns() - t_close);
                break;
            }
        }
        usleep(1000000);
        after = server_usage(opt_.server_pid, true, false);
        // One more connection (sioserver joins the threads of finished connections on its next accept).
        clients_.push_back(make_client(int(clients_.size())));
        clients_ready_.push_back(false);
        ready_ = 0;
        lost_clients_ = 0;
        handshaking_ = 1;
        clients_.back()->start();
        loop_until(now_ns() + 10000000000LL, [&] { return ready_ + lost_clients_ >= 1; });
        clients_.back()->shut();
        usleep(1500000);
        Usage extra = server_usage(opt_.server_pid, true, false);
        char buf[2048];
        long added = ready_idle > 0 ? ready_idle : 1;
        std::snprintf(buf, sizeof buf,
                      "{\"scenario\":\"connections\",\"server\":\"%s\",\"variant\":\"%s\",\"series\":\"%s\",\"round\":%"
                      "d,\"transport\":\"%s\",\"clients\":%d,"
                      "\"connected\":%ld,\"connect_s\":%.3f,\"connects_per_s\":%.1f,\"held\":%llu,\"broadcast_s\":%.3f,"
                      "\"broadcast_p50_us\":%.1f,\"broadcast_max_us\":%.1f,"
                      "\"rss_base_kb\":%ld,\"threads_base\":%ld,\"fds_base\":%ld,"
                      "\"rss_idle_kb\":%ld,\"threads_idle\":%ld,\"fds_idle\":%ld,\"rss_per_conn_bytes\":%.0f,"
                      "\"rss_closed_kb\":%ld,\"threads_closed\":%ld,\"fds_closed\":%ld,\"release_s\":%.3f,"
                      "\"rss_after_extra_kb\":%ld,\"threads_after_extra\":%ld,\"fds_after_extra\":%ld,"
                      "\"server_cpu_connect_s\":%.3f,\"loadgen_cpu_s\":%.3f}",
                      opt_.server_name.c_str(), opt_.variant.c_str(), opt_.series.c_str(), opt_.round,
                      opt_.transport.c_str(), opt_.clients, ready_idle, connect_time_,
                      connect_time_ > 0 ? double(ready_idle) / connect_time_ : 0.0, (unsigned long long)held,
                      broadcast_s, pct[0] / 1e3, pct[1] / 1e3, before.rss_kb, before.threads, before.fds, idle.rss_kb,
                      idle.threads, idle.fds, double(idle.rss_kb - before.rss_kb) * 1024.0 / double(added),
                      after.rss_kb, after.threads, after.fds, release_s, extra.rss_kb, extra.threads, extra.fds,
                      idle.cpu_s - before.cpu_s, self_cpu());
        result_line(buf);
        log("connections: %ld connected in %.2f s, %llu held, RSS %ld -> %ld KB (%.0f B/conn), threads %ld -> %ld -> "
            "%ld, "
            "fds %ld -> %ld -> %ld, released in %.2f s",
            ready_idle, connect_time_, (unsigned long long)held, before.rss_kb, idle.rss_kb,
            double(idle.rss_kb - before.rss_kb) * 1024.0 / double(added), before.threads, idle.threads, after.threads,
            before.fds, idle.fds, after.fds, release_s);
        return 0;
    }

    void result_line(const char* line) {
        std::printf("%s\n", line);
        std::fflush(stdout);
    }

public:
    Usage before_;

private:
    const Options& opt_;
    const bool cluster_;  // two nodes: deliveries and latencies are also counted per node
    std::vector<std::unique_ptr<ClientBase>> clients_;
    std::vector<bool> clients_ready_;
    long ready_ = 0, lost_clients_ = 0;
    int handshaking_ = 0;
    int64_t connect_start_ = 0, connect_done_ = 0;
    double connect_time_ = 0;

    Mode mode_ = Mode::None;
    bool emitting_ = false;
    size_t window_ = 0;
    long inflight_ = 0;
    int64_t next_seq_ = 0;
    int64_t next_timer_ = INT64_MAX;
    int64_t win_start_ = 0, win_end_ = 0;
    uint64_t win_emitted_ = 0, win_delivered_ = 0, measured_delivered_ = 0;
    uint64_t win_offsets_ = 0;  // deliveries in the window whose event had an argument after the payload
    uint64_t received_total_ = 0, stale_ = 0, malformed_ = 0, overrun_ = 0, stalls_ = 0;
    int64_t last_completion_ = 0;
    std::vector<int64_t> latencies_;
    std::vector<int64_t> node_latencies_[2];  // cluster: of node A's clients, of node B's
    uint64_t node_delivered_[2] = {0, 0};     // cluster: deliveries in the window, per node
    std::vector<Slot> ring_ = std::vector<Slot>(kRingSize);
    std::string msg_;
};

bool parse_phases(const std::string& spec, std::vector<Phase>& out) {
    size_t p = 0;
    while (p < spec.size()) {
        size_t e = spec.find(',', p);
        if (e == std::string::npos) e = spec.size();
        std::string item = spec.substr(p, e - p);
        p = e + 1;
        size_t c1 = item.find(':'), c2 = item.find(':', c1 + 1);
        if (c1 == std::string::npos || c2 == std::string::npos) return false;
        Phase ph;
        ph.kind = item.substr(0, c1);
        ph.param = std::atof(item.c_str() + c1 + 1);
        ph.seconds = std::atof(item.c_str() + c2 + 1);
        if ((ph.kind != "rate" && ph.kind != "window" && ph.kind != "ack") || ph.seconds <= 0 || ph.seconds > 120 ||
            ph.param <= 0)
            return false;
        out.push_back(ph);
    }
    return !out.empty();
}

int usage() {
    std::fprintf(
        stderr,
        "usage: loadgen --port P [--host 127.0.0.1] [--server-pid PID] [--server-name NAME] [--round N]\n"
        "               --scenario fanout|ack|connections|cluster [--transport websocket|polling|wss] [--clients N]\n"
        "               [--ca CA.pem]   (wss only, and required: the server's certificate is verified)\n"
        "               [--phases rate:R:S,window:W:S,ack:K:S] [--warmup S] [--concurrency N]\n"
        "               [--connect-timeout S] [--idle S] [--release-timeout S] [--pad BYTES] [--ctx]\n"
        "               [--port2 Q --server-pid2 PID --redis-pid PID]   (cluster only; --port2 required)\n"
        "               [--variant base] [--series main]   (labels of the JSON lines: [A-Za-z0-9_-]+)\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    g_epoch = mono_raw();
    g_rng ^= uint64_t(g_epoch) * 0x2545F4914F6CDD1Dull;
    Options opt;
    std::string phases;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto val = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
        if (a == "--host") opt.host = val();
        else if (a == "--port") opt.port = std::atoi(val().c_str());
        else if (a == "--server-pid") opt.server_pid = std::atoi(val().c_str());
        else if (a == "--port2") opt.port2 = std::atoi(val().c_str());
        else if (a == "--server-pid2") opt.server_pid2 = std::atoi(val().c_str());
        else if (a == "--redis-pid") opt.redis_pid = std::atoi(val().c_str());
        else if (a == "--server-name") opt.server_name = val();
        else if (a == "--round") opt.round = std::atoi(val().c_str());
        else if (a == "--variant") opt.variant = val();
        else if (a == "--series") opt.series = val();
        else if (a == "--scenario") opt.scenario = val();
        else if (a == "--transport") opt.transport = val();
        else if (a == "--ca") opt.ca_file = val();
        else if (a == "--clients") opt.clients = std::atoi(val().c_str());
        else if (a == "--phases") phases = val();
        else if (a == "--warmup") opt.warmup = std::atof(val().c_str());
        else if (a == "--concurrency") opt.concurrency = std::atoi(val().c_str());
        else if (a == "--connect-timeout") opt.connect_timeout = std::atof(val().c_str());
        else if (a == "--idle") opt.idle = std::atof(val().c_str());
        else if (a == "--release-timeout") opt.release_timeout = std::atof(val().c_str());
        else if (a == "--pad") opt.pad = size_t(std::atol(val().c_str()));
        else if (a == "--ctx") opt.ctx = true;
        else return usage();
    }
    if (opt.port <= 0 || opt.port > 65535 || opt.clients < 1 || opt.clients > 60000 || opt.concurrency < 1)
        return usage();
    if (opt.scenario != "fanout" && opt.scenario != "ack" && opt.scenario != "connections" && opt.scenario != "cluster")
        return usage();
    if ((opt.scenario == "cluster") != (opt.port2 > 0) || opt.port2 > 65535) return usage();
    if (opt.transport != "websocket" && opt.transport != "polling" && opt.transport != "wss") return usage();
    if ((opt.transport == "wss") != !opt.ca_file.empty()) return usage();
    if (opt.transport == "wss" && !tls_init(opt.ca_file)) {
        std::fprintf(stderr, "loadgen: cannot load the CA certificate %s\n", opt.ca_file.c_str());
        return 2;
    }
    // the labels go into the JSON lines as they are
    auto is_label = [](const std::string& v) {
        return !v.empty() && v.size() <= 32 &&
               std::all_of(v.begin(), v.end(), [](char c) { return std::isalnum(uint8_t(c)) || c == '_' || c == '-'; });
    };
    if (!is_label(opt.variant) || !is_label(opt.series)) return usage();
    if (opt.scenario != "connections" && !parse_phases(phases, opt.phases)) return usage();
    if (opt.host != "127.0.0.1" && opt.host != "localhost") {
        std::fprintf(stderr, "loadgen talks to 127.0.0.1 only\n");
        return 2;
    }
    // All the fds we are allowed: a client is one fd (two over polling).
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    const int ports[2] = {opt.port, opt.port2 > 0 ? opt.port2 : opt.port};
    for (size_t i = 0; i < 2; ++i) {
        g_targets[i].addr.sin_family = AF_INET;
        g_targets[i].addr.sin_port = htons(uint16_t(ports[i]));
        inet_pton(AF_INET, "127.0.0.1", &g_targets[i].addr.sin_addr);
        g_targets[i].hostport = "127.0.0.1:" + std::to_string(ports[i]);
    }
    g_ep = epoll_create1(EPOLL_CLOEXEC);
    if (g_ep < 0) return 1;

    Bench bench(opt);
    bench.before_ = server_usage(opt.server_pid, true, false);
    int rc = bench.run();
    std::fflush(stdout);
    std::_Exit(rc);  // skip tearing down 10,000 clients one by one
}
