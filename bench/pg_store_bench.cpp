// pg_store_bench: the postgres store backend, beside the files backend
// measured in the same process (scripts/bench, section "pg"). Two modes,
// one JSON line each:
//
// --mode lookups --url CONNINFO --files DIR --count N [--sample 2000] [--rounds 10] [--seed 1]
//   Both stores hold r<NNNNNNN>@bench.example for i in [0, N) (bench/gen_store.py
//   makes DIR; `sealpost store migrate` copies it into the database). The same
//   random sample of addresses is looked up in each:
//     <b>_construct_us   the store's constructor (postgres: connect, schema
//                        check, prepare, LISTEN)
//     <b>_cold_us        mean first lookup of an address (postgres: one query)
//     <b>_warm_us        mean repeated lookup of an indexed address
//     <b>_missing_us     mean repeated lookup of an address with no certificate
//   for b in files, pg.
//
// --mode propagation --url CONNINFO --cert FILE [--puts 200]
//   Two store objects, each with its own connections and change listener
//   (two nodes): node B looks a new address up (no certificate: remembered),
//   node A puts a certificate for it, and B looks it up again until it sees
//   it. Prints the time from A's put returning (its commit) to B's first
//   lookup that finds it, p50/p99/max, and the put's own duration.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <random>
#include <thread>

#include <unistd.h>

#include "atomic_file.hpp"
#include "bench_util.hpp"
#include "cert_info.hpp"
#include "cert_store_files.hpp"
#include "cert_store_postgres.hpp"
#include "log.hpp"

using namespace sealpost;

namespace {

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

struct LookupFigures {
    double construct_us = 0, cold_us = 0, warm_us = 0, missing_us = 0;
    long found = 0;
};

template <class MakeStore>
LookupFigures measure(MakeStore make, const std::vector<std::string>& addrs, const std::vector<std::string>& missing,
                      int rounds) {
    LookupFigures f;
    std::time_t now = std::time(nullptr);
    auto t0 = bench::Clock::now();
    auto store = make();
    f.construct_us = bench::seconds_since(t0) * 1e6;
    auto t1 = bench::Clock::now();
    for (const auto& a : addrs) f.found += store->find_for_encryption(a, now).cert != nullptr;
    f.cold_us = bench::seconds_since(t1) * 1e6 / static_cast<double>(addrs.size());
    auto t2 = bench::Clock::now();
    for (int r = 0; r < rounds; ++r)
        for (const auto& a : addrs) f.found += store->find_for_encryption(a, now).cert != nullptr;
    f.warm_us = bench::seconds_since(t2) * 1e6 / (static_cast<double>(addrs.size()) * rounds);
    for (const auto& a : missing) store->find_for_encryption(a, now);  // first time: remembered as none
    auto t3 = bench::Clock::now();
    for (int r = 0; r < rounds; ++r)
        for (const auto& a : missing) store->find_for_encryption(a, now);
    f.missing_us = bench::seconds_since(t3) * 1e6 / (static_cast<double>(missing.size()) * rounds);
    return f;
}

int lookups(const bench::Args& args) {
    PostgresStoreOptions o;
    o.conninfo = args.str("url");
    std::string dir = args.str("files");
    long count = static_cast<long>(args.num("count", 0));
    long sample = std::min(count, static_cast<long>(args.num("sample", 2000)));
    int rounds = static_cast<int>(args.num("rounds", 10));
    if (count <= 0) throw std::runtime_error("--count must be > 0");
    std::mt19937_64 rng(static_cast<std::uint64_t>(args.num("seed", 1)));
    std::uniform_int_distribution<long> pick(0, count - 1);
    std::vector<std::string> addrs, missing;
    char buf[32];
    for (long i = 0; i < sample; ++i) {
        std::snprintf(buf, sizeof buf, "%07ld", pick(rng));
        addrs.push_back(std::string("r") + buf + "@bench.example");
        missing.push_back("nobody" + std::to_string(pick(rng)) + "@bench.example");
    }
    auto files = measure([&] { return std::make_unique<FilesCertStore>(dir); }, addrs, missing, rounds);
    auto pg = measure([&] { return std::make_unique<PostgresCertStore>(o); }, addrs, missing, rounds);
    long want = sample * (rounds + 1);
    if (files.found != want || pg.found != want)
        throw std::runtime_error("lookups found " + std::to_string(files.found) + " (files) and " +
                                 std::to_string(pg.found) + " (postgres) of " + std::to_string(want));
    std::printf("{\"count\": %ld, \"sample\": %ld, \"rounds\": %d", count, sample, rounds);
    for (auto [name, f] : {std::pair{"files", files}, std::pair{"pg", pg}})
        std::printf(", \"%s_construct_us\": %.3f, \"%s_cold_us\": %.3f, \"%s_warm_us\": %.3f, \"%s_missing_us\": %.3f",
                    name, f.construct_us, name, f.cold_us, name, f.warm_us, name, f.missing_us);
    std::printf("}\n");
    return 0;
}

int propagation(const bench::Args& args) {
    PostgresStoreOptions o;
    o.conninfo = args.str("url");
    int puts = static_cast<int>(args.num("puts", 200));
    auto pem = read_file(args.str("cert"));
    if (!pem) throw std::runtime_error("no certificate file " + args.str("cert"));
    auto cert = read_certificate_pem(*pem);
    PostgresCertStore a(o), b(o);
    std::vector<double> seen_ms, put_ms;
    const std::string run = std::to_string(::getpid()) + "-" + std::to_string(std::time(nullptr));
    for (int i = 0; i < puts; ++i) {
        std::string address = "prop" + std::to_string(i) + "-" + run + "@bench.example";
        if (b.get(address)) throw std::runtime_error(address + " is there before the put");
        auto t0 = bench::Clock::now();
        a.put(address, cert.get(), {});
        auto t1 = bench::Clock::now();
        // Node B's next lookups, as its next messages would make them.
        auto deadline = t1 + std::chrono::seconds(5);
        while (!b.get(address)) {
            if (bench::Clock::now() > deadline) throw std::runtime_error("node B never saw " + address);
            std::this_thread::sleep_for(std::chrono::microseconds(20));
        }
        auto t2 = bench::Clock::now();
        put_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        seen_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    }
    std::printf("{\"puts\": %d, \"seen_p50_ms\": %.3f, \"seen_p99_ms\": %.3f, \"seen_max_ms\": %.3f, "
                "\"put_p50_ms\": %.3f, \"put_p99_ms\": %.3f}\n",
                puts, percentile(seen_ms, 0.5), percentile(seen_ms, 0.99),
                *std::max_element(seen_ms.begin(), seen_ms.end()), percentile(put_ms, 0.5),
                percentile(put_ms, 0.99));
    return 0;
}

}  // namespace

int main(int argc, char** argv) try {
    bench::Args args(argc, argv);
    bench::quiet_logging();
    std::string mode = args.str("mode");
    if (mode == "lookups") return lookups(args);
    if (mode == "propagation") return propagation(args);
    throw std::runtime_error("--mode lookups|propagation");
} catch (const std::exception& e) {
    std::fprintf(stderr, "pg_store_bench: %s\n", e.what());
    return 1;
}
