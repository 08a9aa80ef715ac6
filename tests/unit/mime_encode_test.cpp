// The fast encoders the send path uses (shared/mime.cpp): base64_lines and
// to_crlf must give exactly what the straightforward versions give.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <random>
#include <string>

#include "mime.hpp"

using namespace sealpost;

namespace {

std::string reference_base64_lines(std::string_view bytes) {
    std::string out;
    unsigned char buf[80];
    for (std::size_t off = 0; off < bytes.size(); off += 57) {
        std::size_t n = std::min<std::size_t>(57, bytes.size() - off);
        int len = EVP_EncodeBlock(buf, reinterpret_cast<const unsigned char*>(bytes.data() + off), static_cast<int>(n));
        out.append(reinterpret_cast<char*>(buf), static_cast<std::size_t>(len));
        out += "\r\n";
    }
    return out;
}

std::string reference_crlf(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r') {
            out += "\r\n";
            if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        } else if (text[i] == '\n') {
            out += "\r\n";
        } else {
            out += text[i];
        }
    }
    return out;
}

}  // namespace

TEST(MimeEncode, Base64LinesMatchesOpenSSLAtEveryLength) {
    std::mt19937 rng(7);
    for (std::size_t n = 0; n < 400; ++n) {
        std::string b(n, '\0');
        for (auto& c : b) c = static_cast<char>(rng());
        std::string got = base64_lines(b);
        EXPECT_EQ(got, reference_base64_lines(b)) << "length " << n;
        EXPECT_EQ(got.size(), base64_lines_size(n)) << "length " << n;
    }
    std::string appended = "prefix\r\n";
    append_base64_lines(appended, reinterpret_cast<const unsigned char*>("abcd"), 4);
    EXPECT_EQ(appended, "prefix\r\nYWJjZA==\r\n");
}

TEST(MimeEncode, ToCrlfMatchesTheCharacterLoop) {
    std::mt19937 rng(11);
    const char alphabet[] = {'a', 'b', '\r', '\n'};
    for (int it = 0; it < 50000; ++it) {
        std::string s(rng() % 40, 'a');
        for (auto& c : s) c = alphabet[rng() % 4];
        ASSERT_EQ(to_crlf(s), reference_crlf(s)) << "case " << it;
    }
    EXPECT_EQ(to_crlf("a\r\nb\nc\rd\r"), "a\r\nb\r\nc\r\nd\r\n");
    EXPECT_EQ(to_crlf(""), "");
}
