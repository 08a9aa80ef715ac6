// dkim_check.cpp: libopendkim verification of every signature, libpsl
// alignment.
#include "ascii.hpp"
#include "dkim_check.hpp"

// dkim.h is C99: it spells bool as _Bool, which C++ does not know.
#define _Bool bool
#include <opendkim/dkim.h>
#undef _Bool
#include <libpsl.h>

#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <unordered_map>

#include "dkim_key_decode_cache.hpp"
#include "errors.hpp"
#include "log.hpp"

namespace sealpost {
namespace {

const psl_ctx_t* psl() {
    // The system list (publicsuffix package) when newer, else the built-in
    // copy; loaded once, kept for the life of the process.
    static const psl_ctx_t* ctx = [] {
        const psl_ctx_t* p = psl_latest(nullptr);
        return p ? p : psl_builtin();
    }();
    return ctx;
}

using DkimHandle = std::unique_ptr<DKIM, Free<dkim_free>>;

std::string text_of(const unsigned char* s) { return s ? std::string(reinterpret_cast<const char*>(s)) : ""; }

// The key records (the TXT record at <selector>._domainkey.<domain>), kept
// for their DNS TTL (at most a day; failures and absent records are never
// kept), or, from a key file, until the file changes. libopendkim asks
// through dkim_set_key_lookup() instead of querying itself. Thread-safe.
class KeyCache {
public:
    explicit KeyCache(std::string keys_file) : keys_file_(std::move(keys_file)) {}

    // DKIM_CBSTAT_CONTINUE with the record in `out`, or NOTFOUND / TRYAGAIN / ERROR.
    int lookup(const std::string& name, std::string& out) {
        return keys_file_.empty() ? lookup_dns(name, out) : lookup_file(name, out);
    }

private:
    using Clock = std::chrono::steady_clock;
    static constexpr std::chrono::seconds kMaxTtl{86400};
    static constexpr std::size_t kMaxEntries = 10000;

    int lookup_dns(const std::string& name, std::string& out) {
        {
            std::lock_guard lock(mutex_);
            auto it = dns_.find(name);
            if (it != dns_.end() && Clock::now() < it->second.expires) {
                out = it->second.record;
                return DKIM_CBSTAT_CONTINUE;
            }
        }
        // One resolver state per thread (res_nquery is then thread-safe).
        thread_local struct __res_state state {};
        thread_local bool ready = false;
        if (!ready) {
            if (res_ninit(&state) != 0) return DKIM_CBSTAT_ERROR;
            ready = true;
        }
        unsigned char answer[8192];
        int n = res_nquery(&state, name.c_str(), ns_c_in, ns_t_txt, answer, sizeof answer);
        if (n < 0) {
            switch (state.res_h_errno) {
                case HOST_NOT_FOUND:
                case NO_DATA: return DKIM_CBSTAT_NOTFOUND;
                case TRY_AGAIN: return DKIM_CBSTAT_TRYAGAIN;
                default: return DKIM_CBSTAT_ERROR;
            }
        }
        ns_msg msg;
        if (ns_initparse(answer, n, &msg) != 0) return DKIM_CBSTAT_ERROR;
        bool found = false;
        std::uint32_t ttl = 0;
        for (int i = 0; i < ns_msg_count(msg, ns_s_an) && !found; ++i) {
            ns_rr rr;
            if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) return DKIM_CBSTAT_ERROR;
            if (ns_rr_type(rr) != ns_t_txt || ns_rr_class(rr) != ns_c_in) continue;
            // A TXT record is one or more <length><bytes> strings, joined.
            const unsigned char* p = ns_rr_rdata(rr);
            const unsigned char* end = p + ns_rr_rdlen(rr);
            std::string record;
            while (p < end) {
                std::size_t len = *p++;
                if (static_cast<std::size_t>(end - p) < len) return DKIM_CBSTAT_ERROR;
                record.append(reinterpret_cast<const char*>(p), len);
                p += len;
            }
            out = std::move(record);
            ttl = ns_rr_ttl(rr);
            found = true;
        }
        if (!found) return DKIM_CBSTAT_NOTFOUND;
        auto keep = std::min<std::chrono::seconds>(std::chrono::seconds(ttl), kMaxTtl);
        if (keep.count() > 0) {
            std::lock_guard lock(mutex_);
            if (dns_.size() >= kMaxEntries) dns_.clear();
            dns_[name] = {out, Clock::now() + keep};
        }
        return DKIM_CBSTAT_CONTINUE;
    }

    // OpenDKIM's test-key format: "<name> <record>" per line.
    int lookup_file(const std::string& name, std::string& out) {
        struct stat st {};
        if (::stat(keys_file_.c_str(), &st) != 0) return DKIM_CBSTAT_ERROR;
        std::lock_guard lock(mutex_);
        if (!file_loaded_ || st.st_mtim.tv_sec != file_mtime_.tv_sec || st.st_mtim.tv_nsec != file_mtime_.tv_nsec ||
            st.st_size != file_size_ || st.st_ino != file_inode_) {
            std::ifstream in(keys_file_);
            if (!in) return DKIM_CBSTAT_ERROR;
            file_.clear();
            std::string line;
            while (std::getline(in, line)) {
                if (!line.empty() && line.back() == '\r') line.pop_back();
                auto sep = line.find_first_of(" \t");
                if (sep == std::string::npos || sep == 0) continue;
                auto value = line.find_first_not_of(" \t", sep);
                if (value == std::string::npos) continue;
                file_.emplace(ascii_lower(line.substr(0, sep)), line.substr(value));  // the first line wins
            }
            file_mtime_ = st.st_mtim;
            file_size_ = st.st_size;
            file_inode_ = st.st_ino;
            file_loaded_ = true;
        }
        auto it = file_.find(ascii_lower(name));
        if (it == file_.end()) return DKIM_CBSTAT_NOTFOUND;
        out = it->second;
        return DKIM_CBSTAT_CONTINUE;
    }

    std::string keys_file_;
    std::mutex mutex_;
    struct Cached {
        std::string record;
        Clock::time_point expires;
    };
    std::unordered_map<std::string, Cached> dns_;
    std::unordered_map<std::string, std::string> file_;
    bool file_loaded_ = false;
    struct timespec file_mtime_ {};
    off_t file_size_ = 0;
    ino_t file_inode_ = 0;
};

// libopendkim's key lookup: the verification's user context is our cache.
DKIM_CBSTAT cached_key_lookup(DKIM* dkim, DKIM_SIGINFO* sig, u_char* buf, size_t buflen) {
    auto* cache = static_cast<KeyCache*>(dkim_get_user_context(dkim));
    const unsigned char* selector = dkim_sig_getselector(sig);
    const unsigned char* domain = dkim_sig_getdomain(sig);
    if (!cache || !selector || !domain || buflen == 0) return DKIM_CBSTAT_ERROR;
    std::string name = std::string(reinterpret_cast<const char*>(selector)) + "._domainkey." +
                       reinterpret_cast<const char*>(domain);
    std::string record;
    int st = cache->lookup(name, record);
    if (st != DKIM_CBSTAT_CONTINUE) return st;
    if (record.size() >= buflen) return DKIM_CBSTAT_ERROR;
    std::memcpy(buf, record.data(), record.size());
    buf[record.size()] = '\0';
    return DKIM_CBSTAT_CONTINUE;
}

}  // namespace

struct DkimVerifier::Lib {
    DKIM_LIB* handle = nullptr;
    std::string keys_file;
    std::unique_ptr<KeyCache> keys;
};

std::string organisational_domain(std::string_view domain) {
    std::string d = ascii_lower(domain);
    while (!d.empty() && d.back() == '.') d.pop_back();
    if (d.empty()) return {};
    const char* reg = psl_registrable_domain(psl(), d.c_str());
    return reg ? std::string(reg) : std::string();
}

bool dkim_aligned(std::string_view signer, std::string_view from_domain, DkimAlignment mode) {
    std::string s = ascii_lower(signer), f = ascii_lower(from_domain);
    if (s.empty() || f.empty()) return false;
    if (s == f) return true;
    if (mode == DkimAlignment::Strict) return false;
    std::string os = organisational_domain(s), of = organisational_domain(f);
    return !os.empty() && os == of;
}

std::shared_ptr<const DkimVerifier> DkimVerifier::shared(const std::string& keys_file) {
    static std::mutex mutex;
    static std::map<std::string, std::shared_ptr<const DkimVerifier>> cache;
    std::lock_guard lock(mutex);
    auto& slot = cache[keys_file];
    if (!slot) slot = std::make_shared<const DkimVerifier>(keys_file);
    return slot;
}

DkimVerifier::DkimVerifier(const std::string& keys_file) : lib_(std::make_unique<Lib>()) {
    install_dkim_key_decode_cache();
    lib_->keys_file = keys_file;
    lib_->handle = dkim_init(nullptr, nullptr);
    if (!lib_->handle) fail(ErrorKind::Config, "dkim: cannot initialise libopendkim");
    auto set = [&](int opt, void* value, std::size_t len, const char* what) {
        if (dkim_options(lib_->handle, DKIM_OP_SETOPT, opt, value, len) != DKIM_STAT_OK) {
            dkim_close(lib_->handle);
            lib_->handle = nullptr;
            fail(ErrorKind::Config, std::string("dkim: cannot set ") + what);
        }
    };
    unsigned int bits = kMinDkimKeyBits;
    set(DKIM_OPTS_MINKEYBITS, &bits, sizeof bits, "minimum key size");
    // Keep every signature's result; never stop at the first good one.
    unsigned int flags = DKIM_LIBFLAGS_NONE;
    set(DKIM_OPTS_FLAGS, &flags, sizeof flags, "flags");
    if (!keys_file.empty()) {
        FILE* probe = std::fopen(keys_file.c_str(), "r");
        if (!probe) {
            dkim_close(lib_->handle);
            lib_->handle = nullptr;
            fail(ErrorKind::Config, "dkim-keys: cannot read " + keys_file);
        }
        std::fclose(probe);
    }
    // Key records come from our cache (DNS TTL, or the key file), not from
    // libopendkim's own query per message.
    lib_->keys = std::make_unique<KeyCache>(keys_file);
    if (dkim_set_key_lookup(lib_->handle, cached_key_lookup) != DKIM_STAT_OK) {
        dkim_close(lib_->handle);
        lib_->handle = nullptr;
        fail(ErrorKind::Config, "dkim: cannot set the key lookup");
    }
}

DkimVerifier::~DkimVerifier() {
    if (lib_ && lib_->handle) dkim_close(lib_->handle);
}

DkimResult DkimVerifier::check(std::string_view message, std::string_view from_domain, DkimAlignment mode) const {
    DkimResult result;
    static std::atomic<unsigned long> job_counter{0};
    std::string job = "collect-" + std::to_string(++job_counter);
    DKIM_STAT status = DKIM_STAT_OK;
    DkimHandle dkim(dkim_verify(lib_->handle, reinterpret_cast<const unsigned char*>(job.c_str()), nullptr, &status));
    if (!dkim) {
        result.reason = std::string("DKIM verifier unavailable: ") + dkim_getresultstr(status);
        return result;
    }
    dkim_set_user_context(dkim.get(), lib_->keys.get());
    // dkim_chunk wants a writable buffer; give it a private copy.
    std::string copy(message);
    status = dkim_chunk(dkim.get(), reinterpret_cast<unsigned char*>(copy.data()), copy.size());
    if (status == DKIM_STAT_OK) status = dkim_chunk(dkim.get(), nullptr, 0);
    if (status == DKIM_STAT_OK) status = dkim_eom(dkim.get(), nullptr);
    if (status == DKIM_STAT_NOSIG) {
        result.reason = "no DKIM signature";
        return result;
    }

    DKIM_SIGINFO** sigs = nullptr;
    int nsigs = 0;
    if (dkim_getsiglist(dkim.get(), &sigs, &nsigs) != DKIM_STAT_OK || nsigs == 0) {
        const char* err = dkim_geterror(dkim.get());
        result.reason = std::string("no usable DKIM signature (") +
                        (err ? printable(err, 120) : std::string(dkim_getresultstr(status))) + ")";
        return result;
    }
    for (int i = 0; i < nsigs; ++i) {
        DKIM_SIGINFO* sig = sigs[i];
        DkimSignature s;
        s.domain = ascii_lower(text_of(dkim_sig_getdomain(sig)));
        s.selector = text_of(dkim_sig_getselector(sig));
        unsigned int flags = dkim_sig_getflags(sig);
        if (!(flags & DKIM_SIGFLAG_PROCESSED)) dkim_sig_process(dkim.get(), sig);
        flags = dkim_sig_getflags(sig);
        int error = dkim_sig_geterror(sig);
        unsigned int bits = 0;
        bool have_bits = dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK;
        ssize_t msglen = -1, canonlen = -1, signlen = -1;
        bool have_len = dkim_sig_getcanonlen(dkim.get(), sig, &msglen, &canonlen, &signlen) == DKIM_STAT_OK;

        if (flags & DKIM_SIGFLAG_IGNORE) {
            s.problem = "ignored by libopendkim";
        } else if (error == DKIM_SIGERROR_KEYTOOSMALL || (have_bits && bits > 0 && bits < kMinDkimKeyBits)) {
            s.problem = "key of " + std::to_string(bits) + " bits is smaller than " +
                        std::to_string(kMinDkimKeyBits);
        } else if (!(flags & DKIM_SIGFLAG_PASSED)) {
            s.problem = error != DKIM_SIGERROR_OK ? dkim_sig_geterrorstr(error) : "signature did not verify";
        } else if (dkim_sig_getbh(sig) != DKIM_SIGBH_MATCH) {
            s.problem = "body hash mismatch (body changed after signing)";
        } else if (have_len && signlen >= 0 && msglen >= 0 && signlen < msglen) {
            s.problem = "l=" + std::to_string(signlen) + " leaves " + std::to_string(msglen - signlen) +
                        " body bytes unsigned";
        } else if (!dkim_sig_hdrsigned(sig, reinterpret_cast<u_char*>(const_cast<char*>("from")))) {
            s.problem = "From header not signed";
        } else {
            s.verified = true;
        }
        if (s.verified) {
            s.aligned = dkim_aligned(s.domain, from_domain, mode);
            if (!s.aligned)
                s.problem = "not aligned with the From domain " + std::string(from_domain) + " (" +
                            to_string(mode) + ")";
        }
        if (s.verified && s.aligned && !result.passed) {
            result.passed = true;
            result.domain = s.domain;
            result.selector = s.selector;
        }
        result.signatures.push_back(std::move(s));
    }
    if (!result.passed) {
        // The most telling reason: a misalignment of a valid signature, else
        // the first signature's failure.
        auto it = std::find_if(result.signatures.begin(), result.signatures.end(),
                               [](const DkimSignature& s) { return s.verified; });
        const DkimSignature& s = it != result.signatures.end() ? *it : result.signatures.front();
        result.reason = std::string(it != result.signatures.end() ? "DKIM not aligned: " : "DKIM failed: ") +
                        "d=" + printable(s.domain, 100) + " s=" + printable(s.selector, 60) + ": " + s.problem;
    }
    return result;
}

}  // namespace sealpost
