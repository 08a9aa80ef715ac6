// smtp_protocol.cpp: SMTP commands and replies (RFC 5321, 1870, 2920, 3207, 6152).
#include "smtp_protocol.hpp"

#include <algorithm>
#include <cctype>

namespace sealpost {
namespace {

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

bool iequals_prefix(std::string_view line, std::string_view prefix) {
    if (line.size() < prefix.size()) return false;
    return upper(line.substr(0, prefix.size())) == prefix;
}

// "<addr> PARAM=x ..." after "MAIL FROM:" / "RCPT TO:": the path and params.
bool parse_path(std::string_view rest, std::string& path, std::string& params) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.empty() || rest.front() != '<') return false;
    auto close = rest.find('>');
    if (close == std::string_view::npos) return false;
    path = std::string(rest.substr(1, close - 1));
    params = std::string(rest.substr(close + 1));
    for (char c : path)
        if (static_cast<unsigned char>(c) < 0x20 || c == '<' || c == '>' || c == ' ') return false;
    return true;
}

}  // namespace

SmtpProtocol::SmtpProtocol(std::string hostname, SmtpLimits limits, bool tls_available, bool tls_active)
    : hostname_(std::move(hostname)), limits_(limits), tls_available_(tls_available), tls_active_(tls_active) {}

SmtpProtocol::Step SmtpProtocol::greeting() const { return {"220 " + hostname_ + " ESMTP sealpost\r\n", Event::None}; }

void SmtpProtocol::reset_transaction() {
    mail_from_.clear();
    recipients_.clear();
    data_.clear();
    data_too_big_ = false;
    if (state_ != State::Start) state_ = State::Greeted;
}

void SmtpProtocol::tls_started() {
    tls_active_ = true;
    state_ = State::Start;
    reset_transaction();
}

SmtpProtocol::Step SmtpProtocol::on_line(std::string_view line) {
    if (state_ == State::Closed) return {"", Event::Close};
    bool crlf = !line.empty() && line.back() == '\r';
    if (crlf) line.remove_suffix(1);
    if (state_ == State::Data) {
        // RFC 5321 section 2.3.8: CR and LF only as CR LF. Anything else in
        // DATA could be read as a message boundary by another MTA (SMTP
        // smuggling): refuse the message and end the session.
        if (!crlf || line.find('\r') != std::string_view::npos) {
            reset_transaction();
            state_ = State::Closed;
            return {std::string("554 5.5.2 bare ") + (crlf ? "CR" : "LF") +
                        " in message data: lines must end in CR LF; message refused\r\n",
                    Event::Close};
        }
        return data_line(line);
    }
    if (state_ == State::Waiting) return {"451 4.3.0 previous message still being processed\r\n", Event::None};
    if (line.size() > limits_.max_command_line) return {"500 5.5.2 line too long\r\n", Event::None};
    return command(line);
}

SmtpProtocol::Step SmtpProtocol::command(std::string_view line) {
    std::string verb = upper(line.substr(0, line.find(' ')));
    std::string_view arg = line.size() > verb.size() ? line.substr(verb.size() + 1) : std::string_view{};

    if (verb == "EHLO" || verb == "HELO") {
        if (arg.empty()) return {"501 5.5.4 " + verb + " needs a domain\r\n", Event::None};
        reset_transaction();
        state_ = State::Greeted;
        if (verb == "HELO") return {"250 " + hostname_ + "\r\n", Event::None};
        std::string r = "250-" + hostname_ + "\r\n";
        r += "250-SIZE " + std::to_string(limits_.max_message_bytes) + "\r\n";
        r += "250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n";
        if (tls_available_ && !tls_active_) r += "250-STARTTLS\r\n";
        r += "250 HELP\r\n";
        return {r, Event::None};
    }
    if (verb == "NOOP") return {"250 2.0.0 OK\r\n", Event::None};
    if (verb == "QUIT") return {"221 2.0.0 " + hostname_ + " closing connection\r\n", Event::Close};
    if (verb == "RSET") {
        reset_transaction();
        return {"250 2.0.0 OK\r\n", Event::None};
    }
    if (verb == "VRFY") return {"252 2.5.2 cannot VRFY, but will accept the message\r\n", Event::None};
    if (verb == "HELP") return {"214 2.0.0 commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY STARTTLS\r\n", Event::None};
    if (verb == "STARTTLS") {
        if (!tls_available_ || tls_active_) return {"502 5.5.1 STARTTLS not available\r\n", Event::None};
        if (!arg.empty()) return {"501 5.5.4 STARTTLS takes no argument\r\n", Event::None};
        return {"220 2.0.0 ready to start TLS\r\n", Event::StartTls};
    }
    if (verb == "MAIL") {
        if (state_ == State::Start) return {"503 5.5.1 send EHLO or HELO first\r\n", Event::None};
        if (state_ != State::Greeted) return {"503 5.5.1 nested MAIL command\r\n", Event::None};
        if (!iequals_prefix(line, "MAIL FROM:")) return {"501 5.5.4 syntax: MAIL FROM:<address>\r\n", Event::None};
        std::string path, params;
        if (!parse_path(line.substr(10), path, params)) return {"501 5.1.7 bad sender address syntax\r\n", Event::None};
        std::string up = upper(params);
        if (auto pos = up.find("SIZE="); pos != std::string::npos) {
            unsigned long long size = std::strtoull(up.c_str() + pos + 5, nullptr, 10);
            if (size > limits_.max_message_bytes)
                return {"552 5.3.4 message size exceeds the limit of " + std::to_string(limits_.max_message_bytes) + "\r\n",
                        Event::None};
        }
        mail_from_ = path;
        state_ = State::Mail;
        return {"250 2.1.0 sender OK\r\n", Event::None};
    }
    if (verb == "RCPT") {
        if (state_ != State::Mail) return {"503 5.5.1 need MAIL before RCPT\r\n", Event::None};
        if (!iequals_prefix(line, "RCPT TO:")) return {"501 5.5.4 syntax: RCPT TO:<address>\r\n", Event::None};
        std::string path, params;
        if (!parse_path(line.substr(8), path, params) || path.find('@') == std::string::npos)
            return {"501 5.1.3 bad recipient address syntax\r\n", Event::None};
        if (recipients_.size() >= limits_.max_recipients) return {"452 4.5.3 too many recipients\r\n", Event::None};
        recipients_.push_back(path);
        return {"250 2.1.5 recipient OK\r\n", Event::None};
    }
    if (verb == "DATA") {
        if (state_ != State::Mail) return {"503 5.5.1 need MAIL before DATA\r\n", Event::None};
        if (recipients_.empty()) return {"554 5.5.1 no valid recipients\r\n", Event::None};
        state_ = State::Data;
        data_.clear();
        return {"354 end data with <CR><LF>.<CR><LF>\r\n", Event::None};
    }
    return {"500 5.5.2 command not recognised\r\n", Event::None};
}

SmtpProtocol::Step SmtpProtocol::data_line(std::string_view line) {
    if (line == ".") {
        if (data_too_big_) {
            reset_transaction();
            return {"552 5.3.4 message size exceeds the limit of " + std::to_string(limits_.max_message_bytes) + "\r\n",
                    Event::None};
        }
        state_ = State::Waiting;
        return {"", Event::MessageReady};
    }
    if (!line.empty() && line.front() == '.') line.remove_prefix(1);  // dot-unstuffing
    if (data_too_big_) return {"", Event::None};
    if (data_.size() + line.size() + 2 > limits_.max_message_bytes) {
        data_too_big_ = true;
        data_.clear();
        data_.shrink_to_fit();
        return {"", Event::None};
    }
    data_.append(line);
    data_ += "\r\n";
    return {"", Event::None};
}

SmtpProtocol::Step SmtpProtocol::finish_message(const std::string& reply) {
    ++messages_;
    state_ = State::Greeted;
    mail_from_.clear();
    recipients_.clear();
    data_.clear();
    return {reply, Event::None};
}

}  // namespace sealpost
