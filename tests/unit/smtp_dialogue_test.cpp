// smtp_dialogue_test.cpp: replies are paired with the commands libcurl sent,
// recipients get their own RCPT reply, credentials are never kept, and the
// outcome of a transaction maps to the documented statuses.
#include <gtest/gtest.h>

#include "smtp_dialogue.hpp"
#include "smtp_outcome.hpp"

using namespace sealpost;
using Status = DeliveryResult::Status;

namespace {

// A new connection with STARTTLS and AUTH PLAIN, then one transaction.
SmtpDialogue conversation(const std::string& rcpt2_reply, const std::string& final_reply) {
    SmtpDialogue d;
    d.start_message();
    d.received("220 mx.example.net ESMTP\r\n");
    d.sent("EHLO client.example.com\r\n");
    d.received("250-mx.example.net\r\n250-STARTTLS\r\n250 SIZE 1000\r\n");
    d.sent("STARTTLS\r\n");
    d.received("220 Ready to start TLS\r\n");
    d.sent("EHLO client.example.com\r\n");
    d.received("250-mx.example.net\r\n250 AUTH PLAIN\r\n");
    d.sent("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n");
    d.received("235 2.7.0 Authentication successful\r\n");
    d.sent("MAIL FROM:<alice@example.com> SIZE=100\r\n");
    d.received("250 OK\r\n");
    d.sent("RCPT TO:<bob@example.com>\r\n");
    d.received("250 OK\r\n");
    d.sent("RCPT TO:<nobody@example.net>\r\n");
    d.received(rcpt2_reply);
    if (!final_reply.empty()) {
        d.sent("DATA\r\n");
        d.received("354 go ahead\r\n");
        d.received(final_reply);
    }
    return d;
}

std::vector<Mailbox> two() { return {{"Bob", "bob@example.com"}, {"", "nobody@example.net"}}; }

}  // namespace

TEST(SmtpDialogue, PairsEveryReplyWithItsCommandAndTheDataReplyWithEndOfData) {
    auto d = conversation("250 OK\r\n", "250 2.0.0 queued as X1\r\n");
    const auto& ex = d.exchanges();
    ASSERT_EQ(ex.size(), 10u);
    EXPECT_EQ(ex[0].stage(), "greeting");
    EXPECT_EQ(ex[1].text, "mx.example.net STARTTLS SIZE 1000");
    EXPECT_EQ(ex[6].stage(), "RCPT TO:<bob@example.com>");
    EXPECT_EQ(ex[9].stage(), "end of data");
    EXPECT_EQ(ex[9].code, 250);
    EXPECT_TRUE(d.tls_started());
    EXPECT_TRUE(d.authenticated());
    EXPECT_TRUE(d.new_connection());
}

TEST(SmtpDialogue, NeverKeepsCredentialsFromAuthOrItsContinuations) {
    SmtpDialogue d;
    d.received("220 hi\r\n");
    d.sent("AUTH LOGIN\r\n");
    d.received("334 VXNlcm5hbWU6\r\n");
    d.sent("YWxpY2U=\r\n");
    d.received("334 UGFzc3dvcmQ6\r\n");
    d.sent("c2VjcmV0\r\n");
    d.received("235 ok\r\n");
    d.sent("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n");
    for (const auto& e : d.exchanges()) {
        EXPECT_EQ(e.argument.find("YWxpY2U"), std::string::npos);
        EXPECT_EQ(e.argument.find("c2VjcmV0"), std::string::npos);
        EXPECT_EQ(e.argument.find("AGFsaWNl"), std::string::npos);
    }
    EXPECT_EQ(d.exchanges()[2].argument, "(hidden)");
    EXPECT_EQ(d.exchanges().back().argument, "PLAIN");
}

TEST(SmtpDialogue, CopesWithRepliesSplitAcrossChunks) {
    SmtpDialogue d;
    d.received("22");
    d.received("0 hello\r\n250-a\r");
    d.received("\n250 b\r\n");
    ASSERT_EQ(d.exchanges().size(), 2u);  // greeting + an unsolicited 250 (no command waiting)
    EXPECT_EQ(d.exchanges()[1].text, "a b");
}

TEST(SmtpOutcome, AllRecipientsAcceptedIsAccepted) {
    auto d = conversation("250 OK\r\n", "250 2.0.0 queued as X1\r\n");
    auto r = smtp_outcome(CURLE_OK, "", d.exchanges(), two());
    EXPECT_EQ(r.status, Status::Accepted);
    EXPECT_EQ(r.detail, "end of data: 250 2.0.0 queued as X1");
    ASSERT_EQ(r.recipients.size(), 2u);
    EXPECT_TRUE(r.recipients[1].accepted);
}

TEST(SmtpOutcome, OneRecipientRefusedIsPartialWithItsOwnReply) {
    auto d = conversation("550 5.1.1 no such user\r\n", "250 queued\r\n");
    auto r = smtp_outcome(CURLE_OK, "", d.exchanges(), two());
    EXPECT_EQ(r.status, Status::Partial);
    EXPECT_TRUE(r.recipients[0].accepted);
    EXPECT_FALSE(r.recipients[1].accepted);
    EXPECT_EQ(r.recipients[1].code, 550);
    EXPECT_EQ(r.recipients[1].text, "5.1.1 no such user");
}

TEST(SmtpOutcome, A5xxAtEndOfDataIsPermanentForEveryone) {
    auto d = conversation("250 OK\r\n", "554 5.7.1 rejected\r\n");
    auto r = smtp_outcome(CURLE_WEIRD_SERVER_REPLY, "", d.exchanges(), two());
    EXPECT_EQ(r.status, Status::PermFail);
    EXPECT_EQ(r.detail, "end of data: 554 5.7.1 rejected");
    EXPECT_EQ(r.recipients[0].code, 554);
}

TEST(SmtpOutcome, A421AtMailIsTemporary) {
    SmtpDialogue d;
    d.received("220 hi\r\n");
    d.sent("EHLO x\r\n");
    d.received("250 ok\r\n");
    d.sent("MAIL FROM:<alice@example.com>\r\n");
    d.received("421 4.3.2 closing\r\n");
    auto r = smtp_outcome(CURLE_WEIRD_SERVER_REPLY, "", d.exchanges(), two());
    EXPECT_EQ(r.status, Status::TempFail);
    EXPECT_EQ(r.detail, "MAIL FROM:<alice@example.com>: 421 4.3.2 closing");
}

TEST(SmtpOutcome, NoRecipientAcceptedWithATemporaryRefusalIsTemporary) {
    SmtpDialogue d;
    d.received("220 hi\r\n");
    d.sent("MAIL FROM:<a@example.com>\r\n");
    d.received("250 ok\r\n");
    d.sent("RCPT TO:<bob@example.com>\r\n");
    d.received("550 no\r\n");
    d.sent("RCPT TO:<nobody@example.net>\r\n");
    d.received("451 later\r\n");
    auto r = smtp_outcome(CURLE_SEND_ERROR, "", d.exchanges(), two());
    EXPECT_EQ(r.status, Status::TempFail);
    EXPECT_EQ(r.recipients[0].code, 550);
    EXPECT_EQ(r.recipients[1].code, 451);
}

TEST(SmtpOutcome, AConnectionFailureWithoutAnyReplyIsTemporaryWithCurlsText) {
    auto r = smtp_outcome(CURLE_COULDNT_CONNECT, "Couldn't connect to server", {}, two());
    EXPECT_EQ(r.status, Status::TempFail);
    EXPECT_EQ(r.detail, "Couldn't connect to server");
    EXPECT_EQ(r.recipients[0].code, 0);
}

TEST(SmtpOutcome, AnUntrustedServerCertificateIsPermanentAndNamesTheFix) {
    SmtpDialogue d;
    d.received("220 hi\r\n");
    d.sent("EHLO x\r\n");
    d.received("250-hi\r\n250 STARTTLS\r\n");
    d.sent("STARTTLS\r\n");
    d.received("220 go ahead\r\n");
    auto r = smtp_outcome(CURLE_PEER_FAILED_VERIFICATION,
                          "SSL peer certificate or SSH remote key was not OK: unable to get local issuer certificate",
                          d.exchanges(), two());
    EXPECT_EQ(r.status, Status::PermFail);
    EXPECT_NE(r.detail.find("--ca-file / [smtp] ca-file"), std::string::npos) << r.detail;
    EXPECT_NE(r.detail.find("unable to get local issuer certificate"), std::string::npos) << r.detail;
    ASSERT_EQ(r.recipients.size(), 2u);
    EXPECT_FALSE(r.recipients[0].accepted);
}

TEST(SmtpOutcome, AConnectionFailureStaysTemporary) {
    auto r = smtp_outcome(CURLE_COULDNT_CONNECT, "Couldn't connect to server", {}, two());
    EXPECT_EQ(r.status, Status::TempFail);
    EXPECT_EQ(r.detail.find("ca-file"), std::string::npos) << r.detail;
}
