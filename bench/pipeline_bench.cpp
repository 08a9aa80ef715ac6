// pipeline_bench: SendPipeline::process (parse, re-encode, sign, encrypt,
// serialise) in-process, no I/O, on T threads. For each size and thread
// count prints one JSON line with messages/s (median of --runs timed runs of
// about --seconds each, after one warm-up message per thread).
// Usage: pipeline_bench --keys DIR --store DIR --from ADDR --to ADDR
//        [--sizes 2048,10240,102400,1048576] [--threads 1,2] [--seconds 1] [--runs 3]
//        [--sign opaque|detached|none] [--encrypt auto|always|never]
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "bench_util.hpp"
#include "cert_store_files.hpp"
#include "send_pipeline.hpp"

using namespace sealpost;

namespace {

std::string make_message(const std::string& from, const std::string& to, long size) {
    std::string m = "From: Bench <" + from + ">\r\nTo: <" + to + ">\r\nSubject: statement\r\n"
                    "Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <bench@example.com>\r\n"
                    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
                    "Content-Transfer-Encoding: 7bit\r\n\r\n";
    static const char* line = "Statement line, amounts and dates: 0123456789 ABCDEFGHIJ abcdefghij";
    long i = 0;
    while (static_cast<long>(m.size()) < size) m += std::string(line) + " " + std::to_string(i++ % 1000) + "\r\n";
    return m;
}

}  // namespace

int main(int argc, char** argv) try {
    bench::Args args(argc, argv);
    bench::quiet_logging();
    FilesCertStore store(args.str("store"));
    IdentityStore identities(args.str("keys"));
    SendOptions so;
    so.sign = parse_sign_mode(args.str("sign", "opaque"));
    so.encrypt = parse_encrypt_mode(args.str("encrypt", "always"));
    so.limits.max_bytes = 64u << 20;
    SendPipeline pipeline(so, &store, &identities);
    std::string from = args.str("from"), to = args.str("to");
    double seconds = args.num("seconds", 1.0);
    int runs = static_cast<int>(args.num("runs", 3));
    for (long size : args.list("sizes", "2048,10240,102400,1048576")) {
        std::string msg = make_message(from, to, size);
        for (long threads : args.list("threads", "1,2")) {
            std::vector<double> rates;
            std::size_t out_bytes = 0;
            for (int run = -1; run < runs; ++run) {
                std::atomic<long> done{0};
                std::atomic<bool> stop{false};
                std::vector<std::thread> pool;
                auto t0 = bench::Clock::now();
                for (long t = 0; t < threads; ++t)
                    pool.emplace_back([&] {
                        std::time_t now = std::time(nullptr);
                        do {
                            Trace trace("bench");
                            auto copies = pipeline.process(msg, trace, now);
                            if (copies.empty() || !copies.front().encrypted) throw std::runtime_error("not encrypted");
                            out_bytes = copies.front().message.size();
                            done.fetch_add(1);
                        } while (!stop.load());
                    });
                // Warm-up run: one message per thread (loads the identity and certificate).
                double limit = run < 0 ? 0 : seconds;
                while (bench::seconds_since(t0) < limit) std::this_thread::sleep_for(std::chrono::milliseconds(2));
                stop = true;
                for (auto& th : pool) th.join();
                double dt = bench::seconds_since(t0);
                if (run >= 0) rates.push_back(static_cast<double>(done.load()) / dt);
            }
            std::sort(rates.begin(), rates.end());
            double median = rates[rates.size() / 2];
            if (rates.size() % 2 == 0) median = (rates[rates.size() / 2 - 1] + rates[rates.size() / 2]) / 2;
            std::printf("{\"size\": %ld, \"threads\": %ld, \"msgs_per_s\": %.2f, \"min\": %.2f, \"max\": %.2f, "
                        "\"runs\": %zu, \"out_bytes\": %zu}\n",
                        size, threads, median, rates.front(), rates.back(), rates.size(), out_bytes);
            std::fflush(stdout);
        }
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "pipeline_bench: %s\n", e.what());
    return 1;
}
