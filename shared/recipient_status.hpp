// recipient_status.hpp: "can I encrypt to this address now, with which
// certificate, and if not, why not": the one answer behind `sealpost certs
// check` and the admin API's GET /v1/recipients/{address}; the certificate
// descriptions (list, evidence) and the store's gauges for /metrics.
//
// Whether a certificate is usable is decided by judge_recipient_certificate
// (recipient_cert.hpp: the same call the sender makes: store, profile
// rules, cached revocation); this file only names the reason with a stable
// code. Never throws for a bad address: that is the reason
// "invalid-address". Store errors (I/O) propagate as Error.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cert_store.hpp"
#include "revocation_options.hpp"

namespace sealpost {

enum class RecipientReason {
    Ok, InvalidAddress, NoCertificate, Expired, NotYetValid, CannotEncrypt, Revoked, Refused, RevocationUnavailable
};
// "ok", "invalid-address", "no-certificate", "expired", "not-yet-valid",
// "cannot-encrypt", "revoked", "certificate-refused", "revocation-unavailable"
const char* to_string(RecipientReason r);

struct RecipientStatus {
    std::string address;          // normalised; the input (printable) when invalid
    RecipientReason reason = RecipientReason::NoCertificate;
    std::string reason_text;      // the same words `certs check` prints; when ok, a caveat or ""
    StoredCertificatePtr cert;    // what is stored, usable or not (null when nothing)
    std::string cipher;           // ok only: the cipher a copy to this address alone gets
    bool can_encrypt() const { return reason == RecipientReason::Ok; }
};

// `configured_cipher`: [sender] cipher when set (already validated), else
// the sender's default rule: aes-256-gcm when the recipient announced it,
// otherwise aes-256-cbc.
RecipientStatus recipient_status(const CertStore& store, std::string_view address, std::time_t at,
                                 const std::string& configured_cipher = "",
                                 const RevocationOptions* revocation = nullptr);

// The sender's rule for AES-256-GCM: the recipient announced it in its
// SMIMECapabilities (send_pipeline uses this too).
bool announces_aes256_gcm(const CertMetadata& meta);

// JSON views for the admin API.
nlohmann::json certificate_summary(const StoredCertificate& sc);   // fingerprint, issuer, not_after, key...
nlohmann::json recipient_status_json(const RecipientStatus& s);
nlohmann::json certificate_evidence_json(const StoredCertificate& sc);  // summary + metadata + PEM

// Scrape-time gauges, Prometheus text: sealpost_store_certificates{status}
// (valid, expired, not-yet-valid, cannot-encrypt, unreadable) and
// sealpost_store_certificates_expiring{within="30d"} (valid now, expiring
// within 30 days). Reads every entry (one stat() each when cached).
std::string store_metrics(const CertStore& store, std::time_t now);

}  // namespace sealpost
