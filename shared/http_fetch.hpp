// http_fetch.hpp: one bounded HTTP request with libcurl, for CRLs (GET) and
// OCSP (POST). Only http and https, also after a redirect; at most 3
// redirects; a connect timeout and a total timeout; the body is cut off
// (and the fetch fails) past max_bytes; only status 200 is success.
//
// Trusts nothing it receives: the caller verifies the signature of what
// comes back. Never throws for a network problem: the result says what
// went wrong ("http://127.0.0.1:9/x.crl: Couldn't connect to server").
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace sealpost {

struct FetchResult {
    bool ok = false;
    long status = 0;
    std::string body;
    std::string error;
};

struct FetchRequest {
    std::string url;
    std::optional<std::string> post_body;  // POST when set
    std::string content_type;              // of the POST body
    long timeout = 10;                     // seconds, whole transfer
    std::size_t max_bytes = 20 * 1024 * 1024;
};

FetchResult http_fetch(const FetchRequest& request);

}  // namespace sealpost
