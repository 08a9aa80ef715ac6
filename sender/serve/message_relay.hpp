// message_relay.hpp: what `serve` does with one message accepted over SMTP:
// the send pipeline (sign, auto-encrypt, split) and the configured
// transport, then the SMTP reply that tells the client the truth: 250 only
// when every copy was accepted by the transport (or is durable in the
// outbox), 4xx when the client should retry, 5xx when it must not.
// Transports are pooled, one per worker thread at a time.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config.hpp"
#include "send_pipeline.hpp"
#include "smtp_listener.hpp"

namespace sealpost {

class MessageRelay {
public:
    MessageRelay(const Config& config, const SendPipeline& pipeline, std::size_t transports);

    // Never throws: every failure becomes a 4xx or 5xx reply.
    std::string handle(const SmtpEnvelope& envelope, const std::string& data);

private:
    std::unique_ptr<Transport> checkout();
    void checkin(std::unique_ptr<Transport> t);

    const SendPipeline& pipeline_;
    std::mutex mutex_;
    std::condition_variable available_;
    std::vector<std::unique_ptr<Transport>> idle_;
};

}  // namespace sealpost
