// crash_point.cpp: see crash_point.hpp.
#include "crash_point.hpp"

#include <unistd.h>

#include <atomic>
#include <mutex>

namespace sealpost::crash_point {
namespace {
std::atomic<int> g_left{0};  // hits before the exit; 0: disarmed
std::mutex g_mutex;
std::vector<std::string> g_trail;
}  // namespace

void arm(int n) {
    std::lock_guard lock(g_mutex);
    g_trail.clear();
    g_left.store(n < 0 ? 0 : n);
}

void hit(const char* where) {
    if (g_left.load(std::memory_order_relaxed) == 0) return;
    {
        std::lock_guard lock(g_mutex);
        g_trail.emplace_back(where);
    }
    if (g_left.fetch_sub(1) == 1) ::_exit(kExitCode);
}

std::vector<std::string> trail() {
    std::lock_guard lock(g_mutex);
    return g_trail;
}

}  // namespace sealpost::crash_point
