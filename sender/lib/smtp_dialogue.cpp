// smtp_dialogue.cpp: rebuilding the command/reply pairs (see the header).
#include "smtp_dialogue.hpp"

#include <algorithm>
#include <cctype>

#include "log.hpp"

namespace sealpost {
namespace {

std::string upper(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}

// "<bob@example.com> SIZE=123" -> "bob@example.com"
std::string angle_address(std::string_view arg) {
    auto open = arg.find('<');
    auto close = arg.find('>', open == std::string_view::npos ? 0 : open);
    if (open == std::string_view::npos || close == std::string_view::npos) return std::string(arg);
    return std::string(arg.substr(open + 1, close - open - 1));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string SmtpExchange::stage() const {
    if (verb.empty()) return "greeting";
    if (verb == ".") return "end of data";
    if (verb == "MAIL") return "MAIL FROM:<" + argument + ">";
    if (verb == "RCPT") return "RCPT TO:<" + argument + ">";
    if (verb == "AUTH") return argument.empty() ? "AUTH" : "AUTH " + argument;
    return verb;
}

void SmtpDialogue::start_message() {
    exchanges_.clear();
    out_partial_.clear();
    in_partial_.clear();
    reply_text_.clear();
    greeted_ = false;
    in_auth_ = false;
}

const SmtpExchange* SmtpDialogue::last_reply() const {
    for (auto it = exchanges_.rbegin(); it != exchanges_.rend(); ++it)
        if (it->code != 0) return &*it;
    return nullptr;
}

void SmtpDialogue::sent(std::string_view bytes) {
    out_partial_.append(bytes);
    std::size_t eol;
    while ((eol = out_partial_.find('\n')) != std::string::npos) {
        std::string line = out_partial_.substr(0, eol);
        out_partial_.erase(0, eol + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        on_command(line);
    }
}

void SmtpDialogue::received(std::string_view bytes) {
    in_partial_.append(bytes);
    std::size_t eol;
    while ((eol = in_partial_.find('\n')) != std::string::npos) {
        std::string line = in_partial_.substr(0, eol);
        in_partial_.erase(0, eol + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        // "250-first", "250 last", "250" (bare code ends a reply too)
        if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2])) continue;
        bool more = line.size() > 3 && line[3] == '-';
        std::string_view text = line.size() > 4 ? std::string_view(line).substr(4) : std::string_view();
        if (!reply_text_.empty()) reply_text_ += ' ';
        if (reply_text_.size() < kMaxReplyText) reply_text_.append(text);
        if (more) continue;
        int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        std::string full = printable(reply_text_, kMaxReplyText);
        reply_text_.clear();
        on_reply(code, std::move(full));
    }
}

void SmtpDialogue::on_command(std::string_view line) {
    if (exchanges_.size() >= kMaxExchanges) return;
    SmtpExchange ex;
    if (in_auth_) {
        ex.verb = "AUTH";
        ex.argument = "(hidden)";  // a SASL continuation: user name, password, or both
        exchanges_.push_back(std::move(ex));
        return;
    }
    auto space = line.find(' ');
    ex.verb = upper(line.substr(0, space));
    std::string_view arg = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
    if (ex.verb == "MAIL" || ex.verb == "RCPT") {
        ex.argument = printable(angle_address(arg), 320);
    } else if (ex.verb == "AUTH") {
        ex.argument = upper(arg.substr(0, arg.find(' ')));  // the mechanism; never the initial response
        in_auth_ = true;
    } else if (ex.verb == "EHLO" || ex.verb == "HELO") {
        ex.argument = printable(arg, 255);
    }
    exchanges_.push_back(std::move(ex));
}

void SmtpDialogue::on_reply(int code, std::string text) {
    // The oldest command still waiting answers first (libcurl does not pipeline).
    auto waiting = std::find_if(exchanges_.begin(), exchanges_.end(), [](const SmtpExchange& e) { return e.code == 0; });
    SmtpExchange* target = nullptr;
    if (waiting != exchanges_.end()) {
        target = &*waiting;
    } else if (exchanges_.size() < kMaxExchanges) {
        // No command waiting: the greeting of a new connection, or the reply
        // to the end of the message data (libcurl sends "." as data, not as a
        // command), or something unsolicited (a 421 before closing).
        SmtpExchange ex;
        if (!exchanges_.empty() && exchanges_.back().verb == "DATA" && exchanges_.back().code == 354) {
            ex.verb = ".";
        } else if (exchanges_.empty()) {
            ex.verb = "";
            greeted_ = true;
            tls_ = false;
            authenticated_ = false;
        } else {
            ex.verb = "(unsolicited)";
        }
        exchanges_.push_back(std::move(ex));
        target = &exchanges_.back();
    } else {
        return;
    }
    target->code = code;
    target->text = std::move(text);
    if (target->verb == "STARTTLS" && code == 220) tls_ = true;
    if (target->verb == "AUTH") {
        if (code != 334) in_auth_ = false;
        if (code == 235) authenticated_ = true;
    }
}

}  // namespace sealpost
