// serve_message_relay_test.cpp: MessageRelay with scripted transports
// (the factory seam): the pool survives a deliver() that throws, and
// recipients refused upstream after others were accepted get a DSN sent to
// the envelope sender with a null reverse-path, through the same transport.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <iostream>
#include <mutex>
#include <thread>

#include "message_relay.hpp"

namespace sealpost {
namespace {

const std::string kMessage = "From: app@example.com\r\nTo: a@x.test, b@y.test\r\nSubject: s1\r\n\r\nhello\r\n";

// Everything every transport of one test saw, shared by the factory's products.
struct Record {
    std::mutex mutex;
    std::vector<OutputCopy> delivered;
    std::atomic<int> throws_left{0};
    std::atomic<int> made{0};
    std::string refuse;  // this recipient is refused 550 (Partial)
};

class ScriptedTransport final : public Transport {
public:
    explicit ScriptedTransport(Record& r) : r_(r) {}
    const char* name() const override { return "scripted"; }
    DeliveryResult deliver(const OutputCopy& copy) override {
        if (r_.throws_left.fetch_sub(1) > 0) throw std::runtime_error("scripted transport exploded");
        DeliveryResult out;
        bool any_ok = false, any_refused = false;
        for (const auto& m : copy.recipients) {
            bool refused = m.address == r_.refuse;
            out.recipients.push_back({m.address, refused ? 550 : 250,
                                      refused ? "5.1.1 <" + m.address + ">: Recipient address rejected: User unknown" : "2.1.5 ok",
                                      !refused});
            (refused ? any_refused : any_ok) = true;
        }
        out.status = any_refused ? (any_ok ? DeliveryResult::Status::Partial : DeliveryResult::Status::PermFail)
                                 : DeliveryResult::Status::Accepted;
        out.detail = any_refused ? "550 5.1.1 refused" : "250 ok";
        std::lock_guard lock(r_.mutex);
        r_.delivered.push_back(copy);
        return out;
    }

private:
    Record& r_;
};

struct Fixture {
    explicit Fixture(std::size_t transports = 1)
        : pipeline(SendOptions{}, nullptr, nullptr),
          relay([this] { ++record.made; return std::make_unique<ScriptedTransport>(record); }, pipeline, transports,
                "mx.test") {}
    Record record;
    SendPipeline pipeline;
    MessageRelay relay;
};

// handle() on another thread, bounded: a relay that lost its transports
// waits forever, and that must be a failure, not a hung test run.
std::string handle_within(MessageRelay& relay, const SmtpEnvelope& env, const std::string& data) {
    auto task = std::make_shared<std::packaged_task<std::string()>>([&relay, env, data] { return relay.handle(env, data); });
    auto f = task->get_future();
    std::thread([task] { (*task)(); }).detach();
    if (f.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
        std::cerr << "FAIL: MessageRelay::handle did not return within 20 s (transport pool exhausted)\n";
        std::_Exit(1);
    }
    return f.get();
}

TEST(ServeMessageRelay, ATransportThatThrowsIsNotLostAndLaterMessagesAreServed) {
    Fixture fx(1);  // one transport: losing it would block every later message
    fx.record.throws_left = 3;
    SmtpEnvelope env{"app@example.com", {"a@x.test"}, "test"};
    for (int i = 0; i < 3; ++i) {
        auto reply = handle_within(fx.relay, env, kMessage);
        EXPECT_EQ(reply.substr(0, 4), "451 ") << reply;
    }
    for (int i = 0; i < 5; ++i) {
        auto reply = handle_within(fx.relay, env, kMessage);
        EXPECT_EQ(reply, "250 2.0.0 accepted: 1 copy\r\n");
    }
    EXPECT_EQ(fx.record.delivered.size(), 5u);
    EXPECT_EQ(fx.record.made.load(), 1 + 3) << "each transport that threw is replaced by a fresh one";
}

TEST(ServeMessageRelay, TheLeaseReturnsTheTransportWhenAnExceptionUnwinds) {
    Record record;
    TransportPool pool([&] { return std::make_unique<ScriptedTransport>(record); }, 2);
    try {
        auto lease = pool.acquire();
        EXPECT_EQ(pool.idle(), 1u);
        throw std::runtime_error("boom");
    } catch (const std::runtime_error&) {
    }
    EXPECT_EQ(pool.idle(), 2u);
    {
        auto a = pool.acquire();
        auto b = pool.acquire();
        EXPECT_EQ(pool.idle(), 0u);
    }
    EXPECT_EQ(pool.idle(), 2u);
}

TEST(ServeMessageRelay, ARecipientRefusedAfterAnotherWasAcceptedGets250AndADsnToTheSender) {
    Fixture fx;
    fx.record.refuse = "b@y.test";
    SmtpEnvelope env{"app@example.com", {"a@x.test", "b@y.test"}, "test"};
    auto reply = handle_within(fx.relay, env, kMessage);
    EXPECT_EQ(reply, "250 2.0.0 accepted: 1 copy\r\n");
    ASSERT_EQ(fx.record.delivered.size(), 2u) << "the message, then the DSN";
    const auto& dsn = fx.record.delivered[1];
    EXPECT_EQ(dsn.mail_from, "") << "a DSN has a null reverse-path";
    ASSERT_EQ(dsn.recipients.size(), 1u);
    EXPECT_EQ(dsn.recipients[0].address, "app@example.com");
    EXPECT_NE(dsn.message.find("report-type=delivery-status"), std::string::npos);
    EXPECT_NE(dsn.message.find("Final-Recipient: rfc822; b@y.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"
                               "Diagnostic-Code: smtp; 550 5.1.1 <b@y.test>: Recipient address rejected: User unknown\r\n"),
              std::string::npos) << dsn.message;
    EXPECT_EQ(dsn.message.find("Final-Recipient: rfc822; a@x.test"), std::string::npos);
    EXPECT_NE(dsn.message.find("Reporting-MTA: dns; mx.test\r\n"), std::string::npos);
    EXPECT_NE(dsn.message.find("Subject: s1\r\n"), std::string::npos) << "the original's headers";
}

TEST(ServeMessageRelay, NoDsnForAMessageWhoseSenderIsNull) {
    Fixture fx;
    fx.record.refuse = "b@y.test";
    SmtpEnvelope env{"", {"a@x.test", "b@y.test"}, "test"};
    auto reply = handle_within(fx.relay, env, kMessage);
    EXPECT_EQ(reply, "250 2.0.0 accepted: 1 copy\r\n");
    EXPECT_EQ(fx.record.delivered.size(), 1u) << "only the message itself";
}

TEST(ServeMessageRelay, EveryRecipientRefusedIs554AndNoDsn) {
    Fixture fx;
    fx.record.refuse = "b@y.test";
    SmtpEnvelope env{"app@example.com", {"b@y.test"}, "test"};
    auto reply = handle_within(fx.relay, env, kMessage);
    EXPECT_EQ(reply.substr(0, 4), "554 ") << reply;
    EXPECT_EQ(fx.record.delivered.size(), 1u) << "the attempt, and no DSN: the client gets the 554 itself";
}

}  // namespace
}  // namespace sealpost
