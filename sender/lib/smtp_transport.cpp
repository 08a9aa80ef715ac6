// smtp_transport.cpp: the "smtp" backend: injects each copy into an MTA
// (PowerMTA, Momentum, Postfix) with libcurl's SMTP client. One easy handle
// per transport (per worker thread), kept across messages, so a batch rides
// one connection; libcurl opens a new one after a failure (it closes a
// connection whose transaction failed). Every reply is captured from
// libcurl's debug stream (smtp_dialogue) and attributed per recipient
// (smtp_outcome). Trusts the configured server's certificate chain only
// through ca-file or the system bundle. Never throws for a delivery
// failure; the password goes to libcurl and nowhere else.
#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "curl_handle.hpp"
#include "errors.hpp"
#include "log.hpp"
#include "smtp_dialogue.hpp"
#include "smtp_outcome.hpp"
#include "smtp_settings.hpp"
#include "transport.hpp"

// Named CURLOPT_MAIL_RCPT_ALLLOWFAILS (sic) before curl 8.2, which renamed it
// and kept the old name as an alias; same option number either way.
#if LIBCURL_VERSION_NUM >= 0x080200
#define SEALPOST_MAIL_RCPT_ALLOWFAILS CURLOPT_MAIL_RCPT_ALLOWFAILS
#else
#define SEALPOST_MAIL_RCPT_ALLOWFAILS CURLOPT_MAIL_RCPT_ALLLOWFAILS
#endif

namespace sealpost {
namespace {

struct Upload {
    const std::string* data = nullptr;
    std::size_t offset = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t nitems, void* userp) {
    auto* up = static_cast<Upload*>(userp);
    std::size_t n = std::min(size * nitems, up->data->size() - up->offset);
    std::memcpy(buffer, up->data->data() + up->offset, n);
    up->offset += n;
    return n;
}

int on_debug(CURL*, curl_infotype type, char* data, std::size_t size, void* userp) {
    auto* dialogue = static_cast<SmtpDialogue*>(userp);
    if (type == CURLINFO_HEADER_OUT) dialogue->sent(std::string_view(data, size));
    else if (type == CURLINFO_HEADER_IN) dialogue->received(std::string_view(data, size));
    return 0;
}

class SmtpTransport final : public Transport {
public:
    explicit SmtpTransport(SmtpSettings settings) : settings_(std::move(settings)), handle_(make_curl_handle()) {
        CURL* h = handle_.get();
        url_ = settings_.curl_url();
        curl_easy_setopt(h, CURLOPT_URL, url_.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#endif
        curl_easy_setopt(h, CURLOPT_USE_SSL,
                         settings_.implicit_tls                      ? CURLUSESSL_ALL
                         : settings_.starttls == StartTls::Required ? CURLUSESSL_ALL
                         : settings_.starttls == StartTls::Auto     ? CURLUSESSL_TRY
                                                                    : CURLUSESSL_NONE);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        if (!settings_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, settings_.ca_file.c_str());
        if (!settings_.user.empty()) {
            curl_easy_setopt(h, CURLOPT_USERNAME, settings_.user.c_str());
            curl_easy_setopt(h, CURLOPT_PASSWORD, settings_.password.c_str());
        }
        // Deadlines: connecting, each server reply, and a stalled upload.
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, settings_.timeout_seconds);
        curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, settings_.timeout_seconds);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, settings_.timeout_seconds);
        curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(h, SEALPOST_MAIL_RCPT_ALLOWFAILS, 1L);
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_upload);
        curl_easy_setopt(h, CURLOPT_READDATA, &upload_);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_.data());
        // The debug stream is how the replies are seen; it is never printed as is.
        curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
        curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
        curl_easy_setopt(h, CURLOPT_DEBUGDATA, &dialogue_);
        if (!settings_.implicit_tls && settings_.starttls == StartTls::Off && !settings_.user.empty())
            log()->warn("smtp: starttls=off: the password for {} travels unencrypted", settings_.user);
        static std::atomic<bool> described{false};
        if (!described.exchange(true)) log()->info("smtp: relay {}", settings_.describe());
    }

    const char* name() const override { return "smtp"; }

    DeliveryResult deliver(const OutputCopy& copy) override {
        CURL* h = handle_.get();
        Trace trace = Trace::resume(copy.trace_id);
        dialogue_.start_message();
        error_[0] = '\0';
        upload_ = Upload{&copy.message, 0};
        std::string from = "<" + copy.mail_from + ">";
        CurlSlistPtr rcpts;
        for (const auto& r : copy.recipients) slist_append(rcpts, "<" + r.address + ">");
        curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
        curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts.get());
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(copy.message.size()));

        CURLcode rc = curl_easy_perform(h);
        long new_connections = 0;
        curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &new_connections);
        if (rc != CURLE_OK && new_connections == 0 && dialogue_.last_reply() == nullptr) {
            // A kept connection the server had closed meanwhile (idle limit,
            // messages-per-connection limit): not one reply came back, so the
            // server cannot have taken the message. Once more, on a new one.
            trace.info("smtp: the kept connection was closed by the server ({}); reconnecting",
                       curl_error_text(rc, error_.data()));
            dialogue_.start_message();
            error_[0] = '\0';
            upload_ = Upload{&copy.message, 0};
            rc = curl_easy_perform(h);
            curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &new_connections);
        }
        if (new_connections > 0) {
            ++connections_;
            on_connection_ = 0;
        }
        ++on_connection_;
        log_dialogue(trace);
        DeliveryResult result = smtp_outcome(rc, curl_error_text(rc, error_.data()), dialogue_.exchanges(), copy.recipients);
        curl_easy_setopt(h, CURLOPT_MAIL_RCPT, nullptr);  // `rcpts` dies here
        trace.info("smtp: connection {} ({}), message {} on it, tls={}, auth={}: {}", connections_,
                   new_connections > 0 ? "new" : "reused", on_connection_,
                   settings_.implicit_tls ? "implicit" : dialogue_.tls_started() ? "starttls" : "no",
                   settings_.user.empty() ? "none" : settings_.user, printable(result.detail, 300));
        return result;
    }

private:
    // Every command and reply at debug level (AUTH arguments are already hidden).
    void log_dialogue(Trace& trace) const {
        if (!log()->should_log(spdlog::level::debug)) return;
        for (const auto& e : dialogue_.exchanges())
            trace.debug("smtp: {} -> {} {}", e.stage(), e.code, printable(e.text, 200));
    }

    SmtpSettings settings_;
    CurlPtr handle_;
    std::string url_;
    SmtpDialogue dialogue_;
    Upload upload_;
    std::array<char, CURL_ERROR_SIZE> error_{};
    long connections_ = 0;    // connections this transport opened
    long on_connection_ = 0;  // messages on the current one
};

}  // namespace

std::unique_ptr<Transport> make_smtp_transport(const Config& config) {
    return std::make_unique<SmtpTransport>(SmtpSettings::from_config(config, [](const char* n) { return std::getenv(n); }));
}

}  // namespace sealpost
