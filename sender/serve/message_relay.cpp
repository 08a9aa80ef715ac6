// message_relay.cpp: pipeline + transport -> SMTP reply (+ DSN for
// recipients refused after partial acceptance).
#include "message_relay.hpp"

#include <unistd.h>

#include <chrono>
#include <ctime>

#include "delivery_outcome.hpp"
#include "dsn.hpp"
#include "errors.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "mime.hpp"

namespace sealpost {
namespace {

std::string local_host_name() {
    char host[256] = "localhost";
    ::gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    return host;
}

// sealpost_smtp_messages_total{result, reason} and the reply latency.
std::string counted(std::string reply, const char* reason, std::chrono::steady_clock::time_point start) {
    const char* result = reply[0] == '2' ? "accepted" : reply[0] == '4' ? "deferred" : "rejected";
    metrics::smtp_messages().inc({result, reason});
    metrics::smtp_reply_seconds().observe(
        {result}, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return reply;
}

// The reason label of sealpost_smtp_messages_total for a relayed message.
const char* reason_for(MessageOutcome o) {
    switch (o) {
        case MessageOutcome::Delivered: return "delivered";
        case MessageOutcome::PartlyRejected: return "partly-rejected-upstream";
        case MessageOutcome::Deferred: return "upstream-deferred";
        case MessageOutcome::Rejected: return "upstream-rejected";
    }
    return "?";
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

// Delivers one copy and logs it; a transport that throws is marked broken
// (the pool replaces it) and the copy counts as deferred: its fate is
// unknown, so the client retries (a copy may then arrive twice).
DeliveryResult deliver_logged(TransportPool::Lease& transport, const OutputCopy& copy, Trace& trace) {
    if (!copy.refusal.empty()) {
        metrics::copies().inc({copy.kind, "rejected"});
        return policy_refusal(copy);
    }
    DeliveryResult result;
    auto t0 = std::chrono::steady_clock::now();
    try {
        result = transport->deliver(copy);
        metrics::delivery_seconds().observe(
            {transport->name()}, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        metrics::copies().inc({copy.kind, outcome_name(result.status)});
    } catch (const std::exception& e) {
        transport.mark_broken();
        trace.error("transport {} failed on {}: {}", transport->name(), copy.label, e.what());
        result.status = DeliveryResult::Status::TempFail;
        result.detail = "internal error in the transport";
        return result;
    }
    for (const auto& rr : result.recipients)
        if (!rr.accepted || rr.code != 0) trace.info("{}: {} {}", rr.address, rr.code, printable(rr.text, 200));
    switch (result.status) {
        case DeliveryResult::Status::Accepted:
            trace.info("delivered {} via {}: {}", copy.label, transport->name(), printable(result.detail, 200));
            break;
        case DeliveryResult::Status::TempFail: trace.warn("deferred {}: {}", copy.label, printable(result.detail, 300)); break;
        case DeliveryResult::Status::PermFail: trace.error("rejected {}: {}", copy.label, printable(result.detail, 300)); break;
        case DeliveryResult::Status::Partial:
            trace.warn("partly delivered {}: {}", copy.label, printable(result.detail, 300));
            break;
    }
    return result;
}

// The recipients the upstream refused permanently, with its reply, for the DSN.
std::vector<DsnFailure> refused_recipients(const std::vector<OutputCopy>& copies,
                                           const std::vector<DeliveryResult>& results) {
    std::vector<DsnFailure> refused;
    for (std::size_t i = 0; i < results.size(); ++i) {
        const auto& result = results[i];
        if (result.status == DeliveryResult::Status::PermFail && result.recipients.empty())
            for (const auto& m : copies[i].recipients) refused.push_back({m.address, 0, result.detail});
        if (result.status != DeliveryResult::Status::PermFail && result.status != DeliveryResult::Status::Partial)
            continue;
        for (const auto& rr : result.recipients)
            if (!rr.accepted && (rr.code >= 500 || result.status == DeliveryResult::Status::PermFail))
                refused.push_back({rr.address, rr.code, rr.code ? rr.text : result.detail});
    }
    return refused;
}

}  // namespace

MessageRelay::MessageRelay(const Config& config, const SendPipeline& pipeline, std::size_t transports)
    : MessageRelay([&config] { return make_transport(config); }, pipeline, transports, local_host_name()) {}

MessageRelay::MessageRelay(TransportFactory factory, const SendPipeline& pipeline, std::size_t transports,
                           std::string reporting_mta)
    : pipeline_(pipeline), pool_(std::move(factory), transports), reporting_mta_(std::move(reporting_mta)) {
    const Transport* t = pool_.peek();
    if (t && std::string(t->name()) == "stdout")
        fail(ErrorKind::Config, "serve: no transport configured: set [relay] out-dir, smtp or api");
}


std::string MessageRelay::handle(const SmtpEnvelope& envelope, const std::string& data) {
    const auto start = std::chrono::steady_clock::now();
    Trace trace("serve: message from " + envelope.client + " <" + printable(envelope.mail_from, 120) + "> to " +
                std::to_string(envelope.recipients.size()) + " recipient(s), " + std::to_string(data.size()) + " bytes");
    try {
        return relay(envelope, data, trace, start);
    } catch (const std::exception& e) {
        trace.error("internal error: {}", e.what());
        return counted("451 4.3.0 internal error, try again later\r\n", "internal-error", start);
    }
}

std::string MessageRelay::relay(const SmtpEnvelope& envelope, const std::string& data, Trace& trace,
                                std::chrono::steady_clock::time_point start) {
    const std::time_t arrival = std::time(nullptr);
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
        copies = pipeline_.process(data, trace, arrival, &rcpts, &envelope.mail_from);
    } catch (const Error& e) {
        trace.error("not accepted: {}", e.what());
        if (e.kind() == ErrorKind::Input || e.kind() == ErrorKind::Limit)
            return counted("554 5.6.0 " + printable(e.what(), 300) + "\r\n", "bad-message", start);
        // Our configuration or keys: the operator must act; the client keeps the message.
        return counted("451 4.3.5 " + printable(e.what(), 300) + "\r\n", "local-error", start);
    }

    auto transport = pool_.acquire();
    std::vector<DeliveryResult> results;
    for (auto& copy : copies) results.push_back(deliver_logged(transport, copy, trace));
    // One table for the reply and `send`'s exit code (delivery_outcome.hpp).
    // After 250 the message is ours: recipients refused while others were
    // accepted get a DSN.
    DeliverySummary summary = summarize_delivery(results);
    if (summary.outcome != MessageOutcome::PartlyRejected) return counted(smtp_reply_for(summary), reason_for(summary.outcome), start);
    std::vector<DsnFailure> refused = refused_recipients(copies, results);
    if (refused.empty()) {
        trace.error("the upstream refused recipients it did not name ({}); no DSN can name them",
                    printable(summary.detail, 300));
    } else {
        if (envelope.mail_from.empty()) {
            trace.error("{} recipient(s) refused upstream after others were accepted; no DSN: the sender is null",
                        refused.size());
        } else {
            DsnRequest req{reporting_mta_, envelope.mail_from, data, refused, arrival, std::time(nullptr), random_hex(12)};
            OutputCopy dsn;
            dsn.mail_from = "";  // null reverse-path: a DSN never bounces
            dsn.recipients = {{"", envelope.mail_from}};
            dsn.message = build_dsn(req);
            dsn.label = "DSN to <" + printable(envelope.mail_from, 120) + ">";
            DeliveryResult r;
            try {
                r = transport->deliver(dsn);
            } catch (const std::exception& e) {
                transport.mark_broken();
                r.status = DeliveryResult::Status::TempFail;
                r.detail = e.what();
            }
            if (r.status == DeliveryResult::Status::Accepted)
                trace.warn("{} recipient(s) refused upstream: DSN sent to <{}> via {}", refused.size(),
                           printable(envelope.mail_from, 120), transport->name());
            else
                trace.error("{} recipient(s) refused upstream and the DSN to <{}> was not accepted: {}", refused.size(),
                            printable(envelope.mail_from, 120), printable(r.detail, 300));
        }
    }
    return counted(smtp_reply_for(summary), "partly-rejected-upstream", start);
}

}  // namespace sealpost
