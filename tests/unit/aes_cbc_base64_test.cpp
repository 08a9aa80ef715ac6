// aes_cbc_base64_test.cpp: the stitched AES-256-CBC writes, byte for byte,
// the base64 lines that EVP's AES-256-CBC and Base64LineWriter write, from
// every column a line can be at, across piece ends and padding lengths; it
// applies only where it should (not under FIPS).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include <random>
#include <string>

#include "aes_cbc_base64.hpp"
#include "base64_writer.hpp"

using namespace sealpost;

namespace {

std::string evp_ciphertext(const unsigned char* key, const unsigned char* iv, std::string_view plaintext) {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    std::string out(plaintext.size() + 32, '\0');
    int n = 0, tail = 0;
    EXPECT_EQ(EVP_EncryptInit_ex2(ctx, EVP_aes_256_cbc(), key, iv, nullptr), 1);
    EXPECT_EQ(EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &n,
                                reinterpret_cast<const unsigned char*>(plaintext.data()), static_cast<int>(plaintext.size())),
              1);
    EXPECT_EQ(EVP_EncryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + n, &tail), 1);
    EVP_CIPHER_CTX_free(ctx);
    out.resize(static_cast<std::size_t>(n + tail));
    return out;
}

struct Written {
    std::string text;
    std::size_t bytes_in = 0;
};

// head, the ciphertext of `plaintext`, tail: through the writer, the
// ciphertext made by EVP (stitched = false) or by the stitched loop.
Written write(bool stitched, const unsigned char* key, const unsigned char* iv, std::string_view head,
              std::string_view plaintext, std::string_view tail) {
    Written w;
    Base64LineWriter lines(w.text);
    lines.add(head);
    if (stitched) {
        EXPECT_EQ(encrypt_aes256_cbc_base64(key, iv, plaintext, lines, w.text), (plaintext.size() / 16 + 1) * 16);
    } else {
        lines.add(evp_ciphertext(key, iv, plaintext));
    }
    lines.add(tail);
    lines.finish();
    w.bytes_in = lines.bytes_in();
    return w;
}

bool stitched_here() { return aes256_cbc_base64_applies(EVP_aes_256_cbc(), 1 << 20); }

}  // namespace

TEST(AesCbcBase64, WritesWhatEvpAndTheLineWriterWrite) {
    if (!stitched_here()) GTEST_SKIP() << "no AES-NI here (or FIPS): EVP encrypts";
    std::mt19937 rng(27112026);
    constexpr std::size_t kPiece = 64 * 57;
    // Piece ends, block ends and the shortest length it takes.
    std::vector<std::size_t> sizes = {1024, 1025, 1039, 1040, kPiece - 16, kPiece - 1, kPiece, kPiece + 1, kPiece + 15,
                                      kPiece + 16, 2 * kPiece - 1, 2 * kPiece, 2 * kPiece + 1, 3 * kPiece + 7};
    for (int i = 0; i < 40; ++i) sizes.push_back(1024 + rng() % 60000);
    int compared = 0;
    for (std::size_t size : sizes) {
        std::string plaintext(size, '\0');
        for (char& c : plaintext) c = static_cast<char>(rng());
        unsigned char key[32], iv[16];
        ASSERT_EQ(RAND_bytes(key, sizeof key), 1);
        ASSERT_EQ(RAND_bytes(iv, sizeof iv), 1);
        // The head leaves the writer at every column of a line in turn.
        for (std::size_t head_size : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{56},
                                      std::size_t{57}, std::size_t{58}, std::size_t{rng() % 200}}) {
            std::string head(head_size, '\0'), tail(rng() % 100, '\0');
            for (char& c : head) c = static_cast<char>(rng());
            for (char& c : tail) c = static_cast<char>(rng());
            Written want = write(false, key, iv, head, plaintext, tail);
            Written got = write(true, key, iv, head, plaintext, tail);
            ASSERT_EQ(got.text.size(), want.text.size()) << size << " bytes after a head of " << head_size;
            ASSERT_TRUE(got.text == want.text) << size << " bytes after a head of " << head_size << ": differs at "
                                               << std::mismatch(got.text.begin(), got.text.end(), want.text.begin())
                                                          .first -
                                                      got.text.begin();
            EXPECT_EQ(got.bytes_in, want.bytes_in);
            ++compared;
        }
    }
    EXPECT_EQ(compared, static_cast<int>(sizes.size()) * 8);
}

TEST(AesCbcBase64, AppliesToLongAes256CbcContentOnly) {
    if (!stitched_here()) GTEST_SKIP() << "no AES-NI here (or FIPS): EVP encrypts";
    EXPECT_TRUE(aes256_cbc_base64_applies(EVP_aes_256_cbc(), 1024));
    EXPECT_FALSE(aes256_cbc_base64_applies(EVP_aes_256_cbc(), 1023)) << "short content: EVP";
    EXPECT_FALSE(aes256_cbc_base64_applies(EVP_aes_128_cbc(), 1 << 20));
    EXPECT_FALSE(aes256_cbc_base64_applies(EVP_aes_256_gcm(), 1 << 20));
    EXPECT_FALSE(aes256_cbc_base64_applies(nullptr, 1 << 20));
    // A machine whose OpenSSL asks for FIPS gets the provider's AES.
    ASSERT_EQ(EVP_default_properties_enable_fips(nullptr, 1), 1);
    const bool under_fips = aes256_cbc_base64_applies(EVP_aes_256_cbc(), 1 << 20);
    ASSERT_EQ(EVP_default_properties_enable_fips(nullptr, 0), 1);
    EXPECT_FALSE(under_fips);
    EXPECT_TRUE(aes256_cbc_base64_applies(EVP_aes_256_cbc(), 1 << 20));
}

// OpenSSL configured with providers that are not the default one (here
// only "base", as a FIPS-only configuration would load "fips" and "base")
// gets no AES of ours, "fips=yes" or not: in a fresh process, since the
// answer is kept for the process's life.
TEST(AesCbcBase64, IsNotUsedWhenTheDefaultProviderIsNotLoaded) {
    // Nothing may fetch before the child loads its provider (the re-run
    // child runs this body from the top).
    if (!__builtin_cpu_supports("aes")) GTEST_SKIP() << "no AES-NI here: EVP encrypts";
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            if (!OSSL_PROVIDER_load(nullptr, "base")) std::_Exit(3);
            std::_Exit(aes256_cbc_base64_applies(EVP_aes_256_cbc(), 1 << 20) ? 1 : 0);
        },
        ::testing::ExitedWithCode(0), "");
}
