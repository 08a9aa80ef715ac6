// webhook_handler.cpp: request checks in the original's order, then the batch.
#include "ascii.hpp"
#include "webhook_handler.hpp"

#include <nlohmann/json.hpp>

#include "bounded_json.hpp"
#include "errors.hpp"
#include "json_response.hpp"
#include "log.hpp"
#include "mime.hpp"
#include "strict_base64.hpp"

namespace sealpost {
namespace {

// Accepted messages whose certificates are stored as one group.
constexpr std::size_t kGroup = 64;

WebhookResponse message(int status, const char* text) {
    return {status, json_message_body("message", text, JsonLayout::Compact)};
}

bool is_json_content_type(std::string_view ct) {
    auto semi = ct.find(';');
    std::string_view media = ct.substr(0, semi);
    while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
    return iequals(media, "application/json");
}

}  // namespace

WebhookHandler::WebhookHandler(std::string token, CollectOptions options, CertStore& store,
                               std::shared_ptr<const TrustAnchors> anchors)
    : token_digest_(token), options_(std::move(options)), store_(store),
      anchors_(std::move(anchors)) {}

bool WebhookHandler::token_matches(const std::string& given) const {
    return !token_digest_.configured() || token_digest_.matches(given);
}

std::optional<WebhookResponse> WebhookHandler::refuse(const WebhookRequest& req, const std::string& path,
                                                     Trace& trace) const {
    if (path != "/") {
        trace.info("404: unknown path");
        return message(404, "Not Found");
    }
    if (req.method != "POST") {
        trace.info("405: method not allowed");
        return message(405, "Method Not Allowed");
    }
    if (!is_json_content_type(req.content_type)) {
        trace.warn("400: content-type={}", printable(req.content_type, 100));
        return message(400, "Unknown Content-Type in request headers");
    }
    if (!token_matches(req.token)) {
        trace.warn("401: invalid webhook token");
        return message(401, "Invalid X-MessageSystems-Webhook-Token in request headers");
    }
    return std::nullopt;
}

std::optional<WebhookResponse> WebhookHandler::check_headers(const WebhookRequest& req) const {
    std::string path = req.target.substr(0, req.target.find('?'));
    if (path == "/healthz" && (req.method == "GET" || req.method == "HEAD")) return std::nullopt;
    // Quiet unless refused: handle() logs the request that goes on.
    bool refused = path != "/" || req.method != "POST" || !is_json_content_type(req.content_type) ||
                   !token_matches(req.token);
    if (!refused) return std::nullopt;
    Trace trace("Request from " + printable(req.peer, 60) + ", method=" + printable(req.method, 16) +
                ", path=" + printable(path, 100) + " (refused before the body was read)");
    return refuse(req, path, trace);
}

WebhookResponse WebhookHandler::handle(const WebhookRequest& req) const {
    std::string path = req.target.substr(0, req.target.find('?'));
    if (path == "/healthz" && (req.method == "GET" || req.method == "HEAD")) return {200, R"({"status":"ok"})"};
    Trace trace("Request from " + printable(req.peer, 60) + ", method=" + printable(req.method, 16) +
                ", path=" + printable(path, 100));
    if (path == "/" && req.method == "POST")
        trace.info("len(body)={} batch-id={}", req.body.size(), printable(req.batch_id, 130));
    if (auto r = refuse(req, path, trace)) return *r;
    std::string why;
    auto parsed = parse_json_bounded(req.body, kMaxJsonDepth, why);
    if (!parsed || !parsed->is_array()) {
        trace.warn("400: body is not a JSON array: {}", parsed ? "another JSON value" : printable(why, 200));
        return message(400, "Malformed JSON in request body");
    }
    const nlohmann::json& batch = *parsed;
    bool has_id = CertStore::valid_batch_id(req.batch_id);
    bool claimed = false;
    if (has_id) {
        BatchClaim claim;
        try {
            // The store's claim: across nodes when the store is shared.
            claim = store_.claim_batch(req.batch_id);
        } catch (const Error& e) {
            trace.error("500: batch id not checked: {}", e.what());
            return message(500, "Internal Server Error");
        }
        switch (claim) {
            case BatchClaim::Done:
                trace.info("batch {} already processed: not processed again", req.batch_id);
                return message(200, "ok");
            case BatchClaim::Busy:
                trace.warn("503: batch {} is being processed by another request", req.batch_id);
                return message(503, "Batch is being processed, retry later");
            case BatchClaim::Mine:
                claimed = true;
                break;
        }
    }
    std::size_t index = 0, stored = 0, rejected = 0;
    // Group commit: the certificates of the accepted messages are stored
    // together (CertStore::put_batch: every file fsynced before its rename,
    // each directory fsynced once), kGroup at most at a time, all before the
    // batch is committed and answered. Until then nothing is promised.
    std::vector<CheckedMessage> pending;
    auto flush = [&] {
        if (pending.empty()) return;
        std::vector<PutRequest> puts;
        puts.reserve(pending.size());
        for (auto& m : pending) puts.push_back(PutRequest{m.put->address, x509_ref(m.put->cert.get()), m.put->meta});
        std::vector<PutResult> results;
        try {
            results = store_.put_batch(std::move(puts));
        } catch (const std::exception& e) {
            for (auto& m : pending) fail_message(m, e);
            throw;
        }
        for (std::size_t i = 0; i < pending.size(); ++i) {
            Verdict v = finish_message(pending[i], results[i], store_);
            (v.accepted() ? stored : rejected)++;
            if (v.outcome == VerdictOutcome::Stored && v.reason != VerdictReason::OlderIgnored && on_stored_ &&
                !v.address.empty())
                on_stored_(v.address);
        }
        pending.clear();
    };
    try {
        for (const auto& item : batch) {
            ++index;
            const nlohmann::json* rm = nullptr;
            if (item.is_object() && item.contains("msys") && item["msys"].is_object() &&
                item["msys"].contains("relay_message") && item["msys"]["relay_message"].is_object())
                rm = &item["msys"]["relay_message"];
            const nlohmann::json* content = rm && rm->contains("content") && (*rm)["content"].is_object()
                                                ? &(*rm)["content"] : nullptr;
            if (!content || !content->contains("email_rfc822") || !(*content)["email_rfc822"].is_string()) {
                trace.warn("message {}: no msys.relay_message.content.email_rfc822: skipped", index);
                ++rejected;
                continue;
            }
            std::string raw = (*content)["email_rfc822"].get<std::string>();
            bool b64 = content->contains("email_rfc822_is_base64") && (*content)["email_rfc822_is_base64"].is_boolean() &&
                       (*content)["email_rfc822_is_base64"].get<bool>();
            if (b64) {
                try {
                    raw = strict_base64_decode(raw);
                } catch (const Error& e) {
                    trace.warn("message {}: email_rfc822 is not valid base64: {}", index, e.what());
                    ++rejected;
                    continue;
                }
            }
            std::string msg_from = rm->contains("msg_from") && (*rm)["msg_from"].is_string()
                                       ? (*rm)["msg_from"].get<std::string>() : "";
            std::string rcpt_to = rm->contains("rcpt_to") && (*rm)["rcpt_to"].is_string()
                                      ? (*rm)["rcpt_to"].get<std::string>() : "";
            trace.info("message {}: msg_from={},rcpt_to={},len(email_rfc822)={}{}", index, printable(msg_from, 100),
                       printable(rcpt_to, 100), raw.size(), b64 ? " (was base64)" : "");
            CheckedMessage m = check_message(raw, options_, store_, *anchors_,
                                             "webhook message " + std::to_string(index) +
                                                 (has_id ? " of batch " + req.batch_id : std::string()));
            if (m.verdict) {
                (m.verdict->accepted() ? stored : rejected)++;
                continue;
            }
            pending.push_back(std::move(m));
            if (pending.size() >= kGroup) flush();
        }
        flush();
    } catch (const std::exception& e) {
        // The environment failed (store not writable): let the provider retry.
        trace.error("500: {}", e.what());
        try {
            if (claimed) store_.release_batch(req.batch_id);
        } catch (const Error& re) {
            trace.error("batch {}: its claim could not be released ({}): a redelivery gets 503 until the claim is stale, then is processed",
                        req.batch_id, re.what());
        }
        return message(500, "Internal Server Error");
    }
    // Every verdict is durable (put_batch returned): only now is the batch
    // done, and only then is it answered.
    if (claimed) {
        try {
            store_.commit_batch(req.batch_id);
        } catch (const Error& e) {
            // Every verdict is stored; only the record of the batch is missing:
            // a redelivery is processed again (harmless: already current).
            trace.error("batch {}: processed but not recorded as done ({})", req.batch_id, e.what());
        }
    }
    trace.info("batch done: {} message(s), {} accepted, {} rejected", index, stored, rejected);
    return message(200, "ok");
}

}  // namespace sealpost
