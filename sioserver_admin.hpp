// sioserver_admin.hpp — the admin UI of sioserver: the dashboard of `@socket.io/admin-ui` watching a sio::Server.
//
// WHAT   sio::instrument(io, options) speaks the server side of `@socket.io/admin-ui` 0.5 on its own namespace
//        ("/admin"), as the npm package's instrument() does for Node: the UI's configuration, server stats every two
//        seconds (clients, polling clients, namespaces and their socket counts, connections and bytes per second),
//        and in "development" mode every socket with its rooms, connections and disconnections, joins and leaves,
//        and each event received and sent. The UI can disconnect sockets and make them join or leave rooms, unless
//        `readonly`. Logins are refused or checked against a bcrypt hash, as in Node. It can also serve the UI the
//        npm package ships, at a path you choose, so that the dashboard works offline with no hosted page.
// USE    #include "sioserver_admin.hpp"  (it includes sioserver.hpp; sioserver.hpp never includes it)
//          sio::Server io;
//          sio::admin::Options ao;
//          ao.auth = sio::admin::BasicAuth{"admin", "$2b$10$..."};  // a bcrypt hash; or ao.auth = false;
//          ao.uiPath = "/admin/";                                  // also serve the dashboard there (optional)
//          sio::instrument(io, ao);                                // after io.adapter(...), before listen()
//        g++ -std=c++17 -O2 app.cpp $(pkg-config --cflags --libs cpp-httplib) -lcrypt -pthread
//        Then open http://localhost:3000/admin/ (or https://admin.socket.io) and connect to http://localhost:3000.
// NEEDS  sioserver.hpp and what it needs; libcrypt (libxcrypt: Debian libcrypt-dev, -lcrypt) whose crypt_r checks
//        the bcrypt hashes ($2a$, $2b$, $2y$). To serve the UI: the npm package's ui/dist (`npm install
//        @socket.io/admin-ui`), and for its icons an icon font (Debian fonts-materialdesignicons-webfont, or npm
//        @mdi/font); without one the UI works with blank icons.
// API    sio::admin::Options       Node's namespaceName, auth, readonly, serverId, store, mode (names, defaults),
//                                  and our own: statsInterval, uiPath, uiDir, iconDirs, maxPendingLogins
//        sio::instrument(io, opt)  once per server; throws std::invalid_argument for bad options (no `auth`, ...)
//        sio::admin::hash_password(password) a bcrypt hash for BasicAuth (libxcrypt's, cost 10)
//        sio::admin::wire::*       the messages as pure functions, for tests and tools
// COST   "production" mode: per event nothing; per packet one relaxed load while no admin is connected, two
//        relaxed atomic adds while one is. "development" mode gives every socket onAny / onAnyOutgoing listeners
//        (run for each event and each recipient of a broadcast, admin or not) and mirrors every event to the
//        admins, as Node does: use "production" where the traffic matters.
// DIFFERS from Node's package: the RedisStore is left out (the Store interface takes one); data changes made to
//        socket.data are not pushed (Node proxies the object; transport upgrades are); the UI's "emit", "join",
//        "leave" and "_disconnect" reach existing namespaces only (Node's io.of() would create the one named); a
//        login with no password is refused at once (Node's bcryptjs throws and the login hangs); bcrypt runs on a
//        thread of its own, at most maxPendingLogins waiting.
// READ   1. options   2. messages (pure)   3. passwords (crypt)   4. serving the UI   5. the instrumentation
// LICENSE MIT, as sioserver.hpp. Copyright (c) 2026 the sioserver authors.
#pragma once

#include "sioserver.hpp"

#include <crypt.h>
#include <dirent.h>
#include <sys/stat.h>

#include <sstream>
#include <variant>

namespace sio {
namespace admin {

// =====================================================================================================================
// 1. OPTIONS
// =====================================================================================================================

// Node's `auth: {type: "basic", username, password}`: `password` is a bcrypt hash, never the password itself.
struct BasicAuth {
    std::string username;
    std::string password;
};

// Where the sessions of logged-in UIs are kept, so that a UI that reconnects (it sends auth.sessionId) needs no
// password again: Node's Store. Either call may answer later, from any thread.
class Store {
public:
    virtual ~Store() = default;
    virtual void doesSessionExist(const std::string& sessionId, std::function<void(bool)> done) = 0;
    virtual void saveSession(const std::string& sessionId) = 0;
};

// Node's InMemoryStore: the sessions of this process, until it ends.
class InMemoryStore : public Store {
public:
    void doesSessionExist(const std::string& sessionId, std::function<void(bool)> done) override {
        bool found;
        {
            std::lock_guard<std::mutex> lk(mu_);
            found = sessions_.count(sessionId) != 0;
        }
        done(found);
    }
    void saveSession(const std::string& sessionId) override {
        std::lock_guard<std::mutex> lk(mu_);
        sessions_.insert(sessionId);
    }

private:
    std::mutex mu_;  // a leaf
    std::set<std::string> sessions_;
};

inline std::string default_mode() {
    const char* env = std::getenv("NODE_ENV");  // Node's default, kept so that one variable sets both servers
    return env && *env ? env : "development";
}

struct Options {
    std::string namespaceName = "/admin";
    // false, or a BasicAuth. Left unset, instrument() throws: as in Node, going without a password is a choice.
    std::variant<std::monostate, bool, BasicAuth> auth;
    bool readonly = false;              // the UI can look, not act
    std::string serverId;               // "": the host name
    std::shared_ptr<Store> store;       // null: an InMemoryStore
    std::string mode = default_mode();  // "development" (everything) or anything else (stats only): NODE_ENV
    // ---- not in the reference
    int statsInterval = 2000;  // ms between two server_stats (Node's fixed value)
    std::string uiPath;        // serve the UI under this path ("/admin/"); "": not served
    // The UI's files: relative paths are tried from the working directory, then from the program's directory and
    // its two parents (a program in build/ finds the repository's node_modules).
    std::string uiDir = "node_modules/@socket.io/admin-ui/ui/dist";
    // An icon font for the UI (a folder with css/materialdesignicons.min.css and fonts/): the first found is used.
    std::vector<std::string> iconDirs = {"node_modules/@mdi/font", "/usr/share/fonts-materialdesignicons-webfont"};
    size_t maxPendingLogins = 8;  // password checks waiting for the bcrypt thread; past it, refused
};

// =====================================================================================================================
// 2. MESSAGES — what the UI receives, as pure functions (the package's dist/index.js is the reference)
// =====================================================================================================================
namespace wire {

// The UI's names for what this server can do ("config" {supportedFeatures}).
inline Value supported_features(bool readonly, bool development) {
    Array out;
    if (!readonly)
        for (const char* f : {"EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT"})
            out.push_back(f);
    out.push_back("AGGREGATED_EVENTS");
    if (development) out.push_back("ALL_EVENTS");
    return out;
}

// A JavaScript Date as JSON writes it: "2026-01-02T03:04:05.678Z".
inline std::string iso_date(std::chrono::system_clock::time_point t) {
    const long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    std::time_t seconds = std::time_t(ms / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char text[96];  // room for any int the compiler imagines in each field
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms % 1000));
    return text;
}

// socket.data without the package's own "_admin" entry; {} when the socket has none (Node's default data).
inline Value client_data(const Value& data) {
    if (!data.is_object()) return data.is_null() ? Value(Object{}) : data;
    Object out = data.as_object();
    out.erase("_admin");
    return out;
}

// The address the UI shows: a proxy's cf-connecting-ip or x-forwarded-for header first, as Node's package does.
inline std::string address_of(const Handshake& h) {
    for (const char* header : {"cf-connecting-ip", "x-forwarded-for"}) {
        auto it = h.headers.find(header);
        if (it != h.headers.end() && !it->second.empty()) return it->second;
    }
    return h.address;
}

// What the UI is told about one socket (in "all_sockets" and "socket_connected").
struct SocketView {
    std::string id, clientId, transport, nsp;  // clientId: the first 12 characters of the Engine.IO sid
    Value data;
    Handshake handshake;
    std::set<std::string> rooms;
};

inline Value serialize(const SocketView& s) {
    Object headers, query;
    for (auto& kv : s.handshake.headers) headers[kv.first] = kv.second;
    for (auto& kv : s.handshake.query) query[kv.first] = kv.second;
    Array rooms(s.rooms.begin(), s.rooms.end());
    Object out{{"id", s.id},
               {"nsp", s.nsp},
               {"data", client_data(s.data)},
               {"handshake", Object{{"address", address_of(s.handshake)},
                                    {"headers", Value(std::move(headers))},
                                    {"query", Value(std::move(query))},
                                    {"issued", s.handshake.issued},
                                    {"secure", s.handshake.secure},
                                    {"time", s.handshake.time},
                                    {"url", s.handshake.url},
                                    {"xdomain", s.handshake.xdomain}}},
               {"rooms", Value(std::move(rooms))}};
    if (!s.clientId.empty()) out["clientId"] = s.clientId;  // unknown for another node's socket: left out, as Node
    if (!s.transport.empty()) out["transport"] = s.transport;
    return out;
}

// One entry of server_stats.aggregatedEvents: how many of one kind happened in one second.
struct AggregatedEvent {
    long long timestamp;  // ms since the epoch, a whole second
    std::string type;     // rawConnection, rawDisconnection, packetsIn, packetsOut, bytesIn, bytesOut
    std::string subType;  // the close reason of a rawDisconnection; "" for the others
    uint64_t count;
};

// The traffic totals at one moment; the difference between two is what happened in between.
struct TrafficTotals {
    uint64_t connections = 0, packetsIn = 0, bytesIn = 0, packetsOut = 0, bytesOut = 0;
    std::vector<uint64_t> disconnections = std::vector<uint64_t>(std::size(eio::Traffic::reasons), 0);
};

inline TrafficTotals totals_of(const eio::Traffic& t) {
    TrafficTotals out;
    out.connections = t.connections.load(std::memory_order_relaxed);
    out.packetsIn = t.packetsIn.load(std::memory_order_relaxed);
    out.bytesIn = t.bytesIn.load(std::memory_order_relaxed);
    out.packetsOut = t.packetsOut.load(std::memory_order_relaxed);
    out.bytesOut = t.bytesOut.load(std::memory_order_relaxed);
    for (size_t i = 0; i < out.disconnections.size(); ++i)
        out.disconnections[i] = t.disconnections[i].load(std::memory_order_relaxed);
    return out;
}

// What happened between two totals, dated `second` (Node dates each event by its own second; a sample per tick
// puts a tick's events in its second, which the UI's 10-second bars do not tell apart).
inline std::vector<AggregatedEvent> events_between(const TrafficTotals& before, const TrafficTotals& now,
                                                   long long second) {
    std::vector<AggregatedEvent> out;
    auto add = [&](const char* type, uint64_t a, uint64_t b, const char* sub = "") {
        if (b > a) out.push_back(AggregatedEvent{second, type, sub, b - a});
    };
    add("rawConnection", before.connections, now.connections);
    for (size_t i = 0; i < now.disconnections.size() && i < before.disconnections.size(); ++i)
        add("rawDisconnection", before.disconnections[i], now.disconnections[i], eio::Traffic::reasons[i]);
    add("packetsIn", before.packetsIn, now.packetsIn);
    add("bytesIn", before.bytesIn, now.bytesIn);
    add("packetsOut", before.packetsOut, now.packetsOut);
    add("bytesOut", before.bytesOut, now.bytesOut);
    return out;
}

struct ServerStats {
    std::string serverId, hostname;
    long long pid = 0;
    double uptime = 0;  // seconds since the process started (Node's process.uptime())
    size_t clientsCount = 0, pollingClientsCount = 0;
    std::vector<AggregatedEvent> aggregatedEvents;
    std::vector<std::pair<std::string, size_t>> namespaces;  // name, socketsCount
};

inline Value server_stats(const ServerStats& s) {
    Array events, namespaces;
    for (auto& e : s.aggregatedEvents) {
        Object entry{{"timestamp", e.timestamp}, {"type", e.type}, {"count", e.count}};
        if (!e.subType.empty()) entry["subType"] = e.subType;
        events.push_back(Value(std::move(entry)));
    }
    for (auto& n : s.namespaces) namespaces.push_back(Object{{"name", n.first}, {"socketsCount", n.second}});
    return Object{{"serverId", s.serverId},
                  {"hostname", s.hostname},
                  {"pid", s.pid},
                  {"uptime", s.uptime},
                  {"clientsCount", s.clientsCount},
                  {"pollingClientsCount", s.pollingClientsCount},
                  {"aggregatedEvents", Value(std::move(events))},
                  {"namespaces", Value(std::move(namespaces))}};
}

}  // namespace wire

// =====================================================================================================================
// 3. PASSWORDS — bcrypt through libxcrypt's crypt_r (never a bcrypt of our own)
// =====================================================================================================================

// "$2a$", "$2b$" or "$2y$", a two-digit cost, then 53 characters of bcrypt's base64 (salt and hash).
inline bool is_bcrypt_hash(const std::string& hash) {
    static const std::regex shape("^\\$2[aby]\\$[0-9]{2}\\$[./A-Za-z0-9]{53}$");
    return std::regex_match(hash, shape) && crypt_checksalt(hash.c_str()) == CRYPT_SALT_OK;
}

// Whether `password` matches the bcrypt `hash`. It takes the time bcrypt takes (about 60 ms at cost 10).
inline bool check_password(const std::string& password, const std::string& hash) {
    if (!is_bcrypt_hash(hash) || password.find('\0') != std::string::npos) return false;
    auto data = std::make_unique<crypt_data>();  // zeroed, as crypt_r wants it the first time (32 KB: not on a stack)
    const char* out = crypt_r(password.c_str(), hash.c_str(), data.get());
    if (!out || std::strlen(out) != hash.size()) return false;
    unsigned char differ = 0;  // every byte compared, so that the time says nothing about where they differ
    for (size_t i = 0; i < hash.size(); ++i) differ |= static_cast<unsigned char>(out[i] ^ hash[i]);
    return differ == 0;
}

// A bcrypt hash of `password` ("$2b$", cost `rounds`) for BasicAuth; throws std::runtime_error if libcrypt fails.
inline std::string hash_password(const std::string& password, unsigned long rounds = 10) {
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!crypt_gensalt_rn("$2b$", rounds, nullptr, 0, setting, int(sizeof setting)))
        throw std::runtime_error("crypt_gensalt_rn failed for bcrypt");
    auto data = std::make_unique<crypt_data>();
    const char* out = crypt_r(password.c_str(), setting, data.get());
    if (!out || out[0] == '*') throw std::runtime_error("crypt_r failed for bcrypt");
    return out;
}

namespace detail {

// The bcrypt checks of logins, on one thread of their own: a check takes tens of milliseconds, which a handler
// must not hold the handler lock for. Started at the first check; at most `max_pending` wait, later ones are
// refused at once (a flood of logins costs one core, not the server). `done` runs on this thread, no lock held.
class LoginChecker {
public:
    explicit LoginChecker(size_t max_pending) : queue_(std::make_shared<Queue>()), max_pending_(max_pending) {}
    ~LoginChecker() {
        {
            std::lock_guard<std::mutex> lk(queue_->mu);
            queue_->stopping = true;
            queue_->jobs.clear();
        }
        queue_->cv.notify_one();
        // The last owner may let go inside a `done` on the thread itself: then the thread ends on its own (its
        // queue is shared with it), as it must not join itself.
        if (!thread_.joinable()) return;
        if (thread_.get_id() == std::this_thread::get_id()) thread_.detach();
        else thread_.join();
    }
    LoginChecker(const LoginChecker&) = delete;
    LoginChecker& operator=(const LoginChecker&) = delete;

    bool submit(std::string password, std::string hash, std::function<void(bool)> done) {
        {
            std::lock_guard<std::mutex> lk(queue_->mu);
            if (queue_->stopping || queue_->jobs.size() >= max_pending_) return false;
            queue_->jobs.push_back(Job{std::move(password), std::move(hash), std::move(done)});
            if (!thread_.joinable()) thread_ = std::thread([q = queue_] { loop(q); });
        }
        queue_->cv.notify_one();
        return true;
    }

private:
    struct Job {
        std::string password, hash;
        std::function<void(bool)> done;
    };
    struct Queue {
        std::mutex mu;  // a leaf: never held while checking or calling `done`
        std::condition_variable cv;
        std::deque<Job> jobs;
        bool stopping = false;
    };
    static void loop(std::shared_ptr<Queue> q) {
        std::unique_lock<std::mutex> lk(q->mu);
        for (;;) {
            q->cv.wait(lk, [&] { return q->stopping || !q->jobs.empty(); });
            if (q->stopping) return;
            Job job = std::move(q->jobs.front());
            q->jobs.pop_front();
            lk.unlock();
            job.done(check_password(job.password, job.hash));
            job = Job{};  // what `done` holds is let go before the lock is taken again
            lk.lock();
        }
    }

    std::shared_ptr<Queue> queue_;
    const size_t max_pending_;
    std::thread thread_;
};

inline std::string random_hex(size_t bytes) {
    std::string raw(bytes, '\0');
    size_t got = 0;
    while (got < bytes) {
        ssize_t n = getrandom(&raw[got], bytes - got, 0);
        if (n > 0) got += size_t(n);
        else if (errno != EINTR) throw std::runtime_error("getrandom failed");
    }
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (char ch : raw) {
        const auto c = static_cast<unsigned char>(ch);
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

// =====================================================================================================================
// 4. SERVING THE UI — the npm package's ui/dist, offline
// The files are read from `uiDir` (found once, at instrument()); only the files found there are served, so no
// request can walk out of it. Its index.html names its assets relatively ("js/app.<hash>.js") and the app routes
// with "#/...", so it works under any path that ends with "/" (the path without it redirects there). Two of its
// stylesheets come from CDNs: the Roboto font is dropped (a local font stands in) and the icon font is taken from
// `iconDirs` under <uiPath>mdi/ (or dropped too). With `prefill`, the page first stores this server's URL, path
// and namespace where the UI reads its last connection, so that it connects at once.
// =====================================================================================================================

inline std::string program_dir() {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return "";
    std::string path(buf, size_t(n));
    return path.substr(0, path.rfind('/') + 1);
}

inline bool is_dir(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// `dir` as given when it exists (or is absolute); otherwise beside the program or one or two folders above it.
inline std::string find_dir(const std::string& dir) {
    if (dir.empty() || dir[0] == '/' || is_dir(dir)) return dir;
    const std::string exe = program_dir();
    for (const char* up : {"", "../", "../../"})
        if (!exe.empty() && is_dir(exe + up + dir)) return exe + up + dir;
    return dir;
}

inline const char* content_type(const std::string& name) {
    auto ends = [&](const char* ext) {
        size_t n = std::strlen(ext);
        return name.size() >= n && name.compare(name.size() - n, n, ext) == 0;
    };
    if (ends(".html")) return "text/html; charset=utf-8";
    if (ends(".js")) return "application/javascript; charset=utf-8";
    if (ends(".css")) return "text/css; charset=utf-8";
    if (ends(".map") || ends(".json")) return "application/json";
    if (ends(".png")) return "image/png";
    if (ends(".svg")) return "image/svg+xml";
    if (ends(".woff2")) return "font/woff2";
    if (ends(".woff")) return "font/woff";
    if (ends(".ttf")) return "font/ttf";
    if (ends(".eot")) return "application/vnd.ms-fontobject";
    return "application/octet-stream";
}

// index.html with its CDN stylesheets dropped or made local, and the prefill script first in <head>.
inline std::string rewrite_index(std::string html, bool local_icons, const std::string& prefill) {
    std::string out;
    size_t pos = 0;
    for (;;) {
        size_t tag = html.find("<link", pos);
        if (tag == std::string::npos) break;
        size_t end = html.find('>', tag);
        if (end == std::string::npos) break;
        std::string link = html.substr(tag, end + 1 - tag);
        out += html.substr(pos, tag - pos);
        pos = end + 1;
        const bool remote = link.find("href=\"http://") != std::string::npos ||
                            link.find("href=\"https://") != std::string::npos ||
                            link.find("href=\"//") != std::string::npos;
        if (!remote) out += link;
        else if (local_icons && link.find("materialdesignicons") != std::string::npos)
            out += "<link rel=\"stylesheet\" href=\"mdi/css/materialdesignicons.min.css\">";
    }
    out += html.substr(pos);
    if (!prefill.empty()) {
        size_t head = out.find("<head>");
        if (head != std::string::npos) out.insert(head + 6, "<script>" + prefill + "</script>");
    }
    return out;
}

class UiFiles {
public:
    UiFiles(std::string dir, const std::vector<std::string>& icon_dirs, std::string prefill)
        : dir_(find_dir(dir)), prefill_(std::move(prefill)) {
        list(dir_, "", 0);
        for (auto& d : icon_dirs) {
            std::string found = find_dir(d);
            std::ifstream css(found + "/css/materialdesignicons.min.css");
            if (!css) continue;
            files_["mdi/css/materialdesignicons.min.css"] = entry(found + "/css/materialdesignicons.min.css");
            list(found + "/fonts", "mdi/fonts/", 1);
            local_icons_ = true;
            break;
        }
    }
    bool found() const { return files_.count("index.html") != 0; }
    const std::string& dir() const { return dir_; }

    // `name` is the path below the UI's path ("" for the page itself).
    void serve(std::string name, const httplib::Request& req, httplib::Response& res) {
        if (name.empty()) name = "index.html";
        const Entry* e = load(name);
        if (!e) {
            res.status = 404;
            if (name == "index.html")
                res.set_content("the admin UI is not installed: " + dir_ +
                                    "/index.html is missing (run `npm install "
                                    "@socket.io/admin-ui`, or set sio::admin::Options::uiDir)\n",
                                "text/plain");
            return;
        }
        res.set_header("ETag", e->etag);
        res.set_header("Cache-Control", "no-cache");
        res.set_header("X-Content-Type-Options", "nosniff");
        if (req.get_header_value("If-None-Match") == e->etag) {
            res.status = 304;
            return;
        }
        res.set_content(e->content, content_type(name));
    }

private:
    struct Entry {
        std::string file;
        bool loaded = false, missing = false;
        std::string content, etag;
    };

    static Entry entry(std::string file) {
        Entry e;
        e.file = std::move(file);
        return e;
    }
    void list(const std::string& dir, const std::string& prefix, int depth) {
        if (depth > 3 || files_.size() > 1000) return;  // the package has a few dozen files: bounded all the same
        DIR* d = opendir(dir.c_str());
        if (!d) return;
        while (dirent* e = readdir(d)) {
            std::string name = e->d_name;
            if (name.empty() || name[0] == '.') continue;
            std::string path = dir + "/" + name;
            struct stat st {};
            if (::stat(path.c_str(), &st) != 0) continue;  // stat follows links: Debian's font folder is links
            if (S_ISDIR(st.st_mode)) list(path, prefix + name + "/", depth + 1);
            else if (S_ISREG(st.st_mode)) files_[prefix + name] = entry(path);
        }
        closedir(d);
    }

    const Entry* load(const std::string& name) {
        std::lock_guard<std::mutex> lk(mu_);
        auto it = files_.find(name);
        if (it == files_.end()) return nullptr;
        Entry& e = it->second;
        if (!e.loaded) {
            e.loaded = true;
            std::ifstream in(e.file, std::ios::binary);
            e.missing = !in;
            e.content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
            if (name == "index.html") e.content = rewrite_index(std::move(e.content), local_icons_, prefill_);
            std::string digest = sha1(e.content);
            char hex[17];
            for (size_t i = 0; i < 8; ++i) std::snprintf(hex + i * 2, 3, "%02x", uint8_t(digest[i]));
            e.etag = "\"" + std::string(hex) + "\"";
        }
        return e.missing ? nullptr : &e;
    }

    std::string dir_, prefill_;
    bool local_icons_ = false;
    std::mutex mu_;                       // a leaf: the cache of file contents
    std::map<std::string, Entry> files_;  // by path below the UI's path; filled at construction, then only read
};

inline std::string regex_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (std::strchr("\\^$.|?*+()[]{}", c)) out += '\\';
        out += c;
    }
    return out;
}

// Serves the UI at `path` ("/admin/"); "/admin" redirects to "/admin/".
inline void serve_ui(Server& io, std::string path, const Options& o, bool prefill) {
    if (path.empty() || path[0] != '/') path = "/" + path;
    if (path.back() != '/') path += '/';
    std::string script;
    if (prefill) {
        std::string engine_path = io.options().path;
        if (engine_path.size() > 1 && engine_path.back() == '/') engine_path.pop_back();
        auto js = [](const std::string& s) { return picojson::value(s).serialize(); };
        script =
            "try{if(!localStorage.getItem(\"server_url\")){localStorage.setItem(\"server_url\",location.origin);"
            "localStorage.setItem(\"namespace\"," +
            js(o.namespaceName) + ");localStorage.setItem(\"path\"," + js(engine_path) + ")}}catch(e){}";
    }
    auto files = std::make_shared<UiFiles>(o.uiDir, o.iconDirs, script);
    if (!files->found())
        std::fprintf(stderr,
                     "[sio] admin UI: %s/index.html not found (npm install @socket.io/admin-ui, or set "
                     "uiDir): %s answers 404\n",
                     files->dir().c_str(), path.c_str());
    const std::string base = path.substr(0, path.size() - 1);
    io.http().Get(regex_escape(base) + "(/.*)?",
                  [files, base, path](const httplib::Request& req, httplib::Response& res) {
                      if (req.path == base && !base.empty()) {
                          res.status = 301;
                          res.set_header("Location", path);
                          return;
                      }
                      files->serve(req.path.substr(path.size()), req, res);
                  });
}

// =====================================================================================================================
// 5. THE INSTRUMENTATION — one per server, kept alive by the handlers it registers (so: as long as the server)
// Threads: its hooks run on whatever thread the event happened on (a handler, a connection thread, a thread of the
// user's); the stats tick and a checked login run on the engine's handler thread (ext::post_after, ext::post: the
// bcrypt thread runs no user code). It sends through the admin namespace, which any thread may do. Its own lock
// (mu_) is a leaf: held for a few map operations, never while calling into sioserver.
// =====================================================================================================================

class Instrumentation : public std::enable_shared_from_this<Instrumentation> {
public:
    Instrumentation(Server& io, Options o)
        : io_(io),
          opt_(std::move(o)),
          admin_(io.of(opt_.namespaceName)),
          development_(opt_.mode == "development"),
          features_(wire::supported_features(opt_.readonly, development_)),
          started_(process_start()),
          logins_(opt_.maxPendingLogins) {
        if (!opt_.store) opt_.store = std::make_shared<InMemoryStore>();
        char host[256] = {};
        gethostname(host, sizeof host - 1);
        hostname_ = host;
        if (opt_.serverId.empty()) opt_.serverId = hostname_;
    }

    void start() {
        auto self = shared_from_this();
        if (auto* basic = std::get_if<BasicAuth>(&opt_.auth)) {
            BasicAuth credentials = *basic;
            admin_.use([self, credentials](Socket& s, Next next) { self->authenticate(s, credentials, next); });
        }
        admin_.on_connection([self](Socket& s) { self->on_admin(s); });
        if (development_) {
            for (Namespace* nsp : io_.namespaces()) watch(*nsp);
            // Weak: the namespaces' handlers own this, so that it goes with them (the engine outlives them).
            std::weak_ptr<Instrumentation> weak = self;
            io_.on_new_namespace([weak](Namespace& nsp) {
                if (auto me = weak.lock()) me->watch(nsp);
            });
            io_.engine().on_upgrade([weak](eio::Socket& conn) {
                if (auto me = weak.lock()) me->upgraded(conn);
            });
        }
        std::weak_ptr<Instrumentation> weak = self;
        ext::post_after(io_.engine(), opt_.statsInterval, [weak] {
            if (auto me = weak.lock()) me->tick();
        });
        if (!opt_.uiPath.empty()) serve_ui(io_, opt_.uiPath, opt_, std::holds_alternative<bool>(opt_.auth));
    }

private:
    using Clock = std::chrono::system_clock;
    static std::string now() { return wire::iso_date(Clock::now()); }

    // When this process started (for Node's process.uptime()): from /proc, or now when it cannot be read.
    static std::chrono::steady_clock::time_point process_start() {
        auto now_steady = std::chrono::steady_clock::now();
        std::ifstream stat("/proc/self/stat"), uptime("/proc/uptime");
        std::string text;
        std::getline(stat, text);
        double system_up = 0;
        uptime >> system_up;
        size_t close = text.rfind(')');  // the program's name may hold spaces: fields count from after it
        if (close == std::string::npos || system_up <= 0) return now_steady;
        std::istringstream fields(text.substr(close + 2));
        std::string field;
        for (int i = 3; i <= 22 && fields >> field; ++i)
            if (i == 22) {
                double started = std::stod(field) / double(sysconf(_SC_CLK_TCK));
                auto up = std::chrono::duration<double>(std::max(0.0, system_up - started));
                return now_steady - std::chrono::duration_cast<std::chrono::steady_clock::duration>(up);
            }
        return now_steady;
    }

    // ---- logins
    void authenticate(Socket& s, const BasicAuth& credentials, Next next) {
        const Value& auth = s.handshake().auth;
        const std::string socket_id = s.id();
        auto self = shared_from_this();
        auto check_password_then = [self, credentials, next, socket_id, auth]() {
            const Value& user = auth["username"];
            const Value& password = auth["password"];
            if (!user.is_string() || user.as_string() != credentials.username || !password.is_string())
                return next(ConnectError{"invalid credentials", {}});
            bool queued =
                self->logins_.submit(password.as_string(), credentials.password, [self, next, socket_id](bool match) {
                    // From the bcrypt thread to the engine's handler thread: next() goes on to the namespace's
                    // connection handlers (user code), which never run on an add-on's own thread.
                    ext::post(self->io_.engine(), [self, next, socket_id, match] {
                        if (!match) return next(ConnectError{"invalid credentials", {}});
                        std::string session = random_hex(8);
                        self->opt_.store->saveSession(session);
                        {
                            std::lock_guard<std::mutex> lk(self->mu_);
                            if (self->new_sessions_.size() > 1000) self->new_sessions_.clear();  // bounded
                            self->new_sessions_[socket_id] = session;
                        }
                        next();
                    });
                });
            if (!queued) next(ConnectError{"too many login attempts at once, try again", {}});
        };
        const Value& session = auth["sessionId"];
        if (!session.is_string() || session.as_string().empty()) return check_password_then();
        opt_.store->doesSessionExist(session.as_string(), [next, check_password_then](bool exists) {
            if (exists) return next();
            check_password_then();
        });
    }

    // ---- an admin UI connects
    void on_admin(Socket& s) {
        std::string session;
        {
            std::lock_guard<std::mutex> lk(mu_);
            if (admins_.fetch_add(1) == 0) io_.engine().traffic().watch(true);
            auto it = new_sessions_.find(s.id());
            if (it != new_sessions_.end()) {
                session = it->second;
                new_sessions_.erase(it);
            }
        }
        if (!session.empty()) s.emit("session", session);  // Node sends it from the middleware: the UI stores it
        auto self = shared_from_this();
        s.on("disconnect", [self](Event&) {
            std::lock_guard<std::mutex> lk(self->mu_);
            if (self->admins_.fetch_sub(1) == 1) self->io_.engine().traffic().watch(false);
        });
        if (!opt_.readonly) register_actions(s);
        s.emit("config", Object{{"supportedFeatures", features_}});
        if (development_) send_all_sockets(s.shared_from_this());
    }

    Namespace* find_namespace(const Value& name) const {
        for (Namespace* nsp : io_.namespaces())
            if (nsp->name() == name.as_string()) return nsp;
        return nullptr;
    }
    // Node's `if (filter)`: a room (a socket's id is one) or several; anything else means the whole namespace.
    static BroadcastOperator target(Namespace& nsp, const Value& filter) {
        BroadcastOperator all(nsp);
        if (filter.is_string() && !filter.as_string().empty()) return all.in(filter.as_string());
        if (filter.is_array() && filter.size() > 0) {
            std::vector<std::string> rooms;
            for (auto& r : filter.as_array())
                if (r.is_string()) rooms.push_back(r.as_string());
            return all.in(rooms);
        }
        return all;
    }

    // The UI's actions: "emit" (nsp, filter, event, ...args), "join" / "leave" (nsp, room, filter) and
    // "_disconnect" (nsp, close, filter), each through the namespace's adapter, so they reach every node.
    void register_actions(Socket& s) {
        auto self = shared_from_this();
        s.on("emit", [self](Event& ev) {
            Namespace* nsp = self->find_namespace(ev[0]);
            if (!nsp || !ev[2].is_string()) return;
            Args args(
                std::vector<Value>(ev.args().begin() + std::min<long>(3, long(ev.args().size())), ev.args().end()));
            try {
                target(*nsp, ev[1]).emit_args(ev[2].as_string(), args);
            } catch (const std::invalid_argument&) {  // a reserved event name: nothing to send
            }
        });
        s.on("join", [self](Event& ev) {
            Namespace* nsp = self->find_namespace(ev[0]);
            if (nsp && ev[1].is_string()) target(*nsp, ev[2]).socketsJoin(ev[1].as_string());
        });
        s.on("leave", [self](Event& ev) {
            Namespace* nsp = self->find_namespace(ev[0]);
            if (nsp && ev[1].is_string()) target(*nsp, ev[2]).socketsLeave(ev[1].as_string());
        });
        s.on("_disconnect", [self](Event& ev) {
            Namespace* nsp = self->find_namespace(ev[0]);
            if (nsp) target(*nsp, ev[2]).disconnectSockets(ev[1].as_bool());
        });
    }

    // ---- what the UI is told about sockets
    static wire::SocketView view_of(Socket& s) {
        wire::SocketView v{s.id(), "", "", s.nsp().name(), s.data(), s.handshake(), s.rooms()};
        try {
            v.clientId = s.conn().id().substr(0, 12);
            v.transport = s.conn().transport();
        } catch (const std::logic_error&) {  // the connection is gone already
        }
        return v;
    }
    static wire::SocketView view_of(const RemoteSocket& r, const std::string& nsp) {
        if (r.local()) {
            auto v = view_of(*r.local());
            v.data = r.data();  // as fetchSockets read it, under the handler lock
            return v;
        }
        // Another node's socket: a Node node with this package keeps both in data._admin.
        const Value& admin = r.data()["_admin"];
        return wire::SocketView{
            r.id(),   admin["clientId"].as_string(), admin["transport"].as_string(), nsp, r.data(), r.handshake(),
            r.rooms()};
    }

    // "all_sockets": every namespace's sockets on every node, once all have answered.
    void send_all_sockets(SocketPtr to) {
        struct Gather {
            std::mutex mu;
            size_t left;
            Array sockets;
        };
        auto namespaces = io_.namespaces();
        auto gather = std::make_shared<Gather>();
        gather->left = namespaces.size();
        for (Namespace* nsp : namespaces) {
            const std::string name = nsp->name();
            nsp->fetchSockets([gather, to, name](const Error&, std::vector<RemoteSocket> found) {
                Value all;
                {
                    std::lock_guard<std::mutex> lk(gather->mu);
                    for (auto& r : found) gather->sockets.push_back(wire::serialize(view_of(r, name)));
                    if (--gather->left != 0) return;
                    all = Value(gather->sockets);
                }
                to->emit("all_sockets", all);  // with the lock let go: this add-on's locks stay leaves
            });
        }
    }

    // "development" mode: a namespace's sockets, rooms and events, as they happen.
    void watch(Namespace& nsp) {
        auto self = shared_from_this();
        Namespace* watched = &nsp;
        nsp.prepend_on_connection([self, watched](Socket& s) {
            auto view = view_of(s);
            std::string conn_id;
            try {
                conn_id = s.conn().id();
            } catch (const std::logic_error&) {  // the connection is gone already
            }
            if (view.transport == "polling" && !conn_id.empty()) {  // its upgrade is told as socket_updated
                std::lock_guard<std::mutex> lk(self->mu_);
                self->polling_[conn_id].emplace(watched->name(), s.id());
            }
            self->admin_.emit("socket_connected", wire::serialize(view), now());
            if (watched != &self->admin_) {
                s.onAny([self](Event& ev) { self->mirror("event_received", ev); });
                s.onAnyOutgoing([self](Event& ev) { self->mirror("event_sent", ev); });
            }
            s.on("disconnect", [self, watched, conn_id](Event& ev) {
                {
                    std::lock_guard<std::mutex> lk(self->mu_);
                    auto it = self->polling_.find(conn_id);
                    if (it != self->polling_.end()) {
                        it->second.erase({watched->name(), ev.socket().id()});
                        if (it->second.empty()) self->polling_.erase(it);
                    }
                }
                self->admin_.emit("socket_disconnected", watched->name(), ev.socket().id(), ev[0], now());
            });
        });
        std::weak_ptr<Instrumentation> weak = self;
        const std::string name = nsp.name();
        nsp.adapter().on_room_event(
            [weak, name](Adapter::RoomEvent e, const std::string& room, const std::string& sid) {
                auto me = weak.lock();
                if (!me) return;
                if (e == Adapter::RoomEvent::JoinRoom) me->admin_.emit("room_joined", name, room, sid, now());
                if (e != Adapter::RoomEvent::LeaveRoom) return;
                // Node sends room_left on the next tick: after the handler that left, so that a disconnection's
                // socket_disconnected comes first. Here: on the handler thread, once the handler lock is free again.
                ext::post(me->io_.engine(), [weak, name, room, sid] {
                    auto again = weak.lock();
                    if (!again || again->io_.engine().stopping()) return;
                    again->admin_.emit("room_left", name, room, sid, now());
                });
            });
    }

    // event_received / event_sent: (nsp, socket id, [event, ...args], date), while an admin listens.
    void mirror(const char* what, Event& ev) {
        if (admins_count() == 0) return;
        Array event{ev.name()};
        event.insert(event.end(), ev.args().begin(), ev.args().end());
        admin_.emit(what, ev.socket().nsp().name(), ev.socket().id(), Value(std::move(event)), now());
    }

    size_t admins_count() const { return admins_.load(std::memory_order_relaxed); }

    // ---- every statsInterval: server_stats, and the transports that changed since (socket_updated)
    void tick() {
        auto& engine = io_.engine();
        if (engine.stopping()) return;  // the server is closing: its namespaces are about to go
        auto stats_now = stats();       // every tick, so that the events of each interval are those since the last one
        if (admins_count() > 0) admin_.emit("server_stats", wire::server_stats(stats_now));
        std::weak_ptr<Instrumentation> weak = shared_from_this();
        ext::post_after(engine, opt_.statsInterval, [weak] {
            if (auto me = weak.lock()) me->tick();
        });
    }

    wire::ServerStats stats() {
        wire::ServerStats s;
        s.serverId = opt_.serverId;
        s.hostname = hostname_;
        s.pid = getpid();
        s.uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
        auto sessions = io_.engine().clients();
        s.clientsCount = sessions.size();
        for (auto& c : sessions) s.pollingClientsCount += c->transport() == "polling";
        for (Namespace* nsp : io_.namespaces()) s.namespaces.emplace_back(nsp->name(), nsp->sockets_count());
        auto totals = wire::totals_of(io_.engine().traffic());
        const long long ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
        std::lock_guard<std::mutex> lk(mu_);
        s.aggregatedEvents = wire::events_between(last_totals_, totals, ms - ms % 1000);
        last_totals_ = std::move(totals);
        return s;
    }

    // socket_updated {id, nsp, transport} for each socket of a session that has just upgraded to WebSocket.
    void upgraded(eio::Socket& conn) {
        std::set<std::pair<std::string, std::string>> sockets;  // (nsp, id)
        {
            std::lock_guard<std::mutex> lk(mu_);
            auto it = polling_.find(conn.id());
            if (it == polling_.end()) return;
            sockets.swap(it->second);
            polling_.erase(it);
        }
        for (auto& s : sockets)
            admin_.emit("socket_updated", Object{{"id", s.second}, {"nsp", s.first}, {"transport", "websocket"}});
    }

    Server& io_;
    Options opt_;
    Namespace& admin_;
    const bool development_;
    const Value features_;
    const std::chrono::steady_clock::time_point started_;
    std::string hostname_;
    std::mutex mu_;                  // a leaf (see the banner)
    std::atomic<size_t> admins_{0};  // admin sockets connected (changed under mu_): traffic is counted while > 0
    std::map<std::string, std::string> new_sessions_;  // admin socket id -> the session its login made
    // The sockets of each Engine.IO session still on polling, by its sid: (nsp, id).
    std::map<std::string, std::set<std::pair<std::string, std::string>>> polling_;
    wire::TrafficTotals last_totals_;
    LoginChecker logins_;  // last: its thread, which uses the members above, is joined first
};

}  // namespace detail
}  // namespace admin

// Speaks @socket.io/admin-ui's server protocol on options.namespaceName (and serves the UI at options.uiPath when
// set). Once per server, after io.adapter(...) (a later adapter would not report joins and leaves), before or after
// listen(). Throws std::invalid_argument when `auth` is unset or is not false or a BasicAuth with a bcrypt hash.
inline void instrument(Server& io, admin::Options options) {
    if (std::holds_alternative<std::monostate>(options.auth))
        throw std::invalid_argument("sio::instrument: set options.auth, to false or to a sio::admin::BasicAuth");
    if (auto* on = std::get_if<bool>(&options.auth); on && *on)
        throw std::invalid_argument("sio::instrument: options.auth is false or a sio::admin::BasicAuth, not true");
    if (auto* basic = std::get_if<admin::BasicAuth>(&options.auth); basic && !admin::is_bcrypt_hash(basic->password))
        throw std::invalid_argument(
            "sio::instrument: BasicAuth::password must be a bcrypt hash ($2a$/$2b$/$2y$), "
            "e.g. from sio::admin::hash_password()");
    if (options.statsInterval <= 0) throw std::invalid_argument("sio::instrument: statsInterval must be > 0");
    std::make_shared<admin::detail::Instrumentation>(io, std::move(options))->start();
}

}  // namespace sio
