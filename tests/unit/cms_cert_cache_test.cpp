// cms_cert_cache_test.cpp: a SignedData parsed with the certificate cache
// is the same structure as OpenSSL's own parse (same certificates in the
// same order, same re-encoding, the signature verifies), certificates seen
// before are not parsed again, and whatever is not plain DER of a
// SignedData with X.509 certificates is left to the plain parse.
#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <openssl/pem.h>

#include <atomic>
#include <thread>

#include "cms_cert_cache.hpp"
#include "cms_verify.hpp"
#include "collector_support.hpp"

using namespace sealpost;
using namespace sealpost::test;

namespace {

// A detached SignedData by alice with her certificate and the intermediate.
std::string signed_der(const std::string& content) {
    auto cert = pem_cert(pki() + "/users/alice@example.com.crt");
    auto inter = pem_cert(pki() + "/ca/inter.crt");
    BioPtr kb(BIO_new_file((pki() + "/users/alice@example.com.pem").c_str(), "r"));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr);
    EXPECT_TRUE(cert && inter && key);
    X509StackPtr chain(sk_X509_new_null());
    sk_X509_push(chain.get(), X509_dup(inter.get()));
    BioPtr in(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
    CmsPtr cms(CMS_sign(cert.get(), key, chain.get(), in.get(), CMS_DETACHED | CMS_BINARY));
    EVP_PKEY_free(key);
    unsigned char* der = nullptr;
    int n = i2d_CMS_ContentInfo(cms.get(), &der);
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
    OPENSSL_free(der);
    return out;
}

std::string reencoded(CMS_ContentInfo* cms) {
    unsigned char* der = nullptr;
    int n = i2d_CMS_ContentInfo(cms, &der);
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
    OPENSSL_free(der);
    return out;
}

}  // namespace

TEST(CmsCertCache, SameStructureAsOpenSslsParseAndTheSignatureVerifies) {
    const std::string content = "Content-Type: text/plain\r\n\r\nhello\r\n";
    const std::string der = signed_der(content);
    CmsPtr cached = parse_cms_with_cached_certificates(der);
    ASSERT_TRUE(cached);
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    CmsPtr plain(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
    ASSERT_TRUE(plain);
    X509StackPtr a = cms_certificates(cached.get()), b = cms_certificates(plain.get());
    ASSERT_EQ(sk_X509_num(a.get()), 2);
    ASSERT_EQ(sk_X509_num(b.get()), 2);
    for (int i = 0; i < 2; ++i) EXPECT_EQ(X509_cmp(sk_X509_value(a.get(), i), sk_X509_value(b.get(), i)), 0) << i;
    EXPECT_EQ(reencoded(cached.get()), reencoded(plain.get()));
    auto check = verify_signature(cached.get(), content, 1 << 20);
    EXPECT_TRUE(check.ok) << check.error;
    ASSERT_EQ(check.signers.size(), 1u);
    EXPECT_EQ(X509_cmp(check.signers[0].cert.get(), pem_cert(pki() + "/users/alice@example.com.crt").get()), 0);
    // Other bytes under the same signature do not verify.
    EXPECT_FALSE(verify_signature(parse_cms_with_cached_certificates(der).get(), content + "x", 1 << 20).ok);
}

TEST(CmsCertCache, CertificatesSeenBeforeAreNotParsedAgain) {
    const std::string der = signed_der("Content-Type: text/plain\r\n\r\nagain\r\n");
    ASSERT_TRUE(parse_cms_with_cached_certificates(der));
    auto before = cms_cert_cache_stats();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(parse_cms_with_cached_certificates(der));
    auto after = cms_cert_cache_stats();
    EXPECT_EQ(after.parsed, before.parsed);
    EXPECT_EQ(after.reused, before.reused + 10);
}

TEST(CmsCertCache, CachedCertificatesCarryTheirOwnFingerprint) {
    // The fingerprint a cached certificate carries (remembered from the
    // cache key) is the SHA-256 of its DER, as X509_digest computes it.
    const std::string der = signed_der("Content-Type: text/plain\r\n\r\nfingerprint\r\n");
    ASSERT_TRUE(parse_cms_with_cached_certificates(der));  // parsed, remembered
    CmsPtr cached = parse_cms_with_cached_certificates(der);  // reused
    ASSERT_TRUE(cached);
    X509StackPtr certs = cms_certificates(cached.get());
    ASSERT_EQ(sk_X509_num(certs.get()), 2);
    const char* files[] = {"/users/alice@example.com.crt", "/ca/inter.crt"};
    for (int i = 0; i < 2; ++i) {
        auto fresh = pem_cert(pki() + files[i]);
        unsigned char md[32];
        unsigned int n = 0;
        ASSERT_EQ(X509_digest(fresh.get(), EVP_sha256(), md, &n), 1);
        std::string hex;
        for (unsigned char b : md) hex += "0123456789abcdef"[b >> 4], hex += "0123456789abcdef"[b & 15];
        X509* carried = nullptr;
        for (int j = 0; j < 2; ++j)
            if (X509_cmp(sk_X509_value(certs.get(), j), fresh.get()) == 0) carried = sk_X509_value(certs.get(), j);
        ASSERT_NE(carried, nullptr) << files[i];
        EXPECT_TRUE(sha256_remembered(carried)) << files[i] << ": computed again, not carried";
        EXPECT_EQ(sha256_fingerprint(carried), hex) << files[i];
        EXPECT_FALSE(sha256_remembered(fresh.get()));
        EXPECT_EQ(sha256_fingerprint(fresh.get()), hex) << files[i];
    }
}

TEST(CmsCertCache, SharedBetweenThreads) {
    const std::string content = "Content-Type: text/plain\r\n\r\nthreads\r\n";
    const std::string der = signed_der(content);
    std::atomic<int> verified{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 50; ++i) {
                CmsPtr cms = parse_cms_with_cached_certificates(der);
                if (cms && verify_signature(cms.get(), content, 1 << 20).ok) ++verified;
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(verified.load(), 200);
}

TEST(CmsCertCache, LeavesEverythingElseToThePlainParse) {
    const std::string der = signed_der("Content-Type: text/plain\r\n\r\nshapes\r\n");
    EXPECT_FALSE(parse_cms_with_cached_certificates(""));
    EXPECT_FALSE(parse_cms_with_cached_certificates(std::string(100, '\x30')));
    EXPECT_FALSE(parse_cms_with_cached_certificates(der + "trailing"));
    EXPECT_FALSE(parse_cms_with_cached_certificates(der.substr(0, der.size() - 1)));
    // BER: the outer SEQUENCE with an indefinite length.
    std::string ber = der;
    ber[1] = '\x80';
    EXPECT_FALSE(parse_cms_with_cached_certificates(ber));
    // A certificate that is not one: its first byte changed.
    std::size_t at = der.find(std::string("\xa0\x82", 2), 20);  // [0] certificates
    ASSERT_NE(at, std::string::npos);
    std::string broken = der;
    broken[at + 4] = '\x31';
    EXPECT_FALSE(parse_cms_with_cached_certificates(broken));
}
