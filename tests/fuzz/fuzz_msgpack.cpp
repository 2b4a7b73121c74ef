// libFuzzer target: the msgpack parser's decoder (sioserver.hpp layer 2f, continued: sio::packet::msgpack::decode),
// which reads every binary message of a client of a server with opt.parser = sio::msgpack_parser().
//
// Input: one binary message, as it is.
//
// Invariants:
//  - decode never throws; it fails only with one of its documented errors and then returns false.
//  - a decoded packet has a type 0-4, and data that suits it (valid_payload; an ACK may lack its id).
//  - round trip: what encode(p) writes decodes to a packet that encodes to the same bytes.
#include "sioserver.hpp"

#include "fuzz_common.hpp"

#include <exception>
#include <set>
#include <string>

namespace {

namespace packet = sio::packet;

const std::set<std::string> kErrors = {"nested too deep",
                                       "truncated msgpack",
                                       "unknown msgpack type",
                                       "unknown msgpack extension",
                                       "invalid UTF-8 in a string",
                                       "a map key that is not a string",
                                       "trailing bytes after the packet",
                                       "not a map",
                                       "invalid packet type",
                                       "invalid namespace",
                                       "invalid packet id",
                                       "invalid payload"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string in(reinterpret_cast<const char*>(data), size);
    packet::Packet p;
    std::string error;
    bool ok = false;
    try {
        ok = packet::msgpack::decode(in, p, error);
    } catch (const std::exception& e) {
        FUZZ_CHECK(false, "msgpack-decode-throws", std::string(e.what()) + " on " + fuzz::show(in));
    }
    if (!ok) {
        FUZZ_CHECK(kErrors.count(error) == 1, "msgpack-error", "'" + error + "' on " + fuzz::show(in));
        return 0;
    }
    const int type = static_cast<int>(p.type);
    FUZZ_CHECK(type >= 0 && type <= 4, "msgpack-type", std::to_string(type));
    FUZZ_CHECK(packet::valid_payload(p) || (p.type == packet::Type::Ack && p.id < 0), "msgpack-valid",
               packet::describe(p));
    const std::string once = packet::msgpack::encode(p);
    packet::Packet back;
    std::string back_error;
    FUZZ_CHECK(packet::msgpack::decode(once, back, back_error), "msgpack-roundtrip-decode",
               back_error + " on " + fuzz::show(once));
    FUZZ_CHECK(packet::msgpack::encode(back) == once, "msgpack-roundtrip", fuzz::show(once));
    return 0;
}
