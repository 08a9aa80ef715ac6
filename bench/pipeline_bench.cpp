// pipeline_bench: SendPipeline::process (parse, re-encode, sign, encrypt,
// serialise) in-process, no I/O, on T threads. For each size and thread
// count prints one JSON line with messages/s (median of --runs timed runs of
// about --seconds each, after one warm-up message per thread).
// Usage: pipeline_bench --keys DIR --store DIR --from ADDR --to ADDR
//        [--sizes 2048,10240,102400,1048576 | --files A.eml,B.eml] [--threads 1,2]
//        [--seconds 1] [--runs 3] [--sign opaque|detached|none] [--encrypt auto|always|never]
//        --sizes: generated one-part text messages; --files: these messages
//        (each line then names its "file"; "size" is the file's size).
//        pipeline_bench --base64 BYTES [--seconds 1]: base64 encoders' rates on
//        a buffer of BYTES random bytes, in input bytes per CPU second, one JSON line: OpenSSL's
//        EVP_EncodeBlock on the whole buffer and sealpost's base64_lines (the
//        encoder the pipeline uses, CRLF every 76 columns); both for the limit.
#include <openssl/evp.h>
#include <sys/resource.h>
#include <time.h>
#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
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

// User + system CPU seconds of the whole process so far.
double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::string read_whole(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot read " + path);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Input bytes per CPU second of `encode` over `buf`, repeated for about
// `seconds` of CPU time: per CPU second like `openssl speed`, so the limit's
// components are measured alike and other load on the machine does not skew it.
template <class F>
double rate(const std::string& buf, double seconds, F encode) {
    encode();  // warm-up: pages touched once
    long n = 0;
    double c0 = thread_cpu_seconds();
    do {
        encode();
        ++n;
    } while (thread_cpu_seconds() - c0 < seconds);
    return static_cast<double>(buf.size()) * static_cast<double>(n) / (thread_cpu_seconds() - c0);
}

int base64_rates(const bench::Args& args) {
    std::size_t size = static_cast<std::size_t>(args.num("base64", 4 << 20));
    double seconds = args.num("seconds", 1.0);
    std::string buf(size, '\0');
    RAND_bytes(reinterpret_cast<unsigned char*>(buf.data()), static_cast<int>(size));
    std::vector<unsigned char> out(size / 3 * 4 + 8);
    volatile std::size_t sink = 0;
    double evp = rate(buf, seconds, [&] {
        sink = sink + static_cast<std::size_t>(EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(buf.data()),
                                                              static_cast<int>(buf.size())));
    });
    double ours = rate(buf, seconds, [&] { sink = sink + base64_lines(buf).size(); });
    std::printf("{\"base64_bytes\": %zu, \"evp_encodeblock_Bps\": %.0f, \"sealpost_base64_lines_Bps\": %.0f}\n",
                size, evp, ours);
    return 0;
}

}  // namespace

int main(int argc, char** argv) try {
    bench::Args args(argc, argv);
    if (args.values.count("base64")) return base64_rates(args);
    bench::quiet_logging();
    FilesCertStore store(args.str("store"));
    IdentityStore identities(args.str("keys"));
    SendOptions so;
    so.sign = parse_sign_mode(args.str("sign", "opaque"));
    so.encrypt = parse_encrypt_mode(args.str("encrypt", "always"));
    so.limits.max_bytes = 64u << 20;
    SendPipeline pipeline(so, &store, &identities);
    keep_message_buffers(so.limits.max_bytes);  // as `sealpost send` does
    std::string from = args.str("from"), to = args.str("to");
    double seconds = args.num("seconds", 1.0);
    int runs = static_cast<int>(args.num("runs", 3));
    // The messages: generated (--sizes) or read (--files).
    std::vector<std::pair<std::string, std::string>> inputs;  // file ("" when generated), bytes
    if (args.values.count("files")) {
        std::string list = args.str("files");
        std::size_t p = 0;
        while (p <= list.size()) {
            auto q = list.find(',', p);
            if (q == std::string::npos) q = list.size();
            if (q > p) inputs.emplace_back(list.substr(p, q - p), read_whole(list.substr(p, q - p)));
            p = q + 1;
        }
    } else {
        for (long size : args.list("sizes", "2048,10240,102400,1048576"))
            inputs.emplace_back(std::to_string(size), make_message(from, to, size));
    }
    for (const auto& [name, msg] : inputs) {
        long size = args.values.count("files") ? static_cast<long>(msg.size()) : std::stol(name);
        for (long threads : args.list("threads", "1,2")) {
            std::vector<double> rates, cpu_per_msg;
            std::size_t out_bytes = 0;
            for (int run = -1; run < runs; ++run) {
                std::atomic<long> done{0};
                std::atomic<bool> stop{false};
                std::vector<std::thread> pool;
                auto t0 = bench::Clock::now();
                double c0 = cpu_seconds();
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
                if (run >= 0) {
                    rates.push_back(static_cast<double>(done.load()) / dt);
                    cpu_per_msg.push_back((cpu_seconds() - c0) / static_cast<double>(std::max(1L, done.load())));
                }
            }
            std::sort(cpu_per_msg.begin(), cpu_per_msg.end());
            double cpu_median = cpu_per_msg[cpu_per_msg.size() / 2];
            std::sort(rates.begin(), rates.end());
            double median = rates[rates.size() / 2];
            if (rates.size() % 2 == 0) median = (rates[rates.size() / 2 - 1] + rates[rates.size() / 2]) / 2;
            std::printf("{\"file\": \"%s\", \"size\": %ld, \"threads\": %ld, \"msgs_per_s\": %.2f, \"min\": %.2f, "
                        "\"max\": %.2f, \"runs\": %zu, \"out_bytes\": %zu, \"cpu_s_per_msg\": %.7f}\n",
                        args.values.count("files") ? name.c_str() : "", size, threads, median, rates.front(),
                        rates.back(), rates.size(), out_bytes, cpu_median);
            std::fflush(stdout);
        }
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "pipeline_bench: %s\n", e.what());
    return 1;
}
