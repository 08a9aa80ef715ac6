// chain_check.hpp: the chain check. TrustAnchors is a CA bundle loaded once per
// process and path, then shared read-only by every thread (an X509_STORE is
// safe for concurrent verification once loaded). Verifies a certificate's
// chain at a given time for a given purpose, with untrusted intermediates
// taken from the message.
//
// Trusts only the bundle file. Fails to load with Error(Config) naming the
// file; a chain that does not verify is a result with OpenSSL's reason, not
// an exception.
#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "handles.hpp"

namespace sealpost {

struct ChainResult {
    bool ok = false;
    int code = 0;               // X509_V_ERR_* when !ok
    std::string error;          // "certificate has expired (depth 0: /O=.../CN=bob)"
    std::vector<X509Ptr> chain; // leaf first, anchor last (when ok)
};

class TrustAnchors {
public:
    // The anchors from `bundle_path`, loaded on first request and cached for
    // the life of the process. Thread-safe.
    static std::shared_ptr<const TrustAnchors> load(const std::string& bundle_path);

    // A private (uncached) instance: tests and the webhook's reload.
    static std::shared_ptr<const TrustAnchors> load_uncached(const std::string& bundle_path);

    // Verifies `leaf` with `untrusted` intermediates at `at` for `purpose`
    // (X509_PURPOSE_SMIME_SIGN, X509_PURPOSE_ANY, ...).
    ChainResult verify(X509* leaf, STACK_OF(X509) * untrusted, std::time_t at, int purpose) const;

    // Verifies for S/MIME without OpenSSL's leaf key-usage rule (its
    // smimeencrypt purpose wrongly rejects EC keyAgreement): the chain for
    // any purpose, then every CA in it for the S/MIME purpose (its
    // extendedKeyUsage, if any, must allow emailProtection) and the leaf's
    // extendedKeyUsage. For certificates stored but not proven by a
    // signature: certs-only and a separate encryption certificate.
    ChainResult verify_smime(X509* leaf, STACK_OF(X509) * untrusted, std::time_t at) const;

    const std::string& path() const { return path_; }
    int count() const { return count_; }

    TrustAnchors(std::string path, X509StorePtr store, int count)
        : path_(std::move(path)), store_(std::move(store)), count_(count) {}

private:
    std::string path_;
    X509StorePtr store_;
    int count_ = 0;
};

}  // namespace sealpost
