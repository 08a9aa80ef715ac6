// byte_scan_test.cpp: find_pair and find_line_start, by every
// implementation this machine can run (a plain loop, SSE2, AVX2), against
// a byte-by-byte reading of their contracts, on random text where the
// bytes looked for are dense, sparse or absent, at every offset from a
// block's edges and the text's end.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "byte_scan.hpp"

using namespace sealpost;

namespace {

std::size_t pair_by_bytes(std::string_view t, std::size_t from, char a, char b) {
    for (std::size_t i = from; i + 1 < t.size(); ++i)
        if (t[i] == a && t[i + 1] == b) return i;
    return t.size();
}

std::size_t line_start_by_bytes(std::string_view t, std::size_t from, std::string_view firsts) {
    for (std::size_t i = from; i < t.size(); ++i)
        if ((i == from || t[i - 1] == '\n') && firsts.find(t[i]) != std::string_view::npos) return i;
    return t.size();
}

const ByteScan kAll[] = {ByteScan::Portable, ByteScan::Sse2, ByteScan::Avx2};

}  // namespace

TEST(ByteScan, EveryImplementationFindsWhatTheBytesSay) {
    std::mt19937 rng(27);
    int ran = 0, found = 0;
    for (ByteScan how : kAll) {
        if (!byte_scan_available(how)) continue;
        ++ran;
        for (int round = 0; round < 3000; ++round) {
            // From "--\n--" dense to a lone hit in 200 bytes of base64-like text.
            const char* alphabets[] = {"-\nc", "ab-\ncC", "QUFBcC09+/\n", "QUFBcC09+/"};
            const std::string alphabet = alphabets[round % 4];
            std::string text(rng() % 200, 'x');
            for (char& ch : text) ch = rng() % 8 ? alphabet[rng() % alphabet.size()] : 'Q';
            if (round % 5 == 0 && !text.empty()) text[rng() % text.size()] = '-';
            for (std::size_t from = 0; from <= text.size(); from += 1 + rng() % 7) {
                const std::size_t want = pair_by_bytes(text, from, '-', '-');
                ASSERT_EQ(find_pair(how, text, from, '-', '-'), want) << "round " << round << " from " << from;
                found += want != text.size();
                if (from != 0 && text[from - 1] != '\n') continue;  // find_line_start starts at a line start
                ASSERT_EQ(find_line_start(how, text, from, "-cC"), line_start_by_bytes(text, from, "-cC"))
                    << "round " << round << " from " << from;
                ASSERT_EQ(find_line_start(how, text, from, "c"), line_start_by_bytes(text, from, "c"));
            }
        }
    }
    EXPECT_GE(ran, 1);
    EXPECT_GT(found, 1000);  // hits and misses both
    // The default choice is one of them.
    EXPECT_EQ(find_pair("ab--", 0, '-', '-'), 2u);
    EXPECT_EQ(find_line_start("ab\ncd\n-x", 0, "-"), 6u);
    EXPECT_THROW(find_line_start("x", 0, ""), std::invalid_argument);
}
