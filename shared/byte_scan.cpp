// byte_scan.cpp: the loops (byte_scan_loops.inc) once per instruction set,
// and the choice among them.
#include "byte_scan.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "byte_masks.hpp"

#if defined(__x86_64__)
#define SEALPOST_SCAN_X86 1
#include <immintrin.h>
#endif

namespace sealpost {
namespace {

inline std::size_t lowest_set(std::uint64_t m) { return static_cast<std::size_t>(__builtin_ctzll(m)); }

namespace portable {
constexpr std::size_t kBlock = kMaskBlock;
inline std::uint64_t mask(const char* p, char c) { return byte_mask_portable(p, c); }
#include "byte_scan_loops.inc"
}  // namespace portable

#if SEALPOST_SCAN_X86
namespace sse2 {
constexpr std::size_t kBlock = kMaskBlock;
inline std::uint64_t mask(const char* p, char c) { return byte_mask(p, c); }
#include "byte_scan_loops.inc"
}  // namespace sse2

// Compiled for AVX2 whatever the build's baseline; run only where the CPU
// has it (avx2_here).
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2")
#endif
namespace avx2 {
constexpr std::size_t kBlock = 32;
inline std::uint64_t mask(const char* p, char c) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(c))));
}
#include "byte_scan_loops.inc"
std::size_t pair(const char* p, std::size_t at, std::size_t n, char a, char b) { return pair_at(p, at, n, a, b); }
std::size_t line_start(const char* p, std::size_t at, std::size_t n, const char* f) {
    return line_start_at(p, at, n, f);
}
}  // namespace avx2
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

bool avx2_here() {
    static const bool yes = __builtin_cpu_supports("avx2");
    return yes;
}
#endif

ByteScan best() {
#if SEALPOST_SCAN_X86
    return avx2_here() ? ByteScan::Avx2 : ByteScan::Sse2;
#else
    return ByteScan::Portable;
#endif
}

// Three bytes: a set of one or two repeats its first.
struct Firsts {
    char bytes[3];
    explicit Firsts(std::string_view f) {
        if (f.empty() || f.size() > 3) throw std::invalid_argument("find_line_start: 1 to 3 first bytes");
        for (std::size_t i = 0; i < 3; ++i) bytes[i] = f[i < f.size() ? i : 0];
    }
};

}  // namespace

bool byte_scan_available(ByteScan how) {
#if SEALPOST_SCAN_X86
    return how != ByteScan::Avx2 || avx2_here();
#else
    return how == ByteScan::Portable;
#endif
}

std::size_t find_pair(ByteScan how, std::string_view text, std::size_t from, char first, char second) {
    const char* p = text.data();
    const std::size_t n = text.size();
    switch (how) {
#if SEALPOST_SCAN_X86
        case ByteScan::Avx2: return avx2::pair(p, from, n, first, second);
        case ByteScan::Sse2: return sse2::pair_at(p, from, n, first, second);
#endif
        default: return portable::pair_at(p, from, n, first, second);
    }
}

std::size_t find_line_start(ByteScan how, std::string_view text, std::size_t from, std::string_view firsts) {
    const Firsts f(firsts);
    const char* p = text.data();
    const std::size_t n = text.size();
    switch (how) {
#if SEALPOST_SCAN_X86
        case ByteScan::Avx2: return avx2::line_start(p, from, n, f.bytes);
        case ByteScan::Sse2: return sse2::line_start_at(p, from, n, f.bytes);
#endif
        default: return portable::line_start_at(p, from, n, f.bytes);
    }
}

std::size_t find_pair(std::string_view text, std::size_t from, char first, char second) {
    static const ByteScan how = best();
    return find_pair(how, text, from, first, second);
}

std::size_t find_line_start(std::string_view text, std::size_t from, std::string_view firsts) {
    static const ByteScan how = best();
    return find_line_start(how, text, from, firsts);
}

}  // namespace sealpost
