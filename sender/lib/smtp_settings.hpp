// smtp_settings.hpp: where and how to inject over SMTP, from config and the
// original tool's environment. Sources, first wins: flags (already copied
// into config by the command), [relay] smtp and [smtp] keys, then SMTP_HOST,
// SMTP_PORT, SMTP_USER, SMTP_PASSWORD. A relay URL of "env" (or one with no
// host, "smtp://") means "the host from SMTP_HOST", as the original did.
// Fails with Error(Config) naming the key and the reason. The password is
// kept for libcurl and never appears in describe().
#pragma once

#include <functional>
#include <string>

#include "config.hpp"

namespace sealpost {

enum class StartTls { Auto, Required, Off };

struct SmtpSettings {
    bool implicit_tls = false;   // smtps://
    std::string host;            // name, IPv4, or IPv6 without brackets
    int port = 25;
    StartTls starttls = StartTls::Auto;
    std::string user, password;  // empty user: no AUTH
    std::string ca_file;         // empty: the system bundle
    std::string helo;            // EHLO name
    long timeout_seconds = 60;   // connect, and every server reply

    // smtp://host:port/helo, the URL libcurl is given.
    std::string curl_url() const;
    // For the log: "smtp://host:25 starttls=auto user=alice password=********".
    std::string describe() const;

    using Env = std::function<const char*(const char*)>;
    static SmtpSettings from_config(const Config& config, const Env& env);
};

const char* starttls_name(StartTls mode);

}  // namespace sealpost
