// collect_options.hpp: the collector's settings, read from the [collector]
// section of the configuration (the original's [webapp] trusted-certs is
// accepted as a fallback), with every value validated at start-up. Where
// the store is, is not a collector setting: store_location.hpp answers it
// for the whole program. Fails with Error(Config) naming the key and the bad value.
#pragma once

#include <ctime>
#include <filesystem>
#include <optional>
#include <string>

#include "config.hpp"
#include "mime.hpp"
#include "revocation_options.hpp"

namespace sealpost {

enum class DkimMode { Require, Ignore };
enum class DkimAlignment { Strict, Relaxed };
// cert_profile.hpp: standard (default) or the CA/B Forum S/MIME BR profile.
enum class CertProfile { Standard, Strict };

// Hard ceilings for the configurable limits: beyond these GMime's recursive
// parser and OpenSSL's stack are no longer comfortably safe.
inline constexpr int kMaxMimeDepthCeiling = 64;
inline constexpr int kMaxMimePartsCeiling = 100000;

inline constexpr const char* kDefaultTrustedCerts = "/etc/ssl/certs/ca-certificates.crt";

struct CollectOptions {
    std::string trusted_certs = kDefaultTrustedCerts;  // PEM bundle of trust anchors
    DkimMode dkim = DkimMode::Require;
    DkimAlignment alignment = DkimAlignment::Strict;
    std::string dkim_keys;                 // OpenDKIM test-key file; "" = DNS
    std::optional<std::time_t> at;         // judge certificates at this time; nullopt = now
    MimeLimits limits;                     // size, depth, parts
    CertProfile profile = CertProfile::Standard;  // [collector] profile
    RevocationOptions revocation;                 // [revocation]
    std::string source = "collect";        // recorded in the metadata: "collect" | "webhook"

    // From [collector] (trusted-certs falls back to [webapp] trusted-certs).
    // Throws Error(Config) on a bad value.
    static CollectOptions from_config(const Config& config);

    std::time_t judge_time() const;  // *at or now
};

const char* to_string(DkimMode m);
const char* to_string(DkimAlignment a);
const char* to_string(CertProfile p);

}  // namespace sealpost
