// mime_prescan_test.cpp: the lines the pre-scan acts on (a Content-Type
// field, a delimiter) are found after base64 filler of every length up to
// 200 bytes (lines starting with c, C and other letters), with LF and
// CRLF, and as the last line with no line end; a deep nest after a long
// attachment is still refused.
#include <gtest/gtest.h>

#include <string>

#include "mime_prescan.hpp"

using namespace sealpost;

namespace {

// `bytes` of base64-looking text in lines of up to 76, ending with a line end.
std::string filler(std::size_t bytes, const std::string& eol, unsigned seed) {
    static const char kAlphabet[] = "ABCcDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    std::string out;
    for (std::size_t i = 0; i < bytes; ++i) {
        out += kAlphabet[(i * 7 + seed * 13 + i / 5) % (sizeof kAlphabet - 1)];
        if (i % 76 == 75) out += eol;
    }
    return out + eol;
}

std::string nested(std::size_t gap, const std::string& eol, bool last_line_end) {
    return "Content-Type: multipart/mixed; boundary=\"b\"" + eol + eol + filler(gap, eol, 1) + "--b" + eol +
           "Content-Type: multipart/alternative; boundary=c" + eol + eol + filler(gap + 3, eol, 2) + "--c" + eol +
           "content-type: text/plain" + eol + eol + filler(gap + 7, eol, 3) + "--c--" + eol +
           filler(gap + 11, eol, 4) + "--b--" + (last_line_end ? eol : "");
}

}  // namespace

TEST(MimePrescan, FindsEveryFieldAndDelimiterWhereverTheyFall) {
    for (const std::string eol : {"\n", "\r\n"}) {
        for (bool last_line_end : {true, false}) {
            for (std::size_t gap = 0; gap < 200; ++gap) {
                PrescanResult r = prescan_mime(nested(gap, eol, last_line_end), 100, 100);
                ASSERT_EQ(r.max_depth, 2) << "gap " << gap << (eol == "\n" ? " LF" : " CRLF");
                ASSERT_EQ(r.delimiters, 4) << "gap " << gap << (eol == "\n" ? " LF" : " CRLF");
            }
        }
    }
}

TEST(MimePrescan, ADeepNestAfterALongAttachmentIsStillSeen) {
    std::string raw = "Content-Type: multipart/mixed; boundary=a\n\n" + filler(300000, "\n", 5) + "--a\n";
    for (int i = 0; i < 20; ++i) raw += "Content-Type: multipart/mixed; boundary=x" + std::to_string(i) + "\n\n--x" +
                                        std::to_string(i) + "\n";
    PrescanResult r = prescan_mime(raw, 10, 1000);
    EXPECT_GT(r.max_depth, 10);
    EXPECT_TRUE(prescan_problem(raw, 10, 1000).has_value());
}
