// aes_cbc_base64.cpp: AES-256 with AES-NI (the key schedule and the CBC
// chain), the ciphertext's base64 encoded between its blocks.
#include "aes_cbc_base64.hpp"

#include <openssl/crypto.h>
#include <openssl/provider.h>

#include <algorithm>
#include <cstring>

#include "base64_triples.hpp"
#include "errors.hpp"
#include "mime.hpp"

#if defined(__x86_64__)
#define SEALPOST_STITCHED_AES 1
#include <immintrin.h>
#endif

namespace sealpost {
namespace {

constexpr std::size_t kLine = Base64LineWriter::kLine;  // 57 bytes, 76 characters
constexpr std::size_t kLineChars = 78;                   // with its CRLF
constexpr std::size_t kTriplesPerLine = kLine / 3;
constexpr std::size_t kBlock = 16;
// A piece is 64 lines of ciphertext (228 blocks, 3.6 KB): encrypted into one
// buffer while the piece before is encoded from the other, all in L1.
constexpr std::size_t kPieceLines = 64;
constexpr std::size_t kPiece = kPieceLines * kLine;
static_assert(kPiece % kBlock == 0 && (kPiece / kBlock) % 3 == 0);
// Below this the loop gains little; from it on, the bytes handed back to
// the writer at the end are all ciphertext (what count_whole_lines counts
// relies on it).
constexpr std::size_t kMinPlaintext = 1024;

#if SEALPOST_STITCHED_AES

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("aes"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("aes")
#endif

struct RoundKeys {
    __m128i k[15];
    ~RoundKeys() { OPENSSL_cleanse(k, sizeof k); }
};

// The two halves of an AES-256 key-schedule step (FIPS 197, 5.2):
// `assist` is aeskeygenassist of the other half.
inline __m128i schedule_step(__m128i k, __m128i assist) {
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
    return _mm_xor_si128(k, assist);
}

template <int Rcon>
void schedule_pair(RoundKeys& rk, int i) {
    rk.k[i] = schedule_step(rk.k[i - 2], _mm_shuffle_epi32(_mm_aeskeygenassist_si128(rk.k[i - 1], Rcon), 0xff));
    if (i + 1 < 15)
        rk.k[i + 1] = schedule_step(rk.k[i - 1], _mm_shuffle_epi32(_mm_aeskeygenassist_si128(rk.k[i], 0), 0xaa));
}

void expand_key(const unsigned char* key, RoundKeys& rk) {
    rk.k[0] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key));
    rk.k[1] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key + 16));
    schedule_pair<0x01>(rk, 2);
    schedule_pair<0x02>(rk, 4);
    schedule_pair<0x04>(rk, 6);
    schedule_pair<0x08>(rk, 8);
    schedule_pair<0x10>(rk, 10);
    schedule_pair<0x20>(rk, 12);
    schedule_pair<0x40>(rk, 14);
}

inline __m128i encrypt_block(__m128i x, const RoundKeys& rk) {
    x = _mm_xor_si128(x, rk.k[0]);
    for (int r = 1; r < 14; ++r) x = _mm_aesenc_si128(x, rk.k[r]);
    return _mm_aesenclast_si128(x, rk.k[14]);
}

// Base64 of whole lines, a triple at a time, a CRLF after every 19.
struct LineEncoder {
    const unsigned char* in;
    char* out;
    std::size_t col = 0;  // triples in the current line

    void triple() {
        out = encode_triple(out, in);
        in += 3;
        out[0] = '\r';  // kept only at a line's end; else the next triple overwrites it
        out[1] = '\n';
        if (++col == kTriplesPerLine) {
            out += 2;
            col = 0;
        }
    }
};

// The CBC chain: the IV, then the last ciphertext block.
struct Chain {
    const RoundKeys& keys;
    __m128i last;
};

inline __m128i cbc_block(__m128i last, const RoundKeys& keys, const unsigned char* in, unsigned char* out) {
    last = encrypt_block(_mm_xor_si128(last, _mm_loadu_si128(reinterpret_cast<const __m128i*>(in))), keys);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), last);
    return last;
}

// Encrypts `blocks` blocks from `in` to `out`, and between them encodes
// `lines` lines from `enc`: 5, 5 and 6 triples after each three blocks,
// so that 64 lines go with the 228 blocks of a piece; the rest after. The
// chain stays in a register (through memory, each block would wait on a
// store and a load as well as its rounds).
void encrypt_and_encode(Chain& chain, const unsigned char* in, unsigned char* out, std::size_t blocks,
                        LineEncoder& enc, std::size_t lines) {
    std::size_t triples = lines * kTriplesPerLine;
    __m128i last = chain.last;
    auto encode = [&enc, &triples](std::size_t k) {
        k = std::min(k, triples);
        for (std::size_t t = 0; t < k; ++t) enc.triple();
        triples -= k;
    };
    std::size_t b = 0;
    for (; b + 3 <= blocks; b += 3) {
        last = cbc_block(last, chain.keys, in + b * kBlock, out + b * kBlock);
        encode(5);
        last = cbc_block(last, chain.keys, in + (b + 1) * kBlock, out + (b + 1) * kBlock);
        encode(5);
        last = cbc_block(last, chain.keys, in + (b + 2) * kBlock, out + (b + 2) * kBlock);
        encode(6);
    }
    for (; b < blocks; ++b) last = cbc_block(last, chain.keys, in + b * kBlock, out + b * kBlock);
    encode(triples);
    chain.last = last;
}

// The whole: the writer's unfinished line first, pieces encrypted and the
// one before encoded, the last lines, the rest back to the writer.
std::size_t encrypt_stitched(const unsigned char* key, const unsigned char* iv, std::string_view plaintext,
                             Base64LineWriter& lines, std::string& out) {
    RoundKeys keys;
    expand_key(key, keys);
    Chain chain{keys, _mm_loadu_si128(reinterpret_cast<const __m128i*>(iv))};
    const auto* in = reinterpret_cast<const unsigned char*>(plaintext.data());
    const std::size_t n = plaintext.size();

    // Two buffers, each with a line's room before its piece: `pending`
    // (ciphertext not yet encoded: whole lines, then less than a line) in
    // one, the next piece encrypted into the other.
    alignas(16) unsigned char buffers[2][kLine + kPiece + kBlock];
    char text[kPieceLines * kLineChars + kLineChars];
    std::string_view partial = lines.take_partial_line();  // begins the first line
    out.reserve(out.size() + base64_lines_size(partial.size() + (n / kBlock + 1) * kBlock));
    std::memcpy(buffers[0], partial.data(), partial.size());
    const unsigned char* pending = buffers[0];
    std::size_t pending_size = partial.size();
    std::size_t ciphertext = 0;
    int next = 1;
    for (std::size_t done = 0;;) {
        const std::size_t left = n - done;
        const bool last = left < kPiece;  // the piece that ends with the padding
        const std::size_t blocks = (last ? left : kPiece) / kBlock;
        unsigned char* piece = buffers[next] + kLine;
        LineEncoder enc{pending, text};
        const std::size_t whole = pending_size / kLine;
        encrypt_and_encode(chain, in + done, piece, blocks, enc, whole);
        std::size_t made = blocks * kBlock;
        if (last) {  // PKCS#7: 1 to 16 bytes, each the count
            unsigned char pad[kBlock];
            const std::size_t tail = left - made;
            std::memcpy(pad, in + done + made, tail);
            std::memset(pad + tail, static_cast<int>(kBlock - tail), kBlock - tail);
            chain.last = cbc_block(chain.last, keys, pad, piece + made);
            OPENSSL_cleanse(pad, sizeof pad);  // the content's last bytes
            made += kBlock;
        }
        out.append(text, static_cast<std::size_t>(enc.out - text));
        // Less than a line left over goes just before the new piece.
        const std::size_t rest = pending_size - whole * kLine;
        std::memcpy(piece - rest, pending + whole * kLine, rest);
        pending = piece - rest;
        pending_size = rest + made;
        ciphertext += made;
        next ^= 1;
        if (last) break;
        done += made;
    }
    // The last whole lines, then what is left back to the writer.
    const std::size_t whole = pending_size / kLine;
    LineEncoder enc{pending, text};
    for (std::size_t t = 0; t < whole * kTriplesPerLine; ++t) enc.triple();
    out.append(text, static_cast<std::size_t>(enc.out - text));
    const std::size_t rest = pending_size - whole * kLine;
    lines.count_whole_lines(ciphertext - rest);
    lines.add({reinterpret_cast<const char*>(pending + whole * kLine), rest});
    return ciphertext;
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

bool aes_ni_here() {
    static const bool yes = __builtin_cpu_supports("aes");
    return yes;
}

// Whether EVP's AES-256-CBC would come from OpenSSL's default provider: a
// configuration that loads only the FIPS (or base) provider, without
// "default_properties = fips=yes", must not get an AES of ours either.
bool default_provider_serves_aes() {
    static const bool yes = [] {
        EVP_CIPHER* fetched = EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
        const OSSL_PROVIDER* provider = fetched ? EVP_CIPHER_get0_provider(fetched) : nullptr;
        const bool from_default = provider && std::string_view(OSSL_PROVIDER_get0_name(provider)) == "default";
        EVP_CIPHER_free(fetched);
        return from_default;
    }();
    return yes;
}

#endif  // SEALPOST_STITCHED_AES

}  // namespace

bool aes256_cbc_base64_applies(const EVP_CIPHER* cipher, std::size_t plaintext_size) {
#if SEALPOST_STITCHED_AES
    return cipher && EVP_CIPHER_get_nid(cipher) == NID_aes_256_cbc && plaintext_size >= kMinPlaintext &&
           aes_ni_here() && EVP_default_properties_is_fips_enabled(nullptr) == 0 && default_provider_serves_aes();
#else
    (void)cipher;
    (void)plaintext_size;
    return false;
#endif
}

std::size_t encrypt_aes256_cbc_base64(const unsigned char* key, const unsigned char* iv, std::string_view plaintext,
                                      Base64LineWriter& lines, std::string& out) {
#if SEALPOST_STITCHED_AES
    if (plaintext.size() < kMinPlaintext || !aes_ni_here())
        fail(ErrorKind::Internal, "encrypt: the stitched AES-CBC was chosen where it does not apply");
    return encrypt_stitched(key, iv, plaintext, lines, out);
#else
    (void)key, (void)iv, (void)plaintext, (void)lines, (void)out;
    fail(ErrorKind::Internal, "encrypt: the stitched AES-CBC is not built for this CPU");
#endif
}

}  // namespace sealpost
