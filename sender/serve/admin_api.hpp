// admin_api.hpp: the admin listener's answers as a plain function of the
// request (no sockets): handle(request) -> response. Endpoints:
//   GET  /metrics                      Prometheus text (token unless metrics_public)
//   GET  /v1/recipients/{address}      can we encrypt now; which certificate, or why not
//   GET  /v1/certificates[?expiring=Nd]  stored certificates (usable, expiring within N days)
//   GET  /v1/certificates/{address}    the certificate and its evidence
//   DELETE /v1/certificates/{address}  forget it (logged with the client address)
// Authentication first: `Authorization: Bearer <token>`, compared in
// constant time (CRYPTO_memcmp over SHA-256 digests) -> 401 without or with a
// wrong token. With no token configured (allowed on loopback only, see
// admin_server.hpp) reads are open and DELETE is 403. JSON error bodies
// {"error": "..."}; 404 unknown paths, 405 (with Allow) wrong methods, 400 a
// bad address or query. Store failures are 500 with the reason logged.
// Sizes are bounded by the server before this runs.
#pragma once

#include <ctime>
#include <functional>
#include <string>

#include "cert_store.hpp"
#include "recipient_status.hpp"
#include "revocation_options.hpp"
#include "token_digest.hpp"

namespace sealpost {

struct AdminRequest {
    std::string method;         // "GET"
    std::string target;         // path and query, still percent-encoded
    std::string authorization;  // the Authorization header
    std::string peer;           // client address, for the log
};

struct AdminResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::string allow;  // for 405
};

struct AdminOptions {
    std::string token;            // "" = none configured
    bool metrics_public = false;  // GET /metrics without the token
    std::string cipher;           // [sender] cipher when set (validated), else ""
    RevocationOptions revocation; // [revocation]: the cached status counts, as at send
};

class AdminApi {
public:
    using Clock = std::function<std::time_t()>;
    AdminApi(AdminOptions options, CertStore& store, Clock clock = nullptr);

    // Never throws; counts sealpost_admin_requests_total{status}.
    AdminResponse handle(const AdminRequest& request) const;

private:
    AdminResponse route(const AdminRequest& request) const;
    bool authorized(const std::string& header) const;

    AdminOptions options_;
    TokenDigest token_digest_;
    CertStore& store_;
    Clock clock_;
};

}  // namespace sealpost
