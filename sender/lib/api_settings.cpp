// api_settings.cpp: base URL, key and retry settings (see the header).
#include "api_settings.hpp"

#include "errors.hpp"

namespace sealpost {
namespace {

[[noreturn]] void bad(const std::string& what) { fail(ErrorKind::Config, "api: " + what); }

long long bounded(const Config& config, const char* key, long long fallback, long long lo, long long hi) {
    long long v = config.get_size("api", key, fallback);
    if (v < lo || v > hi) bad("[api] " + std::string(key) + " must be " + std::to_string(lo) + ".." + std::to_string(hi));
    return v;
}

}  // namespace

std::string normalise_api_base(const std::string& given) {
    std::string url = given;
    if (url.find("://") == std::string::npos) url = "https://" + url;
    if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)
        bad("'" + given + "' is not an http(s) URL");
    while (!url.empty() && url.back() == '/') url.pop_back();
    const std::string suffix = "/api/v1";
    if (url.size() > suffix.size() && url.compare(url.size() - suffix.size(), suffix.size(), suffix) == 0)
        url.erase(url.size() - suffix.size());
    std::size_t host_start = url.find("://") + 3;
    if (url.find('/', host_start) != std::string::npos) bad("'" + given + "': give the base URL, without a path");
    if (url.find('@', host_start) != std::string::npos) bad("'" + given + "': no credentials in the URL; the key goes in [api] key or SPARKPOST_API_KEY");
    if (host_start == url.size()) bad("'" + given + "' has no host");
    return url;
}

std::string ApiSettings::describe() const {
    return base + " campaign=" + campaign + (track ? " tracking=on" : "") + " retries=" + std::to_string(retries) +
           " key=" + (key.empty() ? "(none)" : "********");
}

ApiSettings ApiSettings::from_config(const Config& config, const Env& env) {
    auto getenv_str = [&](const char* name) -> std::string {
        const char* v = env(name);
        return v ? v : "";
    };
    ApiSettings s;
    std::string base = config.get_or("relay", "api", "env");
    if (base == "env") base = getenv_str("SPARKPOST_HOST");
    if (base.empty()) base = "https://api.sparkpost.com";
    s.base = normalise_api_base(base);
    s.key = config.get_or("api", "key", getenv_str("SPARKPOST_API_KEY"));
    if (s.key.empty()) bad("no API key: set SPARKPOST_API_KEY or [api] key");
    if (s.key.find_first_of("\r\n") != std::string::npos) bad("the API key contains a line break");
    s.campaign = config.get_or("api", "campaign", "sealpost");
    if (s.campaign.size() > kMaxCampaign)
        bad("campaign '" + s.campaign + "' is longer than " + std::to_string(kMaxCampaign) + " bytes");
    s.track = config.get_bool("api", "track", false);
    s.retries = static_cast<int>(bounded(config, "retries", 3, 0, 20));
    s.retry_delay_ms = static_cast<long>(bounded(config, "retry-delay", 1000, 0, 600000));
    s.timeout_seconds = static_cast<long>(bounded(config, "timeout", 60, 1, 3600));
    return s;
}

}  // namespace sealpost
