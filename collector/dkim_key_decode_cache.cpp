// dkim_key_decode_cache.cpp: the memo behind libopendkim's d2i_PUBKEY_bio
// (see dkim_key_decode_cache.hpp).
#include "dkim_key_decode_cache.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "import_redirect.hpp"
#include "log.hpp"

// dkim.h is C99: it spells bool as _Bool, which C++ does not know.
#define _Bool bool
#include <opendkim/dkim.h>
#undef _Bool

namespace sealpost {
namespace {

// Enough for the keys of every domain a collector hears from in a day, and
// a bound on what strangers' keys can hold (a few MB at most).
constexpr std::size_t kMaxKeys = 1024;
// A 16384-bit RSA key's DER is 2,094 bytes; anything longer is decoded as
// before, never kept.
constexpr long kMaxKeyBytes = 2600;
// The libopendkim whose use of the decoded key was read (2.11: it only
// reads the key, takes its RSA with EVP_PKEY_get1_RSA, verifies, and frees
// its references): another version is left alone.
constexpr std::uint32_t kKnownLibVersionMask = 0xffff0000u, kKnownLibVersion = 0x020b0000u;

struct Memo {
    EVP_PKEY* key = nullptr;  // the memo's own reference
    long consumed = 0;        // bytes the decoder read from the BIO
};

class KeyDecodeCache {
public:
    // The key for `der`, with a reference for the caller; nullptr when not kept.
    EVP_PKEY* find(const std::string& der, long& consumed) {
        std::lock_guard lock(mutex_);
        auto it = keys_.find(der);
        if (it == keys_.end()) return nullptr;
        EVP_PKEY_up_ref(it->second.key);
        consumed = it->second.consumed;
        hits_.fetch_add(1, std::memory_order_relaxed);
        return it->second.key;
    }

    void keep(std::string der, EVP_PKEY* key, long consumed) {
        misses_.fetch_add(1, std::memory_order_relaxed);
        std::lock_guard lock(mutex_);
        if (keys_.count(der)) return;  // another thread decoded it meanwhile
        if (keys_.size() >= kMaxKeys) clear();
        EVP_PKEY_up_ref(key);
        keys_.emplace(std::move(der), Memo{key, consumed});
    }

    void forget() {
        std::lock_guard lock(mutex_);
        clear();
    }

    std::uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
    std::uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

private:
    void clear() {
        for (auto& [der, memo] : keys_) EVP_PKEY_free(memo.key);
        keys_.clear();
    }

    std::mutex mutex_;
    std::unordered_map<std::string, Memo> keys_;
    std::atomic<std::uint64_t> hits_{0}, misses_{0};
};

KeyDecodeCache& cache() {
    static auto* c = new KeyDecodeCache;  // never destroyed: libopendkim may run until exit
    return *c;
}

using DecodeFn = EVP_PKEY* (*)(BIO*, EVP_PKEY**);
DecodeFn real_decode = &d2i_PUBKEY_bio;

// Skips what the decoder read, so the BIO is left as the real call leaves it.
void skip(BIO* bio, long bytes) {
    char sink[512];
    while (bytes > 0) {
        int n = BIO_read(bio, sink, static_cast<int>(std::min<long>(bytes, sizeof sink)));
        if (n <= 0) return;
        bytes -= n;
    }
}

// libopendkim's d2i_PUBKEY_bio(BIO_new_mem_buf(key), NULL), memoised. Any
// other use (a result pointer, another kind of BIO, a huge input) is passed
// through unchanged.
EVP_PKEY* memo_d2i_PUBKEY_bio(BIO* bio, EVP_PKEY** out) {
    if (out != nullptr || bio == nullptr || BIO_method_type(bio) != BIO_TYPE_MEM) return real_decode(bio, out);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    if (len <= 0 || len > kMaxKeyBytes || data == nullptr) return real_decode(bio, out);
    std::string der(data, static_cast<std::size_t>(len));
    long consumed = 0;
    if (EVP_PKEY* key = cache().find(der, consumed)) {
        skip(bio, consumed);
        return key;
    }
    EVP_PKEY* key = real_decode(bio, nullptr);
    if (key == nullptr) return nullptr;
    char* rest = nullptr;
    cache().keep(std::move(der), key, len - BIO_get_mem_data(bio, &rest));
    return key;
}

std::once_flag installed_once;
ImportRedirect installed;

}  // namespace

void install_dkim_key_decode_cache() {
    std::call_once(installed_once, [] {
        std::uint32_t version = dkim_libversion();
        if ((version & kKnownLibVersionMask) != kKnownLibVersion) {
            installed.reason = "libopendkim " + std::to_string(version >> 24) + "." +
                               std::to_string((version >> 16) & 0xff) + " is not the version this was written for";
        } else {
            installed = redirect_import(reinterpret_cast<const void*>(&dkim_init), "d2i_PUBKEY_bio",
                                        reinterpret_cast<void*>(real_decode),
                                        reinterpret_cast<void*>(&memo_d2i_PUBKEY_bio));
        }
        if (!installed.done)
            log()->info("dkim: public keys are decoded for every message ({})", installed.reason);
        else if (!installed.reason.empty())
            log()->warn("dkim: libopendkim's key decoding redirected, but {}", installed.reason);
        else
            log()->debug("dkim: public keys are decoded once and kept (libopendkim's d2i_PUBKEY_bio, {} slot{})",
                         installed.slots, installed.slots == 1 ? "" : "s");
    });
}

void forget_decoded_dkim_keys() { cache().forget(); }

DkimKeyDecodeStats dkim_key_decode_stats() {
    DkimKeyDecodeStats s;
    s.installed = installed.done;
    s.reason = installed.reason;
    s.hits = cache().hits();
    s.misses = cache().misses();
    return s;
}

}  // namespace sealpost
