// byte_masks_test.cpp: the mask the scanners use (SSE2 on x86-64) gives the
// same bits as the plain loop other targets use, for every byte value at
// every position; lowest_bit finds each bit.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "byte_masks.hpp"

using namespace sealpost;

TEST(ByteMasks, TheVectorMaskIsThePortableOne) {
    std::mt19937 rng(14);
    std::string buf(kMaskBlock, '\0');
    for (int round = 0; round < 2000; ++round) {
        // Few distinct values, so that every position matches often; then
        // every byte value, high bit included.
        for (char& c : buf) c = static_cast<char>(round < 1000 ? "-c\n\r\x80\xff"[rng() % 6] : rng() % 256);
        for (int v = 0; v < 256; ++v) {
            const char c = static_cast<char>(v);
            ASSERT_EQ(byte_mask(buf.data(), c), byte_mask_portable(buf.data(), c)) << "round " << round << " value " << v;
        }
    }
    EXPECT_EQ(byte_mask_portable("-x-xxxxxxxxxxxx-", '-'), (1u << 0) | (1u << 2) | (1u << 15));
}

TEST(ByteMasks, LowestBitIsEachBit) {
    for (std::size_t i = 0; i < kMaskBlock; ++i) {
        EXPECT_EQ(lowest_bit(1u << i), i);
        EXPECT_EQ(lowest_bit((1u << i) | (1u << (kMaskBlock - 1))), i);
    }
}
