// cms_cert_cache.hpp: a SignedData parsed without parsing again the
// certificates it carries when they were seen before (issue 14).
//
// OpenSSL 3.0 decodes every certificate's public key through a freshly
// built decoder context (OSSL_DECODER_CTX_new_for_pkey, global locks),
// which made d2i_CMS_ContentInfo 28 % of the collector's CPU on mail whose
// certificate is already current. Here the DER's `certificates` field is
// taken out before OpenSSL parses the rest; each certificate is looked up
// by the SHA-256 of its DER in a process-wide cache of parsed X509 objects
// (immutable once parsed; their extensions are cached before they are
// shared), parsed only on a miss, and added back to the parsed structure
// in its order. What the collector sees is the same CMS_ContentInfo.
//
// Only plain definite-length DER of a SignedData whose certificates are all
// X.509 certificates is taken apart; anything else (BER, attribute
// certificates, PEM, garbage) gives nullptr and the caller parses the bytes
// as before. The cache holds at most kCapacity certificates and is emptied
// when full. Thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include "handles.hpp"

namespace sealpost {

CmsPtr parse_cms_with_cached_certificates(std::string_view der);

// For tests: how many certificates were parsed (misses) and reused (hits).
struct CmsCertCacheStats {
    std::size_t parsed = 0;
    std::size_t reused = 0;
};
CmsCertCacheStats cms_cert_cache_stats();

}  // namespace sealpost
