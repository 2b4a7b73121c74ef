// The benchmark server on sioserver.hpp; bench/servers/node_bench.js is its twin on npm socket.io 4.8.
//   g++ -std=c++17 -O2 -DNDEBUG -o build/sio_bench bench/servers/sio_bench.cpp \
//       $(pkg-config --cflags --libs cpp-httplib) -pthread $(pkg-config --libs openssl)
//   build/sio_bench --port 0        -> prints "listening on http://127.0.0.1:<port>/socket.io/"; SIGINT/SIGTERM stop it
//   build/sio_bench --port 0 --tls-cert cert.pem --tls-key key.pem
//                                   -> https and wss (opt.tls), "listening on https://..."
// Every client joins room "bench"; "chat message" is relayed to the room (sender included); "echo" is acknowledged
// with its payload. Options are the reference defaults (pingInterval 25000, maxHttpBufferSize 1e6, no CORS) and the
// client bundle is not served.
// Built with -DSIO_BENCH_ADMIN (and -lcrypt), `--admin production|development` instruments it for the admin UI
// (sioserver_admin.hpp, auth false); bench/admin_watch.mjs <url> is an admin client to keep connected meanwhile.
//   BENCH_RECOVERY=1 build/sio_bench --port 0   -> the same with connection state recovery on, with the reference's
//                                                 defaults (opt.connectionStateRecovery = {}; node_bench.js: {})
//
// 64 KiB connection-thread stacks instead of the header's 512 KiB: 10,000 connections are 10,000 threads. The deepest
// stack a connection thread uses is httplib's request parsing plus the WebSocket loop's 16 KiB receive buffer and
// picojson's recursive parse (bounded by its nesting limit), well under 64 KiB.
#define SIOSERVER_THREAD_STACK_SIZE (64 * 1024)
#ifdef SIO_BENCH_ADMIN
#include "../../sioserver_admin.hpp"
#else
#include "../../sioserver.hpp"
#endif

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    int port = 0;
    std::string admin;              // "": not instrumented
    std::string tls_cert, tls_key;  // both, or neither (plain http)
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string flag = argv[i];
        if (flag == "--port") port = std::stoi(argv[i + 1]);
        else if (flag == "--host") host = argv[i + 1];
        else if (flag == "--admin") admin = argv[i + 1];
        else if (flag == "--tls-cert") tls_cert = argv[i + 1];
        else if (flag == "--tls-key") tls_key = argv[i + 1];
        else {
            std::fprintf(stderr, "usage: sio_bench [--host 127.0.0.1] [--port 0] [--tls-cert F --tls-key F]\n");
            return 2;
        }
    }

    // Block the stop signals in every thread (the ones the server starts inherit the mask); main waits for them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    sio::Options opt;
    opt.pingInterval = 25000;
    opt.pingTimeout = 20000;
    opt.maxHttpBufferSize = 1000000;
    opt.serveClient = false;           // CORS stays off (the default)
    opt.maxConnectionsPerAddress = 0;  // the load comes from one address (Node has no such cap)
    const char* recovery = std::getenv("BENCH_RECOVERY");
    if (recovery && std::strcmp(recovery, "1") == 0)
        opt.connectionStateRecovery = sio::ConnectionStateRecoveryOptions{};
    if (tls_cert.empty() != tls_key.empty()) {
        std::fprintf(stderr, "sio_bench: --tls-cert and --tls-key go together\n");
        return 2;
    }
    if (!tls_cert.empty()) opt.tls = sio::TlsOptions{tls_cert, tls_key};
    sio::Server io(opt);
    if (!admin.empty()) {
#ifdef SIO_BENCH_ADMIN
        sio::admin::Options ao;
        ao.auth = false;
        ao.mode = admin;
        sio::instrument(io, ao);
#else
        std::fprintf(stderr, "sio_bench: --admin needs a build with -DSIO_BENCH_ADMIN -lcrypt\n");
        return 2;
#endif
    }

    io.on_connection([&io](sio::Socket& socket) {
        socket.join("bench");
        socket.on("chat message", [&io](sio::Event& ev) { io.to("bench").emit("chat message", ev.args()); });
        socket.on("echo", [](sio::Event& ev) { ev.ack(ev.args()); });
    });

    int bound = io.start(host, port);
    if (bound < 0) {
        std::fprintf(stderr, "sio_bench: cannot listen on %s:%d\n", host.c_str(), port);
        return 1;
    }
    if (opt.connectionStateRecovery) std::printf("connection state recovery on\n");
    std::printf("listening on http%s://%s:%d/socket.io/\n", opt.tls ? "s" : "", host.c_str(), bound);
    std::fflush(stdout);

    int sig = 0;
    sigwait(&signals, &sig);
    io.close();
    return 0;
}
