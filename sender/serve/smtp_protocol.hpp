// smtp_protocol.hpp: the SMTP server dialogue of `sealpost serve` as a pure
// state machine: lines in, replies out, no sockets (so it is unit-tested
// line by line). EHLO/HELO, MAIL (SIZE=, BODY=), RCPT, DATA (dot-unstuffing,
// size limit -> 552 after the data), RSET, NOOP, QUIT,
// VRFY, HELP, STARTTLS (when offered). Pipelining works because replies are
// produced per line in order. Trusts nothing from the peer: every line has
// a length limit and every argument is checked.
// Only CR LF . CR LF ends DATA: a bare LF or a bare CR inside DATA (the
// SMTP smuggling vectors `\n.\r\n`, `\r\n.\n`, `\n.\n`) is answered
// 554 at once and the session is over (Event::Close; every later line is
// ignored), so no byte after it can ever become a second message. Commands
// may still end in a bare LF.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sealpost {

struct SmtpLimits {
    std::size_t max_message_bytes = 10 * 1024 * 1024;
    std::size_t max_recipients = 1000;
    std::size_t max_command_line = 2048;
};

class SmtpProtocol {
public:
    enum class Event { None, Close, StartTls, MessageReady };

    struct Step {
        std::string reply;  // CRLF-terminated lines, may be empty
        Event event = Event::None;
    };

    SmtpProtocol(std::string hostname, SmtpLimits limits, bool tls_available, bool tls_active = false);

    Step greeting() const;
    // One line as read, cut after its LF, the LF removed: a line that ended
    // in CR LF still ends in CR here (that is how bare LFs are told apart).
    Step on_line(std::string_view line);

    // After MessageReady: the envelope and the unstuffed data (CRLF).
    const std::string& mail_from() const { return mail_from_; }
    const std::vector<std::string>& recipients() const { return recipients_; }
    const std::string& data() const { return data_; }
    // The verdict on the message: reply text from the pipeline/transport.
    // Resets the transaction (RFC 5321: after DATA, as after RSET).
    Step finish_message(const std::string& reply);
    // After a successful TLS handshake: back to the greeting state (RFC 3207).
    void tls_started();

    bool in_data() const { return state_ == State::Data; }
    std::size_t message_count() const { return messages_; }

private:
    enum class State { Start, Greeted, Mail, Data, Waiting, Closed };
    Step command(std::string_view line);
    Step data_line(std::string_view line);
    void reset_transaction();

    std::string hostname_;
    SmtpLimits limits_;
    bool tls_available_;
    bool tls_active_;
    State state_ = State::Start;
    std::string mail_from_;
    std::vector<std::string> recipients_;
    std::string data_;
    bool data_too_big_ = false;
    std::size_t messages_ = 0;
};

}  // namespace sealpost
