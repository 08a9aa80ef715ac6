// admin_api.cpp: authentication, routing, the JSON answers.
#include "admin_api.hpp"


#include <nlohmann/json.hpp>

#include "address.hpp"
#include "cert_info.hpp"
#include "errors.hpp"
#include "json_response.hpp"
#include "log.hpp"
#include "metrics.hpp"

namespace sealpost {
namespace {

AdminResponse json(int status, const nlohmann::json& body) {
    return {status, "application/json", body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", ""};
}
AdminResponse error(int status, const std::string& text) {
    return {status, "application/json", json_message_body("error", text, JsonLayout::Pretty), ""};
}
AdminResponse not_allowed(const char* allow) {
    auto r = error(405, "method not allowed");
    r.allow = allow;
    return r;
}

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Percent-decoding of one path segment; nullopt when malformed.
std::optional<std::string> decode_segment(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;
        int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

// "30d" or "30" -> days (0..3650); nullopt otherwise.
std::optional<long> parse_days(std::string_view v) {
    if (!v.empty() && v.back() == 'd') v.remove_suffix(1);
    if (v.empty() || v.size() > 4) return std::nullopt;
    long n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + (c - '0');
    }
    if (n > 3650) return std::nullopt;
    return n;
}

}  // namespace

AdminApi::AdminApi(AdminOptions options, CertStore& store, Clock clock)
    : options_(std::move(options)), token_digest_(options_.token),
      store_(store), clock_(clock ? std::move(clock) : Clock([] { return std::time(nullptr); })) {}

bool AdminApi::authorized(const std::string& header) const {
    if (!token_digest_.configured()) return true;
    constexpr std::string_view kBearer = "Bearer ";
    std::string given = header.size() > kBearer.size() && header.compare(0, kBearer.size(), kBearer) == 0
                            ? header.substr(kBearer.size()) : std::string();
    return !given.empty() && token_digest_.matches(given);
}

AdminResponse AdminApi::handle(const AdminRequest& req) const {
    AdminResponse r;
    try {
        r = route(req);
    } catch (const std::exception& e) {
        log()->error("admin: {} {} {}: {}", printable(req.peer, 60), printable(req.method, 10),
                     printable(req.target, 200), e.what());
        r = error(500, std::string("internal error: ") + e.what());
    }
    metrics::admin_requests().inc({std::to_string(r.status)});
    return r;
}

AdminResponse AdminApi::route(const AdminRequest& req) const {
    std::string path = req.target.substr(0, req.target.find('?'));
    std::string query = req.target.find('?') == std::string::npos ? "" : req.target.substr(req.target.find('?') + 1);
    bool get = req.method == "GET" || req.method == "HEAD";

    if (path == "/metrics" && options_.metrics_public) {
        if (!get) return not_allowed("GET, HEAD");
    } else if (!authorized(req.authorization)) {
        log()->warn("admin: {}: 401 {} {}", printable(req.peer, 60), printable(req.method, 10), printable(path, 200));
        auto r = error(401, req.authorization.empty() ? "authentication required: Authorization: Bearer <token>"
                                                      : "wrong token");
        return r;
    }
    if (path == "/metrics") {
        if (!get) return not_allowed("GET, HEAD");
        return {200, "text/plain; version=0.0.4; charset=utf-8", metrics::render_all() + store_metrics(store_, clock_()), ""};
    }

    constexpr std::string_view kRecipients = "/v1/recipients/", kCertificates = "/v1/certificates";
    if (path.starts_with(kRecipients)) {
        if (!get) return not_allowed("GET, HEAD");
        auto address = decode_segment(std::string_view(path).substr(kRecipients.size()));
        if (!address || address->empty()) return error(400, "not a usable address");
        auto s = recipient_status(store_, *address, clock_(), options_.cipher, &options_.revocation);
        if (s.reason == RecipientReason::InvalidAddress) return json(400, {{"error", s.reason_text}, {"reason", to_string(s.reason)}});
        return json(200, recipient_status_json(s));
    }
    if (path == kCertificates || path == std::string(kCertificates) + "/") {
        if (!get) return not_allowed("GET, HEAD");
        std::optional<long> days;
        if (!query.empty()) {
            if (!query.starts_with("expiring=") || !(days = parse_days(std::string_view(query).substr(9))))
                return error(400, "query: use expiring=Nd (N days, 0..3650) or nothing");
        }
        std::time_t now = clock_();
        nlohmann::json list = nlohmann::json::array();
        for (const auto& address : store_.addresses()) {
            auto sc = store_.get(address);
            if (!sc) continue;
            if (days) {
                std::time_t end = not_after(sc->cert.get());
                if (end < now || end > now + *days * 86400) continue;
            }
            auto s = recipient_status(store_, address, now, options_.cipher, &options_.revocation);
            auto j = certificate_summary(*sc);
            j["status"] = to_string(s.reason);
            list.push_back(std::move(j));
        }
        nlohmann::json body{{"count", list.size()}, {"certificates", std::move(list)}};
        if (days) body["expiring_within_days"] = *days;
        return json(200, body);
    }
    if (path.starts_with(std::string(kCertificates) + "/")) {
        auto address_in = decode_segment(std::string_view(path).substr(kCertificates.size() + 1));
        if (!address_in || address_in->empty()) return error(400, "not a usable address");
        std::string address;
        try {
            address = normalise_address(*address_in);
            if (auto why = unsafe_file_name_reason(address)) fail(ErrorKind::Input, *why);
        } catch (const Error& e) {
            return error(400, std::string("not a usable address (") + e.what() + ")");
        }
        if (get) {
            auto sc = store_.get(address);
            if (!sc) return error(404, address + ": no certificate collected");
            return json(200, certificate_evidence_json(*sc));
        }
        if (req.method == "DELETE") {
            if (!token_digest_.configured()) {
                log()->warn("admin: {}: 403 DELETE {}: no [admin] token configured", printable(req.peer, 60), address);
                return error(403, "forgetting a certificate needs [admin] token to be set");
            }
            auto current = store_.get(address);
            if (!store_.forget(address)) return error(404, address + ": no certificate collected");
            std::string fp = current ? current->fingerprint : std::string("unreadable");
            log()->warn("admin: {} forgot the certificate of {} (sha256={})", printable(req.peer, 60), address, fp);
            return json(200, {{"address", address}, {"forgotten", true}, {"fingerprint", fp}});
        }
        return not_allowed("GET, HEAD, DELETE");
    }
    return error(404, "not found");
}

}  // namespace sealpost
