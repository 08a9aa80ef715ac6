// cert_info.cpp: certificate inspection on OpenSSL 3.
#include "cert_info.hpp"

#include <atomic>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <cstring>

#include "address.hpp"
#include "errors.hpp"

namespace sealpost {
namespace {

std::string asn1_string(const ASN1_STRING* s) {
    if (!s) return {};
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, s);
    if (n < 0) return {};
    std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
    OPENSSL_free(utf8);
    return out;
}

}  // namespace

std::string name_line(const X509_NAME* name) {
    if (!name) return "?";
    BioPtr bio(BIO_new(BIO_s_mem()));
    X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

std::string integer_hex(const ASN1_INTEGER* i) {
    BIGNUM* bn = i ? ASN1_INTEGER_to_BN(i, nullptr) : nullptr;
    if (!bn) return "?";
    char* hex = BN_bn2hex(bn);
    std::string out = hex ? hex : "?";
    OPENSSL_free(hex);
    BN_free(bn);
    return out;
}

namespace {

std::time_t asn1_time_to_time_t(const ASN1_TIME* t) {
    struct tm tm {};
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
    return timegm(&tm);
}

}  // namespace

KeyKind key_kind(X509* cert) {
    EVP_PKEY* key = X509_get0_pubkey(cert);
    if (!key) return KeyKind::Other;
    switch (EVP_PKEY_get_base_id(key)) {
        case EVP_PKEY_RSA: return KeyKind::Rsa;
        case EVP_PKEY_EC: return KeyKind::Ec;
        default: return KeyKind::Other;
    }
}

std::string key_description(X509* cert) {
    EVP_PKEY* key = X509_get0_pubkey(cert);
    if (!key) return "unknown key";
    int bits = EVP_PKEY_get_bits(key);
    switch (key_kind(cert)) {
        case KeyKind::Rsa: return "RSA-" + std::to_string(bits);
        case KeyKind::Ec: {
            char group[64] = {0};
            std::size_t len = 0;
            if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1) return std::string("EC-") + group;
            return "EC-" + std::to_string(bits);
        }
        case KeyKind::Other: break;
    }
    return std::string(OBJ_nid2sn(EVP_PKEY_get_base_id(key))) + "-" + std::to_string(bits);
}

std::vector<std::string> certificate_addresses(X509* cert) {
    std::vector<std::string> out;
    GeneralNamesPtr sans(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
    if (sans) {
        for (int i = 0; i < sk_GENERAL_NAME_num(sans.get()); ++i) {
            const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
            if (gn->type != GEN_EMAIL) continue;
            try {
                out.push_back(normalise_address(asn1_string(gn->d.rfc822Name)));
            } catch (const Error&) {
            }
        }
    }
    if (!out.empty()) return out;
    X509_NAME* subject = X509_get_subject_name(cert);
    for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_pkcs9_emailAddress, i)) >= 0;) {
        try {
            out.push_back(normalise_address(asn1_string(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)))));
        } catch (const Error&) {
        }
    }
    return out;
}

bool certificate_has_address(X509* cert, std::string_view address) {
    std::string want;
    try {
        want = normalise_address(address);
    } catch (const Error&) {
        return false;
    }
    for (const auto& a : certificate_addresses(cert))
        if (a == want) return true;
    return false;
}

std::optional<std::string> cannot_encrypt_reason(X509* cert) {
    uint32_t flags = X509_get_extension_flags(cert);
    if (flags & EXFLAG_INVALID) return "certificate has invalid extensions";
    if (flags & EXFLAG_XKUSAGE) {
        uint32_t xku = X509_get_extended_key_usage(cert);
        if (!(xku & XKU_SMIME) && !(xku & XKU_ANYEKU)) return "extendedKeyUsage lacks emailProtection";
    }
    bool has_ku = flags & EXFLAG_KUSAGE;
    uint32_t ku = X509_get_key_usage(cert);
    switch (key_kind(cert)) {
        case KeyKind::Rsa:
            if (has_ku && !(ku & KU_KEY_ENCIPHERMENT)) return "RSA key usage lacks keyEncipherment";
            return std::nullopt;
        case KeyKind::Ec:
            if (has_ku && !(ku & KU_KEY_AGREEMENT)) return "EC key usage lacks keyAgreement";
            return std::nullopt;
        case KeyKind::Other: break;
    }
    return "key type " + key_description(cert) + " cannot encrypt";
}

std::time_t not_after(X509* cert) { return asn1_time_to_time_t(X509_get0_notAfter(cert)); }
std::time_t not_before(X509* cert) { return asn1_time_to_time_t(X509_get0_notBefore(cert)); }

std::string format_time(std::time_t t) {
    struct tm tm {};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::optional<std::time_t> parse_iso_time(std::string_view text) {
    std::string s(text);
    struct tm tm {};
    int y, mo, d, h = 0, mi = 0, sec = 0;
    char tail[8] = {0};
    int n = std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%7s", &y, &mo, &d, &h, &mi, &sec, tail);
    if (n < 3) return std::nullopt;
    if (n == 3 && s.size() != 10) return std::nullopt;
    if (n > 3 && n < 6) return std::nullopt;
    if (n == 7 && std::string(tail) != "Z") return std::nullopt;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    return timegm(&tm);
}

std::optional<std::string> validity_problem(X509* cert, std::time_t at) {
    std::time_t nb = not_before(cert), na = not_after(cert);
    if (at < nb) return "not valid before " + format_time(nb);
    if (at > na) return "expired " + format_time(na);
    return std::nullopt;
}

const EVP_MD* sha256_md() {
    static EVP_MD* fetched = [] {
        // A failed fetch leaves no error behind for a later, unrelated
        // failure's message; EVP_sha256() then serves as before.
        ERR_set_mark();
        EVP_MD* md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
        ERR_pop_to_mark();
        return md;
    }();
    return fetched ? fetched : EVP_sha256();
}

namespace {

// The ex_data slot of a remembered digest: 32 bytes owned by the X509.
void free_digest(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) { OPENSSL_free(ptr); }

int copy_digest(CRYPTO_EX_DATA*, const CRYPTO_EX_DATA*, void** from, int, long, void*) {
    if (*from) *from = OPENSSL_memdup(*from, 32);  // the copy owns its own
    return 1;
}

int digest_index() {
    static const int index = X509_get_ex_new_index(0, nullptr, nullptr, copy_digest, free_digest);
    return index;
}

}  // namespace

void remember_sha256(X509* cert, const unsigned char digest[32]) {
    if (digest_index() < 0 || X509_get_ex_data(cert, digest_index())) return;
    void* copy = OPENSSL_memdup(digest, 32);
    if (copy && !X509_set_ex_data(cert, digest_index(), copy)) OPENSSL_free(copy);
}

bool sha256_remembered(X509* cert) { return digest_index() >= 0 && X509_get_ex_data(cert, digest_index()); }

bool sha256_digest(X509* cert, unsigned char out[32]) {
    if (digest_index() >= 0)
        if (const void* kept = X509_get_ex_data(cert, digest_index())) {
            std::memcpy(out, kept, 32);
            return true;
        }
    unsigned int len = 0;
    return X509_digest(cert, sha256_md(), out, &len) == 1 && len == 32;
}

std::string sha256_fingerprint(X509* cert) {
    unsigned char md[32];
    if (!sha256_digest(cert, md)) return {};
    static const char* hex = "0123456789abcdef";
    std::string out(64, '0');
    for (int i = 0; i < 32; ++i) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    return out;
}

std::string subject_line(X509* cert) { return name_line(X509_get_subject_name(cert)); }
std::string issuer_line(X509* cert) { return name_line(X509_get_issuer_name(cert)); }

std::string serial_hex(X509* cert) { return integer_hex(X509_get0_serialNumber(cert)); }

std::string describe_certificate(X509* cert) {
    std::string addrs;
    for (const auto& a : certificate_addresses(cert)) addrs += (addrs.empty() ? "" : ",") + a;
    return "subject=" + subject_line(cert) + " addresses=[" + addrs + "] issuer=" + issuer_line(cert) +
           " serial=" + serial_hex(cert) + " not_before=" + format_time(not_before(cert)) +
           " not_after=" + format_time(not_after(cert)) + " key=" + key_description(cert) +
           " sha256=" + sha256_fingerprint(cert);
}

X509Ptr read_certificate_pem(std::string_view pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) fail_openssl("not a PEM certificate");
    return cert;
}

std::string certificate_pem(X509* cert) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(bio.get(), cert);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

namespace {
std::atomic<std::uint64_t> g_trust_generation{1};
}

std::uint64_t trust_generation() { return g_trust_generation.load(std::memory_order_acquire); }

void bump_trust_generation() { g_trust_generation.fetch_add(1, std::memory_order_acq_rel); }

}  // namespace sealpost
