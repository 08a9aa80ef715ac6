// header_encode.cpp: RFC 2047 for 8-bit outer headers, with GMime.
#include "header_encode.hpp"

#include <strings.h>

#include "handles.hpp"
#include "mime.hpp"

namespace sealpost {
namespace {

bool is_address_header(const char* name) {
    for (const char* h : {"From", "To", "Cc", "Bcc", "Reply-To", "Sender", "Resent-From", "Resent-To", "Resent-Cc",
                          "Resent-Sender", "Disposition-Notification-To"})
        if (strcasecmp(name, h) == 0) return true;
    return false;
}

std::string crlf_line(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return to_crlf(text) + "\r\n";
}

}  // namespace

bool has_eight_bit(std::string_view raw) {
    for (unsigned char c : raw)
        if (c >= 0x80) return true;
    return false;
}

std::string encode_header_line(GMimeHeader* header) {
    const char* name = g_mime_header_get_name(header);
    const char* value = g_mime_header_get_value(header);  // decoded, UTF-8
    GMimeFormatOptions* format = g_mime_format_options_get_default();
    if (is_address_header(name)) {
        using ListPtr = GObjectPtr<InternetAddressList>;
        ListPtr list(internet_address_list_parse(nullptr, value ? value : ""));
        if (list && internet_address_list_length(list.get()) > 0) {
            GString* out = g_string_new(name);
            g_string_append(out, ": ");
            internet_address_list_encode(list.get(), format, out);  // encoded, folded, ends with a newline
            std::string line(out->str, out->len);
            g_string_free(out, TRUE);
            return crlf_line(line);
        }
    }
    GCharPtr encoded(g_mime_utils_header_encode_text(format, value ? value : "", "utf-8"));
    std::string unfolded = std::string(name) + ": " + (encoded ? encoded.get() : "");
    GCharPtr folded(g_mime_utils_unstructured_header_fold(nullptr, format, unfolded.c_str()));
    return crlf_line(folded ? folded.get() : unfolded);
}

}  // namespace sealpost
