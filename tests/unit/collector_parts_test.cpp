// collector_parts_test.cpp: the collector's pieces on their own: DKIM
// alignment, trust anchors loaded once, configuration, and signed
// attributes (SMIMEEncryptionKeyPreference, SMIMECapabilities) on a
// SignedData built here with the OpenSSL API.
#include <nlohmann/json.hpp>
#include <openssl/pem.h>

#include "cert_info.hpp"
#include "cms_verify.hpp"
#include "collector_support.hpp"
#include "dkim_check.hpp"
#include "errors.hpp"
#include "mime.hpp"

namespace sealpost::test {
namespace {

X509Ptr load_crt(const std::string& base) {
    return read_certificate_pem(slurp(pki() + "/users/" + base + ".crt"));
}
EvpPkeyPtr load_key(const std::string& base) {
    std::string pem = slurp(pki() + "/users/" + base + ".pem");
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    return EvpPkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// DER of [0] IMPLICIT IssuerAndSerialNumber naming `cert`.
std::string key_preference_for(X509* cert) {
    unsigned char* name = nullptr;
    int nlen = i2d_X509_NAME(X509_get_issuer_name(cert), &name);
    unsigned char* serial = nullptr;
    int slen = i2d_ASN1_INTEGER(X509_get0_serialNumber(cert), &serial);
    std::string content(reinterpret_cast<char*>(name), static_cast<std::size_t>(nlen));
    content.append(reinterpret_cast<char*>(serial), static_cast<std::size_t>(slen));
    OPENSSL_free(name);
    OPENSSL_free(serial);
    std::string out = "\xa0";
    if (content.size() < 128) {
        out += static_cast<char>(content.size());
    } else {
        out += "\x82";
        out += static_cast<char>(content.size() >> 8);
        out += static_cast<char>(content.size() & 0xff);
    }
    return out + content;
}

// A detached multipart/signed from `signer` carrying `extra` certificates,
// optionally naming `preferred` with SMIMEEncryptionKeyPreference.
std::string signed_mail(const std::string& from, const std::string& signer, const std::vector<std::string>& extra,
                        X509* preferred) {
    const std::string content = "Content-Type: text/plain\r\n\r\nhello\r\n";
    X509Ptr cert = load_crt(signer);
    EvpPkeyPtr key = load_key(signer);
    X509StackPtr certs(sk_X509_new_null());
    sk_X509_push(certs.get(), read_certificate_pem(slurp(pki() + "/ca/chain.crt")).release());
    for (const auto& e : extra) sk_X509_push(certs.get(), load_crt(e).release());
    BioPtr in(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
    unsigned flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL;
    CmsPtr cms(CMS_sign(cert.get(), key.get(), certs.get(), nullptr, flags));
    EXPECT_TRUE(cms);
    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms.get()), 0);
    if (preferred) {
        std::string der = key_preference_for(preferred);
        EXPECT_EQ(CMS_signed_add1_attr_by_NID(si, NID_id_smime_aa_encrypKeyPref, V_ASN1_SEQUENCE, der.data(),
                                              static_cast<int>(der.size())),
                  1);
    }
    EXPECT_EQ(CMS_final(cms.get(), in.get(), nullptr, flags), 1);
    unsigned char* der = nullptr;
    int len = i2d_CMS_ContentInfo(cms.get(), &der);
    std::string sig(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return "From: " + from + "\r\nSubject: pref\r\nMessage-ID: <pref@example.com>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; "
           "boundary=\"B\"\r\n\r\n--B\r\n" + content + "\r\n--B\r\nContent-Type: application/pkcs7-signature; "
           "name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64_lines(sig) + "\r\n--B--\r\n";
}

// -------------------------------------------------------------- DKIM --
TEST(DkimAlignment, StrictNeedsTheExactDomain) {
    EXPECT_TRUE(dkim_aligned("example.com", "example.com", DkimAlignment::Strict));
    EXPECT_TRUE(dkim_aligned("Example.COM", "example.com", DkimAlignment::Strict));
    EXPECT_FALSE(dkim_aligned("mail.example.com", "example.com", DkimAlignment::Strict));
}

TEST(DkimAlignment, RelaxedNeedsTheSameOrganisationalDomain) {
    EXPECT_TRUE(dkim_aligned("mail.example.com", "example.com", DkimAlignment::Relaxed));
    EXPECT_TRUE(dkim_aligned("example.com", "eu.mail.example.com", DkimAlignment::Relaxed));
    EXPECT_FALSE(dkim_aligned("example.net", "example.com", DkimAlignment::Relaxed));
    // Two registrants under one public suffix are not one organisation.
    EXPECT_FALSE(dkim_aligned("evil.co.uk", "bank.co.uk", DkimAlignment::Relaxed));
    EXPECT_FALSE(dkim_aligned("co.uk", "bank.co.uk", DkimAlignment::Relaxed));
}

TEST(DkimAlignment, OrganisationalDomainComesFromThePublicSuffixList) {
    EXPECT_EQ(organisational_domain("a.b.example.com"), "example.com");
    EXPECT_EQ(organisational_domain("www.bank.co.uk"), "bank.co.uk");
    EXPECT_EQ(organisational_domain("co.uk"), "");
}

TEST(DkimVerifierTest, UnreadableKeyFileIsAConfigurationError) {
    try {
        DkimVerifier v("/nonexistent/keys.txt");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Config);
    }
}

// ------------------------------------------------------ trust anchors --
TEST(TrustAnchorsTest, BundleIsLoadedOncePerProcessAndShared) {
    auto a = TrustAnchors::load(pki() + "/ca/bundle.crt");
    auto b = TrustAnchors::load(pki() + "/ca/bundle.crt");
    EXPECT_EQ(a.get(), b.get());
    EXPECT_EQ(a->count(), 1);
}

TEST(TrustAnchorsTest, MissingOrEmptyBundleIsAConfigurationError) {
    for (std::string path : {std::string("/nonexistent/bundle.pem"), std::string("/dev/null")}) {
        try {
            TrustAnchors::load_uncached(path);
            ADD_FAILURE() << path;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Config) << path;
        }
    }
}

TEST(TrustAnchorsTest, ChainIsJudgedAtTheGivenTime) {
    auto anchors = TrustAnchors::load(pki() + "/ca/bundle.crt");
    X509Ptr expired = load_crt("expired@example.com");
    X509StackPtr inter(sk_X509_new_null());
    sk_X509_push(inter.get(), read_certificate_pem(slurp(pki() + "/ca/chain.crt")).release());
    auto then = anchors->verify(expired.get(), inter.get(), *parse_iso_time("2020-06-01"), X509_PURPOSE_SMIME_SIGN);
    EXPECT_TRUE(then.ok) << then.error;
    EXPECT_EQ(then.chain.size(), 3u);
    auto now = anchors->verify(expired.get(), inter.get(), std::time(nullptr), X509_PURPOSE_SMIME_SIGN);
    EXPECT_FALSE(now.ok);
    EXPECT_EQ(now.code, X509_V_ERR_CERT_HAS_EXPIRED);
}

// ------------------------------------------------------------ options --
TEST(CollectOptionsTest, ReadsCollectorSectionWithWebappFallbacks) {
    Config c;
    c.set("webapp", "trusted-certs", "/etc/bundle.pem");
    auto o = CollectOptions::from_config(c);
    EXPECT_EQ(o.trusted_certs, "/etc/bundle.pem");
    EXPECT_EQ(o.dkim, DkimMode::Require);
    EXPECT_EQ(o.alignment, DkimAlignment::Strict);
    c.set("collector", "dkim", "ignore");
    c.set("collector", "dkim-alignment", "relaxed");
    c.set("collector", "at", "2020-06-01T00:00:00Z");
    c.set("collector", "max-message-size", "2M");
    o = CollectOptions::from_config(c);
    EXPECT_EQ(o.dkim, DkimMode::Ignore);
    EXPECT_EQ(o.alignment, DkimAlignment::Relaxed);
    EXPECT_EQ(o.at, parse_iso_time("2020-06-01T00:00:00Z"));
    EXPECT_EQ(o.limits.max_bytes, 2u * 1024 * 1024);
}

TEST(CollectOptionsTest, BadValuesAreConfigurationErrorsNamingTheKey) {
    for (auto [key, value] : std::vector<std::pair<std::string, std::string>>{
             {"dkim", "maybe"}, {"dkim-alignment", "loose"}, {"at", "yesterday"}, {"max-mime-depth", "100000"}}) {
        Config c;
        c.set("collector", key, value);
        try {
            CollectOptions::from_config(c);
            ADD_FAILURE() << key;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Config);
            EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
        }
    }
}

// ------------------------------------------------- signed attributes --
TEST_F(CollectorTest, EncryptionKeyPreferenceChoosesTheNamedCertificate) {
    options.dkim = DkimMode::Ignore;
    X509Ptr old = load_crt("bob@example.com.old");
    Verdict v = collect(signed_mail("bob@example.com", "bob@example.com", {"bob@example.com.old"}, old.get()));
    ASSERT_TRUE(v.accepted()) << v.text;
    EXPECT_EQ(v.fingerprint, sha256_fingerprint(old.get()));
    auto j = nlohmann::json::parse(slurp(json("bob@example.com")));
    EXPECT_EQ(j["signer_fingerprint"], sha256_fingerprint(load_crt("bob@example.com").get()));
}

TEST_F(CollectorTest, WithoutPreferenceTheSignerWinsOverACarriedOlderCertificate) {
    options.dkim = DkimMode::Ignore;
    Verdict v = collect(signed_mail("bob@example.com", "bob@example.com", {"bob@example.com.old"}, nullptr));
    ASSERT_TRUE(v.accepted()) << v.text;
    EXPECT_EQ(v.fingerprint, sha256_fingerprint(load_crt("bob@example.com").get()));
}

TEST_F(CollectorTest, PreferenceNamingAnotherPersonsCertificateIsIgnored) {
    options.dkim = DkimMode::Ignore;
    X509Ptr carol = load_crt("carol@example.net");
    Verdict v = collect(signed_mail("bob@example.com", "bob@example.com", {"carol@example.net"}, carol.get()));
    ASSERT_TRUE(v.accepted()) << v.text;
    EXPECT_EQ(v.fingerprint, sha256_fingerprint(load_crt("bob@example.com").get()));
}

TEST(CmsAttributes, PreferenceIsParsedAndMatchesByIssuerAndSerial) {
    X509Ptr cert = load_crt("alice@example.com");
    X509Ptr other = load_crt("bob@example.com");
    std::string mail = signed_mail("alice@example.com", "alice@example.com", {}, cert.get());
    auto msg = parse_message(mail);
    GMimeObject* sig = g_mime_multipart_get_part(GMIME_MULTIPART(g_mime_message_get_mime_part(msg.get())), 1);
    GObjectPtr<GMimeStream> mem(g_mime_stream_mem_new());
    g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(GMIME_PART(sig)), mem.get());
    GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
    ParsedCms parsed = parse_cms(std::string(reinterpret_cast<char*>(arr->data), arr->len), 1 << 20);
    ASSERT_TRUE(parsed.cms) << parsed.error;
    EXPECT_EQ(parsed.kind, CmsKind::SignedData);
    EXPECT_TRUE(parsed.detached);
    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(parsed.cms.get()), 0);
    auto pref = encryption_key_preference(si);
    ASSERT_TRUE(pref);
    EXPECT_TRUE(cert_matches(cert.get(), *pref));
    EXPECT_FALSE(cert_matches(other.get(), *pref));
    auto caps = smime_capabilities(si);
    ASSERT_FALSE(caps.empty());
    EXPECT_EQ(caps.front(), "AES-256-CBC");
    EXPECT_TRUE(signing_time(si));
}

TEST(CmsAttributes, GarbageIsNotCms) {
    EXPECT_FALSE(parse_cms("", 100).cms);
    EXPECT_FALSE(parse_cms(std::string(1000, '\x30'), 100).cms);  // over the limit
    EXPECT_FALSE(parse_cms(std::string("\x30\x84\xff\xff\xff\xff", 6), 100).cms);
}

}  // namespace
}  // namespace sealpost::test
