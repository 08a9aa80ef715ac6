// certs_report.hpp: `sealpost certs report` (issue 13): counts and lists by
// state: can encrypt, wanted (not invited yet), invited (when, how often),
// collected after invitation (conversion), expiring (within [invite]
// renew-before, default 30 days), revoked.
#pragma once

#include <ctime>
#include <ostream>

#include "cert_store.hpp"
#include "config.hpp"

namespace sealpost {

int certs_report(const CertStore& store, const Config& config, std::time_t now, std::ostream& out);

}  // namespace sealpost
