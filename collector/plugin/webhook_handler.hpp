// webhook_handler.hpp: the inbound relay webhook as a plain function of the
// request (no sockets): handle(request) -> response. Answers as the
// original tool did: only POST / (405 other methods, 404 other paths),
// Content-Type application/json or 400 "Unknown Content-Type in request
// headers", the X-MessageSystems-Webhook-Token compared in constant time or
// 401 "Invalid X-MessageSystems-Webhook-Token in request headers" (all of
// these from the headers alone: check_headers(), which the HTTP server calls
// before it reads the body), malformed JSON or JSON nested deeper than 64
// levels 400, otherwise 200 whatever the verdicts (an outsider learns
// nothing about what we consider valid). Each relay_message goes through
// check_message() and finish_message(), the halves of collect_message()
// that `sealpost collect` runs; the certificates of the accepted messages
// are stored as one group commit (CertStore::put_batch, up to 64 at a time),
// durable before the batch id is committed and the 200 sent;
// email_rfc822_is_base64 is honoured with a strict RFC 4648 decoder; a batch
// id is recorded only once every message of the batch has its verdict (a
// batch cut short by a crash is processed again when redelivered); one
// already recorded is answered 200 without processing, one being processed
// right now 503. GET /healthz answers 200.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cert_store.hpp"
#include "collect.hpp"
#include "chain_check.hpp"
#include "log.hpp"
#include "token_digest.hpp"

namespace sealpost {

struct WebhookRequest {
    std::string method;        // "POST"
    std::string target;        // "/" (query string included)
    std::string content_type;
    std::string token;         // X-MessageSystems-Webhook-Token
    std::string batch_id;      // X-MessageSystems-Batch-ID
    std::string body;
    std::string peer;          // for the log
};

struct WebhookResponse {
    int status = 200;
    std::string body;          // JSON
};

class WebhookHandler {
public:
    WebhookHandler(std::string token, CollectOptions options, CertStore& store,
                   std::shared_ptr<const TrustAnchors> anchors);

    // The checks that need no body (path, method, Content-Type, token): a
    // response when the request is refused, nothing when the body may be
    // read. `request.body` is ignored.
    std::optional<WebhookResponse> check_headers(const WebhookRequest& request) const;
    WebhookResponse handle(const WebhookRequest& request) const;

    // Called with the address after each message whose certificate was
    // stored and became current (the plugin hands it to the host).
    void on_stored(std::function<void(const std::string&)> f) { on_stored_ = std::move(f); }

private:
    bool token_matches(const std::string& given) const;
    std::optional<WebhookResponse> refuse(const WebhookRequest& request, const std::string& path, Trace& trace) const;

    TokenDigest token_digest_;  // not configured: every request is let in
    CollectOptions options_;
    CertStore& store_;
    std::shared_ptr<const TrustAnchors> anchors_;
    std::function<void(const std::string&)> on_stored_;
};

}  // namespace sealpost
