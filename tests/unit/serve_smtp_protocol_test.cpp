// serve_smtp_protocol_test.cpp: the SMTP dialogue of `sealpost serve` as a
// state machine, fed exactly as the listener feeds it (the bytes a client
// sent, cut at each LF, the LF removed). Asserts on the replies, in order,
// and on the envelope and data handed over for relaying.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "smtp_protocol.hpp"

namespace sealpost {
namespace {

// A client talking to one SmtpProtocol. Every message that completes is
// "relayed" with the reply `verdict` and kept in `messages`.
struct Conversation {
    explicit Conversation(SmtpLimits limits = {}, bool tls_available = false)
        : proto("mx.test", limits, tls_available) {}

    // Sends `bytes` in one go (pipelining): returns everything the server
    // answered, concatenated, and the last event.
    std::string send(const std::string& bytes) {
        std::string replies;
        std::size_t start = 0;
        while (start < bytes.size()) {
            auto nl = bytes.find('\n', start);
            EXPECT_NE(nl, std::string::npos) << "test bug: unterminated line";
            if (nl == std::string::npos) break;
            auto step = proto.on_line(std::string_view(bytes).substr(start, nl - start));
            start = nl + 1;
            last_event = step.event;
            if (step.event == SmtpProtocol::Event::MessageReady) {
                messages.push_back({proto.mail_from(), proto.recipients(), proto.data()});
                step = proto.finish_message(verdict);
            }
            replies += step.reply;
        }
        return replies;
    }

    struct Message {
        std::string from;
        std::vector<std::string> to;
        std::string data;
    };
    SmtpProtocol proto;
    std::string verdict = "250 2.0.0 accepted\r\n";
    std::vector<Message> messages;
    SmtpProtocol::Event last_event = SmtpProtocol::Event::None;
};

// The reply codes of a concatenation of replies, one per final line
// ("250-..." continuation lines are not counted).
std::vector<std::string> codes(const std::string& replies) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < replies.size()) {
        auto end = replies.find("\r\n", start);
        std::string line = replies.substr(start, end - start);
        if (line.size() >= 4 && line[3] == ' ') out.push_back(line.substr(0, 3));
        start = end + 2;
    }
    return out;
}

using Codes = std::vector<std::string>;

TEST(SmtpProtocol, GreetsWith220AndOffersTheExtensionsOnEhlo) {
    Conversation c;
    EXPECT_EQ(c.proto.greeting().reply, "220 mx.test ESMTP sealpost\r\n");
    auto r = c.send("EHLO client.test\r\n");
    EXPECT_EQ(r.rfind("250-mx.test\r\n", 0), 0u) << r;
    EXPECT_NE(r.find("250-SIZE 10485760\r\n"), std::string::npos) << r;
    EXPECT_NE(r.find("250-PIPELINING\r\n"), std::string::npos) << r;
    EXPECT_NE(r.find("250-8BITMIME\r\n"), std::string::npos) << r;
    EXPECT_EQ(r.find("STARTTLS"), std::string::npos) << r;
    EXPECT_EQ(codes(r), Codes{"250"});
    EXPECT_EQ(c.send("HELO client.test\r\n"), "250 mx.test\r\n");
    EXPECT_EQ(codes(c.send("EHLO\r\n")), Codes{"501"});
}

TEST(SmtpProtocol, PipelinedCommandsSentInOneGoAreAnsweredInOrder) {
    Conversation c;
    auto r = c.send(
        "EHLO client.test\r\nMAIL FROM:<app@example.com> BODY=8BITMIME\r\nRCPT TO:<alice@example.com>\r\n"
        "RCPT TO:<bob@example.com>\r\nDATA\r\nSubject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n");
    EXPECT_EQ(codes(r), (Codes{"250", "250", "250", "250", "354", "250", "221"})) << r;
    EXPECT_EQ(c.last_event, SmtpProtocol::Event::Close);
    ASSERT_EQ(c.messages.size(), 1u);
    EXPECT_EQ(c.messages[0].from, "app@example.com");
    EXPECT_EQ(c.messages[0].to, (std::vector<std::string>{"alice@example.com", "bob@example.com"}));
    EXPECT_EQ(c.messages[0].data, "Subject: hi\r\n\r\nbody\r\n");
    EXPECT_EQ(c.proto.message_count(), 1u);
}

TEST(SmtpProtocol, TwoMessagesOnOneConnectionEachGetTheirOwnEnvelope) {
    Conversation c;
    c.send("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\none\r\n.\r\n");
    auto r = c.send("MAIL FROM:<>\r\nRCPT TO:<c@y.test>\r\nDATA\r\ntwo\r\n.\r\n");
    EXPECT_EQ(codes(r), (Codes{"250", "250", "354", "250"})) << r;
    ASSERT_EQ(c.messages.size(), 2u);
    EXPECT_EQ(c.messages[1].from, "");
    EXPECT_EQ(c.messages[1].to, std::vector<std::string>{"c@y.test"});
    EXPECT_EQ(c.messages[1].data, "two\r\n");
}

TEST(SmtpProtocol, DotStuffedLinesLoseExactlyOneLeadingDot) {
    Conversation c;
    c.send("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n");
    auto r = c.send("..\r\n..leading\r\n...two\r\nmid.dle\r\n. space\r\n.\r\n");
    EXPECT_EQ(codes(r), Codes{"250"});
    ASSERT_EQ(c.messages.size(), 1u);
    EXPECT_EQ(c.messages[0].data, ".\r\n.leading\r\n..two\r\nmid.dle\r\n space\r\n");
}

TEST(SmtpProtocol, CommandsMayEndInABareLineFeed) {
    Conversation c;
    auto r = c.send("EHLO c\nMAIL FROM:<a@x.test>\nRCPT TO:<b@y.test>\nDATA\nSubject: ok\r\n\r\nline\r\n.\r\nQUIT\n");
    EXPECT_EQ(codes(r), (Codes{"250", "250", "250", "354", "250", "221"})) << r;
    ASSERT_EQ(c.messages.size(), 1u);
    EXPECT_EQ(c.messages[0].data, "Subject: ok\r\n\r\nline\r\n");
}

// SMTP smuggling: a second message, with its own envelope, hidden behind a
// line end that another MTA would take for the end of the data. Each
// variant must get 554, close the session, and never hand over a message.
struct SmugglingCase {
    const char* name;
    const char* end_of_first;  // what the client puts where CRLF.CRLF belongs
    const char* bad;           // "LF" or "CR": what the 554 names
};

void PrintTo(const SmugglingCase& c, std::ostream* os) { *os << c.name; }

class SmtpSmuggling : public ::testing::TestWithParam<SmugglingCase> {};

TEST_P(SmtpSmuggling, IsRefusedWith554AndNoMessageIsProduced) {
    const auto& p = GetParam();
    Conversation c;
    std::string wire = std::string("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n") +
                       "Subject: first\r\n\r\nfirst body" + p.end_of_first +
                       "MAIL FROM:<admin@bank.test>\r\nRCPT TO:<victim@y.test>\r\nDATA\r\n"
                       "From: admin@bank.test\r\nSubject: smuggled\r\n\r\nsmuggled\r\n.\r\nQUIT\r\n";
    auto r = c.send(wire);
    EXPECT_EQ(codes(r), (Codes{"250", "250", "250", "354", "554"})) << r;
    EXPECT_NE(r.find(std::string("554 5.5.2 bare ") + p.bad + " in message data"), std::string::npos) << r;
    EXPECT_EQ(c.last_event, SmtpProtocol::Event::Close);
    EXPECT_TRUE(c.messages.empty()) << "no message (first or smuggled) may be handed over, got " << c.messages.size();
    EXPECT_EQ(c.proto.message_count(), 0u);
    // Whatever the client sends after, nothing more happens.
    EXPECT_EQ(c.send("MAIL FROM:<x@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\nx\r\n.\r\n"), "");
    EXPECT_TRUE(c.messages.empty());
}

INSTANTIATE_TEST_SUITE_P(
    EveryVariant, SmtpSmuggling,
    ::testing::Values(SmugglingCase{"LfDotCrlf", "\n.\r\n", "LF"},      // \n.\r\n
                      SmugglingCase{"CrlfDotLf", "\r\n.\n", "LF"},      // \r\n.\n
                      SmugglingCase{"LfDotLf", "\n.\n", "LF"},          // \n.\n
                      SmugglingCase{"CrDotCr", "\r.\r\n", "CR"},        // bare CR before the dot
                      SmugglingCase{"CrlfDotCrCrlf", "\r\n.\r\r\n", "CR"},  // CR CR LF after the dot
                      SmugglingCase{"BareCrInLine", "\r\nx\ry\r\n.\r\n", "CR"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SmtpProtocol, ABareLineFeedEarlyInTheDataRefusesTheMessage) {
    Conversation c;
    auto r = c.send("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\nSubject: lf\n\r\nbody\r\n.\r\n");
    EXPECT_EQ(codes(r), (Codes{"250", "250", "250", "354", "554"})) << r;
    EXPECT_TRUE(c.messages.empty());
}

TEST(SmtpProtocol, OversizeMessageGets552AfterTheDataAndIsDiscarded) {
    SmtpLimits limits;
    limits.max_message_bytes = 100;
    Conversation c(limits);
    auto r = c.send("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n");
    EXPECT_EQ(codes(r), (Codes{"250", "250", "250", "354"}));
    // Nothing is answered while the data flows in, however much there is.
    std::string big;
    for (int i = 0; i < 20; ++i) big += "0123456789 0123456789\r\n";
    EXPECT_EQ(c.send(big), "");
    EXPECT_TRUE(c.proto.in_data());
    EXPECT_EQ(codes(c.send(".\r\n")), Codes{"552"});
    EXPECT_TRUE(c.messages.empty()) << "an oversize message must never be handed over";
    EXPECT_TRUE(c.proto.data().empty());
    // The transaction is over: a new one starts with MAIL, RCPT alone is out of sequence.
    EXPECT_EQ(codes(c.send("RCPT TO:<b@y.test>\r\n")), Codes{"503"});
    r = c.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\nsmall\r\n.\r\n");
    EXPECT_EQ(codes(r), (Codes{"250", "250", "354", "250"})) << r;
    ASSERT_EQ(c.messages.size(), 1u);
    EXPECT_EQ(c.messages[0].data, "small\r\n");
}

TEST(SmtpProtocol, MessageOfExactlyTheLimitIsAccepted) {
    SmtpLimits limits;
    limits.max_message_bytes = 12;
    Conversation c(limits);
    auto r = c.send("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n0123456789\r\n.\r\n");
    EXPECT_EQ(codes(r), (Codes{"250", "250", "250", "354", "250"})) << r;
}

TEST(SmtpProtocol, MailWithSizeOverTheLimitGets552AndNoTransaction) {
    SmtpLimits limits;
    limits.max_message_bytes = 1000;
    Conversation c(limits);
    c.send("EHLO c\r\n");
    auto r = c.send("MAIL FROM:<a@x.test> SIZE=1001\r\n");
    EXPECT_EQ(r, "552 5.3.4 message size exceeds the limit of 1000\r\n");
    EXPECT_EQ(codes(c.send("RCPT TO:<b@y.test>\r\n")), Codes{"503"});
    EXPECT_EQ(codes(c.send("MAIL FROM:<a@x.test> size=1000\r\n")), Codes{"250"});
}

TEST(SmtpProtocol, UnknownCommandGets500AndTheSessionGoesOn) {
    Conversation c;
    EXPECT_EQ(codes(c.send("EHLO c\r\nXYZZY plugh\r\nNOOP\r\n")), (Codes{"250", "500", "250"}));
    EXPECT_EQ(c.send("BDAT 10 LAST\r\n"), "500 5.5.2 command not recognised\r\n");
}

TEST(SmtpProtocol, CommandsOutOfSequenceGet503) {
    Conversation c;
    EXPECT_EQ(codes(c.send("MAIL FROM:<a@x.test>\r\n")), Codes{"503"}) << "MAIL before EHLO";
    c.send("EHLO c\r\n");
    EXPECT_EQ(codes(c.send("RCPT TO:<b@y.test>\r\n")), Codes{"503"}) << "RCPT before MAIL";
    EXPECT_EQ(codes(c.send("DATA\r\n")), Codes{"503"}) << "DATA before MAIL";
    c.send("MAIL FROM:<a@x.test>\r\n");
    EXPECT_EQ(codes(c.send("MAIL FROM:<a@x.test>\r\n")), Codes{"503"}) << "nested MAIL";
    EXPECT_EQ(codes(c.send("DATA\r\n")), Codes{"554"}) << "DATA without a recipient";
    EXPECT_FALSE(c.proto.in_data());
}

TEST(SmtpProtocol, MalformedAddressesGet501) {
    Conversation c;
    c.send("EHLO c\r\n");
    EXPECT_EQ(codes(c.send("MAIL FROM:a@x.test\r\n")), Codes{"501"});
    EXPECT_EQ(codes(c.send("MAIL TO:<a@x.test>\r\n")), Codes{"501"});
    EXPECT_EQ(codes(c.send("MAIL FROM:<a@x.test\r\n")), Codes{"501"});
    EXPECT_EQ(codes(c.send("MAIL FROM: <a@x.test>\r\n")), Codes{"250"}) << "a space after the colon is tolerated";
    EXPECT_EQ(codes(c.send("RCPT TO:<nobody>\r\n")), Codes{"501"});
    EXPECT_EQ(codes(c.send(std::string("RCPT TO:<b\x01@y.test>\r\n"))), Codes{"501"});
}

TEST(SmtpProtocol, OverlongCommandLineGets500) {
    SmtpLimits limits;
    limits.max_command_line = 64;
    Conversation c(limits);
    c.send("EHLO c\r\n");
    EXPECT_EQ(c.send("MAIL FROM:<" + std::string(80, 'a') + "@x.test>\r\n"), "500 5.5.2 line too long\r\n");
}

TEST(SmtpProtocol, RsetForgetsTheEnvelope) {
    Conversation c;
    c.send("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\n");
    EXPECT_EQ(c.send("RSET\r\n"), "250 2.0.0 OK\r\n");
    EXPECT_TRUE(c.proto.recipients().empty());
    EXPECT_EQ(codes(c.send("RCPT TO:<b@y.test>\r\nDATA\r\n")), (Codes{"503", "503"}));
    auto r = c.send("MAIL FROM:<z@x.test>\r\nRCPT TO:<c@y.test>\r\nDATA\r\nx\r\n.\r\n");
    EXPECT_EQ(codes(r), (Codes{"250", "250", "354", "250"}));
    ASSERT_EQ(c.messages.size(), 1u);
    EXPECT_EQ(c.messages[0].from, "z@x.test");
    EXPECT_EQ(c.messages[0].to, std::vector<std::string>{"c@y.test"}) << "b@y.test was reset away";
}

TEST(SmtpProtocol, StartTlsIsRefusedWhenNotOffered) {
    Conversation c({}, /*tls_available=*/false);
    c.send("EHLO c\r\n");
    EXPECT_EQ(codes(c.send("STARTTLS\r\n")), Codes{"502"});
    EXPECT_EQ(c.last_event, SmtpProtocol::Event::None);
}

TEST(SmtpProtocol, StartTlsWhenOfferedThenTheSessionStartsOverAndItIsNotOfferedAgain) {
    Conversation c({}, /*tls_available=*/true);
    auto r = c.send("EHLO c\r\n");
    EXPECT_NE(r.find("250-STARTTLS\r\n"), std::string::npos) << r;
    EXPECT_EQ(codes(c.send("STARTTLS now\r\n")), Codes{"501"});
    c.send("MAIL FROM:<a@x.test>\r\n");
    EXPECT_EQ(c.send("STARTTLS\r\n"), "220 2.0.0 ready to start TLS\r\n");
    EXPECT_EQ(c.last_event, SmtpProtocol::Event::StartTls);
    c.proto.tls_started();
    // RFC 3207: everything from before TLS is forgotten, EHLO comes first.
    EXPECT_EQ(codes(c.send("MAIL FROM:<a@x.test>\r\n")), Codes{"503"});
    r = c.send("EHLO c\r\n");
    EXPECT_EQ(r.find("STARTTLS"), std::string::npos) << r;
    EXPECT_EQ(codes(c.send("STARTTLS\r\n")), Codes{"502"});
    EXPECT_EQ(codes(c.send("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\nx\r\n.\r\n")),
              (Codes{"250", "250", "354", "250"}));
}

TEST(SmtpProtocol, TheRelayVerdictIsTheReplyToTheFinalDot) {
    Conversation c;
    c.verdict = "451 4.4.0 upstream deferred: connection refused\r\n";
    auto r = c.send("EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\nx\r\n.\r\n");
    EXPECT_EQ(r.substr(r.rfind("451")), "451 4.4.0 upstream deferred: connection refused\r\n");
    // After a failed message the client may try again on the same session.
    c.verdict = "250 ok\r\n";
    EXPECT_EQ(codes(c.send("MAIL FROM:<a@x.test>\r\n")), Codes{"250"});
}

TEST(SmtpProtocol, QuitCloses) {
    Conversation c;
    EXPECT_EQ(c.send("QUIT\r\n"), "221 2.0.0 mx.test closing connection\r\n");
    EXPECT_EQ(c.last_event, SmtpProtocol::Event::Close);
}

TEST(SmtpProtocol, VerbsAreCaseInsensitive) {
    Conversation c;
    auto r = c.send("ehlo c\r\nmail from:<a@x.test>\r\nrcpt to:<b@y.test>\r\ndata\r\nx\r\n.\r\nnoop\r\nquit\r\n");
    EXPECT_EQ(codes(r), (Codes{"250", "250", "250", "354", "250", "250", "221"})) << r;
}

}  // namespace
}  // namespace sealpost
