// revocation_options.hpp: the [revocation] section, validated at start-up.
//   mode = off | soft | hard (default soft): soft never uses a certificate
//          known to be revoked and goes on, logging it, when nothing is
//          known; hard treats "no fresh information" as not usable.
//   ocsp = off | fallback | prefer (default fallback: only when there is
//          no CRL distribution point or its CRL cannot be had).
//   refresh-interval (default 6h): a cached CRL or OCSP answer older than
//          this is fetched again at collect (and by serve's refresher),
//          even before its nextUpdate.
//   timeout (default 10 s per fetch), max-crl-size (default 20 MiB).
// Fails with Error(Config) naming the key and the bad value.
#pragma once

#include <cstddef>
#include <string>

#include "config.hpp"

namespace sealpost {

enum class RevocationMode { Off, Soft, Hard };
enum class OcspMode { Off, Fallback, Prefer };

struct RevocationOptions {
    RevocationMode mode = RevocationMode::Soft;
    OcspMode ocsp = OcspMode::Fallback;
    long long refresh_interval = 6 * 3600;  // seconds
    long timeout = 10;                      // seconds, per fetch
    std::size_t max_bytes = 20 * 1024 * 1024;

    static RevocationOptions from_config(const Config& config);
};

const char* to_string(RevocationMode m);
const char* to_string(OcspMode m);

}  // namespace sealpost
