// cms_describe.cpp: CMS inspection with OpenSSL's CMS accessors.
#include "cms_describe.hpp"

#include <openssl/cms.h>
#include <openssl/objects.h>

#include "cert_info.hpp"
#include "errors.hpp"
#include "handles.hpp"

namespace sealpost {
namespace {

std::string obj_name(const ASN1_OBJECT* o) {
    if (!o) return "?";
    int nid = OBJ_obj2nid(o);
    if (nid != NID_undef) return OBJ_nid2sn(nid);
    char buf[128];
    OBJ_obj2txt(buf, sizeof buf, o, 1);
    return buf;
}

std::string octets_hex(const ASN1_OCTET_STRING* s) {
    if (!s) return "?";
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < ASN1_STRING_length(s); ++i) {
        unsigned char c = ASN1_STRING_get0_data(s)[i];
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}

std::string recipient_id(ASN1_OCTET_STRING* keyid, X509_NAME* issuer, ASN1_INTEGER* serial) {
    if (keyid) return "subjectKeyIdentifier " + octets_hex(keyid);
    return "issuer " + name_line(issuer) + " serial " + integer_hex(serial);
}

// The content-encryption algorithm: the first known bulk cipher OID in the
// DER (key-wrap and key-transport OIDs are different ones).
std::string content_cipher(std::string_view der) {
    static const int nids[] = {NID_aes_256_cbc, NID_aes_128_cbc, NID_aes_192_cbc, NID_aes_256_gcm,
                               NID_aes_128_gcm, NID_aes_192_gcm, NID_des_ede3_cbc};
    for (int nid : nids) {
        const ASN1_OBJECT* o = OBJ_nid2obj(nid);
        std::string oid(reinterpret_cast<const char*>(OBJ_get0_data(o)), OBJ_length(o));
        std::string tlv = std::string(1, '\x06') + static_cast<char>(oid.size()) + oid;
        if (der.find(tlv) != std::string_view::npos) return OBJ_nid2sn(nid);
    }
    return "unknown";
}

void describe_signed(CMS_ContentInfo* cms, CmsDescription& d) {
    X509StackPtr certs(CMS_get1_certs(cms));
    d.lines.push_back("certificates: " + std::to_string(certs ? sk_X509_num(certs.get()) : 0));
    STACK_OF(CMS_SignerInfo)* sis = CMS_get0_SignerInfos(cms);
    for (int i = 0; i < sk_CMS_SignerInfo_num(sis); ++i) {
        CMS_SignerInfo* si = sk_CMS_SignerInfo_value(sis, i);
        X509_ALGOR *dig = nullptr, *sig = nullptr;
        CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &dig, &sig);
        const ASN1_OBJECT* dobj = nullptr;
        const ASN1_OBJECT* sobj = nullptr;
        if (dig) X509_ALGOR_get0(&dobj, nullptr, nullptr, dig);
        if (sig) X509_ALGOR_get0(&sobj, nullptr, nullptr, sig);
        d.lines.push_back("signer " + std::to_string(i + 1) + ": digest " + obj_name(dobj) + ", signature " +
                          obj_name(sobj));
        X509* signer = nullptr;
        for (int k = 0; certs && k < sk_X509_num(certs.get()); ++k)
            if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs.get(), k)) == 0) signer = sk_X509_value(certs.get(), k);
        if (signer) {
            std::string addrs;
            for (const auto& a : certificate_addresses(signer)) addrs += (addrs.empty() ? "" : ", ") + a;
            d.lines.push_back("  subject " + subject_line(signer));
            d.lines.push_back("  address " + (addrs.empty() ? std::string("(none)") : addrs));
            d.lines.push_back("  issuer " + issuer_line(signer) + " serial " + serial_hex(signer));
            d.lines.push_back("  valid " + format_time(not_before(signer)) + " .. " + format_time(not_after(signer)) +
                              ", key " + key_description(signer));
        } else {
            ASN1_OCTET_STRING* keyid = nullptr;
            X509_NAME* issuer = nullptr;
            ASN1_INTEGER* sno = nullptr;
            CMS_SignerInfo_get0_signer_id(si, &keyid, &issuer, &sno);
            d.lines.push_back("  signer certificate not included; " + recipient_id(keyid, issuer, sno));
        }
    }
    ASN1_OCTET_STRING** content = CMS_get0_content(cms);
    if (content && *content) {
        d.has_embedded = true;
        d.embedded_content.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(*content)),
                                  static_cast<std::size_t>(ASN1_STRING_length(*content)));
        d.lines.push_back("embedded content: " + std::to_string(d.embedded_content.size()) + " bytes (opaque)");
    } else {
        d.lines.push_back("detached (content is the signed MIME part beside it)");
    }
}

void describe_enveloped(CMS_ContentInfo* cms, std::string_view der, CmsDescription& d) {
    d.lines.push_back("content encryption: " + content_cipher(der));
    STACK_OF(CMS_RecipientInfo)* ris = CMS_get0_RecipientInfos(cms);
    for (int i = 0; i < sk_CMS_RecipientInfo_num(ris); ++i) {
        CMS_RecipientInfo* ri = sk_CMS_RecipientInfo_value(ris, i);
        ASN1_OCTET_STRING* keyid = nullptr;
        X509_NAME* issuer = nullptr;
        ASN1_INTEGER* sno = nullptr;
        switch (CMS_RecipientInfo_type(ri)) {
            case CMS_RECIPINFO_TRANS:
                CMS_RecipientInfo_ktri_get0_signer_id(ri, &keyid, &issuer, &sno);
                d.lines.push_back("recipient " + std::to_string(i + 1) + " (key transport, RSA): " +
                                  recipient_id(keyid, issuer, sno));
                break;
            case CMS_RECIPINFO_AGREE: {
                STACK_OF(CMS_RecipientEncryptedKey)* reks = CMS_RecipientInfo_kari_get0_reks(ri);
                for (int k = 0; k < sk_CMS_RecipientEncryptedKey_num(reks); ++k) {
                    CMS_RecipientEncryptedKey_get0_id(sk_CMS_RecipientEncryptedKey_value(reks, k), &keyid, nullptr,
                                                      nullptr, &issuer, &sno);
                    d.lines.push_back("recipient " + std::to_string(i + 1) + " (key agreement, ECDH): " +
                                      recipient_id(keyid, issuer, sno));
                }
                break;
            }
            default:
                d.lines.push_back("recipient " + std::to_string(i + 1) + ": other kind");
        }
    }
}

}  // namespace

CmsDescription describe_cms(std::string_view der) {
    CmsDescription d;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
    if (!cms) {
        d.lines.push_back("not a CMS structure (" + openssl_errors() + ")");
        return d;
    }
    int type = OBJ_obj2nid(CMS_get0_type(cms.get()));
    switch (type) {
        case NID_pkcs7_signed:
            d.lines.push_back("CMS SignedData");
            describe_signed(cms.get(), d);
            break;
        case NID_pkcs7_enveloped:
            d.lines.push_back("CMS EnvelopedData (encrypted)");
            describe_enveloped(cms.get(), der, d);
            break;
        case NID_id_smime_ct_authEnvelopedData:
            d.lines.push_back("CMS AuthEnvelopedData (encrypted, authenticated)");
            describe_enveloped(cms.get(), der, d);
            break;
        default:
            d.lines.push_back("CMS " + obj_name(CMS_get0_type(cms.get())));
    }
    openssl_errors();
    return d;
}

}  // namespace sealpost
