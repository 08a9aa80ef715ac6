// cert_policy.cpp: the always-rules of cert_policy.hpp.
#include "cert_policy.hpp"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include <array>

namespace sealpost {

const char* to_string(PolicyRule r) {
    switch (r) {
        case PolicyRule::WeakAlgorithm: return "weak-algorithm";
        case PolicyRule::WeakKey: return "weak-key";
        case PolicyRule::Purpose: return "purpose";
    }
    return "?";
}

bool is_weak_digest(int nid) {
    return nid == NID_sha1 || nid == NID_md5 || nid == NID_md5_sha1 || nid == NID_md4 || nid == NID_md2;
}

std::string digest_name(int nid) {
    const char* sn = nid == NID_undef ? nullptr : OBJ_nid2sn(nid);
    return sn ? sn : "unknown digest";
}

std::optional<PolicyProblem> weak_signature_problem(X509* cert) {
    int mdnid = NID_undef;
    int pknid = NID_undef;
    if (X509_get_signature_info(cert, &mdnid, &pknid, nullptr, nullptr) != 1) {
        // An algorithm OpenSSL cannot even name: fall back to the OID pair.
        ERR_clear_error();
        if (OBJ_find_sigid_algs(X509_get_signature_nid(cert), &mdnid, &pknid) != 1) mdnid = NID_undef;
    }
    if (is_weak_digest(mdnid))
        return PolicyProblem{PolicyRule::WeakAlgorithm,
                             "certificate signed with " + digest_name(mdnid) + " (SHA-1 and MD5 are refused)"};
    return std::nullopt;
}

std::optional<PolicyProblem> weak_key_problem(X509* cert) {
    EVP_PKEY* key = X509_get0_pubkey(cert);
    if (!key) {
        ERR_clear_error();
        return PolicyProblem{PolicyRule::WeakKey, "public key cannot be read"};
    }
    switch (EVP_PKEY_get_base_id(key)) {
        case EVP_PKEY_RSA:
        case EVP_PKEY_RSA_PSS: {
            int bits = EVP_PKEY_get_bits(key);
            if (bits < 2048)
                return PolicyProblem{PolicyRule::WeakKey,
                                     "RSA-" + std::to_string(bits) + " key (at least 2048 bits required)"};
            return std::nullopt;
        }
        case EVP_PKEY_EC: {
            std::array<char, 80> group{};
            std::size_t len = 0;
            if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(), &len) !=
                1) {
                ERR_clear_error();
                return PolicyProblem{PolicyRule::WeakKey, "EC key without a named curve"};
            }
            const std::string name(group.data());
            int nid = OBJ_sn2nid(name.c_str());
            if (nid == NID_undef) nid = OBJ_ln2nid(name.c_str());
            if (nid == NID_undef) nid = EC_curve_nist2nid(name.c_str());
            if (nid == NID_X9_62_prime256v1 || nid == NID_secp384r1 || nid == NID_secp521r1) return std::nullopt;
            return PolicyProblem{PolicyRule::WeakKey,
                                 "EC key on curve " + name + " (only P-256, P-384 and P-521 are accepted)"};
        }
        case EVP_PKEY_DSA: return PolicyProblem{PolicyRule::WeakKey, "DSA key (refused)"};
        default: return std::nullopt;  // EdDSA and others: no size rule here
    }
}

std::optional<PolicyProblem> end_entity_problem(X509* cert) {
    if (auto p = weak_signature_problem(cert)) return p;
    if (auto p = weak_key_problem(cert)) return p;
    const uint32_t flags = X509_get_extension_flags(cert);
    if ((flags & EXFLAG_BCONS) && (flags & EXFLAG_CA))
        return PolicyProblem{PolicyRule::Purpose, "end-entity certificate has basicConstraints CA:TRUE"};
    if (flags & EXFLAG_XKUSAGE) {
        const uint32_t xku = X509_get_extended_key_usage(cert);
        if (!(xku & XKU_SMIME) && !(xku & XKU_ANYEKU))
            return PolicyProblem{PolicyRule::Purpose, "extendedKeyUsage does not allow emailProtection"};
    }
    return std::nullopt;
}

std::vector<std::string> suspicious_usages(X509* cert) {
    std::vector<std::string> out;
    if (!(X509_get_extension_flags(cert) & EXFLAG_XKUSAGE)) return out;
    const uint32_t xku = X509_get_extended_key_usage(cert);
    if (xku & XKU_SSL_SERVER) out.push_back("serverAuth");
    if (xku & XKU_ANYEKU) out.push_back("anyExtendedKeyUsage");
    return out;
}

}  // namespace sealpost
