// entity_splice_test.cpp: write_entity_crlf is, byte for byte, what
// GMime's writer (write_crlf) makes of the same parsed tree, whatever the
// message; and the tree is the same after it as before.
// SEALPOST_SPLICE_CORPUS=<dir> adds every file in that directory (e.g. the
// fuzzers' corpora in build/fuzz/corpus-*): run by hand over many inputs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>

#include "corpus_files.hpp"
#include "entity_splice.hpp"
#include "mime.hpp"
#include "prepared_message.hpp"
#include "transfer_encode.hpp"

using namespace sealpost;

namespace {

// Parses `raw` as prepare_message does and compares both writers (twice:
// the second write shows the tree was put back). Returns false when the
// message does not parse.
bool same_as_gmime(const std::string& raw, const std::string& label, bool reencode = true) {
    GObjectPtr<GMimeMessage> msg;
    try {
        msg = parse_message(raw);
    } catch (const std::exception&) {
        return false;
    }
    GMimeObject* root = g_mime_message_get_mime_part(msg.get());
    if (reencode) make_seven_bit_safe(root);
    const std::string expected = write_crlf(root, raw.size());
    for (int round = 0; round < 2; ++round) {
        const std::string spliced = write_entity_crlf(root, raw.size());
        if (spliced == expected) continue;
        std::size_t at = 0;
        while (at < spliced.size() && at < expected.size() && spliced[at] == expected[at]) ++at;
        auto around = [&](const std::string& s) {
            std::size_t from = at < 40 ? 0 : at - 40;
            return ::testing::PrintToString(s.substr(from, 80));
        };
        ADD_FAILURE() << label << " (round " << round << "): differs at byte " << at
                      << "\n  splice: " << around(spliced) << "\n  gmime:  " << around(expected);
        return true;
    }
    return true;
}

std::string pdf_base64(std::size_t lines) {
    std::string out;
    for (std::size_t i = 0; i < lines; ++i)
        out += "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZURlY29k\r\n";
    return out;
}

std::string lf(std::string s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i)
        if (!(s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n')) out += s[i];
    return out;
}

const std::string kStatement =
    "From: Bank <statements@bank.example>\r\n"
    "To: Alice <alice@example.com>\r\n"
    "Subject: Your statement\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed;\r\n"
    "\tboundary=\"outer-b\"\r\n"
    "\r\n"
    "This is a multi-part message in MIME format.\r\n"
    "--outer-b\r\n"
    "Content-Type: multipart/alternative; boundary=\"alt-b\"\r\n"
    "\r\n"
    "--alt-b\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "Content-Transfer-Encoding: 7bit\r\n"
    "\r\n"
    "Dear Alice,\r\n"
    "your statement is attached.\r\n"
    "--alt-b\r\n"
    "Content-Type: text/html; charset=us-ascii\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "<html><body><p style=3D\"x\">Dear Alice,</p></body></html>\r\n"
    "--alt-b--\r\n"
    "\r\n"
    "--outer-b\r\n"
    "Content-Type: application/pdf; name=\"statement.pdf\"\r\n"
    "Content-Disposition: attachment; filename=\"statement.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    + pdf_base64(200) +
    "--outer-b--\r\n"
    "epilogue\r\n";

}  // namespace

TEST(EntitySplice, StatementIsWhatGMimeWrites) {
    EXPECT_TRUE(same_as_gmime(kStatement, "statement, CRLF"));
    EXPECT_TRUE(same_as_gmime(lf(kStatement), "statement, LF"));
    auto pm = prepare_message(lf(kStatement));
    EXPECT_EQ(pm.reencoded_parts, 0);
    EXPECT_EQ(pm.entity.rfind("Content-Type: multipart/mixed;\r\n\tboundary=\"outer-b\"\r\n\r\nThis is", 0), 0u);
    EXPECT_NE(pm.entity.find(pdf_base64(200) + "--outer-b--\r\nepilogue\r\n"), std::string::npos);
    EXPECT_EQ(pm.entity.find("Subject"), std::string::npos);
    EXPECT_EQ(pm.entity.find("sealpost-slot"), std::string::npos);
}

TEST(EntitySplice, ShapesAreWhatGMimeWrites) {
    const std::string text(3000, 'x');
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"text", "From: a@x\nTo: b@y\nContent-Type: text/plain\n\nhello\n" + text + "\nworld\n"},
        {"no final newline", "From: a@x\nContent-Type: application/octet-stream\n\n" + text},
        {"final CR", "From: a@x\nContent-Type: application/octet-stream\n\n" + text + "\r"},
        {"lone CRs", "From: a@x\nContent-Type: application/octet-stream\n\na\rb\r\r\n" + text + "\n"},
        {"empty body", "From: a@x\nContent-Type: text/plain\n\n"},
        {"8-bit text, re-encoded", "From: a@x\nContent-Type: text/plain; charset=utf-8\n\ncaf\xc3\xa9 " + text + "\n"},
        {"no end boundary", "From: a@x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n" +
                                text + "\n"},
        {"truncated part headers", "From: a@x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n"
                                   "Content-Tr" + text},
        {"control characters in part headers",
         "From: a@x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent\x01\x02ype: text/plain\n\n" + text +
             "\n--b--\n"},
        {"preamble and epilogue", "From: a@x\nContent-Type: multipart/mixed; boundary=b\n\npre\n--b\n"
                                  "Content-Type: text/plain\n\n" + text + "\n--b--\npost\n\n"},
        {"inner message", "From: a@x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\n"
                          "From: c@z\nSubject: inner\nContent-Type: text/plain\n\n" + text + "\n--b--\n"},
        {"two slots and a small part", "From: a@x\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
                                       "Content-Type: text/plain\n\n" + text + "\n--b\nContent-Type: text/plain\n\nsmall\n--b\n"
                                       "Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n" +
                                       lf(pdf_base64(40)) + "--b--\n"},
    };
    for (const auto& [label, raw] : cases) {
        EXPECT_TRUE(same_as_gmime(raw, label)) << label;
        EXPECT_TRUE(same_as_gmime(raw, label + ", not re-encoded", false)) << label;
    }
}

TEST(EntitySplice, TheSlotsAreTakenFromTheInput) {
    // The output carries the input's bytes, not a placeholder; and a large
    // 8-bit part (re-encoded by GMime) is not spliced.
    auto pm = prepare_message("From: a@x.example\nTo: b@y.example\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
                              "Content-Type: text/plain; charset=utf-8\n\ncaf\xc3\xa9\n" + std::string(2000, 'y') +
                              "\n--b\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n" +
                              lf(pdf_base64(40)) + "--b--\n");
    EXPECT_EQ(pm.reencoded_parts, 1);
    EXPECT_NE(pm.entity.find("caf=C3=A9"), std::string::npos);
    EXPECT_NE(pm.entity.find(pdf_base64(40) + "--b--\r\n"), std::string::npos);
    EXPECT_EQ(pm.entity.find("sealpost-slot"), std::string::npos);
}

TEST(EntitySplice, CorpusFromTheEnvironment) {
    auto corpus = corpus_from_env("SEALPOST_SPLICE_CORPUS");
    if (!corpus) GTEST_SKIP() << "SEALPOST_SPLICE_CORPUS not set";
    int answered = 0;
    for (const auto& [path, bytes] : *corpus) answered += same_as_gmime(bytes, path) ? 1 : 0;
    std::cout << corpus->size() << " files, the splice answered for " << answered << "\n";
    EXPECT_FALSE(corpus->empty());
}
