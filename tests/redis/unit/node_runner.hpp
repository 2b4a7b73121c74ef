// Runs tests/redis/node_codec.mjs (Node's side of the wire, from the real npm packages) for the codec tests.
#pragma once
#include "sioserver_redis.hpp"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <unistd.h>

namespace redis_test {

inline std::string to_hex(std::string_view bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (char c : bytes) {
        out += digits[uint8_t(c) >> 4];
        out += digits[uint8_t(c) & 15];
    }
    return out;
}
inline std::string from_hex(const std::string& hex) {
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) out += char(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
}

inline std::string script() {
    const char* dir = std::getenv("SIO_REDIS_NODE_CODEC");
    return dir ? dir : "tests/redis/node_codec.mjs";
}

// Runs `node <which> <mode>` with `input` on its stdin; returns its stdout ("" if it could not run).
inline std::string run_node(const std::string& mode, const std::string& input = {},
                            const std::string& which = script()) {
    char path[] = "/tmp/sio_redis_codec_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return {};
    size_t done = 0;
    while (done < input.size()) {
        ssize_t n = ::write(fd, input.data() + done, input.size() - done);
        if (n <= 0) break;
        done += size_t(n);
    }
    ::close(fd);
    const std::string command = "timeout 60 node " + which + " " + mode + " < " + path;
    std::string out;
    if (FILE* p = popen(command.c_str(), "r")) {
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
        pclose(p);
    }
    unlink(path);
    return out;
}

// One JSON object per line, by its "name".
inline std::map<std::string, sio::Value> by_name(const std::string& lines) {
    std::map<std::string, sio::Value> out;
    size_t start = 0;
    while (start < lines.size()) {
        size_t end = lines.find('\n', start);
        if (end == std::string::npos) end = lines.size();
        sio::Value v;
        if (sio::redis::wire::parse_json(std::string_view(lines).substr(start, end - start), v) &&
            v["name"].is_string())
            out[v["name"].as_string()] = v;
        start = end + 1;
    }
    return out;
}

}  // namespace redis_test
