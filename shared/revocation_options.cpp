// revocation_options.cpp: [revocation], validated.
#include "revocation_options.hpp"

#include "duration.hpp"
#include "errors.hpp"

namespace sealpost {
namespace {

[[noreturn]] void bad(const std::string& key, const std::string& value, const std::string& want) {
    fail(ErrorKind::Config, "config: [revocation] " + key + " = '" + value + "': " + want);
}

}  // namespace

const char* to_string(RevocationMode m) {
    switch (m) {
        case RevocationMode::Off: return "off";
        case RevocationMode::Soft: return "soft";
        case RevocationMode::Hard: return "hard";
    }
    return "?";
}

const char* to_string(OcspMode m) {
    switch (m) {
        case OcspMode::Off: return "off";
        case OcspMode::Fallback: return "fallback";
        case OcspMode::Prefer: return "prefer";
    }
    return "?";
}

RevocationOptions RevocationOptions::from_config(const Config& config) {
    RevocationOptions o;
    const std::string mode = config.get_or("revocation", "mode", "soft");
    if (mode == "off") o.mode = RevocationMode::Off;
    else if (mode == "soft") o.mode = RevocationMode::Soft;
    else if (mode == "hard") o.mode = RevocationMode::Hard;
    else bad("mode", mode, "use off, soft or hard");

    const std::string ocsp = config.get_or("revocation", "ocsp", "fallback");
    if (ocsp == "off") o.ocsp = OcspMode::Off;
    else if (ocsp == "fallback") o.ocsp = OcspMode::Fallback;
    else if (ocsp == "prefer") o.ocsp = OcspMode::Prefer;
    else bad("ocsp", ocsp, "use off, fallback or prefer");

    const std::string interval = config.get_or("revocation", "refresh-interval", "6h");
    auto seconds = parse_duration_seconds(interval);
    if (!seconds || *seconds < 60) bad("refresh-interval", interval, "a duration of at least 60s (6h, 30m, 3600)");
    o.refresh_interval = *seconds;

    const std::string timeout = config.get_or("revocation", "timeout", "10");
    auto t = parse_duration_seconds(timeout);
    if (!t || *t < 1 || *t > 300) bad("timeout", timeout, "seconds between 1 and 300");
    o.timeout = static_cast<long>(*t);

    long long max = config.get_size("revocation", "max-crl-size", 20LL * 1024 * 1024);
    if (max < 1024 || max > 1024LL * 1024 * 1024) bad("max-crl-size", std::to_string(max), "between 1K and 1G");
    o.max_bytes = static_cast<std::size_t>(max);
    return o;
}

}  // namespace sealpost
