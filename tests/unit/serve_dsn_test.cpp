// serve_dsn_test.cpp: the delivery status notification `serve` sends for
// recipients the upstream refused after we said 250 (sender/lib/dsn):
// structure (RFC 3464 / 6522), the upstream's reply in Diagnostic-Code, the
// original's headers, and hostile input kept out of header fields.
#include <gtest/gtest.h>

#include <string>

#include "dsn.hpp"

namespace sealpost {
namespace {

DsnRequest sample() {
    DsnRequest r;
    r.reporting_mta = "mx.example.org";
    r.envelope_sender = "app@example.com";
    r.original = "From: app@example.com\r\nTo: a@x.test, b@y.test\r\nSubject: statement\r\n\r\nsecret body\r\n";
    r.failures = {{"b@y.test", 550, "5.1.1 <b@y.test>: Recipient address rejected: User unknown"}};
    r.arrival = 1795000000;
    r.now = 1795000005;
    r.unique = "0123abcd";
    return r;
}

std::size_t count(const std::string& s, const std::string& what) {
    std::size_t n = 0;
    for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
    return n;
}

TEST(ServeDsn, IsAMultipartReportWithTheThreeParts) {
    auto m = build_dsn(sample());
    EXPECT_NE(m.find("Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"sealpost-dsn-0123abcd\"\r\n"),
              std::string::npos) << m;
    EXPECT_NE(m.find("To: <app@example.com>\r\n"), std::string::npos);
    EXPECT_NE(m.find("From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"), std::string::npos);
    EXPECT_NE(m.find("Auto-Submitted: auto-replied\r\n"), std::string::npos);
    EXPECT_NE(m.find("Date: Wed, 18 Nov 2026 11:06:45 +0000"), std::string::npos) << m;
    EXPECT_EQ(count(m, "\r\n--sealpost-dsn-0123abcd\r\n"), 3u);
    EXPECT_EQ(count(m, "\r\n--sealpost-dsn-0123abcd--\r\n"), 1u);
    auto text = m.find("Content-Type: text/plain; charset=us-ascii\r\n");
    auto status = m.find("Content-Type: message/delivery-status\r\n");
    auto headers = m.find("Content-Type: text/rfc822-headers\r\n");
    ASSERT_NE(text, std::string::npos);
    ASSERT_NE(status, std::string::npos);
    ASSERT_NE(headers, std::string::npos);
    EXPECT_LT(text, status);
    EXPECT_LT(status, headers);
}

TEST(ServeDsn, TheDeliveryStatusNamesTheRecipientAndCarriesTheUpstreamReply) {
    auto m = build_dsn(sample());
    EXPECT_NE(m.find("\r\n\r\nReporting-MTA: dns; mx.example.org\r\nArrival-Date: "), std::string::npos) << m;
    EXPECT_NE(m.find("\r\n\r\nFinal-Recipient: rfc822; b@y.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
                     "Diagnostic-Code: smtp; 550 5.1.1 <b@y.test>: Recipient address rejected: User unknown\r\n"),
              std::string::npos) << m;
    EXPECT_NE(m.find("<b@y.test>: 550 5.1.1 <b@y.test>: Recipient address rejected"), std::string::npos) << m;
    EXPECT_EQ(m.find("a@x.test>: "), std::string::npos) << "an accepted recipient is not reported";
}

TEST(ServeDsn, CarriesTheOriginalHeadersButNotItsBody) {
    auto m = build_dsn(sample());
    EXPECT_NE(m.find("text/rfc822-headers\r\n\r\nFrom: app@example.com\r\nTo: a@x.test, b@y.test\r\nSubject: statement\r\n"),
              std::string::npos) << m;
    EXPECT_EQ(m.find("secret body"), std::string::npos);
}

TEST(ServeDsn, OneBlockPerRejectedRecipient) {
    auto r = sample();
    r.failures.push_back({"c@y.test", 554, "no enhanced code here"});
    r.failures.push_back({"d@y.test", 0, "upstream rejected the whole copy"});
    auto m = build_dsn(r);
    EXPECT_EQ(count(m, "Action: failed\r\n"), 3u);
    EXPECT_NE(m.find("Final-Recipient: rfc822; c@y.test\r\nAction: failed\r\nStatus: 5.0.0\r\n"
                     "Diagnostic-Code: smtp; 554 no enhanced code here\r\n"), std::string::npos) << m;
    EXPECT_NE(m.find("Final-Recipient: rfc822; d@y.test\r\nAction: failed\r\nStatus: 5.0.0\r\n"), std::string::npos);
}

TEST(ServeDsn, StatusComesFromTheEnhancedCodeWhenThereIsOne) {
    EXPECT_EQ(dsn_status(550, "5.1.1 no such user"), "5.1.1");
    EXPECT_EQ(dsn_status(552, "5.3.4 too big"), "5.3.4");
    EXPECT_EQ(dsn_status(550, "no such user"), "5.0.0");
    EXPECT_EQ(dsn_status(550, "2.1.5 odd"), "5.0.0");
    EXPECT_EQ(dsn_status(550, "5.1 short"), "5.0.0");
    EXPECT_EQ(dsn_status(550, "5.1.1234 long"), "5.0.0");
    EXPECT_EQ(dsn_status(550, ""), "5.0.0");
}

TEST(ServeDsn, HostileTextCannotAddHeaderFieldsOrEightBitBytes) {
    auto r = sample();
    r.failures = {{"b@y.test\r\nBcc: victim@z.test", 550, "5.1.1 nope\r\nX-Injected: yes\xc3\xa9"}};
    r.original = "Subject: caf\xc3\xa9\r\nX-Long: a\r\n\r\nbody";
    auto m = build_dsn(r);
    EXPECT_EQ(m.find("\r\nBcc:"), std::string::npos) << m;
    EXPECT_EQ(m.find("\r\nX-Injected:"), std::string::npos) << m;
    for (unsigned char c : m) ASSERT_LT(c, 0x80u) << "8-bit byte in the DSN";
    for (std::size_t i = 0; i < m.size(); ++i) {
        if (m[i] == '\n') {
            ASSERT_TRUE(i > 0 && m[i - 1] == '\r') << "bare LF at " << i;
        }
        if (m[i] == '\r') {
            ASSERT_TRUE(i + 1 < m.size() && m[i + 1] == '\n') << "bare CR at " << i;
        }
    }
    EXPECT_NE(m.find("Subject: caf??\r\n"), std::string::npos) << m;
}

}  // namespace
}  // namespace sealpost
