// tls_failure.hpp: libcurl results that mean the peer's certificate could
// not be verified (untrusted issuer, name mismatch, unreadable CA file,
// pinned key mismatch). Retrying cannot help: the operator must act, so the
// transports report them as permanent failures naming the fix.
#pragma once

#include <curl/curl.h>

namespace sealpost {

inline bool tls_verification_failure(CURLcode code) {
    return code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE ||
           code == CURLE_SSL_ISSUER_ERROR || code == CURLE_SSL_CRL_BADFILE || code == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
}

}  // namespace sealpost
