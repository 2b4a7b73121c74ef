// The unit tests' one way to the header's internals (sio::detail::TestAccess, which the core classes befriend).
// Header-only: every accessor is a static member function, inline by definition, so several test files (or all
// of them as one translation unit) may include it.
#pragma once
#include "sioserver.hpp"

namespace sio {
namespace detail {

struct TestAccess {
    // Server::find_namespace: the namespace a CONNECT asks for (an existing one, a new dynamic child, or null).
    static Namespace* find_namespace(Server& server, const std::string& name, const Value& auth) {
        return server.find_namespace(name, auth);
    }

    // eio::WebSocket, which only the Engine makes and runs: one on `fd` with the default codec.
    static std::shared_ptr<eio::WebSocket> make_websocket(int fd, size_t max_message, size_t max_buffered,
                                                          Timers& timers, Flusher& flusher) {
        return std::make_shared<eio::WebSocket>(eio::EngineKey{}, fd, max_message, max_buffered, timers, flusher);
    }
    // WebSocket::send_frame: one frame as it is.
    static bool send_frame(eio::WebSocket& ws, const std::string& frame) { return ws.send_frame(frame); }
    // WebSocket::close(code): the close frame, told to nobody (the connection thread's end tells the session).
    static void close(eio::WebSocket& ws, uint16_t code) { ws.close(code); }
    // WebSocket::run: the connection thread's loop.
    static void run(eio::WebSocket& ws, const std::string& leftover) { ws.run(leftover); }

    // A sio::Socket in `nsp` with no Client (only a Namespace makes one): for the adapter tests.
    static SocketPtr make_socket(Namespace& nsp, Handshake handshake = {}) {
        return std::make_shared<Socket>(ServerKey{}, nsp, std::shared_ptr<Client>(), std::move(handshake));
    }
    // The engine's timer thread (detail::EngineAccess).
    static Timers& timers(eio::Engine& engine) { return EngineAccess::timers(engine); }
};

}  // namespace detail
}  // namespace sio
