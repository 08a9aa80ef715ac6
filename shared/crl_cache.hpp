// crl_cache.hpp: certificate revocation lists: fetched over HTTP from a
// certificate's CRL distribution points (http_fetch.hpp), checked, and kept
// in the store directory as <store>/.crl/<issuer-sha256>.crl (DER), one
// per issuing CA: a CRL is fetched once per issuer, not once per message.
//
// Trusts a CRL only after its issuer name equals the issuer certificate's
// subject and its signature verifies with the issuer's key; a CRL that
// fails either is never written and never used ("signed by the wrong key:
// ignored"). A cached file is re-verified when it is read (a small
// in-process memo keyed by path, size and mtime keeps that cheap). Fails as
// a value (CrlInfo::problem), never by exception, except Error(TempFail)
// when the cache cannot be written.
#pragma once

#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "handles.hpp"
#include "revocation_options.hpp"

namespace sealpost {

struct CrlInfo {
    std::shared_ptr<X509_CRL> crl;  // null when none could be had
    std::string source;             // the URL or the cache file
    std::time_t this_update = 0;
    std::time_t next_update = 0;    // 0: the CRL names none
    std::time_t fetched_at = 0;     // when it was fetched (cache: file mtime)
    std::string problem;            // why there is none

    bool fresh(std::time_t now) const { return crl && next_update != 0 && now < next_update; }
};

// The http(s) URIs of the certificate's CRL distribution points.
std::vector<std::string> crl_urls(X509* cert);

// Parses (DER or PEM) and checks a CRL against its issuer.
CrlInfo verify_crl(std::string_view bytes, X509* issuer);

// The cached CRL for `issuer`, verified; problem "no CRL cached" when none.
CrlInfo load_cached_crl(const std::filesystem::path& store_dir, X509* issuer);

// Fetches the CRL for `cert` from its distribution points in turn, checks
// it against `issuer` and caches it. problem lists every URL's failure.
CrlInfo fetch_crl(const std::filesystem::path& store_dir, X509* cert, X509* issuer, const RevocationOptions& options);

// "revoked 2026-11-20T10:00:00Z (keyCompromise)" or "" when `cert` is not on it.
std::string crl_revocation_entry(X509_CRL* crl, X509* cert);

}  // namespace sealpost
