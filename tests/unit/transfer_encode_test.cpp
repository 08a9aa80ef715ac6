// transfer_encode_test.cpp: our quoted-printable encoder and the 7-bit test.
#include <gtest/gtest.h>

#include "transfer_encode.hpp"

using namespace sealpost;

namespace {

// A straightforward QP decoder, independent of the encoder under test.
std::string qp_decode(const std::string& in) {
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '=' && i + 2 < in.size() && in[i + 1] == '\r' && in[i + 2] == '\n') {
            i += 2;
        } else if (in[i] == '=' && i + 2 < in.size()) {
            out += static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += in[i];
        }
    }
    return out;
}

}  // namespace

TEST(QuotedPrintable, EscapesFromLinesTrailingSpaceAndEightBit) {
    std::string text = "From the bank\r\ntrailing  \r\nGr\xc3\xbc\xc3\x9f" "e\r\n.\r\n";
    std::string qp = quoted_printable(text);
    EXPECT_NE(qp.find("=46rom the bank"), std::string::npos) << qp;
    EXPECT_NE(qp.find("trailing =20\r\n"), std::string::npos) << qp;
    EXPECT_NE(qp.find("Gr=C3=BC=C3=9Fe"), std::string::npos) << qp;
    EXPECT_NE(qp.find("\r\n=2E\r\n"), std::string::npos) << qp;
    EXPECT_EQ(qp_decode(qp), text);
}

TEST(QuotedPrintable, KeepsLinesWithin76ColumnsAndRoundTrips) {
    std::string text(300, 'x');
    text += "\r\n" + std::string(100, '=') + "\r\n";
    std::string qp = quoted_printable(text);
    std::size_t start = 0;
    while (start < qp.size()) {
        std::size_t eol = qp.find("\r\n", start);
        if (eol == std::string::npos) eol = qp.size();
        EXPECT_LE(eol - start, 76u);
        start = eol + 2;
    }
    EXPECT_EQ(qp_decode(qp), text);
}

TEST(QuotedPrintable, BareLfBecomesCrlf) {
    EXPECT_EQ(qp_decode(quoted_printable("a\nb\n")), "a\r\nb\r\n");
}

TEST(SevenBitSafe, DetectsWhatRelaysWouldAlter) {
    EXPECT_TRUE(seven_bit_safe_text("plain\r\ntext\r\n"));
    EXPECT_FALSE(seven_bit_safe_text("From me\r\n"));
    EXPECT_FALSE(seven_bit_safe_text("space \r\n"));
    EXPECT_FALSE(seven_bit_safe_text("caf\xc3\xa9\r\n"));
    EXPECT_FALSE(seven_bit_safe_text(std::string(100, 'a')));
}
