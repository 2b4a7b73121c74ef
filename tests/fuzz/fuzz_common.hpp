// Shared by the libFuzzer targets in tests/fuzz/: invariant checks and a few small helpers.
//
// FUZZ_CHECK(cond, "id", detail) aborts (a libFuzzer crash, with the input saved) when an invariant does not hold.
// Every check has a short id. A finding that is known and reported can be let through while the header owner fixes
// it, so that a long run explores past it:  SIO_FUZZ_TOLERATE=id1,id2 ./build/fuzz/<target> ...
// A tolerated violation is printed once per id and the run goes on; without the variable every violation aborts.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

namespace fuzz {

inline bool tolerated(const char* id) {
    static const std::string list = [] {
        const char* v = std::getenv("SIO_FUZZ_TOLERATE");
        return v ? "," + std::string(v) + "," : std::string();
    }();
    return list.find("," + std::string(id) + ",") != std::string::npos;
}

// Bytes made printable for a report: \xNN for anything outside printable ASCII, cut after `limit` bytes.
inline std::string show(std::string_view s, size_t limit = 160) {
    std::string out;
    for (size_t i = 0; i < s.size() && i < limit; ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out += char(c);
        } else {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", c);
            out += b;
        }
    }
    if (s.size() > limit) out += "...(" + std::to_string(s.size()) + " bytes)";
    return out;
}

inline void violation(const char* id, const char* file, int line, const char* expr, const std::string& detail) {
    if (tolerated(id)) {
        static std::set<std::string> seen;
        if (seen.insert(id).second)
            std::fprintf(stderr, "[fuzz] tolerated known finding '%s' (%s:%d: %s) %s\n", id, file, line, expr,
                         detail.c_str());
        return;
    }
    std::fprintf(stderr, "\n[fuzz] INVARIANT VIOLATED '%s' at %s:%d\n  check:  %s\n  detail: %s\n", id, file, line,
                 expr, detail.c_str());
    std::fflush(stderr);
    std::abort();
}

}  // namespace fuzz

#define FUZZ_CHECK(cond, id, detail)                                               \
    do {                                                                           \
        if (!(cond)) ::fuzz::violation((id), __FILE__, __LINE__, #cond, (detail)); \
    } while (0)
