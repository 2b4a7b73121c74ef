// UTF-8 validation (RFC 3629): a WebSocket text message must be valid UTF-8 (RFC 6455 §8.1).
#include "sioserver.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

using sio::is_valid_utf8;

namespace {

std::string bytes(std::initializer_list<int> list) {
    std::string s;
    for (int b : list) s += char(b);
    return s;
}

// The shortest UTF-8 form of a code point (any value, surrogates included), written independently of the header.
std::string utf8(uint32_t cp) {
    std::string s;
    if (cp < 0x80) {
        s += char(cp);
    } else if (cp < 0x800) {
        s += char(0xC0 | (cp >> 6));
        s += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        s += char(0xE0 | (cp >> 12));
        s += char(0x80 | ((cp >> 6) & 0x3F));
        s += char(0x80 | (cp & 0x3F));
    } else {
        s += char(0xF0 | (cp >> 18));
        s += char(0x80 | ((cp >> 12) & 0x3F));
        s += char(0x80 | ((cp >> 6) & 0x3F));
        s += char(0x80 | (cp & 0x3F));
    }
    return s;
}

}  // namespace

TEST_CASE("utf8: empty string and plain ASCII (including NUL and DEL) are valid") {
    CHECK(is_valid_utf8(""));
    CHECK(is_valid_utf8("Hello, world!"));
    CHECK(is_valid_utf8(std::string("a\0b", 3)));
    CHECK(is_valid_utf8("\x7f"));
}

TEST_CASE("utf8: valid 2-, 3- and 4-byte sequences") {
    CHECK(is_valid_utf8("\xC3\xA9"));                       // U+00E9 é
    CHECK(is_valid_utf8(bytes({0xC2, 0x80})));              // U+0080, smallest 2-byte
    CHECK(is_valid_utf8(bytes({0xDF, 0xBF})));              // U+07FF, largest 2-byte
    CHECK(is_valid_utf8("\xE2\x82\xAC"));                   // U+20AC €
    CHECK(is_valid_utf8(bytes({0xE0, 0xA0, 0x80})));        // U+0800, smallest 3-byte
    CHECK(is_valid_utf8(bytes({0xED, 0x9F, 0xBF})));        // U+D7FF, just below the surrogates
    CHECK(is_valid_utf8(bytes({0xEE, 0x80, 0x80})));        // U+E000, just above the surrogates
    CHECK(is_valid_utf8(bytes({0xEF, 0xBF, 0xBF})));        // U+FFFF
    CHECK(is_valid_utf8("\xF0\x9F\x98\x80"));               // U+1F600 😀
    CHECK(is_valid_utf8(bytes({0xF0, 0x90, 0x80, 0x80})));  // U+10000, smallest 4-byte
    CHECK(
        is_valid_utf8("Gr\xC3\xBC\xC3\x9F"
                      "e \xE2\x82\xAC \xF0\x9F\x98\x80!"));  // mixed
}

TEST_CASE("utf8: the largest code point U+10FFFF (F4 8F BF BF) is valid") {
    CHECK(is_valid_utf8(bytes({0xF4, 0x8F, 0xBF, 0xBF})));
}

TEST_CASE("utf8: a lone continuation byte is invalid") {
    CHECK_FALSE(is_valid_utf8(bytes({0x80})));
    CHECK_FALSE(is_valid_utf8(bytes({0xBF})));
    CHECK_FALSE(
        is_valid_utf8("a\x80"
                      "b"));
    CHECK_FALSE(is_valid_utf8(bytes({0xC3, 0xA9, 0xA9})));  // one continuation too many
}

TEST_CASE("utf8: a truncated sequence is invalid (at the end and in the middle)") {
    CHECK_FALSE(is_valid_utf8(bytes({0xC3})));
    CHECK_FALSE(is_valid_utf8(bytes({0xE2, 0x82})));
    CHECK_FALSE(is_valid_utf8(bytes({0xF0, 0x9F, 0x98})));
    CHECK_FALSE(is_valid_utf8("abc\xE2\x82"));
    CHECK_FALSE(
        is_valid_utf8("\xE2\x82"
                      "A"));  // continuation replaced by ASCII
    CHECK_FALSE(
        is_valid_utf8("\xF0\x9F\x98"
                      "A"));
    CHECK_FALSE(is_valid_utf8("\xC3\xC3\xA9"));  // lead byte followed by another lead byte
}

TEST_CASE("utf8: overlong encodings are invalid (C0 80, C1 BF, E0 80 80, E0 9F BF, F0 80 80 80, F0 8F BF BF)") {
    CHECK_FALSE(is_valid_utf8(bytes({0xC0, 0x80})));              // NUL in 2 bytes
    CHECK_FALSE(is_valid_utf8(bytes({0xC0, 0xAF})));              // '/' in 2 bytes
    CHECK_FALSE(is_valid_utf8(bytes({0xC1, 0xBF})));              // U+007F in 2 bytes
    CHECK_FALSE(is_valid_utf8(bytes({0xE0, 0x80, 0x80})));        // NUL in 3 bytes
    CHECK_FALSE(is_valid_utf8(bytes({0xE0, 0x9F, 0xBF})));        // U+07FF in 3 bytes
    CHECK_FALSE(is_valid_utf8(bytes({0xF0, 0x80, 0x80, 0x80})));  // NUL in 4 bytes
    CHECK_FALSE(is_valid_utf8(bytes({0xF0, 0x8F, 0xBF, 0xBF})));  // U+FFFF in 4 bytes
}

TEST_CASE("utf8: UTF-16 surrogates U+D800..U+DFFF are invalid (ED A0 80, ED BF BF, a CESU-8 pair)") {
    CHECK_FALSE(is_valid_utf8(bytes({0xED, 0xA0, 0x80})));
    CHECK_FALSE(is_valid_utf8(bytes({0xED, 0xAF, 0xBF})));
    CHECK_FALSE(is_valid_utf8(bytes({0xED, 0xB0, 0x80})));
    CHECK_FALSE(is_valid_utf8(bytes({0xED, 0xBF, 0xBF})));
    CHECK_FALSE(is_valid_utf8(bytes({0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80})));  // U+1F600 as a surrogate pair
}

TEST_CASE("utf8: code points above U+10FFFF are invalid (F4 90 80 80, F7 BF BF BF)") {
    CHECK_FALSE(is_valid_utf8(bytes({0xF4, 0x90, 0x80, 0x80})));
    CHECK_FALSE(is_valid_utf8(bytes({0xF7, 0xBF, 0xBF, 0xBF})));
}

TEST_CASE("utf8: bytes F5..FF never appear in UTF-8") {
    for (int b = 0xF5; b <= 0xFF; ++b) {
        CAPTURE(b);
        CHECK_FALSE(is_valid_utf8(bytes({b})));
        CHECK_FALSE(is_valid_utf8(bytes({b, 0x80, 0x80, 0x80})));
        CHECK_FALSE(is_valid_utf8(bytes({b, 0x80, 0x80, 0x80, 0x80})));        // old 5-byte form
        CHECK_FALSE(is_valid_utf8(bytes({b, 0x80, 0x80, 0x80, 0x80, 0x80})));  // old 6-byte form
    }
}

TEST_CASE("utf8: every code point U+0000..U+10FFFF is valid except the surrogates") {
    int wrong = 0;
    uint32_t first_wrong = 0;
    for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
        bool expected = cp < 0xD800 || cp > 0xDFFF;
        if (is_valid_utf8(utf8(cp)) != expected) {
            if (!wrong) first_wrong = cp;
            ++wrong;
        }
    }
    CAPTURE(first_wrong);
    CHECK(wrong == 0);
}

TEST_CASE("utf8: every 2-byte pattern is accepted exactly when it is a shortest-form character") {
    int wrong = 0;
    for (int a = 0x80; a <= 0xFF; ++a)
        for (int b = 0; b <= 0xFF; ++b) {
            // Valid iff a is C2..DF and b a continuation byte.
            bool expected = a >= 0xC2 && a <= 0xDF && b >= 0x80 && b <= 0xBF;
            if (is_valid_utf8(bytes({a, b})) != expected) ++wrong;
        }
    CHECK(wrong == 0);
}
