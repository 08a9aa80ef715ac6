// cert_profile.hpp: the certificate profile the collector judges by (issue
// 12), applied after the chain verified and before anything is stored, to
// the signer's chain and to the chain of the certificate chosen for
// encryption.
//
// Always (every profile), from cert_policy.hpp: no SHA-1/MD5 message
// signature digest (RFC 8551 2.1), no SHA-1/MD5 certificate signature in the
// chain except a trust anchor's own self-signature (the anchor is trusted by
// configuration, not by its signature), no weak key anywhere in the chain,
// no CA:TRUE leaf, an extendedKeyUsage that allows emailProtection;
// serverAuth/anyExtendedKeyUsage logged as suspicious.
// profile = standard: the address in rfc822Name, or, only for a certificate
// with no rfc822Name at all, in the subject emailAddress (checked by
// certificate_has_address before this runs).
// profile = strict (CA/B Forum S/MIME BR 7.1.2.3, 7.1.4.2): the address in
// a subjectAltName rfc822Name or SmtpUTF8Mailbox; extendedKeyUsage present;
// keyUsage present and consistent with the key type (RSA: digitalSignature,
// nonRepudiation, keyEncipherment, dataEncipherment; EC: digitalSignature,
// nonRepudiation, keyAgreement, encipherOnly, decipherOnly).
//
// Trusts the chain it is given to be verified (chain_check.hpp). A broken
// rule is a result (reason code and text), never an exception.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "collect.hpp"
#include "handles.hpp"
#include "log.hpp"

namespace sealpost {

struct ProfileFailure {
    VerdictReason reason;
    std::string text;
};

// The digest of every SignerInfo (all of them verified).
std::optional<ProfileFailure> check_message_digests(CMS_ContentInfo* cms);

// `chain` is verified, leaf first, trust anchor last; the leaf is the
// certificate that would be stored (or that proves) `address`.
std::optional<ProfileFailure> check_certificate_profile(const std::vector<X509Ptr>& chain, const std::string& address,
                                                        CertProfile profile, Trace& trace);

// subjectAltName rfc822Name and SmtpUTF8Mailbox (RFC 8398) entries,
// normalised; nothing from the subject DN.
std::vector<std::string> san_mailboxes(X509* cert);

}  // namespace sealpost
