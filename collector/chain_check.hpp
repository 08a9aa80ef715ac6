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
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
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
    //
    // A successful result is cached, keyed by the SHA-256 of the leaf's and
    // every untrusted certificate's DER and the purpose, with the window in
    // which every certificate of the chain is valid: a later verification
    // of the same certificates at a time inside that window returns the
    // cached chain without building it again (no signature verified twice).
    // An entry lives for one trust_generation() (cert_info.hpp: bumped when
    // revocation information is refreshed) and is dropped by
    // invalidate_cache(). Failures are never cached. At most kChainCacheSize
    // entries (then the cache starts afresh).
    ChainResult verify(X509* leaf, STACK_OF(X509) * untrusted, std::time_t at, int purpose) const;
    void invalidate_cache() const;
    static constexpr std::size_t kChainCacheSize = 20000;

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
    ChainResult verify_uncached(X509* leaf, STACK_OF(X509) * untrusted, std::time_t at, int purpose) const;

    struct CachedChain {
        std::vector<X509Ptr> chain;
        std::time_t valid_from = 0, valid_until = 0;  // every certificate of the chain valid in between
        std::uint64_t generation = 0;
    };
    std::string path_;
    X509StorePtr store_;
    int count_ = 0;
    mutable std::mutex cache_mutex_;
    mutable std::unordered_map<std::string, CachedChain> cache_;
};

}  // namespace sealpost
