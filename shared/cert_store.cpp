// cert_store.cpp: what every backend shares: the choice of the certificate
// to encrypt to among those kept for an address, and the batch id rule.
#include "cert_store.hpp"

#include <algorithm>

#include "cert_info.hpp"

namespace sealpost {

const char* to_string(PutOutcome o) {
    switch (o) {
        case PutOutcome::Stored: return "stored";
        case PutOutcome::Replaced: return "replaced";
        case PutOutcome::AlreadyCurrent: return "already current";
        case PutOutcome::OlderIgnored: return "older certificate ignored";
        case PutOutcome::KnownRevoked: return "known revoked";
    }
    return "?";
}

bool CertStore::valid_batch_id(std::string_view id) {
    if (id.empty() || id.size() > 128) return false;
    return std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::vector<PutResult> CertStore::put_batch(std::vector<PutRequest> items, bool durable) {
    std::vector<PutResult> out;
    out.reserve(items.size());
    for (auto& it : items) out.push_back(put(it.address, it.cert.get(), std::move(it.meta), durable));
    return out;
}

CertStore::Usable CertStore::find_for_encryption(std::string_view address, std::time_t now) const {
    return choose_for_encryption(history(address), now);
}

CertStore::Usable choose_for_encryption(const std::vector<StoredCertificatePtr>& candidates, std::time_t now) {
    if (candidates.empty()) return {nullptr, "no certificate collected"};
    StoredCertificatePtr best;
    std::string first_reason;
    for (const auto& sc : candidates) {
        std::string why;
        if (sc->meta.status == CertStatus::Revoked) {
            why = "certificate revoked" + (sc->meta.revocation.empty() ? "" : ": " + sc->meta.revocation);
        } else if (auto v = validity_problem(sc->cert.get(), now)) {
            why = "certificate " + *v;
        } else if (auto e = cannot_encrypt_reason(sc->cert.get())) {
            why = "certificate cannot encrypt: " + *e;
        }
        if (!why.empty()) {
            if (first_reason.empty()) first_reason = why;
            continue;
        }
        if (!best || not_after(sc->cert.get()) > not_after(best->cert.get())) best = sc;
    }
    if (best) return {best, ""};
    return {nullptr, first_reason};
}

CertStatus status_at(const StoredCertificate& sc, std::time_t now) {
    if (sc.meta.status == CertStatus::Revoked) return CertStatus::Revoked;
    if (not_after(sc.cert.get()) < now) return CertStatus::Expired;
    return sc.meta.status;
}

}  // namespace sealpost
