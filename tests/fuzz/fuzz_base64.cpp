// libFuzzer target: base64 (sioserver.hpp layer 2a), strict RFC 4648 §4 decoding of what the network sends.
//
// Invariants:
//  - decode accepts exactly the well-formed texts: length a multiple of 4, alphabet characters only, '=' only as
//    the last one or two characters ("xx==" / "xxx="), and zero bits under the padding.
//  - the decoded size is 3 bytes per group less one per '='.
//  - when decode succeeds, encode(decoded) == input (so decode must refuse non-zero pad bits, RFC 4648 §3.5: found
//    as 'base64-nonzero-pad-bits', fixed in 5d6831c).
//  - decode(encode(x)) == x, for the decoded bytes and for the raw input bytes.
#include "sioserver.hpp"

#include "fuzz_common.hpp"

#include <string>
#include <string_view>

namespace {

int alphabet_value(char c) {
    static const std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = alphabet.find(c);
    return i == std::string_view::npos ? -1 : int(i);
}

// The grammar, written out independently of the decoder: returns the number of '=' (0..2), or -1 if malformed.
int well_formed(std::string_view s) {
    if (s.size() % 4) return -1;
    int pads = 0;
    if (s.size() >= 4 && s[s.size() - 1] == '=') pads = s[s.size() - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < s.size() - pads; ++i)
        if (alphabet_value(s[i]) < 0) return -1;
    return pads;
}

// Whether the bits below the last full byte are zero (RFC 4648 §3.5: an encoder always writes them as zero).
bool zero_pad_bits(std::string_view s, int pads) {
    if (pads == 0) return true;
    int last = alphabet_value(s[s.size() - pads - 1]);
    return pads == 2 ? (last & 0x0F) == 0 : (last & 0x03) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);

    std::string out = "garbage";  // decode must clear it
    bool ok = sio::base64::decode(in, out);
    int pads = well_formed(in);
    bool canonical = pads >= 0 && zero_pad_bits(in, pads);
    if (pads >= 0 && !canonical)
        FUZZ_CHECK(!ok, "base64-nonzero-pad-bits",
                   "non-canonical " + fuzz::show(in) + " accepted (decodes to " + fuzz::show(out) +
                       ", which encodes differently)");
    else FUZZ_CHECK(ok == canonical, "base64-accept", std::string(ok ? "accepted " : "refused ") + fuzz::show(in));
    if (ok) {
        FUZZ_CHECK(out.size() == in.size() / 4 * 3 - size_t(pads), "base64-size",
                   std::to_string(out.size()) + " bytes from " + fuzz::show(in));
        std::string again = sio::base64::encode(out);
        FUZZ_CHECK(again == in, canonical ? "base64-roundtrip" : "base64-nonzero-pad-bits",
                   fuzz::show(in) + " re-encoded as " + fuzz::show(again));
        std::string back;
        FUZZ_CHECK(sio::base64::decode(again, back) && back == out, "base64-roundtrip",
                   "decode(encode(x)) != x for the bytes of " + fuzz::show(in));
    }

    // The input as bytes to encode.
    std::string encoded = sio::base64::encode(in);
    FUZZ_CHECK(encoded.size() == (in.size() + 2) / 3 * 4, "base64-encode-size", std::to_string(encoded.size()));
    FUZZ_CHECK(well_formed(encoded) >= 0, "base64-encode-grammar", fuzz::show(encoded));
    std::string decoded;
    FUZZ_CHECK(sio::base64::decode(encoded, decoded) && decoded == in, "base64-roundtrip",
               "decode(encode(x)) != x for " + fuzz::show(in));
    return 0;
}
