// der_splice_test.cpp: a CMS structure encoded without its content and
// completed by der_around_value is byte for byte OpenSSL's own encoding of
// the structure with the content inside, at sizes where the lengths around
// it change form (short, one, two, three and four length bytes); the
// base64 of pieces, or of blocks of any size, is the base64 of their
// concatenation; a shape that is not the one
// named is refused, never spliced at a guess.
#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <openssl/pem.h>

#include <random>

#include "collector_support.hpp"
#include "base64_writer.hpp"
#include "der_splice.hpp"
#include "errors.hpp"
#include "mime.hpp"

using namespace sealpost;
using namespace sealpost::test;

namespace {


std::string joined(const DerAround& p, std::string_view value) { return p.head + std::string(value) + p.tail; }

std::string pseudo_random(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

// Alice's signature over `content` with no signed attributes: RSA PKCS#1
// v1.5 is deterministic, so the opaque and the detached form carry the
// same signature and differ only by the content.
CmsPtr sign(const std::string& content, unsigned flags) {
    auto cert = pem_cert(pki() + "/users/alice@example.com.crt");
    auto key = pem_key(pki() + "/users/alice@example.com.pem");
    EXPECT_TRUE(cert && key);
    BioPtr in(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
    return CmsPtr(CMS_sign(cert.get(), key.get(), nullptr, in.get(), flags | CMS_BINARY | CMS_NOATTR));
}

// Around the length forms' edges: short, one, two, three and four length bytes.
const std::size_t kSizes[] = {0, 1, 60, 127, 128, 200, 255, 256, 300, 65535, 65536, 70000, (16u << 20) + 3};

}  // namespace

TEST(DerSplice, OpaqueSignedDataIsOpenSslsOwnEncodingAtEveryLengthForm) {
    for (std::size_t size : kSizes) {
        std::string content = pseudo_random(size, static_cast<unsigned>(size));
        CmsPtr opaque = sign(content, 0);
        CmsPtr detached = sign(content, CMS_DETACHED);
        ASSERT_TRUE(opaque && detached) << size;
        DerAround p = der_around_value(cms_der(detached.get()), {1, 0, 2}, 0x30, {0xa0, 0x04}, content.size());
        EXPECT_EQ(joined(p, content), cms_der(opaque.get())) << "content of " << size << " bytes";
    }
}

TEST(DerSplice, EnvelopedDataWithItsCiphertextPutBackIsOpenSslsOwnEncoding) {
    auto bob = pem_cert(pki() + "/users/bob@example.com.crt");
    ASSERT_TRUE(bob);
    for (std::size_t size : kSizes) {
        std::string content = pseudo_random(size, static_cast<unsigned>(size) + 7);
        X509StackPtr to(sk_X509_new_null());
        sk_X509_push(to.get(), X509_dup(bob.get()));
        BioPtr in(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
        CmsPtr cms(CMS_encrypt(to.get(), in.get(), EVP_aes_256_cbc(), CMS_BINARY));
        ASSERT_TRUE(cms) << size;
        const std::string whole = cms_der(cms.get());
        ASN1_OCTET_STRING** slot = CMS_get0_content(cms.get());
        ASSERT_TRUE(slot && *slot);
        ASN1_OCTET_STRING* ciphertext = *slot;
        *slot = nullptr;
        const std::string small = cms_der(cms.get());
        *slot = ciphertext;  // freed with the structure
        std::string_view value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(ciphertext)),
                               static_cast<std::size_t>(ASN1_STRING_length(ciphertext)));
        EXPECT_LT(small.size(), whole.size());
        EXPECT_EQ(joined(der_around_value(small, {1, 0, 2}, 0x30, {0x80}, value.size()), value), whole)
            << "content of " << size << " bytes";
    }
}

TEST(DerSplice, AShapeOtherThanTheOneNamedIsRefused) {
    CmsPtr detached = sign("hello", CMS_DETACHED);
    ASSERT_TRUE(detached);
    const std::string der = cms_der(detached.get());
    auto refused = [&](std::string_view d, std::initializer_list<unsigned> path, unsigned char tag) {
        try {
            der_around_value(d, path, tag, {0x04}, 1);
        } catch (const Error& e) {
            return e.kind() == ErrorKind::Internal;
        }
        return false;
    };
    EXPECT_TRUE(refused(der, {1, 0, 2}, 0x31)) << "the element reached is a SEQUENCE, not a SET";
    EXPECT_TRUE(refused(der, {1, 0, 9}, 0x30)) << "SignedData has no tenth field";
    EXPECT_TRUE(refused(der, {0, 0}, 0x30)) << "an OBJECT IDENTIFIER has no children";
    EXPECT_TRUE(refused(der.substr(0, der.size() - 1), {1, 0, 2}, 0x30)) << "truncated";
    EXPECT_TRUE(refused(der + '\0', {1, 0, 2}, 0x30)) << "bytes after the outermost element";
    EXPECT_TRUE(refused("", {}, 0x30));
    EXPECT_TRUE(refused(std::string("\x30\x80\x00\x00", 4), {}, 0x30)) << "indefinite length";
}

TEST(Base64Pieces, TheLinesOfThePiecesAreTheLinesOfTheirConcatenation) {
    std::mt19937 rng(42);
    for (int round = 0; round < 300; ++round) {
        std::string a = pseudo_random(rng() % 200, rng()), b = pseudo_random(rng() % 3000, rng()),
                    c = pseudo_random(rng() % 120, rng());
        std::string out = "prefix";
        append_base64_lines(out, {a, b, c});
        EXPECT_EQ(out, "prefix" + base64_lines(a + b + c)) << a.size() << "+" << b.size() << "+" << c.size();
    }
}

TEST(Base64Pieces, BlocksOfAnySizeGiveTheLinesOfTheWhole) {
    std::mt19937 rng(7);
    const std::string whole = pseudo_random(20000, 99);
    for (std::size_t most : {1u, 2u, 56u, 57u, 58u, 4096u}) {
        std::string out;
        Base64LineWriter w(out);
        for (std::size_t at = 0; at < whole.size();) {
            std::size_t n = std::min<std::size_t>(1 + rng() % most, whole.size() - at);
            w.add(std::string_view(whole).substr(at, n));
            at += n;
        }
        w.add({});  // an empty block changes nothing
        w.finish();
        EXPECT_EQ(out, base64_lines(whole)) << "blocks of at most " << most;
        EXPECT_EQ(w.bytes_in(), whole.size());
    }
}
