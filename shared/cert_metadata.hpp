// cert_metadata.hpp: what the store records beside a certificate (the
// `<address>.json` file): who it is for, where and when it was collected,
// the evidence (DKIM, chain, signing time) and the capabilities the signer
// announced. One typed record with one reader and one writer; the file
// format is the one described in ARCHITECTURE.md ("Certificate store
// format"), so existing stores keep working.
//
// Reading never throws: a file that is not a JSON object yields nullopt,
// and a field of the wrong type is left empty (the certificate itself is
// what matters; metadata is evidence).
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sealpost {

struct DkimEvidence {
    std::string domain;
    std::string selector;
};

// Where a kept certificate stands for its address. Expired is what a
// current or superseded certificate past its notAfter is reported as;
// Revoked is set by the revocation check and never chosen for encryption.
enum class CertStatus { Current, Superseded, Expired, Revoked };
const char* to_string(CertStatus s);
// nullopt for an unknown name.
std::optional<CertStatus> cert_status_from_string(std::string_view s);

struct CertMetadata {
    std::string address;                     // normalised
    std::string fingerprint;                 // SHA-256 of the stored certificate, hex
    std::optional<std::time_t> collected_at;
    std::string source;                      // "collect" | "webhook"
    std::string message_id;
    std::optional<DkimEvidence> dkim;        // none: DKIM not checked
    std::optional<std::time_t> signing_time;
    std::vector<std::string> chain_sha256;   // leaf first
    std::string issuers_pem;                 // the verified chain above the leaf (PEM, anchor last), kept
                                             // when it names a CRL/OCSP source: kept_chain.hpp
    std::optional<std::time_t> not_after;
    std::vector<std::string> capabilities;   // SMIMECapabilities, OpenSSL short names or dotted OIDs
    std::string signer_fingerprint;          // may differ from the stored certificate
    bool recorded = false;                   // false: no (matching) metadata file
    CertStatus status = CertStatus::Current; // "status" in the file; absent (older stores): current
    std::string revocation;                  // revoked: the evidence ("crl http://...: revoked ...")

    // True when the signer announced this capability (any of its names).
    bool announces(std::initializer_list<std::string_view> names) const;
};

// The .json file's text (pretty-printed, newline-terminated).
std::string metadata_to_json_text(const CertMetadata& meta);

// Parses a .json file; nullopt when it is not a JSON object.
std::optional<CertMetadata> metadata_from_json_text(std::string_view text);

}  // namespace sealpost
