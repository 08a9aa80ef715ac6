// cert_policy.hpp: the certificate rules that hold in every profile and at
// every moment (issue 12): at collect for the whole chain, and at send for
// a certificate already in the store, so a certificate collected before a
// rule existed is never chosen for encryption.
//
//   weak-algorithm  the certificate's own signature uses SHA-1 or MD5 (or
//                   MD2/MD4); RFC 8551 2.2 / CA/B Forum S/MIME BR 7.1.3.2
//   weak-key        RSA under 2048 bits, an EC key on a curve other than
//                   P-256/P-384/P-521, or DSA; S/MIME BR 6.1.5
//   purpose         an end-entity certificate with basicConstraints CA:TRUE
//                   (RFC 5280 4.2.1.9, S/MIME BR 7.1.2.3 d); an
//                   extendedKeyUsage that allows neither emailProtection nor
//                   anyExtendedKeyUsage (RFC 5280 4.2.1.12, RFC 8550 4.4)
//
// Trusts nothing but the certificate's bytes; pure functions, no I/O, no
// exceptions: a problem is a value.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "handles.hpp"

namespace sealpost {

enum class PolicyRule { WeakAlgorithm, WeakKey, Purpose };

struct PolicyProblem {
    PolicyRule rule;
    std::string text;  // "RSA-1024 key (at least 2048 bits required)"
};

const char* to_string(PolicyRule r);  // "weak-algorithm", "weak-key", "purpose"

// True for a digest OpenSSL names by `nid` that no longer resists collisions.
bool is_weak_digest(int nid);
std::string digest_name(int nid);

// The certificate's own signature (its issuer's signing digest).
std::optional<PolicyProblem> weak_signature_problem(X509* cert);
// The certificate's public key.
std::optional<PolicyProblem> weak_key_problem(X509* cert);
// Every always-rule for a certificate used as a recipient's (end-entity)
// certificate: signature, key, CA:TRUE, extendedKeyUsage. The first broken
// rule, or nullopt.
std::optional<PolicyProblem> end_entity_problem(X509* cert);

// Usages a mail certificate should not also carry: "serverAuth",
// "anyExtendedKeyUsage" (logged as suspicious, not refused).
std::vector<std::string> suspicious_usages(X509* cert);

}  // namespace sealpost
