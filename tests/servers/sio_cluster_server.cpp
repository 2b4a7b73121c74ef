// A C++ node of the test cluster (tests/cluster/*.test.mjs): sioserver with the Redis adapter. Its test behaviour
// is the same as tests/cluster/node_node.mjs's, section by section (keep the two parallel): GET /name answers the
// node's name; namespaces "/" and "/second" take the same control events. GET /stats (C++ only) answers the
// adapter's counters.
// Flags: --host H --port N|0 --redis-port N --name NAME --key PREFIX --requests-timeout MS --cookie 0|1
//        --parser json|msgpack --adapter classic|streams|sharded (sharded: channelPrefix --key)
//        --subscription-mode static|dynamic|dynamic-private (sharded) --recovery MS (connection state recovery's
//        maxDisconnectionDuration; 0: off) --stream-name NAME --max-len N --eager 0|1 (persistSessionsEagerly)
// SIGTERM drains: io.close() closes every session with "server shutting down" (so clients reconnect, and a
// recoverable session is persisted), and the adapter's queued writes reach Redis before it exits.
// Prints "listening on http://<host>:<port>/socket.io/" when ready; SIGINT/SIGTERM close it.
#include "../../sioserver_redis.hpp"

#include <csignal>
#include <iostream>

using sio::Args;
using sio::Array;
using sio::Event;
using sio::Object;
using sio::Value;

// ---- helpers
static std::vector<std::string> strings(const Value& v) {  // "room" or ["a","b"]; null: none
    std::vector<std::string> out;
    if (v.is_string()) out.push_back(v.as_string());
    for (auto& item : v.as_array()) out.push_back(item.as_string());
    return out;
}
static Value string_list(const std::set<std::string>& items) { return Array(items.begin(), items.end()); }
static Args args_of(const Value& list) {
    Args a;
    for (auto& v : list.as_array()) a.push_back(v);
    return a;
}
static Value sorted_by_json(const Args& list) {
    Array out(list.begin(), list.end());
    std::sort(out.begin(), out.end(), [](const Value& a, const Value& b) { return a.to_json() < b.to_json(); });
    return out;
}
static Value error_text(const sio::Error& err) { return err ? Value(err.message) : Value(); }
// {rooms, except, local} applied to `op` (the namespace's operator, or socket.broadcast())
static sio::BroadcastOperator select(sio::BroadcastOperator op, const Value& o) {
    if (!strings(o["rooms"]).empty()) op = op.to(strings(o["rooms"]));
    if (!strings(o["except"]).empty()) op = op.except(strings(o["except"]));
    if (o["local"].as_bool()) op = op.local();
    return op;
}
static Value describe(const sio::RemoteSocket& s) {
    return Object{{"id", s.id()}, {"rooms", string_list(s.rooms())}, {"data", s.data()}};
}
static Value described(std::vector<sio::RemoteSocket>& sockets) {
    std::sort(sockets.begin(), sockets.end(),
              [](const sio::RemoteSocket& a, const sio::RemoteSocket& b) { return a.id() < b.id(); });
    Array out;
    for (auto& s : sockets) out.push_back(describe(s));
    return out;
}

int main(int argc, char** argv) {
    sio::Options opt;
    sio::redis::Options ro;
    ro.host = "127.0.0.1";
    std::string host = "127.0.0.1", name = "cpp", adapter_kind = "classic";
    int port = 0;
    sio::redis::StreamsOptions so;
    auto mode = sio::redis::ShardedOptions::SubscriptionMode::Dynamic;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string flag = argv[i], value = argv[i + 1];
        if (flag == "--host") host = value;
        else if (flag == "--port") port = std::stoi(value);
        else if (flag == "--redis-port") ro.port = std::stoi(value);
        else if (flag == "--name") name = value;
        else if (flag == "--key") ro.key = value;
        else if (flag == "--requests-timeout") ro.requestsTimeout = std::stoi(value);
        else if (flag == "--parser") opt.parser = value == "msgpack" ? sio::msgpack_parser() : nullptr;
        else if (flag == "--adapter") adapter_kind = value;
        else if (flag == "--recovery") {
            if (std::stoi(value) > 0) opt.connectionStateRecovery = sio::ConnectionStateRecoveryOptions{};
            if (opt.connectionStateRecovery) opt.connectionStateRecovery->maxDisconnectionDuration = std::stoi(value);
        } else if (flag == "--stream-name") so.streamName = value;
        else if (flag == "--max-len") so.maxLen = std::stoul(value);
        else if (flag == "--eager") so.persistSessionsEagerly = value != "0";
        else if (flag == "--subscription-mode") {
            using Mode = sio::redis::ShardedOptions::SubscriptionMode;
            mode = value == "static" ? Mode::Static : value == "dynamic-private" ? Mode::DynamicPrivate : Mode::Dynamic;
        }
        // the io cookie at the handshake (name io, path /, HttpOnly, SameSite=Lax), for HAProxy's stickiness
        else if (flag == "--cookie") {
            if (value != "0") opt.cookie = sio::CookieOptions{};
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

    if (adapter_kind != "classic" && adapter_kind != "streams" && adapter_kind != "sharded") {
        std::cerr << "unknown adapter " << adapter_kind << "\n";
        return 2;
    }
    const bool streams_adapter = adapter_kind == "streams", sharded_adapter = adapter_kind == "sharded";
    sio::Server io(opt);
    if (streams_adapter) {
        static_cast<sio::redis::Options&>(so) = ro;
        io.adapter(sio::redis::createStreamsAdapter(so));
    } else if (sharded_adapter) {
        sio::redis::ShardedOptions sh;
        static_cast<sio::redis::Options&>(sh) = ro;
        sh.channelPrefix = ro.key;
        sh.subscriptionMode = mode;
        io.adapter(sio::redis::createShardedAdapter(sh));
    } else {
        io.adapter(sio::redis::createAdapter(ro));
    }
    std::vector<std::thread> streams;
    std::mutex streams_mu;

    // ---- one namespace's behaviour (handlers run one at a time: the notes need no lock)
    auto serve = [&](sio::Namespace& nsp) {
        auto notes = std::make_shared<Array>();  // server-side events received without an ack: [{event, args}]
        // A server-side listener: answers serverSideEmit with this node's name.
        nsp.on("ask-server", [&nsp, notes, name](sio::ServerEvent& ev) {
            Array args(ev.args().begin(), ev.args().end());
            if (ev.has_ack()) ev.ack(Object{{"name", name}, {"nsp", nsp.name()}, {"args", args}});
            else notes->push_back(Object{{"event", "ask-server"}, {"args", args}});
        });
        nsp.on("note", [notes](sio::ServerEvent& ev) {
            notes->push_back(Object{{"event", "note"}, {"args", Array(ev.args().begin(), ev.args().end())}});
        });

        nsp.on_connection([&, notes](sio::Socket& socket) {
            const Value& user = socket.handshake().auth["user"];
            if (!socket.recovered()) socket.data() = Object{{"node", name}, {"user", user}};
            socket.emit("welcome", Object{{"node", name}, {"id", socket.id()}, {"nsp", nsp.name()}});
            socket.on("join", [&socket](Event& ev) {
                socket.join(strings(ev[0]));
                ev.ack(string_list(socket.rooms()));
            });
            socket.on("leave", [&socket](Event& ev) {
                for (auto& r : strings(ev[0])) socket.leave(r);
                ev.ack(string_list(socket.rooms()));
            });
            socket.on("rooms", [&socket](Event& ev) { ev.ack(string_list(socket.rooms())); });
            // {rooms, except, local, via: "nsp"|"socket", event, args}:
            // nsp.to(rooms).except(except).emit(event, args...);
            // via "socket": socket.broadcast().to(rooms)... (the sender left out)
            socket.on("broadcast", [&](Event& ev) {
                const Value& o = ev[0];
                auto base = o["via"].as_string() == "socket" ? socket.broadcast() : sio::BroadcastOperator(nsp);
                select(base, o).emit(o["event"].as_string(), args_of(o["args"]));
                ev.ack();
            });
            // binary made by the server itself
            socket.on("emit-binary", [&](Event& ev) {
                select(sio::BroadcastOperator(nsp), ev[0])
                    .emit("binary", sio::Binary{std::string("\x00\x01\x02\xff", 4)},
                          Object{{"nested", sio::Binary{"xyz"}}, {"n", 1}});
                ev.ack();
            });
            socket.on("fetch", [&](Event& ev) {
                auto ack = std::make_shared<Event>(ev);
                select(sio::BroadcastOperator(nsp), ev[0])
                    .fetchSockets([ack](const sio::Error& err, std::vector<sio::RemoteSocket> sockets) {
                        ack->ack(
                            Object{{"err", error_text(err)}, {"sockets", described(sockets)}});  // partial on error
                    });
            });
            // {rooms, except, action: "emit"|"join"|"leave"|"disconnect", event, args, room, close}:
            // on each fetched socket
            socket.on("remote", [&](Event& ev) {
                auto ack = std::make_shared<Event>(ev);
                Value o = ev[0];
                select(sio::BroadcastOperator(nsp), o)
                    .fetchSockets([ack, o](const sio::Error& err, std::vector<sio::RemoteSocket> sockets) {
                        std::set<std::string> ids;
                        for (auto& s : sockets) {
                            const std::string& action = o["action"].as_string();
                            if (action == "emit") s.emit(o["event"].as_string(), args_of(o["args"]));
                            else if (action == "join") s.join(strings(o["room"]));
                            else if (action == "leave") s.leave(strings(o["room"]));
                            else if (action == "disconnect") s.disconnect(o["close"].as_bool());
                            ids.insert(s.id());
                        }
                        ack->ack(Object{{"err", error_text(err)}, {"ids", string_list(ids)}});
                    });
            });
            socket.on("sockets-join", [&](Event& ev) {
                select(sio::BroadcastOperator(nsp), ev[0]).socketsJoin(strings(ev[0]["join"]));
                ev.ack();
            });
            socket.on("sockets-leave", [&](Event& ev) {
                select(sio::BroadcastOperator(nsp), ev[0]).socketsLeave(strings(ev[0]["leave"]));
                ev.ack();
            });
            socket.on("disconnect-sockets", [&](Event& ev) {
                select(sio::BroadcastOperator(nsp), ev[0]).disconnectSockets(ev[0]["close"].as_bool());
                ev.ack();
            });
            // {event, args, ack: bool}: nsp.serverSideEmit(event, args...[, cb(err, responses)])
            socket.on("server-side-emit", [&](Event& ev) {
                const Value& o = ev[0];
                if (!o["ack"].as_bool()) {
                    nsp.serverSideEmit_args(o["event"].as_string(), args_of(o["args"]));
                    return ev.ack(Object{{"err", Value()}, {"responses", Array{}}});
                }
                auto ack = std::make_shared<Event>(ev);
                nsp.serverSideEmit_args(
                    o["event"].as_string(), args_of(o["args"]), [ack](const sio::Error& err, const Args& responses) {
                        ack->ack(Object{{"err", error_text(err)}, {"responses", sorted_by_json(responses)}});
                    });
            });
            socket.on("notes", [notes](Event& ev) { ev.ack(*notes); });
            // {rooms, except, event, args, timeout}: nsp.to(rooms).timeout(ms).emit(event, args..., cb(err, responses))
            socket.on("broadcast-with-ack", [&](Event& ev) {
                const Value& o = ev[0];
                auto ack = std::make_shared<Event>(ev);
                select(sio::BroadcastOperator(nsp), o)
                    .timeout(int(o["timeout"].as_int()))
                    .emit_args(o["event"].as_string(), args_of(o["args"]),
                               [ack](const sio::Error& err, const Args& responses) {
                                   ack->ack(Object{{"err", error_text(err)}, {"responses", sorted_by_json(responses)}});
                               });
            });
            // {rooms, event, count, every}: `count` numbered broadcasts {seq, from}, one every `every` ms (from a
            // thread of the server's own, as a live feed would); acks when done
            socket.on("stream", [&](Event& ev) {
                auto ack = std::make_shared<Event>(ev);
                auto op = select(sio::BroadcastOperator(nsp), ev[0]);
                std::string event = ev[0]["event"].as_string();
                long long count = ev[0]["count"].as_int();
                auto every = std::chrono::milliseconds(ev[0]["every"].as_int());
                std::lock_guard<std::mutex> lk(streams_mu);
                streams.emplace_back([op, ack, event, count, every, name] {
                    for (long long seq = 0; seq < count; ++seq) {
                        op.emit(event, Object{{"seq", seq}, {"from", name}});
                        std::this_thread::sleep_for(every);
                    }
                    ack->ack(count);
                });
            });
        });
    };
    serve(io.of("/"));
    serve(io.of("/second"));

    io.http().Get("/name",
                  [&name](const httplib::Request&, httplib::Response& res) { res.set_content(name, "text/plain"); });
    auto adapter_state = [&io, streams_adapter, sharded_adapter](sio::redis::Stats& s) {
        if (streams_adapter) {
            auto& adapter = static_cast<sio::redis::StreamsAdapter&>(io.sockets.adapter());
            s = adapter.stats();
            return adapter.ready();
        }
        if (sharded_adapter) {
            auto& adapter = static_cast<sio::redis::ShardedAdapter&>(io.sockets.adapter());
            s = adapter.stats();
            return adapter.ready();
        }
        auto& adapter = static_cast<sio::redis::RedisAdapter&>(io.sockets.adapter());
        s = adapter.stats();
        return adapter.ready();
    };
    io.http().Get("/stats", [&adapter_state](const httplib::Request&, httplib::Response& res) {
        sio::redis::Stats s;
        const bool ready = adapter_state(s);
        Value v = Object{{"published", double(s.published)},
                         {"unsent", double(s.unsent)},
                         {"received", double(s.received)},
                         {"malformed", double(s.malformed)},
                         {"reconnects", double(s.reconnects)},
                         {"requestsTimedOut", double(s.requestsTimedOut)},
                         {"ready", ready}};
        res.set_content(v.to_json(), "application/json");
    });

    // Redis unreachable at start: said at once; the node starts all the same, serves its own clients, and its
    // adapter connects when Redis comes.
    const std::string redis_error = sio::redis::ping(ro);
    if (!redis_error.empty()) std::cerr << "redis: " << redis_error << std::endl;
    int bound = io.start(host, port);
    if (bound < 0) {
        std::cerr << "cannot listen on " << host << ":" << port << "\n";
        return 1;
    }
    // The Streams adapter's reader must know where the stream ends before a test publishes (the classic adapter's
    // tests wait for its subscriptions instead): at most 10 s.
    for (int i = 0; streams_adapter && redis_error.empty() && i < 1000; ++i) {
        sio::redis::Stats ignored;
        if (adapter_state(ignored)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::cout << "listening on http://" << host << ":" << bound << io.options().path << std::endl;
    int sig = 0;
    sigwait(&signals, &sig);
    io.close();
    std::lock_guard<std::mutex> lk(streams_mu);
    for (auto& t : streams) t.join();
}
