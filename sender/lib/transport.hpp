// transport.hpp: where produced copies go. A backend is chosen by name from
// config ([relay] smtp | api | out-dir, else stdout) and implements deliver().
// One Transport object per worker thread: a backend may hold a connection
// and need not be thread-safe. New backends are new files plus one line in
// make_transport() (transport_select.cpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "address.hpp"
#include "config.hpp"

namespace sealpost {

struct OutputCopy {
    std::string mail_from;               // envelope sender
    std::vector<Mailbox> recipients;     // envelope recipients
    std::string message;                 // RFC 822, CRLF
    bool signed_ = false;
    bool encrypted = false;
    std::string kind;                    // for metrics: encrypted-rsa, encrypted-ec, encrypted-mixed, signed, plain
    std::string label;                   // for the log
    std::string source;                  // input file name, for messages
    std::string trace_id;                // the message's log id (log.hpp Trace)
    std::string refusal;                 // set: never delivered, refused for this reason (policy_refusal())
};

struct RecipientResult {
    std::string address;
    int code = 0;          // SMTP reply code or HTTP status; 0 when not applicable
    std::string text;      // server's reply text
    bool accepted = false;
};

struct DeliveryResult {
    enum class Status { Accepted, Partial, TempFail, PermFail };
    Status status = Status::Accepted;
    std::string detail;                     // server reply / file path
    std::vector<RecipientResult> recipients;
};

class Transport {
public:
    virtual ~Transport() = default;
    virtual const char* name() const = 0;
    // Never throws for a delivery failure: that is the result's status.
    virtual DeliveryResult deliver(const OutputCopy& copy) = 0;
    // End of a batch made with batch = true: whatever was deferred is made
    // durable now. Throws Error(TempFail) when it cannot be.
    virtual void finish_batch() {}
};

// Chosen from config: [relay] smtp, api, out-dir (the first set, in that
// order), else stdout. Throws Error(Config) for bad settings. batch = true
// (the `send` command): a backend may defer work to finish_batch(), e.g.
// the outbox fsyncs its directory once per batch instead of once per file.
std::unique_ptr<Transport> make_transport(const Config& config, bool batch = false);

// Where the single copy goes when nothing else is configured.
std::unique_ptr<Transport> make_stdout_transport();
std::unique_ptr<Transport> make_outbox_transport(const std::string& dir, bool durable, bool batch = false);
std::unique_ptr<Transport> make_smtp_transport(const Config& config);  // smtp_transport.cpp
std::unique_ptr<Transport> make_api_transport(const Config& config);   // api_transport.cpp

}  // namespace sealpost
