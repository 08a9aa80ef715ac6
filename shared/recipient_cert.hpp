// recipient_cert.hpp: the one answer to "which certificate may we encrypt
// to for this address now?", for `send`/`serve` (copy_plan) and `certs
// check`. The store's answer (valid now, can encrypt: cert_store.hpp),
// then the always-rules of cert_policy.hpp, so a certificate stored before
// a rule existed (RSA-1024, SHA-1-signed, CA:TRUE) is never used; then
// the cached revocation status.
//
// Reads only what is on disk; never goes to the network. A refusal is a
// Usable without a certificate and with the reason a person can act on.
#pragma once

#include <ctime>
#include <string_view>

#include "cert_store.hpp"
#include "revocation_options.hpp"

namespace sealpost {

// Why no certificate is usable: the store's reason (none, expired, cannot
// encrypt, marked revoked), a profile rule, known revoked, or (hard) no
// fresh revocation information.
enum class RecipientRefusal { None, Store, Profile, Revoked, RevocationUnavailable };

struct RecipientCert {
    StoredCertificatePtr cert;  // usable; null when refused
    std::string reason;         // refused: why; usable: a caveat ("no fresh revocation information: ...") or ""
    RecipientRefusal refusal = RecipientRefusal::None;
};

// With `revocation` (and mode not off), the cached revocation status too
// (revocation_check.hpp, Fetch::CacheOnly, against the chain kept at
// collection): known revoked is never used; in mode hard, neither is a
// certificate without fresh information.
RecipientCert judge_recipient_certificate(const CertStore& store, std::string_view address, std::time_t now,
                                          const RevocationOptions* revocation = nullptr);

// The same, as the store's Usable (copy_plan).
CertStore::Usable usable_recipient_certificate(const CertStore& store, std::string_view address, std::time_t now,
                                               const RevocationOptions* revocation = nullptr);

}  // namespace sealpost
