// recipient_status.cpp: the reason codes over CertStore::find_for_encryption,
// the JSON views, the store's gauges.
#include "recipient_status.hpp"

#include <map>

#include "address.hpp"
#include "cert_info.hpp"
#include "errors.hpp"
#include "log.hpp"
#include "recipient_cert.hpp"

namespace sealpost {

const char* to_string(RecipientReason r) {
    switch (r) {
        case RecipientReason::Ok: return "ok";
        case RecipientReason::InvalidAddress: return "invalid-address";
        case RecipientReason::NoCertificate: return "no-certificate";
        case RecipientReason::Expired: return "expired";
        case RecipientReason::NotYetValid: return "not-yet-valid";
        case RecipientReason::CannotEncrypt: return "cannot-encrypt";
        case RecipientReason::Revoked: return "revoked";
        case RecipientReason::Refused: return "certificate-refused";
        case RecipientReason::RevocationUnavailable: return "revocation-unavailable";
    }
    return "?";
}

bool announces_aes256_gcm(const CertMetadata& meta) { return meta.announces({"id-aes256-GCM", "aes-256-gcm"}); }

RecipientStatus recipient_status(const CertStore& store, std::string_view input, std::time_t at,
                                 const std::string& configured_cipher, const RevocationOptions* revocation) {
    RecipientStatus s;
    try {
        s.address = normalise_address(input);
        if (auto why = unsafe_file_name_reason(s.address)) fail(ErrorKind::Input, *why);
    } catch (const Error& e) {
        s.address = printable(input, 100);
        s.reason = RecipientReason::InvalidAddress;
        s.reason_text = std::string("not a usable address (") + e.what() + ")";
        return s;
    }
    auto judged = judge_recipient_certificate(store, s.address, at, revocation);
    if (judged.cert) {
        s.cert = judged.cert;
        s.reason = RecipientReason::Ok;
        s.reason_text = judged.reason;  // a caveat ("no fresh revocation information: ...") or empty
        s.cipher = !configured_cipher.empty()              ? configured_cipher
                   : announces_aes256_gcm(judged.cert->meta) ? "aes-256-gcm"
                                                             : "aes-256-cbc";
        return s;
    }
    // What is stored, usable or not: the current one, else the first kept
    // (a revoked certificate leaves the current place).
    s.cert = store.get(s.address);
    if (!s.cert) {
        auto all = store.history(s.address);
        if (!all.empty()) s.cert = all.front();
    }
    s.reason_text = judged.reason;
    switch (judged.refusal) {
        case RecipientRefusal::Profile: s.reason = RecipientReason::Refused; return s;
        case RecipientRefusal::Revoked: s.reason = RecipientReason::Revoked; return s;
        case RecipientRefusal::RevocationUnavailable: s.reason = RecipientReason::RevocationUnavailable; return s;
        default: break;
    }
    if (!s.cert) s.reason = RecipientReason::NoCertificate;
    else if (s.cert->meta.status == CertStatus::Revoked) s.reason = RecipientReason::Revoked;
    else if (at > not_after(s.cert->cert.get())) s.reason = RecipientReason::Expired;
    else if (at < not_before(s.cert->cert.get())) s.reason = RecipientReason::NotYetValid;
    else s.reason = RecipientReason::CannotEncrypt;
    return s;
}

nlohmann::json certificate_summary(const StoredCertificate& sc) {
    X509* c = sc.cert.get();
    const char* key = key_kind(c) == KeyKind::Rsa ? "rsa" : key_kind(c) == KeyKind::Ec ? "ec" : "other";
    return {{"address", sc.address},
            {"fingerprint", sc.fingerprint},
            {"subject", subject_line(c)},
            {"issuer", issuer_line(c)},
            {"serial", serial_hex(c)},
            {"not_before", format_time(not_before(c))},
            {"not_after", format_time(not_after(c))},
            {"key_type", key},
            {"key", key_description(c)},
            {"capabilities", sc.meta.capabilities},
            {"source", sc.meta.source.empty() ? nlohmann::json(nullptr) : nlohmann::json(sc.meta.source)},
            {"collected_at", sc.meta.collected_at ? nlohmann::json(format_time(*sc.meta.collected_at))
                                                  : nlohmann::json(nullptr)}};
}

nlohmann::json recipient_status_json(const RecipientStatus& s) {
    nlohmann::json j{{"address", s.address}, {"can_encrypt", s.can_encrypt()}, {"reason", to_string(s.reason)}};
    if (!s.can_encrypt()) j["detail"] = s.reason_text;
    if (s.can_encrypt()) j["cipher"] = s.cipher;
    j["certificate"] = s.cert ? certificate_summary(*s.cert) : nlohmann::json(nullptr);
    return j;
}

nlohmann::json certificate_evidence_json(const StoredCertificate& sc) {
    nlohmann::json j = certificate_summary(sc);
    j["description"] = describe_certificate(sc.cert.get());
    j["evidence"] = sc.meta.recorded ? nlohmann::json::parse(metadata_to_json_text(sc.meta), nullptr, false)
                                     : nlohmann::json(nullptr);
    j["history"] = "not kept: the store holds the current certificate only";
    j["pem"] = certificate_pem(sc.cert.get());
    return j;
}

std::string store_metrics(const CertStore& store, std::time_t now) {
    std::map<std::string, long> by_status{
        {"valid", 0}, {"expired", 0}, {"not-yet-valid", 0}, {"cannot-encrypt", 0}, {"unreadable", 0}};
    long expiring = 0;
    for (const auto& address : store.addresses()) {
        StoredCertificatePtr sc;
        try {
            sc = store.get(address);
        } catch (const Error&) {
        }
        if (!sc) {
            ++by_status["unreadable"];
            continue;
        }
        X509* c = sc->cert.get();
        if (now > not_after(c)) ++by_status["expired"];
        else if (now < not_before(c)) ++by_status["not-yet-valid"];
        else if (cannot_encrypt_reason(c)) ++by_status["cannot-encrypt"];
        else {
            ++by_status["valid"];
            if (not_after(c) <= now + 30L * 86400) ++expiring;
        }
    }
    std::string out =
        "# HELP sealpost_store_certificates Certificates in the store, by status now.\n"
        "# TYPE sealpost_store_certificates gauge\n";
    for (const auto& [status, n] : by_status)
        out += "sealpost_store_certificates{status=\"" + status + "\"} " + std::to_string(n) + "\n";
    out += "# HELP sealpost_store_certificates_expiring Usable certificates that expire within the window.\n"
           "# TYPE sealpost_store_certificates_expiring gauge\n"
           "sealpost_store_certificates_expiring{within=\"30d\"} " + std::to_string(expiring) + "\n";
    return out;
}

}  // namespace sealpost
