// smtp_fuzz.cpp: libFuzzer target for the SMTP server state machine
// (sender/serve/smtp_protocol). The input is a client's byte stream, split
// into lines the way the listener splits it (at LF, the CR kept for the
// protocol to judge); every line must get a well-formed reply or none, the
// envelope and data stay within the limits, and nothing crashes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "log.hpp"
#include "smtp_protocol.hpp"

namespace {

// Every reply is one or more lines "ddd[ -]text\r\n".
bool well_formed(const std::string& reply) {
    std::size_t pos = 0;
    while (pos < reply.size()) {
        auto eol = reply.find("\r\n", pos);
        if (eol == std::string::npos || eol - pos < 3) return false;
        if (reply[pos] < '2' || reply[pos] > '5') return false;
        for (std::size_t i = pos + 1; i < pos + 3; ++i)
            if (reply[i] < '0' || reply[i] > '9') return false;
        if (eol - pos > 3 && reply[pos + 3] != ' ' && reply[pos + 3] != '-') return false;
        pos = eol + 2;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static bool quiet = (sealpost::log()->set_level(spdlog::level::off), true);
    (void)quiet;
    sealpost::SmtpLimits limits;
    limits.max_message_bytes = 4096;
    limits.max_recipients = 8;
    sealpost::SmtpProtocol smtp("fuzz.example", limits, /*tls_available=*/true);
    std::string_view in(reinterpret_cast<const char*>(data), size);
    while (!in.empty()) {
        auto lf = in.find('\n');
        std::string_view line = in.substr(0, lf);
        in = lf == std::string_view::npos ? std::string_view() : in.substr(lf + 1);
        auto step = smtp.on_line(line);
        if (!well_formed(step.reply)) std::abort();
        if (step.event == sealpost::SmtpProtocol::Event::Close) break;
        if (step.event == sealpost::SmtpProtocol::Event::StartTls) smtp.tls_started();
        if (step.event == sealpost::SmtpProtocol::Event::MessageReady) {
            if (smtp.recipients().empty() || smtp.recipients().size() > limits.max_recipients) std::abort();
            if (smtp.data().size() > limits.max_message_bytes + 2) std::abort();
            if (!well_formed(smtp.finish_message("250 2.0.0 accepted\r\n").reply)) std::abort();
        }
    }
    return 0;
}
