// prepared_message.cpp: envelope extraction, header split, re-encoding.
#include "prepared_message.hpp"

#include <strings.h>

#include <algorithm>
#include <ctime>
#include <set>

#include "ascii.hpp"
#include "canonical_mime.hpp"
#include "entity_splice.hpp"
#include "errors.hpp"
#include "handles.hpp"
#include "log.hpp"
#include "header_encode.hpp"
#include "mime_prescan.hpp"
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

// An outer field as it stands (folding kept), one space after the colon
// unless the value starts with white space, CRLF line ends.
void append_outer_field(std::string& out, std::string_view name, std::string_view raw_value) {
    while (!raw_value.empty() && (raw_value.back() == '\n' || raw_value.back() == '\r')) raw_value.remove_suffix(1);
    out += name;
    out += ':';
    if (!raw_value.empty() && raw_value.front() != ' ' && raw_value.front() != '\t') out += ' ';
    append_crlf(out, raw_value);
    out += "\r\n";
}

// Date and Message-ID, added when the input lacks them.
void complete_outer_headers(PreparedMessage& pm, bool has_date, bool has_id) {
    if (!has_date) pm.outer_headers += "Date: " + rfc5322_date(std::time(nullptr)) + "\r\n";
    if (!has_id) {
        std::string id = new_message_id(address_domain(pm.from.address));
        pm.outer_headers += "Message-ID: " + id + "\r\n";
        pm.message_id = id.substr(1, id.size() - 2);
    }
}

bool is_outer_only(std::string_view name) { return iequals(name, "MIME-Version") || iequals(name, "Bcc"); }

// An address field both paths read alike: not folded, no quoted strings,
// comments, groups, domain literals, encoded words or punycode (GMime
// re-writes those: it decodes an "xn--" label, whose Unicode may hold a
// fullwidth ',' or '<' that its second parse of To/Cc/Bcc splits at, and
// keeps a fold inside a display name).
bool plain_address_value(std::string_view value) {
    return value.find_first_of("\r\n\"()\\:;[]") == std::string_view::npos && value.find("=?") == std::string_view::npos &&
           ascii_lower(value).find("xn--") == std::string::npos;
}

// Adds the mailboxes of the field called `name` (at most one) to `out`;
// false when the field is not plain or holds an address we reject.
bool add_plain_recipients(const HeaderBlock& top, std::string_view name, std::set<std::string>& seen,
                          std::vector<Mailbox>& out) {
    auto fields = fields_named(top, name);
    if (fields.empty()) return true;
    if (fields.size() > 1 || !plain_address_value(fields.front()->value)) return false;
    std::vector<std::string> rejected;
    for (auto& mb : parse_address_list(unfolded(fields.front()->value), &rejected))
        if (seen.insert(mb.address).second) out.push_back(std::move(mb));
    return rejected.empty();
}

// The entity's size, so its buffer is made once (a message-sized string
// that doubles is a message-sized copy and twice the memory).
std::size_t canonical_entity_size(const HeaderBlock& top, LineEnds ends, const CanonicalShape& shape) {
    std::size_t size = 2 + top.body.size() + 2 * shape.added_line_ends.size();
    if (ends == LineEnds::Lf) size += static_cast<std::size_t>(std::count(top.body.begin(), top.body.end(), '\n'));
    for (const HeaderField& f : top.fields)
        if (istarts_with(f.name, "Content-")) size += 2 * f.whole.size() + 2;  // a fold's LF may gain a CR
    return size;
}

}  // namespace

std::optional<PreparedMessage> prepare_canonical(std::string_view raw, const MimeLimits& limits) {
    if (raw.empty() || raw.size() > limits.max_bytes) return std::nullopt;
    auto ends = seven_bit_line_ends(raw);
    if (!ends) return std::nullopt;
    auto top = split_header_block(raw);
    if (!top) return std::nullopt;
    for (const char* name : {"Date", "Message-ID", "MIME-Version"})
        if (fields_named(*top, name).size() > 1) return std::nullopt;
    auto shape = canonical_entity_shape(*top, limits.max_depth, limits.max_parts);
    if (!shape) return std::nullopt;
    // GMime's pre-scan refuses a few messages the walk accepts; after the
    // walk, so a message left to GMime is not pre-scanned twice.
    if (prescan_problem(raw, limits.max_depth, limits.max_parts)) return std::nullopt;

    PreparedMessage pm;
    auto from = fields_named(*top, "From");
    if (from.size() != 1 || !plain_address_value(from.front()->value)) return std::nullopt;
    std::vector<std::string> rejected;
    auto from_list = parse_address_list(unfolded(from.front()->value), &rejected);
    if (from_list.size() != 1 || !rejected.empty()) return std::nullopt;
    pm.from = from_list.front();
    std::set<std::string> seen;
    if (!add_plain_recipients(*top, "To", seen, pm.recipients) || !add_plain_recipients(*top, "Cc", seen, pm.recipients))
        return std::nullopt;
    pm.visible = seen;
    if (!add_plain_recipients(*top, "Bcc", seen, pm.recipients)) return std::nullopt;

    pm.entity.reserve(canonical_entity_size(*top, *ends, *shape));
    bool has_date = false, has_id = false;
    for (const HeaderField& f : top->fields) {
        if (istarts_with(f.name, "Content-")) {
            append_crlf(pm.entity, f.whole);
            pm.entity += "\r\n";
            continue;
        }
        if (is_outer_only(f.name)) continue;
        if (iequals(f.name, "Date")) has_date = true;
        if (iequals(f.name, "Message-ID")) {
            if (f.value.find("=?") != std::string_view::npos) return std::nullopt;  // GMime decodes it
            has_id = true;
            pm.message_id = unfolded(f.value);
        }
        append_outer_field(pm.outer_headers, f.name, f.value);
    }
    complete_outer_headers(pm, has_date, has_id);
    pm.entity += "\r\n";
    append_canonical_body(pm.entity, top->body, *ends, *shape);
    return pm;
}

PreparedMessage prepare_message(std::string_view raw, const MimeLimits& limits) {
    if (auto pm = prepare_canonical(raw, limits)) return std::move(*pm);
    return prepare_with_gmime(raw, limits);
}

PreparedMessage prepare_with_gmime(std::string_view raw, const MimeLimits& limits) {
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
        if (is_content_header(name) || is_outer_only(name)) continue;
        if (strcasecmp(name, "Date") == 0) has_date = true;
        if (strcasecmp(name, "Message-ID") == 0) {
            has_id = true;
            const char* v = g_mime_header_get_value(h);
            pm.message_id = v ? v : "";
        }
        const char* rawv = g_mime_header_get_raw_value(h);
        std::string_view value = rawv ? rawv : "";
        if (has_eight_bit(value)) {  // raw UTF-8 in From/Subject/...: RFC 2047, like bodies get QP
            pm.outer_headers += encode_header_line(h);
            continue;
        }
        append_outer_field(pm.outer_headers, name, value);
    }
    complete_outer_headers(pm, has_date, has_id);

    GMimeObject* root = g_mime_message_get_mime_part(msg.get());
    // The protected entity always says what it is, even when the input
    // relied on the text/plain default.
    if (header_value(root, "Content-Type").empty())
        g_mime_object_set_header(root, "Content-Type", "text/plain; charset=us-ascii", nullptr);
    pm.reencoded_parts = make_seven_bit_safe(root);
    pm.entity = write_entity_crlf(root, raw.size());
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
