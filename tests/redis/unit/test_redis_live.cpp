// sioserver_redis.hpp against a real redis-server (started by the test on a free loopback port, stopped by PID):
// two C++ nodes in one process, each with its own factory, and a real socket.io-client (tests/redis/probe_client.mjs)
// on one of them. The faults: garbage on the channels, a subscriber that never answers, Redis killed and restarted,
// a Redis that accepts but never replies. (The cluster tests with Node nodes are in tests/cluster.)
#include "sioserver_redis.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "node_runner.hpp"
#include "redis_server.hpp"

using sio::Array;
using sio::Binary;
using sio::Value;
namespace wire = sio::redis::wire;
using Ms = std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

// Waits for a condition no event announces (a connection coming up, a counter moving), at most `ms`.
bool wait_until(const std::function<bool()>& done, int ms = 5000) {
    const auto deadline = Clock::now() + Ms(ms);
    while (!done()) {
        if (Clock::now() > deadline) return false;
        std::this_thread::sleep_for(Ms(5));
    }
    return true;
}

template <class T>
bool ready_within(std::future<T>& f, int ms) {
    return f.wait_for(Ms(ms)) == std::future_status::ready;
}

struct Node {
    // ping_ms: pingInterval and pingTimeout both (0: the defaults)
    explicit Node(int redis_port, int requestsTimeout = 1000, int ping_ms = 0) {
        sio::Options o;
        o.serveClient = false;
        if (ping_ms > 0) o.pingInterval = o.pingTimeout = ping_ms;
        io = std::make_unique<sio::Server>(o);
        sio::redis::Options ro;
        ro.host = "127.0.0.1";
        ro.port = redis_port;
        ro.requestsTimeout = requestsTimeout;
        ro.reconnectDelayMax = 200;
        io->adapter(sio::redis::createAdapter(ro));
    }
    sio::redis::RedisAdapter& adapter(const std::string& nsp = "/") {
        return dynamic_cast<sio::redis::RedisAdapter&>(io->of(nsp).adapter());
    }
    int listen() { return port = io->start("127.0.0.1", 0); }
    std::unique_ptr<sio::Server> io;
    int port = -1;
};

// A raw client of the test Redis, for what no node does: garbage, a silent subscriber, watching the channels.
struct RawRedis {
    explicit RawRedis(int port) {
        timeval tv{5, 0};
        c = redisConnectWithTimeout("127.0.0.1", port, tv);
        if (c) redisSetTimeout(c, tv);
    }
    ~RawRedis() {
        if (c) redisFree(c);
    }
    bool ok() const { return c && !c->err; }
    void command(const std::vector<std::string>& argv) {
        std::vector<const char*> a;
        std::vector<size_t> l;
        for (auto& s : argv) {
            a.push_back(s.data());
            l.push_back(s.size());
        }
        auto* r = static_cast<redisReply*>(redisCommandArgv(c, int(a.size()), a.data(), l.data()));
        if (r) freeReplyObject(r);
    }
    // the next pub/sub push ([p]message ...), or null after the 5 s read time-out
    redisReply* next() {
        void* r = nullptr;
        if (redisGetReply(c, &r) != REDIS_OK) return nullptr;
        return static_cast<redisReply*>(r);
    }
    redisContext* c = nullptr;
};

// A child process with pipes to its stdin and from its stdout: the socket.io-client probe.
class Child {
public:
    explicit Child(const std::vector<std::string>& argv) {
        int in[2], out[2];
        if (pipe(in) != 0 || pipe(out) != 0) return;
        pid_ = fork();
        if (pid_ == 0) {
            dup2(in[0], 0);
            dup2(out[1], 1);
            ::close(in[1]);
            ::close(out[0]);
            std::vector<char*> args;
            for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            execvp(args[0], args.data());
            _exit(127);
        }
        ::close(in[0]);
        ::close(out[1]);
        stdin_ = in[1];
        stdout_ = out[0];
    }
    ~Child() {
        if (stdin_ >= 0) ::close(stdin_);  // the probe exits when its stdin closes
        if (pid_ > 0) {
            int status;
            const auto deadline = Clock::now() + Ms(3000);
            while (waitpid(pid_, &status, WNOHANG) == 0) {
                if (Clock::now() > deadline) {
                    ::kill(pid_, SIGKILL);
                    waitpid(pid_, &status, 0);
                    break;
                }
                std::this_thread::sleep_for(Ms(10));
            }
        }
        if (stdout_ >= 0) ::close(stdout_);
    }
    // The next line it prints, parsed, or null after `ms`.
    Value next(int ms = 5000) {
        const auto deadline = Clock::now() + Ms(ms);
        for (;;) {
            size_t nl = buf_.find('\n');
            if (nl != std::string::npos) {
                Value v;
                (void)wire::parse_json(buf_.substr(0, nl), v);
                buf_.erase(0, nl + 1);
                return v;
            }
            pollfd p{stdout_, POLLIN, 0};
            int left = int(std::chrono::duration_cast<Ms>(deadline - Clock::now()).count());
            if (left <= 0 || ::poll(&p, 1, left) <= 0) return Value();
            char b[4096];
            ssize_t n = ::read(stdout_, b, sizeof b);
            if (n <= 0) return Value();
            buf_.append(b, size_t(n));
        }
    }
    // The next line of `type` (others are skipped), or null.
    Value next_of(const std::string& type, int ms = 5000) {
        const auto deadline = Clock::now() + Ms(ms);
        for (;;) {
            int left = int(std::chrono::duration_cast<Ms>(deadline - Clock::now()).count());
            if (left <= 0) return Value();
            Value v = next(left);
            if (v.is_null() || v["type"].as_string() == type) return v;
        }
    }

private:
    pid_t pid_ = -1;
    int stdin_ = -1, stdout_ = -1;
    std::string buf_;
};

Child probe(int port) {
    return Child({"node", "tests/redis/probe_client.mjs", "http://127.0.0.1:" + std::to_string(port)});
}

struct Cluster {
    Cluster() : a(redis.start() ? redis.port() : 0), b(redis.port()) {
        REQUIRE(redis.running());
        REQUIRE(wait_until([&] { return a.adapter().ready() && b.adapter().ready(); }));
    }
    redis_test::RedisServer redis;
    Node a, b;
};

}  // namespace

TEST_CASE("live: serverSideEmit with and without an ack between two C++ nodes") {
    Cluster c;
    std::promise<sio::Args> noted;
    c.b.io->on("note", [&](sio::ServerEvent& ev) { noted.set_value(ev.args()); });
    c.b.io->on("ping", [&](sio::ServerEvent& ev) { ev.ack(Value("pong:" + ev[0].as_string())); });
    auto note = noted.get_future();
    c.a.io->serverSideEmit("note", "x", 2);
    REQUIRE(ready_within(note, 5000));
    CHECK(note.get() == sio::Args{Value("x"), Value(2)});

    std::promise<std::pair<std::string, sio::Args>> answered;
    c.a.io->serverSideEmit("ping", "a", [&](const sio::Error& err, const sio::Args& responses) {
        answered.set_value({err.message, responses});
    });
    auto answer = answered.get_future();
    REQUIRE(ready_within(answer, 5000));
    auto got = answer.get();
    CHECK(got.first == "");
    CHECK(got.second == sio::Args{Value("pong:a")});
    // a PUBLISH is counted when its reply is read, which may be a moment after the answer came back
    CHECK(wait_until([&] { return c.a.adapter().stats().published >= 2; }));
}

TEST_CASE("live: a broadcast is published in Node's bytes, on the room channel for one room") {
    Cluster c;
    RawRedis watch(c.redis.port());
    REQUIRE(watch.ok());
    watch.command({"PSUBSCRIBE", "socket.io#/#*"});  // (command() reads the confirmation)
    c.a.io->to("room1").emit("hello", 1, Binary{"\x01\x02"});
    redisReply* m = watch.next();
    REQUIRE(m);
    REQUIRE(m->elements == 4);
    CHECK(std::string(m->element[2]->str, m->element[2]->len) == "socket.io#/#room1#");
    wire::Broadcast b;
    REQUIRE(wire::decode_broadcast(std::string_view(m->element[3]->str, m->element[3]->len), b));
    freeReplyObject(m);
    CHECK(b.uid == c.a.adapter().uid());
    CHECK(b.data == Value{Value("hello"), Value(1), Value(Binary{"\x01\x02"})});
    CHECK(b.rooms == std::vector<std::string>{"room1"});
    c.a.io->local().emit("not published");  // local: nothing on Redis
    c.a.io->emit("everyone");
    m = watch.next();
    REQUIRE(m);
    CHECK(std::string(m->element[2]->str, m->element[2]->len) == "socket.io#/#");
    REQUIRE(wire::decode_broadcast(std::string_view(m->element[3]->str, m->element[3]->len), b));
    CHECK(b.data == Value(Array{Value("everyone")}));
    freeReplyObject(m);
}

TEST_CASE("live: a serverSideEmit listener that takes a second delays no session's heartbeat") {
    redis_test::RedisServer redis;
    REQUIRE(redis.start());
    Node a(redis.port()), b(redis.port(), 1000, 200);  // B pings every 200 ms; its client waits 400 ms for a ping
    REQUIRE(wait_until([&] { return a.adapter().ready() && b.adapter().ready(); }));
    REQUIRE(b.listen() > 0);
    Child client = probe(b.port);
    REQUIRE(client.next_of("connect", 10000).is_object());
    std::promise<void> started;
    b.io->on("slow", [&](sio::ServerEvent&) {
        started.set_value();
        std::this_thread::sleep_for(Ms(1000));  // the slow listener under test, not a synchronisation
    });
    a.io->serverSideEmit("slow");
    auto s = started.get_future();
    REQUIRE(ready_within(s, 5000));
    // Through the listener's second and after it, the pings keep coming: the client does not time out.
    CHECK(client.next_of("disconnect", 1500).is_null());
    CHECK(b.io->engine().clients_count() == 1u);
}

TEST_CASE("live: a client on node B gets node A's broadcasts, acks, joins and disconnect; A fetches it") {
    Cluster c;
    c.b.io->on_connection([](sio::Socket& s) { s.join("room1"); });
    REQUIRE(c.b.listen() > 0);
    Child client = probe(c.b.port);
    Value connected = client.next_of("connect", 10000);
    REQUIRE(connected.is_object());
    const std::string sid = connected["id"].as_string();

    c.a.io->to("room1").emit("hi", "there", Binary{"\x05\x06"});
    Value ev = client.next_of("event");
    CHECK(ev["event"].as_string() == "hi");
    CHECK(wire::to_json(ev["args"]) == R"(["there",{"$bin":"0506"}])");
    c.a.io->to("nobody-here").emit("lost");  // B has no such room: dropped before decoding
    c.a.io->except("room1").emit("lost too");
    c.a.io->emit("all");
    ev = client.next_of("event");
    CHECK(ev["event"].as_string() == "all");  // neither "lost" came first

    std::promise<std::pair<std::string, std::vector<sio::RemoteSocket>>> fetched;
    c.a.io->in("room1").fetchSockets([&](const sio::Error& err, std::vector<sio::RemoteSocket> sockets) {
        fetched.set_value({err.message, std::move(sockets)});
    });
    auto f = fetched.get_future();
    REQUIRE(ready_within(f, 5000));
    auto result = f.get();
    CHECK(result.first == "");
    REQUIRE(result.second.size() == 1);
    CHECK(result.second[0].id() == sid);
    CHECK(result.second[0].rooms().count("room1") == 1);
    CHECK(result.second[0].handshake().url.find("EIO=4") != std::string::npos);
    CHECK_FALSE(result.second[0].local());

    std::promise<std::set<std::string>> all_rooms;
    c.a.adapter().allRooms(
        [&](const sio::Error&, std::set<std::string> rooms) { all_rooms.set_value(std::move(rooms)); });
    auto ar = all_rooms.get_future();
    REQUIRE(ready_within(ar, 5000));
    CHECK(ar.get() == std::set<std::string>{sid, "room1"});
    std::promise<size_t> servers;
    c.a.adapter().serverCount([&](size_t n) { servers.set_value(n); });
    auto sc = servers.get_future();
    REQUIRE(ready_within(sc, 5000));
    CHECK(sc.get() == 2);

    std::promise<std::pair<std::string, sio::Args>> acked;
    c.a.io->timeout(5000).emit("question", [&](const sio::Error& err, const sio::Args& responses) {
        acked.set_value({err.message, responses});
    });
    auto ack = acked.get_future();
    REQUIRE(ready_within(ack, 6000));
    auto answers = ack.get();
    CHECK(answers.first == "");
    CHECK(answers.second == sio::Args{Value("ack:question")});

    c.a.io->in("room1").socketsJoin("r2");
    REQUIRE(wait_until([&] { return c.b.io->of("/").adapter().socketRooms(sid).count("r2") == 1; }));
    c.a.io->in("r2").socketsLeave("room1");
    REQUIRE(wait_until([&] { return c.b.io->of("/").adapter().socketRooms(sid).count("room1") == 0; }));
    c.a.io->in("r2").disconnectSockets();
    Value gone = client.next_of("disconnect");
    CHECK(gone["reason"].as_string() == "io server disconnect");
}

TEST_CASE("live: garbage on every channel is counted and dropped; the node goes on") {
    Cluster c;
    RawRedis raw(c.redis.port());
    REQUIRE(raw.ok());
    const auto before = c.b.adapter().stats().malformed;
    const uint64_t errors = c.b.adapter().counters().errors;
    raw.command({"PUBLISH", "socket.io#/#", "garbage"});
    raw.command({"PUBLISH", "socket.io#/#", std::string("\x93\xa1x", 3)});                 // truncated msgpack
    raw.command({"PUBLISH", "socket.io-request#/#", "{\"type\":5"});                       // truncated JSON
    raw.command({"PUBLISH", "socket.io-request#/#", std::string("\x81\xa4type\x06", 7)});  // 6 without data
    raw.command({"PUBLISH", "socket.io-response#/#", std::string("\xc1", 1)});
    raw.command({"PUBLISH", "socket.io#/#nope#", "not even decoded: no such room"});
    REQUIRE(wait_until([&] { return c.b.adapter().stats().malformed >= before + 5; }));
    CHECK(c.b.adapter().stats().malformed == before + 5);
    CHECK(c.b.adapter().counters().errors == errors + 5);  // sio::AdapterStats: malformed messages are errors

    std::promise<sio::Args> answered;
    c.b.io->on("still", [](sio::ServerEvent& ev) { ev.ack(Value(true)); });
    c.a.io->serverSideEmit("still", [&](const sio::Error&, const sio::Args& r) { answered.set_value(r); });
    auto f = answered.get_future();
    REQUIRE(ready_within(f, 5000));
    CHECK(f.get() == sio::Args{Value(true)});
}

TEST_CASE("live: a subscriber that never answers: requests end at requestsTimeout with what came") {
    Cluster c;  // requestsTimeout 1000
    RawRedis silent(c.redis.port());
    REQUIRE(silent.ok());
    silent.command({"SUBSCRIBE", "socket.io-request#/#"});  // counted by PUBSUB NUMSUB, answers nothing
    c.b.io->on("ping", [](sio::ServerEvent& ev) { ev.ack(Value("B")); });

    const auto start = Clock::now();
    std::promise<std::pair<std::string, size_t>> fetched;
    c.a.io->fetchSockets([&](const sio::Error& err, std::vector<sio::RemoteSocket> s) {
        fetched.set_value({err.message, s.size()});
    });
    auto f = fetched.get_future();
    REQUIRE(ready_within(f, 5000));
    auto r = f.get();
    const auto took = std::chrono::duration_cast<Ms>(Clock::now() - start).count();
    CHECK(r.first == "timeout reached while waiting for fetchSockets response");
    CHECK(took >= 900);
    CHECK(took < 4000);

    std::promise<std::pair<std::string, sio::Args>> answered;
    c.a.io->serverSideEmit("ping", [&](const sio::Error& err, const sio::Args& responses) {
        answered.set_value({err.message, responses});
    });
    auto a = answered.get_future();
    REQUIRE(ready_within(a, 5000));
    auto got = a.get();
    CHECK(got.first == "timeout reached: only 1 responses received out of 2");
    CHECK(got.second == sio::Args{Value("B")});
    CHECK(c.a.adapter().stats().requestsTimedOut == 2);
    CHECK(c.a.adapter().counters().requestTimeouts == 2);
    CHECK(c.a.adapter().counters().requests == 2);
}

TEST_CASE("live: Redis killed and restarted: the node neither blocks nor crashes, and traffic resumes") {
    Cluster c;
    c.b.io->on("ping", [](sio::ServerEvent& ev) { ev.ack(Value("B")); });
    c.redis.stop(true);  // SIGKILL
    REQUIRE(wait_until([&] { return !c.a.adapter().ready() && !c.b.adapter().ready(); }));

    const auto unsent = c.a.adapter().stats().unsent;
    const auto start = Clock::now();
    for (int i = 0; i < 100; ++i) c.a.io->emit("while down", i);
    CHECK(std::chrono::duration_cast<Ms>(Clock::now() - start).count() < 500);  // nobody waits for Redis
    // ready() is false once either connection has seen Redis go; the publisher may see it a moment after the
    // subscriber, and publishes queued in that moment fail (and are counted) when their write fails.
    CHECK(wait_until([&] { return c.a.adapter().stats().unsent >= unsent + 100; }));
    CHECK(c.a.adapter().counters().errors >= 100);  // sio::AdapterStats: unsent publishes are errors

    // requests answer at once with this node alone
    std::promise<std::pair<std::string, sio::Args>> alone;
    c.a.io->serverSideEmit("ping", [&](const sio::Error& err, const sio::Args& r) {
        alone.set_value({err.message, r});
    });
    auto f = alone.get_future();
    REQUIRE(ready_within(f, 1000));
    CHECK(f.get().second.empty());
    std::promise<size_t> fetched;
    c.a.io->fetchSockets([&](const sio::Error&, std::vector<sio::RemoteSocket> s) { fetched.set_value(s.size()); });
    auto g = fetched.get_future();
    REQUIRE(ready_within(g, 1000));

    REQUIRE(c.redis.start());  // same port
    REQUIRE(wait_until([&] { return c.a.adapter().ready() && c.b.adapter().ready(); }, 10000));
    CHECK(c.a.adapter().stats().reconnects >= 2);  // publisher and subscriber
    CHECK(c.a.adapter().counters().reconnects == c.a.adapter().stats().reconnects);
    std::promise<sio::Args> back;
    c.a.io->serverSideEmit("ping", [&](const sio::Error&, const sio::Args& r) { back.set_value(r); });
    auto h = back.get_future();
    REQUIRE(ready_within(h, 5000));
    CHECK(h.get() == sio::Args{Value("B")});
}

TEST_CASE("live: close() is prompt with Redis unreachable, or accepting and never answering") {
    {
        Node lonely(redis_test::free_port());  // nothing listens there
        const auto start = Clock::now();
        lonely.io->emit("x");
        lonely.io->close();
        CHECK(std::chrono::duration_cast<Ms>(Clock::now() - start).count() < 1000);
    }
    // A listener that never accepts: connect() completes in its backlog, then AUTH waits for an answer.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 16) == 0);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    {
        sio::Options o;
        o.serveClient = false;
        sio::Server io(o);
        sio::redis::Options ro;
        ro.host = "127.0.0.1";
        ro.port = ntohs(addr.sin_port);
        ro.password = "secret";
        ro.connectTimeout = 60000;  // the wait close() must cut short
        io.adapter(sio::redis::createAdapter(ro));
        // both connections (publisher, subscriber) arrive, send AUTH and wait for its answer
        std::vector<int> accepted;
        const auto deadline = Clock::now() + Ms(5000);
        while (accepted.size() < 2 && Clock::now() < deadline) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 100) > 0) accepted.push_back(::accept(fd, nullptr, nullptr));
        }
        CHECK(accepted.size() == 2);
        CHECK_FALSE(io.of("/").adapter().nsp().name().empty());
        const auto start = Clock::now();
        io.close();
        CHECK(std::chrono::duration_cast<Ms>(Clock::now() - start).count() < 1000);
        for (int a : accepted) ::close(a);
    }
    ::close(fd);
}

TEST_CASE("live: a second namespace has its own channels and adapter, on the same connections") {
    Cluster c;
    auto& a2 = c.a.adapter("/admin");
    auto& b2 = c.b.adapter("/admin");
    CHECK(a2.channels().base == "socket.io#/admin#");
    CHECK(a2.uid() != c.a.adapter().uid());
    REQUIRE(wait_until([&] { return a2.ready() && b2.ready(); }));
    std::promise<sio::Args> got;
    c.b.io->of("/admin").on("adm", [&](sio::ServerEvent& ev) { ev.ack(Value("admin B")); });
    c.b.io->on("adm", [&](sio::ServerEvent& ev) { ev.ack(Value("wrong namespace")); });
    c.a.io->of("/admin").serverSideEmit("adm", [&](const sio::Error&, const sio::Args& r) { got.set_value(r); });
    auto f = got.get_future();
    REQUIRE(ready_within(f, 5000));
    CHECK(f.get() == sio::Args{Value("admin B")});
}

TEST_CASE("live: a Redis that wants a password: the right one works; none keeps retrying, slowly") {
    redis_test::RedisServer redis(redis_test::free_port(), {"--requirepass", "s3cret"});
    REQUIRE(redis.start());
    sio::Options o;
    o.serveClient = false;
    sio::Server good(o), bad(o);
    sio::redis::Options ro;
    ro.host = "127.0.0.1";
    ro.port = redis.port();
    ro.reconnectDelayMax = 200;
    ro.password = "s3cret";
    good.adapter(sio::redis::createAdapter(ro));
    ro.password.clear();
    bad.adapter(sio::redis::createAdapter(ro));
    auto& g = dynamic_cast<sio::redis::RedisAdapter&>(good.of("/").adapter());
    auto& b = dynamic_cast<sio::redis::RedisAdapter&>(bad.of("/").adapter());
    REQUIRE(wait_until([&] { return g.ready(); }));
    std::this_thread::sleep_for(Ms(1000));  // a window to count the retries in (not a synchronization)
    CHECK_FALSE(b.ready());
    CHECK(b.stats().reconnects < 30);  // a retry without the backoff would have made thousands
    bad.emit("refused");
    REQUIRE(wait_until([&] { return b.stats().unsent >= 1; }));  // NOAUTH answers count as unsent
    CHECK(b.stats().published == 0);
}

TEST_CASE("live: publishOnSpecificResponseChannel: the answering node publishes on the requester's channel") {
    redis_test::RedisServer redis;
    REQUIRE(redis.start());
    Node a(redis.port());
    sio::Options o;
    o.serveClient = false;
    sio::Server b(o);
    sio::redis::Options ro;
    ro.host = "127.0.0.1";
    ro.port = redis.port();
    ro.publishOnSpecificResponseChannel = true;
    b.adapter(sio::redis::createAdapter(ro));
    auto& bb = dynamic_cast<sio::redis::RedisAdapter&>(b.of("/").adapter());
    REQUIRE(wait_until([&] { return a.adapter().ready() && bb.ready(); }));
    RawRedis watch(redis.port());
    REQUIRE(watch.ok());
    watch.command({"PSUBSCRIBE", "socket.io-response#/#*"});
    std::promise<std::string> fetched;
    a.io->fetchSockets([&](const sio::Error& err, std::vector<sio::RemoteSocket>) { fetched.set_value(err.message); });
    auto f = fetched.get_future();
    REQUIRE(ready_within(f, 5000));
    CHECK(f.get() == "");
    redisReply* m = watch.next();
    REQUIRE(m);
    REQUIRE(m->elements == 4);
    CHECK(std::string(m->element[2]->str, m->element[2]->len) == a.adapter().channels().own_response);
    freeReplyObject(m);
}

// sio::AdapterStats (what the metrics add-on reads): one object per factory, which every namespace's adapter of the
// factory counts into, and what it counts across two nodes: publishes, messages received, requests of ours that
// wait for answers (fetchSockets, serverSideEmit with an ack, a broadcast with acks), none timed out, no error.
// Each node's factory is `create` (createAdapter, createShardedAdapter, ...) with its options' defaults and this
// test's Redis; its adapters are AdapterType.
template <class AdapterType, class KindOptions>
static void adapter_stats_between_two_nodes(sio::AdapterFactory (*create)(KindOptions)) {
    redis_test::RedisServer redis;
    REQUIRE(redis.start());
    auto make = [&] {
        KindOptions ro;
        ro.host = "127.0.0.1";
        ro.port = redis.port();
        return create(ro);
    };
    sio::Options o;
    o.serveClient = false;
    sio::Server a(o), b(o);
    a.adapter(make());
    b.adapter(make());
    auto& a1 = dynamic_cast<AdapterType&>(a.of("/").adapter());
    auto& a2 = dynamic_cast<AdapterType&>(a.of("/two").adapter());
    auto& b1 = dynamic_cast<AdapterType&>(b.of("/").adapter());
    auto& b2 = dynamic_cast<AdapterType&>(b.of("/two").adapter());
    CHECK(&a1.counters() == &a2.counters());
    CHECK(a1.shared_counters() == a2.shared_counters());
    CHECK(&b1.counters() == &b2.counters());
    CHECK(&a1.counters() != &b1.counters());  // another factory: another node
    REQUIRE(wait_until([&] { return a1.ready() && a2.ready() && b1.ready() && b2.ready(); }));
    sio::AdapterStats& sa = a1.counters();
    sio::AdapterStats& sb = b1.counters();
    const uint64_t a_published = sa.published, a_requests = sa.requests, b_requests = sb.requests;
    const uint64_t b_received = sb.received;

    a.emit("news", 1);  // no client anywhere: B only receives it
    CHECK(wait_until([&] { return sb.received > b_received; }));
    CHECK(sa.requests == a_requests);  // a broadcast waits for no answer

    std::promise<std::string> fetched;
    a.fetchSockets([&](const sio::Error& err, std::vector<sio::RemoteSocket>) { fetched.set_value(err.message); });
    auto f1 = fetched.get_future();
    REQUIRE(ready_within(f1, 5000));
    CHECK(f1.get() == "");
    CHECK(sa.requests == a_requests + 1);

    b.on("ping", [](sio::ServerEvent& ev) { ev.ack(Value("B")); });
    std::promise<sio::Args> answered;
    a.serverSideEmit("ping", [&](const sio::Error&, const sio::Args& r) { answered.set_value(r); });
    auto f2 = answered.get_future();
    REQUIRE(ready_within(f2, 5000));
    CHECK(f2.get() == sio::Args{Value("B")});
    CHECK(sa.requests == a_requests + 2);

    std::promise<std::string> fetched_two;  // another namespace, the same counters
    a.of("/two").fetchSockets(
        [&](const sio::Error& err, std::vector<sio::RemoteSocket>) { fetched_two.set_value(err.message); });
    auto f3 = fetched_two.get_future();
    REQUIRE(ready_within(f3, 5000));
    CHECK(f3.get() == "");
    CHECK(sa.requests == a_requests + 3);

    std::promise<void> acked;
    a.timeout(2000).emit("question", [&](const sio::Error&, const sio::Args&) { acked.set_value(); });
    auto f4 = acked.get_future();
    REQUIRE(ready_within(f4, 5000));
    CHECK(sa.requests == a_requests + 4);

    CHECK(sb.requests == b_requests);  // B only answered
    // broadcast + 4 requests; a PUBLISH (or XADD) is counted once its reply is read
    CHECK(wait_until([&] { return sa.published >= a_published + 5; }));
    CHECK(wait_until([&] { return sb.published >= 3; }));  // its answers: 2 fetches, 1 serverSideEmit
    CHECK(sa.requestTimeouts == 0);
    CHECK(sa.errors == 0);
    CHECK(sb.errors == 0);
    CHECK(sa.reconnects == 0);
    // the same events as Stats (each is counted in both, one after the other)
    CHECK(wait_until([&] {
        auto st = a1.stats();
        return sa.published == st.published && sa.received == st.received && sa.errors == st.unsent + st.malformed;
    }));
}

TEST_CASE("live: sio::AdapterStats of the classic adapter: one per factory, and what moves it") {
    adapter_stats_between_two_nodes<sio::redis::RedisAdapter>(sio::redis::createAdapter);
}

TEST_CASE("live: sio::AdapterStats of the sharded adapter: one per factory, and what moves it") {
    adapter_stats_between_two_nodes<sio::redis::ShardedAdapter>(sio::redis::createShardedAdapter);
}

TEST_CASE("live: sio::AdapterStats of the Streams adapter: one per factory, and what moves it") {
    adapter_stats_between_two_nodes<sio::redis::StreamsAdapter>(sio::redis::createStreamsAdapter);
}
