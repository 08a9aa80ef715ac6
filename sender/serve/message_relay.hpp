// message_relay.hpp: what `serve` does with one message accepted over SMTP:
// the send pipeline (sign, auto-encrypt, split) and the configured
// transport, then the SMTP reply that tells the client the truth: 250 only
// when every recipient was accepted by the transport (or is durable in the
// outbox) or permanently refused with a DSN sent for it, 4xx when the client
// should retry, 5xx when it must not.
// Transports come from a TransportPool (an RAII lease per message: a
// deliver() that throws never loses one). After 250 a message is ours: for
// every recipient the upstream permanently refused while others were
// accepted, an RFC 3464 DSN (dsn.hpp) goes to the envelope sender through
// the same transport with a null reverse-path; never for a message whose
// sender is already null (logged as an error instead, like a DSN that
// cannot be delivered).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "config.hpp"
#include "send_pipeline.hpp"
#include "smtp_listener.hpp"
#include "transport_pool.hpp"

namespace sealpost {

class MessageRelay {
public:
    // Transports from config ([relay] out-dir | smtp | api); throws Error(Config).
    MessageRelay(const Config& config, const SendPipeline& pipeline, std::size_t transports);
    // The seam for tests: transports from `factory`.
    MessageRelay(TransportFactory factory, const SendPipeline& pipeline, std::size_t transports,
                 std::string reporting_mta = "localhost");

    // Never throws: every failure becomes a 4xx or 5xx reply.
    std::string handle(const SmtpEnvelope& envelope, const std::string& data);

private:
    std::string relay(const SmtpEnvelope& envelope, const std::string& data, Trace& trace,
                      std::chrono::steady_clock::time_point start);

    const SendPipeline& pipeline_;
    TransportPool pool_;
    std::string reporting_mta_;
};

}  // namespace sealpost
