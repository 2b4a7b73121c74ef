// bench/thread_cost.cpp — what the thread-per-connection model itself costs on this machine, with no Socket.IO in it:
// the price sioserver pays beside an event loop (bench/RESULTS.md's floor column), measured the way the bench measures
// servers (process CPU, user + system).
//   g++ -std=c++17 -O2 -o build/thread_cost bench/thread_cost.cpp -pthread && build/thread_cost [--json] [N] [STACK_KB]
// --json: the three figures as one JSON line (scenario "thread_cost", what bench/run.sh appends to its raw file and
// bench/report.mjs reads) instead of the text.
// 1. start: N threads with STACK_KB stacks (64, as bench/servers/sio_bench.cpp's) each start and sleep in recv() on
//    a loopback TCP connection, as a connection thread does: CPU per thread, from pthread_create to asleep.
// 2. a message: one byte to each sleeping thread, which wakes, answers with one byte and sleeps again, N at a time
//    (the ack scenario's pattern): the echo threads' CPU per message (the client side, this program's main thread,
//    is taken out, as the bench counts the server only).
// 3. end: the connections close; each thread wakes, returns and ends: CPU per thread.
// Loopback only, bounded: every wait has a time limit.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

std::atomic<int> asleep{0}, ended{0};

// `who`: RUSAGE_SELF (the process) or RUSAGE_THREAD (the calling thread: the client side, taken out of phase 2)
double cpu_seconds(int who = RUSAGE_SELF) {
    rusage u{};
    getrusage(who, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void* echo(void* arg) {
    const int fd = int(reinterpret_cast<intptr_t>(arg));
    char c;
    asleep.fetch_add(1);
    while (recv(fd, &c, 1, 0) == 1)
        if (send(fd, &c, 1, MSG_NOSIGNAL) != 1) break;
    close(fd);
    ended.fetch_add(1);
    return nullptr;
}

bool wait_for(const std::atomic<int>& counter, int target, double seconds) {
    const auto limit = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (counter.load() < target) {
        if (std::chrono::steady_clock::now() > limit) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    const bool json = argc > 1 && std::strcmp(argv[1], "--json") == 0;
    if (json) --argc, ++argv;  // (the positional arguments after it, as without it)
    const int n = argc > 1 ? std::atoi(argv[1]) : 2000;
    const size_t stack = size_t(argc > 2 ? std::atoi(argv[2]) : 64) * 1024;
    if (n <= 0 || stack == 0) return std::fprintf(stderr, "usage: thread_cost [--json] [N] [STACK_KB]\n"), 2;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listener, 4096) != 0 ||
        getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        std::perror("listen");
        return 1;
    }
    // The connections first (not measured): each pair is a client end here and a server end for a thread.
    std::vector<int> clients, servers;
    for (int i = 0; i < n; ++i) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            std::perror("connect (raise ulimit -n?)");
            return 1;
        }
        int s = accept(listener, nullptr, nullptr);
        int one = 1;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        clients.push_back(c);
        servers.push_back(s);
    }

    double c0 = cpu_seconds();
    for (int i = 0; i < n; ++i) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, stack);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_t t;
        if (pthread_create(&t, &attr, echo, reinterpret_cast<void*>(intptr_t(servers[size_t(i)]))) != 0) {
            std::fprintf(stderr, "pthread_create failed at %d\n", i);
            return 1;
        }
        pthread_attr_destroy(&attr);
    }
    if (!wait_for(asleep, n, 30)) return std::fprintf(stderr, "the threads did not start\n"), 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the last ones reach recv()
    double c1 = cpu_seconds(), main1 = cpu_seconds(RUSAGE_THREAD);

    const int rounds = 20;
    for (int r = 0; r < rounds; ++r) {
        char c = 'x';
        for (int fd : clients) send(fd, &c, 1, MSG_NOSIGNAL);
        for (int fd : clients)
            if (recv(fd, &c, 1, 0) != 1) return std::fprintf(stderr, "an echo failed\n"), 1;
    }
    double c2 = cpu_seconds(), main2 = cpu_seconds(RUSAGE_THREAD);

    for (int fd : clients) close(fd);
    if (!wait_for(ended, n, 30)) return std::fprintf(stderr, "the threads did not end\n"), 1;
    double c3 = cpu_seconds();

    const double start_us = (c1 - c0) * 1e6 / n;
    const double message_us = ((c2 - c1) - (main2 - main1)) * 1e6 / (double(n) * rounds);
    const double end_us = (c3 - c2) * 1e6 / n;
    if (json) {
        std::printf(
            "{\"scenario\":\"thread_cost\",\"threads\":%d,\"stack_kb\":%zu,\"start_us\":%.2f,"
            "\"message_us\":%.2f,\"end_us\":%.2f}\n",
            n, stack / 1024, start_us, message_us, end_us);
    } else {
        std::printf("thread per connection on this machine (%d threads, %zu KiB stacks), process CPU:\n", n,
                    stack / 1024);
        std::printf("  start a thread and let it sleep in recv():                                  %6.1f us\n",
                    start_us);
        std::printf("  a message in and its answer out (wake, recv, send; the threads' CPU only): %6.1f us\n",
                    message_us);
        std::printf("  end it (its connection closed, it wakes, returns and ends):                 %6.1f us\n", end_us);
    }
    close(listener);
    return 0;
}
