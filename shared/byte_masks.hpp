// byte_masks.hpp: sixteen bytes at a time, one bit per byte that equals a
// given value (bit i for p[i]). The MIME scanners look for a few byte
// patterns ("--", a line starting with '-' or 'c') over every byte of every
// message; a memchr per hit costs more than the bytes it skips when the hits
// are dense (dates in a statement's text have two dashes a line), and a mask
// of sixteen costs the same whatever the text. SSE2 where the target has it
// (every x86-64), the same bits from a plain loop elsewhere; tests compare
// the two (byte_masks_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sealpost {

constexpr std::size_t kMaskBlock = 16;

// Bit i set when p[i] == c, for i < 16; reads exactly p[0..15].
inline std::uint32_t byte_mask_portable(const char* p, char c) {
    std::uint32_t m = 0;
    for (std::size_t i = 0; i < kMaskBlock; ++i) m |= static_cast<std::uint32_t>(p[i] == c) << i;
    return m;
}

inline std::uint32_t byte_mask(const char* p, char c) {
#if defined(__SSE2__)
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c))));
#else
    return byte_mask_portable(p, c);
#endif
}

// The index of the lowest set bit of a non-zero mask.
inline std::size_t lowest_bit(std::uint32_t m) { return static_cast<std::size_t>(__builtin_ctz(m)); }

}  // namespace sealpost
