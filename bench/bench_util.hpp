// bench_util.hpp: tiny helpers shared by the bench binaries: argument
// parsing (--key value), a monotonic clock, a quiet log.
#pragma once

#include <chrono>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "log.hpp"

namespace bench {

// The bench binaries print JSON lines; their log says only what went wrong.
inline void quiet_logging() {
    sealpost::LogOptions lo;
    lo.quiet = true;
    sealpost::setup_logging(lo);
}

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Args {
    std::map<std::string, std::string> values;
    Args(int argc, char** argv) {
        for (int i = 1; i < argc; ++i) {
            std::string a = argv[i];
            if (a.rfind("--", 0) != 0 || i + 1 >= argc) throw std::runtime_error("bad argument: " + a);
            values[a.substr(2)] = argv[++i];
        }
    }
    std::string str(const std::string& k, const std::string& def = "") const {
        auto it = values.find(k);
        if (it != values.end()) return it->second;
        if (def.empty()) throw std::runtime_error("missing --" + k);
        return def;
    }
    double num(const std::string& k, double def) const {
        auto it = values.find(k);
        return it == values.end() ? def : std::strtod(it->second.c_str(), nullptr);
    }
    std::vector<long> list(const std::string& k, const std::string& def) const {
        std::vector<long> out;
        std::string s = str(k, def);
        std::size_t p = 0;
        while (p <= s.size()) {
            auto q = s.find(',', p);
            if (q == std::string::npos) q = s.size();
            if (q > p) out.push_back(std::strtol(s.substr(p, q - p).c_str(), nullptr, 10));
            p = q + 1;
        }
        return out;
    }
};

}  // namespace bench
