// SHA-1 (FIPS 180-4 / RFC 3174), used only for the WebSocket handshake's Sec-WebSocket-Accept (RFC 6455 §4.2.2).
#include "sioserver.hpp"

#include <doctest/doctest.h>

#include <string>

namespace {

std::string hex(const std::string& bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (char byte : bytes) {
        unsigned char c = static_cast<unsigned char>(byte);
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

}  // namespace

TEST_CASE("sha1: the digest is 20 raw bytes") {
    CHECK(sio::sha1("abc").size() == 20u);
    CHECK(sio::sha1("").size() == 20u);
}

TEST_CASE("sha1: FIPS 180 / RFC 3174 test 1: \"abc\"") {
    CHECK(hex(sio::sha1("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST_CASE("sha1: FIPS 180 / RFC 3174 test 2: 448-bit message needs a second padding block") {
    CHECK(hex(sio::sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
          "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

TEST_CASE("sha1: FIPS 180 / RFC 3174 test 3: one million 'a'") {
    CHECK(hex(sio::sha1(std::string(1000000, 'a'))) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST_CASE("sha1: empty message") { CHECK(hex(sio::sha1("")) == "da39a3ee5e6b4b0d3255bfef95601890afd80709"); }

TEST_CASE("sha1: the quick brown fox") {
    CHECK(hex(sio::sha1("The quick brown fox jumps over the lazy dog")) == "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
}

TEST_CASE("sha1: messages around the 55/56/64-byte padding boundaries") {
    // Reference digests from Python's hashlib.
    CHECK(hex(sio::sha1(std::string(55, 'a'))) == "c1c8bbdc22796e28c0e15163d20899b65621d65a");
    CHECK(hex(sio::sha1(std::string(56, 'a'))) == "c2db330f6083854c99d4b5bfb6e8f29f201be699");
    CHECK(hex(sio::sha1(std::string(63, 'a'))) == "03f09f5b158a7a8cdad920bddc29b81c18a551f5");
    CHECK(hex(sio::sha1(std::string(64, 'a'))) == "0098ba824b5c16427bd7a1122a5a442a25ec644d");
    CHECK(hex(sio::sha1(std::string(119, 'a'))) == "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56");
    CHECK(hex(sio::sha1(std::string(120, 'a'))) == "f34c1488385346a55709ba056ddd08280dd4c6d6");
}

TEST_CASE("sha1: bytes above 0x7f and NUL are hashed as unsigned bytes") {
    std::string all;
    for (int i = 0; i < 256; ++i) all += char(i);
    CHECK(hex(sio::sha1(all)) == "4916d6bdb7f78e6803698cab32d1586ea457dfc8");
}

TEST_CASE("ws: RFC 6455 section 1.3 handshake example gives the documented Sec-WebSocket-Accept") {
    CHECK(sio::ws::accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("ws: accept_key depends on the client key") {
    CHECK(sio::ws::accept_key("dGhlIHNhbXBsZSBub25jZQ==") != sio::ws::accept_key("dGhlIHNhbXBsZSBub25jZR=="));
    CHECK(sio::ws::accept_key("x").size() == 28u);  // base64 of 20 bytes
}
