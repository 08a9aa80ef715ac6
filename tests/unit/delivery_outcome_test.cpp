// delivery_outcome_test.cpp: the one table from per-copy results to `send`'s
// exit code and `serve`'s SMTP reply.
#include <gtest/gtest.h>

#include "delivery_outcome.hpp"

using namespace sealpost;
using Status = DeliveryResult::Status;

namespace {
DeliveryResult copy(Status s, std::vector<RecipientResult> rcpts = {}, std::string detail = "reply") {
    return {s, std::move(detail), std::move(rcpts)};
}
RecipientResult rcpt(const char* a, int code, bool ok) { return {a, code, "text", ok}; }
}  // namespace

TEST(DeliveryOutcome, EveryCopyAcceptedIsDeliveredExit0And250) {
    auto s = summarize_delivery({copy(Status::Accepted), copy(Status::Accepted)});
    EXPECT_EQ(s.outcome, MessageOutcome::Delivered);
    EXPECT_EQ(exit_code_for(s.outcome), 0);
    EXPECT_EQ(smtp_reply_for(s), "250 2.0.0 accepted: 2 copies\r\n");
}

TEST(DeliveryOutcome, AnyDeferredRecipientDefersTheWholeMessage) {
    auto s = summarize_delivery({copy(Status::Accepted), copy(Status::PermFail),
                                 copy(Status::TempFail, {}, "421 busy")});
    EXPECT_EQ(s.outcome, MessageOutcome::Deferred);
    EXPECT_EQ(exit_code_for(s.outcome), 75);
    EXPECT_EQ(smtp_reply_for(s).substr(0, 4), "451 ");
    auto partial = summarize_delivery({copy(Status::Partial, {rcpt("a@x", 250, true), rcpt("b@x", 452, false)})});
    EXPECT_EQ(partial.outcome, MessageOutcome::Deferred);
}

TEST(DeliveryOutcome, RefusedWithNothingAcceptedIsRejected554) {
    auto s = summarize_delivery({copy(Status::PermFail, {}, "550 no such user")});
    EXPECT_EQ(s.outcome, MessageOutcome::Rejected);
    EXPECT_EQ(exit_code_for(s.outcome), 69);
    EXPECT_EQ(smtp_reply_for(s), "554 5.0.0 upstream rejected: 550 no such user\r\n");
}

// One recipient of one copy refused: the other recipient has the message,
// so the client must not bounce it all (250, and serve sends a DSN).
TEST(DeliveryOutcome, OneRecipientRefusedInsideACopyIsPartlyRejected) {
    auto s = summarize_delivery({copy(Status::Partial, {rcpt("a@x", 250, true), rcpt("b@x", 550, false)})});
    EXPECT_EQ(s.outcome, MessageOutcome::PartlyRejected);
    EXPECT_EQ(exit_code_for(s.outcome), 69);
    EXPECT_EQ(smtp_reply_for(s).substr(0, 4), "250 ");
    auto copies = summarize_delivery({copy(Status::Accepted), copy(Status::PermFail)});
    EXPECT_EQ(copies.outcome, MessageOutcome::PartlyRejected);
}

TEST(DeliveryOutcome, AnUnattributedApiRefusalIsPermanent) {
    auto s = summarize_delivery({copy(Status::Partial, {})});
    EXPECT_EQ(s.outcome, MessageOutcome::PartlyRejected);
    EXPECT_EQ(exit_code_for(s.outcome), 69);
}
