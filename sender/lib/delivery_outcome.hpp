// delivery_outcome.hpp: the one rule that turns the transport's per-copy
// results for one message into one outcome, used for `send`'s exit code and
// for `serve`'s SMTP reply alike (README "Exit codes" and "sealpost serve"
// describe the same table):
//
//   any recipient deferred (4xx, no reply, 429/5xx API after retries)
//                                   -> Deferred:       exit 75, SMTP 451
//   else some recipient refused permanently and nobody accepted
//                                   -> Rejected:       exit 69, SMTP 554
//   else some refused permanently, others accepted
//                                   -> PartlyRejected: exit 69, SMTP 250
//                                      (serve: a DSN for each refused one)
//   else                            -> Delivered:      exit 0,  SMTP 250
//
// A recipient of a Partial copy without its own reply (the API reports a
// count, not names) counts as refused permanently. Pure; unit-tested.
#pragma once

#include <string>
#include <vector>

#include "transport.hpp"

namespace sealpost {

enum class MessageOutcome { Delivered, PartlyRejected, Deferred, Rejected };

struct DeliverySummary {
    MessageOutcome outcome = MessageOutcome::Delivered;
    std::size_t copies = 0;
    std::string detail;  // the reply of the last copy that failed
};

DeliverySummary summarize_delivery(const std::vector<DeliveryResult>& results);

// 0, 69 or 75 (errors.hpp).
int exit_code_for(MessageOutcome outcome);

// The whole reply line for the SMTP client, CRLF-terminated.
std::string smtp_reply_for(const DeliverySummary& summary);

const char* to_string(MessageOutcome outcome);

// A copy the send pipeline refused by policy ([domain]/[recipient] encrypt =
// always without a certificate: OutputCopy::refusal): its result without
// delivering it: PermFail, each recipient 550 5.7.1 with the reason, so it
// counts as refused in the table above (and gets a DSN in serve).
DeliveryResult policy_refusal(const OutputCopy& copy);

}  // namespace sealpost
