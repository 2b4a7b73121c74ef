// sioserver_admin.hpp's pure parts: the bcrypt check through libxcrypt (against hashes made by bcryptjs, the npm
// package's own dependency, both fixed and made now), the messages the UI receives (their fields as the package's
// dist/index.js builds them), the traffic differences, and index.html made to work offline.
#include "sioserver_admin.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace {

// Runs `node -e <script>` from the repository root; its stdout ("" if node could not run).
std::string node(const std::string& script) {
    char path[] = "/tmp/sio_admin_unit_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return {};
    (void)!::write(fd, script.data(), script.size());
    ::close(fd);
    std::string out;
    if (FILE* p = popen(("timeout 60 node " + std::string(path) + " 2>&1").c_str(), "r")) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
        pclose(p);
    }
    ::unlink(path);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

std::string bcryptjs(const std::string& expression) {
    return node("const bcrypt = require(process.cwd() + '/node_modules/bcryptjs'); console.log(" + expression + ");");
}

sio::Handshake handshake() {
    sio::Handshake h;
    h.headers = {{"host", "127.0.0.1:3000"}, {"user-agent", "test"}};
    h.time = "Thu Jan 01 2026 00:00:00 GMT";
    h.address = "127.0.0.1";
    h.issued = 1767225600000;
    h.url = "/socket.io/?EIO=4&transport=websocket";
    h.query = {{"EIO", "4"}, {"transport", "websocket"}};
    return h;
}

std::set<std::string> keys(const sio::Value& v) {
    std::set<std::string> out;
    for (auto& kv : v.as_object()) out.insert(kv.first);
    return out;
}

}  // namespace

// ---- passwords

TEST_CASE("admin: a fixed bcryptjs hash ($2a$, cost 5) is accepted with its password only") {
    const std::string hash = "$2a$05$NeGtC8YtiL1sQB0tivZVJeCvvaWaykCbc.V/vNKF9VN1QL6N.gfYu";  // bcryptjs 2.4.3
    CHECK(sio::admin::is_bcrypt_hash(hash));
    CHECK(sio::admin::check_password("s3cret: pass", hash));
    CHECK_FALSE(sio::admin::check_password("s3cret: pas", hash));
    CHECK_FALSE(sio::admin::check_password("S3cret: pass", hash));
    CHECK_FALSE(sio::admin::check_password("", hash));
    CHECK_FALSE(sio::admin::check_password(std::string("s3cret: pass\0x", 14), hash));  // no NUL games
    // A non-ASCII password, hashed by bcryptjs from its UTF-8 bytes.
    CHECK(sio::admin::check_password("pâss wörd", "$2a$04$jBC1TGxanDY46ljGoK7EgelspQiLdQSlVP0DYyvwpcXe7p6UYp9K2"));
}

TEST_CASE("admin: hashes bcryptjs makes now ($2a$ and $2b$) check here, and ours check there") {
    const std::string a = bcryptjs("bcrypt.hashSync('hunter2', 4)");
    REQUIRE_MESSAGE(a.rfind("$2a$04$", 0) == 0, "bcryptjs said: " << a);
    CHECK(sio::admin::check_password("hunter2", a));
    CHECK_FALSE(sio::admin::check_password("hunter3", a));
    const std::string b = "$2b$" + a.substr(4);  // the same hash under the newer prefix
    CHECK(sio::admin::check_password("hunter2", b));

    const std::string ours = sio::admin::hash_password("open sesame", 4);
    CHECK(ours.rfind("$2b$04$", 0) == 0);
    CHECK(sio::admin::check_password("open sesame", ours));
    CHECK(bcryptjs("bcrypt.compareSync('open sesame', '" + ours + "')") == "true");
    CHECK(bcryptjs("bcrypt.compareSync('open sesamE', '" + ours + "')") == "false");
}

TEST_CASE("admin: what is not a bcrypt hash is refused, by is_bcrypt_hash and by instrument()") {
    const std::string good = "$2a$05$NeGtC8YtiL1sQB0tivZVJeCvvaWaykCbc.V/vNKF9VN1QL6N.gfYu";
    for (const std::string& bad :
         {std::string(""), std::string("password"), good.substr(0, good.size() - 1), good + "x", "$1$" + good.substr(3),
          "$6$saltsalt$" + good.substr(7), "$2a$5$" + good.substr(7), "$2x$" + good.substr(4)}) {
        CAPTURE(bad);
        CHECK_FALSE(sio::admin::is_bcrypt_hash(bad));
        CHECK_FALSE(sio::admin::check_password("s3cret: pass", bad));
    }
    sio::Server io;
    sio::admin::Options o;
    CHECK_THROWS_AS(sio::instrument(io, o), std::invalid_argument);  // auth unset: a choice to make, as in Node
    o.auth = true;
    CHECK_THROWS_AS(sio::instrument(io, o), std::invalid_argument);
    o.auth = sio::admin::BasicAuth{"admin", "plain text"};
    CHECK_THROWS_AS(sio::instrument(io, o), std::invalid_argument);
    o.auth = sio::admin::BasicAuth{"admin", good};
    CHECK_NOTHROW(sio::instrument(io, o));
}

TEST_CASE("admin: the bcrypt thread answers every login, refuses past maxPendingLogins, and stops cleanly") {
    const std::string hash = sio::admin::hash_password("pw", 4);
    std::mutex mu;
    std::condition_variable cv;
    int yes = 0, no = 0;
    size_t refused = 0;
    {
        sio::admin::detail::LoginChecker checker(4);
        for (int i = 0; i < 12; ++i) {
            bool queued = checker.submit(i % 2 ? "pw" : "wrong", hash, [&](bool ok) {
                std::lock_guard<std::mutex> lk(mu);
                (ok ? yes : no) += 1;
                cv.notify_all();
            });
            if (!queued) ++refused;
        }
        std::unique_lock<std::mutex> lk(mu);
        CHECK(cv.wait_for(lk, std::chrono::seconds(20), [&] { return size_t(yes + no) + refused == 12; }));
    }                     // the destructor joins the thread
    CHECK(refused >= 1);  // 12 at once: 4 may wait, and the thread may have taken one or two meanwhile
    CHECK(refused <= 8);
    CHECK(size_t(yes + no) == 12 - refused);  // every accepted one is answered
    CHECK(yes >= 1);
}

// ---- messages

TEST_CASE("admin: supportedFeatures as the package lists them") {
    using sio::admin::wire::supported_features;
    CHECK(supported_features(false, true).to_json() ==
          R"(["EMIT","JOIN","LEAVE","DISCONNECT","MJOIN","MLEAVE","MDISCONNECT","AGGREGATED_EVENTS","ALL_EVENTS"])");
    CHECK(supported_features(false, false).to_json() ==
          R"(["EMIT","JOIN","LEAVE","DISCONNECT","MJOIN","MLEAVE","MDISCONNECT","AGGREGATED_EVENTS"])");
    CHECK(supported_features(true, true).to_json() == R"(["AGGREGATED_EVENTS","ALL_EVENTS"])");
    CHECK(supported_features(true, false).to_json() == R"(["AGGREGATED_EVENTS"])");
}

TEST_CASE("admin: dates as JavaScript's Date.toJSON writes them") {
    using namespace std::chrono;
    auto t = system_clock::time_point(milliseconds(1767323045678));
    CHECK(sio::admin::wire::iso_date(t) == "2026-01-02T03:04:05.678Z");  // new Date(1767323045678).toISOString()
    CHECK(sio::admin::wire::iso_date(system_clock::time_point(milliseconds(0))) == "1970-01-01T00:00:00.000Z");
}

TEST_CASE("admin: a socket as the UI gets it (the package's serialize())") {
    sio::admin::wire::SocketView v{"sid1",
                                   "abcdefghijkl",
                                   "websocket",
                                   "/chat",
                                   sio::Object{{"nick", "ann"}, {"_admin", sio::Object{{"clientId", "x"}}}},
                                   handshake(),
                                   {"sid1", "lobby"}};
    sio::Value s = sio::admin::wire::serialize(v);
    CHECK(keys(s) == std::set<std::string>{"id", "clientId", "transport", "nsp", "data", "handshake", "rooms"});
    CHECK(keys(s["handshake"]) ==
          std::set<std::string>{"address", "headers", "query", "issued", "secure", "time", "url", "xdomain"});
    CHECK(s["data"].to_json() == R"({"nick":"ann"})");  // the package's own _admin is not shown
    CHECK(s["rooms"].to_json() == R"(["lobby","sid1"])");
    CHECK(s["handshake"]["issued"].as_number() == 1767225600000.0);
    CHECK(s["handshake"]["query"]["transport"].as_string() == "websocket");

    v.clientId.clear();  // another node's socket without the package's data: left out, as undefined is in JSON
    v.transport.clear();
    v.data = sio::Value();
    s = sio::admin::wire::serialize(v);
    CHECK_FALSE(s.contains("clientId"));
    CHECK_FALSE(s.contains("transport"));
    CHECK(s["data"].to_json() == "{}");  // Node's socket.data starts as {}
}

TEST_CASE("admin: the address is a proxy's header first (cf-connecting-ip, then x-forwarded-for)") {
    auto h = handshake();
    CHECK(sio::admin::wire::address_of(h) == "127.0.0.1");
    h.headers["x-forwarded-for"] = "203.0.113.7";
    CHECK(sio::admin::wire::address_of(h) == "203.0.113.7");
    h.headers["cf-connecting-ip"] = "198.51.100.1";
    CHECK(sio::admin::wire::address_of(h) == "198.51.100.1");
}

TEST_CASE("admin: aggregated events are the differences of the traffic totals, by kind and close reason") {
    using namespace sio::admin::wire;
    TrafficTotals before, now;
    now.connections = 3;
    now.packetsIn = 10;
    now.bytesIn = 250;
    before.packetsOut = now.packetsOut = 7;  // nothing new: no entry
    now.bytesOut = 0;
    now.disconnections[0] = 2;  // transport close
    now.disconnections[2] = 1;  // ping timeout
    auto events = events_between(before, now, 1767323045000);
    sio::Array all;
    for (auto& e : events) all.push_back(sio::Object{{"type", e.type}, {"subType", e.subType}, {"count", e.count}});
    CHECK(sio::Value(all).to_json() == R"([{"count":3,"subType":"","type":"rawConnection"},)"
                                       R"({"count":2,"subType":"transport close","type":"rawDisconnection"},)"
                                       R"({"count":1,"subType":"ping timeout","type":"rawDisconnection"},)"
                                       R"({"count":10,"subType":"","type":"packetsIn"},)"
                                       R"({"count":250,"subType":"","type":"bytesIn"}])");
    for (auto& e : events) CHECK(e.timestamp == 1767323045000);

    ServerStats s;
    s.serverId = "srv";
    s.hostname = "host";
    s.pid = 42;
    s.uptime = 1.5;
    s.clientsCount = 3;
    s.pollingClientsCount = 1;
    s.aggregatedEvents = events;
    s.namespaces = {{"/", 2}, {"/admin", 1}};
    sio::Value v = server_stats(s);
    CHECK(keys(v) == std::set<std::string>{"serverId", "hostname", "pid", "uptime", "clientsCount",
                                           "pollingClientsCount", "aggregatedEvents", "namespaces"});
    CHECK(v["namespaces"] == sio::Value(sio::Array{sio::Object{{"name", "/"}, {"socketsCount", 2}},
                                                   sio::Object{{"name", "/admin"}, {"socketsCount", 1}}}));
    CHECK_FALSE(v["aggregatedEvents"][0].contains("subType"));  // undefined in Node: left out
    CHECK(v["aggregatedEvents"][1]["subType"].as_string() == "transport close");
}

TEST_CASE("admin: the Engine's traffic counters count packets only while on, sessions always") {
    sio::eio::Traffic t;
    t.count_close(sio::reason::PingTimeout);
    t.count_close("not a reason");
    CHECK(t.disconnections[2].load() == 1);
    CHECK(t.counting() == false);
    t.watch(true);
    t.count_out(10);
    t.count_out(0);  // a packet without data (a ping) is not counted, as in Node
    t.count_in(3);
    auto totals = sio::admin::wire::totals_of(t);
    CHECK(totals.packetsOut == 1);
    CHECK(totals.bytesOut == 10);
    CHECK(totals.packetsIn == 1);
    CHECK(totals.bytesIn == 3);
}

// ---- serving the UI

TEST_CASE("admin: the package's index.html, made to work offline and at a sub-path") {
    std::ifstream in("node_modules/@socket.io/admin-ui/ui/dist/index.html");
    REQUIRE_MESSAGE(bool(in), "run from the repository root, after npm ci");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string original = ss.str();
    REQUIRE(original.find("https://") != std::string::npos);  // it does load two stylesheets from CDNs

    std::string local = sio::admin::detail::rewrite_index(original, true, "PREFILL()");
    CHECK(local.find("https://") == std::string::npos);
    CHECK(local.find("http://") == std::string::npos);
    CHECK(local.find("href=\"mdi/css/materialdesignicons.min.css\"") != std::string::npos);
    CHECK(local.find("<head><script>PREFILL()</script>") != std::string::npos);
    // Its own assets stay relative, so that the page works under any path.
    for (const char* asset : {"src=\"js/app.", "src=\"js/chunk-vendors.", "href=\"css/app.", "href=\"favicon.png\""})
        CHECK_MESSAGE(local.find(asset) != std::string::npos, asset);
    CHECK(local.find("src=\"/") == std::string::npos);
    CHECK(local.find("href=\"/") == std::string::npos);

    std::string bare = sio::admin::detail::rewrite_index(original, false, "");
    CHECK(bare.find("materialdesignicons") == std::string::npos);
    CHECK(bare.find("<script>") == std::string::npos);
    CHECK(bare.find("https://") == std::string::npos);
}

TEST_CASE("admin: the UI's files are found from the working directory, and served by name only") {
    sio::admin::detail::UiFiles files("node_modules/@socket.io/admin-ui/ui/dist", {}, "");
    REQUIRE(files.found());
    httplib::Request req;
    httplib::Response res;
    files.serve("", req, res);
    CHECK(res.status != 404);
    CHECK(res.get_header_value("Content-Type") == "text/html; charset=utf-8");
    for (const char* bad : {"../package.json", "js/../../package.json", "nope.js", "/etc/passwd"}) {
        httplib::Response r;
        files.serve(bad, req, r);
        CHECK_MESSAGE(r.status == 404, bad);
    }
    httplib::Response png;
    files.serve("favicon.png", req, png);
    CHECK(png.get_header_value("Content-Type") == "image/png");
    httplib::Request again;
    again.headers.emplace("If-None-Match", png.get_header_value("ETag"));
    httplib::Response cached;
    files.serve("favicon.png", again, cached);
    CHECK(cached.status == 304);
}
