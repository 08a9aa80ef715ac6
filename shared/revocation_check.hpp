// revocation_check.hpp: is a certificate (and the CAs above it) revoked?
// The one place that combines CRLs (crl_cache.hpp) and OCSP (ocsp_check.hpp)
// under [revocation] (revocation_options.hpp):
//   ocsp = off       CRLs only
//   ocsp = fallback  CRL first; OCSP when there is no distribution point or
//                    no CRL could be had
//   ocsp = prefer    OCSP first; CRL when OCSP gives no answer
// A revocation listed by any verified source is final (also on an expired
// CRL: revocations are not undone). "good" needs an answer whose
// nextUpdate has not passed ("fresh").
//
// Fetch says where answers may come from: CacheOnly at send (never a
// network round trip per message), IfStale at collect (the cache unless
// past nextUpdate or older than refresh-interval: once per issuer, not per
// message), Always for `certs refresh` (still once per issuer: a CRL
// fetched at or after `now` is not fetched again). Trusts only verified CRLs/OCSP
// answers; never throws for the network (the status says what is missing).
#pragma once

#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "handles.hpp"
#include "revocation_options.hpp"

namespace sealpost {

enum class RevocationState { Good, Revoked, Unknown };
enum class Fetch { CacheOnly, IfStale, Always };

struct RevocationStatus {
    RevocationState state = RevocationState::Unknown;
    bool fresh = false;    // Good from an answer whose nextUpdate has not passed
    std::string evidence;  // "crl http://127.0.0.1:8080/inter.crl: revoked 2026-... (keyCompromise)"
};

const char* to_string(RevocationState s);

// `chain` is leaf first, trust anchor last; every certificate but the
// anchor is checked against the next one. Revoked if any is; Good and fresh
// only if all are.
RevocationStatus check_chain_revocation(const std::filesystem::path& store_dir, const std::vector<X509Ptr>& chain,
                                        const RevocationOptions& options, Fetch fetch, std::time_t now);

// True when some certificate of `chain` but the anchor names a CRL
// distribution point or an OCSP responder: only then is the chain worth
// keeping for later checks (kept_chain.hpp).
bool chain_names_revocation_sources(const std::vector<X509Ptr>& chain);

// nullopt when the status allows using the certificate under `mode`, else
// why not ("revoked: ...", "no fresh revocation information (hard): ...").
std::optional<std::string> revocation_refusal(const RevocationStatus& status, RevocationMode mode);

}  // namespace sealpost
