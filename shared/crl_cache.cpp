// crl_cache.cpp: CRL fetch, verification and cache (crl_cache.hpp).
#include "crl_cache.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <mutex>
#include <system_error>

#include "atomic_file.hpp"
#include "cert_info.hpp"
#include "http_fetch.hpp"
#include "log.hpp"

namespace sealpost {
namespace fs = std::filesystem;
namespace {

void crl_free(X509_CRL* c) { X509_CRL_free(c); }

std::time_t asn1_to_time(const ASN1_TIME* t) {
    if (!t) return 0;
    struct tm tm {};
    if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
    return timegm(&tm);
}

fs::path cache_path(const fs::path& store_dir, X509* issuer) {
    return store_dir / ".crl" / (sha256_fingerprint(issuer) + ".crl");
}

std::string to_der(X509_CRL* crl) {
    unsigned char* out = nullptr;
    int len = i2d_X509_CRL(crl, &out);
    if (len <= 0) return {};
    std::string der(reinterpret_cast<char*>(out), static_cast<std::size_t>(len));
    OPENSSL_free(out);
    return der;
}

struct Memo {
    std::uintmax_t size;
    fs::file_time_type mtime;
    std::string issuer_fp;
    CrlInfo info;
};

}  // namespace

std::vector<std::string> crl_urls(X509* cert) {
    std::vector<std::string> out;
    auto* points = static_cast<STACK_OF(DIST_POINT)*>(X509_get_ext_d2i(cert, NID_crl_distribution_points, nullptr, nullptr));
    for (int i = 0; points && i < sk_DIST_POINT_num(points); ++i) {
        DIST_POINT* dp = sk_DIST_POINT_value(points, i);
        if (!dp->distpoint || dp->distpoint->type != 0) continue;  // fullName only
        GENERAL_NAMES* names = dp->distpoint->name.fullname;
        for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
            GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, j);
            if (gn->type != GEN_URI) continue;
            std::string uri(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier)),
                            static_cast<std::size_t>(ASN1_STRING_length(gn->d.uniformResourceIdentifier)));
            if (uri.rfind("http://", 0) == 0 || uri.rfind("https://", 0) == 0) out.push_back(uri);
        }
    }
    sk_DIST_POINT_pop_free(points, DIST_POINT_free);
    return out;
}

CrlInfo verify_crl(std::string_view bytes, X509* issuer) {
    CrlInfo info;
    BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    X509_CRL* raw = bio ? d2i_X509_CRL_bio(bio.get(), nullptr) : nullptr;
    if (!raw) {
        bio.reset(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
        raw = bio ? PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    }
    ERR_clear_error();
    if (!raw) {
        info.problem = "not a CRL";
        return info;
    }
    std::shared_ptr<X509_CRL> crl(raw, crl_free);
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(issuer)) != 0) {
        info.problem = "CRL issued by " + name_line(X509_CRL_get_issuer(crl.get())) + ", not by " + subject_line(issuer);
        return info;
    }
    EVP_PKEY* key = X509_get0_pubkey(issuer);
    int ok = key ? X509_CRL_verify(crl.get(), key) : 0;
    ERR_clear_error();
    if (ok != 1) {
        info.problem = "CRL signature does not verify with the key of " + subject_line(issuer) +
                       " (signed by the wrong key): ignored";
        return info;
    }
    info.this_update = asn1_to_time(X509_CRL_get0_lastUpdate(crl.get()));
    info.next_update = asn1_to_time(X509_CRL_get0_nextUpdate(crl.get()));
    info.crl = std::move(crl);
    return info;
}

CrlInfo load_cached_crl(const fs::path& store_dir, X509* issuer) {
    static std::mutex mutex;
    static std::map<std::string, Memo> memo;
    const fs::path path = cache_path(store_dir, issuer);
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    const auto mtime = ec ? fs::file_time_type{} : fs::last_write_time(path, ec);
    if (ec) {
        CrlInfo none;
        none.problem = "no CRL cached";
        return none;
    }
    const std::string fp = sha256_fingerprint(issuer);
    {
        std::lock_guard lock(mutex);
        auto it = memo.find(path.string());
        if (it != memo.end() && it->second.size == size && it->second.mtime == mtime && it->second.issuer_fp == fp)
            return it->second.info;
    }
    std::string bytes;
    try {
        auto content = read_file(path, 1024u * 1024 * 1024);
        if (!content) throw std::runtime_error("vanished");
        bytes = std::move(*content);
    } catch (const std::exception& e) {
        CrlInfo none;
        none.problem = std::string("cannot read the cached CRL: ") + e.what();
        return none;
    }
    CrlInfo info = verify_crl(bytes, issuer);
    info.source = path.string();
    info.fetched_at = std::chrono::system_clock::to_time_t(std::chrono::file_clock::to_sys(mtime));
    if (!info.crl) info.problem = "cached CRL " + path.string() + ": " + info.problem;
    std::lock_guard lock(mutex);
    if (memo.size() > 10000) memo.clear();
    memo[path.string()] = Memo{size, mtime, fp, info};
    return info;
}

CrlInfo fetch_crl(const fs::path& store_dir, X509* cert, X509* issuer, const RevocationOptions& options) {
    CrlInfo result;
    const auto urls = crl_urls(cert);
    if (urls.empty()) {
        result.problem = "no http CRL distribution point";
        return result;
    }
    std::string problems;
    for (const auto& url : urls) {
        FetchResult got = http_fetch({url, std::nullopt, "", options.timeout, options.max_bytes});
        if (!got.ok) {
            problems += (problems.empty() ? "" : "; ") + got.error;
            log()->warn("revocation: CRL fetch failed: {}", got.error);
            continue;
        }
        CrlInfo info = verify_crl(got.body, issuer);
        if (!info.crl) {
            problems += (problems.empty() ? "" : "; ") + url + ": " + info.problem;
            log()->warn("revocation: CRL from {}: {}", url, info.problem);
            continue;
        }
        info.source = url;
        info.fetched_at = std::time(nullptr);
        const fs::path path = cache_path(store_dir, issuer);
        fs::create_directories(path.parent_path());
        write_file_atomic(path.parent_path(), path.filename().string(), to_der(info.crl.get()), true, 0644);
        bump_trust_generation();  // new revocation information: cached verification results are redone
        log()->info("revocation: CRL of {} fetched from {} (thisUpdate {}, nextUpdate {}), cached as {}",
                    subject_line(issuer), url, format_time(info.this_update),
                    info.next_update ? format_time(info.next_update) : "none", path.string());
        return info;
    }
    result.problem = problems;
    return result;
}

std::string crl_revocation_entry(X509_CRL* crl, X509* cert) {
    X509_REVOKED* entry = nullptr;
    if (X509_CRL_get0_by_cert(crl, &entry, cert) != 1 || !entry) return {};
    std::string text = "revoked " + format_time(asn1_to_time(X509_REVOKED_get0_revocationDate(entry)));
    int crit = 0;
    auto* reason = static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, &crit, nullptr));
    if (reason) {
        long code = ASN1_ENUMERATED_get(reason);
        static const char* const names[] = {"unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
                                            "superseded", "cessationOfOperation", "certificateHold", "?",
                                            "removeFromCRL", "privilegeWithdrawn", "aACompromise"};
        if (code >= 0 && code <= 10) text += std::string(" (") + names[code] + ")";
        ASN1_ENUMERATED_free(reason);
    }
    return text;
}

}  // namespace sealpost
