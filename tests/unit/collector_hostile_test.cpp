// collector_hostile_test.cpp: bad input is a clear rejection, never a crash
// and never a write: size, depth and part bombs, garbage, NUL and CR in
// headers; plus the pre-scan that guards GMime's recursive parser.
#include <random>

#include "collector_support.hpp"
#include "mime_prescan.hpp"

namespace sealpost::test {
namespace {

std::string head(const std::string& content_type) {
    return "From: alice@example.com\r\nTo: secureme@inbound.example.com\r\nSubject: x\r\n"
           "MIME-Version: 1.0\r\nContent-Type: " +
           content_type + "\r\n\r\n";
}

std::string depth_bomb(int levels) {
    std::string open, close;
    for (int i = 0; i < levels; ++i) {
        std::string b = "b" + std::to_string(i);
        open += "--" + (i ? "b" + std::to_string(i - 1) : std::string("top")) + "\r\n";
        open += "Content-Type: multipart/mixed; boundary=\"" + b + "\"\r\n\r\n";
        close = "--" + b + "--\r\n" + close;
    }
    return head("multipart/mixed; boundary=\"top\"") + open + "--b" + std::to_string(levels - 1) +
           "\r\nContent-Type: text/plain\r\n\r\ndeep\r\n" + close + "--top--\r\n";
}

class HostileInput : public CollectorTest {
protected:
    void SetUp() override {
        CollectorTest::SetUp();
        options.dkim = DkimMode::Ignore;  // reach the deeper stages
    }
    void expect_rejected(const std::string& raw, VerdictReason reason, const std::string& text = "") {
        Verdict v = collect(raw);
        EXPECT_EQ(v.outcome, VerdictOutcome::Rejected);
        EXPECT_EQ(to_string(v.reason), std::string(to_string(reason))) << v.text;
        if (!text.empty()) {
            EXPECT_NE(v.text.find(text), std::string::npos) << v.text;
        }
        EXPECT_EQ(all_files(), std::vector<std::string>{});
    }
};

TEST_F(HostileInput, MultipartDepthBombIsRefusedBeforeGMimeParsesIt) {
    expect_rejected(depth_bomb(20000), VerdictReason::MimeLimit, "seen before parsing");
}

TEST_F(HostileInput, SameBoundaryNestedManyTimesCountsAsDeep) {
    std::string raw = head("multipart/mixed; boundary=X");
    for (int i = 0; i < 5000; ++i) raw += "--X\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n";
    expect_rejected(raw, VerdictReason::MimeLimit);
}

TEST_F(HostileInput, MessageRfc822ChainBombIsRefused) {
    std::string raw = head("message/rfc822");
    for (int i = 0; i < 20000; ++i) raw += "Content-Type: message/rfc822\r\n\r\n";
    expect_rejected(raw, VerdictReason::MimeLimit);
}

TEST_F(HostileInput, ModestNestingWithinTheLimitIsParsed) {
    // 10 levels: parsed, then rejected only because nothing is signed.
    expect_rejected(depth_bomb(10), VerdictReason::NoSmime);
}

TEST_F(HostileInput, ThousandsOfPartsAreRefused) {
    std::string raw = head("multipart/mixed; boundary=P");
    for (int i = 0; i < 5000; ++i) raw += "--P\r\nContent-Type: text/plain\r\n\r\npart\r\n";
    raw += "--P--\r\n";
    expect_rejected(raw, VerdictReason::MimeLimit, "MIME parts");
}

TEST_F(HostileInput, MessageOverTheSizeLimitIsRefused) {
    options.limits.max_bytes = 4096;
    expect_rejected(fixture("valid-detached"), VerdictReason::TooLarge, "max-message-size");
}

TEST_F(HostileInput, EmptyInputIsMalformed) { expect_rejected("", VerdictReason::MalformedMessage); }

TEST_F(HostileInput, RandomBytesAreRejected) {
    std::mt19937 rng(4);
    for (int round = 0; round < 50; ++round) {
        std::string raw(1 + rng() % 5000, '\0');
        for (char& c : raw) c = static_cast<char>(rng());
        Verdict v = collect(raw);
        EXPECT_EQ(v.outcome, VerdictOutcome::Rejected) << round;
    }
    EXPECT_EQ(all_files(), std::vector<std::string>{});
}

TEST_F(HostileInput, NoFromHeaderIsRejected) {
    expect_rejected("To: a@example.com\r\nSubject: x\r\n\r\nbody\r\n", VerdictReason::BadFrom, "no From header");
}

TEST_F(HostileInput, NulInTheFromAddressIsRejected) {
    std::string raw = "From: ali" + std::string(1, '\0') + "ce@example.com\r\nSubject: x\r\n\r\nbody\r\n";
    Verdict v = collect(raw);
    EXPECT_EQ(v.outcome, VerdictOutcome::Rejected);
    EXPECT_EQ(all_files(), std::vector<std::string>{});
}

TEST_F(HostileInput, BareCrInTheFromHeaderIsRejectedWithoutAWrite) {
    Verdict v = collect("From: \"a\rb\"@example.com\r\nSubject: x\r\n\r\nbody\r\n");
    EXPECT_EQ(v.outcome, VerdictOutcome::Rejected);
    EXPECT_EQ(all_files(), std::vector<std::string>{});
}

TEST_F(HostileInput, SignatureMadeOfGarbageBase64IsRejected) {
    std::string raw = head("application/pkcs7-mime; smime-type=signed-data") +
                      "Content-Transfer-Encoding: base64\r\n\r\n!!!!####$$$$%%%%\r\n";
    Verdict v = collect(raw);
    EXPECT_EQ(v.outcome, VerdictOutcome::Rejected);
    EXPECT_EQ(all_files(), std::vector<std::string>{});
}

TEST_F(HostileInput, MultipartSignedWithOnePartIsRejected) {
    std::string raw = head("multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=S") +
                      "--S\r\nContent-Type: text/plain\r\n\r\nonly\r\n--S--\r\n";
    expect_rejected(raw, VerdictReason::MalformedSignature, "1 parts instead of 2");
}

TEST_F(HostileInput, PgpSignedMailIsNotSmime) {
    std::string raw = head("multipart/signed; protocol=\"application/pgp-signature\"; boundary=S") +
                      "--S\r\nContent-Type: text/plain\r\n\r\nhi\r\n--S\r\nContent-Type: application/pgp-signature"
                      "\r\n\r\n-----BEGIN PGP SIGNATURE-----\r\n--S--\r\n";
    expect_rejected(raw, VerdictReason::NoSmime);
}

TEST_F(HostileInput, EveryFixtureCutShortIsHandled) {
    // Truncation at many points of a valid mail: never a crash, never a
    // write unless the cut left the whole signed structure intact.
    std::string raw = fixture("valid-opaque");
    for (std::size_t n = 0; n < raw.size(); n += 97) {
        Verdict v = collect(raw.substr(0, n));
        if (v.accepted()) {
            EXPECT_EQ(v.address, "bob@example.com");
        }
    }
}

// ----------------------------------------------------------- pre-scan --
TEST(MimePrescan, CountsNestedMultipartLevels) {
    EXPECT_EQ(prescan_mime(depth_bomb(5), 100, 100).max_depth, 6);
    EXPECT_FALSE(prescan_problem(depth_bomb(5), 32, 1000));
    EXPECT_TRUE(prescan_problem(depth_bomb(40), 32, 1000));
}

TEST(MimePrescan, ClosedSiblingsDoNotAddUp) {
    std::string raw = head("multipart/mixed; boundary=T");
    for (int i = 0; i < 100; ++i)
        raw += "--T\r\nContent-Type: multipart/alternative; boundary=A" + std::to_string(i) + "\r\n\r\n--A" +
               std::to_string(i) + "\r\nContent-Type: text/plain\r\n\r\nx\r\n--A" + std::to_string(i) + "--\r\n";
    raw += "--T--\r\n";
    EXPECT_EQ(prescan_mime(raw, 100, 10000).max_depth, 2);
}

TEST(MimePrescan, FoldedContentTypeIsUnderstood) {
    std::string raw = "Content-Type: multipart/mixed;\r\n\tboundary=\"F\"\r\n\r\n--F\r\nContent-Type: "
                      "multipart/mixed;\r\n boundary=G\r\n\r\n--G--\r\n--F--\r\n";
    EXPECT_EQ(prescan_mime(raw, 100, 100).max_depth, 2);
}

}  // namespace
}  // namespace sealpost::test
