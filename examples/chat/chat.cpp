// The Socket.IO tutorial's chat room, in C++: it serves index.html and the Socket.IO client, and relays every
// "chat message" to everyone. Run it with `make run` and open http://localhost:3000 in two tabs
// (`make run TLS=1`: https, with the certificate and key named by SIO_TLS_CERT and SIO_TLS_KEY).
#include "../../sioserver.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

int main() {
    int port = std::getenv("PORT") ? std::atoi(std::getenv("PORT")) : 3000;  // PORT=0 picks a free port
    std::string dir = std::string(__FILE__).substr(0, std::string(__FILE__).rfind('/') + 1);

    sio::Options opt;
    const char* cert = std::getenv("SIO_TLS_CERT");
    const char* key = std::getenv("SIO_TLS_KEY");
    if (cert && *cert && key && *key) opt.tls = sio::TlsOptions{cert, key};
    sio::Server io(opt);  // serves /socket.io/socket.io.js itself, like Node's socket.io

    io.http().Get("/", [dir](const httplib::Request&, httplib::Response& res) {
        std::ifstream file(dir + "index.html");
        std::stringstream html;
        html << file.rdbuf();
        res.set_content(html.str(), "text/html; charset=utf-8");
    });

    io.on_connection([&io](sio::Socket& socket) {
        std::cout << "a user connected" << std::endl;
        socket.on("chat message", [&io](sio::Event& ev) {
            std::cout << "message: " << ev[0].as_string() << std::endl;
            io.emit("chat message", ev.args());
        });
        socket.on("disconnect", [](sio::Event&) { std::cout << "user disconnected" << std::endl; });
    });

    int bound = io.start("0.0.0.0", port);
    if (bound < 0) {
        std::cerr << "cannot listen on port " << port << std::endl;
        return 1;
    }
    std::cout << "listening on " << (opt.tls ? "https" : "http") << "://localhost:" << bound << std::endl;
    io.wait();
}
