// smtp_outcome.cpp: mapping a dialogue to a DeliveryResult (see the header).
#include "ascii.hpp"
#include "smtp_outcome.hpp"

#include <cctype>
#include <string>

#include "tls_failure.hpp"

namespace sealpost {
namespace {

using Status = DeliveryResult::Status;

std::string reply_line(const SmtpExchange& e) { return e.stage() + ": " + std::to_string(e.code) + " " + e.text; }

}  // namespace

DeliveryResult smtp_outcome(CURLcode code, std::string_view curl_error, const std::vector<SmtpExchange>& dialogue,
                            const std::vector<Mailbox>& recipients) {
    DeliveryResult result;
    // Each recipient's own RCPT reply, in order (an address listed twice gets two).
    std::vector<const SmtpExchange*> rcpt(recipients.size(), nullptr);
    std::vector<bool> used(dialogue.size(), false);
    for (std::size_t r = 0; r < recipients.size(); ++r)
        for (std::size_t i = 0; i < dialogue.size(); ++i)
            if (!used[i] && dialogue[i].verb == "RCPT" && iequals(dialogue[i].argument, recipients[r].address)) {
                rcpt[r] = &dialogue[i];
                used[i] = true;
                break;
            }
    const SmtpExchange* end_of_data = nullptr;
    const SmtpExchange* failed = nullptr;  // the first non-RCPT reply that is an error
    for (const auto& e : dialogue) {
        if (e.verb == ".") end_of_data = &e;
        if (!failed && e.verb != "RCPT" && e.code >= 400 && !(e.verb == "AUTH" && e.code == 334)) failed = &e;
    }

    if (code == CURLE_OK && end_of_data && end_of_data->code >= 200 && end_of_data->code < 300) {
        std::size_t accepted = 0;
        for (std::size_t r = 0; r < recipients.size(); ++r) {
            RecipientResult rr{recipients[r].address, 0, "", false};
            if (rcpt[r]) {
                rr.code = rcpt[r]->code;
                rr.text = rcpt[r]->text;
                rr.accepted = rcpt[r]->code >= 200 && rcpt[r]->code < 300;
            } else {
                rr.text = "no RCPT reply seen";
            }
            if (rr.accepted) ++accepted;
            result.recipients.push_back(std::move(rr));
        }
        result.detail = reply_line(*end_of_data);
        if (accepted < recipients.size()) {
            result.status = accepted == 0 ? Status::PermFail : Status::Partial;
            result.detail = std::to_string(accepted) + " of " + std::to_string(recipients.size()) +
                            " recipients accepted; " + result.detail;
        }
        return result;
    }

    // Failure. Recipients refused at RCPT keep their own reply; the others
    // share the reply (or connection problem) that ended the transaction.
    bool any_rcpt_temp = false, any_rcpt_refused = false, all_rcpt_refused = !recipients.empty();
    for (std::size_t r = 0; r < recipients.size(); ++r) {
        bool refused = rcpt[r] && rcpt[r]->code >= 400;
        if (refused) any_rcpt_refused = true;
        if (refused && rcpt[r]->code < 500) any_rcpt_temp = true;
        if (!refused) all_rcpt_refused = false;
    }
    int shared_code = 0;
    std::string shared_text;
    if (failed) {
        shared_code = failed->code;
        shared_text = failed->text;
        result.status = failed->code >= 500 ? Status::PermFail : Status::TempFail;
        result.detail = reply_line(*failed);
    } else if (all_rcpt_refused && any_rcpt_refused) {
        result.status = any_rcpt_temp ? Status::TempFail : Status::PermFail;
        result.detail = "no recipient accepted";
        for (std::size_t r = 0; r < recipients.size(); ++r) result.detail += "; " + reply_line(*rcpt[r]);
    } else {
        // No error reply: the connection failed, timed out, or TLS did not work.
        result.status = Status::TempFail;
        result.detail = std::string(curl_error);
        if (const SmtpExchange* last = [&]() -> const SmtpExchange* {
                for (auto it = dialogue.rbegin(); it != dialogue.rend(); ++it)
                    if (it->code != 0) return &*it;
                return nullptr;
            }())
            result.detail += " (last reply: " + reply_line(*last) + ")";
        if (tls_verification_failure(code)) {
            // The server's certificate: a configuration problem, not "later".
            // The fix first, so a shortened log line still shows it.
            result.status = Status::PermFail;
            result.detail = "the SMTP server's certificate cannot be verified: set --ca-file / [smtp] ca-file to the "
                            "CA certificate that issued it (default: the system bundle); retrying will not help: " +
                            result.detail;
        }
        shared_text = std::string(curl_error);
    }
    for (std::size_t r = 0; r < recipients.size(); ++r) {
        if (rcpt[r] && rcpt[r]->code >= 400)
            result.recipients.push_back({recipients[r].address, rcpt[r]->code, rcpt[r]->text, false});
        else
            result.recipients.push_back({recipients[r].address, shared_code, shared_text, false});
    }
    return result;
}

}  // namespace sealpost
