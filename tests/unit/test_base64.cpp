// base64 (RFC 4648 §4): the encoding Engine.IO uses for binary packets over long-polling ("b" + base64) and the
// WebSocket handshake uses for Sec-WebSocket-Accept.
#include "sioserver.hpp"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

using sio::base64::decode;
using sio::base64::encode;

namespace {

// RFC 4648 §10 test vectors.
const std::vector<std::pair<std::string, std::string>> kRfc4648Vectors = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

std::string all_bytes() {
    std::string s;
    for (int i = 0; i < 256; ++i) s += char(i);
    return s;
}

// decode() that must fail; returns true when it did.
bool rejects(std::string_view in) {
    std::string out;
    return !decode(in, out);
}

}  // namespace

TEST_CASE("base64: RFC 4648 section 10 vectors encode") {
    for (const auto& entry : kRfc4648Vectors) {
        const std::string& plain = entry.first;  // not a structured binding: C++17 lambdas (CAPTURE) cannot capture one
        const std::string& coded = entry.second;
        CAPTURE(plain);
        CHECK(encode(plain) == coded);
    }
}

TEST_CASE("base64: RFC 4648 section 10 vectors decode") {
    for (const auto& entry : kRfc4648Vectors) {
        const std::string& plain = entry.first;
        const std::string& coded = entry.second;
        CAPTURE(coded);
        std::string out = "garbage left from before";
        REQUIRE(decode(coded, out));
        CHECK(out == plain);
    }
}

TEST_CASE("base64: the two last alphabet characters are '+' and '/' (not base64url)") {
    CHECK(encode("\xfb\xff") == "+/8=");
    CHECK(encode("\xff\xff\xff") == "////");
    CHECK(encode("\xfb\xef\xbe") == "++++");
    std::string out;
    REQUIRE(decode("+/8=", out));
    CHECK(out == "\xfb\xff");
}

TEST_CASE("base64: all 256 byte values round trip (one string, and one byte at a time)") {
    const std::string bytes = all_bytes();
    const std::string coded = encode(bytes);
    // Independent reference (Python's base64.b64encode(bytes(range(256)))).
    CHECK(coded ==
          "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9Q"
          "UVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6Ch"
          "oqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy"
          "8/T19vf4+fr7/P3+/w==");
    std::string back;
    REQUIRE(decode(coded, back));
    CHECK(back == bytes);

    int failures = 0;
    for (int i = 0; i < 256; ++i) {
        for (size_t len = 1; len <= 3; ++len) {  // the byte alone, with one "==" / "=" / no padding
            std::string in(len, char(i));
            std::string enc = encode(in), dec;
            if (enc.size() != 4 || !decode(enc, dec) || dec != in) ++failures;
        }
    }
    CHECK(failures == 0);
}

TEST_CASE("base64: every length 0..20 round trips and encodes to 4*ceil(n/3) characters") {
    const std::string bytes = all_bytes();
    for (size_t n = 0; n <= 20; ++n) {
        CAPTURE(n);
        std::string in = bytes.substr(200, n);
        std::string enc = encode(in), dec;
        CHECK(enc.size() == (n + 2) / 3 * 4);
        REQUIRE(decode(enc, dec));
        CHECK(dec == in);
    }
}

TEST_CASE("base64: decode rejects a length that is not a multiple of 4") {
    CHECK(rejects("Z"));
    CHECK(rejects("Zg"));
    CHECK(rejects("Zg="));
    CHECK(rejects("Zm9"));
    CHECK(rejects("Zm9vY"));
    CHECK(rejects("Zm9vYg="));
    CHECK(rejects("Zm9vYg==="));
}

TEST_CASE("base64: decode rejects characters outside the alphabet") {
    CHECK(rejects("Zm9!"));
    CHECK(rejects("Zm9v!A=="));
    CHECK(rejects("Zm-v"));  // base64url '-' is not the standard alphabet
    CHECK(rejects("Zm_v"));  // base64url '_'
    CHECK(rejects("Zm v"));
    CHECK(rejects("Zm9\n"));
    CHECK(rejects(std::string("Zm\0v", 4)));
    CHECK(
        rejects("\x80"
                "AAA"));
    CHECK(
        rejects("Zm9v\xff"
                "AAA"));
}

TEST_CASE("base64: decode rejects '=' in the middle of the input") {
    CHECK(rejects("Zg==Zm9v"));  // a padded group followed by more data
    CHECK(rejects("Zm8=Zm9v"));
    CHECK(rejects("Zm=vZm9v"));
    CHECK(rejects("=m9vZm9v"));
}

TEST_CASE("base64: decode rejects '=' padding in the wrong place of the last group") {
    CHECK(rejects("Zg=A"));  // '=' followed by data
    CHECK(rejects("Z=g="));
    CHECK(rejects("Z==="));  // at most two '='
    CHECK(rejects("===="));
    CHECK(rejects("=Zg="));
    CHECK(rejects("Zm9v=Zg="));
}
