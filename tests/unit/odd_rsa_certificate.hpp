// odd_rsa_certificate.hpp: a self-signed RSA certificate unlike the test
// PKI's (2048-bit keys, short names, small serials): a key of `bits`, a
// 16-byte serial number with its high bit set (DER adds a zero byte) and an
// issuer name of about 300 bytes (long-form lengths), for the encoders that
// copy a certificate's issuer and serial and a key's size into DER.
#pragma once

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <string>

#include "handles.hpp"

namespace sealpost::test {

struct OddRsa {
    X509Ptr cert;
    EvpPkeyPtr key;
};

inline OddRsa odd_rsa_certificate(unsigned bits) {
    OddRsa out;
    out.key.reset(EVP_RSA_gen(bits));
    out.cert.reset(X509_new());
    X509* c = out.cert.get();
    X509_set_version(c, 2);
    BIGNUM* serial = nullptr;
    BN_hex2bn(&serial, "80112233445566778899AABBCCDDEEFF");
    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(c));
    BN_free(serial);
    X509_NAME* name = X509_get_subject_name(c);
    const std::string long_part(60, 'n');
    for (const char* field : {"O", "OU", "L", "ST", "CN"})
        X509_NAME_add_entry_by_txt(name, field, MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(long_part.c_str()), -1, -1, 0);
    X509_set_issuer_name(c, name);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), 3600L * 24 * 365);
    X509_set_pubkey(c, out.key.get());
    X509_sign(c, out.key.get(), EVP_sha256());
    return out;
}

}  // namespace sealpost::test
