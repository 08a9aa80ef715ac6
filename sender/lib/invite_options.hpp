// invite_options.hpp: `[invite]` (issue 13) and the templates of the mails
// it sends: the invitation to an address without a usable certificate, the
// renewal invitation (expiring or revoked certificate) and the confirmation
// (encrypted to a certificate just collected). Everything is checked when
// read, so a broken template or value is exit 78 at start, never a failure
// at send time.
//
// A template file: header lines (Subject: is required; From, To, Cc, Bcc,
// MIME-Version and Content-* are ours and refused), a blank line, the text
// body, and optionally a line `--- html ---` followed by an HTML body
// (then the mail is multipart/alternative). Placeholders anywhere:
// {address} {collect_address} {from} {not_after} {reason} {domain};
// `{{` and `}}` are literal braces; any other {name} is an error naming the
// file and line. Values are HTML-escaped in the HTML body.
#pragma once

#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config.hpp"

namespace sealpost {

// "30d", "12h", "45m", "90s", "2w" or plain seconds; nullopt when unreadable.
std::optional<long long> parse_invite_duration(std::string_view text);

class InviteTemplate {
public:
    // Error(Config) naming `origin` (a path, or "built-in ...") and the line.
    static InviteTemplate parse(std::string_view text, const std::string& origin);
    static InviteTemplate load(const std::string& path);  // Error(Config) when unreadable or broken

    // A complete RFC 5322 message (CRLF): From, To, the template's headers,
    // Auto-Submitted: auto-generated, the MIME body. No Date or Message-ID:
    // the send pipeline adds its own.
    std::string render(const std::string& from, const std::string& to,
                       const std::map<std::string, std::string>& values) const;

    const std::string& origin() const { return origin_; }

private:
    std::string origin_;
    std::vector<std::pair<std::string, std::string>> headers_;
    std::string text_;
    std::string html_;
};

// The built-in templates (the same text as examples/invite.tmpl,
// examples/renew.tmpl, examples/confirm.tmpl).
std::string_view default_invite_template();
std::string_view default_renew_template();
std::string_view default_confirm_template();

struct InviteOptions {
    bool enabled = false;           // [invite] enabled
    std::string collect_address;    // where customers send their signed mail (required when enabled or confirm)
    std::string from;               // the signing service identity (required when enabled or confirm)
    InviteTemplate invite, renew, confirm_template;
    long long interval = 30 * 86400;      // never invite one address more often
    long long max_per_day = 100;          // 0: no limit
    long long renew_before = 30 * 86400;  // renewal invitation this long before notAfter
    bool confirm = false;                 // [invite] confirm: the collector's confirmation mail
    long long run_every = 600;            // serve: seconds between background runs
    std::vector<std::string> exclude;     // addresses and domains (lowercase), never invited

    // Error(Config) for anything wrong; templates loaded and checked.
    static InviteOptions from_config(const Config& config);

    // The address, or its domain or a parent domain, is in `exclude`.
    bool excluded(std::string_view address) const;
};

}  // namespace sealpost
