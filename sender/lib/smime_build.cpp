// smime_build.cpp: CMS sign / encrypt and the MIME wrapping around them.
#include "smime_build.hpp"

#include <openssl/cms.h>

#include "errors.hpp"
#include "mime.hpp"
#include "smime_attributes.hpp"

namespace sealpost {
namespace {

std::string cms_der(CMS_ContentInfo* cms) {
    unsigned char* der = nullptr;
    int len = i2d_CMS_ContentInfo(cms, &der);
    if (len <= 0) fail_openssl("cms: cannot encode");
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return out;
}

BioPtr mem_bio(std::string_view s) { return BioPtr(BIO_new_mem_buf(s.data(), static_cast<int>(s.size()))); }

std::string random_boundary(std::string_view must_not_occur_in) {
    for (;;) {
        std::string b = "----=_sealpost_" + random_hex(18);
        if (must_not_occur_in.find(b) == std::string_view::npos) return b;
    }
}

std::string pkcs7_mime_part(std::string_view smime_type, std::string_view der) {
    std::string out;
    out.reserve(der.size() * 4 / 3 + 256);
    out += "Content-Type: application/pkcs7-mime; smime-type=";
    out += smime_type;
    out += "; name=\"smime.p7m\"\r\n"
           "Content-Transfer-Encoding: base64\r\n"
           "Content-Disposition: attachment; filename=\"smime.p7m\"\r\n"
           "\r\n";
    out += base64_lines(der);
    return out;
}

}  // namespace

SignMode parse_sign_mode(std::string_view name) {
    if (name == "none" || name.empty()) return SignMode::None;
    if (name == "opaque") return SignMode::Opaque;
    if (name == "detached") return SignMode::Detached;
    fail(ErrorKind::Config, "sign = '" + std::string(name) + "' is not one of none, opaque, detached");
}

const char* sign_mode_name(SignMode m) {
    switch (m) {
        case SignMode::None: return "none";
        case SignMode::Opaque: return "opaque";
        case SignMode::Detached: return "detached";
    }
    return "?";
}

std::string sign_entity(std::string_view entity, const SigningIdentity& signer, SignMode mode) {
    if (mode == SignMode::None) return std::string(entity);
    auto in = mem_bio(entity);
    // CMS_BINARY: the entity is already canonical; OpenSSL must not touch it.
    unsigned flags = CMS_BINARY | (mode == SignMode::Detached ? CMS_DETACHED : 0u);
    // Partial: our signed attributes replace OpenSSL's SMIMECapabilities
    // (smime_attributes.hpp); every intermediate goes into `certificates`.
    CmsPtr cms(CMS_sign(nullptr, nullptr, signer.chain.get(), nullptr, flags | CMS_PARTIAL));
    if (!cms) fail_openssl("sign: " + signer.address + ": CMS signing failed");
    CMS_SignerInfo* si = CMS_add1_signer(cms.get(), signer.cert.get(), signer.key.get(), EVP_sha256(),
                                         flags | CMS_PARTIAL | CMS_NOSMIMECAP);
    if (!si) fail_openssl("sign: " + signer.address + ": CMS signing failed");
    add_signed_attributes(si, signer);
    if (CMS_final(cms.get(), in.get(), nullptr, flags) != 1)
        fail_openssl("sign: " + signer.address + ": CMS signing failed");
    std::string der = cms_der(cms.get());
    if (mode == SignMode::Opaque) return pkcs7_mime_part("signed-data", der);

    std::string boundary = random_boundary(entity);
    std::string out;
    out.reserve(entity.size() + der.size() * 4 / 3 + 512);
    out += "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256;\r\n"
           "\tboundary=\"" + boundary + "\"\r\n"
           "\r\n"
           "This is an S/MIME signed message.\r\n"
           "\r\n--" + boundary + "\r\n";
    out += entity;
    // The CRLF before a boundary belongs to the boundary (RFC 2046): the
    // signed bytes are exactly `entity`, its own last line end included.
    out += "\r\n--" + boundary + "\r\n"
           "Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n"
           "Content-Transfer-Encoding: base64\r\n"
           "Content-Disposition: attachment; filename=\"smime.p7s\"\r\n"
           "Content-Description: S/MIME Cryptographic Signature\r\n"
           "\r\n";
    out += base64_lines(der);
    out += "--" + boundary + "--\r\n";
    return out;
}

std::string encrypt_entity(std::string_view entity, const std::vector<X509*>& recipients, Cipher cipher) {
    X509StackPtr certs(sk_X509_new_null());
    for (X509* c : recipients) sk_X509_push(certs.get(), c);
    auto in = mem_bio(entity);
    CmsPtr cms(CMS_encrypt(certs.get(), in.get(), cipher_evp(cipher), CMS_BINARY));
    // The stack borrowed the certificates: empty it before it is freed.
    while (sk_X509_num(certs.get()) > 0) sk_X509_pop(certs.get());
    if (!cms) fail_openssl(std::string("encrypt: CMS encryption with ") + cipher_name(cipher) + " failed");
    return pkcs7_mime_part(cipher_is_aead(cipher) ? "authEnveloped-data" : "enveloped-data", cms_der(cms.get()));
}

}  // namespace sealpost
