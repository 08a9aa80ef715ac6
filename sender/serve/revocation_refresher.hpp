// revocation_refresher.hpp: serve's background revocation refresh. A thread
// of its own (fetches block on the network; never on the SMTP or webhook
// threads) runs refresh_revocation(Fetch::IfStale) at start and then every
// min(refresh-interval, 5 min): a CRL or OCSP answer is fetched again when
// past its nextUpdate or older than refresh-interval, whichever comes
// first, once per issuer; a certificate found revoked is marked in the
// store and is no longer encrypted to, by any node. Stops (joins) on
// destruction; does nothing when [revocation] mode = off.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "cert_store.hpp"
#include "revocation_options.hpp"

namespace sealpost {

class RevocationRefresher {
public:
    RevocationRefresher(CertStore& store, RevocationOptions options);
    ~RevocationRefresher();
    RevocationRefresher(const RevocationRefresher&) = delete;
    RevocationRefresher& operator=(const RevocationRefresher&) = delete;

private:
    void loop();

    CertStore& store_;
    RevocationOptions options_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace sealpost
