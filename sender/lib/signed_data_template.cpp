// signed_data_template.cpp: find the three holes in OpenSSL's SignedData,
// refill them per message, keep one template per signer and thread.
#include "signed_data_template.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "der_splice.hpp"
#include "errors.hpp"
#include "handles.hpp"

namespace sealpost {
namespace {

using EvpMdPtr = std::unique_ptr<EVP_MD, Free<EVP_MD_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Free<EVP_PKEY_CTX_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, Free<ASN1_TIME_free>>;

constexpr std::size_t kSignersKept = 64;  // per thread, the least recently used goes
constexpr std::size_t kTimeChars = 13;  // YYMMDDHHMMSSZ
constexpr std::size_t kDigestBytes = 32;

// Attribute ::= SEQUENCE { attrType OID, attrValues SET OF }: the bytes
// from the OID to the value's own header, for the two values refilled.
constexpr unsigned char kSigningTimeLead[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09,
                                              0x05, 0x31, 0x0f, 0x17, 0x0d};
constexpr unsigned char kMessageDigestLead[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09,
                                                0x04, 0x31, 0x22, 0x04, 0x20};

constexpr std::string_view kProbe = "Content-Type: text/plain\r\n\r\nsealpost: the signing template's probe\r\n";

// `at` as OpenSSL writes a signingTime in UTCTime's years; false outside them.
bool utc_time_chars(std::time_t at, char out[kTimeChars + 1]) {
    std::tm tm{};
    if (!gmtime_r(&at, &tm) || tm.tm_year < 50 || tm.tm_year >= 150) return false;
    const int fields[] = {tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
    char* p = out;
    for (int v : fields) {
        *p++ = static_cast<char>('0' + v / 10 % 10);
        *p++ = static_cast<char>('0' + v % 10);
    }
    *p++ = 'Z';
    *p = '\0';
    return true;
}

// Where `lead` + `value` occurs in `range` of `der`, exactly once: the
// value's offset; npos when it is missing or repeated.
std::size_t value_after(std::string_view der, DerSpan range, std::string_view lead, std::string_view value) {
    std::string needle = std::string(lead) + std::string(value);
    std::string_view in = der.substr(range.start, range.size);
    std::size_t at = in.find(needle);
    if (at == std::string_view::npos || in.find(needle, at + 1) != std::string_view::npos)
        return std::string_view::npos;
    return range.start + at + lead.size();
}

std::string_view bytes(const unsigned char* p, std::size_t n) { return {reinterpret_cast<const char*>(p), n}; }

}  // namespace

struct SignedDataTemplate::Contexts {
    EvpMdPtr sha256;
    EvpMdCtxPtr hashing;
    EvpPkeyCtxPtr signing;  // RSA, PKCS#1 v1.5, SHA-256 DigestInfo
};

SignedDataTemplate::SignedDataTemplate(std::string der, const Holes& holes, std::unique_ptr<Contexts> contexts)
    : der_(std::move(der)), holes_(holes), contexts_(std::move(contexts)) {}

SignedDataTemplate::~SignedDataTemplate() = default;

std::unique_ptr<SignedDataTemplate> SignedDataTemplate::build(const SigningIdentity& signer,
                                                              const SignedDataMaker& openssl, std::time_t now) {
    std::unique_ptr<SignedDataTemplate> made;
    try {
        made = build_or_throw(signer, openssl, now);
    } catch (const Error&) {
        // No template: OpenSSL's CMS will say what is wrong, if anything is.
    }
    if (!made) ERR_clear_error();
    return made;
}

// ContentInfo { contentType, [0] SignedData { ..., signerInfos SET {
// SignerInfo { version, sid, digestAlgorithm, [0] signedAttrs,
// signatureAlgorithm, signature } } } }: one signer, nothing after it; the
// probe's digest and `time_chars` once each in the signed attributes.
std::optional<SignedDataTemplate::Holes> SignedDataTemplate::holes_in(const std::string& der, EVP_PKEY* key,
                                                                      std::string_view time_chars) {
    Holes h;
    DerSpan signer_info = der_element(der, {1, 0, kDerLastChild, 0});
    DerSpan attrs = der_element(der, {1, 0, kDerLastChild, 0, 3});
    DerSpan signature = der_element(der, {1, 0, kDerLastChild, 0, kDerLastChild});
    h.signature_size = static_cast<std::size_t>(EVP_PKEY_get_size(key));
    if (attrs.tag != 0xa0 || signature.tag != 0x04 || signature.size <= h.signature_size ||
        signature.start + signature.size != signer_info.start + signer_info.size)
        return std::nullopt;
    h.attrs_at = attrs.start;
    h.attrs_size = attrs.size;
    h.signature_at = signature.start + signature.size - h.signature_size;

    unsigned char digest[kDigestBytes];
    unsigned digest_size = 0;
    if (EVP_Digest(kProbe.data(), kProbe.size(), digest, &digest_size, EVP_sha256(), nullptr) != 1)
        return std::nullopt;
    h.time_at = value_after(der, attrs, bytes(kSigningTimeLead, sizeof kSigningTimeLead), time_chars);
    h.digest_at = value_after(der, attrs, bytes(kMessageDigestLead, sizeof kMessageDigestLead),
                              bytes(digest, digest_size));
    if (h.time_at == std::string_view::npos || h.digest_at == std::string_view::npos) return std::nullopt;
    return h;
}

// SHA-256, and `key` signing a SHA-256 DigestInfo with PKCS#1 v1.5.
std::unique_ptr<SignedDataTemplate::Contexts> SignedDataTemplate::contexts_for(EVP_PKEY* key) {
    auto c = std::make_unique<Contexts>();
    c->sha256.reset(EVP_MD_fetch(nullptr, "SHA256", nullptr));
    c->hashing.reset(EVP_MD_CTX_new());
    c->signing.reset(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
    EVP_PKEY_CTX* sc = c->signing.get();
    if (!c->sha256 || !c->hashing || !sc || EVP_PKEY_sign_init(sc) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(sc, RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_CTX_set_signature_md(sc, c->sha256.get()) != 1)
        return nullptr;
    return c;
}

std::unique_ptr<SignedDataTemplate> SignedDataTemplate::build_or_throw(const SigningIdentity& signer,
                                                                       const SignedDataMaker& openssl,
                                                                       std::time_t now) {
    EVP_PKEY* key = signer.key.get();
    char time_chars[kTimeChars + 1];
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || !utc_time_chars(now, time_chars)) return nullptr;
    Asn1TimePtr signing_time(ASN1_UTCTIME_set(nullptr, now));
    if (!signing_time) return nullptr;
    std::string der = openssl(kProbe, signing_time.get());
    std::optional<Holes> holes = holes_in(der, key, time_chars);
    std::unique_ptr<Contexts> contexts = holes ? contexts_for(key) : nullptr;
    if (!contexts) return nullptr;
    std::unique_ptr<SignedDataTemplate> made(new SignedDataTemplate(der, *holes, std::move(contexts)));
    // Proved on the probe: refilled at the probe's second, OpenSSL's bytes.
    std::optional<std::string> refilled = made->sign(kProbe, now);
    if (!refilled || *refilled != der) return nullptr;
    return made;
}

std::optional<std::string> SignedDataTemplate::sign(std::string_view entity, std::time_t at) {
    char time_chars[kTimeChars + 1];
    if (!utc_time_chars(at, time_chars)) return std::nullopt;
    std::string der = der_;
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    std::memcpy(out + holes_.time_at, time_chars, kTimeChars);

    EVP_MD_CTX* md = contexts_->hashing.get();
    EVP_MD* sha256 = contexts_->sha256.get();
    unsigned size = 0;
    // The signed attributes are signed as a SET OF (RFC 5652, 5.4), not
    // with the [0] IMPLICIT tag they are stored under.
    static constexpr unsigned char kSetTag = 0x31;
    unsigned char attrs_digest[kDigestBytes];
    bool ok = EVP_DigestInit_ex(md, sha256, nullptr) == 1 &&
              EVP_DigestUpdate(md, entity.data(), entity.size()) == 1 &&
              EVP_DigestFinal_ex(md, out + holes_.digest_at, &size) == 1 && size == kDigestBytes &&
              EVP_DigestInit_ex(md, sha256, nullptr) == 1 && EVP_DigestUpdate(md, &kSetTag, 1) == 1 &&
              EVP_DigestUpdate(md, out + holes_.attrs_at + 1, holes_.attrs_size - 1) == 1 &&
              EVP_DigestFinal_ex(md, attrs_digest, &size) == 1 && size == kDigestBytes;
    std::size_t signature_size = holes_.signature_size;
    ok = ok && EVP_PKEY_sign(contexts_->signing.get(), out + holes_.signature_at, &signature_size, attrs_digest,
                             kDigestBytes) == 1;
    if (!ok || signature_size != holes_.signature_size) fail_openssl("sign: the signature failed");
    return der;
}

SignedDataTemplate* signed_data_template_for(const SigningIdentity& signer, const SignedDataMaker& openssl) {
    // An entry holds references to the identity's certificates and key, so
    // no other identity can have these addresses while it is kept.
    struct Entry {
        X509Ptr cert;
        EvpPkeyPtr key;
        std::vector<X509Ptr> chain;
        bool announce_gcm = false;
        unsigned messages = 0;
        std::uint64_t last_use = 0;
        std::unique_ptr<SignedDataTemplate> made;  // nullptr: none (yet) for this signer

        bool is_for(const SigningIdentity& s) const {
            if (cert.get() != s.cert.get() || key.get() != s.key.get() || announce_gcm != s.announce_gcm ||
                chain.size() != static_cast<std::size_t>(sk_X509_num(s.chain.get())))
                return false;
            for (std::size_t i = 0; i < chain.size(); ++i)
                if (chain[i].get() != sk_X509_value(s.chain.get(), static_cast<int>(i))) return false;
            return true;
        }
    };
    if (!signer.cert || !signer.key || !signer.chain) return nullptr;
    thread_local std::vector<Entry> kept;
    thread_local std::uint64_t uses = 0;
    auto it = std::find_if(kept.begin(), kept.end(), [&](const Entry& e) { return e.is_for(signer); });
    if (it == kept.end()) {
        if (kept.size() >= kSignersKept)
            kept.erase(std::min_element(kept.begin(), kept.end(),
                                        [](const Entry& a, const Entry& b) { return a.last_use < b.last_use; }));
        Entry e;
        X509_up_ref(signer.cert.get());
        e.cert.reset(signer.cert.get());
        EVP_PKEY_up_ref(signer.key.get());
        e.key.reset(signer.key.get());
        for (int i = 0; i < sk_X509_num(signer.chain.get()); ++i) {
            X509* c = sk_X509_value(signer.chain.get(), i);
            X509_up_ref(c);
            e.chain.emplace_back(c);
        }
        e.announce_gcm = signer.announce_gcm;
        it = kept.insert(kept.end(), std::move(e));
    }
    it->last_use = ++uses;
    // Made at the signer's second message: a signer seen once would pay
    // two more signatures (the probe's, OpenSSL's and ours) for nothing.
    if (++it->messages == 2) it->made = SignedDataTemplate::build(signer, openssl, std::time(nullptr));
    return it->made.get();
}

}  // namespace sealpost
