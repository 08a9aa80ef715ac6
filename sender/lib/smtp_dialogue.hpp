// smtp_dialogue.hpp: the SMTP conversation of one message as libcurl ran
// it, rebuilt from libcurl's debug stream (commands out, replies in), so
// every reply can be attributed to the command it answers: each RCPT reply
// to its recipient, the final reply after the message data to the message.
// Trusts libcurl to report every command line it sends; treats replies as
// untrusted text (cut to a named limit). Never keeps credentials: AUTH
// arguments and SASL continuation lines are replaced by "(hidden)".
// Pure logic, no socket: unit-tested with recorded conversations.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sealpost {

struct SmtpExchange {
    std::string verb;      // EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, "." (end of data), "" (greeting)
    std::string argument;  // MAIL/RCPT: the address; AUTH: the mechanism; else ""
    int code = 0;          // reply code; 0 while no reply arrived
    std::string text;      // reply text, continuation lines joined with " "

    // "RCPT TO:<bob@example.com>", "end of data", "greeting", ...
    std::string stage() const;
};

class SmtpDialogue {
public:
    static constexpr std::size_t kMaxReplyText = 512;   // per reply, after joining lines
    static constexpr std::size_t kMaxExchanges = 4096;  // per message; more is a runaway peer

    // Forgets the exchanges of the previous message (the connection's
    // TLS/AUTH state stays: a reused connection keeps them).
    void start_message();

    // What libcurl sent (CURLINFO_HEADER_OUT) and received (CURLINFO_HEADER_IN);
    // chunks may hold several lines or part of one.
    void sent(std::string_view bytes);
    void received(std::string_view bytes);

    const std::vector<SmtpExchange>& exchanges() const { return exchanges_; }
    // Whether the connection carrying this message greeted us (a new one).
    bool new_connection() const { return greeted_; }
    bool tls_started() const { return tls_; }
    bool authenticated() const { return authenticated_; }
    // The last completed reply, or nullptr.
    const SmtpExchange* last_reply() const;

private:
    void on_command(std::string_view line);
    void on_reply(int code, std::string text);

    std::vector<SmtpExchange> exchanges_;
    std::string out_partial_, in_partial_;
    std::string reply_text_;   // lines of a multi-line reply so far
    bool greeted_ = false, tls_ = false, authenticated_ = false;
    bool in_auth_ = false;     // between AUTH and its final reply: client lines are credentials
};

}  // namespace sealpost
