// prepared_message.cpp: envelope extraction, header split, re-encoding.
#include "prepared_message.hpp"

#include <strings.h>

#include <ctime>
#include <set>

#include "errors.hpp"
#include "handles.hpp"
#include "log.hpp"
#include "header_encode.hpp"
#include "transfer_encode.hpp"

namespace sealpost {
namespace {

bool is_content_header(const char* name) { return strncasecmp(name, "Content-", 8) == 0; }

std::string rfc5322_date(std::time_t t) {
    struct tm tm {};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return buf;
}

std::string new_message_id(std::string_view domain) {
    return "<sealpost." + random_hex(12) + "@" + std::string(domain.empty() ? "localhost" : domain) + ">";
}

void add_recipients(GMimeMessage* msg, GMimeAddressType type, std::set<std::string>& seen,
                    std::vector<Mailbox>& out, std::vector<std::string>& rejected) {
    InternetAddressList* list = g_mime_message_get_addresses(msg, type);
    if (!list) return;
    GCharPtr text(internet_address_list_to_string(list, nullptr, FALSE));
    if (!text) return;
    for (auto& mb : parse_address_list(text.get(), &rejected))
        if (seen.insert(mb.address).second) out.push_back(std::move(mb));
}

}  // namespace

PreparedMessage prepare_message(std::string_view raw, const MimeLimits& limits) {
    auto msg = parse_message(raw, limits);
    PreparedMessage pm;

    // From: exactly one mailbox.
    std::vector<std::string> rejected;
    auto from_text = header_value(GMIME_OBJECT(msg.get()), "From");
    if (from_text.empty()) fail(ErrorKind::Input, "no From: header (the signer and MAIL FROM come from it)");
    auto from = parse_address_list(from_text, &rejected);
    if (from.size() != 1 || !rejected.empty())
        fail(ErrorKind::Input, "From: must hold exactly one valid address, found '" + printable(from_text, 120) + "'");
    pm.from = from.front();

    std::set<std::string> seen;
    add_recipients(msg.get(), GMIME_ADDRESS_TYPE_TO, seen, pm.recipients, rejected);
    add_recipients(msg.get(), GMIME_ADDRESS_TYPE_CC, seen, pm.recipients, rejected);
    pm.visible = seen;
    add_recipients(msg.get(), GMIME_ADDRESS_TYPE_BCC, seen, pm.recipients, rejected);
    if (!rejected.empty())
        fail(ErrorKind::Input, "recipient address '" + printable(rejected.front(), 120) + "' is not valid");

    // Outer headers: all but Content-*, MIME-Version and Bcc, raw (folding kept).
    GMimeHeaderList* headers = g_mime_object_get_header_list(GMIME_OBJECT(msg.get()));
    bool has_date = false, has_id = false;
    for (int i = 0, n = g_mime_header_list_get_count(headers); i < n; ++i) {
        GMimeHeader* h = g_mime_header_list_get_header_at(headers, i);
        const char* name = g_mime_header_get_name(h);
        if (is_content_header(name) || strcasecmp(name, "MIME-Version") == 0 || strcasecmp(name, "Bcc") == 0)
            continue;
        if (strcasecmp(name, "Date") == 0) has_date = true;
        if (strcasecmp(name, "Message-ID") == 0) {
            has_id = true;
            const char* v = g_mime_header_get_value(h);
            pm.message_id = v ? v : "";
        }
        const char* rawv = g_mime_header_get_raw_value(h);
        std::string value = rawv ? rawv : "";
        if (has_eight_bit(value)) {  // raw UTF-8 in From/Subject/...: RFC 2047, like bodies get QP
            pm.outer_headers += encode_header_line(h);
            continue;
        }
        while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
        if (!value.empty() && value.front() != ' ' && value.front() != '\t') value.insert(0, " ");
        pm.outer_headers += std::string(name) + ":" + to_crlf(value) + "\r\n";
    }
    if (!has_date) pm.outer_headers += "Date: " + rfc5322_date(std::time(nullptr)) + "\r\n";
    if (!has_id) {
        std::string id = new_message_id(address_domain(pm.from.address));
        pm.outer_headers += "Message-ID: " + id + "\r\n";
        pm.message_id = id.substr(1, id.size() - 2);
    }

    GMimeObject* root = g_mime_message_get_mime_part(msg.get());
    // The protected entity always says what it is, even when the input
    // relied on the text/plain default.
    if (header_value(root, "Content-Type").empty())
        g_mime_object_set_header(root, "Content-Type", "text/plain; charset=us-ascii", nullptr);
    pm.reencoded_parts = make_seven_bit_safe(root);
    pm.entity = write_crlf(root, raw.size());
    return pm;
}

std::string assemble_message(const PreparedMessage& m, std::string_view entity) {
    std::string out;
    out.reserve(m.outer_headers.size() + entity.size() + 32);
    out += m.outer_headers;
    out += "MIME-Version: 1.0\r\n";
    out += entity;
    return out;
}

}  // namespace sealpost
