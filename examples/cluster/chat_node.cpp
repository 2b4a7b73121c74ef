// One C++ node of `make cluster`: the tutorial chat of examples/chat with the Redis adapter, so that a message sent
// on any node reaches the clients of every node (node_node.mjs is the same chat on Node). The page is
// examples/chat/index.html with the node's name in its title and on top. examples/chat itself stays one process.
//   NODE=cpp-1 PORT=3101 REDIS=127.0.0.1:6380 ./build/chat_node     (HOST=0.0.0.0 to listen beyond this machine)
//   ADAPTER=streams: the Redis Streams adapter, with connection state recovery across nodes (a client whose
//   network blinks, or whose node is stopped, comes back on any node with the messages it missed)
#include "../../sioserver.hpp"
#include "../../sioserver_redis.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

static std::string env(const char* name, const char* fallback) {
    return std::getenv(name) ? std::getenv(name) : fallback;
}

// The tutorial page, marked with the name of the node that served it and, once connected, of the node its socket
// reached (through a balancer, they can differ: HAProxy sends a page and a handshake without the io cookie to the
// next node in turn). node_node.mjs marks it the same way.
static std::string page(const std::string& file, const std::string& node) {
    std::ifstream in(file);
    std::stringstream html;
    html << in.rdbuf();
    std::string s = html.str(), name;
    for (char c : node) name += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
    auto put = [&s](const std::string& what, const std::string& with) {
        if (auto at = s.find(what); at != std::string::npos) s.replace(at, what.size(), with);
    };
    put("<title>Socket.IO chat</title>", "<title>Socket.IO chat (" + name + ")</title>");
    put("<body>",
        "<body>\n    <p id=\"node\" style=\"margin:0;padding:0.5rem 1rem;background:#333;color:#fff\">"
        "served by " +
            name + "<span id=\"socket-node\"></span></p>");
    put("</body>",
        "  <script>socket.on('node', (n) => { document.getElementById('socket-node').textContent = "
        "', connected to ' + n; });</script>\n  </body>");
    return s;
}

int main() {
    const std::string node = env("NODE", "cpp"), redis = env("REDIS", "127.0.0.1:6380");
    const int port = std::atoi(env("PORT", "3101").c_str());
    std::string dir = std::string(__FILE__).substr(0, std::string(__FILE__).rfind('/') + 1);

    const bool streams = env("ADAPTER", "classic") == "streams";
    sio::Options opt;
    opt.cookie = sio::CookieOptions{};  // the `io` cookie, for a balancer that sticks by cookie (haproxy.cfg)
    if (streams) opt.connectionStateRecovery = sio::ConnectionStateRecoveryOptions{};
    sio::Server io(opt);
    sio::redis::StreamsOptions ro;  // the classic adapter takes its Options part
    ro.host = redis.substr(0, redis.rfind(':'));
    ro.port = std::atoi(redis.substr(redis.rfind(':') + 1).c_str());
    if (streams) io.adapter(sio::redis::createStreamsAdapter(ro));
    else io.adapter(sio::redis::createAdapter(ro));

    io.http().Get("/", [dir, node](const httplib::Request&, httplib::Response& res) {
        res.set_content(page(dir + "../chat/index.html", node), "text/html; charset=utf-8");
    });
    io.on_connection([&io, node](sio::Socket& socket) {
        std::cout << "[" << node << "] a user connected" << std::endl;
        socket.emit("node", node);
        socket.on("chat message", [&io, node](sio::Event& ev) {
            std::cout << "[" << node << "] message: " << ev[0].as_string() << std::endl;
            io.emit("chat message", ev.args());  // through Redis to the other nodes too
        });
        socket.on("disconnect",
                  [node](sio::Event&) { std::cout << "[" << node << "] user disconnected" << std::endl; });
    });

    int bound = io.start(env("HOST", "127.0.0.1"), port);
    if (bound < 0) {
        std::cerr << "[" << node << "] cannot listen on port " << port << std::endl;
        return 1;
    }
    std::cout << "[" << node << "] listening on http://127.0.0.1:" << bound << " (Redis " << redis << ")" << std::endl;
    io.wait();
}
