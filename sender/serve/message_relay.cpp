// message_relay.cpp: pipeline + transport -> SMTP reply (+ DSN for
// recipients refused after partial acceptance).
#include "message_relay.hpp"

#include <unistd.h>

#include <ctime>

#include "dsn.hpp"
#include "errors.hpp"
#include "log.hpp"
#include "mime.hpp"

namespace sealpost {
namespace {

std::string local_host_name() {
    char host[256] = "localhost";
    ::gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    return host;
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
    Trace trace("serve: message from " + envelope.client + " <" + printable(envelope.mail_from, 120) + "> to " +
                std::to_string(envelope.recipients.size()) + " recipient(s), " + std::to_string(data.size()) + " bytes");
    try {
        return relay(envelope, data, trace);
    } catch (const std::exception& e) {
        trace.error("internal error: {}", e.what());
        return "451 4.3.0 internal error, try again later\r\n";
    }
}

std::string MessageRelay::relay(const SmtpEnvelope& envelope, const std::string& data, Trace& trace) {
    const std::time_t arrival = std::time(nullptr);
    std::vector<Mailbox> rcpts;
    for (const auto& r : envelope.recipients) {
        try {
            rcpts.push_back({"", normalise_address(r)});
        } catch (const Error& e) {
            trace.error("rejected: {}", e.what());
            return "553 5.1.3 recipient <" + printable(r, 100) + "> is not a valid address\r\n";
        }
    }
    std::vector<OutputCopy> copies;
    try {
        copies = pipeline_.process(data, trace, arrival, &rcpts, &envelope.mail_from);
    } catch (const Error& e) {
        trace.error("not accepted: {}", e.what());
        if (e.kind() == ErrorKind::Input) return "554 5.6.0 " + printable(e.what(), 300) + "\r\n";
        // Our configuration or keys: the operator must act; the client keeps the message.
        return "451 4.3.5 " + printable(e.what(), 300) + "\r\n";
    }

    auto transport = pool_.acquire();
    std::size_t accepted = 0, temp = 0;
    std::vector<DsnFailure> refused;  // permanent, per recipient
    std::string detail;
    for (auto& copy : copies) {
        DeliveryResult result;
        try {
            result = transport->deliver(copy);
        } catch (const std::exception& e) {
            // A backend bug or an exhausted resource: the copy's fate is
            // unknown, so the client retries (a copy may arrive twice).
            transport.mark_broken();
            trace.error("transport {} failed on {}: {}", transport->name(), copy.label, e.what());
            ++temp;
            detail = "internal error in the transport";
            continue;
        }
        for (const auto& rr : result.recipients)
            if (!rr.accepted || rr.code != 0) trace.info("{}: {} {}", rr.address, rr.code, printable(rr.text, 200));
        switch (result.status) {
            case DeliveryResult::Status::Accepted:
                accepted += copy.recipients.size();
                trace.info("delivered {} via {}: {}", copy.label, transport->name(), printable(result.detail, 200));
                break;
            case DeliveryResult::Status::TempFail:
                ++temp;
                detail = result.detail;
                trace.warn("deferred {}: {}", copy.label, printable(result.detail, 300));
                break;
            case DeliveryResult::Status::PermFail:
                detail = result.detail;
                trace.error("rejected {}: {}", copy.label, printable(result.detail, 300));
                if (result.recipients.empty())
                    for (const auto& m : copy.recipients) refused.push_back({m.address, 0, result.detail});
                for (const auto& rr : result.recipients)
                    if (!rr.accepted) refused.push_back({rr.address, rr.code, rr.code ? rr.text : result.detail});
                break;
            case DeliveryResult::Status::Partial:
                detail = result.detail;
                trace.warn("partly delivered {}: {}", copy.label, printable(result.detail, 300));
                for (const auto& rr : result.recipients) {
                    if (rr.accepted) ++accepted;
                    else if (rr.code >= 500) refused.push_back({rr.address, rr.code, rr.text});
                    else ++temp;
                }
                break;
        }
    }
    // Any temporary failure: the client retries the whole message (a copy
    // may then arrive twice; nothing is lost). Permanent failures with
    // nothing accepted: 554, the client bounces it. Otherwise 250, and the
    // refused recipients get a DSN: after 250 the message is ours.
    if (temp > 0) return "451 4.4.0 upstream deferred: " + printable(detail, 300) + "\r\n";
    if (!refused.empty() && accepted == 0) return "554 5.0.0 upstream rejected: " + printable(detail, 300) + "\r\n";
    if (!refused.empty()) {
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
    return "250 2.0.0 accepted: " + std::to_string(copies.size()) + " cop" + (copies.size() == 1 ? "y" : "ies") + "\r\n";
}

}  // namespace sealpost
