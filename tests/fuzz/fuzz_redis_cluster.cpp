// libFuzzer target: what the Streams adapter reads from Redis (sioserver_redis.hpp, section 2g): a pub/sub message,
// a stream entry's fields, a session. Anything may be in Redis (another program, a bug, an attacker with access).
//
// Input: the first byte picks the decoder, the rest is its input:
//   0: decode_pubsub(rest)      a msgpack message
//   1: decode_session(rest)     a session key's value (base64 of msgpack)
//   2: decode_entry(fields)     rest split at NUL bytes into field, value, field, value...
//
// Invariants:
//  - no decoder throws (a bad input is refused: false).
//  - what a decoder accepts has an object (or no) data, and an nsp; a session has a sid, a pid and rooms.
//  - a message or session accepted encodes again, and that decodes again.
#include "sioserver_redis.hpp"

#include "fuzz_common.hpp"

#include <exception>
#include <string>
#include <vector>

namespace cluster = sio::redis::wire::cluster;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    try {
        switch (data[0] % 3) {
        case 0: {
            cluster::Message m;
            if (!cluster::decode_pubsub(rest, m)) return 0;
            FUZZ_CHECK(m.data.is_null() || m.data.is_object(), "pubsub-data", fuzz::show(rest));
            cluster::Message again;
            FUZZ_CHECK(cluster::decode_pubsub(cluster::encode_pubsub(m), again), "pubsub-roundtrip", fuzz::show(rest));
            FUZZ_CHECK(again.type == m.type && again.nsp == m.nsp && again.uid == m.uid, "pubsub-same",
                       fuzz::show(rest));
            return 0;
        }
        case 1: {
            sio::SessionToPersist s;
            if (!cluster::decode_session(rest, s)) return 0;
            sio::SessionToPersist again;
            FUZZ_CHECK(cluster::decode_session(cluster::encode_session(s), again), "session-roundtrip",
                       fuzz::show(rest));
            FUZZ_CHECK(again.sid == s.sid && again.pid == s.pid && again.rooms == s.rooms, "session-same",
                       fuzz::show(rest));
            return 0;
        }
        default: {
            std::vector<std::string> parts{std::string()};
            for (char c : rest) {
                if (c == '\0') parts.emplace_back();
                else parts.back() += c;
            }
            std::vector<std::pair<std::string_view, std::string_view>> fields;
            for (size_t i = 0; i + 1 < parts.size(); i += 2) fields.emplace_back(parts[i], parts[i + 1]);
            cluster::Message m;
            if (!cluster::decode_entry(fields, m)) return 0;
            FUZZ_CHECK(m.data.is_null() || m.data.is_object(), "entry-data", fuzz::show(rest));
            sio::BroadcastOptions opts;
            (void)cluster::decode_opts(m.data["opts"], opts);  // must not throw either
            return 0;
        }
        }
    } catch (const std::exception& e) {
        FUZZ_CHECK(false, "threw", std::string(e.what()) + " on " + fuzz::show(rest));
    }
    return 0;
}
