// The options' defaults: each one the reference server's (npm socket.io / engine.io, or Node's http.Server for the
// HTTP limits), so that options port over from Node by reading them.
#include "sioserver.hpp"

#include <doctest/doctest.h>

TEST_CASE("options: headersTimeout defaults to 60000 ms, like Node's http.Server") {
    // Node: require('http').createServer().headersTimeout === 60000
    CHECK(sio::EngineOptions{}.headersTimeout == 60000);
    CHECK(sio::Options{}.headersTimeout == 60000);
    sio::eio::Server engine_only;
    CHECK(engine_only.options().headersTimeout == 60000);
}
