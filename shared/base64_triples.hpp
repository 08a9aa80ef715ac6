// base64_triples.hpp: the inner step of every base64 encoder in sealpost,
// three bytes to four characters with two look-ups in a table of character
// pairs (one per 12-bit value, 8 KB, made at compile time). mime.cpp's
// line encoder and the stitched AES-CBC encoder (aes_cbc_base64.cpp) share
// it, so the two cannot write different characters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sealpost {

struct Base64Pairs {
    unsigned char pair[4096][2]{};
    constexpr Base64Pairs() {
        constexpr const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < 4096; ++i) {
            pair[i][0] = static_cast<unsigned char>(abc[i >> 6]);
            pair[i][1] = static_cast<unsigned char>(abc[i & 63]);
        }
    }
};
inline constexpr Base64Pairs kBase64Pairs{};

// Four characters for in[0..2] at o; returns o + 4.
inline char* encode_triple(char* o, const unsigned char* in) {
    std::uint32_t v = (std::uint32_t{in[0]} << 16) | (std::uint32_t{in[1]} << 8) | in[2];
    std::memcpy(o, kBase64Pairs.pair[v >> 12], 2);
    std::memcpy(o + 2, kBase64Pairs.pair[v & 0xfff], 2);
    return o + 4;
}

inline char* encode_triples(char* o, const unsigned char* in, std::size_t triples) {
    for (std::size_t k = 0; k < triples; ++k, in += 3) o = encode_triple(o, in);
    return o;
}

}  // namespace sealpost
