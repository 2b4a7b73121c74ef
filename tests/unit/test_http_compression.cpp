// Layer 2g: which Accept-Encoding values accept gzip (as the reference's npm `negotiator` reads them), and the gzip
// body (decoded here with zlib's inflate through httplib's decompressor, so the stream is real gzip).
#include "sioserver.hpp"

#include <doctest/doctest.h>

#include <string>

using sio::http_compression::accepts_gzip;

TEST_CASE("accepts_gzip: names, wildcards and q-values") {
    CHECK(accepts_gzip("gzip"));
    CHECK(accepts_gzip("GZip"));
    CHECK(accepts_gzip("gzip, deflate, br"));
    CHECK(accepts_gzip("br, gzip"));
    CHECK(accepts_gzip("*"));
    CHECK(accepts_gzip("gzip;q=0.001"));
    CHECK(accepts_gzip(" gzip ; q=0.5 "));
    CHECK(accepts_gzip("gzip;level=1;q=1"));    // the first q= parameter counts, others are ignored
    CHECK(accepts_gzip("gzip;q=0, gzip;q=1"));  // of equally specific elements, the highest q counts
    CHECK(accepts_gzip("*;q=0.2, br"));
    CHECK_FALSE(accepts_gzip(""));
    CHECK_FALSE(accepts_gzip("br"));
    CHECK_FALSE(accepts_gzip("identity"));
    CHECK_FALSE(accepts_gzip("deflate, br"));
    CHECK_FALSE(accepts_gzip("x-gzip"));
    CHECK_FALSE(accepts_gzip("gzip;q=0"));
    CHECK_FALSE(accepts_gzip("gzip;q=0.0, *"));  // naming gzip counts over "*"
    CHECK(accepts_gzip("gzip;q=1, gzip;q=0"));
    CHECK_FALSE(accepts_gzip("gzip;q=abc"));  // not a number: refused
    CHECK_FALSE(accepts_gzip("gzip;q=nan"));
    CHECK_FALSE(accepts_gzip("*;q=0"));
    CHECK_FALSE(accepts_gzip("gz ip"));
    CHECK_FALSE(accepts_gzip(",,,;;;"));
}

#ifdef CPPHTTPLIB_ZLIB_SUPPORT
TEST_CASE("gzip: the body inflates back to the payload") {
    std::string payload;
    for (int i = 0; i < 500; ++i) payload += "4[\"chat message\",\"héllo " + std::to_string(i) + "\"]\x1e";
    std::string packed;
    REQUIRE(sio::http_compression::gzip(payload, packed));
    CHECK(packed.size() < payload.size() / 4);
    REQUIRE(packed.size() > 10);
    CHECK(static_cast<unsigned char>(packed[0]) == 0x1f);  // the gzip magic (RFC 1952 §2.3.1)
    CHECK(static_cast<unsigned char>(packed[1]) == 0x8b);
    std::string back;
    httplib::detail::gzip_decompressor inflater;
    REQUIRE(inflater.decompress(packed.data(), packed.size(), [&](const char* data, size_t size) {
        back.append(data, size);
        return true;
    }));
    CHECK(back == payload);
}

TEST_CASE("gzip: an empty body is a valid empty gzip stream") {
    std::string packed;
    REQUIRE(sio::http_compression::gzip("", packed));
    std::string back = "not touched";
    back.clear();
    httplib::detail::gzip_decompressor inflater;
    CHECK(inflater.decompress(packed.data(), packed.size(), [&](const char* data, size_t size) {
        back.append(data, size);
        return true;
    }));
    CHECK(back.empty());
}
#endif
