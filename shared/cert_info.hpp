// cert_info.hpp: what sealpost needs to know about one X.509 certificate:
// its addresses, whether it can encrypt (checked by key usage ourselves:
// OpenSSL's smimeencrypt purpose wrongly rejects EC keyAgreement), whether
// it is valid at a time, and a one-line description for the log.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "handles.hpp"

namespace sealpost {

enum class KeyKind { Rsa, Ec, Other };

KeyKind key_kind(X509* cert);
std::string key_description(X509* cert);  // "RSA-2048", "EC-prime256v1"

// rfc822Name entries of subjectAltName; when there are none, the subject's
// emailAddress attributes. Normalised (lowercase, IDN to ASCII).
std::vector<std::string> certificate_addresses(X509* cert);
bool certificate_has_address(X509* cert, std::string_view address);

// nullopt when the certificate can carry a content-encryption key: RSA with
// keyEncipherment, EC with keyAgreement (a missing keyUsage allows all), and
// an extendedKeyUsage, if present, that allows emailProtection.
std::optional<std::string> cannot_encrypt_reason(X509* cert);

// nullopt when `at` lies within notBefore..notAfter, else "expired <date>"
// or "not valid before <date>".
std::optional<std::string> validity_problem(X509* cert, std::time_t at);

std::time_t not_after(X509* cert);
std::time_t not_before(X509* cert);
std::string format_time(std::time_t t);  // ISO 8601 UTC
std::optional<std::time_t> parse_iso_time(std::string_view text);

// SHA-256, fetched once: with EVP_sha256() OpenSSL 3.0 fetches the
// implementation again (a lookup under a lock) at every digest.
const EVP_MD* sha256_md();

// The SHA-256 of a certificate's DER encoding (32 bytes; false when it
// cannot be encoded), and the same as lowercase hex without separators.
// X509_digest encodes the certificate again for every call; a certificate
// object shared for a long time (the collector's CMS certificate cache)
// carries its digest instead, given once by remember_sha256() before the
// object is shared between threads.
bool sha256_digest(X509* cert, unsigned char out[32]);
std::string sha256_fingerprint(X509* cert);
void remember_sha256(X509* cert, const unsigned char digest[32]);
bool sha256_remembered(X509* cert);  // whether it carries one (tests, diagnostics)

// The process-wide generation of trust decisions. Caches of verification
// results (the collector's chain cache, chain_check.hpp) keep an entry only
// for the generation it was made in; bump_trust_generation() is called when
// what a verification depends on beyond the certificates themselves changes
// (revocation information refreshed, trust anchors reloaded), and every
// entry made before is then recomputed. Thread-safe.
std::uint64_t trust_generation();
void bump_trust_generation();
std::string subject_line(X509* cert);
std::string issuer_line(X509* cert);
std::string serial_hex(X509* cert);
std::string name_line(const X509_NAME* name);       // one line, UTF-8; "?" for null
std::string integer_hex(const ASN1_INTEGER* value);  // uppercase hex; "?" for null
// subject, SAN, issuer, serial, validity, key, fingerprint: one line.
std::string describe_certificate(X509* cert);

X509Ptr read_certificate_pem(std::string_view pem);  // throws Error(Input)
std::string certificate_pem(X509* cert);

}  // namespace sealpost
