// revocation_refresh.hpp: fresh revocation information for every stored
// certificate that could be chosen for encryption, and the store told of
// every revocation found (CertStore::mark_revoked: never used again, on
// every node). Behind `sealpost certs refresh` (Fetch::Always, from cron)
// and serve's background refresher (Fetch::IfStale: a CRL or OCSP answer
// is fetched again at its nextUpdate or after refresh-interval, whichever
// comes first; once per issuer, not per certificate).
#pragma once

#include <ctime>
#include <functional>
#include <string>

#include "cert_store.hpp"
#include "revocation_check.hpp"

namespace sealpost {

struct RefreshSummary {
    int good = 0;     // fresh and not revoked
    int revoked = 0;  // found revoked now (marked in the store)
    int unknown = 0;  // no fresh information could be had
};

// One call per certificate checked: its address, fingerprint and status.
using RefreshReport = std::function<void(const StoredCertificate&, const RevocationStatus&)>;

RefreshSummary refresh_revocation(CertStore& store, const RevocationOptions& options, Fetch fetch, std::time_t now,
                                  const RefreshReport& report = nullptr);

}  // namespace sealpost
