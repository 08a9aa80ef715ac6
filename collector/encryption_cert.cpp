// encryption_cert.cpp: the choice of the certificate to store.
#include "encryption_cert.hpp"

#include "cert_info.hpp"
#include "cert_policy.hpp"

namespace sealpost {
namespace {

std::string anchor_fingerprint(const std::vector<X509Ptr>& chain) {
    return chain.empty() ? std::string() : sha256_fingerprint(chain.back().get());
}

// nullopt when `cert` may be stored for `address` as an encryption
// certificate under the same anchor as the signer, else the reason.
std::optional<std::string> unusable(X509* cert, const std::string& address, const std::string& anchor,
                                    STACK_OF(X509) * certs, const TrustAnchors& anchors, std::time_t at,
                                    std::vector<X509Ptr>& chain_out) {
    if (!certificate_has_address(cert, address)) return "not issued for " + address;
    if (auto why = cannot_encrypt_reason(cert)) return *why;
    if (auto p = end_entity_problem(cert)) return std::string(to_string(p->rule)) + ": " + p->text;
    // The encryption purpose of OpenSSL rejects EC keyAgreement certificates;
    // key usage is checked above, so verify_smime checks the CAs' purpose.
    ChainResult chain = anchors.verify_smime(cert, certs, at);
    if (!chain.ok) return "chain: " + chain.error;
    if (anchor_fingerprint(chain.chain) != anchor) return "chains to a different trust anchor";
    chain_out = std::move(chain.chain);
    return std::nullopt;
}

}  // namespace

EncryptionChoice choose_encryption_certificate(X509* signer, const std::vector<X509Ptr>& signer_chain,
                                               const std::optional<CertReference>& preference,
                                               STACK_OF(X509) * certs, const std::string& address,
                                               const TrustAnchors& anchors, std::time_t at, Trace& trace) {
    EncryptionChoice choice;
    const std::string anchor = anchor_fingerprint(signer_chain);
    const std::string signer_fp = sha256_fingerprint(signer);

    if (preference && !preference->empty()) {
        X509* named = nullptr;
        for (int i = 0; i < sk_X509_num(certs) && !named; ++i)
            if (cert_matches(sk_X509_value(certs, i), *preference)) named = sk_X509_value(certs, i);
        if (!named && cert_matches(signer, *preference)) named = signer;
        if (!named) {
            trace.warn("SMIMEEncryptionKeyPreference names a certificate the message does not carry; ignored");
        } else {
            std::vector<X509Ptr> chain;
            if (auto why = unusable(named, address, anchor, certs, anchors, at, chain)) {
                trace.warn("preferred encryption certificate sha256={} not usable: {}", sha256_fingerprint(named),
                           *why);
            } else {
                choice.cert = x509_ref(named);
                choice.chain = std::move(chain);
                choice.how = "SMIMEEncryptionKeyPreference";
                return choice;
            }
        }
    }

    // The signer's own certificate: proven by the signature itself, so it
    // wins over any other certificate the message merely carries (which may
    // be an older one of the same person).
    auto signer_problem = cannot_encrypt_reason(signer);
    if (!signer_problem) {
        choice.cert = x509_ref(signer);
        for (const auto& c : signer_chain) choice.chain.push_back(x509_ref(c.get()));
        choice.how = "signer certificate";
        return choice;
    }
    trace.info("signer certificate cannot encrypt ({}); looking for a separate encryption certificate",
               *signer_problem);

    // Another certificate for the same address: the latest expiring wins.
    for (int i = 0; i < sk_X509_num(certs); ++i) {
        X509* c = sk_X509_value(certs, i);
        std::string fp = sha256_fingerprint(c);
        if (fp == signer_fp || !certificate_has_address(c, address)) continue;
        std::vector<X509Ptr> chain;
        if (auto why = unusable(c, address, anchor, certs, anchors, at, chain)) {
            trace.info("other certificate for {} sha256={} not usable for encryption: {}", address, fp, *why);
            continue;
        }
        if (!choice.cert || not_after(c) > not_after(choice.cert.get())) {
            choice.cert = x509_ref(c);
            choice.chain = std::move(chain);
            choice.how = "separate encryption certificate";
        }
    }
    if (!choice.cert) choice.problem = "certificate cannot be used for encryption: " + *signer_problem;

    return choice;
}

}  // namespace sealpost
