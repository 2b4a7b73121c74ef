// An Engine.IO echo server: every message goes back to its sender as it came (text as text, binary as binary).
// It is what the interop tests drive with the official engine.io-client.
//   engine_echo [--host H] [--port N|0] [--path P] [--ping-interval MS] [--ping-timeout MS]
//               [--upgrade-timeout MS] [--max-payload BYTES] [--transports polling,websocket]
//               [--allow-origin ORIGIN] [--allow-cookie NAME=VALUE] [--headers-timeout MS]
//               [--max-buffered BYTES] [--max-connections N] [--cookie JSON]
//               [--initial-header NAME=VALUE]... [--header NAME=VALUE]... [--allow-async 1]
//               [--allow-request-timeout MS] [--max-connections-per-address N] [--trust-proxy HOPS]
// --initial-header / --header: added by the "initial_headers" / "headers" events (on_initial_headers / on_headers).
// --allow-async 1: an asynchronous allowRequest that keeps every callback until GET /allow-release?ok=1|0[&message=M]
// calls them all (from that route's thread); GET /allow-pending answers how many wait.
// --cookie takes the reference's option as JSON: true, or {"name":..,"path":..|false,"httpOnly":..,"sameSite":..,
// "domain":..,"secure":..,"maxAge":..}.
// GET /stats answers {"clients":<sessions>,"connections":<TCP connections>} (for the tests' resource checks).
// GET /waiting?sid=S answers "true" while a long-poll GET of session S waits (a gate for the tests' orderings).
#include "../sioserver.hpp"

#include <csignal>
#include <iostream>

// The reference's `cookie` option, from JSON (see --cookie above); false if it is not one.
static bool parse_cookie(const std::string& json, std::optional<sio::CookieOptions>& out) {
    picojson::value v;
    if (!picojson::parse(v, json).empty()) return false;
    if (v.is<bool>()) {
        if (v.get<bool>()) out.emplace();
        return true;
    }
    if (!v.is<picojson::object>()) return false;
    sio::CookieOptions c;
    for (auto& kv : v.get<picojson::object>()) {
        const picojson::value& f = kv.second;
        const std::string text = f.is<bool>() && !f.get<bool>() ? "" : f.to_str();  // false: leave it out
        if (kv.first == "name") c.name = text;
        else if (kv.first == "path") c.path = text;
        else if (kv.first == "sameSite") c.sameSite = text;
        else if (kv.first == "domain") c.domain = text;
        else if (kv.first == "httpOnly") c.httpOnly = f.evaluate_as_boolean();
        else if (kv.first == "secure") c.secure = f.evaluate_as_boolean();
        else if (kv.first == "maxAge" && f.is<double>()) c.maxAge = static_cast<int>(f.get<double>());
        else return false;
    }
    out = c;
    return true;
}

int main(int argc, char** argv) {
    sio::EngineOptions opt;
    opt.cors.origins = {"*"};  // open to every origin
    opt.cors.credentials = true;
    std::string host = "0.0.0.0", allowed_origin, allowed_cookie;
    std::vector<std::pair<std::string, std::string>> initial_headers, every_headers;
    bool allow_async = false;
    auto name_value = [](const std::string& v) {
        size_t eq = v.find('=');
        return eq == std::string::npos ? std::make_pair(v, std::string())
                                       : std::make_pair(v.substr(0, eq), v.substr(eq + 1));
    };
    int port = 3000;
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        if (i + 1 >= argc) {
            std::cerr << "missing value for " << flag << "\n";
            return 2;
        }
        std::string value = argv[++i];
        if (flag == "--host") host = value;
        else if (flag == "--port") port = std::stoi(value);
        else if (flag == "--path") opt.path = value;
        else if (flag == "--ping-interval") opt.pingInterval = std::stoi(value);
        else if (flag == "--ping-timeout") opt.pingTimeout = std::stoi(value);
        else if (flag == "--upgrade-timeout") opt.upgradeTimeout = std::stoi(value);
        else if (flag == "--max-payload") opt.maxHttpBufferSize = std::stoul(value);
        else if (flag == "--allow-origin") allowed_origin = value;
        else if (flag == "--allow-cookie") allowed_cookie = value;
        else if (flag == "--headers-timeout") opt.headersTimeout = std::stoi(value);
        else if (flag == "--max-buffered") opt.maxBufferedBytes = std::stoul(value);
        else if (flag == "--max-connections") opt.maxConnections = std::stoul(value);
        else if (flag == "--max-connections-per-address") opt.maxConnectionsPerAddress = std::stoul(value);
        else if (flag == "--trust-proxy") opt.trustProxy = std::stoi(value);
        else if (flag == "--initial-header") initial_headers.push_back(name_value(value));
        else if (flag == "--header") every_headers.push_back(name_value(value));
        else if (flag == "--allow-async") allow_async = value != "0";
        else if (flag == "--allow-request-timeout") opt.allowRequestTimeout = std::stoi(value);
        else if (flag == "--http-compression") {  // a threshold in bytes, or "off"
            if (value == "off") opt.httpCompression.reset();
            else opt.httpCompression = sio::HttpCompressionOptions{std::stoul(value)};
        } else if (flag == "--cookie") {
            if (!parse_cookie(value, opt.cookie)) {
                std::cerr << "--cookie: not a cookie option\n";
                return 2;
            }
        } else if (flag == "--transports") {
            opt.transports.clear();
            for (size_t start = 0, end; start <= value.size(); start = end + 1) {
                end = value.find(',', start);
                if (end == std::string::npos) end = value.size();
                opt.transports.push_back(value.substr(start, end - start));
            }
        } else {
            std::cerr << "unknown flag " << flag << "\n";
            return 2;
        }
    }
    // allowRequest: refuse by Origin (requests without one pass) and/or by a cookie that must be present.
    if (!allowed_origin.empty() || !allowed_cookie.empty())
        opt.allowRequest = [allowed_origin, allowed_cookie](const httplib::Request& req, std::string&) {
            if (!allowed_origin.empty() && req.has_header("Origin") && req.get_header_value("Origin") != allowed_origin)
                return false;
            if (allowed_cookie.empty()) return true;
            std::string cookies = "; " + req.get_header_value("Cookie") + ";";
            return cookies.find("; " + allowed_cookie + ";") != std::string::npos;
        };

    std::mutex pending_mu;
    std::vector<sio::AllowCallback> pending;  // --allow-async: the callbacks not called yet
    if (allow_async)
        opt.allowRequest = [&](const httplib::Request&, sio::AllowCallback done) {
            std::lock_guard<std::mutex> lk(pending_mu);
            pending.push_back(std::move(done));
        };

    // SIGINT/SIGTERM are taken by a thread of our own (blocked everywhere else), which closes the server.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    sio::eio::Server server(opt);
    server.on_connection([](const std::shared_ptr<sio::eio::Socket>& socket) {
        std::weak_ptr<sio::eio::Socket> weak = socket;
        socket->on_message([weak](const sio::eio::Packet& message) {
            if (auto s = weak.lock()) message.binary ? s->send_binary(message.data) : s->send(message.data);
        });
    });
    if (!initial_headers.empty())
        server.engine().on_initial_headers([&](httplib::Headers& headers, const httplib::Request&) {
            for (auto& h : initial_headers) headers.emplace(h.first, h.second);
        });
    if (!every_headers.empty())
        server.engine().on_headers([&](httplib::Headers& headers, const httplib::Request&) {
            for (auto& h : every_headers) headers.emplace(h.first, h.second);
        });
    server.http().Get("/allow-pending", [&](const httplib::Request&, httplib::Response& res) {
        std::lock_guard<std::mutex> lk(pending_mu);
        res.set_content(std::to_string(pending.size()), "text/plain");
    });
    server.http().Get("/allow-release", [&](const httplib::Request& req, httplib::Response& res) {
        std::vector<sio::AllowCallback> now;
        {
            std::lock_guard<std::mutex> lk(pending_mu);
            now.swap(pending);
        }
        for (auto& done : now) done(req.get_param_value("message"), req.get_param_value("ok") == "1");
        res.set_content(std::to_string(now.size()), "text/plain");
    });
    server.http().Get("/stats", [&server](const httplib::Request&, httplib::Response& res) {
        res.set_content("{\"clients\":" + std::to_string(server.clients_count()) +
                            ",\"connections\":" + std::to_string(server.connections_count()) + "}",
                        "application/json");
    });
    server.http().Get("/waiting", [&server](const httplib::Request& req, httplib::Response& res) {
        auto s = server.engine().find(req.get_param_value("sid"));
        res.set_content(s && s->transport() == "polling" && s->writable() ? "true" : "false", "application/json");
    });
    int bound = server.start(host, port);
    if (bound < 0) {
        std::cerr << "cannot listen on " << host << ":" << port << "\n";
        return 1;
    }
    std::cout << "listening on http://" << host << ":" << bound << server.options().path << std::endl;

    std::thread stopper([&] {
        int sig = 0;
        sigwait(&signals, &sig);
        server.close();
    });
    server.wait();
    stopper.join();
}
