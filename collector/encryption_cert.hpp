// encryption_cert.hpp: step 7 of the collector: which certificate to store
// for an address. Many CAs issue separate signing and encryption
// certificates, so the one that signed is not always the one to encrypt to.
//
// In order: the certificate the signer named with SMIMEEncryptionKeyPreference
// (RFC 8551 2.5.3); the signer's own certificate if its key usage allows
// encryption (RSA keyEncipherment, EC keyAgreement); another certificate in
// the SignedData for the same address that chains to the same trust anchor
// and can encrypt (the latest expiring if several). The signer's own comes
// before the others because the signature proves it is current, while a
// carried certificate may be an old one. Otherwise none, with the reason
// "certificate cannot be used for encryption". A candidate never comes from
// outside the message.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "cms_verify.hpp"
#include "handles.hpp"
#include "log.hpp"
#include "chain_check.hpp"

namespace sealpost {

struct EncryptionChoice {
    X509Ptr cert;                // null when nothing can be stored
    std::vector<X509Ptr> chain;  // leaf first
    std::string how;             // "signer certificate", "SMIMEEncryptionKeyPreference", ...
    std::string problem;         // why nothing can be stored
};

// `signer` and `signer_chain` are the verified signer (or, for certs-only,
// the verified certificate for the address); `preference` its
// SMIMEEncryptionKeyPreference if any; `certs` every certificate in the
// SignedData.
EncryptionChoice choose_encryption_certificate(X509* signer, const std::vector<X509Ptr>& signer_chain,
                                               const std::optional<CertReference>& preference,
                                               STACK_OF(X509) * certs, const std::string& address,
                                               const TrustAnchors& anchors, std::time_t at, Trace& trace);

}  // namespace sealpost
