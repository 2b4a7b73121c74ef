// The WebSocket transport's write side on a real socket pair: SendBatch gathers, the Flusher finishes what the
// kernel refused. No HTTP, no session: the transport alone.
#include "test_access.hpp"

#include <doctest/doctest.h>

#include <sys/socket.h>

namespace {

using TA = sio::detail::TestAccess;

// Reads what arrives on `fd` until `want` bytes are in or `ms` pass without any byte.
std::string read_until(int fd, size_t want, int ms = 2000) {
    std::string got;
    char buf[65536];
    while (got.size() < want) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, ms) <= 0) break;
        ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) break;
        got.append(buf, size_t(n));
    }
    return got;
}

bool nothing_waiting(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
}

// A transport on one end of a socket pair; the test reads what it writes on `client`.
struct Pair {
    int server = -1, client = -1;
    sio::detail::Timers timers;
    sio::detail::Flusher flusher;
    std::shared_ptr<sio::eio::WebSocket> ws;
    explicit Pair(size_t max_buffered = 1 << 20, int send_buffer = 0) {
        int fds[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
        server = fds[0];
        client = fds[1];
        if (send_buffer) setsockopt(server, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer);
        ws = TA::make_websocket(server, 1 << 20, max_buffered, timers, flusher);
    }
    ~Pair() {
        ws.reset();
        flusher.stop();
        ::close(server);
        ::close(client);
    }
};

}  // namespace

TEST_CASE("SendBatch: frames sent inside a batch leave when it ends, in order, in one write") {
    Pair pair;
    auto& ws = pair.ws;
    const std::string a = sio::ws::encode_frame(sio::ws::Opcode::Text, "4first");
    const std::string b = sio::ws::encode_frame(sio::ws::Opcode::Text, "4second");
    {
        sio::detail::SendBatch batch;
        CHECK(TA::send_frame(*ws, a));
        CHECK_FALSE(ws->congested());  // a batched send is not a back-up: a volatile emit still goes
        CHECK(TA::send_frame(*ws, b));
        CHECK(nothing_waiting(pair.client));
    }
    CHECK(read_until(pair.client, a.size() + b.size()) == a + b);
}

TEST_CASE("SendBatch::let_go: what was gathered leaves at once, and what follows is gathered again") {
    Pair pair;
    auto& ws = pair.ws;
    const std::string a = sio::ws::encode_frame(sio::ws::Opcode::Text, "40{\"sid\":\"x\"}");
    const std::string b = sio::ws::encode_frame(sio::ws::Opcode::Text, "42[\"first\"]");
    const std::string c = sio::ws::encode_frame(sio::ws::Opcode::Text, "42[\"second\"]");
    {
        sio::detail::SendBatch batch;
        CHECK(TA::send_frame(*ws, a));
        CHECK(nothing_waiting(pair.client));
        sio::detail::SendBatch::let_go();
        CHECK(read_until(pair.client, a.size()) == a);
        CHECK(TA::send_frame(*ws, b));
        CHECK(TA::send_frame(*ws, c));
        CHECK(nothing_waiting(pair.client));
    }
    CHECK(read_until(pair.client, b.size() + c.size()) == b + c);
    sio::detail::SendBatch::let_go();  // no batch open: nothing to do
}

TEST_CASE("SendBatch: outside a batch a frame is written at once") {
    Pair pair;
    auto& ws = pair.ws;
    const std::string a = sio::ws::encode_frame(sio::ws::Opcode::Text, "4now");
    CHECK(TA::send_frame(*ws, a));
    CHECK_FALSE(nothing_waiting(pair.client));
    CHECK(read_until(pair.client, a.size()) == a);
}

TEST_CASE("Flusher: what the kernel refused is written when the reader drains the socket") {
    Pair pair(8 << 20, 4096);  // a small socket buffer
    auto& ws = pair.ws;
    std::string expected;
    for (int i = 0; i < 200; ++i) {  // ~400 KB: far more than the socket buffer holds
        std::string frame =
            sio::ws::encode_frame(sio::ws::Opcode::Text, "4" + std::to_string(i) + std::string(2000, 'x'));
        REQUIRE(TA::send_frame(*ws, frame));
        expected += frame;
    }
    CHECK(ws->congested());  // backed up
    CHECK(read_until(pair.client, expected.size()) == expected);
    CHECK_FALSE(ws->congested());
}

TEST_CASE("WebSocket: a client that never answers the close frame is cut off") {
    Pair pair;
    auto& ws = pair.ws;
    // What the transport tells its session: here only how it ended.
    struct Ends : sio::eio::Transport::Receiver {
        std::vector<std::string> reasons;
        void handle_packet(sio::eio::Transport&, sio::eio::Packet&) override {}
        void handle_drain(sio::eio::Transport&) override {}
        void handle_transport_close(sio::eio::Transport&, const char* why, const std::string&) override {
            reasons.push_back(why);
        }
    };
    auto ends = std::make_shared<Ends>();
    ws->attach(ends);
    std::thread closer([&] { TA::close(*ws, sio::ws::close_code::Normal); });
    auto start = std::chrono::steady_clock::now();
    TA::run(*ws, "");
    closer.join();
    auto took = std::chrono::steady_clock::now() - start;
    REQUIRE(ends->reasons.size() == 1);
    CHECK(ends->reasons[0] == sio::reason::TransportClose);
    CHECK(took < std::chrono::seconds(5));
    // The client got the close frame: 0x88, then the length and the code 1000.
    std::string got = read_until(pair.client, 4);
    REQUIRE(got.size() >= 4);
    CHECK(uint8_t(got[0]) == 0x88);
    CHECK(uint8_t(got[2]) == 0x03);
    CHECK(uint8_t(got[3]) == 0xE8);
}
