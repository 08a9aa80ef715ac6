// smime_locate.cpp: an iterative, document-order walk over the GMime tree.
#include "ascii.hpp"
#include "smime_locate.hpp"

#include <algorithm>
#include <vector>

#include "handles.hpp"
#include "mime.hpp"

namespace sealpost {
namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string mime_type(GMimeObject* obj) {
    GMimeContentType* ct = g_mime_object_get_content_type(obj);
    if (!ct) return "text/plain";
    const char* type = g_mime_content_type_get_media_type(ct);
    const char* sub = g_mime_content_type_get_media_subtype(ct);
    return ascii_lower(std::string(type ? type : "") + "/" + (sub ? sub : ""));
}

std::string param(GMimeObject* obj, const char* name) {
    GMimeContentType* ct = g_mime_object_get_content_type(obj);
    const char* v = ct ? g_mime_content_type_get_parameter(ct, name) : nullptr;
    return v ? ascii_lower(v) : "";
}

std::string filename(GMimeObject* obj) {
    if (!GMIME_IS_PART(obj)) return "";
    const char* f = g_mime_part_get_filename(GMIME_PART(obj));
    return f ? ascii_lower(f) : "";
}

// The part's content with its transfer encoding removed, at most max+1 bytes
// (the caller treats more than max as too large).
std::string decoded_content(GMimeObject* obj, std::size_t max) {
    if (!GMIME_IS_PART(obj)) return "";
    std::string content = decoded_part_content(GMIME_PART(obj));
    if (content.size() > max + 1) content.resize(max + 1);
    return content;
}

bool is_signature_type(const std::string& t) {
    return t == "application/pkcs7-signature" || t == "application/x-pkcs7-signature";
}
bool is_pkcs7_mime_type(const std::string& t) {
    return t == "application/pkcs7-mime" || t == "application/x-pkcs7-mime";
}

}  // namespace

const char* to_string(SmimeForm f) {
    switch (f) {
        case SmimeForm::None: return "none";
        case SmimeForm::Detached: return "detached";
        case SmimeForm::Opaque: return "opaque";
        case SmimeForm::CertsOnly: return "certs-only";
        case SmimeForm::Encrypted: return "encrypted";
        case SmimeForm::LoneSignature: return "lone-signature";
    }
    return "?";
}

SmimeStructure locate_smime(GMimeMessage* message, Trace& trace, std::size_t max_bytes) {
    SmimeStructure lone;
    struct Item {
        GMimeObject* obj;
        int depth;
    };
    std::vector<Item> todo{{g_mime_message_get_mime_part(message), 1}};
    while (!todo.empty()) {
        auto [obj, depth] = todo.back();
        todo.pop_back();
        if (!obj) continue;
        std::string type = mime_type(obj);
        std::string name = filename(obj);
        std::string where = type + " at depth " + std::to_string(depth);
        if (log_wants(spdlog::level::info))  // the header is fetched and cleaned only for a line written
            trace.info("part depth={} content-type={}{}{}", depth, printable(header_value(obj, "Content-Type"), 160),
                       name.empty() ? "" : ",filename=", printable(name, 80));

        if (type == "multipart/signed") {
            std::string protocol = param(obj, "protocol");
            if (!is_signature_type(protocol)) {
                trace.info("multipart/signed with protocol '{}' is not S/MIME; skipped", printable(protocol, 80));
                continue;
            }
            SmimeStructure s;
            s.form = SmimeForm::Detached;
            s.where = where;
            auto* mp = GMIME_MULTIPART(obj);
            int n = GMIME_IS_MULTIPART(obj) ? g_mime_multipart_get_count(mp) : 0;
            if (n != 2) {
                s.problem = "multipart/signed has " + std::to_string(n) + " parts instead of 2";
                return s;
            }
            GMimeObject* content = g_mime_multipart_get_part(mp, 0);
            GMimeObject* sig = g_mime_multipart_get_part(mp, 1);
            std::string sig_type = mime_type(sig);
            std::string sig_name = filename(sig);
            trace.info("signed part: content-type={}; signature part: content-type={}{}{}",
                       printable(header_value(content, "Content-Type"), 120), printable(sig_type, 80),
                       sig_name.empty() ? "" : ",filename=", printable(sig_name, 80));
            if (!GMIME_IS_PART(sig)) {
                s.problem = "signature part is " + sig_type + ", not a leaf part";
                return s;
            }
            if (!is_signature_type(sig_type))
                trace.warn("signature part has content-type {} (expected application/pkcs7-signature)",
                           printable(sig_type, 80));
            s.der = decoded_content(sig, max_bytes);
            s.signed_bytes = write_crlf(content);
            trace.info("signature bytes={} signed bytes={}", s.der.size(), s.signed_bytes->size());
            return s;
        }
        bool hinted_mime = type == "application/octet-stream" && (ends_with(name, ".p7m") || ends_with(name, ".p7c"));
        if (is_pkcs7_mime_type(type) || hinted_mime) {
            SmimeStructure s;
            s.where = where;
            std::string smime_type = param(obj, "smime-type");
            if (smime_type == "enveloped-data" || smime_type == "authenveloped-data") {
                s.form = SmimeForm::Encrypted;
            } else if (smime_type == "certs-only" || (smime_type.empty() && ends_with(name, ".p7c"))) {
                s.form = SmimeForm::CertsOnly;
            } else {
                // signed-data, or unspecified: the DER decides later.
                s.form = SmimeForm::Opaque;
            }
            s.der = decoded_content(obj, max_bytes);
            trace.info("pkcs7-mime smime-type={} bytes={}", smime_type.empty() ? "(none)" : printable(smime_type, 40),
                       s.der.size());
            return s;
        }
        bool hinted_sig = type == "application/octet-stream" && ends_with(name, ".p7s");
        if (is_signature_type(type) || hinted_sig) {
            if (lone.form == SmimeForm::None) {
                lone.form = SmimeForm::LoneSignature;
                lone.where = where;
                lone.problem = "a signature part outside multipart/signed signs nothing";
            }
            continue;
        }
        if (GMIME_IS_MULTIPART(obj)) {
            auto* mp = GMIME_MULTIPART(obj);
            int n = g_mime_multipart_get_count(mp);
            for (int i = n; i-- > 0;) todo.push_back({g_mime_multipart_get_part(mp, i), depth + 1});
        } else if (GMIME_IS_MESSAGE_PART(obj)) {
            trace.info("attached message not examined (its signature is not the sender's)");
        }
    }
    return lone;
}

}  // namespace sealpost
