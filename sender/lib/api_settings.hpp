// api_settings.hpp: where and how to post to the transmissions API
// (SparkPost, Momentum on premises), from config and the original tool's
// environment. Base URL: [relay] api (from --api), then SPARKPOST_HOST, then
// https://api.sparkpost.com; a bare host name means https://host, as the
// original accepted. Key: [api] key, then SPARKPOST_API_KEY. Fails with
// Error(Config) naming the key and the reason; the API key never appears in
// describe().
#pragma once

#include <functional>
#include <string>

#include "config.hpp"

namespace sealpost {

struct ApiSettings {
    std::string base;             // https://api.sparkpost.com (no trailing slash)
    std::string key;              // sent as Authorization
    std::string campaign = "sealpost";
    bool track = false;           // open/click tracking (only for copies neither signed nor encrypted)
    int retries = 3;              // after the first attempt, for 429, 5xx and connection failures
    long retry_delay_ms = 1000;   // first back-off; doubles each retry
    long max_delay_ms = 60000;    // cap for the back-off and for Retry-After
    long timeout_seconds = 60;    // whole request

    static constexpr std::size_t kMaxCampaign = 64;  // the API's limit for campaign_id

    std::string endpoint() const { return base + "/api/v1/transmissions"; }
    // "https://api.sparkpost.com campaign=sealpost retries=3 key=********"
    std::string describe() const;

    using Env = std::function<const char*(const char*)>;
    static ApiSettings from_config(const Config& config, const Env& env);
};

// "api.eu.sparkpost.com" -> "https://api.eu.sparkpost.com"; strips a trailing
// "/" and "/api/v1". Throws Error(Config) for another scheme or a path.
std::string normalise_api_base(const std::string& given);

}  // namespace sealpost
