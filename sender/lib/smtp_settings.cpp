// smtp_settings.cpp: parsing the relay URL and the [smtp] keys (see the header).
#include "smtp_settings.hpp"

#include <unistd.h>

#include <cctype>
#include <climits>

#include "errors.hpp"

namespace sealpost {
namespace {

[[noreturn]] void bad(const std::string& what) { fail(ErrorKind::Config, "smtp: " + what); }

int parse_port(const std::string& text, const std::string& where) {
    if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos)
        bad(where + ": '" + text + "' is not a port number");
    int port = std::stoi(text);
    if (port < 1 || port > 65535) bad(where + ": port " + text + " is out of range");
    return port;
}

bool valid_host(const std::string& host) {
    if (host.empty() || host.size() > 253) return false;
    for (char c : host)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '_')) return false;
    return true;
}

std::string hostname_or_localhost() {
    char name[HOST_NAME_MAX + 1] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || !valid_host(name)) return "localhost";
    return name;
}

}  // namespace

const char* starttls_name(StartTls mode) {
    switch (mode) {
        case StartTls::Auto: return "auto";
        case StartTls::Required: return "required";
        case StartTls::Off: return "off";
    }
    return "?";
}

std::string SmtpSettings::curl_url() const {
    bool v6 = host.find(':') != std::string::npos;
    return std::string(implicit_tls ? "smtps://" : "smtp://") + (v6 ? "[" + host + "]" : host) + ":" +
           std::to_string(port) + "/" + helo;
}

std::string SmtpSettings::describe() const {
    bool v6 = host.find(':') != std::string::npos;
    std::string d = std::string(implicit_tls ? "smtps://" : "smtp://") + (v6 ? "[" + host + "]" : host) + ":" +
                    std::to_string(port);
    d += implicit_tls ? " tls=implicit" : std::string(" starttls=") + starttls_name(starttls);
    d += " helo=" + helo;
    if (!user.empty()) d += " user=" + user + " password=" + (password.empty() ? "(none)" : "********");
    if (!ca_file.empty()) d += " ca-file=" + ca_file;
    return d;
}

SmtpSettings SmtpSettings::from_config(const Config& config, const Env& env) {
    auto getenv_str = [&](const char* name) -> std::string {
        const char* v = env(name);
        return v ? v : "";
    };
    SmtpSettings s;
    std::string url = config.get_or("relay", "smtp", "env");
    std::string rest;
    if (url == "env") {
        rest.clear();
    } else if (url.rfind("smtp://", 0) == 0) {
        rest = url.substr(7);
    } else if (url.rfind("smtps://", 0) == 0) {
        s.implicit_tls = true;
        rest = url.substr(8);
    } else {
        bad("[relay] smtp = '" + url + "': use smtp://host[:port], smtps://host[:port] or env (SMTP_HOST, SMTP_PORT)");
    }
    if (auto slash = rest.find('/'); slash != std::string::npos) {
        if (rest.find_first_not_of('/', slash) != std::string::npos)
            bad("[relay] smtp = '" + url + "': no path allowed (the EHLO name is [smtp] helo)");
        rest.erase(slash);
    }
    if (rest.find('@') != std::string::npos)
        bad("[relay] smtp: no credentials in the URL; use [smtp] user and password, or SMTP_USER and SMTP_PASSWORD");
    std::string port_text;
    bool from_env = rest.empty();
    if (from_env) {
        s.host = getenv_str("SMTP_HOST");
        if (s.host.empty()) bad("no SMTP server: give --smtp smtp://host[:port] or [relay] smtp, or set SMTP_HOST");
        port_text = getenv_str("SMTP_PORT");
        if (!valid_host(s.host)) bad("SMTP_HOST='" + s.host + "' is not a host name");
        if (!port_text.empty()) s.port = parse_port(port_text, "SMTP_PORT");
        else s.port = s.implicit_tls ? 465 : 25;
    } else {
        std::string hostport = rest;
        if (hostport.front() == '[') {
            auto close = hostport.find(']');
            if (close == std::string::npos) bad("[relay] smtp = '" + url + "': unbalanced [");
            s.host = hostport.substr(1, close - 1);
            if (close + 1 < hostport.size()) {
                if (hostport[close + 1] != ':') bad("[relay] smtp = '" + url + "': expected :port after ]");
                port_text = hostport.substr(close + 2);
            }
        } else if (auto colon = hostport.find(':'); colon != std::string::npos) {
            s.host = hostport.substr(0, colon);
            port_text = hostport.substr(colon + 1);
        } else {
            s.host = hostport;
        }
        if (!valid_host(s.host)) bad("[relay] smtp = '" + url + "': '" + s.host + "' is not a host name");
        s.port = port_text.empty() ? (s.implicit_tls ? 465 : 25) : parse_port(port_text, "[relay] smtp");
    }

    std::string mode = config.get_or("smtp", "starttls", "auto");
    if (mode == "auto") s.starttls = StartTls::Auto;
    else if (mode == "required") s.starttls = StartTls::Required;
    else if (mode == "off") s.starttls = StartTls::Off;
    else bad("[smtp] starttls = '" + mode + "': use auto, required or off");

    s.user = config.get_or("smtp", "user", getenv_str("SMTP_USER"));
    s.password = config.get_or("smtp", "password", getenv_str("SMTP_PASSWORD"));
    if (!s.user.empty() && s.password.empty()) bad("user '" + s.user + "' has no password: [smtp] password or SMTP_PASSWORD");
    s.ca_file = config.get_or("smtp", "ca-file", "");
    if (!s.ca_file.empty() && ::access(s.ca_file.c_str(), R_OK) != 0)
        bad("[smtp] ca-file " + s.ca_file + " cannot be read");
    s.helo = config.get_or("smtp", "helo", hostname_or_localhost());
    if (!valid_host(s.helo)) bad("[smtp] helo = '" + s.helo + "' is not a host name");
    long long t = config.get_size("smtp", "timeout", 60);
    if (t < 1 || t > 3600) bad("[smtp] timeout must be 1..3600 seconds");
    s.timeout_seconds = static_cast<long>(t);
    return s;
}

}  // namespace sealpost
