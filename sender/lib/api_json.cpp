// api_json.cpp: request and response JSON for the transmissions API (see the header).
#include "api_json.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "log.hpp"

namespace sealpost {
namespace {

using json = nlohmann::json;
using Status = DeliveryResult::Status;

constexpr std::size_t kMaxErrorText = 500;

}  // namespace

std::string transmission_request(const OutputCopy& copy, const std::string& campaign, bool track) {
    bool tracking = track && !copy.signed_ && !copy.encrypted;
    json recipients = json::array();
    for (const auto& r : copy.recipients) {
        json address = {{"email", r.address}};
        if (!r.name.empty()) address["name"] = r.name;
        recipients.push_back({{"address", address}});
    }
    json body = {
        {"campaign_id", campaign},
        {"recipients", recipients},
        {"content", {{"email_rfc822", copy.message}}},
        {"options", {{"open_tracking", tracking}, {"click_tracking", tracking}, {"transactional", true}}},
    };
    // Invalid UTF-8 (a raw 8-bit body) becomes U+FFFD rather than an exception;
    // sealpost's own output is 7-bit.
    return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool api_status_retryable(long http_status) { return http_status == 429 || http_status >= 500; }

std::string api_error_text(std::string_view body) {
    json parsed = json::parse(body, nullptr, false);
    std::string text;
    if (!parsed.is_discarded() && parsed.is_object() && parsed.contains("errors") && parsed["errors"].is_array()) {
        for (const auto& e : parsed["errors"]) {
            if (!e.is_object()) continue;
            std::string one;
            if (e.contains("message") && e["message"].is_string()) one = e["message"].get<std::string>();
            if (e.contains("description") && e["description"].is_string())
                one += (one.empty() ? "" : ": ") + e["description"].get<std::string>();
            if (e.contains("code") && e["code"].is_string()) one += " (code " + e["code"].get<std::string>() + ")";
            if (one.empty()) continue;
            if (!text.empty()) text += "; ";
            text += one;
        }
    }
    if (text.empty()) text = body.empty() ? "(empty body)" : std::string(body);
    return printable(text, kMaxErrorText);
}

DeliveryResult api_outcome(long http_status, std::string_view body, const OutputCopy& copy) {
    DeliveryResult result;
    const std::size_t sent = copy.recipients.size();
    auto all = [&](int code, const std::string& text, bool accepted) {
        for (const auto& r : copy.recipients)
            result.recipients.push_back({r.address, code, text, accepted});
    };
    const int code = static_cast<int>(http_status);
    if (http_status >= 200 && http_status < 300) {
        json parsed = json::parse(body, nullptr, false);
        const json* results = nullptr;
        if (!parsed.is_discarded() && parsed.is_object() && parsed.contains("results") && parsed["results"].is_object())
            results = &parsed["results"];
        if (!results || !results->contains("total_accepted_recipients") ||
            !(*results)["total_accepted_recipients"].is_number_integer()) {
            // Accepted by HTTP status but not in the documented shape: we cannot
            // tell how many recipients went through; do not claim success.
            result.status = Status::TempFail;
            result.detail = "HTTP " + std::to_string(http_status) + " without results.total_accepted_recipients: " +
                            printable(body, 200);
            all(code, result.detail, false);
            return result;
        }
        long long accepted = (*results)["total_accepted_recipients"].get<long long>();
        std::string id;
        if (results->contains("id") && (*results)["id"].is_string()) id = printable((*results)["id"].get<std::string>(), 64);
        result.detail = "transmission " + (id.empty() ? std::string("(no id)") : id) + ": " + std::to_string(accepted) +
                        " of " + std::to_string(sent) + " recipients accepted";
        if (accepted >= static_cast<long long>(sent)) {
            all(code, "accepted", true);
        } else {
            // The API says how many, not which: every recipient is reported as
            // "one of the rejected, perhaps" and the copy counts as partial.
            result.status = accepted > 0 ? Status::Partial : Status::PermFail;
            all(code, std::to_string(sent - static_cast<std::size_t>(std::max(accepted, 0LL))) + " of " +
                          std::to_string(sent) + " rejected (the API does not say which)",
                accepted > 0);
        }
        return result;
    }
    result.status = api_status_retryable(http_status) ? Status::TempFail : Status::PermFail;
    result.detail = "HTTP " + std::to_string(http_status) + ": " + api_error_text(body);
    all(code, api_error_text(body), false);
    return result;
}

}  // namespace sealpost
