// smime_build_test.cpp: what sign_entity and encrypt_entity write is read
// back by OpenSSL to the very entity, at sizes around the cipher's block
// and the DER length forms: the enveloped data streamed as it is encrypted
// (AES-CBC) and gathered (AES-GCM), the opaque signature with its content
// put back in place (der_splice.hpp). Each part's DER is canonical: OpenSSL
// re-encodes it byte for byte. A content sink whose taker throws fails
// the write and keeps the exception for after OpenSSL has returned.
#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <openssl/pem.h>

#include <algorithm>
#include <random>

#include "collector_support.hpp"
#include "cms_content_sink.hpp"
#include "errors.hpp"
#include "identity.hpp"
#include "mime.hpp"
#include "smime_build.hpp"

using namespace sealpost;
using namespace sealpost::test;

namespace {

std::string entity_of(std::size_t body_bytes, unsigned seed) {
    std::mt19937 rng(seed);
    std::string e = "Content-Type: text/plain; charset=us-ascii\r\n\r\n";
    for (std::size_t i = 0; i < body_bytes; ++i) e += (i % 77 == 76) ? '\n' : static_cast<char>('a' + rng() % 26);
    return e;
}

// The part's DER: the base64 after its blank line.
std::string part_der(const std::string& part, std::string_view smime_type) {
    EXPECT_NE(part.find("smime-type=" + std::string(smime_type) + ";"), std::string::npos) << part.substr(0, 200);
    auto body = part.find("\r\n\r\n");
    EXPECT_NE(body, std::string::npos);
    return base64_decode(part.substr(body + 4));
}

CmsPtr parse_canonical(const std::string& der) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
    EXPECT_TRUE(cms);
    if (!cms) return cms;
    unsigned char* again = nullptr;
    int n = i2d_CMS_ContentInfo(cms.get(), &again);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(again), static_cast<std::size_t>(std::max(n, 0))), der)
        << "not the DER OpenSSL writes";
    OPENSSL_free(again);
    return cms;
}

const std::size_t kBodies[] = {0, 1, 15, 16, 17, 100, 4000, 65536, 300001};

}  // namespace

class SmimeBuild : public ::testing::TestWithParam<Cipher> {};

TEST_P(SmimeBuild, TheEnvelopedEntityDecryptsToTheEntityAtEverySize) {
    auto bob = pem_cert(pki() + "/users/bob@example.com.crt");
    auto key = pem_key(pki() + "/users/bob@example.com.pem");
    ASSERT_TRUE(bob && key);
    const char* type = cipher_is_aead(GetParam()) ? "authEnveloped-data" : "enveloped-data";
    for (std::size_t n : kBodies) {
        std::string entity = entity_of(n, static_cast<unsigned>(n));
        CmsPtr cms = parse_canonical(part_der(encrypt_entity(entity, {bob.get()}, GetParam()), type));
        ASSERT_TRUE(cms) << n;
        BioPtr out(BIO_new(BIO_s_mem()));
        ASSERT_EQ(CMS_decrypt(cms.get(), key.get(), bob.get(), nullptr, out.get(), CMS_BINARY), 1) << n;
        char* data = nullptr;
        long len = BIO_get_mem_data(out.get(), &data);
        EXPECT_EQ(std::string(data, static_cast<std::size_t>(len)), entity) << "body of " << n << " bytes";
    }
}

INSTANTIATE_TEST_SUITE_P(Ciphers, SmimeBuild,
                         ::testing::Values(Cipher::Aes256Cbc, Cipher::Aes128Cbc, Cipher::Aes128Gcm, Cipher::Aes256Gcm),
                         [](const ::testing::TestParamInfo<Cipher>& c) {
                             std::string name = cipher_name(c.param);
                             name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                             return name;
                         });

TEST(SmimeBuildSign, TheOpaqueSignatureCarriesTheEntityAndVerifies) {
    IdentityStore identities(pki() + "/keys");
    auto alice = identities.get("alice@example.com");
    for (std::size_t n : kBodies) {
        std::string entity = entity_of(n, static_cast<unsigned>(n) + 1);
        CmsPtr cms = parse_canonical(part_der(sign_entity(entity, *alice, SignMode::Opaque), "signed-data"));
        ASSERT_TRUE(cms) << n;
        BioPtr out(BIO_new(BIO_s_mem()));
        ASSERT_EQ(CMS_verify(cms.get(), nullptr, nullptr, nullptr, out.get(), CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY), 1)
            << n;
        char* data = nullptr;
        long len = BIO_get_mem_data(out.get(), &data);
        EXPECT_EQ(std::string(data, static_cast<std::size_t>(len)), entity) << "body of " << n << " bytes";
    }
}

TEST(CmsContentSink, AThrowingTakerFailsTheWriteAndItsExceptionComesBackUnchanged) {
    int calls = 0;
    ContentTaker take = [&calls](std::string_view b) {
        ++calls;
        if (b == "boom") throw Error(ErrorKind::TempFail, "taker: boom");
    };
    BioPtr sink(new_content_sink(take));
    EXPECT_EQ(BIO_write(sink.get(), "fine", 4), 4);
    EXPECT_EQ(BIO_write(sink.get(), "boom", 4), -1);
    EXPECT_EQ(BIO_write(sink.get(), "more", 4), -1) << "a failed sink takes nothing more";
    EXPECT_EQ(calls, 2);
    try {
        rethrow_sink_failure(sink.get());
        ADD_FAILURE() << "the taker's exception was lost";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::TempFail);
        EXPECT_NE(std::string(e.what()).find("boom"), std::string::npos);
    }
}
