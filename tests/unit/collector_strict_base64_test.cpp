// collector_strict_base64_test.cpp: the webhook's RFC 4648 decoder
// (collector/plugin/strict_base64): what it accepts decodes exactly; what
// RFC 4648 forbids (padding in the middle, only padding, characters outside
// the alphabet, spaces, bad length, non-zero pad bits) is refused with a
// reason, never decoded to something.
#include <gtest/gtest.h>

#include <string>

#include "errors.hpp"
#include "strict_base64.hpp"

namespace sealpost {
namespace {

std::string reason(const std::string& in) {
    try {
        strict_base64_decode(in);
    } catch (const Error& e) {
        return e.what();
    }
    return "(accepted)";
}

TEST(StrictBase64, DecodesTheRfc4648TestVectors) {
    EXPECT_EQ(strict_base64_decode(""), "");
    EXPECT_EQ(strict_base64_decode("Zg=="), "f");
    EXPECT_EQ(strict_base64_decode("Zm8="), "fo");
    EXPECT_EQ(strict_base64_decode("Zm9v"), "foo");
    EXPECT_EQ(strict_base64_decode("Zm9vYg=="), "foob");
    EXPECT_EQ(strict_base64_decode("Zm9vYmE="), "fooba");
    EXPECT_EQ(strict_base64_decode("Zm9vYmFy"), "foobar");
    EXPECT_EQ(strict_base64_decode("+/+/"), "\xfb\xff\xbf");
}

TEST(StrictBase64, SkipsLineBreaksOnly) {
    EXPECT_EQ(strict_base64_decode("Zm9v\r\nYmFy\r\n"), "foobar");
    EXPECT_EQ(strict_base64_decode("Zm\n9vYg=\r\n="), "foob");
    EXPECT_NE(reason("Zm9v YmFy").find("invalid character 0x20 at offset 4"), std::string::npos) << reason("Zm9v YmFy");
    EXPECT_NE(reason("Zm9v\tYmFy").find("invalid character 0x09"), std::string::npos);
}

TEST(StrictBase64, RefusesPaddingAnywhereButTheEnd) {
    EXPECT_NE(reason("QQ==QUJD").find("data after the final padding at offset 4"), std::string::npos) << reason("QQ==QUJD");
    EXPECT_NE(reason("====").find("'=' where data must be at offset 0"), std::string::npos) << reason("====");
    EXPECT_NE(reason("Q===").find("'=' where data must be"), std::string::npos);
    EXPECT_NE(reason("QQ=A").find("data after '='"), std::string::npos);
    EXPECT_NE(reason("Zm9v====").find("'=' where data must be"), std::string::npos);
    EXPECT_NE(reason("QQ==\r\n=").find("data after the final padding"), std::string::npos);
}

TEST(StrictBase64, RefusesOtherAlphabetsBadLengthAndNonZeroPadBits) {
    EXPECT_NE(reason("Zm9-").find("invalid character 0x2d"), std::string::npos);  // base64url
    EXPECT_NE(reason("Zm9_").find("invalid character 0x5f"), std::string::npos);
    EXPECT_NE(reason("Zm9vY").find("length is not a multiple of 4"), std::string::npos);
    EXPECT_NE(reason("Zm9").find("length is not a multiple of 4"), std::string::npos);
    EXPECT_NE(reason("Zh==").find("non-zero bits before the padding at offset 1"), std::string::npos) << reason("Zh==");
    EXPECT_NE(reason("Zm9=").find("non-zero bits before the padding at offset 2"), std::string::npos) << reason("Zm9=");
    EXPECT_NE(reason(std::string("Zm9v\0YmFy", 9)).find("invalid character 0x00"), std::string::npos);
}

}  // namespace
}  // namespace sealpost
