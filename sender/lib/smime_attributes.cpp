// smime_attributes.cpp: SMIMECapabilities and encryption key preference.
#include "smime_attributes.hpp"

#include <openssl/objects.h>

#include <vector>

#include "der_tlv.hpp"
#include "errors.hpp"

namespace sealpost {
namespace {

constexpr const char* kSmimeEncryptionKeyPreference = "1.2.840.113549.1.9.16.2.11";
constexpr const char* kMicrosoftEncryptionKeyPreference = "1.3.6.1.4.1.311.16.4";

template <class T, class F>
std::string der_of(const T* value, F i2d) {
    unsigned char* der = nullptr;
    int len = i2d(value, &der);
    if (len <= 0) fail_openssl("sign: cannot encode a signed attribute");
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return out;
}

// One attribute whose value is given as its complete DER encoding (tag
// included): Attribute ::= SEQUENCE { type OID, values SET OF ANY }, built
// as DER and decoded, so OpenSSL keeps the value exactly as encoded.
void add_der_attribute(CMS_SignerInfo* si, const char* oid, const std::string& value_der) {
    using ObjPtr = std::unique_ptr<ASN1_OBJECT, Free<ASN1_OBJECT_free>>;
    using AttrPtr = std::unique_ptr<X509_ATTRIBUTE, Free<X509_ATTRIBUTE_free>>;
    ObjPtr obj(OBJ_txt2obj(oid, 1));
    if (!obj) fail_openssl(std::string("sign: bad attribute OID ") + oid);
    std::string der = tlv(0x30, der_of(obj.get(), i2d_ASN1_OBJECT) + tlv(0x31, value_der));
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    AttrPtr attr(d2i_X509_ATTRIBUTE(nullptr, &p, static_cast<long>(der.size())));
    if (!attr || CMS_signed_add1_attr(si, attr.get()) != 1)
        fail_openssl(std::string("sign: cannot add signed attribute ") + oid);
}

}  // namespace

std::string issuer_and_serial_der(X509* cert) {
    std::string body = der_of(X509_get_issuer_name(cert), i2d_X509_NAME) +
                       der_of(X509_get0_serialNumber(cert), i2d_ASN1_INTEGER);
    return tlv(0x30, body);
}

void add_signed_attributes(CMS_SignerInfo* si, const SigningIdentity& signer) {
    STACK_OF(X509_ALGOR)* caps = nullptr;
    std::vector<int> nids;
    if (signer.announce_gcm) nids = {NID_aes_256_gcm, NID_aes_128_gcm};
    nids.push_back(NID_aes_256_cbc);
    nids.push_back(NID_aes_128_cbc);
    bool ok = true;
    for (int nid : nids) ok = ok && CMS_add_simple_smimecap(&caps, nid, -1) == 1;
    ok = ok && CMS_add_smimecap(si, caps) == 1;
    sk_X509_ALGOR_pop_free(caps, X509_ALGOR_free);
    if (!ok) fail_openssl("sign: cannot add SMIMECapabilities");

    // SMIMEEncryptionKeyPreference ::= CHOICE { issuerAndSerialNumber [0]
    // IssuerAndSerialNumber, ... } with implicit tags: [0] constructed
    // replaces the SEQUENCE tag. Microsoft's attribute holds the plain SEQUENCE.
    std::string ias = issuer_and_serial_der(signer.cert.get());
    add_der_attribute(si, kSmimeEncryptionKeyPreference, std::string(1, '\xa0') + ias.substr(1));
    add_der_attribute(si, kMicrosoftEncryptionKeyPreference, ias);
}

}  // namespace sealpost
