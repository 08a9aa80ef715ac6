// delivery_outcome.cpp: per-copy results -> one outcome (see the header's table).
#include "delivery_outcome.hpp"

#include "errors.hpp"
#include "log.hpp"

namespace sealpost {

DeliverySummary summarize_delivery(const std::vector<DeliveryResult>& results) {
    DeliverySummary s;
    s.copies = results.size();
    bool deferred = false, refused = false, accepted = false;
    for (const auto& r : results) {
        switch (r.status) {
            case DeliveryResult::Status::Accepted: accepted = true; break;
            case DeliveryResult::Status::TempFail: deferred = true; break;
            case DeliveryResult::Status::PermFail: refused = true; break;
            case DeliveryResult::Status::Partial: {
                bool attributed = false;
                for (const auto& rr : r.recipients) {
                    if (rr.accepted) {
                        accepted = true;
                        continue;
                    }
                    attributed = true;
                    (rr.code >= 500 ? refused : deferred) = true;
                }
                // The API names no refused recipient: a refusal inside an
                // accepted transmission is permanent, and the rest went out.
                if (!attributed) refused = accepted = true;
                break;
            }
        }
        if (r.status != DeliveryResult::Status::Accepted) s.detail = r.detail;
    }
    if (deferred) s.outcome = MessageOutcome::Deferred;
    else if (refused) s.outcome = accepted ? MessageOutcome::PartlyRejected : MessageOutcome::Rejected;
    else s.outcome = MessageOutcome::Delivered;
    return s;
}

int exit_code_for(MessageOutcome outcome) {
    switch (outcome) {
        case MessageOutcome::Delivered: return kExitOk;
        case MessageOutcome::Deferred: return kExitTempFail;
        case MessageOutcome::Rejected:
        case MessageOutcome::PartlyRejected: return kExitUnavailable;
    }
    return kExitSoftware;
}

std::string smtp_reply_for(const DeliverySummary& s) {
    switch (s.outcome) {
        case MessageOutcome::Deferred: return "451 4.4.0 upstream deferred: " + printable(s.detail, 300) + "\r\n";
        case MessageOutcome::Rejected:
            if (s.detail.rfind("5.7.1 refused by policy", 0) == 0)  // policy_refusal(): not the upstream's
                return "554 " + printable(s.detail, 300) + "\r\n";
            return "554 5.0.0 upstream rejected: " + printable(s.detail, 300) + "\r\n";
        case MessageOutcome::PartlyRejected:
        case MessageOutcome::Delivered: break;
    }
    return "250 2.0.0 accepted: " + std::to_string(s.copies) + " cop" + (s.copies == 1 ? "y" : "ies") + "\r\n";
}

const char* to_string(MessageOutcome outcome) {
    switch (outcome) {
        case MessageOutcome::Delivered: return "delivered";
        case MessageOutcome::PartlyRejected: return "partly rejected";
        case MessageOutcome::Deferred: return "deferred";
        case MessageOutcome::Rejected: return "rejected";
    }
    return "?";
}

DeliveryResult policy_refusal(const OutputCopy& copy) {
    DeliveryResult r;
    r.status = DeliveryResult::Status::PermFail;
    r.detail = "5.7.1 refused by policy: " + copy.refusal;
    for (const auto& m : copy.recipients) r.recipients.push_back({m.address, 550, r.detail, false});
    return r;
}

}  // namespace sealpost
