// The Socket.IO server the interop tests drive (tests/interop/sio_*.test.mjs): every feature behind an event.
// Flags: --host H --port N|0 --path P --ping-interval MS --ping-timeout MS --connect-timeout MS
//        --max-payload BYTES --transports polling,websocket --cors-origin ORIGIN (repeatable; default any)
//        --max-connections N --client-dir DIR (where the browser bundle is served from)
//        --serialize-handlers 0|1 (Options::serializeHandlers, default 1) --parser json|msgpack (Options::parser)
//        --recovery MS (connection state recovery on, maxDisconnectionDuration MS)
//        --recovery-skip-middlewares 0|1 --recovery-max-session-bytes BYTES
//        --allow-eio3 0|1 (EngineOptions::allowEIO3: Engine.IO v3 / socket.io-client 2.x clients)
//        --tls-cert FILE --tls-key FILE (opt.tls: https and wss; the line then says https://) --headers-timeout MS
//        --metrics PATH (sio::metrics::expose) --max-connections-per-address N --trust-proxy HOPS
//        --handshake-rate PER_SECOND:BURST --event-rate PER_SECOND:BURST:MAX_THROTTLED_MS (the limits)
// GET /stats answers {"clients":<Engine.IO sessions>,"connections":<TCP connections>}; GET /close calls io.close()
// in the route. GET /open-gate?key=K lets the connection handler of "/gated" (auth {key: K}) go on.
// Prints "listening on http://<host>:<port><path>" when ready; SIGINT/SIGTERM close it; so does the
// "close-server" event (io.close() in a handler). Once wait() has returned it prints "server closed" on stderr.
#include "../../sioserver_metrics.hpp"

#include <csignal>
#include <iostream>

using sio::Args;
using sio::Event;
using sio::Object;
using sio::Value;

static std::vector<std::string> strings(const Value& v) {  // "room" or ["a","b"]
    std::vector<std::string> out;
    if (v.is_string()) out.push_back(v.as_string());
    for (auto& item : v.as_array()) out.push_back(item.as_string());
    return out;
}

static Value string_list(const std::set<std::string>& items) {
    sio::Array a;
    for (auto& s : items) a.push_back(s);
    return a;
}

static Value socket_ids(const std::vector<sio::SocketPtr>& sockets) {
    std::set<std::string> ids;
    for (auto& s : sockets) ids.insert(s->id());
    return string_list(ids);
}

int main(int argc, char** argv) {
    sio::Options opt;
    opt.cors.origins = {"*"};
    opt.cors.credentials = true;
    std::string host = "0.0.0.0";
    int port = 3000;
    std::string metrics_path;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string flag = argv[i], value = argv[i + 1];
        if (flag == "--host") host = value;
        else if (flag == "--port") port = std::stoi(value);
        else if (flag == "--path") opt.path = value;
        else if (flag == "--ping-interval") opt.pingInterval = std::stoi(value);
        else if (flag == "--ping-timeout") opt.pingTimeout = std::stoi(value);
        else if (flag == "--connect-timeout") opt.connectTimeout = std::stoi(value);
        else if (flag == "--max-payload") opt.maxHttpBufferSize = std::stoul(value);
        else if (flag == "--max-connections") opt.maxConnections = std::stoul(value);
        else if (flag == "--client-dir") opt.clientDir = value;
        else if (flag == "--serialize-handlers") opt.serializeHandlers = value != "0";
        else if (flag == "--parser") {
            if (value == "msgpack") opt.parser = sio::msgpack_parser();
            else if (value != "json") {
                std::cerr << "--parser: json or msgpack\n";
                return 2;
            }
        } else if (flag == "--allow-eio3") opt.allowEIO3 = value != "0";
        else if (flag == "--headers-timeout") opt.headersTimeout = std::stoi(value);
        else if (flag == "--tls-cert" || flag == "--tls-key") {
            if (!opt.tls) opt.tls = sio::TlsOptions{};
            (flag == "--tls-cert" ? opt.tls->cert_file : opt.tls->key_file) = value;
        } else if (flag == "--recovery") {
            if (!opt.connectionStateRecovery) opt.connectionStateRecovery = sio::ConnectionStateRecoveryOptions{};
            opt.connectionStateRecovery->maxDisconnectionDuration = std::stoi(value);
        } else if (flag == "--recovery-skip-middlewares" || flag == "--recovery-max-session-bytes") {
            if (!opt.connectionStateRecovery) opt.connectionStateRecovery = sio::ConnectionStateRecoveryOptions{};
            if (flag == "--recovery-skip-middlewares") opt.connectionStateRecovery->skipMiddlewares = value != "0";
            else opt.connectionStateRecovery->maxSessionBytes = std::stoul(value);
        } else if (flag == "--cors-origin") {
            if (opt.cors.origins == std::vector<std::string>{"*"}) opt.cors.origins.clear();
            opt.cors.origins.push_back(value);
        } else if (flag == "--metrics") {
            metrics_path = value;
        } else if (flag == "--max-connections-per-address") {
            opt.maxConnectionsPerAddress = std::stoul(value);
        } else if (flag == "--trust-proxy") {
            opt.trustProxy = std::stoi(value);
        } else if (flag == "--handshake-rate" || flag == "--event-rate") {
            double rate = 0, burst = 0;
            int max_ms = 10000;
            if (std::sscanf(value.c_str(), "%lf:%lf:%d", &rate, &burst, &max_ms) < 2) {
                std::cerr << flag << ": PER_SECOND:BURST[:MAX_THROTTLED_MS]\n";
                return 2;
            }
            if (flag == "--handshake-rate") opt.handshakeRateLimit = sio::RateLimit{rate, burst};
            else {
                opt.eventRateLimit = sio::Options::EventRateLimit{};
                opt.eventRateLimit->perSecond = rate;
                opt.eventRateLimit->burst = burst;
                opt.eventRateLimit->maxThrottledMs = max_ms;
            }
        } else if (flag == "--transports") {
            opt.transports.clear();
            std::stringstream ss(value);
            for (std::string t; std::getline(ss, t, ',');) opt.transports.push_back(t);
        } else {
            std::cerr << "unknown flag " << flag << "\n";
            return 2;
        }
    }

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    sio::Server io(opt);
    if (!metrics_path.empty()) {
        sio::metrics::Options mo;
        mo.path = metrics_path;
        sio::metrics::expose(io, mo);
    }
    // What the tests ask about afterwards (handlers run one at a time: no locks needed).
    std::map<std::string, std::string> disconnect_reasons;  // socket id -> reason
    std::map<std::string, Value> rooms_when_disconnecting;  // socket id -> rooms seen in "disconnecting"

    io.use([](sio::Socket& socket, sio::Next next) {
        if (socket.handshake().auth["token"].as_string() == "bad")
            return next(sio::ConnectError{"not authorized", Object{{"code", 401}}});
        next();
    });

    auto common = [&](sio::Socket& socket) {
        socket.emit("welcome",
                    Object{{"id", socket.id()}, {"nsp", socket.nsp().name()}, {"auth", socket.handshake().auth}});
        socket.on("echo", [&socket](Event& ev) { socket.emit("echo", ev.args()); });
        socket.on("echo-ack", [](Event& ev) { ev.ack(ev.args()); });
        socket.on("disconnect", [&, id = socket.id()](Event& ev) { disconnect_reasons[id] = ev[0].as_string(); });
    };

    io.on_connection([&](sio::Socket& socket) {
        common(socket);
        socket.on("disconnecting",
                  [&](Event& ev) { rooms_when_disconnecting[ev.socket().id()] = string_list(ev.socket().rooms()); });
        socket.on("join", [&socket](Event& ev) {
            socket.join(strings(ev[0]));
            ev.ack(string_list(socket.rooms()));
        });
        socket.on("leave", [&socket](Event& ev) {
            for (auto& r : strings(ev[0])) socket.leave(r);
            ev.ack(string_list(socket.rooms()));
        });
        socket.on("rooms", [&socket](Event& ev) { ev.ack(string_list(socket.rooms())); });
        // ("to", rooms, event, ...args): socket.to(rooms).emit(event, ...args)
        socket.on("to", [&socket](Event& ev) {
            Args rest(ev.args().begin() + 2, ev.args().end());
            socket.to(strings(ev[0])).emit(ev[1].as_string(), rest);
            ev.ack();
        });
        socket.on("broadcast", [&socket](Event& ev) {
            Args rest(ev.args().begin() + 1, ev.args().end());
            socket.broadcast().emit(ev[0].as_string(), rest);
            ev.ack();
        });
        socket.on("io-emit", [&](Event& ev) {
            Args rest(ev.args().begin() + 1, ev.args().end());
            io.emit(ev[0].as_string(), rest);
            ev.ack();
        });
        // ("to-except", rooms, exceptRooms, event, payload): io.to(rooms).except(exceptRooms).emit(event, payload)
        socket.on("to-except", [&](Event& ev) {
            auto op = io.sockets.to(strings(ev[0])).except(strings(ev[1]));
            if (strings(ev[0]).empty()) op = io.except(strings(ev[1]));
            op.emit(ev[2].as_string(), ev[3]);
            ev.ack();
        });
        // ("server-ack", event, timeoutMs, ...args) → the server emits with an ack and reports what came back.
        socket.on("server-ack", [&socket](Event& ev) {
            Args rest(ev.args().begin() + 2, ev.args().end());
            auto ack = ev.args().size() ? std::make_shared<Event>(ev) : nullptr;
            socket.timeout(int(ev[1].as_int()))
                .emit(ev[0].as_string(), rest, [ack](const sio::Error& err, const Args& response) {
                    Value result = Object{{"err", err ? Value(err.message) : Value()},
                                          {"response", sio::Array(response.begin(), response.end())}};
                    ack->ack(result);
                });
        });
        // ("broadcast-ack", room, timeoutMs) → io.to(room).timeout(ms).emit("ask", cb(err, responses))
        socket.on("broadcast-ack", [&](Event& ev) {
            auto ack = std::make_shared<Event>(ev);
            io.to(ev[0].as_string())
                .timeout(int(ev[1].as_int()))
                .emit("ask", [ack](const sio::Error& err, const Args& responses) {
                    ack->ack(Object{{"err", err ? Value(err.message) : Value()},
                                    {"responses", sio::Array(responses.begin(), responses.end())}});
                });
        });
        socket.on("fetch", [&](Event& ev) {
            ev.ack(socket_ids(ev[0].is_null() ? io.fetchSockets() : io.in(strings(ev[0])).fetchSockets()));
        });
        // ("fetch-remote", rooms) → fetchSockets(callback): {err, sockets: [{id, rooms, data, address, auth, local}]}
        socket.on("fetch-remote", [&](Event& ev) {
            auto ack = std::make_shared<Event>(ev);
            auto answer = [ack](const sio::Error& err, std::vector<sio::RemoteSocket> found) {
                std::map<std::string, Value> by_id;
                for (auto& s : found)
                    by_id[s.id()] = Object{{"id", s.id()},
                                           {"rooms", string_list(s.rooms())},
                                           {"data", s.data()},
                                           {"address", s.handshake().address},
                                           {"auth", s.handshake().auth},
                                           {"local", s.local() != nullptr}};
                sio::Array sockets;
                for (auto& kv : by_id) sockets.push_back(kv.second);
                ack->ack(Object{{"err", err ? Value(err.message) : Value()}, {"sockets", Value(std::move(sockets))}});
            };
            if (ev[0].is_null()) io.fetchSockets(answer);
            else io.in(strings(ev[0])).fetchSockets(answer);
        });
        // ("server-side-emit", event) → io.serverSideEmit(event, cb(err, responses)): alone, no other node answers
        socket.on("server-side-emit", [&](Event& ev) {
            auto ack = std::make_shared<Event>(ev);
            io.serverSideEmit(ev[0].as_string(), [ack](const sio::Error& err, const Args& responses) {
                ack->ack(Object{{"err", err ? Value(err.message) : Value()},
                                {"responses", sio::Array(responses.begin(), responses.end())}});
            });
        });
        socket.on("sockets-join", [&](Event& ev) {
            io.in(strings(ev[0])).socketsJoin(strings(ev[1]));
            ev.ack();
        });
        socket.on("sockets-leave", [&](Event& ev) {
            io.in(strings(ev[0])).socketsLeave(strings(ev[1]));
            ev.ack();
        });
        socket.on("disconnect-sockets", [&](Event& ev) { io.in(strings(ev[0])).disconnectSockets(ev[1].as_bool()); });
        socket.on("disconnect-me", [&socket](Event& ev) { socket.disconnect(ev[0].as_bool()); });
        socket.on("drop-transport", [&socket](Event&) { socket.conn().close(); });
        socket.on("emit-reserved", [&socket](Event& ev) {
            try {
                socket.emit(ev[0].as_string());
                ev.ack(Value());
            } catch (const std::invalid_argument& e) {
                ev.ack(e.what());
            }
        });
        socket.on("data-set", [&socket](Event& ev) {
            socket.data()[ev[0].as_string()] = ev[1];
            ev.ack();
        });
        socket.on("data-get", [&socket](Event& ev) { ev.ack(socket.data()[ev[0].as_string()]); });
        socket.on("handshake", [&socket](Event& ev) {
            auto& h = socket.handshake();
            Object headers, query;
            for (auto& kv : h.headers) headers[kv.first] = kv.second;
            for (auto& kv : h.query) query[kv.first] = kv.second;
            ev.ack(Object{{"headers", headers},
                          {"time", h.time},
                          {"address", h.address},
                          {"xdomain", h.xdomain},
                          {"secure", h.secure},
                          {"issued", double(h.issued)},
                          {"url", h.url},
                          {"query", query},
                          {"auth", h.auth}});
        });
        socket.on("disconnect-reason", [&](Event& ev) {
            auto it = disconnect_reasons.find(ev[0].as_string());
            auto rooms = rooms_when_disconnecting.find(ev[0].as_string());
            ev.ack(it == disconnect_reasons.end() ? Value() : Value(it->second),
                   rooms == rooms_when_disconnecting.end() ? Value() : rooms->second);
        });
        // once / off / onAny / offAny / onAnyOutgoing bookkeeping
        auto counts = std::make_shared<std::map<std::string, int>>();
        socket.once("ping-once", [counts](Event&) { (*counts)["once"]++; });
        auto id = socket.on("ping-off", [counts](Event&) { (*counts)["off"]++; });
        socket.on("remove-ping-off", [&socket, id](Event& ev) {
            socket.off("ping-off", id);
            ev.ack();
        });
        auto any_log = std::make_shared<sio::Array>();
        auto any_id = socket.onAny([any_log](Event& ev) { any_log->push_back(ev.name()); });
        socket.prependAny([any_log](Event& ev) {
            if (ev.name() == "prepend-check") any_log->push_back("first");
        });
        socket.on("off-any", [&socket, any_id](Event& ev) {
            socket.offAny(any_id);
            ev.ack();
        });
        auto outgoing_log = std::make_shared<sio::Array>();
        auto outgoing_events = std::make_shared<sio::Array>();  // [event, ...args] of each outgoing event
        socket.onAnyOutgoing([outgoing_log, outgoing_events](Event& ev) {
            outgoing_log->push_back(ev.name());
            sio::Array entry{ev.name()};
            entry.insert(entry.end(), ev.args().begin(), ev.args().end());
            outgoing_events->push_back(entry);
        });
        socket.on("counts", [counts, any_log, outgoing_log](Event& ev) {
            ev.ack(Object{{"once", (*counts)["once"]},
                          {"off", (*counts)["off"]},
                          {"any", *any_log},
                          {"outgoing", *outgoing_log}});
        });
        socket.on("outgoing-log", [outgoing_events](Event& ev) { ev.ack(*outgoing_events); });
        socket.on("volatile", [&socket](Event& ev) {
            socket.volatile_().emit("volatile", ev[0]);
            ev.ack();
        });
        socket.on("binary-nested", [&socket](Event& ev) {
            socket.emit("binary-nested", Object{{"deep", Object{{"buf", sio::Binary{std::string("\x00\x01\xff", 3)}}}},
                                                {"list", sio::Array{sio::Binary{"ab"}, 1, "x"}}});
            ev.ack(sio::Binary{"ack-bytes"});
        });
    });

    // ("ticker", room, count): a thread of the server's own (not a handler) emits "tick" 0..count-1 to the room,
    // as a live-figures feed would; the ack comes when it is done.
    std::vector<std::thread> tickers;
    io.on_connection([&](sio::Socket& socket) {
        socket.on("ticker", [&](Event& ev) {
            auto ack = std::make_shared<Event>(ev);
            std::string room = ev[0].as_string();
            int count = int(ev[1].as_int());
            tickers.emplace_back([&io, ack, room, count] {
                for (int i = 0; i < count; ++i) io.to(room).emit("tick", i);
                ack->ack(count);
            });
        });
    });

    // Connection state recovery (--recovery). The sockets by id, the last one of each id (a recovered socket
    // replaces the one it was), for "emit-to". Locked: with --serialize-handlers 0 handlers run side by side.
    std::mutex recovery_mu;
    std::map<std::string, sio::SocketPtr> sockets_by_id;
    std::vector<std::thread> streams;
    io.on_connection([&](sio::Socket& socket) {
        if (io.options().connectionStateRecovery) {  // kept for good: the soak runs without recovery
            std::lock_guard<std::mutex> lk(recovery_mu);
            sockets_by_id[socket.id()] = socket.shared_from_this();
        }
        socket.on("recovered", [&socket](Event& ev) { ev.ack(socket.recovered()); });
        // ("stream", room, count, everyMs): a thread of the server's own sends "seq" 0..count-1, one every `everyMs`:
        // even ones to the room, odd ones with socket.emit on this socket, which recovery stores even while the
        // client is away. The ack comes at once.
        socket.on("stream", [&](Event& ev) {
            auto self = socket.shared_from_this();
            std::string room = ev[0].as_string();
            int count = int(ev[1].as_int()), every = int(ev[2].as_int());
            std::lock_guard<std::mutex> lk(recovery_mu);
            streams.emplace_back([&io, self, room, count, every] {
                for (int i = 0; i < count; ++i) {
                    if (i % 2 == 0) io.to(room).emit("seq", i);
                    else self->emit("seq", i);
                    std::this_thread::sleep_for(std::chrono::milliseconds(every));  // the pace of the feed
                }
            });
            ev.ack();
        });
        // ("emit-to", id, kind, value): "got" value to socket `id`, as kind says: "room" io.to(id).emit, "volatile"
        // io.to(id).volatile, "ack" io.to(id).timeout(200) with an ack, and the same three on the socket itself
        // ("direct", "direct-volatile", "direct-ack"), even when it has gone.
        socket.on("emit-to", [&](Event& ev) {
            const std::string id = ev[0].as_string(), kind = ev[1].as_string();
            const Value& value = ev[2];
            auto ignore = [](const sio::Error&, const Args&) {};
            sio::SocketPtr target;
            {
                std::lock_guard<std::mutex> lk(recovery_mu);
                auto it = sockets_by_id.find(id);
                if (it != sockets_by_id.end()) target = it->second;
            }
            if (kind == "room") io.to(id).emit("got", value);
            else if (kind == "volatile") io.to(id).volatile_().emit("got", value);
            else if (kind == "ack") io.to(id).timeout(200).emit("got", value, ignore);
            else if (!target) return ev.ack(false);
            else if (kind == "direct") target->emit("got", value);
            else if (kind == "direct-volatile") target->volatile_().emit("got", value);
            else if (kind == "direct-ack") target->timeout(200).emit("got", value, ignore);
            ev.ack(true);
        });
        socket.on("recovery-stats", [&](Event& ev) {
            auto* adapter = dynamic_cast<sio::SessionAwareAdapter*>(&io.sockets.adapter());
            if (!adapter) return ev.ack(Value());
            auto st = adapter->stats();
            ev.ack(Object{{"packets", st.packets},
                          {"bytes", st.bytes},
                          {"sessions", st.sessions},
                          {"sessionsTooLarge", double(st.sessionsTooLarge)}});
        });
    });

    io.on_connection([&](sio::Socket& socket) {
        // io.close() in a handler (several times: only the first one does anything); it must return.
        socket.on("close-server", [&](Event& ev) {
            for (long long i = 0, n = std::max(1LL, ev[0].as_int()); i < n; ++i) io.close();
            std::cerr << "close() returned in a handler" << std::endl;
        });
        // ("close-server-from-timer", ms): io.close() in an acknowledgement's time-out callback (the timer thread).
        socket.on("close-server-from-timer", [&](Event& ev) {
            socket.timeout(int(ev[0].as_int())).emit("never-answered", [&](const sio::Error& err, const Args&) {
                io.close();
                std::cerr << "close() returned in an ack time-out (" << err.message << ")" << std::endl;
            });
        });
    });

    io.of("/custom").use([](sio::Socket& socket, sio::Next next) {
        if (!socket.handshake().auth.contains("user")) return next(sio::ConnectError{"user required", Value()});
        next();
    });
    io.of("/custom").on_connection([&](sio::Socket& socket) {
        common(socket);
        socket.join("room1");
        socket.on("rooms", [&socket](Event& ev) { ev.ack(string_list(socket.rooms())); });
    });
    // The dynamic namespace's sockets can join rooms; the main namespace's events below drive the parent's
    // broadcast operator (which acts in every child namespace created from it).
    auto& dyn = io.of(std::regex("^/dyn-\\d+$"));
    dyn.on_connection([&](sio::Socket& socket) {
        common(socket);
        socket.on("join", [&socket](Event& ev) {
            socket.join(strings(ev[0]));
            ev.ack(string_list(socket.rooms()));
        });
        socket.on("rooms", [&socket](Event& ev) { ev.ack(string_list(socket.rooms())); });
    });
    // dyn.to(rooms).except(except) for ("dyn-...", rooms|null, except|null, ...): null leaves the operator out.
    auto dyn_op = [&dyn](const Value& rooms, const Value& except) {
        sio::BroadcastOperator op = dyn.except(strings(except));
        if (!rooms.is_null()) op = op.to(strings(rooms));
        return op;
    };
    io.on_connection([&, dyn_op](sio::Socket& socket) {
        // ("dyn-emit", rooms, except, event, ...args)
        socket.on("dyn-emit", [&dyn, dyn_op](Event& ev) {
            Args rest(ev.args().begin() + 3, ev.args().end());
            if (ev[0].is_null() && ev[1].is_null()) dyn.emit(ev[2].as_string(), rest);
            else dyn_op(ev[0], ev[1]).emit(ev[2].as_string(), rest);
            ev.ack();
        });
        // ("dyn-broadcast-ack", rooms, timeoutMs) → dyn.to(rooms).timeout(ms).emit("ask", cb(err, responses))
        socket.on("dyn-broadcast-ack", [dyn_op](Event& ev) {
            auto ack = std::make_shared<Event>(ev);
            dyn_op(ev[0], Value())
                .timeout(int(ev[1].as_int()))
                .emit("ask", [ack](const sio::Error& err, const Args& responses) {
                    sio::Array sorted(responses.begin(), responses.end());
                    std::sort(sorted.begin(), sorted.end(),
                              [](const Value& a, const Value& b) { return a.to_json() < b.to_json(); });
                    ack->ack(Object{{"err", err ? Value(err.message) : Value()}, {"responses", sorted}});
                });
        });
        socket.on("dyn-fetch", [&, dyn_op](Event& ev) {
            Object out;
            for (auto& s : ev[0].is_null() ? dyn.fetchSockets() : dyn_op(ev[0], Value()).fetchSockets()) {
                Value& ids = out[s->nsp().name()];
                ids.push_back(s->id());
            }
            ev.ack(out);
        });
        socket.on("dyn-sockets-join", [dyn_op](Event& ev) {
            dyn_op(ev[0], Value()).socketsJoin(strings(ev[1]));
            ev.ack();
        });
        socket.on("dyn-sockets-leave", [dyn_op](Event& ev) {
            dyn_op(ev[0], Value()).socketsLeave(strings(ev[1]));
            ev.ack();
        });
        socket.on("dyn-disconnect-sockets", [dyn_op](Event& ev) {
            dyn_op(ev[0], Value()).disconnectSockets(ev[1].as_bool());
            ev.ack();
        });
    });
    io.of("/refuse").use([](sio::Socket&, sio::Next next) {
        next(sio::ConnectError{"refused", Object{{"reason", "test"}}});
    });

    // "/gated" (auth {key: K}): the connection handler waits, at most 5 s, for GET /open-gate?key=K, then emits
    // ("auth", auth). What the client gets meanwhile is what was written before the handler ran.
    std::mutex gate_mu;
    std::condition_variable gate_cv;
    std::set<std::string> open_gates;
    io.of("/gated").on_connection([&](sio::Socket& socket) {
        const std::string key = socket.handshake().auth["key"].as_string();
        {
            std::unique_lock<std::mutex> lk(gate_mu);
            gate_cv.wait_for(lk, std::chrono::seconds(5), [&] { return open_gates.count(key) > 0; });
        }
        socket.emit("auth", socket.handshake().auth);
    });
    io.http().Get("/open-gate", [&](const httplib::Request& req, httplib::Response& res) {
        {
            std::lock_guard<std::mutex> lk(gate_mu);
            open_gates.insert(req.get_param_value("key"));
        }
        gate_cv.notify_all();
        res.set_content("ok", "text/plain");
    });

    io.http().Get("/close", [&io](const httplib::Request&, httplib::Response& res) {
        io.close();  // a route runs on its connection's thread, outside any handler
        res.set_content("closing\n", "text/plain");
    });
    io.http().Get("/stats", [&io](const httplib::Request&, httplib::Response& res) {
        res.set_content("{\"clients\":" + std::to_string(io.engine().clients_count()) +
                            ",\"connections\":" + std::to_string(io.connections_count()) + "}",
                        "application/json");
    });
    int bound = io.start(host, port);
    if (bound < 0) {
        std::cerr << "cannot listen on " << host << ":" << port << "\n";
        return 1;
    }
    std::cout << "listening on " << (opt.tls ? "https" : "http") << "://" << host << ":" << bound << io.options().path
              << std::endl;
    std::thread stopper([&] {
        int sig = 0;
        sigwait(&signals, &sig);
        io.close();
    });
    io.wait();  // returns after a close() from anywhere: the signal's, a handler's, a route's
    std::cerr << "server closed" << std::endl;
    pthread_kill(stopper.native_handle(), SIGTERM);  // a close() not from a signal: wake the stopper (it closes again)
    stopper.join();
    for (auto& t : tickers) t.join();
    for (auto& t : streams) t.join();  // every handler has returned: no lock needed
}
