// libFuzzer target: the request-path handling sioserver.hpp does itself — Engine::handles_path (layer 4), the
// client bundle (layer 6b, sio::detail::ClientBundle::serve) and CORS (layer 6a, sio::detail::apply_cors).
//
// Input layout:
//   byte 0   bits 0-1: the engine path ("/socket.io/", "/engine.io", "/", "/a/b/"); bit 2: the bundle folder is
//            empty (the bundle is missing); bit 3: CORS origins {"*"} instead of {"http://a.example"}; bit 4: CORS
//            credentials; bit 5: no CORS at all
//   lines    method \n path \n If-None-Match \n Origin   (missing lines are empty; the path is tried as it came and
//            percent-decoded the way httplib decodes it)
//
// A temporary folder is made once: <tmp>/dist holds socket.io.min.js and socket.io.min.js.map with known contents,
// plus a decoy socket.io.js; <tmp>/secret.txt and <tmp>/empty/ sit beside it. inotify watches every folder of it.
//
// Invariants:
//  - handles_path(p) iff p starts with the path or is the path without its trailing slash.
//  - serve() answers only GET/HEAD for exactly <path>socket.io.js, socket.io.min.js, socket.io.js.map or
//    socket.io.min.js.map, with the right file's bytes (or 304 for a matching ETag, 404 when the bundle is missing)
//    and the right Content-Type; for anything else it returns false and leaves the response alone.
//  - no file is opened but the one bundle file the name maps to (nothing outside the folder, not the decoy).
//  - CORS headers appear only for an allowed origin: "*" or the request's own Origin.
#include "sioserver.hpp"

#include "fuzz_common.hpp"

#include <sys/inotify.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

const char kJs[] = "/* fuzz bundle */ console.log('socket.io.min.js');\n";
const char kMap[] = "{\"version\":3,\"file\":\"socket.io.min.js\"}\n";

struct Sandbox {
    std::string root, dist, empty;
    int inotify = -1;
    std::map<int, std::string> watches;  // watch descriptor -> folder

    Sandbox() {
        char tmpl[] = "/tmp/sio-fuzz-path-XXXXXX";
        if (!mkdtemp(tmpl)) std::abort();
        root = tmpl;
        dist = root + "/dist";
        empty = root + "/empty";
        mkdir(dist.c_str(), 0700);
        mkdir(empty.c_str(), 0700);
        write(dist + "/socket.io.min.js", kJs);
        write(dist + "/socket.io.min.js.map", kMap);
        write(dist + "/socket.io.js", "DECOY: the literal request name must never be read\n");
        write(root + "/secret.txt", "SECRET outside the bundle folder\n");
        inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (inotify < 0) std::abort();
        for (const std::string& d : {root, dist, empty}) watches[inotify_add_watch(inotify, d.c_str(), IN_OPEN)] = d;
    }
    ~Sandbox() {
        for (const char* f :
             {"/dist/socket.io.min.js", "/dist/socket.io.min.js.map", "/dist/socket.io.js", "/secret.txt"})
            std::remove((root + f).c_str());
        rmdir(dist.c_str());
        rmdir(empty.c_str());
        rmdir(root.c_str());
        if (inotify >= 0) ::close(inotify);
    }
    static void write(const std::string& path, const char* content) {
        std::ofstream(path, std::ios::binary) << content;
    }
    // The files opened since the last call, as folder/name (folders themselves left out).
    std::vector<std::string> opened() {
        std::vector<std::string> out;
        alignas(inotify_event) char buf[8192];
        while (true) {
            ssize_t n = ::read(inotify, buf, sizeof buf);
            if (n <= 0) break;
            for (char* p = buf; p < buf + n;) {
                auto* e = reinterpret_cast<inotify_event*>(p);
                if (!(e->mask & IN_ISDIR) && (e->mask & IN_OPEN))
                    out.push_back(watches[e->wd] + "/" + (e->len ? e->name : ""));
                p += sizeof(inotify_event) + e->len;
            }
        }
        return out;
    }
};

Sandbox& sandbox() {
    static Sandbox s;
    return s;
}

const char* const kPaths[4] = {"/socket.io/", "/engine.io", "/", "/a/b/"};

sio::eio::Engine& engine(int i) {
    static std::unique_ptr<sio::eio::Engine> engines[4];
    if (!engines[i]) {
        sio::EngineOptions o;
        o.path = kPaths[i];
        engines[i] = std::make_unique<sio::eio::Engine>(o);
    }
    return *engines[i];
}

std::vector<std::string_view> lines_of(std::string_view s) {
    std::vector<std::string_view> out;
    for (size_t start = 0;;) {
        size_t end = s.find('\n', start);
        out.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) return out;
        start = end + 1;
    }
}

// A response header as stored (httplib's get_header_value() goes through a C string and stops at a NUL byte).
std::string header(const httplib::Response& res, const char* name) {
    auto it = res.headers.find(name);
    return it == res.headers.end() ? std::string() : it->second;
}

void check_path(const std::string& path, const std::string& method, int config, const std::string& if_none_match,
                const std::string& origin) {
    sio::eio::Engine& eng = engine(config & 3);
    const std::string& prefix = eng.options().path;  // normalized: ends with '/'
    FUZZ_CHECK(prefix.size() >= 1 && prefix.back() == '/', "path-normalized", prefix);

    // handles_path
    bool handled = eng.handles_path(path);
    bool expect = path.compare(0, prefix.size(), prefix) == 0 || path == prefix.substr(0, prefix.size() - 1);
    FUZZ_CHECK(handled == expect, "path-handles-path",
               "handles_path(" + fuzz::show(path) + ") = " + std::to_string(handled) + " with path " + prefix);

    // The bundle, as layer 6 builds it (a fresh one: every load really opens its file).
    Sandbox& box = sandbox();
    box.opened();  // drop anything before
    const bool missing = config & 4;
    sio::detail::ClientBundle bundle(missing ? box.empty : box.dist, prefix);
    httplib::Request req;
    req.method = method;
    req.path = path;
    if (!if_none_match.empty()) req.headers.emplace("If-None-Match", if_none_match);
    if (!origin.empty()) req.headers.emplace("Origin", origin);
    httplib::Response res;
    bool served;
    try {
        served = bundle.serve(req, res);
    } catch (const std::exception& e) {
        FUZZ_CHECK(false, "path-serve-throws", std::string("serve threw ") + e.what());
        return;
    }
    std::vector<std::string> opened = box.opened();

    std::string name = path.compare(0, prefix.size(), prefix) == 0 ? path.substr(prefix.size()) : std::string("\x01");
    bool js = name == "socket.io.js" || name == "socket.io.min.js";
    bool map = name == "socket.io.js.map" || name == "socket.io.min.js.map";
    bool get = method == "GET" || method == "HEAD";
    FUZZ_CHECK(served == (get && (js || map)), "path-bundle-names",
               std::string(served ? "served " : "refused ") + method + " " + fuzz::show(path) + " under " + prefix);

    std::string expected_file =
        missing ? std::string() : box.dist + (js ? "/socket.io.min.js" : "/socket.io.min.js.map");
    for (auto& f : opened)
        FUZZ_CHECK(served && f == expected_file, "path-opened-other-file",
                   "opened " + fuzz::show(f) + " for " + method + " " + fuzz::show(path));

    if (!served) {
        FUZZ_CHECK(res.status == -1 && res.body.empty() && res.headers.empty(), "path-refused-touches-response",
                   "response changed for a request serve() refused: " + fuzz::show(path));
        return;
    }
    if (missing) {
        FUZZ_CHECK(res.status == 404, "path-missing-bundle", "status " + std::to_string(res.status));
        return;
    }
    FUZZ_CHECK(opened.size() == 1, "path-bundle-open", std::to_string(opened.size()) + " files opened");
    std::string etag = header(res, "ETag");
    FUZZ_CHECK(etag.size() == 18 && etag.front() == '"' && etag.back() == '"' &&
                   etag.find_first_not_of("0123456789abcdef", 1) == 17,
               "path-etag", "ETag " + fuzz::show(etag));
    if (req.get_header_value("If-None-Match") == etag) {  // (as read: up to a NUL byte)
        FUZZ_CHECK(res.status == 304 && res.body.empty(), "path-304", "status " + std::to_string(res.status));
        return;
    }
    FUZZ_CHECK(res.status == -1 || res.status == 200, "path-status", std::to_string(res.status));
    FUZZ_CHECK(res.body == (js ? kJs : kMap), "path-content",
               "served " + fuzz::show(res.body, 60) + " for " + fuzz::show(path));
    FUZZ_CHECK(header(res, "Content-Type") == (js ? "application/javascript; charset=utf-8" : "application/json"),
               "path-content-type", header(res, "Content-Type"));
}

void check_cors(int config, const std::string& method, const std::string& origin) {
    if (config & 32) return;
    sio::CorsOptions cors;
    cors.origins = (config & 8) ? std::vector<std::string>{"*"} : std::vector<std::string>{"http://a.example"};
    cors.credentials = config & 16;
    httplib::Request req;
    req.method = method;
    if (!origin.empty()) req.headers.emplace("Origin", origin);
    req.headers.emplace("Access-Control-Request-Headers", "content-type");
    httplib::Response res;
    sio::detail::apply_cors(cors, req, res);
    std::string acao = header(res, "Access-Control-Allow-Origin");
    // The Origin as the server reads it: httplib's get_header_value() stops at a NUL byte (browsers never send one).
    // httplib's set_header() drops a value with CR or LF, so such an Origin is never echoed.
    const std::string seen = req.get_header_value("Origin");
    const bool echoable = !seen.empty() && seen.find_first_of("\r\n") == std::string::npos;
    const bool any = config & 8;
    if (any && !cors.credentials) {  // the wildcard, whatever the Origin
        FUZZ_CHECK(acao == "*" && !res.has_header("Vary"), "cors-star", "ACAO " + fuzz::show(acao));
    } else if (echoable && (any || seen == "http://a.example")) {  // the request's own Origin, echoed
        FUZZ_CHECK(acao == seen && header(res, "Vary") == "Origin", "cors-origin",
                   "Access-Control-Allow-Origin " + fuzz::show(acao) + " for Origin " + fuzz::show(origin));
        FUZZ_CHECK(res.has_header("Access-Control-Allow-Credentials") == cors.credentials, "cors-credentials",
                   fuzz::show(origin));
    } else if (echoable || seen.empty()) {  // not allowed: no CORS headers at all
        FUZZ_CHECK(res.headers.empty(), "cors-refused-origin",
                   "CORS headers for Origin " + fuzz::show(origin) + ": ACAO " + fuzz::show(acao));
    }
    for (auto& kv : res.headers)
        FUZZ_CHECK(kv.second.find_first_of("\r\n") == std::string::npos, "cors-header-injection",
                   kv.first + ": " + fuzz::show(kv.second));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const int config = data[0];
    auto lines = lines_of(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
    auto line = [&](size_t i) { return i < lines.size() ? std::string(lines[i]) : std::string(); };
    std::string method = line(0), path = line(1), if_none_match = line(2), origin = line(3);
    check_path(path, method, config, if_none_match, origin);
    std::string decoded = httplib::detail::decode_url(path, false);  // what httplib puts in req.path
    if (decoded != path) check_path(decoded, method, config, if_none_match, origin);
    check_cors(config, method, origin);
    return 0;
}
