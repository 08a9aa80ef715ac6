// ocsp_check.hpp: OCSP (RFC 6960) with OpenSSL's OCSP API over an HTTP
// POST (http_fetch.hpp) to the responder named in the certificate's
// authorityInfoAccess; a verified response is cached as
// <store>/.ocsp/<certificate-sha256>.der and used until its nextUpdate.
// No nonce (responders that precompute answers ignore it; freshness comes
// from thisUpdate/nextUpdate, checked with 5 minutes of clock skew).
//
// Trusts a response only when its signature verifies and its signer is the
// issuing CA itself or a responder that CA delegated (OCSPSigning), and it
// answers for exactly this certificate. Anything else is a problem value,
// never an exception (Error(TempFail) only when the cache cannot be written).
#pragma once

#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "handles.hpp"
#include "revocation_options.hpp"

namespace sealpost {

enum class OcspStatus { Good, Revoked, Unknown };
const char* to_string(OcspStatus s);

struct OcspInfo {
    bool have = false;  // a verified answer
    OcspStatus status = OcspStatus::Unknown;
    std::string source;   // the responder URL or the cache file
    std::string detail;   // "revoked 2026-... (keyCompromise)"
    std::time_t this_update = 0;
    std::time_t next_update = 0;  // 0: none given
    std::time_t fetched_at = 0;
    std::string problem;

    bool fresh(std::time_t now) const { return have && next_update != 0 && now < next_update; }
};

std::vector<std::string> ocsp_urls(X509* cert);

OcspInfo load_cached_ocsp(const std::filesystem::path& store_dir, X509* cert, X509* issuer);
OcspInfo fetch_ocsp(const std::filesystem::path& store_dir, X509* cert, X509* issuer, const RevocationOptions& options);

}  // namespace sealpost
