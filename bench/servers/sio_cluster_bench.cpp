// One node of the cluster benchmark on sioserver.hpp + sioserver_redis.hpp; bench/servers/node_cluster_bench.js is its
// twin on npm socket.io 4.8 + @socket.io/redis-adapter 8.3.
//   g++ -std=c++17 -O2 -DNDEBUG -DMSGPACK_NO_BOOST -o build/sio_cluster_bench bench/servers/sio_cluster_bench.cpp
//       $(pkg-config --cflags --libs cpp-httplib) -lhiredis -pthread
//   build/sio_cluster_bench --port 0 --redis-port 6379   -> prints "listening on http://127.0.0.1:<port>/socket.io/"
// The handlers and options are bench/servers/sio_bench.cpp's (room "bench", "chat message" relayed to the room,
// "echo" acknowledged); the adapter carries the relay to the room's clients on the other node.
#define SIOSERVER_THREAD_STACK_SIZE (64 * 1024)  // as in sio_bench.cpp (the reason is written there)
#include "../../sioserver.hpp"
#include "../../sioserver_redis.hpp"

#include <csignal>
#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    std::string host = "127.0.0.1";
    int port = 0;
    int redis_port = 6379;
    bool streams = false;  // --adapter streams: the Redis Streams adapter (no connection state recovery)
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string flag = argv[i];
        if (flag == "--port") port = std::stoi(argv[i + 1]);
        else if (flag == "--host") host = argv[i + 1];
        else if (flag == "--redis-port") redis_port = std::stoi(argv[i + 1]);
        else if (flag == "--adapter") streams = std::string(argv[i + 1]) == "streams";
        else {
            std::fprintf(stderr,
                         "usage: sio_cluster_bench [--host 127.0.0.1] [--port 0] [--redis-port 6379] "
                         "[--adapter classic|streams]\n");
            return 2;
        }
    }

    // Block the stop signals in every thread (the ones the server and the adapter start inherit the mask).
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    sio::Options opt;
    opt.pingInterval = 25000;
    opt.pingTimeout = 20000;
    opt.maxHttpBufferSize = 1000000;
    opt.serveClient = false;
    opt.maxConnectionsPerAddress = 0;  // the load comes from one address (Node has no such cap)
    sio::Server io(opt);

    sio::redis::StreamsOptions ro;  // the classic adapter takes its Options part
    ro.host = "127.0.0.1";
    ro.port = redis_port;
    if (streams) io.adapter(sio::redis::createStreamsAdapter(ro));
    else io.adapter(sio::redis::createAdapter(ro));

    io.on_connection([&io](sio::Socket& socket) {
        socket.join("bench");
        socket.on("chat message", [&io](sio::Event& ev) { io.to("bench").emit("chat message", ev.args()); });
        socket.on("echo", [](sio::Event& ev) { ev.ack(ev.args()); });
    });

    int bound = io.start(host, port);
    if (bound < 0) {
        std::fprintf(stderr, "sio_cluster_bench: cannot listen on %s:%d\n", host.c_str(), port);
        return 1;
    }
    std::printf("listening on http://%s:%d/socket.io/\n", host.c_str(), bound);
    std::fflush(stdout);

    int sig = 0;
    sigwait(&signals, &sig);
    io.close();
    return 0;
}
