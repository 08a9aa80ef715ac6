// signed_data_template_test.cpp: a refilled template is byte for byte the
// SignedData OpenSSL's CMS makes for the same entity at the same second
// (RSA PKCS#1 v1.5 is deterministic), at every size and at the ends of
// UTCTime's years; outside them, for a key that is not RSA, and for a
// probe that does not refill to OpenSSL's bytes there is no template and
// OpenSSL signs. A thread makes a signer's template at its second message
// and keeps the 64 signers it used last. What sign_entity writes through
// it verifies and carries the moment it was signed.
#include <gtest/gtest.h>
#include <openssl/cms.h>

#include <ctime>
#include <random>
#include <thread>
#include <vector>

#include "cert_info.hpp"
#include "collector_support.hpp"
#include "identity.hpp"
#include "mime.hpp"
#include "odd_rsa_certificate.hpp"
#include "signed_data_template.hpp"
#include "smime_build.hpp"

using namespace sealpost;
using namespace sealpost::test;

namespace {

using Asn1TimePtr = std::unique_ptr<ASN1_TIME, Free<ASN1_TIME_free>>;

std::string entity_of(std::size_t body_bytes, unsigned seed) {
    std::mt19937 rng(seed);
    std::string e = "Content-Type: text/plain; charset=us-ascii\r\n\r\n";
    for (std::size_t i = 0; i < body_bytes; ++i) e += (i % 77 == 76) ? '\n' : static_cast<char>('a' + rng() % 26);
    return e;
}

SignedDataMaker openssl_for(const SigningIdentity& signer) {
    return [&signer](std::string_view entity, const ASN1_TIME* at) { return cms_signed_data(entity, signer, at); };
}

std::string openssl_at(const SigningIdentity& signer, std::string_view entity, std::time_t at) {
    Asn1TimePtr t(ASN1_UTCTIME_set(nullptr, at));
    EXPECT_TRUE(t) << at;
    return cms_signed_data(entity, signer, t.get());
}

std::time_t utc(const char* iso) { return *parse_iso_time(iso); }

// The SignedData of an opaque part, verified (its signer certificate not
// checked) and its content compared with `entity`.
CmsPtr verified_part(const std::string& part, const std::string& entity) {
    std::string der = base64_decode(part.substr(part.find("\r\n\r\n") + 4));
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
    EXPECT_TRUE(cms);
    if (!cms) return cms;
    BioPtr out(BIO_new(BIO_s_mem()));
    EXPECT_EQ(CMS_verify(cms.get(), nullptr, nullptr, nullptr, out.get(), CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY), 1);
    char* data = nullptr;
    long len = BIO_get_mem_data(out.get(), &data);
    EXPECT_EQ(std::string(data, static_cast<std::size_t>(std::max(len, 0L))), entity);
    return cms;
}

class SignedDataTemplateTest : public ::testing::Test {
protected:
    IdentityStore identities{pki() + "/keys"};
    SigningIdentityPtr alice = identities.get("alice@example.com");  // RSA-2048
    SigningIdentityPtr dave = identities.get("dave@example.org");    // EC P-256
};

}  // namespace

TEST_F(SignedDataTemplateTest, ARefilledTemplateIsOpenSslsSignedDataByteForByte) {
    auto made = SignedDataTemplate::build(*alice, openssl_for(*alice), std::time(nullptr));
    ASSERT_TRUE(made) << "an RSA signer has a template";
    const std::time_t times[] = {std::time(nullptr), utc("2049-12-31T23:59:59Z"), utc("1950-01-01T00:00:00Z"),
                                 utc("2031-02-03T04:05:06Z")};
    for (std::size_t n : {0, 1, 100, 4096, 70000}) {
        std::string entity = entity_of(n, static_cast<unsigned>(n));
        for (std::time_t at : times) {
            std::optional<std::string> der = made->sign(entity, at);
            ASSERT_TRUE(der) << at;
            EXPECT_EQ(*der, openssl_at(*alice, entity, at)) << n << " bytes at " << at;
        }
    }
}

TEST_F(SignedDataTemplateTest, OutsideUtcTimesYearsTheTemplateDeclines) {
    auto made = SignedDataTemplate::build(*alice, openssl_for(*alice), std::time(nullptr));
    ASSERT_TRUE(made);
    EXPECT_FALSE(made->sign("x", utc("2050-01-01T00:00:00Z"))) << "OpenSSL writes a GeneralizedTime from 2050";
    EXPECT_FALSE(made->sign("x", utc("1949-12-31T23:59:59Z")));
    EXPECT_FALSE(SignedDataTemplate::build(*alice, openssl_for(*alice), utc("2050-06-01T00:00:00Z")));
}

TEST_F(SignedDataTemplateTest, AnEcSignerHasNoneAndSignEntityStillVerifies) {
    EXPECT_FALSE(SignedDataTemplate::build(*dave, openssl_for(*dave), std::time(nullptr)));
    for (int message = 0; message < 3; ++message) EXPECT_EQ(signed_data_template_for(*dave, openssl_for(*dave)), nullptr);
    std::string entity = entity_of(500, 7);
    EXPECT_TRUE(verified_part(sign_entity(entity, *dave, SignMode::Opaque), entity));
}

TEST_F(SignedDataTemplateTest, AProbeThatDoesNotRefillToOpenSslsBytesGivesNoTemplate) {
    // A maker whose signature is not what the key makes over those attributes.
    SignedDataMaker tampered = [this](std::string_view entity, const ASN1_TIME* at) {
        std::string der = cms_signed_data(entity, *alice, at);
        der[der.size() - 1] = static_cast<char>(der[der.size() - 1] ^ 1);
        return der;
    };
    EXPECT_FALSE(SignedDataTemplate::build(*alice, tampered, std::time(nullptr)));
    EXPECT_TRUE(SignedDataTemplate::build(*alice, openssl_for(*alice), std::time(nullptr)));
}

TEST_F(SignedDataTemplateTest, AnOddKeyCertificateAndNameRefillToOpenSslsBytes) {
    OddRsa odd = odd_rsa_certificate(1536);
    ASSERT_TRUE(odd.cert && odd.key);
    SigningIdentity id;
    id.address = "odd@example.com";
    X509_up_ref(odd.cert.get());
    id.cert.reset(odd.cert.get());
    EVP_PKEY_up_ref(odd.key.get());
    id.key.reset(odd.key.get());
    id.chain.reset(sk_X509_new_null());
    auto made = SignedDataTemplate::build(id, openssl_for(id), std::time(nullptr));
    ASSERT_TRUE(made) << "a 1536-bit key, a 17-byte serial, a long issuer";
    for (std::size_t n : {0, 5000}) {
        std::string entity = entity_of(n, 3);
        const std::time_t at = utc("2030-07-08T09:10:11Z");
        EXPECT_EQ(made->sign(entity, at), openssl_at(id, entity, at)) << n;
    }
}

TEST_F(SignedDataTemplateTest, ASignerGetsItsTemplateAtItsSecondMessageOnEachThread) {
    IdentityStore once(pki() + "/keys");
    SigningIdentityPtr fresh = once.get("alice@example.com");
    EXPECT_EQ(signed_data_template_for(*fresh, openssl_for(*fresh)), nullptr) << "one message: not worth three signatures";
    SignedDataTemplate* mine = signed_data_template_for(*fresh, openssl_for(*fresh));
    ASSERT_NE(mine, nullptr);
    EXPECT_EQ(signed_data_template_for(*fresh, openssl_for(*fresh)), mine) << "made once per thread";
    SignedDataTemplate* theirs = nullptr;
    std::thread([&] {
        signed_data_template_for(*fresh, openssl_for(*fresh));
        theirs = signed_data_template_for(*fresh, openssl_for(*fresh));
    }).join();
    EXPECT_NE(theirs, nullptr);
    EXPECT_NE(theirs, mine) << "its contexts are one thread's";
    // A reloaded identity (new certificate and key objects) gets a new one.
    IdentityStore again(pki() + "/keys");
    SigningIdentityPtr reloaded = again.get("alice@example.com");
    signed_data_template_for(*reloaded, openssl_for(*reloaded));
    SignedDataTemplate* renewed = signed_data_template_for(*reloaded, openssl_for(*reloaded));
    EXPECT_NE(renewed, nullptr);
    EXPECT_NE(renewed, mine);
}

TEST_F(SignedDataTemplateTest, TheLeastRecentlyUsedOfSixtyFiveSignersGoesAndNoOther) {
    // 65 signers: alice's certificate, each with its own key object.
    std::vector<SigningIdentity> signers(65);
    for (SigningIdentity& s : signers) {
        s.address = alice->address;
        X509_up_ref(alice->cert.get());
        s.cert.reset(alice->cert.get());
        s.key.reset(EVP_PKEY_dup(alice->key.get()));
        s.chain.reset(X509_chain_up_ref(alice->chain.get()));
    }
    std::vector<SignedDataTemplate*> made(signers.size(), nullptr);
    auto use = [&](std::size_t i) { return signed_data_template_for(signers[i], openssl_for(signers[i])); };
    for (std::size_t i = 0; i < 64; ++i) {
        use(i);
        made[i] = use(i);
        ASSERT_NE(made[i], nullptr) << i;
    }
    EXPECT_EQ(use(0), made[0]) << "signer 0 used again: now the most recent";
    use(64);  // the 65th: signer 1, the least recently used, makes room
    EXPECT_EQ(use(0), made[0]);
    for (std::size_t i = 2; i < 64; ++i) EXPECT_EQ(use(i), made[i]) << i << " was kept";
    EXPECT_EQ(use(1), nullptr) << "signer 1 went and starts again from its first message";
}

TEST_F(SignedDataTemplateTest, SignEntityThroughTheTemplateVerifiesAndCarriesTheSigningMoment) {
    signed_data_template_for(*alice, openssl_for(*alice));
    ASSERT_NE(signed_data_template_for(*alice, openssl_for(*alice)), nullptr);
    std::string entity = entity_of(3000, 11);
    std::time_t before = std::time(nullptr);
    std::string part = sign_entity(entity, *alice, SignMode::Opaque);
    std::time_t after = std::time(nullptr);
    CmsPtr cms = verified_part(part, entity);
    ASSERT_TRUE(cms);

    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms.get()), 0);
    ASSERT_NE(si, nullptr);
    auto* when = static_cast<ASN1_TIME*>(
        CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(NID_pkcs9_signingTime), -3, V_ASN1_UTCTIME));
    ASSERT_NE(when, nullptr);
    std::tm tm{};
    ASSERT_EQ(ASN1_TIME_to_tm(when, &tm), 1);
    std::time_t signed_at = timegm(&tm);
    EXPECT_GE(signed_at, before);
    EXPECT_LE(signed_at, after);
}
