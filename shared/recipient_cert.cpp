// recipient_cert.cpp: store lookup + always-rules (recipient_cert.hpp).
#include "recipient_cert.hpp"

#include "cert_policy.hpp"
#include "kept_chain.hpp"
#include "revocation_check.hpp"

namespace sealpost {

RecipientCert judge_recipient_certificate(const CertStore& store, std::string_view address, std::time_t now,
                                          const RevocationOptions* revocation) {
    auto usable = store.find_for_encryption(address, now);
    if (!usable.cert) return {nullptr, usable.reason, RecipientRefusal::Store};
    X509* cert = usable.cert->cert.get();
    if (auto p = end_entity_problem(cert))
        return {nullptr, std::string("certificate refused (") + to_string(p->rule) + "): " + p->text,
                RecipientRefusal::Profile};
    if (!revocation || revocation->mode == RevocationMode::Off) return {usable.cert, usable.reason};
    auto chain = kept_chain(*usable.cert);
    if (chain.empty()) chain.push_back(x509_ref(cert));  // "no issuer kept" below
    RevocationStatus status = check_chain_revocation(store.cache_dir(), chain, *revocation, Fetch::CacheOnly, now);
    if (auto why = revocation_refusal(status, revocation->mode))
        return {nullptr, *why,
                status.state == RevocationState::Revoked ? RecipientRefusal::Revoked
                                                         : RecipientRefusal::RevocationUnavailable};
    if (!status.fresh) return {usable.cert, "no fresh revocation information: " + status.evidence};
    return {usable.cert, usable.reason};
}

CertStore::Usable usable_recipient_certificate(const CertStore& store, std::string_view address, std::time_t now,
                                               const RevocationOptions* revocation) {
    auto judged = judge_recipient_certificate(store, address, now, revocation);
    return {judged.cert, judged.reason};
}

}  // namespace sealpost
