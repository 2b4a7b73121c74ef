// A real redis-server for the tests: Debian's binary, in the foreground, on a free loopback port, no persistence,
// started and stopped by PID (restartable on the same port, for the fault tests).
#pragma once
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <sys/stat.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace redis_test {

inline int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
        port = ntohs(a.sin_port);
    ::close(fd);
    return port;
}

class RedisServer {
public:
    explicit RedisServer(int port = free_port(), std::vector<std::string> extra = {})
        : port_(port), extra_(std::move(extra)) {}
    ~RedisServer() {
        stop();
        if (!dir_.empty()) {
            ::unlink((dir_ + "/redis.log").c_str());
            ::rmdir(dir_.c_str());
        }
    }
    int port() const { return port_; }
    bool running() const { return pid_ > 0; }

    // Starts it (its log and working directory in a temp dir) and waits, at most 10 s, for "Ready to accept
    // connections" in its log.
    bool start() {
        if (pid_ > 0) return true;
        if (dir_.empty()) {
            char tmpl[] = "/tmp/sio_redis_test_XXXXXX";
            if (!mkdtemp(tmpl)) return false;
            dir_ = tmpl;
        }
        const std::string log = dir_ + "/redis.log";
        ::unlink(log.c_str());
        pid_ = fork();
        if (pid_ == 0) {
            std::vector<std::string> args = {"redis-server",
                                             "--port",
                                             std::to_string(port_),
                                             "--bind",
                                             "127.0.0.1",
                                             "--save",
                                             "",
                                             "--appendonly",
                                             "no",
                                             "--daemonize",
                                             "no",
                                             "--dir",
                                             dir_,
                                             "--logfile",
                                             log};
            args.insert(args.end(), extra_.begin(), extra_.end());
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            execv("/usr/bin/redis-server", argv.data());
            _exit(127);
        }
        if (pid_ < 0) return false;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            if (read_file(log).find("Ready to accept connections") != std::string::npos) return true;
            int status;
            if (waitpid(pid_, &status, WNOHANG) == pid_) break;  // it died (port taken?)
            pollfd none{-1, 0, 0};
            ::poll(&none, 1, 20);  // the log has no change notification: look again shortly
        }
        std::fprintf(stderr, "redis-server did not start:\n%s\n", read_file(log).c_str());
        stop();
        return false;
    }
    // SIGKILL (a crash) or SIGTERM, then waits for it to end.
    void stop(bool kill = false) {
        if (pid_ > 0) {
            ::kill(pid_, kill ? SIGKILL : SIGTERM);
            int status;
            waitpid(pid_, &status, 0);
            pid_ = -1;
        }
    }

private:
    static std::string read_file(const std::string& path) {
        std::string out;
        if (FILE* f = std::fopen(path.c_str(), "r")) {
            char buf[4096];
            size_t n;
            while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
            std::fclose(f);
        }
        return out;
    }

    int port_;
    std::vector<std::string> extra_;
    pid_t pid_ = -1;
    std::string dir_;
};

}  // namespace redis_test
