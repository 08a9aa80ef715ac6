// revocation_check.cpp: CRL + OCSP under [revocation] (revocation_check.hpp).
#include "revocation_check.hpp"

#include <map>

#include <mutex>

#include "cert_info.hpp"
#include "crl_cache.hpp"
#include "log.hpp"
#include "ocsp_check.hpp"

namespace sealpost {
namespace fs = std::filesystem;
namespace {

struct Answer {
    bool have = false;
    RevocationState state = RevocationState::Unknown;
    bool fresh = false;
    std::string evidence;
};

// Network fetches are serialised: parallel collections of mail from one CA
// then fetch its CRL once, and find it cached after.
std::mutex& fetch_mutex() {
    static std::mutex m;
    return m;
}

// Issuers whose CRL this process fetched for a Fetch::Always run, by the
// run's start time (under fetch_mutex): once per issuer per run.
std::map<std::string, std::time_t>& fetched_for_run() {
    static std::map<std::string, std::time_t> m;
    return m;
}

bool young(std::time_t fetched_at, std::time_t now, const RevocationOptions& o) {
    return fetched_at != 0 && now - fetched_at < o.refresh_interval;
}

Answer from_crl(const CrlInfo& info, X509* cert, std::time_t now) {
    Answer a;
    if (!info.crl) {
        a.evidence = "crl: " + info.problem;
        return a;
    }
    a.have = true;
    std::string entry = crl_revocation_entry(info.crl.get(), cert);
    std::string when = " (thisUpdate " + format_time(info.this_update) + ", nextUpdate " +
                       (info.next_update ? format_time(info.next_update) : std::string("none")) + ")";
    if (!entry.empty()) {
        a.state = RevocationState::Revoked;
        a.evidence = "crl " + info.source + ": " + entry + when;
        return a;
    }
    a.state = RevocationState::Good;
    a.fresh = info.fresh(now);
    a.evidence = "crl " + info.source + ": not revoked" + when + (a.fresh ? "" : " EXPIRED CRL");
    return a;
}

Answer from_ocsp(const OcspInfo& info) {
    Answer a;
    if (!info.have) {
        a.evidence = "ocsp: " + info.problem;
        return a;
    }
    std::string when = " (thisUpdate " + format_time(info.this_update) + ", nextUpdate " +
                       (info.next_update ? format_time(info.next_update) : std::string("none")) + ")";
    switch (info.status) {
        case OcspStatus::Revoked:
            a.have = true;
            a.state = RevocationState::Revoked;
            a.evidence = "ocsp " + info.source + ": " + info.detail + when;
            return a;
        case OcspStatus::Good:
            a.have = true;
            a.state = RevocationState::Good;
            a.fresh = info.fresh(std::time(nullptr));
            a.evidence = "ocsp " + info.source + ": good" + when;
            return a;
        case OcspStatus::Unknown:
            a.evidence = "ocsp " + info.source + ": responder does not know the certificate" + when;
            return a;
    }
    return a;
}

Answer crl_answer(const fs::path& dir, X509* cert, X509* issuer, const RevocationOptions& o, Fetch fetch,
                  std::time_t now) {
    if (crl_urls(cert).empty()) return Answer{false, RevocationState::Unknown, false, "crl: no distribution point"};
    CrlInfo cached = load_cached_crl(dir, issuer);
    if (fetch == Fetch::CacheOnly) return from_crl(cached, cert, now);
    if (fetch == Fetch::IfStale && cached.fresh(now) && young(cached.fetched_at, now, o))
        return from_crl(cached, cert, now);
    // Always (certs refresh): once per issuer per run; `now` is the run's
    // start. Remembered in memory, not judged by the cache's time: a CRL
    // fetched in the second the run started may predate a revocation.
    std::lock_guard lock(fetch_mutex());
    const std::string issuer_id = sha256_fingerprint(issuer);
    if (fetch == Fetch::Always && cached.crl) {
        auto it = fetched_for_run().find(issuer_id);
        if (it != fetched_for_run().end() && it->second == now) return from_crl(cached, cert, now);
    }
    if (fetch == Fetch::IfStale) {  // another thread may have fetched it meanwhile
        CrlInfo again = load_cached_crl(dir, issuer);
        if (again.fresh(now) && young(again.fetched_at, now, o)) return from_crl(again, cert, now);
    }
    CrlInfo fetched = fetch_crl(dir, cert, issuer, o);
    if (fetched.crl && fetch == Fetch::Always) fetched_for_run()[issuer_id] = now;
    if (fetched.crl) return from_crl(fetched, cert, now);
    Answer a = from_crl(cached, cert, now);  // the stale cache, if any
    a.evidence = "crl fetch failed: " + fetched.problem + (cached.crl ? "; using " + a.evidence : "");
    return a;
}

Answer ocsp_answer(const fs::path& dir, X509* cert, X509* issuer, const RevocationOptions& o, Fetch fetch,
                   std::time_t now) {
    if (ocsp_urls(cert).empty()) return Answer{false, RevocationState::Unknown, false, "ocsp: no responder"};
    OcspInfo cached = load_cached_ocsp(dir, cert, issuer);
    if (fetch == Fetch::CacheOnly) return from_ocsp(cached);
    if (fetch == Fetch::IfStale && cached.fresh(now) && young(cached.fetched_at, now, o)) return from_ocsp(cached);
    std::lock_guard lock(fetch_mutex());
    OcspInfo fetched = fetch_ocsp(dir, cert, issuer, o);
    if (fetched.have) return from_ocsp(fetched);
    Answer a = from_ocsp(cached);
    a.evidence = "ocsp request failed: " + fetched.problem + (cached.have ? "; using " + a.evidence : "");
    return a;
}

// One certificate against its issuer, sources in the configured order.
Answer check_one(const fs::path& dir, X509* cert, X509* issuer, const RevocationOptions& o, Fetch fetch,
                 std::time_t now) {
    std::vector<Answer> tried;
    auto done = [](const Answer& a) { return a.have && (a.state == RevocationState::Revoked || a.fresh); };
    if (o.ocsp == OcspMode::Prefer) {
        tried.push_back(ocsp_answer(dir, cert, issuer, o, fetch, now));
        if (done(tried.back())) return tried.back();
        tried.push_back(crl_answer(dir, cert, issuer, o, fetch, now));
        if (done(tried.back())) return tried.back();
    } else {
        tried.push_back(crl_answer(dir, cert, issuer, o, fetch, now));
        if (done(tried.back())) return tried.back();
        if (o.ocsp == OcspMode::Fallback) {
            tried.push_back(ocsp_answer(dir, cert, issuer, o, fetch, now));
            if (done(tried.back())) return tried.back();
        }
    }
    // No fresh answer: a stale "good" is still an answer, but not fresh.
    Answer out;
    for (const auto& a : tried) {
        if (a.have && !out.have) {
            out.have = true;
            out.state = a.state;
        }
        out.evidence += (out.evidence.empty() ? "" : "; ") + a.evidence;
    }
    if (!out.have) out.state = RevocationState::Unknown;
    return out;
}

}  // namespace

const char* to_string(RevocationState s) {
    switch (s) {
        case RevocationState::Good: return "good";
        case RevocationState::Revoked: return "revoked";
        case RevocationState::Unknown: return "unknown";
    }
    return "?";
}

RevocationStatus check_chain_revocation(const fs::path& store_dir, const std::vector<X509Ptr>& chain,
                                        const RevocationOptions& options, Fetch fetch, std::time_t now) {
    RevocationStatus status;
    if (chain.size() < 2) {
        status.evidence = "no issuer certificate kept with the certificate: cannot verify revocation information";
        return status;
    }
    bool all_fresh = true;
    for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
        X509* cert = chain[i].get();
        Answer a = check_one(store_dir, cert, chain[i + 1].get(), options, fetch, now);
        const std::string who = i == 0 ? "" : "issuer " + subject_line(cert) + ": ";
        status.evidence += (status.evidence.empty() ? "" : " | ") + who + a.evidence;
        if (a.state == RevocationState::Revoked) {
            status.state = RevocationState::Revoked;
            status.fresh = false;
            status.evidence = who + a.evidence;
            return status;
        }
        all_fresh = all_fresh && a.have && a.fresh;
    }
    status.state = all_fresh ? RevocationState::Good : RevocationState::Unknown;
    status.fresh = all_fresh;
    return status;
}

bool chain_names_revocation_sources(const std::vector<X509Ptr>& chain) {
    for (std::size_t i = 0; i + 1 < chain.size(); ++i)
        if (!crl_urls(chain[i].get()).empty() || !ocsp_urls(chain[i].get()).empty()) return true;
    return false;
}

std::optional<std::string> revocation_refusal(const RevocationStatus& status, RevocationMode mode) {
    if (mode == RevocationMode::Off) return std::nullopt;
    if (status.state == RevocationState::Revoked) return "certificate revoked: " + status.evidence;
    if (mode == RevocationMode::Hard && !status.fresh)
        return "no fresh revocation information (revocation mode hard): " + status.evidence;
    return std::nullopt;
}

}  // namespace sealpost
