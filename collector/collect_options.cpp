// collect_options.cpp: [collector] configuration, validated.
#include "collect_options.hpp"

#include "cert_info.hpp"
#include "errors.hpp"

namespace sealpost {
namespace {

[[noreturn]] void bad(const std::string& key, const std::string& value, const std::string& want) {
    fail(ErrorKind::Config, "config: [collector] " + key + " = '" + value + "': " + want);
}

long long bounded(const Config& config, const char* key, long long fallback, long long lo, long long hi) {
    long long v = config.get_size("collector", key, fallback);
    if (v < lo || v > hi)
        bad(key, std::to_string(v), "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return v;
}

}  // namespace

const char* to_string(DkimMode m) { return m == DkimMode::Require ? "require" : "ignore"; }
const char* to_string(DkimAlignment a) { return a == DkimAlignment::Strict ? "strict" : "relaxed"; }
const char* to_string(CertProfile p) { return p == CertProfile::Strict ? "strict" : "standard"; }

CollectOptions CollectOptions::from_config(const Config& config) {
    CollectOptions o;
    o.trusted_certs = config.get_or("collector", "trusted-certs",
                                    config.get_or("webapp", "trusted-certs", kDefaultTrustedCerts));

    std::string dkim = config.get_or("collector", "dkim", "require");
    if (dkim == "require") o.dkim = DkimMode::Require;
    else if (dkim == "ignore") o.dkim = DkimMode::Ignore;
    else bad("dkim", dkim, "use require or ignore");

    std::string align = config.get_or("collector", "dkim-alignment", "strict");
    if (align == "strict") o.alignment = DkimAlignment::Strict;
    else if (align == "relaxed") o.alignment = DkimAlignment::Relaxed;
    else bad("dkim-alignment", align, "use strict or relaxed");

    o.dkim_keys = config.get_or("collector", "dkim-keys", "");

    o.revocation = RevocationOptions::from_config(config);

    std::string profile = config.get_or("collector", "profile", "standard");
    if (profile == "standard") o.profile = CertProfile::Standard;
    else if (profile == "strict") o.profile = CertProfile::Strict;
    else bad("profile", profile, "use standard or strict");

    // `at` is the command-line name, `verify-at` the long-lived config name.
    std::string at = config.get_or("collector", "at", config.get_or("collector", "verify-at", ""));
    if (!at.empty()) {
        o.at = parse_iso_time(at);
        if (!o.at) bad("at", at, "not an ISO 8601 time (2026-11-24 or 2026-11-24T10:00:00Z)");
    }

    o.limits.max_bytes = static_cast<std::size_t>(
        bounded(config, "max-message-size", 10LL * 1024 * 1024, 1024, 1024LL * 1024 * 1024));
    o.limits.max_depth = static_cast<int>(bounded(config, "max-mime-depth", 32, 2, kMaxMimeDepthCeiling));
    o.limits.max_parts = static_cast<int>(bounded(config, "max-mime-parts", 1000, 2, kMaxMimePartsCeiling));
    return o;
}

std::time_t CollectOptions::judge_time() const { return at ? *at : std::time(nullptr); }

}  // namespace sealpost
