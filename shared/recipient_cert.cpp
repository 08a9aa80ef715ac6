// recipient_cert.cpp: store lookup + always-rules (recipient_cert.hpp).
#include "recipient_cert.hpp"

#include "cert_policy.hpp"
#include "kept_chain.hpp"
#include "revocation_check.hpp"

namespace sealpost {

CertStore::Usable usable_recipient_certificate(const CertStore& store, std::string_view address, std::time_t now,
                                               const RevocationOptions* revocation) {
    auto usable = store.find_for_encryption(address, now);
    if (!usable.cert) return usable;
    X509* cert = usable.cert->cert.get();
    if (auto p = end_entity_problem(cert))
        return {nullptr, std::string("certificate refused (") + to_string(p->rule) + "): " + p->text};
    if (!revocation || revocation->mode == RevocationMode::Off) return usable;
    auto chain = kept_chain(store.dir(), cert);
    if (chain.empty()) chain.push_back(x509_ref(cert));  // "no issuer kept" below
    RevocationStatus status = check_chain_revocation(store.dir(), chain, *revocation, Fetch::CacheOnly, now);
    if (auto why = revocation_refusal(status, revocation->mode)) return {nullptr, *why};
    if (!status.fresh) usable.reason = "no fresh revocation information: " + status.evidence;
    return usable;
}

}  // namespace sealpost
