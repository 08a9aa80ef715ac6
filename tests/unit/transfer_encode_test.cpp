// transfer_encode_test.cpp: our quoted-printable encoder and the 7-bit test.
#include <gtest/gtest.h>

#include <random>

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

namespace {

// The rule as it read before the byte pass and the masks: line by line,
// each line's bytes, its end, its start.
bool seven_bit_safe_by_lines(std::string_view text) {
    std::size_t pos = 0;
    for (;;) {
        std::size_t nl = text.find('\n', pos);
        std::size_t end = nl == std::string_view::npos ? text.size() : nl;
        if (nl != std::string_view::npos && end > pos && text[end - 1] == '\r') --end;
        std::string_view line = text.substr(pos, end - pos);
        if (line.size() > 76) return false;
        for (char c : line)
            if (static_cast<unsigned char>(c) >= 0x80 || c == '\0' || c == '\r') return false;
        if (!line.empty() && (line.back() == ' ' || line.back() == '\t')) return false;
        if (line.starts_with("From ") || line == ".") return false;
        if (nl == std::string_view::npos) return true;
        pos = nl + 1;
    }
}

}  // namespace

TEST(SevenBitSafe, AgreesWithTheLineByLineRuleWhereverABlockEnds) {
    // Lines of every length around the 76-column limit and the sixteen-byte
    // blocks, each with one of the things that make text unsafe, or none,
    // at its start, its end or inside.
    std::mt19937 rng(56);
    const std::string spoilers[] = {"", " ", "\t", "\r", std::string(1, '\0'), "\xc3\xa9", "From ", ".", "\r\r"};
    int unsafe = 0, safe = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string text;
        const int lines = 1 + static_cast<int>(rng() % 4);
        for (int l = 0; l < lines; ++l) {
            std::string line(rng() % 90, 'a');
            const std::string& spoil = spoilers[rng() % (sizeof spoilers / sizeof spoilers[0])];
            switch (rng() % 3) {
                case 0: line = spoil + line; break;
                case 1: line += spoil; break;
                default: line.insert(line.size() / 2, spoil);
            }
            text += line;
            if (l + 1 < lines || rng() % 2) text += rng() % 2 ? "\r\n" : "\n";
        }
        const bool expected = seven_bit_safe_by_lines(text);
        ASSERT_EQ(seven_bit_safe_text(text), expected) << "round " << round;
        (expected ? safe : unsafe)++;
    }
    EXPECT_GT(safe, 1000);  // both answers were asked for, often
    EXPECT_GT(unsafe, 1000);
    EXPECT_TRUE(seven_bit_safe_text(""));
    EXPECT_FALSE(seven_bit_safe_text("a\r"));  // a CR with no LF after it, at the very end
    EXPECT_FALSE(seven_bit_safe_text(std::string(40, 'a') + "\n.\n"));
    EXPECT_TRUE(seven_bit_safe_text(std::string(76, 'a') + "\r\n" + std::string(76, 'b')));
    EXPECT_FALSE(seven_bit_safe_text(std::string(76, 'a') + "\r\n" + std::string(77, 'b')));
}
