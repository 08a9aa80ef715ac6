// collect.cpp: the ordered checks of collect.hpp.
#include "collect.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <new>

#include "address.hpp"
#include "cert_info.hpp"
#include "cms_verify.hpp"
#include "dkim_check.hpp"
#include "encryption_cert.hpp"
#include "errors.hpp"
#include "log.hpp"
#include "mime.hpp"
#include "smime_locate.hpp"

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

std::string unfold(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s)
        if (c != '\r' && c != '\n') out += c;
    return out;
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
            values.push_back(unfold(raw ? raw : ""));
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

nlohmann::json chain_fingerprints(const std::vector<X509Ptr>& chain) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& c : chain) out.push_back(sha256_fingerprint(c.get()));
    return out;
}

Verdict run(std::string_view raw, const CollectOptions& options, CertStore& store, const TrustAnchors& anchors,
            Trace& trace) {
    const MimeLimits& limits = options.limits;
    // 1. Parse.
    if (raw.size() > limits.max_bytes)
        return reject(trace, VerdictReason::TooLarge,
                      "message of " + std::to_string(raw.size()) + " bytes exceeds max-message-size " +
                          std::to_string(limits.max_bytes));
    // DKIM and S/MIME both sign canonical CRLF text; bare LF input is converted once.
    const std::string canonical = to_crlf(raw);
    GObjectPtr<GMimeMessage> msg;
    try {
        // parse_message pre-scans the nesting before GMime recurses (mime_prescan.hpp).
        msg = parse_message(canonical, limits);
    } catch (const Error& e) {
        std::string what = e.what();
        bool limit = what.find("MIME parts") != std::string::npos || what.find("nesting") != std::string::npos;
        return reject(trace, limit ? VerdictReason::MimeLimit : VerdictReason::MalformedMessage, what);
    }
    const char* mid = g_mime_message_get_message_id(msg.get());
    std::string message_id = mid ? printable(mid, 300) : "";
    trace.info("message-id=<{}> bytes={}", message_id, raw.size());

    // 2. From.
    FromResult from = check_from(msg.get());
    if (!from.problem.empty()) return reject(trace, VerdictReason::BadFrom, from.problem);
    const std::string& address = from.address;
    const std::string domain(address_domain(address));
    trace.info("from={}", address);

    // 3. DKIM.
    nlohmann::json dkim_evidence = nullptr;
    bool dkim_passed = false;
    std::string dkim_domain;
    if (options.dkim == DkimMode::Ignore) {
        trace.warn("DKIM not checked (dkim=ignore): the From address is not authenticated");
    } else {
        DkimResult dkim = DkimVerifier::shared(options.dkim_keys)->check(canonical, domain, options.alignment);
        for (const auto& s : dkim.signatures)
            trace.info("DKIM signature d={} s={}: {}", printable(s.domain, 100), printable(s.selector, 60),
                       s.verified && s.aligned ? "verified and aligned" : s.problem);
        if (!dkim.passed) return reject(trace, VerdictReason::DkimFailed, dkim.reason, address);
        dkim_passed = true;
        dkim_domain = dkim.domain;
        dkim_evidence = {{"domain", dkim.domain}, {"selector", printable(dkim.selector, 100)}};
        trace.info("from={},DKIM passed (d={} s={}, {} alignment)", address, dkim.domain,
                   printable(dkim.selector, 60), to_string(options.alignment));
    }

    // 4. Locate the S/MIME structure.
    SmimeStructure smime = locate_smime(msg.get(), trace, limits.max_bytes);
    switch (smime.form) {
        case SmimeForm::None: return reject(trace, VerdictReason::NoSmime, "no S/MIME signature found", address);
        case SmimeForm::LoneSignature: return reject(trace, VerdictReason::NoSmime, smime.problem, address);
        case SmimeForm::Encrypted: return reject(trace, VerdictReason::Encrypted, "encrypted; cannot read", address);
        default: break;
    }
    if (!smime.problem.empty()) return reject(trace, VerdictReason::MalformedSignature, smime.problem, address);
    trace.info("S/MIME {} found: {}", to_string(smime.form), smime.where);
    ParsedCms parsed = parse_cms(smime.der, limits.max_bytes);
    if (!parsed.cms)
        return reject(trace, VerdictReason::MalformedSignature, "S/MIME part: " + parsed.error, address);
    if (parsed.kind == CmsKind::Enveloped)
        return reject(trace, VerdictReason::Encrypted, "encrypted; cannot read", address);
    if (parsed.kind == CmsKind::Other)
        return reject(trace, VerdictReason::MalformedSignature, "S/MIME part holds no SignedData", address);
    trace.info("CMS {}{}", to_string(parsed.kind), parsed.detached ? " (detached)" : "");

    X509StackPtr certs = cms_certificates(parsed.cms.get());
    const std::time_t at = options.judge_time();
    X509Ptr subject;                      // the certificate that proves the address
    std::vector<X509Ptr> subject_chain;
    std::optional<CertReference> preference;
    std::vector<std::string> capabilities;
    std::optional<std::time_t> signed_at;

    if (smime.form == SmimeForm::Detached && parsed.kind != CmsKind::SignedData)
        return reject(trace, VerdictReason::MalformedSignature, "multipart/signed whose signature has no signer",
                      address);
    if (smime.form == SmimeForm::Detached && !parsed.detached)
        return reject(trace, VerdictReason::MalformedSignature,
                      "multipart/signed whose signature carries its own embedded content", address);

    if (parsed.kind == CmsKind::CertsOnly) {
        // 5'. No signature: only DKIM vouches for the sender.
        if (options.dkim != DkimMode::Require || !dkim_passed)
            return reject(trace, VerdictReason::CertsOnlyRefused,
                          "certs-only carries no signature; accepted only with dkim=require and DKIM passed",
                          address);
        trace.info("certs-only: no signature to verify; accepted on the strength of DKIM d={}", dkim_domain);
        for (int i = 0; i < sk_X509_num(certs.get()); ++i)
            trace.info("Certificate: {}", describe_certificate(sk_X509_value(certs.get(), i)));
        X509* best = nullptr;
        for (int i = 0; i < sk_X509_num(certs.get()); ++i) {
            X509* c = sk_X509_value(certs.get(), i);
            if (certificate_has_address(c, address) && (!best || not_after(c) > not_after(best))) best = c;
        }
        if (!best)
            return reject(trace, VerdictReason::AddressMismatch, "no certificate in certs-only is for " + address,
                          address);
        ChainResult chain = anchors.verify(best, certs.get(), at, X509_PURPOSE_ANY);
        if (!chain.ok)
            return reject(trace, chain_reason(chain.code), "certificate for " + address + ": " + chain.error,
                          address);
        subject = x509_ref(best);
        subject_chain = std::move(chain.chain);
    } else {
        if (!smime.signed_bytes && parsed.detached)
            return reject(trace, VerdictReason::MalformedSignature, "opaque signed-data without content", address);
        // 5. The signature, over exactly the signed bytes.
        SignatureCheck sig = verify_signature(parsed.cms.get(), smime.signed_bytes, limits.max_bytes);
        if (!sig.ok) return reject(trace, VerdictReason::SignatureInvalid, sig.error, address);
        trace.info("signature verified: {} signer(s) over {} bytes", sig.signers.size(),
                   smime.signed_bytes ? smime.signed_bytes->size() : sig.content.size());
        // 6. The signer: the certificate that verified, preferring the one for From.
        const SignerDetail* signer = &sig.signers.front();
        for (const auto& s : sig.signers) {
            trace.info("Certificate (signer): {}", describe_certificate(s.cert.get()));
            if (certificate_has_address(s.cert.get(), address) && !certificate_has_address(signer->cert.get(), address))
                signer = &s;
        }
        for (int i = 0; i < sk_X509_num(certs.get()); ++i) {
            X509* c = sk_X509_value(certs.get(), i);
            if (X509_cmp(c, signer->cert.get()) != 0) trace.info("Certificate: {}", describe_certificate(c));
        }
        trace.info("verifying the signer's chain at {} for S/MIME signing", format_time(at));
        ChainResult chain = anchors.verify(signer->cert.get(), certs.get(), at, X509_PURPOSE_SMIME_SIGN);
        if (!chain.ok)
            return reject(trace, chain_reason(chain.code), "signer certificate: " + chain.error, address);
        trace.info("signer chain passed ({} certificates)", chain.chain.size());
        if (!certificate_has_address(signer->cert.get(), address))
            return reject(trace, VerdictReason::AddressMismatch,
                          "signer certificate is for [" + join(certificate_addresses(signer->cert.get())) +
                              "], not the From address " + address,
                          address);
        trace.info("signer certificate is for the From address");
        subject = x509_ref(signer->cert.get());
        subject_chain = std::move(chain.chain);
        preference = signer->encryption_key_preference;
        capabilities = signer->capabilities;
        signed_at = signer->signing_time;
    }

    // 7. The certificate to encrypt to.
    EncryptionChoice choice = choose_encryption_certificate(subject.get(), subject_chain, preference, certs.get(),
                                                            address, anchors, at, trace);
    if (!choice.cert) return reject(trace, VerdictReason::CannotEncrypt, choice.problem, address);
    const std::string fp = sha256_fingerprint(choice.cert.get());
    trace.info("encryption certificate: {} sha256={}", choice.how, fp);

    // 8. Store with its evidence.
    nlohmann::json meta = {
        {"collected_at", format_time(std::time(nullptr))},
        {"source", options.source},
        {"message_id", message_id},
        {"dkim", dkim_evidence},
        {"signing_time", signed_at ? nlohmann::json(format_time(*signed_at)) : nlohmann::json(nullptr)},
        {"chain_sha256", chain_fingerprints(choice.chain)},
        {"not_after", format_time(not_after(choice.cert.get()))},
        {"capabilities", capabilities},
        {"signer_fingerprint", sha256_fingerprint(subject.get())},
    };
    PutResult put = store.put(address, choice.cert.get(), meta);
    Verdict v;
    v.address = address;
    v.fingerprint = fp;
    switch (put.outcome) {
        case PutOutcome::Stored:
            v.outcome = VerdictOutcome::Stored;
            v.reason = VerdictReason::Stored;
            v.text = "stored";
            trace.info("written file {}/{}.crt sha256={}", store.dir().string(), address, fp);
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
    }
    return "?";
}

std::string Verdict::summary() const {
    if (outcome == VerdictOutcome::Rejected)
        return std::string("rejected (") + to_string(reason) + "): " + text;
    return std::string(to_string(outcome)) + " " + address + " sha256=" + fingerprint +
           (reason == VerdictReason::Stored || reason == VerdictReason::AlreadyCurrent ? "" : " (" + text + ")");
}

Verdict collect_message(std::string_view raw, const CollectOptions& options, CertStore& store,
                        const TrustAnchors& anchors, std::string_view label) {
    Trace trace("collect: " + (label.empty() ? std::string("message") : printable(label, 200)) + " (" +
                std::to_string(raw.size()) + " bytes)");
    try {
        return run(raw, options, store, anchors, trace);
    } catch (const Error& e) {
        // The message's fault (a helper refused its content) is a rejection;
        // the environment's (store, config) goes up to the caller.
        if (e.kind() == ErrorKind::Input || e.kind() == ErrorKind::Crypto)
            return reject(trace, VerdictReason::MalformedMessage, e.what());
        trace.error("collect failed: {}", e.what());
        throw;
    } catch (const std::bad_alloc&) {
        return reject(trace, VerdictReason::TooLarge, "out of memory while processing the message");
    }
}

}  // namespace sealpost
