// dsn.cpp: RFC 3464 delivery status notifications, built as text.
#include "dsn.hpp"

#include <cctype>

namespace sealpost {
namespace {

// One header-safe line: printable ASCII only (others become '?'), no CR/LF,
// at most `max` bytes.
std::string clean(std::string_view s, std::size_t max = 900) {
    std::string out;
    for (char ch : s) {
        if (out.size() >= max) break;
        auto c = static_cast<unsigned char>(ch);
        if (c == '\r' || c == '\n' || c == '\t') out += ' ';
        else if (c < 0x20 || c >= 0x7f) out += '?';
        else out += ch;
    }
    return out;
}

std::string rfc5322_date(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return buf;
}

bool is_digits(std::string_view s, std::size_t min, std::size_t max) {
    if (s.size() < min || s.size() > max) return false;
    for (char c : s)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

// The original's header block (up to the first empty line), 7-bit, lines
// CRLF, at most 64 KiB.
std::string header_block(std::string_view original) {
    auto end = original.find("\r\n\r\n");
    std::string_view head = original.substr(0, end == std::string_view::npos ? original.size() : end + 2);
    if (head.size() > 64 * 1024) head = head.substr(0, 64 * 1024);
    std::string out;
    std::size_t start = 0;
    while (start < head.size()) {
        auto nl = head.find('\n', start);
        std::string_view line = head.substr(start, nl == std::string_view::npos ? head.size() - start : nl - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        out += clean(line, 998) + "\r\n";
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }
    return out;
}

}  // namespace

std::string dsn_status(int code, std::string_view text) {
    auto sp = text.find(' ');
    std::string_view first = text.substr(0, sp);
    auto d1 = first.find('.');
    auto d2 = d1 == std::string_view::npos ? d1 : first.find('.', d1 + 1);
    if (d2 != std::string_view::npos && (first[0] == '4' || first[0] == '5') && d1 == 1 &&
        is_digits(first.substr(2, d2 - 2), 1, 3) && is_digits(first.substr(d2 + 1), 1, 3))
        return std::string(first);
    return code >= 400 && code < 500 ? "4.0.0" : "5.0.0";
}

std::string build_dsn(const DsnRequest& r) {
    const std::string mta = clean(r.reporting_mta, 255);
    const std::string boundary = "sealpost-dsn-" + clean(r.unique, 64);
    std::string out;
    out += "From: Mail Delivery System <MAILER-DAEMON@" + mta + ">\r\n";
    out += "To: <" + clean(r.envelope_sender, 300) + ">\r\n";
    out += "Subject: Undelivered Mail Returned to Sender\r\n";
    out += "Date: " + rfc5322_date(r.now) + "\r\n";
    out += "Message-ID: <dsn." + clean(r.unique, 64) + "@" + mta + ">\r\n";
    out += "Auto-Submitted: auto-replied\r\n";
    out += "MIME-Version: 1.0\r\n";
    out += "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"" + boundary + "\"\r\n";
    out += "\r\nThis is a MIME-encapsulated delivery status notification.\r\n";

    out += "\r\n--" + boundary + "\r\n";
    out += "Content-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n";
    out += "This is the mail system at host " + mta + ".\r\n\r\n";
    out += "Your message was accepted, but the next mail server permanently\r\n"
           "refused it for the recipient(s) below. It will not be delivered to them.\r\n\r\n";
    for (const auto& f : r.failures) {
        out += "<" + clean(f.recipient, 300) + ">: ";
        out += f.code ? std::to_string(f.code) + " " + clean(f.text) : clean(f.text);
        out += "\r\n";
    }

    out += "\r\n--" + boundary + "\r\n";
    out += "Content-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n";
    out += "Reporting-MTA: dns; " + mta + "\r\n";
    out += "Arrival-Date: " + rfc5322_date(r.arrival) + "\r\n";
    for (const auto& f : r.failures) {
        out += "\r\n";
        out += "Final-Recipient: rfc822; " + clean(f.recipient, 300) + "\r\n";
        out += "Action: failed\r\n";
        out += "Status: " + dsn_status(f.code, f.text) + "\r\n";
        if (f.code)
            out += "Diagnostic-Code: smtp; " + std::to_string(f.code) + " " + clean(f.text) + "\r\n";
        else
            out += "Diagnostic-Code: x-sealpost; " + clean(f.text) + "\r\n";
        out += "Last-Attempt-Date: " + rfc5322_date(r.now) + "\r\n";
    }

    out += "\r\n--" + boundary + "\r\n";
    out += "Content-Description: Undelivered Message Headers\r\nContent-Type: text/rfc822-headers\r\n\r\n";
    out += header_block(r.original);
    out += "\r\n--" + boundary + "--\r\n";
    return out;
}

}  // namespace sealpost
