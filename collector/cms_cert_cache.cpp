// cms_cert_cache.cpp: see cms_cert_cache.hpp.
#include "cms_cert_cache.hpp"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include <array>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cert_info.hpp"
#include "der_tlv.hpp"

namespace sealpost {
namespace {

constexpr std::size_t kCapacity = 8192;
// 1.2.840.113549.1.7.2 (id-signedData), the OID's content octets.
constexpr std::string_view kSignedDataOid("\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02", 9);

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

// Whether OpenSSL's encoding of `cert` is exactly `der`.
bool encodes_to(X509* cert, std::string_view der) {
    int n = i2d_X509(cert, nullptr);
    if (n < 0 || static_cast<std::size_t>(n) != der.size()) return false;
    std::string out(static_cast<std::size_t>(n), '\0');
    auto* p = reinterpret_cast<unsigned char*>(out.data());
    return i2d_X509(cert, &p) == n && out == der;
}

class CertCache {
public:
    // A reference to the parsed certificate for `der`, or null when it does
    // not parse.
    X509Ptr get(std::string_view der) {
        Digest key;
        // Through the digest fetched once (SHA256() fetches it at every call).
        if (EVP_Digest(der.data(), der.size(), key.data(), nullptr, sha256_md(), nullptr) != 1) return nullptr;
        {
            std::lock_guard lock(mutex_);
            if (auto it = map_.find(key); it != map_.end()) {
                ++stats_.reused;
                return x509_ref(it->second.get());
            }
        }
        const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
        X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
        if (!cert || p != reinterpret_cast<const unsigned char*>(der.data() + der.size())) return nullptr;
        // Fill OpenSSL's lazily computed extension cache now, before the
        // object is shared between threads; and its fingerprint, when
        // OpenSSL encodes it to exactly these bytes (a lenient parse of
        // odd DER would encode, and fingerprint, differently).
        X509_check_purpose(cert.get(), -1, 0);
        if (encodes_to(cert.get(), der)) remember_sha256(cert.get(), key.data());
        std::lock_guard lock(mutex_);
        ++stats_.parsed;
        if (map_.size() >= kCapacity) map_.clear();
        auto [it, fresh] = map_.emplace(key, x509_ref(cert.get()));
        return x509_ref(it->second.get());
    }
    CmsCertCacheStats stats() {
        std::lock_guard lock(mutex_);
        return stats_;
    }

private:
    std::mutex mutex_;
    std::map<Digest, X509Ptr> map_;
    CmsCertCacheStats stats_;
};

CertCache& cache() {
    static CertCache* c = new CertCache;  // never destroyed: used until exit
    return *c;
}

// The DER split: the ContentInfo rebuilt without `certificates`, and the
// certificates' DER in order. nullopt when `der` is not a plain DER
// SignedData with a set of X.509 certificates.
struct Split {
    std::string without_certificates;
    std::vector<std::string_view> certificates;
};

std::optional<Split> split_certificates(std::string_view der) {
    std::string_view in = der;
    auto ci = read_tlv(in);
    if (!ci || ci->tag != 0x30 || !in.empty()) return std::nullopt;
    std::string_view c = ci->content;
    auto oid = read_tlv(c);
    auto explicit0 = read_tlv(c);
    if (!oid || oid->tag != 0x06 || oid->content != kSignedDataOid || !explicit0 || explicit0->tag != 0xa0 ||
        !c.empty())
        return std::nullopt;
    std::string_view e = explicit0->content;
    auto sd = read_tlv(e);
    if (!sd || sd->tag != 0x30 || !e.empty()) return std::nullopt;
    // SignedData: version, digestAlgorithms, encapContentInfo,
    // [0] certificates OPTIONAL, [1] crls OPTIONAL, signerInfos.
    Split out;
    std::string sd_content;
    sd_content.reserve(sd->content.size());
    bool found = false;
    std::string_view fields = sd->content;
    for (int index = 0; !fields.empty(); ++index) {
        auto f = read_tlv(fields);
        if (!f) return std::nullopt;
        if (index == 3 && f->tag == 0xa0) {
            std::string_view certs = f->content;
            while (!certs.empty()) {
                auto cert = read_tlv(certs);
                if (!cert || cert->tag != 0x30) return std::nullopt;  // not an X.509 certificate
                out.certificates.push_back(cert->whole);
            }
            found = true;
            continue;
        }
        sd_content.append(f->whole);
    }
    if (!found || out.certificates.empty()) return std::nullopt;
    std::string sd_tlv, explicit_tlv, ci_content;
    append_tlv(sd_tlv, 0x30, sd_content);
    append_tlv(explicit_tlv, 0xa0, sd_tlv);
    ci_content.append(oid->whole);
    ci_content.append(explicit_tlv);
    append_tlv(out.without_certificates, 0x30, ci_content);
    return out;
}

}  // namespace

CmsPtr parse_cms_with_cached_certificates(std::string_view der) {
    auto split = split_certificates(der);
    if (!split) return nullptr;
    std::vector<X509Ptr> certs;
    certs.reserve(split->certificates.size());
    for (auto cert_der : split->certificates) {
        certs.push_back(cache().get(cert_der));
        if (!certs.back()) return nullptr;  // the plain parse reports it
    }
    const auto* p = reinterpret_cast<const unsigned char*>(split->without_certificates.data());
    CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(split->without_certificates.size())));
    if (!cms) {
        ERR_clear_error();
        return nullptr;
    }
    for (auto& cert : certs)
        if (CMS_add1_cert(cms.get(), cert.get()) != 1) {  // e.g. the same certificate twice
            ERR_clear_error();
            return nullptr;
        }
    return cms;
}

CmsCertCacheStats cms_cert_cache_stats() { return cache().stats(); }

}  // namespace sealpost
