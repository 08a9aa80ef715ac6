// collect.cpp: the ordered checks of collect.hpp.
#include "collect.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <new>

#include "address.hpp"
#include "cert_info.hpp"
#include "cert_profile.hpp"
#include "cms_verify.hpp"
#include "dkim_check.hpp"
#include "encryption_cert.hpp"
#include "kept_chain.hpp"
#include "revocation_check.hpp"
#include "errors.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "mime.hpp"
#include "smime_locate.hpp"

namespace sealpost {
namespace {
// A certificate as a log line names it: described (subject, issuer, dates,
// fingerprint) only when the line is written, not for every message that
// `-q` or the file's level would discard (issue 14: 3 % of serve's CPU).
struct DescribedCert {
    X509* cert;
};
}  // namespace
}  // namespace sealpost

template <>
struct fmt::formatter<sealpost::DescribedCert> : fmt::formatter<std::string_view> {
    auto format(const sealpost::DescribedCert& d, fmt::format_context& ctx) const {
        return fmt::formatter<std::string_view>::format(sealpost::describe_certificate(d.cert), ctx);
    }
};

namespace sealpost {
namespace {

Verdict reject(Trace& trace, VerdictReason reason, std::string text, const std::string& address = {}) {
    Verdict v;
    v.outcome = VerdictOutcome::Rejected;
    v.reason = reason;
    v.text = std::move(text);
    v.address = address;
    trace.warn("verdict: rejected ({}): {}", to_string(reason), v.text);
    return v;
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
    return out;
}

struct FromResult {
    std::string address;
    std::string problem;
};

FromResult check_from(GMimeMessage* msg) {
    FromResult r;
    GMimeHeaderList* headers = g_mime_object_get_header_list(GMIME_OBJECT(msg));
    int n = headers ? g_mime_header_list_get_count(headers) : 0;
    std::vector<std::string> values;
    for (int i = 0; i < n; ++i) {
        GMimeHeader* h = g_mime_header_list_get_header_at(headers, i);
        const char* name = g_mime_header_get_name(h);
        if (name && g_ascii_strcasecmp(name, "From") == 0) {
            const char* raw = g_mime_header_get_raw_value(h);
            values.push_back(unfold_header(raw ? raw : ""));
        }
    }
    if (values.empty()) {
        r.problem = "no From header";
        return r;
    }
    if (values.size() > 1) {
        r.problem = std::to_string(values.size()) + " From headers";
        return r;
    }
    std::vector<std::string> rejected;
    auto boxes = parse_address_list(values.front(), &rejected);
    if (!rejected.empty()) {
        r.problem = "From address '" + printable(rejected.front(), 100) + "' is not a usable address";
        return r;
    }
    if (boxes.size() != 1) {
        r.problem = "From holds " + std::to_string(boxes.size()) + " mailboxes (exactly one is required)";
        return r;
    }
    if (auto why = unsafe_file_name_reason(boxes.front().address)) {
        r.problem = "From address '" + printable(boxes.front().address, 100) + "' is unsafe: " + *why;
        return r;
    }
    r.address = boxes.front().address;
    return r;
}

VerdictReason chain_reason(int code) {
    switch (code) {
        case X509_V_ERR_CERT_HAS_EXPIRED:
        case X509_V_ERR_CERT_NOT_YET_VALID: return VerdictReason::CertificateExpired;
        case X509_V_ERR_INVALID_PURPOSE: return VerdictReason::CertificatePurpose;
        default: return VerdictReason::CertificateUntrusted;
    }
}

// What the steps learn about one message, in order.
struct Evidence {
    std::string canonical;  // CRLF text: what DKIM and S/MIME signed
    GObjectPtr<GMimeMessage> msg;
    std::string message_id;
    std::string address;  // the From mailbox
    std::optional<DkimEvidence> dkim;  // set when DKIM passed
    bool dkim_passed = false;
    std::string dkim_domain;
    SmimeStructure smime;
    ParsedCms parsed;
    X509StackPtr certs;  // every certificate the CMS carries
    // The certificate that proves the address, its chain, and what its
    // signature announced.
    X509Ptr subject;
    std::vector<X509Ptr> subject_chain;
    std::optional<CertReference> preference;
    std::vector<std::string> capabilities;
    std::optional<std::time_t> signed_at;
};

using Step = std::optional<Verdict>;  // a rejection, or nullopt to go on

// 1. Parse, within the size, depth and part limits.
Step parse_step(std::string_view raw, const MimeLimits& limits, Evidence& ev, Trace& trace) {
    if (raw.size() > limits.max_bytes)
        return reject(trace, VerdictReason::TooLarge,
                      "message of " + std::to_string(raw.size()) + " bytes exceeds max-message-size " +
                          std::to_string(limits.max_bytes));
    // DKIM and S/MIME both sign canonical CRLF text; bare LF input is converted once.
    ev.canonical = to_crlf(raw);
    try {
        // parse_message pre-scans the nesting before GMime recurses (mime_prescan.hpp).
        ev.msg = parse_message(ev.canonical, limits);
    } catch (const Error& e) {
        bool limit = e.kind() == ErrorKind::Limit;
        return reject(trace, limit ? VerdictReason::MimeLimit : VerdictReason::MalformedMessage, e.what());
    }
    const char* mid = g_mime_message_get_message_id(ev.msg.get());
    ev.message_id = mid ? printable(mid, 300) : "";
    trace.info("message-id=<{}> bytes={}", ev.message_id, raw.size());
    return std::nullopt;
}

// 2. Exactly one From mailbox, safe as a file name.
Step from_step(Evidence& ev, Trace& trace) {
    FromResult from = check_from(ev.msg.get());
    if (!from.problem.empty()) return reject(trace, VerdictReason::BadFrom, from.problem);
    ev.address = from.address;
    trace.info("from={}", ev.address);
    return std::nullopt;
}

// 3. DKIM: a verified signature aligned with the From domain.
Step dkim_step(const CollectOptions& options, Evidence& ev, Trace& trace) {
    if (options.dkim == DkimMode::Ignore) {
        trace.warn("DKIM not checked (dkim=ignore): the From address is not authenticated");
        return std::nullopt;
    }
    const std::string domain(address_domain(ev.address));
    DkimResult dkim = DkimVerifier::shared(options.dkim_keys)->check(ev.canonical, domain, options.alignment);
    for (const auto& s : dkim.signatures)
        trace.info("DKIM signature d={} s={}: {}", printable(s.domain, 100), printable(s.selector, 60),
                   s.verified && s.aligned ? "verified and aligned" : s.problem);
    if (!dkim.passed) return reject(trace, VerdictReason::DkimFailed, dkim.reason, ev.address);
    ev.dkim_passed = true;
    ev.dkim_domain = dkim.domain;
    ev.dkim = DkimEvidence{dkim.domain, printable(dkim.selector, 100)};
    trace.info("from={},DKIM passed (d={} s={}, {} alignment)", ev.address, dkim.domain,
               printable(dkim.selector, 60), to_string(options.alignment));
    return std::nullopt;
}

// 4. Locate the S/MIME structure and parse its CMS.
Step locate_step(const MimeLimits& limits, Evidence& ev, Trace& trace) {
    const std::string& address = ev.address;
    ev.smime = locate_smime(ev.msg.get(), trace, limits.max_bytes);
    switch (ev.smime.form) {
        case SmimeForm::None: return reject(trace, VerdictReason::NoSmime, "no S/MIME signature found", address);
        case SmimeForm::LoneSignature: return reject(trace, VerdictReason::NoSmime, ev.smime.problem, address);
        case SmimeForm::Encrypted: return reject(trace, VerdictReason::Encrypted, "encrypted; cannot read", address);
        default: break;
    }
    if (!ev.smime.problem.empty())
        return reject(trace, VerdictReason::MalformedSignature, ev.smime.problem, address);
    trace.info("S/MIME {} found: {}", to_string(ev.smime.form), ev.smime.where);
    ev.parsed = parse_cms(ev.smime.der, limits.max_bytes);
    if (!ev.parsed.cms)
        return reject(trace, VerdictReason::MalformedSignature, "S/MIME part: " + ev.parsed.error, address);
    if (ev.parsed.kind == CmsKind::Enveloped)
        return reject(trace, VerdictReason::Encrypted, "encrypted; cannot read", address);
    if (ev.parsed.kind == CmsKind::Other)
        return reject(trace, VerdictReason::MalformedSignature, "S/MIME part holds no SignedData", address);
    trace.info("CMS {}{}", to_string(ev.parsed.kind), ev.parsed.detached ? " (detached)" : "");
    if (ev.smime.form == SmimeForm::Detached && ev.parsed.kind != CmsKind::SignedData)
        return reject(trace, VerdictReason::MalformedSignature, "multipart/signed whose signature has no signer",
                      address);
    if (ev.smime.form == SmimeForm::Detached && !ev.parsed.detached)
        return reject(trace, VerdictReason::MalformedSignature,
                      "multipart/signed whose signature carries its own embedded content", address);
    ev.certs = cms_certificates(ev.parsed.cms.get());
    return std::nullopt;
}

// 5'-6'. certs-only: no signature; only a passed DKIM vouches for the sender,
// and the certificate for the address must chain to the anchors.
Step certs_only_step(const CollectOptions& options, const TrustAnchors& anchors, Evidence& ev, Trace& trace) {
    const std::string& address = ev.address;
    if (options.dkim != DkimMode::Require || !ev.dkim_passed)
        return reject(trace, VerdictReason::CertsOnlyRefused,
                      "certs-only carries no signature; accepted only with dkim=require and DKIM passed", address);
    trace.info("certs-only: no signature to verify; accepted on the strength of DKIM d={}", ev.dkim_domain);
    X509* best = nullptr;
    for (int i = 0; i < sk_X509_num(ev.certs.get()); ++i) {
        X509* c = sk_X509_value(ev.certs.get(), i);
        trace.info("Certificate: {}", DescribedCert{c});
        if (certificate_has_address(c, address) && (!best || not_after(c) > not_after(best))) best = c;
    }
    if (!best)
        return reject(trace, VerdictReason::AddressMismatch, "no certificate in certs-only is for " + address,
                      address);
    ChainResult chain = anchors.verify_smime(best, ev.certs.get(), options.judge_time());
    if (!chain.ok)
        return reject(trace, chain_reason(chain.code), "certificate for " + address + ": " + chain.error, address);
    ev.subject = x509_ref(best);
    ev.subject_chain = std::move(chain.chain);
    return std::nullopt;
}

// 5. The signature, over exactly the signed bytes. 6. The signer: the
// certificate that verified (preferring the one for From), its chain for
// S/MIME signing at the judging time, and the From address in it.
Step signature_step(const CollectOptions& options, const TrustAnchors& anchors, Evidence& ev, Trace& trace) {
    const std::string& address = ev.address;
    const auto& signed_bytes = ev.smime.signed_bytes;
    if (!signed_bytes && ev.parsed.detached)
        return reject(trace, VerdictReason::MalformedSignature, "opaque signed-data without content", address);
    SignatureCheck sig = verify_signature(ev.parsed.cms.get(), signed_bytes, options.limits.max_bytes);
    if (!sig.ok) return reject(trace, VerdictReason::SignatureInvalid, sig.error, address);
    trace.info("signature verified: {} signer(s) over {} bytes", sig.signers.size(),
               signed_bytes ? signed_bytes->size() : sig.content.size());
    const SignerDetail* signer = &sig.signers.front();
    for (const auto& s : sig.signers) {
        trace.info("Certificate (signer): {}", DescribedCert{s.cert.get()});
        if (certificate_has_address(s.cert.get(), address) && !certificate_has_address(signer->cert.get(), address))
            signer = &s;
    }
    for (int i = 0; i < sk_X509_num(ev.certs.get()); ++i) {
        X509* c = sk_X509_value(ev.certs.get(), i);
        if (X509_cmp(c, signer->cert.get()) != 0) trace.info("Certificate: {}", DescribedCert{c});
    }
    const std::time_t at = options.judge_time();
    trace.info("verifying the signer's chain at {} for S/MIME signing", format_time(at));
    ChainResult chain = anchors.verify(signer->cert.get(), ev.certs.get(), at, X509_PURPOSE_SMIME_SIGN);
    if (!chain.ok) return reject(trace, chain_reason(chain.code), "signer certificate: " + chain.error, address);
    trace.info("signer chain passed ({} certificates)", chain.chain.size());
    if (!certificate_has_address(signer->cert.get(), address))
        return reject(trace, VerdictReason::AddressMismatch,
                      "signer certificate is for [" + join(certificate_addresses(signer->cert.get())) +
                          "], not the From address " + address,
                      address);
    trace.info("signer certificate is for the From address");
    ev.subject = x509_ref(signer->cert.get());
    ev.subject_chain = std::move(chain.chain);
    ev.preference = signer->encryption_key_preference;
    ev.capabilities = signer->capabilities;
    ev.signed_at = signer->signing_time;
    return std::nullopt;
}

// 6'. The certificate profile (cert_profile.hpp): the message's digests, then
// the chain of the certificate that proves the address.
Step profile_step(const CollectOptions& options, bool certs_only, Evidence& ev, Trace& trace) {
    if (!certs_only)
        if (auto f = check_message_digests(ev.parsed.cms.get())) return reject(trace, f->reason, f->text, ev.address);
    if (auto f = check_certificate_profile(ev.subject_chain, ev.address, options.profile, trace))
        return reject(trace, f->reason, f->text, ev.address);
    trace.info("certificate profile {} passed", to_string(options.profile));
    return std::nullopt;
}

// 7'. Revocation of a chain about to be stored (revocation_check.hpp): the
// cache when fresh, else one fetch per issuer; the evidence is logged.
Step revocation_step(const CollectOptions& options, const std::vector<X509Ptr>& chain, const std::string& what,
                     const CertStore& store, const std::string& address, Trace& trace) {
    const RevocationOptions& rev = options.revocation;
    if (rev.mode == RevocationMode::Off) return std::nullopt;
    RevocationStatus status = check_chain_revocation(store.cache_dir(), chain, rev, Fetch::IfStale, options.judge_time());
    if (status.state == RevocationState::Revoked) {
        trace.warn("revocation: {} REVOKED: {}", what, status.evidence);
        return reject(trace, VerdictReason::CertificateRevoked, what + " revoked: " + status.evidence, address);
    }
    if (auto why = revocation_refusal(status, rev.mode))
        return reject(trace, VerdictReason::RevocationUnavailable, what + ": " + *why, address);
    if (status.fresh) trace.info("revocation: {} not revoked: {}", what, status.evidence);
    else trace.warn("revocation: {}: no fresh revocation information (mode {}), going on: {}", what,
                    to_string(rev.mode), status.evidence);
    return std::nullopt;
}

// The metadata stored beside the certificate (cert_metadata.hpp).
CertMetadata metadata_for(const CollectOptions& options, const Evidence& ev, const EncryptionChoice& choice) {
    CertMetadata meta;
    meta.collected_at = std::time(nullptr);
    meta.source = options.source;
    meta.message_id = ev.message_id;
    meta.dkim = ev.dkim;
    meta.signing_time = ev.signed_at;
    for (const auto& c : choice.chain) meta.chain_sha256.push_back(sha256_fingerprint(c.get()));
    meta.not_after = not_after(choice.cert.get());
    meta.capabilities = ev.capabilities;
    meta.signer_fingerprint = sha256_fingerprint(ev.subject.get());
    // The verified chain, to check revocation later with the issuer's key.
    if (options.revocation.mode != RevocationMode::Off && chain_names_revocation_sources(choice.chain))
        meta.issuers_pem = issuers_pem(choice.chain);
    return meta;
}

// 8. The store's answer as a verdict.
Verdict verdict_for(const PutResult& put, const std::string& address, const std::string& fp, const CertStore& store,
                    Trace& trace) {
    Verdict v;
    v.address = address;
    v.fingerprint = fp;
    switch (put.outcome) {
        case PutOutcome::Stored:
            v.outcome = VerdictOutcome::Stored;
            v.reason = VerdictReason::Stored;
            v.text = "stored";
            trace.info("stored in {}: {} sha256={}", store.describe(), address, fp);
            break;
        case PutOutcome::Replaced:
            v.outcome = VerdictOutcome::Stored;
            v.reason = VerdictReason::Replaced;
            v.text = "replaced sha256=" + put.old_fingerprint;
            trace.warn("certificate for {} changed: old sha256={} new sha256={}", address, put.old_fingerprint, fp);
            break;
        case PutOutcome::AlreadyCurrent:
            v.outcome = VerdictOutcome::AlreadyCurrent;
            v.reason = VerdictReason::AlreadyCurrent;
            v.text = "already current";
            break;
        case PutOutcome::KnownRevoked:
            v.outcome = VerdictOutcome::Rejected;
            v.reason = VerdictReason::CertificateRevoked;
            v.text = "certificate marked revoked in the store";
            break;
        case PutOutcome::OlderIgnored:
            v.outcome = VerdictOutcome::AlreadyCurrent;
            v.reason = VerdictReason::OlderIgnored;
            v.text = "older certificate ignored: the stored one expires later";
            v.fingerprint = put.old_fingerprint;
            break;
    }
    trace.info("verdict: {} ({}): {} {}", to_string(v.outcome), to_string(v.reason), address, v.text);
    return v;
}

// Steps 1-7 of collect.hpp, in order; the first rejection ends the run.
// Fills `out.put` (what step 8 stores) or returns the rejection.
Step run_checks(std::string_view raw, const CollectOptions& options, const CertStore& store,
                const TrustAnchors& anchors, Trace& trace, CheckedMessage& out) {
    Evidence ev;
    if (auto r = parse_step(raw, options.limits, ev, trace)) return r;
    if (auto r = from_step(ev, trace)) return r;
    if (auto r = dkim_step(options, ev, trace)) return r;
    if (auto r = locate_step(options.limits, ev, trace)) return r;
    bool certs_only = ev.parsed.kind == CmsKind::CertsOnly;
    if (auto r = certs_only ? certs_only_step(options, anchors, ev, trace) : signature_step(options, anchors, ev, trace))
        return r;
    if (auto r = profile_step(options, certs_only, ev, trace)) return r;
    // 7. The certificate to encrypt to.
    EncryptionChoice choice = choose_encryption_certificate(ev.subject.get(), ev.subject_chain, ev.preference,
                                                            ev.certs.get(), ev.address, anchors,
                                                            options.judge_time(), trace);
    if (!choice.cert) return reject(trace, VerdictReason::CannotEncrypt, choice.problem, ev.address);
    const bool separate = X509_cmp(choice.cert.get(), ev.subject.get()) != 0;
    if (separate)
        if (auto f = check_certificate_profile(choice.chain, ev.address, options.profile, trace))
            return reject(trace, f->reason, "encryption certificate: " + f->text, ev.address);
    // 7'. Revocation, before anything is stored.
    if (auto r = revocation_step(options, ev.subject_chain, certs_only ? "certificate" : "signer certificate", store,
                                 ev.address, trace))
        return r;
    if (separate)
        if (auto r = revocation_step(options, choice.chain, "encryption certificate", store, ev.address, trace))
            return r;
    out.fingerprint = sha256_fingerprint(choice.cert.get());
    trace.info("encryption certificate: {} sha256={}", choice.how, out.fingerprint);
    CertMetadata meta = metadata_for(options, ev, choice);
    out.put = PutRequest{ev.address, std::move(choice.cert), std::move(meta)};
    out.chain = std::move(choice.chain);
    return std::nullopt;
}

// A rejection of the message's own fault (a helper refused its content) as a
// verdict; the environment's (store, config) goes up to the caller.
template <class F>
std::optional<Verdict> guarded(Trace& trace, F&& f) {
    try {
        return f();
    } catch (const Error& e) {
        if (!(e.kind() == ErrorKind::Input || e.kind() == ErrorKind::Limit || e.kind() == ErrorKind::Crypto)) {
            trace.error("collect failed: {}", e.what());
            metrics::collector_verdicts().inc({"error", "environment"});
            throw;
        }
        return reject(trace, VerdictReason::MalformedMessage, e.what());
    } catch (const std::bad_alloc&) {
        return reject(trace, VerdictReason::TooLarge, "out of memory while processing the message");
    }
}

void count(const Verdict& v) {
    metrics::collector_verdicts().inc({to_string(v.outcome), v.accepted() ? "none" : to_string(v.reason)});
}

}  // namespace

const char* to_string(VerdictOutcome o) {
    switch (o) {
        case VerdictOutcome::Stored: return "stored";
        case VerdictOutcome::AlreadyCurrent: return "already-current";
        case VerdictOutcome::Rejected: return "rejected";
    }
    return "?";
}

const char* to_string(VerdictReason r) {
    switch (r) {
        case VerdictReason::Stored: return "stored";
        case VerdictReason::Replaced: return "replaced";
        case VerdictReason::AlreadyCurrent: return "already-current";
        case VerdictReason::OlderIgnored: return "older-ignored";
        case VerdictReason::TooLarge: return "too-large";
        case VerdictReason::MimeLimit: return "mime-limit";
        case VerdictReason::MalformedMessage: return "malformed-message";
        case VerdictReason::BadFrom: return "bad-from";
        case VerdictReason::DkimFailed: return "dkim-failed";
        case VerdictReason::NoSmime: return "no-smime";
        case VerdictReason::Encrypted: return "encrypted";
        case VerdictReason::MalformedSignature: return "malformed-signature";
        case VerdictReason::SignatureInvalid: return "signature-invalid";
        case VerdictReason::CertsOnlyRefused: return "certs-only-refused";
        case VerdictReason::CertificateExpired: return "certificate-expired";
        case VerdictReason::CertificateUntrusted: return "certificate-untrusted";
        case VerdictReason::CertificatePurpose: return "certificate-purpose";
        case VerdictReason::AddressMismatch: return "address-mismatch";
        case VerdictReason::CannotEncrypt: return "cannot-encrypt";
        case VerdictReason::WeakAlgorithm: return "weak-algorithm";
        case VerdictReason::WeakKey: return "weak-key";
        case VerdictReason::CertificateRevoked: return "certificate-revoked";
        case VerdictReason::RevocationUnavailable: return "revocation-unavailable";
    }
    return "?";
}

std::string Verdict::summary() const {
    if (outcome == VerdictOutcome::Rejected)
        return std::string("rejected (") + to_string(reason) + "): " + text;
    return std::string(to_string(outcome)) + " " + address + " sha256=" + fingerprint +
           (reason == VerdictReason::Stored || reason == VerdictReason::AlreadyCurrent ? "" : " (" + text + ")");
}

CheckedMessage check_message(std::string_view raw, const CollectOptions& options, const CertStore& store,
                             const TrustAnchors& anchors, std::string_view label) {
    CheckedMessage m{Trace("collect: " + (label.empty() ? std::string("message") : printable(label, 200)) + " (" +
                           std::to_string(raw.size()) + " bytes)"),
                     std::nullopt, std::nullopt, {}, {}};
    m.verdict = guarded(m.trace, [&] { return run_checks(raw, options, store, anchors, m.trace, m); });
    if (m.verdict) {
        m.put.reset();
        count(*m.verdict);
    }
    return m;
}

Verdict finish_message(CheckedMessage& m, const PutResult& put, const CertStore& store) {
    Verdict v = verdict_for(put, m.put->address, m.fingerprint, store, m.trace);
    count(v);
    return v;
}

void fail_message(CheckedMessage& m, const std::exception& e) {
    m.trace.error("collect failed: {}", e.what());
    metrics::collector_verdicts().inc({"error", "environment"});
}

Verdict collect_message(std::string_view raw, const CollectOptions& options, CertStore& store,
                        const TrustAnchors& anchors, std::string_view label) {
    CheckedMessage m = check_message(raw, options, store, anchors, label);
    if (m.verdict) return *m.verdict;
    // 8. Store it with its evidence.
    std::optional<PutResult> put;
    auto rejected = guarded(m.trace, [&]() -> std::optional<Verdict> {
        put = store.put(m.put->address, m.put->cert.get(), m.put->meta);
        return std::nullopt;
    });
    if (rejected) {
        count(*rejected);
        return *rejected;
    }
    return finish_message(m, *put, store);
}

}  // namespace sealpost
