// batch_runner.cpp: worker threads, progress line, exit code folding.
#include "batch_runner.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <mutex>
#include <thread>

#include "atomic_file.hpp"
#include "errors.hpp"

namespace sealpost {

int worse_exit_code(int a, int b) {
    static const int order[] = {kExitSoftware, kExitConfig, kExitNoPerm, kExitTempFail,
                                kExitUnavailable, kExitNoInput, kExitDataErr, kExitUsage};
    for (int code : order)
        if (a == code || b == code) return code;
    return a != 0 ? a : b;
}

int run_batch(std::size_t count, int threads, const std::function<int(int, std::size_t)>& job,
              BatchCounters& counters, const char* verb) {
    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    std::mutex result_mutex;
    int result = 0;
    threads = std::max(1, std::min<int>(threads, static_cast<int>(std::max<std::size_t>(count, 1))));

    auto worker = [&](int w) {
        for (;;) {
            if (stop) return;
            std::size_t i = next.fetch_add(1);
            if (i >= count) return;
            int code = job(w, i);
            counters.done++;
            if (code != 0) {
                std::lock_guard lock(result_mutex);
                result = worse_exit_code(result, code);
                if (code == kExitConfig || code == kExitNoPerm || code == kExitSoftware) stop = true;
            }
        }
    };

    bool progress = count > 1 && ::isatty(STDERR_FILENO);
    auto start = std::chrono::steady_clock::now();
    std::atomic<bool> finished{false};
    std::thread reporter;
    if (progress) {
        reporter = std::thread([&] {
            while (!finished) {
                std::this_thread::sleep_for(std::chrono::milliseconds(250));
                double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                long d = counters.done;
                std::fprintf(stderr, "\r%s %ld/%zu  %.1f msg/s  failed %ld   ", verb, d, count,
                             secs > 0 ? static_cast<double>(d) / secs : 0.0, counters.failed.load());
            }
            std::fprintf(stderr, "\r%*s\r", 60, "");
        });
    }
    std::vector<std::thread> pool;
    for (int w = 1; w < threads; ++w) pool.emplace_back(worker, w);
    worker(0);
    for (auto& t : pool) t.join();
    finished = true;
    if (reporter.joinable()) reporter.join();
    return result;
}

}  // namespace sealpost
