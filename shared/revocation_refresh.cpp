// revocation_refresh.cpp: walk the store, check, mark (revocation_refresh.hpp).
#include "revocation_refresh.hpp"

#include "cert_info.hpp"
#include "errors.hpp"
#include "kept_chain.hpp"
#include "log.hpp"

namespace sealpost {

RefreshSummary refresh_revocation(CertStore& store, const RevocationOptions& options, Fetch fetch, std::time_t now,
                                  const RefreshReport& report) {
    RefreshSummary summary;
    if (options.mode == RevocationMode::Off) return summary;
    for (const auto& address : store.addresses()) {
        for (const auto& sc : store.history(address)) {
            // Only what could still be chosen: not revoked, not expired.
            if (sc->meta.status == CertStatus::Revoked || not_after(sc->cert.get()) < now) continue;
            auto chain = kept_chain(*sc);
            if (chain.empty()) chain.push_back(x509_ref(sc->cert.get()));
            RevocationStatus status = check_chain_revocation(store.cache_dir(), chain, options, fetch, now);
            if (status.state == RevocationState::Revoked) {
                ++summary.revoked;
                log()->warn("revocation: {} sha256={} is revoked: {}; marked revoked, no longer encrypted to",
                            address, sc->fingerprint, status.evidence);
                store.mark_revoked(address, sc->fingerprint, status.evidence);
            } else if (status.fresh) {
                ++summary.good;
            } else {
                ++summary.unknown;
                log()->warn("revocation: {} sha256={}: no fresh revocation information: {}", address, sc->fingerprint,
                            status.evidence);
            }
            if (report) report(*sc, status);
        }
    }
    // A refresh pass is the point after which verification results cached
    // earlier (the collector's chain cache) are recomputed.
    bump_trust_generation();
    return summary;
}

}  // namespace sealpost
