// collector_signed_attributes_test.cpp: the signed attributes sealpost sends are read
// back by the collector's own parser (what another sealpost collects from
// our mail): capabilities AES only, GCM only when announced, and an
// encryption key preference naming the signer's certificate.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "cms_verify.hpp"
#include "identity.hpp"
#include "mime.hpp"
#include "smime_build.hpp"

using namespace sealpost;

namespace {

// The CMS of an opaque signed entity sealpost produced.
CmsPtr signed_cms(const SigningIdentity& id) {
    std::string entity = "Content-Type: text/plain\r\n\r\nhello\r\n";
    std::string out = sign_entity(entity, id, SignMode::Opaque);
    std::string der = base64_decode(out.substr(out.find("\r\n\r\n") + 4));
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    return CmsPtr(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
}

template <class T, class F>
std::string der(const T* value, F i2d) {
    unsigned char* out = nullptr;
    int len = i2d(value, &out);
    std::string s(reinterpret_cast<char*>(out), static_cast<std::size_t>(std::max(len, 0)));
    OPENSSL_free(out);
    return s;
}

}  // namespace

TEST(SmimeAttributes, CollectorReadsCapabilitiesAndKeyPreference) {
    IdentityStore store(std::string(SEALPOST_PKI) + "/keys");
    auto id = store.get("alice@example.com");
    auto cms = signed_cms(*id);
    ASSERT_TRUE(cms);
    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms.get()), 0);
    auto caps = smime_capabilities(si);
    EXPECT_EQ(caps, (std::vector<std::string>{"AES-256-CBC", "AES-128-CBC"}));
    auto pref = encryption_key_preference(si);
    ASSERT_TRUE(pref.has_value());
    EXPECT_EQ(pref->serial_der, der(X509_get0_serialNumber(id->cert.get()), i2d_ASN1_INTEGER));
    EXPECT_EQ(pref->issuer_der, der(X509_get_issuer_name(id->cert.get()), i2d_X509_NAME));
}

TEST(SmimeAttributes, GcmIsAnnouncedFirstOnlyWhenConfigured) {
    IdentityOptions o;
    o.announce_gcm = true;
    IdentityStore store(std::string(SEALPOST_PKI) + "/keys", o);
    auto cms = signed_cms(*store.get("alice@example.com"));
    ASSERT_TRUE(cms);
    auto caps = smime_capabilities(sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms.get()), 0));
    EXPECT_EQ(caps, (std::vector<std::string>{"id-aes256-GCM", "id-aes128-GCM", "AES-256-CBC", "AES-128-CBC"}));
}
