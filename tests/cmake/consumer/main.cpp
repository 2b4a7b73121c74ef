// Starts a Socket.IO server on a free loopback port and asks it for an Engine.IO handshake over HTTP, as a client's
// first request does. Exit status 0 only when the answer is an open packet: the target's flags were right.
#include <sioserver.hpp>

#include <cstdio>

int main() {
    sio::Options options;
    options.serveClient = false;
    sio::Server io(options);
    int port = io.start("127.0.0.1", 0);
    if (port < 0) {
        std::fprintf(stderr, "consumer: cannot listen on 127.0.0.1\n");
        return 1;
    }
    httplib::Client client("127.0.0.1", port);
    auto res = client.Get("/socket.io/?EIO=4&transport=polling");
    bool opened =
        res && res->status == 200 && res->body.rfind("0{", 0) == 0 && res->body.find("\"sid\":\"") != std::string::npos;
    std::printf("consumer: sioserver %s (httplib %s) answered the handshake with %s\n", SIOSERVER_VERSION,
                CPPHTTPLIB_VERSION, res ? res->body.c_str() : "nothing");
    io.close();
    return opened ? 0 : 1;
}
