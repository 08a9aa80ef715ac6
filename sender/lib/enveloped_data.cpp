// enveloped_data.cpp: KeyTransRecipientInfo for each RSA recipient, sorted
// as DER sets are, around the content's AlgorithmIdentifier.
#include "enveloped_data.hpp"

#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "der_tlv.hpp"
#include "errors.hpp"
#include "handles.hpp"
#include "smime_attributes.hpp"

namespace sealpost {
namespace {

using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Free<EVP_PKEY_CTX_free>>;

constexpr std::string_view kVersion0{"\x02\x01\x00", 3};  // INTEGER 0

std::string object_der(int nid) {
    const ASN1_OBJECT* obj = OBJ_nid2obj(nid);
    unsigned char* der = nullptr;
    int len = obj ? i2d_ASN1_OBJECT(obj, &der) : -1;
    if (len <= 0) fail_openssl("encrypt: no encoding for an algorithm's OID");
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return out;
}

std::string_view bytes(const unsigned char* p, int n) {
    return {reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)};
}

// encryptedKey: the content key under the recipient's RSA key, PKCS#1 v1.5.
std::string encrypted_key(X509* cert, const ContentKey& key) {
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, X509_get0_pubkey(cert), nullptr));
    std::size_t size = 0;
    const auto* in = key.key;
    const auto in_size = static_cast<std::size_t>(key.key_size);
    if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_encrypt(ctx.get(), nullptr, &size, in, in_size) != 1)
        fail_openssl("encrypt: cannot encrypt the content key to a recipient");
    std::string out(size, '\0');
    if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &size, in, in_size) != 1)
        fail_openssl("encrypt: cannot encrypt the content key to a recipient");
    out.resize(size);
    return out;
}

// KeyTransRecipientInfo ::= SEQUENCE { version 0, rid IssuerAndSerialNumber,
// keyEncryptionAlgorithm { rsaEncryption, NULL }, encryptedKey }.
std::string key_trans_recipient(X509* cert, const ContentKey& key) {
    constexpr std::string_view kNull{"\x05\x00", 2};
    std::string algorithm = tlv(0x30, object_der(NID_rsaEncryption) + std::string(kNull));
    return tlv(0x30, std::string(kVersion0) + issuer_and_serial_der(cert) + algorithm +
                              tlv(0x04, encrypted_key(cert, key)));
}

// A SET OF's members in the order OpenSSL's DER encoder puts them.
bool der_set_order(const std::string& a, const std::string& b) {
    int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
    return c != 0 ? c < 0 : a.size() < b.size();
}

}  // namespace

ContentKey::ContentKey(const EVP_CIPHER* cipher)
    : key_size(EVP_CIPHER_get_key_length(cipher)), iv_size(EVP_CIPHER_get_iv_length(cipher)) {
    if (key_size <= 0 || key_size > EVP_MAX_KEY_LENGTH || iv_size < 0 || iv_size > EVP_MAX_IV_LENGTH ||
        RAND_priv_bytes(key, key_size) != 1 || RAND_bytes(iv, iv_size) != 1)
        fail_openssl("encrypt: cannot make a content-encryption key");
}

ContentKey::~ContentKey() {
    OPENSSL_cleanse(key, sizeof key);
}

bool rsa_cbc_envelope_applies(const std::vector<X509*>& recipients, const EVP_CIPHER* cipher) {
    if (recipients.empty() || EVP_CIPHER_get_mode(cipher) != EVP_CIPH_CBC_MODE ||
        EVP_CIPHER_get_block_size(cipher) <= 1 || EVP_CIPHER_get_iv_length(cipher) <= 0)
        return false;
    for (X509* cert : recipients) {
        EVP_PKEY* key = cert ? X509_get0_pubkey(cert) : nullptr;
        if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) return false;
    }
    return true;
}

std::string rsa_enveloped_data(const std::vector<X509*>& recipients, const EVP_CIPHER* cipher,
                               const ContentKey& key) {
    std::vector<std::string> infos;
    infos.reserve(recipients.size());
    for (X509* cert : recipients) infos.push_back(key_trans_recipient(cert, key));
    std::sort(infos.begin(), infos.end(), der_set_order);
    std::string set;
    for (const std::string& info : infos) set += info;

    // EncryptedContentInfo ::= SEQUENCE { contentType data,
    // contentEncryptionAlgorithm { cipher, IV }, [0] encryptedContent (added later) }.
    std::string algorithm = tlv(0x30, object_der(EVP_CIPHER_get_nid(cipher)) +
                                              tlv(0x04, bytes(key.iv, key.iv_size)));
    std::string content_info = tlv(0x30, object_der(NID_pkcs7_data) + algorithm);
    std::string enveloped = tlv(0x30, std::string(kVersion0) + tlv(0x31, set) + content_info);
    return tlv(0x30, object_der(NID_pkcs7_enveloped) + tlv(0xa0, enveloped));
}

}  // namespace sealpost
