// message_relay.cpp: pipeline + transport -> SMTP reply.
#include "message_relay.hpp"

#include <chrono>
#include <ctime>

#include "errors.hpp"
#include "log.hpp"
#include "metrics.hpp"

namespace sealpost {

MessageRelay::MessageRelay(const Config& config, const SendPipeline& pipeline, std::size_t transports)
    : pipeline_(pipeline) {
    for (std::size_t i = 0; i < std::max<std::size_t>(1, transports); ++i) idle_.push_back(make_transport(config));
    if (std::string(idle_.front()->name()) == "stdout")
        fail(ErrorKind::Config, "serve: no transport configured: set [relay] out-dir, smtp or api");
}

std::unique_ptr<Transport> MessageRelay::checkout() {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return !idle_.empty(); });
    auto t = std::move(idle_.back());
    idle_.pop_back();
    return t;
}

void MessageRelay::checkin(std::unique_ptr<Transport> t) {
    {
        std::lock_guard lock(mutex_);
        idle_.push_back(std::move(t));
    }
    available_.notify_one();
}

namespace {

// sealpost_smtp_messages_total{result, reason} and the reply latency.
std::string counted(std::string reply, const char* reason, std::chrono::steady_clock::time_point start) {
    const char* result = reply[0] == '2' ? "accepted" : reply[0] == '4' ? "deferred" : "rejected";
    metrics::smtp_messages().inc({result, reason});
    metrics::smtp_reply_seconds().observe(
        {result}, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return reply;
}

const char* outcome_name(DeliveryResult::Status s) {
    switch (s) {
        case DeliveryResult::Status::Accepted: return "accepted";
        case DeliveryResult::Status::Partial: return "partial";
        case DeliveryResult::Status::TempFail: return "deferred";
        case DeliveryResult::Status::PermFail: return "rejected";
    }
    return "?";
}

}  // namespace

std::string MessageRelay::handle(const SmtpEnvelope& envelope, const std::string& data) {
    auto start = std::chrono::steady_clock::now();
    Trace trace("serve: message from " + envelope.client + " <" + printable(envelope.mail_from, 120) + "> to " +
                std::to_string(envelope.recipients.size()) + " recipient(s), " + std::to_string(data.size()) + " bytes");
    std::vector<Mailbox> rcpts;
    for (const auto& r : envelope.recipients) {
        try {
            rcpts.push_back({"", normalise_address(r)});
        } catch (const Error& e) {
            trace.error("rejected: {}", e.what());
            return counted("553 5.1.3 recipient <" + printable(r, 100) + "> is not a valid address\r\n",
                           "invalid-recipient", start);
        }
    }
    std::vector<OutputCopy> copies;
    try {
        copies = pipeline_.process(data, trace, std::time(nullptr), &rcpts, &envelope.mail_from);
    } catch (const Error& e) {
        trace.error("not accepted: {}", e.what());
        if (e.kind() == ErrorKind::Input || e.kind() == ErrorKind::Limit)
            return counted("554 5.6.0 " + printable(e.what(), 300) + "\r\n", "bad-message", start);
        // Our configuration or keys: the operator must act; the client keeps the message.
        return counted("451 4.3.5 " + printable(e.what(), 300) + "\r\n", "local-error", start);
    }

    auto transport = checkout();
    int accepted = 0, temp = 0, perm = 0;
    std::string detail;
    for (auto& copy : copies) {
        auto t0 = std::chrono::steady_clock::now();
        auto result = transport->deliver(copy);
        metrics::delivery_seconds().observe(
            {transport->name()}, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        metrics::copies().inc({copy.kind, outcome_name(result.status)});
        for (const auto& rr : result.recipients)
            if (!rr.accepted || rr.code != 0) trace.info("{}: {} {}", rr.address, rr.code, printable(rr.text, 200));
        switch (result.status) {
            case DeliveryResult::Status::Accepted:
                ++accepted;
                trace.info("delivered {} via {}: {}", copy.label, transport->name(), printable(result.detail, 200));
                break;
            case DeliveryResult::Status::TempFail:
                ++temp;
                detail = result.detail;
                trace.warn("deferred {}: {}", copy.label, printable(result.detail, 300));
                break;
            case DeliveryResult::Status::PermFail:
                ++perm;
                detail = result.detail;
                trace.error("rejected {}: {}", copy.label, printable(result.detail, 300));
                break;
            case DeliveryResult::Status::Partial: {
                bool any_temp = false;
                for (const auto& rr : result.recipients) any_temp = any_temp || (!rr.accepted && rr.code < 500);
                ++(any_temp ? temp : perm);
                detail = result.detail;
                trace.warn("partly delivered {}: {}", copy.label, printable(result.detail, 300));
                break;
            }
        }
    }
    checkin(std::move(transport));
    // Any temporary failure: the client retries the whole message (a copy
    // may then arrive twice; nothing is lost). Permanent failures with
    // nothing accepted: 554. Otherwise the accepted copies stand.
    if (temp > 0) return counted("451 4.4.0 upstream deferred: " + printable(detail, 300) + "\r\n", "upstream-deferred", start);
    if (perm > 0 && accepted == 0)
        return counted("554 5.0.0 upstream rejected: " + printable(detail, 300) + "\r\n", "upstream-rejected", start);
    if (perm > 0) trace.error("some copies were rejected upstream and are not retried: {}", printable(detail, 300));
    return counted("250 2.0.0 accepted: " + std::to_string(copies.size()) + " cop" + (copies.size() == 1 ? "y" : "ies") + "\r\n",
                   perm > 0 ? "partly-rejected-upstream" : "delivered", start);
}

}  // namespace sealpost
