// cert_profile.cpp: the profile checks of cert_profile.hpp.
#include "cert_profile.hpp"

#include <openssl/objects.h>

#include <algorithm>

#include "address.hpp"
#include "cert_info.hpp"
#include "cert_policy.hpp"
#include "errors.hpp"

namespace sealpost {
namespace {

VerdictReason reason_for(PolicyRule rule) {
    switch (rule) {
        case PolicyRule::WeakAlgorithm: return VerdictReason::WeakAlgorithm;
        case PolicyRule::WeakKey: return VerdictReason::WeakKey;
        case PolicyRule::Purpose: return VerdictReason::CertificatePurpose;
    }
    return VerdictReason::CertificatePurpose;
}

std::string who(X509* cert) { return printable(subject_line(cert), 120); }

ProfileFailure failure(const PolicyProblem& p, X509* cert) {
    return {reason_for(p.rule), p.text + " (" + who(cert) + ")"};
}

std::string asn1_text(const ASN1_STRING* s) {
    return s ? std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                           static_cast<std::size_t>(ASN1_STRING_length(s)))
             : std::string();
}

// id-on-SmtpUTF8Mailbox, RFC 8398 3.
constexpr const char* kSmtpUtf8MailboxOid = "1.3.6.1.5.5.7.8.9";

std::optional<ProfileFailure> check_strict(X509* cert, const std::string& address) {
    auto boxes = san_mailboxes(cert);
    if (std::find(boxes.begin(), boxes.end(), address) == boxes.end())
        return ProfileFailure{VerdictReason::AddressMismatch,
                              "profile strict: " + address +
                                  " is not in a subjectAltName rfc822Name or SmtpUTF8Mailbox (S/MIME BR 7.1.2.3 h)"};
    const uint32_t flags = X509_get_extension_flags(cert);
    if (!(flags & EXFLAG_XKUSAGE))
        return ProfileFailure{VerdictReason::CertificatePurpose,
                              "profile strict: extendedKeyUsage is required (S/MIME BR 7.1.2.3 f)"};
    if (!(flags & EXFLAG_KUSAGE))
        return ProfileFailure{VerdictReason::CertificatePurpose,
                              "profile strict: keyUsage is required (S/MIME BR 7.1.2.3 e)"};
    const uint32_t ku = X509_get_key_usage(cert);
    uint32_t allowed = 0;
    uint32_t needed = 0;
    switch (key_kind(cert)) {
        case KeyKind::Rsa:
            allowed = KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION | KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT;
            needed = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT;
            break;
        case KeyKind::Ec:
            allowed = KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION | KU_KEY_AGREEMENT | KU_ENCIPHER_ONLY |
                      KU_DECIPHER_ONLY;
            needed = KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT;
            break;
        case KeyKind::Other: return std::nullopt;
    }
    if ((ku & ~allowed) != 0 || (ku & needed) == 0)
        return ProfileFailure{VerdictReason::CertificatePurpose,
                              "profile strict: keyUsage is not consistent with the " + key_description(cert) +
                                  " key (S/MIME BR 7.1.2.3 e)"};
    return std::nullopt;
}

}  // namespace

std::vector<std::string> san_mailboxes(X509* cert) {
    std::vector<std::string> out;
    GeneralNamesPtr sans(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
        const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
        std::string raw;
        if (gn->type == GEN_EMAIL) {
            raw = asn1_text(gn->d.rfc822Name);
        } else if (gn->type == GEN_OTHERNAME && gn->d.otherName && gn->d.otherName->value &&
                   gn->d.otherName->value->type == V_ASN1_UTF8STRING) {
            char oid[64] = {};
            OBJ_obj2txt(oid, sizeof oid, gn->d.otherName->type_id, 1);
            if (std::string(oid) != kSmtpUtf8MailboxOid) continue;
            raw = asn1_text(gn->d.otherName->value->value.utf8string);
        } else {
            continue;
        }
        try {
            out.push_back(normalise_address(raw));
        } catch (const Error&) {
        }
    }
    return out;
}

std::optional<ProfileFailure> check_message_digests(CMS_ContentInfo* cms) {
    STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms);
    for (int i = 0; i < sk_CMS_SignerInfo_num(infos); ++i) {
        X509_ALGOR* digest = nullptr;
        X509_ALGOR* signature = nullptr;
        CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(infos, i), nullptr, nullptr, &digest, &signature);
        int md = digest ? OBJ_obj2nid(digest->algorithm) : NID_undef;
        if (is_weak_digest(md))
            return ProfileFailure{VerdictReason::WeakAlgorithm,
                                  "message signed with digest " + digest_name(md) + " (SHA-1 and MD5 are refused)"};
        // A combined signature OID (sha1WithRSAEncryption) names its digest too.
        int sig_md = NID_undef;
        int pk = NID_undef;
        if (signature && OBJ_find_sigid_algs(OBJ_obj2nid(signature->algorithm), &sig_md, &pk) == 1 &&
            is_weak_digest(sig_md))
            return ProfileFailure{VerdictReason::WeakAlgorithm, "message signature algorithm uses " +
                                                                    digest_name(sig_md) +
                                                                    " (SHA-1 and MD5 are refused)"};
    }
    return std::nullopt;
}

std::optional<ProfileFailure> check_certificate_profile(const std::vector<X509Ptr>& chain, const std::string& address,
                                                        CertProfile profile, Trace& trace) {
    if (chain.empty()) return ProfileFailure{VerdictReason::CertificateUntrusted, "no verified chain"};
    X509* leaf = chain.front().get();
    if (auto p = end_entity_problem(leaf)) return failure(*p, leaf);
    for (const auto& usage : suspicious_usages(leaf))
        trace.warn("suspicious: certificate for {} also allows {} (sha256={})", address, usage,
                   sha256_fingerprint(leaf));
    for (std::size_t i = 1; i < chain.size(); ++i) {
        X509* ca = chain[i].get();
        const bool anchor = i + 1 == chain.size();
        if (auto p = weak_key_problem(ca)) return failure(*p, ca);
        if (!anchor)  // a trust anchor's own self-signature does not count
            if (auto p = weak_signature_problem(ca)) return failure(*p, ca);
    }
    if (profile == CertProfile::Strict)
        if (auto f = check_strict(leaf, address)) return f;
    return std::nullopt;
}

}  // namespace sealpost
