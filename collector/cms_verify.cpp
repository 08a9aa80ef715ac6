// cms_verify.cpp: CMS parsing, signature verification, signed attributes.
// pem.h first: cms.h declares PEM_read_bio_CMS only when it has been seen.
#include <openssl/pem.h>

#include "cms_verify.hpp"

#include <openssl/err.h>

#include "cms_cert_cache.hpp"
#include "der_tlv.hpp"
#include "errors.hpp"

namespace sealpost {
namespace {

constexpr std::size_t kMaxCapabilities = 64;

// IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber INTEGER },
// here given as its content (the tag may be SEQUENCE or an implicit [0]).
std::optional<CertReference> issuer_and_serial(std::string_view content) {
    auto name = read_tlv(content);
    auto serial = read_tlv(content);
    if (!name || !serial || name->tag != 0x30 || serial->tag != 0x02) return std::nullopt;
    CertReference ref;
    ref.issuer_der = std::string(name->whole);
    ref.serial_der = std::string(serial->whole);
    return ref;
}

std::string attribute_der(X509_ATTRIBUTE* attr) {
    ASN1_TYPE* value = attr ? X509_ATTRIBUTE_get0_type(attr, 0) : nullptr;
    if (!value) return {};
    unsigned char* der = nullptr;
    int len = i2d_ASN1_TYPE(value, &der);
    if (len <= 0) return {};
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return out;
}

X509_ATTRIBUTE* signed_attr(CMS_SignerInfo* si, const ASN1_OBJECT* oid) {
    if (!oid) return nullptr;
    int idx = CMS_signed_get_attr_by_OBJ(si, oid, -1);
    return idx < 0 ? nullptr : CMS_signed_get_attr(si, idx);
}

X509_ATTRIBUTE* signed_attr(CMS_SignerInfo* si, int nid) { return signed_attr(si, OBJ_nid2obj(nid)); }

}  // namespace

const char* to_string(CmsKind k) {
    switch (k) {
        case CmsKind::SignedData: return "signed-data";
        case CmsKind::CertsOnly: return "certs-only";
        case CmsKind::Enveloped: return "enveloped-data";
        case CmsKind::Other: return "other";
    }
    return "?";
}

ParsedCms parse_cms(std::string_view der, std::size_t max_bytes) {
    ParsedCms r;
    if (der.empty()) {
        r.error = "empty signature";
        return r;
    }
    if (der.size() > max_bytes) {
        r.error = "signature of " + std::to_string(der.size()) + " bytes is over the limit";
        return r;
    }
    // Certificates seen before are not parsed again (cms_cert_cache.hpp).
    r.cms = parse_cms_with_cached_certificates(der);
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    if (!r.cms) r.cms.reset(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
    if (!r.cms && der.starts_with("-----BEGIN")) {
        BioPtr bio(BIO_new_mem_buf(der.data(), static_cast<int>(der.size())));
        r.cms.reset(PEM_read_bio_CMS(bio.get(), nullptr, nullptr, nullptr));
    }
    if (!r.cms) {
        std::string why = openssl_errors();
        r.error = "not a CMS structure" + (why.empty() ? std::string() : " (" + why + ")");
        return r;
    }
    ERR_clear_error();
    switch (OBJ_obj2nid(CMS_get0_type(r.cms.get()))) {
        case NID_pkcs7_signed: {
            STACK_OF(CMS_SignerInfo)* sis = CMS_get0_SignerInfos(r.cms.get());
            r.kind = sk_CMS_SignerInfo_num(sis) > 0 ? CmsKind::SignedData : CmsKind::CertsOnly;
            r.detached = CMS_is_detached(r.cms.get()) == 1;
            break;
        }
        case NID_pkcs7_enveloped:
        case NID_id_smime_ct_authEnvelopedData: r.kind = CmsKind::Enveloped; break;
        default: r.kind = CmsKind::Other; break;
    }
    return r;
}

bool cert_matches(X509* cert, const CertReference& ref) {
    if (!ref.key_id.empty()) {
        const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert);
        return ski && static_cast<std::size_t>(ASN1_STRING_length(ski)) == ref.key_id.size() &&
               std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(ski)), ref.key_id.size()) ==
                   ref.key_id;
    }
    if (ref.issuer_der.empty()) return false;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(ref.issuer_der.data());
    std::unique_ptr<X509_NAME, Free<X509_NAME_free>> issuer(
        d2i_X509_NAME(nullptr, &p, static_cast<long>(ref.issuer_der.size())));
    p = reinterpret_cast<const unsigned char*>(ref.serial_der.data());
    std::unique_ptr<ASN1_INTEGER, Free<ASN1_INTEGER_free>> serial(
        d2i_ASN1_INTEGER(nullptr, &p, static_cast<long>(ref.serial_der.size())));
    ERR_clear_error();
    return issuer && serial && X509_NAME_cmp(issuer.get(), X509_get_issuer_name(cert)) == 0 &&
           ASN1_INTEGER_cmp(serial.get(), X509_get0_serialNumber(cert)) == 0;
}

std::vector<std::string> smime_capabilities(CMS_SignerInfo* si) {
    std::vector<std::string> out;
    X509_ATTRIBUTE* attr = signed_attr(si, NID_SMIMECapabilities);
    ASN1_TYPE* value = attr ? X509_ATTRIBUTE_get0_type(attr, 0) : nullptr;
    if (!value || value->type != V_ASN1_SEQUENCE) return out;
    const unsigned char* p = value->value.sequence->data;
    X509_ALGORS* algs = d2i_X509_ALGORS(nullptr, &p, value->value.sequence->length);
    if (!algs) {
        ERR_clear_error();
        return out;
    }
    for (int i = 0; i < sk_X509_ALGOR_num(algs) && out.size() < kMaxCapabilities; ++i) {
        const ASN1_OBJECT* obj = nullptr;
        X509_ALGOR_get0(&obj, nullptr, nullptr, sk_X509_ALGOR_value(algs, i));
        int nid = OBJ_obj2nid(obj);
        if (nid != NID_undef) {
            out.emplace_back(OBJ_nid2sn(nid));
        } else {
            char buf[128];
            int n = OBJ_obj2txt(buf, sizeof buf, obj, 1);
            if (n > 0 && static_cast<std::size_t>(n) < sizeof buf) out.emplace_back(buf);
        }
    }
    sk_X509_ALGOR_pop_free(algs, X509_ALGOR_free);
    return out;
}

std::optional<CertReference> encryption_key_preference(CMS_SignerInfo* si) {
    // RFC 8551 SMIMEEncryptionKeyPreference ::= CHOICE {
    //   issuerAndSerialNumber [0] IssuerAndSerialNumber,
    //   receipentKeyId        [1] RecipientKeyIdentifier,
    //   subjectAltKeyIdentifier [2] SubjectKeyIdentifier }
    std::string der = attribute_der(signed_attr(si, NID_id_smime_aa_encrypKeyPref));
    if (!der.empty()) {
        std::string_view in = der;
        auto t = read_tlv(in);
        if (!t) return std::nullopt;
        if (t->tag == 0xa0) return issuer_and_serial(t->content);
        if (t->tag == 0xa1) {
            std::string_view c = t->content;
            auto ski = read_tlv(c);
            if (!ski || ski->tag != 0x04 || ski->content.empty()) return std::nullopt;
            CertReference ref;
            ref.key_id = std::string(ski->content);
            return ref;
        }
        if (t->tag == 0x82 && !t->content.empty()) {
            CertReference ref;
            ref.key_id = std::string(t->content);
            return ref;
        }
        return std::nullopt;
    }
    // Microsoft's older attribute (Outlook): a plain IssuerAndSerialNumber.
    static ASN1_OBJECT* ms_oid = OBJ_txt2obj("1.3.6.1.4.1.311.16.4", 1);
    der = attribute_der(signed_attr(si, ms_oid));
    if (der.empty()) return std::nullopt;
    std::string_view in = der;
    auto t = read_tlv(in);
    if (!t || t->tag != 0x30) return std::nullopt;
    return issuer_and_serial(t->content);
}

std::optional<std::time_t> signing_time(CMS_SignerInfo* si) {
    X509_ATTRIBUTE* attr = signed_attr(si, NID_pkcs9_signingTime);
    ASN1_TYPE* value = attr ? X509_ATTRIBUTE_get0_type(attr, 0) : nullptr;
    if (!value || (value->type != V_ASN1_UTCTIME && value->type != V_ASN1_GENERALIZEDTIME)) return std::nullopt;
    struct tm tm {};
    if (ASN1_TIME_to_tm(value->value.utctime, &tm) != 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    return timegm(&tm);
}

X509StackPtr cms_certificates(CMS_ContentInfo* cms) {
    X509StackPtr certs(CMS_get1_certs(cms));
    if (!certs) certs.reset(sk_X509_new_null());
    return certs;
}

SignatureCheck verify_signature(CMS_ContentInfo* cms, std::optional<std::string_view> detached_content,
                                std::size_t max_content) {
    SignatureCheck r;
    BioPtr dcont;
    if (detached_content) {
        // A null filter in front of the memory BIO: OpenSSL 3.0's CMS_verify
        // copies a bare memory BIO into a temporary one that it leaks when
        // CMS_dataInit fails (found by the fuzzer: an unknown digest OID).
        BioPtr mem(BIO_new_mem_buf(detached_content->data(), static_cast<int>(detached_content->size())));
        BIO* filter = mem ? BIO_new(BIO_f_null()) : nullptr;
        if (!filter) {
            r.error = "out of memory";
            return r;
        }
        dcont.reset(BIO_push(filter, mem.release()));
    }
    BioPtr out(BIO_new(BIO_s_mem()));
    // The chain is judged separately (at --at, for S/MIME signing); here only
    // the signature and the messageDigest attribute. CMS_BINARY: the bytes
    // are already canonical and must not be translated again.
    unsigned int flags = CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY;
    int ok = CMS_verify(cms, nullptr, nullptr, dcont.get(), out.get(), flags);
    if (ok != 1) {
        std::string why = openssl_errors();
        r.error = "signature does not verify" + (why.empty() ? std::string() : " (" + why + ")");
        return r;
    }
    ERR_clear_error();
    char* data = nullptr;
    long n = BIO_get_mem_data(out.get(), &data);
    if (n > 0 && !detached_content) {
        if (static_cast<std::size_t>(n) > max_content) {
            r.error = "signed content over the size limit";
            return r;
        }
        r.content.assign(data, static_cast<std::size_t>(n));
    }
    STACK_OF(CMS_SignerInfo)* sis = CMS_get0_SignerInfos(cms);
    for (int i = 0; i < sk_CMS_SignerInfo_num(sis); ++i) {
        CMS_SignerInfo* si = sk_CMS_SignerInfo_value(sis, i);
        X509* signer = nullptr;
        CMS_SignerInfo_get0_algs(si, nullptr, &signer, nullptr, nullptr);
        if (!signer) {
            r.error = "signer " + std::to_string(i + 1) + " has no certificate in the message";
            return r;
        }
        SignerDetail d;
        d.cert = x509_ref(signer);
        d.capabilities = smime_capabilities(si);
        d.signing_time = signing_time(si);
        d.encryption_key_preference = encryption_key_preference(si);
        r.signers.push_back(std::move(d));
    }
    if (r.signers.empty()) {
        r.error = "no signer";
        return r;
    }
    r.ok = true;
    return r;
}

}  // namespace sealpost
