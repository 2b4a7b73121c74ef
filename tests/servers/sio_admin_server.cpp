// The instrumented server the admin protocol tests drive (tests/admin/): sioserver with sio::instrument(), doing
// what tests/admin/node_admin_server.mjs does with Node's socket.io and @socket.io/admin-ui, so that the tests can
// compare what an admin client receives from each.
// Flags: --host H --port N|0 --auth none|basic --username U --password-hash BCRYPT --readonly 0|1
//        --mode development|production --namespace /admin --ui-path /admin/ (serve the UI there)
//        --stats-interval MS (ours only; Node's is 2000)
// Namespaces "/" and "/chat", each with the events: "join" room [ack], "leave" room [ack], "echo" ...args (sent
// back as "echo"), "rooms" ack -> the socket's rooms, "broadcast" room, msg (to the room as "news"), "set-data" key,
// value [ack] (socket.data[key] = value).
// Prints "listening on http://<host>:<port>/socket.io/" when ready; SIGINT/SIGTERM close it.
#include "../../sioserver_admin.hpp"

#include <csignal>
#include <iostream>

namespace {

void handlers(sio::Namespace& nsp) {
    nsp.on_connection([&nsp](sio::Socket& socket) {
        socket.on("join", [](sio::Event& ev) {
            ev.socket().join(ev[0].as_string());
            ev.ack();
        });
        socket.on("leave", [](sio::Event& ev) {
            ev.socket().leave(ev[0].as_string());
            ev.ack();
        });
        socket.on("echo", [](sio::Event& ev) { ev.socket().emit("echo", ev.args()); });
        socket.on("rooms", [](sio::Event& ev) {
            sio::Array rooms;
            for (auto& r : ev.socket().rooms()) rooms.push_back(r);
            ev.ack(sio::Value(rooms));
        });
        socket.on("broadcast", [&nsp](sio::Event& ev) { nsp.to(ev[0].as_string()).emit("news", ev[1]); });
        socket.on("set-data", [](sio::Event& ev) {
            ev.socket().data()[ev[0].as_string()] = ev[1];
            ev.ack();
        });
    });
}

}  // namespace

int main(int argc, char** argv) {
    sio::Options opt;
    opt.cors.origins = {"*"};
    opt.cors.credentials = true;
    sio::admin::Options ao;
    std::string host = "0.0.0.0", auth = "none", username, hash;
    int port = 3000;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string flag = argv[i], value = argv[i + 1];
        if (flag == "--host") host = value;
        else if (flag == "--port") port = std::stoi(value);
        else if (flag == "--auth") auth = value;
        else if (flag == "--username") username = value;
        else if (flag == "--password-hash") hash = value;
        else if (flag == "--readonly") ao.readonly = value == "1";
        else if (flag == "--mode") ao.mode = value;
        else if (flag == "--namespace") ao.namespaceName = value;
        else if (flag == "--ui-path") ao.uiPath = value;
        else if (flag == "--stats-interval") ao.statsInterval = std::stoi(value);
        else {
            std::cerr << "unknown flag " << flag << "\n";
            return 2;
        }
    }
    if (auth == "basic") ao.auth = sio::admin::BasicAuth{username, hash};
    else ao.auth = false;

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    sio::Server io(opt);
    sio::instrument(io, ao);
    handlers(io.sockets);
    handlers(io.of("/chat"));

    int bound = io.start(host, port);
    if (bound < 0) {
        std::cerr << "cannot listen on " << host << ":" << port << "\n";
        return 1;
    }
    std::cout << "listening on http://" << host << ":" << bound << io.options().path << std::endl;
    std::thread stopper([&] {
        int sig = 0;
        sigwait(&signals, &sig);
        io.close();
    });
    io.wait();
    pthread_kill(stopper.native_handle(), SIGTERM);  // a close() not from a signal: wake the stopper
    stopper.join();
}
