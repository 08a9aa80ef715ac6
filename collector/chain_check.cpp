// chain_check.cpp: bundle loading (once) and chain verification.
#include "chain_check.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <limits>
#include <map>
#include <mutex>

#include "cert_info.hpp"
#include "errors.hpp"
#include "log.hpp"

namespace sealpost {

std::shared_ptr<const TrustAnchors> TrustAnchors::load_uncached(const std::string& path) {
    BioPtr bio(BIO_new_file(path.c_str(), "r"));
    if (!bio) {
        ERR_clear_error();
        fail(ErrorKind::Config, "trusted-certs: cannot read " + path);
    }
    X509StorePtr store(X509_STORE_new());
    if (!store) fail_openssl("trusted-certs: out of memory");
    int count = 0;
    while (X509* raw = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
        X509Ptr cert(raw);
        // Not given a remembered digest (remember_sha256): this cache of
        // anchors is destroyed at exit after OpenSSL's own clean-up, which
        // then no longer frees ex_data (LeakSanitizer: 32 bytes each).
        if (X509_STORE_add_cert(store.get(), cert.get()) == 1) ++count;
    }
    ERR_clear_error();  // the loop ends on "no start line"
    if (count == 0) fail(ErrorKind::Config, "trusted-certs: " + path + " holds no PEM certificate");
    log()->debug("trusted-certs: {} certificates loaded from {}", count, path);
    return std::make_shared<const TrustAnchors>(path, std::move(store), count);
}

std::shared_ptr<const TrustAnchors> TrustAnchors::load(const std::string& path) {
    static std::mutex mutex;
    static std::map<std::string, std::shared_ptr<const TrustAnchors>> cache;
    std::lock_guard lock(mutex);
    auto it = cache.find(path);
    if (it != cache.end()) return it->second;
    auto anchors = load_uncached(path);
    cache.emplace(path, anchors);
    return anchors;
}

namespace {

// The cache key: SHA-256 of each certificate's DER (leaf first), then the purpose.
std::string chain_key(X509* leaf, STACK_OF(X509) * untrusted, int purpose) {
    std::string key;
    auto add = [&key](X509* c) {
        unsigned char md[32];
        if (!sha256_digest(c, md)) return false;
        key.append(reinterpret_cast<char*>(md), sizeof md);
        return true;
    };
    if (!add(leaf)) return {};
    for (int i = 0; i < sk_X509_num(untrusted); ++i)
        if (!add(sk_X509_value(untrusted, i))) return {};
    key += std::to_string(purpose);
    return key;
}

std::vector<X509Ptr> copy_chain(const std::vector<X509Ptr>& chain) {
    std::vector<X509Ptr> out;
    out.reserve(chain.size());
    for (const auto& c : chain) out.push_back(x509_ref(c.get()));
    return out;
}

}  // namespace

void TrustAnchors::invalidate_cache() const {
    std::lock_guard lock(cache_mutex_);
    cache_.clear();
}

ChainResult TrustAnchors::verify(X509* leaf, STACK_OF(X509) * untrusted, std::time_t at, int purpose) const {
    std::string key = chain_key(leaf, untrusted, purpose);
    const std::uint64_t generation = trust_generation();
    if (!key.empty()) {
        std::lock_guard lock(cache_mutex_);
        auto it = cache_.find(key);
        if (it != cache_.end()) {
            const CachedChain& c = it->second;
            if (c.generation == generation && at >= c.valid_from && at <= c.valid_until) {
                ChainResult r;
                r.ok = true;
                r.chain = copy_chain(c.chain);
                return r;
            }
            cache_.erase(it);
        }
    }
    ChainResult r = verify_uncached(leaf, untrusted, at, purpose);
    if (r.ok && !key.empty()) {
        CachedChain c;
        c.chain = copy_chain(r.chain);
        c.valid_from = std::numeric_limits<std::time_t>::min();
        c.valid_until = std::numeric_limits<std::time_t>::max();
        for (const auto& x : r.chain) {
            c.valid_from = std::max(c.valid_from, not_before(x.get()));
            c.valid_until = std::min(c.valid_until, not_after(x.get()));
        }
        c.generation = generation;
        std::lock_guard lock(cache_mutex_);
        if (cache_.size() >= kChainCacheSize) cache_.clear();
        cache_[key] = std::move(c);
    }
    return r;
}

ChainResult TrustAnchors::verify_uncached(X509* leaf, STACK_OF(X509) * untrusted, std::time_t at, int purpose) const {
    ChainResult r;
    X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!ctx || X509_STORE_CTX_init(ctx.get(), store_.get(), leaf, untrusted) != 1) {
        r.error = "cannot set up verification: " + openssl_errors();
        return r;
    }
    X509_STORE_CTX_set_time(ctx.get(), 0, at);
    if (purpose != X509_PURPOSE_ANY && X509_STORE_CTX_set_purpose(ctx.get(), purpose) != 1) {
        r.error = "cannot set purpose: " + openssl_errors();
        return r;
    }
    int ok = X509_verify_cert(ctx.get());
    ERR_clear_error();
    if (ok != 1) {
        int err = X509_STORE_CTX_get_error(ctx.get());
        r.code = err;
        int depth = X509_STORE_CTX_get_error_depth(ctx.get());
        X509* bad = X509_STORE_CTX_get_current_cert(ctx.get());
        r.error = std::string(X509_verify_cert_error_string(err)) + " (depth " + std::to_string(depth) +
                  (bad ? ": " + printable(subject_line(bad), 120) : std::string()) + ")";
        return r;
    }
    STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
    for (int i = 0; i < sk_X509_num(chain); ++i) r.chain.push_back(x509_ref(sk_X509_value(chain, i)));
    r.ok = true;
    return r;
}

ChainResult TrustAnchors::verify_smime(X509* leaf, STACK_OF(X509) * untrusted, std::time_t at) const {
    ChainResult r = verify(leaf, untrusted, at, X509_PURPOSE_ANY);
    if (!r.ok) return r;
    auto purpose_error = [&r](std::size_t depth, const char* what) {
        r.ok = false;
        r.code = X509_V_ERR_INVALID_PURPOSE;
        r.error = std::string(what) + " (depth " + std::to_string(depth) + ": " +
                  printable(subject_line(r.chain[depth].get()), 120) + ")";
        r.chain.clear();
    };
    X509* first = r.chain.front().get();
    if ((X509_get_extension_flags(first) & EXFLAG_XKUSAGE) &&
        !(X509_get_extended_key_usage(first) & (XKU_SMIME | XKU_ANYEKU)))
    {
        purpose_error(0, "unsupported certificate purpose: extendedKeyUsage lacks emailProtection");
        return r;
    }
    for (std::size_t i = 1; i < r.chain.size(); ++i) {
        int ok = X509_check_purpose(r.chain[i].get(), X509_PURPOSE_SMIME_SIGN, 1);
        ERR_clear_error();
        if (ok != 1) {
            purpose_error(i, "unsupported certificate purpose: CA not allowed for S/MIME");
            return r;
        }
    }
    return r;
}

}  // namespace sealpost
