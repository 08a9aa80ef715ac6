// collect.hpp: the collector's entry point: one raw message in, one verdict
// out. Used unchanged by `sealpost collect` and by the webhook plugin.
//
// The checks, in order, each logged with the "| " prefix on a Trace:
//   1 parse (size, nesting and part limits; a pre-scan guards GMime)
//   2 From: exactly one header with exactly one mailbox, safe as a file name
//   3 DKIM: some signature verifies and is aligned with the From domain
//   4 locate the S/MIME structure (detached, opaque, certs-only)
//   5 verify the CMS signature over exactly the signed bytes
//   6 the certificate that verified: chain to the trust anchors at the
//     judging time for S/MIME signing, and the From address in it
//   6' the certificate profile (cert_profile.hpp): digests, keys, usages
//   7 choose the encryption certificate (encryption_cert.hpp), and judge
//     its chain by the profile too
//   7' revocation (revocation_check.hpp) of every chain that will be stored
//   8 store it with its evidence; never replace a later-expiring one; keep
//     the verified chain beside it (kept_chain.hpp) for later revocation
//     checks when it names a CRL distribution point or OCSP responder
//
// Everything wrong with the message is a Rejected verdict with a reason
// code and text; nothing the message contains can make it throw. Throws
// only for the environment: Error(TempFail) when the store cannot be
// written, Error(Config) when the DKIM library or trust bundle is unusable.
#pragma once

#include <optional>
#include <string>
#include <vector>
#include <string_view>

#include "cert_store.hpp"
#include "collect_options.hpp"
#include "chain_check.hpp"
#include "log.hpp"

namespace sealpost {

enum class VerdictOutcome { Stored, AlreadyCurrent, Rejected };

enum class VerdictReason {
    Stored,              // a new address
    Replaced,            // a newer certificate replaced the stored one
    AlreadyCurrent,      // the same certificate was stored already
    OlderIgnored,        // the stored certificate expires later (replayed mail)
    TooLarge,            // over max-message-size
    MimeLimit,           // nesting or part count over the limits
    MalformedMessage,    // not a parseable message
    BadFrom,             // missing, repeated, several mailboxes, unsafe address
    DkimFailed,          // no aligned DKIM signature verifies
    NoSmime,             // nothing signed with S/MIME
    Encrypted,           // enveloped data: cannot read
    MalformedSignature,  // the CMS cannot be parsed or has the wrong shape
    SignatureInvalid,    // the signature does not verify over the signed bytes
    CertsOnlyRefused,    // certs-only without required and passed DKIM
    CertificateExpired,  // signer certificate outside its validity at the judging time
    CertificateUntrusted,// no chain to the trust anchors (self-signed, unknown CA, ...)
    CertificatePurpose,  // not allowed for S/MIME signing (no emailProtection, key usage)
    AddressMismatch,     // the certificate is not for the From address
    CannotEncrypt,       // nothing in the message can be encrypted to
    WeakAlgorithm,       // SHA-1/MD5 message digest or certificate signature (cert_profile.hpp)
    WeakKey,             // RSA < 2048 bits, a curve other than P-256/384/521 (cert_profile.hpp)
    CertificateRevoked,  // a CRL or OCSP answer says the certificate (or a CA above it) is revoked
    RevocationUnavailable,  // revocation mode hard and no fresh CRL/OCSP answer
};

// Stable kebab-case codes ("signature-invalid"), for logs and the webhook.
const char* to_string(VerdictReason r);
const char* to_string(VerdictOutcome o);

struct Verdict {
    VerdictOutcome outcome = VerdictOutcome::Rejected;
    VerdictReason reason = VerdictReason::MalformedMessage;
    std::string text;         // human-readable reason
    std::string address;      // the From address when known (normalised)
    std::string fingerprint;  // SHA-256 of the stored (or current) certificate

    bool accepted() const { return outcome != VerdictOutcome::Rejected; }
    // "stored alice@example.com sha256=..." / "rejected (dkim-failed): ..."
    std::string summary() const;
};

// collect_message() in two halves, for a caller that stores the
// certificates of several messages as one group (the webhook's batch, with
// CertStore::put_batch: one durable commit per batch): check_message()
// runs steps 1-7 and gives either the verdict (a rejection) or what step 8
// is to store; finish_message() turns the store's answer for it into the
// verdict. Nothing is stored and no verdict is final for an accepted
// message until the caller's put has returned. check_message() throws
// like collect_message(); fail_message() logs and counts a message whose
// group write failed (the caller answers for the environment).
struct CheckedMessage {
    Trace trace;                    // the message's log lines
    std::optional<Verdict> verdict; // set: final (a rejection)
    std::optional<PutRequest> put;  // else: the certificate to store with its metadata
    std::string fingerprint;        // of put->cert
    std::vector<X509Ptr> chain;     // its verified chain, leaf first
};
// `store` is only read (revocation cache); nothing is written to it.
CheckedMessage check_message(std::string_view raw, const CollectOptions& options, const CertStore& store,
                             const TrustAnchors& anchors, std::string_view label = {});
Verdict finish_message(CheckedMessage& message, const PutResult& put, const CertStore& store);
void fail_message(CheckedMessage& message, const std::exception& e);

// `label` names the message in the opening log line (file name, batch id).
Verdict collect_message(std::string_view raw, const CollectOptions& options, CertStore& store,
                        const TrustAnchors& anchors, std::string_view label = {});

}  // namespace sealpost
