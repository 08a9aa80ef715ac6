// api_transport.cpp: the "api" backend: one POST to
// {base}/api/v1/transmissions per copy (api_json builds and reads the
// JSON). One libcurl handle per transport (per worker thread), so a batch
// keeps one HTTP/1.1 connection alive. 429, 5xx and connection failures are
// retried with bounded exponential back-off (Retry-After honoured up to the
// cap), then reported as TempFail; other 4xx are PermFail. Redirects are
// not followed (the key must not travel elsewhere). The key goes into the
// Authorization header and nowhere else: never logged. Never throws for a
// delivery failure.
#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "ascii.hpp"
#include "api_json.hpp"
#include "api_settings.hpp"
#include "curl_handle.hpp"
#include "tls_failure.hpp"
#include "errors.hpp"
#include "log.hpp"
#include "transport.hpp"

namespace sealpost {
namespace {

constexpr std::size_t kMaxResponse = 1 << 20;  // a transmissions response is a few hundred bytes

struct Response {
    std::string body;
    long retry_after_s = -1;
};

std::size_t on_body(char* data, std::size_t size, std::size_t nmemb, void* userp) {
    auto* r = static_cast<Response*>(userp);
    std::size_t n = size * nmemb;
    if (r->body.size() + n > kMaxResponse) return 0;  // aborts the transfer: CURLE_WRITE_ERROR
    r->body.append(data, n);
    return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t nmemb, void* userp) {
    auto* r = static_cast<Response*>(userp);
    std::string_view line(data, size * nmemb);
    constexpr std::string_view name = "retry-after:";
    if (line.size() > name.size() && istarts_with(line, name)) {
        std::string value(line.substr(name.size()));
        char* end = nullptr;
        long v = std::strtol(value.c_str(), &end, 10);
        if (end != value.c_str() && v >= 0) r->retry_after_s = v;  // an HTTP-date is ignored: back-off applies
    }
    return size * nmemb;
}

class ApiTransport final : public Transport {
public:
    explicit ApiTransport(ApiSettings settings) : settings_(std::move(settings)), handle_(make_curl_handle()) {
        CURL* h = handle_.get();
        endpoint_ = settings_.endpoint();
        curl_easy_setopt(h, CURLOPT_URL, endpoint_.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, std::min(settings_.timeout_seconds, 30L));
        curl_easy_setopt(h, CURLOPT_TIMEOUT, settings_.timeout_seconds);
        curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_.data());
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &response_);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &response_);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "sealpost");
        slist_append(headers_, "Content-Type: application/json");
        slist_append(headers_, "Accept: application/json");
        slist_append(headers_, "Authorization: " + settings_.key);
        slist_append(headers_, "Expect:");  // no 100-continue round trip
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers_.get());
        static std::atomic<bool> described{false};
        if (!described.exchange(true)) {
            log()->info("api: {}", settings_.describe());
            if (settings_.base.rfind("http://", 0) == 0)
                log()->warn("api: {} is plain http: the API key and the messages travel unencrypted", settings_.base);
        }
    }

    const char* name() const override { return "api"; }

    DeliveryResult deliver(const OutputCopy& copy) override {
        CURL* h = handle_.get();
        const std::string body = transmission_request(copy, settings_.campaign, settings_.track);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));

        DeliveryResult result;
        const int attempts = settings_.retries + 1;
        for (int attempt = 1; attempt <= attempts; ++attempt) {
            response_ = Response{};
            error_[0] = '\0';
            CURLcode rc = curl_easy_perform(h);
            long status = 0;
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
            bool retryable;
            if (rc != CURLE_OK) {
                result = DeliveryResult{};
                result.status = DeliveryResult::Status::TempFail;
                result.detail = "POST " + endpoint_ + ": " + curl_error_text(rc, error_.data());
                retryable = true;
                if (tls_verification_failure(rc)) {
                    // Retrying cannot help: the operator must make the CA trusted.
                    result.status = DeliveryResult::Status::PermFail;
                    result.detail += "; the API server's certificate cannot be verified against the system CA bundle "
                                     "(add its CA to the bundle, e.g. /usr/local/share/ca-certificates and "
                                     "update-ca-certificates); retrying will not help";
                    retryable = false;
                }
                for (const auto& r : copy.recipients) result.recipients.push_back({r.address, 0, result.detail, false});
            } else {
                result = api_outcome(status, response_.body, copy);
                retryable = api_status_retryable(status);
            }
            if (!retryable || attempt == attempts) {
                if (retryable && attempts > 1) result.detail += " (after " + std::to_string(attempts) + " attempts)";
                break;
            }
            long delay = backoff_ms(attempt);
            Trace::resume(copy.trace_id)
                .warn("api: attempt {}/{}: {}; retrying in {} ms", attempt, attempts, printable(result.detail, 300), delay);
            std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        }
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, nullptr);  // `body` dies here
        return result;
    }

private:
    long backoff_ms(int attempt) const {
        long delay = settings_.retry_delay_ms;
        for (int i = 1; i < attempt && delay < settings_.max_delay_ms; ++i) delay *= 2;
        if (response_.retry_after_s >= 0) delay = std::max(delay, response_.retry_after_s * 1000);
        return std::min(delay, settings_.max_delay_ms);
    }

    ApiSettings settings_;
    CurlPtr handle_;
    CurlSlistPtr headers_;
    std::string endpoint_;
    Response response_;
    std::array<char, CURL_ERROR_SIZE> error_{};
};

}  // namespace

std::unique_ptr<Transport> make_api_transport(const Config& config) {
    return std::make_unique<ApiTransport>(ApiSettings::from_config(config, [](const char* n) { return std::getenv(n); }));
}

}  // namespace sealpost
