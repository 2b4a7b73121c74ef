// The servers the official clients' own test suites talk to, on sioserver (tests/client_suites/run.sh drives them).
// The socket.io-client 4.8 suite expects a Socket.IO server on port 3210 and the engine.io-client 6.6 suite an
// Engine.IO server on port 3000 (both suites hard-code their ports); what each one must answer is what the suites'
// own support servers (written for Node) answer, event by event.
//   client_suite_server [--sio-port N] [--eio-port N] [--host H]
// Prints "ready" once both listen; SIGINT/SIGTERM close them.
#include "../../sioserver.hpp"

#include <csignal>
#include <ctime>
#include <iostream>

using sio::Args;
using sio::Event;
using sio::Object;
using sio::Value;

namespace {

// `new Date()` as JSON writes it: ISO 8601 in UTC with milliseconds.
std::string iso_now() {
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    gmtime_r(&secs, &utc);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
    char out[48];
    std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
    return out;
}

Value handshake_value(const sio::Handshake& h) {
    Object headers, query;
    for (auto& kv : h.headers) headers[kv.first] = kv.second;
    for (auto& kv : h.query) query[kv.first] = kv.second;
    return Object{{"headers", headers},   {"time", h.time},     {"address", h.address},
                  {"xdomain", h.xdomain}, {"secure", h.secure}, {"issued", static_cast<double>(h.issued)},
                  {"url", h.url},         {"query", query},     {"auth", h.auth}};
}

// The Socket.IO side: the namespaces and events socket.io-client's suite uses.
void serve_socketio(sio::Server& io) {
    io.of("/foo").on_connection(
        [](sio::Socket& socket) { socket.on("getId", [&socket](Event& ev) { ev.ack(socket.id()); }); });
    for (const char* empty : {"/timeout_socket", "/valid", "/asd"}) io.of(empty).on_connection([](sio::Socket&) {});
    io.of("/abc").on_connection(
        [](sio::Socket& socket) { socket.emit("handshake", handshake_value(socket.handshake())); });

    io.use([](sio::Socket& socket, sio::Next next) {
        if (socket.handshake().query.count("fail")) return next(sio::ConnectError{"Auth failed (main namespace)", {}});
        next();
    });
    io.of("/no").use([](sio::Socket&, sio::Next next) {
        next(sio::ConnectError{"Auth failed (custom namespace)", {}});
    });

    io.on_connection([](sio::Socket& socket) {
        socket.on("hi", [&socket](Event&) { socket.emit("hi"); });
        socket.on("echo", [](Event& ev) { ev.ack(ev[0]); });
        socket.on("ack", [&socket](Event&) {
            socket.emit("ack", [&socket](const Args& r) {
                if (r.size() >= 2 && r[0].is_number() && r[0].as_int() == 5 && r[1]["test"].as_bool())
                    socket.emit("got it");
            });
        });
        socket.on("getAckDate", [](Event& ev) { ev.ack(iso_now()); });
        socket.on("getDate", [&socket](Event&) { socket.emit("takeDate", iso_now()); });
        socket.on("getDateObj", [&socket](Event&) { socket.emit("takeDateObj", Object{{"date", iso_now()}}); });
        socket.on("getUtf8", [&socket](Event&) {
            for (const char* s : {"てすと", "Я Б Г Д Ж Й", "Ä ä Ü ü ß", "utf8 — string", "utf8 — string"})
                socket.emit("takeUtf8", s);
        });
        socket.on("false", [&socket](Event&) { socket.emit("false", false); });
        socket.on("doge", [&socket](Event&) { socket.emit("doge", sio::Binary{"asdfasdf"}); });
        socket.on("buffa", [&socket](Event& ev) {
            if (ev[0].is_binary()) socket.emit("buffack");
        });
        auto json_with_buffer = [](const Value& a) {
            return a["hello"].is_string() && a["hello"].as_string() == "lol" && a["message"].is_binary() &&
                   a["goodbye"].is_string() && a["goodbye"].as_string() == "gotcha";
        };
        socket.on("jsonbuff", [&socket, json_with_buffer](Event& ev) {
            if (json_with_buffer(ev[0])) socket.emit("jsonbuff-ack");
        });
        // Order checks: per socket, the earlier event must have come first.
        auto seen = std::make_shared<std::set<std::string>>();
        socket.on("abuff1", [seen](Event& ev) {
            if (ev[0].is_binary()) seen->insert("abuff1");
        });
        socket.on("abuff2", [&socket, seen](Event&) {
            if (seen->count("abuff1")) socket.emit("abuff2-ack");
        });
        socket.on("blob", [&socket](Event& ev) {
            if (ev[0].is_binary()) socket.emit("back");
        });
        socket.on("jsonblob", [&socket, json_with_buffer](Event& ev) {
            if (json_with_buffer(ev[0])) socket.emit("jsonblob-ack");
        });
        socket.on("blob1", [seen](Event& ev) {
            if (ev[0].is_binary()) seen->insert("blob1");
        });
        socket.on("blob2", [seen](Event& ev) {
            if (seen->count("blob1") && ev[0].is_string() && ev[0].as_string() == "second") seen->insert("blob2");
        });
        socket.on("blob3", [&socket, seen](Event& ev) {
            if (ev[0].is_binary() && seen->count("blob1") && seen->count("blob2")) socket.emit("blob3-ack");
        });
        socket.on("getbin", [&socket](Event&) { socket.emit("takebin", sio::Binary{"asdfasdf"}); });
        socket.on("getHandshake", [&socket](Event& ev) { ev.ack(handshake_value(socket.handshake())); });
        socket.on("getId", [&socket](Event& ev) { ev.ack(socket.id()); });
    });
}

std::mutex want_headers_mu;
std::set<std::string> want_headers;  // sessions whose next POST's headers go back to them ("sendHeaders")

// The Engine.IO side: engine.io-client's suite. "hi" on open, then every message back, with three commands.
void serve_engineio(sio::eio::Server& engine) {
    engine.engine().on_headers([&engine](httplib::Headers&, const httplib::Request& req) {
        const std::string sid = req.get_param_value("sid");
        if (req.method != "POST" || sid.empty()) return;
        {
            std::lock_guard<std::mutex> lk(want_headers_mu);
            if (!want_headers.erase(sid)) return;
        }
        auto s = engine.engine().find(sid);
        if (!s) return;
        picojson::object headers;
        for (auto& h : req.headers) {
            std::string name = h.first;
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (name == "remote_addr" || name == "remote_port" || name == "local_addr" || name == "local_port")
                continue;
            headers[name] = picojson::value(h.second);
        }
        s->send(picojson::value(headers).serialize());
    });
    engine.on_connection([](const std::shared_ptr<sio::eio::Socket>& socket) {
        socket->send("hi");
        std::weak_ptr<sio::eio::Socket> weak = socket;
        socket->on_message([weak](const sio::eio::Packet& message) {
            auto s = weak.lock();
            if (!s) return;
            if (!message.binary && message.data == "give binary") s->send_binary(std::string("\0\1\2\3\4", 5));
            else if (!message.binary && message.data == "give utf8") s->send("пойду спать всем спокойной ночи");
            else if (!message.binary && message.data == "sendHeaders") {
                // The headers of the request this message came on: its POST's "headers" event answers (below).
                std::lock_guard<std::mutex> lk(want_headers_mu);
                want_headers.insert(s->id());
            } else if (message.binary) s->send_binary(message.data);
            else s->send(message.data);
        });
    });
}

}  // namespace

int main(int argc, char** argv) {
    std::string host = "localhost";
    int sio_port = 3210, eio_port = 3000;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string flag = argv[i], value = argv[i + 1];
        if (flag == "--host") host = value;
        else if (flag == "--sio-port") sio_port = std::stoi(value);
        else if (flag == "--eio-port") eio_port = std::stoi(value);
        else {
            std::cerr << "unknown flag " << flag << "\n";
            return 2;
        }
    }
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    sio::Options sopt;
    sopt.pingInterval = 2000;
    sopt.connectionStateRecovery = sio::ConnectionStateRecoveryOptions{};
    sopt.cors.origins = {"*"};
    // The suite's server allows every handshake 10 ms later, for its open time-out tests. Here only a WebSocket
    // handshake waits (from the handler thread): the suite's server shares the tests' process and so their fake
    // clocks, which skip its 10 ms, while this one's are real and would lose the race with a faked 500 ms time-out
    // ("reconnect timeout" tests). A polling handshake is answered at once, from inside the call.
    sio::Server* server = nullptr;
    sopt.allowRequest = [&server](const httplib::Request& req, sio::AllowCallback done) {
        if (req.get_param_value("transport") != "websocket") return done("", true);
        sio::ext::post_after(server->engine(), 10, [done] { done("", true); });
    };
    sio::Server io(sopt);
    server = &io;
    serve_socketio(io);

    sio::EngineOptions eopt;
    eopt.pingInterval = 500;
    eopt.maxHttpBufferSize = 100;
    eopt.cors.origins = {"*"};
    eopt.cors.credentials = true;
    eopt.allowRequest = [](const httplib::Request& req, std::string&) { return !req.has_param("deny"); };
    sio::eio::Server engine(eopt);
    serve_engineio(engine);
    // The four cookies of the suite's cookie tests: two kept, one expiring at once, one already expired.
    engine.engine().on_initial_headers([](httplib::Headers& headers, const httplib::Request&) {
        std::time_t now = std::time(nullptr);
        std::tm utc{};
        gmtime_r(&now, &utc);
        char expires[64];
        std::strftime(expires, sizeof expires, "%a, %d %b %Y %H:%M:%S GMT", &utc);
        headers.emplace("Set-Cookie", "1=1; Max-Age=86400");
        headers.emplace("Set-Cookie", "2=2; Path=/; HttpOnly; Secure; SameSite=Strict");
        headers.emplace("Set-Cookie", "3=3; Max-Age=0");
        headers.emplace("Set-Cookie", std::string("4=4; Expires=") + expires);
    });

    if (io.start(host, sio_port) < 0 || engine.start(host, eio_port) < 0) {
        std::cerr << "cannot listen on " << host << ":" << sio_port << " and :" << eio_port << "\n";
        return 1;
    }
    std::cout << "ready" << std::endl;
    int sig = 0;
    sigwait(&signals, &sig);
    engine.close();
    io.close();
    engine.wait();
    io.wait();
}
