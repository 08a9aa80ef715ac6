// cms_verify.hpp: OpenSSL CMS: parse a SignedData from DER, verify its
// signature over exactly the signed bytes, and read what the signer said
// about itself in signed attributes: SMIMECapabilities (RFC 8551 2.5.2),
// SMIMEEncryptionKeyPreference (2.5.3) and signingTime.
//
// Trusts nothing in the DER: OpenSSL's ASN.1 decoder bounds nesting and
// lengths, and we bound the input size before it. The signature check does
// not judge the signer's certificate chain (chain_check.hpp does, at the
// chosen time); it only proves that the certificate's key signed the bytes.
// Failures are results with a reason, never exceptions.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "handles.hpp"

namespace sealpost {

enum class CmsKind { SignedData, CertsOnly, Enveloped, Other };
const char* to_string(CmsKind k);

struct ParsedCms {
    CmsPtr cms;
    CmsKind kind = CmsKind::Other;
    bool detached = false;    // SignedData without embedded content
    std::string error;        // set when cms is null
};

// Parses DER (or, if it is not DER, PEM). Bounded by `max_bytes`.
ParsedCms parse_cms(std::string_view der, std::size_t max_bytes);

// How a SignerInfo names a certificate (SMIMEEncryptionKeyPreference).
struct CertReference {
    std::string issuer_der;  // issuerAndSerialNumber: issuer Name DER
    std::string serial_der;  //                        serial INTEGER content
    std::string key_id;      // subjectKeyIdentifier bytes
    bool empty() const { return issuer_der.empty() && key_id.empty(); }
};
bool cert_matches(X509* cert, const CertReference& ref);

struct SignerDetail {
    X509Ptr cert;                            // the certificate whose key verified
    std::vector<std::string> capabilities;   // OpenSSL short names or dotted OIDs, in order
    std::optional<std::time_t> signing_time;
    std::optional<CertReference> encryption_key_preference;
};

struct SignatureCheck {
    bool ok = false;
    std::string error;                    // why it failed
    std::vector<SignerDetail> signers;    // every SignerInfo (all verified when ok)
    std::string content;                  // the signed content (opaque: the embedded bytes)
};

// Verifies every SignerInfo of `cms`. `detached_content` is the canonical
// signed bytes of a multipart/signed (nullopt for embedded content).
SignatureCheck verify_signature(CMS_ContentInfo* cms, std::optional<std::string_view> detached_content,
                                std::size_t max_content);

// Every certificate the SignedData carries (owned copies).
X509StackPtr cms_certificates(CMS_ContentInfo* cms);

// Signed-attribute readers, exposed for tests.
std::vector<std::string> smime_capabilities(CMS_SignerInfo* si);
std::optional<CertReference> encryption_key_preference(CMS_SignerInfo* si);
std::optional<std::time_t> signing_time(CMS_SignerInfo* si);

}  // namespace sealpost
