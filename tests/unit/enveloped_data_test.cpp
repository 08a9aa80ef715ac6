// enveloped_data_test.cpp: the EnvelopedData encoded here is OpenSSL's
// for the same recipients and cipher in every byte but the random ones
// (each encryptedKey, the IV), with one and with several recipients (their
// order is the DER set's) and with a 1536-bit key, a serial with its high
// bit set and a long issuer name; OpenSSL re-encodes it byte for byte and each
// recipient decrypts what append_encrypted_entity writes with it. A
// recipient that is not RSA, or GCM, leaves the message to OpenSSL's CMS.
#include <gtest/gtest.h>
#include <openssl/cms.h>

#include <string>
#include <vector>

#include "collector_support.hpp"
#include "der_splice.hpp"
#include "enveloped_data.hpp"
#include "mime.hpp"
#include "odd_rsa_certificate.hpp"
#include "smime_build.hpp"

using namespace sealpost;
using namespace sealpost::test;

namespace {

// OpenSSL's EnvelopedData for `recipients`, detached and without content.
std::string openssl_enveloped(const std::vector<X509*>& recipients, const EVP_CIPHER* cipher) {
    X509StackPtr certs(sk_X509_new_null());
    for (X509* c : recipients) {
        X509_up_ref(c);
        sk_X509_push(certs.get(), c);
    }
    CmsPtr cms(CMS_encrypt(certs.get(), nullptr, cipher, CMS_BINARY | CMS_PARTIAL | CMS_DETACHED));
    EXPECT_TRUE(cms);
    BioPtr chain(CMS_dataInit(cms.get(), BIO_new(BIO_s_null())));  // makes the keys
    EXPECT_TRUE(chain);
    return cms_der(cms.get());
}

// `der` with every encryptedKey and the IV zeroed: what is not random.
std::string without_random_bytes(std::string der, std::size_t recipients) {
    auto zero_value = [&der](DerSpan s) {
        auto first = static_cast<unsigned char>(der[s.start + 1]);
        std::size_t header = first < 0x80 ? 2 : 2 + (first & 0x7f);
        for (std::size_t i = s.start + header; i < s.start + s.size; ++i) der[i] = 0;
    };
    for (unsigned i = 0; i < recipients; ++i) zero_value(der_element(der, {1, 0, 1, i, 3}));
    zero_value(der_element(der, {1, 0, 2, 1, 1}));
    return der;
}

std::string decrypt(const std::string& part, X509* cert, EVP_PKEY* key) {
    std::string der = base64_decode(part.substr(part.find("\r\n\r\n") + 4));
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
    if (!cms) return "(not DER)";
    EXPECT_EQ(cms_der(cms.get()), der) << "not the DER OpenSSL writes";
    BioPtr out(BIO_new(BIO_s_mem()));
    if (CMS_decrypt(cms.get(), key, cert, nullptr, out.get(), CMS_BINARY) != 1) return "(does not decrypt)";
    char* data = nullptr;
    long len = BIO_get_mem_data(out.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

struct Recipient {
    X509Ptr cert;
    EvpPkeyPtr key;
};

Recipient user(const std::string& name) {
    return {pem_cert(pki() + "/users/" + name + ".crt"), pem_key(pki() + "/users/" + name + ".pem")};
}

}  // namespace

TEST(EnvelopedData, IsOpenSslsStructureButForTheRandomBytes) {
    Recipient bob = user("bob@example.com"), carol = user("carol@example.net"), alice = user("alice@example.com");
    OddRsa odd = odd_rsa_certificate(1536);
    ASSERT_TRUE(bob.cert && carol.cert && alice.cert && odd.cert);
    const std::vector<std::vector<X509*>> sets = {{bob.cert.get()},
                                                  {bob.cert.get(), carol.cert.get(), alice.cert.get()},
                                                  {alice.cert.get(), bob.cert.get()},
                                                  {odd.cert.get(), bob.cert.get()}};
    for (const EVP_CIPHER* cipher : {EVP_aes_256_cbc(), EVP_aes_128_cbc()}) {
        for (const auto& recipients : sets) {
            ASSERT_TRUE(rsa_cbc_envelope_applies(recipients, cipher));
            ContentKey key(cipher);
            std::string mine = rsa_enveloped_data(recipients, cipher, key);
            std::string theirs = openssl_enveloped(recipients, cipher);
            EXPECT_EQ(without_random_bytes(mine, recipients.size()), without_random_bytes(theirs, recipients.size()))
                << EVP_CIPHER_get0_name(cipher) << ", " << recipients.size() << " recipient(s)";
            EXPECT_NE(mine, theirs) << "the key and IV are fresh";
        }
    }
}

TEST(EnvelopedData, EveryRecipientDecryptsTheEntity) {
    Recipient bob = user("bob@example.com"), carol = user("carol@example.net");
    ASSERT_TRUE(bob.key && carol.key);
    for (std::size_t n : {0, 15, 16, 17, 1000, 3600, 3648, 3700, 16384, 16385, 100000}) {
        std::string entity = "Content-Type: text/plain\r\n\r\n" + std::string(n, 'x') + "\r\n";
        for (Cipher c : {Cipher::Aes256Cbc, Cipher::Aes128Cbc}) {
            std::string part = encrypt_entity(entity, {bob.cert.get(), carol.cert.get()}, c);
            EXPECT_EQ(decrypt(part, bob.cert.get(), bob.key.get()), entity) << n << " bytes, bob";
            EXPECT_EQ(decrypt(part, carol.cert.get(), carol.key.get()), entity) << n << " bytes, carol";
        }
    }
}

TEST(EnvelopedData, ARecipientWithAnOddKeySerialAndNameDecryptsItsCopy) {
    OddRsa odd = odd_rsa_certificate(1536);
    ASSERT_TRUE(odd.cert && odd.key);
    std::string entity = "Content-Type: text/plain\r\n\r\nodd\r\n";
    std::string part = encrypt_entity(entity, {odd.cert.get()}, Cipher::Aes256Cbc);
    EXPECT_EQ(decrypt(part, odd.cert.get(), odd.key.get()), entity);
}

TEST(EnvelopedData, AnEcRecipientOrGcmIsLeftToOpenSsl) {
    Recipient bob = user("bob@example.com"), ec = user("ecenc@example.com");
    ASSERT_TRUE(bob.cert && ec.cert);
    EXPECT_FALSE(rsa_cbc_envelope_applies({bob.cert.get(), ec.cert.get()}, EVP_aes_256_cbc()));
    EXPECT_FALSE(rsa_cbc_envelope_applies({bob.cert.get()}, EVP_aes_256_gcm()));
    EXPECT_FALSE(rsa_cbc_envelope_applies({}, EVP_aes_256_cbc()));
    std::string entity = "Content-Type: text/plain\r\n\r\nfor both\r\n";
    std::string part = encrypt_entity(entity, {bob.cert.get(), ec.cert.get()}, Cipher::Aes256Cbc);
    EXPECT_EQ(decrypt(part, bob.cert.get(), bob.key.get()), entity);
    EXPECT_EQ(decrypt(part, ec.cert.get(), ec.key.get()), entity) << "key agreement, through OpenSSL's CMS";
}
