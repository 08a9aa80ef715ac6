// invite_options.cpp: [invite] and the templates (see the header).
#include "invite_options.hpp"

#include <algorithm>
#include <cctype>
#include <random>
#include <set>

#include "address.hpp"
#include "ascii.hpp"
#include "atomic_file.hpp"
#include "errors.hpp"
#include "log.hpp"

namespace sealpost {
namespace {

const std::set<std::string, std::less<>> kPlaceholders = {"address", "collect_address", "from", "not_after",
                                                         "reason", "reason_text", "domain"};
const char* const kOurHeaders[] = {"from", "to", "cc", "bcc", "mime-version", "auto-submitted", "date"};

std::string html_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

// Checks every {name} of `text` (line numbers counted from `first_line`).
void check_placeholders(std::string_view text, const std::string& origin, int first_line) {
    int line = first_line;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\n') ++line;
        if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
            ++i;
            continue;
        }
        if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
            ++i;
            continue;
        }
        if (c == '}')
            fail(ErrorKind::Config, "invite: template " + origin + ":" + std::to_string(line) +
                                        ": a lone '}' (write }} for a brace)");
        if (c != '{') continue;
        auto close = text.find('}', i);
        auto nl = text.find('\n', i);
        if (close == std::string_view::npos || (nl != std::string_view::npos && nl < close))
            fail(ErrorKind::Config, "invite: template " + origin + ":" + std::to_string(line) +
                                        ": '{' without '}' (write {{ for a brace)");
        std::string name(text.substr(i + 1, close - i - 1));
        if (!kPlaceholders.count(name)) {
            std::string known;
            for (const auto& k : kPlaceholders) known += (known.empty() ? "{" : ", {") + k + "}";
            fail(ErrorKind::Config, "invite: template " + origin + ":" + std::to_string(line) +
                                        ": unknown placeholder {" + printable(name, 40) + "} (known: " + known + ")");
        }
        i = close;
    }
}

std::string substitute(std::string_view text, const std::map<std::string, std::string>& values, bool html) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
            out += c;
            ++i;
            continue;
        }
        if (c != '{') {
            out += c;
            continue;
        }
        auto close = text.find('}', i);
        std::string name(text.substr(i + 1, close - i - 1));
        auto it = values.find(name);
        std::string v = it == values.end() ? "" : it->second;
        out += html ? html_escape(v) : v;
        i = close;
    }
    return out;
}

std::string crlf(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r') continue;
        if (s[i] == '\n') out += "\r\n";
        else out += s[i];
    }
    if (out.size() < 2 || out.substr(out.size() - 2) != "\r\n") out += "\r\n";
    return out;
}

std::string boundary() {
    static const char* hex = "0123456789abcdef";
    std::random_device rd;
    std::string b = "=_sealpost_";
    for (int i = 0; i < 24; ++i) b += hex[rd() % 16];
    return b;
}

std::vector<std::string> split_list(std::string_view s) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == ',' || c == ' ' || c == '\t' || c == ';') {
            if (!cur.empty()) out.push_back(ascii_lower(cur));
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) out.push_back(ascii_lower(cur));
    return out;
}

long long duration_key(const Config& config, const char* key, long long fallback) {
    auto v = config.get("invite", key);
    if (!v || v->empty()) return fallback;
    auto d = parse_invite_duration(*v);
    if (!d || *d < 0)
        fail(ErrorKind::Config, std::string("config: [invite] ") + key + " = '" + *v +
                                    "' is not a duration (use e.g. 30d, 12h, 90m, 3600)");
    return *d;
}

}  // namespace

std::optional<long long> parse_invite_duration(std::string_view text) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    if (text.empty()) return std::nullopt;
    long long mult = 1;
    char unit = static_cast<char>(std::tolower(static_cast<unsigned char>(text.back())));
    if (!std::isdigit(static_cast<unsigned char>(unit))) {
        switch (unit) {
            case 's': mult = 1; break;
            case 'm': mult = 60; break;
            case 'h': mult = 3600; break;
            case 'd': mult = 86400; break;
            case 'w': mult = 7 * 86400; break;
            default: return std::nullopt;
        }
        text.remove_suffix(1);
    }
    if (text.empty() || text.size() > 12) return std::nullopt;
    long long n = 0;
    for (char c : text) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
        n = n * 10 + (c - '0');
    }
    return n * mult;
}

InviteTemplate InviteTemplate::parse(std::string_view text, const std::string& origin) {
    InviteTemplate t;
    t.origin_ = origin;
    std::string s;
    for (char c : text)
        if (c != '\r') s += c;
    std::size_t pos = 0;
    int line = 0;
    bool subject = false;
    // Headers up to the first blank line.
    while (true) {
        if (pos >= s.size())
            fail(ErrorKind::Config, "invite: template " + origin + ": no blank line between the headers and the body");
        auto eol = s.find('\n', pos);
        std::string l = s.substr(pos, (eol == std::string::npos ? s.size() : eol) - pos);
        pos = eol == std::string::npos ? s.size() : eol + 1;
        ++line;
        if (l.empty()) break;
        if ((l[0] == ' ' || l[0] == '\t') && !t.headers_.empty()) {
            t.headers_.back().second += "\n" + l;
            continue;
        }
        auto colon = l.find(':');
        if (colon == std::string::npos || colon == 0)
            fail(ErrorKind::Config, "invite: template " + origin + ":" + std::to_string(line) +
                                        ": not a header line (Name: value), and no blank line before the body");
        std::string name = l.substr(0, colon);
        for (char c : name)
            if (c <= ' ' || c >= 127)
                fail(ErrorKind::Config, "invite: template " + origin + ":" + std::to_string(line) + ": bad header name");
        std::string lower = ascii_lower(name);
        if (lower.rfind("content-", 0) == 0 ||
            std::find(std::begin(kOurHeaders), std::end(kOurHeaders), lower) != std::end(kOurHeaders))
            fail(ErrorKind::Config, "invite: template " + origin + ":" + std::to_string(line) + ": " + name +
                                        ": is set by sealpost, not by the template");
        if (lower == "subject") subject = true;
        std::string value = l.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.erase(0, 1);
        check_placeholders(value, origin, line);
        t.headers_.emplace_back(name, value);
    }
    if (!subject) fail(ErrorKind::Config, "invite: template " + origin + ": no Subject: header");
    std::string body = s.substr(pos);
    const std::string sep = "--- html ---";
    std::size_t at = std::string::npos;
    for (std::size_t p = 0; p < body.size();) {
        auto eol = body.find('\n', p);
        std::string_view l(body.data() + p, (eol == std::string::npos ? body.size() : eol) - p);
        if (l == sep) {
            at = p;
            break;
        }
        p = eol == std::string::npos ? body.size() : eol + 1;
    }
    if (at != std::string::npos) {
        t.text_ = body.substr(0, at);
        auto after = body.find('\n', at);
        t.html_ = after == std::string::npos ? "" : body.substr(after + 1);
        if (t.html_.find_first_not_of(" \t\n") == std::string::npos)
            fail(ErrorKind::Config, "invite: template " + origin + ": empty HTML body after '--- html ---'");
    } else {
        t.text_ = body;
    }
    if (t.text_.find_first_not_of(" \t\n") == std::string::npos)
        fail(ErrorKind::Config, "invite: template " + origin + ": empty text body");
    check_placeholders(t.text_, origin, line + 1);
    check_placeholders(t.html_, origin, line + 1);
    return t;
}

InviteTemplate InviteTemplate::load(const std::string& path) {
    std::optional<std::string> text;
    try {
        text = read_file(path, 1024 * 1024);
    } catch (const Error& e) {
        fail(ErrorKind::Config, std::string("invite: template ") + path + ": " + e.what());
    }
    if (!text) fail(ErrorKind::Config, "invite: template " + path + ": no such file");
    return parse(*text, path);
}

std::string InviteTemplate::render(const std::string& from, const std::string& to,
                                   const std::map<std::string, std::string>& values) const {
    std::string m = "From: <" + from + ">\r\nTo: <" + to + ">\r\n";
    for (const auto& [name, value] : headers_) {
        std::string v = substitute(value, values, false);
        // A value may not add header lines of its own.
        std::string one;
        for (char c : v) one += (c == '\n' || c == '\r') ? ' ' : c;
        m += name + ": " + one + "\r\n";
    }
    m += "Auto-Submitted: auto-generated\r\nX-Auto-Response-Suppress: All\r\nMIME-Version: 1.0\r\n";
    std::string text = crlf(substitute(text_, values, false));
    if (html_.empty()) {
        m += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + text;
        return m;
    }
    std::string b = boundary();
    m += "Content-Type: multipart/alternative; boundary=\"" + b + "\"\r\n\r\n";
    m += "--" + b + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + text;
    m += "--" + b + "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
         crlf(substitute(html_, values, true));
    m += "--" + b + "--\r\n";
    return m;
}

InviteOptions InviteOptions::from_config(const Config& config) {
    InviteOptions o;
    o.enabled = config.get_bool("invite", "enabled", false);
    o.confirm = config.get_bool("invite", "confirm", false);
    auto address_key = [&](const char* key) {
        std::string v = config.get_or("invite", key, "");
        if (v.empty()) {
            if (o.enabled || o.confirm)
                fail(ErrorKind::Config, std::string("config: [invite] ") + key +
                                            " is required when [invite] enabled or confirm is yes");
            return v;
        }
        try {
            return normalise_address(v);
        } catch (const Error& e) {
            fail(ErrorKind::Config, std::string("config: [invite] ") + key + " = '" + printable(v, 80) +
                                        "' is not an address: " + e.what());
        }
    };
    o.collect_address = address_key("collect-address");
    o.from = address_key("from");
    auto tmpl = [&](const char* key, std::string_view builtin, const char* name) {
        auto path = config.get_or("invite", key, "");
        return path.empty() ? InviteTemplate::parse(builtin, std::string("built-in ") + name) : InviteTemplate::load(path);
    };
    o.invite = tmpl("template", default_invite_template(), "invite.tmpl");
    o.renew = tmpl("renew-template", default_renew_template(), "renew.tmpl");
    o.confirm_template = tmpl("confirm-template", default_confirm_template(), "confirm.tmpl");
    o.interval = duration_key(config, "interval", o.interval);
    o.renew_before = duration_key(config, "renew-before", o.renew_before);
    o.run_every = duration_key(config, "run-every", o.run_every);
    if (o.run_every < 1) fail(ErrorKind::Config, "config: [invite] run-every must be at least 1 second");
    o.max_per_day = config.get_size("invite", "max-per-day", o.max_per_day);
    for (auto& e : split_list(config.get_or("invite", "exclude", ""))) {
        if (e.front() == '@' || e.front() == '.') e.erase(0, 1);
        if (e.empty()) continue;
        o.exclude.push_back(e);
    }
    return o;
}

bool InviteOptions::excluded(std::string_view address) const {
    std::string a = ascii_lower(address);
    auto at = a.rfind('@');
    std::string domain = at == std::string::npos ? "" : a.substr(at + 1);
    for (const auto& e : exclude) {
        if (e == a) return true;
        if (e.find('@') != std::string::npos) continue;
        if (domain == e) return true;
        if (domain.size() > e.size() && domain.compare(domain.size() - e.size(), e.size(), e) == 0 &&
            domain[domain.size() - e.size() - 1] == '.')
            return true;
    }
    return false;
}

}  // namespace sealpost
