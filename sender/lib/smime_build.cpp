// smime_build.cpp: CMS sign / encrypt and the MIME wrapping around them.
#include "smime_build.hpp"

#include <openssl/buffer.h>
#include <openssl/cms.h>

#include <algorithm>
#include <vector>

#include "errors.hpp"
#include "mime.hpp"
#include "smime_attributes.hpp"

namespace sealpost {
namespace {

// The DER of a ContentInfo in a buffer kept per thread: a worker encodes
// message after message into the same pages (no allocation, no page faults
// for large messages). Valid until the thread's next call.
std::string_view cms_der(CMS_ContentInfo* cms) {
    thread_local std::vector<unsigned char> buf;
    int len = i2d_CMS_ContentInfo(cms, nullptr);
    if (len <= 0) fail_openssl("cms: cannot encode");
    // A buffer grown for one very large message is not kept for small ones
    // (serve's workers live long).
    if (buf.size() > (8u << 20) && buf.size() > 4 * static_cast<std::size_t>(len)) std::vector<unsigned char>().swap(buf);
    if (buf.size() < static_cast<std::size_t>(len)) {
        // Grown to exactly what is needed, the old buffer freed first: a
        // vector's resize would keep both while it copies bytes about to be
        // overwritten, and double the capacity (at 1 MB: 3 MB live at once).
        std::vector<unsigned char>().swap(buf);
        buf.resize(static_cast<std::size_t>(len));
    }
    unsigned char* p = buf.data();
    if (i2d_CMS_ContentInfo(cms, &p) != len) fail_openssl("cms: cannot encode");
    return {reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(len)};
}

// CMS_final() for content held in memory, as OpenSSL's (CMS_dataInit, copy,
// CMS_dataFinal) but with the content's memory BIO sized once for `extra`
// more bytes than the input and the input written in one call: OpenSSL's
// BIO grows by a third at a time, copying and cleansing the whole content
// each time. The encoding is unchanged (definite-length DER, as before).
bool cms_final_in_memory(CMS_ContentInfo* cms, std::string_view data, std::size_t extra) {
    BioPtr chain(CMS_dataInit(cms, nullptr));
    if (!chain) return false;
    if (BIO* mem = BIO_find_type(chain.get(), BIO_TYPE_MEM)) {
        // Our own (empty, uncleared) buffer of the final size; the BIO owns it
        // (BIO_CLOSE) and CMS_dataFinal hands its bytes to the content.
        BUF_MEM* old = nullptr;
        if (BIO_get_mem_ptr(mem, &old) == 1 && old && old->length == 0) {
            BUF_MEM* bm = BUF_MEM_new();
            std::size_t cap = data.size() + extra;
            if (bm && (bm->data = static_cast<char*>(OPENSSL_malloc(cap))) != nullptr) {
                bm->max = cap;
                BIO_set_mem_buf(mem, bm, BIO_CLOSE);
            } else {
                BUF_MEM_free(bm);
            }
        }
    }
    const char* p = data.data();
    std::size_t left = data.size();
    while (left > 0) {
        int n = BIO_write(chain.get(), p, static_cast<int>(std::min<std::size_t>(left, 1u << 30)));
        if (n <= 0) return false;
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    (void)BIO_flush(chain.get());
    return CMS_dataFinal(cms, chain.get()) == 1;
}

std::string random_boundary(std::string_view must_not_occur_in) {
    for (;;) {
        std::string b = "----=_sealpost_" + random_hex(18);
        if (must_not_occur_in.find(b) == std::string_view::npos) return b;
    }
}

void append_pkcs7_mime_part(std::string& out, std::string_view smime_type, std::string_view der) {
    static constexpr std::string_view kTail =
        "; name=\"smime.p7m\"\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "Content-Disposition: attachment; filename=\"smime.p7m\"\r\n"
        "\r\n";
    out.reserve(out.size() + 64 + smime_type.size() + kTail.size() + base64_lines_size(der.size()));
    out += "Content-Type: application/pkcs7-mime; smime-type=";
    out += smime_type;
    out += kTail;
    append_base64_lines(out, reinterpret_cast<const unsigned char*>(der.data()), der.size());
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
    // Detached: no content BIO to size, the bytes are only digested.
    if (!cms_final_in_memory(cms.get(), entity, 0)) fail_openssl("sign: " + signer.address + ": CMS signing failed");
    std::string_view der = cms_der(cms.get());
    cms.reset();  // its copy of the content: not live while the base64 is written (peak memory)
    std::string out;
    if (mode == SignMode::Opaque) {
        append_pkcs7_mime_part(out, "signed-data", der);
        return out;
    }

    std::string boundary = random_boundary(entity);
    out.reserve(entity.size() + base64_lines_size(der.size()) + 512);
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
    append_base64_lines(out, reinterpret_cast<const unsigned char*>(der.data()), der.size());
    out += "--" + boundary + "--\r\n";
    return out;
}

void append_encrypted_entity(std::string& out, std::string_view entity, const std::vector<X509*>& recipients,
                             Cipher cipher) {
    X509StackPtr certs(sk_X509_new_null());
    for (X509* c : recipients) sk_X509_push(certs.get(), c);
    // Partial: the content goes in through cms_final_in_memory (one sized buffer).
    CmsPtr cms(CMS_encrypt(certs.get(), nullptr, cipher_evp(cipher), CMS_BINARY | CMS_PARTIAL));
    // The stack borrowed the certificates: empty it before it is freed.
    while (sk_X509_num(certs.get()) > 0) sk_X509_pop(certs.get());
    if (!cms || !cms_final_in_memory(cms.get(), entity, 64))
        fail_openssl(std::string("encrypt: CMS encryption with ") + cipher_name(cipher) + " failed");
    std::string_view der = cms_der(cms.get());
    cms.reset();  // the encrypted content: not live while the base64 is written (peak memory)
    append_pkcs7_mime_part(out, cipher_is_aead(cipher) ? "authEnveloped-data" : "enveloped-data", der);
}

std::string encrypt_entity(std::string_view entity, const std::vector<X509*>& recipients, Cipher cipher) {
    std::string out;
    append_encrypted_entity(out, entity, recipients, cipher);
    return out;
}

}  // namespace sealpost
