// store_lookup_bench: CertStore at scale. The store holds <prefix><i>@<domain>.crt
// for i in [0, count) (bench/gen_store.py makes it). Prints one JSON line:
//   construct_us      CertStore constructor (what a process pays at start-up)
//   first_lookup_us   the first find_for_encryption after construction
//   cold_us           mean first-touch lookup of a random address (stat + read + parse)
//   warm_us           mean repeated lookup of already-indexed random addresses (stat + index)
//   missing_us        mean lookup of an address with no certificate (one failed stat)
//   stat_us           mean bare ::stat() of the same addresses' files (the floor; reference)
//   list_s            addresses() (what `certs list` reads), when --list 1
// Usage: store_lookup_bench --store DIR --count N [--prefix r] [--domain bench.example]
//        [--sample 20000] [--rounds 20] [--list 0|1] [--seed 1]
#include <sys/stat.h>

#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <random>

#include "bench_util.hpp"
#include "cert_store_files.hpp"
#include "log.hpp"

using namespace sealpost;

int main(int argc, char** argv) try {
    bench::Args args(argc, argv);
    std::string dir = args.str("store");
    long count = static_cast<long>(args.num("count", 0));
    std::string prefix = args.str("prefix", "r"), domain = args.str("domain", "bench.example");
    long sample = static_cast<long>(args.num("sample", 20000));
    int rounds = static_cast<int>(args.num("rounds", 20));
    bool list = args.num("list", 0) != 0;
    if (count <= 0) throw std::runtime_error("--count must be > 0");
    if (sample > count) sample = count;
    bench::quiet_logging();

    auto addr = [&](long i) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%07ld", i);
        return prefix + buf + "@" + domain;
    };
    std::mt19937_64 rng(static_cast<std::uint64_t>(args.num("seed", 1)));
    std::uniform_int_distribution<long> pick(0, count - 1);
    std::vector<std::string> addrs;
    addrs.reserve(static_cast<std::size_t>(sample));
    for (long i = 0; i < sample; ++i) addrs.push_back(addr(pick(rng)));
    std::time_t now = std::time(nullptr);

    auto t0 = bench::Clock::now();
    FilesCertStore store(dir);
    double construct = bench::seconds_since(t0);
    auto t1 = bench::Clock::now();
    auto first = store.find_for_encryption(addrs.front(), now);
    double first_lookup = bench::seconds_since(t1);
    if (!first.cert) throw std::runtime_error("no usable certificate for " + addrs.front() + ": " + first.reason);

    long found = 0;
    auto t2 = bench::Clock::now();
    for (const auto& a : addrs) found += store.find_for_encryption(a, now).cert != nullptr;
    double cold = bench::seconds_since(t2) / static_cast<double>(addrs.size());

    auto t3 = bench::Clock::now();
    for (int r = 0; r < rounds; ++r)
        for (const auto& a : addrs) found += store.find_for_encryption(a, now).cert != nullptr;
    double warm = bench::seconds_since(t3) / (static_cast<double>(addrs.size()) * rounds);

    std::vector<std::string> missing;
    for (long i = 0; i < sample; ++i) missing.push_back("nobody" + std::to_string(pick(rng)) + "@" + domain);
    long missed = 0;
    auto t4 = bench::Clock::now();
    for (const auto& a : missing) missed += store.find_for_encryption(a, now).cert == nullptr;
    double miss = bench::seconds_since(t4) / static_cast<double>(missing.size());

    std::vector<std::string> paths;
    for (const auto& a : addrs) paths.push_back(dir + "/" + a + ".crt");
    long stat_ok = 0;
    auto t6 = bench::Clock::now();
    for (int r = 0; r < rounds; ++r)
        for (const auto& p : paths) {
            struct stat st {};
            stat_ok += ::stat(p.c_str(), &st) == 0;
        }
    double stat_us = bench::seconds_since(t6) / (static_cast<double>(paths.size()) * rounds);
    if (stat_ok != static_cast<long>(paths.size()) * rounds) throw std::runtime_error("stat failed");

    double list_s = -1;
    std::size_t listed = 0;
    if (list) {
        auto t5 = bench::Clock::now();
        listed = store.addresses().size();
        list_s = bench::seconds_since(t5);
    }
    std::printf("{\"count\": %ld, \"sample\": %ld, \"found\": %ld, \"missed\": %ld, \"construct_us\": %.3f, "
                "\"first_lookup_us\": %.3f, \"cold_us\": %.3f, \"warm_us\": %.3f, \"missing_us\": %.3f, "
                "\"stat_us\": %.3f, \"list_s\": %.3f, \"listed\": %zu}\n",
                count, sample, found, missed, construct * 1e6, first_lookup * 1e6, cold * 1e6, warm * 1e6,
                miss * 1e6, stat_us * 1e6, list_s, listed);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "store_lookup_bench: %s\n", e.what());
    return 1;
}
