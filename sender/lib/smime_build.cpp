// smime_build.cpp: CMS sign / encrypt and the MIME wrapping around them.
#include "smime_build.hpp"

#include <openssl/cms.h>

#include <algorithm>
#include <climits>
#include <ctime>
#include <optional>
#include <vector>

#include "aes_cbc_base64.hpp"
#include "base64_writer.hpp"
#include "cms_content_sink.hpp"
#include "der_splice.hpp"
#include "enveloped_data.hpp"
#include "errors.hpp"
#include "mime.hpp"
#include "signed_data_template.hpp"
#include "smime_attributes.hpp"

namespace sealpost {
namespace {

// The DER of a ContentInfo whose content is not inside it (a few KB).
std::string small_der(CMS_ContentInfo* cms) {
    int len = i2d_CMS_ContentInfo(cms, nullptr);
    if (len <= 0) fail_openssl("cms: cannot encode");
    std::string der(static_cast<std::size_t>(len), '\0');
    auto* p = reinterpret_cast<unsigned char*>(der.data());
    if (i2d_CMS_ContentInfo(cms, &p) != len) fail_openssl("cms: cannot encode");
    return der;
}

// OpenSSL reads ASN.1 lengths into an int: a structure of 2 GiB or more
// would be written but never read back.
void require_cms_size(std::string_view entity, const char* step) {
    if (entity.size() > static_cast<std::size_t>(INT_MAX) - (1u << 20))
        fail(ErrorKind::Limit, std::string(step) + ": the message is too large for CMS (2 GiB or more)");
}

// The content is put back by der_splice: the structure must not hold it.
void require_no_content_inside(CMS_ContentInfo* cms) {
    ASN1_OCTET_STRING** content = CMS_get0_content(cms);
    if (!content || *content) fail(ErrorKind::Internal, "cms: the content is inside the structure");
}

// CMS_final() for content held in memory, in two steps so the structure
// can be encoded in between: the chain CMS_dataInit builds on `sink`
// (nullptr: content only digested, detached; cms_content_sink.hpp: content
// handed on as it is made), then the content written in one call and
// CMS_dataFinal.
BioPtr cms_open(CMS_ContentInfo* cms, BIO* sink) {
    BIO* chain = CMS_dataInit(cms, sink);
    if (!chain) BIO_free(sink);
    return BioPtr(chain);
}

bool cms_finish(CMS_ContentInfo* cms, BIO* chain, BIO* sink, std::string_view data) {
    const char* p = data.data();
    std::size_t left = data.size();
    while (left > 0) {
        int n = BIO_write(chain, p, static_cast<int>(std::min<std::size_t>(left, 1u << 30)));
        if (n <= 0) break;
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    bool flushed = left == 0 && BIO_flush(chain) == 1;
    if (sink) rethrow_sink_failure(sink);
    return flushed && CMS_dataFinal(cms, chain) == 1;
}

std::string random_boundary(std::string_view must_not_occur_in) {
    for (;;) {
        std::string b = "----=_sealpost_" + random_hex(18);
        if (must_not_occur_in.find(b) == std::string_view::npos) return b;
    }
}

// An application/pkcs7-mime part's headers, `out` grown for its base64
// of `der_bytes` bytes.
void begin_pkcs7_mime_part(std::string& out, std::string_view smime_type, std::size_t der_bytes) {
    static constexpr std::string_view kTail =
        "; name=\"smime.p7m\"\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "Content-Disposition: attachment; filename=\"smime.p7m\"\r\n"
        "\r\n";
    out.reserve(out.size() + 64 + smime_type.size() + kTail.size() + base64_lines_size(der_bytes));
    out += "Content-Type: application/pkcs7-mime; smime-type=";
    out += smime_type;
    out += kTail;
}

// The part, its DER being der.head + value + der.tail (der_splice.hpp).
void append_pkcs7_mime_part(std::string& out, std::string_view smime_type, const DerAround& der,
                            std::string_view value) {
    begin_pkcs7_mime_part(out, smime_type, der.head.size() + value.size() + der.tail.size());
    append_base64_lines(out, {der.head, value, der.tail});
}

// [0] IMPLICIT encryptedContent, the last field of (Auth)EnvelopedData's
// third, (auth)encryptedContentInfo (ContentInfo [0] EXPLICIT first).
DerAround around_ciphertext(CMS_ContentInfo* cms, std::size_t ciphertext_bytes) {
    require_no_content_inside(cms);
    return der_around_value(small_der(cms), {1, 0, 2}, 0x30, {0x80}, ciphertext_bytes);
}

// CBC: the ciphertext's length is known before it is made (PKCS#7 padding
// adds 1 to `block` bytes), and nothing after it changes (checked), so the
// part is written as the content is encrypted: the ciphertext is never held.
void append_streamed_enveloped_part(std::string& out, CMS_ContentInfo* cms, std::string_view entity,
                                    std::size_t block) {
    std::size_t ciphertext_bytes = (entity.size() / block + 1) * block;
    Base64LineWriter base64(out);
    ContentTaker take = [&base64](std::string_view b) { base64.add(b); };
    BIO* sink = new_content_sink(take);
    BioPtr chain = cms_open(cms, sink);
    if (!chain) fail_openssl("encrypt: CMS encryption failed");
    // The recipients' keys are encrypted by CMS_dataInit: the structure
    // around the content is final from here.
    DerAround der = around_ciphertext(cms, ciphertext_bytes);
    begin_pkcs7_mime_part(out, "enveloped-data", der.head.size() + ciphertext_bytes + der.tail.size());
    base64.add(der.head);
    if (!cms_finish(cms, chain.get(), sink, entity)) fail_openssl("encrypt: CMS encryption failed");
    if (base64.bytes_in() != der.head.size() + ciphertext_bytes)
        fail(ErrorKind::Internal, "encrypt: the ciphertext is not of the length its header gives");
    // A cipher whose final step changes the structure (not AES-CBC) would
    // have been written around the wrong head: never sent, an error.
    if (around_ciphertext(cms, ciphertext_bytes).head != der.head)
        fail(ErrorKind::Internal, "encrypt: the structure changed while the content was encrypted");
    base64.add(der.tail);
    base64.finish();
}

// `entity` encrypted by EVP in pieces that stay in the cache, each
// base64-encoded as it is made.
void append_evp_cbc_ciphertext(Base64LineWriter& base64, const EVP_CIPHER* evp, const ContentKey& key,
                               std::string_view entity) {
    using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Free<EVP_CIPHER_CTX_free>>;
    // One context per message: freeing it cleanses the key schedule.
    CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    constexpr std::size_t kPiece = 16 * 1024;
    unsigned char piece[kPiece + EVP_MAX_BLOCK_LENGTH];
    int n = 0;
    bool ok = ctx && EVP_EncryptInit_ex2(ctx.get(), evp, key.key, key.iv, nullptr) == 1;
    for (std::size_t at = 0; ok && at < entity.size(); at += kPiece) {
        const std::size_t len = std::min(kPiece, entity.size() - at);
        ok = EVP_EncryptUpdate(ctx.get(), piece, &n, reinterpret_cast<const unsigned char*>(entity.data() + at),
                               static_cast<int>(len)) == 1;
        if (ok) base64.add({reinterpret_cast<const char*>(piece), static_cast<std::size_t>(n)});
    }
    ok = ok && EVP_EncryptFinal_ex(ctx.get(), piece, &n) == 1;
    if (!ok) fail_openssl(std::string("encrypt: ") + EVP_CIPHER_get0_name(evp) + " failed");
    base64.add({reinterpret_cast<const char*>(piece), static_cast<std::size_t>(n)});
}

// AES-CBC to RSA recipients (enveloped_data.hpp): the structure encoded
// here, the content encrypted straight into the part's base64: AES-256 by
// the stitched loop where it applies (aes_cbc_base64.hpp), else by EVP.
void append_rsa_cbc_enveloped_part(std::string& out, const std::vector<X509*>& recipients, const EVP_CIPHER* evp,
                                   std::string_view entity) {
    const auto block = static_cast<std::size_t>(EVP_CIPHER_get_block_size(evp));
    const std::size_t ciphertext_bytes = (entity.size() / block + 1) * block;  // PKCS#7 padding
    ContentKey key(evp);
    DerAround der =
        der_around_value(rsa_enveloped_data(recipients, evp, key), {1, 0, 2}, 0x30, {0x80}, ciphertext_bytes);
    begin_pkcs7_mime_part(out, "enveloped-data", der.head.size() + ciphertext_bytes + der.tail.size());
    Base64LineWriter base64(out);
    base64.add(der.head);
    if (aes256_cbc_base64_applies(evp, entity.size()))
        encrypt_aes256_cbc_base64(key.key, key.iv, entity, base64, out);
    else
        append_evp_cbc_ciphertext(base64, evp, key, entity);
    if (base64.bytes_in() != der.head.size() + ciphertext_bytes)
        fail(ErrorKind::Internal, "encrypt: the ciphertext is not of the length its header gives");
    base64.add(der.tail);
    base64.finish();
}

// AES-GCM: its tag, after the content, is set only at the end, and the
// lengths that enclose both are written before the content: the
// ciphertext (as long as the content) is gathered first, in one buffer,
// and the part written around it.
void append_gathered_enveloped_part(std::string& out, CMS_ContentInfo* cms, std::string_view entity,
                                    std::string_view smime_type) {
    std::string ciphertext;
    ciphertext.reserve(entity.size());
    ContentTaker take = [&ciphertext](std::string_view b) { ciphertext += b; };
    BIO* sink = new_content_sink(take);
    BioPtr chain = cms_open(cms, sink);
    if (!chain || !cms_finish(cms, chain.get(), sink, entity)) fail_openssl("encrypt: CMS encryption failed");
    append_pkcs7_mime_part(out, smime_type, around_ciphertext(cms, ciphertext.size()), ciphertext);
}

// The signer's SignedData for `entity`: refilled from this thread's
// template when the signer has one (signed_data_template.hpp), else
// OpenSSL's CMS.
std::string signed_data(std::string_view entity, const SigningIdentity& signer) {
    SignedDataMaker openssl = [&signer](std::string_view probe, const ASN1_TIME* at) {
        return cms_signed_data(probe, signer, at);
    };
    if (SignedDataTemplate* reusable = signed_data_template_for(signer, openssl))
        if (std::optional<std::string> der = reusable->sign(entity, std::time(nullptr))) return std::move(*der);
    return cms_signed_data(entity, signer, nullptr);
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

std::string cms_signed_data(std::string_view entity, const SigningIdentity& signer, const ASN1_TIME* signing_time) {
    require_cms_size(entity, "sign");
    // CMS_BINARY: the entity is already canonical; OpenSSL must not touch it.
    // Always signed detached: the entity is only digested, never copied; an
    // opaque signature gets it back as eContent (sign_entity), in place.
    unsigned flags = CMS_BINARY | CMS_DETACHED;
    // Partial: our signed attributes replace OpenSSL's SMIMECapabilities
    // (smime_attributes.hpp); every intermediate goes into `certificates`.
    CmsPtr cms(CMS_sign(nullptr, nullptr, signer.chain.get(), nullptr, flags | CMS_PARTIAL));
    if (!cms) fail_openssl("sign: " + signer.address + ": CMS signing failed");
    CMS_SignerInfo* si = CMS_add1_signer(cms.get(), signer.cert.get(), signer.key.get(), EVP_sha256(),
                                         flags | CMS_PARTIAL | CMS_NOSMIMECAP);
    if (!si) fail_openssl("sign: " + signer.address + ": CMS signing failed");
    add_signed_attributes(si, signer);
    // Without one, OpenSSL adds the signingTime of the moment it signs.
    if (signing_time &&
        CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, ASN1_STRING_type(signing_time), signing_time, -1) != 1)
        fail_openssl("sign: " + signer.address + ": cannot add the signing time");
    BioPtr chain = cms_open(cms.get(), nullptr);
    if (!chain || !cms_finish(cms.get(), chain.get(), nullptr, entity))
        fail_openssl("sign: " + signer.address + ": CMS signing failed");
    require_no_content_inside(cms.get());
    return small_der(cms.get());
}

std::string sign_entity(std::string_view entity, const SigningIdentity& signer, SignMode mode) {
    if (mode == SignMode::None) return std::string(entity);
    require_cms_size(entity, "sign");
    std::string der = signed_data(entity, signer);
    std::string out;
    if (mode == SignMode::Opaque) {
        // ContentInfo [0] SignedData, its third field encapContentInfo
        // { eContentType, eContent [0] EXPLICIT OCTET STRING }.
        append_pkcs7_mime_part(out, "signed-data",
                               der_around_value(der, {1, 0, 2}, 0x30, {0xa0, 0x04}, entity.size()), entity);
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
    require_cms_size(entity, "encrypt");
    const EVP_CIPHER* evp = cipher_evp(cipher);
    if (rsa_cbc_envelope_applies(recipients, evp)) {
        append_rsa_cbc_enveloped_part(out, recipients, evp, entity);
        return;
    }
    X509StackPtr certs(sk_X509_new_null());
    for (X509* c : recipients) sk_X509_push(certs.get(), c);
    // Partial and detached: the structure is made without its content,
    // which goes through a content sink into the part (below).
    CmsPtr cms(CMS_encrypt(certs.get(), nullptr, evp, CMS_BINARY | CMS_PARTIAL | CMS_DETACHED));
    // The stack borrowed the certificates: empty it before it is freed.
    while (sk_X509_num(certs.get()) > 0) sk_X509_pop(certs.get());
    if (!cms) fail_openssl(std::string("encrypt: CMS encryption with ") + cipher_name(cipher) + " failed");
    const int block = EVP_CIPHER_get_block_size(evp);
    if (EVP_CIPHER_get_mode(evp) == EVP_CIPH_CBC_MODE && block > 1)
        append_streamed_enveloped_part(out, cms.get(), entity, static_cast<std::size_t>(block));
    else
        append_gathered_enveloped_part(out, cms.get(), entity,
                                       cipher_is_aead(cipher) ? "authEnveloped-data" : "enveloped-data");
}

std::string encrypt_entity(std::string_view entity, const std::vector<X509*>& recipients, Cipher cipher) {
    std::string out;
    append_encrypted_entity(out, entity, recipients, cipher);
    return out;
}

}  // namespace sealpost
