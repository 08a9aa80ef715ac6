// enveloped_data.hpp: the EnvelopedData of the common case, encoded here:
// every recipient an RSA key (key transport, PKCS#1 v1.5, named by issuer
// and serial number) and an AES-CBC content cipher. It is the structure
// OpenSSL's CMS writes for them, field for field (version 0, recipientInfos
// in DER order, rsaEncryption with NULL parameters, the cipher's
// AlgorithmIdentifier with its IV); OpenSSL's CMS would build it through
// fetches, certificate and name copies and a BIO chain for every message
// (about 5 % of `send` at 10 KB). Any other recipient key (EC: key
// agreement) or cipher (GCM: AuthEnvelopedData) goes through OpenSSL's CMS.
#pragma once

#include <openssl/evp.h>

#include <optional>
#include <string>
#include <vector>

namespace sealpost {

// A content-encryption key and IV, fresh from the DRBG, cleansed when done.
struct ContentKey {
    unsigned char key[EVP_MAX_KEY_LENGTH];
    unsigned char iv[EVP_MAX_IV_LENGTH];
    int key_size = 0;
    int iv_size = 0;

    explicit ContentKey(const EVP_CIPHER* cipher);  // Error(Crypto) when the DRBG fails
    ~ContentKey();
    ContentKey(const ContentKey&) = delete;
    ContentKey& operator=(const ContentKey&) = delete;
};

// True when rsa_enveloped_data can encode for these recipients and cipher.
bool rsa_cbc_envelope_applies(const std::vector<X509*>& recipients, const EVP_CIPHER* cipher);

// ContentInfo { envelopedData, EnvelopedData } without its encryptedContent
// (DER; der_splice.hpp puts the ciphertext in): `key` encrypted to each of
// `recipients`. Throws Error(Crypto) when a key cannot be encrypted.
std::string rsa_enveloped_data(const std::vector<X509*>& recipients, const EVP_CIPHER* cipher,
                               const ContentKey& key);

}  // namespace sealpost
